#include "nw_ingest.h"

#include "nw_article.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_log.h"
#include "nw_split.h"
#include "nw_tagger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Reads all of f into a buffer, giving up once it holds more than max bytes. */
static int s_read_all(FILE *f, uint64_t max, char **data, size_t *len)
{
    size_t cap = 65536, used = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return NW_ERR_NOMEM;
    for (;;) {
        if (cap - used < 2) {
            char *grown = realloc(buf, cap * 2);
            if (grown == NULL)
                goto nomem;
            buf = grown;
            cap *= 2;
        }
        size_t n = fread(buf + used, 1, cap - used - 1, f);
        used += n;
        if (max > 0 && used > max) {
            free(buf);
            *len = used;
            return NW_ERR_TOOBIG;
        }
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return NW_ERR_IO;
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return NW_OK;
nomem:
    free(buf);
    return NW_ERR_NOMEM;
}

int nw_ingest_read(const char *path, const char *name, uint64_t max_size, char **data, size_t *len,
                   char *err, size_t errlen)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", name, strerror(e));
        return nw_error_from_errno(e);
    }
    size_t got = 0;
    int rc = s_read_all(f, max_size, data, &got);
    int e = errno;
    if (!is_stdin)
        fclose(f);
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
        char *data = NULL;
        size_t size = 0;
        int rc = nw_alert_encode(&probe, &data, &size);
        free(data);
        if (rc != NW_OK) {
            snprintf(err, errlen, "%s: alert %zu (%s) cannot be sent: %s", name, i,
                     nw_alert_kind_name(alerts[i].kind), nw_strerror(rc));
            return rc;
        }
    }
    return NW_OK;
}

int nw_ingest_bytes(const nw_ingest_cfg_t *cfg, const char *name, const char *data, size_t len,
                    int64_t published_ms, nw_ingest_result_t *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (cfg->max_size > 0 && len > cfg->max_size) {
        snprintf(err, errlen, "%s: article is %zu bytes, over the size limit of %llu bytes", name,
                 len, (unsigned long long)cfg->max_size);
        return NW_ERR_TOOBIG;
    }
    nw_article_t article = {0};
    char why[512] = "";
    int rc = nw_article_parse(data, len, cfg->rules, &article, why, sizeof why);
    if (rc != NW_OK) {
        snprintf(err, errlen, "%s: %s", name, why[0] ? why : nw_strerror(rc));
        return rc;
    }
    nw_split_opts_t opts = {.max_paragraph = cfg->max_paragraph};
    rc = nw_split(&article, published_ms, &opts, &res->alerts, &res->n);
    if (rc == NW_OK && res->n == 0)
        rc = NW_ERR_ARTICLE_BOILERPLATE;
    if (rc == NW_OK)
        rc = nw_tagger_tag_model(cfg->taxonomy, cfg->model, res->alerts, res->n,
                                 cfg->explain ? &res->explain : NULL);
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
    memset(res, 0, sizeof *res);
    int rc = nw_ingest_read(path, name, cfg->max_size, &data, &len, err, errlen);
    if (rc != NW_OK)
        return rc;
    rc = nw_ingest_bytes(cfg, name, data, len, published_ms, res, err, errlen);
    free(data);
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
