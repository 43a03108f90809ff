/*
 * nw_json: an alert as one JSON object, for JSON Lines output (the
 * subscriber's --format json and --log, the publisher's --dry-run).
 *
 * Output is always valid JSON whatever the alert holds: quotes, backslashes
 * and control characters are escaped, and bytes that are not valid UTF-8
 * become U+FFFD.
 */
#ifndef NW_JSON_H
#define NW_JSON_H

#include "nw_alert.h"
#include "nw_buf.h"

/* Appends alert as one JSON object (no newline) to buf. topic is the frame topic the
 * alert arrived on, or NULL to leave "topic" out. Returns NW_OK or NW_ERR_NOMEM. */
int nw_json_alert(nw_buf_t *buf, const nw_alert_t *alert, const char *topic);

/* Appends len bytes of s to buf as a quoted JSON string. Returns NW_OK or NW_ERR_NOMEM. */
int nw_json_string(nw_buf_t *buf, const char *s, size_t len);

#endif
