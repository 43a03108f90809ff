/*
 * nw_spool: the spool folder articles are dropped into.
 *
 *     DIR/incoming/   new articles; writers create them elsewhere (or as a dotfile
 *                     in incoming/) and rename them in when complete (maildir)
 *     DIR/done/       articles whose alerts were all handed to the publish path
 *     DIR/failed/     articles that could not be turned into alerts, each with
 *                     NAME.error holding the reason (one line naming the file)
 *
 * This module holds the file-system side only (no loop, no sockets): open and
 * check the folders, watch incoming/ (inotify), list what is ready in name
 * order, tell complete files from ones still being written in place
 * (nw_spool_settle), move an article out. The daemon decides when to look (the
 * watch descriptor turning readable, plus a periodic rescan).
 */
#ifndef NW_SPOOL_H
#define NW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nw_spool_t nw_spool_t;

/* Opens the spool at dir, creating dir, incoming/, done/ and failed/ when missing, and
 * checks that each can be listed and written. Returns NW_OK with *out set; NW_ERR_PERM,
 * NW_ERR_NOTFOUND, NW_ERR_IO or NW_ERR_INVAL (not a folder) with "PATH: reason" in err;
 * NW_ERR_NOMEM. */
int nw_spool_open(const char *dir, nw_spool_t **out, char *err, size_t errlen);

/* Returns true when a file called name in incoming/ is ready to be processed: not a
 * dotfile (a write in progress, by the maildir convention), not an editor or download
 * temporary ("~" suffix, ".tmp", ".part", ".partial", ".swp", ".swx", ".crdownload"). */
bool nw_spool_name_ready(const char *name);

/* Reads the file events already queued on the watch (nw_spool_read_events), then lists
 * the ready regular files of incoming/ in byte-wise name order into a new array *names of
 * *n strings (free with nw_spool_names_free). Returns NW_OK, NW_ERR_IO /
 * NW_ERR_PERM / NW_ERR_NOTFOUND with the path in err, or NW_ERR_NOMEM. */
int nw_spool_scan(nw_spool_t *spool, char ***names, size_t *n, char *err, size_t errlen);

/* Frees an array from nw_spool_scan and sets *names to NULL. Safe on NULL. */
void nw_spool_names_free(char ***names, size_t n);

/* How long a file written in place in incoming/ (a plain `cp`) must stay unchanged, in
 * milliseconds, before it is taken. */
#define NW_SPOOL_SETTLE_MS 500

/* Starts watching incoming/ with inotify (Linux). Returns the descriptor to poll for
 * reading (owned by the spool), or -1 with "PATH: reason" in err: then files are found by
 * listing only, and each waits NW_SPOOL_SETTLE_MS. */
int nw_spool_watch(nw_spool_t *spool, char *err, size_t errlen);

/* Reads the file events waiting on the watch descriptor (call when it is readable) and
 * remembers them for nw_spool_settle. Returns true when there were any. */
bool nw_spool_read_events(nw_spool_t *spool);

/* Keeps, of the names nw_spool_scan listed (in its order), only the files that are
 * complete, and frees the others. A file renamed (or moved) into incoming/ is complete at
 * once, when not empty. Any other file (created in place, written or changed after it
 * appeared, there before the watch began, or without a watch) is complete once its size,
 * modification time and inode have stayed the same, with no change event, for
 * NW_SPOOL_SETTLE_MS. now_ms is a monotonic clock. *wait_ms is set to -1 when no file
 * waits, else to the milliseconds after which one may be complete. Returns NW_OK or
 * NW_ERR_NOMEM (names untouched). */
int nw_spool_settle(nw_spool_t *spool, char **names, size_t *n, int64_t now_ms, int64_t *wait_ms);

/* Writes the path of incoming/name into buf. Returns NW_OK or NW_ERR_TOOBIG. */
int nw_spool_incoming_path(const nw_spool_t *spool, const char *name, char *buf, size_t buflen);

/* Moves incoming/name to done/name, or to done/name.N (the first free N from 1, logged)
 * when done/ already holds that name: nothing there is ever replaced. With ino not 0, only
 * the file read (device dev, inode ino) is moved: when another file has taken the name
 * since (a writer re-used it while the article was being published), that one is left in
 * incoming/ as a new article and *replaced is set. Returns NW_OK (moved, or *replaced),
 * NW_ERR_NOTFOUND when incoming/name is gone, or an NW_ERR_* from the rename with the paths
 * in err. */
int nw_spool_done(nw_spool_t *spool, const char *name, uint64_t dev, uint64_t ino, bool *replaced,
                  char *err, size_t errlen);

/* Writes reason (its first line, then "; to retry, fix the cause and move it from failed/
 * back into incoming/" and a newline) to failed/name.error (name cut to
 * NAME_MAX - 6 bytes there when longer, so the file name fits), then moves
 * incoming/name to failed/name, so whoever sees failed/name can read why. An earlier
 * failed/name is never replaced: the article becomes failed/name.1 (.2, ...) with its own
 * .error, logged. With ino not 0,
 * only the file read (device dev, inode ino) is failed: another file that has taken the
 * name since is left in incoming/ as a new article and *replaced is set (nothing written).
 * Returns NW_OK, NW_ERR_NOTFOUND when incoming/name is gone, or an NW_ERR_* with the paths
 * in err. */
int nw_spool_fail(nw_spool_t *spool, const char *name, uint64_t dev, uint64_t ino,
                  const char *reason, bool *replaced, char *err, size_t errlen);

/* Returns the spool folder, the incoming/ folder (owned by the spool). */
const char *nw_spool_dir(const nw_spool_t *spool);
const char *nw_spool_incoming(const nw_spool_t *spool);

/* Frees the spool and sets *spool_p to NULL. Safe on NULL and twice. */
void nw_spool_destroy(nw_spool_t **spool_p);

#endif
