#include "nw_file.h"

#include "nw_error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nw_file_read_all(const char *path, size_t max, char **data, size_t *len, char *err,
                     size_t errlen)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return nw_error_from_errno(e);
    }
    char *buf = NULL;
    size_t used = 0, cap = 0;
    int rc = NW_OK;
    for (;;) {
        if (used + 1 >= cap) {
            cap = cap ? cap * 2 : 64 * 1024;
            char *grown = cap <= max + 1 ? realloc(buf, cap) : NULL;
            if (grown == NULL) {
                rc = cap > max + 1 ? NW_ERR_TOOBIG : NW_ERR_NOMEM;
                snprintf(err, errlen, "%s: %s", path,
                         rc == NW_ERR_TOOBIG ? "file too large" : "out of memory");
                break;
            }
            buf = grown;
        }
        size_t got = fread(buf + used, 1, cap - used - 1, f);
        used += got;
        if (got == 0)
            break;
    }
    if (rc == NW_OK && ferror(f)) {
        rc = NW_ERR_IO;
        snprintf(err, errlen, "%s: read error", path);
    }
    fclose(f);
    if (rc != NW_OK) {
        free(buf);
        return rc;
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return NW_OK;
}
