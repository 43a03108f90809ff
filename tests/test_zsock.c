/* Tests for common/nw_zsock: the socket helpers both daemons share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "nw_error.h"
#include "nw_zsock.h"

static void test_tcp_split_host_and_port(void **state)
{
    (void)state;
    char host[64];
    const char *port = NULL;
    assert_int_equal(nw_zsock_tcp_split("tcp://pub.example:5556", host, sizeof host, &port), NW_OK);
    assert_string_equal(host, "pub.example");
    assert_string_equal(port, "5556");
    assert_int_equal(nw_zsock_tcp_split("tcp://[::1]:7", host, sizeof host, &port), NW_OK);
    assert_string_equal(host, "[::1]");
    assert_string_equal(port, "7");
    assert_int_equal(nw_zsock_tcp_split("tcp://*:*", host, sizeof host, &port), NW_OK);
    assert_string_equal(host, "*");
    const char *bad[] = {"ipc:///tmp/x", "tcp://host", "tcp://:5556", "tcp://host:", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(nw_zsock_tcp_split(bad[i], host, sizeof host, &port), NW_ERR_ENDPOINT);
    char tiny[4];
    assert_int_equal(nw_zsock_tcp_split("tcp://localhost:1", tiny, sizeof tiny, &port),
                     NW_ERR_TOOBIG);
}

static void test_bind_reports_the_port_and_names_the_flag(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    void *a = zmq_socket(ctx, ZMQ_PUB), *b = zmq_socket(ctx, ZMQ_PUB);
    assert_int_equal(nw_zsock_set_int(a, ZMQ_LINGER, 0), NW_OK);
    assert_int_equal(nw_zsock_set_int(b, ZMQ_LINGER, 0), NW_OK);
    assert_int_equal(nw_zsock_set_i64(a, ZMQ_MAXMSGSIZE, 4096), NW_OK);
    assert_int_equal(nw_zsock_set_int(a, 999999, 1), NW_ERR_ZMQ); /* no such option */
    char actual[256], err[256];
    assert_int_equal(
        nw_zsock_bind(a, "--bind", "tcp://127.0.0.1:*", actual, sizeof actual, err, sizeof err),
        NW_OK);
    assert_non_null(strstr(actual, "tcp://127.0.0.1:"));
    assert_null(strstr(actual, "*")); /* the port really bound */
    assert_int_equal(nw_zsock_bind(b, "--replay-bind", actual, NULL, 0, err, sizeof err),
                     NW_ERR_ADDRINUSE);
    char want[300];
    snprintf(want, sizeof want, "--replay-bind %s: address already in use", actual);
    assert_string_equal(err, want);
    assert_int_equal(nw_zsock_connect(b, "-c/--connect", "bogus://x", err, sizeof err),
                     NW_ERR_ENDPOINT);
    assert_non_null(strstr(err, "-c/--connect: cannot connect to 'bogus://x': "));
    zmq_close(a);
    zmq_close(b);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_split_host_and_port),
        cmocka_unit_test(test_bind_reports_the_port_and_names_the_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
