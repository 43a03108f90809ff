#include "nw_split.h"

#include "nw_error.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_DEFAULT_MAX_PARAGRAPH 1200

/* Words that end in a period without ending the sentence ("Mr. Smith", "No. 5"). */
static const char *const s_abbrevs[] = {
    "Mr",   "Mrs",  "Ms", "Dr",  "Prof", "Sr",   "Jr",   "St",  "Mt",     "Gen", "Sen",
    "Rep",  "Gov",  "Lt", "Col", "Maj",  "Capt", "Cmdr", "Adm", "Sgt",    "Rev", "Hon",
    "Pres", "Supt", "No", "Nos", "Vol",  "Fig",  "Ft",   "vs",  "approx",
};

/* The splitter's output under construction. */
typedef struct {
    const nw_article_t *art; /* the article being split */
    int64_t published_ms;    /* copied into every alert */
    nw_alert_t *alerts;      /* alerts made so far */
    size_t n;                /* used entries of alerts */
    size_t cap;              /* allocated entries of alerts */
} s_split_t;

/* Returns the largest length <= max (and <= len) that does not cut a UTF-8 sequence. */
static size_t s_utf8_floor(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Replaces *field with the first bytes of s (len of them, at most max, cut at a UTF-8
 * boundary). */
static int s_set_field(char **field, const char *s, size_t len, size_t max)
{
    return nw_alert_set_len(field, s, s_utf8_floor(s, len, max));
}

/* Skips back over closing quotes and brackets that may follow a full stop: . " ' ) ” ’ */
static size_t s_skip_closers(const char *t, size_t j)
{
    for (;;) {
        if (j >= 1 && strchr("\"')]", t[j - 1]) != NULL && t[j - 1] != '\0') {
            j--;
        } else if (j >= 3 && memcmp(t + j - 3, "\xE2\x80", 2) == 0 &&
                   ((unsigned char)t[j - 1] == 0x9D || (unsigned char)t[j - 1] == 0x99)) {
            j -= 3;
        } else {
            return j;
        }
    }
}

/* True when the text at t[i] can open a sentence: a capital letter or an opening quote. */
static bool s_opens_sentence(const char *t, size_t len, size_t i)
{
    unsigned char c = (unsigned char)t[i];
    if ((c >= 'A' && c <= 'Z') || c == '"' || c == '\'')
        return true;
    if (c == 0xC3 && i + 1 < len) /* Latin capitals A-grave to Thorn */
        return (unsigned char)t[i + 1] >= 0x80 && (unsigned char)t[i + 1] <= 0x9E;
    return i + 2 < len && memcmp(t + i, "\xE2\x80", 2) == 0 &&
           ((unsigned char)t[i + 2] == 0x9C || (unsigned char)t[i + 2] == 0x98);
}

/* True when the word before the full stop at t[dot] is an initial, an acronym with
 * inner dots ("U.S.") or a known abbreviation: then the stop does not end a sentence. */
static bool s_abbreviation_before(const char *t, size_t dot)
{
    size_t b = dot;
    while (b > 0 && t[b - 1] != ' ')
        b--;
    while (b < dot && strchr("\"'([", t[b]) != NULL)
        b++;
    size_t wlen = dot - b;
    if (wlen == 1 && t[b] >= 'A' && t[b] <= 'Z')
        return true;
    if (memchr(t + b, '.', wlen) != NULL)
        return true;
    for (size_t i = 0; i < sizeof(s_abbrevs) / sizeof(s_abbrevs[0]); i++) {
        if (strlen(s_abbrevs[i]) == wlen && strncasecmp(t + b, s_abbrevs[i], wlen) == 0)
            return true;
    }
    return false;
}

/* True when the space at t[i] separates two sentences: ". ", "? " or "! " (maybe with
 * closing quotes) followed by a capital or an opening quote, and not after "Mr." etc. */
static bool s_sentence_break(const char *t, size_t len, size_t i)
{
    if (t[i] != ' ' || i == 0 || i + 1 >= len || !s_opens_sentence(t, len, i + 1))
        return false;
    size_t j = s_skip_closers(t, i);
    if (j == 0)
        return false;
    char c = t[j - 1];
    if (c == '?' || c == '!')
        return true;
    /* A stop inside closing quotes ends a quoted sentence, even after "No." */
    return c == '.' && (j < i || !s_abbreviation_before(t, j - 1));
}

/* Returns the length of the next chunk of t (len bytes): all of it when it fits in max,
 * else up to the last sentence break within max, else up to the first break after it.
 * No chunk exceeds NW_ALERT_TEXT_MAX: an overlong sentence is cut at a space, or at a
 * UTF-8 boundary when it has none. */
static size_t s_next_chunk(const char *t, size_t len, size_t max)
{
    size_t cut = len, last_fit = 0, first_after = 0;
    for (size_t i = 1; len > max && i < len && first_after == 0; i++) {
        if (!s_sentence_break(t, len, i))
            continue;
        if (i <= max)
            last_fit = i;
        else
            first_after = i;
    }
    if (last_fit > 0)
        cut = last_fit;
    else if (first_after > 0)
        cut = first_after;
    if (cut > NW_ALERT_TEXT_MAX) {
        size_t sp = NW_ALERT_TEXT_MAX;
        while (sp > 0 && t[sp] != ' ')
            sp--;
        cut = sp > 0 ? sp : s_utf8_floor(t, len, NW_ALERT_TEXT_MAX);
    }
    return cut;
}

static int s_grow(s_split_t *sp)
{
    if (sp->n < sp->cap)
        return NW_OK;
    size_t cap = sp->cap ? sp->cap * 2 : 16;
    nw_alert_t *alerts = realloc(sp->alerts, cap * sizeof(*alerts));
    if (alerts == NULL)
        return NW_ERR_NOMEM;
    sp->alerts = alerts;
    sp->cap = cap;
    return NW_OK;
}

/* Appends one alert of the given kind with text [text, text + len) under section. */
static int s_add(s_split_t *sp, nw_alert_kind_t kind, const char *text, size_t len,
                 const char *section)
{
    const nw_article_t *art = sp->art;
    int rc = s_grow(sp);
    if (rc != NW_OK)
        return rc;
    nw_alert_t *a = &sp->alerts[sp->n];
    if ((rc = nw_alert_init(a)) != NW_OK)
        return rc;
    sp->n++;
    a->index = (uint32_t)(sp->n - 1);
    a->kind = kind;
    a->published_ms = sp->published_ms;
    char id[NW_ALERT_FIELD_MAX];
    snprintf(id, sizeof(id), "%s.%u", art->id, (unsigned)a->index);
    if ((rc = s_set_field(&a->id, id, strlen(id), NW_ALERT_FIELD_MAX)) ||
        (rc = s_set_field(&a->article_id, art->id, strlen(art->id), NW_ALERT_FIELD_MAX)) ||
        (rc = s_set_field(&a->text, text, len, NW_ALERT_TEXT_MAX)) ||
        (rc = s_set_field(&a->title, art->title, strlen(art->title), NW_ALERT_FIELD_MAX)) ||
        (rc = s_set_field(&a->source, art->source, strlen(art->source), NW_ALERT_FIELD_MAX)) ||
        (rc = s_set_field(&a->author, art->author, strlen(art->author), NW_ALERT_FIELD_MAX)) ||
        (rc = s_set_field(&a->place, art->place, strlen(art->place), NW_ALERT_FIELD_MAX)) ||
        (rc = s_set_field(&a->section, section, strlen(section), NW_ALERT_FIELD_MAX)))
        return rc;
    return NW_OK;
}

/* Adds a block's text as one alert, or several cut at sentence breaks when it is long. */
static int s_add_block(s_split_t *sp, nw_alert_kind_t kind, const char *text, size_t max,
                       const char *section)
{
    size_t len = strlen(text);
    while (len > 0) {
        size_t cut = s_next_chunk(text, len, max);
        size_t n = cut;
        while (n > 0 && text[n - 1] == ' ')
            n--;
        int rc = n > 0 ? s_add(sp, kind, text, n, section) : NW_OK;
        if (rc != NW_OK)
            return rc;
        text += cut;
        len -= cut;
        while (len > 0 && *text == ' ')
            text++, len--;
    }
    return NW_OK;
}

int nw_split(const nw_article_t *article, int64_t published_ms, const nw_split_opts_t *opts,
             nw_alert_t **alerts, size_t *n)
{
    s_split_t sp = {.art = article, .published_ms = published_ms};
    size_t max =
        opts != NULL && opts->max_paragraph > 0 ? opts->max_paragraph : S_DEFAULT_MAX_PARAGRAPH;
    const char *section = "";
    int rc;
    *alerts = NULL;
    *n = 0;
    if (max > NW_ALERT_TEXT_MAX)
        max = NW_ALERT_TEXT_MAX;
    if ((rc = s_add(&sp, NW_KIND_HEADLINE, article->title, strlen(article->title), "")))
        goto fail;
    for (size_t i = 0; i < article->n_blocks; i++) {
        const nw_block_t *b = &article->blocks[i];
        if (b->kind == NW_BLOCK_HEADING) {
            section = b->text;
            continue;
        }
        nw_alert_kind_t kind = b->kind == NW_BLOCK_BULLET ? NW_KIND_KEYPOINT : NW_KIND_PARAGRAPH;
        if ((rc = s_add_block(&sp, kind, b->text, max, section)) != NW_OK)
            goto fail;
    }
    *alerts = sp.alerts;
    *n = sp.n;
    return NW_OK;
fail:
    nw_split_free(&sp.alerts, sp.n);
    return rc;
}

void nw_split_free(nw_alert_t **alerts, size_t n)
{
    if (alerts == NULL || *alerts == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        nw_alert_clear(&(*alerts)[i]);
    free(*alerts);
    *alerts = NULL;
}
