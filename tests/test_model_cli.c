/* newswire-pub with --model and --explain, as a real process: a bad model file is a usage
 * error naming FILE:LINE; --explain adds the explanation to each JSON line; --model none
 * tags with the taxonomy alone; SIGHUP with a bad model keeps the old taxonomy and model. */
#include "nw_testproc.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S_WAIT_MS 20000

static const char s_article[] = "Steel tariffs widen to auto parts\n\n"
                                "The government extended its steel tariffs and import duties "
                                "to auto parts, and trading partners threatened retaliatory "
                                "tariffs.\n";

typedef struct {
    char *dir;
    char article[4096];
    char model[4096];
} s_fixture_t;

static int s_setup(void **state)
{
    static s_fixture_t f;
    memset(&f, 0, sizeof f);
    if (!(f.dir = nw_test_tmpdir("nw-model-cli")))
        return -1;
    snprintf(f.article, sizeof f.article, "%s/article.txt", f.dir);
    snprintf(f.model, sizeof f.model, "%s/my.model", f.dir);
    if (nw_test_write_file(f.article, s_article, strlen(s_article)) != 0)
        return -1;
    *state = &f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    nw_test_rmtree(f->dir);
    free(f->dir);
    return 0;
}

/* Runs newswire-pub with args to its exit; returns the process (caller destroys). */
static nw_testproc_t *s_run(const char *const *args, int *status)
{
    const char *argv[16] = {NW_PUB_BIN};
    size_t n = 1;
    for (size_t i = 0; args[i] != NULL && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    nw_testproc_t *proc = nw_testproc_start(argv, NULL);
    assert_non_null(proc);
    *status = nw_testproc_wait_exit(proc, S_WAIT_MS);
    return proc;
}

static void test_bad_model_is_a_usage_error_naming_the_line(void **state)
{
    s_fixture_t *f = *state;
    static const char bad[] = "newswire-model 1\ntopics 1\ntopic tariffs 0 0 1 0 1 2\nweights 1\n"
                              "12\tnot-a-pair\tx\n";
    assert_int_equal(nw_test_write_file(f->model, bad, strlen(bad)), 0);
    int status;
    nw_testproc_t *p =
        s_run((const char *[]){"--dry-run", "--model", f->model, f->article, NULL}, &status);
    const char *err = nw_testproc_output(p, NW_TESTPROC_STDERR);
    if (status != 2 || !strstr(err, "my.model:5:"))
        fail_msg("exit %d, stderr: %s (wanted exit 2 naming my.model:5:)", status, err);
    nw_testproc_destroy(&p);
}

static void test_explain_and_model_none(void **state)
{
    s_fixture_t *f = *state;
    int status;
    nw_testproc_t *p = s_run((const char *[]){"--dry-run", "--explain", f->article, NULL}, &status);
    assert_int_equal(status, 0);
    const char *out = nw_testproc_output(p, NW_TESTPROC_STDOUT);
    /* every line explains itself; the headline explains tariffs by the model */
    assert_int_equal(nw_testproc_count_lines(p, NW_TESTPROC_STDOUT, "\"explain\":{\"level\":"),
                     nw_testproc_count_lines(p, NW_TESTPROC_STDOUT, ""));
    assert_non_null(strstr(out, "\"level\":\"article\""));
    assert_non_null(strstr(out, "{\"topic\":\"tariffs\",\"tagged\":true,\"by\":\"model\""));
    assert_non_null(strstr(out, "\"threshold\":"));
    assert_non_null(strstr(out, "\"features\":[[\""));
    nw_testproc_destroy(&p);
    p = s_run((const char *[]){"--dry-run", "--explain", "--model", "none", f->article, NULL},
              &status);
    assert_int_equal(status, 0);
    out = nw_testproc_output(p, NW_TESTPROC_STDOUT);
    assert_non_null(strstr(out, "{\"topic\":\"tariffs\",\"tagged\":true,\"by\":\"taxonomy\""));
    assert_null(strstr(out, "\"by\":\"model\""));
    nw_testproc_destroy(&p);
    p = s_run((const char *[]){"--explain", f->article, NULL}, &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(nw_testproc_output(p, NW_TESTPROC_STDERR), "--explain"));
    nw_testproc_destroy(&p);
}

static void test_sighup_with_a_bad_model_keeps_the_old_pair(void **state)
{
    s_fixture_t *f = *state;
    /* a good model file: the built-in one */
    char *text = nw_test_read_file(NW_MODEL_TXT, NULL);
    assert_non_null(text);
    assert_int_equal(nw_test_write_file(f->model, text, strlen(text)), 0);
    free(text);
    char spool[4200];
    snprintf(spool, sizeof spool, "%s/spool", f->dir);
    const char *argv[] = {
        NW_PUB_BIN, "--spool", spool,         "--no-journal", "--bind", "tcp://127.0.0.1:*",
        "--model",  f->model,  "--log-level", "info",         NULL};
    nw_testproc_t *p = nw_testproc_start(argv, NULL);
    assert_non_null(p);
    if (!nw_testproc_wait_output(p, NW_TESTPROC_STDERR, "ready: stream ", S_WAIT_MS))
        fail_msg("not ready: %s", nw_testproc_output(p, NW_TESTPROC_STDERR));
    static const char bad[] = "newswire-model 1\ntopics 1\n";
    assert_int_equal(nw_test_write_file(f->model, bad, strlen(bad)), 0);
    assert_int_equal(nw_testproc_signal(p, SIGHUP), 0);
    if (!nw_testproc_wait_output(p, NW_TESTPROC_STDERR, "keeping the previous taxonomy and model",
                                 S_WAIT_MS))
        fail_msg("no reload error: %s", nw_testproc_output(p, NW_TESTPROC_STDERR));
    assert_non_null(strstr(nw_testproc_output(p, NW_TESTPROC_STDERR), "my.model:"));
    /* the daemon still runs and stops cleanly */
    assert_int_equal(nw_testproc_signal(p, SIGTERM), 0);
    assert_int_equal(nw_testproc_wait_exit(p, S_WAIT_MS), 0);
    nw_testproc_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_model_is_a_usage_error_naming_the_line),
        cmocka_unit_test(test_explain_and_model_none),
        cmocka_unit_test(test_sighup_with_a_bad_model_keeps_the_old_pair),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
