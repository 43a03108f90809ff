/*
 * nw_extract: an article as newswire-pub --extract prints it, for debugging a
 * reader (text, HTML page, ninjs): its metadata and body blocks, untagged.
 *
 * Text: "title: ..." style header lines (author, time, url, section, source,
 * place, subjects, each only when known), a blank line, then one block per
 * paragraph: "## " before a heading, "- " before a list item.
 * JSON: one object {"title", "author", "time" (ISO 8601 UTC or null),
 * "time_ms", "url", "section", "source", "place", "subjects": [...],
 * "blocks": [{"kind", "text"}...], "body": [the block texts in order]}.
 */
#ifndef NW_EXTRACT_H
#define NW_EXTRACT_H

#include "nw_article.h"
#include "nw_buf.h"

#include <stdbool.h>

/* Appends article to out as text, or as one JSON object and a newline when json is
 * true. Returns NW_OK or NW_ERR_NOMEM. */
int nw_extract_format(const nw_article_t *article, bool json, nw_buf_t *out);

#endif
