/* Tests of nw_train on a small corpus written here: a model trained with topics in
 * worker processes is byte for byte the one trained in one process, words of one story
 * only stay out of it under --min-df 2, cross-validation scores what it should, and
 * exclusive groups hold in the evaluation. */
#include "nw_corpus.h"
#include "nw_error.h"
#include "nw_model.h"
#include "nw_taxonomy.h"
#include "nw_evaluate.h"
#include "nw_features.h"
#include "nw_train.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define S_DOCS 60

static const char s_conf[] = "topic: sport\n"
                             "exclusive: section\n"
                             "threshold: 4\n"
                             "4: match~, goal~, league~\n"
                             "topic: technology\n"
                             "exclusive: section\n"
                             "threshold: 4\n"
                             "4: software, chip~, computer~\n";

/* Words that make a story of each kind, and words any story may have. */
static const char *const s_sport[] = {"match",   "goal",   "league", "striker", "coach",
                                      "stadium", "season", "fans",   "keeper",  "cup"};
static const char *const s_tech[] = {"software", "chip",   "computer", "network", "startup",
                                     "laptop",   "server", "code",     "phone",   "data"};
static const char *const s_common[] = {"said", "on", "monday", "the", "new", "plans", "week"};

typedef struct {
    char dir[64];
    nw_taxonomy_t *tax;
    nw_corpus_t corpus;
} s_fixture_t;

/* Document i: even ones sport, odd ones technology; every seventh borrows words of the
 * other kind, so the classes are not trivially apart. Each has one word of its own,
 * soloNNN. */
static void s_write_doc(const char *dir, size_t i, FILE *labels)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%03zu.txt", dir, i);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    const char *const *own = i % 2 ? s_tech : s_sport;
    const char *const *other = i % 2 ? s_sport : s_tech;
    fprintf(f, "The %s and the %s\n\n", own[i % 10], own[(i + 3) % 10]);
    for (size_t k = 0; k < 12; k++)
        fprintf(f, "%s %s ", own[(i * 7 + k * 3) % 10], s_common[(i + k) % 7]);
    if (i % 7 == 0)
        fprintf(f, "%s %s ", other[i % 10], other[(i + 1) % 10]);
    fprintf(f, "solo%03zu", i);
    fprintf(f, ".\n");
    assert_int_equal(fclose(f), 0);
    fprintf(labels, "%03zu.txt\t%s\n", i, i % 2 ? "technology" : "sport");
}

static int s_setup(void **state)
{
    static s_fixture_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.dir, sizeof f.dir, "/tmp/nw_test_train_XXXXXX");
    if (!mkdtemp(f.dir))
        return -1;
    char labels[128], err[256];
    snprintf(labels, sizeof labels, "%s/labels.tsv", f.dir);
    FILE *l = fopen(labels, "w");
    if (!l)
        return -1;
    fprintf(l, "path\tcategory\n");
    for (size_t i = 0; i < S_DOCS; i++)
        s_write_doc(f.dir, i, l);
    fclose(l);
    if (nw_taxonomy_parse(s_conf, sizeof s_conf - 1, "t.conf", &f.tax, err, sizeof err) != NW_OK ||
        nw_corpus_init(&f.corpus, f.tax) != NW_OK ||
        nw_corpus_add(&f.corpus, labels, f.dir, NULL, 0, false, err, sizeof err) != NW_OK) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    *state = &f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    nw_corpus_free(&f->corpus);
    nw_taxonomy_destroy(&f->tax);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    return system(cmd) == 0 ? 0 : -1;
}

static nw_train_opts_t s_opts(size_t workers)
{
    return (nw_train_opts_t){.folds = 3,
                             .taxonomy_features = true,
                             .rules = true,
                             .idf = true,
                             .min_df = 2,
                             .prune = 0.0,
                             .max_per_topic = 100000,
                             .workers = workers};
}

/* The model file's text, trained with the given number of workers. */
static char *s_model_text(const nw_corpus_t *c, size_t workers)
{
    nw_train_opts_t o = s_opts(workers);
    nw_model_t *m = NULL;
    char err[256] = "";
    int rc = nw_train_model(c, &o, NULL, &m, err, sizeof err);
    if (rc != NW_OK)
        fail_msg("nw_train_model with %zu workers: %s (%s)", workers, nw_strerror(rc), err);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(nw_model_write(m, f, "test"), NW_OK);
    assert_int_equal(fclose(f), 0);
    nw_model_destroy(&m);
    return text;
}

static void test_train_workers_give_the_same_model(void **state)
{
    s_fixture_t *f = *state;
    char *one = s_model_text(&f->corpus, 1);
    char *two = s_model_text(&f->corpus, 2);
    assert_non_null(strstr(one, "topic sport "));
    assert_non_null(strstr(one, "topic technology "));
    assert_string_equal(one, two);
    free(one);
    free(two);
}

/* How many documents' own words (soloNNN) have a row in a model trained with min_df. */
static size_t s_solo_rows(const nw_corpus_t *c, size_t min_df)
{
    nw_train_opts_t o = s_opts(1);
    o.min_df = min_df;
    nw_model_t *m = NULL;
    char err[256] = "";
    int rc = nw_train_model(c, &o, NULL, &m, err, sizeof err);
    if (rc != NW_OK)
        fail_msg("nw_train_model with min_df %zu: %s (%s)", min_df, nw_strerror(rc), err);
    size_t rows = 0;
    for (size_t i = 0; i < S_DOCS; i++) {
        char word[16];
        uint32_t ids[4];
        size_t tokens;
        snprintf(word, sizeof word, "solo%03zu", i);
        assert_int_equal(nw_features_ids(word, strlen(word), ids, &tokens), 1);
        rows += nw_model_row_of(m, ids[0]) >= 0;
    }
    nw_model_destroy(&m);
    return rows;
}

static void test_train_min_df_leaves_out_one_story_words(void **state)
{
    s_fixture_t *f = *state;
    size_t kept = s_solo_rows(&f->corpus, 1);
    if (kept == 0)
        fail_msg("min_df 1: no story's own word has a weight, so min_df 2 proves nothing");
    assert_int_equal(s_solo_rows(&f->corpus, 2), 0);
}

static void test_train_topic_without_negatives_is_named(void **state)
{
    s_fixture_t *f = *state;
    /* Every document labelled sport: technology has no positive, sport no negative. */
    int8_t *saved = malloc(S_DOCS * 2);
    assert_non_null(saved);
    for (size_t i = 0; i < f->corpus.n_docs; i++) {
        memcpy(&saved[i * 2], f->corpus.docs[i].label, 2);
        f->corpus.docs[i].label[0] = 1;
    }
    for (size_t workers = 1; workers <= 2; workers++) {
        nw_train_opts_t o = s_opts(workers);
        nw_model_t *m = NULL;
        char err[256] = "";
        assert_int_equal(nw_train_model(&f->corpus, &o, NULL, &m, err, sizeof err), NW_ERR_INVAL);
        assert_null(m);
        if (!strstr(err, "topic 'sport'"))
            fail_msg("error '%s' does not name the topic", err);
    }
    for (size_t i = 0; i < f->corpus.n_docs; i++)
        memcpy(f->corpus.docs[i].label, &saved[i * 2], 2);
    free(saved);
}

/* The evaluation table and out-of-fold topics with the given number of workers. */
static void s_evaluate(const nw_corpus_t *c, size_t workers, char **table, char **oof)
{
    nw_train_opts_t o = s_opts(workers);
    o.idf = false; /* a third of the trainings: the idf path is the model tests' */
    size_t len = 0, oof_len = 0;
    FILE *out = open_memstream(table, &len), *oof_f = open_memstream(oof, &oof_len);
    assert_true(out && oof_f);
    char err[256] = "";
    int rc = nw_evaluate(c, &o, 3, out, oof_f, err, sizeof err);
    if (rc != NW_OK)
        fail_msg("nw_evaluate with %zu workers: %s", workers, err);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(fclose(oof_f), 0);
}

static void test_train_evaluate_scores_each_topic(void **state)
{
    s_fixture_t *f = *state;
    char *text = NULL, *oof = NULL, *text2 = NULL, *oof2 = NULL;
    s_evaluate(&f->corpus, 1, &text, &oof);
    s_evaluate(&f->corpus, 2, &text2, &oof2);
    assert_string_equal(text, text2);
    assert_string_equal(oof, oof2);
    /* Two distinct vocabularies: the combination finds nearly every story. */
    for (size_t t = 0; t < 2; t++) {
        char row[64];
        snprintf(row, sizeof row, "| %s | %d | %d |", t ? "technology" : "sport", S_DOCS,
                 S_DOCS / 2);
        const char *r = strstr(text, row);
        if (!r)
            fail_msg("no row '%s' in:\n%s", row, text);
        double p[3], rc[3], f1[3];
        assert_int_equal(sscanf(r + strlen(row), " %lf %lf %lf | %lf %lf %lf | %lf %lf %lf", &p[0],
                                &rc[0], &f1[0], &p[1], &rc[1], &f1[1], &p[2], &rc[2], &f1[2]),
                         9);
        if (f1[2] < 0.9)
            fail_msg("combination F1 %.3f for row '%s'", f1[2], row);
    }
    /* The group holds: no story is both. */
    assert_null(strstr(oof, "sport,technology"));
    free(text);
    free(oof);
    free(text2);
    free(oof2);
    /* More folds than it can keep choices for: refused, named. */
    nw_train_opts_t o = s_opts(1);
    size_t len = 0;
    char err[256] = "";
    FILE *out = open_memstream(&text, &len);
    assert_int_equal(nw_evaluate(&f->corpus, &o, 21, out, NULL, err, sizeof err), NW_ERR_INVAL);
    fclose(out);
    free(text);
    assert_non_null(strstr(err, "21"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_train_workers_give_the_same_model, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_train_min_df_leaves_out_one_story_words, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_train_topic_without_negatives_is_named, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_train_evaluate_scores_each_topic, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
