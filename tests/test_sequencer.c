/* Tests for publisher/daemon/nw_sequencer: stream ids, global and per-topic sequence numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nw_error.h"
#include "nw_sequencer.h"
#include "nw_stream_id.h"

static nw_sequencer_t *s_new(void)
{
    nw_sequencer_t *seqr = NULL;
    assert_int_equal(nw_sequencer_new("0123456789abcdef", &seqr), NW_OK);
    return seqr;
}

/* An unnumbered alert on the given topics (a NULL-terminated list). */
static void s_alert(nw_alert_t *alert, const char *const *topics)
{
    assert_int_equal(nw_alert_init(alert), NW_OK);
    for (size_t i = 0; topics[i] != NULL; i++)
        assert_int_equal(nw_alert_add_topic(alert, topics[i]), NW_OK);
}

static void test_stream_id_is_16_hex_and_random(void **state)
{
    (void)state;
    char a[NW_STREAM_ID_LEN + 1], b[NW_STREAM_ID_LEN + 1];
    assert_int_equal(nw_stream_id_new(a), NW_OK);
    assert_int_equal(nw_stream_id_new(b), NW_OK);
    assert_true(nw_stream_id_valid(a, strlen(a)));
    assert_int_equal(strlen(a), NW_STREAM_ID_LEN);
    assert_string_not_equal(a, b);
    assert_false(nw_stream_id_valid("0123456789ABCDEF", 16));
    assert_false(nw_stream_id_valid("0123", 4));
}

static void test_new_rejects_a_bad_stream_id(void **state)
{
    (void)state;
    nw_sequencer_t *seqr = NULL;
    assert_int_equal(nw_sequencer_new("not-hex", &seqr), NW_ERR_INVAL);
    assert_null(seqr);
}

static void test_global_seq_counts_alerts_from_1(void **state)
{
    (void)state;
    nw_sequencer_t *seqr = s_new();
    for (uint64_t want = 1; want <= 3; want++) {
        nw_alert_t alert;
        s_alert(&alert, (const char *[]){"tariffs", "trade", NULL});
        assert_int_equal(nw_sequencer_number(seqr, &alert), NW_OK);
        assert_int_equal(alert.seq, want);
        assert_string_equal(alert.stream, "0123456789abcdef");
        nw_alert_clear(&alert);
    }
    assert_int_equal(nw_sequencer_last(seqr), 3);
    nw_sequencer_destroy(&seqr);
    assert_null(seqr);
}

static void test_topic_seqs_count_each_topic_apart(void **state)
{
    (void)state;
    nw_sequencer_t *seqr = s_new();
    nw_alert_t a, b, c;
    s_alert(&a, (const char *[]){"tariffs", "trade", NULL});
    s_alert(&b, (const char *[]){"defense", NULL});
    s_alert(&c, (const char *[]){"trade", "defense", NULL});
    assert_int_equal(nw_sequencer_number(seqr, &a), NW_OK);
    assert_int_equal(nw_sequencer_number(seqr, &b), NW_OK);
    assert_int_equal(nw_sequencer_number(seqr, &c), NW_OK);
    assert_int_equal(a.topics[0].seq, 1); /* tariffs */
    assert_int_equal(a.topics[1].seq, 1); /* trade */
    assert_int_equal(b.topics[0].seq, 1); /* defense */
    assert_int_equal(c.topics[0].seq, 2); /* trade */
    assert_int_equal(c.topics[1].seq, 2); /* defense */
    assert_int_equal(c.seq, 3);
    nw_alert_clear(&a);
    nw_alert_clear(&b);
    nw_alert_clear(&c);
    nw_sequencer_destroy(&seqr);
}

static void test_alert_without_topics_is_refused_and_uncounted(void **state)
{
    (void)state;
    nw_sequencer_t *seqr = s_new();
    nw_alert_t alert;
    s_alert(&alert, (const char *[]){NULL});
    assert_int_equal(nw_sequencer_number(seqr, &alert), NW_ERR_INVAL);
    assert_int_equal(alert.seq, 0);
    assert_int_equal(nw_sequencer_last(seqr), 0);
    nw_alert_clear(&alert);
    nw_sequencer_destroy(&seqr);
}

static void test_heartbeat_carries_stream_and_latest_numbers(void **state)
{
    (void)state;
    nw_sequencer_t *seqr = s_new();
    nw_alert_t a;
    s_alert(&a, (const char *[]){"trade", "defense", NULL});
    assert_int_equal(nw_sequencer_number(seqr, &a), NW_OK);
    nw_heartbeat_t hb;
    assert_int_equal(nw_sequencer_heartbeat(seqr, 1234, 1000, "", &hb), NW_OK);
    assert_string_equal(hb.stream, "0123456789abcdef");
    assert_int_equal(hb.seq, 1);
    assert_int_equal(hb.time_ms, 1234);
    assert_int_equal(hb.interval_ms, 1000);
    assert_string_equal(hb.replay, "");
    assert_int_equal(hb.n_topics, 2);
    assert_string_equal(hb.topics[0].name, "defense"); /* name order */
    assert_string_equal(hb.topics[1].name, "trade");
    assert_int_equal(hb.topics[1].seq, 1);
    nw_heartbeat_clear(&hb);
    nw_alert_clear(&a);
    nw_sequencer_destroy(&seqr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_id_is_16_hex_and_random),
        cmocka_unit_test(test_new_rejects_a_bad_stream_id),
        cmocka_unit_test(test_global_seq_counts_alerts_from_1),
        cmocka_unit_test(test_topic_seqs_count_each_topic_apart),
        cmocka_unit_test(test_alert_without_topics_is_refused_and_uncounted),
        cmocka_unit_test(test_heartbeat_carries_stream_and_latest_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
