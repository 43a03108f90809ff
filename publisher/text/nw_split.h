/*
 * nw_split: a parsed article into alerts.
 *
 * One headline alert (index 0, the title), then, in reading order, one alert
 * per bullet (kind keypoint) and one per paragraph (kind paragraph); a
 * paragraph longer than max_paragraph bytes is split at sentence ends.
 * Headings produce no alert: they become the section of what follows them.
 */
#ifndef NW_SPLIT_H
#define NW_SPLIT_H

#include "nw_alert.h"
#include "nw_article.h"

#include <stdint.h>

typedef struct {
    size_t max_paragraph; /* bytes; 0 picks the default, 1200 */
} nw_split_opts_t;

/* Makes the alerts of article into a new array *alerts of *n entries (free with
 * nw_split_free). Each alert gets id ("<article id>.<index>"), article_id, index,
 * kind, text, title, source, author, place, section and published_ms; no topics,
 * priority normal, no stream or sequence numbers. opts may be NULL.
 * Returns NW_OK or NW_ERR_NOMEM (nothing allocated). */
int nw_split(const nw_article_t *article, int64_t published_ms, const nw_split_opts_t *opts,
             nw_alert_t **alerts, size_t *n);

/* Clears and frees an array from nw_split and sets *alerts to NULL. Safe on NULL. */
void nw_split_free(nw_alert_t **alerts, size_t n);

#endif
