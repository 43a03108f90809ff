#include "nw_utf8.h"

#include "nw_error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t nw_utf8_next(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned char c = p[0];
    size_t need;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        need = 1, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        need = 2, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        need = 3, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n <= need)
        return 0;
    for (size_t i = 1; i <= need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return need + 1;
}

#define S_ONES  0x0101010101010101u /* 0x01 in every byte of a uint64_t */
#define S_HIGHS 0x8080808080808080u /* 0x80 in every byte */

/* The check behind nw_utf8_valid and nw_utf8_valid_text: true when the len bytes at s
 * are well-formed UTF-8 and, unless nul_ok, hold no NUL byte. Runs of ASCII are skipped
 * 8 bytes at a time (loaded with memcpy: no alignment assumed); every other sequence
 * goes through nw_utf8_next, so both agree with it byte for byte. */
static inline bool s_valid(const char *s, size_t len, bool nul_ok)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;
    while (len - i >= 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        if ((w & S_HIGHS) == 0) {
            /* All 8 bytes are below 0x80, so (w - ONES) & ~w sets a byte's top bit
             * exactly when some byte is zero. */
            if (!nul_ok && ((w - S_ONES) & ~w & S_HIGHS) != 0)
                return false;
            i += 8;
            continue;
        }
        /* A byte >= 0x80 lies in p[i..i+7]: step over the ASCII before it, then
         * decode the sequence it starts. */
        while (p[i] < 0x80) {
            if (!nul_ok && p[i] == 0)
                return false;
            i++;
        }
        size_t n = nw_utf8_next(s + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    while (i < len) {
        if (p[i] < 0x80) {
            if (!nul_ok && p[i] == 0)
                return false;
            i++;
            continue;
        }
        size_t n = nw_utf8_next(s + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

bool nw_utf8_valid(const char *s, size_t len)
{
    return s_valid(s, len, true);
}

bool nw_utf8_valid_text(const char *s, size_t len)
{
    return s_valid(s, len, false);
}

int nw_utf8_from_latin1(const char *s, size_t len, char **out, size_t *out_len)
{
    /* Every Latin-1 byte becomes at most two UTF-8 bytes. */
    char *buf = malloc(len * 2 + 1);
    if (buf == NULL)
        return NW_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            buf[n++] = (char)c;
        } else {
            buf[n++] = (char)(0xC0 | (c >> 6));
            buf[n++] = (char)(0x80 | (c & 0x3F));
        }
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return NW_OK;
}
