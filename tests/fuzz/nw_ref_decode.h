/*
 * nw_ref_decode: the msgpack-c object-tree alert decoder, kept as the reference of the
 * differential tests only (see nw_ref_decode.c).
 */
#ifndef NW_REF_DECODE_H
#define NW_REF_DECODE_H

#include "nw_alert.h"

#include <stddef.h>

/* As nw_alert_decode (nw_codec.h), the way it was done through msgpack-c's object tree. */
int nw_ref_alert_decode(const void *data, size_t size, nw_alert_t *alert);

#endif
