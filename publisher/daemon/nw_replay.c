#include "nw_replay.h"

#include "nw_curve.h"
#include "nw_error.h"
#include "nw_log.h"
#include "nw_replay_msg.h"
#include "nw_replay_peer.h"
#include "nw_zsock.h"
#include "nw_zwatch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_ID_MAX       255         /* bytes of a ROUTER routing id */
#define S_ENDPOINT_MAX 1024        /* bytes of an endpoint string */
#define S_RCV_MAX      (64 * 1024) /* ZMQ_MAXMSGSIZE: bigger frames drop the peer */
#define S_WINDOW_MIN   256         /* first window of a "last N" search, records */
#define S_OWED_MAX     16384       /* refusals waiting for a full client queue, at most */
#define S_PREEMPT_MS   1000        /* a job whose client took nothing this long yields its slot */
#define S_PEER_MAX     NW_REPLAY_PEER_MAX /* bytes of a client name */

typedef enum {
    S_LOCATE = 0, /* "last N": counting matches backwards, window by window */
    S_SERVE,      /* sending alerts */
    S_END,        /* the end marker is built and waits to be sent */
} s_phase_t;

typedef enum {
    S_SENT = 0, /* the message went out */
    S_BLOCKED,  /* the client's queue is full: try later */
    S_GONE,     /* the client disconnected, or the socket failed */
} s_send_t;

/* One request in progress. */
typedef struct {
    bool used;                  /* slot taken */
    unsigned char id[S_ID_MAX]; /* client's routing id */
    size_t id_len;              /* bytes of id */
    char peer[S_PEER_MAX];      /* client: key or address, "" unknown */
    nw_replay_request_t rq;     /* the request */
    s_phase_t phase;            /* what the next turn does */
    nw_journal_iter_t *it;      /* position in the journal (LOCATE and SERVE) */
    uint64_t hi;                /* the range ends before this seq */
    uint64_t limit;             /* alerts this answer may hold */
    uint64_t oldest;            /* journal's oldest seq when the request came */
    uint64_t need;              /* LOCATE: matches still wanted, newer windows counted */
    uint64_t win_lo;            /* LOCATE: current window [win_lo, win_hi) */
    uint64_t win_hi;            /* LOCATE: end of the current window */
    uint64_t win_size;          /* LOCATE: records in the current window, doubles */
    uint64_t win_found;         /* LOCATE: matches found in the current window */
    uint64_t skip;              /* SERVE: matches to pass over before sending */
    nw_journal_record_t rec;    /* SERVE: a record read but not yet sent */
    int rec_topic;              /* index of rec's topic to send on, -1: no record held */
    nw_replay_end_t end;        /* the answer's end marker, filled as it goes */
    uint64_t progress_ms;       /* loop time of the last successful send */
} s_job_t;

/* A refusal whose client's queue was full: sent as soon as the queue has room. */
typedef struct {
    unsigned char id[S_ID_MAX]; /* client's routing id */
    size_t id_len;              /* bytes of id */
    nw_replay_end_t end;        /* the "error" end marker */
    uint64_t since_ms;          /* loop time it was first tried */
} s_owed_t;

struct nw_replay_t {
    uv_loop_t *loop;                 /* the daemon's loop */
    void *sock;                      /* ROUTER, owned */
    nw_zwatch_t *watch;              /* requests arriving on sock */
    uv_idle_t pump;                  /* active while a job can make progress */
    uv_timer_t retry;                /* restarts the pump when every job was blocked */
    uint32_t retry_wait_ms;          /* its next wait: 1 ms, doubling up to opts.retry_ms */
    nw_journal_t *journal;           /* borrowed */
    nw_replay_opts_t opts;           /* defaults resolved */
    s_job_t *jobs;                   /* opts.max_clients slots */
    size_t next_job;                 /* round-robin start of the next turn */
    nw_replay_stats_t stats;         /* counters */
    s_owed_t *owed;                  /* ring of refusals not yet sent, S_OWED_MAX, lazily made */
    size_t owed_head;                /* ring index of the oldest */
    size_t n_owed;                   /* entries in the ring */
    uint64_t owed_dropped;           /* refusals given up (client gone, stalled, ring full) */
    char endpoint[S_ENDPOINT_MAX];   /* bound endpoint */
    char advertised[S_ENDPOINT_MAX]; /* endpoint for heartbeats */
    int open_handles;                /* close callbacks still to come */
    nw_replay_closed_fn *on_closed;  /* close callback */
    void *closed_arg;                /* its argument */
};

void nw_replay_opts_default(nw_replay_opts_t *opts)
{
    opts->max_per_request = NW_REPLAY_PER_REQUEST;
    opts->batch = 64;
    opts->scan = 1024;
    opts->max_clients = 64;
    opts->max_per_peer = NW_REPLAY_PER_PEER;
    opts->sndhwm = 100;
    opts->stall_ms = 30000;
    opts->retry_ms = 5;
    opts->curve = NULL;
}

static void s_resolve_opts(const nw_replay_opts_t *in, nw_replay_opts_t *out)
{
    nw_replay_opts_t d;
    nw_replay_opts_default(&d);
    *out = in ? *in : d;
    out->max_per_request = out->max_per_request ? out->max_per_request : d.max_per_request;
    out->batch = out->batch ? out->batch : d.batch;
    out->scan = out->scan ? out->scan : d.scan;
    out->max_clients = out->max_clients ? out->max_clients : d.max_clients;
    out->max_per_peer = out->max_per_peer ? out->max_per_peer : d.max_per_peer;
    out->sndhwm = out->sndhwm > 0 ? out->sndhwm : d.sndhwm;
    out->stall_ms = out->stall_ms ? out->stall_ms : d.stall_ms;
    out->retry_ms = out->retry_ms ? out->retry_ms : d.retry_ms;
}

/* --- sending ---------------------------------------------------------------------------- */

/* Sends [id, parts...] without blocking. With ROUTER_MANDATORY the routing-id frame is where
 * a full queue (EAGAIN) or a vanished client (EHOSTUNREACH) shows; once it is accepted the
 * rest of the message follows it. */
static s_send_t s_send(nw_replay_t *r, const s_job_t *job, const void *const *parts,
                       const size_t *lens, size_t n)
{
    int rc;
    do
        rc = zmq_send(r->sock, job->id, job->id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        if (errno == EAGAIN) {
            r->stats.would_block++;
            return S_BLOCKED;
        }
        if (errno != EHOSTUNREACH)
            nw_log(NW_LOG_WARN, "replay: send failed: %s", zmq_strerror(errno));
        return S_GONE;
    }
    for (size_t i = 0; i < n; i++) {
        do
            rc = zmq_send(r->sock, parts[i], lens[i], (i + 1 < n ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
        while (rc < 0 && errno == EINTR);
        if (rc < 0) {
            nw_log(NW_LOG_WARN, "replay: send failed mid-message: %s", zmq_strerror(errno));
            return S_GONE;
        }
    }
    return S_SENT;
}

/* Sends job's end marker. */
static s_send_t s_send_end(nw_replay_t *r, const s_job_t *job)
{
    char *body = NULL;
    size_t size = 0;
    int rc = nw_replay_end_encode(&job->end, &body, &size);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "replay: cannot encode an end marker: %s", nw_strerror(rc));
        return S_GONE;
    }
    const void *parts[] = {NW_REPLAY_END_TOPIC, body};
    const size_t lens[] = {strlen(NW_REPLAY_END_TOPIC), size};
    s_send_t st = s_send(r, job, parts, lens, 2);
    free(body);
    return st;
}

/* --- jobs ------------------------------------------------------------------------------- */

static void s_job_free(s_job_t *job)
{
    nw_journal_iter_destroy(&job->it);
    job->used = false;
    job->rec_topic = -1;
}

static void s_job_finish(nw_replay_t *r, s_job_t *job)
{
    if (job->end.status == NW_REPLAY_ERROR)
        r->stats.errors++;
    else
        r->stats.answered++;
    nw_log(NW_LOG_DEBUG, "replay: req %llu %s: %llu alerts, next seq %llu",
           (unsigned long long)job->end.req, nw_replay_status_name(job->end.status),
           (unsigned long long)job->end.count, (unsigned long long)job->end.next_seq);
    s_job_free(job);
    r->stats.active--;
}

/* Ends the scan: from now on the job only has its end marker to send. */
static void s_job_end(s_job_t *job, nw_replay_status_t status, uint64_t next_seq)
{
    nw_journal_iter_destroy(&job->it);
    job->rec_topic = -1;
    job->end.status = status;
    job->end.next_seq = next_seq;
    job->phase = S_END;
}

static void s_job_fail(s_job_t *job, const char *what, int rc)
{
    nw_journal_iter_destroy(&job->it);
    job->rec_topic = -1;
    nw_replay_end_set_error(&job->end, "%s: %s", what, nw_strerror(rc));
    job->phase = S_END;
}

/* Returns the index of the first of rec's topics that the request's filters match, or -1. */
static int s_match(const s_job_t *job, const nw_journal_record_t *rec)
{
    for (size_t i = 0; i < rec->n_topics; i++) {
        if (nw_replay_request_matches(&job->rq, rec->topics[i]))
            return (int)i;
    }
    return -1;
}

typedef enum {
    S_REC_MATCH = 0, /* *rec holds a record in range that matches; *topic says on which */
    S_REC_DONE,      /* the range is exhausted */
    S_REC_SCANNED,   /* a record was read that does not match (or was damaged) */
    S_REC_FAILED,    /* the journal could not be read: the job has failed */
} s_rec_t;

/* Reads the next record of job's iterator that lies before `hi`. */
static s_rec_t s_next(s_job_t *job, uint64_t hi, nw_journal_record_t *rec, int *topic)
{
    int rc = nw_journal_iter_next(job->it, rec);
    if (rc == NW_ERR_NOTFOUND)
        return S_REC_DONE;
    if (rc == NW_ERR_JOURNAL_CORRUPT) {
        nw_log(NW_LOG_WARN, "replay: skipping a damaged journal record");
        return S_REC_SCANNED;
    }
    if (rc != NW_OK) {
        s_job_fail(job, "journal read failed", rc);
        return S_REC_FAILED;
    }
    if (rec->seq >= hi)
        return S_REC_DONE;
    *topic = s_match(job, rec);
    return *topic < 0 ? S_REC_SCANNED : S_REC_MATCH;
}

static void s_serve_from(s_job_t *job, nw_journal_t *journal, uint64_t seq, uint64_t skip)
{
    nw_journal_iter_destroy(&job->it);
    int rc = nw_journal_iter_from_seq(journal, seq, &job->it);
    if (rc != NW_OK) {
        s_job_fail(job, "journal", rc);
        return;
    }
    job->skip = skip;
    job->phase = S_SERVE;
}

/* Starts the window [win_hi - win_size, win_hi) of a "last N" search. */
static void s_locate_window(s_job_t *job, nw_journal_t *journal)
{
    uint64_t span = job->win_hi - job->oldest;
    job->win_lo = job->win_size < span ? job->win_hi - job->win_size : job->oldest;
    job->win_found = 0;
    nw_journal_iter_destroy(&job->it);
    int rc = nw_journal_iter_from_seq(journal, job->win_lo, &job->it);
    if (rc != NW_OK)
        s_job_fail(job, "journal", rc);
}

/* A window of a "last N" search is done: either the start lies in it, or the search goes
 * on in a window twice as large just before it. */
static void s_locate_window_done(s_job_t *job, nw_journal_t *journal)
{
    if (job->win_found >= job->need) {
        s_serve_from(job, journal, job->win_lo, job->win_found - job->need);
        return;
    }
    job->need -= job->win_found;
    if (job->win_lo <= job->oldest) {
        s_serve_from(job, journal, job->oldest, 0); /* fewer than N in all: send them all */
        return;
    }
    job->win_hi = job->win_lo;
    job->win_size = job->win_size > UINT64_MAX / 2 ? UINT64_MAX : job->win_size * 2;
    s_locate_window(job, journal);
}

/* One turn of a "last N" search: reads at most opts.scan records. */
static void s_locate_turn(nw_replay_t *r, s_job_t *job)
{
    for (unsigned n = 0; n < r->opts.scan && job->phase == S_LOCATE; n++) {
        nw_journal_record_t rec;
        int topic;
        switch (s_next(job, job->win_hi, &rec, &topic)) {
        case S_REC_MATCH: job->win_found++; break;
        case S_REC_SCANNED: break;
        case S_REC_DONE: s_locate_window_done(job, r->journal); break;
        case S_REC_FAILED: return;
        }
    }
}

/* Reads records until one is to be sent (held in job->rec), the range ends, the limit is
 * reached, or the turn's scan budget runs out. Returns false when nothing is held. */
static bool s_serve_fetch(nw_replay_t *r, s_job_t *job, unsigned *scanned)
{
    while (job->rec_topic < 0 && job->phase == S_SERVE && *scanned < r->opts.scan) {
        int topic = -1;
        (*scanned)++;
        switch (s_next(job, job->hi, &job->rec, &topic)) {
        case S_REC_MATCH:
            if (job->skip > 0) {
                job->skip--;
                break;
            }
            if (job->end.count >= job->limit) {
                s_job_end(job, NW_REPLAY_MORE, job->rec.seq); /* more exists: say where */
                return false;
            }
            job->rec_topic = topic;
            break;
        case S_REC_SCANNED: break;
        case S_REC_DONE: s_job_end(job, NW_REPLAY_OK, job->hi); return false;
        case S_REC_FAILED: return false;
        }
    }
    return job->rec_topic >= 0;
}

/* Sends the held record. */
static s_send_t s_serve_send(nw_replay_t *r, s_job_t *job)
{
    const char *topic = job->rec.topics[job->rec_topic];
    const void *parts[] = {NW_REPLAY_TOPIC, topic, job->rec.frame};
    const size_t lens[] = {strlen(NW_REPLAY_TOPIC), strlen(topic), job->rec.frame_len};
    s_send_t st = s_send(r, job, parts, lens, 3);
    if (st != S_SENT)
        return st;
    if (job->end.count++ == 0)
        job->end.first_seq = job->rec.seq;
    job->end.last_seq = job->rec.seq;
    job->rec_topic = -1;
    r->stats.alerts++;
    return S_SENT;
}

/* One turn of serving: at most opts.batch messages and opts.scan records. */
static s_send_t s_serve_turn(nw_replay_t *r, s_job_t *job)
{
    unsigned scanned = 0;
    for (unsigned sent = 0; sent < r->opts.batch && job->phase == S_SERVE; sent++) {
        if (!s_serve_fetch(r, job, &scanned))
            return S_SENT;
        s_send_t st = s_serve_send(r, job);
        if (st != S_SENT)
            return st;
        job->progress_ms = uv_now(r->loop);
    }
    return S_SENT;
}

/* Gives job its turn. Returns S_BLOCKED when it could do nothing for a full queue. */
static s_send_t s_job_turn(nw_replay_t *r, s_job_t *job)
{
    s_send_t st = S_SENT;
    if (job->phase == S_LOCATE)
        s_locate_turn(r, job);
    else if (job->phase == S_SERVE)
        st = s_serve_turn(r, job);
    if (st == S_SENT && job->phase == S_END) {
        st = s_send_end(r, job);
        if (st == S_SENT) {
            s_job_finish(r, job);
            return S_SENT;
        }
    }
    if (st == S_GONE) {
        nw_log(NW_LOG_INFO, "replay: client gone; req %llu abandoned after %llu alerts",
               (unsigned long long)job->rq.req, (unsigned long long)job->end.count);
        r->stats.dropped++;
        s_job_free(job);
        r->stats.active--;
    } else if (st == S_BLOCKED && uv_now(r->loop) - job->progress_ms > r->opts.stall_ms) {
        nw_log(NW_LOG_WARN, "replay: client took nothing for %u ms; req %llu dropped",
               (unsigned)r->opts.stall_ms, (unsigned long long)job->rq.req);
        r->stats.dropped++;
        s_job_free(job);
        r->stats.active--;
        return S_GONE;
    }
    return st;
}

/* --- the pump: one bounded round of every job per loop turn ----------------------------- */

static void s_on_retry(uv_timer_t *timer);
static bool s_pay_owed(nw_replay_t *r);

static void s_on_pump(uv_idle_t *handle)
{
    nw_replay_t *r = handle->data;
    size_t n = r->opts.max_clients;
    bool progress = s_pay_owed(r);
    for (size_t k = 0; k < n; k++) {
        s_job_t *job = &r->jobs[(r->next_job + k) % n];
        if (job->used && s_job_turn(r, job) != S_BLOCKED)
            progress = true;
    }
    r->next_job = (r->next_job + 1) % n;
    /* Sends may have consumed the fd's edge announcing a request. */
    nw_zwatch_kick(r->watch);
    if (r->stats.active == 0 && r->n_owed == 0) {
        uv_idle_stop(&r->pump);
    } else if (!progress) {
        /* Every client's queue is full: do not spin. s_on_wake goes on as soon as libzmq says
         * a client took from its queue; the timer catches the news that a re-check of the
         * socket took in silently: soon while clients keep reading (1 ms), backing off to
         * opts.retry_ms for clients that stopped. */
        uv_idle_stop(&r->pump);
        uv_timer_start(&r->retry, s_on_retry, r->retry_wait_ms, 0);
        if (r->retry_wait_ms < r->opts.retry_ms)
            r->retry_wait_ms =
                r->retry_wait_ms * 2 < r->opts.retry_ms ? r->retry_wait_ms * 2 : r->opts.retry_ms;
    } else {
        r->retry_wait_ms = 1;
    }
}

static void s_pump_start(nw_replay_t *r)
{
    uv_timer_stop(&r->retry);
    uv_idle_start(&r->pump, s_on_pump);
}

static void s_on_retry(uv_timer_t *timer)
{
    s_pump_start(timer->data);
}

/* The socket's fd woke: its I/O thread gave it a command, perhaps that a client's queue has
 * room again (libzmq says so once the client took some of it). A pump waiting for the
 * retry timer goes on now; the timer stays the fallback. */
static void s_on_wake(nw_zwatch_t *watch, void *arg)
{
    nw_replay_t *r = arg;
    (void)watch;
    r->retry_wait_ms = 1; /* a client is active: the next fallback comes soon again */
    if (uv_is_active((uv_handle_t *)&r->retry))
        s_pump_start(r);
}

/* --- requests --------------------------------------------------------------------------- */

/* Keeps a refusal that could not be sent now; the pump sends it once the client's queue has
 * room. A full ring (a client pipelining thousands of requests it does not read) drops it,
 * counted and logged at most once per second. */
static void s_owe(nw_replay_t *r, const s_job_t *tmp)
{
    if (r->owed == NULL && (r->owed = calloc(S_OWED_MAX, sizeof *r->owed)) == NULL) {
        r->owed_dropped++;
        return;
    }
    if (r->n_owed == S_OWED_MAX) {
        if (r->owed_dropped++ % 1000 == 0)
            nw_log(NW_LOG_WARN,
                   "replay: %d refusals wait for clients that do not read; dropping more "
                   "(%llu so far)",
                   S_OWED_MAX, (unsigned long long)r->owed_dropped);
        return;
    }
    s_owed_t *o = &r->owed[(r->owed_head + r->n_owed) % S_OWED_MAX];
    memcpy(o->id, tmp->id, tmp->id_len);
    o->id_len = tmp->id_len;
    o->end = tmp->end;
    o->since_ms = uv_now(r->loop);
    r->n_owed++;
    s_pump_start(r);
}

/* Sends waiting refusals in order. Returns true when any went out or was given up. */
static bool s_pay_owed(nw_replay_t *r)
{
    bool progress = false;
    while (r->n_owed > 0) {
        s_owed_t *o = &r->owed[r->owed_head];
        s_job_t tmp;
        memcpy(tmp.id, o->id, o->id_len);
        tmp.id_len = o->id_len;
        tmp.end = o->end;
        s_send_t st = s_send_end(r, &tmp);
        if (st == S_BLOCKED && uv_now(r->loop) - o->since_ms <= r->opts.stall_ms)
            return progress;
        if (st != S_SENT)
            r->owed_dropped++; /* the client left, or took nothing for stall_ms */
        r->owed_head = (r->owed_head + 1) % S_OWED_MAX;
        r->n_owed--;
        progress = true;
    }
    return progress;
}

/* Answers a request that will not be served with an "error" end marker, at once. */
static void s_refuse(nw_replay_t *r, const unsigned char *id, size_t id_len, uint64_t req,
                     const char *why)
{
    s_job_t tmp;
    memset(&tmp, 0, sizeof tmp);
    memcpy(tmp.id, id, id_len);
    tmp.id_len = id_len;
    tmp.end.req = req;
    snprintf(tmp.end.stream, sizeof tmp.end.stream, "%s", nw_journal_stream_id(r->journal));
    tmp.end.oldest = nw_journal_first_seq(r->journal);
    tmp.end.head = nw_journal_next_seq(r->journal) - 1;
    nw_replay_end_set_error(&tmp.end, "%s", why);
    r->stats.errors++;
    nw_log(NW_LOG_DEBUG, "replay: req %llu refused: %s", (unsigned long long)req, tmp.end.error);
    /* Refusals keep their order behind those already waiting for the same queue. */
    if (r->n_owed == 0 && s_send_end(r, &tmp) == S_SENT)
        return;
    s_owe(r, &tmp);
}

static s_job_t *s_find_job(nw_replay_t *r, const unsigned char *id, size_t id_len)
{
    for (size_t i = 0; i < r->opts.max_clients; i++) {
        s_job_t *job = &r->jobs[i];
        if (job->used && job->id_len == id_len && memcmp(job->id, id, id_len) == 0)
            return job;
    }
    return NULL;
}

/* Returns the number of jobs in progress for peer. */
static unsigned s_peer_jobs(const nw_replay_t *r, const char *peer)
{
    unsigned n = 0;
    for (size_t i = 0; i < r->opts.max_clients; i++) {
        if (r->jobs[i].used && strcmp(r->jobs[i].peer, peer) == 0)
            n++;
    }
    return n;
}

/* Returns a free slot (peer NULL), or frees the slot of the job whose client has taken
 * nothing for the longest, past S_PREEMPT_MS, among all jobs (peer NULL) or among peer's:
 * clients that ask and do not read cannot hold every slot, or every slot of their peer,
 * until the stall timeout while others wait. The abandoned client gets an "error" end
 * marker (after what is already queued for it). */
static s_job_t *s_free_slot(nw_replay_t *r, const char *peer)
{
    s_job_t *stalest = NULL;
    uint64_t now = uv_now(r->loop);
    for (size_t i = 0; i < r->opts.max_clients; i++) {
        s_job_t *job = &r->jobs[i];
        if (!job->used) {
            if (peer == NULL)
                return job;
            continue;
        }
        if (peer != NULL && strcmp(job->peer, peer) != 0)
            continue;
        if (now - job->progress_ms > S_PREEMPT_MS &&
            (stalest == NULL || job->progress_ms < stalest->progress_ms))
            stalest = job;
    }
    if (stalest == NULL)
        return NULL;
    nw_log(NW_LOG_INFO,
           "replay: req %llu gave its slot to another client: its client took "
           "nothing for %llu ms",
           (unsigned long long)stalest->rq.req, (unsigned long long)(now - stalest->progress_ms));
    nw_replay_end_set_error(&stalest->end,
                            "preempted: nothing read for %llu ms while others waited; ask again",
                            (unsigned long long)(now - stalest->progress_ms));
    r->stats.dropped++;
    s_owe(r, stalest);
    s_job_free(stalest);
    r->stats.active--;
    return stalest;
}

/* Positions a new job where its request starts. */
static void s_job_position(nw_replay_t *r, s_job_t *job)
{
    const nw_replay_request_t *rq = &job->rq;
    int rc;
    switch (rq->start) {
    case NW_REPLAY_FROM_SEQ: s_serve_from(job, r->journal, rq->from_seq, 0); return;
    case NW_REPLAY_SINCE:
        if ((rc = nw_journal_iter_from_time(r->journal, rq->since_ms, &job->it)) != NW_OK)
            s_job_fail(job, "journal", rc);
        else
            job->phase = S_SERVE;
        return;
    case NW_REPLAY_LAST:
        job->phase = S_LOCATE;
        job->need = rq->last;
        job->win_hi = job->hi;
        job->win_size = rq->last > S_WINDOW_MIN ? rq->last : S_WINDOW_MIN;
        if (job->hi <= job->oldest)
            s_job_end(job, NW_REPLAY_OK, job->hi); /* nothing retained in range */
        else
            s_locate_window(job, r->journal);
        return;
    }
}

static void s_job_start(nw_replay_t *r, s_job_t *job, const unsigned char *id, size_t id_len,
                        const char *peer, const nw_replay_request_t *rq)
{
    memset(job, 0, sizeof *job);
    job->used = true;
    job->rec_topic = -1;
    memcpy(job->id, id, id_len);
    job->id_len = id_len;
    snprintf(job->peer, sizeof job->peer, "%s", peer);
    job->rq = *rq;
    uint64_t head = nw_journal_next_seq(r->journal) - 1;
    uint64_t end = rq->has_to_seq && rq->to_seq < head ? rq->to_seq : head;
    job->hi = end + 1;
    job->oldest = nw_journal_first_seq(r->journal);
    job->limit =
        rq->limit && rq->limit < r->opts.max_per_request ? rq->limit : r->opts.max_per_request;
    job->end.req = rq->req;
    snprintf(job->end.stream, sizeof job->end.stream, "%s", nw_journal_stream_id(r->journal));
    job->end.oldest = job->oldest;
    job->end.head = head;
    job->progress_ms = uv_now(r->loop);
    r->stats.active++;
    s_job_position(r, job);
    s_pump_start(r);
}

/* Returns the slot for a new job of peer's, or NULL: a peer (key or address) with
 * opts.max_per_peer jobs in progress gets a slot only from one of its own that stalls, so
 * one peer's many connections cannot take every slot; then any free or stalled slot. */
static s_job_t *s_admit(nw_replay_t *r, const char *peer, char *why, size_t whylen)
{
    if (peer[0] != '\0' && s_peer_jobs(r, peer) >= r->opts.max_per_peer) {
        s_job_t *job = s_free_slot(r, peer);
        if (job == NULL) {
            snprintf(why, whylen, "busy: %u replays of this client (%s) in progress, try later",
                     r->opts.max_per_peer, peer);
            if (r->stats.peer_busy++ % 1000 == 0)
                nw_log(NW_LOG_WARN,
                       "replay: client %s asks for more than %u replays at once; refused "
                       "(%llu so far)",
                       peer, r->opts.max_per_peer, (unsigned long long)r->stats.peer_busy);
        }
        return job;
    }
    s_job_t *job = s_free_slot(r, NULL);
    if (job == NULL)
        snprintf(why, whylen, "busy: too many replays in progress, try later");
    return job;
}

static void s_on_request(nw_replay_t *r, const unsigned char *id, size_t id_len, const char *peer,
                         const void *body, size_t size)
{
    nw_replay_request_t rq;
    char why[NW_REPLAY_ERROR_MAX + 1];
    r->stats.requests++;
    int rc = nw_replay_request_decode(body, size, &rq);
    if (rc != NW_OK) {
        snprintf(why, sizeof why, "bad request: %s", nw_strerror(rc));
        s_refuse(r, id, id_len, rq.req, why);
        return;
    }
    const char *stream = nw_journal_stream_id(r->journal);
    if (rq.stream[0] != '\0' && strcmp(rq.stream, stream) != 0) {
        snprintf(why, sizeof why, "stream mismatch: this publisher's stream is %s", stream);
        s_refuse(r, id, id_len, rq.req, why);
        return;
    }
    if (s_find_job(r, id, id_len) != NULL) {
        s_refuse(r, id, id_len, rq.req, "busy: a request of this client is in progress");
        return;
    }
    s_job_t *job = s_admit(r, peer, why, sizeof why);
    if (job == NULL) {
        s_refuse(r, id, id_len, rq.req, why);
        return;
    }
    s_job_start(r, job, id, id_len, peer, &rq);
}

/* Reads one whole message; keeps the routing id and the first body frame, counts the rest. */
static void s_on_readable(nw_zwatch_t *watch, void *zsock, void *arg)
{
    nw_replay_t *r = arg;
    zmq_msg_t part;
    unsigned char id[S_ID_MAX];
    char peer[NW_REPLAY_PEER_MAX] = "";
    size_t id_len = 0, n = 0;
    zmq_msg_t body;
    bool more = true;
    (void)watch;
    zmq_msg_init(&body);
    while (more) {
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            if (errno != EAGAIN && errno != EINTR)
                nw_log(NW_LOG_WARN, "replay: receive failed: %s", zmq_strerror(errno));
            goto cleanup;
        }
        more = zmq_msg_more(&part);
        if (n == 0) {
            id_len = zmq_msg_size(&part) <= S_ID_MAX ? zmq_msg_size(&part) : S_ID_MAX;
            memcpy(id, zmq_msg_data(&part), id_len);
            zmq_msg_close(&part);
        } else if (n == 1) {
            nw_replay_peer_of(&part, peer, sizeof peer);
            zmq_msg_move(&body, &part);
            zmq_msg_close(&part);
        } else {
            zmq_msg_close(&part);
        }
        n++;
    }
    if (n == 2)
        s_on_request(r, id, id_len, peer, zmq_msg_data(&body), zmq_msg_size(&body));
    else if (n > 0) {
        r->stats.requests++;
        s_refuse(r, id, id_len, 0, "bad request: a request is exactly one frame");
    }
cleanup:
    zmq_msg_close(&body);
}

/* --- life cycle ------------------------------------------------------------------------- */

/* Writes the endpoint for heartbeats: a wildcard host becomes "*". */
static void s_advertise(nw_replay_t *r)
{
    static const char *const wild[] = {"tcp://0.0.0.0:", "tcp://[::]:"};
    for (size_t i = 0; i < sizeof wild / sizeof wild[0]; i++) {
        size_t n = strlen(wild[i]);
        if (strncmp(r->endpoint, wild[i], n) == 0) {
            snprintf(r->advertised, sizeof r->advertised, "tcp://*:%s", r->endpoint + n);
            return;
        }
    }
    snprintf(r->advertised, sizeof r->advertised, "%s", r->endpoint);
}

static int s_bind(nw_replay_t *r, const char *endpoint, char *err, size_t errlen)
{
    if (nw_zsock_set_int(r->sock, ZMQ_ROUTER_MANDATORY, 1) != NW_OK ||
        nw_zsock_set_int(r->sock, ZMQ_SNDHWM, r->opts.sndhwm) != NW_OK ||
        nw_zsock_set_int(r->sock, ZMQ_RCVHWM, 100) != NW_OK ||
        nw_zsock_set_int(r->sock, ZMQ_LINGER, 0) != NW_OK ||
        nw_zsock_set_i64(r->sock, ZMQ_MAXMSGSIZE, S_RCV_MAX) != NW_OK) {
        snprintf(err, errlen, "--replay-bind %s: cannot set socket options: %s", endpoint,
                 zmq_strerror(errno));
        return NW_ERR_ZMQ;
    }
    if (r->opts.curve != NULL &&
        nw_curve_server_apply(r->sock, r->opts.curve, err, errlen) != NW_OK)
        return NW_ERR_ZMQ;
    int rc = nw_zsock_bind(r->sock, "--replay-bind", endpoint, r->endpoint, sizeof r->endpoint, err,
                           errlen);
    if (rc != NW_OK)
        return rc;
    s_advertise(r);
    nw_log(NW_LOG_INFO, "replay: listening on %s", r->endpoint);
    return NW_OK;
}

static void s_on_handle_closed(uv_handle_t *handle);

static void s_on_closed(nw_replay_t *r)
{
    if (--r->open_handles > 0)
        return;
    zmq_close(r->sock);
    nw_replay_closed_fn *cb = r->on_closed;
    void *arg = r->closed_arg;
    free(r->jobs);
    free(r->owed);
    free(r);
    if (cb != NULL)
        cb(arg);
}

static void s_on_handle_closed(uv_handle_t *handle)
{
    s_on_closed(handle->data);
}

static void s_on_watch_closed(void *arg)
{
    s_on_closed(arg);
}

static int s_start(nw_replay_t *r, uv_loop_t *loop, char *err, size_t errlen)
{
    int rc;
    if ((rc = nw_zwatch_new(loop, r->sock, 0, s_on_readable, r, &r->watch)) == NW_OK)
        nw_zwatch_on_wake(r->watch, s_on_wake);
    if (rc != NW_OK || (rc = nw_zwatch_start(r->watch)) != NW_OK) {
        snprintf(err, errlen, "--replay-bind %s: cannot watch the socket: %s", r->endpoint,
                 nw_strerror(rc));
        return rc;
    }
    return NW_OK;
}

int nw_replay_new(uv_loop_t *loop, void *zctx, const char *endpoint, nw_journal_t *journal,
                  const nw_replay_opts_t *opts, nw_replay_t **out, char *err, size_t errlen)
{
    char scratch[8];
    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = '\0';
    if (out != NULL)
        *out = NULL;
    if (loop == NULL || zctx == NULL || endpoint == NULL || journal == NULL || out == NULL)
        return NW_ERR_INVAL;
    int rc = NW_ERR_NOMEM;
    nw_replay_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return rc;
    s_resolve_opts(opts, &r->opts);
    r->loop = loop;
    r->journal = journal;
    if ((r->jobs = calloc(r->opts.max_clients, sizeof *r->jobs)) == NULL)
        goto fail;
    rc = NW_ERR_ZMQ;
    if ((r->sock = zmq_socket(zctx, ZMQ_ROUTER)) == NULL) {
        snprintf(err, errlen, "--replay-bind %s: %s", endpoint, zmq_strerror(errno));
        goto fail;
    }
    if ((rc = s_bind(r, endpoint, err, errlen)) != NW_OK ||
        (rc = s_start(r, loop, err, errlen)) != NW_OK)
        goto fail;
    uv_idle_init(loop, &r->pump);
    uv_timer_init(loop, &r->retry);
    r->retry_wait_ms = 1;
    r->pump.data = r;
    r->retry.data = r;
    *out = r;
    return NW_OK;
fail:
    if (r->watch != NULL) {
        /* The socket must outlive its watcher: both go once the loop closes the handles. */
        r->open_handles = 1;
        nw_zwatch_close(&r->watch, s_on_watch_closed, r);
        return rc;
    }
    if (r->sock != NULL)
        zmq_close(r->sock);
    free(r->jobs);
    free(r);
    return rc;
}

const char *nw_replay_endpoint(const nw_replay_t *r)
{
    return r->endpoint;
}

const char *nw_replay_advertised(const nw_replay_t *r)
{
    return r->advertised;
}

void nw_replay_stats(const nw_replay_t *r, nw_replay_stats_t *stats)
{
    *stats = r->stats;
}

void nw_replay_close(nw_replay_t **r_p, nw_replay_closed_fn *on_closed, void *arg)
{
    if (r_p == NULL || *r_p == NULL)
        return;
    nw_replay_t *r = *r_p;
    *r_p = NULL;
    for (size_t i = 0; i < r->opts.max_clients; i++) {
        if (r->jobs[i].used)
            s_job_free(&r->jobs[i]);
    }
    r->stats.active = 0;
    r->on_closed = on_closed;
    r->closed_arg = arg;
    r->open_handles = 3;
    uv_idle_stop(&r->pump);
    uv_timer_stop(&r->retry);
    uv_close((uv_handle_t *)&r->pump, s_on_handle_closed);
    uv_close((uv_handle_t *)&r->retry, s_on_handle_closed);
    nw_zwatch_close(&r->watch, s_on_watch_closed, r);
}
