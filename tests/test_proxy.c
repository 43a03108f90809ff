/*
 * newswire-proxy as a real process between real publishers and subscribers on 127.0.0.1:
 * every alert through it, subscriptions passed upstream (the publisher sees the
 * subscriber's topic), chains of proxies, replay through the proxy (a durable subscriber
 * catches up through the proxy's replay front end), the control socket, exit codes.
 *
 * Every wait watches for an outcome (a log line, lines in a --log file, an exit) with a
 * deadline.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "nw_replay_msg.h"
#include "nw_testcheck.h"
#include "nw_testproc.h"

#define S_START_MS 20000 /* a process start or a log line, generous for sanitizers */
#define S_LINES_MS 60000 /* a stream of alerts reaching a log */

/* "zebra" articles are alpha, "yak" articles beta. */
static const char s_taxonomy[] = "topic: alpha\nthreshold: 1\n5: zebra\n\n"
                                 "topic: beta\nthreshold: 1\n5: yak\n";

typedef struct {
    char *dir;               /* temporary folder for everything */
    char tax[PATH_MAX];      /* DIR/tax.conf */
    char pub_ep[2][64];      /* publishers' alert endpoints */
    char pub_rep[2][64];     /* publishers' replay endpoints */
    char px_ep[2][64];       /* proxies' subscriber endpoints */
    char px_rep[2][64];      /* proxies' replay front ends */
    nw_testproc_t *pub[2];   /* publishers */
    nw_testproc_t *proxy[2]; /* proxies */
    nw_testproc_t *sub[3];   /* subscribers */
} s_fx_t;

static void s_endpoint(char *out, size_t len)
{
    int port = nw_test_free_port();
    assert_true(port > 0);
    snprintf(out, len, "tcp://127.0.0.1:%d", port);
}

static int s_setup(void **state)
{
    s_fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_non_null(f->dir = nw_test_tmpdir("nw-proxy"));
    snprintf(f->tax, sizeof f->tax, "%s/tax.conf", f->dir);
    assert_int_equal(nw_test_write_file(f->tax, s_taxonomy, strlen(s_taxonomy)), 0);
    char *all[8] = {f->pub_ep[0], f->pub_ep[1], f->pub_rep[0], f->pub_rep[1],
                    f->px_ep[0],  f->px_ep[1],  f->px_rep[0],  f->px_rep[1]};
    assert_int_equal(nw_test_free_endpoints(all, 8, 64), 0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx_t *f = *state;
    for (size_t i = 0; i < 3; i++)
        nw_testproc_destroy(&f->sub[i]);
    for (size_t i = 0; i < 2; i++) {
        nw_testproc_destroy(&f->proxy[i]);
        nw_testproc_destroy(&f->pub[i]);
    }
    nw_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* --- processes -------------------------------------------------------------------------- */

/* Starts publisher i with its own spool and journal; waits until it is ready. */
static void s_pub_start(s_fx_t *f, size_t i)
{
    char spool[PATH_MAX], journal[PATH_MAX];
    snprintf(spool, sizeof spool, "%s/spool%zu", f->dir, i);
    snprintf(journal, sizeof journal, "%s/journal%zu", f->dir, i);
    const char *argv[] = {NW_PUB_BIN,    "--spool",         spool,        "--journal",
                          journal,       "--bind",          f->pub_ep[i], "--replay-bind",
                          f->pub_rep[i], "--topics",        f->tax,       "--heartbeat",
                          "100",         "--journal-fsync", "never",      NULL};
    assert_non_null(f->pub[i] = nw_testproc_start(argv, NULL));
    nw_check_logged(f->pub[i], "ready: stream ", S_START_MS, "newswire-pub");
}

/* Starts proxy i connected to the upstreams (NULL-terminated) plus extra arguments. */
static void s_proxy_start(s_fx_t *f, size_t i, const char *const *upstreams,
                          const char *const *extra)
{
    const char *argv[32] = {NW_PROXY_BIN, "--bind", f->px_ep[i], "--replay-bind", f->px_rep[i]};
    size_t n = 5;
    for (size_t k = 0; upstreams[k] != NULL; k++) {
        argv[n++] = "-c";
        argv[n++] = upstreams[k];
    }
    for (size_t k = 0; extra != NULL && extra[k] != NULL && n < 31; k++)
        argv[n++] = extra[k];
    argv[n] = NULL;
    nw_testproc_destroy(&f->proxy[i]);
    assert_non_null(f->proxy[i] = nw_testproc_start(argv, NULL));
    nw_check_logged(f->proxy[i], "ready: ", S_START_MS, "newswire-proxy");
}

/* Starts subscriber k on connect with args (NULL-terminated). */
static void s_sub_start(s_fx_t *f, size_t k, const char *connect, const char *const *args)
{
    const char *argv[32] = {NW_SUB_BIN, "-c", connect};
    size_t n = 3;
    for (size_t i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    nw_testproc_destroy(&f->sub[k]);
    assert_non_null(f->sub[k] = nw_testproc_start(argv, NULL));
    nw_check_logged(f->sub[k], "subscribed; connecting", S_START_MS, "newswire-sub");
}

/* Writes an article of a headline and paras paragraphs about word into publisher i's
 * spool (outside incoming/, then renamed in). */
static void s_article(const s_fx_t *f, size_t i, const char *name, const char *word, int paras)
{
    size_t cap = (size_t)paras * 48 + 128, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "%s report %s\n\n", word, name);
    for (int p = 0; p < paras; p++)
        len +=
            (size_t)snprintf(text + len, cap - len, "%s item %d of %s moves.\n\n", word, p, name);
    char tmp[PATH_MAX], dst[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/%s", f->dir, name);
    snprintf(dst, sizeof dst, "%s/spool%zu/incoming/%s", f->dir, i, name);
    assert_int_equal(nw_test_write_file(tmp, text, len), 0);
    assert_int_equal(rename(tmp, dst), 0);
    free(text);
}

/* --- --log files ----------------------------------------------------------------------- */

/* Asserts the JSON Lines file holds exactly want alerts, ids all different, seqs of each
 * stream increasing. */
static void s_assert_once_in_order(const char *path, size_t want)
{
    size_t len;
    char *text = nw_test_read_file(path, &len);
    assert_non_null(text);
    char(*ids)[48] = calloc(want + 1, sizeof *ids);
    char(*streams)[24] = calloc(want + 1, sizeof *streams);
    uint64_t *seqs = calloc(want + 1, sizeof *seqs);
    size_t n = 0, dups = 0, disorder = 0;
    for (char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1, n++) {
        *nl = '\0';
        const char *id = strstr(line, "\"id\":\""), *seq = strstr(line, "\"seq\":");
        const char *stream = strstr(line, "\"stream\":\"");
        assert_non_null(id);
        assert_non_null(seq);
        assert_non_null(stream);
        if (n == want) {
            n++;
            break;
        }
        snprintf(ids[n], sizeof ids[n], "%.*s", (int)strcspn(id + 6, "\""), id + 6);
        snprintf(streams[n], sizeof streams[n], "%.*s", (int)strcspn(stream + 10, "\""),
                 stream + 10);
        seqs[n] = strtoull(seq + 6, NULL, 10);
        for (size_t k = 0; k < n; k++) {
            dups += strcmp(ids[k], ids[n]) == 0;
            disorder += strcmp(streams[k], streams[n]) == 0 && seqs[k] >= seqs[n];
        }
    }
    free(text);
    free(ids);
    free(streams);
    free(seqs);
    if (n != want || dups != 0 || disorder != 0)
        fail_msg("%s: %zu alerts (want %zu), %zu repeated, %zu out of order", path, n, want, dups,
                 disorder);
}

/* --- tests ------------------------------------------------------------------------------- */

static void test_every_alert_through_the_proxy_filtered_at_the_publisher(void **state)
{
    s_fx_t *f = *state;
    char alpha[PATH_MAX], beta[PATH_MAX];
    snprintf(alpha, sizeof alpha, "%s/alpha.jsonl", f->dir);
    snprintf(beta, sizeof beta, "%s/beta.jsonl", f->dir);
    s_pub_start(f, 0);
    s_proxy_start(f, 0, (const char *[]){f->pub_ep[0], NULL}, NULL);
    s_sub_start(f, 0, f->px_ep[0], (const char *[]){"-q", "-t", "alpha", "--log", alpha, NULL});
    s_sub_start(f, 1, f->px_ep[0], (const char *[]){"-q", "-t", "beta", "--log", beta, NULL});
    /* The subscribers' topics reach the publisher through the proxy. */
    nw_check_logged(f->pub[0], "subscribed to 'alpha'", S_START_MS, "newswire-pub");
    nw_check_logged(f->pub[0], "subscribed to 'beta'", S_START_MS, "newswire-pub");
    nw_check_logged(f->proxy[0], "subscription added 'alpha'", S_START_MS, "newswire-proxy");
    s_article(f, 0, "z1.txt", "Zebra", 200);
    s_article(f, 0, "y1.txt", "Yak", 100);
    nw_check_file_lines(f->sub[0], alpha, 201, S_LINES_MS, "alpha subscriber");
    nw_check_file_lines(f->sub[1], beta, 101, S_LINES_MS, "beta subscriber");
    nw_check_logged(f->pub[0], "published y1.txt", S_START_MS, "newswire-pub");
    nw_check_stopped(&f->sub[0], S_START_MS, "alpha subscriber");
    nw_check_stopped(&f->sub[1], S_START_MS, "beta subscriber");
    s_assert_once_in_order(alpha, 201);
    s_assert_once_in_order(beta, 101);
    assert_int_equal(nw_test_count_file_lines(alpha, "\"beta\""), 0);
    assert_int_equal(nw_test_count_file_lines(beta, "\"alpha\""), 0);
    /* Nobody asked for everything, so the publisher never saw an empty subscription. */
    assert_null(strstr(nw_testproc_output(f->pub[0], NW_TESTPROC_STDERR), "subscribed to ''"));
    nw_check_stopped(&f->proxy[0], S_START_MS, "newswire-proxy");
    nw_check_logged(f->proxy[0], "stopped: ", 0, "newswire-proxy");
    nw_check_stopped(&f->pub[0], S_START_MS, "newswire-pub");
}

static void test_chained_proxies_carry_alerts_and_look_back(void **state)
{
    s_fx_t *f = *state;
    char live[PATH_MAX];
    snprintf(live, sizeof live, "%s/live.jsonl", f->dir);
    s_pub_start(f, 0);
    s_proxy_start(f, 0, (const char *[]){f->pub_ep[0], NULL}, NULL);
    s_proxy_start(f, 1, (const char *[]){f->px_ep[0], NULL}, NULL);
    s_sub_start(f, 0, f->px_ep[1], (const char *[]){"-q", "-t", "alpha", "--log", live, NULL});
    nw_check_logged(f->pub[0], "subscribed to 'alpha'", S_START_MS, "newswire-pub");
    s_article(f, 0, "z1.txt", "Zebra", 50);
    nw_check_file_lines(f->sub[0], live, 51, S_LINES_MS, "subscriber behind two proxies");
    nw_check_stopped(&f->sub[0], S_START_MS, "subscriber behind two proxies");
    s_assert_once_in_order(live, 51);
    /* Look-back through both proxies: the request goes to proxy 1's front end, then proxy
     * 0's, then the publisher's journal. */
    s_sub_start(
        f, 1, f->px_ep[1],
        (const char *[]){"-t", "alpha", "--last", "5", "-C", "5", "--format", "json", NULL});
    int status = nw_testproc_wait_exit(f->sub[1], S_LINES_MS);
    if (status != 0) {
        nw_testproc_dump(f->proxy[1], "proxy 1");
        nw_testproc_dump(f->sub[1], "look-back subscriber");
        fail_msg("look-back subscriber: exit %d", status);
    }
    assert_int_equal(nw_testproc_count_lines(f->sub[1], NW_TESTPROC_STDOUT, "\"alpha\""), 5);
    assert_non_null(strstr(nw_testproc_output(f->sub[1], NW_TESTPROC_STDERR), f->px_rep[1]));
    nw_check_stopped(&f->proxy[1], S_START_MS, "newswire-proxy 1");
    nw_check_logged(f->proxy[1], "replay: 1 requests forwarded", 0, "newswire-proxy 1");
    nw_check_stopped(&f->proxy[0], S_START_MS, "newswire-proxy 0");
    nw_check_logged(f->proxy[0], "replay: 1 requests forwarded", 0, "newswire-proxy 0");
    nw_check_stopped(&f->pub[0], S_START_MS, "newswire-pub");
}

static void test_durable_subscriber_catches_up_through_the_proxy(void **state)
{
    s_fx_t *f = *state;
    char log[PATH_MAX], st[PATH_MAX];
    snprintf(log, sizeof log, "%s/durable.jsonl", f->dir);
    snprintf(st, sizeof st, "%s/durable.state", f->dir);
    const char *const args[] = {"-q", "-t",      "alpha", "--state",         st,          "--log",
                                log,  "--fsync", "never", "--on-new-stream", "beginning", NULL};
    s_pub_start(f, 0);
    s_proxy_start(f, 0, (const char *[]){f->pub_ep[0], NULL}, NULL);
    s_article(f, 0, "z1.txt", "Zebra", 100);
    nw_check_logged(f->pub[0], "published z1.txt", S_START_MS, "newswire-pub");
    /* Started after the article: everything comes by replay from the beginning. */
    s_sub_start(f, 0, f->px_ep[0], args);
    nw_check_file_lines(f->sub[0], log, 101, S_LINES_MS, "durable subscriber");
    nw_check_stopped(&f->sub[0], S_START_MS, "durable subscriber");
    /* Missed while it was down: repaired at its next start, through the proxy. */
    s_article(f, 0, "z2.txt", "Zebra", 100);
    s_article(f, 0, "y1.txt", "Yak", 20);
    nw_check_logged(f->pub[0], "published y1.txt", S_START_MS, "newswire-pub");
    s_sub_start(f, 0, f->px_ep[0], args);
    nw_check_file_lines(f->sub[0], log, 202, S_LINES_MS, "durable subscriber");
    s_article(f, 0, "z3.txt", "Zebra", 30);
    nw_check_file_lines(f->sub[0], log, 233, S_LINES_MS, "durable subscriber");
    nw_check_stopped(&f->sub[0], S_START_MS, "durable subscriber");
    s_assert_once_in_order(log, 233);
    /* The only replay endpoint it was told of is the proxy's. */
    const char *err = nw_testproc_output(f->sub[0], NW_TESTPROC_STDERR);
    assert_non_null(strstr(err, f->px_rep[0]));
    assert_null(strstr(err, f->pub_rep[0]));
    nw_check_stopped(&f->proxy[0], S_START_MS, "newswire-proxy");
    nw_check_stopped(&f->pub[0], S_START_MS, "newswire-pub");
}

static void test_proxy_kill9_loses_and_repeats_nothing_for_durable_subscribers(void **state)
{
    s_fx_t *f = *state;
    char log[PATH_MAX], st[PATH_MAX];
    snprintf(log, sizeof log, "%s/kill9.jsonl", f->dir);
    snprintf(st, sizeof st, "%s/kill9.state", f->dir);
    s_pub_start(f, 0);
    s_proxy_start(f, 0, (const char *[]){f->pub_ep[0], NULL}, NULL);
    s_sub_start(f, 0, f->px_ep[0],
                (const char *[]){"-q", "-t", "alpha", "--state", st, "--log", log, "--fsync",
                                 "never", "--on-new-stream", "beginning", NULL});
    nw_check_logged(f->pub[0], "subscribed to 'alpha'", S_START_MS, "newswire-pub");
    for (int a = 0; a < 4; a++) {
        char name[16];
        snprintf(name, sizeof name, "k%d.txt", a);
        s_article(f, 0, name, "Zebra", 300);
    }
    nw_check_file_lines(f->sub[0], log, 100, S_LINES_MS, "durable subscriber");
    nw_testproc_signal(f->proxy[0], SIGKILL);
    assert_int_equal(nw_testproc_wait_exit(f->proxy[0], S_START_MS), 128 + SIGKILL);
    /* Published while the proxy is down: the subscriber can only get these by replay,
     * through the restarted proxy. */
    for (int a = 4; a < 8; a++) {
        char name[16];
        snprintf(name, sizeof name, "k%d.txt", a);
        s_article(f, 0, name, "Zebra", 300);
    }
    nw_check_logged(f->pub[0], "published k7.txt", S_LINES_MS, "newswire-pub");
    s_proxy_start(f, 0, (const char *[]){f->pub_ep[0], NULL}, NULL);
    nw_check_file_lines(f->sub[0], log, 8 * 301, S_LINES_MS, "durable subscriber");
    s_article(f, 0, "k8.txt", "Zebra", 10); /* and live again afterwards */
    nw_check_file_lines(f->sub[0], log, 8 * 301 + 11, S_LINES_MS, "durable subscriber");
    nw_check_stopped(&f->sub[0], S_START_MS, "durable subscriber");
    s_assert_once_in_order(log, 8 * 301 + 11);
    nw_check_stopped(&f->proxy[0], S_START_MS, "newswire-proxy");
    nw_check_stopped(&f->pub[0], S_START_MS, "newswire-pub");
}

static void test_two_publishers_behind_one_proxy(void **state)
{
    s_fx_t *f = *state;
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/both.jsonl", f->dir);
    s_pub_start(f, 0);
    s_pub_start(f, 1);
    s_proxy_start(f, 0, (const char *[]){f->pub_ep[0], f->pub_ep[1], NULL}, NULL);
    s_sub_start(f, 0, f->px_ep[0], (const char *[]){"-q", "-t", "alpha", "--log", log, NULL});
    nw_check_logged(f->pub[0], "subscribed to 'alpha'", S_START_MS, "publisher 0");
    nw_check_logged(f->pub[1], "subscribed to 'alpha'", S_START_MS, "publisher 1");
    s_article(f, 0, "z0.txt", "Zebra", 40);
    s_article(f, 1, "z1.txt", "Zebra", 60);
    nw_check_file_lines(f->sub[0], log, 102, S_LINES_MS, "subscriber");
    /* Both streams' heartbeats are learned for replay routing. */
    nw_check_logged(f->proxy[0], f->pub_rep[0], S_START_MS, "newswire-proxy");
    nw_check_logged(f->proxy[0], f->pub_rep[1], S_START_MS, "newswire-proxy");
    nw_check_stopped(&f->sub[0], S_START_MS, "subscriber");
    s_assert_once_in_order(log, 102);
    nw_check_stopped(&f->proxy[0], S_START_MS, "newswire-proxy");
    nw_check_stopped(&f->pub[1], S_START_MS, "publisher 1");
    nw_check_stopped(&f->pub[0], S_START_MS, "publisher 0");
}

/* The stream id publisher i logged at start. */
static void s_stream_of(s_fx_t *f, size_t i, char *out, size_t len)
{
    const char *at = strstr(nw_testproc_output(f->pub[i], NW_TESTPROC_STDERR), "ready: stream ");
    assert_non_null(at);
    at += strlen("ready: stream ");
    snprintf(out, len, "%.*s", (int)strcspn(at, ","), at);
}

/* Sends a replay request for the last alert of stream to the proxy's front end and
 * returns the end marker; *alerts counts the replayed alerts before it. */
static nw_replay_end_t s_ask(void *dealer, uint64_t req, const char *stream, size_t *alerts)
{
    nw_replay_request_t rq;
    nw_replay_request_init(&rq);
    rq.req = req;
    rq.start = NW_REPLAY_LAST;
    rq.last = 1;
    snprintf(rq.stream, sizeof rq.stream, "%s", stream);
    char *body = NULL;
    size_t size = 0;
    assert_int_equal(nw_replay_request_encode(&rq, &body, &size), 0);
    assert_int_equal(zmq_send(dealer, body, size, 0), (int)size);
    free(body);
    *alerts = 0;
    for (;;) {
        char topic[32], frame[4096];
        int n = zmq_recv(dealer, topic, sizeof topic, 0);
        if (n < 0)
            fail_msg("replay request %llu: no answer: %s", (unsigned long long)req,
                     zmq_strerror(errno));
        int m = zmq_recv(dealer, frame, sizeof frame, 0);
        assert_true(m > 0);
        if (n == (int)strlen(NW_REPLAY_TOPIC) && memcmp(topic, NW_REPLAY_TOPIC, (size_t)n) == 0) {
            (*alerts)++;
            zmq_recv(dealer, frame, sizeof frame, 0); /* the alert body */
            continue;
        }
        nw_replay_end_t end;
        assert_int_equal(nw_replay_end_decode(frame, (size_t)m, &end), 0);
        assert_int_equal(end.req, req);
        return end;
    }
}

static void test_replay_requests_are_routed_by_stream(void **state)
{
    s_fx_t *f = *state;
    char log[PATH_MAX], s0[64], s1[64];
    snprintf(log, sizeof log, "%s/routed.jsonl", f->dir);
    s_pub_start(f, 0);
    s_pub_start(f, 1);
    s_stream_of(f, 0, s0, sizeof s0);
    s_stream_of(f, 1, s1, sizeof s1);
    s_proxy_start(f, 0, (const char *[]){f->pub_ep[0], f->pub_ep[1], NULL}, NULL);
    /* A subscriber makes the publishers send heartbeats; the proxy learns both routes. */
    s_sub_start(f, 0, f->px_ep[0], (const char *[]){"-q", "-t", "alpha", "--log", log, NULL});
    s_article(f, 0, "z0.txt", "Zebra", 3);
    s_article(f, 1, "z1.txt", "Zebra", 3);
    nw_check_logged(f->proxy[0], f->pub_rep[0], S_START_MS, "newswire-proxy");
    nw_check_logged(f->proxy[0], f->pub_rep[1], S_START_MS, "newswire-proxy");
    nw_check_logged(f->pub[0], "published z0.txt", S_START_MS, "publisher 0");
    nw_check_logged(f->pub[1], "published z1.txt", S_START_MS, "publisher 1");
    void *zctx = zmq_ctx_new(), *dealer = zmq_socket(zctx, ZMQ_DEALER);
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &(int){S_START_MS}, sizeof(int));
    zmq_setsockopt(dealer, ZMQ_LINGER, &(int){0}, sizeof(int));
    assert_int_equal(zmq_connect(dealer, f->px_rep[0]), 0);
    size_t alerts;
    /* Each stream's request reaches its own publisher's journal. */
    nw_replay_end_t end = s_ask(dealer, 1, s0, &alerts);
    assert_int_equal(end.status, NW_REPLAY_OK);
    assert_string_equal(end.stream, s0);
    assert_int_equal(alerts, 1);
    end = s_ask(dealer, 2, s1, &alerts);
    assert_int_equal(end.status, NW_REPLAY_OK);
    assert_string_equal(end.stream, s1);
    assert_int_equal(alerts, 1);
    /* No stream named, two behind the proxy: refused, saying so. */
    end = s_ask(dealer, 3, "", &alerts);
    assert_int_equal(end.status, NW_REPLAY_ERROR);
    assert_non_null(strstr(end.error, "2 streams"));
    /* A stream no heartbeat announced. */
    end = s_ask(dealer, 4, "00000000deadbeef", &alerts);
    assert_int_equal(end.status, NW_REPLAY_ERROR);
    assert_non_null(strstr(end.error, "stream mismatch"));
    zmq_close(dealer);
    zmq_ctx_term(zctx);
    nw_check_stopped(&f->sub[0], S_START_MS, "subscriber");
    nw_check_stopped(&f->proxy[0], S_START_MS, "newswire-proxy");
    nw_check_logged(f->proxy[0], "replay: 2 requests forwarded, 2 refused", 0, "newswire-proxy");
    nw_check_stopped(&f->pub[1], S_START_MS, "publisher 1");
    nw_check_stopped(&f->pub[0], S_START_MS, "publisher 0");
}

/* Sends cmd on req and returns the number of frames of the reply; the first goes to out. */
static int s_control(void *req, const char *cmd, char *out, size_t outlen, uint64_t *stats)
{
    assert_int_equal(zmq_send(req, cmd, strlen(cmd), 0), (int)strlen(cmd));
    int frames = 0, more = 1;
    size_t size = sizeof more;
    while (more) {
        char buf[128];
        int n = zmq_recv(req, buf, sizeof buf - 1, 0);
        if (n < 0)
            fail_msg("control %s: no reply: %s", cmd, zmq_strerror(errno));
        if (frames == 0 && out != NULL)
            snprintf(out, outlen, "%.*s", n, buf);
        if (stats != NULL && frames < 8 && n == 8)
            memcpy(&stats[frames], buf, 8);
        frames++;
        zmq_getsockopt(req, ZMQ_RCVMORE, &more, &size);
    }
    return frames;
}

static void test_control_socket_pauses_resumes_reports_and_terminates(void **state)
{
    s_fx_t *f = *state;
    char ctl[64], log[PATH_MAX], reply[128];
    uint64_t before[8], after[8];
    s_endpoint(ctl, sizeof ctl);
    snprintf(log, sizeof log, "%s/ctl.jsonl", f->dir);
    s_pub_start(f, 0);
    s_proxy_start(f, 0, (const char *[]){f->pub_ep[0], NULL},
                  (const char *[]){"--control", ctl, NULL});
    s_sub_start(f, 0, f->px_ep[0], (const char *[]){"-q", "-t", "alpha", "--log", log, NULL});
    nw_check_logged(f->pub[0], "subscribed to 'alpha'", S_START_MS, "newswire-pub");
    void *zctx = zmq_ctx_new(), *req = zmq_socket(zctx, ZMQ_REQ);
    zmq_setsockopt(req, ZMQ_RCVTIMEO, &(int){S_START_MS}, sizeof(int));
    zmq_setsockopt(req, ZMQ_LINGER, &(int){0}, sizeof(int));
    assert_int_equal(zmq_connect(req, ctl), 0);
    s_control(req, "PAUSE", reply, sizeof reply, NULL);
    assert_string_equal(reply, "OK");
    assert_int_equal(s_control(req, "STATISTICS", NULL, 0, before), 8);
    s_article(f, 0, "z1.txt", "Zebra", 20);
    nw_check_logged(f->pub[0], "published z1.txt", S_START_MS, "newswire-pub");
    nw_testproc_pause(f->proxy[0], 300); /* heartbeats and the article reach the paused proxy */
    assert_int_equal(s_control(req, "STATISTICS", NULL, 0, after), 8);
    assert_int_equal(after[0], before[0]); /* nothing read upstream while paused */
    assert_int_equal(nw_test_count_file_lines(log, ""), 0);
    s_control(req, "NONSENSE", reply, sizeof reply, NULL);
    assert_non_null(strstr(reply, "ERROR"));
    s_control(req, "RESUME", reply, sizeof reply, NULL);
    assert_string_equal(reply, "OK");
    nw_check_file_lines(f->sub[0], log, 21, S_LINES_MS, "subscriber");
    assert_int_equal(s_control(req, "STATISTICS", NULL, 0, after), 8);
    assert_true(after[0] >= before[0] + 21 * 1); /* the article's alerts came in */
    assert_true(after[6] >= before[6] + 21);     /* and went out */
    s_control(req, "TERMINATE", reply, sizeof reply, NULL);
    assert_string_equal(reply, "OK");
    assert_int_equal(nw_testproc_wait_exit(f->proxy[0], S_START_MS), 0);
    zmq_close(req);
    zmq_ctx_term(zctx);
    nw_check_stopped(&f->sub[0], S_START_MS, "subscriber");
    nw_check_stopped(&f->pub[0], S_START_MS, "newswire-pub");
}

/* Runs the proxy with argv and expects status and needle on stderr (or stdout). */
static void s_expect_exit(const char *const *argv, int status, nw_testproc_stream_t stream,
                          const char *needle)
{
    nw_testproc_t *p = nw_testproc_start(argv, NULL);
    assert_non_null(p);
    int got = nw_testproc_wait_exit(p, S_START_MS);
    const char *out = nw_testproc_output(p, stream);
    if (got != status || strstr(out, needle) == NULL)
        fail_msg("%s %s: exit %d (want %d), output lacks '%s':\n%s", argv[1],
                 argv[2] ? argv[2] : "", got, status, needle, out);
    nw_testproc_destroy(&p);
}

static void test_usage_and_endpoint_errors_have_their_exit_codes(void **state)
{
    s_fx_t *f = *state;
    /* --help: every option, in lines a terminal shows whole. */
    nw_testproc_t *help = nw_testproc_start((const char *[]){NW_PROXY_BIN, "--help", NULL}, NULL);
    assert_non_null(help);
    assert_int_equal(nw_testproc_wait_exit(help, S_START_MS), 0);
    const char *out = nw_testproc_output(help, NW_TESTPROC_STDOUT);
    const char *want[] = {"SYNOPSIS",    "--connect", "--bind",   "--replay-bind", "--control",
                          "--hwm",       "--verbose", "--quiet",  "--log-level",   "SIGTERM",
                          "EXIT STATUS", "EXAMPLES",  "--version"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strstr(out, want[i]) == NULL)
            fail_msg("--help does not mention %s", want[i]);
    for (const char *line = out, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
        if (nl - line > 80)
            fail_msg("--help line over 80 columns: %.*s", (int)(nl - line), line);
    nw_testproc_destroy(&help);
    s_expect_exit((const char *[]){NW_PROXY_BIN, "--version", NULL}, 0, NW_TESTPROC_STDOUT,
                  "newswire-proxy ");
    s_expect_exit((const char *[]){NW_PROXY_BIN, "--bind", f->px_ep[0], NULL}, 2,
                  NW_TESTPROC_STDERR, "--connect");
    s_expect_exit((const char *[]){NW_PROXY_BIN, "-c", "nowhere", NULL}, 2, NW_TESTPROC_STDERR,
                  "--connect");
    s_expect_exit((const char *[]){NW_PROXY_BIN, "-c", f->pub_ep[0], "--hwm", "lots", NULL}, 2,
                  NW_TESTPROC_STDERR, "--hwm");
    /* An address in use: exit 3, naming the flag. */
    void *zctx = zmq_ctx_new(), *holder = zmq_socket(zctx, ZMQ_PUB);
    assert_int_equal(zmq_bind(holder, f->px_rep[0]), 0);
    s_expect_exit((const char *[]){NW_PROXY_BIN, "-c", f->pub_ep[0], "--bind", f->px_ep[0],
                                   "--replay-bind", f->px_rep[0], NULL},
                  3, NW_TESTPROC_STDERR, "--replay-bind");
    zmq_close(holder);
    zmq_ctx_term(zctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_usage_and_endpoint_errors_have_their_exit_codes,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_every_alert_through_the_proxy_filtered_at_the_publisher, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_chained_proxies_carry_alerts_and_look_back, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_durable_subscriber_catches_up_through_the_proxy,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_proxy_kill9_loses_and_repeats_nothing_for_durable_subscribers, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(test_two_publishers_behind_one_proxy, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_control_socket_pauses_resumes_reports_and_terminates,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_replay_requests_are_routed_by_stream, s_setup,
                                        s_teardown),
    };
    /* NW_TEST_ONLY=test_name runs one test (debugging). */
    if (getenv("NW_TEST_ONLY") != NULL)
        cmocka_set_test_filter(getenv("NW_TEST_ONLY"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
