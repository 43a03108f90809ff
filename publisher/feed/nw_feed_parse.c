#include "nw_feed_parse.h"

#include "nw_buf.h"
#include "nw_error.h"

#include <curl/curl.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_NS_ATOM    "http://www.w3.org/2005/Atom"
#define S_NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define S_NS_DC      "http://purl.org/dc/elements/1.1/"
#define S_DEPTH_MAX  200 /* element nesting the text walker follows */

/* --- Text of HTML and XHTML -------------------------------------------------------- */

static bool s_name_in(const xmlChar *name, const char *const *names)
{
    for (size_t i = 0; names[i] != NULL; i++) {
        if (xmlStrcasecmp(name, (const xmlChar *)names[i]) == 0)
            return true;
    }
    return false;
}

static const char *const s_dropped[] = {"script",   "style", "nav",        "header",   "footer",
                                        "aside",    "form",  "figcaption", "noscript", "iframe",
                                        "template", "svg",   "button",     "select",   NULL};
static const char *const s_blocks[] = {
    "p",      "div",        "li",  "h1", "h2", "h3",      "h4",      "h5",      "h6",
    "br",     "blockquote", "pre", "tr", "ul", "ol",      "section", "article", "main",
    "figure", "table",      "dd",  "dt", "hr", "address", "body",    NULL};

/* Ends the current paragraph: trims the trailing space and puts a blank line. */
static int s_break(nw_buf_t *b)
{
    while (b->len > 0 && b->data[b->len - 1] == ' ')
        b->data[--b->len] = '\0';
    if (b->len == 0 || (b->len >= 2 && b->data[b->len - 1] == '\n' && b->data[b->len - 2] == '\n'))
        return NW_OK;
    return nw_buf_append(b, "\n\n", 2);
}

/* Appends text with runs of whitespace collapsed to one space. */
static int s_text(nw_buf_t *b, const xmlChar *text)
{
    int rc = NW_OK;
    for (const unsigned char *p = text; rc == NW_OK && *p != '\0'; p++) {
        if (isspace(*p)) {
            char last = b->len ? b->data[b->len - 1] : '\n';
            if (last != ' ' && last != '\n')
                rc = nw_buf_append(b, " ", 1);
        } else {
            rc = nw_buf_append(b, p, 1);
        }
    }
    return rc;
}

/* Appends the readable text below node. Entity references are never followed. */
static int s_walk(const xmlNode *node, nw_buf_t *b, int depth)
{
    int rc = NW_OK;
    if (depth > S_DEPTH_MAX)
        return NW_OK;
    for (const xmlNode *c = node->children; rc == NW_OK && c != NULL; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            rc = s_text(b, c->content);
        } else if (c->type == XML_ELEMENT_NODE && !s_name_in(c->name, s_dropped)) {
            bool block = s_name_in(c->name, s_blocks);
            if (block)
                rc = s_break(b);
            if (rc == NW_OK)
                rc = s_walk(c, b, depth + 1);
            if (rc == NW_OK && block)
                rc = s_break(b);
        }
    }
    return rc;
}

/* Trims b's trailing whitespace and hands its bytes over. */
static int s_finish(nw_buf_t *b, char **text)
{
    int rc = b->data == NULL ? nw_buf_append(b, "", 0) : NW_OK;
    if (rc != NW_OK)
        return rc;
    while (b->len > 0 && isspace((unsigned char)b->data[b->len - 1]))
        b->data[--b->len] = '\0';
    *text = nw_buf_steal(b);
    return *text != NULL ? NW_OK : NW_ERR_NOMEM;
}

int nw_feed_html_text(const char *html, size_t len, char **text)
{
    *text = NULL;
    nw_buf_t b = {0};
    int opts = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER |
               HTML_PARSE_NOIMPLIED;
    /* A feed's HTML came out of an XML document: UTF-8. */
    htmlDocPtr doc =
        len > 0 && len <= INT32_MAX ? htmlReadMemory(html, (int)len, NULL, "UTF-8", opts) : NULL;
    int rc = NW_OK;
    if (doc != NULL) {
        rc = s_walk((const xmlNode *)doc, &b, 0);
        xmlFreeDoc(doc);
    }
    if (rc == NW_OK)
        rc = s_finish(&b, text);
    nw_buf_free(&b);
    return rc;
}

/* --- Feed documents ---------------------------------------------------------------- */

static bool s_is(const xmlNode *n, const char *ns, const char *name)
{
    if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, (const xmlChar *)name) != 0)
        return false;
    if (ns == NULL)
        return n->ns == NULL || n->ns->href == NULL || n->ns->href[0] == '\0';
    return n->ns != NULL && xmlStrcmp(n->ns->href, (const xmlChar *)ns) == 0;
}

static const xmlNode *s_child(const xmlNode *parent, const char *ns, const char *name)
{
    for (const xmlNode *c = parent->children; c != NULL; c = c->next) {
        if (s_is(c, ns, name))
            return c;
    }
    return NULL;
}

/* The text and CDATA directly below n, whitespace collapsed and trimmed (caller frees). */
static char *s_plain(const xmlNode *n)
{
    nw_buf_t b = {0};
    int rc = nw_buf_append(&b, "", 0);
    for (const xmlNode *c = n ? n->children : NULL; rc == NW_OK && c != NULL; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
            rc = s_text(&b, c->content);
    }
    char *out = NULL;
    if (rc == NW_OK && s_finish(&b, &out) == NW_OK && out[0] == ' ')
        memmove(out, out + 1, strlen(out));
    nw_buf_free(&b);
    return out;
}

/* The raw (not collapsed) text below n, for HTML held in a string (caller frees). */
static char *s_raw(const xmlNode *n)
{
    nw_buf_t b = {0};
    int rc = nw_buf_append(&b, "", 0);
    for (const xmlNode *c = n->children; rc == NW_OK && c != NULL; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
            rc = nw_buf_append_str(&b, (const char *)c->content);
    }
    char *out = rc == NW_OK ? nw_buf_steal(&b) : NULL;
    nw_buf_free(&b);
    return out;
}

/* "2026-12-07T01:02:03Z", "...03.5+01:00": RFC 3339 into ms since the epoch, 0 if not. */
static int64_t s_rfc3339(const char *s)
{
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6)
        return 0;
    const char *p = s + n;
    int ms = 0;
    if (*p == '.') {
        int scale = 100;
        for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
            ms += (*p - '0') * scale;
    }
    int offset = 0, oh = 0, om = 0;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
        offset = (*p == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    else if (*p != 'Z' && *p != 'z')
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? 0 : ((int64_t)t - offset) * 1000 + ms;
}

/* RSS's RFC 822 dates (curl_getdate reads them), else RFC 3339 (dc:date). */
static int64_t s_date(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return 0;
    int64_t ms = s_rfc3339(s);
    if (ms != 0)
        return ms;
    time_t t = curl_getdate(s, NULL);
    return t > 0 ? (int64_t)t * 1000 : 0;
}

static uint64_t s_hash_str(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : "");; p++) {
        h = (h ^ *p) * 1099511628211ULL;
        if (*p == '\0')
            return h;
    }
}

static void s_item_clear(nw_feed_item_t *it)
{
    free(it->guid);
    free(it->title);
    free(it->link);
    free(it->author);
    free(it->content);
    memset(it, 0, sizeof *it);
}

/* Content given as an HTML string: its text, or NULL when nothing readable is in it. */
static int s_html_content(const char *html, char **content)
{
    *content = NULL;
    if (html == NULL || html[0] == '\0')
        return NW_OK;
    int rc = nw_feed_html_text(html, strlen(html), content);
    if (rc == NW_OK && (*content)[0] == '\0') {
        free(*content);
        *content = NULL;
    }
    return rc;
}

/* Atom content by its type: html (escaped HTML), xhtml (inline elements) or text. */
static int s_atom_content(const xmlNode *c, char **content)
{
    *content = NULL;
    if (c == NULL || xmlHasProp(c, (const xmlChar *)"src") != NULL)
        return NW_OK; /* out-of-line content: the link is fetched instead */
    xmlChar *type = xmlGetProp(c, (const xmlChar *)"type");
    int rc = NW_OK;
    if (type != NULL && xmlStrcmp(type, (const xmlChar *)"html") == 0) {
        char *html = s_raw(c);
        rc = html ? s_html_content(html, content) : NW_ERR_NOMEM;
        free(html);
    } else if (type != NULL && xmlStrcmp(type, (const xmlChar *)"xhtml") == 0) {
        nw_buf_t b = {0};
        rc = s_walk(c, &b, 0);
        if (rc == NW_OK)
            rc = s_finish(&b, content);
        nw_buf_free(&b);
    } else {
        *content = s_plain(c);
        rc = *content ? NW_OK : NW_ERR_NOMEM;
    }
    xmlFree(type);
    if (rc == NW_OK && *content != NULL && (*content)[0] == '\0') {
        free(*content);
        *content = NULL;
    }
    return rc;
}

/* The Atom entry's link: rel="alternate" or no rel. */
static char *s_atom_link(const xmlNode *entry)
{
    for (const xmlNode *c = entry->children; c != NULL; c = c->next) {
        if (!s_is(c, S_NS_ATOM, "link"))
            continue;
        xmlChar *rel = xmlGetProp(c, (const xmlChar *)"rel");
        bool alternate = rel == NULL || xmlStrcmp(rel, (const xmlChar *)"alternate") == 0;
        xmlFree(rel);
        xmlChar *href = alternate ? xmlGetProp(c, (const xmlChar *)"href") : NULL;
        if (href != NULL) {
            char *out = strdup((const char *)href);
            xmlFree(href);
            return out;
        }
    }
    return strdup("");
}

static int s_rss_item(const xmlNode *n, nw_feed_item_t *it)
{
    const xmlNode *creator = s_child(n, S_NS_DC, "creator");
    it->title = s_plain(s_child(n, NULL, "title"));
    it->link = s_plain(s_child(n, NULL, "link"));
    it->guid = s_plain(s_child(n, NULL, "guid"));
    it->author = s_plain(creator ? creator : s_child(n, NULL, "author"));
    char *date = s_plain(s_child(n, NULL, "pubDate"));
    char *dcdate = s_plain(s_child(n, S_NS_DC, "date"));
    const xmlNode *enc = s_child(n, S_NS_CONTENT, "encoded");
    char *html = enc ? s_raw(enc) : NULL;
    int rc = NW_ERR_NOMEM;
    if (it->title && it->link && it->guid && it->author && date && dcdate && (!enc || html)) {
        it->published_ms = s_date(date[0] ? date : dcdate);
        rc = s_html_content(html, &it->content);
    }
    free(date);
    free(dcdate);
    free(html);
    return rc;
}

static int s_atom_entry(const xmlNode *n, nw_feed_item_t *it)
{
    const xmlNode *author = s_child(n, S_NS_ATOM, "author");
    const xmlNode *content = s_child(n, S_NS_ATOM, "content");
    it->title = s_plain(s_child(n, S_NS_ATOM, "title"));
    it->link = s_atom_link(n);
    it->guid = s_plain(s_child(n, S_NS_ATOM, "id"));
    it->author = s_plain(author ? s_child(author, S_NS_ATOM, "name") : NULL);
    char *published = s_plain(s_child(n, S_NS_ATOM, "published"));
    char *updated = s_plain(s_child(n, S_NS_ATOM, "updated"));
    int rc = NW_ERR_NOMEM;
    if (it->title && it->link && it->guid && it->author && published && updated) {
        it->published_ms = s_rfc3339(published[0] ? published : updated);
        rc = s_atom_content(content, &it->content);
    }
    free(published);
    free(updated);
    return rc;
}

/* Parses each item or entry below parent into a growing array. */
static int s_collect(const xmlNode *parent, bool atom, nw_feed_item_t **items, size_t *n)
{
    size_t cap = 0;
    for (const xmlNode *c = parent->children; c != NULL; c = c->next) {
        if (!(atom ? s_is(c, S_NS_ATOM, "entry") : s_is(c, NULL, "item")))
            continue;
        nw_feed_item_t it = {0};
        int rc = atom ? s_atom_entry(c, &it) : s_rss_item(c, &it);
        if (rc == NW_OK && it.guid[0] == '\0') {
            free(it.guid);
            if ((it.guid = strdup(it.link)) == NULL)
                rc = NW_ERR_NOMEM;
        }
        if (rc != NW_OK) {
            s_item_clear(&it);
            return rc;
        }
        if (it.guid[0] == '\0') { /* neither guid nor link: nothing to remember it by */
            s_item_clear(&it);
            continue;
        }
        uint64_t h = 14695981039346656037ULL;
        h = s_hash_str(h, it.title);
        h = s_hash_str(h, it.link);
        h = s_hash_str(h, it.content);
        it.hash = h ^ (uint64_t)it.published_ms;
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            nw_feed_item_t *grown = realloc(*items, ncap * sizeof *grown);
            if (grown == NULL) {
                s_item_clear(&it);
                return NW_ERR_NOMEM;
            }
            *items = grown;
            cap = ncap;
        }
        (*items)[(*n)++] = it;
    }
    return NW_OK;
}

/* True when the document declares entities (internal or external subset). */
static bool s_declares_entities(const xmlDoc *doc)
{
    return (doc->intSubset != NULL && doc->intSubset->entities != NULL) ||
           (doc->extSubset != NULL && doc->extSubset->entities != NULL);
}

int nw_feed_parse(const char *data, size_t len, const char *url, nw_feed_item_t **items, size_t *n,
                  char *err, size_t errlen)
{
    *items = NULL;
    *n = 0;
    if (len > INT32_MAX) {
        snprintf(err, errlen, "%s: feed too large to parse", url);
        return NW_ERR_INVAL;
    }
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt == NULL)
        return NW_ERR_NOMEM;
    /* No XML_PARSE_NOENT: entities are never substituted; no XML_PARSE_HUGE: libxml2's
     * own limits stay on; no XML_PARSE_DTDLOAD: no external DTD is fetched. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, data, (int)len, url, NULL, opts);
    int rc = NW_OK;
    if (doc == NULL) {
        const xmlError *e = &ctxt->lastError;
        char msg[256];
        snprintf(msg, sizeof msg, "%s", e->message ? e->message : "unreadable");
        msg[strcspn(msg, "\n")] = '\0';
        snprintf(err, errlen, "%s: not well-formed XML (line %d): %s", url, e->line, msg);
        rc = NW_ERR_INVAL;
        goto done;
    }
    if (s_declares_entities(doc)) {
        snprintf(err, errlen, "%s: the feed declares XML entities in a DTD; refused", url);
        rc = NW_ERR_INVAL;
        goto done;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (root != NULL && s_is(root, NULL, "rss")) {
        const xmlNode *channel = s_child(root, NULL, "channel");
        if (channel != NULL)
            rc = s_collect(channel, false, items, n);
    } else if (root != NULL && s_is(root, S_NS_ATOM, "feed")) {
        rc = s_collect(root, true, items, n);
    } else {
        snprintf(err, errlen, "%s: not an RSS 2.0 or Atom 1.0 feed (root element <%s>)", url,
                 root ? (const char *)root->name : "none");
        rc = NW_ERR_INVAL;
    }
    if (rc == NW_ERR_NOMEM) {
        snprintf(err, errlen, "%s: %s", url, nw_strerror(rc));
        nw_feed_items_free(items, *n);
        *n = 0;
    }
done:
    if (doc != NULL)
        xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

void nw_feed_items_free(nw_feed_item_t **items, size_t n)
{
    if (items == NULL || *items == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        s_item_clear(&(*items)[i]);
    free(*items);
    *items = NULL;
}
