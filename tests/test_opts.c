/* Tests for common/nw_opts: every parser accepts its valid forms and names the flag on error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nw_error.h"
#include "nw_opts.h"

static void test_uint_accepts_range(void **state)
{
    (void)state;
    char err[256];
    uint64_t v = 0;
    assert_int_equal(nw_opt_uint("--count", "42", 1, 100, &v, err, sizeof err), NW_OK);
    assert_int_equal(v, 42);
}

static void test_uint_rejects_sign_space_hex_and_range(void **state)
{
    (void)state;
    char err[256];
    uint64_t v = 7;
    const char *bad[] = {"-1", " 3", "0x10", "", "12abc", "101", "0", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(nw_opt_uint("--count", bad[i], 1, 100, &v, err, sizeof err), NW_ERR_INVAL);
        assert_non_null(strstr(err, "--count"));
    }
    assert_int_equal(v, 7);
}

static void test_size_suffixes(void **state)
{
    (void)state;
    char err[256];
    uint64_t v;
    assert_int_equal(nw_opt_size("--max-size", "64K", 1, UINT64_MAX, &v, err, sizeof err), NW_OK);
    assert_int_equal(v, 65536);
    assert_int_equal(nw_opt_size("--max-size", "5MiB", 1, UINT64_MAX, &v, err, sizeof err), NW_OK);
    assert_int_equal(v, 5u << 20);
    assert_int_equal(nw_opt_size("--max-size", "5X", 1, UINT64_MAX, &v, err, sizeof err),
                     NW_ERR_INVAL);
    assert_non_null(strstr(err, "--max-size"));
}

static void test_duration_units(void **state)
{
    (void)state;
    char err[256];
    uint64_t v;
    assert_int_equal(nw_opt_duration_ms("-W", "250ms", 1, 86400000, &v, err, sizeof err), NW_OK);
    assert_int_equal(v, 250);
    assert_int_equal(nw_opt_duration_ms("-W", "1.5", 1, 86400000, &v, err, sizeof err), NW_OK);
    assert_int_equal(v, 1500);
    assert_int_equal(nw_opt_duration_ms("-W", "2m", 1, 86400000, &v, err, sizeof err), NW_OK);
    assert_int_equal(v, 120000);
    assert_int_equal(nw_opt_duration_ms("-W", "soon", 1, 86400000, &v, err, sizeof err),
                     NW_ERR_INVAL);
    assert_non_null(strstr(err, "-W"));
}

static void test_choice_lists_choices(void **state)
{
    (void)state;
    char err[256];
    int idx = -1;
    const char *const formats[] = {"text", "json", NULL};
    assert_int_equal(nw_opt_choice("--format", "json", formats, &idx, err, sizeof err), NW_OK);
    assert_int_equal(idx, 1);
    assert_int_equal(nw_opt_choice("--format", "xml", formats, &idx, err, sizeof err),
                     NW_ERR_INVAL);
    assert_non_null(strstr(err, "text json"));
}

static void test_bind_endpoint_allows_wildcards(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(nw_opt_bind_endpoint("--bind", "tcp://*:5556", err, sizeof err), NW_OK);
    assert_int_equal(nw_opt_bind_endpoint("--bind", "tcp://127.0.0.1:*", err, sizeof err), NW_OK);
    assert_int_equal(nw_opt_endpoint("-c", "tcp://*:5556", err, sizeof err), NW_ERR_INVAL);
    assert_int_equal(nw_opt_endpoint("-c", "tcp://localhost:*", err, sizeof err), NW_ERR_INVAL);
    assert_non_null(strstr(err, "-c"));
}

static void test_endpoint_forms(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(nw_opt_endpoint("--bind", "tcp://localhost:5556", err, sizeof err), NW_OK);
    assert_int_equal(nw_opt_endpoint("--bind", "tcp://[::1]:5556", err, sizeof err), NW_OK);
    assert_int_equal(nw_opt_endpoint("--bind", "ipc:///tmp/nw.sock", err, sizeof err), NW_OK);
    const char *bad[] = {"tcp://localhost", "tcp://:5556", "tcp://h:0",     "tcp://h:70000",
                         "udp://h:1",       "ipc://",      "localhost:5556"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(nw_opt_endpoint("--bind", bad[i], err, sizeof err), NW_ERR_INVAL);
        assert_non_null(strstr(err, "--bind"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uint_accepts_range),
        cmocka_unit_test(test_uint_rejects_sign_space_hex_and_range),
        cmocka_unit_test(test_size_suffixes),
        cmocka_unit_test(test_duration_units),
        cmocka_unit_test(test_choice_lists_choices),
        cmocka_unit_test(test_endpoint_forms),
        cmocka_unit_test(test_bind_endpoint_allows_wildcards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
