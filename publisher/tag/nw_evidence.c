#include "nw_evidence.h"

#include "nw_error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The state of one scoring pass. */
typedef struct {
    const nw_taxonomy_t *tax;
    nw_topic_evidence_t *topics;
    nw_segment_evidence_t *cur; /* the row of the segment being scanned, or NULL */
    uint32_t *seen;             /* per term: occurrences so far in the article */
    bool *required;             /* per topic: a require: term was seen */
    double factor;              /* position weight of the segment being scanned */
    bool in_title;
    bool urgent;
    size_t segment;
    nw_evidence_hit_fn *hit;
    void *ctx;
} s_pass_t;

/* One term occurrence. A term repeated in the article counts less each time (the k-th
 * occurrence weighs 1/k), so one word said often is not mistaken for a subject. */
static void s_hit(uint32_t term_index, void *ctx)
{
    s_pass_t *a = ctx;
    const nw_term_t *term = nw_taxonomy_term(a->tax, term_index);
    switch (term->kind) {
    case NW_TERM_URGENT: a->urgent |= a->in_title; return;
    case NW_TERM_VETO:
        a->topics[term->topic].vetoed = true;
        if (a->cur)
            a->cur[term->topic].vetoed = true;
        return;
    case NW_TERM_REQUIRE: a->required[term->topic] = true; return;
    case NW_TERM_SIGNAL: break;
    }
    uint32_t k = ++a->seen[term_index];
    if (k == 1 && term->weight > 0)
        a->topics[term->topic].distinct++;
    a->topics[term->topic].score += term->weight * a->factor / k;
    if (a->cur) {
        a->cur[term->topic].net += term->weight;
        if (term->weight > 0)
            a->cur[term->topic].hits++;
    }
    if (a->hit)
        a->hit(term_index, a->segment, a->ctx);
}

int nw_evidence_score(const nw_taxonomy_t *tax, const nw_segment_t *seg, size_t n,
                      nw_topic_evidence_t *topics, nw_segment_evidence_t *segs, bool *urgent,
                      nw_evidence_hit_fn *hit, void *ctx)
{
    size_t nt = nw_taxonomy_topic_count(tax);
    s_pass_t a = {.tax = tax, .topics = topics, .hit = hit, .ctx = ctx};
    size_t nterms = nw_taxonomy_term_count(tax) + 1;
    a.seen = calloc(nterms * sizeof(uint32_t) + nt + 1, 1); /* seen, then required */
    if (!a.seen)
        return NW_ERR_NOMEM;
    a.required = (bool *)(a.seen + nterms);
    memset(topics, 0, nt * sizeof(*topics));
    if (segs)
        memset(segs, 0, n * nt * sizeof(*segs));
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        a.cur = segs ? &segs[i * nt] : NULL;
        a.factor = nw_taxonomy_position_weight(tax, seg[i].pos);
        a.in_title = seg[i].pos == NW_POS_TITLE;
        a.segment = i;
        nw_taxonomy_scan(tax, seg[i].text, seg[i].len, s_hit, &a);
        bytes += seg[i].len;
    }
    /* Long stories mention many things in passing: scale their scores down by the square
     * root of their length in length units. */
    double unit = nw_taxonomy_length_unit(tax);
    double f = unit > 0 && (double)bytes > unit ? 1.0 / sqrt((double)bytes / unit) : 1.0;
    for (size_t t = 0; t < nt; t++) {
        topics[t].score *= f;
        topics[t].required = a.required[t] || nw_taxonomy_topic_requires(tax, t) == 0;
    }
    if (urgent)
        *urgent = a.urgent;
    free(a.seen);
    return NW_OK;
}

bool nw_evidence_allowed(const nw_topic_evidence_t *ev)
{
    return !ev->vetoed && ev->required;
}

bool nw_evidence_taxonomy_has(const nw_taxonomy_t *tax, size_t t, const nw_topic_evidence_t *ev)
{
    return nw_evidence_allowed(ev) && ev->score >= nw_taxonomy_topic_threshold(tax, t) &&
           ev->distinct >= nw_taxonomy_topic_min_terms(tax, t);
}

void nw_evidence_exclusive(const nw_taxonomy_t *tax, size_t n, const size_t *tax_topic, bool *has,
                           const double *strength, int *excluded_by)
{
    /* The strongest of a group is never excluded, so one pass in place is enough. */
    for (size_t t = 0; t < n; t++) {
        if (excluded_by != NULL)
            excluded_by[t] = -1;
        const char *group = nw_taxonomy_topic_group(tax, tax_topic ? tax_topic[t] : t);
        for (size_t u = 0; has[t] && *group && u < n; u++) {
            if (u != t && has[u] &&
                (strength[u] > strength[t] || (strength[u] == strength[t] && u < t)) &&
                strcmp(nw_taxonomy_topic_group(tax, tax_topic ? tax_topic[u] : u), group) == 0) {
                has[t] = false;
                if (excluded_by != NULL)
                    excluded_by[t] = (int)u;
            }
        }
    }
}
