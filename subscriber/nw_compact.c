/*
 * nw_compact: the compact view. See nw_compact.h.
 */
#include "nw_compact.h"

#include "nw_error.h"
#include "nw_format.h"
#include "nw_utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define S_INDENT   "  "
#define S_ELLIPSIS "\xE2\x80\xA6" /* U+2026 */
#define S_BOLD     "\x1b[1m"
#define S_RESET    "\x1b[0m"

struct nw_compact_t {
    unsigned width; /* columns to cut at, 0 = none */
    bool colour;    /* bold title lines */
    char last[64];  /* article id of the previous alert */
    nw_buf_t line;  /* scratch: one line before it is cut */
};

int nw_compact_new(unsigned width, bool colour, nw_compact_t **out)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return NW_ERR_NOMEM;
    (*out)->width = width;
    (*out)->colour = colour;
    return NW_OK;
}

void nw_compact_destroy(nw_compact_t **c_p)
{
    if (c_p == NULL || *c_p == NULL)
        return;
    nw_buf_free(&(*c_p)->line);
    free(*c_p);
    *c_p = NULL;
}

/* Appends line to out cut at width code points (the last one "…" when cut), then end
 * (escapes that take no column, or "") and "\n". */
static int s_emit(const nw_compact_t *c, const nw_buf_t *line, const char *end, nw_buf_t *out)
{
    size_t i = 0, shown = 0, keep = line->len;
    bool cut = false;
    while (c->width > 0 && i < line->len) {
        uint32_t cp;
        size_t n = nw_utf8_next(line->data + i, line->len - i, &cp);
        if (n == 0)
            n = 1;
        if (shown + 1 == c->width && i + n < line->len) {
            keep = i;
            cut = true;
            break;
        }
        shown++;
        i += n;
    }
    int rc = nw_buf_append(out, line->data, keep);
    if (rc == NW_OK && cut)
        rc = nw_buf_append_str(out, S_ELLIPSIS);
    if (rc == NW_OK)
        rc = nw_buf_append_str(out, end);
    return rc == NW_OK ? nw_buf_append_str(out, "\n") : rc;
}

static int s_visible(nw_buf_t *b, const char *s)
{
    return nw_format_visible(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

static int s_title_line(nw_compact_t *c, const nw_alert_t *a, nw_buf_t *out)
{
    char when[16] = "--:--";
    time_t t = (time_t)(a->published_ms / 1000);
    struct tm tm;
    if (localtime_r(&t, &tm) != NULL)
        strftime(when, sizeof when, "%H:%M", &tm);
    nw_buf_reset(&c->line);
    int rc = nw_buf_printf(&c->line, "%s  ", when);
    if (rc == NW_OK)
        rc = s_visible(&c->line, a->title != NULL && a->title[0] ? a->title : "(no title)");
    if (rc == NW_OK && a->source != NULL && a->source[0] != '\0') {
        rc = nw_buf_append_str(&c->line, " \xE2\x80\x94 "); /* em dash */
        if (rc == NW_OK)
            rc = s_visible(&c->line, a->source);
    }
    if (rc == NW_OK && c->colour)
        rc = nw_buf_append_str(out, S_BOLD);
    return rc == NW_OK ? s_emit(c, &c->line, c->colour ? S_RESET : "", out) : rc;
}

int nw_compact_alert(nw_compact_t *c, const nw_alert_t *a, nw_buf_t *out)
{
    size_t before = out->len;
    int rc = NW_OK;
    const char *article = a->article_id != NULL ? a->article_id : "";
    if (strncmp(c->last, article, sizeof c->last) != 0) {
        rc = s_title_line(c, a, out);
        snprintf(c->last, sizeof c->last, "%s", article);
    }
    nw_buf_reset(&c->line);
    if (rc == NW_OK)
        rc = nw_buf_append_str(&c->line,
                               a->kind == NW_KIND_KEYPOINT ? S_INDENT "\xE2\x80\xA2 " : S_INDENT);
    if (rc == NW_OK && a->kind == NW_KIND_PARAGRAPH)
        rc = nw_buf_append_str(&c->line, "  ");
    if (rc == NW_OK && a->priority >= NW_PRIORITY_HIGH)
        rc = nw_buf_append_str(&c->line, a->priority == NW_PRIORITY_URGENT ? "URGENT " : "HIGH ");
    if (rc == NW_OK)
        rc = nw_buf_append_str(&c->line, "[");
    for (size_t i = 0; rc == NW_OK && i < a->n_topics; i++) {
        if (i > 0)
            rc = nw_buf_append_str(&c->line, ",");
        if (rc == NW_OK)
            rc = s_visible(&c->line, a->topics[i].name);
    }
    if (rc == NW_OK)
        rc = nw_buf_append_str(&c->line, "] ");
    if (rc == NW_OK)
        rc = s_visible(&c->line, a->text);
    if (rc == NW_OK)
        rc = s_emit(c, &c->line, "", out);
    if (rc != NW_OK)
        out->len = before;
    return rc;
}

unsigned nw_compact_width(int fd)
{
    struct winsize ws;
    if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *cols = getenv("COLUMNS");
    if (cols != NULL && cols[0] != '\0' && strspn(cols, "0123456789") == strlen(cols) &&
        strlen(cols) < 6)
        return (unsigned)atoi(cols);
    return 0;
}
