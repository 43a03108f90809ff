/* Tests for subscriber/nw_state: handled-set logic, save/load round trip, the atomic
 * replace, strict loading, and the log tail as a witness. Real files in a mkdtemp folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <stdio.h>
#include <sys/stat.h>

#include "nw_buf.h"
#include "nw_error.h"
#include "nw_state.h"
#include "nw_testproc.h"

#define S1 "9f2c4e1a7b3d5c60"
#define S2 "0123456789abcdef"

typedef struct {
    char *dir;
    char path[512];
    char err[512];
} fx_t;

static int s_setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    fx->dir = nw_test_tmpdir("state");
    if (fx->dir == NULL)
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/sub.state", fx->dir);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    nw_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static nw_state_t *s_open(fx_t *fx)
{
    nw_state_t *s = NULL;
    int rc = nw_state_open(fx->path, &s, fx->err, sizeof fx->err);
    if (rc != NW_OK)
        print_error("open: %s (%s)\n", nw_strerror(rc), fx->err);
    assert_int_equal(rc, NW_OK);
    return s;
}

static void s_write(fx_t *fx, const char *text)
{
    assert_int_equal(nw_test_write_file(fx->path, text, strlen(text)), 0);
}

static int s_open_err(fx_t *fx)
{
    nw_state_t *s = NULL;
    int rc = nw_state_open(fx->path, &s, fx->err, sizeof fx->err);
    assert_null(s);
    return rc;
}

/* --- logic -------------------------------------------------------------------------------- */

static void test_handled_is_floor_or_the_set(void **state)
{
    (void)state;
    nw_state_t *s = NULL;
    assert_int_equal(nw_state_open(NULL, &s, NULL, 0), NW_OK);
    assert_null(nw_state_current(s));
    assert_false(nw_state_handled(s, S1, 1));
    assert_int_equal(nw_state_mark(s, S1, 1), NW_ERR_NOTFOUND);
    assert_int_equal(nw_state_use(s, S1, 10), NW_OK);
    assert_string_equal(nw_state_current(s), S1);
    assert_true(nw_state_handled(s, S1, 10));
    assert_false(nw_state_handled(s, S1, 11));
    /* In order: the floor follows. */
    assert_int_equal(nw_state_mark(s, S1, 11), NW_OK);
    assert_int_equal(nw_state_floor(s, S1), 11);
    assert_int_equal(nw_state_range_count(s, S1), 0);
    /* A hole at 12: 13 and 15 wait above the floor. */
    assert_int_equal(nw_state_mark(s, S1, 13), NW_OK);
    assert_int_equal(nw_state_mark(s, S1, 15), NW_OK);
    assert_int_equal(nw_state_mark(s, S1, 14), NW_OK); /* joins 13 and 15 */
    assert_int_equal(nw_state_range_count(s, S1), 1);
    assert_false(nw_state_handled(s, S1, 12));
    assert_true(nw_state_handled(s, S1, 14));
    assert_int_equal(nw_state_floor(s, S1), 11);
    /* The hole filled: everything folds into the floor. */
    assert_int_equal(nw_state_mark(s, S1, 12), NW_OK);
    assert_int_equal(nw_state_floor(s, S1), 15);
    assert_int_equal(nw_state_range_count(s, S1), 0);
    /* Raising the floor over ranges drops them; lowering it voids what is above. */
    nw_state_mark(s, S1, 20);
    nw_state_mark(s, S1, 30);
    assert_int_equal(nw_state_set_floor(s, S1, 25), NW_OK);
    assert_int_equal(nw_state_range_count(s, S1), 1);
    assert_true(nw_state_handled(s, S1, 30));
    assert_int_equal(nw_state_set_floor(s, S1, 5), NW_OK);
    assert_false(nw_state_handled(s, S1, 30));
    assert_int_equal(nw_state_range_count(s, S1), 0);
    nw_state_destroy(&s);
    assert_null(s);
}

static void test_streams_are_kept_apart_most_recent_first(void **state)
{
    (void)state;
    nw_state_t *s = NULL;
    assert_int_equal(nw_state_open(NULL, &s, NULL, 0), NW_OK);
    nw_state_use(s, S1, 100);
    nw_state_use(s, S2, 0);
    assert_string_equal(nw_state_current(s), S2);
    assert_true(nw_state_handled(s, S1, 50));
    assert_false(nw_state_handled(s, S2, 50));
    nw_state_use(s, S1, 0); /* known: keeps its floor */
    assert_string_equal(nw_state_current(s), S1);
    assert_int_equal(nw_state_floor(s, S1), 100);
    assert_int_equal(nw_state_use(s, "bad id", 0), NW_ERR_INVAL);
    assert_int_equal(nw_state_use(s, "", 0), NW_ERR_INVAL);
    nw_state_destroy(&s);
}

/* F8: heartbeats with made-up stream ids (no alert of theirs handled) cannot push out the
 * stream that delivered alerts; among streams that all delivered, the least recently used
 * goes but never the stream of the last handled alert. */
static void test_forged_streams_cannot_evict_the_real_one(void **state)
{
    (void)state;
    nw_state_t *s = NULL;
    assert_int_equal(nw_state_open(NULL, &s, NULL, 0), NW_OK);
    nw_state_use(s, S1, 100);
    assert_int_equal(nw_state_mark(s, S1, 101), NW_OK);
    char id[32];
    for (int i = 0; i < NW_STATE_STREAMS_MAX + 1; i++) {
        snprintf(id, sizeof id, "%016x", 0xf000 + i);
        assert_int_equal(nw_state_use(s, id, 5), NW_OK);
    }
    assert_true(nw_state_has_stream(s, S1));
    assert_true(nw_state_handled(s, S1, 101));
    /* Now every stream delivered an alert; the first delivered last, though used least
     * recently. */
    nw_state_t *t = NULL;
    assert_int_equal(nw_state_open(NULL, &t, NULL, 0), NW_OK);
    for (int i = 0; i < NW_STATE_STREAMS_MAX; i++) {
        snprintf(id, sizeof id, "%016x", 0xa000 + i);
        nw_state_use(t, id, 0);
        nw_state_mark(t, id, 1);
    }
    snprintf(id, sizeof id, "%016x", 0xa000);
    nw_state_mark(t, id, 2);
    assert_int_equal(nw_state_use(t, "00000000000000ff", 0), NW_OK);
    assert_true(nw_state_has_stream(t, id));
    snprintf(id, sizeof id, "%016x", 0xa001);
    assert_false(nw_state_has_stream(t, id));
    nw_state_destroy(&t);
    nw_state_destroy(&s);
}

static void test_topics_only_go_up(void **state)
{
    (void)state;
    nw_state_t *s = NULL;
    assert_int_equal(nw_state_open(NULL, &s, NULL, 0), NW_OK);
    nw_state_use(s, S1, 0);
    assert_int_equal(nw_state_set_topic(s, S1, "trade.tariffs", 57), NW_OK);
    assert_int_equal(nw_state_set_topic(s, S1, "trade.tariffs", 50), NW_OK);
    assert_int_equal(nw_state_topic(s, S1, "trade.tariffs"), 57);
    assert_int_equal(nw_state_topic(s, S1, "markets"), 0);
    assert_int_equal(nw_state_set_topic(s, S1, "Bad", 1), NW_ERR_TOPIC);
    assert_int_equal(nw_state_set_topic(s, S2, "markets", 1), NW_ERR_NOTFOUND);
    nw_state_destroy(&s);
}

/* --- files -------------------------------------------------------------------------------- */

static void test_missing_file_is_an_empty_state(void **state)
{
    fx_t *fx = *state;
    nw_state_t *s = s_open(fx);
    assert_null(nw_state_current(s));
    assert_false(nw_state_dirty(s));
    assert_int_equal(nw_state_save(s, fx->err, sizeof fx->err), NW_OK); /* nothing to do */
    struct stat sb;
    assert_int_not_equal(stat(fx->path, &sb), 0);
    nw_state_destroy(&s);
}

static void test_save_load_round_trip(void **state)
{
    fx_t *fx = *state;
    nw_state_t *s = s_open(fx);
    nw_state_use(s, S2, 7);
    nw_state_use(s, S1, 1000);
    for (uint64_t q = 1002; q < 1400; q += 3) /* 133 separate ranges: several done lines */
        nw_state_mark(s, S1, q);
    nw_state_mark(s, S1, 1500);
    nw_state_mark(s, S1, 1501);
    nw_state_set_topic(s, S1, "trade.tariffs", 57);
    nw_state_set_topic(s, S1, "markets", 311);
    assert_true(nw_state_dirty(s));
    assert_int_equal(nw_state_save(s, fx->err, sizeof fx->err), NW_OK);
    assert_false(nw_state_dirty(s));
    nw_state_destroy(&s);

    s = s_open(fx);
    assert_string_equal(nw_state_current(s), S1);
    assert_int_equal(nw_state_floor(s, S1), 1000);
    assert_int_equal(nw_state_floor(s, S2), 7);
    assert_int_equal(nw_state_range_count(s, S1), 134);
    assert_true(nw_state_handled(s, S1, 1002));
    assert_false(nw_state_handled(s, S1, 1003));
    assert_true(nw_state_handled(s, S1, 1501));
    assert_int_equal(nw_state_topic(s, S1, "markets"), 311);
    assert_int_equal(nw_state_topic(s, S1, "trade.tariffs"), 57);
    assert_false(nw_state_dirty(s));
    nw_state_destroy(&s);
}

static void test_save_due_is_rate_limited(void **state)
{
    fx_t *fx = *state;
    nw_state_t *s = s_open(fx);
    nw_state_use(s, S1, 1);
    assert_int_equal(nw_state_save_due(s, 1000, NULL, 0), NW_OK);
    assert_false(nw_state_dirty(s));
    nw_state_mark(s, S1, 2);
    assert_int_equal(nw_state_save_due(s, 1000 + NW_STATE_SAVE_MS - 1, NULL, 0), NW_OK);
    assert_true(nw_state_dirty(s)); /* too soon */
    assert_int_equal(nw_state_save_due(s, 1000 + NW_STATE_SAVE_MS, NULL, 0), NW_OK);
    assert_false(nw_state_dirty(s));
    nw_state_destroy(&s);
}

static void test_crash_before_rename_leaves_the_old_file(void **state)
{
    fx_t *fx = *state;
    nw_state_t *s = s_open(fx);
    nw_state_use(s, S1, 42);
    assert_int_equal(nw_state_save(s, fx->err, sizeof fx->err), NW_OK);
    nw_state_destroy(&s);
    /* A save that died after writing part of its temp file and before the rename. */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", fx->path);
    const char torn[] = "newswire-state 1\nstream " S1 " floor 99";
    assert_int_equal(nw_test_write_file(tmp, torn, sizeof torn - 1), 0);
    s = s_open(fx);
    assert_int_equal(nw_state_floor(s, S1), 42);
    struct stat sb;
    assert_int_not_equal(stat(tmp, &sb), 0); /* the leftover is cleaned up */
    nw_state_destroy(&s);
}

static void test_corrupt_files_name_the_line_and_field(void **state)
{
    fx_t *fx = *state;
    struct {
        const char *text;
        const char *says;
    } cases[] = {
        {"garbage\n", ":1: not a newswire state file"},
        {"newswire-state 1\nstream " S1 " floor x\nend 1\n", ":2: floor"},
        {"newswire-state 1\nstream " S1 " floor 5\n", ":3: no end line"},
        {"newswire-state 1\nstream " S1 " floor 5\nend 2\n", ":3: end"},
        {"newswire-state 1\nstream " S1 " floor 5\nend 1", ":3: last line has no newline"},
        {"newswire-state 1\ndone " S1 " 7\nend 1\n", ":2: record for a stream"},
        {"newswire-state 1\nstream " S1 " floor 5\ndone " S1 " 4\nend 2\n", ":3: done"},
        {"newswire-state 1\nstream " S1 " floor 5\ndone " S1 " 9 8\nend 2\n", ":3: done"},
        {"newswire-state 1\nstream " S1 " floor 5\ndone " S1 " 9-7\nend 2\n", ":3: done"},
        {"newswire-state 1\nstream " S1 " floor 5\ntopic " S1 " Bad 1\nend 2\n", ":3: topic"},
        {"newswire-state 1\nstream " S1 " floor 5\nstream " S1 " floor 6\nend 2\n",
         ":3: stream: listed twice"},
        {"newswire-state 1\nstream " S1 " floor 99999999999999999999\nend 1\n", ":2: floor"},
        {"newswire-state 1\nstream " S1 " floor 5\ndone " S1 " 7-18446744073709551615 9\nend 2\n",
         ":3: done"},
        {"newswire-state 1\nwhat\nend 1\n", ":2: unknown record"},
        {"newswire-state 1\nend 0\nstream " S1 " floor 1\n", ":3: text after the end"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_write(fx, cases[i].text);
        fx->err[0] = '\0';
        assert_int_equal(s_open_err(fx), NW_ERR_CONFIG);
        if (strstr(fx->err, fx->path) == NULL || strstr(fx->err, cases[i].says) == NULL)
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, fx->err, cases[i].says);
    }
}

static void test_log_tail_marks_what_was_written(void **state)
{
    fx_t *fx = *state;
    char log[600];
    snprintf(log, sizeof log, "%s/alerts.jsonl", fx->dir);
    nw_state_t *s = s_open(fx);
    nw_state_use(s, S1, 10);
    /* Lines as nw_json_alert writes them (a topic named "seq" must not confuse it); the
     * last line is torn by the crash and does not count; another stream is unknown. */
    const char *text =
        "{\"id\":\"a.1\",\"tseq\":{\"seq\":3},\"stream\":\"" S1 "\",\"seq\":9,\"text\":\"x\"}\n"
        "{\"id\":\"a.2\",\"tseq\":{\"seq\":4},\"stream\":\"" S1 "\",\"seq\":11,\"text\":\"x\"}\n"
        "{\"id\":\"a.3\",\"stream\":\"" S2 "\",\"seq\":12}\n"
        "{\"id\":\"a.4\",\"stream\":\"" S1 "\",\"seq\":13,\"text\":\"x\"}\n"
        "{\"id\":\"a.5\",\"stream\":\"" S1 "\",\"seq\":14,\"te";
    assert_int_equal(nw_test_write_file(log, text, strlen(text)), 0);
    size_t marked = 0;
    assert_int_equal(nw_state_absorb_log(s, log, 1 << 20, &marked), NW_OK);
    assert_int_equal(marked, 2);
    assert_int_equal(nw_state_floor(s, S1), 11);
    assert_true(nw_state_handled(s, S1, 13));
    assert_false(nw_state_handled(s, S1, 14));
    assert_false(nw_state_has_stream(s, S2));
    /* Only the tail is read: a cut first line is skipped, not misread. */
    assert_int_equal(nw_state_absorb_log(s, log, 60, &marked), NW_OK);
    assert_int_equal(marked, 0);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none.jsonl", fx->dir);
    assert_int_equal(nw_state_absorb_log(s, missing, 1 << 20, &marked), NW_OK);
    nw_state_destroy(&s);
}

/* A tail longer than the reader's window (64 KiB) is read in pieces: lines cut between two
 * reads and a line longer than the window count like the others. */
static void test_log_tail_read_in_pieces(void **state)
{
    fx_t *fx = *state;
    char log[600];
    snprintf(log, sizeof log, "%s/alerts.jsonl", fx->dir);
    nw_state_t *s = s_open(fx);
    nw_state_use(s, S1, 0);
    nw_buf_t text = {0};
    for (unsigned seq = 1; seq <= 3000; seq++) /* ~210 KB: cut at several window ends */
        assert_int_equal(nw_buf_printf(&text,
                                       "{\"id\":\"a.%u\",\"stream\":\"" S1
                                       "\",\"seq\":%u,\"text\":\"%020u\"}\n",
                                       seq, seq, seq),
                         NW_OK);
    assert_int_equal(
        nw_buf_printf(&text, "{\"id\":\"a.3001\",\"stream\":\"" S1 "\",\"seq\":3001,\"text\":\""),
        NW_OK);
    for (unsigned i = 0; i < 200 * 1024 / 16; i++) /* one line of 200 KiB */
        assert_int_equal(nw_buf_append_str(&text, "0123456789abcdef"), NW_OK);
    assert_int_equal(nw_buf_printf(&text, "\"}\n"), NW_OK);
    assert_int_equal(nw_test_write_file(log, text.data, text.len), 0);
    size_t marked = 0;
    assert_int_equal(nw_state_absorb_log(s, log, 1u << 30, &marked), NW_OK);
    assert_int_equal(marked, 3001);
    assert_int_equal(nw_state_floor(s, S1), 3001);
    nw_buf_free(&text);
    nw_state_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handled_is_floor_or_the_set),
        cmocka_unit_test(test_streams_are_kept_apart_most_recent_first),
        cmocka_unit_test(test_forged_streams_cannot_evict_the_real_one),
        cmocka_unit_test(test_topics_only_go_up),
        cmocka_unit_test_setup_teardown(test_missing_file_is_an_empty_state, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_save_load_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_save_due_is_rate_limited, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_crash_before_rename_leaves_the_old_file, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_files_name_the_line_and_field, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_log_tail_marks_what_was_written, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_log_tail_read_in_pieces, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
