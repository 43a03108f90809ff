/* Tests for publisher/input/nw_html (with nw_html_rules and nw_html_meta): sniffing, metadata
 * from meta tags and JSON-LD, the body without boilerplate, and every bad page: no article,
 * an entity bomb, a page over the limit, truncated markup, binary bytes. The pages are our own
 * (tests/data/html and inline). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nw_buf.h"
#include "nw_error.h"
#include "nw_html.h"
#include "nw_html_rules.h"
#include "nw_utf8.h"

#define HARBOR_PAGE   NW_TEST_DATA_DIR "/html/harbor-steel.html"
#define NO_ARTICLE    NW_TEST_DATA_DIR "/html/no-article.html"
#define BODY_SENTENCE "ending a trade dispute that had raised import duties on both sides"

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

/* All block texts of the article joined by newlines (caller frees). */
static char *s_joined(const nw_article_t *a)
{
    size_t total = 1;
    for (size_t i = 0; i < a->n_blocks; i++)
        total += strlen(a->blocks[i].text) + 1;
    char *out = calloc(1, total);
    assert_non_null(out);
    for (size_t i = 0; i < a->n_blocks; i++) {
        strcat(out, a->blocks[i].text);
        strcat(out, "\n");
    }
    return out;
}

static int s_extract_str(const char *page, nw_article_t *a, char *err, size_t errlen)
{
    return nw_html_extract(page, strlen(page), NULL, a, err, errlen);
}

static void test_sniff_recognises_pages_by_their_markup(void **state)
{
    (void)state;
    static const char *const pages[] = {
        "<!DOCTYPE html><html><body><p>x</p></body></html>",
        "\xef\xbb\xbf  <!doctype HTML>\n<title>t</title>",
        "\n\n<html lang=en><p>text",
        "<!-- saved page -->\n<div>",
        "<div><p>One</p><p>Two</p><span>three</span></div>",
    };
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        assert_true(nw_html_sniff(pages[i], strlen(pages[i])));
    static const char *const not_pages[] = {
        "Harbor Nations Cut Steel Tariffs\n\nTwo harbor nations agreed <on> Tuesday.",
        "{\"headline\": \"<p>x</p>\"}",
        "<one> tag only, then prose",
        "<FRANKLIN FUND> SETS PAYOUT\n<ACME CORP> <BETA INC> <GAMMA LTD> <DELTA PLC> said...",
        "",
    };
    for (size_t i = 0; i < sizeof not_pages / sizeof not_pages[0]; i++)
        assert_false(nw_html_sniff(not_pages[i], strlen(not_pages[i])));
}

static void test_metadata_from_meta_tags_and_json_ld(void **state)
{
    (void)state;
    size_t len;
    char *page = s_slurp(HARBOR_PAGE, &len), err[256] = "";
    nw_article_t a;
    assert_int_equal(nw_html_extract(page, len, NULL, &a, err, sizeof err), NW_OK);
    assert_string_equal(a.title, "Harbor Nations Cut Steel Tariffs");
    assert_string_equal(a.author, "Dana Reyes, Omar Lind"); /* JSON-LD before meta author */
    assert_string_equal(a.url,
                        "https://ledger.example/2026/03/harbor-steel-tariffs"); /* canonical */
    assert_string_equal(a.section, "World");
    assert_string_equal(a.source, "The Harbor Ledger");
    assert_int_equal(a.article_time_ms, 1772717400000LL); /* 2026-03-05T13:30:00Z */
    assert_int_equal(strlen(a.id), 16);
    nw_article_clear(&a);
    free(page);
}

static void test_body_keeps_paragraphs_headings_and_lists(void **state)
{
    (void)state;
    size_t len;
    char *page = s_slurp(HARBOR_PAGE, &len);
    nw_article_t a;
    assert_int_equal(nw_html_extract(page, len, NULL, &a, NULL, 0), NW_OK);
    bool heading = false, bullet = false, first = false;
    for (size_t i = 0; i < a.n_blocks; i++) {
        const nw_block_t *b = &a.blocks[i];
        if (b->kind == NW_BLOCK_HEADING && strcmp(b->text, "What changes for importers") == 0)
            heading = true;
        if (b->kind == NW_BLOCK_BULLET && strcmp(b->text, "Tariffs on steel imports fall from 25% "
                                                          "to 10%.") == 0)
            bullet = true;
        if (b->kind == NW_BLOCK_PARAGRAPH && strstr(b->text, BODY_SENTENCE) != NULL)
            first = true;
    }
    assert_true(heading);
    assert_true(bullet);
    assert_true(first);
    char *all = s_joined(&a);
    assert_non_null(strstr(all, "asked for a review clause."));
    nw_article_clear(&a);
    free(all);
    free(page);
}

static void test_body_drops_page_chrome(void **state)
{
    (void)state;
    static const char *const chrome[] = {
        "cookies",                          /* cookie banner */
        "Business",                         /* navigation */
        "Share on",                         /* share bar */
        "Cranes unload",                    /* figure caption */
        "Advertisement",                    /* ad slot */
        "Port strike",                      /* related list */
        "First comment",                    /* comments */
        "Copyright",                        /* footer */
        "Do not publish",                   /* script */
        "display: none",                    /* style */
        "Harbor Nations Cut Steel Tariffs", /* the title is the headline, not a block */
    };
    size_t len;
    char *page = s_slurp(HARBOR_PAGE, &len);
    nw_article_t a;
    assert_int_equal(nw_html_extract(page, len, NULL, &a, NULL, 0), NW_OK);
    char *all = s_joined(&a);
    for (size_t i = 0; i < sizeof chrome / sizeof chrome[0]; i++) {
        if (strstr(all, chrome[i]) != NULL)
            fail_msg("'%s' leaked into the body:\n%s", chrome[i], all);
    }
    nw_article_clear(&a);
    free(all);
    free(page);
}

static void test_page_without_an_article_is_refused_with_a_reason(void **state)
{
    (void)state;
    size_t len;
    char *page = s_slurp(NO_ARTICLE, &len), err[512] = "";
    nw_article_t a;
    assert_int_equal(nw_html_extract(page, len, NULL, &a, err, sizeof err),
                     NW_ERR_ARTICLE_BOILERPLATE);
    assert_non_null(strstr(err, "no article in the page"));
    assert_non_null(strstr(err, "Index | The Harbor Ledger"));
    assert_null(a.title); /* owns nothing */
    free(page);
}

static void test_entity_bomb_is_not_expanded(void **state)
{
    (void)state;
    nw_buf_t page = {0};
    assert_int_equal(nw_buf_append_str(&page, "<?xml version=\"1.0\"?>\n<!DOCTYPE html [\n"
                                              "<!ENTITY lol \"lol\">\n"),
                     NW_OK);
    for (int i = 1; i <= 9; i++) {
        assert_int_equal(nw_buf_printf(&page, "<!ENTITY lol%d \"", i), NW_OK);
        for (int k = 0; k < 10; k++)
            assert_int_equal(i == 1 ? nw_buf_append_str(&page, "&lol;")
                                    : nw_buf_printf(&page, "&lol%d;", i - 1),
                             NW_OK);
        assert_int_equal(nw_buf_append_str(&page, "\">\n"), NW_OK);
    }
    assert_int_equal(
        nw_buf_append_str(&page, "]>\n<html><head><title>Entity bomb</title></head><body><article>"
                                 "<p>&lol9;</p><p>A page whose document type declares a billion "
                                 "laughs must be read without expanding a single one of them, "
                                 "and without running out of memory.</p></article></body></html>"),
        NW_OK);
    nw_article_t a;
    char err[256] = "";
    assert_int_equal(nw_html_extract(page.data, page.len, NULL, &a, err, sizeof err), NW_ERR_INVAL);
    assert_non_null(strstr(err, "DOCTYPE declares entities"));
    assert_null(a.title);
    nw_article_t frag = {0};
    assert_int_equal(nw_html_body(page.data, page.len, NULL, &frag, err, sizeof err), NW_ERR_INVAL);
    assert_int_equal(frag.n_blocks, 0);
    /* Without the declarations the references are unknown entities: text, never expanded;
     * a quoted '[' in an ordinary DOCTYPE is no subset. */
    static const char refs[] =
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict [en]//EN\" \"x.dtd\"><html><body>"
        "<article><p>&lol9;&lol9;</p><p>A page that refers to entities nobody declared is read "
        "as it stands, the references kept as the plain text they are.</p></article></body>"
        "</html>";
    assert_int_equal(nw_html_extract(refs, strlen(refs), NULL, &a, err, sizeof err), NW_OK);
    char *all = s_joined(&a);
    assert_null(strstr(all, "lollol"));
    assert_non_null(strstr(all, "&lol9;"));
    nw_article_clear(&a);
    free(all);
    nw_buf_free(&page);
}

static void test_page_over_the_limit_is_refused_before_parsing(void **state)
{
    (void)state;
    size_t len = NW_HTML_MAX_INPUT + 1;
    char *page = malloc(len + 1);
    assert_non_null(page);
    memset(page, 'a', len);
    memcpy(page, "<html><body><p>", 15);
    page[len] = '\0';
    nw_article_t a;
    char err[256] = "";
    assert_int_equal(nw_html_extract(page, len, NULL, &a, err, sizeof err), NW_ERR_TOOBIG);
    assert_non_null(strstr(err, "over the extractor's limit"));
    free(page);
}

static void test_truncated_markup_is_read_as_far_as_it_goes(void **state)
{
    (void)state;
    static const char page[] =
        "<!DOCTYPE html><html><head><title>Cut short</title></head><body><article><h1>Cut short"
        "</h1><p>The first paragraph of this page arrived whole, with a full stop and all, before "
        "the connection dropped.<p>The second one was cut off in the middle of a <a href=\"/x";
    nw_article_t a;
    char err[256] = "";
    assert_int_equal(s_extract_str(page, &a, err, sizeof err), NW_OK);
    assert_string_equal(a.title, "Cut short");
    assert_non_null(strstr(a.blocks[0].text, "arrived whole"));
    nw_article_clear(&a);
}

static void test_binary_and_empty_input_fail_cleanly(void **state)
{
    (void)state;
    char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)((i * 7919u) >> 3);
    nw_article_t a;
    char err[256] = "";
    int rc = nw_html_extract(junk, sizeof junk, NULL, &a, err, sizeof err);
    assert_true(rc == NW_ERR_ARTICLE_BOILERPLATE || rc == NW_ERR_ARTICLE_EMPTY);
    assert_true(err[0] != '\0');
    assert_int_equal(nw_html_extract("  \n", 3, NULL, &a, err, sizeof err), NW_ERR_ARTICLE_EMPTY);
    assert_int_equal(nw_html_extract(NULL, 0, NULL, &a, NULL, 0), NW_ERR_ARTICLE_EMPTY);
    /* Blanks that are not NUL-terminated (found by fuzz_html: the blank check read one byte
     * past them, which AddressSanitizer reports in the sanitizer run). */
    char *blank = malloc(2);
    assert_non_null(blank);
    memcpy(blank, " \n", 2);
    assert_int_equal(nw_html_extract(blank, 2, NULL, &a, err, sizeof err), NW_ERR_ARTICLE_EMPTY);
    free(blank);
}

static void test_bad_bytes_for_the_charset_write_nothing_to_stderr(void **state)
{
    (void)state;
    static const char page[] = "<html><head><meta charset=\"shift_jis\"></head><body><p>"
                               "\xff\xfe\x80\x81 text</p></body></html>";
    FILE *capture = tmpfile();
    assert_non_null(capture);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
    nw_article_t a;
    char err[256] = "";
    int rc = s_extract_str(page, &a, err, sizeof err);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    assert_int_not_equal(rc, NW_OK); /* nothing readable: no article */
    assert_true(err[0] != '\0');
    assert_int_equal(ftell(capture), 0); /* libxml2 said nothing on its own */
    fclose(capture);
}

static void test_bytes_outside_the_declared_charset_are_read_as_latin1(void **state)
{
    (void)state;
    /* 0xff is no Shift_JIS byte: libxml2 would stop there and find no article. */
    static const char page[] =
        "<html><head><meta charset=\"shift_jis\"><title>Mislabelled</title></head><body><p>The "
        "caf\xe9 on the harbor front reopened on Monday \xff after the storms, and the owners "
        "said the season had started well despite the week of closures.</p></body></html>";
    nw_article_t a;
    char err[256] = "";
    assert_int_equal(s_extract_str(page, &a, err, sizeof err), NW_OK);
    assert_string_equal(a.title, "Mislabelled");
    assert_non_null(strstr(a.blocks[0].text, "caf\xc3\xa9 on the harbor")); /* Latin-1 */
    assert_non_null(strstr(a.blocks[0].text, "despite the week of closures."));
    nw_article_clear(&a);
}

static void test_json_ld_article_body_stands_in_for_a_script_page(void **state)
{
    (void)state;
    static const char page[] =
        "<html><head><title>App shell</title><script type=\"application/ld+json\">"
        "{\"@type\": \"NewsArticle\", \"headline\": \"Ferry service resumes\", "
        "\"articleBody\": \"The ferry between the two harbors resumed service on Monday after a "
        "week of storms kept the boats in port.\\nOperators said timetables would be back to "
        "normal by the weekend, with extra crossings on Saturday for the backlog of freight.\"}"
        "</script></head><body><div id=\"app\">Loading...</div></body></html>";
    nw_article_t a;
    char err[256] = "";
    assert_int_equal(s_extract_str(page, &a, err, sizeof err), NW_OK);
    assert_string_equal(a.title, "Ferry service resumes");
    assert_int_equal(a.n_blocks, 2);
    assert_non_null(strstr(a.blocks[1].text, "back to normal by the weekend"));
    nw_article_clear(&a);
}

static void test_json_ld_article_body_picks_its_container(void **state)
{
    (void)state;
    /* The side column has more, longer, comma-rich paragraphs than the story: scoring alone
     * would pick it. The JSON-LD articleBody (with a raw line break, as sites write it)
     * names the story's first and last words. */
    static const char page[] =
        "<html><head><script type=\"application/ld+json\">{\"@type\": \"NewsArticle\", "
        "\"headline\": \"Ferry service resumes\", \"articleBody\": \"The ferry between the "
        "two harbors resumed service on Monday after a week of storms kept every boat in port.\n"
        "Operators said timetables would be back to normal by the weekend, with extra crossings "
        "for freight.\"}</script></head>"
        "<body><div class=\"wrap\"><div class=\"col\"><p>The ferry between the two harbors "
        "resumed service on Monday after a week of storms kept every boat in port.</p><p>"
        "Operators said timetables would be back to normal by the weekend, with extra crossings "
        "for freight.</p></div></div><div class=\"other\"><div "
        "class=\"col2\"><p>Elsewhere, in other news, on other days, a long paragraph, with many "
        "commas, about something else, entirely, goes on, and on, and on, for a while.</p><p>And "
        "another one, with commas, too, and more, and more, and more, so it scores, high.</p><p>"
        "A third, of the same kind, with commas, to outweigh, the story, above, by far.</p></div>"
        "</div></body></html>";
    nw_article_t a;
    char err[256] = "";
    assert_int_equal(s_extract_str(page, &a, err, sizeof err), NW_OK);
    assert_int_equal(a.n_blocks, 2);
    assert_non_null(strstr(a.blocks[0].text, "resumed service on Monday"));
    assert_non_null(strstr(a.blocks[1].text, "extra crossings for freight."));
    nw_article_clear(&a);
}

static void test_rules_file_steers_the_extractor(void **state)
{
    (void)state;
    size_t len;
    char *page = s_slurp(HARBOR_PAGE, &len), err[256] = "";
    static const char custom[] = "# lists are never article text on this site\n"
                                 "drop tag ul\n";
    nw_html_rules_t *rules = NULL;
    assert_int_equal(
        nw_html_rules_parse(custom, strlen(custom), "custom.conf", &rules, err, sizeof err), NW_OK);
    assert_int_equal(nw_html_rules_count(rules), 1);
    nw_html_opts_t opts = {.rules = rules};
    nw_article_t a;
    assert_int_equal(nw_html_extract(page, len, &opts, &a, err, sizeof err), NW_OK);
    char *all = s_joined(&a);
    assert_non_null(strstr(all, BODY_SENTENCE));
    assert_null(strstr(all, "Tariffs on steel imports fall")); /* the built-in rules keep it */
    nw_article_clear(&a);
    free(all);
    nw_html_rules_destroy(&rules);
    free(page);
}

static void test_rules_errors_name_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want;
    } bad[] = {
        {"drop tag script\nremove tag nav\n", "x.conf:2: unknown action 'remove'"},
        {"drop element nav\n", "x.conf:1: unknown kind 'element'"},
        {"keep itemprop articleBody\n", "x.conf:1: keep applies to class and word rules only"},
        {"\n\ndrop class\n", "x.conf:3: rule 'drop class' has no pattern"},
        {"drop class share bar\n", "x.conf:1: unexpected 'bar'"},
        {"keep tag article\n", "x.conf:1: keep applies to class and word rules only"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nw_html_rules_t *rules = NULL;
        char err[256] = "";
        assert_int_equal(nw_html_rules_parse(bad[i].text, strlen(bad[i].text), "x.conf", &rules,
                                             err, sizeof err),
                         NW_ERR_CONFIG);
        assert_null(rules);
        if (strstr(err, bad[i].want) == NULL)
            fail_msg("got '%s', want '%s'", err, bad[i].want);
    }
    nw_html_rules_t *rules = NULL;
    char err[256] = "";
    assert_int_equal(nw_html_rules_load("/nonexistent/html.conf", &rules, err, sizeof err),
                     NW_ERR_NOTFOUND);
    assert_non_null(strstr(err, "/nonexistent/html.conf"));
}

static void test_rules_judge_words_and_keep(void **state)
{
    (void)state;
    nw_html_rules_t *rules = NULL;
    assert_int_equal(nw_html_rules_default(&rules), NW_OK);
    assert_true(nw_html_rules_count(rules) > 50);
    /* "ad" is a word rule: ad-slot yes, header and load no. */
    assert_true(nw_html_rules_judge(
                    rules, "div",
                    &(nw_html_attrs_t){.class_attr = "ad-slot", .id_attr = NULL, .role = NULL},
                    true)
                    .drop);
    assert_false(nw_html_rules_judge(
                     rules, "div",
                     &(nw_html_attrs_t){.class_attr = "header-load", .id_attr = NULL, .role = NULL},
                     true)
                     .drop);
    /* class rules match the id too, and keep spares content containers. */
    assert_true(nw_html_rules_judge(
                    rules, "section",
                    &(nw_html_attrs_t){.class_attr = NULL, .id_attr = "comments", .role = NULL},
                    true)
                    .drop);
    assert_false(
        nw_html_rules_judge(
            rules, "div",
            &(nw_html_attrs_t){.class_attr = "article-comments", .id_attr = NULL, .role = NULL},
            true)
            .drop);
    /* without class rules (the second try) only tag and role rules drop. */
    assert_false(nw_html_rules_judge(
                     rules, "section",
                     &(nw_html_attrs_t){.class_attr = NULL, .id_attr = "comments", .role = NULL},
                     false)
                     .drop);
    assert_true(nw_html_rules_judge(
                    rules, "nav",
                    &(nw_html_attrs_t){.class_attr = NULL, .id_attr = NULL, .role = NULL}, false)
                    .drop);
    assert_true(nw_html_rules_judge(
                    rules, "div",
                    &(nw_html_attrs_t){.class_attr = NULL, .id_attr = NULL, .role = "navigation"},
                    false)
                    .drop);
    assert_true(nw_html_rules_judge(
                    rules, "div",
                    &(nw_html_attrs_t){.class_attr = "story-text", .id_attr = NULL, .role = NULL},
                    true)
                    .weight > 0);
    assert_true(
        nw_html_rules_judge(rules, "div", &(nw_html_attrs_t){.itemprop = "articleBody"}, true)
            .weight > 0);
    assert_true(nw_html_rules_judge(
                    rules, "div",
                    &(nw_html_attrs_t){.class_attr = "share-tools", .id_attr = NULL, .role = NULL},
                    true)
                    .weight < 0);
    nw_html_rules_destroy(&rules);
    nw_html_rules_destroy(&rules); /* twice is safe */
}

static void test_untitled_page_and_long_heading(void **state)
{
    (void)state;
    nw_buf_t page = {0};
    assert_int_equal(nw_buf_append_str(&page, "<html><body><article><p>"), NW_OK);
    for (int i = 0; i < 40; i++) /* "Überseehäfen " repeated: two-byte characters throughout */
        assert_int_equal(nw_buf_append_str(&page, "\xc3\x9c"
                                                  "berseeh\xc3\xa4"
                                                  "fen "),
                         NW_OK);
    assert_int_equal(nw_buf_append_str(&page, "</p><h2>"), NW_OK);
    for (int i = 0; i < 30; i++)
        assert_int_equal(nw_buf_append_str(&page, "a heading that goes on "), NW_OK);
    assert_int_equal(nw_buf_append_str(&page, "</h2></article></body></html>"), NW_OK);
    nw_article_t a;
    char err[256] = "";
    assert_int_equal(nw_html_extract(page.data, page.len, NULL, &a, err, sizeof err), NW_OK);
    /* No title anywhere: the first body words, cut on a character boundary. */
    assert_true(strlen(a.title) > 0 && strlen(a.title) <= 120);
    assert_true(nw_utf8_valid(a.title, strlen(a.title)));
    assert_int_equal(strncmp(a.title,
                             "\xc3\x9c"
                             "berseeh",
                             9),
                     0);
    /* A 690-byte "heading" is prose in large type. */
    assert_int_equal(a.n_blocks, 2);
    assert_int_equal(a.blocks[1].kind, NW_BLOCK_PARAGRAPH);
    nw_article_clear(&a);
    nw_buf_free(&page);
}

static void test_installed_rules_file_is_the_built_in_one(void **state)
{
    (void)state;
    nw_html_rules_t *file = NULL, *builtin = NULL;
    char err[256] = "";
    assert_int_equal(
        nw_html_rules_load(NW_SOURCE_DIR "/publisher/input/html.conf", &file, err, sizeof err),
        NW_OK);
    assert_int_equal(nw_html_rules_default(&builtin), NW_OK);
    assert_int_equal(nw_html_rules_count(file), nw_html_rules_count(builtin));
    nw_html_rules_destroy(&file);
    nw_html_rules_destroy(&builtin);
}

static void test_parse_time_reads_iso_8601(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(nw_html_parse_time("2026-03-05", &ms), NW_OK);
    assert_int_equal(ms, 1772668800000LL);
    assert_int_equal(nw_html_parse_time("2026-03-05T13:30:00Z", &ms), NW_OK);
    assert_int_equal(ms, 1772717400000LL);
    assert_int_equal(nw_html_parse_time("2026-03-05T14:30:00.250+01:00", &ms), NW_OK);
    assert_int_equal(ms, 1772717400250LL);
    assert_int_equal(nw_html_parse_time("2026-03-05T08:30-0500", &ms), NW_OK);
    assert_int_equal(ms, 1772717400000LL);
    static const char *const bad[] = {"",
                                      "March 5, 2026",
                                      "2026-13-01",
                                      "2026-03-05T25:00",
                                      "2026-03-05T13:30:00Z trailing",
                                      "1969-12-31"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(nw_html_parse_time(bad[i], &ms), NW_ERR_INVAL);
}

static void test_body_path_reads_a_fragment_whole(void **state)
{
    (void)state;
    static const char frag[] = "<p>First line of the wire story.</p><figure><figcaption>A caption"
                               "</figcaption></figure><h2>Sub</h2><ul><li>One</li><li>Two</li>"
                               "</ul>";
    nw_article_t a = {0};
    char err[256] = "";
    assert_int_equal(nw_html_body(frag, strlen(frag), NULL, &a, err, sizeof err), NW_OK);
    assert_int_equal(a.n_blocks, 4);
    assert_int_equal(a.blocks[0].kind, NW_BLOCK_PARAGRAPH);
    assert_string_equal(a.blocks[0].text, "First line of the wire story.");
    assert_int_equal(a.blocks[1].kind, NW_BLOCK_HEADING);
    assert_int_equal(a.blocks[2].kind, NW_BLOCK_BULLET);
    assert_string_equal(a.blocks[3].text, "Two");
    nw_article_clear(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff_recognises_pages_by_their_markup),
        cmocka_unit_test(test_metadata_from_meta_tags_and_json_ld),
        cmocka_unit_test(test_body_keeps_paragraphs_headings_and_lists),
        cmocka_unit_test(test_body_drops_page_chrome),
        cmocka_unit_test(test_page_without_an_article_is_refused_with_a_reason),
        cmocka_unit_test(test_entity_bomb_is_not_expanded),
        cmocka_unit_test(test_page_over_the_limit_is_refused_before_parsing),
        cmocka_unit_test(test_truncated_markup_is_read_as_far_as_it_goes),
        cmocka_unit_test(test_binary_and_empty_input_fail_cleanly),
        cmocka_unit_test(test_bad_bytes_for_the_charset_write_nothing_to_stderr),
        cmocka_unit_test(test_bytes_outside_the_declared_charset_are_read_as_latin1),
        cmocka_unit_test(test_json_ld_article_body_stands_in_for_a_script_page),
        cmocka_unit_test(test_json_ld_article_body_picks_its_container),
        cmocka_unit_test(test_rules_file_steers_the_extractor),
        cmocka_unit_test(test_rules_errors_name_the_line),
        cmocka_unit_test(test_rules_judge_words_and_keep),
        cmocka_unit_test(test_untitled_page_and_long_heading),
        cmocka_unit_test(test_installed_rules_file_is_the_built_in_one),
        cmocka_unit_test(test_parse_time_reads_iso_8601),
        cmocka_unit_test(test_body_path_reads_a_fragment_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
