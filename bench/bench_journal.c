/*
 * bench_journal: journal appends per second for each fsync policy, against raw
 * write(2) of the same bytes, in one run.
 *
 *     bench_journal [DIR] [SECONDS]
 *
 * In a fresh directory under DIR (default ".": use the disk the journal will
 * live on, not a tmpfs, or fsync costs nothing), for frames of 300 and 1000
 * bytes, measures for SECONDS each (default 1):
 *   - write(2):           one write(2) of the frame per call, appending to a file;
 *   - write+fdatasync:    the same with fdatasync(2) after each write;
 *   - journal never:      nw_journal_number + nw_journal_append, fsync NEVER;
 *   - journal interval:   the same, fsync INTERVAL (the defaults: every 1000 records or 1 s);
 *   - journal always:     the same, fsync ALWAYS (fdatasync per append);
 * and prints appends/s, MB/s of frame bytes, and the ratio of each journal case to
 * write(2) (and of "always" to write+fdatasync). The baselines start a new file
 * every 64 MiB, as the journal rotates segments.
 */
#include "nw_alert.h"
#include "nw_error.h"
#include "nw_journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_WRAP (64u * 1024 * 1024) /* the baseline starts a new file after this many bytes */

typedef struct {
    double per_s; /* operations per second */
    uint64_t ops; /* operations done */
} s_result_t;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t s_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            s_rmdir(path);
    }
    closedir(d);
    rmdir(dir);
}

static int s_baseline(const char *dir, const char *frame, size_t len, bool sync, double secs,
                      s_result_t *out)
{
    char path[1024];
    unsigned n_files = 0;
    snprintf(path, sizeof path, "%s/baseline.%u", dir, n_files++);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return NW_ERR_IO;
    uint64_t ops = 0, at = 0;
    double t0 = s_now(), t = t0;
    while (t - t0 < secs) {
        for (int i = 0; i < 64; i++) {
            if (write(fd, frame, len) != (ssize_t)len || (sync && fdatasync(fd) != 0)) {
                close(fd);
                return NW_ERR_IO;
            }
            at += len;
            if (at >= S_WRAP) {
                /* A new file, as the journal rotates; the old one's pages stay dirty
                 * (truncating would discard them unwritten and flatter the baseline). */
                close(fd);
                snprintf(path, sizeof path, "%s/baseline.%u", dir, n_files++);
                if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
                    return NW_ERR_IO;
                at = 0;
            }
        }
        ops += 64;
        t = s_now();
    }
    close(fd);
    while (n_files-- > 0) {
        snprintf(path, sizeof path, "%s/baseline.%u", dir, n_files);
        unlink(path);
    }
    out->ops = ops;
    out->per_s = (double)ops / (t - t0);
    return NW_OK;
}

static int s_journal(const char *parent, const char *frame, size_t len, nw_journal_fsync_t pol,
                     double secs, s_result_t *out)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/journal-%d-%zu", parent, (int)pol, len);
    nw_journal_opts_t o;
    nw_journal_opts_default(&o);
    o.fsync = pol;
    nw_journal_recovery_t rep;
    nw_journal_t *j = NULL;
    nw_alert_t a;
    int rc = nw_journal_open(dir, &o, &j, &rep);
    if (rc != NW_OK) {
        fprintf(stderr, "bench_journal: %s\n", rep.message);
        return rc;
    }
    if ((rc = nw_alert_init(&a)) != NW_OK ||
        (rc = nw_alert_set(&a.id, "0123456789abcdef.0123456789")) != NW_OK ||
        (rc = nw_alert_add_topic(&a, "markets")) != NW_OK ||
        (rc = nw_alert_add_topic(&a, "energy.oil-gas")) != NW_OK)
        goto done;
    uint64_t ops = 0;
    double t0 = s_now(), t = t0;
    int64_t wall = s_wall_ms();
    while (t - t0 < secs) {
        for (int i = 0; i < 64; i++) {
            /* A distinct id per alert, as articles give: "<article id>.<index>". */
            uint64_t n = ops + (uint64_t)i;
            snprintf(a.id, 28, "%016llx.%llu", (unsigned long long)(n / 32),
                     (unsigned long long)(n % 32));
            if ((rc = nw_journal_number(j, &a)) != NW_OK ||
                (rc = nw_journal_append(j, &a, frame, len, wall)) != NW_OK) {
                fprintf(stderr, "bench_journal: %s\n", nw_journal_errmsg(j));
                goto done;
            }
        }
        ops += 64;
        t = s_now();
        wall = s_wall_ms();
    }
    rc = nw_journal_sync(j);
    out->ops = ops;
    out->per_s = (double)ops / (t - t0);
done:
    nw_alert_clear(&a);
    nw_journal_destroy(&j);
    s_rmdir(dir);
    return rc;
}

int main(int argc, char **argv)
{
    const char *parent = argc > 1 ? argv[1] : ".";
    double secs = argc > 2 ? atof(argv[2]) : 1.0;
    if (secs <= 0) {
        fprintf(stderr, "usage: bench_journal [DIR] [SECONDS]\n");
        return 2;
    }
    char dir[512];
    if (strlen(parent) > sizeof dir - 32) {
        fprintf(stderr, "bench_journal: directory name too long\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s/bench-journal-XXXXXX", parent);
    if (mkdtemp(dir) == NULL) {
        perror("bench_journal: mkdtemp");
        return 1;
    }
    const size_t sizes[] = {300, 1000};
    const char *names[] = {"journal never", "journal interval", "journal always"};
    const nw_journal_fsync_t pols[] = {NW_JOURNAL_FSYNC_NEVER, NW_JOURNAL_FSYNC_INTERVAL,
                                       NW_JOURNAL_FSYNC_ALWAYS};
    int rc = 0;
    printf("bench_journal: in %s, %.1f s per case\n", dir, secs);
    printf("%-6s %-18s %12s %9s %12s %14s\n", "frame", "case", "appends/s", "MB/s", "vs write(2)",
           "vs write+sync");
    for (size_t s = 0; s < 2 && rc == 0; s++) {
        char *frame = malloc(sizes[s]);
        if (frame == NULL)
            return 1;
        memset(frame, 'x', sizes[s]);
        s_result_t w, ws, r;
        if (s_baseline(dir, frame, sizes[s], false, secs, &w) != NW_OK ||
            s_baseline(dir, frame, sizes[s], true, secs, &ws) != NW_OK) {
            perror("bench_journal: baseline");
            free(frame);
            rc = 1;
            break;
        }
        printf("%-6zu %-18s %12.0f %9.1f %12s %14s\n", sizes[s], "write(2)", w.per_s,
               w.per_s * (double)sizes[s] / 1e6, "1.00", "");
        printf("%-6zu %-18s %12.0f %9.1f %12.4f %14s\n", sizes[s], "write+fdatasync", ws.per_s,
               ws.per_s * (double)sizes[s] / 1e6, ws.per_s / w.per_s, "1.00");
        for (size_t p = 0; p < 3; p++) {
            if (s_journal(dir, frame, sizes[s], pols[p], secs, &r) != NW_OK) {
                rc = 1;
                break;
            }
            char vs_sync[32] = "";
            if (pols[p] == NW_JOURNAL_FSYNC_ALWAYS)
                snprintf(vs_sync, sizeof vs_sync, "%.2f", r.per_s / ws.per_s);
            printf("%-6zu %-18s %12.0f %9.1f %12.4f %14s\n", sizes[s], names[p], r.per_s,
                   r.per_s * (double)sizes[s] / 1e6, r.per_s / w.per_s, vs_sync);
        }
        free(frame);
    }
    s_rmdir(dir);
    return rc;
}
