/* Tests for proto/nw_topic: the naming rule, the filter matching rule and control topics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nw_topic.h"

static int s_valid(const char *name)
{
    return nw_topic_valid(name, strlen(name));
}

static void test_valid_names(void **state)
{
    (void)state;
    const char *good[] = {"tariffs", "trade.tariffs", "energy.oil-gas", "a", "0",
                          "g7",      "x.y.z",         "general",        "-", "a.-"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!s_valid(good[i]))
            fail_msg("\"%s\" should be valid", good[i]);
    }
}

static void test_invalid_names(void **state)
{
    (void)state;
    const char *bad[] = {"",        "Tariffs",     "trade..tariffs", ".trade",
                         "trade.",  ".",           "trade tariffs",  "trade_tariffs",
                         "trade/x", "caf\xc3\xa9", "$nw.heartbeat",  "defense*",
                         "a\tb",    "UPPER.case"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (s_valid(bad[i]))
            fail_msg("\"%s\" should be invalid", bad[i]);
    }
}

static void test_length_limit(void **state)
{
    (void)state;
    char name[NW_TOPIC_MAX + 2];
    memset(name, 'a', sizeof name);
    assert_true(nw_topic_valid(name, NW_TOPIC_MAX));
    assert_false(nw_topic_valid(name, NW_TOPIC_MAX + 1));
}

static void test_validation_uses_len_not_nul(void **state)
{
    (void)state;
    assert_true(nw_topic_valid("defense!", 7)); /* the '!' lies past len */
    assert_false(nw_topic_valid("defense", 0));
    assert_false(nw_topic_valid("a\0b", 3)); /* an embedded NUL is not a topic byte */
}

static void test_filter_matches_itself_and_subtopics(void **state)
{
    (void)state;
    assert_true(nw_topic_matches("defense", "defense"));
    assert_true(nw_topic_matches("defense", "defense.budget"));
    assert_true(nw_topic_matches("defense", "defense.budget.army"));
    assert_true(nw_topic_matches("trade.tariffs", "trade.tariffs.steel"));
}

static void test_filter_does_not_match_longer_words(void **state)
{
    (void)state;
    assert_false(nw_topic_matches("defense", "defenseless"));
    assert_false(nw_topic_matches("defense", "defense-industry"));
    assert_false(nw_topic_matches("trade.tariff", "trade.tariffs"));
}

static void test_filter_does_not_match_parents_or_others(void **state)
{
    (void)state;
    assert_false(nw_topic_matches("defense.budget", "defense"));
    assert_false(nw_topic_matches("defense", "def"));
    assert_false(nw_topic_matches("markets", "energy"));
    assert_false(nw_topic_matches("tariffs", "trade.tariffs")); /* matching is anchored */
}

static void test_empty_filter_matches_everything(void **state)
{
    (void)state;
    assert_true(nw_topic_matches("", "defense"));
    assert_true(nw_topic_matches("", "trade.tariffs"));
    assert_true(nw_topic_matches("", "general"));
}

static void test_control_topics(void **state)
{
    (void)state;
    const char *hb = NW_TOPIC_HEARTBEAT;
    assert_true(nw_topic_is_control(hb, strlen(hb)));
    assert_true(nw_topic_is_control("$anything", 9));
    assert_false(nw_topic_is_control("defense", 7));
    assert_false(nw_topic_is_control("", 0));
    assert_false(nw_topic_is_control("$", 0)); /* len, not the NUL, bounds the frame */
    assert_int_equal(strncmp(hb, NW_TOPIC_CONTROL_PREFIX, strlen(NW_TOPIC_CONTROL_PREFIX)), 0);
    assert_false(s_valid(hb)); /* no valid topic is a control topic */
}

static void test_no_topic_filter_matches_control_topics(void **state)
{
    (void)state;
    const char *filters[] = {"defense", "nw", "general", "a", "nw.heartbeat"};
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        assert_false(nw_topic_matches(filters[i], NW_TOPIC_HEARTBEAT));
    /* Only the catch-all "" does: a subscriber must test nw_topic_is_control() first. */
    assert_true(nw_topic_matches("", NW_TOPIC_HEARTBEAT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_names),
        cmocka_unit_test(test_invalid_names),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_validation_uses_len_not_nul),
        cmocka_unit_test(test_filter_matches_itself_and_subtopics),
        cmocka_unit_test(test_filter_does_not_match_longer_words),
        cmocka_unit_test(test_filter_does_not_match_parents_or_others),
        cmocka_unit_test(test_empty_filter_matches_everything),
        cmocka_unit_test(test_control_topics),
        cmocka_unit_test(test_no_topic_filter_matches_control_topics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
