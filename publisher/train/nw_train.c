#include "nw_train.h"

#include "nw_error.h"
#include "nw_evidence.h"
#include "nw_features.h"
#include "nw_forkjobs.h"

#include <linear.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_N_FEATURES ((size_t)NW_FEATURES_MASK + 1)

/* The regularisation values cross-validation chooses from (liblinear's C); with --idf
 * (nw_train_opts_t.idf) features weigh more, so smaller ones. */
static const double s_Cs[2][3] = {{1.0, 4.0, 16.0}, {0.25, 1.0, 4.0}};
#define S_N_C (sizeof(s_Cs[0]) / sizeof(s_Cs[0][0]))

/* The feature sets cross-validation chooses from, per topic. */
enum {
    S_WORDS,     /* words only */
    S_TAXONOMY,  /* words and every taxonomy feature: T:TOPIC:TERM, T:any, S:TOPIC */
    S_TERMS_ANY, /* words, T:any and S:TOPIC: whether terms hit, not which */
    S_N_VARIANTS
};
static const char *const s_variant_names[S_N_VARIANTS] = {"words only", "words+taxonomy",
                                                          "words+T:any"};

/* Every document as liblinear's vectors, per feature set. */
typedef struct {
    struct feature_node **x[S_N_VARIANTS]; /* per variant, per doc */
    struct feature_node *pool[S_N_VARIANTS];
} s_nodes_t;

typedef struct {
    const nw_corpus_t *c;
    const nw_train_opts_t *o;
    const s_nodes_t *nodes;
} s_ctx_t;

/* One topic's training documents. */
typedef struct {
    size_t *doc;
    double *y;     /* +1 / -1 */
    bool *allowed; /* the hard rules allow the topic (always true without rules) */
    bool *scored;  /* a labelled document (extra negatives are not) */
    size_t n;
} s_set_t;

/* What cross-validation chooses for a topic, and the F1 it measured. */
typedef struct {
    int variant; /* S_WORDS, S_TAXONOMY, S_TERMS_ANY */
    bool idf;
    double C, threshold, f1;
} s_choice_t;

/* A fitted classifier. */
typedef struct {
    struct model *model;
    double sign; /* +1 when liblinear's first label is the positive class */
} s_fit_t;

static void s_quiet(const char *s)
{
    (void)s;
}

static int s_build_nodes(const nw_corpus_t *c, s_nodes_t *nodes)
{
    /* the ids of the taxonomy's terms, which S_TERMS_ANY leaves out */
    uint8_t *term = calloc(S_N_FEATURES / 8, 1);
    if (!term)
        return NW_ERR_NOMEM;
    for (size_t i = 0; i < nw_taxonomy_term_count(c->tax); i++) {
        uint32_t id = nw_taxonomy_term(c->tax, i)->feature;
        term[id / 8] |= (uint8_t)(1u << (id % 8));
    }
    for (int v = 0; v < S_N_VARIANTS; v++) {
        size_t total = 0;
        for (size_t i = 0; i < c->n_docs; i++)
            total += (v != S_WORDS ? c->docs[i].vec.n : c->docs[i].n_words) + 2;
        nodes->x[v] = calloc(c->n_docs ? c->n_docs : 1, sizeof(*nodes->x[v]));
        nodes->pool[v] = malloc((total ? total : 1) * sizeof(struct feature_node));
        if (!nodes->x[v] || !nodes->pool[v]) {
            free(term);
            return NW_ERR_NOMEM;
        }
        struct feature_node *p = nodes->pool[v];
        for (size_t i = 0; i < c->n_docs; i++) {
            const nw_feat_t *f = v != S_WORDS ? c->docs[i].vec.feat : c->docs[i].words;
            size_t n = v != S_WORDS ? c->docs[i].vec.n : c->docs[i].n_words;
            nodes->x[v][i] = p;
            for (size_t k = 0; k < n; k++) {
                if (v == S_TERMS_ANY && term[f[k].id / 8] & (1u << (f[k].id % 8)))
                    continue;
                *p++ = (struct feature_node){.index = (int)f[k].id + 1, .value = f[k].value};
            }
            *p++ = (struct feature_node){.index = (int)S_N_FEATURES + 1, .value = 1.0};
            *p++ = (struct feature_node){.index = -1, .value = 0};
        }
    }
    free(term);
    return NW_OK;
}

static void s_nodes_free(s_nodes_t *nodes)
{
    for (int v = 0; v < S_N_VARIANTS; v++) {
        free(nodes->x[v]);
        free(nodes->pool[v]);
    }
}

static size_t s_tax_topic(const nw_corpus_t *c, size_t t)
{
    return (size_t)nw_taxonomy_topic_find(c->tax, c->topics[t].name);
}

/* The documents of topic t: labelled ones (filter < 0: all; else those whose position
 * modulo k is (keep ? == : !=) filter), then the extra negatives. */
static int s_set(const s_ctx_t *ctx, size_t t, long filter, size_t k, bool keep, bool extras,
                 s_set_t *s)
{
    const nw_corpus_t *c = ctx->c;
    size_t tt = s_tax_topic(c, t);
    double half = nw_taxonomy_topic_threshold(c->tax, tt) / 2;
    memset(s, 0, sizeof(*s));
    s->doc = malloc(c->n_docs * sizeof(*s->doc));
    s->y = malloc(c->n_docs * sizeof(*s->y));
    s->allowed = malloc(c->n_docs * sizeof(*s->allowed));
    s->scored = malloc(c->n_docs * sizeof(*s->scored));
    if (!s->doc || !s->y || !s->allowed || !s->scored)
        return NW_ERR_NOMEM;
    size_t pos = 0;
    for (size_t i = 0; i < c->n_docs; i++) {
        const nw_corpus_doc_t *d = &c->docs[i];
        bool labelled = d->label[t] != NW_CORPUS_UNLABELLED;
        if (labelled) {
            size_t p = pos++;
            if (filter >= 0 && ((p % k == (size_t)filter) != keep))
                continue;
        } else if (!(extras && c->topics[t].extra_negatives && d->vec.topics[tt].score < half)) {
            continue;
        }
        s->doc[s->n] = i;
        s->y[s->n] = labelled && d->label[t] == 1 ? 1.0 : -1.0;
        s->allowed[s->n] = !ctx->o->rules || nw_evidence_allowed(&d->vec.topics[tt]);
        s->scored[s->n] = labelled;
        s->n++;
    }
    return NW_OK;
}

static void s_set_free(s_set_t *s)
{
    free(s->doc);
    free(s->y);
    free(s->allowed);
    free(s->scored);
    memset(s, 0, sizeof(*s));
}

/* Fits on the documents of s selected by mask (NULL: all). */
static int s_fit(const s_ctx_t *ctx, const s_set_t *s, const bool *mask, const s_choice_t *ch,
                 s_fit_t *fit)
{
    struct problem prob = {.n = (int)S_N_FEATURES + 1, .bias = 1.0};
    prob.y = malloc(s->n * sizeof(double));
    prob.x = malloc(s->n * sizeof(struct feature_node *));
    if (!prob.y || !prob.x) {
        free(prob.y);
        free(prob.x);
        return NW_ERR_NOMEM;
    }
    bool pos = false, neg = false;
    for (size_t i = 0; i < s->n; i++) {
        if (mask && !mask[i])
            continue;
        prob.y[prob.l] = s->y[i];
        prob.x[prob.l++] = ctx->nodes->x[ch->variant][s->doc[i]];
        pos |= s->y[i] > 0;
        neg |= s->y[i] < 0;
    }
    /* With idf, each feature is scaled by its idf over these training documents, 1 +
     * ln((l + 1) / (df + 1)), and the weights learned are multiplied by it again: the
     * margin of a story's plain vector is then exactly the trained one, so the tagger
     * needs no idf table, while the regularisation treats a rare word's evidence as
     * stronger than a common one's. */
    float *scale = NULL;
    struct feature_node *pool = NULL;
    if (ch->idf) {
        uint32_t *df = calloc(S_N_FEATURES + 1, sizeof(uint32_t));
        scale = malloc((S_N_FEATURES + 1) * sizeof(float));
        size_t total = 0;
        for (int i = 0; df && i < prob.l; i++) {
            for (const struct feature_node *n = prob.x[i]; n->index != -1; n++, total++)
                df[n->index - 1]++;
            total++;
        }
        pool = df && scale ? malloc((total ? total : 1) * sizeof(*pool)) : NULL;
        if (!pool) {
            free(df);
            free(scale);
            free(prob.y);
            free(prob.x);
            return NW_ERR_NOMEM;
        }
        for (size_t f = 0; f < S_N_FEATURES; f++)
            scale[f] = df[f] ? (float)(1.0 + log((prob.l + 1.0) / (df[f] + 1.0))) : 1.0f;
        scale[S_N_FEATURES] = 1.0f; /* the bias */
        free(df);
        struct feature_node *q = pool;
        for (int i = 0; i < prob.l; i++) {
            const struct feature_node *n = prob.x[i];
            prob.x[i] = q;
            for (; n->index != -1; n++)
                *q++ = (struct feature_node){.index = n->index,
                                             .value = n->value * scale[n->index - 1]};
            *q++ = *n;
        }
    }
    struct parameter param = {.solver_type = L2R_L2LOSS_SVC_DUAL, .eps = 0.1, .C = ch->C};
    fit->model = NULL;
    if (pos && neg) {
        srand(1);
        fit->model = train(&prob, &param);
    }
    free(prob.y);
    free(prob.x);
    free(pool);
    for (size_t f = 0; fit->model && scale && f <= S_N_FEATURES; f++)
        fit->model->w[f] *= scale[f];
    free(scale);
    if (!fit->model)
        return NW_ERR_INVAL;
    fit->sign = fit->model->label[0] == 1 ? 1.0 : -1.0;
    return NW_OK;
}

static double s_margin(const s_ctx_t *ctx, const s_fit_t *fit, int v, size_t doc)
{
    const double *w = fit->model->w;
    double sum = 0;
    for (const struct feature_node *n = ctx->nodes->x[v][doc]; n->index != -1; n++)
        sum += w[n->index - 1] * n->value;
    return fit->sign * sum;
}

typedef struct {
    double margin;
    bool y, allowed;
} s_pred_t;

static int s_cmp_pred(const void *a, const void *b)
{
    double x = ((const s_pred_t *)a)->margin, y = ((const s_pred_t *)b)->margin;
    return (x < y) - (x > y); /* descending */
}

/* The threshold that maximises F1 over n predictions (sorted in place); *f1 gets it. */
static double s_best_threshold(s_pred_t *p, size_t n, double *f1)
{
    qsort(p, n, sizeof(*p), s_cmp_pred);
    size_t positives = 0;
    for (size_t i = 0; i < n; i++)
        positives += p[i].y;
    size_t tp = 0, fp = 0;
    double best = 0, thr = n ? p[0].margin + 1 : 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].allowed) {
            tp += p[i].y;
            fp += !p[i].y;
        }
        if (i + 1 < n && p[i + 1].margin == p[i].margin)
            continue;
        double f = positives ? 2.0 * (double)tp / (double)(tp + fp + positives) : 0;
        if (f > best) {
            best = f;
            thr = i + 1 < n ? (p[i].margin + p[i + 1].margin) / 2 : p[i].margin - 1e-6;
        }
    }
    *f1 = best;
    return thr;
}

/* Chooses the features (words only, or with the taxonomy's in two forms when the options
 * allow), plain or idf-scaled training (when the options allow), C and the threshold by
 * k-fold cross-validation over s: the combination with the best F1 goes to *best. */
static int s_select(const s_ctx_t *ctx, const s_set_t *s, s_choice_t *best)
{
    size_t k = ctx->o->folds;
    bool *mask = malloc(s->n * sizeof(bool));
    s_pred_t *pred = malloc(s->n * sizeof(s_pred_t));
    int rc = NW_ERR_NOMEM;
    if (!mask || !pred)
        goto done;
    best->f1 = -1;
    for (int v = 0; v < (ctx->o->taxonomy_features ? S_N_VARIANTS : 1); v++) {
        for (int idf = 0; idf <= (ctx->o->idf ? 1 : 0); idf++) {
            for (size_t ci = 0; ci < S_N_C; ci++) {
                s_choice_t ch = {.variant = v, .idf = idf, .C = s_Cs[idf][ci]};
                for (size_t fold = 0; fold < k; fold++) {
                    for (size_t i = 0; i < s->n; i++)
                        mask[i] = i % k != fold;
                    s_fit_t fit;
                    if ((rc = s_fit(ctx, s, mask, &ch, &fit)) != NW_OK)
                        goto done;
                    for (size_t i = fold; i < s->n; i += k)
                        pred[i] = (s_pred_t){.margin = s_margin(ctx, &fit, v, s->doc[i]),
                                             .y = s->y[i] > 0,
                                             .allowed = s->allowed[i]};
                    free_and_destroy_model(&fit.model);
                }
                ch.threshold = s_best_threshold(pred, s->n, &ch.f1);
                if (ch.f1 > best->f1)
                    *best = ch;
            }
        }
    }
    rc = NW_OK;
done:
    free(mask);
    free(pred);
    return rc;
}

static int s_cmp_abs(const void *a, const void *b)
{
    float x = fabsf(*(const float *)a), y = fabsf(*(const float *)b);
    return (x < y) - (x > y);
}

/* One topic trained on all its documents, as its job sends it to nw_train_model. */
typedef struct {
    s_choice_t ch;
    double bias;
    uint64_t positives, scored, extra;
    uint64_t nz; /* weights kept; then nz uint32 feature ids and nz float weights follow */
} s_trained_t;

typedef struct {
    s_ctx_t ctx;
    nw_model_t *m;
    float *w;  /* per topic, per feature: the weights kept */
    FILE *log; /* NULL: quiet */
} s_train_job_t;

/* Job t of nw_train_model: chooses, trains and prunes topic t (s_trained_t into out). */
static int s_train_topic(size_t t, nw_buf_t *out, void *arg)
{
    s_train_job_t *job = arg;
    const s_ctx_t *ctx = &job->ctx;
    const nw_train_opts_t *o = ctx->o;
    s_set_t s;
    s_trained_t r = {0};
    int rc = s_set(ctx, t, -1, 1, true, true, &s);
    if (rc == NW_OK)
        rc = s_select(ctx, &s, &r.ch);
    for (size_t i = 0; rc == NW_OK && i < s.n; i++) {
        r.positives += s.y[i] > 0;
        r.scored += s.scored[i];
    }
    r.extra = s.n - r.scored;
    s_fit_t fit = {0};
    if (rc == NW_OK)
        rc = s_fit(ctx, &s, NULL, &r.ch, &fit);
    s_set_free(&s);
    if (rc != NW_OK)
        return rc;
    /* prune: keep the largest weights, at most max_per_topic of them */
    float *wt = malloc(S_N_FEATURES * sizeof(float));
    float *sorted = malloc(S_N_FEATURES * sizeof(float));
    if (!wt || !sorted) {
        free(wt);
        free(sorted);
        free_and_destroy_model(&fit.model);
        return NW_ERR_NOMEM;
    }
    size_t nz = 0;
    for (size_t f = 0; f < S_N_FEATURES; f++) {
        wt[f] = (float)(fit.sign * fit.model->w[f]);
        if (fabsf(wt[f]) < o->prune)
            wt[f] = 0;
        if (wt[f] != 0)
            sorted[nz++] = wt[f];
    }
    r.bias = fit.sign * fit.model->w[S_N_FEATURES];
    free_and_destroy_model(&fit.model);
    float cut = 0;
    if (nz > o->max_per_topic) {
        qsort(sorted, nz, sizeof(float), s_cmp_abs);
        cut = fabsf(sorted[o->max_per_topic - 1]);
    }
    r.nz = 0;
    for (size_t f = 0; f < S_N_FEATURES; f++) {
        if (wt[f] != 0 && fabsf(wt[f]) >= cut)
            r.nz++;
    }
    rc = nw_buf_append(out, &r, sizeof r);
    for (uint32_t f = 0; rc == NW_OK && f < S_N_FEATURES; f++) {
        if (wt[f] != 0 && fabsf(wt[f]) >= cut)
            rc = nw_buf_append(out, &f, sizeof f);
    }
    for (size_t f = 0; rc == NW_OK && f < S_N_FEATURES; f++) {
        if (wt[f] != 0 && fabsf(wt[f]) >= cut)
            rc = nw_buf_append(out, &wt[f], sizeof(float));
    }
    free(wt);
    free(sorted);
    return rc;
}

/* Takes topic t's result into the model and the log. */
static int s_train_topic_done(size_t t, const void *bytes, size_t len, void *arg)
{
    s_train_job_t *job = arg;
    const nw_corpus_t *c = job->ctx.c;
    s_trained_t r;
    if (len < sizeof r)
        return NW_ERR_IO;
    memcpy(&r, bytes, sizeof r);
    if (len != sizeof r + r.nz * (sizeof(uint32_t) + sizeof(float)))
        return NW_ERR_IO;
    const char *ids = (const char *)bytes + sizeof r;
    const char *ws = ids + r.nz * sizeof(uint32_t);
    for (size_t k = 0; k < r.nz; k++) {
        uint32_t f;
        memcpy(&f, ids + k * sizeof f, sizeof f);
        if (f >= S_N_FEATURES)
            return NW_ERR_IO;
        memcpy(&job->w[t * S_N_FEATURES + f], ws + k * sizeof(float), sizeof(float));
    }
    int rc = nw_model_set_topic(job->m, t, c->topics[t].name, r.ch.threshold, r.bias, r.ch.C,
                                r.ch.f1, (size_t)r.positives, (size_t)r.scored);
    if (rc == NW_OK && job->log)
        fprintf(job->log,
                "%-14s %5zu documents (%4zu positive, %zu more negatives)  %-14s %s C %-6g "
                "threshold %+.4f  cv F1 %.3f  weights %zu\n",
                c->topics[t].name, (size_t)r.scored, (size_t)r.positives, (size_t)r.extra,
                s_variant_names[r.ch.variant], r.ch.idf ? "idf  " : "plain", r.ch.C, r.ch.threshold,
                r.ch.f1, (size_t)r.nz);
    if (job->log)
        fflush(job->log);
    return rc;
}

int nw_train_model(const nw_corpus_t *c, const nw_train_opts_t *o, FILE *log, nw_model_t **out,
                   char *err, size_t errlen)
{
    set_print_string_function(s_quiet);
    s_nodes_t nodes = {0};
    s_train_job_t job = {.ctx = {.c = c, .o = o, .nodes = &nodes}, .log = log};
    job.w = calloc(S_N_FEATURES * (c->n_topics ? c->n_topics : 1), sizeof(float));
    float *row = malloc((c->n_topics ? c->n_topics : 1) * sizeof(float));
    int rc = NW_ERR_NOMEM;
    if (!job.w || !row || s_build_nodes(c, &nodes) != NW_OK ||
        nw_model_new(c->n_topics, o->taxonomy_features, &job.m) != NW_OK)
        goto done;
    err[0] = '\0';
    size_t failed;
    rc = nw_forkjobs_run(c->n_topics, o->workers, s_train_topic, s_train_topic_done, &job, &failed,
                         err, errlen);
    if (rc == NW_ERR_INVAL && !err[0])
        snprintf(err, errlen, "topic '%s': needs positive and negative documents",
                 c->topics[failed].name);
    else if (rc != NW_OK && !err[0])
        snprintf(err, errlen, "topic '%s': cannot train it (%s)", c->topics[failed].name,
                 nw_strerror(rc));
    for (size_t f = 0; f < S_N_FEATURES && rc == NW_OK; f++) {
        bool any = false;
        for (size_t t = 0; t < c->n_topics; t++) {
            row[t] = job.w[t * S_N_FEATURES + f];
            any |= row[t] != 0;
        }
        if (any)
            rc = nw_model_add_row(job.m, (uint32_t)f, c->names[f] ? c->names[f] : "?", row);
    }
done:
    s_nodes_free(&nodes);
    free(job.w);
    free(row);
    if (rc != NW_OK)
        nw_model_destroy(&job.m);
    *out = job.m;
    return rc;
}

typedef struct {
    size_t tp, fp, fn;
} s_count_t;

static void s_count(s_count_t *k, bool truth, bool pred)
{
    k->tp += truth && pred;
    k->fp += !truth && pred;
    k->fn += truth && !pred;
}

static void s_print(FILE *out, const s_count_t *k)
{
    double p = k->tp + k->fp ? (double)k->tp / (double)(k->tp + k->fp) : 0;
    double r = k->tp + k->fn ? (double)k->tp / (double)(k->tp + k->fn) : 0;
    double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
    fprintf(out, " | %.3f %.3f %.3f", p, r, f);
}

/* Whether name is an item of the comma-separated list. */
static bool s_listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len + (comma ? 1 : 0);
    }
    return false;
}

/* One topic's cross-validated results: the taxonomy's and the words-only model's counts,
 * the combination's choice per outer fold; the combination's out-of-fold decisions go to
 * pred and strength (per document x topic), counted later (exclusive groups). */
typedef struct {
    s_count_t taxonomy, words;
    s_choice_t chosen[20];
} s_topic_eval_t;

static int s_evaluate_topic(const s_ctx_t ctx[2], size_t t, size_t outer_folds, s_topic_eval_t *res,
                            bool *pred, double *strength)
{
    const nw_corpus_t *c = ctx[0].c;
    size_t tt = s_tax_topic(c, t);
    for (size_t fold = 0; fold < outer_folds; fold++) {
        s_set_t test, s = {0};
        int rc = s_set(&ctx[1], t, (long)fold, outer_folds, true, false, &test);
        for (int v = 0; v < 2 && rc == NW_OK; v++) {
            s_choice_t ch;
            s_fit_t fit;
            if ((rc = s_set(&ctx[v], t, (long)fold, outer_folds, false, true, &s)) != NW_OK ||
                (rc = s_select(&ctx[v], &s, &ch)) != NW_OK ||
                (rc = s_fit(&ctx[v], &s, NULL, &ch, &fit)) != NW_OK)
                break;
            s_set_free(&s);
            for (size_t i = 0; i < test.n; i++) {
                size_t d = test.doc[i];
                bool allowed = !ctx[v].o->rules || nw_evidence_allowed(&c->docs[d].vec.topics[tt]);
                double margin = s_margin(&ctx[v], &fit, ch.variant, d);
                bool y = allowed && margin >= ch.threshold;
                if (v == 0) {
                    s_count(&res->words, test.y[i] > 0, y);
                } else {
                    pred[d * c->n_topics + t] = y;
                    strength[d * c->n_topics + t] = 1.0 + margin - ch.threshold;
                }
            }
            free_and_destroy_model(&fit.model);
            if (v == 1)
                res->chosen[fold] = ch;
        }
        for (size_t i = 0; rc == NW_OK && i < test.n; i++)
            s_count(&res->taxonomy, test.y[i] > 0,
                    nw_evidence_taxonomy_has(c->tax, tt, &c->docs[test.doc[i]].vec.topics[tt]));
        s_set_free(&s);
        s_set_free(&test);
        if (rc != NW_OK)
            return rc;
    }
    return NW_OK;
}

/* The evaluation of the topics listed in topic[], one job each (nw_forkjobs). */
typedef struct {
    const s_ctx_t *ctx; /* [0] words only, [1] the combination */
    size_t outer_folds;
    const size_t *topic; /* per job: its corpus topic */
    s_topic_eval_t *res; /* per corpus topic */
    bool *pred;          /* per document x corpus topic */
    double *strength;    /* per document x corpus topic */
} s_eval_job_t;

/* Job i: evaluates its topic; sends the results and the topic's column of pred and
 * strength. */
static int s_eval_run(size_t i, nw_buf_t *out, void *arg)
{
    const s_eval_job_t *e = arg;
    const nw_corpus_t *c = e->ctx[0].c;
    size_t t = e->topic[i];
    s_topic_eval_t r = {0};
    int rc = s_evaluate_topic(e->ctx, t, e->outer_folds, &r, e->pred, e->strength);
    if (rc == NW_OK)
        rc = nw_buf_append(out, &r, sizeof r);
    for (size_t d = 0; rc == NW_OK && d < c->n_docs; d++) {
        if ((rc = nw_buf_append(out, &e->pred[d * c->n_topics + t], sizeof(bool))) == NW_OK)
            rc = nw_buf_append(out, &e->strength[d * c->n_topics + t], sizeof(double));
    }
    return rc;
}

static int s_eval_done(size_t i, const void *bytes, size_t len, void *arg)
{
    s_eval_job_t *e = arg;
    const nw_corpus_t *c = e->ctx[0].c;
    size_t t = e->topic[i], per_doc = sizeof(bool) + sizeof(double);
    if (len != sizeof(s_topic_eval_t) + c->n_docs * per_doc)
        return NW_ERR_IO;
    memcpy(&e->res[t], bytes, sizeof(s_topic_eval_t));
    const char *p = (const char *)bytes + sizeof(s_topic_eval_t);
    for (size_t d = 0; d < c->n_docs; d++, p += per_doc) {
        memcpy(&e->pred[d * c->n_topics + t], p, sizeof(bool));
        memcpy(&e->strength[d * c->n_topics + t], p + sizeof(bool), sizeof(double));
    }
    fprintf(stderr, "newswire-train: %s evaluated\n", c->topics[t].name);
    return NW_OK;
}

int nw_train_evaluate(const nw_corpus_t *c, const nw_train_opts_t *o, size_t outer_folds, FILE *out,
                      FILE *oof, char *err, size_t errlen)
{
    if (outer_folds < 2 || outer_folds > 20) {
        snprintf(err, errlen, "cross-validation needs 2 to 20 folds, not %zu", outer_folds);
        return NW_ERR_INVAL;
    }
    set_print_string_function(s_quiet);
    nw_train_opts_t variant[2] = {*o, *o};
    variant[0].taxonomy_features = false; /* the words-only model, no hard rules */
    variant[0].rules = false;
    variant[1].taxonomy_features = true; /* the combination */
    variant[1].rules = true;
    s_nodes_t nodes = {0};
    s_ctx_t ctx[2] = {{.c = c, .o = &variant[0], .nodes = &nodes},
                      {.c = c, .o = &variant[1], .nodes = &nodes}};
    size_t nt = c->n_topics ? c->n_topics : 1;
    bool *pred = calloc(c->n_docs * nt, sizeof(bool));
    double *strength = calloc(c->n_docs * nt, sizeof(double));
    bool *evaluated = calloc(nt, sizeof(bool));
    s_topic_eval_t *res = calloc(nt, sizeof(*res));
    size_t *topic = calloc(nt, sizeof(size_t)), *tax_topic = calloc(nt, sizeof(size_t));
    int rc = NW_ERR_NOMEM;
    if (!pred || !strength || !evaluated || !res || !topic || !tax_topic ||
        s_build_nodes(c, &nodes) != NW_OK)
        goto done;
    size_t n_jobs = 0;
    for (size_t t = 0; t < c->n_topics; t++) {
        tax_topic[t] = s_tax_topic(c, t);
        evaluated[t] = !o->only || s_listed(o->only, c->topics[t].name);
        if (evaluated[t])
            topic[n_jobs++] = t;
    }
    s_eval_job_t job = {.ctx = ctx,
                        .outer_folds = outer_folds,
                        .topic = topic,
                        .res = res,
                        .pred = pred,
                        .strength = strength};
    size_t failed;
    err[0] = '\0';
    rc = nw_forkjobs_run(n_jobs, o->workers, s_eval_run, s_eval_done, &job, &failed, err, errlen);
    if (rc != NW_OK) {
        if (!err[0])
            snprintf(err, errlen, "topic '%s': cannot train it (%s)", c->topics[topic[failed]].name,
                     nw_strerror(rc));
        goto done;
    }
    /* The tagger's exclusive groups, among the topics evaluated (the others are never
     * predicted). */
    for (size_t d = 0; d < c->n_docs; d++)
        nw_evidence_exclusive(c->tax, c->n_topics, tax_topic, &pred[d * c->n_topics],
                              &strength[d * c->n_topics], NULL);
    fprintf(out, "| topic | docs | pos | taxonomy P R F1 | model (words) P R F1 | combination P R "
                 "F1 | combination's choice per fold |\n|---|---|---|---|---|---|---|\n");
    for (size_t t = 0; t < c->n_topics; t++) {
        if (!evaluated[t])
            continue;
        s_count_t comb = {0};
        size_t docs = 0, pos = 0;
        for (size_t d = 0; d < c->n_docs; d++) {
            int8_t label = c->docs[d].label[t];
            if (label == NW_CORPUS_UNLABELLED)
                continue;
            s_count(&comb, label == 1, pred[d * c->n_topics + t]);
            docs++;
            pos += label == 1;
        }
        fprintf(out, "| %s | %zu | %zu", c->topics[t].name, docs, pos);
        s_print(out, &res[t].taxonomy);
        s_print(out, &res[t].words);
        s_print(out, &comb);
        fprintf(out, " |");
        for (size_t fold = 0; fold < outer_folds; fold++)
            fprintf(out, " %s%s C%g%s", s_variant_names[res[t].chosen[fold].variant],
                    res[t].chosen[fold].idf ? " idf" : "", res[t].chosen[fold].C,
                    fold + 1 < outer_folds ? ";" : " |");
        fprintf(out, "\n");
    }
    for (size_t i = 0; oof && i < c->n_docs; i++) {
        fprintf(oof, "%s\t", c->docs[i].path);
        bool first = true;
        for (size_t t = 0; t < c->n_topics; t++) {
            if (!pred[i * c->n_topics + t])
                continue;
            fprintf(oof, "%s%s", first ? "" : ",", c->topics[t].name);
            first = false;
        }
        fprintf(oof, "\n");
    }
    rc = NW_OK;
done:
    s_nodes_free(&nodes);
    free(pred);
    free(strength);
    free(evaluated);
    free(res);
    free(topic);
    free(tax_topic);
    return rc;
}
