/* nw_file_read_all: a whole regular file, bounded, with errors that name the path. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_is_inclusive),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_directory_and_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
