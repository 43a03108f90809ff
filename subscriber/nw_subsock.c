#include "nw_subsock.h"

#include "nw_codec.h"
#include "nw_error.h"
#include "nw_log.h"
#include "nw_ratelimit.h"
#include "nw_topic.h"
#include "nw_zsock.h"
#include "nw_zwatch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct nw_subsock_t {
    uv_loop_t *loop;              /* for the time of bad-frame reports */
    void *sock;                   /* the SUB socket, owned */
    nw_zwatch_t *watch;           /* reads sock on the loop */
    char **topics;                /* -t filters, copied */
    size_t n_topics;              /* entries of topics */
    bool alerts;                  /* decode alert frames (false with --probe) */
    bool closed;                  /* close ran: no callback any more */
    nw_subsock_callbacks_t cb;    /* the owner */
    nw_subsock_stats_t stats;     /* counters */
    nw_ratelimit_t bad_rl;        /* bad-frame log lines */
    char bad_reason[160];         /* the last bad frame's fault */
    void (*on_closed)(void *arg); /* told once closed */
    void *closed_arg;             /* its argument */
};

/* Counts a bad frame and logs it, at most one line a second. */
static void s_bad(nw_subsock_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_bad(nw_subsock_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->bad_reason, sizeof s->bad_reason, fmt, ap);
    va_end(ap);
    s->stats.bad++;
    uint64_t held;
    if (nw_ratelimit_hit(&s->bad_rl, (int64_t)uv_now(s->loop), &held))
        nw_log(NW_LOG_WARN, "bad frame ignored: %s (%" PRIu64 " bad frames so far)", s->bad_reason,
               s->stats.bad);
}

void nw_subsock_tick(nw_subsock_t *s)
{
    uint64_t held;
    if (nw_ratelimit_pending(&s->bad_rl, (int64_t)uv_now(s->loop), &held))
        nw_log(NW_LOG_WARN, "%" PRIu64 " more bad frames ignored (last: %s; %" PRIu64 " so far)",
               held, s->bad_reason, s->stats.bad);
}

/* True when topic matches a -t filter (or there are none). */
static bool s_wanted(const nw_subsock_t *s, const char *topic)
{
    for (size_t i = 0; i < s->n_topics; i++) {
        if (nw_topic_matches(s->topics[i], topic))
            return true;
    }
    return s->n_topics == 0;
}

static void s_on_alert_frame(nw_subsock_t *s, const char *topic, const void *body, size_t size)
{
    s->stats.received++;
    if (!s->alerts || !s_wanted(s, topic)) {
        s->stats.filtered++;
        return;
    }
    nw_alert_t alert;
    int rc = nw_alert_decode(body, size, &alert);
    if (rc != NW_OK) {
        s_bad(s, "alert on '%s' (%zu bytes): %s", topic, size, nw_strerror(rc));
        return;
    }
    if (nw_alert_find_topic(&alert, topic) < 0)
        s_bad(s, "alert %s arrived on '%s', which is not among its topics", alert.id, topic);
    else
        s->cb.on_alert(&alert, topic, s->cb.arg);
    nw_alert_clear(&alert);
}

static void s_on_heartbeat_frame(nw_subsock_t *s, const void *body, size_t size, const char *peer)
{
    nw_heartbeat_t hb;
    int rc = nw_heartbeat_decode(body, size, &hb);
    if (rc != NW_OK) {
        s_bad(s, "heartbeat of %zu bytes: %s", size, nw_strerror(rc));
        return;
    }
    nw_log(NW_LOG_DEBUG, "heartbeat: stream %s seq %" PRIu64, hb.stream, hb.seq);
    s->cb.on_heartbeat(&hb, peer, s->cb.arg);
    nw_heartbeat_clear(&hb);
}

/* Routes one two-frame message by its topic frame. */
static void s_on_message(nw_subsock_t *s, zmq_msg_t *parts, size_t n)
{
    if (n != 2) {
        s_bad(s, "%zu frames, expected 2 (topic, alert)", n);
        return;
    }
    const char *frame = zmq_msg_data(&parts[0]);
    size_t len = zmq_msg_size(&parts[0]);
    const void *body = zmq_msg_data(&parts[1]);
    size_t size = zmq_msg_size(&parts[1]);
    if (nw_topic_is_control(frame, len)) {
        if (len == strlen(NW_TOPIC_HEARTBEAT) && memcmp(frame, NW_TOPIC_HEARTBEAT, len) == 0)
            s_on_heartbeat_frame(s, body, size, zmq_msg_gets(&parts[1], "Peer-Address"));
        return; /* other control topics are for later protocol versions */
    }
    if (!nw_topic_valid(frame, len)) {
        s_bad(s, "topic frame of %zu bytes is not a valid topic", len);
        return;
    }
    char topic[NW_TOPIC_MAX + 1];
    memcpy(topic, frame, len);
    topic[len] = '\0';
    s_on_alert_frame(s, topic, body, size);
}

/* zwatch: receives one whole message, if one is waiting (returns whether one was). Keeps its
 * first two frames and counts the rest. */
static bool s_on_readable(nw_zwatch_t *watch, void *zsock, void *arg)
{
    nw_subsock_t *s = arg;
    zmq_msg_t parts[3];
    size_t n = 0;
    bool more = true;
    (void)watch;
    while (more) {
        zmq_msg_t *m = &parts[n < 2 ? n : 2];
        zmq_msg_init(m);
        if (zmq_msg_recv(m, zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(m);
            if (errno != EAGAIN && errno != EINTR)
                nw_log(NW_LOG_ERROR, "receive: %s", zmq_strerror(errno));
            break;
        }
        more = zmq_msg_more(m);
        if (n >= 2)
            zmq_msg_close(m);
        n++;
    }
    if (!more && !s->closed)
        s_on_message(s, parts, n);
    for (size_t i = 0; i < n && i < 2; i++)
        zmq_msg_close(&parts[i]);
    return n > 0;
}

/* Every option of the SUB socket, in one place (security options belong here too). */
static int s_configure(void *sock, const nw_subsock_opts_t *opts)
{
    if (nw_zsock_set_int(sock, ZMQ_RCVHWM, opts->rcvhwm) != NW_OK ||
        nw_zsock_set_int(sock, ZMQ_LINGER, 0) != NW_OK ||
        nw_zsock_set_int(sock, ZMQ_RECONNECT_IVL, 100) != NW_OK ||
        nw_zsock_set_int(sock, ZMQ_RECONNECT_IVL_MAX, 2000) != NW_OK ||
        nw_zsock_set_int(sock, ZMQ_HEARTBEAT_IVL, 5000) != NW_OK ||
        nw_zsock_set_int(sock, ZMQ_HEARTBEAT_TIMEOUT, 15000) != NW_OK ||
        /* No ZMQ_MAXMSGSIZE: libzmq 4.3 drops a connection whose peer sends a bigger frame
         * and never reconnects it, so one oversized frame would leave the subscriber deaf
         * for good. Oversized frames are dropped by the decoder instead, and counted. */
        nw_zsock_set_i64(sock, ZMQ_MAXMSGSIZE, -1) != NW_OK ||
        nw_curve_client_apply(sock, opts->curve) != NW_OK)
        return NW_ERR_ZMQ;
    return NW_OK;
}

/* Subscribes to each -t topic (the byte prefix; frames are re-checked) and to the control
 * topics, or to everything. */
static int s_subscribe(void *sock, const nw_subsock_opts_t *opts)
{
    int rc = 0;
    if (opts->n_topics == 0)
        return zmq_setsockopt(sock, ZMQ_SUBSCRIBE, "", 0) == 0 ? NW_OK : NW_ERR_ZMQ;
    for (size_t i = 0; rc == 0 && i < opts->n_topics; i++)
        rc = zmq_setsockopt(sock, ZMQ_SUBSCRIBE, opts->topics[i], strlen(opts->topics[i]));
    if (rc == 0)
        rc = zmq_setsockopt(sock, ZMQ_SUBSCRIBE, NW_TOPIC_CONTROL_PREFIX,
                            strlen(NW_TOPIC_CONTROL_PREFIX));
    return rc == 0 ? NW_OK : NW_ERR_ZMQ;
}

static void s_free(nw_subsock_t *s)
{
    for (size_t i = 0; i < s->n_topics; i++)
        free(s->topics[i]);
    free(s->topics);
    free(s);
}

static void s_on_watch_closed(void *arg)
{
    nw_subsock_t *s = arg;
    zmq_close(s->sock); /* linger 0: returns at once */
    void (*on_closed)(void *) = s->on_closed;
    void *closed_arg = s->closed_arg;
    s_free(s);
    if (on_closed != NULL)
        on_closed(closed_arg);
}

static int s_copy_topics(nw_subsock_t *s, const nw_subsock_opts_t *opts)
{
    if (opts->n_topics > 0 && (s->topics = calloc(opts->n_topics, sizeof *s->topics)) == NULL)
        return NW_ERR_NOMEM;
    for (; s->n_topics < opts->n_topics; s->n_topics++) {
        if ((s->topics[s->n_topics] = strdup(opts->topics[s->n_topics])) == NULL)
            return NW_ERR_NOMEM;
    }
    return NW_OK;
}

/* Sets up sock in s: options, subscriptions, connections, the watcher. */
static int s_open(nw_subsock_t *s, const nw_subsock_opts_t *opts, char *err, size_t errlen)
{
    int rc;
    if (s_configure(s->sock, opts) != NW_OK || s_subscribe(s->sock, opts) != NW_OK) {
        snprintf(err, errlen, "cannot set up the SUB socket: %s", zmq_strerror(errno));
        return NW_ERR_ZMQ;
    }
    for (size_t i = 0; i < opts->n_endpoints; i++) {
        if ((rc = nw_zsock_connect(s->sock, "-c/--connect", opts->endpoints[i], err, errlen)) !=
            NW_OK)
            return rc;
        nw_log(NW_LOG_DEBUG, "connecting to %s", opts->endpoints[i]);
    }
    if ((rc = nw_zwatch_new_try(s->loop, s->sock, 0, s_on_readable, s, &s->watch)) != NW_OK ||
        (rc = nw_zwatch_start(s->watch)) != NW_OK) {
        snprintf(err, errlen, "cannot watch the SUB socket: %s", nw_strerror(rc));
        return rc;
    }
    return NW_OK;
}

int nw_subsock_new(uv_loop_t *loop, void *zctx, const nw_subsock_opts_t *opts,
                   const nw_subsock_callbacks_t *cb, nw_subsock_t **out, char *err, size_t errlen)
{
    *out = NULL;
    nw_subsock_t *s = calloc(1, sizeof *s);
    if (s == NULL || s_copy_topics(s, opts) != NW_OK) {
        snprintf(err, errlen, "SUB socket: %s", nw_strerror(NW_ERR_NOMEM));
        if (s != NULL)
            s_free(s);
        return NW_ERR_NOMEM;
    }
    s->loop = loop;
    s->cb = *cb;
    s->alerts = opts->alerts;
    s->bad_rl.period_ms = 1000;
    if ((s->sock = zmq_socket(zctx, ZMQ_SUB)) == NULL) {
        snprintf(err, errlen, "cannot create the SUB socket: %s", zmq_strerror(errno));
        s_free(s);
        return NW_ERR_ZMQ;
    }
    int rc = s_open(s, opts, err, errlen);
    if (rc == NW_OK) {
        *out = s;
        return NW_OK;
    }
    s->closed = true;
    if (s->watch != NULL) {
        nw_zwatch_close(&s->watch, s_on_watch_closed, s); /* the socket goes after it */
        return rc;
    }
    zmq_close(s->sock);
    s_free(s);
    return rc;
}

nw_subsock_stats_t nw_subsock_stats(const nw_subsock_t *s)
{
    return s->stats;
}

void nw_subsock_close(nw_subsock_t **s_p, void (*on_closed)(void *arg), void *arg)
{
    if (s_p == NULL || *s_p == NULL)
        return;
    nw_subsock_t *s = *s_p;
    *s_p = NULL;
    s->closed = true;
    s->on_closed = on_closed;
    s->closed_arg = arg;
    nw_zwatch_close(&s->watch, s_on_watch_closed, s);
}
