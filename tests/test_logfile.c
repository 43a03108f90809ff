/* Tests for subscriber/nw_logfile: appending whole lines, reopening after a rename. */
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nw_error.h"
#include "nw_logfile.h"
#include "nw_testproc.h"

typedef struct {
    char *dir;      /* temporary directory */
    char path[512]; /* dir/alerts.jsonl */
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof *fx);
    fx->dir = nw_test_tmpdir("test_logfile");
    if (fx->dir == NULL)
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/alerts.jsonl", fx->dir);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    nw_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static void test_appends_to_existing_file(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(nw_test_write_file(fx->path, "{\"old\":1}\n", 10), 0);
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_ALWAYS, &log), NW_OK);
    assert_int_equal(nw_logfile_write(log, "{\"a\":1}\n", 8), NW_OK);
    assert_int_equal(nw_logfile_write(log, "{\"b\":2}\n", 8), NW_OK);
    nw_logfile_close(&log);
    assert_null(log);
    char *text = nw_test_read_file(fx->path, NULL);
    assert_string_equal(text, "{\"old\":1}\n{\"a\":1}\n{\"b\":2}\n");
    free(text);
}

static void test_creates_file_0644(void **state)
{
    s_fixture_t *fx = *state;
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_NEVER, &log), NW_OK);
    struct stat st;
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 0022, 0); /* no group/other write, whatever the umask */
    assert_string_equal(nw_logfile_path(log), fx->path);
    nw_logfile_close(&log);
}

static void test_open_missing_directory_fails(void **state)
{
    s_fixture_t *fx = *state;
    char path[600];
    snprintf(path, sizeof path, "%s/no/such/dir.jsonl", fx->dir);
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(path, NW_FSYNC_NEVER, &log), NW_ERR_NOTFOUND);
    assert_null(log);
}

static void test_reopen_after_rename_writes_new_file(void **state)
{
    s_fixture_t *fx = *state;
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_INTERVAL, &log), NW_OK);
    assert_int_equal(nw_logfile_write(log, "one\n", 4), NW_OK);
    char rotated[600];
    snprintf(rotated, sizeof rotated, "%s.1", fx->path);
    assert_int_equal(rename(fx->path, rotated), 0);
    assert_int_equal(nw_logfile_write(log, "two\n", 4), NW_OK); /* still the old file */
    assert_int_equal(nw_logfile_reopen(log), NW_OK);
    assert_int_equal(nw_logfile_write(log, "three\n", 6), NW_OK);
    assert_int_equal(nw_logfile_flush(log), NW_OK);
    nw_logfile_close(&log);
    char *old = nw_test_read_file(rotated, NULL);
    char *cur = nw_test_read_file(fx->path, NULL);
    assert_string_equal(old, "one\ntwo\n");
    assert_string_equal(cur, "three\n");
    free(old);
    free(cur);
}

static void test_reopen_failure_keeps_old_file(void **state)
{
    s_fixture_t *fx = *state;
    char sub[600];
    snprintf(sub, sizeof sub, "%s/d", fx->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    char path[700];
    snprintf(path, sizeof path, "%s/log", sub);
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(path, NW_FSYNC_NEVER, &log), NW_OK);
    char moved[700];
    snprintf(moved, sizeof moved, "%s/moved", fx->dir);
    assert_int_equal(rename(path, moved), 0);
    assert_int_equal(rmdir(sub), 0); /* the path cannot be created again */
    assert_int_equal(nw_logfile_reopen(log), NW_ERR_NOTFOUND);
    assert_int_equal(nw_logfile_write(log, "kept\n", 5), NW_OK);
    nw_logfile_close(&log);
    char *text = nw_test_read_file(moved, NULL);
    assert_string_equal(text, "kept\n");
    free(text);
}

static void test_open_truncates_partial_last_line(void **state)
{
    s_fixture_t *fx = *state;
    /* What a SIGKILL in the middle of a page-crossing write leaves behind. */
    assert_int_equal(nw_test_write_file(fx->path, "{\"a\":1}\n{\"b\":", 13), 0);
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_NEVER, &log), NW_OK);
    assert_int_equal(nw_logfile_repaired(log), 5);
    assert_int_equal(nw_logfile_write(log, "{\"c\":3}\n", 8), NW_OK);
    nw_logfile_close(&log);
    char *text = nw_test_read_file(fx->path, NULL);
    assert_string_equal(text, "{\"a\":1}\n{\"c\":3}\n");
    free(text);
}

static void test_open_truncates_a_lone_partial_line(void **state)
{
    s_fixture_t *fx = *state;
    /* Longer than the repair's read chunk, with no newline at all. */
    size_t len = 20000;
    char *junk = malloc(len);
    memset(junk, 'x', len);
    assert_int_equal(nw_test_write_file(fx->path, junk, len), 0);
    free(junk);
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_NEVER, &log), NW_OK);
    assert_int_equal(nw_logfile_repaired(log), len);
    nw_logfile_close(&log);
    size_t size = 1;
    free(nw_test_read_file(fx->path, &size));
    assert_int_equal(size, 0);
}

static void test_open_leaves_whole_lines_alone(void **state)
{
    s_fixture_t *fx = *state;
    assert_int_equal(nw_test_write_file(fx->path, "{}\n{}\n", 6), 0);
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_NEVER, &log), NW_OK);
    assert_int_equal(nw_logfile_repaired(log), 0);
    nw_logfile_close(&log);
    size_t size = 0;
    free(nw_test_read_file(fx->path, &size));
    assert_int_equal(size, 6);
}

/* A real failing sync without fault injection: fdatasync on a FIFO fails (EINVAL on
 * Linux), while writes to it succeed and can be read back. Makes fx->path a FIFO and
 * returns a non-blocking reader, or skips where a FIFO can be synced or opened for
 * reading and writing without a reader (both Linux behaviours, not POSIX). */
static int s_unsyncable_fifo(s_fixture_t *fx)
{
    assert_int_equal(mkfifo(fx->path, 0600), 0);
    int probe = open(fx->path, O_RDWR | O_NONBLOCK);
    if (probe < 0)
        skip();
    int synced = fdatasync(probe);
    close(probe);
    if (synced == 0)
        skip();
    int rd = open(fx->path, O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    return rd;
}

/* Reads what is in the FIFO now into buf (NUL-terminated). */
static void s_drain(int rd, char *buf, size_t size)
{
    ssize_t n = read(rd, buf, size - 1);
    if (n < 0 && errno == EAGAIN)
        n = 0;
    assert_true(n >= 0);
    buf[n] = '\0';
}

static void test_interval_failed_sync_stays_dirty_and_retries(void **state)
{
    s_fixture_t *fx = *state;
    int rd = s_unsyncable_fifo(fx);
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_INTERVAL, &log), NW_OK);
    assert_string_equal(nw_logfile_sync_error(log), "");
    assert_int_equal(nw_logfile_write(log, "{\"a\":1}\n", 8), NW_OK);
    assert_int_equal(nw_logfile_flush(log), NW_ERR_SYNC);
    assert_true(nw_logfile_sync_error(log)[0] != '\0');
    /* Still dirty: the next flush tries again instead of reporting success. */
    assert_int_equal(nw_logfile_flush(log), NW_ERR_SYNC);
    assert_int_equal(nw_logfile_write(log, "{\"b\":2}\n", 8), NW_OK);
    assert_int_equal(nw_logfile_flush(log), NW_ERR_SYNC);
    char buf[256];
    s_drain(rd, buf, sizeof buf);
    assert_string_equal(buf, "{\"a\":1}\n{\"b\":2}\n"); /* each line once */
    nw_logfile_close(&log);
    close(rd);
}

static void test_always_failed_sync_reports_written_not_lost(void **state)
{
    s_fixture_t *fx = *state;
    int rd = s_unsyncable_fifo(fx);
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_ALWAYS, &log), NW_OK);
    /* Written, only not synced: not NW_ERR_IO ("not logged"). */
    assert_int_equal(nw_logfile_write(log, "{\"a\":1}\n", 8), NW_ERR_SYNC);
    assert_true(nw_logfile_sync_error(log)[0] != '\0');
    /* The periodic flush retries under "always" too, once a sync has failed. */
    assert_int_equal(nw_logfile_flush(log), NW_ERR_SYNC);
    assert_int_equal(nw_logfile_write(log, "{\"b\":2}\n", 8), NW_ERR_SYNC);
    char buf[256];
    s_drain(rd, buf, sizeof buf);
    assert_string_equal(buf, "{\"a\":1}\n{\"b\":2}\n");
    nw_logfile_close(&log);
    close(rd);
}

/* Under interval, lines are held until a drain (or a full buffer) and then written whole and
 * in order: a line longer than the buffer too, after the lines before it. */
static void test_interval_holds_lines_until_drain(void **state)
{
    s_fixture_t *fx = *state;
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_INTERVAL, &log), NW_OK);
    assert_int_equal(nw_logfile_write(log, "one\n", 4), NW_OK);
    assert_int_equal(nw_logfile_write(log, "two\n", 4), NW_OK);
    char *text = nw_test_read_file(fx->path, NULL);
    assert_string_equal(text, ""); /* held */
    free(text);
    assert_int_equal(nw_logfile_drain(log), NW_OK);
    text = nw_test_read_file(fx->path, NULL);
    assert_string_equal(text, "one\ntwo\n");
    free(text);
    /* 100 lines of 1000 bytes fill the buffer more than once; then one of 100,000 bytes. */
    size_t big = 100000, total = 8;
    char *line = malloc(big);
    assert_non_null(line);
    for (int i = 0; i < 100; i++) {
        memset(line, 'a' + i % 26, 999);
        line[999] = '\n';
        assert_int_equal(nw_logfile_write(log, line, 1000), NW_OK);
        total += 1000;
    }
    memset(line, 'Z', big - 1);
    line[big - 1] = '\n';
    assert_int_equal(nw_logfile_write(log, line, big), NW_OK);
    total += big;
    nw_logfile_close(&log);
    size_t len = 0;
    text = nw_test_read_file(fx->path, &len);
    assert_int_equal(len, total);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(text[8 + (size_t)i * 1000], 'a' + i % 26);
        assert_int_equal(text[8 + (size_t)i * 1000 + 999], '\n');
    }
    assert_memory_equal(text + total - big, line, big);
    free(text);
    free(line);
}

static void test_successful_sync_clears_dirty(void **state)
{
    s_fixture_t *fx = *state;
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_ALWAYS, &log), NW_OK);
    assert_int_equal(nw_logfile_write(log, "{}\n", 3), NW_OK);
    assert_int_equal(nw_logfile_flush(log), NW_OK);
    assert_string_equal(nw_logfile_sync_error(log), "");
    nw_logfile_close(&log);
}

/* The second's sync off the caller's thread: begin hands out the descriptor once per batch
 * of lines, lines written meanwhile wait for the next sync, and a failed one is taken again. */
static void test_split_sync_takes_what_was_written_before_it(void **state)
{
    s_fixture_t *fx = *state;
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_INTERVAL, &log), NW_OK);
    assert_int_equal(nw_logfile_sync_begin(log), -1); /* nothing written */
    assert_int_equal(nw_logfile_write(log, "{\"a\":1}\n", 8), NW_OK);
    int fd = nw_logfile_sync_begin(log);
    assert_true(fd >= 0);
    assert_true(nw_logfile_syncing(log));
    char *text = nw_test_read_file(fx->path, NULL);
    assert_string_equal(text, "{\"a\":1}\n"); /* drained before the sync */
    free(text);
    assert_int_equal(nw_logfile_sync_begin(log), -1); /* one out at a time */
    assert_int_equal(nw_logfile_write(log, "{\"b\":2}\n", 8), NW_OK);
    assert_int_equal(fdatasync(fd), 0); /* what the thread pool does */
    assert_int_equal(nw_logfile_sync_end(log, 0), NW_OK);
    assert_false(nw_logfile_syncing(log));
    /* b came during that sync: the next one takes it; it fails, and the one after retries */
    assert_int_equal(nw_logfile_sync_begin(log), fd);
    assert_int_equal(nw_logfile_sync_end(log, EIO), NW_ERR_SYNC);
    assert_true(nw_logfile_sync_error(log)[0] != '\0');
    assert_int_equal(nw_logfile_sync_begin(log), fd);
    assert_int_equal(nw_logfile_sync_end(log, 0), NW_OK);
    assert_int_equal(nw_logfile_sync_begin(log), -1); /* all synced */
    nw_logfile_close(&log);
}

/* Under never there is nothing to sync, whatever was written. */
static void test_split_sync_under_never_gives_nothing(void **state)
{
    s_fixture_t *fx = *state;
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_NEVER, &log), NW_OK);
    assert_int_equal(nw_logfile_write(log, "x\n", 2), NW_OK);
    assert_int_equal(nw_logfile_sync_begin(log), -1);
    nw_logfile_close(&log);
    char *text = nw_test_read_file(fx->path, NULL);
    assert_string_equal(text, "x\n");
    free(text);
}

/* A reopen (logrotate) while a sync of the old file is out keeps that descriptor open until
 * the sync ends, then closes it; the new file gets the new lines. */
static void test_reopen_during_a_sync_keeps_its_descriptor_until_the_end(void **state)
{
    s_fixture_t *fx = *state;
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_INTERVAL, &log), NW_OK);
    assert_int_equal(nw_logfile_write(log, "old\n", 4), NW_OK);
    int fd = nw_logfile_sync_begin(log);
    assert_true(fd >= 0);
    char rotated[600];
    snprintf(rotated, sizeof rotated, "%s.1", fx->path);
    assert_int_equal(rename(fx->path, rotated), 0);
    assert_int_equal(nw_logfile_reopen(log), NW_OK);
    assert_int_equal(nw_logfile_reopen(log), NW_OK); /* twice: the first new file just closes */
    assert_true(fcntl(fd, F_GETFD) >= 0);            /* still open for its sync */
    assert_int_equal(nw_logfile_write(log, "new\n", 4), NW_OK);
    assert_int_equal(fdatasync(fd), 0);
    assert_int_equal(nw_logfile_sync_end(log, 0), NW_OK);
    errno = 0;
    assert_int_equal(fcntl(fd, F_GETFD), -1); /* closed at the end of its sync */
    assert_int_equal(errno, EBADF);
    assert_true(nw_logfile_sync_begin(log) >= 0); /* "new" waits for a sync of its own */
    assert_int_equal(nw_logfile_sync_end(log, 0), NW_OK);
    nw_logfile_close(&log);
    char *old = nw_test_read_file(rotated, NULL);
    char *cur = nw_test_read_file(fx->path, NULL);
    assert_string_equal(old, "old\n");
    assert_string_equal(cur, "new\n");
    free(old);
    free(cur);
}

/* A sync that fails on a file a reopen replaced says so apart (NW_ERR_IO: nothing retries
 * it) and leaves the new file's own state alone. */
static void test_failed_sync_of_a_rotated_file_is_not_retried(void **state)
{
    s_fixture_t *fx = *state;
    nw_logfile_t *log = NULL;
    assert_int_equal(nw_logfile_open(fx->path, NW_FSYNC_INTERVAL, &log), NW_OK);
    assert_int_equal(nw_logfile_write(log, "old\n", 4), NW_OK);
    assert_true(nw_logfile_sync_begin(log) >= 0);
    char rotated[600];
    snprintf(rotated, sizeof rotated, "%s.1", fx->path);
    assert_int_equal(rename(fx->path, rotated), 0);
    assert_int_equal(nw_logfile_reopen(log), NW_OK);
    assert_int_equal(nw_logfile_sync_end(log, EIO), NW_ERR_IO);
    assert_true(nw_logfile_sync_error(log)[0] != '\0');
    assert_int_equal(nw_logfile_sync_begin(log), -1); /* the new file has nothing to sync */
    nw_logfile_close(&log);
}

static void test_fsync_names_in_enum_order(void **state)
{
    (void)state;
    const char *const *names = nw_fsync_names();
    assert_string_equal(names[NW_FSYNC_ALWAYS], "always");
    assert_string_equal(names[NW_FSYNC_INTERVAL], "interval");
    assert_string_equal(names[NW_FSYNC_NEVER], "never");
    assert_null(names[3]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_appends_to_existing_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_split_sync_takes_what_was_written_before_it, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_split_sync_under_never_gives_nothing, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_failed_sync_of_a_rotated_file_is_not_retried, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_reopen_during_a_sync_keeps_its_descriptor_until_the_end, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_creates_file_0644, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_open_missing_directory_fails, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_after_rename_writes_new_file, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_failure_keeps_old_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_open_truncates_partial_last_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_open_truncates_a_lone_partial_line, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_open_leaves_whole_lines_alone, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_interval_failed_sync_stays_dirty_and_retries, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_always_failed_sync_reports_written_not_lost, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_successful_sync_clears_dirty, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_interval_holds_lines_until_drain, s_setup, s_teardown),
        cmocka_unit_test(test_fsync_names_in_enum_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
