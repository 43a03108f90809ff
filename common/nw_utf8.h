/*
 * nw_utf8: UTF-8 validation and the Latin-1 fallback for article text.
 */
#ifndef NW_UTF8_H
#define NW_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the UTF-8 sequence at s (n > 0 bytes left). Returns its length (1-4) with the code
 * point in *cp, or 0 when the bytes there start no well-formed sequence (overlong forms,
 * surrogates and values above U+10FFFF are not well-formed); *cp is then untouched. */
size_t nw_utf8_next(const char *s, size_t n, uint32_t *cp);

/* Returns true when the len bytes at s are well-formed UTF-8 (no overlong forms,
 * no surrogates, nothing above U+10FFFF). NUL bytes count as valid here. */
bool nw_utf8_valid(const char *s, size_t len);

/* As nw_utf8_valid, but a NUL byte (U+0000) makes the text invalid: true when the len
 * bytes at s are well-formed UTF-8 that can become a C string without being cut short.
 * One pass; runs of ASCII are checked 8 bytes at a time. */
bool nw_utf8_valid_text(const char *s, size_t len);

/* Converts len bytes of Latin-1 (ISO-8859-1) text to UTF-8 in a new NUL-terminated
 * buffer *out (caller frees) of *out_len bytes. Returns NW_OK or NW_ERR_NOMEM. */
int nw_utf8_from_latin1(const char *s, size_t len, char **out, size_t *out_len);

#endif
