/* Tests for proto/nw_codec: round trips of every field, strict decoding of hostile
 * frames (one specific error per fault), bounded memory, and the example frame in
 * proto/PROTOCOL.md staying what the encoder produces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "nw_alert.h"
#include "nw_buf.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_topic.h"
#include "nw_wire_check.h"

#define S_RAW(lit) lit, sizeof(lit) - 1

/* ------------------------------------------------------------------ helpers */

/* The alert shown byte by byte in proto/PROTOCOL.md; change both together. */
static void s_example_alert(nw_alert_t *a)
{
    assert_int_equal(nw_alert_init(a), NW_OK);
    assert_int_equal(nw_alert_set(&a->id, "5e0c2a9f71d43b86.3"), NW_OK);
    assert_int_equal(nw_alert_set(&a->article_id, "5e0c2a9f71d43b86"), NW_OK);
    a->index = 3;
    a->kind = NW_KIND_KEYPOINT;
    a->priority = NW_PRIORITY_HIGH;
    a->published_ms = 1718960400000; /* 2024-06-21T09:00:00Z */
    assert_int_equal(nw_alert_set(&a->stream, "9f2c4e1a7b3d5c60"), NW_OK);
    a->seq = 1042;
    assert_int_equal(nw_alert_add_topic(a, "trade.tariffs"), NW_OK);
    assert_int_equal(nw_alert_add_topic(a, "markets"), NW_OK);
    a->topics[0].seq = 57;
    a->topics[1].seq = 311;
    assert_int_equal(nw_alert_set(&a->title, "EU raises tariffs on steel"), NW_OK);
    assert_int_equal(nw_alert_set(&a->section, "Quick Looks"), NW_OK);
    assert_int_equal(nw_alert_set(&a->source, "Example Wire"), NW_OK);
    assert_int_equal(nw_alert_set(&a->author, ""), NW_OK);
    assert_int_equal(nw_alert_set(&a->place, "Brussels"), NW_OK);
    assert_int_equal(nw_alert_set(&a->text, "Steel duties rise to 25% on 1 July."), NW_OK);
}

static void s_assert_alert_equal(const nw_alert_t *x, const nw_alert_t *y)
{
    assert_string_equal(x->id, y->id);
    assert_string_equal(x->article_id, y->article_id);
    assert_int_equal(x->index, y->index);
    assert_int_equal(x->kind, y->kind);
    assert_string_equal(x->text, y->text);
    assert_string_equal(x->title, y->title);
    assert_string_equal(x->source, y->source);
    assert_string_equal(x->author, y->author);
    assert_string_equal(x->place, y->place);
    assert_string_equal(x->section, y->section);
    assert_int_equal(x->priority, y->priority);
    assert_true(x->published_ms == y->published_ms);
    assert_string_equal(x->stream, y->stream);
    assert_true(x->seq == y->seq);
    assert_int_equal(x->n_topics, y->n_topics);
    for (size_t i = 0; i < x->n_topics; i++) {
        assert_string_equal(x->topics[i].name, y->topics[i].name);
        assert_true(x->topics[i].seq == y->topics[i].seq);
    }
}

/* Encodes a, decodes the bytes, and checks every field came back unchanged. */
static void s_roundtrip(const nw_alert_t *a)
{
    char *data = NULL;
    size_t size = 0;
    nw_alert_t back;
    assert_int_equal(nw_alert_encode(a, &data, &size), NW_OK);
    assert_true(size > 0 && size <= NW_FRAME_MAX);
    size_t measured = 0;
    assert_int_equal(nw_alert_encoded_size(a, &measured), NW_OK);
    assert_int_equal(measured, size);
    assert_int_equal(nw_alert_decode(data, size, &back), NW_OK);
    s_assert_alert_equal(a, &back);
    nw_alert_clear(&back);
    free(data);
}

static char *s_repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Decodes size bytes from an exactly-sized heap copy (so ASan sees any over-read)
 * and returns the result; on error checks that the alert was left owning nothing. */
static int s_decode(const void *bytes, size_t size)
{
    char *copy = malloc(size ? size : 1);
    assert_non_null(copy);
    if (size > 0)
        memcpy(copy, bytes, size);
    nw_alert_t a;
    int rv = nw_alert_decode(copy, size, &a);
    if (rv == NW_OK) {
        nw_alert_clear(&a);
    } else {
        assert_null(a.id);
        assert_null(a.text);
        assert_int_equal(a.n_topics, 0);
    }
    free(copy);
    return rv;
}

/* A hand-built alert frame: the fields below, in this order, as raw MessagePack, so
 * a test can leave one out, swap its bytes, or append a key. */
typedef struct {
    const char *key;
    const char *raw;
    size_t raw_len;
} s_field_t;

static const s_field_t s_base_fields[] = {
    {"v", S_RAW("\x01")},
    {"type", S_RAW("\xa5"
                   "alert")},
    {"id", S_RAW("\xa4"
                 "ab.0")},
    {"article", S_RAW("\xa2"
                      "ab")},
    {"index", S_RAW("\x00")},
    {"kind", S_RAW("\xa8"
                   "headline")},
    {"priority", S_RAW("\x01")},
    {"published", S_RAW("\x2a")},
    {"stream", S_RAW("\xa4"
                     "s123")},
    {"seq", S_RAW("\x07")},
    {"topics", S_RAW("\x92\xa7"
                     "defense"
                     "\xa7"
                     "markets")},
    {"tseq", S_RAW("\x82\xa7"
                   "defense"
                   "\x03\xa7"
                   "markets"
                   "\x09")},
    {"title", S_RAW("\xa1"
                    "T")},
    {"section", S_RAW("\xa0")},
    {"source", S_RAW("\xa0")},
    {"author", S_RAW("\xa0")},
    {"place", S_RAW("\xa0")},
    {"text", S_RAW("\xa5"
                   "hello")},
};
#define S_N_BASE (sizeof s_base_fields / sizeof s_base_fields[0])

static void s_put_str(nw_buf_t *b, const char *s, size_t n)
{
    unsigned char h[5];
    size_t hl;
    if (n < 32) {
        h[0] = (unsigned char)(0xa0 | n), hl = 1;
    } else if (n < 256) {
        h[0] = 0xd9, h[1] = (unsigned char)n, hl = 2;
    } else if (n < 65536) {
        h[0] = 0xda, h[1] = (unsigned char)(n >> 8), h[2] = (unsigned char)n, hl = 3;
    } else {
        h[0] = 0xdb, h[1] = (unsigned char)(n >> 24), h[2] = (unsigned char)(n >> 16);
        h[3] = (unsigned char)(n >> 8), h[4] = (unsigned char)n, hl = 5;
    }
    assert_int_equal(nw_buf_append(b, h, hl), NW_OK);
    assert_int_equal(nw_buf_append(b, s, n), NW_OK);
}

/* Builds the base alert frame into b, leaving out key omit (or NULL), giving key
 * swap (or NULL) the value bytes raw, and appending key extra (or NULL) with raw. */
static void s_build(nw_buf_t *b, const char *omit, const char *swap, const char *extra,
                    const char *raw, size_t raw_len)
{
    size_t n = S_N_BASE - (omit != NULL) + (extra != NULL);
    unsigned char head[3] = {0xde, (unsigned char)(n >> 8), (unsigned char)n};
    nw_buf_reset(b);
    assert_int_equal(nw_buf_append(b, head, sizeof head), NW_OK);
    for (size_t i = 0; i < S_N_BASE; i++) {
        const s_field_t *f = &s_base_fields[i];
        if (omit != NULL && strcmp(f->key, omit) == 0)
            continue;
        s_put_str(b, f->key, strlen(f->key));
        if (swap != NULL && strcmp(f->key, swap) == 0)
            assert_int_equal(nw_buf_append(b, raw, raw_len), NW_OK);
        else
            assert_int_equal(nw_buf_append(b, f->raw, f->raw_len), NW_OK);
    }
    if (extra != NULL) {
        s_put_str(b, extra, strlen(extra));
        assert_int_equal(nw_buf_append(b, raw, raw_len), NW_OK);
    }
}

static long s_maxrss_kb(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* ---------------------------------------------------------------- round trips */

static void test_roundtrip_every_field(void **state)
{
    (void)state;
    nw_alert_t a;
    s_example_alert(&a);
    assert_int_equal(nw_alert_set(&a.author, "J. Doe"), NW_OK);
    s_roundtrip(&a);
    nw_alert_clear(&a);
}

static void test_roundtrip_every_kind_and_priority(void **state)
{
    (void)state;
    nw_alert_t a;
    s_example_alert(&a);
    for (int k = NW_KIND_HEADLINE; k <= NW_KIND_PARAGRAPH; k++) {
        for (int p = NW_PRIORITY_LOW; p <= NW_PRIORITY_URGENT; p++) {
            a.kind = (nw_alert_kind_t)k;
            a.priority = (nw_priority_t)p;
            s_roundtrip(&a);
        }
    }
    nw_alert_clear(&a);
}

static void test_roundtrip_empty_strings(void **state)
{
    (void)state;
    nw_alert_t a;
    assert_int_equal(nw_alert_init(&a), NW_OK);
    assert_int_equal(nw_alert_set(&a.id, "x"), NW_OK); /* the one string that must not be "" */
    assert_int_equal(nw_alert_add_topic(&a, "general"), NW_OK);
    s_roundtrip(&a);
    nw_alert_clear(&a);
}

static void test_roundtrip_maximal_values(void **state)
{
    (void)state;
    nw_alert_t a;
    assert_int_equal(nw_alert_init(&a), NW_OK);
    char **fields[] = {&a.id,     &a.article_id, &a.title,   &a.source,
                       &a.author, &a.place,      &a.section, &a.stream};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = s_repeat((char)('a' + i), NW_ALERT_FIELD_MAX);
    }
    free(a.text);
    a.text = s_repeat('t', NW_ALERT_TEXT_MAX);
    for (int i = 0; i < NW_ALERT_TOPICS_MAX; i++) {
        char name[NW_TOPIC_MAX + 1];
        memset(name, 'q', NW_TOPIC_MAX);
        snprintf(name, sizeof name, "%02d", i);
        name[2] = 'q'; /* keep the full NW_TOPIC_MAX length, unique by its first 2 bytes */
        name[NW_TOPIC_MAX] = '\0';
        assert_int_equal(nw_alert_add_topic(&a, name), NW_OK);
        a.topics[i].seq = UINT64_MAX - (uint64_t)i;
    }
    a.index = UINT32_MAX;
    a.seq = UINT64_MAX;
    a.published_ms = INT64_MAX;
    a.priority = NW_PRIORITY_URGENT;
    a.kind = NW_KIND_PARAGRAPH;
    s_roundtrip(&a);
    a.published_ms = INT64_MIN;
    s_roundtrip(&a);
    nw_alert_clear(&a);
}

static void test_roundtrip_non_ascii_text(void **state)
{
    (void)state;
    nw_alert_t a;
    s_example_alert(&a);
    assert_int_equal(nw_alert_set(&a.text, "Zölle auf Stahl: +25 % — 関税 😀 \xf4\x8f\xbf\xbf"),
                     NW_OK);
    assert_int_equal(nw_alert_set(&a.author, "Ana Muñoz"), NW_OK);
    assert_int_equal(nw_alert_set(&a.place, "Zürich"), NW_OK);
    s_roundtrip(&a);
    nw_alert_clear(&a);
}

static void test_roundtrip_negative_time(void **state)
{
    (void)state;
    nw_alert_t a;
    s_example_alert(&a);
    a.published_ms = -1; /* a minute before 1970 is still a time */
    s_roundtrip(&a);
    a.published_ms = -86400000;
    s_roundtrip(&a);
    nw_alert_clear(&a);
}

static void test_heartbeat_roundtrip(void **state)
{
    (void)state;
    nw_alert_topic_t topics[] = {
        {"trade.tariffs", 57}, {"markets", 311}, {"general", 0}, {"defense", UINT64_MAX}};
    nw_heartbeat_t hb = {.stream = "9f2c4e1a7b3d5c60",
                         .seq = 1042,
                         .time_ms = 1718960401000,
                         .interval_ms = 1000,
                         .replay = "tcp://news.example:5557",
                         .topics = topics,
                         .n_topics = 4};
    char *data = NULL;
    size_t size = 0;
    nw_heartbeat_t back;
    assert_int_equal(nw_heartbeat_encode(&hb, &data, &size), NW_OK);
    assert_int_equal(nw_heartbeat_decode(data, size, &back), NW_OK);
    assert_string_equal(back.stream, hb.stream);
    assert_true(back.seq == hb.seq);
    assert_true(back.time_ms == hb.time_ms);
    assert_int_equal(back.interval_ms, hb.interval_ms);
    assert_string_equal(back.replay, hb.replay);
    assert_int_equal(back.n_topics, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(back.topics[i].name, topics[i].name);
        assert_true(back.topics[i].seq == topics[i].seq);
    }
    nw_heartbeat_clear(&back);
    nw_heartbeat_clear(&back); /* safe twice */
    free(data);
}

static void test_heartbeat_roundtrip_before_first_alert(void **state)
{
    (void)state;
    nw_heartbeat_t hb = {.stream = "9f2c4e1a7b3d5c60", .replay = "", .interval_ms = 1000};
    char *data = NULL;
    size_t size = 0;
    nw_heartbeat_t back;
    assert_int_equal(nw_heartbeat_encode(&hb, &data, &size), NW_OK);
    assert_int_equal(nw_heartbeat_decode(data, size, &back), NW_OK);
    assert_true(back.seq == 0);
    assert_int_equal(back.n_topics, 0);
    assert_null(back.topics);
    assert_string_equal(back.replay, "");
    nw_heartbeat_clear(&back);
    free(data);
}

static void test_alert_and_heartbeat_frames_are_not_interchangeable(void **state)
{
    (void)state;
    nw_alert_t a;
    nw_heartbeat_t hb = {.stream = "s", .replay = ""};
    char *adata = NULL, *hdata = NULL;
    size_t asize = 0, hsize = 0;
    s_example_alert(&a);
    assert_int_equal(nw_alert_encode(&a, &adata, &asize), NW_OK);
    assert_int_equal(nw_heartbeat_encode(&hb, &hdata, &hsize), NW_OK);
    nw_heartbeat_t hback;
    assert_int_equal(nw_heartbeat_decode(adata, asize, &hback), NW_ERR_WIRE_RANGE);
    assert_null(hback.stream);
    assert_int_equal(s_decode(hdata, hsize), NW_ERR_WIRE_RANGE);
    nw_alert_clear(&a);
    free(adata);
    free(hdata);
}

/* ---------------------------------------------------------------- encoding */

static void test_encode_rejects_unsendable_alerts(void **state)
{
    (void)state;
    nw_alert_t a;
    char *data = (char *)"untouched";
    size_t size = 7;

    s_example_alert(&a);
    for (size_t i = 0; i < a.n_topics; i++)
        free(a.topics[i].name);
    a.n_topics = 0;
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_ERR_INVAL); /* no topics */
    assert_int_equal(nw_alert_encoded_size(&a, &size), NW_ERR_INVAL);
    nw_alert_clear(&a);

    s_example_alert(&a);
    free(a.topics[1].name);
    a.topics[1].name = strdup("Bad Topic");
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_ERR_INVAL);
    free(a.topics[1].name);
    a.topics[1].name = strdup("trade.tariffs"); /* duplicate */
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_ERR_INVAL);
    nw_alert_clear(&a);

    s_example_alert(&a);
    assert_int_equal(nw_alert_set(&a.title, "caf\xe9"), NW_OK); /* Latin-1, not UTF-8 */
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_ERR_INVAL);
    assert_int_equal(nw_alert_set(&a.title, ""), NW_OK);
    assert_int_equal(nw_alert_set(&a.id, ""), NW_OK);
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_ERR_INVAL);
    assert_int_equal(nw_alert_set(&a.id, "x.0"), NW_OK);
    a.kind = (nw_alert_kind_t)7;
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_ERR_INVAL);
    a.kind = NW_KIND_HEADLINE;
    a.priority = (nw_priority_t)4;
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_ERR_INVAL);
    nw_alert_clear(&a);

    assert_string_equal(data, "untouched");
    assert_int_equal(size, 7);
}

static void test_encode_rejects_oversize_fields(void **state)
{
    (void)state;
    nw_alert_t a;
    char *data = NULL;
    size_t size = 0;
    s_example_alert(&a);
    free(a.text);
    a.text = s_repeat('t', NW_ALERT_TEXT_MAX + 1);
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_ERR_WIRE_OVERSIZE);
    assert_int_equal(nw_alert_encoded_size(&a, &size), NW_ERR_WIRE_OVERSIZE);
    free(a.text);
    a.text = s_repeat('t', 10);
    free(a.section);
    a.section = s_repeat('s', NW_ALERT_FIELD_MAX + 1);
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_ERR_WIRE_OVERSIZE);
    assert_null(data);
    nw_alert_clear(&a);
}

static void test_heartbeat_encode_rejects_bad_topics(void **state)
{
    (void)state;
    nw_alert_topic_t topics[] = {{"markets", 1}, {"$nw.heartbeat", 2}};
    nw_heartbeat_t hb = {.stream = "s", .replay = "", .topics = topics, .n_topics = 2};
    char *data = NULL;
    size_t size = 0;
    assert_int_equal(nw_heartbeat_encode(&hb, &data, &size), NW_ERR_INVAL);
    topics[1].name = "markets";
    assert_int_equal(nw_heartbeat_encode(&hb, &data, &size), NW_ERR_INVAL);
    hb.n_topics = NW_HEARTBEAT_TOPICS_MAX + 1;
    assert_int_equal(nw_heartbeat_encode(&hb, &data, &size), NW_ERR_WIRE_OVERSIZE);
    assert_null(data);
}

static void test_encoding_is_deterministic(void **state)
{
    (void)state;
    nw_alert_t a;
    char *d1 = NULL, *d2 = NULL;
    size_t s1 = 0, s2 = 0;
    s_example_alert(&a);
    assert_int_equal(nw_alert_encode(&a, &d1, &s1), NW_OK);
    assert_int_equal(nw_alert_encode(&a, &d2, &s2), NW_OK);
    assert_int_equal(s1, s2);
    assert_memory_equal(d1, d2, s1);
    nw_alert_clear(&a);
    free(d1);
    free(d2);
}

/* ---------------------------------------------------------------- decoding */

static void test_base_frame_decodes(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    nw_alert_t a;
    s_build(&b, NULL, NULL, NULL, NULL, 0);
    assert_int_equal(nw_alert_decode(b.data, b.len, &a), NW_OK);
    assert_string_equal(a.id, "ab.0");
    assert_int_equal(a.n_topics, 2);
    assert_string_equal(a.topics[0].name, "defense");
    assert_true(a.topics[0].seq == 3);
    assert_true(a.topics[1].seq == 9);
    assert_string_equal(a.text, "hello");
    nw_alert_clear(&a);
    nw_buf_free(&b);
}

static void test_decode_accepts_any_integer_width(void **state)
{
    (void)state;
    /* The number 2 in every encoding a MessagePack library might pick. */
    static const struct {
        const char *raw;
        size_t len;
    } two[] = {
        {S_RAW("\x02")},
        {S_RAW("\xcc\x02")},
        {S_RAW("\xcd\x00\x02")},
        {S_RAW("\xce\x00\x00\x00\x02")},
        {S_RAW("\xcf\x00\x00\x00\x00\x00\x00\x00\x02")},
        {S_RAW("\xd0\x02")},
        {S_RAW("\xd1\x00\x02")},
        {S_RAW("\xd2\x00\x00\x00\x02")},
        {S_RAW("\xd3\x00\x00\x00\x00\x00\x00\x00\x02")},
    };
    const char *keys[] = {"v", "index", "priority", "published", "seq"};
    nw_buf_t b = {0};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        for (size_t i = 0; i < sizeof two / sizeof two[0]; i++) {
            nw_alert_t a;
            char raw[9];
            size_t len = two[i].len;
            memcpy(raw, two[i].raw, len);
            if (strcmp(keys[k], "v") == 0)
                raw[len - 1] = 1; /* big-endian: the last byte is the value, and v must be 1 */
            s_build(&b, NULL, keys[k], NULL, raw, len);
            assert_int_equal(nw_alert_decode(b.data, b.len, &a), NW_OK);
            if (strcmp(keys[k], "index") == 0)
                assert_int_equal(a.index, 2);
            if (strcmp(keys[k], "priority") == 0)
                assert_int_equal(a.priority, 2);
            if (strcmp(keys[k], "published") == 0)
                assert_true(a.published_ms == 2);
            if (strcmp(keys[k], "seq") == 0)
                assert_true(a.seq == 2);
            nw_alert_clear(&a);
        }
    }
    nw_buf_free(&b);
}

static void test_decode_accepts_negative_time_in_any_width(void **state)
{
    (void)state;
    static const struct {
        const char *raw;
        size_t len;
        int64_t want;
    } cases[] = {
        {S_RAW("\xff"), -1},
        {S_RAW("\xe0"), -32},
        {S_RAW("\xd0\xff"), -1},
        {S_RAW("\xd1\xff\xff"), -1},
        {S_RAW("\xd2\xff\xff\xff\xff"), -1},
        {S_RAW("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"), INT64_MIN},
    };
    nw_buf_t b = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nw_alert_t a;
        s_build(&b, NULL, "published", NULL, cases[i].raw, cases[i].len);
        assert_int_equal(nw_alert_decode(b.data, b.len, &a), NW_OK);
        assert_true(a.published_ms == cases[i].want);
        nw_alert_clear(&a);
    }
    nw_buf_free(&b);
}

static void test_decode_ignores_unknown_keys(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    /* A future minor version's key holding nested values, 8 levels deep in all. */
    s_build(&b, NULL, NULL, "x-future", S_RAW("\x91\x91\x91\x91\x91\x91\x81\xa1k\xc0"));
    assert_int_equal(s_decode(b.data, b.len), NW_OK);
    s_build(&b, NULL, NULL, "lang",
            S_RAW("\xa2"
                  "en"));
    assert_int_equal(s_decode(b.data, b.len), NW_OK);
    nw_buf_free(&b);
}

static void test_decode_optional_fields_default_to_empty(void **state)
{
    (void)state;
    const char *optional[] = {"title", "section", "source", "author", "place"};
    nw_buf_t b = {0};
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) {
        nw_alert_t a;
        s_build(&b, optional[i], NULL, NULL, NULL, 0);
        assert_int_equal(nw_alert_decode(b.data, b.len, &a), NW_OK);
        if (strcmp(optional[i], "title") == 0)
            assert_string_equal(a.title, "");
        nw_alert_clear(&a);
    }
    nw_buf_free(&b);
}

static void test_decode_reports_each_missing_required_field(void **state)
{
    (void)state;
    const char *required[] = {"v",         "type",   "id",  "article", "index", "kind", "priority",
                              "published", "stream", "seq", "topics",  "tseq",  "text"};
    nw_buf_t b = {0};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        s_build(&b, required[i], NULL, NULL, NULL, 0);
        int rv = s_decode(b.data, b.len);
        if (rv != NW_ERR_WIRE_MISSING)
            fail_msg("without \"%s\": got %s", required[i], nw_strerror(rv));
    }
    nw_buf_free(&b);
}

/* One malformed field each: the key whose value is replaced (or appended, when
 * append is set), the replacement bytes, and the one error expected. */
typedef struct {
    const char *key;
    const char *raw;
    size_t raw_len;
    int expect;
    int append;
} s_field_case_t;

static const s_field_case_t s_field_cases[] = {
    /* version */
    {"v", S_RAW("\x02"), NW_ERR_WIRE_VERSION, 0},
    {"v", S_RAW("\x00"), NW_ERR_WIRE_VERSION, 0},
    {"v", S_RAW("\xff"), NW_ERR_WIRE_VERSION, 0},
    {"v",
     S_RAW("\xa1"
           "1"),
     NW_ERR_WIRE_TYPE, 0},
    {"v", S_RAW("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"), NW_ERR_WIRE_TYPE, 0}, /* 1.0 */
    /* message type */
    {"type",
     S_RAW("\xa9"
           "heartbeat"),
     NW_ERR_WIRE_RANGE, 0},
    {"type", S_RAW("\x01"), NW_ERR_WIRE_TYPE, 0},
    /* strings */
    {"id", S_RAW("\xa0"), NW_ERR_WIRE_RANGE, 0},
    {"id", S_RAW("\x05"), NW_ERR_WIRE_TYPE, 0},
    {"id", S_RAW("\xc0"), NW_ERR_WIRE_TYPE, 0},
    {"id", S_RAW("\xc4\x01x"), NW_ERR_WIRE_TYPE, 0}, /* bin is not text */
    {"id", S_RAW("\xa2\xc3\x28"), NW_ERR_WIRE_UTF8, 0},
    {"id", S_RAW("\xa3x\x00y"), NW_ERR_WIRE_UTF8, 0},
    {"article", S_RAW("\xa2\xc0\xaf"), NW_ERR_WIRE_UTF8, 0},    /* overlong '/' */
    {"stream", S_RAW("\xa3\xed\xa0\x80"), NW_ERR_WIRE_UTF8, 0}, /* surrogate */
    {"title", S_RAW("\x05"), NW_ERR_WIRE_TYPE, 0},
    {"title", S_RAW("\xa1\xff"), NW_ERR_WIRE_UTF8, 0},
    {"text", S_RAW("\x91\xa1x"), NW_ERR_WIRE_TYPE, 0},
    {"text", S_RAW("\xa4\xf4\x90\x80\x80"), NW_ERR_WIRE_UTF8, 0}, /* above U+10FFFF */
    /* integers */
    {"index", S_RAW("\xff"), NW_ERR_WIRE_RANGE, 0},
    {"index", S_RAW("\xcf\x00\x00\x00\x01\x00\x00\x00\x00"), NW_ERR_WIRE_RANGE, 0},
    {"index",
     S_RAW("\xa1"
           "1"),
     NW_ERR_WIRE_TYPE, 0},
    {"index", S_RAW("\xc3"), NW_ERR_WIRE_TYPE, 0},
    {"priority", S_RAW("\x04"), NW_ERR_WIRE_RANGE, 0},
    {"priority", S_RAW("\xa4high"), NW_ERR_WIRE_TYPE, 0},
    {"published", S_RAW("\xcf\x80\x00\x00\x00\x00\x00\x00\x00"), NW_ERR_WIRE_RANGE, 0},
    {"published", S_RAW("\xcb\x00\x00\x00\x00\x00\x00\x00\x00"), NW_ERR_WIRE_TYPE, 0},
    {"seq", S_RAW("\xfb"), NW_ERR_WIRE_RANGE, 0},
    {"seq", S_RAW("\xc0"), NW_ERR_WIRE_TYPE, 0},
    /* kind */
    {"kind", S_RAW("\xa4note"), NW_ERR_WIRE_RANGE, 0},
    {"kind", S_RAW("\xa8Headline"), NW_ERR_WIRE_RANGE, 0},
    {"kind", S_RAW("\x00"), NW_ERR_WIRE_TYPE, 0},
    /* topics */
    {"topics", S_RAW("\x90"), NW_ERR_WIRE_RANGE, 0},
    {"topics",
     S_RAW("\xa7"
           "defense"),
     NW_ERR_WIRE_TYPE, 0},
    {"topics", S_RAW("\x92\x01\x02"), NW_ERR_WIRE_TYPE, 0},
    {"topics",
     S_RAW("\x92\xa7"
           "Defense"
           "\xa7"
           "markets"),
     NW_ERR_WIRE_RANGE, 0},
    {"topics",
     S_RAW("\x92\xa7"
           "defense"
           "\xad$nw.heartbeat"),
     NW_ERR_WIRE_RANGE, 0},
    {"topics",
     S_RAW("\x92\xa7"
           "defense"
           "\xa7"
           "defense"),
     NW_ERR_WIRE_RANGE, 0},
    {"topics",
     S_RAW("\xdc\x00\x11" /* 17 topics */
           "\xa1"
           "a\xa1"
           "b\xa1"
           "c\xa1"
           "d\xa1"
           "e\xa1"
           "f\xa1g\xa1h\xa1i\xa1j\xa1k\xa1l\xa1m\xa1n\xa1o\xa1p\xa1q"),
     NW_ERR_WIRE_OVERSIZE, 0},
    /* tseq */
    {"tseq", S_RAW("\x92\x03\x09"), NW_ERR_WIRE_TYPE, 0},
    {"tseq",
     S_RAW("\x81\xa7"
           "defense"
           "\x03"),
     NW_ERR_WIRE_RANGE, 0},
    {"tseq",
     S_RAW("\x82\xa7"
           "defense"
           "\x03\xa6"
           "energy"
           "\x09"),
     NW_ERR_WIRE_RANGE, 0},
    {"tseq",
     S_RAW("\x82\xa7"
           "defense"
           "\x03\xa7"
           "defense"
           "\x09"),
     NW_ERR_WIRE_RANGE, 0},
    {"tseq",
     S_RAW("\x82\xa7"
           "defense"
           "\xff\xa7"
           "markets"
           "\x09"),
     NW_ERR_WIRE_RANGE, 0},
    {"tseq",
     S_RAW("\x82\xa7"
           "defense"
           "\xa1x\xa7"
           "markets"
           "\x09"),
     NW_ERR_WIRE_TYPE, 0},
    {"tseq",
     S_RAW("\x82\x01\x03\xa7"
           "markets"
           "\x09"),
     NW_ERR_WIRE_TYPE, 0},
    /* keys */
    {"id",
     S_RAW("\xa4"
           "ab.1"),
     NW_ERR_WIRE_RANGE, 1}, /* a known key twice */
};

static void test_decode_rejects_each_malformed_field(void **state)
{
    (void)state;
    nw_buf_t b = {0};
    for (size_t i = 0; i < sizeof s_field_cases / sizeof s_field_cases[0]; i++) {
        const s_field_case_t *c = &s_field_cases[i];
        if (c->append)
            s_build(&b, NULL, NULL, c->key, c->raw, c->raw_len);
        else
            s_build(&b, NULL, c->key, NULL, c->raw, c->raw_len);
        int rv = s_decode(b.data, b.len);
        if (rv != c->expect)
            fail_msg("case %zu (\"%s\"): expected %s, got %s", i, c->key, nw_strerror(c->expect),
                     nw_strerror(rv));
    }
    nw_buf_free(&b);
}

/* Whole frames that are wrong as MessagePack or as a map. */
static const struct {
    const char *raw;
    size_t len;
    int expect;
} s_frame_cases[] = {
    {S_RAW(""), NW_ERR_WIRE_TRUNCATED},
    {S_RAW("\xc1"), NW_ERR_WIRE_MALFORMED},
    {S_RAW("\x81\xa1v\xc1"), NW_ERR_WIRE_MALFORMED},
    {S_RAW("\x81\xa1v"), NW_ERR_WIRE_TRUNCATED},
    {S_RAW("\x82\xa1v\x01"), NW_ERR_WIRE_TRUNCATED},
    {S_RAW("\x81\xa5type"), NW_ERR_WIRE_TRUNCATED},
    {S_RAW("\x80\x00"), NW_ERR_WIRE_TRAILING},
    {S_RAW("\x93\x01\x02\x03"), NW_ERR_WIRE_TYPE},
    {S_RAW("\xa1v"), NW_ERR_WIRE_TYPE},
    {S_RAW("\xc0"), NW_ERR_WIRE_TYPE},
    {S_RAW("\x81\x01\x01"), NW_ERR_WIRE_TYPE}, /* keys are strings */
    {S_RAW("\x80"), NW_ERR_WIRE_MISSING},
    {S_RAW("\x81\xa1v\x02"), NW_ERR_WIRE_VERSION},
    {S_RAW("\x82\xa1v\x02\xa2id\x01"), NW_ERR_WIRE_VERSION}, /* version is checked first */
    {S_RAW("\x81\xa1v\x01"), NW_ERR_WIRE_MISSING},
    {S_RAW("\x91\x91\x91\x91\x91\x91\x91\x91\x90"), NW_ERR_WIRE_DEPTH},
    {S_RAW("\x81\xa1x\x91\x91\x91\x91\x91\x91\x91\x90"), NW_ERR_WIRE_DEPTH},
    /* The 5-byte headers that make msgpack-c reserve gigabytes. */
    {S_RAW("\xdd\xff\xff\xff\xff"), NW_ERR_WIRE_TRUNCATED},
    {S_RAW("\xdf\xff\xff\xff\xff"), NW_ERR_WIRE_TRUNCATED},
    {S_RAW("\xdb\xff\xff\xff\xff"), NW_ERR_WIRE_TRUNCATED},
    {S_RAW("\xc6\xff\xff\xff\xff"), NW_ERR_WIRE_TRUNCATED},
    {S_RAW("\xc9\xff\xff\xff\xff\x01"), NW_ERR_WIRE_TRUNCATED},
    {S_RAW("\x81\xa1v\xdd\xff\xff\xff\xff"), NW_ERR_WIRE_TRUNCATED},
    {S_RAW("\xde\xff\xff"), NW_ERR_WIRE_TRUNCATED},
};

static void test_decode_rejects_each_malformed_frame(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_frame_cases / sizeof s_frame_cases[0]; i++) {
        int rv = s_decode(s_frame_cases[i].raw, s_frame_cases[i].len);
        if (rv != s_frame_cases[i].expect)
            fail_msg("frame case %zu: expected %s, got %s", i, nw_strerror(s_frame_cases[i].expect),
                     nw_strerror(rv));
    }
}

static void test_decode_rejects_oversize_fields(void **state)
{
    (void)state;
    nw_buf_t raw = {0}, b = {0};
    char *big = s_repeat('x', NW_ALERT_TEXT_MAX + 1);
    s_put_str(&raw, big, NW_ALERT_TEXT_MAX + 1);
    s_build(&b, NULL, "text", NULL, raw.data, raw.len);
    assert_int_equal(s_decode(b.data, b.len), NW_ERR_WIRE_OVERSIZE);
    nw_buf_reset(&raw);
    s_put_str(&raw, big, NW_ALERT_FIELD_MAX + 1);
    s_build(&b, NULL, "title", NULL, raw.data, raw.len);
    assert_int_equal(s_decode(b.data, b.len), NW_ERR_WIRE_OVERSIZE);
    nw_buf_reset(&raw);
    s_put_str(&raw, big, NW_ALERT_FIELD_MAX);
    s_build(&b, NULL, "title", NULL, raw.data, raw.len);
    assert_int_equal(s_decode(b.data, b.len), NW_OK); /* exactly the limit is fine */
    free(big);
    nw_buf_free(&raw);
    nw_buf_free(&b);
}

static void test_decode_rejects_oversize_frame(void **state)
{
    (void)state;
    nw_buf_t raw = {0}, b = {0};
    size_t n = NW_FRAME_MAX; /* padding alone fills the frame; the rest overflows it */
    char *pad = s_repeat('p', n);
    s_put_str(&raw, pad, n);
    s_build(&b, NULL, NULL, "x-pad", raw.data, raw.len);
    assert_true(b.len > NW_FRAME_MAX);
    assert_int_equal(s_decode(b.data, b.len), NW_ERR_WIRE_OVERSIZE);
    free(pad);
    nw_buf_free(&raw);
    nw_buf_free(&b);
}

static void test_decode_reports_every_truncation(void **state)
{
    (void)state;
    nw_alert_t a;
    char *data = NULL;
    size_t size = 0;
    s_example_alert(&a);
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_OK);
    for (size_t cut = 0; cut < size; cut++)
        assert_int_equal(s_decode(data, cut), NW_ERR_WIRE_TRUNCATED);
    nw_alert_clear(&a);
    free(data);
}

static void test_decode_reports_trailing_bytes(void **state)
{
    (void)state;
    nw_alert_t a;
    char *data = NULL;
    size_t size = 0;
    s_example_alert(&a);
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_OK);
    char *longer = malloc(size * 2);
    assert_non_null(longer);
    memcpy(longer, data, size);
    longer[size] = 0x00;
    assert_int_equal(s_decode(longer, size + 1), NW_ERR_WIRE_TRAILING);
    memcpy(longer + size, data, size); /* two frames glued together */
    assert_int_equal(s_decode(longer, size * 2), NW_ERR_WIRE_TRAILING);
    nw_alert_clear(&a);
    free(data);
    free(longer);
}

/* NULL with a size is a truncated frame, refused before anything reads it; NULL with no
 * bytes is an empty frame. Either way the struct is left zeroed. */
static void test_decode_null_data_is_truncated(void **state)
{
    (void)state;
    nw_alert_t a;
    nw_heartbeat_t hb;
    nw_alert_t zero_a;
    nw_heartbeat_t zero_hb;
    memset(&zero_a, 0, sizeof zero_a);
    memset(&zero_hb, 0, sizeof zero_hb);
    const size_t sizes[] = {0, 1, 5, 300, NW_FRAME_MAX, NW_FRAME_MAX + 1, SIZE_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memset(&a, 0xa5, sizeof a);
        assert_int_equal(nw_alert_decode(NULL, sizes[i], &a), NW_ERR_WIRE_TRUNCATED);
        assert_memory_equal(&a, &zero_a, sizeof a);
        memset(&hb, 0xa5, sizeof hb);
        assert_int_equal(nw_heartbeat_decode(NULL, sizes[i], &hb), NW_ERR_WIRE_TRUNCATED);
        assert_memory_equal(&hb, &zero_hb, sizeof hb);
    }
}

/* The "huge" headers must be refused by the bounds walk, before msgpack-c could
 * reserve (declared count x 24 bytes); under ASan such a reservation would abort. */
static void test_huge_headers_rejected_before_unpacking(void **state)
{
    (void)state;
    static const struct {
        const char *raw;
        size_t len;
    } huge[] = {
        {S_RAW("\xdd\xff\xff\xff\xff")}, /* array of 2^32-1 */
        {S_RAW("\xdf\xff\xff\xff\xff")}, /* map of 2^32-1 */
        {S_RAW("\xdb\xff\xff\xff\xff")}, /* str of 4 GiB */
        {S_RAW("\x81\xa6topics\xdd\xff\xff\xff\xff")},
        {S_RAW("\x81\xa4tseq\xdf\x7f\xff\xff\xff")},
    };
    long before = s_maxrss_kb();
    for (int round = 0; round < 100; round++) {
        for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
            assert_int_equal(nw_wire_check(huge[i].raw, huge[i].len, NW_WIRE_DEPTH_MAX),
                             NW_ERR_WIRE_TRUNCATED);
            assert_int_equal(s_decode(huge[i].raw, huge[i].len), NW_ERR_WIRE_TRUNCATED);
            nw_heartbeat_t hb;
            assert_int_equal(nw_heartbeat_decode(huge[i].raw, huge[i].len, &hb),
                             NW_ERR_WIRE_TRUNCATED);
        }
    }
    assert_true(s_maxrss_kb() - before < 8 * 1024); /* peak grew by less than 8 MiB */
}

/* The worst frame that passes the bounds walk: as many values as bytes. */
static void test_densest_frame_memory_is_bounded(void **state)
{
    (void)state;
    nw_buf_t raw = {0}, b = {0};
    size_t n = NW_FRAME_MAX - 512;
    unsigned char head[5] = {0xdd, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                             (unsigned char)(n >> 8), (unsigned char)n};
    assert_int_equal(nw_buf_append(&raw, head, sizeof head), NW_OK);
    char *nils = s_repeat((char)0xc0, n);
    assert_int_equal(nw_buf_append(&raw, nils, n), NW_OK);
    s_build(&b, NULL, NULL, "x-pad", raw.data, raw.len);
    assert_true(b.len <= NW_FRAME_MAX);
    long before = s_maxrss_kb();
    assert_int_equal(s_decode(b.data, b.len), NW_OK);
    /* msgpack-c takes 24 bytes per value: ~6 MiB here; allow for sanitizer overhead. */
    assert_true(s_maxrss_kb() - before < 64 * 1024);
    free(nils);
    nw_buf_free(&raw);
    nw_buf_free(&b);
}

/* ---------------------------------------------------------------- PROTOCOL.md */

static void s_print_dump(FILE *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        fprintf(out, "%04zx:", i);
        for (size_t j = i; j < n && j < i + 16; j++)
            fprintf(out, " %02x", p[j]);
        fputc('\n', out);
    }
}

/* Reads the first ```hex block of PROTOCOL.md: lines "OFFSET: xx xx ...". */
static size_t s_read_doc_dump(unsigned char *out, size_t cap)
{
    const char *path = NW_SOURCE_DIR "/proto/PROTOCOL.md";
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    char line[512];
    size_t n = 0;
    int in_block = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (!in_block) {
            in_block = strncmp(line, "```hex", 6) == 0;
            continue;
        }
        if (strncmp(line, "```", 3) == 0)
            break;
        const char *p = strchr(line, ':');
        assert_non_null(p);
        for (p++; *p != '\0' && *p != '\n';) {
            unsigned v;
            int used;
            if (sscanf(p, " %2x%n", &v, &used) != 1)
                break;
            assert_true(n < cap);
            out[n++] = (unsigned char)v;
            p += used;
        }
    }
    fclose(f);
    assert_true(in_block);
    return n;
}

static void test_protocol_doc_dump_matches_encoder(void **state)
{
    (void)state;
    nw_alert_t a;
    char *data = NULL;
    size_t size = 0;
    unsigned char doc[4096];
    s_example_alert(&a);
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_OK);
    size_t n = s_read_doc_dump(doc, sizeof doc);
    if (n != size || memcmp(doc, data, size) != 0) {
        fprintf(stderr, "PROTOCOL.md's dump is stale; the encoder now gives %zu bytes:\n", size);
        s_print_dump(stderr, (const unsigned char *)data, size);
        fail_msg("update the ```hex block in proto/PROTOCOL.md");
    }
    nw_alert_clear(&a);
    free(data);
}

/* ---------------------------------------------------------------- mutations */

static uint64_t s_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int s_is_wire_error(int rv)
{
    return rv <= NW_ERR_WIRE_TRUNCATED && rv >= NW_ERR_WIRE_MALFORMED;
}

/* Random mutations of valid frames never crash and give NW_OK or a wire error. */
static void test_mutated_frames_never_crash(void **state)
{
    (void)state;
    static const unsigned char interesting[] = {0x00, 0x7f, 0x80, 0x8f, 0x90, 0xa0, 0xc0,
                                                0xc1, 0xc4, 0xc9, 0xcf, 0xd3, 0xd9, 0xdb,
                                                0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};
    nw_alert_t a;
    char *alert_frame = NULL, *hb_frame = NULL;
    size_t alert_size = 0, hb_size = 0;
    nw_alert_topic_t topics[] = {{"markets", 3}, {"trade.tariffs", 9}};
    nw_heartbeat_t hb = {.stream = "9f2c4e1a7b3d5c60",
                         .seq = 77,
                         .replay = "tcp://h:5557",
                         .topics = topics,
                         .n_topics = 2};
    s_example_alert(&a);
    assert_int_equal(nw_alert_encode(&a, &alert_frame, &alert_size), NW_OK);
    assert_int_equal(nw_heartbeat_encode(&hb, &hb_frame, &hb_size), NW_OK);

    uint64_t rng = 0x9e3779b97f4a7c15u;
    unsigned ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        int is_hb = iter & 1;
        const char *base = is_hb ? hb_frame : alert_frame;
        size_t size = is_hb ? hb_size : alert_size;
        size_t cap = size + 8;
        unsigned char *m = malloc(cap);
        assert_non_null(m);
        memcpy(m, base, size);
        int edits = 1 + (int)(s_next(&rng) % 4);
        for (int e = 0; e < edits && size > 0; e++) {
            size_t at = s_next(&rng) % size;
            switch (s_next(&rng) % 5) {
            case 0: m[at] ^= (unsigned char)(1u << (s_next(&rng) % 8)); break;
            case 1: m[at] = interesting[s_next(&rng) % sizeof interesting]; break;
            case 2: m[at] = (unsigned char)s_next(&rng); break;
            case 3: size = at; break; /* truncate */
            default:
                if (size < cap) { /* insert a byte */
                    memmove(m + at + 1, m + at, size - at);
                    m[at] = (unsigned char)s_next(&rng);
                    size++;
                }
                break;
            }
        }
        /* Exactly-sized copy so that ASan catches any read past the end. */
        unsigned char *exact = malloc(size ? size : 1);
        assert_non_null(exact);
        memcpy(exact, m, size);
        int rv;
        if (is_hb) {
            nw_heartbeat_t back;
            rv = nw_heartbeat_decode(exact, size, &back);
            if (rv == NW_OK)
                nw_heartbeat_clear(&back);
        } else {
            rv = s_decode(exact, size);
        }
        if (rv != NW_OK && !s_is_wire_error(rv))
            fail_msg("iteration %d: unexpected %s", iter, nw_strerror(rv));
        ok += rv == NW_OK;
        free(exact);
        free(m);
    }
    assert_true(ok < 20000); /* the mutations did reach the error paths */
    nw_alert_clear(&a);
    free(alert_frame);
    free(hb_frame);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_field),
        cmocka_unit_test(test_roundtrip_every_kind_and_priority),
        cmocka_unit_test(test_roundtrip_empty_strings),
        cmocka_unit_test(test_roundtrip_maximal_values),
        cmocka_unit_test(test_roundtrip_non_ascii_text),
        cmocka_unit_test(test_roundtrip_negative_time),
        cmocka_unit_test(test_heartbeat_roundtrip),
        cmocka_unit_test(test_heartbeat_roundtrip_before_first_alert),
        cmocka_unit_test(test_alert_and_heartbeat_frames_are_not_interchangeable),
        cmocka_unit_test(test_encode_rejects_unsendable_alerts),
        cmocka_unit_test(test_encode_rejects_oversize_fields),
        cmocka_unit_test(test_heartbeat_encode_rejects_bad_topics),
        cmocka_unit_test(test_encoding_is_deterministic),
        cmocka_unit_test(test_base_frame_decodes),
        cmocka_unit_test(test_decode_accepts_any_integer_width),
        cmocka_unit_test(test_decode_accepts_negative_time_in_any_width),
        cmocka_unit_test(test_decode_ignores_unknown_keys),
        cmocka_unit_test(test_decode_optional_fields_default_to_empty),
        cmocka_unit_test(test_decode_reports_each_missing_required_field),
        cmocka_unit_test(test_decode_rejects_each_malformed_field),
        cmocka_unit_test(test_decode_rejects_each_malformed_frame),
        cmocka_unit_test(test_decode_rejects_oversize_fields),
        cmocka_unit_test(test_decode_rejects_oversize_frame),
        cmocka_unit_test(test_decode_reports_every_truncation),
        cmocka_unit_test(test_decode_reports_trailing_bytes),
        cmocka_unit_test(test_decode_null_data_is_truncated),
        cmocka_unit_test(test_huge_headers_rejected_before_unpacking),
        cmocka_unit_test(test_densest_frame_memory_is_bounded),
        cmocka_unit_test(test_protocol_doc_dump_matches_encoder),
        cmocka_unit_test(test_mutated_frames_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
