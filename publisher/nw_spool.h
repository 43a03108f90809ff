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
 * check the folders, list what is ready in name order, move an article out.
 * The daemon decides when to look (uv_fs_event plus a periodic rescan).
 */
#ifndef NW_SPOOL_H
#define NW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct nw_spool_t nw_spool_t;

/* Opens the spool at dir, creating dir, incoming/, done/ and failed/ when missing, and
 * checks that each can be listed and written. Returns NW_OK with *out set; NW_ERR_PERM,
 * NW_ERR_NOTFOUND, NW_ERR_IO or NW_ERR_INVAL (not a folder) with "PATH: reason" in err;
 * NW_ERR_NOMEM. */
int nw_spool_open(const char *dir, nw_spool_t **out, char *err, size_t errlen);

/* Returns true when a file called name in incoming/ is ready to be processed: not a
 * dotfile (a write in progress, by the maildir convention), not an editor or download
 * temporary ("~" suffix, ".tmp", ".part", ".partial", ".swp", ".crdownload"). */
bool nw_spool_name_ready(const char *name);

/* Lists the ready regular files of incoming/ in byte-wise name order into a new array
 * *names of *n strings (free with nw_spool_names_free). Returns NW_OK, NW_ERR_IO /
 * NW_ERR_PERM / NW_ERR_NOTFOUND with the path in err, or NW_ERR_NOMEM. */
int nw_spool_scan(const nw_spool_t *spool, char ***names, size_t *n, char *err, size_t errlen);

/* Frees an array from nw_spool_scan and sets *names to NULL. Safe on NULL. */
void nw_spool_names_free(char ***names, size_t n);

/* Writes the path of incoming/name into buf. Returns NW_OK or NW_ERR_TOOBIG. */
int nw_spool_incoming_path(const nw_spool_t *spool, const char *name, char *buf, size_t buflen);

/* Moves incoming/name to done/name (replacing a file of that name there). Returns NW_OK,
 * or an NW_ERR_* from the rename with the paths in err. */
int nw_spool_done(const nw_spool_t *spool, const char *name, char *err, size_t errlen);

/* Writes reason (its first line; a newline is added) to failed/name.error, then moves
 * incoming/name to failed/name, so whoever sees failed/name can read why. Returns NW_OK
 * or an NW_ERR_* with the paths in err. */
int nw_spool_fail(const nw_spool_t *spool, const char *name, const char *reason, char *err,
                  size_t errlen);

/* Returns the spool folder, the incoming/ folder (owned by the spool). */
const char *nw_spool_dir(const nw_spool_t *spool);
const char *nw_spool_incoming(const nw_spool_t *spool);

/* Frees the spool and sets *spool_p to NULL. Safe on NULL and twice. */
void nw_spool_destroy(nw_spool_t **spool_p);

#endif
