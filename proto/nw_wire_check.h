/*
 * nw_wire_check: a bounds walker over MessagePack bytes, run on every frame
 * before a MessagePack library is allowed to see it.
 *
 * msgpack-c allocates an array's or map's element storage as soon as it reads
 * the header, trusting the declared count: the 5-byte frame dd ff ff ff ff
 * ("array of 2^32-1 elements") makes it ask for ~96 GB (msgpack-c issues 985
 * and 1013). This walker reads only headers and lengths, allocates nothing,
 * and accepts a frame only when every declared length fits in the bytes
 * actually present and every declared element count, added to the values
 * still pending, fits in the bytes left (each value takes at least one byte).
 * Once a frame passes, the number of values it holds is at most its size, so
 * an unpacker allocates at most a small constant times the frame's size.
 */
#ifndef NW_WIRE_CHECK_H
#define NW_WIRE_CHECK_H

#include <stddef.h>

#define NW_WIRE_CHECK_DEPTH_LIMIT 32 /* deepest nesting the walker can track at all */

/* Walks the size bytes at data as exactly one MessagePack value (of any type).
 * max_depth is the deepest container nesting allowed, the outermost container
 * counting as 1 (values above NW_WIRE_CHECK_DEPTH_LIMIT are treated as that).
 * Returns NW_OK when data holds exactly one well-formed value and nothing else;
 * NW_ERR_WIRE_TRUNCATED when the bytes end inside a value, a declared length runs
 * past the end, or a declared element count cannot fit in the bytes left (this
 * covers the 5-byte "huge array" headers); NW_ERR_WIRE_MALFORMED for the never-used
 * byte 0xc1; NW_ERR_WIRE_DEPTH when containers nest deeper than max_depth;
 * NW_ERR_WIRE_TRAILING when bytes follow the value. Pure: reads data, allocates
 * nothing, no state. */
int nw_wire_check(const void *data, size_t size, unsigned max_depth);

/* Called by nw_wire_walk for each value directly inside a top-level map, in order: the
 * keys at even i, each key's value at i + 1. at is the value's first byte; its header is
 * complete and its payload (for a string) fits the frame. A decoder records positions here and
 * reads them once the walk has accepted the whole frame. */
typedef void nw_wire_visit_fn(void *ctx, size_t i, const unsigned char *at);

/* nw_wire_check, calling visit (when not NULL and the value is a map) with ctx for each
 * value of the top-level map as the walk reaches it. Returns as nw_wire_check; on an error,
 * visit may have seen values of the rejected frame. */
int nw_wire_walk(const void *data, size_t size, unsigned max_depth, nw_wire_visit_fn *visit,
                 void *ctx);

#endif
