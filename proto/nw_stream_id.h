/*
 * nw_stream_id: the publisher stream id, NW_STREAM_ID_LEN lowercase hex
 * characters drawn from the system's randomness (proto/PROTOCOL.md).
 */
#ifndef NW_STREAM_ID_H
#define NW_STREAM_ID_H

#include "nw_alert.h"

#include <stdbool.h>
#include <stddef.h>

/* Writes a new random stream id (NW_STREAM_ID_LEN lowercase hex chars and a NUL) into out,
 * from getrandom(2), or /dev/urandom where getrandom is missing. The one place a stream id
 * is invented. Returns NW_OK, or NW_ERR_IO when the system has no randomness to give
 * (out then holds ""). */
int nw_stream_id_new(char out[NW_STREAM_ID_LEN + 1]);

/* Returns true when the len bytes at id are exactly NW_STREAM_ID_LEN lowercase hex chars. */
bool nw_stream_id_valid(const char *id, size_t len);

#endif
