/*
 * newswire-proxy with CURVE on both sides, as real processes on 127.0.0.1:
 * publisher (CURVE, its allowlist holds the proxy's key) -> proxy (a CURVE client
 * upstream, a CURVE server downstream whose allowlist holds alice's key) -> subscribers.
 * Alice, durable, gets every alert exactly once and repairs what she missed through the
 * proxy's replay front end; a stranger's key and a plaintext subscriber get nothing;
 * SIGHUP makes the proxy re-read its allowlist.
 *
 * Every wait watches for an outcome (a log line, lines in a --log file, an exit) with a
 * deadline.
 */
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nw_cert.h"
#include "nw_error.h"
#include "nw_testcheck.h"
#include "nw_testproc.h"

#define S_START_MS 20000 /* a process start or a log line, generous for sanitizers */
#define S_LINES_MS 60000 /* a stream of alerts reaching a log */

/* "zebra" articles are alpha. */
static const char s_taxonomy[] = "topic: alpha\nthreshold: 1\n5: zebra\n";

typedef struct {
    char *dir;                    /* temporary folder for everything */
    char tax[PATH_MAX];           /* DIR/tax.conf */
    char pub_allow[PATH_MAX];     /* DIR/pub-allow: the proxy's key */
    char proxy_allow[PATH_MAX];   /* DIR/proxy-allow: alice's key */
    char pub_ep[64], pub_rep[64]; /* publisher's endpoints */
    char px_ep[64], px_rep[64];   /* proxy's endpoints */
    nw_testproc_t *pub;           /* the publisher */
    nw_testproc_t *proxy;         /* the proxy */
    nw_testproc_t *sub[3];        /* alice, mallory (a stranger), a plaintext subscriber */
} s_fx_t;

static void s_path(const s_fx_t *f, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", f->dir, name);
}

/* Runs newswire-keygen DIR/NAME; fails the test unless it exits 0. */
static void s_keygen(const s_fx_t *f, const char *name)
{
    char base[PATH_MAX];
    s_path(f, name, base, sizeof base);
    const char *argv[] = {NW_KEYGEN_BIN, base, NULL};
    nw_testproc_t *p = nw_testproc_start(argv, NULL);
    assert_non_null(p);
    assert_int_equal(nw_testproc_wait_exit(p, S_START_MS), 0);
    nw_testproc_destroy(&p);
}

/* Puts DIR/NAME.key into the allowlist folder allow. */
static void s_allow(const s_fx_t *f, const char *allow, const char *name)
{
    char from[PATH_MAX], to[PATH_MAX + 64];
    snprintf(from, sizeof from, "%s/%s.key", f->dir, name);
    snprintf(to, sizeof to, "%s/%s.key", allow, name);
    assert_int_equal(link(from, to), 0);
}

static int s_setup(void **state)
{
    s_fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_non_null(f->dir = nw_test_tmpdir("nw-pxcurve"));
    s_path(f, "tax.conf", f->tax, sizeof f->tax);
    assert_int_equal(nw_test_write_file(f->tax, s_taxonomy, strlen(s_taxonomy)), 0);
    s_path(f, "pub-allow", f->pub_allow, sizeof f->pub_allow);
    s_path(f, "proxy-allow", f->proxy_allow, sizeof f->proxy_allow);
    assert_int_equal(mkdir(f->pub_allow, 0755), 0);
    assert_int_equal(mkdir(f->proxy_allow, 0755), 0);
    s_keygen(f, "pub");
    s_keygen(f, "proxy");
    s_keygen(f, "alice");
    s_keygen(f, "mallory");
    s_allow(f, f->pub_allow, "proxy");
    s_allow(f, f->proxy_allow, "alice");
    char *all[4] = {f->pub_ep, f->pub_rep, f->px_ep, f->px_rep};
    assert_int_equal(nw_test_free_endpoints(all, 4, 64), 0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx_t *f = *state;
    for (size_t i = 0; i < 3; i++)
        nw_testproc_destroy(&f->sub[i]);
    nw_testproc_destroy(&f->proxy);
    nw_testproc_destroy(&f->pub);
    nw_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* --- processes -------------------------------------------------------------------------- */

static void s_pub_start(s_fx_t *f)
{
    char spool[PATH_MAX], journal[PATH_MAX], secret[PATH_MAX];
    s_path(f, "spool", spool, sizeof spool);
    s_path(f, "journal", journal, sizeof journal);
    s_path(f, "pub.key_secret", secret, sizeof secret);
    const char *argv[] = {NW_PUB_BIN, "--spool",         spool,        "--journal",
                          journal,    "--bind",          f->pub_ep,    "--replay-bind",
                          f->pub_rep, "--topics",        f->tax,       "--heartbeat",
                          "100",      "--journal-fsync", "never",      "--curve-secret",
                          secret,     "--curve-allow",   f->pub_allow, NULL};
    assert_non_null(f->pub = nw_testproc_start(argv, NULL));
    nw_check_logged(f->pub, "ready: stream ", S_START_MS, "newswire-pub");
}

static void s_proxy_start(s_fx_t *f)
{
    char server[PATH_MAX], secret[PATH_MAX];
    s_path(f, "pub.key", server, sizeof server);
    s_path(f, "proxy.key_secret", secret, sizeof secret);
    const char *argv[] = {NW_PROXY_BIN,   "-c",
                          f->pub_ep,      "--bind",
                          f->px_ep,       "--replay-bind",
                          f->px_rep,      "--curve-server-key",
                          server,         "--curve-secret",
                          secret,         "--curve-allow",
                          f->proxy_allow, NULL};
    assert_non_null(f->proxy = nw_testproc_start(argv, NULL));
    nw_check_logged(f->proxy, "ready: ", S_START_MS, "newswire-proxy");
}

/* Starts subscriber k on the proxy with name's keys (NULL: plaintext) and args
 * (NULL-terminated). */
static void s_sub_start(s_fx_t *f, size_t k, const char *name, const char *const *args)
{
    char server[PATH_MAX], secret[PATH_MAX];
    s_path(f, "proxy.key", server, sizeof server);
    snprintf(secret, sizeof secret, "%s/%s.key_secret", f->dir, name ? name : "");
    const char *argv[32] = {NW_SUB_BIN, "-c", f->px_ep};
    size_t n = 3;
    if (name != NULL) {
        argv[n++] = "--curve-server-key";
        argv[n++] = server;
        argv[n++] = "--curve-secret";
        argv[n++] = secret;
    }
    for (size_t i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    nw_testproc_destroy(&f->sub[k]);
    assert_non_null(f->sub[k] = nw_testproc_start(argv, NULL));
    nw_check_logged(f->sub[k], "subscribed; connecting", S_START_MS, "newswire-sub");
}

/* Writes an article of a headline and paras paragraphs about zebras into the spool
 * (outside incoming/, then renamed in). */
static void s_article(const s_fx_t *f, const char *name, int paras)
{
    size_t cap = (size_t)paras * 48 + 128, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "Zebra report %s\n\n", name);
    for (int p = 0; p < paras; p++)
        len += (size_t)snprintf(text + len, cap - len, "Zebra item %d of %s moves.\n\n", p, name);
    char tmp[PATH_MAX], dst[PATH_MAX + 64];
    s_path(f, name, tmp, sizeof tmp);
    snprintf(dst, sizeof dst, "%s/spool/incoming/%s", f->dir, name);
    assert_int_equal(nw_test_write_file(tmp, text, len), 0);
    assert_int_equal(rename(tmp, dst), 0);
    free(text);
}

/* --- --log files ----------------------------------------------------------------------- */

/* Asserts the JSON Lines file holds exactly want alerts, with seqs strictly increasing
 * (one stream: so none repeated and none out of order). */
static void s_assert_once_in_order(const char *path, size_t want)
{
    size_t len, n = 0, disorder = 0;
    char *text = nw_test_read_file(path, &len);
    assert_non_null(text);
    uint64_t last = 0;
    for (char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1, n++) {
        *nl = '\0';
        const char *seq = strstr(line, "\"seq\":");
        assert_non_null(seq);
        uint64_t s = strtoull(seq + 6, NULL, 10);
        disorder += n > 0 && s <= last;
        last = s;
    }
    free(text);
    if (n != want || disorder != 0)
        fail_msg("%s: %zu alerts (want %zu), %zu repeated or out of order", path, n, want,
                 disorder);
}

static void s_public_key(const s_fx_t *f, const char *name, char *out, size_t len)
{
    char path[PATH_MAX], err[PATH_MAX + 256];
    nw_cert_t cert;
    snprintf(path, sizeof path, "%s/%s.key", f->dir, name);
    if (nw_cert_load(path, false, &cert, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    snprintf(out, len, "%s", cert.public_key);
}

/* --- tests ------------------------------------------------------------------------------- */

static void test_allowed_key_gets_every_alert_and_repairs_through_the_proxy(void **state)
{
    s_fx_t *f = *state;
    char alice_log[PATH_MAX], alice_state[PATH_MAX], mallory_log[PATH_MAX], plain_log[PATH_MAX];
    s_path(f, "alice.jsonl", alice_log, sizeof alice_log);
    s_path(f, "alice.state", alice_state, sizeof alice_state);
    s_path(f, "mallory.jsonl", mallory_log, sizeof mallory_log);
    s_path(f, "plain.jsonl", plain_log, sizeof plain_log);
    const char *const alice_args[] = {
        "-q",      "-t",      "alpha", "--state",         alice_state, "--log",
        alice_log, "--fsync", "never", "--on-new-stream", "beginning", NULL};
    s_pub_start(f);
    s_proxy_start(f);
    /* The proxy's key is in the publisher's allowlist: the proxy's subscription arrives. */
    s_article(f, "z1.txt", 60);
    nw_check_logged(f->pub, "published z1.txt", S_START_MS, "newswire-pub");
    /* Started after the article: all of it comes by replay, through the proxy. */
    s_sub_start(f, 0, "alice", alice_args);
    s_sub_start(f, 1, "mallory", (const char *[]){"-t", "alpha", "--log", mallory_log, NULL});
    s_sub_start(f, 2, NULL, (const char *[]){"-t", "alpha", "--log", plain_log, NULL});
    nw_check_logged(f->pub, "subscribed to 'alpha'", S_START_MS, "newswire-pub");
    nw_check_file_lines(f->sub[0], alice_log, 61, S_LINES_MS, "alice");
    nw_check_stopped(&f->sub[0], S_START_MS, "alice");
    /* Missed while she was down: repaired at her next start, through the proxy. */
    s_article(f, "z2.txt", 40);
    nw_check_logged(f->pub, "published z2.txt", S_START_MS, "newswire-pub");
    s_sub_start(f, 0, "alice", alice_args);
    nw_check_file_lines(f->sub[0], alice_log, 102, S_LINES_MS, "alice");
    s_article(f, "z3.txt", 20);
    nw_check_file_lines(f->sub[0], alice_log, 123, S_LINES_MS, "alice");
    nw_check_stopped(&f->sub[0], S_START_MS, "alice");
    s_assert_once_in_order(alice_log, 123);
    /* The only replay endpoint alice was told of is the proxy's. */
    const char *err = nw_testproc_output(f->sub[0], NW_TESTPROC_STDERR);
    assert_non_null(strstr(err, f->px_rep));
    assert_null(strstr(err, f->pub_rep));
    /* The stranger was refused by the proxy (logged once) and warned; the plaintext one
     * never connected. Both had every chance to get the live alerts of z3. */
    char mallory[NW_CERT_Z85_LEN + 1], refused[128];
    s_public_key(f, "mallory", mallory, sizeof mallory);
    snprintf(refused, sizeof refused, "curve: refused client key %s from 127.0.0.1", mallory);
    nw_check_logged(f->proxy, refused, S_START_MS, "newswire-proxy");
    assert_int_equal(nw_testproc_count_lines(f->proxy, NW_TESTPROC_STDERR, refused), 1);
    nw_check_logged(f->sub[1], "--curve-server-key holds this publisher's public key", S_START_MS,
                    "mallory's subscriber");
    nw_check_stopped(&f->sub[1], S_START_MS, "mallory's subscriber");
    nw_check_stopped(&f->sub[2], S_START_MS, "plaintext subscriber");
    assert_int_equal(nw_test_count_file_lines(mallory_log, ""), 0);
    assert_int_equal(nw_test_count_file_lines(plain_log, ""), 0);
    nw_check_stopped(&f->proxy, S_START_MS, "newswire-proxy");
    nw_check_logged(f->proxy, "replay: ", 0, "newswire-proxy");
    assert_null(strstr(nw_testproc_output(f->proxy, NW_TESTPROC_STDERR), "replay: 0 requests"));
    nw_check_stopped(&f->pub, S_START_MS, "newswire-pub");
    /* The publisher refused nobody: only the proxy connected to it. */
    assert_null(strstr(nw_testproc_output(f->pub, NW_TESTPROC_STDERR), "curve: refused"));
}

static void test_sighup_reloads_the_proxy_allowlist(void **state)
{
    s_fx_t *f = *state;
    char mallory_log[PATH_MAX];
    s_path(f, "mallory.jsonl", mallory_log, sizeof mallory_log);
    s_pub_start(f);
    s_proxy_start(f);
    s_sub_start(f, 1, "mallory", (const char *[]){"-t", "alpha", "--log", mallory_log, NULL});
    nw_check_logged(f->proxy, "curve: refused client key", S_START_MS, "newswire-proxy");
    s_allow(f, f->proxy_allow, "mallory");
    nw_testproc_signal(f->proxy, SIGHUP);
    nw_check_logged(f->proxy, "curve: allowlist reloaded from", S_START_MS, "newswire-proxy");
    /* libzmq does not retry a refused handshake: a new start is accepted now. */
    s_sub_start(f, 1, "mallory", (const char *[]){"-t", "alpha", "--log", mallory_log, NULL});
    nw_check_logged(f->pub, "subscribed to 'alpha'", S_START_MS, "newswire-pub");
    s_article(f, "z1.txt", 5);
    nw_check_file_lines(f->sub[1], mallory_log, 6, S_LINES_MS, "mallory's subscriber");
    nw_check_stopped(&f->sub[1], S_START_MS, "mallory's subscriber");
    nw_check_stopped(&f->proxy, S_START_MS, "newswire-proxy");
    nw_check_stopped(&f->pub, S_START_MS, "newswire-pub");
}

/* Without --curve-secret a bind other hosts can reach is one warning, and with it but no
 * --curve-allow so is accepting any key; --curve-allow alone and an unreadable key file
 * are usage errors naming the flag. */
static void test_plaintext_warning_and_key_errors(void **state)
{
    s_fx_t *f = *state;
    const char *open_argv[] = {NW_PROXY_BIN,    "-c",   f->pub_ep, "--bind", "tcp://*:*",
                               "--replay-bind", "none", NULL};
    nw_testproc_t *p = nw_testproc_start(open_argv, NULL);
    assert_non_null(p);
    nw_check_logged(p, "ready: ", S_START_MS, "newswire-proxy");
    assert_int_equal(nw_testproc_count_lines(p, NW_TESTPROC_STDERR,
                                             "tcp://*:*: not loopback and no --curve-secret"),
                     1);
    nw_check_stopped(&p, S_START_MS, "newswire-proxy");
    nw_testproc_destroy(&p);
    /* Keys without an allowlist: encrypted, any client accepted, said once. */
    char secret[PATH_MAX];
    s_path(f, "proxy.key_secret", secret, sizeof secret);
    const char *any_argv[] = {NW_PROXY_BIN,    "-c",   f->pub_ep,        "--bind", "tcp://*:*",
                              "--replay-bind", "none", "--curve-secret", secret,   NULL};
    assert_non_null(p = nw_testproc_start(any_argv, NULL));
    nw_check_logged(p, "ready: ", S_START_MS, "newswire-proxy");
    assert_int_equal(nw_testproc_count_lines(p, NW_TESTPROC_STDERR,
                                             "any client key is accepted (no --curve-allow)"),
                     1);
    assert_null(strstr(nw_testproc_output(p, NW_TESTPROC_STDERR), "not loopback"));
    nw_check_stopped(&p, S_START_MS, "newswire-proxy");
    nw_testproc_destroy(&p);
    const char *allow_argv[] = {NW_PROXY_BIN,    "-c",           f->pub_ep,
                                "--curve-allow", f->proxy_allow, NULL};
    assert_non_null(p = nw_testproc_start(allow_argv, NULL));
    assert_int_equal(nw_testproc_wait_exit(p, S_START_MS), 2);
    assert_non_null(
        strstr(nw_testproc_output(p, NW_TESTPROC_STDERR), "--curve-allow needs --curve-secret"));
    nw_testproc_destroy(&p);
    const char *key_argv[] = {
        NW_PROXY_BIN, "-c", f->pub_ep, "--curve-secret", "/nonexistent.key_secret", NULL};
    assert_non_null(p = nw_testproc_start(key_argv, NULL));
    assert_int_equal(nw_testproc_wait_exit(p, S_START_MS), 2);
    assert_non_null(strstr(nw_testproc_output(p, NW_TESTPROC_STDERR),
                           "--curve-secret /nonexistent.key_secret"));
    nw_testproc_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plaintext_warning_and_key_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_allowed_key_gets_every_alert_and_repairs_through_the_proxy, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sighup_reloads_the_proxy_allowlist, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
