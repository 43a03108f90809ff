#include "nw_stdout.h"

#include "nw_buf.h"
#include "nw_error.h"
#include "nw_log.h"
#include "nw_ratelimit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum {
    S_DIRECT = 0, /* a file: plain writes */
    S_PRIVATE,    /* our own non-blocking description of a pipe or terminal, uv_poll */
    S_SOCKET,     /* send(MSG_DONTWAIT), retried on a timer */
    S_PIPE,       /* poll(2) then at most PIPE_BUF bytes, retried on a timer */
} s_mode_t;

struct nw_stdout_t {
    uv_loop_t *loop;              /* the event loop */
    int fd;                       /* written: fd, or our own description of it */
    bool own_fd;                  /* fd was opened here */
    s_mode_t mode;                /* how fd is written without blocking */
    nw_buf_t buf;                 /* bytes waiting, from off */
    size_t off;                   /* bytes of buf already written */
    bool waiting;                 /* a write would block: wait for the poll or timer */
    bool gone;                    /* failed for good: write nothing more */
    int gone_err;                 /* ... its errno, until on_gone is told (then 0) */
    bool closing;                 /* nw_stdout_close ran */
    int open_handles;             /* handles not yet closed, for the last close callback */
    bool has_poll;                /* poll was initialised (S_PRIVATE) */
    bool shutting;                /* the handles are being closed */
    uv_prepare_t flush;           /* writes once per loop turn, before it waits */
    uv_poll_t poll;               /* S_PRIVATE: fd writable */
    uv_timer_t retry;             /* other modes: try again */
    uv_timer_t deadline;          /* closing: when the rest is dropped */
    nw_ratelimit_t drop_rl;       /* "records dropped" warnings */
    nw_stdout_stats_t stats;      /* counters */
    nw_stdout_gone_fn *on_gone;   /* told once when the reader goes away */
    void *arg;                    /* its argument */
    void (*on_closed)(void *arg); /* told once everything is closed */
    void *closed_arg;             /* its argument */
};

static void s_flush(nw_stdout_t *o);
static void s_on_writable(uv_poll_t *handle, int status, int events);
static void s_on_retry(uv_timer_t *handle);

/* One write that never blocks. Returns bytes written, or -1 with errno (EAGAIN: full). */
static ssize_t s_write_some(const nw_stdout_t *o, const char *data, size_t len)
{
    switch (o->mode) {
    case S_SOCKET: return send(o->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    case S_PIPE: {
        /* A pipe that poll(2) calls writable takes PIPE_BUF bytes without blocking. */
        struct pollfd pfd = {.fd = o->fd, .events = POLLOUT};
        if (poll(&pfd, 1, 0) <= 0) {
            errno = EAGAIN;
            return -1;
        }
        return write(o->fd, data, len < PIPE_BUF ? len : PIPE_BUF);
    }
    default: return write(o->fd, data, len);
    }
}

static void s_wait(nw_stdout_t *o)
{
    o->waiting = true;
    o->stats.stalls++;
    if (o->mode == S_PRIVATE)
        uv_poll_start(&o->poll, UV_WRITABLE, s_on_writable);
    else
        uv_timer_start(&o->retry, s_on_retry, NW_STDOUT_RETRY_MS, 0);
}

static void s_on_writable(uv_poll_t *handle, int status, int events)
{
    nw_stdout_t *o = handle->data;
    (void)events;
    uv_poll_stop(handle);
    o->waiting = false;
    if (status < 0)
        nw_log(NW_LOG_DEBUG, "standard output: poll: %s", uv_strerror(status));
    s_flush(o);
}

static void s_on_retry(uv_timer_t *handle)
{
    nw_stdout_t *o = handle->data;
    o->waiting = false;
    s_flush(o);
}

/* Standard output failed for good. The owner is told from the loop's next turn, never
 * inside nw_stdout_write: it may well close everything when told. */
static void s_go(nw_stdout_t *o, int err)
{
    nw_log(err == EPIPE ? NW_LOG_INFO : NW_LOG_ERROR, "standard output: %s; stopping",
           strerror(err));
    o->gone = true;
    o->gone_err = err;
    nw_buf_reset(&o->buf);
    o->off = 0;
}

/* Writes what waits until done, a write would block, or the reader is gone. */
static void s_flush(nw_stdout_t *o)
{
    while (!o->gone && !o->waiting && o->off < o->buf.len) {
        ssize_t n = s_write_some(o, o->buf.data + o->off, o->buf.len - o->off);
        if (n > 0)
            o->off += (size_t)n;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            s_wait(o);
        else if (n < 0 && errno != EINTR)
            s_go(o, errno);
    }
    if (o->off > 0 && o->off == o->buf.len) {
        nw_buf_reset(&o->buf);
        o->off = 0;
    }
}

static void s_on_prepare(uv_prepare_t *handle)
{
    nw_stdout_t *o = handle->data;
    s_flush(o);
    if (o->gone_err != 0 && o->on_gone != NULL) {
        int err = o->gone_err;
        o->gone_err = 0;
        o->on_gone(err, o->arg);
    }
}

/* A pipe or terminal opened again: a description of our own, safe to make non-blocking.
 * Returns the new fd, or -1. */
static int s_reopen(int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

static void s_pick_mode(nw_stdout_t *o, int fd)
{
    struct stat st;
    o->fd = fd;
    o->mode = S_DIRECT;
    if (fstat(fd, &st) != 0)
        return;
    if (S_ISSOCK(st.st_mode)) {
        o->mode = S_SOCKET;
    } else if (S_ISFIFO(st.st_mode) || (S_ISCHR(st.st_mode) && isatty(fd))) {
        int own = s_reopen(fd);
        o->mode = own >= 0 ? S_PRIVATE : S_ISFIFO(st.st_mode) ? S_PIPE : S_DIRECT;
        if (own >= 0) {
            o->fd = own;
            o->own_fd = true;
        }
    }
}

int nw_stdout_new(uv_loop_t *loop, int fd, nw_stdout_gone_fn *on_gone, void *arg, nw_stdout_t **out)
{
    nw_stdout_t *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NW_ERR_NOMEM;
    o->loop = loop;
    o->on_gone = on_gone;
    o->arg = arg;
    o->drop_rl.period_ms = 1000;
    s_pick_mode(o, fd);
    /* Check and timer initialisation cannot fail on a valid loop; the poll can (an fd libuv
     * will not watch): then the timer does the waiting. */
    uv_prepare_init(loop, &o->flush);
    uv_timer_init(loop, &o->retry);
    uv_timer_init(loop, &o->deadline);
    o->flush.data = o->retry.data = o->deadline.data = o->poll.data = o;
    o->open_handles = 3;
    if (o->mode == S_PRIVATE) {
        int rc = uv_poll_init(loop, &o->poll, o->fd);
        o->has_poll = rc == 0;
        o->open_handles += rc == 0;
        if (rc != 0) {
            nw_log(NW_LOG_DEBUG, "standard output: cannot poll it (%s); retrying on a timer",
                   uv_strerror(rc));
            o->mode = S_PIPE; /* non-blocking already: writes fail with EAGAIN when full */
        }
    }
    int rc = uv_prepare_start(&o->flush, s_on_prepare);
    if (rc != 0) {
        nw_log(NW_LOG_ERROR, "standard output: cannot watch it: %s", uv_strerror(rc));
        nw_stdout_close(&o, 0, NULL, NULL);
        return NW_ERR_UV;
    }
    *out = o;
    return NW_OK;
}

int nw_stdout_write(nw_stdout_t *o, const char *data, size_t len)
{
    if (o->gone || o->closing)
        return NW_ERR_STOPPED;
    if (o->buf.len - o->off + len > NW_STDOUT_MAX) {
        uint64_t held;
        o->stats.dropped++;
        if (nw_ratelimit_hit(&o->drop_rl, (int64_t)uv_now(o->loop), &held))
            nw_log(NW_LOG_WARN,
                   "standard output: not read; %zu bytes wait, %llu records dropped so far",
                   o->buf.len - o->off, (unsigned long long)o->stats.dropped);
        return NW_ERR_TOOBIG;
    }
    if (nw_buf_append(&o->buf, data, len) != NW_OK)
        return NW_ERR_NOMEM;
    o->stats.records++;
    if (o->buf.len - o->off > NW_STDOUT_HIGH)
        s_flush(o);
    return NW_OK;
}

size_t nw_stdout_pending(const nw_stdout_t *o)
{
    return o->buf.len - o->off;
}

nw_stdout_stats_t nw_stdout_stats(const nw_stdout_t *o)
{
    return o->stats;
}

static void s_on_handle_closed(uv_handle_t *handle)
{
    nw_stdout_t *o = handle->data;
    if (--o->open_handles > 0)
        return;
    if (o->own_fd)
        close(o->fd);
    nw_buf_free(&o->buf);
    void (*on_closed)(void *) = o->on_closed;
    void *arg = o->closed_arg;
    free(o);
    if (on_closed != NULL)
        on_closed(arg);
}

static void s_close_handles(nw_stdout_t *o)
{
    if (o->shutting)
        return;
    o->shutting = true;
    size_t left = o->buf.len - o->off;
    if (left > 0 && !o->gone)
        nw_log(NW_LOG_WARN, "standard output: not read in time; %zu bytes dropped", left);
    uv_close((uv_handle_t *)&o->flush, s_on_handle_closed);
    uv_close((uv_handle_t *)&o->retry, s_on_handle_closed);
    uv_close((uv_handle_t *)&o->deadline, s_on_handle_closed);
    if (o->has_poll)
        uv_close((uv_handle_t *)&o->poll, s_on_handle_closed);
}

/* Closing: done once everything is written, or at the deadline. */
static void s_on_deadline(uv_timer_t *handle)
{
    s_close_handles(handle->data);
}

static void s_on_closing_prepare(uv_prepare_t *handle)
{
    nw_stdout_t *o = handle->data;
    s_flush(o);
    if (o->gone || o->off >= o->buf.len)
        s_close_handles(o);
}

void nw_stdout_close(nw_stdout_t **o_p, uint64_t grace_ms, void (*on_closed)(void *arg), void *arg)
{
    if (o_p == NULL || *o_p == NULL)
        return;
    nw_stdout_t *o = *o_p;
    *o_p = NULL;
    o->closing = true;
    o->on_closed = on_closed;
    o->closed_arg = arg;
    s_flush(o);
    if (o->gone || o->off >= o->buf.len || grace_ms == 0) {
        s_close_handles(o);
        return;
    }
    uv_prepare_start(&o->flush, s_on_closing_prepare);
    uv_timer_start(&o->deadline, s_on_deadline, grace_ms, 0);
}
