/*
 * nw_html_rules: what the HTML extractor knows about page markup, as data.
 *
 * Which elements are never article text (script, nav, figure captions...),
 * which class or id words mark boilerplate (comments, share bars, related
 * lists, cookie banners) or content (article, story, body). The default is
 * publisher/input/html.conf, built in; a copy of it is installed to start your
 * own from. The format is documented at the top of that file.
 */
#ifndef NW_HTML_RULES_H
#define NW_HTML_RULES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct nw_html_rules_t nw_html_rules_t;

/* What the rules say about one element. */
typedef struct {
    bool drop;  /* remove it and everything in it before scoring */
    bool keep;  /* a class or id rule says content: class/id drop rules do not apply */
    int weight; /* class/id weight: +25 per positive rule matched, -25 per negative */
} nw_html_verdict_t;

/* The attributes of an element the rules look at; any may be NULL. */
typedef struct {
    const char *class_attr; /* class */
    const char *id_attr;    /* id */
    const char *role;       /* role (ARIA) */
    const char *itemprop;   /* itemprop (schema.org microdata) */
} nw_html_attrs_t;

/* Parses rules from text (origin names the file in error messages). Returns NW_OK with
 * *out set, NW_ERR_CONFIG with "ORIGIN:LINE: reason" in err, or NW_ERR_NOMEM. */
int nw_html_rules_parse(const char *text, size_t len, const char *origin, nw_html_rules_t **out,
                        char *err, size_t errlen);

/* Loads the rules from a file. Returns as nw_html_rules_parse, or NW_ERR_NOTFOUND /
 * NW_ERR_IO / NW_ERR_PERM / NW_ERR_TOOBIG with the path in err. */
int nw_html_rules_load(const char *path, nw_html_rules_t **out, char *err, size_t errlen);

/* Builds the built-in default rules. Returns NW_OK or NW_ERR_NOMEM. */
int nw_html_rules_default(nw_html_rules_t **out);

/* Judges an element by its lowercase tag name and attrs. use_class false ignores the
 * class/id drop rules (the extractor's second try on a page the first try found empty).
 * Never fails. */
nw_html_verdict_t nw_html_rules_judge(const nw_html_rules_t *rules, const char *tag,
                                      const nw_html_attrs_t *attrs, bool use_class);

/* Returns the number of rules. */
size_t nw_html_rules_count(const nw_html_rules_t *rules);

/* Frees the rules and sets *rules_p to NULL. Safe on NULL and twice. */
void nw_html_rules_destroy(nw_html_rules_t **rules_p);

#endif
