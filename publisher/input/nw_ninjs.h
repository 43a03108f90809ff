/*
 * nw_ninjs: an IPTC ninjs document (1.x or 2.x, JSON) into an article.
 *
 * Reads the structured fields instead of guessing: headline (2.x:
 * headlines), body_html through the HTML extractor's body path or else
 * body_text (2.x: bodies), byline (2.x: bylines), uri, firstcreated or
 * versioncreated, and the subject codes (2.x: subjects), IPTC Media Topic
 * URIs and "mediatopic:" codes written as "medtop:NNNNNNNN" like the taxonomy's
 * iptc: lines. JSON is parsed with jansson. Pure: no files, no sockets.
 *
 * A libFuzzer harness calls
 *     nw_article_t a; nw_ninjs_read(data, size, NULL, &a, NULL, 0); nw_article_clear(&a);
 */
#ifndef NW_NINJS_H
#define NW_NINJS_H

#include "nw_article.h"
#include "nw_html.h"

#include <stdbool.h>
#include <stddef.h>

/* Returns true when data is a JSON object with at least one ninjs field (headline,
 * headlines, body_text, body_html, bodies, uri with version or type). Parses it to
 * tell. */
bool nw_ninjs_sniff(const char *data, size_t len);

/* Reads the ninjs document data (len bytes) into *article (initialised by this call;
 * clear with nw_article_clear after NW_OK). opts steer the HTML body path (may be NULL).
 * The title is the headline, or the first words of the body when there is none.
 * Returns NW_OK; NW_ERR_INVAL when data is not JSON or not an object ("line L column C"
 * in err); NW_ERR_ARTICLE_EMPTY when it has no body text; NW_ERR_TOOBIG, NW_ERR_NOMEM.
 * On error a one-line reason is written to err (may be NULL) and *article owns
 * nothing. */
int nw_ninjs_read(const char *data, size_t len, const nw_html_opts_t *opts, nw_article_t *article,
                  char *err, size_t errlen);

#endif
