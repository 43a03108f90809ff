/*
 * nw_feed_seen: the feed items already taken, per feed, kept across restarts.
 *
 * An item is remembered by (feed URL, guid) with a hash of its content, so an item that
 * changes under the same guid is taken again (it becomes an update of its article). The
 * set is saved to "feeds.seen" in the journal folder: the whole file is written to
 * "feeds.seen.tmp", synced and renamed over the old one, so a crash leaves one or the
 * other whole. Lines: "<hash, 16 hex> <feed URL> <guid>", both %-escaped.
 */
#ifndef NW_FEED_SEEN_H
#define NW_FEED_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nw_feed_seen_t nw_feed_seen_t;

/* Opens the set saved in dir/feeds.seen (none yet is an empty set), or a set kept in memory
 * only when dir is NULL. A line that cannot be read is skipped and named in warn ("" when
 * none). Returns NW_OK with *out set; NW_ERR_IO or NW_ERR_PERM with the file named in err;
 * NW_ERR_NOMEM. */
int nw_feed_seen_open(const char *dir, nw_feed_seen_t **out, char *warn, size_t warnlen, char *err,
                      size_t errlen);

/* Frees the set and sets *seen_p to NULL. Safe on NULL and twice. */
void nw_feed_seen_destroy(nw_feed_seen_t **seen_p);

/* Returns true when feed's item guid was taken with content hash hash. */
bool nw_feed_seen_has(const nw_feed_seen_t *seen, const char *feed, const char *guid,
                      uint64_t hash);

/* Remembers feed's item guid with hash (replacing its old hash). Returns NW_OK or
 * NW_ERR_NOMEM. Saved by the next nw_feed_seen_save. */
int nw_feed_seen_add(nw_feed_seen_t *seen, const char *feed, const char *guid, uint64_t hash);

/* Forgets feed's items whose guid is not among guids[0 .. n - 1] (the feed's current
 * document), so the set stays as small as the feeds. */
void nw_feed_seen_retain(nw_feed_seen_t *seen, const char *feed, const char *const *guids,
                         size_t n);

/* Returns the number of items remembered. */
size_t nw_feed_seen_count(const nw_feed_seen_t *seen);

/* Writes the set to its file if it changed since the last save (nothing in memory-only
 * mode). Returns NW_OK, or NW_ERR_IO / NW_ERR_NOSPACE / NW_ERR_PERM with the file named in
 * err (the set in memory is kept; the next save tries again). */
int nw_feed_seen_save(nw_feed_seen_t *seen, char *err, size_t errlen);

#endif
