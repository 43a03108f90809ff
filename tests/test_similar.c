/* Tests for publisher/text/nw_similar (the repeat rule) and the article fields nw_ingest
 * carries onto alerts (link, original time, author, section). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nw_alert.h"
#include "nw_error.h"
#include "nw_ingest.h"
#include "nw_similar.h"

static const char s_para[] =
    "The Commerce Department said Thursday it will extend its steel tariffs to a list of "
    "imported auto parts made largely of steel, from axles to seat frames, and importers have "
    "thirty days to comment before the new duties take effect across the country.";

static void test_identical_texts_score_one(void **state)
{
    (void)state;
    assert_true(nw_similar_jaccard(s_para, s_para) == 1.0);
}

static void test_case_and_punctuation_do_not_count(void **state)
{
    (void)state;
    assert_true(nw_similar_jaccard("Steel duties, rise!", "steel DUTIES rise") == 1.0);
}

static void test_one_edited_word_is_a_repeat(void **state)
{
    (void)state;
    char edited[sizeof s_para + 16];
    snprintf(edited, sizeof edited, "%s", s_para);
    memcpy(strstr(edited, "Thursday"), "Thirsday", 8);
    double j = nw_similar_jaccard(s_para, edited);
    printf("one word edited in a %zu-byte paragraph: Jaccard %.2f\n", strlen(s_para), j);
    assert_true(j >= NW_SIMILAR_REPEAT);
}

static void test_a_rewording_is_not_a_repeat(void **state)
{
    (void)state;
    const char *reworded =
        "The Commerce Department on Thursday widened its steel tariffs to cover imported auto "
        "parts that are made mostly of steel, a step that trade lawyers said could raise costs.";
    double j = nw_similar_jaccard(s_para, reworded);
    printf("reworded lede: Jaccard %.2f\n", j);
    assert_true(j < NW_SIMILAR_REPEAT);
}

static void test_short_texts_repeat_only_word_for_word(void **state)
{
    (void)state;
    assert_true(nw_similar_jaccard("Duties rise", "duties rise.") == 1.0);
    assert_true(nw_similar_jaccard("Duties rise", "Duties fall") == 0.0);
    assert_true(nw_similar_jaccard("", "") == 0.0);
    assert_true(nw_similar_jaccard("...", "Duties") == 0.0);
}

static void s_alert(nw_alert_t *a, const char *text)
{
    assert_int_equal(nw_alert_init(a), NW_OK);
    assert_int_equal(nw_alert_set(&a->text, text), NW_OK);
}

static void test_drop_repeats_keeps_order_and_the_first(void **state)
{
    (void)state;
    nw_alert_t alerts[4];
    s_alert(&alerts[0], "Steel tariffs widened");
    s_alert(&alerts[1], s_para);
    s_alert(&alerts[2], "Canada and Mexico say they may respond to the tariffs.");
    s_alert(&alerts[3], s_para);
    alerts[3].index = 3;
    alerts[2].index = 2;
    size_t n = 4;
    assert_int_equal(nw_similar_drop_repeats(alerts, &n), 1);
    assert_int_equal(n, 3);
    assert_string_equal(alerts[1].text, s_para);
    assert_int_equal(alerts[2].index, 2);
    assert_null(alerts[3].text); /* cleared */
    for (size_t i = 0; i < n; i++)
        nw_alert_clear(&alerts[i]);
}

/* A repeat is looked for among the NW_SIMILAR_WINDOW alerts kept before: within it the copy
 * goes, beyond it the copy stays (the bound that keeps a huge article linear). */
static void test_repeats_are_looked_for_within_the_window(void **state)
{
    (void)state;
    size_t n = NW_SIMILAR_WINDOW + 4;
    nw_alert_t *alerts = calloc(n, sizeof *alerts);
    assert_non_null(alerts);
    for (size_t i = 0; i < n; i++) {
        char text[128];
        snprintf(text, sizeof text, "Alpha%zu beta%zu gamma%zu delta%zu epsilon%zu.", i, i, i, i,
                 i);
        s_alert(&alerts[i], i == 1 || i == 2 || i == n - 1 ? s_para : text);
    }
    /* Alert 2 repeats alert 1 (inside the window) and goes; alert n-1 repeats alert 1 too,
     * but the NW_SIMILAR_WINDOW kept alerts 3 .. n-2 lie between them. */
    size_t count = n;
    assert_int_equal(nw_similar_drop_repeats(alerts, &count), 1);
    assert_int_equal(count, n - 1);
    assert_string_equal(alerts[count - 1].text, s_para);
    for (size_t i = 0; i < n; i++)
        nw_alert_clear(&alerts[i]);
    free(alerts);
}

static const char s_article[] = "Steel tariffs reach auto parts\n"
                                "\n"
                                "The tariffs now cover axles, seat frames and brake rotors.\n"
                                "\n"
                                "The tariffs now cover axles, seat frames and brake rotors.\n"
                                "\n"
                                "Importers have thirty days to comment.\n";

static void s_ingest(const nw_ingest_meta_t *meta, nw_ingest_result_t *res)
{
    nw_taxonomy_t *tax = NULL;
    nw_boilerplate_t *rules = NULL;
    char err[512];
    assert_int_equal(nw_ingest_load_taxonomy(NULL, &tax, err, sizeof err), NW_OK);
    assert_int_equal(nw_ingest_load_rules(NULL, &rules, err, sizeof err), NW_OK);
    nw_ingest_cfg_t cfg = {.rules = rules, .taxonomy = tax};
    int rc = nw_ingest_bytes_meta(&cfg, "a.txt", s_article, strlen(s_article), 1000, meta, res, err,
                                  sizeof err);
    if (rc != NW_OK)
        fail_msg("ingest: %s", err);
    nw_taxonomy_destroy(&tax);
    nw_boilerplate_destroy(&rules);
}

static void test_ingest_sends_a_repeated_paragraph_once(void **state)
{
    (void)state;
    nw_ingest_result_t res;
    s_ingest(NULL, &res);
    assert_int_equal(res.n, 3); /* headline, the paragraph once, the last paragraph */
    assert_int_equal(res.n_repeats, 1);
    assert_string_equal(res.alerts[2].text, "Importers have thirty days to comment.");
    assert_string_equal(res.alerts[0].url, "");
    assert_true(res.alerts[0].article_time_ms == 0);
    nw_ingest_result_clear(&res);
}

static void test_ingest_carries_the_meta_onto_every_alert(void **state)
{
    (void)state;
    nw_ingest_meta_t meta = {.url = "http://news.example/steel",
                             .author = "R. Okafor",
                             .section = "Business",
                             .article_time_ms = 1764278095000};
    nw_ingest_result_t res;
    s_ingest(&meta, &res);
    for (size_t i = 0; i < res.n; i++) {
        assert_string_equal(res.alerts[i].url, "http://news.example/steel");
        assert_string_equal(res.alerts[i].author, "R. Okafor");
        assert_string_equal(res.alerts[i].section, "Business");
        assert_true(res.alerts[i].article_time_ms == 1764278095000);
        assert_int_equal(res.alerts[i].revision, 1);
    }
    nw_ingest_result_clear(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_texts_score_one),
        cmocka_unit_test(test_case_and_punctuation_do_not_count),
        cmocka_unit_test(test_one_edited_word_is_a_repeat),
        cmocka_unit_test(test_a_rewording_is_not_a_repeat),
        cmocka_unit_test(test_short_texts_repeat_only_word_for_word),
        cmocka_unit_test(test_drop_repeats_keeps_order_and_the_first),
        cmocka_unit_test(test_repeats_are_looked_for_within_the_window),
        cmocka_unit_test(test_ingest_sends_a_repeated_paragraph_once),
        cmocka_unit_test(test_ingest_carries_the_meta_onto_every_alert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
