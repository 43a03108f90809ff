#include "nw_train.h"

#include "nw_error.h"
#include "nw_evidence.h"
#include "nw_features.h"

#include <linear.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_N_FEATURES ((size_t)NW_FEATURES_MASK + 1)

/* The regularisation values cross-validation chooses from (liblinear's C); with --idf
 * (nw_train_opts_t.idf) features weigh more, so smaller ones. */
static const double s_Cs[2][3] = {{1.0, 4.0, 16.0}, {0.25, 1.0, 4.0}};
#define S_N_C (sizeof(s_Cs[0]) / sizeof(s_Cs[0][0]))

typedef struct {
    const nw_corpus_t *c;
    const nw_train_opts_t *o;
    struct feature_node **x[2]; /* per doc: [0] words only, [1] with taxonomy features */
    struct feature_node *pool[2];
} s_ctx_t;

/* One topic's training documents. */
typedef struct {
    size_t *doc;
    double *y;     /* +1 / -1 */
    bool *allowed; /* the hard rules allow the topic (always true without rules) */
    bool *scored;  /* a labelled document (extra negatives are not) */
    size_t n;
} s_set_t;

/* A fitted classifier. */
typedef struct {
    struct model *model;
    double sign; /* +1 when liblinear's first label is the positive class */
} s_fit_t;

static void s_quiet(const char *s)
{
    (void)s;
}

static int s_build_nodes(s_ctx_t *ctx)
{
    const nw_corpus_t *c = ctx->c;
    for (int v = 0; v < 2; v++) {
        size_t total = 0;
        for (size_t i = 0; i < c->n_docs; i++)
            total += (v ? c->docs[i].vec.n : c->docs[i].n_words) + 2;
        ctx->x[v] = calloc(c->n_docs ? c->n_docs : 1, sizeof(*ctx->x[v]));
        ctx->pool[v] = malloc((total ? total : 1) * sizeof(struct feature_node));
        if (!ctx->x[v] || !ctx->pool[v])
            return NW_ERR_NOMEM;
        struct feature_node *p = ctx->pool[v];
        for (size_t i = 0; i < c->n_docs; i++) {
            const nw_feat_t *f = v ? c->docs[i].vec.feat : c->docs[i].words;
            size_t n = v ? c->docs[i].vec.n : c->docs[i].n_words;
            ctx->x[v][i] = p;
            for (size_t k = 0; k < n; k++)
                *p++ = (struct feature_node){.index = (int)f[k].id + 1, .value = f[k].value};
            *p++ = (struct feature_node){.index = (int)S_N_FEATURES + 1, .value = 1.0};
            *p++ = (struct feature_node){.index = -1, .value = 0};
        }
    }
    return NW_OK;
}

static void s_ctx_free(s_ctx_t *ctx)
{
    for (int v = 0; v < 2; v++) {
        free(ctx->x[v]);
        free(ctx->pool[v]);
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
static int s_fit(const s_ctx_t *ctx, const s_set_t *s, const bool *mask, int v, double C,
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
        prob.x[prob.l++] = ctx->x[v][s->doc[i]];
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
    if (ctx->o->idf) {
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
    struct parameter param = {.solver_type = L2R_L2LOSS_SVC_DUAL, .eps = 0.1, .C = C};
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
    for (const struct feature_node *n = ctx->x[v][doc]; n->index != -1; n++)
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

/* Picks the features (words only, or with the taxonomy's when the options allow), C and
 * the threshold by k-fold cross-validation over s. */
static int s_select(const s_ctx_t *ctx, const s_set_t *s, int *v_out, double *C_out,
                    double *thr_out, double *f1_out)
{
    size_t k = ctx->o->folds;
    bool *mask = malloc(s->n * sizeof(bool));
    s_pred_t *pred = malloc(s->n * sizeof(s_pred_t));
    int rc = NW_ERR_NOMEM;
    if (!mask || !pred)
        goto done;
    *f1_out = -1;
    for (int v = 0; v <= (ctx->o->taxonomy_features ? 1 : 0); v++) {
        for (size_t ci = 0; ci < S_N_C; ci++) {
            for (size_t fold = 0; fold < k; fold++) {
                for (size_t i = 0; i < s->n; i++)
                    mask[i] = i % k != fold;
                s_fit_t fit;
                if ((rc = s_fit(ctx, s, mask, v, s_Cs[ctx->o->idf][ci], &fit)) != NW_OK)
                    goto done;
                for (size_t i = fold; i < s->n; i += k)
                    pred[i] = (s_pred_t){.margin = s_margin(ctx, &fit, v, s->doc[i]),
                                         .y = s->y[i] > 0,
                                         .allowed = s->allowed[i]};
                free_and_destroy_model(&fit.model);
            }
            double f1, thr = s_best_threshold(pred, s->n, &f1);
            if (f1 > *f1_out) {
                *f1_out = f1;
                *thr_out = thr;
                *C_out = s_Cs[ctx->o->idf][ci];
                *v_out = v;
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

int nw_train_model(const nw_corpus_t *c, const nw_train_opts_t *o, FILE *log, nw_model_t **out,
                   char *err, size_t errlen)
{
    set_print_string_function(s_quiet);
    s_ctx_t ctx = {.c = c, .o = o};
    nw_model_t *m = NULL;
    float *w = calloc(S_N_FEATURES * (c->n_topics ? c->n_topics : 1), sizeof(float));
    float *sorted = malloc(S_N_FEATURES * sizeof(float));
    int rc = NW_ERR_NOMEM;
    if (!w || !sorted || s_build_nodes(&ctx) != NW_OK ||
        nw_model_new(c->n_topics, o->taxonomy_features, &m) != NW_OK)
        goto done;
    for (size_t t = 0; t < c->n_topics; t++) {
        s_set_t s;
        double C = 1, thr = 0, f1 = 0;
        int v = 0;
        size_t positives = 0, scored = 0, extra = 0;
        if ((rc = s_set(&ctx, t, -1, 1, true, true, &s)) != NW_OK ||
            (rc = s_select(&ctx, &s, &v, &C, &thr, &f1)) != NW_OK) {
            if (rc == NW_ERR_INVAL)
                snprintf(err, errlen, "topic '%s': needs positive and negative documents",
                         c->topics[t].name);
            s_set_free(&s);
            goto done;
        }
        for (size_t i = 0; i < s.n; i++) {
            positives += s.y[i] > 0;
            scored += s.scored[i];
        }
        extra = s.n - scored;
        s_fit_t fit;
        rc = s_fit(&ctx, &s, NULL, v, C, &fit);
        s_set_free(&s);
        if (rc != NW_OK)
            goto done;
        /* prune: keep the largest weights, at most max_per_topic of them */
        float *wt = &w[t * S_N_FEATURES];
        size_t nz = 0;
        for (size_t f = 0; f < S_N_FEATURES; f++) {
            wt[f] = (float)(fit.sign * fit.model->w[f]);
            if (fabsf(wt[f]) < o->prune)
                wt[f] = 0;
            if (wt[f] != 0)
                sorted[nz++] = wt[f];
        }
        double bias = fit.sign * fit.model->w[S_N_FEATURES];
        free_and_destroy_model(&fit.model);
        if (nz > o->max_per_topic) {
            qsort(sorted, nz, sizeof(float), s_cmp_abs);
            float cut = fabsf(sorted[o->max_per_topic - 1]);
            for (size_t f = 0; f < S_N_FEATURES; f++) {
                if (fabsf(wt[f]) < cut)
                    wt[f] = 0;
            }
        }
        if ((rc = nw_model_set_topic(m, t, c->topics[t].name, thr, bias, C, f1, positives,
                                     scored)) != NW_OK)
            goto done;
        if (log)
            fprintf(log,
                    "%-14s %5zu documents (%4zu positive, %zu more negatives)  %s  C %-4g  "
                    "threshold %+.4f  cv F1 %.3f  weights %zu\n",
                    c->topics[t].name, scored, positives, extra,
                    v ? "words+taxonomy" : "words only    ", C, thr, f1,
                    nz < o->max_per_topic ? nz : o->max_per_topic);
    }
    float *row = malloc(c->n_topics * sizeof(float));
    if (!row)
        goto done;
    for (size_t f = 0; f < S_N_FEATURES && rc == NW_OK; f++) {
        bool any = false;
        for (size_t t = 0; t < c->n_topics; t++) {
            row[t] = w[t * S_N_FEATURES + f];
            any |= row[t] != 0;
        }
        if (any)
            rc = nw_model_add_row(m, (uint32_t)f, c->names[f] ? c->names[f] : "?", row);
    }
    free(row);
done:
    s_ctx_free(&ctx);
    free(w);
    free(sorted);
    if (rc != NW_OK)
        nw_model_destroy(&m);
    *out = m;
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

static void s_print(FILE *out, const char *what, const s_count_t *k)
{
    double p = k->tp + k->fp ? (double)k->tp / (double)(k->tp + k->fp) : 0;
    double r = k->tp + k->fn ? (double)k->tp / (double)(k->tp + k->fn) : 0;
    double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
    fprintf(out, " | %.3f %.3f %.3f", p, r, f);
    (void)what;
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

int nw_train_evaluate(const nw_corpus_t *c, const nw_train_opts_t *o, size_t outer_folds, FILE *out,
                      FILE *oof, char *err, size_t errlen)
{
    set_print_string_function(s_quiet);
    nw_train_opts_t variant[2] = {*o, *o};
    variant[0].taxonomy_features = false; /* the words-only model, no hard rules */
    variant[0].rules = false;
    variant[1].taxonomy_features = true; /* the combination */
    variant[1].rules = true;
    s_ctx_t ctx[2] = {{.c = c, .o = &variant[0]}, {.c = c, .o = &variant[1]}};
    bool *pred = calloc(c->n_docs * (c->n_topics ? c->n_topics : 1), sizeof(bool));
    int rc = NW_ERR_NOMEM;
    if (!pred || s_build_nodes(&ctx[0]) != NW_OK || s_build_nodes(&ctx[1]) != NW_OK)
        goto done;
    fprintf(out, "| topic | docs | pos | taxonomy P R F1 | model (words) P R F1 | combination P R "
                 "F1 |\n|---|---|---|---|---|---|\n");
    for (size_t t = 0; t < c->n_topics; t++) {
        if (o->only && !s_listed(o->only, c->topics[t].name))
            continue;
        size_t tt = s_tax_topic(c, t);
        s_count_t k[3] = {{0}};
        size_t docs = 0, pos = 0;
        for (size_t fold = 0; fold < outer_folds; fold++) {
            s_set_t test;
            if ((rc = s_set(&ctx[1], t, (long)fold, outer_folds, true, false, &test)) != NW_OK)
                goto done;
            for (int v = 0; v < 2; v++) {
                s_set_t s;
                double C = 1, thr = 0, f1;
                int fv = 0;
                s_fit_t fit;
                if ((rc = s_set(&ctx[v], t, (long)fold, outer_folds, false, true, &s)) != NW_OK ||
                    (rc = s_select(&ctx[v], &s, &fv, &C, &thr, &f1)) != NW_OK ||
                    (rc = s_fit(&ctx[v], &s, NULL, fv, C, &fit)) != NW_OK) {
                    s_set_free(&s);
                    s_set_free(&test);
                    snprintf(err, errlen, "topic '%s': cannot train fold %zu", c->topics[t].name,
                             fold);
                    goto done;
                }
                s_set_free(&s);
                for (size_t i = 0; i < test.n; i++) {
                    bool allowed = !variant[v].rules ||
                                   nw_evidence_allowed(&c->docs[test.doc[i]].vec.topics[tt]);
                    bool y = allowed && s_margin(&ctx[v], &fit, fv, test.doc[i]) >= thr;
                    s_count(&k[1 + v], test.y[i] > 0, y);
                    if (v == 1)
                        pred[test.doc[i] * c->n_topics + t] = y;
                }
                free_and_destroy_model(&fit.model);
            }
            for (size_t i = 0; i < test.n; i++) {
                const nw_corpus_doc_t *d = &c->docs[test.doc[i]];
                s_count(&k[0], test.y[i] > 0,
                        nw_evidence_taxonomy_has(c->tax, tt, &d->vec.topics[tt]));
                docs++;
                pos += test.y[i] > 0;
            }
            s_set_free(&test);
        }
        fprintf(out, "| %s | %zu | %zu", c->topics[t].name, docs, pos);
        for (int v = 0; v < 3; v++)
            s_print(out, "", &k[v]);
        fprintf(out, " |\n");
        fflush(out);
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
    s_ctx_free(&ctx[0]);
    s_ctx_free(&ctx[1]);
    free(pred);
    return rc;
}
