/* Tests for subscriber/nw_deliver: the end of the delivery path (filter, dedup, the JSON
 * rendered once for every sink that wants it, the counters). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nw_deliver.h"
#include "nw_error.h"

/* What one sink saw. */
typedef struct {
    size_t calls;
    const char *json[8]; /* the pointers it was given */
    char last_json[512]; /* a copy of the last one */
    char last_id[64];
} s_seen_t;

static void s_sink(const nw_delivery_t *dv, void *self)
{
    s_seen_t *seen = self;
    if (seen->calls < 8)
        seen->json[seen->calls] = dv->json;
    seen->calls++;
    snprintf(seen->last_json, sizeof seen->last_json, "%s", dv->json ? dv->json : "(none)");
    snprintf(seen->last_id, sizeof seen->last_id, "%s", dv->alert->id);
}

static void s_alert(nw_alert_t *a, uint64_t seq, const char *topic, nw_priority_t priority)
{
    char id[32];
    snprintf(id, sizeof id, "0123456789abcdef.%llu", (unsigned long long)seq);
    assert_int_equal(nw_alert_init(a), NW_OK);
    assert_int_equal(nw_alert_set(&a->id, id), NW_OK);
    assert_int_equal(nw_alert_set(&a->text, "text"), NW_OK);
    assert_int_equal(nw_alert_set(&a->stream, "feedfacecafebeef"), NW_OK);
    assert_int_equal(nw_alert_add_topic(a, topic), NW_OK);
    a->seq = seq;
    a->priority = priority;
}

static void test_json_rendered_once_and_shared(void **state)
{
    (void)state;
    nw_filter_t *f;
    nw_deliver_t *d;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    assert_int_equal(nw_deliver_new(f, &d), NW_OK);
    s_seen_t text = {0}, log = {0}, hook = {0};
    assert_int_equal(nw_deliver_add_sink(d, &(nw_sink_t){"text", false, s_sink, &text}), NW_OK);
    assert_int_equal(nw_deliver_add_sink(d, &(nw_sink_t){"log", true, s_sink, &log}), NW_OK);
    assert_int_equal(nw_deliver_add_sink(d, &(nw_sink_t){"hook", true, s_sink, &hook}), NW_OK);
    nw_alert_t a;
    s_alert(&a, 7, "tariffs", NW_PRIORITY_NORMAL);
    assert_true(nw_deliver_alert(d, &a, "tariffs"));
    /* Both JSON sinks got the very same rendering; the text sink got it too (no cost). */
    assert_non_null(log.json[0]);
    assert_ptr_equal(log.json[0], hook.json[0]);
    assert_non_null(strstr(log.last_json, "\"id\":\"0123456789abcdef.7\""));
    assert_null(strchr(log.last_json, '\n'));
    assert_int_equal(text.calls, 1);
    nw_alert_clear(&a);
    nw_deliver_destroy(&d);
    nw_filter_destroy(&f);
}

static void test_filter_and_duplicates_counted_not_delivered(void **state)
{
    (void)state;
    nw_filter_t *f;
    nw_deliver_t *d;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    nw_filter_set_min_priority(f, NW_PRIORITY_NORMAL);
    assert_int_equal(nw_deliver_new(f, &d), NW_OK);
    s_seen_t out = {0};
    assert_int_equal(nw_deliver_add_sink(d, &(nw_sink_t){"out", false, s_sink, &out}), NW_OK);
    nw_alert_t a, low;
    s_alert(&a, 1, "tariffs", NW_PRIORITY_HIGH);
    s_alert(&low, 2, "tariffs", NW_PRIORITY_LOW);
    assert_true(nw_deliver_alert(d, &a, "tariffs"));
    assert_false(nw_deliver_alert(d, &a, "trade")); /* another topic's copy */
    assert_false(nw_deliver_alert(d, &low, "tariffs"));
    assert_int_equal(out.calls, 1);
    assert_null(out.json[0]); /* nobody wanted JSON: none rendered */
    nw_deliver_counts_t *c = nw_deliver_counts(d);
    assert_int_equal(c->delivered, 1);
    assert_int_equal(c->duplicates, 1);
    assert_int_equal(c->filtered, 1);
    for (int i = 0; i < NW_DELIVER_SINKS_MAX - 1; i++)
        assert_int_equal(nw_deliver_add_sink(d, &(nw_sink_t){"x", false, s_sink, &out}), NW_OK);
    assert_int_equal(nw_deliver_add_sink(d, &(nw_sink_t){"x", false, s_sink, &out}), NW_ERR_TOOBIG);
    nw_alert_clear(&a);
    nw_alert_clear(&low);
    nw_deliver_destroy(&d);
    nw_deliver_destroy(&d); /* twice is safe */
    nw_filter_destroy(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_rendered_once_and_shared),
        cmocka_unit_test(test_filter_and_duplicates_counted_not_delivered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
