#include "nw_state.h"

#include "nw_buf.h"
#include "nw_error.h"
#include "nw_file.h"
#include "nw_topic.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_STREAM_MAX 64                  /* bytes of a stream id */
#define S_MAGIC      "newswire-state 1"  /* first line of the file */
#define S_FILE_MAX   (64u * 1024 * 1024) /* a bigger state file is refused as damaged */
#define S_TAIL_CHUNK (64u * 1024)        /* bytes of the --log tail read at a time */

typedef struct {
    uint64_t lo; /* first handled seq of the range */
    uint64_t hi; /* last, inclusive */
} s_range_t;

typedef struct {
    char name[NW_TOPIC_MAX + 1]; /* topic */
    uint64_t tseq;               /* latest per-topic seq handled or known */
} s_topic_t;

typedef struct {
    char id[S_STREAM_MAX + 1]; /* stream id */
    uint64_t floor;            /* everything matching <= floor is handled */
    s_range_t *ranges;         /* handled seqs above floor, sorted, disjoint, not adjacent */
    size_t n_ranges;           /* used entries */
    size_t cap_ranges;         /* allocated entries */
    s_topic_t *topics;         /* sorted by name */
    size_t n_topics;           /* used entries */
    size_t cap_topics;         /* allocated entries */
    bool proven;               /* read from the file, or an alert or replay of it handled */
} s_stream_t;

struct nw_state_t {
    char *path;                                /* the file, NULL in memory */
    s_stream_t *streams[NW_STATE_STREAMS_MAX]; /* most recently used first */
    s_stream_t *last_marked;                   /* stream of the last alert handled, or NULL */
    size_t n_streams;                          /* used entries */
    bool dirty;                                /* changed since the last save */
    bool saved_once;                           /* last_save_ms is meaningful */
    int64_t last_save_ms;                      /* when nw_state_save_due last saved */
};

/* --- streams ----------------------------------------------------------------------------- */

static void s_stream_free(s_stream_t *st)
{
    if (st == NULL)
        return;
    free(st->ranges);
    free(st->topics);
    free(st);
}

static bool s_stream_id_valid(const char *id)
{
    size_t n = strnlen(id, S_STREAM_MAX + 1);
    if (n == 0 || n > S_STREAM_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (id[i] <= ' ' || id[i] > '~')
            return false;
    }
    return true;
}

static s_stream_t *s_find(const nw_state_t *s, const char *stream)
{
    for (size_t i = 0; stream != NULL && i < s->n_streams; i++) {
        if (strcmp(s->streams[i]->id, stream) == 0)
            return s->streams[i];
    }
    return NULL;
}

/* Forgets one stream to make room: the least recently used of those never proven (streams
 * only heartbeats named, which anyone reaching the socket can forge), else the least
 * recently used one, never the one that handled an alert last. So a flood of made-up
 * stream ids cannot push out the real stream and its backlog. */
static void s_evict(nw_state_t *s)
{
    size_t victim = s->n_streams;
    for (size_t i = s->n_streams; i-- > 0 && victim == s->n_streams;) {
        if (!s->streams[i]->proven)
            victim = i;
    }
    for (size_t i = s->n_streams; i-- > 0 && victim == s->n_streams;) {
        if (s->streams[i] != s->last_marked)
            victim = i;
    }
    if (s->streams[victim] == s->last_marked)
        s->last_marked = NULL;
    s_stream_free(s->streams[victim]);
    memmove(&s->streams[victim], &s->streams[victim + 1],
            (s->n_streams - victim - 1) * sizeof s->streams[0]);
    s->n_streams--;
}

/* Appends a new stream at the end (file order), or NULL when out of memory. */
static s_stream_t *s_add(nw_state_t *s, const char *stream, uint64_t floor)
{
    s_stream_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    snprintf(st->id, sizeof st->id, "%s", stream);
    st->floor = floor;
    if (s->n_streams == NW_STATE_STREAMS_MAX)
        s_evict(s);
    s->streams[s->n_streams++] = st;
    return st;
}

static void s_to_front(nw_state_t *s, s_stream_t *st)
{
    size_t i = 0;
    while (s->streams[i] != st)
        i++;
    if (i == 0)
        return;
    memmove(&s->streams[1], &s->streams[0], i * sizeof s->streams[0]);
    s->streams[0] = st;
    s->dirty = true;
}

int nw_state_use(nw_state_t *s, const char *stream, uint64_t floor)
{
    if (stream == NULL || !s_stream_id_valid(stream))
        return NW_ERR_INVAL;
    s_stream_t *st = s_find(s, stream);
    if (st == NULL && (st = s_add(s, stream, floor)) == NULL)
        return NW_ERR_NOMEM;
    s_to_front(s, st);
    s->dirty = true;
    return NW_OK;
}

const char *nw_state_current(const nw_state_t *s)
{
    return s->n_streams ? s->streams[0]->id : NULL;
}

bool nw_state_has_stream(const nw_state_t *s, const char *stream)
{
    return s_find(s, stream) != NULL;
}

uint64_t nw_state_floor(const nw_state_t *s, const char *stream)
{
    const s_stream_t *st = s_find(s, stream);
    return st ? st->floor : 0;
}

/* --- handled ranges ---------------------------------------------------------------------- */

/* Returns the index of the first range whose hi >= seq (n_ranges if none). */
static size_t s_range_search(const s_stream_t *st, uint64_t seq)
{
    size_t lo = 0, hi = st->n_ranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->ranges[mid].hi < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void s_range_remove(s_stream_t *st, size_t i, size_t n)
{
    if (n == 0)
        return; /* ranges may still be NULL: memmove must not see it */
    memmove(&st->ranges[i], &st->ranges[i + n], (st->n_ranges - i - n) * sizeof st->ranges[0]);
    st->n_ranges -= n;
}

/* Folds ranges that touch the floor into it. */
static void s_absorb_floor(s_stream_t *st)
{
    size_t n = 0;
    while (n < st->n_ranges && st->ranges[n].lo <= st->floor + 1) {
        if (st->ranges[n].hi > st->floor)
            st->floor = st->ranges[n].hi;
        n++;
    }
    if (n > 0)
        s_range_remove(st, 0, n);
}

int nw_state_set_floor(nw_state_t *s, const char *stream, uint64_t floor)
{
    s_stream_t *st = s_find(s, stream);
    if (st == NULL)
        return NW_ERR_NOTFOUND;
    if (floor < st->floor) {
        st->n_ranges = 0; /* the publisher is behind us: what we had above is void */
    } else {
        size_t i = s_range_search(st, floor + 1);
        s_range_remove(st, 0, i);
    }
    st->floor = floor;
    st->proven = true; /* a replay or a restart check of it came back */
    s_absorb_floor(st);
    s->dirty = true;
    return NW_OK;
}

bool nw_state_handled(const nw_state_t *s, const char *stream, uint64_t seq)
{
    const s_stream_t *st = s_find(s, stream);
    if (st == NULL)
        return false;
    if (seq <= st->floor)
        return true;
    size_t i = s_range_search(st, seq);
    return i < st->n_ranges && st->ranges[i].lo <= seq;
}

static int s_range_insert(s_stream_t *st, size_t i, uint64_t seq)
{
    if (st->n_ranges == st->cap_ranges) {
        size_t cap = st->cap_ranges ? st->cap_ranges * 2 : 8;
        s_range_t *r = realloc(st->ranges, cap * sizeof *r);
        if (r == NULL)
            return NW_ERR_NOMEM;
        st->ranges = r;
        st->cap_ranges = cap;
    }
    memmove(&st->ranges[i + 1], &st->ranges[i], (st->n_ranges - i) * sizeof st->ranges[0]);
    st->ranges[i].lo = st->ranges[i].hi = seq;
    st->n_ranges++;
    return NW_OK;
}

/* Adds seq (above the floor, not yet in the set) at position i, merging with neighbours. */
static int s_range_add(s_stream_t *st, size_t i, uint64_t seq)
{
    bool joins_prev = i > 0 && st->ranges[i - 1].hi + 1 == seq;
    bool joins_next = i < st->n_ranges && st->ranges[i].lo == seq + 1;
    if (joins_prev && joins_next) {
        st->ranges[i - 1].hi = st->ranges[i].hi;
        s_range_remove(st, i, 1);
    } else if (joins_prev) {
        st->ranges[i - 1].hi = seq;
    } else if (joins_next) {
        st->ranges[i].lo = seq;
    } else {
        return s_range_insert(st, i, seq);
    }
    return NW_OK;
}

int nw_state_mark(nw_state_t *s, const char *stream, uint64_t seq)
{
    s_stream_t *st = s_find(s, stream);
    if (st == NULL)
        return NW_ERR_NOTFOUND;
    st->proven = true;
    s->last_marked = st;
    if (nw_state_handled(s, stream, seq))
        return NW_OK;
    int rc = s_range_add(st, s_range_search(st, seq), seq);
    if (rc != NW_OK)
        return rc;
    s_absorb_floor(st);
    s->dirty = true;
    if (st->n_ranges > NW_STATE_RANGES_MAX) {
        st->floor = st->ranges[0].hi; /* give up the oldest hole */
        s_range_remove(st, 0, 1);
        s_absorb_floor(st);
        return NW_ERR_TOOBIG;
    }
    return NW_OK;
}

size_t nw_state_range_count(const nw_state_t *s, const char *stream)
{
    const s_stream_t *st = s_find(s, stream);
    return st ? st->n_ranges : 0;
}

/* --- topics ----------------------------------------------------------------------------- */

/* Returns the index where topic is or would go; *found says which. */
static size_t s_topic_search(const s_stream_t *st, const char *topic, bool *found)
{
    size_t lo = 0, hi = st->n_topics;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->topics[mid].name, topic);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t nw_state_topic(const nw_state_t *s, const char *stream, const char *topic)
{
    const s_stream_t *st = s_find(s, stream);
    bool found;
    if (st == NULL)
        return 0;
    size_t i = s_topic_search(st, topic, &found);
    return found ? st->topics[i].tseq : 0;
}

static int s_topic_insert(s_stream_t *st, size_t i, const char *topic, uint64_t tseq)
{
    if (st->n_topics == NW_STATE_TOPICS_MAX)
        return NW_ERR_TOOBIG;
    if (st->n_topics == st->cap_topics) {
        size_t cap = st->cap_topics ? st->cap_topics * 2 : 16;
        s_topic_t *t = realloc(st->topics, cap * sizeof *t);
        if (t == NULL)
            return NW_ERR_NOMEM;
        st->topics = t;
        st->cap_topics = cap;
    }
    memmove(&st->topics[i + 1], &st->topics[i], (st->n_topics - i) * sizeof st->topics[0]);
    snprintf(st->topics[i].name, sizeof st->topics[i].name, "%s", topic);
    st->topics[i].tseq = tseq;
    st->n_topics++;
    return NW_OK;
}

int nw_state_set_topic(nw_state_t *s, const char *stream, const char *topic, uint64_t tseq)
{
    s_stream_t *st = s_find(s, stream);
    bool found;
    if (st == NULL)
        return NW_ERR_NOTFOUND;
    if (topic == NULL || !nw_topic_valid(topic, strlen(topic)))
        return NW_ERR_TOPIC;
    size_t i = s_topic_search(st, topic, &found);
    if (found) {
        if (tseq > st->topics[i].tseq) {
            st->topics[i].tseq = tseq;
            s->dirty = true;
        }
        return NW_OK;
    }
    int rc = s_topic_insert(st, i, topic, tseq);
    if (rc == NW_OK)
        s->dirty = true;
    return rc;
}

bool nw_state_dirty(const nw_state_t *s)
{
    return s->dirty;
}

/* --- saving ------------------------------------------------------------------------------ */

static int s_format_stream(nw_buf_t *b, const s_stream_t *st, size_t *records)
{
    int rc = nw_buf_printf(b, "stream %s floor %" PRIu64 "\n", st->id, st->floor);
    (*records)++;
    for (size_t i = 0; rc == NW_OK && i < st->n_ranges; i++) {
        if (i % 64 == 0) {
            rc = nw_buf_printf(b, "%sdone %s", i ? "\n" : "", st->id);
            (*records)++;
        }
        const s_range_t *r = &st->ranges[i];
        if (rc == NW_OK && r->lo == r->hi)
            rc = nw_buf_printf(b, " %" PRIu64, r->lo);
        else if (rc == NW_OK)
            rc = nw_buf_printf(b, " %" PRIu64 "-%" PRIu64, r->lo, r->hi);
    }
    if (rc == NW_OK && st->n_ranges > 0)
        rc = nw_buf_append_str(b, "\n");
    for (size_t i = 0; rc == NW_OK && i < st->n_topics; i++) {
        rc = nw_buf_printf(b, "topic %s %s %" PRIu64 "\n", st->id, st->topics[i].name,
                           st->topics[i].tseq);
        (*records)++;
    }
    return rc;
}

static int s_format(const nw_state_t *s, nw_buf_t *b)
{
    size_t records = 0;
    int rc = nw_buf_append_str(b, S_MAGIC "\n");
    for (size_t i = 0; rc == NW_OK && i < s->n_streams; i++)
        rc = s_format_stream(b, s->streams[i], &records);
    if (rc == NW_OK)
        rc = nw_buf_printf(b, "end %zu\n", records);
    return rc;
}

int nw_state_save(nw_state_t *s, char *err, size_t errlen)
{
    char scratch[8];
    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = '\0';
    if (s->path == NULL || !s->dirty)
        return NW_OK;
    nw_buf_t b = {0};
    int rc = s_format(s, &b);
    if (rc == NW_OK)
        rc = nw_file_replace(s->path, b.data, b.len, err, errlen);
    nw_buf_free(&b);
    if (rc == NW_OK)
        s->dirty = false;
    return rc;
}

int nw_state_save_due(nw_state_t *s, int64_t now_ms, char *err, size_t errlen)
{
    if (!s->dirty || (s->saved_once && now_ms - s->last_save_ms < NW_STATE_SAVE_MS))
        return NW_OK;
    s->saved_once = true;
    s->last_save_ms = now_ms;
    return nw_state_save(s, err, errlen);
}

/* --- loading ------------------------------------------------------------------------------ */

typedef struct {
    const char *path; /* for messages */
    size_t line;      /* current line number, from 1 */
    char *err;        /* message buffer */
    size_t errlen;
} s_parse_t;

static int s_bad(s_parse_t *p, const char *what)
{
    snprintf(p->err, p->errlen, "--state %s:%zu: %s", p->path, p->line, what);
    return NW_ERR_CONFIG;
}

/* Parses a decimal uint64 (no sign, no leading junk) from the whole of tok. */
static bool s_parse_u64(const char *tok, uint64_t *out)
{
    if (tok == NULL || *tok < '0' || *tok > '9')
        return false;
    uint64_t v = 0;
    for (const char *c = tok; *c; c++) {
        if (*c < '0' || *c > '9')
            return false;
        unsigned d = (unsigned)(*c - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static s_stream_t *s_need_stream(nw_state_t *s, s_parse_t *p, const char *id, int *rc)
{
    s_stream_t *st = id ? s_find(s, id) : NULL;
    if (st == NULL)
        *rc = s_bad(p, "record for a stream not declared by a \"stream\" line before it");
    return st;
}

static int s_parse_stream(nw_state_t *s, s_parse_t *p, char **tok, size_t n)
{
    uint64_t floor;
    if (n != 4 || strcmp(tok[2], "floor") != 0)
        return s_bad(p, "expected \"stream ID floor N\"");
    if (!s_stream_id_valid(tok[1]))
        return s_bad(p, "stream: not a stream id");
    if (!s_parse_u64(tok[3], &floor))
        return s_bad(p, "floor: not a number");
    if (s_find(s, tok[1]) != NULL)
        return s_bad(p, "stream: listed twice");
    if (s->n_streams == NW_STATE_STREAMS_MAX)
        return s_bad(p, "stream: too many streams");
    s_stream_t *st = s_add(s, tok[1], floor);
    if (st == NULL)
        return NW_ERR_NOMEM;
    st->proven = true;
    return NW_OK;
}

static int s_parse_range(s_stream_t *st, s_parse_t *p, char *tok)
{
    uint64_t lo, hi;
    char *dash = strchr(tok, '-');
    if (dash != NULL)
        *dash = '\0';
    if (!s_parse_u64(tok, &lo) || (dash ? !s_parse_u64(dash + 1, &hi) : (hi = lo, false)))
        return s_bad(p, "done: not a number or range");
    uint64_t prev = st->n_ranges ? st->ranges[st->n_ranges - 1].hi : st->floor;
    /* prev + 1 must not wrap: nothing can follow a range that ends at UINT64_MAX. */
    if (hi < lo || (st->n_ranges > 0 && prev == UINT64_MAX) || lo <= prev + (st->n_ranges ? 1 : 0))
        return s_bad(p, "done: range out of order, overlapping or not above the floor");
    if (st->n_ranges >= NW_STATE_RANGES_MAX)
        return s_bad(p, "done: too many ranges");
    int rc = s_range_insert(st, st->n_ranges, lo);
    if (rc == NW_OK)
        st->ranges[st->n_ranges - 1].hi = hi;
    return rc;
}

static int s_parse_done(nw_state_t *s, s_parse_t *p, char **tok, size_t n)
{
    int rc = NW_OK;
    s_stream_t *st = s_need_stream(s, p, n > 1 ? tok[1] : NULL, &rc);
    if (st == NULL)
        return rc;
    if (n < 3)
        return s_bad(p, "done: no seq");
    for (size_t i = 2; i < n && rc == NW_OK; i++)
        rc = s_parse_range(st, p, tok[i]);
    return rc;
}

static int s_parse_topic(nw_state_t *s, s_parse_t *p, char **tok, size_t n)
{
    int rc = NW_OK;
    uint64_t tseq;
    s_stream_t *st = s_need_stream(s, p, n > 1 ? tok[1] : NULL, &rc);
    if (st == NULL)
        return rc;
    if (n != 4)
        return s_bad(p, "expected \"topic STREAM NAME SEQ\"");
    if (!nw_topic_valid(tok[2], strlen(tok[2])))
        return s_bad(p, "topic: not a valid topic name");
    if (!s_parse_u64(tok[3], &tseq))
        return s_bad(p, "topic: seq is not a number");
    bool found;
    size_t i = s_topic_search(st, tok[2], &found);
    if (found)
        return s_bad(p, "topic: listed twice");
    rc = s_topic_insert(st, i, tok[2], tseq);
    return rc == NW_ERR_TOOBIG ? s_bad(p, "topic: too many topics") : rc;
}

/* Splits line at spaces into at most max tokens; returns how many, max + 1 if more. */
static size_t s_split(char *line, char **tok, size_t max)
{
    size_t n = 0;
    for (char *t = strtok(line, " "); t != NULL; t = strtok(NULL, " ")) {
        if (n == max)
            return max + 1;
        tok[n++] = t;
    }
    return n;
}

/* Handles one line after the header. *ended is set by the "end" line. */
static int s_parse_line(nw_state_t *s, s_parse_t *p, char *line, size_t *records, bool *ended)
{
    char *tok[80];
    size_t n = s_split(line, tok, 79);
    if (n == 0)
        return s_bad(p, "empty line");
    if (n > 79)
        return s_bad(p, "too many fields");
    if (strcmp(tok[0], "end") == 0) {
        uint64_t want;
        if (n != 2 || !s_parse_u64(tok[1], &want) || want != *records)
            return s_bad(p, "end: record count does not match (file cut short?)");
        *ended = true;
        return NW_OK;
    }
    (*records)++;
    if (strcmp(tok[0], "stream") == 0)
        return s_parse_stream(s, p, tok, n);
    if (strcmp(tok[0], "done") == 0)
        return s_parse_done(s, p, tok, n);
    if (strcmp(tok[0], "topic") == 0)
        return s_parse_topic(s, p, tok, n);
    return s_bad(p, "unknown record");
}

static int s_parse(nw_state_t *s, s_parse_t *p, char *text, size_t len)
{
    size_t records = 0;
    bool ended = false;
    if (memchr(text, '\0', len) != NULL) {
        p->line = 1;
        return s_bad(p, "NUL byte: not a state file");
    }
    char *line = text;
    while (line < text + len) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        p->line++;
        if (nl == NULL)
            return s_bad(p, "last line has no newline (file cut short?)");
        *nl = '\0';
        if (ended)
            return s_bad(p, "text after the end line");
        int rc = p->line == 1 ? (strcmp(line, S_MAGIC) == 0
                                     ? NW_OK
                                     : s_bad(p, "not a newswire state file (bad header)"))
                              : s_parse_line(s, p, line, &records, &ended);
        if (rc != NW_OK)
            return rc;
        line = nl + 1;
    }
    p->line++;
    return ended ? NW_OK : s_bad(p, "no end line (file cut short?)");
}

/* Reads the state file into *text; NW_ERR_NOTFOUND when there is none yet. */
static int s_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    char why[1024];
    int rc = nw_file_read_all(path, S_FILE_MAX, text, len, why, sizeof why);
    if (rc == NW_ERR_TOOBIG)
        snprintf(err, errlen, "--state %s: larger than %u bytes: not a state file", path,
                 S_FILE_MAX);
    else if (rc != NW_OK && rc != NW_ERR_NOTFOUND)
        snprintf(err, errlen, "--state %s", why);
    return rc == NW_ERR_TOOBIG ? NW_ERR_CONFIG : rc;
}

static int s_load(nw_state_t *s, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->path);
    unlink(tmp); /* a save that crashed before its rename: the real file is intact */
    char *text;
    size_t len = 0;
    int rc = s_read_file(s->path, &text, &len, err, errlen);
    if (rc == NW_ERR_NOTFOUND)
        return NW_OK;
    if (rc != NW_OK)
        return rc;
    s_parse_t p = {.path = s->path, .line = 0, .err = err, .errlen = errlen};
    rc = s_parse(s, &p, text, len);
    free(text);
    return rc;
}

void nw_state_destroy(nw_state_t **sp)
{
    if (sp == NULL || *sp == NULL)
        return;
    nw_state_t *s = *sp;
    for (size_t i = 0; i < s->n_streams; i++)
        s_stream_free(s->streams[i]);
    free(s->path);
    free(s);
    *sp = NULL;
}

int nw_state_open(const char *path, nw_state_t **out, char *err, size_t errlen)
{
    char scratch[8];
    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = '\0';
    *out = NULL;
    nw_state_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NW_ERR_NOMEM;
    int rc = NW_OK;
    if (path != NULL && (s->path = strdup(path)) == NULL)
        rc = NW_ERR_NOMEM;
    if (rc == NW_OK && path != NULL)
        rc = s_load(s, err, errlen);
    if (rc != NW_OK) {
        nw_state_destroy(&s);
        return rc;
    }
    *out = s;
    return NW_OK;
}

/* --- the log as a witness ------------------------------------------------------------------ */

/* Finds "stream":"ID","seq":N in one line written by nw_json_alert (tseq, which may hold a
 * topic named "seq", comes before "stream", so the pair is looked for together). */
static bool s_line_ids(const char *line, char *stream, size_t cap, uint64_t *seq)
{
    const char *k = strstr(line, "\"stream\":\"");
    if (k == NULL)
        return false;
    k += strlen("\"stream\":\"");
    const char *q = strchr(k, '"');
    if (q == NULL || (size_t)(q - k) >= cap || strncmp(q, "\",\"seq\":", 8) != 0)
        return false;
    memcpy(stream, k, (size_t)(q - k));
    stream[q - k] = '\0';
    char num[24];
    size_t n = 0;
    for (const char *c = q + 8; *c >= '0' && *c <= '9' && n < sizeof num - 1; c++)
        num[n++] = *c;
    num[n] = '\0';
    return s_parse_u64(num, seq);
}

/* Marks the alert of one complete log line as handled when the state knows its stream and
 * has not handled it yet, counting it in *n. Returns NW_OK or NW_ERR_NOMEM. */
static int s_absorb_line(nw_state_t *s, const char *line, size_t *n)
{
    char stream[S_STREAM_MAX + 1];
    uint64_t seq;
    if (!s_line_ids(line, stream, sizeof stream, &seq) || !nw_state_has_stream(s, stream) ||
        nw_state_handled(s, stream, seq))
        return NW_OK;
    int rc = nw_state_mark(s, stream, seq);
    if (rc == NW_ERR_TOOBIG)
        rc = NW_OK; /* marked all the same */
    if (rc == NW_OK)
        (*n)++;
    return rc;
}

/* The log's tail is read S_TAIL_CHUNK bytes at a time, so a long tail never sits in memory
 * whole: the window holds one chunk plus the line cut at its end (grown only for a line
 * longer than a chunk). */
typedef struct {
    char *data; /* the window */
    size_t len; /* bytes held: complete lines, then the start of a cut one */
    size_t cap; /* bytes allocated */
    bool skip;  /* the first line may be cut by the tail's start: not yet skipped */
    size_t *n;  /* alerts marked so far */
} s_tail_t;

/* Absorbs every complete line of the window and keeps the cut one at its start. */
static int s_tail_lines(nw_state_t *s, s_tail_t *t)
{
    char *line = t->data, *end = t->data + t->len, *nl;
    int rc = NW_OK;
    for (; rc == NW_OK && line < end && (nl = memchr(line, '\n', (size_t)(end - line))) != NULL;
         line = nl + 1) {
        *nl = '\0';
        if (t->skip)
            t->skip = false;
        else
            rc = s_absorb_line(s, line, t->n);
    }
    t->len = (size_t)(end - line);
    memmove(t->data, line, t->len);
    return rc;
}

int nw_state_absorb_log(nw_state_t *s, const char *log_path, size_t max_bytes, size_t *marked)
{
    size_t n = 0;
    if (marked != NULL)
        *marked = 0;
    int fd = open(log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? NW_OK : nw_error_from_errno(errno);
    struct stat sb;
    s_tail_t t = {.n = &n};
    int rc = NW_OK;
    if (fstat(fd, &sb) != 0) {
        rc = nw_error_from_errno(errno);
        goto done;
    }
    size_t size = (size_t)sb.st_size, off = size > max_bytes ? size - max_bytes : 0;
    /* Only lines with a newline on both sides count: the first may be cut by the tail's
     * start, the last by a crash (it stays in the window, unread). */
    t.skip = off > 0;
    while (rc == NW_OK && off < size) {
        if (t.len + 1 >= t.cap) {
            size_t cap = t.cap ? t.cap * 2 : S_TAIL_CHUNK;
            char *grown = realloc(t.data, cap);
            if (grown == NULL) {
                rc = NW_ERR_NOMEM;
                break;
            }
            t.data = grown;
            t.cap = cap;
        }
        size_t room = t.cap - t.len - 1, want = size - off < room ? size - off : room;
        ssize_t got = pread(fd, t.data + t.len, want, (off_t)off);
        if (got <= 0) {
            rc = got < 0 ? nw_error_from_errno(errno) : NW_OK;
            break; /* 0: the file was cut short meanwhile */
        }
        t.len += (size_t)got;
        off += (size_t)got;
        rc = s_tail_lines(s, &t);
    }
done:
    close(fd);
    free(t.data);
    if (marked != NULL)
        *marked = n;
    return rc;
}
