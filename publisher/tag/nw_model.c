#include "nw_model.h"

#include "nw_error.h"
#include "nw_file.h"
#include "nw_features.h"
#include "nw_topic.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define S_FILE_MAX   (64 * 1024 * 1024) /* bytes of a model file */
#define S_TOPICS_MAX 256                /* topics of one model */
#define S_NAME_MAX   200                /* bytes of a feature name */

extern const char nw_model_default_text[];

typedef struct {
    uint32_t id;
    uint32_t row1; /* row + 1; 0: an empty slot */
} s_slot_t;

#define S_BITS_WORDS (((size_t)NW_FEATURES_MASK + 1) / 64)

typedef struct {
    char name[NW_TOPIC_MAX + 1];
    double threshold, bias, C, cv_f1;
    size_t positives, docs;
} s_topic_t;

struct nw_model_t {
    s_topic_t *topics;
    size_t n_topics;
    bool taxonomy_features;
    uint32_t *ids;  /* per row */
    char **names;   /* per row */
    float *weights; /* rows x n_topics */
    size_t n_rows, cap_rows;
    s_slot_t *slots; /* open addressing by id; row1 0 = empty; mask + 1 entries */
    float *slot_w;   /* per slot: its row's weights (a copy in slot order, so that a feature
                        of nw_model_margins costs one small probe and one weight fetch) */
    size_t mask;
    uint64_t *bits; /* bit id set: a row may have that id (ids within NW_FEATURES_MASK) */
    const nw_taxonomy_t *bound; /* the taxonomy of nw_model_bind, or NULL */
    int *bound_topic;           /* per topic of bound: its model topic or -1 */
};

static int s_fail(char *err, size_t errlen, const char *origin, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int s_fail(char *err, size_t errlen, const char *origin, size_t line, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "%s:%zu: ", origin, line);
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return NW_ERR_CONFIG;
}

static uint32_t s_slot_hash(uint32_t id)
{
    return id * 2654435761u;
}

/* Indexes row (its weights already set) under id. */
static void s_insert(nw_model_t *m, uint32_t id, size_t row)
{
    size_t s = s_slot_hash(id) & m->mask;
    while (m->slots[s].row1)
        s = (s + 1) & m->mask;
    m->slots[s] = (s_slot_t){.id = id, .row1 = (uint32_t)(row + 1)};
    memcpy(&m->slot_w[s * m->n_topics], &m->weights[row * m->n_topics],
           m->n_topics * sizeof(float));
    if (id <= NW_FEATURES_MASK)
        m->bits[id / 64] |= 1ull << (id % 64);
}

/* Makes an empty lookup table for up to rows rows (load factor at most 2/3: the weights
 * by slot stay small, probes short). */
static int s_table(nw_model_t *m, size_t rows)
{
    size_t size = 16;
    while (size * 2 < rows * 3)
        size *= 2;
    s_slot_t *slots = calloc(size, sizeof(*slots));
    float *slot_w = malloc(size * m->n_topics * sizeof(*slot_w));
    uint64_t *bits = m->bits ? m->bits : calloc(S_BITS_WORDS, sizeof(*bits));
    if (!slots || !slot_w || !bits) {
        free(slots);
        free(slot_w);
        if (bits != m->bits)
            free(bits);
        return NW_ERR_NOMEM;
    }
    free(m->slots);
    free(m->slot_w);
    m->slots = slots;
    m->slot_w = slot_w;
    m->bits = bits;
    m->mask = size - 1;
    return NW_OK;
}

/* Rebuilds the lookup table for n_rows rows. */
static int s_index(nw_model_t *m)
{
    int rc = s_table(m, m->n_rows);
    for (size_t r = 0; rc == NW_OK && r < m->n_rows; r++)
        s_insert(m, m->ids[r], r);
    return rc;
}

int nw_model_new(size_t n_topics, bool taxonomy_features, nw_model_t **out)
{
    if (n_topics == 0 || n_topics > S_TOPICS_MAX)
        return NW_ERR_INVAL;
    nw_model_t *m = calloc(1, sizeof(*m));
    if (!m || !(m->topics = calloc(n_topics, sizeof(*m->topics)))) {
        free(m);
        return NW_ERR_NOMEM;
    }
    m->n_topics = n_topics;
    m->taxonomy_features = taxonomy_features;
    *out = m;
    return NW_OK;
}

int nw_model_set_topic(nw_model_t *m, size_t i, const char *name, double threshold, double bias,
                       double C, double cv_f1, size_t positives, size_t docs)
{
    if (i >= m->n_topics || !nw_topic_valid(name, strlen(name)))
        return NW_ERR_INVAL;
    s_topic_t *t = &m->topics[i];
    memcpy(t->name, name, strlen(name) + 1);
    t->threshold = threshold;
    t->bias = bias;
    t->C = C;
    t->cv_f1 = cv_f1;
    t->positives = positives;
    t->docs = docs;
    return NW_OK;
}

/* Appends a row without indexing it. */
static int s_push_row(nw_model_t *m, uint32_t id, const char *name, size_t name_len,
                      float **weights_out)
{
    if (m->n_rows == m->cap_rows) {
        size_t cap = m->cap_rows ? m->cap_rows * 2 : 1024;
        uint32_t *ids = realloc(m->ids, cap * sizeof(*ids));
        if (ids)
            m->ids = ids;
        char **names = realloc(m->names, cap * sizeof(*names));
        if (names)
            m->names = names;
        float *w = realloc(m->weights, cap * m->n_topics * sizeof(*w));
        if (w)
            m->weights = w;
        if (!ids || !names || !w)
            return NW_ERR_NOMEM;
        m->cap_rows = cap;
    }
    char *copy = malloc(name_len + 1);
    if (!copy)
        return NW_ERR_NOMEM;
    memcpy(copy, name, name_len);
    copy[name_len] = '\0';
    m->ids[m->n_rows] = id;
    m->names[m->n_rows] = copy;
    *weights_out = &m->weights[m->n_rows * m->n_topics];
    memset(*weights_out, 0, m->n_topics * sizeof(float));
    m->n_rows++;
    return NW_OK;
}

int nw_model_add_row(nw_model_t *m, uint32_t id, const char *name, const float *weights)
{
    if (nw_model_row_of(m, id) >= 0)
        return NW_ERR_INVAL;
    float *w;
    int rc = s_push_row(m, id, name, strlen(name), &w);
    if (rc != NW_OK)
        return rc;
    memcpy(w, weights, m->n_topics * sizeof(float));
    if (!m->slots || m->n_rows * 3 > (m->mask + 1) * 2)
        return s_index(m);
    s_insert(m, id, m->n_rows - 1);
    return NW_OK;
}

/* ---- parsing ---- */

typedef struct {
    nw_model_t *m;
    const char *origin;
    size_t line;
    char *err;
    size_t errlen;
    size_t declared_rows;
    bool in_weights;
} s_parser_t;

static int s_topic_line(s_parser_t *p, char *rest)
{
    char name[NW_TOPIC_MAX + 2];
    double thr, bias, C, f1;
    unsigned long pos, docs;
    int used = 0;
    if (sscanf(rest, "%64s %lf %lf %lf %lf %lu %lu %n", name, &thr, &bias, &C, &f1, &pos, &docs,
               &used) != 7 ||
        rest[used] != '\0')
        return s_fail(p->err, p->errlen, p->origin, p->line,
                      "expected 'topic NAME THRESHOLD BIAS C CV-F1 POSITIVES DOCUMENTS'");
    size_t i = 0;
    while (i < p->m->n_topics && p->m->topics[i].name[0])
        i++;
    if (i == p->m->n_topics)
        return s_fail(p->err, p->errlen, p->origin, p->line, "more topic lines than 'topics %zu'",
                      p->m->n_topics);
    if (nw_model_topic_find(p->m, name) >= 0)
        return s_fail(p->err, p->errlen, p->origin, p->line, "topic '%s' twice", name);
    if (nw_model_set_topic(p->m, i, name, thr, bias, C, f1, pos, docs) != NW_OK)
        return s_fail(p->err, p->errlen, p->origin, p->line, "'%s' is not a valid topic name",
                      name);
    return NW_OK;
}

static int s_weight_line(s_parser_t *p, char *line)
{
    char *tab1 = strchr(line, '\t');
    char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
    if (!tab2)
        return s_fail(p->err, p->errlen, p->origin, p->line,
                      "expected 'ID<TAB>TOPIC:WEIGHT ...<TAB>NAME'");
    *tab1 = *tab2 = '\0';
    char *end;
    errno = 0;
    unsigned long id = strtoul(line, &end, 10);
    if (end == line || *end || errno || id >= (1ul << 31))
        return s_fail(p->err, p->errlen, p->origin, p->line, "'%s' is not a feature id", line);
    if (nw_model_row_of(p->m, (uint32_t)id) >= 0)
        return s_fail(p->err, p->errlen, p->origin, p->line, "feature %lu twice", id);
    if (p->m->n_rows == p->declared_rows)
        return s_fail(p->err, p->errlen, p->origin, p->line, "more than 'weights %zu' lines",
                      p->declared_rows);
    size_t name_len = strlen(tab2 + 1);
    if (name_len > S_NAME_MAX)
        return s_fail(p->err, p->errlen, p->origin, p->line, "feature name over %d bytes",
                      S_NAME_MAX);
    float *w;
    if (s_push_row(p->m, (uint32_t)id, tab2 + 1, name_len, &w) != NW_OK)
        return NW_ERR_NOMEM;
    for (char *c = tab1 + 1; *c;) {
        errno = 0;
        unsigned long t = strtoul(c, &end, 10);
        if (end == c || *end != ':' || t >= p->m->n_topics)
            return s_fail(p->err, p->errlen, p->origin, p->line,
                          "'%s': expected TOPIC-INDEX:WEIGHT pairs, topic index below %zu", c,
                          p->m->n_topics);
        c = end + 1;
        double v = strtod(c, &end);
        if (end == c || errno || v != v || v > 1e6 || v < -1e6 || (*end && *end != ' '))
            return s_fail(p->err, p->errlen, p->origin, p->line, "'%s': not a weight", c);
        w[t] = (float)v;
        c = *end ? end + 1 : end;
    }
    /* index as we go, so duplicates are caught */
    s_insert(p->m, (uint32_t)id, p->m->n_rows - 1);
    return NW_OK;
}

static int s_header_line(s_parser_t *p, char *line)
{
    unsigned long n;
    int used = 0;
    if (sscanf(line, "taxonomy-features: %lu %n", &n, &used) == 1 && line[used] == '\0' && n <= 1) {
        p->m->taxonomy_features = n == 1;
        return NW_OK;
    }
    if (strncmp(line, "topic ", 6) == 0)
        return s_topic_line(p, line + 6);
    if (sscanf(line, "weights %lu %n", &n, &used) == 1 && line[used] == '\0') {
        if (p->m->topics[p->m->n_topics - 1].name[0] == '\0')
            return s_fail(p->err, p->errlen, p->origin, p->line,
                          "fewer topic lines than 'topics %zu'", p->m->n_topics);
        if (n > 10 * 1000 * 1000)
            return s_fail(p->err, p->errlen, p->origin, p->line, "over 10 million weights");
        p->declared_rows = n;
        p->in_weights = true;
        return s_table(p->m, n);
    }
    return s_fail(p->err, p->errlen, p->origin, p->line,
                  "expected 'taxonomy-features: 0|1', 'topic ...' or 'weights N'");
}

int nw_model_parse(const char *text, size_t len, const char *origin, nw_model_t **out, char *err,
                   size_t errlen)
{
    s_parser_t p = {.origin = origin ? origin : "model", .err = err, .errlen = errlen, .line = 1};
    if (err && errlen)
        err[0] = '\0';
    char *copy = malloc(len + 1);
    if (!copy)
        return NW_ERR_NOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    int rc = NW_OK;
    char *next = NULL;
    char *line = copy;
    if (strlen(copy) != len) {
        rc = s_fail(err, errlen, p.origin, 1, "NUL byte: not a model file");
        goto done;
    }
    /* version and topic count */
    next = strchr(line, '\n');
    if (next)
        *next++ = '\0';
    unsigned long version = 0;
    int used = 0;
    if (sscanf(line, "newswire-model %lu %n", &version, &used) != 1 || line[used] != '\0') {
        rc = s_fail(err, errlen, p.origin, 1,
                    "not a newswire model (first line 'newswire-model 1')");
        goto done;
    }
    if (version != NW_MODEL_VERSION) {
        rc = s_fail(err, errlen, p.origin, 1, "model version %lu; this program reads version %d",
                    version, NW_MODEL_VERSION);
        goto done;
    }
    for (line = next; line; line = next) {
        p.line++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        if (l == 0 || line[0] == '#')
            continue;
        if (!p.m) {
            unsigned long nt = 0;
            if (sscanf(line, "topics %lu %n", &nt, &used) != 1 || line[used] != '\0' || nt == 0 ||
                nt > S_TOPICS_MAX) {
                rc = s_fail(err, errlen, p.origin, p.line, "expected 'topics N' (1 to %d)",
                            S_TOPICS_MAX);
                goto done;
            }
            if ((rc = nw_model_new(nt, false, &p.m)) != NW_OK)
                goto done;
            continue;
        }
        rc = p.in_weights ? s_weight_line(&p, line) : s_header_line(&p, line);
        if (rc != NW_OK)
            goto done;
    }
    if (!p.m || !p.in_weights) {
        rc = s_fail(err, errlen, p.origin, p.line, "no 'weights N' section");
        goto done;
    }
    if (p.m->n_rows != p.declared_rows) {
        rc =
            s_fail(err, errlen, p.origin, p.line, "'weights %zu' but %zu weight lines (truncated?)",
                   p.declared_rows, p.m->n_rows);
        goto done;
    }
done:
    free(copy);
    if (rc == NW_ERR_NOMEM && err && errlen)
        snprintf(err, errlen, "%s: out of memory", p.origin);
    if (rc != NW_OK) {
        nw_model_destroy(&p.m);
        return rc;
    }
    *out = p.m;
    return NW_OK;
}

int nw_model_load(const char *path, nw_model_t **out, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    int rc = nw_file_read_all(path, S_FILE_MAX, &data, &len, err, errlen);
    if (rc == NW_OK)
        rc = nw_model_parse(data, len, path, out, err, errlen);
    free(data);
    return rc;
}

int nw_model_default(nw_model_t **out)
{
    char err[256];
    return nw_model_parse(nw_model_default_text, strlen(nw_model_default_text),
                          "model.txt (built in)", out, err, sizeof(err));
}

size_t nw_model_unmatched(const nw_model_t *m, const nw_taxonomy_t *tax, char *missing, size_t len)
{
    size_t n = 0, used = 0;
    if (len)
        missing[0] = '\0';
    for (size_t i = 0; i < m->n_topics; i++) {
        if (nw_taxonomy_topic_find(tax, m->topics[i].name) >= 0)
            continue;
        if (used < len) {
            int w = snprintf(missing + used, len - used, "%s%s", n ? ", " : "", m->topics[i].name);
            used += w > 0 ? (size_t)w : 0;
        }
        n++;
    }
    return n;
}

size_t nw_model_topic_count(const nw_model_t *m)
{
    return m->n_topics;
}

const char *nw_model_topic_name(const nw_model_t *m, size_t i)
{
    return i < m->n_topics ? m->topics[i].name : NULL;
}

double nw_model_topic_threshold(const nw_model_t *m, size_t i)
{
    return i < m->n_topics ? m->topics[i].threshold : 0;
}

double nw_model_topic_bias(const nw_model_t *m, size_t i)
{
    return i < m->n_topics ? m->topics[i].bias : 0;
}

int nw_model_topic_find(const nw_model_t *m, const char *name)
{
    for (size_t i = 0; i < m->n_topics; i++) {
        if (strcmp(m->topics[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

int nw_model_bind(nw_model_t *m, const nw_taxonomy_t *tax)
{
    size_t n = nw_taxonomy_topic_count(tax);
    int *map = malloc((n ? n : 1) * sizeof(*map));
    free(m->bound_topic);
    m->bound_topic = map;
    m->bound = map ? tax : NULL;
    if (!map)
        return NW_ERR_NOMEM;
    for (size_t t = 0; t < n; t++)
        map[t] = nw_model_topic_find(m, nw_taxonomy_topic_name(tax, t));
    return NW_OK;
}

int nw_model_topic_of(const nw_model_t *m, const nw_taxonomy_t *tax, size_t t)
{
    if (m->bound == tax && t < nw_taxonomy_topic_count(tax))
        return m->bound_topic[t];
    const char *name = nw_taxonomy_topic_name(tax, t);
    return name ? nw_model_topic_find(m, name) : -1;
}

bool nw_model_taxonomy_features(const nw_model_t *m)
{
    return m->taxonomy_features;
}

size_t nw_model_row_count(const nw_model_t *m)
{
    return m->n_rows;
}

long nw_model_row_of(const nw_model_t *m, uint32_t id)
{
    if (!m->slots)
        return -1;
    if (id <= NW_FEATURES_MASK && !((m->bits[id / 64] >> (id % 64)) & 1))
        return -1; /* most ids of a story: one bit in a 128 KB table, not a probe */
    for (size_t s = s_slot_hash(id) & m->mask;; s = (s + 1) & m->mask) {
        if (m->slots[s].row1 == 0)
            return -1;
        if (m->slots[s].id == id)
            return (long)m->slots[s].row1 - 1;
    }
}

void nw_model_margins(const nw_model_t *m, const nw_feat_t *f, size_t n, double *margin)
{
    enum { S_CHUNK = 256 };
    size_t nt = m->n_topics;
    for (size_t t = 0; t < nt; t++)
        margin[t] = m->topics[t].bias;
    if (!m->slots)
        return;
    float value[S_CHUNK];
    size_t slot[S_CHUNK];
    uint32_t id[S_CHUNK];
    for (size_t start = 0; start < n; start += S_CHUNK) {
        size_t end = start + S_CHUNK < n ? start + S_CHUNK : n, k = 0;
        /* 1: the bit table (small, cached) drops most ids; fetch the slots of the rest */
        for (size_t i = start; i < end; i++) {
            uint32_t x = f[i].id;
            if (x <= NW_FEATURES_MASK && !((m->bits[x / 64] >> (x % 64)) & 1))
                continue;
            id[k] = x;
            value[k] = f[i].value;
            slot[k] = s_slot_hash(x) & m->mask;
            __builtin_prefetch(&m->slots[slot[k]]);
            k++;
        }
        /* 2: probe, and fetch the weights of the slots found */
        size_t found = 0;
        for (size_t j = 0; j < k; j++) {
            size_t s = slot[j];
            while (m->slots[s].row1 && m->slots[s].id != id[j])
                s = (s + 1) & m->mask;
            if (!m->slots[s].row1)
                continue;
            slot[found] = s;
            value[found++] = value[j];
            const float *w = &m->slot_w[s * nt];
            __builtin_prefetch(w);
            __builtin_prefetch(w + nt - 1); /* the weights may end on the next cache line */
        }
        /* 3: add them up */
        for (size_t j = 0; j < found; j++) {
            const float *w = &m->slot_w[slot[j] * nt];
            for (size_t t = 0; t < nt; t++)
                margin[t] += (double)w[t] * value[j];
        }
    }
}

const float *nw_model_row_weights(const nw_model_t *m, size_t r)
{
    return &m->weights[r * m->n_topics];
}

uint32_t nw_model_row_id(const nw_model_t *m, size_t r)
{
    return m->ids[r];
}

const char *nw_model_row_name(const nw_model_t *m, size_t r)
{
    return m->names[r];
}

typedef struct {
    uint32_t id;
    size_t row;
} s_order_t;

static int s_cmp_row(const void *a, const void *b)
{
    uint32_t x = ((const s_order_t *)a)->id, y = ((const s_order_t *)b)->id;
    return (x > y) - (x < y);
}

int nw_model_write(const nw_model_t *m, FILE *f, const char *comment)
{
    s_order_t *order = malloc((m->n_rows ? m->n_rows : 1) * sizeof(*order));
    if (!order)
        return NW_ERR_NOMEM;
    for (size_t r = 0; r < m->n_rows; r++)
        order[r] = (s_order_t){.id = m->ids[r], .row = r};
    qsort(order, m->n_rows, sizeof(*order), s_cmp_row);
    fprintf(f, "newswire-model %d\n", NW_MODEL_VERSION);
    for (const char *c = comment; c && *c;) {
        const char *nl = strchr(c, '\n');
        size_t n = nl ? (size_t)(nl - c) : strlen(c);
        fprintf(f, "# %.*s\n", (int)n, c);
        c += n + (nl ? 1 : 0);
    }
    fprintf(f, "topics %zu\n", m->n_topics);
    fprintf(f, "taxonomy-features: %d\n", m->taxonomy_features ? 1 : 0);
    for (size_t i = 0; i < m->n_topics; i++) {
        const s_topic_t *t = &m->topics[i];
        fprintf(f, "topic %s %.6g %.6g %g %.4f %zu %zu\n", t->name, t->threshold, t->bias, t->C,
                t->cv_f1, t->positives, t->docs);
    }
    fprintf(f, "weights %zu\n", m->n_rows);
    for (size_t k = 0; k < m->n_rows; k++) {
        size_t r = order[k].row;
        fprintf(f, "%u\t", m->ids[r]);
        const float *w = nw_model_row_weights(m, r);
        bool first = true;
        for (size_t t = 0; t < m->n_topics; t++) {
            if (w[t] == 0)
                continue;
            fprintf(f, "%s%zu:%.5g", first ? "" : " ", t, (double)w[t]);
            first = false;
        }
        fprintf(f, "\t%s\n", m->names[r]);
    }
    free(order);
    return ferror(f) ? NW_ERR_IO : NW_OK;
}

void nw_model_destroy(nw_model_t **m_p)
{
    if (!m_p || !*m_p)
        return;
    nw_model_t *m = *m_p;
    for (size_t r = 0; r < m->n_rows; r++)
        free(m->names[r]);
    free(m->names);
    free(m->ids);
    free(m->weights);
    free(m->slots);
    free(m->slot_w);
    free(m->bits);
    free(m->bound_topic);
    free(m->topics);
    free(m);
    *m_p = NULL;
}
