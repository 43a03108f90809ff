/*
 * fuzz_decoder_diff: libFuzzer differential harness for the alert decoder. The same bytes go
 * to nw_alert_decode (proto/nw_decode: straight from the bounds walk) and to the reference,
 * the msgpack-c object-tree decoder it replaced (tests/fuzz/nw_ref_decode.c); they must agree
 * on the result code and, on success, on every field. Any disagreement aborts.
 *
 * An input whose first byte is even is a frame as it is. One whose first byte is odd edits a
 * valid alert frame: the rest is a list of 3-byte edits (16-bit offset, new byte), and the
 * last edit's offset also cuts the frame there when its top bit is set, so the fuzzer spends
 * its time near frames that almost decode.
 *
 * Build and run: tests/fuzz/run_fuzz.sh [SECONDS] (clang-14, -fsanitize=fuzzer,address,
 * undefined).
 */
#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_ref_decode.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_base;      /* a valid alert frame to edit */
static size_t s_base_len; /* its bytes */

static void s_build_base(void)
{
    nw_alert_t a;
    if (nw_alert_init(&a) != 0)
        abort();
    nw_alert_set(&a.id, "0123456789abcdef.3");
    nw_alert_set(&a.article_id, "0123456789abcdef");
    nw_alert_set(&a.text, "Steel duties rise to 25% on 1 July \xc3\xa9t\xc3\xa9.");
    nw_alert_set(&a.title, "Steel");
    nw_alert_set(&a.source, "Wire");
    nw_alert_set(&a.stream, "00112233aabbccdd");
    nw_alert_add_topic(&a, "trade.tariffs");
    nw_alert_add_topic(&a, "markets");
    a.topics[0].seq = 300;
    a.topics[1].seq = 70000;
    a.seq = 1u << 20;
    a.index = 3;
    a.kind = NW_KIND_PARAGRAPH;
    a.priority = NW_PRIORITY_HIGH;
    a.published_ms = -5;
    if (nw_alert_encode(&a, &s_base, &s_base_len) != 0)
        abort();
    nw_alert_clear(&a);
}

static int s_same_str(const char *x, const char *y)
{
    return x != NULL && y != NULL && strcmp(x, y) == 0;
}

static void s_compare(const nw_alert_t *x, const nw_alert_t *y)
{
    int same = s_same_str(x->id, y->id) && s_same_str(x->article_id, y->article_id) &&
               x->index == y->index && x->kind == y->kind && s_same_str(x->text, y->text) &&
               s_same_str(x->title, y->title) && s_same_str(x->source, y->source) &&
               s_same_str(x->author, y->author) && s_same_str(x->place, y->place) &&
               s_same_str(x->section, y->section) && x->priority == y->priority &&
               x->published_ms == y->published_ms && s_same_str(x->stream, y->stream) &&
               x->seq == y->seq && x->n_topics == y->n_topics;
    for (size_t i = 0; same && i < x->n_topics; i++)
        same = s_same_str(x->topics[i].name, y->topics[i].name) &&
               x->topics[i].seq == y->topics[i].seq;
    if (!same) {
        fprintf(stderr, "fuzz_decoder_diff: both accept the frame, the fields differ\n");
        abort();
    }
}

static void s_diff(const uint8_t *frame, size_t size)
{
    nw_alert_t a, b;
    int ra = nw_alert_decode(frame, size, &a);
    int rb = nw_ref_alert_decode(frame, size, &b);
    if (ra != rb) {
        fprintf(stderr, "fuzz_decoder_diff: new decoder %d, reference %d\n", ra, rb);
        abort();
    }
    if (ra == 0)
        s_compare(&a, &b);
    nw_alert_clear(&a);
    nw_alert_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (s_base == NULL)
        s_build_base();
    if (size == 0 || (data[0] & 1) == 0) {
        s_diff(size ? data + 1 : data, size ? size - 1 : 0);
        return 0;
    }
    uint8_t *f = malloc(s_base_len);
    if (f == NULL)
        return 0;
    memcpy(f, s_base, s_base_len);
    size_t len = s_base_len;
    for (size_t i = 1; i + 3 <= size; i += 3) {
        size_t off = ((size_t)(data[i] & 0x7f) << 8 | data[i + 1]) % s_base_len;
        f[off] = data[i + 2];
        if ((data[i] & 0x80) && i + 6 > size)
            len = off;
    }
    s_diff(f, len);
    free(f);
    return 0;
}
