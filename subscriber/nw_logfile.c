#include "nw_logfile.h"

#include "nw_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define S_PENDING_MAX (64 * 1024) /* bytes of lines held for one write(2) */

struct nw_logfile_t {
    char *path;        /* as given, owned */
    char *pending;     /* lines not written yet (all whole), S_PENDING_MAX bytes, owned */
    size_t n_pending;  /* bytes used in pending */
    size_t lines;      /* lines in pending */
    size_t lost;       /* lines of pending the latest failed drain did not write */
    int fd;            /* O_APPEND descriptor */
    nw_fsync_t policy; /* when to fdatasync */
    bool dirty;        /* written since the last sync began (and not known synced) */
    int sync_fd;       /* the descriptor a sync from nw_logfile_sync_begin is out on; -1 */
    bool sync_retired; /* sync_fd was replaced by a reopen: closed when its sync ends */
    int sync_errno;    /* errno of the latest failed sync, 0 if none */
    size_t repaired;   /* bytes of a partial last line the last open truncated */
};

static const char *const s_fsync_names[] = {"always", "interval", "never", NULL};

const char *const *nw_fsync_names(void)
{
    return s_fsync_names;
}

/* Returns the offset just past the last newline of the file of size bytes (0 if none). */
static off_t s_last_newline_end(int fd, off_t size)
{
    char chunk[8192];
    off_t end = size;
    while (end > 0) {
        off_t start = end > (off_t)sizeof chunk ? end - (off_t)sizeof chunk : 0;
        ssize_t n = pread(fd, chunk, (size_t)(end - start), start);
        if (n != end - start)
            return -1;
        for (ssize_t i = n; i > 0; i--) {
            if (chunk[i - 1] == '\n')
                return start + i;
        }
        end = start;
    }
    return 0;
}

/* Truncates a last line that has no newline: the start of a line whose write a crash cut
 * short. Sets *repaired to the bytes removed. */
static void s_repair(int fd, size_t *repaired)
{
    struct stat st;
    char last;
    *repaired = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
        pread(fd, &last, 1, st.st_size - 1) != 1 || last == '\n')
        return;
    off_t keep = s_last_newline_end(fd, st.st_size);
    if (keep >= 0 && ftruncate(fd, keep) == 0)
        *repaired = (size_t)(st.st_size - keep);
}

static int s_open(const char *path, int *fd, size_t *repaired)
{
    do {
        /* O_RDWR, not O_WRONLY: the repair reads the tail. Writes still only append. */
        *fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    } while (*fd < 0 && errno == EINTR);
    if (*fd < 0)
        return nw_error_from_errno(errno);
    s_repair(*fd, repaired);
    return NW_OK;
}

int nw_logfile_open(const char *path, nw_fsync_t policy, nw_logfile_t **out)
{
    nw_logfile_t *log = calloc(1, sizeof *log);
    if (log == NULL || (log->path = strdup(path)) == NULL) {
        free(log);
        return NW_ERR_NOMEM;
    }
    log->policy = policy;
    log->sync_fd = -1;
    int rc = s_open(path, &log->fd, &log->repaired);
    if (rc != NW_OK) {
        free(log->path);
        free(log);
        return rc;
    }
    *out = log;
    return NW_OK;
}

/* Syncs the file. Only a successful sync clears dirty: a failed one (EIO, ENOSPC on some
 * filesystems, EINVAL for a file that cannot be synced) leaves it set, so the next line or
 * flush tries again. Returns NW_OK or NW_ERR_SYNC (errno kept for nw_logfile_sync_error). */
static int s_sync(nw_logfile_t *log)
{
    int rc;
    do {
        rc = fdatasync(log->fd);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        log->sync_errno = errno;
        return NW_ERR_SYNC;
    }
    log->dirty = false;
    return NW_OK;
}

/* Cuts a partial line of n bytes off the end of the file, so that the next line does not
 * start in the middle of this one. Only right while this process is the one writer. */
static void s_untear(nw_logfile_t *log, size_t n)
{
    off_t end = lseek(log->fd, 0, SEEK_END);
    if (end >= (off_t)n && ftruncate(log->fd, end - (off_t)n) != 0)
        return; /* nothing better to do: the caller reports the failed write */
}

/* Writes the len bytes at data in one write(2), all or (as far as truncation can ensure)
 * nothing. Returns NW_OK, NW_ERR_NOSPACE or NW_ERR_IO. */
static int s_write_all(nw_logfile_t *log, const char *data, size_t len)
{
    ssize_t n;
    do {
        n = write(log->fd, data, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return nw_error_from_errno(errno) == NW_ERR_NOSPACE ? NW_ERR_NOSPACE : NW_ERR_IO;
    if ((size_t)n < len) {
        /* A regular file writes short only when the disk (or a quota) is full. */
        s_untear(log, (size_t)n);
        return NW_ERR_NOSPACE;
    }
    log->dirty = true;
    return NW_OK;
}

int nw_logfile_drain(nw_logfile_t *log)
{
    if (log->n_pending == 0)
        return NW_OK;
    int rc = s_write_all(log, log->pending, log->n_pending);
    log->lost = rc == NW_OK ? 0 : log->lines;
    log->n_pending = 0;
    log->lines = 0;
    return rc;
}

int nw_logfile_write(nw_logfile_t *log, const char *line, size_t len)
{
    log->lost = 0;
    if (log->policy == NW_FSYNC_ALWAYS) {
        int rc = s_write_all(log, line, len);
        return rc == NW_OK ? s_sync(log) : rc;
    }
    if (len > S_PENDING_MAX - log->n_pending) {
        int rc = nw_logfile_drain(log);
        if (rc != NW_OK)
            return rc;
    }
    if (len > S_PENDING_MAX)
        return s_write_all(log, line, len);
    if (log->pending == NULL && (log->pending = malloc(S_PENDING_MAX)) == NULL)
        return s_write_all(log, line, len);
    memcpy(log->pending + log->n_pending, line, len);
    log->n_pending += len;
    log->lines++;
    return NW_OK;
}

int nw_logfile_flush(nw_logfile_t *log)
{
    nw_logfile_drain(log); /* lost lines: the caller's nw_logfile_drain reports them */
    if (log->policy == NW_FSYNC_NEVER || !log->dirty)
        return NW_OK;
    return s_sync(log);
}

int nw_logfile_sync_begin(nw_logfile_t *log)
{
    nw_logfile_drain(log); /* lost lines: the caller's nw_logfile_drain reports them */
    if (log->policy == NW_FSYNC_NEVER || !log->dirty || log->sync_fd >= 0)
        return -1;
    log->dirty = false; /* lines written from now on wait for the next sync */
    log->sync_fd = log->fd;
    return log->fd;
}

int nw_logfile_sync_end(nw_logfile_t *log, int err)
{
    bool retired = log->sync_retired;
    if (retired)
        close(log->sync_fd); /* replaced by a reopen, which wrote it its last lines */
    else if (err != 0)
        log->dirty = true;
    log->sync_fd = -1;
    log->sync_retired = false;
    if (err == 0)
        return NW_OK;
    log->sync_errno = err;
    return retired ? NW_ERR_IO : NW_ERR_SYNC;
}

bool nw_logfile_syncing(const nw_logfile_t *log)
{
    return log->sync_fd >= 0;
}

size_t nw_logfile_lost(const nw_logfile_t *log)
{
    return log->lost;
}

const char *nw_logfile_sync_error(const nw_logfile_t *log)
{
    return log->sync_errno != 0 ? strerror(log->sync_errno) : "";
}

int nw_logfile_reopen(nw_logfile_t *log)
{
    int fd;
    size_t repaired;
    int rc = s_open(log->path, &fd, &repaired);
    if (rc != NW_OK)
        return rc;
    nw_logfile_drain(log); /* the lines held so far belong to the old file */
    if (log->policy != NW_FSYNC_NEVER && log->dirty)
        s_sync(log);
    if (log->fd == log->sync_fd)
        log->sync_retired = true; /* its sync is out: closed when that ends */
    else
        close(log->fd);
    log->fd = fd;
    log->dirty = false;
    log->repaired = repaired;
    return NW_OK;
}

size_t nw_logfile_repaired(const nw_logfile_t *log)
{
    return log->repaired;
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
    nw_logfile_drain(log);
    if (log->policy != NW_FSYNC_NEVER && log->dirty)
        s_sync(log);
    close(log->fd);
    free(log->pending);
    free(log->path);
    free(log);
    *log_p = NULL;
}
