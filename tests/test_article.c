/* Tests for publisher/input/nw_article (with nw_split): the seed page and the sample articles give
 * exactly the expected alerts and no boilerplate; plain Reuters/BBC forms; every bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>

#include <cmocka.h>

#include "nw_article.h"
#include "nw_error.h"
#include "nw_split.h"

#define SEED_PATH NW_SHARED_DIR "/corpus/seed/tariffs-japan.txt"

/* One expected alert: its kind, section and text (the whole text, or its start). */
typedef struct {
    nw_alert_kind_t kind;
    const char *section;
    const char *text;
    bool exact; /* text is the whole alert text, not a prefix */
} s_want_t;

/* Expected alerts, in order. Paragraphs are checked by their first words. */
static const s_want_t s_seed_want[] = {
    {NW_KIND_HEADLINE, "", "Trump, Bessent, Lutnick Meet Japan Over Tariff Dispute", true},
    {NW_KIND_PARAGRAPH, "", "President Donald Trump", false},
    {NW_KIND_KEYPOINT, "Trump Joins Japan Trade Talks Quick Looks",
     "Trump to participate in White House trade negotiations with Japan", true},
    {NW_KIND_KEYPOINT, "Trump Joins Japan Trade Talks Quick Looks",
     "Treasury\xE2\x80\x99s Bessent and Commerce\xE2\x80\x99s Lutnick also involved in the talks",
     true},
    {NW_KIND_KEYPOINT, "Trump Joins Japan Trade Talks Quick Looks",
     "Japan pushing for tariff relief amid economic uncertainty", true},
    {NW_KIND_KEYPOINT, "Trump Joins Japan Trade Talks Quick Looks",
     "90-day global tariff pause excludes tariffs on China", true},
    {NW_KIND_KEYPOINT, "Trump Joins Japan Trade Talks Quick Looks",
     "Japan faces 25% tariffs on autos, steel, aluminum", true},
    {NW_KIND_KEYPOINT, "Trump Joins Japan Trade Talks Quick Looks",
     "Japan to discuss military cost-sharing amid rising defense budget", true},
    {NW_KIND_KEYPOINT, "Trump Joins Japan Trade Talks Quick Looks",
     "Goals of both countries remain unclear ahead of negotiations", true},
    {NW_KIND_KEYPOINT, "Trump Joins Japan Trade Talks Quick Looks",
     "Japan\xE2\x80\x99s envoy seeks win-win deal without concessions", true},
    {NW_KIND_PARAGRAPH, "Deep Look", "WASHINGTON \xE2\x80\x94 President Donald", false},
    {NW_KIND_PARAGRAPH, "Deep Look", "In a message posted to his", false},
    {NW_KIND_PARAGRAPH, "Deep Look", "The Japanese delegation is led", false},
    {NW_KIND_PARAGRAPH, "Japan\xE2\x80\x99s Response and Concerns",
     "Japan has responded cautiously", false},
    {NW_KIND_PARAGRAPH, "Japan\xE2\x80\x99s Response and Concerns",
     "At Tokyo\xE2\x80\x99s Haneda Airport,", false},
    {NW_KIND_PARAGRAPH, "Japan\xE2\x80\x99s Response and Concerns", "He also expressed optimism in",
     false},
    {NW_KIND_PARAGRAPH, "Japan\xE2\x80\x99s Response and Concerns", "Akazawa is scheduled to hold",
     false},
    {NW_KIND_PARAGRAPH, "Unclear Demands on Both Sides", "Despite the high-profile nature", false},
    {NW_KIND_PARAGRAPH, "Unclear Demands on Both Sides", "Japan, for its part, has made", false},
    {NW_KIND_PARAGRAPH, "Unclear Demands on Both Sides", "Prime Minister Ishiba has said", false},
    {NW_KIND_PARAGRAPH, "Military Cost-Sharing at the Forefront", "Alongside trade, military",
     false},
    {NW_KIND_PARAGRAPH, "Military Cost-Sharing at the Forefront",
     "Currently, Japan\xE2\x80\x99s annual", false},
    {NW_KIND_PARAGRAPH, "Military Cost-Sharing at the Forefront", "Defense Minister Gen Nakatani",
     false},
    {NW_KIND_PARAGRAPH, "Tariff Politics and Global Reaction", "Trump\xE2\x80\x99s decision to",
     false},
    {NW_KIND_PARAGRAPH, "Tariff Politics and Global Reaction", "White House officials say other",
     false},
    {NW_KIND_PARAGRAPH, "Tariff Politics and Global Reaction", "But the lack of transparency",
     false},
    {NW_KIND_PARAGRAPH, "Tariff Politics and Global Reaction", "For now, Japan is playing the",
     false},
};

static const s_want_t s_steel_want[] = {
    {NW_KIND_HEADLINE, "", "Commerce Department Widens Steel Tariffs to Cover Auto Parts", true},
    {NW_KIND_PARAGRAPH, "", "The Commerce Department said Thursday it will", false},
    {NW_KIND_KEYPOINT, "Steel Tariffs Reach Auto Parts Quick Looks",
     "Steel tariffs of 25% extended to 140 categories of auto parts", true},
    {NW_KIND_KEYPOINT, "Steel Tariffs Reach Auto Parts Quick Looks",
     "Duties take effect after a 30-day public comment period", true},
    {NW_KIND_KEYPOINT, "Steel Tariffs Reach Auto Parts Quick Looks",
     "Canada and Mexico say the move breaks the spirit of the USMCA trade pact", true},
    {NW_KIND_KEYPOINT, "Steel Tariffs Reach Auto Parts Quick Looks",
     "South Korea asks for an exemption for parts shipped to U.S. assembly plants", true},
    {NW_KIND_KEYPOINT, "Steel Tariffs Reach Auto Parts Quick Looks",
     "Carmakers warn of higher sticker prices and supply delays", true},
    {NW_KIND_KEYPOINT, "Steel Tariffs Reach Auto Parts Quick Looks",
     "Domestic steelmakers welcome the wider duties", true},
    {NW_KIND_PARAGRAPH, "Deep Look", "WASHINGTON \xE2\x80\x94 The Commerce Department on", false},
    {NW_KIND_PARAGRAPH, "Deep Look", "The new list covers about 140 product", false},
    {NW_KIND_PARAGRAPH, "Deep Look", "Commerce Secretary Paula Grant told reporters:", false},
    {NW_KIND_PARAGRAPH, "Reaction From Trading Partners",
     "Canada\xE2\x80\x99s trade minister called the decision", false},
    {NW_KIND_PARAGRAPH, "Reaction From Trading Partners",
     "South Korea, whose suppliers ship parts to", false},
    {NW_KIND_PARAGRAPH, "Industry Warns of Higher Prices",
     "Carmakers said the duties would add hundreds of", false},
    {NW_KIND_PARAGRAPH, "Industry Warns of Higher Prices",
     "Domestic steel producers praised the move. The", false},
    {NW_KIND_PARAGRAPH, "What Comes Next", "Importers and foreign governments can file", false},
};

static const s_want_t s_defense_want[] = {
    {NW_KIND_HEADLINE, "", "NATO Allies Agree to Lift Defense Spending Toward 3% of GDP", true},
    {NW_KIND_PARAGRAPH, "", "NATO defense ministers agreed Wednesday to a", false},
    {NW_KIND_KEYPOINT, "NATO Raises Spending Goal Quick Looks",
     "Allies back a path to 3% of GDP for defense by 2030", true},
    {NW_KIND_KEYPOINT, "NATO Raises Spending Goal Quick Looks",
     "Current guideline of 2% was met by 23 of 32 members last year", true},
    {NW_KIND_KEYPOINT, "NATO Raises Spending Goal Quick Looks",
     "New money to go to air defense, ammunition and troop readiness", true},
    {NW_KIND_KEYPOINT, "NATO Raises Spending Goal Quick Looks",
     "Germany and Poland pledge the largest increases", true},
    {NW_KIND_KEYPOINT, "NATO Raises Spending Goal Quick Looks",
     "Several southern members ask for more time to comply", true},
    {NW_KIND_KEYPOINT, "NATO Raises Spending Goal Quick Looks",
     "U.S. officials call the deal a first step, not the finish line", true},
    {NW_KIND_KEYPOINT, "NATO Raises Spending Goal Quick Looks",
     "Details to be confirmed at the leaders\xE2\x80\x99 summit in July", true},
    {NW_KIND_PARAGRAPH, "Deep Look", "BRUSSELS \xE2\x80\x94 NATO defense ministers on", false},
    {NW_KIND_PARAGRAPH, "Deep Look", "The agreement replaces the 2% guideline adopted", false},
    {NW_KIND_PARAGRAPH, "Deep Look", "Secretary General Mark Ellison said after the", false},
    {NW_KIND_PARAGRAPH, "Who Pays and How Fast", "Germany said it would raise its defense budget",
     false},
    {NW_KIND_PARAGRAPH, "Who Pays and How Fast", "Diplomats said the final text lets each country",
     false},
    {NW_KIND_PARAGRAPH, "Industry and Supply Concerns",
     "Arms makers welcomed the plan but warned that", false},
    {NW_KIND_PARAGRAPH, "Industry and Supply Concerns",
     "The European Commission is preparing a loan", false},
    {NW_KIND_PARAGRAPH, "Pressure From Washington",
     "U.S. Defense Secretary Alan Brooks praised the", false},
};

static const s_want_t s_oil_want[] = {
    {NW_KIND_HEADLINE, "", "Oil Jumps After OPEC+ Extends Output Cuts Into Next Year", true},
    {NW_KIND_PARAGRAPH, "", "Oil prices rose more than 4% on Sunday evening", false},
    {NW_KIND_KEYPOINT, "OPEC+ Extends Cuts Quick Looks",
     "OPEC+ keeps 2.2 million barrels a day of cuts until the end of March", true},
    {NW_KIND_KEYPOINT, "OPEC+ Extends Cuts Quick Looks",
     "Brent crude rises above $84 a barrel, its highest in two months", true},
    {NW_KIND_KEYPOINT, "OPEC+ Extends Cuts Quick Looks",
     "Saudi Arabia and Russia lead the push to hold back supply", true},
    {NW_KIND_KEYPOINT, "OPEC+ Extends Cuts Quick Looks",
     "Group cites weak demand in China and rising U.S. shale output", true},
    {NW_KIND_KEYPOINT, "OPEC+ Extends Cuts Quick Looks",
     "Airlines and shipping firms warn of higher fuel costs", true},
    {NW_KIND_KEYPOINT, "OPEC+ Extends Cuts Quick Looks",
     "Next ministerial meeting set for early March", true},
    {NW_KIND_PARAGRAPH, "Deep Look", "VIENNA \xE2\x80\x94 The Organization of the Petroleum",
     false},
    {NW_KIND_PARAGRAPH, "Deep Look", "Brent crude, the international benchmark, rose", false},
    {NW_KIND_PARAGRAPH, "Why the Group Held Back", "Delegates said the decision reflected concern",
     false},
    {NW_KIND_PARAGRAPH, "Why the Group Held Back",
     "One delegate described the mood in the room:", false},
    {NW_KIND_PARAGRAPH, "Impact on Consumers and Industry",
     "Higher crude prices usually reach gasoline", false},
    {NW_KIND_PARAGRAPH, "Impact on Consumers and Industry",
     "Natural gas prices in Europe also edged up, as", false},
    {NW_KIND_PARAGRAPH, "Outlook for the Market", "Some analysts said the price gains may fade if",
     false},
    {NW_KIND_PARAGRAPH, "Outlook for the Market", "The International Energy Agency is due to",
     false},
};

static const s_want_t s_football_want[] = {
    {NW_KIND_HEADLINE, "", "Pioneers Land Star Linebacker in Deadline Trade to Fix Leaky Defense",
     true},
    {NW_KIND_PARAGRAPH, "", "The Portland Pioneers acquired linebacker", false},
    {NW_KIND_KEYPOINT, "Pioneers Trade for Bell Quick Looks",
     "Portland sends a second-round pick and a backup tight end to Omaha", true},
    {NW_KIND_KEYPOINT, "Pioneers Trade for Bell Quick Looks",
     "Bell leads the league with 11 sacks this season", true},
    {NW_KIND_KEYPOINT, "Pioneers Trade for Bell Quick Looks",
     "Pioneers defense ranks last in points allowed", true},
    {NW_KIND_KEYPOINT, "Pioneers Trade for Bell Quick Looks",
     "Coach says Bell will start at middle linebacker on Sunday", true},
    {NW_KIND_KEYPOINT, "Pioneers Trade for Bell Quick Looks",
     "Omaha begins a rebuild after a 2-7 start", true},
    {NW_KIND_PARAGRAPH, "Deep Look", "PORTLAND \xE2\x80\x94 The Portland Pioneers made the", false},
    {NW_KIND_PARAGRAPH, "Deep Look", "Bell, 28, has 11 sacks and three forced fumbles", false},
    {NW_KIND_PARAGRAPH, "Deep Look", "Head coach Tom Ridley did not hide his", false},
    {NW_KIND_PARAGRAPH, "A Defense in Need of Help",
     "Portland\xE2\x80\x99s defense has struggled since losing", false},
    {NW_KIND_PARAGRAPH, "A Defense in Need of Help",
     "Defensive coordinator Lisa Grant plans to use", false},
    {NW_KIND_PARAGRAPH, "Omaha Looks Ahead", "For Omaha, the trade marks the start of a", false},
    {NW_KIND_PARAGRAPH, "Omaha Looks Ahead", "Bell is expected to practice with his new team",
     false},
};

/* Lines of page chrome that must not show up in any alert. */
static const char *const s_common_chrome[] = {
    "Top Story",         "AP Photo",   "Photo:",
    "FILE \xE2\x80\x93", "More on ",   "Previous Article",
    "Next Article",      "How useful", "Click on a star",
    "Average rating",    "Vote count", "No votes so far",
    "Latest News",       "Menu",       NULL,
};

static const char *const s_seed_chrome[] = {"Israeli Defense Minister", "Sues Maine",
                                            "newly appointed Minister", "Karoline Leavitt", NULL};
static const char *const s_steel_chrome[] = {"Central Bank Holds", "Grain Exports Climb",
                                             "Steel coils wait", "Workers inspect", NULL};
static const char *const s_defense_chrome[] = {"Flooding Forces", "Election Count Delayed",
                                               "Defense ministers pose", "Polish soldiers unload",
                                               NULL};
static const char *const s_oil_chrome[] = {"Wind Farm Auction", "Utility Regulators", "pumpjack",
                                           "Delegates arrive for", NULL};
static const char *const s_football_chrome[] = {"Rookie Guard", "Veteran Goalkeeper",
                                                "celebrates after a sack", "fans cheer", NULL};

/* One article file and everything expected from it. */
typedef struct {
    const char *path;
    const char *title, *source, *place, *author;
    const s_want_t *want;
    size_t n_want;
    const char *const *chrome; /* article-specific lines that must be dropped */
} s_case_t;

#define S_CASE(file, title, source, place, author, want, chrome)                                   \
    {                                                                                              \
        file, title, source, place, author, want, sizeof(want) / sizeof(want[0]), chrome           \
    }

static const s_case_t s_seed_case =
    S_CASE(SEED_PATH, "Trump, Bessent, Lutnick Meet Japan Over Tariff Dispute", "Newslooks",
           "WASHINGTON", "J. Mansour", s_seed_want, s_seed_chrome);

static const s_case_t s_sample_cases[] = {
    S_CASE(NW_EXAMPLES_DIR "/articles/01-tariffs-steel.txt",
           "Commerce Department Widens Steel Tariffs to Cover Auto Parts", "Harbor Ledger",
           "WASHINGTON", "R. Okafor", s_steel_want, s_steel_chrome),
    S_CASE(NW_EXAMPLES_DIR "/articles/02-defense-budget.txt",
           "NATO Allies Agree to Lift Defense Spending Toward 3% of GDP", "Meridian Wire",
           "BRUSSELS", "K. Lindqvist", s_defense_want, s_defense_chrome),
    S_CASE(NW_EXAMPLES_DIR "/articles/03-energy-oil.txt",
           "Oil Jumps After OPEC+ Extends Output Cuts Into Next Year", "Northfield Post", "VIENNA",
           "S. Haddad", s_oil_want, s_oil_chrome),
    S_CASE(NW_EXAMPLES_DIR "/articles/04-offtopic-football.txt",
           "Pioneers Land Star Linebacker in Deadline Trade to Fix Leaky Defense",
           "Crossline Sports", "PORTLAND", "D. Reyes", s_football_want, s_football_chrome),
};

/* ---- helpers ------------------------------------------------------------------------ */

/* Reads a whole file; returns NULL when it does not exist. */
static char *s_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static nw_boilerplate_t *s_rules(void)
{
    nw_boilerplate_t *rules = NULL;
    assert_int_equal(nw_boilerplate_default(&rules), NW_OK);
    return rules;
}

/* Parses text (NUL-terminated) with the default rules, expecting success. */
static void s_parse_ok(const char *text, nw_article_t *art)
{
    nw_boilerplate_t *rules = s_rules();
    char err[256] = "";
    int rc = nw_article_parse(text, strlen(text), rules, art, err, sizeof err);
    if (rc != NW_OK)
        print_error("parse failed: %s\n", err);
    assert_int_equal(rc, NW_OK);
    nw_boilerplate_destroy(&rules);
}

/* Parses len bytes expecting the error code want; checks the one-line reason. */
static void s_parse_fails(const char *data, size_t len, int want, const char *reason_part)
{
    nw_boilerplate_t *rules = s_rules();
    nw_article_t art;
    char err[256] = "";
    assert_int_equal(nw_article_parse(data, len, rules, &art, err, sizeof err), want);
    print_message("reason: %s\n", err);
    assert_true(strlen(err) > 0);
    assert_null(strchr(err, '\n'));
    assert_non_null(strstr(err, reason_part));
    assert_null(art.title);
    assert_null(art.blocks);
    assert_int_equal(art.n_blocks, 0);
    nw_article_clear(&art);
    nw_boilerplate_destroy(&rules);
}

static bool s_ends_sentence(const char *text)
{
    size_t len = strlen(text);
    if (len >= 3 && strcmp(text + len - 3, "\xE2\x80\x9D") == 0)
        return true;
    return len > 0 && strchr(".?!\"", text[len - 1]) != NULL;
}

static void s_check_no_chrome(const nw_alert_t *alerts, size_t n, const char *const *chrome)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; chrome[k] != NULL; k++) {
            if (strstr(alerts[i].text, chrome[k]) || strstr(alerts[i].section, chrome[k]))
                print_error("alert %zu holds boilerplate '%s': %s\n", i, chrome[k], alerts[i].text);
            assert_null(strstr(alerts[i].text, chrome[k]));
            assert_null(strstr(alerts[i].section, chrome[k]));
        }
    }
}

static void s_check_alert(const nw_alert_t *a, const s_want_t *w, size_t i)
{
    bool ok = a->kind == w->kind && strcmp(a->section, w->section) == 0 &&
              (w->exact ? strcmp(a->text, w->text) == 0
                        : strncmp(a->text, w->text, strlen(w->text)) == 0);
    if (!ok)
        print_error("alert %zu: got %s [%s] %s\n   want %s [%s] %s%s\n", i,
                    nw_alert_kind_name(a->kind), a->section, a->text, nw_alert_kind_name(w->kind),
                    w->section, w->text, w->exact ? "" : "...");
    assert_true(ok);
    if (a->kind == NW_KIND_PARAGRAPH)
        assert_true(s_ends_sentence(a->text));
}

/* Parses c->path and checks metadata, the alert list, and that no chrome survived. */
static void s_check_case(const s_case_t *c, const char *data, size_t len)
{
    nw_boilerplate_t *rules = s_rules();
    nw_article_t art;
    char err[256] = "";
    assert_int_equal(nw_article_parse(data, len, rules, &art, err, sizeof err), NW_OK);
    assert_string_equal(art.title, c->title);
    assert_string_equal(art.source, c->source);
    assert_string_equal(art.place, c->place);
    assert_string_equal(art.author, c->author);
    assert_false(art.latin1);

    nw_alert_t *alerts = NULL;
    size_t n = 0;
    assert_int_equal(nw_split(&art, 0, NULL, &alerts, &n), NW_OK);
    if (n != c->n_want)
        print_error("%s: %zu alerts, want %zu\n", c->path, n, c->n_want);
    assert_int_equal(n, c->n_want);
    for (size_t i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s.%zu", art.id, i);
        assert_string_equal(alerts[i].id, id);
        s_check_alert(&alerts[i], &c->want[i], i);
        /* The title is the headline once; none of its repetitions is an alert. */
        if (i > 0)
            assert_int_not_equal(strcasecmp(alerts[i].text, c->title), 0);
    }
    s_check_no_chrome(alerts, n, s_common_chrome);
    s_check_no_chrome(alerts, n, c->chrome);
    nw_split_free(&alerts, n);
    nw_article_clear(&art);
    nw_boilerplate_destroy(&rules);
}

/* The same article parsed twice, or with CRLF line ends, has the same id. */
static void s_check_stable_id(const char *data, size_t len)
{
    nw_boilerplate_t *rules = s_rules();
    nw_article_t a, b, c;
    char err[256];
    assert_int_equal(nw_article_parse(data, len, rules, &a, err, sizeof err), NW_OK);
    assert_int_equal(nw_article_parse(data, len, rules, &b, err, sizeof err), NW_OK);
    char *crlf = malloc(2 * len + 1);
    assert_non_null(crlf);
    size_t m = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n')
            crlf[m++] = '\r';
        crlf[m++] = data[i];
    }
    assert_int_equal(nw_article_parse(crlf, m, rules, &c, err, sizeof err), NW_OK);
    assert_int_equal(strlen(a.id), 16);
    assert_int_equal(strspn(a.id, "0123456789abcdef"), 16);
    assert_string_equal(a.id, b.id);
    assert_string_equal(a.id, c.id);
    free(crlf);
    nw_article_clear(&a);
    nw_article_clear(&b);
    nw_article_clear(&c);
    nw_boilerplate_destroy(&rules);
}

/* ---- the seed page and the sample articles ------------------------------------------- */

static void test_seed_article_alerts(void **state)
{
    (void)state;
    size_t len;
    char *data = s_read_file(SEED_PATH, &len);
    if (data == NULL) {
        print_message("skipped: %s not found (../shared is not present)\n", SEED_PATH);
        skip();
    }
    s_check_case(&s_seed_case, data, len);
    s_check_stable_id(data, len);
    free(data);
}

static void test_seed_quote_joins_its_introduction(void **state)
{
    (void)state;
    size_t len;
    char *data = s_read_file(SEED_PATH, &len);
    if (data == NULL) {
        print_message("skipped: %s not found (../shared is not present)\n", SEED_PATH);
        skip();
    }
    nw_article_t art;
    nw_boilerplate_t *rules = s_rules();
    char err[256];
    assert_int_equal(nw_article_parse(data, len, rules, &art, err, sizeof err), NW_OK);
    bool found = false;
    for (size_t i = 0; i < art.n_blocks; i++) {
        const char *t = art.blocks[i].text;
        if (strncmp(t, "In a message posted", 19) == 0) {
            found = true;
            assert_non_null(strstr(t, "wrote: \xE2\x80\x9CJapan is coming in today"));
            assert_int_equal(art.blocks[i].line, 27);
        }
    }
    assert_true(found);
    nw_article_clear(&art);
    nw_boilerplate_destroy(&rules);
    free(data);
}

static void test_sample_articles_alerts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_sample_cases / sizeof s_sample_cases[0]; i++) {
        size_t len;
        char *data = s_read_file(s_sample_cases[i].path, &len);
        if (data == NULL)
            print_error("missing sample article %s\n", s_sample_cases[i].path);
        assert_non_null(data);
        print_message("checking %s\n", s_sample_cases[i].path);
        s_check_case(&s_sample_cases[i], data, len);
        s_check_stable_id(data, len);
        free(data);
    }
}

static void test_sample_articles_have_distinct_ids(void **state)
{
    (void)state;
    char ids[4][17];
    for (size_t i = 0; i < 4; i++) {
        size_t len;
        char *data = s_read_file(s_sample_cases[i].path, &len);
        assert_non_null(data);
        nw_article_t art;
        s_parse_ok(data, &art);
        memcpy(ids[i], art.id, 17);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
        nw_article_clear(&art);
        free(data);
    }
}

/* ---- plain articles --------------------------------------------------------------- */

static void test_wrapped_wire_story_joins_lines_and_drops_signature(void **state)
{
    (void)state;
    nw_article_t art;
    s_parse_ok("ACME STEEL SAYS QUARTER PROFIT ROSE\n"
               "\n"
               "Acme Steel Corp said its first\n"
               "quarter profit rose 12 pct on higher\n"
               "shipments to automakers.\n"
               "    The company said prices for\n"
               "flat-rolled steel firmed in March.\n"
               "    \"We expect a stronger second\n"
               "half,\" chairman John Doe said.\n"
               " Reuter\n",
               &art);
    assert_string_equal(art.title, "ACME STEEL SAYS QUARTER PROFIT ROSE");
    assert_int_equal(art.n_blocks, 3);
    assert_string_equal(art.blocks[0].text, "Acme Steel Corp said its first quarter profit rose 12 "
                                            "pct on higher shipments to automakers.");
    assert_string_equal(art.blocks[1].text,
                        "The company said prices for flat-rolled steel firmed in March.");
    assert_string_equal(art.blocks[2].text,
                        "\"We expect a stronger second half,\" chairman John Doe said.");
    assert_int_equal(art.blocks[0].line, 3);
    assert_int_equal(art.blocks[1].line, 6);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(art.blocks[i].kind, NW_BLOCK_PARAGRAPH);
    assert_string_equal(art.place, "");
    nw_article_clear(&art);
}

static void test_wrapped_line_like_the_title_is_kept(void **state)
{
    (void)state;
    nw_article_t art;
    s_parse_ok("FINAL COTTON HARVEST FIGURES\n"
               "\n"
               "Final cotton harvest figures\n"
               "showed a drop of 20 pct, the bureau\n"
               "said on Monday.\n",
               &art);
    assert_int_equal(art.n_blocks, 1);
    assert_string_equal(art.blocks[0].text, "Final cotton harvest figures showed a drop of 20 pct, "
                                            "the bureau said on Monday.");
    nw_article_clear(&art);
}

static void test_paragraph_per_line_story(void **state)
{
    (void)state;
    nw_article_t art;
    s_parse_ok("Ferry operator cuts winter routes\n"
               "\n"
               "A ferry operator has cut three of its winter routes, blaming the rising cost of "
               "fuel and a fall in bookings since the summer.\n"
               "\n"
               "The company said bookings fell by 8% in the autumn. It expects to restore the "
               "routes in the spring if fuel prices ease.\n",
               &art);
    assert_string_equal(art.title, "Ferry operator cuts winter routes");
    assert_int_equal(art.n_blocks, 2);
    assert_int_equal(art.blocks[1].kind, NW_BLOCK_PARAGRAPH);
    assert_int_equal(strncmp(art.blocks[1].text, "The company said", 16), 0);
    nw_article_clear(&art);
}

static void test_bullet_markers(void **state)
{
    (void)state;
    nw_article_t art;
    s_parse_ok("Budget at a glance\n"
               "\n"
               "The finance minister presented the budget on Friday, with spending on schools "
               "and roads up and taxes on small firms cut:\n"
               "\xE2\x80\xA2 Alpha point\n"
               "- Bravo point\n"
               "* Charlie point\n"
               "\xE2\x80\x93 Delta point\n"
               "1. Echo point\n"
               "12) Foxtrot point\n"
               "\n"
               "The opposition criticised the plan and called it a missed chance for reform.\n",
               &art);
    static const char *const want[] = {"Alpha point", "Bravo point", "Charlie point",
                                       "Delta point", "Echo point",  "Foxtrot point"};
    assert_int_equal(art.n_blocks, 8);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(art.blocks[i + 1].kind, NW_BLOCK_BULLET);
        assert_string_equal(art.blocks[i + 1].text, want[i]);
    }
    assert_int_equal(art.blocks[7].kind, NW_BLOCK_PARAGRAPH);
    nw_article_clear(&art);
}

static void test_wrapped_bullets_with_continuation_lines(void **state)
{
    (void)state;
    nw_article_t art;
    s_parse_ok("BOND ISSUE TERMS SET\n"
               "\n"
               "The issue will consist of two\n"
               "maturities:\n"
               "    - 8 pct bonds due July 1, 1990 at\n"
               "par.\n"
               "    - 8-1/4 pct bonds due 1994.\n"
               "    The bonds will be listed in Zurich.\n"
               "1992. That program has a target of\n",
               &art);
    assert_int_equal(art.n_blocks, 4);
    assert_string_equal(art.blocks[0].text, "The issue will consist of two maturities:");
    assert_int_equal(art.blocks[1].kind, NW_BLOCK_BULLET);
    assert_string_equal(art.blocks[1].text, "8 pct bonds due July 1, 1990 at par.");
    assert_string_equal(art.blocks[2].text, "8-1/4 pct bonds due 1994.");
    /* A wrapped line starting with "1992." continues the paragraph: it is no list item. */
    assert_int_equal(art.blocks[3].kind, NW_BLOCK_PARAGRAPH);
    assert_string_equal(art.blocks[3].text,
                        "The bonds will be listed in Zurich. 1992. That program has a target of");
    nw_article_clear(&art);
}

static void test_headings_become_blocks(void **state)
{
    (void)state;
    nw_article_t art;
    s_parse_ok("Port reopens after storm\n"
               "\n"
               "The port reopened on Monday after a storm closed it for three days, officials "
               "said, and the first ships were unloaded by noon.\n"
               "\n"
               "Market Reaction\n"
               "\n"
               "Shipping shares rose 3% in early trading.\n"
               "\n"
               "Not a heading because it ends.\n"
               "\n"
               "Workers returned to the docks on the night shift.\n",
               &art);
    assert_int_equal(art.n_blocks, 5);
    assert_int_equal(art.blocks[1].kind, NW_BLOCK_HEADING);
    assert_string_equal(art.blocks[1].text, "Market Reaction");
    assert_int_equal(art.blocks[3].kind, NW_BLOCK_PARAGRAPH);
    nw_article_clear(&art);
}

static void test_dateline_gives_place_and_source(void **state)
{
    (void)state;
    nw_article_t art;
    s_parse_ok("Yen slips\n\nTOKYO \xE2\x80\x94 The yen slipped on Monday against the dollar.\n",
               &art);
    assert_string_equal(art.place, "TOKYO");
    assert_string_equal(art.blocks[0].text,
                        "TOKYO \xE2\x80\x94 The yen slipped on Monday against the dollar.");
    nw_article_clear(&art);

    s_parse_ok("Stocks rise\n\nNEW YORK, April 9 (Reuters) - Stocks rose on Wall Street.\n", &art);
    assert_string_equal(art.place, "NEW YORK");
    assert_string_equal(art.source, "Reuters");
    nw_article_clear(&art);

    s_parse_ok("Results\n\nNOTE - Figures are in thousands of dollars.\n", &art);
    assert_string_equal(art.place, "");
    nw_article_clear(&art);

    s_parse_ok("Tariffs\n\nThe U.S. raised tariffs - again - on Monday.\n", &art);
    assert_string_equal(art.place, "");
    nw_article_clear(&art);
}

static void test_crumb_title_repeat_and_byline(void **state)
{
    (void)state;
    nw_article_t art;
    /* "World NewsAsia" is in no rule: the repeated title shows it is a crumb. */
    s_parse_ok("World NewsAsia\n"
               "\n"
               "Port Strike Ends After Ten Days\n"
               "\n"
               "Port Strike Ends After Ten Days/ Harbor Ledger/ MANILA/ A. Cruz/ Late Edition/ "
               "Dockworkers returned to work on Monday after a ten-day strike over pay.\n"
               "\n"
               "Port Strike Ends After Ten Days\n"
               "\n"
               "Ships began unloading within hours, the port authority said.\n",
               &art);
    assert_string_equal(art.title, "Port Strike Ends After Ten Days");
    assert_string_equal(art.source, "Harbor Ledger");
    assert_string_equal(art.place, "MANILA");
    assert_string_equal(art.author, "A. Cruz");
    assert_int_equal(art.n_blocks, 2);
    assert_string_equal(art.blocks[0].text,
                        "Dockworkers returned to work on Monday after a ten-day strike over pay.");
    assert_int_equal(art.blocks[0].line, 5);
    nw_article_clear(&art);
}

static void test_by_line_gives_author(void **state)
{
    (void)state;
    nw_article_t art;
    s_parse_ok("Rail fares to rise\n\nBy Jane Doe\n\nRail fares will rise by 4% in January.\n",
               &art);
    assert_string_equal(art.author, "Jane Doe");
    assert_int_equal(art.n_blocks, 1);
    nw_article_clear(&art);
}

static void test_rules_drop_next_and_end(void **state)
{
    (void)state;
    const char *rules_text = "drop-next exact Next Article\nend exact Related Stories\n";
    const char *text = "Related Stories\n"
                       "\n"
                       "Real Title\n"
                       "\n"
                       "Body paragraph one is here.\n"
                       "\n"
                       "Next Article\n"
                       "Some Other Headline\n"
                       "\n"
                       "Body two is here.\n"
                       "\n"
                       "Body three is here.\n"
                       "\n"
                       "Related Stories\n"
                       "\n"
                       "Linked story one\n";
    nw_boilerplate_t *rules = NULL;
    char err[256];
    assert_int_equal(
        nw_boilerplate_parse(rules_text, strlen(rules_text), "t", &rules, err, sizeof err), NW_OK);
    nw_article_t art;
    assert_int_equal(nw_article_parse(text, strlen(text), rules, &art, err, sizeof err), NW_OK);
    /* Before the body, "end" only drops its own line. */
    assert_string_equal(art.title, "Real Title");
    assert_int_equal(art.n_blocks, 3);
    assert_string_equal(art.blocks[1].text, "Body two is here.");
    assert_string_equal(art.blocks[2].text, "Body three is here.");
    nw_article_clear(&art);
    nw_boilerplate_destroy(&rules);
}

static void test_without_rules_nothing_is_dropped(void **state)
{
    (void)state;
    const char *text = "Title\n\nBody text.\n\nMenu\n";
    nw_article_t art;
    char err[256];
    assert_int_equal(nw_article_parse(text, strlen(text), NULL, &art, err, sizeof err), NW_OK);
    assert_int_equal(art.n_blocks, 2);
    assert_string_equal(art.blocks[1].text, "Menu");
    nw_article_clear(&art);
}

static void test_whitespace_is_normalised(void **state)
{
    (void)state;
    nw_article_t art;
    s_parse_ok("\xEF\xBB\xBF  Title\twith  tabs \r\n\r\nSome\ttext  with\xC2\xA0no-break   "
               "spaces\xE2\x80\x8B and a zero-width one.\r\n",
               &art);
    assert_string_equal(art.title, "Title with tabs");
    assert_string_equal(art.blocks[0].text, "Some text with no-break spaces and a zero-width one.");
    nw_article_clear(&art);

    s_parse_ok("Old Mac file\r\rBody one.\r", &art);
    assert_string_equal(art.title, "Old Mac file");
    assert_string_equal(art.blocks[0].text, "Body one.");
    nw_article_clear(&art);
}

static void test_long_first_line_is_body_too(void **state)
{
    (void)state;
    char text[600];
    snprintf(text, sizeof text, "%s",
             "The council voted on Tuesday to approve a new budget that raises spending on roads, "
             "schools and parks while holding property taxes flat for a third year, after a long "
             "debate in which several members asked for more money for public transport.\n");
    nw_article_t art;
    s_parse_ok(text, &art);
    size_t len = strlen(art.title);
    assert_true(len <= 153);
    assert_string_equal(art.title + len - 3, "\xE2\x80\xA6");
    assert_int_equal(strncmp(art.title, "The council voted on Tuesday", 28), 0);
    assert_int_equal(art.n_blocks, 1);
    assert_int_equal(strncmp(art.blocks[0].text, "The council voted", 17), 0);
    nw_article_clear(&art);
}

static void test_repeated_paragraph_is_dropped(void **state)
{
    (void)state;
    nw_article_t art;
    s_parse_ok(
        "Title\n\nThis paragraph appears twice on the scraped page, once near the top and once in "
        "a box.\n\nOther.\n\n"
        "This paragraph appears twice on the scraped page, once near the top and once in a box.\n",
        &art);
    assert_int_equal(art.n_blocks, 2);
    nw_article_clear(&art);
}

static void test_ids_differ_with_text(void **state)
{
    (void)state;
    nw_article_t a, b;
    s_parse_ok("Title\n\nBody one.\n", &a);
    s_parse_ok("Title\n\nBody two.\n", &b);
    assert_string_not_equal(a.id, b.id);
    nw_article_clear(&a);
    nw_article_clear(&b);
    nw_article_clear(&b); /* twice is safe */
}

/* ---- bad articles ----------------------------------------------------------------- */

static void test_bad_empty(void **state)
{
    (void)state;
    s_parse_fails("", 0, NW_ERR_ARTICLE_EMPTY, "empty");
    s_parse_fails(" \t\r\n\n  \n", 8, NW_ERR_ARTICLE_EMPTY, "empty");
    s_parse_fails("\xEF\xBB\xBF\xC2\xA0\n\xE2\x80\x8B\n", 10, NW_ERR_ARTICLE_EMPTY, "empty");
}

static void test_bad_binary(void **state)
{
    (void)state;
    s_parse_fails("Title\n\nBody\0text", 16, NW_ERR_ARTICLE_BINARY, "NUL byte at offset 11");
    char junk[200];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i % 3 == 0 ? 0x01 + (i % 7) : 'a' + (i % 26));
    s_parse_fails(junk, sizeof junk, NW_ERR_ARTICLE_BINARY, "control characters");
}

static void test_bad_utf8_read_as_latin1(void **state)
{
    (void)state;
    const char *text = "Caf\xE9 owners protest rent rises\n\nOwners of caf\xE9s in Lyon said rents "
                       "rose by 9%.\n";
    nw_boilerplate_t *rules = s_rules();
    nw_article_t art;
    char err[256];
    assert_int_equal(nw_article_parse(text, strlen(text), rules, &art, err, sizeof err), NW_OK);
    assert_true(art.latin1);
    assert_string_equal(art.title, "Caf\xC3\xA9 owners protest rent rises");
    assert_string_equal(art.blocks[0].text,
                        "Owners of caf\xC3\xA9s in Lyon said rents rose by 9%.");
    nw_article_clear(&art);
    nw_boilerplate_destroy(&rules);
}

static void test_bad_only_boilerplate(void **state)
{
    (void)state;
    const char *chrome = "Menu\n\nAdvertisement\n\nShare this\n\nLatest News\n";
    s_parse_fails(chrome, strlen(chrome), NW_ERR_ARTICLE_BOILERPLATE, "boilerplate");
    const char *title_only = "A lonely title\n\nMenu\n\nHow useful was this article?\n";
    s_parse_fails(title_only, strlen(title_only), NW_ERR_ARTICLE_BOILERPLATE, "no body");
}

/* ---- the development corpus, when present --------------------------------------------- */

static size_t s_words(const char *s)
{
    size_t n = 0;
    bool in = false;
    for (; *s; s++) {
        bool sp = *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r';
        n += !sp && !in;
        in = !sp;
    }
    return n;
}

/* True when some line of 40 bytes or more occurs twice in data. */
static bool s_has_repeated_line(const char *data)
{
    for (const char *p = data; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
        size_t len = strcspn(p, "\n");
        if (len < 40)
            continue;
        for (const char *q = strchr(p, '\n'); q != NULL; q = strchr(q + 1, '\n')) {
            if (strncmp(q + 1, p, len) == 0 && (q[1 + len] == '\n' || q[1 + len] == '\0'))
                return true;
        }
    }
    return false;
}

static int s_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parses the first `limit` .txt files of dir (sorted): every one parses, no words are lost
 * beyond a dropped signature line, and no block is a "Reuter" signature. */
static void s_check_corpus_dir(const char *dir, size_t limit)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        print_message("skipped: %s not found\n", dir);
        return;
    }
    char *names[2048];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 2048) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".txt") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], s_cmp_names);
    nw_boilerplate_t *rules = s_rules();
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len;
        char *data = i < limit ? s_read_file(path, &len) : NULL;
        if (data != NULL) {
            nw_article_t art;
            char err[256];
            int rc = nw_article_parse(data, len, rules, &art, err, sizeof err);
            if (rc != NW_OK)
                print_error("%s: %s\n", path, err);
            assert_int_equal(rc, NW_OK);
            size_t out = s_words(art.title);
            for (size_t k = 0; k < art.n_blocks; k++) {
                out += s_words(art.blocks[k].text) + (art.blocks[k].kind == NW_BLOCK_BULLET);
                assert_int_not_equal(strcasecmp(art.blocks[k].text, "reuter"), 0);
                assert_int_not_equal(strcasecmp(art.blocks[k].text, "reuter..."), 0);
            }
            /* Lost: a signature line, or a paragraph the page repeats. */
            size_t in = s_words(data);
            bool ok = in >= out && (in <= out + 2 || s_has_repeated_line(data));
            if (!ok)
                print_error("%s: %zu words in, %zu out\n", path, in, out);
            assert_true(ok);
            nw_article_clear(&art);
            free(data);
        }
        free(names[i]);
    }
    nw_boilerplate_destroy(&rules);
}

static void test_corpus_files_parse_without_loss(void **state)
{
    (void)state;
    DIR *d = opendir(NW_SHARED_DIR "/corpus");
    if (d == NULL) {
        print_message("skipped: %s not found (../shared is not present)\n",
                      NW_SHARED_DIR "/corpus");
        skip();
    }
    closedir(d);
    s_check_corpus_dir(NW_SHARED_DIR "/corpus/reuters/train", 400);
    static const char *const cats[] = {"business", "entertainment", "politics", "sport", "tech"};
    for (size_t i = 0; i < 5; i++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/corpus/bbc/%s", NW_SHARED_DIR, cats[i]);
        s_check_corpus_dir(dir, 80);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_article_alerts),
        cmocka_unit_test(test_seed_quote_joins_its_introduction),
        cmocka_unit_test(test_sample_articles_alerts),
        cmocka_unit_test(test_sample_articles_have_distinct_ids),
        cmocka_unit_test(test_wrapped_wire_story_joins_lines_and_drops_signature),
        cmocka_unit_test(test_wrapped_line_like_the_title_is_kept),
        cmocka_unit_test(test_paragraph_per_line_story),
        cmocka_unit_test(test_bullet_markers),
        cmocka_unit_test(test_wrapped_bullets_with_continuation_lines),
        cmocka_unit_test(test_headings_become_blocks),
        cmocka_unit_test(test_dateline_gives_place_and_source),
        cmocka_unit_test(test_crumb_title_repeat_and_byline),
        cmocka_unit_test(test_by_line_gives_author),
        cmocka_unit_test(test_rules_drop_next_and_end),
        cmocka_unit_test(test_without_rules_nothing_is_dropped),
        cmocka_unit_test(test_whitespace_is_normalised),
        cmocka_unit_test(test_long_first_line_is_body_too),
        cmocka_unit_test(test_repeated_paragraph_is_dropped),
        cmocka_unit_test(test_ids_differ_with_text),
        cmocka_unit_test(test_bad_empty),
        cmocka_unit_test(test_bad_binary),
        cmocka_unit_test(test_bad_utf8_read_as_latin1),
        cmocka_unit_test(test_bad_only_boilerplate),
        cmocka_unit_test(test_corpus_files_parse_without_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
