/*
 * Process-level tests of newswire-pub: the real binary on 127.0.0.1 ephemeral ports, a SUB
 * socket here receiving and decoding what it publishes. No fixed sleeps: every wait is for
 * a log line or a message, with a deadline.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_testproc.h"
#include "nw_topic.h"

#define S_WAIT_MS 10000 /* generous for sanitizer builds on a busy machine */

/* An article in the scraped-page shape of the seed (written for these tests). */
static const char s_good_article[] =
    "Harbor Nations Agree to Cut Steel Tariffs in New Trade Pact\n"
    "Harbor Nations Agree to Cut Steel Tariffs in New Trade Pact\n"
    "By Dana Reyes, Newslooks\n"
    "GENEVA (Newslooks) - Two trading partners agreed on Tuesday to lower tariffs on steel "
    "and aluminum imports, ending a trade dispute that had raised import duties for a year.\n"
    "\n"
    "Quick Looks\n"
    "\n"
    "- Tariffs on steel imports fall from 25% to 10% next month.\n"
    "- The trade agreement also lowers tariffs on aluminum exports.\n"
    "- Defense ministers welcomed closer military cooperation between the allies.\n"
    "\n"
    "Trade Deal Details\n"
    "\n"
    "Negotiators said the tariff cuts would take effect in stages, with customs duties on "
    "finished steel goods falling first and tariffs on raw metal later.\n"
    "\n"
    "Officials from both governments said the trade pact would be reviewed every year by a "
    "joint committee on tariffs and exports.\n"
    "\n"
    "How useful was this article?\n"
    "Click on a star to rate it!\n";

typedef struct {
    char *dir;          /* temporary folder for everything below */
    char spool[1024];   /* DIR/spool */
    char journal[1024]; /* DIR/journal */
    nw_testproc_t *pub; /* the daemon under test */
    int port;           /* where it listens */
    void *zctx;         /* test's ZeroMQ context */
    void *sub;          /* test's SUB socket, NULL until connected */
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_non_null(f->dir = nw_test_tmpdir("nw-pubd"));
    snprintf(f->spool, sizeof f->spool, "%s/spool", f->dir);
    snprintf(f->journal, sizeof f->journal, "%s/journal", f->dir);
    assert_non_null(f->zctx = zmq_ctx_new());
    *state = f;
    return 0;
}

/* Prints what the daemon said, so a failing assertion comes with its log. */
static void s_dump(nw_testproc_t *proc)
{
    if (proc != NULL)
        fprintf(stderr, "--- newswire-pub stderr ---\n%s---\n",
                nw_testproc_output(proc, NW_TESTPROC_STDERR));
}

/* Every daemon a test leaves running must stop cleanly on SIGTERM: exit 0, which also means
 * no sanitizer report (those exit non-zero). */
static int s_stop_daemon(nw_testproc_t *pub)
{
    if (pub == NULL || nw_testproc_signal(pub, SIGTERM) != 0)
        return 0;
    int status = nw_testproc_wait_exit(pub, S_WAIT_MS);
    if (status != 0) {
        s_dump(pub);
        fprintf(stderr, "newswire-pub: exit %d after SIGTERM\n", status);
        return -1;
    }
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    int rc = s_stop_daemon(f->pub);
    if (f->sub != NULL) {
        int linger = 0;
        zmq_setsockopt(f->sub, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(f->sub);
    }
    zmq_ctx_term(f->zctx);
    nw_testproc_destroy(&f->pub);
    nw_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return rc;
}

static void s_expect_log(nw_testproc_t *proc, const char *needle)
{
    if (!nw_testproc_wait_output(proc, NW_TESTPROC_STDERR, needle, S_WAIT_MS)) {
        s_dump(proc);
        fail_msg("newswire-pub never logged '%s'", needle);
    }
}

/* Starts the daemon on an ephemeral port with the fixture's spool and journal, plus extra
 * arguments (NULL-terminated), and waits until it is ready. */
static void s_start(s_fixture_t *f, const char *const *extra)
{
    const char *argv[32] = {
        NW_PUB_BIN,          "--spool",     f->spool, "--journal",     f->journal,         "--bind",
        "tcp://127.0.0.1:*", "--heartbeat", "100",    "--replay-bind", "tcp://127.0.0.1:*"};
    size_t n = 11;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    assert_non_null(f->pub = nw_testproc_start(argv, NULL));
    s_expect_log(f->pub, "ready: stream ");
    const char *out = nw_testproc_output(f->pub, NW_TESTPROC_STDERR);
    const char *at = strstr(out, "listening on tcp://127.0.0.1:");
    assert_non_null(at);
    f->port = atoi(at + strlen("listening on tcp://127.0.0.1:"));
    assert_true(f->port > 0);
}

/* Copies the stream id from the daemon's "ready: stream ID" line. */
static void s_stream_id(s_fixture_t *f, char id[NW_STREAM_ID_LEN + 1])
{
    const char *out = nw_testproc_output(f->pub, NW_TESTPROC_STDERR);
    const char *at = strstr(out, "ready: stream ");
    assert_non_null(at);
    memcpy(id, at + strlen("ready: stream "), NW_STREAM_ID_LEN);
    id[NW_STREAM_ID_LEN] = '\0';
}

/* Connects a SUB socket for filter and waits until the daemon has seen the subscription
 * (the slow-joiner guard: nothing is published before). */
static void s_subscribe(s_fixture_t *f, const char *filter)
{
    char endpoint[64], line[128];
    assert_non_null(f->sub = zmq_socket(f->zctx, ZMQ_SUB));
    assert_int_equal(zmq_setsockopt(f->sub, ZMQ_SUBSCRIBE, filter, strlen(filter)), 0);
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", f->port);
    assert_int_equal(zmq_connect(f->sub, endpoint), 0);
    snprintf(line, sizeof line, "subscriber subscribed to '%s'", filter);
    s_expect_log(f->pub, line);
}

/* Drops an article into incoming/ the maildir way: write a dotfile, rename it in. */
static void s_drop(s_fixture_t *f, const char *name, const char *data, size_t len)
{
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/incoming/.%s.tmp", f->spool, name);
    snprintf(path, sizeof path, "%s/incoming/%s", f->spool, name);
    assert_int_equal(nw_test_write_file(tmp, data, len), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static bool s_exists(const char *dir, const char *sub, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    return stat(path, &st) == 0;
}

/* Waits (bounded) until DIR/SUB/NAME exists. */
static bool s_wait_file(const char *dir, const char *sub, const char *name, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (s_exists(dir, sub, name))
            return true;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
    }
    return s_exists(dir, sub, name);
}

/* Receives one two-frame message within timeout_ms. Returns false at the deadline. */
static bool s_recv(void *sub, char *topic, size_t topiclen, char **frame, size_t *size,
                   int timeout_ms)
{
    zmq_pollitem_t item = {.socket = sub, .events = ZMQ_POLLIN};
    if (zmq_poll(&item, 1, timeout_ms) <= 0)
        return false;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    assert_true(zmq_msg_recv(&msg, sub, 0) >= 0);
    size_t n = zmq_msg_size(&msg) < topiclen - 1 ? zmq_msg_size(&msg) : topiclen - 1;
    memcpy(topic, zmq_msg_data(&msg), n);
    topic[n] = '\0';
    assert_true(zmq_msg_more(&msg));
    assert_true(zmq_msg_recv(&msg, sub, 0) >= 0);
    assert_false(zmq_msg_more(&msg));
    *size = zmq_msg_size(&msg);
    assert_non_null(*frame = malloc(*size ? *size : 1));
    memcpy(*frame, zmq_msg_data(&msg), *size);
    zmq_msg_close(&msg);
    return true;
}

/* Reads N from "published NAME: A alerts, N messages" in the daemon's log. */
static size_t s_published_messages(s_fixture_t *f, const char *name)
{
    char needle[512];
    snprintf(needle, sizeof needle, "published %s: ", name);
    s_expect_log(f->pub, needle);
    const char *at = strstr(nw_testproc_output(f->pub, NW_TESTPROC_STDERR), needle);
    size_t alerts = 0, messages = 0;
    assert_int_equal(sscanf(at + strlen(needle), "%zu alerts, %zu messages", &alerts, &messages),
                     2);
    return messages;
}

/* Per-topic bookkeeping for the sequence checks. */
typedef struct {
    char name[NW_TOPIC_MAX + 1];
    uint64_t last;
} s_topic_seq_t;

static void s_check_topic_seq(s_topic_seq_t *seen, size_t *n_seen, const nw_alert_t *alert,
                              const char *topic)
{
    int at = nw_alert_find_topic(alert, topic);
    assert_true(at >= 0); /* frame 1 is one of the alert's topics */
    uint64_t seq = alert->topics[at].seq;
    for (size_t i = 0; i < *n_seen; i++) {
        if (strcmp(seen[i].name, topic) == 0) {
            assert_int_equal(seq, seen[i].last + 1); /* no gap, no repeat */
            seen[i].last = seq;
            return;
        }
    }
    assert_true(*n_seen < 64);
    snprintf(seen[*n_seen].name, sizeof seen[*n_seen].name, "%s", topic);
    seen[(*n_seen)++].last = seq;
    assert_int_equal(seq, 1); /* a new stream starts every topic at 1 */
}

static void test_sub_receives_decodable_numbered_alerts(void **state)
{
    s_fixture_t *f = *state;
    char stream[NW_STREAM_ID_LEN + 1];
    s_start(f, NULL);
    s_stream_id(f, stream);
    s_subscribe(f, "");
    s_drop(f, "good.txt", s_good_article, strlen(s_good_article));
    size_t want = s_published_messages(f, "good.txt");
    assert_true(want >= 1);

    s_topic_seq_t seen[64];
    size_t n_seen = 0, got = 0;
    uint64_t last_global = 0;
    while (got < want) {
        char topic[256], *frame;
        size_t size;
        assert_true(s_recv(f->sub, topic, sizeof topic, &frame, &size, S_WAIT_MS));
        if (nw_topic_is_control(topic, strlen(topic))) {
            free(frame);
            continue;
        }
        nw_alert_t alert;
        assert_int_equal(nw_alert_decode(frame, size, &alert), NW_OK);
        assert_string_equal(alert.stream, stream);
        assert_true(alert.seq >= last_global); /* same seq for each topic copy */
        assert_true(alert.seq <= last_global + 1);
        last_global = alert.seq;
        assert_non_null(strstr(alert.title, "Steel Tariffs"));
        s_check_topic_seq(seen, &n_seen, &alert, topic);
        nw_alert_clear(&alert);
        free(frame);
        got++;
    }
    assert_true(s_exists(f->spool, "done", "good.txt"));
    assert_false(s_exists(f->spool, "incoming", "good.txt"));
}

static void test_heartbeats_carry_the_stream_id(void **state)
{
    s_fixture_t *f = *state;
    char stream[NW_STREAM_ID_LEN + 1];
    s_start(f, NULL);
    s_stream_id(f, stream);
    s_subscribe(f, NW_TOPIC_HEARTBEAT);
    for (int i = 0; i < 2; i++) {
        char topic[256], *frame;
        size_t size;
        assert_true(s_recv(f->sub, topic, sizeof topic, &frame, &size, S_WAIT_MS));
        assert_string_equal(topic, NW_TOPIC_HEARTBEAT);
        nw_heartbeat_t hb;
        assert_int_equal(nw_heartbeat_decode(frame, size, &hb), NW_OK);
        assert_string_equal(hb.stream, stream);
        assert_int_equal(hb.interval_ms, 100);
        /* The replay endpoint (--replay-bind tcp://127.0.0.1:*, see s_start). */
        assert_int_equal(strncmp(hb.replay, "tcp://127.0.0.1:", 16), 0);
        assert_true(atoi(hb.replay + 16) > 0);
        nw_heartbeat_clear(&hb);
        free(frame);
    }
}

/* Waits until spool/failed/NAME exists and checks its .error: one line naming the file. */
static void s_expect_failed(s_fixture_t *f, const char *name)
{
    char needle[512], path[4096];
    if (!s_wait_file(f->spool, "failed", name, S_WAIT_MS)) {
        s_dump(f->pub);
        fail_msg("%s never reached failed/", name);
    }
    snprintf(path, sizeof path, "%s/failed/%s.error", f->spool, name);
    char *text = nw_test_read_file(path, NULL);
    assert_non_null(text);
    snprintf(needle, sizeof needle, "%s: ", name);
    assert_non_null(strstr(text, needle));
    assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
    free(text);
    snprintf(needle, sizeof needle, "%s: ", name);
    s_expect_log(f->pub, needle);
}

static void test_bad_articles_fail_while_a_good_one_goes_out(void **state)
{
    s_fixture_t *f = *state;
    s_start(f, (const char *[]){"--max-article-size", "8K", NULL});
    s_subscribe(f, "");

    static const char binary[] = "\x7f"
                                 "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0";
    static const char boilerplate[] = "Menu\nShare\nHow useful was this article?\n"
                                      "Click on a star to rate it!\nNo votes so far!\n";
    char *big = malloc(16384);
    assert_non_null(big);
    memset(big, 'a', 16383);
    for (size_t i = 7; i < 16383; i += 8)
        big[i] = i % 400 == 7 ? '\n' : ' ';
    big[16383] = '\0';
    s_drop(f, "a-empty.txt", "", 0);
    s_drop(f, "b-binary.bin", binary, sizeof binary - 1);
    s_drop(f, "c-oversize.txt", big, strlen(big));
    s_drop(f, "d-boilerplate.txt", boilerplate, strlen(boilerplate));
    free(big);

    /* Latin-1: the good article with one accented byte, which is not UTF-8. */
    char latin1[sizeof s_good_article + 16];
    snprintf(latin1, sizeof latin1, "%s", s_good_article);
    char *dash = strstr(latin1, "GENEVA");
    dash[1] = (char)0xC9; /* "GÉNEVA" in Latin-1 */
    s_drop(f, "e-latin1.txt", latin1, strlen(latin1));
    s_drop(f, "f-good.txt", s_good_article, strlen(s_good_article));

    const char *bad[] = {"a-empty.txt", "b-binary.bin", "c-oversize.txt", "d-boilerplate.txt"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        s_expect_failed(f, bad[i]);
    s_expect_log(f->pub, "e-latin1.txt: not valid UTF-8, read as Latin-1");
    assert_true(s_published_messages(f, "e-latin1.txt") > 0);
    assert_true(s_published_messages(f, "f-good.txt") > 0);
    assert_true(s_exists(f->spool, "done", "f-good.txt"));
    assert_true(s_exists(f->spool, "done", "e-latin1.txt"));

    /* The good article's alerts really went out. */
    bool saw_good = false;
    for (int i = 0; i < 1000 && !saw_good; i++) {
        char topic[256], *frame;
        size_t size;
        assert_true(s_recv(f->sub, topic, sizeof topic, &frame, &size, S_WAIT_MS));
        nw_alert_t alert;
        if (!nw_topic_is_control(topic, strlen(topic)) &&
            nw_alert_decode(frame, size, &alert) == NW_OK) {
            saw_good = strstr(alert.title, "Steel Tariffs") != NULL;
            nw_alert_clear(&alert);
        }
        free(frame);
    }
    assert_true(saw_good);
}

/* A spool full at start is read ahead on three threads, batch after batch: the articles are
 * still published one by one in name order, with contiguous numbers, and the bad ones among
 * them go to failed/ without holding up the others. */
static bool s_batch_is_empty(int i)
{
    return i % 97 == 3; /* 003, 100 and 197: in the first, second and fourth batch of 64 */
}

static void test_batch_read_on_threads_publishes_in_name_order(void **state)
{
    s_fixture_t *f = *state;
    enum { N = 200 };
    char incoming[4096];
    snprintf(incoming, sizeof incoming, "%s/incoming", f->spool);
    assert_int_equal(mkdir(f->spool, 0755), 0);
    assert_int_equal(mkdir(incoming, 0755), 0);
    char names[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "%03d-%s.txt", i,
                 s_batch_is_empty(i) ? "empty" : "story");
        char text[sizeof s_good_article + 64];
        /* each article its own: a number in the headline and the lead */
        int len = s_batch_is_empty(i)
                      ? 0
                      : snprintf(text, sizeof text, "Harbor Port %d Cuts Steel Tariffs\n%s", i,
                                 s_good_article + strcspn(s_good_article, "\n") + 1);
        char path[4200];
        int w = snprintf(path, sizeof path, "%s/%s", incoming, names[i]);
        assert_true(w > 0 && (size_t)w < sizeof path);
        assert_int_equal(nw_test_write_file(path, text, (size_t)len), 0);
    }
    s_start(f, (const char *[]){"--ingest-threads", "3", NULL});
    char last[64];
    snprintf(last, sizeof last, "published %s: ", names[N - 1]);
    s_expect_log(f->pub, last);
    for (int i = 0; i < N; i++)
        if (s_batch_is_empty(i))
            s_expect_failed(f, names[i]);

    /* "published NAME: A alerts, M messages, seq FIRST-LAST" lines, in log order */
    const char *log = nw_testproc_output(f->pub, NW_TESTPROC_STDERR);
    unsigned long long next_seq = 1;
    int want = 0, published = 0;
    for (const char *at = log; (at = strstr(at, "published ")) != NULL; at++) {
        char name[64];
        size_t alerts, messages;
        unsigned long long first, last_seq;
        if (sscanf(at, "published %63[^:]: %zu alerts, %zu messages, seq %llu-%llu", name, &alerts,
                   &messages, &first, &last_seq) != 5)
            continue;
        while (s_batch_is_empty(want))
            want++;
        assert_true(want < N);
        assert_string_equal(name, names[want++]);
        assert_int_equal(first, next_seq);
        assert_int_equal(last_seq - first + 1, alerts);
        next_seq = last_seq + 1;
        published++;
        assert_true(s_exists(f->spool, "done", name));
    }
    assert_int_equal(published, N - 3);
}

static void test_positional_file_is_published_once_at_start(void **state)
{
    s_fixture_t *f = *state;
    char path[4096];
    snprintf(path, sizeof path, "%s/story.txt", f->dir);
    assert_int_equal(nw_test_write_file(path, s_good_article, strlen(s_good_article)), 0);
    s_start(f, (const char *[]){path, NULL});
    assert_true(s_published_messages(f, path) > 0);
    assert_true(s_exists(f->dir, "", "story.txt")); /* not a spool file: left alone */
}

static void test_restart_keeps_the_stream_and_skips_journaled_alerts(void **state)
{
    s_fixture_t *f = *state;
    char first[NW_STREAM_ID_LEN + 1], second[NW_STREAM_ID_LEN + 1];
    s_start(f, NULL);
    s_stream_id(f, first);
    s_drop(f, "one.txt", s_good_article, strlen(s_good_article));
    assert_true(s_published_messages(f, "one.txt") > 0);
    nw_testproc_signal(f->pub, SIGTERM);
    assert_int_equal(nw_testproc_wait_exit(f->pub, S_WAIT_MS), 0);
    nw_testproc_destroy(&f->pub);

    s_start(f, NULL);
    s_stream_id(f, second);
    assert_string_equal(first, second);
    s_drop(f, "again.txt", s_good_article, strlen(s_good_article));
    assert_int_equal(s_published_messages(f, "again.txt"), 0);
    s_expect_log(f->pub, "already in the journal");
    assert_true(s_wait_file(f->spool, "done", "again.txt", S_WAIT_MS));
}

static void test_sigterm_exits_0_within_a_second(void **state)
{
    s_fixture_t *f = *state;
    s_start(f, NULL);
    s_subscribe(f, "");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(nw_testproc_signal(f->pub, SIGTERM), 0);
    int status = nw_testproc_wait_exit(f->pub, 1000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (status != 0)
        s_dump(f->pub);
    assert_int_equal(status, 0);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
    assert_true(ms < 1000);
    s_expect_log(f->pub, "stopped: ");
}

/* Opens fifo for writing once the daemon has opened it for reading (deadline S_WAIT_MS). */
static int s_open_fifo_writer(const char *fifo)
{
    for (int waited = 0; waited < S_WAIT_MS; waited += 10) {
        int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) {
            fcntl(fd, F_SETFL, 0);
            return fd;
        }
        if (errno != ENXIO)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
    }
    return -1;
}

static void test_sigterm_during_the_start_stops_cleanly(void **state)
{
    s_fixture_t *f = *state;
    char fifo[4096];
    snprintf(fifo, sizeof fifo, "%s/topics.fifo", f->dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *argv[] = {
        NW_PUB_BIN,          "--spool",       f->spool, "--journal", f->journal, "--bind",
        "tcp://127.0.0.1:*", "--replay-bind", "none",   "--topics",  fifo,       NULL};
    assert_non_null(f->pub = nw_testproc_start(argv, NULL));
    /* The daemon is now reading --topics, before any handler exists: SIGTERM it there. */
    int fd = s_open_fifo_writer(fifo);
    assert_true(fd >= 0);
    assert_int_equal(nw_testproc_signal(f->pub, SIGTERM), 0);
    char *text = nw_test_read_file(NW_TOPICS_CONF, NULL);
    assert_non_null(text);
    assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    free(text);
    close(fd);
    int status = nw_testproc_wait_exit(f->pub, S_WAIT_MS);
    if (status != 0)
        s_dump(f->pub);
    assert_int_equal(status, 0);
    s_expect_log(f->pub, "stopping on SIGTERM");
}

static void test_sighup_with_a_bad_taxonomy_keeps_the_old_one(void **state)
{
    s_fixture_t *f = *state;
    char topics[4096];
    snprintf(topics, sizeof topics, "%s/my-topics.conf", f->dir);
    char *text = nw_test_read_file(NW_TOPICS_CONF, NULL);
    assert_non_null(text);
    assert_int_equal(nw_test_write_file(topics, text, strlen(text)), 0);
    free(text);
    s_start(f, (const char *[]){"--topics", topics, NULL});

    static const char bad[] = "this line is not part of any taxonomy format\n";
    assert_int_equal(nw_test_write_file(topics, bad, strlen(bad)), 0);
    assert_int_equal(nw_testproc_signal(f->pub, SIGHUP), 0);
    s_expect_log(f->pub, "keeping the previous taxonomy");
    s_expect_log(f->pub, "my-topics.conf:1:");

    s_drop(f, "after.txt", s_good_article, strlen(s_good_article));
    assert_true(s_published_messages(f, "after.txt") > 0);
}

/* Runs newswire-pub with args (NULL-terminated) to its exit. */
static nw_testproc_t *s_run(const char *const *args, int *status)
{
    const char *argv[32] = {NW_PUB_BIN};
    size_t n = 1;
    for (size_t i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    nw_testproc_t *proc = nw_testproc_start(argv, NULL);
    assert_non_null(proc);
    *status = nw_testproc_wait_exit(proc, S_WAIT_MS);
    return proc;
}

static void s_expect_exit(const char *const *args, int want_status, const char *want_stderr)
{
    int status;
    nw_testproc_t *proc = s_run(args, &status);
    const char *err = nw_testproc_output(proc, NW_TESTPROC_STDERR);
    if (status != want_status || strstr(err, want_stderr) == NULL)
        fail_msg("%s %s: exit %d, stderr: %s (wanted exit %d and '%s')", args[0],
                 args[1] ? args[1] : "", status, err, want_status, want_stderr);
    nw_testproc_destroy(&proc);
}

static void test_port_in_use_is_exit_3_naming_the_endpoint(void **state)
{
    s_fixture_t *f = *state;
    s_start(f, NULL);
    char endpoint[64], message[128], spool2[4096];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", f->port);
    snprintf(message, sizeof message, "--bind %s: address already in use", endpoint);
    snprintf(spool2, sizeof spool2, "%s/spool2", f->dir);
    s_expect_exit((const char *[]){"--bind", endpoint, "--spool", spool2, "--no-journal", NULL}, 3,
                  message);
}

static void test_bad_flags_are_exit_2_naming_the_flag(void **state)
{
    (void)state;
    s_expect_exit((const char *[]){"--bogus", NULL}, 2, "'--bogus'");
    s_expect_exit((const char *[]){"-Q", NULL}, 2, "'-Q'");
    s_expect_exit((const char *[]){"--heartbeat", "soon", NULL}, 2, "--heartbeat");
    s_expect_exit((const char *[]){"--bind", "http://x", NULL}, 2, "--bind");
    s_expect_exit((const char *[]){"--sndhwm", "-1", NULL}, 2, "--sndhwm");
    s_expect_exit((const char *[]){"--max-article-size", "lots", NULL}, 2, "--max-article-size");
    s_expect_exit((const char *[]){"--log-level", "loud", NULL}, 2, "--log-level");
    s_expect_exit((const char *[]){"--journal-fsync", "sometimes", NULL}, 2, "--journal-fsync");
    s_expect_exit((const char *[]){"--spool", NULL}, 2, "'--spool' needs a value");
    s_expect_exit((const char *[]){"--dry-run", NULL}, 2, "--dry-run");
}

static void test_unusable_spool_is_exit_4_naming_the_path(void **state)
{
    s_fixture_t *f = *state;
    char path[4096];
    snprintf(path, sizeof path, "%s/not-a-folder", f->dir);
    assert_int_equal(nw_test_write_file(path, "x", 1), 0);
    s_expect_exit(
        (const char *[]){"--spool", path, "--bind", "tcp://127.0.0.1:*", "--no-journal", NULL}, 4,
        path);
}

static void test_help_and_version(void **state)
{
    (void)state;
    int status;
    nw_testproc_t *proc = s_run((const char *[]){"--help", NULL}, &status);
    assert_int_equal(status, 0);
    const char *out = nw_testproc_output(proc, NW_TESTPROC_STDOUT);
    const char *want[] = {"SYNOPSIS",           "--spool",     "--bind",      "--topics",
                          "--boilerplate",      "--dry-run",   "--heartbeat", "--sndhwm",
                          "--max-article-size", "--log-level", "--journal",   "SIGHUP",
                          "EXIT STATUS",        "EXAMPLES"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_non_null(strstr(out, want[i]));
    nw_testproc_destroy(&proc);
    proc = s_run((const char *[]){"--version", NULL}, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(nw_testproc_output(proc, NW_TESTPROC_STDOUT), "newswire-pub "));
    nw_testproc_destroy(&proc);
}

/* Checks that every line of out is one JSON object with the fields --dry-run promises. */
static void s_check_json_lines(const char *out, size_t *lines)
{
    const char *fields[] = {"\"id\":",    "\"kind\":",   "\"text\":",    "\"topics\":[",
                            "\"title\":", "\"source\":", "\"section\":", "\"priority\":"};
    *lines = 0;
    for (const char *line = out, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        size_t len = (size_t)(nl - line);
        char *copy = strndup(line, len);
        assert_non_null(copy);
        if (len < 2 || copy[0] != '{' || copy[len - 1] != '}')
            fail_msg("not a JSON object line: %s", copy);
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            if (strstr(copy, fields[i]) == NULL)
                fail_msg("no %s in %s", fields[i], copy);
        }
        free(copy);
        (*lines)++;
    }
}

static void test_dry_run_prints_json_lines_and_binds_nothing(void **state)
{
    s_fixture_t *f = *state;
    char path[4096];
    snprintf(path, sizeof path, "%s/story.txt", f->dir);
    assert_int_equal(nw_test_write_file(path, s_good_article, strlen(s_good_article)), 0);
    int status;
    nw_testproc_t *proc =
        s_run((const char *[]){"--dry-run", "--bind", "tcp://127.0.0.1:1", path, NULL}, &status);
    assert_int_equal(status, 0);
    size_t lines;
    s_check_json_lines(nw_testproc_output(proc, NW_TESTPROC_STDOUT), &lines);
    assert_true(lines >= 4); /* headline, key points, paragraphs */
    assert_non_null(strstr(nw_testproc_output(proc, NW_TESTPROC_STDOUT), "\"kind\":\"headline\""));
    assert_false(s_exists(f->dir, "", "spool"));
    nw_testproc_destroy(&proc);
}

static void test_dry_run_reads_stdin(void **state)
{
    (void)state;
    const char *argv[] = {NW_PUB_BIN, "--dry-run", "-", NULL};
    nw_testproc_t *proc = nw_testproc_start_input(argv, NULL, s_good_article);
    assert_non_null(proc);
    assert_int_equal(nw_testproc_wait_exit(proc, S_WAIT_MS), 0);
    size_t lines;
    s_check_json_lines(nw_testproc_output(proc, NW_TESTPROC_STDOUT), &lines);
    assert_true(lines >= 1);
    nw_testproc_destroy(&proc);
}

static void test_dry_run_of_a_bad_file_is_exit_1_naming_it(void **state)
{
    s_fixture_t *f = *state;
    char good[4096], empty[4096];
    snprintf(good, sizeof good, "%s/good.txt", f->dir);
    snprintf(empty, sizeof empty, "%s/empty.txt", f->dir);
    assert_int_equal(nw_test_write_file(good, s_good_article, strlen(s_good_article)), 0);
    assert_int_equal(nw_test_write_file(empty, "", 0), 0);
    int status;
    nw_testproc_t *proc = s_run((const char *[]){"--dry-run", empty, good, NULL}, &status);
    assert_int_equal(status, 1);
    assert_non_null(strstr(nw_testproc_output(proc, NW_TESTPROC_STDERR), empty));
    size_t lines;
    s_check_json_lines(nw_testproc_output(proc, NW_TESTPROC_STDOUT), &lines);
    assert_true(lines >= 1); /* the good file still printed */
    nw_testproc_destroy(&proc);
}

static void test_dry_run_on_the_example_articles(void **state)
{
    (void)state;
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s/articles", NW_EXAMPLES_DIR);
    DIR *dir = opendir(dirpath);
    size_t files = 0;
    struct dirent *de;
    while (dir != NULL && (de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".txt") != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dirpath, de->d_name);
        int status;
        nw_testproc_t *proc = s_run((const char *[]){"--dry-run", path, NULL}, &status);
        if (status != 0)
            fail_msg("--dry-run %s: exit %d: %s", path, status,
                     nw_testproc_output(proc, NW_TESTPROC_STDERR));
        size_t lines;
        s_check_json_lines(nw_testproc_output(proc, NW_TESTPROC_STDOUT), &lines);
        assert_true(lines >= 1);
        nw_testproc_destroy(&proc);
        files++;
    }
    if (dir != NULL)
        closedir(dir);
    if (files == 0) {
        printf("SKIPPED: no %s/*.txt yet\n", dirpath);
        skip();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sub_receives_decodable_numbered_alerts, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_heartbeats_carry_the_stream_id, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_articles_fail_while_a_good_one_goes_out, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_batch_read_on_threads_publishes_in_name_order, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_positional_file_is_published_once_at_start, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_the_stream_and_skips_journaled_alerts,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_exits_0_within_a_second, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_during_the_start_stops_cleanly, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_sighup_with_a_bad_taxonomy_keeps_the_old_one, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_port_in_use_is_exit_3_naming_the_endpoint, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_flags_are_exit_2_naming_the_flag, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_unusable_spool_is_exit_4_naming_the_path, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_help_and_version, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_prints_json_lines_and_binds_nothing, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_reads_stdin, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_of_a_bad_file_is_exit_1_naming_it, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_on_the_example_articles, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
