/*
 * nw_model: a learned topic model, one linear classifier per topic over the
 * features of nw_docvec, as written by newswire-train.
 *
 * A topic's margin for a vector x is  bias + sum of weight(feature) * x(feature);
 * the model says yes when the margin reaches the topic's threshold. The file
 * (format in docs/TAXONOMY.md, "The model file") is text:
 *
 *     newswire-model 1
 *     # comments
 *     taxonomy-features: 1
 *     topic trade -0.1250 -0.8312 1 0.8512 369 8762
 *     ...                       (name threshold bias C cv-F1 positives documents)
 *     weights 51234
 *     1234<TAB>0:0.4123 3:-0.12<TAB>import duties
 *     ...                       (feature id, topic-index:weight pairs, feature name)
 *
 * The built-in default (publisher/tag/model.txt) is compiled into the binary.
 */
#ifndef NW_MODEL_H
#define NW_MODEL_H

#include "nw_features.h"
#include "nw_taxonomy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NW_MODEL_VERSION 1

typedef struct nw_model_t nw_model_t;

/* Parses a model from text (origin names it in messages). Returns NW_OK with *out set,
 * NW_ERR_CONFIG with "ORIGIN:LINE: reason" in err, or NW_ERR_NOMEM. */
int nw_model_parse(const char *text, size_t len, const char *origin, nw_model_t **out, char *err,
                   size_t errlen);

/* Loads a model file. Returns as nw_model_parse, or NW_ERR_NOTFOUND / NW_ERR_IO /
 * NW_ERR_PERM / NW_ERR_TOOBIG (over 64 MB) with the path in err. */
int nw_model_load(const char *path, nw_model_t **out, char *err, size_t errlen);

/* Builds the built-in default model. Returns NW_OK or NW_ERR_NOMEM. */
int nw_model_default(nw_model_t **out);

/* Says which model topics tax lacks: they are not used with it (the tagger decides the
 * taxonomy's topics; a model topic needs a taxonomy topic of its name). Writes their
 * names, comma-separated, into missing ("" when none). Returns how many. */
size_t nw_model_unmatched(const nw_model_t *m, const nw_taxonomy_t *tax, char *missing, size_t len);

/* Returns how many topics the model has; topic i's name, threshold and bias. */
size_t nw_model_topic_count(const nw_model_t *m);
const char *nw_model_topic_name(const nw_model_t *m, size_t i);
double nw_model_topic_threshold(const nw_model_t *m, size_t i);
double nw_model_topic_bias(const nw_model_t *m, size_t i);

/* Returns the index of the model topic called name, or -1. */
int nw_model_topic_find(const nw_model_t *m, const char *name);

/* Remembers which model topic each topic of tax is, so that tagging with this pair need
 * not compare names per article. Call it again after pairing the model with another
 * taxonomy. Returns NW_OK or NW_ERR_NOMEM (the model then looks names up). */
int nw_model_bind(nw_model_t *m, const nw_taxonomy_t *tax);

/* Returns the model topic of topic t of tax, or -1 when the model has none: from the
 * binding when tax is the bound taxonomy, else by name. */
int nw_model_topic_of(const nw_model_t *m, const nw_taxonomy_t *tax, size_t t);

/* Returns whether the model reads the taxonomy features (T: and S:) of nw_docvec. */
bool nw_model_taxonomy_features(const nw_model_t *m);

/* Returns how many features have a weight; the row of feature id (-1 when it has no
 * weight); row r's weights (one per topic), id and name. */
size_t nw_model_row_count(const nw_model_t *m);
long nw_model_row_of(const nw_model_t *m, uint32_t id);
const float *nw_model_row_weights(const nw_model_t *m, size_t r);
uint32_t nw_model_row_id(const nw_model_t *m, size_t r);
const char *nw_model_row_name(const nw_model_t *m, size_t r);

/* Sets margin[t] = bias(t) + sum of value x weight(id, t) over the n features f, for
 * every model topic t (margin has nw_model_topic_count entries). The lookups of a story
 * are issued ahead of their use, so their cache misses overlap. */
void nw_model_margins(const nw_model_t *m, const nw_feat_t *f, size_t n, double *margin);

/* ---- building and writing (newswire-train) ---- */

/* Makes an empty model of n_topics topics in *out. Returns NW_OK or NW_ERR_NOMEM. */
int nw_model_new(size_t n_topics, bool taxonomy_features, nw_model_t **out);

/* Sets topic i. C, cv_f1, positives and docs are recorded for people only. Returns NW_OK,
 * NW_ERR_INVAL (bad name or index) or NW_ERR_NOMEM. */
int nw_model_set_topic(nw_model_t *m, size_t i, const char *name, double threshold, double bias,
                       double C, double cv_f1, size_t positives, size_t docs);

/* Adds feature id with its name and one weight per topic (copied). Ids must be new.
 * Returns NW_OK, NW_ERR_INVAL (id already there) or NW_ERR_NOMEM. */
int nw_model_add_row(nw_model_t *m, uint32_t id, const char *name, const float *weights);

/* Writes the model in the file format, rows by id, weights rounded to 5 significant
 * digits (the same model always gives the same bytes). comment lines (NULL: none) go after
 * the version line, each prefixed "# ". Returns NW_OK or NW_ERR_IO. */
int nw_model_write(const nw_model_t *m, FILE *f, const char *comment);

/* Frees the model and sets *m_p to NULL. Safe on NULL and twice. */
void nw_model_destroy(nw_model_t **m_p);

#endif
