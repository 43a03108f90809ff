#include "nw_decode.h"

#include "nw_error.h"
#include "nw_topic.h"
#include "nw_utf8.h"
#include "nw_wire_check.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_TYPE_ALERT "alert"

/* How a field is read and where it goes. */
typedef enum {
    S_F_VERSION,  /* "v": must be NW_PROTO_VERSION; stored nowhere */
    S_F_TYPE,     /* "type": must be "alert"; stored nowhere */
    S_F_STR,      /* a required string of at most max bytes, into a char * */
    S_F_STR_OPT,  /* as S_F_STR; absent gives "" */
    S_F_ID,       /* as S_F_STR, and not empty (subscribers deduplicate by id) */
    S_F_U32,      /* an unsigned integer up to max, into a uint32_t */
    S_F_U64,      /* an unsigned integer, into a uint64_t */
    S_F_I64,      /* a signed integer, into an int64_t */
    S_F_I64_OPT,  /* as S_F_I64; absent gives 0 */
    S_F_REVISION, /* an unsigned integer from 1 up to max, into a uint32_t; absent gives 1 */
    S_F_KIND,     /* "headline", "keypoint" or "paragraph", into an nw_alert_kind_t */
    S_F_PRIORITY, /* an unsigned integer up to max, into an nw_priority_t */
    S_F_TOPICS,   /* the "topics" array, numbered by the next line's "tseq" map */
    S_F_TSEQ,     /* read with S_F_TOPICS */
} s_ftype_t;

typedef struct {
    const char *key; /* wire key */
    size_t key_len;  /* its bytes */
    s_ftype_t type;  /* how it is read */
    size_t offset;   /* where it goes in nw_alert_t */
    uint64_t max;    /* longest string, largest integer */
} s_field_t;

/* A key and its length, for the table below. */
#define S_KEY(k) k, sizeof k - 1

/* Each field's line in the table below (the fast path names fields by these). */
enum {
    S_I_V,
    S_I_TYPE,
    S_I_ID,
    S_I_ARTICLE,
    S_I_INDEX,
    S_I_KIND,
    S_I_PRIORITY,
    S_I_PUBLISHED,
    S_I_STREAM,
    S_I_SEQ,
    S_I_TOPICS,
    S_I_TSEQ,
    S_I_TITLE,
    S_I_SECTION,
    S_I_SOURCE,
    S_I_AUTHOR,
    S_I_PLACE,
    S_I_TEXT,
    S_I_URL,
    S_I_ARTICLE_TIME,
    S_I_REVISION,
};

/* The alert's keys, in the order the encoder writes them (which makes finding a key one
 * comparison) and the fields are checked (which picks the error of a frame with several
 * faults). One line per field. */
static const s_field_t s_fields[] = {
    [S_I_V] = {S_KEY("v"), S_F_VERSION, 0, 0},
    [S_I_TYPE] = {S_KEY("type"), S_F_TYPE, 0, 0},
    [S_I_ID] = {S_KEY("id"), S_F_ID, offsetof(nw_alert_t, id), NW_ALERT_FIELD_MAX},
    [S_I_ARTICLE] = {S_KEY("article"), S_F_STR, offsetof(nw_alert_t, article_id),
                     NW_ALERT_FIELD_MAX},
    [S_I_INDEX] = {S_KEY("index"), S_F_U32, offsetof(nw_alert_t, index), UINT32_MAX},
    [S_I_KIND] = {S_KEY("kind"), S_F_KIND, offsetof(nw_alert_t, kind), 0},
    [S_I_PRIORITY] = {S_KEY("priority"), S_F_PRIORITY, offsetof(nw_alert_t, priority),
                      NW_PRIORITY_URGENT},
    [S_I_PUBLISHED] = {S_KEY("published"), S_F_I64, offsetof(nw_alert_t, published_ms), 0},
    [S_I_STREAM] = {S_KEY("stream"), S_F_STR, offsetof(nw_alert_t, stream), NW_ALERT_FIELD_MAX},
    [S_I_SEQ] = {S_KEY("seq"), S_F_U64, offsetof(nw_alert_t, seq), UINT64_MAX},
    [S_I_TOPICS] = {S_KEY("topics"), S_F_TOPICS, 0, 0},
    [S_I_TSEQ] = {S_KEY("tseq"), S_F_TSEQ, 0, 0},
    [S_I_TITLE] = {S_KEY("title"), S_F_STR_OPT, offsetof(nw_alert_t, title), NW_ALERT_FIELD_MAX},
    [S_I_SECTION] = {S_KEY("section"), S_F_STR_OPT, offsetof(nw_alert_t, section),
                     NW_ALERT_FIELD_MAX},
    [S_I_SOURCE] = {S_KEY("source"), S_F_STR_OPT, offsetof(nw_alert_t, source), NW_ALERT_FIELD_MAX},
    [S_I_AUTHOR] = {S_KEY("author"), S_F_STR_OPT, offsetof(nw_alert_t, author), NW_ALERT_FIELD_MAX},
    [S_I_PLACE] = {S_KEY("place"), S_F_STR_OPT, offsetof(nw_alert_t, place), NW_ALERT_FIELD_MAX},
    [S_I_TEXT] = {S_KEY("text"), S_F_STR, offsetof(nw_alert_t, text), NW_ALERT_TEXT_MAX},
    [S_I_URL] = {S_KEY("url"), S_F_STR_OPT, offsetof(nw_alert_t, url), NW_ALERT_FIELD_MAX},
    [S_I_ARTICLE_TIME] = {S_KEY("article_time"), S_F_I64_OPT, offsetof(nw_alert_t, article_time_ms),
                          0},
    [S_I_REVISION] = {S_KEY("revision"), S_F_REVISION, offsetof(nw_alert_t, revision), UINT32_MAX},
};
#define S_N_FIELDS (sizeof s_fields / sizeof s_fields[0])

/* What a value is, in msgpack-c's terms (the reference the strictness rules were written
 * against): an integer of any width that is not negative is S_UINT. */
typedef enum {
    S_NIL,
    S_BOOL,
    S_UINT,
    S_NINT,
    S_FLOAT,
    S_STR,
    S_BIN,
    S_EXT,
    S_ARRAY,
    S_MAP
} s_type_t;

/* One value's header, read from bytes the walk has accepted. */
typedef struct {
    s_type_t type;
    uint64_t u;               /* S_UINT: the value; S_NINT: its two's-complement bits */
    const unsigned char *ptr; /* S_STR, S_BIN, S_EXT: the payload; S_ARRAY, S_MAP: the
                                 first element */
    uint32_t n;               /* S_STR, S_BIN, S_EXT: payload bytes; S_ARRAY: elements;
                                 S_MAP: pairs */
} s_val_t;

static uint64_t s_be(const unsigned char *p, size_t width)
{
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Reads the header at p (inside a frame nw_wire_walk accepted) into *v; returns the byte
 * after the value (scalars, strings) or after its header (arrays, maps). */
static const unsigned char *s_read(const unsigned char *p, s_val_t *v)
{
    unsigned char c = p[0];
    if (c <= 0x7f) {
        *v = (s_val_t){.type = S_UINT, .u = c};
        return p + 1;
    }
    if (c >= 0xe0) {
        *v = (s_val_t){.type = S_NINT, .u = (uint64_t)(int64_t)(int8_t)c};
        return p + 1;
    }
    if (c >= 0xa0 && c <= 0xbf) {
        *v = (s_val_t){.type = S_STR, .ptr = p + 1, .n = c & 0x1f};
        return p + 1 + v->n;
    }
    if (c <= 0x9f) {
        *v = (s_val_t){.type = c <= 0x8f ? S_MAP : S_ARRAY, .ptr = p + 1, .n = c & 0x0f};
        return p + 1;
    }
    size_t w;
    int64_t i;
    switch (c) {
    case 0xc0: *v = (s_val_t){.type = S_NIL}; return p + 1;
    case 0xc2:
    case 0xc3: *v = (s_val_t){.type = S_BOOL, .u = c & 1}; return p + 1;
    case 0xc4:
    case 0xc5:
    case 0xc6:
    case 0xd9:
    case 0xda:
    case 0xdb:
        w = (size_t)1 << (c <= 0xc6 ? c - 0xc4 : c - 0xd9);
        *v = (s_val_t){
            .type = c <= 0xc6 ? S_BIN : S_STR, .ptr = p + 1 + w, .n = (uint32_t)s_be(p + 1, w)};
        return p + 1 + w + v->n;
    case 0xc7:
    case 0xc8:
    case 0xc9:
        w = (size_t)1 << (c - 0xc7);
        *v = (s_val_t){.type = S_EXT, .ptr = p + 2 + w, .n = (uint32_t)s_be(p + 1, w)};
        return p + 2 + w + v->n;
    case 0xca: *v = (s_val_t){.type = S_FLOAT}; return p + 5;
    case 0xcb: *v = (s_val_t){.type = S_FLOAT}; return p + 9;
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        w = (size_t)1 << (c - 0xcc);
        *v = (s_val_t){.type = S_UINT, .u = s_be(p + 1, w)};
        return p + 1 + w;
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
        w = (size_t)1 << (c - 0xd0);
        /* Sign-extend the w-byte big-endian value. */
        i = (int64_t)(s_be(p + 1, w) << (64 - 8 * w)) >> (64 - 8 * w);
        *v = (s_val_t){.type = i < 0 ? S_NINT : S_UINT, .u = (uint64_t)i};
        return p + 1 + w;
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        w = (size_t)1 << (c - 0xd4);
        *v = (s_val_t){.type = S_EXT, .ptr = p + 2, .n = (uint32_t)w};
        return p + 2 + w;
    case 0xdc:
    case 0xdd:
        w = c == 0xdc ? 2 : 4;
        *v = (s_val_t){.type = S_ARRAY, .ptr = p + 1 + w, .n = (uint32_t)s_be(p + 1, w)};
        return p + 1 + w;
    default: /* 0xde, 0xdf; 0xc1 never passes the walk */
        w = c == 0xde ? 2 : 4;
        *v = (s_val_t){.type = S_MAP, .ptr = p + 1 + w, .n = (uint32_t)s_be(p + 1, w)};
        return p + 1 + w;
    }
}

/* True when the n bytes at p are exactly the C string key. */
static inline bool s_key_is(const char *key, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)key[i] != p[i] || key[i] == '\0')
            return false;
    }
    return key[n] == '\0';
}

/* True when the n bytes at p are field f's key: the length first, which rules out most
 * keys at once. */
static inline bool s_field_is(const s_field_t *f, const unsigned char *p, size_t n)
{
    if (n != f->key_len)
        return false;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)f->key[i] != p[i])
            return false;
    }
    return true;
}

/* The index the walk builds: where each known key's value starts. */
typedef struct {
    const unsigned char *found[S_N_FIELDS]; /* value of each field, NULL when absent */
    int current;                            /* field of the key just seen, -1 unknown */
    int error;                              /* the first fault of the keys, NW_OK if none */
} s_index_t;

/* An nw_wire_visit_fn: keys must be strings, a known key may appear once. The first fault
 * in map order is kept, and reported only once the walk has accepted the whole frame. */
static void s_visit(void *ctx, size_t i, const unsigned char *at)
{
    s_index_t *ix = ctx;
    if (ix->error != NW_OK)
        return;
    if (i % 2 == 1) {
        if (ix->current >= 0)
            ix->found[ix->current] = at;
        return;
    }
    s_val_t k;
    if ((at[0] & 0xe0) == 0xa0) /* a fixstr, as every key of ours: no need for the switch */
        k = (s_val_t){.type = S_STR, .ptr = at + 1, .n = at[0] & 0x1f};
    else
        s_read(at, &k);
    if (k.type != S_STR) {
        ix->error = NW_ERR_WIRE_TYPE;
        return;
    }
    /* Our encoder writes keys in table order: try that position first. */
    size_t j = i / 2;
    if (j >= S_N_FIELDS || !s_field_is(&s_fields[j], k.ptr, k.n)) {
        for (j = 0; j < S_N_FIELDS && !s_field_is(&s_fields[j], k.ptr, k.n); j++)
            ;
    }
    ix->current = j < S_N_FIELDS ? (int)j : -1;
    if (j < S_N_FIELDS && ix->found[j] != NULL)
        ix->error = NW_ERR_WIRE_RANGE;
}

/* --- field readers: p is the value's first byte, NULL when the key is absent ------------- */

static int s_str_check(const s_val_t *v, uint64_t max)
{
    if (v->type != S_STR)
        return NW_ERR_WIRE_TYPE;
    if (v->n > max)
        return NW_ERR_WIRE_OVERSIZE;
    return nw_utf8_valid_text((const char *)v->ptr, v->n) ? NW_OK : NW_ERR_WIRE_UTF8;
}

/* Sets *out to a NUL-terminated copy of the string at p ("" when p is NULL and the
 * string is optional), placed at *next in the alert's strings block; advances *next past
 * it. *out is set only on NW_OK. */
static int s_get_str(const unsigned char *p, uint64_t max, bool required, char **next, char **out)
{
    s_val_t v = {.type = S_STR, .ptr = NULL, .n = 0};
    int rv;
    if (p == NULL && required)
        return NW_ERR_WIRE_MISSING;
    if (p != NULL) {
        s_read(p, &v);
        if ((rv = s_str_check(&v, max)) != NW_OK)
            return rv;
    }
    char *copy = *next;
    if (v.n > 0)
        memcpy(copy, v.ptr, v.n);
    copy[v.n] = '\0';
    *next = copy + v.n + 1;
    *out = copy;
    return NW_OK;
}

static int s_uint(const s_val_t *v, uint64_t max, uint64_t *out)
{
    if (v->type == S_NINT)
        return NW_ERR_WIRE_RANGE;
    if (v->type != S_UINT)
        return NW_ERR_WIRE_TYPE;
    if (v->u > max)
        return NW_ERR_WIRE_RANGE;
    *out = v->u;
    return NW_OK;
}

static int s_get_uint(const unsigned char *p, uint64_t max, uint64_t *out)
{
    s_val_t v;
    if (p == NULL)
        return NW_ERR_WIRE_MISSING;
    s_read(p, &v);
    return s_uint(&v, max, out);
}

static int s_get_int(const unsigned char *p, int64_t *out)
{
    s_val_t v;
    if (p == NULL)
        return NW_ERR_WIRE_MISSING;
    s_read(p, &v);
    if (v.type == S_NINT) {
        *out = (int64_t)v.u;
        return NW_OK;
    }
    if (v.type != S_UINT)
        return NW_ERR_WIRE_TYPE;
    if (v.u > (uint64_t)INT64_MAX)
        return NW_ERR_WIRE_RANGE;
    *out = (int64_t)v.u;
    return NW_OK;
}

static int s_get_version(const unsigned char *p)
{
    s_val_t v;
    if (p == NULL)
        return NW_ERR_WIRE_MISSING;
    s_read(p, &v);
    if (v.type == S_UINT)
        return v.u == NW_PROTO_VERSION ? NW_OK : NW_ERR_WIRE_VERSION;
    return v.type == S_NINT ? NW_ERR_WIRE_VERSION : NW_ERR_WIRE_TYPE;
}

/* The string at p must be one of names[0 .. n_names - 1]; *index says which. */
static int s_get_enum(const unsigned char *p, const char *const *names, size_t n_names,
                      size_t *index)
{
    s_val_t v;
    if (p == NULL)
        return NW_ERR_WIRE_MISSING;
    s_read(p, &v);
    if (v.type != S_STR)
        return NW_ERR_WIRE_TYPE;
    for (size_t i = 0; i < n_names; i++) {
        if (s_key_is(names[i], v.ptr, v.n)) {
            *index = i;
            return NW_OK;
        }
    }
    return NW_ERR_WIRE_RANGE;
}

/* Fills alert's topics from the "topics" array at arr, then their numbers from the "tseq"
 * map at tseq, which must name exactly the same topics. */
static int s_get_topics(const unsigned char *arr, const unsigned char *tseq, char **next,
                        nw_alert_t *alert)
{
    s_val_t a, m, e;
    int rv;
    if (arr == NULL || tseq == NULL)
        return NW_ERR_WIRE_MISSING;
    s_read(arr, &a);
    s_read(tseq, &m);
    if (a.type != S_ARRAY || m.type != S_MAP)
        return NW_ERR_WIRE_TYPE;
    if (a.n == 0)
        return NW_ERR_WIRE_RANGE;
    if (a.n > NW_ALERT_TOPICS_MAX)
        return NW_ERR_WIRE_OVERSIZE;
    const unsigned char *p = a.ptr;
    for (uint32_t i = 0; i < a.n; i++) {
        const unsigned char *at = p;
        p = s_read(p, &e); /* a string: anything else fails here, before p is used again */
        if (e.type != S_STR)
            return NW_ERR_WIRE_TYPE;
        if (!nw_topic_valid((const char *)e.ptr, e.n))
            return NW_ERR_WIRE_RANGE;
        char *name = NULL;
        if ((rv = s_get_str(at, NW_TOPIC_MAX, true, next, &name)) != NW_OK)
            return rv;
        if (nw_alert_find_topic(alert, name) >= 0)
            return NW_ERR_WIRE_RANGE;
        alert->topics[alert->n_topics].name = name;
        alert->topics[alert->n_topics].seq = 0;
        alert->n_topics++;
    }
    if (m.n != a.n)
        return NW_ERR_WIRE_RANGE;
    bool seen[NW_ALERT_TOPICS_MAX] = {false};
    p = m.ptr;
    for (uint32_t i = 0; i < m.n; i++) {
        p = s_read(p, &e);
        if (e.type != S_STR)
            return NW_ERR_WIRE_TYPE;
        size_t j = 0;
        while (j < a.n && !s_key_is(alert->topics[j].name, e.ptr, e.n))
            j++;
        if (j == a.n || seen[j])
            return NW_ERR_WIRE_RANGE;
        s_val_t seq;
        p = s_read(p, &seq); /* an integer: anything else fails here */
        if ((rv = s_uint(&seq, UINT64_MAX, &alert->topics[j].seq)) != NW_OK)
            return rv;
        seen[j] = true;
    }
    return NW_OK;
}

/* Reads field f (its value at found[k], NULL when absent) into alert; strings go at *next. */
static int s_get_field(const s_field_t *f, const unsigned char *const *found, size_t k, char **next,
                       nw_alert_t *alert)
{
    const unsigned char *p = found[k];
    char *base = (char *)alert;
    uint64_t u = 0;
    size_t e = 0;
    int rv = NW_OK;
    switch (f->type) {
    case S_F_VERSION: return s_get_version(p);
    case S_F_TYPE: {
        static const char *const type[] = {S_TYPE_ALERT};
        return s_get_enum(p, type, 1, &e);
    }
    case S_F_ID:
    case S_F_STR:
    case S_F_STR_OPT:
        if ((rv = s_get_str(p, f->max, f->type != S_F_STR_OPT, next,
                            (char **)(base + f->offset))) != NW_OK)
            return rv;
        return f->type == S_F_ID && **(char **)(base + f->offset) == '\0' ? NW_ERR_WIRE_RANGE
                                                                          : NW_OK;
    case S_F_U32:
        if ((rv = s_get_uint(p, f->max, &u)) == NW_OK)
            *(uint32_t *)(base + f->offset) = (uint32_t)u;
        return rv;
    case S_F_U64: return s_get_uint(p, f->max, (uint64_t *)(base + f->offset));
    case S_F_I64: return s_get_int(p, (int64_t *)(base + f->offset));
    case S_F_I64_OPT: return p == NULL ? NW_OK : s_get_int(p, (int64_t *)(base + f->offset));
    case S_F_REVISION:
        u = 1;
        if (p != NULL && (rv = s_get_uint(p, f->max, &u)) != NW_OK)
            return rv;
        if (u == 0)
            return NW_ERR_WIRE_RANGE; /* revisions count from 1 */
        *(uint32_t *)(base + f->offset) = (uint32_t)u;
        return NW_OK;
    case S_F_PRIORITY:
        if ((rv = s_get_uint(p, f->max, &u)) == NW_OK)
            *(nw_priority_t *)(base + f->offset) = (nw_priority_t)u;
        return rv;
    case S_F_KIND: {
        const char *names[NW_KIND_PARAGRAPH + 1];
        for (size_t i = 0; i <= NW_KIND_PARAGRAPH; i++)
            names[i] = nw_alert_kind_name((nw_alert_kind_t)i);
        if ((rv = s_get_enum(p, names, NW_KIND_PARAGRAPH + 1, &e)) == NW_OK)
            *(nw_alert_kind_t *)(base + f->offset) = (nw_alert_kind_t)e;
        return rv;
    }
    case S_F_TOPICS: return k + 1 < S_N_FIELDS ? s_get_topics(p, found[k + 1], next, alert) : NW_OK;
    case S_F_TSEQ: return NW_OK;
    }
    return NW_OK;
}

/* --- the fast path: one pass over a frame laid out as our encoder writes it -------------- *
 *
 * It reads the top-level map once, finds each key with a switch on its length and first
 * bytes, bounds-checks each value as it reads it and stores it straight into the alert. It
 * returns true only for a frame the walk and the table readers above would accept, with the
 * same fields; on anything else (a fault, a nested value under an unknown key, "tseq" before
 * "topics") it returns false and the caller decodes the frame the thorough way, which picks
 * the error code. */

/* Reads a string at *pp, ending at or before end: sets *s and *n, advances *pp past it. */
static inline bool f_str(const unsigned char **pp, const unsigned char *end,
                         const unsigned char **s, uint32_t *n)
{
    const unsigned char *p = *pp;
    size_t avail = (size_t)(end - p), head, len;
    if (avail == 0)
        return false;
    unsigned char c = p[0];
    if ((c & 0xe0) == 0xa0) {
        head = 1;
        len = c & 0x1f;
    } else if (c >= 0xd9 && c <= 0xdb) {
        head = 1 + ((size_t)1 << (c - 0xd9));
        if (avail < head)
            return false;
        len = c == 0xd9 ? p[1] : (size_t)s_be(p + 1, head - 1);
    } else {
        return false;
    }
    if (len > avail - head)
        return false;
    *s = p + head;
    *n = (uint32_t)len;
    *pp = p + head + len;
    return true;
}

/* Reads an integer at *pp: sets *u to its bits and *neg when it is negative (what msgpack-c
 * calls a negative integer), advances *pp past it. */
static inline bool f_int(const unsigned char **pp, const unsigned char *end, uint64_t *u, bool *neg)
{
    const unsigned char *p = *pp;
    size_t avail = (size_t)(end - p);
    if (avail == 0)
        return false;
    unsigned char c = p[0];
    *neg = false;
    if (c <= 0x7f) {
        *u = c;
        *pp = p + 1;
        return true;
    }
    if (c >= 0xe0) {
        *u = (uint64_t)(int64_t)(int8_t)c;
        *neg = true;
        *pp = p + 1;
        return true;
    }
    if (c < 0xcc || c > 0xd3)
        return false;
    size_t w = (size_t)1 << ((c - 0xcc) & 3);
    if (avail < 1 + w)
        return false;
    *u = s_be(p + 1, w);
    if (c >= 0xd0) {
        int64_t i = (int64_t)(*u << (64 - 8 * w)) >> (64 - 8 * w);
        *u = (uint64_t)i;
        *neg = i < 0;
    }
    *pp = p + 1 + w;
    return true;
}

/* An unsigned integer up to max. */
static inline bool f_uint(const unsigned char **pp, const unsigned char *end, uint64_t max,
                          uint64_t *u)
{
    bool neg;
    return f_int(pp, end, u, &neg) && !neg && *u <= max;
}

/* A signed 64-bit integer. */
static inline bool f_i64(const unsigned char **pp, const unsigned char *end, int64_t *out)
{
    uint64_t u;
    bool neg;
    if (!f_int(pp, end, &u, &neg) || (!neg && u > (uint64_t)INT64_MAX))
        return false;
    *out = (int64_t)u;
    return true;
}

/* Bytes of the bin, ext, float or integer value at p (avail bytes present), 0 when its
 * length field is cut. */
static size_t s_scalar_size(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t w;
    switch (c) {
    case 0xc4:
    case 0xc5:
    case 0xc6:
    case 0xc7:
    case 0xc8:
    case 0xc9: {
        bool ext = c >= 0xc7;
        w = (size_t)1 << (ext ? c - 0xc7 : c - 0xc4);
        size_t head = 1 + w + (ext ? 1 : 0);
        if (avail < head)
            return 0;
        uint64_t len = s_be(p + 1, w);
        return len > avail - head ? 0 : head + (size_t)len;
    }
    case 0xca: return 5;
    case 0xcb: return 9;
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8: return 2 + ((size_t)1 << (c - 0xd4));
    default: /* 0xcc-0xd3 */ return 1 + ((size_t)1 << ((c - 0xcc) & 3));
    }
}

/* Steps over one value that is not an array or a map (what an unknown key may hold). */
static inline bool f_skip(const unsigned char **pp, const unsigned char *end)
{
    const unsigned char *p = *pp;
    size_t avail = (size_t)(end - p);
    if (avail == 0)
        return false;
    unsigned char c = p[0];
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
        *pp = p + 1;
        return true;
    }
    if (c <= 0x9f || c == 0xc1 || (c >= 0xdc && c <= 0xdf))
        return false; /* a container: the thorough path walks it; 0xc1: malformed */
    const unsigned char *s;
    uint32_t n;
    if ((c & 0xe0) == 0xa0 || (c >= 0xd9 && c <= 0xdb))
        return f_str(pp, end, &s, &n);
    size_t h = s_scalar_size(p, avail);
    if (h == 0 || h > avail)
        return false;
    *pp = p + h;
    return true;
}

/* True when the n bytes at k are the literal lit (n is its length: the caller's switch). */
#define F_IS(k, lit) (memcmp((k), lit, sizeof lit - 1) == 0)

/* The table line of key k (n bytes), -1 for a key the alert does not use. */
static inline int f_key(const unsigned char *k, uint32_t n)
{
    switch (n) {
    case 1: return k[0] == 'v' ? S_I_V : -1;
    case 2: return F_IS(k, "id") ? S_I_ID : -1;
    case 3: return F_IS(k, "seq") ? S_I_SEQ : F_IS(k, "url") ? S_I_URL : -1;
    case 4:
        return F_IS(k, "type")   ? S_I_TYPE
               : F_IS(k, "kind") ? S_I_KIND
               : F_IS(k, "tseq") ? S_I_TSEQ
               : F_IS(k, "text") ? S_I_TEXT
                                 : -1;
    case 5:
        return F_IS(k, "index")   ? S_I_INDEX
               : F_IS(k, "title") ? S_I_TITLE
               : F_IS(k, "place") ? S_I_PLACE
                                  : -1;
    case 6:
        return F_IS(k, "stream")   ? S_I_STREAM
               : F_IS(k, "topics") ? S_I_TOPICS
               : F_IS(k, "source") ? S_I_SOURCE
               : F_IS(k, "author") ? S_I_AUTHOR
                                   : -1;
    case 7: return F_IS(k, "article") ? S_I_ARTICLE : F_IS(k, "section") ? S_I_SECTION : -1;
    case 8: return F_IS(k, "priority") ? S_I_PRIORITY : F_IS(k, "revision") ? S_I_REVISION : -1;
    case 9: return F_IS(k, "published") ? S_I_PUBLISHED : -1;
    case 12: return F_IS(k, "article_time") ? S_I_ARTICLE_TIME : -1;
    default: return -1;
    }
}

/* Reads the header of an array (map when map) at *pp: sets *n to its elements (pairs). */
static inline bool f_container(const unsigned char **pp, const unsigned char *end, bool map,
                               uint32_t *n)
{
    const unsigned char *p = *pp;
    size_t avail = (size_t)(end - p);
    if (avail == 0)
        return false;
    unsigned char c = p[0], fix = map ? 0x80 : 0x90, wide = map ? 0xde : 0xdc;
    if ((c & 0xf0) == fix) {
        *n = c & 0x0f;
        *pp = p + 1;
        return true;
    }
    if (c != wide && c != wide + 1)
        return false;
    size_t w = c == wide ? 2 : 4;
    if (avail < 1 + w)
        return false;
    *n = (uint32_t)s_be(p + 1, w);
    *pp = p + 1 + w;
    return true;
}

#define F_ONES  0x0101010101010101ull /* 0x01 in each byte of a word */
#define F_HIGHS 0x8080808080808080ull /* the top bit of each byte */

/* nw_utf8_valid_text(s, n): ASCII without NUL, the common case, is settled here 8 bytes at
 * a time with no branch per word ((w - ONES) & ~w has a top bit set in some byte exactly when
 * a byte of w is zero); anything else is left to it. */
static inline bool f_text_ok(const unsigned char *s, uint32_t n)
{
    uint64_t high = 0, zero = 0, w;
    if (n >= 8) {
        uint32_t i = 0;
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, s + i, sizeof w);
            high |= w;
            zero |= (w - F_ONES) & ~w;
        }
        memcpy(&w, s + n - 8, sizeof w); /* the last bytes, overlapping */
        high |= w;
        zero |= (w - F_ONES) & ~w;
    } else {
        for (uint32_t i = 0; i < n; i++) {
            high |= s[i];
            zero |= s[i] == 0 ? 0x80 : 0;
        }
    }
    return ((high | zero) & F_HIGHS) == 0 || nw_utf8_valid_text((const char *)s, n);
}

/* A string of at most max valid UTF-8 bytes without NUL, copied to *next as s_get_str. */
static inline bool f_take_str(const unsigned char **pp, const unsigned char *end, uint32_t max,
                              char **next, char **out)
{
    const unsigned char *s;
    uint32_t n;
    if (!f_str(pp, end, &s, &n) || n > max || !f_text_ok(s, n))
        return false;
    char *copy = *next;
    memcpy(copy, s, n);
    copy[n] = '\0';
    *next = copy + n + 1;
    *out = copy;
    return true;
}

/* The "topics" array: 1 to NW_ALERT_TOPICS_MAX valid, distinct topic names. */
static bool f_topics(const unsigned char **pp, const unsigned char *end, char **next,
                     uint32_t *lens, nw_alert_t *alert)
{
    uint32_t count;
    if (!f_container(pp, end, false, &count) || count == 0 || count > NW_ALERT_TOPICS_MAX)
        return false;
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *s;
        uint32_t n;
        if (!f_str(pp, end, &s, &n) || !nw_topic_valid((const char *)s, n))
            return false;
        for (uint32_t j = 0; j < i; j++) {
            if (lens[j] == n && memcmp(alert->topics[j].name, s, n) == 0)
                return false;
        }
        char *copy = *next;
        memcpy(copy, s, n);
        copy[n] = '\0';
        *next = copy + n + 1;
        alert->topics[i].name = copy;
        lens[i] = n;
    }
    alert->n_topics = count;
    return true;
}

/* The "tseq" map, read after "topics": one unsigned number for each topic, no other key. */
static bool f_tseq(const unsigned char **pp, const unsigned char *end, const uint32_t *lens,
                   nw_alert_t *alert)
{
    uint32_t count, seen = 0;
    if (!f_container(pp, end, true, &count) || count != alert->n_topics)
        return false;
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *s;
        uint32_t n, j = 0;
        if (!f_str(pp, end, &s, &n))
            return false;
        while (j < count && !(lens[j] == n && memcmp(alert->topics[j].name, s, n) == 0))
            j++;
        if (j == count || (seen & (1u << j)) != 0 ||
            !f_uint(pp, end, UINT64_MAX, &alert->topics[j].seq))
            return false;
        seen |= 1u << j;
    }
    return true;
}

/* The fields a frame must hold (every other one has a default). */
#define F_REQUIRED                                                                                 \
    ((1u << S_I_V) | (1u << S_I_TYPE) | (1u << S_I_ID) | (1u << S_I_ARTICLE) | (1u << S_I_INDEX) | \
     (1u << S_I_KIND) | (1u << S_I_PRIORITY) | (1u << S_I_PUBLISHED) | (1u << S_I_STREAM) |        \
     (1u << S_I_SEQ) | (1u << S_I_TOPICS) | (1u << S_I_TSEQ) | (1u << S_I_TEXT))

/* Decodes the size bytes at data into alert (zeroed, with its strings block of
 * alert->strings_size bytes) in one pass; false when the thorough path must decide. */
static bool f_decode(const unsigned char *data, size_t size, nw_alert_t *alert)
{
    const unsigned char *p = data, *end = data + size;
    char *next = alert->strings_block;
    uint32_t pairs, lens[NW_ALERT_TOPICS_MAX];
    uint32_t seen = 0;
    if (!f_container(&p, end, true, &pairs))
        return false;
    for (uint32_t i = 0; i < pairs; i++) {
        const unsigned char *k, *s;
        uint32_t n;
        uint64_t u = 0;
        if (!f_str(&p, end, &k, &n))
            return false;
        int f = f_key(k, n);
        if (f < 0) {
            if (!f_skip(&p, end))
                return false;
            continue;
        }
        if ((seen & (1u << f)) != 0)
            return false;
        seen |= 1u << f;
        const s_field_t *fd = &s_fields[f];
        char *base = (char *)alert;
        bool ok;
        switch (fd->type) {
        case S_F_VERSION: ok = f_uint(&p, end, UINT64_MAX, &u) && u == NW_PROTO_VERSION; break;
        case S_F_TYPE:
            ok = f_str(&p, end, &s, &n) && n == sizeof S_TYPE_ALERT - 1 && F_IS(s, S_TYPE_ALERT);
            break;
        case S_F_ID:
        case S_F_STR:
        case S_F_STR_OPT:
            ok = f_take_str(&p, end, (uint32_t)fd->max, &next, (char **)(base + fd->offset)) &&
                 (fd->type != S_F_ID || **(char **)(base + fd->offset) != '\0');
            break;
        case S_F_U32:
            ok = f_uint(&p, end, fd->max, &u);
            *(uint32_t *)(base + fd->offset) = (uint32_t)u;
            break;
        case S_F_U64: ok = f_uint(&p, end, fd->max, (uint64_t *)(base + fd->offset)); break;
        case S_F_I64:
        case S_F_I64_OPT: ok = f_i64(&p, end, (int64_t *)(base + fd->offset)); break;
        case S_F_REVISION:
            ok = f_uint(&p, end, fd->max, &u) && u != 0;
            *(uint32_t *)(base + fd->offset) = (uint32_t)u;
            break;
        case S_F_PRIORITY:
            ok = f_uint(&p, end, fd->max, &u);
            *(nw_priority_t *)(base + fd->offset) = (nw_priority_t)u;
            break;
        case S_F_KIND:
            ok = f_str(&p, end, &s, &n);
            for (u = 0; ok && u <= NW_KIND_PARAGRAPH; u++) {
                if (s_key_is(nw_alert_kind_name((nw_alert_kind_t)u), s, n))
                    break;
            }
            ok = ok && u <= NW_KIND_PARAGRAPH;
            *(nw_alert_kind_t *)(base + fd->offset) = (nw_alert_kind_t)u;
            break;
        case S_F_TOPICS: ok = f_topics(&p, end, &next, lens, alert); break;
        case S_F_TSEQ: ok = (seen & (1u << S_I_TOPICS)) != 0 && f_tseq(&p, end, lens, alert); break;
        default: ok = false; break;
        }
        if (!ok)
            return false;
    }
    if (p != end || (seen & F_REQUIRED) != F_REQUIRED)
        return false;
    if ((seen & (1u << S_I_REVISION)) == 0)
        alert->revision = 1;
    for (size_t k = 0; k < S_N_FIELDS; k++) {
        if (s_fields[k].type == S_F_STR_OPT && (seen & (1u << k)) == 0) {
            *(char **)((char *)alert + s_fields[k].offset) = next;
            *next++ = '\0';
        }
    }
    return true;
}

/* Walks the frame (building the index), then reads every field in table order. */
static int s_decode(const void *data, size_t size, unsigned max_depth, nw_alert_t *alert)
{
    s_index_t ix = {.current = -1, .error = NW_OK};
    int rv;
    if ((rv = nw_wire_walk(data, size, max_depth, s_visit, &ix)) != NW_OK)
        return rv;
    s_val_t top;
    s_read(data, &top);
    if (top.type != S_MAP)
        return NW_ERR_WIRE_TYPE;
    if (ix.error != NW_OK)
        return ix.error;
    /* One block for every string: each present one takes its payload plus a NUL, no more
     * than its bytes in the frame (a header byte at least), and each absent one a NUL. The
     * caller may have allocated it already (for the single pass). */
    alert->strings_size = size + S_N_FIELDS;
    if (alert->strings_block == NULL &&
        (alert->strings_block = malloc(alert->strings_size)) == NULL)
        return NW_ERR_NOMEM;
    char *next = alert->strings_block;
    for (size_t k = 0; k < S_N_FIELDS; k++) {
        if ((rv = s_get_field(&s_fields[k], ix.found, k, &next, alert)) != NW_OK)
            return rv;
    }
    return NW_OK;
}

/* nw_alert_init's state without its strdup(""): every string is set on success, and
 * nw_alert_clear frees NULLs (and zeroes the struct) on failure. */
static void s_reset(nw_alert_t *alert)
{
    memset(alert, 0, sizeof *alert);
    alert->kind = NW_KIND_HEADLINE;
    alert->priority = NW_PRIORITY_NORMAL;
}

int nw_decode_alert(const void *data, size_t size, size_t max_size, unsigned max_depth,
                    nw_alert_t *alert)
{
    int rv;
    s_reset(alert);
    if (data == NULL && size > 0) {
        rv = NW_ERR_WIRE_TRUNCATED;
    } else if (size > max_size) {
        rv = NW_ERR_WIRE_OVERSIZE;
    } else if (max_depth < 2 || size == 0) {
        /* The fast path needs depth 2: the topics array and the tseq map. */
        rv = s_decode(data, size, max_depth, alert);
    } else {
        char *block = malloc(size + S_N_FIELDS);
        alert->strings_block = block;
        alert->strings_size = size + S_N_FIELDS;
        if (block == NULL) {
            rv = NW_ERR_NOMEM;
        } else if (f_decode(data, size, alert)) {
            return NW_OK;
        } else {
            s_reset(alert); /* the single pass's fields go; its block is used again */
            alert->strings_block = block;
            rv = s_decode(data, size, max_depth, alert);
        }
    }
    if (rv != NW_OK)
        nw_alert_clear(alert);
    return rv;
}
