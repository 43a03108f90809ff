/*
 * nw_cert: the ZPL certificate files of CZMQ's zcert and pyzmq's zmq.auth. Good files in
 * both writers' shapes, each kind of bad file named by line, and the round trip with pyzmq
 * in both directions (skipped, saying so, when python3-zmq is not installed).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nw_cert.h"
#include "nw_error.h"
#include "nw_testproc.h"

#define S_PY "/usr/bin/python3"

/* A pair made once for the texts below (zmq_curve_keypair). */
static nw_cert_t s_pair;

static int s_setup(void **state)
{
    (void)state;
    return nw_cert_generate(&s_pair) == NW_OK ? 0 : -1;
}

static int s_parse(const char *text, nw_cert_t *cert, char *err, size_t errlen)
{
    return nw_cert_parse(text, strlen(text), "x.key", cert, err, errlen);
}

static void test_reads_the_pyzmq_shape(void **state)
{
    (void)state;
    char text[1024], err[256];
    snprintf(text, sizeof text,
             "#   ****  Generated on 2026-12-07 by pyzmq  ****\n"
             "#   ZeroMQ CURVE **Secret** Certificate\n\n"
             "metadata\n    name = alerts\n"
             "curve\n    public-key = \"%s\"\n    secret-key = \"%s\"\n",
             s_pair.public_key, s_pair.secret_key);
    nw_cert_t cert;
    assert_int_equal(s_parse(text, &cert, err, sizeof err), NW_OK);
    assert_string_equal(cert.public_key, s_pair.public_key);
    assert_string_equal(cert.secret_key, s_pair.secret_key);
}

static void test_reads_a_public_certificate_with_czmq_metadata_and_crlf(void **state)
{
    (void)state;
    char text[1024], err[256];
    snprintf(text, sizeof text,
             "#   ZeroMQ CURVE Public Certificate\r\n"
             "metadata\r\n    email = 'ops@example.org'   # who\r\n    nested\r\n"
             "        deeper = x\r\ncurve\r\n    public-key = \"%s\"\r\n",
             s_pair.public_key);
    nw_cert_t cert;
    assert_int_equal(s_parse(text, &cert, err, sizeof err), NW_OK);
    assert_string_equal(cert.public_key, s_pair.public_key);
    assert_string_equal(cert.secret_key, "");
}

/* Each bad text and the words its error must hold. */
static void test_bad_files_are_named_by_line(void **state)
{
    (void)state;
    char good_sec[256];
    nw_cert_t other;
    assert_int_equal(nw_cert_generate(&other), NW_OK);
    snprintf(good_sec, sizeof good_sec, "curve\n    public-key = \"%s\"\n    secret-key = \"%s\"\n",
             s_pair.public_key, other.secret_key);
    const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"curve\n\tpublic-key = \"x\"\n", "x.key:2: tabs"},
        {"curve\n   public-key = \"x\"\n", "x.key:2: indentation"},
        {"curve\n        public-key = \"x\"\n", "x.key:2: indented more"},
        {"curve\n    public-key = \"short\"\n", "x.key:2: public-key is not 40"},
        {"curve\n    public-key = \"abc\n", "x.key:2: a quoted value has no closing"},
        {"curve\n    public-key = \"abc\" junk\n", "x.key:2: unexpected text"},
        {"curve\n    =x\n", "x.key:2: a name must start"},
        {"curve\n    public-key \"x\"\n", "x.key:2: expected '='"},
        {"metadata\n", "no curve/public-key"},
        {"", "no curve/public-key"},
        /* fuzz_cert's finding: Z85 letters whose first group is over 2^32 - 1. */
        {"curve\n    public-key = '%%%%%k1%kR.o@nmsLcm/%F@{H8]yf7rq:rM>}U?@'\n",
         "x.key:2: public-key is not 40 characters of Z85"},
        {good_sec, "does not belong to the public key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        nw_cert_t cert;
        int rc = s_parse(cases[i].text, &cert, err, sizeof err);
        if (rc == NW_OK || strstr(err, cases[i].want) == NULL)
            fail_msg("case %zu: rc %d, err '%s', wanted '%s'", i, rc, err, cases[i].want);
    }
}

static void test_bounds_file_and_line_and_nul(void **state)
{
    (void)state;
    char err[256];
    nw_cert_t cert;
    size_t big = NW_CERT_FILE_MAX + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, '#', big);
    assert_int_equal(nw_cert_parse(text, big, "x.key", &cert, err, sizeof err), NW_ERR_TOOBIG);
    memset(text, 'a', NW_CERT_LINE_MAX + 1);
    assert_int_equal(nw_cert_parse(text, NW_CERT_LINE_MAX + 1, "x.key", &cert, err, sizeof err),
                     NW_ERR_CONFIG);
    assert_non_null(strstr(err, "longer than"));
    assert_int_equal(nw_cert_parse("curve\0x", 7, "x.key", &cert, err, sizeof err), NW_ERR_CONFIG);
    assert_non_null(strstr(err, "NUL"));
    free(text);
}

static void test_save_then_load_with_modes_and_no_overwrite(void **state)
{
    (void)state;
    char *dir = nw_test_tmpdir("nw-cert");
    assert_non_null(dir);
    char base[1024], path[1100], err[1200];
    snprintf(base, sizeof base, "%s/pub", dir);
    assert_int_equal(nw_cert_save(base, &s_pair, err, sizeof err), NW_OK);
    struct stat st;
    snprintf(path, sizeof path, "%s.key_secret", base);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    nw_cert_t cert;
    assert_int_equal(nw_cert_load(path, true, &cert, err, sizeof err), NW_OK);
    assert_string_equal(cert.secret_key, s_pair.secret_key);
    snprintf(path, sizeof path, "%s.key", base);
    assert_int_equal(nw_cert_load(path, false, &cert, err, sizeof err), NW_OK);
    assert_string_equal(cert.public_key, s_pair.public_key);
    assert_int_equal(nw_cert_load(path, true, &cert, err, sizeof err), NW_ERR_CONFIG);
    assert_non_null(strstr(err, "public certificate"));
    assert_int_equal(nw_cert_save(base, &s_pair, err, sizeof err), NW_ERR_INVAL);
    assert_non_null(strstr(err, "already exists"));
    snprintf(path, sizeof path, "%s/missing.key", dir);
    assert_int_equal(nw_cert_load(path, false, &cert, err, sizeof err), NW_ERR_NOTFOUND);
    assert_int_equal(nw_cert_load(dir, false, &cert, err, sizeof err), NW_ERR_IO);
    nw_test_rmtree(dir);
    free(dir);
}

static bool s_have_pyzmq(void)
{
    const char *argv[] = {S_PY, "-c", "import zmq.auth", NULL};
    nw_testproc_t *p = nw_testproc_start(argv, NULL);
    int status = p ? nw_testproc_wait_exit(p, 20000) : -1;
    nw_testproc_destroy(&p);
    return status == 0;
}

/* Runs a Python snippet; returns its standard output (caller frees) or fails the test. */
static char *s_python(const char *code)
{
    const char *argv[] = {S_PY, "-c", code, NULL};
    nw_testproc_t *p = nw_testproc_start(argv, NULL);
    assert_non_null(p);
    int status = nw_testproc_wait_exit(p, 20000);
    char *out = strdup(nw_testproc_output(p, NW_TESTPROC_STDOUT));
    if (status != 0)
        fail_msg("python exit %d: %s", status, nw_testproc_output(p, NW_TESTPROC_STDERR));
    nw_testproc_destroy(&p);
    return out;
}

static void test_pyzmq_reads_ours_and_we_read_pyzmqs(void **state)
{
    (void)state;
    if (!s_have_pyzmq()) {
        fprintf(stderr, "SKIPPED: python3-zmq is not installed (apt install python3-zmq)\n");
        skip();
    }
    char *dir = nw_test_tmpdir("nw-cert-py");
    assert_non_null(dir);
    char base[1024], code[4096], err[1200], path[1100];
    /* Ours, read by pyzmq. */
    snprintf(base, sizeof base, "%s/ours", dir);
    assert_int_equal(nw_cert_save(base, &s_pair, err, sizeof err), NW_OK);
    snprintf(code, sizeof code,
             "import zmq.auth\n"
             "p, s = zmq.auth.load_certificate('%s.key_secret')\n"
             "q, n = zmq.auth.load_certificate('%s.key')\n"
             "assert n is None and p == q\n"
             "assert zmq.curve_public(s) == p\n"
             "print(p.decode(), s.decode())\n",
             base, base);
    char *out = s_python(code);
    char want[128];
    snprintf(want, sizeof want, "%s %s\n", s_pair.public_key, s_pair.secret_key);
    assert_string_equal(out, want);
    free(out);
    /* pyzmq's, read by us: the pair it printed must be what we load. */
    snprintf(code, sizeof code,
             "import zmq.auth\n"
             "pub, sec = zmq.auth.create_certificates('%s', 'theirs', {'owner': 'py'})\n"
             "p, s = zmq.auth.load_certificate(sec)\n"
             "print(p.decode(), s.decode())\n",
             dir);
    out = s_python(code);
    nw_cert_t cert, pub;
    snprintf(path, sizeof path, "%s/theirs.key_secret", dir);
    assert_int_equal(nw_cert_load(path, true, &cert, err, sizeof err), NW_OK);
    snprintf(path, sizeof path, "%s/theirs.key", dir);
    assert_int_equal(nw_cert_load(path, false, &pub, err, sizeof err), NW_OK);
    snprintf(want, sizeof want, "%s %s\n", cert.public_key, cert.secret_key);
    assert_string_equal(out, want);
    assert_string_equal(pub.public_key, cert.public_key);
    free(out);
    nw_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_the_pyzmq_shape),
        cmocka_unit_test(test_reads_a_public_certificate_with_czmq_metadata_and_crlf),
        cmocka_unit_test(test_bad_files_are_named_by_line),
        cmocka_unit_test(test_bounds_file_and_line_and_nul),
        cmocka_unit_test(test_save_then_load_with_modes_and_no_overwrite),
        cmocka_unit_test(test_pyzmq_reads_ours_and_we_read_pyzmqs),
    };
    return cmocka_run_group_tests(tests, s_setup, NULL);
}
