#include "nw_replays.h"

#include "nw_error.h"
#include "nw_log.h"
#include "nw_replay_client.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One stream's client. */
typedef struct {
    nw_replays_t *owner;                   /* the set, for the client's callbacks */
    char stream[NW_REPLAY_STREAM_MAX + 1]; /* stream id, "" for a free slot */
    char endpoint[NW_REPLAYS_EP_MAX];      /* where its requests go, "" if unknown */
    nw_replay_client_t *client;            /* connected to endpoint, or NULL */
    uint64_t used;                         /* owner->clock when last used */
    bool broken;                           /* a request could not go out: fail it */
    char why[256];                         /* ... and why */
} s_slot_t;

struct nw_replays_t {
    uv_loop_t *loop;                        /* the event loop */
    void *zctx;                             /* ZeroMQ context for the clients */
    char *fixed;                            /* --replay, or NULL */
    const nw_curve_client_t *curve;         /* CURVE keys (borrowed), or NULL */
    char *connected;                        /* first -c endpoint, or NULL */
    nw_replays_callbacks_t cb;              /* the caller */
    s_slot_t slots[NW_REPLAYS_STREAMS_MAX]; /* one per stream */
    uint64_t clock;                         /* counts uses, for slot reuse */
    uv_idle_t fail;                         /* fails broken requests on the next turn */
};

static s_slot_t *s_find(nw_replays_t *r, const char *stream)
{
    for (size_t i = 0; stream != NULL && i < NW_REPLAYS_STREAMS_MAX; i++) {
        if (r->slots[i].stream[0] != '\0' && strcmp(r->slots[i].stream, stream) == 0)
            return &r->slots[i];
    }
    return NULL;
}

/* The slot of stream: found, free, or the least recently used one, emptied. */
static s_slot_t *s_get(nw_replays_t *r, const char *stream)
{
    s_slot_t *sl = s_find(r, stream);
    if (sl == NULL) {
        sl = &r->slots[0];
        for (size_t i = 0; i < NW_REPLAYS_STREAMS_MAX && sl->stream[0] != '\0'; i++) {
            if (r->slots[i].stream[0] == '\0' || r->slots[i].used < sl->used)
                sl = &r->slots[i];
        }
        nw_replay_client_close(&sl->client, NULL, NULL);
        memset(sl, 0, sizeof *sl);
        sl->owner = r;
        snprintf(sl->stream, sizeof sl->stream, "%s", stream);
    }
    sl->used = ++r->clock;
    return sl;
}

static void s_on_fail(uv_idle_t *idle)
{
    nw_replays_t *r = idle->data;
    uv_idle_stop(idle);
    for (size_t i = 0; i < NW_REPLAYS_STREAMS_MAX; i++) {
        s_slot_t *sl = &r->slots[i];
        if (!sl->broken)
            continue;
        sl->broken = false;
        r->cb.on_failed(sl->stream, sl->why, r->cb.arg);
    }
}

/* Fails sl's request from the loop (never inside the call that asked for it). */
static void s_break(s_slot_t *sl, const char *why)
{
    sl->broken = true;
    snprintf(sl->why, sizeof sl->why, "%s", why);
    uv_idle_start(&sl->owner->fail, s_on_fail);
}

static void s_rc_alert(const nw_alert_t *alert, const char *topic, void *arg)
{
    s_slot_t *sl = arg;
    sl->owner->cb.on_alert(alert, topic, sl->owner->cb.arg);
}

static void s_rc_end(const nw_replay_end_t *end, void *arg)
{
    s_slot_t *sl = arg;
    sl->owner->cb.on_end(sl->stream, end, sl->owner->cb.arg);
}

static void s_rc_failed(const char *why, void *arg)
{
    s_slot_t *sl = arg;
    sl->owner->cb.on_failed(sl->stream, why, sl->owner->cb.arg);
}

void nw_replays_heartbeat(nw_replays_t *r, const char *stream, const char *advertised,
                          const char *peer)
{
    char ep[NW_REPLAYS_EP_MAX];
    if (r->fixed != NULL)
        snprintf(ep, sizeof ep, "%s", r->fixed);
    else if (nw_replay_endpoint_resolve(advertised, r->connected, peer, ep, sizeof ep) != NW_OK)
        return;
    s_slot_t *sl = s_get(r, stream);
    if (sl->client != NULL && strcmp(ep, sl->endpoint) == 0)
        return;
    if (sl->client != NULL && nw_replay_client_busy(sl->client))
        s_break(sl, "the replay endpoint moved");
    nw_replay_client_close(&sl->client, NULL, NULL);
    sl->endpoint[0] = '\0';
    nw_replay_client_callbacks_t cb = {s_rc_alert, s_rc_end, s_rc_failed, sl};
    nw_replay_client_opts_t ro = {.curve = r->curve};
    int rc = nw_replay_client_new(r->loop, r->zctx, ep, &ro, &cb, &sl->client);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "replay: stream %s: cannot connect to %s: %s", stream, ep,
               nw_strerror(rc));
        return;
    }
    snprintf(sl->endpoint, sizeof sl->endpoint, "%s", ep);
    nw_log(NW_LOG_DEBUG, "replay: stream %s: endpoint %s", stream, ep);
}

void nw_replays_start(nw_replays_t *r, const nw_replay_request_t *rq)
{
    s_slot_t *sl = s_get(r, rq->stream);
    sl->broken = false;
    if (sl->client == NULL) {
        s_break(sl, "the publisher advertises no replay endpoint (see --replay)");
        return;
    }
    int rc = nw_replay_client_start(sl->client, rq);
    if (rc != NW_OK)
        s_break(sl, nw_strerror(rc));
}

void nw_replays_cancel(nw_replays_t *r, const char *stream)
{
    s_slot_t *sl = s_find(r, stream);
    if (sl == NULL)
        return;
    sl->broken = false;
    if (sl->client != NULL)
        nw_replay_client_cancel(sl->client);
}

const char *nw_replays_endpoint(const nw_replays_t *r, const char *stream)
{
    const s_slot_t *sl = s_find((nw_replays_t *)r, stream);
    return sl != NULL ? sl->endpoint : "";
}

int nw_replays_new(uv_loop_t *loop, void *zctx, const nw_replays_opts_t *opts,
                   const nw_replays_callbacks_t *cb, nw_replays_t **out)
{
    *out = NULL;
    if (cb == NULL || cb->on_alert == NULL || cb->on_end == NULL || cb->on_failed == NULL)
        return NW_ERR_INVAL;
    nw_replays_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NW_ERR_NOMEM;
    r->loop = loop;
    r->zctx = zctx;
    r->cb = *cb;
    r->curve = opts->curve;
    if ((opts->fixed != NULL && (r->fixed = strdup(opts->fixed)) == NULL) ||
        (opts->connected != NULL && (r->connected = strdup(opts->connected)) == NULL)) {
        free(r->fixed);
        free(r);
        return NW_ERR_NOMEM;
    }
    if (uv_idle_init(loop, &r->fail) != 0) {
        free(r->fixed);
        free(r->connected);
        free(r);
        return NW_ERR_UV;
    }
    r->fail.data = r;
    *out = r;
    return NW_OK;
}

static void s_on_closed(uv_handle_t *handle)
{
    nw_replays_t *r = handle->data;
    free(r->fixed);
    free(r->connected);
    free(r);
}

void nw_replays_close(nw_replays_t **r_p)
{
    if (r_p == NULL || *r_p == NULL)
        return;
    nw_replays_t *r = *r_p;
    *r_p = NULL;
    for (size_t i = 0; i < NW_REPLAYS_STREAMS_MAX; i++)
        nw_replay_client_close(&r->slots[i].client, NULL, NULL);
    uv_close((uv_handle_t *)&r->fail, s_on_closed);
}
