/* The alert's article fields added in a minor version: url, article_time, revision
 * (proto/PROTOCOL.md section 5). Kept apart from test_codec.c, which covers the
 * original 18 keys byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_error.h"

static void s_alert(nw_alert_t *a)
{
    assert_int_equal(nw_alert_init(a), NW_OK);
    assert_int_equal(nw_alert_set(&a->id, "0123456789abcdef.2"), NW_OK);
    assert_int_equal(nw_alert_set(&a->article_id, "0123456789abcdef"), NW_OK);
    assert_int_equal(nw_alert_set(&a->text, "Duties rise"), NW_OK);
    assert_int_equal(nw_alert_add_topic(a, "trade"), NW_OK);
    a->seq = 7;
    a->topics[0].seq = 3;
}

/* The frame of a plain alert (18 keys, map16 header de 00 12) with one more key and value
 * appended as raw MessagePack bytes. */
static char *s_frame_plus(const char *extra, size_t extra_len, size_t *size)
{
    nw_alert_t a;
    char *base = NULL;
    size_t n = 0;
    s_alert(&a);
    assert_int_equal(nw_alert_encode(&a, &base, &n), NW_OK);
    nw_alert_clear(&a);
    assert_true((unsigned char)base[0] == 0xde && base[1] == 0 && base[2] == 18);
    char *out = malloc(n + extra_len);
    assert_non_null(out);
    memcpy(out, base, n);
    out[2] = 19;
    memcpy(out + n, extra, extra_len);
    free(base);
    *size = n + extra_len;
    return out;
}

static void test_new_fields_roundtrip(void **state)
{
    (void)state;
    nw_alert_t a, back;
    s_alert(&a);
    assert_int_equal(nw_alert_set(&a.url, "https://news.example/2026/steel"), NW_OK);
    a.article_time_ms = 1764278095123;
    a.revision = 3;
    char *data = NULL;
    size_t size = 0;
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_OK);
    assert_int_equal((unsigned char)data[2], 21); /* 18 keys + the three */
    assert_int_equal(nw_alert_decode(data, size, &back), NW_OK);
    assert_string_equal(back.url, "https://news.example/2026/steel");
    assert_true(back.article_time_ms == 1764278095123);
    assert_int_equal(back.revision, 3);
    free(data);
    nw_alert_clear(&a);
    nw_alert_clear(&back);
}

static void test_absent_fields_are_not_written_and_read_as_defaults(void **state)
{
    (void)state;
    nw_alert_t a, back;
    s_alert(&a);
    assert_int_equal(a.revision, 1);
    char *data = NULL;
    size_t size = 0;
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_OK);
    assert_int_equal((unsigned char)data[2], 18); /* as before the fields existed */
    assert_int_equal(nw_alert_decode(data, size, &back), NW_OK);
    assert_string_equal(back.url, "");
    assert_true(back.article_time_ms == 0);
    assert_int_equal(back.revision, 1);
    free(data);
    nw_alert_clear(&a);
    nw_alert_clear(&back);
}

static void test_revision_zero_is_written_as_one(void **state)
{
    (void)state;
    nw_alert_t a, back;
    s_alert(&a);
    a.revision = 0; /* a zeroed struct */
    char *data = NULL;
    size_t size = 0;
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_OK);
    assert_int_equal(nw_alert_decode(data, size, &back), NW_OK);
    assert_int_equal(back.revision, 1);
    free(data);
    nw_alert_clear(&a);
    nw_alert_clear(&back);
}

static void test_decode_checks_the_new_fields(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
        int want;
    } cases[] = {
        {"\xa8revision\x00", 10, NW_ERR_WIRE_RANGE}, /* revisions count from 1 */
        {"\xa8revision\xa1"
         "2",
         11, NW_ERR_WIRE_TYPE},                                                      /* a str */
        {"\xa8revision\xcf\x00\x00\x00\x01\x00\x00\x00\x00", 18, NW_ERR_WIRE_RANGE}, /* 2^32 */
        {"\xa8revision\xd2\x00\x00\x00\x02", 14, NW_OK}, /* any integer width */
        {"\xac"
         "article_time\xcb\x00\x00\x00\x00\x00\x00\x00\x00",
         22, NW_ERR_WIRE_TYPE}, /* float */
        {"\xac"
         "article_time\xff",
         14, NW_OK},                                  /* -1: before 1970 */
        {"\xa3url\xc4\x01x", 7, NW_ERR_WIRE_TYPE},    /* bin */
        {"\xa3url\xa2\xc3\x28", 7, NW_ERR_WIRE_UTF8}, /* not UTF-8 */
        {"\xa3url\xa1x", 6, NW_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t size = 0;
        char *frame = s_frame_plus(cases[i].bytes, cases[i].len, &size);
        nw_alert_t a;
        int rv = nw_alert_decode(frame, size, &a);
        if (rv != cases[i].want)
            fail_msg("case %zu: got %s, want %s", i, nw_strerror(rv), nw_strerror(cases[i].want));
        if (rv == NW_OK)
            nw_alert_clear(&a);
        free(frame);
    }
}

static void test_decode_rejects_a_new_field_twice(void **state)
{
    (void)state;
    size_t size = 0;
    char *frame = s_frame_plus("\xa3url\xa1x\xa3url\xa1y", 12, &size);
    frame[2] = 20;
    nw_alert_t a;
    assert_int_equal(nw_alert_decode(frame, size, &a), NW_ERR_WIRE_RANGE);
    free(frame);
}

static void test_encode_limits_the_url(void **state)
{
    (void)state;
    nw_alert_t a;
    s_alert(&a);
    char *url = malloc(NW_ALERT_FIELD_MAX + 2);
    assert_non_null(url);
    memset(url, 'u', NW_ALERT_FIELD_MAX + 1);
    url[NW_ALERT_FIELD_MAX + 1] = '\0';
    assert_int_equal(nw_alert_set(&a.url, url), NW_OK);
    char *data = NULL;
    size_t size = 0;
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_ERR_WIRE_OVERSIZE);
    url[NW_ALERT_FIELD_MAX] = '\0';
    assert_int_equal(nw_alert_set(&a.url, url), NW_OK);
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_OK);
    free(data);
    free(url);
    nw_alert_clear(&a);
}

static void test_copy_keeps_the_new_fields(void **state)
{
    (void)state;
    nw_alert_t a, b;
    s_alert(&a);
    assert_int_equal(nw_alert_set(&a.url, "http://x.example/"), NW_OK);
    a.article_time_ms = 5;
    a.revision = 2;
    assert_int_equal(nw_alert_copy(&b, &a), NW_OK);
    nw_alert_clear(&a);
    assert_string_equal(b.url, "http://x.example/");
    assert_true(b.article_time_ms == 5);
    assert_int_equal(b.revision, 2);
    nw_alert_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_fields_roundtrip),
        cmocka_unit_test(test_absent_fields_are_not_written_and_read_as_defaults),
        cmocka_unit_test(test_revision_zero_is_written_as_one),
        cmocka_unit_test(test_decode_checks_the_new_fields),
        cmocka_unit_test(test_decode_rejects_a_new_field_twice),
        cmocka_unit_test(test_encode_limits_the_url),
        cmocka_unit_test(test_copy_keeps_the_new_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
