/* Tests for subscriber/nw_gaps: sequence gaps, tail loss, restarts, silence, missing ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nw_alert.h"
#include "nw_error.h"
#include "nw_gaps.h"

#define S_A "aaaaaaaaaaaaaaaa"
#define S_B "bbbbbbbbbbbbbbbb"

/* The events a tracker reported, copied. */
typedef struct {
    nw_gaps_kind_t kind[64];
    char topic[64][32];
    uint64_t first[64], last[64], to_seq[64];
    char previous[64][32];
    size_t n;
} s_log_t;

static void s_record(const nw_gaps_event_t *ev, void *arg)
{
    s_log_t *log = arg;
    if (log->n == 64)
        return;
    log->kind[log->n] = ev->kind;
    strncpy(log->topic[log->n], ev->topic ? ev->topic : "", 31);
    log->first[log->n] = ev->first;
    log->last[log->n] = ev->last;
    log->to_seq[log->n] = ev->to_seq;
    strncpy(log->previous[log->n], ev->previous ? ev->previous : "", 31);
    log->n++;
}

/* Subscribed to everything but "energy". */
static bool s_subscribed(const char *topic, void *arg)
{
    (void)arg;
    return strcmp(topic, "energy") != 0;
}

static nw_gaps_t *s_new(s_log_t *log)
{
    memset(log, 0, sizeof *log);
    nw_gaps_t *g = NULL;
    assert_int_equal(nw_gaps_new(s_record, s_subscribed, log, &g), NW_OK);
    return g;
}

static void s_beat(nw_gaps_t *g, const char *stream, const char *topic, uint64_t seq, int64_t now)
{
    nw_alert_topic_t t = {(char *)topic, seq};
    nw_heartbeat_t hb = {.stream = (char *)stream,
                         .interval_ms = 1000,
                         .topics = &t,
                         .n_topics = topic ? 1 : 0,
                         .replay = (char *)""};
    nw_gaps_heartbeat(g, &hb, now);
}

static void test_in_order_reports_only_the_new_stream(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    for (uint64_t seq = 1; seq <= 5; seq++)
        assert_int_equal(nw_gaps_alert(g, S_A, "tariffs", seq, seq, 0), NW_GAPS_FRESH);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.kind[0], NW_GAPS_STREAM_NEW);
    nw_gaps_destroy(&g);
    assert_null(g);
}

static void test_first_number_is_the_baseline(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    /* Joined a running stream: 1..99 were before our time, not lost. */
    assert_int_equal(nw_gaps_alert(g, S_A, "tariffs", 100, 100, 0), NW_GAPS_FRESH);
    assert_int_equal(log.n, 1);
    uint64_t gaps, missed;
    nw_gaps_stats(g, &gaps, &missed);
    assert_int_equal(gaps, 0);
    nw_gaps_destroy(&g);
}

static void test_jump_reports_missed_range(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    nw_gaps_alert(g, S_A, "tariffs", 1, 1, 0);
    assert_int_equal(nw_gaps_alert(g, S_A, "tariffs", 5, 5, 0), NW_GAPS_FRESH);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.kind[1], NW_GAPS_MISSED);
    assert_string_equal(log.topic[1], "tariffs");
    assert_int_equal(log.first[1], 2);
    assert_int_equal(log.last[1], 4);
    nw_gaps_range_t r[4];
    assert_int_equal(nw_gaps_missing(g, S_A, "tariffs", r, 4), 1);
    assert_int_equal(r[0].first, 2);
    assert_int_equal(r[0].last, 4);
    uint64_t gaps, missed;
    nw_gaps_stats(g, &gaps, &missed);
    assert_int_equal(gaps, 1);
    assert_int_equal(missed, 3);
    nw_gaps_destroy(&g);
}

static void test_topics_are_tracked_separately(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    nw_gaps_alert(g, S_A, "tariffs", 1, 1, 0);
    nw_gaps_alert(g, S_A, "defense", 1, 1, 0);
    nw_gaps_alert(g, S_A, "tariffs", 2, 2, 0);
    nw_gaps_alert(g, S_A, "defense", 2, 2, 0);
    assert_int_equal(log.n, 1);
    nw_gaps_destroy(&g);
}

static void test_late_arrival_fills_the_hole(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    nw_gaps_alert(g, S_A, "tariffs", 1, 1, 0);
    nw_gaps_alert(g, S_A, "tariffs", 10, 10, 0); /* 2..9 missing */
    assert_int_equal(nw_gaps_alert(g, S_A, "tariffs", 5, 5, 0), NW_GAPS_FILLED);
    assert_int_equal(log.kind[log.n - 1], NW_GAPS_LATE);
    nw_gaps_range_t r[4];
    assert_int_equal(nw_gaps_missing(g, S_A, "tariffs", r, 4), 2);
    assert_int_equal(r[0].first, 2);
    assert_int_equal(r[0].last, 4);
    assert_int_equal(r[1].first, 6);
    assert_int_equal(r[1].last, 9);
    assert_int_equal(nw_gaps_alert(g, S_A, "tariffs", 2, 2, 0), NW_GAPS_FILLED);
    assert_int_equal(nw_gaps_alert(g, S_A, "tariffs", 9, 9, 0), NW_GAPS_FILLED);
    assert_int_equal(nw_gaps_missing(g, S_A, "tariffs", r, 4), 2);
    assert_int_equal(r[0].first, 3);
    assert_int_equal(r[1].last, 8);
    nw_gaps_destroy(&g);
}

static void test_repeat_is_old(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    nw_gaps_alert(g, S_A, "tariffs", 1, 1, 0);
    nw_gaps_alert(g, S_A, "tariffs", 2, 2, 0);
    assert_int_equal(nw_gaps_alert(g, S_A, "tariffs", 2, 2, 0), NW_GAPS_OLD);
    assert_int_equal(nw_gaps_alert(g, S_A, "tariffs", 1, 1, 0), NW_GAPS_OLD);
    nw_gaps_destroy(&g);
}

static void test_unnumbered_is_not_tracked(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    assert_int_equal(nw_gaps_alert(g, "", "tariffs", 0, 0, 0), NW_GAPS_FRESH);
    assert_int_equal(log.n, 0);
    nw_gaps_destroy(&g);
}

static void test_heartbeat_reveals_tail_loss(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    nw_gaps_alert(g, S_A, "tariffs", 1, 1, 0);
    nw_gaps_alert(g, S_A, "tariffs", 2, 2, 0);
    s_beat(g, S_A, "tariffs", 4, 100); /* 3 and 4 were sent; we never got them */
    assert_int_equal(log.kind[log.n - 1], NW_GAPS_TAIL);
    assert_int_equal(log.first[log.n - 1], 3);
    assert_int_equal(log.last[log.n - 1], 4);
    /* The next alert continues from there without a second report. */
    size_t before = log.n;
    assert_int_equal(nw_gaps_alert(g, S_A, "tariffs", 5, 5, 200), NW_GAPS_FRESH);
    assert_int_equal(log.n, before);
    nw_gaps_destroy(&g);
}

static void test_heartbeat_ignores_unsubscribed_topics(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    s_beat(g, S_A, "energy", 1, 0);
    s_beat(g, S_A, "energy", 50, 100);
    assert_int_equal(log.n, 1); /* STREAM_NEW only */
    nw_gaps_destroy(&g);
}

static void test_heartbeat_baseline_then_new_topic_counts_from_zero(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    s_beat(g, S_A, "tariffs", 10, 0); /* baseline: tariffs at 10, nothing else sent yet */
    assert_int_equal(log.n, 1);
    /* defense was not in that heartbeat, so its 1 and 2 were sent after it and lost. */
    nw_gaps_alert(g, S_A, "defense", 3, 3, 10);
    assert_int_equal(log.kind[log.n - 1], NW_GAPS_MISSED);
    assert_int_equal(log.first[log.n - 1], 1);
    assert_int_equal(log.last[log.n - 1], 2);
    nw_gaps_destroy(&g);
}

static void test_a_second_stream_heard_beside_the_first_joined(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    s_beat(g, S_A, "tariffs", 7, 0);
    /* Another publisher: its numbers are its own; no gap is claimed. */
    assert_int_equal(nw_gaps_alert(g, S_B, "tariffs", 1, 1, 10), NW_GAPS_FRESH);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.kind[1], NW_GAPS_STREAM_NEW);
    assert_string_equal(log.previous[1], S_A);
    /* A is heard again: B joined it. Said once, however often both are heard. */
    s_beat(g, S_A, "tariffs", 7, 20);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.kind[2], NW_GAPS_STREAM_JOINED);
    assert_string_equal(log.previous[2], S_A);
    for (int64_t t = 30; t < 10000; t += 500) {
        nw_gaps_alert(g, S_B, "tariffs", 1, 1, t);
        s_beat(g, S_A, "tariffs", 7, t);
        nw_gaps_tick(g, t);
    }
    assert_int_equal(log.n, 3);
    nw_gaps_destroy(&g);
}

static void test_a_new_stream_while_the_old_one_stays_quiet_replaced_it(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    s_beat(g, S_A, "tariffs", 7, 1000); /* interval 1000 ms */
    nw_gaps_alert(g, S_B, "tariffs", 1, 1, 1100);
    nw_gaps_tick(g, 2000); /* 0.9 s: too early to say */
    assert_int_equal(log.n, 2);
    nw_gaps_tick(g, 3200); /* A quiet for over two of its intervals since B appeared */
    assert_int_equal(log.n, 3);
    assert_int_equal(log.kind[2], NW_GAPS_STREAM_REPLACED);
    assert_string_equal(log.previous[2], S_A);
    s_beat(g, S_A, "tariffs", 7, 3300); /* decided: not reported again as joined */
    assert_int_equal(log.n, 3);
    nw_gaps_destroy(&g);
}

static void test_loss_events_carry_the_global_bound_for_the_repair(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    nw_gaps_alert(g, S_A, "tariffs", 1, 10, 0);
    nw_gaps_alert(g, S_A, "tariffs", 4, 25, 0); /* tseq 2-3 missed: they came before seq 25 */
    assert_int_equal(log.kind[log.n - 1], NW_GAPS_MISSED);
    assert_int_equal(log.to_seq[log.n - 1], 24);
    nw_alert_topic_t t = {(char *)"tariffs", 6};
    nw_heartbeat_t hb = {
        .stream = (char *)S_A, .seq = 31, .interval_ms = 1000, .topics = &t, .n_topics = 1};
    nw_gaps_heartbeat(g, &hb, 0); /* tseq 5-6 sent by seq 31 */
    assert_int_equal(log.kind[log.n - 1], NW_GAPS_TAIL);
    assert_int_equal(log.to_seq[log.n - 1], 31);
    nw_gaps_destroy(&g);
}

static void test_silent_after_three_intervals_then_alive(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    s_beat(g, S_A, NULL, 0, 1000);
    nw_gaps_tick(g, 3900); /* 2.9 intervals: fine */
    assert_int_equal(log.n, 1);
    nw_gaps_tick(g, 4100);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.kind[1], NW_GAPS_SILENT);
    nw_gaps_tick(g, 9000); /* reported once per silence */
    assert_int_equal(log.n, 2);
    s_beat(g, S_A, NULL, 0, 9500);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.kind[2], NW_GAPS_ALIVE);
    nw_gaps_destroy(&g);
}

static void test_no_heartbeat_ever_is_not_silence(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    nw_gaps_alert(g, S_A, "tariffs", 1, 1, 0);
    nw_gaps_tick(g, 1000000);
    assert_int_equal(log.n, 1);
    nw_gaps_destroy(&g);
}

static void test_missing_ranges_are_bounded(void **state)
{
    (void)state;
    s_log_t log;
    nw_gaps_t *g = s_new(&log);
    nw_gaps_alert(g, S_A, "tariffs", 1, 1, 0);
    for (uint64_t i = 0; i < NW_GAPS_RANGES_MAX + 5; i++)
        nw_gaps_alert(g, S_A, "tariffs", 3 + 2 * i, 3 + 2 * i, 0); /* skips one each time */
    nw_gaps_range_t r[NW_GAPS_RANGES_MAX];
    assert_int_equal(nw_gaps_missing(g, S_A, "tariffs", r, NW_GAPS_RANGES_MAX), NW_GAPS_RANGES_MAX);
    assert_int_equal(r[0].first, 2 + 2 * 5); /* the five oldest were forgotten */
    nw_gaps_destroy(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_reports_only_the_new_stream),
        cmocka_unit_test(test_first_number_is_the_baseline),
        cmocka_unit_test(test_jump_reports_missed_range),
        cmocka_unit_test(test_topics_are_tracked_separately),
        cmocka_unit_test(test_late_arrival_fills_the_hole),
        cmocka_unit_test(test_repeat_is_old),
        cmocka_unit_test(test_unnumbered_is_not_tracked),
        cmocka_unit_test(test_heartbeat_reveals_tail_loss),
        cmocka_unit_test(test_heartbeat_ignores_unsubscribed_topics),
        cmocka_unit_test(test_heartbeat_baseline_then_new_topic_counts_from_zero),
        cmocka_unit_test(test_a_second_stream_heard_beside_the_first_joined),
        cmocka_unit_test(test_a_new_stream_while_the_old_one_stays_quiet_replaced_it),
        cmocka_unit_test(test_loss_events_carry_the_global_bound_for_the_repair),
        cmocka_unit_test(test_silent_after_three_intervals_then_alive),
        cmocka_unit_test(test_no_heartbeat_ever_is_not_silence),
        cmocka_unit_test(test_missing_ranges_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
