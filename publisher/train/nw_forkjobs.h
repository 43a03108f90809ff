/*
 * nw_forkjobs: runs independent jobs in forked worker processes, at most a few at a
 * time, and hands their results to the parent in job order.
 *
 * For work whose libraries keep global state (liblinear draws from rand(), so two
 * trainings in threads of one process would draw each other's numbers): each job gets
 * a process of its own, which sees the parent's memory as it was at the fork, and
 * sends its result back as bytes over a pipe. The results, and so the output, are
 * the same whatever the number of workers.
 */
#ifndef NW_FORKJOBS_H
#define NW_FORKJOBS_H

#include "nw_buf.h"

#include <stddef.h>

/* Runs job i, appending its result to out. Called in a worker process (or in the
 * parent when one worker is asked for). Returns NW_OK or an NW_ERR_* code. */
typedef int(nw_forkjob_run_fn)(size_t job, nw_buf_t *out, void *ctx);

/* Takes job i's result (len bytes) in the parent, in job order. Returns NW_OK or an
 * NW_ERR_* code, which stops the run. */
typedef int(nw_forkjob_done_fn)(size_t job, const void *result, size_t len, void *ctx);

/* Runs jobs 0 .. n-1 with at most `workers` running at once (1: in this process, no
 * fork). Returns NW_OK; the first failing job's error code (its run or done), with its
 * index in *failed; or NW_ERR_IO when a worker could not be started or died without a
 * result ("job N: ..." in err). Workers still running after an error are killed and
 * reaped. */
int nw_forkjobs_run(size_t n, size_t workers, nw_forkjob_run_fn *run, nw_forkjob_done_fn *done,
                    void *ctx, size_t *failed, char *err, size_t errlen);

/* Returns the number of processors online (at least 1): a default for workers. */
size_t nw_forkjobs_default_workers(void);

#endif
