#include "nw_pubsock.h"

#include "nw_codec.h"
#include "nw_curve.h"
#include "nw_error.h"
#include "nw_log.h"
#include "nw_ratelimit.h"
#include "nw_topic.h"
#include "nw_zsock.h"
#include "nw_zwatch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_SHOWN_MAX  64    /* bytes of a subscription shown in a log line */
#define S_SUB_MAX    512   /* ZMQ_MAXMSGSIZE: a CURVE INITIATE (~300 B) and any useful filter */
#define S_LOG_WINDOW 10000 /* ms: at most NW_PUBSOCK_LOG_BURST subscription lines per window */

struct nw_pubsock_t {
    void *sock;                      /* the XPUB socket, owned */
    nw_zwatch_t *watch;              /* reads subscription messages from sock */
    size_t subscriptions;            /* active (subscriber, filter) pairs */
    uv_loop_t *loop;                 /* for the log window's clock */
    nw_ratelimit_t log_rl;           /* subscription lines: a burst per window */
    bool over_warned;                /* the NW_PUBSOCK_SUBS_WARN warning is out */
    nw_pubsock_closed_fn *on_closed; /* close callback, once closing */
    void *closed_arg;                /* its argument */
};

/* Writes len bytes of untrusted text into out as printable ASCII, others as \xNN. */
static void s_printable(const unsigned char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len && i < S_SHOWN_MAX && o + 5 < outlen; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\' && s[i] != '\'')
            out[o++] = (char)s[i];
        else
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", s[i]);
    }
    if (len > S_SHOWN_MAX && o + 4 < outlen)
        o += (size_t)snprintf(out + o, outlen - o, "...");
    out[o] = '\0';
}

static void s_log_held(const nw_pubsock_t *ps, uint64_t held)
{
    if (held > 0)
        nw_log(NW_LOG_INFO, "%llu more subscription changes not logged (%zu subscriptions)",
               (unsigned long long)held, ps->subscriptions);
}

/* Handles one message from the XPUB socket: byte 1 or 0 then the filter. */
static void s_on_subscription(nw_pubsock_t *ps, const unsigned char *data, size_t len)
{
    if (len == 0 || (data[0] != 0 && data[0] != 1)) {
        nw_log(NW_LOG_DEBUG, "ignoring a %zu-byte message from a subscriber", len);
        return;
    }
    if (data[0] == 1)
        ps->subscriptions++;
    else if (ps->subscriptions > 0)
        ps->subscriptions--;
    if (ps->subscriptions > NW_PUBSOCK_SUBS_WARN && !ps->over_warned) {
        ps->over_warned = true;
        nw_log(NW_LOG_WARN,
               "%zu subscriptions: more than %d; each costs publisher memory: if a client floods, "
               "restrict who may connect (--curve-allow)",
               ps->subscriptions, NW_PUBSOCK_SUBS_WARN);
    } else if (ps->subscriptions <= NW_PUBSOCK_SUBS_WARN / 2) {
        ps->over_warned = false;
    }
    /* One line per change while they are few; a flood is summarised, not logged line by line. */
    uint64_t held;
    if (!nw_ratelimit_hit(&ps->log_rl, (int64_t)uv_now(ps->loop), &held))
        return;
    s_log_held(ps, held);
    char shown[S_SHOWN_MAX * 4 + 8];
    s_printable(data + 1, len - 1, shown, sizeof shown);
    if (data[0] == 1)
        nw_log(NW_LOG_INFO, "subscriber subscribed to '%s' (%zu subscriptions)", shown,
               ps->subscriptions);
    else
        nw_log(NW_LOG_INFO, "subscriber unsubscribed from '%s' (%zu subscriptions)", shown,
               ps->subscriptions);
}

static void s_on_readable(nw_zwatch_t *watch, void *zsock, void *arg)
{
    (void)watch;
    nw_pubsock_t *ps = arg;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, zsock, ZMQ_DONTWAIT) < 0) {
        if (errno != EAGAIN && errno != EINTR)
            nw_log(NW_LOG_WARN, "alert socket: receive failed: %s", zmq_strerror(errno));
        zmq_msg_close(&msg);
        return;
    }
    s_on_subscription(ps, zmq_msg_data(&msg), zmq_msg_size(&msg));
    /* Subscription messages are single frames; swallow any further parts. */
    while (zmq_msg_more(&msg)) {
        if (zmq_msg_recv(&msg, zsock, ZMQ_DONTWAIT) < 0)
            break;
    }
    zmq_msg_close(&msg);
}

/* Binds one endpoint and logs the address it really got. */
static int s_bind(void *sock, const char *endpoint, char *err, size_t errlen)
{
    char actual[1024];
    int rc = nw_zsock_bind(sock, "--bind", endpoint, actual, sizeof actual, err, errlen);
    if (rc == NW_OK)
        nw_log(NW_LOG_INFO, "listening on %s", actual);
    return rc;
}

static int s_configure(void *sock, const nw_pubsock_opts_t *opts, char *err, size_t errlen)
{
    int rc = NW_OK;
    if (nw_zsock_set_int(sock, ZMQ_SNDHWM, opts->sndhwm) != NW_OK ||
        nw_zsock_set_int(sock, ZMQ_LINGER, opts->linger_ms) != NW_OK ||
        nw_zsock_set_int(sock, ZMQ_XPUB_VERBOSER, 1) != NW_OK ||
        nw_zsock_set_i64(sock, ZMQ_MAXMSGSIZE, S_SUB_MAX) != NW_OK) {
        snprintf(err, errlen, "alert socket: cannot set options: %s", zmq_strerror(errno));
        return NW_ERR_ZMQ;
    }
    if (opts->curve != NULL &&
        (rc = nw_curve_server_apply(sock, opts->curve, err, errlen)) != NW_OK)
        return rc;
    for (size_t i = 0; i < opts->n_binds && rc == NW_OK; i++)
        rc = s_bind(sock, opts->binds[i], err, errlen);
    return rc;
}

static void s_on_watch_closed(void *arg)
{
    nw_pubsock_t *ps = arg;
    zmq_close(ps->sock);
    nw_pubsock_closed_fn *on_closed = ps->on_closed;
    void *closed_arg = ps->closed_arg;
    free(ps);
    if (on_closed != NULL)
        on_closed(closed_arg);
}

int nw_pubsock_new(uv_loop_t *loop, void *zctx, const nw_pubsock_opts_t *opts, nw_pubsock_t **out,
                   char *err, size_t errlen)
{
    nw_pubsock_t *ps = calloc(1, sizeof *ps);
    if (ps == NULL) {
        snprintf(err, errlen, "alert socket: %s", nw_strerror(NW_ERR_NOMEM));
        return NW_ERR_NOMEM;
    }
    int rc = NW_ERR_ZMQ;
    ps->loop = loop;
    ps->log_rl = (nw_ratelimit_t){.period_ms = S_LOG_WINDOW, .burst = NW_PUBSOCK_LOG_BURST};
    if ((ps->sock = zmq_socket(zctx, ZMQ_XPUB)) == NULL) {
        snprintf(err, errlen, "alert socket: %s", zmq_strerror(errno));
        goto fail;
    }
    if ((rc = s_configure(ps->sock, opts, err, errlen)) != NW_OK)
        goto fail;
    if ((rc = nw_zwatch_new(loop, ps->sock, 0, s_on_readable, ps, &ps->watch)) != NW_OK ||
        (rc = nw_zwatch_start(ps->watch)) != NW_OK) {
        snprintf(err, errlen, "alert socket: cannot watch it: %s", nw_strerror(rc));
        goto fail;
    }
    *out = ps;
    return NW_OK;
fail:
    if (ps->sock != NULL)
        nw_zsock_set_int(ps->sock, ZMQ_LINGER, 0);
    if (ps->watch != NULL) {
        /* The socket must outlive the watcher: both go when the loop closes its handles. */
        nw_zwatch_close(&ps->watch, s_on_watch_closed, ps);
        return rc;
    }
    if (ps->sock != NULL) {
        zmq_close(ps->sock);
    }
    free(ps);
    return rc;
}

/* Sends one frame, retrying when a signal interrupts the call. */
static int s_send(void *sock, const void *data, size_t len, int flags)
{
    for (int tries = 0; tries < 16; tries++) {
        if (zmq_send(sock, data, len, flags | ZMQ_DONTWAIT) >= 0)
            return NW_OK;
        if (errno != EINTR)
            break;
    }
    nw_log(NW_LOG_ERROR, "alert socket: send failed: %s", zmq_strerror(errno));
    return NW_ERR_ZMQ;
}

static int s_send_two(nw_pubsock_t *ps, const char *topic, const void *data, size_t size)
{
    int rc = s_send(ps->sock, topic, strlen(topic), ZMQ_SNDMORE);
    if (rc == NW_OK)
        rc = s_send(ps->sock, data, size, 0);
    return rc;
}

int nw_pubsock_send_frame(nw_pubsock_t *ps, const nw_alert_t *alert, const void *frame, size_t size)
{
    int rc = NW_OK;
    for (size_t i = 0; i < alert->n_topics && rc == NW_OK; i++)
        rc = s_send_two(ps, alert->topics[i].name, frame, size);
    /* A send may consume the fd's edge that announced a subscription. */
    nw_zwatch_kick(ps->watch);
    return rc;
}

int nw_pubsock_send_heartbeat(nw_pubsock_t *ps, const nw_heartbeat_t *hb)
{
    char *data = NULL;
    size_t size = 0;
    int rc = nw_heartbeat_encode(hb, &data, &size);
    if (rc != NW_OK)
        return rc;
    rc = s_send_two(ps, NW_TOPIC_HEARTBEAT, data, size);
    free(data);
    uint64_t held; /* the summary of a flood comes even when the flood is over */
    if (nw_ratelimit_pending(&ps->log_rl, (int64_t)uv_now(ps->loop), &held))
        s_log_held(ps, held);
    nw_zwatch_kick(ps->watch);
    return rc;
}

void nw_pubsock_close(nw_pubsock_t **ps_p, nw_pubsock_closed_fn *on_closed, void *arg)
{
    if (ps_p == NULL || *ps_p == NULL)
        return;
    nw_pubsock_t *ps = *ps_p;
    *ps_p = NULL;
    ps->on_closed = on_closed;
    ps->closed_arg = arg;
    nw_zwatch_close(&ps->watch, s_on_watch_closed, ps);
}

void *nw_pubsock_socket(const nw_pubsock_t *ps)
{
    return ps->sock;
}

size_t nw_pubsock_subscriptions(const nw_pubsock_t *ps)
{
    return ps->subscriptions;
}
