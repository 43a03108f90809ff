/* Tests for subscriber/nw_exec: word splitting, the alert on stdin and in the environment,
 * nothing executed from alert text, the concurrency bound, failures and shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "nw_alert.h"
#include "nw_error.h"
#include "nw_exec.h"
#include "nw_log.h"
#include "nw_testproc.h"

/* ---- splitting ---- */

static void s_expect_split(const char *cmd, const char *const *want)
{
    char **argv = NULL;
    char err[256];
    assert_int_equal(nw_exec_split(cmd, &argv, err, sizeof err), NW_OK);
    size_t i = 0;
    for (; want[i] != NULL; i++) {
        assert_non_null(argv[i]);
        assert_string_equal(argv[i], want[i]);
    }
    assert_null(argv[i]);
    nw_exec_argv_free(argv);
}

static void test_split_blanks_and_quotes(void **state)
{
    (void)state;
    s_expect_split("  notify-send   -u critical  ",
                   (const char *[]){"notify-send", "-u", "critical", NULL});
    s_expect_split("a 'b c' \"d e\" f\\ g", (const char *[]){"a", "b c", "d e", "f g", NULL});
    s_expect_split("x'y'\"z\"w", (const char *[]){"xyzw", NULL});
    s_expect_split("'' \"\"", (const char *[]){"", "", NULL});
}

static void test_split_escapes_inside_double_quotes(void **state)
{
    (void)state;
    s_expect_split("\"a\\\"b\\\\c\\$d\\`e\\n\"", (const char *[]){"a\"b\\c$d`e\\n", NULL});
    s_expect_split("'a\\b'", (const char *[]){"a\\b", NULL});
}

static void test_split_expands_nothing(void **state)
{
    (void)state;
    /* $, backticks, globs and separators are just characters: there is no shell. */
    s_expect_split("echo $(touch x) `id` *.txt ; rm -rf / | cat",
                   (const char *[]){"echo", "$(touch", "x)", "`id`", "*.txt", ";", "rm", "-rf", "/",
                                    "|", "cat", NULL});
}

static void test_split_errors_name_the_flag(void **state)
{
    (void)state;
    const char *bad[] = {"", "   ", "'open", "\"open", "trailing\\"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char **argv = NULL;
        char err[256] = "";
        assert_int_equal(nw_exec_split(bad[i], &argv, err, sizeof err), NW_ERR_INVAL);
        assert_null(argv);
        assert_non_null(strstr(err, "--exec"));
    }
}

/* ---- running ---- */

typedef struct {
    char *dir;      /* temporary directory */
    uv_loop_t loop; /* a private loop */
    bool closed;    /* the runner's on_closed ran */
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    fx->dir = nw_test_tmpdir("test_exec");
    if (fx->dir == NULL || uv_loop_init(&fx->loop) != 0)
        return -1;
    nw_log_set_level(NW_LOG_ERROR); /* failures are expected here; keep the output clean */
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    int rc = uv_loop_close(&fx->loop);
    nw_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return rc == 0 ? 0 : -1; /* a handle left open fails the test */
}

static void s_on_closed(void *arg)
{
    ((s_fixture_t *)arg)->closed = true;
}

static void s_alert(nw_alert_t *a, const char *text)
{
    assert_int_equal(nw_alert_init(a), NW_OK);
    assert_int_equal(nw_alert_set(&a->id, "0123456789abcdef.1"), NW_OK);
    assert_int_equal(nw_alert_set(&a->text, text), NW_OK);
    assert_int_equal(nw_alert_set(&a->title, "T \"q\" $(x) `y`"), NW_OK);
    assert_int_equal(nw_alert_set(&a->stream, "feedfacecafebeef"), NW_OK);
    assert_int_equal(nw_alert_add_topic(a, "tariffs"), NW_OK);
    assert_int_equal(nw_alert_add_topic(a, "trade"), NW_OK);
    a->topics[0].seq = 3;
    a->seq = 11;
}

/* Runs the loop until the runner has started `started` children and all have exited. */
static void s_run_until_idle(s_fixture_t *fx, nw_exec_t *ex, uint64_t started)
{
    for (int i = 0; i < 100000; i++) {
        if (nw_exec_stats(ex).started >= started && nw_exec_running(ex) == 0)
            return;
        uv_run(&fx->loop, UV_RUN_ONCE);
    }
    fail_msg("children did not finish");
}

static void s_close(s_fixture_t *fx, nw_exec_t **ex, uint64_t grace_ms)
{
    nw_exec_close(ex, grace_ms, s_on_closed, fx);
    assert_null(*ex);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_true(fx->closed);
}

static void test_alert_json_on_stdin_fields_in_env(void **state)
{
    s_fixture_t *fx = *state;
    char cmd[1024], out[600], env[600];
    snprintf(out, sizeof out, "%s/out", fx->dir);
    snprintf(env, sizeof env, "%s/out.env", fx->dir);
    snprintf(cmd, sizeof cmd,
             "/bin/sh -c 'cat > \"$1\"; env | grep ^NW_ | sort > \"$1.env\"' sh '%s'", out);
    nw_exec_t *ex = NULL;
    char err[256];
    assert_int_equal(nw_exec_new(&fx->loop, cmd, 4, 8, &ex, err, sizeof err), NW_OK);
    nw_alert_t a;
    s_alert(&a, "Duties rise");
    assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_OK);
    s_run_until_idle(fx, ex, 1);
    assert_int_equal(nw_exec_stats(ex).failed, 0);
    s_close(fx, &ex, 1000);
    char *json = nw_test_read_file(out, NULL);
    assert_non_null(json);
    assert_int_equal(json[0], '{');
    assert_non_null(strstr(json, "\"text\":\"Duties rise\"}\n"));
    char *vars = nw_test_read_file(env, NULL);
    assert_non_null(strstr(vars, "NW_TOPIC=tariffs\n"));
    assert_non_null(strstr(vars, "NW_TOPICS=tariffs,trade\n"));
    assert_non_null(strstr(vars, "NW_ID=0123456789abcdef.1\n"));
    assert_non_null(strstr(vars, "NW_SEQ=11\n"));
    assert_non_null(strstr(vars, "NW_TOPIC_SEQ=3\n"));
    assert_non_null(strstr(vars, "NW_TITLE=T \"q\" $(x) `y`\n"));
    assert_non_null(strstr(vars, "NW_PRIORITY=normal\n"));
    assert_non_null(strstr(vars, "NW_URL=\n"));
    assert_non_null(strstr(vars, "NW_REVISION=1\n"));
    assert_null(strstr(vars, "NW_TEXT"));
    free(json);
    free(vars);
    nw_alert_clear(&a);
}

/* F13: a title with a newline cannot forge another variable for a hook that reads `env`. */
static void test_env_values_carry_no_control_characters(void **state)
{
    s_fixture_t *fx = *state;
    char cmd[1024], env[600];
    snprintf(env, sizeof env, "%s/forged.env", fx->dir);
    snprintf(cmd, sizeof cmd, "/bin/sh -c 'cat >/dev/null; env > \"$1\"' sh '%s'", env);
    nw_exec_t *ex = NULL;
    char err[256];
    assert_int_equal(nw_exec_new(&fx->loop, cmd, 1, 8, &ex, err, sizeof err), NW_OK);
    nw_alert_t a;
    s_alert(&a, "Duties rise");
    assert_int_equal(nw_alert_set(&a.title, "Calm\nNW_SEQ=999\r\x1b[2J\tend"), NW_OK);
    assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_OK);
    s_run_until_idle(fx, ex, 1);
    s_close(fx, &ex, 1000);
    char *vars = nw_test_read_file(env, NULL);
    assert_non_null(vars);
    assert_non_null(strstr(vars, "NW_TITLE=Calm NW_SEQ=999  [2J end\n"));
    assert_null(strstr(vars, "\nNW_SEQ=999"));
    assert_non_null(strstr(vars, "\nNW_SEQ=11\n"));
    free(vars);
    nw_alert_clear(&a);
}

static void test_alert_text_executes_nothing(void **state)
{
    s_fixture_t *fx = *state;
    char cmd[1024], out[600], text[2048], pwned[600];
    snprintf(out, sizeof out, "%s/out", fx->dir);
    snprintf(pwned, sizeof pwned, "%s/pwned", fx->dir);
    snprintf(text, sizeof text, "$(touch %s) `touch %s` \"; touch %s; '\\'", pwned, pwned, pwned);
    snprintf(cmd, sizeof cmd, "/bin/sh -c 'cat > \"$1\"' sh '%s'", out);
    nw_exec_t *ex = NULL;
    char err[256];
    assert_int_equal(nw_exec_new(&fx->loop, cmd, 4, 8, &ex, err, sizeof err), NW_OK);
    nw_alert_t a;
    s_alert(&a, text);
    assert_int_equal(nw_alert_set(&a.title, text), NW_OK);
    assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_OK);
    s_run_until_idle(fx, ex, 1);
    s_close(fx, &ex, 1000);
    assert_int_not_equal(access(pwned, F_OK), 0);
    char *json = nw_test_read_file(out, NULL);
    assert_non_null(strstr(json, "$(touch "));
    free(json);
    nw_alert_clear(&a);
}

static void test_concurrency_bound_and_full_queue_drops(void **state)
{
    s_fixture_t *fx = *state;
    nw_exec_t *ex = NULL;
    char err[256];
    assert_int_equal(
        nw_exec_new(&fx->loop, "/bin/sh -c 'cat >/dev/null'", 1, 1, &ex, err, sizeof err), NW_OK);
    nw_alert_t a;
    s_alert(&a, "x");
    assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_OK); /* runs */
    assert_int_equal(nw_exec_running(ex), 1);
    assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_OK); /* waits */
    assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_ERR_TOOBIG);
    assert_int_equal(nw_exec_running(ex), 1);
    s_run_until_idle(fx, ex, 2);
    nw_exec_stats_t st = nw_exec_stats(ex);
    assert_int_equal(st.started, 2);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.failed, 0);
    s_close(fx, &ex, 1000);
    nw_alert_clear(&a);
}

static void test_failures_are_counted_not_fatal(void **state)
{
    s_fixture_t *fx = *state;
    nw_exec_t *missing = NULL, *failing = NULL;
    char err[256];
    assert_int_equal(nw_exec_new(&fx->loop, "/nonexistent/hook", 2, 4, &missing, err, sizeof err),
                     NW_OK);
    assert_int_equal(nw_exec_new(&fx->loop, "/bin/false", 2, 4, &failing, err, sizeof err), NW_OK);
    nw_alert_t a;
    s_alert(&a, "x");
    assert_int_equal(nw_exec_run(missing, &a, "tariffs", NULL), NW_OK);
    assert_int_equal(nw_exec_run(failing, &a, "tariffs", NULL), NW_OK);
    s_run_until_idle(fx, failing, 1);
    assert_int_equal(nw_exec_stats(missing).failed, 1);
    assert_int_equal(nw_exec_stats(missing).started, 0);
    assert_int_equal(nw_exec_stats(failing).failed, 1);
    s_close(fx, &missing, 1000);
    fx->closed = false;
    s_close(fx, &failing, 1000);
    nw_alert_clear(&a);
}

static void test_close_kills_children_after_grace(void **state)
{
    s_fixture_t *fx = *state;
    nw_exec_t *ex = NULL;
    char err[256];
    assert_int_equal(nw_exec_new(&fx->loop, "/bin/sleep 30", 2, 4, &ex, err, sizeof err), NW_OK);
    nw_alert_t a;
    s_alert(&a, "x");
    assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_OK);
    assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_OK);
    assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_OK); /* queued: dropped at close */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s_close(fx, &ex, 100);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(sec < 5.0);
    nw_alert_clear(&a);
}

/* Seconds since t0. */
static double s_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_timeout_kills_child_and_frees_the_slot(void **state)
{
    s_fixture_t *fx = *state;
    nw_exec_t *ex = NULL;
    char err[256];
    /* One slot: the second alert can only run once the first child is gone. */
    assert_int_equal(nw_exec_new(&fx->loop, "/bin/sleep 1000", 1, 4, &ex, err, sizeof err), NW_OK);
    nw_exec_set_timeout(ex, 200, 1000);
    nw_alert_t a;
    s_alert(&a, "x");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_OK);
    assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_OK); /* waits for the slot */
    s_run_until_idle(fx, ex, 2);
    double sec = s_since(&t0);
    assert_true(sec >= 0.35); /* two children, each killed no earlier than 200 ms */
    assert_true(sec < 5.0);   /* SIGTERM did it: no SIGKILL grace, nowhere near 1000 s */
    nw_exec_stats_t st = nw_exec_stats(ex);
    assert_int_equal(st.started, 2);
    assert_int_equal(st.timed_out, 2);
    assert_int_equal(st.failed, 2); /* counted once each, not again as "killed by signal" */
    assert_int_equal(st.dropped, 0);
    s_close(fx, &ex, 1000);
    nw_alert_clear(&a);
}

static void test_timeout_sigkills_a_child_ignoring_sigterm(void **state)
{
    s_fixture_t *fx = *state;
    nw_exec_t *ex = NULL;
    char err[256];
    /* An ignored signal stays ignored across exec: sleep itself ignores SIGTERM. The trap is
     * set well before the 300 ms timeout. */
    assert_int_equal(nw_exec_new(&fx->loop, "/bin/sh -c 'trap \"\" TERM; exec /bin/sleep 1000'", 1,
                                 4, &ex, err, sizeof err),
                     NW_OK);
    nw_exec_set_timeout(ex, 300, 300);
    nw_alert_t a;
    s_alert(&a, "x");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_OK);
    s_run_until_idle(fx, ex, 1);
    double sec = s_since(&t0);
    assert_true(sec >= 0.55); /* timeout, then the grace after SIGTERM */
    assert_true(sec < 5.0);
    assert_int_equal(nw_exec_stats(ex).timed_out, 1);
    assert_int_equal(nw_exec_stats(ex).failed, 1);
    s_close(fx, &ex, 1000);
    nw_alert_clear(&a);
}

static void test_timeout_spares_children_that_finish(void **state)
{
    s_fixture_t *fx = *state;
    nw_exec_t *ex = NULL;
    char err[256];
    assert_int_equal(
        nw_exec_new(&fx->loop, "/bin/sh -c 'cat >/dev/null'", 2, 4, &ex, err, sizeof err), NW_OK);
    nw_exec_set_timeout(ex, 10000, 1000);
    nw_alert_t a;
    s_alert(&a, "x");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(nw_exec_run(ex, &a, "tariffs", NULL), NW_OK);
    s_run_until_idle(fx, ex, 3);
    nw_exec_stats_t st = nw_exec_stats(ex);
    assert_int_equal(st.timed_out, 0);
    assert_int_equal(st.failed, 0);
    /* The timers went with their children: closing does not wait for 10 s. */
    s_close(fx, &ex, 1000);
    assert_true(s_since(&t0) < 5.0);
    nw_alert_clear(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_blanks_and_quotes),
        cmocka_unit_test(test_split_escapes_inside_double_quotes),
        cmocka_unit_test(test_split_expands_nothing),
        cmocka_unit_test(test_split_errors_name_the_flag),
        cmocka_unit_test_setup_teardown(test_alert_json_on_stdin_fields_in_env, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_env_values_carry_no_control_characters, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_alert_text_executes_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_concurrency_bound_and_full_queue_drops, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_failures_are_counted_not_fatal, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_close_kills_children_after_grace, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_kills_child_and_frees_the_slot, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_sigkills_a_child_ignoring_sigterm, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_spares_children_that_finish, s_setup,
                                        s_teardown),
    };
    signal(SIGPIPE, SIG_IGN); /* as nw_exec.h asks of its users */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
