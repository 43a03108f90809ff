/*
 * nw_decode: an alert frame (proto/PROTOCOL.md, section 5) straight into an nw_alert_t,
 * without building a MessagePack object tree.
 *
 * One pass reads a frame laid out as newswire encodes it: the top-level map once, each key
 * found by a switch on its length and first bytes, each value bounds-checked as it is read and
 * stored straight into the alert. It accepts only what the thorough path below accepts, with
 * the same fields. Any frame it does not accept (a fault, a nested value under an unknown key,
 * "tseq" before "topics") goes to the thorough path, which picks the error code: the bounds walk
 * (nw_wire_walk) checks the whole frame and records where the value of each known key starts;
 * once it has accepted the frame, each field is read from its bytes, in the fixed order of a
 * table with one line per key. Nothing is allocated but the alert's own strings (one block),
 * so a legal frame full of values the alert does not use (an unknown key holding 200,000 nils)
 * costs no memory.
 */
#ifndef NW_DECODE_H
#define NW_DECODE_H

#include "nw_alert.h"

#include <stddef.h>

/* Decodes one alert frame into *alert, which this call initialises (the caller clears it
 * with nw_alert_clear() after NW_OK). Frames of more than max_size bytes are
 * NW_ERR_WIRE_OVERSIZE; containers may nest max_depth deep (the top-level map counting 1).
 * Returns NW_OK or the code nw_alert_decode documents for each fault (nw_codec.h); on error
 * *alert is left zeroed and owns nothing. Unknown keys are ignored. */
int nw_decode_alert(const void *data, size_t size, size_t max_size, unsigned max_depth,
                    nw_alert_t *alert);

#endif
