/*
 * newswire-sub against two real newswire-pub processes at once (loopback tcp), each with
 * its own journal, stream id and replay endpoint: per-stream look-back and catch-up, one
 * "caught up" line per stream, one "joined" line, and a --state file that holds both
 * streams; plus an old single-stream state file that still loads and resumes.
 *
 * Every wait is for an outcome (a log line, a line on standard output) with a deadline.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nw_testproc.h"

#define S_START_MS 20000 /* a process start or a log line, generous for sanitizers */
#define S_WATCH_MS 3000  /* heartbeats of both streams watched for flapping lines */

/* One tiny taxonomy for both publishers: "zebra" articles are tariffs. */
static const char s_taxonomy[] = "topic: tariffs\nthreshold: 1\n5: zebra\n";

typedef struct {
    char spool[1024];   /* DIR/spoolN */
    char journal[1024]; /* DIR/journalN */
    char ep[64];        /* alert endpoint */
    char rep[64];       /* replay endpoint */
    char stream[64];    /* its stream id, from "ready: stream S," */
    nw_testproc_t *proc;
} s_pub_t;

typedef struct {
    char *dir;          /* temporary folder */
    char tax[1024];     /* DIR/tax.conf */
    s_pub_t pub[2];     /* the two publishers */
    nw_testproc_t *sub; /* the subscriber under test */
} s_fx_t;

static int s_setup(void **state)
{
    s_fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_non_null(f->dir = nw_test_tmpdir("nw-streams"));
    snprintf(f->tax, sizeof f->tax, "%s/tax.conf", f->dir);
    assert_int_equal(nw_test_write_file(f->tax, s_taxonomy, strlen(s_taxonomy)), 0);
    for (int i = 0; i < 2; i++) {
        s_pub_t *p = &f->pub[i];
        snprintf(p->spool, sizeof p->spool, "%s/spool%d", f->dir, i);
        snprintf(p->journal, sizeof p->journal, "%s/journal%d", f->dir, i);
        int port = nw_test_free_port(), rport = nw_test_free_port();
        assert_true(port > 0 && rport > 0 && port != rport);
        snprintf(p->ep, sizeof p->ep, "tcp://127.0.0.1:%d", port);
        snprintf(p->rep, sizeof p->rep, "tcp://127.0.0.1:%d", rport);
    }
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx_t *f = *state;
    nw_testproc_destroy(&f->sub);
    for (int i = 0; i < 2; i++)
        nw_testproc_destroy(&f->pub[i].proc);
    nw_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void s_expect(nw_testproc_t *p, const char *needle, const char *what)
{
    if (!nw_testproc_wait_output(p, NW_TESTPROC_STDERR, needle, S_START_MS))
        fail_msg("%s never logged '%s'; stderr:\n%s", what, needle,
                 nw_testproc_output(p, NW_TESTPROC_STDERR));
}

/* Starts publisher i and reads its stream id. */
static void s_pub_start(s_fx_t *f, int i)
{
    s_pub_t *p = &f->pub[i];
    const char *argv[] = {NW_PUB_BIN, "--spool",     p->spool,        "--journal", p->journal,
                          "--bind",   p->ep,         "--replay-bind", p->rep,      "--topics",
                          f->tax,     "--heartbeat", "200",           NULL};
    assert_non_null(p->proc = nw_testproc_start(argv, NULL));
    s_expect(p->proc, "ready: stream ", "newswire-pub");
    const char *at = strstr(nw_testproc_output(p->proc, NW_TESTPROC_STDERR), "ready: stream ");
    assert_int_equal(sscanf(at, "ready: stream %63[^,]", p->stream), 1);
}

/* Publishes an article of two paragraphs through publisher i and waits until it is out. */
static void s_article(const s_fx_t *f, int i, const char *name)
{
    char text[256], tmp[2048], dst[2048], needle[256];
    int len = snprintf(text, sizeof text,
                       "Zebra report %s\n\nZebra first item of %s moves.\n\n"
                       "Zebra second item of %s moves.\n",
                       name, name, name);
    snprintf(tmp, sizeof tmp, "%s/%s", f->dir, name);
    snprintf(dst, sizeof dst, "%s/incoming/%s", f->pub[i].spool, name);
    assert_int_equal(nw_test_write_file(tmp, text, (size_t)len), 0);
    assert_int_equal(rename(tmp, dst), 0);
    snprintf(needle, sizeof needle, "published %s:", name);
    s_expect(f->pub[i].proc, needle, "newswire-pub");
}

/* Starts the subscriber on both publishers with extra args (NULL-terminated). */
static void s_sub_start(s_fx_t *f, const char *const *extra)
{
    const char *argv[32] = {NW_SUB_BIN, "-c",      f->pub[0].ep, "-c",      f->pub[1].ep,
                            "-t",       "tariffs", "--format",   "%r %q %m"};
    size_t n = 9;
    for (size_t i = 0; extra[i] != NULL && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    assert_non_null(f->sub = nw_testproc_start(argv, NULL));
}

/* Counts the subscriber's stderr lines holding both a and b. */
static size_t s_count2(nw_testproc_t *p, const char *a, const char *b)
{
    char needle[256];
    snprintf(needle, sizeof needle, "%s%s", a, b);
    return nw_testproc_count_lines(p, NW_TESTPROC_STDERR, needle);
}

static void s_stop_sub(s_fx_t *f)
{
    assert_int_equal(nw_testproc_signal(f->sub, SIGTERM), 0);
    int status = nw_testproc_wait_exit(f->sub, S_START_MS);
    if (status != 0)
        fail_msg("newswire-sub: status %d after SIGTERM; stderr:\n%s", status,
                 nw_testproc_output(f->sub, NW_TESTPROC_STDERR));
}

/* `-c A -c B -t tariffs --last 1`: each stream gets its own look-back (the last alert of
 * each), one "caught up" line each however the heartbeats interleave, and "joined" once.
 * (It used to flap between the streams: 13 "caught up" lines in 7 s, no look-back for the
 * second stream, and a false "the publisher restarted" warning.) */
static void test_two_publishers_each_get_their_look_back_once(void **state)
{
    s_fx_t *f = *state;
    s_pub_start(f, 0);
    s_pub_start(f, 1);
    s_article(f, 0, "a0.txt");
    s_article(f, 1, "b0.txt");
    s_sub_start(f, (const char *[]){"--last", "1", NULL});
    char line[256];
    for (int i = 0; i < 2; i++) {
        snprintf(line, sizeof line, "caught up: stream %s", f->pub[i].stream);
        s_expect(f->sub, line, "newswire-sub");
        snprintf(line, sizeof line, "%s ", f->pub[i].stream);
        if (!nw_testproc_wait_output(f->sub, NW_TESTPROC_STDOUT, line, S_START_MS))
            fail_msg("no look-back alert of stream %s on stdout:\n%s", f->pub[i].stream,
                     nw_testproc_output(f->sub, NW_TESTPROC_STDOUT));
    }
    s_expect(f->sub, "another publisher joined", "newswire-sub");
    /* Heartbeats of both streams every 200 ms meanwhile: nothing flaps. */
    nw_testproc_wait_output(f->sub, NW_TESTPROC_STDERR, "\x01 never printed", S_WATCH_MS);
    s_stop_sub(f);
    nw_testproc_t *s = f->sub;
    for (int i = 0; i < 2; i++) {
        const char *id = f->pub[i].stream;
        assert_int_equal(s_count2(s, "caught up: stream ", id), 1);
        assert_int_equal(s_count2(s, "replay: stream ", id), 1); /* its own look-back */
        snprintf(line, sizeof line, "%s ", id);
        assert_int_equal(nw_testproc_count_lines(s, NW_TESTPROC_STDOUT, line), 1); /* --last 1 */
    }
    assert_int_equal(nw_testproc_count_lines(s, NW_TESTPROC_STDERR, "another publisher joined"), 1);
    assert_int_equal(nw_testproc_count_lines(s, NW_TESTPROC_STDERR, "restarted"), 0);
    assert_int_equal(nw_testproc_count_lines(s, NW_TESTPROC_STDERR, "new to the state"), 0);
}

/* --state with two publishers: both streams resume from the state file after a restart,
 * each from its own journal, nothing twice. */
static void test_state_holds_and_resumes_both_streams(void **state)
{
    s_fx_t *f = *state;
    char path[2048];
    snprintf(path, sizeof path, "%s/sub.state", f->dir);
    s_pub_start(f, 0);
    s_pub_start(f, 1);
    const char *const args[] = {"--state", path, "--on-new-stream", "beginning", NULL};
    s_article(f, 0, "a0.txt");
    s_article(f, 1, "b0.txt");
    s_sub_start(f, args);
    assert_true(nw_testproc_wait_lines(f->sub, NW_TESTPROC_STDOUT, 6, S_START_MS));
    s_stop_sub(f);
    char *text = nw_test_read_file(path, NULL);
    assert_non_null(text);
    for (int i = 0; i < 2; i++) {
        char rec[128];
        snprintf(rec, sizeof rec, "stream %s floor ", f->pub[i].stream);
        if (strstr(text, rec) == NULL)
            fail_msg("the state file lacks '%s':\n%s", rec, text);
    }
    free(text);
    nw_testproc_destroy(&f->sub);
    /* While it is away, each publisher publishes one more article. */
    s_article(f, 0, "a1.txt");
    s_article(f, 1, "b1.txt");
    s_sub_start(f, args);
    assert_true(nw_testproc_wait_lines(f->sub, NW_TESTPROC_STDOUT, 6, S_START_MS));
    for (int i = 0; i < 2; i++) {
        char line[256];
        snprintf(line, sizeof line, "caught up: stream %s", f->pub[i].stream);
        s_expect(f->sub, line, "newswire-sub");
    }
    s_stop_sub(f);
    const char *out = nw_testproc_output(f->sub, NW_TESTPROC_STDOUT);
    assert_int_equal(nw_testproc_count_lines(f->sub, NW_TESTPROC_STDOUT, ""), 6);
    assert_null(strstr(out, "a0.txt")); /* nothing of before the restart again */
    assert_null(strstr(out, "b0.txt"));
    assert_int_equal(nw_testproc_count_lines(f->sub, NW_TESTPROC_STDOUT, "a1.txt"), 3);
    assert_int_equal(nw_testproc_count_lines(f->sub, NW_TESTPROC_STDOUT, "b1.txt"), 3);
}

/* A state file written by an earlier newswire-sub (tests/data/state-v1-one-stream.state:
 * one stream, its floor, a done range, a topic) still loads: the subscriber resumes that
 * stream from floor + 1 instead of refusing the file or starting over. */
static void test_old_single_stream_state_file_loads_and_resumes(void **state)
{
    s_fx_t *f = *state;
    s_pub_start(f, 0);
    s_article(f, 0, "a0.txt"); /* seqs 1-3 */
    s_article(f, 0, "a1.txt"); /* seqs 4-6 */
    char *old = nw_test_read_file(NW_TEST_DATA_DIR "/state-v1-one-stream.state", NULL);
    assert_non_null(old);
    /* The committed file names stream 0123456789abcdef; give it this publisher's id. */
    char text[1024], path[2048];
    const char *at = strstr(old, "0123456789abcdef");
    assert_non_null(at);
    size_t len = 0;
    for (const char *c = old; *c != '\0' && len < sizeof text - 64;) {
        if (strncmp(c, "0123456789abcdef", 16) == 0) {
            len += (size_t)snprintf(text + len, sizeof text - len, "%s", f->pub[0].stream);
            c += 16;
        } else {
            text[len++] = *c++;
        }
    }
    free(old);
    snprintf(path, sizeof path, "%s/old.state", f->dir);
    assert_int_equal(nw_test_write_file(path, text, len), 0);
    s_sub_start(f, (const char *[]){"--state", path, NULL});
    char line[256];
    snprintf(line, sizeof line, "replay: stream %s from seq 4", f->pub[0].stream);
    s_expect(f->sub, line, "newswire-sub");
    assert_true(nw_testproc_wait_lines(f->sub, NW_TESTPROC_STDOUT, 3, S_START_MS));
    s_stop_sub(f);
    assert_int_equal(nw_testproc_count_lines(f->sub, NW_TESTPROC_STDOUT, "a1.txt"), 3);
    assert_int_equal(nw_testproc_count_lines(f->sub, NW_TESTPROC_STDOUT, "a0.txt"), 0);
}

int main(void)
{
#define S_T(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        S_T(test_two_publishers_each_get_their_look_back_once),
        S_T(test_state_holds_and_resumes_both_streams),
        S_T(test_old_single_stream_state_file_loads_and_resumes),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
