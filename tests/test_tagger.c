/* Tests of nw_tagger: article-level topics, alert-level evidence, priorities. */
#include "nw_alert.h"
#include "nw_error.h"
#include "nw_tagger.h"
#include "nw_taxonomy.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The taxonomy alone, no explanation. */
static int s_tag(const nw_taxonomy_t *tax, nw_alert_t *alerts, size_t n)
{
    return nw_tagger_tag_model(tax, NULL, alerts, n, NULL);
}

static const char s_conf[] = "spelling: defence defense\n"
                             "urgent: breaking\n"
                             "length-unit: 0\n"
                             "topic: trade\n"
                             "threshold: 6\n"
                             "3: trade~, export~, tariff~\n"
                             "topic: defense\n"
                             "threshold: 6\n"
                             "3: militar*, troop~, defence\n"
                             "veto: title defence\n"
                             "topic: sport\n"
                             "threshold: 6\n"
                             "3: match~, goal~, striker~, league~\n";

typedef struct {
    nw_taxonomy_t *tax;
    nw_alert_t alerts[8];
    size_t n;
} s_fixture_t;

static int s_setup(void **state)
{
    static s_fixture_t f;
    memset(&f, 0, sizeof(f));
    char err[256];
    if (nw_taxonomy_parse(s_conf, strlen(s_conf), "test", &f.tax, err, sizeof(err)) != NW_OK)
        return -1;
    *state = &f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    for (size_t i = 0; i < f->n; i++)
        nw_alert_clear(&f->alerts[i]);
    nw_taxonomy_destroy(&f->tax);
    return 0;
}

static void s_add(s_fixture_t *f, nw_alert_kind_t kind, const char *text)
{
    nw_alert_t *a = &f->alerts[f->n];
    assert_int_equal(nw_alert_init(a), NW_OK);
    assert_int_equal(nw_alert_set(&a->text, text), NW_OK);
    a->kind = kind;
    a->index = (uint32_t)f->n++;
}

static bool s_has(const nw_alert_t *a, const char *topic)
{
    return nw_alert_find_topic(a, topic) >= 0;
}

static void test_tagger_passing_mention_is_not_a_topic(void **state)
{
    s_fixture_t *f = *state;
    s_add(f, NW_KIND_HEADLINE, "United win the league match");
    s_add(f, NW_KIND_PARAGRAPH, "The striker scored two goals in the league match.");
    s_add(f, NW_KIND_PARAGRAPH, "The club may trade its goalkeeper next season.");
    assert_int_equal(s_tag(f->tax, f->alerts, f->n), NW_OK);
    for (size_t i = 0; i < f->n; i++)
        assert_false(s_has(&f->alerts[i], "trade"));
    assert_true(s_has(&f->alerts[0], "sport"));
    assert_true(s_has(&f->alerts[1], "sport"));
    /* the third alert mentions no sport term: it gets no topic of its own */
    assert_string_equal(f->alerts[2].topics[0].name, NW_TOPIC_GENERAL);
    assert_int_equal(f->alerts[2].n_topics, 1);
}

static void test_tagger_headline_carries_all_article_topics(void **state)
{
    s_fixture_t *f = *state;
    s_add(f, NW_KIND_HEADLINE, "Tariff talks with Japan");
    s_add(f, NW_KIND_KEYPOINT, "Japan faces tariffs on exports of cars");
    s_add(f, NW_KIND_KEYPOINT, "Japan to discuss military cost-sharing for US troops");
    s_add(f, NW_KIND_PARAGRAPH, "Military cost-sharing and troop levels are on the table.");
    assert_int_equal(s_tag(f->tax, f->alerts, f->n), NW_OK);
    assert_true(s_has(&f->alerts[0], "trade"));
    assert_true(s_has(&f->alerts[0], "defense"));
    assert_true(s_has(&f->alerts[1], "trade"));
    assert_false(s_has(&f->alerts[1], "defense"));
    assert_true(s_has(&f->alerts[2], "defense"));
    assert_false(s_has(&f->alerts[2], "trade"));
    assert_true(s_has(&f->alerts[3], "defense"));
}

static void test_tagger_veto_cancels_topic(void **state)
{
    s_fixture_t *f = *state;
    s_add(f, NW_KIND_HEADLINE, "Champion's defence of the title");
    s_add(f, NW_KIND_PARAGRAPH,
          "Her title defence begins today; defence is her strength, "
          "defence wins, defence again.");
    assert_int_equal(s_tag(f->tax, f->alerts, f->n), NW_OK);
    assert_false(s_has(&f->alerts[0], "defense"));
    assert_false(s_has(&f->alerts[1], "defense"));
    assert_string_equal(f->alerts[0].topics[0].name, NW_TOPIC_GENERAL);
}

static void test_tagger_general_fallback_and_priorities(void **state)
{
    s_fixture_t *f = *state;
    s_add(f, NW_KIND_HEADLINE, "A quiet day at the zoo");
    s_add(f, NW_KIND_PARAGRAPH, "The penguins were fed.");
    assert_int_equal(s_tag(f->tax, f->alerts, f->n), NW_OK);
    assert_string_equal(f->alerts[0].topics[0].name, NW_TOPIC_GENERAL);
    assert_string_equal(f->alerts[1].topics[0].name, NW_TOPIC_GENERAL);
    assert_int_equal(f->alerts[0].priority, NW_PRIORITY_NORMAL);
    assert_int_equal(f->alerts[1].priority, NW_PRIORITY_LOW);
}

static void test_tagger_priorities_with_topics(void **state)
{
    s_fixture_t *f = *state;
    s_add(f, NW_KIND_HEADLINE, "Breaking: troops move to the border");
    s_add(f, NW_KIND_KEYPOINT, "Military convoy seen");
    s_add(f, NW_KIND_PARAGRAPH, "Troops and military vehicles crossed at dawn.");
    assert_int_equal(s_tag(f->tax, f->alerts, f->n), NW_OK);
    assert_int_equal(f->alerts[0].priority, NW_PRIORITY_URGENT);
    assert_int_equal(f->alerts[1].priority, NW_PRIORITY_NORMAL);
    assert_int_equal(f->alerts[2].priority, NW_PRIORITY_LOW);
    assert_true(s_has(&f->alerts[2], "defense"));
}

static void test_tagger_title_weighs_more_than_body(void **state)
{
    s_fixture_t *f = *state;
    /* one trade term in the title (3 x 3 = 9) passes threshold 6; the same term once
     * in a later paragraph (3 x 1) does not */
    s_add(f, NW_KIND_HEADLINE, "Exports surge");
    s_add(f, NW_KIND_PARAGRAPH, "Figures came out today.");
    assert_int_equal(s_tag(f->tax, f->alerts, 2), NW_OK);
    assert_true(s_has(&f->alerts[0], "trade"));
    s_add(f, NW_KIND_HEADLINE, "Figures out");
    s_add(f, NW_KIND_PARAGRAPH, "Nothing much.");
    s_add(f, NW_KIND_PARAGRAPH, "Exports rose.");
    assert_int_equal(s_tag(f->tax, f->alerts + 2, 3), NW_OK);
    assert_false(s_has(&f->alerts[2], "trade"));
}

static void test_tagger_default_taxonomy_on_seed_bullets(void **state)
{
    (void)state;
    nw_taxonomy_t *tax = NULL;
    assert_int_equal(nw_taxonomy_default(&tax), NW_OK);
    /* A story shaped like the seed article (our own wording, not the corpus text). */
    const char *texts[] = {
        "Ministers fly to Washington over tariff row",
        "Tokyo wants relief from the new import tariffs on its cars",
        "A 90-day pause in tariffs does not cover steel and aluminium",
        "Washington wants Japan to pay more toward US troops stationed there",
        "Japan plans to raise its defense budget and military spending",
        "Negotiators meet for trade talks on Friday",
        "Tokyo says it will not rush into a deal",
    };
    nw_alert_t alerts[7];
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(nw_alert_init(&alerts[i]), NW_OK);
        assert_int_equal(nw_alert_set(&alerts[i].text, texts[i]), NW_OK);
        alerts[i].kind = i == 0 ? NW_KIND_HEADLINE : NW_KIND_KEYPOINT;
    }
    assert_int_equal(s_tag(tax, alerts, 7), NW_OK);
    assert_true(s_has(&alerts[0], "tariffs"));
    assert_true(s_has(&alerts[0], "defense"));
    assert_true(s_has(&alerts[1], "tariffs"));
    assert_true(s_has(&alerts[2], "tariffs"));
    assert_false(s_has(&alerts[2], "defense"));
    assert_true(s_has(&alerts[3], "defense"));
    assert_true(s_has(&alerts[4], "defense"));
    assert_false(s_has(&alerts[4], "tariffs"));
    assert_string_equal(alerts[6].topics[0].name, NW_TOPIC_GENERAL);
    for (size_t i = 0; i < 7; i++)
        nw_alert_clear(&alerts[i]);
    nw_taxonomy_destroy(&tax);
}

/* Tags a two-alert article (headline, one paragraph) with tax and returns whether the
 * headline got topic. */
/* Tags a two-alert article (headline, one paragraph) into alerts[2] (the caller clears
 * them); explain (NULL: none) gets the explanations. */
static void s_tag_article(const nw_taxonomy_t *tax, const char *title, const char *body,
                          nw_alert_t alerts[2], char ***explain)
{
    const char *texts[2] = {title, body};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(nw_alert_init(&alerts[i]), NW_OK);
        assert_int_equal(nw_alert_set(&alerts[i].text, texts[i]), NW_OK);
        alerts[i].kind = i == 0 ? NW_KIND_HEADLINE : NW_KIND_PARAGRAPH;
    }
    assert_int_equal(nw_tagger_tag_model(tax, NULL, alerts, 2, explain), NW_OK);
}

static bool s_article_has(const nw_taxonomy_t *tax, const char *title, const char *body,
                          const char *topic)
{
    nw_alert_t alerts[2];
    s_tag_article(tax, title, body, alerts, NULL);
    bool has = s_has(&alerts[0], topic);
    for (size_t i = 0; i < 2; i++)
        nw_alert_clear(&alerts[i]);
    return has;
}

/* The default taxonomy's known confusions (our own wording, not corpus text): short
 * indicator reports are economy, company results are not economy or energy, a
 * commodity export quota is not trade, a rate change is markets. */
static void test_tagger_default_taxonomy_confusions(void **state)
{
    (void)state;
    nw_taxonomy_t *tax = NULL;
    assert_int_equal(nw_taxonomy_default(&tax), NW_OK);
    assert_true(s_article_has(
        tax, "Ruritania money supply rises in March",
        "Broad money supply M-3 rose 0.8 pct in March, the central bank said.", "economy"));
    assert_false(s_article_has(tax, "Acme Oil year net profit up",
                               "Shr 1.20 dlrs vs 90 cts. Net profit 12 mln vs 9 mln. Revs 80 mln. "
                               "The company explores for oil and natural gas.",
                               "energy"));
    assert_false(s_article_has(tax, "Acme Oil year net profit up",
                               "Shr 1.20 dlrs vs 90 cts. Net profit 12 mln vs 9 mln.", "economy"));
    assert_false(s_article_has(tax, "Producers agree coffee export quotas",
                               "Coffee producing countries agreed export quotas of 58 mln bags, "
                               "cutting exports to support prices.",
                               "trade"));
    assert_true(
        s_article_has(tax, "Trade deficit widens as imports surge",
                      "The country's trade deficit widened to 2 billion dlrs in February as "
                      "imports rose faster than exports, the trade ministry said.",
                      "trade"));
    assert_true(s_article_has(
        tax, "Big bank raises prime rate to 8 pct",
        "The bank said it raised its prime lending rate to 8 pct from 7.75 pct.", "markets"));
    assert_false(
        s_article_has(tax, "Ruritania oil imports rise",
                      "Crude oil imports rose to 2 mln barrels a day, customs data showed, "
                      "and importers expect imports to rise again.",
                      "tariffs"));
    assert_true(s_article_has(tax, "Ruritania raises import duties on cars",
                              "Ruritania raised import duties on foreign cars to 40 pct.",
                              "tariffs"));
    assert_false(s_article_has(tax, "Prime minister opens new bridge",
                               "The prime minister opened the bridge on Monday.", "markets"));
    nw_taxonomy_destroy(&tax);
}

/* min-terms: one word said often is not enough; require: a topic needs one of its
 * required terms besides the score. */
static void test_tagger_min_terms_and_require(void **state)
{
    (void)state;
    static const char conf[] = "length-unit: 0\n"
                               "topic: trade\n"
                               "threshold: 6\n"
                               "min-terms: 3\n"
                               "3: trade~, export~, import~, deficit~\n"
                               "topic: tariffs\n"
                               "threshold: 6\n"
                               "4: tariff~, duty~\n"
                               "2: import~\n"
                               "require: tariff~, import duty~\n";
    nw_taxonomy_t *tax = NULL;
    char err[256];
    assert_int_equal(nw_taxonomy_parse(conf, sizeof(conf) - 1, "t", &tax, err, sizeof(err)), NW_OK);
    /* A high score from two distinct terms only. */
    assert_false(s_article_has(tax, "Trade, trade, trade", "Exports and more trade.", "trade"));
    assert_true(
        s_article_has(tax, "Trade deficit grows", "Exports fell and imports rose.", "trade"));
    /* Imports alone score enough for tariffs but name no tariff or import duty. */
    assert_false(
        s_article_has(tax, "Imports rise", "Imports rose again, importers said.", "tariffs"));
    assert_true(s_article_has(tax, "Imports rise", "The import duty was cut.", "tariffs"));
    assert_true(s_article_has(tax, "Tariffs rise", "Tariffs on imports rose.", "tariffs"));
    nw_taxonomy_destroy(&tax);
}

/* Topics of one exclusive: group: the article keeps the one it has most clearly; topics
 * outside the group are not touched. */
static void test_tagger_exclusive_group_keeps_the_strongest(void **state)
{
    (void)state;
    static const char conf[] = "length-unit: 0\n"
                               "topic: business\n"
                               "exclusive: section\n"
                               "threshold: 4\n"
                               "4: shares, profit~\n"
                               "topic: politics\n"
                               "exclusive: section\n"
                               "threshold: 4\n"
                               "4: minister~, election~\n"
                               "topic: economy\n"
                               "threshold: 4\n"
                               "4: inflation, profit~\n";
    nw_taxonomy_t *tax = NULL;
    char err[256];
    assert_int_equal(nw_taxonomy_parse(conf, sizeof(conf) - 1, "t", &tax, err, sizeof(err)), NW_OK);
    assert_string_equal(nw_taxonomy_topic_group(tax, 0), "section");
    assert_string_equal(nw_taxonomy_topic_group(tax, 2), "");
    /* Each alone. */
    assert_true(s_article_has(tax, "Profits up", "Shares rose.", "business"));
    assert_true(s_article_has(tax, "Election called", "The minister spoke.", "politics"));
    /* Both pass: politics is the clearer one here, so business gives way ... */
    const char *title = "Minister calls election", *body = "Profits at one firm rose.";
    assert_true(s_article_has(tax, title, body, "politics"));
    assert_false(s_article_has(tax, title, body, "business"));
    /* ... and economy, outside the group, stays. */
    assert_true(s_article_has(tax, title, body, "economy"));
    /* --explain names the topic it gave way to. */
    nw_alert_t alerts[2];
    char **explain = NULL;
    s_tag_article(tax, title, body, alerts, &explain);
    const char *business = strstr(explain[0], "{\"topic\":\"business\"");
    assert_non_null(business);
    assert_non_null(strstr(business, "\"excluded_by\":\"politics\""));
    for (size_t i = 0; i < 2; i++) {
        free(explain[i]);
        nw_alert_clear(&alerts[i]);
    }
    free(explain);
    /* The other way round. */
    assert_true(s_article_has(tax, "Profits and shares up", "The minister spoke.", "business"));
    assert_false(s_article_has(tax, "Profits and shares up", "The minister spoke.", "politics"));
    nw_taxonomy_destroy(&tax);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tagger_passing_mention_is_not_a_topic, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_tagger_headline_carries_all_article_topics, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_tagger_veto_cancels_topic, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tagger_general_fallback_and_priorities, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_tagger_priorities_with_topics, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tagger_title_weighs_more_than_body, s_setup,
                                        s_teardown),
        cmocka_unit_test(test_tagger_default_taxonomy_on_seed_bullets),
        cmocka_unit_test(test_tagger_default_taxonomy_confusions),
        cmocka_unit_test(test_tagger_min_terms_and_require),
        cmocka_unit_test(test_tagger_exclusive_group_keeps_the_strongest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
