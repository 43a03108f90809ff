/* Tests for proto/nw_wire_check: the bounds walk run before any MessagePack unpacker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nw_error.h"
#include "nw_wire_check.h"

#define S_RAW(lit) lit, sizeof(lit) - 1

/* Checks size bytes from an exactly-sized heap copy, so ASan sees any over-read. */
static int s_check(const char *bytes, size_t size, unsigned max_depth)
{
    char *copy = malloc(size ? size : 1);
    assert_non_null(copy);
    if (size > 0)
        memcpy(copy, bytes, size);
    int rv = nw_wire_check(copy, size, max_depth);
    free(copy);
    return rv;
}

typedef struct {
    const char *raw;
    size_t len;
} s_bytes_t;

static void test_accepts_every_scalar_type(void **state)
{
    (void)state;
    static const s_bytes_t ok[] = {
        {S_RAW("\x00")}, /* positive fixint */
        {S_RAW("\x7f")},
        {S_RAW("\xe0")},                                 /* negative fixint */
        {S_RAW("\xc0")},                                 /* nil */
        {S_RAW("\xc2")},                                 /* false */
        {S_RAW("\xc3")},                                 /* true */
        {S_RAW("\xcc\xff")},                             /* uint 8 */
        {S_RAW("\xcd\xff\xff")},                         /* uint 16 */
        {S_RAW("\xce\xff\xff\xff\xff")},                 /* uint 32 */
        {S_RAW("\xcf\xff\xff\xff\xff\xff\xff\xff\xff")}, /* uint 64 */
        {S_RAW("\xd0\x80")},                             /* int 8 */
        {S_RAW("\xd1\x80\x00")},                         /* int 16 */
        {S_RAW("\xd2\x80\x00\x00\x00")},                 /* int 32 */
        {S_RAW("\xd3\x80\x00\x00\x00\x00\x00\x00\x00")}, /* int 64 */
        {S_RAW("\xca\x3f\x80\x00\x00")},                 /* float 32 */
        {S_RAW("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00")}, /* float 64 */
        {S_RAW("\xa0")},                                 /* fixstr, empty */
        {S_RAW("\xa3"
               "abc")},
        {S_RAW("\xd9\x02hi")},               /* str 8 */
        {S_RAW("\xda\x00\x02hi")},           /* str 16 */
        {S_RAW("\xdb\x00\x00\x00\x02hi")},   /* str 32 */
        {S_RAW("\xc4\x01x")},                /* bin 8 */
        {S_RAW("\xc5\x00\x01x")},            /* bin 16 */
        {S_RAW("\xc6\x00\x00\x00\x01x")},    /* bin 32 */
        {S_RAW("\xd4\x01x")},                /* fixext 1 */
        {S_RAW("\xd5\x01xy")},               /* fixext 2 */
        {S_RAW("\xd6\xff\x00\x00\x00\x00")}, /* fixext 4: a timestamp */
        {S_RAW("\xd7\x01\x00\x00\x00\x00\x00\x00\x00\x00")},
        {S_RAW("\xd8\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")},
        {S_RAW("\xc7\x02\x01xy")},             /* ext 8: length, type, data */
        {S_RAW("\xc8\x00\x02\x01xy")},         /* ext 16 */
        {S_RAW("\xc9\x00\x00\x00\x02\x01xy")}, /* ext 32 */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rv = s_check(ok[i].raw, ok[i].len, 8);
        if (rv != NW_OK)
            fail_msg("scalar case %zu: %s", i, nw_strerror(rv));
    }
}

static void test_accepts_containers_of_every_width(void **state)
{
    (void)state;
    static const s_bytes_t ok[] = {
        {S_RAW("\x90")},
        {S_RAW("\x80")},
        {S_RAW("\x92\x01\x02")},
        {S_RAW("\x81\xa1k\xc0")},
        {S_RAW("\xdc\x00\x02\x01\x02")},
        {S_RAW("\xdd\x00\x00\x00\x02\x01\x02")},
        {S_RAW("\xde\x00\x01\xa1k\x01")},
        {S_RAW("\xdf\x00\x00\x00\x01\xa1k\x01")},
        {S_RAW("\x82\xa1"
               "a\x92\x90\x80\xa1"
               "b\x81\x01\x91\xc3")},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rv = s_check(ok[i].raw, ok[i].len, 8);
        if (rv != NW_OK)
            fail_msg("container case %zu: %s", i, nw_strerror(rv));
    }
}

static void test_rejects_never_used_byte(void **state)
{
    (void)state;
    assert_int_equal(s_check(S_RAW("\xc1"), 8), NW_ERR_WIRE_MALFORMED);
    assert_int_equal(s_check(S_RAW("\x92\x01\xc1"), 8), NW_ERR_WIRE_MALFORMED);
    assert_int_equal(s_check(S_RAW("\x81\xc1\x01"), 8), NW_ERR_WIRE_MALFORMED);
}

static void test_rejects_huge_declared_sizes(void **state)
{
    (void)state;
    static const s_bytes_t huge[] = {
        {S_RAW("\xdd\xff\xff\xff\xff")},     /* array 32 */
        {S_RAW("\xdf\xff\xff\xff\xff")},     /* map 32 */
        {S_RAW("\xdc\xff\xff")},             /* array 16 */
        {S_RAW("\xde\xff\xff")},             /* map 16 */
        {S_RAW("\xdb\xff\xff\xff\xff")},     /* str 32 */
        {S_RAW("\xda\xff\xff")},             /* str 16 */
        {S_RAW("\xd9\xff")},                 /* str 8 */
        {S_RAW("\xc6\xff\xff\xff\xff")},     /* bin 32 */
        {S_RAW("\xc9\xff\xff\xff\xff\x01")}, /* ext 32 */
        {S_RAW("\x9f")},                     /* fixarray of 15, nothing after */
        {S_RAW("\x8f")},                     /* fixmap of 15 */
        {S_RAW("\xbf")},                     /* fixstr of 31 */
    };
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        int rv = s_check(huge[i].raw, huge[i].len, 8);
        if (rv != NW_ERR_WIRE_TRUNCATED)
            fail_msg("huge case %zu: %s", i, nw_strerror(rv));
    }
}

static void test_count_is_bounded_by_values_still_pending(void **state)
{
    (void)state;
    /* The inner array's 3 elements would fit in the 3 bytes left, but the outer
     * array's second element needs one of them: refused at the inner header. */
    assert_int_equal(s_check(S_RAW("\x92\x93\x01\x01\x01"), 8), NW_ERR_WIRE_TRUNCATED);
    assert_int_equal(s_check(S_RAW("\x92\x93\x01\x01\x01\x01"), 8), NW_OK);
    /* A map of n pairs needs 2n bytes. */
    assert_int_equal(s_check(S_RAW("\x82\x01\x01\x01"), 8), NW_ERR_WIRE_TRUNCATED);
}

static void test_rejects_cut_headers_and_payloads(void **state)
{
    (void)state;
    static const s_bytes_t cut[] = {
        {S_RAW("")},
        {S_RAW("\xcd\x01")},
        {S_RAW("\xcf\x00\x00\x00")},
        {S_RAW("\xd9")},
        {S_RAW("\xda\x00")},
        {S_RAW("\xdc\x00")},
        {S_RAW("\xdf\x00")},
        {S_RAW("\xa3"
               "ab")},
        {S_RAW("\xc4\x02x")},
        {S_RAW("\xd6\xff\x00\x00\x00")},
        {S_RAW("\xc7\x01")},
        {S_RAW("\x92\x01")},
        {S_RAW("\x81\xa1k")},
    };
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        int rv = s_check(cut[i].raw, cut[i].len, 8);
        if (rv != NW_ERR_WIRE_TRUNCATED)
            fail_msg("cut case %zu: %s", i, nw_strerror(rv));
    }
}

static void test_every_prefix_is_truncated(void **state)
{
    (void)state;
    static const char value[] = "\x83\xa1"
                                "a\xdc\x00\x03\xcd\x01\x02\xd9\x03xyz\xc0\xa1"
                                "b\x81\xa1"
                                "c\xc7\x02\x05hi\xa1"
                                "d\xcb\x00\x00\x00\x00\x00\x00\x00\x00";
    size_t n = sizeof value - 1;
    assert_int_equal(s_check(value, n, 8), NW_OK);
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(s_check(value, cut, 8), NW_ERR_WIRE_TRUNCATED);
}

static void test_rejects_trailing_bytes(void **state)
{
    (void)state;
    assert_int_equal(s_check(S_RAW("\x01\x02"), 8), NW_ERR_WIRE_TRAILING);
    assert_int_equal(s_check(S_RAW("\x80\x80"), 8), NW_ERR_WIRE_TRAILING);
    assert_int_equal(s_check(S_RAW("\x91\x01\xc1"), 8), NW_ERR_WIRE_TRAILING);
}

static void test_depth_limit(void **state)
{
    (void)state;
    assert_int_equal(s_check(S_RAW("\x91\x91\x90"), 3), NW_OK);
    assert_int_equal(s_check(S_RAW("\x91\x91\x90"), 2), NW_ERR_WIRE_DEPTH);
    assert_int_equal(s_check(S_RAW("\x81\xa1k\x81\xa1k\x80"), 3), NW_OK);
    assert_int_equal(s_check(S_RAW("\x81\xa1k\x81\xa1k\x80"), 2), NW_ERR_WIRE_DEPTH);
    assert_int_equal(s_check(S_RAW("\x01"), 0), NW_OK); /* scalars need no depth */
    assert_int_equal(s_check(S_RAW("\x90"), 0), NW_ERR_WIRE_DEPTH);
    /* Siblings do not add up: depth is nesting, not count. */
    assert_int_equal(s_check(S_RAW("\x93\x91\x90\x91\x90\x91\x90"), 3), NW_OK);
}

static void test_depth_is_capped_at_the_hard_limit(void **state)
{
    (void)state;
    char deep[NW_WIRE_CHECK_DEPTH_LIMIT + 1];
    memset(deep, 0x91, sizeof deep);
    deep[NW_WIRE_CHECK_DEPTH_LIMIT] = (char)0x90;
    assert_int_equal(s_check(deep, NW_WIRE_CHECK_DEPTH_LIMIT, 1000), NW_ERR_WIRE_TRUNCATED);
    assert_int_equal(s_check(deep + 1, NW_WIRE_CHECK_DEPTH_LIMIT, 1000), NW_OK);
    assert_int_equal(s_check(deep, sizeof deep, 1000), NW_ERR_WIRE_DEPTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_every_scalar_type),
        cmocka_unit_test(test_accepts_containers_of_every_width),
        cmocka_unit_test(test_rejects_never_used_byte),
        cmocka_unit_test(test_rejects_huge_declared_sizes),
        cmocka_unit_test(test_count_is_bounded_by_values_still_pending),
        cmocka_unit_test(test_rejects_cut_headers_and_payloads),
        cmocka_unit_test(test_every_prefix_is_truncated),
        cmocka_unit_test(test_rejects_trailing_bytes),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_depth_is_capped_at_the_hard_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
