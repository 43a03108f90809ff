#include "nw_spool.h"

#include "nw_error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct nw_spool_t {
    char dir[PATH_MAX];      /* the spool folder as given */
    char incoming[PATH_MAX]; /* DIR/incoming */
    char done[PATH_MAX];     /* DIR/done */
    char failed[PATH_MAX];   /* DIR/failed */
};

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
    if (spool == NULL)
        return NW_ERR_NOMEM;
    int rc = NW_ERR_TOOBIG;
    if (s_join(spool->dir, sizeof spool->dir, dir, "") != NW_OK ||
        s_join(spool->incoming, sizeof spool->incoming, dir, "incoming") != NW_OK ||
        s_join(spool->done, sizeof spool->done, dir, "done") != NW_OK ||
        s_join(spool->failed, sizeof spool->failed, dir, "failed") != NW_OK) {
        snprintf(err, errlen, "%.200s...: path too long", dir);
        goto fail;
    }
    snprintf(spool->dir, sizeof spool->dir, "%s", dir);
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

/* True when incoming/name is a regular file (symlinks to one count). */
static bool s_is_file(const nw_spool_t *spool, const struct dirent *de)
{
#ifdef DT_REG
    if (de->d_type == DT_REG)
        return true;
    if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
        return false;
#endif
    char path[PATH_MAX];
    struct stat st;
    return s_join(path, sizeof path, spool->incoming, de->d_name) == NW_OK &&
           stat(path, &st) == 0 && S_ISREG(st.st_mode);
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

int nw_spool_scan(const nw_spool_t *spool, char ***names, size_t *n, char *err, size_t errlen)
{
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

int nw_spool_done(const nw_spool_t *spool, const char *name, char *err, size_t errlen)
{
    return s_move(spool->incoming, name, spool->done, name, err, errlen);
}

/* Writes the first line of reason and a newline to path. */
static int s_write_line(const char *path, const char *reason, char *err, size_t errlen)
{
    size_t len = strcspn(reason, "\r\n");
    FILE *f = fopen(path, "w");
    if (f == NULL)
        goto fail;
    bool ok = fwrite(reason, 1, len, f) == len && fputc('\n', f) != EOF;
    if (fclose(f) != 0 || !ok)
        goto fail;
    return NW_OK;
fail:;
    int e = errno;
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
    return nw_error_from_errno(e);
}

int nw_spool_fail(const nw_spool_t *spool, const char *name, const char *reason, char *err,
                  size_t errlen)
{
    /* Write the reason under a dotfile name and rename it in, so a reader never sees a
     * half-written .error file. */
    char tmp_name[NAME_MAX + 16], error_name[NAME_MAX + 16], tmp[PATH_MAX];
    snprintf(tmp_name, sizeof tmp_name, ".%s.error.tmp", name);
    snprintf(error_name, sizeof error_name, "%s.error", name);
    if (s_join(tmp, sizeof tmp, spool->failed, tmp_name) != NW_OK) {
        snprintf(err, errlen, "%.200s: path too long", name);
        return NW_ERR_TOOBIG;
    }
    int rc = s_write_line(tmp, reason, err, errlen);
    if (rc == NW_OK)
        rc = s_move(spool->failed, tmp_name, spool->failed, error_name, err, errlen);
    if (rc != NW_OK) {
        unlink(tmp);
        return rc;
    }
    return s_move(spool->incoming, name, spool->failed, name, err, errlen);
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
    free(*spool_p);
    *spool_p = NULL;
}
