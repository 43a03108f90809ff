/*
 * nw_journal: segment files of length-prefixed, CRC32C-checked records.
 * The byte layout is in docs/JOURNAL.md; keep the two in step.
 *
 * In memory the journal keeps, per segment, an array of record offsets (a
 * record's seq is the segment's first seq plus its index, so seqs need no
 * storage), and one open-addressing table of (id hash, seq) for
 * nw_journal_contains. Everything else (frames, ids, times) stays on disk and
 * is read back with pread when asked for.
 */
#include "nw_journal.h"

#include "nw_error.h"
#include "nw_file.h"
#include "nw_stream_id.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define S_SEG_MAGIC   "NWJS" /* first 4 bytes of a segment */
#define S_SEG_VERSION 1      /* format version in the segment header */
#define S_SEG_FIXED   48     /* header bytes before the topic table */
#define S_SEG_HDR_MIN (S_SEG_FIXED + 4)
#define S_SEG_TOPICS  65536 /* most topics a header may list */
#define S_REC_PREFIX  8     /* body length and CRC */
#define S_REC_FIXED   32    /* record bytes before the id */
#define S_NAME_MAX    255   /* bytes of a topic name in a record */
#define S_REC_MAX                                                                                  \
    (S_REC_FIXED + NW_ALERT_FIELD_MAX + NW_ALERT_TOPICS_MAX * (1 + S_NAME_MAX + 8) + NW_FRAME_MAX)
#define S_SEG_NAME_LEN 24    /* "%020llu.seg" */
#define S_READ_AHEAD   65536 /* bytes a reader may read at once: many records per pread */
#define S_STREAM_FILE  "stream-id"
#define S_LOCK_FILE    "lock"
#define S_CRC_POLY     0x82F63B78u /* CRC32C (Castagnoli), reflected */

typedef struct {
    char *name;   /* topic name */
    uint64_t seq; /* latest per-topic seq journaled (0 = none yet) */
} s_topic_t;

typedef struct {
    uint64_t first_seq; /* seq of its first record; also its file name */
    uint64_t n;         /* records in it */
    uint32_t *offsets;  /* byte offset of each record */
    uint64_t cap;       /* entries allocated in offsets */
    uint64_t size;      /* bytes of its header and good records */
    int64_t created_ms; /* creation time, from its header */
    int64_t last_time;  /* journal time of its last record (n > 0) */
} s_segment_t;

typedef struct {
    uint64_t hash; /* s_hash of the alert id */
    uint64_t seq;  /* record holding the id; 0 = empty slot */
} s_slot_t;

typedef struct {
    int fd;             /* open segment, -1 for none */
    uint64_t first_seq; /* which segment fd reads */
    uint8_t *buf;       /* a window of indexed records: the last one read and maybe more */
    size_t cap;         /* bytes allocated in buf */
    uint64_t win_off;   /* segment offset of buf[0] */
    size_t win_len;     /* indexed bytes held in buf from win_off; 0 = none */
} s_reader_t;

typedef struct {
    uint64_t seq;                              /* global seq */
    int64_t time_ms;                           /* journal time */
    const uint8_t *id;                         /* alert id, not NUL-terminated */
    size_t id_len;                             /* bytes of id */
    size_t n_topics;                           /* topics in the record */
    const uint8_t *names[NW_ALERT_TOPICS_MAX]; /* topic names, not NUL-terminated */
    size_t name_lens[NW_ALERT_TOPICS_MAX];     /* bytes of each name */
    uint64_t tseqs[NW_ALERT_TOPICS_MAX];       /* per-topic seqs */
    const uint8_t *frame;                      /* encoded alert */
    size_t frame_len;                          /* bytes of frame */
} s_view_t;

struct nw_journal_t {
    char *dir;                         /* journal directory */
    int lock_fd;                       /* holds the flock on DIR/lock */
    char stream[NW_STREAM_ID_LEN + 1]; /* stream id, "" until known */
    nw_journal_opts_t opts;            /* as given to open */
    s_segment_t *segs;                 /* segments, oldest first; the last is active */
    size_t n_segs;                     /* used entries of segs */
    size_t cap_segs;                   /* allocated entries of segs */
    int active_fd;                     /* read-write fd of the active segment */
    bool tail_dirty;                   /* a failed write may have left bytes past size */
    bool sync_failed;                  /* an fsync failed: appends and syncs are refused */
    char sync_errmsg[512];             /* what that fsync failure was */
    uint64_t next_seq;                 /* seq of the next append */
    int64_t last_time;                 /* journal time of the newest record */
    uint64_t total;                    /* bytes of all segments */
    uint64_t n_records;                /* records in all segments */
    s_topic_t *topics;                 /* sorted by name */
    size_t n_topics;                   /* used entries of topics */
    size_t cap_topics;                 /* allocated entries of topics */
    s_slot_t *slots;                   /* id table, a power of two of slots */
    size_t n_slots;                    /* slots allocated */
    size_t n_used;                     /* slots holding an id */
    uint32_t unsynced;                 /* records appended since the last sync */
    uint64_t synced_below;             /* every record with a lower seq is synced */
    int64_t unsynced_since;            /* journal time of the oldest unsynced record */
    uint8_t *wbuf;                     /* the record being written */
    size_t wcap;                       /* bytes allocated in wbuf */
    s_reader_t reader;                 /* for nw_journal_contains */
    uint32_t crc[8][256];              /* CRC32C slice-by-8 tables */
    char errmsg[512];                  /* last error, "" for none */
};

struct nw_journal_iter_t {
    nw_journal_t *j; /* the journal read */
    uint64_t next;   /* seq to yield next */
    uint64_t end;    /* last seq to yield */
    s_reader_t rd;   /* segment fd and record buffer */
    char *strs;      /* NUL-terminated id and topic names of the last record */
    size_t strs_cap; /* bytes allocated in strs */
};

/* ---- little-endian fields, CRC32C, hashing ---- */

static void s_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void s_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void s_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t s_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t s_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t s_get64(const uint8_t *p)
{
    return (uint64_t)s_get32(p) | ((uint64_t)s_get32(p + 4) << 32);
}

static void s_crc_init(uint32_t t[8][256])
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ S_CRC_POLY : c >> 1;
        t[0][i] = c;
    }
    for (int k = 1; k < 8; k++)
        for (int i = 0; i < 256; i++)
            t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
}

/* CRC32C of p[0..n) continuing from crc (0 to start); slice-by-8 because a record is
 * checksummed on every append and every read. */
static uint32_t s_crc(const uint32_t t[8][256], uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n >= 8) {
        uint32_t a = crc ^ s_get32(p);
        uint32_t b = s_get32(p + 4);
        crc = t[7][a & 0xff] ^ t[6][(a >> 8) & 0xff] ^ t[5][(a >> 16) & 0xff] ^ t[4][a >> 24] ^
              t[3][b & 0xff] ^ t[2][(b >> 8) & 0xff] ^ t[1][(b >> 16) & 0xff] ^ t[0][b >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0)
        crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* The CRC of a record: its length field, then everything after the CRC field. */
static uint32_t s_record_crc(const nw_journal_t *j, const uint8_t *rec, size_t body_len)
{
    return s_crc(j->crc, s_crc(j->crc, 0, rec, 4), rec + S_REC_PREFIX, body_len);
}

static uint64_t s_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a, then a murmur3 finaliser to spread bits */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3u;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return h;
}

/* ---- small helpers ---- */

static void s_seterr(nw_journal_t *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_seterr(nw_journal_t *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->errmsg, sizeof j->errmsg, fmt, ap);
    va_end(ap);
}

static void s_seg_name(char *out, size_t size, uint64_t first_seq)
{
    snprintf(out, size, "%020llu.seg", (unsigned long long)first_seq);
}

static char *s_path(const nw_journal_t *j, const char *name)
{
    size_t n = strlen(j->dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", j->dir, name);
    return p;
}

static char *s_seg_path(const nw_journal_t *j, uint64_t first_seq, const char *suffix)
{
    char name[64];
    s_seg_name(name, sizeof name, first_seq);
    strcat(name, suffix);
    return s_path(j, name);
}

static int s_grow(void **p, size_t *cap, size_t want, size_t elem)
{
    if (want <= *cap)
        return NW_OK;
    size_t n = *cap ? *cap : 16;
    while (n < want)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (q == NULL)
        return NW_ERR_NOMEM;
    *p = q;
    *cap = n;
    return NW_OK;
}

static int s_write_all(int fd, const void *buf, size_t len, off_t off)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return EIO;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

/* Reads exactly len bytes; returns 0, an errno, or -1 when the file ends first. */
static int s_read_all(int fd, void *buf, size_t len, off_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return -1;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

/* fsyncs the directory at path. Returns 0 or an errno value. */
static int s_sync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

static int s_sync_dir(const nw_journal_t *j)
{
    return s_sync_path(j->dir);
}

/* Makes a just-created journal directory durable: its entry lives in the parent. */
static int s_sync_parent(const char *dir)
{
    char *copy = strdup(dir);
    if (copy == NULL)
        return ENOMEM;
    int rc = s_sync_path(dirname(copy));
    free(copy);
    return rc;
}

/* ---- topics ---- */

/* Binary search: returns true and *at = its index when found, else *at = insertion point. */
static bool s_topic_find(const nw_journal_t *j, const char *name, size_t len, size_t *at)
{
    size_t lo = 0, hi = j->n_topics;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *t = j->topics[mid].name;
        int c = strncmp(t, name, len);
        if (c == 0 && t[len] != '\0')
            c = 1;
        if (c == 0) {
            *at = mid;
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return false;
}

/* Makes sure topic name exists and its latest seq is at least seq. */
static int s_topic_raise(nw_journal_t *j, const char *name, size_t len, uint64_t seq)
{
    size_t at;
    if (s_topic_find(j, name, len, &at)) {
        if (j->topics[at].seq < seq)
            j->topics[at].seq = seq;
        return NW_OK;
    }
    if (s_grow((void **)&j->topics, &j->cap_topics, j->n_topics + 1, sizeof *j->topics) != 0)
        return NW_ERR_NOMEM;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return NW_ERR_NOMEM;
    memcpy(copy, name, len);
    copy[len] = '\0';
    memmove(j->topics + at + 1, j->topics + at, (j->n_topics - at) * sizeof *j->topics);
    j->topics[at].name = copy;
    j->topics[at].seq = seq;
    j->n_topics++;
    return NW_OK;
}

/* ---- the id table ---- */

static void s_ids_put(s_slot_t *slots, size_t n_slots, uint64_t hash, uint64_t seq)
{
    size_t i = (size_t)hash & (n_slots - 1);
    while (slots[i].seq != 0)
        i = (i + 1) & (n_slots - 1);
    slots[i].hash = hash;
    slots[i].seq = seq;
}

/* Rebuilds the table with at least want slots, dropping ids of records before min_seq. */
static int s_ids_rebuild(nw_journal_t *j, size_t want, uint64_t min_seq)
{
    s_slot_t *slots = calloc(want, sizeof *slots);
    if (slots == NULL)
        return NW_ERR_NOMEM;
    size_t used = 0;
    for (size_t i = 0; i < j->n_slots; i++) {
        if (j->slots[i].seq >= min_seq && j->slots[i].seq != 0) {
            s_ids_put(slots, want, j->slots[i].hash, j->slots[i].seq);
            used++;
        }
    }
    free(j->slots);
    j->slots = slots;
    j->n_slots = want;
    j->n_used = used;
    return NW_OK;
}

/* Makes room for one more id, keeping the load at most 3/4. */
static int s_ids_reserve(nw_journal_t *j)
{
    if ((j->n_used + 1) * 4 <= j->n_slots * 3)
        return NW_OK;
    return s_ids_rebuild(j, j->n_slots ? j->n_slots * 2 : 1024, 1);
}

/* ---- records ---- */

static size_t s_record_size(const nw_alert_t *alert, size_t frame_len)
{
    size_t n = S_REC_FIXED + strlen(alert->id) + frame_len;
    for (size_t i = 0; i < alert->n_topics; i++)
        n += 1 + strlen(alert->topics[i].name) + 8;
    return n;
}

static void s_record_build(const nw_journal_t *j, uint8_t *p, size_t len, const nw_alert_t *alert,
                           const void *frame, size_t frame_len, int64_t time_ms)
{
    size_t id_len = strlen(alert->id);
    s_put32(p, (uint32_t)(len - S_REC_PREFIX));
    s_put64(p + 8, alert->seq);
    s_put64(p + 16, (uint64_t)time_ms);
    s_put32(p + 24, (uint32_t)frame_len);
    s_put16(p + 28, (uint16_t)id_len);
    p[30] = (uint8_t)alert->n_topics;
    p[31] = 0;
    uint8_t *q = p + S_REC_FIXED;
    memcpy(q, alert->id, id_len);
    q += id_len;
    for (size_t i = 0; i < alert->n_topics; i++) {
        size_t n = strlen(alert->topics[i].name);
        *q++ = (uint8_t)n;
        memcpy(q, alert->topics[i].name, n);
        q += n;
        s_put64(q, alert->topics[i].seq);
        q += 8;
    }
    memcpy(q, frame, frame_len);
    s_put32(p + 4, s_record_crc(j, p, len - S_REC_PREFIX));
}

/* Checks and parses the record at p (avail bytes readable). Sets *len to its size.
 * Returns NW_OK or NW_ERR_JOURNAL_CORRUPT with *why set. */
static int s_record_parse(const nw_journal_t *j, const uint8_t *p, size_t avail, size_t *len,
                          s_view_t *v, const char **why)
{
    if (avail < S_REC_PREFIX) {
        *why = "short record header";
        return NW_ERR_JOURNAL_CORRUPT;
    }
    size_t body = s_get32(p);
    if (body < S_REC_FIXED - S_REC_PREFIX || body > S_REC_MAX - S_REC_PREFIX) {
        *why = "bad record length";
        return NW_ERR_JOURNAL_CORRUPT;
    }
    if (avail - S_REC_PREFIX < body) {
        *why = "short record";
        return NW_ERR_JOURNAL_CORRUPT;
    }
    if (s_record_crc(j, p, body) != s_get32(p + 4)) {
        *why = "bad CRC";
        return NW_ERR_JOURNAL_CORRUPT;
    }
    *why = "bad record framing";
    size_t end = S_REC_PREFIX + body;
    v->seq = s_get64(p + 8);
    v->time_ms = (int64_t)s_get64(p + 16);
    v->frame_len = s_get32(p + 24);
    v->id_len = s_get16(p + 28);
    v->n_topics = p[30];
    if (v->n_topics > NW_ALERT_TOPICS_MAX || v->id_len == 0 || p[31] != 0)
        return NW_ERR_JOURNAL_CORRUPT;
    size_t at = S_REC_FIXED;
    if (v->id_len > end - at)
        return NW_ERR_JOURNAL_CORRUPT;
    v->id = p + at;
    at += v->id_len;
    for (size_t i = 0; i < v->n_topics; i++) {
        if (end - at < 1 || p[at] == 0 || (size_t)p[at] + 8 > end - at - 1)
            return NW_ERR_JOURNAL_CORRUPT;
        v->name_lens[i] = p[at];
        v->names[i] = p + at + 1;
        at += 1 + v->name_lens[i];
        v->tseqs[i] = s_get64(p + at);
        at += 8;
    }
    if (v->frame_len != end - at || v->frame_len == 0)
        return NW_ERR_JOURNAL_CORRUPT;
    v->frame = p + at;
    *len = end;
    *why = NULL;
    return NW_OK;
}

/* ---- segments ---- */

/* Index of the segment that would hold seq (the last with first_seq <= seq), or -1. */
static long s_seg_find(const nw_journal_t *j, uint64_t seq)
{
    size_t lo = 0, hi = j->n_segs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (j->segs[mid].first_seq <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

static int s_seg_push(nw_journal_t *j, uint64_t first_seq, uint64_t size, int64_t created_ms)
{
    if (s_grow((void **)&j->segs, &j->cap_segs, j->n_segs + 1, sizeof *j->segs) != 0)
        return NW_ERR_NOMEM;
    s_segment_t *s = &j->segs[j->n_segs++];
    memset(s, 0, sizeof *s);
    s->first_seq = first_seq;
    s->size = size;
    s->created_ms = created_ms;
    j->total += size;
    return NW_OK;
}

static int s_seg_reserve(s_segment_t *s)
{
    if (s->n < s->cap)
        return NW_OK;
    uint64_t n = s->cap ? s->cap * 2 : 256;
    uint32_t *q = realloc(s->offsets, n * sizeof *q);
    if (q == NULL)
        return NW_ERR_NOMEM;
    s->offsets = q;
    s->cap = n;
    return NW_OK;
}

static void s_seg_add(nw_journal_t *j, s_segment_t *s, size_t len, int64_t time_ms)
{
    s->offsets[s->n++] = (uint32_t)s->size;
    s->last_time = time_ms;
    s->size += len;
    j->total += len;
    j->n_records++;
    if (time_ms > j->last_time)
        j->last_time = time_ms;
}

/* Builds a segment header for a segment starting at first_seq; the topic table is a
 * snapshot of the latest per-topic seqs, so they survive retention of older segments. */
static uint8_t *s_header_build(const nw_journal_t *j, uint64_t first_seq, int64_t now_ms,
                               size_t *len)
{
    size_t n = S_SEG_HDR_MIN;
    for (size_t i = 0; i < j->n_topics; i++)
        n += 1 + strlen(j->topics[i].name) + 8;
    uint8_t *p = calloc(1, n);
    if (p == NULL)
        return NULL;
    memcpy(p, S_SEG_MAGIC, 4);
    s_put16(p + 4, S_SEG_VERSION);
    s_put32(p + 8, (uint32_t)n);
    memcpy(p + 12, j->stream, NW_STREAM_ID_LEN);
    s_put64(p + 28, first_seq);
    s_put64(p + 36, (uint64_t)now_ms);
    s_put32(p + 44, (uint32_t)j->n_topics);
    uint8_t *q = p + S_SEG_FIXED;
    for (size_t i = 0; i < j->n_topics; i++) {
        size_t tl = strlen(j->topics[i].name);
        *q++ = (uint8_t)tl;
        memcpy(q, j->topics[i].name, tl);
        q += tl;
        s_put64(q, j->topics[i].seq);
        q += 8;
    }
    s_put32(p + n - 4, s_crc(j->crc, 0, p, n - 4));
    *len = n;
    return p;
}

/* Creates the segment file for first_seq: header into "NAME.seg.tmp", fsync, rename, fsync
 * the directory, so a segment name never holds a torn header. Sets *fd (read-write) and
 * *hdr_len. Returns NW_OK, NW_ERR_NOMEM, or NW_ERR_JOURNAL_FULL with errmsg and *errnum
 * set. */
static int s_seg_create(nw_journal_t *j, uint64_t first_seq, int64_t now_ms, int *fd,
                        size_t *hdr_len, int *errnum)
{
    int rc = NW_ERR_NOMEM, err = 0, f = -1;
    const char *what = "create";
    char *tmp = s_seg_path(j, first_seq, ".tmp");
    char *path = s_seg_path(j, first_seq, "");
    uint8_t *hdr = s_header_build(j, first_seq, now_ms, hdr_len);
    if (tmp == NULL || path == NULL || hdr == NULL)
        goto fail;
    rc = NW_ERR_JOURNAL_FULL;
    f = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f < 0) {
        err = errno;
        goto fail;
    }
    what = "write";
    if ((err = s_write_all(f, hdr, *hdr_len, 0)) != 0)
        goto fail;
    what = "sync";
    if (fsync(f) != 0) {
        err = errno;
        goto fail;
    }
    what = "rename";
    if (rename(tmp, path) != 0) {
        err = errno;
        goto fail;
    }
    what = "sync directory of";
    if ((err = s_sync_dir(j)) != 0) {
        /* The segment exists under its name, but the name may not survive a power loss, and
         * with it every record that a later fdatasync of the file seems to make durable:
         * a failed fsync, so the journal refuses appends and syncs from now on (the caller
         * sees it through s_seg_create's NW_OK plus j->sync_failed). */
        s_seterr(j, "journal: cannot %s %s: %s", what, path, strerror(err));
        j->sync_failed = true;
        snprintf(j->sync_errmsg, sizeof j->sync_errmsg, "%s", j->errmsg);
    }
    *fd = f;
    free(tmp);
    free(path);
    free(hdr);
    return NW_OK;
fail:
    if (rc == NW_ERR_JOURNAL_FULL)
        s_seterr(j, "journal: cannot %s segment %s: %s", what, tmp, strerror(err));
    *errnum = err;
    if (f >= 0) {
        close(f);
        unlink(tmp);
    }
    free(tmp);
    free(path);
    free(hdr);
    return rc;
}

/* ---- reading records back ---- */

static void s_reader_close(s_reader_t *rd)
{
    if (rd->fd >= 0)
        close(rd->fd);
    rd->fd = -1;
    free(rd->buf);
    rd->buf = NULL;
    rd->cap = 0;
    rd->win_len = 0;
}

static int s_reader_open(nw_journal_t *j, s_reader_t *rd, const s_segment_t *s)
{
    if (rd->fd >= 0 && rd->first_seq == s->first_seq)
        return NW_OK;
    if (rd->fd >= 0)
        close(rd->fd);
    rd->fd = -1;
    rd->win_len = 0;
    char *path = s_seg_path(j, s->first_seq, "");
    if (path == NULL)
        return NW_ERR_NOMEM;
    rd->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (rd->fd < 0) {
        s_seterr(j, "journal: cannot open %s: %s", path, strerror(errno));
        free(path);
        return NW_ERR_IO;
    }
    free(path);
    rd->first_seq = s->first_seq;
    return NW_OK;
}

/* Reads records i..last of segment s (indexed records, which do not change) into rd->buf
 * with one read, up to S_READ_AHEAD bytes but always all of record i, so that later reads of
 * them are served from buf. A window that runs into damage falls back to record i alone.
 * Returns NW_OK, NW_ERR_NOMEM, NW_ERR_JOURNAL_CORRUPT or NW_ERR_IO (the journal's error set). */
static int s_reader_fill(nw_journal_t *j, s_reader_t *rd, const s_segment_t *s, uint64_t i,
                         uint64_t last)
{
    uint64_t off = s->offsets[i];
    uint64_t end = i + 1 < s->n ? s->offsets[i + 1] : s->size;
    uint64_t limit = last + 1 < s->n ? s->offsets[last + 1] : s->size;
    size_t len = (size_t)(end - off);
    size_t want = limit - off < S_READ_AHEAD ? (size_t)(limit - off) : S_READ_AHEAD;
    if (want < len)
        want = len;
    rd->win_len = 0;
    if (s_grow((void **)&rd->buf, &rd->cap, want, 1) != 0)
        return NW_ERR_NOMEM;
    int err = s_read_all(rd->fd, rd->buf, want, (off_t)off);
    if (err != 0 && want > len)
        err = s_read_all(rd->fd, rd->buf, want = len, (off_t)off);
    if (err != 0) {
        s_seterr(j, "journal: cannot read seq %llu: %s", (unsigned long long)(s->first_seq + i),
                 err < 0 ? "file is shorter than its index" : strerror(err));
        return err < 0 ? NW_ERR_JOURNAL_CORRUPT : NW_ERR_IO;
    }
    rd->win_off = off;
    rd->win_len = want;
    return NW_OK;
}

/* Reads record i of segment k (from rd's window when it holds it; else a new window up to
 * record last, the furthest the caller will read, i <= last < the segment's count) and
 * parses it into *v, which points into rd->buf until the next read. */
static int s_reader_read(nw_journal_t *j, s_reader_t *rd, size_t k, uint64_t i, uint64_t last,
                         s_view_t *v)
{
    const s_segment_t *s = &j->segs[k];
    uint64_t off = s->offsets[i];
    uint64_t end = i + 1 < s->n ? s->offsets[i + 1] : s->size;
    size_t len = (size_t)(end - off), got;
    const char *why;
    int rc;
    if ((rc = s_reader_open(j, rd, s)) != NW_OK)
        return rc;
    if ((rd->win_len == 0 || off < rd->win_off || end > rd->win_off + rd->win_len) &&
        (rc = s_reader_fill(j, rd, s, i, last)) != NW_OK)
        return rc;
    rc = s_record_parse(j, rd->buf + (off - rd->win_off), len, &got, v, &why);
    if (rc == NW_OK && (got != len || v->seq != s->first_seq + i)) {
        why = "record does not match the index";
        rc = NW_ERR_JOURNAL_CORRUPT;
    }
    if (rc != NW_OK)
        s_seterr(j, "journal: seq %llu: %s", (unsigned long long)(s->first_seq + i), why);
    return rc;
}

/* ---- open and recovery ---- */

/* Loads DIR/stream-id into j->stream. Returns NW_OK, NW_ERR_NOTFOUND (no file),
 * NW_ERR_JOURNAL_CORRUPT, or an errno-based code. */
static int s_stream_load(nw_journal_t *j, nw_journal_recovery_t *rep)
{
    char buf[64];
    char *path = s_path(j, S_STREAM_FILE);
    if (path == NULL)
        return NW_ERR_NOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err != ENOENT)
            snprintf(rep->message, sizeof rep->message, "journal: cannot open %s: %s", path,
                     strerror(err));
        free(path);
        return nw_error_from_errno(err);
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n < 0 || !nw_stream_id_valid(buf, (size_t)n)) {
        snprintf(rep->message, sizeof rep->message,
                 "journal: %s does not hold a stream id (16 lowercase hex chars)", path);
        free(path);
        return NW_ERR_JOURNAL_CORRUPT;
    }
    memcpy(j->stream, buf, NW_STREAM_ID_LEN);
    j->stream[NW_STREAM_ID_LEN] = '\0';
    free(path);
    return NW_OK;
}

/* Writes j->stream to DIR/stream-id atomically (nw_file_replace: tmp, fsync, rename, fsync
 * dir). */
static int s_stream_save(nw_journal_t *j, nw_journal_recovery_t *rep)
{
    char line[NW_STREAM_ID_LEN + 2], why[sizeof rep->message - sizeof "journal: "];
    char *path = s_path(j, S_STREAM_FILE);
    if (path == NULL)
        return NW_ERR_NOMEM;
    snprintf(line, sizeof line, "%s\n", j->stream);
    int rc = nw_file_replace(path, line, NW_STREAM_ID_LEN + 1, why, sizeof why);
    if (rc != NW_OK)
        snprintf(rep->message, sizeof rep->message, "journal: %s", why);
    free(path);
    return rc;
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool s_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Lists the segments of the directory (sorted) and removes temporary files left by a
 * crash. Sets *seqs (free it) and *n. */
static int s_list(nw_journal_t *j, uint64_t **seqs, size_t *n, nw_journal_recovery_t *rep)
{
    size_t cap = 0;
    *seqs = NULL;
    *n = 0;
    DIR *d = opendir(j->dir);
    if (d == NULL) {
        int err = errno;
        snprintf(rep->message, sizeof rep->message, "journal: cannot list %s: %s", j->dir,
                 strerror(err));
        return nw_error_from_errno(err);
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        size_t len = strlen(name);
        bool seg = len == S_SEG_NAME_LEN && s_digits(name, 20) && strcmp(name + 20, ".seg") == 0;
        bool tmp = (len == S_SEG_NAME_LEN + 4 && s_digits(name, 20) &&
                    strcmp(name + 20, ".seg.tmp") == 0) ||
                   strcmp(name, S_STREAM_FILE ".tmp") == 0;
        if (tmp) {
            char *path = s_path(j, name);
            if (path != NULL)
                unlink(path);
            free(path);
        }
        if (!seg)
            continue;
        if (s_grow((void **)seqs, &cap, *n + 1, sizeof **seqs) != 0) {
            closedir(d);
            return NW_ERR_NOMEM;
        }
        (*seqs)[(*n)++] = strtoull(name, NULL, 10);
    }
    closedir(d);
    if (*n > 0)
        qsort(*seqs, *n, sizeof **seqs, s_cmp_u64);
    return NW_OK;
}

/* Checks the segment header in map (size bytes) and merges its topic snapshot.
 * Sets *hdr_len and *created. Returns NW_OK or NW_ERR_JOURNAL_CORRUPT / NW_ERR_NOMEM. */
static int s_header_load(nw_journal_t *j, const uint8_t *map, size_t size, uint64_t first_seq,
                         size_t *hdr_len, int64_t *created, const char **why)
{
    *why = "bad segment header";
    if (size < S_SEG_HDR_MIN || memcmp(map, S_SEG_MAGIC, 4) != 0)
        return NW_ERR_JOURNAL_CORRUPT;
    size_t n = s_get32(map + 8);
    if (n < S_SEG_HDR_MIN || n > size || s_crc(j->crc, 0, map, n - 4) != s_get32(map + n - 4))
        return NW_ERR_JOURNAL_CORRUPT;
    *why = "unsupported segment version";
    if (s_get16(map + 4) != S_SEG_VERSION)
        return NW_ERR_JOURNAL_CORRUPT;
    *why = "segment of another stream";
    if (!nw_stream_id_valid((const char *)map + 12, NW_STREAM_ID_LEN))
        return NW_ERR_JOURNAL_CORRUPT;
    if (j->stream[0] == '\0') {
        memcpy(j->stream, map + 12, NW_STREAM_ID_LEN);
        j->stream[NW_STREAM_ID_LEN] = '\0';
    }
    if (memcmp(j->stream, map + 12, NW_STREAM_ID_LEN) != 0)
        return NW_ERR_JOURNAL_CORRUPT;
    *why = "segment header does not match its file name";
    if (s_get64(map + 28) != first_seq)
        return NW_ERR_JOURNAL_CORRUPT;
    *created = (int64_t)s_get64(map + 36);
    size_t n_topics = s_get32(map + 44), at = S_SEG_FIXED;
    *why = "bad segment topic table";
    if (n_topics > S_SEG_TOPICS)
        return NW_ERR_JOURNAL_CORRUPT;
    for (size_t i = 0; i < n_topics; i++) {
        if (at >= n - 4 || map[at] == 0 || at + 1 + map[at] + 8 > n - 4)
            return NW_ERR_JOURNAL_CORRUPT;
        size_t tl = map[at];
        if (s_topic_raise(j, (const char *)map + at + 1, tl, s_get64(map + at + 1 + tl)) != 0)
            return NW_ERR_NOMEM;
        at += 1 + tl + 8;
    }
    *hdr_len = n;
    *why = NULL;
    return NW_OK;
}

/* Indexes the records of one mapped segment, stopping at the first damaged one.
 * Returns the offset where good data ends, or 0 on NW_ERR_NOMEM (*rc set). */
static size_t s_seg_index(nw_journal_t *j, s_segment_t *s, const uint8_t *map, size_t size,
                          size_t at, const char **why, int *rc)
{
    s_view_t v;
    size_t len;
    *why = NULL;
    *rc = NW_OK;
    while (at < size) {
        if (s_record_parse(j, map + at, size - at, &len, &v, why) != NW_OK)
            break;
        if (v.seq != s->first_seq + s->n) {
            *why = "out-of-sequence record";
            break;
        }
        if ((*rc = s_seg_reserve(s)) != NW_OK || (*rc = s_ids_reserve(j)) != NW_OK)
            return 0;
        for (size_t i = 0; i < v.n_topics; i++)
            if ((*rc = s_topic_raise(j, (const char *)v.names[i], v.name_lens[i], v.tseqs[i])) !=
                NW_OK)
                return 0;
        s_ids_put(j->slots, j->n_slots, s_hash((const char *)v.id, v.id_len), v.seq);
        j->n_used++;
        int64_t t = v.time_ms > j->last_time ? v.time_ms : j->last_time;
        s_seg_add(j, s, len, t);
        at += len;
    }
    return at;
}

/* Scans segment first_seq: checks its header, indexes its good records, truncates any
 * damage (reporting it). The last segment's fd is kept in *active_fd. */
static int s_seg_recover(nw_journal_t *j, uint64_t first_seq, bool last, int *active_fd,
                         nw_journal_recovery_t *rep)
{
    int rc = NW_ERR_NOMEM, fd = -1;
    void *map = MAP_FAILED;
    struct stat st;
    const char *why = NULL;
    size_t hdr_len = 0, size = 0, good;
    int64_t created = 0;
    char name[32];
    s_seg_name(name, sizeof name, first_seq);
    char *path = s_path(j, name);
    if (path == NULL)
        goto fail;
    if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
        rc = nw_error_from_errno(errno);
        snprintf(rep->message, sizeof rep->message, "journal: cannot open %s: %s", path,
                 strerror(errno));
        goto fail;
    }
    size = (size_t)st.st_size;
    /* The last segment is the only one that can hold records a failed fsync left unwritten
     * (a segment is synced before rotation, and after a failed fsync the journal refuses
     * every append), and Linux may still serve them from pages it marked clean when their
     * writeback failed. Drop the clean cached pages so what follows reads the disk (best
     * effort: only advice, dirty pages stay, and a no-op on tmpfs). */
    if (last)
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (size > 0 && (map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        rc = nw_error_from_errno(errno);
        snprintf(rep->message, sizeof rep->message, "journal: cannot map %s: %s", path,
                 strerror(errno));
        goto fail;
    }
    rc = s_header_load(j, map == MAP_FAILED ? (const uint8_t *)"" : map, size, first_seq, &hdr_len,
                       &created, &why);
    if (rc == NW_OK && j->n_segs > 0) {
        const s_segment_t *prev = &j->segs[j->n_segs - 1];
        if (first_seq < prev->first_seq + prev->n) {
            why = "segment overlaps the one before it";
            rc = NW_ERR_JOURNAL_CORRUPT;
        }
    }
    if (rc == NW_ERR_JOURNAL_CORRUPT)
        snprintf(rep->message, sizeof rep->message, "journal: %s: %s", path, why);
    if (rc != NW_OK || (rc = s_seg_push(j, first_seq, hdr_len, created)) != NW_OK)
        goto fail;
    good = s_seg_index(j, &j->segs[j->n_segs - 1], map, size, hdr_len, &why, &rc);
    if (rc != NW_OK)
        goto fail;
    munmap(map, size);
    map = MAP_FAILED;
    rep->segments++;
    if (good < size) {
        if (rep->damaged_segments++ == 0) {
            const s_segment_t *s = &j->segs[j->n_segs - 1];
            rep->damage_seq = s->first_seq + s->n;
            rep->damage_offset = good;
            snprintf(rep->damage_segment, sizeof rep->damage_segment, "%s", name);
            snprintf(rep->message, sizeof rep->message,
                     "journal: %s: %s at offset %zu: truncated %zu bytes; records from seq %llu "
                     "on in this segment are lost",
                     path, why, good, size - good, (unsigned long long)rep->damage_seq);
        }
        rep->truncated_bytes += size - good;
        if (ftruncate(fd, (off_t)good) != 0 || fsync(fd) != 0) {
            rc = nw_error_from_errno(errno);
            snprintf(rep->message, sizeof rep->message, "journal: cannot truncate %s: %s", path,
                     strerror(errno));
            goto fail;
        }
    }
    /* A run that crashed may have left its last records in the page cache only: make them
     * durable before anything trusts them (a restart that finds an article's alerts here
     * moves it to done/ without appending, so no later sync would cover them). */
    if (last && good == size && j->opts.fsync != NW_JOURNAL_FSYNC_NEVER && fdatasync(fd) != 0) {
        rc = nw_error_from_errno(errno);
        snprintf(rep->message, sizeof rep->message, "journal: cannot sync %s: %s", path,
                 strerror(errno));
        goto fail;
    }
    if (last)
        *active_fd = fd;
    else
        close(fd);
    free(path);
    return NW_OK;
fail:
    if (map != MAP_FAILED)
        munmap(map, size);
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

static int s_lock(nw_journal_t *j, nw_journal_recovery_t *rep)
{
    char *path = s_path(j, S_LOCK_FILE);
    if (path == NULL)
        return NW_ERR_NOMEM;
    j->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    int err = j->lock_fd < 0 ? errno : 0;
    if (err == 0 && flock(j->lock_fd, LOCK_EX | LOCK_NB) != 0)
        err = errno;
    if (err != 0)
        snprintf(rep->message, sizeof rep->message, "journal: cannot lock %s: %s", path,
                 err == EWOULDBLOCK ? "the journal is in use by another process" : strerror(err));
    free(path);
    if (err == EWOULDBLOCK)
        return NW_ERR_IO;
    return err ? nw_error_from_errno(err) : NW_OK;
}

static int s_opts_check(const nw_journal_opts_t *o)
{
    if (o->segment_max < NW_JOURNAL_SEGMENT_MIN || o->segment_max > NW_JOURNAL_SEGMENT_MAX ||
        o->retain_ms < 0 || o->fsync < NW_JOURNAL_FSYNC_NEVER || o->fsync > NW_JOURNAL_FSYNC_ALWAYS)
        return NW_ERR_INVAL;
    return NW_OK;
}

static int s_recover(nw_journal_t *j, nw_journal_recovery_t *rep)
{
    uint64_t *seqs = NULL;
    size_t n = 0, hdr_len;
    int rc;
    if ((rc = s_list(j, &seqs, &n, rep)) != NW_OK)
        goto done;
    rc = s_stream_load(j, rep);
    if (rc == NW_ERR_NOMEM || (n > 0 && rc != NW_OK && rc != NW_ERR_NOTFOUND))
        goto done;
    bool have_file = rc == NW_OK && n > 0;
    if (n == 0 && rc == NW_OK)
        snprintf(rep->message, sizeof rep->message,
                 "journal: %s has no segments: stream %s ends, a new stream starts", j->dir,
                 j->stream);
    else if (n == 0)
        rep->message[0] = '\0'; /* an unreadable stream-id file is replaced anyway */
    for (size_t i = 0; i < n; i++)
        if ((rc = s_seg_recover(j, seqs[i], i + 1 == n, &j->active_fd, rep)) != NW_OK)
            goto done;
    if (n == 0) {
        /* No segment: a new stream, even if a stream-id file survived, since its numbers
         * are lost and reusing them would make subscribers drop new alerts. */
        rep->created = true;
        j->stream[0] = '\0';
        if ((rc = nw_stream_id_new(j->stream)) != NW_OK) {
            snprintf(rep->message, sizeof rep->message, "journal: no randomness for a stream id");
            goto done;
        }
        j->next_seq = 1;
    } else {
        const s_segment_t *s = &j->segs[n - 1];
        j->next_seq = s->first_seq + s->n;
    }
    if (!have_file && (rc = s_stream_save(j, rep)) != NW_OK)
        goto done;
    if (n == 0) {
        int64_t now = 0;
        struct timespec ts;
        if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
            now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        int err = 0;
        if ((rc = s_seg_create(j, 1, now, &j->active_fd, &hdr_len, &err)) != NW_OK) {
            snprintf(rep->message, sizeof rep->message, "%s", j->errmsg);
            rc = rc == NW_ERR_JOURNAL_FULL ? nw_error_from_errno(err) : rc;
            goto done;
        }
        if (j->sync_failed) { /* the directory could not be synced */
            snprintf(rep->message, sizeof rep->message, "%s", j->sync_errmsg);
            rc = NW_ERR_IO;
            goto done;
        }
        rc = s_seg_push(j, 1, hdr_len, now);
    }
    rep->records = j->n_records;
done:
    free(seqs);
    return rc;
}

void nw_journal_opts_default(nw_journal_opts_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->segment_max = NW_JOURNAL_SEGMENT_DEFAULT;
    opts->fsync = NW_JOURNAL_FSYNC_INTERVAL;
    opts->sync_every = 1000;
    opts->sync_interval_ms = 1000;
}

int nw_journal_open(const char *dir, const nw_journal_opts_t *opts, nw_journal_t **out,
                    nw_journal_recovery_t *recovery)
{
    nw_journal_recovery_t scratch;
    nw_journal_recovery_t *rep = recovery ? recovery : &scratch;
    memset(rep, 0, sizeof *rep);
    if (out != NULL)
        *out = NULL;
    if (dir == NULL || out == NULL || (opts != NULL && s_opts_check(opts) != NW_OK)) {
        snprintf(rep->message, sizeof rep->message, "journal: invalid argument or option");
        return NW_ERR_INVAL;
    }
    int rc = NW_ERR_NOMEM;
    nw_journal_t *j = calloc(1, sizeof *j);
    if (j == NULL || (j->dir = strdup(dir)) == NULL)
        goto fail;
    j->lock_fd = j->active_fd = j->reader.fd = -1;
    if (opts != NULL)
        j->opts = *opts;
    else
        nw_journal_opts_default(&j->opts);
    s_crc_init(j->crc);
    int err = mkdir(dir, 0755) == 0 ? s_sync_parent(dir) : (errno == EEXIST ? 0 : errno);
    if (err != 0) {
        rc = nw_error_from_errno(err);
        snprintf(rep->message, sizeof rep->message, "journal: cannot create %s: %s", dir,
                 strerror(err));
        goto fail;
    }
    if ((rc = s_lock(j, rep)) != NW_OK || (rc = s_ids_rebuild(j, 1024, 1)) != NW_OK ||
        (rc = s_recover(j, rep)) != NW_OK)
        goto fail;
    j->synced_below = j->next_seq; /* recovery synced the active segment */
    *out = j;
    return NW_OK;
fail:
    if (rc == NW_ERR_NOMEM && rep->message[0] == '\0')
        snprintf(rep->message, sizeof rep->message, "journal: out of memory");
    nw_journal_destroy(&j);
    return rc;
}

void nw_journal_destroy(nw_journal_t **jp)
{
    if (jp == NULL || *jp == NULL)
        return;
    nw_journal_t *j = *jp;
    if (j->active_fd >= 0) {
        if (j->opts.fsync != NW_JOURNAL_FSYNC_NEVER && j->unsynced > 0 && !j->sync_failed)
            (void)fdatasync(j->active_fd);
        close(j->active_fd);
    }
    if (j->lock_fd >= 0)
        close(j->lock_fd);
    s_reader_close(&j->reader);
    for (size_t i = 0; i < j->n_segs; i++)
        free(j->segs[i].offsets);
    for (size_t i = 0; i < j->n_topics; i++)
        free(j->topics[i].name);
    free(j->segs);
    free(j->topics);
    free(j->slots);
    free(j->wbuf);
    free(j->dir);
    free(j);
    *jp = NULL;
}

/* ---- accessors ---- */

const char *nw_journal_stream_id(const nw_journal_t *j)
{
    return j->stream;
}

uint64_t nw_journal_next_seq(const nw_journal_t *j)
{
    return j->next_seq;
}

uint64_t nw_journal_first_seq(const nw_journal_t *j)
{
    for (size_t i = 0; i < j->n_segs; i++)
        if (j->segs[i].n > 0)
            return j->segs[i].first_seq;
    return j->next_seq;
}

uint64_t nw_journal_topic_seq(const nw_journal_t *j, const char *topic)
{
    size_t at;
    return s_topic_find(j, topic, strlen(topic), &at) ? j->topics[at].seq : 0;
}

size_t nw_journal_topic_count(const nw_journal_t *j)
{
    return j->n_topics;
}

int nw_journal_topic_at(const nw_journal_t *j, size_t i, const char **name, uint64_t *seq)
{
    if (i >= j->n_topics)
        return NW_ERR_INVAL;
    *name = j->topics[i].name;
    *seq = j->topics[i].seq;
    return NW_OK;
}

const char *nw_journal_errmsg(const nw_journal_t *j)
{
    return j->errmsg;
}

uint64_t nw_journal_record_count(const nw_journal_t *j)
{
    return j->n_records;
}

uint64_t nw_journal_size(const nw_journal_t *j)
{
    return j->total;
}

size_t nw_journal_segment_count(const nw_journal_t *j)
{
    return j->n_segs;
}

/* ---- numbering and appending ---- */

int nw_journal_number(const nw_journal_t *j, nw_alert_t *alert)
{
    int rc;
    if (strcmp(alert->stream ? alert->stream : "", j->stream) != 0 &&
        (rc = nw_alert_set(&alert->stream, j->stream)) != NW_OK)
        return rc;
    alert->seq = j->next_seq;
    for (size_t i = 0; i < alert->n_topics; i++)
        alert->topics[i].seq = nw_journal_topic_seq(j, alert->topics[i].name) + 1;
    return NW_OK;
}

/* Checks that alert carries exactly the numbers the journal expects next. */
static int s_alert_check(nw_journal_t *j, const nw_alert_t *alert)
{
    if (alert->id == NULL || alert->id[0] == '\0' || strlen(alert->id) > NW_ALERT_FIELD_MAX ||
        alert->n_topics > NW_ALERT_TOPICS_MAX) {
        s_seterr(j, "journal: alert without a valid id or with too many topics");
        return NW_ERR_INVAL;
    }
    if (alert->stream == NULL || strcmp(alert->stream, j->stream) != 0 ||
        alert->seq != j->next_seq) {
        s_seterr(j, "journal: alert %s has stream %s seq %llu, journal expects %s seq %llu",
                 alert->id, alert->stream ? alert->stream : "(null)",
                 (unsigned long long)alert->seq, j->stream, (unsigned long long)j->next_seq);
        return NW_ERR_INVAL;
    }
    for (size_t i = 0; i < alert->n_topics; i++) {
        const char *name = alert->topics[i].name;
        size_t len = name ? strlen(name) : 0;
        if (len == 0 || len > S_NAME_MAX) {
            s_seterr(j, "journal: alert %s has an empty or too long topic", alert->id);
            return NW_ERR_INVAL;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(alert->topics[k].name, name) == 0) {
                s_seterr(j, "journal: alert %s lists topic %s twice", alert->id, name);
                return NW_ERR_INVAL;
            }
        }
        uint64_t want = nw_journal_topic_seq(j, name) + 1;
        if (alert->topics[i].seq != want) {
            s_seterr(j, "journal: alert %s has %s seq %llu, journal expects %llu", alert->id, name,
                     (unsigned long long)alert->topics[i].seq, (unsigned long long)want);
            return NW_ERR_INVAL;
        }
    }
    return NW_OK;
}

/* Deletes oldest segments per the retention limits; never the active one. */
static int s_retain(nw_journal_t *j, int64_t now_ms)
{
    size_t dropped = 0;
    int rc = NW_OK;
    while (j->n_segs - dropped > 1) {
        const s_segment_t *s = &j->segs[dropped];
        int64_t newest = s->n > 0 ? s->last_time : s->created_ms;
        bool over = j->opts.retain_bytes > 0 && j->total > j->opts.retain_bytes;
        bool old = j->opts.retain_ms > 0 && newest < now_ms - j->opts.retain_ms;
        if (!over && !old)
            break;
        char *path = s_seg_path(j, s->first_seq, "");
        if (path == NULL) {
            rc = NW_ERR_NOMEM;
            break;
        }
        if (unlink(path) != 0 && errno != ENOENT) {
            s_seterr(j, "journal: cannot delete %s: %s", path, strerror(errno));
            free(path);
            rc = NW_ERR_IO;
            break;
        }
        free(path);
        j->total -= s->size;
        j->n_records -= s->n;
        free(j->segs[dropped].offsets);
        dropped++;
    }
    if (dropped > 0) {
        memmove(j->segs, j->segs + dropped, (j->n_segs - dropped) * sizeof *j->segs);
        j->n_segs -= dropped;
        /* An open fd would keep a deleted segment's blocks allocated. */
        if (j->reader.fd >= 0 && j->reader.first_seq < j->segs[0].first_seq) {
            close(j->reader.fd);
            j->reader.fd = -1;
        }
        /* Drop the ids of deleted records; on NOMEM they stay, and nw_journal_contains
         * skips them since their seqs are no longer retained. */
        (void)s_ids_rebuild(j, j->n_slots, nw_journal_first_seq(j));
    }
    return rc;
}

int nw_journal_retain(nw_journal_t *j, int64_t now_ms)
{
    return s_retain(j, now_ms);
}

static int s_fail_write(nw_journal_t *j, const char *what, int err)
{
    s_segment_t *s = &j->segs[j->n_segs - 1];
    char name[64];
    s_seg_name(name, sizeof name, s->first_seq);
    s_seterr(j, "journal: cannot %s %s/%s at offset %llu: %s", what, j->dir, name,
             (unsigned long long)s->size, strerror(err));
    /* Cut a partly written record; if that fails too, the next append overwrites it. */
    j->tail_dirty = ftruncate(j->active_fd, (off_t)s->size) != 0;
    return NW_ERR_JOURNAL_FULL;
}

/* Records a failed fdatasync of the active segment (err: its errno): cuts a record written
 * but not indexed, as for a failed write, and makes the failure sticky. Linux reports a
 * writeback error to fdatasync once and then clears it, possibly having dropped the dirty
 * pages of every record since the last good sync; a later fdatasync that succeeds proves
 * nothing about them. So from now on appends and syncs return NW_ERR_SYNC, and only
 * reopening the journal (recovery reads what is really there) clears it.
 * Returns NW_ERR_SYNC. */
static int s_fail_sync(nw_journal_t *j, int err)
{
    (void)s_fail_write(j, "sync", err);
    j->sync_failed = true;
    snprintf(j->sync_errmsg, sizeof j->sync_errmsg, "%s", j->errmsg);
    return NW_ERR_SYNC;
}

/* Returns NW_OK, or NW_ERR_SYNC with errmsg set when an earlier fsync failed. */
static int s_check_synced(nw_journal_t *j)
{
    if (!j->sync_failed)
        return NW_OK;
    s_seterr(j,
             "%s (an earlier fsync failed; records since the last good sync may not be on "
             "disk; reopen the journal to recover)",
             j->sync_errmsg);
    return NW_ERR_SYNC;
}

/* Closes the active segment (synced) and starts a new one at next_seq. */
static int s_rotate(nw_journal_t *j, int64_t time_ms)
{
    int fd, rc, err;
    size_t hdr_len;
    if (s_grow((void **)&j->segs, &j->cap_segs, j->n_segs + 1, sizeof *j->segs) != 0)
        return NW_ERR_NOMEM;
    if (j->unsynced > 0 && fdatasync(j->active_fd) != 0)
        return s_fail_sync(j, errno);
    j->unsynced = 0;
    j->synced_below = j->next_seq;
    if ((rc = s_seg_create(j, j->next_seq, time_ms, &fd, &hdr_len, &err)) != NW_OK)
        return rc;
    close(j->active_fd);
    j->active_fd = fd;
    j->tail_dirty = false;
    if ((rc = s_seg_push(j, j->next_seq, hdr_len, time_ms)) != NW_OK)
        return rc;
    /* The new segment's directory entry could not be synced (errmsg says so). */
    return j->sync_failed ? NW_ERR_SYNC : NW_OK;
}

static bool s_sync_due(nw_journal_t *j, int64_t time_ms)
{
    switch (j->opts.fsync) {
    case NW_JOURNAL_FSYNC_ALWAYS: return true;
    case NW_JOURNAL_FSYNC_INTERVAL:
        return (j->opts.sync_every > 0 && j->unsynced + 1 >= j->opts.sync_every) ||
               (j->opts.sync_interval_ms > 0 && j->unsynced > 0 &&
                (time_ms - j->unsynced_since >= (int64_t)j->opts.sync_interval_ms ||
                 time_ms < j->unsynced_since));
    default: return false;
    }
}

int nw_journal_append(nw_journal_t *j, const nw_alert_t *alert, const void *frame, size_t frame_len,
                      int64_t time_ms)
{
    int rc, err;
    if (j == NULL || alert == NULL || frame == NULL)
        return NW_ERR_INVAL;
    if (frame_len == 0 || frame_len > NW_FRAME_MAX)
        return NW_ERR_TOOBIG;
    if ((rc = s_alert_check(j, alert)) != NW_OK || (rc = s_check_synced(j)) != NW_OK)
        return rc;
    if (time_ms < j->last_time)
        time_ms = j->last_time;
    /* Everything that may fail for memory is done before the write, so a record on disk
     * is always indexed. A new topic enters the table at seq 0 (= none yet). */
    size_t len = s_record_size(alert, frame_len);
    if (s_grow((void **)&j->wbuf, &j->wcap, len, 1) != 0 || s_ids_reserve(j) != NW_OK)
        return NW_ERR_NOMEM;
    for (size_t i = 0; i < alert->n_topics; i++)
        if (s_topic_raise(j, alert->topics[i].name, strlen(alert->topics[i].name), 0) != NW_OK)
            return NW_ERR_NOMEM;
    s_record_build(j, j->wbuf, len, alert, frame, frame_len, time_ms);
    s_segment_t *s = &j->segs[j->n_segs - 1];
    if (j->tail_dirty) {
        if (ftruncate(j->active_fd, (off_t)s->size) != 0)
            return s_fail_write(j, "truncate", errno);
        j->tail_dirty = false;
    }
    if (s->n > 0 && s->size + len > j->opts.segment_max) {
        if ((rc = s_rotate(j, time_ms)) != NW_OK)
            return rc;
        (void)s_retain(j, time_ms); /* a segment that cannot be deleted is retried later */
        s = &j->segs[j->n_segs - 1];
    }
    if (s_seg_reserve(s) != NW_OK)
        return NW_ERR_NOMEM;
    if ((err = s_write_all(j->active_fd, j->wbuf, len, (off_t)s->size)) != 0)
        return s_fail_write(j, "write", err);
    if (s_sync_due(j, time_ms)) {
        if (fdatasync(j->active_fd) != 0)
            return s_fail_sync(j, errno);
        j->unsynced = 0;
        j->synced_below = j->next_seq + 1;
    } else {
        if (j->unsynced++ == 0)
            j->unsynced_since = time_ms;
    }
    s_seg_add(j, s, len, time_ms);
    s_ids_put(j->slots, j->n_slots, s_hash(alert->id, strlen(alert->id)), alert->seq);
    j->n_used++;
    for (size_t i = 0; i < alert->n_topics; i++)
        s_topic_raise(j, alert->topics[i].name, strlen(alert->topics[i].name),
                      alert->topics[i].seq);
    j->next_seq++;
    return NW_OK;
}

int nw_journal_sync(nw_journal_t *j)
{
    int rc = s_check_synced(j);
    if (rc != NW_OK || j->unsynced == 0)
        return rc;
    if (fdatasync(j->active_fd) != 0)
        return s_fail_sync(j, errno);
    j->unsynced = 0;
    j->synced_below = j->next_seq;
    return NW_OK;
}

int nw_journal_sync_begin(nw_journal_t *j, nw_journal_sync_job_t *job)
{
    job->fd = -1;
    job->below = j->next_seq;
    job->err = 0;
    int rc = s_check_synced(j);
    if (rc != NW_OK || j->unsynced == 0)
        return rc;
    /* Its own descriptor, which still names the segment when a rotation closes the active
     * one while the sync runs (the rotation syncs that segment itself first). Opened anew,
     * not duplicated (docs/JOURNAL.md, "Sync descriptors"). */
    char *path = s_seg_path(j, j->segs[j->n_segs - 1].first_seq, "");
    if (path == NULL)
        return NW_ERR_NOMEM;
    if ((job->fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
        s_seterr(j, "journal: cannot open %s to sync it: %s", path, strerror(errno));
        rc = NW_ERR_IO;
    }
    free(path);
    return rc;
}

uint64_t nw_journal_synced_below(const nw_journal_t *j)
{
    return j->synced_below;
}

void nw_journal_sync_run(nw_journal_sync_job_t *job)
{
    if (job->fd >= 0 && fdatasync(job->fd) != 0)
        job->err = errno;
}

int nw_journal_sync_end(nw_journal_t *j, nw_journal_sync_job_t *job)
{
    if (job->fd < 0)
        return s_check_synced(j);
    close(job->fd);
    job->fd = -1;
    if (job->err != 0)
        return j->sync_failed ? NW_ERR_SYNC : s_fail_sync(j, job->err);
    /* Records appended while it ran are not covered: they stay unsynced. */
    if (job->below > j->synced_below) {
        j->synced_below = job->below;
        j->unsynced = (uint32_t)(j->next_seq - j->synced_below);
    }
    return s_check_synced(j);
}

bool nw_journal_sync_failed(const nw_journal_t *j)
{
    return j->sync_failed;
}

int nw_journal_contains(nw_journal_t *j, const char *id, bool *found)
{
    if (j == NULL || id == NULL || found == NULL)
        return NW_ERR_INVAL;
    *found = false;
    size_t len = strlen(id);
    uint64_t h = s_hash(id, len);
    for (size_t i = (size_t)h & (j->n_slots - 1); j->slots[i].seq != 0;
         i = (i + 1) & (j->n_slots - 1)) {
        if (j->slots[i].hash != h)
            continue;
        uint64_t seq = j->slots[i].seq;
        long k = s_seg_find(j, seq);
        if (k < 0 || seq - j->segs[k].first_seq >= j->segs[k].n)
            continue; /* deleted by retention */
        s_view_t v;
        uint64_t r = seq - j->segs[k].first_seq;
        int rc = s_reader_read(j, &j->reader, (size_t)k, r, r, &v); /* this record only */
        if (rc != NW_OK)
            return rc;
        if (v.id_len == len && memcmp(v.id, id, len) == 0) {
            *found = true;
            return NW_OK;
        }
    }
    return NW_OK;
}

/* ---- iterators ---- */

static int s_iter_new(nw_journal_t *j, uint64_t from, nw_journal_iter_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (j == NULL || out == NULL)
        return NW_ERR_INVAL;
    nw_journal_iter_t *it = calloc(1, sizeof *it);
    if (it == NULL)
        return NW_ERR_NOMEM;
    it->j = j;
    it->next = from;
    it->end = j->next_seq - 1;
    it->rd.fd = -1;
    *out = it;
    return NW_OK;
}

int nw_journal_iter_from_seq(nw_journal_t *j, uint64_t seq, nw_journal_iter_t **out)
{
    return s_iter_new(j, seq, out);
}

int nw_journal_iter_last(nw_journal_t *j, uint64_t n, nw_journal_iter_t **out)
{
    if (j == NULL)
        return s_iter_new(j, 0, out);
    /* Count back through the segments rather than subtract from next_seq, so a hole left
     * by a damaged segment does not shorten the answer. */
    uint64_t from = j->next_seq;
    for (size_t k = j->n_segs; k-- > 0 && n > 0;) {
        const s_segment_t *s = &j->segs[k];
        uint64_t take = n < s->n ? n : s->n;
        if (take > 0)
            from = s->first_seq + s->n - take;
        n -= take;
    }
    return s_iter_new(j, from, out);
}

int nw_journal_iter_from_time(nw_journal_t *j, int64_t time_ms, nw_journal_iter_t **out)
{
    int rc = s_iter_new(j, 0, out);
    if (rc != NW_OK)
        return rc;
    nw_journal_iter_t *it = *out;
    it->next = j->next_seq;
    size_t k = 0;
    while (k < j->n_segs && (j->segs[k].n == 0 || j->segs[k].last_time < time_ms))
        k++;
    if (k == j->n_segs)
        return NW_OK;
    /* Journal time never decreases, so binary search the segment, reading only the
     * 8-byte time field of each probed record. */
    const s_segment_t *s = &j->segs[k];
    uint64_t lo = 0, hi = s->n - 1;
    if ((rc = s_reader_open(j, &it->rd, s)) != NW_OK)
        goto fail;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint8_t b[8];
        int err = s_read_all(it->rd.fd, b, sizeof b, (off_t)s->offsets[mid] + 16);
        if (err != 0) {
            rc = err < 0 ? NW_ERR_JOURNAL_CORRUPT : NW_ERR_IO;
            goto fail;
        }
        if ((int64_t)s_get64(b) < time_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    it->next = s->first_seq + lo;
    return NW_OK;
fail:
    nw_journal_iter_destroy(out);
    return rc;
}

/* Copies the id and topic names of v, NUL-terminated, into it->strs for *rec. */
static int s_iter_fill(nw_journal_iter_t *it, const s_view_t *v, nw_journal_record_t *rec)
{
    size_t need = v->id_len + 1;
    for (size_t i = 0; i < v->n_topics; i++)
        need += v->name_lens[i] + 1;
    if (s_grow((void **)&it->strs, &it->strs_cap, need, 1) != 0)
        return NW_ERR_NOMEM;
    char *p = it->strs;
    memset(rec, 0, sizeof *rec);
    rec->seq = v->seq;
    rec->time_ms = v->time_ms;
    memcpy(p, v->id, v->id_len);
    p[v->id_len] = '\0';
    rec->id = p;
    p += v->id_len + 1;
    rec->n_topics = v->n_topics;
    for (size_t i = 0; i < v->n_topics; i++) {
        memcpy(p, v->names[i], v->name_lens[i]);
        p[v->name_lens[i]] = '\0';
        rec->topics[i] = p;
        rec->topic_seqs[i] = v->tseqs[i];
        p += v->name_lens[i] + 1;
    }
    rec->frame = v->frame;
    rec->frame_len = v->frame_len;
    return NW_OK;
}

int nw_journal_iter_next(nw_journal_iter_t *it, nw_journal_record_t *rec)
{
    if (it == NULL || rec == NULL)
        return NW_ERR_INVAL;
    nw_journal_t *j = it->j;
    while (it->next <= it->end && j->n_segs > 0) {
        long k = s_seg_find(j, it->next);
        if (k < 0) {
            it->next = j->segs[0].first_seq; /* older than anything retained */
            continue;
        }
        const s_segment_t *s = &j->segs[k];
        if (it->next - s->first_seq >= s->n) {
            if ((size_t)k + 1 == j->n_segs)
                break;
            it->next = j->segs[k + 1].first_seq; /* a hole left by a damaged segment */
            continue;
        }
        s_view_t v;
        uint64_t last = it->end - s->first_seq < s->n ? it->end - s->first_seq : s->n - 1;
        int rc = s_reader_read(j, &it->rd, (size_t)k, it->next - s->first_seq, last, &v);
        if (rc == NW_ERR_JOURNAL_CORRUPT)
            it->next++;
        if (rc != NW_OK)
            return rc;
        if ((rc = s_iter_fill(it, &v, rec)) != NW_OK)
            return rc;
        it->next++;
        return NW_OK;
    }
    return NW_ERR_NOTFOUND;
}

void nw_journal_iter_destroy(nw_journal_iter_t **itp)
{
    if (itp == NULL || *itp == NULL)
        return;
    s_reader_close(&(*itp)->rd);
    free((*itp)->strs);
    free(*itp);
    *itp = NULL;
}
