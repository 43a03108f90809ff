/*
 * nw_subd: the newswire-sub runtime, one run of it.
 *
 * Checks --state, --log and --exec (nw_preflight), builds the delivery path
 * (nw_subsock -> nw_gaps -> nw_catchup per stream, with nw_replays -> nw_deliver
 * -> nw_sinks), connects the SUB socket to every endpoint, then runs a libuv loop
 * until SIGINT/SIGTERM, -C, -W, --probe's heartbeat, the reader of standard output
 * going away, or a failure. Standard output never blocks the loop (nw_stdout).
 * SIGHUP reopens the log. On the way out the state is saved, every handle closed
 * (hooks get a short grace period, a stalled stdout reader one second) and a
 * summary line printed on standard error.
 *
 * Lines other tools rely on (stable wording, see nw_sublog.h and docs/SUBSCRIBER.md):
 *     subscribed; connecting to ENDPOINT[ and more]
 *     gap: stream S topic T: missed seq A-B (N alerts)[; repairing from the journal]
 *     stream S: another publisher joined (P is still publishing); receiving N streams
 *     stream S: new publisher stream, replacing P (silent since): ...
 *     replay: stream S from seq A (ENDPOINT)
 *     caught up: stream S seq A; live
 *     newswire-sub: received N, printed N, filtered N, duplicates N, gaps N (N alerts
 *         missed), bad frames N[, replays N][, exec started N failed N dropped N timed out N]
 * With --probe, one line on standard output:
 *     stream S seq N topics N interval Nms[ replay ENDPOINT]
 */
#ifndef NW_SUBD_H
#define NW_SUBD_H

#include "nw_catchup.h"
#include "nw_curve.h"
#include "nw_filter.h"
#include "nw_logfile.h"
#include "nw_replay_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NW_SUBD_PROGRAM            "newswire-sub" /* starts the summary line and setup errors */
#define NW_SUBD_EXEC_QUEUE         1000  /* alerts waiting for an --exec slot; more are dropped */
#define NW_SUBD_EXEC_TIMEOUT_MS    30000 /* --exec-timeout default */
#define NW_SUBD_EXEC_KILL_GRACE_MS 1000  /* --exec-timeout: SIGTERM to SIGKILL */

/* Exit statuses of the subscriber, documented in --help and docs/SUBSCRIBER.md. */
typedef enum {
    NW_SUBD_EXIT_OK = 0,      /* a signal, -C reached, --probe saw a heartbeat, stdout closed */
    NW_SUBD_EXIT_FAILURE = 1, /* a runtime failure: socket, log file, state, event loop */
    NW_SUBD_EXIT_USAGE = 2,   /* a bad value found at start: --format, --exec, endpoint, a
                                 --state/--log folder that is missing or takes no files */
    NW_SUBD_EXIT_TIMEOUT = 3, /* -W: no alert (with --probe: no heartbeat) in time */
} nw_subd_exit_t;

/* --color. */
typedef enum {
    NW_SUBD_COLOUR_AUTO = 0,   /* only on a terminal, NO_COLOR unset or empty, TERM not dumb */
    NW_SUBD_COLOUR_ALWAYS = 1, /* always */
    NW_SUBD_COLOUR_NEVER = 2,  /* never */
} nw_subd_colour_t;

typedef struct {
    const char *const *endpoints;          /* publishers to connect to (-c) */
    size_t n_endpoints;                    /* entries of endpoints, at least 1 */
    nw_filter_t *filter;                   /* -t, -T, --min-priority (borrowed; remembers what
                                              passed, to drop another topic's copy) */
    const char *format;                    /* --format: text, json or a template */
    nw_subd_colour_t colour;               /* --color */
    const char *log_path;                  /* --log, NULL for none */
    nw_fsync_t fsync;                      /* --fsync */
    bool quiet;                            /* -q: no standard output */
    const char *exec_cmd;                  /* --exec, NULL for none */
    unsigned exec_max;                     /* --exec-max, 1-1024 */
    uint64_t exec_timeout_ms;              /* --exec-timeout, 0 = no limit */
    uint64_t count;                        /* -C, 0 = no limit */
    uint64_t timeout_ms;                   /* -W, 0 = none */
    bool probe;                            /* --probe */
    int rcvhwm;                            /* --rcvhwm, 0 = no limit */
    const char *state_path;                /* --state, NULL for none */
    bool look_back;                        /* --since or --last given */
    nw_replay_request_t back;              /* their range (start, from_seq/since/last) */
    nw_catchup_new_stream_t on_new_stream; /* --on-new-stream */
    const char *replay_ep;                 /* --replay, NULL: the heartbeat's */
    const char *metrics_bind;              /* --metrics-bind HOST:PORT, NULL: no metrics */
    bool compact;                          /* the compact view (nw_compact) instead of format */
    unsigned compact_width;                /* its line width, 0 = no cut */
    unsigned kinds;                        /* --kind mask (nw_kinds), 0 = every kind */
    bool once;                             /* --once: stop once the look-back is delivered */
    const nw_curve_client_t *curve;        /* --curve-server-key/--curve-secret; NULL: plain */
} nw_subd_opts_t;

/* Returns true when alerts go through the live/replay merge (nw_catchup): with --state,
 * --since, --last or --replay, never with --probe. The merge's requests carry at most
 * NW_REPLAY_FILTERS_MAX -t topics, which the caller checks before nw_subd_run. */
bool nw_subd_catchup_wanted(const nw_subd_opts_t *opts);

/* Runs the subscriber until a signal, -C, -W, --probe's heartbeat, a closed standard output
 * or a failure; opts and what it points to must outlive the call. Logs every failure
 * (naming the flag, file or endpoint) before returning, prints the summary line on
 * standard error unless --probe, and returns an nw_subd_exit_t status:
 *     NW_SUBD_EXIT_OK       stopped by SIGINT/SIGTERM, -C reached, --probe saw a
 *                           heartbeat, or the reader of standard output went away
 *     NW_SUBD_EXIT_FAILURE  the loop, socket, --log, --state or --exec could not be set up
 *     NW_SUBD_EXIT_USAGE    a bad --format template or --exec command, an endpoint
 *                           ZeroMQ refuses, or a --state/--log/--exec that cannot work
 *                           (nw_preflight)
 *     NW_SUBD_EXIT_TIMEOUT  -W passed without an alert (with --probe: a heartbeat)
 * Usage: opts.endpoints = eps; opts.n_endpoints = 1; opts.filter = f; ...;
 *        return nw_subd_run(&opts); */
int nw_subd_run(const nw_subd_opts_t *opts);

#endif
