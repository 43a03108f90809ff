#include "nw_boilerplate.h"

#include "nw_error.h"
#include "nw_file.h"
#include "nw_utf8.h"

#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The default rules: publisher/input/boilerplate.conf, embedded by nw_embed_text(). */
extern const char nw_boilerplate_default_text[];

#define S_RULES_FILE_MAX (1024 * 1024) /* a rules file larger than this is a mistake */
#define S_STACK_LINE     512           /* lines shorter than this are matched without malloc */

typedef enum {
    S_EXACT,
    S_PREFIX,
    S_SUFFIX,
    S_CONTAINS,
    S_REGEX,
} s_kind_t;

/* A set of bytes, one bit each. */
typedef struct {
    uint8_t bits[32];
} s_bytes_t;

typedef struct {
    s_kind_t kind;         /* how pattern is compared with a line */
    nw_bp_action_t action; /* what a match means */
    char *pattern;         /* the pattern text, NUL-terminated */
    size_t len;            /* bytes of pattern */
    regex_t re;            /* compiled pattern, for S_REGEX only */
    /* A prefilter for S_REGEX, exact (never skips a line the regex matches): a regex anchored
     * with ^ that cannot match the empty string matches only a line whose first byte is in
     * first; likewise with $ and the last byte. regexec is slow (it upper-cases the whole
     * line per call under REG_ICASE), and most lines fail on their first byte. */
    bool check_first, check_last;
    s_bytes_t first, last;
    char *lead;      /* for ^ then literal text: that text (ASCII), which the line must start
                      * with, ignoring case; NULL otherwise */
    size_t lead_len; /* bytes of lead */
    char *lower;     /* for S_CONTAINS: pattern with A-Z lowered */
} s_rule_t;

struct nw_boilerplate_t {
    s_rule_t *rules; /* in file order; the first match decides */
    size_t n;        /* used entries of rules */
    size_t cap;      /* allocated entries of rules */
    /* A line longer than every exact rule can only match the other rules: their indices, in
     * file order (built by s_index once the rules are parsed). */
    size_t exact_max; /* bytes of the longest exact rule */
    size_t *long_rules;
    size_t n_long;
    bool has_contains; /* some rule is a contains rule (a lowered copy of the line helps) */
};

static const struct {
    const char *name;
    s_kind_t kind;
} s_kinds[] = {
    {"exact", S_EXACT},       {"prefix", S_PREFIX}, {"suffix", S_SUFFIX},
    {"contains", S_CONTAINS}, {"regex", S_REGEX},
};

static const struct {
    const char *name;
    nw_bp_action_t action;
} s_actions[] = {
    {"drop", NW_BP_DROP},
    {"drop-next", NW_BP_DROP_NEXT},
    {"end", NW_BP_END},
};

static bool s_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Case-insensitive (ASCII, as strncasecmp) search for needle in hay; lower is hay with
 * A-Z lowered, when the caller made it, and lneedle the needle lowered. */
static bool s_contains_ci(const char *hay, const char *lower, size_t hlen, const char *needle,
                          const char *lneedle, size_t nlen)
{
    if (nlen > hlen)
        return false;
    if (nlen == 0)
        return true;
    if (lower != NULL) {
        /* memchr for the first byte, then the rest: cheaper than memmem's set-up on lines
         * this short. */
        const char *p = lower, *last = lower + hlen - nlen;
        while (p <= last && (p = memchr(p, lneedle[0], (size_t)(last - p) + 1)) != NULL) {
            if (memcmp(p + 1, lneedle + 1, nlen - 1) == 0)
                return true;
            p++;
        }
        return false;
    }
    for (size_t i = 0; i + nlen <= hlen; i++) {
        if (strncasecmp(hay + i, needle, nlen) == 0)
            return true;
    }
    return false;
}

static char s_ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool s_bytes_has(const s_bytes_t *set, unsigned char c)
{
    return (set->bits[c >> 3] >> (c & 7)) & 1;
}

/* Returns false when the rule's prefilter proves the regex cannot match line, whose first
 * len bytes are what regexec sees (up to the first NUL). */
static bool s_regex_may_match(const s_rule_t *rule, const char *line, size_t len)
{
    if (!rule->check_first && !rule->check_last)
        return true;
    if (len == 0)
        return false; /* both checks are made only for regexes that need a byte */
    if (rule->check_first && !s_bytes_has(&rule->first, (unsigned char)line[0]))
        return false;
    if (rule->check_last && !s_bytes_has(&rule->last, (unsigned char)line[len - 1]))
        return false;
    if (rule->lead_len == 0)
        return true;
    if (len < rule->lead_len)
        return false;
    for (size_t i = 0; i < rule->lead_len; i++) {
        if ((unsigned char)line[i] >= 0x80)
            return true; /* may fold to ASCII in a UTF-8 locale: let regexec decide */
    }
    return strncasecmp(line, rule->lead, rule->lead_len) == 0;
}

static bool s_regex_match(const regex_t *re, const char *line, size_t len)
{
    /* regexec wants a NUL-terminated string; the caller's line need not be one. */
    char stack[S_STACK_LINE];
    char *buf = stack;
    if (len >= sizeof(stack)) {
        buf = malloc(len + 1);
        if (buf == NULL)
            return false;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    bool hit = regexec(re, buf, 0, NULL, 0) == 0;
    if (buf != stack)
        free(buf);
    return hit;
}

/* re_len: bytes of line before its first NUL, all that regexec sees; lower: the line with
 * A-Z lowered, or NULL. */
static bool s_rule_match(const s_rule_t *rule, const char *line, size_t len, size_t re_len,
                         const char *lower)
{
    switch (rule->kind) {
    case S_EXACT: return len == rule->len && strncasecmp(line, rule->pattern, len) == 0;
    case S_PREFIX: return len >= rule->len && strncasecmp(line, rule->pattern, rule->len) == 0;
    case S_SUFFIX:
        return len >= rule->len &&
               strncasecmp(line + len - rule->len, rule->pattern, rule->len) == 0;
    case S_CONTAINS: return s_contains_ci(line, lower, len, rule->pattern, rule->lower, rule->len);
    case S_REGEX:
        return s_regex_may_match(rule, line, re_len) && s_regex_match(&rule->re, line, len);
    }
    return false;
}

nw_bp_action_t nw_boilerplate_classify(const nw_boilerplate_t *rules, const char *line, size_t len)
{
    if (rules == NULL || line == NULL)
        return NW_BP_KEEP;
    const char *nul = memchr(line, '\0', len);
    size_t re_len = nul != NULL ? (size_t)(nul - line) : len;
    char stack[S_STACK_LINE];
    const char *lower = NULL;
    if (rules->has_contains && len <= sizeof(stack)) {
        for (size_t i = 0; i < len; i++)
            stack[i] = s_ascii_lower(line[i]);
        lower = stack;
    }
    /* Skipping the exact rules a line is too long for changes no answer: the rules left are
     * tried in the same order. */
    bool is_long = len > rules->exact_max;
    size_t n = is_long ? rules->n_long : rules->n;
    for (size_t k = 0; k < n; k++) {
        const s_rule_t *rule = &rules->rules[is_long ? rules->long_rules[k] : k];
        if (s_rule_match(rule, line, len, re_len, lower))
            return rule->action;
    }
    return NW_BP_KEEP;
}

bool nw_boilerplate_match(const nw_boilerplate_t *rules, const char *line, size_t len)
{
    return nw_boilerplate_classify(rules, line, len) != NW_BP_KEEP;
}

size_t nw_boilerplate_count(const nw_boilerplate_t *rules)
{
    return rules == NULL ? 0 : rules->n;
}

void nw_boilerplate_destroy(nw_boilerplate_t **rules_p)
{
    if (rules_p == NULL || *rules_p == NULL)
        return;
    nw_boilerplate_t *self = *rules_p;
    for (size_t i = 0; i < self->n; i++) {
        if (self->rules[i].kind == S_REGEX)
            regfree(&self->rules[i].re);
        free(self->rules[i].pattern);
        free(self->rules[i].lead);
        free(self->rules[i].lower);
    }
    free(self->rules);
    free(self->long_rules);
    free(self);
    *rules_p = NULL;
}

/* Takes the next blank-separated word of [*p, end) into *word / *wlen and advances *p. */
static void s_next_word(const char **p, const char *end, const char **word, size_t *wlen)
{
    const char *s = *p;
    while (s < end && s_is_blank(*s))
        s++;
    const char *e = s;
    while (e < end && !s_is_blank(*e))
        e++;
    *word = s;
    *wlen = (size_t)(e - s);
    *p = e;
}

static bool s_word_is(const char *word, size_t wlen, const char *name)
{
    return wlen == strlen(name) && strncmp(word, name, wlen) == 0;
}

static int s_lookup_kind(const char *word, size_t wlen, s_kind_t *kind)
{
    for (size_t i = 0; i < sizeof(s_kinds) / sizeof(s_kinds[0]); i++) {
        if (s_word_is(word, wlen, s_kinds[i].name)) {
            *kind = s_kinds[i].kind;
            return NW_OK;
        }
    }
    return NW_ERR_CONFIG;
}

static int s_lookup_action(const char *word, size_t wlen, nw_bp_action_t *action)
{
    for (size_t i = 0; i < sizeof(s_actions) / sizeof(s_actions[0]); i++) {
        if (s_word_is(word, wlen, s_actions[i].name)) {
            *action = s_actions[i].action;
            return NW_OK;
        }
    }
    return NW_ERR_CONFIG;
}

static int s_grow(nw_boilerplate_t *self)
{
    if (self->n < self->cap)
        return NW_OK;
    size_t cap = self->cap ? self->cap * 2 : 32;
    s_rule_t *rules = realloc(self->rules, cap * sizeof(*rules));
    if (rules == NULL)
        return NW_ERR_NOMEM;
    self->rules = rules;
    self->cap = cap;
    return NW_OK;
}

/* The cost of a regular expression, checked before glibc's regcomp sees it. Two shapes make
 * regcomp slow or huge, and both are refused:
 * - repetition of something that can match nothing, such as (a*)*, ()+ or (a|)+, or two
 *   repetition operators in a row (a**): the empty loops make regcomp's closure step
 *   superlinear, ((a*)*){1,2000} takes 30 s;
 * - counted repetitions that expand too far: regcomp copies x{m,n} into n copies of x, so
 *   nested counts multiply (^(((a{1,255}){1,255}){1,255})$ is 16 million states) and a long
 *   chain of optional copies costs the square of its length (.{1,20000} takes 6 s).
 * The cost is the number of atoms once every count is expanded, * + ? counting twice; rules
 * over S_REGEX_COST_MAX are refused. */
#define S_REGEX_COST_MAX 2000
#define S_REGEX_LEN_MAX  512

typedef struct {
    const char *p;       /* next character */
    const char *end;     /* end of the pattern */
    int depth;           /* groups open */
    const char *refused; /* why the pattern is refused, or NULL */
} s_re_t;

/* What a piece of a pattern costs, and whether it can match the empty string. */
typedef struct {
    uint64_t cost;
    bool nullable;
} s_re_cost_t;

static s_re_cost_t s_re_alt(s_re_t *re);

/* Skips a bracket expression whose '[' was just read. */
static void s_re_bracket(s_re_t *re)
{
    if (re->p < re->end && *re->p == '^')
        re->p++;
    if (re->p < re->end && *re->p == ']')
        re->p++;
    while (re->p < re->end && *re->p != ']') {
        if (*re->p == '[' && re->p + 1 < re->end && strchr(":.=", re->p[1]) != NULL) {
            const char *close = re->p + 2;
            while (close + 1 < re->end && !(close[0] == re->p[1] && close[1] == ']'))
                close++;
            re->p = close + 1 < re->end ? close + 2 : re->end;
            continue;
        }
        re->p++;
    }
    if (re->p < re->end)
        re->p++;
}

static bool s_re_is_repeat(const s_re_t *re)
{
    return re->p < re->end && strchr("*+?{", *re->p) != NULL;
}

/* Applies the repetition operator after an atom, if any, to its cost: {m,n} multiplies by n,
 * * + ? by 2. Refuses a repeated atom that can match nothing and a second operator. */
static s_re_cost_t s_re_repeat(s_re_t *re, s_re_cost_t atom)
{
    if (re->refused != NULL || !s_re_is_repeat(re))
        return atom;
    if (atom.nullable) {
        re->refused = "repeats something that can match nothing, such as (a*)* or ()+";
        return atom;
    }
    uint64_t mul = 2, low = 0;
    char op = *re->p++;
    if (op == '+') {
        low = 1;
    } else if (op == '{') {
        uint64_t n = 0, first = UINT64_MAX;
        mul = 0;
        for (; re->p < re->end && *re->p != '}'; re->p++) {
            if (*re->p >= '0' && *re->p <= '9') {
                n = n * 10 + (uint64_t)(*re->p - '0');
                n = n > 100000 ? 100000 : n;
                mul = n > mul ? n : mul;
            } else {
                first = first == UINT64_MAX ? n : first;
                n = 0;
            }
        }
        if (re->p < re->end)
            re->p++;
        low = first == UINT64_MAX ? n : first;
        mul = mul > 0 ? mul : 1;
    }
    if (s_re_is_repeat(re))
        re->refused = "has two repetition operators in a row, such as a** or a+?";
    return (s_re_cost_t){atom.cost * mul, low == 0};
}

/* A sequence of atoms, up to '|', ')' or the end: costs add up; nullable if every atom is. */
static s_re_cost_t s_re_seq(s_re_t *re)
{
    s_re_cost_t seq = {0, true};
    while (re->p < re->end && *re->p != '|' && *re->p != ')' && re->refused == NULL) {
        s_re_cost_t atom = {1, false};
        char c = *re->p++;
        if (c == '\\' && re->p < re->end) {
            re->p++;
        } else if (c == '[') {
            s_re_bracket(re);
        } else if (c == '^' || c == '$') {
            atom.nullable = true;
        } else if (c == '(' && re->depth < 64) {
            re->depth++;
            atom = s_re_alt(re);
            atom.cost = atom.cost > 0 ? atom.cost : 1; /* regcomp copies an empty group too */
            re->depth--;
            if (re->p < re->end && *re->p == ')')
                re->p++;
        }
        atom = s_re_repeat(re, atom);
        seq.cost += atom.cost;
        seq.nullable = seq.nullable && atom.nullable;
        if (seq.cost > S_REGEX_COST_MAX)
            break;
    }
    return seq;
}

/* Alternatives a|b|c: costs add up; nullable if any alternative is. */
static s_re_cost_t s_re_alt(s_re_t *re)
{
    s_re_cost_t alt = s_re_seq(re);
    while (re->p < re->end && *re->p == '|' && alt.cost <= S_REGEX_COST_MAX &&
           re->refused == NULL) {
        re->p++;
        s_re_cost_t next = s_re_seq(re);
        alt.cost += next.cost;
        alt.nullable = alt.nullable || next.nullable;
    }
    return alt;
}

/* Returns NW_OK when pattern is cheap enough to compile and match, else NW_ERR_CONFIG with
 * why saying so. */
static int s_regex_cost_ok(const char *pattern, size_t len, char *why, size_t whylen)
{
    if (len > S_REGEX_LEN_MAX) {
        snprintf(why, whylen, "regular expression longer than %d bytes", S_REGEX_LEN_MAX);
        return NW_ERR_CONFIG;
    }
    s_re_t re = {pattern, pattern + len, 0, NULL};
    uint64_t cost = 0;
    while (re.p < re.end && cost <= S_REGEX_COST_MAX && re.refused == NULL) {
        cost += s_re_alt(&re).cost;
        if (re.p < re.end)
            re.p++; /* an unbalanced ')': regcomp reports it */
    }
    if (re.refused != NULL) {
        snprintf(why, whylen, "regular expression '%.80s' %s", pattern, re.refused);
        return NW_ERR_CONFIG;
    }
    if (cost > S_REGEX_COST_MAX) {
        snprintf(why, whylen,
                 "regular expression '%.80s' too costly: its repetitions expand to more "
                 "than %d states (nest fewer {m,n} or use smaller counts)",
                 pattern, S_REGEX_COST_MAX);
        return NW_ERR_CONFIG;
    }
    return NW_OK;
}

/* First and last bytes of the strings a piece of a regex matches (Glushkov's first and last
 * sets), over bytes, for the prefilter. Anything not understood sets unsure, and the rule then
 * has no prefilter. */
typedef struct {
    s_bytes_t first, last;
    bool nullable; /* can match the empty string */
} s_re_ends_t;

typedef struct {
    const char *p, *end;
    bool unsure;
} s_re_scan_t;

static void s_bytes_add(s_bytes_t *set, unsigned char c)
{
    set->bits[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static void s_bytes_union(s_bytes_t *into, const s_bytes_t *from)
{
    for (size_t i = 0; i < sizeof(into->bits); i++)
        into->bits[i] |= from->bits[i];
}

static s_re_ends_t s_re_ends_any(void)
{
    s_re_ends_t any;
    memset(&any, 0xff, sizeof(any));
    any.nullable = false;
    return any;
}

/* One ASCII character under REG_ICASE: both cases, plus every byte >= 0x80, since in a UTF-8
 * locale a multibyte character may fold to an ASCII one (KELVIN SIGN to k). */
static s_re_ends_t s_re_ends_char(unsigned char c)
{
    if (c >= 0x80)
        return s_re_ends_any();
    s_re_ends_t one;
    memset(&one, 0, sizeof(one));
    s_bytes_add(&one.first, (unsigned char)tolower(c));
    s_bytes_add(&one.first, (unsigned char)toupper(c));
    for (unsigned b = 0x80; b <= 0xff; b++)
        s_bytes_add(&one.first, (unsigned char)b);
    one.last = one.first;
    return one;
}

static s_re_ends_t s_re_ends_alt(s_re_scan_t *sc, int depth);

/* One atom and the repetition operators after it. */
static s_re_ends_t s_re_ends_atom(s_re_scan_t *sc, int depth)
{
    s_re_ends_t atom = s_re_ends_any();
    unsigned char c = (unsigned char)*sc->p++;
    if (c == '\\') {
        /* An escaped operator is itself; \w, \<, \` or a back-reference is not modelled. */
        if (sc->p < sc->end && strchr(".[](){}*+?|^$\\/-", *sc->p) != NULL)
            atom = s_re_ends_char((unsigned char)*sc->p++);
        else
            sc->unsure = true;
    } else if (c == '[') {
        s_re_t skip = {sc->p, sc->end, 0, NULL};
        s_re_bracket(&skip);
        sc->p = skip.p;
    } else if (c == '(' && depth < 64) {
        atom = s_re_ends_alt(sc, depth + 1);
        if (sc->p < sc->end && *sc->p == ')')
            sc->p++;
        else
            sc->unsure = true;
    } else if (c == '.') {
        /* any byte */
    } else if (c == '^' || c == '$' || c == ')' || c == '(' || strchr("*+?{|", c) != NULL) {
        sc->unsure = true; /* an anchor inside, or an operator where an atom belongs */
    } else {
        atom = s_re_ends_char(c);
    }
    while (sc->p < sc->end && strchr("*+?{", *sc->p) != NULL) {
        char op = *sc->p++;
        if (op == '*' || op == '?') {
            atom.nullable = true;
        } else if (op == '{') {
            if (sc->p >= sc->end || *sc->p < '0' || *sc->p > '9')
                sc->unsure = true;
            unsigned long low = 0;
            while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9')
                low = low * 10 + (unsigned long)(*sc->p++ - '0');
            while (sc->p < sc->end && *sc->p != '}')
                sc->p++;
            if (sc->p < sc->end)
                sc->p++;
            if (low == 0)
                atom.nullable = true;
        }
    }
    return atom;
}

/* A sequence, up to '|', ')' or the end. */
static s_re_ends_t s_re_ends_seq(s_re_scan_t *sc, int depth)
{
    s_re_ends_t seq;
    memset(&seq, 0, sizeof(seq));
    seq.nullable = true;
    while (sc->p < sc->end && *sc->p != '|' && *sc->p != ')' && !sc->unsure) {
        s_re_ends_t atom = s_re_ends_atom(sc, depth);
        if (seq.nullable)
            s_bytes_union(&seq.first, &atom.first);
        if (atom.nullable)
            s_bytes_union(&seq.last, &atom.last);
        else
            seq.last = atom.last;
        seq.nullable = seq.nullable && atom.nullable;
    }
    return seq;
}

static s_re_ends_t s_re_ends_alt(s_re_scan_t *sc, int depth)
{
    s_re_ends_t alt = s_re_ends_seq(sc, depth);
    while (sc->p < sc->end && *sc->p == '|' && !sc->unsure) {
        sc->p++;
        s_re_ends_t next = s_re_ends_seq(sc, depth);
        s_bytes_union(&alt.first, &next.first);
        s_bytes_union(&alt.last, &next.last);
        alt.nullable = alt.nullable || next.nullable;
    }
    return alt;
}

/* Sets the rule's prefilter from its pattern: only for a pattern that is one sequence (no '|'
 * outside groups) anchored at its start and/or end, whose body cannot match nothing. Returns
 * NW_OK, or NW_ERR_NOMEM. */
static int s_regex_prefilter(s_rule_t *rule)
{
    const char *p = rule->pattern, *end = rule->pattern + rule->len;
    bool at_start = p < end && *p == '^';
    bool at_end = false;
    if (end > p && end[-1] == '$') {
        const char *q = end - 1; /* the '$', an anchor unless an odd run of '\\' escapes it */
        while (q > p && q[-1] == '\\')
            q--;
        at_end = (end - 1 - q) % 2 == 0;
    }
    if (at_start)
        p++;
    if (at_end && end > p)
        end--;
    s_re_scan_t sc = {p, end, false};
    s_re_ends_t body = s_re_ends_seq(&sc, 0);
    if (sc.unsure || sc.p != sc.end || body.nullable)
        return NW_OK;
    rule->check_first = at_start;
    rule->check_last = at_end;
    rule->first = body.first;
    rule->last = body.last;
    if (!at_start)
        return NW_OK;
    /* The literal text right after ^, less a last character that an operator makes optional
     * or repeats. */
    char lead[S_REGEX_LEN_MAX + 1];
    size_t n = 0;
    const char *q = p;
    while (q < end) {
        if (*q == '\\' && q + 1 < end && strchr(".[](){}*+?|^$\\/-", q[1]) != NULL) {
            lead[n++] = q[1];
            q += 2;
        } else if ((unsigned char)*q < 0x80 && strchr(".[](){}*+?|^$\\", *q) == NULL) {
            lead[n++] = *q++;
        } else {
            break;
        }
    }
    if (n > 0 && q < end && strchr("*+?{", *q) != NULL)
        n--;
    if (n == 0)
        return NW_OK;
    rule->lead = strndup(lead, n);
    if (rule->lead == NULL)
        return NW_ERR_NOMEM;
    rule->lead_len = n;
    return NW_OK;
}

/* Adds one rule from its parts. On NW_ERR_CONFIG a reason (without file and line) is
 * written to why. */
static int s_add_rule(nw_boilerplate_t *self, nw_bp_action_t action, s_kind_t kind,
                      const char *pattern, size_t plen, char *why, size_t whylen)
{
    int rc = s_grow(self);
    if (rc != NW_OK)
        return rc;
    s_rule_t *rule = &self->rules[self->n];
    memset(rule, 0, sizeof(*rule));
    rule->kind = kind;
    rule->action = action;
    rule->len = plen;
    rule->pattern = strndup(pattern, plen);
    if (rule->pattern == NULL)
        return NW_ERR_NOMEM;
    if (kind == S_CONTAINS) {
        if ((rule->lower = strndup(pattern, plen)) == NULL) {
            free(rule->pattern);
            return NW_ERR_NOMEM;
        }
        for (size_t i = 0; i < plen; i++)
            rule->lower[i] = s_ascii_lower(rule->lower[i]);
    }
    if (kind == S_REGEX && s_regex_cost_ok(rule->pattern, plen, why, whylen) != NW_OK) {
        free(rule->pattern);
        return NW_ERR_CONFIG;
    }
    if (kind == S_REGEX) {
        int rv = regcomp(&rule->re, rule->pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (rv != 0) {
            char msg[128];
            regerror(rv, &rule->re, msg, sizeof(msg));
            snprintf(why, whylen, "bad regular expression '%s': %s", rule->pattern, msg);
            free(rule->pattern);
            return rv == REG_ESPACE ? NW_ERR_NOMEM : NW_ERR_CONFIG;
        }
        if (s_regex_prefilter(rule) != NW_OK) {
            regfree(&rule->re);
            free(rule->pattern);
            return NW_ERR_NOMEM;
        }
    }
    self->n++;
    return NW_OK;
}

/* Parses one line [p, end) that is neither blank nor a comment. */
static int s_parse_line(nw_boilerplate_t *self, const char *p, const char *end, char *why,
                        size_t whylen)
{
    const char *word;
    size_t wlen;
    nw_bp_action_t action = NW_BP_DROP;
    s_kind_t kind;
    s_next_word(&p, end, &word, &wlen);
    if (s_lookup_action(word, wlen, &action) == NW_OK)
        s_next_word(&p, end, &word, &wlen);
    if (wlen == 0) {
        snprintf(why, whylen, "missing rule kind after the action");
        return NW_ERR_CONFIG;
    }
    if (s_lookup_kind(word, wlen, &kind) != NW_OK) {
        snprintf(why, whylen,
                 "unknown rule kind '%.*s' (expected [drop|drop-next|end] "
                 "exact|prefix|suffix|contains|regex PATTERN)",
                 (int)(wlen > 40 ? 40 : wlen), word);
        return NW_ERR_CONFIG;
    }
    while (p < end && s_is_blank(*p))
        p++;
    while (end > p && s_is_blank(end[-1]))
        end--;
    if (p == end) {
        snprintf(why, whylen, "missing pattern after '%.*s'", (int)wlen, word);
        return NW_ERR_CONFIG;
    }
    return s_add_rule(self, action, kind, p, (size_t)(end - p), why, whylen);
}

/* Builds the list of rules a line longer than every exact rule is tried against. */
static int s_index(nw_boilerplate_t *self)
{
    self->long_rules = malloc((self->n ? self->n : 1) * sizeof *self->long_rules);
    if (self->long_rules == NULL)
        return NW_ERR_NOMEM;
    for (size_t i = 0; i < self->n; i++) {
        const s_rule_t *rule = &self->rules[i];
        if (rule->kind == S_EXACT && rule->len > self->exact_max)
            self->exact_max = rule->len;
        self->has_contains = self->has_contains || rule->kind == S_CONTAINS;
        if (rule->kind != S_EXACT)
            self->long_rules[self->n_long++] = i;
    }
    return NW_OK;
}

static int s_check_text(const char *text, size_t len, const char *origin, char *err, size_t errlen)
{
    if (memchr(text, '\0', len) != NULL) {
        snprintf(err, errlen, "%s:1: file holds NUL bytes; not a text file", origin);
        return NW_ERR_CONFIG;
    }
    if (!nw_utf8_valid(text, len)) {
        snprintf(err, errlen, "%s:1: file is not valid UTF-8", origin);
        return NW_ERR_CONFIG;
    }
    return NW_OK;
}

int nw_boilerplate_parse(const char *text, size_t len, const char *origin, nw_boilerplate_t **out,
                         char *err, size_t errlen)
{
    char why[256] = "";
    size_t lineno = 0;
    int rc;
    *out = NULL;
    if (origin == NULL)
        origin = "(rules)";
    if ((rc = s_check_text(text, len, origin, err, errlen)) != NW_OK)
        return rc;
    nw_boilerplate_t *self = calloc(1, sizeof(*self));
    if (self == NULL)
        return NW_ERR_NOMEM;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        lineno++;
        const char *s = p;
        while (s < eol && s_is_blank(*s))
            s++;
        if (s < eol && *s != '#' && (rc = s_parse_line(self, s, eol, why, sizeof(why))) != NW_OK)
            goto fail;
        p = eol + 1;
    }
    if ((rc = s_index(self)) != NW_OK)
        goto fail;
    *out = self;
    return NW_OK;
fail:
    if (rc == NW_ERR_NOMEM)
        snprintf(err, errlen, "%s:%zu: out of memory", origin, lineno);
    else
        snprintf(err, errlen, "%s:%zu: %s", origin, lineno, why);
    nw_boilerplate_destroy(&self);
    return rc;
}

int nw_boilerplate_load(const char *path, nw_boilerplate_t **out, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = nw_file_read_all(path, S_RULES_FILE_MAX, &data, &len, err, errlen);
    if (rc != NW_OK)
        return rc;
    rc = nw_boilerplate_parse(data, len, path, out, err, errlen);
    free(data);
    return rc;
}

int nw_boilerplate_default(nw_boilerplate_t **out)
{
    char err[256];
    int rc = nw_boilerplate_parse(nw_boilerplate_default_text, strlen(nw_boilerplate_default_text),
                                  "boilerplate.conf (built in)", out, err, sizeof(err));
    /* The built-in text is tested; only memory can make it fail. */
    return rc == NW_OK ? NW_OK : NW_ERR_NOMEM;
}
