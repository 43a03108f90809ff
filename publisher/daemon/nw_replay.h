/*
 * nw_replay: the publisher's replay endpoint (proto/PROTOCOL.md section 12).
 *
 * A ZeroMQ ROUTER on the daemon's libuv loop that answers replay requests
 * from the journal it is given: each request gets the journaled alerts it
 * asked for, as [NW_REPLAY_TOPIC, topic, body] (body byte-for-byte the
 * journaled frame), then one end marker [NW_REPLAY_END_TOPIC, end].
 *
 * A replay must never starve live publishing or grow memory without bound:
 *   - an answer holds at most max_per_request alerts (status "more" then
 *     tells the client where to go on: request/answer paging is the credit);
 *   - per loop turn, each client gets at most `batch` messages and `scan`
 *     journal records, round-robin, so the loop goes back to the alert socket
 *     after a bounded amount of work whatever the clients ask;
 *   - ROUTER_MANDATORY with a small ZMQ_SNDHWM: a client that reads slowly
 *     makes our send return EAGAIN (nothing is dropped, nothing piles up in
 *     memory); its job waits and is retried a few milliseconds later, and a
 *     client that takes nothing for stall_ms is dropped;
 *   - at most max_clients requests run at once, and at most max_per_peer
 *     from one client (its CURVE key when the allowlist vouched for it, else
 *     its IP address: nw_replay_peer); more get an "error" end ("busy"), and
 *     so does a second request on a connection with one running. A job whose
 *     client took nothing for a second yields its slot to a newcomer (of the
 *     same client, when that client is at its limit).
 * Requests are decoded strictly (nw_replay_request_decode); a malformed one
 * gets an "error" end marker and the server goes on.
 *
 * Everything belongs to the loop's thread, like the journal.
 *
 *     nw_replay_t *rp;
 *     if ((rc = nw_replay_new(loop, zctx, NW_REPLAY_DEFAULT_ENDPOINT, journal, NULL, &rp, err,
 *                             sizeof err)) != NW_OK) { log err; exit 3 }
 *     heartbeat.replay = nw_replay_advertised(rp);   // star host, see below
 *     ...
 *     nw_replay_close(&rp, NULL, NULL);   // before the journal is destroyed
 */
#ifndef NW_REPLAY_H
#define NW_REPLAY_H

#include "nw_cert.h"
#include "nw_journal.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define NW_REPLAY_DEFAULT_ENDPOINT "tcp://127.0.0.1:5557"
#define NW_REPLAY_PER_REQUEST      10000 /* default alerts per answer */
#define NW_REPLAY_PER_PEER         16    /* default replays in progress per client */

typedef struct nw_replay_t nw_replay_t;

typedef struct {
    uint64_t max_per_request; /* alerts in one answer at most (0: NW_REPLAY_PER_REQUEST) */
    unsigned batch;           /* messages sent per client per loop turn (0: 64) */
    unsigned scan;            /* journal records read per client per loop turn (0: 1024) */
    unsigned max_clients;     /* requests served at once (0: 64) */
    unsigned max_per_peer;    /* requests served at once per key or address (0: 16) */
    int sndhwm;               /* ZMQ_SNDHWM: messages queued per client (0: 100; with
                                 max_clients this bounds replay memory, docs/SECURITY.md) */
    uint32_t stall_ms;        /* drop a client that takes nothing for this long (0: 30000) */
    uint32_t retry_ms;        /* longest wait before retrying clients whose queue is full (0: 5) */
    const nw_cert_t *curve;   /* secret certificate: a CURVE server; NULL: plaintext */
} nw_replay_opts_t;

typedef struct {
    uint64_t requests;    /* requests received, good or bad */
    uint64_t answered;    /* answers completed with "ok" or "more" */
    uint64_t errors;      /* "error" end markers sent */
    uint64_t alerts;      /* alerts sent */
    uint64_t dropped;     /* jobs dropped: client gone or stalled */
    uint64_t would_block; /* sends that found a client's queue full */
    uint64_t peer_busy;   /* requests refused: their client was at max_per_peer */
    size_t active;        /* requests in progress now */
} nw_replay_stats_t;

/* Called once the server is closed and freed. */
typedef void(nw_replay_closed_fn)(void *arg);

/* Fills opts with the defaults (all the zero-means-default values spelt out). */
void nw_replay_opts_default(nw_replay_opts_t *opts);

/* Creates the ROUTER in zctx, binds endpoint (logging "replay: listening on ENDPOINT" with
 * the address really bound) and serves requests from journal (borrowed: it must outlive the
 * server) on loop. opts may be NULL. err (errlen bytes) receives a message naming the flag:
 * "--replay-bind EP: address already in use".
 * Returns NW_OK with *out set, or leaves *out NULL and nothing open and returns:
 *   NW_ERR_INVAL      a NULL loop, zctx, endpoint, journal or out;
 *   NW_ERR_ADDRINUSE  the endpoint's address is taken;
 *   NW_ERR_ENDPOINT   the endpoint is malformed or cannot be bound (unknown host, bad
 *                     transport, permission);
 *   NW_ERR_ZMQ        the socket could not be made or configured;
 *   NW_ERR_UV         the loop refused the socket or a handle;
 *   NW_ERR_NOMEM. */
int nw_replay_new(uv_loop_t *loop, void *zctx, const char *endpoint, nw_journal_t *journal,
                  const nw_replay_opts_t *opts, nw_replay_t **out, char *err, size_t errlen);

/* Returns the endpoint really bound, e.g. "tcp://0.0.0.0:5557" (port chosen for "*"). */
const char *nw_replay_endpoint(const nw_replay_t *r);

/* Returns the endpoint to advertise in heartbeats: the bound one with a wildcard host
 * (0.0.0.0, [::]) written as a star, "tcp://" "*:5557" (PROTOCOL.md: "the host you
 * connected to"). */
const char *nw_replay_advertised(const nw_replay_t *r);

/* Copies the counters into *stats. */
void nw_replay_stats(const nw_replay_t *r, nw_replay_stats_t *stats);

/* Abandons every request in progress (no end marker), closes the socket (linger 0), frees
 * the server and calls on_closed(arg) from the loop once its handles are closed (never from
 * inside this call). The journal is no longer read once this returns. Sets *r_p to NULL.
 * Safe on NULL and twice. */
void nw_replay_close(nw_replay_t **r_p, nw_replay_closed_fn *on_closed, void *arg);

#endif
