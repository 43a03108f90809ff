/*
 * nw_gaps: loss detection from sequence numbers and heartbeats.
 *
 * Every alert carries its publisher's stream id and, per topic, a sequence
 * number that grows by one for each alert on that topic. The tracker keeps,
 * per (stream, topic) the subscriber receives, the last sequence number seen
 * and the ranges it never saw, and reports through a callback:
 *   - a jump (seq > last + 1): the range last+1 .. seq-1 was missed;
 *   - a heartbeat whose sequence for a subscribed topic is past the last one
 *     received: the alerts at the tail were lost;
 *   - a stream id never seen before, and later what it turned out to be:
 *     another publisher that joined (the stream heard before it is heard
 *     again) or a replacement (that stream stays quiet: its publisher
 *     restarted on a new journal);
 *   - a stream whose heartbeats stopped for three intervals (silent), and
 *     its return.
 * A missed alert that arrives late (a replay, or reordering) fills its hole.
 * The missing ranges stay queryable (nw_gaps_missing). Each loss event also
 * carries to_seq, the highest global seq the missing alerts can have, so the
 * one repair (nw_catchup_gap) can ask for a bounded range: this is the
 * subscriber's only loss detector. Pure logic: the caller passes the time.
 *
 * Baselines: a subscriber that joins a running stream has not missed what
 * came before it. The first number seen for a topic is its baseline, unless
 * a heartbeat of that stream was already received: the heartbeat lists every
 * topic's latest number, so a topic absent from it starts at 0.
 */
#ifndef NW_GAPS_H
#define NW_GAPS_H

#include "nw_alert.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NW_GAPS_STREAMS_MAX  16   /* streams tracked at once; the least recently active goes */
#define NW_GAPS_TOPICS_MAX   4096 /* topics tracked per stream; more are not tracked */
#define NW_GAPS_RANGES_MAX   32   /* open missing ranges per topic; the oldest goes */
#define NW_GAPS_SILENT_BEATS 3    /* heartbeat intervals of silence before a report */
#define NW_GAPS_REPLACE_BEATS                                                                      \
    2                           /* intervals the stream heard before a new one must stay           \
                                   quiet for the new one to count as its replacement */
#define NW_GAPS_REPLACE_MS 3000 /* ... when that stream announced no interval */

typedef struct nw_gaps_t nw_gaps_t;

typedef enum {
    NW_GAPS_STREAM_NEW = 0,  /* a stream id not seen before (previous: the one heard last) */
    NW_GAPS_STREAM_JOINED,   /* that stream's previous was heard again: another publisher */
    NW_GAPS_STREAM_REPLACED, /* ... or stayed quiet: its publisher restarted on a new journal */
    NW_GAPS_MISSED,          /* sequence jump: first..last on topic were never received */
    NW_GAPS_TAIL,            /* heartbeat: first..last on topic were sent, not received */
    NW_GAPS_LATE,            /* a missed alert (first == last) arrived after all */
    NW_GAPS_SILENT,          /* no heartbeat from stream for silent_ms */
    NW_GAPS_ALIVE,           /* heartbeats from a silent stream again */
} nw_gaps_kind_t;

typedef struct {
    nw_gaps_kind_t kind;
    const char *stream;   /* stream id the event is about */
    const char *previous; /* STREAM_*: the stream heard last before it appeared, or NULL */
    const char *topic;    /* MISSED, TAIL, LATE: the topic, else NULL */
    uint64_t first;       /* MISSED, TAIL, LATE: first sequence number of the range */
    uint64_t last;        /* ... and the last one, inclusive */
    uint64_t to_seq;      /* MISSED, TAIL: highest global seq a missing alert can have
                             (the jumping alert's seq - 1, the heartbeat's seq) */
    size_t streams;       /* STREAM_*: streams tracked now */
    int64_t silent_ms;    /* SILENT, ALIVE: time since the last heartbeat */
} nw_gaps_event_t;

typedef struct {
    uint64_t first; /* first missing sequence number */
    uint64_t last;  /* last missing sequence number, inclusive */
} nw_gaps_range_t;

/* Told about each event; the strings are valid during the call only. */
typedef void(nw_gaps_fn)(const nw_gaps_event_t *event, void *arg);

/* Answers whether the subscriber receives a topic's frames (heartbeats list every topic;
 * only subscribed ones can show loss). */
typedef bool(nw_gaps_subscribed_fn)(const char *topic, void *arg);

/* What nw_gaps_alert() thinks of an alert's number. */
typedef enum {
    NW_GAPS_FRESH = 0, /* new: in order, after a reported gap, or not numbered */
    NW_GAPS_FILLED,    /* a number reported missing that arrived late: new too */
    NW_GAPS_OLD,       /* at or below the last number and not missing: a duplicate */
} nw_gaps_result_t;

/* Creates a tracker reporting to on_event(event, arg); subscribed(topic, arg) picks the
 * heartbeat topics to check (NULL: all). Returns NW_OK with *out set, or NW_ERR_NOMEM. */
int nw_gaps_new(nw_gaps_fn *on_event, nw_gaps_subscribed_fn *subscribed, void *arg,
                nw_gaps_t **out);

/* Frees the tracker and sets *gaps_p to NULL. Safe on NULL and twice. */
void nw_gaps_destroy(nw_gaps_t **gaps_p);

/* Records that the alert with global seq, numbered tseq on topic of stream, arrived at
 * now_ms. Reports STREAM_NEW/JOINED, MISSED or LATE as they happen. tseq 0 (not numbered)
 * is not tracked and gives FRESH. Out of memory only makes the tracker forget: it never
 * fails. */
nw_gaps_result_t nw_gaps_alert(nw_gaps_t *gaps, const char *stream, const char *topic,
                               uint64_t tseq, uint64_t seq, int64_t now_ms);

/* Records heartbeat hb received at now_ms: reports TAIL for each subscribed topic whose
 * heartbeat number is past the last received (and then treats those as missing), ALIVE
 * for a stream that was silent, STREAM_NEW/JOINED for an unknown stream. */
void nw_gaps_heartbeat(nw_gaps_t *gaps, const nw_heartbeat_t *hb, int64_t now_ms);

/* Reports SILENT for every stream that sent heartbeats but none for
 * NW_GAPS_SILENT_BEATS intervals by now_ms (once per silence), and REPLACED for a new
 * stream whose previous stayed quiet since it appeared (once). Call about every second. */
void nw_gaps_tick(nw_gaps_t *gaps, int64_t now_ms);

/* Copies up to max of the missing ranges of (stream, topic), oldest first, into ranges
 * and returns how many there are in all (0 for an unknown stream or topic). */
size_t nw_gaps_missing(const nw_gaps_t *gaps, const char *stream, const char *topic,
                       nw_gaps_range_t *ranges, size_t max);

/* Gap events (MISSED + TAIL) reported so far, and the alerts they named. */
void nw_gaps_stats(const nw_gaps_t *gaps, uint64_t *gaps_out, uint64_t *missed_out);

#define NW_GAPS_IMPLAUSIBLE (1ull << 32) /* a gap this large is a forged or broken number */

/* Writes how many alerts first..last is, for a log line: "12 alerts", or for a gap of
 * NW_GAPS_IMPLAUSIBLE or more "18446744073709551608 alerts, an implausible number: a forged
 * or broken heartbeat or alert?". Returns buf. */
const char *nw_gaps_count_text(uint64_t first, uint64_t last, char *buf, size_t len);

#endif
