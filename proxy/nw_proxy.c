#include "nw_proxy.h"

#include "nw_alert.h"
#include "nw_error.h"
#include "nw_hbrewrite.h"
#include "nw_log.h"
#include "nw_proxy_replay.h"
#include "nw_ratelimit.h"
#include "nw_zap_core.h"
#include "nw_zsock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define S_BATCH          1000 /* messages taken from one socket per wake-up (as zmq_proxy) */
#define S_SUB_MAX        4096 /* bytes of a subscription message from a subscriber */
#define S_HEARTBEAT      "$nw.heartbeat"
#define S_ENDPOINT_MAX   NW_HBREWRITE_ENDPOINT_MAX
#define S_ITEMS_FIXED    4 /* stop pipe, control, XPUB, ZAP come before the XSUBs in the poll set */
#define S_SUB_LOG_BURST  50    /* subscription lines per window, as the publisher */
#define S_SUB_LOG_WINDOW 10000 /* ms */

struct nw_proxy_t {
    void *zctx;                      /* not owned */
    nw_proxy_opts_t opts;            /* the caller's; its pointers are used only in nw_proxy_new */
    char **upstreams;                /* copies of opts.upstreams, opts.n_upstreams entries */
    void *xpub;                      /* subscribers' side */
    void **xsubs;                    /* one per upstream, opts.n_upstreams */
    void *control;                   /* REP, NULL without --control */
    nw_zap_core_t *zap;              /* --curve-allow handler, NULL without */
    nw_curve_client_t curve_client;  /* copy of *opts.curve_client */
    void *stop;                      /* PAIR bound at stop_ep */
    char stop_ep[64];                /* inproc endpoint of stop */
    char (*bound)[S_ENDPOINT_MAX];   /* actual endpoint per bind */
    char advertised[S_ENDPOINT_MAX]; /* replay endpoint put in heartbeats, "" for none */
    nw_proxy_replay_t *replay;       /* replay front end, NULL without one */
    zmq_pollitem_t *items;           /* S_ITEMS_FIXED + n_upstreams */
    bool paused;                     /* PAUSE: upstream is not read */
    bool terminated;                 /* TERMINATE arrived */
    nw_proxy_stats_t stats;          /* counters */
    nw_ratelimit_t sub_rl;           /* subscription lines: a burst per window */
};

/* --- set-up -------------------------------------------------------------------------------- */

static int s_open_xpub(nw_proxy_t *p, char *err, size_t errlen)
{
    if ((p->xpub = zmq_socket(p->zctx, ZMQ_XPUB)) == NULL ||
        nw_zsock_set_int(p->xpub, ZMQ_SNDHWM, p->opts.hwm) != NW_OK ||
        nw_zsock_set_int(p->xpub, ZMQ_LINGER, 0) != NW_OK ||
        nw_zsock_set_i64(p->xpub, ZMQ_MAXMSGSIZE, S_SUB_MAX) != NW_OK) {
        snprintf(err, errlen, "--bind: cannot create the XPUB socket: %s", zmq_strerror(errno));
        return NW_ERR_ZMQ;
    }
    char why[256];
    if (p->opts.curve != NULL &&
        nw_curve_server_apply(p->xpub, p->opts.curve, why, sizeof why) != NW_OK) {
        snprintf(err, errlen, "--curve-secret: %s", why);
        return NW_ERR_ZMQ;
    }
    for (size_t i = 0; i < p->opts.n_binds; i++) {
        int rc = nw_zsock_bind(p->xpub, "--bind", p->opts.binds[i], p->bound[i], S_ENDPOINT_MAX,
                               err, errlen);
        if (rc != NW_OK)
            return rc;
        nw_log(NW_LOG_INFO, "listening on %s", p->bound[i]);
    }
    return NW_OK;
}

static int s_open_xsubs(nw_proxy_t *p, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->opts.n_upstreams; i++) {
        const char *ep = p->upstreams[i];
        void *s = p->xsubs[i] = zmq_socket(p->zctx, ZMQ_XSUB);
        /* No send limit: past it, XSUB drops subscription messages without a word, and a
         * lost one means a subscriber that never gets its topic. They are as many as the
         * subscribers' filters, which the XPUB already holds. */
        if (s == NULL || nw_zsock_set_int(s, ZMQ_RCVHWM, p->opts.hwm) != NW_OK ||
            nw_zsock_set_int(s, ZMQ_SNDHWM, 0) != NW_OK ||
            nw_zsock_set_int(s, ZMQ_LINGER, 0) != NW_OK ||
            nw_zsock_set_i64(s, ZMQ_MAXMSGSIZE, NW_FRAME_MAX) != NW_OK ||
            nw_curve_client_apply(s, p->opts.curve_client) != NW_OK || zmq_connect(s, ep) != 0) {
            snprintf(err, errlen, "--connect %s: %s", ep, zmq_strerror(errno));
            return NW_ERR_ENDPOINT;
        }
        nw_log(NW_LOG_INFO, "upstream: connecting to %s", ep);
    }
    return NW_OK;
}

static int s_open_control(nw_proxy_t *p, char *err, size_t errlen)
{
    snprintf(p->stop_ep, sizeof p->stop_ep, "inproc://nw-proxy-stop-%p", (void *)p);
    if ((p->stop = zmq_socket(p->zctx, ZMQ_PAIR)) == NULL ||
        nw_zsock_set_int(p->stop, ZMQ_LINGER, 0) != NW_OK || zmq_bind(p->stop, p->stop_ep) != 0) {
        snprintf(err, errlen, "cannot create the stop socket: %s", zmq_strerror(errno));
        return NW_ERR_ZMQ;
    }
    if (p->opts.control == NULL)
        return NW_OK;
    if ((p->control = zmq_socket(p->zctx, ZMQ_REP)) == NULL ||
        nw_zsock_set_int(p->control, ZMQ_LINGER, 0) != NW_OK) {
        snprintf(err, errlen, "--control: cannot create the socket: %s", zmq_strerror(errno));
        return NW_ERR_ZMQ;
    }
    int rc = nw_zsock_bind(p->control, "--control", p->opts.control, NULL, 0, err, errlen);
    if (rc != NW_OK)
        return rc;
    nw_log(NW_LOG_INFO, "control: listening on %s", p->opts.control);
    return NW_OK;
}

int nw_proxy_new(void *zctx, const nw_proxy_opts_t *opts, nw_proxy_t **out, char *err,
                 size_t errlen)
{
    int rc = NW_ERR_NOMEM;
    *out = NULL;
    nw_proxy_t *p = calloc(1, sizeof *p);
    if (p == NULL || opts->n_upstreams == 0 || opts->n_binds == 0) {
        snprintf(err, errlen, p == NULL ? "out of memory" : "no --connect or no --bind");
        free(p);
        return p == NULL ? NW_ERR_NOMEM : NW_ERR_INVAL;
    }
    p->zctx = zctx;
    p->opts = *opts;
    p->sub_rl = (nw_ratelimit_t){.period_ms = S_SUB_LOG_WINDOW, .burst = S_SUB_LOG_BURST};
    if (opts->curve_client != NULL) {
        p->curve_client = *opts->curve_client;
        p->opts.curve_client = &p->curve_client;
    }
    p->xsubs = calloc(opts->n_upstreams, sizeof *p->xsubs);
    p->upstreams = calloc(opts->n_upstreams, sizeof *p->upstreams);
    for (size_t i = 0; p->upstreams != NULL && i < opts->n_upstreams; i++) {
        if ((p->upstreams[i] = strdup(opts->upstreams[i])) == NULL) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    p->bound = calloc(opts->n_binds, sizeof *p->bound);
    p->items = calloc(S_ITEMS_FIXED + opts->n_upstreams, sizeof *p->items);
    if (p->xsubs == NULL || p->upstreams == NULL || p->bound == NULL || p->items == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* The ZAP handler first: libzmq asks it about handshakes as soon as a CURVE server binds. */
    if (opts->curve != NULL && opts->curve_allow_dir != NULL &&
        (rc = nw_zap_core_open(zctx, opts->curve_allow_dir, &p->zap, err, errlen)) != NW_OK)
        goto fail;
    if ((rc = s_open_control(p, err, errlen)) != NW_OK ||
        (rc = s_open_xpub(p, err, errlen)) != NW_OK)
        goto fail;
    if (opts->replay_bind != NULL &&
        (rc = nw_proxy_replay_new(zctx, opts->replay_bind, opts->curve, p->opts.curve_client,
                                  p->advertised, sizeof p->advertised, &p->replay, err, errlen)) !=
            NW_OK)
        goto fail;
    if ((rc = s_open_xsubs(p, err, errlen)) != NW_OK)
        goto fail;
    *out = p;
    return NW_OK;
fail:
    nw_proxy_destroy(&p);
    return rc;
}

const char *nw_proxy_stop_endpoint(const nw_proxy_t *p)
{
    return p->stop_ep;
}

const char *nw_proxy_bound(const nw_proxy_t *p, size_t i)
{
    return i < p->opts.n_binds ? p->bound[i] : "";
}

const char *nw_proxy_replay_advertised(const nw_proxy_t *p)
{
    return p->advertised;
}

void nw_proxy_stats(const nw_proxy_t *p, nw_proxy_stats_t *stats)
{
    *stats = p->stats;
}

/* --- forwarding ---------------------------------------------------------------------------- */

/* Sends m on the XPUB (ZeroMQ drops it for a subscriber at its high-water mark; the XPUB
 * never blocks) and counts it. */
static void s_send_down(nw_proxy_t *p, zmq_msg_t *m, bool more)
{
    p->stats.down_bytes_out += zmq_msg_size(m);
    if (zmq_msg_send(m, p->xpub, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0)
        zmq_msg_close(m);
}

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Frees a rewritten heartbeat once libzmq has sent it. */
static void s_free_data(void *data, void *hint)
{
    (void)hint;
    free(data);
}

/* Logs how many subscription lines a flood held back, if any. */
static void s_log_held(uint64_t held)
{
    if (held > 0)
        nw_log(NW_LOG_INFO, "%llu more subscription changes not logged", (unsigned long long)held);
}

/* The heartbeat's body has arrived in body (topic already sent): send the rewritten one
 * and tell the replay front end where the stream's replays go. */
static void s_heartbeat(nw_proxy_t *p, size_t up, zmq_msg_t *body)
{
    uint64_t held; /* the summary of a subscription flood comes even when it is over */
    if (nw_ratelimit_pending(&p->sub_rl, (int64_t)s_now_ms(), &held))
        s_log_held(held);
    nw_hbrewrite_info_t info;
    char *out = NULL;
    size_t size = 0;
    const char *advertise = p->replay != NULL ? p->advertised : NULL;
    int rc = nw_hbrewrite(zmq_msg_data(body), zmq_msg_size(body), p->upstreams[up], advertise,
                          &info, &out, &size);
    if (rc != NW_OK) {
        p->stats.bad_heartbeats++;
        nw_log(NW_LOG_DEBUG, "heartbeat from %s forwarded as is: %s", p->upstreams[up],
               nw_strerror(rc));
        s_send_down(p, body, false);
        return;
    }
    p->stats.heartbeats++;
    /* The route first: a subscriber may ask for a replay as soon as it has the heartbeat,
     * and the front end reads its pipe before it routes a request. */
    if (p->replay != NULL && nw_proxy_replay_learn(p->replay, info.stream, info.upstream) != NW_OK)
        nw_log(NW_LOG_DEBUG, "replay: route of stream %s not passed on", info.stream);
    zmq_msg_t rewritten;
    if (zmq_msg_init_data(&rewritten, out, size, s_free_data, NULL) != 0) {
        free(out);
        nw_log(NW_LOG_DEBUG, "heartbeat from %s forwarded as is: %s", p->upstreams[up],
               zmq_strerror(errno));
        s_send_down(p, body, false);
        return;
    }
    zmq_msg_close(body);
    s_send_down(p, &rewritten, false);
}

/* Forwards one whole message from upstream up to the subscribers. Returns false when none
 * was waiting. */
static bool s_forward_down(nw_proxy_t *p, size_t up)
{
    void *xsub = p->xsubs[up];
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, xsub, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return false;
    }
    p->stats.up_msgs_in++;
    p->stats.down_msgs_out++;
    bool more = zmq_msg_more(&m);
    size_t size = zmq_msg_size(&m);
    p->stats.up_bytes_in += size;
    bool heartbeat =
        more && size == sizeof S_HEARTBEAT - 1 && memcmp(zmq_msg_data(&m), S_HEARTBEAT, size) == 0;
    s_send_down(p, &m, more);
    for (int part = 1; more; part++) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, xsub, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        p->stats.up_bytes_in += zmq_msg_size(&m);
        if (heartbeat && part == 1 && !more)
            s_heartbeat(p, up, &m);
        else
            s_send_down(p, &m, more);
    }
    return true;
}

/* Logs a subscription change the way the publisher does: a burst of lines per window, the
 * rest of a flood summarised. */
static void s_log_subscription(nw_proxy_t *p, const unsigned char *data, size_t size)
{
    uint64_t held;
    if (!nw_ratelimit_hit(&p->sub_rl, (int64_t)s_now_ms(), &held))
        return;
    s_log_held(held);
    char shown[80];
    size_t n = 0;
    for (size_t i = 1; i < size && n + 5 < sizeof shown; i++)
        n += (size_t)snprintf(shown + n, sizeof shown - n,
                              data[i] >= 0x20 && data[i] < 0x7f ? "%c" : "\\x%02x", data[i]);
    shown[n] = '\0';
    nw_log(NW_LOG_INFO, "subscription %s '%s' (passed upstream)",
           data[0] == 1 ? "added" : "dropped", shown);
}

/* Forwards one subscription message from the subscribers to every upstream. Returns false
 * when none was waiting. */
static bool s_forward_up(nw_proxy_t *p)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, p->xpub, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return false;
    }
    size_t size = zmq_msg_size(&m);
    const unsigned char *data = zmq_msg_data(&m);
    p->stats.down_msgs_in++;
    p->stats.down_bytes_in += size;
    if (size >= 1 && (data[0] == 0 || data[0] == 1) && !zmq_msg_more(&m)) {
        s_log_subscription(p, data, size);
        for (size_t i = 0; i < p->opts.n_upstreams; i++) {
            if (zmq_send(p->xsubs[i], data, size, ZMQ_DONTWAIT) == (int)size) {
                p->stats.up_msgs_out++;
                p->stats.up_bytes_out += size;
            }
        }
    } else {
        nw_log(NW_LOG_DEBUG, "ignoring a %zu-byte message from a subscriber", size);
    }
    zmq_msg_close(&m);
    int more = 0;
    size_t len = sizeof more;
    while (zmq_getsockopt(p->xpub, ZMQ_RCVMORE, &more, &len) == 0 && more) {
        zmq_msg_init(&m);
        zmq_msg_recv(&m, p->xpub, 0);
        zmq_msg_close(&m);
    }
    return true;
}

/* --- control ------------------------------------------------------------------------------- */

static void s_reply_stats(nw_proxy_t *p)
{
    const uint64_t v[8] = {p->stats.up_msgs_in,    p->stats.up_bytes_in,   p->stats.up_msgs_out,
                           p->stats.up_bytes_out,  p->stats.down_msgs_in,  p->stats.down_bytes_in,
                           p->stats.down_msgs_out, p->stats.down_bytes_out};
    for (int i = 0; i < 8; i++)
        zmq_send(p->control, &v[i], sizeof v[i], i < 7 ? ZMQ_SNDMORE : 0);
}

/* Applies one command; reply (may be NULL) gets "OK" or "ERROR ...". */
static void s_command(nw_proxy_t *p, const char *cmd, char *reply, size_t len)
{
    const char *answer = "OK";
    if (strcmp(cmd, "PAUSE") == 0)
        p->paused = true;
    else if (strcmp(cmd, "RESUME") == 0)
        p->paused = false;
    else if (strcmp(cmd, "TERMINATE") == 0)
        p->terminated = true;
    else if (strcmp(cmd, "RELOAD") == 0 && p->zap == NULL)
        answer = "ERROR nothing to reload (no --curve-allow)";
    else if (strcmp(cmd, "RELOAD") == 0 && nw_zap_core_reload(p->zap) != NW_OK)
        answer = "ERROR --curve-allow folder not read; the previous allowlist is kept";
    else if (strcmp(cmd, "RELOAD") != 0)
        answer = "ERROR unknown command (PAUSE, RESUME, TERMINATE, RELOAD, STATISTICS)";
    if (answer[0] == 'O' && reply != NULL) /* the stop pipe's TERMINATE is logged by its sender */
        nw_log(NW_LOG_INFO, "control: %s", cmd);
    if (reply != NULL)
        snprintf(reply, len, "%s", answer);
}

/* Receives one single-frame command from sock into cmd. Returns false when the message
 * was not one (then it is drained). */
static bool s_recv_command(void *sock, char *cmd, size_t len)
{
    int n = zmq_recv(sock, cmd, len - 1, ZMQ_DONTWAIT);
    int more = 0;
    size_t size = sizeof more;
    bool single = n >= 0 && zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &size) == 0 && !more;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, sock, 0);
        zmq_msg_close(&m);
        zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &size);
    }
    if (n < 0)
        return false;
    cmd[(size_t)n < len - 1 ? (size_t)n : len - 1] = '\0';
    return single && (size_t)n < len - 1;
}

static void s_on_control(nw_proxy_t *p)
{
    char cmd[32], reply[96];
    if (!s_recv_command(p->control, cmd, sizeof cmd)) {
        zmq_send(p->control, "ERROR a command is one short frame", 34, 0);
        return;
    }
    if (strcmp(cmd, "STATISTICS") == 0) {
        s_reply_stats(p);
        return;
    }
    s_command(p, cmd, reply, sizeof reply);
    zmq_send(p->control, reply, strlen(reply), 0);
}

static void s_on_stop(nw_proxy_t *p)
{
    char cmd[32];
    if (s_recv_command(p->stop, cmd, sizeof cmd))
        s_command(p, cmd, NULL, 0);
}

/* --- the loop ------------------------------------------------------------------------------ */

int nw_proxy_run(nw_proxy_t *p)
{
    size_t n = S_ITEMS_FIXED + p->opts.n_upstreams;
    p->items[0] = (zmq_pollitem_t){.socket = p->stop, .events = ZMQ_POLLIN};
    p->items[1] = (zmq_pollitem_t){.socket = p->control, .events = ZMQ_POLLIN};
    p->items[2] = (zmq_pollitem_t){.socket = p->xpub, .events = ZMQ_POLLIN};
    p->items[3] = (zmq_pollitem_t){.socket = p->zap ? nw_zap_core_socket(p->zap) : p->stop,
                                   .events = p->zap ? ZMQ_POLLIN : 0};
    if (p->control == NULL) /* a NULL socket with fd 0 would poll standard input */
        p->items[1] = (zmq_pollitem_t){.socket = p->stop, .events = 0};
    while (!p->terminated) {
        for (size_t i = 0; i < p->opts.n_upstreams; i++)
            p->items[S_ITEMS_FIXED + i] =
                (zmq_pollitem_t){.socket = p->xsubs[i], .events = p->paused ? 0 : ZMQ_POLLIN};
        if (zmq_poll(p->items, (int)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            nw_log(NW_LOG_ERROR, "poll failed: %s", zmq_strerror(errno));
            return NW_ERR_ZMQ;
        }
        if (p->items[0].revents & ZMQ_POLLIN)
            s_on_stop(p);
        if (p->control != NULL && (p->items[1].revents & ZMQ_POLLIN))
            s_on_control(p);
        if (p->zap != NULL && (p->items[3].revents & ZMQ_POLLIN)) {
            uint64_t now = s_now_ms();
            for (int k = 0; k < S_BATCH && nw_zap_core_handle(p->zap, now); k++)
                ;
        }
        if (p->items[2].revents & ZMQ_POLLIN) {
            for (int k = 0; k < S_BATCH && s_forward_up(p); k++)
                ;
        }
        for (size_t i = 0; i < p->opts.n_upstreams && !p->paused; i++) {
            if (p->items[S_ITEMS_FIXED + i].revents & ZMQ_POLLIN) {
                for (int k = 0; k < S_BATCH && s_forward_down(p, i); k++)
                    ;
            }
        }
    }
    return NW_OK;
}

void nw_proxy_destroy(nw_proxy_t **p_p)
{
    nw_proxy_t *p = *p_p;
    if (p == NULL)
        return;
    *p_p = NULL;
    nw_proxy_replay_stats_t rs;
    if (p->replay != NULL) {
        nw_proxy_replay_destroy(&p->replay, &rs);
        nw_log(NW_LOG_INFO,
               "replay: %llu requests forwarded, %llu refused, %llu answers passed back",
               (unsigned long long)rs.requests, (unsigned long long)rs.refused,
               (unsigned long long)rs.answers);
    }
    for (size_t i = 0; p->xsubs != NULL && i < p->opts.n_upstreams; i++) {
        if (p->xsubs[i] != NULL)
            zmq_close(p->xsubs[i]);
    }
    if (p->xpub != NULL)
        zmq_close(p->xpub);
    if (p->control != NULL)
        zmq_close(p->control);
    if (p->stop != NULL)
        zmq_close(p->stop);
    nw_zap_core_destroy(&p->zap);
    for (size_t i = 0; p->upstreams != NULL && i < p->opts.n_upstreams; i++)
        free(p->upstreams[i]);
    free(p->upstreams);
    free(p->xsubs);
    free(p->bound);
    free(p->items);
    free(p);
}
