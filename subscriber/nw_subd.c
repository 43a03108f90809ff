/*
 * nw_subd: the newswire-sub runtime (see nw_subd.h). Every uv handle is embedded in one
 * s_sub_t on nw_subd_run's stack, which outlives the loop; handles reach it through their
 * data pointer.
 */
#include "nw_subd.h"

#include "nw_alert.h"
#include "nw_buf.h"
#include "nw_catchup.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_exec.h"
#include "nw_filter.h"
#include "nw_format.h"
#include "nw_gaps.h"
#include "nw_json.h"
#include "nw_log.h"
#include "nw_logfile.h"
#include "nw_ratelimit.h"
#include "nw_replay_client.h"
#include "nw_replay_msg.h"
#include "nw_state.h"
#include "nw_topic.h"
#include "nw_zwatch.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>
#include <zmq.h>

#define S_EXEC_GRACE_MS    500         /* how long hooks may run on after a stop */
#define S_PROBE_DEFAULT_MS 10000       /* --probe without -W */
#define S_STDOUT_HIGH      (64 * 1024) /* flush stdout at once past this many bytes */
#define S_LOG_WITNESS      (4u << 20)  /* --log tail read at start to mark handled alerts */
#define S_REPLAY_EP_MAX    1024        /* bytes of a resolved replay endpoint */

/* Counters for the summary line. */
typedef struct {
    uint64_t received;   /* alert frames with a valid topic */
    uint64_t printed;    /* alerts that passed the filter and were output */
    uint64_t filtered;   /* alert frames the filter dropped */
    uint64_t duplicates; /* the same alert again: another topic's copy, or an old number */
    uint64_t bad;        /* frames that did not decode */
} s_counts_t;

/* Everything the running subscriber holds; handles reach it through their data. */
typedef struct {
    const nw_subd_opts_t *opts; /* the options (borrowed) */
    uv_loop_t loop;             /* the event loop */
    void *zctx;                 /* ZeroMQ context */
    void *zsock;                /* the SUB socket */
    nw_zwatch_t *watch;         /* zsock on the loop */
    nw_format_t *format;        /* stdout records */
    nw_logfile_t *log;          /* --log, or NULL */
    nw_exec_t *exec;            /* --exec, or NULL */
    nw_exec_stats_t exec_stats; /* taken when exec closes */
    nw_gaps_t *gaps;            /* loss detection */
    uint64_t gap_to;            /* while gaps looks at a frame: the highest global seq a loss
                                   it reports can have (0: unknown) */
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t tick;                 /* each second: rate-limited logs, fsync, silence */
    uv_timer_t idle;                 /* -W, and --probe's bound */
    uv_check_t flush;                /* writes stdout once per loop turn */
    nw_buf_t out;                    /* stdout bytes not yet written */
    nw_buf_t line;                   /* scratch: one JSON line for the log */
    s_counts_t counts;               /* summary counters */
    nw_ratelimit_t bad_rl;           /* bad-frame log lines */
    char bad_reason[160];            /* the last bad frame's fault */
    nw_ratelimit_t log_rl;           /* --log write failures */
    nw_ratelimit_t drop_rl;          /* --exec queue-full drops */
    nw_state_t *state;               /* handled alerts (--state file, or memory) */
    nw_catchup_t *catchup;           /* live/replay merge; NULL without --state/--since/.. */
    nw_replay_client_t *replay;      /* DEALER to the replay endpoint, made lazily */
    char replay_ep[S_REPLAY_EP_MAX]; /* the endpoint replay is connected to */
    nw_replay_request_t filters;     /* the -t topics, for replay requests */
    uint64_t replay_req;             /* req of the request running on replay */
    bool replay_broken;              /* a request could not start: fail it from the loop */
    char replay_why[256];            /* ... and why */
    uv_timer_t save;                 /* --state: saved every NW_STATE_SAVE_MS */
    size_t unsaved;                  /* --log bytes written since the last state save */
    nw_ratelimit_t state_rl;         /* --state save failures */
    nw_ratelimit_t fail_rl;          /* replay failure log lines */
    bool stopping;                   /* s_stop ran */
    nw_curve_watch_t curve_watch;    /* warns when a CURVE connection never comes up */
    bool stdout_gone;                /* standard output failed (EPIPE): write no more */
    bool out_held;                   /* stdout's reader stalled: out waits for the next turn */
    bool stdout_pipe;                /* standard output is a pipe: never block writing it */
    int exit_code;                   /* what nw_subd_run returns */
} s_sub_t;

bool nw_subd_catchup_wanted(const nw_subd_opts_t *o)
{
    return !o->probe && (o->state_path != NULL || o->look_back || o->replay_ep != NULL);
}

/* ------------------------------------------------------------------ output */

static void s_stop(s_sub_t *sub, int exit_code);

/* How long one wait for a stalled reader of standard output lasts before the loop gets a
 * turn (signals, timers), and how long a stop still waits for it before dropping the rest. */
#define S_STDOUT_YIELD_MS 1000
#define S_STDOUT_STEP_MS  100
#define S_STOP_FLUSH_MS   1000

/* True when SIGINT or SIGTERM is pending (they are blocked while we wait for stdout). */
static bool s_stop_signal_pending(void)
{
    sigset_t pending;
    return sigpending(&pending) == 0 &&
           (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1);
}

/* Waits until standard output takes bytes again. SIGINT and SIGTERM are blocked meanwhile
 * and looked for every S_STDOUT_STEP_MS, so a stop is never lost in a write to a reader that
 * does not read. Returns false to give up for now: a stop signal is pending, the wait lasted
 * S_STDOUT_YIELD_MS (the loop gets a turn), or, when stopping, S_STOP_FLUSH_MS in all. */
static bool s_wait_stdout(s_sub_t *sub, int *waited_ms)
{
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, &old);
    int limit = sub->stopping ? S_STOP_FLUSH_MS : *waited_ms + S_STDOUT_YIELD_MS;
    bool ready = false;
    while (!ready && *waited_ms < limit && (sub->stopping || !s_stop_signal_pending())) {
        struct pollfd pfd = {.fd = STDOUT_FILENO, .events = POLLOUT};
        ready = poll(&pfd, 1, S_STDOUT_STEP_MS) > 0;
        *waited_ms += ready ? 0 : S_STDOUT_STEP_MS;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return ready;
}

/* One write to standard output that never blocks on a pipe: a pipe takes up to PIPE_BUF
 * bytes without blocking whenever poll says it is writable. (The descriptor's flags are left
 * alone: it may be shared with stderr or with other processes.) */
static ssize_t s_write_stdout(const s_sub_t *sub, const char *data, size_t len)
{
    if (sub->stdout_pipe) {
        struct pollfd pfd = {.fd = STDOUT_FILENO, .events = POLLOUT};
        if (poll(&pfd, 1, 0) <= 0) {
            errno = EAGAIN;
            return -1;
        }
        len = len < PIPE_BUF ? len : PIPE_BUF;
    }
    return write(STDOUT_FILENO, data, len);
}

/* Writes sub->out to standard output; what a stalled reader does not take stays in sub->out
 * (and sub->out_held is set) until the next loop turn, or is dropped when stopping. A closed
 * pipe (the reader went away, as with `| head`) stops the subscriber. */
static void s_flush_stdout(s_sub_t *sub)
{
    size_t done = 0;
    int waited_ms = 0;
    sub->out_held = false;
    while (done < sub->out.len) {
        ssize_t n = s_write_stdout(sub, sub->out.data + done, sub->out.len - done);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            if (!s_wait_stdout(sub, &waited_ms)) {
                sub->out_held = true;
                break;
            }
        } else if (n < 0 && errno != EINTR) {
            nw_log(errno == EPIPE ? NW_LOG_INFO : NW_LOG_ERROR, "standard output: %s; stopping",
                   strerror(errno));
            sub->stdout_gone = true;
            break;
        }
    }
    if (sub->out_held && sub->stopping) {
        nw_log(NW_LOG_WARN, "standard output: not read for %d ms; %zu bytes dropped", waited_ms,
               sub->out.len - done);
        sub->out_held = false;
        done = sub->out.len;
    }
    if (sub->stdout_gone || done >= sub->out.len) {
        nw_buf_reset(&sub->out);
    } else if (done > 0) {
        memmove(sub->out.data, sub->out.data + done, sub->out.len - done + 1); /* and the NUL */
        sub->out.len -= done;
    }
    if (sub->stdout_gone)
        s_stop(sub, NW_SUBD_EXIT_OK);
}

static void s_on_check(uv_check_t *handle)
{
    s_sub_t *sub = handle->data;
    if (sub->replay_broken && sub->catchup != NULL && !sub->stopping) {
        nw_replay_end_t end = {.req = sub->replay_req, .status = NW_REPLAY_ERROR};
        snprintf(end.error, sizeof end.error, "%s", sub->replay_why);
        sub->replay_broken = false;
        nw_catchup_replay_end(sub->catchup, &end);
    }
    if (sub->out.len > 0 && !sub->stdout_gone)
        s_flush_stdout(sub);
}

/* Says so when opening the log cut off a partial last line (left by a SIGKILL). */
static void s_report_repair(const nw_logfile_t *log)
{
    if (nw_logfile_repaired(log) > 0)
        nw_log(NW_LOG_WARN, "--log: %s ended in a partial line (%zu bytes, from a crash); removed",
               nw_logfile_path(log), nw_logfile_repaired(log));
}

/* ------------------------------------------------------------------ stopping */

static void s_print_summary(s_sub_t *sub)
{
    uint64_t gaps = 0, missed = 0;
    if (sub->gaps != NULL)
        nw_gaps_stats(sub->gaps, &gaps, &missed);
    nw_catchup_stats_t cs = {0};
    if (sub->catchup != NULL)
        nw_catchup_stats(sub->catchup, &cs);
    char replays[96] = "";
    if (sub->catchup != NULL)
        snprintf(replays, sizeof replays, ", replays %" PRIu64, cs.replays);
    char exec[160] = "";
    if (sub->opts->exec_cmd != NULL)
        snprintf(exec, sizeof exec,
                 ", exec started %" PRIu64 " failed %" PRIu64 " dropped %" PRIu64
                 " timed out %" PRIu64,
                 sub->exec_stats.started, sub->exec_stats.failed, sub->exec_stats.dropped,
                 sub->exec_stats.timed_out);
    fprintf(stderr,
            "%s: received %" PRIu64 ", printed %" PRIu64 ", filtered %" PRIu64
            ", duplicates %" PRIu64 ", gaps %" PRIu64 " (%" PRIu64 " alerts missed)"
            ", bad frames %" PRIu64 "%s%s\n",
            NW_SUBD_PROGRAM, sub->counts.received, sub->counts.printed, sub->counts.filtered,
            sub->counts.duplicates + cs.duplicates, gaps, missed, sub->counts.bad, replays, exec);
}

static void s_on_zwatch_closed(void *arg)
{
    s_sub_t *sub = arg;
    zmq_close(sub->zsock); /* linger is 0: returns at once */
    sub->zsock = NULL;
}

static void s_close_handle(uv_handle_t *handle)
{
    if (handle->loop != NULL && !uv_is_closing(handle))
        uv_close(handle, NULL);
}

/* Saves the state one last time: everything marked so far was delivered (the log lines
 * are written); what a replay still hands over after the stop is not delivered, so the
 * state is never saved after this. */
static void s_state_final_save(s_sub_t *sub)
{
    char err[512];
    if (sub->state != NULL && nw_state_save(sub->state, err, sizeof err) != NW_OK)
        nw_log(NW_LOG_ERROR, "--state: %s", err);
}

/* Stops receiving and closes every handle; uv_run returns once the last one is closed
 * (hooks still running get S_EXEC_GRACE_MS). exit_code is what nw_subd_run will return. */
static void s_stop(s_sub_t *sub, int exit_code)
{
    if (sub->stopping)
        return;
    sub->stopping = true;
    sub->exit_code = exit_code;
    if (sub->out.len > 0 && !sub->stdout_gone)
        s_flush_stdout(sub);
    if (sub->watch != NULL)
        nw_zwatch_close(&sub->watch, s_on_zwatch_closed, sub);
    if (sub->exec != NULL) {
        sub->exec_stats = nw_exec_stats(sub->exec);
        nw_exec_close(&sub->exec, S_EXEC_GRACE_MS, NULL, NULL);
    }
    s_state_final_save(sub);
    nw_replay_client_close(&sub->replay, NULL, NULL);
    s_close_handle((uv_handle_t *)&sub->save);
    s_close_handle((uv_handle_t *)&sub->sigint);
    s_close_handle((uv_handle_t *)&sub->sigterm);
    s_close_handle((uv_handle_t *)&sub->sighup);
    s_close_handle((uv_handle_t *)&sub->tick);
    s_close_handle((uv_handle_t *)&sub->idle);
    s_close_handle((uv_handle_t *)&sub->flush);
}

static void s_on_signal(uv_signal_t *handle, int signum)
{
    s_sub_t *sub = handle->data;
    if (signum == SIGHUP) {
        if (sub->log == NULL)
            return;
        int rc = nw_logfile_reopen(sub->log);
        if (rc == NW_OK)
            nw_log(NW_LOG_INFO, "--log: reopened %s", nw_logfile_path(sub->log));
        if (rc == NW_OK)
            s_report_repair(sub->log);
        else
            nw_log(NW_LOG_ERROR, "--log: cannot reopen %s: %s; still writing the old file",
                   nw_logfile_path(sub->log), nw_strerror(rc));
        return;
    }
    nw_log(NW_LOG_DEBUG, "signal %d: stopping", signum);
    s_stop(sub, NW_SUBD_EXIT_OK);
}

static void s_on_idle_timeout(uv_timer_t *handle)
{
    s_sub_t *sub = handle->data;
    double sec = (double)uv_timer_get_repeat(handle) / 1000.0;
    if (sub->opts->probe)
        nw_log(NW_LOG_ERROR, "--probe: no heartbeat within %.3g s", sec);
    else
        nw_log(NW_LOG_INFO, "-W/--timeout: no alert for %.3g s; exiting with status %d", sec,
               NW_SUBD_EXIT_TIMEOUT);
    s_stop(sub, NW_SUBD_EXIT_TIMEOUT);
}

/* ------------------------------------------------------------------ receiving */

/* Counts a frame that did not decode and logs it, at most one line a second. */
static void s_bad(s_sub_t *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_bad(s_sub_t *sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sub->bad_reason, sizeof sub->bad_reason, fmt, ap);
    va_end(ap);
    sub->counts.bad++;
    uint64_t held;
    if (nw_ratelimit_hit(&sub->bad_rl, (int64_t)uv_now(&sub->loop), &held))
        nw_log(NW_LOG_WARN, "bad frame ignored: %s (%" PRIu64 " bad frames so far)",
               sub->bad_reason, sub->counts.bad);
}

static void s_on_gap_event(const nw_gaps_event_t *ev, void *arg)
{
    s_sub_t *sub = arg;
    if (sub->catchup != NULL && (ev->kind == NW_GAPS_MISSED || ev->kind == NW_GAPS_TAIL))
        nw_catchup_gap(sub->catchup, ev->stream, sub->gap_to);
    unsigned long long first = ev->first, last = ev->last;
    char n[128];
    nw_gaps_count_text(ev->first, ev->last, n, sizeof n);
    switch (ev->kind) {
    case NW_GAPS_STREAM_NEW: nw_log(NW_LOG_INFO, "stream %s: receiving", ev->stream); break;
    case NW_GAPS_STREAM_CHANGED:
        nw_log(NW_LOG_WARN,
               "stream %s: new publisher stream (was %s): the publisher restarted or another "
               "one joined",
               ev->stream, ev->previous ? ev->previous : "?");
        break;
    case NW_GAPS_MISSED:
        nw_log(NW_LOG_WARN, "gap: stream %s topic %s: missed seq %llu-%llu (%s)", ev->stream,
               ev->topic, first, last, n);
        break;
    case NW_GAPS_TAIL:
        nw_log(NW_LOG_WARN,
               "gap: stream %s topic %s: heartbeat shows seq %llu-%llu sent but not received "
               "(%s)",
               ev->stream, ev->topic, first, last, n);
        break;
    case NW_GAPS_LATE:
        nw_log(NW_LOG_INFO, "stream %s topic %s: seq %llu arrived late", ev->stream, ev->topic,
               first);
        break;
    case NW_GAPS_SILENT:
        nw_log(NW_LOG_WARN, "stream %s: publisher silent, no heartbeat for %.1f s", ev->stream,
               (double)ev->silent_ms / 1000.0);
        break;
    case NW_GAPS_ALIVE:
        nw_log(NW_LOG_INFO, "stream %s: heartbeats again after %.1f s", ev->stream,
               (double)ev->silent_ms / 1000.0);
        break;
    }
}

static bool s_gaps_subscribed(const char *topic, void *arg)
{
    const s_sub_t *sub = arg;
    return nw_filter_subscribed(sub->opts->filter, topic);
}

static void s_probe_report(s_sub_t *sub, const nw_heartbeat_t *hb)
{
    nw_buf_printf(&sub->out, "stream %s seq %" PRIu64 " topics %zu interval %" PRIu32 "ms%s%s\n",
                  hb->stream, hb->seq, hb->n_topics, hb->interval_ms,
                  hb->replay[0] ? " replay " : "", hb->replay);
    s_stop(sub, NW_SUBD_EXIT_OK);
}

static void s_replay_connect(s_sub_t *sub, const char *advertised);

static void s_on_heartbeat(s_sub_t *sub, const void *data, size_t size)
{
    nw_heartbeat_t hb;
    int rc = nw_heartbeat_decode(data, size, &hb);
    if (rc != NW_OK) {
        s_bad(sub, "heartbeat of %zu bytes: %s", size, nw_strerror(rc));
        return;
    }
    nw_log(NW_LOG_DEBUG, "heartbeat: stream %s seq %" PRIu64, hb.stream, hb.seq);
    sub->curve_watch.heard = true;
    sub->gap_to = hb.seq; /* tail loss: at or below the heartbeat's seq */
    nw_gaps_heartbeat(sub->gaps, &hb, (int64_t)uv_now(&sub->loop));
    sub->gap_to = 0;
    if (sub->catchup != NULL && !sub->stopping) {
        s_replay_connect(sub, hb.replay);
        nw_catchup_heartbeat(sub->catchup, &hb);
    }
    if (sub->opts->probe)
        s_probe_report(sub, &hb);
    nw_heartbeat_clear(&hb);
}

static void s_state_save_now(s_sub_t *sub);

static void s_log_line(s_sub_t *sub, const nw_alert_t *alert, const char *topic)
{
    nw_buf_reset(&sub->line);
    int rc = nw_json_alert(&sub->line, alert, topic);
    if (rc == NW_OK)
        rc = nw_buf_append(&sub->line, "\n", 1);
    if (rc == NW_OK)
        rc = nw_logfile_write(sub->log, sub->line.data, sub->line.len);
    /* The log tail read at start (S_LOG_WITNESS) must cover everything since the last save:
     * a fast stream writes more than that in one save period, so save early. */
    /* NW_ERR_SYNC: the line is in the file, only not yet on disk; the next line or tick
     * syncs again. */
    bool written = rc == NW_OK || rc == NW_ERR_SYNC;
    if (written && sub->catchup != NULL && (sub->unsaved += sub->line.len) > S_LOG_WITNESS / 2)
        s_state_save_now(sub);
    uint64_t held;
    if (rc == NW_OK || !nw_ratelimit_hit(&sub->log_rl, (int64_t)uv_now(&sub->loop), &held))
        return;
    if (rc == NW_ERR_SYNC)
        nw_log(NW_LOG_ERROR, "--log: %s: alert %s written but not synced: %s (will retry)",
               nw_logfile_path(sub->log), alert->id, nw_logfile_sync_error(sub->log));
    else
        nw_log(NW_LOG_ERROR, "--log: cannot write %s: %s (alert %s not logged)",
               nw_logfile_path(sub->log), nw_strerror(rc), alert->id);
}

static void s_exec(s_sub_t *sub, const nw_alert_t *alert, const char *topic)
{
    int rc = nw_exec_run(sub->exec, alert, topic);
    uint64_t held;
    if (rc != NW_OK && nw_ratelimit_hit(&sub->drop_rl, (int64_t)uv_now(&sub->loop), &held))
        nw_log(NW_LOG_WARN, "--exec: alert %s dropped: %s (%" PRIu64 " dropped in all)", alert->id,
               rc == NW_ERR_TOOBIG ? "too many commands waiting" : nw_strerror(rc),
               nw_exec_stats(sub->exec).dropped);
}

/* Outputs an alert that passed the filter. */
static void s_deliver(s_sub_t *sub, const nw_alert_t *alert, const char *topic)
{
    sub->counts.printed++;
    if (!sub->opts->quiet && !sub->stdout_gone &&
        nw_format_alert(sub->format, alert, topic, &sub->out) != NW_OK)
        nw_log(NW_LOG_ERROR, "out of memory formatting alert %s", alert->id);
    if (sub->out.len > S_STDOUT_HIGH && !sub->out_held)
        s_flush_stdout(sub);
    if (sub->log != NULL)
        s_log_line(sub, alert, topic);
    if (sub->exec != NULL)
        s_exec(sub, alert, topic);
    if (sub->opts->timeout_ms > 0)
        uv_timer_again(&sub->idle);
    if (sub->opts->count > 0 && sub->counts.printed >= sub->opts->count)
        s_stop(sub, NW_SUBD_EXIT_OK);
}

/* ------------------------------------------------------------------ delivery guarantees */

/* catchup: an alert not handled before (live or replayed). The filter decides the rest. */
static void s_cu_deliver(const nw_alert_t *alert, const char *topic, void *arg)
{
    s_sub_t *sub = arg;
    if (sub->stopping)
        return; /* -C reached: the state was saved without it */
    nw_filter_verdict_t verdict = nw_filter_check(sub->opts->filter, alert, topic);
    if (verdict == NW_FILTER_DUPLICATE)
        sub->counts.duplicates++;
    else if (verdict != NW_FILTER_PASS)
        sub->counts.filtered++;
    else
        s_deliver(sub, alert, topic);
}

/* A request that cannot go out is failed from the loop (never inside catchup's call). */
static void s_replay_broken(s_sub_t *sub, uint64_t req, const char *why)
{
    sub->replay_req = req;
    sub->replay_broken = true;
    snprintf(sub->replay_why, sizeof sub->replay_why, "%s", why);
}

/* catchup: start a replay (NULL: cancel the running one). */
static void s_cu_request(const nw_replay_request_t *rq, void *arg)
{
    s_sub_t *sub = arg;
    sub->replay_broken = false;
    if (rq == NULL) {
        if (sub->replay != NULL)
            nw_replay_client_cancel(sub->replay);
        return;
    }
    if (sub->replay == NULL) {
        s_replay_broken(sub, rq->req, "the publisher advertises no replay endpoint (see --replay)");
        return;
    }
    int rc = nw_replay_client_start(sub->replay, rq);
    if (rc != NW_OK) {
        s_replay_broken(sub, rq->req, nw_strerror(rc));
        return;
    }
    sub->replay_req = rq->req;
}

/* Saves the state now, so that the stream it just took up is on disk before anything of it
 * is delivered: nw_state_absorb_log marks --log lines only for streams the file knows. */
static void s_state_save_now(s_sub_t *sub)
{
    char err[512];
    uint64_t held;
    if (sub->opts->state_path == NULL)
        return;
    if (nw_state_save(sub->state, err, sizeof err) == NW_OK)
        sub->unsaved = 0;
    else if (nw_ratelimit_hit(&sub->state_rl, (int64_t)uv_now(&sub->loop), &held))
        nw_log(NW_LOG_ERROR, "--state: %s", err);
}

static void s_cu_event(const nw_catchup_event_t *ev, void *arg)
{
    s_sub_t *sub = arg;
    if (ev->kind == NW_CATCHUP_EV_REPLAYING || ev->kind == NW_CATCHUP_EV_LIVE)
        s_state_save_now(sub);
    unsigned long long first = ev->first, last = ev->last;
    uint64_t held;
    switch (ev->kind) {
    case NW_CATCHUP_EV_NEW_STREAM:
        nw_log(NW_LOG_INFO, "stream %s: new to the state, head seq %llu; starting %s", ev->stream,
               first,
               sub->opts->on_new_stream == NW_CATCHUP_BEGINNING ? "from its beginning" : "now");
        break;
    case NW_CATCHUP_EV_REPLAYING:
        if (first > 0 && last > 0)
            nw_log(NW_LOG_INFO, "replay: stream %s seq %llu-%llu (%s)", ev->stream, first, last,
                   sub->replay_ep);
        else if (first > 0)
            nw_log(NW_LOG_INFO, "replay: stream %s from seq %llu (%s)", ev->stream, first,
                   sub->replay_ep);
        else
            nw_log(NW_LOG_INFO, "replay: stream %s, look-back (%s)", ev->stream, sub->replay_ep);
        break;
    case NW_CATCHUP_EV_LIVE:
        nw_log(NW_LOG_INFO, "caught up: stream %s seq %llu; live", ev->stream, first);
        break;
    case NW_CATCHUP_EV_GAP:
        nw_log(NW_LOG_WARN,
               "gap: stream %s topic %s: seq %llu-%llu missing; repairing from the journal",
               ev->stream, ev->topic, first, last);
        break;
    case NW_CATCHUP_EV_LOST:
        nw_log(NW_LOG_WARN,
               "lost: stream %s seq %llu-%llu left the publisher's journal before they could be "
               "replayed",
               ev->stream, first, last);
        break;
    case NW_CATCHUP_EV_BEHIND:
        nw_log(NW_LOG_WARN,
               "stream %s: the publisher's head seq %llu is below ours (%llu): its journal lost "
               "its tail",
               ev->stream, first, last);
        break;
    case NW_CATCHUP_EV_FAILED:
        if (nw_ratelimit_hit(&sub->fail_rl, (int64_t)uv_now(&sub->loop), &held))
            nw_log(NW_LOG_WARN, "replay failed: stream %s: %s; retrying at the next heartbeat",
                   ev->stream, ev->why ? ev->why : "?");
        break;
    case NW_CATCHUP_EV_OVERFLOW:
        nw_log(NW_LOG_WARN,
               "stream %s: %llu live alerts queued during a replay; dropping them, the replay "
               "fetches them",
               ev->stream, first);
        break;
    }
}

static void s_rc_alert(const nw_alert_t *alert, const char *topic, void *arg)
{
    s_sub_t *sub = arg;
    if (!sub->stopping)
        nw_catchup_replayed(sub->catchup, alert, topic);
}

static void s_rc_end(const nw_replay_end_t *end, void *arg)
{
    s_sub_t *sub = arg;
    if (!sub->stopping)
        nw_catchup_replay_end(sub->catchup, end);
}

static void s_rc_failed(const char *why, void *arg)
{
    s_sub_t *sub = arg;
    if (!sub->stopping)
        nw_catchup_replay_failed(sub->catchup, why);
}

/* Makes (or remakes, when it moved) the replay client from --replay or the endpoint a
 * heartbeat advertises. A request running on an old client is failed (catchup retries). */
static void s_replay_connect(s_sub_t *sub, const char *advertised)
{
    char ep[S_REPLAY_EP_MAX];
    if (sub->opts->replay_ep != NULL)
        snprintf(ep, sizeof ep, "%s", sub->opts->replay_ep);
    else if (nw_replay_endpoint_resolve(advertised, sub->opts->endpoints[0], ep, sizeof ep) !=
             NW_OK)
        return;
    if (sub->replay != NULL && strcmp(ep, sub->replay_ep) == 0)
        return;
    if (sub->replay != NULL && nw_replay_client_busy(sub->replay))
        s_replay_broken(sub, sub->replay_req, "the replay endpoint moved");
    nw_replay_client_close(&sub->replay, NULL, NULL);
    nw_replay_client_callbacks_t cb = {s_rc_alert, s_rc_end, s_rc_failed, sub};
    nw_replay_client_opts_t ro = {.curve = sub->opts->curve};
    int rc = nw_replay_client_new(&sub->loop, sub->zctx, ep, &ro, &cb, &sub->replay);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "replay: cannot connect to %s: %s", ep, nw_strerror(rc));
        return;
    }
    snprintf(sub->replay_ep, sizeof sub->replay_ep, "%s", ep);
    nw_log(NW_LOG_DEBUG, "replay endpoint %s", ep);
}

static void s_on_save(uv_timer_t *handle)
{
    s_sub_t *sub = handle->data;
    char err[512];
    uint64_t held;
    bool dirty = nw_state_dirty(sub->state);
    if (nw_state_save_due(sub->state, (int64_t)uv_now(&sub->loop), err, sizeof err) != NW_OK) {
        if (nw_ratelimit_hit(&sub->state_rl, (int64_t)uv_now(&sub->loop), &held))
            nw_log(NW_LOG_ERROR, "--state: %s", err);
    } else if (dirty && !nw_state_dirty(sub->state)) {
        sub->unsaved = 0;
    }
}

/* Opens the state (the file, or memory for a one-off look-back), marks what the --log tail
 * shows as handled, and builds the merge. */
static int s_open_catchup(s_sub_t *sub, char *err, size_t errlen)
{
    const nw_subd_opts_t *o = sub->opts;
    int rc = nw_state_open(o->state_path, &sub->state, err, errlen);
    if (rc != NW_OK)
        return rc;
    size_t marked = 0;
    if (o->state_path != NULL && o->log_path != NULL &&
        (rc = nw_state_absorb_log(sub->state, o->log_path, S_LOG_WITNESS, &marked)) != NW_OK) {
        snprintf(err, errlen, "--log: cannot read %s: %s", o->log_path, nw_strerror(rc));
        return rc;
    }
    if (marked > 0)
        nw_log(NW_LOG_INFO,
               "--state: %zu alerts found in %s after the last save; not delivered again", marked,
               o->log_path);
    const char *const *topics;
    size_t n = nw_filter_includes(o->filter, &topics);
    nw_replay_request_init(&sub->filters);
    for (size_t i = 0; i < n; i++)
        nw_replay_request_add_filter(&sub->filters, topics[i]);
    nw_catchup_opts_t co = {.state = sub->state,
                            .filters = &sub->filters,
                            .look_back = o->look_back ? &o->back : NULL,
                            .on_new_stream = o->on_new_stream};
    nw_catchup_callbacks_t cb = {s_cu_deliver, s_cu_request, s_cu_event, sub};
    if ((rc = nw_catchup_new(&co, &cb, &sub->catchup)) != NW_OK)
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* Decodes, tracks and filters one alert frame that arrived on topic. */
static void s_on_alert(s_sub_t *sub, const char *topic, const void *data, size_t size)
{
    sub->counts.received++;
    if (!nw_filter_subscribed(sub->opts->filter, topic) || sub->opts->probe) {
        sub->counts.filtered++; /* a byte-prefix match only: "defenseless" for "defense" */
        return;
    }
    nw_alert_t alert;
    int rc = nw_alert_decode(data, size, &alert);
    if (rc != NW_OK) {
        s_bad(sub, "alert on '%s' (%zu bytes): %s", topic, size, nw_strerror(rc));
        return;
    }
    int ti = nw_alert_find_topic(&alert, topic);
    if (ti < 0) {
        s_bad(sub, "alert %s arrived on '%s', which is not among its topics", alert.id, topic);
        goto cleanup;
    }
    sub->gap_to = alert.seq > 0 ? alert.seq - 1 : 0; /* a jump: the missing came before it */
    nw_gaps_result_t seen = nw_gaps_alert(sub->gaps, alert.stream, topic, alert.topics[ti].seq,
                                          (int64_t)uv_now(&sub->loop));
    sub->gap_to = 0;
    if (sub->catchup != NULL) {
        /* It dedups by (stream, seq) and calls s_cu_deliver, which applies the filter. */
        if (!sub->stopping && nw_catchup_live(sub->catchup, &alert, topic) != NW_OK)
            nw_log(NW_LOG_ERROR, "out of memory queueing alert; a replay will fetch it");
        goto cleanup;
    }
    nw_filter_verdict_t verdict = nw_filter_check(sub->opts->filter, &alert, topic);
    if (seen == NW_GAPS_OLD || verdict == NW_FILTER_DUPLICATE)
        sub->counts.duplicates++;
    else if (verdict != NW_FILTER_PASS)
        sub->counts.filtered++;
    else
        s_deliver(sub, &alert, topic);
cleanup:
    nw_alert_clear(&alert);
}

/* Routes one two-frame message by its topic frame. */
static void s_on_message(s_sub_t *sub, zmq_msg_t *parts, size_t n)
{
    if (n != 2) {
        s_bad(sub, "%zu frames, expected 2 (topic, alert)", n);
        return;
    }
    const char *frame = zmq_msg_data(&parts[0]);
    size_t len = zmq_msg_size(&parts[0]);
    const void *body = zmq_msg_data(&parts[1]);
    size_t size = zmq_msg_size(&parts[1]);
    if (nw_topic_is_control(frame, len)) {
        if (len == strlen(NW_TOPIC_HEARTBEAT) && memcmp(frame, NW_TOPIC_HEARTBEAT, len) == 0)
            s_on_heartbeat(sub, body, size);
        return; /* other control topics are for later protocol versions */
    }
    if (!nw_topic_valid(frame, len)) {
        s_bad(sub, "topic frame of %zu bytes is not a valid topic", len);
        return;
    }
    char topic[NW_TOPIC_MAX + 1];
    memcpy(topic, frame, len);
    topic[len] = '\0';
    s_on_alert(sub, topic, body, size);
}

/* zwatch: one whole message is waiting. Keeps its first two frames and counts the rest. */
static void s_on_readable(nw_zwatch_t *watch, void *zsock, void *arg)
{
    s_sub_t *sub = arg;
    zmq_msg_t parts[3];
    size_t n = 0;
    bool more = true;
    (void)watch;
    while (more) {
        zmq_msg_t *m = &parts[n < 2 ? n : 2];
        zmq_msg_init(m);
        if (zmq_msg_recv(m, zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(m);
            if (errno != EAGAIN && errno != EINTR)
                nw_log(NW_LOG_ERROR, "receive: %s", zmq_strerror(errno));
            break;
        }
        more = zmq_msg_more(m);
        if (n >= 2)
            zmq_msg_close(m);
        n++;
    }
    if (!more)
        s_on_message(sub, parts, n);
    for (size_t i = 0; i < n && i < 2; i++)
        zmq_msg_close(&parts[i]);
}

static void s_on_tick(uv_timer_t *handle)
{
    s_sub_t *sub = handle->data;
    int64_t now = (int64_t)uv_now(&sub->loop);
    uint64_t held;
    if (nw_ratelimit_pending(&sub->bad_rl, now, &held))
        nw_log(NW_LOG_WARN, "%" PRIu64 " more bad frames ignored (last: %s; %" PRIu64 " so far)",
               held, sub->bad_reason, sub->counts.bad);
    if (sub->log != NULL && nw_logfile_flush(sub->log) != NW_OK &&
        nw_ratelimit_hit(&sub->log_rl, now, &held))
        nw_log(NW_LOG_ERROR, "--log: %s: written but not synced: %s (will retry)",
               nw_logfile_path(sub->log), nw_logfile_sync_error(sub->log));
    nw_gaps_tick(sub->gaps, now);
    nw_curve_watch_tick(&sub->curve_watch, sub->opts->curve, now, sub->opts->endpoints[0]);
}

/* ------------------------------------------------------------------ setup */

static int s_setsockopt_int(void *zsock, int option, int value)
{
    return zmq_setsockopt(zsock, option, &value, sizeof value);
}

static int s_socket_options(void *zsock, int rcvhwm)
{
    /* No ZMQ_MAXMSGSIZE: libzmq 4.3 drops a connection whose peer sends a bigger frame and
     * never reconnects it, so one oversized frame would leave the subscriber deaf for good.
     * Oversized frames are dropped by the decoder instead (NW_FRAME_MAX), and counted. */
    int64_t maxmsg = -1;
    if (s_setsockopt_int(zsock, ZMQ_RCVHWM, rcvhwm) != 0 ||
        s_setsockopt_int(zsock, ZMQ_LINGER, 0) != 0 ||
        s_setsockopt_int(zsock, ZMQ_RECONNECT_IVL, 100) != 0 ||
        s_setsockopt_int(zsock, ZMQ_RECONNECT_IVL_MAX, 2000) != 0 ||
        s_setsockopt_int(zsock, ZMQ_HEARTBEAT_IVL, 5000) != 0 ||
        s_setsockopt_int(zsock, ZMQ_HEARTBEAT_TIMEOUT, 15000) != 0 ||
        zmq_setsockopt(zsock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0)
        return NW_ERR_ZMQ;
    return NW_OK;
}

/* Subscribes to each -t topic (the byte prefix; frames are re-checked) and to the control
 * topics, or to everything. */
static int s_subscribe(s_sub_t *sub)
{
    const char *const *topics;
    size_t n = nw_filter_includes(sub->opts->filter, &topics);
    int rc = 0;
    if (n == 0)
        return zmq_setsockopt(sub->zsock, ZMQ_SUBSCRIBE, "", 0) == 0 ? NW_OK : NW_ERR_ZMQ;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = zmq_setsockopt(sub->zsock, ZMQ_SUBSCRIBE, topics[i], strlen(topics[i]));
    if (rc == 0)
        rc = zmq_setsockopt(sub->zsock, ZMQ_SUBSCRIBE, NW_TOPIC_CONTROL_PREFIX,
                            strlen(NW_TOPIC_CONTROL_PREFIX));
    return rc == 0 ? NW_OK : NW_ERR_ZMQ;
}

static int s_open_socket(s_sub_t *sub)
{
    if ((sub->zctx = zmq_ctx_new()) == NULL ||
        (sub->zsock = zmq_socket(sub->zctx, ZMQ_SUB)) == NULL ||
        s_socket_options(sub->zsock, sub->opts->rcvhwm) != NW_OK ||
        nw_curve_client_apply(sub->zsock, sub->opts->curve) != NW_OK || s_subscribe(sub) != NW_OK) {
        nw_log(NW_LOG_ERROR, "cannot set up the SUB socket: %s", zmq_strerror(errno));
        return NW_ERR_ZMQ;
    }
    for (size_t i = 0; i < sub->opts->n_endpoints; i++) {
        const char *ep = sub->opts->endpoints[i];
        if (zmq_connect(sub->zsock, ep) != 0) {
            nw_log(NW_LOG_ERROR, "-c/--connect: cannot connect to '%s': %s", ep,
                   zmq_strerror(errno));
            return NW_ERR_ENDPOINT;
        }
        nw_log(NW_LOG_DEBUG, "connecting to %s", ep);
    }
    return NW_OK;
}

static bool s_want_colour(const nw_subd_opts_t *o)
{
    if (o->colour != NW_SUBD_COLOUR_AUTO)
        return o->colour == NW_SUBD_COLOUR_ALWAYS;
    const char *no_colour = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    return isatty(STDOUT_FILENO) && (no_colour == NULL || no_colour[0] == '\0') &&
           !(term != NULL && strcmp(term, "dumb") == 0);
}

/* Builds the output side: formatter, log file, exec hook, gap tracker. */
static int s_open_outputs(s_sub_t *sub, char *err, size_t errlen)
{
    const nw_subd_opts_t *o = sub->opts;
    int rc = nw_format_new(o->format, s_want_colour(o), &sub->format, err, errlen);
    if (rc != NW_OK)
        return rc;
    if (o->log_path != NULL && (rc = nw_logfile_open(o->log_path, o->fsync, &sub->log)) != 0) {
        snprintf(err, errlen, "--log: cannot open '%s': %s", o->log_path, nw_strerror(rc));
        return rc;
    }
    if (sub->log != NULL)
        s_report_repair(sub->log);
    if (o->exec_cmd != NULL &&
        (rc = nw_exec_new(&sub->loop, o->exec_cmd, o->exec_max, NW_SUBD_EXEC_QUEUE, &sub->exec, err,
                          errlen)) != NW_OK)
        return rc;
    if (sub->exec != NULL)
        nw_exec_set_timeout(sub->exec, o->exec_timeout_ms, NW_SUBD_EXEC_KILL_GRACE_MS);
    if ((rc = nw_gaps_new(s_on_gap_event, s_gaps_subscribed, sub, &sub->gaps)) != NW_OK) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    return nw_subd_catchup_wanted(o) ? s_open_catchup(sub, err, errlen) : NW_OK;
}

static int s_start_handles(s_sub_t *sub)
{
    const nw_subd_opts_t *o = sub->opts;
    uv_handle_t *handles[] = {(uv_handle_t *)&sub->sigint, (uv_handle_t *)&sub->sigterm,
                              (uv_handle_t *)&sub->sighup, (uv_handle_t *)&sub->tick,
                              (uv_handle_t *)&sub->idle,   (uv_handle_t *)&sub->flush};
    uv_signal_init(&sub->loop, &sub->sigint);
    uv_signal_init(&sub->loop, &sub->sigterm);
    uv_signal_init(&sub->loop, &sub->sighup);
    uv_timer_init(&sub->loop, &sub->tick);
    uv_timer_init(&sub->loop, &sub->idle);
    uv_check_init(&sub->loop, &sub->flush);
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
        handles[i]->data = sub;
    int rc = uv_signal_start(&sub->sigint, s_on_signal, SIGINT);
    rc = rc ? rc : uv_signal_start(&sub->sigterm, s_on_signal, SIGTERM);
    rc = rc ? rc : uv_signal_start(&sub->sighup, s_on_signal, SIGHUP);
    rc = rc ? rc : uv_timer_start(&sub->tick, s_on_tick, 1000, 1000);
    rc = rc ? rc : uv_check_start(&sub->flush, s_on_check);
    uint64_t idle_ms = o->timeout_ms ? o->timeout_ms : (o->probe ? S_PROBE_DEFAULT_MS : 0);
    if (rc == 0 && idle_ms > 0)
        rc = uv_timer_start(&sub->idle, s_on_idle_timeout, idle_ms, idle_ms);
    if (rc == 0 && o->state_path != NULL && sub->catchup != NULL) {
        sub->save.data = sub;
        rc = uv_timer_init(&sub->loop, &sub->save);
        rc = rc ? rc : uv_timer_start(&sub->save, s_on_save, NW_STATE_SAVE_MS, NW_STATE_SAVE_MS);
    }
    if (rc == 0 && nw_zwatch_new(&sub->loop, sub->zsock, 0, s_on_readable, sub, &sub->watch) != 0)
        rc = UV_ENOMEM;
    if (rc == 0 && nw_zwatch_start(sub->watch) != NW_OK)
        rc = UV_EINVAL;
    if (rc != 0)
        nw_log(NW_LOG_ERROR, "cannot start the event loop: %s", uv_strerror(rc));
    return rc == 0 ? NW_OK : NW_ERR_UV;
}

int nw_subd_run(const nw_subd_opts_t *opts)
{
    s_sub_t sub = {.opts = opts, .exit_code = NW_SUBD_EXIT_OK};
    sub.bad_rl.period_ms = sub.log_rl.period_ms = sub.drop_rl.period_ms = 1000;
    sub.state_rl.period_ms = sub.fail_rl.period_ms = 5000;
    char err[512] = "";
    int status = NW_SUBD_EXIT_FAILURE;
    struct stat st;
    sub.stdout_pipe = fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode);
    if (uv_loop_init(&sub.loop) != 0) {
        nw_log(NW_LOG_ERROR, "cannot create the event loop");
        return NW_SUBD_EXIT_FAILURE;
    }
    int rc = s_open_outputs(&sub, err, sizeof err);
    if (rc != NW_OK) {
        fprintf(stderr, "%s: %s\n", NW_SUBD_PROGRAM, err);
        status = rc == NW_ERR_INVAL ? NW_SUBD_EXIT_USAGE : NW_SUBD_EXIT_FAILURE;
        goto cleanup;
    }
    if ((rc = s_open_socket(&sub)) != NW_OK) {
        status = rc == NW_ERR_ENDPOINT ? NW_SUBD_EXIT_USAGE : NW_SUBD_EXIT_FAILURE;
        goto cleanup;
    }
    if (s_start_handles(&sub) != NW_OK) {
        s_stop(&sub, NW_SUBD_EXIT_FAILURE);
        uv_run(&sub.loop, UV_RUN_DEFAULT);
        goto cleanup;
    }
    nw_log(NW_LOG_INFO, "subscribed; connecting to %s%s", opts->endpoints[0],
           opts->n_endpoints > 1 ? " and more" : "");
    uv_run(&sub.loop, UV_RUN_DEFAULT);
    status = sub.exit_code;
    if (sub.out.len > 0 && !sub.stdout_gone)
        s_flush_stdout(&sub);
    if (!opts->probe)
        s_print_summary(&sub);
cleanup:
    if (sub.watch != NULL || sub.exec != NULL) {
        s_stop(&sub, status);
        uv_run(&sub.loop, UV_RUN_DEFAULT);
    }
    if (uv_loop_close(&sub.loop) != 0)
        nw_log(NW_LOG_DEBUG, "event loop closed with handles open");
    if (sub.zsock != NULL)
        zmq_close(sub.zsock);
    if (sub.zctx != NULL)
        zmq_ctx_term(sub.zctx);
    nw_catchup_destroy(&sub.catchup);
    nw_state_destroy(&sub.state);
    nw_logfile_close(&sub.log);
    nw_format_destroy(&sub.format);
    nw_gaps_destroy(&sub.gaps);
    nw_buf_free(&sub.out);
    nw_buf_free(&sub.line);
    return status;
}
