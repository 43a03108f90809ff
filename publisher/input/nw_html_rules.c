#include "nw_html_rules.h"

#include "nw_error.h"
#include "nw_file.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The default rules: publisher/input/html.conf, embedded by nw_embed_text(). */
extern const char nw_html_rules_default_text[];

#define S_RULES_FILE_MAX (1024 * 1024) /* a rules file larger than this is a mistake */
#define S_WEIGHT         25            /* class weight of one positive or negative match */

typedef enum {
    S_DROP,     /* remove the element */
    S_NEGATIVE, /* lowers the element's class weight */
    S_POSITIVE, /* raises the element's class weight */
    S_KEEP,     /* protects the element from class/id drop rules */
} s_action_t;

typedef enum {
    S_TAG,      /* the element name equals the pattern */
    S_ROLE,     /* the role attribute equals the pattern */
    S_CLASS,    /* the pattern occurs in the class or id */
    S_WORD,     /* the pattern is a whole word of the class or id (words split at - _ and blanks) */
    S_ITEMPROP, /* the itemprop attribute (schema.org microdata) equals the pattern */
} s_kind_t;

typedef struct {
    s_action_t action; /* what a match means */
    s_kind_t kind;     /* what is compared */
    char *pattern;     /* lowercase, NUL-terminated */
    size_t len;        /* bytes of pattern */
} s_rule_t;

struct nw_html_rules_t {
    s_rule_t *rules; /* in file order */
    size_t n;        /* used entries of rules */
    size_t cap;      /* allocated entries of rules */
};

static const char *const s_action_names[] = {"drop", "negative", "positive", "keep"};
static const char *const s_kind_names[] = {"tag", "role", "class", "word", "itemprop"};

static bool s_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static bool s_contains_ci(const char *hay, const char *needle, size_t nlen)
{
    size_t hlen = strlen(hay);
    for (size_t i = 0; i + nlen <= hlen; i++) {
        if (strncasecmp(hay + i, needle, nlen) == 0)
            return true;
    }
    return false;
}

/* True when word (nlen bytes) is one of the words of s, split at anything not a letter or
 * digit: "ad" is a word of "top_ad ad-slot" but not of "header". */
static bool s_has_word(const char *s, const char *word, size_t nlen)
{
    const char *p = s;
    while (*p != '\0') {
        while (*p != '\0' && !isalnum((unsigned char)*p))
            p++;
        const char *start = p;
        while (*p != '\0' && isalnum((unsigned char)*p))
            p++;
        if ((size_t)(p - start) == nlen && nlen > 0 && strncasecmp(start, word, nlen) == 0)
            return true;
    }
    return false;
}

static bool s_match(const s_rule_t *r, const char *tag, const nw_html_attrs_t *at)
{
    const char *cls = at->class_attr, *id = at->id_attr;
    switch (r->kind) {
    case S_ITEMPROP: return at->itemprop != NULL && strcasecmp(at->itemprop, r->pattern) == 0;
    case S_TAG: return tag != NULL && strcasecmp(tag, r->pattern) == 0;
    case S_ROLE: return at->role != NULL && strcasecmp(at->role, r->pattern) == 0;
    case S_CLASS:
        return (cls != NULL && s_contains_ci(cls, r->pattern, r->len)) ||
               (id != NULL && s_contains_ci(id, r->pattern, r->len));
    case S_WORD:
        return (cls != NULL && s_has_word(cls, r->pattern, r->len)) ||
               (id != NULL && s_has_word(id, r->pattern, r->len));
    }
    return false;
}

nw_html_verdict_t nw_html_rules_judge(const nw_html_rules_t *rules, const char *tag,
                                      const nw_html_attrs_t *attrs, bool use_class)
{
    nw_html_verdict_t v = {0};
    bool class_drop = false, positive = false, negative = false;
    if (rules == NULL)
        return v;
    for (size_t i = 0; i < rules->n; i++) {
        const s_rule_t *r = &rules->rules[i];
        if (!s_match(r, tag, attrs))
            continue;
        switch (r->action) {
        case S_DROP:
            if (r->kind == S_TAG || r->kind == S_ROLE || r->kind == S_ITEMPROP)
                v.drop = true;
            else
                class_drop = true;
            break;
        case S_NEGATIVE: negative = true; break;
        case S_POSITIVE: positive = true; break;
        case S_KEEP: v.keep = true; break;
        }
    }
    if (class_drop && use_class && !v.keep)
        v.drop = true;
    v.weight = (positive ? S_WEIGHT : 0) - (negative ? S_WEIGHT : 0);
    return v;
}

size_t nw_html_rules_count(const nw_html_rules_t *rules)
{
    return rules != NULL ? rules->n : 0;
}

void nw_html_rules_destroy(nw_html_rules_t **rules_p)
{
    if (rules_p == NULL || *rules_p == NULL)
        return;
    nw_html_rules_t *self = *rules_p;
    for (size_t i = 0; i < self->n; i++)
        free(self->rules[i].pattern);
    free(self->rules);
    free(self);
    *rules_p = NULL;
}

/* Finds name (wlen bytes) in names; returns its index or -1. */
static int s_lookup(const char *const *names, size_t n, const char *word, size_t wlen)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(names[i]) == wlen && strncmp(names[i], word, wlen) == 0)
            return (int)i;
    }
    return -1;
}

static void s_next_word(const char **p, const char *end, const char **word, size_t *wlen)
{
    while (*p < end && s_is_blank(**p))
        (*p)++;
    *word = *p;
    while (*p < end && !s_is_blank(**p))
        (*p)++;
    *wlen = (size_t)(*p - *word);
}

static int s_add(nw_html_rules_t *self, s_action_t action, s_kind_t kind, const char *pat,
                 size_t len)
{
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        s_rule_t *grown = realloc(self->rules, cap * sizeof(*grown));
        if (grown == NULL)
            return NW_ERR_NOMEM;
        self->rules = grown;
        self->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return NW_ERR_NOMEM;
    for (size_t i = 0; i < len; i++)
        copy[i] = (char)tolower((unsigned char)pat[i]);
    copy[len] = '\0';
    self->rules[self->n++] =
        (s_rule_t){.action = action, .kind = kind, .pattern = copy, .len = len};
    return NW_OK;
}

/* Parses one non-blank, non-comment line "ACTION KIND PATTERN". */
static int s_parse_line(nw_html_rules_t *self, const char *p, const char *end, char *why,
                        size_t whylen)
{
    const char *w;
    size_t wl;
    s_next_word(&p, end, &w, &wl);
    int action = s_lookup(s_action_names, 4, w, wl);
    if (action < 0) {
        snprintf(why, whylen, "unknown action '%.*s' (drop, negative, positive or keep)", (int)wl,
                 w);
        return NW_ERR_CONFIG;
    }
    s_next_word(&p, end, &w, &wl);
    int kind = s_lookup(s_kind_names, 5, w, wl);
    if (kind < 0) {
        snprintf(why, whylen, "unknown kind '%.*s' (tag, role, class, word or itemprop)", (int)wl,
                 w);
        return NW_ERR_CONFIG;
    }
    const char *pat;
    size_t plen;
    s_next_word(&p, end, &pat, &plen);
    if (plen == 0) {
        snprintf(why, whylen, "rule '%s %s' has no pattern", s_action_names[action],
                 s_kind_names[kind]);
        return NW_ERR_CONFIG;
    }
    s_next_word(&p, end, &w, &wl);
    if (wl > 0) {
        snprintf(why, whylen, "unexpected '%.*s' after the pattern (one word per rule)", (int)wl,
                 w);
        return NW_ERR_CONFIG;
    }
    if (action == S_KEEP && kind != S_CLASS && kind != S_WORD) {
        snprintf(why, whylen, "keep applies to class and word rules only");
        return NW_ERR_CONFIG;
    }
    return s_add(self, (s_action_t)action, (s_kind_t)kind, pat, plen);
}

int nw_html_rules_parse(const char *text, size_t len, const char *origin, nw_html_rules_t **out,
                        char *err, size_t errlen)
{
    char why[256] = "";
    size_t lineno = 0;
    int rc = NW_OK;
    *out = NULL;
    nw_html_rules_t *self = calloc(1, sizeof(*self));
    if (self == NULL) {
        snprintf(err, errlen, "%s: out of memory", origin);
        return NW_ERR_NOMEM;
    }
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol != NULL ? eol : end;
        lineno++;
        const char *q = p;
        while (q < line_end && s_is_blank(*q))
            q++;
        for (const char *c = q; c < line_end; c++) {
            if (*c == '\0') {
                snprintf(why, sizeof why, "NUL byte in the rules");
                rc = NW_ERR_CONFIG;
                goto fail;
            }
        }
        if (q < line_end && *q != '#' && (rc = s_parse_line(self, q, line_end, why, sizeof why)))
            goto fail;
        p = eol != NULL ? eol + 1 : end;
    }
    *out = self;
    return NW_OK;
fail:
    if (rc == NW_ERR_NOMEM)
        snprintf(err, errlen, "%s:%zu: out of memory", origin, lineno);
    else
        snprintf(err, errlen, "%s:%zu: %s", origin, lineno, why);
    nw_html_rules_destroy(&self);
    return rc;
}

int nw_html_rules_load(const char *path, nw_html_rules_t **out, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = nw_file_read_all(path, S_RULES_FILE_MAX, &data, &len, err, errlen);
    if (rc != NW_OK)
        return rc;
    rc = nw_html_rules_parse(data, len, path, out, err, errlen);
    free(data);
    return rc;
}

int nw_html_rules_default(nw_html_rules_t **out)
{
    char err[256];
    int rc = nw_html_rules_parse(nw_html_rules_default_text, strlen(nw_html_rules_default_text),
                                 "html.conf (built in)", out, err, sizeof(err));
    /* The built-in text is tested; only memory can make it fail. */
    return rc == NW_OK ? NW_OK : NW_ERR_NOMEM;
}
