/*
 * newswire-sub: subscribe to newswire alerts and print, log or hand them on.
 *
 * A thin program over the subscriber's modules: parse the options, build
 * the filter, formatter, log file, exec hook and gap tracker, connect a SUB
 * socket, run the libuv loop, and tear everything down through one exit
 * path. See --help and docs/SUBSCRIBER.md.
 */
#include "nw_alert.h"
#include "nw_buf.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_exec.h"
#include "nw_filter.h"
#include "nw_format.h"
#include "nw_gaps.h"
#include "nw_json.h"
#include "nw_log.h"
#include "nw_logfile.h"
#include "nw_opts.h"
#include "nw_ratelimit.h"
#include "nw_topic.h"
#include "nw_zwatch.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>
#include <zmq.h>

#define S_PROGRAM          "newswire-sub"
#define S_DEFAULT_ENDPOINT "tcp://localhost:5556"
#define S_EXIT_OK          0
#define S_EXIT_ERROR       1
#define S_EXIT_USAGE       2
#define S_EXIT_TIMEOUT     3
#define S_RCVHWM           100000      /* messages queued before ZeroMQ drops */
#define S_FRAME_SLACK      1024        /* ZMQ_MAXMSGSIZE headroom over NW_FRAME_MAX */
#define S_EXEC_QUEUE       1000        /* alerts waiting for an --exec slot */
#define S_EXEC_GRACE_MS    500         /* how long hooks may run on after a stop */
#define S_PROBE_DEFAULT_MS 10000       /* --probe without -W */
#define S_STDOUT_HIGH      (64 * 1024) /* flush stdout at once past this many bytes */
#define S_ENDPOINTS_MAX    64

/* What the command line asked for; lives in main's frame. */
typedef struct {
    const char *endpoints[S_ENDPOINTS_MAX]; /* -c, pointing into argv */
    size_t n_endpoints;                     /* used entries of endpoints */
    nw_filter_t *filter;                    /* -t, -T, --min-priority (owned) */
    const char *format;                     /* --format */
    int colour;                             /* --color: 0 auto, 1 always, 2 never */
    const char *log_path;                   /* --log, NULL for none */
    nw_fsync_t fsync;                       /* --fsync */
    bool quiet;                             /* -q: no standard output */
    const char *exec_cmd;                   /* --exec, NULL for none */
    unsigned exec_max;                      /* --exec-max */
    uint64_t count;                         /* -C, 0 = no limit */
    uint64_t timeout_ms;                    /* -W, 0 = none */
    bool probe;                             /* --probe */
} s_opts_t;

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
    const s_opts_t *opts;       /* the options */
    uv_loop_t loop;             /* the event loop */
    void *zctx;                 /* ZeroMQ context */
    void *zsock;                /* the SUB socket */
    nw_zwatch_t *watch;         /* zsock on the loop */
    nw_format_t *format;        /* stdout records */
    nw_logfile_t *log;          /* --log, or NULL */
    nw_exec_t *exec;            /* --exec, or NULL */
    nw_exec_stats_t exec_stats; /* taken when exec closes */
    nw_gaps_t *gaps;            /* loss detection */
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t tick;        /* each second: rate-limited logs, fsync, silence */
    uv_timer_t idle;        /* -W, and --probe's bound */
    uv_check_t flush;       /* writes stdout once per loop turn */
    nw_buf_t out;           /* stdout bytes not yet written */
    nw_buf_t line;          /* scratch: one JSON line for the log */
    s_counts_t counts;      /* summary counters */
    nw_ratelimit_t bad_rl;  /* bad-frame log lines */
    char bad_reason[160];   /* the last bad frame's fault */
    nw_ratelimit_t log_rl;  /* --log write failures */
    nw_ratelimit_t drop_rl; /* --exec queue-full drops */
    bool stopping;          /* s_stop ran */
    bool stdout_gone;       /* standard output failed (EPIPE): write no more */
    int exit_code;          /* what main returns */
} s_sub_t;

/* ------------------------------------------------------------------ help */

static void s_usage(FILE *to)
{
    fprintf(
        to,
        "NAME\n"
        "    " S_PROGRAM " - receive newswire alerts and print, log or act on them\n"
        "\n"
        "SYNOPSIS\n"
        "    " S_PROGRAM " [-c ENDPOINT]... [-t TOPIC]... [-T TOPIC]... [--min-priority LEVEL]\n"
        "                 [--format text|json|TEMPLATE] [--log FILE [--fsync WHEN]] [-q]\n"
        "                 [--exec CMD [--exec-max N]] [-C N] [-W SEC] [--probe]\n"
        "\n"
        "DESCRIPTION\n"
        "    Connects to one or more newswire publishers, receives the alerts of the topics\n"
        "    asked for and prints them, one per line. An alert tagged with several of those\n"
        "    topics is printed once. Missed alerts (sequence gaps), publisher restarts and\n"
        "    silent publishers are reported on standard error.\n"
        "\n"
        "OPTIONS\n"
        "    -c, --connect ENDPOINT   publisher to connect to, tcp://HOST:PORT or ipc://PATH;\n"
        "                             repeatable (default " S_DEFAULT_ENDPOINT "). Reconnects\n"
        "                             by itself when the publisher restarts.\n"
        "    -t, --topic TOPIC        receive TOPIC and the topics below it (\"defense\" gets\n"
        "                             \"defense.budget\", never \"defenseless\"); repeatable;\n"
        "                             none = every topic\n"
        "    -T, --exclude TOPIC      drop alerts that carry TOPIC (or one below it) among\n"
        "                             their topics; repeatable\n"
        "        --min-priority LEVEL drop alerts below LEVEL: low, normal, high, urgent\n"
        "        --format FORMAT      text (default): time, [topics], priority, text,\n"
        "                             -- title (source); json: one JSON object per line\n"
        "                             (JSON Lines) with every field; or a TEMPLATE (see\n"
        "                             TEMPLATES)\n"
        "        --color WHEN         colour text output: auto (default: only on a terminal\n"
        "                             and when NO_COLOR is unset or empty), always, never\n"
        "        --log FILE           also append every alert to FILE as JSON Lines; each\n"
        "                             line is written whole; SIGHUP reopens FILE (logrotate)\n"
        "        --fsync WHEN         for --log: always (each line), interval (each second,\n"
        "                             the default) or never\n"
        "    -q, --quiet              print nothing on standard output (use with --log/--exec)\n"
        "        --exec CMD           run CMD for each alert, without a shell: CMD is split\n"
        "                             into words ('...', \"...\" and \\ quote); the alert is\n"
        "                             on its standard input as one JSON line, the main fields\n"
        "                             in NW_TOPIC, NW_TOPICS, NW_ID, NW_ARTICLE, NW_INDEX,\n"
        "                             NW_KIND, NW_PRIORITY, NW_TITLE, NW_SOURCE, NW_SECTION,\n"
        "                             NW_STREAM, NW_SEQ, NW_TOPIC_SEQ, NW_PUBLISHED,\n"
        "                             NW_PUBLISHED_MS; its output goes to standard error.\n"
        "                             A failing CMD is logged, not fatal.\n"
        "        --exec-max N         at most N commands at once (default 4, 1-1024); up to\n"
        "                             %d more alerts wait, further ones are dropped\n"
        "    -C, --count N            exit 0 after N alerts\n"
        "    -W, --timeout SEC        exit with status 3 after SEC (e.g. 30, 1.5, 500ms, 2m)\n"
        "                             without an alert\n"
        "        --probe              wait for one heartbeat, print its stream id and latest\n"
        "                             sequence number, exit 0; status 3 when none comes within\n"
        "                             -W (default 10 s). For health checks.\n"
        "        --log-level LEVEL    error, warn, info (default) or debug\n"
        "    -h, --help               show this help and exit\n"
        "    -V, --version            show the version and exit\n"
        "\n"
        "TEMPLATES\n"
        "    A --format TEMPLATE is text with these placeholders and escapes; each alert's\n"
        "    expansion is followed by a newline. Fields never carry control characters:\n"
        "    they are shown as symbols (ESC as U+241B).\n"
        "%s"
        "\n"
        "SIGNALS\n"
        "    SIGINT, SIGTERM  stop, flush, print a summary line on standard error, exit 0\n"
        "    SIGHUP           reopen the --log file\n"
        "\n"
        "EXIT STATUS\n"
        "    0  stopped by a signal, -C reached, or --probe saw a heartbeat\n"
        "    1  a runtime failure (socket, log file, event loop)\n"
        "    2  a usage error: a bad option or value\n"
        "    3  -W: no alert (with --probe: no heartbeat) within the time given\n"
        "\n"
        "EXAMPLES\n"
        "    " S_PROGRAM " -t tariffs -t defense\n"
        "    " S_PROGRAM " --format json | jq -r .text\n"
        "    " S_PROGRAM " -q --log alerts.jsonl --fsync always\n"
        "    " S_PROGRAM " --format '%%{%%H:%%M} %%p %%t: %%m' --min-priority high\n"
        "    " S_PROGRAM " -t energy --exec 'notify-send newswire'\n"
        "    " S_PROGRAM " -c tcp://pub.example:5556 --probe -W 5\n",
        S_EXEC_QUEUE, nw_format_template_help());
}

/* ------------------------------------------------------------------ options */

enum {
    S_OPT_MIN_PRIORITY = 256,
    S_OPT_FORMAT,
    S_OPT_COLOR,
    S_OPT_LOG,
    S_OPT_FSYNC,
    S_OPT_EXEC,
    S_OPT_EXEC_MAX,
    S_OPT_PROBE,
    S_OPT_LOG_LEVEL,
};

static const struct option s_long_options[] = {
    {"connect", required_argument, NULL, 'c'},
    {"topic", required_argument, NULL, 't'},
    {"exclude", required_argument, NULL, 'T'},
    {"min-priority", required_argument, NULL, S_OPT_MIN_PRIORITY},
    {"format", required_argument, NULL, S_OPT_FORMAT},
    {"color", required_argument, NULL, S_OPT_COLOR},
    {"log", required_argument, NULL, S_OPT_LOG},
    {"fsync", required_argument, NULL, S_OPT_FSYNC},
    {"quiet", no_argument, NULL, 'q'},
    {"exec", required_argument, NULL, S_OPT_EXEC},
    {"exec-max", required_argument, NULL, S_OPT_EXEC_MAX},
    {"count", required_argument, NULL, 'C'},
    {"timeout", required_argument, NULL, 'W'},
    {"probe", no_argument, NULL, S_OPT_PROBE},
    {"log-level", required_argument, NULL, S_OPT_LOG_LEVEL},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int s_opt_topic(nw_filter_t *filter, bool include, const char *value, char *err,
                       size_t errlen)
{
    int rc = include ? nw_filter_include(filter, value) : nw_filter_exclude(filter, value);
    if (rc == NW_ERR_TOPIC)
        snprintf(err, errlen,
                 "%s: '%s' is not a topic (dot-separated segments of a-z, 0-9 and '-', at most "
                 "%d bytes)",
                 include ? "-t/--topic" : "-T/--exclude", value, NW_TOPIC_MAX);
    else if (rc != NW_OK)
        snprintf(err, errlen, "%s: %s", include ? "-t/--topic" : "-T/--exclude", nw_strerror(rc));
    return rc;
}

static int s_opt_endpoint(s_opts_t *o, const char *value, char *err, size_t errlen)
{
    if (o->n_endpoints == S_ENDPOINTS_MAX) {
        snprintf(err, errlen, "-c/--connect: at most %d endpoints", S_ENDPOINTS_MAX);
        return NW_ERR_INVAL;
    }
    int rc = nw_opt_endpoint("-c/--connect", value, err, errlen);
    if (rc == NW_OK)
        o->endpoints[o->n_endpoints++] = value;
    return rc;
}

static int s_opt_priority(s_opts_t *o, const char *value, char *err, size_t errlen)
{
    nw_priority_t p;
    if (nw_priority_parse(value, &p) != NW_OK) {
        snprintf(err, errlen, "--min-priority: '%s' is not one of: low normal high urgent", value);
        return NW_ERR_INVAL;
    }
    nw_filter_set_min_priority(o->filter, p);
    return NW_OK;
}

static int s_opt_log_level(const char *value, char *err, size_t errlen)
{
    nw_log_level_t level;
    if (nw_log_level_parse(value, &level) != NW_OK) {
        snprintf(err, errlen, "--log-level: '%s' is not one of: error warn info debug", value);
        return NW_ERR_INVAL;
    }
    nw_log_set_level(level);
    return NW_OK;
}

/* Handles one parsed option c with value v. */
static int s_opt_one(s_opts_t *o, int c, const char *v, char *err, size_t errlen)
{
    static const char *const colours[] = {"auto", "always", "never", NULL};
    uint64_t n;
    int choice, rc = NW_OK;
    switch (c) {
    case 'c': return s_opt_endpoint(o, v, err, errlen);
    case 't': return s_opt_topic(o->filter, true, v, err, errlen);
    case 'T': return s_opt_topic(o->filter, false, v, err, errlen);
    case S_OPT_MIN_PRIORITY: return s_opt_priority(o, v, err, errlen);
    case S_OPT_FORMAT: o->format = v; return NW_OK;
    case S_OPT_COLOR:
        rc = nw_opt_choice("--color", v, colours, &choice, err, errlen);
        o->colour = choice;
        return rc;
    case S_OPT_LOG: o->log_path = v; return NW_OK;
    case S_OPT_FSYNC:
        rc = nw_opt_choice("--fsync", v, nw_fsync_names(), &choice, err, errlen);
        o->fsync = (nw_fsync_t)choice;
        return rc;
    case 'q': o->quiet = true; return NW_OK;
    case S_OPT_EXEC: o->exec_cmd = v; return NW_OK;
    case S_OPT_EXEC_MAX:
        rc = nw_opt_uint("--exec-max", v, 1, 1024, &n, err, errlen);
        o->exec_max = (unsigned)n;
        return rc;
    case 'C': return nw_opt_uint("-C/--count", v, 1, UINT64_MAX / 2, &o->count, err, errlen);
    case 'W':
        return nw_opt_duration_ms("-W/--timeout", v, 1, 30ull * 24 * 3600 * 1000, &o->timeout_ms,
                                  err, errlen);
    case S_OPT_PROBE: o->probe = true; return NW_OK;
    case S_OPT_LOG_LEVEL: return s_opt_log_level(v, err, errlen);
    default: snprintf(err, errlen, "unexpected option"); return NW_ERR_INVAL;
    }
}

/* Result of parsing: go on, or leave main with an exit status. */
typedef enum { S_PARSE_RUN, S_PARSE_EXIT_OK, S_PARSE_USAGE } s_parse_t;

static s_parse_t s_parse(s_opts_t *o, int argc, char **argv, char *err, size_t errlen)
{
    int c;
    err[0] = '\0';
    while ((c = getopt_long(argc, argv, "c:t:T:qC:W:hV", s_long_options, NULL)) != -1) {
        if (c == '?')
            return S_PARSE_USAGE; /* getopt said which option and why */
        if (c == 'h') {
            s_usage(stdout);
            return S_PARSE_EXIT_OK;
        }
        if (c == 'V') {
            printf("%s %s\n", S_PROGRAM, NW_VERSION);
            return S_PARSE_EXIT_OK;
        }
        if (s_opt_one(o, c, optarg, err, errlen) != NW_OK)
            return S_PARSE_USAGE;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (topics go after -t)", argv[optind]);
        return S_PARSE_USAGE;
    }
    if (o->n_endpoints == 0)
        o->endpoints[o->n_endpoints++] = S_DEFAULT_ENDPOINT;
    return S_PARSE_RUN;
}

/* ------------------------------------------------------------------ output */

static void s_stop(s_sub_t *sub, int exit_code);

/* Writes all of sub->out to standard output. A closed pipe (the reader went away, as with
 * `| head`) stops the subscriber. */
static void s_flush_stdout(s_sub_t *sub)
{
    size_t done = 0;
    while (done < sub->out.len) {
        ssize_t n = write(STDOUT_FILENO, sub->out.data + done, sub->out.len - done);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd pfd = {.fd = STDOUT_FILENO, .events = POLLOUT};
            poll(&pfd, 1, -1); /* stdout was left non-blocking: wait for the reader */
        } else if (n < 0 && errno != EINTR) {
            nw_log(errno == EPIPE ? NW_LOG_INFO : NW_LOG_ERROR, "standard output: %s; stopping",
                   strerror(errno));
            sub->stdout_gone = true;
            break;
        }
    }
    nw_buf_reset(&sub->out);
    if (sub->stdout_gone)
        s_stop(sub, S_EXIT_OK);
}

static void s_on_check(uv_check_t *handle)
{
    s_sub_t *sub = handle->data;
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
    char exec[160] = "";
    if (sub->opts->exec_cmd != NULL)
        snprintf(exec, sizeof exec,
                 ", exec started %" PRIu64 " failed %" PRIu64 " dropped %" PRIu64,
                 sub->exec_stats.started, sub->exec_stats.failed, sub->exec_stats.dropped);
    fprintf(stderr,
            "%s: received %" PRIu64 ", printed %" PRIu64 ", filtered %" PRIu64
            ", duplicates %" PRIu64 ", gaps %" PRIu64 " (%" PRIu64 " alerts missed)"
            ", bad frames %" PRIu64 "%s\n",
            S_PROGRAM, sub->counts.received, sub->counts.printed, sub->counts.filtered,
            sub->counts.duplicates, gaps, missed, sub->counts.bad, exec);
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

/* Stops receiving and closes every handle; uv_run returns once the last one is closed
 * (hooks still running get S_EXEC_GRACE_MS). exit_code is what main will return. */
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
    s_stop(sub, S_EXIT_OK);
}

static void s_on_idle_timeout(uv_timer_t *handle)
{
    s_sub_t *sub = handle->data;
    double sec = (double)uv_timer_get_repeat(handle) / 1000.0;
    if (sub->opts->probe)
        nw_log(NW_LOG_ERROR, "--probe: no heartbeat within %.3g s", sec);
    else
        nw_log(NW_LOG_INFO, "-W/--timeout: no alert for %.3g s; exiting with status %d", sec,
               S_EXIT_TIMEOUT);
    s_stop(sub, S_EXIT_TIMEOUT);
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
    (void)arg;
    unsigned long long first = ev->first, last = ev->last, n = ev->last - ev->first + 1;
    switch (ev->kind) {
    case NW_GAPS_STREAM_NEW: nw_log(NW_LOG_INFO, "stream %s: receiving", ev->stream); break;
    case NW_GAPS_STREAM_CHANGED:
        nw_log(NW_LOG_WARN,
               "stream %s: new publisher stream (was %s): the publisher restarted or another "
               "one joined",
               ev->stream, ev->previous ? ev->previous : "?");
        break;
    case NW_GAPS_MISSED:
        nw_log(NW_LOG_WARN, "gap: stream %s topic %s: missed seq %llu-%llu (%llu alerts)",
               ev->stream, ev->topic, first, last, n);
        break;
    case NW_GAPS_TAIL:
        nw_log(NW_LOG_WARN,
               "gap: stream %s topic %s: heartbeat shows seq %llu-%llu sent but not received "
               "(%llu alerts)",
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
    s_stop(sub, S_EXIT_OK);
}

static void s_on_heartbeat(s_sub_t *sub, const void *data, size_t size)
{
    nw_heartbeat_t hb;
    int rc = nw_heartbeat_decode(data, size, &hb);
    if (rc != NW_OK) {
        s_bad(sub, "heartbeat of %zu bytes: %s", size, nw_strerror(rc));
        return;
    }
    nw_log(NW_LOG_DEBUG, "heartbeat: stream %s seq %" PRIu64, hb.stream, hb.seq);
    nw_gaps_heartbeat(sub->gaps, &hb, (int64_t)uv_now(&sub->loop));
    if (sub->opts->probe)
        s_probe_report(sub, &hb);
    nw_heartbeat_clear(&hb);
}

static void s_log_line(s_sub_t *sub, const nw_alert_t *alert, const char *topic)
{
    nw_buf_reset(&sub->line);
    int rc = nw_json_alert(&sub->line, alert, topic);
    if (rc == NW_OK)
        rc = nw_buf_append(&sub->line, "\n", 1);
    if (rc == NW_OK)
        rc = nw_logfile_write(sub->log, sub->line.data, sub->line.len);
    uint64_t held;
    if (rc != NW_OK && nw_ratelimit_hit(&sub->log_rl, (int64_t)uv_now(&sub->loop), &held))
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
    if (sub->out.len > S_STDOUT_HIGH)
        s_flush_stdout(sub);
    if (sub->log != NULL)
        s_log_line(sub, alert, topic);
    if (sub->exec != NULL)
        s_exec(sub, alert, topic);
    if (sub->opts->timeout_ms > 0)
        uv_timer_again(&sub->idle);
    if (sub->opts->count > 0 && sub->counts.printed >= sub->opts->count)
        s_stop(sub, S_EXIT_OK);
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
    nw_gaps_result_t seen = nw_gaps_alert(sub->gaps, alert.stream, topic, alert.topics[ti].seq,
                                          (int64_t)uv_now(&sub->loop));
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
    if (sub->log != NULL && nw_logfile_flush(sub->log) != NW_OK)
        nw_log(NW_LOG_ERROR, "--log: cannot sync %s", nw_logfile_path(sub->log));
    nw_gaps_tick(sub->gaps, now);
}

/* ------------------------------------------------------------------ setup */

static int s_setsockopt_int(void *zsock, int option, int value)
{
    return zmq_setsockopt(zsock, option, &value, sizeof value);
}

static int s_socket_options(void *zsock)
{
    int64_t maxmsg = NW_FRAME_MAX + S_FRAME_SLACK;
    if (s_setsockopt_int(zsock, ZMQ_RCVHWM, S_RCVHWM) != 0 ||
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
        s_socket_options(sub->zsock) != NW_OK || s_subscribe(sub) != NW_OK) {
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

static bool s_want_colour(const s_opts_t *o)
{
    if (o->colour != 0)
        return o->colour == 1;
    const char *no_colour = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    return isatty(STDOUT_FILENO) && (no_colour == NULL || no_colour[0] == '\0') &&
           !(term != NULL && strcmp(term, "dumb") == 0);
}

/* Builds the output side: formatter, log file, exec hook, gap tracker. */
static int s_open_outputs(s_sub_t *sub, char *err, size_t errlen)
{
    const s_opts_t *o = sub->opts;
    int rc = nw_format_new(o->format, s_want_colour(o), &sub->format, err, errlen);
    if (rc != NW_OK)
        return rc;
    if (o->log_path != NULL && (rc = nw_logfile_open(o->log_path, o->fsync, &sub->log)) != 0) {
        snprintf(err, errlen, "--log: cannot open '%s': %s", o->log_path, nw_strerror(rc));
        return rc;
    }
    if (sub->log != NULL)
        s_report_repair(sub->log);
    if (o->exec_cmd != NULL && (rc = nw_exec_new(&sub->loop, o->exec_cmd, o->exec_max, S_EXEC_QUEUE,
                                                 &sub->exec, err, errlen)) != NW_OK)
        return rc;
    if ((rc = nw_gaps_new(s_on_gap_event, s_gaps_subscribed, sub, &sub->gaps)) != NW_OK)
        snprintf(err, errlen, "out of memory");
    return rc;
}

static int s_start_handles(s_sub_t *sub)
{
    const s_opts_t *o = sub->opts;
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
    if (rc == 0 && nw_zwatch_new(&sub->loop, sub->zsock, 0, s_on_readable, sub, &sub->watch) != 0)
        rc = UV_ENOMEM;
    if (rc == 0 && nw_zwatch_start(sub->watch) != NW_OK)
        rc = UV_EINVAL;
    if (rc != 0)
        nw_log(NW_LOG_ERROR, "cannot start the event loop: %s", uv_strerror(rc));
    return rc == 0 ? NW_OK : NW_ERR_UV;
}

/* Runs the subscriber until a signal, -C, -W or an error. Returns the exit status. */
static int s_run(const s_opts_t *opts)
{
    s_sub_t sub = {.opts = opts, .exit_code = S_EXIT_OK};
    sub.bad_rl.period_ms = sub.log_rl.period_ms = sub.drop_rl.period_ms = 1000;
    char err[512] = "";
    int status = S_EXIT_ERROR;
    if (uv_loop_init(&sub.loop) != 0) {
        nw_log(NW_LOG_ERROR, "cannot create the event loop");
        return S_EXIT_ERROR;
    }
    int rc = s_open_outputs(&sub, err, sizeof err);
    if (rc != NW_OK) {
        fprintf(stderr, "%s: %s\n", S_PROGRAM, err);
        status = rc == NW_ERR_INVAL ? S_EXIT_USAGE : S_EXIT_ERROR;
        goto cleanup;
    }
    if ((rc = s_open_socket(&sub)) != NW_OK) {
        status = rc == NW_ERR_ENDPOINT ? S_EXIT_USAGE : S_EXIT_ERROR;
        goto cleanup;
    }
    if (s_start_handles(&sub) != NW_OK) {
        s_stop(&sub, S_EXIT_ERROR);
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
    nw_logfile_close(&sub.log);
    nw_format_destroy(&sub.format);
    nw_gaps_destroy(&sub.gaps);
    nw_buf_free(&sub.out);
    nw_buf_free(&sub.line);
    return status;
}

int main(int argc, char **argv)
{
    s_opts_t opts = {.format = "text", .fsync = NW_FSYNC_INTERVAL, .exec_max = 4};
    char err[512];
    nw_log_set_program(S_PROGRAM);
    /* A reader that goes away (| head) or a hook that ignores its stdin must give EPIPE,
     * not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (nw_filter_new(&opts.filter) != NW_OK) {
        fprintf(stderr, "%s: out of memory\n", S_PROGRAM);
        return S_EXIT_ERROR;
    }
    int status;
    switch (s_parse(&opts, argc, argv, err, sizeof err)) {
    case S_PARSE_EXIT_OK: status = S_EXIT_OK; break;
    case S_PARSE_USAGE:
        if (err[0] != '\0')
            fprintf(stderr, "%s: %s\n", S_PROGRAM, err);
        fprintf(stderr, "Try '%s --help' for more information.\n", S_PROGRAM);
        status = S_EXIT_USAGE;
        break;
    default: status = s_run(&opts); break;
    }
    nw_filter_destroy(&opts.filter);
    return status;
}
