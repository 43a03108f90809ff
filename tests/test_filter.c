/* Tests for subscriber/nw_filter: topic hierarchy, excludes, priority, duplicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nw_alert.h"
#include "nw_error.h"
#include "nw_filter.h"

/* An alert numbered seq in stream with the given topics (NULL-terminated). */
static void s_alert(nw_alert_t *a, const char *stream, uint64_t seq, const char *const *topics)
{
    assert_int_equal(nw_alert_init(a), NW_OK);
    char id[64];
    snprintf(id, sizeof id, "0123456789abcdef.%llu", (unsigned long long)seq);
    assert_int_equal(nw_alert_set(&a->id, id), NW_OK);
    assert_int_equal(nw_alert_set(&a->stream, stream), NW_OK);
    a->seq = seq;
    for (size_t i = 0; topics[i] != NULL; i++) {
        assert_int_equal(nw_alert_add_topic(a, topics[i]), NW_OK);
        a->topics[i].seq = seq;
    }
}

static nw_filter_verdict_t s_check(nw_filter_t *f, const char *topic, uint64_t seq,
                                   nw_priority_t prio)
{
    nw_alert_t a;
    s_alert(&a, "aaaaaaaaaaaaaaaa", seq, (const char *[]){topic, NULL});
    a.priority = prio;
    nw_filter_verdict_t v = nw_filter_check(f, &a, topic);
    nw_alert_clear(&a);
    return v;
}

static void test_include_matches_hierarchy_not_prefix(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    assert_int_equal(nw_filter_include(f, "defense"), NW_OK);
    assert_int_equal(s_check(f, "defense", 1, NW_PRIORITY_NORMAL), NW_FILTER_PASS);
    assert_int_equal(s_check(f, "defense.budget", 2, NW_PRIORITY_NORMAL), NW_FILTER_PASS);
    assert_int_equal(s_check(f, "defenseless", 3, NW_PRIORITY_NORMAL), NW_FILTER_NO_MATCH);
    assert_int_equal(s_check(f, "energy", 4, NW_PRIORITY_NORMAL), NW_FILTER_NO_MATCH);
    assert_false(nw_filter_subscribed(f, "defense-industry"));
    nw_filter_destroy(&f);
    assert_null(f);
}

static void test_no_include_passes_everything(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    assert_int_equal(s_check(f, "energy.oil-gas", 1, NW_PRIORITY_LOW), NW_FILTER_PASS);
    const char *const *names;
    assert_int_equal(nw_filter_includes(f, &names), 0);
    nw_filter_destroy(&f);
}

static void test_several_includes_and_listing(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    assert_int_equal(nw_filter_include(f, "tariffs"), NW_OK);
    assert_int_equal(nw_filter_include(f, "defense"), NW_OK);
    assert_int_equal(nw_filter_include(f, "tariffs"), NW_OK); /* again: harmless */
    const char *const *names;
    assert_int_equal(nw_filter_includes(f, &names), 2);
    assert_string_equal(names[0], "tariffs");
    assert_string_equal(names[1], "defense");
    assert_int_equal(s_check(f, "tariffs", 1, NW_PRIORITY_NORMAL), NW_FILTER_PASS);
    assert_int_equal(s_check(f, "defense", 2, NW_PRIORITY_NORMAL), NW_FILTER_PASS);
    nw_filter_destroy(&f);
}

static void test_invalid_topics_rejected(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    assert_int_equal(nw_filter_include(f, "Defense"), NW_ERR_TOPIC);
    assert_int_equal(nw_filter_include(f, ""), NW_ERR_TOPIC);
    assert_int_equal(nw_filter_include(f, "$nw.heartbeat"), NW_ERR_TOPIC);
    assert_int_equal(nw_filter_exclude(f, "a..b"), NW_ERR_TOPIC);
    nw_filter_destroy(&f);
}

static void test_exclude_any_of_the_alert_topics(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    assert_int_equal(nw_filter_include(f, "trade"), NW_OK);
    assert_int_equal(nw_filter_exclude(f, "energy"), NW_OK);
    nw_alert_t a;
    s_alert(&a, "aaaaaaaaaaaaaaaa", 1, (const char *[]){"trade", "energy.oil", NULL});
    assert_int_equal(nw_filter_check(f, &a, "trade"), NW_FILTER_EXCLUDED);
    nw_alert_clear(&a);
    s_alert(&a, "aaaaaaaaaaaaaaaa", 2, (const char *[]){"trade", "energyx", NULL});
    assert_int_equal(nw_filter_check(f, &a, "trade"), NW_FILTER_PASS);
    nw_alert_clear(&a);
    nw_filter_destroy(&f);
}

static void test_exclude_subtopic_of_include(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    assert_int_equal(nw_filter_include(f, "trade"), NW_OK);
    assert_int_equal(nw_filter_exclude(f, "trade.tariffs"), NW_OK);
    assert_int_equal(s_check(f, "trade.tariffs", 1, NW_PRIORITY_NORMAL), NW_FILTER_EXCLUDED);
    assert_int_equal(s_check(f, "trade.tariffs.steel", 2, NW_PRIORITY_NORMAL), NW_FILTER_EXCLUDED);
    assert_int_equal(s_check(f, "trade.quotas", 3, NW_PRIORITY_NORMAL), NW_FILTER_PASS);
    nw_filter_destroy(&f);
}

static void test_min_priority(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    nw_filter_set_min_priority(f, NW_PRIORITY_HIGH);
    assert_int_equal(s_check(f, "tariffs", 1, NW_PRIORITY_LOW), NW_FILTER_PRIORITY);
    assert_int_equal(s_check(f, "tariffs", 2, NW_PRIORITY_NORMAL), NW_FILTER_PRIORITY);
    assert_int_equal(s_check(f, "tariffs", 3, NW_PRIORITY_HIGH), NW_FILTER_PASS);
    assert_int_equal(s_check(f, "tariffs", 4, NW_PRIORITY_URGENT), NW_FILTER_PASS);
    nw_filter_destroy(&f);
}

static void test_duplicate_across_subscribed_topics(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    assert_int_equal(nw_filter_include(f, "tariffs"), NW_OK);
    assert_int_equal(nw_filter_include(f, "defense"), NW_OK);
    nw_alert_t a;
    s_alert(&a, "aaaaaaaaaaaaaaaa", 5, (const char *[]){"tariffs", "defense", "energy", NULL});
    assert_int_equal(nw_filter_check(f, &a, "tariffs"), NW_FILTER_PASS);
    assert_int_equal(nw_filter_check(f, &a, "defense"), NW_FILTER_DUPLICATE);
    assert_int_equal(nw_filter_check(f, &a, "energy"), NW_FILTER_NO_MATCH);
    nw_alert_clear(&a);
    nw_filter_destroy(&f);
}

static void test_same_seq_other_stream_is_not_duplicate(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    nw_alert_t a, b;
    s_alert(&a, "aaaaaaaaaaaaaaaa", 5, (const char *[]){"tariffs", NULL});
    s_alert(&b, "bbbbbbbbbbbbbbbb", 5, (const char *[]){"tariffs", NULL});
    assert_int_equal(nw_filter_check(f, &a, "tariffs"), NW_FILTER_PASS);
    assert_int_equal(nw_filter_check(f, &b, "tariffs"), NW_FILTER_PASS);
    assert_int_equal(nw_filter_check(f, &b, "tariffs"), NW_FILTER_DUPLICATE);
    nw_alert_clear(&a);
    nw_alert_clear(&b);
    nw_filter_destroy(&f);
}

static void test_unnumbered_alert_deduplicated_by_id(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    nw_alert_t a;
    s_alert(&a, "", 0, (const char *[]){"tariffs", "defense", NULL});
    assert_int_equal(nw_filter_check(f, &a, "tariffs"), NW_FILTER_PASS);
    assert_int_equal(nw_filter_check(f, &a, "defense"), NW_FILTER_DUPLICATE);
    nw_alert_clear(&a);
    nw_filter_destroy(&f);
}

static void test_filtered_alert_is_not_remembered(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    nw_filter_set_min_priority(f, NW_PRIORITY_HIGH);
    assert_int_equal(s_check(f, "tariffs", 1, NW_PRIORITY_LOW), NW_FILTER_PRIORITY);
    nw_filter_set_min_priority(f, NW_PRIORITY_LOW);
    assert_int_equal(s_check(f, "tariffs", 1, NW_PRIORITY_LOW), NW_FILTER_PASS);
    nw_filter_destroy(&f);
}

static void test_recent_set_is_bounded_and_exact(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    /* Three windows' worth of distinct alerts: each passes once. */
    const uint64_t total = 3 * NW_FILTER_RECENT;
    for (uint64_t seq = 1; seq <= total; seq++)
        assert_int_equal(s_check(f, "tariffs", seq, NW_PRIORITY_NORMAL), NW_FILTER_PASS);
    /* The newest window is remembered in full (deletions kept every probe chain intact)... */
    for (uint64_t seq = total - NW_FILTER_RECENT + 1; seq <= total; seq++)
        assert_int_equal(s_check(f, "tariffs", seq, NW_PRIORITY_NORMAL), NW_FILTER_DUPLICATE);
    /* ...and older alerts are forgotten. */
    assert_int_equal(s_check(f, "tariffs", 1, NW_PRIORITY_NORMAL), NW_FILTER_PASS);
    nw_filter_destroy(&f);
}

/* --updates none drops revisions 2, 3...; the default (changed) passes them. */
static void test_updates_none_drops_later_revisions(void **state)
{
    (void)state;
    nw_filter_t *f;
    assert_int_equal(nw_filter_new(&f), NW_OK);
    nw_alert_t a;
    s_alert(&a, "aaaaaaaaaaaaaaaa", 1, (const char *[]){"trade", NULL});
    a.revision = 2;
    assert_int_equal(nw_filter_check(f, &a, "trade"), NW_FILTER_PASS);
    nw_filter_set_updates(f, false);
    a.seq = 2;
    assert_int_equal(nw_filter_check(f, &a, "trade"), NW_FILTER_UPDATE);
    a.seq = 3;
    a.revision = 1;
    assert_int_equal(nw_filter_check(f, &a, "trade"), NW_FILTER_PASS);
    nw_alert_clear(&a);
    nw_filter_destroy(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_include_matches_hierarchy_not_prefix),
        cmocka_unit_test(test_no_include_passes_everything),
        cmocka_unit_test(test_several_includes_and_listing),
        cmocka_unit_test(test_invalid_topics_rejected),
        cmocka_unit_test(test_exclude_any_of_the_alert_topics),
        cmocka_unit_test(test_exclude_subtopic_of_include),
        cmocka_unit_test(test_min_priority),
        cmocka_unit_test(test_duplicate_across_subscribed_topics),
        cmocka_unit_test(test_same_seq_other_stream_is_not_duplicate),
        cmocka_unit_test(test_unnumbered_alert_deduplicated_by_id),
        cmocka_unit_test(test_filtered_alert_is_not_remembered),
        cmocka_unit_test(test_recent_set_is_bounded_and_exact),
        cmocka_unit_test(test_updates_none_drops_later_revisions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
