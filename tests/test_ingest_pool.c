/* Articles ingested side by side (nw_ingest_pool) give exactly what one thread gives: the
 * same alerts, byte for byte once encoded, the same outcome for a bad or missing file, in
 * the order of the jobs, run after run (the helpers are reused between runs). */
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_ingest.h"
#include "nw_ingest_pool.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S_PUBLISHED_MS 1700000000000LL

/* Our own example inputs: text articles, an HTML page, a ninjs item, a page with no article
 * (a bad input), a file that does not exist. */
static const char *const s_inputs[] = {
    NW_EXAMPLES_DIR "/articles/01-tariffs-steel.txt",
    NW_EXAMPLES_DIR "/articles/02-defense-budget.txt",
    NW_TEST_DATA_DIR "/html/harbor-steel.html",
    NW_EXAMPLES_DIR "/articles/03-energy-oil.txt",
    NW_TEST_DATA_DIR "/ninjs/harbor-wire-1x.json",
    NW_TEST_DATA_DIR "/html/no-article.html",
    NW_EXAMPLES_DIR "/articles/04-offtopic-football.txt",
    NW_TEST_DATA_DIR "/no-such-article.txt",
};
#define S_N_INPUTS (sizeof s_inputs / sizeof s_inputs[0])
#define S_JOBS     (S_N_INPUTS * 6)

typedef struct {
    nw_taxonomy_t *tax;
    nw_model_t *model;
    nw_boilerplate_t *rules;
    nw_ingest_cfg_t cfg;
    nw_ingest_job_t *reference; /* S_JOBS jobs ingested on one thread */
    bool have_reference;
} s_fixture_t;

static void s_jobs_init(nw_ingest_job_t *jobs, size_t n)
{
    memset(jobs, 0, n * sizeof *jobs);
    for (size_t i = 0; i < n; i++) {
        jobs[i].path = s_inputs[i % S_N_INPUTS];
        jobs[i].name = strrchr(jobs[i].path, '/') + 1;
    }
}

static void s_jobs_clear(nw_ingest_job_t *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nw_ingest_result_clear(&jobs[i].res);
}

/* Ingests S_JOBS jobs on a pool of `threads` threads into jobs. */
static void s_run(const s_fixture_t *f, size_t threads, nw_ingest_job_t *jobs)
{
    nw_ingest_pool_t *pool = NULL;
    assert_int_equal(nw_ingest_pool_new(threads, &pool), NW_OK);
    assert_int_equal(nw_ingest_pool_threads(pool), threads);
    s_jobs_init(jobs, S_JOBS);
    nw_ingest_pool_run(pool, &f->cfg, S_PUBLISHED_MS, jobs, S_JOBS);
    nw_ingest_pool_destroy(&pool);
    assert_null(pool);
}

/* The fixture's reference results, made by the first test that needs them. */
static const nw_ingest_job_t *s_reference(s_fixture_t *f)
{
    if (!f->have_reference) {
        s_run(f, 1, f->reference);
        f->have_reference = true;
    }
    return f->reference;
}

static int s_setup(void **state)
{
    static s_fixture_t f;
    memset(&f, 0, sizeof f);
    char err[256];
    if (nw_ingest_load_taxonomy(NULL, &f.tax, err, sizeof err) != NW_OK ||
        nw_ingest_load_model(NULL, f.tax, &f.model, err, sizeof err) != NW_OK ||
        nw_ingest_load_rules(NULL, &f.rules, err, sizeof err) != NW_OK)
        return -1;
    f.cfg = (nw_ingest_cfg_t){
        .rules = f.rules, .taxonomy = f.tax, .model = f.model, .only_plain_files = true};
    f.reference = calloc(S_JOBS, sizeof *f.reference);
    if (f.reference == NULL)
        return -1;
    *state = &f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    s_jobs_clear(f->reference, S_JOBS);
    free(f->reference);
    nw_boilerplate_destroy(&f->rules);
    nw_model_destroy(&f->model);
    nw_taxonomy_destroy(&f->tax);
    return 0;
}

/* Job i of got equals job i of want: outcome, reason, and every alert's frame. */
static void s_assert_same_job(const nw_ingest_job_t *want, const nw_ingest_job_t *got)
{
    assert_int_equal(got->rc, want->rc);
    if (want->rc != NW_OK) {
        assert_string_equal(got->err, want->err);
        return;
    }
    assert_int_equal(got->res.n, want->res.n);
    assert_int_equal(got->res.file_ino, want->res.file_ino);
    for (size_t k = 0; k < want->res.n; k++) {
        char *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        assert_int_equal(nw_alert_encode(&want->res.alerts[k], &a, &na), NW_OK);
        assert_int_equal(nw_alert_encode(&got->res.alerts[k], &b, &nb), NW_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na);
        free(a);
        free(b);
    }
}

/* The reference run itself: good inputs publish, the page without an article and the
 * missing file fail with their own reasons, each naming its file. */
static void test_reference_outcomes(void **state)
{
    const nw_ingest_job_t *reference = s_reference(*state);
    for (size_t i = 0; i < S_JOBS; i++) {
        const nw_ingest_job_t *job = &reference[i];
        if (strstr(job->path, "no-article") != NULL) {
            assert_int_equal(job->rc, NW_ERR_ARTICLE_BOILERPLATE);
            assert_non_null(strstr(job->err, "no-article.html"));
        } else if (strstr(job->path, "no-such") != NULL) {
            assert_int_equal(job->rc, NW_ERR_NOTFOUND);
            assert_non_null(strstr(job->err, "no-such-article.txt"));
        } else {
            assert_int_equal(job->rc, NW_OK);
            assert_true(job->res.n >= 2);
            assert_int_equal(job->res.alerts[0].published_ms, S_PUBLISHED_MS);
        }
    }
}

/* Two, three and eight threads give the one thread's results, job by job. */
static void test_threads_give_the_same_alerts(void **state)
{
    s_fixture_t *f = *state;
    const nw_ingest_job_t *reference = s_reference(f);
    static const size_t threads[] = {2, 3, 8};
    nw_ingest_job_t *jobs = calloc(S_JOBS, sizeof *jobs);
    assert_non_null(jobs);
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        s_run(f, threads[t], jobs);
        for (size_t i = 0; i < S_JOBS; i++)
            s_assert_same_job(&reference[i], &jobs[i]);
        s_jobs_clear(jobs, S_JOBS);
    }
    free(jobs);
}

/* One pool, many runs of every size: the helpers wake for each run and no job is lost
 * or taken twice (a job taken twice would leak its first result or differ). */
static void test_many_runs_on_one_pool(void **state)
{
    s_fixture_t *f = *state;
    const nw_ingest_job_t *reference = s_reference(f);
    nw_ingest_pool_t *pool = NULL;
    assert_int_equal(nw_ingest_pool_new(3, &pool), NW_OK);
    nw_ingest_job_t *jobs = calloc(S_JOBS, sizeof *jobs);
    assert_non_null(jobs);
    for (size_t run = 0; run < 60; run++) {
        size_t n = run % (S_JOBS + 1); /* 0 .. S_JOBS jobs */
        s_jobs_init(jobs, n);
        nw_ingest_pool_run(pool, &f->cfg, S_PUBLISHED_MS, jobs, n);
        for (size_t i = 0; i < n; i++)
            s_assert_same_job(&reference[i], &jobs[i]);
        s_jobs_clear(jobs, n);
    }
    free(jobs);
    nw_ingest_pool_destroy(&pool);
}

/* A job without a path is skipped: the rc and reason the caller set stand. */
static void test_job_without_path_keeps_its_outcome(void **state)
{
    s_fixture_t *f = *state;
    const nw_ingest_job_t *reference = s_reference(f);
    nw_ingest_pool_t *pool = NULL;
    assert_int_equal(nw_ingest_pool_new(2, &pool), NW_OK);
    nw_ingest_job_t jobs[3];
    s_jobs_init(jobs, 3);
    jobs[1].path = NULL;
    jobs[1].rc = NW_ERR_INVAL;
    snprintf(jobs[1].err, sizeof jobs[1].err, "x: name too long");
    nw_ingest_pool_run(pool, &f->cfg, S_PUBLISHED_MS, jobs, 3);
    assert_int_equal(jobs[1].rc, NW_ERR_INVAL);
    assert_string_equal(jobs[1].err, "x: name too long");
    assert_int_equal(jobs[1].res.n, 0);
    s_assert_same_job(&reference[0], &jobs[0]);
    s_assert_same_job(&reference[2], &jobs[2]);
    s_jobs_clear(jobs, 3);
    nw_ingest_pool_destroy(&pool);
}

static void test_bad_thread_counts(void **state)
{
    (void)state;
    nw_ingest_pool_t *pool = (nw_ingest_pool_t *)&pool;
    assert_int_equal(nw_ingest_pool_new(0, &pool), NW_ERR_INVAL);
    assert_null(pool);
    assert_int_equal(nw_ingest_pool_new(NW_INGEST_POOL_MAX_THREADS + 1, &pool), NW_ERR_INVAL);
    assert_null(pool);
    size_t def = nw_ingest_pool_default_threads();
    assert_true(def >= 1 && def <= 4);
    nw_ingest_pool_destroy(&pool); /* NULL: nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_outcomes),
        cmocka_unit_test(test_threads_give_the_same_alerts),
        cmocka_unit_test(test_many_runs_on_one_pool),
        cmocka_unit_test(test_job_without_path_keeps_its_outcome),
        cmocka_unit_test(test_bad_thread_counts),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
