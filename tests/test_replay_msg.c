/* Tests for proto/nw_replay_msg: replay requests and end markers round-trip, and hostile
 * request bodies are refused with the right error, never crash, never over-allocate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <msgpack.h>

#include "nw_error.h"
#include "nw_replay_msg.h"

/* --- helpers: hand-packed bodies ---------------------------------------------------------- */

typedef struct {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
} body_t;

static void s_body_init(body_t *b, size_t pairs)
{
    msgpack_sbuffer_init(&b->sbuf);
    msgpack_packer_init(&b->pk, &b->sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&b->pk, pairs);
}

static void s_str(body_t *b, const char *s)
{
    msgpack_pack_str_with_body(&b->pk, s, strlen(s));
}

static void s_kv_uint(body_t *b, const char *k, uint64_t v)
{
    s_str(b, k);
    msgpack_pack_uint64(&b->pk, v);
}

static void s_kv_str(body_t *b, const char *k, const char *v)
{
    s_str(b, k);
    s_str(b, v);
}

/* v, type and req: the three pairs every request starts with here. */
static void s_head(body_t *b, size_t pairs)
{
    s_body_init(b, pairs);
    s_kv_uint(b, "v", 1);
    s_kv_str(b, "type", "replay");
    s_kv_uint(b, "req", 7);
}

static int s_decode(body_t *b, nw_replay_request_t *rq)
{
    int rc = nw_replay_request_decode(b->sbuf.data, b->sbuf.size, rq);
    msgpack_sbuffer_destroy(&b->sbuf);
    return rc;
}

/* --- round trips ------------------------------------------------------------------------ */

static void test_request_round_trip_from_seq(void **state)
{
    (void)state;
    nw_replay_request_t rq, back;
    char *data = NULL;
    size_t size = 0;
    nw_replay_request_init(&rq);
    rq.req = 42;
    snprintf(rq.stream, sizeof rq.stream, "9f2c4e1a7b3d5c60");
    assert_int_equal(nw_replay_request_add_filter(&rq, "trade"), NW_OK);
    assert_int_equal(nw_replay_request_add_filter(&rq, "defense.budget"), NW_OK);
    assert_int_equal(nw_replay_request_add_filter(&rq, "trade"), NW_OK); /* once only */
    rq.start = NW_REPLAY_FROM_SEQ;
    rq.from_seq = 1043;
    rq.has_to_seq = true;
    rq.to_seq = 5000;
    rq.limit = 100;
    assert_int_equal(nw_replay_request_encode(&rq, &data, &size), NW_OK);
    assert_int_equal(nw_replay_request_decode(data, size, &back), NW_OK);
    free(data);
    assert_int_equal(back.req, 42);
    assert_string_equal(back.stream, "9f2c4e1a7b3d5c60");
    assert_int_equal(back.n_filters, 2);
    assert_string_equal(back.filters[0], "trade");
    assert_string_equal(back.filters[1], "defense.budget");
    assert_int_equal(back.start, NW_REPLAY_FROM_SEQ);
    assert_int_equal(back.from_seq, 1043);
    assert_true(back.has_to_seq);
    assert_int_equal(back.to_seq, 5000);
    assert_int_equal(back.limit, 100);
}

static void test_request_round_trip_last_and_since(void **state)
{
    (void)state;
    nw_replay_request_t rq, back;
    char *data = NULL;
    size_t size = 0;
    nw_replay_request_init(&rq);
    rq.start = NW_REPLAY_LAST;
    rq.last = 10;
    assert_int_equal(nw_replay_request_encode(&rq, &data, &size), NW_OK);
    assert_int_equal(nw_replay_request_decode(data, size, &back), NW_OK);
    free(data);
    assert_int_equal(back.start, NW_REPLAY_LAST);
    assert_int_equal(back.last, 10);
    assert_false(back.has_to_seq);
    assert_int_equal(back.n_filters, 0);
    assert_string_equal(back.stream, "");

    rq.start = NW_REPLAY_SINCE;
    rq.since_ms = -5; /* before 1970: still a valid int */
    assert_int_equal(nw_replay_request_encode(&rq, &data, &size), NW_OK);
    assert_int_equal(nw_replay_request_decode(data, size, &back), NW_OK);
    free(data);
    assert_int_equal(back.start, NW_REPLAY_SINCE);
    assert_int_equal(back.since_ms, -5);
}

static void test_request_encode_refuses_nonsense(void **state)
{
    (void)state;
    nw_replay_request_t rq;
    char *data = NULL;
    size_t size = 0;
    nw_replay_request_init(&rq);
    rq.start = NW_REPLAY_LAST; /* last 0 */
    assert_int_equal(nw_replay_request_encode(&rq, &data, &size), NW_ERR_INVAL);
    nw_replay_request_init(&rq);
    rq.from_seq = 10;
    rq.has_to_seq = true;
    rq.to_seq = 9;
    assert_int_equal(nw_replay_request_encode(&rq, &data, &size), NW_ERR_INVAL);
    assert_null(data);
    assert_int_equal(nw_replay_request_add_filter(&rq, "Bad"), NW_ERR_TOPIC);
    assert_int_equal(nw_replay_request_add_filter(&rq, "$nw.heartbeat"), NW_ERR_TOPIC);
    for (int i = 0; i < NW_REPLAY_FILTERS_MAX; i++) {
        char t[16];
        snprintf(t, sizeof t, "t%d", i);
        assert_int_equal(nw_replay_request_add_filter(&rq, t), NW_OK);
    }
    assert_int_equal(nw_replay_request_add_filter(&rq, "one-more"), NW_ERR_TOOBIG);
}

static void test_request_filters_match_by_the_topic_rule(void **state)
{
    (void)state;
    nw_replay_request_t rq;
    nw_replay_request_init(&rq);
    assert_true(nw_replay_request_matches(&rq, "anything")); /* no filter: all */
    nw_replay_request_add_filter(&rq, "defense");
    assert_true(nw_replay_request_matches(&rq, "defense"));
    assert_true(nw_replay_request_matches(&rq, "defense.budget"));
    assert_false(nw_replay_request_matches(&rq, "defenseless"));
    nw_replay_request_add_filter(&rq, "");
    assert_true(nw_replay_request_matches(&rq, "defenseless"));
}

static void test_end_round_trip(void **state)
{
    (void)state;
    nw_replay_end_t end, back;
    char *data = NULL;
    size_t size = 0;
    memset(&end, 0, sizeof end);
    end.req = 3;
    snprintf(end.stream, sizeof end.stream, "9f2c4e1a7b3d5c60");
    end.status = NW_REPLAY_MORE;
    end.count = 10000;
    end.first_seq = 5;
    end.last_seq = 10004;
    end.next_seq = 10005;
    end.oldest = 1;
    end.head = 20000;
    snprintf(end.error, sizeof end.error, "ignored unless status is error");
    assert_int_equal(nw_replay_end_encode(&end, &data, &size), NW_OK);
    assert_int_equal(nw_replay_end_decode(data, size, &back), NW_OK);
    free(data);
    assert_int_equal(back.req, 3);
    assert_string_equal(back.stream, "9f2c4e1a7b3d5c60");
    assert_int_equal(back.status, NW_REPLAY_MORE);
    assert_int_equal(back.count, 10000);
    assert_int_equal(back.first_seq, 5);
    assert_int_equal(back.last_seq, 10004);
    assert_int_equal(back.next_seq, 10005);
    assert_int_equal(back.oldest, 1);
    assert_int_equal(back.head, 20000);
    assert_string_equal(back.error, "");

    nw_replay_end_set_error(&end, "stream mismatch: %s", "abc");
    assert_int_equal(nw_replay_end_encode(&end, &data, &size), NW_OK);
    assert_int_equal(nw_replay_end_decode(data, size, &back), NW_OK);
    free(data);
    assert_int_equal(back.status, NW_REPLAY_ERROR);
    assert_string_equal(back.error, "stream mismatch: abc");
    assert_string_equal(nw_replay_status_name(back.status), "error");
}

static void test_end_error_text_is_cut_on_a_utf8_boundary(void **state)
{
    (void)state;
    nw_replay_end_t end;
    memset(&end, 0, sizeof end);
    char big[600];
    memset(big, 'a', sizeof big);
    memcpy(big + 253, "\xc3\xa9\xc3\xa9", 4); /* an e-acute across the 255-byte cut */
    big[sizeof big - 1] = '\0';
    nw_replay_end_set_error(&end, "%s", big);
    assert_int_equal(strlen(end.error), 255);
    memset(big, 'a', sizeof big - 1);
    nw_replay_end_set_error(&end, "%.254s\xc3\xa9", big); /* 256 bytes: the e-acute goes */
    assert_int_equal(strlen(end.error), 254);
}

/* --- hostile requests ------------------------------------------------------------------- */

static void test_request_without_start_is_missing(void **state)
{
    (void)state;
    body_t b;
    nw_replay_request_t rq;
    s_head(&b, 3);
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_MISSING);
    assert_int_equal(rq.req, 7); /* named, so the error answer can say which request */
}

static void test_request_with_two_starts_is_refused(void **state)
{
    (void)state;
    body_t b;
    nw_replay_request_t rq;
    s_head(&b, 5);
    s_kv_uint(&b, "from_seq", 1);
    s_kv_uint(&b, "last", 5);
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_RANGE);
}

static void test_request_field_types_are_strict(void **state)
{
    (void)state;
    body_t b;
    nw_replay_request_t rq;
    s_head(&b, 4);
    s_kv_str(&b, "from_seq", "1"); /* a string where an integer belongs */
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_TYPE);

    s_head(&b, 4);
    s_str(&b, "from_seq");
    msgpack_pack_int64(&b.pk, -1);
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_RANGE);

    s_head(&b, 4);
    s_kv_uint(&b, "last", 0);
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_RANGE);

    s_head(&b, 5);
    s_kv_uint(&b, "from_seq", 10);
    s_kv_uint(&b, "to_seq", 9);
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_RANGE);

    s_head(&b, 4);
    s_str(&b, "stream");
    msgpack_pack_bin_with_body(&b.pk, "ab", 2); /* bin is never a string */
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_TYPE);
}

static void test_request_version_and_type_come_first(void **state)
{
    (void)state;
    body_t b;
    nw_replay_request_t rq;
    s_body_init(&b, 3);
    s_kv_uint(&b, "v", 2);
    s_kv_str(&b, "type", "replay");
    s_kv_str(&b, "from_seq", "x");
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_VERSION);

    s_body_init(&b, 4);
    s_kv_uint(&b, "v", 1);
    s_kv_str(&b, "type", "alert");
    s_kv_uint(&b, "req", 1);
    s_kv_uint(&b, "from_seq", 1);
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_RANGE);

    s_body_init(&b, 1);
    s_kv_uint(&b, "from_seq", 1);
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_MISSING);
}

static void test_request_bad_filters_are_refused(void **state)
{
    (void)state;
    body_t b;
    nw_replay_request_t rq;
    s_head(&b, 5);
    s_kv_uint(&b, "from_seq", 1);
    s_str(&b, "topics");
    msgpack_pack_array(&b.pk, 1);
    s_str(&b, "Not.A.Topic");
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_RANGE);

    s_head(&b, 5);
    s_kv_uint(&b, "from_seq", 1);
    s_str(&b, "topics");
    msgpack_pack_array(&b.pk, 2);
    s_str(&b, "trade");
    s_str(&b, "trade");
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_RANGE);

    s_head(&b, 5);
    s_kv_uint(&b, "from_seq", 1);
    s_str(&b, "topics");
    msgpack_pack_array(&b.pk, NW_REPLAY_FILTERS_MAX + 1);
    for (int i = 0; i <= NW_REPLAY_FILTERS_MAX; i++) {
        char t[16];
        snprintf(t, sizeof t, "t%d", i);
        s_str(&b, t);
    }
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_OVERSIZE);

    s_head(&b, 5);
    s_kv_uint(&b, "from_seq", 1);
    s_str(&b, "topics");
    msgpack_pack_array(&b.pk, 1);
    msgpack_pack_array(&b.pk, 1); /* nesting beyond what a request may hold */
    msgpack_pack_array(&b.pk, 0);
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_DEPTH);
}

static void test_request_known_key_twice_is_refused(void **state)
{
    (void)state;
    body_t b;
    nw_replay_request_t rq;
    s_head(&b, 5);
    s_kv_uint(&b, "from_seq", 1);
    s_kv_uint(&b, "req", 8);
    assert_int_equal(s_decode(&b, &rq), NW_ERR_WIRE_RANGE);
}

static void test_request_unknown_keys_are_ignored(void **state)
{
    (void)state;
    body_t b;
    nw_replay_request_t rq;
    s_head(&b, 5);
    s_kv_uint(&b, "from_seq", 3);
    s_kv_str(&b, "future", "x");
    assert_int_equal(s_decode(&b, &rq), NW_OK);
    assert_int_equal(rq.from_seq, 3);
}

static void test_request_hostile_bytes(void **state)
{
    (void)state;
    nw_replay_request_t rq;
    /* A 5-byte map header claiming 2^32-1 pairs must not allocate. */
    const unsigned char huge[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(nw_replay_request_decode(huge, sizeof huge, &rq), NW_ERR_WIRE_TRUNCATED);
    const unsigned char c1[] = {0xc1};
    assert_int_equal(nw_replay_request_decode(c1, sizeof c1, &rq), NW_ERR_WIRE_MALFORMED);
    const unsigned char arr[] = {0x90};
    assert_int_equal(nw_replay_request_decode(arr, sizeof arr, &rq), NW_ERR_WIRE_TYPE);
    const unsigned char trailing[] = {0x80, 0x00};
    assert_int_equal(nw_replay_request_decode(trailing, sizeof trailing, &rq),
                     NW_ERR_WIRE_TRAILING);
    assert_int_equal(nw_replay_request_decode("", 0, &rq), NW_ERR_WIRE_TRUNCATED);
    char *big = calloc(1, NW_REPLAY_REQUEST_MAX + 1);
    assert_non_null(big);
    assert_int_equal(nw_replay_request_decode(big, NW_REPLAY_REQUEST_MAX + 1, &rq),
                     NW_ERR_WIRE_OVERSIZE);
    free(big);
    /* A map with a non-string key. */
    const unsigned char intkey[] = {0x81, 0x01, 0x01};
    assert_int_equal(nw_replay_request_decode(intkey, sizeof intkey, &rq), NW_ERR_WIRE_TYPE);
}

static void test_request_every_truncation_is_refused(void **state)
{
    (void)state;
    nw_replay_request_t rq, back;
    char *data = NULL;
    size_t size = 0;
    nw_replay_request_init(&rq);
    rq.req = 1;
    rq.from_seq = 300;
    nw_replay_request_add_filter(&rq, "trade.tariffs");
    assert_int_equal(nw_replay_request_encode(&rq, &data, &size), NW_OK);
    for (size_t n = 0; n < size; n++)
        assert_int_not_equal(nw_replay_request_decode(data, n, &back), NW_OK);
    /* Flip every byte in turn: whatever it decodes to, it must not crash or leak. */
    for (size_t i = 0; i < size; i++) {
        data[i] ^= 0xff;
        (void)nw_replay_request_decode(data, size, &back);
        data[i] ^= 0xff;
    }
    free(data);
}

static void test_end_decode_requires_its_fields(void **state)
{
    (void)state;
    body_t b;
    nw_replay_end_t end;
    s_body_init(&b, 3);
    s_kv_uint(&b, "v", 1);
    s_kv_str(&b, "type", "replay-end");
    s_kv_uint(&b, "req", 1);
    assert_int_equal(nw_replay_end_decode(b.sbuf.data, b.sbuf.size, &end), NW_ERR_WIRE_MISSING);
    msgpack_sbuffer_destroy(&b.sbuf);
    assert_int_equal(end.req, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trip_from_seq),
        cmocka_unit_test(test_request_round_trip_last_and_since),
        cmocka_unit_test(test_request_encode_refuses_nonsense),
        cmocka_unit_test(test_request_filters_match_by_the_topic_rule),
        cmocka_unit_test(test_end_round_trip),
        cmocka_unit_test(test_end_error_text_is_cut_on_a_utf8_boundary),
        cmocka_unit_test(test_request_without_start_is_missing),
        cmocka_unit_test(test_request_with_two_starts_is_refused),
        cmocka_unit_test(test_request_field_types_are_strict),
        cmocka_unit_test(test_request_version_and_type_come_first),
        cmocka_unit_test(test_request_bad_filters_are_refused),
        cmocka_unit_test(test_request_known_key_twice_is_refused),
        cmocka_unit_test(test_request_unknown_keys_are_ignored),
        cmocka_unit_test(test_request_hostile_bytes),
        cmocka_unit_test(test_request_every_truncation_is_refused),
        cmocka_unit_test(test_end_decode_requires_its_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
