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
#include "nw_opts.h"
#include "nw_ratelimit.h"
#include "nw_replay_client.h"
#include "nw_replay_msg.h"
#include "nw_state.h"
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
#include <time.h>
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
#define S_LOG_WITNESS      (4u << 20) /* --log tail read at start to mark handled alerts */
#define S_REPLAY_EP_MAX    1024       /* bytes of a resolved replay endpoint */

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
    int rcvhwm;                             /* --rcvhwm */
    const char *state_path;                 /* --state, NULL for none */
    bool look_back;                         /* --since or --last given */
    nw_replay_request_t back;               /* their range (start, from_seq/since/last) */
    int on_new_stream;                      /* --on-new-stream: nw_catchup_new_stream_t */
    const char *replay_ep;                  /* --replay, NULL: the heartbeat's */
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
    bool stdout_gone;                /* standard output failed (EPIPE): write no more */
    int exit_code;                   /* what main returns */
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
        "                 [--state FILE] [--since TIME|SEQ | --last N]\n"
        "                 [--on-new-stream beginning|now] [--replay ENDPOINT] [--rcvhwm N]\n"
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
        "        --state FILE         durable mode: remember in FILE what was handled (saved\n"
        "                             atomically, at most every 200 ms and on exit); at start\n"
        "                             fetch everything missed from the publisher's journal,\n"
        "                             then go on live, without a hole or a duplicate. With\n"
        "                             --log, the log's tail also counts as handled (kill -9)\n"
        "        --since TIME|SEQ     one-off look-back, then live: from global sequence\n"
        "                             number SEQ (digits only), an ISO time in UTC\n"
        "                             (2026-11-27T21:14:55Z) or a duration ago (10m, 2h)\n"
        "        --last N             one-off look-back: the last N matching alerts, then live\n"
        "        --on-new-stream WHEN with --state, where a stream not in FILE starts: now\n"
        "                             (default) or beginning (its oldest journaled alert)\n"
        "        --replay ENDPOINT    replay endpoint, when the one heartbeats advertise is not\n"
        "                             reachable as is (default: advertised; a * host there\n"
        "                             means the host of the first -c)\n"
        "                             Missed alerts (a gap, a heartbeat showing loss) are\n"
        "                             fetched again with --state, --since, --last or --replay;\n"
        "                             duplicates are dropped by stream and sequence number.\n"
        "        --rcvhwm N           messages ZeroMQ queues before it drops (0 = no limit;\n"
        "                             default %d)\n"
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
        "    " S_PROGRAM " -c tcp://pub.example:5556 --probe -W 5\n"
        "    " S_PROGRAM " -q --state alerts.state --log alerts.jsonl   # nothing lost\n"
        "    " S_PROGRAM " -t trade --last 20                         # look back\n",
        S_EXEC_QUEUE, S_RCVHWM, nw_format_template_help());
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
    S_OPT_RCVHWM,
    S_OPT_STATE,
    S_OPT_SINCE,
    S_OPT_LAST,
    S_OPT_ON_NEW_STREAM,
    S_OPT_REPLAY,
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
    {"rcvhwm", required_argument, NULL, S_OPT_RCVHWM},
    {"state", required_argument, NULL, S_OPT_STATE},
    {"since", required_argument, NULL, S_OPT_SINCE},
    {"last", required_argument, NULL, S_OPT_LAST},
    {"on-new-stream", required_argument, NULL, S_OPT_ON_NEW_STREAM},
    {"replay", required_argument, NULL, S_OPT_REPLAY},
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

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t s_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Parses an ISO-8601 UTC time: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.mmm]][Z]" (a space may
 * replace the T). Returns true with *ms set (ms since the epoch). */
static bool s_parse_iso(const char *v, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, used = 0, n;
    if (sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3)
        return false;
    const char *p = v + used;
    if (*p == 'T' || *p == ' ') {
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n) != 2)
            return false;
        p += 1 + n;
        if (*p == ':' && sscanf(p + 1, "%2d%n", &sec, &n) == 1)
            p += 1 + n;
        if (*p == '.') {
            int digits = 0;
            for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                frac = digits < 3 ? frac * 10 + (*p - '0') : frac;
            for (; digits > 0 && digits < 3; digits++)
                frac *= 10;
        }
        if (*p == 'Z')
            p++;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    int64_t days = s_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + frac;
    return true;
}

/* --since: a global seq (digits only), an ISO time, or a duration back from now. */
static int s_opt_since(s_opts_t *o, const char *v, char *err, size_t errlen)
{
    uint64_t n;
    int64_t ms;
    nw_replay_request_init(&o->back);
    o->look_back = true;
    if (v[0] != '\0' && v[strspn(v, "0123456789")] == '\0') {
        o->back.start = NW_REPLAY_FROM_SEQ;
        return nw_opt_uint("--since", v, 1, UINT64_MAX / 2, &o->back.from_seq, err, errlen);
    }
    o->back.start = NW_REPLAY_SINCE;
    if (s_parse_iso(v, &ms)) {
        o->back.since_ms = ms;
        return NW_OK;
    }
    if (nw_opt_duration_ms("--since", v, 1, 3650ull * 24 * 3600 * 1000, &n, err, errlen) != NW_OK) {
        snprintf(err, errlen,
                 "--since: '%s' is not a sequence number, an ISO time (2026-11-27T21:14:55Z) "
                 "or a duration (10m, 2h)",
                 v);
        return NW_ERR_INVAL;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    o->back.since_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - (int64_t)n;
    return NW_OK;
}

static int s_opt_last(s_opts_t *o, const char *v, char *err, size_t errlen)
{
    nw_replay_request_init(&o->back);
    o->look_back = true;
    o->back.start = NW_REPLAY_LAST;
    return nw_opt_uint("--last", v, 1, UINT64_MAX / 2, &o->back.last, err, errlen);
}

/* Options of the delivery guarantees (durable state, look-back, replay). */
static int s_opt_delivery(s_opts_t *o, int c, const char *v, char *err, size_t errlen)
{
    static const char *const starts[] = {"now", "beginning", NULL};
    int choice, rc = NW_OK;
    switch (c) {
    case S_OPT_STATE: o->state_path = v; return NW_OK;
    case S_OPT_SINCE: return s_opt_since(o, v, err, errlen);
    case S_OPT_LAST: return s_opt_last(o, v, err, errlen);
    case S_OPT_ON_NEW_STREAM:
        rc = nw_opt_choice("--on-new-stream", v, starts, &choice, err, errlen);
        o->on_new_stream = choice == 1 ? NW_CATCHUP_BEGINNING : NW_CATCHUP_NOW;
        return rc;
    case S_OPT_REPLAY:
        rc = nw_opt_endpoint("--replay", v, err, errlen);
        o->replay_ep = v;
        return rc;
    default: snprintf(err, errlen, "unexpected option"); return NW_ERR_INVAL;
    }
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
    case S_OPT_RCVHWM:
        rc = nw_opt_uint("--rcvhwm", v, 0, INT32_MAX, &n, err, errlen);
        o->rcvhwm = (int)n;
        return rc;
    case S_OPT_STATE:
    case S_OPT_SINCE:
    case S_OPT_LAST:
    case S_OPT_ON_NEW_STREAM:
    case S_OPT_REPLAY: return s_opt_delivery(o, c, v, err, errlen);
    default: snprintf(err, errlen, "unexpected option"); return NW_ERR_INVAL;
    }
}

/* Returns true when alerts go through the live/replay merge (nw_catchup). */
static bool s_catchup_wanted(const s_opts_t *o)
{
    return !o->probe && (o->state_path != NULL || o->look_back || o->replay_ep != NULL);
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
    const char *const *topics;
    if (s_catchup_wanted(o) && nw_filter_includes(o->filter, &topics) > NW_REPLAY_FILTERS_MAX) {
        snprintf(err, errlen, "-t/--topic: at most %d topics with --state, --since or --last",
                 NW_REPLAY_FILTERS_MAX);
        return S_PARSE_USAGE;
    }
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
                 ", exec started %" PRIu64 " failed %" PRIu64 " dropped %" PRIu64,
                 sub->exec_stats.started, sub->exec_stats.failed, sub->exec_stats.dropped);
    fprintf(stderr,
            "%s: received %" PRIu64 ", printed %" PRIu64 ", filtered %" PRIu64
            ", duplicates %" PRIu64 ", gaps %" PRIu64 " (%" PRIu64 " alerts missed)"
            ", bad frames %" PRIu64 "%s%s\n",
            S_PROGRAM, sub->counts.received, sub->counts.printed, sub->counts.filtered,
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
    s_sub_t *sub = arg;
    if (sub->catchup != NULL && (ev->kind == NW_GAPS_MISSED || ev->kind == NW_GAPS_TAIL))
        nw_catchup_gap(sub->catchup, ev->stream);
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
    nw_gaps_heartbeat(sub->gaps, &hb, (int64_t)uv_now(&sub->loop));
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
    if (rc == NW_OK && sub->catchup != NULL && (sub->unsaved += sub->line.len) > S_LOG_WITNESS / 2)
        s_state_save_now(sub);
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
        if (first > 0)
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
    int rc = nw_replay_client_new(&sub->loop, sub->zctx, ep, NULL, &cb, &sub->replay);
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
    const s_opts_t *o = sub->opts;
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
                            .on_new_stream = (nw_catchup_new_stream_t)o->on_new_stream};
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
    nw_gaps_result_t seen = nw_gaps_alert(sub->gaps, alert.stream, topic, alert.topics[ti].seq,
                                          (int64_t)uv_now(&sub->loop));
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
    if (sub->log != NULL && nw_logfile_flush(sub->log) != NW_OK)
        nw_log(NW_LOG_ERROR, "--log: cannot sync %s", nw_logfile_path(sub->log));
    nw_gaps_tick(sub->gaps, now);
}

/* ------------------------------------------------------------------ setup */

static int s_setsockopt_int(void *zsock, int option, int value)
{
    return zmq_setsockopt(zsock, option, &value, sizeof value);
}

static int s_socket_options(void *zsock, int rcvhwm)
{
    int64_t maxmsg = NW_FRAME_MAX + S_FRAME_SLACK;
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
        s_socket_options(sub->zsock, sub->opts->rcvhwm) != NW_OK || s_subscribe(sub) != NW_OK) {
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
    if ((rc = nw_gaps_new(s_on_gap_event, s_gaps_subscribed, sub, &sub->gaps)) != NW_OK) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    return s_catchup_wanted(o) ? s_open_catchup(sub, err, errlen) : NW_OK;
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

/* Runs the subscriber until a signal, -C, -W or an error. Returns the exit status. */
static int s_run(const s_opts_t *opts)
{
    s_sub_t sub = {.opts = opts, .exit_code = S_EXIT_OK};
    sub.bad_rl.period_ms = sub.log_rl.period_ms = sub.drop_rl.period_ms = 1000;
    sub.state_rl.period_ms = sub.fail_rl.period_ms = 5000;
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
    nw_catchup_destroy(&sub.catchup);
    nw_state_destroy(&sub.state);
    nw_logfile_close(&sub.log);
    nw_format_destroy(&sub.format);
    nw_gaps_destroy(&sub.gaps);
    nw_buf_free(&sub.out);
    nw_buf_free(&sub.line);
    return status;
}

int main(int argc, char **argv)
{
    s_opts_t opts = {
        .format = "text", .fsync = NW_FSYNC_INTERVAL, .exec_max = 4, .rcvhwm = S_RCVHWM};
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
