/*
 * nw_proxy_replay: the proxy's replay front end (proto/PROTOCOL.md, section 12).
 *
 * A ROUTER where subscribers send replay requests, served by a thread of its
 * own so replay traffic never slows the alert path. Each request is routed by
 * its "stream" to the replay endpoint that stream's heartbeats advertised
 * upstream (learned through nw_proxy_replay_learn); with no stream given it
 * goes to the only stream known, if there is exactly one. Every client gets
 * its own DEALER upstream (the publisher serves one request per client at a
 * time, so clients must not share one), closed after a minute of silence.
 * Answers flow back unchanged; a request the proxy cannot route gets an
 * "error" end marker saying why, with the request's "req".
 *
 * Thread use: nw_proxy_replay_new, _learn and _destroy are called from one
 * thread (the proxy's); the front end's own thread is internal.
 */
#ifndef NW_PROXY_REPLAY_H
#define NW_PROXY_REPLAY_H

#include "nw_cert.h"
#include "nw_curve.h"

#include <stddef.h>
#include <stdint.h>

#define NW_PROXY_REPLAY_CLIENTS_MAX 256 /* clients served at once; more get "busy:" */

typedef struct nw_proxy_replay_t nw_proxy_replay_t;

/* Counters, for the summary line and the control socket. */
typedef struct {
    uint64_t requests; /* requests forwarded upstream */
    uint64_t refused;  /* requests answered by the proxy with an "error" end marker */
    uint64_t answers;  /* messages (replayed alerts and end markers) passed back to clients */
} nw_proxy_replay_stats_t;

/* Binds a ROUTER on endpoint in zctx and starts the front end's thread. The endpoint
 * subscribers should be told (a wildcard host written as "*") is copied to advertised.
 * server (may be NULL: plaintext) makes the ROUTER a CURVE server; client (may be NULL:
 * plaintext) is copied and makes every DEALER upstream a CURVE client of the publisher.
 * Returns NW_OK with *out set; NW_ERR_ADDRINUSE or NW_ERR_ENDPOINT when the bind fails
 * (err names the flag and endpoint); NW_ERR_ZMQ, NW_ERR_NOMEM. *out stays NULL on error. */
int nw_proxy_replay_new(void *zctx, const char *endpoint, const nw_cert_t *server,
                        const nw_curve_client_t *client, char *advertised, size_t advlen,
                        nw_proxy_replay_t **out, char *err, size_t errlen);

/* Tells the front end that stream's requests go to upstream (a tcp:// or ipc:// endpoint,
 * or "" for a stream without replay). Cheap when nothing changed. Returns NW_OK or
 * NW_ERR_ZMQ when the message could not be queued to the thread (it is then dropped;
 * the next heartbeat tries again). */
int nw_proxy_replay_learn(nw_proxy_replay_t *r, const char *stream, const char *upstream);

/* Stops the thread, closes every socket, copies the final counters to *stats (may be
 * NULL), frees r and sets *r_p to NULL. Safe on NULL. */
void nw_proxy_replay_destroy(nw_proxy_replay_t **r_p, nw_proxy_replay_stats_t *stats);

#endif
