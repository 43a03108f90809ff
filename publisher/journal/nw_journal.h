/*
 * nw_journal: the publisher's append-only, checksummed alert journal.
 *
 * Every alert is appended here before it is sent, so it can be replayed to a
 * subscriber that missed it and so a publisher that crashed mid-article knows
 * which alerts it already published. The journal is a directory of segment
 * files named after the global sequence number of their first record
 * ("00000000000000000001.seg"), plus "stream-id" (the 16 hex chars of the
 * stream, fixed for the life of the journal) and "lock" (an flock(2) held
 * while a process has the journal open). docs/JOURNAL.md gives the byte
 * layout, the recovery rules and the memory cost.
 *
 * A record holds the encoded alert frame (opaque bytes here, never decoded)
 * and the metadata needed to index and filter it without decoding: global
 * seq, journal time, alert id and the topics with their per-topic seqs.
 *
 * The journal numbers alerts: nw_journal_number() fills in the stream id, the
 * next global seq and the next per-topic seqs; the caller encodes the alert
 * and appends it. Numbers are committed only by a successful append, so an
 * alert that failed to encode or append leaves no hole:
 *
 *     nw_journal_number(j, &alert);
 *     nw_alert_encode(&alert, &frame, &size);
 *     if ((rc = nw_journal_append(j, &alert, frame, size, now_ms)) != NW_OK) {
 *         // NW_ERR_JOURNAL_FULL: stop publishing, log nw_journal_errmsg(j), retry later
 *         // NW_ERR_SYNC: an fsync failed; stop, and reopen the journal to recover
 *     }
 *
 * Everything here belongs to one thread (the publisher's loop). Iterators
 * store positions (sequence numbers), not pointers into the journal, so
 * appends, rotation and retention may happen between two nw_journal_iter_next
 * calls.
 */
#ifndef NW_JOURNAL_H
#define NW_JOURNAL_H

#include "nw_alert.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NW_JOURNAL_SEGMENT_DEFAULT (64u * 1024 * 1024)   /* bytes of one segment */
#define NW_JOURNAL_SEGMENT_MIN     4096                  /* smallest segment_max accepted */
#define NW_JOURNAL_SEGMENT_MAX     (1024u * 1024 * 1024) /* largest segment_max accepted */

typedef struct nw_journal_t nw_journal_t;
typedef struct nw_journal_iter_t nw_journal_iter_t;

typedef enum {
    NW_JOURNAL_FSYNC_NEVER = 0,    /* leave flushing to the kernel (survives a process crash) */
    NW_JOURNAL_FSYNC_INTERVAL = 1, /* fdatasync every sync_every records / sync_interval_ms */
    NW_JOURNAL_FSYNC_ALWAYS = 2,   /* fdatasync before each append returns */
} nw_journal_fsync_t;

typedef struct {
    uint64_t segment_max;      /* rotate before a segment would pass this many bytes */
    uint64_t retain_bytes;     /* keep at most this many bytes in total; 0 = no limit */
    int64_t retain_ms;         /* drop segments whose newest record is older; 0 = no limit */
    nw_journal_fsync_t fsync;  /* when appended records are forced to the disk */
    uint32_t sync_every;       /* INTERVAL: sync once this many records are unsynced (0 = off) */
    uint32_t sync_interval_ms; /* INTERVAL: an append syncs when the last sync is older (0 = off);
                                  the daemon's timer also calls nw_journal_sync at this period */
} nw_journal_opts_t;

/* What nw_journal_open found and repaired. Damage is a record that fails its length, CRC,
 * framing or sequence check: it and everything after it in that segment are cut off. */
typedef struct {
    bool created;              /* the journal was new: a fresh stream id was made */
    uint64_t segments;         /* segment files found */
    uint64_t records;          /* good records kept */
    uint64_t damaged_segments; /* segments that were truncated */
    uint64_t truncated_bytes;  /* bytes cut off, all segments together */
    uint64_t damage_seq;       /* first seq expected at the first damage (0 = no damage) */
    uint64_t damage_offset;    /* byte offset of the first damage in its segment */
    char damage_segment[32];   /* file name of the segment with the first damage, "" for none */
    char message[512];         /* NW_OK: a log line describing the damage, "" when none;
                                  on error: what failed, naming the file */
} nw_journal_recovery_t;

/* One record as an iterator yields it. Pointers stay valid until the next
 * nw_journal_iter_next or nw_journal_iter_destroy on the same iterator. */
typedef struct {
    uint64_t seq;                             /* global sequence number */
    int64_t time_ms;                          /* journal time of the append */
    const char *id;                           /* alert id, NUL-terminated */
    size_t n_topics;                          /* used entries of topics/topic_seqs */
    const char *topics[NW_ALERT_TOPICS_MAX];  /* topic names, NUL-terminated */
    uint64_t topic_seqs[NW_ALERT_TOPICS_MAX]; /* per-topic seq of each topic */
    const void *frame;                        /* the encoded alert, as appended */
    size_t frame_len;                         /* bytes of frame */
} nw_journal_record_t;

/* Fills opts with the defaults: 64 MiB segments, no retention limit, fsync INTERVAL with
 * sync_every 1000 and sync_interval_ms 1000. */
void nw_journal_opts_default(nw_journal_opts_t *opts);

/* Opens the journal in dir (created, one level, if missing), locks it, and recovers it:
 * leftover temporary files are removed; every segment is scanned; a record that fails its
 * checks is cut off with everything after it in its segment (the file is truncated and
 * synced) and reported in *recovery (the last segment is read from the disk, its clean
 * cached pages dropped first: see nw_journal_sync_failed); the sequence continues after the
 * last good record; per-topic seqs and the alert-id set are rebuilt. A new journal gets a
 * random stream id. opts may be NULL (defaults); recovery may be NULL.
 * Returns NW_OK with *out set, or leaves *out NULL and returns (recovery->message says why):
 *   NW_ERR_INVAL           dir or out NULL, or opts out of range (segment_max outside
 *                          NW_JOURNAL_SEGMENT_MIN..MAX, retain_ms < 0, unknown fsync);
 *   NW_ERR_JOURNAL_CORRUPT a segment header or the stream-id file is damaged, a segment
 *                          belongs to another stream, or segments overlap (the operator must
 *                          act: reusing sequence numbers would make subscribers drop alerts);
 *   NW_ERR_IO              the journal is locked by another process, or a read, truncate
 *                          or sync failed;
 *   NW_ERR_NOSPACE         no space to create the stream-id file or first segment;
 *   NW_ERR_PERM            the directory or a file may not be read or written;
 *   NW_ERR_NOTFOUND        the parent of dir does not exist;
 *   NW_ERR_NOMEM. */
int nw_journal_open(const char *dir, const nw_journal_opts_t *opts, nw_journal_t **out,
                    nw_journal_recovery_t *recovery);

/* Syncs (unless fsync is NEVER), unlocks, closes and frees the journal and sets *jp to
 * NULL. Safe on NULL and twice. A sync error here is lost: call nw_journal_sync first to
 * see it. Destroy every iterator of the journal before it. */
void nw_journal_destroy(nw_journal_t **jp);

/* Returns the stream id: NW_STREAM_ID_LEN lowercase hex chars, NUL-terminated. */
const char *nw_journal_stream_id(const nw_journal_t *j);

/* Returns the seq the next append must carry (1 for a new journal). */
uint64_t nw_journal_next_seq(const nw_journal_t *j);

/* Returns the seq below which every record has been fdatasynced, as far as fdatasync said
 * (nw_journal_next_seq() when nothing is unsynced; after a failed fsync it means nothing:
 * see nw_journal_sync_failed). */
uint64_t nw_journal_synced_below(const nw_journal_t *j);

/* Returns the seq of the oldest retained record, or nw_journal_next_seq() when empty. */
uint64_t nw_journal_first_seq(const nw_journal_t *j);

/* Returns the latest per-topic seq journaled for topic (0 = none yet). */
uint64_t nw_journal_topic_seq(const nw_journal_t *j, const char *topic);

/* Returns how many topics the journal knows; with nw_journal_topic_at enumerates them
 * (sorted by name) with their latest seqs, e.g. for a heartbeat. A topic whose only append
 * failed is listed with seq 0 (never journaled). */
size_t nw_journal_topic_count(const nw_journal_t *j);

/* Sets *name (owned by the journal, valid until the next append) and *seq for topic i.
 * Returns NW_OK, or NW_ERR_INVAL when i >= nw_journal_topic_count(). */
int nw_journal_topic_at(const nw_journal_t *j, size_t i, const char **name, uint64_t *seq);

/* Returns the description of the last error of an append, sync, retain or contains call
 * (what failed, the file, the errno text), "" if none. Owned by the journal. */
const char *nw_journal_errmsg(const nw_journal_t *j);

/* Numbers alert for the next append: sets its stream to the journal's, its seq to
 * nw_journal_next_seq() and each topic's seq to that topic's latest + 1. Commits nothing.
 * Returns NW_OK, or NW_ERR_NOMEM (the stream field unchanged, numbers may be set). */
int nw_journal_number(const nw_journal_t *j, nw_alert_t *alert);

/* Appends one alert: its encoded frame (frame_len bytes, copied) and, from alert, the id,
 * seq and topics with their seqs, which must be exactly what nw_journal_number gives.
 * time_ms is the journal time (ms since the epoch, UTC); a time earlier than the previous
 * record's is stored as that time, so journal time never goes backwards. Rotates to a new
 * segment first when this record would pass segment_max, then applies retention (never to
 * the active segment). Syncs per the fsync policy.
 * Returns NW_OK, or one of these, with the journal unchanged (a partly written record is
 * truncated away; if even that fails it is overwritten by the next append and cut off
 * by recovery):
 *   NW_ERR_INVAL        a NULL argument; the alert's stream, seq or a topic seq is not the
 *                       next one; id empty or longer than NW_ALERT_FIELD_MAX; a topic name
 *                       empty or longer than 255 bytes, or more than NW_ALERT_TOPICS_MAX;
 *   NW_ERR_TOOBIG       frame_len is 0 or above NW_FRAME_MAX;
 *   NW_ERR_JOURNAL_FULL the record could not be written or a new segment made (ENOSPC,
 *                       EDQUOT, EFBIG, EIO, EACCES...; nw_journal_errmsg says which).
 *                       Publishing must pause; a later append may succeed;
 *   NW_ERR_SYNC         an fsync failed, now (syncing this record, the segment rotated
 *                       away from, or the directory entry of a new segment) or earlier:
 *                       see nw_journal_sync_failed. No later append or sync succeeds;
 *   NW_ERR_NOMEM. */
int nw_journal_append(nw_journal_t *j, const nw_alert_t *alert, const void *frame, size_t frame_len,
                      int64_t time_ms);

/* Forces every appended record to the disk (fdatasync of the active segment), whatever the
 * policy; does nothing when nothing is unsynced. For the daemon's INTERVAL timer and before
 * an article leaves the spool. Returns NW_OK, or NW_ERR_SYNC: this sync or an earlier one
 * failed (nw_journal_errmsg names the file and errno text), so the records appended since
 * the last good sync may not be on disk. */
int nw_journal_sync(nw_journal_t *j);

/* nw_journal_sync in three steps, so the fdatasync can run on another thread while the
 * owner goes on appending (the daemon's group commit). Only nw_journal_sync_run may be
 * called off the journal's thread, and it touches nothing but the job. */
typedef struct {
    int fd;         /* the active segment, opened anew for the job; -1: nothing to sync */
    uint64_t below; /* the sync covers every record with a lower seq */
    int err;        /* errno of the fdatasync, 0 when it worked */
} nw_journal_sync_job_t;

/* Prepares *job to sync every record appended so far (job->fd is -1 when all are synced
 * already). The job's descriptor is the active segment opened anew, its own open file
 * description, so the job's fdatasync and the journal's own (a rotation, nw_journal_sync)
 * each see a writeback error (docs/JOURNAL.md, "Sync descriptors"). Returns NW_OK; NW_ERR_SYNC when
 * an earlier fsync failed; NW_ERR_IO when the segment cannot be opened (errmsg says so);
 * NW_ERR_NOMEM. The caller must end a prepared job with nw_journal_sync_end, which closes its
 * descriptor. */
int nw_journal_sync_begin(nw_journal_t *j, nw_journal_sync_job_t *job);

/* Runs the job's fdatasync (on any thread; blocks) and records its errno in job->err. */
void nw_journal_sync_run(nw_journal_sync_job_t *job);

/* Ends the job on the journal's thread: closes its descriptor and counts its records as
 * synced (those appended while it ran stay unsynced). Returns NW_OK, or NW_ERR_SYNC when
 * its fdatasync (or any earlier one) failed: the journal is poisoned as by a failed
 * nw_journal_sync (see nw_journal_sync_failed). */
int nw_journal_sync_end(nw_journal_t *j, nw_journal_sync_job_t *job);

/* Returns whether an fsync of the journal has failed (in nw_journal_sync, an append, a
 * rotation, or of the directory after a new segment). The state is sticky: Linux reports a
 * writeback error once and may drop the unwritten pages, so a later fdatasync succeeding
 * says nothing about the records before it. From then on nw_journal_append and
 * nw_journal_sync return NW_ERR_SYNC without touching the disk, and nw_journal_destroy
 * does not sync. Only destroying and reopening the journal clears it (recovery cuts a torn
 * tail and rebuilds the id set from what the files really hold). */
bool nw_journal_sync_failed(const nw_journal_t *j);

/* Applies retention now (age measured against now_ms): deletes the oldest whole segments
 * while the total passes retain_bytes or their newest record is older than retain_ms;
 * never the active segment. For the daemon's timer and after open.
 * Returns NW_OK or NW_ERR_IO (a segment could not be deleted; it stays retained). */
int nw_journal_retain(nw_journal_t *j, int64_t now_ms);

/* Sets *found to whether a retained record holds alert id. A hash hit is confirmed by
 * reading the record's id from disk, so the answer is exact.
 * Returns NW_OK, NW_ERR_INVAL (a NULL argument), NW_ERR_IO (the confirming read failed) or
 * NW_ERR_JOURNAL_CORRUPT (the record on disk no longer passes its checks). */
int nw_journal_contains(nw_journal_t *j, const char *id, bool *found);

/* Returns the number of retained records and the bytes of all segments. */
uint64_t nw_journal_record_count(const nw_journal_t *j);
uint64_t nw_journal_size(const nw_journal_t *j);

/* Returns the number of segment files (the active one included). */
size_t nw_journal_segment_count(const nw_journal_t *j);

/* Iterators yield records in seq order, from a start to the last record present when the
 * iterator was made (records appended later are not yielded: they were sent live). Each
 * record is read from disk (pread) when nw_journal_iter_next asks for it. Records deleted
 * by retention meanwhile are skipped, so a caller that needs to know watches rec->seq.
 * Each returns NW_OK with *out set (possibly yielding nothing), or NW_ERR_INVAL (NULL
 * argument) or NW_ERR_NOMEM with *out NULL. */

/* From the first record whose seq >= seq (the oldest retained one if seq is older). */
int nw_journal_iter_from_seq(nw_journal_t *j, uint64_t seq, nw_journal_iter_t **out);

/* From the first record whose journal time >= time_ms. Also NW_ERR_IO or
 * NW_ERR_JOURNAL_CORRUPT: the search reads record times from disk. */
int nw_journal_iter_from_time(nw_journal_t *j, int64_t time_ms, nw_journal_iter_t **out);

/* The last n records (all of them if fewer are retained). */
int nw_journal_iter_last(nw_journal_t *j, uint64_t n, nw_journal_iter_t **out);

/* Reads the next record into *rec. Returns NW_OK; NW_ERR_NOTFOUND when the iterator is
 * exhausted; NW_ERR_IO (a read failed: the same record is tried again next call);
 * NW_ERR_JOURNAL_CORRUPT (the record no longer passes its checks: it is skipped, the next
 * call goes on after it); NW_ERR_NOMEM. */
int nw_journal_iter_next(nw_journal_iter_t *it, nw_journal_record_t *rec);

/* Closes and frees the iterator, sets *itp to NULL. Safe on NULL and twice. */
void nw_journal_iter_destroy(nw_journal_iter_t **itp);

#endif
