/*
 * nw_replay_client: asks a publisher's replay endpoint for journaled alerts
 * (proto/PROTOCOL.md section 12), on a libuv loop.
 *
 * One DEALER socket, one request at a time. Replayed alerts are decoded and
 * handed to on_alert in order; an answer with status "more" is followed at
 * once (from its next_seq, same filters and bounds), so the caller sees one
 * final on_end ("ok" or "error") per nw_replay_client_start, carrying the
 * caller's req and the totals of every page. No answer for timeout_ms (a
 * publisher that restarted, a lost connection) is handled the Lazy Pirate
 * way (ZeroMQ guide chapter 4): the socket is replaced and the request sent
 * again from just after the last alert received; after `retries` silent tries
 * on_failed is called. Cancelling also replaces the socket, so nothing of the
 * old request can arrive afterwards (the server drops the job when it sees the
 * client gone).
 *
 *     nw_replay_client_t *rc;
 *     nw_replay_client_new(loop, zctx, "tcp://pub:5557", NULL, &cb, &rc);
 *     nw_replay_client_start(rc, &rq);      // cb.on_alert..., then cb.on_end
 *     nw_replay_client_close(&rc, NULL, NULL);
 */
#ifndef NW_REPLAY_CLIENT_H
#define NW_REPLAY_CLIENT_H

#include "nw_alert.h"
#include "nw_curve.h"
#include "nw_replay_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct nw_replay_client_t nw_replay_client_t;

typedef struct {
    /* One replayed alert, decoded; topic is its frame topic. */
    void (*on_alert)(const nw_alert_t *alert, const char *topic, void *arg);
    /* The request is over: status "ok" (next_seq says how far it covered) or "error". req is
     * the caller's; count, first_seq and last_seq add up every page. */
    void (*on_end)(const nw_replay_end_t *end, void *arg);
    /* No answer after every retry: why names the endpoint. The request is over. */
    void (*on_failed)(const char *why, void *arg);
    void *arg;
} nw_replay_client_callbacks_t;

typedef struct {
    uint32_t timeout_ms;            /* silence that counts as a lost request (0: 5000) */
    unsigned retries;               /* tries before on_failed (0: 3) */
    const nw_curve_client_t *curve; /* CURVE keys (borrowed, outlive the client); NULL: plain */
} nw_replay_client_opts_t;

typedef struct {
    uint64_t alerts;   /* replayed alerts delivered */
    uint64_t pages;    /* answers received ("more" pages included) */
    uint64_t timeouts; /* silent periods that replaced the socket */
    uint64_t bad;      /* messages that were not a valid replay message */
} nw_replay_client_stats_t;

/* Creates the client for endpoint (connected lazily by ZeroMQ; nothing is sent until a
 * start). opts may be NULL. Returns NW_OK with *out set, or leaves *out NULL and returns
 * NW_ERR_INVAL (a NULL argument or callback), NW_ERR_ENDPOINT (ZeroMQ refuses the
 * endpoint), NW_ERR_ZMQ, NW_ERR_UV or NW_ERR_NOMEM. */
int nw_replay_client_new(uv_loop_t *loop, void *zctx, const char *endpoint,
                         const nw_replay_client_opts_t *opts,
                         const nw_replay_client_callbacks_t *cb, nw_replay_client_t **out);

/* Sends rq (a copy is kept to follow "more" and to retry). A request already running is
 * cancelled first (no on_end for it). Callbacks come later, from the loop. Returns NW_OK,
 * NW_ERR_INVAL (rq does not encode), NW_ERR_ZMQ or NW_ERR_NOMEM (nothing running then). */
int nw_replay_client_start(nw_replay_client_t *c, const nw_replay_request_t *rq);

/* Abandons the running request, if any: no callback for it comes after this call.
 * Returns NW_OK, or NW_ERR_ZMQ when the new socket cannot be made (the client is then
 * unusable: close it). */
int nw_replay_client_cancel(nw_replay_client_t *c);

/* Returns true while a request is running. */
bool nw_replay_client_busy(const nw_replay_client_t *c);

/* Copies the counters into *stats. */
void nw_replay_client_stats(const nw_replay_client_t *c, nw_replay_client_stats_t *stats);

/* Abandons the running request (no callback), closes the socket and timer, frees the client
 * and then calls on_closed(arg) from the loop if not NULL. Sets *c_p to NULL. Safe on NULL
 * and twice. */
void nw_replay_client_close(nw_replay_client_t **c_p, void (*on_closed)(void *arg), void *arg);

/* Turns the replay endpoint a heartbeat advertises into one to connect to. The heartbeat
 * came from the IP address peer (its "Peer-Address"; NULL or "" when unknown, as over ipc)
 * on a subscriber connected to connected (an alert endpoint, tcp://HOST:PORT). A "*" host
 * (tcp://\*:PORT) becomes peer, else connected's host; another tcp endpoint is copied only
 * when its host is peer or connected's host, an ipc one only when connected is ipc too. A
 * heartbeat is not trusted to send the subscriber elsewhere (--replay does that). Returns
 * NW_OK, NW_ERR_NOTFOUND (advertised is empty: the publisher has no replay endpoint),
 * NW_ERR_ENDPOINT (a "*" host, no peer and connected not tcp://HOST:PORT), NW_ERR_PERM
 * (another host) or NW_ERR_TOOBIG (out too small). */
int nw_replay_endpoint_resolve(const char *advertised, const char *connected, const char *peer,
                               char *out, size_t outlen);

#endif
