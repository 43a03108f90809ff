/*
 * nw_metrics: a registry of counters, gauges and histograms, and their
 * Prometheus text exposition (format 0.0.4).
 *
 * The daemon's loop registers every series at start, then only updates them;
 * the HTTP endpoint (nw_metrics_http) renders them from its own thread. Values
 * are C11 atomics, so an update never takes a lock and a scrape never blocks
 * the loop; a scrape sees each value as of some moment during the scrape.
 * Registration is not thread-safe: finish it before starting the endpoint.
 *
 * A series is a metric name plus an optional label set written as Prometheus
 * writes it, e.g. result="done"; series of one name share their HELP and TYPE
 * lines and must have the same type. Names follow the Prometheus rules
 * ([a-zA-Z_:][a-zA-Z0-9_:]*); counters end in _total.
 *
 * Usage:
 *     nw_metrics_t *m; nw_metric_t *done, *lag;
 *     nw_metrics_new(&m);
 *     nw_metrics_counter(m, "newswire_pub_articles_total", "Articles by result.",
 *                        "result=\"done\"", &done);
 *     nw_metrics_histogram(m, "newswire_sub_lag_seconds", "...", NULL, bounds, 8, &lag);
 *     nw_metric_add(done, 1); nw_metric_observe(lag, 0.004);
 *     nw_metrics_render(m, &buf);
 */
#ifndef NW_METRICS_H
#define NW_METRICS_H

#include "nw_buf.h"

#include <stddef.h>
#include <stdint.h>

#define NW_METRICS_BUCKETS_MAX 32 /* histogram bounds at most */

typedef struct _nw_metrics_t nw_metrics_t;
typedef struct _nw_metric_t nw_metric_t;

/* Creates an empty registry. Returns NW_OK with *out set, or NW_ERR_NOMEM. */
int nw_metrics_new(nw_metrics_t **out);

/* Frees the registry and every series; sets *m_p to NULL. Safe on NULL and twice. The
 * HTTP endpoint reading it must be stopped first. */
void nw_metrics_destroy(nw_metrics_t **m_p);

/* Registers a counter (a value that only goes up), a gauge (a value that goes up and
 * down), or a histogram with the given upper bounds (ascending, at most
 * NW_METRICS_BUCKETS_MAX; a +Inf bucket is added). labels may be NULL. The series is owned
 * by m and lives as long as it. Returns NW_OK with *out set; NW_ERR_INVAL for a bad name,
 * a name already registered as another type or with the same labels, or bad bounds;
 * NW_ERR_NOMEM. */
int nw_metrics_counter(nw_metrics_t *m, const char *name, const char *help, const char *labels,
                       nw_metric_t **out);
int nw_metrics_gauge(nw_metrics_t *m, const char *name, const char *help, const char *labels,
                     nw_metric_t **out);
int nw_metrics_histogram(nw_metrics_t *m, const char *name, const char *help, const char *labels,
                         const double *bounds, size_t n_bounds, nw_metric_t **out);

/* Adds n to a counter or a gauge. Safe from any thread; does nothing on NULL (so callers
 * without metrics need no test). */
void nw_metric_add(nw_metric_t *s, uint64_t n);

/* Sets a gauge, or a counter from a running total kept elsewhere (the caller keeps it
 * monotonic). Safe from any thread; does nothing on NULL. */
void nw_metric_set(nw_metric_t *s, double value);

/* Records one observation in a histogram. Safe from any thread; does nothing on NULL. */
void nw_metric_observe(nw_metric_t *s, double value);

/* Returns a counter's or gauge's current value (a histogram's count), for tests and logs. */
double nw_metric_value(const nw_metric_t *s);

/* Appends the exposition of every series to out, in registration order grouped by name.
 * Returns NW_OK or NW_ERR_NOMEM (out then holds a prefix). Safe while other threads
 * update values. */
int nw_metrics_render(const nw_metrics_t *m, nw_buf_t *out);

#endif
