/*
 * newswire-sub: subscribe to newswire alerts and print, log or hand them on.
 *
 * A thin program over the subscriber's modules: parse the options into an
 * nw_subd_opts_t, then run the subscriber (nw_subd) and leave through one
 * exit path. See --help and docs/SUBSCRIBER.md.
 */
#include "nw_curve.h"
#include "nw_catchup.h"
#include "nw_config.h"
#include "nw_error.h"
#include "nw_compact.h"
#include "nw_filter.h"
#include "nw_format.h"
#include "nw_log.h"
#include "nw_logfile.h"
#include "nw_metrics_http.h"
#include "nw_opts.h"
#include "nw_replay_msg.h"
#include "nw_kinds.h"
#include "nw_subd.h"
#include "nw_topic.h"

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_PROGRAM          NW_SUBD_PROGRAM
#define S_DEFAULT_ENDPOINT "tcp://localhost:5556"
#define S_RCVHWM           100000 /* messages queued before ZeroMQ drops */
#define S_ENDPOINTS_MAX    64
#define S_DEFAULT_CONFIG   "/etc/newswire/newswire-sub.conf"
#define S_SHORTOPTS        "c:t:T:qC:W:hV"

/* What the command line asked for; lives in main's frame. */
typedef struct {
    nw_subd_opts_t subd;                    /* handed to the subscriber */
    const char *endpoints[S_ENDPOINTS_MAX]; /* storage for subd.endpoints: -c, into argv */
    bool format_given;                      /* --format: no compact view by default */
    bool full;                              /* --full: every field, never the compact view */
    const char *curve_server_path;          /* --curve-server-key */
    const char *curve_secret_path;          /* --curve-secret */
    nw_curve_client_t curve;                /* the keys they hold, for subd.curve */
} s_cmdline_t;

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
        "                 [--updates none|changed]\n"
        "                 [--format text|json|TEMPLATE] [--log FILE [--fsync WHEN]] [-q]\n"
        "                 [--exec CMD [--exec-max N] [--exec-timeout SEC]] [-C N] [-W SEC]\n"
        "                 [--probe] [--state FILE] [--since TIME|SEQ | --last N]\n"
        "                 [--on-new-stream beginning|now] [--replay ENDPOINT] [--rcvhwm N]\n"
        "                 [--curve-server-key FILE [--curve-secret FILE]]\n"
        "\n"
        "DESCRIPTION\n"
        "    Connects to one or more newswire publishers, receives the alerts of the topics\n"
        "    asked for and prints them, one per line. An alert tagged with several of those\n"
        "    topics is printed once. Missed alerts (sequence gaps), publisher restarts and\n"
        "    silent publishers are reported on standard error.\n"
        "\n"
        "OPTIONS\n"
        "        --config FILE        read options from FILE first: 'key = value' lines,\n"
        "                             keys are the long option names; the command line\n"
        "                             overrides it (default " S_DEFAULT_CONFIG "\n"
        "                             when it exists; none for no file)\n"
        "    -c, --connect ENDPOINT   publisher to connect to, tcp://HOST:PORT or ipc://PATH;\n"
        "                             repeatable (default " S_DEFAULT_ENDPOINT "). Reconnects\n"
        "                             by itself when the publisher restarts.\n"
        "    -t, --topic TOPIC        receive TOPIC and the topics below it (\"defense\" gets\n"
        "                             \"defense.budget\", never \"defenseless\"); repeatable;\n"
        "                             none = every topic\n"
        "    -T, --exclude TOPIC      drop alerts that carry TOPIC (or one below it) among\n"
        "                             their topics; repeatable\n"
        "        --min-priority LEVEL drop alerts below LEVEL: low, normal, high, urgent\n"
        "        --updates WHICH      changed (default): show the new or changed alerts of an\n"
        "                             updated article (revision 2, 3...); none: only first\n"
        "                             publications\n"
        "        --format FORMAT      text (default): time, [topics], priority, text,\n"
        "                             -- title (source); json: one JSON object per line\n"
        "                             (JSON Lines) with every field; compact: each title\n"
        "                             once, its alerts indented under it, lines cut to the\n"
        "                             terminal width (the default on a terminal); or a\n"
        "                             TEMPLATE (see TEMPLATES)\n"
        "        --full               on a terminal too, print every alert in full (text)\n"
        "                             rather than the compact view\n"
        "        --kind KINDS         show only these kinds, comma-separated: headline,\n"
        "                             keypoint, paragraph (default: all)\n"
        "        --color WHEN         colour text output: auto (default: only on a terminal,\n"
        "                             when NO_COLOR is unset or empty and TERM is not\n"
        "                             dumb), always, never\n"
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
        "                             NW_PUBLISHED_MS, NW_URL, NW_REVISION; its output goes\n"
        "                             to standard error.\n"
        "                             A failing CMD is logged, not fatal.\n"
        "        --exec-max N         at most N commands at once (default 4, 1-1024); up to\n"
        "                             %d more alerts wait, further ones are dropped\n"
        "        --exec-timeout SEC   kill a command still running after SEC (default 30;\n"
        "                             e.g. 10, 1.5, 500ms, 2m; 0 = no limit): SIGTERM, then\n"
        "                             SIGKILL 1 s later; logged, counted as failed and\n"
        "                             timed out, and its slot goes to the next alert\n"
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
        "        --once               with --since, --last or --state: print what the\n"
        "                             look-back and replay cover, then exit 0\n"
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
        "        --metrics-bind HOST:PORT\n"
        "                             serve Prometheus metrics on http://HOST:PORT/metrics\n"
        "                             (HOST an IP address; PORT 0 or * for a free one,\n"
        "                             logged as 'metrics: listening on ...'; default: off)\n"
        "        --curve-server-key FILE\n"
        "                             the publisher's public certificate (its NAME.key):\n"
        "                             alerts and replays are encrypted (CURVE) and only\n"
        "                             that publisher is accepted\n"
        "        --curve-secret FILE  this subscriber's secret certificate (newswire-keygen\n"
        "                             NAME); the publisher's --curve-allow folder must hold\n"
        "                             NAME.key. Default: a new key pair for this run, which\n"
        "                             only a publisher without --curve-allow accepts\n"
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
        "    0  stopped by a signal, -C reached, --once done, or --probe saw a heartbeat\n"
        "    1  a runtime failure (socket, log file, event loop)\n"
        "    2  a usage error: a bad option or value, or a --state, --log or --exec\n"
        "       that cannot work (a missing or read-only folder, a hook that is not\n"
        "       executable), found at start\n"
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
        "    " S_PROGRAM " -t trade --last 20                         # look back\n"
        "\n"
        "See newswire-sub(1) for the config file and the service, newswire(7) for the wire.\n",
        NW_SUBD_EXEC_QUEUE, S_RCVHWM, nw_format_template_help());
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
    S_OPT_EXEC_TIMEOUT,
    S_OPT_PROBE,
    S_OPT_LOG_LEVEL,
    S_OPT_RCVHWM,
    S_OPT_STATE,
    S_OPT_SINCE,
    S_OPT_LAST,
    S_OPT_ON_NEW_STREAM,
    S_OPT_REPLAY,
    S_OPT_CONFIG,
    S_OPT_METRICS_BIND,
    S_OPT_KIND,
    S_OPT_FULL,
    S_OPT_ONCE,
    S_OPT_CURVE_SERVER_KEY,
    S_OPT_CURVE_SECRET,
    S_OPT_UPDATES,
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
    {"exec-timeout", required_argument, NULL, S_OPT_EXEC_TIMEOUT},
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
    {"config", required_argument, NULL, S_OPT_CONFIG},
    {"metrics-bind", required_argument, NULL, S_OPT_METRICS_BIND},
    {"kind", required_argument, NULL, S_OPT_KIND},
    {"full", no_argument, NULL, S_OPT_FULL},
    {"once", no_argument, NULL, S_OPT_ONCE},
    {"curve-server-key", required_argument, NULL, S_OPT_CURVE_SERVER_KEY},
    {"curve-secret", required_argument, NULL, S_OPT_CURVE_SECRET},
    {"updates", required_argument, NULL, S_OPT_UPDATES},
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

static int s_opt_endpoint(s_cmdline_t *cl, const char *value, char *err, size_t errlen)
{
    if (cl->subd.n_endpoints == S_ENDPOINTS_MAX) {
        snprintf(err, errlen, "-c/--connect: at most %d endpoints", S_ENDPOINTS_MAX);
        return NW_ERR_INVAL;
    }
    int rc = nw_opt_endpoint("-c/--connect", value, err, errlen);
    if (rc == NW_OK)
        cl->endpoints[cl->subd.n_endpoints++] = value;
    return rc;
}

/* --updates none|changed. */
static int s_opt_updates(nw_subd_opts_t *o, const char *value, char *err, size_t errlen)
{
    static const char *const choices[] = {"none", "changed", NULL};
    int choice;
    int rc = nw_opt_choice("--updates", value, choices, &choice, err, errlen);
    if (rc == NW_OK)
        nw_filter_set_updates(o->filter, choice == 1);
    return rc;
}

static int s_opt_priority(nw_subd_opts_t *o, const char *value, char *err, size_t errlen)
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
static int s_opt_since(nw_subd_opts_t *o, const char *v, char *err, size_t errlen)
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

static int s_opt_last(nw_subd_opts_t *o, const char *v, char *err, size_t errlen)
{
    nw_replay_request_init(&o->back);
    o->look_back = true;
    o->back.start = NW_REPLAY_LAST;
    return nw_opt_uint("--last", v, 1, UINT64_MAX / 2, &o->back.last, err, errlen);
}

/* Options of the delivery guarantees (durable state, look-back, replay). */
static int s_opt_delivery(nw_subd_opts_t *o, int c, const char *v, char *err, size_t errlen)
{
    static const char *const starts[] = {"now", "beginning", NULL};
    int choice, rc = NW_OK;
    switch (c) {
    case S_OPT_STATE: o->state_path = v; return nw_opt_file("--state", v, err, errlen);
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
static int s_opt_one(s_cmdline_t *cl, int c, const char *v, char *err, size_t errlen)
{
    static const char *const colours[] = {"auto", "always", "never", NULL};
    nw_subd_opts_t *o = &cl->subd;
    uint64_t n;
    int choice, rc = NW_OK;
    switch (c) {
    case 'c': return s_opt_endpoint(cl, v, err, errlen);
    case 't': return s_opt_topic(o->filter, true, v, err, errlen);
    case 'T': return s_opt_topic(o->filter, false, v, err, errlen);
    case S_OPT_MIN_PRIORITY: return s_opt_priority(o, v, err, errlen);
    case S_OPT_FORMAT:
        cl->format_given = true;
        o->compact = strcmp(v, "compact") == 0;
        o->format = o->compact ? "text" : v;
        return NW_OK;
    case S_OPT_KIND: return nw_kinds_parse("--kind", v, &o->kinds, err, errlen);
    case S_OPT_FULL: cl->full = true; return NW_OK;
    case S_OPT_ONCE: o->once = true; return NW_OK;
    case S_OPT_UPDATES: return s_opt_updates(o, v, err, errlen);
    case S_OPT_COLOR:
        rc = nw_opt_choice("--color", v, colours, &choice, err, errlen);
        o->colour = (nw_subd_colour_t)choice;
        return rc;
    case S_OPT_LOG: o->log_path = v; return nw_opt_file("--log", v, err, errlen);
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
    case S_OPT_EXEC_TIMEOUT:
        return nw_opt_duration_ms("--exec-timeout", v, 0, 30ull * 24 * 3600 * 1000,
                                  &o->exec_timeout_ms, err, errlen);
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
    case S_OPT_CONFIG: return NW_OK; /* read by nw_config_load */
    case S_OPT_METRICS_BIND:
        o->metrics_bind = v;
        return nw_metrics_http_check("--metrics-bind", v, err, errlen);
    case S_OPT_CURVE_SERVER_KEY: cl->curve_server_path = v; return NW_OK;
    case S_OPT_CURVE_SECRET: cl->curve_secret_path = v; return NW_OK;
    default: snprintf(err, errlen, "unexpected option"); return NW_ERR_INVAL;
    }
}

/* Result of parsing: go on, or leave main with an exit status. */
typedef enum { S_PARSE_RUN, S_PARSE_EXIT_OK, S_PARSE_USAGE } s_parse_t;

/* Parses argv (the config file's options, then the command line's); a bad value from the
 * file is reported with its FILE:LINE. */
static s_parse_t s_parse(s_cmdline_t *cl, int argc, char **argv, const nw_config_t *cfg, char *err,
                         size_t errlen)
{
    nw_subd_opts_t *o = &cl->subd;
    int c;
    err[0] = '\0';
    while ((c = getopt_long(argc, argv, S_SHORTOPTS, s_long_options, NULL)) != -1) {
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
        if (s_opt_one(cl, c, optarg, err, errlen) != NW_OK) {
            const char *origin = nw_config_origin(cfg, optind - 1);
            if (origin != NULL) {
                char copy[512];
                snprintf(copy, sizeof copy, "%s", err);
                snprintf(err, errlen, "%s: %s", origin, copy);
            }
            return S_PARSE_USAGE;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (topics go after -t)", argv[optind]);
        return S_PARSE_USAGE;
    }
    if (o->n_endpoints == 0)
        cl->endpoints[o->n_endpoints++] = S_DEFAULT_ENDPOINT;
    if (o->once && ((!o->look_back && o->state_path == NULL) || o->probe)) {
        snprintf(err, errlen,
                 "--once needs --since, --last or --state: it prints what they "
                 "cover, then exits");
        return S_PARSE_USAGE;
    }
    /* The compact view: asked for, or the default on a terminal. */
    if (cl->full)
        o->compact = false;
    else if (!cl->format_given && !o->quiet && isatty(STDOUT_FILENO))
        o->compact = true;
    if (o->compact)
        o->compact_width = nw_compact_width(STDOUT_FILENO);
    if (cl->curve_secret_path != NULL && cl->curve_server_path == NULL) {
        snprintf(err, errlen, "--curve-secret needs --curve-server-key (the publisher's key)");
        return S_PARSE_USAGE;
    }
    if (cl->curve_server_path != NULL) {
        if (nw_curve_client_load(cl->curve_server_path, cl->curve_secret_path, &cl->curve, err,
                                 errlen) != NW_OK)
            return S_PARSE_USAGE;
        o->curve = &cl->curve;
    }
    const char *const *topics;
    if (nw_subd_catchup_wanted(o) &&
        nw_filter_includes(o->filter, &topics) > NW_REPLAY_FILTERS_MAX) {
        snprintf(err, errlen, "-t/--topic: at most %d topics with --state, --since or --last",
                 NW_REPLAY_FILTERS_MAX);
        return S_PARSE_USAGE;
    }
    return S_PARSE_RUN;
}

int main(int argc, char **argv)
{
    s_cmdline_t cl = {.subd = {.format = "text",
                               .fsync = NW_FSYNC_INTERVAL,
                               .exec_max = 4,
                               .exec_timeout_ms = NW_SUBD_EXEC_TIMEOUT_MS,
                               .rcvhwm = S_RCVHWM}};
    cl.subd.endpoints = cl.endpoints;
    nw_config_t *cfg = NULL;
    char err[1024];
    nw_log_set_program(S_PROGRAM);
    /* A reader that goes away (| head) or a hook that ignores its stdin must give EPIPE,
     * not kill us. */
    signal(SIGPIPE, SIG_IGN);
    int status = NW_SUBD_EXIT_FAILURE;
    if (nw_filter_new(&cl.subd.filter) != NW_OK) {
        fprintf(stderr, "%s: out of memory\n", S_PROGRAM);
        goto cleanup;
    }
    if (nw_config_load(argc, argv, S_DEFAULT_CONFIG, S_SHORTOPTS, s_long_options, &cfg, err,
                       sizeof err) != NW_OK) {
        fprintf(stderr, "%s: %s\n", S_PROGRAM, err);
        status = NW_SUBD_EXIT_USAGE;
        goto cleanup;
    }
    switch (s_parse(&cl, nw_config_argc(cfg), nw_config_argv(cfg), cfg, err, sizeof err)) {
    case S_PARSE_EXIT_OK: status = NW_SUBD_EXIT_OK; break;
    case S_PARSE_USAGE:
        if (err[0] != '\0')
            fprintf(stderr, "%s: %s\n", S_PROGRAM, err);
        fprintf(stderr, "Try '%s --help' for more information.\n", S_PROGRAM);
        status = NW_SUBD_EXIT_USAGE;
        break;
    default: status = nw_subd_run(&cl.subd); break;
    }
cleanup:
    nw_filter_destroy(&cl.subd.filter);
    nw_config_destroy(&cfg);
    return status;
}
