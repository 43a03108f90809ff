#include "nw_msgpack_util.h"

#include "nw_alert.h"
#include "nw_error.h"
#include "nw_utf8.h"
#include "nw_wire_check.h"

#include <string.h>

/* ---------------------------------------------------------------- reading */

/* Bytes of zone chunk to start an unpack of size bytes with: the object tree of a
 * typical frame (an 18-key map is 864 bytes of msgpack_object_kv) plus room for its
 * arrays and maps, capped at msgpack-c's own default. A frame that needs more (up to
 * 24 bytes of objects per byte) makes the zone chain further chunks, as before. */
static size_t s_zone_chunk(size_t size)
{
    size_t chunk = 1024 + 2 * size;
    return chunk < MSGPACK_ZONE_CHUNK_SIZE ? chunk : MSGPACK_ZONE_CHUNK_SIZE;
}

int nw_msgpack_open(const void *data, size_t size, size_t max_size, unsigned max_depth,
                    msgpack_unpacked *msg, const char *const *keys, size_t n_keys,
                    const msgpack_object **found)
{
    int rv;
    if (data == NULL && size > 0)
        return NW_ERR_WIRE_TRUNCATED;
    if (size > max_size)
        return NW_ERR_WIRE_OVERSIZE;
    /* Never let msgpack-c see a declared length the bytes do not back. */
    if ((rv = nw_wire_check(data, size, max_depth)) != NW_OK)
        return rv;
    if (size == 0)
        return NW_ERR_WIRE_TRUNCATED; /* as msgpack_unpack_next says for no bytes */
    /* Unpack into a zone sized to the frame, owned by msg (msgpack_unpacked_destroy
     * frees it), rather than msgpack_unpack_next's fixed 8 KiB one. */
    msgpack_unpacked_destroy(msg);
    if ((msg->zone = msgpack_zone_new(s_zone_chunk(size))) == NULL)
        return NW_ERR_NOMEM;
    size_t off = 0;
    switch (msgpack_unpack(data, size, &off, msg->zone, &msg->data)) {
    case MSGPACK_UNPACK_SUCCESS: break;
    case MSGPACK_UNPACK_EXTRA_BYTES: return NW_ERR_WIRE_TRAILING;
    case MSGPACK_UNPACK_NOMEM_ERROR: return NW_ERR_NOMEM;
    case MSGPACK_UNPACK_CONTINUE: return NW_ERR_WIRE_TRUNCATED;
    default: return NW_ERR_WIRE_MALFORMED;
    }
    if (off != size)
        return NW_ERR_WIRE_TRAILING;
    if (msg->data.type != MSGPACK_OBJECT_MAP)
        return NW_ERR_WIRE_TYPE;
    return nw_msgpack_index(&msg->data.via.map, keys, n_keys, found);
}

/* True when the n bytes at p are exactly the C string key. Stops at key's NUL, so it
 * never reads past either, and needs no strlen of key. */
static inline bool s_key_is(const char *key, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (key[i] != p[i] || key[i] == '\0')
            return false;
    }
    return key[n] == '\0';
}

int nw_msgpack_index(const msgpack_object_map *map, const char *const *keys, size_t n_keys,
                     const msgpack_object **found)
{
    for (size_t j = 0; j < n_keys; j++)
        found[j] = NULL;
    for (uint32_t i = 0; i < map->size; i++) {
        const msgpack_object *key = &map->ptr[i].key;
        if (key->type != MSGPACK_OBJECT_STR)
            return NW_ERR_WIRE_TYPE;
        const char *p = key->via.str.ptr;
        size_t n = key->via.str.size;
        /* Our encoders write keys in table order: try position i first. Known keys are
         * distinct, so the first match is the only one, wherever the scan finds it. */
        size_t j = i;
        if (j >= n_keys || !s_key_is(keys[j], p, n)) {
            for (j = 0; j < n_keys && !s_key_is(keys[j], p, n); j++)
                ;
            if (j == n_keys)
                continue; /* unknown key */
        }
        if (found[j] != NULL)
            return NW_ERR_WIRE_RANGE;
        found[j] = &map->ptr[i].val;
    }
    return NW_OK;
}

bool nw_msgpack_str_is(const msgpack_object *o, const char *s)
{
    return o->type == MSGPACK_OBJECT_STR && s_key_is(s, o->via.str.ptr, o->via.str.size);
}

int nw_msgpack_get_version(const msgpack_object *o)
{
    if (o == NULL)
        return NW_ERR_WIRE_MISSING;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return o->via.u64 == NW_PROTO_VERSION ? NW_OK : NW_ERR_WIRE_VERSION;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return NW_ERR_WIRE_VERSION;
    return NW_ERR_WIRE_TYPE;
}

int nw_msgpack_get_type(const msgpack_object *o, const char *want)
{
    if (o == NULL)
        return NW_ERR_WIRE_MISSING;
    if (o->type != MSGPACK_OBJECT_STR)
        return NW_ERR_WIRE_TYPE;
    return nw_msgpack_str_is(o, want) ? NW_OK : NW_ERR_WIRE_RANGE;
}

int nw_msgpack_get_uint(const msgpack_object *o, uint64_t max, uint64_t *out)
{
    if (o == NULL)
        return NW_ERR_WIRE_MISSING;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return NW_ERR_WIRE_RANGE;
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return NW_ERR_WIRE_TYPE;
    if (o->via.u64 > max)
        return NW_ERR_WIRE_RANGE;
    *out = o->via.u64;
    return NW_OK;
}

int nw_msgpack_get_int(const msgpack_object *o, int64_t *out)
{
    if (o == NULL)
        return NW_ERR_WIRE_MISSING;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = o->via.i64;
        return NW_OK;
    }
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return NW_ERR_WIRE_TYPE;
    if (o->via.u64 > (uint64_t)INT64_MAX)
        return NW_ERR_WIRE_RANGE;
    *out = (int64_t)o->via.u64;
    return NW_OK;
}

int nw_msgpack_get_enum(const msgpack_object *o, const char *const *names, size_t n_names,
                        size_t *index)
{
    if (o == NULL)
        return NW_ERR_WIRE_MISSING;
    if (o->type != MSGPACK_OBJECT_STR)
        return NW_ERR_WIRE_TYPE;
    for (size_t i = 0; i < n_names; i++) {
        if (nw_msgpack_str_is(o, names[i])) {
            *index = i;
            return NW_OK;
        }
    }
    return NW_ERR_WIRE_RANGE;
}

int nw_msgpack_check_str(const msgpack_object *o, size_t max)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return NW_ERR_WIRE_TYPE;
    size_t n = o->via.str.size;
    if (n > max)
        return NW_ERR_WIRE_OVERSIZE;
    if (!nw_utf8_valid_text(o->via.str.ptr, n))
        return NW_ERR_WIRE_UTF8;
    return NW_OK;
}

/* ---------------------------------------------------------------- packing */

int nw_msgpack_pack_str(msgpack_packer *pk, const char *s)
{
    return msgpack_pack_str_with_body(pk, s, strlen(s));
}

int nw_msgpack_pack_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
    return nw_msgpack_pack_str(pk, key) | nw_msgpack_pack_str(pk, val);
}

int nw_msgpack_pack_kv_uint(msgpack_packer *pk, const char *key, uint64_t val)
{
    return nw_msgpack_pack_str(pk, key) | msgpack_pack_uint64(pk, val);
}

int nw_msgpack_pack_kv_int(msgpack_packer *pk, const char *key, int64_t val)
{
    return nw_msgpack_pack_str(pk, key) | msgpack_pack_int64(pk, val);
}

int nw_msgpack_encode(nw_msgpack_pack_fn *pack, const void *obj, size_t max_size, char **data,
                      size_t *size)
{
    return nw_msgpack_encode_sized(pack, obj, max_size, 0, data, size);
}

/* A msgpack-c write callback that only counts the bytes (data is a size_t). */
static int s_count_write(void *data, const char *buf, size_t len)
{
    (void)buf;
    *(size_t *)data += len;
    return 0;
}

int nw_msgpack_measure(nw_msgpack_pack_fn *pack, const void *obj, size_t max_size, size_t *size)
{
    size_t n = 0;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &n, s_count_write);
    if (pack(&pk, obj) != 0)
        return NW_ERR_NOMEM;
    if (n > max_size)
        return NW_ERR_WIRE_OVERSIZE;
    *size = n;
    return NW_OK;
}

int nw_msgpack_encode_sized(nw_msgpack_pack_fn *pack, const void *obj, size_t max_size, size_t hint,
                            char **data, size_t *size)
{
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sbuf);
    if (hint > 0 && (sbuf.data = malloc(hint)) != NULL)
        sbuf.alloc = hint;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    size_t n = 0;
    char *bytes = NULL;
    int rv;
    if (pack(&pk, obj) != 0) {
        rv = NW_ERR_NOMEM;
    } else if ((n = sbuf.size) > max_size) {
        rv = NW_ERR_WIRE_OVERSIZE;
    } else if ((bytes = msgpack_sbuffer_release(&sbuf)) == NULL) {
        rv = NW_ERR_NOMEM;
    } else {
        *data = bytes;
        *size = n;
        rv = NW_OK;
    }
    msgpack_sbuffer_destroy(&sbuf);
    return rv;
}
