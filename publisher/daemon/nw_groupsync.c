#include "nw_groupsync.h"

#include "nw_error.h"
#include "nw_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct nw_groupsync {
    uv_work_t work;             /* the request on the thread pool */
    uv_loop_t *loop;            /* the daemon's loop (borrowed) */
    nw_journal_t *journal;      /* borrowed */
    nw_revisions_t *revisions;  /* borrowed */
    nw_groupsync_done_fn *done; /* called on the loop thread */
    void *arg;                  /* for done */
    bool busy;                  /* a sync runs */
    nw_journal_sync_job_t job;  /* the journal's part */
    int rev_fd;                 /* the revision index, opened anew for the job, or -1 */
    int rev_err;                /* errno of its fdatasync, 0 when it worked */
    double seconds;             /* how long the fsyncs took */
    char errmsg[1024];          /* why the last sync of the index failed, "" for none */
};

static double s_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* On a pool thread: only the two descriptors and the job are touched, each opened anew
 * (docs/JOURNAL.md, "Sync descriptors"). The journal first, and the revision index only
 * when its records are on disk (the index also ignores, at open, a line the kernel wrote
 * back before the journal's records it stands for). */
static void s_work(uv_work_t *req)
{
    nw_groupsync_t *gs = req->data;
    double t0 = s_mono();
    nw_journal_sync_run(&gs->job);
    if (gs->job.err == 0 && gs->rev_fd >= 0 && fdatasync(gs->rev_fd) != 0)
        gs->rev_err = errno;
    gs->seconds = s_mono() - t0;
}

/* On the loop thread. A failed fdatasync of the index is not retried (the error is
 * reported once): the index rewrites its file whole from memory, after a sync of the whole
 * journal, since the loop may have committed lines for records appended while the job ran. */
static void s_after(uv_work_t *req, int status)
{
    nw_groupsync_t *gs = req->data;
    (void)status; /* never cancelled: nothing calls uv_cancel */
    int rc = nw_journal_sync_end(gs->journal, &gs->job);
    gs->errmsg[0] = '\0';
    if (gs->rev_fd >= 0) {
        close(gs->rev_fd);
        gs->rev_fd = -1;
        if (rc == NW_OK && gs->rev_err != 0 && (rc = nw_journal_sync(gs->journal)) == NW_OK &&
            (rc = nw_revisions_sync_end(gs->revisions, gs->rev_err, gs->errmsg,
                                        sizeof gs->errmsg)) == NW_OK)
            nw_log(NW_LOG_WARN, "revisions: %s", gs->errmsg);
    }
    gs->busy = false;
    gs->done(gs->arg, rc, gs->seconds);
}

int nw_groupsync_new(uv_loop_t *loop, nw_journal_t *journal, nw_revisions_t *revisions,
                     nw_groupsync_done_fn *done, void *arg, nw_groupsync_t **out)
{
    nw_groupsync_t *gs = calloc(1, sizeof *gs);
    if (gs == NULL)
        return NW_ERR_NOMEM;
    gs->loop = loop;
    gs->journal = journal;
    gs->revisions = revisions;
    gs->done = done;
    gs->arg = arg;
    gs->rev_fd = -1;
    gs->job.fd = -1;
    gs->work.data = gs;
    *out = gs;
    return NW_OK;
}

bool nw_groupsync_busy(const nw_groupsync_t *gs)
{
    return gs->busy;
}

const char *nw_groupsync_errmsg(const nw_groupsync_t *gs)
{
    return gs->errmsg;
}

int nw_groupsync_start(nw_groupsync_t *gs)
{
    if (gs->busy)
        return NW_ERR_INVAL;
    gs->errmsg[0] = '\0';
    int rc = nw_journal_sync_begin(gs->journal, &gs->job);
    if (rc != NW_OK)
        return rc;
    if ((rc = nw_revisions_sync_take(gs->revisions, &gs->rev_fd, gs->errmsg, sizeof gs->errmsg)) !=
        NW_OK) {
        if (gs->job.fd >= 0)
            close(gs->job.fd); /* not through nw_journal_sync_end: nothing was synced */
        gs->job.fd = -1;
        return rc;
    }
    gs->rev_err = 0;
    gs->seconds = 0;
    if (uv_queue_work(gs->loop, &gs->work, s_work, s_after) != 0) {
        if (gs->rev_fd >= 0)
            close(gs->rev_fd);
        gs->rev_fd = -1;
        if (gs->job.fd >= 0)
            close(gs->job.fd); /* not through nw_journal_sync_end: nothing was synced */
        gs->job.fd = -1;
        return NW_ERR_UV;
    }
    gs->busy = true;
    return NW_OK;
}

void nw_groupsync_destroy(nw_groupsync_t **gs_p)
{
    if (gs_p == NULL || *gs_p == NULL)
        return;
    free(*gs_p);
    *gs_p = NULL;
}
