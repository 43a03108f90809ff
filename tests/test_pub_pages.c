/*
 * Process-level tests of web pages and ninjs in newswire-pub: the real binary with a real
 * spool on 127.0.0.1 ephemeral ports, a SUB socket here decoding what it publishes. Our own
 * example pages (tests/data/html, tests/data/ninjs). Every wait is for a log line, a file or
 * a message, with a deadline.
 */
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
#include "nw_buf.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_testproc.h"
#include "nw_topic.h"

#define S_WAIT_MS   10000 /* generous for sanitizer builds on a busy machine */
#define HARBOR_PAGE NW_TEST_DATA_DIR "/html/harbor-steel.html"
#define NO_ARTICLE  NW_TEST_DATA_DIR "/html/no-article.html"
#define WIRE_2X     NW_TEST_DATA_DIR "/ninjs/harbor-wire-2x.json"

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
    assert_non_null(f->dir = nw_test_tmpdir("nw-pages"));
    snprintf(f->spool, sizeof f->spool, "%s/spool", f->dir);
    snprintf(f->journal, sizeof f->journal, "%s/journal", f->dir);
    assert_non_null(f->zctx = zmq_ctx_new());
    *state = f;
    return 0;
}

static void s_dump(nw_testproc_t *proc)
{
    if (proc != NULL)
        fprintf(stderr, "--- newswire-pub stderr ---\n%s---\n",
                nw_testproc_output(proc, NW_TESTPROC_STDERR));
}

/* A daemon left running must stop on SIGTERM with exit 0 (no sanitizer report either). */
static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    int rc = 0;
    if (f->pub != NULL && nw_testproc_signal(f->pub, SIGTERM) == 0) {
        int status = nw_testproc_wait_exit(f->pub, S_WAIT_MS);
        if (status != 0) {
            s_dump(f->pub);
            fprintf(stderr, "newswire-pub: exit %d after SIGTERM\n", status);
            rc = -1;
        }
    }
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

static void s_start(s_fixture_t *f)
{
    const char *argv[] = {NW_PUB_BIN, "--spool",           f->spool,        "--journal", f->journal,
                          "--bind",   "tcp://127.0.0.1:*", "--replay-bind", "none",      NULL};
    assert_non_null(f->pub = nw_testproc_start(argv, NULL));
    s_expect_log(f->pub, "ready: stream ");
    const char *at =
        strstr(nw_testproc_output(f->pub, NW_TESTPROC_STDERR), "listening on tcp://127.0.0.1:");
    assert_non_null(at);
    f->port = atoi(at + strlen("listening on tcp://127.0.0.1:"));
    assert_true(f->port > 0);
}

static void s_subscribe(s_fixture_t *f)
{
    char endpoint[64];
    assert_non_null(f->sub = zmq_socket(f->zctx, ZMQ_SUB));
    assert_int_equal(zmq_setsockopt(f->sub, ZMQ_SUBSCRIBE, "", 0), 0);
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", f->port);
    assert_int_equal(zmq_connect(f->sub, endpoint), 0);
    s_expect_log(f->pub, "subscriber subscribed to ''");
}

/* Drops an article the maildir way: a dotfile in incoming/, renamed to name. */
static void s_drop(s_fixture_t *f, const char *name, const char *data, size_t len)
{
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/incoming/.%s.tmp", f->spool, name);
    snprintf(path, sizeof path, "%s/incoming/%s", f->spool, name);
    assert_int_equal(nw_test_write_file(tmp, data, len), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void s_drop_file(s_fixture_t *f, const char *name, const char *source)
{
    size_t len = 0;
    char *data = nw_test_read_file(source, &len);
    assert_non_null(data);
    s_drop(f, name, data, len);
    free(data);
}

static bool s_wait_file(const char *dir, const char *sub, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    for (int waited = 0; waited < S_WAIT_MS; waited += 10) {
        if (stat(path, &st) == 0)
            return true;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
    }
    return stat(path, &st) == 0;
}

/* Waits for failed/NAME and checks that NAME.error is one line naming it and saying why. */
static void s_expect_failed(s_fixture_t *f, const char *name, const char *why)
{
    char path[4096];
    if (!s_wait_file(f->spool, "failed", name)) {
        s_dump(f->pub);
        fail_msg("%s never reached failed/", name);
    }
    snprintf(path, sizeof path, "%s/failed/%s.error", f->spool, name);
    char *text = NULL;
    for (int waited = 0; text == NULL && waited < S_WAIT_MS; waited += 10) {
        if ((text = nw_test_read_file(path, NULL)) == NULL)
            nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
    }
    assert_non_null(text);
    if (strstr(text, name) == NULL || strstr(text, why) == NULL)
        fail_msg("%s.error says '%s'; want the name and '%s'", name, text, why);
    assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
    free(text);
}

/* Receives alerts until one with title has been seen with a text containing want. */
static void s_expect_alert(s_fixture_t *f, const char *title, const char *want)
{
    for (int i = 0; i < 1000; i++) {
        zmq_pollitem_t item = {.socket = f->sub, .events = ZMQ_POLLIN};
        if (zmq_poll(&item, 1, S_WAIT_MS) <= 0)
            break;
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        zmq_msg_init(&body);
        assert_true(zmq_msg_recv(&topic, f->sub, 0) >= 0);
        assert_true(zmq_msg_recv(&body, f->sub, 0) >= 0);
        nw_alert_t alert;
        bool found = false;
        if (!nw_topic_is_control(zmq_msg_data(&topic), zmq_msg_size(&topic)) &&
            nw_alert_decode(zmq_msg_data(&body), zmq_msg_size(&body), &alert) == NW_OK) {
            assert_null(strstr(alert.text, "<")); /* no markup ever reaches the wire */
            found = strcmp(alert.title, title) == 0 && strstr(alert.text, want) != NULL;
            nw_alert_clear(&alert);
        }
        zmq_msg_close(&topic);
        zmq_msg_close(&body);
        if (found)
            return;
    }
    s_dump(f->pub);
    fail_msg("no alert of '%s' said '%s'", title, want);
}

static void test_page_and_ninjs_in_the_spool_are_published(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    s_subscribe(f);
    /* No .html or .json in the names: both are recognised by their content. */
    s_drop_file(f, "a-page", HARBOR_PAGE);
    s_expect_log(f->pub, "published a-page: ");
    s_expect_alert(f, "Harbor Nations Cut Steel Tariffs", "ending a trade dispute");
    s_drop_file(f, "b-wire", WIRE_2X);
    s_expect_log(f->pub, "published b-wire: ");
    s_expect_alert(f, "Harbor nations agree to lower duties on metal", "stages over the coming");
    assert_true(s_wait_file(f->spool, "done", "a-page"));
    assert_true(s_wait_file(f->spool, "done", "b-wire"));
}

static void test_bad_pages_fail_with_a_reason_and_others_flow(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    s_subscribe(f);

    /* 50 MB: a page header, then a sparse file; refused by the size limit unread. */
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/incoming/.huge.tmp", f->spool);
    snprintf(path, sizeof path, "%s/incoming/c-huge.html", f->spool);
    static const char head[] = "<!DOCTYPE html><html><body><p>";
    assert_int_equal(nw_test_write_file(tmp, head, strlen(head)), 0);
    assert_int_equal(truncate(tmp, 50L << 20), 0);
    assert_int_equal(rename(tmp, path), 0);

    nw_buf_t bomb = {0};
    assert_int_equal(nw_buf_append_str(&bomb, "<!DOCTYPE html [<!ENTITY a \"aaaaaaaaaa\">"), NW_OK);
    for (int i = 1; i <= 9; i++) {
        assert_int_equal(nw_buf_printf(&bomb, "<!ENTITY a%d \"", i), NW_OK);
        for (int k = 0; k < 10; k++)
            assert_int_equal(i == 1 ? nw_buf_append_str(&bomb, "&a;")
                                    : nw_buf_printf(&bomb, "&a%d;", i - 1),
                             NW_OK);
        assert_int_equal(nw_buf_append_str(&bomb, "\">"), NW_OK);
    }
    assert_int_equal(nw_buf_append_str(&bomb, "]><html><body><p>&a9;&a9;&a9;</p></body></html>"),
                     NW_OK);

    static const char bad_json[] = "{\"headline\": \"Cut short\", \"body_text\": \"no end";
    static const char no_body[] = "{\"uri\": \"urn:x:1\", \"type\": \"text\", "
                                  "\"headline\": \"Only a headline\"}";
    static const char truncated[] =
        "<!DOCTYPE html><html><head><title>Cut short</title></head><body><article><h1>Cut short"
        "</h1><p>The first paragraph of this page arrived whole, with a full stop and all, before "
        "the connection dropped, and the daemon publishes what it has.<p>The second one was cut "
        "off in the middle of a <a href=\"/x";
    s_drop_file(f, "a-no-article.html", NO_ARTICLE);
    s_drop(f, "b-bomb.html", bomb.data, bomb.len);
    s_drop(f, "d-bad.json", bad_json, strlen(bad_json));
    s_drop(f, "e-no-body.json", no_body, strlen(no_body));
    s_drop(f, "f-truncated.html", truncated, strlen(truncated));
    s_drop_file(f, "g-good.html", HARBOR_PAGE);
    nw_buf_free(&bomb);

    s_expect_failed(f, "a-no-article.html", "no article in the page");
    s_expect_failed(f, "b-bomb.html", "DOCTYPE declares entities");
    s_expect_failed(f, "c-huge.html", "over the size limit");
    s_expect_failed(f, "d-bad.json", "ninjs: not valid JSON at line 1");
    s_expect_failed(f, "e-no-body.json", "ninjs: no body text");
    s_expect_log(f->pub, "published f-truncated.html: ");
    s_expect_log(f->pub, "published g-good.html: ");
    s_expect_alert(f, "Harbor Nations Cut Steel Tariffs", "asked for a review clause");
    assert_true(s_wait_file(f->spool, "done", "f-truncated.html"));
}

/* Runs newswire-pub with args (NULL-terminated) to its end; returns the process. */
static nw_testproc_t *s_run(const char *const *args, int *status)
{
    const char *argv[16] = {NW_PUB_BIN};
    size_t n = 1;
    for (size_t i = 0; args[i] != NULL && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    nw_testproc_t *proc = nw_testproc_start(argv, NULL);
    assert_non_null(proc);
    *status = nw_testproc_wait_exit(proc, S_WAIT_MS);
    return proc;
}

static void test_extract_prints_the_article_untagged(void **state)
{
    (void)state;
    int status;
    nw_testproc_t *proc = s_run((const char *[]){"--extract", HARBOR_PAGE, NULL}, &status);
    assert_int_equal(status, 0);
    const char *out = nw_testproc_output(proc, NW_TESTPROC_STDOUT);
    assert_non_null(strstr(out, "title: Harbor Nations Cut Steel Tariffs\n"));
    assert_non_null(strstr(out, "author: Dana Reyes, Omar Lind\n"));
    assert_non_null(strstr(out, "time: 2026-03-05T13:30:00Z\n"));
    assert_non_null(strstr(out, "url: https://ledger.example/2026/03/harbor-steel-tariffs\n"));
    assert_non_null(strstr(out, "section: World\n"));
    assert_non_null(strstr(out, "\n## What changes for importers\n"));
    assert_non_null(strstr(out, "\n- Tariffs on steel imports fall from 25% to 10%.\n"));
    assert_null(strstr(out, "topics"));
    nw_testproc_destroy(&proc);

    proc = s_run((const char *[]){"--extract", "--format", "json", WIRE_2X, NULL}, &status);
    assert_int_equal(status, 0);
    out = nw_testproc_output(proc, NW_TESTPROC_STDOUT);
    assert_non_null(strstr(out, "{\"title\":\"Harbor nations agree to lower duties on metal\""));
    assert_non_null(strstr(out, "\"subjects\":[\"medtop:20000384\"]"));
    assert_non_null(strstr(out, "{\"kind\":\"heading\",\"text\":\"Stages\"}"));
    assert_non_null(strstr(out, "\"body\":[\"Two harbor nations"));
    nw_testproc_destroy(&proc);

    proc = s_run((const char *[]){"--extract", NO_ARTICLE, NULL}, &status);
    assert_int_equal(status, 1);
    assert_non_null(strstr(nw_testproc_output(proc, NW_TESTPROC_STDERR), "no-article.html: no "
                                                                         "article in the page"));
    nw_testproc_destroy(&proc);

    proc = s_run((const char *[]){"--format", "json", "--dry-run", HARBOR_PAGE, NULL}, &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(nw_testproc_output(proc, NW_TESTPROC_STDERR), "--format applies to "
                                                                         "--extract only"));
    nw_testproc_destroy(&proc);

    proc =
        s_run((const char *[]){"--extract", "--html-rules", "/nonexistent.conf", HARBOR_PAGE, NULL},
              &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(nw_testproc_output(proc, NW_TESTPROC_STDERR), "--html-rules "
                                                                         "/nonexistent.conf"));
    nw_testproc_destroy(&proc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_page_and_ninjs_in_the_spool_are_published, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_pages_fail_with_a_reason_and_others_flow, s_setup,
                                        s_teardown),
        cmocka_unit_test(test_extract_prints_the_article_untagged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
