/* Tests for subscriber/nw_ratelimit: one report per period, with the count held back. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_hit_is_reported),
        cmocka_unit_test(test_hits_within_period_are_held_and_counted),
        cmocka_unit_test(test_pending_reports_leftovers_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
