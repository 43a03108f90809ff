/*
 * nw_replay_peer: which client a replay request comes from, for the replay
 * endpoint's per-client limits (docs/SECURITY.md).
 *
 * A client is its CURVE public key when a ZAP handler vouched for it (the
 * --curve-allow allowlist gives each accepted connection its key as the
 * "User-Id" property), and otherwise the IP address it connects from (the
 * "Peer-Address" property): keys that anyone may mint, and connections that
 * anyone may open, do not make new clients.
 *
 *     char peer[NW_REPLAY_PEER_MAX];
 *     nw_replay_peer_of(&body_frame, peer, sizeof peer);   // "addr 127.0.0.1"
 */
#ifndef NW_REPLAY_PEER_H
#define NW_REPLAY_PEER_H

#include <stddef.h>
#include <zmq.h>

#define NW_REPLAY_PEER_MAX 64 /* bytes of a client name, with its NUL */

/* Writes into peer (len bytes, NW_REPLAY_PEER_MAX is enough) the client that sent msg, a
 * message received from a ROUTER: "key Z85KEY" when the connection carries a user id,
 * else "addr IP" from its peer address, else "" (transports without one: inproc, ipc).
 * A name longer than len is cut. */
void nw_replay_peer_of(zmq_msg_t *msg, char *peer, size_t len);

#endif
