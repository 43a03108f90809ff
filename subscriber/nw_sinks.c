#include "nw_sinks.h"

#include "nw_buf.h"
#include "nw_compact.h"
#include "nw_error.h"
#include "nw_format.h"
#include "nw_log.h"
#include "nw_ratelimit.h"
#include "nw_stdout.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct nw_sinks_t {
    uv_loop_t *loop;        /* for the time of rate-limited messages */
    nw_sinks_opts_t opts;   /* settings and callbacks (strings borrowed) */
    nw_format_t *format;    /* standard output records */
    nw_compact_t *compact;  /* or the compact view, when asked for */
    nw_stdout_t *out;       /* standard output */
    nw_buf_t record;        /* scratch: one record or log line */
    nw_logfile_t *log;      /* --log, or NULL */
    nw_exec_t *exec;        /* --exec, or NULL */
    nw_ratelimit_t log_rl;  /* --log write and sync failures */
    nw_ratelimit_t drop_rl; /* --exec queue-full drops */
    uv_fs_t log_sync;       /* --fsync interval: the log's fdatasync on libuv's thread pool */
    bool closing;           /* nw_sinks_close came while that sync was out: it finishes */
};

static void s_free(nw_sinks_t *s);

/* ------------------------------------------------------------------ standard output */

static void s_stdout_write(const nw_delivery_t *dv, void *self)
{
    nw_sinks_t *s = self;
    nw_buf_reset(&s->record);
    int rc = s->compact != NULL
                 ? nw_compact_alert(s->compact, dv->alert, &s->record)
                 : nw_format_alert(s->format, dv->alert, dv->topic, dv->json, &s->record);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "out of memory formatting alert %s", dv->alert->id);
        return;
    }
    nw_stdout_write(s->out, s->record.data, s->record.len); /* a stalled reader: dropped, and
                                                               said so by nw_stdout */
}

static void s_on_stdout_gone(int err, void *arg)
{
    nw_sinks_t *s = arg;
    (void)err;
    if (s->opts.on_stdout_gone != NULL)
        s->opts.on_stdout_gone(s->opts.arg);
}

void nw_sinks_print(nw_sinks_t *s, const char *text, size_t len)
{
    if (s->out != NULL)
        nw_stdout_write(s->out, text, len);
}

/* ------------------------------------------------------------------ --log */

static void s_log_write(const nw_delivery_t *dv, void *self)
{
    nw_sinks_t *s = self;
    nw_buf_reset(&s->record);
    int rc = nw_buf_append(&s->record, dv->json, dv->json_len);
    if (rc == NW_OK)
        rc = nw_buf_append(&s->record, "\n", 1);
    if (rc == NW_OK)
        rc = nw_logfile_write(s->log, s->record.data, s->record.len);
    /* NW_ERR_SYNC: the line is in the file, only not yet on disk; the next line or tick
     * syncs again. */
    if ((rc == NW_OK || rc == NW_ERR_SYNC) && s->opts.on_logged != NULL)
        s->opts.on_logged(s->record.len, s->opts.arg);
    uint64_t held;
    if (rc == NW_OK || !nw_ratelimit_hit(&s->log_rl, (int64_t)uv_now(s->loop), &held))
        return;
    if (rc == NW_ERR_SYNC)
        nw_log(NW_LOG_ERROR, "--log: %s: alert %s written but not synced: %s (will retry)",
               nw_logfile_path(s->log), dv->alert->id, nw_logfile_sync_error(s->log));
    else
        nw_log(NW_LOG_ERROR, "--log: cannot write %s: %s (alert %s and %zu before it not logged)",
               nw_logfile_path(s->log), nw_strerror(rc), dv->alert->id, nw_logfile_lost(s->log));
}

void nw_sinks_drain(nw_sinks_t *s)
{
    uint64_t held;
    int rc;
    if (s == NULL || s->log == NULL || (rc = nw_logfile_drain(s->log)) == NW_OK ||
        !nw_ratelimit_hit(&s->log_rl, (int64_t)uv_now(s->loop), &held))
        return;
    nw_log(NW_LOG_ERROR, "--log: cannot write %s: %s (%zu alerts not logged)",
           nw_logfile_path(s->log), nw_strerror(rc), nw_logfile_lost(s->log));
}

/* Says so when opening the log cut off a partial last line (left by a SIGKILL). */
static void s_report_repair(const nw_logfile_t *log)
{
    if (nw_logfile_repaired(log) > 0)
        nw_log(NW_LOG_WARN, "--log: %s ended in a partial line (%zu bytes, from a crash); removed",
               nw_logfile_path(log), nw_logfile_repaired(log));
}

void nw_sinks_reopen_log(nw_sinks_t *s)
{
    if (s->log == NULL)
        return;
    int rc = nw_logfile_reopen(s->log);
    if (rc == NW_OK) {
        nw_log(NW_LOG_INFO, "--log: reopened %s", nw_logfile_path(s->log));
        s_report_repair(s->log);
    } else {
        nw_log(NW_LOG_ERROR, "--log: cannot reopen %s: %s; still writing the old file",
               nw_logfile_path(s->log), nw_strerror(rc));
    }
}

/* Says so (rate-limited) when a sync of the log failed: NW_ERR_SYNC for the file in use
 * (retried), NW_ERR_IO for the file a reopen (logrotate) replaced (not retried). */
static void s_report_sync(nw_sinks_t *s, int rc)
{
    uint64_t held;
    if (rc == NW_OK || !nw_ratelimit_hit(&s->log_rl, (int64_t)uv_now(s->loop), &held))
        return;
    if (rc == NW_ERR_IO)
        nw_log(NW_LOG_ERROR,
               "--log: the file rotated away from %s was not synced: %s (its last lines are "
               "left to the kernel's writeback)",
               nw_logfile_path(s->log), nw_logfile_sync_error(s->log));
    else
        nw_log(NW_LOG_ERROR, "--log: %s: written but not synced: %s (will retry)",
               nw_logfile_path(s->log), nw_logfile_sync_error(s->log));
}

static void s_on_log_synced(uv_fs_t *req)
{
    nw_sinks_t *s = req->data;
    int err = req->result < 0 ? (int)-req->result : 0;
    uv_fs_req_cleanup(req);
    s_report_sync(s, nw_logfile_sync_end(s->log, err));
    if (s->closing)
        s_free(s);
}

void nw_sinks_tick(nw_sinks_t *s)
{
    nw_sinks_drain(s);
    if (s->log == NULL)
        return;
    if (s->opts.fsync != NW_FSYNC_INTERVAL) {
        s_report_sync(s, nw_logfile_flush(s->log)); /* always: a failed sync again */
        return;
    }
    /* The second's sync runs on the thread pool: a long fdatasync of a busy log does not
     * hold up the loop, which goes on receiving and writing lines meanwhile. */
    int fd = nw_logfile_sync_begin(s->log);
    if (fd < 0)
        return;
    s->log_sync.data = s;
    int rc = uv_fs_fdatasync(s->loop, &s->log_sync, fd, s_on_log_synced);
    if (rc < 0)
        s_report_sync(s, nw_logfile_sync_end(s->log, -rc));
}

/* ------------------------------------------------------------------ --exec */

static void s_exec_write(const nw_delivery_t *dv, void *self)
{
    nw_sinks_t *s = self;
    if (s->exec == NULL)
        return; /* closed: stopping */
    int rc = nw_exec_run(s->exec, dv->alert, dv->topic, dv->json);
    uint64_t held;
    if (rc != NW_OK && nw_ratelimit_hit(&s->drop_rl, (int64_t)uv_now(s->loop), &held))
        nw_log(NW_LOG_WARN, "--exec: alert %s dropped: %s (%" PRIu64 " dropped in all)",
               dv->alert->id, rc == NW_ERR_TOOBIG ? "too many commands waiting" : nw_strerror(rc),
               nw_exec_stats(s->exec).dropped);
}

/* ------------------------------------------------------------------ life cycle */

static bool s_want_colour(nw_sinks_colour_t colour)
{
    if (colour != NW_SINKS_COLOUR_AUTO)
        return colour == NW_SINKS_COLOUR_ALWAYS;
    const char *no_colour = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    return isatty(STDOUT_FILENO) && (no_colour == NULL || no_colour[0] == '\0') &&
           !(term != NULL && strcmp(term, "dumb") == 0);
}

static int s_open(nw_sinks_t *s, const nw_sinks_opts_t *o, nw_deliver_t *d, char *err,
                  size_t errlen)
{
    int rc = nw_format_new(o->format, s_want_colour(o->colour), &s->format, err, errlen);
    if (rc == NW_OK && o->compact &&
        nw_compact_new(o->compact_width, s_want_colour(o->colour), &s->compact) != NW_OK) {
        snprintf(err, errlen, "out of memory");
        rc = NW_ERR_NOMEM;
    }
    if (rc != NW_OK)
        return rc;
    if ((rc = nw_stdout_new(s->loop, STDOUT_FILENO, s_on_stdout_gone, s, &s->out)) != NW_OK) {
        snprintf(err, errlen, "standard output: %s", nw_strerror(rc));
        return rc;
    }
    if (!o->quiet)
        rc = nw_deliver_add_sink(
            d, &(nw_sink_t){"stdout", nw_format_wants_json(s->format), s_stdout_write, s});
    if (rc == NW_OK && o->log_path != NULL) {
        if ((rc = nw_logfile_open(o->log_path, o->fsync, &s->log)) != NW_OK) {
            snprintf(err, errlen, "--log: cannot open '%s': %s", o->log_path, nw_strerror(rc));
            return rc;
        }
        s_report_repair(s->log);
        rc = nw_deliver_add_sink(d, &(nw_sink_t){"--log", true, s_log_write, s});
    }
    if (rc == NW_OK && o->exec_cmd != NULL) {
        if ((rc = nw_exec_new(s->loop, o->exec_cmd, o->exec_max, o->exec_queue, &s->exec, err,
                              errlen)) != NW_OK)
            return rc;
        nw_exec_set_timeout(s->exec, o->exec_timeout_ms, o->exec_kill_ms);
        rc = nw_deliver_add_sink(d, &(nw_sink_t){"--exec", true, s_exec_write, s});
    }
    if (rc == NW_ERR_TOOBIG)
        snprintf(err, errlen, "too many outputs");
    return rc;
}

int nw_sinks_new(uv_loop_t *loop, const nw_sinks_opts_t *opts, nw_deliver_t *d, nw_sinks_t **out,
                 char *err, size_t errlen)
{
    *out = NULL;
    nw_sinks_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NW_ERR_NOMEM;
    }
    s->loop = loop;
    s->opts = *opts;
    s->log_rl.period_ms = s->drop_rl.period_ms = 1000;
    int rc = s_open(s, opts, d, err, errlen);
    if (rc != NW_OK) {
        nw_sinks_close(&s, 0, 0, NULL);
        return rc;
    }
    *out = s;
    return NW_OK;
}

void nw_sinks_exec_stats(const nw_sinks_t *s, nw_exec_stats_t *stats)
{
    if (s->exec != NULL)
        *stats = nw_exec_stats(s->exec);
}

void nw_sinks_close(nw_sinks_t **s_p, uint64_t stdout_grace_ms, uint64_t exec_grace_ms,
                    nw_exec_stats_t *exec_stats)
{
    if (s_p == NULL || *s_p == NULL)
        return;
    nw_sinks_t *s = *s_p;
    *s_p = NULL;
    if (exec_stats != NULL && s->exec != NULL)
        *exec_stats = nw_exec_stats(s->exec);
    nw_exec_close(&s->exec, exec_grace_ms, NULL, NULL);
    nw_stdout_close(&s->out, stdout_grace_ms, NULL, NULL);
    /* The buffered lines go out now, before the caller saves its state, also when the
     * close itself must wait for a sync. */
    nw_sinks_drain(s);
    if (s->log != NULL && nw_logfile_syncing(s->log))
        s->closing = true; /* s_on_log_synced closes the log once its sync is back */
    else
        s_free(s);
}

/* Closes the log (a final sync) and frees s. */
static void s_free(nw_sinks_t *s)
{
    nw_logfile_close(&s->log);
    nw_format_destroy(&s->format);
    nw_compact_destroy(&s->compact);
    nw_buf_free(&s->record);
    free(s);
}
