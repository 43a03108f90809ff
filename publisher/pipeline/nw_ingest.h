/*
 * nw_ingest: one article's bytes into tagged, not yet numbered alerts.
 *
 * Size check, a reader chosen by content (nw_article_parse with the loaded
 * boilerplate rules, nw_html_extract, nw_ninjs_read), nw_split, the tagger
 * (nw_tagger_tag_ws with the taxonomy and model; plus the topics whose IPTC
 * code a ninjs subject names). No sockets, no
 * loop: the daemon and --dry-run share it. Every failure comes with a
 * one-line reason that names the article, fit for the log and for a spool's
 * failed/NAME.error file.
 *
 *     nw_ingest_cfg_t cfg = {.rules = rules, .taxonomy = tax, .max_size = 4 << 20};
 *     nw_ingest_result_t res;
 *     char err[512];
 *     if (nw_ingest_file(&cfg, "a.txt", "a.txt", now_ms, &res, err, sizeof err) == NW_OK) {
 *         ... res.alerts[0 .. res.n - 1] ...
 *         nw_ingest_result_clear(&res);
 *     }
 */
#ifndef NW_INGEST_H
#define NW_INGEST_H

#include "nw_alert.h"
#include "nw_article.h"
#include "nw_boilerplate.h"
#include "nw_html_rules.h"
#include "nw_model.h"
#include "nw_tagger.h"
#include "nw_taxonomy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const nw_boilerplate_t *rules; /* boilerplate rules for the parser (borrowed) */
    const nw_taxonomy_t *taxonomy; /* taxonomy for the tagger (borrowed) */
    const nw_model_t *model;       /* topic model for the tagger (borrowed); NULL: none */
    bool explain;                  /* fill nw_ingest_result_t.explain */
    uint64_t max_size;             /* bytes; a larger article is refused (0 = no limit) */
    size_t max_paragraph;          /* bytes before a paragraph is split; 0 = default */
    const nw_html_rules_t *html;   /* markup rules for HTML pages (borrowed); NULL = built in */
    bool only_plain_files;         /* nw_ingest_file: refuse symbolic links, files with more
                                      than one hard link and anything not a regular file (the
                                      spool: a link could publish any file we can read) */
    nw_tagger_ws_t *tagger_ws;     /* tagging memory kept between articles (borrowed; one
                                      thread at a time); NULL: the tagger's own per article */
} nw_ingest_cfg_t;

/* What is known about an article from outside its bytes (a feed item's link, byline and
 * date). A field the article itself states wins over the same field here. */
typedef struct {
    const char *url;         /* the article's link, NULL or "" if unknown */
    const char *author;      /* byline author, NULL or "" if unknown */
    const char *section;     /* the publication's section, NULL or "" if unknown */
    int64_t article_time_ms; /* original publication time, ms since the epoch; 0 = unknown */
} nw_ingest_meta_t;

typedef struct {
    nw_alert_t *alerts; /* the article's alerts, headline first, tagged, unnumbered */
    size_t n;           /* entries of alerts, at least 1 */
    bool latin1;        /* the text was not UTF-8 and was read as Latin-1 */
    size_t n_repeats;   /* alerts dropped as repeats of earlier ones (nw_similar) */
    char **explain;     /* with cfg->explain: per alert, why it has its topics (a JSON
                         * object, see nw_tagger_tag_model); else NULL */
    uint64_t file_dev;  /* nw_ingest_file with only_plain_files: the device and inode of */
    uint64_t file_ino;  /* the file read (the spool moves only that file); else 0 */
} nw_ingest_result_t;

/* Loads the taxonomy at path, or the built-in default when path is NULL. Returns NW_OK
 * with *out set, or an error of nw_taxonomy_load with "FILE:LINE: reason" or the path in
 * err. */
int nw_ingest_load_taxonomy(const char *path, nw_taxonomy_t **out, char *err, size_t errlen);

/* Loads the topic model at path, the built-in default when path is NULL, or none (*out
 * NULL: the taxonomy alone) when path is "none". Model topics that tax lacks are logged
 * as unused. Returns NW_OK, or an error of nw_model_load with "FILE:LINE: reason" or the
 * path in err. */
int nw_ingest_load_model(const char *path, const nw_taxonomy_t *tax, nw_model_t **out, char *err,
                         size_t errlen);

/* Loads the boilerplate rules at path, or the built-in default when path is NULL.
 * Returns as nw_ingest_load_taxonomy. */
int nw_ingest_load_rules(const char *path, nw_boilerplate_t **out, char *err, size_t errlen);

/* Loads the HTML markup rules at path, or the built-in html.conf when path is NULL.
 * Returns as nw_ingest_load_taxonomy. */
int nw_ingest_load_html_rules(const char *path, nw_html_rules_t **out, char *err, size_t errlen);

/* Reads the file at path ("-" reads standard input) into a new NUL-terminated buffer
 * *data of *len bytes (caller frees). name is how the article is called in err. Returns
 * NW_OK; NW_ERR_TOOBIG when it holds more than max_size bytes (0 = no limit);
 * NW_ERR_NOTFOUND, NW_ERR_PERM, NW_ERR_IO, NW_ERR_NOMEM. On error err says why. */
int nw_ingest_read(const char *path, const char *name, uint64_t max_size, char **data, size_t *len,
                   char *err, size_t errlen);

/* Turns len bytes of article text into alerts in *res (cleared by this call; clear it
 * with nw_ingest_result_clear after NW_OK). published_ms stamps every alert. An alert whose
 * text repeats an earlier one of the article (nw_similar_drop_repeats) is left out. Returns
 * NW_OK; NW_ERR_TOOBIG, NW_ERR_ARTICLE_EMPTY, NW_ERR_ARTICLE_BINARY,
 * NW_ERR_ARTICLE_ENCODING, NW_ERR_ARTICLE_BOILERPLATE, NW_ERR_NOMEM, or an error of
 * nw_alert_encode when an alert could not be sent (a field over a protocol limit), with
 * "NAME: reason" in err. An article is all or nothing: every alert in *res encodes. On
 * error *res owns nothing. */
int nw_ingest_bytes(const nw_ingest_cfg_t *cfg, const char *name, const char *data, size_t len,
                    int64_t published_ms, nw_ingest_result_t *res, char *err, size_t errlen);

/* Reads len bytes of an article into *article without splitting or tagging, choosing
 * the reader by content: a ninjs document (a name ending in .json, or a JSON object with
 * ninjs fields), an HTML page (a name ending in .html or .htm, or markup by
 * nw_html_sniff), else the text format (nw_article_parse). Clear *article with
 * nw_article_clear after NW_OK. Returns the reader's NW_OK or error, with "NAME: reason"
 * in err; NW_ERR_TOOBIG past cfg->max_size. */
int nw_ingest_article(const nw_ingest_cfg_t *cfg, const char *name, const char *data, size_t len,
                      nw_article_t *article, char *err, size_t errlen);

/* nw_ingest_bytes, then gives every alert the article's link, original time, author and
 * section: the article's own (parsed from its bytes) when it states them, else meta's (may
 * be NULL). An alert under no heading takes the article's section. Returns as
 * nw_ingest_bytes. */
int nw_ingest_bytes_meta(const nw_ingest_cfg_t *cfg, const char *name, const char *data, size_t len,
                         int64_t published_ms, const nw_ingest_meta_t *meta,
                         nw_ingest_result_t *res, char *err, size_t errlen);

/* nw_ingest_read then nw_ingest_bytes. Returns as they do. */
int nw_ingest_file(const nw_ingest_cfg_t *cfg, const char *path, const char *name,
                   int64_t published_ms, nw_ingest_result_t *res, char *err, size_t errlen);

/* Frees the alerts res owns and zeroes it. Safe on a zeroed result and twice. */
void nw_ingest_result_clear(nw_ingest_result_t *res);

#endif
