/*
 * nw_pubmetrics: the publisher's metrics (--metrics-bind), served as
 * Prometheus text on GET /metrics by nw_metrics_http (libmicrohttpd's own
 * thread; the loop only updates atomics).
 *
 *     newswire_pub_articles_total{result="done"|"failed"}  articles handled
 *     newswire_pub_alerts_total                  alerts published
 *     newswire_pub_messages_total                alert messages sent (one per alert and topic)
 *     newswire_pub_heartbeats_total              heartbeats sent
 *     newswire_pub_subscribers                   connections to the alert socket now
 *     newswire_pub_subscriptions                 (subscriber, filter) pairs now
 *     newswire_pub_journal_bytes                 bytes of every journal segment
 *     newswire_pub_journal_segments              journal segment files
 *     newswire_pub_journal_records               records the journal holds
 *     newswire_pub_journal_fsync_seconds         histogram of journal sync durations
 *     newswire_pub_replay_requests_total         replay requests received
 *     newswire_pub_replay_alerts_total           alerts sent by replay
 *
 * Connected subscribers come from a ZeroMQ socket monitor on the alert socket
 * (accepted minus disconnected connections), read on the loop with each sample. Every function
 * does nothing on a NULL nw_pubmetrics_t, so the daemon calls them whether or
 * not metrics were asked for.
 */
#ifndef NW_PUBMETRICS_H
#define NW_PUBMETRICS_H

#include "nw_journal.h"
#include "nw_pubsock.h"
#include "nw_replay.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct nw_pubmetrics_t nw_pubmetrics_t;

/* Registers the metrics, starts the HTTP endpoint on bind (HOST:PORT, see
 * nw_metrics_http_check) and a monitor of sock's connections (zctx is sock's context).
 * Logs "metrics: listening on http://HOST:PORT/metrics". Returns NW_OK with *out set;
 * NW_ERR_ENDPOINT or NW_ERR_INVAL when bind cannot be used, NW_ERR_ZMQ or NW_ERR_NOMEM,
 * with err saying why (naming --metrics-bind). On error nothing is left. */
int nw_pubmetrics_start(const char *bind, void *zctx, nw_pubsock_t *sock, nw_pubmetrics_t **out,
                        char *err, size_t errlen);

/* An article was handled: done (alerts and messages sent for it) or failed. */
void nw_pubmetrics_article(nw_pubmetrics_t *m, bool done, size_t alerts, size_t messages);

/* A heartbeat was sent. */
void nw_pubmetrics_heartbeat(nw_pubmetrics_t *m);

/* A journal sync took this long. */
void nw_pubmetrics_fsync(nw_pubmetrics_t *m, double seconds);

/* Refreshes the gauges and the replay counters from their owners (journal and replay may
 * be NULL). Call on the loop, e.g. with each heartbeat. */
void nw_pubmetrics_sample(nw_pubmetrics_t *m, const nw_journal_t *journal,
                          const nw_replay_t *replay, const nw_pubsock_t *sock);

/* Stops the connection monitor; call before closing the alert socket. The rest stays
 * readable until nw_pubmetrics_destroy. Safe on NULL and twice. */
void nw_pubmetrics_close_monitor(nw_pubmetrics_t *m);

/* Stops the monitor (if still running) and the HTTP endpoint, frees m and sets *m_p to
 * NULL. Safe on NULL and twice. */
void nw_pubmetrics_destroy(nw_pubmetrics_t **m_p);

#endif
