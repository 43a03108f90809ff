/*
 * nw_feeds: RSS and Atom feeds polled on a libuv loop, each new item handed over as an
 * article.
 *
 * Every transfer (a feed, or the page an item links to) is a libcurl easy handle in one
 * multi handle driven by the loop: curl_multi_socket_action() from uv_poll handles on
 * curl's sockets and from one uv_timer for curl's timeouts, so nothing blocks the loop.
 * Each feed has its own timer: it is fetched at start, then every interval; after an
 * error the wait doubles (interval x 2, x 4 ... up to backoff_max_ms) until a fetch
 * works. Requests are conditional (If-None-Match with the last ETag, If-Modified-Since
 * with the last Last-Modified), bodies over max_size are cut off, connect and total
 * timeouts apply, at most 5 redirects are followed, and only http and https are spoken
 * (also after a redirect).
 *
 * A parsed feed's items are taken in document order, skipping those nw_feed_seen says
 * were taken with the same content. An item with full content (content:encoded, Atom
 * content) becomes an article at once; any other item's link is fetched and the page's
 * text becomes the article. The article's text is the item's title, a blank line, then
 * its paragraphs (HTML turned into text by nw_feed_parse). The owner's on_article callback
 * publishes it; the item is then remembered (saved in the journal folder), so a restart
 * does not take it again.
 *
 * Log lines (stable wording, see docs/PUBLISHER.md):
 *     feed URL: N items, K new
 *     feed URL: REASON; next poll in S s   (or N ms under 10 s)
 */
#ifndef NW_FEEDS_H
#define NW_FEEDS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define NW_FEEDS_INTERVAL_DEFAULT_MS (5 * 60 * 1000)  /* a feed's poll period */
#define NW_FEEDS_MAX_SIZE_DEFAULT    (8u << 20)       /* bytes of one feed or page */
#define NW_FEEDS_TIMEOUT_DEFAULT_MS  30000            /* a whole transfer */
#define NW_FEEDS_CONNECT_DEFAULT_MS  10000            /* connecting */
#define NW_FEEDS_BACKOFF_MAX_MS      (60 * 60 * 1000) /* the longest wait after errors */
#define NW_FEEDS_MAX_REDIRECTS       5

typedef struct nw_feeds_t nw_feeds_t;

/* A feed to poll: its URL (http or https) and its period (0 = the default). */
typedef struct {
    const char *url;
    uint64_t interval_ms;
} nw_feed_source_t;

/* One feed item, as an article to publish. Every pointer is borrowed for the call. */
typedef struct {
    const char *feed;     /* the feed's URL */
    const char *guid;     /* the item's guid (never empty) */
    const char *link;     /* the item's link, "" if none */
    const char *author;   /* the item's author, "" if none */
    int64_t published_ms; /* the item's date, ms since the epoch; 0 = unknown */
    const char *text;     /* the article: title line, blank line, paragraphs */
    size_t len;           /* bytes of text */
} nw_feed_article_t;

/* Publishes article. Returns NW_OK when the item is done with (published, or refused for
 * good: it is remembered and not taken again), anything else to have it taken again on a
 * later poll (the feed is then fetched unconditionally). */
typedef int nw_feeds_article_fn(void *arg, const nw_feed_article_t *article);

/* Feed polls by result, for logs and metrics. */
typedef struct {
    uint64_t polls;        /* feed fetches finished */
    uint64_t ok;           /* 200 with a feed parsed */
    uint64_t not_modified; /* 304 Not Modified */
    uint64_t http_errors;  /* any other HTTP status */
    uint64_t timeouts;     /* connect or total timeout */
    uint64_t too_big;      /* body over max_size */
    uint64_t net_errors;   /* refused, unresolvable, too many redirects, TLS... */
    uint64_t parse_errors; /* not XML, not a feed, entities declared */
    uint64_t items_new;    /* items handed over as articles */
    uint64_t items_retry;  /* items the owner asked to have again later */
    uint64_t pages_ok;     /* linked pages fetched */
    uint64_t pages_failed; /* linked pages that could not be fetched */
} nw_feeds_counters_t;

typedef struct {
    uint64_t interval_ms;            /* default poll period; 0 = NW_FEEDS_INTERVAL_DEFAULT_MS */
    uint64_t max_size;               /* bytes of a feed or page; 0 = NW_FEEDS_MAX_SIZE_DEFAULT */
    uint64_t timeout_ms;             /* one transfer; 0 = NW_FEEDS_TIMEOUT_DEFAULT_MS */
    uint64_t connect_timeout_ms;     /* connecting; 0 = NW_FEEDS_CONNECT_DEFAULT_MS */
    uint64_t backoff_max_ms;         /* longest wait after errors; 0 = NW_FEEDS_BACKOFF_MAX_MS */
    const char *state_dir;           /* folder of feeds.seen (the journal's); NULL = memory only */
    nw_feeds_article_fn *on_article; /* publishes an item */
    void *arg;                       /* for on_article */
} nw_feeds_opts_t;

/* Checks that url can be polled: http:// or https:// and a host. Returns NW_OK, or
 * NW_ERR_INVAL with a reason naming flag and url in err. */
int nw_feeds_check_url(const char *flag, const char *url, char *err, size_t errlen);

/* Reads a feeds file: one feed per line, "URL [INTERVAL]" (INTERVAL as 90s, 5m, 1h, or
 * milliseconds), blank lines and lines starting with # ignored. Returns NW_OK with a new
 * array *feeds of *n entries (free with nw_feeds_list_free); NW_ERR_CONFIG with "FILE:LINE:
 * reason" in err; NW_ERR_NOTFOUND, NW_ERR_PERM, NW_ERR_IO, NW_ERR_NOMEM. */
int nw_feeds_list_load(const char *path, nw_feed_source_t **feeds, size_t *n, char *err,
                       size_t errlen);

/* Frees an array from nw_feeds_list_load and sets *feeds to NULL. Safe on NULL. */
void nw_feeds_list_free(nw_feed_source_t **feeds, size_t n);

/* Starts polling feeds[0 .. n - 1] (copied) on loop: the first polls start on the next loop
 * turn. Returns NW_OK with *out set; NW_ERR_INVAL (a URL, in err), NW_ERR_IO (feeds.seen
 * unreadable, in err), NW_ERR_UV, NW_ERR_NOMEM. warn gets a non-fatal problem ("" when
 * none): an unreadable line of feeds.seen. */
int nw_feeds_new(uv_loop_t *loop, const nw_feeds_opts_t *opts, const nw_feed_source_t *feeds,
                 size_t n, nw_feeds_t **out, char *warn, size_t warnlen, char *err, size_t errlen);

/* Stops every transfer and timer, closes the handles, and sets *feeds_p to NULL; the memory
 * is freed in the last close callback, so the loop must run once more. No callback comes
 * after this returns. Safe on NULL and twice. */
void nw_feeds_close(nw_feeds_t **feeds_p);

/* Returns the counters (valid until nw_feeds_close). */
const nw_feeds_counters_t *nw_feeds_counters(const nw_feeds_t *feeds);

#endif
