/*
 * nw_html_meta: what a parsed news page says about itself, and its text.
 *
 * Meta tags (og:*, article:*, name=author...), JSON-LD objects of the
 * Article family (NewsArticle, BlogPosting, ReportageNewsArticle...), the
 * first <time datetime>, <link rel=canonical>, <title> and the first <h1>.
 * A helper of nw_html; the tree is libxml2's.
 */
#ifndef NW_HTML_META_H
#define NW_HTML_META_H

#include "nw_buf.h"

#include <libxml/tree.h>
#include <stdint.h>

typedef struct {
    char *title;     /* og:title, JSON-LD headline, the first <h1>, then <title>; "" if none */
    char *author;    /* JSON-LD author names, meta author, rel=author; "" if none */
    char *url;       /* canonical link, og:url, JSON-LD url (http or https only); "" if none */
    char *section;   /* article:section, JSON-LD articleSection; "" if none */
    char *source;    /* og:site_name, JSON-LD publisher name; "" if none */
    char *ld_body;   /* JSON-LD articleBody, "" if none */
    int64_t time_ms; /* article:published_time, JSON-LD datePublished, <time>; 0 = unknown */
} nw_html_meta_t;

/* Fills *meta (initialised by this call; clear with nw_html_meta_clear) from doc. Reads
 * the whole tree, changes nothing. Returns NW_OK or NW_ERR_NOMEM (meta then cleared). */
int nw_html_meta_collect(xmlDoc *doc, nw_html_meta_t *meta);

/* Frees what meta owns and zeroes it. Safe on a zeroed struct and twice. */
void nw_html_meta_clear(nw_html_meta_t *meta);

/* Appends the text of node and everything below it to out, with every run of
 * whitespace (no-break spaces included) made one space, and a space where a block
 * element or <br> separates words. *space is the pending separator, carried from one
 * call to the next (start with false); out never starts or ends with a space written
 * by this call. Returns NW_OK or NW_ERR_NOMEM. */
int nw_html_node_text(const xmlNode *node, nw_buf_t *out, bool *space);

/* Trims and collapses whitespace of s in place (as nw_html_node_text) and returns s. */
char *nw_html_squeeze(char *s);

/* Returns the value of attribute name of node (name in lowercase), or NULL. The
 * string belongs to the tree. */
const char *nw_html_attr(const xmlNode *node, const char *name);

/* Returns true when the element name is one of the inline (phrasing) elements:
 * a, b, em, span, ... */
bool nw_html_is_inline(const char *name);

#endif
