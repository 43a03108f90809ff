/*
 * nw_hbrewrite: the proxy's heartbeat rewrite and replay endpoint resolution (pure).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nw_codec.h"
#include "nw_error.h"
#include "nw_hbrewrite.h"

/* Encodes a heartbeat of stream "9f2c4e1a7b3d5c60", seq 42, one topic, with replay. */
static char *s_heartbeat(const char *replay, size_t *size)
{
    nw_alert_topic_t topic = {.name = "markets", .seq = 7};
    nw_heartbeat_t hb = {.stream = "9f2c4e1a7b3d5c60",
                         .seq = 42,
                         .time_ms = 1718960401000,
                         .interval_ms = 1000,
                         .replay = (char *)replay,
                         .topics = &topic,
                         .n_topics = 1};
    char *data = NULL;
    assert_int_equal(nw_heartbeat_encode(&hb, &data, size), NW_OK);
    return data;
}

/* Rewrites a heartbeat with replay, returning the decoded result in *out. */
static void s_rewrite(const char *replay, const char *connected, const char *advertise,
                      nw_hbrewrite_info_t *info, nw_heartbeat_t *out)
{
    size_t size, out_size;
    char *body = s_heartbeat(replay, &size), *rewritten = NULL;
    assert_int_equal(nw_hbrewrite(body, size, connected, advertise, info, &rewritten, &out_size),
                     NW_OK);
    assert_int_equal(nw_heartbeat_decode(rewritten, out_size, out), NW_OK);
    free(body);
    free(rewritten);
}

static void test_resolve_star_host_takes_the_connected_host(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(nw_hbrewrite_resolve("tcp://*:5557", "tcp://10.0.1.1:5556", out, sizeof out),
                     NW_OK);
    assert_string_equal(out, "tcp://10.0.1.1:5557");
}

static void test_resolve_explicit_endpoint_is_copied(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(
        nw_hbrewrite_resolve("tcp://pub.example:7000", "ipc:///tmp/x", out, sizeof out), NW_OK);
    assert_string_equal(out, "tcp://pub.example:7000");
}

static void test_resolve_refuses_what_it_cannot_resolve(void **state)
{
    (void)state;
    char out[16] = "untouched";
    assert_int_equal(nw_hbrewrite_resolve("", "tcp://a:1", out, sizeof out), NW_ERR_NOTFOUND);
    assert_int_equal(nw_hbrewrite_resolve("tcp://*:5557", "ipc:///tmp/x", out, sizeof out),
                     NW_ERR_ENDPOINT);
    assert_int_equal(
        nw_hbrewrite_resolve("tcp://*:5557", "tcp://a-very-long-host-name:1", out, sizeof out),
        NW_ERR_TOOBIG);
    assert_string_equal(out, "untouched");
}

static void test_rewrite_puts_the_proxy_front_end_in_replay(void **state)
{
    (void)state;
    nw_hbrewrite_info_t info;
    nw_heartbeat_t hb;
    s_rewrite("tcp://*:5557", "tcp://10.0.1.1:5556", "tcp://*:6557", &info, &hb);
    assert_string_equal(hb.replay, "tcp://*:6557");
    assert_string_equal(info.stream, "9f2c4e1a7b3d5c60");
    assert_string_equal(info.upstream, "tcp://10.0.1.1:5557");
    /* Everything else passes unchanged. */
    assert_string_equal(hb.stream, "9f2c4e1a7b3d5c60");
    assert_int_equal(hb.seq, 42);
    assert_int_equal(hb.interval_ms, 1000);
    assert_int_equal(hb.n_topics, 1);
    assert_string_equal(hb.topics[0].name, "markets");
    assert_int_equal(hb.topics[0].seq, 7);
    nw_heartbeat_clear(&hb);
}

static void test_rewrite_without_front_end_resolves_the_star(void **state)
{
    (void)state;
    nw_hbrewrite_info_t info;
    nw_heartbeat_t hb;
    s_rewrite("tcp://*:5557", "tcp://10.0.1.1:5556", NULL, &info, &hb);
    assert_string_equal(hb.replay, "tcp://10.0.1.1:5557");
    nw_heartbeat_clear(&hb);
}

static void test_rewrite_keeps_no_replay_as_none(void **state)
{
    (void)state;
    nw_hbrewrite_info_t info;
    nw_heartbeat_t hb;
    s_rewrite("", "tcp://10.0.1.1:5556", "tcp://*:6557", &info, &hb);
    assert_string_equal(hb.replay, "");
    assert_string_equal(info.upstream, "");
    nw_heartbeat_clear(&hb);
}

static bool s_contains(const char *hay, size_t n, const char *needle, size_t len)
{
    for (size_t i = 0; i + len <= n; i++)
        if (memcmp(hay + i, needle, len) == 0)
            return true;
    return false;
}

static void test_rewrite_keeps_keys_it_does_not_know(void **state)
{
    (void)state;
    size_t size, out_size;
    char *body = s_heartbeat("tcp://*:5557", &size), *out = NULL;
    /* One more entry, "xy": 5, in the top-level map (a fixmap: the count is in byte 0). */
    assert_true(((unsigned char)body[0] & 0xf0) == 0x80 && ((unsigned char)body[0] & 0x0f) < 15);
    char *grown = malloc(size + 4);
    assert_non_null(grown);
    memcpy(grown, body, size);
    grown[0] = (char)(body[0] + 1);
    memcpy(grown + size, "\xa2xy\x05", 4);
    nw_hbrewrite_info_t info;
    assert_int_equal(nw_hbrewrite(grown, size + 4, "tcp://10.0.1.1:5556", "tcp://*:6557", &info,
                                  &out, &out_size),
                     NW_OK);
    assert_true(s_contains(out, out_size, "\xa2xy\x05", 4));
    nw_heartbeat_t hb;
    assert_int_equal(nw_heartbeat_decode(out, out_size, &hb), NW_OK);
    assert_string_equal(hb.replay, "tcp://*:6557");
    assert_int_equal(hb.seq, 42);
    nw_heartbeat_clear(&hb);
    free(out);
    free(grown);
    free(body);
}

static void test_rewrite_refuses_a_bad_body(void **state)
{
    (void)state;
    nw_hbrewrite_info_t info;
    char *out = NULL;
    size_t size = 0;
    static const char not_a_map[] = {(char)0x93, 1, 2, 3};
    assert_int_equal(
        nw_hbrewrite(not_a_map, sizeof not_a_map, "tcp://a:1", "tcp://*:2", &info, &out, &size),
        NW_ERR_WIRE_TYPE);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_star_host_takes_the_connected_host),
        cmocka_unit_test(test_resolve_explicit_endpoint_is_copied),
        cmocka_unit_test(test_resolve_refuses_what_it_cannot_resolve),
        cmocka_unit_test(test_rewrite_puts_the_proxy_front_end_in_replay),
        cmocka_unit_test(test_rewrite_without_front_end_resolves_the_star),
        cmocka_unit_test(test_rewrite_keeps_no_replay_as_none),
        cmocka_unit_test(test_rewrite_keeps_keys_it_does_not_know),
        cmocka_unit_test(test_rewrite_refuses_a_bad_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
