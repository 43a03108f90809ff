/*
 * Updates, process level: the real newswire-pub with a journal, articles dropped into its
 * spool again under the same name. A changed paragraph goes out alone as revision 2 of the
 * same article; an identical re-drop sends nothing, also after a restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nw_alert.h"
#include "nw_error.h"
#include "nw_testpub.h"

#define S_WAIT_MS 30000

static const char s_v1[] =
    "Harbor Nations Agree to Cut Steel Tariffs\n"
    "\n"
    "Two trading partners agreed on Tuesday to lower tariffs on steel and aluminum imports.\n"
    "\n"
    "Negotiators said the tariff cuts would take effect in stages over two years.\n"
    "\n"
    "Officials said a joint committee on tariffs would review the pact every year.\n";

/* One paragraph changed ("two years" -> "three years"). */
static const char s_v2[] =
    "Harbor Nations Agree to Cut Steel Tariffs\n"
    "\n"
    "Two trading partners agreed on Tuesday to lower tariffs on steel and aluminum imports.\n"
    "\n"
    "Negotiators said the tariff cuts would take effect in stages over three years.\n"
    "\n"
    "Officials said a joint committee on tariffs would review the pact every year.\n";

static int s_setup(void **state)
{
    nw_testpub_t *p = nw_testpub_new(NW_PUB_BIN);
    assert_non_null(p);
    *state = p;
    return 0;
}

static int s_teardown(void **state)
{
    nw_testpub_t *p = *state;
    int status = nw_testpub_stop(p);
    nw_testpub_destroy(&p);
    return status == 0 ? 0 : -1;
}

/* Receives n alerts; returns them in out (caller clears). */
static void s_receive(nw_testpub_t *p, nw_alert_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!nw_testpub_next(p, &out[i], S_WAIT_MS)) {
            nw_testpub_dump(p);
            fail_msg("received %zu alerts of %zu", i, n);
        }
    }
}

/* Drops a marker article (its headline names it) and checks the next alert received is
 * that headline: proves nothing else was sent in between. */
static void s_drop_marker(nw_testpub_t *p, const char *name, char *headline, size_t len,
                          size_t published)
{
    char text[512];
    snprintf(headline, len, "Marker Story About Oil Prices %s", name);
    snprintf(text, sizeof text, "%s\n\nOil prices rose on Wednesday after a pipeline outage.\n",
             headline);
    assert_int_equal(nw_testpub_drop(p, name, text), 0);
    assert_true(nw_testpub_wait_log(p, "published ", published, S_WAIT_MS));
}

static void s_expect_only_marker_next(nw_testpub_t *p, const char *name, size_t published)
{
    char headline[128];
    s_drop_marker(p, name, headline, sizeof headline, published);
    nw_alert_t a;
    s_receive(p, &a, 1);
    assert_string_equal(a.text, headline);
    nw_alert_clear(&a);
}

/* Receives the next alert: s_v2's changed paragraph as revision 2 of first's article, with
 * its id. Clears the four alerts of first. */
static void s_expect_revision_two(nw_testpub_t *p, nw_alert_t *first)
{
    nw_alert_t upd;
    s_receive(p, &upd, 1);
    assert_int_equal(upd.revision, 2);
    assert_string_equal(upd.article_id, first[0].article_id);
    assert_string_equal(upd.text,
                        "Negotiators said the tariff cuts would take effect in stages over three "
                        "years.");
    char want_id[64];
    snprintf(want_id, sizeof want_id, "%s.2.r2", first[0].article_id);
    assert_string_equal(upd.id, want_id);
    nw_alert_clear(&upd);
    for (size_t i = 0; i < 4; i++)
        nw_alert_clear(&first[i]);
}

static void test_changed_paragraph_goes_out_alone_as_revision_two(void **state)
{
    nw_testpub_t *p = *state;
    assert_true(nw_testpub_start(p, NULL));
    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v1), 0);
    nw_alert_t first[4];
    s_receive(p, first, 4); /* headline + 3 paragraphs */
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(first[i].revision, 1);
    assert_true(nw_testpub_wait_log(p, "published story.txt: 4 alerts", 1, S_WAIT_MS));

    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v2), 0);
    assert_true(nw_testpub_wait_log(p, "published story.txt: 1 alerts", 1, S_WAIT_MS));
    s_expect_revision_two(p, first);
    /* Nothing more came for the update: the next alert is the marker's. */
    s_expect_only_marker_next(p, "marker.txt", 3);
}

static void test_identical_redrop_sends_nothing_also_after_a_restart(void **state)
{
    nw_testpub_t *p = *state;
    assert_true(nw_testpub_start(p, NULL));
    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v1), 0);
    nw_alert_t first[4];
    s_receive(p, first, 4);
    for (size_t i = 0; i < 4; i++)
        nw_alert_clear(&first[i]);
    /* Moved to done/ (the log line comes after the move): a re-drop is a new file. */
    assert_true(nw_testpub_wait_log(p, "published story.txt: 4 alerts", 1, S_WAIT_MS));

    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v1), 0);
    assert_true(nw_testpub_wait_log(p, "story.txt: unchanged since revision 1", 1, S_WAIT_MS));
    s_expect_only_marker_next(p, "marker.txt", 3); /* story twice (once unchanged), marker */

    assert_int_equal(nw_testpub_stop(p), 0);
    assert_true(nw_testpub_start(p, NULL));
    assert_true(nw_testpub_wait_log(p, "revisions: 2 articles known", 1, S_WAIT_MS));
    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v1), 0);
    assert_true(nw_testpub_wait_log(p, "story.txt: unchanged since revision 1", 1, S_WAIT_MS));
    s_expect_only_marker_next(p, "marker2.txt", 2);
}

/* Returns the size of the journal's first segment (the only one these tests make). */
static off_t s_segment_size(const nw_testpub_t *p, char *path, size_t len)
{
    struct stat st;
    snprintf(path, len, "%s/00000000000000000001.seg", p->journal);
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* The on-disk state a power cut leaves when the kernel wrote the index line of revision 2
 * back before the journal's fsync of its alert: the index names revision 2, the journal
 * lost its record, and the article is back in incoming/ (its move to done/ was lost too).
 * The restart ignores the line (its seq is past the journal's end) and sends revision 2
 * again, with the same id; trusting it would call the article unchanged and lose the
 * alert. */
static void test_index_line_past_a_lost_journal_tail_is_ignored(void **state)
{
    nw_testpub_t *p = *state;
    char seg[2048];
    assert_true(nw_testpub_start(p, NULL));
    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v1), 0);
    nw_alert_t first[4];
    s_receive(p, first, 4);
    assert_true(nw_testpub_wait_log(p, "published story.txt: 4 alerts", 1, S_WAIT_MS));
    assert_int_equal(nw_testpub_stop(p), 0);
    off_t v1_end = s_segment_size(p, seg, sizeof seg);

    assert_true(nw_testpub_start(p, NULL));
    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v2), 0);
    assert_true(nw_testpub_wait_log(p, "published story.txt: 1 alerts", 1, S_WAIT_MS));
    assert_int_equal(nw_testpub_stop(p), 0);
    assert_true(s_segment_size(p, seg, sizeof seg) > v1_end);
    assert_int_equal(truncate(seg, v1_end), 0); /* the journal lost revision 2's record */

    assert_true(nw_testpub_start(p, NULL));
    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v2), 0);
    assert_true(nw_testpub_wait_log(p, "published story.txt: 1 alerts", 1, S_WAIT_MS));
    assert_true(nw_testpub_wait_log(p, "lines with a seq at or past the journal's next seq 5", 1,
                                    S_WAIT_MS));
    s_expect_revision_two(p, first);
}

/* The index line cannot be written (here: a folder is in the way of the file): publishing
 * pauses as for a full journal, the article stays in incoming/, and the retry once the
 * index is writable again records it without sending its alerts twice (the journal holds
 * them). Going on as before (a warning, the index updated in memory only) would let an
 * update after a restart reuse revision 1's ids. */
static void test_index_write_failure_pauses_then_resumes(void **state)
{
    nw_testpub_t *p = *state;
    char index[2048], in[2048];
    assert_true(nw_testpub_start(p, NULL));
    snprintf(index, sizeof index, "%s/revisions", p->journal);
    snprintf(in, sizeof in, "%s/incoming/story.txt", p->spool);
    assert_int_equal(mkdir(index, 0700), 0); /* no line written yet: no file yet */
    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v1), 0);
    assert_true(nw_testpub_wait_log(p, "revisions: ", 1, S_WAIT_MS));
    assert_true(nw_testpub_wait_log(p, "publishing paused", 1, S_WAIT_MS));
    assert_true(nw_testpub_wait_log(p, "cannot append: Is a directory", 1, S_WAIT_MS));
    nw_alert_t first[4];
    s_receive(p, first, 4); /* journaled, so sent */
    assert_int_equal(access(in, F_OK), 0);
    assert_int_equal(rmdir(index), 0);
    assert_true(
        nw_testpub_wait_log(p, "revisions: writable again; publishing resumed", 1, S_WAIT_MS));
    assert_true(nw_testpub_wait_log(p, "4 of 4 alerts were already in the journal", 1, S_WAIT_MS));
    assert_true(nw_testpub_wait_log(p, "published story.txt: 0 alerts", 1, S_WAIT_MS));
    assert_int_equal(nw_testpub_stop(p), 0);

    /* The index knows revision 1 after a restart: the update is revision 2. */
    assert_true(nw_testpub_start(p, NULL));
    assert_true(nw_testpub_wait_log(p, "revisions: 1 articles known", 1, S_WAIT_MS));
    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v2), 0);
    assert_true(nw_testpub_wait_log(p, "published story.txt: 1 alerts", 1, S_WAIT_MS));
    s_expect_revision_two(p, first);
}

/* A pause records its reason: while the index cannot be written, a journal append that
 * works (here: the article, changed, is journaled anew) does not end the pause, nor log
 * "journal: writable again; publishing resumed" before the index fails again. */
static void test_journal_write_does_not_end_an_index_pause(void **state)
{
    nw_testpub_t *p = *state;
    char index[2048];
    assert_true(nw_testpub_start(p, NULL));
    snprintf(index, sizeof index, "%s/revisions", p->journal);
    assert_int_equal(mkdir(index, 0700), 0);
    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v1), 0);
    assert_true(nw_testpub_wait_log(p, "publishing paused", 1, S_WAIT_MS));
    nw_alert_t first[4], second[4];
    s_receive(p, first, 4);
    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v2), 0); /* new ids: journaled */
    s_receive(p, second, 4);
    assert_int_equal(rmdir(index), 0);
    assert_true(
        nw_testpub_wait_log(p, "revisions: writable again; publishing resumed", 1, S_WAIT_MS));
    assert_int_equal(nw_testproc_count_lines(p->proc, NW_TESTPROC_STDERR, "journal: writable"), 0);
    assert_int_equal(nw_testproc_count_lines(p->proc, NW_TESTPROC_STDERR, "publishing paused"), 1);
    for (size_t i = 0; i < 4; i++) {
        nw_alert_clear(&first[i]);
        nw_alert_clear(&second[i]);
    }
}

/* Two real subscribers: --updates none sees first publications only, the default
 * (changed) sees the update too. */
static void test_subscriber_updates_none_drops_revisions(void **state)
{
    nw_testpub_t *p = *state;
    assert_true(nw_testpub_start(p, NULL));
    const char *none_argv[] = {NW_SUB_BIN, "-c",       p->endpoint, "--updates",
                               "none",     "--format", "%v:%m",     NULL};
    const char *all_argv[] = {NW_SUB_BIN, "-c", p->endpoint, "--format", "%v:%m", NULL};
    nw_testproc_t *none = nw_testproc_start(none_argv, NULL);
    nw_testproc_t *all = nw_testproc_start(all_argv, NULL);
    assert_non_null(none);
    assert_non_null(all);
    /* The test's own SUB, then both subscribers (each subscribes to everything: ""). */
    assert_true(nw_testpub_wait_log(p, "subscriber subscribed", 3, S_WAIT_MS));
    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v1), 0);
    assert_true(nw_testpub_wait_log(p, "published story.txt: 4 alerts", 1, S_WAIT_MS));
    assert_int_equal(nw_testpub_drop(p, "story.txt", s_v2), 0);
    assert_true(nw_testpub_wait_log(p, "published story.txt: 1 alerts", 1, S_WAIT_MS));
    char headline[128];
    s_drop_marker(p, "marker.txt", headline, sizeof headline, 3);
    /* Alerts reach a subscriber in order: the marker's headline comes after the update. */
    const char *marker = "1:Marker Story About Oil Prices marker.txt";
    assert_true(nw_testproc_wait_output(all, NW_TESTPROC_STDOUT, marker, S_WAIT_MS));
    assert_true(nw_testproc_wait_output(none, NW_TESTPROC_STDOUT, marker, S_WAIT_MS));
    const char *update = "2:Negotiators said the tariff cuts would take effect in stages over "
                         "three years.";
    assert_int_equal(nw_testproc_count_lines(all, NW_TESTPROC_STDOUT, update), 1);
    assert_int_equal(nw_testproc_count_lines(none, NW_TESTPROC_STDOUT, update), 0);
    /* Every line it printed is of revision 1 (the story's 4 and the marker's). */
    assert_int_equal(nw_testproc_count_lines(none, NW_TESTPROC_STDOUT, "1:"),
                     nw_testproc_count_lines(none, NW_TESTPROC_STDOUT, ""));
    assert_true(nw_testproc_count_lines(none, NW_TESTPROC_STDOUT, "") >= 5);
    nw_testproc_signal(none, SIGTERM);
    nw_testproc_signal(all, SIGTERM);
    assert_int_equal(nw_testproc_wait_exit(none, S_WAIT_MS), 0);
    assert_int_equal(nw_testproc_wait_exit(all, S_WAIT_MS), 0);
    nw_testproc_destroy(&none);
    nw_testproc_destroy(&all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_changed_paragraph_goes_out_alone_as_revision_two,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_identical_redrop_sends_nothing_also_after_a_restart,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_subscriber_updates_none_drops_revisions, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_index_line_past_a_lost_journal_tail_is_ignored,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_index_write_failure_pauses_then_resumes, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_journal_write_does_not_end_an_index_pause, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
