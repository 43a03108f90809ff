/*
 * nw_replay_msg: the replay protocol's two bodies (proto/PROTOCOL.md, section 12).
 *
 * A client asks the publisher's replay endpoint (ROUTER) for journaled alerts
 * with a request; the publisher answers with the alerts, each as
 * [NW_REPLAY_TOPIC, topic, alert body], and then one end marker,
 * [NW_REPLAY_END_TOPIC, end body]. This module encodes and strictly decodes
 * the request and the end marker; the alert bodies are the journaled frames,
 * decoded with nw_alert_decode().
 *
 * The structs are fixed-size plain data (no allocation, nothing to free), so
 * a decode into a stack variable never leaks and a request can be copied
 * with `=`. Decoding treats every byte as hostile, with the same pre-check
 * and error codes as nw_codec (PROTOCOL.md section 9).
 *
 *     nw_replay_request_t rq;
 *     nw_replay_request_init(&rq);
 *     rq.req = 1;
 *     rq.start = NW_REPLAY_FROM_SEQ;
 *     rq.from_seq = 1043;
 *     nw_replay_request_add_filter(&rq, "trade");
 *     nw_replay_request_encode(&rq, &data, &size);   // send data, free(data)
 */
#ifndef NW_REPLAY_MSG_H
#define NW_REPLAY_MSG_H

#include "nw_alert.h"
#include "nw_topic.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NW_REPLAY_TOPIC       "$nw.replay"     /* frame 1 of a replayed alert */
#define NW_REPLAY_END_TOPIC   "$nw.replay.end" /* frame 1 of the end marker */
#define NW_REPLAY_REQUEST_MAX 16384            /* bytes of a request body */
#define NW_REPLAY_FILTERS_MAX 64               /* entries of a request's "topics" */
#define NW_REPLAY_ERROR_MAX   255              /* bytes of an end marker's "error" */
#define NW_REPLAY_STREAM_MAX  64               /* bytes of a stream id in a request or end */

/* Where a request starts: exactly one per request. */
typedef enum {
    NW_REPLAY_FROM_SEQ = 0, /* "from_seq": the first alert whose global seq >= from_seq */
    NW_REPLAY_LAST = 1,     /* "last": the last N alerts that match the filters */
    NW_REPLAY_SINCE = 2,    /* "since": the first alert journaled at or after since_ms */
} nw_replay_start_t;

typedef struct {
    uint64_t req;                          /* client's request number, echoed in the end marker */
    char stream[NW_REPLAY_STREAM_MAX + 1]; /* stream the client expects, "" for any */
    char filters[NW_REPLAY_FILTERS_MAX][NW_TOPIC_MAX + 1]; /* "" or topics; none = all */
    size_t n_filters;                                      /* used entries of filters */
    nw_replay_start_t start;                               /* which of the next three applies */
    uint64_t from_seq;                                     /* NW_REPLAY_FROM_SEQ */
    uint64_t last;                                         /* NW_REPLAY_LAST, >= 1 */
    int64_t since_ms; /* NW_REPLAY_SINCE, ms since the epoch (journal time) */
    bool has_to_seq;  /* to_seq given */
    uint64_t to_seq;  /* last global seq wanted, inclusive */
    uint64_t limit;   /* most alerts in this answer (credit); 0 = server's */
} nw_replay_request_t;

typedef enum {
    NW_REPLAY_OK = 0,    /* the range is done: everything through next_seq - 1 was scanned */
    NW_REPLAY_MORE = 1,  /* the answer hit its limit: ask again from next_seq */
    NW_REPLAY_ERROR = 2, /* refused or failed: see error; nothing more comes for req */
} nw_replay_status_t;

typedef struct {
    uint64_t req;                          /* the request's number (0 if it was unreadable) */
    char stream[NW_REPLAY_STREAM_MAX + 1]; /* the publisher's stream id */
    nw_replay_status_t status;
    uint64_t count;     /* alerts sent for this answer */
    uint64_t first_seq; /* seq of the first alert sent, 0 if none */
    uint64_t last_seq;  /* seq of the last alert sent, 0 if none */
    uint64_t next_seq;  /* OK/MORE: first seq not yet scanned (scan covered < next_seq) */
    uint64_t oldest;    /* oldest seq the journal retained when the request arrived */
    uint64_t head;      /* newest seq journaled when the request arrived (0 = none) */
    char error[NW_REPLAY_ERROR_MAX + 1]; /* ERROR: why, "" otherwise */
} nw_replay_end_t;

/* Zeroes rq: req 0, any stream, all topics, from_seq 0 (the oldest), no to_seq, no limit. */
void nw_replay_request_init(nw_replay_request_t *rq);

/* Appends filter ("" or a valid topic) to rq. Returns NW_OK; NW_ERR_TOPIC for an invalid
 * name; NW_ERR_TOOBIG past NW_REPLAY_FILTERS_MAX. A filter already present gives NW_OK. */
int nw_replay_request_add_filter(nw_replay_request_t *rq, const char *filter);

/* Returns true when topic (valid) is matched by one of rq's filters (no filter = all). */
bool nw_replay_request_matches(const nw_replay_request_t *rq, const char *topic);

/* Encodes rq into a new buffer *data of *size bytes (caller frees). Returns NW_OK;
 * NW_ERR_INVAL (a NULL argument, last 0, to_seq below from_seq, a stream that is not
 * UTF-8, an invalid filter); NW_ERR_NOMEM. On error *data and *size are untouched. */
int nw_replay_request_encode(const nw_replay_request_t *rq, char **data, size_t *size);

/* Decodes a request body into *rq (initialised by this call). Returns NW_OK or:
 * NW_ERR_WIRE_OVERSIZE (body over NW_REPLAY_REQUEST_MAX, a stream over
 * NW_REPLAY_STREAM_MAX, more than NW_REPLAY_FILTERS_MAX filters), NW_ERR_WIRE_TRUNCATED,
 * NW_ERR_WIRE_TRAILING, NW_ERR_WIRE_MALFORMED, NW_ERR_WIRE_DEPTH, NW_ERR_WIRE_TYPE,
 * NW_ERR_WIRE_MISSING (v, type, req, or none of from_seq/last/since), NW_ERR_WIRE_VERSION,
 * NW_ERR_WIRE_UTF8, NW_ERR_WIRE_RANGE (wrong type, two of from_seq/last/since, last 0,
 * to_seq below from_seq, an invalid or repeated filter, a known key twice), NW_ERR_NOMEM.
 * On error rq->req holds the request's "req" when it could be read (else 0), so the
 * answer can name it. Unknown keys are ignored. */
int nw_replay_request_decode(const void *data, size_t size, nw_replay_request_t *rq);

/* Encodes an end marker (every key written; "error" is "" unless status is ERROR).
 * Returns NW_OK, NW_ERR_INVAL (a NULL argument, unknown status, a string that is not
 * UTF-8) or NW_ERR_NOMEM. */
int nw_replay_end_encode(const nw_replay_end_t *end, char **data, size_t *size);

/* Decodes an end marker body into *end. Returns NW_OK or a wire error as for
 * nw_replay_request_decode (NW_ERR_WIRE_RANGE for an unknown status); on error *end is
 * zeroed. Unknown keys are ignored; an absent "error" is "". */
int nw_replay_end_decode(const void *data, size_t size, nw_replay_end_t *end);

/* Sets end->error to a printf-formatted message, cut at NW_REPLAY_ERROR_MAX bytes on a
 * UTF-8 boundary, and end->status to NW_REPLAY_ERROR. */
void nw_replay_end_set_error(nw_replay_end_t *end, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns "ok", "more" or "error". */
const char *nw_replay_status_name(nw_replay_status_t status);

#endif
