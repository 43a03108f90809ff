/*
 * bench_durable: durable publish -> one consumer writing a line file, newswire's journaled
 * publish path or Redis Streams, for bench_durable.sh (which starts the peers and prints the
 * ratios).
 *
 *     bench_durable redis PORT COUNT SIZE OUTFILE
 *         A forked consumer XREADs (BLOCK, COUNT 1000) stream "nw" on 127.0.0.1:PORT and
 *         writes each entry's payload as one line to OUTFILE until COUNT arrived; the parent
 *         XADDs COUNT payloads of SIZE bytes, pipelined 1000 at a time. The Redis server's
 *         appendfsync decides durability.
 *     bench_durable newswire JOURNAL_DIR FSYNC COUNT SIZE SUB_BIN OUTFILE
 *         The publish path of newswire-pub without article parsing: COUNT alerts (built before
 *         the clock starts, about SIZE bytes encoded) are numbered, encoded, appended to a
 *         journal in JOURNAL_DIR and sent as [topic][frame] on an XPUB socket (127.0.0.1, a
 *         free port) to one SUB_BIN -q --log OUTFILE -C COUNT child, with the daemon's group
 *         commit. FSYNC is interval (a batch of 64 is sent as soon as it is appended; a
 *         group fdatasync runs on a second thread, nw_journal_sync_begin/run/end, covering
 *         everything appended when it began, while later batches are numbered, encoded,
 *         appended and sent; when it ends the next one starts; sending waits for it only
 *         when S_SYNC_BACKLOG alerts are not yet covered, as the daemon queues at most 512
 *         articles for one fsync) or always (a batch of 64 is appended, synced, then sent).
 * Both print "NAME COUNT msgs SECONDS s RATE msg/s", timed from the first publish to the
 * consumer's end (its exit).
 */
#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_journal.h"

#include <hiredis.h>
#include <zmq.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_PIPE  1000 /* XADDs in flight, entries per XREAD */
#define S_BATCH 64   /* newswire: alerts per group commit */
#define S_SYNC_BACKLOG                                                                             \
    4096 /* newswire interval: alerts appended past the fsync in flight before sending waits       \
            for it (the daemon's 512 articles of about 7 alerts) */

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int s_fail(const char *what)
{
    fprintf(stderr, "bench_durable: %s\n", what);
    return 1;
}

/* --- Redis Streams ---------------------------------------------------------------------- */

static int s_redis_consume(int port, long count, const char *out)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    FILE *f = fopen(out, "w");
    if (c == NULL || c->err || f == NULL)
        return s_fail("consumer: cannot connect or open the output file");
    char last[64] = "0";
    long got = 0;
    while (got < count) {
        redisReply *r = redisCommand(c, "XREAD COUNT %d BLOCK 0 STREAMS nw %s", S_PIPE, last);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY)
            return s_fail("consumer: XREAD failed");
        redisReply *entries = r->element[0]->element[1];
        for (size_t i = 0; i < entries->elements; i++) {
            redisReply *e = entries->element[i];
            snprintf(last, sizeof last, "%s", e->element[0]->str);
            redisReply *fields = e->element[1];
            fwrite(fields->element[1]->str, 1, fields->element[1]->len, f);
            fputc('\n', f);
            got++;
        }
        freeReplyObject(r);
    }
    fclose(f);
    redisFree(c);
    return 0;
}

static int s_redis(int port, long count, size_t size, const char *out)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    if (c == NULL || c->err)
        return s_fail("cannot connect to redis-server");
    freeReplyObject(redisCommand(c, "DEL nw"));
    char *payload = malloc(size);
    memset(payload, 'x', size);
    double t0 = s_now();
    pid_t child = fork();
    if (child == 0)
        _exit(s_redis_consume(port, count, out));
    for (long i = 0; i < count; i += S_PIPE) {
        long n = count - i < S_PIPE ? count - i : S_PIPE;
        for (long k = 0; k < n; k++)
            redisAppendCommand(c, "XADD nw * d %b", payload, size);
        for (long k = 0; k < n; k++) {
            redisReply *r = NULL;
            if (redisGetReply(c, (void **)&r) != REDIS_OK || r->type == REDIS_REPLY_ERROR)
                return s_fail("XADD failed");
            freeReplyObject(r);
        }
    }
    int st = 0;
    waitpid(child, &st, 0);
    double secs = s_now() - t0;
    free(payload);
    redisFree(c);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return s_fail("the consumer failed");
    printf("redis %ld msgs %.3f s %.0f msg/s\n", count, secs, (double)count / secs);
    return 0;
}

/* --- newswire --------------------------------------------------------------------------- */

static int s_alert(nw_alert_t *a, long i, size_t text_len)
{
    static const char *const topics[] = {"trade.tariffs", "markets", "energy.oil", "defense"};
    char id[64];
    char *text = malloc(text_len + 1);
    if (text == NULL)
        return NW_ERR_NOMEM;
    memset(text, 'x', text_len);
    text[text_len] = '\0';
    snprintf(id, sizeof id, "%016lx.%ld", i / 8, i % 8);
    int rc = nw_alert_init(a);
    if (rc == NW_OK)
        rc = nw_alert_set(&a->id, id);
    if (rc == NW_OK)
        rc = nw_alert_set(&a->article_id, "0123456789abcdef");
    if (rc == NW_OK)
        rc = nw_alert_set(&a->text, text);
    if (rc == NW_OK)
        rc = nw_alert_add_topic(a, topics[i % 4]);
    free(text);
    return rc;
}

/* A batch of alerts [from, to) with its frames, and the sync that covers it. */
typedef struct {
    long from, to;
    char *frames[S_BATCH];
    size_t sizes[S_BATCH];
} s_nw_batch_t;

/* The group fsync in flight: its thread and the journal's job. */
typedef struct {
    pthread_t thread;
    bool running;
    atomic_bool done; /* the thread's fdatasync returned */
    long covers;      /* alerts appended when it began */
    nw_journal_sync_job_t job;
} s_nw_sync_t;

static void *s_sync_thread(void *arg)
{
    s_nw_sync_t *sy = arg;
    nw_journal_sync_run(&sy->job);
    atomic_store(&sy->done, true);
    return NULL;
}

/* Waits for the sync in flight (if any) and ends it. */
static int s_sync_wait(nw_journal_t *j, s_nw_sync_t *sy)
{
    if (!sy->running)
        return NW_OK;
    pthread_join(sy->thread, NULL);
    sy->running = false;
    return nw_journal_sync_end(j, &sy->job);
}

/* Starts syncing everything appended so far (appended alerts) on a thread. */
static int s_sync_start(nw_journal_t *j, s_nw_sync_t *sy, long appended)
{
    int rc = nw_journal_sync_begin(j, &sy->job);
    if (rc != NW_OK)
        return rc;
    sy->covers = appended;
    atomic_store(&sy->done, false);
    if (pthread_create(&sy->thread, NULL, s_sync_thread, sy) != 0) {
        nw_journal_sync_run(&sy->job); /* no thread: sync here */
        return nw_journal_sync_end(j, &sy->job);
    }
    sy->running = true;
    return NW_OK;
}

static int s_nw_send(void *pub, const nw_alert_t *alerts, s_nw_batch_t *b)
{
    int rc = NW_OK;
    for (long i = b->from; i < b->to; i++) {
        const char *topic = alerts[i].topics[0].name;
        if (rc == NW_OK && (zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE) < 0 ||
                            zmq_send(pub, b->frames[i - b->from], b->sizes[i - b->from], 0) < 0))
            rc = NW_ERR_ZMQ;
        free(b->frames[i - b->from]);
    }
    b->from = b->to = 0;
    return rc;
}

/* Numbers, encodes and appends alerts [from, to) into b. */
static int s_nw_append(nw_journal_t *j, nw_alert_t *alerts, long from, long to, s_nw_batch_t *b)
{
    int rc = NW_OK;
    b->from = from;
    b->to = from;
    for (long i = from; i < to && rc == NW_OK; i++) {
        nw_alert_t *a = &alerts[i];
        if ((rc = nw_journal_number(j, a)) == NW_OK &&
            (rc = nw_alert_encode(a, &b->frames[i - from], &b->sizes[i - from])) == NW_OK) {
            b->to = i + 1;
            rc = nw_journal_append(j, a, b->frames[i - from], b->sizes[i - from], 1796605908256);
        }
    }
    return rc;
}

/* The whole publish run, as the daemon commits: under interval, batches are appended and sent
 * while a group fsync runs on the thread, the next one starting when it ends (sending waits
 * only past S_SYNC_BACKLOG alerts not yet covered); under always, each batch is appended,
 * synced and then sent (its alerts are on disk before any is sent). */
static int s_nw_publish(nw_journal_t *j, void *pub, nw_alert_t *alerts, long count, int always)
{
    s_nw_batch_t cur = {0};
    s_nw_sync_t sy = {0};
    int rc = NW_OK;
    for (long i = 0; i < count && rc == NW_OK; i += S_BATCH) {
        rc = s_nw_append(j, alerts, i, i + S_BATCH < count ? i + S_BATCH : count, &cur);
        if (rc == NW_OK && always)
            rc = nw_journal_sync(j);
        if (rc == NW_OK)
            rc = s_nw_send(pub, alerts, &cur);
        long appended = i + S_BATCH < count ? i + S_BATCH : count;
        if (rc == NW_OK && !always && sy.running &&
            (atomic_load(&sy.done) || appended - sy.covers >= S_SYNC_BACKLOG))
            rc = s_sync_wait(j, &sy);
        if (rc == NW_OK && !always && !sy.running)
            rc = s_sync_start(j, &sy, appended);
    }
    int wrc = s_sync_wait(j, &sy);
    return rc == NW_OK ? wrc : rc;
}

static int s_newswire(const char *jdir, const char *fsync, long count, size_t size,
                      const char *sub_bin, const char *out)
{
    int always = strcmp(fsync, "always") == 0;
    nw_alert_t *alerts = calloc((size_t)count, sizeof *alerts);
    if (alerts == NULL)
        return s_fail("out of memory");
    /* The text length that makes a frame size bytes: measured on one alert. */
    size_t text = size > 220 ? size - 190 : 30;
    nw_alert_t probe;
    char *frame = NULL;
    size_t got = 0;
    if (s_alert(&probe, 0, text) == NW_OK && nw_alert_encode(&probe, &frame, &got) == NW_OK &&
        text + size > got)
        text = text + size - got;
    free(frame);
    nw_alert_clear(&probe);
    for (long i = 0; i < count; i++)
        if (s_alert(&alerts[i], i, text) != NW_OK)
            return s_fail("cannot build the alerts");
    nw_journal_opts_t jo;
    nw_journal_opts_default(&jo);
    jo.sync_every = 0; /* synced per batch below */
    jo.sync_interval_ms = 0;
    nw_journal_t *j = NULL;
    if (nw_journal_open(jdir, &jo, &j, NULL) != NW_OK)
        return s_fail("cannot open the journal");
    void *ctx = zmq_ctx_new(), *pub = zmq_socket(ctx, ZMQ_XPUB);
    int one = 1, hwm = 100000;
    char ep[64];
    size_t len = sizeof ep;
    zmq_setsockopt(pub, ZMQ_XPUB_NODROP, &one, sizeof one);
    zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_bind(pub, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, ep, &len) != 0)
        return s_fail("cannot bind");
    char n_str[32];
    snprintf(n_str, sizeof n_str, "%ld", count);
    pid_t child = fork();
    if (child == 0) {
        char log[4096];
        snprintf(log, sizeof log, "%s.stderr", out);
        if (freopen(log, "w", stderr) == NULL)
            _exit(126);
        execl(sub_bin, sub_bin, "-c", ep, "-q", "--log", out, "-C", n_str, (char *)NULL);
        _exit(127);
    }
    char subscription[256];
    if (zmq_recv(pub, subscription, sizeof subscription, 0) < 0) /* the first filter */
        return s_fail("no subscription");
    double t0 = s_now();
    int rc = s_nw_publish(j, pub, alerts, count, always);
    int st = 0;
    waitpid(child, &st, 0);
    double secs = s_now() - t0;
    for (long i = 0; i < count; i++)
        nw_alert_clear(&alerts[i]);
    free(alerts);
    zmq_close(pub);
    zmq_ctx_term(ctx);
    nw_journal_destroy(&j);
    if (rc != NW_OK)
        return s_fail(nw_strerror(rc));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return s_fail("newswire-sub failed");
    printf("newswire-%s %ld msgs %.3f s %.0f msg/s\n", fsync, count, secs, (double)count / secs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "redis") == 0)
        return s_redis(atoi(argv[2]), atol(argv[3]), strtoul(argv[4], NULL, 10), argv[5]);
    if (argc == 8 && strcmp(argv[1], "newswire") == 0)
        return s_newswire(argv[2], argv[3], atol(argv[4]), strtoul(argv[5], NULL, 10), argv[6],
                          argv[7]);
    fprintf(stderr, "usage: bench_durable redis PORT COUNT SIZE OUTFILE\n"
                    "       bench_durable newswire JOURNAL_DIR interval|always COUNT SIZE SUB_BIN "
                    "OUTFILE\n");
    return 2;
}
