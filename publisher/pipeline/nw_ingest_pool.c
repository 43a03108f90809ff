#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "nw_ingest_pool.h"

#include "nw_error.h"
#include "nw_html.h"
#include "nw_tagger.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#define S_DEFAULT_THREADS_MAX 4

/* A helper thread and the tagging memory it owns. */
typedef struct {
    nw_ingest_pool_t *pool;
    pthread_t tid;
    nw_tagger_ws_t *ws;
} s_helper_t;

struct nw_ingest_pool {
    size_t threads;          /* the caller's included */
    nw_tagger_ws_t *own_ws;  /* the caller's tagging memory */
    s_helper_t *helpers;     /* threads - 1 of them */
    size_t started;          /* helpers running */
    pthread_mutex_t mu;      /* guards everything below */
    pthread_cond_t wake;     /* a run began, or quit */
    pthread_cond_t finished; /* the run's last job ended */
    uint64_t generation;     /* runs begun */
    bool quit;               /* helpers end */
    /* the run in progress (jobs NULL between runs) */
    const nw_ingest_cfg_t *cfg;
    int64_t published_ms;
    nw_ingest_job_t *jobs;
    size_t n, next, done;
};

/* Takes and ingests the run's jobs until none is left; called and returns with mu held. */
static void s_work(nw_ingest_pool_t *p, nw_tagger_ws_t *ws)
{
    while (p->jobs != NULL && p->next < p->n) {
        nw_ingest_job_t *job = &p->jobs[p->next++];
        if (job->path != NULL) { /* else no file: the caller's rc and err stand */
            nw_ingest_cfg_t cfg = *p->cfg;
            int64_t published_ms = p->published_ms;
            cfg.tagger_ws = ws;
            pthread_mutex_unlock(&p->mu);
            job->rc = nw_ingest_file(&cfg, job->path, job->name, published_ms, &job->res, job->err,
                                     sizeof job->err);
            pthread_mutex_lock(&p->mu);
        }
        if (++p->done == p->n)
            pthread_cond_signal(&p->finished);
    }
}

static void *s_helper_main(void *arg)
{
    s_helper_t *h = arg;
    nw_ingest_pool_t *p = h->pool;
    pthread_mutex_lock(&p->mu);
    uint64_t seen = p->generation;
    for (;;) {
        while (!p->quit && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit)
            break;
        seen = p->generation;
        s_work(p, h->ws);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

size_t nw_ingest_pool_default_threads(void)
{
    /* the processors this process may run on (taskset, a cpuset), else those online */
    cpu_set_t set;
    long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                         : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > S_DEFAULT_THREADS_MAX ? S_DEFAULT_THREADS_MAX : (size_t)n;
}

size_t nw_ingest_pool_threads(const nw_ingest_pool_t *pool)
{
    return pool->threads;
}

/* Starts the helpers with every signal blocked (they inherit the mask). */
static int s_start_helpers(nw_ingest_pool_t *p)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = NW_OK;
    for (size_t i = 0; i + 1 < p->threads; i++) {
        s_helper_t *h = &p->helpers[i];
        h->pool = p;
        if (nw_tagger_ws_new(&h->ws) != NW_OK) {
            rc = NW_ERR_NOMEM;
            break;
        }
        if (pthread_create(&h->tid, NULL, s_helper_main, h) != 0) {
            nw_tagger_ws_destroy(&h->ws);
            rc = NW_ERR_IO;
            break;
        }
        p->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int nw_ingest_pool_new(size_t threads, nw_ingest_pool_t **out)
{
    *out = NULL;
    if (threads == 0 || threads > NW_INGEST_POOL_MAX_THREADS)
        return NW_ERR_INVAL;
    nw_ingest_pool_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NW_ERR_NOMEM;
    p->threads = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->finished, NULL);
    int rc = nw_tagger_ws_new(&p->own_ws);
    if (rc == NW_OK && threads > 1) {
        nw_html_init();
        p->helpers = calloc(threads - 1, sizeof *p->helpers);
        rc = p->helpers ? s_start_helpers(p) : NW_ERR_NOMEM;
    }
    if (rc != NW_OK) {
        nw_ingest_pool_destroy(&p);
        return rc;
    }
    *out = p;
    return NW_OK;
}

void nw_ingest_pool_run(nw_ingest_pool_t *pool, const nw_ingest_cfg_t *cfg, int64_t published_ms,
                        nw_ingest_job_t *jobs, size_t n)
{
    if (n == 0)
        return;
    pthread_mutex_lock(&pool->mu);
    pool->cfg = cfg;
    pool->published_ms = published_ms;
    pool->jobs = jobs;
    pool->n = n;
    pool->next = pool->done = 0;
    pool->generation++;
    if (n > 1 && pool->started > 0)
        pthread_cond_broadcast(&pool->wake);
    s_work(pool, pool->own_ws);
    while (pool->done < n) /* a helper still ingests a job */
        pthread_cond_wait(&pool->finished, &pool->mu);
    pool->jobs = NULL;
    pool->cfg = NULL;
    pool->n = pool->next = pool->done = 0;
    pthread_mutex_unlock(&pool->mu);
}

void nw_ingest_pool_destroy(nw_ingest_pool_t **pool)
{
    nw_ingest_pool_t *p = *pool;
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->started; i++) {
        pthread_join(p->helpers[i].tid, NULL);
        nw_tagger_ws_destroy(&p->helpers[i].ws);
    }
    free(p->helpers);
    nw_tagger_ws_destroy(&p->own_ws);
    pthread_cond_destroy(&p->finished);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    free(p);
    *pool = NULL;
}
