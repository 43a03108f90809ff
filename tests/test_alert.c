/* Tests for proto/nw_alert: the alert model's init, clear, copy, topics and names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nw_alert.h"
#include "nw_error.h"

static void test_init_gives_empty_strings_and_defaults(void **state)
{
    (void)state;
    nw_alert_t a;
    memset(&a, 0x5a, sizeof a); /* init must not depend on what was there */
    assert_int_equal(nw_alert_init(&a), NW_OK);
    const char *strings[] = {a.id,     a.article_id, a.text,    a.title, a.source,
                             a.author, a.place,      a.section, a.stream};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        assert_non_null(strings[i]);
        assert_string_equal(strings[i], "");
    }
    assert_int_equal(a.kind, NW_KIND_HEADLINE);
    assert_int_equal(a.priority, NW_PRIORITY_NORMAL);
    assert_int_equal(a.n_topics, 0);
    assert_true(a.seq == 0 && a.index == 0 && a.published_ms == 0);
    nw_alert_clear(&a);
}

static void test_clear_zeroes_and_is_safe_twice(void **state)
{
    (void)state;
    nw_alert_t a;
    assert_int_equal(nw_alert_init(&a), NW_OK);
    assert_int_equal(nw_alert_add_topic(&a, "markets"), NW_OK);
    nw_alert_clear(&a);
    assert_null(a.id);
    assert_null(a.text);
    assert_int_equal(a.n_topics, 0);
    nw_alert_clear(&a);
    nw_alert_t zero = {0};
    nw_alert_clear(&zero);
}

static void test_set_replaces_with_a_copy(void **state)
{
    (void)state;
    nw_alert_t a;
    char title[] = "first";
    assert_int_equal(nw_alert_init(&a), NW_OK);
    assert_int_equal(nw_alert_set(&a.title, title), NW_OK);
    title[0] = 'F';
    assert_string_equal(a.title, "first");
    assert_int_equal(nw_alert_set(&a.title, "second"), NW_OK);
    assert_string_equal(a.title, "second");
    /* the field's allocation grows and shrinks with the value */
    char long_title[5000];
    memset(long_title, 'x', sizeof long_title - 1);
    long_title[sizeof long_title - 1] = '\0';
    assert_int_equal(nw_alert_set(&a.title, long_title), NW_OK);
    assert_string_equal(a.title, long_title);
    assert_int_equal(nw_alert_set(&a.title, ""), NW_OK);
    assert_string_equal(a.title, "");
    nw_alert_clear(&a);
}

static void test_add_topic_appends_with_seq_zero(void **state)
{
    (void)state;
    nw_alert_t a;
    assert_int_equal(nw_alert_init(&a), NW_OK);
    assert_int_equal(nw_alert_add_topic(&a, "trade.tariffs"), NW_OK);
    assert_int_equal(nw_alert_add_topic(&a, "markets"), NW_OK);
    assert_int_equal(a.n_topics, 2);
    assert_string_equal(a.topics[0].name, "trade.tariffs");
    assert_string_equal(a.topics[1].name, "markets");
    assert_true(a.topics[1].seq == 0);
    nw_alert_clear(&a);
}

static void test_add_topic_rejects_invalid_names(void **state)
{
    (void)state;
    nw_alert_t a;
    assert_int_equal(nw_alert_init(&a), NW_OK);
    assert_int_equal(nw_alert_add_topic(&a, "Markets"), NW_ERR_TOPIC);
    assert_int_equal(nw_alert_add_topic(&a, ""), NW_ERR_TOPIC);
    assert_int_equal(nw_alert_add_topic(&a, "$nw.heartbeat"), NW_ERR_TOPIC);
    assert_int_equal(a.n_topics, 0);
    nw_alert_clear(&a);
}

static void test_add_topic_ignores_duplicates(void **state)
{
    (void)state;
    nw_alert_t a;
    assert_int_equal(nw_alert_init(&a), NW_OK);
    assert_int_equal(nw_alert_add_topic(&a, "defense"), NW_OK);
    assert_int_equal(nw_alert_add_topic(&a, "defense"), NW_OK);
    assert_int_equal(a.n_topics, 1);
    nw_alert_clear(&a);
}

static void test_add_topic_stops_at_the_limit(void **state)
{
    (void)state;
    nw_alert_t a;
    char name[8];
    assert_int_equal(nw_alert_init(&a), NW_OK);
    for (int i = 0; i < NW_ALERT_TOPICS_MAX; i++) {
        snprintf(name, sizeof name, "t%d", i);
        assert_int_equal(nw_alert_add_topic(&a, name), NW_OK);
    }
    assert_int_equal(nw_alert_add_topic(&a, "one-more"), NW_ERR_TOOBIG);
    assert_int_equal(nw_alert_add_topic(&a, "t3"), NW_OK); /* present already: fine */
    assert_int_equal(a.n_topics, NW_ALERT_TOPICS_MAX);
    nw_alert_clear(&a);
}

static void test_find_topic(void **state)
{
    (void)state;
    nw_alert_t a;
    assert_int_equal(nw_alert_init(&a), NW_OK);
    assert_int_equal(nw_alert_find_topic(&a, "markets"), -1);
    assert_int_equal(nw_alert_add_topic(&a, "defense"), NW_OK);
    assert_int_equal(nw_alert_add_topic(&a, "markets"), NW_OK);
    assert_int_equal(nw_alert_find_topic(&a, "markets"), 1);
    assert_int_equal(nw_alert_find_topic(&a, "defense"), 0);
    assert_int_equal(nw_alert_find_topic(&a, "defense.budget"), -1);
    nw_alert_clear(&a);
}

static void test_copy_is_deep(void **state)
{
    (void)state;
    nw_alert_t src, dst;
    assert_int_equal(nw_alert_init(&src), NW_OK);
    assert_int_equal(nw_alert_set(&src.id, "abc.1"), NW_OK);
    assert_int_equal(nw_alert_set(&src.text, "Text"), NW_OK);
    assert_int_equal(nw_alert_add_topic(&src, "energy"), NW_OK);
    src.topics[0].seq = 5;
    src.seq = 9;
    src.kind = NW_KIND_PARAGRAPH;
    assert_int_equal(nw_alert_copy(&dst, &src), NW_OK);
    assert_ptr_not_equal(dst.id, src.id);
    assert_ptr_not_equal(dst.topics[0].name, src.topics[0].name);
    assert_string_equal(dst.id, "abc.1");
    assert_string_equal(dst.text, "Text");
    assert_string_equal(dst.topics[0].name, "energy");
    assert_true(dst.topics[0].seq == 5 && dst.seq == 9);
    assert_int_equal(dst.kind, NW_KIND_PARAGRAPH);
    nw_alert_clear(&src); /* dst must survive its source */
    assert_string_equal(dst.id, "abc.1");
    assert_string_equal(dst.topics[0].name, "energy");
    nw_alert_clear(&dst);
}

static void test_kind_names_round_trip(void **state)
{
    (void)state;
    for (int k = NW_KIND_HEADLINE; k <= NW_KIND_PARAGRAPH; k++) {
        nw_alert_kind_t back = NW_KIND_HEADLINE;
        assert_int_equal(nw_alert_kind_parse(nw_alert_kind_name((nw_alert_kind_t)k), &back), NW_OK);
        assert_int_equal(back, k);
    }
    assert_string_equal(nw_alert_kind_name(NW_KIND_KEYPOINT), "keypoint");
    assert_string_equal(nw_alert_kind_name((nw_alert_kind_t)9), "unknown");
}

static void test_kind_parse_rejects_unknown(void **state)
{
    (void)state;
    nw_alert_kind_t k = NW_KIND_PARAGRAPH;
    assert_int_equal(nw_alert_kind_parse("Headline", &k), NW_ERR_INVAL);
    assert_int_equal(nw_alert_kind_parse("", &k), NW_ERR_INVAL);
    assert_int_equal(nw_alert_kind_parse("key point", &k), NW_ERR_INVAL);
    assert_int_equal(k, NW_KIND_PARAGRAPH);
}

static void test_priority_names_and_digits(void **state)
{
    (void)state;
    nw_priority_t p = NW_PRIORITY_LOW;
    assert_int_equal(nw_priority_parse("urgent", &p), NW_OK);
    assert_int_equal(p, NW_PRIORITY_URGENT);
    assert_int_equal(nw_priority_parse("0", &p), NW_OK);
    assert_int_equal(p, NW_PRIORITY_LOW);
    assert_int_equal(nw_priority_parse("2", &p), NW_OK);
    assert_int_equal(p, NW_PRIORITY_HIGH);
    assert_string_equal(nw_priority_name(NW_PRIORITY_NORMAL), "normal");
    assert_string_equal(nw_priority_name((nw_priority_t)4), "unknown");
}

static void test_priority_parse_rejects_unknown(void **state)
{
    (void)state;
    nw_priority_t p = NW_PRIORITY_HIGH;
    const char *bad[] = {"4", "-1", "", "High", "02", "urgent!"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(nw_priority_parse(bad[i], &p), NW_ERR_INVAL);
    assert_int_equal(p, NW_PRIORITY_HIGH);
}

static void test_heartbeat_clear_is_safe(void **state)
{
    (void)state;
    nw_heartbeat_t hb = {0};
    nw_heartbeat_clear(&hb);
    hb.stream = strdup("s");
    hb.replay = strdup("");
    hb.topics = calloc(1, sizeof hb.topics[0]);
    assert_non_null(hb.topics);
    hb.topics[0].name = strdup("markets");
    hb.n_topics = 1;
    nw_heartbeat_clear(&hb);
    assert_null(hb.stream);
    assert_null(hb.topics);
    nw_heartbeat_clear(&hb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_gives_empty_strings_and_defaults),
        cmocka_unit_test(test_clear_zeroes_and_is_safe_twice),
        cmocka_unit_test(test_set_replaces_with_a_copy),
        cmocka_unit_test(test_add_topic_appends_with_seq_zero),
        cmocka_unit_test(test_add_topic_rejects_invalid_names),
        cmocka_unit_test(test_add_topic_ignores_duplicates),
        cmocka_unit_test(test_add_topic_stops_at_the_limit),
        cmocka_unit_test(test_find_topic),
        cmocka_unit_test(test_copy_is_deep),
        cmocka_unit_test(test_kind_names_round_trip),
        cmocka_unit_test(test_kind_parse_rejects_unknown),
        cmocka_unit_test(test_priority_names_and_digits),
        cmocka_unit_test(test_priority_parse_rejects_unknown),
        cmocka_unit_test(test_heartbeat_clear_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
