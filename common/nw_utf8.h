/*
 * nw_utf8: UTF-8 validation and the Latin-1 fallback for article text.
 */
#ifndef NW_UTF8_H
#define NW_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Returns true when the len bytes at s are well-formed UTF-8 (no overlong forms,
 * no surrogates, nothing above U+10FFFF). NUL bytes count as valid here. */
bool nw_utf8_valid(const char *s, size_t len);

/* Converts len bytes of Latin-1 (ISO-8859-1) text to UTF-8 in a new NUL-terminated
 * buffer *out (caller frees) of *out_len bytes. Returns NW_OK or NW_ERR_NOMEM. */
int nw_utf8_from_latin1(const char *s, size_t len, char **out, size_t *out_len);

#endif
