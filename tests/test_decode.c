/*
 * test_decode: proto/nw_decode, the alert decoder that reads straight from the bounds walk.
 * The codec's own behaviour (every strictness rule and error code) is test_codec's; here:
 * the decoder agrees with the msgpack-c object-tree decoder it replaced (tests/fuzz/
 * nw_ref_decode.c) on deterministic mutations of valid frames, and a legal frame full of
 * values the alert does not use costs no memory. Frames laid out otherwise than newswire's
 * encoder writes them (keys in another order, wider encodings, an unknown key holding a map)
 * leave the decoder's single pass for its thorough path, and still agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>
#include <msgpack.h>

#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_decode.h"
#include "nw_error.h"
#include "nw_ref_decode.h"

static long s_maxrss_kb(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* An alert with every field set; n_topics topics; text of text_len bytes. */
static void s_alert(nw_alert_t *a, size_t n_topics, size_t text_len)
{
    static const char *const topics[] = {"trade.tariffs", "markets", "energy.oil", "defense"};
    assert_int_equal(nw_alert_init(a), NW_OK);
    char *text = malloc(text_len + 1);
    assert_non_null(text);
    for (size_t i = 0; i < text_len; i++)
        text[i] = (char)('a' + i % 26);
    text[text_len] = '\0';
    assert_int_equal(nw_alert_set(&a->text, text), NW_OK);
    free(text);
    assert_int_equal(nw_alert_set(&a->id, "0123456789abcdef.7"), NW_OK);
    assert_int_equal(nw_alert_set(&a->article_id, "0123456789abcdef"), NW_OK);
    assert_int_equal(nw_alert_set(&a->title, "T\xc3\xaftle"), NW_OK);
    assert_int_equal(nw_alert_set(&a->source, "Wire"), NW_OK);
    assert_int_equal(nw_alert_set(&a->author, "A. Writer"), NW_OK);
    assert_int_equal(nw_alert_set(&a->place, "Oslo"), NW_OK);
    assert_int_equal(nw_alert_set(&a->section, "Markets"), NW_OK);
    assert_int_equal(nw_alert_set(&a->stream, "00112233aabbccdd"), NW_OK);
    for (size_t i = 0; i < n_topics; i++) {
        assert_int_equal(nw_alert_add_topic(a, topics[i]), NW_OK);
        a->topics[i].seq = (uint64_t)1 << (8 * i);
    }
    a->index = 7;
    a->seq = 1234567;
    a->kind = NW_KIND_KEYPOINT;
    a->priority = NW_PRIORITY_URGENT;
    a->published_ms = 1796605908256;
    assert_int_equal(nw_alert_set(&a->url, "https://example.org/story"), NW_OK);
    a->article_time_ms = 1796605900000;
    a->revision = 3;
}

static void s_assert_same(const nw_alert_t *x, const nw_alert_t *y)
{
    assert_string_equal(x->id, y->id);
    assert_string_equal(x->article_id, y->article_id);
    assert_string_equal(x->text, y->text);
    assert_string_equal(x->title, y->title);
    assert_string_equal(x->source, y->source);
    assert_string_equal(x->author, y->author);
    assert_string_equal(x->place, y->place);
    assert_string_equal(x->section, y->section);
    assert_string_equal(x->stream, y->stream);
    assert_int_equal(x->index, y->index);
    assert_int_equal(x->kind, y->kind);
    assert_int_equal(x->priority, y->priority);
    assert_int_equal(x->published_ms, y->published_ms);
    assert_int_equal(x->seq, y->seq);
    assert_string_equal(x->url, y->url);
    assert_int_equal(x->article_time_ms, y->article_time_ms);
    assert_int_equal(x->revision, y->revision);
    assert_int_equal(x->n_topics, y->n_topics);
    for (size_t i = 0; i < x->n_topics; i++) {
        assert_string_equal(x->topics[i].name, y->topics[i].name);
        assert_int_equal(x->topics[i].seq, y->topics[i].seq);
    }
}

/* Both decoders on the same bytes: the same code and, on success, the same fields.
 * Returns the code. */
static int s_diff(const void *frame, size_t size)
{
    nw_alert_t a, b;
    int ra = nw_alert_decode(frame, size, &a);
    int rb = nw_ref_alert_decode(frame, size, &b);
    if (ra != rb)
        fail_msg("%zu-byte frame: nw_alert_decode gives %d (%s), the reference %d (%s)", size, ra,
                 nw_strerror(ra), rb, nw_strerror(rb));
    if (ra == NW_OK)
        s_assert_same(&a, &b);
    nw_alert_clear(&a);
    nw_alert_clear(&b);
    return ra;
}

/* A map of 1 unknown key holding an array of nils, as large as a frame may be: the decoder
 * allocates nothing for it (msgpack-c's tree took 24 bytes per nil, ~15x the frame). Runs
 * first, so the process's peak is still low. */
static void test_frame_full_of_nils_costs_no_memory(void **state)
{
    (void)state;
    size_t n = NW_FRAME_MAX - 16;
    unsigned char *f = malloc(NW_FRAME_MAX);
    assert_non_null(f);
    size_t at = 0;
    f[at++] = 0x81;
    f[at++] = 0xa1;
    f[at++] = 'x';
    f[at++] = 0xdd;
    for (int s = 24; s >= 0; s -= 8)
        f[at++] = (unsigned char)(n >> s);
    memset(f + at, 0xc0, n);
    size_t size = at + n;
    nw_alert_t a;
    long before = s_maxrss_kb();
    for (int i = 0; i < 10; i++)
        assert_int_equal(nw_decode_alert(f, size, NW_FRAME_MAX, NW_WIRE_DEPTH_MAX, &a),
                         NW_ERR_WIRE_MISSING);
    long grown = s_maxrss_kb() - before;
    print_message("%zu-byte frame of nils: peak RSS grew %ld KiB over 10 decodes\n", size, grown);
    assert_true(grown < 1024); /* the object tree would take ~6 MiB */
    free(f);
}

/* Every valid alert shape decodes to the same fields in both. */
static void test_valid_frames_agree(void **state)
{
    (void)state;
    const size_t texts[] = {0, 1, 31, 32, 255, 256, 65535, NW_ALERT_TEXT_MAX};
    for (size_t t = 1; t <= 4; t++) {
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            nw_alert_t a;
            char *frame = NULL;
            size_t size = 0;
            s_alert(&a, t, texts[i]);
            assert_int_equal(nw_alert_encode(&a, &frame, &size), NW_OK);
            assert_int_equal(s_diff(frame, size), NW_OK);
            nw_alert_t back;
            assert_int_equal(nw_alert_decode(frame, size, &back), NW_OK);
            s_assert_same(&a, &back);
            nw_alert_clear(&back);
            nw_alert_clear(&a);
            free(frame);
        }
    }
}

/* Deterministic mutations of valid frames (byte edits, cuts, inserted bytes): both decoders
 * give the same code and fields on every one, and some are still accepted. */
static void test_mutated_frames_agree(void **state)
{
    (void)state;
    nw_alert_t a;
    char *frame = NULL;
    size_t size = 0;
    s_alert(&a, 3, 90);
    assert_int_equal(nw_alert_encode(&a, &frame, &size), NW_OK);
    nw_alert_clear(&a);
    unsigned char *m = malloc(size + 8);
    assert_non_null(m);
    static const unsigned char interesting[] = {
        0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc4, 0xca,
        0xcb, 0xcc, 0xcf, 0xd0, 0xd3, 0xd4, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};
    srand(20261207);
    size_t ok = 0, runs = 200000;
    for (size_t r = 0; r < runs; r++) {
        memcpy(m, frame, size);
        size_t len = size;
        int edits = 1 + rand() % 3;
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)rand() % len;
            m[at] = rand() % 2 ? interesting[(size_t)rand() % sizeof interesting]
                               : (unsigned char)rand();
        }
        if (rand() % 8 == 0)
            len = (size_t)rand() % len;
        else if (rand() % 16 == 0)
            m[len++] = (unsigned char)rand();
        ok += s_diff(m, len) == NW_OK;
    }
    print_message("%zu mutated frames, %zu still accepted, every one the same in both\n", runs, ok);
    assert_true(ok > 0);
    free(m);
    free(frame);
}

static void s_str(msgpack_packer *pk, const char *s, bool wide)
{
    size_t n = strlen(s);
    if (wide) { /* str 8 even when a fixstr would do */
        unsigned char h[2] = {0xd9, (unsigned char)n};
        msgpack_pack_str_body(pk, h, 2);
    } else {
        msgpack_pack_str(pk, n);
    }
    msgpack_pack_str_body(pk, s, n);
}

/* A valid alert frame packed by hand: the keys in reverse order of newswire's encoder when
 * reversed, keys as str 8 when wide, integers as int 64 when wide, and an unknown key holding
 * a map when nested. */
static void s_hand_frame(msgpack_sbuffer *sb, bool reversed, bool wide, bool nested)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    enum { N = 20 };
    msgpack_pack_map(&pk, N + (nested ? 1 : 0));
    if (nested) {
        s_str(&pk, "x-future", wide);
        msgpack_pack_map(&pk, 1);
        s_str(&pk, "k", false);
        msgpack_pack_array(&pk, 2);
        msgpack_pack_nil(&pk);
        msgpack_pack_true(&pk);
    }
    for (int k = 0; k < N; k++) {
        int i = reversed ? N - 1 - k : k;
        switch (i) {
        case 0: s_str(&pk, "v", wide), msgpack_pack_uint8(&pk, 1); break;
        case 1: s_str(&pk, "type", wide), s_str(&pk, "alert", false); break;
        case 2: s_str(&pk, "id", wide), s_str(&pk, "0123456789abcdef.2", false); break;
        case 3: s_str(&pk, "article", wide), s_str(&pk, "0123456789abcdef", false); break;
        case 4:
            s_str(&pk, "index", wide);
            wide ? msgpack_pack_int64(&pk, 2) : msgpack_pack_uint8(&pk, 2);
            break;
        case 5: s_str(&pk, "kind", wide), s_str(&pk, "paragraph", false); break;
        case 6: s_str(&pk, "priority", wide), msgpack_pack_uint8(&pk, 2); break;
        case 7:
            s_str(&pk, "published", wide);
            wide ? msgpack_pack_int64(&pk, 1796605908256) : msgpack_pack_uint64(&pk, 1796605908256);
            break;
        case 8: s_str(&pk, "stream", wide), s_str(&pk, "00112233aabbccdd", false); break;
        case 9: s_str(&pk, "seq", wide), msgpack_pack_uint32(&pk, 99); break;
        case 10:
            s_str(&pk, "topics", wide);
            msgpack_pack_array(&pk, 2);
            s_str(&pk, "markets", false);
            s_str(&pk, "trade.tariffs", false);
            break;
        case 11:
            s_str(&pk, "tseq", wide);
            msgpack_pack_map(&pk, 2);
            s_str(&pk, "trade.tariffs", false);
            msgpack_pack_uint16(&pk, 300);
            s_str(&pk, "markets", false);
            msgpack_pack_uint8(&pk, 4);
            break;
        case 12: s_str(&pk, "title", wide), s_str(&pk, "T\xc3\xaftle", false); break;
        case 13: s_str(&pk, "section", wide), s_str(&pk, "", false); break;
        case 14: s_str(&pk, "source", wide), s_str(&pk, "Wire", false); break;
        case 15: s_str(&pk, "place", wide), s_str(&pk, "Oslo", false); break;
        case 16: s_str(&pk, "text", wide), s_str(&pk, "Duties rise.", false); break;
        case 17: s_str(&pk, "url", wide), s_str(&pk, "https://example.org/", false); break;
        case 18:
            s_str(&pk, "article_time", wide);
            wide ? msgpack_pack_int64(&pk, -5) : msgpack_pack_int8(&pk, -5);
            break;
        default: s_str(&pk, "revision", wide), msgpack_pack_uint8(&pk, 4); break;
        }
    }
}

/* Valid frames in shapes the single pass hands to the thorough path (and shapes it reads
 * itself): both decoders accept them with the same fields, whichever path read them. */
static void test_other_layouts_agree(void **state)
{
    (void)state;
    for (int shape = 0; shape < 8; shape++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        s_hand_frame(&sb, shape & 1, shape & 2, shape & 4);
        assert_int_equal(s_diff(sb.data, sb.size), NW_OK);
        nw_alert_t a;
        assert_int_equal(nw_alert_decode(sb.data, sb.size, &a), NW_OK);
        assert_int_equal(a.n_topics, 2);
        assert_string_equal(a.topics[1].name, "trade.tariffs");
        assert_int_equal(a.topics[1].seq, 300);
        assert_int_equal(a.published_ms, 1796605908256);
        assert_int_equal(a.article_time_ms, -5);
        assert_int_equal(a.revision, 4);
        assert_string_equal(a.author, ""); /* absent: the empty string */
        nw_alert_clear(&a);
        /* The top-level map alone may nest 1 deep: the topics array is one too deep. */
        assert_int_equal(nw_decode_alert(sb.data, sb.size, NW_FRAME_MAX, 1, &a), NW_ERR_WIRE_DEPTH);
        msgpack_sbuffer_destroy(&sb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_full_of_nils_costs_no_memory),
        cmocka_unit_test(test_valid_frames_agree),
        cmocka_unit_test(test_mutated_frames_agree),
        cmocka_unit_test(test_other_layouts_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
