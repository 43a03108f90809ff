/* Tests for publisher/input/nw_boilerplate: the rule file format, its errors, and the default
 * rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <regex.h>

#include "nw_boilerplate.h"
#include "nw_error.h"

static nw_bp_action_t s_classify(const nw_boilerplate_t *rules, const char *line)
{
    return nw_boilerplate_classify(rules, line, strlen(line));
}

static nw_boilerplate_t *s_parse_ok(const char *text)
{
    nw_boilerplate_t *rules = NULL;
    char err[256] = "";
    int rc = nw_boilerplate_parse(text, strlen(text), "test.conf", &rules, err, sizeof err);
    if (rc != NW_OK)
        print_error("unexpected parse error: %s\n", err);
    assert_int_equal(rc, NW_OK);
    assert_non_null(rules);
    return rules;
}

/* Parses text expecting NW_ERR_CONFIG and an error starting with want_prefix. */
static void s_parse_fails(const char *text, const char *want_prefix)
{
    nw_boilerplate_t *rules = (nw_boilerplate_t *)&rules; /* must be reset to NULL */
    char err[256] = "";
    assert_int_equal(nw_boilerplate_parse(text, strlen(text), "my.conf", &rules, err, sizeof err),
                     NW_ERR_CONFIG);
    assert_null(rules);
    if (strncmp(err, want_prefix, strlen(want_prefix)) != 0)
        print_error("error '%s' does not start with '%s'\n", err, want_prefix);
    assert_int_equal(strncmp(err, want_prefix, strlen(want_prefix)), 0);
    assert_null(strchr(err, '\n'));
}

/* Parsing text fails with an error on its first line that contains words. */
static void s_parse_fails_saying(const char *text, const char *words)
{
    nw_boilerplate_t *rules = NULL;
    char err[256] = "";
    assert_int_equal(nw_boilerplate_parse(text, strlen(text), "my.conf", &rules, err, sizeof err),
                     NW_ERR_CONFIG);
    assert_null(rules);
    if (strncmp(err, "my.conf:1: ", 11) != 0 || strstr(err, words) == NULL)
        print_error("error '%s' does not name my.conf:1 and say '%s'\n", err, words);
    assert_int_equal(strncmp(err, "my.conf:1: ", 11), 0);
    assert_non_null(strstr(err, words));
}

/* F11: nested counted repetitions that glibc would expand into millions of states are
 * refused (naming the line) before regcomp runs; modest counts still work. */
static void test_costly_regex_is_refused(void **state)
{
    (void)state;
    s_parse_fails("# ok\nregex ^(((a{1,255}){1,255}){1,255})$\n", "my.conf:2: ");
    nw_boilerplate_t *rules = NULL;
    char err[256] = "";
    const char *bad = "regex ((x{100}){100}){100}\n";
    assert_int_equal(nw_boilerplate_parse(bad, strlen(bad), "my.conf", &rules, err, sizeof err),
                     NW_ERR_CONFIG);
    assert_non_null(strstr(err, "too costly"));
    /* Found by fuzz_boilerplate: repeated empty groups cost nothing in the estimate, but
     * regcomp copies their nodes all the same (a gigabyte). */
    const char *empty = "regex ((((((((((((((((((((((((()))))))))+++++++++++++++++++++++++\n";
    assert_int_equal(nw_boilerplate_parse(empty, strlen(empty), "my.conf", &rules, err, sizeof err),
                     NW_ERR_CONFIG);
    const char *alt = "regex (a|b|c{1,300}){1,100}\n";
    assert_int_equal(nw_boilerplate_parse(alt, strlen(alt), "my.conf", &rules, err, sizeof err),
                     NW_ERR_CONFIG);
    nw_boilerplate_t *ok = s_parse_ok("regex ^(Photo|Image) by [^.]{1,80}$\n"
                                      "regex ^top stor(y|ies) ?[[:alpha:] &]{0,30}$\n"
                                      "regex (ab{2,5}){3}\n"
                                      "regex ^listen( ?[0-9:]+ ?(min|minutes)?)?$\n");
    nw_boilerplate_destroy(&ok);
}

/* Repeating what can match nothing makes regcomp's closure step superlinear (found by
 * fuzz_boilerplate: ()+ repeated, 15 s under ASan; ((a*)*){1,2000} takes 30 s), and so does
 * a long chain of optional copies (.{1,20000}, 6 s): all are refused with the reason. */
static void test_slow_to_compile_regex_is_refused(void **state)
{
    (void)state;
    const char *nullable[] = {
        "regex ((a*)*){1,2000}\n",
        "regex ()+\n",
        "regex (|||||||||||||||||||)+\n",
        "regex (a|){5}\n",
        "regex (^)*x\n",
        "regex ee )()))((((((())()))+++++++ee )()))((((((())()))++++++++++)))))\n",
    };
    for (size_t i = 0; i < sizeof nullable / sizeof nullable[0]; i++)
        s_parse_fails_saying(nullable[i], "can match nothing");
    s_parse_fails_saying("regex x(a**)\n", "two repetition operators in a row");
    s_parse_fails_saying("regex ^.{1,20000}$\n", "too costly");
    nw_boilerplate_t *ok = s_parse_ok("regex ^(a+b?)+$\nregex x{0,3}y{2}\n");
    nw_boilerplate_destroy(&ok);
}

static void test_default_rules_build(void **state)
{
    (void)state;
    nw_boilerplate_t *rules = NULL;
    assert_int_equal(nw_boilerplate_default(&rules), NW_OK);
    assert_true(nw_boilerplate_count(rules) > 50);
    nw_boilerplate_destroy(&rules);
    assert_null(rules);
}

static void test_default_drops_page_chrome(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "Top StoryUS",
        "Top Stories",
        "FILE \xE2\x80\x93 Ryosei Akazawa arrives at the prime minister\xE2\x80\x99s office. "
        "(AP Photo/Hiro Komae)",
        "FILE - A port in Baltimore, Tuesday.",
        "Treasury Secretary walks to speak with reporters outside the West Wing of the White "
        "House, Wednesday, April 9, 2025, in Washington. (AP Photo/Evan Vucci)",
        "Delegates arrive in Vienna, Sunday. (Photo: Anton Berger/Northfield Post)",
        "Photo: Jane Doe",
        "Credit: Newslooks",
        "More on US News",
        "How useful was this article?",
        "Click on a star to rate it!",
        "Average rating 0 / 5. Vote count: 0",
        "Average rating 4.2 / 5. Vote count: 17",
        "No votes so far! Be the first to rate this article.",
        "Menu",
        "Share this",
        "SUBSCRIBE",
        "Advertisement",
        "Read more",
        "Read more: Why tariffs matter",
        "We use cookies to improve your experience on our site.",
        "Home > World > Asia",
        " reuter",
        "REUTER...",
        "Reuter",
    };
    nw_boilerplate_t *rules = NULL;
    assert_int_equal(nw_boilerplate_default(&rules), NW_OK);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        const char *line = lines[i] + (lines[i][0] == ' ');
        if (!nw_boilerplate_match(rules, line, strlen(line)))
            print_error("not dropped: %s\n", line);
        assert_true(nw_boilerplate_match(rules, line, strlen(line)));
    }
    nw_boilerplate_destroy(&rules);
}

static void test_default_navigation_drops_next_headline(void **state)
{
    (void)state;
    nw_boilerplate_t *rules = NULL;
    assert_int_equal(nw_boilerplate_default(&rules), NW_OK);
    assert_int_equal(s_classify(rules, "Previous Article"), NW_BP_DROP_NEXT);
    assert_int_equal(s_classify(rules, "NEXT ARTICLE"), NW_BP_DROP_NEXT);
    assert_int_equal(s_classify(rules, "Latest News"), NW_BP_END);
    assert_int_equal(s_classify(rules, "More on Business News"), NW_BP_END);
    nw_boilerplate_destroy(&rules);
}

static void test_default_keeps_news(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "File-swappers ready new network",
        "File sharing grew fast in 2004, the report said.",
        "More than three quarters of the total will come from the United States.",
        "More on that later, the minister said.",
        "Subscribers to the service rose 12% in the quarter.",
        "Photographers were kept behind a barrier at the summit.",
        "Reuters reported the talks had stalled.",
        "The menu of options includes higher tariffs.",
        "Share prices fell 3% after the announcement.",
        "Advertisement revenue rose at the newspaper group.",
        "Read more slowly, the teacher said.",
        "Latest news from the talks suggests a deal is close.",
        "Trump Joins Japan Trade Talks Quick Looks",
        "Japan\xE2\x80\x99s Response and Concerns",
        "He was credited with the deal (photo finish).",
    };
    nw_boilerplate_t *rules = NULL;
    assert_int_equal(nw_boilerplate_default(&rules), NW_OK);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (s_classify(rules, lines[i]) != NW_BP_KEEP)
            print_error("dropped news line: %s\n", lines[i]);
        assert_int_equal(s_classify(rules, lines[i]), NW_BP_KEEP);
    }
    nw_boilerplate_destroy(&rules);
}

static void test_kinds_match_ignoring_case(void **state)
{
    (void)state;
    nw_boilerplate_t *rules = s_parse_ok("exact Menu\n"
                                         "prefix Photo:\n"
                                         "suffix (staff photo)\n"
                                         "contains use cookies\n"
                                         "regex ^vote count: [0-9]+$\n");
    assert_int_equal(nw_boilerplate_count(rules), 5);
    assert_int_equal(s_classify(rules, "MENU"), NW_BP_DROP);
    assert_int_equal(s_classify(rules, "Menu bar"), NW_BP_KEEP);
    assert_int_equal(s_classify(rules, "photo: Jane"), NW_BP_DROP);
    assert_int_equal(s_classify(rules, "A Photo: Jane"), NW_BP_KEEP);
    assert_int_equal(s_classify(rules, "Ships in port (Staff Photo)"), NW_BP_DROP);
    assert_int_equal(s_classify(rules, "(staff photo) ships"), NW_BP_KEEP);
    assert_int_equal(s_classify(rules, "This site USE COOKIES, ok?"), NW_BP_DROP);
    assert_int_equal(s_classify(rules, "Vote Count: 12"), NW_BP_DROP);
    assert_int_equal(s_classify(rules, "Vote count: 12 votes"), NW_BP_KEEP);
    /* The line need not be NUL-terminated: only len bytes count. */
    assert_true(nw_boilerplate_match(rules, "Menu and more", 4));
    /* contains and suffix on lines past every exact rule's length, short and very long. */
    char line[2048];
    for (size_t width = 40; width < sizeof line; width *= 3) {
        memset(line, 'x', width);
        memcpy(line + width / 2, "We Use Cookies", 14);
        assert_int_equal(nw_boilerplate_classify(rules, line, width), NW_BP_DROP);
        memcpy(line + width / 2, "We Use Cookie!", 14);
        assert_int_equal(nw_boilerplate_classify(rules, line, width), NW_BP_KEEP);
        memcpy(line + width - 13, "(STAFF PHOTO)", 13);
        assert_int_equal(nw_boilerplate_classify(rules, line, width), NW_BP_DROP);
    }
    nw_boilerplate_destroy(&rules);
}

static void test_actions_and_first_rule_wins(void **state)
{
    (void)state;
    nw_boilerplate_t *rules = s_parse_ok("# navigation\n"
                                         "drop-next exact Previous Article\n"
                                         "end exact Related Stories\n"
                                         "drop prefix Related\n"
                                         "prefix Related Stories and more\n");
    assert_int_equal(s_classify(rules, "previous article"), NW_BP_DROP_NEXT);
    assert_int_equal(s_classify(rules, "Related Stories"), NW_BP_END);
    assert_int_equal(s_classify(rules, "Related Stories and more"), NW_BP_DROP);
    assert_int_equal(s_classify(rules, "Unrelated"), NW_BP_KEEP);
    nw_boilerplate_destroy(&rules);
}

static void test_comments_blanks_crlf_and_spaces(void **state)
{
    (void)state;
    nw_boilerplate_t *rules = s_parse_ok("# only comments\r\n"
                                         "\r\n"
                                         "   # indented comment\n"
                                         "\t\n"
                                         "exact\t  Share this  \r\n"
                                         "contains a # is part of the pattern\n");
    assert_int_equal(nw_boilerplate_count(rules), 2);
    assert_int_equal(s_classify(rules, "Share this"), NW_BP_DROP);
    assert_int_equal(s_classify(rules, "x a # is part of the pattern y"), NW_BP_DROP);
    nw_boilerplate_destroy(&rules);

    rules = s_parse_ok("# nothing but a comment");
    assert_int_equal(nw_boilerplate_count(rules), 0);
    assert_int_equal(s_classify(rules, "Menu"), NW_BP_KEEP);
    nw_boilerplate_destroy(&rules);
}

static void test_error_unknown_kind_names_file_and_line(void **state)
{
    (void)state;
    s_parse_fails("# rules\nexact Menu\nexactly Share\n", "my.conf:3: unknown rule kind 'exactly'");
    s_parse_fails("drop-next Menu\n", "my.conf:1: unknown rule kind 'Menu'");
}

static void test_error_missing_pattern_or_kind(void **state)
{
    (void)state;
    s_parse_fails("exact Menu\n\nprefix   \n", "my.conf:3: missing pattern after 'prefix'");
    s_parse_fails("exact Menu\nend\n", "my.conf:2: missing rule kind");
}

static void test_error_bad_regex(void **state)
{
    (void)state;
    s_parse_fails("exact Menu\nregex ^(unclosed\n", "my.conf:2: bad regular expression");
}

static void test_error_not_text(void **state)
{
    (void)state;
    nw_boilerplate_t *rules = NULL;
    char err[256];
    assert_int_equal(
        nw_boilerplate_parse("exact \xff\xfe\n", 9, "bad.conf", &rules, err, sizeof err),
        NW_ERR_CONFIG);
    assert_non_null(strstr(err, "bad.conf:"));
    assert_non_null(strstr(err, "UTF-8"));
    assert_int_equal(nw_boilerplate_parse("exact a\0b\n", 10, "nul.conf", &rules, err, sizeof err),
                     NW_ERR_CONFIG);
    assert_non_null(strstr(err, "nul.conf:"));
    assert_null(rules);
}

static void test_load_file_and_errors_name_path(void **state)
{
    (void)state;
    char path[] = "/tmp/nw_test_bp_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "exact Menu\nregex [\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    nw_boilerplate_t *rules = NULL;
    char err[512], want[600];
    assert_int_equal(nw_boilerplate_load(path, &rules, err, sizeof err), NW_ERR_CONFIG);
    snprintf(want, sizeof want, "%s:2: ", path);
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    assert_null(rules);

    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("exact Menu\n", f);
    fclose(f);
    assert_int_equal(nw_boilerplate_load(path, &rules, err, sizeof err), NW_OK);
    assert_true(nw_boilerplate_match(rules, "menu", 4));
    nw_boilerplate_destroy(&rules);
    unlink(path);

    assert_int_equal(nw_boilerplate_load(path, &rules, err, sizeof err), NW_ERR_NOTFOUND);
    assert_non_null(strstr(err, path));
    assert_null(rules);
}

static void test_installed_file_matches_builtin(void **state)
{
    (void)state;
    nw_boilerplate_t *file_rules = NULL, *builtin = NULL;
    char err[512];
    assert_int_equal(nw_boilerplate_load(NW_SOURCE_DIR "/publisher/input/boilerplate.conf",
                                         &file_rules, err, sizeof err),
                     NW_OK);
    assert_int_equal(nw_boilerplate_default(&builtin), NW_OK);
    assert_int_equal(nw_boilerplate_count(file_rules), nw_boilerplate_count(builtin));
    nw_boilerplate_destroy(&file_rules);
    nw_boilerplate_destroy(&builtin);
}

/* Matching skips regexec when a line's first or last byte cannot start or end a match: each
 * rule, one at a time, must decide every line exactly as glibc's regexec does. */
static void test_regex_prefilter_agrees_with_regexec(void **state)
{
    (void)state;
    static const char *const patterns[] = {
        "^FILE ?(–|—|--?)[[:space:]]",
        "\\(((AP|AFP|Reuters) )?Photo(graph)?( ?[:/][^)]*)?\\)$",
        "^(Photo|Image) by [^.]{1,80}$",
        "^top stor(y|ies) ?[[:alpha:] &]{0,30}$",
        "^home ?(>|/|\\||»|›)",
        "^read more ?(:|»|›|>|…|\\.\\.\\.)",
        "^average rating [0-9.]+ ?/ ?[0-9]+\\.? ?(vote count:? ?[0-9]+)?$",
        "^reuters?( ?(\\.\\.\\.|…))?$",
        "^a*b",              /* first byte: a or b */
        "^(x?)y$",           /* first x or y, last y */
        "^(a|)$",            /* can match nothing: no prefilter */
        "^(q|r)?s{0,2}t\\$", /* an escaped '$' is no anchor */
        "ab|^cd$",           /* '|' outside groups: no prefilter */
        "\\<word$",          /* a GNU operator: no prefilter */
        "^.k",
        "^k{2,}z",
        "^ab\\.c+d",     /* literal lead "ab.c" */
        "^keep (on|up)", /* literal lead "keep " */
    };
    static const char *const lines[] = {
        "",
        "FILE - a photo",
        "file -- x",
        "File — x",
        "(AP Photo)",
        "(Reuters Photo/Jane Doe)",
        "photo by someone",
        "Image by x.",
        "IMAGE BY Y",
        "top stories",
        "Top Story world",
        "home > news",
        "Home/x",
        "home | y",
        "read more...",
        "Read More »",
        "average rating 4.5/5",
        "Average rating 4 / 5 vote count 3",
        "reuters",
        "Reuter...",
        "REUTERS …",
        "b",
        "aab",
        "xb",
        "y",
        "xy",
        "xxy",
        "a",
        "st$",
        "qt$",
        "rst$",
        "t$",
        "t",
        "cd",
        "abc",
        "word",
        "a word",
        "xk",
        "\xc3\xa9k",
        "kkz",
        "KKz",
        "kz",
        "\xe2\x84\xaaKz",
        "a\nb",
        "mid (AP Photo) end",
        "(AP Photo) ",
        "AB.CCd",
        "ab.d",
        "abxcd",
        "ab.c",
        "keep on",
        "KEEP UP",
        "keep",
        "keep in",
        "\xe2\x84\xaa"
        "eep on",
        "kee\xc3\xa9 on",
    };
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        char text[256];
        snprintf(text, sizeof text, "regex %s\n", patterns[i]);
        nw_boilerplate_t *rules = s_parse_ok(text);
        regex_t re;
        assert_int_equal(regcomp(&re, patterns[i], REG_EXTENDED | REG_ICASE | REG_NOSUB), 0);
        for (size_t j = 0; j < sizeof(lines) / sizeof(lines[0]); j++) {
            bool want = regexec(&re, lines[j], 0, NULL, 0) == 0;
            bool got = s_classify(rules, lines[j]) == NW_BP_DROP;
            if (want != got)
                print_error("regex '%s' line '%s': regexec %d, rules %d\n", patterns[i], lines[j],
                            want, got);
            assert_true(want == got);
        }
        regfree(&re);
        nw_boilerplate_destroy(&rules);
    }
}

static void test_destroy_and_null_rules_are_safe(void **state)
{
    (void)state;
    nw_boilerplate_t *rules = NULL;
    nw_boilerplate_destroy(&rules);
    nw_boilerplate_destroy(NULL);
    assert_int_equal(nw_boilerplate_classify(NULL, "Menu", 4), NW_BP_KEEP);
    assert_false(nw_boilerplate_match(NULL, "Menu", 4));
    assert_int_equal(nw_boilerplate_count(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_costly_regex_is_refused),
        cmocka_unit_test(test_slow_to_compile_regex_is_refused),
        cmocka_unit_test(test_default_rules_build),
        cmocka_unit_test(test_default_drops_page_chrome),
        cmocka_unit_test(test_default_navigation_drops_next_headline),
        cmocka_unit_test(test_default_keeps_news),
        cmocka_unit_test(test_kinds_match_ignoring_case),
        cmocka_unit_test(test_actions_and_first_rule_wins),
        cmocka_unit_test(test_comments_blanks_crlf_and_spaces),
        cmocka_unit_test(test_error_unknown_kind_names_file_and_line),
        cmocka_unit_test(test_error_missing_pattern_or_kind),
        cmocka_unit_test(test_error_bad_regex),
        cmocka_unit_test(test_error_not_text),
        cmocka_unit_test(test_load_file_and_errors_name_path),
        cmocka_unit_test(test_installed_file_matches_builtin),
        cmocka_unit_test(test_regex_prefilter_agrees_with_regexec),
        cmocka_unit_test(test_destroy_and_null_rules_are_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
