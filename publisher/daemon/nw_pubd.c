#include "nw_pubd.h"
#include "nw_pubmetrics.h"

#include "nw_buf.h"
#include "nw_codec.h"
#include "nw_curve.h"
#include "nw_error.h"
#include "nw_groupsync.h"
#include "nw_ingest.h"
#include "nw_ingest_pool.h"
#include "nw_journal.h"
#include "nw_log.h"
#include "nw_pubsock.h"
#include "nw_replay.h"
#include "nw_revisions.h"
#include "nw_sequencer.h"
#include "nw_stream_id.h"
#include "nw_spool.h"
#include "nw_zap.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>
#include <zmq.h>

#define S_RESCAN_MS       2000 /* incoming/ is listed this often even without a file event */
#define S_ERR_MAX         1024 /* bytes of an error message */
#define S_JOURNAL_SYNC_MS 1000 /* journal sync and retention period */
#define S_BATCH_ARTICLES  64   /* articles one loop turn takes from incoming/ at most */
#define S_BATCH_ALERTS    4096 /* ... and no new article once the turn's alerts reach this */
#define S_QUEUE_ARTICLES  512  /* articles that may wait for one group fsync (turns merged) */

/* An alert journaled but held back until the group fsync (--journal-fsync always). */
typedef struct {
    const nw_alert_t *alert; /* the alert (owned by the batch's ingest results) */
    char *frame;             /* its encoded frame (owned) */
    size_t size;             /* bytes of frame */
} s_held_t;

/* What publishing one article did, for its "published" log line. */
typedef struct {
    size_t alerts;   /* alerts sent now */
    size_t skipped;  /* alerts the journal already held */
    size_t messages; /* messages sent (one per alert and topic) */
    uint64_t first;  /* global seq of the first alert sent (0 = none) */
    uint64_t last;   /* global seq of the last alert sent (0 = none) */
} s_report_t;

/* A spool file as it was read: device and inode, so that only that file moves on
 * (nw_spool_done, nw_spool_fail); ino 0: not a spool file, no check. */
typedef struct {
    uint64_t dev, ino;
} s_file_id_t;

/* The articles of one loop turn, committed together (group commit): all their alerts are
 * journaled, then one fsync, then (always) the held alerts are sent, then the articles move
 * to done/. The ingest results live until then, because held alerts point into them. */
typedef struct {
    nw_ingest_result_t res[S_QUEUE_ARTICLES]; /* each article's alerts */
    char *names[S_QUEUE_ARTICLES];            /* each article's name (owned: the listing of
                                               * incoming/ may be replaced meanwhile) */
    s_file_id_t files[S_QUEUE_ARTICLES];      /* each article's file as read */
    s_report_t reports[S_QUEUE_ARTICLES];     /* what publishing each did */
    size_t n;                                 /* articles fully journaled */
    size_t alerts;                            /* alerts of those articles */
    size_t n_res;    /* used entries of res: n, or n + 1 when the last stopped part way */
    s_held_t *held;  /* alerts waiting for the group fsync */
    size_t n_held;   /* used entries of held */
    size_t cap_held; /* allocated entries of held */
} s_batch_t;

/* Articles of incoming/ read and tagged ahead of their turn, side by side (nw_ingest_pool):
 * jobs[i] is the listing's pending[first + i]. The spool loop takes them in order. An
 * article the journal paused in is read again alone; a new listing or a reload drops what
 * is left, to be read again. */
typedef struct {
    nw_ingest_job_t jobs[S_BATCH_ARTICLES];
    char *paths[S_BATCH_ARTICLES]; /* incoming/NAME of each job (owned) */
    size_t first;                  /* the pending index of jobs[0] */
    size_t n;                      /* jobs read */
    size_t next;                   /* the next job to take */
} s_ahead_t;

/* Everything one run of the daemon holds. The uv handles are embedded, so the struct lives
 * until the loop has closed them all (nw_pubd_run's stack frame outlives the loop). */
typedef struct {
    const nw_pubd_opts_t *opts; /* the run's settings (borrowed) */
    uv_loop_t loop;             /* the daemon's only loop */
    bool loop_ready;            /* loop initialised (and must be closed) */
    uv_signal_t sigterm;        /* stop */
    uv_signal_t sigint;         /* stop */
    uv_signal_t sighup;         /* reload taxonomy and boilerplate rules */
    uv_poll_t spool_watch;      /* incoming/'s inotify descriptor is readable */
    uv_timer_t rescan;          /* periodic fallback listing of incoming/ */
    uv_timer_t heartbeat;       /* heartbeat period */
    uv_idle_t work;             /* active while articles wait: one per loop turn */
    void *zctx;                 /* ZeroMQ context */
    nw_pubsock_t *sock;         /* the alert socket */
    nw_spool_t *spool;          /* the spool folders */
    nw_journal_t *journal;      /* numbers and keeps every alert; NULL with --no-journal */
    nw_replay_t *replay;        /* serves the journal (--replay-bind); NULL when none */
    nw_zap_t *zap;              /* --curve-allow: decides which CURVE clients connect */
    nw_sequencer_t *seqr;       /* numbers alerts in memory when there is no journal */
    s_batch_t batch;            /* the articles of the current loop turn (group commit) */
    s_batch_t queued;           /* a batch journaled, waiting for the sync in flight to end */
    s_batch_t syncing;          /* the batch whose group fsync runs on the thread pool */
    nw_groupsync_t *gsync;      /* runs that fsync under --journal-fsync interval, else NULL */
    bool stop_after_sync;       /* SIGTERM/SIGINT came during a sync: stop once it is done */
    bool hold_sends;            /* --journal-fsync always: send only after the group fsync */
    bool hold_turn;             /* a spool batch is being taken: its alerts are sent together
                                 * at the end of the turn (one wake-up of libzmq's I/O thread
                                 * per turn, not one per alert) */
    bool crash_hook;            /* test hook: SIGKILL between the group fsync and done/ */
    uv_timer_t journal_timer;   /* periodic journal sync and retention */
    unsigned paused;            /* S_PAUSED_* bits: what could not be written (the journal,
                                 * the revision index); retry on rescan; 0 = not paused */
    bool journal_new_stream;    /* the journal opened had no segments: a new stream */
    nw_taxonomy_t *taxonomy;    /* current taxonomy (replaced by SIGHUP) */
    nw_model_t *model;          /* current topic model, NULL for none (replaced with it) */
    nw_boilerplate_t *rules;    /* current boilerplate rules (replaced by SIGHUP) */
    nw_html_rules_t *html;      /* current HTML markup rules (replaced by SIGHUP) */
    nw_tagger_ws_t *tagger_ws;  /* the tagger's memory for files and feed items */
    nw_ingest_pool_t *ingest;   /* reads and tags spool articles on several threads */
    s_ahead_t *ahead;           /* spool articles read ahead by ingest */
    char **pending;             /* names of incoming/ from the last listing */
    size_t n_pending;           /* entries of pending */
    size_t next_pending;        /* next entry of pending to process */
    size_t next_file;           /* next positional file to process */
    bool rescan_wanted;         /* list incoming/ again once pending is done */
    bool rescan_after_sync;     /* a rescan left out names in flight: list again after it */
    bool stopping;              /* shutting down: no new work */
    int status;                 /* exit status to return */
    uint64_t n_published;       /* articles published */
    uint64_t n_failed;          /* articles that failed */
    nw_pubmetrics_t *metrics;   /* --metrics-bind, or NULL */
    nw_revisions_t *revisions;  /* articles published before, for updates (nw_revisions) */
    nw_feeds_t *feeds;          /* the polled feeds (--feed); NULL when none */
} s_daemon_t;

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_close_handle(void *handle)
{
    uv_handle_t *h = handle;
    if (h->loop != NULL && !uv_is_closing(h))
        uv_close(h, NULL);
}

/* Logs the feeds' poll counters, once, at shutdown. */
static void s_log_feed_counters(const s_daemon_t *d)
{
    if (d->feeds == NULL)
        return;
    const nw_feeds_counters_t *c = nw_feeds_counters(d->feeds);
    nw_log(NW_LOG_INFO,
           "feeds: %llu polls (%llu ok, %llu not modified, %llu HTTP errors, %llu timeouts, %llu "
           "too big, %llu network errors, %llu not feeds), %llu items taken (%llu to take "
           "again later), %llu pages fetched, %llu pages failed",
           (unsigned long long)c->polls, (unsigned long long)c->ok,
           (unsigned long long)c->not_modified, (unsigned long long)c->http_errors,
           (unsigned long long)c->timeouts, (unsigned long long)c->too_big,
           (unsigned long long)c->net_errors, (unsigned long long)c->parse_errors,
           (unsigned long long)c->items_new, (unsigned long long)c->items_retry,
           (unsigned long long)c->pages_ok, (unsigned long long)c->pages_failed);
}

/* Begins shutdown: closes every handle and the socket; the loop ends once they are gone.
 * The first status given wins. */
static void s_stop(s_daemon_t *d, int status)
{
    if (d->stopping)
        return;
    d->stopping = true;
    d->status = status;
    nw_pubmetrics_close_monitor(d->metrics); /* before the socket it monitors */
    nw_pubsock_close(&d->sock, NULL, NULL);
    s_log_feed_counters(d);
    nw_feeds_close(&d->feeds);
    /* Before s_teardown destroys the journal it reads. */
    nw_replay_close(&d->replay, NULL, NULL);
    nw_zap_close(&d->zap);
    s_close_handle(&d->sigterm);
    s_close_handle(&d->sigint);
    s_close_handle(&d->sighup);
    s_close_handle(&d->spool_watch);
    s_close_handle(&d->rescan);
    s_close_handle(&d->heartbeat);
    s_close_handle(&d->journal_timer);
    s_close_handle(&d->work);
}

/* --- Publishing ----------------------------------------------------------------------- */

/* Why publishing is paused (bits of s_daemon_t.paused): each write that works again ends
 * its own reason only. */
enum { S_PAUSED_JOURNAL = 1u, S_PAUSED_REVISIONS = 2u };

/* How processing one article ended. */
typedef enum {
    S_DONE = 0,  /* every alert is journaled and sent */
    S_BAD = 1,   /* the article is bad: reason in err */
    S_GONE = 2,  /* the file vanished before it was read */
    S_PAUSE = 3, /* the journal cannot be written: leave the article, retry later */
    S_FATAL = 4, /* the daemon cannot go on */
} s_outcome_t;

static const char *s_stream(const s_daemon_t *d)
{
    return d->journal ? nw_journal_stream_id(d->journal) : nw_sequencer_stream(d->seqr);
}

static uint64_t s_last_seq(const s_daemon_t *d)
{
    return d->journal ? nw_journal_next_seq(d->journal) - 1 : nw_sequencer_last(d->seqr);
}

/* Returns the journal's last error without its "journal: " prefix, for a log line that
 * starts with "journal: " itself. */
static const char *s_journal_reason(const s_daemon_t *d)
{
    const char *msg = nw_journal_errmsg(d->journal);
    return strncmp(msg, "journal: ", 9) == 0 ? msg + 9 : msg;
}

/* A journal fsync failed (the timer's, the one before an article leaves incoming/, or one
 * inside an append): stops the daemon with NW_PUBD_EXIT_JOURNAL_SYNC, loudly. Pausing and
 * retrying, as for a full disk, would be unsound: Linux reports a writeback error once and
 * may drop the unwritten pages, so a later fsync that succeeds would let an article move to
 * done/ while records of it (or of earlier articles) are not on disk. The journal refuses
 * every append and sync from now on (nw_journal_sync_failed), and the loop runs no work
 * once stopping, so the article being processed stays in incoming/. A restart reopens the
 * journal: recovery cuts a torn tail, and its id set makes the daemon republish exactly the
 * alerts it lacks for the articles still in incoming/. */
static void s_stop_on_sync_failure(s_daemon_t *d)
{
    nw_log(NW_LOG_ERROR,
           "journal: fsync failed: %s; stopping: records since the last good sync may not be on "
           "disk; restart to recover",
           s_journal_reason(d));
    s_stop(d, NW_PUBD_EXIT_JOURNAL_SYNC);
}

/* The file a pause reason (one S_PAUSED_* bit) names in the log. */
static const char *s_pause_what(unsigned reason)
{
    return reason == S_PAUSED_JOURNAL ? "journal" : "revisions";
}

/* The revision index's lines could not be made durable: its fdatasync failed and so did
 * the rewrite of the whole file from memory (or the file could not be opened to sync it).
 * Stops the daemon as a failed journal fsync does (NW_PUBD_EXIT_JOURNAL_SYNC), with the
 * batch left in incoming/: moving it to done/ would leave an index line that a power loss
 * may take away, and an update after it would reuse the revision's ids. */
static void s_stop_on_index_sync_failure(s_daemon_t *d, const char *why)
{
    nw_log(NW_LOG_ERROR,
           "revisions: %s; stopping: lines since the last good sync may not be on disk; restart "
           "to recover",
           why);
    s_stop(d, NW_PUBD_EXIT_JOURNAL_SYNC);
}

/* Pauses publishing for reason (an S_PAUSED_* bit) after a write of the journal or the
 * revision index failed (a full disk, an I/O error; why: the error naming the file),
 * logging it once per pause: the article stays in incoming/ and is tried again on the
 * rescan timer. */
static s_outcome_t s_pause(s_daemon_t *d, unsigned reason, const char *why)
{
    if (!(d->paused & reason))
        nw_log(NW_LOG_ERROR, "%s: %s; publishing paused, retrying every %d ms",
               s_pause_what(reason), why, S_RESCAN_MS);
    else
        nw_log(NW_LOG_DEBUG, "%s: %s; still paused, retrying in %d ms", s_pause_what(reason), why,
               S_RESCAN_MS);
    d->paused |= reason;
    return S_PAUSE;
}

/* Ends the pause for reason (an S_PAUSED_* bit) once a write of its file worked; publishing
 * resumes when no other reason holds it. Only a write ends it: a sync that succeeds says
 * nothing about room. */
static void s_resume(s_daemon_t *d, unsigned reason)
{
    if (!(d->paused & reason))
        return;
    d->paused &= ~reason;
    if (d->paused)
        nw_log(NW_LOG_INFO, "%s: writable again; publishing stays paused for the %s",
               s_pause_what(reason), s_pause_what(d->paused));
    else
        nw_log(NW_LOG_INFO, "%s: writable again; publishing resumed", s_pause_what(reason));
}

/* Logs a journal failure once per pause; publishing resumes when a later try works. A failed
 * fsync stops the daemon instead (its status is set here, so the caller's S_FATAL keeps
 * it: the first status given to s_stop wins). */
static s_outcome_t s_journal_failed(s_daemon_t *d, int rc)
{
    if (rc == NW_ERR_SYNC || nw_journal_sync_failed(d->journal)) {
        s_stop_on_sync_failure(d);
        return S_FATAL;
    }
    if (rc != NW_ERR_JOURNAL_FULL) {
        nw_log(NW_LOG_ERROR, "journal: %s (%s); stopping", nw_journal_errmsg(d->journal),
               nw_strerror(rc));
        return S_FATAL;
    }
    return s_pause(d, S_PAUSED_JOURNAL, nw_journal_errmsg(d->journal));
}

/* Numbers alert, encodes it into *frame and, with a journal, appends it there. */
static s_outcome_t s_number_and_keep(s_daemon_t *d, nw_alert_t *alert, char **frame, size_t *size)
{
    int rc =
        d->journal ? nw_journal_number(d->journal, alert) : nw_sequencer_number(d->seqr, alert);
    if (rc == NW_OK)
        rc = nw_alert_encode(alert, frame, size);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "alert %s: %s; stopping", alert->id, nw_strerror(rc));
        return S_FATAL;
    }
    if (d->journal == NULL)
        return S_DONE;
    if ((rc = nw_journal_append(d->journal, alert, *frame, *size, s_now_ms())) != NW_OK) {
        free(*frame);
        *frame = NULL;
        return s_journal_failed(d, rc);
    }
    s_resume(d, S_PAUSED_JOURNAL);
    return S_DONE;
}

/* Keeps alert's frame (taking it over) until the group fsync, which sends it (s_commit);
 * sets *sent. */
static s_outcome_t s_hold(s_daemon_t *d, const nw_alert_t *alert, char *frame, size_t size,
                          bool *sent)
{
    s_batch_t *b = &d->batch;
    if (b->n_held == b->cap_held) {
        size_t cap = b->cap_held ? 2 * b->cap_held : 256;
        s_held_t *held = realloc(b->held, cap * sizeof *held);
        if (held == NULL) {
            free(frame);
            nw_log(NW_LOG_ERROR, "alert %s: %s; stopping", alert->id, nw_strerror(NW_ERR_NOMEM));
            return S_FATAL;
        }
        b->held = held;
        b->cap_held = cap;
    }
    b->held[b->n_held++] = (s_held_t){.alert = alert, .frame = frame, .size = size};
    *sent = true;
    return S_DONE;
}

/* The one path every alert takes to the wire: skip it if the journal already holds it
 * (published before a crash), number it, journal it, send it. *sent says whether it went
 * out now. */
static s_outcome_t s_publish_alert(s_daemon_t *d, nw_alert_t *alert, bool *sent)
{
    bool found = false;
    *sent = false;
    if (d->journal != NULL) {
        int rc = nw_journal_contains(d->journal, alert->id, &found);
        if (rc != NW_OK)
            return s_journal_failed(d, rc);
        if (found) {
            nw_log(NW_LOG_DEBUG, "%s already in the journal; not sent again", alert->id);
            return S_DONE;
        }
    }
    char *frame = NULL;
    size_t size = 0;
    s_outcome_t out = s_number_and_keep(d, alert, &frame, &size);
    if (out != S_DONE)
        return out;
    if (d->hold_sends || d->hold_turn)
        return s_hold(d, alert, frame, size, sent);
    int rc = nw_pubsock_send_frame(d->sock, alert, frame, size);
    free(frame);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "alert %s: cannot send: %s; stopping", alert->id, nw_strerror(rc));
        return S_FATAL;
    }
    *sent = true;
    nw_log(NW_LOG_DEBUG, "sent %s seq %llu on %zu topics", alert->id,
           (unsigned long long)alert->seq, alert->n_topics);
    return S_DONE;
}

/* nw_journal_sync, timed for the metrics. */
static int s_journal_sync(s_daemon_t *d)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = nw_journal_sync(d->journal);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    nw_pubmetrics_fsync(d->metrics,
                        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return rc;
}

/* Logs the line the demo and the tests wait for, once the article is fully handled. */
static void s_log_published(const char *name, const s_report_t *r)
{
    if (r->skipped > 0)
        nw_log(NW_LOG_INFO, "%s: %zu of %zu alerts were already in the journal; not sent again",
               name, r->skipped, r->skipped + r->alerts);
    nw_log(NW_LOG_INFO, "published %s: %zu alerts, %zu messages, seq %llu-%llu", name, r->alerts,
           r->messages, (unsigned long long)r->first, (unsigned long long)r->last);
}

static s_outcome_t s_publish_article(s_daemon_t *d, nw_ingest_result_t *res, s_report_t *r)
{
    uint64_t first = s_last_seq(d) + 1;
    size_t messages = 0, sent_count = 0;
    for (size_t i = 0; i < res->n; i++) {
        bool sent;
        s_outcome_t out = s_publish_alert(d, &res->alerts[i], &sent);
        if (out != S_DONE)
            return out;
        if (sent) {
            sent_count++;
            messages += res->alerts[i].n_topics;
        }
    }
    *r = (s_report_t){.alerts = sent_count,
                      .skipped = res->n - sent_count,
                      .messages = messages,
                      .first = sent_count ? first : 0,
                      .last = sent_count ? s_last_seq(d) : 0};
    return S_DONE;
}

/* Publishes res as an update when its identity (its link, else fallback_identity) was
 * published before: only the alerts whose text is new, as the next revision
 * (nw_revisions). An unchanged re-delivery sends nothing. The revision index records the
 * article once all of it is journaled. */
static s_outcome_t s_publish_update(s_daemon_t *d, nw_ingest_result_t *res,
                                    const char *fallback_identity, const char *name, s_report_t *r)
{
    const char *identity = res->alerts[0].url[0] ? res->alerts[0].url : fallback_identity;
    nw_revisions_plan_t plan;
    char err[S_ERR_MAX];
    int rc = nw_revisions_plan(d->revisions, identity, res->alerts, &res->n, &plan);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "%s: %s; stopping", name, nw_strerror(rc));
        return S_FATAL;
    }
    if (res->n == 0) {
        nw_log(NW_LOG_INFO, "%s: unchanged since revision %u of %s; nothing sent", name,
               (unsigned)plan.revision, plan.article_id);
        *r = (s_report_t){0};
        nw_revisions_plan_clear(&plan);
        return S_DONE;
    }
    if (plan.known)
        nw_log(NW_LOG_INFO,
               "%s: update of %s, revision %u: %zu new or changed alerts, %zu unchanged", name,
               plan.article_id, (unsigned)plan.revision, res->n, plan.n_unchanged);
    s_outcome_t out = s_publish_article(d, res, r);
    /* The line carries the journal's last seq, which covers every alert of the article: a
     * restart ignores it if the journal lost any of them. A line that cannot be written
     * pauses publishing as a full journal does, the article left in incoming/ and the index
     * unchanged: a restart, or the retry, plans the same revision with the same ids, and
     * the journal skips the alerts it holds. Going on would let a later update of the
     * article reuse this revision's ids after a restart, which the journal would skip. */
    if (out == S_DONE && (rc = nw_revisions_commit(d->revisions, &plan, s_last_seq(d), s_now_ms(),
                                                   err, sizeof err)) != NW_OK) {
        if (rc == NW_ERR_NOMEM) {
            nw_log(NW_LOG_ERROR, "%s: %s; stopping", name, nw_strerror(rc));
            out = S_FATAL;
        } else {
            out = s_pause(d, S_PAUSED_REVISIONS, err);
        }
    } else if (out == S_DONE && d->journal != NULL) {
        s_resume(d, S_PAUSED_REVISIONS);
    }
    nw_revisions_plan_clear(&plan);
    return out;
}

/* Lets the revision index rewrite itself (nw_revisions_settle) now that the journal's
 * records below its synced seq are on disk (under --journal-fsync never: all of them, as
 * far as that mode promises anything). A failed rewrite loses nothing and is tried again. */
static void s_settle_revisions(s_daemon_t *d)
{
    char err[S_ERR_MAX];
    uint64_t durable = d->opts->journal_fsync == NW_JOURNAL_FSYNC_NEVER
                           ? nw_journal_next_seq(d->journal)
                           : nw_journal_synced_below(d->journal);
    if (nw_revisions_settle(d->revisions, durable, err, sizeof err) != NW_OK)
        nw_log(NW_LOG_WARN, "revisions: %s (the index file is kept as it was)", err);
}

/* Sends the alerts b holds for the group fsync, in order, and forgets them. */
static s_outcome_t s_send_held(s_daemon_t *d, s_batch_t *b)
{
    s_outcome_t out = S_DONE;
    for (size_t i = 0; i < b->n_held; i++) {
        s_held_t *h = &b->held[i];
        int rc =
            out == S_DONE ? nw_pubsock_send_frame(d->sock, h->alert, h->frame, h->size) : NW_OK;
        if (rc != NW_OK) {
            nw_log(NW_LOG_ERROR, "alert %s: cannot send: %s; stopping", h->alert->id,
                   nw_strerror(rc));
            out = S_FATAL;
        }
        free(h->frame);
    }
    b->n_held = 0;
    return out;
}

/* Drops the held alerts unsent (after a commit there are none) and frees the batch's ingest
 * results and names. */
static void s_batch_reset(s_batch_t *b)
{
    for (size_t i = 0; i < b->n_held; i++)
        free(b->held[i].frame);
    b->n_held = 0;
    for (size_t i = 0; i < b->n; i++)
        free(b->names[i]);
    for (size_t i = 0; i < b->n_res; i++)
        nw_ingest_result_clear(&b->res[i]);
    b->n = b->n_res = b->alerts = 0;
}

/* The group commit, on the loop thread: makes every record journaled since the last commit
 * durable with one fsync (none with --journal-fsync never), then sends the alerts held for
 * it (--journal-fsync always). A failed fsync stops the daemon (S_FATAL) with nothing held
 * sent. */
static s_outcome_t s_commit(s_daemon_t *d)
{
    if (d->journal != NULL && d->opts->journal_fsync != NW_JOURNAL_FSYNC_NEVER) {
        /* The journal first: the revision index's lines stand for records on disk. */
        int rc = s_journal_sync(d);
        if (rc != NW_OK)
            return s_journal_failed(d, rc);
        char err[S_ERR_MAX];
        if (nw_revisions_sync(d->revisions, err, sizeof err) != NW_OK) {
            s_stop_on_index_sync_failure(d, err);
            return S_FATAL;
        }
        if (err[0])
            nw_log(NW_LOG_WARN, "revisions: %s", err);
    }
    if (d->journal != NULL)
        s_settle_revisions(d);
    return s_send_held(d, &d->batch);
}

/* The outcome of nw_ingest_file's rc for article name (logged as Latin-1 when read so). */
static s_outcome_t s_ingest_outcome(int rc, const char *name, const nw_ingest_result_t *res,
                                    const char *err)
{
    if (rc == NW_ERR_NOTFOUND)
        return S_GONE;
    if (rc == NW_ERR_NOMEM) {
        nw_log(NW_LOG_ERROR, "%s; stopping", err);
        return S_FATAL;
    }
    if (rc != NW_OK)
        return S_BAD;
    if (res->latin1)
        nw_log(NW_LOG_WARN, "%s: not valid UTF-8, read as Latin-1", name);
    return S_DONE;
}

/* The ingest settings of the current taxonomy, model and rules. */
static nw_ingest_cfg_t s_ingest_cfg(const s_daemon_t *d, bool spool)
{
    return (nw_ingest_cfg_t){.rules = d->rules,
                             .taxonomy = d->taxonomy,
                             .html = d->html,
                             .model = d->model,
                             .max_size = d->opts->max_article_size,
                             .only_plain_files = spool,
                             .tagger_ws = d->tagger_ws};
}

/* Journals (and sends or holds) the alerts of the article just ingested, with outcome out,
 * into the batch's next result slot; *read gets the file it read. On S_DONE the article is
 * the batch's newest entry (the batch owns a copy of name); on S_PAUSE or S_FATAL its
 * result is kept too (held alerts may point into it). */
static s_outcome_t s_process_ingested(s_daemon_t *d, const char *name, s_outcome_t out,
                                      s_file_id_t *read)
{
    s_batch_t *b = &d->batch;
    nw_ingest_result_t *res = &b->res[b->n_res];
    *read = (s_file_id_t){.dev = res->file_dev, .ino = res->file_ino};
    if (out != S_DONE)
        return out;
    char *own = strdup(name);
    if (own == NULL) {
        nw_log(NW_LOG_ERROR, "%s: %s; stopping", name, nw_strerror(NW_ERR_NOMEM));
        nw_ingest_result_clear(res);
        return S_FATAL;
    }
    b->n_res++;
    if ((out = s_publish_update(d, res, name, name, &b->reports[b->n])) != S_DONE) {
        free(own);
        return out;
    }
    b->files[b->n] = *read;
    b->names[b->n++] = own;
    return S_DONE;
}

/* Ingests the article at path (not from the spool) on the loop's thread and publishes it
 * as s_process_ingested does; err holds the reason for S_BAD. */
static s_outcome_t s_process(s_daemon_t *d, const char *path, const char *name, s_file_id_t *read,
                             char *err, size_t errlen)
{
    nw_ingest_cfg_t cfg = s_ingest_cfg(d, false);
    nw_ingest_result_t *res = &d->batch.res[d->batch.n_res];
    int rc = nw_ingest_file(&cfg, path, name, s_now_ms(), res, err, errlen);
    return s_process_ingested(d, name, s_ingest_outcome(rc, name, res, err), read);
}

/* --- Articles from feeds ------------------------------------------------------------- */

/* nw_feeds_article_fn: ingests and publishes one feed item, named in the log by its link
 * (else its guid). Returns NW_OK when the item is done with, published or bad; an error to
 * have it taken again (the journal is paused, or the daemon is stopping). */
static int s_on_feed_article(void *arg, const nw_feed_article_t *a)
{
    s_daemon_t *d = arg;
    if (d->stopping)
        return NW_ERR_STOPPED;
    const char *name = a->link[0] ? a->link : a->guid;
    nw_ingest_cfg_t cfg = s_ingest_cfg(d, false);
    nw_ingest_meta_t meta = {
        .url = a->link, .author = a->author, .article_time_ms = a->published_ms};
    nw_ingest_result_t res;
    char err[S_ERR_MAX];
    int rc =
        nw_ingest_bytes_meta(&cfg, name, a->text, a->len, s_now_ms(), &meta, &res, err, sizeof err);
    if (rc == NW_ERR_NOMEM) {
        nw_log(NW_LOG_ERROR, "%s; stopping", err);
        s_stop(d, NW_PUBD_EXIT_FAILURE);
        return rc;
    }
    if (rc != NW_OK) {
        d->n_failed++;
        nw_pubmetrics_article(d->metrics, false, 0, 0);
        nw_log(NW_LOG_ERROR, "feed %s: %s", a->feed, err);
        return NW_OK;
    }
    s_report_t report;
    s_outcome_t out = s_publish_update(d, &res, a->guid, name, &report);
    /* As for a spool batch: one fsync makes it durable, then held alerts are sent. */
    if ((out == S_DONE || out == S_PAUSE) && !d->stopping && s_commit(d) == S_FATAL)
        out = S_FATAL;
    s_batch_reset(&d->batch);
    nw_ingest_result_clear(&res);
    switch (out) {
    case S_DONE:
        d->n_published++;
        nw_pubmetrics_article(d->metrics, true, report.alerts, report.messages);
        s_log_published(name, &report);
        return NW_OK;
    case S_PAUSE: return NW_ERR_JOURNAL_FULL;
    case S_FATAL: s_stop(d, NW_PUBD_EXIT_FAILURE); return NW_ERR_STOPPED;
    default: d->n_failed++; return NW_OK;
    }
}

/* Starts polling the --feed/--feeds feeds on the loop. */
static int s_open_feeds(s_daemon_t *d)
{
    if (d->opts->n_feeds == 0)
        return NW_PUBD_EXIT_OK;
    nw_feeds_opts_t fo = {.interval_ms = d->opts->feed_interval_ms,
                          .timeout_ms = d->opts->feed_timeout_ms,
                          .max_size = d->opts->feed_max_size,
                          .state_dir = d->opts->journal_dir,
                          .on_article = s_on_feed_article,
                          .arg = d};
    char warn[S_ERR_MAX], err[S_ERR_MAX];
    int rc = nw_feeds_new(&d->loop, &fo, d->opts->feeds, d->opts->n_feeds, &d->feeds, warn,
                          sizeof warn, err, sizeof err);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "%s", err);
        return rc == NW_ERR_INVAL ? NW_PUBD_EXIT_USAGE : NW_PUBD_EXIT_FAILURE;
    }
    if (warn[0])
        nw_log(NW_LOG_WARN, "feeds: %s", warn);
    nw_log(NW_LOG_INFO, "feeds: polling %zu feeds", d->opts->n_feeds);
    return NW_PUBD_EXIT_OK;
}

/* --- Articles from the command line and from the spool ------------------------------ */

/* Processes the next positional file. Returns false when the work must wait (paused). */
static bool s_process_file(s_daemon_t *d, const char *path)
{
    char err[S_ERR_MAX];
    const char *name = strcmp(path, "-") == 0 ? "(stdin)" : path;
    s_file_id_t read;
    s_outcome_t out = s_process(d, path, name, &read, err, sizeof err);
    /* What was journaled is made durable and sent, also before a pause. */
    if ((out == S_DONE || out == S_PAUSE) && !d->stopping && s_commit(d) == S_FATAL)
        out = S_FATAL;
    if (out == S_DONE) {
        d->n_published++;
        nw_pubmetrics_article(d->metrics, true, d->batch.reports[0].alerts,
                              d->batch.reports[0].messages);
        s_log_published(name, &d->batch.reports[0]);
    }
    s_batch_reset(&d->batch);
    switch (out) {
    case S_DONE: break;
    case S_GONE:
    case S_BAD:
        d->n_failed++;
        nw_pubmetrics_article(d->metrics, false, 0, 0);
        nw_log(NW_LOG_ERROR, "%s", err);
        break;
    case S_PAUSE: return false;
    case S_FATAL: s_stop(d, NW_PUBD_EXIT_FAILURE); break;
    }
    return true;
}

/* Moves incoming/name (the file read, when read says which) to failed/ for reason. */
static void s_fail_spool_article(s_daemon_t *d, const char *name, s_file_id_t read,
                                 const char *reason)
{
    char err[S_ERR_MAX];
    bool replaced = false;
    d->n_failed++;
    nw_pubmetrics_article(d->metrics, false, 0, 0);
    int rc = nw_spool_fail(d->spool, name, read.dev, read.ino, reason, &replaced, err, sizeof err);
    if (rc == NW_ERR_NOTFOUND && read.ino != 0) {
        nw_log(NW_LOG_ERROR, "%s; removed from incoming/ before its move to failed/", reason);
        return;
    }
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "%s; spool: %s; stopping", reason, err);
        s_stop(d, NW_PUBD_EXIT_SPOOL);
        return;
    }
    if (replaced) {
        nw_log(NW_LOG_ERROR,
               "%s; the file was replaced in incoming/ meanwhile: the new file is read as a "
               "new article",
               reason);
        d->rescan_wanted = true;
        return;
    }
    nw_log(NW_LOG_ERROR, "%s; moved to failed/", reason);
}

/* Moves article i of b (published) to done/. */
static void s_finish_spool_article(s_daemon_t *d, const s_batch_t *b, size_t i)
{
    char err[S_ERR_MAX];
    const char *name = b->names[i];
    const s_report_t *report = &b->reports[i];
    bool replaced = false;
    int rc =
        nw_spool_done(d->spool, name, b->files[i].dev, b->files[i].ino, &replaced, err, sizeof err);
    if (rc == NW_ERR_NOTFOUND) {
        nw_log(NW_LOG_WARN, "%s: removed from incoming/ before its move to done/", name);
    } else if (rc != NW_OK) {
        /* Left in incoming/, it would be processed again on every rescan. */
        nw_log(NW_LOG_ERROR, "spool: %s; stopping", err);
        s_stop(d, NW_PUBD_EXIT_SPOOL);
        return;
    } else if (replaced) {
        nw_log(NW_LOG_WARN,
               "%s: replaced in incoming/ while it was being published; the new file is "
               "read as a new article",
               name);
        d->rescan_wanted = true;
    }
    d->n_published++;
    nw_pubmetrics_article(d->metrics, true, report->alerts, report->messages);
    s_log_published(name, report);
}

/* Drops the articles read ahead that were not taken (they stay in incoming/). */
static void s_ahead_clear(s_ahead_t *a)
{
    for (size_t i = 0; i < a->n; i++) {
        nw_ingest_result_clear(&a->jobs[i].res);
        free(a->paths[i]);
        a->paths[i] = NULL;
    }
    a->n = a->next = 0;
}

/* Reads and tags jobs[0 .. n) side by side with the current configuration. */
static void s_ahead_read(s_daemon_t *d, nw_ingest_job_t *jobs, size_t n)
{
    nw_ingest_cfg_t cfg = s_ingest_cfg(d, true);
    nw_ingest_pool_run(d->ingest, &cfg, s_now_ms(), jobs, n);
}

/* Reads and tags the next pending articles of incoming/, as many as a turn takes, side by
 * side. A name too long for a path gets no job but its reason. Returns NW_OK or
 * NW_ERR_NOMEM. */
static int s_ahead_fill(s_daemon_t *d)
{
    s_ahead_t *a = d->ahead;
    s_ahead_clear(a);
    a->first = d->next_pending;
    size_t n = d->n_pending - d->next_pending;
    if (n > S_BATCH_ARTICLES - d->batch.n)
        n = S_BATCH_ARTICLES - d->batch.n;
    for (size_t i = 0; i < n; i++) {
        nw_ingest_job_t *job = &a->jobs[i];
        char path[PATH_MAX];
        const char *name = d->pending[a->first + i];
        *job = (nw_ingest_job_t){.name = name};
        a->n++;
        if (nw_spool_incoming_path(d->spool, name, path, sizeof path) != NW_OK) {
            job->rc = NW_ERR_INVAL;
            snprintf(job->err, sizeof job->err, "%s: name too long", name);
        } else if ((a->paths[i] = strdup(path)) == NULL) {
            return NW_ERR_NOMEM;
        }
        job->path = a->paths[i];
    }
    s_ahead_read(d, a->jobs, a->n);
    return NW_OK;
}

/* Takes incoming/name, the next pending name, into the batch (or moves it to failed/), read
 * ahead with the names after it. Returns S_DONE to go on with the next name, S_PAUSE or
 * S_FATAL to end the batch there (the name stays pending). */
static s_outcome_t s_take_spool_name(s_daemon_t *d, const char *name)
{
    s_ahead_t *a = d->ahead;
    if (a->next > 0 && a->first + a->next - 1 == d->next_pending) {
        /* The last article taken is pending again (the journal paused part way into it):
         * read it alone again, keeping the ones read after it. */
        nw_ingest_job_t *again = &a->jobs[--a->next];
        if (again->path != NULL)
            s_ahead_read(d, again, 1);
    } else if ((a->next == a->n || a->first + a->next != d->next_pending) &&
               s_ahead_fill(d) != NW_OK) {
        nw_log(NW_LOG_ERROR, "%s: %s; stopping", name, nw_strerror(NW_ERR_NOMEM));
        return S_FATAL;
    }
    nw_ingest_job_t *job = &a->jobs[a->next++];
    s_file_id_t read = {0};
    s_outcome_t out;
    if (job->path == NULL) {
        out = S_BAD; /* no path for the name */
    } else {
        /* the batch's result slot takes the job's result */
        d->batch.res[d->batch.n_res] = job->res;
        memset(&job->res, 0, sizeof job->res);
        out = s_ingest_outcome(job->rc, name, &d->batch.res[d->batch.n_res], job->err);
        out = s_process_ingested(d, name, out, &read);
    }
    switch (out) {
    case S_BAD: s_fail_spool_article(d, name, read, job->err); return S_DONE;
    case S_GONE: nw_log(NW_LOG_DEBUG, "%s: gone before it was read", name); return S_DONE;
    default: return out;
    }
}

/* Moves b's articles to done/ after their group fsync: sends what they hold (--journal-fsync
 * always), then renames each. Returns S_FATAL when a send failed (the daemon stops). */
static s_outcome_t s_finish_batch(s_daemon_t *d, s_batch_t *b)
{
    s_outcome_t out = d->stopping ? S_DONE : s_send_held(d, b);
    if (!d->stopping) {
        if (d->crash_hook && b->n > 0)
            raise(SIGKILL); /* test hook: a crash between the group fsync and done/ */
        for (size_t i = 0; i < b->n && !d->stopping; i++)
            s_finish_spool_article(d, b, i);
    }
    s_batch_reset(b);
    return out;
}

/* Moves src's articles to the end of dst, when dst has room and both hold only whole
 * articles (no S_PAUSE part way) and no held alerts (interval holds none). Returns false,
 * changing nothing, otherwise. */
static bool s_batch_merge(s_batch_t *dst, s_batch_t *src)
{
    if (dst->n != dst->n_res || src->n != src->n_res || dst->n + src->n > S_QUEUE_ARTICLES ||
        dst->n_held > 0 || src->n_held > 0)
        return false;
    for (size_t i = 0; i < src->n; i++) {
        dst->res[dst->n + i] = src->res[i];
        dst->names[dst->n + i] = src->names[i];
        dst->files[dst->n + i] = src->files[i];
        dst->reports[dst->n + i] = src->reports[i];
    }
    dst->n += src->n;
    dst->n_res = dst->n;
    dst->alerts += src->alerts;
    src->n = src->n_res = src->alerts = 0;
    return true;
}

static void s_swap_batches(s_batch_t *a, s_batch_t *b)
{
    s_batch_t t = *a;
    *a = *b;
    *b = t;
}

/* Starts the group fsync of the queued batch on the thread pool, unless one runs. A sync
 * that cannot start stops the daemon as a failed one does (the batch stays in incoming/). */
static void s_start_sync(s_daemon_t *d)
{
    if (d->stopping || nw_groupsync_busy(d->gsync) || d->queued.n_res == 0)
        return;
    s_swap_batches(&d->queued, &d->syncing);
    int rc = nw_groupsync_start(d->gsync);
    if (rc == NW_OK)
        return;
    if (rc == NW_ERR_SYNC || nw_journal_sync_failed(d->journal)) {
        s_stop_on_sync_failure(d);
    } else if (nw_groupsync_errmsg(d->gsync)[0]) {
        s_stop_on_index_sync_failure(d, nw_groupsync_errmsg(d->gsync));
    } else {
        nw_log(NW_LOG_ERROR, "journal: cannot start the group fsync: %s (%s); stopping",
               nw_journal_errmsg(d->journal), nw_strerror(rc));
        s_stop(d, NW_PUBD_EXIT_FAILURE);
    }
}

static void s_on_work(uv_idle_t *idle);

/* nw_groupsync_done_fn: the syncing batch is durable (or the sync failed: the daemon stops
 * with the batch in incoming/). Finishes it, starts the queued batch's sync and resumes the
 * work, which waited for a free batch slot or for a look at names that were in flight. */
static void s_on_synced(void *arg, int rc, double seconds)
{
    s_daemon_t *d = arg;
    nw_pubmetrics_fsync(d->metrics, seconds);
    /* Under steady load every settle here finds lines of the queued batch the journal has
     * not synced, and the timer's settle waits while a group sync runs: once the index is
     * overdue, one sync on the loop lets it settle (the file stays below
     * 4 * identities + 1024 lines, plus one sync's worth). */
    if (rc != NW_OK && !d->stopping && nw_journal_sync_failed(d->journal))
        s_stop_on_sync_failure(d);
    else if (rc != NW_OK && !d->stopping)
        s_stop_on_index_sync_failure(d, nw_groupsync_errmsg(d->gsync));
    else if (!d->stopping && nw_revisions_settle_overdue(d->revisions) &&
             s_journal_sync(d) != NW_OK)
        s_stop_on_sync_failure(d);
    if (d->stopping) {
        /* Left in incoming/: the restart republishes exactly what the journal lacks. */
        s_batch_reset(&d->syncing);
        s_batch_reset(&d->queued);
        return;
    }
    s_settle_revisions(d);
    if (s_finish_batch(d, &d->syncing) == S_FATAL)
        s_stop(d, NW_PUBD_EXIT_FAILURE);
    if (d->rescan_after_sync) {
        d->rescan_after_sync = false;
        d->rescan_wanted = true;
    }
    s_start_sync(d);
    if (d->stopping)
        return;
    if (d->stop_after_sync && !nw_groupsync_busy(d->gsync))
        s_stop(d, NW_PUBD_EXIT_OK);
    else if (!d->paused) /* a paused journal is retried by the rescan timer, not at once */
        uv_idle_start(&d->work, s_on_work);
}

/* Group commit: takes the waiting articles of incoming/ (at most S_BATCH_ARTICLES, and none
 * once S_BATCH_ALERTS alerts are in), journals all their alerts, makes them durable with one
 * fsync, then moves the articles to done/. An article alone is committed at once: a batch is
 * what is waiting now, never a wait for more. A pause (journal full) part way commits what
 * was journaled before it. Under --journal-fsync interval the fsync runs on the thread pool
 * (nw_groupsync) while the next turns take the next batches, which wait together (queued,
 * up to S_QUEUE_ARTICLES articles) for that fsync to end, then share the next one: the
 * slower the disk, the more articles one fsync covers. Returns false when the work must
 * wait (paused, or the queue is full). */
static bool s_process_spool_batch(s_daemon_t *d)
{
    s_batch_t *b = &d->batch;
    s_outcome_t out = S_DONE;
    if (d->queued.n_res > 0 &&
        (d->queued.n != d->queued.n_res || d->queued.n + S_BATCH_ARTICLES > S_QUEUE_ARTICLES))
        return false; /* s_on_synced resumes the work */
    d->hold_turn = true;
    while (out == S_DONE && !d->stopping && d->next_pending < d->n_pending &&
           b->n < S_BATCH_ARTICLES && b->alerts < S_BATCH_ALERTS) {
        size_t before = b->n;
        if ((out = s_take_spool_name(d, d->pending[d->next_pending])) == S_DONE) {
            d->next_pending++;
            if (b->n > before)
                b->alerts += b->res[b->n - 1].n;
        }
    }
    d->hold_turn = false;
    /* Each alert was journaled before it is sent; without --journal-fsync always the turn's
     * alerts go out now, in order, also before a pause or a stop. A stop that closed the
     * socket leaves them to the subscribers' gap repair (the journal holds them). */
    if (!d->hold_sends && !d->stopping && s_send_held(d, b) == S_FATAL)
        out = S_FATAL;
    /* A stop (sync failure, spool error, out of memory) leaves the batch in incoming/: the
     * restart skips what the journal holds. */
    if (d->gsync != NULL) {
        if (out == S_FATAL)
            s_stop(d, NW_PUBD_EXIT_FAILURE);
        if (d->stopping) {
            s_batch_reset(b);
            return true;
        }
        if (d->queued.n_res == 0 || s_batch_merge(&d->queued, b)) {
            if (d->queued.n_res == 0)
                s_swap_batches(b, &d->queued);
            s_start_sync(d);
            return out != S_PAUSE;
        }
        /* b ends part way into an article (a pause) or memory is short: it is committed
         * here, on the loop thread, which also sends what the batches in flight hold. */
    }
    if (!d->stopping && s_commit(d) == S_FATAL)
        out = S_FATAL;
    if (s_finish_batch(d, b) == S_FATAL)
        out = S_FATAL;
    if (out == S_FATAL)
        s_stop(d, NW_PUBD_EXIT_FAILURE);
    return out != S_PAUSE;
}

static void s_on_rescan_timer(uv_timer_t *timer);

static int s_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Drops from names[0..*n) (freeing them) the articles of the batches in flight: they are
 * still in incoming/ until their group fsync ends and s_on_synced moves them to done/.
 * Returns how many were dropped. */
static size_t s_drop_in_flight(const s_daemon_t *d, char **names, size_t *n)
{
    char *flight[2 * S_QUEUE_ARTICLES];
    size_t n_flight = 0, kept = 0;
    for (size_t i = 0; i < d->queued.n; i++)
        flight[n_flight++] = d->queued.names[i];
    for (size_t i = 0; i < d->syncing.n; i++)
        flight[n_flight++] = d->syncing.names[i];
    if (n_flight == 0)
        return 0;
    qsort(flight, n_flight, sizeof *flight, s_name_cmp);
    for (size_t i = 0; i < *n; i++) {
        if (bsearch(&names[i], flight, n_flight, sizeof *flight, s_name_cmp) != NULL)
            free(names[i]);
        else
            names[kept++] = names[i];
    }
    size_t dropped = *n - kept;
    *n = kept;
    return dropped;
}

/* Lists incoming/ again; the new list replaces what was left of the old one. */
static void s_rescan(s_daemon_t *d)
{
    char err[S_ERR_MAX];
    char **names = NULL;
    size_t n = 0;
    d->rescan_wanted = false;
    int rc = nw_spool_scan(d->spool, &names, &n, err, sizeof err);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "spool: cannot list %s", err);
        return;
    }
    /* Files still being written in place (a plain cp) wait until they stop changing. */
    int64_t wait_ms = -1;
    if (nw_spool_settle(d->spool, names, &n, (int64_t)uv_now(&d->loop), &wait_ms) != NW_OK) {
        nw_log(NW_LOG_ERROR, "spool: out of memory; trying again on the next rescan");
        nw_spool_names_free(&names, n);
        return;
    }
    if (wait_ms > 0) {
        nw_log(NW_LOG_DEBUG, "spool: files still being written; looking again in %lld ms",
               (long long)wait_ms);
        uv_timer_start(&d->rescan, s_on_rescan_timer, (uint64_t)wait_ms, S_RESCAN_MS);
    }
    /* A name in flight now may be re-created after its move to done/: look again then. */
    if (s_drop_in_flight(d, names, &n) > 0)
        d->rescan_after_sync = true;
    s_ahead_clear(d->ahead); /* its jobs name entries of the old listing */
    nw_spool_names_free(&d->pending, d->n_pending);
    d->pending = names;
    d->n_pending = n;
    d->next_pending = 0;
}

/* One unit of work per loop turn, so signals and subscriptions are served between
 * articles and SIGTERM lets the current article finish. */
static void s_on_work(uv_idle_t *idle)
{
    s_daemon_t *d = idle->data;
    if (d->stopping)
        return;
    bool go_on = true;
    if (d->next_file < d->opts->n_files) {
        if ((go_on = s_process_file(d, d->opts->files[d->next_file])))
            d->next_file++;
    } else if (d->stop_after_sync) {
        go_on = false; /* s_on_synced stops the daemon */
    } else {
        /* The batches in flight own their names; s_rescan leaves them out of the listing. */
        if (d->next_pending == d->n_pending && d->rescan_wanted)
            s_rescan(d);
        if (d->next_pending == d->n_pending)
            go_on = false; /* a file event, the timer or s_on_synced resumes the work */
        else
            go_on = s_process_spool_batch(d);
    }
    /* Idle until a file event or the rescan timer; a paused journal is retried then. */
    if (!go_on && !d->stopping)
        uv_idle_stop(idle);
}

static void s_want_rescan(s_daemon_t *d)
{
    if (d->stopping)
        return;
    d->rescan_wanted = true;
    uv_idle_start(&d->work, s_on_work);
}

static void s_on_spool_event(uv_poll_t *handle, int status, int events)
{
    (void)events;
    s_daemon_t *d = handle->data;
    nw_spool_read_events(d->spool); /* what each event says decides when a file is taken */
    if (status < 0)
        nw_log(NW_LOG_WARN, "spool: watching %s: %s", nw_spool_incoming(d->spool),
               uv_strerror(status));
    s_want_rescan(d);
}

static void s_on_rescan_timer(uv_timer_t *timer)
{
    s_want_rescan(timer->data);
}

/* --- Heartbeat, signals, reload -------------------------------------------------------- */

/* Fills *hb from the journal's numbers. Returns NW_OK or NW_ERR_NOMEM (hb zeroed). */
static int s_journal_heartbeat(const s_daemon_t *d, nw_heartbeat_t *hb)
{
    size_t n = nw_journal_topic_count(d->journal);
    memset(hb, 0, sizeof *hb);
    hb->seq = s_last_seq(d);
    hb->time_ms = s_now_ms();
    hb->interval_ms = d->opts->heartbeat_ms;
    hb->stream = strdup(s_stream(d));
    hb->replay = strdup(d->replay ? nw_replay_advertised(d->replay) : "");
    hb->topics = n ? calloc(n, sizeof *hb->topics) : NULL;
    if (hb->stream == NULL || hb->replay == NULL || (n && hb->topics == NULL))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const char *name;
        if (nw_journal_topic_at(d->journal, i, &name, &hb->topics[i].seq) != NW_OK)
            break;
        if ((hb->topics[i].name = strdup(name)) == NULL)
            goto fail;
        hb->n_topics++;
    }
    return NW_OK;
fail:
    nw_heartbeat_clear(hb);
    return NW_ERR_NOMEM;
}

/* Flushes the journal at its interval and applies its retention. A failed sync stops the
 * daemon (s_stop_on_sync_failure). */
static void s_on_journal_timer(uv_timer_t *timer)
{
    s_daemon_t *d = timer->data;
    if (d->stopping)
        return;
    /* A group fsync in flight covers what was appended before it; the next batch's covers
     * the rest. */
    if (d->gsync == NULL || !nw_groupsync_busy(d->gsync)) {
        if (s_journal_sync(d) != NW_OK) {
            s_stop_on_sync_failure(d);
            return;
        }
        s_settle_revisions(d);
    }
    if (nw_journal_retain(d->journal, s_now_ms()) != NW_OK)
        nw_log(NW_LOG_WARN, "journal: %s", nw_journal_errmsg(d->journal));
}

static void s_on_heartbeat(uv_timer_t *timer)
{
    s_daemon_t *d = timer->data;
    nw_heartbeat_t hb;
    int rc = d->journal
                 ? s_journal_heartbeat(d, &hb)
                 : nw_sequencer_heartbeat(d->seqr, s_now_ms(), d->opts->heartbeat_ms, "", &hb);
    if (rc == NW_OK && (rc = nw_pubsock_send_heartbeat(d->sock, &hb)) == NW_OK)
        nw_pubmetrics_heartbeat(d->metrics);
    nw_heartbeat_clear(&hb);
    nw_pubmetrics_sample(d->metrics, d->journal, d->replay, d->sock);
    if (rc != NW_OK)
        nw_log(NW_LOG_WARN, "heartbeat not sent: %s", nw_strerror(rc));
}

static void s_reload_html_rules(s_daemon_t *d)
{
    char err[S_ERR_MAX];
    nw_html_rules_t *rules = NULL;
    const char *path = d->opts->html_rules_path;
    if (nw_ingest_load_html_rules(path, &rules, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, "reload: %s; keeping the previous HTML rules", err);
        return;
    }
    nw_html_rules_destroy(&d->html);
    d->html = rules;
    nw_log(NW_LOG_INFO, "reloaded HTML rules from %s", path ? path : "built-in");
}

static void s_reload(s_daemon_t *d)
{
    char err[S_ERR_MAX];
    nw_taxonomy_t *tax = NULL;
    nw_model_t *model = NULL;
    nw_boilerplate_t *rules = NULL;
    const char *tpath = d->opts->topics_path, *bpath = d->opts->boilerplate_path;
    const char *mpath = d->opts->model_path;
    s_ahead_clear(d->ahead); /* read with what is replaced: read again with what replaces it */
    /* The taxonomy and the model go together: both load, or the old pair stays. */
    if (nw_ingest_load_taxonomy(tpath, &tax, err, sizeof err) != NW_OK ||
        nw_ingest_load_model(mpath, tax, &model, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, "reload: %s; keeping the previous taxonomy and model", err);
        nw_taxonomy_destroy(&tax);
    } else {
        nw_taxonomy_destroy(&d->taxonomy);
        nw_model_destroy(&d->model);
        d->taxonomy = tax;
        d->model = model;
        nw_log(NW_LOG_INFO, "reloaded taxonomy from %s (%zu topics) and model from %s",
               tpath ? tpath : "built-in", nw_taxonomy_topic_count(tax),
               mpath ? mpath : "built-in");
    }
    if (nw_ingest_load_rules(bpath, &rules, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, "reload: %s; keeping the previous boilerplate rules", err);
    } else {
        nw_boilerplate_destroy(&d->rules);
        d->rules = rules;
        nw_log(NW_LOG_INFO, "reloaded boilerplate rules from %s", bpath ? bpath : "built-in");
    }
    s_reload_html_rules(d);
    if (d->zap != NULL)
        nw_zap_reload(d->zap);
}

static void s_on_signal(uv_signal_t *handle, int signum)
{
    s_daemon_t *d = handle->data;
    if (signum == SIGHUP) {
        s_reload(d);
        return;
    }
    if (d->gsync != NULL && !d->stopping && nw_groupsync_busy(d->gsync)) {
        /* The batch being synced (and the one queued) finish first, as a batch does. */
        nw_log(NW_LOG_INFO, "stopping on %s once the group fsync in flight is done",
               signum == SIGINT ? "SIGINT" : "SIGTERM");
        d->stop_after_sync = true;
        return;
    }
    nw_log(NW_LOG_INFO, "stopping on %s", signum == SIGINT ? "SIGINT" : "SIGTERM");
    s_stop(d, NW_PUBD_EXIT_OK);
}

/* --- Start and stop ----------------------------------------------------------------- */

static int s_load_config(s_daemon_t *d)
{
    char err[S_ERR_MAX];
    if (nw_ingest_load_taxonomy(d->opts->topics_path, &d->taxonomy, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, "--topics %s", err);
        return NW_PUBD_EXIT_USAGE;
    }
    if (nw_ingest_load_model(d->opts->model_path, d->taxonomy, &d->model, err, sizeof err) !=
        NW_OK) {
        nw_log(NW_LOG_ERROR, "--model %s", err);
        return NW_PUBD_EXIT_USAGE;
    }
    size_t threads =
        d->opts->ingest_threads ? d->opts->ingest_threads : nw_ingest_pool_default_threads();
    int rc;
    if (nw_tagger_ws_new(&d->tagger_ws) != NW_OK ||
        (d->ahead = calloc(1, sizeof *d->ahead)) == NULL) {
        nw_log(NW_LOG_ERROR, "out of memory");
        return NW_PUBD_EXIT_FAILURE;
    }
    if ((rc = nw_ingest_pool_new(threads, &d->ingest)) != NW_OK) {
        nw_log(NW_LOG_ERROR, "--ingest-threads %zu: cannot start them: %s", threads,
               nw_strerror(rc));
        return NW_PUBD_EXIT_FAILURE;
    }
    if (nw_ingest_load_rules(d->opts->boilerplate_path, &d->rules, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, "--boilerplate %s", err);
        return NW_PUBD_EXIT_USAGE;
    }
    if (nw_ingest_load_html_rules(d->opts->html_rules_path, &d->html, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, "--html-rules %s", err);
        return NW_PUBD_EXIT_USAGE;
    }
    if (nw_spool_open(d->opts->spool_dir, &d->spool, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, "--spool %s", err);
        return NW_PUBD_EXIT_SPOOL;
    }
    return NW_PUBD_EXIT_OK;
}

/* Opens the journal, which owns the stream id and the numbers, and reports what its
 * recovery found. */
static int s_open_journal(s_daemon_t *d)
{
    nw_journal_opts_t jo;
    nw_journal_recovery_t rec;
    nw_journal_opts_default(&jo);
    jo.fsync = d->opts->journal_fsync;
    if (jo.fsync == NW_JOURNAL_FSYNC_INTERVAL) {
        /* Every batch's group commit syncs what it appended, and the timer syncs each
         * second: a sync inside an append would only stall the loop. */
        jo.sync_every = 0;
        jo.sync_interval_ms = 0;
    }
    if (jo.fsync == NW_JOURNAL_FSYNC_ALWAYS) {
        /* Group commit: the daemon syncs once per batch, before it sends any of the batch's
         * alerts (s_commit), instead of the journal syncing in every append. */
        jo.fsync = NW_JOURNAL_FSYNC_INTERVAL;
        jo.sync_every = 0;
        jo.sync_interval_ms = 0;
        d->hold_sends = true;
    }
    if (d->opts->journal_segment_max > 0)
        jo.segment_max = d->opts->journal_segment_max;
    jo.retain_bytes = d->opts->journal_max_size;
    jo.retain_ms = d->opts->journal_max_age_ms;
    memset(&rec, 0, sizeof rec);
    int rc = nw_journal_open(d->opts->journal_dir, &jo, &d->journal, &rec);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "--journal %s: %s", d->opts->journal_dir,
               rec.message[0] ? rec.message : nw_strerror(rc));
        return rc == NW_ERR_NOMEM ? NW_PUBD_EXIT_FAILURE : NW_PUBD_EXIT_SPOOL;
    }
    d->journal_new_stream = rec.created;
    if (rec.message[0]) /* already starts with "journal: " */
        nw_log(NW_LOG_WARN, "%s", rec.message);
    nw_log(NW_LOG_INFO, "journal: %s %s, stream %s, %llu records, next seq %llu",
           rec.created ? "created" : "opened", d->opts->journal_dir,
           nw_journal_stream_id(d->journal),
           (unsigned long long)nw_journal_record_count(d->journal),
           (unsigned long long)nw_journal_next_seq(d->journal));
    return NW_PUBD_EXIT_OK;
}

/* Opens the index of published articles in the journal folder (in memory without one),
 * after the journal: its lines past the journal's next seq are ignored. */
static int s_open_revisions(s_daemon_t *d)
{
    char warn[S_ERR_MAX], err[S_ERR_MAX];
    nw_revisions_opts_t ro = {.dir = d->opts->journal_dir,
                              .max_age_ms = d->opts->journal_max_age_ms,
                              .now_ms = s_now_ms(),
                              .journal_next = d->journal ? nw_journal_next_seq(d->journal) : 0,
                              .journal_new_stream = d->journal_new_stream};
    int rc = nw_revisions_open(&ro, &d->revisions, warn, sizeof warn, err, sizeof err);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "--journal %s", rc == NW_ERR_NOMEM ? nw_strerror(rc) : err);
        return rc == NW_ERR_NOMEM ? NW_PUBD_EXIT_FAILURE : NW_PUBD_EXIT_SPOOL;
    }
    if (warn[0])
        nw_log(NW_LOG_WARN, "revisions: %s", warn);
    if (d->opts->journal_dir != NULL)
        nw_log(NW_LOG_INFO, "revisions: %zu articles known", nw_revisions_count(d->revisions));
    return NW_PUBD_EXIT_OK;
}

/* Picks the stream: the journal's, or without one a new random stream for this run. Opens
 * the revision index after the journal. */
static int s_open_stream(s_daemon_t *d)
{
    if (d->opts->journal_dir != NULL) {
        int status = s_open_journal(d);
        return status != NW_PUBD_EXIT_OK ? status : s_open_revisions(d);
    }
    int status = s_open_revisions(d);
    if (status != NW_PUBD_EXIT_OK)
        return status;
    char stream[NW_STREAM_ID_LEN + 1];
    int rc = nw_stream_id_new(stream);
    if (rc == NW_OK)
        rc = nw_sequencer_new(stream, &d->seqr);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "cannot make a stream id: %s", nw_strerror(rc));
        return NW_PUBD_EXIT_FAILURE;
    }
    nw_log(NW_LOG_WARN, "no journal: alerts cannot be replayed, and a restart is a new stream");
    return NW_PUBD_EXIT_OK;
}

/* With --curve-secret: the ZAP handler for --curve-allow (before any CURVE socket binds), or
 * the log line saying any client key is accepted. Without it: one warning when an endpoint
 * is reachable from other hosts. */
static int s_open_curve(s_daemon_t *d)
{
    char err[S_ERR_MAX];
    const nw_pubd_opts_t *o = d->opts;
    if (o->curve != NULL && o->curve_allow_dir != NULL) {
        int rc = nw_zap_new(&d->loop, d->zctx, o->curve_allow_dir, &d->zap, err, sizeof err);
        if (rc != NW_OK) {
            nw_log(NW_LOG_ERROR, "%s", err);
            return rc == NW_ERR_NOMEM || rc == NW_ERR_UV ? NW_PUBD_EXIT_FAILURE
                                                         : NW_PUBD_EXIT_USAGE;
        }
        return NW_PUBD_EXIT_OK;
    }
    if (o->curve != NULL) {
        nw_log(NW_LOG_WARN, "curve: encrypted, but any client key is accepted (no --curve-allow)");
        return NW_PUBD_EXIT_OK;
    }
    nw_curve_warn_exposed(o->binds, o->n_binds, o->journal_dir != NULL ? o->replay_bind : NULL);
    return NW_PUBD_EXIT_OK;
}

static int s_open_socket(s_daemon_t *d)
{
    char err[S_ERR_MAX];
    if ((d->zctx = zmq_ctx_new()) == NULL) {
        nw_log(NW_LOG_ERROR, "cannot create a ZeroMQ context: %s", zmq_strerror(zmq_errno()));
        return NW_PUBD_EXIT_FAILURE;
    }
    int rc = s_open_curve(d);
    if (rc != NW_PUBD_EXIT_OK)
        return rc;
    nw_pubsock_opts_t so = {.binds = d->opts->binds,
                            .n_binds = d->opts->n_binds,
                            .sndhwm = d->opts->sndhwm,
                            .linger_ms = d->opts->linger_ms,
                            .curve = d->opts->curve};
    rc = nw_pubsock_new(&d->loop, d->zctx, &so, &d->sock, err, sizeof err);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "%s", err);
        return (rc == NW_ERR_ADDRINUSE || rc == NW_ERR_ENDPOINT) ? NW_PUBD_EXIT_ENDPOINT
                                                                 : NW_PUBD_EXIT_FAILURE;
    }
    if (d->opts->metrics_bind != NULL &&
        (rc = nw_pubmetrics_start(d->opts->metrics_bind, d->zctx, d->sock, &d->metrics, err,
                                  sizeof err)) != NW_OK) {
        nw_log(NW_LOG_ERROR, "%s", err);
        return (rc == NW_ERR_ENDPOINT || rc == NW_ERR_INVAL) ? NW_PUBD_EXIT_ENDPOINT
                                                             : NW_PUBD_EXIT_FAILURE;
    }
    return NW_PUBD_EXIT_OK;
}

/* Binds the replay endpoint, when there is a journal to serve and one was asked for. */
static int s_open_replay(s_daemon_t *d)
{
    char err[S_ERR_MAX];
    if (d->journal == NULL || d->opts->replay_bind == NULL)
        return NW_PUBD_EXIT_OK;
    nw_replay_opts_t ro;
    nw_replay_opts_default(&ro);
    ro.curve = d->opts->curve;
    ro.max_per_peer = d->opts->replay_per_client;
    int rc = nw_replay_new(&d->loop, d->zctx, d->opts->replay_bind, d->journal, &ro, &d->replay,
                           err, sizeof err);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "%s", err);
        return (rc == NW_ERR_ADDRINUSE || rc == NW_ERR_ENDPOINT) ? NW_PUBD_EXIT_ENDPOINT
                                                                 : NW_PUBD_EXIT_FAILURE;
    }
    return NW_PUBD_EXIT_OK;
}

static int s_start_signal(s_daemon_t *d, uv_signal_t *handle, int signum)
{
    handle->data = d;
    int rc = uv_signal_init(&d->loop, handle);
    if (rc == 0)
        rc = uv_signal_start(handle, s_on_signal, signum);
    return rc;
}

static int s_start_timer(s_daemon_t *d, uv_timer_t *timer, uv_timer_cb cb, uint64_t period)
{
    timer->data = d;
    int rc = uv_timer_init(&d->loop, timer);
    if (rc == 0)
        rc = uv_timer_start(timer, cb, period, period);
    return rc;
}

static int s_start_handles(s_daemon_t *d)
{
    int rc;
    d->work.data = d;
    d->spool_watch.data = d;
    if ((rc = s_start_signal(d, &d->sigterm, SIGTERM)) != 0 ||
        (rc = s_start_signal(d, &d->sigint, SIGINT)) != 0 ||
        (rc = s_start_signal(d, &d->sighup, SIGHUP)) != 0 ||
        (rc = s_start_timer(d, &d->rescan, s_on_rescan_timer, S_RESCAN_MS)) != 0 ||
        (rc = s_start_timer(d, &d->heartbeat, s_on_heartbeat, d->opts->heartbeat_ms)) != 0 ||
        (d->journal &&
         (rc = s_start_timer(d, &d->journal_timer, s_on_journal_timer, S_JOURNAL_SYNC_MS)) != 0) ||
        (rc = uv_idle_init(&d->loop, &d->work)) != 0) {
        nw_log(NW_LOG_ERROR, "cannot start the event loop: %s", uv_strerror(rc));
        return NW_PUBD_EXIT_FAILURE;
    }
    char err[S_ERR_MAX];
    int fd = nw_spool_watch(d->spool, err, sizeof err);
    if (fd >= 0 && (rc = uv_poll_init(&d->loop, &d->spool_watch, fd)) == 0)
        rc = uv_poll_start(&d->spool_watch, UV_READABLE, s_on_spool_event);
    if (fd >= 0 && rc != 0)
        snprintf(err, sizeof err, "%s: %s", nw_spool_incoming(d->spool), uv_strerror(rc));
    if (fd < 0 || rc != 0)
        nw_log(NW_LOG_WARN, "spool: cannot watch %s; listing it every %d ms instead", err,
               S_RESCAN_MS);
    /* Positional files first, then whatever incoming/ already holds. */
    s_want_rescan(d);
    return NW_PUBD_EXIT_OK;
}

static int s_start(s_daemon_t *d)
{
    int status;
    if ((status = s_load_config(d)) != NW_PUBD_EXIT_OK ||
        (status = s_open_stream(d)) != NW_PUBD_EXIT_OK)
        return status;
    int rc = uv_loop_init(&d->loop);
    if (rc != 0) {
        nw_log(NW_LOG_ERROR, "cannot start the event loop: %s", uv_strerror(rc));
        return NW_PUBD_EXIT_FAILURE;
    }
    d->loop_ready = true;
    /* Under interval only: under always the batch's alerts wait for its fsync, and sending
     * them in a later loop turn would let heartbeats and replays name alerts not sent yet. */
    if (d->journal != NULL && d->opts->journal_fsync == NW_JOURNAL_FSYNC_INTERVAL &&
        nw_groupsync_new(&d->loop, d->journal, d->revisions, s_on_synced, d, &d->gsync) != NW_OK) {
        nw_log(NW_LOG_ERROR, "cannot start the group fsync: %s", nw_strerror(NW_ERR_NOMEM));
        return NW_PUBD_EXIT_FAILURE;
    }
    if ((status = s_open_socket(d)) != NW_PUBD_EXIT_OK ||
        (status = s_open_replay(d)) != NW_PUBD_EXIT_OK ||
        (status = s_start_handles(d)) != NW_PUBD_EXIT_OK ||
        (status = s_open_feeds(d)) != NW_PUBD_EXIT_OK)
        return status;
    nw_log(NW_LOG_INFO, "ready: stream %s, spool %s, %zu topics", s_stream(d),
           nw_spool_dir(d->spool), nw_taxonomy_topic_count(d->taxonomy));
    return NW_PUBD_EXIT_OK;
}

/* Blocks (how = SIG_BLOCK) or unblocks (SIG_UNBLOCK) the signals the daemon handles. Blocked
 * from the start until their uv_signal handlers exist, one that comes during a long start
 * (journal recovery) waits for them instead of killing the daemon with the default action;
 * ZeroMQ's threads, started meanwhile, inherit the mask, so the loop's thread takes them. */
static void s_mask_signals(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(how, &set, NULL);
}

static void s_teardown(s_daemon_t *d)
{
    if (d->loop_ready) {
        /* Let every close callback run, then release the loop. */
        uv_run(&d->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&d->loop) != 0)
            nw_log(NW_LOG_WARN, "event loop closed with handles still open");
    }
    nw_pubmetrics_destroy(&d->metrics);
    /* Waits at most the socket's linger for queued messages to leave. */
    if (d->zctx != NULL)
        zmq_ctx_term(d->zctx);
    nw_spool_names_free(&d->pending, d->n_pending);
    s_batch_reset(&d->batch);
    s_batch_reset(&d->queued);
    s_batch_reset(&d->syncing);
    free(d->batch.held);
    free(d->queued.held);
    free(d->syncing.held);
    nw_groupsync_destroy(&d->gsync);
    /* A failed fsync was reported when it happened; the journal refuses to sync since. */
    if (d->journal != NULL && !nw_journal_sync_failed(d->journal) &&
        nw_journal_sync(d->journal) != NW_OK)
        nw_log(NW_LOG_ERROR, "journal: %s", s_journal_reason(d));
    nw_journal_destroy(&d->journal);
    nw_revisions_destroy(&d->revisions);
    nw_sequencer_destroy(&d->seqr);
    nw_spool_destroy(&d->spool);
    nw_taxonomy_destroy(&d->taxonomy);
    nw_model_destroy(&d->model);
    nw_boilerplate_destroy(&d->rules);
    nw_html_rules_destroy(&d->html);
    nw_tagger_ws_destroy(&d->tagger_ws);
    if (d->ahead != NULL)
        s_ahead_clear(d->ahead);
    free(d->ahead);
    nw_ingest_pool_destroy(&d->ingest);
}

int nw_pubd_run(const nw_pubd_opts_t *opts)
{
    s_daemon_t d;
    memset(&d, 0, sizeof d);
    d.opts = opts;
    /* Test hook (tests/test_delivery.c): SIGKILL between a batch's group fsync and the moves
     * of its articles to done/. */
    d.crash_hook = getenv("NW_TEST_CRASH_BEFORE_DONE") != NULL;
    s_mask_signals(SIG_BLOCK);
    int status = s_start(&d);
    if (status == NW_PUBD_EXIT_OK) {
        s_mask_signals(SIG_UNBLOCK); /* the handlers exist: a pending signal is taken now */
        uv_run(&d.loop, UV_RUN_DEFAULT);
    } else {
        s_stop(&d, status);
    }
    uint64_t last = (d.seqr || d.journal) ? s_last_seq(&d) : 0;
    s_teardown(&d);
    if (status == NW_PUBD_EXIT_OK) {
        status = d.status;
        nw_log(NW_LOG_INFO, "stopped: %llu articles published, %llu failed, last seq %llu",
               (unsigned long long)d.n_published, (unsigned long long)d.n_failed,
               (unsigned long long)last);
    }
    return status;
}
