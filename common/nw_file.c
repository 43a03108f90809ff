#include "nw_file.h"

#include "nw_error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int s_io_fail(int errnum, char *err, size_t errlen, const char *what, const char *path)
{
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errnum));
    int rc = nw_error_from_errno(errnum);
    return rc == NW_ERR_NOTFOUND ? NW_ERR_IO : rc;
}

static int s_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int nw_file_sync_dir(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int nw_file_replace(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return NW_ERR_INVAL;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return s_io_fail(errno, err, errlen, "cannot create", tmp);
    if (s_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return s_io_fail(e, err, errlen, "cannot write", tmp);
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return s_io_fail(e, err, errlen, "cannot rename over", path);
    }
    if (nw_file_sync_dir(path) != 0)
        return s_io_fail(errno, err, errlen, "cannot sync the folder of", path);
    return NW_OK;
}

int nw_file_replace_with(const char *path, nw_file_writer_fn *write, void *arg, char *err,
                         size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NW_ERR_NOMEM;
    int bad = write(f, arg);
    if (fclose(f) != 0 || bad != 0) {
        free(text);
        snprintf(err, errlen, "%s: out of memory", path);
        return NW_ERR_NOMEM;
    }
    int rc = nw_file_replace(path, text, len, err, errlen);
    free(text);
    return rc;
}
