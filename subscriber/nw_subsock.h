/*
 * nw_subsock: the subscriber's alert socket, the mirror of the publisher's
 * nw_pubsock.
 *
 * One ZeroMQ SUB socket, configured in one place (s_configure: high-water
 * mark, message size limit, reconnect and ZMTP heartbeat timing), connected
 * to every -c endpoint and subscribed to each -t topic plus the control
 * topics (or to everything), read on the libuv loop through nw_zwatch. Each
 * message is split into its two frames, [topic][body]:
 *   - a heartbeat (NW_TOPIC_HEARTBEAT) is decoded and handed to on_heartbeat;
 *   - an alert frame whose topic matches no -t filter (ZeroMQ's byte-prefix
 *     match lets "defenseless" through for "defense") is counted as filtered,
 *     never decoded;
 *   - any other alert is decoded, checked to carry its frame topic among its
 *     topics, and handed to on_alert, which takes it over.
 * Everything else (a wrong number of frames, an invalid topic, a body that
 * does not decode) is a bad frame: counted, and logged at most once a second
 * with the reason (nw_subsock_tick reports what was held back).
 */
#ifndef NW_SUBSOCK_H
#define NW_SUBSOCK_H

#include "nw_alert.h"
#include "nw_curve.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct nw_subsock_t nw_subsock_t;

typedef struct {
    const char *const *endpoints;   /* -c, at least one */
    size_t n_endpoints;             /* entries of endpoints */
    const char *const *topics;      /* -t filters; none: everything */
    size_t n_topics;                /* entries of topics */
    int rcvhwm;                     /* ZMQ_RCVHWM (0: no limit) */
    bool alerts;                    /* false (--probe): alert frames are counted, not decoded */
    const nw_curve_client_t *curve; /* CURVE keys (--curve-server-key), NULL: plaintext */
} nw_subsock_opts_t;

typedef struct {
    /* A decoded alert that arrived on frame topic `topic`; *alert is the callee's to keep
     * (it must leave it cleared or zeroed). */
    void (*on_alert)(nw_alert_t *alert, const char *topic, void *arg);
    /* A decoded heartbeat, valid during the call, and the IP address of the publisher (or
     * proxy) it came from ("Peer-Address"; NULL when the transport has none, as ipc). */
    void (*on_heartbeat)(const nw_heartbeat_t *hb, const char *peer, void *arg);
    void *arg; /* passed to both */
} nw_subsock_callbacks_t;

typedef struct {
    uint64_t received; /* alert frames with a valid topic */
    uint64_t filtered; /* ... of them matching no -t filter (or all of them with alerts off) */
    uint64_t bad;      /* frames that did not decode or break the two-frame rule */
} nw_subsock_stats_t;

/* Creates the SUB socket in zctx, configures, subscribes and connects it, and starts
 * reading it on loop. Returns NW_OK with *out set; NW_ERR_ENDPOINT (err: "-c/--connect:
 * cannot connect to 'EP': reason") for an endpoint ZeroMQ refuses; NW_ERR_ZMQ, NW_ERR_UV,
 * NW_ERR_NOMEM (err says which step). On error nothing is left open. */
int nw_subsock_new(uv_loop_t *loop, void *zctx, const nw_subsock_opts_t *opts,
                   const nw_subsock_callbacks_t *cb, nw_subsock_t **out, char *err, size_t errlen);

/* Logs the bad frames held back by the rate limit, if any and a second has passed. Call
 * about every second. */
void nw_subsock_tick(nw_subsock_t *s);

/* Returns the counters. */
nw_subsock_stats_t nw_subsock_stats(const nw_subsock_t *s);

/* Stops reading, closes the socket, frees s and then calls on_closed(arg) from the loop if
 * not NULL. No callback comes after this call. Sets *s_p to NULL. Safe on NULL and twice. */
void nw_subsock_close(nw_subsock_t **s_p, void (*on_closed)(void *arg), void *arg);

#endif
