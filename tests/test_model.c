/* Tests of the learned layer: nw_features, nw_docvec, nw_model and the tagger's rule that
 * combines a model with the taxonomy. */
#include "nw_alert.h"
#include "nw_docvec.h"
#include "nw_error.h"
#include "nw_features.h"
#include "nw_model.h"
#include "nw_tagger.h"
#include "nw_taxonomy.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct {
    char names[64][80];
    uint32_t ids[64];
    size_t n;
} s_seen_t;

static void s_collect(uint32_t id, const char *name, size_t len, void *ctx)
{
    s_seen_t *s = ctx;
    if (s->n < 64) {
        snprintf(s->names[s->n], sizeof s->names[0], "%.*s", (int)len, name);
        s->ids[s->n++] = id;
    }
}

static void test_features_tokens_and_bigrams(void **state)
{
    (void)state;
    s_seen_t s = {0};
    const char text[] = "Tariffs ROSE 25% \xe2\x80\x9cnow\xe2\x80\x9d caf\xc3\xa9";
    size_t tokens = nw_features_scan_named(text, strlen(text), s_collect, &s);
    assert_int_equal(tokens, 5);
    /* u1, u2, b12, u3, b23, ... */
    assert_string_equal(s.names[0], "tariffs");
    assert_string_equal(s.names[1], "rose");
    assert_string_equal(s.names[2], "tariffs rose");
    assert_string_equal(s.names[3], "0");           /* numbers are one token */
    assert_string_equal(s.names[5], "now");         /* curly quotes separate */
    assert_string_equal(s.names[7], "caf\xc3\xa9"); /* accented letters stay in the word */
    /* the fast path gives the same ids; case does not matter */
    const char upper[] = "TARIFFS rose 7% \xe2\x80\x9cNOW\xe2\x80\x9d CAF\xc3\xa9";
    uint32_t ids[sizeof upper];
    size_t fast_tokens = 0;
    assert_true(nw_features_ids_max(strlen(upper)) <= sizeof upper);
    assert_int_equal(nw_features_ids(upper, strlen(upper), ids, &fast_tokens), s.n);
    assert_int_equal(fast_tokens, 5);
    for (size_t i = 0; i < s.n; i++)
        assert_int_equal(ids[i], s.ids[i]);
    assert_true(s.ids[0] != s.ids[2]);
    assert_true(s.ids[0] <= NW_FEATURES_MASK && s.ids[2] <= NW_FEATURES_MASK);
}

static const char s_conf[] = "length-unit: 0\n"
                             "topic: trade\n"
                             "threshold: 6\n"
                             "3: tariff~, export~\n"
                             "veto: trade winds\n"
                             "topic: defense\n"
                             "threshold: 6\n"
                             "3: troop~, missile~\n"
                             "require: troop~\n";

static void test_docvec_blocks_have_unit_and_half_length(void **state)
{
    (void)state;
    nw_taxonomy_t *tax = NULL;
    char err[256];
    assert_int_equal(nw_taxonomy_parse(s_conf, strlen(s_conf), "t", &tax, err, sizeof err), NW_OK);
    const char *title = "Tariff war", *body = "Exports fell as the tariff rose and rose.";
    nw_segment_t seg[2] = {{title, strlen(title), NW_POS_TITLE}, {body, strlen(body), NW_POS_BODY}};
    nw_docvec_t words = {0}, all = {0};
    assert_int_equal(nw_docvec_build(&words, tax, seg, 2, false, NULL, NULL), NW_OK);
    assert_int_equal(nw_docvec_build(&all, tax, seg, 2, true, NULL, NULL), NW_OK);
    double norm = 0;
    for (size_t i = 0; i < words.n; i++) {
        norm += (double)words.feat[i].value * words.feat[i].value;
        if (i)
            assert_true(words.feat[i - 1].id < words.feat[i].id);
    }
    assert_true(fabs(norm - 1.0) < 1e-5);
    /* with the taxonomy: the T: block (length 0.5) and the S: score feature are added */
    uint32_t s_trade = nw_features_named_id("S:trade");
    bool found = false;
    for (size_t i = 0; i < all.n; i++) {
        if (all.feat[i].id == s_trade) {
            found = true;
            /* score 3x3 (title) + 3 + 1.5 (second tariff) = 13.5 over 6, clipped to 2, x 0.25 */
            assert_true(fabs(all.feat[i].value - 0.5) < 1e-6);
        }
    }
    assert_true(found);
    assert_true(all.n > words.n);
    assert_true(all.topics[0].score > 6);
    nw_docvec_free(&words);
    nw_docvec_free(&all);
    nw_taxonomy_destroy(&tax);
}

/* A model that says trade for "tariff" and defense for "missile", whatever the taxonomy. */
/* trade and defense, one row each: "tariff" (named tariff_name) and "missile". */
static nw_model_t *s_tiny_model_named(const char *tariff_name)
{
    nw_model_t *m = NULL;
    assert_int_equal(nw_model_new(2, false, &m), NW_OK);
    assert_int_equal(nw_model_set_topic(m, 0, "trade", 0.0, -0.5, 1, 0.9, 10, 100), NW_OK);
    assert_int_equal(nw_model_set_topic(m, 1, "defense", 0.0, -0.5, 1, 0.9, 10, 100), NW_OK);
    s_seen_t s = {0};
    nw_features_scan_named("tariff missile", 14, s_collect, &s);
    assert_int_equal(nw_model_add_row(m, s.ids[0], tariff_name, (const float[]){4.0f, 0}), NW_OK);
    assert_int_equal(nw_model_add_row(m, s.ids[1], "missile", (const float[]){0, 4.0f}), NW_OK);
    assert_int_equal(nw_model_add_row(m, s.ids[0], "again", (const float[]){1, 1}), NW_ERR_INVAL);
    return m;
}

static nw_model_t *s_tiny_model(void)
{
    return s_tiny_model_named("tariff");
}

static void test_model_write_parse_round_trip(void **state)
{
    (void)state;
    nw_model_t *m = s_tiny_model(), *back = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(nw_model_write(m, f, "a test model\nsecond line"), NW_OK);
    fclose(f);
    assert_non_null(strstr(buf, "newswire-model 1\n# a test model\n# second line\n"));
    char err[256];
    assert_int_equal(nw_model_parse(buf, len, "m", &back, err, sizeof err), NW_OK);
    assert_int_equal(nw_model_topic_count(back), 2);
    assert_string_equal(nw_model_topic_name(back, 1), "defense");
    assert_true(nw_model_topic_bias(back, 0) == -0.5);
    assert_int_equal(nw_model_row_count(back), 2);
    long r = nw_model_row_of(back, nw_model_row_id(m, 1));
    assert_true(r >= 0);
    assert_string_equal(nw_model_row_name(back, (size_t)r), "missile");
    assert_true(nw_model_row_weights(back, (size_t)r)[1] == 4.0f);
    /* writing again gives the same bytes */
    char *buf2 = NULL;
    size_t len2 = 0;
    f = open_memstream(&buf2, &len2);
    assert_int_equal(nw_model_write(back, f, "a test model\nsecond line"), NW_OK);
    fclose(f);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    free(buf);
    free(buf2);
    nw_model_destroy(&back);
    nw_model_destroy(&m);
}

static void s_expect_error(const char *text, const char *want)
{
    nw_model_t *m = NULL;
    char err[256];
    assert_int_equal(nw_model_parse(text, strlen(text), "bad.model", &m, err, sizeof err),
                     NW_ERR_CONFIG);
    assert_null(m);
    if (strstr(err, want) == NULL)
        fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_model_errors_name_the_line(void **state)
{
    (void)state;
    s_expect_error("newswire-model 2\n", "bad.model:1: model version 2");
    s_expect_error("hello\n", "bad.model:1: not a newswire model");
    s_expect_error("newswire-model 1\ntopics 1\ntopic trade 0 0 1 0 1 2\nweights 2\n"
                   "5\t0:1\tx\n",
                   "'weights 2' but 1 weight lines");
    s_expect_error("newswire-model 1\ntopics 1\ntopic trade 0 0 1 0 1 2\nweights 1\n"
                   "5\t3:1\tx\n",
                   "bad.model:5:");
    s_expect_error("newswire-model 1\ntopics 1\ntopic Trade! 0 0 1 0 1 2\nweights 0\n",
                   "bad.model:3:");
}

static void s_alert(nw_alert_t *a, nw_alert_kind_t kind, const char *text)
{
    assert_int_equal(nw_alert_init(a), NW_OK);
    assert_int_equal(nw_alert_set(&a->text, text), NW_OK);
    a->kind = kind;
}

static void test_tagger_model_decides_rules_stay_hard(void **state)
{
    (void)state;
    nw_taxonomy_t *tax = NULL;
    char err[256];
    assert_int_equal(nw_taxonomy_parse(s_conf, strlen(s_conf), "t", &tax, err, sizeof err), NW_OK);
    nw_model_t *m = s_tiny_model();
    nw_alert_t a[3];
    /* one "tariff": the taxonomy alone (score 3 x 3 = 9 > 6 in the title) and the model agree */
    s_alert(&a[0], NW_KIND_HEADLINE, "Tariff news");
    s_alert(&a[1], NW_KIND_PARAGRAPH, "A tariff on steel.");
    s_alert(&a[2], NW_KIND_PARAGRAPH, "The weather was fine.");
    char **explain = NULL;
    assert_int_equal(nw_tagger_tag_model(tax, m, a, 3, &explain), NW_OK);
    assert_true(nw_alert_find_topic(&a[0], "trade") >= 0);
    assert_true(nw_alert_find_topic(&a[1], "trade") >= 0);
    assert_true(nw_alert_find_topic(&a[2], "trade") < 0);
    assert_non_null(strstr(explain[0], "\"topic\":\"trade\",\"tagged\":true,\"by\":\"model\""));
    assert_non_null(strstr(explain[0], "[\"tariff\","));
    for (size_t i = 0; i < 3; i++) {
        free(explain[i]);
        nw_alert_clear(&a[i]);
    }
    free(explain);
    /* the model alone would say defense for "missile", but require: troop~ is a hard rule */
    s_alert(&a[0], NW_KIND_HEADLINE, "Missile missile missile");
    assert_int_equal(nw_tagger_tag_model(tax, m, a, 1, NULL), NW_OK);
    assert_true(nw_alert_find_topic(&a[0], "defense") < 0);
    nw_alert_clear(&a[0]);
    s_alert(&a[0], NW_KIND_HEADLINE, "Missile and troops");
    assert_int_equal(nw_tagger_tag_model(tax, m, a, 1, NULL), NW_OK);
    assert_true(nw_alert_find_topic(&a[0], "defense") >= 0);
    nw_alert_clear(&a[0]);
    /* a veto is hard too */
    s_alert(&a[0], NW_KIND_HEADLINE, "Tariff talk in the trade winds");
    assert_int_equal(nw_tagger_tag_model(tax, m, a, 1, NULL), NW_OK);
    assert_true(nw_alert_find_topic(&a[0], "trade") < 0);
    nw_alert_clear(&a[0]);
    nw_model_destroy(&m);
    nw_taxonomy_destroy(&tax);
}

/* A model row's name is one string of its id (the smallest the training saw); the article
 * may reach the same id by another. --explain names the article's own words. */
static void test_explain_names_the_articles_own_words(void **state)
{
    (void)state;
    nw_taxonomy_t *tax = NULL;
    char err[256];
    assert_int_equal(nw_taxonomy_parse(s_conf, strlen(s_conf), "t", &tax, err, sizeof err), NW_OK);
    nw_model_t *m = s_tiny_model_named("another string");
    nw_alert_t a[2];
    s_alert(&a[0], NW_KIND_HEADLINE, "Tariff news");
    s_alert(&a[1], NW_KIND_PARAGRAPH, "A tariff on steel.");
    char **explain = NULL;
    assert_int_equal(nw_tagger_tag_model(tax, m, a, 2, &explain), NW_OK);
    for (size_t i = 0; i < 2; i++) {
        if (!strstr(explain[i], "[\"tariff\",") || strstr(explain[i], "another string"))
            fail_msg("explanation %zu does not name the article's word: %s", i, explain[i]);
        free(explain[i]);
        nw_alert_clear(&a[i]);
    }
    free(explain);
    nw_model_destroy(&m);
    nw_taxonomy_destroy(&tax);
}

static void test_default_model_loads_with_the_default_taxonomy(void **state)
{
    (void)state;
    nw_model_t *m = NULL;
    nw_taxonomy_t *tax = NULL;
    assert_int_equal(nw_model_default(&m), NW_OK);
    assert_int_equal(nw_taxonomy_default(&tax), NW_OK);
    char missing[256];
    assert_int_equal(nw_model_unmatched(m, tax, missing, sizeof missing), 0);
    assert_true(nw_model_taxonomy_features(m));
    static const char *const want[] = {"trade",      "energy",        "economy",  "markets",
                                       "business",   "entertainment", "politics", "sport",
                                       "technology", "tariffs",       "defense",  "diplomacy"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (nw_model_topic_find(m, want[i]) < 0)
            fail_msg("the built-in model has no topic '%s'", want[i]);
    }
    assert_true(nw_model_row_count(m) > 1000);
    nw_model_destroy(&m);
    nw_taxonomy_destroy(&tax);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_tokens_and_bigrams),
        cmocka_unit_test(test_docvec_blocks_have_unit_and_half_length),
        cmocka_unit_test(test_model_write_parse_round_trip),
        cmocka_unit_test(test_model_errors_name_the_line),
        cmocka_unit_test(test_tagger_model_decides_rules_stay_hard),
        cmocka_unit_test(test_explain_names_the_articles_own_words),
        cmocka_unit_test(test_default_model_loads_with_the_default_taxonomy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
