/*
 * Feeds: the parser (publisher/feed/nw_feed_parse), the remembered items (nw_feed_seen),
 * the feeds file, and the poller (nw_feeds) on a real libuv loop against a local HTTP
 * server (tests/feed_server.py on 127.0.0.1) serving feeds written here: a feed that
 * changes between polls, a 304, a 500, a slow server, a redirect loop, a 50 MB body,
 * malformed XML, an entity bomb and a refused connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <uv.h>

#include "nw_error.h"
#include "nw_feed_parse.h"
#include "nw_feed_seen.h"
#include "nw_feeds.h"
#include "nw_testproc.h"

#define S_WAIT_MS 60000 /* a bounded wait for what must happen: generous on a loaded machine */

/* ---------------------------------------------------------------- documents */

static const char s_rss_v1[] =
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    "<rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content/'\n"
    "     xmlns:dc='http://purl.org/dc/elements/1.1/'>\n"
    "<channel><title>Harbor Ledger</title>\n"
    "<item><title>Port strike ends after three days</title>\n"
    "  <link>http://news.example/port-strike</link><guid>urn:hl:1</guid>\n"
    "  <pubDate>Mon, 07 Dec 2026 01:00:00 GMT</pubDate><dc:creator>R. Okafor</dc:creator>\n"
    "  <content:encoded><![CDATA[<p>Dock workers returned on Monday.</p>"
    "<script>track()</script><p>Ships began <b>unloading</b> at dawn.</p>]]></content:encoded>\n"
    "</item>\n"
    "<item><title>Grain prices fall</title><link>http://news.example/grain</link>\n"
    "  <guid>urn:hl:2</guid>\n"
    "  <content:encoded>&lt;p&gt;Wheat futures fell 3%% on Monday.&lt;/p&gt;</content:encoded>\n"
    "</item>\n"
    "%s"
    "</channel></rss>\n";

static const char s_rss_item3[] =
    "<item><title>Rail freight rebounds</title><link>http://news.example/rail</link>\n"
    "  <guid>urn:hl:3</guid>\n"
    "  <content:encoded>&lt;p&gt;Rail freight volumes rose for a second week.&lt;/p&gt;"
    "</content:encoded>\n"
    "</item>\n";

static const char s_atom[] =
    "<?xml version='1.0' encoding='utf-8'?>\n"
    "<feed xmlns='http://www.w3.org/2005/Atom'><title>Example Wire</title>\n"
    "<entry><title>Central bank holds rates</title><id>tag:example.org,2026:1</id>\n"
    "  <link rel='alternate' href='http://wire.example/rates'/>\n"
    "  <link rel='self' href='http://wire.example/rates.atom'/>\n"
    "  <published>2026-12-07T01:02:03.500+01:00</published>\n"
    "  <author><name>A. Writer</name></author>\n"
    "  <content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>The bank kept its "
    "rate at 4%.</p><p>Markets had expected it.</p></div></content>\n"
    "</entry>\n"
    "<entry><title>Escaped HTML</title><id>tag:example.org,2026:2</id>\n"
    "  <updated>2026-12-07T00:00:00Z</updated>\n"
    "  <content type='html'>&lt;p&gt;One &amp;amp; two.&lt;/p&gt;</content>\n"
    "</entry>\n"
    "<entry><title>Summary only</title><id>tag:example.org,2026:3</id>\n"
    "  <link href='http://wire.example/summary'/><summary>Short.</summary>\n"
    "</entry>\n"
    "</feed>\n";

static const char s_bomb[] =
    "<?xml version='1.0'?>\n"
    "<!DOCTYPE lolz [\n"
    " <!ENTITY lol 'lol'>\n"
    " <!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>\n"
    " <!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>\n"
    " <!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>\n"
    " <!ENTITY lol4 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>\n"
    " <!ENTITY lol5 '&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;'>\n"
    " <!ENTITY lol6 '&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;'>\n"
    " <!ENTITY lol7 '&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;'>\n"
    " <!ENTITY lol8 '&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;'>\n"
    " <!ENTITY lol9 '&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;'>\n"
    "]>\n"
    "<rss version='2.0'><channel><item><title>&lol9;</title>"
    "<guid>x</guid></item></channel></rss>\n";

static const char s_malformed[] = "<rss version='2.0'><channel><item><title>Broken</channel>";

static const char s_page[] =
    "<!DOCTYPE html><html><head><title>Oil</title><script>var x = 1;</script></head>\n"
    "<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>\n"
    "<article><h1>Oil output cut</h1><p>Producers agreed to cut output by 2%.</p>\n"
    "<figure><img src='a.jpg'><figcaption>A rig at sea.</figcaption></figure>\n"
    "<p>Prices rose on the news.</p></article><footer>Copyright</footer></body></html>\n";

static const char s_rss_link_only[] =
    "<rss version='2.0'><channel><item><title>Oil output cut</title>\n"
    "<link>http://127.0.0.1:%d/page1.html</link><guid>urn:oil:1</guid>\n"
    "<description>Short teaser.</description></item></channel></rss>\n";

/* ---------------------------------------------------------------- parser */

static void test_rss_items_with_content_and_metadata(void **state)
{
    (void)state;
    char doc[4096], err[512];
    snprintf(doc, sizeof doc, s_rss_v1, "");
    nw_feed_item_t *items;
    size_t n;
    assert_int_equal(nw_feed_parse(doc, strlen(doc), "t.xml", &items, &n, err, sizeof err), NW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(items[0].guid, "urn:hl:1");
    assert_string_equal(items[0].title, "Port strike ends after three days");
    assert_string_equal(items[0].link, "http://news.example/port-strike");
    assert_string_equal(items[0].author, "R. Okafor");
    assert_true(items[0].published_ms == 1796605200000LL); /* 2026-12-07T01:00:00Z */
    assert_string_equal(items[0].content,
                        "Dock workers returned on Monday.\n\nShips began unloading at dawn.");
    assert_string_equal(items[1].content, "Wheat futures fell 3% on Monday.");
    assert_true(items[0].hash != items[1].hash);
    nw_feed_items_free(&items, n);
}

static void test_atom_entries_by_content_type(void **state)
{
    (void)state;
    char err[512];
    nw_feed_item_t *items;
    size_t n;
    assert_int_equal(nw_feed_parse(s_atom, strlen(s_atom), "a.xml", &items, &n, err, sizeof err),
                     NW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(items[0].link, "http://wire.example/rates");
    assert_string_equal(items[0].author, "A. Writer");
    assert_string_equal(items[0].content,
                        "The bank kept its rate at 4%.\n\nMarkets had expected it.");
    assert_true(items[0].published_ms == 1796601723500LL); /* 00:02:03.5Z */
    assert_string_equal(items[1].content, "One & two.");
    assert_string_equal(items[1].link, "");
    assert_null(items[2].content); /* summary only: the page is fetched */
    nw_feed_items_free(&items, n);
}

static void test_entity_bomb_is_refused(void **state)
{
    (void)state;
    char err[512] = "";
    nw_feed_item_t *items;
    size_t n;
    assert_int_equal(nw_feed_parse(s_bomb, strlen(s_bomb), "bomb.xml", &items, &n, err, sizeof err),
                     NW_ERR_INVAL);
    printf("entity bomb: %s\n", err);
    assert_non_null(strstr(err, "bomb.xml: "));
    assert_int_equal(n, 0);
}

static void test_malformed_and_foreign_documents_are_refused(void **state)
{
    (void)state;
    char err[512];
    nw_feed_item_t *items;
    size_t n;
    assert_int_equal(
        nw_feed_parse(s_malformed, strlen(s_malformed), "m.xml", &items, &n, err, sizeof err),
        NW_ERR_INVAL);
    assert_non_null(strstr(err, "m.xml: not well-formed XML (line 1)"));
    const char html[] = "<html><body>hi</body></html>";
    assert_int_equal(nw_feed_parse(html, strlen(html), "h", &items, &n, err, sizeof err),
                     NW_ERR_INVAL);
    assert_non_null(strstr(err, "not an RSS 2.0 or Atom 1.0 feed (root element <html>)"));
    assert_int_equal(nw_feed_parse("", 0, "e", &items, &n, err, sizeof err), NW_ERR_INVAL);
}

/* ---------------------------------------------------------------- seen, list */

static void test_seen_items_survive_a_restart(void **state)
{
    (void)state;
    char *dir = nw_test_tmpdir("nw-feeds-seen");
    char warn[256], err[256];
    nw_feed_seen_t *s = NULL;
    assert_int_equal(nw_feed_seen_open(dir, &s, warn, sizeof warn, err, sizeof err), NW_OK);
    assert_int_equal(nw_feed_seen_add(s, "http://a/feed", "guid with space", 7), NW_OK);
    assert_int_equal(nw_feed_seen_add(s, "http://b/feed", "g2", 8), NW_OK);
    assert_int_equal(nw_feed_seen_save(s, err, sizeof err), NW_OK);
    nw_feed_seen_destroy(&s);
    assert_int_equal(nw_feed_seen_open(dir, &s, warn, sizeof warn, err, sizeof err), NW_OK);
    assert_string_equal(warn, "");
    assert_true(nw_feed_seen_has(s, "http://a/feed", "guid with space", 7));
    assert_false(nw_feed_seen_has(s, "http://a/feed", "guid with space", 8)); /* changed */
    assert_false(nw_feed_seen_has(s, "http://a/feed", "g2", 8));              /* other feed */
    const char *keep[] = {"nothing"};
    nw_feed_seen_retain(s, "http://a/feed", keep, 1);
    assert_int_equal(nw_feed_seen_count(s), 1);
    nw_feed_seen_destroy(&s);
    nw_test_rmtree(dir);
    free(dir);
}

/* A seen-set that cannot be read is an error that names it: loading half of it would make
 * the next poll publish the items again. */
static void test_unreadable_seen_set_is_an_error_naming_it(void **state)
{
    (void)state;
    char *dir = nw_test_tmpdir("nw-feeds-seen");
    char path[1024], warn[256], err[256] = "";
    snprintf(path, sizeof path, "%s/feeds.seen", dir);
    assert_int_equal(mkdir(path, 0700), 0); /* opens for reading; every read fails (EISDIR) */
    nw_feed_seen_t *s = NULL;
    assert_int_not_equal(nw_feed_seen_open(dir, &s, warn, sizeof warn, err, sizeof err), NW_OK);
    assert_null(s);
    if (!strstr(err, "feeds.seen: cannot read"))
        fail_msg("error '%s' does not name the file and the read", err);
    nw_test_rmtree(dir);
    free(dir);
}

static void test_feeds_file_names_the_bad_line(void **state)
{
    (void)state;
    char *dir = nw_test_tmpdir("nw-feeds-list");
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/feeds", dir);
    const char good[] = "# feeds\n\nhttp://a.example/rss 90s\nhttps://b.example/atom\n";
    assert_int_equal(nw_test_write_file(path, good, strlen(good)), 0);
    nw_feed_source_t *list;
    size_t n;
    assert_int_equal(nw_feeds_list_load(path, &list, &n, err, sizeof err), NW_OK);
    assert_int_equal(n, 2);
    assert_true(list[0].interval_ms == 90000);
    assert_true(list[1].interval_ms == 0);
    nw_feeds_list_free(&list, n);
    const char bad[] = "http://a.example/rss\nftp://b.example/x\n";
    assert_int_equal(nw_test_write_file(path, bad, strlen(bad)), 0);
    assert_int_equal(nw_feeds_list_load(path, &list, &n, err, sizeof err), NW_ERR_CONFIG);
    assert_non_null(strstr(err, "/feeds:2: "));
    assert_non_null(strstr(err, "only http:// and https://"));
    nw_test_rmtree(dir);
    free(dir);
}

/* ---------------------------------------------------------------- poller */

typedef struct {
    nw_testproc_t *server; /* feed_server.py */
    int port;              /* where it listens */
    char *dir;             /* what it serves */
    char *state;           /* the poller's state folder */
    uv_loop_t loop;
    nw_feeds_t *feeds;
    char guids[16][64];  /* articles handed over, by guid */
    char texts[16][512]; /* and their text */
    char links[16][256];
    size_t n_articles;
} s_fx_t;

static int s_on_article(void *arg, const nw_feed_article_t *a)
{
    s_fx_t *fx = arg;
    if (fx->n_articles < 16) {
        snprintf(fx->guids[fx->n_articles], sizeof fx->guids[0], "%s", a->guid);
        snprintf(fx->texts[fx->n_articles], sizeof fx->texts[0], "%.*s", (int)a->len, a->text);
        snprintf(fx->links[fx->n_articles], sizeof fx->links[0], "%s", a->link);
    }
    fx->n_articles++;
    return NW_OK;
}

static int s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    assert_non_null(fx->dir = nw_test_tmpdir("nw-feeds-www"));
    assert_non_null(fx->state = nw_test_tmpdir("nw-feeds-state"));
    const char *argv[] = {"/usr/bin/python3", NW_FEED_SERVER, fx->dir, NULL};
    assert_non_null(fx->server = nw_testproc_start(argv, NULL));
    assert_true(nw_testproc_wait_output(fx->server, NW_TESTPROC_STDOUT, "PORT ", 10000));
    assert_true(nw_testproc_wait_lines(fx->server, NW_TESTPROC_STDOUT, 1, 10000));
    fx->port = atoi(strstr(nw_testproc_output(fx->server, NW_TESTPROC_STDOUT), "PORT ") + 5);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx_t *fx = *state;
    nw_feeds_close(&fx->feeds);
    uv_run(&fx->loop, UV_RUN_DEFAULT); /* the close callbacks */
    int rc = uv_loop_close(&fx->loop);
    nw_testproc_destroy(&fx->server);
    nw_test_rmtree(fx->dir);
    nw_test_rmtree(fx->state);
    free(fx->dir);
    free(fx->state);
    free(fx);
    return rc == 0 ? 0 : -1;
}

static void s_serve(s_fx_t *fx, const char *name, const char *body)
{
    char path[1024], tmp[1100];
    snprintf(path, sizeof path, "%s/%s", fx->dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(nw_test_write_file(tmp, body, strlen(body)), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void s_url(s_fx_t *fx, const char *path, char *out, size_t outlen)
{
    snprintf(out, outlen, "http://127.0.0.1:%d%s", fx->port, path);
}

/* Starts the poller on the given feeds with a short interval and timeout. */
static void s_start(s_fx_t *fx, const char *const *paths, uint64_t timeout_ms)
{
    char urls[8][256];
    nw_feed_source_t src[8];
    size_t n = 0;
    for (; paths[n] != NULL; n++) {
        s_url(fx, paths[n], urls[n], sizeof urls[n]);
        src[n] = (nw_feed_source_t){.url = urls[n]};
    }
    nw_feeds_opts_t o = {.interval_ms = 100,
                         .timeout_ms = timeout_ms,
                         .connect_timeout_ms = timeout_ms,
                         .max_size = 1 << 20,
                         .backoff_max_ms = 60000,
                         .state_dir = fx->state,
                         .on_article = s_on_article,
                         .arg = fx};
    char warn[256], err[512];
    assert_int_equal(
        nw_feeds_new(&fx->loop, &o, src, n, &fx->feeds, warn, sizeof warn, err, sizeof err), NW_OK);
}

typedef bool s_pred_t(const s_fx_t *fx, const nw_feeds_counters_t *c);

typedef struct {
    s_fx_t *fx;
    s_pred_t *pred;
    bool met;
    uv_timer_t check;
    uv_timer_t deadline;
} s_wait_t;

static void s_on_check(uv_timer_t *t)
{
    s_wait_t *w = t->data;
    nw_testproc_wait_lines(w->fx->server, NW_TESTPROC_STDOUT, (size_t)-1, 1); /* drain */
    if (w->pred(w->fx, nw_feeds_counters(w->fx->feeds))) {
        w->met = true;
        uv_stop(t->loop);
    }
}

static void s_on_deadline(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs the loop until pred holds (checked every 10 ms) or S_WAIT_MS pass. */
static bool s_run_until(s_fx_t *fx, s_pred_t *pred)
{
    s_wait_t w = {.fx = fx, .pred = pred};
    w.check.data = &w;
    uv_timer_init(&fx->loop, &w.check);
    uv_timer_init(&fx->loop, &w.deadline);
    uv_timer_start(&w.check, s_on_check, 10, 10);
    uv_timer_start(&w.deadline, s_on_deadline, S_WAIT_MS, 0);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&w.check, NULL);
    uv_close((uv_handle_t *)&w.deadline, NULL);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    const nw_feeds_counters_t *c = nw_feeds_counters(fx->feeds);
    printf("counters: polls %llu ok %llu 304 %llu http %llu timeouts %llu big %llu net %llu "
           "parse %llu items %llu pages %llu/%llu\n",
           (unsigned long long)c->polls, (unsigned long long)c->ok,
           (unsigned long long)c->not_modified, (unsigned long long)c->http_errors,
           (unsigned long long)c->timeouts, (unsigned long long)c->too_big,
           (unsigned long long)c->net_errors, (unsigned long long)c->parse_errors,
           (unsigned long long)c->items_new, (unsigned long long)c->pages_ok,
           (unsigned long long)c->pages_failed);
    return w.met;
}

static bool s_two_items_then_304(const s_fx_t *fx, const nw_feeds_counters_t *c)
{
    return fx->n_articles >= 2 && c->not_modified >= 1;
}

static bool s_three_items(const s_fx_t *fx, const nw_feeds_counters_t *c)
{
    (void)c;
    return fx->n_articles >= 3;
}

static void test_feed_that_changes_between_polls(void **state)
{
    s_fx_t *fx = *state;
    char doc[4096];
    snprintf(doc, sizeof doc, s_rss_v1, "");
    s_serve(fx, "feed.xml", doc);
    s_start(fx, (const char *[]){"/feed.xml", NULL}, 5000);
    assert_true(s_run_until(fx, s_two_items_then_304));
    assert_int_equal(fx->n_articles, 2); /* the 304s brought nothing again */
    assert_string_equal(fx->guids[0], "urn:hl:1");
    assert_string_equal(fx->texts[0], "Port strike ends after three days\n\n"
                                      "Dock workers returned on Monday.\n\n"
                                      "Ships began unloading at dawn.\n");
    assert_string_equal(fx->links[0], "http://news.example/port-strike");
    snprintf(doc, sizeof doc, s_rss_v1, s_rss_item3);
    s_serve(fx, "feed.xml", doc);
    assert_true(s_run_until(fx, s_three_items));
    assert_string_equal(fx->guids[2], "urn:hl:3");
    assert_true(nw_feeds_counters(fx->feeds)->ok >= 2);
}

static bool s_one_ok(const s_fx_t *fx, const nw_feeds_counters_t *c)
{
    (void)fx;
    return c->ok >= 1;
}

static void test_restart_does_not_take_items_again(void **state)
{
    s_fx_t *fx = *state;
    char doc[4096];
    snprintf(doc, sizeof doc, s_rss_v1, "");
    s_serve(fx, "feed.xml", doc);
    s_start(fx, (const char *[]){"/feed.xml", NULL}, 5000);
    assert_true(s_run_until(fx, s_two_items_then_304));
    nw_feeds_close(&fx->feeds);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    s_start(fx, (const char *[]){"/feed.xml", NULL}, 5000); /* a new poller: state from disk */
    assert_true(s_run_until(fx, s_one_ok));
    assert_int_equal(fx->n_articles, 2);
    assert_int_equal(nw_feeds_counters(fx->feeds)->items_new, 0);
}

static bool s_three_500s(const s_fx_t *fx, const nw_feeds_counters_t *c)
{
    (void)fx;
    return c->http_errors >= 3;
}

static bool s_never(const s_fx_t *fx, const nw_feeds_counters_t *c)
{
    (void)fx;
    (void)c;
    return false;
}

static void test_500_backs_off(void **state)
{
    s_fx_t *fx = *state;
    s_start(fx, (const char *[]){"/status/500", NULL}, 5000);
    assert_true(s_run_until(fx, s_three_500s));
    /* 100 ms apart without backoff: dozens in the next 2 s. With it the waits are 800 ms,
     * 1.6 s, ...: at most two more. (A slow machine only makes fewer.) */
    uint64_t before = nw_feeds_counters(fx->feeds)->polls;
    uv_timer_t stop;
    uv_timer_init(&fx->loop, &stop);
    uv_timer_start(&stop, s_on_deadline, 2000, 0);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&stop, NULL);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    uint64_t more = nw_feeds_counters(fx->feeds)->polls - before;
    printf("polls of a failing feed in the 2 s after the third error: %llu\n",
           (unsigned long long)more);
    assert_true(more <= 2);
    (void)s_never;
}

static bool s_one_timeout_and_good_feed(const s_fx_t *fx, const nw_feeds_counters_t *c)
{
    return c->timeouts >= 1 && fx->n_articles >= 2;
}

static void test_slow_server_times_out_without_blocking_others(void **state)
{
    s_fx_t *fx = *state;
    char doc[4096];
    snprintf(doc, sizeof doc, s_rss_v1, "");
    s_serve(fx, "feed.xml", doc);
    s_start(fx, (const char *[]){"/slow/5", "/feed.xml", NULL}, 500);
    assert_true(s_run_until(fx, s_one_timeout_and_good_feed));
}

static bool s_one_net_error(const s_fx_t *fx, const nw_feeds_counters_t *c)
{
    (void)fx;
    return c->net_errors >= 1;
}

static void test_redirect_loop_stops_after_five(void **state)
{
    s_fx_t *fx = *state;
    char url[128], warn[256], err[512];
    s_url(fx, "/loop", url, sizeof url);
    nw_feed_source_t src = {.url = url};
    /* One poll only in this test: the next would come a minute later. */
    nw_feeds_opts_t o = {.interval_ms = 60000, .on_article = s_on_article, .arg = fx};
    assert_int_equal(
        nw_feeds_new(&fx->loop, &o, &src, 1, &fx->feeds, warn, sizeof warn, err, sizeof err),
        NW_OK);
    assert_true(s_run_until(fx, s_one_net_error));
    /* The first request and 5 redirects: then curl gave up. The server's log lines may
     * trail the transfer's end a little: wait for them, then make sure no 7th came. */
    assert_true(nw_testproc_wait_lines(fx->server, NW_TESTPROC_STDOUT, 7, S_WAIT_MS));
    nw_testproc_wait_lines(fx->server, NW_TESTPROC_STDOUT, 8, 200);
    assert_int_equal(nw_testproc_count_lines(fx->server, NW_TESTPROC_STDOUT, "GET /loop 302"), 6);
}

static bool s_two_too_big(const s_fx_t *fx, const nw_feeds_counters_t *c)
{
    (void)fx;
    return c->too_big >= 2;
}

static void test_50_mb_bodies_are_cut_off(void **state)
{
    s_fx_t *fx = *state;
    s_start(fx, (const char *[]){"/big", "/bigcl", NULL}, 10000);
    assert_true(s_run_until(fx, s_two_too_big));
}

static bool s_two_parse_errors(const s_fx_t *fx, const nw_feeds_counters_t *c)
{
    (void)fx;
    return c->parse_errors >= 2;
}

static void test_malformed_xml_and_entity_bomb_fail_cleanly(void **state)
{
    s_fx_t *fx = *state;
    s_serve(fx, "bad.xml", s_malformed);
    s_serve(fx, "bomb.xml", s_bomb);
    s_start(fx, (const char *[]){"/bad.xml", "/bomb.xml", NULL}, 5000);
    assert_true(s_run_until(fx, s_two_parse_errors));
    assert_int_equal(fx->n_articles, 0);
}

static void test_connection_refused(void **state)
{
    s_fx_t *fx = *state;
    int port = nw_test_free_port(); /* nothing listens there */
    char url[128], warn[256], err[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/feed.xml", port);
    nw_feed_source_t src = {.url = url};
    nw_feeds_opts_t o = {.interval_ms = 100, .on_article = s_on_article, .arg = fx};
    assert_int_equal(
        nw_feeds_new(&fx->loop, &o, &src, 1, &fx->feeds, warn, sizeof warn, err, sizeof err),
        NW_OK);
    assert_true(s_run_until(fx, s_one_net_error));
}

static bool s_one_page(const s_fx_t *fx, const nw_feeds_counters_t *c)
{
    return c->pages_ok >= 1 && fx->n_articles >= 1;
}

static void test_item_without_content_is_read_from_its_page(void **state)
{
    s_fx_t *fx = *state;
    char doc[1024];
    snprintf(doc, sizeof doc, s_rss_link_only, fx->port);
    s_serve(fx, "page1.html", s_page);
    s_serve(fx, "links.xml", doc);
    s_start(fx, (const char *[]){"/links.xml", NULL}, 5000);
    assert_true(s_run_until(fx, s_one_page));
    /* The page goes to the ingest whole; its HTML reader extracts the article. */
    assert_string_equal(fx->texts[0], s_page);
}

static bool s_one_page_failed(const s_fx_t *fx, const nw_feeds_counters_t *c)
{
    (void)fx;
    return c->pages_failed >= 1;
}

/* An item whose page is 50 MB: the page is cut off at the size limit, nothing is
 * published, the feed itself counts as fine. */
static void test_item_with_a_50_mb_page_is_not_taken(void **state)
{
    s_fx_t *fx = *state;
    char doc[1024];
    snprintf(doc, sizeof doc,
             "<rss version='2.0'><channel><item><title>Huge</title>"
             "<link>http://127.0.0.1:%d/bigcl</link><guid>urn:big:1</guid></item>"
             "</channel></rss>",
             fx->port);
    s_serve(fx, "huge.xml", doc);
    s_start(fx, (const char *[]){"/huge.xml", NULL}, 10000);
    assert_true(s_run_until(fx, s_one_page_failed));
    assert_int_equal(fx->n_articles, 0);
    assert_true(nw_feeds_counters(fx->feeds)->ok >= 1);
}

static void test_bad_urls_are_refused(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(nw_feeds_check_url("--feed", "file:///etc/passwd", err, sizeof err),
                     NW_ERR_INVAL);
    assert_string_equal(err, "--feed file:///etc/passwd: only http:// and https:// feeds are "
                             "polled");
    assert_int_equal(nw_feeds_check_url("--feed", "not a url", err, sizeof err), NW_ERR_INVAL);
    assert_int_equal(nw_feeds_check_url("--feed", "https://x.example/rss", err, sizeof err), NW_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss_items_with_content_and_metadata),
        cmocka_unit_test(test_atom_entries_by_content_type),
        cmocka_unit_test(test_entity_bomb_is_refused),
        cmocka_unit_test(test_malformed_and_foreign_documents_are_refused),
        cmocka_unit_test(test_seen_items_survive_a_restart),
        cmocka_unit_test(test_unreadable_seen_set_is_an_error_naming_it),
        cmocka_unit_test(test_feeds_file_names_the_bad_line),
        cmocka_unit_test(test_bad_urls_are_refused),
        cmocka_unit_test_setup_teardown(test_feed_that_changes_between_polls, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_restart_does_not_take_items_again, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_500_backs_off, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_slow_server_times_out_without_blocking_others, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_redirect_loop_stops_after_five, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_50_mb_bodies_are_cut_off, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_xml_and_entity_bomb_fail_cleanly, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_item_without_content_is_read_from_its_page, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_item_with_a_50_mb_page_is_not_taken, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
