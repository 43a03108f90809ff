/*
 * nw_submetrics: the subscriber's metrics (--metrics-bind), served as
 * Prometheus text on GET /metrics by nw_metrics_http (libmicrohttpd's own
 * thread; the loop only updates atomics).
 *
 *     newswire_sub_received_total        alert frames received
 *     newswire_sub_printed_total         alerts delivered (printed, logged, handed on)
 *     newswire_sub_filtered_total        alert frames the filters dropped
 *     newswire_sub_duplicates_total      copies of alerts already handled
 *     newswire_sub_gaps_total            sequence gaps detected
 *     newswire_sub_missed_total          alerts missed in those gaps
 *     newswire_sub_repaired_total        alerts fetched again by replay
 *     newswire_sub_bad_frames_total      frames that did not decode
 *     newswire_sub_exec_runs_total       --exec commands started
 *     newswire_sub_exec_failures_total   --exec commands that failed
 *     newswire_sub_lag_seconds           histogram of now minus the alert's published
 *                                        time, at delivery
 *
 * The counters mirror totals the subscriber keeps anyway (its summary line):
 * nw_submetrics_update copies them, once a second and at the end. Every
 * function does nothing on NULL, so the subscriber calls them whether or not
 * metrics were asked for.
 */
#ifndef NW_SUBMETRICS_H
#define NW_SUBMETRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct nw_submetrics_t nw_submetrics_t;

/* The subscriber's running totals. */
typedef struct {
    uint64_t received;      /* alert frames received */
    uint64_t printed;       /* alerts delivered */
    uint64_t filtered;      /* dropped by the filters */
    uint64_t duplicates;    /* copies already handled */
    uint64_t gaps;          /* gaps detected */
    uint64_t missed;        /* alerts missed in them */
    uint64_t bad;           /* frames that did not decode */
    uint64_t exec_runs;     /* --exec commands started */
    uint64_t exec_failures; /* --exec commands failed */
} nw_submetrics_counts_t;

/* Registers the metrics and starts the endpoint on bind (HOST:PORT, see
 * nw_metrics_http_check); logs "metrics: listening on http://HOST:PORT/metrics".
 * Returns NW_OK with *out set; NW_ERR_INVAL or NW_ERR_ENDPOINT when bind cannot be used,
 * NW_ERR_NOTFOUND when libmicrohttpd cannot be loaded, NW_ERR_NOMEM; err names
 * --metrics-bind. On error nothing is left. */
int nw_submetrics_start(const char *bind, nw_submetrics_t **out, char *err, size_t errlen);

/* Copies the running totals into the counters. */
void nw_submetrics_update(nw_submetrics_t *m, const nw_submetrics_counts_t *counts);

/* An alert published at published_ms (ms since the epoch) is being delivered now. */
void nw_submetrics_lag(nw_submetrics_t *m, int64_t published_ms);

/* An alert arrived by replay. */
void nw_submetrics_repaired(nw_submetrics_t *m);

/* Stops the endpoint, frees m and sets *m_p to NULL. Safe on NULL and twice. */
void nw_submetrics_destroy(nw_submetrics_t **m_p);

#endif
