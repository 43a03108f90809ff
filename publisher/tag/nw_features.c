#include "nw_features.h"

#include <stdbool.h>
#include <string.h>

#define S_FNV_OFFSET 14695981039346656037ull
#define S_FNV_PRIME  1099511628211ull
#define S_TOKEN_MAX  64 /* bytes of a token kept for its name (the hash sees all of it) */

/* Spreads a 64-bit hash and keeps NW_FEATURES_BITS of it. */
static inline uint32_t s_reduce(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint32_t)(h >> (64 - NW_FEATURES_BITS));
}

/* Bytes that separate tokens: ASCII that is not a letter or digit. */
static inline bool s_ascii_sep(unsigned char b)
{
    return b < 0x80 &&
           !((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9'));
}

/* The length of the UTF-8 punctuation sequence at p (0 if none): U+0080-U+00BF (C2 80-BF)
 * and U+2000-U+206F (E2 80-81 xx). */
static inline size_t s_utf8_punct(const unsigned char *p, const unsigned char *end)
{
    if (p[0] == 0xC2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0xBF)
        return 2;
    if (p[0] == 0xE2 && p + 2 < end && (p[1] == 0x80 || p[1] == 0x81))
        return 3;
    return 0;
}

static inline size_t s_scan(const char *text, size_t len, nw_features_fn *fn, void *ctx, bool names)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    size_t tokens = 0;
    uint64_t prev = 0;
    char prev_name[S_TOKEN_MAX + 1], pair[2 * S_TOKEN_MAX + 2];
    size_t prev_len = 0;
    while (p < end) {
        size_t punct;
        if (s_ascii_sep(*p) || (*p >= 0x80 && (punct = s_utf8_punct(p, end)) > 0)) {
            p += s_ascii_sep(*p) ? 1 : punct;
            continue;
        }
        uint64_t h = S_FNV_OFFSET;
        bool digits = true;
        char name[S_TOKEN_MAX + 1];
        size_t n = 0;
        while (p < end) {
            unsigned char b = *p;
            if (s_ascii_sep(b) || (b >= 0x80 && s_utf8_punct(p, end) > 0))
                break;
            if (b >= 'A' && b <= 'Z')
                b = (unsigned char)(b + 32);
            digits &= b >= '0' && b <= '9';
            h = (h ^ b) * S_FNV_PRIME;
            if (names && n < S_TOKEN_MAX)
                name[n++] = (char)b;
            p++;
        }
        if (digits) {
            h = (S_FNV_OFFSET ^ '0') * S_FNV_PRIME;
            name[0] = '0';
            n = 1;
        }
        tokens++;
        if (fn == NULL)
            continue;
        fn(s_reduce(h), name, names ? n : 0, ctx);
        if (tokens > 1) {
            size_t m = 0;
            if (names) {
                memcpy(pair, prev_name, prev_len);
                pair[prev_len] = ' ';
                memcpy(pair + prev_len + 1, name, n);
                m = prev_len + 1 + n;
            }
            fn(s_reduce((prev * 0x9E3779B97F4A7C15ull) ^ h ^ 0x5bd1e995ull), pair, m, ctx);
        }
        prev = h;
        if (names) {
            memcpy(prev_name, name, n);
            prev_len = n;
        }
    }
    return tokens;
}

size_t nw_features_scan(const char *text, size_t len, nw_features_fn *fn, void *ctx)
{
    return s_scan(text, len, fn, ctx, false);
}

size_t nw_features_scan_named(const char *text, size_t len, nw_features_fn *fn, void *ctx)
{
    return s_scan(text, len, fn, ctx, true);
}

uint32_t nw_features_named_id(const char *name)
{
    uint64_t h = (S_FNV_OFFSET ^ 0x01u) * S_FNV_PRIME;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * S_FNV_PRIME;
    return s_reduce(h);
}
