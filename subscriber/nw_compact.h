/*
 * nw_compact: the compact view, newswire-sub's default on a terminal.
 *
 * An article's title is printed once, when its first alert arrives; each alert
 * follows on its own line, indented under it, and every line is cut to the
 * terminal's width (with "…"), so one article with a dozen paragraphs reads as
 * a short block instead of a dozen long lines each ending in the title:
 *
 *     14:02  US doubles steel tariffs — Reuters
 *       [tariffs,trade] US doubles steel tariffs
 *       • [tariffs] Duties on imported steel rise to 50 percent from June
 *         [trade] The administration said the move answers dumping by…
 *
 * Keypoints get "• ", high and urgent alerts "HIGH "/"URGENT ". Fields are shown
 * as nw_format_visible shows them: no control character reaches the terminal.
 * --full (or any --format) prints every field instead.
 */
#ifndef NW_COMPACT_H
#define NW_COMPACT_H

#include "nw_alert.h"
#include "nw_buf.h"

#include <stdbool.h>

typedef struct nw_compact_t nw_compact_t;

/* Creates a compact view cutting lines at width columns (code points; 0 = no cut); with
 * colour, title lines are bold (ANSI; the escapes do not count toward the width).
 * Returns NW_OK with *out set, or NW_ERR_NOMEM. */
int nw_compact_new(unsigned width, bool colour, nw_compact_t **out);

/* Frees c and sets *c_p to NULL. Safe on NULL and twice. */
void nw_compact_destroy(nw_compact_t **c_p);

/* Appends the lines for alert to out: its article's title line first when the article
 * differs from the previous alert's. Returns NW_OK or NW_ERR_NOMEM. */
int nw_compact_alert(nw_compact_t *c, const nw_alert_t *alert, nw_buf_t *out);

/* The width to cut at for output on fd: the terminal's columns when fd is a terminal,
 * else $COLUMNS when it is a number, else 0 (no cut). */
unsigned nw_compact_width(int fd);

#endif
