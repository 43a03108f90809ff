#include "nw_ingest.h"

#include "nw_article.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_html.h"
#include "nw_ninjs.h"
#include "nw_similar.h"
#include "nw_log.h"
#include "nw_split.h"
#include "nw_tagger.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int nw_ingest_load_taxonomy(const char *path, nw_taxonomy_t **out, char *err, size_t errlen)
{
    if (path != NULL)
        return nw_taxonomy_load(path, out, err, errlen);
    int rc = nw_taxonomy_default(out);
    if (rc != NW_OK)
        snprintf(err, errlen, "built-in taxonomy: %s", nw_strerror(rc));
    return rc;
}

int nw_ingest_load_model(const char *path, const nw_taxonomy_t *tax, nw_model_t **out, char *err,
                         size_t errlen)
{
    *out = NULL;
    if (path != NULL && strcmp(path, "none") == 0)
        return NW_OK;
    int rc = path ? nw_model_load(path, out, err, errlen) : nw_model_default(out);
    if (rc != NW_OK) {
        if (path == NULL)
            snprintf(err, errlen, "built-in model: %s", nw_strerror(rc));
        return rc;
    }
    if ((rc = nw_model_bind(*out, tax)) != NW_OK) {
        snprintf(err, errlen, "%s: out of memory", path ? path : "built-in model");
        nw_model_destroy(out);
        return rc;
    }
    char missing[256];
    size_t n = nw_model_unmatched(*out, tax, missing, sizeof missing);
    if (n > 0)
        nw_log(NW_LOG_WARN, "model %s: %zu topic(s) not in the taxonomy, unused: %s",
               path ? path : "(built in)", n, missing);
    return NW_OK;
}

int nw_ingest_load_rules(const char *path, nw_boilerplate_t **out, char *err, size_t errlen)
{
    if (path != NULL)
        return nw_boilerplate_load(path, out, err, errlen);
    int rc = nw_boilerplate_default(out);
    if (rc != NW_OK)
        snprintf(err, errlen, "built-in boilerplate rules: %s", nw_strerror(rc));
    return rc;
}

int nw_ingest_load_html_rules(const char *path, nw_html_rules_t **out, char *err, size_t errlen)
{
    if (path != NULL)
        return nw_html_rules_load(path, out, err, errlen);
    int rc = nw_html_rules_default(out);
    if (rc != NW_OK)
        snprintf(err, errlen, "built-in HTML rules: %s", nw_strerror(rc));
    return rc;
}

/* Opens path for nw_ingest_file with only_plain_files: never through a symbolic link
 * (O_NOFOLLOW), never blocking on a FIFO (O_NONBLOCK), and only a regular file with one link,
 * checked on the descriptor that is then read (no window to swap the file). Returns the
 * descriptor and sets *st to its status, or -1 with *rc and err set. */
static int s_open_plain(const char *path, const char *name, char *err, size_t errlen, int *rc,
                        struct stat *st)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP)
            snprintf(err, errlen,
                     "%s: refused: a symbolic link (spool articles must be regular "
                     "files)",
                     name);
        else
            snprintf(err, errlen, "%s: cannot open: %s", name, strerror(e));
        *rc = e == ELOOP ? NW_ERR_PERM : nw_error_from_errno(e);
        return -1;
    }
    *rc = NW_ERR_PERM;
    if (fstat(fd, st) != 0) {
        *rc = nw_error_from_errno(errno);
        snprintf(err, errlen, "%s: cannot stat: %s", name, strerror(errno));
    } else if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "%s: refused: not a regular file", name);
    } else if (st->st_nlink != 1) {
        snprintf(err, errlen, "%s: refused: %ju hard links (a spool article must have exactly one)",
                 name, (uintmax_t)st->st_nlink);
    } else {
        *rc = NW_OK;
        return fd;
    }
    close(fd);
    return -1;
}

/* Reads fd whole into a new NUL-terminated buffer that starts at cap + 2 bytes, giving up
 * once it holds more than max bytes (0: no limit). A regular file ends at its first short
 * read (so one read when it did not grow since its fstat); anything else (a pipe, a
 * terminal) at end of file. */
static int s_read_fd(int fd, size_t cap, bool regular, uint64_t max, char **data, size_t *len)
{
    size_t used = 0;
    cap += 2;
    char *buf = malloc(cap);
    if (buf == NULL)
        return NW_ERR_NOMEM;
    for (;;) {
        if (cap - used < 2) {
            char *grown = realloc(buf, cap * 2);
            if (grown == NULL) {
                free(buf);
                return NW_ERR_NOMEM;
            }
            buf = grown;
            cap *= 2;
        }
        size_t want = cap - used - 1;
        ssize_t n = read(fd, buf + used, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            return NW_ERR_IO;
        }
        used += (size_t)n;
        if (max > 0 && used > max) {
            free(buf);
            *len = used;
            return NW_ERR_TOOBIG;
        }
        if (n == 0 || (regular && (size_t)n < want))
            break;
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return NW_OK;
}

/* Reads path (or standard input for "-") whole, as nw_ingest_read; plain: s_open_plain, and
 * *dev and *ino get the identity of the file read (else they are left alone). */
static int s_read_path(const char *path, const char *name, uint64_t max_size, bool plain,
                       char **data, size_t *len, uint64_t *dev, uint64_t *ino, char *err,
                       size_t errlen)
{
    bool is_stdin = strcmp(path, "-") == 0;
    size_t got = 0;
    int rc, e;
    if (plain && !is_stdin) {
        struct stat st;
        int fd = s_open_plain(path, name, err, errlen, &rc, &st);
        if (fd < 0)
            return rc;
        *dev = (uint64_t)st.st_dev;
        *ino = (uint64_t)st.st_ino;
        rc = s_read_fd(fd, st.st_size > 0 ? (size_t)st.st_size : 0, true, max_size, data, &got);
        e = errno;
        close(fd);
    } else {
        int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            e = errno;
            snprintf(err, errlen, "%s: cannot open: %s", name, strerror(e));
            return nw_error_from_errno(e);
        }
        rc = s_read_fd(fd, 65536, false, max_size, data, &got);
        e = errno;
        if (!is_stdin)
            close(fd);
    }
    if (rc == NW_OK)
        *len = got;
    else if (rc == NW_ERR_TOOBIG)
        snprintf(err, errlen, "%s: article is over the size limit of %llu bytes", name,
                 (unsigned long long)max_size);
    else if (rc == NW_ERR_IO)
        snprintf(err, errlen, "%s: cannot read: %s", name, strerror(e));
    else
        snprintf(err, errlen, "%s: %s", name, nw_strerror(rc));
    return rc;
}

int nw_ingest_read(const char *path, const char *name, uint64_t max_size, char **data, size_t *len,
                   char *err, size_t errlen)
{
    return s_read_path(path, name, max_size, false, data, len, NULL, NULL, err, errlen);
}

/* Encodes each alert as it will look once numbered, with the largest numbers, so an alert
 * that cannot go out fails its whole article before any of it is published. */
static int s_check_encodable(const nw_alert_t *alerts, size_t n, const char *name, char *err,
                             size_t errlen)
{
    static const char worst_stream[] = "ffffffffffffffff";
    for (size_t i = 0; i < n; i++) {
        nw_alert_t probe = alerts[i]; /* shallow: borrows the strings, never freed */
        probe.stream = (char *)worst_stream;
        probe.seq = UINT64_MAX;
        for (size_t t = 0; t < probe.n_topics; t++)
            probe.topics[t].seq = UINT64_MAX;
        size_t size = 0;
        int rc = nw_alert_encoded_size(&probe, &size);
        if (rc != NW_OK) {
            snprintf(err, errlen, "%s: alert %zu (%s) cannot be sent: %s", name, i,
                     nw_alert_kind_name(alerts[i].kind), nw_strerror(rc));
            return rc;
        }
    }
    return NW_OK;
}

static bool s_name_ends(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && strcasecmp(name + n - k, suffix) == 0;
}

int nw_ingest_article(const nw_ingest_cfg_t *cfg, const char *name, const char *data, size_t len,
                      nw_article_t *article, char *err, size_t errlen)
{
    char why[512] = "";
    int rc;
    memset(article, 0, sizeof *article);
    if (cfg->max_size > 0 && len > cfg->max_size) {
        snprintf(err, errlen, "%s: article is %zu bytes, over the size limit of %llu bytes", name,
                 len, (unsigned long long)cfg->max_size);
        return NW_ERR_TOOBIG;
    }
    nw_html_opts_t html = {.rules = cfg->html, .lines = cfg->rules};
    if (s_name_ends(name, ".json") || nw_ninjs_sniff(data, len))
        rc = nw_ninjs_read(data, len, &html, article, why, sizeof why);
    else if (s_name_ends(name, ".html") || s_name_ends(name, ".htm") || nw_html_sniff(data, len))
        rc = nw_html_extract(data, len, &html, article, why, sizeof why);
    else
        rc = nw_article_parse(data, len, cfg->rules, article, why, sizeof why);
    if (rc != NW_OK)
        snprintf(err, errlen, "%s: %s", name, why[0] ? why : nw_strerror(rc));
    return rc;
}

/* Picks the article's own value when it states one, else meta's, else "". */
static const char *s_pick(const char *own, const char *from_meta)
{
    if (own != NULL && own[0] != '\0')
        return own;
    return from_meta != NULL ? from_meta : "";
}

/* Gives every alert the article's link, original time, author and section. */
static int s_carry_meta(const nw_article_t *article, const nw_ingest_meta_t *meta,
                        nw_ingest_result_t *res)
{
    nw_ingest_meta_t none = {0};
    if (meta == NULL)
        meta = &none;
    const char *url = s_pick(article->url, meta->url);
    const char *section = s_pick(article->section, meta->section);
    const char *author = s_pick(article->author, meta->author);
    int64_t when = article->article_time_ms != 0 ? article->article_time_ms : meta->article_time_ms;
    for (size_t i = 0; i < res->n; i++) {
        nw_alert_t *a = &res->alerts[i];
        int rc = nw_alert_set(&a->url, url);
        if (rc == NW_OK && a->author[0] == '\0')
            rc = nw_alert_set(&a->author, author);
        if (rc == NW_OK && a->section[0] == '\0')
            rc = nw_alert_set(&a->section, section);
        if (rc != NW_OK)
            return rc;
        a->article_time_ms = when;
    }
    return NW_OK;
}

/* Gives the headline the topics whose IPTC code one of the article's subjects names
 * (ninjs), ahead of the catch-all topic the tagger gives an untagged article. */
static int s_subject_topics(const nw_ingest_cfg_t *cfg, const nw_article_t *article,
                            nw_alert_t *headline)
{
    size_t n = nw_taxonomy_topic_count(cfg->taxonomy);
    for (size_t s = 0; s < article->n_subjects; s++) {
        for (size_t t = 0; t < n; t++) {
            const char *iptc = nw_taxonomy_topic_iptc(cfg->taxonomy, t);
            if (iptc == NULL || strcasecmp(iptc, article->subjects[s]) != 0)
                continue;
            int general = nw_alert_find_topic(headline, NW_TOPIC_GENERAL);
            if (general >= 0 && headline->n_topics == 1) {
                free(headline->topics[0].name);
                headline->n_topics = 0;
            }
            int rc = nw_alert_add_topic(headline, nw_taxonomy_topic_name(cfg->taxonomy, t));
            if (rc != NW_OK && rc != NW_ERR_TOOBIG)
                return rc;
        }
    }
    return NW_OK;
}

/* Tags the alerts of res, in cfg's tagger workspace when it has one. */
static int s_tag(const nw_ingest_cfg_t *cfg, nw_ingest_result_t *res)
{
    char ***explain = cfg->explain ? &res->explain : NULL;
    if (cfg->tagger_ws)
        return nw_tagger_tag_ws(cfg->tagger_ws, cfg->taxonomy, cfg->model, res->alerts, res->n,
                                explain);
    return nw_tagger_tag_model(cfg->taxonomy, cfg->model, res->alerts, res->n, explain);
}

int nw_ingest_bytes(const nw_ingest_cfg_t *cfg, const char *name, const char *data, size_t len,
                    int64_t published_ms, nw_ingest_result_t *res, char *err, size_t errlen)
{
    return nw_ingest_bytes_meta(cfg, name, data, len, published_ms, NULL, res, err, errlen);
}

int nw_ingest_bytes_meta(const nw_ingest_cfg_t *cfg, const char *name, const char *data, size_t len,
                         int64_t published_ms, const nw_ingest_meta_t *meta,
                         nw_ingest_result_t *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    nw_article_t article = {0};
    int rc = nw_ingest_article(cfg, name, data, len, &article, err, errlen);
    if (rc != NW_OK)
        return rc;
    nw_split_opts_t opts = {.max_paragraph = cfg->max_paragraph};
    rc = nw_split(&article, published_ms, &opts, &res->alerts, &res->n);
    if (rc == NW_OK && res->n == 0)
        rc = NW_ERR_ARTICLE_BOILERPLATE;
    if (rc == NW_OK)
        res->n_repeats = nw_similar_drop_repeats(res->alerts, &res->n);
    if (rc == NW_OK)
        rc = s_carry_meta(&article, meta, res);
    if (rc == NW_OK)
        rc = s_tag(cfg, res);
    if (rc == NW_OK)
        rc = s_subject_topics(cfg, &article, &res->alerts[0]);
    res->latin1 = article.latin1;
    nw_article_clear(&article);
    if (rc != NW_OK) {
        snprintf(err, errlen, "%s: %s", name, nw_strerror(rc));
        goto fail;
    }
    if ((rc = s_check_encodable(res->alerts, res->n, name, err, errlen)) != NW_OK)
        goto fail;
    return NW_OK;
fail:
    nw_ingest_result_clear(res);
    return rc;
}

int nw_ingest_file(const nw_ingest_cfg_t *cfg, const char *path, const char *name,
                   int64_t published_ms, nw_ingest_result_t *res, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    uint64_t dev = 0, ino = 0;
    memset(res, 0, sizeof *res);
    int rc = s_read_path(path, name, cfg->max_size, cfg->only_plain_files, &data, &len, &dev, &ino,
                         err, errlen);
    if (rc != NW_OK)
        return rc;
    rc = nw_ingest_bytes(cfg, name, data, len, published_ms, res, err, errlen);
    free(data);
    res->file_dev = dev;
    res->file_ino = ino;
    return rc;
}

void nw_ingest_result_clear(nw_ingest_result_t *res)
{
    for (size_t i = 0; res->explain && i < res->n; i++)
        free(res->explain[i]);
    free(res->explain);
    nw_split_free(&res->alerts, res->n);
    memset(res, 0, sizeof *res);
}
