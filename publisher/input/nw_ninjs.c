#include "nw_ninjs.h"

#include "nw_buf.h"
#include "nw_error.h"
#include "nw_html_meta.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_FIELD_MAX    300  /* bytes of a headline, byline at most */
#define S_URI_MAX      2048 /* bytes of a uri at most */
#define S_SUBJECTS_MAX 64   /* subject codes kept at most */

static json_t *s_load(const char *data, size_t len, json_error_t *jerr)
{
    /* Reject duplicate keys: a document that says two things is not to be guessed at. */
    return json_loadb(data, len, JSON_REJECT_DUPLICATES, jerr);
}

static bool s_has_ninjs_key(json_t *obj)
{
    static const char *const keys[] = {"headline",  "headlines", "body_text",
                                       "body_html", "bodies",    NULL};
    for (size_t i = 0; keys[i] != NULL; i++) {
        if (json_object_get(obj, keys[i]) != NULL)
            return true;
    }
    return json_object_get(obj, "uri") != NULL &&
           (json_object_get(obj, "version") != NULL || json_object_get(obj, "type") != NULL);
}

bool nw_ninjs_sniff(const char *data, size_t len)
{
    if (data == NULL || len == 0)
        return false;
    size_t i = 0; /* data need not be NUL-terminated: only len bytes are read */
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (i >= len || data[i] != '{')
        return false;
    json_error_t jerr;
    json_t *root = s_load(data, len, &jerr);
    bool yes = json_is_object(root) && s_has_ninjs_key(root);
    json_decref(root);
    return yes;
}

/* Copies s squeezed and cut to max bytes at a character boundary; NULL s gives "". */
static char *s_field(const char *s, size_t max)
{
    char *copy = strdup(s != NULL ? s : "");
    if (copy == NULL)
        return NULL;
    nw_html_squeeze(copy);
    size_t len = strlen(copy);
    if (len > max) {
        while (max > 0 && ((unsigned char)copy[max] & 0xc0) == 0x80)
            max--;
        copy[max] = '\0';
    }
    return copy;
}

/* 2.x lists ("headlines", "bodies"): the value of the entry whose role is main, else
 * the first entry whose contenttype matches want (NULL = any). */
static const char *s_pick_value(json_t *list, const char *want)
{
    const char *first = NULL;
    for (size_t i = 0; json_is_array(list) && i < json_array_size(list); i++) {
        json_t *e = json_array_get(list, i);
        const char *type = json_string_value(json_object_get(e, "contenttype"));
        if (type == NULL)
            type = json_string_value(json_object_get(e, "contentType"));
        if (want != NULL && (type == NULL || strcasecmp(type, want) != 0))
            continue;
        const char *value = json_string_value(json_object_get(e, "value"));
        const char *role = json_string_value(json_object_get(e, "role"));
        if (value != NULL && role != NULL && strcmp(role, "main") == 0)
            return value;
        if (first == NULL)
            first = value;
    }
    return first;
}

static const char *s_headline(json_t *root)
{
    const char *h = json_string_value(json_object_get(root, "headline"));
    return h != NULL ? h : s_pick_value(json_object_get(root, "headlines"), NULL);
}

/* byline, or the 2.x bylines' "byline" entries joined with ", "; a leading "By " goes. */
static int s_byline(json_t *root, char **out)
{
    nw_buf_t b = {0};
    const char *one = json_string_value(json_object_get(root, "byline"));
    json_t *list = json_object_get(root, "bylines");
    int rc = NW_OK;
    if (one != NULL)
        rc = nw_buf_append_str(&b, one);
    for (size_t i = 0; one == NULL && json_is_array(list) && i < json_array_size(list); i++) {
        const char *s = json_string_value(json_object_get(json_array_get(list, i), "byline"));
        if (s != NULL && rc == NW_OK)
            rc = nw_buf_printf(&b, "%s%s", b.len ? ", " : "", s);
    }
    if (rc == NW_OK) {
        const char *s = b.data != NULL ? b.data : "";
        if (strncasecmp(s, "by ", 3) == 0)
            s += 3;
        *out = s_field(s, S_FIELD_MAX);
        rc = *out != NULL ? NW_OK : NW_ERR_NOMEM;
    }
    nw_buf_free(&b);
    return rc;
}

/* A subject's code in the taxonomy's form: IPTC Media Topics become "medtop:NNNNNNNN"
 * from a "medtop:"/"mediatopic:" code, a mediatopic scheme or a cv.iptc.org URI. */
static char *s_subject_code(json_t *subj)
{
    const char *code = json_string_value(json_object_get(subj, "code"));
    const char *scheme = json_string_value(json_object_get(subj, "scheme"));
    const char *uri = json_string_value(json_object_get(subj, "uri"));
    const char *digits = NULL;
    if (code != NULL && strncasecmp(code, "medtop:", 7) == 0)
        digits = code + 7;
    else if (code != NULL && strncasecmp(code, "mediatopic:", 11) == 0)
        digits = code + 11;
    else if (code != NULL && scheme != NULL && strstr(scheme, "mediatopic") != NULL)
        digits = code;
    else if (uri != NULL && strstr(uri, "/mediatopic/") != NULL)
        digits = strstr(uri, "/mediatopic/") + 12;
    if (digits != NULL && strlen(digits) == 8 && strspn(digits, "0123456789") == 8) {
        char *out = malloc(16);
        if (out != NULL)
            snprintf(out, 16, "medtop:%s", digits);
        return out;
    }
    return code != NULL && code[0] != '\0' ? s_field(code, 64) : NULL;
}

static int s_subjects(json_t *root, nw_article_t *art)
{
    json_t *list = json_object_get(root, "subject");
    if (list == NULL)
        list = json_object_get(root, "subjects");
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    if (n > S_SUBJECTS_MAX)
        n = S_SUBJECTS_MAX;
    if (n == 0)
        return NW_OK;
    art->subjects = calloc(n, sizeof(char *));
    if (art->subjects == NULL)
        return NW_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *subj = json_array_get(list, i);
        if (!json_is_object(subj))
            continue;
        char *code = s_subject_code(subj);
        if (code != NULL)
            art->subjects[art->n_subjects++] = code;
    }
    return NW_OK;
}

/* Plain text body: a paragraph per non-blank line. */
static int s_text_blocks(nw_article_t *art, const char *text)
{
    const char *p = text;
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        char *line = strndup(p, len);
        if (line == NULL)
            return NW_ERR_NOMEM;
        nw_html_squeeze(line);
        if (line[0] == '\0') {
            free(line);
        } else {
            nw_block_t *b = realloc(art->blocks, (art->n_blocks + 1) * sizeof(*b));
            if (b == NULL) {
                free(line);
                return NW_ERR_NOMEM;
            }
            art->blocks = b;
            art->blocks[art->n_blocks++] =
                (nw_block_t){.kind = NW_BLOCK_PARAGRAPH, .text = line, .line = 0};
        }
        p += len + (eol != NULL);
    }
    return NW_OK;
}

static int s_body(json_t *root, const nw_html_opts_t *opts, nw_article_t *art, char *err,
                  size_t errlen)
{
    json_t *bodies = json_object_get(root, "bodies");
    const char *html = json_string_value(json_object_get(root, "body_html"));
    const char *text = json_string_value(json_object_get(root, "body_text"));
    if (html == NULL)
        html = s_pick_value(bodies, "text/html");
    if (text == NULL)
        text = s_pick_value(bodies, "text/plain");
    int rc = NW_OK;
    char why[256] = "";
    if (html != NULL && html[0] != '\0' &&
        (rc = nw_html_body(html, strlen(html), opts, art, why, sizeof why)) != NW_OK)
        nw_error_format(err, errlen, "ninjs: body_html: %s", why);
    if (rc == NW_OK && art->n_blocks == 0 && text != NULL)
        rc = s_text_blocks(art, text);
    return rc;
}

static int s_time(json_t *root, int64_t *ms)
{
    const char *t = json_string_value(json_object_get(root, "firstcreated"));
    if (t == NULL || nw_html_parse_time(t, ms) != NW_OK)
        t = json_string_value(json_object_get(root, "versioncreated"));
    if (t != NULL && nw_html_parse_time(t, ms) != NW_OK)
        *ms = 0;
    return NW_OK;
}

static int s_fields(json_t *root, nw_article_t *art)
{
    const char *uri = json_string_value(json_object_get(root, "uri"));
    bool uri_ok = uri != NULL && strlen(uri) <= S_URI_MAX && strpbrk(uri, " \t\r\n") == NULL;
    art->url = s_field(uri_ok ? uri : "", S_URI_MAX);
    art->title = s_field(s_headline(root), S_FIELD_MAX);
    art->section = strdup("");
    art->place = strdup("");
    art->source = s_field(json_string_value(json_object_get(root, "copyrightholder")), S_FIELD_MAX);
    if (!art->url || !art->title || !art->section || !art->place || !art->source)
        return NW_ERR_NOMEM;
    return s_byline(root, &art->author);
}

int nw_ninjs_read(const char *data, size_t len, const nw_html_opts_t *opts, nw_article_t *article,
                  char *err, size_t errlen)
{
    json_error_t jerr;
    memset(article, 0, sizeof *article);
    if (len > NW_HTML_MAX_INPUT) {
        nw_error_format(err, errlen, "ninjs document is %zu bytes, over the limit of %u bytes", len,
                        NW_HTML_MAX_INPUT);
        return NW_ERR_TOOBIG;
    }
    json_t *root = data != NULL ? s_load(data, len, &jerr) : NULL;
    if (root == NULL) {
        nw_error_format(err, errlen, "ninjs: not valid JSON at line %d column %d: %s",
                        data != NULL ? jerr.line : 0, data != NULL ? jerr.column : 0,
                        data != NULL ? jerr.text : "no data");
        return NW_ERR_INVAL;
    }
    int rc = NW_ERR_INVAL;
    if (!json_is_object(root)) {
        nw_error_format(err, errlen, "ninjs: the document is a JSON %s, not an object",
                        json_is_array(root) ? "array" : "value");
        goto fail;
    }
    if ((rc = s_fields(root, article)) != NW_OK || (rc = s_time(root, &article->article_time_ms)) ||
        (rc = s_subjects(root, article)) != NW_OK ||
        (rc = s_body(root, opts, article, err, errlen)) != NW_OK)
        goto fail;
    if (article->n_blocks == 0) {
        nw_error_format(err, errlen,
                        "ninjs: no body text (body_html, body_text and bodies are absent or "
                        "empty)");
        rc = NW_ERR_ARTICLE_EMPTY;
        goto fail;
    }
    if (article->title[0] == '\0') {
        free(article->title);
        if ((article->title = s_field(article->blocks[0].text, 120)) == NULL) {
            rc = NW_ERR_NOMEM;
            goto fail;
        }
    }
    if ((rc = nw_article_set_id(article)) != NW_OK)
        goto fail;
    json_decref(root);
    return NW_OK;
fail:
    if (rc == NW_ERR_NOMEM)
        nw_error_format(err, errlen, "out of memory while reading the ninjs document");
    json_decref(root);
    nw_article_clear(article);
    return rc;
}
