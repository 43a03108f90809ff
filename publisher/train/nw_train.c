#include "nw_train.h"

#include "nw_error.h"
#include "nw_forkjobs.h"
#include "nw_learn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int s_cmp_abs(const void *a, const void *b)
{
    float x = fabsf(*(const float *)a), y = fabsf(*(const float *)b);
    return (x < y) - (x > y);
}

/* One topic trained on all its documents, as its job sends it to nw_train_model. */
typedef struct {
    nw_learn_choice_t ch;
    double bias;
    uint64_t positives, scored, extra;
    uint64_t nz; /* weights kept; then nz uint32 feature ids and nz float weights follow */
} s_trained_t;

typedef struct {
    nw_learn_ctx_t ctx;
    nw_model_t *m;
    float *w;  /* per topic, per feature: the weights kept */
    FILE *log; /* NULL: quiet */
} s_train_job_t;

/* Job t of nw_train_model: chooses, trains and prunes topic t (s_trained_t into out). */
static int s_train_topic(size_t t, nw_buf_t *out, void *arg)
{
    s_train_job_t *job = arg;
    const nw_learn_ctx_t *ctx = &job->ctx;
    const nw_train_opts_t *o = ctx->o;
    nw_learn_set_t s;
    s_trained_t r = {0};
    int rc = nw_learn_set(ctx, t, -1, 1, true, true, &s);
    if (rc == NW_OK)
        rc = nw_learn_select(ctx, &s, &r.ch);
    for (size_t i = 0; rc == NW_OK && i < s.n; i++) {
        r.positives += s.y[i] > 0;
        r.scored += s.scored[i];
    }
    r.extra = s.n - r.scored;
    nw_learn_fit_t fit = {0};
    if (rc == NW_OK)
        rc = nw_learn_fit(ctx, &s, NULL, &r.ch, &fit);
    nw_learn_set_free(&s);
    if (rc != NW_OK)
        return rc;
    /* prune: keep the largest weights, at most max_per_topic of them */
    float *wt = malloc(NW_LEARN_FEATURES * sizeof(float));
    float *sorted = malloc(NW_LEARN_FEATURES * sizeof(float));
    if (!wt || !sorted) {
        free(wt);
        free(sorted);
        free_and_destroy_model(&fit.model);
        return NW_ERR_NOMEM;
    }
    size_t nz = 0;
    for (size_t f = 0; f < NW_LEARN_FEATURES; f++) {
        wt[f] = (float)(fit.sign * fit.model->w[f]);
        if (fabsf(wt[f]) < o->prune)
            wt[f] = 0;
        if (wt[f] != 0)
            sorted[nz++] = wt[f];
    }
    r.bias = fit.sign * fit.model->w[NW_LEARN_FEATURES];
    free_and_destroy_model(&fit.model);
    float cut = 0;
    if (nz > o->max_per_topic) {
        qsort(sorted, nz, sizeof(float), s_cmp_abs);
        cut = fabsf(sorted[o->max_per_topic - 1]);
    }
    r.nz = 0;
    for (size_t f = 0; f < NW_LEARN_FEATURES; f++) {
        if (wt[f] != 0 && fabsf(wt[f]) >= cut)
            r.nz++;
    }
    rc = nw_buf_append(out, &r, sizeof r);
    for (uint32_t f = 0; rc == NW_OK && f < NW_LEARN_FEATURES; f++) {
        if (wt[f] != 0 && fabsf(wt[f]) >= cut)
            rc = nw_buf_append(out, &f, sizeof f);
    }
    for (size_t f = 0; rc == NW_OK && f < NW_LEARN_FEATURES; f++) {
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
        if (f >= NW_LEARN_FEATURES)
            return NW_ERR_IO;
        memcpy(&job->w[t * NW_LEARN_FEATURES + f], ws + k * sizeof(float), sizeof(float));
    }
    int rc = nw_model_set_topic(job->m, t, c->topics[t].name, r.ch.threshold, r.bias, r.ch.C,
                                r.ch.f1, (size_t)r.positives, (size_t)r.scored);
    if (rc == NW_OK && job->log)
        fprintf(job->log,
                "%-14s %5zu documents (%4zu positive, %zu more negatives)  %-14s %s C %-6g "
                "threshold %+.4f  cv F1 %.3f  weights %zu\n",
                c->topics[t].name, (size_t)r.scored, (size_t)r.positives, (size_t)r.extra,
                nw_learn_variant_name(r.ch.variant), r.ch.idf ? "idf  " : "plain", r.ch.C,
                r.ch.threshold, r.ch.f1, (size_t)r.nz);
    if (job->log)
        fflush(job->log);
    return rc;
}

int nw_train_model(const nw_corpus_t *c, const nw_train_opts_t *o, FILE *log, nw_model_t **out,
                   char *err, size_t errlen)
{
    nw_learn_quiet();
    nw_learn_nodes_t nodes = {0};
    s_train_job_t job = {.ctx = {.c = c, .o = o, .nodes = &nodes}, .log = log};
    job.w = calloc(NW_LEARN_FEATURES * (c->n_topics ? c->n_topics : 1), sizeof(float));
    float *row = malloc((c->n_topics ? c->n_topics : 1) * sizeof(float));
    int rc = NW_ERR_NOMEM;
    if (!job.w || !row || nw_learn_nodes_build(c, &nodes) != NW_OK ||
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
    for (size_t f = 0; f < NW_LEARN_FEATURES && rc == NW_OK; f++) {
        bool any = false;
        for (size_t t = 0; t < c->n_topics; t++) {
            row[t] = job.w[t * NW_LEARN_FEATURES + f];
            any |= row[t] != 0;
        }
        if (any)
            rc = nw_model_add_row(job.m, (uint32_t)f, c->names[f] ? c->names[f] : "?", row);
    }
done:
    nw_learn_nodes_free(&nodes);
    free(job.w);
    free(row);
    if (rc != NW_OK)
        nw_model_destroy(&job.m);
    *out = job.m;
    return rc;
}
