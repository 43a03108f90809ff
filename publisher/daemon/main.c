/*
 * newswire-pub: the publisher daemon. Parses options, then either runs the
 * daemon (nw_pubd) or, with --dry-run, prints the alerts of the given files
 * as JSON Lines and exits.
 */
#include "nw_buf.h"
#include "nw_cert.h"
#include "nw_config.h"
#include "nw_error.h"
#include "nw_extract.h"
#include "nw_ingest.h"
#include "nw_ingest_pool.h"
#include "nw_json.h"
#include "nw_log.h"
#include "nw_metrics_http.h"
#include "nw_opts.h"
#include "nw_pubd.h"
#include "nw_replay.h"

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_PROGRAM           "newswire-pub"
#define S_DEFAULT_CONFIG    "/etc/newswire/newswire-pub.conf"
#define S_SHORTOPTS         ":s:b:t:nhV"
#define S_DEFAULT_BIND      "tcp://127.0.0.1:5556"
#define S_DEFAULT_SPOOL     "./spool"
#define S_DEFAULT_JOURNAL   "./journal"
#define S_DEFAULT_SNDHWM    100000
#define S_DEFAULT_MAX_SIZE  (4u << 20)
#define S_DEFAULT_HEARTBEAT 1000
#define S_LINGER_MS         500 /* shutdown waits at most this long to flush */
#define S_MAX_BINDS         32
#define S_ENDPOINT_MAX      1100 /* bytes of an endpoint once its host name is resolved */

/* What the command line asked for: the daemon's options plus main's own. */
typedef struct {
    nw_pubd_opts_t pubd;                            /* handed to the daemon */
    const char *binds[S_MAX_BINDS];                 /* storage for pubd.binds */
    char resolved[S_MAX_BINDS + 1][S_ENDPOINT_MAX]; /* --bind, then --replay-bind, with host
                                                       names resolved (nw_opt_bind_resolve) */
    bool dry_run;            /* print alerts as JSON Lines, publish nothing */
    bool help;               /* print help and exit */
    bool version;            /* print the version and exit */
    bool no_journal;         /* --no-journal */
    bool extract;            /* --extract: print the FILEs' articles, untagged */
    bool extract_json;       /* --format json (with --extract) */
    bool format_given;       /* --format was on the command line */
    nw_cert_t curve;         /* --curve-secret, loaded */
    nw_feed_source_t *feeds; /* --feed and --feeds, in order (URLs owned) */
    size_t n_feeds;          /* entries of feeds */
    bool explain;            /* --explain: with --dry-run, say why each topic */
} s_cmdline_t;

enum {
    S_OPT_HEARTBEAT = 256,
    S_OPT_SNDHWM,
    S_OPT_MAX_SIZE,
    S_OPT_INGEST_THREADS,
    S_OPT_LOG_LEVEL,
    S_OPT_BOILERPLATE,
    S_OPT_JOURNAL,
    S_OPT_NO_JOURNAL,
    S_OPT_JOURNAL_FSYNC,
    S_OPT_JOURNAL_SEGMENT,
    S_OPT_JOURNAL_MAX_SIZE,
    S_OPT_JOURNAL_MAX_AGE,
    S_OPT_REPLAY_BIND,
    S_OPT_REPLAY_PER_CLIENT,
    S_OPT_HTML_RULES,
    S_OPT_EXTRACT,
    S_OPT_FORMAT,
    S_OPT_CONFIG,
    S_OPT_METRICS_BIND,
    S_OPT_CURVE_SECRET,
    S_OPT_CURVE_ALLOW,
    S_OPT_FEED,
    S_OPT_FEEDS,
    S_OPT_FEED_INTERVAL,
    S_OPT_FEED_TIMEOUT,
    S_OPT_FEED_MAX_SIZE,
    S_OPT_MODEL,
    S_OPT_EXPLAIN,
};

static const char *const s_format_names[] = {"text", "json", NULL};

static const char *const s_fsync_names[] = {"never", "interval", "always", NULL};

static const struct option s_long_options[] = {
    {"spool", required_argument, NULL, 's'},
    {"bind", required_argument, NULL, 'b'},
    {"topics", required_argument, NULL, 't'},
    {"boilerplate", required_argument, NULL, S_OPT_BOILERPLATE},
    {"html-rules", required_argument, NULL, S_OPT_HTML_RULES},
    {"extract", no_argument, NULL, S_OPT_EXTRACT},
    {"format", required_argument, NULL, S_OPT_FORMAT},
    {"model", required_argument, NULL, S_OPT_MODEL},
    {"explain", no_argument, NULL, S_OPT_EXPLAIN},
    {"dry-run", no_argument, NULL, 'n'},
    {"heartbeat", required_argument, NULL, S_OPT_HEARTBEAT},
    {"sndhwm", required_argument, NULL, S_OPT_SNDHWM},
    {"max-article-size", required_argument, NULL, S_OPT_MAX_SIZE},
    {"ingest-threads", required_argument, NULL, S_OPT_INGEST_THREADS},
    {"log-level", required_argument, NULL, S_OPT_LOG_LEVEL},
    {"journal", required_argument, NULL, S_OPT_JOURNAL},
    {"no-journal", no_argument, NULL, S_OPT_NO_JOURNAL},
    {"journal-fsync", required_argument, NULL, S_OPT_JOURNAL_FSYNC},
    {"journal-segment-size", required_argument, NULL, S_OPT_JOURNAL_SEGMENT},
    {"journal-max-size", required_argument, NULL, S_OPT_JOURNAL_MAX_SIZE},
    {"journal-max-age", required_argument, NULL, S_OPT_JOURNAL_MAX_AGE},
    {"replay-bind", required_argument, NULL, S_OPT_REPLAY_BIND},
    {"replay-per-client", required_argument, NULL, S_OPT_REPLAY_PER_CLIENT},
    {"config", required_argument, NULL, S_OPT_CONFIG},
    {"metrics-bind", required_argument, NULL, S_OPT_METRICS_BIND},
    {"curve-secret", required_argument, NULL, S_OPT_CURVE_SECRET},
    {"curve-allow", required_argument, NULL, S_OPT_CURVE_ALLOW},
    {"feed", required_argument, NULL, S_OPT_FEED},
    {"feeds", required_argument, NULL, S_OPT_FEEDS},
    {"feed-interval", required_argument, NULL, S_OPT_FEED_INTERVAL},
    {"feed-timeout", required_argument, NULL, S_OPT_FEED_TIMEOUT},
    {"feed-max-size", required_argument, NULL, S_OPT_FEED_MAX_SIZE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void s_print_help(FILE *out)
{
    fputs("NAME\n"
          "    newswire-pub - turn news articles into topic-tagged alerts on ZeroMQ\n"
          "\n"
          "SYNOPSIS\n"
          "    newswire-pub [OPTION]... [FILE]...\n"
          "    newswire-pub --dry-run [OPTION]... FILE...\n"
          "    newswire-pub --extract [--format text|json] [OPTION]... FILE...\n"
          "\n"
          "DESCRIPTION\n"
          "    Runs in the foreground and logs to standard error. Watches the spool's\n"
          "    incoming/ folder; each article that appears there is parsed (boilerplate\n"
          "    dropped), split into alerts (headline, key points, paragraphs), tagged with\n"
          "    topics, numbered and published on an XPUB socket as two frames, the topic\n"
          "    and a MessagePack alert (newswire(7)), once per topic. Then the\n"
          "    article moves to done/, or to failed/ with NAME.error saying why. Each FILE\n"
          "    (- for standard input, read to its end) is published once at start.\n"
          "    Every alert is appended to the journal before it is sent; after a crash,\n"
          "    alerts the journal already holds are not sent again.\n"
          "    An article is a text file, an HTML page (recognised by its markup: the\n"
          "    article's title, byline, time, link, section and body are extracted, the\n"
          "    rest of the page dropped) or a ninjs JSON document.\n"
          "\n"
          "OPTIONS\n"
          "        --config FILE        read options from FILE first: 'key = value' lines,\n"
          "                             keys are the long option names; the command line\n"
          "                             overrides it (default " S_DEFAULT_CONFIG "\n"
          "                             when it exists; none for no file)\n"
          "    -s, --spool DIR          spool folder with incoming/, done/, failed/ (created\n"
          "                             if missing; default ./spool)\n"
          "    -b, --bind ENDPOINT      where subscribers connect: tcp://HOST:PORT or\n"
          "                             ipc://PATH; HOST may be *, PORT may be * for a free\n"
          "                             port (logged as 'listening on ...'); repeatable\n"
          "                             (default tcp://127.0.0.1:5556; any other address\n"
          "                             without --curve-secret is logged as a warning)\n"
          "    -t, --topics FILE        taxonomy file (default: the built-in taxonomy)\n"
          "        --boilerplate FILE   boilerplate rules file (default: the built-in rules)\n"
          "        --html-rules FILE    HTML markup rules for web pages (default: the\n"
          "                             built-in rules, also installed as\n"
          "                             /usr/share/newswire/html.conf)\n"
          "        --extract            print the article each FILE holds (title, byline,\n"
          "                             time, url, section, body) without tagging; publish\n"
          "                             nothing\n"
          "        --format FORMAT      with --extract: text (default) or json\n"
          "        --model FILE         topic model made by newswire-train (default: the\n"
          "                             built-in model; 'none': the taxonomy alone)\n"
          "        --explain            with --dry-run: each alert gets an \"explain\" object\n"
          "                             with, per topic, its score, threshold and the terms\n"
          "                             and features that decided it\n"
          "    -n, --dry-run            print the alerts the FILEs would give as JSON Lines\n"
          "                             on standard output; bind and publish nothing\n"
          "        --heartbeat MS       heartbeat period in milliseconds, or with a unit\n"
          "                             (500ms, 2s); 10 ms to 1 h (default 1000)\n"
          "        --sndhwm N           messages queued per subscriber before ZeroMQ drops\n"
          "                             (0 = no limit; default 100000)\n"
          "        --max-article-size SIZE\n"
          "                             larger articles fail (suffixes K, M, G; default 4M)\n"
          "        --ingest-threads N   threads that read and tag spool articles side by\n"
          "                             side, 1 to 64 (default: the processors this process\n"
          "                             may run on, at most 4)\n"
          "        --journal DIR        journal folder: every alert is appended there before\n"
          "                             it is sent; it keeps the stream id and numbers\n"
          "                             across restarts (default ./journal)\n"
          "        --no-journal         run without a journal: numbers live in memory, each\n"
          "                             start is a new stream, nothing can be replayed\n"
          "        --journal-fsync POLICY\n"
          "                             never, interval (at most 1 s of records at risk on\n"
          "                             power loss) or always (default interval); an\n"
          "                             article leaves incoming/ only once synced, unless\n"
          "                             never\n"
          "        --journal-segment-size SIZE\n"
          "                             start a new segment file past SIZE (suffixes K, M,\n"
          "                             G; 4K to 1G; default 64M)\n"
          "        --journal-max-size SIZE\n"
          "                             retention: delete the oldest segments while the\n"
          "                             journal holds more than SIZE (default: no limit)\n"
          "        --journal-max-age DURATION\n"
          "                             retention: delete segments whose newest alert is\n"
          "                             older than DURATION (30m, 12h, 7d; default: none)\n"
          "        --replay-bind ENDPOINT\n"
          "                             where subscribers fetch missed alerts from the\n"
          "                             journal (ROUTER, newswire(7) REPLAY);\n"
          "                             tcp://HOST:PORT, PORT may be * (logged as 'replay:\n"
          "                             listening on ...'); none to disable; off with\n"
          "                             --no-journal (default " NW_REPLAY_DEFAULT_ENDPOINT ")\n"
          "        --replay-per-client N\n"
          "                             replays served at once to one client: its CURVE key\n"
          "                             with --curve-allow, else its IP address (1 to 64,\n"
          "                             default 16; raise it for a proxy in front)\n"
          "        --metrics-bind HOST:PORT\n"
          "                             serve Prometheus metrics on http://HOST:PORT/metrics\n"
          "                             (HOST an IP address; PORT 0 or * for a free one,\n"
          "                             logged as 'metrics: listening on ...'; default: off)\n"
          "        --curve-secret FILE  this publisher's secret certificate (newswire-keygen\n"
          "                             NAME makes NAME.key_secret): both endpoints become\n"
          "                             CURVE servers, encrypted; clients need NAME.key\n"
          "        --curve-allow DIR    only clients whose public certificate (*.key) is in\n"
          "                             DIR may connect; SIGHUP re-reads DIR (default: any\n"
          "                             CURVE client, logged as a warning)\n"
          "        --feed URL           poll the RSS 2.0 or Atom 1.0 feed at URL (http or\n"
          "                             https) and publish each new item; repeatable\n"
          "        --feeds FILE         feeds to poll, one per line: URL [INTERVAL]\n"
          "        --feed-interval DURATION\n"
          "                             how often a feed is polled (90s, 5m, 1h; default\n"
          "                             5m); after errors the wait doubles, up to 1 h\n"
          "        --feed-timeout DURATION\n"
          "                             longest feed or page transfer (default 30s)\n"
          "        --feed-max-size SIZE largest feed or page (suffixes K, M, G; default 8M)\n"
          "        --log-level LEVEL    error, warn, info or debug (default info)\n"
          "    -h, --help               print this help and exit\n"
          "    -V, --version            print the version and exit\n"
          "\n"
          "SPOOL\n"
          "    Writers create an article elsewhere on the same file system (or in\n"
          "    incoming/ under a name starting with '.') and rename it into incoming/\n"
          "    when complete. Dotfiles and names ending in ~, .tmp, .part, .partial,\n"
          "    .swp, .swx or .crdownload are ignored. Articles are taken in name order.\n"
          "    A file written in place (plain cp) is taken once unchanged for 500 ms.\n"
          "\n"
          "SIGNALS\n"
          "    SIGTERM, SIGINT  finish the current article, flush, exit 0 (within 1 s)\n"
          "    SIGHUP           reload --topics, --model, --boilerplate, --html-rules and\n"
          "                     --curve-allow; a bad file is reported (FILE:LINE) and the\n"
          "                     previous one kept (the taxonomy and the model are replaced\n"
          "                     together or not at all)\n"
          "\n"
          "EXIT STATUS\n"
          "    0  stopped by a signal; with --dry-run or --extract, every FILE was parsed\n"
          "    1  runtime failure; with --dry-run or --extract, some FILE failed (named on\n"
          "       stderr)\n"
          "    2  usage: bad option or value, or a bad --topics/--model/--boilerplate/\n"
          "       --html-rules file\n"
          "    3  a --bind, --replay-bind or --metrics-bind endpoint cannot be used\n"
          "       (address already in use, bad address)\n"
          "    4  the spool or journal folder cannot be created, read or written (or\n"
          "       the journal is locked by another process, or damaged beyond repair)\n"
          "    5  a journal fsync failed (or a revision index fsync and its rewrite):\n"
          "       records since the last good sync may not be on disk; stopped so no\n"
          "       article moves to done/ on a later fsync's word;\n"
          "       restart (after checking the disk) to recover\n"
          "\n"
          "FILES\n"
          "    DIR/incoming/  articles to publish\n"
          "    DIR/done/      published articles\n"
          "    DIR/failed/    articles that failed, and NAME.error with the reason\n"
          "    JOURNAL/       segment files, stream-id, lock; revisions\n"
          "                   (articles published, for updates) and feeds.seen (feed\n"
          "                   items taken)\n"
          "\n"
          "EXAMPLES\n"
          "    newswire-keygen pub && newswire-pub --curve-secret pub.key_secret \\\n"
          "        --curve-allow clients/ --bind tcp://*:5556 --replay-bind tcp://*:5557\n"
          "    newswire-pub --bind tcp://127.0.0.1:* --bind ipc:///run/newswire/alerts\n"
          "    newswire-pub --dry-run --topics my-topics.conf article.txt | jq .topics\n"
          "    newswire-pub --extract --format json saved-page.html | jq .body\n"
          "    newswire-pub --feed https://news.example/rss.xml --feed-interval 2m\n"
          "    mv /tmp/story.txt spool/incoming/   # publish an article\n"
          "    kill -HUP $(pidof newswire-pub)     # reload the taxonomy\n"
          "\n"
          "See newswire-pub(1) for the config file and the service, newswire(7) for the wire.\n",
          out);
}

/* Prints a usage error naming the flag and returns the usage exit status. */
static int s_usage_error(const char *message)
{
    fprintf(stderr, "%s: %s (see --help)\n", S_PROGRAM, message);
    return NW_PUBD_EXIT_USAGE;
}

static int s_parse_heartbeat(const char *value, uint32_t *out, char *err, size_t errlen)
{
    uint64_t ms;
    int rc;
    if (value[strspn(value, "0123456789")] == '\0')
        rc = nw_opt_uint("--heartbeat", value, 10, 3600000, &ms, err, errlen);
    else
        rc = nw_opt_duration_ms("--heartbeat", value, 10, 3600000, &ms, err, errlen);
    if (rc == NW_OK)
        *out = (uint32_t)ms;
    return rc;
}

/* Parses --journal-max-age: a duration (nw_opt_duration_ms units) or a number of days
 * with a "d" suffix ("7d"). */
static int s_parse_age(const char *value, int64_t *out, char *err, size_t errlen)
{
    const uint64_t day = 24ull * 3600 * 1000, max = 3650 * day;
    uint64_t ms;
    size_t len = strlen(value);
    int rc;
    if (len > 1 && value[len - 1] == 'd' && strspn(value, "0123456789") == len - 1) {
        char days[32];
        snprintf(days, sizeof days, "%.*s", (int)(len - 1), value);
        rc = nw_opt_uint("--journal-max-age", days, 1, max / day, &ms, err, errlen);
        ms *= day;
    } else {
        rc = nw_opt_duration_ms("--journal-max-age", value, 1000, max, &ms, err, errlen);
    }
    if (rc == NW_OK)
        *out = (int64_t)ms;
    return rc;
}

/* Appends one feed (url copied) to cl's list. */
static int s_add_feed(s_cmdline_t *cl, const char *url, uint64_t interval_ms)
{
    nw_feed_source_t *grown = realloc(cl->feeds, (cl->n_feeds + 1) * sizeof *grown);
    if (grown == NULL)
        return NW_ERR_NOMEM;
    cl->feeds = grown;
    char *copy = strdup(url);
    if (copy == NULL)
        return NW_ERR_NOMEM;
    cl->feeds[cl->n_feeds++] = (nw_feed_source_t){.url = copy, .interval_ms = interval_ms};
    return NW_OK;
}

/* --feed URL and --feeds FILE. */
static int s_apply_feed_option(s_cmdline_t *cl, int opt, const char *value, char *err,
                               size_t errlen)
{
    int rc;
    if (opt == S_OPT_FEED) {
        if ((rc = nw_feeds_check_url("--feed", value, err, errlen)) == NW_OK &&
            (rc = s_add_feed(cl, value, 0)) != NW_OK)
            snprintf(err, errlen, "--feed: %s", nw_strerror(rc));
        return rc;
    }
    nw_feed_source_t *list = NULL;
    size_t n = 0;
    char why[900];
    if ((rc = nw_feeds_list_load(value, &list, &n, why, sizeof why)) != NW_OK) {
        snprintf(err, errlen, "--feeds %.900s", why);
        return rc;
    }
    for (size_t i = 0; i < n && rc == NW_OK; i++)
        rc = s_add_feed(cl, list[i].url, list[i].interval_ms);
    nw_feeds_list_free(&list, n);
    if (rc != NW_OK)
        snprintf(err, errlen, "--feeds: %s", nw_strerror(rc));
    return rc;
}

/* Handles one option with a value. Returns NW_OK or NW_ERR_INVAL with err set. */
static int s_apply_option(s_cmdline_t *cl, int opt, const char *value, char *err, size_t errlen)
{
    uint64_t v;
    nw_log_level_t level;
    int choice;
    int rc = NW_OK;
    switch (opt) {
    case 's': cl->pubd.spool_dir = value; break;
    case 't':
        if ((rc = nw_opt_file("--topics", value, err, errlen)) == NW_OK)
            cl->pubd.topics_path = value;
        break;
    case S_OPT_BOILERPLATE:
        if ((rc = nw_opt_file("--boilerplate", value, err, errlen)) == NW_OK)
            cl->pubd.boilerplate_path = value;
        break;
    case S_OPT_HTML_RULES:
        if ((rc = nw_opt_file("--html-rules", value, err, errlen)) == NW_OK)
            cl->pubd.html_rules_path = value;
        break;
    case S_OPT_FORMAT:
        if ((rc = nw_opt_choice("--format", value, s_format_names, &choice, err, errlen)) ==
            NW_OK) {
            cl->extract_json = choice == 1;
            cl->format_given = true;
        }
        break;
    case S_OPT_MODEL:
        if (strcmp(value, "none") == 0 ||
            (rc = nw_opt_file("--model", value, err, errlen)) == NW_OK)
            cl->pubd.model_path = value;
        break;
    case 'b':
        if (cl->pubd.n_binds == S_MAX_BINDS) {
            snprintf(err, errlen, "--bind: at most %d endpoints", S_MAX_BINDS);
            return NW_ERR_INVAL;
        }
        if ((rc = nw_opt_bind_endpoint("--bind", value, err, errlen)) == NW_OK &&
            (rc = nw_opt_bind_resolve("--bind", value, cl->resolved[cl->pubd.n_binds],
                                      S_ENDPOINT_MAX, err, errlen)) == NW_OK) {
            cl->binds[cl->pubd.n_binds] = cl->resolved[cl->pubd.n_binds];
            cl->pubd.n_binds++;
        }
        break;
    case S_OPT_HEARTBEAT: rc = s_parse_heartbeat(value, &cl->pubd.heartbeat_ms, err, errlen); break;
    case S_OPT_SNDHWM:
        if ((rc = nw_opt_uint("--sndhwm", value, 0, INT_MAX, &v, err, errlen)) == NW_OK)
            cl->pubd.sndhwm = (int)v;
        break;
    case S_OPT_INGEST_THREADS:
        if ((rc = nw_opt_uint("--ingest-threads", value, 1, NW_INGEST_POOL_MAX_THREADS, &v, err,
                              errlen)) == NW_OK)
            cl->pubd.ingest_threads = (size_t)v;
        break;
    case S_OPT_MAX_SIZE:
        rc = nw_opt_size("--max-article-size", value, 1, 1ull << 30, &cl->pubd.max_article_size,
                         err, errlen);
        break;
    case S_OPT_JOURNAL: cl->pubd.journal_dir = value; break;
    case S_OPT_JOURNAL_FSYNC:
        if ((rc = nw_opt_choice("--journal-fsync", value, s_fsync_names, &choice, err, errlen)) ==
            NW_OK)
            cl->pubd.journal_fsync = (nw_journal_fsync_t)choice;
        break;
    case S_OPT_JOURNAL_SEGMENT:
        rc = nw_opt_size("--journal-segment-size", value, NW_JOURNAL_SEGMENT_MIN,
                         NW_JOURNAL_SEGMENT_MAX, &cl->pubd.journal_segment_max, err, errlen);
        break;
    case S_OPT_JOURNAL_MAX_SIZE:
        rc = nw_opt_size("--journal-max-size", value, 1, UINT64_MAX / 2, &cl->pubd.journal_max_size,
                         err, errlen);
        break;
    case S_OPT_JOURNAL_MAX_AGE:
        rc = s_parse_age(value, &cl->pubd.journal_max_age_ms, err, errlen);
        break;
    case S_OPT_REPLAY_BIND:
        if (strcmp(value, "none") == 0)
            cl->pubd.replay_bind = NULL;
        else if ((rc = nw_opt_bind_endpoint("--replay-bind", value, err, errlen)) == NW_OK &&
                 (rc = nw_opt_bind_resolve("--replay-bind", value, cl->resolved[S_MAX_BINDS],
                                           S_ENDPOINT_MAX, err, errlen)) == NW_OK)
            cl->pubd.replay_bind = cl->resolved[S_MAX_BINDS];
        break;
    case S_OPT_REPLAY_PER_CLIENT:
        if ((rc = nw_opt_uint("--replay-per-client", value, 1, 64, &v, err, errlen)) == NW_OK)
            cl->pubd.replay_per_client = (unsigned)v;
        break;
    case S_OPT_METRICS_BIND:
        if ((rc = nw_metrics_http_check("--metrics-bind", value, err, errlen)) == NW_OK)
            cl->pubd.metrics_bind = value;
        break;
    case S_OPT_CURVE_SECRET: {
        char why[900];
        if ((rc = nw_cert_load(value, true, &cl->curve, why, sizeof why)) == NW_OK)
            cl->pubd.curve = &cl->curve;
        else
            snprintf(err, errlen, "--curve-secret %s", why);
        break;
    }
    case S_OPT_CURVE_ALLOW: cl->pubd.curve_allow_dir = value; break;
    case S_OPT_FEED:
    case S_OPT_FEEDS: rc = s_apply_feed_option(cl, opt, value, err, errlen); break;
    case S_OPT_FEED_INTERVAL:
        rc = nw_opt_duration_ms("--feed-interval", value, 1000, 24ull * 3600 * 1000,
                                &cl->pubd.feed_interval_ms, err, errlen);
        break;
    case S_OPT_FEED_TIMEOUT:
        rc = nw_opt_duration_ms("--feed-timeout", value, 100, 3600 * 1000,
                                &cl->pubd.feed_timeout_ms, err, errlen);
        break;
    case S_OPT_FEED_MAX_SIZE:
        rc = nw_opt_size("--feed-max-size", value, 1024, 1ull << 30, &cl->pubd.feed_max_size, err,
                         errlen);
        break;
    case S_OPT_LOG_LEVEL:
        if ((rc = nw_log_level_parse(value, &level)) == NW_OK)
            nw_log_set_level(level);
        else
            snprintf(err, errlen, "--log-level: '%s' is not one of error, warn, info, debug",
                     value);
        break;
    default: snprintf(err, errlen, "unexpected option"); return NW_ERR_INVAL;
    }
    return rc;
}

static void s_defaults(s_cmdline_t *cl)
{
    memset(cl, 0, sizeof *cl);
    cl->pubd.spool_dir = S_DEFAULT_SPOOL;
    cl->pubd.binds = cl->binds;
    cl->pubd.heartbeat_ms = S_DEFAULT_HEARTBEAT;
    cl->pubd.sndhwm = S_DEFAULT_SNDHWM;
    cl->pubd.linger_ms = S_LINGER_MS;
    cl->pubd.max_article_size = S_DEFAULT_MAX_SIZE;
    cl->pubd.journal_dir = S_DEFAULT_JOURNAL;
    cl->pubd.journal_fsync = NW_JOURNAL_FSYNC_INTERVAL;
    cl->pubd.replay_bind = NW_REPLAY_DEFAULT_ENDPOINT;
}

/* Describes the option getopt_long just refused. */
static void s_describe_bad_option(char *const argv[], int opt, char *msg, size_t msglen)
{
    const char *arg = argv[optind - 1];
    if (opt == ':')
        snprintf(msg, msglen, "option '%s' needs a value", arg);
    else if (optopt != 0 && strncmp(arg, "--", 2) != 0)
        snprintf(msg, msglen, "unknown option '-%c'", optopt);
    else
        snprintf(msg, msglen, "unknown option '%s'", arg);
}

/* Prefixes err with the FILE:LINE of the option just parsed when it came from --config. */
static void s_name_origin(const nw_config_t *cfg, char *err, size_t errlen)
{
    const char *origin = nw_config_origin(cfg, optind - 1);
    size_t olen = origin != NULL ? strlen(origin) + 2 : 0, len = strlen(err);
    if (origin == NULL || olen + 1 >= errlen)
        return;
    if (olen + len >= errlen)
        len = errlen - olen - 1;
    memmove(err + olen, err, len);
    err[olen + len] = '\0';
    memcpy(err, origin, olen - 2);
    memcpy(err + olen - 2, ": ", 2);
}

/* Fills cl from argv (the config file's options, then the command line's). Returns
 * NW_PUBD_EXIT_OK, or NW_PUBD_EXIT_USAGE after printing why. */
static int s_parse(int argc, char *argv[], const nw_config_t *cfg, s_cmdline_t *cl)
{
    char err[1024];
    int opt, rc;
    s_defaults(cl);
    opterr = 0;
    while ((opt = getopt_long(argc, argv, S_SHORTOPTS, s_long_options, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            s_describe_bad_option(argv, opt, err, sizeof err);
            return s_usage_error(err);
        }
        if (opt == 'n')
            cl->dry_run = true;
        else if (opt == 'h')
            cl->help = true;
        else if (opt == 'V')
            cl->version = true;
        else if (opt == S_OPT_NO_JOURNAL)
            cl->no_journal = true;
        else if (opt == S_OPT_EXTRACT)
            cl->extract = true;
        else if (opt == S_OPT_EXPLAIN)
            cl->explain = true;
        else if (opt == S_OPT_CONFIG)
            continue; /* read by nw_config_load */
        else if ((rc = s_apply_option(cl, opt, optarg, err, sizeof err)) != NW_OK) {
            s_name_origin(cfg, err, sizeof err);
            if (rc != NW_ERR_ENDPOINT)
                return s_usage_error(err);
            fprintf(stderr, "%s: %s\n", S_PROGRAM, err); /* checked before anything exists */
            return NW_PUBD_EXIT_ENDPOINT;
        }
    }
    if (cl->no_journal) {
        cl->pubd.journal_dir = NULL;
        cl->pubd.replay_bind = NULL; /* nothing to replay */
    }
    if (cl->pubd.curve_allow_dir != NULL && cl->pubd.curve == NULL)
        return s_usage_error("--curve-allow needs --curve-secret (the publisher's own key)");
    if (cl->pubd.n_binds == 0)
        cl->binds[cl->pubd.n_binds++] = S_DEFAULT_BIND;
    cl->pubd.files = (const char *const *)&argv[optind];
    cl->pubd.n_files = (size_t)(argc - optind);
    if (cl->explain && !cl->dry_run)
        return s_usage_error("--explain works with --dry-run only");
    if (cl->dry_run && cl->pubd.n_files == 0 && !cl->help && !cl->version)
        return s_usage_error("--dry-run needs at least one FILE (or - for standard input)");
    if (cl->extract && cl->dry_run)
        return s_usage_error("--extract and --dry-run cannot be combined");
    if (cl->extract && cl->pubd.n_files == 0 && !cl->help && !cl->version)
        return s_usage_error("--extract needs at least one FILE (or - for standard input)");
    if (cl->format_given && !cl->extract)
        return s_usage_error("--format applies to --extract only");
    if (cl->dry_run && cl->n_feeds > 0)
        return s_usage_error("--feed and --feeds cannot be used with --dry-run");
    cl->pubd.feeds = cl->feeds;
    cl->pubd.n_feeds = cl->n_feeds;
    return NW_PUBD_EXIT_OK;
}

/* --- --dry-run -------------------------------------------------------------------------- */

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Prints one file's alerts as JSON Lines. Returns NW_OK or the reason it failed. */
static int s_dry_run_file(const nw_ingest_cfg_t *cfg, const char *path, nw_buf_t *out)
{
    char err[1024];
    nw_ingest_result_t res;
    const char *name = strcmp(path, "-") == 0 ? "(stdin)" : path;
    int rc = nw_ingest_file(cfg, path, name, s_now_ms(), &res, err, sizeof err);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "%s", err);
        return rc;
    }
    if (res.latin1)
        nw_log(NW_LOG_WARN, "%s: not valid UTF-8, read as Latin-1", name);
    nw_buf_reset(out);
    for (size_t i = 0; i < res.n && rc == NW_OK; i++) {
        size_t start = out->len;
        rc = nw_json_alert(out, &res.alerts[i], NULL);
        if (rc == NW_OK && res.explain && out->len > start && out->data[out->len - 1] == '}') {
            out->len--; /* the alert's closing brace: the explanation goes inside */
            rc = nw_buf_printf(out, ",\"explain\":%s}", res.explain[i]);
        }
        if (rc == NW_OK)
            rc = nw_buf_append_str(out, "\n");
    }
    nw_ingest_result_clear(&res);
    if (rc == NW_OK && fwrite(out->data, 1, out->len, stdout) != out->len)
        rc = NW_ERR_IO;
    if (rc != NW_OK)
        nw_log(NW_LOG_ERROR, "%s: %s", name, nw_strerror(rc));
    return rc;
}

/* Prints the article one file holds, untagged (--extract). Returns NW_OK or why not. */
static int s_extract_file(const nw_ingest_cfg_t *cfg, const char *path, bool json, nw_buf_t *out)
{
    char err[1024];
    char *data = NULL;
    size_t len = 0;
    nw_article_t article;
    const char *name = strcmp(path, "-") == 0 ? "(stdin)" : path;
    int rc = nw_ingest_read(path, name, cfg->max_size, &data, &len, err, sizeof err);
    if (rc == NW_OK) {
        rc = nw_ingest_article(cfg, name, data, len, &article, err, sizeof err);
        free(data);
    }
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "%s", err);
        return rc;
    }
    nw_buf_reset(out);
    rc = nw_extract_format(&article, json, out);
    nw_article_clear(&article);
    if (rc == NW_OK && fwrite(out->data, 1, out->len, stdout) != out->len)
        rc = NW_ERR_IO;
    if (rc != NW_OK)
        nw_log(NW_LOG_ERROR, "%s: %s", name, nw_strerror(rc));
    return rc;
}

/* --dry-run (alerts as JSON Lines) or, when extract, --extract (articles). */
static int s_dry_run(const nw_pubd_opts_t *opts, bool extract, bool json, bool explain)
{
    char err[1024];
    nw_taxonomy_t *tax = NULL;
    nw_model_t *model = NULL;
    nw_boilerplate_t *rules = NULL;
    nw_html_rules_t *html = NULL;
    nw_tagger_ws_t *ws = NULL;
    int status = NW_PUBD_EXIT_USAGE;
    if (nw_ingest_load_taxonomy(opts->topics_path, &tax, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, "--topics %s", err);
        goto cleanup;
    }
    if (nw_ingest_load_model(opts->model_path, tax, &model, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, "--model %s", err);
        goto cleanup;
    }
    if (nw_ingest_load_rules(opts->boilerplate_path, &rules, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, "--boilerplate %s", err);
        goto cleanup;
    }
    if (nw_ingest_load_html_rules(opts->html_rules_path, &html, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, "--html-rules %s", err);
        goto cleanup;
    }
    nw_ingest_cfg_t cfg = {.rules = rules,
                           .taxonomy = tax,
                           .html = html,
                           .model = model,
                           .explain = explain,
                           .max_size = opts->max_article_size};
    if (nw_tagger_ws_new(&ws) != NW_OK) {
        nw_log(NW_LOG_ERROR, "out of memory");
        status = NW_PUBD_EXIT_FAILURE;
        goto cleanup;
    }
    cfg.tagger_ws = ws;
    nw_buf_t out = {0};
    status = NW_PUBD_EXIT_OK;
    for (size_t i = 0; i < opts->n_files; i++) {
        int rc = extract ? s_extract_file(&cfg, opts->files[i], json, &out)
                         : s_dry_run_file(&cfg, opts->files[i], &out);
        if (rc != NW_OK)
            status = NW_PUBD_EXIT_FAILURE;
    }
    nw_buf_free(&out);
    if (fflush(stdout) != 0)
        status = NW_PUBD_EXIT_FAILURE;
cleanup:
    nw_taxonomy_destroy(&tax);
    nw_model_destroy(&model);
    nw_boilerplate_destroy(&rules);
    nw_html_rules_destroy(&html);
    nw_tagger_ws_destroy(&ws);
    return status;
}

/* Does what the parsed command line asks. Returns the exit status. */

int main(int argc, char *argv[])
{
    s_cmdline_t cl;
    nw_config_t *cfg = NULL;
    char err[1024];
    nw_log_set_program(S_PROGRAM);
    /* A reader that goes away (a closed pipe) is an error to report, not a signal to die of. */
    signal(SIGPIPE, SIG_IGN);
    if (nw_config_load(argc, argv, S_DEFAULT_CONFIG, S_SHORTOPTS, s_long_options, &cfg, err,
                       sizeof err) != NW_OK)
        return s_usage_error(err);
    int status = s_parse(nw_config_argc(cfg), nw_config_argv(cfg), cfg, &cl);
    if (status == NW_PUBD_EXIT_OK) { /* else s_parse said why */
        if (cl.help)
            s_print_help(stdout);
        else if (cl.version)
            printf("%s %s\n", S_PROGRAM, NW_VERSION);
        else if (cl.dry_run || cl.extract)
            status = s_dry_run(&cl.pubd, cl.extract, cl.extract_json, cl.explain);
        else {
            if (nw_config_path(cfg) != NULL)
                nw_log(NW_LOG_INFO, "options from %s and the command line", nw_config_path(cfg));
            status = nw_pubd_run(&cl.pubd);
        }
    }
    nw_config_destroy(&cfg);
    nw_feeds_list_free(&cl.feeds, cl.n_feeds);
    return status;
}
