/* Tests of nw_taxonomy: the file format, its errors, the built-in default. */
#include "nw_error.h"
#include "nw_features.h"
#include "nw_taxonomy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static int s_parse(const char *text, nw_taxonomy_t **tax, char *err, size_t errlen)
{
    return nw_taxonomy_parse(text, strlen(text), "t.conf", tax, err, errlen);
}

/* Asserts that text fails with NW_ERR_CONFIG and an error that starts with prefix. */
static void s_expect_error(const char *text, const char *prefix)
{
    nw_taxonomy_t *tax = NULL;
    char err[256];
    assert_int_equal(s_parse(text, &tax, err, sizeof(err)), NW_ERR_CONFIG);
    assert_null(tax);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("error '%s' does not start with '%s'", err, prefix);
}

typedef struct {
    uint32_t terms[16];
    size_t n;
} s_hits_t;

static void s_on_hit(uint32_t term, void *ctx)
{
    s_hits_t *h = ctx;
    if (h->n < 16)
        h->terms[h->n++] = term;
}

static size_t s_hits(const nw_taxonomy_t *tax, const char *text)
{
    s_hits_t h = {0};
    return nw_taxonomy_scan(tax, text, strlen(text), s_on_hit, &h);
}

static void test_taxonomy_parses_topics_terms_and_codes(void **state)
{
    (void)state;
    const char *text = "# comment\n"
                       "spelling: defence defense\n"
                       "weight-title: 4\n"
                       "\n"
                       "topic: trade   # trailing comment\n"
                       "iptc: medtop:20000373\n"
                       "threshold: 5.5\n"
                       "3: trade deficit~, export~\n"
                       "-2: trade union~\n"
                       "topic: defense\n"
                       "2: defence\n"
                       "veto: defence lawyer~\n";
    nw_taxonomy_t *tax = NULL;
    char err[256];
    assert_int_equal(s_parse(text, &tax, err, sizeof(err)), NW_OK);
    assert_int_equal(nw_taxonomy_topic_count(tax), 2);
    assert_string_equal(nw_taxonomy_topic_name(tax, 0), "trade");
    assert_string_equal(nw_taxonomy_topic_iptc(tax, 0), "medtop:20000373");
    assert_string_equal(nw_taxonomy_topic_iptc(tax, 1), "");
    assert_true(nw_taxonomy_topic_threshold(tax, 0) == 5.5);
    assert_true(nw_taxonomy_position_weight(tax, NW_POS_TITLE) == 4.0);
    assert_int_equal(nw_taxonomy_topic_find(tax, "defense"), 1);
    assert_int_equal(nw_taxonomy_term_count(tax), 5);
    const nw_term_t *veto = nw_taxonomy_term(tax, 4);
    assert_int_equal(veto->kind, NW_TERM_VETO);
    assert_int_equal(veto->topic, 1);
    assert_int_equal(veto->line, 12);
    assert_true(nw_taxonomy_term(tax, 2)->weight == -2.0);
    /* each term's hits are their own model feature, named as nw_docvec names them (all
     * terms once shared id 0: the model saw one "some term hit" feature) */
    assert_int_equal(nw_taxonomy_term(tax, 0)->feature,
                     nw_features_named_id("T:trade:trade deficit~"));
    assert_int_equal(nw_taxonomy_term(tax, 3)->feature, nw_features_named_id("T:defense:defence"));
    for (size_t i = 0; i < 5; i++)
        for (size_t j = i + 1; j < 5; j++)
            assert_int_not_equal(nw_taxonomy_term(tax, i)->feature,
                                 nw_taxonomy_term(tax, j)->feature);
    nw_taxonomy_destroy(&tax);
    nw_taxonomy_destroy(&tax);
}

static void test_taxonomy_min_terms_and_require(void **state)
{
    (void)state;
    const char *text = "topic: trade\n"
                       "min-terms: 3\n"
                       "3: trade deficit~, export~\n"
                       "require: tariff~, trade deficit\n"
                       "topic: defense\n"
                       "2: defence\n";
    nw_taxonomy_t *tax = NULL;
    char err[256];
    assert_int_equal(s_parse(text, &tax, err, sizeof(err)), NW_OK);
    assert_int_equal(nw_taxonomy_topic_min_terms(tax, 0), 3);
    assert_int_equal(nw_taxonomy_topic_min_terms(tax, 1), 1); /* the default */
    assert_int_equal(nw_taxonomy_topic_requires(tax, 0), 2);
    assert_int_equal(nw_taxonomy_topic_requires(tax, 1), 0);
    const nw_term_t *req = nw_taxonomy_term(tax, 2);
    assert_int_equal(req->kind, NW_TERM_REQUIRE);
    assert_int_equal(req->topic, 0);
    assert_true(req->weight == 0);
    assert_int_equal(req->line, 4);
    /* "trade deficit" is both a weighted term and a required one: two hits. */
    assert_int_equal(s_hits(tax, "the trade deficit and tariffs"), 3);
    nw_taxonomy_destroy(&tax);
    /* A topic with only require: terms has no positive term. */
    s_expect_error("topic: a\nrequire: x\n", "t.conf:1: topic 'a' has no term");
    s_expect_error("topic: a\n1: x\nmin-terms: 0\n", "t.conf:3: min-terms: '0' is not a whole");
    s_expect_error("topic: a\n1: x\nmin-terms: 2.5\n", "t.conf:3: min-terms: '2.5' is not a");
    s_expect_error("topic: a\n1: x\nrequire: x, , y\n", "t.conf:3: empty term");
}

static void test_taxonomy_inflections_and_spellings(void **state)
{
    (void)state;
    const char *text = "spelling: defence defense\n"
                       "topic: t\n"
                       "1: tariff~, duty~, price~, defence~ lawyer~, militar*\n";
    nw_taxonomy_t *tax = NULL;
    char err[256];
    assert_int_equal(s_parse(text, &tax, err, sizeof(err)), NW_OK);
    assert_int_equal(s_hits(tax, "tariff tariffs tariffed"), 3);
    assert_int_equal(s_hits(tax, "duty duties"), 2);
    assert_int_equal(s_hits(tax, "priced pricing prices"), 3);
    assert_int_equal(s_hits(tax, "Defense lawyers; defence lawyer"), 2);
    assert_int_equal(s_hits(tax, "military militarily militarised"), 3);
    assert_int_equal(s_hits(tax, "tariffication"), 0);
    nw_taxonomy_destroy(&tax);
}

static void test_taxonomy_errors_name_file_and_line(void **state)
{
    (void)state;
    s_expect_error("topic: a\n1: x\nnonsense line\n", "t.conf:3: expected 'key: value'");
    s_expect_error("\n\ntopic: Bad Name\n", "t.conf:3: 'Bad Name' is not a valid topic");
    s_expect_error("topic: a\n1: x\ntopic: a\n", "t.conf:3: topic 'a' is defined twice");
    s_expect_error("1: x\n", "t.conf:1: '1:' outside a topic");
    s_expect_error("topic: a\niptc: 20000373\n1: x\n", "t.conf:2: '20000373' is not an IPTC");
    s_expect_error("topic: a\nthreshold: -1\n1: x\n", "t.conf:2: threshold");
    s_expect_error("topic: a\n0: x\n", "t.conf:2: a term weight may not be 0");
    s_expect_error("topic: a\n1: x, , y\n", "t.conf:2: empty term");
    s_expect_error("topic: a\n1: mi*litary\n", "t.conf:2: 'mi*litary': '*' may only end");
    s_expect_error("topic: a\n1: caf\xc3\xa9\n", "t.conf:2: 'caf\xc3\xa9': terms are ASCII");
    s_expect_error("topic: a\n\n\nveto: x\n", "t.conf:1: topic 'a' has no term");
    s_expect_error("topic: a\n1: x\nspelling: a b\n", "t.conf:3: 'spelling:' must come before");
    s_expect_error("topic: general\n1: x\n", "t.conf:1: 'general' is reserved");
    s_expect_error("# nothing\n", "t.conf:1: no topic defined");
    s_expect_error("topic: a\n1: x\nfoo: bar\n", "t.conf:3: unknown directive 'foo'");
    s_expect_error("topic: a\n1: x\nexclusive: Big Group\n", "t.conf:3: exclusive: 'Big Group'");
}

static void test_taxonomy_load_reports_path(void **state)
{
    (void)state;
    nw_taxonomy_t *tax = NULL;
    char err[256];
    assert_int_equal(nw_taxonomy_load("/nonexistent/topics.conf", &tax, err, sizeof(err)),
                     NW_ERR_NOTFOUND);
    assert_non_null(strstr(err, "/nonexistent/topics.conf"));

    char path[] = "/tmp/nw_test_taxonomy_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *bad = "topic: a\n1: x\n\nthreshold: nope\n";
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    assert_int_equal(nw_taxonomy_load(path, &tax, err, sizeof(err)), NW_ERR_CONFIG);
    char want[128];
    snprintf(want, sizeof(want), "%s:4: threshold", path);
    assert_memory_equal(err, want, strlen(want));
    unlink(path);
}

static void test_taxonomy_default_loads(void **state)
{
    (void)state;
    nw_taxonomy_t *tax = NULL;
    assert_int_equal(nw_taxonomy_default(&tax), NW_OK);
    const char *required[] = {"tariffs",    "trade",   "defense", "diplomacy",
                              "economy",    "markets", "energy",  "politics",
                              "technology", "health",  "climate"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        int t = nw_taxonomy_topic_find(tax, required[i]);
        if (t < 0)
            fail_msg("default taxonomy lacks %s", required[i]);
        assert_true(strncmp(nw_taxonomy_topic_iptc(tax, (size_t)t), "medtop:", 7) == 0);
    }
    assert_string_equal(nw_taxonomy_topic_iptc(tax, (size_t)nw_taxonomy_topic_find(tax, "tariffs")),
                        "medtop:20000384");
    assert_true(nw_taxonomy_term_count(tax) > 200);
    nw_taxonomy_destroy(&tax);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taxonomy_parses_topics_terms_and_codes),
        cmocka_unit_test(test_taxonomy_min_terms_and_require),
        cmocka_unit_test(test_taxonomy_inflections_and_spellings),
        cmocka_unit_test(test_taxonomy_errors_name_file_and_line),
        cmocka_unit_test(test_taxonomy_load_reports_path),
        cmocka_unit_test(test_taxonomy_default_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
