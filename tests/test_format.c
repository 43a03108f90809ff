/* Tests for subscriber/nw_format: text line, JSON Lines, templates, control bytes neutralised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "nw_alert.h"
#include "nw_buf.h"
#include "nw_error.h"
#include "nw_format.h"

static int s_setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1); /* %{...} and the text form use local time */
    tzset();
    return 0;
}

static void s_alert(nw_alert_t *a, const char *text)
{
    assert_int_equal(nw_alert_init(a), NW_OK);
    assert_int_equal(nw_alert_set(&a->id, "0123456789abcdef.3"), NW_OK);
    assert_int_equal(nw_alert_set(&a->article_id, "0123456789abcdef"), NW_OK);
    assert_int_equal(nw_alert_set(&a->text, text), NW_OK);
    assert_int_equal(nw_alert_set(&a->title, "Steel duties"), NW_OK);
    assert_int_equal(nw_alert_set(&a->source, "Wire"), NW_OK);
    assert_int_equal(nw_alert_set(&a->author, "A. Writer"), NW_OK);
    assert_int_equal(nw_alert_set(&a->place, "Geneva"), NW_OK);
    assert_int_equal(nw_alert_set(&a->section, "Trade"), NW_OK);
    assert_int_equal(nw_alert_set(&a->stream, "feedfacecafebeef"), NW_OK);
    assert_int_equal(nw_alert_add_topic(a, "tariffs"), NW_OK);
    assert_int_equal(nw_alert_add_topic(a, "trade"), NW_OK);
    a->topics[0].seq = 7;
    a->topics[1].seq = 9;
    a->index = 3;
    a->kind = NW_KIND_KEYPOINT;
    a->priority = NW_PRIORITY_URGENT;
    a->seq = 42;
    a->published_ms = 1764278095123; /* 2025-11-27T21:14:55.123Z */
}

/* Formats a with spec and returns the record (caller frees). */
static char *s_format(const char *spec, bool colour, const nw_alert_t *a, const char *topic)
{
    nw_format_t *f = NULL;
    char err[256];
    assert_int_equal(nw_format_new(spec, colour, &f, err, sizeof err), NW_OK);
    nw_buf_t b = {0};
    assert_int_equal(nw_format_alert(f, a, topic, NULL, &b), NW_OK);
    nw_format_destroy(&f);
    assert_null(f);
    return nw_buf_steal(&b);
}

static char *s_visible(const char *s, size_t len)
{
    nw_buf_t b = {0};
    assert_int_equal(nw_format_visible(&b, s, len), NW_OK);
    return nw_buf_steal(&b);
}

static void test_visible_escape_becomes_symbol(void **state)
{
    (void)state;
    char *out = s_visible("red\x1b[31m!\x1b]0;pwned\x07", 19);
    assert_string_equal(out, "red\xe2\x90\x9b[31m!\xe2\x90\x9b]0;pwned\xe2\x90\x87");
    assert_null(strchr(out, '\x1b'));
    free(out);
}

static void test_visible_newline_tab_nul_del(void **state)
{
    (void)state;
    char *out = s_visible("a\nb\tc\0d\x7f", 8);
    assert_string_equal(out, "a\xe2\x90\x8a"
                             "b\xe2\x90\x89"
                             "c\xe2\x90\x80"
                             "d\xe2\x90\xa1");
    free(out);
}

static void test_visible_c1_and_bidi_controls(void **state)
{
    (void)state;
    /* U+009B is CSI on some terminals; U+202E reverses the text that follows. */
    char *out = s_visible("a\xc2\x9b"
                          "2Jb\xe2\x80\xae"
                          "c",
                          10);
    assert_string_equal(out, "a<U+009B>2Jb<U+202E>c");
    free(out);
}

static void test_visible_invalid_bytes_become_replacement(void **state)
{
    (void)state;
    /* A raw 0x9B byte is CSI for an 8-bit terminal: it must not pass either. */
    char *out = s_visible("a\x9b"
                          "b\xff",
                          4);
    assert_string_equal(out, "a\xef\xbf\xbd"
                             "b\xef\xbf\xbd");
    free(out);
}

static void test_visible_keeps_printable_utf8(void **state)
{
    (void)state;
    char *out = s_visible("caf\xc3\xa9 \xe2\x80\x94 \xe6\x96\xb0\xe9\x97\xbb", 16);
    assert_string_equal(out, "caf\xc3\xa9 \xe2\x80\x94 \xe6\x96\xb0\xe9\x97\xbb");
    free(out);
}

static void test_text_line_has_time_topics_priority_text_title_source(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "Duties on steel rise to 25%");
    char *out = s_format("text", false, &a, "tariffs");
    assert_string_equal(out, "2025-11-27 21:14:55 [tariffs,trade] urgent: Duties on steel rise "
                             "to 25% -- Steel duties (Wire)\n");
    free(out);
    nw_alert_clear(&a);
}

static void test_text_headline_does_not_repeat_title(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "Steel duties");
    a.kind = NW_KIND_HEADLINE;
    char *out = s_format("text", false, &a, "tariffs");
    assert_string_equal(out, "2025-11-27 21:14:55 [tariffs,trade] urgent: Steel duties (Wire)\n");
    free(out);
    nw_alert_clear(&a);
}

static void test_text_neutralises_escapes_in_every_field(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "clear\x1b[2J\x1b[Hscreen\n\rfake line");
    assert_int_equal(nw_alert_set(&a.title, "\x1b]0;title\x07"), NW_OK);
    assert_int_equal(nw_alert_set(&a.source, "src\x1b[5m"), NW_OK);
    char *out = s_format("text", false, &a, "tariffs");
    assert_null(strchr(out, '\x1b'));
    assert_null(strchr(out, '\r'));
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1); /* one line */
    assert_non_null(strstr(out, "clear\xe2\x90\x9b[2J"));
    free(out);
    nw_alert_clear(&a);
}

static void test_text_colour_only_when_asked(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "plain \x1b[31m");
    char *plain = s_format("text", false, &a, "tariffs");
    char *colour = s_format("text", true, &a, "tariffs");
    assert_null(strchr(plain, '\x1b'));
    assert_non_null(strstr(colour, "\x1b[1;31murgent\x1b[0m")); /* urgent in bold red */
    assert_non_null(strstr(colour, "plain \xe2\x90\x9b[31m"));  /* the text's own ESC: shown */
    free(plain);
    free(colour);
    nw_alert_clear(&a);
}

static void test_json_form_is_one_line(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "line one\nline two");
    char *out = s_format("json", false, &a, "trade");
    assert_int_equal(out[0], '{');
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
    assert_non_null(strstr(out, "\"topic\":\"trade\""));
    assert_non_null(strstr(out, "line one\\nline two"));
    free(out);
    nw_alert_clear(&a);
}

static void test_template_every_placeholder(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "Duties rise");
    char *out =
        s_format("%t|%T|%k|%p|%m|%h|%s|%a|%l|%S|%i|%A|%n|%q|%Q|%r|%I|%U", false, &a, "trade");
    assert_string_equal(out, "trade|tariffs,trade|keypoint|urgent|Duties rise|Steel duties|Wire|"
                             "A. Writer|Geneva|Trade|0123456789abcdef.3|0123456789abcdef|3|42|9|"
                             "feedfacecafebeef|2025-11-27T21:14:55.123Z|1764278095123\n");
    free(out);
    nw_alert_clear(&a);
}

static void test_template_json_placeholder(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "say \"hi\"");
    char *out = s_format("%t %j", false, &a, "tariffs");
    assert_non_null(strstr(out, "tariffs {\"id\":"));
    assert_non_null(strstr(out, "\"text\":\"say \\\"hi\\\"\"}\n"));
    free(out);
    nw_alert_clear(&a);
}

static void test_template_strftime_and_escapes(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "x");
    char *out = s_format("%{%H:%M}\\t%%p=%p\\n\\\\%{%Y}", false, &a, "tariffs");
    assert_string_equal(out, "21:14\t%p=urgent\n\\2025\n");
    free(out);
    nw_alert_clear(&a);
}

static void test_template_neutralises_escapes(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "\x1b[2Jgone");
    char *out = s_format("%m", false, &a, "tariffs");
    assert_string_equal(out, "\xe2\x90\x9b[2Jgone\n");
    free(out);
    nw_alert_clear(&a);
}

static void test_template_errors_name_the_flag(void **state)
{
    (void)state;
    const char *bad[] = {"%z", "plain words", "%", "%{%H", "%{}", "\\e%m", "jsonl"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nw_format_t *f = NULL;
        char err[256] = "";
        assert_int_equal(nw_format_new(bad[i], false, &f, err, sizeof err), NW_ERR_INVAL);
        assert_null(f);
        if (strstr(err, "--format") == NULL)
            fail_msg("'%s': message '%s' does not name --format", bad[i], err);
    }
}

/* The JSON rendered once per delivery is used as given (json form and %j), and only the
 * forms that show it ask for it. */
static void test_prerendered_json_is_used_as_given(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, "text");
    const struct {
        const char *spec;
        bool wants;
        const char *record;
    } cases[] = {
        {"json", true, "{\"given\":1}\n"},
        {"<%j>", true, "<{\"given\":1}>\n"},
        {"%%j %i", false, "%j 0123456789abcdef.3\n"},
        {"text", false, NULL},
        {"\\\\%j", true, "\\{\"given\":1}\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nw_format_t *f = NULL;
        char err[256];
        assert_int_equal(nw_format_new(cases[i].spec, false, &f, err, sizeof err), NW_OK);
        if (nw_format_wants_json(f) != cases[i].wants)
            fail_msg("case %zu (%s): wants_json is %d", i, cases[i].spec, !cases[i].wants);
        nw_buf_t b = {0};
        assert_int_equal(nw_format_alert(f, &a, "tariffs", "{\"given\":1}", &b), NW_OK);
        if (cases[i].record != NULL)
            assert_string_equal(b.data, cases[i].record);
        nw_buf_free(&b);
        nw_format_destroy(&f);
    }
    nw_alert_clear(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visible_escape_becomes_symbol),
        cmocka_unit_test(test_visible_newline_tab_nul_del),
        cmocka_unit_test(test_visible_c1_and_bidi_controls),
        cmocka_unit_test(test_visible_invalid_bytes_become_replacement),
        cmocka_unit_test(test_visible_keeps_printable_utf8),
        cmocka_unit_test(test_text_line_has_time_topics_priority_text_title_source),
        cmocka_unit_test(test_text_headline_does_not_repeat_title),
        cmocka_unit_test(test_text_neutralises_escapes_in_every_field),
        cmocka_unit_test(test_text_colour_only_when_asked),
        cmocka_unit_test(test_json_form_is_one_line),
        cmocka_unit_test(test_template_every_placeholder),
        cmocka_unit_test(test_template_json_placeholder),
        cmocka_unit_test(test_prerendered_json_is_used_as_given),
        cmocka_unit_test(test_template_strftime_and_escapes),
        cmocka_unit_test(test_template_neutralises_escapes),
        cmocka_unit_test(test_template_errors_name_the_flag),
    };
    return cmocka_run_group_tests(tests, s_setup, NULL);
}
