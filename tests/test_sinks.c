/* Tests for subscriber/nw_sinks: the --log sink's sync on libuv's thread pool and a close
 * while that sync is out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "nw_deliver.h"
#include "nw_error.h"
#include "nw_sinks.h"
#include "nw_testproc.h"

typedef struct {
    char *dir;
    char path[512]; /* dir/alerts.jsonl */
    uv_loop_t loop;
    nw_filter_t *filter;
    nw_deliver_t *deliver;
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL || (f->dir = nw_test_tmpdir("test_sinks")) == NULL ||
        uv_loop_init(&f->loop) != 0 || nw_filter_new(&f->filter) != NW_OK ||
        nw_deliver_new(f->filter, &f->deliver) != NW_OK)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/alerts.jsonl", f->dir);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    nw_deliver_destroy(&f->deliver);
    nw_filter_destroy(&f->filter);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&f->loop);
    nw_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Delivers alert number seq of a made-up stream on topic tariffs. */
static void s_deliver(s_fixture_t *f, uint64_t seq)
{
    nw_alert_t a;
    char id[32];
    snprintf(id, sizeof id, "0123456789abcdef.%llu", (unsigned long long)seq);
    assert_int_equal(nw_alert_init(&a), NW_OK);
    assert_int_equal(nw_alert_set(&a.id, id), NW_OK);
    assert_int_equal(nw_alert_set(&a.text, "text"), NW_OK);
    assert_int_equal(nw_alert_set(&a.stream, "feedfacecafebeef"), NW_OK);
    assert_int_equal(nw_alert_add_topic(&a, "tariffs"), NW_OK);
    a.seq = seq;
    assert_true(nw_deliver_alert(f->deliver, &a, "tariffs"));
    nw_alert_clear(&a);
}

/* Lines of the log file now. */
static size_t s_lines(const s_fixture_t *f)
{
    size_t n = 0;
    char *text = nw_test_read_file(f->path, NULL);
    for (const char *p = text; p != NULL && *p != '\0'; p++)
        n += *p == '\n';
    free(text);
    return n;
}

/* Sinks that only log, to the fixture's file, synced each second (--fsync interval). */
static nw_sinks_t *s_log_sinks(s_fixture_t *f)
{
    nw_sinks_opts_t o = {
        .format = "json", .quiet = true, .log_path = f->path, .fsync = NW_FSYNC_INTERVAL};
    nw_sinks_t *s = NULL;
    char err[256];
    assert_int_equal(nw_sinks_new(&f->loop, &o, f->deliver, &s, err, sizeof err), NW_OK);
    return s;
}

/* SIGTERM while the second's sync runs: nw_sinks_close must write the buffered lines before
 * it returns (the subscriber saves its state right after), even though the log itself is
 * closed only once the sync is back. */
static void test_close_during_a_sync_writes_the_buffered_lines_first(void **state)
{
    s_fixture_t *f = *state;
    nw_sinks_t *s = s_log_sinks(f);
    s_deliver(f, 1);
    nw_sinks_tick(s); /* writes line 1, starts its sync on the thread pool */
    assert_int_equal(s_lines(f), 1);
    s_deliver(f, 2); /* buffered while the sync is out */
    assert_int_equal(s_lines(f), 1);
    nw_sinks_close(&s, 0, 0, NULL);
    assert_null(s);
    assert_int_equal(s_lines(f), 2); /* before the loop has run the sync's callback */
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0); /* the close finishes */
    assert_int_equal(s_lines(f), 2);
}

/* Each tick writes the lines delivered before it, whether or not a sync is still out, and
 * the loop ends (no handle or request left) once every sync is back and the log closed. */
static void test_each_tick_writes_its_lines_and_every_sync_ends(void **state)
{
    s_fixture_t *f = *state;
    nw_sinks_t *s = s_log_sinks(f);
    for (uint64_t seq = 1; seq <= 3; seq++) {
        s_deliver(f, seq);
        nw_sinks_tick(s);
        assert_int_equal(s_lines(f), seq);
        uv_run(&f->loop, UV_RUN_NOWAIT); /* the sync's callback, when it is back */
    }
    nw_sinks_close(&s, 0, 0, NULL);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(s_lines(f), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_close_during_a_sync_writes_the_buffered_lines_first,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_each_tick_writes_its_lines_and_every_sync_ends,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
