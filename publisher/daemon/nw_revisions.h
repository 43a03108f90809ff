/*
 * nw_revisions: which articles were published before, so a changed article goes out as an
 * update and an unchanged one not at all.
 *
 * An article's identity is a string the daemon picks: its canonical URL, else its feed
 * guid, else the name it was dropped under. For each identity the index holds the id of
 * the article's first publication, its latest revision and a 64-bit hash of the text of
 * every alert sent for it. nw_revisions_plan() applies the update rule to a freshly
 * ingested article:
 *
 *   - an identity never seen: revision 1, every alert, ids as ingested;
 *   - a known identity: only the alerts whose text was never sent for it, with the first
 *     publication's article id, revision N+1 and ids "<article>.<index>.r<N+1>"; none
 *     left means an unchanged re-delivery, and nothing is sent.
 *
 * nw_revisions_commit() records a plan once its alerts are journaled. The index lives in
 * the journal folder as "revisions": one line per commit, appended and synced
 * ("<time ms> <revision> <article id> <hash>,<hash>... <identity, %-escaped> <seq>", seq
 * being the journal's last seq when the line was written), synced with the journal's group
 * commit (nw_revisions_sync); the last line of an identity wins, a torn last line (a crash
 * mid-append) is cut off, and a line whose seq is at or past the journal's next seq is
 * ignored at open: it was written (or written back by the kernel) before the journal's
 * fsync of its alerts, which the journal has lost since, so it must not call the article
 * unchanged. A line without a seq (the first format) is read as before; when the journal
 * starts a new stream, every line is kept with seq 0 (its seq named the old stream's
 * records). The file is rewritten (temporary file, fsync, rename) when more than
 * 2 * identities + 1024 lines are in it, but only once the journal holds every line's
 * records on disk (nw_revisions_settle), and at open when lines were ignored or reset;
 * a file found at open and not rewritten is fdatasynced. Identities not published for max_age_ms
 * (the journal's retention), or past max_entries, are forgotten, least recently published first:
 * the index stays bounded. A crash between journaling an update and committing it is harmless: the
 * article is still in incoming/, the restart plans the same revision with the same ids, and the
 * journal skips the alerts it already holds (docs/DELIVERY.md, "Updates").
 */
#ifndef NW_REVISIONS_H
#define NW_REVISIONS_H

#include "nw_alert.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nw_revisions_t nw_revisions_t;

#define NW_REVISIONS_MAX 200000 /* identities kept by default */

typedef struct {
    const char *dir;         /* folder of the file "revisions"; NULL = kept in memory only */
    int64_t max_age_ms;      /* forget identities not published for this long; 0 = never */
    size_t max_entries;      /* identities kept, the least recently published forgotten first;
                              * 0 = NW_REVISIONS_MAX */
    int64_t now_ms;          /* the time now (ms since the epoch), for max_age_ms */
    uint64_t journal_next;   /* the journal's next seq, opened first: lines with a seq at or
                              * past it are ignored; 0 = every line is read */
    bool journal_new_stream; /* the journal starts a new stream (it had no segments): every
                              * line is kept, its seq reset to 0 */
} nw_revisions_opts_t;

/* What nw_revisions_plan decided for one article, to commit once it is journaled. */
typedef struct {
    char *identity;      /* the article's identity (owned) */
    char article_id[17]; /* the first publication's article id */
    uint32_t revision;   /* revision of the alerts to send (or the latest, when none) */
    uint64_t *hashes;    /* every alert text hash sent for the identity after this plan */
    size_t n_hashes;     /* entries of hashes */
    size_t n_unchanged;  /* alerts left out because their text was sent before */
    int known;           /* the identity was published before */
} nw_revisions_plan_t;

/* Opens the index file "revisions" in opts->dir (created on the first commit), or an index
 * kept in memory only when dir is NULL, and forgets what is past opts' limits. A line that
 * cannot be read is skipped and named in warn ("FILE:LINE: reason", "" when none); a torn
 * last line is cut off; lines past opts->journal_next are ignored (counted in warn) and the
 * file is rewritten without them (with a new stream: kept with seq 0, counted in warn,
 * and rewritten so); a file found and not rewritten is fdatasynced (a crash may have left
 * its lines in the page cache only). Returns NW_OK with *out set; NW_ERR_IO, NW_ERR_PERM,
 * NW_ERR_NOSPACE (message in err), NW_ERR_NOMEM. */
int nw_revisions_open(const nw_revisions_opts_t *opts, nw_revisions_t **out, char *warn,
                      size_t warnlen, char *err, size_t errlen);

/* Frees the index and sets *revisions_p to NULL. Safe on NULL and twice. */
void nw_revisions_destroy(nw_revisions_t **revisions_p);

/* Returns the number of identities the index holds. */
size_t nw_revisions_count(const nw_revisions_t *revisions);

/* Applies the update rule (above) to alerts[0 .. *n - 1], an article as nw_ingest made it:
 * clears the alerts whose text was sent before for identity, closes the gaps, updates *n
 * (0 = unchanged re-delivery), and gives the others their article id, revision and id.
 * Fills *plan (cleared by this call; clear it with nw_revisions_plan_clear). Returns NW_OK,
 * NW_ERR_NOMEM (alerts and *n unchanged, plan empty) or NW_ERR_INVAL for an empty
 * identity. */
int nw_revisions_plan(const nw_revisions_t *revisions, const char *identity, nw_alert_t *alerts,
                      size_t *n, nw_revisions_plan_t *plan);

/* Records plan as published at now_ms and, with a file, appends its line with seq, the
 * journal's last seq (made durable by nw_revisions_sync, with the group commit); forgets
 * what is past the limits. Call it once the plan's alerts are journaled. Returns NW_OK;
 * NW_ERR_IO, NW_ERR_NOSPACE, NW_ERR_PERM... with the file named in err when the line
 * could not be written, or NW_ERR_NOMEM: then the index, in memory and on disk, is as it
 * was (planning the article again gives the same plan). */
int nw_revisions_commit(nw_revisions_t *revisions, const nw_revisions_plan_t *plan, uint64_t seq,
                        int64_t now_ms, char *err, size_t errlen);

/* Tells the index that the journal holds every record with a seq below durable_below on
 * disk. When most of the file's lines are superseded and every line names only such
 * records, rewrites the file (temporary file, fsync, rename): a rewrite must not make a
 * line durable before the journal records it stands for, nor drop the older line of an
 * identity whose newest one may yet be ignored at open. Returns NW_OK (also when nothing
 * was due, or in memory); an error with the file named in err when the rewrite failed: the
 * old file is kept whole, appends go on to it, and a later call tries again. */
int nw_revisions_settle(nw_revisions_t *revisions, uint64_t durable_below, char *err,
                        size_t errlen);

/* Whether the file has grown past 4 * identities + 1024 lines: settling has been starved
 * (every nw_revisions_settle found lines the journal had not synced yet). The daemon then
 * syncs the journal at once and settles, so the file stays bounded. */
bool nw_revisions_settle_overdue(const nw_revisions_t *revisions);

/* Makes the lines nw_revisions_commit appended since the last call durable (one fdatasync;
 * nothing to do in memory or when none were appended). Call it only once the journal holds
 * every line's records on disk (the daemon does with its group fsync, so a batch of
 * articles costs one sync of each file). A failed fdatasync is not retried (Linux reports
 * a writeback error once, docs/JOURNAL.md): the file is rewritten whole from memory
 * instead. Returns NW_OK with err "" (synced), or with err saying the sync failed and the
 * file was rewritten (to log as a warning); NW_ERR_SYNC when the rewrite failed too, or
 * an error when the file cannot be opened, the file named in err: the lines may not be
 * durable. */
int nw_revisions_sync(nw_revisions_t *revisions, char *err, size_t errlen);

/* nw_revisions_sync in two steps, for an fdatasync run on another thread: sets *fd to a
 * descriptor of the index file opened anew (its own open file description:
 * docs/JOURNAL.md, "Sync descriptors") for the caller to fdatasync and close, counting the
 * lines appended so far as synced, or to -1 when there is nothing to sync. Returns NW_OK;
 * an error with the file named in err when it cannot be opened (the lines stay unsynced:
 * the caller must not count them durable). */
int nw_revisions_sync_take(nw_revisions_t *revisions, int *fd, char *err, size_t errlen);

/* Ends a sync started by nw_revisions_sync_take, with the errno of the caller's fdatasync
 * (0 when it worked), under the same rule as nw_revisions_sync: on a failure the file is
 * rewritten whole from memory, so call it only once the journal holds every line's
 * records on disk. Returns as nw_revisions_sync. */
int nw_revisions_sync_end(nw_revisions_t *revisions, int sync_errno, char *err, size_t errlen);

/* The index file, for messages ("(in memory)" without one). */
const char *nw_revisions_path(const nw_revisions_t *revisions);

/* Frees what plan owns and zeroes it. Safe on a zeroed plan and twice. */
void nw_revisions_plan_clear(nw_revisions_plan_t *plan);

#endif
