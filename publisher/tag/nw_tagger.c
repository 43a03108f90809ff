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

/* The memory of tagging, kept from one article to the next (see nw_tagger_ws_new). */
struct nw_tagger_ws_t {
    nw_docvec_t art;              /* the article's features and taxonomy evidence */
    nw_docvec_t one;              /* one alert's, when scoring alerts */
    void *block;                  /* the per-alert and per-topic arrays below, in one piece */
    size_t block_size;            /* bytes of block */
    size_t *order;                /* per taxonomy topic: article topics, strongest first */
    int *mtopic;                  /* per taxonomy topic: its model topic, or -1 */
    nw_segment_t *seg;            /* per alert */
    nw_segment_evidence_t *segev; /* [alert * nt + topic] */
    double *margin;               /* per model topic: the article's margin */
    double *alert_margin;         /* per model topic: the current alert's margin */
    double *strength;             /* per taxonomy topic: how clearly the article has it */
    bool *has;                    /* per taxonomy topic: the article has it */
    int *excluded_by;             /* per taxonomy topic: the group topic it gave way to, or -1 */
};

/* The state of tagging one article. */
typedef struct {
    const nw_taxonomy_t *tax;
    const nw_model_t *model;
    size_t nt;                    /* taxonomy topics */
    int *mtopic;                  /* per taxonomy topic: its model topic, or -1 */
    nw_segment_t *seg;            /* per alert */
    nw_docvec_t *art;             /* the article's features and taxonomy evidence */
    nw_docvec_t *one;             /* one alert's, when scoring alerts */
    const nw_docvec_t *alert_vec; /* the features alert_margin is for: one, or art */
    nw_segment_evidence_t *segev; /* [alert * nt + topic] */
    double *margin;               /* per model topic: the article's margin */
    double *alert_margin;         /* per model topic: the current alert's margin */
    double *strength;             /* per taxonomy topic: how clearly the article has it */
    bool *has;                    /* per taxonomy topic: the article has it */
    int *excluded_by;             /* per taxonomy topic: the group topic it gave way to, or -1 */
    const struct s_names *names;  /* explanations: the article's own feature names */
    bool urgent;
    size_t scored_alert; /* 1 + the alert alert_margin and alert_vec are for; 0: none */
    size_t n_alerts;     /* alerts of the article */
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
        const nw_topic_evidence_t *ev = &s->art->topics[t];
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
    /* Topics of one exclusive: group exclude each other: the article keeps the one it has
     * most clearly. */
    nw_evidence_exclusive(s->tax, s->nt, NULL, s->has, s->strength, s->excluded_by);
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
        s->alert_vec = s->art;
        s->scored_alert = i + 1;
        return NW_OK;
    }
    int rc = nw_docvec_build(s->one, s->tax, &s->seg[i], 1, nw_model_taxonomy_features(s->model),
                             NULL, NULL);
    if (rc != NW_OK)
        return rc;
    s_margins(s->model, s->one, s->alert_margin);
    s->alert_vec = s->one;
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

/* The strings the article reaches its feature ids by. A model row is named by one string
 * of its id, the smallest of those training saw; 2^20 ids are shared by many strings, so
 * an explanation names the article's own words instead. The first string of an id wins. */
typedef struct s_names {
    struct s_name {
        uint32_t id, order; /* order: of occurrence, so the first string sorts first */
        size_t at;          /* offset of its NUL-terminated string in text */
    } * v;
    size_t n, cap;
    nw_buf_t text;
    bool failed; /* out of memory: the table is incomplete */
} s_names_t;

static void s_names_add(uint32_t id, const char *name, size_t len, void *ctx)
{
    s_names_t *names = ctx;
    if (names->n == names->cap) {
        size_t cap = names->cap ? names->cap * 2 : 256;
        struct s_name *grown = realloc(names->v, cap * sizeof(*grown));
        if (!grown) {
            names->failed = true;
            return;
        }
        names->v = grown;
        names->cap = cap;
    }
    size_t at = names->text.len;
    if (nw_buf_append(&names->text, name, len) != NW_OK ||
        nw_buf_append(&names->text, "", 1) != NW_OK) {
        names->failed = true;
        return;
    }
    names->v[names->n] = (struct s_name){.id = id, .order = (uint32_t)names->n, .at = at};
    names->n++;
}

static int s_cmp_name(const void *a, const void *b)
{
    const struct s_name *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->order > y->order) - (x->order < y->order);
}

/* The article's first string for feature id, or NULL (names sorted by s_cmp_name). */
static const char *s_names_find(const s_names_t *names, uint32_t id)
{
    size_t lo = 0, hi = names->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (names->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < names->n && names->v[lo].id == id ? names->text.data + names->v[lo].at : NULL;
}

static void s_names_free(s_names_t *names)
{
    free(names->v);
    nw_buf_free(&names->text);
}

typedef struct {
    size_t row;
    uint32_t id;
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

/* The features of v that move model topic mt most, by |value x weight|, named by the
 * article's own strings where names has them. */
static void s_explain_features(nw_buf_t *b, const nw_model_t *m, const s_names_t *names,
                               const nw_docvec_t *v, size_t mt)
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
        top[j] = (s_contrib_t){.row = (size_t)r, .id = v->feat[i].id, .contribution = c};
    }
    nw_buf_append_str(b, ",\"features\":[");
    for (size_t k = 0; k < n; k++) {
        nw_buf_append_str(b, k ? ",[" : "[");
        const char *own = names ? s_names_find(names, top[k].id) : NULL;
        s_json_str(b, own ? own : nw_model_row_name(m, top[k].row));
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
        const nw_topic_evidence_t *ev = &s->art->topics[t];
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
        if (s->excluded_by[t] >= 0) {
            nw_buf_append_str(&b, ",\"excluded_by\":");
            s_json_str(&b, nw_taxonomy_topic_name(s->tax, (size_t)s->excluded_by[t]));
        }
        if (mt >= 0)
            s_explain_features(&b, s->model, s->names, i == 0 ? s->art : s->alert_vec, (size_t)mt);
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

int nw_tagger_ws_new(nw_tagger_ws_t **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? NW_OK : NW_ERR_NOMEM;
}

void nw_tagger_ws_destroy(nw_tagger_ws_t **ws_p)
{
    if (!ws_p || !*ws_p)
        return;
    nw_tagger_ws_t *ws = *ws_p;
    nw_docvec_free(&ws->art);
    nw_docvec_free(&ws->one);
    free(ws->block);
    free(ws);
    *ws_p = NULL;
}

/* Carves the next array of n entries of size bytes (aligned for any of them) out of a
 * block at *at; with a NULL base it only counts. */
static void *s_carve(char *base, size_t *at, size_t n, size_t size)
{
    size_t start = (*at + 7) & ~(size_t)7;
    *at = start + (n ? n : 1) * size;
    return base ? base + start : NULL;
}

/* Points the arrays of ws at a zeroed block big enough for n alerts, nt taxonomy topics
 * and mt model topics, growing it when needed. Returns NW_OK or NW_ERR_NOMEM. */
static int s_ws_arrays(nw_tagger_ws_t *ws, size_t n, size_t nt, size_t mt)
{
    for (int pass = 0; pass < 2; pass++) {
        char *base = pass ? ws->block : NULL;
        size_t at = 0;
        ws->order = s_carve(base, &at, nt, sizeof(size_t));
        ws->mtopic = s_carve(base, &at, nt, sizeof(int));
        ws->seg = s_carve(base, &at, n, sizeof(nw_segment_t));
        ws->segev = s_carve(base, &at, n * nt, sizeof(nw_segment_evidence_t));
        ws->margin = s_carve(base, &at, mt, sizeof(double));
        ws->alert_margin = s_carve(base, &at, mt, sizeof(double));
        ws->strength = s_carve(base, &at, nt, sizeof(double));
        ws->excluded_by = s_carve(base, &at, nt, sizeof(int));
        ws->has = s_carve(base, &at, nt, sizeof(bool));
        if (pass == 0 && at > ws->block_size) {
            void *grown = malloc(at);
            if (!grown)
                return NW_ERR_NOMEM;
            free(ws->block);
            ws->block = grown;
            ws->block_size = at;
        }
        if (pass == 1)
            memset(ws->block, 0, at);
    }
    return NW_OK;
}

/* Makes room in v for the evidence of nt taxonomy topics (the taxonomy alone: no word
 * features). Returns NW_OK or NW_ERR_NOMEM. */
static int s_topics_room(nw_docvec_t *v, size_t nt)
{
    if (v->topics == NULL || v->n_topics < nt) {
        nw_topic_evidence_t *grown = realloc(v->topics, (nt ? nt : 1) * sizeof(*grown));
        if (!grown)
            return NW_ERR_NOMEM;
        v->topics = grown;
    }
    v->n_topics = nt;
    return NW_OK;
}

int nw_tagger_tag_ws(nw_tagger_ws_t *ws, const nw_taxonomy_t *tax, const nw_model_t *model,
                     nw_alert_t *alerts, size_t n, char ***explain)
{
    s_state_t s = {.tax = tax, .model = model, .nt = nw_taxonomy_topic_count(tax), .n_alerts = n};
    size_t mt = model ? nw_model_topic_count(model) : 1;
    int rc = s_ws_arrays(ws, n, s.nt, mt);
    char **ex = NULL;
    s_names_t names = {0};
    if (rc != NW_OK || (explain && !(ex = calloc(n ? n : 1, sizeof(char *))))) {
        rc = NW_ERR_NOMEM;
        goto done;
    }
    s.mtopic = ws->mtopic;
    s.seg = ws->seg;
    s.segev = ws->segev;
    s.margin = ws->margin;
    s.alert_margin = ws->alert_margin;
    s.strength = ws->strength;
    s.has = ws->has;
    s.excluded_by = ws->excluded_by;
    s.art = &ws->art;
    s.one = &ws->one;
    bool lead_seen = false;
    for (size_t i = 0; i < n; i++) {
        const char *text = alerts[i].text ? alerts[i].text : "";
        s.seg[i] = (nw_segment_t){
            .text = text, .len = strlen(text), .pos = s_position(alerts, i, &lead_seen)};
    }
    for (size_t t = 0; t < s.nt; t++)
        s.mtopic[t] = model ? nw_model_topic_of(model, tax, t) : -1;
    if (model) {
        /* an alert's features are among its article's, so the article's names serve all */
        bool taxf = nw_model_taxonomy_features(model);
        rc = nw_docvec_build_ex(s.art, tax, s.seg, n, taxf, explain ? s_names_add : NULL, &names,
                                s.segev, &s.urgent);
        if (rc == NW_OK && names.failed)
            rc = NW_ERR_NOMEM;
        if (rc == NW_OK && explain) {
            if (names.n > 0)
                qsort(names.v, names.n, sizeof(*names.v), s_cmp_name);
            s.names = &names;
        }
        if (rc == NW_OK)
            s_margins(model, s.art, s.margin);
    } else if ((rc = s_topics_room(s.art, s.nt)) == NW_OK) {
        /* the taxonomy alone: its evidence, no word features */
        rc = nw_evidence_score(tax, s.seg, n, s.art->topics, s.segev, &s.urgent, NULL, NULL);
    }
    if (rc != NW_OK)
        goto done;
    s_article_topics(&s);
    rc = s_assign(&s, alerts, n, ws->order, s_rank(&s, ws->order), ex);
done:
    s_names_free(&names);
    if (rc != NW_OK && ex) {
        for (size_t i = 0; i < n; i++)
            free(ex[i]);
        free(ex);
        ex = NULL;
    }
    if (explain)
        *explain = ex;
    return rc;
}

int nw_tagger_tag_model(const nw_taxonomy_t *tax, const nw_model_t *model, nw_alert_t *alerts,
                        size_t n, char ***explain)
{
    nw_tagger_ws_t *ws = NULL;
    int rc = nw_tagger_ws_new(&ws);
    if (rc == NW_OK)
        rc = nw_tagger_tag_ws(ws, tax, model, alerts, n, explain);
    else if (explain)
        *explain = NULL;
    nw_tagger_ws_destroy(&ws);
    return rc;
}
