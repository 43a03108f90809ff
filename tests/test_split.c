/* Tests for publisher/text/nw_split: alerts from a parsed article, sentence splitting, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nw_error.h"
#include "nw_split.h"
#include "nw_utf8.h"

/* An article built by hand; the strings are not owned (nw_split only reads them). */
static nw_article_t s_article(nw_block_t *blocks, size_t n)
{
    nw_article_t art = {
        .id = (char *)"0123456789abcdef",
        .title = (char *)"Steel Tariffs Widen",
        .source = (char *)"Harbor Ledger",
        .place = (char *)"WASHINGTON",
        .author = (char *)"R. Okafor",
        .blocks = blocks,
        .n_blocks = n,
    };
    return art;
}

/* Splits one paragraph with the given limit and checks the pieces against want. */
static void s_expect_pieces(const char *text, size_t max, const char *const *want, size_t n_want)
{
    nw_block_t block = {NW_BLOCK_PARAGRAPH, (char *)text, 1};
    nw_article_t art = s_article(&block, 1);
    nw_split_opts_t opts = {.max_paragraph = max};
    nw_alert_t *alerts = NULL;
    size_t n = 0;
    assert_int_equal(nw_split(&art, 0, &opts, &alerts, &n), NW_OK);
    for (size_t i = 1; i < n; i++)
        print_message("piece %zu: [%s]\n", i, alerts[i].text);
    assert_int_equal(n, n_want + 1);
    for (size_t i = 0; i < n_want; i++)
        assert_string_equal(alerts[i + 1].text, want[i]);
    nw_split_free(&alerts, n);
}

static void test_headline_then_blocks_in_order(void **state)
{
    (void)state;
    nw_block_t blocks[] = {
        {NW_BLOCK_PARAGRAPH, (char *)"The lead paragraph.", 3},
        {NW_BLOCK_HEADING, (char *)"Quick Looks", 5},
        {NW_BLOCK_BULLET, (char *)"First point", 7},
        {NW_BLOCK_BULLET, (char *)"Second point", 8},
        {NW_BLOCK_HEADING, (char *)"Deep Look", 10},
        {NW_BLOCK_PARAGRAPH, (char *)"Body text.", 12},
    };
    nw_article_t art = s_article(blocks, 6);
    nw_alert_t *alerts = NULL;
    size_t n = 0;
    assert_int_equal(nw_split(&art, 1700000000123, NULL, &alerts, &n), NW_OK);
    assert_int_equal(n, 5);
    static const struct {
        nw_alert_kind_t kind;
        const char *section, *text;
    } want[] = {
        {NW_KIND_HEADLINE, "", "Steel Tariffs Widen"},
        {NW_KIND_PARAGRAPH, "", "The lead paragraph."},
        {NW_KIND_KEYPOINT, "Quick Looks", "First point"},
        {NW_KIND_KEYPOINT, "Quick Looks", "Second point"},
        {NW_KIND_PARAGRAPH, "Deep Look", "Body text."},
    };
    for (size_t i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "0123456789abcdef.%zu", i);
        assert_string_equal(alerts[i].id, id);
        assert_string_equal(alerts[i].article_id, "0123456789abcdef");
        assert_int_equal(alerts[i].index, i);
        assert_int_equal(alerts[i].kind, want[i].kind);
        assert_string_equal(alerts[i].section, want[i].section);
        assert_string_equal(alerts[i].text, want[i].text);
        assert_string_equal(alerts[i].title, "Steel Tariffs Widen");
        assert_string_equal(alerts[i].source, "Harbor Ledger");
        assert_string_equal(alerts[i].place, "WASHINGTON");
        assert_string_equal(alerts[i].author, "R. Okafor");
        assert_int_equal(alerts[i].published_ms, 1700000000123);
        assert_int_equal(alerts[i].priority, NW_PRIORITY_NORMAL);
        assert_int_equal(alerts[i].n_topics, 0);
        assert_int_equal(alerts[i].seq, 0);
        assert_string_equal(alerts[i].stream, "");
    }
    nw_split_free(&alerts, n);
    assert_null(alerts);
}

static void test_short_paragraph_is_one_alert(void **state)
{
    (void)state;
    const char *want[] = {"One sentence. Another one! A third?"};
    s_expect_pieces("One sentence. Another one! A third?", 0, want, 1);
}

static void test_splits_at_sentence_ends(void **state)
{
    (void)state;
    const char *want[] = {"Prices rose.",
                          "Were they high?",
                          "Yes!",
                          "\"Quite,\" he said.",
                          "\xE2\x80\x9CNo.\xE2\x80\x9D",
                          "The end."};
    s_expect_pieces(
        "Prices rose. Were they high? Yes! \"Quite,\" he said. \xE2\x80\x9CNo.\xE2\x80\x9D "
        "The end.",
        8, want, 6);
}

static void test_no_split_after_abbreviations_initials_decimals(void **state)
{
    (void)state;
    const char *want[] = {"The U.S. tariffs rose.",       "Mr. Smith spoke to Dr. Lee.",
                          "It was No. 5 on the list.",    "Growth hit 3.5 percent.",
                          "Then J. Mansour wrote again.", "Gen. Nakatani agreed."};
    s_expect_pieces("The U.S. tariffs rose. Mr. Smith spoke to Dr. Lee. It was No. 5 on the list. "
                    "Growth hit 3.5 percent. Then J. Mansour wrote again. Gen. Nakatani agreed.",
                    10, want, 6);
}

static void test_no_split_before_lowercase_or_digit(void **state)
{
    (void)state;
    const char *want[] = {"It rose vs. the dollar. and fell. 2025 was odd, e.g. Here."};
    s_expect_pieces("It rose vs. the dollar. and fell. 2025 was odd, e.g. Here.", 10, want, 1);
}

static void test_packs_sentences_up_to_the_limit(void **state)
{
    (void)state;
    /* 30 sentences of 99 bytes and a space: the default limit (1200) packs 12 per alert. */
    char text[4000] = "";
    for (int i = 0; i < 30; i++) {
        char s[128];
        snprintf(s, sizeof s, "Sentence %02d %s.", i,
                 "is padded out with enough ordinary words to reach ninety-nine bytes in all, as "
                 "it were");
        assert_int_equal(strlen(s), 99);
        strcat(text, s);
        if (i < 29)
            strcat(text, " ");
    }
    nw_block_t block = {NW_BLOCK_PARAGRAPH, text, 1};
    nw_article_t art = s_article(&block, 1);
    nw_alert_t *alerts = NULL;
    size_t n = 0;
    assert_int_equal(nw_split(&art, 0, NULL, &alerts, &n), NW_OK);
    assert_int_equal(n, 1 + 3);
    char joined[4000] = "";
    for (size_t i = 1; i < n; i++) {
        assert_true(strlen(alerts[i].text) <= 1200);
        assert_int_equal(alerts[i].kind, NW_KIND_PARAGRAPH);
        assert_int_equal(alerts[i].text[strlen(alerts[i].text) - 1], '.');
        if (i > 1)
            strcat(joined, " ");
        strcat(joined, alerts[i].text);
    }
    assert_string_equal(joined, text);
    nw_split_free(&alerts, n);
}

static void test_overlong_sentence_stays_whole(void **state)
{
    (void)state;
    const char *want[] = {
        "Short one.", "This single sentence is much longer than the limit allows for it.", "Tail."};
    s_expect_pieces("Short one. This single sentence is much longer than the limit allows for it. "
                    "Tail.",
                    20, want, 3);
}

static void test_long_bullet_is_split_as_keypoints(void **state)
{
    (void)state;
    nw_block_t block = {NW_BLOCK_BULLET, (char *)"First part here. Second part here.", 1};
    nw_article_t art = s_article(&block, 1);
    nw_split_opts_t opts = {.max_paragraph = 20};
    nw_alert_t *alerts = NULL;
    size_t n = 0;
    assert_int_equal(nw_split(&art, 0, &opts, &alerts, &n), NW_OK);
    assert_int_equal(n, 3);
    assert_int_equal(alerts[1].kind, NW_KIND_KEYPOINT);
    assert_int_equal(alerts[2].kind, NW_KIND_KEYPOINT);
    assert_string_equal(alerts[2].text, "Second part here.");
    nw_split_free(&alerts, n);
}

/* n copies of the 2-byte character é. */
static char *s_repeat_e_acute(size_t n)
{
    char *s = malloc(2 * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + 2 * i, "\xC3\xA9", 2);
    s[2 * n] = '\0';
    return s;
}

static void test_fields_truncated_at_utf8_boundary(void **state)
{
    (void)state;
    /* 'x' + 3000 x é = 6001 bytes: a cut at exactly 4096 would split a character. */
    char *body = s_repeat_e_acute(3000);
    char *long_text = malloc(strlen(body) + 2);
    assert_non_null(long_text);
    sprintf(long_text, "x%s", body);
    nw_block_t blocks[] = {{NW_BLOCK_HEADING, long_text, 1},
                           {NW_BLOCK_PARAGRAPH, (char *)"Body.", 2}};
    nw_article_t art = s_article(blocks, 2);
    art.title = long_text;
    art.source = long_text;
    nw_alert_t *alerts = NULL;
    size_t n = 0;
    assert_int_equal(nw_split(&art, 0, NULL, &alerts, &n), NW_OK);
    assert_int_equal(n, 2);
    const char *fields[] = {alerts[1].title, alerts[1].source, alerts[1].section};
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(fields[i]);
        assert_true(len <= NW_ALERT_FIELD_MAX);
        assert_true(len >= NW_ALERT_FIELD_MAX - 3);
        assert_true(nw_utf8_valid(fields[i], len));
        assert_memory_equal(fields[i], long_text, len);
    }
    /* The headline text is the whole title: it is far below the text limit. */
    assert_string_equal(alerts[0].text, long_text);
    nw_split_free(&alerts, n);
    free(long_text);
    free(body);
}

static void test_text_over_the_limit_is_cut_without_loss(void **state)
{
    (void)state;
    /* One "sentence" of 40,000 two-byte characters and no spaces: 80,000 bytes. */
    char *text = s_repeat_e_acute(40000);
    nw_block_t block = {NW_BLOCK_PARAGRAPH, text, 1};
    nw_article_t art = s_article(&block, 1);
    nw_alert_t *alerts = NULL;
    size_t n = 0;
    assert_int_equal(nw_split(&art, 0, NULL, &alerts, &n), NW_OK);
    assert_int_equal(n, 3);
    size_t total = 0;
    for (size_t i = 1; i < n; i++) {
        size_t len = strlen(alerts[i].text);
        assert_true(len <= NW_ALERT_TEXT_MAX);
        assert_true(nw_utf8_valid(alerts[i].text, len));
        assert_memory_equal(alerts[i].text, text + total, len);
        total += len;
    }
    assert_int_equal(total, strlen(text));
    nw_split_free(&alerts, n);
    free(text);
}

static void test_sentence_cut_never_splits_utf8(void **state)
{
    (void)state;
    const char *want[] = {"Caf\xC3\xA9 prices rose.", "\xC3\x89tienne agreed.",
                          "\xE2\x80\x98"
                          "Fine,\xE2\x80\x99 he said."};
    s_expect_pieces("Caf\xC3\xA9 prices rose. \xC3\x89tienne agreed. \xE2\x80\x98"
                    "Fine,\xE2\x80\x99 he said.",
                    12, want, 3);
}

static void test_free_is_safe_on_null(void **state)
{
    (void)state;
    nw_alert_t *alerts = NULL;
    nw_split_free(&alerts, 0);
    nw_split_free(NULL, 3);
    assert_null(alerts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headline_then_blocks_in_order),
        cmocka_unit_test(test_short_paragraph_is_one_alert),
        cmocka_unit_test(test_splits_at_sentence_ends),
        cmocka_unit_test(test_no_split_after_abbreviations_initials_decimals),
        cmocka_unit_test(test_no_split_before_lowercase_or_digit),
        cmocka_unit_test(test_packs_sentences_up_to_the_limit),
        cmocka_unit_test(test_overlong_sentence_stays_whole),
        cmocka_unit_test(test_long_bullet_is_split_as_keypoints),
        cmocka_unit_test(test_fields_truncated_at_utf8_boundary),
        cmocka_unit_test(test_text_over_the_limit_is_cut_without_loss),
        cmocka_unit_test(test_sentence_cut_never_splits_utf8),
        cmocka_unit_test(test_free_is_safe_on_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
