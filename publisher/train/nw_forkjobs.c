#include "nw_forkjobs.h"

#include "nw_error.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A worker's message: int32 code, uint64 length, then the result bytes. */
typedef struct {
    int32_t rc;
    uint64_t len;
} s_header_t;

typedef struct {
    pid_t pid; /* 0: not started or reaped */
    int fd;    /* the read end of its pipe, or -1 */
} s_worker_t;

static int s_write_all(int fd, const void *p, size_t len)
{
    const char *b = p;
    while (len > 0) {
        ssize_t w = write(fd, b, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return NW_ERR_IO;
        b += w;
        len -= (size_t)w;
    }
    return NW_OK;
}

static int s_read_all(int fd, void *p, size_t len)
{
    char *b = p;
    while (len > 0) {
        ssize_t r = read(fd, b, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return NW_ERR_IO;
        b += r;
        len -= (size_t)r;
    }
    return NW_OK;
}

/* Forks the worker of job i. */
static int s_start(size_t i, nw_forkjob_run_fn *run, void *ctx, s_worker_t *w)
{
    int fds[2];
    if (pipe(fds) != 0)
        return NW_ERR_IO;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return NW_ERR_IO;
    }
    if (pid == 0) {
        close(fds[0]);
        nw_buf_t out = {0};
        s_header_t h = {.rc = run(i, &out, ctx)};
        h.len = h.rc == NW_OK ? out.len : 0;
        int rc = s_write_all(fds[1], &h, sizeof h);
        if (rc == NW_OK && h.len)
            rc = s_write_all(fds[1], out.data, out.len);
        _exit(rc == NW_OK ? 0 : 1); /* no atexit handlers, no stdio flush of the parent's */
    }
    close(fds[1]);
    *w = (s_worker_t){.pid = pid, .fd = fds[0]};
    return NW_OK;
}

/* Reads job i's result from its worker and reaps it. */
static int s_finish(size_t i, s_worker_t *w, nw_forkjob_done_fn *done, void *ctx, char *err,
                    size_t errlen)
{
    s_header_t h;
    void *bytes = NULL;
    int rc = s_read_all(w->fd, &h, sizeof h);
    if (rc == NW_OK && h.rc == NW_OK && h.len > 0) {
        bytes = h.len < SIZE_MAX ? malloc((size_t)h.len) : NULL;
        rc = bytes ? s_read_all(w->fd, bytes, (size_t)h.len) : NW_ERR_NOMEM;
    }
    close(w->fd);
    w->fd = -1;
    int status = 0;
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR) {
    }
    w->pid = 0;
    if (rc != NW_OK) {
        snprintf(err, errlen, "job %zu: the worker process ended without a result (%s %d)", i,
                 WIFSIGNALED(status) ? "signal" : "exit status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    } else if (h.rc != NW_OK) {
        rc = h.rc;
    } else {
        rc = done(i, bytes, (size_t)h.len, ctx);
    }
    free(bytes);
    return rc;
}

int nw_forkjobs_run(size_t n, size_t workers, nw_forkjob_run_fn *run, nw_forkjob_done_fn *done,
                    void *ctx, size_t *failed, char *err, size_t errlen)
{
    *failed = n;
    if (workers <= 1) {
        nw_buf_t out = {0};
        int rc = NW_OK;
        for (size_t i = 0; i < n && rc == NW_OK; i++) {
            nw_buf_reset(&out);
            if ((rc = run(i, &out, ctx)) == NW_OK)
                rc = done(i, out.data, out.len, ctx);
            if (rc != NW_OK)
                *failed = i;
        }
        nw_buf_free(&out);
        return rc;
    }
    s_worker_t *w = calloc(n ? n : 1, sizeof(*w));
    if (!w)
        return NW_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        w[i].fd = -1;
    int rc = NW_OK;
    size_t started = 0;
    for (size_t i = 0; i < n && rc == NW_OK; i++) {
        while (rc == NW_OK && started < n && started < i + workers) {
            if ((rc = s_start(started, run, ctx, &w[started])) != NW_OK) {
                snprintf(err, errlen, "job %zu: cannot start a worker process: %s", started,
                         strerror(errno));
                *failed = started;
            }
            started++;
        }
        if (rc == NW_OK && (rc = s_finish(i, &w[i], done, ctx, err, errlen)) != NW_OK)
            *failed = i;
    }
    for (size_t i = 0; i < started; i++) {
        if (w[i].fd >= 0)
            close(w[i].fd);
        if (w[i].pid > 0) {
            kill(w[i].pid, SIGKILL);
            while (waitpid(w[i].pid, NULL, 0) < 0 && errno == EINTR) {
            }
        }
    }
    free(w);
    return rc;
}

size_t nw_forkjobs_default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 1 ? (size_t)n : 1;
}
