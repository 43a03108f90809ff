#include "nw_learn.h"

#include "nw_error.h"
#include "nw_evidence.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The regularisation values cross-validation chooses from (liblinear's C); with --idf
 * (nw_train_opts_t.idf) features weigh more, so smaller ones. */
static const double s_Cs[2][3] = {{1.0, 4.0, 16.0}, {0.25, 1.0, 4.0}};
#define S_N_C (sizeof(s_Cs[0]) / sizeof(s_Cs[0][0]))

static void s_quiet(const char *s)
{
    (void)s;
}

void nw_learn_quiet(void)
{
    set_print_string_function(s_quiet);
}

const char *nw_learn_variant_name(int variant)
{
    static const char *const names[NW_LEARN_VARIANTS] = {"words only", "words+taxonomy",
                                                         "words+T:any"};
    return variant >= 0 && variant < NW_LEARN_VARIANTS ? names[variant] : "?";
}

int nw_learn_nodes_build(const nw_corpus_t *c, nw_learn_nodes_t *nodes)
{
    /* the ids of the taxonomy's terms, which NW_LEARN_TERMS_ANY leaves out */
    uint8_t *term = calloc(NW_LEARN_FEATURES / 8, 1);
    if (!term)
        return NW_ERR_NOMEM;
    for (size_t i = 0; i < nw_taxonomy_term_count(c->tax); i++) {
        uint32_t id = nw_taxonomy_term(c->tax, i)->feature;
        term[id / 8] |= (uint8_t)(1u << (id % 8));
    }
    for (int v = 0; v < NW_LEARN_VARIANTS; v++) {
        size_t total = 0;
        for (size_t i = 0; i < c->n_docs; i++)
            total += (v != NW_LEARN_WORDS ? c->docs[i].vec.n : c->docs[i].n_words) + 2;
        nodes->x[v] = calloc(c->n_docs ? c->n_docs : 1, sizeof(*nodes->x[v]));
        nodes->pool[v] = malloc((total ? total : 1) * sizeof(struct feature_node));
        if (!nodes->x[v] || !nodes->pool[v]) {
            free(term);
            return NW_ERR_NOMEM;
        }
        struct feature_node *p = nodes->pool[v];
        for (size_t i = 0; i < c->n_docs; i++) {
            const nw_feat_t *f = v != NW_LEARN_WORDS ? c->docs[i].vec.feat : c->docs[i].words;
            size_t n = v != NW_LEARN_WORDS ? c->docs[i].vec.n : c->docs[i].n_words;
            nodes->x[v][i] = p;
            for (size_t k = 0; k < n; k++) {
                if (v == NW_LEARN_TERMS_ANY && term[f[k].id / 8] & (1u << (f[k].id % 8)))
                    continue;
                *p++ = (struct feature_node){.index = (int)f[k].id + 1, .value = f[k].value};
            }
            *p++ = (struct feature_node){.index = (int)NW_LEARN_FEATURES + 1, .value = 1.0};
            *p++ = (struct feature_node){.index = -1, .value = 0};
        }
    }
    free(term);
    return NW_OK;
}

void nw_learn_nodes_free(nw_learn_nodes_t *nodes)
{
    for (int v = 0; v < NW_LEARN_VARIANTS; v++) {
        free(nodes->x[v]);
        free(nodes->pool[v]);
    }
}

size_t nw_learn_tax_topic(const nw_corpus_t *c, size_t t)
{
    return (size_t)nw_taxonomy_topic_find(c->tax, c->topics[t].name);
}

int nw_learn_set(const nw_learn_ctx_t *ctx, size_t t, long filter, size_t k, bool keep, bool extras,
                 nw_learn_set_t *s)
{
    const nw_corpus_t *c = ctx->c;
    size_t tt = nw_learn_tax_topic(c, t);
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

void nw_learn_set_free(nw_learn_set_t *s)
{
    free(s->doc);
    free(s->y);
    free(s->allowed);
    free(s->scored);
    memset(s, 0, sizeof(*s));
}

int nw_learn_fit(const nw_learn_ctx_t *ctx, const nw_learn_set_t *s, const bool *mask,
                 const nw_learn_choice_t *ch, nw_learn_fit_t *fit)
{
    struct problem prob = {.n = (int)NW_LEARN_FEATURES + 1, .bias = 1.0};
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
    /* A feature in fewer than o->min_df of these training documents is left out (its
     * weight stays 0): one story's own words let the classifier memorise that story
     * instead of learning what the topic's stories share.
     * With idf, each feature is scaled by its idf over these training documents, 1 +
     * ln((l + 1) / (df + 1)), and the weights learned are multiplied by it again: the
     * margin of a story's plain vector is then exactly the trained one, so the tagger
     * needs no idf table, while the regularisation treats a rare word's evidence as
     * stronger than a common one's. */
    uint32_t min_df = (uint32_t)ctx->o->min_df;
    float *scale = NULL;
    struct feature_node *pool = NULL;
    if (ch->idf || min_df > 1) {
        uint32_t *df = calloc(NW_LEARN_FEATURES + 1, sizeof(uint32_t));
        scale = malloc((NW_LEARN_FEATURES + 1) * sizeof(float));
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
        for (size_t f = 0; f < NW_LEARN_FEATURES; f++)
            scale[f] = df[f] < min_df ? 0.0f
                       : ch->idf      ? (float)(1.0 + log((prob.l + 1.0) / (df[f] + 1.0)))
                                      : 1.0f;
        scale[NW_LEARN_FEATURES] = 1.0f; /* the bias */
        free(df);
        struct feature_node *q = pool;
        for (int i = 0; i < prob.l; i++) {
            const struct feature_node *n = prob.x[i];
            prob.x[i] = q;
            for (; n->index != -1; n++)
                if (scale[n->index - 1] != 0.0f)
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
    for (size_t f = 0; fit->model && scale && f <= NW_LEARN_FEATURES; f++)
        fit->model->w[f] *= scale[f];
    free(scale);
    if (!fit->model)
        return NW_ERR_INVAL;
    fit->sign = fit->model->label[0] == 1 ? 1.0 : -1.0;
    return NW_OK;
}

double nw_learn_margin(const nw_learn_ctx_t *ctx, const nw_learn_fit_t *fit, int v, size_t doc)
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

int nw_learn_select(const nw_learn_ctx_t *ctx, const nw_learn_set_t *s, nw_learn_choice_t *best)
{
    size_t k = ctx->o->folds;
    bool *mask = malloc(s->n * sizeof(bool));
    s_pred_t *pred = malloc(s->n * sizeof(s_pred_t));
    int rc = NW_ERR_NOMEM;
    if (!mask || !pred)
        goto done;
    best->f1 = -1;
    for (int v = 0; v < (ctx->o->taxonomy_features ? NW_LEARN_VARIANTS : 1); v++) {
        for (int idf = 0; idf <= (ctx->o->idf ? 1 : 0); idf++) {
            for (size_t ci = 0; ci < S_N_C; ci++) {
                nw_learn_choice_t ch = {.variant = v, .idf = idf, .C = s_Cs[idf][ci]};
                for (size_t fold = 0; fold < k; fold++) {
                    for (size_t i = 0; i < s->n; i++)
                        mask[i] = i % k != fold;
                    nw_learn_fit_t fit;
                    if ((rc = nw_learn_fit(ctx, s, mask, &ch, &fit)) != NW_OK)
                        goto done;
                    for (size_t i = fold; i < s->n; i += k)
                        pred[i] = (s_pred_t){.margin = nw_learn_margin(ctx, &fit, v, s->doc[i]),
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
