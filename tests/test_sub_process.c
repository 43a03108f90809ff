/* newswire-sub as a real process against a raw ZeroMQ XPUB in this test, on loopback tcp:
 * filtering, duplicates, garbage frames, the log file, the exec hook, gaps, exit codes,
 * signals and the command line. Before publishing, each test waits until the XPUB has seen
 * the subscriber's subscriptions (bounded), never a fixed sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_testproc.h"

#define S_STREAM  "feedfacecafebeef"
#define S_WAIT_MS 5000
#define S_SUMMARY "received "

typedef struct {
    void *ctx;           /* ZeroMQ context */
    void *xpub;          /* the raw publisher */
    char endpoint[256];  /* where it is bound */
    char topics[16][64]; /* per-topic sequence counters: names... */
    uint64_t tseq[16];   /* ...and their last numbers */
    size_t n_topics;
    uint64_t seq;       /* global sequence number */
    char *dir;          /* temporary directory */
    nw_testproc_t *sub; /* the subscriber under test */
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    int zero = 0;
    size_t len = sizeof fx->endpoint;
    fx->ctx = zmq_ctx_new();
    fx->xpub = zmq_socket(fx->ctx, ZMQ_XPUB);
    zmq_setsockopt(fx->xpub, ZMQ_SNDHWM, &zero, sizeof zero); /* queue everything */
    zmq_setsockopt(fx->xpub, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(fx->xpub, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(fx->xpub, ZMQ_LAST_ENDPOINT, fx->endpoint, &len) != 0)
        return -1;
    fx->dir = nw_test_tmpdir("test_sub_process");
    *state = fx;
    return fx->dir ? 0 : -1;
}

static int s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    nw_testproc_destroy(&fx->sub);
    zmq_close(fx->xpub);
    zmq_ctx_term(fx->ctx);
    nw_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* Waits until the XPUB has received a subscription to each of want (NULL-terminated;
 * "" is the subscribe-to-everything filter). */
static bool s_wait_subscribed(s_fixture_t *fx, const char *const *want)
{
    bool seen[8] = {false};
    size_t n = 0;
    while (want[n] != NULL)
        n++;
    for (int waited = 0; waited < S_WAIT_MS; waited += 50) {
        zmq_pollitem_t item = {fx->xpub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        char msg[128];
        int len = zmq_recv(fx->xpub, msg, sizeof msg, ZMQ_DONTWAIT);
        if (len < 1 || msg[0] != 1)
            continue;
        bool all = true;
        for (size_t i = 0; i < n; i++) {
            if ((size_t)len - 1 == strlen(want[i]) && memcmp(msg + 1, want[i], len - 1) == 0)
                seen[i] = true;
            all = all && seen[i];
        }
        if (all)
            return true;
    }
    return false;
}

static void s_send(s_fixture_t *fx, const char *topic, size_t topic_len, const void *body,
                   size_t len)
{
    assert_int_equal(zmq_send(fx->xpub, topic, topic_len, ZMQ_SNDMORE), (int)topic_len);
    assert_int_equal(zmq_send(fx->xpub, body, len, 0), (int)len);
}

static uint64_t s_next_tseq(s_fixture_t *fx, const char *topic)
{
    for (size_t i = 0; i < fx->n_topics; i++) {
        if (strcmp(fx->topics[i], topic) == 0)
            return ++fx->tseq[i];
    }
    snprintf(fx->topics[fx->n_topics], sizeof fx->topics[0], "%s", topic);
    fx->tseq[fx->n_topics] = 1;
    return fx->tseq[fx->n_topics++];
}

/* Builds alert number n with topics (NULL-terminated), numbered like a publisher would. */
static void s_alert(s_fixture_t *fx, nw_alert_t *a, int n, const char *text,
                    const char *const *topics)
{
    char id[64];
    snprintf(id, sizeof id, "0123456789abcdef.%d", n);
    assert_int_equal(nw_alert_init(a), NW_OK);
    assert_int_equal(nw_alert_set(&a->id, id), NW_OK);
    assert_int_equal(nw_alert_set(&a->article_id, "0123456789abcdef"), NW_OK);
    assert_int_equal(nw_alert_set(&a->text, text), NW_OK);
    assert_int_equal(nw_alert_set(&a->title, "Title"), NW_OK);
    assert_int_equal(nw_alert_set(&a->source, "Wire"), NW_OK);
    assert_int_equal(nw_alert_set(&a->stream, S_STREAM), NW_OK);
    a->index = (uint32_t)n;
    a->kind = NW_KIND_PARAGRAPH;
    a->published_ms = 1764278095000;
    a->seq = ++fx->seq;
    for (size_t i = 0; topics[i] != NULL; i++) {
        assert_int_equal(nw_alert_add_topic(a, topics[i]), NW_OK);
        a->topics[i].seq = s_next_tseq(fx, topics[i]);
    }
}

/* Sends a once per topic, as the publisher does. */
static void s_publish(s_fixture_t *fx, const nw_alert_t *a)
{
    char *data;
    size_t size;
    assert_int_equal(nw_alert_encode(a, &data, &size), NW_OK);
    for (size_t i = 0; i < a->n_topics; i++)
        s_send(fx, a->topics[i].name, strlen(a->topics[i].name), data, size);
    free(data);
}

/* Builds, publishes and clears alert n. */
static void s_pub(s_fixture_t *fx, int n, const char *text, const char *const *topics,
                  nw_priority_t priority)
{
    nw_alert_t a;
    s_alert(fx, &a, n, text, topics);
    a.priority = priority;
    s_publish(fx, &a);
    nw_alert_clear(&a);
}

static void s_heartbeat(s_fixture_t *fx, const char *topic, uint64_t tseq)
{
    nw_alert_topic_t t = {(char *)topic, tseq};
    nw_heartbeat_t hb = {.stream = (char *)S_STREAM,
                         .seq = fx->seq,
                         .time_ms = 1,
                         .interval_ms = 1000,
                         .replay = (char *)"",
                         .topics = &t,
                         .n_topics = topic ? 1 : 0};
    char *data;
    size_t size;
    assert_int_equal(nw_heartbeat_encode(&hb, &data, &size), NW_OK);
    s_send(fx, "$nw.heartbeat", 13, data, size);
    free(data);
}

/* Starts newswire-sub -c ENDPOINT args... and waits for subscriptions want. */
static void s_start(s_fixture_t *fx, const char *const *args, const char *const *want)
{
    const char *argv[32] = {NW_SUB_BIN, "-c", fx->endpoint};
    size_t n = 3;
    for (size_t i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fx->sub = nw_testproc_start(argv, (const char *[]){"TZ=UTC", NULL});
    assert_non_null(fx->sub);
    if (want != NULL && !s_wait_subscribed(fx, want))
        fail_msg("no subscription seen; stderr: %s",
                 nw_testproc_output(fx->sub, NW_TESTPROC_STDERR));
}

static const char *const s_tariffs_subs[] = {"tariffs", "$nw.", NULL};

/* SIGTERM, exit 0 within a second, and the summary line; returns stderr. */
static const char *s_stop(s_fixture_t *fx)
{
    assert_int_equal(nw_testproc_signal(fx->sub, SIGTERM), 0);
    assert_int_equal(nw_testproc_wait_exit(fx->sub, 1000), 0);
    const char *err = nw_testproc_output(fx->sub, NW_TESTPROC_STDERR);
    assert_non_null(strstr(err, S_SUMMARY));
    return err;
}

static void s_wait_out(s_fixture_t *fx, const char *needle)
{
    if (!nw_testproc_wait_output(fx->sub, NW_TESTPROC_STDOUT, needle, S_WAIT_MS))
        fail_msg("'%s' not printed; stdout: %s\nstderr: %s", needle,
                 nw_testproc_output(fx->sub, NW_TESTPROC_STDOUT),
                 nw_testproc_output(fx->sub, NW_TESTPROC_STDERR));
}

static void s_wait_err(s_fixture_t *fx, const char *needle)
{
    if (!nw_testproc_wait_output(fx->sub, NW_TESTPROC_STDERR, needle, S_WAIT_MS))
        fail_msg("'%s' not on stderr: %s", needle, nw_testproc_output(fx->sub, NW_TESTPROC_STDERR));
}

/* Polls until the file at path holds needle (bounded). */
static bool s_wait_file(const char *path, const char *needle)
{
    for (int i = 0; i < S_WAIT_MS / 10; i++) {
        char *text = nw_test_read_file(path, NULL);
        bool found = text != NULL && strstr(text, needle) != NULL;
        free(text);
        if (found)
            return true;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return false;
}

/* ---- filtering and output ---- */

static void test_filters_topics_excludes_priority_and_duplicates(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx,
            (const char *[]){"-t", "tariffs", "-t", "defense", "-T", "energy", "--min-priority",
                             "normal", "--format", "%i %t", NULL},
            (const char *[]){"tariffs", "defense", "$nw.", NULL});
    s_pub(fx, 1, "on tariffs", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    s_pub(fx, 2, "prefix only", (const char *[]){"defenseless", NULL}, NW_PRIORITY_NORMAL);
    s_pub(fx, 3, "subtopic", (const char *[]){"defense.budget", NULL}, NW_PRIORITY_HIGH);
    s_pub(fx, 4, "excluded", (const char *[]){"tariffs", "energy", NULL}, NW_PRIORITY_NORMAL);
    s_pub(fx, 5, "too low", (const char *[]){"tariffs", NULL}, NW_PRIORITY_LOW);
    s_pub(fx, 6, "on both", (const char *[]){"tariffs", "defense", NULL}, NW_PRIORITY_NORMAL);
    s_pub(fx, 7, "marker", (const char *[]){"defense", NULL}, NW_PRIORITY_NORMAL);
    s_wait_out(fx, "0123456789abcdef.7 defense\n");
    assert_string_equal(nw_testproc_output(fx->sub, NW_TESTPROC_STDOUT),
                        "0123456789abcdef.1 tariffs\n"
                        "0123456789abcdef.3 defense.budget\n"
                        "0123456789abcdef.6 tariffs\n"
                        "0123456789abcdef.7 defense\n");
    const char *err = s_stop(fx);
    /* energy's frame of alert 4 never arrives: the socket did not subscribe to it. */
    assert_non_null(strstr(err, "received 8, printed 4, filtered 3, duplicates 1, gaps 0"));
}

static void test_alert_on_two_topics_printed_once(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx, (const char *[]){"-t", "tariffs", "-t", "trade", "--format", "json", NULL},
            (const char *[]){"tariffs", "trade", "$nw.", NULL});
    s_pub(fx, 1, "both", (const char *[]){"tariffs", "trade", NULL}, NW_PRIORITY_NORMAL);
    s_pub(fx, 2, "marker", (const char *[]){"trade", NULL}, NW_PRIORITY_NORMAL);
    s_wait_out(fx, "\"text\":\"marker\"");
    assert_int_equal(nw_testproc_count_lines(fx->sub, NW_TESTPROC_STDOUT, "\"text\":\"both\""), 1);
    const char *err = s_stop(fx);
    assert_non_null(strstr(err, "printed 2, filtered 0, duplicates 1"));
}

static void test_text_output_neutralises_terminal_escapes(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx, (const char *[]){"-t", "tariffs", NULL}, s_tariffs_subs);
    s_pub(fx, 1, "wipe\x1b[2J\x1b]0;owned\x07 done\xc2\x9b", (const char *[]){"tariffs", NULL},
          NW_PRIORITY_NORMAL);
    s_wait_out(fx, " done");
    const char *out = nw_testproc_output(fx->sub, NW_TESTPROC_STDOUT);
    assert_null(strchr(out, '\x1b'));
    assert_null(strchr(out, '\x07'));
    assert_non_null(strstr(out, "wipe\xe2\x90\x9b[2J"));
    assert_non_null(strstr(out, "2025-11-27 21:14:55 [tariffs] normal: wipe"));
    s_stop(fx);
}

static void test_stderr_neutralises_terminal_escapes_from_the_wire(void **state)
{
    s_fixture_t *fx = *state;
    nw_alert_t a;
    s_start(fx, (const char *[]){"-t", "tariffs", NULL}, s_tariffs_subs);
    s_alert(fx, &a, 1, "x", (const char *[]){"tariffs", NULL});
    assert_int_equal(nw_alert_set(&a.stream, "evil\x1b]0;owned\x07\xc2\x9b"
                                             "2J"),
                     NW_OK);
    s_publish(fx, &a);
    nw_alert_clear(&a);
    s_wait_err(fx, "stream evil?]0;owned???2J: receiving");
    const char *err = s_stop(fx);
    assert_null(strchr(err, '\x1b'));
    assert_null(strchr(err, '\x07'));
}

static void test_garbage_frames_counted_and_next_alert_printed(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx, (const char *[]){"-t", "tariffs", "--format", "%i", NULL}, s_tariffs_subs);
    const char huge_array[] = "\xdd\xff\xff\xff\xff";
    unsigned char noise[257];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)(i * 167 + 13);
    assert_int_equal(zmq_send(fx->xpub, "tariffs", 7, 0), 7);           /* one frame */
    assert_int_equal(zmq_send(fx->xpub, "tariffs", 7, ZMQ_SNDMORE), 7); /* three frames */
    assert_int_equal(zmq_send(fx->xpub, "x", 1, ZMQ_SNDMORE), 1);
    assert_int_equal(zmq_send(fx->xpub, "y", 1, 0), 1);
    s_send(fx, "tariffs", 7, noise, sizeof noise); /* random bytes */
    s_send(fx, "tariffs Bad!", 12, "\x80", 1);     /* invalid topic */
    s_send(fx, "tariffs", 7, huge_array, 5);       /* 2^32-1 element array */
    s_send(fx, "tariffs", 7, "", 0);               /* empty body */
    s_send(fx, "$nw.heartbeat", 13, noise, 16);    /* bad heartbeat */
    s_pub(fx, 1, "still here", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    s_wait_out(fx, "0123456789abcdef.1\n");
    const char *err = s_stop(fx);
    assert_non_null(strstr(err, "printed 1,"));
    assert_non_null(strstr(err, "bad frames 7"));
    /* Logged, but rate-limited: one line for the burst. */
    assert_int_equal(nw_testproc_count_lines(fx->sub, NW_TESTPROC_STDERR, "bad frame ignored"), 1);
}

/* ---- log file ---- */

/* Counts the whole JSON lines at the start of text; *partial is set when what follows them
 * is one unterminated line, and false is returned for anything worse. */
static bool s_json_lines(const char *text, size_t *lines, bool *partial)
{
    *lines = 0;
    *partial = false;
    for (const char *line = text; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        if (nl == NULL) {
            *partial = line[0] == '{';
            return *partial;
        }
        if (line[0] != '{' || nl[-1] != '}')
            return false;
        (*lines)++;
        line = nl + 1;
    }
    return true;
}

static void test_log_holds_whole_lines_after_sigkill(void **state)
{
    s_fixture_t *fx = *state;
    char path[600];
    snprintf(path, sizeof path, "%s/alerts.jsonl", fx->dir);
    s_start(fx, (const char *[]){"-t", "tariffs", "-q", "--log", path, "--fsync", "never", NULL},
            s_tariffs_subs);
    char text[1200];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    /* Far more than it can write before the kill below: 24 MB of alerts. */
    const int total = 20000;
    for (int n = 1; n <= total; n++)
        s_pub(fx, n, text, (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    /* Kill it mid-stream: once some lines are in, long before all are. */
    struct stat st = {0};
    for (int i = 0; i < S_WAIT_MS && (stat(path, &st) != 0 || st.st_size < 200000); i++)
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
    assert_int_equal(nw_testproc_signal(fx->sub, SIGKILL), 0);
    assert_int_equal(nw_testproc_wait_exit(fx->sub, 2000), 128 + SIGKILL);
    nw_testproc_destroy(&fx->sub);
    /* Every line written is whole; only the one being written at the kill may be cut, and
     * only where it crosses a page (Linux checks for SIGKILL between pages). */
    size_t lines;
    bool partial;
    char *log = nw_test_read_file(path, NULL);
    assert_non_null(log);
    if (!s_json_lines(log, &lines, &partial))
        fail_msg("a broken line after %zu whole lines", lines);
    assert_true(lines >= 100);
    assert_true(lines < (size_t)total);
    free(log);
    /* The next start removes a cut line before it appends: whole lines again. */
    s_start(fx, (const char *[]){"-t", "tariffs", "-q", "--log", path, "-W", "200ms", NULL}, NULL);
    assert_int_equal(nw_testproc_wait_exit(fx->sub, S_WAIT_MS), 3);
    assert_int_equal(
        strstr(nw_testproc_output(fx->sub, NW_TESTPROC_STDERR), "partial line") != NULL, partial);
    log = nw_test_read_file(path, NULL);
    size_t after;
    assert_true(s_json_lines(log, &after, &partial));
    assert_false(partial);
    assert_int_equal(after, lines);
    free(log);
}

static void test_log_reopened_on_sighup(void **state)
{
    s_fixture_t *fx = *state;
    char path[600], rotated[700];
    snprintf(path, sizeof path, "%s/alerts.jsonl", fx->dir);
    snprintf(rotated, sizeof rotated, "%s.1", path);
    s_start(fx, (const char *[]){"-t", "tariffs", "-q", "--log", path, NULL}, s_tariffs_subs);
    s_pub(fx, 1, "before", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    assert_true(s_wait_file(path, "\"text\":\"before\""));
    assert_int_equal(rename(path, rotated), 0);
    assert_int_equal(nw_testproc_signal(fx->sub, SIGHUP), 0);
    s_wait_err(fx, "reopened");
    s_pub(fx, 2, "after", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    assert_true(s_wait_file(path, "\"text\":\"after\""));
    char *old = nw_test_read_file(rotated, NULL);
    char *cur = nw_test_read_file(path, NULL);
    assert_non_null(strstr(old, "before"));
    assert_null(strstr(old, "after"));
    assert_null(strstr(cur, "before"));
    assert_int_equal(nw_testproc_count_lines(fx->sub, NW_TESTPROC_STDOUT, ""), 0); /* -q */
    free(old);
    free(cur);
    s_stop(fx);
}

/* ---- exec hook ---- */

static void test_exec_gets_json_and_runs_nothing_from_the_text(void **state)
{
    s_fixture_t *fx = *state;
    char out[600], pwned[600], cmd[1400], text[2400];
    snprintf(out, sizeof out, "%s/hook", fx->dir);
    snprintf(pwned, sizeof pwned, "%s/pwned", fx->dir);
    snprintf(cmd, sizeof cmd,
             "/bin/sh -c 'cat >> \"$1\"; printf \"%%s\\n\" \"$NW_TITLE\" >> \"$1.title\"' sh '%s'",
             out);
    snprintf(text, sizeof text, "$(touch %s) `touch %s` \"; touch %s; echo ' \\\" $((1+1))", pwned,
             pwned, pwned);
    s_start(fx, (const char *[]){"-t", "tariffs", "-q", "--exec", cmd, NULL}, s_tariffs_subs);
    nw_alert_t a;
    s_alert(fx, &a, 1, text, (const char *[]){"tariffs", NULL});
    assert_int_equal(nw_alert_set(&a.title, text), NW_OK);
    s_publish(fx, &a);
    nw_alert_clear(&a);
    char title_path[700];
    snprintf(title_path, sizeof title_path, "%s.title", out);
    assert_true(s_wait_file(title_path, "\n"));
    char *json = nw_test_read_file(out, NULL);
    char *title = nw_test_read_file(title_path, NULL);
    assert_non_null(strstr(json, "\"id\":\"0123456789abcdef.1\""));
    assert_non_null(strstr(json, "$(touch "));
    char want[2500];
    snprintf(want, sizeof want, "%s\n", text);
    assert_string_equal(title, want); /* NW_TITLE carries the title byte for byte */
    assert_int_not_equal(access(pwned, F_OK), 0);
    free(json);
    free(title);
    const char *err = s_stop(fx);
    assert_non_null(strstr(err, "exec started 1 failed 0 dropped 0"));
}

static void test_exec_timeout_kills_a_stuck_hook(void **state)
{
    s_fixture_t *fx = *state;
    char out[600], cmd[1400];
    snprintf(out, sizeof out, "%s/hook", fx->dir);
    /* The hook for alert 1 never ends (exec: the kill reaches /bin/sleep itself); the others
     * record their id. With one slot, alerts 2 and 3 run only once alert 1's hook is gone. */
    snprintf(cmd, sizeof cmd,
             "/bin/sh -c 'case \"$NW_ID\" in *.1) exec /bin/sleep 1000;; esac; "
             "cat >/dev/null; echo \"$NW_ID\" >> \"$1\"' sh '%s'",
             out);
    s_start(fx,
            (const char *[]){"-t", "tariffs", "-q", "--exec", cmd, "--exec-max", "1",
                             "--exec-timeout", "300ms", NULL},
            s_tariffs_subs);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int n = 1; n <= 3; n++)
        s_pub(fx, n, "x", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    s_wait_err(fx, "'/bin/sh' still running after 300 ms, killing it (alert 0123456789abcdef.1)");
    assert_true(s_wait_file(out, "0123456789abcdef.3\n"));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(sec >= 0.25); /* not killed before its time */
    char *text = nw_test_read_file(out, NULL);
    assert_string_equal(text, "0123456789abcdef.2\n0123456789abcdef.3\n");
    free(text);
    const char *err = s_stop(fx);
    assert_non_null(strstr(err, "exec started 3 failed 1 dropped 0 timed out 1"));
}

/* ---- gaps ---- */

static void test_gaps_tail_loss_and_restart_reported(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx, (const char *[]){"-t", "tariffs", "--format", "%i", NULL}, s_tariffs_subs);
    s_pub(fx, 1, "one", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    fx->tseq[0] += 2; /* the publisher numbered 2 and 3, we never see them */
    s_pub(fx, 4, "four", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    s_wait_err(fx, "topic tariffs: missed seq 2-3 (2 alerts)");
    s_heartbeat(fx, "tariffs", 6);
    s_wait_err(fx, "heartbeat shows seq 5-6 sent but not received (2 alerts)");
    nw_alert_t a;
    s_alert(fx, &a, 9, "new stream", (const char *[]){"tariffs", NULL});
    assert_int_equal(nw_alert_set(&a.stream, "0000000000000001"), NW_OK);
    a.topics[0].seq = 1;
    s_publish(fx, &a);
    nw_alert_clear(&a);
    /* The old stream stays quiet: a replacement (its publisher restarted on a new journal),
     * said once it has been quiet for two of its heartbeat intervals. */
    s_wait_err(fx, "stream 0000000000000001: new publisher stream, replacing " S_STREAM);
    s_wait_out(fx, "0123456789abcdef.9\n");
    const char *err = s_stop(fx);
    assert_non_null(strstr(err, "gaps 2 (4 alerts missed)"));
}

/* With repair on (--replay), a loss is one "gap:" line, found by the one loss detector,
 * and its repair asks for exactly the hole (the catch-up used to log a second "gap:" line
 * of its own for the same loss). */
static void test_one_loss_is_one_line_and_one_bounded_repair(void **state)
{
    s_fixture_t *fx = *state;
    int port = nw_test_free_port(); /* nothing listens: the repair stays pending */
    char replay[64];
    snprintf(replay, sizeof replay, "tcp://127.0.0.1:%d", port);
    s_start(fx, (const char *[]){"-t", "tariffs", "--format", "%i", "--replay", replay, NULL},
            s_tariffs_subs);
    s_heartbeat(fx, "tariffs", 0); /* the stream starts here ("now") */
    s_wait_err(fx, "caught up: stream " S_STREAM " seq 0; live");
    s_pub(fx, 1, "one", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    fx->tseq[0] += 2; /* the publisher numbered 2 and 3, we never see them */
    fx->seq += 2;
    s_pub(fx, 4, "four", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    s_wait_err(fx, "topic tariffs: missed seq 2-3 (2 alerts); repairing from the journal");
    s_wait_err(fx, "replay: stream " S_STREAM " seq 2-3 (");
    s_wait_out(fx, "0123456789abcdef.1\n");
    const char *err = s_stop(fx);
    const char *first = strstr(err, "gap:");
    assert_non_null(first);
    assert_null(strstr(first + 1, "gap:"));
    assert_non_null(strstr(err, "gaps 1 (2 alerts missed)"));
}

/* F9: a forged heartbeat numbers a gap of almost 2^64 alerts; the log says it is not
 * believable rather than printing it as a real loss. */
static void test_implausible_gap_is_called_so(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx, (const char *[]){"-t", "tariffs", "--format", "%i", NULL}, s_tariffs_subs);
    s_pub(fx, 1, "one", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    s_heartbeat(fx, "tariffs", UINT64_MAX);
    s_wait_err(fx, "alerts, an implausible number: a forged or broken heartbeat or alert?");
    s_stop(fx);
}

/* F4: one frame larger than any alert (libzmq 4.3 would drop the link for good on
 * ZMQ_MAXMSGSIZE) is dropped and counted, and the next alert still arrives. */
static void test_oversized_frame_is_dropped_and_the_link_survives(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx, (const char *[]){"-t", "tariffs", "--format", "%i", NULL}, s_tariffs_subs);
    size_t big = 300 * 1024;
    char *junk = malloc(big);
    assert_non_null(junk);
    memset(junk, 0xc1, big);
    s_send(fx, "tariffs", 7, junk, big);
    free(junk);
    s_wait_err(fx, "bad frame ignored");
    s_pub(fx, 2, "after", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    s_wait_out(fx, "0123456789abcdef.2\n");
    s_stop(fx);
}

/* ---- exit codes and the command line ---- */

static void test_count_exits_zero_after_n(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx, (const char *[]){"-t", "tariffs", "-C", "2", "--format", "%i", NULL},
            s_tariffs_subs);
    for (int n = 1; n <= 3; n++)
        s_pub(fx, n, "x", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    assert_int_equal(nw_testproc_wait_exit(fx->sub, S_WAIT_MS), 0);
    assert_string_equal(nw_testproc_output(fx->sub, NW_TESTPROC_STDOUT),
                        "0123456789abcdef.1\n0123456789abcdef.2\n");
}

static void test_timeout_exits_three(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx, (const char *[]){"-t", "tariffs", "-W", "300ms", NULL}, s_tariffs_subs);
    assert_int_equal(nw_testproc_wait_exit(fx->sub, S_WAIT_MS), 3);
    assert_non_null(strstr(nw_testproc_output(fx->sub, NW_TESTPROC_STDERR), S_SUMMARY));
}

static void test_timeout_restarts_with_each_alert(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx, (const char *[]){"-t", "tariffs", "-W", "2", "--format", "%i", NULL},
            s_tariffs_subs);
    /* Four alerts about 300 ms apart: over a second in all, never 2 s without one (the
     * margin is wide because other builds may share this machine). */
    for (int n = 1; n <= 4; n++) {
        s_pub(fx, n, "x", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
        char id[64];
        snprintf(id, sizeof id, "0123456789abcdef.%d\n", n);
        s_wait_out(fx, id);
        assert_false(nw_testproc_wait_output(fx->sub, NW_TESTPROC_STDERR, "no alert for", 300));
    }
    assert_int_equal(nw_testproc_wait_exit(fx->sub, S_WAIT_MS), 3);
    assert_int_equal(nw_testproc_count_lines(fx->sub, NW_TESTPROC_STDOUT, ""), 4);
}

static void test_sigterm_prints_summary_and_exits_zero(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx, (const char *[]){"-t", "tariffs", NULL}, s_tariffs_subs);
    s_pub(fx, 1, "x", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    s_wait_out(fx, "normal: x");
    const char *err = s_stop(fx);
    assert_non_null(strstr(err, "newswire-sub: received 1, printed 1, filtered 0, duplicates 0, "
                                "gaps 0 (0 alerts missed), bad frames 0\n"));
}

/* Waits up to timeout_ms for pid to exit; returns its exit status, or -1 (then kills it). */
static int s_waitpid_bounded(pid_t pid, int timeout_ms)
{
    int status;
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void test_sigterm_stops_while_stdout_reader_stalls(void **state)
{
    s_fixture_t *fx = *state;
    int out[2];
    char errpath[4096];
    snprintf(errpath, sizeof errpath, "%s/stderr", fx->dir);
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *err = freopen(errpath, "w", stderr);
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execl(NW_SUB_BIN, NW_SUB_BIN, "-c", fx->endpoint, "-t", "tariffs", (char *)NULL);
        _exit(err != NULL ? 127 : 126);
    }
    close(out[1]); /* out[0] stays open and is never read */
    assert_true(s_wait_subscribed(fx, s_tariffs_subs));
    char text[2048];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    for (int i = 1; i <= 200; i++) /* 400 KB: far more than a pipe holds */
        s_pub(fx, i, text, (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    assert_true(s_wait_file(errpath, "subscribed"));
    nanosleep(&(struct timespec){0, 500 * 1000 * 1000}, NULL); /* let it fill the pipe */
    assert_int_equal(kill(pid, SIGTERM), 0);
    int status = s_waitpid_bounded(pid, 4000);
    close(out[0]);
    char *err = nw_test_read_file(errpath, NULL);
    if (status != 0)
        fail_msg("status %d after SIGTERM with a stalled reader; stderr: %s", status, err);
    assert_non_null(strstr(err, S_SUMMARY));
    assert_non_null(strstr(err, "bytes dropped"));
    free(err);
}

/* A reader of standard output that never reads (a pipe nobody drains, a paused terminal)
 * holds only standard output: the loop goes on receiving, handles heartbeats, writes --log
 * and honours SIGTERM. (It used to wait for the reader inside the loop, up to a second a
 * turn: 2,000 alerts then took about 8 s to reach the log.) */
static void test_stalled_stdout_reader_does_not_stop_the_loop(void **state)
{
    s_fixture_t *fx = *state;
    int out[2];
    char errpath[4096], logpath[4096];
    snprintf(errpath, sizeof errpath, "%s/stderr", fx->dir);
    snprintf(logpath, sizeof logpath, "%s/alerts.jsonl", fx->dir);
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *err = freopen(errpath, "w", stderr);
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execl(NW_SUB_BIN, NW_SUB_BIN, "-c", fx->endpoint, "-t", "tariffs", "--log", logpath,
              (char *)NULL);
        _exit(err != NULL ? 127 : 126);
    }
    close(out[1]); /* out[0] stays open and is never read */
    assert_true(s_wait_subscribed(fx, s_tariffs_subs));
    char text[2048];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    for (int i = 1; i <= 200; i++) /* 400 KB: far more than a pipe holds */
        s_pub(fx, i, text, (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    for (int i = 201; i <= 2200; i++)
        s_pub(fx, i, "small", (const char *[]){"tariffs", NULL}, NW_PRIORITY_NORMAL);
    /* Every alert reaches the log although standard output took only its first ones. */
    if (!s_wait_file(logpath, "\"id\":\"0123456789abcdef.2200\""))
        fail_msg("the log did not get the last alert while stdout stalled");
    /* A heartbeat is still handled: it shows two alerts sent that never came. */
    s_heartbeat(fx, "tariffs", fx->tseq[0] + 2);
    if (!s_wait_file(errpath, "heartbeat shows seq 2201-2202 sent but not received"))
        fail_msg("the heartbeat was not handled while stdout stalled");
    assert_int_equal(kill(pid, SIGTERM), 0);
    int status = s_waitpid_bounded(pid, 4000);
    close(out[0]);
    char *err = nw_test_read_file(errpath, NULL);
    if (status != 0)
        fail_msg("status %d after SIGTERM with a stalled reader; stderr: %s", status, err);
    assert_non_null(strstr(err, "received 2200, printed 2200"));
    assert_non_null(strstr(err, "bytes dropped"));
    free(err);
}

static void test_probe_prints_heartbeat_and_exits_zero(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx, (const char *[]){"--probe", "-W", "5", NULL}, (const char *[]){"", NULL});
    fx->seq = 9;
    s_heartbeat(fx, "tariffs", 4);
    assert_int_equal(nw_testproc_wait_exit(fx->sub, S_WAIT_MS), 0);
    assert_string_equal(nw_testproc_output(fx->sub, NW_TESTPROC_STDOUT),
                        "stream " S_STREAM " seq 9 topics 1 interval 1000ms\n");
}

static void test_probe_without_heartbeat_exits_three(void **state)
{
    s_fixture_t *fx = *state;
    s_start(fx, (const char *[]){"--probe", "-W", "0.3", NULL}, (const char *[]){"", NULL});
    assert_int_equal(nw_testproc_wait_exit(fx->sub, S_WAIT_MS), 3);
    assert_non_null(strstr(nw_testproc_output(fx->sub, NW_TESTPROC_STDERR), "no heartbeat"));
}

static void test_help_and_version(void **state)
{
    (void)state;
    nw_testproc_t *p = nw_testproc_start((const char *[]){NW_SUB_BIN, "--help", NULL}, NULL);
    assert_int_equal(nw_testproc_wait_exit(p, S_WAIT_MS), 0);
    const char *out = nw_testproc_output(p, NW_TESTPROC_STDOUT);
    const char *want[] = {"SYNOPSIS",   "--connect",      "--exclude", "--min-priority",
                          "--exec-max", "--exec-timeout", "--probe",   "EXIT STATUS",
                          "%{FMT}",     "EXAMPLES"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_non_null(strstr(out, want[i]));
    nw_testproc_destroy(&p);
    p = nw_testproc_start((const char *[]){NW_SUB_BIN, "-V", NULL}, NULL);
    assert_int_equal(nw_testproc_wait_exit(p, S_WAIT_MS), 0);
    assert_string_equal(nw_testproc_output(p, NW_TESTPROC_STDOUT), "newswire-sub " NW_VERSION "\n");
    nw_testproc_destroy(&p);
}

static void test_bad_flags_exit_two_and_name_the_flag(void **state)
{
    (void)state;
    const struct {
        const char *args[4];
        const char *needle;
    } cases[] = {
        {{"--bogus", NULL}, "--bogus"},
        {{"-c", "udp://x:1", NULL}, "-c/--connect"},
        {{"-c", "tcp://host", NULL}, "-c/--connect"},
        {{"-t", "Tariffs!", NULL}, "-t/--topic"},
        {{"-T", "a..b", NULL}, "-T/--exclude"},
        {{"--min-priority", "huge", NULL}, "--min-priority"},
        {{"-C", "0", NULL}, "-C/--count"},
        {{"-W", "soon", NULL}, "-W/--timeout"},
        {{"--fsync", "sometimes", NULL}, "--fsync"},
        {{"--format", "%z", NULL}, "--format"},
        {{"--exec", "'open", NULL}, "--exec"},
        {{"--exec-max", "0", NULL}, "--exec-max"},
        {{"--exec-timeout", "soon", NULL}, "--exec-timeout"},
        {{"stray", NULL}, "stray"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[6] = {NW_SUB_BIN};
        for (size_t k = 0; k < 4 && cases[i].args[k] != NULL; k++)
            argv[k + 1] = cases[i].args[k];
        nw_testproc_t *p = nw_testproc_start(argv, NULL);
        assert_int_equal(nw_testproc_wait_exit(p, S_WAIT_MS), 2);
        const char *err = nw_testproc_output(p, NW_TESTPROC_STDERR);
        if (strstr(err, cases[i].needle) == NULL)
            fail_msg("case %zu: '%s' not in: %s", i, cases[i].needle, err);
        nw_testproc_destroy(&p);
    }
}

/* --state, --log and --exec are checked at start: a durable subscriber that could never save
 * its state must not run (it used to start, log "cannot create", and exit 0). */
static void test_unusable_state_log_or_hook_exit_two_naming_the_flag(void **state)
{
    s_fixture_t *fx = *state;
    char folder_as_file[4096], not_exec[4096];
    snprintf(folder_as_file, sizeof folder_as_file, "%s", fx->dir);
    snprintf(not_exec, sizeof not_exec, "%s/hook.sh", fx->dir);
    assert_int_equal(nw_test_write_file(not_exec, "#!/bin/sh\nexit 0\n", 17), 0);
    assert_int_equal(chmod(not_exec, 0644), 0);
    const struct {
        const char *args[3];
        const char *needle;
    } cases[] = {
        {{"--state", "/nonexistent/dir/s.state", NULL},
         "--state /nonexistent/dir/s.state: folder /nonexistent/dir does not exist"},
        {{"--state", "/sys/s.state", NULL}, "--state /sys/s.state: cannot create files"},
        {{"--state", folder_as_file, NULL}, "is a folder, not a file"},
        {{"--log", "/nonexistent/dir/a.jsonl", NULL}, "--log /nonexistent/dir/a.jsonl: folder"},
        {{"--log", "/sys/a.jsonl", NULL}, "--log /sys/a.jsonl: cannot write it"},
        {{"--exec", not_exec, NULL}, "is not an executable file"},
        {{"--exec", "no-such-hook-anywhere --flag", NULL},
         "--exec: 'no-such-hook-anywhere' is not an executable file in $PATH"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[8] = {NW_SUB_BIN, "-c", fx->endpoint, "-t", "tariffs"};
        argv[5] = cases[i].args[0];
        argv[6] = cases[i].args[1];
        nw_testproc_t *p = nw_testproc_start(argv, NULL);
        int status = nw_testproc_wait_exit(p, S_WAIT_MS);
        const char *err = nw_testproc_output(p, NW_TESTPROC_STDERR);
        if (status != 2 || strstr(err, cases[i].needle) == NULL)
            fail_msg("case %zu: status %d, want 2 and '%s' in: %s", i, status, cases[i].needle,
                     err);
        assert_null(strstr(err, "subscribed;")); /* it never started */
        nw_testproc_destroy(&p);
    }
    /* Nothing is left behind by the checks. */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/ok.state", fx->dir);
    const char *argv[] = {NW_SUB_BIN, "-c", fx->endpoint, "--state", tmp, "-W", "200ms", NULL};
    nw_testproc_t *p = nw_testproc_start(argv, NULL);
    assert_int_equal(nw_testproc_wait_exit(p, S_WAIT_MS), 3);
    nw_testproc_destroy(&p);
    snprintf(tmp, sizeof tmp, "%s/ok.state.tmp", fx->dir);
    assert_int_not_equal(access(tmp, F_OK), 0);
}

int main(void)
{
#define S_T(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        S_T(test_filters_topics_excludes_priority_and_duplicates),
        S_T(test_alert_on_two_topics_printed_once),
        S_T(test_text_output_neutralises_terminal_escapes),
        S_T(test_stderr_neutralises_terminal_escapes_from_the_wire),
        S_T(test_garbage_frames_counted_and_next_alert_printed),
        S_T(test_log_holds_whole_lines_after_sigkill),
        S_T(test_log_reopened_on_sighup),
        S_T(test_exec_gets_json_and_runs_nothing_from_the_text),
        S_T(test_exec_timeout_kills_a_stuck_hook),
        S_T(test_gaps_tail_loss_and_restart_reported),
        S_T(test_one_loss_is_one_line_and_one_bounded_repair),
        S_T(test_implausible_gap_is_called_so),
        S_T(test_oversized_frame_is_dropped_and_the_link_survives),
        S_T(test_count_exits_zero_after_n),
        S_T(test_timeout_exits_three),
        S_T(test_timeout_restarts_with_each_alert),
        S_T(test_sigterm_prints_summary_and_exits_zero),
        S_T(test_sigterm_stops_while_stdout_reader_stalls),
        S_T(test_stalled_stdout_reader_does_not_stop_the_loop),
        S_T(test_probe_prints_heartbeat_and_exits_zero),
        S_T(test_probe_without_heartbeat_exits_three),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_bad_flags_exit_two_and_name_the_flag),
        S_T(test_unusable_state_log_or_hook_exit_two_naming_the_flag),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
