/*
 * nw_msgpack_util: the MessagePack reading and packing helpers shared by proto's
 * codecs (nw_codec.c, nw_replay_msg.c).
 *
 * internal: not part of proto's public API, which exposes no msgpack types. Include
 * it only from proto's own .c files: msgpack stays a PRIVATE dependency of nw_proto.
 *
 * Readers take the object to read, or NULL when the key was absent, and return
 * NW_OK or an NW_ERR_* code; they write their output only on NW_OK unless said
 * otherwise. Packers return msgpack's 0, or -1 when out of memory, so that a caller
 * can OR a run of them and test the result once.
 */
#ifndef NW_MSGPACK_UTIL_H
#define NW_MSGPACK_UTIL_H

#include <msgpack.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- reading */

/* Bounds-checks one body, then unpacks it into msg (initialised by the caller, who
 * destroys it whatever this returns; the zone it gets is sized to the body) and indexes
 * its top-level map by keys (see nw_msgpack_index). Returns NW_ERR_WIRE_TRUNCATED when
 * data is NULL and size > 0, before any other check; NW_ERR_WIRE_OVERSIZE when
 * size > max_size; whatever nw_wire_check(data, size, max_depth) refuses with;
 * NW_ERR_NOMEM, NW_ERR_WIRE_TRUNCATED or NW_ERR_WIRE_MALFORMED from msgpack-c;
 * NW_ERR_WIRE_TRAILING when bytes follow the value; NW_ERR_WIRE_TYPE when the value is
 * not a map; then what nw_msgpack_index returns. */
int nw_msgpack_open(const void *data, size_t size, size_t max_size, unsigned max_depth,
                    msgpack_unpacked *msg, const char *const *keys, size_t n_keys,
                    const msgpack_object **found);

/* Sets found[j] to the value of keys[j] in map, or NULL when absent. Tries keys[i] first
 * for the i-th entry (the order our encoders write), then scans. Every key must be
 * a str (else NW_ERR_WIRE_TYPE); a known key given twice is NW_ERR_WIRE_RANGE (decoders
 * elsewhere would keep the last, one might keep the first: better to agree on
 * neither); unknown keys are skipped. found may be partly set on error. */
int nw_msgpack_index(const msgpack_object_map *map, const char *const *keys, size_t n_keys,
                     const msgpack_object **found);

/* True when o is a str holding exactly the bytes of the C string s. */
bool nw_msgpack_str_is(const msgpack_object *o, const char *s);

/* Checks the required "v": NW_OK when it is NW_PROTO_VERSION; NW_ERR_WIRE_VERSION for
 * any other integer; NW_ERR_WIRE_TYPE for a non-integer; NW_ERR_WIRE_MISSING when
 * absent. */
int nw_msgpack_get_version(const msgpack_object *o);

/* Checks the required "type" is the str want: NW_ERR_WIRE_MISSING, NW_ERR_WIRE_TYPE
 * (not a str) or NW_ERR_WIRE_RANGE (another name). */
int nw_msgpack_get_type(const msgpack_object *o, const char *want);

/* Reads a required unsigned integer of any encoding width, at most max, into *out.
 * NW_ERR_WIRE_MISSING; NW_ERR_WIRE_RANGE for a negative integer or one above max;
 * NW_ERR_WIRE_TYPE for a non-integer. */
int nw_msgpack_get_uint(const msgpack_object *o, uint64_t max, uint64_t *out);

/* Reads a required signed 64-bit integer of any encoding width into *out.
 * NW_ERR_WIRE_MISSING; NW_ERR_WIRE_TYPE for a non-integer; NW_ERR_WIRE_RANGE for a
 * positive integer above INT64_MAX. */
int nw_msgpack_get_int(const msgpack_object *o, int64_t *out);

/* Reads a required str that must be one of names[0..n_names-1], setting *index to its
 * position. NW_ERR_WIRE_MISSING; NW_ERR_WIRE_TYPE (not a str); NW_ERR_WIRE_RANGE (no
 * such name). */
int nw_msgpack_get_enum(const msgpack_object *o, const char *const *names, size_t n_names,
                        size_t *index);

/* Checks that the present object o is a str fit to become a C string: NW_ERR_WIRE_TYPE
 * (not a str), NW_ERR_WIRE_OVERSIZE (more than max bytes), NW_ERR_WIRE_UTF8 (invalid
 * UTF-8, or a U+0000 that would silently cut the C string short), in that order. */
int nw_msgpack_check_str(const msgpack_object *o, size_t max);

/* ---------------------------------------------------------------- packing */

/* Packs the C string s as a str. */
int nw_msgpack_pack_str(msgpack_packer *pk, const char *s);

/* Packs the str key, then the str val. */
int nw_msgpack_pack_kv_str(msgpack_packer *pk, const char *key, const char *val);

/* Packs the str key, then val in msgpack's shortest unsigned form. */
int nw_msgpack_pack_kv_uint(msgpack_packer *pk, const char *key, uint64_t val);

/* Packs the str key, then val in msgpack's shortest form. */
int nw_msgpack_pack_kv_int(msgpack_packer *pk, const char *key, int64_t val);

/* Packs obj into pk, returning 0 or -1 as the packers above. */
typedef int nw_msgpack_pack_fn(msgpack_packer *pk, const void *obj);

/* Runs pack(obj) into a fresh buffer and hands its bytes to the caller (*data, to
 * free(), and *size). NW_ERR_NOMEM when packing ran out of memory; NW_ERR_WIRE_OVERSIZE
 * when the result is over max_size bytes (SIZE_MAX: no limit). *data and *size are
 * left alone on error. */
int nw_msgpack_encode(nw_msgpack_pack_fn *pack, const void *obj, size_t max_size, char **data,
                      size_t *size);

/* As nw_msgpack_encode, starting with a buffer of hint bytes (0: msgpack-c's default), so
 * a caller that knows about how big the result is gets one allocation of that size. */
int nw_msgpack_encode_sized(nw_msgpack_pack_fn *pack, const void *obj, size_t max_size, size_t hint,
                            char **data, size_t *size);

/* Runs pack(obj) without keeping the bytes and sets *size to how many it made. Returns
 * NW_OK, NW_ERR_WIRE_OVERSIZE when that is over max_size, or NW_ERR_NOMEM when pack
 * failed; *size is left alone on error. */
int nw_msgpack_measure(nw_msgpack_pack_fn *pack, const void *obj, size_t max_size, size_t *size);

#endif
