#include "nw_proxy_replay.h"

#include "nw_alert.h"
#include "nw_error.h"
#include "nw_hbrewrite.h"
#include "nw_log.h"
#include "nw_replay_msg.h"
#include "nw_zsock.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define S_ROUTES_MAX   1024  /* streams remembered; the oldest is forgotten past this */
#define S_IDENTITY_MAX 255   /* bytes of a ROUTER identity */
#define S_IDLE_MS      60000 /* a client silent this long loses its upstream DEALER */
#define S_BATCH        256   /* messages taken from one socket per turn */
#define S_SNDHWM       20000 /* answers queued per client: more than one page (10000) */
#define S_TICK_MS      1000  /* poll timeout: how often idle clients are looked for */

typedef struct {
    char stream[NW_REPLAY_STREAM_MAX + 1];    /* stream id */
    char upstream[NW_HBREWRITE_ENDPOINT_MAX]; /* its replay endpoint, "" for none */
} s_route_t;

typedef struct {
    unsigned char id[S_IDENTITY_MAX];         /* the client's ROUTER identity */
    size_t id_len;                            /* bytes of id */
    void *dealer;                             /* this client's socket upstream */
    char upstream[NW_HBREWRITE_ENDPOINT_MAX]; /* where dealer is connected */
    int64_t last_ms;                          /* last traffic either way, monotonic */
} s_client_t;

struct nw_proxy_replay_t {
    void *zctx;        /* not owned */
    void *pipe;        /* the caller's end of the pipe to the thread */
    void *thread_pipe; /* the thread's end */
    void *router;      /* the front end subscribers connect to */
    pthread_t thread;  /* runs s_run */
    s_route_t *routes; /* S_ROUTES_MAX entries, n_routes used */
    size_t n_routes;   /* used entries of routes */
    size_t next_route; /* entry replaced when routes is full */
    s_client_t clients[NW_PROXY_REPLAY_CLIENTS_MAX]; /* n_clients used */
    size_t n_clients;                                /* used entries of clients */
    nw_proxy_replay_stats_t stats;                   /* written by the thread, read after join */
    nw_curve_client_t client;                        /* upstream CURVE keys, when has_client */
    bool has_client;                                 /* DEALERs upstream speak CURVE */
};

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- routes (thread side) ---------------------------------------------------------------- */

static s_route_t *s_route_find(nw_proxy_replay_t *r, const char *stream)
{
    for (size_t i = 0; i < r->n_routes; i++) {
        if (strcmp(r->routes[i].stream, stream) == 0)
            return &r->routes[i];
    }
    return NULL;
}

static void s_route_learn(nw_proxy_replay_t *r, const char *stream, const char *upstream)
{
    s_route_t *route = s_route_find(r, stream);
    if (route != NULL && strcmp(route->upstream, upstream) == 0)
        return;
    if (route == NULL) {
        if (r->n_routes < S_ROUTES_MAX) {
            route = &r->routes[r->n_routes++];
        } else {
            route = &r->routes[r->next_route];
            r->next_route = (r->next_route + 1) % S_ROUTES_MAX;
        }
        snprintf(route->stream, sizeof route->stream, "%s", stream);
    }
    snprintf(route->upstream, sizeof route->upstream, "%s", upstream);
    if (upstream[0] != '\0')
        nw_log(NW_LOG_INFO, "replay: stream %s is served by %s", stream, upstream);
    else
        nw_log(NW_LOG_INFO, "replay: stream %s has no replay endpoint", stream);
}

/* The route of a request: its stream's, or the only stream's when it names none.
 * NULL with why set when there is none. */
static s_route_t *s_route_for(nw_proxy_replay_t *r, const char *stream, char *why, size_t len)
{
    if (stream[0] != '\0') {
        s_route_t *route = s_route_find(r, stream);
        if (route == NULL)
            snprintf(why, len, "stream mismatch: no publisher behind this proxy has stream %s",
                     stream);
        return route;
    }
    if (r->n_routes == 1)
        return &r->routes[0];
    if (r->n_routes == 0)
        snprintf(why, len, "busy: no publisher heartbeat has reached this proxy yet");
    else
        snprintf(why, len, "bad request: %zu streams behind this proxy; name one in \"stream\"",
                 r->n_routes);
    return NULL;
}

/* --- clients (thread side) --------------------------------------------------------------- */

static s_client_t *s_client_find(nw_proxy_replay_t *r, const void *id, size_t id_len)
{
    for (size_t i = 0; i < r->n_clients; i++) {
        if (r->clients[i].id_len == id_len && memcmp(r->clients[i].id, id, id_len) == 0)
            return &r->clients[i];
    }
    return NULL;
}

static void s_client_drop(nw_proxy_replay_t *r, size_t i)
{
    zmq_close(r->clients[i].dealer);
    r->clients[i] = r->clients[--r->n_clients];
}

/* Points c's DEALER at upstream, opening a new one when it pointed elsewhere. */
static int s_client_connect(nw_proxy_replay_t *r, s_client_t *c, const char *upstream)
{
    if (c->dealer != NULL && strcmp(c->upstream, upstream) == 0)
        return NW_OK;
    if (c->dealer != NULL)
        zmq_close(c->dealer);
    c->dealer = zmq_socket(r->zctx, ZMQ_DEALER);
    if (c->dealer == NULL)
        return NW_ERR_ZMQ;
    snprintf(c->upstream, sizeof c->upstream, "%s", upstream);
    if (nw_zsock_set_int(c->dealer, ZMQ_LINGER, 0) != NW_OK ||
        nw_zsock_set_int(c->dealer, ZMQ_RCVHWM, S_SNDHWM) != NW_OK ||
        nw_curve_client_apply(c->dealer, r->has_client ? &r->client : NULL) != NW_OK ||
        zmq_connect(c->dealer, upstream) != 0) {
        nw_log(NW_LOG_WARN, "replay: cannot connect to %s: %s", upstream, zmq_strerror(errno));
        return NW_ERR_ZMQ;
    }
    return NW_OK;
}

/* --- messages (thread side) -------------------------------------------------------------- */

/* Receives the rest of a multipart message and throws it away. */
static void s_drain(void *sock)
{
    int more = 1;
    size_t size = sizeof more;
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &size) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, sock, 0);
        zmq_msg_close(&m);
    }
}

/* Answers request req of client id with an "error" end marker saying why. */
static void s_refuse(nw_proxy_replay_t *r, const void *id, size_t id_len, uint64_t req,
                     const char *stream, const char *why)
{
    nw_replay_end_t end;
    memset(&end, 0, sizeof end);
    end.req = req;
    snprintf(end.stream, sizeof end.stream, "%s", stream);
    nw_replay_end_set_error(&end, "%s", why);
    char *body = NULL;
    size_t size = 0;
    r->stats.refused++;
    nw_log(NW_LOG_DEBUG, "replay: request %llu refused: %s", (unsigned long long)req, why);
    if (nw_replay_end_encode(&end, &body, &size) != NW_OK)
        return;
    if (zmq_send(r->router, id, id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) == (int)id_len &&
        zmq_send(r->router, NW_REPLAY_END_TOPIC, strlen(NW_REPLAY_END_TOPIC),
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(r->router, body, size, ZMQ_DONTWAIT);
    free(body);
}

/* Handles one request waiting on the ROUTER. Returns false when none was waiting. */
static bool s_on_request(nw_proxy_replay_t *r)
{
    unsigned char id[S_IDENTITY_MAX];
    int id_len = zmq_recv(r->router, id, sizeof id, ZMQ_DONTWAIT);
    if (id_len < 0)
        return false;
    zmq_msg_t body;
    zmq_msg_init(&body);
    int more = 0;
    size_t size = sizeof more;
    zmq_getsockopt(r->router, ZMQ_RCVMORE, &more, &size);
    if (!more || id_len > S_IDENTITY_MAX || zmq_msg_recv(&body, r->router, 0) < 0) {
        zmq_msg_close(&body);
        s_drain(r->router);
        return true;
    }
    zmq_getsockopt(r->router, ZMQ_RCVMORE, &more, &size);
    nw_replay_request_t rq;
    char why[NW_REPLAY_ERROR_MAX + 1];
    int rc = more ? NW_ERR_WIRE_TRAILING
                  : nw_replay_request_decode(zmq_msg_data(&body), zmq_msg_size(&body), &rq);
    s_drain(r->router);
    if (rc != NW_OK) {
        snprintf(why, sizeof why, "bad request: %s", nw_strerror(rc));
        s_refuse(r, id, (size_t)id_len, more ? 0 : rq.req, "", why);
        goto done;
    }
    s_route_t *route = s_route_for(r, rq.stream, why, sizeof why);
    if (route != NULL && route->upstream[0] == '\0') {
        snprintf(why, sizeof why, "the publisher of stream %s serves no replay", route->stream);
        route = NULL;
    }
    if (route == NULL) {
        s_refuse(r, id, (size_t)id_len, rq.req, rq.stream, why);
        goto done;
    }
    s_client_t *c = s_client_find(r, id, (size_t)id_len);
    if (c == NULL && r->n_clients == NW_PROXY_REPLAY_CLIENTS_MAX) {
        snprintf(why, sizeof why, "busy: the proxy serves %d replay clients",
                 NW_PROXY_REPLAY_CLIENTS_MAX);
        s_refuse(r, id, (size_t)id_len, rq.req, rq.stream, why);
        goto done;
    }
    if (c == NULL) {
        c = &r->clients[r->n_clients++];
        memset(c, 0, sizeof *c);
        memcpy(c->id, id, (size_t)id_len);
        c->id_len = (size_t)id_len;
    }
    c->last_ms = s_now_ms();
    if (s_client_connect(r, c, route->upstream) != NW_OK ||
        zmq_msg_send(&body, c->dealer, ZMQ_DONTWAIT) < 0) {
        snprintf(why, sizeof why, "busy: cannot reach the replay endpoint %.200s", route->upstream);
        s_refuse(r, id, (size_t)id_len, rq.req, rq.stream, why);
        s_client_drop(r, (size_t)(c - r->clients));
        goto done;
    }
    r->stats.requests++;
    nw_log(NW_LOG_DEBUG, "replay: request %llu for stream %s to %s", (unsigned long long)rq.req,
           route->stream, route->upstream);
done:
    zmq_msg_close(&body);
    return true;
}

/* Forwards one answer message from client i's DEALER to the client. Returns false when
 * none was waiting or the client is gone (then it has been dropped). */
static bool s_on_answer(nw_proxy_replay_t *r, size_t i)
{
    s_client_t *c = &r->clients[i];
    zmq_msg_t frames[4];
    size_t n = 0;
    int more = 1;
    size_t size = sizeof more;
    while (more && n < 4) {
        zmq_msg_init(&frames[n]);
        if (zmq_msg_recv(&frames[n], c->dealer, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&frames[n]);
            if (n == 0)
                return false;
            break;
        }
        n++;
        zmq_getsockopt(c->dealer, ZMQ_RCVMORE, &more, &size);
    }
    if (more)
        s_drain(c->dealer);
    c->last_ms = s_now_ms();
    bool sent = !more && zmq_send(r->router, c->id, c->id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0;
    int err = sent || more ? 0 : errno;
    for (size_t k = 0; k < n; k++) {
        if (sent)
            zmq_msg_send(&frames[k], r->router, k + 1 < n ? ZMQ_SNDMORE : 0);
        zmq_msg_close(&frames[k]);
    }
    if (sent) {
        r->stats.answers++;
        return true;
    }
    if (err == EHOSTUNREACH) {
        nw_log(NW_LOG_DEBUG, "replay: a client left; its request is abandoned");
        s_client_drop(r, i);
        return false;
    }
    nw_log(NW_LOG_WARN, "replay: an answer for a client was dropped (%s); it will ask again",
           more ? "more than 4 frames" : zmq_strerror(err));
    return true;
}

static void s_expire(nw_proxy_replay_t *r)
{
    int64_t now = s_now_ms();
    for (size_t i = r->n_clients; i-- > 0;) {
        if (now - r->clients[i].last_ms > S_IDLE_MS)
            s_client_drop(r, i);
    }
}

/* Handles one message waiting from the owner. Returns 1 when one was handled, 0 when
 * none was waiting, -1 on "stop". */
static int s_on_pipe_one(nw_proxy_replay_t *r)
{
    char cmd[16], stream[NW_REPLAY_STREAM_MAX + 1], upstream[NW_HBREWRITE_ENDPOINT_MAX];
    int n = zmq_recv(r->thread_pipe, cmd, sizeof cmd - 1, ZMQ_DONTWAIT);
    if (n < 0)
        return 0;
    cmd[n < (int)sizeof cmd - 1 ? n : (int)sizeof cmd - 1] = '\0';
    if (strcmp(cmd, "learn") != 0) {
        s_drain(r->thread_pipe);
        return -1;
    }
    int ns = zmq_recv(r->thread_pipe, stream, sizeof stream - 1, 0);
    int nu = ns < 0 ? -1 : zmq_recv(r->thread_pipe, upstream, sizeof upstream - 1, 0);
    s_drain(r->thread_pipe);
    if (nu < 0 || ns > (int)sizeof stream - 1 || nu > (int)sizeof upstream - 1)
        return 1;
    stream[ns] = '\0';
    upstream[nu] = '\0';
    s_route_learn(r, stream, upstream);
    return 1;
}

/* Handles every message waiting from the owner: ["learn", stream, upstream] or ["stop"].
 * Returns false on "stop". */
static bool s_on_pipe(nw_proxy_replay_t *r)
{
    int rv;
    while ((rv = s_on_pipe_one(r)) > 0)
        ;
    return rv == 0;
}

static void *s_run(void *arg)
{
    nw_proxy_replay_t *r = arg;
    zmq_pollitem_t items[2 + NW_PROXY_REPLAY_CLIENTS_MAX];
    int64_t last_expire = s_now_ms();
    for (;;) {
        items[0] = (zmq_pollitem_t){.socket = r->thread_pipe, .events = ZMQ_POLLIN};
        items[1] = (zmq_pollitem_t){.socket = r->router, .events = ZMQ_POLLIN};
        size_t n = r->n_clients;
        for (size_t i = 0; i < n; i++)
            items[2 + i] = (zmq_pollitem_t){.socket = r->clients[i].dealer, .events = ZMQ_POLLIN};
        if (zmq_poll(items, (int)(2 + n), S_TICK_MS) < 0 && errno != EINTR) {
            nw_log(NW_LOG_ERROR, "replay: poll failed: %s", zmq_strerror(errno));
            break;
        }
        /* Always, not only on POLLIN: routes learned just before a heartbeat went out
         * must be known before the request that heartbeat prompted is routed. */
        if (!s_on_pipe(r))
            break;
        /* Answers first, from the last client down: a dropped client is replaced by the
         * last one, which has already had its turn. */
        for (size_t i = n; i-- > 0;) {
            if (items[2 + i].revents & ZMQ_POLLIN) {
                for (int k = 0; k < S_BATCH && i < r->n_clients && s_on_answer(r, i); k++)
                    ;
            }
        }
        if (items[1].revents & ZMQ_POLLIN) {
            for (int k = 0; k < S_BATCH && s_on_request(r); k++)
                ;
        }
        if (s_now_ms() - last_expire >= S_TICK_MS) {
            s_expire(r);
            last_expire = s_now_ms();
        }
    }
    while (r->n_clients > 0)
        s_client_drop(r, r->n_clients - 1);
    return NULL;
}

/* --- owner side ---------------------------------------------------------------------------- */

/* Writes the endpoint for heartbeats: a wildcard host becomes "*". */
static void s_advertise(const char *actual, char *out, size_t outlen)
{
    static const char *const wild[] = {"tcp://0.0.0.0:", "tcp://[::]:"};
    for (size_t i = 0; i < sizeof wild / sizeof wild[0]; i++) {
        size_t n = strlen(wild[i]);
        if (strncmp(actual, wild[i], n) == 0) {
            snprintf(out, outlen, "tcp://*:%s", actual + n);
            return;
        }
    }
    snprintf(out, outlen, "%s", actual);
}

static int s_bind(nw_proxy_replay_t *r, const char *endpoint, const nw_cert_t *server,
                  char *advertised, size_t advlen, char *err, size_t errlen)
{
    if (server != NULL && nw_curve_server_apply(r->router, server, err, errlen) != NW_OK)
        return NW_ERR_ZMQ;
    if (nw_zsock_set_int(r->router, ZMQ_ROUTER_MANDATORY, 1) != NW_OK ||
        nw_zsock_set_int(r->router, ZMQ_SNDHWM, S_SNDHWM) != NW_OK ||
        nw_zsock_set_int(r->router, ZMQ_LINGER, 0) != NW_OK ||
        nw_zsock_set_i64(r->router, ZMQ_MAXMSGSIZE, NW_REPLAY_REQUEST_MAX) != NW_OK) {
        snprintf(err, errlen, "--replay-bind %s: cannot set socket options: %s", endpoint,
                 zmq_strerror(errno));
        return NW_ERR_ZMQ;
    }
    char actual[NW_HBREWRITE_ENDPOINT_MAX];
    int rc =
        nw_zsock_bind(r->router, "--replay-bind", endpoint, actual, sizeof actual, err, errlen);
    if (rc != NW_OK)
        return rc;
    s_advertise(actual, advertised, advlen);
    nw_log(NW_LOG_INFO, "replay: listening on %s (advertised as %s)", actual, advertised);
    return NW_OK;
}

int nw_proxy_replay_new(void *zctx, const char *endpoint, const nw_cert_t *server,
                        const nw_curve_client_t *client, char *advertised, size_t advlen,
                        nw_proxy_replay_t **out, char *err, size_t errlen)
{
    char pipe_ep[64];
    int rc = NW_ERR_NOMEM;
    *out = NULL;
    nw_proxy_replay_t *r = calloc(1, sizeof *r);
    if (r == NULL || (r->routes = calloc(S_ROUTES_MAX, sizeof *r->routes)) == NULL) {
        snprintf(err, errlen, "replay: out of memory");
        goto fail;
    }
    r->zctx = zctx;
    if (client != NULL) {
        r->client = *client;
        r->has_client = true;
    }
    snprintf(pipe_ep, sizeof pipe_ep, "inproc://nw-proxy-replay-%p", (void *)r);
    rc = NW_ERR_ZMQ;
    if ((r->pipe = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
        (r->thread_pipe = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
        (r->router = zmq_socket(zctx, ZMQ_ROUTER)) == NULL || zmq_bind(r->pipe, pipe_ep) != 0 ||
        zmq_connect(r->thread_pipe, pipe_ep) != 0) {
        snprintf(err, errlen, "replay: cannot create sockets: %s", zmq_strerror(errno));
        goto fail;
    }
    nw_zsock_set_int(r->pipe, ZMQ_LINGER, 0);
    nw_zsock_set_int(r->thread_pipe, ZMQ_LINGER, 0);
    if ((rc = s_bind(r, endpoint, server, advertised, advlen, err, errlen)) != NW_OK)
        goto fail;
    if (pthread_create(&r->thread, NULL, s_run, r) != 0) {
        snprintf(err, errlen, "replay: cannot start its thread");
        rc = NW_ERR_NOMEM;
        goto fail;
    }
    *out = r;
    return NW_OK;
fail:
    if (r != NULL) {
        if (r->router != NULL)
            zmq_close(r->router);
        if (r->thread_pipe != NULL)
            zmq_close(r->thread_pipe);
        if (r->pipe != NULL)
            zmq_close(r->pipe);
        free(r->routes);
        free(r);
    }
    return rc;
}

int nw_proxy_replay_learn(nw_proxy_replay_t *r, const char *stream, const char *upstream)
{
    size_t ns = strlen(stream);
    if (ns > NW_REPLAY_STREAM_MAX)
        return NW_ERR_INVAL;
    if (zmq_send(r->pipe, "learn", 5, ZMQ_SNDMORE | ZMQ_DONTWAIT) != 5)
        return NW_ERR_ZMQ;
    zmq_send(r->pipe, stream, ns, ZMQ_SNDMORE);
    zmq_send(r->pipe, upstream, strlen(upstream), 0);
    return NW_OK;
}

void nw_proxy_replay_destroy(nw_proxy_replay_t **r_p, nw_proxy_replay_stats_t *stats)
{
    nw_proxy_replay_t *r = *r_p;
    if (r == NULL)
        return;
    *r_p = NULL;
    zmq_send(r->pipe, "stop", 4, 0);
    pthread_join(r->thread, NULL);
    if (stats != NULL)
        *stats = r->stats;
    zmq_close(r->router);
    zmq_close(r->thread_pipe);
    zmq_close(r->pipe);
    free(r->routes);
    free(r);
}
