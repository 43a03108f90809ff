/*
 * nw_zwatch: a ZeroMQ socket on a libuv loop.
 *
 * ZeroMQ's ZMQ_FD is edge-triggered: it signals "something changed", not
 * "a message is waiting", and it may stay silent while messages are queued
 * if they were already there when we last looked. The watcher therefore
 * polls the fd with uv_poll, and on every wake-up (and right after start,
 * and whenever the owner calls nw_zwatch_kick()) it asks ZMQ_EVENTS and
 * calls on_readable while ZMQ_POLLIN is set. To keep the loop fair it
 * handles at most `budget` messages per turn; if more remain, an idle
 * handle brings it back on the next loop iteration without waiting for the
 * fd, so the edge is never lost.
 *
 * The watcher does not own the socket: the owner closes the socket after
 * nw_zwatch_close()'s callback has run (stop the poll, close the handles,
 * then close the socket).
 */
#ifndef NW_ZWATCH_H
#define NW_ZWATCH_H

#include <uv.h>

typedef struct nw_zwatch_t nw_zwatch_t;

/* Called when the socket has at least one message to read. It must receive exactly one
 * whole (possibly multipart) message with ZMQ_DONTWAIT, or stop the watcher. */
typedef void(nw_zwatch_fn)(nw_zwatch_t *watch, void *zsock, void *arg);

/* Called once the watcher's handles are closed; the owner may then close the socket. */
typedef void(nw_zwatch_closed_fn)(void *arg);

/* Creates a watcher for zsock on loop; on_readable gets arg. budget is the most messages
 * handled per loop turn (0 picks 256). Returns NW_OK with *out set, NW_ERR_ZMQ when the
 * socket's fd cannot be read, NW_ERR_UV, or NW_ERR_NOMEM. Nothing is watched until start. */
int nw_zwatch_new(uv_loop_t *loop, void *zsock, unsigned budget, nw_zwatch_fn *on_readable,
                  void *arg, nw_zwatch_t **out);

/* Starts watching and drains whatever is already queued. Returns NW_OK or NW_ERR_UV. */
int nw_zwatch_start(nw_zwatch_t *watch);

/* Re-checks ZMQ_EVENTS: call after every zmq_send, zmq_recv outside on_readable, or
 * zmq_setsockopt on the socket, since any of them may consume the fd's edge. */
void nw_zwatch_kick(nw_zwatch_t *watch);

/* Stops watching (on_readable is not called again), closes the handles and frees the
 * watcher in their close callback, then calls on_closed(arg) if not NULL. Sets *watch_p to
 * NULL. Safe on NULL and on an already-NULL pointer. */
void nw_zwatch_close(nw_zwatch_t **watch_p, nw_zwatch_closed_fn *on_closed, void *arg);

#endif
