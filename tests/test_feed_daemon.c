/*
 * Feeds through the real daemon: newswire-pub --feed against tests/feed_server.py on
 * 127.0.0.1. A feed's items come out as alerts carrying their link (url), author and date
 * at the first poll; after a restart nothing is sent again, and only a new item goes out.
 * An unreachable feed next to it keeps the daemon running and the other feed flowing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "nw_alert.h"
#include "nw_error.h"
#include "nw_testpub.h"

#define S_WAIT_MS 30000

static const char s_feed[] =
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    "<rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content/'\n"
    "     xmlns:dc='http://purl.org/dc/elements/1.1/'><channel><title>Harbor Ledger</title>\n"
    "%s%s"
    "</channel></rss>\n";

static const char s_item1[] =
    "<item><title>Port strike ends after three days</title>\n"
    "  <link>http://news.example/port-strike</link><guid>urn:hl:1</guid>\n"
    "  <pubDate>Mon, 07 Dec 2026 01:00:00 GMT</pubDate><dc:creator>R. Okafor</dc:creator>\n"
    "  <content:encoded><![CDATA[<p>Dock workers returned to the port on Monday after a "
    "three-day strike over pay.</p><p>Ships began unloading containers at dawn.</p>]]>"
    "</content:encoded></item>\n";

static const char s_item2[] =
    "<item><title>Rail freight volumes rebound</title>\n"
    "  <link>http://news.example/rail</link><guid>urn:hl:2</guid>\n"
    "  <content:encoded>&lt;p&gt;Rail freight volumes rose for a second week as ports "
    "reopened.&lt;/p&gt;</content:encoded></item>\n";

typedef struct {
    nw_testproc_t *server;
    char *www;
    int port;
    nw_testpub_t *pub;
} s_fx_t;

static void s_serve(s_fx_t *fx, const char *item1, const char *item2)
{
    char doc[4096], path[1024], tmp[1100];
    snprintf(doc, sizeof doc, s_feed, item2, item1);
    snprintf(path, sizeof path, "%s/feed.xml", fx->www);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(nw_test_write_file(tmp, doc, strlen(doc)), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static int s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    assert_non_null(fx->www = nw_test_tmpdir("nw-feed-www"));
    const char *argv[] = {"/usr/bin/python3", NW_FEED_SERVER, fx->www, NULL};
    assert_non_null(fx->server = nw_testproc_start(argv, NULL));
    assert_true(nw_testproc_wait_lines(fx->server, NW_TESTPROC_STDOUT, 1, 10000));
    const char *port = strstr(nw_testproc_output(fx->server, NW_TESTPROC_STDOUT), "PORT ");
    assert_non_null(port);
    fx->port = atoi(port + 5);
    assert_non_null(fx->pub = nw_testpub_new(NW_PUB_BIN));
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx_t *fx = *state;
    int status = nw_testpub_stop(fx->pub);
    nw_testpub_destroy(&fx->pub);
    nw_testproc_destroy(&fx->server);
    nw_test_rmtree(fx->www);
    free(fx->www);
    free(fx);
    return status == 0 ? 0 : -1;
}

static void s_start_pub(s_fx_t *fx, char *feed_url, char *dead_url)
{
    snprintf(feed_url, 128, "http://127.0.0.1:%d/feed.xml", fx->port);
    snprintf(dead_url, 128, "http://127.0.0.1:%d/feed.xml", nw_test_free_port());
    const char *extra[] = {"--feed", feed_url, "--feed", dead_url, "--feed-interval", "1s", NULL};
    assert_true(nw_testpub_start(fx->pub, extra));
}

static void s_next(s_fx_t *fx, nw_alert_t *a)
{
    if (!nw_testpub_next(fx->pub, a, S_WAIT_MS)) {
        nw_testpub_dump(fx->pub);
        fail_msg("no alert within %d ms", S_WAIT_MS);
    }
}

static void test_feed_items_become_alerts_with_url_once_across_restarts(void **state)
{
    s_fx_t *fx = *state;
    char feed_url[128], dead_url[128];
    char needle[256];
    s_serve(fx, "", "");
    s_start_pub(fx, feed_url, dead_url);
    /* Subscribed, and the feed polled empty: now an item appears in it. */
    snprintf(needle, sizeof needle, "feed %s: 0 items, 0 new", feed_url);
    assert_true(nw_testpub_wait_log(fx->pub, needle, 1, S_WAIT_MS));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s_serve(fx, s_item1, "");
    nw_alert_t a[3];
    for (size_t i = 0; i < 3; i++) /* headline and two paragraphs */
        s_next(fx, &a[i]);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("first alert %ld ms after the item appeared in the feed (poll interval 1000 ms)\n",
           (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
    assert_string_equal(a[0].text, "Port strike ends after three days");
    assert_string_equal(a[2].text, "Ships began unloading containers at dawn.");
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(a[i].url, "http://news.example/port-strike");
        assert_string_equal(a[i].author, "R. Okafor");
        assert_true(a[i].article_time_ms == 1796605200000LL);
        assert_int_equal(a[i].revision, 1);
        nw_alert_clear(&a[i]);
    }
    /* The unreachable feed is reported and retried; the daemon goes on. */
    snprintf(needle, sizeof needle, "feed %s: Failed to connect", dead_url);
    assert_true(nw_testpub_wait_log(fx->pub, needle, 1, S_WAIT_MS));
    assert_true(nw_testpub_wait_log(fx->pub, "published http://news.example/port-strike: 3 alerts",
                                    1, S_WAIT_MS));

    /* Restart: the item is remembered, nothing goes out again. */
    assert_int_equal(nw_testpub_stop(fx->pub), 0);
    s_start_pub(fx, feed_url, dead_url);
    snprintf(needle, sizeof needle, "feed %s: 1 items, 0 new", feed_url);
    assert_true(nw_testpub_wait_log(fx->pub, needle, 1, S_WAIT_MS));
    /* A new item: the next alert received is its headline, so nothing came before it. */
    s_serve(fx, s_item1, s_item2);
    s_next(fx, &a[0]);
    assert_string_equal(a[0].text, "Rail freight volumes rebound");
    assert_string_equal(a[0].url, "http://news.example/rail");
    nw_alert_clear(&a[0]);
    s_next(fx, &a[1]);
    assert_string_equal(a[1].url, "http://news.example/rail");
    nw_alert_clear(&a[1]);
    snprintf(needle, sizeof needle, "feed %s: 2 items, 1 new", feed_url);
    assert_true(nw_testpub_wait_log(fx->pub, needle, 1, S_WAIT_MS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_feed_items_become_alerts_with_url_once_across_restarts,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
