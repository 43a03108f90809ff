/* Tests for common/nw_utf8: strict UTF-8 validation and the Latin-1 fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* ------------------------------------------------ differential: fast path vs reference */

/* The reference: Unicode's table of well-formed byte sequences (3-7), one code point at
 * a time, without the word-at-a-time fast path. NUL passes unless reject_nul. */
static bool s_ref_valid(const unsigned char *p, size_t len, bool reject_nul)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
        if (c < 0x80) {
            if (c == 0 && reject_nul)
                return false;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            if (c == 0xe0)
                lo = 0xa0;
            if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            if (c == 0xf0)
                lo = 0x90;
            if (c == 0xf4)
                hi = 0x8f;
        } else {
            return false;
        }
        if (len - i < n || p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t k = 2; k < n; k++) {
            if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                return false;
        }
        i += n;
    }
    return true;
}

/* Checks both entry points against the reference on the len bytes at p. */
static void s_check_same(const unsigned char *p, size_t len)
{
    const char *s = (const char *)p;
    bool ref = s_ref_valid(p, len, false);
    bool ref_text = s_ref_valid(p, len, true);
    if (nw_utf8_valid(s, len) != ref || nw_utf8_valid_text(s, len) != ref_text) {
        fprintf(stderr, "mismatch on %zu bytes (ref %d, text %d):", len, ref, ref_text);
        for (size_t i = 0; i < len; i++)
            fprintf(stderr, " %02x", p[i]);
        fprintf(stderr, "\n");
        fail();
    }
}

static void test_valid_text_rejects_nul(void **state)
{
    (void)state;
    assert_true(nw_utf8_valid_text("", 0));
    assert_true(nw_utf8_valid_text("caf\xc3\xa9", 5));
    assert_false(nw_utf8_valid_text("a\0b", 3));
    assert_false(nw_utf8_valid_text("0123456789abcdef\0", 17)); /* NUL after two words */
    assert_false(nw_utf8_valid_text("0123456\0", 8));           /* NUL inside a word */
    assert_false(nw_utf8_valid_text("\xc3\xa9\0", 3));          /* after a sequence */
    assert_true(nw_utf8_valid_text("ab\0", 2));                 /* NUL past len */
    assert_false(nw_utf8_valid_text("\xc3\xa9", 1));
}

/* Deterministic pseudo-random bytes (xorshift64*), so a failure reproduces. */
static uint64_t s_rng = 0x9e3779b97f4a7c15u;
static unsigned s_rand(void)
{
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return (unsigned)((s_rng * 0x2545f4914f6cdd1du) >> 32);
}

/* Byte pieces random strings are made of: ASCII, NUL, good sequences of every length,
 * and the bad ones (stray continuation, overlong, surrogate, past U+10FFFF, cut). */
static const char *const s_pieces[] = {
    "a",
    "Z",
    " ",
    "\x7f",
    "\x01",
    "",
    "\xc2\x80",
    "\xc3\xa9",
    "\xdf\xbf",
    "\xe0\xa0\x80",
    "\xe2\x82\xac",
    "\xed\x9f\xbf",
    "\xee\x80\x80",
    "\xef\xbf\xbf",
    "\xf0\x90\x80\x80",
    "\xf4\x8f\xbf\xbf",
    "\x80",
    "\xbf",
    "\xc0\x80",
    "\xc1\xbf",
    "\xe0\x80\x80",
    "\xed\xa0\x80",
    "\xf4\x90\x80\x80",
    "\xf5\x80\x80\x80",
    "\xff",
    "\xfe",
    "\xc3",
    "\xe2\x82",
    "\xf0\x9f\x98",
};
#define S_N_PIECES (sizeof s_pieces / sizeof s_pieces[0])

static void test_fast_path_matches_reference_on_random_bytes(void **state)
{
    (void)state;
    unsigned char buf[256 + 8];
    for (int round = 0; round < 200000; round++) {
        size_t len = s_rand() % 96, off = s_rand() % 8; /* every alignment */
        unsigned char *p = buf + off;
        unsigned mode = s_rand() % 4;
        size_t i = 0;
        while (i < len) {
            if (mode == 0) { /* uniformly random bytes */
                p[i++] = (unsigned char)s_rand();
            } else if (mode == 1 && s_rand() % 4 != 0) { /* long ASCII runs */
                p[i++] = (unsigned char)(0x20 + s_rand() % 0x5f);
            } else { /* pieces, mostly good ones */
                unsigned k = s_rand() % S_N_PIECES;
                if (mode == 2 && k >= 16)
                    k = s_rand() % 16;
                const char *piece = k == 5 ? "\0" : s_pieces[k];
                size_t n = k == 5 ? 1 : strlen(piece);
                for (size_t j = 0; j < n && i < len; j++)
                    p[i++] = (unsigned char)piece[j];
            }
        }
        s_check_same(p, len);
    }
}

/* Long ASCII runs with one bad (or good multi-byte) piece at every offset and every
 * alignment: the piece lands in every lane of a word, across word edges and in the tail. */
static void test_fast_path_matches_reference_at_every_offset(void **state)
{
    (void)state;
    static const char *const odd[] = {"\x80",
                                      "\xff",
                                      "\xc3",
                                      "\xe2\x82",
                                      "\xf0\x9f\x98",
                                      "\xc0\x80",
                                      "\xed\xa0\x80",
                                      "\xf4\x90\x80\x80",
                                      "\xc3\xa9",
                                      "\xe2\x82\xac",
                                      "\xf0\x9f\x98\x80",
                                      "\0",
                                      "\x01",
                                      "\x7f"};
    unsigned char buf[80 + 8];
    for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) {
        size_t n = k == 11 ? 1 : strlen(odd[k]);
        for (size_t align = 0; align < 8; align++) {
            for (size_t len = n; len <= 80; len += (len < 24 ? 1 : 7)) {
                for (size_t at = 0; at + n <= len; at++) {
                    unsigned char *p = buf + align;
                    memset(p, 'x', len);
                    memcpy(p + at, odd[k], n);
                    s_check_same(p, len);
                    s_check_same(p, at + n - 1); /* cut inside the piece */
                }
            }
        }
    }
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
        cmocka_unit_test(test_valid_text_rejects_nul),
        cmocka_unit_test(test_fast_path_matches_reference_on_random_bytes),
        cmocka_unit_test(test_fast_path_matches_reference_at_every_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
