#include "nw_logfile.h"

#include "nw_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

struct nw_logfile_t {
    char *path;        /* as given, owned */
    int fd;            /* O_APPEND descriptor */
    nw_fsync_t policy; /* when to fdatasync */
    bool dirty;        /* written since the last sync */
};

static const char *const s_fsync_names[] = {"always", "interval", "never", NULL};

const char *const *nw_fsync_names(void)
{
    return s_fsync_names;
}

static int s_open(const char *path, int *fd)
{
    do {
        *fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    } while (*fd < 0 && errno == EINTR);
    return *fd < 0 ? nw_error_from_errno(errno) : NW_OK;
}

int nw_logfile_open(const char *path, nw_fsync_t policy, nw_logfile_t **out)
{
    nw_logfile_t *log = calloc(1, sizeof *log);
    if (log == NULL || (log->path = strdup(path)) == NULL) {
        free(log);
        return NW_ERR_NOMEM;
    }
    log->policy = policy;
    int rc = s_open(path, &log->fd);
    if (rc != NW_OK) {
        free(log->path);
        free(log);
        return rc;
    }
    *out = log;
    return NW_OK;
}

static int s_sync(nw_logfile_t *log)
{
    log->dirty = false;
    return fdatasync(log->fd) == 0 ? NW_OK : NW_ERR_IO;
}

/* Cuts a partial line of n bytes off the end of the file, so that the next line does not
 * start in the middle of this one. Only right while this process is the one writer. */
static void s_untear(nw_logfile_t *log, size_t n)
{
    off_t end = lseek(log->fd, 0, SEEK_END);
    if (end >= (off_t)n && ftruncate(log->fd, end - (off_t)n) != 0)
        return; /* nothing better to do: the caller reports the failed write */
}

int nw_logfile_write(nw_logfile_t *log, const char *line, size_t len)
{
    ssize_t n;
    do {
        n = write(log->fd, line, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return nw_error_from_errno(errno) == NW_ERR_NOSPACE ? NW_ERR_NOSPACE : NW_ERR_IO;
    if ((size_t)n < len) {
        /* A regular file writes short only when the disk (or a quota) is full. */
        s_untear(log, (size_t)n);
        return NW_ERR_NOSPACE;
    }
    log->dirty = true;
    return log->policy == NW_FSYNC_ALWAYS ? s_sync(log) : NW_OK;
}

int nw_logfile_flush(nw_logfile_t *log)
{
    if (log->policy != NW_FSYNC_INTERVAL || !log->dirty)
        return NW_OK;
    return s_sync(log);
}

int nw_logfile_reopen(nw_logfile_t *log)
{
    int fd;
    int rc = s_open(log->path, &fd);
    if (rc != NW_OK)
        return rc;
    if (log->policy != NW_FSYNC_NEVER && log->dirty)
        s_sync(log);
    close(log->fd);
    log->fd = fd;
    log->dirty = false;
    return NW_OK;
}

const char *nw_logfile_path(const nw_logfile_t *log)
{
    return log->path;
}

void nw_logfile_close(nw_logfile_t **log_p)
{
    if (log_p == NULL || *log_p == NULL)
        return;
    nw_logfile_t *log = *log_p;
    if (log->policy != NW_FSYNC_NEVER && log->dirty)
        s_sync(log);
    close(log->fd);
    free(log->path);
    free(log);
    *log_p = NULL;
}
