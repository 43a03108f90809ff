#include "nw_extract.h"

#include "nw_error.h"
#include "nw_json.h"

#include <string.h>
#include <time.h>

static const char *const s_kind_names[] = {"heading", "bullet", "paragraph"};

/* Writes ms since the epoch as "2019-11-18T14:30:00Z" into buf (at least 32 bytes). */
static void s_iso_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        buf[0] = '\0';
}

static int s_text_field(nw_buf_t *out, const char *name, const char *value)
{
    if (value == NULL || value[0] == '\0')
        return NW_OK;
    return nw_buf_printf(out, "%s: %s\n", name, value);
}

static int s_text(const nw_article_t *a, nw_buf_t *out)
{
    char when[32] = "";
    if (a->article_time_ms != 0)
        s_iso_time(a->article_time_ms, when, sizeof when);
    int rc = s_text_field(out, "title", a->title);
    if (rc == NW_OK)
        rc = s_text_field(out, "author", a->author);
    if (rc == NW_OK)
        rc = s_text_field(out, "time", when);
    if (rc == NW_OK)
        rc = s_text_field(out, "url", a->url);
    if (rc == NW_OK)
        rc = s_text_field(out, "section", a->section);
    if (rc == NW_OK)
        rc = s_text_field(out, "source", a->source);
    if (rc == NW_OK)
        rc = s_text_field(out, "place", a->place);
    for (size_t i = 0; i < a->n_subjects && rc == NW_OK; i++)
        rc = s_text_field(out, "subject", a->subjects[i]);
    for (size_t i = 0; i < a->n_blocks && rc == NW_OK; i++) {
        const char *mark = a->blocks[i].kind == NW_BLOCK_HEADING  ? "## "
                           : a->blocks[i].kind == NW_BLOCK_BULLET ? "- "
                                                                  : "";
        rc = nw_buf_printf(out, "\n%s%s\n", mark, a->blocks[i].text);
    }
    return rc;
}

static int s_json_field(nw_buf_t *out, const char *name, const char *value)
{
    int rc = nw_buf_printf(out, ",\"%s\":", name);
    if (rc == NW_OK)
        rc = nw_json_string(out, value != NULL ? value : "", value != NULL ? strlen(value) : 0);
    return rc;
}

static int s_json(const nw_article_t *a, nw_buf_t *out)
{
    char when[32] = "";
    int rc = nw_buf_append_str(out, "{\"title\":");
    if (rc == NW_OK)
        rc = nw_json_string(out, a->title, strlen(a->title));
    if (rc == NW_OK)
        rc = s_json_field(out, "author", a->author);
    if (rc == NW_OK && a->article_time_ms != 0) {
        s_iso_time(a->article_time_ms, when, sizeof when);
        rc = s_json_field(out, "time", when);
    } else if (rc == NW_OK) {
        rc = nw_buf_append_str(out, ",\"time\":null");
    }
    if (rc == NW_OK)
        rc = nw_buf_printf(out, ",\"time_ms\":%lld", (long long)a->article_time_ms);
    if (rc == NW_OK)
        rc = s_json_field(out, "url", a->url);
    if (rc == NW_OK)
        rc = s_json_field(out, "section", a->section);
    if (rc == NW_OK)
        rc = s_json_field(out, "source", a->source);
    if (rc == NW_OK)
        rc = s_json_field(out, "place", a->place);
    if (rc == NW_OK)
        rc = nw_buf_append_str(out, ",\"subjects\":[");
    for (size_t i = 0; i < a->n_subjects && rc == NW_OK; i++) {
        if (i > 0)
            rc = nw_buf_append_str(out, ",");
        if (rc == NW_OK)
            rc = nw_json_string(out, a->subjects[i], strlen(a->subjects[i]));
    }
    if (rc == NW_OK)
        rc = nw_buf_append_str(out, "],\"blocks\":[");
    for (size_t i = 0; i < a->n_blocks && rc == NW_OK; i++) {
        rc = nw_buf_printf(out, "%s{\"kind\":\"%s\",\"text\":", i ? "," : "",
                           s_kind_names[a->blocks[i].kind]);
        if (rc == NW_OK)
            rc = nw_json_string(out, a->blocks[i].text, strlen(a->blocks[i].text));
        if (rc == NW_OK)
            rc = nw_buf_append_str(out, "}");
    }
    if (rc == NW_OK)
        rc = nw_buf_append_str(out, "],\"body\":[");
    bool first = true;
    for (size_t i = 0; i < a->n_blocks && rc == NW_OK; i++) {
        if (!first)
            rc = nw_buf_append_str(out, ",");
        first = false;
        if (rc == NW_OK)
            rc = nw_json_string(out, a->blocks[i].text, strlen(a->blocks[i].text));
    }
    if (rc == NW_OK)
        rc = nw_buf_append_str(out, "]}\n");
    return rc;
}

int nw_extract_format(const nw_article_t *article, bool json, nw_buf_t *out)
{
    int rc = json ? s_json(article, out) : s_text(article, out);
    return rc == NW_OK ? NW_OK : NW_ERR_NOMEM;
}
