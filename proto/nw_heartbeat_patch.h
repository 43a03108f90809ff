/*
 * nw_heartbeat_patch: a heartbeat with one field changed and everything else kept.
 *
 * A proxy rewrites the heartbeat's "replay" field on its way through. Decoding
 * into nw_heartbeat_t and encoding again would drop the keys this version does
 * not know, and unknown keys are how the protocol grows (proto/PROTOCOL.md,
 * sections 4 and 8): a proxy must pass them on. This module copies the map
 * entry by entry and replaces only "replay".
 */
#ifndef NW_HEARTBEAT_PATCH_H
#define NW_HEARTBEAT_PATCH_H

#include <stddef.h>

/* Copies the heartbeat body (size bytes, which must decode as a heartbeat: the same
 * checks and errors as nw_heartbeat_decode) into a new buffer *out of *out_size bytes
 * (caller frees), with "replay" set to replay and written last. Every other key keeps
 * its value, unknown keys included (their values re-packed, so an integer may take its
 * shortest form). Returns NW_OK; a NW_ERR_WIRE_* code for a bad body; NW_ERR_INVAL
 * when replay is NULL, not UTF-8 or longer than NW_ALERT_FIELD_MAX; NW_ERR_NOMEM.
 * *out and *out_size are untouched on error. */
int nw_heartbeat_set_replay(const void *data, size_t size, const char *replay, char **out,
                            size_t *out_size);

#endif
