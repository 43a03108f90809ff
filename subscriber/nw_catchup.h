/*
 * nw_catchup: merging a replay with the live stream, so a durable subscriber
 * sees every matching alert once, with no hole and no duplicate between the
 * two (ZeroMQ guide chapter 5, the Clone pattern: subscribe first, queue the
 * live updates while the snapshot streams, drop what the snapshot covered).
 *
 * Pure logic: no socket, no clock. The caller feeds it what arrives (live
 * alerts and heartbeats from the SUB socket, replayed alerts and end markers
 * from nw_replay_client) and it calls back to deliver alerts, to ask for a
 * replay, and to report what happened. The handled set lives in an nw_state_t
 * (durable with --state, in memory for a one-off --since / --last).
 *
 * Every publisher stream is followed on its own (several publishers, or one
 * behind a proxy, at once): its own phase, queue, floor, look-back and
 * replays, which the caller routes to that stream's replay endpoint.
 *
 * Two modes. Without repair (no --state, --since, --last or --replay) it only
 * reports: alerts are delivered as they come, deduplicated by (stream, seq),
 * and nothing is ever asked. With repair, per stream:
 *   - Nothing is asked before the stream's first heartbeat: a heartbeat proves
 *     that the subscription is in place at the publisher, so every alert sent
 *     after it arrives live, and every alert up to its seq is in the journal.
 *     Live alerts of the stream that come before it are queued.
 *   - On that heartbeat: a known stream resumes with a replay from floor + 1; an
 *     unknown one starts per on_new_stream (BEGINNING: replay from seq 1, the
 *     oldest retained; NOW: from this heartbeat on); with a look-back every
 *     stream first seen in this run asks for that range. While the replay
 *     streams, live alerts are queued (at most queue_max alerts and queue_bytes
 *     bytes per stream; past that they are dropped and fetched by one more pass).
 *   - A replayed or live alert is delivered only if (stream, seq) was not
 *     handled yet; then it is marked handled. When the replay ends ("ok"), the
 *     floor becomes next_seq - 1 and the queue drains through the same check.
 *   - Loss is found by the caller's one loss detector (nw_gaps) and reported
 *     here with nw_catchup_gap(stream, to_seq): a bounded replay from floor + 1
 *     (the start of the first hole) to to_seq, the highest seq known to exist,
 *     the live alerts queued meanwhile. A pass that must run again (loss or
 *     overflow during it) ends at the highest seq seen by then. A clean
 *     heartbeat raises the floor to its seq.
 *   - With every_topic (no topic filter: every numbered alert of a stream
 *     arrives, each has a topic), a live alert whose seq is past the highest
 *     one known + 1 is a loss too, repaired before that alert (as if reported
 *     with nw_catchup_gap(stream, seq - 1)): a topic's lost tail followed by
 *     alerts of another topic shows in no per-topic number until the next
 *     heartbeat, and repairing it then would bring it after later alerts.
 *   - A replay that fails (no answer: its publisher was killed meanwhile) is
 *     asked again at the stream's next heartbeat; the live alerts stay queued
 *     until then, as they would come before what the replay still owed.
 * Alerts of a stream come out in seq order, except those a repair brings back
 * late: with a topic filter, a loss that only a later heartbeat shows (a
 * topic's lost tail, then alerts of another subscribed topic), and after
 * NW_CATCHUP_HOLD_FAILS failed replays in a row (live delivery then resumes
 * until a retry works). A replay answer "stream mismatch" (the endpoint now
 * serves a new journal) puts the stream back to waiting for its own heartbeat.
 */
#ifndef NW_CATCHUP_H
#define NW_CATCHUP_H

#include "nw_alert.h"
#include "nw_replay_msg.h"
#include "nw_state.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NW_CATCHUP_QUEUE_DEFAULT 100000      /* live alerts held per stream while it replays */
#define NW_CATCHUP_QUEUE_BYTES   (16u << 20) /* ... and their bytes at most, per stream */
#define NW_CATCHUP_STREAMS_MAX   16          /* streams followed at once (NW_STATE_STREAMS_MAX) */
#define NW_CATCHUP_HOLD_FAILS    3           /* failed replays in a row that hold live alerts */

typedef struct nw_catchup_t nw_catchup_t;

typedef enum {
    NW_CATCHUP_WAITING = 0, /* no heartbeat of the stream yet: live alerts are queued */
    NW_CATCHUP_REPLAYING,   /* a replay is running, or a failed one waits for its retry:
                               live alerts are queued */
    NW_CATCHUP_LIVE,        /* caught up */
} nw_catchup_phase_t;

typedef enum {
    NW_CATCHUP_NOW = 0,       /* a new stream is taken from its first heartbeat on */
    NW_CATCHUP_BEGINNING = 1, /* a new stream is replayed from its oldest retained alert */
} nw_catchup_new_stream_t;

typedef enum {
    NW_CATCHUP_EV_NEW_STREAM = 0, /* stream seen for the first time (first = its head) */
    NW_CATCHUP_EV_REPLAYING,      /* a replay was asked for, from seq first (0: look-back)
                                     to seq last (0: up to the head) */
    NW_CATCHUP_EV_LIVE,           /* caught up, the first time in this run; first = the floor */
    NW_CATCHUP_EV_REPAIRED,       /* a later repair is done; first = the floor */
    NW_CATCHUP_EV_LOST,           /* first..last had left the journal: they cannot come back */
    NW_CATCHUP_EV_BEHIND,         /* the publisher's head (first) is below our floor (last) */
    NW_CATCHUP_EV_FAILED,         /* the replay failed (why); retried at the next heartbeat */
    NW_CATCHUP_EV_OVERFLOW,       /* the live queue filled: dropped, fetched by another pass */
} nw_catchup_event_kind_t;

typedef struct {
    nw_catchup_event_kind_t kind;
    const char *stream; /* the stream concerned */
    uint64_t first;     /* see the kinds */
    uint64_t last;      /* see the kinds */
    const char *why;    /* FAILED: the reason, else NULL */
} nw_catchup_event_t;

typedef struct {
    /* An alert to output: not handled before; topic is the frame topic it came on. */
    void (*deliver)(const nw_alert_t *alert, const char *topic, void *arg);
    /* Start this replay (rq->stream names the stream: its own replay endpoint), or with rq
     * NULL: cancel the running replay of stream (its results would be ignored anyway). */
    void (*request)(const char *stream, const nw_replay_request_t *rq, void *arg);
    /* Something worth a log line; may be NULL. */
    void (*event)(const nw_catchup_event_t *ev, void *arg);
    void *arg; /* passed to each */
} nw_catchup_callbacks_t;

typedef struct {
    nw_state_t *state;                     /* borrowed; never NULL */
    const nw_replay_request_t *filters;    /* the subscriber's topic filters (only the
                                              filters are used), NULL: everything */
    const nw_replay_request_t *look_back;  /* one-off --since/--last range, NULL: resume */
    nw_catchup_new_stream_t on_new_stream; /* what an unknown stream starts with */
    size_t queue_max;                      /* per stream; 0: NW_CATCHUP_QUEUE_DEFAULT */
    size_t queue_bytes;                    /* per stream; 0: NW_CATCHUP_QUEUE_BYTES */
    bool repair;                           /* false: report only, never ask for a replay */
    bool every_topic;                      /* every alert of a stream reaches the subscriber
                                              (no topic filter): a jump in the global seqs
                                              of live alerts is a loss */
} nw_catchup_opts_t;

typedef struct {
    uint64_t delivered;  /* alerts delivered */
    uint64_t duplicates; /* alerts dropped as already handled */
    uint64_t replays;    /* replays requested */
    uint64_t dropped;    /* live alerts dropped: queue full, or of a stream left behind */
    size_t queued;       /* live alerts queued now, all streams */
    size_t streams;      /* streams followed */
} nw_catchup_stats_t;

/* Creates the merger. The callbacks are never called from inside this call.
 * Returns NW_OK with *out set, NW_ERR_INVAL (opts, state, cb->deliver or cb->request NULL)
 * or NW_ERR_NOMEM. */
int nw_catchup_new(const nw_catchup_opts_t *opts, const nw_catchup_callbacks_t *cb,
                   nw_catchup_t **out);

/* Frees the merger and its queue and sets *cp to NULL. Safe on NULL and twice. */
void nw_catchup_destroy(nw_catchup_t **cp);

/* A heartbeat arrived on the SUB socket (after the loss detector saw it). May deliver,
 * request a replay of its stream, raise the stream's floor. */
void nw_catchup_heartbeat(nw_catchup_t *c, const nw_heartbeat_t *hb);

/* A live alert arrived on frame topic `topic` (already checked against the filters, and
 * seen by the loss detector). The alert is taken over: *alert is left zeroed (queued or
 * cleared). An alert without a seq (0) is delivered at once. Returns NW_OK or NW_ERR_NOMEM
 * (the alert was dropped; a later heartbeat shows the loss). */
int nw_catchup_live(nw_catchup_t *c, nw_alert_t *alert, const char *topic);

/* A replayed alert of alert->stream arrived (topic: its frame topic). Delivered unless
 * handled; ignored when that stream is not replaying. */
void nw_catchup_replayed(nw_catchup_t *c, const nw_alert_t *alert, const char *topic);

/* The replay of stream ended (status "ok" or "error"; "more" is followed by the client).
 * An answer to another request than the running one is ignored. */
void nw_catchup_replay_end(nw_catchup_t *c, const char *stream, const nw_replay_end_t *end);

/* The replay of stream could not complete (no answer, socket error): why says so. The
 * floor stays and the replay is asked again at the stream's next heartbeat; until then
 * live alerts stay queued (so none is shown before what the replay owed), except after
 * NW_CATCHUP_HOLD_FAILS failures in a row: then live delivery resumes meanwhile. A
 * one-off look-back is not retried: live from the heartbeat it started at. */
void nw_catchup_replay_failed(nw_catchup_t *c, const char *stream, const char *why);

/* The loss detector saw loss on stream: repair it now, with a replay from the floor + 1 to
 * to_seq, the highest global seq the missing alerts can have (the seq of the alert that
 * showed a jump minus 1, or the seq of the heartbeat that showed tail loss); 0: unknown, up
 * to the publisher's head. Nothing is asked when to_seq is at or below the floor, for a
 * stream not started yet, or without repair. During a replay: one more pass after it,
 * unless the running replay's range already holds to_seq. */
void nw_catchup_gap(nw_catchup_t *c, const char *stream, uint64_t to_seq);

/* Returns the phase of stream (WAITING for a stream not followed). */
nw_catchup_phase_t nw_catchup_phase(const nw_catchup_t *c, const char *stream);

/* Copies the counters into *stats. */
void nw_catchup_stats(const nw_catchup_t *c, nw_catchup_stats_t *stats);

#endif
