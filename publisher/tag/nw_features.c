#include "nw_features.h"

#include <stdbool.h>
#include <string.h>

#define S_FNV_OFFSET 14695981039346656037ull
#define S_FNV_PRIME  1099511628211ull
#define S_TOKEN_MAX  64 /* bytes of a token kept for its name (the hash sees all of it) */

/* What a byte is to the tokenizer (bits of s_class). */
enum {
    S_WORD = 1,  /* part of a token */
    S_DIGIT = 2, /* an ASCII digit */
    S_UPPER = 4, /* an ASCII capital: lowercased by adding S_UPPER << 3 (32) */
    S_LEAD = 8,  /* 0xC2 or 0xE2: a word byte unless it starts a UTF-8 punctuation sequence */
};

/* The class of every byte: ASCII letters and digits and the bytes from 0x80 are word bytes;
 * other ASCII separates. One load per byte instead of a chain of range tests. */
/* clang-format off */
static const unsigned char s_class[256] = {
    /* 0x00-0x2F: controls, space, punctuation */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x30-0x3F: digits, then punctuation */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0,
    /* 0x40-0x5F: @, capitals, punctuation */
    0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0, 0, 0,
    /* 0x60-0x7F: `, small letters, punctuation, DEL */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    /* 0x80-0xBF: UTF-8 continuation bytes */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0xC0-0xFF: UTF-8 lead bytes (0xC2 and 0xE2 may start punctuation) */
    1, 1, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};
/* clang-format on */

/* Spreads a 64-bit hash and keeps NW_FEATURES_BITS of it. */
static inline uint32_t s_reduce(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint32_t)(h >> (64 - NW_FEATURES_BITS));
}

/* The id of the bigram of two tokens' hashes. */
static inline uint32_t s_pair_id(uint64_t first, uint64_t second)
{
    return s_reduce((first * 0x9E3779B97F4A7C15ull) ^ second ^ 0x5bd1e995ull);
}

/* True when the bytes at p (a lead byte) start UTF-8 punctuation: U+0080-U+00BF
 * (C2 80-BF) or U+2000-U+206F (E2 80-81 xx); *skip gets its length. */
static inline bool s_utf8_punct(const unsigned char *p, const unsigned char *end, size_t *skip)
{
    if (p[0] == 0xC2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0xBF) {
        *skip = 2;
        return true;
    }
    if (p[0] == 0xE2 && p + 2 < end && (p[1] == 0x80 || p[1] == 0x81)) {
        *skip = 3;
        return true;
    }
    return false;
}

/* True when the byte at p (class c) belongs to a token; otherwise *skip gets how many bytes
 * separate there (1, or the length of a UTF-8 punctuation sequence). */
static inline bool s_in_token(const unsigned char *p, const unsigned char *end, unsigned c,
                              size_t *skip)
{
    *skip = 1;
    return (c & S_WORD) && !((c & S_LEAD) && s_utf8_punct(p, end, skip));
}

/* Finds the next token at or after *pp: returns false when the text has none left;
 * otherwise sets *hash to its FNV-1a hash (lowercased; a run of digits only hashes as
 * "0"), copies its first S_TOKEN_MAX bytes to name (when not NULL; *name_len their count)
 * and moves *pp past it. */
static inline bool s_token(const unsigned char **pp, const unsigned char *end, uint64_t *hash,
                           char *name, size_t *name_len)
{
    const unsigned char *p = *pp;
    unsigned c = 0;
    size_t skip;
    for (;;) {
        if (p == end)
            return false;
        c = s_class[*p];
        if (s_in_token(p, end, c, &skip))
            break;
        p += skip;
    }
    uint64_t h = S_FNV_OFFSET;
    unsigned all = S_DIGIT;
    size_t n = 0;
    do {
        unsigned char b = (unsigned char)(*p + ((c & S_UPPER) << 3));
        all &= c;
        h = (h ^ b) * S_FNV_PRIME;
        if (name && n < S_TOKEN_MAX)
            name[n++] = (char)b;
        if (++p == end)
            break;
        c = s_class[*p];
    } while (s_in_token(p, end, c, &skip));
    if (all & S_DIGIT) {
        h = (S_FNV_OFFSET ^ '0') * S_FNV_PRIME;
        if (name)
            name[0] = '0';
        n = 1;
    }
    *pp = p;
    *hash = h;
    if (name_len)
        *name_len = n;
    return true;
}

size_t nw_features_ids(const char *text, size_t len, uint32_t *ids, size_t *tokens)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    size_t n = 0, count = 0;
    uint64_t h, prev = 0;
    while (s_token(&p, end, &h, NULL, NULL)) {
        ids[n++] = s_reduce(h);
        if (count++ > 0)
            ids[n++] = s_pair_id(prev, h);
        prev = h;
    }
    *tokens = count;
    return n;
}

size_t nw_features_scan_named(const char *text, size_t len, nw_features_fn *fn, void *ctx)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    size_t count = 0, n, prev_len = 0;
    uint64_t h, prev = 0;
    char name[S_TOKEN_MAX + 1], prev_name[S_TOKEN_MAX + 1], pair[2 * S_TOKEN_MAX + 2];
    while (s_token(&p, end, &h, name, &n)) {
        fn(s_reduce(h), name, n, ctx);
        if (count++ > 0) {
            memcpy(pair, prev_name, prev_len);
            pair[prev_len] = ' ';
            memcpy(pair + prev_len + 1, name, n);
            fn(s_pair_id(prev, h), pair, prev_len + 1 + n, ctx);
        }
        prev = h;
        memcpy(prev_name, name, n);
        prev_len = n;
    }
    return count;
}

uint32_t nw_features_named_id(const char *name)
{
    uint64_t h = (S_FNV_OFFSET ^ 0x01u) * S_FNV_PRIME;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * S_FNV_PRIME;
    return s_reduce(h);
}
