/*
 * nw_state: a durable subscriber's memory of what it has handled (--state FILE).
 *
 * Per publisher stream it keeps:
 *   - the floor: every alert of the stream that matches the subscriber's filters with
 *     seq <= floor has been handled (delivered, or reported lost);
 *   - the handled set above the floor: the seqs delivered beyond it, as ranges
 *     (normally empty or one range: the floor catches up at each clean heartbeat or
 *     replay end; it only fills while a loss is being repaired);
 *   - per topic, the latest per-topic seq handled or known (for gap baselines);
 * and which stream was used last. A seq is "handled" when it is <= floor or in the set:
 * that is the (stream, seq) deduplication of replayed and live copies, across restarts.
 *
 * The file is text, one record per line, written whole to "FILE.tmp", fsynced, renamed
 * over FILE, and the directory fsynced: a crash at any point leaves either the old or the
 * new file, never a torn one. It is read strictly: any fault is an error naming the file,
 * line and field. nw_state_save_due() bounds the rate (at most every NW_STATE_SAVE_MS).
 *
 *     newswire-state 1
 *     stream 9f2c4e1a7b3d5c60 floor 1042
 *     done 9f2c4e1a7b3d5c60 1045-1050 1052
 *     topic 9f2c4e1a7b3d5c60 trade.tariffs 57
 *     end 4
 *
 * ("end N": N records before it; streams most recently used first.) A state opened with
 * a NULL path lives in memory only (the one-off --since/--last look-back uses that).
 */
#ifndef NW_STATE_H
#define NW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NW_STATE_SAVE_MS     200   /* nw_state_save_due saves at most this often */
#define NW_STATE_STREAMS_MAX 16    /* streams remembered; the least recently used goes */
#define NW_STATE_TOPICS_MAX  4096  /* topics remembered per stream; more are not kept */
#define NW_STATE_RANGES_MAX  65536 /* handled ranges above the floor per stream */

typedef struct nw_state_t nw_state_t;

/* Opens the state at path: loads it if the file exists, else starts empty (the file is
 * created by the first save). A leftover "path.tmp" (a crash before the rename) is
 * ignored and removed. path NULL: in memory only, saves do nothing.
 * Returns NW_OK with *out set, or leaves *out NULL and returns, with err saying
 * "FILE:LINE: what" for a file fault:
 *   NW_ERR_CONFIG  the file is not a valid state file (bad header, unknown record, a field
 *                  that is not a number or stream id, a done range below the floor or out
 *                  of order, a topic that breaks the naming rule, a missing or wrong "end");
 *   NW_ERR_PERM / NW_ERR_IO  the file cannot be read;
 *   NW_ERR_NOMEM. */
int nw_state_open(const char *path, nw_state_t **out, char *err, size_t errlen);

/* Frees the state (without saving) and sets *sp to NULL. Safe on NULL and twice. */
void nw_state_destroy(nw_state_t **sp);

/* Returns the stream used last (nw_state_use), or NULL when none is known. */
const char *nw_state_current(const nw_state_t *s);

/* Returns true when stream is known. */
bool nw_state_has_stream(const nw_state_t *s, const char *stream);

/* Makes stream the current one, creating it with floor (and no topics) if unknown (past
 * NW_STATE_STREAMS_MAX one is forgotten: the least recently used of the streams that no
 * handled alert, replay or state file vouches for, else the least recently used one other
 * than the stream of the last handled alert). A known stream keeps
 * its numbers. Returns NW_OK, NW_ERR_INVAL (stream empty or over 64 bytes, or not
 * printable ASCII without spaces), NW_ERR_NOMEM. */
int nw_state_use(nw_state_t *s, const char *stream, uint64_t floor);

/* Returns the floor of stream, 0 when unknown. */
uint64_t nw_state_floor(const nw_state_t *s, const char *stream);

/* Sets the floor of a known stream to floor and drops the handled ranges at or below it.
 * Raising it is the normal case; lowering it (the publisher is behind us: its journal lost
 * its tail) also drops the ranges above the new floor. Returns NW_OK or NW_ERR_NOTFOUND. */
int nw_state_set_floor(nw_state_t *s, const char *stream, uint64_t floor);

/* Returns true when seq of stream was handled (<= floor or in the set). Unknown stream:
 * false. */
bool nw_state_handled(const nw_state_t *s, const char *stream, uint64_t seq);

/* Records seq of a known stream as handled. Past NW_STATE_RANGES_MAX ranges the floor is
 * raised to the end of the oldest range (the alerts in that hole are given up) and
 * NW_ERR_TOOBIG is returned (the seq is recorded all the same). Returns NW_OK,
 * NW_ERR_NOTFOUND, NW_ERR_TOOBIG or NW_ERR_NOMEM. */
int nw_state_mark(nw_state_t *s, const char *stream, uint64_t seq);

/* Returns how many handled ranges stream holds above its floor. */
size_t nw_state_range_count(const nw_state_t *s, const char *stream);

/* Returns the per-topic seq recorded for topic of stream, 0 when none. */
uint64_t nw_state_topic(const nw_state_t *s, const char *stream, const char *topic);

/* Records tseq for topic (valid name) of a known stream, if above what is recorded.
 * Returns NW_OK, NW_ERR_NOTFOUND, NW_ERR_TOPIC, NW_ERR_TOOBIG (past NW_STATE_TOPICS_MAX:
 * not recorded) or NW_ERR_NOMEM. */
int nw_state_set_topic(nw_state_t *s, const char *stream, const char *topic, uint64_t tseq);

/* Returns true when something changed since the last save. */
bool nw_state_dirty(const nw_state_t *s);

/* Writes the state now (if dirty; in-memory states do nothing): FILE.tmp, fsync, rename,
 * fsync of the directory. Returns NW_OK, or NW_ERR_NOSPACE / NW_ERR_PERM / NW_ERR_IO
 * (err says which step and file; the previous file is intact), NW_ERR_NOMEM. */
int nw_state_save(nw_state_t *s, char *err, size_t errlen);

/* Saves if dirty and the last save is NW_STATE_SAVE_MS or more before now_ms (a monotonic
 * clock in ms, e.g. uv_now). Returns as nw_state_save, NW_OK when nothing was due. */
int nw_state_save_due(nw_state_t *s, int64_t now_ms, char *err, size_t errlen);

/* Reads the last max_bytes of a JSON Lines log written by the subscriber (--log) and marks
 * the (stream, seq) of every complete line as handled, for streams the state knows. A
 * crash between writing the log and saving the state would otherwise deliver those
 * alerts twice. Sets *marked (may be NULL) to how many were new. A missing log is NW_OK.
 * Returns NW_OK, NW_ERR_IO / NW_ERR_PERM, NW_ERR_NOMEM. */
int nw_state_absorb_log(nw_state_t *s, const char *log_path, size_t max_bytes, size_t *marked);

#endif
