#include "nw_testproc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define S_MAX_PROCS 32

typedef struct {
    int fd;     /* read end of the pipe, -1 once at EOF */
    char *data; /* everything read so far, NUL-terminated */
    size_t len; /* bytes in data */
    size_t cap; /* bytes allocated */
} s_stream_t;

struct nw_testproc_t {
    pid_t pid;             /* child process id */
    int status;            /* exit status once reaped, else -1 */
    s_stream_t streams[2]; /* stdout, stderr */
};

/* Test-support registry: every live process is drained while waiting on any of them. */
static nw_testproc_t *s_procs[S_MAX_PROCS];

static long s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void s_stream_read(s_stream_t *s)
{
    char chunk[8192];
    for (;;) {
        ssize_t n = read(s->fd, chunk, sizeof chunk);
        if (n > 0) {
            if (s->len + (size_t)n + 1 > s->cap) {
                size_t cap = s->cap ? s->cap : 16384;
                while (cap < s->len + (size_t)n + 1)
                    cap *= 2;
                char *data = realloc(s->data, cap);
                if (data == NULL)
                    abort();
                s->data = data;
                s->cap = cap;
            }
            memcpy(s->data + s->len, chunk, (size_t)n);
            s->len += (size_t)n;
            s->data[s->len] = '\0';
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            close(s->fd);
            s->fd = -1;
            return;
        } else if (errno == EAGAIN) {
            return;
        }
    }
}

static void s_reap(nw_testproc_t *p, int options)
{
    if (p->status >= 0)
        return;
    int st;
    if (waitpid(p->pid, &st, options) == p->pid)
        p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Drains every registered process's pipes, waiting at most timeout_ms for new bytes. */
static void s_pump(int timeout_ms)
{
    struct pollfd fds[S_MAX_PROCS * 2];
    s_stream_t *streams[S_MAX_PROCS * 2];
    nfds_t n = 0;
    for (int i = 0; i < S_MAX_PROCS; i++) {
        for (int k = 0; s_procs[i] && k < 2; k++) {
            if (s_procs[i]->streams[k].fd >= 0) {
                fds[n].fd = s_procs[i]->streams[k].fd;
                fds[n].events = POLLIN;
                streams[n++] = &s_procs[i]->streams[k];
            }
        }
    }
    if (n == 0) {
        if (timeout_ms > 0)
            poll(NULL, 0, timeout_ms < 10 ? timeout_ms : 10);
        return;
    }
    if (poll(fds, n, timeout_ms) > 0) {
        for (nfds_t i = 0; i < n; i++) {
            if (fds[i].revents)
                s_stream_read(streams[i]);
        }
    }
}

static int s_open_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

static void s_child(const char *const argv[], const char *const env_extra[], int in_fd,
                    const int out[2], const int err[2])
{
    dup2(in_fd, STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    for (size_t i = 0; env_extra && env_extra[i]; i++)
        putenv((char *)env_extra[i]);
    signal(SIGPIPE, SIG_DFL);
    execve(argv[0], (char *const *)argv, environ);
    fprintf(stderr, "nw_testproc: cannot execute %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

nw_testproc_t *nw_testproc_start_input(const char *const argv[], const char *const env_extra[],
                                       const char *stdin_text)
{
    int slot = -1;
    for (int i = 0; i < S_MAX_PROCS && slot < 0; i++)
        slot = s_procs[i] == NULL ? i : -1;
    nw_testproc_t *p = calloc(1, sizeof *p);
    int out[2], err[2], in[2];
    if (slot < 0 || p == NULL || s_open_pipe(out) || s_open_pipe(err) || s_open_pipe(in)) {
        fprintf(stderr, "nw_testproc: cannot start %s: %s\n", argv[0],
                slot < 0 ? "too many processes" : strerror(errno));
        free(p);
        return NULL;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        s_child(argv, env_extra, in[0], out, err);
    close(out[1]);
    close(err[1]);
    close(in[0]);
    if (stdin_text != NULL) {
        /* Small inputs only: the pipe buffer (64 KiB) must hold all of it. */
        size_t len = strlen(stdin_text);
        if (write(in[1], stdin_text, len) != (ssize_t)len)
            fprintf(stderr, "nw_testproc: short write to stdin of %s\n", argv[0]);
    }
    close(in[1]);
    if (pid < 0) {
        close(out[0]);
        close(err[0]);
        free(p);
        return NULL;
    }
    p->pid = pid;
    p->status = -1;
    p->streams[0].fd = out[0];
    p->streams[1].fd = err[0];
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    s_procs[slot] = p;
    return p;
}

nw_testproc_t *nw_testproc_start(const char *const argv[], const char *const env_extra[])
{
    return nw_testproc_start_input(argv, env_extra, NULL);
}

const char *nw_testproc_output(nw_testproc_t *proc, nw_testproc_stream_t stream)
{
    s_pump(0);
    const char *data = proc->streams[stream].data;
    return data ? data : "";
}

static bool s_finished(nw_testproc_t *p)
{
    s_reap(p, WNOHANG);
    return p->status >= 0 && p->streams[0].fd < 0 && p->streams[1].fd < 0;
}

bool nw_testproc_wait_output(nw_testproc_t *proc, nw_testproc_stream_t stream, const char *needle,
                             int timeout_ms)
{
    long deadline = s_now_ms() + timeout_ms;
    for (;;) {
        if (strstr(nw_testproc_output(proc, stream), needle) != NULL)
            return true;
        long left = deadline - s_now_ms();
        if (left <= 0 || s_finished(proc))
            return strstr(nw_testproc_output(proc, stream), needle) != NULL;
        s_pump(left < 50 ? (int)left : 50);
    }
}

size_t nw_testproc_count_lines(nw_testproc_t *proc, nw_testproc_stream_t stream, const char *needle)
{
    const char *text = nw_testproc_output(proc, stream);
    size_t count = 0;
    for (const char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        const char *hit = needle[0] ? strstr(line, needle) : line;
        if (hit != NULL && hit < nl)
            count++;
    }
    return count;
}

bool nw_testproc_wait_lines(nw_testproc_t *proc, nw_testproc_stream_t stream, size_t n,
                            int timeout_ms)
{
    long deadline = s_now_ms() + timeout_ms;
    for (;;) {
        if (nw_testproc_count_lines(proc, stream, "") >= n)
            return true;
        long left = deadline - s_now_ms();
        if (left <= 0 || s_finished(proc))
            return nw_testproc_count_lines(proc, stream, "") >= n;
        s_pump(left < 50 ? (int)left : 50);
    }
}

int nw_testproc_signal(nw_testproc_t *proc, int sig)
{
    s_reap(proc, WNOHANG);
    return proc->status >= 0 ? -1 : kill(proc->pid, sig);
}

int nw_testproc_wait_exit(nw_testproc_t *proc, int timeout_ms)
{
    long deadline = s_now_ms() + timeout_ms;
    for (;;) {
        s_reap(proc, WNOHANG);
        if (proc->status >= 0) {
            /* Collect what it printed last; the pipes close when the process (and its
             * children that inherited them) are gone. */
            while (proc->streams[0].fd >= 0 || proc->streams[1].fd >= 0) {
                long left = deadline - s_now_ms();
                if (left <= 0)
                    break;
                s_pump(left < 50 ? (int)left : 50);
            }
            return proc->status;
        }
        long left = deadline - s_now_ms();
        if (left <= 0)
            return NW_TESTPROC_TIMEOUT;
        s_pump(left < 20 ? (int)left : 20);
    }
}

int nw_testproc_pid(const nw_testproc_t *proc)
{
    return (int)proc->pid;
}

void nw_testproc_destroy(nw_testproc_t **proc_p)
{
    if (proc_p == NULL || *proc_p == NULL)
        return;
    nw_testproc_t *p = *proc_p;
    s_reap(p, WNOHANG);
    if (p->status < 0) {
        kill(p->pid, SIGKILL);
        s_reap(p, 0);
    }
    for (int k = 0; k < 2; k++) {
        if (p->streams[k].fd >= 0)
            close(p->streams[k].fd);
        free(p->streams[k].data);
    }
    for (int i = 0; i < S_MAX_PROCS; i++) {
        if (s_procs[i] == p)
            s_procs[i] = NULL;
    }
    free(p);
    *proc_p = NULL;
}

char *nw_test_tmpdir(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.XXXXXX", base && base[0] ? base : "/tmp", prefix);
    return mkdtemp(path) ? strdup(path) : NULL;
}

static int s_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int nw_test_rmtree(const char *path)
{
    return nftw(path, s_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int nw_test_write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && n == len) ? 0 : -1;
}

char *nw_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *data = NULL;
    size_t size = 0, cap = 0;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (size + n + 1 > cap) {
            cap = (size + n + 1) * 2;
            char *grown = realloc(data, cap);
            if (grown == NULL) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
        }
        memcpy(data + size, chunk, n);
        size += n;
    }
    fclose(f);
    if (data == NULL)
        data = calloc(1, 1);
    else
        data[size] = '\0';
    if (len != NULL)
        *len = size;
    return data;
}

int nw_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int port = 0;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs(addr.sin_port);
    close(fd);
    return port;
}

int nw_test_free_endpoints(char *const eps[], size_t n, size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        bool unique;
        do {
            int port = nw_test_free_port();
            if (port <= 0)
                return -1;
            snprintf(eps[i], cap, "tcp://127.0.0.1:%d", port);
            unique = true;
            for (size_t k = 0; k < i; k++)
                unique = unique && strcmp(eps[i], eps[k]) != 0;
        } while (!unique);
    }
    return 0;
}

int nw_test_fd_shared(int fd)
{
    struct stat st;
    off_t at = lseek(fd, 0, SEEK_CUR);
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL)
        return -1;
    int shared = -1;
    const off_t moved = at + 77777; /* an offset no other descriptor has by chance */
    if (fstat(fd, &st) != 0 || at < 0 || lseek(fd, moved, SEEK_SET) != moved) {
        closedir(dir);
        return -1;
    }
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        struct stat other;
        int o = atoi(e->d_name);
        if (e->d_name[0] == '.' || o == fd || o == dirfd(dir) || fstat(o, &other) != 0 ||
            other.st_dev != st.st_dev || other.st_ino != st.st_ino)
            continue;
        if (lseek(o, 0, SEEK_CUR) == moved)
            shared = 1;
        else if (shared < 0)
            shared = 0;
    }
    closedir(dir);
    lseek(fd, at, SEEK_SET);
    return shared;
}
