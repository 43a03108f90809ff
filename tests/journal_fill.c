/*
 * journal_fill: drives the journal into a real full disk and back.
 *
 *     journal_fill DIR FILLER
 *
 * Appends 1000-byte alerts to the journal in DIR until an append fails with
 * NW_ERR_JOURNAL_FULL (the disk is full), checks that a retry fails the same
 * way, deletes FILLER (a file the caller put on the same small filesystem) to
 * give space back, checks that the refused alert and more go in, then reopens
 * the journal and checks every record reads back, in order, with no damage.
 * Exits 0 on success, 1 with a message otherwise. Run by journal_disk_full.sh.
 */
#include "nw_error.h"
#include "nw_journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FRAME_LEN 1000

static int s_fail(const char *what, int rc, const char *detail)
{
    fprintf(stderr, "journal_fill: %s: %s (%s)\n", what, nw_strerror(rc), detail);
    return 1;
}

static void s_frame(uint64_t seq, char *out)
{
    int n = snprintf(out, FRAME_LEN, "frame-%llu-", (unsigned long long)seq);
    memset(out + n, 'a' + (int)(seq % 26), FRAME_LEN - (size_t)n);
}

static int s_make(nw_journal_t *j, nw_alert_t *a)
{
    char id[64];
    int rc;
    snprintf(id, sizeof id, "00000000deadbeef.%llu", (unsigned long long)nw_journal_next_seq(j));
    if ((rc = nw_alert_init(a)) != NW_OK || (rc = nw_alert_set(&a->id, id)) != NW_OK ||
        (rc = nw_alert_add_topic(a, "markets")) != NW_OK || (rc = nw_journal_number(j, a)) != NW_OK)
        return rc;
    return NW_OK;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: journal_fill DIR FILLER\n");
        return 2;
    }
    nw_journal_opts_t o;
    nw_journal_opts_default(&o);
    o.segment_max = 64 * 1024;
    o.fsync = NW_JOURNAL_FSYNC_ALWAYS;
    nw_journal_recovery_t rep;
    nw_journal_t *j = NULL;
    char frame[FRAME_LEN];
    nw_alert_t a;
    int rc = nw_journal_open(argv[1], &o, &j, &rep);
    if (rc != NW_OK)
        return s_fail("open", rc, rep.message);
    uint64_t written = 0;
    for (;;) {
        if ((rc = s_make(j, &a)) != NW_OK)
            return s_fail("alert", rc, "");
        s_frame(a.seq, frame);
        rc = nw_journal_append(j, &a, frame, FRAME_LEN, (int64_t)a.seq);
        if (rc == NW_ERR_JOURNAL_FULL)
            break;
        nw_alert_clear(&a);
        if (rc != NW_OK)
            return s_fail("append", rc, nw_journal_errmsg(j));
        if (++written > 100000)
            return s_fail("append", NW_OK, "the disk never filled");
    }
    printf("journal_fill: full after %llu records: %s\n", (unsigned long long)written,
           nw_journal_errmsg(j));
    if (strstr(nw_journal_errmsg(j), "No space left") == NULL)
        return s_fail("full", rc, "expected ENOSPC in the error message");
    if ((rc = nw_journal_append(j, &a, frame, FRAME_LEN, (int64_t)a.seq)) != NW_ERR_JOURNAL_FULL)
        return s_fail("retry while full", rc, "expected NW_ERR_JOURNAL_FULL");
    if (unlink(argv[2]) != 0)
        return s_fail("unlink filler", NW_ERR_IO, argv[2]);
    if ((rc = nw_journal_append(j, &a, frame, FRAME_LEN, (int64_t)a.seq)) != NW_OK)
        return s_fail("append after space returned", rc, nw_journal_errmsg(j));
    nw_alert_clear(&a);
    written++;
    for (int i = 0; i < 20; i++, written++) {
        if ((rc = s_make(j, &a)) != NW_OK)
            return s_fail("alert", rc, "");
        s_frame(a.seq, frame);
        if ((rc = nw_journal_append(j, &a, frame, FRAME_LEN, (int64_t)a.seq)) != NW_OK)
            return s_fail("append after space returned", rc, nw_journal_errmsg(j));
        nw_alert_clear(&a);
    }
    nw_journal_destroy(&j);

    if ((rc = nw_journal_open(argv[1], &o, &j, &rep)) != NW_OK)
        return s_fail("reopen", rc, rep.message);
    if (rep.damaged_segments != 0 || rep.records != written)
        return s_fail("reopen", NW_ERR_JOURNAL_CORRUPT, rep.message);
    nw_journal_iter_t *it;
    nw_journal_record_t rec;
    uint64_t seq = 1;
    if ((rc = nw_journal_iter_from_seq(j, 1, &it)) != NW_OK)
        return s_fail("iter", rc, "");
    while ((rc = nw_journal_iter_next(it, &rec)) == NW_OK) {
        s_frame(seq, frame);
        if (rec.seq != seq || rec.frame_len != FRAME_LEN || memcmp(rec.frame, frame, FRAME_LEN))
            return s_fail("read back", NW_ERR_JOURNAL_CORRUPT, "record differs");
        seq++;
    }
    if (rc != NW_ERR_NOTFOUND || seq != written + 1)
        return s_fail("read back", rc, "wrong record count");
    nw_journal_iter_destroy(&it);
    nw_journal_destroy(&j);
    printf("journal_fill: ok: %llu records, all read back after the disk was full\n",
           (unsigned long long)written);
    return 0;
}
