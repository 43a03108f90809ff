/* Tests for proto/nw_json: escaping, U+FFFD for bad bytes, every field, valid JSON always. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nw_alert.h"
#include "nw_buf.h"
#include "nw_error.h"
#include "nw_json.h"
#include "nw_utf8.h"

/* ---- a strict RFC 8259 checker, so validity does not depend on a JSON library ---- */

typedef struct {
    const char *p;   /* next byte */
    const char *end; /* one past the last byte */
} s_json_t;

static bool s_value(s_json_t *j, int depth);

static void s_ws(s_json_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static bool s_lit(s_json_t *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return false;
    j->p += n;
    return true;
}

static bool s_string(s_json_t *j)
{
    if (j->p >= j->end || *j->p != '"')
        return false;
    const char *start = ++j->p;
    while (j->p < j->end && *j->p != '"') {
        unsigned char c = (unsigned char)*j->p;
        if (c < 0x20)
            return false; /* raw control characters are not allowed */
        if (c == '\\') {
            j->p++;
            if (j->p >= j->end)
                return false;
            if (*j->p == 'u') {
                for (int i = 1; i <= 4; i++) {
                    if (j->p + i >= j->end || strchr("0123456789abcdefABCDEF", j->p[i]) == NULL)
                        return false;
                }
                j->p += 4;
            } else if (strchr("\"\\/bfnrt", *j->p) == NULL) {
                return false;
            }
        }
        j->p++;
    }
    if (j->p >= j->end || !nw_utf8_valid(start, (size_t)(j->p - start)))
        return false;
    j->p++;
    return true;
}

static bool s_number(s_json_t *j)
{
    const char *start = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
        return false;
    if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9')
        return false;
    while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || strchr(".eE+-", *j->p)))
        j->p++;
    return j->p > start;
}

static bool s_container(s_json_t *j, int depth, char close, bool object)
{
    j->p++;
    s_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return true;
    }
    for (;;) {
        s_ws(j);
        if (object) {
            if (!s_string(j))
                return false;
            s_ws(j);
            if (j->p >= j->end || *j->p++ != ':')
                return false;
        }
        if (!s_value(j, depth + 1))
            return false;
        s_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return true;
        }
        return false;
    }
}

static bool s_value(s_json_t *j, int depth)
{
    s_ws(j);
    if (depth > 32 || j->p >= j->end)
        return false;
    switch (*j->p) {
    case '{': return s_container(j, depth, '}', true);
    case '[': return s_container(j, depth, ']', false);
    case '"': return s_string(j);
    case 't': return s_lit(j, "true");
    case 'f': return s_lit(j, "false");
    case 'n': return s_lit(j, "null");
    default: return s_number(j);
    }
}

static bool s_valid_json(const char *text, size_t len)
{
    s_json_t j = {text, text + len};
    if (!s_value(&j, 0))
        return false;
    s_ws(&j);
    return j.p == j.end;
}

/* ---- fixtures ---- */

static void s_alert(nw_alert_t *a, const char *text)
{
    assert_int_equal(nw_alert_init(a), NW_OK);
    assert_int_equal(nw_alert_set(&a->id, "0123456789abcdef.2"), NW_OK);
    assert_int_equal(nw_alert_set(&a->article_id, "0123456789abcdef"), NW_OK);
    assert_int_equal(nw_alert_set(&a->text, text), NW_OK);
    assert_int_equal(nw_alert_set(&a->title, "Title"), NW_OK);
    assert_int_equal(nw_alert_set(&a->source, "Wire"), NW_OK);
    assert_int_equal(nw_alert_set(&a->stream, "feedfacecafebeef"), NW_OK);
    assert_int_equal(nw_alert_add_topic(a, "tariffs"), NW_OK);
    assert_int_equal(nw_alert_add_topic(a, "trade.tariffs"), NW_OK);
    a->topics[0].seq = 7;
    a->topics[1].seq = 9;
    a->index = 2;
    a->kind = NW_KIND_PARAGRAPH;
    a->priority = NW_PRIORITY_HIGH;
    a->seq = 42;
    a->published_ms = 1764278095123; /* 2025-11-27T21:14:55.123Z */
}

static char *s_str(const char *s, size_t len)
{
    nw_buf_t b = {0};
    assert_int_equal(nw_json_string(&b, s, len), NW_OK);
    return nw_buf_steal(&b);
}

/* ---- tests ---- */

static void test_string_escapes_quote_and_backslash(void **state)
{
    (void)state;
    char *out = s_str("say \"hi\" \\ bye", 14);
    assert_string_equal(out, "\"say \\\"hi\\\" \\\\ bye\"");
    free(out);
}

static void test_string_escapes_control_characters(void **state)
{
    (void)state;
    char *out = s_str("a\nb\tc\x1b[2J\x01\x7f", 11);
    assert_string_equal(out, "\"a\\nb\\tc\\u001b[2J\\u0001\\u007f\"");
    free(out);
}

static void test_string_keeps_nul_byte_escaped(void **state)
{
    (void)state;
    char *out = s_str("a\0b", 3);
    assert_string_equal(out, "\"a\\u0000b\"");
    free(out);
}

static void test_string_invalid_utf8_becomes_replacement(void **state)
{
    (void)state;
    /* a lone continuation, a truncated 3-byte form, an overlong '/', a surrogate, 0xFF */
    const char bad[] = "x\x80y\xe2\x82z\xc0\xafw\xed\xa0\x80v\xff";
    char *out = s_str(bad, sizeof bad - 1);
    assert_true(nw_utf8_valid(out, strlen(out)));
    assert_true(s_valid_json(out, strlen(out)));
    assert_non_null(strstr(out, "x\xEF\xBF\xBDy"));
    assert_null(strchr(out, '\xff'));
    free(out);
}

static void test_string_keeps_valid_utf8(void **state)
{
    (void)state;
    char *out = s_str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb0", 14);
    assert_string_equal(out, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb0\"");
    free(out);
}

static void test_string_escapes_c1_and_line_separators(void **state)
{
    (void)state;
    /* U+009B (CSI in some terminals) and U+2028 are legal raw JSON but unsafe downstream. */
    char *out = s_str("a\xc2\x9b"
                      "b\xe2\x80\xa8",
                      7);
    assert_string_equal(out, "\"a\\u009bb\\u2028\"");
    free(out);
}

static void test_alert_has_every_field(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "Duties rise");
    nw_buf_t b = {0};
    assert_int_equal(nw_json_alert(&b, &a, "tariffs"), NW_OK);
    const char *keys[] = {"\"id\":\"0123456789abcdef.2\"",
                          "\"article\":\"0123456789abcdef\"",
                          "\"index\":2",
                          "\"kind\":\"paragraph\"",
                          "\"priority\":\"high\"",
                          "\"topic\":\"tariffs\"",
                          "\"topics\":[\"tariffs\",\"trade.tariffs\"]",
                          "\"tseq\":{\"tariffs\":7,\"trade.tariffs\":9}",
                          "\"stream\":\"feedfacecafebeef\"",
                          "\"seq\":42",
                          "\"published\":\"2025-11-27T21:14:55.123Z\"",
                          "\"published_ms\":1764278095123",
                          "\"title\":\"Title\"",
                          "\"source\":\"Wire\"",
                          "\"author\":\"\"",
                          "\"place\":\"\"",
                          "\"section\":\"\"",
                          "\"text\":\"Duties rise\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strstr(b.data, keys[i]) == NULL)
            fail_msg("missing %s in %s", keys[i], b.data);
    }
    assert_true(s_valid_json(b.data, b.len));
    nw_buf_free(&b);
    nw_alert_clear(&a);
}

static void test_alert_without_topic_leaves_it_out(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "x");
    nw_buf_t b = {0};
    assert_int_equal(nw_json_alert(&b, &a, NULL), NW_OK);
    assert_null(strstr(b.data, "\"topic\":"));
    assert_true(s_valid_json(b.data, b.len));
    nw_buf_free(&b);
    nw_alert_clear(&a);
}

static void test_alert_with_hostile_text_is_valid_json(void **state)
{
    (void)state;
    /* Every byte value from 1 to 255, then quotes, backslashes and broken sequences. */
    char text[400];
    size_t n = 0;
    for (int c = 1; c < 256; c++)
        text[n++] = (char)c;
    const char tail[] = "\"\\\"\\\\u0000\xe2\x82\xc3\"}]\x1b]0;title\x07";
    memcpy(text + n, tail, sizeof tail);
    nw_alert_t a;
    s_alert(&a, text);
    assert_int_equal(nw_alert_set(&a.title, "\"quoted\" \\ \x1b[31mred"), NW_OK);
    nw_buf_t b = {0};
    assert_int_equal(nw_json_alert(&b, &a, "tariffs"), NW_OK);
    assert_true(s_valid_json(b.data, b.len));
    assert_null(strchr(b.data, '\x1b'));
    assert_null(strchr(b.data, '\n'));
    nw_buf_free(&b);
    nw_alert_clear(&a);
}

static void test_alert_negative_time_is_before_epoch(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "x");
    a.published_ms = -1;
    nw_buf_t b = {0};
    assert_int_equal(nw_json_alert(&b, &a, "tariffs"), NW_OK);
    assert_non_null(strstr(b.data, "\"published\":\"1969-12-31T23:59:59.999Z\""));
    nw_buf_free(&b);
    nw_alert_clear(&a);
}

static void test_checker_rejects_broken_json(void **state)
{
    (void)state;
    /* The checker itself must be strict, or the tests above prove nothing. */
    assert_false(s_valid_json("{\"a\":\"x\ny\"}", 11));
    assert_false(s_valid_json("{\"a\":\"\\q\"}", 10));
    assert_false(s_valid_json("{\"a\":1", 6));
    assert_false(s_valid_json("{\"a\":\"\xff\"}", 9));
    assert_true(s_valid_json("{\"a\":[1,\"b\",null]}", 18));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_escapes_quote_and_backslash),
        cmocka_unit_test(test_string_escapes_control_characters),
        cmocka_unit_test(test_string_keeps_nul_byte_escaped),
        cmocka_unit_test(test_string_invalid_utf8_becomes_replacement),
        cmocka_unit_test(test_string_keeps_valid_utf8),
        cmocka_unit_test(test_string_escapes_c1_and_line_separators),
        cmocka_unit_test(test_alert_has_every_field),
        cmocka_unit_test(test_alert_without_topic_leaves_it_out),
        cmocka_unit_test(test_alert_with_hostile_text_is_valid_json),
        cmocka_unit_test(test_alert_negative_time_is_before_epoch),
        cmocka_unit_test(test_checker_rejects_broken_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
