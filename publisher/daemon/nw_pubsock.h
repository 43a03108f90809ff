/*
 * nw_pubsock: the publisher's alert socket.
 *
 * One ZeroMQ XPUB socket bound to every endpoint the operator gave. XPUB
 * rather than PUB so the publisher sees subscriptions: with
 * ZMQ_XPUB_VERBOSER every subscribe and unsubscribe reaches it (also those
 * a disconnecting subscriber leaves behind), and each is logged at info:
 *
 *     listening on tcp://127.0.0.1:40123
 *     subscriber subscribed to 'tariffs' (3 subscriptions)
 *     subscriber unsubscribed from 'tariffs' (2 subscriptions)
 *
 * (these lines are a stable interface: the demo and the integration tests
 * wait for them). At most NW_PUBSOCK_LOG_BURST such lines are logged per 10 s;
 * the rest of a flood is summarised ("N more subscription changes not logged").
 * An inbound message over 512 bytes (ZMQ_MAXMSGSIZE; it also covers the CURVE
 * handshake, about 300 bytes) drops that connection, so one client cannot make
 * the publisher hold megabytes per filter. An alert goes out once per topic as
 * two frames, the topic and the MessagePack alert; a heartbeat as NW_TOPIC_HEARTBEAT and the
 * MessagePack heartbeat. Sends never block: past the send high-water mark ZeroMQ drops for that
 * subscriber, which sequence numbers make visible.
 */
#ifndef NW_PUBSOCK_H
#define NW_PUBSOCK_H

#include "nw_alert.h"
#include "nw_cert.h"

#include <stddef.h>
#include <uv.h>

#define NW_PUBSOCK_LOG_BURST 50     /* subscription lines per 10 s; more are summarised */
#define NW_PUBSOCK_SUBS_WARN 100000 /* active subscriptions past which a warning is logged */

typedef struct nw_pubsock_t nw_pubsock_t;

typedef struct {
    const char *const *binds; /* endpoints to bind (tcp://HOST:PORT, PORT may be "*"; ipc://) */
    size_t n_binds;           /* entries of binds, at least 1 */
    int sndhwm;               /* ZMQ_SNDHWM, messages queued per subscriber (0 = unlimited) */
    int linger_ms;            /* ZMQ_LINGER: how long close may wait to flush */
    const nw_cert_t *curve;   /* secret certificate: a CURVE server; NULL: plaintext */
} nw_pubsock_opts_t;

/* Called once the socket's watcher is closed and the socket itself closed. */
typedef void(nw_pubsock_closed_fn)(void *arg);

/* Creates the XPUB socket in zctx, sets its options, binds every endpoint (logging
 * "listening on ENDPOINT" with the actual address, e.g. the port chosen for "*") and starts
 * watching subscriptions on loop. Returns NW_OK with *out set; NW_ERR_ADDRINUSE (err:
 * "--bind EP: address already in use"), NW_ERR_ENDPOINT ("--bind EP: reason") for an
 * endpoint that cannot be bound; NW_ERR_ZMQ, NW_ERR_UV, NW_ERR_NOMEM. On error nothing is
 * left open. */
int nw_pubsock_new(uv_loop_t *loop, void *zctx, const nw_pubsock_opts_t *opts, nw_pubsock_t **out,
                   char *err, size_t errlen);

/* Sends frame (size bytes: alert as nw_alert_encode made it) once per topic of alert, with
 * that topic as frame 1. Returns NW_OK or NW_ERR_ZMQ (the alert may have gone out on some
 * topics). */
int nw_pubsock_send_frame(nw_pubsock_t *ps, const nw_alert_t *alert, const void *frame,
                          size_t size);

/* Sends a heartbeat on NW_TOPIC_HEARTBEAT. Returns NW_OK, an encode error or NW_ERR_ZMQ. */
int nw_pubsock_send_heartbeat(nw_pubsock_t *ps, const nw_heartbeat_t *hb);

/* The XPUB socket (owned by ps), for a socket monitor (nw_pubmetrics). */
void *nw_pubsock_socket(const nw_pubsock_t *ps);

/* Active (subscriber, filter) pairs, as logged. */
size_t nw_pubsock_subscriptions(const nw_pubsock_t *ps);

/* Stops watching, closes the socket (waiting at most linger_ms, in the context's
 * termination, to flush), frees ps and then calls on_closed(arg) if not NULL; the
 * callback runs from the loop. Sets *ps_p to NULL. Safe on NULL and twice. */
void nw_pubsock_close(nw_pubsock_t **ps_p, nw_pubsock_closed_fn *on_closed, void *arg);

#endif
