/*
 * nw_pubd: the newswire-pub daemon, one run of it.
 *
 * Loads the taxonomy, model and rules, opens the spool, binds the alert
 * socket, then runs a libuv loop until SIGTERM or SIGINT: positional files
 * first, then whatever appears in the spool's incoming/ folder (inotify, an
 * initial scan, and a rescan every few seconds because inotify misses events
 * on some file systems), in name order, a batch of articles per loop turn
 * (read and tagged on --ingest-threads, journaled and sent in order, one
 * group fsync per batch); a file written in place rather than renamed in
 * waits until it stops changing.
 * Each alert goes through one function: skipped if the journal already holds
 * its id (a restart after a crash mid-article publishes the rest, none
 * twice), numbered by the journal, appended to it, then sent. An article
 * moves to done/ only once all its alerts are journaled (and synced, unless
 * the fsync policy is "never"). A journal that cannot be written pauses
 * publishing, loudly, until a retry succeeds; a journal fsync that fails stops the
 * daemon (NW_PUBD_EXIT_JOURNAL_SYNC), since a later fsync succeeding would prove
 * nothing about the records before it. Without a journal
 * (--no-journal) alerts are numbered in memory on a new stream each run.
 * With a journal, a replay endpoint (nw_replay, a ROUTER on the same loop) serves it to
 * subscribers that missed alerts; heartbeats advertise it. It is closed before the
 * journal. A heartbeat goes out every heartbeat_ms. SIGHUP reloads the taxonomy and
 * model (together), the boilerplate and HTML rules and the --curve-allow folder.
 *
 * Log lines other tools rely on (stable wording, see docs/PUBLISHER.md):
 *     listening on ENDPOINT
 *     replay: listening on ENDPOINT
 *     ready: stream ID, spool DIR
 *     subscriber subscribed to 'TOPIC' (N subscriptions)
 *     published NAME: N alerts, M messages, seq A-B
 *     NAME: unchanged since revision N of ARTICLE; nothing sent
 *     feed URL: N items, K new  /  feed URL: REASON; next poll in S s
 *     NAME: REASON; moved to failed/
 *     journal: MESSAGE; publishing paused
 *     journal: fsync failed: MESSAGE; stopping: ...
 *     stopped: N articles published, M failed, last seq S
 *     curve: N client keys allowed (--curve-allow DIR)
 *     curve: refused client key KEY from ADDRESS (not in --curve-allow DIR)
 *     EP[, EP]: not loopback and no --curve-secret: anyone who can reach it reads ...
 */
#ifndef NW_PUBD_H
#define NW_PUBD_H

#include "nw_cert.h"
#include "nw_feeds.h"
#include "nw_journal.h"

#include <stddef.h>
#include <stdint.h>

/* Exit statuses of the daemon, documented in --help and docs/PUBLISHER.md. */
typedef enum {
    NW_PUBD_EXIT_OK = 0,           /* stopped by SIGTERM/SIGINT, or nothing went wrong */
    NW_PUBD_EXIT_FAILURE = 1,      /* a runtime failure (socket, loop, memory, spool moves) */
    NW_PUBD_EXIT_USAGE = 2,        /* bad flag or value, or a taxonomy/boilerplate file is wrong */
    NW_PUBD_EXIT_ENDPOINT = 3,     /* an --bind or --replay-bind endpoint cannot be bound */
    NW_PUBD_EXIT_SPOOL = 4,        /* the spool or journal folder cannot be created or used */
    NW_PUBD_EXIT_JOURNAL_SYNC = 5, /* a journal fsync failed: stopped; restart to recover */
} nw_pubd_exit_t;

typedef struct {
    const char *spool_dir;            /* spool folder, created if missing */
    const char *const *binds;         /* endpoints of the alert socket */
    size_t n_binds;                   /* entries of binds, at least 1 */
    const char *topics_path;          /* taxonomy file, NULL for the built-in one */
    const char *boilerplate_path;     /* boilerplate rules file, NULL for the built-in ones */
    const char *html_rules_path;      /* HTML markup rules file, NULL for the built-in ones */
    const char *model_path;           /* topic model file, NULL for the built-in one, "none" */
    const char *journal_dir;          /* journal folder; NULL runs without one (--no-journal) */
    nw_journal_fsync_t journal_fsync; /* when journal appends are forced to the disk */
    uint64_t journal_segment_max;     /* segment rotation size in bytes; 0 = the default */
    uint64_t journal_max_size;        /* retention: total bytes kept; 0 = no limit */
    int64_t journal_max_age_ms;       /* retention: drop segments older than this; 0 = none */
    const char *replay_bind;          /* replay endpoint; NULL = none (also without journal) */
    unsigned replay_per_client;       /* replays at once per client; 0 = NW_REPLAY_PER_PEER */
    uint32_t heartbeat_ms;            /* heartbeat period */
    int sndhwm;                       /* send high-water mark, messages per subscriber */
    int linger_ms;                    /* how long shutdown may wait to flush queued messages */
    uint64_t max_article_size;        /* bytes; larger articles fail */
    size_t ingest_threads;            /* threads that read and tag spool articles side by side
                                       * (the loop's included); 0 = nw_ingest_pool's default */
    const char *const *files;         /* articles to publish once at start ("-" = stdin) */
    size_t n_files;                   /* entries of files */
    const char *metrics_bind;         /* --metrics-bind HOST:PORT, NULL for no metrics */
    const nw_cert_t *curve;           /* --curve-secret: both endpoints CURVE; NULL: plaintext */
    const char *curve_allow_dir;      /* --curve-allow: client public certificates; NULL: any */
    const nw_feed_source_t *feeds;    /* feeds to poll (--feed, --feeds); NULL when none */
    size_t n_feeds;                   /* entries of feeds */
    uint64_t feed_interval_ms;        /* default poll period; 0 = NW_FEEDS_INTERVAL_DEFAULT_MS */
    uint64_t feed_timeout_ms;         /* one feed or page transfer; 0 = the default */
    uint64_t feed_max_size;           /* bytes of a feed or page; 0 = the default */
} nw_pubd_opts_t;

/* Runs the daemon until it is told to stop or cannot go on. Logs every failure (naming
 * the flag, file or endpoint) before returning. Returns an nw_pubd_exit_t status.
 * SIGTERM, SIGINT and SIGHUP are blocked while it starts and unblocked once their handlers
 * exist (a SIGTERM during the start stops the daemon cleanly once started); when the start
 * fails they are left blocked, so one that came meanwhile does not replace the status. */
int nw_pubd_run(const nw_pubd_opts_t *opts);

#endif
