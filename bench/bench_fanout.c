/*
 * bench_fanout: one publisher through a proxy to many subscribers, newswire-proxy's
 * forwarding loop (nw_proxy) against libzmq's own zmq_proxy, in one run.
 *
 *     bench_fanout [SUBSCRIBERS...]        (default: 1 10 100 500)
 *
 * Everything is in this process, on tcp loopback, with a ZeroMQ context (one I/O thread)
 * per role as if each were its own process: the publisher (main thread, a PUB bound on
 * 127.0.0.1), the proxy (a thread: XSUB connected to the publisher, XPUB bound) and the
 * subscribers (SUB sockets, filter "trade" and "$nw.", spread over up to 4 receiver
 * threads that zmq_poll their share). Both proxies get the same message stream: two
 * frames, the topic "trade.tariffs" and a body the size of a real encoded paragraph alert
 * (the first 16 bytes carry the send time and a phase number; no proxy decodes alerts),
 * plus a real heartbeat every 100 ms, which nw_proxy decodes and rewrites.
 *
 * Throughput: the publisher sends M messages as fast as it can (M x SUBSCRIBERS is about
 * a million deliveries; M is at least 2000); high-water marks are off everywhere, so
 * nothing is dropped and every subscriber must get all M. delivered/s = M x SUBSCRIBERS /
 * (last receive - first send).
 * Latency: both set-ups run at once, and each paced message goes to both publishers back
 * to back (who goes first alternates), so a stall of the shared machine hits both alike:
 * 50000 deliveries per second per set-up (at most 20000 messages/s) for 2 s; a
 * delivery's latency is receive time - send time (CLOCK_MONOTONIC); p50 and p99 over all
 * deliveries.
 * Each case runs three times (NW_BENCH_REPEAT; throughput: raw first, then ours first, in
 * turn); each figure is the median of its runs, each ratio the median of the runs' own
 * ratios (the machine is shared); every run is shown on standard error. Prints the
 * ratios newswire / zmq_proxy. Timing never fails the program; a case that loses messages or stalls
 * does (exit 1).
 */
#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_log.h"
#include "nw_proxy.h"

#include <zmq.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define S_RECEIVERS_MAX 4                    /* receiver threads */
#define S_DELIVERIES    1000000              /* throughput: messages x subscribers per case */
#define S_LAT_RATE      50000.0              /* latency: deliveries per second, per set-up */
#define S_LAT_MSG_RATE  20000.0              /* latency: messages per second at most */
#define S_LAT_SECS      2.0                  /* latency: how long the publisher sends */
#define S_STALL_NS      (30 * 1000000000ull) /* a phase not done by then fails the case */
#define S_REPEAT        3  /* runs per case and proxy (NW_BENCH_REPEAT); medians are kept */
#define S_REPEAT_MAX    15 /* most runs per case */
#define S_TOPIC         "trade.tariffs"
#define S_HEARTBEAT     "$nw.heartbeat"
#define S_SYNC          "trade.sync"
#define S_FILLER        "Steel duties rise to 25% on 1 July, the commission said on Tuesday. "

typedef enum { S_RAW = 0, S_NEWSWIRE = 1 } s_kind_t;

/* One receiver thread and its share of the subscribers. */
typedef struct {
    struct s_case *c;      /* the case it belongs to */
    void **socks;          /* its SUB sockets */
    size_t n;              /* entries of socks */
    bool *synced;          /* per socket: a sync message arrived */
    uint64_t count[3];     /* data messages received per phase (1: throughput, 2: latency) */
    uint64_t last_ns;      /* receive time of the latest throughput message */
    uint64_t *lat;         /* latency samples, ns */
    size_t n_lat, cap_lat; /* used and allocated entries of lat */
    pthread_t thread;      /* runs s_receiver */
    bool started;          /* thread runs */
} s_receiver_t;

typedef struct s_case {
    s_kind_t kind;                       /* which proxy */
    size_t subs;                         /* subscribers */
    size_t body;                         /* bytes of the body frame */
    void *pub_ctx, *proxy_ctx, *sub_ctx; /* one context per role */
    void *pub;                           /* the publisher's PUB */
    void *xsub, *xpub;                   /* raw zmq_proxy's sockets */
    nw_proxy_t *nwp;                     /* newswire's proxy */
    char pub_ep[256];                    /* where the publisher listens */
    char proxy_ep[256];                  /* where the proxy listens */
    pthread_t proxy_thread;              /* runs the proxy */
    bool proxy_thread_started;           /* proxy_thread must be stopped */
    s_receiver_t rx[S_RECEIVERS_MAX];
    size_t n_rx;            /* receiver threads used */
    atomic_size_t n_synced; /* subscribers that saw a sync message */
    atomic_bool stop;       /* receivers end */
    char *hb;               /* an encoded heartbeat */
    size_t hb_size;         /* its bytes */
} s_case_t;

typedef struct {
    double msg_s;  /* deliveries per second */
    double p50_us; /* latency median */
    double p99_us; /* latency 99th percentile */
} s_result_t;

static uint64_t s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int s_setopt(void *sock, int opt, int val)
{
    return zmq_setsockopt(sock, opt, &val, sizeof val);
}

/* The bytes of a paragraph alert frame with a realistic text of about 300 bytes. */
static size_t s_alert_size(void)
{
    nw_alert_t a;
    char text[301], *frame = NULL;
    size_t size = 0;
    for (size_t i = 0; i < sizeof text - 1; i++)
        text[i] = S_FILLER[i % (sizeof S_FILLER - 1)];
    text[sizeof text - 1] = '\0';
    if (nw_alert_init(&a) != NW_OK)
        return 0;
    nw_alert_add_topic(&a, S_TOPIC);
    a.kind = NW_KIND_PARAGRAPH;
    a.seq = a.topics[0].seq = 0x10000000ull;
    a.published_ms = 1796606172792;
    if (nw_alert_set(&a.id, "5e0c2a9f71d43b86.3") != NW_OK ||
        nw_alert_set(&a.article_id, "5e0c2a9f71d43b86") != NW_OK ||
        nw_alert_set(&a.stream, "9f2c4e1a7b3d5c60") != NW_OK ||
        nw_alert_set(&a.title, "EU raises steel tariffs as talks stall") != NW_OK ||
        nw_alert_set(&a.source, "Example Wire") != NW_OK || nw_alert_set(&a.text, text) != NW_OK ||
        nw_alert_encode(&a, &frame, &size) != NW_OK)
        size = 0;
    free(frame);
    nw_alert_clear(&a);
    return size;
}

static int s_make_heartbeat(s_case_t *c)
{
    nw_alert_topic_t t = {.name = "trade.tariffs", .seq = 1};
    nw_heartbeat_t hb = {.stream = "9f2c4e1a7b3d5c60",
                         .seq = 1,
                         .time_ms = 1796606172792,
                         .interval_ms = 1000,
                         .replay = "tcp://*:5557",
                         .topics = &t,
                         .n_topics = 1};
    return nw_heartbeat_encode(&hb, &c->hb, &c->hb_size);
}

/* ------------------------------------------------------------------------ subscribers */

/* Drains one SUB socket. */
static void s_drain(s_receiver_t *r, size_t i)
{
    zmq_msg_t t, b;
    for (;;) {
        zmq_msg_init(&t);
        if (zmq_msg_recv(&t, r->socks[i], ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&t);
            return;
        }
        zmq_msg_init(&b);
        bool two = zmq_msg_more(&t) && zmq_msg_recv(&b, r->socks[i], 0) >= 0;
        uint64_t now = s_now_ns();
        const char *topic = zmq_msg_data(&t);
        size_t tlen = zmq_msg_size(&t);
        if (two && tlen == sizeof S_SYNC - 1 && memcmp(topic, S_SYNC, tlen) == 0) {
            if (!r->synced[i]) {
                r->synced[i] = true;
                atomic_fetch_add(&r->c->n_synced, 1);
            }
        } else if (two && tlen == sizeof S_TOPIC - 1 && memcmp(topic, S_TOPIC, tlen) == 0 &&
                   zmq_msg_size(&b) >= 16) {
            uint64_t sent, phase;
            memcpy(&sent, zmq_msg_data(&b), 8);
            memcpy(&phase, (char *)zmq_msg_data(&b) + 8, 8);
            if (phase < 3)
                r->count[phase]++;
            if (phase == 1)
                r->last_ns = now;
            if (phase == 2 && r->n_lat < r->cap_lat)
                r->lat[r->n_lat++] = now - sent;
        }
        zmq_msg_close(&b);
        zmq_msg_close(&t);
    }
}

static void *s_receiver(void *arg)
{
    s_receiver_t *r = arg;
    zmq_pollitem_t *items = calloc(r->n, sizeof *items);
    for (size_t i = 0; i < r->n; i++)
        items[i] = (zmq_pollitem_t){.socket = r->socks[i], .events = ZMQ_POLLIN};
    while (!atomic_load(&r->c->stop)) {
        if (zmq_poll(items, (int)r->n, 50) <= 0)
            continue;
        for (size_t i = 0; i < r->n; i++) {
            if (items[i].revents & ZMQ_POLLIN)
                s_drain(r, i);
        }
    }
    free(items);
    return NULL;
}

/* ------------------------------------------------------------------------------ proxies */

static void *s_raw_proxy(void *arg)
{
    s_case_t *c = arg;
    zmq_proxy(c->xsub, c->xpub, NULL); /* returns when the context is shut down */
    zmq_close(c->xsub);
    zmq_close(c->xpub);
    return NULL;
}

static void *s_nw_proxy(void *arg)
{
    s_case_t *c = arg;
    nw_proxy_run(c->nwp);
    return NULL;
}

static int s_start_proxy(s_case_t *c)
{
    char err[512];
    size_t size = sizeof c->proxy_ep;
    if (c->kind == S_NEWSWIRE) {
        const char *ups[] = {c->pub_ep}, *binds[] = {"tcp://127.0.0.1:*"};
        nw_proxy_opts_t o = {
            .upstreams = ups, .n_upstreams = 1, .binds = binds, .n_binds = 1, .hwm = 0};
        if (nw_proxy_new(c->proxy_ctx, &o, &c->nwp, err, sizeof err) != NW_OK) {
            fprintf(stderr, "bench_fanout: %s\n", err);
            return -1;
        }
        snprintf(c->proxy_ep, sizeof c->proxy_ep, "%s", nw_proxy_bound(c->nwp, 0));
        return pthread_create(&c->proxy_thread, NULL, s_nw_proxy, c);
    }
    c->xsub = zmq_socket(c->proxy_ctx, ZMQ_XSUB);
    c->xpub = zmq_socket(c->proxy_ctx, ZMQ_XPUB);
    if (s_setopt(c->xsub, ZMQ_RCVHWM, 0) != 0 || s_setopt(c->xpub, ZMQ_SNDHWM, 0) != 0 ||
        s_setopt(c->xsub, ZMQ_LINGER, 0) != 0 || s_setopt(c->xpub, ZMQ_LINGER, 0) != 0 ||
        zmq_connect(c->xsub, c->pub_ep) != 0 || zmq_bind(c->xpub, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(c->xpub, ZMQ_LAST_ENDPOINT, c->proxy_ep, &size) != 0) {
        fprintf(stderr, "bench_fanout: raw proxy: %s\n", zmq_strerror(errno));
        return -1;
    }
    return pthread_create(&c->proxy_thread, NULL, s_raw_proxy, c);
}

static void s_stop_proxy(s_case_t *c)
{
    if (c->kind == S_NEWSWIRE) {
        void *pair = zmq_socket(c->proxy_ctx, ZMQ_PAIR);
        zmq_connect(pair, nw_proxy_stop_endpoint(c->nwp));
        zmq_send(pair, "TERMINATE", 9, 0);
        pthread_join(c->proxy_thread, NULL);
        zmq_close(pair);
        nw_proxy_destroy(&c->nwp);
    } else {
        zmq_ctx_shutdown(c->proxy_ctx);
        pthread_join(c->proxy_thread, NULL);
    }
}

/* ---------------------------------------------------------------------------- publisher */

static void s_send(s_case_t *c, const char *topic, const void *body, size_t size)
{
    zmq_send(c->pub, topic, strlen(topic), ZMQ_SNDMORE);
    zmq_send(c->pub, body, size, 0);
}

static void s_send_data(s_case_t *c, char *body, uint64_t phase)
{
    uint64_t now = s_now_ns();
    memcpy(body, &now, 8);
    memcpy(body + 8, &phase, 8);
    s_send(c, S_TOPIC, body, c->body);
}

static uint64_t s_count(s_case_t *c, int phase)
{
    uint64_t n = 0;
    for (size_t i = 0; i < c->n_rx; i++)
        n += __atomic_load_n(&c->rx[i].count[phase], __ATOMIC_RELAXED);
    return n;
}

/* Sends heartbeats every 100 ms and sync messages until every subscriber saw one. */
static int s_sync(s_case_t *c)
{
    uint64_t t0 = s_now_ns();
    while (atomic_load(&c->n_synced) < c->subs) {
        s_send(c, S_HEARTBEAT, c->hb, c->hb_size);
        s_send(c, S_SYNC, "sync", 4);
        if (s_now_ns() - t0 > S_STALL_NS) {
            fprintf(stderr, "bench_fanout: only %zu of %zu subscribers connected\n",
                    atomic_load(&c->n_synced), c->subs);
            return -1;
        }
        nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
    return 0;
}

/* Waits until phase has want deliveries. */
static int s_wait(s_case_t *c, int phase, uint64_t want)
{
    uint64_t t0 = s_now_ns(), last_hb = t0;
    while (s_count(c, phase) < want) {
        uint64_t now = s_now_ns();
        if (now - t0 > S_STALL_NS) {
            fprintf(stderr, "bench_fanout: phase %d: %llu of %llu deliveries\n", phase,
                    (unsigned long long)s_count(c, phase), (unsigned long long)want);
            return -1;
        }
        if (now - last_hb > 100000000u) {
            s_send(c, S_HEARTBEAT, c->hb, c->hb_size);
            last_hb = now;
        }
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return 0;
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Throughput: M messages as fast as the publisher can send them. */
static int s_throughput(s_case_t *c, s_result_t *res)
{
    char *body = calloc(1, c->body);
    uint64_t m = S_DELIVERIES / c->subs;
    m = m < 2000 ? 2000 : m > 200000 ? 200000 : m;
    uint64_t t0 = s_now_ns(), last_hb = t0;
    for (uint64_t i = 0; i < m; i++) {
        s_send_data(c, body, 1);
        if ((i & 1023) == 0 && s_now_ns() - last_hb > 100000000u) {
            s_send(c, S_HEARTBEAT, c->hb, c->hb_size);
            last_hb = s_now_ns();
        }
    }
    free(body);
    if (s_wait(c, 1, m * c->subs) != 0)
        return -1;
    uint64_t t1 = 0;
    for (size_t i = 0; i < c->n_rx; i++)
        t1 = c->rx[i].last_ns > t1 ? c->rx[i].last_ns : t1;
    res->msg_s = (double)(m * c->subs) / ((double)(t1 - t0) / 1e9);
    return 0;
}

/* p50 and p99 of every latency sample c's receivers took. */
static void s_percentiles(s_case_t *c, s_result_t *res)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_rx; i++)
        n += c->rx[i].n_lat;
    uint64_t *all = malloc((n + 1) * sizeof *all);
    n = 0;
    for (size_t i = 0; i < c->n_rx; i++) {
        memcpy(all + n, c->rx[i].lat, c->rx[i].n_lat * sizeof *all);
        n += c->rx[i].n_lat;
    }
    qsort(all, n, sizeof *all, s_cmp_u64);
    res->p50_us = n > 0 ? (double)all[n / 2] / 1e3 : 0;
    res->p99_us = n > 0 ? (double)all[(n * 99) / 100] / 1e3 : 0;
    free(all);
}

/* Latency, both proxies at once: each paced message goes to both publishers, back to
 * back, so a stall of the shared machine hits both alike. */
static int s_latency_pair(s_case_t *c[2], s_result_t res[2])
{
    double rate = S_LAT_RATE / (double)c[0]->subs;
    rate = rate > S_LAT_MSG_RATE ? S_LAT_MSG_RATE : rate;
    uint64_t k = (uint64_t)(rate * S_LAT_SECS), gap = (uint64_t)(1e9 / rate);
    char *body = calloc(1, c[0]->body);
    uint64_t next = s_now_ns(), last_hb = next;
    for (uint64_t i = 0; i < k; i++) {
        /* Sleep, not spin: on a small machine a spinning publisher starves the proxy. */
        struct timespec at = {(time_t)(next / 1000000000u), (long)(next % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        int first = (int)(i & 1); /* who goes first alternates */
        s_send_data(c[first], body, 2);
        s_send_data(c[!first], body, 2);
        next += gap;
        if ((i % 64) == 0 && s_now_ns() - last_hb > 100000000u) {
            s_send(c[0], S_HEARTBEAT, c[0]->hb, c[0]->hb_size);
            s_send(c[1], S_HEARTBEAT, c[1]->hb, c[1]->hb_size);
            last_hb = s_now_ns();
        }
    }
    free(body);
    for (int j = 0; j < 2; j++) {
        if (s_wait(c[j], 2, k * c[j]->subs) != 0)
            return -1;
        s_percentiles(c[j], &res[j]);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------- case */

static int s_open_subscribers(s_case_t *c)
{
    c->n_rx = c->subs < S_RECEIVERS_MAX ? c->subs : S_RECEIVERS_MAX;
    double rate = S_LAT_RATE / (double)c->subs;
    rate = rate > S_LAT_MSG_RATE ? S_LAT_MSG_RATE : rate;
    for (size_t r = 0; r < c->n_rx; r++) {
        s_receiver_t *rx = &c->rx[r];
        rx->c = c;
        rx->n = c->subs / c->n_rx + (r < c->subs % c->n_rx);
        rx->socks = calloc(rx->n, sizeof *rx->socks);
        rx->synced = calloc(rx->n, sizeof *rx->synced);
        rx->cap_lat = rx->n * (size_t)(rate * S_LAT_SECS + 1);
        rx->lat = malloc(rx->cap_lat * sizeof *rx->lat);
        for (size_t i = 0; i < rx->n; i++) {
            void *s = rx->socks[i] = zmq_socket(c->sub_ctx, ZMQ_SUB);
            if (s == NULL || s_setopt(s, ZMQ_RCVHWM, 0) != 0 || s_setopt(s, ZMQ_LINGER, 0) != 0 ||
                zmq_setsockopt(s, ZMQ_SUBSCRIBE, "trade", 5) != 0 ||
                zmq_setsockopt(s, ZMQ_SUBSCRIBE, "$nw.", 4) != 0 ||
                zmq_connect(s, c->proxy_ep) != 0) {
                fprintf(stderr, "bench_fanout: subscriber %zu: %s\n", i, zmq_strerror(errno));
                return -1;
            }
        }
    }
    for (size_t r = 0; r < c->n_rx; r++)
        c->rx[r].started = pthread_create(&c->rx[r].thread, NULL, s_receiver, &c->rx[r]) == 0;
    return 0;
}

static void s_close_subscribers(s_case_t *c)
{
    atomic_store(&c->stop, true);
    for (size_t r = 0; r < c->n_rx; r++) {
        s_receiver_t *rx = &c->rx[r];
        if (rx->started)
            pthread_join(rx->thread, NULL);
        for (size_t i = 0; i < rx->n && rx->socks != NULL; i++) {
            if (rx->socks[i] != NULL)
                zmq_close(rx->socks[i]);
        }
        free(rx->socks);
        free(rx->synced);
        free(rx->lat);
    }
}

static void s_case_close(s_case_t *c)
{
    if (c == NULL)
        return;
    s_close_subscribers(c);
    if (c->proxy_thread_started) {
        s_stop_proxy(c);
    } else {
        if (c->xsub != NULL)
            zmq_close(c->xsub);
        if (c->xpub != NULL)
            zmq_close(c->xpub);
        nw_proxy_destroy(&c->nwp);
    }
    zmq_close(c->pub);
    zmq_ctx_term(c->sub_ctx);
    zmq_ctx_term(c->proxy_ctx);
    zmq_ctx_term(c->pub_ctx);
    free(c->hb);
    free(c);
}

/* A publisher, a proxy of the kind and subs subscribers, every subscriber reached.
 * NULL (after saying why) on failure. */
static s_case_t *s_case_open(s_kind_t kind, size_t subs, size_t body)
{
    s_case_t *c = calloc(1, sizeof *c);
    size_t size = sizeof c->pub_ep;
    c->kind = kind;
    c->subs = subs;
    c->body = body;
    atomic_init(&c->n_synced, 0);
    atomic_init(&c->stop, false);
    c->pub_ctx = zmq_ctx_new();
    c->proxy_ctx = zmq_ctx_new();
    c->sub_ctx = zmq_ctx_new();
    zmq_ctx_set(c->sub_ctx, ZMQ_MAX_SOCKETS, (int)subs + 64);
    zmq_ctx_set(c->proxy_ctx, ZMQ_MAX_SOCKETS, 64);
    c->pub = zmq_socket(c->pub_ctx, ZMQ_PUB);
    if (s_make_heartbeat(c) != NW_OK || s_setopt(c->pub, ZMQ_SNDHWM, 0) != 0 ||
        s_setopt(c->pub, ZMQ_LINGER, 0) != 0 || zmq_bind(c->pub, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(c->pub, ZMQ_LAST_ENDPOINT, c->pub_ep, &size) != 0) {
        fprintf(stderr, "bench_fanout: publisher: %s\n", zmq_strerror(errno));
        s_case_close(c);
        return NULL;
    }
    if (s_start_proxy(c) != 0) {
        s_case_close(c);
        return NULL;
    }
    c->proxy_thread_started = true;
    if (s_open_subscribers(c) != 0 || s_sync(c) != 0) {
        s_case_close(c);
        return NULL;
    }
    return c;
}

/* One run of both proxies at subs subscribers: throughput one after the other (raw first
 * when raw_first), then latency of both at once. Returns 0 with res[S_RAW] and
 * res[S_NEWSWIRE] filled, or -1. */
static int s_run_pair(size_t subs, size_t body, bool raw_first, s_result_t res[2])
{
    s_case_t *c[2] = {s_case_open(S_RAW, subs, body), NULL};
    int rc = -1;
    if (c[S_RAW] == NULL || (c[S_NEWSWIRE] = s_case_open(S_NEWSWIRE, subs, body)) == NULL)
        goto done;
    int order[2] = {raw_first ? S_RAW : S_NEWSWIRE, raw_first ? S_NEWSWIRE : S_RAW};
    for (int j = 0; j < 2; j++) {
        if (s_throughput(c[order[j]], &res[order[j]]) != 0) {
            fprintf(stderr, "bench_fanout: %zu subscribers, %s: throughput FAILED\n", subs,
                    order[j] == S_RAW ? "zmq_proxy" : "newswire");
            goto done;
        }
    }
    if (s_latency_pair(c, res) != 0) {
        fprintf(stderr, "bench_fanout: %zu subscribers: latency FAILED\n", subs);
        goto done;
    }
    rc = 0;
done:
    s_case_close(c[S_NEWSWIRE]);
    s_case_close(c[S_RAW]);
    return rc;
}

static const char *s_kind_name(int kind)
{
    return kind == S_RAW ? "zmq_proxy" : "newswire";
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Each figure's median over n runs (zeros when n is 0). */
static s_result_t s_median(const s_result_t *runs, int n)
{
    s_result_t m = {0, 0, 0};
    double v[3][S_REPEAT_MAX];
    if (n == 0)
        return m;
    for (int i = 0; i < n; i++) {
        v[0][i] = runs[i].msg_s;
        v[1][i] = runs[i].p50_us;
        v[2][i] = runs[i].p99_us;
    }
    for (int f = 0; f < 3; f++)
        qsort(v[f], (size_t)n, sizeof v[f][0], s_cmp_double);
    m.msg_s = (v[0][(n - 1) / 2] + v[0][n / 2]) / 2;
    m.p50_us = (v[1][(n - 1) / 2] + v[1][n / 2]) / 2;
    m.p99_us = (v[2][(n - 1) / 2] + v[2][n / 2]) / 2;
    return m;
}

/* Raises the open-file limit to what subs subscribers need (two fds each, plus some).
 * Returns the subscriber count that fits. */
static size_t s_fit_fds(size_t subs)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)subs * 3 + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return subs;
    if (rl.rlim_cur < need) {
        rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur >= need)
        return subs;
    size_t fit = rl.rlim_cur > 256 ? (size_t)(rl.rlim_cur - 256) / 3 : 1;
    fprintf(stderr, "bench_fanout: open-file limit %llu: %zu subscribers instead of %zu\n",
            (unsigned long long)rl.rlim_cur, fit, subs);
    return fit;
}

int main(int argc, char *argv[])
{
    size_t counts[16] = {1, 10, 100, 500}, n = 4;
    if (argc > 1) {
        n = 0;
        for (int i = 1; i < argc && n < 16; i++) {
            long v = strtol(argv[i], NULL, 10);
            if (v < 1 || v > 10000) {
                fprintf(stderr, "usage: bench_fanout [SUBSCRIBERS (1-10000)...]\n");
                return 2;
            }
            counts[n++] = (size_t)v;
        }
    }
    nw_log_set_program("bench_fanout");
    nw_log_set_level(NW_LOG_WARN);
    size_t body = s_alert_size();
    if (body < 16) {
        fprintf(stderr, "bench_fanout: cannot encode the sample alert\n");
        return 1;
    }
    printf("one publisher -> proxy -> N subscribers, tcp loopback, [topic][%zu-byte body]\n", body);
    printf("%5s %-10s %14s %9s %9s %9s %9s\n", "subs", "proxy", "delivered/s", "p50_us", "p99_us",
           "tput", "p99");
    int status = 0, repeat = S_REPEAT;
    if (getenv("NW_BENCH_REPEAT") != NULL)
        repeat = atoi(getenv("NW_BENCH_REPEAT"));
    repeat = repeat < 1 ? 1 : repeat > S_REPEAT_MAX ? S_REPEAT_MAX : repeat;
    for (size_t i = 0; i < n; i++) {
        size_t subs = s_fit_fds(counts[i]);
        s_result_t runs[2][S_REPEAT_MAX], med[2];
        int got[2] = {0, 0};
        for (int rep = 0; rep < repeat; rep++) {
            s_result_t r[2] = {{0, 0, 0}, {0, 0, 0}};
            if (s_run_pair(subs, body, rep % 2 == 0, r) != 0) {
                status = 1;
                continue;
            }
            for (int k = 0; k < 2; k++) {
                fprintf(stderr,
                        "bench_fanout: %zu subscribers, %s, run %d: %.0f/s p50 %.0f us p99 %.0f "
                        "us\n",
                        subs, s_kind_name(k), rep + 1, r[k].msg_s, r[k].p50_us, r[k].p99_us);
                runs[k][got[k]++] = r[k];
            }
        }
        for (int k = 0; k < 2; k++)
            med[k] = s_median(runs[k], got[k]);
        /* The ratios are the medians of each run's own ratios: a run's two set-ups shared
         * the machine's moment (its latency phase ran both at once). */
        s_result_t ratios[S_REPEAT_MAX];
        int n_ratios = got[0] < got[1] ? got[0] : got[1];
        for (int r = 0; r < n_ratios; r++) {
            ratios[r].msg_s = runs[1][r].msg_s / runs[0][r].msg_s;
            ratios[r].p50_us = runs[1][r].p50_us / runs[0][r].p50_us;
            ratios[r].p99_us = runs[1][r].p99_us / runs[0][r].p99_us;
        }
        s_result_t ratio = s_median(ratios, n_ratios);
        printf("%5zu %-10s %14.0f %9.0f %9.0f\n", subs, "zmq_proxy", med[0].msg_s, med[0].p50_us,
               med[0].p99_us);
        printf("%5zu %-10s %14.0f %9.0f %9.0f %9.2f %9.2f\n", subs, "newswire", med[1].msg_s,
               med[1].p50_us, med[1].p99_us, ratio.msg_s, ratio.p99_us);
        fflush(stdout);
    }
    printf("tput = newswire / zmq_proxy delivered/s (goal >= 0.8 at 100 subscribers); "
           "p99 = newswire / zmq_proxy p99 latency (goal <= 2); each the median of the runs' "
           "own ratios\n");
    return status;
}
