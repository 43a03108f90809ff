/* nw_file_read_all: a whole regular file, bounded, with errors that name the path.
 * nw_file_replace: the old bytes or the new ones, no temporary left. nw_escape: a line
 * field of any bytes and back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nw_error.h"
#include "nw_escape.h"
#include "nw_file.h"

/* Writes n bytes of 'x' into a new temporary file; its path goes into path. */
static void s_make_file(char *path, size_t n)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char *bytes = malloc(n + 1);
    assert_non_null(bytes);
    memset(bytes, 'x', n);
    assert_int_equal(write(fd, bytes, n), (ssize_t)n);
    free(bytes);
    close(fd);
}

/* A file of exactly the limit is read whole and NUL-terminated; one byte more is refused. */
static void test_limit_is_inclusive(void **state)
{
    (void)state;
    const size_t max = 200000; /* past the first buffer, so the buffer grows */
    char path[] = "/tmp/nw_test_file_XXXXXX";
    s_make_file(path, max);
    char *data = NULL, err[256] = "";
    size_t len = 0;
    assert_int_equal(nw_file_read_all(path, max, &data, &len, err, sizeof err), NW_OK);
    assert_int_equal(len, max);
    assert_int_equal(data[len], '\0');
    assert_int_equal(data[len - 1], 'x');
    free(data);
    assert_int_equal(nw_file_read_all(path, max - 1, &data, &len, err, sizeof err), NW_ERR_TOOBIG);
    assert_null(data);
    assert_non_null(strstr(err, path));
    unlink(path);
}

/* An empty file is an empty string, not an error. */
static void test_empty_file(void **state)
{
    (void)state;
    char path[] = "/tmp/nw_test_file_XXXXXX";
    s_make_file(path, 0);
    char *data = NULL, err[256] = "";
    size_t len = 1;
    assert_int_equal(nw_file_read_all(path, 10, &data, &len, err, sizeof err), NW_OK);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
    unlink(path);
}

/* A directory or a missing path is refused with the path in the message. */
static void test_directory_and_missing_file(void **state)
{
    (void)state;
    char *data = NULL, err[256] = "";
    size_t len = 0;
    assert_int_equal(nw_file_read_all("/tmp", 1000, &data, &len, err, sizeof err), NW_ERR_INVAL);
    assert_string_equal(err, "/tmp: is a directory");
    assert_null(data);
    assert_int_equal(nw_file_read_all("/nonexistent/x.conf", 1000, &data, &len, err, sizeof err),
                     NW_ERR_NOTFOUND);
    assert_non_null(strstr(err, "/nonexistent/x.conf: "));
    assert_null(data);
}

/* A replaced file holds exactly the new bytes and no .tmp is left; a missing folder is an
 * error that names the file it could not create, and the old file is untouched. */
static void test_replace_whole_or_nothing(void **state)
{
    (void)state;
    char dir[] = "/tmp/nw_test_file_XXXXXX", path[256], tmp[300], err[512] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/state", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(nw_file_replace(path, "old\n", 4, err, sizeof err), NW_OK);
    assert_int_equal(nw_file_replace(path, "new bytes\n", 10, err, sizeof err), NW_OK);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(nw_file_read_all(path, 100, &data, &len, err, sizeof err), NW_OK);
    assert_string_equal(data, "new bytes\n");
    free(data);
    assert_int_not_equal(access(tmp, F_OK), 0);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/no/such/state", dir);
    assert_int_equal(nw_file_replace(missing, "x", 1, err, sizeof err), NW_ERR_IO);
    if (!strstr(err, "cannot create") || !strstr(err, "/no/such/state.tmp"))
        fail_msg("error '%s' does not say what it could not create", err);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* Every byte that would break a space-separated line is escaped, and comes back. */
static void test_escape_round_trip(void **state)
{
    (void)state;
    const char in[] = "a b%c\td\x7f\xc3\xa9";
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(nw_escape_write(f, in), 0);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(text, "a%20b%25c%09d%7F\xc3\xa9");
    assert_true(nw_escape_undo(text));
    assert_string_equal(text, in);
    free(text);
    char bad[] = "x%0", nul[] = "%00", empty[] = "";
    assert_false(nw_escape_undo(bad));
    assert_false(nw_escape_undo(nul));
    assert_false(nw_escape_undo(empty));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_is_inclusive),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_directory_and_missing_file),
        cmocka_unit_test(test_replace_whole_or_nothing),
        cmocka_unit_test(test_escape_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
