/*
 * nw_learn: the liblinear layer that training (nw_train) and evaluation
 * (nw_evaluate) share: the corpus as liblinear's vectors in three feature sets,
 * one topic's documents, one fit, its margins, and the k-fold cross-validation
 * that chooses a topic's feature set, idf or plain training, C and threshold.
 *
 * The classifier is liblinear's L2-regularised L2-loss support vector machine.
 * The decision rule a threshold is chosen for is the tagger's: a document has
 * the topic when the taxonomy's hard rules allow it (no veto, a require: term
 * when the topic has any) and the margin reaches the threshold.
 */
#ifndef NW_LEARN_H
#define NW_LEARN_H

#include "nw_corpus.h"
#include "nw_features.h"
#include "nw_train.h"

#include <linear.h>
#include <stdbool.h>
#include <stddef.h>

/* Feature ids are below this; the bias feature is the next one. */
#define NW_LEARN_FEATURES ((size_t)NW_FEATURES_MASK + 1)

/* The feature sets cross-validation chooses from, per topic. */
enum {
    NW_LEARN_WORDS,     /* words only */
    NW_LEARN_TAXONOMY,  /* words and every taxonomy feature: T:TOPIC:TERM, T:any, S:TOPIC */
    NW_LEARN_TERMS_ANY, /* words, T:any and S:TOPIC: whether terms hit, not which */
    NW_LEARN_VARIANTS
};

/* Every document as liblinear's vectors, per feature set. */
typedef struct {
    struct feature_node **x[NW_LEARN_VARIANTS]; /* per variant, per doc */
    struct feature_node *pool[NW_LEARN_VARIANTS];
} nw_learn_nodes_t;

/* What a fit or a selection reads: the corpus, the options and the vectors (borrowed). */
typedef struct {
    const nw_corpus_t *c;
    const nw_train_opts_t *o;
    const nw_learn_nodes_t *nodes;
} nw_learn_ctx_t;

/* One topic's training documents. */
typedef struct {
    size_t *doc;
    double *y;     /* +1 / -1 */
    bool *allowed; /* the hard rules allow the topic (always true without rules) */
    bool *scored;  /* a labelled document (extra negatives are not) */
    size_t n;
} nw_learn_set_t;

/* What cross-validation chooses for a topic, and the F1 it measured. */
typedef struct {
    int variant; /* NW_LEARN_WORDS, NW_LEARN_TAXONOMY, NW_LEARN_TERMS_ANY */
    bool idf;
    double C, threshold, f1;
} nw_learn_choice_t;

/* A fitted classifier (free its model with liblinear's free_and_destroy_model). */
typedef struct {
    struct model *model;
    double sign; /* +1 when liblinear's first label is the positive class */
} nw_learn_fit_t;

/* Silences liblinear's progress output (process-wide). */
void nw_learn_quiet(void);

/* The name of a feature set ("words only", "words+taxonomy", "words+T:any"). */
const char *nw_learn_variant_name(int variant);

/* Builds every document's vectors in the three feature sets (the bias feature last).
 * Returns NW_OK or NW_ERR_NOMEM (free what was built with nw_learn_nodes_free). */
int nw_learn_nodes_build(const nw_corpus_t *c, nw_learn_nodes_t *nodes);

/* Frees the vectors; safe on a zeroed nodes. */
void nw_learn_nodes_free(nw_learn_nodes_t *nodes);

/* The taxonomy topic of corpus topic t. */
size_t nw_learn_tax_topic(const nw_corpus_t *c, size_t t);

/* The documents of topic t into *s: the labelled ones (filter < 0: all; else those whose
 * position among them modulo k is (keep ? == : !=) filter), then, with extras, the extra
 * negatives (nw_corpus_topic_t.extra_negatives: documents of other label files that the
 * taxonomy scores under half the topic's threshold; never scored). Returns NW_OK or
 * NW_ERR_NOMEM; free with nw_learn_set_free either way. */
int nw_learn_set(const nw_learn_ctx_t *ctx, size_t t, long filter, size_t k, bool keep, bool extras,
                 nw_learn_set_t *s);

/* Frees a set and zeroes it. */
void nw_learn_set_free(nw_learn_set_t *s);

/* Fits the choice's classifier on the documents of s selected by mask (NULL: all).
 * Returns NW_OK, NW_ERR_NOMEM, or NW_ERR_INVAL (liblinear refused the problem, or one class
 * is missing). */
int nw_learn_fit(const nw_learn_ctx_t *ctx, const nw_learn_set_t *s, const bool *mask,
                 const nw_learn_choice_t *ch, nw_learn_fit_t *fit);

/* The margin of document doc in feature set v under fit (positive: the topic). */
double nw_learn_margin(const nw_learn_ctx_t *ctx, const nw_learn_fit_t *fit, int v, size_t doc);

/* Chooses the feature set (words only, or with the taxonomy's in two forms when the options
 * allow), plain or idf-scaled training (when the options allow), C and the threshold by
 * k-fold cross-validation over s (ctx->o->folds): the choice with the best F1 goes to
 * *best. Returns NW_OK or an error of nw_learn_fit. */
int nw_learn_select(const nw_learn_ctx_t *ctx, const nw_learn_set_t *s, nw_learn_choice_t *best);

#endif
