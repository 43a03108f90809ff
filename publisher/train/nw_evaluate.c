#include "nw_evaluate.h"

#include "nw_error.h"
#include "nw_evidence.h"
#include "nw_forkjobs.h"
#include "nw_learn.h"

#include <stdlib.h>
#include <string.h>

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
    nw_learn_choice_t chosen[20];
} s_topic_eval_t;

static int s_evaluate_topic(const nw_learn_ctx_t ctx[2], size_t t, size_t outer_folds,
                            s_topic_eval_t *res, bool *pred, double *strength)
{
    const nw_corpus_t *c = ctx[0].c;
    size_t tt = nw_learn_tax_topic(c, t);
    for (size_t fold = 0; fold < outer_folds; fold++) {
        nw_learn_set_t test, s = {0};
        int rc = nw_learn_set(&ctx[1], t, (long)fold, outer_folds, true, false, &test);
        for (int v = 0; v < 2 && rc == NW_OK; v++) {
            nw_learn_choice_t ch;
            nw_learn_fit_t fit;
            if ((rc = nw_learn_set(&ctx[v], t, (long)fold, outer_folds, false, true, &s)) !=
                    NW_OK ||
                (rc = nw_learn_select(&ctx[v], &s, &ch)) != NW_OK ||
                (rc = nw_learn_fit(&ctx[v], &s, NULL, &ch, &fit)) != NW_OK)
                break;
            nw_learn_set_free(&s);
            for (size_t i = 0; i < test.n; i++) {
                size_t d = test.doc[i];
                bool allowed = !ctx[v].o->rules || nw_evidence_allowed(&c->docs[d].vec.topics[tt]);
                double margin = nw_learn_margin(&ctx[v], &fit, ch.variant, d);
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
        nw_learn_set_free(&s);
        nw_learn_set_free(&test);
        if (rc != NW_OK)
            return rc;
    }
    return NW_OK;
}

/* The evaluation of the topics listed in topic[], one job each (nw_forkjobs). */
typedef struct {
    const nw_learn_ctx_t *ctx; /* [0] words only, [1] the combination */
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

int nw_evaluate(const nw_corpus_t *c, const nw_train_opts_t *o, size_t outer_folds, FILE *out,
                FILE *oof, char *err, size_t errlen)
{
    if (outer_folds < 2 || outer_folds > 20) {
        snprintf(err, errlen, "cross-validation needs 2 to 20 folds, not %zu", outer_folds);
        return NW_ERR_INVAL;
    }
    nw_learn_quiet();
    nw_train_opts_t variant[2] = {*o, *o};
    variant[0].taxonomy_features = false; /* the words-only model, no hard rules */
    variant[0].rules = false;
    variant[1].taxonomy_features = true; /* the combination */
    variant[1].rules = true;
    nw_learn_nodes_t nodes = {0};
    nw_learn_ctx_t ctx[2] = {{.c = c, .o = &variant[0], .nodes = &nodes},
                             {.c = c, .o = &variant[1], .nodes = &nodes}};
    size_t nt = c->n_topics ? c->n_topics : 1;
    bool *pred = calloc(c->n_docs * nt, sizeof(bool));
    double *strength = calloc(c->n_docs * nt, sizeof(double));
    bool *evaluated = calloc(nt, sizeof(bool));
    s_topic_eval_t *res = calloc(nt, sizeof(*res));
    size_t *topic = calloc(nt, sizeof(size_t)), *tax_topic = calloc(nt, sizeof(size_t));
    int rc = NW_ERR_NOMEM;
    if (!pred || !strength || !evaluated || !res || !topic || !tax_topic ||
        nw_learn_nodes_build(c, &nodes) != NW_OK)
        goto done;
    size_t n_jobs = 0;
    for (size_t t = 0; t < c->n_topics; t++) {
        tax_topic[t] = nw_learn_tax_topic(c, t);
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
            fprintf(out, " %s%s C%g%s", nw_learn_variant_name(res[t].chosen[fold].variant),
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
    nw_learn_nodes_free(&nodes);
    free(pred);
    free(strength);
    free(evaluated);
    free(res);
    free(topic);
    free(tax_topic);
    return rc;
}
