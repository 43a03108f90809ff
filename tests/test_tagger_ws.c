/* The tagger's fast paths give exactly the results of the plain ones: a workspace kept from
 * article to article tags like a fresh one, the model's margins equal the sum over its rows
 * in feature order, and a vector of many features is sorted and distinct. */
#include "nw_alert.h"
#include "nw_docvec.h"
#include "nw_error.h"
#include "nw_model.h"
#include "nw_tagger.h"
#include "nw_taxonomy.h"

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
    nw_taxonomy_t *tax;
    nw_model_t *model;
} s_fixture_t;

static int s_setup(void **state)
{
    static s_fixture_t f;
    memset(&f, 0, sizeof f);
    if (nw_taxonomy_default(&f.tax) != NW_OK || nw_model_default(&f.model) != NW_OK ||
        nw_model_bind(f.model, f.tax) != NW_OK)
        return -1;
    *state = &f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    nw_model_destroy(&f->model);
    nw_taxonomy_destroy(&f->tax);
    return 0;
}

/* Example articles (our own text): a headline, then paragraphs separated by '|'. */
static const char *const s_articles[] = {
    "Tariffs on steel imports rise|The government raised import duties on steel and "
    "aluminium, and the trade minister said quotas on cars would follow.|Exporters warned "
    "of retaliation; the central bank held interest rates.",
    "Striker scores twice as United win the cup|The match was decided in extra time.",
    "Navy deploys frigates after missile test|The defence ministry said the fleet would "
    "patrol the strait.|Diplomats met in Geneva to discuss a ceasefire.|Oil prices rose on "
    "the news, and shares of refiners fell.|The film festival opened on Friday.",
    "Quarterly profit up|Net income rose to 12 mln dlrs from 9 mln dlrs.",
    "",
};

/* Splits article a into fresh alerts; returns how many. */
static size_t s_alerts(const char *a, nw_alert_t *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = a; n < cap;) {
        size_t len = strcspn(p, "|");
        char *text = strndup(p, len);
        assert_non_null(text);
        nw_alert_init(&out[n]);
        nw_alert_set(&out[n].text, text);
        free(text);
        out[n].kind = n == 0 ? NW_KIND_HEADLINE : NW_KIND_PARAGRAPH;
        out[n].index = (uint32_t)n;
        n++;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    return n;
}

static void s_free_alerts(nw_alert_t *a, size_t n, char **explain)
{
    for (size_t i = 0; i < n; i++) {
        nw_alert_clear(&a[i]);
        if (explain)
            free(explain[i]);
    }
    free(explain);
}

/* Tags every example article with one workspace, with and without the model, twice over
 * (the workspace then holds the memory of bigger articles), and compares topics,
 * priorities and explanations with a fresh tagging of each. */
static void test_workspace_tags_like_fresh(void **state)
{
    s_fixture_t *f = *state;
    nw_tagger_ws_t *ws = NULL;
    assert_int_equal(nw_tagger_ws_new(&ws), NW_OK);
    size_t count = sizeof s_articles / sizeof s_articles[0];
    for (size_t round = 0; round < 2 * 2 * count; round++) {
        const char *art = s_articles[round % count];
        const nw_model_t *model = (round / count) % 2 ? NULL : f->model;
        nw_alert_t a[8], b[8];
        size_t n = s_alerts(art, a, 8);
        assert_int_equal(s_alerts(art, b, 8), n);
        char **ea = NULL, **eb = NULL;
        assert_int_equal(nw_tagger_tag_ws(ws, f->tax, model, a, n, &ea), NW_OK);
        assert_int_equal(nw_tagger_tag_model(f->tax, model, b, n, &eb), NW_OK);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(a[i].n_topics, b[i].n_topics);
            for (size_t t = 0; t < a[i].n_topics; t++)
                assert_string_equal(a[i].topics[t].name, b[i].topics[t].name);
            assert_int_equal(a[i].priority, b[i].priority);
            assert_string_equal(ea[i], eb[i]);
        }
        s_free_alerts(a, n, ea);
        s_free_alerts(b, n, eb);
    }
    nw_tagger_ws_destroy(&ws);
    nw_tagger_ws_destroy(&ws); /* safe twice */
}

/* A long text of many distinct words: its vector is sorted and distinct (the large-input
 * sort), and the model's margins are exactly the sums over its rows in feature order. */
static void test_many_features_sorted_and_margins_exact(void **state)
{
    s_fixture_t *f = *state;
    enum { S_WORDS = 12000 };
    char *text = malloc(S_WORDS * 12);
    assert_non_null(text);
    size_t len = 0;
    for (unsigned i = 0; i < S_WORDS; i++) {
        static const char *const common[] = {"tariff", "trade", "the", "missile", "shares"};
        if (i % 7 == 0)
            len += (size_t)sprintf(text + len, "%s ", common[i % 5]);
        else
            len += (size_t)sprintf(text + len, "w%c%c%c%u ", 'a' + i % 26, 'a' + i / 26 % 26,
                                   'a' + i / 676 % 26, i);
    }
    nw_segment_t seg[2] = {{.text = "Trade tariffs", .len = 13, .pos = NW_POS_TITLE},
                           {.text = text, .len = len, .pos = NW_POS_LEAD}};
    nw_docvec_t v = {0};
    assert_int_equal(nw_docvec_build(&v, f->tax, seg, 2, true, NULL, NULL), NW_OK);
    assert_true(v.n > 8192);
    for (size_t i = 1; i < v.n; i++)
        assert_true(v.feat[i - 1].id < v.feat[i].id);
    size_t nt = nw_model_topic_count(f->model);
    double *margin = calloc(nt, sizeof(double)), *want = calloc(nt, sizeof(double));
    assert_non_null(margin);
    assert_non_null(want);
    nw_model_margins(f->model, v.feat, v.n, margin);
    for (size_t t = 0; t < nt; t++)
        want[t] = nw_model_topic_bias(f->model, t);
    size_t rows = 0;
    for (size_t i = 0; i < v.n; i++) {
        long r = nw_model_row_of(f->model, v.feat[i].id);
        if (r < 0)
            continue;
        rows++;
        const float *w = nw_model_row_weights(f->model, (size_t)r);
        for (size_t t = 0; t < nt; t++)
            want[t] += (double)w[t] * v.feat[i].value;
    }
    assert_true(rows > 0);
    for (size_t t = 0; t < nt; t++)
        assert_true(margin[t] == want[t]);
    free(margin);
    free(want);
    nw_docvec_free(&v);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_workspace_tags_like_fresh, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_many_features_sorted_and_margins_exact, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
