/* Tests for publisher/daemon/nw_revisions: the update rule and its index file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Plans and commits one article; returns the plan's revision, leaves the kept alerts. */
static uint32_t s_publish(nw_revisions_t *r, const char *identity, s_article_t *art)
{
    nw_revisions_plan_t plan;
    char err[256];
    assert_int_equal(nw_revisions_plan(r, identity, art->a, &art->n, &plan), NW_OK);
    uint32_t rev = plan.revision;
    if (art->n > 0)
        assert_int_equal(nw_revisions_commit(r, &plan, s_clock++, err, sizeof err), NW_OK);
    nw_revisions_plan_clear(&plan);
    return rev;
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
    for (int i = 0; i < commits; i++) {
        char text[64];
        snprintf(text, sizeof text, "Version %d of the story.", i);
        const char *const v[] = {text, NULL};
        s_article_t art;
        s_article(&art, "aaaaaaaaaaaaaaaa", v);
        s_publish(r, "a.txt", &art);
        s_article_clear(&art);
    }
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
        cmocka_unit_test(test_superseded_lines_are_compacted),
        cmocka_unit_test(test_least_recently_published_are_forgotten_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
