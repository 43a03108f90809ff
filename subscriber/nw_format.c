#include "nw_format.h"

#include "nw_error.h"
#include "nw_json.h"
#include "nw_utf8.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_STRFTIME_MAX 256 /* bytes of one %{...} expansion */

typedef enum { S_TEXT, S_JSON, S_TEMPLATE } s_mode_t;

struct nw_format_t {
    s_mode_t mode;  /* which form */
    bool colour;    /* ANSI colour in the text form */
    char *template; /* the template as given (S_TEMPLATE only), validated */
};

/* ANSI SGR sequences for the text form; empty strings when colour is off. */
typedef struct {
    const char *time, *topics, *priority, *title, *reset;
} s_palette_t;

static const char s_help[] =
    "    %t  topic the alert arrived on    %T  all its topics, comma-separated\n"
    "    %k  kind (headline, keypoint, paragraph)    %p  priority (low .. urgent)\n"
    "    %m  alert text    %h  article title    %s  source    %a  author\n"
    "    %l  place (dateline)    %S  section    %i  alert id    %A  article id\n"
    "    %n  index in the article    %q  global sequence number\n"
    "    %Q  sequence number on the topic it arrived on    %r  stream id\n"
    "    %j  the whole alert as JSON    %I  published time, ISO-8601 UTC\n"
    "    %U  published time, Unix milliseconds\n"
    "    %u  the article's link    %v  revision (1, then 2, 3... for updates)\n"
    "    %o  the article's original publication time, ISO-8601 UTC (empty if unknown)\n"
    "    %{FMT}  published time in local time through strftime FMT, e.g. %{%H:%M}\n"
    "    %%  a percent sign    \\n  newline    \\t  tab    \\\\  backslash\n";

const char *nw_format_template_help(void)
{
    return s_help;
}

/* Placeholders that take no argument. */
static const char s_simple[] = "tTkpmhsalSiAnqQrjIUuvo";

/* Checks template tpl; on error writes a message naming --format into err. */
static int s_template_check(const char *tpl, char *err, size_t errlen)
{
    int placeholders = 0;
    for (const char *p = tpl; *p != '\0'; p++) {
        if (*p == '\\') {
            if (p[1] != 'n' && p[1] != 't' && p[1] != '\\') {
                snprintf(err, errlen, "--format: unknown escape '\\%.1s' (use \\n, \\t or \\\\)",
                         p + 1);
                return NW_ERR_INVAL;
            }
            p++;
        } else if (*p == '%') {
            if (p[1] == '{') {
                const char *close = strchr(p + 2, '}');
                if (close == NULL || close == p + 2 || close - (p + 2) > 128) {
                    snprintf(err, errlen,
                             "--format: '%%{' needs a strftime pattern of 1 to 128 bytes and "
                             "a closing '}'");
                    return NW_ERR_INVAL;
                }
                p = close;
                placeholders++;
            } else if (p[1] != '\0' && (p[1] == '%' || strchr(s_simple, p[1]) != NULL)) {
                placeholders += p[1] != '%';
                p++;
            } else {
                snprintf(err, errlen,
                         "--format: unknown placeholder '%%%.1s' (see --help for the list)", p + 1);
                return NW_ERR_INVAL;
            }
        }
    }
    if (placeholders == 0) {
        snprintf(err, errlen,
                 "--format: '%s' is not 'text', 'json' or a template with %%-placeholders", tpl);
        return NW_ERR_INVAL;
    }
    return NW_OK;
}

int nw_format_new(const char *spec, bool colour, nw_format_t **out, char *err, size_t errlen)
{
    s_mode_t mode = S_TEMPLATE;
    if (strcmp(spec, "text") == 0)
        mode = S_TEXT;
    else if (strcmp(spec, "json") == 0)
        mode = S_JSON;
    else if (s_template_check(spec, err, errlen) != NW_OK)
        return NW_ERR_INVAL;

    nw_format_t *format = calloc(1, sizeof *format);
    if (format == NULL)
        goto nomem;
    format->mode = mode;
    format->colour = colour;
    if (mode == S_TEMPLATE && (format->template = strdup(spec)) == NULL)
        goto nomem;
    *out = format;
    return NW_OK;
nomem:
    free(format);
    snprintf(err, errlen, "--format: out of memory");
    return NW_ERR_NOMEM;
}

void nw_format_destroy(nw_format_t **format_p)
{
    if (format_p == NULL || *format_p == NULL)
        return;
    free((*format_p)->template);
    free(*format_p);
    *format_p = NULL;
}

/* Code points a terminal might act on rather than show. */
static bool s_unsafe(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

static int s_visible_one(nw_buf_t *out, uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7F) {
        /* Control pictures: U+2400 + c, and U+2421 for DEL, all E2 90 xx in UTF-8. */
        unsigned char pic[3] = {0xE2, 0x90, (unsigned char)(cp == 0x7F ? 0xA1 : 0x80 + cp)};
        return nw_buf_append(out, pic, 3);
    }
    return nw_buf_printf(out, "<U+%04" PRIX32 ">", cp);
}

int nw_format_visible(nw_buf_t *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int rc = NW_OK;
    while (rc == NW_OK && i < len) {
        size_t run = i, n = 0;
        uint32_t cp = 0;
        while (run < len && (n = nw_utf8_next((const char *)p + run, len - run, &cp)) > 0 &&
               !s_unsafe(cp))
            run += n;
        if (run > i)
            rc = nw_buf_append(out, p + i, run - i);
        i = run;
        if (rc != NW_OK || i >= len)
            break;
        if (n == 0) {
            rc = nw_buf_append(out, "\xEF\xBF\xBD", 3);
            i++;
        } else {
            rc = s_visible_one(out, cp);
            i += n;
        }
    }
    return rc;
}

static int s_visible_str(nw_buf_t *out, const char *s)
{
    return s ? nw_format_visible(out, s, strlen(s)) : NW_OK;
}

/* Splits a millisecond timestamp into a struct tm (local or UTC) and the milliseconds. */
static bool s_time(int64_t ms, bool local, struct tm *tm, int *frac)
{
    int64_t sec = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        sec -= 1;
        rem += 1000;
    }
    time_t t = (time_t)sec;
    *frac = (int)rem;
    return (local ? localtime_r(&t, tm) : gmtime_r(&t, tm)) != NULL;
}

static int s_strftime(nw_buf_t *out, int64_t ms, bool local, const char *pattern)
{
    struct tm tm;
    int frac;
    char text[S_STRFTIME_MAX];
    if (!s_time(ms, local, &tm, &frac))
        return nw_buf_append_str(out, "?");
/* The pattern is the user's own --format text, checked when the formatter was made;
 * strftime takes no arguments from it, so a non-literal format is safe here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t n = strftime(text, sizeof text, pattern, &tm);
#pragma GCC diagnostic pop
    /* The pattern came from the user, but %Z and friends come from the system: keep
     * the promise that nothing unsafe is written. */
    return nw_format_visible(out, text, n);
}

static int s_iso(nw_buf_t *out, int64_t ms)
{
    struct tm tm;
    int frac;
    char text[64];
    if (!s_time(ms, false, &tm, &frac) ||
        strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return nw_buf_append_str(out, "?");
    return nw_buf_printf(out, "%s.%03dZ", text, frac);
}

static int s_topics(nw_buf_t *out, const nw_alert_t *alert)
{
    int rc = NW_OK;
    for (size_t i = 0; rc == NW_OK && i < alert->n_topics; i++) {
        if (i > 0)
            rc = nw_buf_append(out, ",", 1);
        if (rc == NW_OK)
            rc = s_visible_str(out, alert->topics[i].name);
    }
    return rc;
}

static uint64_t s_topic_seq(const nw_alert_t *alert, const char *topic)
{
    int i = topic ? nw_alert_find_topic(alert, topic) : -1;
    return i >= 0 ? alert->topics[i].seq : 0;
}

/* Appends the expansion of the one-letter placeholder c. */
/* json: the alert already rendered (nw_json_alert), or NULL to render it here. */
static int s_placeholder(nw_buf_t *out, char c, const nw_alert_t *a, const char *topic,
                         const char *json)
{
    switch (c) {
    case 't': return s_visible_str(out, topic ? topic : "");
    case 'T': return s_topics(out, a);
    case 'k': return nw_buf_append_str(out, nw_alert_kind_name(a->kind));
    case 'p': return nw_buf_append_str(out, nw_priority_name(a->priority));
    case 'm': return s_visible_str(out, a->text);
    case 'h': return s_visible_str(out, a->title);
    case 's': return s_visible_str(out, a->source);
    case 'a': return s_visible_str(out, a->author);
    case 'l': return s_visible_str(out, a->place);
    case 'S': return s_visible_str(out, a->section);
    case 'i': return s_visible_str(out, a->id);
    case 'A': return s_visible_str(out, a->article_id);
    case 'n': return nw_buf_printf(out, "%" PRIu32, a->index);
    case 'q': return nw_buf_printf(out, "%" PRIu64, a->seq);
    case 'Q': return nw_buf_printf(out, "%" PRIu64, s_topic_seq(a, topic));
    case 'r': return s_visible_str(out, a->stream);
    case 'j': return json != NULL ? nw_buf_append_str(out, json) : nw_json_alert(out, a, topic);
    case 'I': return s_iso(out, a->published_ms);
    case 'U': return nw_buf_printf(out, "%" PRId64, a->published_ms);
    case 'u': return s_visible_str(out, a->url);
    case 'v': return nw_buf_printf(out, "%" PRIu32, a->revision > 1 ? a->revision : 1);
    case 'o': return a->article_time_ms != 0 ? s_iso(out, a->article_time_ms) : NW_OK;
    default: return nw_buf_append(out, &c, 1); /* '%': checked at creation */
    }
}

static int s_template(const nw_format_t *format, const nw_alert_t *alert, const char *topic,
                      const char *json, nw_buf_t *out)
{
    int rc = NW_OK;
    for (const char *p = format->template; rc == NW_OK && *p != '\0'; p++) {
        if (*p == '\\') {
            p++;
            rc = nw_buf_append(out, *p == 'n' ? "\n" : *p == 't' ? "\t" : "\\", 1);
        } else if (*p == '%' && p[1] == '{') {
            const char *close = strchr(p + 2, '}');
            char pattern[130];
            snprintf(pattern, sizeof pattern, "%.*s", (int)(close - (p + 2)), p + 2);
            rc = s_strftime(out, alert->published_ms, true, pattern);
            p = close;
        } else if (*p == '%') {
            rc = s_placeholder(out, *++p, alert, topic, json);
        } else {
            /* A run of literal text. */
            size_t n = strcspn(p, "\\%");
            rc = nw_buf_append(out, p, n);
            p += n - 1;
        }
    }
    return rc;
}

static s_palette_t s_palette(bool colour, nw_priority_t priority)
{
    if (!colour)
        return (s_palette_t){"", "", "", "", ""};
    const char *prio = priority >= NW_PRIORITY_URGENT ? "\033[1;31m"
                       : priority == NW_PRIORITY_HIGH ? "\033[1;33m"
                       : priority == NW_PRIORITY_LOW  ? "\033[2m"
                                                      : "";
    return (s_palette_t){"\033[2m", "\033[36m", prio, "\033[2m", "\033[0m"};
}

/* The text form's tail for an update (" [revision N]") and a linked article (" <URL>"). */
static int s_text_update_and_link(const nw_alert_t *alert, nw_buf_t *out)
{
    int rc = NW_OK;
    if (alert->revision > 1)
        rc = nw_buf_printf(out, " [revision %" PRIu32 "]", alert->revision);
    if (rc == NW_OK && alert->url != NULL && alert->url[0] != '\0') {
        rc = nw_buf_append(out, " <", 2);
        if (rc == NW_OK)
            rc = s_visible_str(out, alert->url);
        if (rc == NW_OK)
            rc = nw_buf_append(out, ">", 1);
    }
    return rc;
}

/* "2026-11-27 21:14:55 [tariffs,trade] high: text -- title (source) [revision 2] <URL>" */
static int s_text(const nw_format_t *format, const nw_alert_t *alert, nw_buf_t *out)
{
    s_palette_t c = s_palette(format->colour, alert->priority);
    int rc = nw_buf_append_str(out, c.time);
    if (rc == NW_OK)
        rc = s_strftime(out, alert->published_ms, true, "%Y-%m-%d %H:%M:%S");
    if (rc == NW_OK)
        rc = nw_buf_printf(out, "%s %s[", c.reset, c.topics);
    if (rc == NW_OK)
        rc = s_topics(out, alert);
    if (rc == NW_OK)
        rc = nw_buf_printf(out, "]%s %s%s%s: ", c.reset, c.priority,
                           nw_priority_name(alert->priority), c.reset);
    if (rc == NW_OK)
        rc = s_visible_str(out, alert->text);
    /* A headline's text is the title: do not say it twice. */
    bool title = alert->title && alert->title[0] &&
                 !(alert->kind == NW_KIND_HEADLINE && strcmp(alert->title, alert->text) == 0);
    bool source = alert->source && alert->source[0];
    if (rc == NW_OK && (title || source))
        rc = nw_buf_append_str(out, c.title);
    if (rc == NW_OK && title)
        rc = nw_buf_append(out, " -- ", 4);
    if (rc == NW_OK && title)
        rc = s_visible_str(out, alert->title);
    if (rc == NW_OK && source)
        rc = nw_buf_append(out, " (", 2);
    if (rc == NW_OK && source)
        rc = s_visible_str(out, alert->source);
    if (rc == NW_OK && source)
        rc = nw_buf_append(out, ")", 1);
    if (rc == NW_OK && (title || source))
        rc = nw_buf_append_str(out, c.reset);
    return rc == NW_OK ? s_text_update_and_link(alert, out) : rc;
}

bool nw_format_wants_json(const nw_format_t *format)
{
    if (format->mode != S_TEMPLATE)
        return format->mode == S_JSON;
    /* The template was checked at creation: every \ and % has its character, every %{ its }. */
    for (const char *p = format->template; *p != '\0'; p++) {
        if (*p == '\\') {
            p++;
        } else if (*p == '%') {
            p++;
            if (*p == 'j')
                return true;
            if (*p == '{')
                p = strchr(p, '}');
        }
    }
    return false;
}

int nw_format_alert(const nw_format_t *format, const nw_alert_t *alert, const char *topic,
                    const char *json, nw_buf_t *out)
{
    size_t start = out->len;
    int rc;
    switch (format->mode) {
    case S_TEXT: rc = s_text(format, alert, out); break;
    case S_JSON:
        rc = json != NULL ? nw_buf_append_str(out, json) : nw_json_alert(out, alert, topic);
        break;
    default: rc = s_template(format, alert, topic, json, out); break;
    }
    if (rc == NW_OK)
        rc = nw_buf_append(out, "\n", 1);
    if (rc != NW_OK) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
    }
    return rc;
}
