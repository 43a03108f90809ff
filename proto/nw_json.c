#include "nw_json.h"

#include "nw_error.h"
#include "nw_utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* True for code points written as \u escapes although JSON allows them raw: DEL and the
 * C1 controls (a terminal may act on U+009B as CSI), and U+2028/U+2029 (which break
 * JavaScript parsers that read JSON as code). */
static int s_escape_raw(uint32_t cp)
{
    return (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

static int s_append_escape(nw_buf_t *buf, uint32_t cp)
{
    switch (cp) {
    case '"': return nw_buf_append(buf, "\\\"", 2);
    case '\\': return nw_buf_append(buf, "\\\\", 2);
    case '\n': return nw_buf_append(buf, "\\n", 2);
    case '\r': return nw_buf_append(buf, "\\r", 2);
    case '\t': return nw_buf_append(buf, "\\t", 2);
    case '\b': return nw_buf_append(buf, "\\b", 2);
    case '\f': return nw_buf_append(buf, "\\f", 2);
    default: return nw_buf_printf(buf, "\\u%04x", (unsigned)cp);
    }
}

int nw_json_string(nw_buf_t *buf, const char *s, size_t len)
{
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    const unsigned char *p = (const unsigned char *)s;
    int rc = nw_buf_append(buf, "\"", 1);
    size_t i = 0;
    while (rc == NW_OK && i < len) {
        /* Copy the longest run that needs no escaping in one append. */
        size_t run = i;
        uint32_t cp = 0;
        size_t n = 0;
        for (;;) {
            /* Printable ASCII other than '"' and '\\' (most text) needs no decoding. */
            while (run < len && p[run] >= 0x20 && p[run] < 0x7F && p[run] != '"' && p[run] != '\\')
                run++;
            if (run < len && (n = nw_utf8_next((const char *)p + run, len - run, &cp)) > 0 &&
                cp >= 0x20 && cp != '"' && cp != '\\' && !s_escape_raw(cp)) {
                run += n;
                continue;
            }
            break;
        }
        if (run > i)
            rc = nw_buf_append(buf, p + i, run - i);
        i = run;
        if (rc != NW_OK || i >= len)
            break;
        if (n == 0) {
            rc = nw_buf_append(buf, replacement, 3); /* one invalid byte, one U+FFFD */
            i++;
        } else {
            rc = s_append_escape(buf, cp);
            i += n;
        }
    }
    if (rc == NW_OK)
        rc = nw_buf_append(buf, "\"", 1);
    return rc;
}

/* Appends [,]"key": in one append; key is one of this file's own names, plain ASCII that
 * needs no escaping and is shorter than 32 bytes. */
static int s_key(nw_buf_t *buf, const char *key, int first)
{
    char text[40];
    size_t n = 0, len = strlen(key);
    if (!first)
        text[n++] = ',';
    text[n++] = '"';
    memcpy(text + n, key, len);
    n += len;
    text[n++] = '"';
    text[n++] = ':';
    return nw_buf_append(buf, text, n);
}

static int s_field_str(nw_buf_t *buf, const char *key, const char *value)
{
    if (value == NULL) /* a zeroed alert: show "" rather than crash */
        value = "";
    int rc = s_key(buf, key, 0);
    if (rc == NW_OK)
        rc = nw_json_string(buf, value, strlen(value));
    return rc;
}

/* Appends value in decimal (what "%" PRIu64 prints, without the two vsnprintf passes of
 * nw_buf_printf: alerts carry several numbers and this runs for every alert logged). */
static int s_u64(nw_buf_t *buf, uint64_t value)
{
    char digits[20];
    size_t n = sizeof digits;
    do {
        digits[--n] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    return nw_buf_append(buf, digits + n, sizeof digits - n);
}

static int s_field_u64(nw_buf_t *buf, const char *key, uint64_t value)
{
    int rc = s_key(buf, key, 0);
    if (rc == NW_OK)
        rc = s_u64(buf, value);
    return rc;
}

/* Writes value as width decimal digits, zero-padded, at out. */
static void s_digits(char *out, unsigned value, size_t width)
{
    while (width-- > 0) {
        out[width] = (char)('0' + value % 10);
        value /= 10;
    }
}

/* "published" as ISO-8601 UTC with milliseconds, or null for a time gmtime cannot show.
 * Four-digit years are written digit by digit (this runs for every alert logged); any
 * other year goes through strftime, whose %Y does not pad them. */
static int s_field_time(nw_buf_t *buf, const char *key, int64_t ms)
{
    int rc = s_key(buf, key, 0);
    if (rc != NW_OK)
        return rc;
    int64_t sec = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        sec -= 1;
        frac += 1000;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    char text[64];
    if (gmtime_r(&t, &tm) == NULL)
        return nw_buf_append_str(buf, "null");
    if (tm.tm_year >= 1000 - 1900 && tm.tm_year <= 9999 - 1900) {
        memcpy(text, "\"YYYY-MM-DDTHH:MM:SS.mmmZ\"", 26);
        s_digits(text + 1, (unsigned)tm.tm_year + 1900, 4);
        s_digits(text + 6, (unsigned)tm.tm_mon + 1, 2);
        s_digits(text + 9, (unsigned)tm.tm_mday, 2);
        s_digits(text + 12, (unsigned)tm.tm_hour, 2);
        s_digits(text + 15, (unsigned)tm.tm_min, 2);
        s_digits(text + 18, (unsigned)tm.tm_sec, 2);
        s_digits(text + 21, (unsigned)frac, 3);
        return nw_buf_append(buf, text, 26);
    }
    if (strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return nw_buf_append_str(buf, "null");
    return nw_buf_printf(buf, "\"%s.%03dZ\"", text, (int)frac);
}

/* Appends value in decimal, as "%" PRId64 prints it. */
static int s_i64(nw_buf_t *buf, int64_t value)
{
    if (value >= 0)
        return s_u64(buf, (uint64_t)value);
    int rc = nw_buf_append(buf, "-", 1);
    return rc == NW_OK ? s_u64(buf, (uint64_t) - (value + 1) + 1) : rc;
}

/* The article's link, original time (ISO-8601, null when unknown) and revision. */
static int s_article_fields(nw_buf_t *buf, const nw_alert_t *alert)
{
    int rc = s_field_str(buf, "url", alert->url);
    if (rc == NW_OK && alert->article_time_ms != 0)
        rc = s_field_time(buf, "article_time", alert->article_time_ms);
    else if (rc == NW_OK && (rc = s_key(buf, "article_time", 0)) == NW_OK)
        rc = nw_buf_append_str(buf, "null");
    if (rc == NW_OK)
        rc = s_field_u64(buf, "revision", alert->revision > 1 ? alert->revision : 1);
    return rc;
}

static int s_topics(nw_buf_t *buf, const nw_alert_t *alert)
{
    int rc = s_key(buf, "topics", 0);
    if (rc == NW_OK)
        rc = nw_buf_append(buf, "[", 1);
    for (size_t i = 0; rc == NW_OK && i < alert->n_topics; i++) {
        if (i > 0)
            rc = nw_buf_append(buf, ",", 1);
        if (rc == NW_OK)
            rc = nw_json_string(buf, alert->topics[i].name, strlen(alert->topics[i].name));
    }
    if (rc == NW_OK)
        rc = nw_buf_append_str(buf, "],\"tseq\":{");
    for (size_t i = 0; rc == NW_OK && i < alert->n_topics; i++) {
        if (i > 0)
            rc = nw_buf_append(buf, ",", 1);
        if (rc == NW_OK)
            rc = nw_json_string(buf, alert->topics[i].name, strlen(alert->topics[i].name));
        if (rc == NW_OK)
            rc = nw_buf_append(buf, ":", 1);
        if (rc == NW_OK)
            rc = s_u64(buf, alert->topics[i].seq);
    }
    if (rc == NW_OK)
        rc = nw_buf_append(buf, "}", 1);
    return rc;
}

int nw_json_alert(nw_buf_t *buf, const nw_alert_t *alert, const char *topic)
{
    size_t start = buf->len;
    int rc = nw_buf_append(buf, "{", 1);
    if (rc == NW_OK)
        rc = s_key(buf, "id", 1);
    if (rc == NW_OK)
        rc = nw_json_string(buf, alert->id ? alert->id : "", alert->id ? strlen(alert->id) : 0);
    if (rc == NW_OK)
        rc = s_field_str(buf, "article", alert->article_id);
    if (rc == NW_OK)
        rc = s_field_u64(buf, "index", alert->index);
    if (rc == NW_OK)
        rc = s_field_str(buf, "kind", nw_alert_kind_name(alert->kind));
    if (rc == NW_OK)
        rc = s_field_str(buf, "priority", nw_priority_name(alert->priority));
    if (rc == NW_OK && topic != NULL)
        rc = s_field_str(buf, "topic", topic);
    if (rc == NW_OK)
        rc = s_topics(buf, alert);
    if (rc == NW_OK)
        rc = s_field_str(buf, "stream", alert->stream);
    if (rc == NW_OK)
        rc = s_field_u64(buf, "seq", alert->seq);
    if (rc == NW_OK)
        rc = s_field_time(buf, "published", alert->published_ms);
    if (rc == NW_OK)
        rc = s_key(buf, "published_ms", 0);
    if (rc == NW_OK)
        rc = s_i64(buf, alert->published_ms);
    if (rc == NW_OK)
        rc = s_field_str(buf, "title", alert->title);
    if (rc == NW_OK)
        rc = s_field_str(buf, "source", alert->source);
    if (rc == NW_OK)
        rc = s_field_str(buf, "author", alert->author);
    if (rc == NW_OK)
        rc = s_field_str(buf, "place", alert->place);
    if (rc == NW_OK)
        rc = s_field_str(buf, "section", alert->section);
    if (rc == NW_OK)
        rc = s_article_fields(buf, alert);
    if (rc == NW_OK)
        rc = s_field_str(buf, "text", alert->text);
    if (rc == NW_OK)
        rc = nw_buf_append(buf, "}", 1);
    if (rc != NW_OK) {
        /* Leave no half object behind. */
        buf->len = start;
        if (buf->data != NULL)
            buf->data[start] = '\0';
    }
    return rc;
}
