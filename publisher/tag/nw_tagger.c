#include "nw_tagger.h"

#include "nw_buf.h"
#include "nw_docvec.h"
#include "nw_error.h"
#include "nw_evidence.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_EXPLAIN_FEATURES 6   /* deciding features shown per topic */
#define S_ALERT_MIN_NET    4.0 /* taxonomy weight that is enough evidence in one alert */

/* The state of tagging one article. */
typedef struct {
    const nw_taxonomy_t *tax;
    const nw_model_t *model;
    size_t nt;                    /* taxonomy topics */
    int *mtopic;                  /* per taxonomy topic: its model topic, or -1 */
    nw_segment_t *seg;            /* per alert */
    nw_docvec_t art;              /* the article's features and taxonomy evidence */
    nw_docvec_t one;              /* one alert's, when scoring alerts */
    nw_segment_evidence_t *segev; /* [alert * nt + topic] */
    double *margin;               /* per model topic: the article's margin */
    double *alert_margin;         /* per model topic: the current alert's margin */
    double *strength;             /* per taxonomy topic: how clearly the article has it */
    bool *has;                    /* per taxonomy topic: the article has it */
    bool urgent;
    size_t scored_alert; /* 1 + the alert alert_margin and one are for; 0: none */
    size_t n_alerts;     /* alerts of the article */
    bool one_borrowed;   /* one.feat is art.feat (a two-alert article) */
} s_state_t;

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

/* margin[t] = bias + sum of value x weight, for every model topic. */
static void s_margins(const nw_model_t *m, const nw_docvec_t *v, double *margin)
{
    nw_model_margins(m, v->feat, v->n, margin);
}

/* The article level: which topics the article has, and how clearly. */
static void s_article_topics(s_state_t *s)
{
    for (size_t t = 0; t < s->nt; t++) {
        const nw_topic_evidence_t *ev = &s->art.topics[t];
        int mt = s->mtopic[t];
        if (mt >= 0) {
            double thr = nw_model_topic_threshold(s->model, (size_t)mt);
            s->has[t] = nw_evidence_allowed(ev) && s->margin[mt] >= thr;
            s->strength[t] = 1.0 + s->margin[mt] - thr;
        } else {
            s->has[t] = nw_evidence_taxonomy_has(s->tax, t, ev);
            s->strength[t] = ev->score / nw_taxonomy_topic_threshold(s->tax, t);
        }
    }
}

/* Article topics, strongest first, into order; returns how many. */
static size_t s_rank(const s_state_t *s, size_t *order)
{
    size_t n = 0;
    for (size_t t = 0; t < s->nt; t++) {
        if (!s->has[t])
            continue;
        size_t j = n++;
        while (j > 0 && s->strength[order[j - 1]] < s->strength[t]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = t;
    }
    return n;
}

/* Scores alert i read as an article of its own, once (s->scored_alert remembers it). The
 * only alert besides the headline is the article's whole body: it is read with the
 * article, whose margins are already known. */
static int s_alert_margins(s_state_t *s, size_t i)
{
    if (s->scored_alert == i + 1)
        return NW_OK;
    if (s->n_alerts == 2) {
        memcpy(s->alert_margin, s->margin, nw_model_topic_count(s->model) * sizeof(double));
        nw_docvec_free(&s->one);
        s->one.feat = s->art.feat; /* borrowed for explanations; see s_state_free */
        s->one.n = s->art.n;
        s->one_borrowed = true;
        s->scored_alert = i + 1;
        return NW_OK;
    }
    int rc = nw_docvec_build(&s->one, s->tax, &s->seg[i], 1, nw_model_taxonomy_features(s->model),
                             NULL, NULL);
    if (rc != NW_OK)
        return rc;
    s_margins(s->model, &s->one, s->alert_margin);
    s->scored_alert = i + 1;
    return NW_OK;
}

/* Alert i (not the headline) carries article topic t when its own text supports it: no
 * veto of t in it, a positive term of t with a positive net weight, and either a net
 * taxonomy weight of S_ALERT_MIN_NET or half the topic's threshold, whichever is less (one
 * strong term, or several weaker ones: one weak word such as "president" is not enough)
 * or, for a topic the model has, the alert read as an article of its own reaching the
 * model's threshold. */
static int s_alert_supports(s_state_t *s, size_t i, size_t t, bool *yes)
{
    const nw_segment_evidence_t *ev = &s->segev[i * s->nt + t];
    *yes = false;
    if (ev->vetoed || ev->hits == 0 || ev->net <= 0)
        return NW_OK;
    double enough = nw_taxonomy_topic_threshold(s->tax, t) / 2;
    if (ev->net >= (enough < S_ALERT_MIN_NET ? enough : S_ALERT_MIN_NET)) {
        *yes = true;
        return NW_OK;
    }
    int mt = s->mtopic[t];
    if (mt < 0)
        return NW_OK;
    int rc = s_alert_margins(s, i);
    *yes = rc == NW_OK && s->alert_margin[mt] >= nw_model_topic_threshold(s->model, (size_t)mt);
    return rc;
}

/* Headline: high when the article has a topic, urgent when its title also carries an
 * urgent signal ("breaking"...), normal otherwise. Key points with a topic: normal.
 * Paragraphs, and anything only "general": low. */
static nw_priority_t s_priority(const s_state_t *s, const nw_alert_t *alert, size_t i,
                                size_t n_article_topics, bool has_topic)
{
    if (i == 0) {
        if (n_article_topics == 0)
            return NW_PRIORITY_NORMAL;
        return s->urgent ? NW_PRIORITY_URGENT : NW_PRIORITY_HIGH;
    }
    if (has_topic && alert->kind == NW_KIND_KEYPOINT)
        return NW_PRIORITY_NORMAL;
    return NW_PRIORITY_LOW;
}

/* ---- explanations ---- */

typedef struct {
    size_t row;
    double contribution;
} s_contrib_t;

static void s_json_str(nw_buf_t *b, const char *str)
{
    nw_buf_append_str(b, "\"");
    for (const unsigned char *c = (const unsigned char *)str; *c; c++) {
        if (*c == '"' || *c == '\\')
            nw_buf_printf(b, "\\%c", *c);
        else if (*c < 0x20)
            nw_buf_printf(b, "\\u%04x", *c);
        else
            nw_buf_append(b, c, 1);
    }
    nw_buf_append_str(b, "\"");
}

/* The features of v that move model topic mt most, by |value x weight|. */
static void s_explain_features(nw_buf_t *b, const nw_model_t *m, const nw_docvec_t *v, size_t mt)
{
    s_contrib_t top[S_EXPLAIN_FEATURES];
    size_t n = 0;
    for (size_t i = 0; i < v->n; i++) {
        long r = nw_model_row_of(m, v->feat[i].id);
        if (r < 0)
            continue;
        double c = (double)nw_model_row_weights(m, (size_t)r)[mt] * v->feat[i].value;
        if (c == 0)
            continue;
        size_t j = n < S_EXPLAIN_FEATURES ? n++ : S_EXPLAIN_FEATURES;
        if (j == S_EXPLAIN_FEATURES && fabs(c) <= fabs(top[j - 1].contribution))
            continue;
        if (j == S_EXPLAIN_FEATURES)
            j--;
        while (j > 0 && fabs(top[j - 1].contribution) < fabs(c)) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = (s_contrib_t){.row = (size_t)r, .contribution = c};
    }
    nw_buf_append_str(b, ",\"features\":[");
    for (size_t k = 0; k < n; k++) {
        nw_buf_append_str(b, k ? ",[" : "[");
        s_json_str(b, nw_model_row_name(m, top[k].row));
        nw_buf_printf(b, ",%.4f]", top[k].contribution);
    }
    nw_buf_append_str(b, "]");
}

/* The explanation of alert i: per candidate topic, the numbers that decided it. */
static char *s_explain(const s_state_t *s, const nw_alert_t *alert, size_t i)
{
    nw_buf_t b = {0};
    nw_buf_printf(&b, "{\"level\":\"%s\",\"topics\":[", i == 0 ? "article" : "alert");
    bool first = true;
    for (size_t t = 0; t < s->nt; t++) {
        const nw_topic_evidence_t *ev = &s->art.topics[t];
        const nw_segment_evidence_t *sev = &s->segev[i * s->nt + t];
        int mt = s->mtopic[t];
        /* the headline explains every topic with any evidence; other alerts their
         * article's topics */
        if (i == 0 ? (ev->score <= 0 && !ev->vetoed && !s->has[t] && mt < 0) : !s->has[t])
            continue;
        nw_buf_append_str(&b, first ? "{" : ",{");
        first = false;
        nw_buf_append_str(&b, "\"topic\":");
        s_json_str(&b, nw_taxonomy_topic_name(s->tax, t));
        nw_buf_printf(&b, ",\"tagged\":%s",
                      nw_alert_find_topic(alert, nw_taxonomy_topic_name(s->tax, t)) >= 0 ? "true"
                                                                                         : "false");
        if (mt >= 0) {
            double score = i == 0 ? s->margin[mt] : s->alert_margin[mt];
            nw_buf_printf(&b, ",\"by\":\"model\",\"score\":%.4f,\"threshold\":%.4f", score,
                          nw_model_topic_threshold(s->model, (size_t)mt));
        } else {
            nw_buf_printf(&b, ",\"by\":\"taxonomy\"");
        }
        if (i == 0)
            nw_buf_printf(&b,
                          ",\"taxonomy\":{\"score\":%.3f,\"threshold\":%g,\"terms\":%u,"
                          "\"min_terms\":%zu,\"vetoed\":%s,\"required\":%s}",
                          ev->score, nw_taxonomy_topic_threshold(s->tax, t), ev->distinct,
                          nw_taxonomy_topic_min_terms(s->tax, t), ev->vetoed ? "true" : "false",
                          ev->required ? "true" : "false");
        else
            nw_buf_printf(&b, ",\"taxonomy\":{\"net\":%.3f,\"hits\":%u,\"vetoed\":%s}", sev->net,
                          sev->hits, sev->vetoed ? "true" : "false");
        if (mt >= 0)
            s_explain_features(&b, s->model, i == 0 ? &s->art : &s->one, (size_t)mt);
        nw_buf_append_str(&b, "}");
    }
    nw_buf_append_str(&b, "]}");
    return nw_buf_steal(&b);
}

/* ---- tagging ---- */

static int s_assign(s_state_t *s, nw_alert_t *alerts, size_t n, const size_t *order, size_t n_order,
                    char **explain)
{
    int rc;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && s->model && explain && (rc = s_alert_margins(s, i)) != NW_OK)
            return rc; /* the explanation shows the alert's margins */
        bool any = false;
        for (size_t k = 0; k < n_order; k++) {
            size_t t = order[k];
            bool yes = true;
            if (i > 0 && (rc = s_alert_supports(s, i, t, &yes)) != NW_OK)
                return rc;
            if (!yes)
                continue;
            rc = nw_alert_add_topic(&alerts[i], nw_taxonomy_topic_name(s->tax, t));
            if (rc == NW_ERR_TOOBIG)
                break; /* the most relevant topics are already on it */
            if (rc != NW_OK)
                return rc;
            any = true;
        }
        alerts[i].priority = s_priority(s, &alerts[i], i, n_order, any);
        if (alerts[i].n_topics == 0 && (rc = nw_alert_add_topic(&alerts[i], NW_TOPIC_GENERAL)))
            return rc;
        if (explain && !(explain[i] = s_explain(s, &alerts[i], i)))
            return NW_ERR_NOMEM;
    }
    return NW_OK;
}

static void s_state_free(s_state_t *s)
{
    free(s->mtopic);
    free(s->seg);
    free(s->segev);
    free(s->margin);
    free(s->alert_margin);
    free(s->strength);
    free(s->has);
    if (s->one_borrowed)
        s->one.feat = NULL;
    nw_docvec_free(&s->art);
    nw_docvec_free(&s->one);
}

int nw_tagger_tag_model(const nw_taxonomy_t *tax, const nw_model_t *model, nw_alert_t *alerts,
                        size_t n, char ***explain)
{
    int rc = NW_ERR_NOMEM;
    s_state_t s = {.tax = tax, .model = model, .nt = nw_taxonomy_topic_count(tax), .n_alerts = n};
    size_t nt = s.nt ? s.nt : 1, mt = model ? nw_model_topic_count(model) : 1;
    size_t *order = calloc(nt, sizeof(size_t));
    char **ex = explain ? calloc(n ? n : 1, sizeof(char *)) : NULL;
    s.mtopic = calloc(nt, sizeof(int));
    s.seg = calloc(n ? n : 1, sizeof(nw_segment_t));
    s.segev = calloc((n ? n : 1) * nt, sizeof(nw_segment_evidence_t));
    s.margin = calloc(mt, sizeof(double));
    s.alert_margin = calloc(mt, sizeof(double));
    s.strength = calloc(nt, sizeof(double));
    s.has = calloc(nt, sizeof(bool));
    if (!order || (explain && !ex) || !s.mtopic || !s.seg || !s.segev || !s.margin ||
        !s.alert_margin || !s.strength || !s.has)
        goto done;
    bool lead_seen = false;
    for (size_t i = 0; i < n; i++) {
        const char *text = alerts[i].text ? alerts[i].text : "";
        s.seg[i] = (nw_segment_t){
            .text = text, .len = strlen(text), .pos = s_position(alerts, i, &lead_seen)};
    }
    for (size_t t = 0; t < s.nt; t++)
        s.mtopic[t] = model ? nw_model_topic_of(model, tax, t) : -1;
    if (model) {
        bool taxf = nw_model_taxonomy_features(model);
        rc = nw_docvec_build_ex(&s.art, tax, s.seg, n, taxf, NULL, NULL, s.segev, &s.urgent);
        if (rc == NW_OK)
            s_margins(model, &s.art, s.margin);
    } else if ((s.art.topics = calloc(nt, sizeof(*s.art.topics))) != NULL) {
        s.art.n_topics = s.nt; /* the taxonomy alone: its evidence, no word features */
        rc = nw_evidence_score(tax, s.seg, n, s.art.topics, s.segev, &s.urgent, NULL, NULL);
    }
    if (rc != NW_OK)
        goto done;
    s_article_topics(&s);
    rc = s_assign(&s, alerts, n, order, s_rank(&s, order), ex);
done:
    if (rc != NW_OK && ex) {
        for (size_t i = 0; i < n; i++)
            free(ex[i]);
        free(ex);
        ex = NULL;
    }
    if (explain)
        *explain = ex;
    free(order);
    s_state_free(&s);
    return rc;
}

int nw_tagger_tag(const nw_taxonomy_t *tax, nw_alert_t *alerts, size_t n)
{
    return nw_tagger_tag_model(tax, NULL, alerts, n, NULL);
}
