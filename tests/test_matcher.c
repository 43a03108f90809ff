/* Tests of nw_matcher: whole-word, case-insensitive, one-pass matching. */
#include "nw_error.h"
#include "nw_matcher.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct {
    uint32_t values[64]; /* reported values, in order */
    size_t n;
} s_hits_t;

static void s_on_hit(uint32_t value, void *ctx)
{
    s_hits_t *h = ctx;
    if (h->n < 64)
        h->values[h->n++] = value;
}

static nw_matcher_t *s_build(const char *const *patterns, size_t n, bool prefix)
{
    nw_matcher_t *m = NULL;
    assert_int_equal(nw_matcher_new(&m), NW_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(nw_matcher_add(m, patterns[i], strlen(patterns[i]), prefix, (uint32_t)i),
                         NW_OK);
    assert_int_equal(nw_matcher_compile(m), NW_OK);
    return m;
}

static size_t s_count(const nw_matcher_t *m, const char *text)
{
    s_hits_t h = {0};
    return nw_matcher_scan(m, text, strlen(text), s_on_hit, &h);
}

static void test_matcher_whole_words_only(void **state)
{
    (void)state;
    const char *p[] = {"war"};
    nw_matcher_t *m = s_build(p, 1, false);
    assert_int_equal(s_count(m, "an award for the warden, a warning"), 0);
    assert_int_equal(s_count(m, "war"), 1);
    assert_int_equal(s_count(m, "the war, the pre-war years (war)"), 3);
    nw_matcher_destroy(&m);
}

static void test_matcher_case_insensitive(void **state)
{
    (void)state;
    const char *p[] = {"Tariffs"};
    nw_matcher_t *m = s_build(p, 1, false);
    assert_int_equal(s_count(m, "TARIFFS tariffs TaRiFfS"), 3);
    nw_matcher_destroy(&m);
}

static void test_matcher_phrase_spans_any_separators(void **state)
{
    (void)state;
    const char *p[] = {"trade deficit"};
    nw_matcher_t *m = s_build(p, 1, false);
    assert_int_equal(s_count(m, "the trade deficit"), 1);
    assert_int_equal(s_count(m, "the Trade  \n\t deficit"), 1);
    assert_int_equal(s_count(m, "trade-deficit"), 1);
    assert_int_equal(s_count(m, "trade deficits"), 0);
    assert_int_equal(s_count(m, "trade, deficit"), 1); /* punctuation is a separator too */
    assert_int_equal(s_count(m, "free trade zone deficit"), 0);
    nw_matcher_destroy(&m);
}

static void test_matcher_prefix_pattern(void **state)
{
    (void)state;
    const char *p[] = {"tariff"};
    nw_matcher_t *m = s_build(p, 1, true);
    assert_int_equal(s_count(m, "tariff tariffs tariffed"), 3);
    assert_int_equal(s_count(m, "untariffed"), 0);
    nw_matcher_destroy(&m);
}

static void test_matcher_utf8_punctuation_is_a_boundary(void **state)
{
    (void)state;
    const char *p[] = {"tariffs", "trade fairness"};
    nw_matcher_t *m = s_build(p, 2, false);
    /* curly quotes, em dash, no-break space */
    assert_int_equal(s_count(m, "\xe2\x80\x9ctariffs\xe2\x80\x9d"), 1);
    assert_int_equal(s_count(m, "wave\xe2\x80\x94tariffs\xe2\x80\x94now"), 1);
    assert_int_equal(s_count(m, "\xe2\x80\x98TRADE\xc2\xa0"
                                "FAIRNESS\xe2\x80\x99"),
                     1);
    /* a letter (e acute) is part of the word: no match */
    assert_int_equal(s_count(m, "tariffs\xc3\xa9"), 0);
    nw_matcher_destroy(&m);
}

static void test_matcher_overlapping_patterns_all_reported(void **state)
{
    (void)state;
    const char *p[] = {"trade", "trade war", "war"};
    nw_matcher_t *m = s_build(p, 3, false);
    s_hits_t h = {0};
    const char *text = "a trade war began";
    assert_int_equal(nw_matcher_scan(m, text, strlen(text), s_on_hit, &h), 3);
    nw_matcher_destroy(&m);
}

static void test_matcher_same_pattern_two_values(void **state)
{
    (void)state;
    nw_matcher_t *m = NULL;
    assert_int_equal(nw_matcher_new(&m), NW_OK);
    assert_int_equal(nw_matcher_add(m, "oil", 3, false, 7), NW_OK);
    assert_int_equal(nw_matcher_add(m, "oil", 3, false, 9), NW_OK);
    assert_int_equal(nw_matcher_compile(m), NW_OK);
    s_hits_t h = {0};
    assert_int_equal(nw_matcher_scan(m, "Oil.", 4, s_on_hit, &h), 2);
    assert_true((h.values[0] == 7 && h.values[1] == 9) || (h.values[0] == 9 && h.values[1] == 7));
    nw_matcher_destroy(&m);
}

static void test_matcher_rejects_bad_patterns(void **state)
{
    (void)state;
    nw_matcher_t *m = NULL;
    assert_int_equal(nw_matcher_new(&m), NW_OK);
    assert_int_equal(nw_matcher_add(m, " - ", 3, false, 0), NW_ERR_INVAL);
    assert_int_equal(nw_matcher_add(m, "caf\xc3\xa9", 5, false, 0), NW_ERR_INVAL);
    assert_int_equal(nw_matcher_add(m, "ok", 2, false, 0), NW_OK);
    assert_int_equal(nw_matcher_compile(m), NW_OK);
    assert_int_equal(nw_matcher_add(m, "late", 4, false, 1), NW_ERR_INVAL);
    nw_matcher_destroy(&m);
    nw_matcher_destroy(&m); /* safe twice */
}

/* One thousand distinct terms, each found exactly where it occurs. */
static void test_matcher_thousand_terms_one_pass(void **state)
{
    (void)state;
    nw_matcher_t *m = NULL;
    assert_int_equal(nw_matcher_new(&m), NW_OK);
    char word[32];
    for (uint32_t i = 0; i < 1000; i++) {
        snprintf(word, sizeof(word), "term%u x", i);
        assert_int_equal(nw_matcher_add(m, word, strlen(word), false, i), NW_OK);
    }
    assert_int_equal(nw_matcher_compile(m), NW_OK);
    assert_int_equal(nw_matcher_pattern_count(m), 1000);
    char *text = malloc(1000 * 16);
    size_t len = 0;
    for (uint32_t i = 0; i < 1000; i += 7)
        len += (size_t)sprintf(text + len, "TERM%u x; term%uy ", i, i);
    s_hits_t h = {0};
    size_t found = nw_matcher_scan(m, text, len, s_on_hit, &h);
    assert_int_equal(found, (1000 + 6) / 7);
    assert_int_equal(h.values[0], 0);
    assert_int_equal(h.values[1], 7);
    assert_int_equal(h.values[63], 441);
    free(text);
    nw_matcher_destroy(&m);
}

/* ---- Differential test against a naive reference matcher ---------------------------- */

/* A reference built straight from the documented semantics, with no automaton: the text
 * and each pattern become strings of symbols (' ' a separator, 'a'-'z', '0'-'9', '#' a
 * non-ASCII letter), runs of separators collapse to one, the text is framed by
 * separators, and a pattern matches wherever its symbol string ends. Matches are listed
 * by end, then longest pattern first, then latest added first (the matcher's order). */

#define S_REF_PATTERNS 16
#define S_REF_TEXT     512

typedef struct {
    char sym[64];   /* the pattern's symbols */
    size_t len;     /* symbols */
    uint32_t value; /* reported value */
} s_ref_pattern_t;

/* The reference's own UTF-8 rule: how many bytes the sequence at t[i] (>= 0x80) spans
 * and whether it is a separator (punctuation, spaces, symbols, invalid) or a letter. */
static char s_ref_utf8(const unsigned char *t, size_t i, size_t len, size_t *n)
{
    unsigned char b = t[i];
    size_t want = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1, k = 1;
    while (k < want && i + k < len && (t[i + k] & 0xC0) == 0x80)
        k++;
    *n = k;
    if (k != want || b < 0xC2 || b > 0xF4)
        return ' ';
    unsigned char b1 = t[i + 1];
    if (b == 0xC2 || b == 0xE2)
        return ' ';
    if (b == 0xC3)
        return b1 == 0x97 || b1 == 0xB7 ? ' ' : '#';
    if (b == 0xE3)
        return b1 == 0x80 ? ' ' : '#';
    if (b == 0xEF)
        return b1 == 0xBB || b1 == 0xBC ? ' ' : '#';
    if (b == 0xF0)
        return b1 == 0x9F ? ' ' : '#';
    return '#';
}

static char s_ref_ascii(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return (char)c;
    return ' ';
}

/* Symbols of the text, separators collapsed, framed by separators; returns the count. */
static size_t s_ref_text(const char *text, size_t len, char *out)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t n_out = 0;
    out[n_out++] = ' ';
    for (size_t i = 0; i < len;) {
        size_t n = 1;
        char c = t[i] < 0x80 ? s_ref_ascii(t[i]) : s_ref_utf8(t, i, len, &n);
        i += n;
        if (c != ' ' || out[n_out - 1] != ' ')
            out[n_out++] = c;
    }
    if (out[n_out - 1] != ' ')
        out[n_out++] = ' ';
    return n_out;
}

static void s_ref_pattern(s_ref_pattern_t *p, const char *pat, bool prefix, uint32_t value)
{
    p->len = 0;
    p->value = value;
    for (const char *c = pat; *c; c++) {
        char s = s_ref_ascii((unsigned char)*c);
        if (p->len == 0 && s != ' ')
            p->sym[p->len++] = ' '; /* the separator before the first word */
        if (s != ' ' || (p->len > 0 && p->sym[p->len - 1] != ' '))
            p->sym[p->len++] = s;
    }
    while (p->len > 0 && p->sym[p->len - 1] == ' ')
        p->len--;
    if (!prefix)
        p->sym[p->len++] = ' ';
}

/* The reference's matches of text, into values (up to cap); returns how many. */
static size_t s_ref_scan(const s_ref_pattern_t *p, size_t n_p, const char *text, size_t len,
                         uint32_t *values, size_t cap)
{
    char *sym = malloc(len + 2);
    assert_non_null(sym);
    size_t n_sym = s_ref_text(text, len, sym), found = 0;
    for (size_t end = 1; end <= n_sym; end++) {
        for (size_t want = end < 64 ? end : 64; want > 0; want--) { /* longest first */
            for (size_t k = n_p; k-- > 0;) {                        /* latest added first */
                if (p[k].len != want || memcmp(sym + end - want, p[k].sym, want) != 0)
                    continue;
                if (found < cap)
                    values[found] = p[k].value;
                found++;
            }
        }
    }
    free(sym);
    return found;
}

static uint32_t s_rand(uint64_t *seed)
{
    *seed = *seed * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(*seed >> 33);
}

/* Pieces of generated text: letters in and out of the patterns, separators, and UTF-8
 * letters, punctuation, invalid and truncated sequences. */
static const struct {
    const char *bytes;
    size_t len;
} s_pieces[] = {
    {"a", 1},
    {"b", 1},
    {"c", 1},
    {"A", 1},
    {"B", 1},
    {"C", 1},
    {"1", 1},
    {"2", 1},
    {"z", 1},
    {" ", 1},
    {"  ", 2},
    {"-", 1},
    {"\n", 1},
    {".", 1},
    {"'", 1},
    {"\0", 1},
    {"\xc2\xa0", 2},
    {"\xc3\xa9", 2},
    {"\xc3\x97", 2},
    {"\xe2\x80\x9c", 3},
    {"\xe2\x80\x94", 3},
    {"\xe3\x80\x82", 3},
    {"\xe4\xb8\xad", 3},
    {"\xef\xbc\x81", 3},
    {"\xef\xbb\xbf", 3},
    {"\xf0\x9f\x98\x80", 4},
    {"\xf0\x90\x8c\x80", 4},
    {"\xff", 1},
    {"\x80", 1},
    {"\xc0\x80", 2},
    {"\xe2\x80", 2},
    {"\xf5\x80", 2},
    {"\xc3", 1},
};

static void s_random_pattern(uint64_t *seed, char *out)
{
    static const char letters[] = "abcABC1";
    static const char seps[] = " -_.,";
    size_t n = 0, words = 1 + s_rand(seed) % 3;
    if (s_rand(seed) % 4 == 0)
        out[n++] = seps[s_rand(seed) % 5];
    for (size_t w = 0; w < words; w++) {
        if (w > 0) {
            for (size_t k = 1 + s_rand(seed) % 2; k > 0; k--)
                out[n++] = seps[s_rand(seed) % 5];
        }
        for (size_t k = 1 + s_rand(seed) % 4; k > 0; k--)
            out[n++] = letters[s_rand(seed) % 7];
    }
    if (s_rand(seed) % 4 == 0)
        out[n++] = seps[s_rand(seed) % 5];
    out[n] = '\0';
}

static void test_matcher_agrees_with_reference(void **state)
{
    (void)state;
    uint64_t seed = 20240611;
    static s_ref_pattern_t ref[S_REF_PATTERNS];
    static char text[S_REF_TEXT + 8];
    static uint32_t want[4 * S_REF_TEXT], got[4 * S_REF_TEXT];
    size_t total = 0;
    for (int round = 0; round < 400; round++) {
        nw_matcher_t *m = NULL;
        assert_int_equal(nw_matcher_new(&m), NW_OK);
        size_t n_p = 1 + s_rand(&seed) % S_REF_PATTERNS;
        for (size_t k = 0; k < n_p; k++) {
            char pat[64];
            bool prefix = s_rand(&seed) % 5 == 0;
            if (k > 0 && s_rand(&seed) % 8 == 0) /* the same pattern again, another value */
                snprintf(pat, sizeof(pat), "%.*s", (int)ref[k - 1].len, ref[k - 1].sym);
            else
                s_random_pattern(&seed, pat);
            assert_int_equal(nw_matcher_add(m, pat, strlen(pat), prefix, (uint32_t)k), NW_OK);
            s_ref_pattern(&ref[k], pat, prefix, (uint32_t)k);
        }
        assert_int_equal(nw_matcher_compile(m), NW_OK);
        for (int t = 0; t < 25; t++) {
            size_t len = 0, pieces = s_rand(&seed) % 120;
            for (size_t k = 0; k < pieces; k++) {
                size_t i = s_rand(&seed) % (sizeof(s_pieces) / sizeof(s_pieces[0]));
                if (i >= 9 && s_rand(&seed) % 2) /* favour letters: more matches */
                    i = s_rand(&seed) % 9;
                if (len + s_pieces[i].len > S_REF_TEXT)
                    break;
                memcpy(text + len, s_pieces[i].bytes, s_pieces[i].len);
                len += s_pieces[i].len;
            }
            size_t n_want = s_ref_scan(ref, n_p, text, len, want, 4 * S_REF_TEXT);
            s_hits_t h = {0};
            size_t n_got = nw_matcher_scan(m, text, len, s_on_hit, &h);
            assert_int_equal(n_got, n_want);
            for (size_t k = 0; k < h.n; k++)
                got[k] = h.values[k];
            for (size_t k = 0; k < h.n; k++)
                assert_int_equal(got[k], want[k]);
            total += n_got;
        }
        nw_matcher_destroy(&m);
    }
    assert_true(total > 5000); /* the texts do exercise the patterns */
}

typedef struct {
    uint32_t *values; /* every reported value, in order */
    size_t n;
    size_t cap;
} s_all_hits_t;

static void s_on_hit_all(uint32_t value, void *ctx)
{
    s_all_hits_t *h = ctx;
    if (h->n < h->cap)
        h->values[h->n] = value;
    h->n++;
}

/* Long texts (the scan splits them into spans scanned as two interleaved streams):
 * many spans, matches dense enough to overflow what a stream holds back, and long runs
 * of letters and separators that keep the streams from meeting soon. */
static void test_matcher_long_texts_agree_with_reference(void **state)
{
    (void)state;
    enum { LONG = 70000 };
    uint64_t seed = 77;
    static s_ref_pattern_t ref[S_REF_PATTERNS];
    char *text = malloc(LONG + 8);
    s_all_hits_t want = {.values = malloc(LONG * 4 * sizeof(uint32_t)), .cap = LONG * 4};
    s_all_hits_t got = {.values = malloc(LONG * 4 * sizeof(uint32_t)), .cap = LONG * 4};
    assert_true(text && want.values && got.values);
    for (int round = 0; round < 12; round++) {
        nw_matcher_t *m = NULL;
        assert_int_equal(nw_matcher_new(&m), NW_OK);
        size_t n_p = 1 + s_rand(&seed) % S_REF_PATTERNS;
        for (size_t k = 0; k < n_p; k++) {
            char pat[64];
            bool prefix = s_rand(&seed) % 5 == 0;
            s_random_pattern(&seed, pat);
            assert_int_equal(nw_matcher_add(m, pat, strlen(pat), prefix, (uint32_t)k), NW_OK);
            s_ref_pattern(&ref[k], pat, prefix, (uint32_t)k);
        }
        assert_int_equal(nw_matcher_compile(m), NW_OK);
        size_t len = 0, target = round == 0 ? 300 : 1000 + s_rand(&seed) % (LONG - 1000);
        while (len + 300 < target) {
            uint32_t r = s_rand(&seed) % 100;
            if (r < 2) { /* a long run of one letter or of separators */
                size_t run = 50 + s_rand(&seed) % 200;
                memset(text + len, r == 0 ? 'a' : ' ', run);
                len += run;
                continue;
            }
            size_t i = s_rand(&seed) % (sizeof(s_pieces) / sizeof(s_pieces[0]));
            if (i >= 9 && s_rand(&seed) % 2)
                i = s_rand(&seed) % 9;
            memcpy(text + len, s_pieces[i].bytes, s_pieces[i].len);
            len += s_pieces[i].len;
        }
        want.n = s_ref_scan(ref, n_p, text, len, want.values, want.cap);
        got.n = 0;
        assert_int_equal(nw_matcher_scan(m, text, len, s_on_hit_all, &got), want.n);
        assert_int_equal(got.n, want.n);
        for (size_t k = 0; k < got.n && k < got.cap; k++)
            assert_int_equal(got.values[k], want.values[k]);
        nw_matcher_destroy(&m);
    }
    free(text);
    free(want.values);
    free(got.values);
}

/* A match at every other byte: far more than a stream holds back. */
static void test_matcher_dense_matches_in_a_long_text(void **state)
{
    (void)state;
    const char *p[] = {"a", "a a"};
    nw_matcher_t *m = s_build(p, 2, false);
    enum { N = 20000 };
    char *text = malloc(2 * N);
    for (size_t k = 0; k < N; k++) {
        text[2 * k] = 'A';
        text[2 * k + 1] = k % 3 ? ' ' : '-';
    }
    s_all_hits_t h = {.values = malloc(2 * N * sizeof(uint32_t)), .cap = 2 * N};
    assert_int_equal(nw_matcher_scan(m, text, 2 * N, s_on_hit_all, &h), 2 * N - 1);
    for (size_t k = 0; k < h.n; k++) /* "a" at each A; "a a" at each A but the first */
        assert_int_equal(h.values[k], k == 0 ? 0 : (k % 2 ? 1 : 0));
    free(h.values);
    free(text);
    nw_matcher_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matcher_whole_words_only),
        cmocka_unit_test(test_matcher_case_insensitive),
        cmocka_unit_test(test_matcher_phrase_spans_any_separators),
        cmocka_unit_test(test_matcher_prefix_pattern),
        cmocka_unit_test(test_matcher_utf8_punctuation_is_a_boundary),
        cmocka_unit_test(test_matcher_overlapping_patterns_all_reported),
        cmocka_unit_test(test_matcher_same_pattern_two_values),
        cmocka_unit_test(test_matcher_rejects_bad_patterns),
        cmocka_unit_test(test_matcher_thousand_terms_one_pass),
        cmocka_unit_test(test_matcher_agrees_with_reference),
        cmocka_unit_test(test_matcher_long_texts_agree_with_reference),
        cmocka_unit_test(test_matcher_dense_matches_in_a_long_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
