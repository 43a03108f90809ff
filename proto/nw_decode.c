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

/* The alert's keys, in the order the encoder writes them (which makes finding a key one
 * comparison) and the fields are checked (which picks the error of a frame with several
 * faults). One line per field. */
static const s_field_t s_fields[] = {
    {S_KEY("v"), S_F_VERSION, 0, 0},
    {S_KEY("type"), S_F_TYPE, 0, 0},
    {S_KEY("id"), S_F_ID, offsetof(nw_alert_t, id), NW_ALERT_FIELD_MAX},
    {S_KEY("article"), S_F_STR, offsetof(nw_alert_t, article_id), NW_ALERT_FIELD_MAX},
    {S_KEY("index"), S_F_U32, offsetof(nw_alert_t, index), UINT32_MAX},
    {S_KEY("kind"), S_F_KIND, offsetof(nw_alert_t, kind), 0},
    {S_KEY("priority"), S_F_PRIORITY, offsetof(nw_alert_t, priority), NW_PRIORITY_URGENT},
    {S_KEY("published"), S_F_I64, offsetof(nw_alert_t, published_ms), 0},
    {S_KEY("stream"), S_F_STR, offsetof(nw_alert_t, stream), NW_ALERT_FIELD_MAX},
    {S_KEY("seq"), S_F_U64, offsetof(nw_alert_t, seq), UINT64_MAX},
    {S_KEY("topics"), S_F_TOPICS, 0, 0},
    {S_KEY("tseq"), S_F_TSEQ, 0, 0},
    {S_KEY("title"), S_F_STR_OPT, offsetof(nw_alert_t, title), NW_ALERT_FIELD_MAX},
    {S_KEY("section"), S_F_STR_OPT, offsetof(nw_alert_t, section), NW_ALERT_FIELD_MAX},
    {S_KEY("source"), S_F_STR_OPT, offsetof(nw_alert_t, source), NW_ALERT_FIELD_MAX},
    {S_KEY("author"), S_F_STR_OPT, offsetof(nw_alert_t, author), NW_ALERT_FIELD_MAX},
    {S_KEY("place"), S_F_STR_OPT, offsetof(nw_alert_t, place), NW_ALERT_FIELD_MAX},
    {S_KEY("text"), S_F_STR, offsetof(nw_alert_t, text), NW_ALERT_TEXT_MAX},
    {S_KEY("url"), S_F_STR_OPT, offsetof(nw_alert_t, url), NW_ALERT_FIELD_MAX},
    {S_KEY("article_time"), S_F_I64_OPT, offsetof(nw_alert_t, article_time_ms), 0},
    {S_KEY("revision"), S_F_REVISION, offsetof(nw_alert_t, revision), UINT32_MAX},
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

/* Walks the frame (building the index), then reads every field in table order. */
static int s_decode(const void *data, size_t size, size_t max_size, unsigned max_depth,
                    nw_alert_t *alert)
{
    s_index_t ix = {.current = -1, .error = NW_OK};
    int rv;
    if (data == NULL && size > 0)
        return NW_ERR_WIRE_TRUNCATED;
    if (size > max_size)
        return NW_ERR_WIRE_OVERSIZE;
    if ((rv = nw_wire_walk(data, size, max_depth, s_visit, &ix)) != NW_OK)
        return rv;
    s_val_t top;
    s_read(data, &top);
    if (top.type != S_MAP)
        return NW_ERR_WIRE_TYPE;
    if (ix.error != NW_OK)
        return ix.error;
    /* One block for every string: each present one takes its payload plus a NUL, no more
     * than its bytes in the frame (a header byte at least), and each absent one a NUL. */
    alert->strings_size = size + S_N_FIELDS;
    if ((alert->strings_block = malloc(alert->strings_size)) == NULL)
        return NW_ERR_NOMEM;
    char *next = alert->strings_block;
    for (size_t k = 0; k < S_N_FIELDS; k++) {
        if ((rv = s_get_field(&s_fields[k], ix.found, k, &next, alert)) != NW_OK)
            return rv;
    }
    return NW_OK;
}

int nw_decode_alert(const void *data, size_t size, size_t max_size, unsigned max_depth,
                    nw_alert_t *alert)
{
    /* nw_alert_init's state without its strdup(""): every string is set on success, and
     * nw_alert_clear frees NULLs (and zeroes the struct) on failure. */
    memset(alert, 0, sizeof *alert);
    alert->kind = NW_KIND_HEADLINE;
    alert->priority = NW_PRIORITY_NORMAL;
    int rv = s_decode(data, size, max_size, max_depth, alert);
    if (rv != NW_OK)
        nw_alert_clear(alert);
    return rv;
}
