#include "nw_revisions.h"

#include "nw_error.h"
#include "nw_escape.h"
#include "nw_file.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_FILE           "revisions"
#define S_COMPACT_MIN    1024   /* superseded lines tolerated before the file is rewritten */
#define S_OVERDUE_FACTOR 4      /* lines per identity past which a rewrite is overdue */
#define S_ARTICLE_ID_LEN 16     /* hex characters of an article id */
#define S_HASHES_MAX     100000 /* alert hashes kept per identity */

/* One identity's history. */
typedef struct s_entry {
    char *identity;                        /* the key */
    char article_id[S_ARTICLE_ID_LEN + 1]; /* the first publication's article id */
    uint32_t revision;                     /* latest revision sent */
    uint64_t *hashes;                      /* sorted hashes of every alert text sent */
    size_t n_hashes;                       /* entries of hashes */
    int64_t time_ms;                       /* when it was last published */
    uint64_t seq;                          /* the journal's last seq when it was published
                                            * (0: a line of the format without seqs) */
    struct s_entry *next;                  /* the next entry in the same bucket */
    struct s_entry *older, *newer;         /* the list of entries by time_ms */
} s_entry_t;

struct nw_revisions_t {
    char *path;            /* the index file, NULL when kept in memory only */
    int fd;                /* the file, open for appending; -1 before the first commit */
    s_entry_t **buckets;   /* hash table of entries by identity */
    size_t n_buckets;      /* a power of two */
    size_t n_entries;      /* identities held */
    size_t n_lines;        /* lines in the file (live and superseded) */
    s_entry_t *oldest;     /* least recently published; evicted first */
    s_entry_t *newest;     /* most recently published */
    int64_t max_age_ms;    /* forget identities not published for this long; 0 = never */
    size_t max_entries;    /* identities kept at most */
    bool unsynced;         /* lines appended since the last nw_revisions_sync */
    uint64_t last_seq;     /* the highest seq of any line appended or loaded */
    uint64_t journal_next; /* lines with a seq at or past it are ignored at open; 0 = none */
    bool new_stream;       /* the journal starts a new stream: seqs read are reset to 0 */
    size_t n_ignored;      /* lines ignored so at open */
    size_t n_reset;        /* lines whose seq was reset to 0 at open (new_stream) */
    bool dir_synced;       /* the folder's entry for the file is known to be durable */
};

/* Formats "PATH: what: strerror(e)" into err; returns the error code for e. */
static int s_errno_fail(const nw_revisions_t *r, const char *what, int e, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s: %s", r->path, what, strerror(e));
    return nw_error_from_errno(e);
}

static uint64_t s_fnv(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool s_has_hash(const s_entry_t *e, uint64_t h)
{
    return e != NULL && bsearch(&h, e->hashes, e->n_hashes, sizeof h, s_cmp_u64) != NULL;
}

static s_entry_t *s_find(const nw_revisions_t *r, const char *identity)
{
    size_t b = s_fnv(identity, strlen(identity)) & (r->n_buckets - 1);
    for (s_entry_t *e = r->buckets[b]; e != NULL; e = e->next) {
        if (strcmp(e->identity, identity) == 0)
            return e;
    }
    return NULL;
}

static void s_entry_free(s_entry_t *e)
{
    free(e->identity);
    free(e->hashes);
    free(e);
}

/* Doubles the table when it is full enough. Failure only costs speed. */
static void s_grow(nw_revisions_t *r)
{
    if (r->n_entries < r->n_buckets)
        return;
    size_t nb = r->n_buckets * 2;
    s_entry_t **fresh = calloc(nb, sizeof *fresh);
    if (fresh == NULL)
        return;
    for (size_t i = 0; i < r->n_buckets; i++) {
        for (s_entry_t *e = r->buckets[i], *next; e != NULL; e = next) {
            next = e->next;
            size_t b = s_fnv(e->identity, strlen(e->identity)) & (nb - 1);
            e->next = fresh[b];
            fresh[b] = e;
        }
    }
    free(r->buckets);
    r->buckets = fresh;
    r->n_buckets = nb;
}

static void s_unlink_time(nw_revisions_t *r, s_entry_t *e)
{
    if (e->older != NULL)
        e->older->newer = e->newer;
    else if (r->oldest == e)
        r->oldest = e->newer;
    if (e->newer != NULL)
        e->newer->older = e->older;
    else if (r->newest == e)
        r->newest = e->older;
    e->older = e->newer = NULL;
}

/* Forgets e. */
static void s_remove(nw_revisions_t *r, s_entry_t *e)
{
    size_t b = s_fnv(e->identity, strlen(e->identity)) & (r->n_buckets - 1);
    s_entry_t **pp = &r->buckets[b];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    s_unlink_time(r, e);
    s_entry_free(e);
    r->n_entries--;
}

/* Forgets the least recently published identities past max_entries or max_age_ms: their
 * alerts have left (or will soon leave) the journal, and the index must not grow forever. */
static void s_evict(nw_revisions_t *r, int64_t now_ms)
{
    while (r->oldest != NULL &&
           (r->n_entries > r->max_entries ||
            (r->max_age_ms > 0 && r->oldest->time_ms < now_ms - r->max_age_ms)))
        s_remove(r, r->oldest);
}

/* Returns identity's entry, or a new one not yet in the table (*fresh set: s_set puts it
 * there), or NULL when out of memory. */
static s_entry_t *s_find_or_new(const nw_revisions_t *r, const char *identity, bool *fresh)
{
    s_entry_t *e = s_find(r, identity);
    *fresh = e == NULL;
    if (e != NULL)
        return e;
    if ((e = calloc(1, sizeof *e)) == NULL || (e->identity = strdup(identity)) == NULL) {
        free(e);
        return NULL;
    }
    return e;
}

/* Sets entry e (from s_find_or_new; fresh as it said) as published at time_ms with seq,
 * taking ownership of hashes (sorted, distinct). Cannot fail. */
static void s_set(nw_revisions_t *r, s_entry_t *e, bool fresh, const char *article_id,
                  uint32_t revision, uint64_t *hashes, size_t n_hashes, int64_t time_ms,
                  uint64_t seq)
{
    if (fresh) {
        s_grow(r);
        size_t b = s_fnv(e->identity, strlen(e->identity)) & (r->n_buckets - 1);
        e->next = r->buckets[b];
        r->buckets[b] = e;
        r->n_entries++;
    }
    snprintf(e->article_id, sizeof e->article_id, "%s", article_id);
    e->revision = revision;
    free(e->hashes);
    e->hashes = hashes;
    e->n_hashes = n_hashes;
    e->time_ms = time_ms;
    e->seq = seq;
    if (seq > r->last_seq)
        r->last_seq = seq;
    s_unlink_time(r, e);
    e->older = r->newest;
    if (r->newest != NULL)
        r->newest->newer = e;
    r->newest = e;
    if (r->oldest == NULL)
        r->oldest = e;
}

/* --- The file ---------------------------------------------------------------------- */

/* Writes one entry's line to f (the format is in nw_revisions.h). */
static int s_write_line(FILE *f, int64_t time_ms, const char *identity, const char *article_id,
                        uint32_t revision, const uint64_t *hashes, size_t n, uint64_t seq)
{
    if (fprintf(f, "%" PRId64 " %" PRIu32 " %s ", time_ms, revision, article_id) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (fprintf(f, "%s%016" PRIx64, i ? "," : "", hashes[i]) < 0)
            return -1;
    }
    if (n == 0 && fputc('-', f) == EOF)
        return -1;
    if (fputc(' ', f) == EOF || nw_escape_write(f, identity) != 0 ||
        fprintf(f, " %" PRIu64 "\n", seq) < 0)
        return -1;
    return 0;
}

/* Parses the hash list "h,h,..." (or "-" for none) into a sorted, distinct array. */
static bool s_parse_hashes(char *list, uint64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (strcmp(list, "-") == 0)
        return true;
    size_t count = 1;
    for (const char *p = list; *p; p++)
        count += *p == ',';
    if (count > S_HASHES_MAX)
        return false;
    uint64_t *h = malloc(count * sizeof *h);
    if (h == NULL)
        return false;
    size_t used = 0;
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        errno = 0;
        if (strlen(tok) != 16 || (h[used] = strtoull(tok, &end, 16), *end != '\0') || errno) {
            free(h);
            return false;
        }
        used++;
    }
    qsort(h, used, sizeof *h, s_cmp_u64);
    *out = h;
    *n = used;
    return used > 0;
}

/* What became of a line read. */
typedef enum {
    S_LINE_READ,    /* loaded as written */
    S_LINE_IGNORED, /* its seq is at or past the journal's next seq */
    S_LINE_RESET,   /* loaded with seq 0: its seq names a record of the journal's old stream */
} s_line_fate_t;

/* Reads one complete line (without its newline) into the index, or skips it (*fate says
 * which). Returns false for a line that cannot be read. */
static bool s_load_line(nw_revisions_t *r, char *line, s_line_fate_t *fate)
{
    char *save = NULL;
    char *when = strtok_r(line, " ", &save), *rev = strtok_r(NULL, " ", &save);
    char *art = strtok_r(NULL, " ", &save), *list = strtok_r(NULL, " ", &save);
    char *ident = strtok_r(NULL, " ", &save), *seqs = strtok_r(NULL, " ", &save);
    *fate = S_LINE_READ;
    if (when == NULL || rev == NULL || art == NULL || list == NULL || ident == NULL ||
        strtok_r(NULL, " ", &save))
        return false;
    char *end, *tend, *send = NULL;
    errno = 0;
    unsigned long v = strtoul(rev, &end, 10);
    long long t = strtoll(when, &tend, 10);
    /* No seq: a line of the first format, read as it always was. Digits only (strtoull
     * would take a sign and leading blanks). */
    if (seqs != NULL && !isdigit((unsigned char)seqs[0]))
        return false;
    unsigned long long seq = seqs != NULL ? strtoull(seqs, &send, 10) : 0;
    if (*end != '\0' || *tend != '\0' || (send != NULL && *send != '\0') || errno || v == 0 ||
        v > UINT32_MAX)
        return false;
    if (strlen(art) != S_ARTICLE_ID_LEN || !nw_escape_undo(ident))
        return false;
    if (r->new_stream && seq > 0) {
        seq = 0; /* a number of the old stream: the new one's say nothing about it */
        *fate = S_LINE_RESET;
    } else if (r->journal_next > 0 && seqs != NULL && seq >= r->journal_next) {
        *fate = S_LINE_IGNORED; /* its alerts were lost with the journal's tail */
        return true;
    }
    uint64_t *hashes;
    size_t n;
    bool fresh;
    if (!s_parse_hashes(list, &hashes, &n))
        return false;
    s_entry_t *e = s_find_or_new(r, ident, &fresh);
    if (e == NULL) {
        free(hashes);
        return false;
    }
    s_set(r, e, fresh, art, (uint32_t)v, hashes, n, (int64_t)t, seq);
    return true;
}

/* Loads the file, if any (*exists says whether there was one). A torn last line is
 * ignored; other bad lines go in warn. */
static int s_load(nw_revisions_t *r, bool *exists, char *warn, size_t warnlen, char *err,
                  size_t errlen)
{
    FILE *f = fopen(r->path, "r");
    *exists = f != NULL;
    if (f == NULL) {
        if (errno == ENOENT)
            return NW_OK;
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", r->path, strerror(e));
        return nw_error_from_errno(e);
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, bad = 0;
    off_t whole = 0; /* bytes of complete lines */
    bool torn = false;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[got - 1] != '\n') {
            torn = true; /* by a crash mid-append: never committed */
            break;
        }
        whole += got;
        line[got - 1] = '\0';
        r->n_lines++;
        s_line_fate_t fate;
        if (!s_load_line(r, line, &fate) && bad++ == 0)
            snprintf(warn, warnlen, "%s:%zu: unreadable line skipped", r->path, lineno);
        r->n_ignored += fate == S_LINE_IGNORED;
        r->n_reset += fate == S_LINE_RESET;
    }
    int read_errno = !torn && got < 0 && !feof(f) ? errno : 0; /* not the end: a read error */
    free(line);
    fclose(f);
    if (read_errno != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", r->path, strerror(read_errno));
        return nw_error_from_errno(read_errno);
    }
    /* Cut the torn tail, or the next append would be glued to it and lost. */
    if (torn && truncate(r->path, whole) != 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot cut a torn last line: %s", r->path, strerror(e));
        return nw_error_from_errno(e);
    }
    if (bad > 1)
        snprintf(warn + strlen(warn), warnlen - strlen(warn), " (and %zu more)", bad - 1);
    if (r->n_ignored > 0)
        snprintf(warn + strlen(warn), warnlen - strlen(warn),
                 "%s%s: %zu lines with a seq at or past the journal's next seq %" PRIu64
                 " ignored (their alerts were lost with the journal's tail)",
                 warn[0] ? "; " : "", r->path, r->n_ignored, r->journal_next);
    if (r->n_reset > 0)
        snprintf(warn + strlen(warn), warnlen - strlen(warn),
                 "%s%s: the journal starts a new stream: %zu lines name seqs of the old one; "
                 "their articles stay known, with seq 0",
                 warn[0] ? "; " : "", r->path, r->n_reset);
    return NW_OK;
}

/* nw_file_writer_fn: every entry's line, oldest first, as appends would have left them
 * (loading keeps the order of eviction). */
static int s_write_all_lines(FILE *f, void *arg)
{
    const nw_revisions_t *r = arg;
    for (const s_entry_t *e = r->oldest; e != NULL; e = e->newer) {
        if (s_write_line(f, e->time_ms, e->identity, e->article_id, e->revision, e->hashes,
                         e->n_hashes, e->seq) != 0)
            return -1;
    }
    return 0;
}

/* Whether most lines of the file are superseded. */
static bool s_compact_due(const nw_revisions_t *r)
{
    return r->n_lines > 2 * r->n_entries + S_COMPACT_MIN;
}

/* Whether the file at path is still the one fd appends to. */
static bool s_fd_is_path(const nw_revisions_t *r)
{
    struct stat a, b;
    return fstat(r->fd, &a) == 0 && stat(r->path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

/* Rewrites the file with one line per identity (nw_file_replace_with: a crash leaves the
 * old file or the new one whole, and the new one is synced with its folder). On failure
 * appends go on through fd to the old file, unless the new one was renamed over it (only
 * its folder could not be synced): then fd is closed, and the next append opens the file
 * at path and syncs the folder. */
static int s_rewrite(nw_revisions_t *r, char *err, size_t errlen)
{
    char why[512]; /* room for the path in front of it in err */
    int rc = nw_file_replace_with(r->path, s_write_all_lines, r, why, sizeof why);
    if (rc != NW_OK) {
        snprintf(err, errlen, "%s: cannot rewrite: %s", r->path, why);
        if (r->fd >= 0 && !s_fd_is_path(r)) {
            close(r->fd);
            r->fd = -1;
            r->dir_synced = false;
        }
        return rc;
    }
    if (r->fd >= 0) { /* it appends to the file it opened: open the one at path next time */
        close(r->fd);
        r->fd = -1;
    }
    r->n_lines = r->n_entries;
    r->unsynced = false; /* every line is in the new file, synced */
    r->dir_synced = true;
    return NW_OK;
}

/* Makes the lines of a file found at open durable: a run that crashed may have left them in
 * the page cache only, and a restart that finds an article unchanged here moves it to done/
 * without appending, so no later sync would cover them. Its folder entry too. */
static int s_sync_found(nw_revisions_t *r, char *err, size_t errlen)
{
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return s_errno_fail(r, "cannot open to sync it", errno, err, errlen);
    int rc = fdatasync(fd) != 0 ? s_errno_fail(r, "cannot sync", errno, err, errlen) : NW_OK;
    close(fd);
    if (rc == NW_OK && nw_file_sync_dir(r->path) != 0)
        rc = s_errno_fail(r, "cannot sync its folder", errno, err, errlen);
    r->dir_synced = rc == NW_OK;
    return rc;
}

int nw_revisions_open(const nw_revisions_opts_t *opts, nw_revisions_t **out, char *warn,
                      size_t warnlen, char *err, size_t errlen)
{
    const char *dir = opts->dir;
    *out = NULL;
    warn[0] = '\0';
    nw_revisions_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NW_ERR_NOMEM;
    r->fd = -1;
    r->max_age_ms = opts->max_age_ms;
    r->max_entries = opts->max_entries ? opts->max_entries : NW_REVISIONS_MAX;
    r->journal_next = opts->journal_next;
    r->new_stream = opts->journal_new_stream;
    r->n_buckets = 256;
    if ((r->buckets = calloc(r->n_buckets, sizeof *r->buckets)) == NULL)
        goto nomem;
    if (dir != NULL) {
        size_t n = strlen(dir) + sizeof "/" S_FILE;
        if ((r->path = malloc(n)) == NULL)
            goto nomem;
        snprintf(r->path, n, "%s/%s", dir, S_FILE);
        bool exists;
        int rc = s_load(r, &exists, warn, warnlen, err, errlen);
        s_evict(r, opts->now_ms);
        /* Ignored lines go at once: the journal will number new records with their seqs,
         * and the next open would take them for lines of those. Reset seqs too, or the
         * next open would compare the old stream's numbers with the new one's. */
        if (rc == NW_OK && (r->n_ignored > 0 || r->n_reset > 0 || s_compact_due(r)))
            rc = s_rewrite(r, err, errlen);
        else if (rc == NW_OK && exists)
            rc = s_sync_found(r, err, errlen);
        if (rc != NW_OK) {
            nw_revisions_destroy(&r);
            return rc;
        }
    }
    *out = r;
    return NW_OK;
nomem:
    nw_revisions_destroy(&r);
    return NW_ERR_NOMEM;
}

void nw_revisions_destroy(nw_revisions_t **revisions_p)
{
    nw_revisions_t *r = *revisions_p;
    if (r == NULL)
        return;
    for (size_t b = 0; r->buckets != NULL && b < r->n_buckets; b++) {
        for (s_entry_t *e = r->buckets[b], *next; e != NULL; e = next) {
            next = e->next;
            s_entry_free(e);
        }
    }
    if (r->fd >= 0)
        close(r->fd);
    free(r->buckets);
    free(r->path);
    free(r);
    *revisions_p = NULL;
}

size_t nw_revisions_count(const nw_revisions_t *revisions)
{
    return revisions->n_entries;
}

/* --- Planning and committing ------------------------------------------------------- */

void nw_revisions_plan_clear(nw_revisions_plan_t *plan)
{
    free(plan->identity);
    free(plan->hashes);
    memset(plan, 0, sizeof *plan);
}

/* Gives a kept alert of an update its article id, revision and id. */
static int s_mark_update(nw_alert_t *a, const char *article_id, uint32_t revision)
{
    char id[NW_ALERT_FIELD_MAX];
    snprintf(id, sizeof id, "%s.%" PRIu32 ".r%" PRIu32, article_id, a->index, revision);
    char *new_id = strdup(id), *new_article = strdup(article_id);
    if (new_id == NULL || new_article == NULL) {
        free(new_id);
        free(new_article);
        return NW_ERR_NOMEM;
    }
    free(a->id);
    free(a->article_id);
    a->id = new_id;
    a->article_id = new_article;
    a->revision = revision;
    return NW_OK;
}

int nw_revisions_plan(const nw_revisions_t *revisions, const char *identity, nw_alert_t *alerts,
                      size_t *n, nw_revisions_plan_t *plan)
{
    memset(plan, 0, sizeof *plan);
    if (identity == NULL || identity[0] == '\0')
        return NW_ERR_INVAL;
    const s_entry_t *e = s_find(revisions, identity);
    size_t prior = e ? e->n_hashes : 0, count = *n;
    uint64_t *hashes = malloc((prior + count + 1) * sizeof *hashes);
    bool *keep = calloc(count + 1, sizeof *keep);
    if ((plan->identity = strdup(identity)) == NULL || hashes == NULL || keep == NULL) {
        free(hashes);
        free(keep);
        nw_revisions_plan_clear(plan);
        return NW_ERR_NOMEM;
    }
    if (prior > 0)
        memcpy(hashes, e->hashes, prior * sizeof *hashes);
    size_t total = prior, kept = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t h = s_fnv(alerts[i].text, strlen(alerts[i].text));
        keep[i] = !s_has_hash(e, h);
        kept += keep[i];
        hashes[total++] = h;
    }
    qsort(hashes, total, sizeof *hashes, s_cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < total; i++) {
        if (u == 0 || hashes[u - 1] != hashes[i])
            hashes[u++] = hashes[i];
    }
    plan->hashes = hashes;
    plan->n_hashes = u;
    plan->known = e != NULL;
    plan->n_unchanged = count - kept;
    plan->revision = e == NULL ? 1 : kept > 0 ? e->revision + 1 : e->revision;
    snprintf(plan->article_id, sizeof plan->article_id, "%s",
             e != NULL   ? e->article_id
             : count > 0 ? alerts[0].article_id
                         : "");
    int rc = NW_OK;
    for (size_t i = 0; e != NULL && rc == NW_OK && i < count; i++) {
        if (keep[i])
            rc = s_mark_update(&alerts[i], plan->article_id, plan->revision);
    }
    if (rc != NW_OK) {
        free(keep);
        nw_revisions_plan_clear(plan);
        return rc;
    }
    /* Only now, when nothing can fail, drop the alerts sent before. */
    size_t w = 0;
    for (size_t i = 0; i < count; i++) {
        if (!keep[i]) {
            nw_alert_clear(&alerts[i]);
            continue;
        }
        if (w != i) {
            alerts[w] = alerts[i];
            memset(&alerts[i], 0, sizeof alerts[i]);
        }
        w++;
    }
    *n = w;
    free(keep);
    return NW_OK;
}

/* Opens the file for appending unless fd is open, creating it, and syncs its folder once
 * after that (a new file's entry would otherwise be lost with the power, and its lines
 * with it). */
static int s_open_append(nw_revisions_t *r, char *err, size_t errlen)
{
    if (r->fd < 0 && (r->fd = open(r->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0)
        return s_errno_fail(r, "cannot append", errno, err, errlen);
    if (!r->dir_synced) {
        if (nw_file_sync_dir(r->path) != 0)
            return s_errno_fail(r, "cannot sync its folder", errno, err, errlen);
        r->dir_synced = true;
    }
    return NW_OK;
}

/* Appends plan's line to the file (unsynced until nw_revisions_sync). */
static int s_append(nw_revisions_t *r, const nw_revisions_plan_t *plan, uint64_t seq,
                    int64_t now_ms, char *err, size_t errlen)
{
    int rc = s_open_append(r, err, errlen);
    if (rc != NW_OK)
        return rc;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem == NULL)
        return NW_ERR_NOMEM;
    int w = s_write_line(mem, now_ms, plan->identity, plan->article_id, plan->revision,
                         plan->hashes, plan->n_hashes, seq);
    if (fclose(mem) != 0 || w != 0) {
        free(text);
        return NW_ERR_NOMEM;
    }
    /* One write per line: O_APPEND keeps lines whole, and a torn one is ignored on load.
     * Made durable by nw_revisions_sync, with the journal's group commit. A short write
     * (a full disk) is cut off again, or the next line would be glued to it and both be
     * skipped on load. */
    ssize_t put = write(r->fd, text, len);
    free(text);
    if (put != (ssize_t)len) {
        int e = put < 0 ? errno : ENOSPC;
        struct stat st; /* O_APPEND: the short line is the file's last put bytes */
        if (put > 0 && fstat(r->fd, &st) == 0 && st.st_size >= put)
            (void)ftruncate(r->fd, st.st_size - put);
        return s_errno_fail(r, "cannot append", e, err, errlen);
    }
    r->n_lines++;
    r->unsynced = true;
    return NW_OK;
}

/* After an fdatasync of the file failed with e: Linux reports a writeback error once and
 * may drop the pages, so a later fdatasync would succeed over lost lines. Rewrites the
 * whole file from memory instead (the caller has the journal's records of every line on
 * disk). */
static int s_sync_failed(nw_revisions_t *r, int e, char *err, size_t errlen)
{
    char why[1024];
    r->unsynced = true;
    if (s_rewrite(r, why, sizeof why) != NW_OK) {
        snprintf(err, errlen, "%s: cannot sync: %s, nor rewrite it: %s", r->path, strerror(e), why);
        return NW_ERR_SYNC;
    }
    snprintf(err, errlen, "%s: cannot sync: %s; rewritten whole from memory", r->path, strerror(e));
    return NW_OK;
}

int nw_revisions_sync(nw_revisions_t *revisions, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!revisions->unsynced)
        return NW_OK;
    int rc = s_open_append(revisions, err, errlen); /* after a rewrite that half failed */
    if (rc != NW_OK)
        return rc;
    if (fdatasync(revisions->fd) != 0)
        return s_sync_failed(revisions, errno, err, errlen);
    revisions->unsynced = false;
    return NW_OK;
}

int nw_revisions_sync_take(nw_revisions_t *revisions, int *fd, char *err, size_t errlen)
{
    *fd = -1;
    if (!revisions->unsynced)
        return NW_OK;
    /* Opened anew, not duplicated: a duplicate would share the open file description, and
     * with it Linux's writeback error cursor (docs/JOURNAL.md, "Sync descriptors"). The file
     * at path is the one fd appends to (a rewrite closes fd). */
    if ((*fd = open(revisions->path, O_WRONLY | O_CLOEXEC)) < 0)
        return s_errno_fail(revisions, "cannot open to sync it", errno, err, errlen);
    revisions->unsynced = false;
    return NW_OK;
}

int nw_revisions_sync_end(nw_revisions_t *revisions, int sync_errno, char *err, size_t errlen)
{
    err[0] = '\0';
    return sync_errno == 0 ? NW_OK : s_sync_failed(revisions, sync_errno, err, errlen);
}

const char *nw_revisions_path(const nw_revisions_t *revisions)
{
    return revisions->path ? revisions->path : "(in memory)";
}

int nw_revisions_commit(nw_revisions_t *revisions, const nw_revisions_plan_t *plan, uint64_t seq,
                        int64_t now_ms, char *err, size_t errlen)
{
    /* Everything that can fail comes before the index in memory changes: memory never
     * knows a revision the file may not (a restart would plan it again, with the same ids
     * as alerts already journaled). */
    bool fresh;
    uint64_t *copy = malloc((plan->n_hashes + 1) * sizeof *copy);
    s_entry_t *e = copy != NULL ? s_find_or_new(revisions, plan->identity, &fresh) : NULL;
    if (e == NULL) {
        free(copy);
        return NW_ERR_NOMEM;
    }
    int rc = revisions->path != NULL ? s_append(revisions, plan, seq, now_ms, err, errlen) : NW_OK;
    if (rc != NW_OK) {
        if (fresh)
            s_entry_free(e);
        free(copy);
        return rc;
    }
    memcpy(copy, plan->hashes, plan->n_hashes * sizeof *copy);
    s_set(revisions, e, fresh, plan->article_id, plan->revision, copy, plan->n_hashes, now_ms, seq);
    s_evict(revisions, now_ms);
    return NW_OK;
}

int nw_revisions_settle(nw_revisions_t *revisions, uint64_t durable_below, char *err, size_t errlen)
{
    if (revisions->path == NULL || !s_compact_due(revisions) ||
        revisions->last_seq >= durable_below)
        return NW_OK;
    return s_rewrite(revisions, err, errlen);
}

bool nw_revisions_settle_overdue(const nw_revisions_t *revisions)
{
    return revisions->path != NULL &&
           revisions->n_lines > S_OVERDUE_FACTOR * revisions->n_entries + S_COMPACT_MIN;
}
