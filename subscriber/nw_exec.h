/*
 * nw_exec: the --exec hook, one child process per alert.
 *
 * The command line is split into words once, here, by simple shell-like
 * rules (nw_exec_split), and run directly with uv_spawn: no shell ever sees
 * it, and no alert field is ever put in the argument list. The alert
 * reaches the child as one JSON object (and a newline) on its standard
 * input, and its main fields in environment variables:
 *   NW_TOPIC NW_TOPICS NW_ID NW_ARTICLE NW_INDEX NW_KIND NW_PRIORITY NW_TITLE
 *   NW_SOURCE NW_SECTION NW_STREAM NW_SEQ NW_TOPIC_SEQ NW_PUBLISHED
 *   NW_PUBLISHED_MS
 * (the text itself only on stdin). The child's standard output and error
 * go to the subscriber's standard error, keeping its standard output for
 * alerts. At most max_running children run at once; further alerts wait in
 * a queue of at most max_queue and beyond that are dropped with a warning.
 * A command that cannot start or exits non-zero is logged, never fatal.
 * With a timeout (nw_exec_set_timeout), a child still running after it is
 * sent SIGTERM, and SIGKILL if it is still there a grace period later; that
 * is logged (rate-limited, like other failures) and counted, and its slot
 * is free for the next alert as soon as it has exited.
 * The program must ignore SIGPIPE: a command that exits without reading its
 * input must give this module EPIPE, not kill the process.
 */
#ifndef NW_EXEC_H
#define NW_EXEC_H

#include "nw_alert.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct nw_exec_t nw_exec_t;

typedef struct {
    uint64_t started;   /* children spawned */
    uint64_t failed;    /* could not start, exited non-zero, or were killed */
    uint64_t dropped;   /* alerts not run: the queue was full, or at shutdown */
    uint64_t timed_out; /* killed for running past the timeout (also counted in failed) */
} nw_exec_stats_t;

/* Called once the runner has closed everything (nw_exec_close). */
typedef void(nw_exec_closed_fn)(void *arg);

/* Splits cmd into words like a POSIX shell would without expanding anything: blanks
 * separate words; '...' keeps everything literally; "..." keeps everything but lets \
 * escape " \ $ and `; a \ outside quotes escapes the next character. $, `, *, ; and |
 * are plain characters. On success *argv_out is a new NULL-terminated array (free with
 * nw_exec_argv_free) and NW_OK is returned; NW_ERR_INVAL with a message naming --exec in
 * err for an empty command or an unterminated quote or escape; NW_ERR_NOMEM. */
int nw_exec_split(const char *cmd, char ***argv_out, char *err, size_t errlen);

/* Frees an array from nw_exec_split. Safe on NULL. */
void nw_exec_argv_free(char **argv);

/* Creates a runner of cmd on loop. Returns NW_OK with *out set, NW_ERR_INVAL (message in
 * err) for a bad cmd, NW_ERR_UV, NW_ERR_NOMEM. max_running and max_queue must be >= 1. */
int nw_exec_new(uv_loop_t *loop, const char *cmd, unsigned max_running, size_t max_queue,
                nw_exec_t **out, char *err, size_t errlen);

/* Limits how long each child started from now on may run: timeout_ms after its start
 * it gets SIGTERM, and kill_grace_ms after that SIGKILL. timeout_ms 0 (the default) means
 * no limit. */
void nw_exec_set_timeout(nw_exec_t *exec, uint64_t timeout_ms, uint64_t kill_grace_ms);

/* Runs the command for alert (received on topic) now, or queues it; json is the alert
 * already rendered by nw_json_alert (no newline), or NULL to render it here. Returns NW_OK;
 * NW_ERR_TOOBIG when the queue is full (the alert is dropped and counted; the caller
 * warns); NW_ERR_STOPPED after nw_exec_close; NW_ERR_NOMEM. A child that fails to start
 * is reported in the log and counted, not returned. */
int nw_exec_run(nw_exec_t *exec, const nw_alert_t *alert, const char *topic, const char *json);

/* Returns the counters so far. */
nw_exec_stats_t nw_exec_stats(const nw_exec_t *exec);

/* Returns the number of children running now. */
size_t nw_exec_running(const nw_exec_t *exec);

/* Drops the queue, lets running children finish for up to grace_ms, then kills them
 * (SIGKILL); once all have exited and the runner's handles are closed, frees it and calls
 * on_closed(arg) (if not NULL). Sets *exec_p to NULL. Safe on NULL and twice. */
void nw_exec_close(nw_exec_t **exec_p, uint64_t grace_ms, nw_exec_closed_fn *on_closed, void *arg);

#endif
