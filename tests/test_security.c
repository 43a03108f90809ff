/*
 * CURVE end to end, with the real programs on 127.0.0.1: newswire-keygen's files, a
 * publisher with --curve-secret and --curve-allow, an allowed subscriber that gets every
 * alert, a stranger's key and a plaintext subscriber that get nothing, a byte relay that
 * never sees an alert's text in clear, SIGHUP dropping a key, pyzmq with zmq.auth
 * certificates reading alerts and replays, and the loopback default.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "nw_cert.h"
#include "nw_error.h"
#include "nw_testproc.h"

#define S_WAIT_MS 15000
#define S_PY      "/usr/bin/python3"
#define S_SECRET  "Lighthouse keepers ratify the quiet harbor tariff accord"

static const char s_article[] =
    "Harbor Tariff Accord Signed\n"
    "\n" S_SECRET " on steel imports and trade exports, officials said.\n"
    "\n"
    "The trade pact lowers tariffs on aluminum imports next year.\n";

typedef struct {
    char *dir;          /* everything of the test */
    char spool[1024];   /* DIR/spool */
    char clients[1024]; /* DIR/clients: the allowlist */
    nw_testproc_t *pub; /* the daemon */
    int port;           /* its alert port */
    int replay_port;    /* its replay port */
    void *zctx;         /* the test's context */
} s_fx_t;

static void s_dump(nw_testproc_t *p, const char *what)
{
    if (p != NULL)
        fprintf(stderr, "--- %s stderr ---\n%s---\n", what,
                nw_testproc_output(p, NW_TESTPROC_STDERR));
}

static void s_expect_log(nw_testproc_t *p, const char *needle)
{
    if (!nw_testproc_wait_output(p, NW_TESTPROC_STDERR, needle, S_WAIT_MS)) {
        s_dump(p, "process");
        fail_msg("never logged '%s'", needle);
    }
}

/* Runs newswire-keygen DIR/NAME; fails the test unless it exits 0. */
static void s_keygen(const char *dir, const char *name)
{
    char base[1200];
    snprintf(base, sizeof base, "%s/%s", dir, name);
    const char *argv[] = {NW_KEYGEN_BIN, base, NULL};
    nw_testproc_t *p = nw_testproc_start(argv, NULL);
    assert_non_null(p);
    assert_int_equal(nw_testproc_wait_exit(p, S_WAIT_MS), 0);
    nw_testproc_destroy(&p);
}

static void s_load(const s_fx_t *f, const char *file, nw_cert_t *cert)
{
    char path[1200], err[1400];
    snprintf(path, sizeof path, "%s/%s", f->dir, file);
    if (nw_cert_load(path, false, cert, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
}

static int s_setup(void **state)
{
    s_fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_non_null(f->dir = nw_test_tmpdir("nw-sec"));
    snprintf(f->spool, sizeof f->spool, "%s/spool", f->dir);
    snprintf(f->clients, sizeof f->clients, "%s/clients", f->dir);
    assert_int_equal(mkdir(f->clients, 0755), 0);
    assert_non_null(f->zctx = zmq_ctx_new());
    s_keygen(f->dir, "pub");
    s_keygen(f->dir, "alice");
    s_keygen(f->dir, "mallory");
    char from[1200], to[1200];
    snprintf(from, sizeof from, "%s/alice.key", f->dir);
    snprintf(to, sizeof to, "%s/alice.key", f->clients);
    assert_int_equal(link(from, to), 0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx_t *f = *state;
    int rc = 0;
    if (f->pub != NULL && nw_testproc_signal(f->pub, SIGTERM) == 0 &&
        nw_testproc_wait_exit(f->pub, S_WAIT_MS) != 0) {
        s_dump(f->pub, "newswire-pub");
        rc = -1;
    }
    nw_testproc_destroy(&f->pub);
    zmq_ctx_term(f->zctx);
    nw_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return rc;
}

static int s_port_after(nw_testproc_t *p, const char *prefix)
{
    const char *at = strstr(nw_testproc_output(p, NW_TESTPROC_STDERR), prefix);
    assert_non_null(at);
    return atoi(at + strlen(prefix));
}

/* Starts the publisher with CURVE (and the allowlist when allow is true). */
static void s_start_pub(s_fx_t *f, bool allow)
{
    char secret[1200], journal[1200];
    snprintf(secret, sizeof secret, "%s/pub.key_secret", f->dir);
    snprintf(journal, sizeof journal, "%s/journal", f->dir);
    const char *argv[] = {NW_PUB_BIN,
                          "--spool",
                          f->spool,
                          "--journal",
                          journal,
                          "--bind",
                          "tcp://127.0.0.1:*",
                          "--replay-bind",
                          "tcp://127.0.0.1:*",
                          "--heartbeat",
                          "200",
                          "--curve-secret",
                          secret,
                          allow ? "--curve-allow" : NULL,
                          f->clients,
                          NULL};
    assert_non_null(f->pub = nw_testproc_start(argv, NULL));
    s_expect_log(f->pub, "ready: stream ");
    f->port = s_port_after(f->pub, "listening on tcp://127.0.0.1:");
    f->replay_port = s_port_after(f->pub, "replay: listening on tcp://127.0.0.1:");
}

/* A SUB socket for everything, with cert's keys (NULL: plaintext), connected to port. */
static void *s_sub(s_fx_t *f, const nw_cert_t *cert, int port)
{
    void *s = zmq_socket(f->zctx, ZMQ_SUB);
    assert_non_null(s);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    if (cert != NULL) {
        nw_cert_t pub;
        s_load(f, "pub.key", &pub);
        assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, pub.public_key, 40), 0);
        assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, cert->public_key, 40), 0);
        assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, cert->secret_key, 40), 0);
    }
    assert_int_equal(zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0), 0);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    assert_int_equal(zmq_connect(s, ep), 0);
    return s;
}

static void s_secret_cert(s_fx_t *f, const char *name, nw_cert_t *cert)
{
    char file[256];
    snprintf(file, sizeof file, "%s.key_secret", name);
    s_load(f, file, cert);
}

/* Receives messages until one on a non-control topic holds needle in its body; returns
 * false at the deadline. */
static bool s_recv_alert(void *s, const char *needle, int timeout_ms)
{
    zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        char topic[128] = "";
        char body[65536];
        int n = zmq_recv(s, topic, sizeof topic - 1, 0);
        int more = 0;
        size_t ml = sizeof more;
        zmq_getsockopt(s, ZMQ_RCVMORE, &more, &ml);
        if (n < 0 || !more)
            continue;
        int len = zmq_recv(s, body, sizeof body, 0);
        if (topic[0] != '$' && len > 0 &&
            memmem(body, (size_t)(len < (int)sizeof body ? len : (int)sizeof body), needle,
                   strlen(needle)) != NULL)
            return true;
    }
    return false;
}

static void s_drop(s_fx_t *f, const char *name)
{
    char tmp[1200], path[1200];
    snprintf(tmp, sizeof tmp, "%s/incoming/.%s", f->spool, name);
    snprintf(path, sizeof path, "%s/incoming/%s", f->spool, name);
    assert_int_equal(nw_test_write_file(tmp, s_article, strlen(s_article)), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void test_keygen_writes_a_0600_secret_and_never_overwrites(void **state)
{
    s_fx_t *f = *state;
    char path[1200], base[1200];
    struct stat st;
    snprintf(path, sizeof path, "%s/pub.key_secret", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(base, sizeof base, "%s/pub", f->dir);
    const char *argv[] = {NW_KEYGEN_BIN, base, NULL};
    nw_testproc_t *p = nw_testproc_start(argv, NULL);
    assert_int_equal(nw_testproc_wait_exit(p, S_WAIT_MS), 1);
    assert_non_null(strstr(nw_testproc_output(p, NW_TESTPROC_STDERR), "already exists"));
    nw_testproc_destroy(&p);
}

static void test_allowed_key_gets_alerts_stranger_and_plaintext_get_nothing(void **state)
{
    s_fx_t *f = *state;
    nw_cert_t alice, mallory;
    s_secret_cert(f, "alice", &alice);
    s_secret_cert(f, "mallory", &mallory);
    s_start_pub(f, true);
    void *good = s_sub(f, &alice, f->port);
    void *stranger = s_sub(f, &mallory, f->port);
    void *plain = s_sub(f, NULL, f->port);
    s_expect_log(f->pub, "subscriber subscribed to ''");
    char refused[128];
    snprintf(refused, sizeof refused, "curve: refused client key %s from 127.0.0.1",
             mallory.public_key);
    s_expect_log(f->pub, refused);
    s_drop(f, "a.txt");
    assert_true(s_recv_alert(good, S_SECRET, S_WAIT_MS));
    /* Everything alice got was sent by now; the others had the same chance. */
    assert_false(s_recv_alert(stranger, "", 500));
    assert_false(s_recv_alert(plain, "", 100));
    assert_int_equal(nw_testproc_count_lines(f->pub, NW_TESTPROC_STDERR, "subscriber subscribed"),
                     1);
    /* One refusal line for mallory, however often libzmq retried. */
    assert_int_equal(nw_testproc_count_lines(f->pub, NW_TESTPROC_STDERR, refused), 1);
    zmq_close(good);
    zmq_close(stranger);
    zmq_close(plain);
}

/* --- a byte relay between subscriber and publisher ------------------------------------ */

typedef struct {
    int listen_fd;     /* where the subscriber connects */
    int target_port;   /* the publisher */
    char *seen;        /* every byte from the publisher to the subscriber */
    size_t n_seen;     /* bytes in seen */
    volatile bool end; /* stop */
} s_relay_t;

static void *s_relay_run(void *arg)
{
    s_relay_t *r = arg;
    int c = accept(r->listen_fd, NULL, NULL);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->target_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c < 0 || t < 0 || connect(t, (struct sockaddr *)&a, sizeof a) != 0)
        return NULL;
    struct pollfd p[2] = {{c, POLLIN, 0}, {t, POLLIN, 0}};
    char buf[65536];
    while (!r->end) {
        if (poll(p, 2, 50) <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP)))
                continue;
            ssize_t n = read(p[i].fd, buf, sizeof buf);
            if (n <= 0) {
                r->end = true;
                break;
            }
            if (i == 1) {
                char *more = realloc(r->seen, r->n_seen + (size_t)n);
                if (more != NULL) {
                    memcpy(more + r->n_seen, buf, (size_t)n);
                    r->seen = more;
                    r->n_seen += (size_t)n;
                }
            }
            if (write(p[1 - i].fd, buf, (size_t)n) != n)
                r->end = true;
        }
    }
    close(c);
    close(t);
    return NULL;
}

static int s_relay_listen(s_relay_t *r)
{
    r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_int_equal(bind(r->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(r->listen_fd, 1), 0);
    assert_int_equal(getsockname(r->listen_fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

static void test_a_relay_never_sees_alert_text_in_clear(void **state)
{
    s_fx_t *f = *state;
    nw_cert_t alice;
    s_secret_cert(f, "alice", &alice);
    s_start_pub(f, true);
    s_relay_t r = {.target_port = f->port};
    int relay_port = s_relay_listen(&r);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, s_relay_run, &r), 0);
    void *s = s_sub(f, &alice, relay_port);
    s_expect_log(f->pub, "subscriber subscribed to ''");
    s_drop(f, "a.txt");
    assert_true(s_recv_alert(s, S_SECRET, S_WAIT_MS));
    r.end = true;
    pthread_join(th, NULL);
    close(r.listen_fd);
    printf("relay saw %zu bytes from the publisher\n", r.n_seen);
    assert_true(r.n_seen > strlen(S_SECRET));
    assert_null(memmem(r.seen, r.n_seen, "Lighthouse", 10));
    assert_null(memmem(r.seen, r.n_seen, "tariffs", 7));
    free(r.seen);
    zmq_close(s);
}

static void test_sighup_removes_a_key_that_then_cannot_reconnect(void **state)
{
    s_fx_t *f = *state;
    nw_cert_t alice;
    s_secret_cert(f, "alice", &alice);
    s_start_pub(f, true);
    void *s = s_sub(f, &alice, f->port);
    s_expect_log(f->pub, "subscriber subscribed to ''");
    zmq_close(s);
    char path[1200], refused[128];
    snprintf(path, sizeof path, "%s/alice.key", f->clients);
    assert_int_equal(unlink(path), 0);
    nw_testproc_signal(f->pub, SIGHUP);
    s_expect_log(f->pub, "curve: allowlist reloaded from");
    assert_non_null(strstr(nw_testproc_output(f->pub, NW_TESTPROC_STDERR), "(0 keys)"));
    s = s_sub(f, &alice, f->port);
    snprintf(refused, sizeof refused, "curve: refused client key %s", alice.public_key);
    s_expect_log(f->pub, refused);
    s_drop(f, "a.txt");
    assert_false(s_recv_alert(s, "", 1000));
    zmq_close(s);
}

static bool s_have_pyzmq(void)
{
    const char *argv[] = {S_PY, "-c", "import zmq.auth", NULL};
    nw_testproc_t *p = nw_testproc_start(argv, NULL);
    int status = p ? nw_testproc_wait_exit(p, S_WAIT_MS) : -1;
    nw_testproc_destroy(&p);
    return status == 0;
}

static void test_pyzmq_with_zmq_auth_certificates_reads_alerts_and_replays(void **state)
{
    s_fx_t *f = *state;
    if (!s_have_pyzmq()) {
        fprintf(stderr, "SKIPPED: python3-zmq is not installed (apt install python3-zmq)\n");
        skip();
    }
    char code[4096];
    snprintf(code, sizeof code, "import zmq.auth; zmq.auth.create_certificates('%s', 'py')\n",
             f->clients);
    const char *mk[] = {S_PY, "-c", code, NULL};
    nw_testproc_t *p = nw_testproc_start(mk, NULL);
    assert_int_equal(nw_testproc_wait_exit(p, S_WAIT_MS), 0);
    nw_testproc_destroy(&p);
    s_start_pub(f, true);
    /* The three lines of PROTOCOL.md's example, then one alert and a replay from seq 1. */
    snprintf(code, sizeof code,
             "import sys, zmq, zmq.auth\n"
             "ctx = zmq.Context()\n"
             "def keyed(kind):\n"
             "    s = ctx.socket(kind)\n"
             "    s.curve_publickey, s.curve_secretkey = "
             "zmq.auth.load_certificate('%s/py.key_secret')\n"
             "    s.curve_serverkey, _ = zmq.auth.load_certificate('%s/pub.key')\n"
             "    s.rcvtimeo = 15000\n"
             "    return s\n"
             "sub = keyed(zmq.SUB); sub.subscribe(b''); sub.connect('tcp://127.0.0.1:%d')\n"
             "print('subscribed', flush=True)\n"
             "while True:\n"
             "    topic, body = sub.recv_multipart()\n"
             "    if not topic.startswith(b'$') and b'Lighthouse' in body: break\n"
             "print('alert', topic.decode(), flush=True)\n"
             "rep = keyed(zmq.DEALER); rep.connect('tcp://127.0.0.1:%d')\n"
             "rep.send(b'\\x84\\xa1v\\x01\\xa4type\\xa6replay\\xa3req\\x07\\xa8from_seq\\x01')\n"
             "n = 0\n"
             "while True:\n"
             "    parts = rep.recv_multipart()\n"
             "    if parts[0] == b'$nw.replay.end': break\n"
             "    n += b'Lighthouse' in parts[2]\n"
             "print('replayed', n, flush=True)\n",
             f->clients, f->dir, f->port, f->replay_port);
    const char *run[] = {S_PY, "-c", code, NULL};
    p = nw_testproc_start(run, NULL);
    assert_true(nw_testproc_wait_output(p, NW_TESTPROC_STDOUT, "subscribed", S_WAIT_MS));
    s_expect_log(f->pub, "subscriber subscribed to ''");
    s_drop(f, "a.txt");
    int status = nw_testproc_wait_exit(p, S_WAIT_MS * 2);
    if (status != 0)
        s_dump(p, "python");
    assert_int_equal(status, 0);
    assert_non_null(strstr(nw_testproc_output(p, NW_TESTPROC_STDOUT), "alert "));
    assert_non_null(strstr(nw_testproc_output(p, NW_TESTPROC_STDOUT), "replayed 1"));
    nw_testproc_destroy(&p);
}

static void test_newswire_sub_with_keys_prints_and_a_wrong_server_key_warns(void **state)
{
    s_fx_t *f = *state;
    s_start_pub(f, true);
    char ep[64], server[1200], secret[1200], wrong[1200];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", f->port);
    snprintf(server, sizeof server, "%s/pub.key", f->dir);
    snprintf(wrong, sizeof wrong, "%s/mallory.key", f->dir);
    snprintf(secret, sizeof secret, "%s/alice.key_secret", f->dir);
    const char *good_argv[] = {NW_SUB_BIN, "-c",
                               ep,         "--curve-server-key",
                               server,     "--curve-secret",
                               secret,     "--format",
                               "json",     "-C",
                               "1",        NULL};
    const char *bad_argv[] = {NW_SUB_BIN,       "-c",   ep,  "--curve-server-key", wrong,
                              "--curve-secret", secret, NULL};
    nw_testproc_t *good = nw_testproc_start(good_argv, NULL);
    nw_testproc_t *bad = nw_testproc_start(bad_argv, NULL);
    s_expect_log(f->pub, "subscriber subscribed to ''");
    s_drop(f, "a.txt");
    assert_int_equal(nw_testproc_wait_exit(good, S_WAIT_MS), 0);
    assert_non_null(strstr(nw_testproc_output(good, NW_TESTPROC_STDOUT), "Harbor Tariff"));
    s_expect_log(bad, "--curve-server-key holds this publisher's public key");
    assert_non_null(strstr(nw_testproc_output(bad, NW_TESTPROC_STDERR), "--curve-server-key"));
    assert_int_equal(nw_testproc_count_lines(f->pub, NW_TESTPROC_STDERR, "subscriber subscribed"),
                     1);
    nw_testproc_signal(bad, SIGTERM);
    assert_int_equal(nw_testproc_wait_exit(bad, S_WAIT_MS), 0);
    nw_testproc_destroy(&good);
    nw_testproc_destroy(&bad);
}

static void test_any_client_without_allowlist_is_logged(void **state)
{
    s_fx_t *f = *state;
    s_start_pub(f, false);
    s_expect_log(f->pub, "curve: encrypted, but any client key is accepted (no --curve-allow)");
    nw_cert_t mallory;
    s_secret_cert(f, "mallory", &mallory);
    void *s = s_sub(f, &mallory, f->port);
    s_expect_log(f->pub, "subscriber subscribed to ''");
    zmq_close(s);
}

/* Without --bind, loopback: either it listens on 127.0.0.1:5556 or that port is taken (by
 * another test run) and the error names it; never a wildcard. */
static void test_default_binds_are_loopback_and_wide_binds_warn_once(void **state)
{
    s_fx_t *f = *state;
    char journal[1200];
    snprintf(journal, sizeof journal, "%s/journal", f->dir);
    const char *argv[] = {NW_PUB_BIN, "--spool", f->spool, "--journal", journal, NULL};
    nw_testproc_t *p = nw_testproc_start(argv, NULL);
    assert_true(nw_testproc_wait_output(p, NW_TESTPROC_STDERR, "tcp://127.0.0.1:5556", S_WAIT_MS));
    assert_null(strstr(nw_testproc_output(p, NW_TESTPROC_STDERR), "not loopback"));
    nw_testproc_signal(p, SIGTERM);
    nw_testproc_wait_exit(p, S_WAIT_MS);
    nw_testproc_destroy(&p);
    const char *wide[] = {NW_PUB_BIN, "--spool",   f->spool,        "--journal",       journal,
                          "--bind",   "tcp://*:*", "--replay-bind", "tcp://0.0.0.0:*", NULL};
    p = nw_testproc_start(wide, NULL);
    assert_true(nw_testproc_wait_output(p, NW_TESTPROC_STDERR, "ready: stream", S_WAIT_MS));
    assert_int_equal(nw_testproc_count_lines(p, NW_TESTPROC_STDERR,
                                             "not loopback and no --curve-secret: anyone who can "
                                             "reach it reads every alert"),
                     1);
    assert_non_null(
        strstr(nw_testproc_output(p, NW_TESTPROC_STDERR), "tcp://*:*, tcp://0.0.0.0:*"));
    nw_testproc_signal(p, SIGTERM);
    assert_int_equal(nw_testproc_wait_exit(p, S_WAIT_MS), 0);
    nw_testproc_destroy(&p);
}

static void test_bad_key_files_are_exit_2_naming_the_flag(void **state)
{
    s_fx_t *f = *state;
    char pubkey[1200];
    snprintf(pubkey, sizeof pubkey, "%s/pub.key", f->dir);
    const char *pub_argv[] = {NW_PUB_BIN, "--curve-secret", pubkey, NULL};
    nw_testproc_t *p = nw_testproc_start(pub_argv, NULL);
    assert_int_equal(nw_testproc_wait_exit(p, S_WAIT_MS), 2);
    assert_non_null(strstr(nw_testproc_output(p, NW_TESTPROC_STDERR), "--curve-secret"));
    assert_non_null(strstr(nw_testproc_output(p, NW_TESTPROC_STDERR), "public certificate"));
    nw_testproc_destroy(&p);
    const char *sub_argv[] = {NW_SUB_BIN, "--curve-server-key", "/nonexistent.key", NULL};
    p = nw_testproc_start(sub_argv, NULL);
    assert_int_equal(nw_testproc_wait_exit(p, S_WAIT_MS), 2);
    assert_non_null(
        strstr(nw_testproc_output(p, NW_TESTPROC_STDERR), "--curve-server-key /nonexistent.key"));
    nw_testproc_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen_writes_a_0600_secret_and_never_overwrites,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_allowed_key_gets_alerts_stranger_and_plaintext_get_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_relay_never_sees_alert_text_in_clear, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_sighup_removes_a_key_that_then_cannot_reconnect,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_pyzmq_with_zmq_auth_certificates_reads_alerts_and_replays, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_newswire_sub_with_keys_prints_and_a_wrong_server_key_warns, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_any_client_without_allowlist_is_logged, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_default_binds_are_loopback_and_wide_binds_warn_once,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_key_files_are_exit_2_naming_the_flag, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
