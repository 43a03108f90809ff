/*
 * nw_decode: an alert frame (proto/PROTOCOL.md, section 5) straight into an nw_alert_t,
 * without building a MessagePack object tree.
 *
 * The bounds walk (nw_wire_walk) checks the whole frame and, as it goes, records where the
 * value of each known key of the top-level map starts; once the walk has accepted the frame,
 * each field is read from its bytes, in the fixed order of a table with one line per key.
 * Nothing is allocated but the alert's own strings, so a legal frame full of values the
 * alert does not use (an unknown key holding 200,000 nils) costs no memory.
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
