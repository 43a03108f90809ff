/* Tests for common/nw_ratelimit: a few reports per window, with the count held back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nw_ratelimit.h"

static void test_first_hit_is_reported(void **state)
{
    (void)state;
    nw_ratelimit_t rl = {.period_ms = 1000};
    uint64_t held = 99;
    assert_true(nw_ratelimit_hit(&rl, 5, &held));
    assert_int_equal(held, 0);
}

static void test_hits_within_period_are_held_and_counted(void **state)
{
    (void)state;
    nw_ratelimit_t rl = {.period_ms = 1000};
    uint64_t held;
    assert_true(nw_ratelimit_hit(&rl, 0, &held));
    for (int i = 0; i < 10; i++)
        assert_false(nw_ratelimit_hit(&rl, 100 + i, &held));
    assert_false(nw_ratelimit_pending(&rl, 999, &held));
    assert_true(nw_ratelimit_hit(&rl, 1000, &held));
    assert_int_equal(held, 10);
}

static void test_pending_reports_leftovers_once(void **state)
{
    (void)state;
    nw_ratelimit_t rl = {.period_ms = 1000};
    uint64_t held;
    assert_true(nw_ratelimit_hit(&rl, 0, &held));
    assert_false(nw_ratelimit_hit(&rl, 10, &held));
    assert_false(nw_ratelimit_hit(&rl, 20, &held));
    assert_true(nw_ratelimit_pending(&rl, 1500, &held));
    assert_int_equal(held, 2);
    assert_false(nw_ratelimit_pending(&rl, 5000, &held));
}

static void test_a_burst_allows_that_many_reports_per_window(void **state)
{
    (void)state;
    nw_ratelimit_t rl = {.period_ms = 1000, .burst = 3};
    uint64_t held = 99;
    for (int i = 0; i < 3; i++) {
        assert_true(nw_ratelimit_hit(&rl, 10 * i, &held));
        assert_int_equal(held, 0);
    }
    for (int i = 0; i < 5; i++)
        assert_false(nw_ratelimit_hit(&rl, 500 + i, &held));
    assert_false(nw_ratelimit_pending(&rl, 999, &held));
    /* the window began at 0: from 1000 a new one allows three more, the first with the count */
    assert_true(nw_ratelimit_hit(&rl, 1000, &held));
    assert_int_equal(held, 5);
    assert_true(nw_ratelimit_hit(&rl, 1001, &held));
    assert_int_equal(held, 0);
    assert_true(nw_ratelimit_hit(&rl, 1002, &held));
    assert_false(nw_ratelimit_hit(&rl, 1003, &held));
    /* a summary on its own takes one report of the window it opens */
    assert_true(nw_ratelimit_pending(&rl, 2500, &held));
    assert_int_equal(held, 1);
    assert_true(nw_ratelimit_hit(&rl, 2501, &held));
    assert_true(nw_ratelimit_hit(&rl, 2502, &held));
    assert_false(nw_ratelimit_hit(&rl, 2503, &held));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_hit_is_reported),
        cmocka_unit_test(test_hits_within_period_are_held_and_counted),
        cmocka_unit_test(test_pending_reports_leftovers_once),
        cmocka_unit_test(test_a_burst_allows_that_many_reports_per_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
