#include "nw_taxonomy.h"

#include "nw_error.h"
#include "nw_file.h"
#include "nw_features.h"
#include "nw_matcher.h"
#include "nw_topic.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_WORD_MAX   64                 /* bytes of one word of a term */
#define S_WORDS_MAX  8                  /* words in one term */
#define S_FORMS_MAX  32                 /* forms of one word (inflections x spellings) */
#define S_SPELL_MAX  4                  /* variants in one spelling group */
#define S_EXPAND_MAX 64                 /* patterns one term item may expand to */
#define S_FILE_MAX   (16 * 1024 * 1024) /* bytes of a taxonomy file */

extern const char nw_taxonomy_default_text[];

typedef struct {
    char name[NW_TOPIC_MAX + 1];  /* valid topic name */
    char iptc[32];                /* "medtop:NNNNNNNN" or "" */
    double threshold;             /* score an article needs */
    size_t line;                  /* line of its "topic:" */
    size_t n_signals;             /* positive terms, at least one */
    size_t min_terms;             /* distinct positive terms an article needs */
    size_t n_requires;            /* "require:" terms; an article needs one when > 0 */
    char group[NW_TOPIC_MAX + 1]; /* "exclusive:" group, "" when none */
    uint32_t feature;             /* id of the "S:NAME" feature */
} s_topic_t;

typedef struct {
    char **words; /* the variant spellings, each treated as all of them */
    size_t n;
} s_spelling_t;

struct nw_taxonomy_t {
    s_topic_t *topics; /* in file order */
    size_t n_topics;
    nw_term_t *terms; /* every item of every term line */
    size_t n_terms;
    size_t cap_terms;
    s_spelling_t *spellings; /* groups of variant spellings */
    size_t n_spellings;
    double position[4];    /* weight factors per nw_position_t */
    double length_unit;    /* bytes of article that need no length scaling */
    nw_matcher_t *matcher; /* all forms of all terms */
};

/* The state of one parse: where we are, for error messages. */
typedef struct {
    nw_taxonomy_t *tax;
    const char *origin;
    size_t line;
    char *err;
    size_t errlen;
} s_parser_t;

static int s_fail(s_parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int s_fail(s_parser_t *p, const char *fmt, ...)
{
    if (p->err && p->errlen) {
        int n = snprintf(p->err, p->errlen, "%s:%zu: ", p->origin, p->line);
        if (n >= 0 && (size_t)n < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return NW_ERR_CONFIG;
}

static char *s_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static bool s_parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || v != v || v > 1e6 || v < -1e6)
        return false;
    *out = v;
    return true;
}

/* ---- forms of a word: spellings and plain inflections ---- */

typedef struct {
    char form[S_FORMS_MAX][S_WORD_MAX + 8];
    size_t n;
} s_forms_t;

static void s_forms_add(s_forms_t *f, const char *stem, size_t stem_len, const char *suffix)
{
    char buf[S_WORD_MAX + 8];
    snprintf(buf, sizeof(buf), "%.*s%s", (int)stem_len, stem, suffix);
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->form[i], buf) == 0)
            return;
    }
    if (f->n < S_FORMS_MAX)
        memcpy(f->form[f->n++], buf, sizeof(buf));
}

static bool s_is_vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* Plain English inflections: -s, -es, -ed, -ing, with a final e dropped before -ed/-ing
 * and a final consonant+y turned into -ies/-ied. Forms that are not words never occur
 * in text, so overgenerating is harmless. */
static void s_inflect(s_forms_t *f, const char *w)
{
    size_t n = strlen(w);
    s_forms_add(f, w, n, "");
    s_forms_add(f, w, n, "s");
    if (n >= 2 && w[n - 1] == 'y' && !s_is_vowel(w[n - 2])) {
        s_forms_add(f, w, n - 1, "ies");
        s_forms_add(f, w, n - 1, "ied");
        s_forms_add(f, w, n, "ing");
        return;
    }
    if (w[n - 1] == 'e') {
        s_forms_add(f, w, n, "d");
        s_forms_add(f, w, n - 1, "ing");
        return;
    }
    s_forms_add(f, w, n, "es");
    s_forms_add(f, w, n, "ed");
    s_forms_add(f, w, n, "ing");
}

static const s_spelling_t *s_spelling_of(const nw_taxonomy_t *tax, const char *w)
{
    for (size_t g = 0; g < tax->n_spellings; g++) {
        for (size_t i = 0; i < tax->spellings[g].n; i++) {
            if (strcmp(tax->spellings[g].words[i], w) == 0)
                return &tax->spellings[g];
        }
    }
    return NULL;
}

static void s_word_forms(const nw_taxonomy_t *tax, const char *w, bool inflect, s_forms_t *f)
{
    const s_spelling_t *sp = s_spelling_of(tax, w);
    size_t n_spell = sp ? sp->n : 1;
    f->n = 0;
    for (size_t i = 0; i < n_spell; i++) {
        const char *base = sp ? sp->words[i] : w;
        if (inflect)
            s_inflect(f, base);
        else
            s_forms_add(f, base, strlen(base), "");
    }
}

/* ---- term items ---- */

typedef struct {
    char word[S_WORDS_MAX][S_WORD_MAX + 1]; /* lowercase words */
    bool inflect[S_WORDS_MAX];              /* "~" after the word */
    size_t n;
    bool prefix; /* "*" after the last word */
} s_item_t;

/* Splits one item ("trade~ war*") into words and markers. */
static int s_item_parse(s_parser_t *p, const char *text, s_item_t *it)
{
    memset(it, 0, sizeof(*it));
    size_t len = 0;
    for (const char *c = text;; c++) {
        unsigned char b = (unsigned char)*c;
        if (b >= 0x80)
            return s_fail(p, "'%s': terms are ASCII (letters, digits, separators)", text);
        if (isalnum(b)) {
            if (it->prefix)
                return s_fail(p, "'%s': '*' may only end a term", text);
            if (len == 0 && it->n == S_WORDS_MAX)
                return s_fail(p, "'%s': more than %d words", text, S_WORDS_MAX);
            if (len == S_WORD_MAX)
                return s_fail(p, "'%s': word longer than %d bytes", text, S_WORD_MAX);
            it->word[it->n][len++] = (char)tolower(b);
            continue;
        }
        if (len > 0) {
            it->n++;
            len = 0;
        }
        if (b == '\0')
            break;
        if ((b == '~' || b == '*') && (it->n == 0 || c[-1] == ' ' || c[-1] == '\t'))
            return s_fail(p, "'%s': '%c' must follow a word directly", text, b);
        if (b == '~')
            it->inflect[it->n - 1] = true;
        else if (b == '*')
            it->prefix = true;
    }
    if (it->n == 0)
        return s_fail(p, "empty term");
    if (it->prefix && it->inflect[it->n - 1])
        return s_fail(p, "'%s': a word takes '~' or '*', not both", text);
    return NW_OK;
}

static int s_term_push(s_parser_t *p, nw_term_kind_t kind, size_t topic, double weight,
                       const char *text)
{
    nw_taxonomy_t *tax = p->tax;
    if (tax->n_terms == tax->cap_terms) {
        size_t cap = tax->cap_terms ? tax->cap_terms * 2 : 128;
        nw_term_t *terms = realloc(tax->terms, cap * sizeof(*terms));
        if (!terms)
            return NW_ERR_NOMEM;
        tax->terms = terms;
        tax->cap_terms = cap;
    }
    char *copy = strdup(text);
    if (!copy)
        return NW_ERR_NOMEM;
    tax->terms[tax->n_terms++] =
        (nw_term_t){.kind = kind, .topic = topic, .weight = weight, .line = p->line, .text = copy};
    return NW_OK;
}

/* Adds every combination of the words' forms to the matcher as term `term`. */
static int s_item_expand(s_parser_t *p, const s_item_t *it, const char *text, uint32_t term)
{
    s_forms_t forms[S_WORDS_MAX];
    size_t total = 1;
    for (size_t w = 0; w < it->n; w++) {
        s_word_forms(p->tax, it->word[w], it->inflect[w], &forms[w]);
        total *= forms[w].n;
        if (total > S_EXPAND_MAX)
            return s_fail(p, "'%s': more than %d forms", text, S_EXPAND_MAX);
    }
    for (size_t k = 0; k < total; k++) {
        char pat[S_WORDS_MAX * (S_WORD_MAX + 9)];
        size_t len = 0, rest = k;
        for (size_t w = 0; w < it->n; w++) {
            const char *form = forms[w].form[rest % forms[w].n];
            rest /= forms[w].n;
            len += (size_t)snprintf(pat + len, sizeof(pat) - len, "%s%s", w ? " " : "", form);
        }
        int rc = nw_matcher_add(p->tax->matcher, pat, len, it->prefix, term);
        if (rc != NW_OK)
            return rc == NW_ERR_NOMEM ? rc : s_fail(p, "'%s': not a usable term", text);
    }
    return NW_OK;
}

/* Parses a comma-separated list of items, each one term of the given kind. */
static int s_items(s_parser_t *p, char *list, nw_term_kind_t kind, size_t topic, double weight)
{
    int rc;
    for (char *save = NULL, *item = strtok_r(list, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        item = s_trim(item);
        s_item_t it;
        if ((rc = s_item_parse(p, item, &it)) != NW_OK)
            return rc;
        if ((rc = s_term_push(p, kind, topic, weight, item)) != NW_OK)
            return rc;
        if ((rc = s_item_expand(p, &it, item, (uint32_t)(p->tax->n_terms - 1))) != NW_OK)
            return rc;
        if (kind == NW_TERM_SIGNAL && weight > 0)
            p->tax->topics[topic].n_signals++;
        if (kind == NW_TERM_REQUIRE)
            p->tax->topics[topic].n_requires++;
    }
    return NW_OK;
}

/* ---- directives ---- */

static int s_topic(s_parser_t *p, const char *name)
{
    nw_taxonomy_t *tax = p->tax;
    if (!nw_topic_valid(name, strlen(name)))
        return s_fail(p, "'%s' is not a valid topic (dot-separated [a-z0-9-] segments)", name);
    if (strcmp(name, "general") == 0)
        return s_fail(p, "'general' is reserved for alerts no topic applies to");
    if (nw_taxonomy_topic_find(tax, name) >= 0)
        return s_fail(p, "topic '%s' is defined twice", name);
    s_topic_t *topics = realloc(tax->topics, (tax->n_topics + 1) * sizeof(*topics));
    if (!topics)
        return NW_ERR_NOMEM;
    tax->topics = topics;
    s_topic_t *t = &topics[tax->n_topics++];
    memset(t, 0, sizeof(*t));
    memcpy(t->name, name, strlen(name) + 1);
    t->threshold = 3.0;
    t->min_terms = 1;
    char feature[NW_TOPIC_MAX + 8];
    snprintf(feature, sizeof feature, "S:%s", name);
    t->feature = nw_features_named_id(feature);
    t->line = p->line;
    return NW_OK;
}

static int s_iptc(s_parser_t *p, s_topic_t *t, const char *code)
{
    size_t n = strlen(code);
    bool ok = n == 15 && strncmp(code, "medtop:", 7) == 0;
    for (size_t i = 7; ok && i < n; i++)
        ok = isdigit((unsigned char)code[i]);
    if (!ok)
        return s_fail(p, "'%s' is not an IPTC Media Topic code (medtop: and 8 digits)", code);
    memcpy(t->iptc, code, n + 1);
    return NW_OK;
}

static int s_spelling(s_parser_t *p, char *list)
{
    nw_taxonomy_t *tax = p->tax;
    s_spelling_t *sp = realloc(tax->spellings, (tax->n_spellings + 1) * sizeof(*sp));
    if (!sp)
        return NW_ERR_NOMEM;
    tax->spellings = sp;
    s_spelling_t *g = &sp[tax->n_spellings++];
    memset(g, 0, sizeof(*g));
    for (char *save = NULL, *w = strtok_r(list, " \t,", &save); w;
         w = strtok_r(NULL, " \t,", &save)) {
        for (char *c = w; *c; c++) {
            if (!isalnum((unsigned char)*c))
                return s_fail(p, "'%s': a spelling is one word of letters and digits", w);
            *c = (char)tolower((unsigned char)*c);
        }
        if (strlen(w) > S_WORD_MAX || g->n == S_SPELL_MAX)
            return s_fail(p, "'%s': spelling too long or too many spellings", w);
        if (s_spelling_of(tax, w))
            return s_fail(p, "'%s' already has a spelling group", w);
        char **words = realloc(g->words, (g->n + 1) * sizeof(char *));
        if (!words)
            return NW_ERR_NOMEM;
        g->words = words;
        if (!(g->words[g->n] = strdup(w)))
            return NW_ERR_NOMEM;
        g->n++;
    }
    if (g->n < 2)
        return s_fail(p, "a spelling line names two or more variants of one word");
    return NW_OK;
}

static int s_position(s_parser_t *p, const char *key, const char *value)
{
    if (strcmp(key, "length-unit") == 0) {
        double v;
        if (!s_parse_number(value, &v) || v < 0)
            return s_fail(p, "length-unit: '%s' is not a number of bytes >= 0", value);
        p->tax->length_unit = v;
        return NW_OK;
    }
    static const char *const names[] = {"weight-title", "weight-lead", "weight-keypoint",
                                        "weight-body"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(key, names[i]) == 0) {
            double v;
            if (!s_parse_number(value, &v) || v < 0)
                return s_fail(p, "%s: '%s' is not a number >= 0", key, value);
            p->tax->position[i] = v;
            return NW_OK;
        }
    }
    return s_fail(p, "unknown directive '%s'", key);
}

/* A directive of the current topic (or a term line). */
static int s_topic_line(s_parser_t *p, const char *key, char *value)
{
    nw_taxonomy_t *tax = p->tax;
    size_t ti = tax->n_topics - 1;
    double v;
    if (strcmp(key, "iptc") == 0)
        return s_iptc(p, &tax->topics[ti], value);
    if (strcmp(key, "threshold") == 0) {
        if (!s_parse_number(value, &v) || v <= 0)
            return s_fail(p, "threshold: '%s' is not a number > 0", value);
        tax->topics[ti].threshold = v;
        return NW_OK;
    }
    if (strcmp(key, "min-terms") == 0) {
        if (!s_parse_number(value, &v) || v < 1 || v > 100 || v != (double)(size_t)v)
            return s_fail(p, "min-terms: '%s' is not a whole number from 1 to 100", value);
        tax->topics[ti].min_terms = (size_t)v;
        return NW_OK;
    }
    if (strcmp(key, "exclusive") == 0) {
        if (!nw_topic_valid(value, strlen(value)))
            return s_fail(p, "exclusive: '%s' is not a valid group name ([a-z0-9-] segments)",
                          value);
        memcpy(tax->topics[ti].group, value, strlen(value) + 1);
        return NW_OK;
    }
    if (strcmp(key, "veto") == 0)
        return s_items(p, value, NW_TERM_VETO, ti, 0);
    if (strcmp(key, "require") == 0)
        return s_items(p, value, NW_TERM_REQUIRE, ti, 0);
    if (s_parse_number(key, &v)) {
        if (v == 0)
            return s_fail(p, "a term weight may not be 0");
        return s_items(p, value, NW_TERM_SIGNAL, ti, v);
    }
    return s_fail(p, "unknown directive '%s'", key);
}

static int s_line(s_parser_t *p, char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    line = s_trim(line);
    if (*line == '\0')
        return NW_OK;
    char *colon = strchr(line, ':');
    if (!colon)
        return s_fail(p, "expected 'key: value' (e.g. 'topic: trade' or '2: tariff~')");
    *colon = '\0';
    char *key = s_trim(line), *value = s_trim(colon + 1);
    if (*value == '\0')
        return s_fail(p, "'%s:' has no value", key);
    if (strcmp(key, "topic") == 0)
        return s_topic(p, value);
    if (strcmp(key, "spelling") == 0 || strcmp(key, "urgent") == 0 ||
        strncmp(key, "weight-", 7) == 0 || strcmp(key, "length-unit") == 0) {
        if (p->tax->n_topics > 0)
            return s_fail(p, "'%s:' must come before the first topic", key);
        if (strcmp(key, "spelling") == 0)
            return s_spelling(p, value);
        if (strcmp(key, "urgent") == 0)
            return s_items(p, value, NW_TERM_URGENT, 0, 0);
        return s_position(p, key, value);
    }
    if (p->tax->n_topics == 0)
        return s_fail(p, "'%s:' outside a topic (start one with 'topic: NAME')", key);
    return s_topic_line(p, key, value);
}

static int s_check_topics(s_parser_t *p)
{
    for (size_t i = 0; i < p->tax->n_topics; i++) {
        if (p->tax->topics[i].n_signals == 0) {
            p->line = p->tax->topics[i].line;
            return s_fail(p, "topic '%s' has no term with a positive weight",
                          p->tax->topics[i].name);
        }
    }
    if (p->tax->n_topics == 0)
        return s_fail(p, "no topic defined");
    return NW_OK;
}

static nw_taxonomy_t *s_new(void)
{
    nw_taxonomy_t *tax = calloc(1, sizeof(*tax));
    if (!tax)
        return NULL;
    tax->position[NW_POS_TITLE] = 3.0;
    tax->position[NW_POS_LEAD] = 2.0;
    tax->position[NW_POS_KEYPOINT] = 1.5;
    tax->position[NW_POS_BODY] = 1.0;
    tax->length_unit = 1000.0;
    if (nw_matcher_new(&tax->matcher) != NW_OK) {
        free(tax);
        return NULL;
    }
    return tax;
}

/* Gives every term the model feature id of its hits, named "T:TOPIC:TEXT" as nw_docvec names
 * it, once every topic is known. */
static void s_term_features(nw_taxonomy_t *tax)
{
    for (size_t i = 0; i < tax->n_terms; i++) {
        nw_term_t *term = &tax->terms[i];
        const char *topic = term->topic < tax->n_topics ? tax->topics[term->topic].name : "";
        char name[NW_TOPIC_MAX + S_WORDS_MAX * (S_WORD_MAX + 2) + 8];
        snprintf(name, sizeof name, "T:%s:%s", topic, term->text);
        term->feature = nw_features_named_id(name);
    }
}

int nw_taxonomy_parse(const char *text, size_t len, const char *origin, nw_taxonomy_t **out,
                      char *err, size_t errlen)
{
    int rc = NW_ERR_NOMEM;
    s_parser_t p = {.origin = origin ? origin : "taxonomy", .err = err, .errlen = errlen};
    char *copy = malloc(len + 1);
    if (err && errlen)
        err[0] = '\0';
    if (!copy || !(p.tax = s_new()))
        goto fail;
    memcpy(copy, text, len);
    copy[len] = '\0';
    p.line = 1;
    if (strlen(copy) != len) {
        for (const char *c = copy; *c; c++)
            p.line += *c == '\n';
        rc = s_fail(&p, "NUL byte: not a text file");
        goto fail;
    }
    for (char *line = copy, *next; line; line = next, p.line++) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if ((rc = s_line(&p, line)) != NW_OK)
            goto fail;
    }
    p.line -= (len > 0 && text[len - 1] == '\n') ? 2 : 1; /* the last line */
    if ((rc = s_check_topics(&p)) != NW_OK || (rc = nw_matcher_compile(p.tax->matcher)) != NW_OK)
        goto fail;
    s_term_features(p.tax);
    free(copy);
    *out = p.tax;
    return NW_OK;
fail:
    if (rc == NW_ERR_NOMEM && err && errlen)
        snprintf(err, errlen, "%s: out of memory", p.origin);
    free(copy);
    nw_taxonomy_destroy(&p.tax);
    return rc;
}

int nw_taxonomy_load(const char *path, nw_taxonomy_t **out, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    int rc = nw_file_read_all(path, S_FILE_MAX, &data, &len, err, errlen);
    if (rc == NW_OK)
        rc = nw_taxonomy_parse(data, len, path, out, err, errlen);
    free(data);
    return rc;
}

int nw_taxonomy_default(nw_taxonomy_t **out)
{
    char err[256];
    return nw_taxonomy_parse(nw_taxonomy_default_text, strlen(nw_taxonomy_default_text),
                             "topics.conf (built in)", out, err, sizeof(err));
}

size_t nw_taxonomy_topic_count(const nw_taxonomy_t *tax)
{
    return tax->n_topics;
}

const char *nw_taxonomy_topic_name(const nw_taxonomy_t *tax, size_t i)
{
    return i < tax->n_topics ? tax->topics[i].name : NULL;
}

const char *nw_taxonomy_topic_iptc(const nw_taxonomy_t *tax, size_t i)
{
    return i < tax->n_topics ? tax->topics[i].iptc : "";
}

double nw_taxonomy_topic_threshold(const nw_taxonomy_t *tax, size_t i)
{
    return i < tax->n_topics ? tax->topics[i].threshold : 0;
}

size_t nw_taxonomy_topic_min_terms(const nw_taxonomy_t *tax, size_t i)
{
    return i < tax->n_topics ? tax->topics[i].min_terms : 1;
}

size_t nw_taxonomy_topic_requires(const nw_taxonomy_t *tax, size_t i)
{
    return i < tax->n_topics ? tax->topics[i].n_requires : 0;
}

const char *nw_taxonomy_topic_group(const nw_taxonomy_t *tax, size_t i)
{
    return i < tax->n_topics ? tax->topics[i].group : "";
}

uint32_t nw_taxonomy_topic_feature(const nw_taxonomy_t *tax, size_t i)
{
    return i < tax->n_topics ? tax->topics[i].feature : 0;
}

int nw_taxonomy_topic_find(const nw_taxonomy_t *tax, const char *name)
{
    for (size_t i = 0; i < tax->n_topics; i++) {
        if (strcmp(tax->topics[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

size_t nw_taxonomy_term_count(const nw_taxonomy_t *tax)
{
    return tax->n_terms;
}

const nw_term_t *nw_taxonomy_term(const nw_taxonomy_t *tax, size_t i)
{
    return i < tax->n_terms ? &tax->terms[i] : NULL;
}

double nw_taxonomy_position_weight(const nw_taxonomy_t *tax, nw_position_t pos)
{
    return (unsigned)pos < 4 ? tax->position[pos] : 1.0;
}

double nw_taxonomy_length_unit(const nw_taxonomy_t *tax)
{
    return tax->length_unit;
}

size_t nw_taxonomy_scan(const nw_taxonomy_t *tax, const char *text, size_t len,
                        void (*hit)(uint32_t term, void *ctx), void *ctx)
{
    return nw_matcher_scan(tax->matcher, text, len, hit, ctx);
}

void nw_taxonomy_destroy(nw_taxonomy_t **tax_p)
{
    if (!tax_p || !*tax_p)
        return;
    nw_taxonomy_t *tax = *tax_p;
    for (size_t g = 0; g < tax->n_spellings; g++) {
        for (size_t i = 0; i < tax->spellings[g].n; i++)
            free(tax->spellings[g].words[i]);
        free(tax->spellings[g].words);
    }
    free(tax->spellings);
    free(tax->topics);
    for (size_t i = 0; i < tax->n_terms; i++)
        free((char *)tax->terms[i].text);
    free(tax->terms);
    nw_matcher_destroy(&tax->matcher);
    free(tax);
    *tax_p = NULL;
}
