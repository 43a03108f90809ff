#include "nw_wire_check.h"

#include "nw_error.h"

#include <stdbool.h>
#include <stdint.h>

/* What one MessagePack header says: how many bytes the header takes (type byte
 * included), how many payload bytes follow it, and how many child values follow
 * the payload (elements of an array, keys plus values of a map). */
typedef struct {
    size_t head;       /* bytes of the header: type byte plus length or value bytes */
    uint64_t payload;  /* bytes of str/bin/ext data after the header */
    uint64_t children; /* values nested inside (array: n, map: 2n) */
    bool container;    /* an array or a map, even an empty one */
} s_header_t;

/* Reads a big-endian unsigned integer of width bytes (1, 2 or 4). */
static uint64_t s_be(const unsigned char *p, size_t width)
{
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Sets h for a header whose length field is width bytes wide, placed after the type
 * byte and skip extra bytes (the ext type byte). Needs avail bytes present. */
static int s_sized(const unsigned char *p, size_t avail, size_t width, size_t skip, s_header_t *h)
{
    if (avail < 1 + width)
        return NW_ERR_WIRE_TRUNCATED;
    h->head = 1 + width + skip;
    h->payload = s_be(p + 1, width);
    return NW_OK;
}

static int s_counted(const unsigned char *p, size_t avail, size_t width, uint64_t per,
                     s_header_t *h)
{
    if (avail < 1 + width)
        return NW_ERR_WIRE_TRUNCATED;
    h->head = 1 + width;
    h->children = s_be(p + 1, width) * per;
    h->container = true;
    return NW_OK;
}

/* Decodes the header at p (avail > 0 bytes present) into h. Returns NW_OK,
 * NW_ERR_WIRE_TRUNCATED when the header itself is cut, NW_ERR_WIRE_MALFORMED for 0xc1. */
static int s_header(const unsigned char *p, size_t avail, s_header_t *h)
{
    unsigned char c = p[0];
    *h = (s_header_t){.head = 1};
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return NW_OK; /* fixint, negative fixint, nil, false, true */
    if (c <= 0x8f) {
        h->children = 2u * (c & 0x0f);
        h->container = true;
        return NW_OK;
    }
    if (c <= 0x9f) {
        h->children = c & 0x0f;
        h->container = true;
        return NW_OK;
    }
    if (c <= 0xbf) {
        h->payload = c & 0x1f;
        return NW_OK;
    }
    switch (c) {
    case 0xc4: return s_sized(p, avail, 1, 0, h); /* bin 8 */
    case 0xc5: return s_sized(p, avail, 2, 0, h); /* bin 16 */
    case 0xc6: return s_sized(p, avail, 4, 0, h); /* bin 32 */
    case 0xc7: return s_sized(p, avail, 1, 1, h); /* ext 8: length, then type */
    case 0xc8: return s_sized(p, avail, 2, 1, h); /* ext 16 */
    case 0xc9: return s_sized(p, avail, 4, 1, h); /* ext 32 */
    case 0xca: h->head = 5; return NW_OK;         /* float 32 */
    case 0xcb: h->head = 9; return NW_OK;         /* float 64 */
    case 0xcc:
    case 0xd0: h->head = 2; return NW_OK; /* uint 8, int 8 */
    case 0xcd:
    case 0xd1: h->head = 3; return NW_OK; /* uint 16, int 16 */
    case 0xce:
    case 0xd2: h->head = 5; return NW_OK; /* uint 32, int 32 */
    case 0xcf:
    case 0xd3: h->head = 9; return NW_OK;           /* uint 64, int 64 */
    case 0xd4: h->head = 2 + 1; return NW_OK;       /* fixext 1: type, 1 byte */
    case 0xd5: h->head = 2 + 2; return NW_OK;       /* fixext 2 */
    case 0xd6: h->head = 2 + 4; return NW_OK;       /* fixext 4 */
    case 0xd7: h->head = 2 + 8; return NW_OK;       /* fixext 8 */
    case 0xd8: h->head = 2 + 16; return NW_OK;      /* fixext 16 */
    case 0xd9: return s_sized(p, avail, 1, 0, h);   /* str 8 */
    case 0xda: return s_sized(p, avail, 2, 0, h);   /* str 16 */
    case 0xdb: return s_sized(p, avail, 4, 0, h);   /* str 32 */
    case 0xdc: return s_counted(p, avail, 2, 1, h); /* array 16 */
    case 0xdd: return s_counted(p, avail, 4, 1, h); /* array 32 */
    case 0xde: return s_counted(p, avail, 2, 2, h); /* map 16 */
    case 0xdf: return s_counted(p, avail, 4, 2, h); /* map 32 */
    default: return NW_ERR_WIRE_MALFORMED;          /* 0xc1, never used */
    }
}

int nw_wire_check(const void *data, size_t size, unsigned max_depth)
{
    return nw_wire_walk(data, size, max_depth, NULL, NULL);
}

int nw_wire_walk(const void *data, size_t size, unsigned max_depth, nw_wire_visit_fn *visit,
                 void *ctx)
{
    const unsigned char *p = data;
    /* left[d] is how many values the container open at depth d still holds; depth 0
     * is a virtual root holding the one top-level value. pending is the sum of left[],
     * every value still to be read, each needing at least one byte. */
    uint64_t left[NW_WIRE_CHECK_DEPTH_LIMIT + 1];
    unsigned depth = 0;
    uint64_t pending = 1;
    size_t pos = 0;
    int rv;

    if (max_depth > NW_WIRE_CHECK_DEPTH_LIMIT)
        max_depth = NW_WIRE_CHECK_DEPTH_LIMIT;
    /* The visitor sees the values of a top-level map: fixmap, map 16, map 32. */
    if (visit != NULL && !(size > 0 && ((p[0] & 0xf0) == 0x80 || p[0] == 0xde || p[0] == 0xdf)))
        visit = NULL;
    uint64_t top = 0; /* values of the top-level map */
    left[0] = 1;
    for (;;) {
        if (left[depth] == 0) {
            if (depth == 0)
                break;
            depth--;
            continue;
        }
        left[depth]--;
        pending--;
        if (pos >= size)
            return NW_ERR_WIRE_TRUNCATED;
        s_header_t h;
        if ((rv = s_header(p + pos, size - pos, &h)) != NW_OK)
            return rv;
        size_t at = pos;
        if (h.head > size - pos)
            return NW_ERR_WIRE_TRUNCATED;
        pos += h.head;
        if (h.payload > size - pos)
            return NW_ERR_WIRE_TRUNCATED;
        pos += (size_t)h.payload;
        if (depth == 1 && visit != NULL)
            visit(ctx, (size_t)(top - left[1] - 1), p + at);
        if (!h.container)
            continue;
        if (depth + 1 > max_depth)
            return NW_ERR_WIRE_DEPTH;
        /* Bound the declared count by the bytes left before anything trusts it. */
        if (pending > size - pos || h.children > size - pos - pending)
            return NW_ERR_WIRE_TRUNCATED;
        pending += h.children;
        left[++depth] = h.children;
        if (depth == 1)
            top = h.children;
    }
    return pos == size ? NW_OK : NW_ERR_WIRE_TRAILING;
}
