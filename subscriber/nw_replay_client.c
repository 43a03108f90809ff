#include "nw_replay_client.h"

#include "nw_codec.h"
#include "nw_error.h"
#include "nw_log.h"
#include "nw_zsock.h"
#include "nw_zwatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_ENDPOINT_MAX 1024
#define S_RCVHWM       100                   /* messages queued here before the server waits */
#define S_RCV_MAX      (NW_FRAME_MAX + 1024) /* ZMQ_MAXMSGSIZE: a bigger frame drops the link */

struct nw_replay_client_t {
    uv_loop_t *loop;                 /* the caller's loop */
    void *zctx;                      /* ZeroMQ context (borrowed) */
    char endpoint[S_ENDPOINT_MAX];   /* where the replay server is */
    void *sock;                      /* the DEALER in use, owned */
    nw_zwatch_t *watch;              /* sock on the loop */
    uv_timer_t timer;                /* silence detector */
    nw_replay_client_opts_t opts;    /* defaults resolved */
    nw_replay_client_callbacks_t cb; /* the caller */
    bool busy;                       /* a request is running */
    nw_replay_request_t rq;          /* the caller's request */
    nw_replay_request_t wire;        /* what was last sent (pages, retries) */
    uint64_t wire_req;               /* req numbers on the wire, private to this client */
    unsigned tries;                  /* silent periods in a row */
    nw_replay_end_t total;           /* totals over every page */
    nw_replay_client_stats_t stats;  /* counters */
    int open_handles;                /* close callbacks still to come */
    void (*on_closed)(void *arg);    /* close callback */
    void *closed_arg;                /* its argument */
};

static bool s_on_readable(nw_zwatch_t *watch, void *zsock, void *arg);

/* --- the socket ------------------------------------------------------------------------- */

static void s_close_sock(void *sock)
{
    zmq_close(sock);
}

static void s_drop_socket(nw_replay_client_t *c)
{
    if (c->watch != NULL)
        nw_zwatch_close(&c->watch, s_close_sock, c->sock); /* the socket goes after it */
    else if (c->sock != NULL)
        zmq_close(c->sock);
    c->sock = NULL;
}

/* Makes a fresh DEALER connected to the endpoint and watched on the loop. */
static int s_new_socket(nw_replay_client_t *c)
{
    int rc;
    if ((c->sock = zmq_socket(c->zctx, ZMQ_DEALER)) == NULL)
        return NW_ERR_ZMQ;
    if (nw_zsock_set_int(c->sock, ZMQ_LINGER, 0) != NW_OK ||
        nw_zsock_set_int(c->sock, ZMQ_RCVHWM, S_RCVHWM) != NW_OK ||
        nw_zsock_set_i64(c->sock, ZMQ_MAXMSGSIZE, S_RCV_MAX) != NW_OK ||
        nw_curve_client_apply(c->sock, c->opts.curve) != NW_OK) {
        s_drop_socket(c);
        return NW_ERR_ZMQ;
    }
    if (zmq_connect(c->sock, c->endpoint) != 0) {
        s_drop_socket(c);
        return NW_ERR_ENDPOINT;
    }
    if ((rc = nw_zwatch_new_try(c->loop, c->sock, 0, s_on_readable, c, &c->watch)) != NW_OK ||
        (rc = nw_zwatch_start(c->watch)) != NW_OK) {
        s_drop_socket(c);
        return rc;
    }
    return NW_OK;
}

/* --- requests --------------------------------------------------------------------------- */

static void s_on_timer(uv_timer_t *timer);

/* Sends c->wire under a fresh wire req number and (re)arms the silence timer. */
static int s_send(nw_replay_client_t *c)
{
    char *data = NULL;
    size_t size = 0;
    c->wire.req = ++c->wire_req;
    int rc = nw_replay_request_encode(&c->wire, &data, &size);
    if (rc != NW_OK)
        return rc;
    rc = zmq_send(c->sock, data, size, ZMQ_DONTWAIT) >= 0 ? NW_OK : NW_ERR_ZMQ;
    free(data);
    nw_zwatch_kick(c->watch);
    if (rc == NW_OK)
        uv_timer_start(&c->timer, s_on_timer, c->opts.timeout_ms, 0);
    return rc;
}

static void s_finish(nw_replay_client_t *c)
{
    c->busy = false;
    uv_timer_stop(&c->timer);
}

/* Goes on from just after the last alert received (or from the start if none came). */
static void s_wire_from_last(nw_replay_client_t *c)
{
    if (c->total.count == 0)
        return;
    c->wire.start = NW_REPLAY_FROM_SEQ;
    c->wire.from_seq = c->total.last_seq + 1;
}

static void s_fail(nw_replay_client_t *c, const char *detail)
{
    char why[S_ENDPOINT_MAX + 128];
    snprintf(why, sizeof why, "replay %s: %s", c->endpoint, detail);
    s_finish(c);
    if (c->cb.on_failed != NULL)
        c->cb.on_failed(why, c->cb.arg);
}

/* Silence: replace the socket and ask again, or give up. */
static void s_on_timer(uv_timer_t *timer)
{
    nw_replay_client_t *c = timer->data;
    if (!c->busy)
        return;
    c->stats.timeouts++;
    if (++c->tries >= c->opts.retries) {
        s_drop_socket(c);
        if (s_new_socket(c) != NW_OK)
            nw_log(NW_LOG_WARN, "replay: cannot make a new socket for %s", c->endpoint);
        s_fail(c, "no answer");
        return;
    }
    nw_log(NW_LOG_INFO, "replay: no answer from %s for %u ms; asking again", c->endpoint,
           (unsigned)c->opts.timeout_ms);
    s_drop_socket(c);
    s_wire_from_last(c);
    int rc = s_new_socket(c);
    if (rc == NW_OK)
        rc = s_send(c);
    if (rc != NW_OK)
        s_fail(c, nw_strerror(rc));
}

/* --- answers ---------------------------------------------------------------------------- */

static void s_on_alert(nw_replay_client_t *c, const zmq_msg_t *topic, const zmq_msg_t *body)
{
    char name[NW_TOPIC_MAX + 1];
    size_t len = zmq_msg_size(topic);
    nw_alert_t alert;
    if (!nw_topic_valid(zmq_msg_data((zmq_msg_t *)topic), len) ||
        nw_alert_decode(zmq_msg_data((zmq_msg_t *)body), zmq_msg_size(body), &alert) != NW_OK) {
        c->stats.bad++;
        return;
    }
    memcpy(name, zmq_msg_data((zmq_msg_t *)topic), len);
    name[len] = '\0';
    if (c->total.count++ == 0)
        c->total.first_seq = alert.seq;
    c->total.last_seq = alert.seq;
    c->stats.alerts++;
    c->cb.on_alert(&alert, name, c->cb.arg);
    nw_alert_clear(&alert);
}

static void s_on_end(nw_replay_client_t *c, const zmq_msg_t *body)
{
    nw_replay_end_t end;
    if (nw_replay_end_decode(zmq_msg_data((zmq_msg_t *)body), zmq_msg_size(body), &end) != NW_OK) {
        c->stats.bad++;
        return;
    }
    if (end.req != c->wire_req && !(end.req == 0 && end.status == NW_REPLAY_ERROR))
        return; /* an answer to something we no longer wait for */
    c->stats.pages++;
    c->tries = 0;
    if (end.status == NW_REPLAY_MORE) {
        c->wire.start = NW_REPLAY_FROM_SEQ;
        c->wire.from_seq = end.next_seq;
        int rc = s_send(c);
        if (rc != NW_OK)
            s_fail(c, nw_strerror(rc));
        return;
    }
    end.req = c->rq.req;
    end.count = c->total.count;
    end.first_seq = c->total.first_seq;
    end.last_seq = c->total.last_seq;
    s_finish(c);
    if (c->cb.on_end != NULL)
        c->cb.on_end(&end, c->cb.arg);
}

static bool s_frame_is(const zmq_msg_t *m, const char *s)
{
    size_t n = strlen(s);
    return zmq_msg_size(m) == n && memcmp(zmq_msg_data((zmq_msg_t *)m), s, n) == 0;
}

static void s_on_message(nw_replay_client_t *c, zmq_msg_t *parts, size_t n)
{
    if (!c->busy)
        return;
    /* Not silent: the timer counts from this message (a one-shot timer cannot be "again"-ed,
     * so a long answer that kept coming used to time out 5 s after its request). */
    uv_timer_start(&c->timer, s_on_timer, c->opts.timeout_ms, 0);
    c->tries = 0;
    if (n == 3 && s_frame_is(&parts[0], NW_REPLAY_TOPIC))
        s_on_alert(c, &parts[1], &parts[2]);
    else if (n == 2 && s_frame_is(&parts[0], NW_REPLAY_END_TOPIC))
        s_on_end(c, &parts[1]);
    else
        c->stats.bad++;
}

/* zwatch: receives one whole message, if one is waiting; returns whether one was. */
static bool s_on_readable(nw_zwatch_t *watch, void *zsock, void *arg)
{
    nw_replay_client_t *c = arg;
    zmq_msg_t parts[3];
    size_t n = 0;
    bool more = true;
    (void)watch;
    while (more) {
        zmq_msg_t extra, *m = n < 3 ? &parts[n] : &extra;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(m);
            break;
        }
        more = zmq_msg_more(m);
        if (m == &extra)
            zmq_msg_close(m);
        n++;
    }
    if (!more)
        s_on_message(c, parts, n);
    for (size_t i = 0; i < n && i < 3; i++)
        zmq_msg_close(&parts[i]);
    return n > 0;
}

/* --- life cycle ------------------------------------------------------------------------- */

int nw_replay_client_new(uv_loop_t *loop, void *zctx, const char *endpoint,
                         const nw_replay_client_opts_t *opts,
                         const nw_replay_client_callbacks_t *cb, nw_replay_client_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (loop == NULL || zctx == NULL || endpoint == NULL || cb == NULL || cb->on_alert == NULL ||
        out == NULL || strlen(endpoint) >= S_ENDPOINT_MAX)
        return NW_ERR_INVAL;
    nw_replay_client_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NW_ERR_NOMEM;
    c->loop = loop;
    c->zctx = zctx;
    snprintf(c->endpoint, sizeof c->endpoint, "%s", endpoint);
    c->cb = *cb;
    c->opts.timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : 5000;
    c->opts.retries = opts && opts->retries ? opts->retries : 3;
    c->opts.curve = opts ? opts->curve : NULL;
    int rc = s_new_socket(c);
    if (rc != NW_OK) {
        free(c);
        return rc;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    *out = c;
    return NW_OK;
}

int nw_replay_client_cancel(nw_replay_client_t *c)
{
    if (!c->busy)
        return NW_OK;
    s_finish(c);
    s_drop_socket(c);
    return s_new_socket(c) == NW_OK ? NW_OK : NW_ERR_ZMQ;
}

int nw_replay_client_start(nw_replay_client_t *c, const nw_replay_request_t *rq)
{
    int rc;
    if ((rc = nw_replay_client_cancel(c)) != NW_OK)
        return rc;
    c->rq = *rq;
    c->wire = *rq;
    c->tries = 0;
    memset(&c->total, 0, sizeof c->total);
    c->busy = true;
    if ((rc = s_send(c)) != NW_OK)
        s_finish(c);
    return rc;
}

bool nw_replay_client_busy(const nw_replay_client_t *c)
{
    return c->busy;
}

void nw_replay_client_stats(const nw_replay_client_t *c, nw_replay_client_stats_t *stats)
{
    *stats = c->stats;
}

static void s_on_closed(uv_handle_t *handle)
{
    nw_replay_client_t *c = handle->data;
    void (*cb)(void *) = c->on_closed;
    void *arg = c->closed_arg;
    free(c);
    if (cb != NULL)
        cb(arg);
}

void nw_replay_client_close(nw_replay_client_t **c_p, void (*on_closed)(void *arg), void *arg)
{
    if (c_p == NULL || *c_p == NULL)
        return;
    nw_replay_client_t *c = *c_p;
    *c_p = NULL;
    c->busy = false;
    c->on_closed = on_closed;
    c->closed_arg = arg;
    s_drop_socket(c);
    uv_timer_stop(&c->timer);
    /* The socket is closed by the watcher's own close callback, which does not touch c. */
    uv_close((uv_handle_t *)&c->timer, s_on_closed);
}

/* --- endpoints -------------------------------------------------------------------------- */

/* nw_replay_endpoint_resolve against one host, that of connected. */
static int s_resolve(const char *advertised, const char *connected, char *out, size_t outlen)
{
    static const char star[] = "tcp://*:";
    if (advertised == NULL || advertised[0] == '\0')
        return NW_ERR_NOTFOUND;
    size_t n;
    bool tcp = connected != NULL && strncmp(connected, "tcp://", 6) == 0;
    const char *host = tcp ? connected + 6 : NULL;
    const char *colon = tcp ? strrchr(host, ':') : NULL;
    if (strncmp(advertised, star, sizeof star - 1) != 0) {
        bool ipc = strncmp(advertised, "ipc://", 6) == 0;
        bool same_host =
            colon != NULL && strncmp(advertised, "tcp://", 6) == 0 &&
            (strncmp(advertised + 6, host, (size_t)(colon - host + 1)) == 0 ||
             (nw_curve_endpoint_local(advertised) && nw_curve_endpoint_local(connected)));
        if (!same_host && !(ipc && connected != NULL && strncmp(connected, "ipc://", 6) == 0))
            return NW_ERR_PERM;
        n = (size_t)snprintf(out, outlen, "%s", advertised);
        return n < outlen ? NW_OK : NW_ERR_TOOBIG;
    }
    char name[512];
    const char *port;
    if (nw_zsock_tcp_split(connected, name, sizeof name, &port) != NW_OK)
        return NW_ERR_ENDPOINT;
    n = (size_t)snprintf(out, outlen, "tcp://%s:%s", name, advertised + sizeof star - 1);
    return n < outlen ? NW_OK : NW_ERR_TOOBIG;
}

int nw_replay_endpoint_resolve(const char *advertised, const char *connected, const char *peer,
                               char *out, size_t outlen)
{
    if (peer != NULL && peer[0] != '\0') {
        /* With several -c publishers, the host a heartbeat came from is the one it names. */
        char from[S_ENDPOINT_MAX];
        snprintf(from, sizeof from, strchr(peer, ':') ? "tcp://[%s]:0" : "tcp://%s:0", peer);
        if (s_resolve(advertised, from, out, outlen) == NW_OK)
            return NW_OK;
    }
    return s_resolve(advertised, connected, out, outlen);
}
