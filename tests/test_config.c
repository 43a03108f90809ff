/* Tests for common/nw_config: a config file merged under the command line. */
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

#include "nw_config.h"
#include "nw_error.h"

/* A program's option table, like newswire-sub's. */
static const struct option s_options[] = {
    {"connect", required_argument, NULL, 'c'},
    {"topic", required_argument, NULL, 't'},
    {"quiet", no_argument, NULL, 'q'},
    {"format", required_argument, NULL, 256},
    {"config", required_argument, NULL, 257},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};
#define S_SHORT "c:t:qh"

typedef struct {
    char dir[64];  /* temporary folder */
    char path[96]; /* dir/test.conf */
    char err[512]; /* last error */
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/nw-config-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/test.conf", f->dir);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void s_write(const s_fixture_t *f, const char *text)
{
    FILE *out = fopen(f->path, "w");
    assert_non_null(out);
    fputs(text, out);
    assert_int_equal(fclose(out), 0);
}

/* Loads with --config PATH plus the extra command-line arguments. */
static int s_load(s_fixture_t *f, nw_config_t **cfg, int n_extra, char **extra)
{
    char *argv[16] = {"prog", "--config", f->path};
    int argc = 3;
    for (int i = 0; i < n_extra; i++)
        argv[argc++] = extra[i];
    f->err[0] = '\0';
    return nw_config_load(argc, argv, NULL, S_SHORT, s_options, cfg, f->err, sizeof f->err);
}

/* Joins the merged vector after argv[0] with spaces. */
static void s_joined(nw_config_t *cfg, char *out, size_t len)
{
    out[0] = '\0';
    for (int i = 1; i < nw_config_argc(cfg); i++) {
        strncat(out, nw_config_argv(cfg)[i], len - strlen(out) - 1);
        if (i + 1 < nw_config_argc(cfg))
            strncat(out, " ", len - strlen(out) - 1);
    }
}

static void test_keys_become_long_options_in_file_order(void **state)
{
    s_fixture_t *f = *state;
    nw_config_t *cfg = NULL;
    char got[512];
    s_write(f, "# a comment\n\n  connect = tcp://a:1  \ntopic=trade\n"
               "topic = defense\nformat = \"%t # %m \"\nquiet = yes\n");
    assert_int_equal(s_load(f, &cfg, 0, NULL), NW_OK);
    s_joined(cfg, got, sizeof got);
    assert_non_null(strstr(got, "--connect=tcp://a:1 --topic=trade --topic=defense "
                                "--format=%t # %m  --quiet --config "));
    assert_string_equal(nw_config_path(cfg), f->path);
    nw_config_destroy(&cfg);
    assert_null(cfg);
    nw_config_destroy(&cfg);
}

static void test_command_line_replaces_the_files_option(void **state)
{
    s_fixture_t *f = *state;
    nw_config_t *cfg = NULL;
    char got[512];
    char *extra[] = {"-c", "tcp://b:2", "--format=json"};
    s_write(f, "connect = tcp://a:1\nconnect = tcp://a:3\ntopic = trade\nformat = text\n");
    assert_int_equal(s_load(f, &cfg, 3, extra), NW_OK);
    s_joined(cfg, got, sizeof got);
    assert_null(strstr(got, "tcp://a:"));
    assert_null(strstr(got, "--format=text"));
    assert_non_null(strstr(got, "--topic=trade"));
    assert_non_null(strstr(got, "-c tcp://b:2 --format=json"));
    nw_config_destroy(&cfg);
}

static void test_false_flag_is_left_out(void **state)
{
    s_fixture_t *f = *state;
    nw_config_t *cfg = NULL;
    char got[512];
    s_write(f, "quiet = off\n");
    assert_int_equal(s_load(f, &cfg, 0, NULL), NW_OK);
    s_joined(cfg, got, sizeof got);
    assert_null(strstr(got, "--quiet"));
    nw_config_destroy(&cfg);
}

static void test_origin_names_file_and_line(void **state)
{
    s_fixture_t *f = *state;
    nw_config_t *cfg = NULL;
    char want[160];
    s_write(f, "# first\n\ntopic = trade\n");
    assert_int_equal(s_load(f, &cfg, 0, NULL), NW_OK);
    snprintf(want, sizeof want, "%s:3", f->path);
    assert_string_equal(nw_config_argv(cfg)[1], "--topic=trade");
    assert_string_equal(nw_config_origin(cfg, 1), want);
    assert_null(nw_config_origin(cfg, 2)); /* --config, from the command line */
    assert_null(nw_config_origin(cfg, 99));
    nw_config_destroy(&cfg);
}

/* Each bad line is refused with FILE:LINE and a word about what is wrong. */
static void test_bad_lines_name_file_and_line(void **state)
{
    s_fixture_t *f = *state;
    const struct {
        const char *text, *says;
    } cases[] = {
        {"topic = a\nbogus = 1\n", ":2: unknown key 'bogus'"},
        {"\n\n\ntopic\n", ":4: expected 'key = value'"},
        {"topic =   \n", ":1: topic needs a value"},
        {"quiet = maybe\n", ":1: quiet: 'maybe' is not true or false"},
        {"config = /etc/x\n", ":1: 'config' cannot be set"},
        {"help = true\n", ":1: 'help' cannot be set"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nw_config_t *cfg = NULL;
        s_write(f, cases[i].text);
        assert_int_equal(s_load(f, &cfg, 0, NULL), NW_ERR_CONFIG);
        assert_null(cfg);
        assert_non_null(strstr(f->err, f->path));
        if (strstr(f->err, cases[i].says) == NULL)
            fail_msg("case %zu: '%s' does not say '%s'", i, f->err, cases[i].says);
    }
}

static void test_missing_file_and_folder(void **state)
{
    s_fixture_t *f = *state;
    nw_config_t *cfg = NULL;
    unlink(f->path);
    assert_int_equal(s_load(f, &cfg, 0, NULL), NW_ERR_NOTFOUND);
    assert_non_null(strstr(f->err, "--config"));
    assert_int_equal(mkdir(f->path, 0700), 0);
    assert_int_equal(s_load(f, &cfg, 0, NULL), NW_ERR_IO);
    assert_non_null(strstr(f->err, "is a folder"));
    assert_int_equal(rmdir(f->path), 0);
}

/* The default file is read when it exists, skipped when it does not, and --config none
 * skips it. */
static void test_default_path_and_none(void **state)
{
    s_fixture_t *f = *state;
    nw_config_t *cfg = NULL;
    char got[512];
    char *plain[] = {"prog", "-q"};
    char *none[] = {"prog", "--config", "none"};
    s_write(f, "topic = trade\n");
    assert_int_equal(
        nw_config_load(2, plain, f->path, S_SHORT, s_options, &cfg, f->err, sizeof f->err), NW_OK);
    s_joined(cfg, got, sizeof got);
    assert_string_equal(got, "--topic=trade -q");
    nw_config_destroy(&cfg);

    assert_int_equal(
        nw_config_load(3, none, f->path, S_SHORT, s_options, &cfg, f->err, sizeof f->err), NW_OK);
    assert_null(nw_config_path(cfg));
    s_joined(cfg, got, sizeof got);
    assert_string_equal(got, "--config none");
    nw_config_destroy(&cfg);

    unlink(f->path);
    assert_int_equal(
        nw_config_load(2, plain, f->path, S_SHORT, s_options, &cfg, f->err, sizeof f->err), NW_OK);
    assert_null(nw_config_path(cfg));
    assert_int_equal(nw_config_argc(cfg), 2);
    nw_config_destroy(&cfg);
}

/* The program's own getopt_long loop runs from the start after the load. */
static void test_getopt_starts_over_after_load(void **state)
{
    s_fixture_t *f = *state;
    nw_config_t *cfg = NULL;
    s_write(f, "topic = trade\n");
    char *extra[] = {"-q"};
    assert_int_equal(s_load(f, &cfg, 1, extra), NW_OK);
    int c, topics = 0, quiet = 0;
    while ((c = getopt_long(nw_config_argc(cfg), nw_config_argv(cfg), S_SHORT, s_options, NULL)) !=
           -1) {
        topics += c == 't' && strcmp(optarg, "trade") == 0;
        quiet += c == 'q';
    }
    assert_int_equal(topics, 1);
    assert_int_equal(quiet, 1);
    nw_config_destroy(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys_become_long_options_in_file_order, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_command_line_replaces_the_files_option, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_false_flag_is_left_out, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_origin_names_file_and_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_lines_name_file_and_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_and_folder, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_default_path_and_none, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_getopt_starts_over_after_load, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
