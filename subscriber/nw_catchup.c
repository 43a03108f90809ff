#include "nw_catchup.h"

#include "nw_gaps.h"

#include "nw_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_STREAM_MAX NW_REPLAY_STREAM_MAX

/* One queued live alert. */
typedef struct {
    nw_alert_t alert;             /* owned */
    char topic[NW_TOPIC_MAX + 1]; /* frame topic it came on */
    size_t bytes;                 /* what it holds in memory, about (s_alert_bytes) */
} s_item_t;

/* The per-topic seqs of a heartbeat, kept to be adopted once a replay covers it. */
typedef struct {
    uint64_t seq;             /* the heartbeat's global seq */
    nw_alert_topic_t *topics; /* copies of name and seq */
    size_t n_topics;
    bool valid; /* a heartbeat is held */
} s_beat_t;

/* One publisher stream followed. */
typedef struct {
    char id[S_STREAM_MAX + 1]; /* stream id, "" for a free slot */
    uint64_t heard;            /* c->clock when last heard of, to pick a slot to reuse */
    nw_catchup_phase_t phase;  /* see nw_catchup_phase_t */
    s_item_t *queue;           /* live alerts waiting, FIFO from head */
    size_t head, len, cap;     /* queue[head .. head+len) are used */
    size_t bytes;              /* their s_alert_bytes, summed */
    bool overflowed;           /* the queue filled during this replay: drop live alerts */
    bool again;                /* loss or overflow during the replay: one more pass */
    bool again_head;           /* a loss of unknown extent during the replay: the next
                                  pass goes up to the head */
    bool retry;                /* the last replay failed: ask again at the next heartbeat */
    bool held;                 /* ... and live alerts stay queued until then (phase
                                  REPLAYING, no replay running) */
    unsigned failures;         /* replays failed in a row (0 after one that ends ok) */
    bool look_back_running;    /* the replay in progress is the one-off range */
    bool went_live;            /* went live once already (no more look-back) */
    bool said_live;            /* "caught up" was reported (later ones are repairs) */
    uint64_t req;              /* number of the replay in progress */
    uint64_t replay_from;      /* its from_seq (0: look-back) */
    uint64_t replay_to;        /* its to_seq (0: up to the head) */
    uint64_t known;            /* highest seq known to exist (heartbeats, live alerts,
                                  gap reports): where another repair pass ends */
    s_beat_t beat_at_request;  /* the heartbeat before the replay was asked for */
    s_beat_t last_beat;        /* the latest heartbeat */
} s_stream_t;

struct nw_catchup_t {
    nw_catchup_opts_t opts;                     /* settings (pointers borrowed) */
    nw_catchup_callbacks_t cb;                  /* the caller */
    s_stream_t streams[NW_CATCHUP_STREAMS_MAX]; /* streams followed */
    uint64_t clock;                             /* counts messages, for s_stream_t.heard */
    uint64_t req;                               /* the last replay number given out */
    nw_catchup_stats_t stats;                   /* counters */
};

static void s_event(nw_catchup_t *c, const s_stream_t *st, nw_catchup_event_kind_t kind,
                    uint64_t first, uint64_t last, const char *why)
{
    if (c->cb.event == NULL)
        return;
    nw_catchup_event_t ev = {kind, st->id, first, last, why};
    c->cb.event(&ev, c->cb.arg);
}

/* --- heartbeat copies --------------------------------------------------------------------- */

static void s_beat_clear(s_beat_t *b)
{
    for (size_t i = 0; i < b->n_topics; i++)
        free(b->topics[i].name);
    free(b->topics);
    memset(b, 0, sizeof *b);
}

static int s_beat_copy(s_beat_t *dst, const nw_heartbeat_t *hb)
{
    s_beat_t b = {.seq = hb->seq, .valid = true};
    if (hb->n_topics > 0 && (b.topics = calloc(hb->n_topics, sizeof *b.topics)) == NULL)
        return NW_ERR_NOMEM;
    for (size_t i = 0; i < hb->n_topics; i++, b.n_topics++) {
        if ((b.topics[i].name = strdup(hb->topics[i].name)) == NULL) {
            s_beat_clear(&b);
            return NW_ERR_NOMEM;
        }
        b.topics[i].seq = hb->topics[i].seq;
    }
    s_beat_clear(dst);
    *dst = b;
    return NW_OK;
}

static int s_beat_dup(s_beat_t *dst, const s_beat_t *src)
{
    nw_heartbeat_t hb = {.seq = src->seq, .topics = src->topics, .n_topics = src->n_topics};
    if (!src->valid) {
        s_beat_clear(dst);
        return NW_OK;
    }
    return s_beat_copy(dst, &hb);
}

/* Takes a heartbeat's per-topic seqs as handled: everything up to its seq is. */
static void s_adopt(nw_catchup_t *c, const s_stream_t *st, const nw_alert_topic_t *topics, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nw_state_set_topic(c->opts.state, st->id, topics[i].name, topics[i].seq);
}

/* --- the queue ------------------------------------------------------------------------------ */

static void s_queue_clear(nw_catchup_t *c, s_stream_t *st)
{
    for (size_t i = 0; i < st->len; i++)
        nw_alert_clear(&st->queue[(st->head + i) % st->cap].alert);
    c->stats.queued -= st->len;
    st->head = st->len = st->bytes = 0;
}

static size_t s_len(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

/* About what a queued alert holds in memory: its strings, topics and the item itself. A
 * publisher that floods large alerts while a replay runs is bounded by these bytes, not
 * only by the count. */
static size_t s_alert_bytes(const nw_alert_t *a)
{
    size_t n = sizeof(s_item_t) + s_len(a->id) + s_len(a->article_id) + s_len(a->text) +
               s_len(a->title) + s_len(a->source) + s_len(a->author) + s_len(a->place) +
               s_len(a->section) + s_len(a->stream) + s_len(a->url);
    for (size_t i = 0; i < a->n_topics; i++)
        n += sizeof a->topics[i] + s_len(a->topics[i].name);
    return n;
}

static int s_queue_grow(s_stream_t *st)
{
    size_t cap = st->cap ? st->cap * 2 : 64;
    s_item_t *q = malloc(cap * sizeof *q);
    if (q == NULL)
        return NW_ERR_NOMEM;
    for (size_t i = 0; i < st->len; i++)
        q[i] = st->queue[(st->head + i) % st->cap];
    free(st->queue);
    st->queue = q;
    st->cap = cap;
    st->head = 0;
    return NW_OK;
}

/* Queues a live alert (taken over) of s_alert_bytes bytes at the back. */
static int s_queue_put(nw_catchup_t *c, s_stream_t *st, nw_alert_t *alert, const char *topic,
                       size_t bytes)
{
    if (st->len == st->cap && s_queue_grow(st) != NW_OK) {
        nw_alert_clear(alert);
        return NW_ERR_NOMEM;
    }
    s_item_t *it = &st->queue[(st->head + st->len) % st->cap];
    it->bytes = bytes;
    it->alert = *alert;
    memset(alert, 0, sizeof *alert);
    snprintf(it->topic, sizeof it->topic, "%s", topic);
    st->len++;
    st->bytes += it->bytes;
    c->stats.queued++;
    return NW_OK;
}

/* --- streams ------------------------------------------------------------------------------ */

static s_stream_t *s_find(nw_catchup_t *c, const char *id)
{
    for (size_t i = 0; i < NW_CATCHUP_STREAMS_MAX; i++) {
        if (c->streams[i].id[0] != '\0' && strcmp(c->streams[i].id, id) == 0)
            return &c->streams[i];
    }
    return NULL;
}

static void s_stream_free(nw_catchup_t *c, s_stream_t *st)
{
    s_queue_clear(c, st);
    free(st->queue);
    s_beat_clear(&st->beat_at_request);
    s_beat_clear(&st->last_beat);
    memset(st, 0, sizeof *st);
}

/* Finds stream id, or starts following it in a free slot (or the one heard of least
 * recently, whose replay is cancelled). NULL for an id that is no stream id. */
static s_stream_t *s_get(nw_catchup_t *c, const char *id)
{
    if (id == NULL || id[0] == '\0' || strlen(id) > S_STREAM_MAX)
        return NULL;
    s_stream_t *st = s_find(c, id);
    if (st == NULL) {
        st = &c->streams[0];
        for (size_t i = 0; i < NW_CATCHUP_STREAMS_MAX && st->id[0] != '\0'; i++) {
            if (c->streams[i].id[0] == '\0' || c->streams[i].heard < st->heard)
                st = &c->streams[i];
        }
        if (st->id[0] != '\0') {
            if (st->phase == NW_CATCHUP_REPLAYING)
                c->cb.request(st->id, NULL, c->cb.arg);
            c->stats.dropped += st->len;
            s_stream_free(c, st);
            c->stats.streams--;
        }
        snprintf(st->id, sizeof st->id, "%s", id);
        st->phase = NW_CATCHUP_WAITING;
        c->stats.streams++;
    }
    st->heard = ++c->clock;
    return st;
}

/* --- delivery ------------------------------------------------------------------------------- */

/* Delivers alert unless handled; marks it and records its per-topic seqs. */
static void s_offer(nw_catchup_t *c, const nw_alert_t *alert, const char *topic)
{
    if (nw_state_handled(c->opts.state, alert->stream, alert->seq)) {
        c->stats.duplicates++;
        return;
    }
    nw_state_mark(c->opts.state, alert->stream, alert->seq);
    for (size_t i = 0; i < alert->n_topics; i++)
        nw_state_set_topic(c->opts.state, alert->stream, alert->topics[i].name,
                           alert->topics[i].seq);
    c->stats.delivered++;
    c->cb.deliver(alert, topic, c->cb.arg);
}

/* Live again: drains the stream's queue while nothing starts another replay of it. Caught
 * up (announce: the replay succeeded, or none was needed) is reported as LIVE the first
 * time, REPAIRED after that; after a failed replay nothing is (FAILED said it). */
static void s_go_live(nw_catchup_t *c, s_stream_t *st, bool announce)
{
    st->phase = NW_CATCHUP_LIVE;
    if (announce)
        s_event(c, st, st->said_live ? NW_CATCHUP_EV_REPAIRED : NW_CATCHUP_EV_LIVE,
                nw_state_floor(c->opts.state, st->id), 0, NULL);
    st->said_live = st->said_live || announce;
    st->went_live = true;
    while (st->len > 0 && st->phase == NW_CATCHUP_LIVE) {
        s_item_t it = st->queue[st->head];
        st->head = (st->head + 1) % st->cap;
        st->len--;
        st->bytes -= it.bytes;
        c->stats.queued--;
        s_offer(c, &it.alert, it.topic);
        nw_alert_clear(&it.alert);
    }
}

/* --- replays --------------------------------------------------------------------------------- */

/* Sends rq (its range from..to, to 0: up to the head) and waits for its end. */
static void s_request(nw_catchup_t *c, s_stream_t *st, nw_replay_request_t *rq, uint64_t from,
                      uint64_t to)
{
    rq->req = st->req = ++c->req;
    snprintf(rq->stream, sizeof rq->stream, "%s", st->id);
    st->replay_from = from;
    st->replay_to = to;
    st->again = st->again_head = st->overflowed = st->retry = st->held = false;
    st->look_back_running = false;
    st->phase = NW_CATCHUP_REPLAYING;
    c->stats.replays++;
    s_beat_dup(&st->beat_at_request, &st->last_beat);
    s_event(c, st, NW_CATCHUP_EV_REPLAYING, from, to, NULL);
    c->cb.request(st->id, rq, c->cb.arg);
}

static void s_add_filters(const nw_catchup_t *c, nw_replay_request_t *rq)
{
    for (size_t i = 0; c->opts.filters != NULL && i < c->opts.filters->n_filters; i++)
        nw_replay_request_add_filter(rq, c->opts.filters->filters[i]);
}

/* Asks for the alerts from..to (to 0: up to the head) that match the filters. Requires
 * to == 0 or to >= from. */
static void s_start_replay(nw_catchup_t *c, s_stream_t *st, uint64_t from, uint64_t to)
{
    nw_replay_request_t rq;
    nw_replay_request_init(&rq);
    s_add_filters(c, &rq);
    rq.start = NW_REPLAY_FROM_SEQ;
    rq.from_seq = from;
    rq.has_to_seq = to > 0;
    rq.to_seq = to;
    s_request(c, st, &rq, from, to);
}

/* Repairs a loss: asks for floor + 1 .. to (to 0: up to the head). floor + 1 is where the
 * first hole starts: nw_state folds the handled ranges that touch the floor into it, so
 * floor + 1 is never handled. Holes between it and to (and the alerts handled around them)
 * come in this one request; what is handled already is dropped as a duplicate. Returns
 * false, asking nothing, when the range is empty (to <= floor: all of it is handled). */
static bool s_repair(nw_catchup_t *c, s_stream_t *st, uint64_t to)
{
    uint64_t from = nw_state_floor(c->opts.state, st->id) + 1;
    if (to > 0 && to < from)
        return false;
    s_start_replay(c, st, from, to);
    return true;
}

static void s_start_look_back(nw_catchup_t *c, s_stream_t *st)
{
    nw_replay_request_t rq = *c->opts.look_back;
    s_add_filters(c, &rq);
    s_request(c, st, &rq, rq.start == NW_REPLAY_FROM_SEQ ? rq.from_seq : 0, 0);
    st->look_back_running = true;
}

/* The floor for a new stream taken "now": the heartbeat, or just before the first live
 * alert of it already queued, so what arrived with the heartbeat is not lost. */
static uint64_t s_now_floor(const s_stream_t *st, const nw_heartbeat_t *hb)
{
    uint64_t floor = hb->seq;
    for (size_t i = 0; i < st->len; i++) {
        const nw_alert_t *a = &st->queue[(st->head + i) % st->cap].alert;
        if (a->seq > 0 && a->seq - 1 < floor)
            floor = a->seq - 1;
    }
    return floor;
}

/* The first heartbeat of a stream: run the look-back, resume it, or start it. */
static void s_start_stream(nw_catchup_t *c, s_stream_t *st, const nw_heartbeat_t *hb)
{
    nw_state_t *state = c->opts.state;
    const nw_replay_request_t *lb = c->opts.look_back;
    if (lb != NULL && !st->went_live) {
        nw_state_use(state, st->id,
                     lb->start == NW_REPLAY_FROM_SEQ && lb->from_seq > 0 ? lb->from_seq - 1 : 0);
        s_start_look_back(c, st);
        return;
    }
    if (nw_state_has_stream(state, st->id)) {
        nw_state_use(state, st->id, 0);
        uint64_t floor = nw_state_floor(state, st->id);
        if (floor > hb->seq) {
            s_event(c, st, NW_CATCHUP_EV_BEHIND, hb->seq, floor, NULL);
            nw_state_set_floor(state, st->id, hb->seq);
            floor = hb->seq;
        }
        if (floor < hb->seq)
            s_start_replay(c, st, floor + 1, 0);
        else
            s_go_live(c, st, true);
        return;
    }
    s_event(c, st, NW_CATCHUP_EV_NEW_STREAM, hb->seq, 0, NULL);
    if (c->opts.on_new_stream == NW_CATCHUP_BEGINNING) {
        nw_state_use(state, st->id, 0);
        s_start_replay(c, st, 1, 0);
        return;
    }
    nw_state_use(state, st->id, s_now_floor(st, hb));
    s_adopt(c, st, hb->topics, hb->n_topics);
    s_go_live(c, st, true);
}

/* Report-only mode: a stream is taken from the first alert or heartbeat heard of it. */
static void s_report_only_start(nw_catchup_t *c, s_stream_t *st, uint64_t floor)
{
    if (!nw_state_has_stream(c->opts.state, st->id))
        nw_state_use(c->opts.state, st->id, floor);
    st->phase = NW_CATCHUP_LIVE;
    st->went_live = true;
}

/* A heartbeat of a stream that is live: the publisher's head is behind us, or (clean: the
 * loss detector found nothing, or the repair it started is over) the floor rises to it. */
static void s_live_heartbeat(nw_catchup_t *c, s_stream_t *st, const nw_heartbeat_t *hb)
{
    s_beat_copy(&st->last_beat, hb);
    uint64_t floor = nw_state_floor(c->opts.state, st->id);
    if (floor > hb->seq) {
        s_event(c, st, NW_CATCHUP_EV_BEHIND, hb->seq, floor, NULL);
        nw_state_set_floor(c->opts.state, st->id, hb->seq);
        return;
    }
    /* A failed replay is asked again now: a catch-up at start (to the head) whole, a repair
     * up to this heartbeat (everything up to it is journaled; later alerts come live). */
    if (st->retry && s_repair(c, st, st->replay_to == 0 ? 0 : hb->seq))
        return;
    st->retry = false; /* an empty range: all of it is at or below the floor */
    /* Clean: every alert up to hb->seq came before it on the wire and none was missing. */
    nw_state_set_floor(c->opts.state, st->id, hb->seq);
    s_adopt(c, st, hb->topics, hb->n_topics);
}

/* The heartbeat after a failed replay that holds the stream's live alerts: ask again, a
 * catch-up at start (to the head) whole, a repair up to the highest seq known (every alert
 * queued or lost meanwhile is at or below it). An empty range (all of it at or below the
 * floor) has nothing to wait for: live. */
static void s_retry_held(nw_catchup_t *c, s_stream_t *st)
{
    if (!s_repair(c, st, st->replay_to == 0 || st->again_head ? 0 : st->known)) {
        st->retry = st->held = false;
        s_go_live(c, st, false);
    }
}

void nw_catchup_heartbeat(nw_catchup_t *c, const nw_heartbeat_t *hb)
{
    s_stream_t *st = s_get(c, hb->stream);
    if (st == NULL)
        return;
    if (hb->seq > st->known)
        st->known = hb->seq;
    if (st->phase == NW_CATCHUP_WAITING && c->opts.repair) {
        s_beat_copy(&st->last_beat, hb);
        s_start_stream(c, st, hb);
        return;
    }
    if (st->phase == NW_CATCHUP_WAITING)
        s_report_only_start(c, st, hb->seq);
    if (st->held) {
        s_beat_copy(&st->last_beat, hb);
        s_retry_held(c, st);
        if (st->phase == NW_CATCHUP_REPLAYING)
            return;
    }
    if (st->phase == NW_CATCHUP_REPLAYING)
        return; /* its end decides; the heartbeat it started from is kept */
    s_live_heartbeat(c, st, hb);
}

int nw_catchup_live(nw_catchup_t *c, nw_alert_t *alert, const char *topic)
{
    s_stream_t *st = alert->seq > 0 ? s_get(c, alert->stream) : NULL;
    if (st == NULL) {
        c->stats.delivered++; /* not numbered: nothing to merge or deduplicate by */
        c->cb.deliver(alert, topic, c->cb.arg);
        nw_alert_clear(alert);
        return NW_OK;
    }
    /* Unfiltered, the seqs between the highest known and this one were lost (on whatever
     * topics): repair them first, so this alert is queued behind the repair. */
    if (c->opts.every_topic && alert->seq > st->known + 1)
        nw_catchup_gap(c, st->id, alert->seq - 1);
    if (alert->seq > st->known)
        st->known = alert->seq; /* also when it is dropped: another pass fetches it */
    if (st->phase == NW_CATCHUP_WAITING && !c->opts.repair)
        s_report_only_start(c, st, alert->seq - 1);
    if (st->phase == NW_CATCHUP_LIVE) {
        s_offer(c, alert, topic);
        nw_alert_clear(alert);
        return NW_OK;
    }
    if (st->overflowed) {
        c->stats.dropped++;
        nw_alert_clear(alert);
        return NW_OK;
    }
    size_t bytes = s_alert_bytes(alert);
    if (st->len >= c->opts.queue_max || st->bytes + bytes > c->opts.queue_bytes) {
        size_t held = st->len + 1;
        c->stats.dropped += held;
        s_queue_clear(c, st);
        nw_alert_clear(alert);
        st->overflowed = st->again = true;
        s_event(c, st, NW_CATCHUP_EV_OVERFLOW, held, 0, NULL);
        return NW_OK;
    }
    return s_queue_put(c, st, alert, topic, bytes);
}

void nw_catchup_replayed(nw_catchup_t *c, const nw_alert_t *alert, const char *topic)
{
    s_stream_t *st = s_find(c, alert->stream);
    if (st == NULL || st->phase != NW_CATCHUP_REPLAYING || st->held) {
        c->stats.dropped++;
        return;
    }
    s_offer(c, alert, topic);
}

static void s_replay_ok(nw_catchup_t *c, s_stream_t *st, const nw_replay_end_t *end)
{
    nw_state_t *state = c->opts.state;
    st->failures = 0;
    if (st->replay_from > 0 && end->oldest > st->replay_from) {
        uint64_t gone = end->oldest - 1;
        if (st->replay_to > 0 && gone > st->replay_to)
            gone = st->replay_to;
        s_event(c, st, NW_CATCHUP_EV_LOST, st->replay_from, gone, NULL);
    }
    uint64_t covered = end->next_seq > 0 ? end->next_seq - 1 : 0;
    /* An answer never vouches for more than its own head, nor for an implausible distance
     * past what the stream has shown (the publisher may be a little ahead of its last
     * heartbeat): a rogue replay server's next_seq 2^64-1 must not skip the stream. */
    if (covered > end->head)
        covered = end->head;
    if (covered > st->known && covered - st->known >= NW_GAPS_IMPLAUSIBLE)
        covered = st->known;
    if (covered > nw_state_floor(state, st->id))
        nw_state_set_floor(state, st->id, covered);
    /* Everything up to the heartbeat the replay started from is now handled. */
    if (st->beat_at_request.valid && covered >= st->beat_at_request.seq)
        s_adopt(c, st, st->beat_at_request.topics, st->beat_at_request.n_topics);
    /* One more pass: a catch-up to the head stays one; a repair ends at the highest seq
     * known now (every alert dropped or reported missing meanwhile is at or below it). */
    if (st->again && s_repair(c, st, st->replay_to == 0 || st->again_head ? 0 : st->known))
        return;
    s_go_live(c, st, true);
}

/* The running replay of stream, or NULL when stream is not replaying. */
static s_stream_t *s_replaying(nw_catchup_t *c, const char *stream)
{
    s_stream_t *st = stream ? s_find(c, stream) : NULL;
    return st != NULL && st->phase == NW_CATCHUP_REPLAYING && !st->held ? st : NULL;
}

void nw_catchup_replay_end(nw_catchup_t *c, const char *stream, const nw_replay_end_t *end)
{
    s_stream_t *st = s_replaying(c, stream);
    if (st == NULL || end->req != st->req)
        return; /* a cancelled or stale answer */
    if (end->status == NW_REPLAY_MORE && (st->replay_to == 0 || end->next_seq <= st->replay_to)) {
        s_start_replay(c, st, end->next_seq, st->replay_to); /* a client that does not follow
                                                                "more" itself */
        return;
    }
    if (end->status == NW_REPLAY_MORE || end->status == NW_REPLAY_OK) {
        s_replay_ok(c, st, end); /* "more" past to_seq: the range is done */
        return;
    }
    if (strstr(end->error, "stream mismatch") != NULL) {
        /* The endpoint serves a new journal now: wait for this stream's own heartbeat. */
        c->stats.dropped += st->len;
        s_queue_clear(c, st);
        st->phase = NW_CATCHUP_WAITING;
        return;
    }
    nw_catchup_replay_failed(c, stream, end->error);
}

void nw_catchup_replay_failed(nw_catchup_t *c, const char *stream, const char *why)
{
    s_stream_t *st = s_replaying(c, stream);
    if (st == NULL)
        return;
    s_event(c, st, NW_CATCHUP_EV_FAILED, st->replay_from, 0, why);
    if (st->look_back_running) {
        /* A one-off look-back is not retried: go on from the heartbeat it started at. */
        if (st->beat_at_request.valid &&
            st->beat_at_request.seq > nw_state_floor(c->opts.state, st->id)) {
            nw_state_set_floor(c->opts.state, st->id, st->beat_at_request.seq);
            s_adopt(c, st, st->beat_at_request.topics, st->beat_at_request.n_topics);
        }
    } else {
        st->retry = true;
        /* Delivering the queue now would show it before the alerts the replay still owed
         * (they would come late, at the retry): hold it for the retry, unless the replays
         * keep failing (then live delivery goes on, and what is owed comes late). */
        if (++st->failures < NW_CATCHUP_HOLD_FAILS) {
            st->held = true;
            st->req = 0; /* no replay runs: any answer now is stale */
            return;
        }
    }
    s_go_live(c, st, false);
}

void nw_catchup_gap(nw_catchup_t *c, const char *stream, uint64_t to_seq)
{
    s_stream_t *st = c->opts.repair ? s_find(c, stream) : NULL;
    if (st == NULL)
        return;
    if (to_seq > st->known)
        st->known = to_seq;
    if (st->phase == NW_CATCHUP_REPLAYING) {
        /* A bounded replay running over the range brings it all from the journal. */
        if (to_seq == 0 || st->replay_to == 0 || to_seq > st->replay_to) {
            st->again = true;
            st->again_head = st->again_head || to_seq == 0;
        }
    } else if (st->phase == NW_CATCHUP_LIVE && !st->retry) {
        /* After a failed replay the repair waits for the next heartbeat (no hammering). */
        s_repair(c, st, to_seq);
    }
}

nw_catchup_phase_t nw_catchup_phase(const nw_catchup_t *c, const char *stream)
{
    const s_stream_t *st = s_find((nw_catchup_t *)c, stream);
    return st != NULL ? st->phase : NW_CATCHUP_WAITING;
}

void nw_catchup_stats(const nw_catchup_t *c, nw_catchup_stats_t *stats)
{
    *stats = c->stats;
}

int nw_catchup_new(const nw_catchup_opts_t *opts, const nw_catchup_callbacks_t *cb,
                   nw_catchup_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (opts == NULL || opts->state == NULL || cb == NULL || cb->deliver == NULL ||
        cb->request == NULL || out == NULL)
        return NW_ERR_INVAL;
    nw_catchup_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NW_ERR_NOMEM;
    c->opts = *opts;
    c->opts.queue_max = opts->queue_max ? opts->queue_max : NW_CATCHUP_QUEUE_DEFAULT;
    c->opts.queue_bytes = opts->queue_bytes ? opts->queue_bytes : NW_CATCHUP_QUEUE_BYTES;
    c->cb = *cb;
    *out = c;
    return NW_OK;
}

void nw_catchup_destroy(nw_catchup_t **cp)
{
    if (cp == NULL || *cp == NULL)
        return;
    nw_catchup_t *c = *cp;
    for (size_t i = 0; i < NW_CATCHUP_STREAMS_MAX; i++)
        s_stream_free(c, &c->streams[i]);
    free(c);
    *cp = NULL;
}
