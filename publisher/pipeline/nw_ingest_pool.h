/*
 * nw_ingest_pool: ingests several article files side by side, on the calling thread
 * and on helper threads of the pool's own.
 *
 * nw_ingest only reads its configuration (the rules, taxonomy, model and HTML rules
 * are never written once loaded), so articles can be ingested at once on several
 * threads; what a thread writes, its tagging memory, is its own. (glibc's regexec locks
 * its pattern, so the boilerplate rules' regexes run one thread at a time; the rest of
 * the pipeline runs fully side by side.) A run returns when
 * every file is done, so between runs the caller may replace the configuration (a
 * reload) without locks. The helpers block every signal: the caller's thread keeps
 * receiving them.
 *
 *     nw_ingest_pool_t *pool;
 *     nw_ingest_pool_new(nw_ingest_pool_default_threads(), &pool);
 *     nw_ingest_job_t jobs[2] = {{.path = "in/a.txt", .name = "a.txt"},
 *                                {.path = "in/b.txt", .name = "b.txt"}};
 *     nw_ingest_pool_run(pool, &cfg, now_ms, jobs, 2);
 *     ... jobs[i].rc, jobs[i].res, jobs[i].err, as nw_ingest_file gives them ...
 *     nw_ingest_pool_destroy(&pool);
 */
#ifndef NW_INGEST_POOL_H
#define NW_INGEST_POOL_H

#include "nw_ingest.h"

#include <stddef.h>
#include <stdint.h>

/* Bytes of a job's error message. */
#define NW_INGEST_POOL_ERR_MAX 1024

/* The most threads a pool runs (the caller's included). */
#define NW_INGEST_POOL_MAX_THREADS 64

/* One file of a run: nw_ingest_file(cfg, path, name, ...) into rc, res and err. */
typedef struct {
    const char *path;                 /* in: the file (borrowed for the run); NULL: no
                                       * file, the job is skipped (rc, res and err stay
                                       * as the caller set them) */
    const char *name;                 /* in: how err calls it (borrowed for the run) */
    int rc;                           /* out: nw_ingest_file's result */
    nw_ingest_result_t res;           /* out: as nw_ingest_file leaves it (rc NW_OK: the
                                       * alerts, for nw_ingest_result_clear; else it owns
                                       * nothing but may name the file read) */
    char err[NW_INGEST_POOL_ERR_MAX]; /* out: the reason when rc is not NW_OK */
} nw_ingest_job_t;

typedef struct nw_ingest_pool nw_ingest_pool_t;

/* A pool that ingests on `threads` threads, the caller's included (1: the caller alone,
 * no helper is started). Initialises libxml2 for threads first. Returns NW_OK with *out
 * set; NW_ERR_INVAL when threads is 0 or over NW_INGEST_POOL_MAX_THREADS; NW_ERR_NOMEM,
 * or NW_ERR_IO when a thread could not be started (none is left running). */
int nw_ingest_pool_new(size_t threads, nw_ingest_pool_t **out);

/* The number of threads a pool runs. */
size_t nw_ingest_pool_threads(const nw_ingest_pool_t *pool);

/* The processors this process may run on (its affinity mask), at most 4: a default for
 * nw_ingest_pool_new. */
size_t nw_ingest_pool_default_threads(void);

/* Ingests jobs[0 .. n) with cfg (its tagger_ws is ignored: each thread uses its own),
 * every alert stamped published_ms, on up to min(n, threads) threads, and returns when
 * all are done. Each job's outcome is in its rc, res and err, as nw_ingest_file sets
 * them; jobs are independent (one failing stops no other). Not reentrant: one run per
 * pool at a time, from one thread. */
void nw_ingest_pool_run(nw_ingest_pool_t *pool, const nw_ingest_cfg_t *cfg, int64_t published_ms,
                        nw_ingest_job_t *jobs, size_t n);

/* Stops and joins the helpers, frees the pool and sets *pool to NULL. Safe on NULL. */
void nw_ingest_pool_destroy(nw_ingest_pool_t **pool);

#endif
