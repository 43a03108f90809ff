/* Tests for subscriber/nw_stdout: standard output written from the loop without blocking
 * it, with a real pipe whose reader the test controls. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nw_error.h"
#include "nw_stdout.h"

typedef struct {
    uv_loop_t loop;
    int pipe[2];      /* the test reads pipe[0]; nw_stdout writes pipe[1] */
    nw_stdout_t *out; /* under test */
    int gone_err;     /* on_gone's errno, 0 until called */
    bool closed;      /* on_closed ran */
} s_fx_t;

static void s_gone(int err, void *arg)
{
    ((s_fx_t *)arg)->gone_err = err;
}

static void s_closed(void *arg)
{
    ((s_fx_t *)arg)->closed = true;
}

static int s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    if (fx == NULL || uv_loop_init(&fx->loop) != 0 || pipe(fx->pipe) != 0)
        return -1;
    fcntl(fx->pipe[0], F_SETFL, O_NONBLOCK);
    if (nw_stdout_new(&fx->loop, fx->pipe[1], s_gone, fx, &fx->out) != NW_OK)
        return -1;
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx_t *fx = *state;
    nw_stdout_close(&fx->out, 0, NULL, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_loop_close(&fx->loop);
    close(fx->pipe[0]);
    close(fx->pipe[1]);
    free(fx);
    return 0;
}

/* Reads what the pipe holds now into buf at *got (up to cap). */
static void s_drain(s_fx_t *fx, char *buf, size_t cap, size_t *got)
{
    ssize_t n;
    while (*got < cap && (n = read(fx->pipe[0], buf + *got, cap - *got)) > 0)
        *got += (size_t)n;
}

/* 1 MB through a 64 KB pipe: no call blocks, and the reader gets every byte in order. */
static void test_a_slow_reader_gets_everything_in_order(void **state)
{
    s_fx_t *fx = *state;
    enum { RECORD = 4000, N = 256 };
    char record[RECORD];
    for (int i = 0; i < N; i++) {
        memset(record, 'a' + i % 26, sizeof record);
        assert_int_equal(nw_stdout_write(fx->out, record, sizeof record), NW_OK);
    }
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    assert_true(nw_stdout_pending(fx->out) > 0); /* the pipe is full: the rest waits */
    assert_true(nw_stdout_stats(fx->out).stalls > 0);
    char *got = malloc((size_t)RECORD * N);
    size_t n = 0;
    for (int turns = 0; turns < 100000 && n < (size_t)RECORD * N; turns++) {
        s_drain(fx, got, (size_t)RECORD * N, &n);
        uv_run(&fx->loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(n, (size_t)RECORD * N);
    for (int i = 0; i < N; i++)
        assert_int_equal(got[(size_t)i * RECORD + RECORD - 1], 'a' + i % 26);
    assert_int_equal(nw_stdout_pending(fx->out), 0);
    free(got);
}

/* Nobody reads: records past NW_STDOUT_MAX are dropped whole and counted; closing waits at
 * most its grace, then drops the rest. */
static void test_a_stalled_reader_bounds_memory_and_close_gives_up(void **state)
{
    s_fx_t *fx = *state;
    static char record[64 * 1024];
    memset(record, 'x', sizeof record);
    size_t dropped = 0;
    for (size_t i = 0; i < NW_STDOUT_MAX / sizeof record + 8; i++) {
        int rc = nw_stdout_write(fx->out, record, sizeof record);
        assert_true(rc == NW_OK || rc == NW_ERR_TOOBIG);
        dropped += rc == NW_ERR_TOOBIG;
        uv_run(&fx->loop, UV_RUN_NOWAIT);
    }
    assert_true(dropped > 0);
    assert_int_equal(nw_stdout_stats(fx->out).dropped, dropped);
    assert_true(nw_stdout_pending(fx->out) <= NW_STDOUT_MAX);
    nw_stdout_close(&fx->out, 50, s_closed, fx);
    assert_null(fx->out);
    uv_run(&fx->loop, UV_RUN_DEFAULT); /* returns: the grace ends it */
    assert_true(fx->closed);
    assert_int_equal(fx->gone_err, 0);
}

/* The reader goes away (| head): on_gone with EPIPE, and nothing more is taken. */
static void test_a_reader_that_goes_away_is_reported_once(void **state)
{
    s_fx_t *fx = *state;
    close(fx->pipe[0]);
    fx->pipe[0] = open("/dev/null", O_RDONLY); /* for the teardown's close */
    assert_int_equal(nw_stdout_write(fx->out, "line\n", 5), NW_OK);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    assert_int_equal(fx->gone_err, EPIPE);
    assert_int_equal(nw_stdout_write(fx->out, "more\n", 5), NW_ERR_STOPPED);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_slow_reader_gets_everything_in_order, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_stalled_reader_bounds_memory_and_close_gives_up,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_reader_that_goes_away_is_reported_once, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
