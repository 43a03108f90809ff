#include "nw_html.h"

#include "nw_buf.h"
#include "nw_error.h"
#include "nw_html_meta.h"
#include "nw_utf8.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_SNIFF_BYTES 4096 /* bytes looked at to recognise a page */
#define S_SNIFF_TAGS  4    /* tags in them that make a '<' start a page */
#define S_MIN_PARA    25   /* a paragraph shorter than this scores nothing */
#define S_RETRY_BELOW 250  /* a first try with less body text than this is retried */
#define S_MIN_ARTICLE 80   /* bytes of body text a page needs to hold an article */
#define S_MAX_DEPTH   256  /* elements nested deeper than this are not read for text */
#define S_MAX_BLOCKS  4000 /* blocks kept at most (the rest of a huge page is dropped) */
#define S_ANCESTORS   5    /* levels a paragraph's score reaches up */
#define S_TOP_N       5    /* best candidates kept */
#define S_TITLE_PROSE 400  /* bytes of non-link text the <article> of the title needs */
#define S_CLOSE_MIN   3    /* runners-up within 75% of the best that share an ancestor */
#define S_DEDUPE_MIN  20   /* repeated blocks at least this long are dropped */
#define S_LD_SHARE    0.6  /* use JSON-LD articleBody when the page text is below this share */
#define S_LD_MIN      200  /* bytes of articleBody needed to consider it */
#define S_PROBE       48   /* bytes of articleBody's start and end looked for in the page */
#define S_TITLE_CUT   120  /* bytes of body text that stand in for a missing title */
#define S_HEADING_MAX 200  /* a "heading" longer than this is a paragraph in large type */

/* Facts about one element, kept in its _private pointer. */
typedef struct {
    double score;      /* content score (meaningful when candidate) */
    bool candidate;    /* received a paragraph's score */
    int weight;        /* class/id weight from the rules */
    size_t text;       /* bytes of its whitespace-collapsed text */
    size_t link;       /* bytes of that text inside <a> */
    size_t commas;     /* commas in its text */
    size_t n_p;        /* paragraphs inside: <p>, and <div>s with no block inside */
    size_t n_img;      /* <img> elements inside */
    size_t n_li;       /* <li> elements inside */
    size_t n_input;    /* <input> elements inside (when the rules keep them) */
    size_t n_embed;    /* <embed>, <object>, <iframe> inside */
    bool block_inside; /* holds a block element (a div that is really a paragraph does not) */
} s_info_t;

/* One extraction attempt on one parsed tree. */
typedef struct {
    const nw_html_opts_t *opts;
    const nw_html_rules_t *rules; /* opts->rules or the built-in ones */
    bool use_class;               /* class/id drop rules apply (the first try) */
    s_info_t *info;               /* one per element, indexed through _private */
    size_t n_info;                /* used entries of info */
    xmlNode *top[S_TOP_N];        /* best candidates, best first */
    const char *title;            /* the article title, to drop its repeats */
    const char *author;           /* the author from the metadata, to drop byline blocks */
    const char *ld_body;          /* JSON-LD articleBody, "" or NULL when none */
    nw_block_t *blocks;           /* blocks emitted so far */
    size_t n_blocks;              /* used entries of blocks */
    size_t cap_blocks;            /* allocated entries of blocks */
    uint64_t *hashes;             /* hash per block (0 for short ones), for dedupe */
    size_t body_bytes;            /* bytes of paragraph and bullet text emitted */
    bool ended;                   /* a boilerplate 'end' rule matched: emit nothing more */
    nw_buf_t run;                 /* inline text gathered for the next block */
    bool run_space;               /* a separator is pending in run */
    nw_block_kind_t run_kind;     /* kind the run becomes: paragraph, or bullet inside <li> */
    const char *encoding;         /* read the bytes in this encoding, NULL = as declared */
} s_ctx_t;

static const char *s_name(const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE && n->name != NULL ? (const char *)n->name : "";
}

static bool s_is(const xmlNode *n, const char *name)
{
    return strcmp(s_name(n), name) == 0;
}

static bool s_is_heading(const xmlNode *n)
{
    const char *s = s_name(n);
    return strlen(s) == 2 && s[0] == 'h' && s[1] >= '1' && s[1] <= '6';
}

static s_info_t *s_info(const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE ? (s_info_t *)n->_private : NULL;
}

/* Pre-order successor of n inside root; descend false skips n's children. */
static xmlNode *s_next(xmlNode *n, const xmlNode *root, bool descend)
{
    if (descend && n->type == XML_ELEMENT_NODE && n->children != NULL)
        return n->children;
    while (n != root && n->next == NULL)
        n = n->parent;
    return n == root ? NULL : n->next;
}

/* ---- Sniffing ------------------------------------------------------------------------ */

static bool s_starts_ci(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(end - p) >= n && strncasecmp(p, word, n) == 0;
}

/* True when p starts an HTML element name (case ignored) followed by '>', '/' or a
 * blank: "<FRANKLIN FUND>" in a wire story is no tag. */
static bool s_known_tag(const char *p, const char *end)
{
    static const char *const names[] = {
        "p",    "div",    "span",    "a",       "br",     "b",      "i",   "em",   "strong",
        "ul",   "ol",     "li",      "h1",      "h2",     "h3",     "h4",  "img",  "table",
        "tr",   "td",     "section", "article", "header", "footer", "nav", "main", "meta",
        "link", "script", "style",   "title",   "figure", NULL};
    for (size_t i = 0; names[i] != NULL; i++) {
        size_t n = strlen(names[i]);
        if ((size_t)(end - p) > n && strncasecmp(p, names[i], n) == 0 &&
            (p[n] == '>' || p[n] == '/' || p[n] == ' ' || p[n] == '\t' || p[n] == '\n'))
            return true;
    }
    return false;
}

void nw_html_init(void)
{
    xmlInitParser();
}

/* The first byte of [p, end) that is not HTML white space (space, tab, CR, LF, FF), or end.
 * Reads only those bytes: they need not be NUL-terminated. */
static const char *s_skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f'))
        p++;
    return p;
}

bool nw_html_sniff(const char *data, size_t len)
{
    const char *p = data, *end = data + (len < S_SNIFF_BYTES ? len : S_SNIFF_BYTES);
    if (data == NULL)
        return false;
    if (s_starts_ci(p, end, "\xef\xbb\xbf"))
        p += 3;
    p = s_skip_space(p, end);
    if (p == end || *p != '<')
        return false;
    if (s_starts_ci(p, end, "<!doctype html") || s_starts_ci(p, end, "<html") ||
        s_starts_ci(p, end, "<head") || s_starts_ci(p, end, "<body") ||
        s_starts_ci(p, end, "<!--") || s_starts_ci(p, end, "<?xml"))
        return true;
    size_t tags = 0;
    for (const char *q = p; q < end; q++) {
        if (*q == '<')
            tags += s_known_tag(q + 1 + (q + 1 < end && q[1] == '/'), end);
    }
    return tags >= S_SNIFF_TAGS;
}

/* True when the page's DOCTYPE has an internal subset ("<!DOCTYPE html [ <!ENTITY ... ]>").
 * HTML has none; it is how entity bombs (billion laughs) declare their entities. libxml2's
 * HTML parser never expands them, but would read the declarations as text. */
static bool s_has_internal_subset(const char *data, size_t len)
{
    size_t head = len < 65536 ? len : 65536;
    for (size_t i = 0; i + 9 <= head; i++) {
        if (data[i] != '<' || strncasecmp(data + i, "<!doctype", 9) != 0)
            continue;
        char quote = 0;
        for (size_t k = i + 9; k < len; k++) {
            char c = data[k];
            if (quote != 0)
                quote = c == quote ? 0 : quote;
            else if (c == '"' || c == '\'')
                quote = c;
            else if (c == '>')
                return false;
            else if (c == '[')
                return true;
        }
        return false;
    }
    return false;
}

/* ---- Parsing --------------------------------------------------------------------------- */

static void s_quiet(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_quiet(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    (void)fmt;
}

/* Parses data with libxml2's HTML parser: no network, no error output, recovering from
 * broken markup. Entities are never loaded (no HTML_PARSE_NOENT, no DTD). encoding
 * overrides the page's own; when the page declares no charset but is valid UTF-8, it is
 * read as UTF-8 (libxml2 would guess Latin-1). */
static bool s_declares_charset(const char *data, size_t len)
{
    size_t head = len < S_SNIFF_BYTES * 4 ? len : S_SNIFF_BYTES * 4;
    for (size_t i = 0; i + 7 <= head; i++) {
        if (strncasecmp(data + i, "charset", 7) == 0)
            return true;
    }
    return false;
}

static htmlDocPtr s_parse(const char *data, size_t len, const char *encoding)
{
    int options = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                  HTML_PARSE_RECOVER | HTML_PARSE_COMPACT;
    if (encoding != NULL)
        options |= HTML_PARSE_IGNORE_ENC; /* the caller's encoding, whatever the page says */
    else if (!s_declares_charset(data, len) && nw_utf8_valid(data, len))
        encoding = "UTF-8";
    if (len > INT32_MAX)
        return NULL;
    /* HTML_PARSE_NOERROR silences the parser, but libxml2 2.9 reports encoding errors
     * ("input conversion failed") through its generic handler, which writes to stderr:
     * a page's bad bytes are not the log's business. Restored right after. */
    xmlGenericErrorFunc saved = xmlGenericError;
    void *saved_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, s_quiet);
    htmlDocPtr doc = htmlReadMemory(data, (int)len, NULL, encoding, options);
    xmlSetGenericErrorFunc(saved_ctx, saved);
    return doc;
}

/* ---- Cleaning ---------------------------------------------------------------------------- */

static bool s_hidden(const xmlNode *n)
{
    const char *style = nw_html_attr(n, "style");
    if (nw_html_attr(n, "hidden") != NULL)
        return true;
    if (style == NULL)
        return false;
    char squeezed[128];
    size_t k = 0;
    for (const char *p = style; *p && k + 1 < sizeof squeezed; p++) {
        if (*p != ' ')
            squeezed[k++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    }
    squeezed[k] = '\0';
    return strstr(squeezed, "display:none") != NULL ||
           strstr(squeezed, "visibility:hidden") != NULL;
}

static nw_html_verdict_t s_judge(const s_ctx_t *ctx, const xmlNode *n)
{
    nw_html_attrs_t attrs = {.class_attr = nw_html_attr(n, "class"),
                             .id_attr = nw_html_attr(n, "id"),
                             .role = nw_html_attr(n, "role"),
                             .itemprop = nw_html_attr(n, "itemprop")};
    return nw_html_rules_judge(ctx->rules, s_name(n), &attrs, ctx->use_class);
}

/* Removes what the rules say is never article text, comments and hidden elements. The
 * root, <body> and the elements named article or main are never removed by class. */
static void s_clean(s_ctx_t *ctx, xmlNode *root)
{
    xmlNode *n = root->children;
    while (n != NULL) {
        xmlNode *victim = NULL;
        if (n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE || n->type == XML_DTD_NODE) {
            victim = n;
        } else if (n->type == XML_ELEMENT_NODE) {
            bool structural =
                s_is(n, "body") || s_is(n, "html") || s_is(n, "article") || s_is(n, "main");
            nw_html_verdict_t v = s_judge(ctx, n);
            if (s_is(n, "head") || (!structural && (v.drop || (ctx->use_class && s_hidden(n)))))
                victim = n;
        }
        xmlNode *next = s_next(n, root, victim == NULL);
        if (victim != NULL) {
            xmlUnlinkNode(victim);
            xmlFreeNode(victim);
        }
        n = next;
    }
}

/* ---- Statistics ---------------------------------------------------------------------- */

static size_t s_squeezed_len(const char *s, bool *space)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool blank = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f';
        if (blank) {
            *space = true;
        } else {
            n += *space ? 2 : 1;
            *space = false;
        }
    }
    return n;
}

static size_t s_count_commas(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += *p == ',';
    return n;
}

static bool s_is_block_name(const char *name)
{
    static const char *const blocks[] = {
        "blockquote", "dl", "div", "img", "ol", "p",  "pre", "table",  "ul", "section",
        "article",    "h1", "h2",  "h3",  "h4", "h5", "h6",  "figure", NULL};
    for (size_t i = 0; blocks[i] != NULL; i++) {
        if (strcmp(name, blocks[i]) == 0)
            return true;
    }
    return false;
}

/* Gives every element its s_info_t and fills text, link and count statistics bottom-up. */
static int s_stats(s_ctx_t *ctx, xmlNode *root)
{
    size_t count = 0;
    for (xmlNode *n = root; n != NULL; n = s_next(n, root, true))
        count += n->type == XML_ELEMENT_NODE;
    ctx->info = calloc(count ? count : 1, sizeof(*ctx->info));
    xmlNode **order = calloc(count ? count : 1, sizeof(*order));
    if (ctx->info == NULL || order == NULL) {
        free(order);
        return NW_ERR_NOMEM;
    }
    ctx->n_info = 0;
    for (xmlNode *n = root; n != NULL; n = s_next(n, root, true)) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        s_info_t *in = &ctx->info[ctx->n_info];
        order[ctx->n_info++] = n;
        n->_private = in;
        in->weight = s_judge(ctx, n).weight;
        bool space = false;
        for (xmlNode *c = n->children; c != NULL; c = c->next) {
            if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
                in->text += s_squeezed_len((const char *)c->content, &space);
                in->commas += s_count_commas((const char *)c->content);
            }
        }
    }
    /* Children come after their parent in pre-order: walking backwards adds each
     * element's totals to its parent after they are complete. */
    for (size_t i = ctx->n_info; i-- > 0;) {
        xmlNode *n = order[i];
        s_info_t *in = s_info(n);
        if (s_is(n, "a"))
            in->link = in->text;
        s_info_t *up = n->parent != NULL ? s_info(n->parent) : NULL;
        if (up == NULL || n == root)
            continue;
        up->text += in->text + 1;
        up->link += in->link;
        up->commas += in->commas;
        up->n_p += in->n_p + (s_is(n, "p") || (s_is(n, "div") && !in->block_inside));
        up->n_img += in->n_img + s_is(n, "img");
        up->n_li += in->n_li + s_is(n, "li");
        up->n_input += in->n_input + s_is(n, "input");
        up->n_embed += in->n_embed + (s_is(n, "embed") || s_is(n, "object") || s_is(n, "iframe"));
        up->block_inside = up->block_inside || in->block_inside || s_is_block_name(s_name(n));
    }
    free(order);
    return NW_OK;
}

static double s_link_density(const s_info_t *in)
{
    return in->text > 0 ? (double)in->link / (double)in->text : 0.0;
}

/* ---- Scoring ------------------------------------------------------------------------------ */

static double s_tag_base(const xmlNode *n)
{
    const char *s = s_name(n);
    if (strcmp(s, "div") == 0 || strcmp(s, "article") == 0)
        return 5;
    if (strcmp(s, "pre") == 0 || strcmp(s, "td") == 0 || strcmp(s, "blockquote") == 0)
        return 3;
    if (strcmp(s, "address") == 0 || strcmp(s, "ol") == 0 || strcmp(s, "ul") == 0 ||
        strcmp(s, "dl") == 0 || strcmp(s, "dd") == 0 || strcmp(s, "dt") == 0 ||
        strcmp(s, "li") == 0 || strcmp(s, "form") == 0)
        return -3;
    if (s_is_heading(n) || strcmp(s, "th") == 0)
        return -5;
    return 0;
}

static void s_add_score(xmlNode *n, double score, int level)
{
    s_info_t *in = s_info(n);
    if (in == NULL)
        return;
    if (!in->candidate) {
        in->candidate = true;
        in->score = s_tag_base(n) + in->weight;
    }
    in->score += level == 0 ? score : level == 1 ? score / 2 : score / (level * 3);
}

/* Gives a paragraph of len text bytes and commas the content score, spread over up to
 * S_ANCESTORS elements from first upward. */
static void s_score_paragraph(xmlNode *first, size_t len, size_t commas)
{
    if (len < S_MIN_PARA)
        return;
    double score = 1 + (double)commas + (len / 100 < 3 ? (double)(len / 100) : 3);
    int level = 0;
    for (xmlNode *a = first; a != NULL && a->type == XML_ELEMENT_NODE && level < S_ANCESTORS;
         a = a->parent, level++)
        s_add_score(a, score, level);
}

/* True for elements readability scores as paragraphs: p, pre, td, and divs with no
 * block inside. */
static bool s_is_paragraph(const xmlNode *n)
{
    if (s_is(n, "p") || s_is(n, "pre") || s_is(n, "td"))
        return true;
    return s_is(n, "div") && !s_info(n)->block_inside;
}

/* Scores the loose text directly inside a container (text nodes and inline elements
 * between its blocks) as paragraphs of that container. */
static void s_score_loose_text(xmlNode *n)
{
    size_t len = 0, commas = 0;
    bool space = false;
    for (xmlNode *c = n->children;; c = c->next) {
        bool inline_part =
            c != NULL &&
            (c->type == XML_TEXT_NODE ||
             (c->type == XML_ELEMENT_NODE && nw_html_is_inline(s_name(c)) && !s_is(c, "br")));
        if (inline_part) {
            if (c->type == XML_TEXT_NODE && c->content) {
                len += s_squeezed_len((const char *)c->content, &space);
                commas += s_count_commas((const char *)c->content);
            } else if (c->type == XML_ELEMENT_NODE) {
                len += s_info(c)->text;
                commas += s_info(c)->commas;
            }
            continue;
        }
        s_score_paragraph(n, len, commas);
        len = commas = 0;
        if (c == NULL)
            break;
    }
}

static void s_keep_top(s_ctx_t *ctx, xmlNode *n)
{
    double score = s_info(n)->score;
    for (int i = 0; i < S_TOP_N; i++) {
        if (ctx->top[i] == NULL || score > s_info(ctx->top[i])->score) {
            memmove(&ctx->top[i + 1], &ctx->top[i], (size_t)(S_TOP_N - 1 - i) * sizeof(xmlNode *));
            ctx->top[i] = n;
            return;
        }
    }
}

/* True when anc is n or one of its ancestors. */
static bool s_contains(const xmlNode *anc, const xmlNode *n)
{
    for (; n != NULL; n = n->parent) {
        if (n == anc)
            return true;
    }
    return false;
}

/* Folds text for a loose comparison: ASCII letters and digits lowercased, other ASCII
 * and general punctuation (U+2000-U+206F: dashes, quotes, the ellipsis) left out. */
static void s_fold(const char *in, char *out, size_t outlen)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && k + 1 < outlen; p++) {
        if (p[0] == 0xe2 && (p[1] == 0x80 || p[1] == 0x81) && p[2] != '\0') {
            p += 2;
        } else if (*p >= 0x80 || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')) {
            out[k++] = (char)*p;
        } else if (*p >= 'A' && *p <= 'Z') {
            out[k++] = (char)(*p + 32);
        }
    }
    out[k] = '\0';
}

/* The <article> element that holds the page's title as its heading, with some prose of
 * its own, is the story the page is about, not one of the teasers beside or inside it:
 * it becomes the best candidate. */
static void s_title_article(s_ctx_t *ctx, xmlNode *body)
{
    char title[512], head[512];
    if (ctx->title == NULL || ctx->title[0] == '\0')
        return;
    s_fold(ctx->title, title, sizeof title);
    for (xmlNode *n = body; n != NULL; n = s_next(n, body, true)) {
        if (!s_is(n, "h1"))
            continue;
        nw_buf_t t = {0};
        bool ok = nw_html_node_text(n, &t, &(bool){false}) == NW_OK && t.len > 0;
        if (ok)
            s_fold(t.data, head, sizeof head);
        nw_buf_free(&t);
        if (!ok || strlen(head) < 8 || strstr(title, head) == NULL)
            continue;
        for (xmlNode *a = n->parent; a != NULL && a != body; a = a->parent) {
            s_info_t *in = s_info(a);
            if (!s_is(a, "article"))
                continue;
            if (in->candidate && in->text - in->link >= S_TITLE_PROSE && ctx->top[0] != NULL &&
                in->score < s_info(ctx->top[0])->score)
                in->score = s_info(ctx->top[0])->score + 1;
            break;
        }
        return;
    }
}

/* Copies the probe of text, squeezed: its first (tail false) or last S_PROBE bytes, cut
 * at word boundaries, into out (S_PROBE + 1 bytes). Returns false when text is short. */
static bool s_probe(const char *text, bool tail, char *out)
{
    size_t len = strlen(text);
    if (len < 2 * S_PROBE)
        return false;
    const char *start = tail ? text + len - S_PROBE : text;
    size_t n = S_PROBE;
    if (tail) {
        while (n > 0 && *start != ' ') /* start after a blank: a whole word */
            start++, n--;
    } else {
        while (n > 0 && start[n] != ' ') /* end before a blank */
            n--;
    }
    while (n > 0 && *start == ' ')
        start++, n--;
    if (n < S_PROBE / 2)
        return false;
    memcpy(out, start, n);
    out[n] = '\0';
    return true;
}

/* The element that holds the JSON-LD articleBody: the nearest common ancestor of the
 * paragraph its first words are in and the paragraph its last words are in. A strong
 * candidate when the page carries one; NULL when the body is not found in the page. */
static xmlNode *s_ld_container(const s_ctx_t *ctx, xmlNode *body)
{
    char head[S_PROBE + 1], tail[S_PROBE + 1];
    if (ctx->ld_body == NULL || strlen(ctx->ld_body) < S_LD_MIN)
        return NULL;
    char *ld = strdup(ctx->ld_body);
    bool ok = ld != NULL && s_probe(nw_html_squeeze(ld), false, head) && s_probe(ld, true, tail);
    free(ld);
    if (!ok)
        return NULL;
    xmlNode *first = NULL, *last = NULL;
    nw_buf_t t = {0};
    for (xmlNode *n = body; n != NULL; n = s_next(n, body, true)) {
        if (n->type != XML_ELEMENT_NODE ||
            !(s_is_paragraph(n) || s_is(n, "li") || s_is(n, "blockquote")))
            continue;
        nw_buf_reset(&t);
        if (nw_html_node_text(n, &t, &(bool){false}) != NW_OK || t.len == 0)
            continue;
        if (first == NULL && strstr(t.data, head) != NULL)
            first = n;
        if (first != NULL && strstr(t.data, tail) != NULL)
            last = n;
    }
    nw_buf_free(&t);
    if (first == NULL || last == NULL)
        return NULL;
    for (xmlNode *a = first->parent; a != NULL && a != body; a = a->parent) {
        if (s_contains(a, last))
            return s_info(a) != NULL ? a : NULL;
    }
    return NULL;
}

/* Finds the best container of the article under body, as readability does: scores,
 * link-density scaling, a common ancestor of close runners-up, a climb to a parent that
 * scores better. Returns NULL when no paragraph scored. */
static xmlNode *s_best_candidate(s_ctx_t *ctx, xmlNode *body)
{
    for (xmlNode *n = body; n != NULL; n = s_next(n, body, true)) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (s_is_paragraph(n)) {
            if (n->parent != NULL)
                s_score_paragraph(n->parent, s_info(n)->text, s_info(n)->commas);
        } else if (!nw_html_is_inline(s_name(n)) && !s_is(n, "li") && !s_is_heading(n)) {
            s_score_loose_text(n);
        }
    }
    memset(ctx->top, 0, sizeof ctx->top);
    for (size_t i = 0; i < ctx->n_info; i++) {
        s_info_t *in = &ctx->info[i];
        if (in->candidate)
            in->score *= 1.0 - s_link_density(in);
    }
    for (xmlNode *n = body; n != NULL; n = s_next(n, body, true)) {
        if (n->type == XML_ELEMENT_NODE && s_info(n)->candidate)
            s_keep_top(ctx, n);
    }
    s_title_article(ctx, body);
    memset(ctx->top, 0, sizeof ctx->top);
    for (xmlNode *n = body; n != NULL; n = s_next(n, body, true)) {
        if (n->type == XML_ELEMENT_NODE && s_info(n)->candidate)
            s_keep_top(ctx, n);
    }
    xmlNode *top = ctx->top[0];
    if (top == NULL)
        return NULL;
    xmlNode *ld = s_ld_container(ctx, body);
    if (ld != NULL)
        return ld;
    double best = s_info(top)->score;
    /* An <article> element is one self-contained composition: the climbs below never
     * leave the one the best candidate is in (its siblings are other stories). */
    const xmlNode *fence = body;
    for (const xmlNode *a = top; a != NULL && a != body; a = a->parent) {
        if (s_is(a, "article")) {
            fence = a;
            break;
        }
    }
    /* Several strong candidates under one ancestor: the article is that ancestor. */
    size_t close = 0;
    for (int i = 1; i < S_TOP_N && ctx->top[i] != NULL; i++)
        close += s_info(ctx->top[i])->score >= best * 0.75;
    if (close >= S_CLOSE_MIN) {
        for (xmlNode *a = top->parent; top != fence && a != NULL && a != fence->parent;
             a = a->parent) {
            size_t holds = 0;
            for (int i = 1; i < S_TOP_N && ctx->top[i] != NULL; i++)
                holds += s_info(ctx->top[i])->score >= best * 0.75 && s_contains(a, ctx->top[i]);
            if (holds >= S_CLOSE_MIN) {
                top = a;
                break;
            }
        }
    }
    /* A parent that scores better than its best child holds more of the article. */
    double last = s_info(top)->score;
    double threshold = last / 3;
    for (xmlNode *p = top->parent; top != fence && p != NULL && p != fence->parent && p != body &&
                                   p->type == XML_ELEMENT_NODE;
         p = p->parent) {
        s_info_t *in = s_info(p);
        if (in == NULL)
            break;
        if (!in->candidate)
            continue;
        if (in->score < threshold)
            break;
        if (in->score > last) {
            top = p;
            break;
        }
        last = in->score;
    }
    /* A lone child says nothing its parent does not. */
    while (top != fence && top->parent != NULL && top->parent != body &&
           s_info(top->parent) != NULL && xmlChildElementCount(top->parent) == 1)
        top = top->parent;
    return top;
}

/* Readability's sibling rule: a sibling of the best container is article too when it
 * scores well itself, or is a paragraph of real prose. */
static bool s_sibling_belongs(const xmlNode *top, xmlNode *s)
{
    const s_info_t *ti = s_info(top), *si = s_info(s);
    double threshold = ti->score * 0.2 > 10 ? ti->score * 0.2 : 10;
    double bonus = 0;
    const char *tc = nw_html_attr(top, "class"), *sc = nw_html_attr(s, "class");
    if (tc != NULL && sc != NULL && tc[0] != '\0' && strcmp(tc, sc) == 0)
        bonus = ti->score * 0.2;
    if (s_is(top, "article") && s_is(s, "article"))
        return false; /* another story */
    if (si->candidate && si->score + bonus >= threshold)
        return true;
    if (!s_is(s, "p") && !(s_is(s, "div") && !si->block_inside))
        return false; /* only paragraphs, and divs that are paragraphs, are judged as prose */
    double ld = s_link_density(si);
    if (si->text > 80 && ld < 0.25)
        return true;
    if (si->text > 0 && si->text <= 80 && ld == 0) {
        nw_buf_t t = {0};
        bool prose = nw_html_node_text(s, &t, &(bool){false}) == NW_OK && t.len > 0 &&
                     (strstr(t.data, ". ") != NULL || t.data[t.len - 1] == '.');
        nw_buf_free(&t);
        return prose;
    }
    return false;
}

/* ---- Emitting blocks ------------------------------------------------------------------ */

static uint64_t s_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h | 1;
}

/* The title again, or a byline that only repeats the author ("By Dana Reyes"). */
static bool s_repeats_metadata(const s_ctx_t *ctx, const char *text)
{
    if (ctx->title != NULL && strcasecmp(ctx->title, text) == 0)
        return true;
    if (ctx->author == NULL || ctx->author[0] == '\0')
        return false;
    if (strncasecmp(text, "by ", 3) == 0)
        text += 3;
    return strcasecmp(ctx->author, text) == 0;
}

/* Adds a block of text (squeezed in place, owned by the call) unless it is empty, the
 * title, a repeat, or boilerplate by the text rules. */
static int s_add_block(s_ctx_t *ctx, nw_block_kind_t kind, char *text)
{
    nw_html_squeeze(text);
    size_t len = strlen(text);
    if (kind == NW_BLOCK_HEADING && len > S_HEADING_MAX)
        kind = NW_BLOCK_PARAGRAPH;
    if (len == 0 || ctx->ended || ctx->n_blocks >= S_MAX_BLOCKS || s_repeats_metadata(ctx, text)) {
        free(text);
        return NW_OK;
    }
    nw_bp_action_t action = nw_boilerplate_classify(ctx->opts->lines, text, len);
    if (action == NW_BP_END && ctx->body_bytes > 0)
        ctx->ended = true;
    if (action != NW_BP_KEEP) {
        free(text);
        return NW_OK;
    }
    uint64_t h = len >= S_DEDUPE_MIN ? s_hash(text) : 0;
    for (size_t i = 0; h != 0 && i < ctx->n_blocks; i++) {
        if (ctx->hashes[i] == h && strcmp(ctx->blocks[i].text, text) == 0) {
            free(text);
            return NW_OK;
        }
    }
    if (ctx->n_blocks == ctx->cap_blocks) {
        size_t cap = ctx->cap_blocks ? ctx->cap_blocks * 2 : 32;
        nw_block_t *b = realloc(ctx->blocks, cap * sizeof(*b));
        if (b != NULL)
            ctx->blocks = b;
        uint64_t *hs = realloc(ctx->hashes, cap * sizeof(*hs));
        if (hs != NULL)
            ctx->hashes = hs;
        if (b == NULL || hs == NULL) {
            free(text);
            return NW_ERR_NOMEM;
        }
        ctx->cap_blocks = cap;
    }
    ctx->hashes[ctx->n_blocks] = h;
    ctx->blocks[ctx->n_blocks++] = (nw_block_t){.kind = kind, .text = text, .line = 0};
    if (kind != NW_BLOCK_HEADING)
        ctx->body_bytes += len;
    return NW_OK;
}

/* Turns the gathered inline text into a block of the run's kind. */
static int s_flush(s_ctx_t *ctx)
{
    ctx->run_space = false;
    if (ctx->run.len == 0)
        return NW_OK;
    char *text = nw_buf_steal(&ctx->run);
    if (text == NULL)
        return NW_ERR_NOMEM;
    return s_add_block(ctx, ctx->run_kind, text);
}

/* Readability's conditional cleaning: a container inside the article that is mostly
 * links, images, form fields or embeds, or whose class says boilerplate, is dropped. */
static bool s_is_junk(const xmlNode *n)
{
    const s_info_t *in = s_info(n);
    double score = in->candidate ? in->score : 0;
    bool list = s_is(n, "ul") || s_is(n, "ol");
    if (in->weight + score < 0)
        return true;
    if (in->commas >= 10)
        return false;
    double ld = s_link_density(in);
    size_t p = in->n_p;
    if (in->n_img > 1 && (double)p / (double)in->n_img < 0.5)
        return true;
    if (!list && in->n_li > p + 100)
        return true;
    if (in->n_input > p / 3)
        return true;
    if (!list && in->text < S_MIN_PARA && (in->n_img == 0 || in->n_img > 2) && ld > 0)
        return true;
    if (in->weight < 25 && ld > 0.2)
        return true;
    if (in->weight >= 25 && ld > 0.5)
        return true;
    return (in->n_embed == 1 && in->text < 75) || in->n_embed > 1;
}

static bool s_cleaned_conditionally(const xmlNode *n)
{
    static const char *const names[] = {"div",  "section",  "ul",     "ol", "table",
                                        "form", "fieldset", "header", "dl", NULL};
    const char *s = s_name(n);
    for (size_t i = 0; names[i] != NULL; i++) {
        if (strcmp(s, names[i]) == 0)
            return true;
    }
    return false;
}

static int s_emit_children(s_ctx_t *ctx, xmlNode *n, int depth);

/* Text of a whole element as one block of kind. */
static int s_emit_whole(s_ctx_t *ctx, xmlNode *n, nw_block_kind_t kind)
{
    nw_buf_t t = {0};
    if (nw_html_node_text(n, &t, &(bool){false}) != NW_OK) {
        nw_buf_free(&t);
        return NW_ERR_NOMEM;
    }
    if (t.len == 0)
        return NW_OK;
    char *text = nw_buf_steal(&t);
    return text != NULL ? s_add_block(ctx, kind, text) : NW_ERR_NOMEM;
}

/* A paragraph that is nothing but a link ("Read more: ...") is navigation. */
static bool s_link_paragraph(const xmlNode *n)
{
    const s_info_t *in = s_info(n);
    return in->text < 200 && s_link_density(in) > 0.9;
}

static int s_emit_element(s_ctx_t *ctx, xmlNode *n, int depth)
{
    int rc;
    if (s_is(n, "br")) {
        /* One <br> is a line break inside a paragraph; two in a row end it. */
        xmlNode *prev = n->prev;
        while (prev != NULL && prev->type == XML_TEXT_NODE && prev->content &&
               strspn((const char *)prev->content, " \t\r\n") ==
                   strlen((const char *)prev->content))
            prev = prev->prev;
        if (prev != NULL && s_is(prev, "br"))
            return s_flush(ctx);
        ctx->run_space = true;
        return NW_OK;
    }
    if (s_is(n, "time") && n->parent != NULL && !nw_html_is_inline(s_name(n->parent)) &&
        !s_is(n->parent, "p") && !s_is(n->parent, "li") && !s_is(n->parent, "td"))
        return NW_OK; /* a timestamp standing alone in a container is metadata, not prose */
    if (nw_html_is_inline(s_name(n)))
        return nw_html_node_text(n, &ctx->run, &ctx->run_space);
    if ((rc = s_flush(ctx)) != NW_OK)
        return rc;
    if (s_is_heading(n))
        return s_emit_whole(ctx, n, NW_BLOCK_HEADING);
    if (s_cleaned_conditionally(n) && s_is_junk(n))
        return NW_OK;
    if ((s_is(n, "p") || s_is(n, "li")) && s_link_paragraph(n))
        return NW_OK;
    if (s_is(n, "pre"))
        return s_emit_whole(ctx, n, NW_BLOCK_PARAGRAPH);
    nw_block_kind_t outer = ctx->run_kind;
    if (s_is(n, "li"))
        ctx->run_kind = NW_BLOCK_BULLET;
    rc = s_emit_children(ctx, n, depth + 1);
    if (rc == NW_OK)
        rc = s_flush(ctx);
    ctx->run_kind = outer;
    return rc;
}

static int s_emit_children(s_ctx_t *ctx, xmlNode *n, int depth)
{
    if (depth > S_MAX_DEPTH)
        return NW_OK;
    for (xmlNode *c = n->children; c != NULL; c = c->next) {
        int rc = NW_OK;
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
            rc = nw_html_node_text(c, &ctx->run, &ctx->run_space);
        else if (c->type == XML_ELEMENT_NODE)
            rc = s_emit_element(ctx, c, depth);
        if (rc != NW_OK)
            return rc;
    }
    return NW_OK;
}

/* Emits the article: the best container and the siblings that belong with it. */
static int s_emit_article(s_ctx_t *ctx, xmlNode *top)
{
    int rc = NW_OK;
    ctx->run_kind = NW_BLOCK_PARAGRAPH;
    xmlNode *parent = top->parent;
    if (parent == NULL || s_info(parent) == NULL)
        return s_emit_children(ctx, top, 1);
    for (xmlNode *s = parent->children; s != NULL && rc == NW_OK; s = s->next) {
        if (s->type != XML_ELEMENT_NODE)
            continue;
        if (s == top)
            rc = s_emit_children(ctx, s, 1);
        else if (s_sibling_belongs(top, s))
            rc = s_emit_element(ctx, s, 1);
        if (rc == NW_OK)
            rc = s_flush(ctx);
    }
    return rc;
}

static void s_ctx_reset(s_ctx_t *ctx)
{
    for (size_t i = 0; i < ctx->n_blocks; i++)
        free(ctx->blocks[i].text);
    free(ctx->blocks);
    free(ctx->hashes);
    free(ctx->info);
    nw_buf_free(&ctx->run);
    ctx->blocks = NULL;
    ctx->hashes = NULL;
    ctx->info = NULL;
    ctx->n_blocks = ctx->cap_blocks = ctx->n_info = 0;
    ctx->body_bytes = 0;
    ctx->ended = false;
    ctx->run_space = false;
}

static xmlNode *s_find_body(xmlDoc *doc)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    for (xmlNode *n = root; n != NULL; n = s_next(n, root, true)) {
        if (s_is(n, "body"))
            return n;
    }
    return root;
}

/* One try at the body of a parsed page: clean, score, emit. whole emits the entire
 * body as content (an article fragment, no scoring). */
static int s_try(s_ctx_t *ctx, xmlDoc *doc, bool whole)
{
    xmlNode *body = s_find_body(doc);
    if (body == NULL)
        return NW_OK;
    s_clean(ctx, body);
    int rc = s_stats(ctx, body);
    if (rc != NW_OK)
        return rc;
    ctx->run_kind = NW_BLOCK_PARAGRAPH;
    if (whole) {
        rc = s_emit_children(ctx, body, 0);
        return rc == NW_OK ? s_flush(ctx) : rc;
    }
    xmlNode *top = s_best_candidate(ctx, body);
    if (top == NULL)
        return NW_OK;
    rc = s_emit_article(ctx, top);
    return rc == NW_OK ? s_flush(ctx) : rc;
}

/* Splits a JSON-LD articleBody into paragraphs at its line breaks. */
static int s_blocks_from_text(s_ctx_t *ctx, const char *body)
{
    const char *p = body;
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        char *text = strndup(p, len);
        if (text == NULL)
            return NW_ERR_NOMEM;
        int rc = s_add_block(ctx, NW_BLOCK_PARAGRAPH, text);
        if (rc != NW_OK)
            return rc;
        p += len + (eol != NULL);
    }
    return NW_OK;
}

static int s_ctx_rules(s_ctx_t *ctx, const nw_html_opts_t *opts, nw_html_rules_t **owned)
{
    static const nw_html_opts_t none = {0};
    ctx->opts = opts != NULL ? opts : &none;
    ctx->rules = ctx->opts->rules;
    *owned = NULL;
    if (ctx->rules == NULL) {
        int rc = nw_html_rules_default(owned);
        if (rc != NW_OK)
            return rc;
        ctx->rules = *owned;
    }
    return NW_OK;
}

/* Moves the blocks of ctx into article->blocks (appending). */
static int s_take_blocks(s_ctx_t *ctx, nw_article_t *art)
{
    if (ctx->n_blocks == 0)
        return NW_OK;
    nw_block_t *b = realloc(art->blocks, (art->n_blocks + ctx->n_blocks) * sizeof(*b));
    if (b == NULL)
        return NW_ERR_NOMEM;
    memcpy(b + art->n_blocks, ctx->blocks, ctx->n_blocks * sizeof(*b));
    art->blocks = b;
    art->n_blocks += ctx->n_blocks;
    ctx->n_blocks = 0;
    return NW_OK;
}

static int s_fill_meta(nw_article_t *art, nw_html_meta_t *meta)
{
    art->title = meta->title;
    art->author = meta->author;
    art->url = meta->url;
    art->section = meta->section;
    art->source = meta->source;
    art->article_time_ms = meta->time_ms;
    meta->title = meta->author = meta->url = meta->section = meta->source = NULL;
    art->place = strdup("");
    return art->place != NULL ? NW_OK : NW_ERR_NOMEM;
}

/* Parses data and runs one try; fills *meta first when meta is not NULL. */
static int s_parse_and_try(s_ctx_t *ctx, const char *data, size_t len, bool whole,
                           nw_html_meta_t *meta)
{
    htmlDocPtr doc = s_parse(data, len, ctx->encoding);
    if (doc == NULL)
        return NW_ERR_ARTICLE_EMPTY;
    int rc = NW_OK;
    if (meta != NULL)
        rc = nw_html_meta_collect(doc, meta);
    if (rc == NW_OK) {
        ctx->title = meta != NULL ? meta->title : ctx->title;
        ctx->author = meta != NULL ? meta->author : ctx->author;
        ctx->ld_body = meta != NULL ? meta->ld_body : ctx->ld_body;
        rc = s_try(ctx, doc, whole);
    }
    xmlFreeDoc(doc);
    return rc;
}

/* Parses data again into a fresh attempt with use_class and encoding, and keeps it in
 * *ctx when it finds more body text. Returns NW_OK or the attempt's error. */
static int s_try_again(s_ctx_t *ctx, bool use_class, const char *encoding, const char *data,
                       size_t len)
{
    s_ctx_t again = {.opts = ctx->opts,
                     .rules = ctx->rules,
                     .use_class = use_class,
                     .title = ctx->title,
                     .author = ctx->author,
                     .ld_body = ctx->ld_body,
                     .encoding = encoding};
    int rc = s_parse_and_try(&again, data, len, false, NULL);
    if (rc == NW_OK && again.body_bytes > ctx->body_bytes) {
        s_ctx_reset(ctx);
        *ctx = again;
    } else {
        s_ctx_reset(&again);
    }
    return rc == NW_ERR_ARTICLE_EMPTY ? NW_OK : rc;
}

static int s_check_size(size_t len, char *err, size_t errlen)
{
    if (len > NW_HTML_MAX_INPUT) {
        nw_error_format(err, errlen,
                        "HTML page is %zu bytes, over the extractor's limit of %u bytes", len,
                        NW_HTML_MAX_INPUT);
        return NW_ERR_TOOBIG;
    }
    return NW_OK;
}

static int s_check_subset(const char *data, size_t len, char *err, size_t errlen)
{
    if (!s_has_internal_subset(data, len))
        return NW_OK;
    nw_error_format(err, errlen,
                    "the page's DOCTYPE declares entities (an internal DTD subset, the shape "
                    "of an entity bomb); HTML has none: refused unread");
    return NW_ERR_INVAL;
}

int nw_html_extract(const char *data, size_t len, const nw_html_opts_t *opts, nw_article_t *article,
                    char *err, size_t errlen)
{
    s_ctx_t ctx = {0};
    nw_html_meta_t meta = {0};
    nw_html_rules_t *owned = NULL;
    memset(article, 0, sizeof *article);
    int rc = s_check_size(len, err, errlen);
    if (rc != NW_OK)
        return rc;
    /* nothing but white space up to the end or a NUL (the bytes need not end in one) */
    const char *text = data == NULL ? NULL : s_skip_space(data, data + len);
    if (data == NULL || text == data + len || *text == '\0') {
        nw_error_format(err, errlen, "HTML page is empty");
        return NW_ERR_ARTICLE_EMPTY;
    }
    if ((rc = s_check_subset(data, len, err, errlen)) != NW_OK)
        return rc;
    if ((rc = s_ctx_rules(&ctx, opts, &owned)) != NW_OK)
        goto fail;
    ctx.use_class = true;
    rc = s_parse_and_try(&ctx, data, len, false, &meta);
    /* Class rules can remove the article itself on an odd page: try once without. */
    if (rc == NW_OK && ctx.body_bytes < S_RETRY_BELOW)
        rc = s_try_again(&ctx, false, NULL, data, len);
    /* Bytes that are not in the charset the page declares stop libxml2 at the first bad
     * one: read the page as UTF-8 when it is, else as Latin-1 (every byte is a character
     * there; Windows-1252 leaves five undefined). */
    if (rc == NW_OK && ctx.body_bytes < S_MIN_ARTICLE && s_declares_charset(data, len))
        rc = s_try_again(&ctx, true, nw_utf8_valid(data, len) ? "UTF-8" : "ISO-8859-1", data, len);
    if (rc == NW_ERR_ARTICLE_EMPTY) {
        nw_error_format(err, errlen, "not an HTML document libxml2 can read");
        goto fail;
    }
    if (rc == NW_OK && strlen(meta.ld_body) >= S_LD_MIN &&
        (double)ctx.body_bytes < S_LD_SHARE * (double)strlen(meta.ld_body)) {
        s_ctx_reset(&ctx);
        rc = s_blocks_from_text(&ctx, meta.ld_body);
    }
    if (rc != NW_OK)
        goto fail;
    if (ctx.body_bytes < S_MIN_ARTICLE) {
        nw_error_format(
            err, errlen,
            "no article in the page: %zu bytes of body text found (title \"%.60s\"); an index "
            "page, a link list or a page that needs JavaScript",
            ctx.body_bytes, meta.title);
        rc = NW_ERR_ARTICLE_BOILERPLATE;
        goto fail;
    }
    if ((rc = s_fill_meta(article, &meta)) != NW_OK || (rc = s_take_blocks(&ctx, article)) != NW_OK)
        goto fail;
    if (article->title[0] == '\0') {
        /* No title anywhere: the first words of the body stand in. */
        free(article->title);
        const char *first = article->blocks[0].text;
        size_t cut = strlen(first) > S_TITLE_CUT ? S_TITLE_CUT : strlen(first);
        while (cut > 0 && ((unsigned char)first[cut] & 0xc0) == 0x80)
            cut--; /* never inside a UTF-8 character */
        article->title = strndup(first, cut);
        if (article->title == NULL) {
            rc = NW_ERR_NOMEM;
            goto fail;
        }
    }
    if ((rc = nw_article_set_id(article)) != NW_OK)
        goto fail;
    s_ctx_reset(&ctx);
    nw_html_meta_clear(&meta);
    nw_html_rules_destroy(&owned);
    return NW_OK;
fail:
    if (rc == NW_ERR_NOMEM)
        nw_error_format(err, errlen, "out of memory while extracting the page");
    s_ctx_reset(&ctx);
    nw_html_meta_clear(&meta);
    nw_html_rules_destroy(&owned);
    nw_article_clear(article);
    return rc;
}

int nw_html_body(const char *data, size_t len, const nw_html_opts_t *opts, nw_article_t *article,
                 char *err, size_t errlen)
{
    s_ctx_t ctx = {0};
    nw_html_rules_t *owned = NULL;
    int rc = s_check_size(len, err, errlen);
    if (rc == NW_OK && data != NULL)
        rc = s_check_subset(data, len, err, errlen);
    if (rc != NW_OK)
        return rc;
    if ((rc = s_ctx_rules(&ctx, opts, &owned)) != NW_OK)
        goto done;
    ctx.use_class = true;
    ctx.title = article->title;
    ctx.author = article->author;
    rc = s_parse_and_try(&ctx, data, len, true, NULL);
    if (rc == NW_ERR_ARTICLE_EMPTY)
        rc = NW_OK; /* nothing to read: no blocks */
    if (rc == NW_OK)
        rc = s_take_blocks(&ctx, article);
done:
    if (rc == NW_ERR_NOMEM)
        nw_error_format(err, errlen, "out of memory while reading the HTML body");
    s_ctx_reset(&ctx);
    nw_html_rules_destroy(&owned);
    return rc;
}
