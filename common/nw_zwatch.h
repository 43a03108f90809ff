/*
 * nw_zwatch: a ZeroMQ socket on a libuv loop.
 *
 * ZeroMQ's ZMQ_FD is edge-triggered: it signals "something changed", not
 * "a message is waiting", and it may stay silent while messages are queued
 * if they were already there when we last looked. Worse, any call that makes
 * the socket process its internal commands (zmq_send, zmq_recv, zmq_setsockopt,
 * zmq_getsockopt(ZMQ_EVENTS)) may consume a pending edge. The watcher therefore
 * polls the fd with uv_poll, and on every wake-up (and on the loop turn after
 * start, and after nw_zwatch_kick()) it asks ZMQ_EVENTS and calls on_readable
 * while ZMQ_POLLIN is set. To keep the loop fair it handles at most `budget`
 * messages per turn; if more remain, an idle handle brings it back on the next
 * loop iteration without waiting for the fd, so the edge is never lost.
 * (nw_zwatch_new_try makes a watcher whose reader says when the socket is
 * empty: it asks ZMQ_EVENTS once per drain instead of once per message.)
 *
 * on_readable is only ever called from the loop (the fd's poll callback or the
 * idle callback), never from inside nw_zwatch_start() or nw_zwatch_kick(); so
 * both may be called from anywhere on the loop's thread, including from inside
 * on_readable. Everything here, like the socket itself, belongs to the thread
 * that runs the loop.
 *
 * The watcher does not own the socket: the owner closes the socket after
 * nw_zwatch_close()'s callback has run (stop the poll, close the handles,
 * then close the socket).
 *
 *     nw_zwatch_t *w;
 *     if ((rc = nw_zwatch_new(loop, sub, 0, s_on_alert, self, &w)) != NW_OK ||
 *         (rc = nw_zwatch_start(w)) != NW_OK) { ... }
 *     ...
 *     nw_zwatch_close(&w, s_on_watch_closed, self);   // s_on_watch_closed zmq_close()s sub
 */
#ifndef NW_ZWATCH_H
#define NW_ZWATCH_H

#include <stdbool.h>
#include <uv.h>

typedef struct nw_zwatch_t nw_zwatch_t;

/* Called when the socket has at least one message to read. It must receive exactly one
 * whole (possibly multipart) message with ZMQ_DONTWAIT, or close the watcher; a callback
 * that leaves the message queued is called again (at most `budget` times per turn, and the
 * loop never sleeps meanwhile). It may zmq_send on the socket, or call nw_zwatch_kick or
 * nw_zwatch_close on its watcher; it must not zmq_close the socket (wait for on_closed). */
typedef void(nw_zwatch_fn)(nw_zwatch_t *watch, void *zsock, void *arg);

/* The reader of a watcher made by nw_zwatch_new_try: called without a ZMQ_EVENTS check first,
 * it tries to receive one whole (possibly multipart) message with ZMQ_DONTWAIT and returns
 * true when it got one, false when none was waiting (EAGAIN) or receiving failed. It may do
 * what an nw_zwatch_fn may; its return value is ignored once it closed the watcher. */
typedef bool(nw_zwatch_try_fn)(nw_zwatch_t *watch, void *zsock, void *arg);

/* Called after the socket's fd woke the loop and the watcher handled it: another thread
 * gave the socket a command (a peer's queue drained below its low-water mark, a peer came
 * or went, a message arrived). For an owner that waits for room to send, which ZMQ_EVENTS
 * cannot tell per peer (a ROUTER always says ZMQ_POLLOUT). Never called for the watcher's
 * own drains (start, kick, budget), so reacting to it cannot spin the loop. */
typedef void(nw_zwatch_wake_fn)(nw_zwatch_t *watch, void *arg);
/* Called once the watcher's handles are closed and its memory freed; the owner may then
 * close the socket. */
typedef void(nw_zwatch_closed_fn)(void *arg);

/* Creates a watcher for zsock on loop; on_readable gets arg. budget is the most messages
 * handled per loop turn (0 picks 256). Returns NW_OK with *out set, or leaves *out NULL and
 * returns NW_ERR_INVAL (loop, zsock, on_readable or out is NULL), NW_ERR_ZMQ when the
 * socket's ZMQ_FD cannot be read, NW_ERR_UV when libuv refuses the fd (UV_EEXIST: another
 * poll handle already watches this socket on this loop), or NW_ERR_NOMEM. Nothing is
 * watched until start, but the watcher must be closed with nw_zwatch_close (never freed
 * otherwise), started or not. */
int nw_zwatch_new(uv_loop_t *loop, void *zsock, unsigned budget, nw_zwatch_fn *on_readable,
                  void *arg, nw_zwatch_t **out);

/* As nw_zwatch_new, for a reader that says when the socket is empty: a drain calls try_read
 * until it returns false (or the budget is spent) and asks ZMQ_EVENTS once after that, rather
 * than before every message. A ZMQ_EVENTS query costs a system call (libzmq polls its
 * mailbox): for a socket that receives in bursts this saves one per message. Same returns as
 * nw_zwatch_new (NW_ERR_INVAL when try_read is NULL). */
int nw_zwatch_new_try(uv_loop_t *loop, void *zsock, unsigned budget, nw_zwatch_try_fn *try_read,
                      void *arg, nw_zwatch_t **out);

/* Sets the wake-up callback (NULL: none); it gets the watcher's arg. */
void nw_zwatch_on_wake(nw_zwatch_t *watch, nw_zwatch_wake_fn *on_wake);
/* Starts watching and schedules a drain on the loop's next turn, so messages queued before
 * start (whose edge may already be spent) are delivered. Starting a started watcher does
 * nothing. Returns NW_OK, NW_ERR_INVAL when watch is NULL, or NW_ERR_UV. */
int nw_zwatch_start(nw_zwatch_t *watch);

/* Schedules a re-check of ZMQ_EVENTS on the loop's next turn: call after every zmq_send,
 * zmq_recv, zmq_setsockopt or zmq_getsockopt(ZMQ_EVENTS) made on the socket outside
 * on_readable, since any of them may consume the fd's edge. (Inside on_readable there is
 * no need: the drain re-checks after each call.) Does nothing on NULL, before start, or
 * once closing. */
void nw_zwatch_kick(nw_zwatch_t *watch);

/* Stops watching (on_readable is not called again, even by a drain in progress), closes the
 * handles and frees the watcher in their close callback, then calls on_closed(arg) if not
 * NULL, from the loop, never from inside this call. The socket's fd is no longer polled
 * when this returns. Sets *watch_p to NULL. Safe on NULL and on an already-NULL pointer,
 * where on_closed is not called. May be called from inside on_readable. */
void nw_zwatch_close(nw_zwatch_t **watch_p, nw_zwatch_closed_fn *on_closed, void *arg);

#endif
