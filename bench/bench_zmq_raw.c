/*
 * bench_zmq_raw: raw libzmq PUB->SUB over tcp loopback at one message size, the baseline
 * bench_pipeline.sh runs beside the whole newswire pipeline.
 *
 *     bench_zmq_raw SIZE [COUNT]
 *
 * One process, two threads: the main thread binds a PUB socket on tcp://127.0.0.1 (a free
 * port), the subscriber thread connects a SUB socket with filter "". Back-pressure, as in
 * bench_pubsub: XPUB with ZMQ_XPUB_NODROP and a blocking send, so nothing is dropped; the
 * publisher waits for the subscription before it sends. COUNT (default 200000) messages of
 * SIZE bytes are sent; msg/s is COUNT over the subscriber's time from its first to its last
 * message. Prints one line: "raw SIZE B COUNT msgs SECONDS s RATE msg/s".
 */
#include <zmq.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_HWM        1000  /* send and receive high-water marks, in messages */
#define S_TIMEOUT_MS 10000 /* a receive stalled this long aborts the run */

typedef struct {
    void *ctx;         /* the ZeroMQ context */
    char endpoint[64]; /* where the publisher is bound */
    size_t size;       /* bytes per message */
    long count;        /* messages to receive */
    double secs;       /* first to last message, set by the subscriber */
    int failed;        /* the subscriber gave up */
} s_run_t;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *s_subscriber(void *arg)
{
    s_run_t *r = arg;
    void *sub = zmq_socket(r->ctx, ZMQ_SUB);
    int hwm = S_HWM, tmo = S_TIMEOUT_MS;
    zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    if (zmq_connect(sub, r->endpoint) != 0) {
        r->failed = 1;
        zmq_close(sub);
        return NULL;
    }
    zmq_msg_t m;
    zmq_msg_init(&m);
    double t0 = 0;
    for (long i = 0; i < r->count; i++) {
        if (zmq_msg_recv(&m, sub, 0) < 0 || zmq_msg_size(&m) != r->size) {
            fprintf(stderr, "bench_zmq_raw: message %ld: %s\n", i,
                    zmq_errno() == EAGAIN ? "timed out" : "wrong size or receive error");
            r->failed = 1;
            break;
        }
        if (i == 0)
            t0 = s_now();
    }
    r->secs = s_now() - t0;
    zmq_msg_close(&m);
    zmq_close(sub);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_zmq_raw SIZE [COUNT]\n");
        return 2;
    }
    s_run_t r = {.size = strtoul(argv[1], NULL, 10), .count = argc > 2 ? atol(argv[2]) : 200000};
    if (r.size == 0 || r.count <= 1) {
        fprintf(stderr, "bench_zmq_raw: SIZE and COUNT must be positive (COUNT > 1)\n");
        return 2;
    }
    r.ctx = zmq_ctx_new();
    void *pub = zmq_socket(r.ctx, ZMQ_XPUB);
    int hwm = S_HWM, one = 1;
    zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(pub, ZMQ_XPUB_NODROP, &one, sizeof one);
    size_t len = sizeof r.endpoint;
    if (zmq_bind(pub, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, r.endpoint, &len) != 0) {
        fprintf(stderr, "bench_zmq_raw: bind: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    pthread_t th;
    pthread_create(&th, NULL, s_subscriber, &r);
    char sub[16];
    if (zmq_recv(pub, sub, sizeof sub, 0) < 0) { /* the subscription: nothing is lost */
        fprintf(stderr, "bench_zmq_raw: no subscription\n");
        return 1;
    }
    char *body = malloc(r.size);
    memset(body, 'x', r.size);
    for (long i = 0; i < r.count; i++)
        if (zmq_send(pub, body, r.size, 0) < 0) {
            fprintf(stderr, "bench_zmq_raw: send: %s\n", zmq_strerror(zmq_errno()));
            return 1;
        }
    pthread_join(th, NULL);
    free(body);
    zmq_close(pub);
    zmq_ctx_term(r.ctx);
    if (r.failed)
        return 1;
    printf("raw %zu B %ld msgs %.3f s %.0f msg/s\n", r.size, r.count, r.secs,
           (double)(r.count - 1) / r.secs);
    return 0;
}
