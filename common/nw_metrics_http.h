/*
 * nw_metrics_http: serves a metrics registry as Prometheus text on GET /metrics
 * (--metrics-bind), with libmicrohttpd.
 *
 * libmicrohttpd runs in its own internal thread (MHD_USE_INTERNAL_POLLING_THREAD):
 * accepting, reading requests and writing answers never touch the daemon's libuv
 * loop, so a slow or hostile scraper cannot stall publishing or delivery. The
 * thread only reads the registry's atomic values (nw_metrics_render). Limits: 8
 * connections at once, 10 s per connection. Anything but GET /metrics gets 404
 * (or 405 for another method on /metrics).
 *
 * libmicrohttpd (and the TLS stack it depends on) is loaded by nw_metrics_http_start, not
 * at program start: a process that serves no metrics never maps it.
 */
#ifndef NW_METRICS_HTTP_H
#define NW_METRICS_HTTP_H

#include "nw_metrics.h"

#include <stddef.h>

typedef struct _nw_metrics_http_t nw_metrics_http_t;

/* Checks that value is HOST:PORT for --metrics-bind: HOST an IPv4 address, or an IPv6
 * address in brackets ([::1]); PORT 0-65535, or * or 0 for a free port. On failure writes
 * a message naming flag into err and returns NW_ERR_INVAL. */
int nw_metrics_http_check(const char *flag, const char *value, char *err, size_t errlen);

/* Starts serving metrics (borrowed; it must outlive the server) on bind (as checked by
 * nw_metrics_http_check) and logs "metrics: listening on http://HOST:PORT/metrics" with
 * the actual port. Returns NW_OK with *out set; NW_ERR_INVAL for a bad bind;
 * NW_ERR_NOTFOUND when libmicrohttpd cannot be loaded (err names flag, the library and why);
 * NW_ERR_ENDPOINT when it cannot listen there (err names flag, bind and why). */
int nw_metrics_http_start(const char *flag, const char *bind, const nw_metrics_t *metrics,
                          nw_metrics_http_t **out, char *err, size_t errlen);

/* The port listened on (useful with port 0). */
unsigned nw_metrics_http_port(const nw_metrics_http_t *h);

/* Stops the thread (waits for it), closes the socket, frees h and sets *h_p to NULL.
 * Safe on NULL and twice. */
void nw_metrics_http_stop(nw_metrics_http_t **h_p);

#endif
