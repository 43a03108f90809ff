/*
 * nw_sinks: the subscriber's outputs, as sinks of the delivery path
 * (nw_deliver): standard output (a record per alert through nw_format, written
 * by nw_stdout without blocking the loop), the --log file (one JSON line per
 * alert, nw_logfile) and the --exec hook (nw_exec). Each gets the alert's JSON
 * rendered once by nw_deliver. Failures are logged here, at most once a second
 * per kind; a new view is one more sink registered the same way.
 */
#ifndef NW_SINKS_H
#define NW_SINKS_H

#include "nw_deliver.h"
#include "nw_exec.h"
#include "nw_logfile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct nw_sinks_t nw_sinks_t;

/* Colour in the text form (the values of nw_subd_colour_t). */
typedef enum {
    NW_SINKS_COLOUR_AUTO = 0,   /* standard output is a terminal, NO_COLOR unset or empty,
                                   TERM not dumb */
    NW_SINKS_COLOUR_ALWAYS = 1, /* always */
    NW_SINKS_COLOUR_NEVER = 2,  /* never */
} nw_sinks_colour_t;

typedef struct {
    const char *format;       /* --format: text, json or a template */
    bool compact;             /* the compact view (nw_compact) on standard output instead */
    unsigned compact_width;   /* its line width, 0 = no cut */
    nw_sinks_colour_t colour; /* --color: ANSI colour in the text form */
    bool quiet;               /* -q: no records on standard output */
    const char *log_path;     /* --log, or NULL */
    nw_fsync_t fsync;         /* --fsync */
    const char *exec_cmd;     /* --exec, or NULL */
    unsigned exec_max;        /* --exec-max */
    size_t exec_queue;        /* alerts waiting for a slot */
    uint64_t exec_timeout_ms; /* --exec-timeout, 0: none */
    uint64_t exec_kill_ms;    /* SIGTERM to SIGKILL */
    /* A line reached the log (bytes long), e.g. to save the state early. May be NULL. */
    void (*on_logged)(size_t bytes, void *arg);
    /* Standard output failed for good (EPIPE: its reader went away). May be NULL. */
    void (*on_stdout_gone)(void *arg);
    void *arg; /* passed to both */
} nw_sinks_opts_t;

/* Builds the outputs on loop and registers them with d. Returns NW_OK with *out set;
 * NW_ERR_INVAL (a bad --format template or --exec command; err names the flag), another
 * code with err naming the file for a --log that cannot be opened, NW_ERR_UV,
 * NW_ERR_NOMEM. On error nothing is left open. */
int nw_sinks_new(uv_loop_t *loop, const nw_sinks_opts_t *opts, nw_deliver_t *d, nw_sinks_t **out,
                 char *err, size_t errlen);

/* Writes one line of text of the caller's own (--probe's answer) to standard output. */
void nw_sinks_print(nw_sinks_t *s, const char *text, size_t len);

/* SIGHUP: opens the --log path again (after logrotate). Logs the outcome. */
void nw_sinks_reopen_log(nw_sinks_t *s);

/* Writes out the --log lines held in its buffer (a failure is logged, rate-limited). The
 * subscriber calls it once per loop turn and before every state save. Safe on NULL. */
void nw_sinks_drain(nw_sinks_t *s);

/* Each second: syncs the log under --fsync interval on libuv's thread pool, so the loop
 * goes on meanwhile (a failed sync is logged, retried). */
void nw_sinks_tick(nw_sinks_t *s);

/* Copies the --exec hook's counters so far into *stats; leaves it alone without a hook. */
void nw_sinks_exec_stats(const nw_sinks_t *s, nw_exec_stats_t *stats);

/* Stops: standard output is written for at most stdout_grace_ms more, hooks run for at
 * most exec_grace_ms more (both from the loop, after this call), the log is synced and
 * closed (from the loop once a sync in flight is back). *exec_stats (may be NULL) gets the
 * hook's final counters. Frees s (then too) and sets *s_p to NULL. Safe on NULL and twice. */
void nw_sinks_close(nw_sinks_t **s_p, uint64_t stdout_grace_ms, uint64_t exec_grace_ms,
                    nw_exec_stats_t *exec_stats);

#endif
