/*
 * nw_codec: alerts and heartbeats to and from their MessagePack wire form
 * (frame 2 of a message; see proto/PROTOCOL.md).
 *
 * Decoding treats every byte as hostile: the frame is first walked by a
 * bounds check that limits every declared length and count by the bytes
 * actually present and limits nesting, so no input can make the decoder
 * allocate more than a small multiple of the frame's size.
 */
#ifndef NW_CODEC_H
#define NW_CODEC_H

#include "nw_alert.h"

#include <stddef.h>

#define NW_WIRE_DEPTH_MAX       8 /* container nesting in a frame, the top-level map counting 1 */
#define NW_HEARTBEAT_TOPICS_MAX 1024 /* entries of a heartbeat's "tseq" map */

/* Encodes alert into a new buffer *data of *size bytes (caller frees with free()): a
 * map of the 18 keys of PROTOCOL.md section 5 that every alert has, plus url,
 * article_time and revision when they hold something, always in the same order,
 * integers in their shortest form, so equal alerts give equal bytes.
 * Returns NW_OK; NW_ERR_INVAL when the alert cannot be sent as it is (no topics, an
 * invalid or repeated topic, a string that is NULL or not UTF-8, an empty id, a kind or
 * priority out of range); NW_ERR_WIRE_OVERSIZE when a field or the whole frame exceeds
 * a protocol limit; NW_ERR_NOMEM. On error *data and *size are untouched. */
int nw_alert_encode(const nw_alert_t *alert, char **data, size_t *size);

/* What nw_alert_encode would return for alert, without making the frame: NW_OK (and *size,
 * the frame's bytes) or the same error. */
int nw_alert_encoded_size(const nw_alert_t *alert, size_t *size);

/* Decodes one alert frame into *alert, which this call initialises (the caller
 * clears it with nw_alert_clear() after NW_OK). Returns NW_OK or a distinct code per
 * fault: NW_ERR_WIRE_OVERSIZE (frame or field too big), NW_ERR_WIRE_MALFORMED,
 * NW_ERR_WIRE_TRUNCATED, NW_ERR_WIRE_TRAILING, NW_ERR_WIRE_DEPTH, NW_ERR_WIRE_TYPE,
 * NW_ERR_WIRE_MISSING, NW_ERR_WIRE_UTF8, NW_ERR_WIRE_VERSION, NW_ERR_WIRE_RANGE,
 * NW_ERR_NOMEM. On error *alert is left zeroed and owns nothing. Unknown keys are ignored. */
int nw_alert_decode(const void *data, size_t size, nw_alert_t *alert);

/* As nw_alert_encode, for a heartbeat: NW_ERR_INVAL for a NULL or non-UTF-8 stream or
 * replay, an invalid or repeated topic; NW_ERR_WIRE_OVERSIZE past
 * NW_HEARTBEAT_TOPICS_MAX topics or a string over NW_ALERT_FIELD_MAX. */
int nw_heartbeat_encode(const nw_heartbeat_t *hb, char **data, size_t *size);

/* As nw_alert_decode, for a heartbeat; clear *hb with nw_heartbeat_clear() after NW_OK.
 * An absent "replay" gives "", an empty "tseq" map gives topics NULL and n_topics 0.
 * On error *hb is left zeroed and owns nothing. */
int nw_heartbeat_decode(const void *data, size_t size, nw_heartbeat_t *hb);

#endif
