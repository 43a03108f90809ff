/*
 * nw_submetrics: the subscriber's metrics and their endpoint. See nw_submetrics.h.
 */
#include "nw_submetrics.h"

#include "nw_error.h"
#include "nw_metrics.h"
#include "nw_metrics_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define S_FLAG "--metrics-bind"

/* The counters that mirror nw_submetrics_counts_t, in its order. */
#define S_N_COUNTS 9

struct nw_submetrics_t {
    nw_metrics_t *reg;               /* the registry */
    nw_metrics_http_t *http;         /* GET /metrics */
    nw_metric_t *counts[S_N_COUNTS]; /* mirrors of the running totals */
    nw_metric_t *repaired;           /* alerts fetched by replay */
    nw_metric_t *lag;                /* delivery lag histogram */
};

static const struct {
    const char *name, *help;
} s_counters[S_N_COUNTS] = {
    {"newswire_sub_received_total", "Alert frames received."},
    {"newswire_sub_printed_total", "Alerts delivered: printed, logged, handed to --exec."},
    {"newswire_sub_filtered_total", "Alert frames the filters dropped."},
    {"newswire_sub_duplicates_total", "Copies of alerts already handled."},
    {"newswire_sub_gaps_total", "Sequence gaps detected."},
    {"newswire_sub_missed_total", "Alerts missed in those gaps."},
    {"newswire_sub_bad_frames_total", "Frames that did not decode."},
    {"newswire_sub_exec_runs_total", "--exec commands started."},
    {"newswire_sub_exec_failures_total", "--exec commands that failed or timed out."},
};

static int s_register(nw_submetrics_t *m)
{
    /* From 1 ms (loopback) to 10 min (a replay of old alerts). */
    static const double lag_bounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 600};
    int rc = NW_OK;
    for (size_t i = 0; i < S_N_COUNTS && rc == NW_OK; i++)
        rc =
            nw_metrics_counter(m->reg, s_counters[i].name, s_counters[i].help, NULL, &m->counts[i]);
    if (rc == NW_OK)
        rc = nw_metrics_counter(m->reg, "newswire_sub_repaired_total",
                                "Alerts fetched again by replay (after a gap, a restart, a "
                                "look-back).",
                                NULL, &m->repaired);
    if (rc == NW_OK)
        rc = nw_metrics_histogram(m->reg, "newswire_sub_lag_seconds",
                                  "Delivery time minus the alert's published time.", NULL,
                                  lag_bounds, sizeof lag_bounds / sizeof lag_bounds[0], &m->lag);
    return rc;
}

int nw_submetrics_start(const char *bind, nw_submetrics_t **out, char *err, size_t errlen)
{
    nw_submetrics_t *m = calloc(1, sizeof *m);
    int rc = NW_ERR_NOMEM;
    if (m == NULL || nw_metrics_new(&m->reg) != NW_OK || (rc = s_register(m)) != NW_OK) {
        snprintf(err, errlen, "%s: %s", S_FLAG, nw_strerror(rc));
        nw_submetrics_destroy(&m);
        return rc;
    }
    if ((rc = nw_metrics_http_start(S_FLAG, bind, m->reg, &m->http, err, errlen)) != NW_OK) {
        nw_submetrics_destroy(&m);
        return rc;
    }
    *out = m;
    return NW_OK;
}

void nw_submetrics_update(nw_submetrics_t *m, const nw_submetrics_counts_t *c)
{
    if (m == NULL)
        return;
    const uint64_t v[S_N_COUNTS] = {c->received, c->printed, c->filtered,  c->duplicates,   c->gaps,
                                    c->missed,   c->bad,     c->exec_runs, c->exec_failures};
    for (size_t i = 0; i < S_N_COUNTS; i++)
        nw_metric_set(m->counts[i], (double)v[i]);
}

void nw_submetrics_lag(nw_submetrics_t *m, int64_t published_ms)
{
    if (m == NULL)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    nw_metric_observe(m->lag, (double)(now_ms - published_ms) / 1000.0);
}

void nw_submetrics_repaired(nw_submetrics_t *m)
{
    if (m != NULL)
        nw_metric_add(m->repaired, 1);
}

void nw_submetrics_destroy(nw_submetrics_t **m_p)
{
    if (m_p == NULL || *m_p == NULL)
        return;
    nw_metrics_http_stop(&(*m_p)->http);
    nw_metrics_destroy(&(*m_p)->reg);
    free(*m_p);
    *m_p = NULL;
}
