#include "nw_feeds.h"

#include "nw_buf.h"
#include "nw_error.h"
#include "nw_feed_parse.h"
#include "nw_feed_seen.h"
#include "nw_log.h"
#include "nw_opts.h"

#include <curl/curl.h>

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_ERR_MAX        1024
#define S_CONNECTIONS    8 /* transfers at once; more wait inside the multi handle */
#define S_USER_AGENT     "newswire-pub (+feeds)"
#define S_BACKOFF_SHIFTS 16 /* the doubling stops here even if backoff_max allows more */

typedef struct s_feed s_feed_t;

/* One transfer: a feed, or the page an item links to. */
typedef struct s_fetch {
    nw_feeds_t *owner;            /* the poller */
    s_feed_t *feed;               /* the feed it belongs to */
    CURL *easy;                   /* the transfer */
    struct curl_slist *headers;   /* conditional request headers */
    nw_buf_t body;                /* what came so far */
    bool too_big;                 /* the body went over max_size and was cut off */
    nw_feed_item_t *item;         /* for a page: the item it is for (owned); NULL for a feed */
    char errbuf[CURL_ERROR_SIZE]; /* curl's reason */
    struct s_fetch *prev, *next;  /* the poller's list of transfers */
} s_fetch_t;

struct s_feed {
    nw_feeds_t *owner;    /* the poller */
    char *url;            /* the feed */
    uint64_t interval_ms; /* its period */
    uv_timer_t timer;     /* the next poll */
    char *etag;           /* the last ETag, NULL if none */
    char *last_modified;  /* the last Last-Modified, NULL if none */
    unsigned failures;    /* errors in a row, for the backoff */
    bool busy;            /* a fetch of the feed is running */
};

/* A socket curl asked to watch. Freed in its close callback. */
typedef struct s_sock {
    uv_poll_t poll;             /* readable / writable */
    curl_socket_t fd;           /* the socket */
    nw_feeds_t *owner;          /* the poller */
    struct s_sock *prev, *next; /* the poller's list of watched sockets */
} s_sock_t;

struct nw_feeds_t {
    uv_loop_t *loop;              /* the daemon's loop */
    nw_feeds_opts_t opts;         /* settings, defaults filled in */
    CURLM *multi;                 /* every transfer */
    uv_timer_t curl_timer;        /* curl's own timeout */
    s_feed_t *feeds;              /* the feeds */
    size_t n_feeds;               /* entries of feeds */
    s_fetch_t *fetches;           /* transfers running */
    nw_feed_seen_t *seen;         /* items taken */
    nw_feeds_counters_t counters; /* polls by result */
    s_sock_t *socks;              /* sockets watched */
    int open_handles;             /* uv handles not yet closed */
    bool closing;                 /* nw_feeds_close was called */
    bool dispatching;             /* inside s_check_done: closing waits until it returns */
    bool curl_ready;              /* curl_global_init succeeded */
};

static void s_check_done(nw_feeds_t *f);
static void s_close_now(nw_feeds_t *f);

/* --- Handles and freeing ------------------------------------------------------------- */

static void s_free(nw_feeds_t *f)
{
    for (size_t i = 0; i < f->n_feeds; i++) {
        free(f->feeds[i].url);
        free(f->feeds[i].etag);
        free(f->feeds[i].last_modified);
    }
    free(f->feeds);
    nw_feed_seen_destroy(&f->seen);
    if (f->curl_ready)
        curl_global_cleanup();
    free(f);
}

static void s_on_closed(uv_handle_t *h)
{
    nw_feeds_t *f = h->data;
    if (--f->open_handles == 0 && f->closing)
        s_free(f);
}

static void s_on_sock_closed(uv_handle_t *h)
{
    s_sock_t *s = h->data;
    nw_feeds_t *f = s->owner;
    free(s);
    if (--f->open_handles == 0 && f->closing)
        s_free(f);
}

/* --- curl on the loop ---------------------------------------------------------------- */

/* Stops watching s and closes its handle (freed in s_on_sock_closed). */
static void s_sock_close(s_sock_t *s)
{
    nw_feeds_t *f = s->owner;
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        f->socks = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, s_on_sock_closed);
}

static void s_on_poll(uv_poll_t *handle, int status, int events)
{
    s_sock_t *s = handle->data;
    nw_feeds_t *f = s->owner;
    int flags = 0, running = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(f->multi, s->fd, flags, &running);
    s_check_done(f);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl wants, or stop watching it. */
static int s_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    nw_feeds_t *f = userp;
    s_sock_t *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            s_sock_close(s);
            curl_multi_assign(f->multi, fd, NULL);
        }
        return 0;
    }
    if (s == NULL) {
        if ((s = calloc(1, sizeof *s)) == NULL)
            return -1;
        s->fd = fd;
        s->owner = f;
        s->poll.data = s;
        if (uv_poll_init_socket(f->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        f->open_handles++;
        s->next = f->socks;
        if (f->socks != NULL)
            f->socks->prev = s;
        f->socks = s;
        curl_multi_assign(f->multi, fd, s);
    }
    int events =
        ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
    return uv_poll_start(&s->poll, events, s_on_poll) == 0 ? 0 : -1;
}

static void s_on_curl_timer(uv_timer_t *timer)
{
    nw_feeds_t *f = timer->data;
    int running = 0;
    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    s_check_done(f);
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be called after timeout_ms (-1: never). */
static int s_on_timeout(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    nw_feeds_t *f = userp;
    if (timeout_ms < 0)
        return uv_timer_stop(&f->curl_timer) == 0 ? 0 : -1;
    return uv_timer_start(&f->curl_timer, s_on_curl_timer, (uint64_t)timeout_ms, 0) == 0 ? 0 : -1;
}

/* --- Transfers ----------------------------------------------------------------------- */

static size_t s_on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    s_fetch_t *x = userp;
    size_t n = size * nmemb;
    if (x->body.len + n > x->owner->opts.max_size) {
        x->too_big = true;
        return 0; /* curl stops the transfer with CURLE_WRITE_ERROR */
    }
    return nw_buf_append(&x->body, data, n) == NW_OK ? n : 0;
}

static void s_fetch_free(s_fetch_t *x)
{
    nw_feeds_t *f = x->owner;
    if (x->prev != NULL)
        x->prev->next = x->next;
    else if (f->fetches == x)
        f->fetches = x->next;
    if (x->next != NULL)
        x->next->prev = x->prev;
    if (x->easy != NULL) {
        curl_multi_remove_handle(f->multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->headers);
    nw_buf_free(&x->body);
    if (x->item != NULL) {
        nw_feed_item_t *item = x->item;
        nw_feed_items_free(&item, 1);
    }
    free(x);
}

/* Adds a conditional header "name: value" when value is known. */
static int s_header(s_fetch_t *x, const char *name, const char *value)
{
    if (value == NULL)
        return NW_OK;
    char line[1024];
    snprintf(line, sizeof line, "%s: %s", name, value);
    struct curl_slist *l = curl_slist_append(x->headers, line);
    if (l == NULL)
        return NW_ERR_NOMEM;
    x->headers = l;
    return NW_OK;
}

/* Starts fetching url for feed (item NULL) or for one of its items (item owned on NW_OK). */
static int s_fetch_start(s_feed_t *feed, const char *url, nw_feed_item_t *item)
{
    nw_feeds_t *f = feed->owner;
    s_fetch_t *x = calloc(1, sizeof *x);
    if (x == NULL)
        return NW_ERR_NOMEM;
    x->owner = f;
    x->feed = feed;
    if ((x->easy = curl_easy_init()) == NULL) {
        free(x);
        return NW_ERR_NOMEM;
    }
    CURL *e = x->easy;
    const nw_feeds_opts_t *o = &f->opts;
    int rc = NW_OK;
    if (item == NULL && ((rc = s_header(x, "If-None-Match", feed->etag)) != NW_OK ||
                         (rc = s_header(x, "If-Modified-Since", feed->last_modified)) != NW_OK)) {
        curl_easy_cleanup(e);
        curl_slist_free_all(x->headers);
        free(x);
        return rc;
    }
    CURLcode c = CURLE_OK;
    c |= curl_easy_setopt(e, CURLOPT_URL, url);
    c |= curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    c |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_on_body);
    c |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    c |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    c |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    c |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    c |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)NW_FEEDS_MAX_REDIRECTS);
    c |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    c |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    c |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
    c |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    c |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    c |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    c |= curl_easy_setopt(e, CURLOPT_USERAGENT, S_USER_AGENT);
    c |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* what curl can decode */
    if (c != CURLE_OK || curl_multi_add_handle(f->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        curl_slist_free_all(x->headers);
        free(x);
        return NW_ERR_INVAL;
    }
    x->item = item;
    x->next = f->fetches;
    if (f->fetches != NULL)
        f->fetches->prev = x;
    f->fetches = x;
    return NW_OK;
}

/* --- Scheduling ---------------------------------------------------------------------- */

static void s_on_feed_timer(uv_timer_t *timer);

/* Schedules feed's next poll: its interval, or after errors the doubled wait. */
static void s_schedule(s_feed_t *feed, bool failed)
{
    nw_feeds_t *f = feed->owner;
    uint64_t wait = feed->interval_ms;
    if (failed) {
        feed->failures++;
        unsigned shifts = feed->failures < S_BACKOFF_SHIFTS ? feed->failures : S_BACKOFF_SHIFTS;
        wait = feed->interval_ms << shifts;
        uint64_t cap =
            f->opts.backoff_max_ms > feed->interval_ms ? f->opts.backoff_max_ms : feed->interval_ms;
        if (wait > cap || wait < feed->interval_ms)
            wait = cap;
    } else {
        feed->failures = 0;
    }
    uv_timer_start(&feed->timer, s_on_feed_timer, wait, 0);
}

static void s_feed_failed(s_feed_t *feed, const char *reason)
{
    s_schedule(feed, true);
    uint64_t due = uv_timer_get_due_in(&feed->timer);
    if (due < 10000)
        nw_log(NW_LOG_WARN, "feed %s: %s; next poll in %llu ms", feed->url, reason,
               (unsigned long long)due);
    else
        nw_log(NW_LOG_WARN, "feed %s: %s; next poll in %llu s", feed->url, reason,
               (unsigned long long)(due + 999) / 1000);
}

static void s_on_feed_timer(uv_timer_t *timer)
{
    s_feed_t *feed = timer->data;
    if (feed->busy || feed->owner->closing)
        return;
    int rc = s_fetch_start(feed, feed->url, NULL);
    if (rc != NW_OK) {
        s_feed_failed(feed, nw_strerror(rc));
        return;
    }
    feed->busy = true;
}

/* --- Items --------------------------------------------------------------------------- */

/* Hands one item to the owner as an article: the item's title over its paragraphs, or,
 * with page, the linked page's own bytes (the ingest extracts the article from the HTML).
 * Returns true when the item is done with. */
static bool s_deliver(s_feed_t *feed, const nw_feed_item_t *it, const char *paragraphs,
                      const nw_buf_t *page)
{
    nw_feeds_t *f = feed->owner;
    nw_buf_t text = {0};
    const char *title = it->title[0] ? it->title : it->link[0] ? it->link : it->guid;
    int brc = page != NULL ? nw_buf_append(&text, page->data ? page->data : "", page->len)
                           : nw_buf_printf(&text, "%s\n\n%s\n", title, paragraphs);
    if (brc != NW_OK) {
        nw_buf_free(&text);
        return false;
    }
    nw_feed_article_t a = {.feed = feed->url,
                           .guid = it->guid,
                           .link = it->link,
                           .author = it->author,
                           .published_ms = it->published_ms,
                           .text = text.data,
                           .len = text.len};
    int rc = f->opts.on_article(f->opts.arg, &a);
    nw_buf_free(&text);
    if (rc != NW_OK) {
        f->counters.items_retry++;
        /* Fetch the whole feed next time, or a 304 would hide the item until it changes. */
        free(feed->etag);
        free(feed->last_modified);
        feed->etag = feed->last_modified = NULL;
        return false;
    }
    f->counters.items_new++;
    char err[S_ERR_MAX];
    if (nw_feed_seen_add(f->seen, feed->url, it->guid, it->hash) != NW_OK ||
        nw_feed_seen_save(f->seen, err, sizeof err) != NW_OK)
        nw_log(NW_LOG_WARN, "feed %s: cannot remember item %s: %s", feed->url, it->guid, err);
    return true;
}

static bool s_http_url(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

/* True when feed's item guid has its page being fetched already (a poll that came back
 * before the page did). */
static bool s_page_pending(const nw_feeds_t *f, const s_feed_t *feed, const char *guid)
{
    for (const s_fetch_t *x = f->fetches; x != NULL; x = x->next) {
        if (x->feed == feed && x->item != NULL && strcmp(x->item->guid, guid) == 0)
            return true;
    }
    return false;
}

/* Takes the items of a parsed feed: full content at once, the others through their page. */
static void s_take_items(s_feed_t *feed, nw_feed_item_t *items, size_t n)
{
    nw_feeds_t *f = feed->owner;
    size_t fresh = 0;
    const char **guids = calloc(n + 1, sizeof *guids);
    for (size_t i = 0; guids != NULL && i < n; i++)
        guids[i] = items[i].guid;
    if (guids != NULL)
        nw_feed_seen_retain(f->seen, feed->url, guids, n);
    free(guids);
    for (size_t i = 0; i < n && !f->closing; i++) {
        nw_feed_item_t *it = &items[i];
        if (nw_feed_seen_has(f->seen, feed->url, it->guid, it->hash) ||
            s_page_pending(f, feed, it->guid))
            continue;
        fresh++;
        if (it->content != NULL) {
            s_deliver(feed, it, it->content, NULL);
        } else if (s_http_url(it->link)) {
            nw_feed_item_t *copy = malloc(sizeof *copy);
            if (copy == NULL)
                continue;
            *copy = *it; /* moved: the array's slot is emptied */
            memset(it, 0, sizeof *it);
            if (s_fetch_start(feed, copy->link, copy) != NW_OK) {
                nw_feed_items_free(&copy, 1);
                f->counters.pages_failed++;
            }
        } else {
            nw_log(NW_LOG_WARN, "feed %s: item %s has no content and no http(s) link; skipped",
                   feed->url, it->guid);
        }
    }
    nw_log(NW_LOG_INFO, "feed %s: %zu items, %zu new", feed->url, n, fresh);
}

/* Keeps a response header's value (ETag, Last-Modified) for the next conditional GET. */
static void s_keep_header(CURL *easy, const char *name, char **slot)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || h == NULL)
        return;
    char *copy = strdup(h->value);
    if (copy == NULL)
        return;
    free(*slot);
    *slot = copy;
}

/* A feed transfer ended with status (HTTP) and body. */
static void s_feed_done(s_fetch_t *x, long status)
{
    s_feed_t *feed = x->feed;
    nw_feeds_t *f = feed->owner;
    char err[S_ERR_MAX];
    if (status == 304) {
        f->counters.not_modified++;
        nw_log(NW_LOG_DEBUG, "feed %s: not modified", feed->url);
        s_schedule(feed, false);
        return;
    }
    if (status != 200) {
        f->counters.http_errors++;
        snprintf(err, sizeof err, "HTTP status %ld", status);
        s_feed_failed(feed, err);
        return;
    }
    nw_feed_item_t *items = NULL;
    size_t n = 0;
    int rc = nw_feed_parse(x->body.data ? x->body.data : "", x->body.len, feed->url, &items, &n,
                           err, sizeof err);
    if (rc != NW_OK) {
        f->counters.parse_errors++;
        /* err already starts with the feed's URL */
        const char *reason =
            strncmp(err, feed->url, strlen(feed->url)) == 0 ? err + strlen(feed->url) + 2 : err;
        s_feed_failed(feed, reason);
        return;
    }
    f->counters.ok++;
    s_keep_header(x->easy, "ETag", &feed->etag);
    s_keep_header(x->easy, "Last-Modified", &feed->last_modified);
    s_schedule(feed, false);
    s_take_items(feed, items, n);
    nw_feed_items_free(&items, n);
}

/* A page transfer for x->item ended with status. */
static void s_page_done(s_fetch_t *x, long status)
{
    nw_feeds_t *f = x->owner;
    if (status != 200) {
        f->counters.pages_failed++;
        nw_log(NW_LOG_WARN, "feed %s: page %s: HTTP status %ld; taken again when the feed changes",
               x->feed->url, x->item->link, status);
        return;
    }
    f->counters.pages_ok++;
    s_deliver(x->feed, x->item, NULL, &x->body);
}

/* Why a transfer failed, counted by kind. */
static void s_transfer_failed(s_fetch_t *x, CURLcode code)
{
    nw_feeds_t *f = x->owner;
    char reason[S_ERR_MAX];
    uint64_t *counter = &f->counters.net_errors;
    if (x->too_big || code == CURLE_FILESIZE_EXCEEDED) {
        counter = &f->counters.too_big;
        snprintf(reason, sizeof reason, "body over the size limit of %llu bytes",
                 (unsigned long long)f->opts.max_size);
    } else {
        if (code == CURLE_OPERATION_TIMEDOUT)
            counter = &f->counters.timeouts;
        snprintf(reason, sizeof reason, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
    }
    if (x->item != NULL) {
        f->counters.pages_failed++;
        nw_log(NW_LOG_WARN, "feed %s: page %s: %s; taken again when the feed changes", x->feed->url,
               x->item->link, reason);
        return;
    }
    (*counter)++;
    s_feed_failed(x->feed, reason);
}

/* Handles every finished transfer. */
static void s_check_done(nw_feeds_t *f)
{
    CURLMsg *msg;
    int left = 0;
    f->dispatching = true;
    while (!f->closing && (msg = curl_multi_info_read(f->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        s_fetch_t *x = NULL;
        long status = 0;
        CURLcode code = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        if (x->item == NULL) {
            x->feed->busy = false;
            f->counters.polls++;
        }
        if (code != CURLE_OK)
            s_transfer_failed(x, code);
        else if (x->item == NULL)
            s_feed_done(x, status);
        else
            s_page_done(x, status);
        s_fetch_free(x);
    }
    f->dispatching = false;
    if (f->closing) /* the owner closed the poller from on_article */
        s_close_now(f);
}

/* --- Feeds files and URLs ------------------------------------------------------------ */

int nw_feeds_check_url(const char *flag, const char *url, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = NW_ERR_INVAL;
    if (u == NULL)
        return NW_ERR_NOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        snprintf(err, errlen, "%s %s: not a URL", flag, url);
    else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        snprintf(err, errlen, "%s %s: only http:// and https:// feeds are polled", flag, url);
    else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0')
        snprintf(err, errlen, "%s %s: no host", flag, url);
    else
        rc = NW_OK;
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* Parses one line of a feeds file into *src (url copied). Returns NW_OK, NW_ERR_CONFIG
 * with a reason in why, or NW_ERR_NOMEM. *empty is set for a blank or comment line. */
static int s_list_line(char *line, nw_feed_source_t *src, bool *empty, char *why, size_t whylen)
{
    *empty = false;
    char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '\0' || *p == '#') {
        *empty = true;
        return NW_OK;
    }
    char *save = NULL;
    char *url = strtok_r(p, " \t\r\n", &save), *interval = strtok_r(NULL, " \t\r\n", &save);
    if (strtok_r(NULL, " \t\r\n", &save) != NULL) {
        snprintf(why, whylen, "expected 'URL [INTERVAL]'");
        return NW_ERR_CONFIG;
    }
    if (nw_feeds_check_url("feed", url, why, whylen) != NW_OK)
        return NW_ERR_CONFIG;
    src->interval_ms = 0;
    if (interval != NULL) {
        int rc =
            strspn(interval, "0123456789") == strlen(interval)
                ? nw_opt_uint("interval", interval, 1000, NW_FEEDS_BACKOFF_MAX_MS * 24ull,
                              &src->interval_ms, why, whylen)
                : nw_opt_duration_ms("interval", interval, 1000, NW_FEEDS_BACKOFF_MAX_MS * 24ull,
                                     &src->interval_ms, why, whylen);
        if (rc != NW_OK)
            return NW_ERR_CONFIG;
    }
    return (src->url = strdup(url)) != NULL ? NW_OK : NW_ERR_NOMEM;
}

int nw_feeds_list_load(const char *path, nw_feed_source_t **feeds, size_t *n, char *err,
                       size_t errlen)
{
    *feeds = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return nw_error_from_errno(e);
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, used = 0, room = 0;
    int rc = NW_OK;
    while (rc == NW_OK && getline(&line, &cap, f) > 0) {
        lineno++;
        nw_feed_source_t src = {0};
        bool empty;
        char why[512];
        rc = s_list_line(line, &src, &empty, why, sizeof why);
        if (rc == NW_ERR_CONFIG)
            snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
        if (rc != NW_OK || empty)
            continue;
        if (used == room) {
            size_t nroom = room ? room * 2 : 8;
            nw_feed_source_t *grown = realloc(*feeds, nroom * sizeof *grown);
            if (grown == NULL) {
                free((char *)src.url);
                rc = NW_ERR_NOMEM;
                break;
            }
            *feeds = grown;
            room = nroom;
        }
        (*feeds)[used++] = src;
    }
    free(line);
    fclose(f);
    if (rc == NW_OK && used == 0) {
        snprintf(err, errlen, "%s: no feed in the file", path);
        rc = NW_ERR_CONFIG;
    }
    if (rc != NW_OK) {
        if (rc == NW_ERR_NOMEM)
            snprintf(err, errlen, "%s: %s", path, nw_strerror(rc));
        nw_feeds_list_free(feeds, used);
        return rc;
    }
    *n = used;
    return NW_OK;
}

void nw_feeds_list_free(nw_feed_source_t **feeds, size_t n)
{
    if (feeds == NULL || *feeds == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free((char *)(*feeds)[i].url);
    free(*feeds);
    *feeds = NULL;
}

/* --- Life cycle ---------------------------------------------------------------------- */

static void s_defaults(nw_feeds_opts_t *o)
{
    if (o->interval_ms == 0)
        o->interval_ms = NW_FEEDS_INTERVAL_DEFAULT_MS;
    if (o->max_size == 0)
        o->max_size = NW_FEEDS_MAX_SIZE_DEFAULT;
    if (o->timeout_ms == 0)
        o->timeout_ms = NW_FEEDS_TIMEOUT_DEFAULT_MS;
    if (o->connect_timeout_ms == 0)
        o->connect_timeout_ms = NW_FEEDS_CONNECT_DEFAULT_MS;
    if (o->backoff_max_ms == 0)
        o->backoff_max_ms = NW_FEEDS_BACKOFF_MAX_MS;
}

/* Initialises the multi handle and the uv timers. */
static int s_start(nw_feeds_t *f, const nw_feed_source_t *feeds, char *err, size_t errlen)
{
    if ((f->multi = curl_multi_init()) == NULL)
        return NW_ERR_NOMEM;
    CURLMcode c = CURLM_OK;
    c |= curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, s_on_socket);
    c |= curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
    c |= curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, s_on_timeout);
    c |= curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
    c |= curl_multi_setopt(f->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)S_CONNECTIONS);
    if (c != CURLM_OK) {
        snprintf(err, errlen, "feeds: cannot set up libcurl's multi handle");
        return NW_ERR_INVAL;
    }
    f->curl_timer.data = f;
    if (uv_timer_init(f->loop, &f->curl_timer) != 0)
        return NW_ERR_UV;
    f->open_handles++;
    for (size_t i = 0; i < f->n_feeds; i++) {
        s_feed_t *feed = &f->feeds[i];
        feed->timer.data = feed;
        if (uv_timer_init(f->loop, &feed->timer) != 0)
            return NW_ERR_UV;
        f->open_handles++;
        feed->owner = f;
        feed->interval_ms = feeds[i].interval_ms ? feeds[i].interval_ms : f->opts.interval_ms;
        if (uv_timer_start(&feed->timer, s_on_feed_timer, 0, 0) != 0)
            return NW_ERR_UV;
    }
    return NW_OK;
}

int nw_feeds_new(uv_loop_t *loop, const nw_feeds_opts_t *opts, const nw_feed_source_t *feeds,
                 size_t n, nw_feeds_t **out, char *warn, size_t warnlen, char *err, size_t errlen)
{
    *out = NULL;
    warn[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int rc = nw_feeds_check_url("--feed", feeds[i].url, err, errlen);
        if (rc != NW_OK)
            return rc;
    }
    nw_feeds_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NW_ERR_NOMEM;
    f->loop = loop;
    f->opts = *opts;
    s_defaults(&f->opts);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(f);
        snprintf(err, errlen, "feeds: libcurl cannot start");
        return NW_ERR_INVAL;
    }
    f->curl_ready = true;
    int rc = NW_ERR_NOMEM;
    if ((f->feeds = calloc(n ? n : 1, sizeof *f->feeds)) == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++, f->n_feeds++) {
        if ((f->feeds[i].url = strdup(feeds[i].url)) == NULL)
            goto fail;
    }
    if ((rc = nw_feed_seen_open(opts->state_dir, &f->seen, warn, warnlen, err, errlen)) != NW_OK ||
        (rc = s_start(f, feeds, err, errlen)) != NW_OK)
        goto fail;
    *out = f;
    return NW_OK;
fail:
    if (rc == NW_ERR_UV || rc == NW_ERR_NOMEM)
        snprintf(err, errlen, "feeds: %s", nw_strerror(rc));
    nw_feeds_close(&f);
    return rc;
}

void nw_feeds_close(nw_feeds_t **feeds_p)
{
    nw_feeds_t *f = *feeds_p;
    if (f == NULL)
        return;
    *feeds_p = NULL;
    f->closing = true;
    if (!f->dispatching) /* else s_check_done finishes the close when on_article returns */
        s_close_now(f);
}

static void s_close_now(nw_feeds_t *f)
{
    while (f->fetches != NULL)
        s_fetch_free(f->fetches);
    if (f->multi != NULL)
        curl_multi_cleanup(f->multi); /* may still ask to stop watching cached connections */
    f->multi = NULL;
    while (f->socks != NULL) /* whatever curl did not ask to stop watching */
        s_sock_close(f->socks);
    if (f->curl_timer.loop != NULL && !uv_is_closing((uv_handle_t *)&f->curl_timer)) {
        f->curl_timer.data = f;
        uv_close((uv_handle_t *)&f->curl_timer, s_on_closed);
    }
    for (size_t i = 0; i < f->n_feeds; i++) {
        uv_timer_t *t = &f->feeds[i].timer;
        if (t->loop != NULL && !uv_is_closing((uv_handle_t *)t)) {
            t->data = f;
            uv_close((uv_handle_t *)t, s_on_closed);
        }
    }
    if (f->open_handles == 0)
        s_free(f);
}

const nw_feeds_counters_t *nw_feeds_counters(const nw_feeds_t *feeds)
{
    return &feeds->counters;
}
