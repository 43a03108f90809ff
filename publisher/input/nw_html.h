/*
 * nw_html: a news web page into an article.
 *
 * libxml2's HTML parser (no network, no entity expansion, recovering from
 * broken markup) builds the tree; the metadata comes from the page's meta
 * tags, JSON-LD (NewsArticle and its kin), <time datetime> and
 * <link rel=canonical>; the body comes from a content-scoring extractor in
 * the family of readability: paragraphs scored by length, commas and link
 * density, class/id hints from nw_html_rules, the best container and its
 * related siblings, then cleaned of link lists, captions and widgets.
 * docs/EXTRACTION.md describes the method and its score. Pure: no files, no
 * sockets.
 *
 * Every function here takes any bytes: a libFuzzer harness calls
 *     nw_article_t a; nw_html_extract(data, size, NULL, &a, NULL, 0); nw_article_clear(&a);
 */
#ifndef NW_HTML_H
#define NW_HTML_H

#include "nw_article.h"
#include "nw_boilerplate.h"
#include "nw_html_rules.h"

#include <stdbool.h>
#include <stddef.h>

/* Pages larger than this are refused before parsing, whatever the caller's limit. */
#define NW_HTML_MAX_INPUT (16u << 20)

typedef struct {
    const nw_html_rules_t *rules;  /* markup rules (borrowed); NULL = the built-in html.conf */
    const nw_boilerplate_t *lines; /* text rules each block is checked against (borrowed);
                                      NULL = none */
} nw_html_opts_t;

/* Initialises libxml2, which must happen once on one thread before several threads
 * extract pages at once. Idempotent; a single-threaded caller needs no call. */
void nw_html_init(void);

/* Returns true when the first bytes of data look like an HTML document: after a BOM and
 * blanks, a doctype, <html, <head, <body or a comment, or a '<' start with at least four
 * HTML elements (p, div, a, span, li...) in the first 4 KiB. Plain-text articles rarely
 * start with '<', and "<COMPANY NAME>" in a wire story is no element. */
bool nw_html_sniff(const char *data, size_t len);

/* Extracts the article of the HTML page data (len bytes) into *article (initialised by
 * this call; clear with nw_article_clear after NW_OK): title, source, author, url,
 * section, article_time_ms, body blocks and id. opts may be NULL. Returns NW_OK;
 * NW_ERR_TOOBIG over NW_HTML_MAX_INPUT; NW_ERR_INVAL when the DOCTYPE has an internal
 * subset (entity declarations: HTML has none, entity bombs do; nothing is expanded ever);
 * NW_ERR_ARTICLE_EMPTY when the bytes hold no document; NW_ERR_ARTICLE_BOILERPLATE when the page
 * holds no article text (a link list, an index page) or no title; NW_ERR_NOMEM. On error a one-line
 * reason is written to err (may be NULL) and *article owns nothing. */
int nw_html_extract(const char *data, size_t len, const nw_html_opts_t *opts, nw_article_t *article,
                    char *err, size_t errlen);

/* Appends the blocks of an HTML fragment (an article body, all of it content: markup
 * rules and cleaning apply, no scoring) to article->blocks. article must be
 * initialised (its other fields are left alone). Returns NW_OK, NW_ERR_TOOBIG,
 * NW_ERR_INVAL (a DOCTYPE internal subset, as nw_html_extract), NW_ERR_NOMEM, with err
 * set on error (article keeps what it had). */
int nw_html_body(const char *data, size_t len, const nw_html_opts_t *opts, nw_article_t *article,
                 char *err, size_t errlen);

/* Parses an ISO 8601 date-time ("2019-03-05", "2019-03-05T14:30:00Z",
 * "2019-03-05T14:30:00.123+01:00", "+0100" offsets too) into ms since the epoch UTC.
 * A time without an offset is read as UTC. Returns NW_OK or NW_ERR_INVAL. */
int nw_html_parse_time(const char *text, int64_t *ms);

#endif
