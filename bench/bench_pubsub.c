/*
 * bench_pubsub: PUB->SUB over tcp loopback, raw libzmq against the newswire path, in one run.
 *
 *     bench_pubsub [SECONDS] [RATE]
 *
 * One process, two threads: the publisher (main thread) binds an XPUB socket on
 * tcp://127.0.0.1 (a free port), the subscriber thread connects a SUB socket. Back-pressure,
 * as in the DESIGN baseline, means nothing is dropped: XPUB with ZMQ_XPUB_NODROP and a
 * blocking zmq_send, so a full pipe (SNDHWM = RCVHWM = 1000 messages, libzmq's default)
 * stalls the publisher instead of dropping; the subscriber checks it got every message.
 * Three paths, for bodies of 300 and 1000 bytes:
 *   - raw 1-frame: one message of BODY bytes, filter "" (the DESIGN baseline's shape);
 *   - raw 2-frame: [topic][BODY bytes], filter "trade", no encoding (the transport cost of
 *                  newswire's framing alone);
 *   - newswire:    per message nw_alert_encode of a realistic alert whose frame is BODY
 *                  bytes (new seq and tseq each time), [topic][frame] sent, free; the
 *                  subscriber checks there are two frames and the topic rule
 *                  (nw_topic_is_control, nw_topic_matches), runs nw_alert_decode, checks
 *                  seq and tseq, nw_alert_clear.
 * Throughput: the publisher sends as fast as it can for SECONDS (default 2); msg/s is what
 * the subscriber received over the time from its first to its last message.
 * Latency: the publisher sends RATE messages/s (default 5000, far below throughput, so
 * this measures latency, not queueing) for SECONDS, with a CLOCK_MONOTONIC timestamp in
 * the payload (raw: the first 8 bytes; newswire: the alert's "published" field, taken
 * before encoding, so encode and decode count); the subscriber takes the time after
 * receiving (raw) or decoding (newswire). The first 100 samples are dropped as warm-up.
 * Prints msg/s, p50/p99 in microseconds, and the ratios newswire / raw.
 */
#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_topic.h"

#include <zmq.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_HWM        1000 /* send and receive high-water marks, in messages */
#define S_TIMEOUT_MS 5000 /* a send or receive stalled this long aborts the case */
#define S_WARMUP     100  /* latency samples dropped at the start */
#define S_TOPIC      "trade.tariffs"
#define S_FILTER     "trade"
#define S_SEQ0       0x10000000ull /* first seq: its encoding width never changes */
#define S_FILLER     "Steel duties rise to 25% on 1 July, the commission said on Tuesday. "

typedef enum { S_RAW1, S_RAW2, S_NW } s_path_t;

typedef struct {
    s_path_t path;       /* what travels */
    size_t body;         /* bytes of the body frame */
    bool latency;        /* paced with timestamps, else as fast as possible */
    double secs;         /* how long the publisher sends */
    double rate;         /* latency: messages per second */
    void *ctx;           /* the ZeroMQ context */
    char endpoint[256];  /* where the publisher is bound */
    uint64_t received;   /* subscriber: data messages received */
    uint64_t bad;        /* subscriber: messages that failed a check */
    double t_first;      /* subscriber: time of the first data message */
    double t_last;       /* subscriber: time of the last data message */
    uint64_t *lat_ns;    /* subscriber: latency samples */
    size_t n_lat;        /* used entries of lat_ns */
    size_t cap_lat;      /* entries of lat_ns */
    const char *sub_err; /* subscriber: why it stopped early, or NULL */
} s_run_t;

typedef struct {
    double msg_s;  /* throughput */
    double p50_us; /* latency median */
    double p99_us; /* latency 99th percentile */
} s_result_t;

static uint64_t s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *s_path_name(s_path_t p)
{
    return p == S_RAW1 ? "raw 1-frame" : p == S_RAW2 ? "raw 2-frame" : "newswire";
}

/* Builds an alert tagged S_TOPIC (and "markets" for the larger sizes) whose frame is
 * target bytes, with seq numbers of the width the run will use. */
static int s_make_alert(nw_alert_t *a, size_t target)
{
    char text[4096] = "";
    int rc;
    if ((rc = nw_alert_init(a)) != NW_OK || (rc = nw_alert_add_topic(a, S_TOPIC)) != NW_OK ||
        (target > 300 && (rc = nw_alert_add_topic(a, "markets")) != NW_OK) ||
        (rc = nw_alert_set(&a->id, "5e0c2a9f71d43b86.3")) != NW_OK ||
        (rc = nw_alert_set(&a->article_id, "5e0c2a9f71d43b86")) != NW_OK ||
        (rc = nw_alert_set(&a->stream, "9f2c4e1a7b3d5c60")) != NW_OK ||
        (rc = nw_alert_set(&a->title, "EU raises steel tariffs")) != NW_OK ||
        (rc = nw_alert_set(&a->source, "Example Wire")) != NW_OK ||
        (rc = nw_alert_set(&a->place, "Brussels")) != NW_OK)
        return rc;
    a->kind = target > 300 ? NW_KIND_PARAGRAPH : NW_KIND_HEADLINE;
    a->published_ms = (int64_t)s_now_ns(); /* any value above 2^32: 9 bytes, as in the run */
    a->seq = S_SEQ0;
    for (size_t t = 0; t < a->n_topics; t++)
        a->topics[t].seq = S_SEQ0;
    for (size_t len = 0; len < sizeof text - 1; len++) {
        text[len] = S_FILLER[len % (sizeof S_FILLER - 1)];
        text[len + 1] = '\0';
        char *frame;
        size_t size;
        if ((rc = nw_alert_set(&a->text, text)) != NW_OK ||
            (rc = nw_alert_encode(a, &frame, &size)) != NW_OK)
            return rc;
        free(frame);
        if (size >= target)
            return NW_OK;
    }
    return NW_ERR_INVAL;
}

static int s_setopt(void *sock, int opt, int val)
{
    return zmq_setsockopt(sock, opt, &val, sizeof val);
}

/* ---------------------------------------------------------------- subscriber */

/* Checks one newswire message (topic frame t, body frame b) as a subscriber must.
 * Returns true when it is a well-formed alert of our topic with the expected numbers;
 * *sent_ns gets its timestamp. */
static bool s_nw_check(zmq_msg_t *t, zmq_msg_t *b, uint64_t expect, uint64_t *sent_ns)
{
    char topic[NW_TOPIC_MAX + 1];
    size_t tlen = zmq_msg_size(t);
    if (tlen > NW_TOPIC_MAX || nw_topic_is_control(zmq_msg_data(t), tlen))
        return false;
    memcpy(topic, zmq_msg_data(t), tlen);
    topic[tlen] = '\0';
    if (!nw_topic_matches(S_FILTER, topic))
        return false;
    nw_alert_t a;
    if (nw_alert_decode(zmq_msg_data(b), zmq_msg_size(b), &a) != NW_OK)
        return false;
    int i = nw_alert_find_topic(&a, topic);
    bool ok = a.seq == expect && i >= 0 && a.topics[i].seq == expect;
    *sent_ns = (uint64_t)a.published_ms;
    nw_alert_clear(&a);
    return ok;
}

/* Receives one message of up to two frames into t (and b). Returns its frame count,
 * or -1 on a receive error (timeout included). Extra frames are received and dropped. */
static int s_recv(void *sock, zmq_msg_t *t, zmq_msg_t *b)
{
    if (zmq_msg_recv(t, sock, 0) < 0)
        return -1;
    int frames = 1;
    for (zmq_msg_t *last = t; zmq_msg_more(last); frames++) {
        last = frames == 1 ? b : t;
        if (zmq_msg_recv(last, sock, 0) < 0)
            return -1;
    }
    return frames;
}

static void *s_subscriber(void *arg)
{
    s_run_t *r = arg;
    void *sock = zmq_socket(r->ctx, ZMQ_SUB);
    zmq_msg_t t, b;
    zmq_msg_init(&t);
    zmq_msg_init(&b);
    const char *filter = r->path == S_RAW1 ? "" : S_FILTER;
    if (sock == NULL || s_setopt(sock, ZMQ_RCVHWM, S_HWM) != 0 ||
        s_setopt(sock, ZMQ_RCVTIMEO, S_TIMEOUT_MS) != 0 || s_setopt(sock, ZMQ_LINGER, 0) != 0 ||
        zmq_setsockopt(sock, ZMQ_SUBSCRIBE, filter, strlen(filter)) != 0 ||
        zmq_connect(sock, r->endpoint) != 0) {
        r->sub_err = zmq_strerror(errno);
        goto done;
    }
    int want = r->path == S_RAW1 ? 1 : 2;
    for (;;) {
        int frames = s_recv(sock, &t, &b);
        if (frames < 0) {
            r->sub_err = zmq_strerror(errno);
            break;
        }
        zmq_msg_t *body = want == 1 ? &t : &b;
        if (frames != want) {
            r->bad++;
            continue;
        }
        if (zmq_msg_size(body) == 1)
            break; /* the end marker */
        uint64_t sent = 0, now;
        bool ok;
        if (r->path == S_NW) {
            ok = s_nw_check(&t, &b, S_SEQ0 + r->received, &sent);
        } else {
            ok = zmq_msg_size(body) == r->body;
            memcpy(&sent, zmq_msg_data(body), sizeof sent);
        }
        now = s_now_ns();
        if (!ok)
            r->bad++;
        if (r->received++ == 0)
            r->t_first = (double)now / 1e9;
        r->t_last = (double)now / 1e9;
        if (r->latency && r->received > S_WARMUP && r->n_lat < r->cap_lat)
            r->lat_ns[r->n_lat++] = now - sent;
    }
done:
    zmq_msg_close(&t);
    zmq_msg_close(&b);
    if (sock != NULL)
        zmq_close(sock);
    return NULL;
}

/* ---------------------------------------------------------------- publisher */

/* Sends message number i (from 0) of run r. */
static int s_send(void *sock, s_run_t *r, nw_alert_t *a, char *body, uint64_t i)
{
    uint64_t ts = s_now_ns();
    if (r->path != S_NW) {
        memcpy(body, &ts, sizeof ts);
        if (r->path == S_RAW2 && zmq_send(sock, S_TOPIC, strlen(S_TOPIC), ZMQ_SNDMORE) < 0)
            return NW_ERR_ZMQ;
        return zmq_send(sock, body, r->body, 0) < 0 ? NW_ERR_ZMQ : NW_OK;
    }
    char *frame;
    size_t size;
    a->seq = S_SEQ0 + i;
    for (size_t t = 0; t < a->n_topics; t++)
        a->topics[t].seq = S_SEQ0 + i;
    a->published_ms = (int64_t)ts; /* a monotonic timestamp in ns, for this bench only */
    int rc = nw_alert_encode(a, &frame, &size);
    if (rc != NW_OK)
        return rc;
    if (zmq_send(sock, S_TOPIC, strlen(S_TOPIC), ZMQ_SNDMORE) < 0 ||
        zmq_send(sock, frame, size, 0) < 0)
        rc = NW_ERR_ZMQ;
    free(frame);
    return rc;
}

static int s_send_end(void *sock, s_path_t path)
{
    if (path != S_RAW1 && zmq_send(sock, S_TOPIC, strlen(S_TOPIC), ZMQ_SNDMORE) < 0)
        return NW_ERR_ZMQ;
    return zmq_send(sock, "", 1, 0) < 0 ? NW_ERR_ZMQ : NW_OK;
}

/* Sends r's messages: as fast as possible, or paced at r->rate. *sent gets the count. */
static int s_publish(void *sock, s_run_t *r, nw_alert_t *a, char *body, uint64_t *sent)
{
    uint64_t i = 0, t0 = s_now_ns(), end = t0 + (uint64_t)(r->secs * 1e9);
    uint64_t gap = r->latency ? (uint64_t)(1e9 / r->rate) : 0;
    int rc = NW_OK;
    while (rc == NW_OK && s_now_ns() < end) {
        if (r->latency) {
            uint64_t due = t0 + i * gap;
            struct timespec ts = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
            rc = s_send(sock, r, a, body, i++);
            continue;
        }
        for (int k = 0; k < 64 && rc == NW_OK; k++)
            rc = s_send(sock, r, a, body, i++);
    }
    *sent = i;
    return rc == NW_OK ? s_send_end(sock, r->path) : rc;
}

static int s_cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Runs one case; fills out. Returns 0, or 1 after printing what went wrong. */
static int s_case(void *ctx, s_path_t path, size_t body_size, bool latency, double secs,
                  double rate, s_result_t *out)
{
    s_run_t r = {.path = path,
                 .body = body_size,
                 .latency = latency,
                 .secs = secs,
                 .rate = rate,
                 .ctx = ctx};
    nw_alert_t a = {0};
    char *body = calloc(1, body_size);
    void *pub = zmq_socket(ctx, ZMQ_XPUB);
    size_t len = sizeof r.endpoint;
    pthread_t th;
    bool started = false;
    uint64_t sent = 0;
    int rc = 1;
    char sub_msg[256];
    r.cap_lat = latency ? (size_t)(rate * secs) + 1024 : 0;
    r.lat_ns = latency ? malloc(r.cap_lat * sizeof *r.lat_ns) : NULL;
    if (body == NULL || (latency && r.lat_ns == NULL) ||
        (path == S_NW && s_make_alert(&a, body_size) != NW_OK)) {
        fprintf(stderr, "bench_pubsub: cannot set up the case\n");
        goto done;
    }
    memset(body, 'x', body_size);
    if (pub == NULL || s_setopt(pub, ZMQ_SNDHWM, S_HWM) != 0 ||
        s_setopt(pub, ZMQ_XPUB_NODROP, 1) != 0 || s_setopt(pub, ZMQ_LINGER, 0) != 0 ||
        s_setopt(pub, ZMQ_SNDTIMEO, S_TIMEOUT_MS) != 0 ||
        s_setopt(pub, ZMQ_RCVTIMEO, S_TIMEOUT_MS) != 0 || zmq_bind(pub, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, r.endpoint, &len) != 0) {
        fprintf(stderr, "bench_pubsub: publisher socket: %s\n", zmq_strerror(errno));
        goto done;
    }
    if (pthread_create(&th, NULL, s_subscriber, &r) != 0) {
        fprintf(stderr, "bench_pubsub: cannot start the subscriber thread\n");
        goto done;
    }
    started = true;
    /* The subscription reaching the XPUB means the subscriber is connected. */
    if (zmq_recv(pub, sub_msg, sizeof sub_msg, 0) < 0) {
        fprintf(stderr, "bench_pubsub: no subscription arrived: %s\n", zmq_strerror(errno));
        goto done;
    }
    if (s_publish(pub, &r, &a, body, &sent) != NW_OK) {
        fprintf(stderr, "bench_pubsub: %s: send failed: %s\n", s_path_name(path),
                zmq_strerror(errno));
        goto done;
    }
    pthread_join(th, NULL);
    started = false;
    if (r.sub_err != NULL || r.received != sent || r.bad != 0) {
        fprintf(stderr, "bench_pubsub: %s: sent %llu, received %llu, %llu bad%s%s\n",
                s_path_name(path), (unsigned long long)sent, (unsigned long long)r.received,
                (unsigned long long)r.bad, r.sub_err ? ": " : "", r.sub_err ? r.sub_err : "");
        goto done;
    }
    out->msg_s = r.received > 1 ? (double)(r.received - 1) / (r.t_last - r.t_first) : 0;
    if (latency && r.n_lat > 0) {
        qsort(r.lat_ns, r.n_lat, sizeof *r.lat_ns, s_cmp_u64);
        out->p50_us = (double)r.lat_ns[r.n_lat / 2] / 1e3;
        out->p99_us = (double)r.lat_ns[r.n_lat * 99 / 100] / 1e3;
    }
    rc = 0;
done:
    if (pub != NULL)
        zmq_close(pub); /* unblocks nothing by itself: the subscriber times out */
    if (started)
        pthread_join(th, NULL);
    nw_alert_clear(&a);
    free(body);
    free(r.lat_ns);
    return rc;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    double rate = argc > 2 ? atof(argv[2]) : 5000.0;
    if (secs <= 0 || rate <= 0) {
        fprintf(stderr, "usage: bench_pubsub [SECONDS] [RATE]\n");
        return 2;
    }
    void *ctx = zmq_ctx_new();
    if (ctx == NULL)
        return 1;
    const size_t sizes[] = {300, 1000};
    const s_path_t paths[] = {S_RAW1, S_RAW2, S_NW};
    s_result_t res[2][3][2] = {0}; /* size, path, [throughput, latency] */
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    printf("bench_pubsub: tcp loopback, XPUB (NODROP) -> SUB, HWM %d, libzmq %d.%d.%d; "
           "%.1f s per case, latency at %.0f msg/s\n",
           S_HWM, major, minor, patch, secs, rate);
    int rc = 0;
    for (size_t s = 0; s < 2 && rc == 0; s++) {
        for (size_t p = 0; p < 3 && rc == 0; p++) {
            rc = s_case(ctx, paths[p], sizes[s], false, secs, rate, &res[s][p][0]) ||
                 s_case(ctx, paths[p], sizes[s], true, secs, rate, &res[s][p][1]);
        }
    }
    if (rc == 0) {
        printf("%-6s %-12s %12s %9s %9s %14s %14s\n", "body", "path", "msg/s", "p50 us", "p99 us",
               "vs raw 1-frame", "vs raw 2-frame");
        for (size_t s = 0; s < 2; s++) {
            for (size_t p = 0; p < 3; p++) {
                s_result_t *x = &res[s][p][0], *l = &res[s][p][1];
                char v1[32] = "", v2[32] = "";
                if (p > 0)
                    snprintf(v1, sizeof v1, "%.2f", x->msg_s / res[s][0][0].msg_s);
                if (p > 1)
                    snprintf(v2, sizeof v2, "%.2f", x->msg_s / res[s][1][0].msg_s);
                printf("%-6zu %-12s %12.0f %9.1f %9.1f %14s %14s\n", sizes[s],
                       s_path_name(paths[p]), x->msg_s, l->p50_us, l->p99_us, v1, v2);
            }
        }
        printf("ratios are of msg/s; latency ratio newswire/raw 1-frame p50: %.2f (300 B), "
               "%.2f (1000 B)\n",
               res[0][2][1].p50_us / res[0][0][1].p50_us,
               res[1][2][1].p50_us / res[1][0][1].p50_us);
    }
    zmq_ctx_term(ctx);
    return rc;
}
