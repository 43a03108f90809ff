/*
 * Delivery guarantees (issue 6) with real processes: newswire-pub with its journal and
 * replay endpoint, durable newswire-sub (--state, --log) on 127.0.0.1, killed, frozen and
 * restarted; journals damaged on disk; a journal on a full tmpfs.
 *
 * Every wait watches for an outcome (a log line, a number of lines in a --log file) with a
 * deadline; timing only chooses when to kill or how long to freeze. Counts are scaled down
 * under AddressSanitizer (the plain build runs the numbers).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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
#include <dirent.h>

#include "nw_testproc.h"

#if defined(__SANITIZE_ADDRESS__)
#define S_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_ASAN 1
#endif
#endif
#ifndef S_ASAN
#define S_ASAN 0
#endif

#define S_START_MS 20000 /* a process start or a log line, generous for sanitizers */
#define S_LINES_MS 90000 /* a whole stream reaching a log */

/* The tiny taxonomy: "zebra" articles are alpha, "yak" articles beta. */
static const char s_taxonomy[] = "topic: alpha\nthreshold: 1\n5: zebra\n\n"
                                 "topic: beta\nthreshold: 1\n5: yak\n";

typedef struct {
    char *dir;          /* temporary folder for everything below */
    char spool[1024];   /* DIR/spool */
    char jdir[1024];    /* the journal: DIR/journal, or on the tmpfs */
    char tax[1024];     /* DIR/tax.conf */
    char mnt[1024];     /* tmpfs mount point, "" when none is mounted */
    char ep[64];        /* alert endpoint, fixed across publisher restarts */
    char rep[64];       /* replay endpoint, fixed too */
    nw_testproc_t *pub; /* the publisher */
    nw_testproc_t *sub; /* the durable subscriber */
} s_fx_t;

/* A --log file read incrementally: complete lines counted so far. */
typedef struct {
    char path[1024];
    off_t offset; /* bytes up to the last complete line counted */
    size_t lines; /* complete lines before offset */
} s_log_t;

/* --- fixture --------------------------------------------------------------------------- */

static int s_setup(void **state)
{
    s_fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_non_null(f->dir = nw_test_tmpdir("nw-delivery"));
    snprintf(f->spool, sizeof f->spool, "%s/spool", f->dir);
    snprintf(f->jdir, sizeof f->jdir, "%s/journal", f->dir);
    snprintf(f->tax, sizeof f->tax, "%s/tax.conf", f->dir);
    assert_int_equal(nw_test_write_file(f->tax, s_taxonomy, strlen(s_taxonomy)), 0);
    int port = nw_test_free_port(), rport = nw_test_free_port();
    assert_true(port > 0 && rport > 0 && port != rport);
    snprintf(f->ep, sizeof f->ep, "tcp://127.0.0.1:%d", port);
    snprintf(f->rep, sizeof f->rep, "tcp://127.0.0.1:%d", rport);
    *state = f;
    return 0;
}

static void s_dump(nw_testproc_t *p, const char *what)
{
    if (p != NULL)
        fprintf(stderr, "--- %s stderr ---\n%s---\n", what,
                nw_testproc_output(p, NW_TESTPROC_STDERR));
}

static int s_teardown(void **state)
{
    s_fx_t *f = *state;
    nw_testproc_destroy(&f->sub);
    nw_testproc_destroy(&f->pub);
    if (f->mnt[0] != '\0') {
        char cmd[PATH_MAX + 32];
        snprintf(cmd, sizeof cmd, "umount -l '%s' 2>/dev/null", f->mnt);
        if (system(cmd) != 0)
            fprintf(stderr, "teardown: cannot unmount %s\n", f->mnt);
    }
    nw_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* --- processes -------------------------------------------------------------------------- */

static void s_expect(nw_testproc_t *p, const char *needle, int ms, const char *what)
{
    if (!nw_testproc_wait_output(p, NW_TESTPROC_STDERR, needle, ms)) {
        s_dump(p, what);
        fail_msg("%s never logged '%s'", what, needle);
    }
}

/* Lets every live process run (draining its pipes) for ms. */
static void s_pause(nw_testproc_t *any, int ms)
{
    nw_testproc_wait_output(any, NW_TESTPROC_STDERR, "\x01 never printed", ms);
}

/* Starts the publisher on the fixture's endpoints, journal and spool, plus extra args
 * (NULL-terminated, may be NULL) and environment entries env ("NAME=VALUE", NULL-terminated,
 * may be NULL); waits until it is ready. */
static void s_pub_start_env(s_fx_t *f, const char *const *extra, const char *const *env)
{
    const char *argv[40] = {NW_PUB_BIN, "--spool",         f->spool, "--journal",
                            f->jdir,    "--bind",          f->ep,    "--replay-bind",
                            f->rep,     "--topics",        f->tax,   "--heartbeat",
                            "100",      "--journal-fsync", "never"};
    size_t n = 15;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 39; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    nw_testproc_destroy(&f->pub);
    assert_non_null(f->pub = nw_testproc_start(argv, env));
    s_expect(f->pub, "ready: stream ", S_START_MS, "newswire-pub");
}

static void s_pub_start(s_fx_t *f, const char *const *extra)
{
    s_pub_start_env(f, extra, NULL);
}

/* Starts a durable subscriber (--state DIR/state, --log log) plus extra args. */
static void s_sub_start(s_fx_t *f, const s_log_t *log, const char *const *extra)
{
    char state[PATH_MAX];
    snprintf(state, sizeof state, "%s/state", f->dir);
    const char *argv[40] = {
        NW_SUB_BIN, "-c",      f->ep,     "-q",    "--state",         state,
        "--log",    log->path, "--fsync", "never", "--on-new-stream", "beginning"};
    size_t n = 12;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 39; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    nw_testproc_destroy(&f->sub);
    assert_non_null(f->sub = nw_testproc_start(argv, NULL));
    s_expect(f->sub, "subscribed; connecting", S_START_MS, "newswire-sub");
}

/* SIGTERMs a process and expects exit 0. */
static void s_stop(nw_testproc_t **p, const char *what)
{
    nw_testproc_signal(*p, SIGTERM);
    int status = nw_testproc_wait_exit(*p, S_START_MS);
    if (status != 0) {
        s_dump(*p, what);
        fail_msg("%s: exit %d after SIGTERM", what, status);
    }
}

static void s_kill9(nw_testproc_t **p)
{
    nw_testproc_signal(*p, SIGKILL);
    assert_int_equal(nw_testproc_wait_exit(*p, S_START_MS), 128 + SIGKILL);
    nw_testproc_destroy(p);
}

/* --- articles ------------------------------------------------------------------------- */

/* Writes an article of a headline and paras paragraphs about word ("Zebra": alpha, "Yak":
 * beta) outside incoming/, then renames it in (the spool's convention). */
static void s_article(const s_fx_t *f, const char *name, const char *word, int paras)
{
    size_t cap = (size_t)paras * 48 + 128, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "%s report %s\n\n", word, name);
    for (int i = 0; i < paras; i++)
        len +=
            (size_t)snprintf(text + len, cap - len, "%s item %d of %s moves.\n\n", word, i, name);
    char tmp[PATH_MAX], dst[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/%s", f->dir, name);
    snprintf(dst, sizeof dst, "%s/incoming/%s", f->spool, name);
    assert_int_equal(nw_test_write_file(tmp, text, len), 0);
    assert_int_equal(rename(tmp, dst), 0);
    free(text);
}

/* --- --log files ------------------------------------------------------------------------- */

static void s_log_init(s_log_t *log, const s_fx_t *f, const char *name)
{
    memset(log, 0, sizeof *log);
    snprintf(log->path, sizeof log->path, "%s/%s", f->dir, name);
}

/* Counts the complete lines added since the last call. A file that shrank (the subscriber
 * cut a partial line) is counted again from the start. */
static size_t s_log_count(s_log_t *log)
{
    struct stat st;
    if (stat(log->path, &st) != 0)
        return log->lines;
    if (st.st_size < log->offset)
        log->offset = 0, log->lines = 0;
    FILE *fp = fopen(log->path, "r");
    if (fp == NULL)
        return log->lines;
    char buf[65536];
    off_t at = log->offset;
    fseeko(fp, at, SEEK_SET);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                log->lines++;
                log->offset = at + (off_t)i + 1;
            }
        }
        at += (off_t)n;
    }
    fclose(fp);
    return log->lines;
}

/* Waits until the log holds at least n lines; watches the processes' output meanwhile. */
static bool s_log_wait(s_fx_t *f, s_log_t *log, size_t n, int ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (s_log_count(log) >= n)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
            return false;
        s_pause(f->sub ? f->sub : f->pub, 5);
    }
}

/* The (seq, id) of each line of a --log file. */
typedef struct {
    uint64_t *seq;
    char (*id)[40];
    size_t n;
} s_lines_t;

static void s_lines_read(const char *path, s_lines_t *out)
{
    size_t len;
    char *text = nw_test_read_file(path, &len);
    memset(out, 0, sizeof *out);
    if (text == NULL)
        return;
    size_t cap = 1024;
    out->seq = malloc(cap * sizeof *out->seq);
    out->id = malloc(cap * sizeof *out->id);
    for (char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        const char *s = strstr(line, "\"seq\":"), *i = strstr(line, "\"id\":\"");
        assert_non_null(s);
        assert_non_null(i);
        if (out->n == cap) {
            cap *= 2;
            out->seq = realloc(out->seq, cap * sizeof *out->seq);
            out->id = realloc(out->id, cap * sizeof *out->id);
        }
        out->seq[out->n] = strtoull(s + 6, NULL, 10);
        snprintf(out->id[out->n], sizeof out->id[0], "%.*s", (int)strcspn(i + 6, "\""), i + 6);
        out->n++;
    }
    free(text);
}

static void s_lines_free(s_lines_t *l)
{
    free(l->seq);
    free(l->id);
}

static int s_cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Prints, for each of the first few places where the seqs do not increase, the lines around
 * it (line number, seq, id), so a failure shows which alerts came late and how many. */
static void s_print_disorder(const char *path, const s_lines_t *l)
{
    size_t shown = 0;
    for (size_t i = 1; i < l->n && shown < 4; i++) {
        if (l->seq[i] > l->seq[i - 1])
            continue;
        shown++;
        size_t lo = i >= 4 ? i - 4 : 0, hi = i + 4 < l->n ? i + 4 : l->n - 1;
        fprintf(stderr, "%s: out of order at line %zu (seq %" PRIu64 " after %" PRIu64 "):\n", path,
                i + 1, l->seq[i], l->seq[i - 1]);
        for (size_t j = lo; j <= hi; j++)
            fprintf(stderr, "  %s line %zu seq %" PRIu64 " id %s\n", j == i ? ">" : " ", j + 1,
                    l->seq[j], l->id[j]);
        /* How far the late run reaches: the lines until the seqs pass the earlier high. */
        size_t k = i;
        while (k < l->n && l->seq[k] <= l->seq[i - 1])
            k++;
        fprintf(stderr, "  %zu late lines (seq %" PRIu64 "..%" PRIu64 ") after seq %" PRIu64 "\n",
                k - i, l->seq[i], l->seq[k - 1], l->seq[i - 1]);
    }
}

/* Asserts the lines hold want alerts, each (stream seq and alert id) once; in_order: seqs
 * strictly increasing. On failure, dumps proc's stderr (NULL: none) and the out-of-order
 * neighbourhood first. */
static void s_assert_once_of(const char *path, size_t want, bool in_order, nw_testproc_t *proc,
                             const char *what)
{
    s_lines_t l;
    s_lines_read(path, &l);
    size_t disorder = 0, dup_ids = 0;
    for (size_t i = 1; i < l.n; i++)
        disorder += l.seq[i] <= l.seq[i - 1];
    if (in_order && disorder != 0)
        s_print_disorder(path, &l);
    qsort(l.id, l.n, sizeof l.id[0], s_cmp_id);
    for (size_t i = 1; i < l.n; i++)
        dup_ids += strcmp(l.id[i], l.id[i - 1]) == 0;
    size_t n = l.n;
    s_lines_free(&l);
    if (n != want || dup_ids != 0 || (in_order && disorder != 0)) {
        s_dump(proc, what);
        fail_msg("%s: %zu lines (want %zu), %zu duplicate ids, %zu out of order", path, n, want,
                 dup_ids, disorder);
    }
}

static void s_assert_once(const char *path, size_t want, bool in_order)
{
    s_assert_once_of(path, want, in_order, NULL, NULL);
}

/* Everything the publisher's journal serves, via a one-off `newswire-sub --since 1`, into
 * a log at path. Waits for "caught up" (the replay reached the head), then stops it. */
static void s_dump_journal(s_fx_t *f, const char *path)
{
    const char *argv[] = {NW_SUB_BIN, "-c", f->ep,     "-q",    "--since", "1",
                          "--log",    path, "--fsync", "never", NULL};
    nw_testproc_t *p = nw_testproc_start(argv, NULL);
    assert_non_null(p);
    s_expect(p, "caught up: stream", S_LINES_MS, "newswire-sub --since 1");
    s_stop(&p, "newswire-sub --since 1");
    nw_testproc_destroy(&p);
}

/* --- kill -9 the durable subscriber ---------------------------------------------------- */

static int s_cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* kill -9 a durable subscriber at ten random points (fixed seed) of a stream of 100,000+
 * alerts, restarting it each time: its log holds every matching alert exactly once, in
 * order. Half of the articles (alpha) match its -t filter. */
static void test_subscriber_kill9_loses_and_repeats_nothing(void **state)
{
    s_fx_t *f = *state;
    const int articles = S_ASAN ? 20 : 100, paras = S_ASAN ? 500 : 1000, kills = 10;
    const size_t matching = (size_t)(articles / 2) * (size_t)(paras + 1);
    s_log_t log;
    s_log_init(&log, f, "sub.jsonl");
    s_pub_start(f, NULL);
    s_sub_start(f, &log, (const char *[]){"-t", "alpha", NULL});
    s_expect(f->pub, "subscribed to 'alpha'", S_START_MS, "newswire-pub");
    for (int a = 0; a < articles; a++) {
        char name[32];
        snprintf(name, sizeof name, "a%03d.txt", a);
        s_article(f, name, a % 2 == 0 ? "Zebra" : "Yak", paras);
    }
    /* Kill points: when the log reaches these line counts. */
    size_t at[10];
    srand(20261127);
    for (int k = 0; k < kills; k++)
        at[k] = 1 + (size_t)rand() % (matching - 1);
    qsort(at, (size_t)kills, sizeof at[0], s_cmp_size);
    for (int k = 0; k < kills; k++) {
        if (!s_log_wait(f, &log, at[k], S_LINES_MS)) {
            s_dump(f->sub, "newswire-sub");
            fail_msg("kill %d: the log never reached %zu lines (%zu)", k, at[k], log.lines);
        }
        s_kill9(&f->sub);
        s_sub_start(f, &log, (const char *[]){"-t", "alpha", NULL});
    }
    if (!s_log_wait(f, &log, matching, S_LINES_MS)) {
        s_dump(f->sub, "newswire-sub");
        fail_msg("the log holds %zu lines, want %zu", log.lines, matching);
    }
    char last[32];
    snprintf(last, sizeof last, "published a%03d.txt", articles - 1);
    s_expect(f->pub, last, S_LINES_MS, "newswire-pub");
    s_stop(&f->sub, "newswire-sub");
    s_assert_once(log.path, matching, true);
    s_stop(&f->pub, "newswire-pub");
}

/* --- kill -9 the publisher mid-article ------------------------------------------------- */

/* Counts "K of N alerts were already in the journal" lines: restarts that found an
 * article half published. */
static size_t s_resumed_articles(nw_testproc_t *pub)
{
    return nw_testproc_count_lines(pub, NW_TESTPROC_STDERR, "were already in the journal");
}

/* Bytes in the journal's segment files. */
static uint64_t s_journal_bytes(const s_fx_t *f)
{
    DIR *d = opendir(f->jdir);
    uint64_t total = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;
        size_t len = strlen(e->d_name);
        snprintf(path, sizeof path, "%s/%s", f->jdir, e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".seg") == 0 && stat(path, &st) == 0)
            total += (uint64_t)st.st_size;
    }
    if (d != NULL)
        closedir(d);
    return total;
}

/* Waits (polling every millisecond) until the journal holds at least bytes. */
static bool s_journal_wait(s_fx_t *f, uint64_t bytes, int ms)
{
    for (int waited = 0; waited < ms; waited++) {
        if (s_journal_bytes(f) >= bytes)
            return true;
        s_pause(f->pub, 1);
    }
    return false;
}

/* kill -9 the publisher three times in the middle of the spool's articles, restart it: every
 * alert of every article is in the journal once and reaches the durable subscriber once. */
static void test_publisher_kill9_mid_article(void **state)
{
    s_fx_t *f = *state;
    const int articles = 4, paras = S_ASAN ? 5000 : 20000, warm = 99;
    const size_t total = (size_t)articles * (size_t)(paras + 1) + warm + 1;
    s_log_t log;
    s_log_init(&log, f, "sub.jsonl");
    s_pub_start(f, NULL);
    s_sub_start(f, &log, NULL);
    s_expect(f->pub, "subscribed to ''", S_START_MS, "newswire-pub");
    /* A small article first measures the journal's bytes per alert, to kill by progress. */
    s_article(f, "p.txt", "Zebra", warm);
    s_expect(f->pub, "published p.txt", S_START_MS, "newswire-pub");
    uint64_t base = s_journal_bytes(f), per = base / (uint64_t)(warm + 1), span = per * total;
    for (int a = 0; a < articles; a++) {
        char name[32];
        snprintf(name, sizeof name, "p%d.txt", a);
        s_article(f, name, a % 2 ? "Yak" : "Zebra", paras);
    }
    assert_true(per > 0);
    /* In the middle of articles 0, 1 and 2 (boundaries at quarters of the span). */
    const uint64_t kill_at[3] = {base + span / 8, base + span * 3 / 8, base + span * 5 / 8};
    size_t resumed = 0;
    for (int k = 0; k < 3; k++) {
        if (!s_journal_wait(f, kill_at[k], S_LINES_MS)) {
            s_dump(f->pub, "newswire-pub");
            fail_msg("kill %d: the journal never reached %" PRIu64 " bytes", k, kill_at[k]);
        }
        if (k > 0)
            resumed += s_resumed_articles(f->pub);
        s_kill9(&f->pub);
        s_pub_start(f, NULL);
    }
    s_expect(f->pub, "published p3.txt", S_LINES_MS, "newswire-pub");
    resumed += s_resumed_articles(f->pub);
    if (!s_log_wait(f, &log, total, S_LINES_MS)) {
        s_dump(f->sub, "newswire-sub");
        fail_msg("the subscriber's log holds %zu lines, want %zu", log.lines, total);
    }
    s_stop(&f->sub, "newswire-sub");
    s_assert_once_of(log.path, total, true, f->sub, "newswire-sub");
    char dump[PATH_MAX];
    snprintf(dump, sizeof dump, "%s/dump.jsonl", f->dir);
    s_dump_journal(f, dump);
    s_assert_once(dump, total, true);
    print_message("publisher killed 3 times, %zu restarts resumed a half-published article\n",
                  resumed);
    assert_true(resumed >= 1);
    s_stop(&f->pub, "newswire-pub");
}

/* --- kill -9 between the group fsync and done/ ------------------------------------------- */

/* Entries of spool/sub (incoming, done) that are not dotfiles. */
static size_t s_spool_count(const s_fx_t *f, const char *sub)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", f->spool, sub);
    DIR *d = opendir(path);
    size_t n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n;
}

/* Several articles wait in incoming/, so the publisher takes them as one batch; the test hook
 * NW_TEST_CRASH_BEFORE_DONE makes it SIGKILL itself after the batch's one fsync, before any
 * article moves to done/. The restart finds every alert journaled: it sends none again and
 * moves the articles to done/; a durable subscriber gets every alert once. */
static void s_crash_before_done(s_fx_t *f, const char *fsync)
{
    const int articles = 6, paras = 30;
    const size_t total = (size_t)articles * (size_t)(paras + 1);
    const char *const mode[] = {"--journal-fsync", fsync, NULL};
    char incoming[PATH_MAX];
    snprintf(incoming, sizeof incoming, "%s/incoming", f->spool);
    assert_int_equal(mkdir(f->spool, 0700), 0);
    assert_int_equal(mkdir(incoming, 0700), 0);
    for (int a = 0; a < articles; a++) {
        char name[32];
        snprintf(name, sizeof name, "g%d.txt", a);
        s_article(f, name, a % 2 ? "Yak" : "Zebra", paras);
    }
    s_pub_start_env(f, mode, (const char *const[]){"NW_TEST_CRASH_BEFORE_DONE=1", NULL});
    int status = nw_testproc_wait_exit(f->pub, S_LINES_MS);
    if (status != 128 + SIGKILL) {
        s_dump(f->pub, "newswire-pub");
        fail_msg("the crash hook did not fire: exit %d", status);
    }
    nw_testproc_destroy(&f->pub);
    assert_int_equal(s_spool_count(f, "incoming"), (size_t)articles);
    assert_int_equal(s_spool_count(f, "done"), 0);
    s_pub_start(f, mode);
    char last[32];
    snprintf(last, sizeof last, "published g%d.txt", articles - 1);
    s_expect(f->pub, last, S_LINES_MS, "newswire-pub");
    /* Every article was whole in the journal (and in the revision index, which sees an
     * unchanged re-delivery): the restart sent nothing of any. */
    assert_int_equal(s_resumed_articles(f->pub) +
                         nw_testproc_count_lines(f->pub, NW_TESTPROC_STDERR, "unchanged since"),
                     (size_t)articles);
    assert_int_equal(nw_testproc_count_lines(f->pub, NW_TESTPROC_STDERR, ": 0 alerts,"),
                     (size_t)articles);
    assert_int_equal(s_spool_count(f, "done"), (size_t)articles);
    assert_int_equal(s_spool_count(f, "incoming"), 0);
    s_log_t log;
    s_log_init(&log, f, "sub.jsonl");
    s_sub_start(f, &log, NULL);
    if (!s_log_wait(f, &log, total, S_LINES_MS)) {
        s_dump(f->sub, "newswire-sub");
        fail_msg("the subscriber's log holds %zu lines, want %zu", log.lines, total);
    }
    s_stop(&f->sub, "newswire-sub");
    s_assert_once(log.path, total, true);
    char dump[PATH_MAX];
    snprintf(dump, sizeof dump, "%s/dump.jsonl", f->dir);
    s_dump_journal(f, dump);
    s_assert_once(dump, total, true);
    s_stop(&f->pub, "newswire-pub");
}

static void test_kill9_after_group_fsync_interval(void **state)
{
    s_crash_before_done(*state, "interval");
}

/* --journal-fsync always holds a batch's alerts until its fsync, then sends them. */
static void test_kill9_after_group_fsync_always(void **state)
{
    s_crash_before_done(*state, "always");
}

/* --- a frozen subscriber ---------------------------------------------------------------- */

/* SIGSTOP a durable subscriber with a small receive HWM while alerts pour in past it (the
 * publisher's send HWM small too, so ZeroMQ really drops), SIGCONT: the gap is detected and
 * repaired, nothing is missing and nothing repeated. */
static void test_frozen_subscriber_gap_is_repaired(void **state)
{
    s_fx_t *f = *state;
    /* 10,000 alerts (~4 MB) while frozen: far past both HWMs and the loopback socket
     * buffers, so ZeroMQ really drops, in either build (2,000 per article once slipped
     * through whole under the sanitizers, and nothing needed repairing). */
    const int paras = 5000;
    const size_t per = (size_t)paras + 1;
    s_log_t log;
    s_log_init(&log, f, "sub.jsonl");
    s_pub_start(f, (const char *[]){"--sndhwm", "100", NULL});
    s_sub_start(f, &log, (const char *[]){"--rcvhwm", "100", NULL});
    s_expect(f->pub, "subscribed to ''", S_START_MS, "newswire-pub");
    s_article(f, "f0.txt", "Zebra", paras);
    assert_true(s_log_wait(f, &log, per, S_LINES_MS));
    nw_testproc_signal(f->sub, SIGSTOP);
    s_article(f, "f1.txt", "Zebra", paras);
    s_article(f, "f2.txt", "Yak", paras);
    s_expect(f->pub, "published f2.txt", S_LINES_MS, "newswire-pub");
    s_pause(f->pub, 1500); /* frozen for a while: heartbeats are dropped too */
    nw_testproc_signal(f->sub, SIGCONT);
    if (!s_log_wait(f, &log, 3 * per, S_LINES_MS)) {
        s_dump(f->sub, "newswire-sub");
        fail_msg("after SIGCONT the log holds %zu lines, want %zu", log.lines, 3 * per);
    }
    s_expect(f->sub, "gap: stream", S_START_MS, "newswire-sub");
    s_stop(&f->sub, "newswire-sub");
    /* A repair while live may bring missed alerts after later ones: once, not in order. */
    s_assert_once(log.path, 3 * per, false);
    /* One replay at start (from seq 1), at least one more to repair the gap. */
    size_t replays = nw_testproc_count_lines(f->sub, NW_TESTPROC_STDERR, "replay: stream");
    if (replays < 2) {
        s_dump(f->sub, "newswire-sub");
        fail_msg("%zu replays, want a repair after the gap", replays);
    }
    s_stop(&f->pub, "newswire-pub");
}

/* --- a damaged journal tail -------------------------------------------------------------- */

/* Path of the journal's last segment (names sort by seq). */
static void s_last_segment(const s_fx_t *f, char *out, size_t outlen)
{
    DIR *d = opendir(f->jdir);
    assert_non_null(d);
    char best[200] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".seg") == 0 && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%.190s", e->d_name);
    }
    closedir(d);
    assert_true(best[0] != '\0');
    snprintf(out, outlen, "%s/%s", f->jdir, best);
}

typedef enum { S_TRUNCATE, S_BITFLIP } s_damage_t;

/* Publishes an article, stops the publisher, damages the last record of the last segment,
 * restarts it: recovery is reported, and replay serves everything before the damage. */
static void s_damaged_tail(s_fx_t *f, s_damage_t how, const char *report)
{
    const int paras = 300;
    const size_t per = (size_t)paras + 1;
    s_pub_start(f, NULL);
    s_article(f, "d0.txt", "Zebra", paras);
    s_expect(f->pub, "published d0.txt", S_START_MS, "newswire-pub");
    s_stop(&f->pub, "newswire-pub");
    char seg[PATH_MAX];
    s_last_segment(f, seg, sizeof seg);
    struct stat st;
    assert_int_equal(stat(seg, &st), 0);
    if (how == S_TRUNCATE) {
        assert_int_equal(truncate(seg, st.st_size - 7), 0);
    } else {
        int fd = open(seg, O_RDWR);
        assert_true(fd >= 0);
        unsigned char b;
        assert_int_equal(pread(fd, &b, 1, st.st_size - 5), 1);
        b ^= 0x10;
        assert_int_equal(pwrite(fd, &b, 1, st.st_size - 5), 1);
        close(fd);
    }
    s_pub_start(f, NULL);
    s_expect(f->pub, report, S_START_MS, "newswire-pub");
    char opened[64];
    snprintf(opened, sizeof opened, "%zu records, next seq %zu", per - 1, per);
    s_expect(f->pub, opened, S_START_MS, "newswire-pub");
    char dump[PATH_MAX];
    snprintf(dump, sizeof dump, "%s/dump.jsonl", f->dir);
    s_dump_journal(f, dump);
    s_assert_once(dump, per - 1, true);
    /* Numbering goes on after the damage: a new article's alerts reach a reader. */
    s_log_t log;
    s_log_init(&log, f, "sub.jsonl");
    s_sub_start(f, &log, NULL);
    s_article(f, "d1.txt", "Yak", paras);
    s_expect(f->pub, "published d1.txt", S_START_MS, "newswire-pub");
    assert_true(s_log_wait(f, &log, 2 * per - 1, S_LINES_MS));
    s_stop(&f->sub, "newswire-sub");
    s_assert_once(log.path, 2 * per - 1, true);
    s_stop(&f->pub, "newswire-pub");
}

static void test_truncated_journal_tail(void **state)
{
    s_damaged_tail(*state, S_TRUNCATE, "short record");
}

static void test_bit_flipped_journal_tail(void **state)
{
    s_damaged_tail(*state, S_BITFLIP, "bad CRC");
}

/* --- disk full ----------------------------------------------------------------------------- */

/* Mounts a small tmpfs at DIR/jfs for the journal. Returns false (and says why) when not
 * possible: not root, no mount permission (containers). */
static bool s_mount_tmpfs(s_fx_t *f, const char *size)
{
    char cmd[PATH_MAX * 2];
    if (geteuid() != 0) {
        print_message("SKIPPED disk-full test: not running as root (mount needed)\n");
        return false;
    }
    snprintf(f->mnt, sizeof f->mnt, "%s/jfs", f->dir);
    assert_int_equal(mkdir(f->mnt, 0700), 0);
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=%s nwtest '%s' 2>/dev/null", size, f->mnt);
    if (system(cmd) != 0) {
        print_message("SKIPPED disk-full test: 'mount -t tmpfs' is not permitted here\n");
        f->mnt[0] = '\0';
        return false;
    }
    snprintf(f->jdir, sizeof f->jdir, "%.1000s/journal", f->mnt);
    return true;
}

/* Fills the file system of path, leaving about keep bytes free, with a file at path. */
static void s_fill(const char *path, size_t keep)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    static char block[4096];
    memset(block, 'x', sizeof block);
    while (write(fd, block, sizeof block) == (ssize_t)sizeof block)
        ;
    close(fd);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size > (off_t)keep ? st.st_size - (off_t)keep : 0), 0);
}

/* The journal on a full tmpfs: publishing pauses with a clear error, retries on the rescan
 * timer without spinning (it once "resumed" and paused again about ten times a second,
 * re-reading the article each time), resumes once space is back, and everything journaled
 * is there once, nothing twice, nothing lost. */
static void test_journal_disk_full_pauses_then_resumes(void **state)
{
    s_fx_t *f = *state;
    if (!s_mount_tmpfs(f, "2m"))
        skip();
    const int paras = 2000;
    const size_t per = (size_t)paras + 1;
    s_log_t log;
    s_log_init(&log, f, "sub.jsonl");
    const char *debug[] = {"--log-level", "debug", NULL};
    s_pub_start(f, debug);
    s_sub_start(f, &log, NULL);
    s_expect(f->pub, "subscribed to ''", S_START_MS, "newswire-pub");
    s_article(f, "g0.txt", "Zebra", paras);
    s_expect(f->pub, "published g0.txt", S_START_MS, "newswire-pub");
    char filler[PATH_MAX];
    snprintf(filler, sizeof filler, "%s/filler", f->mnt);
    s_fill(filler, 64 * 1024);
    s_article(f, "g1.txt", "Yak", paras);
    s_expect(f->pub, "publishing paused", S_START_MS, "newswire-pub");
    const char *err = nw_testproc_output(f->pub, NW_TESTPROC_STDERR);
    assert_non_null(strstr(err, "No space left on device"));
    /* Paused: g1 stays in incoming/ and nothing beyond what was journaled went out. */
    char in[PATH_MAX];
    snprintf(in, sizeof in, "%s/incoming/g1.txt", f->spool);
    assert_int_equal(access(in, F_OK), 0);
    /* A retry on the rescan timer (logged at debug), and no false "resumed" before it. */
    s_expect(f->pub, "still paused", S_START_MS, "newswire-pub");
    assert_int_equal(nw_testproc_count_lines(f->pub, NW_TESTPROC_STDERR, "publishing resumed"), 0);
    assert_int_equal(nw_testproc_count_lines(f->pub, NW_TESTPROC_STDERR, "publishing paused"), 1);
    assert_int_equal(unlink(filler), 0);
    s_expect(f->pub, "publishing resumed", S_START_MS, "newswire-pub");
    s_expect(f->pub, "published g1.txt", S_START_MS, "newswire-pub");
    assert_true(s_log_wait(f, &log, 2 * per, S_LINES_MS));
    s_stop(&f->sub, "newswire-sub");
    s_assert_once(log.path, 2 * per, true);
    char dump[PATH_MAX];
    snprintf(dump, sizeof dump, "%s/dump.jsonl", f->dir);
    s_dump_journal(f, dump);
    s_assert_once(dump, 2 * per, true);
    s_stop(&f->pub, "newswire-pub");
}

/* --- flags ------------------------------------------------------------------------------- */

/* --replay-bind on a port in use: exit 3 naming the flag, like --bind. */
static void test_replay_port_in_use_is_exit_3(void **state)
{
    s_fx_t *f = *state;
    s_pub_start(f, NULL);
    char spool2[PATH_MAX], j2[PATH_MAX], msg[128];
    snprintf(spool2, sizeof spool2, "%s/spool2", f->dir);
    snprintf(j2, sizeof j2, "%s/journal2", f->dir);
    snprintf(msg, sizeof msg, "--replay-bind %s: address already in use", f->rep);
    const char *argv[] = {NW_PUB_BIN, "--spool",           spool2,          "--journal", j2,
                          "--bind",   "tcp://127.0.0.1:*", "--replay-bind", f->rep,      NULL};
    nw_testproc_t *p = nw_testproc_start(argv, NULL);
    assert_non_null(p);
    assert_int_equal(nw_testproc_wait_exit(p, S_START_MS), 3);
    assert_non_null(strstr(nw_testproc_output(p, NW_TESTPROC_STDERR), msg));
    nw_testproc_destroy(&p);
    s_stop(&f->pub, "newswire-pub");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_port_in_use_is_exit_3, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_journal_tail, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bit_flipped_journal_tail, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_frozen_subscriber_gap_is_repaired, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_journal_disk_full_pauses_then_resumes, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_publisher_kill9_mid_article, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_kill9_after_group_fsync_interval, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_kill9_after_group_fsync_always, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_subscriber_kill9_loses_and_repeats_nothing, s_setup,
                                        s_teardown),
    };
    /* NW_TEST_ONLY=test_name runs one test (debugging). */
    if (getenv("NW_TEST_ONLY") != NULL)
        cmocka_set_test_filter(getenv("NW_TEST_ONLY"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
