#include "nw_file.h"

#include "nw_error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int nw_file_read_all(const char *path, size_t max, char **data, size_t *len, char *err,
                     size_t errlen)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        if (f != NULL)
            fclose(f);
        return nw_error_from_errno(e);
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", path);
        fclose(f);
        return NW_ERR_INVAL;
    }
    /* The buffer grows to max + 2 at most: room for one byte past the limit, to tell a file
     * of exactly max bytes from a longer one, and the NUL. */
    char *buf = NULL;
    size_t used = 0, cap = 0;
    int rc = NW_OK;
    for (;;) {
        if (used + 1 >= cap) {
            size_t want = cap ? cap * 2 : 64 * 1024;
            want = want < max + 2 ? want : max + 2;
            char *grown = realloc(buf, want);
            if (grown == NULL) {
                rc = NW_ERR_NOMEM;
                snprintf(err, errlen, "%s: out of memory", path);
                break;
            }
            buf = grown;
            cap = want;
        }
        size_t got = fread(buf + used, 1, cap - used - 1, f);
        used += got;
        if (used > max) {
            rc = NW_ERR_TOOBIG;
            snprintf(err, errlen, "%s: file larger than %zu bytes", path, max);
            break;
        }
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
