#include "nw_buf.h"

#include "nw_error.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for extra more bytes plus the NUL, growing by doubling. */
static int s_reserve(nw_buf_t *buf, size_t extra)
{
    if (extra > SIZE_MAX / 2 - buf->len - 1)
        return NW_ERR_NOMEM;
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap)
        return NW_OK;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < need)
        cap *= 2;
    char *data = realloc(buf->data, cap);
    if (data == NULL)
        return NW_ERR_NOMEM;
    buf->data = data;
    buf->cap = cap;
    return NW_OK;
}

int nw_buf_append(nw_buf_t *buf, const void *bytes, size_t len)
{
    /* Room already there (the common case for output built in a reused buffer): no
     * growth arithmetic. cap > len always holds once anything was appended. */
    if (len < buf->cap - buf->len) {
        memcpy(buf->data + buf->len, bytes, len);
        buf->len += len;
        buf->data[buf->len] = '\0';
        return NW_OK;
    }
    int rc = s_reserve(buf, len);
    if (rc != NW_OK)
        return rc;
    if (len > 0)
        memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return NW_OK;
}

int nw_buf_append_str(nw_buf_t *buf, const char *s)
{
    return nw_buf_append(buf, s, strlen(s));
}

int nw_buf_printf(nw_buf_t *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NW_ERR_INVAL;
    int rc = s_reserve(buf, (size_t)n);
    if (rc != NW_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return NW_OK;
}

void nw_buf_reset(nw_buf_t *buf)
{
    buf->len = 0;
    if (buf->data != NULL)
        buf->data[0] = '\0';
}

void nw_buf_free(nw_buf_t *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

char *nw_buf_steal(nw_buf_t *buf)
{
    char *data = buf->data;
    if (data == NULL)
        data = strdup("");
    buf->data = NULL;
    buf->len = buf->cap = 0;
    return data;
}
