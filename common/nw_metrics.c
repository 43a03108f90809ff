/*
 * nw_metrics: counters, gauges, histograms and their text exposition. See nw_metrics.h.
 */
#include "nw_metrics.h"

#include "nw_error.h"

#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_COUNTER, S_GAUGE, S_HISTOGRAM } s_type_t;

struct _nw_metric_t {
    s_type_t type;                                        /* what the series is */
    char *name;                                           /* metric name (owned) */
    char *help;                                           /* HELP text (owned) */
    char *labels;                                         /* label set without braces, or NULL */
    _Atomic uint64_t bits;                                /* counter/gauge value as double bits */
    double bounds[NW_METRICS_BUCKETS_MAX];                /* histogram upper bounds */
    size_t n_bounds;                                      /* entries of bounds */
    _Atomic uint64_t buckets[NW_METRICS_BUCKETS_MAX + 1]; /* per-bucket counts (+Inf last) */
    _Atomic uint64_t sum_bits;                            /* histogram sum as double bits */
    nw_metric_t *next;                                    /* registration order */
};

struct _nw_metrics_t {
    nw_metric_t *first; /* series in registration order */
    nw_metric_t *last;  /* the last one, for appending */
};

static uint64_t s_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double s_double(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static bool s_valid_name(const char *name)
{
    if (name == NULL || name[0] == '\0' || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (const char *p = name; *p != '\0'; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == ':';
        if (!ok)
            return false;
    }
    return true;
}

static bool s_same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int nw_metrics_new(nw_metrics_t **out)
{
    *out = calloc(1, sizeof **out);
    return *out != NULL ? NW_OK : NW_ERR_NOMEM;
}

static void s_free_series(nw_metric_t *s)
{
    free(s->name);
    free(s->help);
    free(s->labels);
    free(s);
}

void nw_metrics_destroy(nw_metrics_t **m_p)
{
    if (m_p == NULL || *m_p == NULL)
        return;
    nw_metric_t *s = (*m_p)->first;
    while (s != NULL) {
        nw_metric_t *next = s->next;
        s_free_series(s);
        s = next;
    }
    free(*m_p);
    *m_p = NULL;
}

static int s_register(nw_metrics_t *m, s_type_t type, const char *name, const char *help,
                      const char *labels, nw_metric_t **out)
{
    if (!s_valid_name(name))
        return NW_ERR_INVAL;
    for (nw_metric_t *s = m->first; s != NULL; s = s->next) {
        if (strcmp(s->name, name) == 0 && (s->type != type || s_same(s->labels, labels)))
            return NW_ERR_INVAL;
    }
    nw_metric_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NW_ERR_NOMEM;
    s->type = type;
    s->name = strdup(name);
    s->help = strdup(help != NULL ? help : "");
    s->labels = labels != NULL && labels[0] != '\0' ? strdup(labels) : NULL;
    if (s->name == NULL || s->help == NULL || (labels != NULL && labels[0] && !s->labels)) {
        s_free_series(s);
        return NW_ERR_NOMEM;
    }
    atomic_init(&s->bits, s_bits(0.0));
    atomic_init(&s->sum_bits, s_bits(0.0));
    for (size_t i = 0; i <= NW_METRICS_BUCKETS_MAX; i++)
        atomic_init(&s->buckets[i], 0);
    if (m->last != NULL)
        m->last->next = s;
    else
        m->first = s;
    m->last = s;
    *out = s;
    return NW_OK;
}

int nw_metrics_counter(nw_metrics_t *m, const char *name, const char *help, const char *labels,
                       nw_metric_t **out)
{
    return s_register(m, S_COUNTER, name, help, labels, out);
}

int nw_metrics_gauge(nw_metrics_t *m, const char *name, const char *help, const char *labels,
                     nw_metric_t **out)
{
    return s_register(m, S_GAUGE, name, help, labels, out);
}

int nw_metrics_histogram(nw_metrics_t *m, const char *name, const char *help, const char *labels,
                         const double *bounds, size_t n_bounds, nw_metric_t **out)
{
    if (n_bounds == 0 || n_bounds > NW_METRICS_BUCKETS_MAX)
        return NW_ERR_INVAL;
    for (size_t i = 0; i < n_bounds; i++) {
        if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
            return NW_ERR_INVAL;
    }
    int rc = s_register(m, S_HISTOGRAM, name, help, labels, out);
    if (rc == NW_OK) {
        memcpy((*out)->bounds, bounds, n_bounds * sizeof *bounds);
        (*out)->n_bounds = n_bounds;
    }
    return rc;
}

/* Adds v to the double stored as bits in *a, lock-free. */
static void s_atomic_add_double(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, s_bits(s_double(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

void nw_metric_add(nw_metric_t *s, uint64_t n)
{
    if (s != NULL && s->type != S_HISTOGRAM)
        s_atomic_add_double(&s->bits, (double)n);
}

void nw_metric_set(nw_metric_t *s, double value)
{
    if (s != NULL && s->type != S_HISTOGRAM)
        atomic_store_explicit(&s->bits, s_bits(value), memory_order_relaxed);
}

void nw_metric_observe(nw_metric_t *s, double value)
{
    if (s == NULL || s->type != S_HISTOGRAM || isnan(value))
        return;
    size_t i = 0;
    while (i < s->n_bounds && value > s->bounds[i])
        i++;
    atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    s_atomic_add_double(&s->sum_bits, value);
}

double nw_metric_value(const nw_metric_t *s)
{
    if (s->type != S_HISTOGRAM)
        return s_double(atomic_load_explicit(&s->bits, memory_order_relaxed));
    uint64_t count = 0;
    for (size_t i = 0; i <= s->n_bounds; i++)
        count += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
    return (double)count;
}

static const char *const s_type_names[] = {"counter", "gauge", "histogram"};

/* One sample line: NAME[SUFFIX]{LABELS[,EXTRA]} VALUE. */
static int s_sample(nw_buf_t *out, const nw_metric_t *s, const char *suffix, const char *extra,
                    double value)
{
    int rc = nw_buf_printf(out, "%s%s", s->name, suffix);
    if (rc == NW_OK && (s->labels != NULL || extra != NULL))
        rc = nw_buf_printf(out, "{%s%s%s}", s->labels ? s->labels : "",
                           s->labels && extra ? "," : "", extra ? extra : "");
    if (rc == NW_OK)
        rc = nw_buf_printf(out, " %.15g\n", value);
    return rc;
}

static int s_render_histogram(nw_buf_t *out, const nw_metric_t *s)
{
    uint64_t cumulative = 0;
    char le[64];
    int rc = NW_OK;
    for (size_t i = 0; i <= s->n_bounds && rc == NW_OK; i++) {
        cumulative += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        if (i < s->n_bounds)
            snprintf(le, sizeof le, "le=\"%.15g\"", s->bounds[i]);
        else
            snprintf(le, sizeof le, "le=\"+Inf\"");
        rc = s_sample(out, s, "_bucket", le, (double)cumulative);
    }
    double sum = s_double(atomic_load_explicit(&s->sum_bits, memory_order_relaxed));
    if (rc == NW_OK)
        rc = s_sample(out, s, "_sum", NULL, sum);
    if (rc == NW_OK)
        rc = s_sample(out, s, "_count", NULL, (double)cumulative);
    return rc;
}

int nw_metrics_render(const nw_metrics_t *m, nw_buf_t *out)
{
    int rc = NW_OK;
    for (const nw_metric_t *s = m->first; s != NULL && rc == NW_OK; s = s->next) {
        /* The first series of a name writes HELP and TYPE, then every series of it. */
        bool first = true;
        for (const nw_metric_t *p = m->first; p != s && first; p = p->next)
            first = strcmp(p->name, s->name) != 0;
        if (!first)
            continue;
        rc = nw_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", s->name, s->help, s->name,
                           s_type_names[s->type]);
        for (const nw_metric_t *t = s; t != NULL && rc == NW_OK; t = t->next) {
            if (strcmp(t->name, s->name) != 0)
                continue;
            if (t->type == S_HISTOGRAM)
                rc = s_render_histogram(out, t);
            else
                rc = s_sample(out, t, "", NULL,
                              s_double(atomic_load_explicit(&t->bits, memory_order_relaxed)));
        }
    }
    return rc;
}
