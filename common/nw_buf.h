/*
 * nw_buf: a growable byte buffer, always NUL-terminated, for building lines,
 * JSON and frames. A zeroed nw_buf_t is a valid empty buffer.
 *
 *     nw_buf_t b = {0};
 *     nw_buf_append_str(&b, "seq=");
 *     nw_buf_printf(&b, "%llu", (unsigned long long)seq);
 *     fputs(b.data, stdout);
 *     nw_buf_free(&b);
 */
#ifndef NW_BUF_H
#define NW_BUF_H

#include <stddef.h>

typedef struct {
    char *data; /* the bytes, NUL-terminated once anything was appended; may be NULL when empty */
    size_t len; /* bytes used, not counting the NUL */
    size_t cap; /* bytes allocated */
} nw_buf_t;

/* Appends len bytes. Returns NW_OK or NW_ERR_NOMEM (buffer unchanged). */
int nw_buf_append(nw_buf_t *buf, const void *bytes, size_t len);

/* Appends a NUL-terminated string. Returns NW_OK or NW_ERR_NOMEM. */
int nw_buf_append_str(nw_buf_t *buf, const char *s);

/* Appends printf-style formatted text. Returns NW_OK or NW_ERR_NOMEM. */
int nw_buf_printf(nw_buf_t *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Empties the buffer, keeping its memory. */
void nw_buf_reset(nw_buf_t *buf);

/* Frees the memory and zeroes the buffer. Safe twice. */
void nw_buf_free(nw_buf_t *buf);

/* Hands the bytes to the caller (free() them) and zeroes the buffer; never NULL
 * unless out of memory: an empty buffer gives "". */
char *nw_buf_steal(nw_buf_t *buf);

#endif
