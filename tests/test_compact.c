/* Tests for subscriber/nw_compact (the compact view), nw_kinds (--kind) and nw_nopub (the
 * no-publisher warning's clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nw_compact.h"
#include "nw_error.h"
#include "nw_kinds.h"
#include "nw_nopub.h"
#include "nw_utf8.h"

static void s_alert(nw_alert_t *a, const char *article, nw_alert_kind_t kind, const char *text)
{
    assert_int_equal(nw_alert_init(a), NW_OK);
    assert_int_equal(nw_alert_set(&a->article_id, article), NW_OK);
    assert_int_equal(nw_alert_set(&a->title, "Steel tariffs widen"), NW_OK);
    assert_int_equal(nw_alert_set(&a->source, "Wire"), NW_OK);
    assert_int_equal(nw_alert_set(&a->text, text), NW_OK);
    assert_int_equal(nw_alert_add_topic(a, "tariffs"), NW_OK);
    a->kind = kind;
}

/* Code points in the line starting at s, up to its newline. */
static size_t s_columns(const char *s)
{
    size_t n = 0, len = strcspn(s, "\n");
    for (size_t i = 0; i < len; n++) {
        uint32_t cp;
        size_t k = nw_utf8_next(s + i, len - i, &cp);
        i += k ? k : 1;
    }
    return n;
}

static void test_title_once_alerts_indented(void **state)
{
    (void)state;
    nw_compact_t *c = NULL;
    nw_buf_t out = {0};
    nw_alert_t a1, a2, a3;
    s_alert(&a1, "aaaa", NW_KIND_HEADLINE, "Steel tariffs widen");
    s_alert(&a2, "aaaa", NW_KIND_KEYPOINT, "Duties rise");
    s_alert(&a3, "bbbb", NW_KIND_PARAGRAPH, "Another story");
    a3.priority = NW_PRIORITY_URGENT;
    assert_int_equal(nw_compact_new(0, false, &c), NW_OK);
    assert_int_equal(nw_compact_alert(c, &a1, &out), NW_OK);
    assert_int_equal(nw_compact_alert(c, &a2, &out), NW_OK);
    assert_int_equal(nw_compact_alert(c, &a3, &out), NW_OK);
    assert_int_equal(nw_buf_append(&out, "", 1), NW_OK);
    /* Two title lines (one per article), three alert lines. */
    const char *p = out.data;
    int titles = 0;
    for (const char *q = p; (q = strstr(q, "Steel tariffs widen \xE2\x80\x94 Wire\n")); q++)
        titles++;
    assert_int_equal(titles, 2);
    assert_non_null(strstr(p, "\n  [tariffs] Steel tariffs widen\n"));
    assert_non_null(strstr(p, "\n  \xE2\x80\xA2 [tariffs] Duties rise\n"));
    assert_non_null(strstr(p, "\n    URGENT [tariffs] Another story\n"));
    nw_buf_free(&out);
    nw_compact_destroy(&c);
    assert_null(c);
    nw_alert_clear(&a1);
    nw_alert_clear(&a2);
    nw_alert_clear(&a3);
}

static void test_lines_cut_to_width(void **state)
{
    (void)state;
    nw_compact_t *c = NULL;
    nw_buf_t out = {0};
    nw_alert_t a;
    s_alert(&a, "cccc", NW_KIND_PARAGRAPH,
            "\xC3\xA9l\xC3\xA8ve: a very long paragraph that goes on and on well past the "
            "width of any reasonable terminal window");
    assert_int_equal(nw_compact_new(30, false, &c), NW_OK);
    assert_int_equal(nw_compact_alert(c, &a, &out), NW_OK);
    assert_int_equal(nw_buf_append(&out, "", 1), NW_OK);
    const char *second = strchr(out.data, '\n') + 1;
    assert_int_equal(s_columns(out.data), 30); /* "HH:MM  Steel tariffs widen — Wire" is 33 */
    assert_int_equal(s_columns(second), 30);
    assert_non_null(strstr(second, "\xE2\x80\xA6\n")); /* ends in … */
    nw_buf_free(&out);
    nw_compact_destroy(&c);
    nw_alert_clear(&a);
}

static void test_control_characters_never_reach_the_terminal(void **state)
{
    (void)state;
    nw_compact_t *c = NULL;
    nw_buf_t out = {0};
    nw_alert_t a;
    s_alert(&a, "dddd", NW_KIND_PARAGRAPH, "bell\x07 and \x1b[31mred");
    assert_int_equal(nw_compact_new(0, false, &c), NW_OK);
    assert_int_equal(nw_compact_alert(c, &a, &out), NW_OK);
    for (size_t i = 0; i < out.len; i++)
        assert_true(out.data[i] == '\n' || (unsigned char)out.data[i] >= 0x20);
    nw_buf_free(&out);
    nw_compact_destroy(&c);
    nw_alert_clear(&a);
}

/* With colour, the title line is bold and its escapes do not count toward the width. */
static void test_colour_title_bold_width_kept(void **state)
{
    (void)state;
    nw_compact_t *c = NULL;
    nw_buf_t out = {0};
    nw_alert_t a;
    s_alert(&a, "eeee", NW_KIND_HEADLINE, "Steel tariffs widen");
    assert_int_equal(nw_compact_new(20, true, &c), NW_OK);
    assert_int_equal(nw_compact_alert(c, &a, &out), NW_OK);
    assert_int_equal(nw_buf_append(&out, "", 1), NW_OK);
    assert_int_equal(strncmp(out.data, "\x1b[1m", 4), 0);
    const char *reset = strstr(out.data, "\x1b[0m\n");
    assert_non_null(reset);
    assert_int_equal(s_columns(out.data + 4), 20 + 4); /* 20 shown, then ESC [ 0 m */
    assert_null(strstr(reset + 5, "\x1b"));            /* the alert line is plain */
    nw_buf_free(&out);
    nw_compact_destroy(&c);
    nw_alert_clear(&a);
}

static void test_kinds_parse_and_match(void **state)
{
    (void)state;
    char err[256];
    unsigned mask = 99;
    assert_int_equal(nw_kinds_parse("--kind", "headline,keypoint", &mask, err, sizeof err), NW_OK);
    assert_true(nw_kinds_match(mask, NW_KIND_HEADLINE));
    assert_true(nw_kinds_match(mask, NW_KIND_KEYPOINT));
    assert_false(nw_kinds_match(mask, NW_KIND_PARAGRAPH));
    assert_true(nw_kinds_match(0, NW_KIND_PARAGRAPH));
    assert_int_equal(nw_kinds_parse("--kind", "headline,bogus", &mask, err, sizeof err),
                     NW_ERR_INVAL);
    assert_non_null(strstr(err, "--kind: 'bogus' is not a kind"));
    assert_int_equal(nw_kinds_parse("--kind", "headline,", &mask, err, sizeof err), NW_ERR_INVAL);
    assert_int_equal(nw_kinds_parse("--kind", "", &mask, err, sizeof err), NW_ERR_INVAL);
}

static void test_nopub_warns_once_after_the_timeout(void **state)
{
    (void)state;
    nw_nopub_t n;
    nw_nopub_init(&n, 1000, 3000);
    assert_false(nw_nopub_due(&n, 3999));
    assert_true(nw_nopub_due(&n, 4000));
    assert_false(nw_nopub_due(&n, 9000)); /* once */
    nw_nopub_init(&n, 0, 3000);
    nw_nopub_heard(&n);
    assert_false(nw_nopub_due(&n, 60000)); /* heard: never */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_title_once_alerts_indented),
        cmocka_unit_test(test_lines_cut_to_width),
        cmocka_unit_test(test_control_characters_never_reach_the_terminal),
        cmocka_unit_test(test_colour_title_bold_width_kept),
        cmocka_unit_test(test_kinds_parse_and_match),
        cmocka_unit_test(test_nopub_warns_once_after_the_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
