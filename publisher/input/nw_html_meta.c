#include "nw_html_meta.h"

#include "nw_error.h"
#include "nw_html.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S_FIELD_MAX 300        /* bytes of a title, author, section or source at most */
#define S_URL_MAX   2048       /* bytes of a URL at most */
#define S_LD_MAX    (2u << 20) /* a JSON-LD script larger than this is skipped */
#define S_LD_DEPTH  8          /* JSON-LD nesting followed at most (@graph, mainEntity) */
#define S_N_PRIO    4          /* sources per field, best first */

typedef enum {
    S_TITLE,
    S_AUTHOR,
    S_URL,
    S_SECTION,
    S_SOURCE,
    S_TIME,
    S_BODY,
    S_N_FIELDS
} s_field_t;

/* Candidates per field and source rank; the best ranked one wins. */
typedef struct {
    char *slot[S_N_FIELDS][S_N_PRIO]; /* owned copies, NULL when not seen */
} s_found_t;

static const char *const s_inline[] = {
    "a",    "abbr",  "b",     "bdi",    "bdo",    "big",     "cite", "code", "data", "del",
    "dfn",  "em",    "font",  "i",      "ins",    "kbd",     "mark", "nobr", "q",    "s",
    "samp", "small", "span",  "strike", "strong", "sub",     "sup",  "time", "tt",   "u",
    "var",  "wbr",   "label", "img",    "abbr",   "acronym", NULL,
};

bool nw_html_is_inline(const char *name)
{
    for (size_t i = 0; s_inline[i] != NULL; i++) {
        if (strcmp(name, s_inline[i]) == 0)
            return true;
    }
    return false;
}

const char *nw_html_attr(const xmlNode *node, const char *name)
{
    for (const xmlAttr *a = node->properties; a != NULL; a = a->next) {
        if (a->name != NULL && strcasecmp((const char *)a->name, name) == 0) {
            const xmlNode *v = a->children;
            if (v != NULL && v->type == XML_TEXT_NODE && v->content != NULL)
                return (const char *)v->content;
            return "";
        }
    }
    return NULL;
}

/* Returns the bytes of the whitespace character at s (ASCII blanks and U+00A0), or 0. */
static size_t s_space_at(const unsigned char *s)
{
    if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v')
        return 1;
    if (s[0] == 0xc2 && s[1] == 0xa0)
        return 2;
    return 0;
}

/* Appends s with whitespace collapsed; *space says a separator is pending. */
static int s_append_squeezed(nw_buf_t *out, const char *s, bool *space)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        size_t w = s_space_at(p);
        if (w > 0) {
            *space = true;
            p += w;
            continue;
        }
        const unsigned char *start = p;
        while (*p != '\0' && s_space_at(p) == 0)
            p++;
        if (*space && out->len > 0 && out->data[out->len - 1] != ' ' &&
            nw_buf_append(out, " ", 1) != NW_OK)
            return NW_ERR_NOMEM;
        *space = false;
        if (nw_buf_append(out, start, (size_t)(p - start)) != NW_OK)
            return NW_ERR_NOMEM;
    }
    return NW_OK;
}

static bool s_is_element(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name != NULL &&
           strcmp((const char *)n->name, name) == 0;
}

static bool s_breaks_words(const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE &&
           (s_is_element(n, "br") || !nw_html_is_inline((const char *)n->name));
}

int nw_html_node_text(const xmlNode *node, nw_buf_t *out, bool *space_p)
{
    bool space = *space_p;
    const xmlNode *n = node;
    for (;;) {
        if (s_breaks_words(n))
            space = true;
        if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content &&
            s_append_squeezed(out, (const char *)n->content, &space) != NW_OK)
            return NW_ERR_NOMEM;
        if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
            n = n->children;
            continue;
        }
        for (;;) {
            if (s_breaks_words(n))
                space = true;
            if (n == node) {
                *space_p = space;
                return NW_OK;
            }
            if (n->next != NULL) {
                n = n->next;
                break;
            }
            n = n->parent;
        }
    }
}

char *nw_html_squeeze(char *s)
{
    char *w = s;
    const unsigned char *p = (const unsigned char *)s;
    bool space = false;
    while (*p != '\0') {
        size_t sp = s_space_at(p);
        if (sp > 0) {
            space = true;
            p += sp;
            continue;
        }
        if (space && w != s)
            *w++ = ' ';
        space = false;
        *w++ = (char)*p++;
    }
    *w = '\0';
    return s;
}

/* Copies a field value squeezed; values longer than max are cut at a UTF-8 boundary. */
static char *s_clean_copy(const char *value, size_t max)
{
    size_t len = strlen(value);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, value, len + 1);
    nw_html_squeeze(copy);
    len = strlen(copy);
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)copy[len] & 0xc0) == 0x80)
            len--;
        copy[len] = '\0';
    }
    return copy;
}

static bool s_url_ok(const char *u)
{
    if (strncasecmp(u, "http://", 7) != 0 && strncasecmp(u, "https://", 8) != 0)
        return false;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
        if (*p <= ' ' || *p == 0x7f)
            return false;
    }
    return strlen(u) <= S_URL_MAX;
}

/* Offers value for field at rank prio; the first offer per rank stays. */
static int s_offer(s_found_t *f, s_field_t field, int prio, const char *value)
{
    if (value == NULL || f->slot[field][prio] != NULL)
        return NW_OK;
    /* The article body keeps its line breaks: they separate its paragraphs. */
    char *copy = field == S_BODY ? strdup(value)
                                 : s_clean_copy(value, field == S_URL ? S_URL_MAX : S_FIELD_MAX);
    if (copy == NULL)
        return NW_ERR_NOMEM;
    bool ok = copy[0] != '\0';
    if (ok && field == S_URL)
        ok = s_url_ok(copy);
    if (ok && field == S_TIME) {
        int64_t ms;
        ok = nw_html_parse_time(copy, &ms) == NW_OK;
    }
    if (!ok) {
        free(copy);
        return NW_OK;
    }
    f->slot[field][prio] = copy;
    return NW_OK;
}

/* ---- JSON-LD ---------------------------------------------------------------------- */

static bool s_ld_is_article(json_t *obj)
{
    static const char *const types[] = {
        "NewsArticle",           "Article",
        "BlogPosting",           "ReportageNewsArticle",
        "AnalysisNewsArticle",   "OpinionNewsArticle",
        "BackgroundNewsArticle", "ReviewNewsArticle",
        "LiveBlogPosting",       "Report",
        "ScholarlyArticle",      "TechArticle",
        "SocialMediaPosting",    NULL,
    };
    json_t *t = json_object_get(obj, "@type");
    size_t n = json_is_array(t) ? json_array_size(t) : 1;
    for (size_t i = 0; i < n; i++) {
        json_t *one = json_is_array(t) ? json_array_get(t, i) : t;
        const char *name = json_string_value(one);
        for (size_t k = 0; name != NULL && types[k] != NULL; k++) {
            if (strcmp(name, types[k]) == 0)
                return true;
        }
    }
    return false;
}

/* A name from a string, an object with "name", or an array of those (joined by ", "). */
static int s_ld_names(json_t *v, nw_buf_t *out)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (s[0] != '\0' && strncasecmp(s, "http", 4) != 0)
            return nw_buf_printf(out, "%s%s", out->len ? ", " : "", s);
        return NW_OK;
    }
    if (json_is_object(v))
        return s_ld_names(json_object_get(v, "name"), out);
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v) && i < 8; i++) {
        json_t *item = json_array_get(v, i);
        if (!json_is_array(item) && s_ld_names(item, out) != NW_OK)
            return NW_ERR_NOMEM;
    }
    return NW_OK;
}

static const char *s_ld_first_string(json_t *v)
{
    if (json_is_array(v))
        v = json_array_get(v, 0);
    if (json_is_object(v))
        v = json_object_get(v, "@id");
    return json_string_value(v);
}

static int s_ld_article(s_found_t *f, json_t *obj)
{
    nw_buf_t names = {0};
    int rc = s_offer(f, S_TITLE, 0, json_string_value(json_object_get(obj, "headline")));
    if (rc == NW_OK && (rc = s_ld_names(json_object_get(obj, "author"), &names)) == NW_OK &&
        names.len > 0)
        rc = s_offer(f, S_AUTHOR, 0, names.data);
    nw_buf_free(&names);
    json_t *pub = json_object_get(obj, "publisher");
    if (rc == NW_OK)
        rc = s_offer(f, S_SOURCE, 1, json_string_value(json_object_get(pub, "name")));
    if (rc == NW_OK)
        rc = s_offer(f, S_SECTION, 1, s_ld_first_string(json_object_get(obj, "articleSection")));
    if (rc == NW_OK)
        rc = s_offer(f, S_URL, 2, json_string_value(json_object_get(obj, "url")));
    if (rc == NW_OK)
        rc = s_offer(f, S_URL, 3, s_ld_first_string(json_object_get(obj, "mainEntityOfPage")));
    if (rc == NW_OK)
        rc = s_offer(f, S_TIME, 1, json_string_value(json_object_get(obj, "datePublished")));
    if (rc == NW_OK)
        rc = s_offer(f, S_BODY, 0, json_string_value(json_object_get(obj, "articleBody")));
    return rc;
}

static int s_ld_visit(s_found_t *f, json_t *v, int depth)
{
    int rc = NW_OK;
    if (depth > S_LD_DEPTH)
        return NW_OK;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v) && rc == NW_OK; i++)
            rc = s_ld_visit(f, json_array_get(v, i), depth + 1);
        return rc;
    }
    if (!json_is_object(v))
        return NW_OK;
    if (s_ld_is_article(v))
        rc = s_ld_article(f, v);
    if (rc == NW_OK)
        rc = s_ld_visit(f, json_object_get(v, "@graph"), depth + 1);
    if (rc == NW_OK)
        rc = s_ld_visit(f, json_object_get(v, "mainEntity"), depth + 1);
    return rc;
}

static int s_ld_script(s_found_t *f, const xmlNode *script)
{
    nw_buf_t text = {0};
    for (const xmlNode *c = script->children; c != NULL; c = c->next) {
        if (c->content != NULL && nw_buf_append_str(&text, (const char *)c->content) != NW_OK) {
            nw_buf_free(&text);
            return NW_ERR_NOMEM;
        }
    }
    int rc = NW_OK;
    if (text.len > 0 && text.len <= S_LD_MAX) {
        /* Sites often write raw line breaks and tabs inside JSON-LD strings, which JSON
         * forbids: outside strings they are blanks anyway, inside they become spaces. */
        for (size_t i = 0; i < text.len; i++) {
            if ((unsigned char)text.data[i] < 0x20)
                text.data[i] = ' ';
        }
        json_error_t jerr;
        /* Pages often hold broken JSON-LD: such a script is simply not used. */
        json_t *root = json_loadb(text.data, text.len, 0, &jerr);
        if (root != NULL)
            rc = s_ld_visit(f, root, 0);
        json_decref(root);
    }
    nw_buf_free(&text);
    return rc;
}

/* ---- Meta tags and elements --------------------------------------------------------- */

static bool s_name_in(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcasecmp(name, list[i]) == 0)
            return true;
    }
    return false;
}

static int s_meta(s_found_t *f, const xmlNode *n)
{
    static const char *const times[] = {
        "article:published_time",
        "og:article:published_time",
        "datePublished",
        "pubdate",
        "publishdate",
        "date",
        "dc.date.issued",
        "dcterms.created",
        "sailthru.date",
        "parsely-pub-date",
        "article.published",
        "published_time",
        NULL,
    };
    static const char *const authors[] = {
        "author", "article:author", "dc.creator", "byl", "sailthru.author", "parsely-author", NULL,
    };
    static const char *const sections[] = {
        "article:section", "section", "parsely-section", "article.section", NULL,
    };
    const char *key;
    const char *content = nw_html_attr(n, "content");
    if (content == NULL)
        return NW_OK;
    int rc = NW_OK;
    for (int pass = 0; pass < 3 && rc == NW_OK; pass++) {
        key = nw_html_attr(n, pass == 0 ? "property" : pass == 1 ? "name" : "itemprop");
        if (key == NULL)
            continue;
        if (strcasecmp(key, "og:title") == 0)
            rc = s_offer(f, S_TITLE, 1, content);
        else if (strcasecmp(key, "og:url") == 0)
            rc = s_offer(f, S_URL, 1, content);
        else if (strcasecmp(key, "og:site_name") == 0)
            rc = s_offer(f, S_SOURCE, 0, content);
        else if (s_name_in(key, times))
            rc = s_offer(f, S_TIME, 0, content);
        else if (s_name_in(key, authors) && strncasecmp(content, "http", 4) != 0)
            rc = s_offer(f, S_AUTHOR, 1, content);
        else if (s_name_in(key, sections))
            rc = s_offer(f, S_SECTION, 0, content);
    }
    return rc;
}

static int s_element_text(s_found_t *f, s_field_t field, int prio, const xmlNode *n)
{
    if (f->slot[field][prio] != NULL)
        return NW_OK;
    nw_buf_t text = {0};
    int rc = nw_html_node_text(n, &text, &(bool){false});
    if (rc == NW_OK && text.len > 0)
        rc = s_offer(f, field, prio, text.data);
    nw_buf_free(&text);
    return rc;
}

static int s_visit(s_found_t *f, const xmlNode *n)
{
    const char *name = (const char *)n->name;
    const char *v;
    if (strcmp(name, "meta") == 0)
        return s_meta(f, n);
    if (strcmp(name, "title") == 0)
        return s_element_text(f, S_TITLE, 3, n);
    if (strcmp(name, "h1") == 0)
        return s_element_text(f, S_TITLE, 2, n);
    if (strcmp(name, "link") == 0 && (v = nw_html_attr(n, "rel")) != NULL &&
        strcasecmp(v, "canonical") == 0)
        return s_offer(f, S_URL, 0, nw_html_attr(n, "href"));
    if (strcmp(name, "script") == 0 && (v = nw_html_attr(n, "type")) != NULL &&
        strcasecmp(v, "application/ld+json") == 0)
        return s_ld_script(f, n);
    if (strcmp(name, "time") == 0)
        return s_offer(f, S_TIME, 2, nw_html_attr(n, "datetime"));
    if ((v = nw_html_attr(n, "itemprop")) != NULL && strcasecmp(v, "author") == 0)
        return s_element_text(f, S_AUTHOR, 2, n);
    if (strcmp(name, "a") == 0 && (v = nw_html_attr(n, "rel")) != NULL &&
        strcasecmp(v, "author") == 0)
        return s_element_text(f, S_AUTHOR, 3, n);
    return NW_OK;
}

/* Moves the best candidate of field into *out, or "" when there is none. */
static int s_pick(s_found_t *f, s_field_t field, char **out)
{
    for (int p = 0; p < S_N_PRIO; p++) {
        if (f->slot[field][p] != NULL) {
            *out = f->slot[field][p];
            f->slot[field][p] = NULL;
            return NW_OK;
        }
    }
    *out = strdup("");
    return *out != NULL ? NW_OK : NW_ERR_NOMEM;
}

int nw_html_meta_collect(xmlDoc *doc, nw_html_meta_t *meta)
{
    s_found_t f;
    memset(&f, 0, sizeof f);
    memset(meta, 0, sizeof *meta);
    int rc = NW_OK;
    const xmlNode *root = xmlDocGetRootElement(doc);
    const xmlNode *n = root;
    while (n != NULL && rc == NW_OK) {
        if (n->type == XML_ELEMENT_NODE && n->name != NULL)
            rc = s_visit(&f, n);
        if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
            n = n->children;
            continue;
        }
        while (n != root && n->next == NULL)
            n = n->parent;
        n = n == root ? NULL : n->next;
    }
    char *time_text = NULL;
    if (rc == NW_OK)
        rc = s_pick(&f, S_TITLE, &meta->title);
    if (rc == NW_OK)
        rc = s_pick(&f, S_AUTHOR, &meta->author);
    if (rc == NW_OK)
        rc = s_pick(&f, S_URL, &meta->url);
    if (rc == NW_OK)
        rc = s_pick(&f, S_SECTION, &meta->section);
    if (rc == NW_OK)
        rc = s_pick(&f, S_SOURCE, &meta->source);
    if (rc == NW_OK)
        rc = s_pick(&f, S_BODY, &meta->ld_body);
    if (rc == NW_OK && (rc = s_pick(&f, S_TIME, &time_text)) == NW_OK && time_text[0] != '\0')
        nw_html_parse_time(time_text, &meta->time_ms);
    free(time_text);
    for (int i = 0; i < S_N_FIELDS; i++) {
        for (int p = 0; p < S_N_PRIO; p++)
            free(f.slot[i][p]);
    }
    if (rc != NW_OK)
        nw_html_meta_clear(meta);
    return rc;
}

void nw_html_meta_clear(nw_html_meta_t *meta)
{
    free(meta->title);
    free(meta->author);
    free(meta->url);
    free(meta->section);
    free(meta->source);
    free(meta->ld_body);
    memset(meta, 0, sizeof *meta);
}

/* ---- ISO 8601 ----------------------------------------------------------------------- */

/* Reads exactly n digits at *p into *out. */
static bool s_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

int nw_html_parse_time(const char *text, int64_t *ms)
{
    const char *p = text;
    int y, mo, d, h = 0, mi = 0, s = 0, frac = 0, off = 0;
    while (*p == ' ')
        p++;
    if (!s_digits(&p, 4, &y) || *p++ != '-' || !s_digits(&p, 2, &mo) || *p++ != '-' ||
        !s_digits(&p, 2, &d))
        return NW_ERR_INVAL;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!s_digits(&p, 2, &h) || *p++ != ':' || !s_digits(&p, 2, &mi))
            return NW_ERR_INVAL;
        if (*p == ':' && (p++, !s_digits(&p, 2, &s)))
            return NW_ERR_INVAL;
        if (*p == '.' || *p == ',') {
            p++;
            int scale = 100;
            while (*p >= '0' && *p <= '9') {
                frac += (*p - '0') * scale;
                scale /= 10;
                p++;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (!s_digits(&p, 2, &oh))
                return NW_ERR_INVAL;
            if (*p == ':')
                p++;
            if (*p >= '0' && *p <= '9' && !s_digits(&p, 2, &om))
                return NW_ERR_INVAL;
            off = sign * (oh * 60 + om);
        }
    }
    while (*p == ' ')
        p++;
    if (*p != '\0' || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || s > 60 || off < -24 * 60 || off > 24 * 60)
        return NW_ERR_INVAL;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    time_t t = timegm(&tm);
    *ms = ((int64_t)t - (int64_t)off * 60) * 1000 + frac;
    return NW_OK;
}
