#include "nw_tagger.h"

#include "nw_error.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* What one alert's text says about one topic. */
typedef struct {
    double net;    /* sum of the weights of its term hits (negative terms included) */
    uint32_t hits; /* hits of positive terms */
    bool vetoed;   /* a veto term of the topic occurs in it */
} s_evidence_t;

/* The state of tagging one article. */
typedef struct {
    const nw_taxonomy_t *tax;
    size_t n_topics;
    double *score;     /* per topic: the article's score */
    bool *vetoed;      /* per topic: a veto term occurs somewhere in the article */
    bool *required;    /* per topic: one of its "require:" terms occurs in the article */
    size_t *distinct;  /* per topic: distinct positive terms seen in the article */
    uint32_t *seen;    /* per term: occurrences so far in the article */
    s_evidence_t *ev;  /* [alert * n_topics + topic] */
    s_evidence_t *cur; /* the row of the alert being scanned */
    double factor;     /* position weight of the alert being scanned */
    bool in_title;     /* the alert being scanned is the headline */
    bool urgent;       /* the title holds an urgent signal */
} s_article_t;

/* One term occurrence. A term repeated in the article counts less each time (the k-th
 * occurrence weighs 1/k), so one word said often is not mistaken for a subject. */
static void s_hit(uint32_t term_index, void *ctx)
{
    s_article_t *a = ctx;
    const nw_term_t *term = nw_taxonomy_term(a->tax, term_index);
    switch (term->kind) {
    case NW_TERM_URGENT: a->urgent |= a->in_title; return;
    case NW_TERM_VETO:
        a->vetoed[term->topic] = true;
        a->cur[term->topic].vetoed = true;
        return;
    case NW_TERM_REQUIRE: a->required[term->topic] = true; return;
    case NW_TERM_SIGNAL: break;
    }
    uint32_t k = ++a->seen[term_index];
    if (k == 1 && term->weight > 0)
        a->distinct[term->topic]++;
    a->score[term->topic] += term->weight * a->factor / k;
    a->cur[term->topic].net += term->weight;
    if (term->weight > 0)
        a->cur[term->topic].hits++;
}

static nw_position_t s_position(const nw_alert_t *alerts, size_t i, bool *lead_seen)
{
    if (i == 0)
        return NW_POS_TITLE;
    if (alerts[i].kind == NW_KIND_KEYPOINT)
        return NW_POS_KEYPOINT;
    if (alerts[i].kind == NW_KIND_PARAGRAPH && !*lead_seen) {
        *lead_seen = true;
        return NW_POS_LEAD;
    }
    return NW_POS_BODY;
}

/* Long stories mention many things in passing: scale their scores down by the square
 * root of their length in length units. */
static void s_scale_by_length(s_article_t *a, size_t bytes)
{
    double unit = nw_taxonomy_length_unit(a->tax);
    if (unit <= 0 || (double)bytes <= unit)
        return;
    double f = 1.0 / sqrt((double)bytes / unit);
    for (size_t t = 0; t < a->n_topics; t++)
        a->score[t] *= f;
}

static void s_scan_all(s_article_t *a, const nw_alert_t *alerts, size_t n)
{
    bool lead_seen = false;
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        nw_position_t pos = s_position(alerts, i, &lead_seen);
        a->cur = &a->ev[i * a->n_topics];
        a->factor = nw_taxonomy_position_weight(a->tax, pos);
        a->in_title = i == 0;
        const char *text = alerts[i].text ? alerts[i].text : "";
        size_t len = strlen(text);
        nw_taxonomy_scan(a->tax, text, len, s_hit, a);
        bytes += len;
    }
    s_scale_by_length(a, bytes);
}

/* The article has topic t when its score reaches the threshold, with enough distinct
 * terms, one of the topic's "require:" terms if it has any, and no veto. */
static bool s_article_has(const s_article_t *a, size_t t)
{
    if (a->vetoed[t] || a->score[t] < nw_taxonomy_topic_threshold(a->tax, t))
        return false;
    if (a->distinct[t] < nw_taxonomy_topic_min_terms(a->tax, t))
        return false;
    return a->required[t] || nw_taxonomy_topic_requires(a->tax, t) == 0;
}

/* Article topics, best score first, into order; returns how many. */
static size_t s_rank(const s_article_t *a, size_t *order)
{
    size_t n = 0;
    for (size_t t = 0; t < a->n_topics; t++) {
        if (!s_article_has(a, t))
            continue;
        size_t j = n++;
        while (j > 0 && a->score[order[j - 1]] < a->score[t]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = t;
    }
    return n;
}

/* Headline: high when the article has a topic, urgent when its title also carries an
 * urgent signal ("breaking"...), normal otherwise. Key points with a topic: normal.
 * Paragraphs, and anything only "general": low. */
static nw_priority_t s_priority(const s_article_t *a, const nw_alert_t *alert, size_t i,
                                size_t n_article_topics, bool has_topic)
{
    if (i == 0) {
        if (n_article_topics == 0)
            return NW_PRIORITY_NORMAL;
        return a->urgent ? NW_PRIORITY_URGENT : NW_PRIORITY_HIGH;
    }
    if (has_topic && alert->kind == NW_KIND_KEYPOINT)
        return NW_PRIORITY_NORMAL;
    return NW_PRIORITY_LOW;
}

static int s_assign(const s_article_t *a, nw_alert_t *alerts, size_t n, const size_t *order,
                    size_t n_order)
{
    int rc;
    for (size_t i = 0; i < n; i++) {
        const s_evidence_t *ev = &a->ev[i * a->n_topics];
        bool any = false;
        for (size_t k = 0; k < n_order; k++) {
            size_t t = order[k];
            if (i > 0 && (ev[t].hits == 0 || ev[t].net <= 0 || ev[t].vetoed))
                continue;
            rc = nw_alert_add_topic(&alerts[i], nw_taxonomy_topic_name(a->tax, t));
            if (rc == NW_ERR_TOOBIG)
                break; /* the most relevant topics are already on it */
            if (rc != NW_OK)
                return rc;
            any = true;
        }
        alerts[i].priority = s_priority(a, &alerts[i], i, n_order, any);
        if (alerts[i].n_topics == 0 && (rc = nw_alert_add_topic(&alerts[i], NW_TOPIC_GENERAL)))
            return rc;
    }
    return NW_OK;
}

int nw_tagger_tag(const nw_taxonomy_t *tax, nw_alert_t *alerts, size_t n)
{
    int rc = NW_ERR_NOMEM;
    s_article_t a = {.tax = tax, .n_topics = nw_taxonomy_topic_count(tax)};
    size_t nt = a.n_topics ? a.n_topics : 1;
    a.score = calloc(nt, sizeof(double));
    a.vetoed = calloc(nt, sizeof(bool));
    a.required = calloc(nt, sizeof(bool));
    a.distinct = calloc(nt, sizeof(size_t));
    a.seen = calloc(nw_taxonomy_term_count(tax) + 1, sizeof(uint32_t));
    a.ev = calloc((n ? n : 1) * nt, sizeof(s_evidence_t));
    size_t *order = calloc(nt, sizeof(size_t));
    if (!a.score || !a.vetoed || !a.required || !a.distinct || !a.seen || !a.ev || !order)
        goto fail;
    s_scan_all(&a, alerts, n);
    rc = s_assign(&a, alerts, n, order, s_rank(&a, order));
fail:
    free(a.score);
    free(a.vetoed);
    free(a.required);
    free(a.distinct);
    free(a.seen);
    free(a.ev);
    free(order);
    return rc;
}
