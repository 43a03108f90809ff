/* Tests for publisher/input/nw_ninjs and the ninjs path through nw_ingest: ninjs 1.x and 2.x
 * fields, body_html through the HTML body path, IPTC subjects to topics, and bad documents
 * (not JSON, not an object, no body). The documents are our own (tests/data/ninjs, inline). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nw_error.h"
#include "nw_ingest.h"
#include "nw_ninjs.h"

#define WIRE_1X NW_TEST_DATA_DIR "/ninjs/harbor-wire-1x.json"
#define WIRE_2X NW_TEST_DATA_DIR "/ninjs/harbor-wire-2x.json"

static char *s_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    char *data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    data[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return data;
}

static void test_ninjs_1x_fields(void **state)
{
    (void)state;
    size_t len;
    char *doc = s_slurp(WIRE_1X, &len), err[256] = "";
    nw_article_t a;
    assert_true(nw_ninjs_sniff(doc, len));
    assert_int_equal(nw_ninjs_read(doc, len, NULL, &a, err, sizeof err), NW_OK);
    assert_string_equal(a.title, "Harbor nations agree to lower duties on metal");
    assert_string_equal(a.author, "Dana Reyes"); /* "By " dropped */
    assert_string_equal(a.url, "urn:newsml:wire.example:20260305:harbor-steel");
    assert_int_equal(a.article_time_ms, 1772717400000LL); /* firstcreated 13:30Z */
    assert_int_equal(a.n_subjects, 2);
    assert_string_equal(a.subjects[0], "medtop:20000384");
    assert_string_equal(a.subjects[1], "sport");
    assert_int_equal(a.n_blocks, 2); /* one paragraph per non-blank line */
    assert_string_equal(
        a.blocks[1].text,
        "The cuts take effect in stages over the coming year, the ministries said.");
    assert_int_equal(strlen(a.id), 16);
    nw_article_clear(&a);
    free(doc);
}

static void test_ninjs_2x_fields_and_html_body(void **state)
{
    (void)state;
    size_t len;
    char *doc = s_slurp(WIRE_2X, &len), err[256] = "";
    nw_article_t a;
    assert_int_equal(nw_ninjs_read(doc, len, NULL, &a, err, sizeof err), NW_OK);
    assert_string_equal(a.title, "Harbor nations agree to lower duties on metal");
    assert_string_equal(a.author, "Dana Reyes, Omar Lind");
    assert_string_equal(a.url, "https://wire.example/2026/03/05/harbor-steel");
    assert_int_equal(a.article_time_ms, 1772715600000LL); /* versioncreated 15:00+02:00 */
    assert_int_equal(a.n_subjects, 1);
    assert_string_equal(a.subjects[0], "medtop:20000384"); /* from the mediatopic URI */
    /* paragraph, heading, paragraph, two bullets; the figure caption is gone */
    assert_int_equal(a.n_blocks, 5);
    assert_int_equal(a.blocks[1].kind, NW_BLOCK_HEADING);
    assert_string_equal(a.blocks[1].text, "Stages");
    assert_int_equal(a.blocks[3].kind, NW_BLOCK_BULLET);
    for (size_t i = 0; i < a.n_blocks; i++)
        assert_null(strstr(a.blocks[i].text, "Cranes"));
    nw_article_clear(&a);
    free(doc);
}

static void test_html_body_drops_a_byline_repeating_the_author(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"headline\": \"Ferry resumes\", \"byline\": \"Dana Reyes\", \"body_html\": "
        "\"<p>By Dana Reyes</p><p>The ferry resumed service on Monday.</p>\"}";
    nw_article_t a;
    char err[256] = "";
    assert_int_equal(nw_ninjs_read(doc, strlen(doc), NULL, &a, err, sizeof err), NW_OK);
    assert_int_equal(a.n_blocks, 1);
    assert_string_equal(a.blocks[0].text, "The ferry resumed service on Monday.");
    nw_article_clear(&a);
}

static void test_malformed_json_names_line_and_column(void **state)
{
    (void)state;
    static const char doc[] = "{\n  \"headline\": \"Cut short\",\n  \"body_text\": \"no end";
    nw_article_t a;
    char err[256] = "";
    assert_int_equal(nw_ninjs_read(doc, strlen(doc), NULL, &a, err, sizeof err), NW_ERR_INVAL);
    assert_non_null(strstr(err, "ninjs: not valid JSON at line 3"));
    assert_null(a.title);
    assert_false(nw_ninjs_sniff(doc, strlen(doc)));
}

static void test_not_an_object_and_duplicate_keys_are_refused(void **state)
{
    (void)state;
    nw_article_t a;
    char err[256] = "";
    assert_int_equal(nw_ninjs_read("[1, 2]", 6, NULL, &a, err, sizeof err), NW_ERR_INVAL);
    assert_non_null(strstr(err, "a JSON array, not an object"));
    static const char dup[] = "{\"headline\": \"a\", \"headline\": \"b\", \"body_text\": \"x\"}";
    assert_int_equal(nw_ninjs_read(dup, strlen(dup), NULL, &a, err, sizeof err), NW_ERR_INVAL);
    assert_non_null(strstr(err, "duplicate"));
}

static void test_entity_bomb_in_body_html_is_refused(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"headline\": \"Bomb\", \"body_html\": \"<!DOCTYPE html [<!ENTITY a "
        "\\\"aaaa\\\"><!ENTITY b \\\"&a;&a;&a;&a;\\\">]><p>&b;</p>\"}";
    nw_article_t a;
    char err[256] = "";
    assert_int_equal(nw_ninjs_read(doc, strlen(doc), NULL, &a, err, sizeof err), NW_ERR_INVAL);
    assert_non_null(strstr(err, "ninjs: body_html: the page's DOCTYPE declares entities"));
}

static void test_no_body_is_refused(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"uri\": \"urn:x\", \"type\": \"picture\", \"headline\": \"A photo\","
        " \"body_text\": \"  \\n \", \"body_html\": \"<figure></figure>\"}";
    nw_article_t a;
    char err[256] = "";
    assert_true(nw_ninjs_sniff(doc, strlen(doc)));
    assert_int_equal(nw_ninjs_read(doc, strlen(doc), NULL, &a, err, sizeof err),
                     NW_ERR_ARTICLE_EMPTY);
    assert_non_null(strstr(err, "ninjs: no body text"));
}

static void test_sniff_needs_a_ninjs_field(void **state)
{
    (void)state;
    static const char *const no[] = {"{\"name\": \"a config file\"}", "Plain text {headline}",
                                     "{\"uri\": \"only a uri\"}", ""};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(nw_ninjs_sniff(no[i], strlen(no[i])));
    static const char yes[] = "  {\"body_text\": \"x\"}";
    assert_true(nw_ninjs_sniff(yes, strlen(yes)));
}

/* Through nw_ingest: the subject code gives the headline the taxonomy's topic, though the
 * text alone would not (it never says "tariff"). */
static void test_ingest_maps_subjects_to_topics(void **state)
{
    (void)state;
    size_t len;
    char *doc = s_slurp(WIRE_1X, &len), err[512] = "";
    nw_taxonomy_t *tax = NULL;
    nw_boilerplate_t *rules = NULL;
    assert_int_equal(nw_ingest_load_taxonomy(NULL, &tax, err, sizeof err), NW_OK);
    assert_int_equal(nw_ingest_load_rules(NULL, &rules, err, sizeof err), NW_OK);
    nw_ingest_cfg_t cfg = {.rules = rules, .taxonomy = tax};
    nw_ingest_result_t res;
    /* A name without .json: recognised by its shape. */
    assert_int_equal(nw_ingest_bytes(&cfg, "wire-item", doc, len, 1000, &res, err, sizeof err),
                     NW_OK);
    assert_int_equal(res.n, 3);
    assert_int_equal(res.alerts[0].kind, NW_KIND_HEADLINE);
    assert_true(nw_alert_find_topic(&res.alerts[0], "tariffs") >= 0);
    assert_true(nw_alert_find_topic(&res.alerts[0], "general") < 0);
    assert_string_equal(res.alerts[0].author, "Dana Reyes");
    nw_ingest_result_clear(&res);
    /* A .json name that is not JSON fails with the reason and the name. */
    assert_int_equal(
        nw_ingest_bytes(&cfg, "broken.json", "{\"headline\":", 12, 1000, &res, err, sizeof err),
        NW_ERR_INVAL);
    assert_non_null(strstr(err, "broken.json: ninjs: not valid JSON"));
    nw_taxonomy_destroy(&tax);
    nw_boilerplate_destroy(&rules);
    free(doc);
}

/* Found by fuzz_article: the sniff read past the bytes it was given (a lone tab, no NUL after
 * it). Only len bytes may be read; ASan in the sanitize build checks it. */
static void test_sniff_reads_only_len_bytes(void **state)
{
    (void)state;
    char *tab = malloc(1);
    assert_non_null(tab);
    tab[0] = '\t';
    assert_false(nw_ninjs_sniff(tab, 1));
    free(tab);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff_reads_only_len_bytes),
        cmocka_unit_test(test_ninjs_1x_fields),
        cmocka_unit_test(test_ninjs_2x_fields_and_html_body),
        cmocka_unit_test(test_html_body_drops_a_byline_repeating_the_author),
        cmocka_unit_test(test_malformed_json_names_line_and_column),
        cmocka_unit_test(test_not_an_object_and_duplicate_keys_are_refused),
        cmocka_unit_test(test_entity_bomb_in_body_html_is_refused),
        cmocka_unit_test(test_no_body_is_refused),
        cmocka_unit_test(test_sniff_needs_a_ninjs_field),
        cmocka_unit_test(test_ingest_maps_subjects_to_topics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
