/* Tests for common/nw_metrics (registry, exposition) and nw_metrics_http (GET /metrics
 * over a real loopback socket). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "nw_error.h"
#include "nw_metrics.h"
#include "nw_metrics_http.h"

static void test_counter_gauge_text(void **state)
{
    (void)state;
    nw_metrics_t *m = NULL;
    nw_metric_t *done, *failed, *subs;
    nw_buf_t out = {0};
    assert_int_equal(nw_metrics_new(&m), NW_OK);
    assert_int_equal(
        nw_metrics_counter(m, "nw_articles_total", "Articles by result.", "result=\"done\"", &done),
        NW_OK);
    assert_int_equal(nw_metrics_gauge(m, "nw_subscriptions", "Subscriptions now.", NULL, &subs),
                     NW_OK);
    assert_int_equal(nw_metrics_counter(m, "nw_articles_total", "Articles by result.",
                                        "result=\"failed\"", &failed),
                     NW_OK);
    nw_metric_add(done, 3);
    nw_metric_add(done, 2);
    nw_metric_add(failed, 1);
    nw_metric_set(subs, 4);
    nw_metric_add(NULL, 1); /* callers without metrics */
    assert_int_equal(nw_metrics_render(m, &out), NW_OK);
    assert_non_null(out.data);
    assert_string_equal(out.data, "# HELP nw_articles_total Articles by result.\n"
                                  "# TYPE nw_articles_total counter\n"
                                  "nw_articles_total{result=\"done\"} 5\n"
                                  "nw_articles_total{result=\"failed\"} 1\n"
                                  "# HELP nw_subscriptions Subscriptions now.\n"
                                  "# TYPE nw_subscriptions gauge\n"
                                  "nw_subscriptions 4\n");
    assert_true(nw_metric_value(done) == 5.0);
    nw_buf_free(&out);
    nw_metrics_destroy(&m);
    assert_null(m);
}

static void test_histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    nw_metrics_t *m = NULL;
    nw_metric_t *h;
    nw_buf_t out = {0};
    const double bounds[] = {0.001, 0.01, 0.1};
    assert_int_equal(nw_metrics_new(&m), NW_OK);
    assert_int_equal(
        nw_metrics_histogram(m, "nw_fsync_seconds", "Fsync time.", NULL, bounds, 3, &h), NW_OK);
    nw_metric_observe(h, 0.0005);
    nw_metric_observe(h, 0.001); /* on the bound: in that bucket (le) */
    nw_metric_observe(h, 0.05);
    nw_metric_observe(h, 7);
    assert_int_equal(nw_metrics_render(m, &out), NW_OK);
    assert_non_null(strstr(out.data, "# TYPE nw_fsync_seconds histogram\n"
                                     "nw_fsync_seconds_bucket{le=\"0.001\"} 2\n"
                                     "nw_fsync_seconds_bucket{le=\"0.01\"} 2\n"
                                     "nw_fsync_seconds_bucket{le=\"0.1\"} 3\n"
                                     "nw_fsync_seconds_bucket{le=\"+Inf\"} 4\n"
                                     "nw_fsync_seconds_sum 7.0515\n"
                                     "nw_fsync_seconds_count 4\n"));
    nw_buf_free(&out);
    nw_metrics_destroy(&m);
}

static void test_bad_registrations(void **state)
{
    (void)state;
    nw_metrics_t *m = NULL;
    nw_metric_t *s;
    const double down[] = {1, 0.5};
    assert_int_equal(nw_metrics_new(&m), NW_OK);
    assert_int_equal(nw_metrics_counter(m, "9lives", "", NULL, &s), NW_ERR_INVAL);
    assert_int_equal(nw_metrics_counter(m, "has space", "", NULL, &s), NW_ERR_INVAL);
    assert_int_equal(nw_metrics_counter(m, "ok_total", "", NULL, &s), NW_OK);
    assert_int_equal(nw_metrics_counter(m, "ok_total", "", NULL, &s), NW_ERR_INVAL);
    assert_int_equal(nw_metrics_gauge(m, "ok_total", "", "a=\"b\"", &s), NW_ERR_INVAL);
    assert_int_equal(nw_metrics_histogram(m, "h", "", NULL, down, 2, &s), NW_ERR_INVAL);
    nw_metrics_destroy(&m);
}

static void test_bind_check_names_the_flag(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(nw_metrics_http_check("--metrics-bind", "127.0.0.1:9556", err, sizeof err),
                     NW_OK);
    assert_int_equal(nw_metrics_http_check("--metrics-bind", "[::1]:*", err, sizeof err), NW_OK);
    assert_int_equal(nw_metrics_http_check("--metrics-bind", "localhost:9556", err, sizeof err),
                     NW_ERR_INVAL);
    assert_non_null(strstr(err, "--metrics-bind: 'localhost' is not an IP address"));
    assert_int_equal(nw_metrics_http_check("--metrics-bind", "127.0.0.1", err, sizeof err),
                     NW_ERR_INVAL);
    assert_non_null(strstr(err, "HOST:PORT"));
    assert_int_equal(nw_metrics_http_check("--metrics-bind", "127.0.0.1:70000", err, sizeof err),
                     NW_ERR_INVAL);
    assert_non_null(strstr(err, "0-65535"));
}

/* GET PATH on 127.0.0.1:port; returns the whole answer (status line, headers, body). */
static char *s_http_get(unsigned port, const char *method, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[256];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    ssize_t r;
    while ((r = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    close(fd);
    return buf;
}

static void test_http_serves_metrics(void **state)
{
    (void)state;
    nw_metrics_t *m = NULL;
    nw_metric_t *c;
    nw_metrics_http_t *h = NULL;
    char err[256];
    assert_int_equal(nw_metrics_new(&m), NW_OK);
    assert_int_equal(nw_metrics_counter(m, "nw_alerts_total", "Alerts.", NULL, &c), NW_OK);
    nw_metric_add(c, 42);
    assert_int_equal(nw_metrics_http_start("--metrics-bind", "127.0.0.1:0", m, &h, err, sizeof err),
                     NW_OK);
    unsigned port = nw_metrics_http_port(h);
    assert_true(port > 0);
    char *ans = s_http_get(port, "GET", "/metrics");
    assert_int_equal(strncmp(ans, "HTTP/1.", 7), 0);
    assert_non_null(strstr(ans, " 200 OK\r\n"));
    assert_non_null(strstr(ans, "text/plain; version=0.0.4"));
    assert_non_null(strstr(ans, "\r\n\r\n# HELP nw_alerts_total Alerts.\n"));
    assert_non_null(strstr(ans, "\nnw_alerts_total 42\n"));
    free(ans);
    ans = s_http_get(port, "GET", "/");
    assert_non_null(strstr(ans, " 404 "));
    free(ans);
    ans = s_http_get(port, "DELETE", "/metrics");
    assert_non_null(strstr(ans, " 405 "));
    free(ans);
    /* The same port again: refused, with the flag and the address. */
    char bind[64];
    nw_metrics_http_t *h2 = NULL;
    snprintf(bind, sizeof bind, "127.0.0.1:%u", port);
    assert_int_equal(nw_metrics_http_start("--metrics-bind", bind, m, &h2, err, sizeof err),
                     NW_ERR_ENDPOINT);
    assert_null(h2);
    assert_non_null(strstr(err, "--metrics-bind 127.0.0.1:"));
    nw_metrics_http_stop(&h);
    assert_null(h);
    nw_metrics_http_stop(&h);
    nw_metrics_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_gauge_text),
        cmocka_unit_test(test_histogram_buckets_are_cumulative),
        cmocka_unit_test(test_bad_registrations),
        cmocka_unit_test(test_bind_check_names_the_flag),
        cmocka_unit_test(test_http_serves_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
