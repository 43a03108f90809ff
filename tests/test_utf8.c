/* Tests for common/nw_utf8: strict UTF-8 validation and the Latin-1 fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nw_error.h"
#include "nw_utf8.h"

#define S_VALID(lit)   assert_true(nw_utf8_valid(lit, sizeof(lit) - 1))
#define S_INVALID(lit) assert_false(nw_utf8_valid(lit, sizeof(lit) - 1))

static void test_ascii_and_empty_are_valid(void **state)
{
    (void)state;
    S_VALID("");
    S_VALID("plain ASCII, with punctuation: ~!@#");
    S_VALID("a\0b"); /* NUL is a character like any other here */
    S_VALID("\x7f");
}

static void test_multibyte_sequences_are_valid(void **state)
{
    (void)state;
    S_VALID("caf\xc3\xa9");      /* U+00E9, 2 bytes */
    S_VALID("\xc2\x80");         /* U+0080, smallest 2-byte */
    S_VALID("\xe2\x82\xac");     /* U+20AC, 3 bytes */
    S_VALID("\xe0\xa0\x80");     /* U+0800, smallest 3-byte */
    S_VALID("\xed\x9f\xbf");     /* U+D7FF, just below the surrogates */
    S_VALID("\xee\x80\x80");     /* U+E000, just above them */
    S_VALID("\xef\xbf\xbf");     /* U+FFFF */
    S_VALID("\xf0\x9f\x98\x80"); /* U+1F600, 4 bytes */
    S_VALID("\xf0\x90\x80\x80"); /* U+10000, smallest 4-byte */
    S_VALID("\xf4\x8f\xbf\xbf"); /* U+10FFFF, the last code point */
}

static void test_overlong_forms_are_invalid(void **state)
{
    (void)state;
    S_INVALID("\xc0\x80");         /* NUL in 2 bytes */
    S_INVALID("\xc0\xaf");         /* '/' in 2 bytes */
    S_INVALID("\xc1\xbf");         /* U+007F in 2 bytes */
    S_INVALID("\xe0\x80\x80");     /* NUL in 3 bytes */
    S_INVALID("\xe0\x9f\xbf");     /* U+07FF in 3 bytes */
    S_INVALID("\xf0\x80\x80\x80"); /* NUL in 4 bytes */
    S_INVALID("\xf0\x8f\xbf\xbf"); /* U+FFFF in 4 bytes */
}

static void test_surrogates_are_invalid(void **state)
{
    (void)state;
    S_INVALID("\xed\xa0\x80");             /* U+D800 */
    S_INVALID("\xed\xbf\xbf");             /* U+DFFF */
    S_INVALID("\xed\xa0\xbd\xed\xb8\x80"); /* a CESU-8 surrogate pair */
}

static void test_beyond_last_code_point_is_invalid(void **state)
{
    (void)state;
    S_INVALID("\xf4\x90\x80\x80");         /* U+110000 */
    S_INVALID("\xf5\x80\x80\x80");         /* lead byte past F4 */
    S_INVALID("\xf7\xbf\xbf\xbf");         /* U+1FFFFF */
    S_INVALID("\xf8\x88\x80\x80\x80");     /* old 5-byte form */
    S_INVALID("\xfc\x84\x80\x80\x80\x80"); /* old 6-byte form */
    S_INVALID("\xfe");
    S_INVALID("\xff");
}

static void test_truncated_sequences_are_invalid(void **state)
{
    (void)state;
    S_INVALID("\xc3");
    S_INVALID("\xe2\x82");
    S_INVALID("\xf0\x9f\x98");
    S_INVALID("text then \xe2\x82");
    S_INVALID("\xc3 "); /* a space where the continuation should be */
}

static void test_stray_and_bad_continuations_are_invalid(void **state)
{
    (void)state;
    S_INVALID("\x80");
    S_INVALID("a\xbf");
    S_INVALID("\xc3\x28");
    S_INVALID("\xe2\x28\xa1");
    S_INVALID("\xe2\x82\x28");
    S_INVALID("\xf0\x9f\x98\x28");
    S_INVALID("\xc3\xa9\xa9"); /* one continuation too many */
}

static void test_length_bounds_the_check(void **state)
{
    (void)state;
    assert_false(nw_utf8_valid("\xc3\xa9", 1)); /* cut inside the character */
    assert_true(nw_utf8_valid("ab\xff", 2));    /* the bad byte lies past len */
}

static void test_latin1_converts_high_bytes(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(nw_utf8_from_latin1("caf\xe9 \xa3"
                                         "5",
                                         7, &out, &len),
                     NW_OK);
    assert_string_equal(out, "caf\xc3\xa9 \xc2\xa3"
                             "5");
    assert_int_equal(len, 9);
    free(out);
}

static void test_latin1_every_byte_gives_valid_utf8(void **state)
{
    (void)state;
    char in[256];
    for (int i = 0; i < 256; i++)
        in[i] = (char)i;
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(nw_utf8_from_latin1(in, sizeof in, &out, &len), NW_OK);
    assert_int_equal(len, 128 + 2 * 128);
    assert_true(nw_utf8_valid(out, len));
    assert_int_equal(out[len], '\0');
    assert_memory_equal(out + 128 + 2 * (0xff - 0x80), "\xc3\xbf", 2); /* U+00FF */
    free(out);
}

static void test_latin1_ascii_and_empty_unchanged(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 7;
    assert_int_equal(nw_utf8_from_latin1("", 0, &out, &len), NW_OK);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    free(out);
    assert_int_equal(nw_utf8_from_latin1("plain", 5, &out, &len), NW_OK);
    assert_string_equal(out, "plain");
    assert_int_equal(len, 5);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_and_empty_are_valid),
        cmocka_unit_test(test_multibyte_sequences_are_valid),
        cmocka_unit_test(test_overlong_forms_are_invalid),
        cmocka_unit_test(test_surrogates_are_invalid),
        cmocka_unit_test(test_beyond_last_code_point_is_invalid),
        cmocka_unit_test(test_truncated_sequences_are_invalid),
        cmocka_unit_test(test_stray_and_bad_continuations_are_invalid),
        cmocka_unit_test(test_length_bounds_the_check),
        cmocka_unit_test(test_latin1_converts_high_bytes),
        cmocka_unit_test(test_latin1_every_byte_gives_valid_utf8),
        cmocka_unit_test(test_latin1_ascii_and_empty_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
