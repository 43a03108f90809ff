/* nw_replay_peer: a replay client is its CURVE key when the allowlist's ZAP handler vouched
 * for it, and its IP address otherwise (real sockets on loopback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <zmq.h>

#include "nw_cert.h"
#include "nw_curve.h"
#include "nw_error.h"
#include "nw_replay_peer.h"
#include "nw_testproc.h"
#include "nw_zap_core.h"

#define S_WAIT_MS 15000

typedef struct {
    void *zctx;         /* the context of every socket here */
    char *dir;          /* temporary folder: the allowlist */
    nw_zap_core_t *zap; /* the ZAP handler, when a test opens one */
    nw_cert_t server;   /* the ROUTER's key pair */
    nw_cert_t client;   /* the DEALER's key pair, in the allowlist */
    void *router, *dealer;
} s_fx_t;

static int s_setup(void **state)
{
    s_fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_non_null(f->zctx = zmq_ctx_new());
    assert_non_null(f->dir = nw_test_tmpdir("nw-peer"));
    assert_int_equal(nw_cert_generate(&f->server), NW_OK);
    assert_int_equal(nw_cert_generate(&f->client), NW_OK);
    char base[1200], err[1400];
    snprintf(base, sizeof base, "%s/alice", f->dir);
    if (nw_cert_save(base, &f->client, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx_t *f = *state;
    int zero = 0;
    void *socks[] = {f->router, f->dealer};
    for (size_t i = 0; i < 2; i++) {
        if (socks[i] != NULL) {
            zmq_setsockopt(socks[i], ZMQ_LINGER, &zero, sizeof zero);
            zmq_close(socks[i]);
        }
    }
    nw_zap_core_destroy(&f->zap);
    zmq_ctx_term(f->zctx);
    nw_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Binds the ROUTER (a CURVE server when curve), connects the DEALER from source (with the
 * client's keys when curve), sends one message and writes its peer name into peer. The
 * ZAP handler, when open, answers in the same poll loop. */
static void s_peer_of_one_message(s_fx_t *f, bool curve, const char *source, char *peer, size_t len)
{
    char err[256], ep[128];
    assert_non_null(f->router = zmq_socket(f->zctx, ZMQ_ROUTER));
    assert_non_null(f->dealer = zmq_socket(f->zctx, ZMQ_DEALER));
    if (curve) {
        assert_int_equal(nw_curve_server_apply(f->router, &f->server, err, sizeof err), NW_OK);
        assert_int_equal(zmq_setsockopt(f->dealer, ZMQ_CURVE_SERVERKEY, f->server.public_key, 40),
                         0);
        assert_int_equal(zmq_setsockopt(f->dealer, ZMQ_CURVE_PUBLICKEY, f->client.public_key, 40),
                         0);
        assert_int_equal(zmq_setsockopt(f->dealer, ZMQ_CURVE_SECRETKEY, f->client.secret_key, 40),
                         0);
    }
    assert_int_equal(zmq_bind(f->router, "tcp://127.0.0.1:*"), 0);
    size_t n = sizeof ep;
    assert_int_equal(zmq_getsockopt(f->router, ZMQ_LAST_ENDPOINT, ep, &n), 0);
    char connect[192];
    snprintf(connect, sizeof connect, "tcp://%s:0;%s", source, ep + strlen("tcp://"));
    assert_int_equal(zmq_connect(f->dealer, connect), 0);
    assert_int_equal(zmq_send(f->dealer, "hello", 5, 0), 5);
    zmq_pollitem_t items[2] = {{f->router, 0, ZMQ_POLLIN, 0}, {NULL, 0, ZMQ_POLLIN, 0}};
    if (f->zap != NULL)
        items[1].socket = nw_zap_core_socket(f->zap);
    for (int waited = 0; waited < S_WAIT_MS; waited += 50) {
        assert_true(zmq_poll(items, f->zap != NULL ? 2 : 1, 50) >= 0);
        if (f->zap != NULL && (items[1].revents & ZMQ_POLLIN))
            nw_zap_core_handle(f->zap, 0);
        if (!(items[0].revents & ZMQ_POLLIN))
            continue;
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        zmq_msg_init(&body);
        assert_true(zmq_msg_recv(&id, f->router, 0) >= 0);
        assert_true(zmq_msg_recv(&body, f->router, 0) == 5);
        nw_replay_peer_of(&body, peer, len);
        zmq_msg_close(&id);
        zmq_msg_close(&body);
        return;
    }
    fail_msg("no message reached the ROUTER in %d ms (curve %d, from %s)", S_WAIT_MS, curve,
             source);
}

static void test_a_plaintext_client_is_its_address(void **state)
{
    s_fx_t *f = *state;
    char peer[NW_REPLAY_PEER_MAX];
    s_peer_of_one_message(f, false, "127.0.0.2", peer, sizeof peer);
    assert_string_equal(peer, "addr 127.0.0.2");
}

/* Without an allowlist anyone may mint keys: the address still names the client. */
static void test_a_curve_client_without_allowlist_is_its_address(void **state)
{
    s_fx_t *f = *state;
    char peer[NW_REPLAY_PEER_MAX];
    s_peer_of_one_message(f, true, "127.0.0.3", peer, sizeof peer);
    assert_string_equal(peer, "addr 127.0.0.3");
}

static void test_a_client_the_allowlist_vouched_for_is_its_key(void **state)
{
    s_fx_t *f = *state;
    char err[1400], peer[NW_REPLAY_PEER_MAX], want[NW_REPLAY_PEER_MAX];
    if (nw_zap_core_open(f->zctx, f->dir, &f->zap, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    s_peer_of_one_message(f, true, "127.0.0.2", peer, sizeof peer);
    snprintf(want, sizeof want, "key %s", f->client.public_key);
    assert_string_equal(peer, want);
}

static void test_a_short_buffer_gets_a_cut_name(void **state)
{
    s_fx_t *f = *state;
    char peer[8];
    s_peer_of_one_message(f, false, "127.0.0.1", peer, sizeof peer);
    assert_string_equal(peer, "addr 12");
}

int main(void)
{
#define S_T(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        S_T(test_a_plaintext_client_is_its_address),
        S_T(test_a_curve_client_without_allowlist_is_its_address),
        S_T(test_a_client_the_allowlist_vouched_for_is_its_key),
        S_T(test_a_short_buffer_gets_a_cut_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
