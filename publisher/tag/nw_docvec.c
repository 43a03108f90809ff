#include "nw_docvec.h"

#include "nw_error.h"
#include "nw_features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TITLE_SALT  0x7f4a7c15u
#define S_SCORE_SCALE 0.25 /* S: features: a quarter of the score/threshold ratio */
#define S_TERM_SCALE  0.5  /* length of the block of T: features */

/* The state of one build. */
typedef struct {
    nw_docvec_t *v;
    int rc;
    nw_docvec_name_fn *name;
    void *ctx;
    bool title; /* scanning the headline: words also count as title: features */
    size_t n;   /* ids pushed */
} s_build_t;

/* Grows v's id and feature arrays to hold at least need entries. */
static int s_grow(nw_docvec_t *v, size_t need)
{
    size_t cap = v->cap ? v->cap : 1024;
    while (cap < need)
        cap *= 2;
    uint32_t *ids = realloc(v->ids, cap * sizeof(*ids));
    if (ids)
        v->ids = ids;
    uint32_t *tmp = ids ? realloc(v->tmp, cap * sizeof(*tmp)) : NULL;
    if (tmp)
        v->tmp = tmp;
    nw_feat_t *feat = tmp ? realloc(v->feat, cap * sizeof(*feat)) : NULL;
    if (feat)
        v->feat = feat;
    nw_feat_t *scratch = feat ? realloc(v->scratch, cap * sizeof(*scratch)) : NULL;
    if (!scratch)
        return NW_ERR_NOMEM;
    v->scratch = scratch;
    v->cap = cap;
    return NW_OK;
}

/* Makes room for more ids after the b->n there are; false (b->rc set) when memory ran out.
 * The first failure stays in b->rc: a later, smaller growth may succeed. */
static inline bool s_room(s_build_t *b, size_t more)
{
    if (__builtin_expect(b->n + more <= b->v->cap, 1))
        return true;
    int rc = s_grow(b->v, b->n + more);
    if (rc != NW_OK)
        b->rc = rc;
    return rc == NW_OK;
}

/* Appends one occurrence of feature id (value 1) to the id list. */
static inline void s_push(s_build_t *b, uint32_t id)
{
    if (s_room(b, 1))
        b->v->ids[b->n++] = id;
}

static uint32_t s_title_id(uint32_t id)
{
    return (id * 2654435761u + S_TITLE_SALT) & NW_FEATURES_MASK;
}

static void s_word(uint32_t id, const char *name, size_t len, void *ctx)
{
    s_build_t *b = ctx;
    s_push(b, id);
    if (b->name)
        b->name(id, name, len, b->ctx);
    if (b->title && memchr(name, ' ', len) == NULL) {
        uint32_t tid = s_title_id(id);
        s_push(b, tid);
        if (b->name) {
            char buf[80];
            int m = snprintf(buf, sizeof buf, "title:%.*s", (int)len, name);
            b->name(tid, buf, (size_t)m < sizeof buf ? (size_t)m : sizeof buf - 1, b->ctx);
        }
    }
}

typedef struct {
    s_build_t *b;
    const nw_taxonomy_t *tax;
} s_term_ctx_t;

static void s_term(uint32_t term, size_t segment, void *ctx)
{
    (void)segment;
    s_term_ctx_t *t = ctx;
    uint32_t id = nw_taxonomy_term(t->tax, term)->feature;
    s_push(t->b, id);
    if (t->b->name) {
        char buf[160];
        const char *name = nw_docvec_tax_name(t->tax, 'T', term, buf, sizeof buf);
        t->b->name(id, name, strlen(name), t->b->ctx);
    }
}

/* Sorts n ids in place by insertion: fast for a few, or for ids already near their place. */
static void s_insertion_sort(uint32_t *f, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t x = f[i];
        size_t j = i;
        while (j > 0 && f[j - 1] > x) {
            f[j] = f[j - 1];
            j--;
        }
        f[j] = x;
    }
}

/* Sorts n ids of NW_FEATURES_BITS bits, using tmp (n entries); returns where the sorted
 * ids are (f or tmp). The ids are hashes, spread evenly: a counting pass distributes them
 * by their top bits into n to 2n buckets (buckets in order), and an insertion sort puts the
 * one or two ids of a bucket in order. Above S_BUCKETS_MAX buckets, a two-pass radix sort
 * (low half of the bits, then high). */
static const uint32_t *s_sort(uint32_t *f, size_t n, uint32_t *tmp)
{
    enum { S_BUCKET_BITS_MAX = 12, S_BUCKETS_MAX = 1 << S_BUCKET_BITS_MAX };
    if (n < 48) {
        s_insertion_sort(f, n);
        return f;
    }
    unsigned bits = 5;
    while (bits < S_BUCKET_BITS_MAX && ((size_t)1 << bits) < n)
        bits++;
    uint32_t count[S_BUCKETS_MAX];
    if (((size_t)1 << (bits + 1)) >= n) {
        unsigned shift = NW_FEATURES_BITS - bits;
        memset(count, 0, sizeof(uint32_t) << bits);
        for (size_t i = 0; i < n; i++)
            count[f[i] >> shift]++;
        uint32_t sum = 0;
        for (size_t b = 0; b < ((size_t)1 << bits); b++) {
            uint32_t k = count[b];
            count[b] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[f[i] >> shift]++] = f[i];
        s_insertion_sort(tmp, n); /* moves ids only within their bucket */
        return tmp;
    }
    enum { S_LO = NW_FEATURES_BITS / 2, S_HI = NW_FEATURES_BITS - S_LO };
    _Static_assert((int)S_HI <= (int)S_BUCKET_BITS_MAX, "radix too wide");
    for (unsigned pass = 0; pass < 2; pass++) {
        unsigned shift = pass ? S_LO : 0, width = pass ? S_HI : S_LO;
        uint32_t *from = pass ? tmp : f, *to = pass ? f : tmp, mask = (1u << width) - 1;
        memset(count, 0, sizeof(uint32_t) << width);
        for (size_t i = 0; i < n; i++)
            count[(from[i] >> shift) & mask]++;
        uint32_t sum = 0;
        for (size_t b = 0; b <= mask; b++) {
            uint32_t k = count[b];
            count[b] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++)
            to[count[(from[i] >> shift) & mask]++] = from[i];
    }
    return f;
}

/* 1 + ln(count): from v's table for the small counts that most repeated words have. */
static inline double s_tf(const nw_docvec_t *v, size_t count)
{
    return count < NW_DOCVEC_TF_TABLE ? v->tf[count] : 1.0 + log((double)count);
}

/* Sorts the n ids (moving them), writes each distinct one to out with value
 * 1 + ln(count), the block scaled to length scale. Returns the distinct count. */
static size_t s_block(const nw_docvec_t *v, uint32_t *unsorted, size_t n, double scale,
                      nw_feat_t *out)
{
    const uint32_t *ids = s_sort(unsorted, n, v->tmp);
    size_t m = 0;
    double norm = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && ids[j] == ids[i])
            j++;
        double tf = s_tf(v, j - i);
        norm += tf * tf;
        out[m++] = (nw_feat_t){.id = ids[i], .value = (float)tf};
        i = j;
    }
    double k = norm > 0 ? scale / sqrt(norm) : 0;
    for (size_t i = 0; i < m; i++)
        out[i].value = (float)(out[i].value * k);
    return m;
}

/* Sorts n features by id, stably (the few S: features). */
static void s_sort_feat(nw_feat_t *f, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        nw_feat_t x = f[i];
        size_t j = i;
        while (j > 0 && f[j - 1].id > x.id) {
            f[j] = f[j - 1];
            j--;
        }
        f[j] = x;
    }
}

const char *nw_docvec_tax_name(const nw_taxonomy_t *tax, char kind, size_t index, char *buf,
                               size_t buflen)
{
    if (kind == 'T') {
        const nw_term_t *term = nw_taxonomy_term(tax, index);
        snprintf(buf, buflen, "T:%s:%s", nw_taxonomy_topic_name(tax, term->topic), term->text);
    } else {
        snprintf(buf, buflen, "S:%s", nw_taxonomy_topic_name(tax, index));
    }
    return buf;
}

/* Appends the ids of segment text (len bytes) to b's list without names: the fast path.
 * In the headline, every unigram also counts as a title: feature; nw_features_ids writes
 * u1, u2, b12, u3, b23, ..., so the unigrams are the first id and every odd one. */
static void s_words_fast(s_build_t *b, const char *text, size_t len, bool title)
{
    if (!s_room(b, nw_features_ids_max(len) * (title ? 2 : 1)))
        return;
    size_t tokens;
    uint32_t *ids = b->v->ids + b->n;
    size_t k = nw_features_ids(text, len, ids, &tokens);
    b->n += k;
    if (title) {
        for (size_t i = 0; i < k; i += i == 0 ? 1 : 2)
            b->v->ids[b->n++] = s_title_id(ids[i]);
    }
}

int nw_docvec_build(nw_docvec_t *v, const nw_taxonomy_t *tax, const nw_segment_t *seg, size_t n,
                    bool taxonomy_features, nw_docvec_name_fn *name, void *ctx)
{
    return nw_docvec_build_ex(v, tax, seg, n, taxonomy_features, name, ctx, NULL, NULL);
}

int nw_docvec_build_ex(nw_docvec_t *v, const nw_taxonomy_t *tax, const nw_segment_t *seg, size_t n,
                       bool taxonomy_features, nw_docvec_name_fn *name, void *ctx,
                       nw_segment_evidence_t *segs, bool *urgent)
{
    s_build_t b = {.v = v, .name = name, .ctx = ctx};
    size_t nt = nw_taxonomy_topic_count(tax);
    if (v->tf[1] == 0) {
        for (size_t k = 1; k < NW_DOCVEC_TF_TABLE; k++)
            v->tf[k] = k == 1 ? 1.0 : 1.0 + log((double)k);
    }
    v->n = 0;
    if (v->n_topics < nt || v->topics == NULL) {
        nw_topic_evidence_t *grown = realloc(v->topics, (nt ? nt : 1) * sizeof(*grown));
        if (!grown)
            return NW_ERR_NOMEM;
        v->topics = grown;
    }
    v->n_topics = nt;
    for (size_t i = 0; i < n; i++) {
        b.title = seg[i].pos == NW_POS_TITLE;
        if (name)
            nw_features_scan_named(seg[i].text, seg[i].len, s_word, &b);
        else
            s_words_fast(&b, seg[i].text, seg[i].len, b.title);
    }
    size_t n_words = b.n;
    s_term_ctx_t tc = {.b = &b, .tax = tax};
    int rc = nw_evidence_score(tax, seg, n, v->topics, segs, urgent,
                               taxonomy_features ? s_term : NULL, &tc);
    if (rc != NW_OK)
        return rc;
    if (b.rc != NW_OK)
        return b.rc;
    if (b.n + nt + 1 > v->cap && (rc = s_grow(v, b.n + nt + 1)) != NW_OK)
        return rc; /* room for the distinct features, T:any and the S: ones */
    /* words, then terms: each block its own sublinear counts and unit length */
    size_t n_terms = s_block(v, v->ids + n_words, b.n - n_words, S_TERM_SCALE, v->scratch);
    n_words = s_block(v, v->ids, n_words, 1.0, v->feat);
    memcpy(v->feat + n_words, v->scratch, n_terms * sizeof(*v->feat));
    v->n = n_words + n_terms;
    if (!taxonomy_features)
        return NW_OK;
    if (n_terms > 0) {
        /* any term hit at all: what sets a story that speaks some topic's words apart */
        uint32_t id = nw_features_named_id("T:any");
        if (name)
            name(id, "T:any", 5, ctx);
        v->feat[v->n++] = (nw_feat_t){.id = id, .value = (float)S_TERM_SCALE};
    }
    for (size_t t = 0; t < nt; t++) {
        double ratio = v->topics[t].score / nw_taxonomy_topic_threshold(tax, t);
        if (ratio <= 0)
            continue;
        uint32_t id = nw_taxonomy_topic_feature(tax, t);
        if (name) {
            char buf[96];
            const char *sname = nw_docvec_tax_name(tax, 'S', t, buf, sizeof buf);
            name(id, sname, strlen(sname), ctx);
        }
        v->feat[v->n++] =
            (nw_feat_t){.id = id, .value = (float)(S_SCORE_SCALE * (ratio > 2 ? 2 : ratio))};
    }
    if (v->n > n_words) {
        /* merge the three sorted runs (words, terms, scores); an id in two of them (a
         * collision) sums its values */
        s_sort_feat(v->feat + n_words + n_terms, v->n - n_words - n_terms);
        size_t w = 0, t = n_words, k = n_words + n_terms, m = 0;
        const size_t w_end = n_words, t_end = n_words + n_terms, k_end = v->n;
        while (w < w_end || t < t_end || k < k_end) {
            uint32_t iw = w < w_end ? v->feat[w].id : UINT32_MAX;
            uint32_t it = t < t_end ? v->feat[t].id : UINT32_MAX;
            uint32_t ik = k < k_end ? v->feat[k].id : UINT32_MAX;
            nw_feat_t next;
            if (iw <= it && iw <= ik)
                next = v->feat[w++];
            else if (it <= ik)
                next = v->feat[t++];
            else
                next = v->feat[k++];
            if (m > 0 && v->scratch[m - 1].id == next.id)
                v->scratch[m - 1].value += next.value;
            else
                v->scratch[m++] = next;
        }
        memcpy(v->feat, v->scratch, m * sizeof(*v->feat));
        v->n = m;
    }
    return NW_OK;
}

void nw_docvec_free(nw_docvec_t *v)
{
    free(v->feat);
    free(v->topics);
    free(v->scratch);
    free(v->ids);
    free(v->tmp);
    memset(v, 0, sizeof(*v));
}
