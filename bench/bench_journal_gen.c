/*
 * bench_journal_gen: writes a journal of real alerts for the replay and ingest benchmarks.
 *
 *     bench_journal_gen DIR COUNT [FRAME_BYTES]
 *
 * Creates (or extends) the journal in DIR with COUNT alerts, each numbered, encoded with
 * nw_alert_encode to about FRAME_BYTES bytes (default 511, the mean log line of the Reuters
 * pipeline run) and appended with fsync NEVER (one sync at the end). Topics rotate over four
 * names, ids are unique. Prints "COUNT alerts, FRAME_BYTES B frames, SECONDS s". Exits 1 with
 * a message on any error.
 */
#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Builds alert i with text_len bytes of text. */
static int s_alert(nw_alert_t *a, uint64_t i, size_t text_len)
{
    static const char *const topics[] = {"trade.tariffs", "markets", "energy.oil", "defense"};
    static const char filler[] = "Steel duties rise to 25% on 1 July, the commission said. ";
    char id[64], text[4096];
    int rc;
    if (text_len >= sizeof text)
        text_len = sizeof text - 1;
    for (size_t k = 0; k < text_len; k++)
        text[k] = filler[k % (sizeof filler - 1)];
    text[text_len] = '\0';
    snprintf(id, sizeof id, "%016llx.%llu", (unsigned long long)(i / 8),
             (unsigned long long)(i % 8));
    if ((rc = nw_alert_init(a)) != NW_OK || (rc = nw_alert_set(&a->id, id)) != NW_OK ||
        (rc = nw_alert_set(&a->article_id, "0123456789abcdef")) != NW_OK ||
        (rc = nw_alert_set(&a->title, "Steel duties rise")) != NW_OK ||
        (rc = nw_alert_set(&a->source, "Wire")) != NW_OK ||
        (rc = nw_alert_set(&a->text, text)) != NW_OK ||
        (rc = nw_alert_add_topic(a, topics[i % 4])) != NW_OK)
        return rc;
    a->index = (uint32_t)(i % 8);
    a->kind = NW_KIND_PARAGRAPH;
    a->published_ms = 1796605908256;
    return NW_OK;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: bench_journal_gen DIR COUNT [FRAME_BYTES]\n");
        return 2;
    }
    uint64_t count = strtoull(argv[2], NULL, 10);
    size_t want = argc > 3 ? strtoul(argv[3], NULL, 10) : 511;
    nw_journal_opts_t jo;
    nw_journal_opts_default(&jo);
    jo.fsync = NW_JOURNAL_FSYNC_NEVER;
    nw_journal_t *j = NULL;
    nw_journal_recovery_t rec;
    int rc = nw_journal_open(argv[1], &jo, &j, &rec);
    if (rc != NW_OK) {
        fprintf(stderr, "bench_journal_gen: %s: %s\n", argv[1], rec.message);
        return 1;
    }
    /* The text length that makes a numbered frame want bytes: measure once, adjust. */
    size_t text_len = want > 300 ? want - 250 : 16;
    double t0 = s_now();
    for (uint64_t i = 0; i < count && rc == NW_OK; i++) {
        nw_alert_t a;
        char *frame = NULL;
        size_t size = 0;
        if ((rc = s_alert(&a, nw_journal_next_seq(j), text_len)) == NW_OK &&
            (rc = nw_journal_number(j, &a)) == NW_OK &&
            (rc = nw_alert_encode(&a, &frame, &size)) == NW_OK) {
            if (i == 0 && size != want && text_len + want > size) {
                text_len = text_len + want - size; /* the next frames hit the size */
            }
            rc = nw_journal_append(j, &a, frame, size, 1796605908256 + (int64_t)i);
        }
        free(frame);
        nw_alert_clear(&a);
    }
    if (rc == NW_OK)
        rc = nw_journal_sync(j);
    if (rc != NW_OK) {
        fprintf(stderr, "bench_journal_gen: %s (%s)\n", nw_strerror(rc), nw_journal_errmsg(j));
        nw_journal_destroy(&j);
        return 1;
    }
    printf("%llu alerts, %zu B frames, %.2f s\n", (unsigned long long)count, want, s_now() - t0);
    nw_journal_destroy(&j);
    return 0;
}
