#ifndef NW_GROUPSYNC_H
#define NW_GROUPSYNC_H

/* nw_groupsync: the group commit's fsyncs (the journal's active segment and the revision
 * index) run on libuv's thread pool, so the daemon's loop goes on ingesting and journaling
 * the next batch of articles while the disk flushes the last one. One sync runs at a time;
 * its callback comes on the loop thread, where the journal is told what was synced. The
 * loop may append (and so rotate the journal) and commit on its own thread while a sync
 * runs: the sync fdatasyncs files it opened anew, never a duplicate of the loop's
 * descriptors (docs/JOURNAL.md, "Sync descriptors"). */

#include "nw_journal.h"
#include "nw_revisions.h"

#include <stdbool.h>
#include <uv.h>

typedef struct nw_groupsync nw_groupsync_t;

/* Called on the loop thread when a sync started by nw_groupsync_start has ended. rc is NW_OK
 * when every journal record and revision index line appended before the start is on disk;
 * NW_ERR_SYNC when the journal's fsync failed (the journal is poisoned: nw_journal_errmsg
 * says why, nw_journal_sync_failed is true); NW_ERR_SYNC with nw_journal_sync_failed
 * false, or another error: the index's fdatasync failed and so did its rewrite from memory
 * (nw_groupsync_errmsg says why), its lines may not be durable. A
 * failed fdatasync of the index that the rewrite made good is logged as a warning. seconds
 * is the time the fsyncs took. */
typedef void nw_groupsync_done_fn(void *arg, int rc, double seconds);

/* Creates the syncer for journal and revisions (both borrowed; they must outlive it and the
 * loop's last run). Returns NW_OK or NW_ERR_NOMEM. */
int nw_groupsync_new(uv_loop_t *loop, nw_journal_t *journal, nw_revisions_t *revisions,
                     nw_groupsync_done_fn *done, void *arg, nw_groupsync_t **out);

/* Whether a sync is running (its callback has not come yet). */
bool nw_groupsync_busy(const nw_groupsync_t *gs);

/* Starts syncing every record appended so far. Returns NW_OK: the callback will come (also
 * when there was nothing to sync); NW_ERR_INVAL when a sync is running already; NW_ERR_SYNC or
 * NW_ERR_IO from nw_journal_sync_begin (no callback then; the journal's errmsg says why);
 * an error from nw_revisions_sync_take, the index file failing to open (no callback;
 * nw_groupsync_errmsg says why); NW_ERR_UV when the thread pool refused the work (no
 * callback). */
int nw_groupsync_start(nw_groupsync_t *gs);

/* Why the index part of the last start or sync failed ("" when it did not). */
const char *nw_groupsync_errmsg(const nw_groupsync_t *gs);

/* Frees the syncer and sets *gs_p to NULL. Only once no sync runs (after the loop's last
 * run). Safe on NULL. */
void nw_groupsync_destroy(nw_groupsync_t **gs_p);

#endif
