/*
 * nw_subd: the newswire-sub runtime (see nw_subd.h). It builds the modules, wires them
 * together through their callbacks and owns the loop, the signals and the timers:
 *
 *   nw_subsock (SUB socket: split, decode) -> nw_gaps (the one loss detector; its loss
 *   events start repairs) -> nw_catchup (per stream: merge with replays from nw_replays,
 *   dedup by stream and seq; report only without --state/--since/--last/--replay) ->
 *   nw_deliver (filter, dedup, JSON once) -> nw_sinks (stdout, --log, --exec)
 *
 * Every uv handle here is embedded in one s_sub_t on nw_subd_run's stack, which outlives
 * the loop; handles reach it through their data pointer.
 */
#include "nw_subd.h"

#include "nw_nopub.h"
#include "nw_submetrics.h"

#include "nw_catchup.h"
#include "nw_deliver.h"
#include "nw_error.h"
#include "nw_gaps.h"
#include "nw_log.h"
#include "nw_preflight.h"
#include "nw_ratelimit.h"
#include "nw_replays.h"
#include "nw_sinks.h"
#include "nw_state.h"
#include "nw_sublog.h"
#include "nw_subsock.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <uv.h>
#include <zmq.h>

#define S_EXEC_GRACE_MS    500        /* how long hooks may run on after a stop */
#define S_STOP_FLUSH_MS    1000       /* how long a stop waits for a stalled stdout reader */
#define S_PROBE_DEFAULT_MS 10000      /* --probe without -W */
#define S_LOG_WITNESS      (4u << 20) /* --log tail read at start to mark handled alerts */

/* The running subscriber: the modules it wired and the handles it owns. */
typedef struct {
    const nw_subd_opts_t *opts;  /* the options (borrowed) */
    uv_loop_t loop;              /* the event loop */
    void *zctx;                  /* ZeroMQ context */
    nw_subsock_t *sock;          /* the SUB socket */
    nw_subsock_stats_t sock_end; /* its counters, taken when it closes */
    nw_gaps_t *gaps;             /* the loss detector */
    nw_state_t *state;           /* handled alerts (--state file, or memory) */
    nw_catchup_t *catchup;       /* per-stream live/replay merge */
    nw_replays_t *replays;       /* a replay client per stream; NULL when report only */
    nw_replay_request_t filters; /* the -t topics, for replay requests */
    nw_deliver_t *deliver;       /* filter, dedup, JSON once, to the sinks */
    nw_sinks_t *sinks;           /* standard output, --log, --exec */
    nw_exec_stats_t exec_end;    /* the hook's counters, taken when it closes */
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t tick;          /* each second: rate-limited logs, fsync, silence */
    uv_timer_t idle;          /* -W, and --probe's bound */
    uv_timer_t save;          /* --state: saved every NW_STATE_SAVE_MS */
    uv_prepare_t drain;       /* each loop turn before it waits: the --log lines buffered */
    size_t unsaved;           /* --log bytes written since the last state save */
    nw_ratelimit_t state_rl;  /* --state save failures */
    nw_ratelimit_t fail_rl;   /* replay failure log lines */
    nw_submetrics_t *metrics; /* --metrics-bind, or NULL */
    nw_nopub_t nopub;         /* warns once when no publisher is ever heard */
    bool stopping;            /* s_stop ran */
    int exit_code;            /* what nw_subd_run returns */
} s_sub_t;

bool nw_subd_catchup_wanted(const nw_subd_opts_t *o)
{
    return !o->probe && (o->state_path != NULL || o->look_back || o->replay_ep != NULL);
}

/* The --state file in use (never with --probe), or NULL. */
static const char *s_state_file(const nw_subd_opts_t *o)
{
    return o->probe ? NULL : o->state_path;
}

/* ------------------------------------------------------------------ state */

/* Saves the state now, so that the stream it just took up is on disk before anything of it
 * is delivered: nw_state_absorb_log marks --log lines only for streams the file knows. */
static void s_state_save_now(s_sub_t *sub)
{
    char err[512];
    uint64_t held;
    if (s_state_file(sub->opts) == NULL)
        return;
    nw_sinks_drain(sub->sinks); /* the state must not mark a line still in the buffer */
    if (nw_state_save(sub->state, err, sizeof err) == NW_OK)
        sub->unsaved = 0;
    else if (nw_ratelimit_hit(&sub->state_rl, (int64_t)uv_now(&sub->loop), &held))
        nw_log(NW_LOG_ERROR, "--state: %s", err);
}

static void s_on_save(uv_timer_t *handle)
{
    s_sub_t *sub = handle->data;
    char err[512];
    uint64_t held;
    bool dirty = nw_state_dirty(sub->state);
    nw_sinks_drain(sub->sinks);
    if (nw_state_save_due(sub->state, (int64_t)uv_now(&sub->loop), err, sizeof err) != NW_OK) {
        if (nw_ratelimit_hit(&sub->state_rl, (int64_t)uv_now(&sub->loop), &held))
            nw_log(NW_LOG_ERROR, "--state: %s", err);
    } else if (dirty && !nw_state_dirty(sub->state)) {
        sub->unsaved = 0;
    }
}

/* sinks: a line reached the log. The log tail read at start (S_LOG_WITNESS) must cover
 * everything since the last save: a fast stream writes more than that in one save period,
 * so save early. */
static void s_on_logged(size_t bytes, void *arg)
{
    s_sub_t *sub = arg;
    if (s_state_file(sub->opts) != NULL && (sub->unsaved += bytes) > S_LOG_WITNESS / 2)
        s_state_save_now(sub);
}

/* ------------------------------------------------------------------ stopping */

/* The counters of the whole delivery path, in one struct: what nw_deliver counted plus what
 * the stages before it (socket, catch-up) dropped. */
static nw_deliver_counts_t s_counts(const s_sub_t *sub)
{
    nw_catchup_stats_t cs;
    nw_catchup_stats(sub->catchup, &cs);
    nw_subsock_stats_t ss = sub->sock != NULL ? nw_subsock_stats(sub->sock) : sub->sock_end;
    nw_deliver_counts_t c = *nw_deliver_counts(sub->deliver);
    c.received += ss.received;
    c.filtered += ss.filtered;
    c.duplicates += cs.duplicates;
    c.bad += ss.bad;
    return c;
}

/* --metrics-bind: the summary line's totals into the metrics. */
static void s_metrics_update(const s_sub_t *sub)
{
    if (sub->metrics == NULL)
        return;
    nw_deliver_counts_t c = s_counts(sub);
    nw_submetrics_counts_t m = {.received = c.received,
                                .printed = c.delivered,
                                .filtered = c.filtered,
                                .duplicates = c.duplicates,
                                .bad = c.bad};
    nw_gaps_stats(sub->gaps, &m.gaps, &m.missed);
    nw_exec_stats_t es = sub->exec_end;
    if (sub->sinks != NULL)
        nw_sinks_exec_stats(sub->sinks, &es);
    m.exec_runs = es.started;
    m.exec_failures = es.failed;
    nw_submetrics_update(sub->metrics, &m);
}

/* A sink of the delivery path: each delivered alert's lag into the metrics. */
static void s_metrics_write(const nw_delivery_t *dv, void *self)
{
    nw_submetrics_lag(self, dv->alert->published_ms);
}

static void s_print_summary(const s_sub_t *sub)
{
    uint64_t gaps = 0, missed = 0;
    nw_gaps_stats(sub->gaps, &gaps, &missed);
    nw_catchup_stats_t cs;
    nw_catchup_stats(sub->catchup, &cs);
    nw_deliver_counts_t c = s_counts(sub);
    nw_sublog_summary(NW_SUBD_PROGRAM, &c, gaps, missed, nw_subd_catchup_wanted(sub->opts),
                      cs.replays, sub->opts->exec_cmd != NULL ? &sub->exec_end : NULL);
}

static void s_close_handle(uv_handle_t *handle)
{
    if (handle->loop != NULL && !uv_is_closing(handle))
        uv_close(handle, NULL);
}

/* Stops receiving and closes every handle; uv_run returns once the last one is closed
 * (a stalled stdout reader gets S_STOP_FLUSH_MS, hooks S_EXEC_GRACE_MS). The state is saved
 * one last time: everything marked so far was delivered; what a replay still hands over
 * after the stop is not. exit_code is what nw_subd_run will return. */
static void s_stop(s_sub_t *sub, int exit_code)
{
    char err[512];
    if (sub->stopping)
        return;
    sub->stopping = true;
    sub->exit_code = exit_code;
    if (sub->sock != NULL)
        sub->sock_end = nw_subsock_stats(sub->sock);
    nw_subsock_close(&sub->sock, NULL, NULL);
    nw_sinks_close(&sub->sinks, S_STOP_FLUSH_MS, S_EXEC_GRACE_MS, &sub->exec_end);
    if (s_state_file(sub->opts) != NULL && sub->state != NULL &&
        nw_state_save(sub->state, err, sizeof err) != NW_OK)
        nw_log(NW_LOG_ERROR, "--state: %s", err);
    nw_replays_close(&sub->replays);
    uv_handle_t *handles[] = {(uv_handle_t *)&sub->sigint, (uv_handle_t *)&sub->sigterm,
                              (uv_handle_t *)&sub->sighup, (uv_handle_t *)&sub->tick,
                              (uv_handle_t *)&sub->idle,   (uv_handle_t *)&sub->save,
                              (uv_handle_t *)&sub->drain};
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
        s_close_handle(handles[i]);
}

static void s_on_signal(uv_signal_t *handle, int signum)
{
    s_sub_t *sub = handle->data;
    if (signum == SIGHUP) {
        nw_sinks_reopen_log(sub->sinks);
        return;
    }
    nw_log(NW_LOG_DEBUG, "signal %d: stopping", signum);
    s_stop(sub, NW_SUBD_EXIT_OK);
}

static void s_on_stdout_gone(void *arg)
{
    s_stop(arg, NW_SUBD_EXIT_OK); /* the reader went away, as with `| head` */
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

static void s_on_drain(uv_prepare_t *handle)
{
    s_sub_t *sub = handle->data;
    nw_sinks_drain(sub->sinks);
}

static void s_on_tick(uv_timer_t *handle)
{
    s_sub_t *sub = handle->data;
    nw_subsock_tick(sub->sock);
    nw_sinks_tick(sub->sinks);
    int64_t now = (int64_t)uv_now(&sub->loop);
    nw_gaps_tick(sub->gaps, now);
    s_metrics_update(sub);
    if (nw_nopub_due(&sub->nopub, now))
        nw_sublog_silence(NW_NOPUB_AFTER_MS, sub->opts->endpoints[0], sub->opts->n_endpoints,
                          sub->opts->curve);
}

/* ------------------------------------------------------------------ the delivery path */

/* subsock: a heartbeat. The detector first (its loss events start repairs), then the
 * stream's replay endpoint and catch-up. */
static void s_on_heartbeat(const nw_heartbeat_t *hb, const char *peer, void *arg)
{
    s_sub_t *sub = arg;
    nw_nopub_heard(&sub->nopub);
    nw_gaps_heartbeat(sub->gaps, hb, (int64_t)uv_now(&sub->loop));
    if (sub->stopping)
        return;
    if (sub->replays != NULL)
        nw_replays_heartbeat(sub->replays, hb->stream, hb->replay, peer);
    nw_catchup_heartbeat(sub->catchup, hb);
    if (sub->opts->probe) {
        char line[512];
        int n = snprintf(line, sizeof line,
                         "stream %s seq %" PRIu64 " topics %zu interval %" PRIu32 "ms%s%s\n",
                         hb->stream, hb->seq, hb->n_topics, hb->interval_ms,
                         hb->replay[0] ? " replay " : "", hb->replay);
        nw_sinks_print(sub->sinks, line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
        s_stop(sub, NW_SUBD_EXIT_OK);
    }
}

/* subsock: a decoded alert. The detector, then the catch-up (which takes it over and calls
 * s_cu_deliver for what is new). */
static void s_on_alert(nw_alert_t *alert, const char *topic, void *arg)
{
    s_sub_t *sub = arg;
    nw_nopub_heard(&sub->nopub);
    int ti = nw_alert_find_topic(alert, topic);
    nw_gaps_alert(sub->gaps, alert->stream, topic, alert->topics[ti].seq, alert->seq,
                  (int64_t)uv_now(&sub->loop));
    if (!sub->stopping && nw_catchup_live(sub->catchup, alert, topic) != NW_OK)
        nw_log(NW_LOG_ERROR, "out of memory queueing alert; a replay will fetch it");
}

/* catchup: an alert not handled before (live or replayed): the filter, then the sinks. */
static void s_cu_deliver(const nw_alert_t *alert, const char *topic, void *arg)
{
    s_sub_t *sub = arg;
    if (sub->stopping || !nw_deliver_alert(sub->deliver, alert, topic))
        return; /* stopping: -C reached, the state was saved without it */
    if (sub->opts->timeout_ms > 0)
        uv_timer_again(&sub->idle);
    if (sub->opts->count > 0 && nw_deliver_counts(sub->deliver)->delivered >= sub->opts->count)
        s_stop(sub, NW_SUBD_EXIT_OK);
}

/* catchup: start a replay of stream on its own client (NULL: cancel the running one). */
static void s_cu_request(const char *stream, const nw_replay_request_t *rq, void *arg)
{
    s_sub_t *sub = arg;
    if (sub->replays == NULL)
        return; /* report only: never asked */
    if (rq == NULL)
        nw_replays_cancel(sub->replays, stream);
    else
        nw_replays_start(sub->replays, rq);
}

static void s_cu_event(const nw_catchup_event_t *ev, void *arg)
{
    s_sub_t *sub = arg;
    if (ev->kind == NW_CATCHUP_EV_REPLAYING || ev->kind == NW_CATCHUP_EV_LIVE ||
        ev->kind == NW_CATCHUP_EV_REPAIRED)
        s_state_save_now(sub);
    uint64_t held;
    if (ev->kind == NW_CATCHUP_EV_FAILED &&
        !nw_ratelimit_hit(&sub->fail_rl, (int64_t)uv_now(&sub->loop), &held))
        return;
    const char *ep = sub->replays ? nw_replays_endpoint(sub->replays, ev->stream) : "";
    nw_sublog_catchup(ev, ep, sub->opts->on_new_stream == NW_CATCHUP_BEGINNING);
    if (ev->kind == NW_CATCHUP_EV_LIVE && sub->opts->once)
        s_stop(sub, NW_SUBD_EXIT_OK); /* --once: the look-back is delivered */
}

static void s_rp_alert(const nw_alert_t *alert, const char *topic, void *arg)
{
    s_sub_t *sub = arg;
    nw_submetrics_repaired(sub->metrics);
    if (!sub->stopping)
        nw_catchup_replayed(sub->catchup, alert, topic);
}

static void s_rp_end(const char *stream, const nw_replay_end_t *end, void *arg)
{
    s_sub_t *sub = arg;
    if (!sub->stopping)
        nw_catchup_replay_end(sub->catchup, stream, end);
}

static void s_rp_failed(const char *stream, const char *why, void *arg)
{
    s_sub_t *sub = arg;
    if (!sub->stopping)
        nw_catchup_replay_failed(sub->catchup, stream, why);
}

/* The detector's events: each is one log line; a loss also asks the stream's catch-up for
 * a repair (which only reports without repair). */
static void s_on_gap_event(const nw_gaps_event_t *ev, void *arg)
{
    s_sub_t *sub = arg;
    nw_sublog_gap(ev, sub->replays != NULL);
    if ((ev->kind == NW_GAPS_MISSED || ev->kind == NW_GAPS_TAIL) && !sub->stopping)
        nw_catchup_gap(sub->catchup, ev->stream, ev->to_seq);
}

static bool s_gaps_subscribed(const char *topic, void *arg)
{
    const s_sub_t *sub = arg;
    return nw_filter_subscribed(sub->opts->filter, topic);
}

/* ------------------------------------------------------------------ setup */

/* The outputs: the path's end and its sinks. */
static int s_open_outputs(s_sub_t *sub, char *err, size_t errlen)
{
    const nw_subd_opts_t *o = sub->opts;
    if (nw_deliver_new(o->filter, &sub->deliver) != NW_OK) {
        snprintf(err, errlen, "out of memory");
        return NW_ERR_NOMEM;
    }
    nw_filter_set_kinds(o->filter, o->kinds);
    nw_sinks_opts_t so = {.format = o->format,
                          .compact = o->compact,
                          .compact_width = o->compact_width,
                          .colour = (nw_sinks_colour_t)o->colour, /* same values */
                          .quiet = o->quiet,
                          .log_path = o->log_path,
                          .fsync = o->fsync,
                          .exec_cmd = o->exec_cmd,
                          .exec_max = o->exec_max,
                          .exec_queue = NW_SUBD_EXEC_QUEUE,
                          .exec_timeout_ms = o->exec_timeout_ms,
                          .exec_kill_ms = NW_SUBD_EXEC_KILL_GRACE_MS,
                          .on_logged = s_on_logged,
                          .on_stdout_gone = s_on_stdout_gone,
                          .arg = sub};
    int rc = nw_sinks_new(&sub->loop, &so, sub->deliver, &sub->sinks, err, errlen);
    if (rc == NW_OK && o->metrics_bind != NULL) {
        if ((rc = nw_submetrics_start(o->metrics_bind, &sub->metrics, err, errlen)) != NW_OK)
            return rc;
        rc = nw_deliver_add_sink(sub->deliver,
                                 &(nw_sink_t){"metrics", false, s_metrics_write, sub->metrics});
        if (rc != NW_OK)
            snprintf(err, errlen, "too many outputs");
    }
    return rc;
}

/* The state (the file, or memory), what the --log tail shows as handled, the detector and
 * the catch-up. */
static int s_open_catchup(s_sub_t *sub, char *err, size_t errlen)
{
    const nw_subd_opts_t *o = sub->opts;
    int rc = nw_state_open(s_state_file(o), &sub->state, err, errlen);
    if (rc != NW_OK)
        return rc;
    size_t marked = 0;
    if (s_state_file(o) != NULL && o->log_path != NULL &&
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
                            .on_new_stream = o->on_new_stream,
                            .repair = nw_subd_catchup_wanted(o),
                            .every_topic = n == 0};
    nw_catchup_callbacks_t cb = {s_cu_deliver, s_cu_request, s_cu_event, sub};
    if ((rc = nw_gaps_new(s_on_gap_event, s_gaps_subscribed, sub, &sub->gaps)) != NW_OK ||
        (rc = nw_catchup_new(&co, &cb, &sub->catchup)) != NW_OK)
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* The SUB socket and, with repair, the replay clients. */
static int s_open_sockets(s_sub_t *sub, char *err, size_t errlen)
{
    const nw_subd_opts_t *o = sub->opts;
    if ((sub->zctx = zmq_ctx_new()) == NULL) {
        snprintf(err, errlen, "cannot create a ZeroMQ context");
        return NW_ERR_ZMQ;
    }
    const char *const *topics;
    size_t n = nw_filter_includes(o->filter, &topics);
    nw_subsock_opts_t so = {.endpoints = o->endpoints,
                            .n_endpoints = o->n_endpoints,
                            .topics = topics,
                            .n_topics = n,
                            .rcvhwm = o->rcvhwm,
                            .alerts = !o->probe,
                            .curve = o->curve};
    nw_subsock_callbacks_t cb = {s_on_alert, s_on_heartbeat, sub};
    int rc = nw_subsock_new(&sub->loop, sub->zctx, &so, &cb, &sub->sock, err, errlen);
    if (rc != NW_OK || !nw_subd_catchup_wanted(o))
        return rc;
    nw_replays_opts_t ro = {.fixed = o->replay_ep, .connected = o->endpoints[0], .curve = o->curve};
    nw_replays_callbacks_t rcb = {s_rp_alert, s_rp_end, s_rp_failed, sub};
    if ((rc = nw_replays_new(&sub->loop, sub->zctx, &ro, &rcb, &sub->replays)) != NW_OK)
        snprintf(err, errlen, "replay: cannot set up: %s", nw_strerror(rc));
    return rc;
}

/* Signals and timers: initialised first (so s_stop can close them whatever failed), started
 * last. */
static void s_init_handles(s_sub_t *sub)
{
    uv_signal_init(&sub->loop, &sub->sigint);
    uv_signal_init(&sub->loop, &sub->sigterm);
    uv_signal_init(&sub->loop, &sub->sighup);
    uv_timer_init(&sub->loop, &sub->tick);
    uv_timer_init(&sub->loop, &sub->idle);
    uv_timer_init(&sub->loop, &sub->save);
    uv_prepare_init(&sub->loop, &sub->drain);
    sub->drain.data = sub;
    sub->sigint.data = sub->sigterm.data = sub->sighup.data = sub;
    sub->tick.data = sub->idle.data = sub->save.data = sub;
}

static int s_start_handles(s_sub_t *sub, char *err, size_t errlen)
{
    const nw_subd_opts_t *o = sub->opts;
    int rc = uv_signal_start(&sub->sigint, s_on_signal, SIGINT);
    rc = rc ? rc : uv_signal_start(&sub->sigterm, s_on_signal, SIGTERM);
    rc = rc ? rc : uv_signal_start(&sub->sighup, s_on_signal, SIGHUP);
    rc = rc ? rc : uv_timer_start(&sub->tick, s_on_tick, 1000, 1000);
    rc = rc ? rc : uv_prepare_start(&sub->drain, s_on_drain);
    nw_nopub_init(&sub->nopub, (int64_t)uv_now(&sub->loop), NW_NOPUB_AFTER_MS);
    uint64_t idle_ms = o->timeout_ms ? o->timeout_ms : (o->probe ? S_PROBE_DEFAULT_MS : 0);
    if (rc == 0 && idle_ms > 0)
        rc = uv_timer_start(&sub->idle, s_on_idle_timeout, idle_ms, idle_ms);
    if (rc == 0 && s_state_file(o) != NULL)
        rc = uv_timer_start(&sub->save, s_on_save, NW_STATE_SAVE_MS, NW_STATE_SAVE_MS);
    if (rc != 0)
        snprintf(err, errlen, "cannot start the event loop: %s", uv_strerror(rc));
    return rc == 0 ? NW_OK : NW_ERR_UV;
}

/* Builds everything. Returns an nw_subd_exit_t status, with err set on failure. */
static int s_open(s_sub_t *sub, char *err, size_t errlen)
{
    int rc = s_open_outputs(sub, err, errlen);
    if (rc == NW_OK)
        rc = s_open_catchup(sub, err, errlen);
    if (rc == NW_OK && (rc = s_open_sockets(sub, err, errlen)) == NW_ERR_ENDPOINT)
        return NW_SUBD_EXIT_USAGE;
    if (rc == NW_OK)
        rc = s_start_handles(sub, err, errlen);
    if (rc == NW_ERR_INVAL)
        return NW_SUBD_EXIT_USAGE; /* a bad --format template or --exec command */
    return rc == NW_OK ? NW_SUBD_EXIT_OK : NW_SUBD_EXIT_FAILURE;
}

int nw_subd_run(const nw_subd_opts_t *opts)
{
    s_sub_t sub = {.opts = opts, .exit_code = NW_SUBD_EXIT_OK};
    sub.state_rl.period_ms = sub.fail_rl.period_ms = 5000;
    char err[512] = "";
    if (nw_preflight_subscriber(opts->state_path, opts->log_path, opts->exec_cmd, err,
                                sizeof err) != NW_OK) {
        fprintf(stderr, "%s: %s\n", NW_SUBD_PROGRAM, err);
        return NW_SUBD_EXIT_USAGE;
    }
    if (uv_loop_init(&sub.loop) != 0) {
        nw_log(NW_LOG_ERROR, "cannot create the event loop");
        return NW_SUBD_EXIT_FAILURE;
    }
    s_init_handles(&sub);
    int status = s_open(&sub, err, sizeof err);
    if (status == NW_SUBD_EXIT_OK) {
        nw_log(NW_LOG_INFO, "subscribed; connecting to %s%s", opts->endpoints[0],
               opts->n_endpoints > 1 ? " and more" : "");
        uv_run(&sub.loop, UV_RUN_DEFAULT);
        status = sub.exit_code;
        if (!opts->probe)
            s_print_summary(&sub);
        s_metrics_update(&sub);
    } else {
        fprintf(stderr, "%s: %s\n", NW_SUBD_PROGRAM, err);
        s_stop(&sub, status);
        uv_run(&sub.loop, UV_RUN_DEFAULT);
    }
    if (uv_loop_close(&sub.loop) != 0)
        nw_log(NW_LOG_DEBUG, "event loop closed with handles open");
    if (sub.zctx != NULL)
        zmq_ctx_term(sub.zctx);
    nw_catchup_destroy(&sub.catchup);
    nw_state_destroy(&sub.state);
    nw_gaps_destroy(&sub.gaps);
    nw_deliver_destroy(&sub.deliver);
    nw_submetrics_destroy(&sub.metrics);
    return status;
}
