#include "nw_zwatch.h"

#include "nw_error.h"
#include "nw_log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <zmq.h>

#define NW_ZWATCH_DEFAULT_BUDGET 256

typedef enum {
    S_CREATED = 0, /* handles initialised, nothing watched yet */
    S_RUNNING,     /* poll started; on_readable may be called */
    S_HALTED,      /* a fatal socket or fd error stopped it; waits for close */
    S_CLOSING,     /* nw_zwatch_close called; waits for the close callbacks */
} s_state_t;

struct nw_zwatch_t {
    uv_poll_t poll;                 /* watches ZMQ_FD for readability (the edge) */
    uv_idle_t idle;                 /* active while a drain is owed: keeps the loop from sleeping */
    void *zsock;                    /* the watched socket; not owned */
    unsigned budget;                /* most on_readable calls per loop turn */
    nw_zwatch_fn *on_readable;      /* the owner's message handler, or NULL */
    nw_zwatch_try_fn *try_read;     /* or the owner's reader that says when none was left */
    nw_zwatch_wake_fn *on_wake;     /* after each wake-up of the fd, or NULL */
    void *arg;                      /* its argument */
    nw_zwatch_closed_fn *on_closed; /* called after the last close callback, may be NULL */
    void *closed_arg;               /* its argument */
    s_state_t state;                /* lifecycle, see s_state_t */
    int open_handles;               /* handles whose close callback has not run yet */
};

/* Stops both handles after an error the watcher cannot recover from; the owner still closes it.
 * There is no error callback in the contract, so the log line is the only report. */
static void s_halt(nw_zwatch_t *w, const char *what, const char *why)
{
    nw_log(NW_LOG_ERROR, "zwatch: %s: %s; socket no longer watched", what, why);
    uv_poll_stop(&w->poll);
    uv_idle_stop(&w->idle);
    w->state = S_HALTED;
}

typedef enum {
    S_EV_EMPTY = 0, /* no message to read */
    S_EV_READY,     /* at least one message can be read */
    S_EV_RETRY,     /* interrupted (EINTR): ask again next turn */
    S_EV_HALTED,    /* the socket is gone or its context terminated; watcher halted */
} s_events_t;

static void s_idle_cb(uv_idle_t *handle);

/* Asks the socket for its events. This also makes libzmq process its pending commands and
 * re-arm the fd, which is why a drain always ends with this call and never with a receive. */
static s_events_t s_events(nw_zwatch_t *w)
{
    int events = 0;
    size_t len = sizeof events;
    if (zmq_getsockopt(w->zsock, ZMQ_EVENTS, &events, &len) == 0)
        return (events & ZMQ_POLLIN) ? S_EV_READY : S_EV_EMPTY;
    if (errno == EINTR)
        return S_EV_RETRY;
    s_halt(w, "ZMQ_EVENTS", zmq_strerror(errno));
    return S_EV_HALTED;
}

/* With try_read: calls it until it finds the socket empty, at most the budget left. Returns
 * false when try_read closed the watcher. */
static bool s_try_reads(nw_zwatch_t *w, unsigned *n)
{
    while (*n < w->budget) {
        bool got = w->try_read(w, w->zsock, w->arg);
        if (w->state != S_RUNNING)
            return false;
        if (!got)
            break;
        (*n)++;
    }
    return true;
}

/* One turn: reads while ZMQ_POLLIN is set, at most budget messages. on_readable is called
 * after a ZMQ_EVENTS check each; try_read is called until it finds nothing, and ZMQ_EVENTS
 * asked after that, which saves a system call (libzmq polls its mailbox) per message. If
 * messages remain, leaves the idle handle active so the next loop turn continues without an fd
 * edge; otherwise stops it, and the fd (re-armed by the last ZMQ_EVENTS) wakes us for the next
 * message. A callback may close the watcher: its memory lives until the close callbacks, which
 * the loop runs later, so reading w->state after the call is safe and tells us to stop
 * touching it. */
static void s_drain(nw_zwatch_t *w)
{
    unsigned n = 0;
    for (;;) {
        if (w->try_read != NULL && !s_try_reads(w, &n))
            return;
        s_events_t ev = s_events(w);
        if (ev == S_EV_HALTED)
            return;
        if (ev == S_EV_EMPTY) {
            uv_idle_stop(&w->idle);
            return;
        }
        if (ev == S_EV_RETRY || n >= w->budget) {
            uv_idle_start(&w->idle, s_idle_cb);
            return;
        }
        if (w->try_read == NULL) {
            w->on_readable(w, w->zsock, w->arg);
            n++;
            if (w->state != S_RUNNING)
                return;
        }
    }
}

static void s_idle_cb(uv_idle_t *handle)
{
    nw_zwatch_t *w = handle->data;
    if (w->state == S_RUNNING)
        s_drain(w);
}

static void s_poll_cb(uv_poll_t *handle, int status, int events)
{
    nw_zwatch_t *w = handle->data;
    (void)events;
    if (w->state != S_RUNNING)
        return;
    if (status < 0) {
        /* libuv stops a poll handle that reports an error (e.g. UV_EBADF: the socket was
         * closed before its watcher). Nothing sensible can be read from it any more. */
        s_halt(w, "uv_poll", uv_strerror(status));
        return;
    }
    /* A pending idle turn comes first in the next iteration and drains then; draining here
     * as well would hand out up to twice the budget in one loop turn. The fd stays readable
     * (epoll is level-triggered in libuv) only until that turn's ZMQ_EVENTS re-arms it. */
    if (!uv_is_active((uv_handle_t *)&w->idle))
        s_drain(w);
    if (w->on_wake != NULL && w->state == S_RUNNING)
        w->on_wake(w, w->arg);
}

void nw_zwatch_on_wake(nw_zwatch_t *watch, nw_zwatch_wake_fn *on_wake)
{
    if (watch != NULL)
        watch->on_wake = on_wake;
}

static void s_close_cb(uv_handle_t *handle)
{
    nw_zwatch_t *w = handle->data;
    if (--w->open_handles > 0)
        return;
    nw_zwatch_closed_fn *on_closed = w->on_closed;
    void *arg = w->closed_arg;
    free(w);
    if (on_closed != NULL)
        on_closed(arg);
}

static int s_new(uv_loop_t *loop, void *zsock, unsigned budget, nw_zwatch_fn *on_readable,
                 nw_zwatch_try_fn *try_read, void *arg, nw_zwatch_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (loop == NULL || zsock == NULL || (on_readable == NULL && try_read == NULL) || out == NULL)
        return NW_ERR_INVAL;

    zmq_fd_t fd;
    size_t len = sizeof fd;
    if (zmq_getsockopt(zsock, ZMQ_FD, &fd, &len) != 0)
        return NW_ERR_ZMQ;

    int rc = NW_ERR_NOMEM;
    nw_zwatch_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        goto fail;
    /* uv_poll_init leaves the handle untouched when it fails, and uv_idle_init cannot fail,
     * so no handle needs closing on the way out. */
    rc = NW_ERR_UV;
    if (uv_poll_init_socket(loop, &w->poll, (uv_os_sock_t)fd) != 0)
        goto fail;
    uv_idle_init(loop, &w->idle);
    w->poll.data = w;
    w->idle.data = w;
    w->zsock = zsock;
    w->budget = budget ? budget : NW_ZWATCH_DEFAULT_BUDGET;
    w->on_readable = on_readable;
    w->try_read = try_read;
    w->arg = arg;
    w->state = S_CREATED;
    *out = w;
    return NW_OK;

fail:
    free(w);
    return rc;
}

int nw_zwatch_new(uv_loop_t *loop, void *zsock, unsigned budget, nw_zwatch_fn *on_readable,
                  void *arg, nw_zwatch_t **out)
{
    if (on_readable == NULL) {
        if (out != NULL)
            *out = NULL;
        return NW_ERR_INVAL;
    }
    return s_new(loop, zsock, budget, on_readable, NULL, arg, out);
}

int nw_zwatch_new_try(uv_loop_t *loop, void *zsock, unsigned budget, nw_zwatch_try_fn *try_read,
                      void *arg, nw_zwatch_t **out)
{
    if (try_read == NULL) {
        if (out != NULL)
            *out = NULL;
        return NW_ERR_INVAL;
    }
    return s_new(loop, zsock, budget, NULL, try_read, arg, out);
}

int nw_zwatch_start(nw_zwatch_t *watch)
{
    if (watch == NULL)
        return NW_ERR_INVAL;
    if (watch->state != S_CREATED)
        return watch->state == S_RUNNING ? NW_OK : NW_ERR_INVAL;
    if (uv_poll_start(&watch->poll, UV_READABLE, s_poll_cb) != 0)
        return NW_ERR_UV;
    /* The edge for anything already queued may have fired before the poll existed. */
    uv_idle_start(&watch->idle, s_idle_cb);
    watch->state = S_RUNNING;
    return NW_OK;
}

void nw_zwatch_kick(nw_zwatch_t *watch)
{
    if (watch == NULL || watch->state != S_RUNNING)
        return;
    uv_idle_start(&watch->idle, s_idle_cb);
}

void nw_zwatch_close(nw_zwatch_t **watch_p, nw_zwatch_closed_fn *on_closed, void *arg)
{
    if (watch_p == NULL || *watch_p == NULL)
        return;
    nw_zwatch_t *w = *watch_p;
    *watch_p = NULL;
    if (w->state == S_CLOSING)
        return;
    w->state = S_CLOSING;
    w->on_closed = on_closed;
    w->closed_arg = arg;
    /* Stop first: from here the fd is the owner's again (libuv's rule for uv_poll), even
     * though the memory lives on until both close callbacks have run. */
    uv_poll_stop(&w->poll);
    uv_idle_stop(&w->idle);
    w->open_handles = 2;
    uv_close((uv_handle_t *)&w->poll, s_close_cb);
    uv_close((uv_handle_t *)&w->idle, s_close_cb);
}
