#include "nw_corpus.h"

#include "nw_error.h"
#include "nw_features.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DOC_MAX  (4 * 1024 * 1024) /* bytes of one document */
#define S_SETS_MAX 32

static char *s_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(S_DOC_MAX + 1);
    size_t n = buf ? fread(buf, 1, S_DOC_MAX, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Headline (first line), lead (the next paragraph), body (the rest). */
static size_t s_segments(const char *text, size_t len, nw_segment_t seg[3])
{
    const char *end = text + len, *p = text;
    const char *nl = memchr(p, '\n', len);
    const char *title_end = nl ? nl : end;
    seg[0] = (nw_segment_t){.text = p, .len = (size_t)(title_end - p), .pos = NW_POS_TITLE};
    p = title_end;
    while (p < end && isspace((unsigned char)*p))
        p++;
    const char *lead_end = p;
    while (lead_end < end) {
        const char *q = memchr(lead_end, '\n', (size_t)(end - lead_end));
        if (!q) {
            lead_end = end;
            break;
        }
        const char *r = q + 1;
        while (r < end && (*r == ' ' || *r == '\t' || *r == '\r'))
            r++;
        lead_end = q;
        if (r >= end || *r == '\n')
            break;
        lead_end = q + 1;
    }
    size_t n = 1;
    if (lead_end > p)
        seg[n++] = (nw_segment_t){.text = p, .len = (size_t)(lead_end - p), .pos = NW_POS_LEAD};
    if (lead_end < end)
        seg[n++] =
            (nw_segment_t){.text = lead_end, .len = (size_t)(end - lead_end), .pos = NW_POS_BODY};
    return n;
}

static void s_name(uint32_t id, const char *name, size_t len, void *ctx)
{
    nw_corpus_t *c = ctx;
    char *old = c->names[id];
    if (old && (strncmp(old, name, len) < 0 || (strncmp(old, name, len) == 0 && old[len] == '\0')))
        return;
    char *copy = malloc(len + 1);
    if (!copy)
        return; /* a missing name only makes --show less readable */
    memcpy(copy, name, len);
    copy[len] = '\0';
    free(old);
    c->names[id] = copy;
}

int nw_corpus_init(nw_corpus_t *c, const nw_taxonomy_t *tax)
{
    memset(c, 0, sizeof(*c));
    c->tax = tax;
    c->names = calloc((size_t)NW_FEATURES_MASK + 1, sizeof(char *));
    return c->names ? NW_OK : NW_ERR_NOMEM;
}

static long s_find_doc(const nw_corpus_t *c, const char *path)
{
    for (size_t i = c->n_docs; i-- > 0;) {
        if (strcmp(c->docs[i].path, path) == 0)
            return (long)i;
    }
    return -1;
}

static int s_grow_labels(nw_corpus_t *c, size_t n_topics)
{
    for (size_t i = 0; i < c->n_docs; i++) {
        int8_t *l = realloc(c->docs[i].label, n_topics);
        if (!l)
            return NW_ERR_NOMEM;
        for (size_t t = c->n_topics; t < n_topics; t++)
            l[t] = NW_CORPUS_UNLABELLED;
        c->docs[i].label = l;
    }
    return NW_OK;
}

/* Reads one document into a new corpus entry. */
static int s_new_doc(nw_corpus_t *c, const char *real, size_t n_topics, char *err, size_t errlen)
{
    size_t len;
    char *text = s_read_file(real, &len);
    if (!text) {
        snprintf(err, errlen, "%s: cannot read: %s", real, strerror(errno));
        return NW_ERR_IO;
    }
    if (c->n_docs == c->cap_docs) {
        size_t cap = c->cap_docs ? c->cap_docs * 2 : 1024;
        nw_corpus_doc_t *grown = realloc(c->docs, cap * sizeof(*grown));
        if (!grown) {
            free(text);
            return NW_ERR_NOMEM;
        }
        c->docs = grown;
        c->cap_docs = cap;
    }
    nw_corpus_doc_t *d = &c->docs[c->n_docs];
    memset(d, 0, sizeof(*d));
    nw_segment_t seg[3];
    size_t n = s_segments(text, len, seg);
    nw_docvec_t words = {0};
    int rc = NW_ERR_NOMEM;
    if (!(d->path = strdup(real)) || !(d->label = malloc(n_topics ? n_topics : 1)))
        goto fail;
    memset(d->label, NW_CORPUS_UNLABELLED, n_topics);
    if ((rc = nw_docvec_build(&d->vec, c->tax, seg, n, true, s_name, c)) != NW_OK ||
        (rc = nw_docvec_build(&words, c->tax, seg, n, false, NULL, NULL)) != NW_OK)
        goto fail;
    d->words = words.feat;
    d->n_words = words.n;
    words.feat = NULL;
    nw_docvec_free(&words);
    free(text);
    c->n_docs++;
    return NW_OK;
fail:
    nw_docvec_free(&words);
    nw_docvec_free(&d->vec);
    free(d->path);
    free(d->label);
    free(text);
    return rc;
}

static const char *s_mapped(const char *name, const nw_corpus_map_t *maps, size_t n_maps)
{
    for (size_t i = 0; i < n_maps; i++) {
        if (strcmp(maps[i].from, name) == 0)
            return maps[i].to;
    }
    return name;
}

/* The corpus topic index of name from label file set, adding it when new. */
static int s_topic(nw_corpus_t *c, const char *name, uint32_t set, bool extra, long *out, char *err,
                   size_t errlen, const char *origin)
{
    for (size_t t = 0; t < c->n_topics; t++) {
        if (strcmp(c->topics[t].name, name) == 0) {
            if (c->topics[t].set != set) {
                snprintf(err, errlen, "%s: topic '%s' is labelled by two files", origin, name);
                return NW_ERR_CONFIG;
            }
            *out = (long)t;
            return NW_OK;
        }
    }
    if (nw_taxonomy_topic_find(c->tax, name) < 0) {
        snprintf(err, errlen, "%s: topic '%s' is not in the taxonomy (use --map FROM=TOPIC)",
                 origin, name);
        return NW_ERR_CONFIG;
    }
    int rc = s_grow_labels(c, c->n_topics + 1);
    nw_corpus_topic_t *grown =
        rc == NW_OK ? realloc(c->topics, (c->n_topics + 1) * sizeof(*grown)) : NULL;
    if (!grown)
        return NW_ERR_NOMEM;
    c->topics = grown;
    if (!(grown[c->n_topics].name = strdup(name)))
        return NW_ERR_NOMEM;
    grown[c->n_topics].set = set;
    grown[c->n_topics].extra_negatives = extra;
    *out = (long)c->n_topics++;
    return NW_OK;
}

/* Splits a line into at most max tab-separated fields; returns how many. */
static size_t s_fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    for (char *p = line; n < max;) {
        f[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

int nw_corpus_add(nw_corpus_t *c, const char *labels, const char *dir, const nw_corpus_map_t *maps,
                  size_t n_maps, bool extra_negatives, char *err, size_t errlen)
{
    if (c->n_sets == S_SETS_MAX) {
        snprintf(err, errlen, "%s: more than %d label files", labels, S_SETS_MAX);
        return NW_ERR_CONFIG;
    }
    uint32_t set = (uint32_t)c->n_sets++;
    size_t len;
    char *text = s_read_file(labels, &len);
    if (!text) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot read: %s", labels, strerror(e));
        return nw_error_from_errno(e);
    }
    int rc = NW_OK;
    enum { S_MAXF = 64 };
    char *head[S_MAXF], *f[S_MAXF];
    long col_topic[S_MAXF];
    char *line = text, *next = strchr(line, '\n');
    if (next)
        *next++ = '\0';
    size_t nh = s_fields(line, head, S_MAXF);
    bool category = nh >= 2 && strcmp(head[0], "path") == 0 && strcmp(head[1], "category") == 0;
    /* Which columns are 0/1: decided on the whole file, as the corpus tools do. */
    bool binary[S_MAXF];
    for (size_t k = 0; k < nh; k++)
        binary[k] = k > 0 && !category;
    for (char *l = next; l && *l && !category;) {
        char *nl = strchr(l, '\n');
        size_t ll = nl ? (size_t)(nl - l) : strlen(l);
        char tmp[4096];
        if (ll >= sizeof tmp)
            ll = sizeof tmp - 1;
        memcpy(tmp, l, ll);
        tmp[ll] = '\0';
        size_t nf = s_fields(tmp, f, S_MAXF);
        for (size_t k = 1; k < nh; k++)
            binary[k] &= k < nf && (strcmp(f[k], "0") == 0 || strcmp(f[k], "1") == 0);
        l = nl ? nl + 1 : NULL;
    }
    for (size_t k = 0; k < nh; k++) {
        col_topic[k] = -1;
        if (binary[k] && (rc = s_topic(c, s_mapped(head[k], maps, n_maps), set, extra_negatives,
                                       &col_topic[k], err, errlen, labels)) != NW_OK)
            goto done;
    }
    size_t lineno = 1;
    for (line = next; line && *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        size_t nf = s_fields(line, f, S_MAXF);
        char path[PATH_MAX], real[PATH_MAX];
        char *end;
        unsigned long num = strtoul(f[0], &end, 10);
        if (*f[0] && *end == '\0')
            snprintf(path, sizeof path, "%s/%05lu.txt", dir, num);
        else
            snprintf(path, sizeof path, "%s/%s", dir, f[0]);
        if (!realpath(path, real)) {
            snprintf(err, errlen, "%s:%zu: %s: %s", labels, lineno, path, strerror(errno));
            rc = NW_ERR_NOTFOUND;
            goto done;
        }
        long d = s_find_doc(c, real);
        if (d < 0) {
            if ((rc = s_new_doc(c, real, c->n_topics, err, errlen)) != NW_OK)
                goto done;
            d = (long)c->n_docs - 1;
        }
        nw_corpus_doc_t *doc = &c->docs[d];
        doc->set_mask |= 1u << set;
        if (category) {
            if (nf < 2) {
                snprintf(err, errlen, "%s:%zu: no category", labels, lineno);
                rc = NW_ERR_CONFIG;
                goto done;
            }
            long t;
            if ((rc = s_topic(c, s_mapped(f[1], maps, n_maps), set, extra_negatives, &t, err,
                              errlen, labels)) != NW_OK)
                goto done;
            doc = &c->docs[d];
            for (size_t k = 0; k < c->n_topics; k++) {
                if (c->topics[k].set == set)
                    doc->label[k] = (int8_t)(k == (size_t)t);
            }
            continue;
        }
        for (size_t k = 1; k < nh && k < nf; k++) {
            if (col_topic[k] >= 0)
                doc->label[col_topic[k]] = (int8_t)(f[k][0] == '1');
        }
    }
    /* a category seen late: documents read before it are negatives too */
    if (category) {
        for (size_t i = 0; i < c->n_docs; i++) {
            if (!(c->docs[i].set_mask & (1u << set)))
                continue;
            for (size_t k = 0; k < c->n_topics; k++) {
                if (c->topics[k].set == set && c->docs[i].label[k] == NW_CORPUS_UNLABELLED)
                    c->docs[i].label[k] = 0;
            }
        }
    }
done:
    free(text);
    return rc;
}

void nw_corpus_free(nw_corpus_t *c)
{
    for (size_t i = 0; i < c->n_docs; i++) {
        free(c->docs[i].path);
        free(c->docs[i].label);
        free(c->docs[i].words);
        nw_docvec_free(&c->docs[i].vec);
    }
    free(c->docs);
    for (size_t t = 0; t < c->n_topics; t++)
        free(c->topics[t].name);
    free(c->topics);
    if (c->names) {
        for (size_t i = 0; i <= NW_FEATURES_MASK; i++)
            free(c->names[i]);
    }
    free(c->names);
    memset(c, 0, sizeof(*c));
}
