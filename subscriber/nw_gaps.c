#include "nw_gaps.h"

#include "nw_error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name;                                  /* topic, owned */
    uint64_t last;                               /* highest sequence number seen or skipped */
    nw_gaps_range_t missing[NW_GAPS_RANGES_MAX]; /* holes below last, oldest first */
    size_t n_missing;                            /* used entries of missing */
} s_topic_t;

typedef struct {
    char *id;             /* stream id, owned; NULL = free slot */
    bool baselined;       /* a heartbeat listed every topic: unknown topics start at 0 */
    int64_t last_seen_ms; /* last alert or heartbeat, for eviction */
    int64_t last_beat_ms; /* last heartbeat, 0 = none yet */
    uint32_t interval_ms; /* heartbeat period the stream announced */
    bool silent;          /* SILENT reported, ALIVE not yet */
    char *previous;       /* the stream heard last before this one appeared, owned, until
                             JOINED or REPLACED says which it was; NULL then or if none */
    int64_t appeared_ms;  /* when this stream was first heard */
    s_topic_t *topics;    /* tracked topics */
    size_t n_topics;      /* used entries of topics */
    size_t cap_topics;    /* allocated entries of topics */
} s_stream_t;

struct nw_gaps_t {
    nw_gaps_fn *on_event;              /* event sink */
    nw_gaps_subscribed_fn *subscribed; /* heartbeat topic predicate, NULL = all */
    void *arg;                         /* for both callbacks */
    s_stream_t streams[NW_GAPS_STREAMS_MAX];
    s_stream_t *current; /* stream heard most recently, the previous of a new one */
    size_t n_streams;    /* streams tracked */
    size_t undecided;    /* streams whose previous is still set */
    uint64_t gaps;       /* MISSED + TAIL events */
    uint64_t missed;     /* alerts named by them */
};

int nw_gaps_new(nw_gaps_fn *on_event, nw_gaps_subscribed_fn *subscribed, void *arg, nw_gaps_t **out)
{
    nw_gaps_t *gaps = calloc(1, sizeof *gaps);
    if (gaps == NULL)
        return NW_ERR_NOMEM;
    gaps->on_event = on_event;
    gaps->subscribed = subscribed;
    gaps->arg = arg;
    *out = gaps;
    return NW_OK;
}

static void s_stream_free(s_stream_t *s)
{
    for (size_t i = 0; i < s->n_topics; i++)
        free(s->topics[i].name);
    free(s->topics);
    free(s->previous);
    free(s->id);
    memset(s, 0, sizeof *s);
}

void nw_gaps_destroy(nw_gaps_t **gaps_p)
{
    if (gaps_p == NULL || *gaps_p == NULL)
        return;
    for (size_t i = 0; i < NW_GAPS_STREAMS_MAX; i++)
        s_stream_free(&(*gaps_p)->streams[i]);
    free(*gaps_p);
    *gaps_p = NULL;
}

static void s_emit(nw_gaps_t *gaps, nw_gaps_event_t ev)
{
    if (ev.kind == NW_GAPS_MISSED || ev.kind == NW_GAPS_TAIL) {
        gaps->gaps++;
        gaps->missed += ev.last - ev.first + 1;
    }
    if (gaps->on_event != NULL)
        gaps->on_event(&ev, gaps->arg);
}

static s_stream_t *s_stream_find(const nw_gaps_t *gaps, const char *id)
{
    for (size_t i = 0; i < NW_GAPS_STREAMS_MAX; i++) {
        if (gaps->streams[i].id != NULL && strcmp(gaps->streams[i].id, id) == 0)
            return (s_stream_t *)&gaps->streams[i];
    }
    return NULL;
}

/* A free slot, or the least recently active stream's, emptied. */
static s_stream_t *s_stream_slot(nw_gaps_t *gaps)
{
    s_stream_t *oldest = &gaps->streams[0];
    for (size_t i = 0; i < NW_GAPS_STREAMS_MAX; i++) {
        if (gaps->streams[i].id == NULL)
            return &gaps->streams[i];
        if (gaps->streams[i].last_seen_ms < oldest->last_seen_ms)
            oldest = &gaps->streams[i];
    }
    if (gaps->current == oldest)
        gaps->current = NULL;
    gaps->undecided -= oldest->previous != NULL;
    gaps->n_streams--;
    s_stream_free(oldest);
    return oldest;
}

/* Settles a new stream's previous: JOINED or REPLACED, once. */
static void s_decide(nw_gaps_t *gaps, s_stream_t *s, nw_gaps_kind_t kind)
{
    nw_gaps_event_t ev = {
        .kind = kind, .stream = s->id, .previous = s->previous, .streams = gaps->n_streams};
    s_emit(gaps, ev);
    free(s->previous);
    s->previous = NULL;
    gaps->undecided--;
}

/* s was heard: every new stream that appeared after it is another publisher. */
static void s_heard(nw_gaps_t *gaps, const s_stream_t *s)
{
    for (size_t i = 0; gaps->undecided > 0 && i < NW_GAPS_STREAMS_MAX; i++) {
        s_stream_t *o = &gaps->streams[i];
        if (o != s && o->previous != NULL && strcmp(o->previous, s->id) == 0)
            s_decide(gaps, o, NW_GAPS_STREAM_JOINED);
    }
}

/* Finds or starts tracking stream id, reporting a new one. NULL when out of memory. */
static s_stream_t *s_stream_get(nw_gaps_t *gaps, const char *id, int64_t now_ms)
{
    s_stream_t *s = s_stream_find(gaps, id);
    if (s == NULL) {
        char *copy = strdup(id);
        char *previous = gaps->current != NULL ? strdup(gaps->current->id) : NULL;
        if (copy == NULL || (gaps->current != NULL && previous == NULL)) {
            free(copy);
            free(previous);
            return NULL;
        }
        s = s_stream_slot(gaps);
        s->id = copy;
        s->previous = previous;
        s->appeared_ms = now_ms;
        gaps->n_streams++;
        gaps->undecided += previous != NULL;
        gaps->current = s;
        s_emit(gaps, (nw_gaps_event_t){.kind = NW_GAPS_STREAM_NEW,
                                       .stream = id,
                                       .previous = previous,
                                       .streams = gaps->n_streams});
    } else if (gaps->undecided > 0) {
        s_heard(gaps, s);
    }
    s->last_seen_ms = now_ms;
    gaps->current = s;
    return s;
}

static s_topic_t *s_topic_find(const s_stream_t *s, const char *name)
{
    for (size_t i = 0; i < s->n_topics; i++) {
        if (strcmp(s->topics[i].name, name) == 0)
            return &s->topics[i];
    }
    return NULL;
}

/* Starts tracking topic name with last = last. NULL when out of memory or full. */
static s_topic_t *s_topic_add(s_stream_t *s, const char *name, uint64_t last)
{
    if (s->n_topics == s->cap_topics) {
        if (s->cap_topics >= NW_GAPS_TOPICS_MAX)
            return NULL;
        size_t cap = s->cap_topics ? s->cap_topics * 2 : 8;
        s_topic_t *topics = realloc(s->topics, cap * sizeof *topics);
        if (topics == NULL)
            return NULL;
        s->topics = topics;
        s->cap_topics = cap;
    }
    s_topic_t *t = &s->topics[s->n_topics];
    memset(t, 0, sizeof *t);
    if ((t->name = strdup(name)) == NULL)
        return NULL;
    t->last = last;
    s->n_topics++;
    return t;
}

/* Records first..last as missing, forgetting the oldest hole when the list is full. */
static void s_add_missing(s_topic_t *t, uint64_t first, uint64_t last)
{
    if (t->n_missing == NW_GAPS_RANGES_MAX) {
        memmove(&t->missing[0], &t->missing[1], (NW_GAPS_RANGES_MAX - 1) * sizeof t->missing[0]);
        t->n_missing--;
    }
    t->missing[t->n_missing++] = (nw_gaps_range_t){first, last};
}

/* Splits missing range i around seq (strictly inside it). When the list is full the
 * oldest hole is forgotten to make room: the lower part when i is the oldest. */
static void s_split(s_topic_t *t, size_t i, uint64_t seq)
{
    if (t->n_missing == NW_GAPS_RANGES_MAX) {
        if (i == 0) {
            t->missing[0].first = seq + 1;
            return;
        }
        memmove(&t->missing[0], &t->missing[1], (t->n_missing - 1) * sizeof t->missing[0]);
        t->n_missing--;
        i--;
    }
    nw_gaps_range_t *r = &t->missing[i];
    nw_gaps_range_t upper = {seq + 1, r->last};
    r->last = seq - 1;
    memmove(&t->missing[i + 2], &t->missing[i + 1], (t->n_missing - i - 1) * sizeof *r);
    t->missing[i + 1] = upper;
    t->n_missing++;
}

/* Removes seq from the missing ranges. Returns true when it was missing. */
static bool s_fill(s_topic_t *t, uint64_t seq)
{
    for (size_t i = 0; i < t->n_missing; i++) {
        nw_gaps_range_t *r = &t->missing[i];
        if (seq < r->first || seq > r->last)
            continue;
        if (r->first == r->last) {
            memmove(r, r + 1, (t->n_missing - i - 1) * sizeof *r);
            t->n_missing--;
        } else if (seq == r->first) {
            r->first++;
        } else if (seq == r->last) {
            r->last--;
        } else {
            s_split(t, i, seq);
        }
        return true;
    }
    return false;
}

nw_gaps_result_t nw_gaps_alert(nw_gaps_t *gaps, const char *stream, const char *topic,
                               uint64_t tseq, uint64_t gseq, int64_t now_ms)
{
    uint64_t seq = tseq;
    if (seq == 0)
        return NW_GAPS_FRESH;
    s_stream_t *s = s_stream_get(gaps, stream, now_ms);
    if (s == NULL)
        return NW_GAPS_FRESH;
    s_topic_t *t = s_topic_find(s, topic);
    if (t == NULL && (t = s_topic_add(s, topic, s->baselined ? 0 : seq - 1)) == NULL)
        return NW_GAPS_FRESH;
    if (seq > t->last) {
        if (seq > t->last + 1) {
            s_add_missing(t, t->last + 1, seq - 1);
            s_emit(gaps, (nw_gaps_event_t){.kind = NW_GAPS_MISSED,
                                           .stream = s->id,
                                           .topic = t->name,
                                           .first = t->last + 1,
                                           .last = seq - 1,
                                           .to_seq = gseq > 0 ? gseq - 1 : 0});
        }
        t->last = seq;
        return NW_GAPS_FRESH;
    }
    if (s_fill(t, seq)) {
        s_emit(gaps, (nw_gaps_event_t){.kind = NW_GAPS_LATE,
                                       .stream = s->id,
                                       .topic = t->name,
                                       .first = seq,
                                       .last = seq});
        return NW_GAPS_FILLED;
    }
    return NW_GAPS_OLD;
}

static void s_heartbeat_topic(nw_gaps_t *gaps, s_stream_t *s, const nw_alert_topic_t *ht,
                              uint64_t hb_seq)
{
    if (gaps->subscribed != NULL && !gaps->subscribed(ht->name, gaps->arg))
        return;
    s_topic_t *t = s_topic_find(s, ht->name);
    if (t == NULL) {
        /* Before the first heartbeat the numbers so far are the baseline; after it, a
         * topic absent from that heartbeat had sent nothing. */
        t = s_topic_add(s, ht->name, s->baselined ? 0 : ht->seq);
        if (t == NULL)
            return;
    }
    if (ht->seq > t->last) {
        s_add_missing(t, t->last + 1, ht->seq);
        s_emit(gaps, (nw_gaps_event_t){.kind = NW_GAPS_TAIL,
                                       .stream = s->id,
                                       .topic = t->name,
                                       .first = t->last + 1,
                                       .last = ht->seq,
                                       .to_seq = hb_seq});
        t->last = ht->seq;
    }
}

void nw_gaps_heartbeat(nw_gaps_t *gaps, const nw_heartbeat_t *hb, int64_t now_ms)
{
    s_stream_t *s = s_stream_get(gaps, hb->stream, now_ms);
    if (s == NULL)
        return;
    if (s->silent) {
        s->silent = false;
        s_emit(gaps, (nw_gaps_event_t){.kind = NW_GAPS_ALIVE,
                                       .stream = s->id,
                                       .silent_ms = now_ms - s->last_beat_ms});
    }
    s->last_beat_ms = now_ms;
    s->interval_ms = hb->interval_ms;
    for (size_t i = 0; i < hb->n_topics; i++)
        s_heartbeat_topic(gaps, s, &hb->topics[i], hb->seq);
    s->baselined = true;
}

/* A new stream whose previous stayed quiet since it appeared replaced it. */
static void s_check_replaced(nw_gaps_t *gaps, s_stream_t *s, int64_t now_ms)
{
    const s_stream_t *prev = s_stream_find(gaps, s->previous);
    int64_t quiet = prev != NULL && prev->interval_ms > 0
                        ? (int64_t)prev->interval_ms * NW_GAPS_REPLACE_BEATS
                        : NW_GAPS_REPLACE_MS;
    if (now_ms - s->appeared_ms > quiet)
        s_decide(gaps, s, NW_GAPS_STREAM_REPLACED);
}

void nw_gaps_tick(nw_gaps_t *gaps, int64_t now_ms)
{
    for (size_t i = 0; i < NW_GAPS_STREAMS_MAX; i++) {
        s_stream_t *s = &gaps->streams[i];
        if (s->id != NULL && s->previous != NULL)
            s_check_replaced(gaps, s, now_ms);
        if (s->id == NULL || s->last_beat_ms == 0 || s->interval_ms == 0 || s->silent)
            continue;
        int64_t quiet = now_ms - s->last_beat_ms;
        if (quiet > (int64_t)s->interval_ms * NW_GAPS_SILENT_BEATS) {
            s->silent = true;
            s_emit(gaps,
                   (nw_gaps_event_t){.kind = NW_GAPS_SILENT, .stream = s->id, .silent_ms = quiet});
        }
    }
}

size_t nw_gaps_missing(const nw_gaps_t *gaps, const char *stream, const char *topic,
                       nw_gaps_range_t *ranges, size_t max)
{
    const s_stream_t *s = s_stream_find(gaps, stream);
    const s_topic_t *t = s ? s_topic_find(s, topic) : NULL;
    if (t == NULL)
        return 0;
    for (size_t i = 0; i < t->n_missing && i < max; i++)
        ranges[i] = t->missing[i];
    return t->n_missing;
}

void nw_gaps_stats(const nw_gaps_t *gaps, uint64_t *gaps_out, uint64_t *missed_out)
{
    *gaps_out = gaps->gaps;
    *missed_out = gaps->missed;
}

const char *nw_gaps_count_text(uint64_t first, uint64_t last, char *buf, size_t len)
{
    uint64_t n = last >= first ? last - first + 1 : 0;
    snprintf(buf, len, "%" PRIu64 " alerts%s", n,
             n >= NW_GAPS_IMPLAUSIBLE
                 ? ", an implausible number: a forged or broken heartbeat or alert?"
                 : "");
    return buf;
}
