#include "nw_article.h"

#include "nw_buf.h"
#include "nw_error.h"
#include "nw_utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_TITLE_SCAN    6   /* kept lines searched for a repeated title (crumbs come first) */
#define S_CRUMB_MAX     40  /* bytes of a section crumb above the title at most */
#define S_BYLINE_SCAN   3   /* kept lines after the title that may hold a byline */
#define S_TITLE_LONG    200 /* a first line longer than this is a paragraph, not a title */
#define S_TITLE_CUT     150 /* ...and the title is its first words, up to this many bytes */
#define S_WRAP_LONG     100 /* a line longer than this was not hard-wrapped */
#define S_HEADING_MAX   100 /* bytes of a heading at most */
#define S_HEADING_WORDS 10  /* words of a heading at most */
#define S_META_MAX      60  /* bytes of one byline segment (source, place, author) */
#define S_DEDUPE_MIN    80  /* repeated blocks at least this long are dropped */

/* One input line after whitespace normalisation. */
typedef struct {
    const char *text; /* trimmed, single-spaced, NUL-terminated (points into the store) */
    size_t len;       /* bytes of text */
    size_t lineno;    /* 1-based line number in the input */
    bool indented;    /* the raw line began with whitespace */
    bool dropped;     /* boilerplate, crumb, repeated title or consumed by the parser */
} s_line_t;

/* A block under construction, with the layout facts heading detection needs. */
typedef struct {
    nw_block_kind_t kind; /* paragraph or bullet while building; heading after s_mark_headings */
    nw_buf_t text;        /* the joined text */
    size_t line;          /* 1-based line where it starts */
    size_t n_lines;       /* input lines joined into it */
    bool sep_before;      /* a blank or dropped line (or nothing) precedes it */
    bool sep_after;       /* a blank or dropped line follows it */
} s_part_t;

/* The parser's working state for one article. */
typedef struct {
    char *utf8;        /* the input as UTF-8 (a copy, or the Latin-1 conversion) */
    size_t utf8_len;   /* bytes of utf8 */
    char *store;       /* the normalised lines, each NUL-terminated */
    s_line_t *lines;   /* every input line */
    size_t n_lines;    /* entries of lines */
    bool wrapped;      /* body lines are hard-wrapped (Reuters): join consecutive lines */
    size_t body;       /* index in lines where the body starts (after the title line) */
    s_part_t *parts;   /* blocks under construction */
    size_t n_parts;    /* used entries of parts */
    size_t cap_parts;  /* allocated entries of parts */
    nw_article_t *art; /* the result being filled */
} s_parser_t;

static bool s_is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool s_is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool s_is_lower(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static bool s_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool s_eq_ci(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && strncasecmp(a, b, alen) == 0;
}

/* ---- Input checks and decoding ------------------------------------------------------ */

static int s_check_input(const char *data, size_t len, char *err, size_t errlen)
{
    size_t blank = 0, control = 0;
    const unsigned char *p = (const unsigned char *)data;
    const void *nul = len > 0 ? memchr(data, '\0', len) : NULL;
    for (size_t i = 0; i < len; i++) {
        if (s_is_ascii_space(p[i]))
            blank++;
        else if (p[i] < 0x20 || p[i] == 0x7f)
            control++;
    }
    if (len == 0 || blank == len) {
        nw_error_format(err, errlen, "article is empty (%zu bytes, no text)", len);
        return NW_ERR_ARTICLE_EMPTY;
    }
    if (nul != NULL) {
        nw_error_format(err, errlen, "binary data, not text: NUL byte at offset %zu",
                        (size_t)((const char *)nul - data));
        return NW_ERR_ARTICLE_BINARY;
    }
    /* Text has next to no control characters besides line breaks and tabs. */
    if (control * 20 > len) {
        nw_error_format(err, errlen,
                        "binary data, not text: %zu of %zu bytes are control characters", control,
                        len);
        return NW_ERR_ARTICLE_BINARY;
    }
    return NW_OK;
}

static int s_decode(s_parser_t *ps, const char *data, size_t len)
{
    if (nw_utf8_valid(data, len)) {
        ps->utf8 = malloc(len + 1);
        if (ps->utf8 == NULL)
            return NW_ERR_NOMEM;
        memcpy(ps->utf8, data, len);
        ps->utf8[len] = '\0';
        ps->utf8_len = len;
        return NW_OK;
    }
    ps->art->latin1 = true;
    return nw_utf8_from_latin1(data, len, &ps->utf8, &ps->utf8_len);
}

/* ---- Normalisation ---------------------------------------------------------------- */

typedef enum { S_CH_KEEP, S_CH_SPACE, S_CH_REMOVE } s_ch_t;

/* Classifies the (valid UTF-8) character at p: kept, read as a space (tab, no-break and
 * typographic spaces, controls) or removed (zero-width characters, BOM, soft hyphen).
 * Sets *width to its byte length. */
static s_ch_t s_classify_char(const unsigned char *p, const unsigned char *end, size_t *width)
{
    unsigned char c = p[0];
    size_t left = (size_t)(end - p);
    *width = 1;
    if (c <= 0x20 || c == 0x7f)
        return S_CH_SPACE;
    if (c < 0x80)
        return S_CH_KEEP;
    *width = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (*width > left) {
        *width = left;
        return S_CH_KEEP;
    }
    if (c == 0xC2)
        return p[1] == 0xA0 || p[1] < 0xA0 ? S_CH_SPACE : p[1] == 0xAD ? S_CH_REMOVE : S_CH_KEEP;
    if (c == 0xE2 && p[1] == 0x80) {
        if (p[2] <= 0x8A || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF)
            return S_CH_SPACE;
        if (p[2] >= 0x8B && p[2] <= 0x8F)
            return S_CH_REMOVE;
    }
    if (c == 0xE2 && p[1] == 0x81)
        return p[2] == 0x9F ? S_CH_SPACE : p[2] == 0xA0 ? S_CH_REMOVE : S_CH_KEEP;
    if (c == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
        return S_CH_SPACE;
    if (c == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        return S_CH_REMOVE;
    return S_CH_KEEP;
}

/* Normalises the raw line [s, e) into out (single spaces, trimmed); returns its length. */
static size_t s_normalise_line(const char *s, const char *e, char *out, bool *indented)
{
    const unsigned char *p = (const unsigned char *)s, *end = (const unsigned char *)e;
    size_t n = 0;
    bool pending_space = false;
    *indented = false;
    while (p < end) {
        size_t w;
        s_ch_t cls = s_classify_char(p, end, &w);
        if (cls == S_CH_SPACE) {
            if (n == 0)
                *indented = true;
            pending_space = n > 0;
        } else if (cls == S_CH_KEEP) {
            if (pending_space)
                out[n++] = ' ';
            pending_space = false;
            memcpy(out + n, p, w);
            n += w;
        }
        p += w;
    }
    out[n] = '\0';
    return n;
}

static int s_split_lines(s_parser_t *ps)
{
    size_t cap = 1;
    for (size_t i = 0; i < ps->utf8_len; i++)
        cap += ps->utf8[i] == '\n' || ps->utf8[i] == '\r';
    ps->lines = calloc(cap, sizeof(*ps->lines));
    ps->store = malloc(ps->utf8_len + cap + 1);
    if (ps->lines == NULL || ps->store == NULL)
        return NW_ERR_NOMEM;
    const char *p = ps->utf8, *end = ps->utf8 + ps->utf8_len;
    char *out = ps->store;
    size_t lineno = 0;
    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\n' && *eol != '\r')
            eol++;
        s_line_t *line = &ps->lines[ps->n_lines++];
        line->lineno = ++lineno;
        line->text = out;
        line->len = s_normalise_line(p, eol, out, &line->indented);
        out += line->len + 1;
        /* CRLF is one line break; a lone CR (old Mac files) is one too. */
        if (eol < end && *eol == '\r' && eol + 1 < end && eol[1] == '\n')
            eol++;
        p = eol + 1;
    }
    return NW_OK;
}

static bool s_has_text(const s_parser_t *ps)
{
    for (size_t i = 0; i < ps->n_lines; i++) {
        if (ps->lines[i].len > 0)
            return true;
    }
    return false;
}

/* Hard-wrapped text (Reuters) has short lines only; scraped pages and BBC files carry a
 * paragraph per line, so their consecutive lines are separate blocks. */
static void s_detect_wrapping(s_parser_t *ps)
{
    size_t body = 0, lng = 0;
    for (size_t i = 1; i < ps->n_lines; i++) {
        if (ps->lines[i].len == 0)
            continue;
        body++;
        lng += ps->lines[i].len > S_WRAP_LONG;
    }
    ps->wrapped = body >= 2 && lng * 20 <= body;
}

/* ---- Boilerplate, title, byline ----------------------------------------------------- */

static bool s_kept(const s_line_t *line)
{
    return line->len > 0 && !line->dropped;
}

/* Applies the rules to every line. "end" takes effect once the body has begun (a long
 * kept line or three kept lines), so a footer marker in a page header cannot swallow
 * the article. */
static void s_mark_boilerplate(s_parser_t *ps, const nw_boilerplate_t *rules)
{
    bool skip_next = false, ended = false;
    size_t kept = 0, longest = 0;
    for (size_t i = 0; i < ps->n_lines; i++) {
        s_line_t *line = &ps->lines[i];
        if (line->len == 0)
            continue;
        nw_bp_action_t act =
            ended ? NW_BP_DROP : nw_boilerplate_classify(rules, line->text, line->len);
        if (act == NW_BP_END && (kept >= 3 || longest > S_WRAP_LONG))
            ended = true;
        /* A pending drop-next takes the next line that is not boilerplate itself. */
        if (act == NW_BP_KEEP && skip_next) {
            act = NW_BP_DROP;
            skip_next = false;
        } else if (act == NW_BP_DROP_NEXT) {
            skip_next = true;
        }
        line->dropped = act != NW_BP_KEEP;
        if (!line->dropped) {
            kept++;
            longest = line->len > longest ? line->len : longest;
        }
    }
}

/* True when line starts with title followed by "/" (the byline form "TITLE/ Source/ ..."). */
static bool s_is_title_byline(const s_line_t *line, const char *title, size_t tlen)
{
    return line->len > tlen && strncasecmp(line->text, title, tlen) == 0 && line->text[tlen] == '/';
}

/* True when the line at idx comes again later, as itself or as a byline prefix. */
static bool s_is_repeated(const s_parser_t *ps, size_t idx)
{
    const s_line_t *cand = &ps->lines[idx];
    for (size_t j = idx + 1; j < ps->n_lines; j++) {
        const s_line_t *other = &ps->lines[j];
        if (!s_kept(other))
            continue;
        if (s_eq_ci(other->text, other->len, cand->text, cand->len) ||
            s_is_title_byline(other, cand->text, cand->len))
            return true;
    }
    return false;
}

/* Returns the length of text cut to at most max bytes at a word (or UTF-8) boundary. */
static size_t s_cut_words(const char *text, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && text[n] != ' ')
        n--;
    if (n == 0) {
        n = max;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    while (n > 0 && text[n - 1] == ' ')
        n--;
    return n;
}

static bool s_blank_at(const s_parser_t *ps, size_t i)
{
    return i >= ps->n_lines || ps->lines[i].len == 0;
}

/* Finds the title line: the first kept line, unless a line a few short lines below it
 * stands alone and comes again later (as itself or as "TITLE/ Source/ ..."): then the
 * lines above it are section crumbs. Returns the index, or SIZE_MAX for none. */
static size_t s_title_line(s_parser_t *ps)
{
    size_t first = SIZE_MAX, seen = 0;
    for (size_t i = 0; i < ps->n_lines && seen < S_TITLE_SCAN; i++) {
        const s_line_t *line = &ps->lines[i];
        if (!s_kept(line))
            continue;
        seen++;
        if (first == SIZE_MAX)
            first = i;
        /* Below the first line, only a line standing alone that is no sentence (a title
         * does not end in a full stop) can be the title. */
        bool alone = i == first || (s_blank_at(ps, i - 1) && s_blank_at(ps, i + 1) &&
                                    line->text[line->len - 1] != '.');
        if (alone && line->len <= S_TITLE_LONG && s_is_repeated(ps, i))
            return i;
        if (line->len > S_CRUMB_MAX)
            break;
    }
    return first;
}

/* Sets the title and drops the crumbs above it. A very long first line is a paragraph:
 * the title is then its first words and the line stays in the body. */
static int s_find_title(s_parser_t *ps, char *err, size_t errlen)
{
    size_t pick = s_title_line(ps);
    if (pick == SIZE_MAX) {
        nw_error_format(err, errlen,
                        "nothing but boilerplate: no title or text left after the rules");
        return NW_ERR_ARTICLE_BOILERPLATE;
    }
    for (size_t i = 0; i < pick; i++)
        ps->lines[i].dropped = true;
    s_line_t *t = &ps->lines[pick];
    size_t tlen = s_cut_words(t->text, t->len, S_TITLE_CUT);
    bool long_line = t->len > S_TITLE_LONG;
    ps->art->title = long_line ? malloc(tlen + 4) : strndup(t->text, tlen);
    if (ps->art->title == NULL)
        return NW_ERR_NOMEM;
    if (long_line)
        snprintf(ps->art->title, tlen + 4, "%.*s\xE2\x80\xA6", (int)tlen, t->text);
    ps->body = long_line ? pick : pick + 1;
    t->dropped = !long_line;
    return NW_OK;
}

/* Drops later lines that repeat the title. In hard-wrapped text only a line standing
 * alone counts: a wrapped line may happen to read like the title. */
static void s_drop_title_repeats(s_parser_t *ps)
{
    const char *title = ps->art->title;
    size_t tlen = strlen(title);
    for (size_t i = ps->body; i < ps->n_lines; i++) {
        s_line_t *line = &ps->lines[i];
        bool alone = !ps->wrapped || (s_blank_at(ps, i - 1) && s_blank_at(ps, i + 1));
        if (alone && s_kept(line) && s_eq_ci(line->text, line->len, title, tlen))
            line->dropped = true;
    }
}

/* True when the segment has letters and no lowercase ASCII: a dateline place. */
static bool s_all_caps(const char *s, size_t len)
{
    bool letter = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (s_is_lower(c))
            return false;
        letter = letter || s_is_upper(c);
    }
    return letter;
}

static int s_set_field(char **field, const char *s, size_t len)
{
    if (len >= 3 && strncmp(s, "By ", 3) == 0) {
        s += 3;
        len -= 3;
    }
    char *copy = strndup(s, len);
    if (copy == NULL)
        return NW_ERR_NOMEM;
    free(*field);
    *field = copy;
    return NW_OK;
}

typedef struct {
    const char *s; /* start of the segment */
    size_t len;    /* bytes of the segment */
} s_seg_t;

/* Splits "Source/ PLACE/ Author/ Edition/ lead..." into short segments; *lead points at
 * the text after the last one. Returns the number of segments. */
static size_t s_byline_segments(const char *p, const char *end, s_seg_t *segs, size_t max,
                                const char **lead)
{
    size_t n = 0;
    for (;;) {
        while (p < end && *p == ' ')
            p++;
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *e = slash;
        while (e != NULL && e > p && e[-1] == ' ')
            e--;
        if (slash == NULL || e == p || (size_t)(e - p) > S_META_MAX || n == max ||
            (slash + 1 < end && slash[1] != ' '))
            break;
        segs[n].s = p;
        segs[n].len = (size_t)(e - p);
        n++;
        p = slash + 1;
    }
    *lead = p;
    return n;
}

/* Fills source, place and author from byline segments: the all-caps one is the place,
 * the first other one the source, the next one after both the author; the rest (an
 * edition label) is ignored. */
static int s_assign_byline(nw_article_t *art, const s_seg_t *segs, size_t n)
{
    size_t place = SIZE_MAX, source = SIZE_MAX, author = SIZE_MAX, caps = 0;
    for (size_t i = 0; i < n; i++)
        caps += s_all_caps(segs[i].s, segs[i].len);
    for (size_t i = 0; i < n; i++) {
        /* With two all-caps segments ("AP/ WASHINGTON/"), the first is the agency. */
        bool is_caps = s_all_caps(segs[i].s, segs[i].len);
        if (place == SIZE_MAX && is_caps && caps-- == 1)
            place = i;
        else if (source == SIZE_MAX)
            source = i;
        else if (author == SIZE_MAX && (place == SIZE_MAX || i > place))
            author = i;
    }
    int rc = NW_OK;
    if (place != SIZE_MAX && (rc = s_set_field(&art->place, segs[place].s, segs[place].len)))
        return rc;
    if (source != SIZE_MAX && (rc = s_set_field(&art->source, segs[source].s, segs[source].len)))
        return rc;
    if (author != SIZE_MAX)
        rc = s_set_field(&art->author, segs[author].s, segs[author].len);
    return rc;
}

/* Parses a byline line; its lead text (if any) stays as the line's text. A line that
 * does not start with the title must have two segments and a place to count. */
static int s_try_byline(s_parser_t *ps, s_line_t *line, bool *found)
{
    const char *title = ps->art->title;
    size_t tlen = strlen(title);
    bool prefixed = s_is_title_byline(line, title, tlen);
    const char *p = line->text + (prefixed ? tlen + 1 : 0), *end = line->text + line->len;
    s_seg_t segs[8];
    const char *lead;
    size_t n = s_byline_segments(p, end, segs, 8, &lead);
    bool has_place = false;
    for (size_t i = 0; i < n; i++)
        has_place = has_place || s_all_caps(segs[i].s, segs[i].len);
    *found = prefixed || (n >= 2 && has_place);
    if (!*found)
        return NW_OK;
    int rc = s_assign_byline(ps->art, segs, n);
    while (lead < end && *lead == ' ')
        lead++;
    line->len = (size_t)(end - lead);
    line->text = lead;
    line->dropped = line->len == 0;
    return rc;
}

/* "By Jane Doe" on a short line of its own. */
static bool s_is_by_line(const s_line_t *line)
{
    return line->len > 3 && line->len <= S_META_MAX && strncmp(line->text, "By ", 3) == 0 &&
           s_is_upper((unsigned char)line->text[3]) && line->text[line->len - 1] != '.';
}

/* Looks for the byline among the first kept lines after the title (and for a line that
 * starts with the title anywhere). */
static int s_find_byline(s_parser_t *ps)
{
    size_t seen = 0;
    bool done = false;
    int rc = NW_OK;
    const char *title = ps->art->title;
    for (size_t i = ps->body; i < ps->n_lines && !done; i++) {
        s_line_t *line = &ps->lines[i];
        if (!s_kept(line))
            continue;
        bool near = seen++ < S_BYLINE_SCAN;
        if (near && s_is_by_line(line) && ps->art->author[0] == '\0') {
            line->dropped = true;
            rc = s_set_field(&ps->art->author, line->text, line->len);
        } else if (near || s_is_title_byline(line, title, strlen(title))) {
            rc = s_try_byline(ps, line, &done);
        }
        if (rc != NW_OK)
            return rc;
    }
    return NW_OK;
}

/* ---- Blocks --------------------------------------------------------------------- */

/* Returns the byte length of a list marker and the space after it at the start of text
 * ("• ", "- ", "* ", "– ", "1. ", "12) "), or 0 when the line is not a list item. */
static size_t s_bullet_marker(const char *text, size_t len)
{
    static const char *const symbols[] = {"\xE2\x80\xA2",
                                          "\xC2\xB7",
                                          "\xE2\x96\xAA",
                                          "\xE2\x97\x8F",
                                          "\xE2\x80\xA3",
                                          "\xE2\x97\xA6",
                                          "\xE2\x80\x93",
                                          "\xE2\x80\x94",
                                          "-",
                                          "*",
                                          "+"};
    for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
        size_t m = strlen(symbols[i]);
        if (len > m + 1 && memcmp(text, symbols[i], m) == 0 && text[m] == ' ')
            return m + 1;
    }
    size_t d = 0;
    while (d < len && d < 3 && s_is_digit((unsigned char)text[d]))
        d++;
    if (d >= 1 && d <= 2 && len > d + 2 && (text[d] == '.' || text[d] == ')') && text[d + 1] == ' ')
        return d + 2;
    return 0;
}

static int s_part_open(s_parser_t *ps, nw_block_kind_t kind, const s_line_t *line, size_t skip,
                       bool sep_before)
{
    if (ps->n_parts == ps->cap_parts) {
        size_t cap = ps->cap_parts ? ps->cap_parts * 2 : 32;
        s_part_t *parts = realloc(ps->parts, cap * sizeof(*parts));
        if (parts == NULL)
            return NW_ERR_NOMEM;
        ps->parts = parts;
        ps->cap_parts = cap;
    }
    s_part_t *part = &ps->parts[ps->n_parts++];
    memset(part, 0, sizeof(*part));
    part->kind = kind;
    part->line = line->lineno;
    part->n_lines = 1;
    part->sep_before = sep_before;
    return nw_buf_append(&part->text, line->text + skip, line->len - skip);
}

static int s_part_extend(s_part_t *part, const s_line_t *line)
{
    int rc = nw_buf_append(&part->text, " ", 1);
    if (rc == NW_OK)
        rc = nw_buf_append(&part->text, line->text, line->len);
    part->n_lines++;
    return rc;
}

/* Whether line continues the open part rather than starting a block of its own. */
static bool s_continues(const s_parser_t *ps, const s_part_t *part, const s_line_t *line,
                        bool prev_colon)
{
    bool lower = s_is_lower((unsigned char)line->text[0]);
    if (line->indented && ps->wrapped)
        return false;
    if (part->kind == NW_BLOCK_BULLET)
        return !line->indented && (ps->wrapped || lower);
    /* Unwrapped text has a paragraph per line; a line after "X said:" is the quote, and
     * a line starting in lowercase is the rest of a broken sentence. */
    return ps->wrapped || prev_colon || lower;
}

/* Groups the kept body lines into paragraphs and bullets. */
static int s_build_parts(s_parser_t *ps)
{
    bool sep = true, prev_colon = false;
    s_part_t *open = NULL;
    int rc = NW_OK;
    for (size_t i = ps->body; i < ps->n_lines && rc == NW_OK; i++) {
        const s_line_t *line = &ps->lines[i];
        if (!s_kept(line)) {
            if (open != NULL)
                open->sep_after = true;
            open = NULL;
            sep = true;
            continue;
        }
        size_t marker = s_bullet_marker(line->text, line->len);
        bool list_ok = !ps->wrapped || line->indented || sep || prev_colon ||
                       (open != NULL && open->kind == NW_BLOCK_BULLET);
        if (marker > 0 && list_ok) {
            rc = s_part_open(ps, NW_BLOCK_BULLET, line, marker, sep);
            open = &ps->parts[ps->n_parts - 1];
        } else if (open != NULL && s_continues(ps, open, line, prev_colon)) {
            rc = s_part_extend(open, line);
        } else {
            rc = s_part_open(ps, NW_BLOCK_PARAGRAPH, line, 0, sep);
            open = &ps->parts[ps->n_parts - 1];
        }
        sep = false;
        prev_colon = line->text[line->len - 1] == ':';
    }
    if (open != NULL)
        open->sep_after = true;
    return rc;
}

/* A heading is short, has no sentence-final punctuation and starts with a capital. */
static bool s_heading_shape(const char *text, size_t len)
{
    if (len == 0 || len > S_HEADING_MAX)
        return false;
    unsigned char first = (unsigned char)text[0];
    if (!s_is_upper(first) && !s_is_digit(first) && (first < 0xC3 || first > 0xC5))
        return false;
    if (strchr(".,;:!?\"')", text[len - 1]) != NULL)
        return false;
    if (strstr(text, ". ") != NULL || strstr(text, "! ") != NULL || strstr(text, "? ") != NULL)
        return false; /* two sentences */
    /* closing curly quotes: ” ’ */
    if (len >= 3 && memcmp(text + len - 3, "\xE2\x80", 2) == 0 &&
        ((unsigned char)text[len - 1] == 0x9D || (unsigned char)text[len - 1] == 0x99))
        return false;
    size_t words = 1, letters = 0;
    for (size_t i = 0; i < len; i++) {
        words += text[i] == ' ';
        letters += s_is_upper((unsigned char)text[i]) || s_is_lower((unsigned char)text[i]);
    }
    return words <= S_HEADING_WORDS && letters >= 2;
}

static void s_mark_headings(s_parser_t *ps)
{
    for (size_t k = 0; k + 1 < ps->n_parts; k++) {
        s_part_t *part = &ps->parts[k];
        const s_part_t *next = &ps->parts[k + 1];
        if (part->kind != NW_BLOCK_PARAGRAPH || part->n_lines != 1)
            continue;
        if (ps->wrapped && !(part->sep_before && part->sep_after))
            continue;
        if (s_is_lower((unsigned char)next->text.data[0]))
            continue;
        if (s_heading_shape(part->text.data, part->text.len))
            part->kind = NW_BLOCK_HEADING;
    }
}

/* True when the capitals before a dash are a label ("NOTE - "), not a place. */
static bool s_is_label(const char *s, size_t len)
{
    static const char *const labels[] = {
        "NOTE",      "YEAR",     "UPDATE",  "UPDATED", "CORRECTION", "CORRECTED", "EXCLUSIVE",
        "BREAKING",  "ANALYSIS", "FACTBOX", "REFILE",  "URGENT",     "FLASH",     "OPINION",
        "EDITORIAL", "WRAPUP",   "PHOTOS",  "VIDEO",   "WATCH",      "LIVE"};
    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        if (s_eq_ci(s, len, labels[i], strlen(labels[i])))
            return true;
    }
    return false;
}

/* Recognises "WASHINGTON — ", "NEW YORK, April 9 (Reuters) - ..." and sets the place
 * (and the source from the parentheses) when none is known. The text is kept. */
static int s_dateline(nw_article_t *art, const char *text, size_t len)
{
    size_t i = 0, letters = 0;
    while (i < len && (s_is_upper((unsigned char)text[i]) || strchr(" .'-", text[i]) != NULL)) {
        letters += s_is_upper((unsigned char)text[i]);
        if (text[i] == ' ' && i + 1 < len && !s_is_upper((unsigned char)text[i + 1]))
            break;
        i++;
    }
    size_t place_len = i;
    while (place_len > 0 && strchr(" .-", text[place_len - 1]) != NULL)
        place_len--;
    if (letters < 2 || place_len > 40 || s_is_label(text, place_len))
        return NW_OK;
    size_t j = place_len;
    if (j < len && text[j] == ',') { /* ", April 9" */
        while (j < len && j < place_len + 30 && text[j] != '(' && text[j] != '-' &&
               (unsigned char)text[j] != 0xE2)
            j++;
    }
    while (j < len && text[j] == ' ')
        j++;
    const char *src = NULL;
    size_t src_len = 0;
    if (j < len && text[j] == '(') {
        const char *close = memchr(text + j, ')', len - j);
        if (close == NULL || close - (text + j) > 30)
            return NW_OK;
        src = text + j + 1;
        src_len = (size_t)(close - src);
        j = (size_t)(close - text) + 1;
        while (j < len && text[j] == ' ')
            j++;
    }
    bool dash = (len - j >= 2 && text[j] == '-' && (text[j + 1] == ' ' || text[j + 1] == '-')) ||
                (len - j >= 3 && memcmp(text + j, "\xE2\x80", 2) == 0 &&
                 ((unsigned char)text[j + 2] == 0x93 || (unsigned char)text[j + 2] == 0x94));
    if (!dash)
        return NW_OK;
    int rc = s_set_field(&art->place, text, place_len);
    if (rc == NW_OK && src != NULL && src_len > 0 && art->source[0] == '\0')
        rc = s_set_field(&art->source, src, src_len);
    return rc;
}

static int s_find_dateline(s_parser_t *ps)
{
    size_t tried = 0;
    for (size_t k = 0; k < ps->n_parts && tried < 3 && ps->art->place[0] == '\0'; k++) {
        s_part_t *part = &ps->parts[k];
        if (part->kind != NW_BLOCK_PARAGRAPH)
            continue;
        tried++;
        int rc = s_dateline(ps->art, part->text.data, part->text.len);
        if (rc != NW_OK)
            return rc;
    }
    return NW_OK;
}

static void s_hash(uint64_t *h, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        *h ^= (unsigned char)s[i];
        *h *= 0x100000001b3ULL;
    }
}

/* A set of emitted blocks, by text, to drop the paragraphs a page repeats in linear time. */
typedef struct {
    size_t *slots; /* block index + 1 per slot, 0 when empty */
    size_t mask;   /* slots - 1 (a power of two at least twice the blocks) */
} s_seen_t;

static int s_seen_init(s_seen_t *seen, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    seen->slots = calloc(cap, sizeof(*seen->slots));
    seen->mask = cap - 1;
    return seen->slots != NULL ? NW_OK : NW_ERR_NOMEM;
}

/* Returns true when text is already in the set; otherwise adds block idx and returns false. */
static bool s_seen_add(s_seen_t *seen, const nw_block_t *blocks, size_t idx, const char *text)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    s_hash(&h, text, strlen(text));
    for (size_t i = (size_t)h & seen->mask;; i = (i + 1) & seen->mask) {
        if (seen->slots[i] == 0) {
            seen->slots[i] = idx + 1;
            return false;
        }
        if (strcmp(blocks[seen->slots[i] - 1].text, text) == 0)
            return true;
    }
}

/* Moves the parts into article->blocks, leaving out repeated paragraphs and bullets. */
static int s_emit_blocks(s_parser_t *ps)
{
    nw_article_t *art = ps->art;
    s_seen_t seen = {0};
    int rc = s_seen_init(&seen, ps->n_parts);
    art->blocks = calloc(ps->n_parts ? ps->n_parts : 1, sizeof(*art->blocks));
    if (rc != NW_OK || art->blocks == NULL) {
        free(seen.slots);
        return NW_ERR_NOMEM;
    }
    for (size_t k = 0; k < ps->n_parts; k++) {
        s_part_t *part = &ps->parts[k];
        bool dedupe = part->kind != NW_BLOCK_HEADING && part->text.len >= S_DEDUPE_MIN;
        if (dedupe && s_seen_add(&seen, art->blocks, art->n_blocks, part->text.data))
            continue;
        nw_block_t *b = &art->blocks[art->n_blocks++];
        b->kind = part->kind;
        b->line = part->line;
        b->text = nw_buf_steal(&part->text);
        if (b->text == NULL) {
            rc = NW_ERR_NOMEM;
            break;
        }
    }
    free(seen.slots);
    return rc;
}

/* The id is a 64-bit FNV-1a of the title and the blocks: the same text, the same id. */
int nw_article_set_id(nw_article_t *art)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    s_hash(&h, art->title, strlen(art->title));
    for (size_t i = 0; i < art->n_blocks; i++) {
        char kind = (char)('0' + art->blocks[i].kind);
        s_hash(&h, "\n", 1);
        s_hash(&h, &kind, 1);
        s_hash(&h, art->blocks[i].text, strlen(art->blocks[i].text));
    }
    char *id = malloc(17);
    if (id == NULL)
        return NW_ERR_NOMEM;
    snprintf(id, 17, "%016llx", (unsigned long long)h);
    free(art->id);
    art->id = id;
    return NW_OK;
}

static bool s_has_body(const nw_article_t *art)
{
    for (size_t i = 0; i < art->n_blocks; i++) {
        if (art->blocks[i].kind != NW_BLOCK_HEADING)
            return true;
    }
    return false;
}

static void s_parser_free(s_parser_t *ps)
{
    for (size_t k = 0; k < ps->n_parts; k++)
        nw_buf_free(&ps->parts[k].text);
    free(ps->parts);
    free(ps->lines);
    free(ps->store);
    free(ps->utf8);
}

static int s_init_fields(nw_article_t *art)
{
    art->source = strdup("");
    art->place = strdup("");
    art->author = strdup("");
    art->url = strdup("");
    art->section = strdup("");
    return art->source && art->place && art->author && art->url && art->section ? NW_OK
                                                                                : NW_ERR_NOMEM;
}

/* The steps after decoding: lines, boilerplate, title, byline, blocks, id. */
static int s_parse_text(s_parser_t *ps, const nw_boilerplate_t *rules, char *err, size_t errlen)
{
    int rc;
    if ((rc = s_split_lines(ps)) != NW_OK)
        return rc;
    if (!s_has_text(ps)) {
        nw_error_format(err, errlen, "article is empty (only whitespace and invisible characters)");
        return NW_ERR_ARTICLE_EMPTY;
    }
    s_detect_wrapping(ps);
    s_mark_boilerplate(ps, rules);
    if ((rc = s_find_title(ps, err, errlen)) != NW_OK)
        return rc;
    s_drop_title_repeats(ps);
    if ((rc = s_find_byline(ps)) != NW_OK || (rc = s_build_parts(ps)) != NW_OK)
        return rc;
    s_mark_headings(ps);
    if ((rc = s_find_dateline(ps)) != NW_OK || (rc = s_emit_blocks(ps)) != NW_OK)
        return rc;
    if (!s_has_body(ps->art)) {
        nw_error_format(err, errlen,
                        "nothing but boilerplate: title \"%.60s\" but no body text left",
                        ps->art->title);
        return NW_ERR_ARTICLE_BOILERPLATE;
    }
    return nw_article_set_id(ps->art);
}

int nw_article_parse(const char *data, size_t len, const nw_boilerplate_t *rules,
                     nw_article_t *article, char *err, size_t errlen)
{
    s_parser_t ps = {0};
    int rc;
    memset(article, 0, sizeof(*article));
    ps.art = article;
    if (data == NULL)
        len = 0;
    if ((rc = s_check_input(data, len, err, errlen)) != NW_OK)
        goto fail;
    if ((rc = s_init_fields(article)) != NW_OK || (rc = s_decode(&ps, data, len)) != NW_OK)
        goto fail;
    if ((rc = s_parse_text(&ps, rules, err, errlen)) != NW_OK)
        goto fail;
    s_parser_free(&ps);
    return NW_OK;
fail:
    if (rc == NW_ERR_NOMEM)
        nw_error_format(err, errlen, "out of memory while parsing the article");
    s_parser_free(&ps);
    nw_article_clear(article);
    return rc;
}

void nw_article_clear(nw_article_t *article)
{
    if (article == NULL)
        return;
    for (size_t i = 0; i < article->n_blocks; i++)
        free(article->blocks[i].text);
    free(article->blocks);
    free(article->id);
    free(article->title);
    free(article->source);
    free(article->place);
    free(article->author);
    free(article->url);
    free(article->section);
    for (size_t i = 0; i < article->n_subjects; i++)
        free(article->subjects[i]);
    free(article->subjects);
    memset(article, 0, sizeof(*article));
}
