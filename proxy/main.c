/*
 * newswire-proxy: fan-out for newswire. Parses options, blocks SIGTERM/SIGINT/
 * SIGHUP in every thread but one that waits for them and sends TERMINATE (or
 * RELOAD, on SIGHUP) to the forwarder, runs nw_proxy and tears down through
 * one exit path.
 */
#include "nw_cert.h"
#include "nw_curve.h"
#include "nw_error.h"
#include "nw_log.h"
#include "nw_opts.h"
#include "nw_proxy.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.h>

#define S_PROGRAM        "newswire-proxy"
#define S_DEFAULT_BIND   "tcp://*:5556"
#define S_DEFAULT_REPLAY "tcp://*:5557"
#define S_DEFAULT_HWM    100000
#define S_MAX_ENDPOINTS  32

enum {
    S_EXIT_OK = 0,       /* stopped by a signal or TERMINATE */
    S_EXIT_FAILURE = 1,  /* runtime failure */
    S_EXIT_USAGE = 2,    /* bad option or value */
    S_EXIT_ENDPOINT = 3, /* an endpoint cannot be used */
};

/* What the command line asked for. */
typedef struct {
    nw_proxy_opts_t proxy;                  /* handed to nw_proxy */
    const char *upstreams[S_MAX_ENDPOINTS]; /* storage for proxy.upstreams */
    const char *binds[S_MAX_ENDPOINTS];     /* storage for proxy.binds */
    const char *curve_server_path;          /* --curve-server-key */
    const char *curve_secret_path;          /* --curve-secret */
    nw_cert_t curve;                        /* --curve-secret, loaded, for proxy.curve */
    nw_curve_client_t curve_client;         /* upstream keys, for proxy.curve_client */
    bool help;                              /* print help and exit */
    bool version;                           /* print the version and exit */
} s_cmdline_t;

/* The thread that turns SIGTERM/SIGINT into TERMINATE. */
typedef struct {
    pthread_t thread;    /* runs s_signal_thread */
    void *zctx;          /* context of the stop PAIR */
    const char *stop_ep; /* nw_proxy_stop_endpoint() */
    sigset_t set;        /* SIGTERM, SIGINT, SIGHUP */
    atomic_bool done;    /* set by main before waking the thread to end it */
} s_signals_t;

enum {
    S_OPT_REPLAY_BIND = 256,
    S_OPT_CONTROL,
    S_OPT_HWM,
    S_OPT_LOG_LEVEL,
    S_OPT_CURVE_SERVER_KEY,
    S_OPT_CURVE_SECRET,
    S_OPT_CURVE_ALLOW,
};

static const struct option s_long_options[] = {
    {"connect", required_argument, NULL, 'c'},
    {"bind", required_argument, NULL, 'b'},
    {"replay-bind", required_argument, NULL, S_OPT_REPLAY_BIND},
    {"control", required_argument, NULL, S_OPT_CONTROL},
    {"hwm", required_argument, NULL, S_OPT_HWM},
    {"curve-server-key", required_argument, NULL, S_OPT_CURVE_SERVER_KEY},
    {"curve-secret", required_argument, NULL, S_OPT_CURVE_SECRET},
    {"curve-allow", required_argument, NULL, S_OPT_CURVE_ALLOW},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"log-level", required_argument, NULL, S_OPT_LOG_LEVEL},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void s_print_help(FILE *out)
{
    fputs("NAME\n"
          "    newswire-proxy - fan newswire alerts out to more subscribers, across hosts\n"
          "\n"
          "SYNOPSIS\n"
          "    newswire-proxy -c PUB_ENDPOINT... [--bind ENDPOINT]...\n"
          "                   [--replay-bind ENDPOINT] [--control ENDPOINT]\n"
          "                   [--curve-server-key FILE] [--curve-secret FILE\n"
          "                   [--curve-allow DIR]] [OPTION]...\n"
          "\n"
          "DESCRIPTION\n"
          "    Runs in the foreground and logs to standard error. Connects to each\n"
          "    publisher (or to another newswire-proxy) and republishes everything on\n"
          "    its own endpoint, where subscribers connect exactly as they would to a\n"
          "    publisher. Subscriptions are passed upstream, so topic filtering still\n"
          "    happens at the publisher and only wanted alerts cross the network.\n"
          "    Heartbeats are passed on with their replay endpoint replaced by the\n"
          "    proxy's own (--replay-bind), which forwards each replay request to the\n"
          "    publisher of the stream it names: a durable subscriber (--state) that\n"
          "    can only reach the proxy still repairs gaps. Proxies can be chained.\n"
          "\n"
          "OPTIONS\n"
          "    -c, --connect ENDPOINT   publisher or upstream proxy, tcp://HOST:PORT or\n"
          "                             ipc://PATH; repeatable, at least one. Reconnects by\n"
          "                             itself when it restarts.\n"
          "    -b, --bind ENDPOINT      where subscribers connect: tcp://HOST:PORT or\n"
          "                             ipc://PATH; HOST may be *, PORT may be * (logged as\n"
          "                             'listening on ...'); repeatable\n"
          "                             (default " S_DEFAULT_BIND ")\n"
          "        --replay-bind ENDPOINT\n"
          "                             replay front end advertised in heartbeats; PORT may\n"
          "                             be * (logged as 'replay: listening on ...'); none:\n"
          "                             no front end, heartbeats then name the publisher's\n"
          "                             own replay endpoint (default " S_DEFAULT_REPLAY ")\n"
          "        --control ENDPOINT   bind a REP control socket: send PAUSE, RESUME,\n"
          "                             TERMINATE, RELOAD (each answered OK) or STATISTICS\n"
          "                             (eight uint64 frames in zmq_proxy_steerable's\n"
          "                             order); default none\n"
          "        --curve-server-key FILE\n"
          "                             the upstream publisher's (or proxy's) public\n"
          "                             certificate: every --connect and the replay\n"
          "                             requests passed upstream use CURVE (default:\n"
          "                             plaintext upstream)\n"
          "        --curve-secret FILE  this proxy's secret certificate (newswire-keygen\n"
          "                             NAME makes NAME.key_secret): --bind and\n"
          "                             --replay-bind become CURVE servers, encrypted,\n"
          "                             and with --curve-server-key it is also the key the\n"
          "                             proxy connects upstream with (the publisher's\n"
          "                             --curve-allow must hold NAME.key; without it an\n"
          "                             ephemeral key is used upstream). Without it, a\n"
          "                             --bind or --replay-bind that is not loopback is\n"
          "                             logged as a warning\n"
          "        --curve-allow DIR    only subscribers whose public certificate (*.key)\n"
          "                             is in DIR may connect; SIGHUP re-reads DIR\n"
          "                             (default: any CURVE client, logged as a warning)\n"
          "        --hwm N              messages queued per publisher and per subscriber\n"
          "                             before ZeroMQ drops (0 = no limit; default 100000)\n"
          "    -v, --verbose            log every heartbeat and replay request (debug)\n"
          "    -q, --quiet              log only warnings and errors\n"
          "        --log-level LEVEL    error, warn, info (default) or debug\n"
          "    -h, --help               print this help and exit\n"
          "    -V, --version            print the version and exit\n"
          "\n"
          "SIGNALS\n"
          "    SIGTERM, SIGINT  stop, print a summary line, exit 0\n"
          "    SIGHUP           re-read the --curve-allow folder (a folder that cannot be\n"
          "                     read keeps the previous list)\n"
          "\n"
          "EXIT STATUS\n"
          "    0  stopped by a signal or a TERMINATE command\n"
          "    1  runtime failure\n"
          "    2  usage: bad option or value\n"
          "    3  a --bind, --replay-bind or --control endpoint cannot be used (address\n"
          "       already in use, bad address)\n"
          "\n"
          "EXAMPLES\n"
          "    newswire-proxy -c tcp://pub1.example:5556 -c tcp://pub2.example:5556\n"
          "    newswire-proxy -c tcp://edge.example:5556 --bind tcp://*:6556 \\\n"
          "                   --replay-bind tcp://*:6557 --control ipc:///run/nw-proxy.ctl\n"
          "    newswire-proxy -c tcp://pub.example:5556 --curve-server-key pub.key \\\n"
          "                   --curve-secret proxy.key_secret --curve-allow subscribers/\n"
          "    newswire-sub -c tcp://proxy.example:5556 --state sub.state -t tariffs\n"
          "\n"
          "See newswire-proxy(1) for trees of proxies and their limits.\n",
          out);
}

static int s_usage_error(const char *message)
{
    fprintf(stderr, "%s: %s (see --help)\n", S_PROGRAM, message);
    return S_EXIT_USAGE;
}

/* Adds value to list (n entries, at most S_MAX_ENDPOINTS). */
static int s_add_endpoint(const char *flag, const char *value, bool bind, const char **list,
                          size_t *n, char *err, size_t errlen)
{
    if (*n == S_MAX_ENDPOINTS) {
        snprintf(err, errlen, "%s: at most %d endpoints", flag, S_MAX_ENDPOINTS);
        return NW_ERR_INVAL;
    }
    int rc = bind ? nw_opt_bind_endpoint(flag, value, err, errlen)
                  : nw_opt_endpoint(flag, value, err, errlen);
    if (rc == NW_OK)
        list[(*n)++] = value;
    return rc;
}

/* Handles one option with a value. Returns NW_OK or NW_ERR_INVAL with err set. */
static int s_apply_option(s_cmdline_t *cl, int opt, const char *value, char *err, size_t errlen)
{
    uint64_t v;
    nw_log_level_t level;
    int rc = NW_OK;
    switch (opt) {
    case 'c':
        return s_add_endpoint("--connect", value, false, cl->upstreams, &cl->proxy.n_upstreams, err,
                              errlen);
    case 'b':
        return s_add_endpoint("--bind", value, true, cl->binds, &cl->proxy.n_binds, err, errlen);
    case S_OPT_REPLAY_BIND:
        if (strcmp(value, "none") == 0)
            cl->proxy.replay_bind = NULL;
        else if ((rc = nw_opt_bind_endpoint("--replay-bind", value, err, errlen)) == NW_OK)
            cl->proxy.replay_bind = value;
        return rc;
    case S_OPT_CONTROL:
        if ((rc = nw_opt_bind_endpoint("--control", value, err, errlen)) == NW_OK)
            cl->proxy.control = value;
        return rc;
    case S_OPT_HWM:
        if ((rc = nw_opt_uint("--hwm", value, 0, INT_MAX, &v, err, errlen)) == NW_OK)
            cl->proxy.hwm = (int)v;
        return rc;
    case S_OPT_CURVE_SERVER_KEY: cl->curve_server_path = value; return NW_OK;
    case S_OPT_CURVE_SECRET: cl->curve_secret_path = value; return NW_OK;
    case S_OPT_CURVE_ALLOW: cl->proxy.curve_allow_dir = value; return NW_OK;
    case 'v': nw_log_set_level(NW_LOG_DEBUG); return NW_OK;
    case 'q': nw_log_set_level(NW_LOG_WARN); return NW_OK;
    case S_OPT_LOG_LEVEL:
        if ((rc = nw_log_level_parse(value, &level)) == NW_OK)
            nw_log_set_level(level);
        else
            snprintf(err, errlen, "--log-level: '%s' is not one of error, warn, info, debug",
                     value);
        return rc;
    default: snprintf(err, errlen, "unexpected option"); return NW_ERR_INVAL;
    }
}

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

/* Loads the --curve-* files into cl->proxy. Returns NW_OK or an error with err naming the
 * flag and file. */
static int s_load_keys(s_cmdline_t *cl, char *err, size_t errlen)
{
    char why[900];
    int rc;
    if (cl->proxy.curve_allow_dir != NULL && cl->curve_secret_path == NULL) {
        snprintf(err, errlen, "--curve-allow needs --curve-secret (the proxy's own key)");
        return NW_ERR_INVAL;
    }
    if (cl->curve_secret_path != NULL) {
        if ((rc = nw_cert_load(cl->curve_secret_path, true, &cl->curve, why, sizeof why)) !=
            NW_OK) {
            snprintf(err, errlen, "--curve-secret %s", why);
            return rc;
        }
        cl->proxy.curve = &cl->curve;
    }
    if (cl->curve_server_path != NULL) {
        if ((rc = nw_curve_client_load(cl->curve_server_path, cl->curve_secret_path,
                                       &cl->curve_client, err, errlen)) != NW_OK)
            return rc;
        cl->proxy.curve_client = &cl->curve_client;
    }
    return NW_OK;
}

/* Fills cl from argv. Returns S_EXIT_OK, or S_EXIT_USAGE after printing why. */
static int s_parse(int argc, char *argv[], s_cmdline_t *cl)
{
    char err[1024];
    int opt;
    memset(cl, 0, sizeof *cl);
    cl->proxy.upstreams = cl->upstreams;
    cl->proxy.binds = cl->binds;
    cl->proxy.replay_bind = S_DEFAULT_REPLAY;
    cl->proxy.hwm = S_DEFAULT_HWM;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:b:vqhV", s_long_options, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            s_describe_bad_option(argv, opt, err, sizeof err);
            return s_usage_error(err);
        }
        if (opt == 'h')
            cl->help = true;
        else if (opt == 'V')
            cl->version = true;
        else if (s_apply_option(cl, opt, optarg, err, sizeof err) != NW_OK)
            return s_usage_error(err);
    }
    if (optind < argc) {
        snprintf(err, sizeof err, "unexpected argument '%s'", argv[optind]);
        return s_usage_error(err);
    }
    if (cl->proxy.n_binds == 0)
        cl->binds[cl->proxy.n_binds++] = S_DEFAULT_BIND;
    if (cl->proxy.n_upstreams == 0 && !cl->help && !cl->version)
        return s_usage_error("--connect: give at least one publisher or proxy to connect to");
    if (cl->help || cl->version)
        return S_EXIT_OK;
    return s_load_keys(cl, err, sizeof err) == NW_OK ? S_EXIT_OK : s_usage_error(err);
}

/* --- signals ------------------------------------------------------------------------------- */

static void s_on_signal(int sig)
{
    (void)sig; /* never runs: the signals are blocked and taken by sigwait() */
}

/* Sends cmd on the stop pipe, connecting *pair on first use. When the pipe fails, a lost
 * RELOAD is logged, and a lost TERMINATE ends the process here: a signal to stop is never
 * ignored. */
static void s_send_stop_pipe(s_signals_t *s, void **pair, const char *cmd)
{
    if (*pair == NULL && (*pair = zmq_socket(s->zctx, ZMQ_PAIR)) != NULL) {
        zmq_setsockopt(*pair, ZMQ_LINGER, &(int){1000}, sizeof(int));
        if (zmq_connect(*pair, s->stop_ep) != 0) {
            zmq_close(*pair);
            *pair = NULL;
        }
    }
    if (*pair != NULL && zmq_send(*pair, cmd, strlen(cmd), 0) >= 0)
        return;
    bool stop = strcmp(cmd, "TERMINATE") == 0;
    nw_log(NW_LOG_ERROR, "cannot pass %s to the proxy loop: %s%s", cmd, zmq_strerror(errno),
           stop ? "; exiting now" : "");
    if (stop)
        _exit(S_EXIT_FAILURE);
}

/* SIGHUP becomes RELOAD and the thread waits on; SIGTERM/SIGINT becomes TERMINATE and
 * the thread ends. */
static void *s_signal_thread(void *arg)
{
    s_signals_t *s = arg;
    void *pair = NULL; /* one PAIR for the thread's life: the stop pipe takes one peer */
    for (;;) {
        int sig = 0;
        sigwait(&s->set, &sig);
        if (atomic_load(&s->done))
            break;
        if (sig == SIGHUP) {
            nw_log(NW_LOG_INFO, "SIGHUP: reloading");
            s_send_stop_pipe(s, &pair, "RELOAD");
            continue;
        }
        nw_log(NW_LOG_INFO, "stopping on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
        s_send_stop_pipe(s, &pair, "TERMINATE");
        break;
    }
    if (pair != NULL)
        zmq_close(pair);
    return NULL;
}

/* Without --curve-secret: one warning naming every endpoint other hosts can reach. With it
 * and no --curve-allow: one saying any client key is accepted. */
static void s_warn_exposure(const nw_proxy_opts_t *o)
{
    if (o->curve != NULL) {
        if (o->curve_allow_dir == NULL)
            nw_log(NW_LOG_WARN,
                   "curve: encrypted, but any client key is accepted (no --curve-allow)");
        return;
    }
    nw_curve_warn_exposed(o->binds, o->n_binds, o->replay_bind);
}

/* Each subscriber holds a file descriptor: take the hard limit, not the soft one. */
static void s_raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    nw_log(NW_LOG_DEBUG, "open files: up to %llu (about as many subscribers)",
           (unsigned long long)rl.rlim_cur);
}

static int s_run(s_cmdline_t *cl, s_signals_t *sig)
{
    char err[1024];
    nw_proxy_t *proxy = NULL;
    int status = S_EXIT_FAILURE;
    void *zctx = zmq_ctx_new();
    if (zctx == NULL) {
        nw_log(NW_LOG_ERROR, "cannot create a ZeroMQ context: %s", zmq_strerror(errno));
        return S_EXIT_FAILURE;
    }
    zmq_ctx_set(zctx, ZMQ_MAX_SOCKETS, 65536);
    s_raise_fd_limit();
    s_warn_exposure(&cl->proxy);
    int rc = nw_proxy_new(zctx, &cl->proxy, &proxy, err, sizeof err);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "%s", err);
        status = rc == NW_ERR_ADDRINUSE || rc == NW_ERR_ENDPOINT ? S_EXIT_ENDPOINT
                 : rc == NW_ERR_NOTFOUND || rc == NW_ERR_CONFIG || rc == NW_ERR_PERM
                     ? S_EXIT_USAGE /* the --curve-allow folder */
                     : S_EXIT_FAILURE;
        goto cleanup;
    }
    sig->zctx = zctx;
    sig->stop_ep = nw_proxy_stop_endpoint(proxy);
    if (pthread_create(&sig->thread, NULL, s_signal_thread, sig) != 0) {
        nw_log(NW_LOG_ERROR, "cannot start the signal thread");
        goto cleanup;
    }
    nw_log(NW_LOG_INFO, "ready: %zu upstream(s), subscribers on %s, replay %s",
           cl->proxy.n_upstreams, nw_proxy_bound(proxy, 0),
           nw_proxy_replay_advertised(proxy)[0] != '\0' ? nw_proxy_replay_advertised(proxy)
                                                        : "passed through");
    rc = nw_proxy_run(proxy);
    atomic_store(&sig->done, true);
    pthread_kill(sig->thread, SIGTERM); /* blocked, so it only wakes sigwait */
    pthread_join(sig->thread, NULL);
    nw_proxy_stats_t st;
    nw_proxy_stats(proxy, &st);
    nw_log(NW_LOG_INFO,
           "stopped: %llu messages passed down (%llu bytes), %llu heartbeats rewritten (%llu "
           "that did not decode passed as they were), %llu subscription changes passed up",
           (unsigned long long)st.down_msgs_out, (unsigned long long)st.down_bytes_out,
           (unsigned long long)st.heartbeats, (unsigned long long)st.bad_heartbeats,
           (unsigned long long)st.down_msgs_in);
    status = rc == NW_OK ? S_EXIT_OK : S_EXIT_FAILURE;
cleanup:
    nw_proxy_destroy(&proxy);
    zmq_ctx_term(zctx);
    return status;
}

int main(int argc, char *argv[])
{
    s_cmdline_t cl;
    s_signals_t sig;
    memset(&sig, 0, sizeof sig);
    nw_log_set_program(S_PROGRAM);
    signal(SIGPIPE, SIG_IGN);
    int status = s_parse(argc, argv, &cl);
    if (status != S_EXIT_OK)
        return status;
    if (cl.help) {
        s_print_help(stdout);
        return S_EXIT_OK;
    }
    if (cl.version) {
        printf("%s %s\n", S_PROGRAM, NW_VERSION);
        return S_EXIT_OK;
    }
    /* Blocked before any thread exists, so ZeroMQ's threads inherit the mask and only
     * sigwait() ever sees these signals. The no-op handler keeps them from being dropped
     * when the proxy is a container's process 1 (whose default actions are ignored). */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigemptyset(&sig.set);
    sigaddset(&sig.set, SIGTERM);
    sigaddset(&sig.set, SIGINT);
    sigaddset(&sig.set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sig.set, NULL);
    atomic_init(&sig.done, false);
    return s_run(&cl, &sig);
}
