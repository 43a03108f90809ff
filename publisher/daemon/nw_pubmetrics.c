/*
 * nw_pubmetrics: the publisher's metrics and their endpoint. See nw_pubmetrics.h.
 */
#include "nw_pubmetrics.h"

#include "nw_error.h"
#include "nw_log.h"
#include "nw_metrics.h"
#include "nw_metrics_http.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_FLAG "--metrics-bind"

struct nw_pubmetrics_t {
    nw_metrics_t *reg;          /* the registry */
    nw_metrics_http_t *http;    /* GET /metrics */
    void *xpub;                 /* the monitored alert socket (borrowed) */
    void *monitor;              /* PAIR receiving its connection events, or NULL */
    int64_t connected;          /* accepted minus disconnected */
    nw_metric_t *done, *failed; /* articles by result */
    nw_metric_t *alerts;        /* alerts published */
    nw_metric_t *messages;      /* alert messages sent */
    nw_metric_t *heartbeats;    /* heartbeats sent */
    nw_metric_t *subscribers;   /* connections now */
    nw_metric_t *subscriptions; /* (subscriber, filter) pairs now */
    nw_metric_t *journal_bytes; /* journal size */
    nw_metric_t *journal_segs;  /* journal segment files */
    nw_metric_t *journal_recs;  /* journal records */
    nw_metric_t *fsync;         /* journal sync durations */
    nw_metric_t *replay_reqs;   /* replay requests */
    nw_metric_t *replay_alerts; /* alerts replayed */
    nw_metric_t *replay_errors; /* answers that ended with an error */
};

static int s_register(nw_pubmetrics_t *m)
{
    /* From 100 us (a sync with nothing to write) to 10 s (a disk in trouble). */
    static const double fsync_bounds[] = {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                          0.05,   0.1,    0.25,  0.5,    1,     2.5,  10};
    nw_metrics_t *r = m->reg;
    const char *art = "Articles handled, by result: done (published) or failed (moved to "
                      "failed/).";
    int rc;
    if ((rc = nw_metrics_counter(r, "newswire_pub_articles_total", art, "result=\"done\"",
                                 &m->done)) != NW_OK ||
        (rc = nw_metrics_counter(r, "newswire_pub_articles_total", art, "result=\"failed\"",
                                 &m->failed)) != NW_OK ||
        (rc = nw_metrics_counter(r, "newswire_pub_alerts_total", "Alerts published.", NULL,
                                 &m->alerts)) != NW_OK ||
        (rc = nw_metrics_counter(r, "newswire_pub_messages_total",
                                 "Alert messages sent, one per alert and topic.", NULL,
                                 &m->messages)) != NW_OK ||
        (rc = nw_metrics_counter(r, "newswire_pub_heartbeats_total", "Heartbeats sent.", NULL,
                                 &m->heartbeats)) != NW_OK ||
        (rc = nw_metrics_gauge(r, "newswire_pub_subscribers",
                               "Connections to the alert socket now.", NULL, &m->subscribers)) !=
            NW_OK ||
        (rc = nw_metrics_gauge(r, "newswire_pub_subscriptions",
                               "Subscriptions (subscriber, topic filter) now.", NULL,
                               &m->subscriptions)) != NW_OK ||
        (rc = nw_metrics_gauge(r, "newswire_pub_journal_bytes", "Bytes of every journal segment.",
                               NULL, &m->journal_bytes)) != NW_OK ||
        (rc = nw_metrics_gauge(r, "newswire_pub_journal_segments", "Journal segment files.", NULL,
                               &m->journal_segs)) != NW_OK ||
        (rc = nw_metrics_gauge(r, "newswire_pub_journal_records", "Records the journal holds.",
                               NULL, &m->journal_recs)) != NW_OK ||
        (rc = nw_metrics_histogram(
             r, "newswire_pub_journal_fsync_seconds", "Journal sync (fsync) durations.", NULL,
             fsync_bounds, sizeof fsync_bounds / sizeof fsync_bounds[0], &m->fsync)) != NW_OK ||
        (rc = nw_metrics_counter(r, "newswire_pub_replay_requests_total",
                                 "Replay requests received, good or bad.", NULL,
                                 &m->replay_reqs)) != NW_OK ||
        (rc = nw_metrics_counter(r, "newswire_pub_replay_alerts_total", "Alerts sent by replay.",
                                 NULL, &m->replay_alerts)) != NW_OK)
        return rc;
    return nw_metrics_counter(r, "newswire_pub_replay_errors_total",
                              "Replay answers that ended with an error (refused, busy, preempted, "
                              "journal read failed).",
                              NULL, &m->replay_errors);
}

/* Reads the connection events queued on the monitor: [uint16 event, uint32 value][endpoint].
 * Polled with each sample rather than watched, so closing needs no loop turn. */
static void s_drain_monitor(nw_pubmetrics_t *m)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (m->monitor != NULL && zmq_msg_recv(&msg, m->monitor, ZMQ_DONTWAIT) >= 0) {
        if (zmq_msg_size(&msg) >= 2) {
            uint16_t event;
            memcpy(&event, zmq_msg_data(&msg), sizeof event);
            if (event == ZMQ_EVENT_ACCEPTED)
                m->connected++;
            else if (event == ZMQ_EVENT_DISCONNECTED && m->connected > 0)
                m->connected--;
        }
        while (zmq_msg_more(&msg) && zmq_msg_recv(&msg, m->monitor, ZMQ_DONTWAIT) >= 0)
            ;
    }
    zmq_msg_close(&msg);
    nw_metric_set(m->subscribers, (double)m->connected);
}

int nw_pubmetrics_start(const char *bind, void *zctx, nw_pubsock_t *sock, nw_pubmetrics_t **out,
                        char *err, size_t errlen)
{
    nw_pubmetrics_t *m = calloc(1, sizeof *m);
    int rc = NW_ERR_NOMEM;
    if (m == NULL || nw_metrics_new(&m->reg) != NW_OK || (rc = s_register(m)) != NW_OK) {
        snprintf(err, errlen, "%s: %s", S_FLAG, nw_strerror(rc));
        goto fail;
    }
    if ((rc = nw_metrics_http_start(S_FLAG, bind, m->reg, &m->http, err, errlen)) != NW_OK)
        goto fail;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://nw-pubmetrics-%p", (void *)m);
    void *xpub = nw_pubsock_socket(sock);
    rc = NW_ERR_ZMQ;
    if (zmq_socket_monitor(xpub, ep, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0) {
        snprintf(err, errlen, "%s: socket monitor: %s", S_FLAG, zmq_strerror(errno));
        goto fail;
    }
    m->xpub = xpub;
    if ((m->monitor = zmq_socket(zctx, ZMQ_PAIR)) == NULL || zmq_connect(m->monitor, ep) != 0) {
        snprintf(err, errlen, "%s: socket monitor: %s", S_FLAG, zmq_strerror(errno));
        goto fail;
    }
    *out = m;
    return NW_OK;
fail:
    nw_pubmetrics_close_monitor(m);
    nw_pubmetrics_destroy(&m);
    return rc;
}

void nw_pubmetrics_article(nw_pubmetrics_t *m, bool done, size_t alerts, size_t messages)
{
    if (m == NULL)
        return;
    nw_metric_add(done ? m->done : m->failed, 1);
    nw_metric_add(m->alerts, alerts);
    nw_metric_add(m->messages, messages);
}

void nw_pubmetrics_heartbeat(nw_pubmetrics_t *m)
{
    if (m != NULL)
        nw_metric_add(m->heartbeats, 1);
}

void nw_pubmetrics_fsync(nw_pubmetrics_t *m, double seconds)
{
    if (m != NULL)
        nw_metric_observe(m->fsync, seconds);
}

void nw_pubmetrics_sample(nw_pubmetrics_t *m, const nw_journal_t *journal,
                          const nw_replay_t *replay, const nw_pubsock_t *sock)
{
    if (m == NULL)
        return;
    if (journal != NULL) {
        nw_metric_set(m->journal_bytes, (double)nw_journal_size(journal));
        nw_metric_set(m->journal_segs, (double)nw_journal_segment_count(journal));
        nw_metric_set(m->journal_recs, (double)nw_journal_record_count(journal));
    }
    if (replay != NULL) {
        nw_replay_stats_t st;
        nw_replay_stats(replay, &st);
        nw_metric_set(m->replay_reqs, (double)st.requests);
        nw_metric_set(m->replay_alerts, (double)st.alerts);
        nw_metric_set(m->replay_errors, (double)st.errors);
    }
    if (sock != NULL)
        nw_metric_set(m->subscriptions, (double)nw_pubsock_subscriptions(sock));
    s_drain_monitor(m);
}

void nw_pubmetrics_close_monitor(nw_pubmetrics_t *m)
{
    if (m == NULL)
        return;
    if (m->xpub != NULL)
        zmq_socket_monitor(m->xpub, NULL, 0);
    m->xpub = NULL;
    if (m->monitor != NULL)
        zmq_close(m->monitor);
    m->monitor = NULL;
}

void nw_pubmetrics_destroy(nw_pubmetrics_t **m_p)
{
    if (m_p == NULL || *m_p == NULL)
        return;
    nw_pubmetrics_t *m = *m_p;
    nw_pubmetrics_close_monitor(m);
    nw_metrics_http_stop(&m->http);
    nw_metrics_destroy(&m->reg);
    free(m);
    *m_p = NULL;
}
