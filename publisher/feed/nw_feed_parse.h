/*
 * nw_feed_parse: an RSS 2.0 or Atom 1.0 document into its items, and HTML into paragraphs.
 *
 * Parsed with libxml2, network access off (XML_PARSE_NONET) and entities never
 * substituted: a document that declares entities in a DTD is refused outright, so an
 * entity bomb ("billion laughs") fails cleanly with a reason instead of expanding. Pure:
 * no files, no sockets.
 */
#ifndef NW_FEED_PARSE_H
#define NW_FEED_PARSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *guid;           /* RSS guid / Atom id; else the link; never empty */
    char *title;          /* the item's title, "" if none */
    char *link;           /* the item's link (RSS link, Atom link rel=alternate), "" if none */
    char *author;         /* RSS author or dc:creator, Atom author/name, "" if none */
    char *content;        /* full content as paragraphs separated by blank lines (from
                           * content:encoded or Atom content, HTML turned into text), NULL
                           * when the item has none */
    int64_t published_ms; /* pubDate / dc:date / Atom published or updated, 0 = unknown */
    uint64_t hash;        /* of title, link, content and date: changes when the item does */
} nw_feed_item_t;

/* Parses len bytes of a feed (url names it in err) into a new array *items of *n entries
 * (free with nw_feed_items_free), in document order. Items without a guid and without a
 * link are skipped. Returns NW_OK; NW_ERR_INVAL with a reason in err for bytes that are
 * not well-formed XML, a DTD that declares entities, or a root that is neither <rss> nor
 * Atom <feed>; NW_ERR_NOMEM. */
int nw_feed_parse(const char *data, size_t len, const char *url, nw_feed_item_t **items, size_t *n,
                  char *err, size_t errlen);

/* Frees an array from nw_feed_parse and sets *items to NULL. Safe on NULL. */
void nw_feed_items_free(nw_feed_item_t **items, size_t n);

/* Turns len bytes of HTML into its readable text in a new string *text (caller frees):
 * one paragraph per block (p, li, h1-h6, blockquote, div, br...), separated by blank
 * lines, whitespace collapsed; script, style, nav, header, footer, aside, form and
 * figcaption are dropped. (A linked page goes to the ingest whole: its HTML reader
 * extracts the article.) Returns NW_OK (*text may be "" when nothing readable is left) or
 * NW_ERR_NOMEM. */
int nw_feed_html_text(const char *html, size_t len, char **text);

#endif
