/*
 * bench_tagger: tagging throughput against a grep baseline, in one run.
 *
 *     bench_tagger [CORPUS_DIR [ROUNDS]]
 *
 * CORPUS_DIR defaults to the Reuters training split of the development corpus
 * (../shared/corpus/reuters/train beside the source tree); without it the bench
 * fails and says so: a handful of small files would make the grep baseline
 * meaningless. Reads every regular file of CORPUS_DIR into memory (one article
 * each: first non-empty line the title, blank lines between paragraphs), then
 * measures
 *   - scan:  nw_taxonomy_scan over all bytes (the one-pass automaton alone),
 *   - tag:   nw_tagger_tag_ws over every article with the taxonomy alone,
 *   - model: nw_tagger_tag_ws with the built-in taxonomy and model (what the
 *            publisher does: features, taxonomy, margins, alert-level evidence,
 *            in one workspace kept from article to article),
 *   - grep:  `grep -F -i -c -f KEYWORDS` over the same bytes written to a temporary
 *            file, KEYWORDS being bench/grep-keywords.txt: 200 news terms, fixed
 *            (the first 200 of the taxonomy as of commit f182a8a), so that an edit
 *            of the taxonomy never moves the baseline,
 * each the best of ROUNDS runs (default 3), and prints MB/s and the ratios; the
 * target is model/grep >= 1.0. Times are CPU seconds (the tagger's by
 * CLOCK_PROCESS_CPUTIME_ID, grep's by getrusage of the waited-for child, its shell
 * included), so that other programs on a shared machine do not skew the ratio.
 *
 * grep's output goes to a temporary file, not /dev/null: GNU grep treats an output of
 * /dev/null like -q and stops at the first matching line, which measured the start of
 * the file only (about 1.4 GB/s instead of the real 150-250 MB/s).
 */
#include "nw_alert.h"
#include "nw_error.h"
#include "nw_model.h"
#include "nw_tagger.h"
#include "nw_taxonomy.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *bytes;       /* every file, concatenated */
    size_t len;        /* bytes used */
    size_t cap;        /* bytes allocated */
    nw_alert_t **arts; /* per article: its alerts */
    size_t *n_alerts;  /* per article: how many */
    size_t n_arts;     /* articles */
} s_corpus_t;

/* CPU seconds used by this process: on a shared machine wall time measures the other
 * programs too, CPU time only the work (grep's is measured the same way, below). */
static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds used by this process's waited-for children (user + system). */
static double s_children_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int s_append(s_corpus_t *c, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    for (;;) {
        if (c->cap - c->len < 65536) {
            c->cap = c->cap ? c->cap * 2 : 1 << 20;
            char *grown = realloc(c->bytes, c->cap);
            if (!grown) {
                fclose(f);
                return -1;
            }
            c->bytes = grown;
        }
        size_t got = fread(c->bytes + c->len, 1, c->cap - c->len - 1, f);
        c->len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    c->bytes[c->len++] = '\n';
    return 0;
}

static void s_add_alert(s_corpus_t *c, const char *text, size_t len, nw_alert_kind_t kind)
{
    size_t a = c->n_arts - 1, i = c->n_alerts[a]++;
    c->arts[a] = realloc(c->arts[a], (i + 1) * sizeof(nw_alert_t));
    nw_alert_t *al = &c->arts[a][i];
    nw_alert_init(al);
    char *copy = strndup(text, len);
    nw_alert_set(&al->text, copy);
    free(copy);
    al->kind = kind;
    al->index = (uint32_t)i;
}

/* Splits the article text[0..len) into a headline and paragraphs. */
static void s_split(s_corpus_t *c, const char *text, size_t len)
{
    c->arts = realloc(c->arts, (c->n_arts + 1) * sizeof(*c->arts));
    c->n_alerts = realloc(c->n_alerts, (c->n_arts + 1) * sizeof(size_t));
    c->arts[c->n_arts] = NULL;
    c->n_alerts[c->n_arts++] = 0;
    size_t i = 0, para = 0;
    while (i < len && (text[i] == '\n' || text[i] == ' '))
        i++;
    size_t eol = i;
    while (eol < len && text[eol] != '\n')
        eol++;
    s_add_alert(c, text + i, eol - i, NW_KIND_HEADLINE);
    para = eol;
    for (i = eol; i <= len; i++) {
        bool end = i == len || (text[i] == '\n' && i + 1 < len && text[i + 1] == '\n');
        if (!end)
            continue;
        if (i > para + 1)
            s_add_alert(c, text + para, i - para, NW_KIND_PARAGRAPH);
        para = i + 1;
    }
}

static int s_load(s_corpus_t *c, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        size_t start = c->len;
        if (s_append(c, path) != 0)
            break;
        s_split(c, c->bytes + start, c->len - start);
    }
    closedir(d);
    return c->n_arts ? 0 : -1;
}

/* Counts the keywords (lines) of the file at path; 0 when it cannot be read. */
static size_t s_count_keywords(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int ch, last = '\n';
    while (f && (ch = fgetc(f)) != EOF) {
        n += ch == '\n' && last != '\n';
        last = ch;
    }
    if (f)
        fclose(f);
    return n;
}

static void s_count_hit(uint32_t term, void *ctx)
{
    (void)term;
    ++*(size_t *)ctx;
}

static double s_best_scan(const nw_taxonomy_t *tax, const s_corpus_t *c, int rounds, size_t *hits)
{
    double best = 1e9;
    for (int r = 0; r < rounds; r++) {
        *hits = 0;
        double t0 = s_now();
        nw_taxonomy_scan(tax, c->bytes, c->len, s_count_hit, hits);
        double dt = s_now() - t0;
        best = dt < best ? dt : best;
    }
    return best;
}

static double s_best_tag(nw_tagger_ws_t *ws, const nw_taxonomy_t *tax, const nw_model_t *model,
                         s_corpus_t *c, int rounds)
{
    double best = 1e9;
    for (int r = 0; r < rounds; r++) {
        for (size_t a = 0; a < c->n_arts; a++) {
            for (size_t i = 0; i < c->n_alerts[a]; i++) {
                nw_alert_t *al = &c->arts[a][i];
                for (size_t t = 0; t < al->n_topics; t++)
                    free(al->topics[t].name);
                al->n_topics = 0;
            }
        }
        double t0 = s_now();
        for (size_t a = 0; a < c->n_arts; a++)
            nw_tagger_tag_ws(ws, tax, model, c->arts[a], c->n_alerts[a], NULL);
        double dt = s_now() - t0;
        best = dt < best ? dt : best;
    }
    return best;
}

/* Best time of `grep -F -i -c` over data; *lines gets its count of matching lines. The
 * output must not be /dev/null (see the top of the file). Returns -1 if grep failed. */
static double s_best_grep(const char *kw, const char *data, const char *out, int rounds,
                          long *lines)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "grep -F -i -c -f '%s' '%s' > '%s'", kw, data, out);
    double best = 1e9;
    for (int r = 0; r < rounds; r++) {
        double t0 = s_children_cpu();
        int rc = system(cmd);
        double dt = s_children_cpu() - t0;
        if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) > 1)
            return -1;
        best = dt < best ? dt : best;
    }
    FILE *f = fopen(out, "r");
    if (!f || fscanf(f, "%ld", lines) != 1)
        *lines = -1;
    if (f)
        fclose(f);
    return best;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NW_SHARED_DIR "/corpus/reuters/train";
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (argc > 3 || rounds < 1) {
        fprintf(stderr, "usage: %s [CORPUS_DIR [ROUNDS]]\n", argv[0]);
        return 2;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr,
                "bench_tagger: %s: %s\nbench_tagger needs the Reuters training split of the "
                "development corpus (../shared/corpus/reuters/train) or a CORPUS_DIR of "
                "comparable size; it has no fallback\n",
                dir, stat(dir, &st) != 0 ? strerror(errno) : "not a folder");
        return 1;
    }
    s_corpus_t c = {0};
    nw_taxonomy_t *tax = NULL;
    nw_model_t *model = NULL;
    nw_tagger_ws_t *ws = NULL;
    if (s_load(&c, dir) != 0) {
        fprintf(stderr, "bench_tagger: %s: no readable article files there\n", dir);
        return 1;
    }
    if (nw_taxonomy_default(&tax) != NW_OK || nw_model_default(&model) != NW_OK ||
        nw_model_bind(model, tax) != NW_OK || nw_tagger_ws_new(&ws) != NW_OK) {
        fprintf(stderr, "bench_tagger: cannot build the built-in taxonomy and model\n");
        return 1;
    }
    const char *kw = NW_BENCH_GREP_KEYWORDS;
    size_t n_kw = s_count_keywords(kw);
    if (n_kw == 0) {
        fprintf(stderr, "bench_tagger: cannot read the grep keywords %s\n", kw);
        return 1;
    }
    char data[] = "/tmp/nw_bench_data_XXXXXX", out[] = "/tmp/nw_bench_out_XXXXXX";
    int dfd = mkstemp(data), ofd = mkstemp(out);
    if (ofd >= 0)
        close(ofd);
    if (dfd < 0 || ofd < 0 || write(dfd, c.bytes, c.len) != (ssize_t)c.len) {
        fprintf(stderr, "cannot write temporary files\n");
        return 1;
    }
    close(dfd);

    size_t hits;
    long lines = -1;
    double mb = (double)c.len / 1e6;
    double scan = s_best_scan(tax, &c, rounds, &hits);
    double tag = s_best_tag(ws, tax, NULL, &c, rounds);
    double full = s_best_tag(ws, tax, model, &c, rounds);
    double grep = s_best_grep(kw, data, out, rounds, &lines);
    printf("corpus: %s, %zu articles, %.1f MB; taxonomy: %zu topics, %zu terms; model: %zu "
           "topics, %zu weights; grep: %zu keywords\n",
           dir, c.n_arts, mb, nw_taxonomy_topic_count(tax), nw_taxonomy_term_count(tax),
           nw_model_topic_count(model), nw_model_row_count(model), n_kw);
    printf("MB per CPU second, best of %d rounds:\n", rounds);
    printf("scan (automaton only):     %8.1f MB/s  (%zu term hits)\n", mb / scan, hits);
    printf("tag  (taxonomy alone):     %8.1f MB/s  (%.0f articles/s)\n", mb / tag,
           (double)c.n_arts / tag);
    printf("tag  (taxonomy + model):   %8.1f MB/s  (%.0f articles/s)\n", mb / full,
           (double)c.n_arts / full);
    int status = 0;
    if (grep > 0) {
        printf("grep -F -i -c -f:          %8.1f MB/s  (%ld matching lines)\n", mb / grep, lines);
        printf("ratio (taxonomy + model)/grep: %.2f  (target >= 1.0)   taxonomy/grep: %.2f   "
               "scan/grep: %.2f\n",
               grep / full, grep / tag, grep / scan);
    } else {
        printf("grep -F -i -c -f: failed\n");
        status = 1;
    }
    unlink(data);
    unlink(out);
    nw_tagger_ws_destroy(&ws);
    nw_model_destroy(&model);
    nw_taxonomy_destroy(&tax);
    return status;
}
