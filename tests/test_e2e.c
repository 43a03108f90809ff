/*
 * End-to-end tests: the real newswire-pub and newswire-sub binaries against each other, on
 * 127.0.0.1 tcp and on ipc in a temporary folder. What each subscriber must print is worked
 * out from `newswire-pub --dry-run` on the same articles and the protocol's matching rule.
 *
 * No fixed sleeps for synchronisation. Articles are dropped only once the publisher has
 * logged every subscription; a subscriber has seen everything published before a point once
 * it logs (at debug level) a heartbeat carrying the last published seq, because one
 * publisher's messages reach a subscriber in order. Exact checks are made after SIGTERM,
 * when the subscriber has flushed all it printed. (The one pause, in the last test, is a
 * slow writer's: the behaviour under test.)
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_testproc.h"
#include "nw_topic.h"

#define S_WAIT_MS       10000 /* generous: sanitizer builds on a busy machine */
#define S_STOP_MS       1000  /* SIGTERM must end a process within this */
#define S_MAX_ALERTS    512   /* alerts one test deals with, at most */
#define S_MAX_SUBS      8     /* subscribers one test runs, at most */
#define S_MAX_SETS      4     /* dry-run results one test keeps, at most */
#define S_HEARTBEAT     "100" /* ms: the barrier below waits for one heartbeat */
#define S_ROGUE_STREAM  "00000000deadbeef"
#define S_ROGUE_ARTICLE "feedfacefeedface"

static const char *const s_samples[] = {"01-tariffs-steel.txt", "02-defense-budget.txt",
                                        "03-energy-oil.txt", "04-offtopic-football.txt"};
#define S_N_SAMPLES (sizeof s_samples / sizeof s_samples[0])

/* One alert as the dry run describes it. */
typedef struct {
    char id[64];
    char topics[NW_ALERT_TOPICS_MAX][NW_TOPIC_MAX + 1];
    size_t n_topics;
} s_alert_t;

typedef struct {
    s_alert_t v[S_MAX_ALERTS];
    size_t n;
} s_alerts_t;

/* A subscriber process and the filters it was started with (NULL-terminated; none = all). */
typedef struct {
    const char *label;          /* for messages */
    const char *const *filters; /* its -t values */
    nw_testproc_t *proc;
} s_sub_t;

typedef struct {
    char *dir;           /* temporary folder for everything below */
    char spool[1024];    /* DIR/spool */
    char journal[1024];  /* DIR/journal */
    char endpoint[1200]; /* where the publisher listens, from its log */
    char stream[64];     /* the publisher's stream id, from its log */
    nw_testproc_t *pub;  /* the publisher */
    nw_testproc_t *old;  /* a publisher that was replaced (restart test) */
    s_sub_t subs[S_MAX_SUBS];
    size_t n_subs;
    s_alerts_t *sets[S_MAX_SETS]; /* dry-run results, freed by the teardown */
    size_t n_sets;
    void *zctx;  /* the rogue publisher's context */
    void *rogue; /* the rogue XPUB, NULL unless used */
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_non_null(f->dir = nw_test_tmpdir("nw-e2e"));
    snprintf(f->spool, sizeof f->spool, "%s/spool", f->dir);
    snprintf(f->journal, sizeof f->journal, "%s/journal", f->dir);
    *state = f;
    return 0;
}

static void s_dump(const char *what, nw_testproc_t *proc)
{
    if (proc == NULL)
        return;
    fprintf(stderr, "--- %s stdout ---\n%s--- %s stderr ---\n%s---\n", what,
            nw_testproc_output(proc, NW_TESTPROC_STDOUT), what,
            nw_testproc_output(proc, NW_TESTPROC_STDERR));
}

/* Stops proc with SIGTERM unless it has ended already. Returns its exit status. */
static int s_terminate(nw_testproc_t *proc, int timeout_ms)
{
    nw_testproc_signal(proc, SIGTERM);
    return nw_testproc_wait_exit(proc, timeout_ms);
}

/* Every process a test leaves behind must still stop cleanly: exit 0 on SIGTERM, which in
 * the sanitizer build also means no sanitizer report. */
static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    int rc = 0;
    for (size_t i = 0; i < f->n_subs; i++) {
        int status = s_terminate(f->subs[i].proc, S_WAIT_MS);
        if (status != 0) {
            fprintf(stderr, "subscriber %s: exit %d after SIGTERM\n", f->subs[i].label, status);
            s_dump(f->subs[i].label, f->subs[i].proc);
            rc = -1;
        }
        nw_testproc_destroy(&f->subs[i].proc);
    }
    nw_testproc_t *pubs[] = {f->pub, f->old};
    for (size_t i = 0; i < 2; i++) {
        if (pubs[i] != NULL && s_terminate(pubs[i], S_WAIT_MS) != 0) {
            fprintf(stderr, "newswire-pub: non-zero exit after SIGTERM\n");
            s_dump("newswire-pub", pubs[i]);
            rc = -1;
        }
    }
    nw_testproc_destroy(&f->pub);
    nw_testproc_destroy(&f->old);
    if (f->rogue != NULL)
        zmq_close(f->rogue);
    if (f->zctx != NULL)
        zmq_ctx_term(f->zctx);
    for (size_t i = 0; i < f->n_sets; i++)
        free(f->sets[i]);
    nw_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return rc;
}

static long s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Dumps every process of the test, then fails with msg. */
static void s_fail(s_fixture_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_fail(s_fixture_t *f, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s_dump("newswire-pub", f->pub);
    for (size_t i = 0; i < f->n_subs; i++)
        s_dump(f->subs[i].label, f->subs[i].proc);
    fail_msg("%s", msg);
}

/* Waits until at least n complete lines of the stream contain needle. */
static bool s_wait_count(nw_testproc_t *proc, nw_testproc_stream_t stream, const char *needle,
                         size_t n, int timeout_ms)
{
    long deadline = s_now_ms() + timeout_ms;
    while (nw_testproc_count_lines(proc, stream, needle) < n) {
        if (s_now_ms() >= deadline || nw_testproc_wait_exit(proc, 0) != NW_TESTPROC_TIMEOUT)
            return nw_testproc_count_lines(proc, stream, needle) >= n;
        /* Drains every process's pipes for up to 20 ms: this needle is never printed. */
        nw_testproc_wait_output(proc, stream, "\x01\x02\x03", 20);
    }
    return true;
}

static void s_expect_pub_log(s_fixture_t *f, const char *needle, size_t n)
{
    if (!s_wait_count(f->pub, NW_TESTPROC_STDERR, needle, n, S_WAIT_MS))
        s_fail(f, "newswire-pub never logged '%s' (x%zu)", needle, n);
}

/* Copies what follows prefix in text up to a space, quote or line end; false if absent. */
static bool s_after(const char *text, const char *prefix, char *out, size_t outlen)
{
    const char *at = strstr(text, prefix);
    if (at == NULL)
        return false;
    at += strlen(prefix);
    size_t n = strcspn(at, " ,'\"\n");
    if (n == 0 || n >= outlen)
        return false;
    memcpy(out, at, n);
    out[n] = '\0';
    return true;
}

/* Starts the publisher on bind with the fixture's spool and the given journal folder (NULL:
 * --no-journal), waits until it is ready and reads its endpoint and stream id. */
static void s_start_pub(s_fixture_t *f, const char *bind, const char *journal)
{
    const char *argv[16] = {NW_PUB_BIN, "--spool",     f->spool,   "--bind",
                            bind,       "--heartbeat", S_HEARTBEAT};
    size_t n = 7;
    if (journal != NULL) {
        argv[n++] = "--journal";
        argv[n++] = journal;
        /* Loopback only, and no clash with anything else on the default port. */
        argv[n++] = "--replay-bind";
        argv[n++] = "tcp://127.0.0.1:*";
    } else {
        argv[n++] = "--no-journal";
    }
    argv[n] = NULL;
    assert_non_null(f->pub = nw_testproc_start(argv, NULL));
    s_expect_pub_log(f, "ready: stream ", 1);
    const char *log = nw_testproc_output(f->pub, NW_TESTPROC_STDERR);
    assert_true(s_after(log, "info: listening on ", f->endpoint, sizeof f->endpoint));
    assert_true(s_after(log, "ready: stream ", f->stream, sizeof f->stream));
    assert_int_equal(strlen(f->stream), NW_STREAM_ID_LEN);
}

/* Starts a subscriber on the publisher's endpoint (and on extra_endpoint when not NULL)
 * with -t for each filter and the output format given. Debug logging shows heartbeats. */
static s_sub_t *s_start_sub(s_fixture_t *f, const char *label, const char *const *filters,
                            const char *format, const char *extra_endpoint)
{
    const char *argv[32] = {NW_SUB_BIN, "-c",       f->endpoint, "--log-level",
                            "debug",    "--format", format};
    size_t n = 7;
    if (extra_endpoint != NULL) {
        argv[n++] = "-c";
        argv[n++] = extra_endpoint;
    }
    for (size_t i = 0; filters[i] != NULL && n < 29; i++) {
        argv[n++] = "-t";
        argv[n++] = filters[i];
    }
    argv[n] = NULL;
    assert_true(f->n_subs < S_MAX_SUBS);
    s_sub_t *sub = &f->subs[f->n_subs];
    assert_non_null(sub->proc = nw_testproc_start(argv, (const char *[]){"NO_COLOR=1", NULL}));
    sub->label = label;
    sub->filters = filters;
    f->n_subs++;
    return sub;
}

/* The slow-joiner guard: waits until the publisher has logged the subscription to each of
 * filters (none means ''), at least `times` times each. */
static void s_wait_subscribed(s_fixture_t *f, const char *const *filters, size_t times)
{
    char needle[128];
    if (filters[0] == NULL) {
        s_expect_pub_log(f, "subscriber subscribed to '' ", times);
        return;
    }
    for (size_t i = 0; filters[i] != NULL; i++) {
        snprintf(needle, sizeof needle, "subscriber subscribed to '%s' ", filters[i]);
        s_expect_pub_log(f, needle, times);
    }
}

/* Drops an article into incoming/ the maildir way: write a dotfile, rename it in. */
static void s_drop(s_fixture_t *f, const char *name, const char *data, size_t len)
{
    char tmp[2048], path[2048];
    snprintf(tmp, sizeof tmp, "%s/incoming/.%s.tmp", f->spool, name);
    snprintf(path, sizeof path, "%s/incoming/%s", f->spool, name);
    assert_int_equal(nw_test_write_file(tmp, data, len), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static char *s_read(const char *path, size_t *len)
{
    char *text = nw_test_read_file(path, len);
    if (text == NULL)
        fail_msg("cannot read %s: %s", path, strerror(errno));
    return text;
}

static void s_sample_path(char *buf, size_t buflen, const char *name)
{
    snprintf(buf, buflen, "%s/articles/%s", NW_EXAMPLES_DIR, name);
}

/* Copies a file (by path) into the spool under name. */
static void s_drop_file(s_fixture_t *f, const char *path, const char *name)
{
    size_t len;
    char *text = s_read(path, &len);
    s_drop(f, name, text, len);
    free(text);
}

static void s_drop_sample(s_fixture_t *f, const char *name)
{
    char path[2048];
    s_sample_path(path, sizeof path, name);
    s_drop_file(f, path, name);
}

/* Waits for "published NAME: ..." and returns the last seq it names. */
static uint64_t s_wait_published(s_fixture_t *f, const char *name)
{
    char needle[512];
    snprintf(needle, sizeof needle, "published %s: ", name);
    s_expect_pub_log(f, needle, 1);
    const char *at = strstr(nw_testproc_output(f->pub, NW_TESTPROC_STDERR), needle);
    unsigned long long first = 0, last = 0;
    size_t alerts = 0, messages = 0;
    assert_int_equal(sscanf(at + strlen(needle), "%zu alerts, %zu messages, seq %llu-%llu", &alerts,
                            &messages, &first, &last),
                     4);
    assert_true(alerts > 0);
    return last;
}

/* Waits until every sample article is published; returns the highest seq they used. */
static uint64_t s_wait_samples_published(s_fixture_t *f)
{
    uint64_t last = 0;
    for (size_t i = 0; i < S_N_SAMPLES; i++) {
        uint64_t l = s_wait_published(f, s_samples[i]);
        last = l > last ? l : last;
    }
    return last;
}

/* Waits until sub has logged a heartbeat of the current stream with seq `seq`: everything
 * the publisher sent before that heartbeat has reached the subscriber. */
static void s_barrier(s_fixture_t *f, s_sub_t *sub, uint64_t seq)
{
    char needle[128];
    snprintf(needle, sizeof needle, "heartbeat: stream %s seq %llu\n", f->stream,
             (unsigned long long)seq);
    if (!nw_testproc_wait_output(sub->proc, NW_TESTPROC_STDERR, needle, S_WAIT_MS))
        s_fail(f, "subscriber %s never logged '%.*s'", sub->label, (int)strlen(needle) - 1, needle);
}

/* SIGTERM; the subscriber must exit 0 within a second, after printing its summary. Returns
 * its standard error. */
static const char *s_stop_sub(s_fixture_t *f, s_sub_t *sub)
{
    assert_int_equal(nw_testproc_signal(sub->proc, SIGTERM), 0);
    int status = nw_testproc_wait_exit(sub->proc, S_STOP_MS);
    if (status != 0)
        s_fail(f, "subscriber %s: exit %d after SIGTERM (%d = still running)", sub->label, status,
               NW_TESTPROC_TIMEOUT);
    const char *err = nw_testproc_output(sub->proc, NW_TESTPROC_STDERR);
    if (strstr(err, "newswire-sub: received ") == NULL)
        s_fail(f, "subscriber %s printed no summary line", sub->label);
    return err;
}

/* --- The dry run: what should be published ------------------------------------------ */

/* Parses one dry-run (or --format json) line: its id and topics. */
static bool s_parse_json_alert(const char *line, size_t len, s_alert_t *a)
{
    memset(a, 0, sizeof *a);
    /* Keys and topic names hold no quotes or escapes; `"key":` cannot occur inside a JSON
     * string, whose quotes are escaped. */
    const char *id = strstr(line, "{\"id\":\"");
    const char *topics = strstr(line, "\"topics\":[");
    if (id != line || topics == NULL || topics > line + len)
        return false;
    id += strlen("{\"id\":\"");
    size_t n = strcspn(id, "\"");
    if (n == 0 || n >= sizeof a->id)
        return false;
    memcpy(a->id, id, n);
    for (const char *t = topics + strlen("\"topics\":["); *t == '"';) {
        t++;
        n = strcspn(t, "\"");
        if (n == 0 || n > NW_TOPIC_MAX || a->n_topics == NW_ALERT_TOPICS_MAX)
            return false;
        memcpy(a->topics[a->n_topics++], t, n);
        t += n + 1;
        if (*t == ',')
            t++;
    }
    return a->n_topics > 0;
}

/* Runs `newswire-pub --dry-run` on paths (NULL-terminated) and appends its alerts to out. */
static void s_dry_run(const char *const *paths, s_alerts_t *out)
{
    const char *argv[16] = {NW_PUB_BIN, "--dry-run"};
    size_t n = 2;
    for (size_t i = 0; paths[i] != NULL && n < 15; i++)
        argv[n++] = paths[i];
    argv[n] = NULL;
    nw_testproc_t *dry = nw_testproc_start(argv, NULL);
    assert_non_null(dry);
    int status = nw_testproc_wait_exit(dry, S_WAIT_MS);
    if (status != 0) {
        s_dump("newswire-pub --dry-run", dry);
        fail_msg("newswire-pub --dry-run: exit %d", status);
    }
    const char *text = nw_testproc_output(dry, NW_TESTPROC_STDOUT);
    for (const char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        assert_true(out->n < S_MAX_ALERTS);
        if (!s_parse_json_alert(line, (size_t)(nl - line), &out->v[out->n]))
            fail_msg("dry run: cannot parse '%.*s'", (int)(nl - line), line);
        out->n++;
    }
    nw_testproc_destroy(&dry);
}

/* The dry run of some sample articles. */
static void s_dry_run_samples(const char *const *names, size_t n, s_alerts_t *out)
{
    char paths[8][2048];
    const char *argv[9];
    assert_true(n < 9);
    for (size_t i = 0; i < n; i++) {
        s_sample_path(paths[i], sizeof paths[i], names[i]);
        argv[i] = paths[i];
    }
    argv[n] = NULL;
    s_dry_run(argv, out);
}

/* A new, empty set, freed by the teardown (also when an assertion fails). */
static s_alerts_t *s_alerts_new(s_fixture_t *f)
{
    assert_true(f->n_sets < S_MAX_SETS);
    s_alerts_t *a = calloc(1, sizeof *a);
    assert_non_null(a);
    f->sets[f->n_sets++] = a;
    return a;
}

/* The protocol's rule: an alert reaches a subscriber when one of its topics matches one of
 * the subscriber's filters (no filter: the empty one, everything). */
static bool s_wanted(const s_alert_t *a, const char *const *filters)
{
    for (size_t t = 0; t < a->n_topics; t++) {
        if (filters[0] == NULL && nw_topic_matches("", a->topics[t]))
            return true;
        for (size_t i = 0; filters[i] != NULL; i++) {
            if (nw_topic_matches(filters[i], a->topics[t]))
                return true;
        }
    }
    return false;
}

/* --- What a subscriber printed ------------------------------------------------------- */

/* The id of one output line: a JSON Lines object, or a line that is the id (--format %i). */
static bool s_line_id(const char *line, size_t len, char *id, size_t idlen)
{
    if (len > 0 && line[0] == '{') {
        s_alert_t a;
        if (!s_parse_json_alert(line, len, &a))
            return false;
        snprintf(id, idlen, "%s", a.id);
        return true;
    }
    if (len == 0 || len >= idlen)
        return false;
    memcpy(id, line, len);
    id[len] = '\0';
    return true;
}

static size_t s_count_id(char (*ids)[64], size_t n, const char *id)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += strcmp(ids[i], id) == 0;
    return count;
}

/* Checks that sub printed exactly the alerts of `all` its filters select, plus the extra ids
 * given (NULL-terminated, may be NULL): each once, nothing else. */
static void s_check_exact(s_fixture_t *f, s_sub_t *sub, const s_alerts_t *all,
                          const char *const *extra)
{
    static char got[S_MAX_ALERTS * 2][64];
    size_t n_got = 0, n_want = 0;
    const char *text = nw_testproc_output(sub->proc, NW_TESTPROC_STDOUT);
    for (const char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        if (n_got == S_MAX_ALERTS * 2 ||
            !s_line_id(line, (size_t)(nl - line), got[n_got], sizeof got[n_got]))
            s_fail(f, "subscriber %s: unexpected output line '%.*s'", sub->label, (int)(nl - line),
                   line);
        n_got++;
    }
    for (size_t i = 0; i < all->n; i++) {
        if (!s_wanted(&all->v[i], sub->filters))
            continue;
        n_want++;
        size_t count = s_count_id(got, n_got, all->v[i].id);
        if (count != 1)
            s_fail(f, "subscriber %s printed alert %s %zu times, want once", sub->label,
                   all->v[i].id, count);
    }
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        n_want++;
        size_t count = s_count_id(got, n_got, extra[i]);
        if (count != 1)
            s_fail(f, "subscriber %s printed %s %zu times, want once", sub->label, extra[i], count);
    }
    /* Every wanted id appears once, so any further line is an alert it should not have. */
    if (n_got != n_want)
        s_fail(f, "subscriber %s printed %zu alerts, want %zu", sub->label, n_got, n_want);
}

/* Reads N from the summary's "printed N," */
static unsigned long s_summary_printed(const char *err)
{
    const char *at = strstr(err, "newswire-sub: received ");
    assert_non_null(at);
    at = strstr(at, "printed ");
    assert_non_null(at);
    return strtoul(at + strlen("printed "), NULL, 10);
}

/* --- 1, 2: fan-out to several filters ------------------------------------------------- */

static const char *const s_no_filter[] = {NULL};
static const char *const s_tariffs[] = {"tariffs", NULL};
static const char *const s_defense[] = {"defense", NULL};
static const char *const s_energy[] = {"energy", NULL};

/* One publisher on bind, four subscribers (tariffs, defense, energy, everything), the four
 * sample articles: each subscriber prints exactly what its filter selects. */
static void s_fan_out(s_fixture_t *f, const char *bind)
{
    s_alerts_t *all = s_alerts_new(f);
    s_dry_run_samples(s_samples, S_N_SAMPLES, all);
    assert_true(all->n > 0);

    s_start_pub(f, bind, f->journal);
    s_sub_t *subs[] = {
        s_start_sub(f, "tariffs", s_tariffs, "json", NULL),
        s_start_sub(f, "defense", s_defense, "json", NULL),
        s_start_sub(f, "energy", s_energy, "%i", NULL),
        s_start_sub(f, "everything", s_no_filter, "json", NULL),
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        s_wait_subscribed(f, subs[i]->filters, 1);

    for (size_t i = 0; i < S_N_SAMPLES; i++)
        s_drop_sample(f, s_samples[i]);
    uint64_t last = s_wait_samples_published(f);
    assert_int_equal(last, all->n); /* a fresh journal numbers the alerts 1..n */

    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        s_barrier(f, subs[i], last);
        const char *err = s_stop_sub(f, subs[i]);
        s_check_exact(f, subs[i], all, NULL);
        assert_int_equal(s_summary_printed(err),
                         nw_testproc_count_lines(subs[i]->proc, NW_TESTPROC_STDOUT, ""));
        if (strstr(err, "gap:") != NULL)
            s_fail(f, "subscriber %s reported a gap", subs[i]->label);
    }
}

static void test_fan_out_over_tcp(void **state)
{
    s_fan_out(*state, "tcp://127.0.0.1:*");
}

static void test_fan_out_over_ipc(void **state)
{
    s_fixture_t *f = *state;
    char bind[1100];
    snprintf(bind, sizeof bind, "ipc://%s/pub.ipc", f->dir);
    s_fan_out(f, bind);
    assert_string_equal(f->endpoint, bind);
}

/* --- 3: a subscriber that joins late --------------------------------------------------- */

static void test_late_subscriber_gets_everything_from_its_start(void **state)
{
    s_fixture_t *f = *state;
    s_alerts_t *before = s_alerts_new(f), *after = s_alerts_new(f);
    s_dry_run_samples(s_samples, 2, before);
    s_dry_run_samples(s_samples + 2, 2, after);

    s_start_pub(f, "tcp://127.0.0.1:*", f->journal);
    s_drop_sample(f, s_samples[0]);
    s_drop_sample(f, s_samples[1]);
    s_wait_published(f, s_samples[0]);
    s_wait_published(f, s_samples[1]);

    s_sub_t *late = s_start_sub(f, "late", s_no_filter, "json", NULL);
    s_wait_subscribed(f, s_no_filter, 1);
    s_drop_sample(f, s_samples[2]);
    s_drop_sample(f, s_samples[3]);
    s_wait_published(f, s_samples[2]);
    uint64_t last = s_wait_published(f, s_samples[3]);
    assert_int_equal(last, before->n + after->n);

    s_barrier(f, late, last);
    const char *err = s_stop_sub(f, late);
    /* Live only: the alerts of the articles dropped after it subscribed, none of before. */
    s_check_exact(f, late, after, NULL);
    /* Joining late is not a loss: the first number seen on a topic is its start. */
    if (strstr(err, "gap:") != NULL)
        s_fail(f, "the late subscriber reported a gap");
}

/* --- 4: the publisher restarts under a running subscriber ------------------------------ */

static void test_publisher_restart_is_reconnected_and_reported(void **state)
{
    s_fixture_t *f = *state;
    char bind[64], first_stream[64], journal2[1100];
    s_alerts_t *two = s_alerts_new(f), *both = s_alerts_new(f);
    s_dry_run_samples(s_samples + 1, 1, two);
    s_dry_run_samples(s_samples, 2, both);
    int port = nw_test_free_port();
    assert_true(port > 0);
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", port);

    s_start_pub(f, bind, f->journal);
    snprintf(first_stream, sizeof first_stream, "%s", f->stream);
    s_sub_t *sub = s_start_sub(f, "everything", s_no_filter, "json", NULL);
    s_wait_subscribed(f, s_no_filter, 1);
    s_drop_sample(f, s_samples[0]);
    s_barrier(f, sub, s_wait_published(f, s_samples[0]));

    /* SIGTERM, then a new publisher on the same port with a new journal: a new stream. */
    f->old = f->pub;
    f->pub = NULL;
    int status = s_terminate(f->old, S_STOP_MS);
    if (status != 0)
        s_fail(f, "first publisher: exit %d after SIGTERM", status);
    snprintf(journal2, sizeof journal2, "%s/journal2", f->dir);
    s_start_pub(f, bind, journal2);
    assert_string_not_equal(f->stream, first_stream);

    /* The subscriber reconnects by itself: the new publisher sees its subscription. */
    s_wait_subscribed(f, s_no_filter, 1);
    s_drop_sample(f, s_samples[1]);
    s_barrier(f, sub, s_wait_published(f, s_samples[1]));

    char needle[256];
    snprintf(needle, sizeof needle, "stream %s: new publisher stream, replacing %s", f->stream,
             first_stream);
    if (!nw_testproc_wait_output(sub->proc, NW_TESTPROC_STDERR, needle, S_WAIT_MS))
        s_fail(f, "the subscriber did not report '%s'", needle);
    s_stop_sub(f, sub);
    s_check_exact(f, sub, both, NULL);
    /* The second article's alerts came from the new stream. */
    char stream_field[128];
    snprintf(stream_field, sizeof stream_field, "\"stream\":\"%s\"", f->stream);
    assert_int_equal(nw_testproc_count_lines(sub->proc, NW_TESTPROC_STDOUT, stream_field), two->n);
}

/* --- 5: bad articles among good ones ------------------------------------------------- */

/* Waits until spool/failed/NAME and its .error exist; returns the .error text. */
static char *s_expect_failed(s_fixture_t *f, const char *name)
{
    char needle[512], path[2048];
    snprintf(needle, sizeof needle, "%s: ", name);
    s_expect_pub_log(f, needle, 1); /* logged once the article has been moved */
    snprintf(path, sizeof path, "%s/failed/%s", f->spool, name);
    if (access(path, F_OK) != 0)
        s_fail(f, "%s is not in failed/", name);
    snprintf(path, sizeof path, "%s/failed/%s.error", f->spool, name);
    char *reason = s_read(path, NULL);
    if (strncmp(reason, needle, strlen(needle)) != 0 || strchr(reason, '\n') == NULL)
        s_fail(f, "%s.error: '%s' does not name the file", name, reason);
    return reason;
}

static void test_bad_articles_fail_and_good_ones_are_delivered(void **state)
{
    s_fixture_t *f = *state;
    static const char binary[] = "\x7f"
                                 "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0\0\0";
    s_alerts_t *good = s_alerts_new(f);
    s_dry_run_samples(s_samples, S_N_SAMPLES, good);

    s_start_pub(f, "tcp://127.0.0.1:*", f->journal);
    s_sub_t *sub = s_start_sub(f, "everything", s_no_filter, "json", NULL);
    s_wait_subscribed(f, s_no_filter, 1);
    /* Name order interleaves them: 00 first, 02b between two good ones. */
    s_drop(f, "00-empty.txt", "", 0);
    s_drop_sample(f, s_samples[0]);
    s_drop_sample(f, s_samples[1]);
    s_drop(f, "02b-binary.txt", binary, sizeof binary - 1);
    s_drop_sample(f, s_samples[2]);
    s_drop_sample(f, s_samples[3]);

    char *empty = s_expect_failed(f, "00-empty.txt");
    char *bin = s_expect_failed(f, "02b-binary.txt");
    if (strstr(empty, "empty") == NULL || strstr(bin, "binary") == NULL)
        s_fail(f, "reasons do not say what is wrong: '%s' / '%s'", empty, bin);
    free(empty);
    free(bin);
    uint64_t last = s_wait_samples_published(f);
    s_barrier(f, sub, last);
    const char *err = s_stop_sub(f, sub);
    s_check_exact(f, sub, good, NULL);
    assert_int_equal(s_summary_printed(err), good->n);
}

/* --- 6: a rogue publisher sending garbage ------------------------------------------------ */

/* Binds the rogue XPUB (it sees subscriptions, so the test can wait for them). */
static void s_rogue_bind(s_fixture_t *f, char *endpoint, size_t len)
{
    int zero = 0;
    assert_non_null(f->zctx = zmq_ctx_new());
    assert_non_null(f->rogue = zmq_socket(f->zctx, ZMQ_XPUB));
    assert_int_equal(zmq_setsockopt(f->rogue, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal(zmq_setsockopt(f->rogue, ZMQ_SNDHWM, &zero, sizeof zero), 0);
    assert_int_equal(zmq_bind(f->rogue, "tcp://127.0.0.1:*"), 0);
    assert_int_equal(zmq_getsockopt(f->rogue, ZMQ_LAST_ENDPOINT, endpoint, &len), 0);
}

static void s_rogue_wait_subscribed(s_fixture_t *f, const char *filter)
{
    long deadline = s_now_ms() + S_WAIT_MS;
    while (s_now_ms() < deadline) {
        zmq_pollitem_t item = {f->rogue, 0, ZMQ_POLLIN, 0};
        char msg[128];
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        int len = zmq_recv(f->rogue, msg, sizeof msg, ZMQ_DONTWAIT);
        if (len == (int)strlen(filter) + 1 && msg[0] == 1 && memcmp(msg + 1, filter, len - 1) == 0)
            return;
    }
    s_fail(f, "the rogue publisher never saw a subscription to '%s'", filter);
}

static void s_rogue_send(s_fixture_t *f, const char *topic, const void *body, size_t len, int more)
{
    assert_int_equal(zmq_send(f->rogue, topic, strlen(topic), ZMQ_SNDMORE), (int)strlen(topic));
    assert_int_equal(zmq_send(f->rogue, body, len, more), (int)len);
}

/* Five bad messages on the alert topic. */
static void s_rogue_garbage(s_fixture_t *f)
{
    unsigned char noise[300];
    unsigned int seed = (unsigned int)s_now_ms();
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)rand_r(&seed);
    noise[0] = 0xc1; /* never valid MessagePack, so the noise cannot decode by chance */
    assert_int_equal(zmq_send(f->rogue, "tariffs", 7, 0), 7); /* one frame */
    s_rogue_send(f, "tariffs", "x", 1, ZMQ_SNDMORE);          /* three frames */
    assert_int_equal(zmq_send(f->rogue, "y", 1, 0), 1);
    s_rogue_send(f, "tariffs", noise, sizeof noise, 0);              /* random bytes */
    s_rogue_send(f, "tariffs", "\xdd\xff\xff\xff\xff", 5, 0);        /* array of 2^32-1 */
    static const char truncated[] = "\xde\x00\x12\xa1v\x01\xa4type"; /* map of 18, 2 keys */
    s_rogue_send(f, "tariffs", truncated, sizeof truncated - 1, 0);
}

/* A valid alert from the rogue: once it is printed, everything the rogue sent before it
 * has been handled. */
static void s_rogue_marker(s_fixture_t *f, uint32_t index, char *id, size_t idlen)
{
    nw_alert_t a;
    char *data;
    size_t size;
    snprintf(id, idlen, "%s.%u", S_ROGUE_ARTICLE, index);
    assert_int_equal(nw_alert_init(&a), NW_OK);
    assert_int_equal(nw_alert_set(&a.id, id), NW_OK);
    assert_int_equal(nw_alert_set(&a.article_id, S_ROGUE_ARTICLE), NW_OK);
    assert_int_equal(nw_alert_set(&a.text, "marker"), NW_OK);
    assert_int_equal(nw_alert_set(&a.stream, S_ROGUE_STREAM), NW_OK);
    a.index = index;
    a.kind = NW_KIND_PARAGRAPH;
    a.published_ms = 1764278095000;
    a.seq = index;
    assert_int_equal(nw_alert_add_topic(&a, "tariffs"), NW_OK);
    a.topics[0].seq = index;
    assert_int_equal(nw_alert_encode(&a, &data, &size), NW_OK);
    s_rogue_send(f, "tariffs", data, size, 0);
    free(data);
    nw_alert_clear(&a);
}

static void test_rogue_garbage_is_counted_and_good_alerts_flow(void **state)
{
    s_fixture_t *f = *state;
    char rogue[256], marker1[64], marker2[64];
    s_alerts_t *all = s_alerts_new(f);
    s_dry_run_samples(s_samples, S_N_SAMPLES, all);
    s_rogue_bind(f, rogue, sizeof rogue);
    s_start_pub(f, "tcp://127.0.0.1:*", f->journal);
    s_sub_t *sub = s_start_sub(f, "tariffs", s_tariffs, "json", rogue);
    s_wait_subscribed(f, s_tariffs, 1);
    s_rogue_wait_subscribed(f, "tariffs");

    s_rogue_garbage(f);
    s_rogue_marker(f, 1, marker1, sizeof marker1);
    if (!nw_testproc_wait_output(sub->proc, NW_TESTPROC_STDOUT, marker1, S_WAIT_MS))
        s_fail(f, "the subscriber stopped printing after garbage");
    for (size_t i = 0; i < S_N_SAMPLES; i++)
        s_drop_sample(f, s_samples[i]);
    s_rogue_garbage(f); /* while the publisher works through the articles */
    s_rogue_marker(f, 2, marker2, sizeof marker2);
    uint64_t last = s_wait_samples_published(f);
    s_barrier(f, sub, last);
    if (!nw_testproc_wait_output(sub->proc, NW_TESTPROC_STDOUT, marker2, S_WAIT_MS))
        s_fail(f, "the second marker was not printed");

    const char *err = s_stop_sub(f, sub);
    if (strstr(err, ", bad frames 10\n") == NULL)
        s_fail(f, "the summary does not count 10 bad frames");
    if (strstr(err, "bad frame ignored") == NULL)
        s_fail(f, "bad frames were not logged");
    s_check_exact(f, sub, all, (const char *[]){marker1, marker2, NULL});
}

/* --- 7: clean shutdown ------------------------------------------------------------------ */

static void test_sigterm_stops_every_process_within_a_second(void **state)
{
    s_fixture_t *f = *state;
    s_start_pub(f, "tcp://127.0.0.1:*", f->journal);
    s_sub_t *subs[] = {
        s_start_sub(f, "tariffs", s_tariffs, "json", NULL),
        s_start_sub(f, "defense", s_defense, "%i", NULL),
        s_start_sub(f, "everything", s_no_filter, "json", NULL),
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        s_wait_subscribed(f, subs[i]->filters, 1);
    for (size_t i = 0; i < S_N_SAMPLES; i++)
        s_drop_sample(f, s_samples[i]);
    uint64_t last = s_wait_samples_published(f);
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        s_barrier(f, subs[i], last);

    /* The publisher with subscribers connected, then the subscribers with it gone. */
    long start = s_now_ms();
    assert_int_equal(nw_testproc_signal(f->pub, SIGTERM), 0);
    int status = nw_testproc_wait_exit(f->pub, S_STOP_MS);
    if (status != 0)
        s_fail(f, "newswire-pub: status %d %ld ms after SIGTERM (%d = still running)", status,
               s_now_ms() - start, NW_TESTPROC_TIMEOUT);
    s_expect_pub_log(f, "stopping on SIGTERM", 1);
    s_expect_pub_log(f, "stopped: 4 articles published, 0 failed", 1);
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        s_stop_sub(f, subs[i]);
}

/* --- 8: the seed article from ../shared ----------------------------------------------- */

/* True when a keypoint line of sub's output holds text. */
static bool s_has_keypoint(s_sub_t *sub, const char *text)
{
    const char *out = nw_testproc_output(sub->proc, NW_TESTPROC_STDOUT);
    for (const char *line = out, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        const char *kind = strstr(line, "\"kind\":\"keypoint\"");
        const char *hit = strstr(line, text);
        if (kind != NULL && kind < nl && hit != NULL && hit < nl)
            return true;
    }
    return false;
}

static void test_seed_article_from_shared(void **state)
{
    s_fixture_t *f = *state;
    const char *path = NW_SHARED_DIR "/corpus/seed/tariffs-japan.txt";
    if (access(path, R_OK) != 0) {
        printf("SKIPPED: %s not found (../shared is not there)\n", path);
        skip();
    }
    s_alerts_t *all = s_alerts_new(f);
    s_dry_run((const char *[]){path, NULL}, all);
    s_start_pub(f, "tcp://127.0.0.1:*", f->journal);
    s_sub_t *subs[] = {
        s_start_sub(f, "tariffs", s_tariffs, "json", NULL),
        s_start_sub(f, "defense", s_defense, "json", NULL),
        s_start_sub(f, "energy", s_energy, "json", NULL),
        s_start_sub(f, "everything", s_no_filter, "json", NULL),
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        s_wait_subscribed(f, subs[i]->filters, 1);
    s_drop_file(f, path, "tariffs-japan.txt");
    uint64_t last = s_wait_published(f, "tariffs-japan.txt");
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        s_barrier(f, subs[i], last);
        s_stop_sub(f, subs[i]);
        s_check_exact(f, subs[i], all, NULL);
    }
    /* What a reader of each topic must get, whatever the tagger's details. */
    static const char *const tariff_points[] = {
        "Japan pushing for tariff relief", "90-day global tariff pause excludes tariffs on China",
        "Japan faces 25% tariffs on autos, steel, aluminum"};
    for (size_t i = 0; i < sizeof tariff_points / sizeof tariff_points[0]; i++) {
        if (!s_has_keypoint(subs[0], tariff_points[i]))
            s_fail(f, "the tariffs subscriber did not get the key point '%s'", tariff_points[i]);
    }
    if (!s_has_keypoint(subs[1], "military cost-sharing"))
        s_fail(f, "the defense subscriber did not get the military cost-sharing key point");
}

/* --- 9: an article still being written into incoming/ ------------------------------- */

static void test_article_written_in_place_is_taken_once_complete(void **state)
{
    s_fixture_t *f = *state;
    char sample[2048], path[2048];
    s_sample_path(sample, sizeof sample, s_samples[0]);
    s_alerts_t *all = s_alerts_new(f);
    s_dry_run((const char *[]){sample, NULL}, all);
    size_t len;
    char *text = s_read(sample, &len);
    /* Split after a line in the middle: the first half alone is a publishable article. */
    const char *cut = strchr(text + len / 2, '\n');
    assert_non_null(cut);
    size_t half = (size_t)(cut + 1 - text);

    s_start_pub(f, "tcp://127.0.0.1:*", f->journal);
    s_sub_t *sub = s_start_sub(f, "everything", s_no_filter, "json", NULL);
    s_wait_subscribed(f, s_no_filter, 1);

    /* Like a plain `cp` from a slow source: created in incoming/ under its final name. */
    snprintf(path, sizeof path, "%s/incoming/slow.txt", f->spool);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, half), (ssize_t)half);
    /* The writer stalls (not a synchronisation sleep: this is the behaviour under test). */
    nanosleep(&(struct timespec){.tv_nsec = 200 * 1000000L}, NULL);
    assert_int_equal(write(fd, text + half, len - half), (ssize_t)(len - half));
    assert_int_equal(close(fd), 0);
    free(text);

    uint64_t last = s_wait_published(f, "slow.txt");
    if (last != all->n) /* one article, published whole, once */
        s_fail(f, "slow.txt: %llu alerts published, the whole article has %zu",
               (unsigned long long)last, all->n);
    s_barrier(f, sub, last);
    s_stop_sub(f, sub);
    s_check_exact(f, sub, all, NULL);
    assert_int_equal(nw_testproc_count_lines(f->pub, NW_TESTPROC_STDERR, "published "), 1);
    snprintf(path, sizeof path, "%s/failed/slow.txt", f->spool);
    assert_int_not_equal(access(path, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fan_out_over_tcp, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_fan_out_over_ipc, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_late_subscriber_gets_everything_from_its_start,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_publisher_restart_is_reconnected_and_reported, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_articles_fail_and_good_ones_are_delivered, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_rogue_garbage_is_counted_and_good_alerts_flow, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_stops_every_process_within_a_second, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_seed_article_from_shared, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_article_written_in_place_is_taken_once_complete,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
