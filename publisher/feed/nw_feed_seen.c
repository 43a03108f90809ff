#include "nw_feed_seen.h"

#include "nw_error.h"
#include "nw_escape.h"
#include "nw_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_FILE "feeds.seen"

typedef struct {
    char *feed;    /* feed URL */
    char *guid;    /* item guid */
    uint64_t hash; /* item content hash */
} s_rec_t;

struct nw_feed_seen_t {
    char *path;    /* the file, NULL in memory-only mode */
    s_rec_t *recs; /* remembered items */
    size_t n;      /* entries of recs */
    size_t cap;    /* allocated entries */
    bool dirty;    /* changed since the last save */
};

static int s_find(const nw_feed_seen_t *s, const char *feed, const char *guid)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->recs[i].guid, guid) == 0 && strcmp(s->recs[i].feed, feed) == 0)
            return (int)i;
    }
    return -1;
}

bool nw_feed_seen_has(const nw_feed_seen_t *seen, const char *feed, const char *guid, uint64_t hash)
{
    int i = s_find(seen, feed, guid);
    return i >= 0 && seen->recs[i].hash == hash;
}

int nw_feed_seen_add(nw_feed_seen_t *seen, const char *feed, const char *guid, uint64_t hash)
{
    int i = s_find(seen, feed, guid);
    if (i >= 0) {
        seen->dirty |= seen->recs[i].hash != hash;
        seen->recs[i].hash = hash;
        return NW_OK;
    }
    if (seen->n == seen->cap) {
        size_t ncap = seen->cap ? seen->cap * 2 : 64;
        s_rec_t *grown = realloc(seen->recs, ncap * sizeof *grown);
        if (grown == NULL)
            return NW_ERR_NOMEM;
        seen->recs = grown;
        seen->cap = ncap;
    }
    s_rec_t r = {strdup(feed), strdup(guid), hash};
    if (r.feed == NULL || r.guid == NULL) {
        free(r.feed);
        free(r.guid);
        return NW_ERR_NOMEM;
    }
    seen->recs[seen->n++] = r;
    seen->dirty = true;
    return NW_OK;
}

void nw_feed_seen_retain(nw_feed_seen_t *seen, const char *feed, const char *const *guids, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < seen->n; i++) {
        s_rec_t *r = &seen->recs[i];
        bool keep = strcmp(r->feed, feed) != 0;
        for (size_t k = 0; !keep && k < n; k++)
            keep = strcmp(guids[k], r->guid) == 0;
        if (!keep) {
            free(r->feed);
            free(r->guid);
            seen->dirty = true;
            continue;
        }
        seen->recs[w++] = *r;
    }
    seen->n = w;
}

size_t nw_feed_seen_count(const nw_feed_seen_t *seen)
{
    return seen->n;
}

/* --- The file ---------------------------------------------------------------------- */

static bool s_load_line(nw_feed_seen_t *s, char *line)
{
    char *save = NULL;
    char *hash = strtok_r(line, " ", &save), *feed = strtok_r(NULL, " ", &save);
    char *guid = strtok_r(NULL, " ", &save);
    if (hash == NULL || feed == NULL || guid == NULL || strtok_r(NULL, " ", &save) != NULL ||
        strlen(hash) != 16)
        return false;
    char *end;
    errno = 0;
    uint64_t h = strtoull(hash, &end, 16);
    if (*end != '\0' || errno != 0 || !nw_escape_undo(feed) || !nw_escape_undo(guid))
        return false;
    return nw_feed_seen_add(s, feed, guid, h) == NW_OK;
}

static int s_load(nw_feed_seen_t *s, char *warn, size_t warnlen, char *err, size_t errlen)
{
    FILE *f = fopen(s->path, "r");
    if (f == NULL) {
        if (errno == ENOENT)
            return NW_OK;
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", s->path, strerror(e));
        return nw_error_from_errno(e);
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[got - 1] == '\n')
            line[got - 1] = '\0';
        if (!s_load_line(s, line) && warn[0] == '\0')
            snprintf(warn, warnlen, "%s:%zu: unreadable line skipped", s->path, lineno);
    }
    int e = got < 0 && !feof(f) ? errno : 0; /* a read error, not the end: load nothing half */
    free(line);
    fclose(f);
    if (e != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", s->path, strerror(e));
        return nw_error_from_errno(e);
    }
    s->dirty = false;
    return NW_OK;
}

int nw_feed_seen_open(const char *dir, nw_feed_seen_t **out, char *warn, size_t warnlen, char *err,
                      size_t errlen)
{
    *out = NULL;
    warn[0] = '\0';
    nw_feed_seen_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NW_ERR_NOMEM;
    if (dir != NULL) {
        size_t n = strlen(dir) + sizeof "/" S_FILE;
        if ((s->path = malloc(n)) == NULL) {
            nw_feed_seen_destroy(&s);
            return NW_ERR_NOMEM;
        }
        snprintf(s->path, n, "%s/%s", dir, S_FILE);
        int rc = s_load(s, warn, warnlen, err, errlen);
        if (rc != NW_OK) {
            nw_feed_seen_destroy(&s);
            return rc;
        }
    }
    *out = s;
    return NW_OK;
}

void nw_feed_seen_destroy(nw_feed_seen_t **seen_p)
{
    nw_feed_seen_t *s = *seen_p;
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->recs[i].feed);
        free(s->recs[i].guid);
    }
    free(s->recs);
    free(s->path);
    free(s);
    *seen_p = NULL;
}

/* nw_file_writer_fn: one line per record: hash, feed, guid. */
static int s_write_records(FILE *f, void *arg)
{
    const nw_feed_seen_t *seen = arg;
    for (size_t i = 0; i < seen->n; i++) {
        const s_rec_t *r = &seen->recs[i];
        if (fprintf(f, "%016" PRIx64 " ", r->hash) < 0 || nw_escape_write(f, r->feed) != 0 ||
            fputc(' ', f) == EOF || nw_escape_write(f, r->guid) != 0 || fputc('\n', f) == EOF)
            return -1;
    }
    return 0;
}

int nw_feed_seen_save(nw_feed_seen_t *seen, char *err, size_t errlen)
{
    if (seen->path == NULL || !seen->dirty)
        return NW_OK;
    char why[1024];
    int rc = nw_file_replace_with(seen->path, s_write_records, seen, why, sizeof why);
    if (rc != NW_OK) {
        snprintf(err, errlen, "%s: cannot save: %s", seen->path, why);
        return rc;
    }
    seen->dirty = false;
    return NW_OK;
}
