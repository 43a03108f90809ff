/*
 * nw_docvec: an article as the sparse feature vector a topic model reads.
 *
 * The features (ids from nw_features):
 *   - every word (unigram) and pair of consecutive words (bigram) of every
 *     segment, and every word of the headline again as a "title:" feature:
 *     value 1 + ln(count), the block then scaled to unit length (L2);
 *   - every taxonomy signal term that occurs ("T:TOPIC:TERM"): value
 *     1 + ln(count), the block scaled to length 0.5;
 *   - per taxonomy topic, the taxonomy's score over its threshold ("S:TOPIC"),
 *     clipped to [0, 2], times 0.25 (absent when the score is 0 or less).
 * The vector is sorted by id; an id reached twice (a collision) sums its values.
 * Training (newswire-train) and tagging build it with this one function.
 */
#ifndef NW_DOCVEC_H
#define NW_DOCVEC_H

#include "nw_evidence.h"
#include "nw_features.h"
#include "nw_taxonomy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NW_DOCVEC_TF_TABLE 32 /* counts with a precomputed 1 + ln(count) */

typedef struct {
    nw_feat_t *feat; /* sorted by id, distinct */
    size_t n;
    size_t cap;                  /* entries of feat, scratch, ids and tmp */
    nw_topic_evidence_t *topics; /* the taxonomy evidence, one per taxonomy topic */
    size_t n_topics;
    nw_feat_t *scratch;            /* merging space */
    uint32_t *ids;                 /* the feature occurrences of a build, before counting */
    uint32_t *tmp;                 /* sorting space for ids */
    double tf[NW_DOCVEC_TF_TABLE]; /* 1 + ln(count), filled by the first build */
} nw_docvec_t;

/* Called for every feature occurrence with its name, when names are asked. */
typedef void(nw_docvec_name_fn)(uint32_t id, const char *name, size_t len, void *ctx);

/* Builds the vector of n segments into v (a zeroed or earlier-built nw_docvec_t, whose
 * memory is reused). taxonomy_features false leaves out the T: and S: features (a
 * words-only model). name (NULL: none) is called for every feature occurrence with its
 * name (slower). Returns NW_OK or NW_ERR_NOMEM. */
int nw_docvec_build(nw_docvec_t *v, const nw_taxonomy_t *tax, const nw_segment_t *seg, size_t n,
                    bool taxonomy_features, nw_docvec_name_fn *name, void *ctx);

/* As nw_docvec_build, and also fills segs and *urgent as nw_evidence_score does (either
 * may be NULL). */
int nw_docvec_build_ex(nw_docvec_t *v, const nw_taxonomy_t *tax, const nw_segment_t *seg, size_t n,
                       bool taxonomy_features, nw_docvec_name_fn *name, void *ctx,
                       nw_segment_evidence_t *segs, bool *urgent);

/* Returns the name of taxonomy feature kind 'T' (term index) or 'S' (topic index) into
 * buf: "T:tariffs:import duty~", "S:tariffs". */
const char *nw_docvec_tax_name(const nw_taxonomy_t *tax, char kind, size_t index, char *buf,
                               size_t buflen);

/* Frees what v holds and zeroes it. Safe on a zeroed vector and twice. */
void nw_docvec_free(nw_docvec_t *v);

#endif
