/* Tests for publisher/daemon/nw_revisions: the update rule and its index file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nw_alert.h"
#include "nw_error.h"
#include "nw_revisions.h"
#include "nw_testproc.h"

#define S_MAX 8

/* An article as nw_ingest would make it: ids "<article>.<index>". */
typedef struct {
    nw_alert_t a[S_MAX];
    size_t n;
} s_article_t;

static void s_article(s_article_t *art, const char *article_id, const char *const *texts)
{
    memset(art, 0, sizeof *art);
    for (size_t i = 0; texts[i] != NULL; i++) {
        char id[64];
        nw_alert_t *a = &art->a[i];
        assert_int_equal(nw_alert_init(a), NW_OK);
        snprintf(id, sizeof id, "%s.%zu", article_id, i);
        assert_int_equal(nw_alert_set(&a->id, id), NW_OK);
        assert_int_equal(nw_alert_set(&a->article_id, article_id), NW_OK);
        assert_int_equal(nw_alert_set(&a->text, texts[i]), NW_OK);
        a->index = (uint32_t)i;
        art->n++;
    }
}

static void s_article_clear(s_article_t *art)
{
    for (size_t i = 0; i < S_MAX; i++)
        nw_alert_clear(&art->a[i]);
}

static const char *const s_v1[] = {"Steel tariffs widened", "Parts are covered.",
                                   "Importers have 30 days.", NULL};
static const char *const s_v2[] = {"Steel tariffs widened", "Parts are covered.",
                                   "Importers have 60 days.", NULL};

static int64_t s_clock = 1000; /* commit times: one ms apart */
static uint64_t s_seq = 0;     /* the journal's last seq: one alert per commit */

/* Plans and commits one article, its line with the next seq, then tells the index the
 * journal synced every record below s_seq + 1 - lag (0: the article's alerts too); returns
 * the plan's revision, leaves the kept alerts. */
static uint32_t s_publish_lagging(nw_revisions_t *r, const char *identity, s_article_t *art,
                                  uint64_t lag)
{
    nw_revisions_plan_t plan;
    char err[256];
    assert_int_equal(nw_revisions_plan(r, identity, art->a, &art->n, &plan), NW_OK);
    uint32_t rev = plan.revision;
    if (art->n > 0) {
        s_seq++;
        assert_int_equal(nw_revisions_commit(r, &plan, s_seq, s_clock++, err, sizeof err), NW_OK);
        assert_int_equal(nw_revisions_settle(r, s_seq + 1 - lag, err, sizeof err), NW_OK);
    }
    nw_revisions_plan_clear(&plan);
    return rev;
}

/* s_publish_lagging with the article's alerts synced, as the daemon's group commit does. */
static uint32_t s_publish(nw_revisions_t *r, const char *identity, s_article_t *art)
{
    return s_publish_lagging(r, identity, art, 0);
}

/* Publishes "Version I of the story." for identity, i = from .. to - 1, each lag records
 * ahead of the journal's sync (s_publish_lagging). */
static void s_publish_versions(nw_revisions_t *r, const char *identity, int from, int to,
                               uint64_t lag)
{
    for (int i = from; i < to; i++) {
        char text[64];
        snprintf(text, sizeof text, "Version %d of the story.", i);
        const char *const v[] = {text, NULL};
        s_article_t art;
        s_article(&art, "aaaaaaaaaaaaaaaa", v);
        s_publish_lagging(r, identity, &art, lag);
        s_article_clear(&art);
    }
}

static nw_revisions_t *s_open_limited(const char *dir, int64_t max_age_ms, size_t max_entries)
{
    nw_revisions_t *r = NULL;
    char warn[256], err[256];
    nw_revisions_opts_t o = {
        .dir = dir, .max_age_ms = max_age_ms, .max_entries = max_entries, .now_ms = s_clock};
    assert_int_equal(nw_revisions_open(&o, &r, warn, sizeof warn, err, sizeof err), NW_OK);
    assert_string_equal(warn, "");
    return r;
}

static nw_revisions_t *s_open(const char *dir)
{
    return s_open_limited(dir, 0, 0);
}

static void test_first_publication_is_revision_one_unchanged(void **state)
{
    (void)state;
    nw_revisions_t *r = s_open(NULL);
    s_article_t art;
    s_article(&art, "aaaaaaaaaaaaaaaa", s_v1);
    assert_int_equal(s_publish(r, "a.txt", &art), 1);
    assert_int_equal(art.n, 3);
    assert_string_equal(art.a[2].id, "aaaaaaaaaaaaaaaa.2");
    assert_int_equal(art.a[2].revision, 1);
    s_article_clear(&art);
    nw_revisions_destroy(&r);
}

static void test_changed_paragraph_is_the_only_alert_of_revision_two(void **state)
{
    (void)state;
    nw_revisions_t *r = s_open(NULL);
    s_article_t art;
    s_article(&art, "aaaaaaaaaaaaaaaa", s_v1);
    s_publish(r, "a.txt", &art);
    s_article_clear(&art);
    s_article(&art, "bbbbbbbbbbbbbbbb", s_v2); /* the text changed: a new content hash */
    assert_int_equal(s_publish(r, "a.txt", &art), 2);
    assert_int_equal(art.n, 1);
    assert_string_equal(art.a[0].text, "Importers have 60 days.");
    assert_string_equal(art.a[0].article_id, "aaaaaaaaaaaaaaaa"); /* the first publication's */
    assert_string_equal(art.a[0].id, "aaaaaaaaaaaaaaaa.2.r2");
    assert_int_equal(art.a[0].revision, 2);
    assert_null(art.a[1].text); /* the dropped slots are cleared */
    s_article_clear(&art);
    nw_revisions_destroy(&r);
}

static void test_identical_redelivery_sends_nothing(void **state)
{
    (void)state;
    nw_revisions_t *r = s_open(NULL);
    s_article_t art;
    s_article(&art, "aaaaaaaaaaaaaaaa", s_v1);
    s_publish(r, "a.txt", &art);
    s_article_clear(&art);
    s_article(&art, "aaaaaaaaaaaaaaaa", s_v1);
    nw_revisions_plan_t plan;
    assert_int_equal(nw_revisions_plan(r, "a.txt", art.a, &art.n, &plan), NW_OK);
    assert_int_equal(art.n, 0);
    assert_int_equal(plan.revision, 1);
    assert_int_equal(plan.n_unchanged, 3);
    assert_true(plan.known);
    nw_revisions_plan_clear(&plan);
    s_article_clear(&art);
    nw_revisions_destroy(&r);
}

static void test_an_old_text_coming_back_is_not_sent_again(void **state)
{
    (void)state;
    nw_revisions_t *r = s_open(NULL);
    s_article_t art;
    s_article(&art, "aaaaaaaaaaaaaaaa", s_v1);
    s_publish(r, "a.txt", &art);
    s_article_clear(&art);
    s_article(&art, "bbbbbbbbbbbbbbbb", s_v2);
    s_publish(r, "a.txt", &art);
    s_article_clear(&art);
    s_article(&art, "aaaaaaaaaaaaaaaa", s_v1); /* the correction is withdrawn */
    s_publish(r, "a.txt", &art);
    assert_int_equal(art.n, 0);
    s_article_clear(&art);
    nw_revisions_destroy(&r);
}

static void test_other_identities_are_independent(void **state)
{
    (void)state;
    nw_revisions_t *r = s_open(NULL);
    s_article_t art;
    s_article(&art, "aaaaaaaaaaaaaaaa", s_v1);
    s_publish(r, "a.txt", &art);
    s_article_clear(&art);
    s_article(&art, "aaaaaaaaaaaaaaaa", s_v1);
    assert_int_equal(s_publish(r, "http://news.example/a", &art), 1);
    assert_int_equal(art.n, 3);
    assert_int_equal(nw_revisions_count(r), 2);
    s_article_clear(&art);
    nw_revisions_destroy(&r);
}

static void test_index_survives_a_restart(void **state)
{
    (void)state;
    char *dir = nw_test_tmpdir("nw-revisions");
    assert_non_null(dir);
    nw_revisions_t *r = s_open(dir);
    s_article_t art;
    s_article(&art, "aaaaaaaaaaaaaaaa", s_v1);
    s_publish(r, "name with spaces %.txt", &art);
    s_article_clear(&art);
    s_article(&art, "bbbbbbbbbbbbbbbb", s_v2);
    s_publish(r, "name with spaces %.txt", &art);
    s_article_clear(&art);
    nw_revisions_destroy(&r);

    r = s_open(dir);
    assert_int_equal(nw_revisions_count(r), 1);
    s_article(&art, "bbbbbbbbbbbbbbbb", s_v2);
    s_publish(r, "name with spaces %.txt", &art);
    assert_int_equal(art.n, 0); /* known after the restart */
    s_article_clear(&art);
    const char *const v3[] = {"Steel tariffs widened again", NULL};
    s_article(&art, "cccccccccccccccc", v3);
    assert_int_equal(s_publish(r, "name with spaces %.txt", &art), 3);
    assert_string_equal(art.a[0].id, "aaaaaaaaaaaaaaaa.0.r3");
    s_article_clear(&art);
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

static void test_torn_last_line_is_ignored_and_bad_lines_named(void **state)
{
    (void)state;
    char *dir = nw_test_tmpdir("nw-revisions");
    char path[1024], warn[256], err[256];
    snprintf(path, sizeof path, "%s/revisions", dir);
    const char text[] = "5 1 aaaaaaaaaaaaaaaa 00000000000000ff a.txt\n"
                        "6 x bbbbbbbbbbbbbbbb 00000000000000ff b.txt\n"
                        "7 2 cccccccccccccccc 00000000000000ff c.t"; /* torn: no newline */
    assert_int_equal(nw_test_write_file(path, text, sizeof text - 1), 0);
    nw_revisions_t *r = NULL;
    nw_revisions_opts_t o = {.dir = dir};
    assert_int_equal(nw_revisions_open(&o, &r, warn, sizeof warn, err, sizeof err), NW_OK);
    assert_non_null(strstr(warn, "revisions:2: unreadable line skipped"));
    assert_int_equal(nw_revisions_count(r), 1);
    /* The torn tail was cut, so the next line is whole and read back. */
    s_article_t art;
    s_article(&art, "dddddddddddddddd", s_v1);
    s_publish(r, "d.txt", &art);
    s_article_clear(&art);
    nw_revisions_destroy(&r);
    assert_int_equal(nw_revisions_open(&o, &r, warn, sizeof warn, err, sizeof err), NW_OK);
    assert_int_equal(nw_revisions_count(r), 2);
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

/* A file that cannot be read is an error that names it, not an empty index that the next
 * compaction would write back. */
static void test_unreadable_file_is_an_error_naming_it(void **state)
{
    (void)state;
    char *dir = nw_test_tmpdir("nw-revisions");
    char path[1024], warn[256] = "", err[256] = "";
    snprintf(path, sizeof path, "%s/revisions", dir);
    assert_int_equal(mkdir(path, 0700), 0); /* opens for reading; every read fails (EISDIR) */
    nw_revisions_t *r = NULL;
    nw_revisions_opts_t o = {.dir = dir};
    assert_int_not_equal(nw_revisions_open(&o, &r, warn, sizeof warn, err, sizeof err), NW_OK);
    assert_null(r);
    if (!strstr(err, "revisions: cannot read"))
        fail_msg("error '%s' does not name the file and the read", err);
    nw_test_rmtree(dir);
    free(dir);
}

static size_t s_file_lines(const char *path)
{
    size_t len = 0, lines = 0;
    char *text = nw_test_read_file(path, &len);
    for (size_t i = 0; text != NULL && i < len; i++)
        lines += text[i] == '\n';
    free(text);
    return lines;
}

static void test_superseded_lines_are_compacted(void **state)
{
    (void)state;
    char *dir = nw_test_tmpdir("nw-revisions");
    char path[1024];
    snprintf(path, sizeof path, "%s/revisions", dir);
    nw_revisions_t *r = s_open(dir);
    const int commits = 1100;
    s_publish_versions(r, "a.txt", 0, commits, 0);
    size_t lines = s_file_lines(path);
    printf("index file: %zu lines after %d commits of one article\n", lines, commits);
    assert_true(lines < (size_t)commits); /* rewritten on the way */
    nw_revisions_destroy(&r);
    r = s_open(dir);
    s_article_t art;
    const char *const v[] = {"Version 1099 of the story.", "Version 3 of the story.", NULL};
    s_article(&art, "aaaaaaaaaaaaaaaa", v);
    s_publish(r, "a.txt", &art);
    assert_int_equal(art.n, 0); /* still known, with every text */
    s_article_clear(&art);
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

static void test_least_recently_published_are_forgotten_first(void **state)
{
    (void)state;
    char *dir = nw_test_tmpdir("nw-revisions");
    nw_revisions_t *r = s_open_limited(dir, 0, 2);
    const char *names[] = {"a.txt", "b.txt", "c.txt"};
    for (size_t i = 0; i < 3; i++) {
        char text[64];
        snprintf(text, sizeof text, "Story %zu", i);
        const char *const v[] = {text, NULL};
        s_article_t art;
        s_article(&art, "aaaaaaaaaaaaaaaa", v);
        s_publish(r, names[i], &art);
        s_article_clear(&art);
    }
    assert_int_equal(nw_revisions_count(r), 2); /* a.txt went first */
    nw_revisions_destroy(&r);
    r = s_open_limited(dir, 0, 2);
    s_article_t art;
    const char *const v0[] = {"Story 0", NULL};
    s_article(&art, "aaaaaaaaaaaaaaaa", v0);
    nw_revisions_plan_t plan;
    assert_int_equal(nw_revisions_plan(r, "a.txt", art.a, &art.n, &plan), NW_OK);
    assert_false(plan.known);
    nw_revisions_plan_clear(&plan);
    s_article_clear(&art);
    nw_revisions_destroy(&r);
    /* By age: everything older than 1 ms before the clock is forgotten at open. */
    s_clock += 1000;
    r = s_open_limited(dir, 1, 0);
    assert_int_equal(nw_revisions_count(r), 0);
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

/* A file size limit (a full disk, as test_journal makes one), undone by s_fsize_restore. */
typedef struct {
    struct rlimit old;
    void (*prev)(int);
} s_fsize_t;

static void s_fsize_limit(s_fsize_t *saved, rlim_t limit)
{
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved->old), 0);
    saved->prev = signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = saved->old;
    lim.rlim_cur = limit;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

static void s_fsize_restore(const s_fsize_t *saved)
{
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved->old), 0);
    signal(SIGXFSZ, saved->prev);
}

/* A new folder holding an index file of text; its path goes in path. */
static char *s_dir_with_index(const char *text, char *path, size_t len)
{
    char *dir = nw_test_tmpdir("nw-revisions");
    snprintf(path, len, "%s/revisions", dir);
    assert_int_equal(nw_test_write_file(path, text, strlen(text)), 0);
    return dir;
}

/* Plans identity for texts and returns the revision an update would get (1 when unknown). */
static uint32_t s_next_revision(nw_revisions_t *r, const char *identity, const char *const *texts)
{
    s_article_t art;
    nw_revisions_plan_t plan;
    s_article(&art, "ffffffffffffffff", texts);
    assert_int_equal(nw_revisions_plan(r, identity, art.a, &art.n, &plan), NW_OK);
    uint32_t rev = plan.revision;
    nw_revisions_plan_clear(&plan);
    s_article_clear(&art);
    return rev;
}

static nw_revisions_t *s_open_at(const char *dir, uint64_t journal_next, char *warn, size_t len)
{
    nw_revisions_t *r = NULL;
    char err[256];
    nw_revisions_opts_t o = {.dir = dir, .journal_next = journal_next};
    assert_int_equal(nw_revisions_open(&o, &r, warn, len, err, sizeof err), NW_OK);
    return r;
}

/* The window of a power cut: the kernel wrote an index line back before the journal's fsync
 * of its alerts, and the journal lost them. The line names a seq at or past the journal's
 * next seq: it is ignored (the older line of its identity holds), and the file is rewritten
 * without it, or the journal's next records would give it seqs it names. A line without a
 * seq (the first format) is read as before. */
static void test_lines_past_the_journal_end_are_ignored(void **state)
{
    (void)state;
    char path[1024], warn[512];
    char *dir = s_dir_with_index("5 1 aaaaaaaaaaaaaaaa 00000000000000ff old%20format.txt\n"
                                 "6 1 bbbbbbbbbbbbbbbb 00000000000000ff b.txt 4\n"
                                 "7 2 bbbbbbbbbbbbbbbb 00000000000000ee,00000000000000ff b.txt 11\n"
                                 "8 1 cccccccccccccccc 00000000000000ff c.txt 12\n",
                                 path, sizeof path);
    nw_revisions_t *r = s_open_at(dir, 11, warn, sizeof warn);
    if (!strstr(warn, "revisions: 2 lines with a seq at or past the journal's next seq 11"))
        fail_msg("warning '%s' does not count the lines ignored", warn);
    assert_int_equal(nw_revisions_count(r), 2); /* old format.txt and b.txt */
    const char *const v[] = {"A new paragraph", NULL};
    assert_int_equal(s_next_revision(r, "old format.txt", v), 2);
    assert_int_equal(s_next_revision(r, "b.txt", v), 2); /* revision 2 was lost: again */
    assert_int_equal(s_next_revision(r, "c.txt", v), 1);
    nw_revisions_destroy(&r);
    /* Rewritten: once the journal's numbers pass 12, the lost lines do not come back. */
    r = s_open_at(dir, 100, warn, sizeof warn);
    assert_string_equal(warn, "");
    assert_int_equal(nw_revisions_count(r), 2);
    assert_int_equal(s_next_revision(r, "b.txt", v), 2);
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

/* A rewrite of the index in the middle of a batch must not make lines durable before the
 * journal's records they stand for, nor drop the older line an ignored newer one falls back
 * to: it waits until the journal has synced every line's seq, and keeps the seqs. */
static void test_rewrite_waits_for_the_journal_and_keeps_seqs(void **state)
{
    (void)state;
    char *dir = nw_test_tmpdir("nw-revisions");
    char path[1024], warn[512], err[256];
    snprintf(path, sizeof path, "%s/revisions", dir);
    nw_revisions_t *r = s_open_at(dir, 1, warn, sizeof warn);
    const int commits = 1100;
    /* Each commit's record is one past what the journal has synced (a batch in flight). */
    s_publish_versions(r, "a.txt", 0, commits - 1, 1);
    s_publish_versions(r, "b.txt", commits - 1, commits, 1);
    assert_int_equal(s_file_lines(path), (size_t)commits); /* not rewritten yet */
    assert_int_equal(nw_revisions_settle(r, s_seq + 1, err, sizeof err), NW_OK);
    assert_int_equal(s_file_lines(path), 2); /* the batch is on disk: rewritten */
    nw_revisions_destroy(&r);
    /* The rewrite kept each line's seq: the journal lost b.txt's record, and b.txt is new. */
    r = s_open_at(dir, s_seq, warn, sizeof warn);
    assert_int_equal(nw_revisions_count(r), 1);
    const char *const v[] = {"Version 1098 of the story.", NULL};
    assert_int_equal(s_next_revision(r, "b.txt", v), 1);
    assert_int_equal(s_next_revision(r, "a.txt", v), 1099); /* unchanged: 1099 commits */
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

/* Makes a new folder (*dir; path: its index file) and an index there that published s_v1
 * as a.txt, revision 1. */
static nw_revisions_t *s_open_published(char **dir, char *path, size_t len)
{
    *dir = nw_test_tmpdir("nw-revisions");
    snprintf(path, len, "%s/revisions", *dir);
    nw_revisions_t *r = s_open(*dir);
    s_article_t art;
    s_article(&art, "aaaaaaaaaaaaaaaa", s_v1);
    assert_int_equal(s_publish(r, "a.txt", &art), 1);
    s_article_clear(&art);
    return r;
}

/* A line that cannot be written (a full disk: RLIMIT_FSIZE, as test_journal does) changes
 * nothing, in memory or on disk: planning the article again gives the same revision and
 * ids (which the journal skips), and a restart knows what the file knows. */
static void test_failed_write_changes_nothing(void **state)
{
    (void)state;
    char *dir, path[1024], err[256] = "";
    nw_revisions_t *r = s_open_published(&dir, path, sizeof path);
    s_article_t art;
    struct stat st;
    assert_int_equal(stat(path, &st), 0);

    s_fsize_t saved;
    s_fsize_limit(&saved, (rlim_t)st.st_size + 10); /* a short write, then EFBIG */
    nw_revisions_plan_t plan;
    s_article(&art, "bbbbbbbbbbbbbbbb", s_v2);
    assert_int_equal(nw_revisions_plan(r, "a.txt", art.a, &art.n, &plan), NW_OK);
    assert_int_equal(plan.revision, 2);
    int rc = nw_revisions_commit(r, &plan, ++s_seq, s_clock++, err, sizeof err);
    s_fsize_restore(&saved);
    assert_int_not_equal(rc, NW_OK);
    if (!strstr(err, "revisions: cannot append"))
        fail_msg("error '%s' does not name the file", err);
    nw_revisions_plan_clear(&plan);
    s_article_clear(&art);
    struct stat after;
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(after.st_size, st.st_size); /* the short line was cut */
    /* Memory too: the retry plans revision 2 again, with the same ids. */
    s_article(&art, "bbbbbbbbbbbbbbbb", s_v2);
    assert_int_equal(s_publish(r, "a.txt", &art), 2);
    assert_int_equal(art.n, 1); /* the changed paragraph is still new to the index */
    assert_string_equal(art.a[0].id, "aaaaaaaaaaaaaaaa.2.r2");
    s_article_clear(&art);
    nw_revisions_destroy(&r);
    r = s_open(dir);
    const char *const v[] = {"A new paragraph", NULL};
    assert_int_equal(s_next_revision(r, "a.txt", v), 3);
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

/* The descriptor handed to the group sync is the file opened anew, not a duplicate: it must
 * not share the open file description (and the writeback error cursor) of the index's. */
static void test_sync_take_opens_its_own_description(void **state)
{
    (void)state;
    char *dir, path[1024], err[256];
    nw_revisions_t *r = s_open_published(&dir, path, sizeof path);
    int fd, again;
    assert_int_equal(nw_revisions_sync_take(r, &fd, err, sizeof err), NW_OK);
    assert_true(fd >= 0);
    assert_int_equal(nw_test_fd_shared(fd), 0);
    assert_int_equal(nw_revisions_sync_take(r, &again, err, sizeof err), NW_OK);
    assert_int_equal(again, -1); /* counted as synced */
    close(fd);
    assert_int_equal(nw_revisions_sync(r, err, sizeof err), NW_OK);
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

/* Malformed seq fields are unreadable lines (strtoull alone would take "+5"), and a line at
 * the journal's last seq (journal_next - 1) is kept. */
static void test_malformed_seqs_are_unreadable(void **state)
{
    (void)state;
    char path[1024], warn[512];
    char *dir = s_dir_with_index("5 1 aaaaaaaaaaaaaaaa 00000000000000ff a.txt x\n"
                                 "6 1 bbbbbbbbbbbbbbbb 00000000000000ff b.txt -1\n"
                                 "7 1 cccccccccccccccc 00000000000000ff c.txt +5\n"
                                 "8 1 dddddddddddddddd 00000000000000ff d.txt 10\n",
                                 path, sizeof path);
    nw_revisions_t *r = s_open_at(dir, 11, warn, sizeof warn);
    if (!strstr(warn, "revisions:1: unreadable line skipped (and 2 more)"))
        fail_msg("warning '%s' does not count three unreadable lines", warn);
    assert_int_equal(nw_revisions_count(r), 1);
    const char *const v[] = {"A new paragraph", NULL};
    assert_int_equal(s_next_revision(r, "d.txt", v), 2); /* seq 10 < 11: kept */
    assert_int_equal(s_next_revision(r, "c.txt", v), 1);
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

/* A journal that starts a new stream (it had no segments) numbers from 1 again: the lines'
 * seqs name the old stream's records, which says nothing about the new one. The articles
 * stay known (their ids and revisions do not depend on the stream), with seq 0, and the
 * file is rewritten so, or the next open would compare old numbers with new ones. */
static void test_new_stream_keeps_lines_with_seq_zero(void **state)
{
    (void)state;
    char path[1024], warn[512], err[256];
    char *dir = s_dir_with_index("5 1 aaaaaaaaaaaaaaaa 00000000000000ff old%20format.txt\n"
                                 "6 2 bbbbbbbbbbbbbbbb 00000000000000ff b.txt 40\n",
                                 path, sizeof path);
    nw_revisions_t *r = NULL;
    nw_revisions_opts_t o = {.dir = dir, .journal_next = 1, .journal_new_stream = true};
    assert_int_equal(nw_revisions_open(&o, &r, warn, sizeof warn, err, sizeof err), NW_OK);
    if (!strstr(warn, "the journal starts a new stream: 1 lines"))
        fail_msg("warning '%s' does not say the seqs were reset", warn);
    assert_int_equal(nw_revisions_count(r), 2);
    const char *const v[] = {"A new paragraph", NULL};
    assert_int_equal(s_next_revision(r, "b.txt", v), 3);
    nw_revisions_destroy(&r);
    /* The new stream has reached seq 5: the line (now seq 0) is still read. */
    r = s_open_at(dir, 5, warn, sizeof warn);
    assert_string_equal(warn, "");
    assert_int_equal(s_next_revision(r, "b.txt", v), 3);
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

/* The group sync's descriptor cannot be opened: an error naming the file, not "nothing to
 * sync", and the lines stay unsynced (nw_revisions_sync still has work). */
static void test_sync_take_reports_an_open_failure(void **state)
{
    (void)state;
    char *dir, path[1024], err[256] = "";
    nw_revisions_t *r = s_open_published(&dir, path, sizeof path);
    assert_int_equal(unlink(path), 0);
    int fd = 0;
    assert_int_not_equal(nw_revisions_sync_take(r, &fd, err, sizeof err), NW_OK);
    assert_int_equal(fd, -1);
    if (!strstr(err, "revisions: cannot open to sync it"))
        fail_msg("error '%s' does not name the file", err);
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

/* A failed fdatasync of the index is not retried (Linux reports the error once, and a
 * later sync would succeed over lost pages): the file is rewritten whole from memory. When
 * the rewrite fails too, the sync fails. */
static void test_failed_sync_rewrites_the_file(void **state)
{
    (void)state;
    char *dir = nw_test_tmpdir("nw-revisions");
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/revisions", dir);
    nw_revisions_t *r = s_open(dir);
    s_publish_versions(r, "a.txt", 0, 3, 0);
    assert_int_equal(s_file_lines(path), 3);
    int fd;
    assert_int_equal(nw_revisions_sync_take(r, &fd, err, sizeof err), NW_OK);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(nw_revisions_sync_end(r, EIO, err, sizeof err), NW_OK);
    if (!strstr(err, "revisions: cannot sync: Input/output error; rewritten whole"))
        fail_msg("message '%s' does not say the file was rewritten", err);
    assert_int_equal(s_file_lines(path), 1);
    assert_int_equal(nw_revisions_sync(r, err, sizeof err), NW_OK); /* nothing left */
    assert_string_equal(err, "");
    /* The rewrite cannot be written either: the sync fails, naming the file. */
    s_publish_versions(r, "a.txt", 3, 4, 0);
    assert_int_equal(nw_revisions_sync_take(r, &fd, err, sizeof err), NW_OK);
    close(fd);
    s_fsize_t saved;
    s_fsize_limit(&saved, 10);
    int rc = nw_revisions_sync_end(r, EIO, err, sizeof err);
    s_fsize_restore(&saved);
    assert_int_equal(rc, NW_ERR_SYNC);
    if (!strstr(err, "revisions: cannot sync: Input/output error, nor rewrite it"))
        fail_msg("error '%s' does not name the file", err);
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

/* A rewrite that fails (no room for the temporary file) leaves the index appending to the
 * old file through its descriptor, with its lines still unsynced: the next sync has a file
 * to sync (it used to find the descriptor closed and call the lines synced). */
static void test_failed_rewrite_keeps_the_file_and_its_lines_unsynced(void **state)
{
    (void)state;
    char *dir = nw_test_tmpdir("nw-revisions");
    char path[1024], err[256] = "";
    snprintf(path, sizeof path, "%s/revisions", dir);
    nw_revisions_t *r = s_open(dir);
    const int commits = 1100;
    s_publish_versions(r, "a.txt", 0, commits, 1); /* the journal one behind: no rewrite */
    assert_int_equal(s_file_lines(path), (size_t)commits);
    s_fsize_t saved;
    s_fsize_limit(&saved, 10); /* no room for the rewrite's temporary file */
    int rc = nw_revisions_settle(r, s_seq + 1, err, sizeof err);
    s_fsize_restore(&saved);
    assert_int_not_equal(rc, NW_OK);
    if (!strstr(err, "revisions: cannot rewrite"))
        fail_msg("error '%s' does not name the file", err);
    assert_int_equal(s_file_lines(path), (size_t)commits);
    int fd;
    assert_int_equal(nw_revisions_sync_take(r, &fd, err, sizeof err), NW_OK);
    assert_true(fd >= 0); /* the lines are still unsynced */
    close(fd);
    assert_int_equal(nw_revisions_sync(r, err, sizeof err), NW_OK);
    s_publish_versions(r, "a.txt", commits, commits + 1, 1);
    assert_int_equal(s_file_lines(path), (size_t)commits + 1); /* appended to the old file */
    assert_true(nw_revisions_settle_overdue(r));               /* 1101 lines, one identity */
    nw_revisions_destroy(&r);
    nw_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_publication_is_revision_one_unchanged),
        cmocka_unit_test(test_unreadable_file_is_an_error_naming_it),
        cmocka_unit_test(test_changed_paragraph_is_the_only_alert_of_revision_two),
        cmocka_unit_test(test_identical_redelivery_sends_nothing),
        cmocka_unit_test(test_an_old_text_coming_back_is_not_sent_again),
        cmocka_unit_test(test_other_identities_are_independent),
        cmocka_unit_test(test_index_survives_a_restart),
        cmocka_unit_test(test_torn_last_line_is_ignored_and_bad_lines_named),
        cmocka_unit_test(test_lines_past_the_journal_end_are_ignored),
        cmocka_unit_test(test_rewrite_waits_for_the_journal_and_keeps_seqs),
        cmocka_unit_test(test_failed_write_changes_nothing),
        cmocka_unit_test(test_sync_take_opens_its_own_description),
        cmocka_unit_test(test_malformed_seqs_are_unreadable),
        cmocka_unit_test(test_new_stream_keeps_lines_with_seq_zero),
        cmocka_unit_test(test_sync_take_reports_an_open_failure),
        cmocka_unit_test(test_failed_sync_rewrites_the_file),
        cmocka_unit_test(test_failed_rewrite_keeps_the_file_and_its_lines_unsynced),
        cmocka_unit_test(test_superseded_lines_are_compacted),
        cmocka_unit_test(test_least_recently_published_are_forgotten_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
