/* The article fields (url, article_time, revision) in the subscriber's outputs: JSON
 * (proto/nw_json), the text line and the template placeholders (subscriber/nw_format). */
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
#include "nw_json.h"

static void s_alert(nw_alert_t *a, bool with_fields)
{
    assert_int_equal(nw_alert_init(a), NW_OK);
    assert_int_equal(nw_alert_set(&a->id, "0123456789abcdef.3.r2"), NW_OK);
    assert_int_equal(nw_alert_set(&a->article_id, "0123456789abcdef"), NW_OK);
    assert_int_equal(nw_alert_set(&a->text, "Duties rise"), NW_OK);
    assert_int_equal(nw_alert_add_topic(a, "trade"), NW_OK);
    a->kind = NW_KIND_PARAGRAPH;
    if (with_fields) {
        assert_int_equal(nw_alert_set(&a->url, "https://news.example/a?b=1"), NW_OK);
        a->article_time_ms = 1764278095123;
        a->revision = 2;
    }
}

static char *s_format(const char *spec, const nw_alert_t *a)
{
    nw_format_t *f = NULL;
    char err[256];
    assert_int_equal(nw_format_new(spec, false, &f, err, sizeof err), NW_OK);
    nw_buf_t b = {0};
    assert_int_equal(nw_format_alert(f, a, "trade", NULL, &b), NW_OK);
    nw_format_destroy(&f);
    return b.data;
}

static void test_json_shows_the_fields_before_text(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, true);
    nw_buf_t b = {0};
    assert_int_equal(nw_json_alert(&b, &a, NULL), NW_OK);
    assert_non_null(strstr(b.data, "\"url\":\"https://news.example/a?b=1\","
                                   "\"article_time\":\"2025-11-27T21:14:55.123Z\","
                                   "\"revision\":2,\"text\":\"Duties rise\"}"));
    nw_buf_free(&b);
    nw_alert_clear(&a);
}

static void test_json_shows_unknown_time_as_null_and_revision_one(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, false);
    nw_buf_t b = {0};
    assert_int_equal(nw_json_alert(&b, &a, NULL), NW_OK);
    assert_non_null(strstr(b.data, "\"url\":\"\",\"article_time\":null,\"revision\":1,"));
    nw_buf_free(&b);
    nw_alert_clear(&a);
}

static void test_text_line_shows_revision_and_link(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, true);
    char *line = s_format("text", &a);
    assert_non_null(strstr(line, "Duties rise [revision 2] <https://news.example/a?b=1>\n"));
    free(line);
    nw_alert_clear(&a);
    s_alert(&a, false);
    line = s_format("text", &a);
    assert_null(strstr(line, "[revision"));
    assert_null(strstr(line, "<"));
    free(line);
    nw_alert_clear(&a);
}

static void test_template_placeholders(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a, true);
    char *line = s_format("%u|%v|%o", &a);
    assert_string_equal(line, "https://news.example/a?b=1|2|2025-11-27T21:14:55.123Z\n");
    free(line);
    nw_alert_clear(&a);
    s_alert(&a, false);
    line = s_format("%u|%v|%o", &a);
    assert_string_equal(line, "|1|\n");
    free(line);
    nw_alert_clear(&a);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_shows_the_fields_before_text),
        cmocka_unit_test(test_json_shows_unknown_time_as_null_and_revision_one),
        cmocka_unit_test(test_text_line_shows_revision_and_link),
        cmocka_unit_test(test_template_placeholders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
