/* The built-in taxonomy and model through the whole pipeline (nw_ingest): the topics a
 * reader would give the headline and each key point of the seed article (skipped without
 * ../shared) and of the repository's example articles. */
#include "nw_alert.h"
#include "nw_error.h"
#include "nw_ingest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    nw_taxonomy_t *tax;
    nw_model_t *model;
    nw_boilerplate_t *rules;
    nw_ingest_result_t res;
} s_fixture_t;

static int s_setup(void **state)
{
    static s_fixture_t f;
    memset(&f, 0, sizeof f);
    char err[512];
    if (nw_ingest_load_taxonomy(NULL, &f.tax, err, sizeof err) != NW_OK ||
        nw_ingest_load_model(NULL, f.tax, &f.model, err, sizeof err) != NW_OK ||
        nw_ingest_load_rules(NULL, &f.rules, err, sizeof err) != NW_OK)
        return -1;
    *state = &f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    nw_ingest_result_clear(&f->res);
    nw_taxonomy_destroy(&f->tax);
    nw_model_destroy(&f->model);
    nw_boilerplate_destroy(&f->rules);
    return 0;
}

static void s_ingest(s_fixture_t *f, const char *path)
{
    nw_ingest_cfg_t cfg = {.rules = f->rules, .taxonomy = f->tax, .model = f->model};
    char err[512];
    nw_ingest_result_clear(&f->res);
    if (nw_ingest_file(&cfg, path, path, 0, &f->res, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
}

/* The alert whose text starts with prefix. */
static const nw_alert_t *s_find(const s_fixture_t *f, const char *prefix)
{
    for (size_t i = 0; i < f->res.n; i++) {
        if (strncmp(f->res.alerts[i].text, prefix, strlen(prefix)) == 0)
            return &f->res.alerts[i];
    }
    fail_msg("no alert starts with '%s'", prefix);
    return NULL;
}

/* Checks that the alert starting with prefix has every topic of want and none of unwanted
 * (comma-separated lists). */
static void s_expect(const s_fixture_t *f, const char *prefix, const char *want,
                     const char *unwanted)
{
    const nw_alert_t *a = s_find(f, prefix);
    char list[256];
    for (int pass = 0; pass < 2; pass++) {
        snprintf(list, sizeof list, "%s", pass ? unwanted : want);
        for (char *save = NULL, *t = strtok_r(list, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            bool has = nw_alert_find_topic(a, t) >= 0;
            if (has == (pass == 1)) {
                char got[512] = "";
                for (size_t k = 0; k < a->n_topics; k++)
                    snprintf(got + strlen(got), sizeof got - strlen(got), " %s", a->topics[k].name);
                fail_msg("'%s': %s '%s' (topics:%s)", prefix, pass ? "unwanted" : "missing", t,
                         got);
            }
        }
    }
}

static void test_seed_article_key_points(void **state)
{
    s_fixture_t *f = *state;
    const char *seed = NW_SHARED_DIR "/corpus/seed/tariffs-japan.txt";
    if (access(seed, R_OK) != 0) {
        print_message("SKIPPED: %s is absent (../shared is not there)\n", seed);
        skip();
    }
    s_ingest(f, seed);
    s_expect(f, "Trump, Bessent, Lutnick Meet Japan", "tariffs,trade,defense,diplomacy", "sport");
    s_expect(f, "Japan pushing for tariff relief", "tariffs", "defense,diplomacy");
    s_expect(f, "90-day global tariff pause", "tariffs", "defense");
    s_expect(f, "Japan faces 25% tariffs on autos", "tariffs", "defense,diplomacy");
    s_expect(f, "Japan to discuss military cost-sharing", "defense", "tariffs,trade");
    s_expect(f, "Goals of both countries remain unclear", "", "tariffs,defense,diplomacy");
    s_expect(f, "Treasury\xe2\x80\x99s Bessent and Commerce", "", "tariffs,defense");
    s_expect(f, "Japan\xe2\x80\x99s envoy seeks win-win deal", "diplomacy", "tariffs,defense");
    s_expect(f, "Defense Minister Gen Nakatani", "defense", "tariffs");
}

static void test_example_articles(void **state)
{
    s_fixture_t *f = *state;
    s_ingest(f, NW_EXAMPLES_DIR "/articles/01-tariffs-steel.txt");
    s_expect(f, "Commerce Department Widens Steel Tariffs", "tariffs,trade", "defense,sport");
    s_expect(f, "Steel tariffs of 25% extended", "tariffs", "defense");
    s_expect(f, "Carmakers warn of higher sticker prices", "", "tariffs,defense");
    s_ingest(f, NW_EXAMPLES_DIR "/articles/02-defense-budget.txt");
    s_expect(f, "NATO Allies Agree to Lift Defense Spending", "defense", "tariffs,sport");
    s_expect(f, "New money to go to air defense", "defense", "tariffs");
    s_expect(f, "Germany and Poland pledge", "", "tariffs,trade");
    s_ingest(f, NW_EXAMPLES_DIR "/articles/03-energy-oil.txt");
    s_expect(f, "Oil Jumps After OPEC+", "energy", "defense,tariffs,sport");
    s_expect(f, "Brent crude rises above", "energy", "defense");
    s_ingest(f, NW_EXAMPLES_DIR "/articles/04-offtopic-football.txt");
    for (size_t i = 0; i < f->res.n; i++) {
        const nw_alert_t *a = &f->res.alerts[i];
        assert_true(nw_alert_find_topic(a, "trade") < 0);
        assert_true(nw_alert_find_topic(a, "defense") < 0);
        assert_true(nw_alert_find_topic(a, "tariffs") < 0);
    }
    s_expect(f, "Pioneers Land Star Linebacker", "sport", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_article_key_points),
        cmocka_unit_test(test_example_articles),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
