#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE */
#include "nw_spool.h"

#include "nw_error.h"
#include "nw_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

/* File events kept between two settle passes: as many as the kernel queues by default
 * (fs.inotify.max_queued_events), so a burst of renames (thousands of articles dropped at
 * once) keeps the fast path; past it every listed file waits the settle time. Kept only
 * during a burst: a pass that used more than S_EVENTS_KEEP frees them. */
#define S_EVENTS_MAX      16384
#define S_EVENTS_KEEP     256
#define S_DONE_SUFFIX_MAX 10000 /* done/NAME.N and failed/NAME.N tried up to this N */

/* What a file event said about a name in incoming/. */
typedef enum {
    S_EV_MOVED = 1,   /* renamed or moved in: complete, by the maildir convention */
    S_EV_WRITTEN = 2, /* created, written, truncated, closed or changed in place */
    S_EV_GONE = 3,    /* renamed away or deleted */
} s_ev_kind_t;

typedef struct {
    char name[NAME_MAX + 1];
    s_ev_kind_t kind;
    size_t order; /* arrival order: one name's events are replayed in sequence */
} s_event_t;

/* What the spool knows about a file in incoming/ that nw_spool_settle has looked at. */
typedef struct {
    char name[NAME_MAX + 1];
    bool moved;            /* renamed in, and no event or look says it changed since */
    bool changed;          /* written in place: it waits the settle time */
    bool forgotten;        /* moved out by the spool: whatever comes next is new */
    dev_t dev;             /* the last look: device, */
    ino_t ino;             /* inode, */
    off_t size;            /* size */
    struct timespec mtime; /* and modification time */
    int64_t since_ms;      /* when the file first looked as it does; -1 = changed since */
} s_look_t;

struct nw_spool_t {
    char dir[PATH_MAX];      /* the spool folder as given */
    char incoming[PATH_MAX]; /* DIR/incoming */
    char done[PATH_MAX];     /* DIR/done */
    char failed[PATH_MAX];   /* DIR/failed */
    int watch_fd;            /* inotify on incoming/ (nw_spool_watch), -1 when none */
    s_event_t *events;       /* file events since the last settle pass */
    size_t n_events;         /* entries of events */
    size_t cap_events;       /* entries allocated */
    size_t n_order;          /* events read so far, for s_event_t.order */
    bool events_lost;        /* events were dropped: trust no rename until the next pass */
    s_look_t *looks;         /* files of the last settle pass, in name order */
    size_t n_looks;          /* entries of looks */
    char **skipped;          /* names in incoming/ already logged as not regular files */
    size_t n_skipped;        /* entries of skipped */
};

#define S_RETRY_HINT  "; to retry, fix the cause and move it from failed/ back into incoming/"
#define S_SKIPPED_MAX 1024 /* names remembered as logged; past it, the oldest is forgotten */

static const char *const s_temp_suffixes[] = {"~",    ".tmp", ".part",       ".partial",
                                              ".swp", ".swx", ".crdownload", NULL};

/* Creates path as a folder unless it is one; checks it can be listed and written. */
static int s_ensure_dir(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        goto fail_errno;
    if (stat(path, &st) != 0)
        goto fail_errno;
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a folder", path);
        return NW_ERR_INVAL;
    }
    if (access(path, R_OK | W_OK | X_OK) != 0)
        goto fail_errno;
    return NW_OK;
fail_errno:;
    int e = errno;
    snprintf(err, errlen, "%s: %s", path, strerror(e));
    return nw_error_from_errno(e);
}

static int s_join(char *buf, size_t buflen, const char *dir, const char *name)
{
    int n = snprintf(buf, buflen, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= buflen) ? NW_ERR_TOOBIG : NW_OK;
}

int nw_spool_open(const char *dir, nw_spool_t **out, char *err, size_t errlen)
{
    nw_spool_t *spool = calloc(1, sizeof *spool);
    if (spool == NULL) {
        snprintf(err, errlen, "%s", nw_strerror(NW_ERR_NOMEM));
        return NW_ERR_NOMEM;
    }
    int rc = NW_ERR_TOOBIG;
    if (s_join(spool->dir, sizeof spool->dir, dir, "") != NW_OK ||
        s_join(spool->incoming, sizeof spool->incoming, dir, "incoming") != NW_OK ||
        s_join(spool->done, sizeof spool->done, dir, "done") != NW_OK ||
        s_join(spool->failed, sizeof spool->failed, dir, "failed") != NW_OK) {
        snprintf(err, errlen, "%.200s...: path too long", dir);
        goto fail;
    }
    snprintf(spool->dir, sizeof spool->dir, "%s", dir);
    spool->watch_fd = -1;
    const char *const dirs[] = {spool->dir, spool->incoming, spool->done, spool->failed};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if ((rc = s_ensure_dir(dirs[i], err, errlen)) != NW_OK)
            goto fail;
    }
    *out = spool;
    return NW_OK;
fail:
    free(spool);
    return rc;
}

bool nw_spool_name_ready(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || name[0] == '.')
        return false;
    for (size_t i = 0; s_temp_suffixes[i] != NULL; i++) {
        size_t slen = strlen(s_temp_suffixes[i]);
        if (len >= slen && strcmp(name + len - slen, s_temp_suffixes[i]) == 0)
            return false;
    }
    return true;
}

static int s_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What incoming/name is when it is not a regular file (nor a symlink to one), for the log. */
static const char *s_not_file_kind(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return NULL; /* gone meanwhile */
    if (S_ISLNK(st.st_mode))
        return stat(path, &st) != 0 ? "a dangling symlink" : "a symlink to something else";
    if (S_ISDIR(st.st_mode))
        return "a folder";
    if (S_ISFIFO(st.st_mode))
        return "a FIFO";
    if (S_ISSOCK(st.st_mode))
        return "a socket";
    return "a device";
}

/* Logs once per name that incoming/name is skipped, and why. */
static void s_log_skipped(nw_spool_t *spool, const char *name, const char *path)
{
    for (size_t i = 0; i < spool->n_skipped; i++) {
        if (strcmp(spool->skipped[i], name) == 0)
            return;
    }
    const char *kind = s_not_file_kind(path);
    if (kind == NULL)
        return;
    nw_log(NW_LOG_WARN, "%s/%s is %s, not a regular file; ignored", spool->incoming, name, kind);
    char *copy = strdup(name);
    if (copy == NULL)
        return;
    if (spool->n_skipped == S_SKIPPED_MAX) {
        free(spool->skipped[0]);
        memmove(spool->skipped, spool->skipped + 1, (S_SKIPPED_MAX - 1) * sizeof *spool->skipped);
        spool->n_skipped--;
    } else {
        char **grown = realloc(spool->skipped, (spool->n_skipped + 1) * sizeof *grown);
        if (grown == NULL) {
            free(copy);
            return;
        }
        spool->skipped = grown;
    }
    spool->skipped[spool->n_skipped++] = copy;
}

/* True when incoming/name is a regular file (symlinks to one count). Anything else is
 * logged, once per name. */
static bool s_is_file(nw_spool_t *spool, const struct dirent *de)
{
#ifdef DT_REG
    if (de->d_type == DT_REG)
        return true;
#endif
    char path[PATH_MAX];
    struct stat st;
    if (s_join(path, sizeof path, spool->incoming, de->d_name) != NW_OK)
        return false;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return true;
    s_log_skipped(spool, de->d_name, path);
    return false;
}

static int s_push(char ***names, size_t *n, size_t *cap, const char *name)
{
    if (*n == *cap) {
        size_t grown_cap = *cap ? *cap * 2 : 32;
        char **grown = realloc(*names, grown_cap * sizeof *grown);
        if (grown == NULL)
            return NW_ERR_NOMEM;
        *names = grown;
        *cap = grown_cap;
    }
    if (((*names)[*n] = strdup(name)) == NULL)
        return NW_ERR_NOMEM;
    (*n)++;
    return NW_OK;
}

int nw_spool_scan(nw_spool_t *spool, char ***names, size_t *n, char *err, size_t errlen)
{
    /* Events queued since the last read are of files the listing will show: a file renamed
     * in whose event was left unread would be taken for one written in place and wait the
     * settle time. Read before the listing, every event read names a file already there. */
    nw_spool_read_events(spool);
    DIR *dir = opendir(spool->incoming);
    if (dir == NULL) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", spool->incoming, strerror(e));
        return nw_error_from_errno(e);
    }
    char **list = NULL;
    size_t count = 0, cap = 0;
    int rc = NW_OK;
    struct dirent *de;
    while (rc == NW_OK && (de = readdir(dir)) != NULL) {
        if (nw_spool_name_ready(de->d_name) && s_is_file(spool, de))
            rc = s_push(&list, &count, &cap, de->d_name);
    }
    closedir(dir);
    if (rc != NW_OK) {
        nw_spool_names_free(&list, count);
        return rc;
    }
    if (count > 1)
        qsort(list, count, sizeof *list, s_name_cmp);
    *names = list;
    *n = count;
    return NW_OK;
}

void nw_spool_names_free(char ***names, size_t n)
{
    if (names == NULL || *names == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free((*names)[i]);
    free(*names);
    *names = NULL;
}

/* Records one event about name, after the ones before it. */
static void s_note(nw_spool_t *spool, const char *name, s_ev_kind_t kind)
{
    if (!nw_spool_name_ready(name) || strlen(name) > NAME_MAX || spool->events_lost)
        return;
    /* A writer's many events for one file come in a row: keep one of each kind. */
    s_event_t *last = spool->n_events ? &spool->events[spool->n_events - 1] : NULL;
    if (last != NULL && last->kind == kind && strcmp(last->name, name) == 0)
        return;
    if (spool->n_events == spool->cap_events) {
        size_t cap = spool->cap_events ? spool->cap_events * 2 : 16;
        s_event_t *grown =
            cap <= S_EVENTS_MAX ? realloc(spool->events, cap * sizeof *spool->events) : NULL;
        if (grown == NULL) {
            spool->events_lost = true; /* every file then waits the settle time */
            return;
        }
        spool->events = grown;
        spool->cap_events = cap;
    }
    last = &spool->events[spool->n_events++];
    snprintf(last->name, sizeof last->name, "%s", name);
    last->kind = kind;
    last->order = spool->n_order++;
}

int nw_spool_watch(nw_spool_t *spool, char *err, size_t errlen)
{
#ifdef __linux__
    if (spool->watch_fd >= 0)
        return spool->watch_fd;
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    /* IN_MOVED_TO is what tells a file renamed in complete from one created in place;
     * libuv's uv_fs_event reports both as UV_RENAME. */
    uint32_t mask = IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE |
                    IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR;
    if (fd < 0 || inotify_add_watch(fd, spool->incoming, mask) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "%s: %s", spool->incoming, strerror(e));
        return -1;
    }
    spool->watch_fd = fd;
    return fd;
#else
    snprintf(err, errlen, "%s: no inotify on this system", spool->incoming);
    return -1;
#endif
}

bool nw_spool_read_events(nw_spool_t *spool)
{
    bool any = false;
#ifdef __linux__
    _Alignas(struct inotify_event) char buf[16384];
    while (spool->watch_fd >= 0) {
        ssize_t len = read(spool->watch_fd, buf, sizeof buf);
        if (len < 0 && errno == EINTR)
            continue;
        if (len <= 0)
            break; /* EAGAIN: all read */
        any = true;
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            p += sizeof *e + e->len;
            if (e->mask & (IN_Q_OVERFLOW | IN_IGNORED))
                spool->events_lost = true;
            else if (e->len > 0)
                s_note(spool, e->name,
                       (e->mask & IN_MOVED_TO)                   ? S_EV_MOVED
                       : (e->mask & (IN_MOVED_FROM | IN_DELETE)) ? S_EV_GONE
                                                                 : S_EV_WRITTEN);
        }
    }
#endif
    return any;
}

static int s_event_cmp(const void *a, const void *b)
{
    const s_event_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x->order > y->order) - (x->order < y->order);
}

static int s_look_cmp(const void *key, const void *look)
{
    return strcmp(key, ((const s_look_t *)look)->name);
}

/* Replays one event on what is known about its file. */
static void s_apply(s_look_t *look, s_ev_kind_t kind)
{
    look->moved = kind == S_EV_MOVED;
    look->changed = kind == S_EV_WRITTEN;
    look->since_ms = -1;
}

/* Decides about one listed file given its last look (updated in place). Returns true when
 * it is complete; else sets *wait_ms to when it may be. */
static bool s_settled(s_look_t *look, const struct stat *st, int64_t now_ms, int64_t *wait_ms)
{
    bool same = look->since_ms >= 0 && look->dev == st->st_dev && look->ino == st->st_ino &&
                look->size == st->st_size && look->mtime.tv_sec == st->st_mtim.tv_sec &&
                look->mtime.tv_nsec == st->st_mtim.tv_nsec;
    if (!same) {
        /* Different from the last look: written in place (or replaced) since. */
        if (look->since_ms >= 0)
            look->changed = true;
        look->dev = st->st_dev;
        look->ino = st->st_ino;
        look->size = st->st_size;
        look->mtime = st->st_mtim;
        look->since_ms = now_ms;
    }
    if (look->moved && !look->changed && st->st_size > 0)
        return true; /* renamed in: complete by the maildir convention */
    if (same && now_ms - look->since_ms >= NW_SPOOL_SETTLE_MS)
        return true;
    *wait_ms = NW_SPOOL_SETTLE_MS - (now_ms - look->since_ms);
    return false;
}

int nw_spool_settle(nw_spool_t *spool, char **names, size_t *n, int64_t now_ms, int64_t *wait_ms)
{
    s_look_t *looks = calloc(*n ? *n : 1, sizeof *looks);
    if (looks == NULL)
        return NW_ERR_NOMEM;
    if (spool->n_events > 1)
        qsort(spool->events, spool->n_events, sizeof *spool->events, s_event_cmp);
    /* Names, last looks and events are all in byte-wise name order: one merge. */
    size_t kept = 0, n_looks = 0, old = 0, ev = 0;
    *wait_ms = -1;
    for (size_t i = 0; i < *n; i++) {
        const char *name = names[i];
        s_look_t *look = &looks[n_looks];
        while (old < spool->n_looks && strcmp(spool->looks[old].name, name) < 0)
            old++;
        if (old < spool->n_looks && strcmp(spool->looks[old].name, name) == 0 &&
            !spool->looks[old].forgotten) {
            *look = spool->looks[old];
        } else {
            memset(look, 0, sizeof *look);
            snprintf(look->name, sizeof look->name, "%s", name);
            look->since_ms = -1; /* never looked at */
        }
        for (; ev < spool->n_events && strcmp(spool->events[ev].name, name) <= 0; ev++) {
            if (strcmp(spool->events[ev].name, name) == 0)
                s_apply(look, spool->events[ev].kind);
        }
        if (spool->events_lost)
            look->moved = false;
        char path[PATH_MAX];
        struct stat st;
        int64_t wait = -1;
        if (s_join(path, sizeof path, spool->incoming, name) != NW_OK || stat(path, &st) != 0) {
            names[kept++] = names[i]; /* gone, or a name too long: processing will say */
            continue;
        }
        n_looks++;
        if (s_settled(look, &st, now_ms, &wait)) {
            names[kept++] = names[i];
            continue;
        }
        free(names[i]);
        if (*wait_ms < 0 || wait < *wait_ms)
            *wait_ms = wait;
    }
    *n = kept;
    free(spool->looks);
    spool->looks = looks;
    spool->n_looks = n_looks;
    spool->n_events = 0;
    spool->events_lost = false;
    if (spool->cap_events > S_EVENTS_KEEP) {
        free(spool->events);
        spool->events = NULL;
        spool->cap_events = 0;
    }
    return NW_OK;
}

/* The spool moved name out of incoming/: a file that takes the name later is a new one. */
static void s_forget(nw_spool_t *spool, const char *name)
{
    if (spool->n_looks == 0)
        return; /* bsearch must not see a NULL array */
    s_look_t *look = bsearch(name, spool->looks, spool->n_looks, sizeof *look, s_look_cmp);
    if (look != NULL)
        look->forgotten = true;
}

int nw_spool_incoming_path(const nw_spool_t *spool, const char *name, char *buf, size_t buflen)
{
    return s_join(buf, buflen, spool->incoming, name);
}

/* Renames from_dir/name to to_dir/to_name. */
static int s_move(const char *from_dir, const char *name, const char *to_dir, const char *to_name,
                  char *err, size_t errlen)
{
    char from[PATH_MAX], to[PATH_MAX];
    if (s_join(from, sizeof from, from_dir, name) != NW_OK ||
        s_join(to, sizeof to, to_dir, to_name) != NW_OK) {
        snprintf(err, errlen, "%.200s: path too long", name);
        return NW_ERR_TOOBIG;
    }
    if (rename(from, to) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot move %s to %s: %s", from, to, strerror(e));
        return nw_error_from_errno(e);
    }
    return NW_OK;
}

/* Renames from to to unless to exists: NW_OK, NW_ERR_INVAL (to exists) or an errno code. */
static int s_rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return NW_OK;
    if (errno == EEXIST)
        return NW_ERR_INVAL;
    if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return nw_error_from_errno(errno);
    /* A file system without RENAME_NOREPLACE: link() refuses an existing name too. */
    if (link(from, to) != 0)
        return errno == EEXIST ? NW_ERR_INVAL : nw_error_from_errno(errno);
    unlink(from);
    return NW_OK;
}

/* The k-th name an article called name may take in dir (name, then name.1, name.2, ...),
 * into to_name (NAME_MAX + 1 bytes) and its path into to (PATH_MAX bytes). Returns NW_OK,
 * or NW_ERR_TOOBIG with err set. */
static int s_candidate(const char *dir, const char *name, unsigned k, char *to_name, char *to,
                       char *err, size_t errlen)
{
    if (k == 0)
        snprintf(to_name, NAME_MAX + 1, "%s", name);
    else
        snprintf(to_name, NAME_MAX + 1, "%.*s.%u", NAME_MAX - 11, name, k);
    if (s_join(to, PATH_MAX, dir, to_name) != NW_OK) {
        snprintf(err, errlen, "%.200s: path too long", name);
        return NW_ERR_TOOBIG;
    }
    return NW_OK;
}

/* Moves incoming/name into done/ under name, or name.N (N = 1, 2, ...) when an article of
 * that name was published before: an earlier one is never replaced. */
static int s_move_done(nw_spool_t *spool, const char *name, char *err, size_t errlen)
{
    char from[PATH_MAX], to[PATH_MAX], to_name[NAME_MAX + 1];
    if (s_join(from, sizeof from, spool->incoming, name) != NW_OK) {
        snprintf(err, errlen, "%.200s: path too long", name);
        return NW_ERR_TOOBIG;
    }
    for (unsigned k = 0; k < S_DONE_SUFFIX_MAX; k++) {
        int rc = s_candidate(spool->done, name, k, to_name, to, err, errlen);
        if (rc != NW_OK)
            return rc;
        rc = s_rename_noreplace(from, to);
        if (rc == NW_OK && k > 0)
            nw_log(NW_LOG_INFO, "%s: done/ already holds that name; kept as done/%s", name,
                   to_name);
        if (rc != NW_ERR_INVAL) {
            if (rc != NW_OK)
                snprintf(err, errlen, "cannot move %s to %s: %s", from, to, nw_strerror(rc));
            return rc;
        }
    }
    snprintf(err, errlen, "cannot move %s to done/: %u files of that name there already", from,
             S_DONE_SUFFIX_MAX);
    return NW_ERR_INVAL;
}

/* Whether another file has taken name in incoming/ since the one of device dev and inode
 * ino was read (ino 0: no check): sets *replaced, and forgets the name when it was replaced
 * (the new file is a new article for the next scan). Returns NW_OK, NW_ERR_NOTFOUND, or
 * another NW_ERR_* with err set. */
static int s_replaced(nw_spool_t *spool, const char *name, uint64_t dev, uint64_t ino,
                      bool *replaced, char *err, size_t errlen)
{
    *replaced = false;
    if (ino == 0)
        return NW_OK;
    char path[PATH_MAX];
    struct stat st;
    if (s_join(path, sizeof path, spool->incoming, name) != NW_OK) {
        snprintf(err, errlen, "%.200s: path too long", name);
        return NW_ERR_TOOBIG;
    }
    if (lstat(path, &st) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot stat %s: %s", path, strerror(e));
        return nw_error_from_errno(e);
    }
    *replaced = (uint64_t)st.st_dev != dev || (uint64_t)st.st_ino != ino;
    if (*replaced)
        s_forget(spool, name);
    return NW_OK;
}

int nw_spool_done(nw_spool_t *spool, const char *name, uint64_t dev, uint64_t ino, bool *replaced,
                  char *err, size_t errlen)
{
    int rc = s_replaced(spool, name, dev, ino, replaced, err, errlen);
    if (rc != NW_OK || *replaced)
        return rc;
    rc = s_move_done(spool, name, err, errlen);
    if (rc == NW_OK)
        s_forget(spool, name);
    return rc;
}

/* Writes the first line of reason and a newline to path. */
static int s_write_line(const char *path, const char *reason, char *err, size_t errlen)
{
    size_t len = strcspn(reason, "\r\n");
    FILE *f = fopen(path, "w");
    if (f == NULL)
        goto fail;
    bool ok =
        fwrite(reason, 1, len, f) == len && fputs(S_RETRY_HINT, f) != EOF && fputc('\n', f) != EOF;
    if (fclose(f) != 0 || !ok)
        goto fail;
    return NW_OK;
fail:;
    int e = errno;
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
    return nw_error_from_errno(e);
}

/* Writes the reason to failed/NAME.error for the article failed_name will hold (through a
 * dotfile renamed in, so a reader never sees a half-written one). */
static int s_write_reason(nw_spool_t *spool, const char *failed_name, const char *reason, char *err,
                          size_t errlen)
{
    char tmp_name[NAME_MAX + 16], error_name[NAME_MAX + 16], tmp[PATH_MAX];
    /* An article's name may itself be NAME_MAX bytes long: cut it so that NAME.error and
     * its temporary name still fit, or a long-named bad article would stop the daemon. */
    int keep = NAME_MAX - (int)strlen(".error");
    snprintf(error_name, sizeof error_name, "%.*s.error", keep, failed_name);
    snprintf(tmp_name, sizeof tmp_name, ".%.*s.tmp", NAME_MAX - (int)strlen("..tmp"), error_name);
    if (s_join(tmp, sizeof tmp, spool->failed, tmp_name) != NW_OK) {
        snprintf(err, errlen, "%.200s: path too long", failed_name);
        return NW_ERR_TOOBIG;
    }
    int rc = s_write_line(tmp, reason, err, errlen);
    if (rc == NW_OK)
        rc = s_move(spool->failed, tmp_name, spool->failed, error_name, err, errlen);
    if (rc != NW_OK)
        unlink(tmp);
    return rc;
}

int nw_spool_fail(nw_spool_t *spool, const char *name, uint64_t dev, uint64_t ino,
                  const char *reason, bool *replaced, char *err, size_t errlen)
{
    int rc = s_replaced(spool, name, dev, ino, replaced, err, errlen);
    if (rc != NW_OK || *replaced)
        return rc;
    char from[PATH_MAX], to[PATH_MAX], failed_name[NAME_MAX + 1];
    if (s_join(from, sizeof from, spool->incoming, name) != NW_OK) {
        snprintf(err, errlen, "%.200s: path too long", name);
        return NW_ERR_TOOBIG;
    }
    /* The reason first, so whoever sees the article can read why; the article then takes a
     * name failed/ does not hold yet (an earlier bad article of that name keeps its place). */
    for (unsigned k = 0; k < S_DONE_SUFFIX_MAX; k++) {
        struct stat st;
        if ((rc = s_candidate(spool->failed, name, k, failed_name, to, err, errlen)) != NW_OK)
            return rc;
        if (lstat(to, &st) == 0)
            continue;
        if ((rc = s_write_reason(spool, failed_name, reason, err, errlen)) != NW_OK)
            return rc;
        rc = s_rename_noreplace(from, to);
        if (rc == NW_ERR_INVAL)
            continue; /* taken meanwhile: try the next name */
        if (rc != NW_OK) {
            snprintf(err, errlen, "cannot move %s to %s: %s", from, to, nw_strerror(rc));
            return rc;
        }
        if (k > 0)
            nw_log(NW_LOG_INFO, "%s: failed/ already holds that name; kept as failed/%s", name,
                   failed_name);
        s_forget(spool, name);
        return NW_OK;
    }
    snprintf(err, errlen, "cannot move %s to failed/: %u files of that name there already", from,
             S_DONE_SUFFIX_MAX);
    return NW_ERR_INVAL;
}

const char *nw_spool_dir(const nw_spool_t *spool)
{
    return spool->dir;
}

const char *nw_spool_incoming(const nw_spool_t *spool)
{
    return spool->incoming;
}

void nw_spool_destroy(nw_spool_t **spool_p)
{
    if (spool_p == NULL || *spool_p == NULL)
        return;
    if ((*spool_p)->watch_fd >= 0)
        close((*spool_p)->watch_fd);
    free((*spool_p)->events);
    free((*spool_p)->looks);
    for (size_t i = 0; i < (*spool_p)->n_skipped; i++)
        free((*spool_p)->skipped[i]);
    free((*spool_p)->skipped);
    free(*spool_p);
    *spool_p = NULL;
}
