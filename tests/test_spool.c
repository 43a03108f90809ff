/* Tests for publisher/daemon/nw_spool: folders, name rules, ordering, moves to done/ and failed/,
 * and telling renamed-in files from ones written in place (real inotify events). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nw_error.h"
#include "nw_spool.h"
#include "nw_testproc.h"

typedef struct {
    char *dir;         /* temporary spool folder */
    nw_spool_t *spool; /* opened on dir */
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    char err[512];
    assert_non_null(f);
    assert_non_null(f->dir = nw_test_tmpdir("nw-spool"));
    assert_int_equal(nw_spool_open(f->dir, &f->spool, err, sizeof err), NW_OK);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    nw_spool_destroy(&f->spool);
    nw_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void s_put(const s_fixture_t *f, const char *sub, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", f->dir, sub, name);
    assert_int_equal(nw_test_write_file(path, text, strlen(text)), 0);
}

static bool s_exists(const s_fixture_t *f, const char *sub, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/%s", f->dir, sub, name);
    return stat(path, &st) == 0;
}

static void test_open_creates_the_three_folders(void **state)
{
    s_fixture_t *f = *state;
    assert_true(s_exists(f, "incoming", ""));
    assert_true(s_exists(f, "done", ""));
    assert_true(s_exists(f, "failed", ""));
}

static void test_open_names_a_path_that_is_not_a_folder(void **state)
{
    s_fixture_t *f = *state;
    char path[4096], err[512] = "";
    nw_spool_t *spool = NULL;
    snprintf(path, sizeof path, "%s/plain-file", f->dir);
    assert_int_equal(nw_test_write_file(path, "x", 1), 0);
    assert_int_not_equal(nw_spool_open(path, &spool, err, sizeof err), NW_OK);
    assert_null(spool);
    assert_non_null(strstr(err, path));
}

static void test_name_ready_skips_dotfiles_and_temporaries(void **state)
{
    (void)state;
    assert_true(nw_spool_name_ready("story.txt"));
    assert_true(nw_spool_name_ready("1700000000.M1P2.host"));
    assert_false(nw_spool_name_ready(".story.txt"));
    assert_false(nw_spool_name_ready("."));
    assert_false(nw_spool_name_ready(""));
    assert_false(nw_spool_name_ready("story.txt~"));
    assert_false(nw_spool_name_ready("story.tmp"));
    assert_false(nw_spool_name_ready("story.txt.part"));
    assert_false(nw_spool_name_ready(".story.txt.swp"));
    assert_false(nw_spool_name_ready("story.crdownload"));
}

static void test_scan_lists_ready_files_in_name_order(void **state)
{
    s_fixture_t *f = *state;
    const char *put[] = {"c.txt", "a.txt", "b.txt", ".hidden.txt", "writing.tmp", "B.txt"};
    for (size_t i = 0; i < sizeof put / sizeof put[0]; i++)
        s_put(f, "incoming", put[i], "text");
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/incoming/a-folder", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);

    char **names = NULL, err[512];
    size_t n = 0;
    assert_int_equal(nw_spool_scan(f->spool, &names, &n, err, sizeof err), NW_OK);
    const char *want[] = {"B.txt", "a.txt", "b.txt", "c.txt"};
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(names[i], want[i]);
    nw_spool_names_free(&names, n);
    assert_null(names);
}

static void test_scan_of_an_empty_folder_gives_nothing(void **state)
{
    s_fixture_t *f = *state;
    char **names = NULL, err[512];
    size_t n = 7;
    assert_int_equal(nw_spool_scan(f->spool, &names, &n, err, sizeof err), NW_OK);
    assert_int_equal(n, 0);
    nw_spool_names_free(&names, n);
}

static void test_done_moves_the_article(void **state)
{
    s_fixture_t *f = *state;
    char err[512];
    bool replaced = true;
    s_put(f, "incoming", "a.txt", "text");
    assert_int_equal(nw_spool_done(f->spool, "a.txt", 0, 0, &replaced, err, sizeof err), NW_OK);
    assert_false(replaced);
    assert_false(s_exists(f, "incoming", "a.txt"));
    assert_true(s_exists(f, "done", "a.txt"));
}

static void test_done_of_a_missing_article_says_which(void **state)
{
    s_fixture_t *f = *state;
    char err[512] = "";
    bool replaced;
    assert_int_equal(nw_spool_done(f->spool, "nope.txt", 0, 0, &replaced, err, sizeof err),
                     NW_ERR_NOTFOUND);
    assert_non_null(strstr(err, "nope.txt"));
}

static void test_fail_moves_the_article_with_a_one_line_reason(void **state)
{
    s_fixture_t *f = *state;
    char err[512], path[4096];
    bool replaced = true;
    s_put(f, "incoming", "bad.txt", "");
    assert_int_equal(nw_spool_fail(f->spool, "bad.txt", 0, 0, "bad.txt: empty article\nsecond line",
                                   &replaced, err, sizeof err),
                     NW_OK);
    assert_false(replaced);
    assert_false(s_exists(f, "incoming", "bad.txt"));
    assert_true(s_exists(f, "failed", "bad.txt"));
    snprintf(path, sizeof path, "%s/failed/bad.txt.error", f->dir);
    char *text = nw_test_read_file(path, NULL);
    assert_non_null(text);
    assert_string_equal(text, "bad.txt: empty article; to retry, fix the cause and move it from "
                              "failed/ back into incoming/\n");
    free(text);
    assert_false(s_exists(f, "failed", ".bad.txt.error.tmp"));
}

/* A second bad article of the same name keeps the first one, and its reason, in failed/. */
static void test_fail_never_overwrites(void **state)
{
    s_fixture_t *f = *state;
    char err[512], path[4096];
    bool replaced = true;
    s_put(f, "incoming", "bad.txt", "first");
    assert_int_equal(nw_spool_fail(f->spool, "bad.txt", 0, 0, "bad.txt: first reason", &replaced,
                                   err, sizeof err),
                     NW_OK);
    s_put(f, "incoming", "bad.txt", "second");
    assert_int_equal(nw_spool_fail(f->spool, "bad.txt", 0, 0, "bad.txt: second reason", &replaced,
                                   err, sizeof err),
                     NW_OK);
    snprintf(path, sizeof path, "%s/failed/bad.txt", f->dir);
    char *text = nw_test_read_file(path, NULL);
    assert_string_equal(text, "first");
    free(text);
    snprintf(path, sizeof path, "%s/failed/bad.txt.error", f->dir);
    text = nw_test_read_file(path, NULL);
    assert_non_null(strstr(text, "first reason"));
    free(text);
    snprintf(path, sizeof path, "%s/failed/bad.txt.1", f->dir);
    text = nw_test_read_file(path, NULL);
    assert_string_equal(text, "second");
    free(text);
    snprintf(path, sizeof path, "%s/failed/bad.txt.1.error", f->dir);
    text = nw_test_read_file(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "second reason"));
    free(text);
}

static void test_fail_of_a_name_max_long_article_cuts_the_error_file_name(void **state)
{
    s_fixture_t *f = *state;
    char err[512], name[256], error_name[256];
    bool replaced;
    memset(name, 'a', 255); /* NAME_MAX: NAME.error cannot have the full name */
    name[255] = '\0';
    s_put(f, "incoming", name, "");
    assert_int_equal(
        nw_spool_fail(f->spool, name, 0, 0, "empty article", &replaced, err, sizeof err), NW_OK);
    assert_false(s_exists(f, "incoming", name));
    assert_true(s_exists(f, "failed", name));
    snprintf(error_name, sizeof error_name, "%.249s.error", name);
    assert_true(s_exists(f, "failed", error_name));
}

/* Lists incoming/ and keeps what nw_spool_settle finds complete at now_ms. Returns how
 * many are complete; the first one's name is copied to first. */
static size_t s_settle(const s_fixture_t *f, int64_t now_ms, int64_t *wait_ms, char *first,
                       size_t firstlen)
{
    char **names = NULL, err[512];
    size_t n = 0;
    assert_int_equal(nw_spool_scan(f->spool, &names, &n, err, sizeof err), NW_OK);
    assert_int_equal(nw_spool_settle(f->spool, names, &n, now_ms, wait_ms), NW_OK);
    if (n > 0)
        snprintf(first, firstlen, "%s", names[0]);
    nw_spool_names_free(&names, n);
    return n;
}

/* Starts the inotify watch; events are queued by the time a file call returns. */
static void s_watch(const s_fixture_t *f)
{
    char err[512];
    int fd = nw_spool_watch(f->spool, err, sizeof err);
    if (fd < 0)
        fail_msg("nw_spool_watch: %s", err);
}

static void s_rename_in(const s_fixture_t *f, const char *name, const char *text)
{
    char tmp[4096], path[4096];
    s_put(f, "incoming", ".writing.tmp", text);
    snprintf(tmp, sizeof tmp, "%s/incoming/.writing.tmp", f->dir);
    snprintf(path, sizeof path, "%s/incoming/%s", f->dir, name);
    assert_int_equal(rename(tmp, path), 0);
}

static void test_settle_takes_a_renamed_in_file_at_once(void **state)
{
    s_fixture_t *f = *state;
    char name[64] = "";
    int64_t wait;
    s_watch(f);
    s_rename_in(f, "a.txt", "text");
    assert_true(nw_spool_read_events(f->spool));
    assert_int_equal(s_settle(f, 1000, &wait, name, sizeof name), 1);
    assert_string_equal(name, "a.txt");
    assert_int_equal(wait, -1);
    assert_false(nw_spool_read_events(f->spool)); /* nothing new */
}

/* The daemon lists incoming/ before its loop reads the events of the files renamed in
 * meanwhile: the listing reads them itself, so those files do not wait the settle time. */
static void test_settle_takes_a_renamed_in_file_whose_event_was_not_read_yet(void **state)
{
    s_fixture_t *f = *state;
    char name[64] = "";
    int64_t wait;
    s_watch(f);
    s_rename_in(f, "b.txt", "text");
    assert_int_equal(s_settle(f, 1000, &wait, name, sizeof name), 1);
    assert_string_equal(name, "b.txt");
    assert_int_equal(wait, -1);
}

/* A burst of renames (thousands of articles dropped at once) is taken at once too: more
 * events than a settle pass used to keep (4,096) made every file wait the settle time. */
static void test_settle_takes_a_burst_of_renamed_in_files_at_once(void **state)
{
    s_fixture_t *f = *state;
    char name[64] = "";
    int64_t wait;
    s_watch(f);
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "%05d.txt", i);
        s_rename_in(f, name, "text");
        if (i % 500 == 0)
            nw_spool_read_events(f->spool); /* as the loop does: the kernel's queue is bounded */
    }
    assert_int_equal(s_settle(f, 1000, &wait, name, sizeof name), 5000);
    assert_int_equal(wait, -1);
}

static void test_settle_waits_until_a_file_written_in_place_stops_changing(void **state)
{
    s_fixture_t *f = *state;
    char name[64] = "";
    int64_t wait;
    s_watch(f);
    s_put(f, "incoming", "a.txt", "first half"); /* created and written in place */
    assert_true(nw_spool_read_events(f->spool));
    assert_int_equal(s_settle(f, 1000, &wait, name, sizeof name), 0);
    assert_int_equal(wait, NW_SPOOL_SETTLE_MS);
    assert_int_equal(s_settle(f, 1200, &wait, name, sizeof name), 0);
    assert_int_equal(wait, NW_SPOOL_SETTLE_MS - 200);
    /* More is written: the settle time starts again. */
    s_put(f, "incoming", "a.txt", "first half, second half");
    assert_true(nw_spool_read_events(f->spool));
    assert_int_equal(s_settle(f, 1300, &wait, name, sizeof name), 0);
    assert_int_equal(wait, NW_SPOOL_SETTLE_MS);
    assert_int_equal(s_settle(f, 1799, &wait, name, sizeof name), 0);
    assert_int_equal(wait, 1);
    assert_int_equal(s_settle(f, 1800, &wait, name, sizeof name), 1);
    assert_string_equal(name, "a.txt");
}

static void test_settle_waits_for_a_renamed_in_file_written_again(void **state)
{
    s_fixture_t *f = *state;
    char name[64] = "", path[4096];
    int64_t wait;
    s_watch(f);
    s_rename_in(f, "a.txt", "text");
    snprintf(path, sizeof path, "%s/incoming/a.txt", f->dir);
    FILE *file = fopen(path, "a");
    assert_non_null(file);
    assert_true(fputs(" and more", file) >= 0);
    assert_int_equal(fclose(file), 0);
    assert_true(nw_spool_read_events(f->spool));
    assert_int_equal(s_settle(f, 0, &wait, name, sizeof name), 0);
    assert_int_equal(wait, NW_SPOOL_SETTLE_MS);
}

static void test_settle_without_events_waits_the_settle_time(void **state)
{
    s_fixture_t *f = *state;
    char name[64] = "";
    int64_t wait;
    /* Already there (no watch yet, as at start or on NFS); an empty file renamed in. */
    s_put(f, "incoming", "a.txt", "text");
    s_watch(f);
    s_rename_in(f, "b.txt", "");
    assert_true(nw_spool_read_events(f->spool));
    assert_int_equal(s_settle(f, 0, &wait, name, sizeof name), 0);
    assert_int_equal(wait, NW_SPOOL_SETTLE_MS);
    assert_int_equal(s_settle(f, 100, &wait, name, sizeof name), 0);
    assert_int_equal(wait, NW_SPOOL_SETTLE_MS - 100);
    assert_int_equal(s_settle(f, NW_SPOOL_SETTLE_MS, &wait, name, sizeof name), 2);
    assert_string_equal(name, "a.txt");
    assert_int_equal(wait, -1);
}

static void test_settle_treats_a_name_reused_after_done_as_new(void **state)
{
    s_fixture_t *f = *state;
    char name[64] = "", err[512];
    int64_t wait;
    s_watch(f);
    s_rename_in(f, "a.txt", "text");
    assert_true(nw_spool_read_events(f->spool));
    assert_int_equal(s_settle(f, 0, &wait, name, sizeof name), 1);
    bool replaced;
    assert_int_equal(nw_spool_done(f->spool, "a.txt", 0, 0, &replaced, err, sizeof err), NW_OK);
    /* A plain cp under the same name, before its events are read: not a rename. */
    s_put(f, "incoming", "a.txt", "half");
    assert_int_equal(s_settle(f, 10, &wait, name, sizeof name), 0);
    assert_int_equal(wait, NW_SPOOL_SETTLE_MS);
}

/* The identity of incoming/name (device, inode). */
static void s_identity(s_fixture_t *f, const char *name, uint64_t *dev, uint64_t *ino)
{
    char path[PATH_MAX];
    struct stat st;
    snprintf(path, sizeof path, "%s/incoming/%s", f->dir, name);
    assert_int_equal(lstat(path, &st), 0);
    *dev = (uint64_t)st.st_dev;
    *ino = (uint64_t)st.st_ino;
}

/* A writer re-used the name while the article was being published: only the file that was
 * read moves to done/; the new one stays in incoming/ as a new article. */
static void test_done_leaves_a_replacing_file(void **state)
{
    s_fixture_t *f = *state;
    char err[512];
    uint64_t dev, ino, dev2, ino2;
    bool replaced = false;
    s_put(f, "incoming", "a.txt", "first");
    s_identity(f, "a.txt", &dev, &ino);
    s_rename_in(f, "a.txt", "second"); /* a new file under the same name */
    s_identity(f, "a.txt", &dev2, &ino2);
    assert_true(ino2 != ino);
    assert_int_equal(nw_spool_done(f->spool, "a.txt", dev, ino, &replaced, err, sizeof err), NW_OK);
    assert_true(replaced);
    assert_true(s_exists(f, "incoming", "a.txt"));
    assert_false(s_exists(f, "done", "a.txt"));
    /* the file read, still there: moved */
    assert_int_equal(nw_spool_done(f->spool, "a.txt", dev2, ino2, &replaced, err, sizeof err),
                     NW_OK);
    assert_false(replaced);
    assert_true(s_exists(f, "done", "a.txt"));
    assert_int_equal(nw_spool_done(f->spool, "a.txt", dev2, ino2, &replaced, err, sizeof err),
                     NW_ERR_NOTFOUND);
}

/* The same for an article that failed: a file that took its name stays, unmarked. */
static void test_fail_leaves_a_replacing_file(void **state)
{
    s_fixture_t *f = *state;
    char err[512];
    uint64_t dev, ino;
    bool replaced = false;
    s_put(f, "incoming", "bad.txt", "");
    s_identity(f, "bad.txt", &dev, &ino);
    s_rename_in(f, "bad.txt", "a good article now");
    assert_int_equal(nw_spool_fail(f->spool, "bad.txt", dev, ino, "bad.txt: empty article",
                                   &replaced, err, sizeof err),
                     NW_OK);
    assert_true(replaced);
    assert_true(s_exists(f, "incoming", "bad.txt"));
    assert_false(s_exists(f, "failed", "bad.txt"));
    assert_false(s_exists(f, "failed", "bad.txt.error"));
    /* removed before its move: said so, and nothing is written */
    uint64_t dev2, ino2;
    s_identity(f, "bad.txt", &dev2, &ino2);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/incoming/bad.txt", f->dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(nw_spool_fail(f->spool, "bad.txt", dev2, ino2, "bad.txt: empty article",
                                   &replaced, err, sizeof err),
                     NW_ERR_NOTFOUND);
    assert_false(s_exists(f, "failed", "bad.txt.error"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_the_three_folders, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_open_names_a_path_that_is_not_a_folder, s_setup,
                                        s_teardown),
        cmocka_unit_test(test_name_ready_skips_dotfiles_and_temporaries),
        cmocka_unit_test_setup_teardown(test_scan_lists_ready_files_in_name_order, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_scan_of_an_empty_folder_gives_nothing, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_done_moves_the_article, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_done_leaves_a_replacing_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_fail_leaves_a_replacing_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_done_of_a_missing_article_says_which, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_fail_moves_the_article_with_a_one_line_reason, s_setup,
                                        s_teardown),

        cmocka_unit_test_setup_teardown(test_fail_never_overwrites, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_fail_of_a_name_max_long_article_cuts_the_error_file_name, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_settle_takes_a_renamed_in_file_at_once, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_settle_takes_a_renamed_in_file_whose_event_was_not_read_yet, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_settle_takes_a_burst_of_renamed_in_files_at_once,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_settle_waits_until_a_file_written_in_place_stops_changing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_settle_waits_for_a_renamed_in_file_written_again,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_settle_without_events_waits_the_settle_time, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_settle_treats_a_name_reused_after_done_as_new, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
