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
} s_item_t;

/* The per-topic seqs of a heartbeat, kept to be adopted once a replay covers it. */
typedef struct {
    uint64_t seq;             /* the heartbeat's global seq */
    nw_alert_topic_t *topics; /* copies of name and seq */
    size_t n_topics;
    bool valid; /* a heartbeat is held */
} s_beat_t;

struct nw_catchup_t {
    nw_catchup_opts_t opts;     /* settings (pointers borrowed) */
    nw_catchup_callbacks_t cb;  /* the caller */
    nw_catchup_phase_t phase;   /* see nw_catchup_phase_t */
    char cur[S_STREAM_MAX + 1]; /* the stream followed, "" before the first heartbeat */
    s_item_t *queue;            /* live alerts waiting, FIFO from head */
    size_t head, len, cap;      /* queue[head .. head+len) are used */
    bool overflowed;            /* the queue filled during this replay: drop live alerts */
    bool again;                 /* loss or overflow during the replay: one more pass */
    bool retry;                 /* the last replay failed: ask again at the next heartbeat */
    bool look_back_pending;     /* the one-off range is still to be asked for */
    bool look_back_running;     /* the replay in progress is the one-off range */
    uint64_t req;               /* number of the replay in progress */
    uint64_t replay_from;       /* its from_seq (0: look-back) */
    uint64_t replay_to;         /* its to_seq (0: up to the head) */
    uint64_t known;             /* highest seq of cur known to exist (heartbeats, live alerts,
                                   gap reports): where another repair pass ends */
    bool again_head;            /* a loss of unknown extent during the replay: the next
                                   pass goes up to the head */
    s_beat_t beat_at_request;   /* the heartbeat before the replay was asked for */
    s_beat_t last_beat;         /* the latest heartbeat of cur */
    nw_catchup_stats_t stats;   /* counters */
};

static void s_event(nw_catchup_t *c, nw_catchup_event_kind_t kind, const char *topic,
                    uint64_t first, uint64_t last, const char *why)
{
    if (c->cb.event == NULL)
        return;
    nw_catchup_event_t ev = {kind, c->cur, topic, first, last, why};
    c->cb.event(&ev, c->cb.arg);
}

static bool s_subscribed(const nw_catchup_t *c, const char *topic)
{
    return c->opts.filters == NULL || nw_replay_request_matches(c->opts.filters, topic);
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
static void s_adopt(nw_catchup_t *c, const nw_alert_topic_t *topics, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nw_state_set_topic(c->opts.state, c->cur, topics[i].name, topics[i].seq);
}

/* --- the queue ------------------------------------------------------------------------------ */

static void s_queue_clear(nw_catchup_t *c)
{
    for (size_t i = 0; i < c->len; i++)
        nw_alert_clear(&c->queue[(c->head + i) % c->cap].alert);
    c->head = c->len = 0;
    c->stats.queued = 0;
}

static int s_queue_grow(nw_catchup_t *c)
{
    size_t cap = c->cap ? c->cap * 2 : 64;
    s_item_t *q = malloc(cap * sizeof *q);
    if (q == NULL)
        return NW_ERR_NOMEM;
    for (size_t i = 0; i < c->len; i++)
        q[i] = c->queue[(c->head + i) % c->cap];
    free(c->queue);
    c->queue = q;
    c->cap = cap;
    c->head = 0;
    return NW_OK;
}

/* Queues a live alert (taken over) at the back, or at the front to put it back. */
static int s_queue_put(nw_catchup_t *c, nw_alert_t *alert, const char *topic, bool front)
{
    if (c->len == c->cap && s_queue_grow(c) != NW_OK) {
        nw_alert_clear(alert);
        return NW_ERR_NOMEM;
    }
    size_t at = front ? (c->head + c->cap - 1) % c->cap : (c->head + c->len) % c->cap;
    if (front)
        c->head = at;
    s_item_t *it = &c->queue[at];
    it->alert = *alert;
    memset(alert, 0, sizeof *alert);
    snprintf(it->topic, sizeof it->topic, "%s", topic);
    c->len++;
    c->stats.queued = c->len;
    return NW_OK;
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

/* Returns the index of a subscribed topic of alert whose seq jumps past what was handled
 * (a loss), or -1. */
static int s_jump(const nw_catchup_t *c, const nw_alert_t *alert)
{
    for (size_t i = 0; i < alert->n_topics; i++) {
        const nw_alert_topic_t *t = &alert->topics[i];
        if (s_subscribed(c, t->name) &&
            t->seq > nw_state_topic(c->opts.state, alert->stream, t->name) + 1)
            return (int)i;
    }
    return -1;
}

static bool s_repair(nw_catchup_t *c, uint64_t to);

/* Handles a live alert while LIVE: deliver, or notice a loss and repair it first. */
static void s_live_one(nw_catchup_t *c, nw_alert_t *alert, const char *topic)
{
    if (strcmp(alert->stream, c->cur) != 0) {
        c->stats.dropped++; /* a stream left behind */
        nw_alert_clear(alert);
        return;
    }
    if (nw_state_handled(c->opts.state, c->cur, alert->seq)) {
        c->stats.duplicates++;
        nw_alert_clear(alert);
        return;
    }
    /* After a failed replay the repair waits for the next heartbeat (no hammering). A jump
     * whose missing alerts all lie at or below the floor (handled, or given up) is none. */
    uint64_t floor = nw_state_floor(c->opts.state, c->cur);
    int j = c->retry || alert->seq <= floor + 1 ? -1 : s_jump(c, alert);
    if (j >= 0) {
        const nw_alert_topic_t *t = &alert->topics[j];
        s_event(c, NW_CATCHUP_EV_GAP, t->name, nw_state_topic(c->opts.state, c->cur, t->name) + 1,
                t->seq - 1, NULL);
        char tcopy[NW_TOPIC_MAX + 1];
        snprintf(tcopy, sizeof tcopy, "%s", topic);
        uint64_t to = alert->seq - 1;       /* the missing alerts came before it */
        s_queue_put(c, alert, tcopy, true); /* it comes after what the repair brings */
        s_repair(c, to);                    /* to >= floor + 1: never empty */
        return;
    }
    s_offer(c, alert, topic);
    nw_alert_clear(alert);
}

/* Caught up: drains the queue while nothing starts another replay. */
static void s_go_live(nw_catchup_t *c)
{
    c->phase = NW_CATCHUP_LIVE;
    s_event(c, NW_CATCHUP_EV_LIVE, NULL, nw_state_floor(c->opts.state, c->cur), 0, NULL);
    while (c->len > 0 && c->phase == NW_CATCHUP_LIVE) {
        s_item_t it = c->queue[c->head];
        c->head = (c->head + 1) % c->cap;
        c->len--;
        c->stats.queued = c->len;
        s_live_one(c, &it.alert, it.topic);
    }
}

/* --- replays --------------------------------------------------------------------------------- */

/* Sends rq (its range from..to, to 0: up to the head) and waits for its end. */
static void s_request(nw_catchup_t *c, nw_replay_request_t *rq, uint64_t from, uint64_t to)
{
    rq->req = ++c->req;
    snprintf(rq->stream, sizeof rq->stream, "%s", c->cur);
    c->replay_from = from;
    c->replay_to = to;
    c->again = false;
    c->again_head = false;
    c->overflowed = false;
    c->retry = false;
    c->look_back_running = false;
    c->phase = NW_CATCHUP_REPLAYING;
    c->stats.replays++;
    s_beat_dup(&c->beat_at_request, &c->last_beat);
    s_event(c, NW_CATCHUP_EV_REPLAYING, NULL, from, to, NULL);
    c->cb.request(rq, c->cb.arg);
}

/* Asks for the alerts from..to (to 0: up to the head) that match the filters. Requires
 * to == 0 or to >= from. */
static void s_start_replay(nw_catchup_t *c, uint64_t from, uint64_t to)
{
    nw_replay_request_t rq;
    nw_replay_request_init(&rq);
    if (c->opts.filters != NULL) {
        for (size_t i = 0; i < c->opts.filters->n_filters; i++)
            nw_replay_request_add_filter(&rq, c->opts.filters->filters[i]);
    }
    rq.start = NW_REPLAY_FROM_SEQ;
    rq.from_seq = from;
    rq.has_to_seq = to > 0;
    rq.to_seq = to;
    s_request(c, &rq, from, to);
}

/* Repairs a loss: asks for floor + 1 .. to (to 0: up to the head). floor + 1 is where the
 * first hole starts: nw_state folds the handled ranges that touch the floor into it, so
 * floor + 1 is never handled. Holes between it and to (and the alerts handled around them)
 * come in this one request; what is handled already is dropped as a duplicate. Returns
 * false, asking nothing, when the range is empty (to <= floor: all of it is handled). */
static bool s_repair(nw_catchup_t *c, uint64_t to)
{
    uint64_t from = nw_state_floor(c->opts.state, c->cur) + 1;
    if (to > 0 && to < from)
        return false;
    s_start_replay(c, from, to);
    return true;
}

static void s_start_look_back(nw_catchup_t *c)
{
    nw_replay_request_t rq = *c->opts.look_back;
    if (c->opts.filters != NULL) {
        for (size_t i = 0; i < c->opts.filters->n_filters; i++)
            nw_replay_request_add_filter(&rq, c->opts.filters->filters[i]);
    }
    c->look_back_pending = false;
    s_request(c, &rq, rq.start == NW_REPLAY_FROM_SEQ ? rq.from_seq : 0, 0);
    c->look_back_running = true;
}

/* The floor for a new stream taken "now": the heartbeat, or just before the first live
 * alert of it already queued, so what arrived with the heartbeat is not lost. */
static uint64_t s_now_floor(const nw_catchup_t *c, const nw_heartbeat_t *hb)
{
    uint64_t floor = hb->seq;
    for (size_t i = 0; i < c->len; i++) {
        const nw_alert_t *a = &c->queue[(c->head + i) % c->cap].alert;
        if (strcmp(a->stream, hb->stream) == 0 && a->seq > 0 && a->seq - 1 < floor)
            floor = a->seq - 1;
    }
    return floor;
}

/* The first heartbeat of a stream: resume it, start it, or run the look-back. */
static void s_start_stream(nw_catchup_t *c, const nw_heartbeat_t *hb)
{
    nw_state_t *st = c->opts.state;
    snprintf(c->cur, sizeof c->cur, "%s", hb->stream);
    if (c->look_back_pending) {
        const nw_replay_request_t *lb = c->opts.look_back;
        nw_state_use(st, c->cur,
                     lb->start == NW_REPLAY_FROM_SEQ && lb->from_seq > 0 ? lb->from_seq - 1 : 0);
        s_start_look_back(c);
        return;
    }
    if (nw_state_has_stream(st, c->cur)) {
        nw_state_use(st, c->cur, 0);
        uint64_t floor = nw_state_floor(st, c->cur);
        if (floor > hb->seq) {
            s_event(c, NW_CATCHUP_EV_BEHIND, NULL, hb->seq, floor, NULL);
            nw_state_set_floor(st, c->cur, hb->seq);
            floor = hb->seq;
        }
        if (floor < hb->seq)
            s_start_replay(c, floor + 1, 0);
        else
            s_go_live(c);
        return;
    }
    s_event(c, NW_CATCHUP_EV_NEW_STREAM, NULL, hb->seq, 0, NULL);
    if (c->opts.on_new_stream == NW_CATCHUP_BEGINNING) {
        nw_state_use(st, c->cur, 0);
        s_start_replay(c, 1, 0);
        return;
    }
    nw_state_use(st, c->cur, s_now_floor(c, hb));
    s_adopt(c, hb->topics, hb->n_topics);
    s_go_live(c);
}

/* Returns true when a heartbeat shows a subscribed topic past what was handled. */
static bool s_tail_loss(nw_catchup_t *c, const nw_heartbeat_t *hb)
{
    for (size_t i = 0; i < hb->n_topics; i++) {
        const nw_alert_topic_t *t = &hb->topics[i];
        uint64_t have = nw_state_topic(c->opts.state, c->cur, t->name);
        if (s_subscribed(c, t->name) && t->seq > have) {
            s_event(c, NW_CATCHUP_EV_GAP, t->name, have + 1, t->seq, NULL);
            return true;
        }
    }
    return false;
}

void nw_catchup_heartbeat(nw_catchup_t *c, const nw_heartbeat_t *hb)
{
    bool other = c->cur[0] != '\0' && strcmp(hb->stream, c->cur) != 0;
    if (other && c->phase == NW_CATCHUP_REPLAYING)
        c->cb.request(NULL, c->cb.arg);
    if (c->phase == NW_CATCHUP_WAITING || other) {
        s_beat_copy(&c->last_beat, hb);
        c->known = hb->seq;
        s_start_stream(c, hb);
        return;
    }
    if (hb->seq > c->known)
        c->known = hb->seq;
    if (c->phase == NW_CATCHUP_REPLAYING)
        return; /* its end decides; the heartbeat it started from is kept */
    s_beat_copy(&c->last_beat, hb);
    uint64_t floor = nw_state_floor(c->opts.state, c->cur);
    if (floor > hb->seq) {
        s_event(c, NW_CATCHUP_EV_BEHIND, NULL, hb->seq, floor, NULL);
        nw_state_set_floor(c->opts.state, c->cur, hb->seq);
        return;
    }
    /* Everything up to hb->seq is journaled and every later alert comes live: a repair
     * ends there. A failed catch-up at start (to the head) is asked again whole. */
    uint64_t to = hb->seq;
    if (c->retry && c->replay_to == 0)
        to = 0;
    else if (c->retry && c->replay_to > to)
        to = c->replay_to;
    if ((c->retry || s_tail_loss(c, hb)) && s_repair(c, to))
        return;
    c->retry = false; /* an empty range: all of it is at or below the floor */
    /* Clean: every alert up to hb->seq came before it on the wire and none was missing. */
    nw_state_set_floor(c->opts.state, c->cur, hb->seq);
    s_adopt(c, hb->topics, hb->n_topics);
}

int nw_catchup_live(nw_catchup_t *c, nw_alert_t *alert, const char *topic)
{
    if (alert->seq > c->known && strcmp(alert->stream, c->cur) == 0)
        c->known = alert->seq; /* also when it is dropped: another pass fetches it */
    if (c->phase == NW_CATCHUP_LIVE && strcmp(alert->stream, c->cur) != 0)
        c->phase = NW_CATCHUP_WAITING; /* another stream: wait for its heartbeat */
    if (c->phase == NW_CATCHUP_LIVE) {
        s_live_one(c, alert, topic);
        return NW_OK;
    }
    if (c->overflowed) {
        c->stats.dropped++;
        nw_alert_clear(alert);
        return NW_OK;
    }
    if (c->len >= c->opts.queue_max) {
        c->stats.dropped += c->len + 1;
        s_queue_clear(c);
        nw_alert_clear(alert);
        c->overflowed = true;
        c->again = true;
        s_event(c, NW_CATCHUP_EV_OVERFLOW, NULL, c->opts.queue_max, 0, NULL);
        return NW_OK;
    }
    return s_queue_put(c, alert, topic, false);
}

void nw_catchup_replayed(nw_catchup_t *c, const nw_alert_t *alert, const char *topic)
{
    if (c->phase != NW_CATCHUP_REPLAYING || strcmp(alert->stream, c->cur) != 0) {
        c->stats.dropped++;
        return;
    }
    s_offer(c, alert, topic);
}

static void s_replay_ok(nw_catchup_t *c, const nw_replay_end_t *end)
{
    nw_state_t *st = c->opts.state;
    if (c->replay_from > 0 && end->oldest > c->replay_from) {
        uint64_t gone = end->oldest - 1;
        if (c->replay_to > 0 && gone > c->replay_to)
            gone = c->replay_to;
        s_event(c, NW_CATCHUP_EV_LOST, NULL, c->replay_from, gone, NULL);
    }
    uint64_t covered = end->next_seq > 0 ? end->next_seq - 1 : 0;
    /* An answer never vouches for more than its own head, nor for an implausible distance
     * past what the stream has shown (the publisher may be a little ahead of its last
     * heartbeat): a rogue replay server's next_seq 2^64-1 must not skip the stream. */
    if (covered > end->head)
        covered = end->head;
    if (covered > c->known && covered - c->known >= NW_GAPS_IMPLAUSIBLE)
        covered = c->known;
    if (covered > nw_state_floor(st, c->cur))
        nw_state_set_floor(st, c->cur, covered);
    /* Everything up to the heartbeat the replay started from is now handled. */
    if (c->beat_at_request.valid && covered >= c->beat_at_request.seq)
        s_adopt(c, c->beat_at_request.topics, c->beat_at_request.n_topics);
    /* One more pass: a catch-up to the head stays one; a repair ends at the highest seq
     * known now (every alert dropped or reported missing meanwhile is at or below it). */
    if (c->again && s_repair(c, c->replay_to == 0 || c->again_head ? 0 : c->known))
        return;
    s_go_live(c);
}

void nw_catchup_replay_end(nw_catchup_t *c, const nw_replay_end_t *end)
{
    if (c->phase != NW_CATCHUP_REPLAYING || end->req != c->req)
        return; /* a cancelled or stale answer */
    if (end->status == NW_REPLAY_MORE && (c->replay_to == 0 || end->next_seq <= c->replay_to)) {
        /* a client that does not follow "more" itself */
        s_start_replay(c, end->next_seq, c->replay_to);
        return;
    }
    if (end->status == NW_REPLAY_MORE) {
        s_replay_ok(c, end); /* past to_seq: the range is done */
        return;
    }
    if (end->status == NW_REPLAY_OK) {
        s_replay_ok(c, end);
        return;
    }
    if (strstr(end->error, "stream mismatch") != NULL) {
        /* The publisher restarted on a new journal meanwhile: its heartbeat will say so. */
        c->phase = NW_CATCHUP_WAITING;
        c->cur[0] = '\0';
        return;
    }
    nw_catchup_replay_failed(c, end->error);
}

void nw_catchup_replay_failed(nw_catchup_t *c, const char *why)
{
    if (c->phase != NW_CATCHUP_REPLAYING)
        return;
    s_event(c, NW_CATCHUP_EV_FAILED, NULL, c->replay_from, 0, why);
    if (c->look_back_running) {
        /* A one-off look-back is not retried: go on from the heartbeat it started at. */
        if (c->beat_at_request.valid &&
            c->beat_at_request.seq > nw_state_floor(c->opts.state, c->cur)) {
            nw_state_set_floor(c->opts.state, c->cur, c->beat_at_request.seq);
            s_adopt(c, c->beat_at_request.topics, c->beat_at_request.n_topics);
        }
    } else {
        c->retry = true;
    }
    s_go_live(c);
}

void nw_catchup_gap(nw_catchup_t *c, const char *stream, uint64_t to_seq)
{
    if (strcmp(stream, c->cur) != 0)
        return;
    if (to_seq > c->known)
        c->known = to_seq;
    if (c->phase == NW_CATCHUP_REPLAYING) {
        /* A bounded replay running over the range brings it all from the journal. */
        if (to_seq == 0 || c->replay_to == 0 || to_seq > c->replay_to) {
            c->again = true;
            c->again_head = c->again_head || to_seq == 0;
        }
    } else if (c->phase == NW_CATCHUP_LIVE) {
        s_repair(c, to_seq);
    }
}

nw_catchup_phase_t nw_catchup_phase(const nw_catchup_t *c)
{
    return c->phase;
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
    c->cb = *cb;
    c->phase = NW_CATCHUP_WAITING;
    c->look_back_pending = opts->look_back != NULL;
    *out = c;
    return NW_OK;
}

void nw_catchup_destroy(nw_catchup_t **cp)
{
    if (cp == NULL || *cp == NULL)
        return;
    nw_catchup_t *c = *cp;
    s_queue_clear(c);
    free(c->queue);
    s_beat_clear(&c->beat_at_request);
    s_beat_clear(&c->last_beat);
    free(c);
    *cp = NULL;
}
