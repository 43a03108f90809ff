/*
 * nw_evidence: what the taxonomy's terms say about an article, segment by
 * segment: per topic the article score (position factors, the k-th repeat of
 * a term counting 1/k, length scaling), its distinct positive terms, vetoes
 * and require: terms; per segment the net weight, hits and vetoes of each
 * topic. One Aho-Corasick pass per segment.
 *
 * Pure, and shared by the tagger and newswire-train, so the taxonomy features
 * a model was trained with are exactly those it is applied with.
 */
#ifndef NW_EVIDENCE_H
#define NW_EVIDENCE_H

#include "nw_taxonomy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One piece of an article: the headline, a paragraph, a key point. */
typedef struct {
    const char *text;
    size_t len;
    nw_position_t pos;
} nw_segment_t;

/* An article's evidence for one topic. */
typedef struct {
    double score;      /* weighted, length-scaled sum of term hits */
    uint32_t distinct; /* distinct positive terms seen */
    bool vetoed;       /* a veto term of the topic occurs in the article */
    bool required;     /* one of its require: terms occurs (or it has none) */
} nw_topic_evidence_t;

/* One segment's evidence for one topic. */
typedef struct {
    double net;    /* sum of the weights of its term hits (negative terms included) */
    uint32_t hits; /* hits of positive terms */
    bool vetoed;   /* a veto term of the topic occurs in it */
} nw_segment_evidence_t;

/* Called for each signal-term hit, with the term and the segment it is in. */
typedef void(nw_evidence_hit_fn)(uint32_t term, size_t segment, void *ctx);

/* Scores n segments (the headline first) against the taxonomy. topics receives one entry
 * per taxonomy topic; segs (NULL to skip) n * topic-count entries, [segment * topics +
 * topic]; *urgent (NULL to skip) whether the headline holds an urgent: term. hit (NULL to
 * skip) sees every signal-term hit. Returns NW_OK or NW_ERR_NOMEM. */
int nw_evidence_score(const nw_taxonomy_t *tax, const nw_segment_t *seg, size_t n,
                      nw_topic_evidence_t *topics, nw_segment_evidence_t *segs, bool *urgent,
                      nw_evidence_hit_fn *hit, void *ctx);

/* Returns whether the taxonomy alone gives the article topic t: score at the threshold,
 * min-terms distinct terms, a require: term when it has any, no veto. */
bool nw_evidence_taxonomy_has(const nw_taxonomy_t *tax, size_t t, const nw_topic_evidence_t *ev);

/* Returns whether the hard rules allow topic t whatever the score: no veto, and a
 * require: term when the topic has any. */
bool nw_evidence_allowed(const nw_topic_evidence_t *ev);

/* The taxonomy's exclusive groups: of n topics (taxonomy topic tax_topic[i] for entry i,
 * or i itself when tax_topic is NULL) that an article has (has[i]), it keeps in each
 * "exclusive:" group the one with the greatest strength[i] (the first on a tie) and clears
 * has[] of the others; excluded_by[i] (NULL: not wanted) gets the entry it gave way to, or
 * -1. */
void nw_evidence_exclusive(const nw_taxonomy_t *tax, size_t n, const size_t *tax_topic, bool *has,
                           const double *strength, int *excluded_by);

#endif
