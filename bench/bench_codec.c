/*
 * bench_codec: alert encode/decode through nw_codec against raw msgpack-c, in one run.
 *
 *     bench_codec [SECONDS]
 *
 * For a realistic alert (all 18 keys of PROTOCOL.md section 5) sized so its frame is
 * 300 bytes (a headline: one topic, short text) and 1000 bytes (a paragraph: two
 * topics, ~650 bytes of text), measures for SECONDS each (default 1):
 *   - encode+decode:  nw_alert_encode, nw_alert_decode, nw_alert_clear, free;
 *     baseline:       the same map packed with msgpack_pack_* into an sbuffer, then
 *                     msgpack_unpack into a zone (no validation, no copies);
 *   - encode only:    nw_alert_encode + free vs the msgpack_pack_* packing;
 *   - decode only:    nw_alert_decode + nw_alert_clear vs msgpack_unpack, plus the
 *                     pre-check nw_wire_check alone and msgpack_unpack behind the
 *                     pre-check (nw_alert_decode checks bounds in its own single pass
 *                     and runs the pre-check only for a frame that pass refuses);
 * and prints ops/s with the ratio ours/baseline. Each measure runs interleaved with its
 * baseline in 20 ms turns, so load on the machine slows both alike. The baseline's bytes are
 * checked to equal ours, so both sides handle the same frame.
 *
 * Then, each in a forked child (address space capped at 4 GiB), the peak memory of one
 * decode: ru_maxrss (resident) and VmPeak (virtual) growth over the child's state just
 * before the call, for a maximal legal alert (every field at its limit, 16 topics), a
 * maximal legal frame (that alert plus an unknown key holding an array of nils up to the
 * 262144-byte limit: the most MessagePack values a legal frame can hold), and the
 * hostile 5-byte header dd ff ff ff ff ("array of 2^32-1"), each through nw_alert_decode
 * and through raw msgpack_unpack.
 *
 * The DESIGN baseline "msgpack-c encode+decode of a 12-field alert" (1.82 M/s) used a
 * smaller map; this bench packs the real 18-key map on both sides, so compare ratios.
 */
#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_wire_check.h"

#include <msgpack.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_BLOCK  64                          /* operations between two clock reads */
#define S_AS_CAP (4ull * 1024 * 1024 * 1024) /* address-space cap of a memory child */
#define S_FILLER "Steel duties rise to 25% on 1 July, the commission said on Tuesday. "

typedef struct {
    nw_alert_t alert; /* the alert to encode */
    char *frame;      /* its frame, from nw_alert_encode */
    size_t size;      /* bytes of frame */
} s_case_t;

typedef int s_op_fn(s_case_t *c); /* one operation; returns NW_OK or an error */

typedef struct {
    long maxrss_kib; /* ru_maxrss growth over the decode */
    long vmpeak_kib; /* VmPeak growth over the decode */
    int rc;          /* the decoder's result */
} s_mem_t;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define S_SLICE 0.02 /* seconds of one turn when two operations are interleaved */

/* Runs a and b on c in alternating slices of S_SLICE seconds, secs seconds each in total,
 * so that a loaded machine slows both alike; sets *ra and *rb to their ops/s. Returns 0, or
 * -1 after printing an operation's error. */
static int s_rate2(s_op_fn *a, s_op_fn *b, s_case_t *c, double secs, const char *name, double *ra,
                   double *rb)
{
    uint64_t ops[2] = {0, 0};
    double spent[2] = {0, 0};
    s_op_fn *op[2] = {a, b};
    while (spent[0] < secs || spent[1] < secs) {
        for (int k = 0; k < 2; k++) {
            double t0 = s_now(), t = t0;
            while (t - t0 < S_SLICE) {
                for (int i = 0; i < S_BLOCK; i++) {
                    int rc = op[k](c);
                    if (rc != NW_OK) {
                        fprintf(stderr, "bench_codec: %s: %s\n", name, nw_strerror(rc));
                        return -1;
                    }
                }
                ops[k] += S_BLOCK;
                t = s_now();
            }
            spent[k] += t - t0;
        }
    }
    *ra = (double)ops[0] / spent[0];
    *rb = (double)ops[1] / spent[1];
    return 0;
}

/* ---------------------------------------------------------------- our codec */

static int s_ours_encode(s_case_t *c)
{
    char *data;
    size_t size;
    int rc = nw_alert_encode(&c->alert, &data, &size);
    if (rc == NW_OK)
        free(data);
    return rc;
}

static int s_ours_decode(s_case_t *c)
{
    nw_alert_t a;
    int rc = nw_alert_decode(c->frame, c->size, &a);
    if (rc == NW_OK)
        nw_alert_clear(&a);
    return rc;
}

static int s_ours_both(s_case_t *c)
{
    char *data;
    size_t size;
    nw_alert_t a;
    int rc = nw_alert_encode(&c->alert, &data, &size);
    if (rc != NW_OK)
        return rc;
    if ((rc = nw_alert_decode(data, size, &a)) == NW_OK)
        nw_alert_clear(&a);
    free(data);
    return rc;
}

static int s_check_only(s_case_t *c)
{
    return nw_wire_check(c->frame, c->size, NW_WIRE_DEPTH_MAX);
}

/* ---------------------------------------------------------------- raw msgpack-c */

static void s_raw_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* Packs the alert's 18-key map as nw_alert_encode does, without any checks. */
static void s_raw_pack(msgpack_packer *pk, const nw_alert_t *a)
{
    msgpack_pack_map(pk, 18);
    s_raw_str(pk, "v");
    msgpack_pack_uint64(pk, 1);
    s_raw_str(pk, "type");
    s_raw_str(pk, "alert");
    s_raw_str(pk, "id");
    s_raw_str(pk, a->id);
    s_raw_str(pk, "article");
    s_raw_str(pk, a->article_id);
    s_raw_str(pk, "index");
    msgpack_pack_uint64(pk, a->index);
    s_raw_str(pk, "kind");
    s_raw_str(pk, nw_alert_kind_name(a->kind));
    s_raw_str(pk, "priority");
    msgpack_pack_uint64(pk, (uint64_t)a->priority);
    s_raw_str(pk, "published");
    msgpack_pack_int64(pk, a->published_ms);
    s_raw_str(pk, "stream");
    s_raw_str(pk, a->stream);
    s_raw_str(pk, "seq");
    msgpack_pack_uint64(pk, a->seq);
    s_raw_str(pk, "topics");
    msgpack_pack_array(pk, a->n_topics);
    for (size_t i = 0; i < a->n_topics; i++)
        s_raw_str(pk, a->topics[i].name);
    s_raw_str(pk, "tseq");
    msgpack_pack_map(pk, a->n_topics);
    for (size_t i = 0; i < a->n_topics; i++) {
        s_raw_str(pk, a->topics[i].name);
        msgpack_pack_uint64(pk, a->topics[i].seq);
    }
    s_raw_str(pk, "title");
    s_raw_str(pk, a->title);
    s_raw_str(pk, "section");
    s_raw_str(pk, a->section);
    s_raw_str(pk, "source");
    s_raw_str(pk, a->source);
    s_raw_str(pk, "author");
    s_raw_str(pk, a->author);
    s_raw_str(pk, "place");
    s_raw_str(pk, a->place);
    s_raw_str(pk, "text");
    s_raw_str(pk, a->text);
}

/* Packs c's alert into a fresh sbuffer (the caller destroys it). */
static void s_raw_pack_sbuf(s_case_t *c, msgpack_sbuffer *sbuf)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sbuf);
    msgpack_packer_init(&pk, sbuf, msgpack_sbuffer_write);
    s_raw_pack(&pk, &c->alert);
}

static int s_raw_unpack(const char *data, size_t size)
{
    msgpack_zone z;
    msgpack_object obj;
    size_t off = 0;
    if (!msgpack_zone_init(&z, MSGPACK_ZONE_CHUNK_SIZE))
        return NW_ERR_NOMEM;
    msgpack_unpack_return r = msgpack_unpack(data, size, &off, &z, &obj);
    msgpack_zone_destroy(&z);
    switch (r) {
    case MSGPACK_UNPACK_SUCCESS: return NW_OK;
    case MSGPACK_UNPACK_NOMEM_ERROR: return NW_ERR_NOMEM;
    case MSGPACK_UNPACK_CONTINUE: return NW_ERR_WIRE_TRUNCATED;
    default: return NW_ERR_WIRE_MALFORMED;
    }
}

static int s_raw_encode(s_case_t *c)
{
    msgpack_sbuffer sbuf;
    s_raw_pack_sbuf(c, &sbuf);
    int rc = sbuf.size == c->size ? NW_OK : NW_ERR_INVAL;
    msgpack_sbuffer_destroy(&sbuf);
    return rc;
}

static int s_raw_decode(s_case_t *c)
{
    return s_raw_unpack(c->frame, c->size);
}

static int s_raw_checked_decode(s_case_t *c)
{
    int rc = nw_wire_check(c->frame, c->size, NW_WIRE_DEPTH_MAX);
    return rc == NW_OK ? s_raw_unpack(c->frame, c->size) : rc;
}

static int s_raw_both(s_case_t *c)
{
    msgpack_sbuffer sbuf;
    s_raw_pack_sbuf(c, &sbuf);
    int rc = s_raw_unpack(sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy(&sbuf);
    return rc;
}

/* ---------------------------------------------------------------- the alerts */

static int s_set_all(nw_alert_t *a, const char *const *fields, const char *text)
{
    char **dst[] = {&a->id,     &a->article_id, &a->stream, &a->title,
                    &a->source, &a->author,     &a->place,  &a->section};
    int rc = NW_OK;
    for (size_t i = 0; i < sizeof dst / sizeof dst[0] && rc == NW_OK; i++)
        rc = nw_alert_set(dst[i], fields[i]);
    return rc == NW_OK ? nw_alert_set(&a->text, text) : rc;
}

/* Builds c's alert with a frame of target bytes (300: a headline, else a paragraph)
 * by growing the text, and encodes it into c->frame. */
static int s_make_case(s_case_t *c, size_t target)
{
    static const char *const headline[] = {"5e0c2a9f71d43b86.0", "5e0c2a9f71d43b86",
                                           "9f2c4e1a7b3d5c60",   "EU raises steel tariffs",
                                           "Example Wire",       "",
                                           "Brussels",           ""};
    static const char *const paragraph[] = {
        "5e0c2a9f71d43b86.3", "5e0c2a9f71d43b86", "9f2c4e1a7b3d5c60", "EU raises tariffs on steel",
        "Example Wire",       "Jane Doe",         "Brussels",         "Quick Looks"};
    bool head = target <= 300;
    char text[4096] = "";
    int rc;
    memset(c, 0, sizeof *c);
    if ((rc = nw_alert_init(&c->alert)) != NW_OK ||
        (rc = nw_alert_add_topic(&c->alert, head ? "markets" : "trade.tariffs")) != NW_OK ||
        (!head && (rc = nw_alert_add_topic(&c->alert, "markets")) != NW_OK))
        return rc;
    c->alert.kind = head ? NW_KIND_HEADLINE : NW_KIND_PARAGRAPH;
    c->alert.index = head ? 0 : 3;
    c->alert.published_ms = 1718960400000;
    c->alert.seq = 1042;
    c->alert.topics[0].seq = 57;
    if (!head)
        c->alert.topics[1].seq = 311;
    for (size_t len = 0; len < sizeof text - 1; len++) {
        text[len] = S_FILLER[len % (sizeof S_FILLER - 1)];
        text[len + 1] = '\0';
        free(c->frame);
        c->frame = NULL;
        if ((rc = s_set_all(&c->alert, head ? headline : paragraph, text)) != NW_OK ||
            (rc = nw_alert_encode(&c->alert, &c->frame, &c->size)) != NW_OK)
            return rc;
        if (c->size >= target)
            return NW_OK;
    }
    return NW_ERR_INVAL;
}

static void s_free_case(s_case_t *c)
{
    nw_alert_clear(&c->alert);
    free(c->frame);
}

/* ---------------------------------------------------------------- memory */

static long s_vmpeak_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmPeak: %ld", &kib) == 1)
            break;
    }
    if (f != NULL)
        fclose(f);
    return kib;
}

static long s_maxrss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int s_decode_once(const char *data, size_t size, bool raw)
{
    nw_alert_t a;
    int rc;
    if (raw)
        return s_raw_unpack(data, size);
    if ((rc = nw_alert_decode(data, size, &a)) == NW_OK)
        nw_alert_clear(&a);
    return rc;
}

/* The child of s_mem_child, a fresh process (argv: --mem-child none|ours|raw): reads a
 * frame's size and bytes from stdin into one buffer, warms up (decodes a 300-byte
 * alert both ways, so that faulting in code and malloc's first arena do not count),
 * decodes the frame once (or not, for "none") and writes an s_mem_t to stdout. */
static int s_mem_child_main(const char *mode)
{
    s_case_t warm;
    s_mem_t m = {0, 0, NW_OK};
    uint64_t size = 0;
    if (fread(&size, sizeof size, 1, stdin) != 1 || size > NW_FRAME_MAX)
        return 1;
    char *data = malloc(size + 1);
    if (data == NULL || fread(data, 1, size, stdin) != size || s_make_case(&warm, 300) != NW_OK)
        return 1;
    s_decode_once(warm.frame, warm.size, false);
    s_decode_once(warm.frame, warm.size, true);
    s_free_case(&warm);
    struct rlimit lim = {S_AS_CAP, S_AS_CAP};
    setrlimit(RLIMIT_AS, &lim);
    (void)s_vmpeak_kib();
    long rss0 = s_maxrss_kib(), vm0 = s_vmpeak_kib();
    if (strcmp(mode, "none") != 0)
        m.rc = s_decode_once(data, size, strcmp(mode, "raw") == 0);
    m.maxrss_kib = s_maxrss_kib() - rss0;
    m.vmpeak_kib = s_vmpeak_kib() - vm0;
    free(data);
    return fwrite(&m, sizeof m, 1, stdout) == 1 ? 0 : 1;
}

/* Runs this program again as a fresh process (so that nothing this one allocated and
 * freed can be reused) to decode data once in mode "none", "ours" or "raw", and
 * reports the child's memory growth over the decode. Returns 0, or -1 when the child
 * could not report. */
static int s_mem_child(const char *mode, const char *data, size_t size, s_mem_t *out)
{
    int in[2], res[2];
    if (pipe(in) != 0)
        return -1;
    if (pipe(res) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(res[1], STDOUT_FILENO);
        close(in[0]);
        close(in[1]);
        close(res[0]);
        close(res[1]);
        execl("/proc/self/exe", "bench_codec", "--mem-child", mode, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(res[1]);
    uint64_t n = size;
    bool sent = pid > 0 && write(in[1], &n, sizeof n) == (ssize_t)sizeof n &&
                write(in[1], data, size) == (ssize_t)size;
    close(in[1]);
    ssize_t got = sent ? read(res[0], out, sizeof *out) : -1;
    close(res[0]);
    int status;
    if (pid > 0)
        waitpid(pid, &status, 0);
    return got == (ssize_t)sizeof *out ? 0 : -1;
}

/* The largest legal alert: every string at its limit, 16 topics of 64 bytes. */
static int s_max_alert(char **data, size_t *size)
{
    nw_alert_t a;
    char *big = malloc(NW_ALERT_TEXT_MAX + 1);
    int rc = big != NULL ? nw_alert_init(&a) : NW_ERR_NOMEM;
    if (rc != NW_OK) {
        free(big);
        return rc;
    }
    char **fields[] = {&a.id,     &a.article_id, &a.stream, &a.title,
                       &a.source, &a.author,     &a.place,  &a.section};
    memset(big, 'x', NW_ALERT_FIELD_MAX);
    big[NW_ALERT_FIELD_MAX] = '\0';
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && rc == NW_OK; i++)
        rc = nw_alert_set(fields[i], big);
    memset(big, 'x', NW_ALERT_TEXT_MAX);
    big[NW_ALERT_TEXT_MAX] = '\0';
    if (rc == NW_OK)
        rc = nw_alert_set(&a.text, big);
    for (int t = 0; t < NW_ALERT_TOPICS_MAX && rc == NW_OK; t++) {
        char name[NW_ALERT_FIELD_MAX];
        snprintf(name, sizeof name, "%02d%062d", t, 0); /* 64 bytes, all digits */
        rc = nw_alert_add_topic(&a, name);
        a.topics[t].seq = UINT64_MAX;
    }
    a.seq = UINT64_MAX;
    a.index = UINT32_MAX;
    if (rc == NW_OK)
        rc = nw_alert_encode(&a, data, size);
    nw_alert_clear(&a);
    free(big);
    return rc;
}

/* The maximal alert plus key "x" holding an array of nils: NW_FRAME_MAX bytes. */
static int s_max_frame(const char *alert, size_t alert_size, char **data)
{
    char *f = malloc(NW_FRAME_MAX);
    if (f == NULL)
        return NW_ERR_NOMEM;
    /* alert starts with de 00 12 (map 16 of 18 pairs): 19 pairs now. */
    memcpy(f, alert, alert_size);
    f[2] = 0x13;
    size_t at = alert_size;
    f[at++] = (char)0xa1;
    f[at++] = 'x';
    uint32_t n = (uint32_t)(NW_FRAME_MAX - at - 5);
    f[at++] = (char)0xdd;
    for (int s = 24; s >= 0; s -= 8)
        f[at++] = (char)(n >> s);
    memset(f + at, 0xc0, n);
    *data = f;
    return NW_OK;
}

static void s_mem_row(const char *name, const char *data, size_t size)
{
    s_mem_t none, ours, raw;
    if (s_mem_child("none", data, size, &none) != 0 ||
        s_mem_child("ours", data, size, &ours) != 0 || s_mem_child("raw", data, size, &raw) != 0) {
        printf("%-34s %8zu  (a child failed)\n", name, size);
        return;
    }
    printf("%-34s %8zu %6ld %9ld %9ld  %-20s %9ld %9ld  %s\n", name, size, none.maxrss_kib,
           ours.maxrss_kib, ours.vmpeak_kib, nw_strerror(ours.rc), raw.maxrss_kib, raw.vmpeak_kib,
           nw_strerror(raw.rc));
}

static int s_memory(void)
{
    char *alert = NULL, *frame = NULL;
    size_t alert_size = 0;
    static const char hostile[] = {(char)0xdd, (char)0xff, (char)0xff, (char)0xff, (char)0xff};
    static const char hostile64m[] = {(char)0xdd, 0x04, 0x00, 0x00, 0x00};
    int rc = s_max_alert(&alert, &alert_size);
    if (rc == NW_OK)
        rc = s_max_frame(alert, alert_size, &frame);
    if (rc != NW_OK) {
        fprintf(stderr, "bench_codec: cannot build the maximal frames: %s\n", nw_strerror(rc));
        free(alert);
        return 1;
    }
    printf("\npeak memory of one decode: KiB of ru_maxrss (rss) and VmPeak (vm) grown over the "
           "call,\nin a fresh process holding only the frame (none: no decode); address space "
           "capped at 4 GiB\n");
    printf("%-34s %8s %6s %9s %9s  %-20s %9s %9s  %s\n", "frame", "bytes", "none", "ours rss",
           "ours vm", "ours result", "raw rss", "raw vm", "raw result");
    s_mem_row("maximal alert (fields at limits)", alert, alert_size);
    s_mem_row("maximal frame (+ array of nils)", frame, NW_FRAME_MAX);
    s_mem_row("hostile dd ff ff ff ff (2^32-1)", hostile, sizeof hostile);
    s_mem_row("hostile dd 04 00 00 00 (2^26)", hostile64m, sizeof hostile64m);
    free(alert);
    free(frame);
    return 0;
}

/* ---------------------------------------------------------------- main */

static void s_row(size_t size, const char *name, double ours, double base, const char *bname)
{
    printf("%-6zu %-24s %12.0f %12.0f %-24s %7.2f\n", size, name, ours, base, bname, ours / base);
}

static int s_speed(s_case_t *c, double secs)
{
    msgpack_sbuffer sbuf;
    s_raw_pack_sbuf(c, &sbuf);
    bool same = sbuf.size == c->size && memcmp(sbuf.data, c->frame, c->size) == 0;
    msgpack_sbuffer_destroy(&sbuf);
    if (!same) {
        fprintf(stderr, "bench_codec: the raw packing differs from nw_alert_encode\n");
        return 1;
    }
    /* Each measure is interleaved with its baseline (s_rate2): compare the ratios. */
    double both, raw_both, enc, raw_enc, dec, raw_dec, check, raw_checked;
    if (s_rate2(s_ours_both, s_raw_both, c, secs, "encode+decode", &both, &raw_both) != 0 ||
        s_rate2(s_ours_encode, s_raw_encode, c, secs, "encode", &enc, &raw_enc) != 0 ||
        s_rate2(s_ours_decode, s_raw_decode, c, secs, "decode", &dec, &raw_dec) != 0 ||
        s_rate2(s_check_only, s_raw_checked_decode, c, secs, "pre-check", &check, &raw_checked) !=
            0)
        return 1;
    s_row(c->size, "encode+decode", both, raw_both, "pack+unpack");
    s_row(c->size, "encode", enc, raw_enc, "pack");
    s_row(c->size, "decode", dec, raw_dec, "unpack");
    s_row(c->size, "pre-check alone", check, raw_dec, "unpack");
    s_row(c->size, "decode", dec, raw_checked, "pre-check+unpack");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--mem-child") == 0)
        return s_mem_child_main(argv[2]);
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    if (secs <= 0) {
        fprintf(stderr, "usage: bench_codec [SECONDS]\n");
        return 2;
    }
    const size_t targets[] = {300, 1000};
    int rc = 0;
    printf("bench_codec: %.1f s per case; msgpack-c %s\n", secs, msgpack_version());
    printf("%-6s %-24s %12s %12s %-24s %7s\n", "frame", "ours", "ours op/s", "base op/s",
           "baseline", "ratio");
    for (size_t i = 0; i < sizeof targets / sizeof targets[0] && rc == 0; i++) {
        s_case_t c;
        int mk = s_make_case(&c, targets[i]);
        if (mk != NW_OK) {
            fprintf(stderr, "bench_codec: cannot build the alert: %s\n", nw_strerror(mk));
            rc = 1;
        } else {
            rc = s_speed(&c, secs);
        }
        s_free_case(&c);
    }
    return rc != 0 ? rc : s_memory();
}
