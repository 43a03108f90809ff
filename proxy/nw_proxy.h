/*
 * nw_proxy: newswire's XSUB/XPUB forwarder, the heart of newswire-proxy.
 *
 * One XSUB per upstream (a publisher or another proxy), one XPUB where
 * subscribers connect. Alerts flow down untouched; subscriptions flow up to
 * every upstream, so filtering still happens at the publisher. The one
 * message it opens is the heartbeat: its "replay" field is rewritten to the
 * proxy's replay front end (nw_proxy_replay), whose routing table it feeds,
 * so a subscriber that can only reach the proxy can still repair gaps.
 * (That rewrite is why this is a loop of its own and not zmq_proxy_steerable,
 * which cannot change a message; the control socket speaks the same commands.)
 *
 * A control REP socket, when configured, takes PAUSE (stop reading upstream;
 * subscriptions still flow), RESUME, TERMINATE and STATISTICS (eight uint64
 * frames in zmq_proxy_steerable's order: upstream messages in, bytes in,
 * messages out, bytes out, then the same for the subscriber side); every
 * command gets a reply ("OK" or "ERROR ..."). TERMINATE sent by a PAIR to
 * nw_proxy_stop_endpoint() stops it too (the signal handler's way in), and
 * RELOAD there (or on the control socket) re-reads the --curve-allow folder.
 *
 * CURVE (zmq_curve(7)): with opts.curve the XPUB and the replay front end are
 * CURVE servers, and with opts.curve_allow_dir only the clients in that folder
 * may connect (nw_zap_core, answered in this loop); with opts.curve_client the
 * XSUBs and the replay DEALERs upstream are CURVE clients.
 *
 * Everything here belongs to the thread that calls nw_proxy_run().
 */
#ifndef NW_PROXY_H
#define NW_PROXY_H

#include "nw_cert.h"
#include "nw_curve.h"

#include <stddef.h>
#include <stdint.h>

typedef struct nw_proxy_t nw_proxy_t;

typedef struct {
    const char *const *upstreams; /* endpoints to connect the XSUBs to, n_upstreams >= 1 */
    size_t n_upstreams;
    const char *const *binds; /* endpoints the XPUB binds, n_binds >= 1 */
    size_t n_binds;
    const char *replay_bind; /* replay front end (ROUTER), NULL for none */
    const char *control;     /* control socket (REP) to bind, NULL for none */
    int hwm;                 /* messages queued per peer before ZeroMQ drops (0 = no limit) */
    const nw_cert_t *curve;  /* --curve-secret: downstream sockets are CURVE servers; NULL: plain */
    const char *curve_allow_dir;           /* --curve-allow: allowlist folder, NULL: any key */
    const nw_curve_client_t *curve_client; /* upstream CURVE keys (copied), NULL: plaintext */
} nw_proxy_opts_t;

typedef struct {
    uint64_t up_msgs_in, up_bytes_in;       /* messages from upstream (alerts, heartbeats) */
    uint64_t up_msgs_out, up_bytes_out;     /* subscriptions sent upstream (to each) */
    uint64_t down_msgs_in, down_bytes_in;   /* subscriptions from subscribers */
    uint64_t down_msgs_out, down_bytes_out; /* messages sent to subscribers */
    uint64_t heartbeats;                    /* heartbeats rewritten */
    uint64_t bad_heartbeats;                /* heartbeats that did not decode (forwarded as is) */
} nw_proxy_stats_t;

/* Creates the sockets in zctx: binds the XPUB (and the replay front end and control
 * socket), connects every upstream. Nothing in opts is used after this returns (the
 * upstream endpoints are copied). Returns NW_OK with *out set; NW_ERR_ADDRINUSE or
 * NW_ERR_ENDPOINT when an endpoint cannot be used; NW_ERR_CONFIG or NW_ERR_NOTFOUND when
 * the --curve-allow folder cannot be read; NW_ERR_ZMQ or NW_ERR_NOMEM otherwise; err then
 * says which flag and endpoint. *out stays NULL on error. */
int nw_proxy_new(void *zctx, const nw_proxy_opts_t *opts, nw_proxy_t **out, char *err,
                 size_t errlen);

/* The inproc endpoint where a PAIR may connect and send "TERMINATE" to stop nw_proxy_run. */
const char *nw_proxy_stop_endpoint(const nw_proxy_t *p);

/* The endpoint the XPUB actually listens on for binds[i] (a "*" port resolved). */
const char *nw_proxy_bound(const nw_proxy_t *p, size_t i);

/* The replay endpoint heartbeats now advertise, or "" without a replay front end. */
const char *nw_proxy_replay_advertised(const nw_proxy_t *p);

/* Forwards until TERMINATE arrives. Returns NW_OK then, or NW_ERR_ZMQ when polling
 * failed (logged). */
int nw_proxy_run(nw_proxy_t *p);

/* Copies the counters so far. */
void nw_proxy_stats(const nw_proxy_t *p, nw_proxy_stats_t *stats);

/* Closes every socket (without lingering), frees p and sets *p_p to NULL. Safe on NULL. */
void nw_proxy_destroy(nw_proxy_t **p_p);

#endif
