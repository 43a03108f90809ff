/*
 * nw_replays: the subscriber's replay clients, one per publisher stream.
 *
 * Each stream's heartbeats advertise where its journal is served; a stream's
 * replay requests (from nw_catchup) go to that endpoint on the stream's own
 * nw_replay_client, so several publishers repair at once, each from its own
 * journal. --replay (fixed) overrides what heartbeats say, for every stream.
 * An advertised "*" host is the host the heartbeat came from, else the first
 * -c endpoint's (nw_replay_endpoint_resolve). A client whose stream's endpoint
 * moves is replaced; a request running on it is failed.
 *
 * A request that cannot go out (no endpoint known yet, the client refuses it)
 * is failed from the loop, on the next turn, never inside the call that
 * asked for it: the caller's state machine is never re-entered.
 */
#ifndef NW_REPLAYS_H
#define NW_REPLAYS_H

#include "nw_alert.h"
#include "nw_curve.h"
#include "nw_replay_msg.h"

#include <stdint.h>
#include <uv.h>

#define NW_REPLAYS_STREAMS_MAX 16   /* streams with a client at once; the oldest goes */
#define NW_REPLAYS_EP_MAX      1024 /* bytes of a resolved replay endpoint */

typedef struct nw_replays_t nw_replays_t;

typedef struct {
    /* One replayed alert (its stream is alert->stream); topic is its frame topic. */
    void (*on_alert)(const nw_alert_t *alert, const char *topic, void *arg);
    /* The request of stream is over: "ok" or "error" (see nw_replay_client). */
    void (*on_end)(const char *stream, const nw_replay_end_t *end, void *arg);
    /* The request of stream could not complete; why says so. */
    void (*on_failed)(const char *stream, const char *why, void *arg);
    void *arg;
} nw_replays_callbacks_t;

typedef struct {
    const char *fixed;              /* --replay, or NULL: what each stream's heartbeats advertise */
    const char *connected;          /* the first -c endpoint, to resolve a "*" host */
    const nw_curve_client_t *curve; /* CURVE keys for the replay clients, NULL: plaintext */
} nw_replays_opts_t;

/* Creates the set (no client yet) on loop, sockets in zctx. Strings in opts are copied.
 * Returns NW_OK with *out set, NW_ERR_INVAL (a NULL callback), NW_ERR_UV or NW_ERR_NOMEM. */
int nw_replays_new(uv_loop_t *loop, void *zctx, const nw_replays_opts_t *opts,
                   const nw_replays_callbacks_t *cb, nw_replays_t **out);

/* A heartbeat of stream advertised `advertised` (may be "") came from the IP address peer
 * (NULL: unknown): resolves the endpoint (nw_replay_endpoint_resolve), and makes or remakes
 * the stream's client when it is new or moved. Logs a failure to connect. */
void nw_replays_heartbeat(nw_replays_t *r, const char *stream, const char *advertised,
                          const char *peer);

/* Starts rq on the client of rq->stream (any request running there is cancelled first).
 * Failures come later through on_failed. */
void nw_replays_start(nw_replays_t *r, const nw_replay_request_t *rq);

/* Abandons the running request of stream, if any: no callback for it comes after. */
void nw_replays_cancel(nw_replays_t *r, const char *stream);

/* Returns the endpoint stream's requests go to, or "" when none is known yet. */
const char *nw_replays_endpoint(const nw_replays_t *r, const char *stream);

/* Closes every client and the set's handle, frees it (from the loop) and sets *r_p to
 * NULL. No callback comes after this call. Safe on NULL and twice. */
void nw_replays_close(nw_replays_t **r_p);

#endif
