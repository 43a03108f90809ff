/* Tests for publisher/daemon/nw_replay: a real journal in a temporary directory, the server on a
 * libuv loop, and real DEALER sockets on 127.0.0.1 (ephemeral ports) read on the same loop.
 *
 * Journal: 1000 alerts, seq n journaled at time 1000 * n; topics by n % 3:
 * 0 -> [tariffs, defense], 1 -> [tariffs], 2 -> [defense]. Every loop run is bounded by a
 * deadline; callbacks record problems instead of asserting (a cmocka failure would longjmp
 * out of uv_run). No sleeps: the loop runs until the condition a test waits for holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdbool.h>
#include <stdio.h>
#include <uv.h>
#include <zmq.h>

#include "nw_codec.h"
#include "nw_error.h"
#include "nw_journal.h"
#include "nw_replay.h"
#include "nw_replay_client.h"
#include "nw_replay_msg.h"
#include "nw_replays.h"
#include "nw_testproc.h"
#include "nw_zwatch.h"

#define N_ALERTS    1000
#define DEADLINE_MS 10000
#define MAX_GOT     4096
#define N_CLIENTS   3

typedef struct fx fx_t;

/* One test client: a DEALER on the loop and what it received. */
typedef struct {
    fx_t *fx;
    void *sock;
    nw_zwatch_t *watch;
    uint64_t seqs[MAX_GOT];   /* seq of each replayed alert, in arrival order */
    char topics[MAX_GOT][16]; /* frame-2 topic of each */
    size_t n;                 /* replayed alerts received */
    nw_replay_end_t ends[16]; /* end markers received */
    size_t n_ends;
    size_t bad;             /* messages that did not have the expected shape */
    bool close_after_first; /* disconnect after the first replayed alert */
} client_t;

struct fx {
    char *dir;
    nw_journal_t *journal;
    uv_loop_t loop;
    uv_timer_t deadline;
    uv_check_t check;
    void *zctx;
    nw_replay_t *replay;
    client_t clients[N_CLIENTS];
    nw_replay_client_t *rc;    /* the module client, when a test uses it */
    uint64_t rc_seqs[MAX_GOT]; /* what it delivered */
    size_t rc_n;
    nw_replay_end_t rc_end; /* its final end */
    size_t rc_ends;
    size_t rc_failed;
    bool rc_cancel_after_first; /* cancel at the first alert */
    bool (*until)(fx_t *fx);    /* the loop stops when this holds */
    bool timed_out;
};

/* --- journal -------------------------------------------------------------------------- */

static void s_append(nw_journal_t *j, uint64_t n)
{
    nw_alert_t a;
    char id[64];
    char *frame = NULL;
    size_t size = 0;
    assert_int_equal(nw_alert_init(&a), NW_OK);
    snprintf(id, sizeof id, "%016llx.0", (unsigned long long)n);
    assert_int_equal(nw_alert_set(&a.id, id), NW_OK);
    assert_int_equal(nw_alert_set(&a.text, "text"), NW_OK);
    if (n % 3 != 2)
        assert_int_equal(nw_alert_add_topic(&a, "tariffs"), NW_OK);
    if (n % 3 != 1)
        assert_int_equal(nw_alert_add_topic(&a, "defense"), NW_OK);
    assert_int_equal(nw_journal_number(j, &a), NW_OK);
    assert_int_equal(a.seq, n);
    assert_int_equal(nw_alert_encode(&a, &frame, &size), NW_OK);
    assert_int_equal(nw_journal_append(j, &a, frame, size, (int64_t)n * 1000), NW_OK);
    free(frame);
    nw_alert_clear(&a);
}

/* --- loop plumbing ---------------------------------------------------------------------- */

static void s_on_deadline(uv_timer_t *t)
{
    fx_t *fx = t->data;
    fx->timed_out = true;
    uv_stop(&fx->loop);
}

static void s_on_check(uv_check_t *c)
{
    fx_t *fx = c->data;
    if (fx->until != NULL && fx->until(fx))
        uv_stop(&fx->loop);
}

/* Runs the loop until `until` holds; returns false at the deadline. */
static bool s_run(fx_t *fx, bool (*until)(fx_t *fx))
{
    fx->until = until;
    fx->timed_out = false;
    if (until(fx))
        return true;
    uv_timer_start(&fx->deadline, s_on_deadline, DEADLINE_MS, 0);
    uv_check_start(&fx->check, s_on_check);
    /* The check handle runs every turn; an idle-free loop still wakes for the sockets. */
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&fx->deadline);
    uv_check_stop(&fx->check);
    return !fx->timed_out && until(fx);
}

/* --- clients ---------------------------------------------------------------------------- */

/* The watcher is gone: the socket may be closed now (nw_zwatch's rule). */
static void s_on_client_closed(void *arg)
{
    client_t *c = arg;
    zmq_close(c->sock);
    c->sock = NULL;
}

static void s_on_client_message(client_t *c, zmq_msg_t *parts, size_t n)
{
    const char *f1 = zmq_msg_data(&parts[0]);
    size_t l1 = zmq_msg_size(&parts[0]);
    if (n == 3 && l1 == strlen(NW_REPLAY_TOPIC) && memcmp(f1, NW_REPLAY_TOPIC, l1) == 0) {
        nw_alert_t a;
        if (nw_alert_decode(zmq_msg_data(&parts[2]), zmq_msg_size(&parts[2]), &a) != NW_OK ||
            c->n == MAX_GOT || zmq_msg_size(&parts[1]) >= sizeof c->topics[0]) {
            c->bad++;
            return;
        }
        c->seqs[c->n] = a.seq;
        memcpy(c->topics[c->n], zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]));
        c->topics[c->n][zmq_msg_size(&parts[1])] = '\0';
        c->n++;
        nw_alert_clear(&a);
        if (c->close_after_first)
            nw_zwatch_close(&c->watch, s_on_client_closed, c);
        return;
    }
    if (n == 2 && l1 == strlen(NW_REPLAY_END_TOPIC) && memcmp(f1, NW_REPLAY_END_TOPIC, l1) == 0 &&
        c->n_ends < 16 &&
        nw_replay_end_decode(zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]),
                             &c->ends[c->n_ends]) == NW_OK) {
        c->n_ends++;
        return;
    }
    c->bad++;
}

static void s_on_client_readable(nw_zwatch_t *w, void *zsock, void *arg)
{
    client_t *c = arg;
    zmq_msg_t parts[4];
    size_t n = 0;
    bool more = true;
    (void)w;
    while (more && n < 4) {
        zmq_msg_init(&parts[n]);
        if (zmq_msg_recv(&parts[n], zsock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&parts[n]);
            break;
        }
        more = zmq_msg_more(&parts[n]);
        n++;
    }
    if (!more && n > 0)
        s_on_client_message(c, parts, n);
    else
        c->bad++;
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&parts[i]);
}

static void s_client_open(fx_t *fx, client_t *c, int rcvhwm)
{
    memset(c, 0, sizeof *c);
    c->fx = fx;
    c->sock = zmq_socket(fx->zctx, ZMQ_DEALER);
    assert_non_null(c->sock);
    int zero = 0;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(c->sock, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    assert_int_equal(zmq_connect(c->sock, nw_replay_endpoint(fx->replay)), 0);
    assert_int_equal(nw_zwatch_new(&fx->loop, c->sock, 0, s_on_client_readable, c, &c->watch),
                     NW_OK);
    assert_int_equal(nw_zwatch_start(c->watch), NW_OK);
}

static void s_client_send(client_t *c, const void *data, size_t size, int flags)
{
    assert_true(zmq_send(c->sock, data, size, flags) >= 0);
    nw_zwatch_kick(c->watch);
}

static void s_client_request(client_t *c, const nw_replay_request_t *rq)
{
    char *data = NULL;
    size_t size = 0;
    assert_int_equal(nw_replay_request_encode(rq, &data, &size), NW_OK);
    s_client_send(c, data, size, 0);
    free(data);
}

static bool s_client0_ended(fx_t *fx)
{
    return fx->clients[0].n_ends > 0;
}

/* Sends rq from client 0 (opened if needed) and runs until its end marker. */
static const nw_replay_end_t *s_ask(fx_t *fx, const nw_replay_request_t *rq)
{
    client_t *c = &fx->clients[0];
    if (c->sock == NULL)
        s_client_open(fx, c, 100000);
    c->n = 0;
    c->n_ends = 0;
    s_client_request(c, rq);
    assert_true(s_run(fx, s_client0_ended));
    assert_int_equal(c->bad, 0);
    return &c->ends[0];
}

/* --- fixture ---------------------------------------------------------------------------- */

static int s_setup_with(void **state, const nw_replay_opts_t *opts)
{
    fx_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->dir = nw_test_tmpdir("replay");
    assert_non_null(fx->dir);
    assert_int_equal(nw_journal_open(fx->dir, NULL, &fx->journal, NULL), NW_OK);
    for (uint64_t n = 1; n <= N_ALERTS; n++)
        s_append(fx->journal, n);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    uv_timer_init(&fx->loop, &fx->deadline);
    uv_check_init(&fx->loop, &fx->check);
    fx->deadline.data = fx;
    fx->check.data = fx;
    fx->zctx = zmq_ctx_new();
    char err[256];
    assert_int_equal(nw_replay_new(&fx->loop, fx->zctx, "tcp://127.0.0.1:*", fx->journal, opts,
                                   &fx->replay, err, sizeof err),
                     NW_OK);
    *state = fx;
    return 0;
}

static int s_setup(void **state)
{
    return s_setup_with(state, NULL);
}

static int s_setup_paged(void **state)
{
    nw_replay_opts_t o;
    nw_replay_opts_default(&o);
    o.max_per_request = 100;
    return s_setup_with(state, &o);
}

static int s_setup_tight(void **state)
{
    nw_replay_opts_t o;
    nw_replay_opts_default(&o);
    o.sndhwm = 4; /* clients' queues fill at once: every path through EAGAIN is taken */
    o.batch = 8;
    o.retry_ms = 1;
    return s_setup_with(state, &o);
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    nw_replay_client_close(&fx->rc, NULL, NULL);
    for (int i = 0; i < N_CLIENTS; i++)
        nw_zwatch_close(&fx->clients[i].watch, NULL, NULL);
    nw_replay_close(&fx->replay, NULL, NULL);
    uv_close((uv_handle_t *)&fx->deadline, NULL);
    uv_close((uv_handle_t *)&fx->check, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&fx->loop);
    for (int i = 0; i < N_CLIENTS; i++) {
        if (fx->clients[i].sock != NULL)
            zmq_close(fx->clients[i].sock);
    }
    zmq_ctx_term(fx->zctx);
    nw_journal_destroy(&fx->journal);
    nw_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return rc == 0 ? 0 : -1;
}

static nw_replay_request_t s_rq(uint64_t req)
{
    nw_replay_request_t rq;
    nw_replay_request_init(&rq);
    rq.req = req;
    return rq;
}

static bool s_has_tariffs(uint64_t n)
{
    return n % 3 != 2;
}

/* --- tests ------------------------------------------------------------------------------ */

static void test_from_seq_to_seq_gives_exactly_the_range(void **state)
{
    fx_t *fx = *state;
    nw_replay_request_t rq = s_rq(1);
    rq.from_seq = 5;
    rq.has_to_seq = true;
    rq.to_seq = 12;
    const nw_replay_end_t *end = s_ask(fx, &rq);
    client_t *c = &fx->clients[0];
    assert_int_equal(end->status, NW_REPLAY_OK);
    assert_int_equal(end->req, 1);
    assert_string_equal(end->stream, nw_journal_stream_id(fx->journal));
    assert_int_equal(end->count, 8);
    assert_int_equal(end->first_seq, 5);
    assert_int_equal(end->last_seq, 12);
    assert_int_equal(end->next_seq, 13);
    assert_int_equal(end->oldest, 1);
    assert_int_equal(end->head, N_ALERTS);
    assert_int_equal(c->n, 8);
    for (size_t i = 0; i < c->n; i++) {
        assert_int_equal(c->seqs[i], 5 + i);
        /* No filter: each alert once, on its first topic. */
        assert_string_equal(c->topics[i], s_has_tariffs(5 + i) ? "tariffs" : "defense");
    }
}

static void test_from_seq_to_the_end(void **state)
{
    fx_t *fx = *state;
    nw_replay_request_t rq = s_rq(2);
    rq.from_seq = 990;
    const nw_replay_end_t *end = s_ask(fx, &rq);
    assert_int_equal(end->status, NW_REPLAY_OK);
    assert_int_equal(end->count, 11);
    assert_int_equal(end->next_seq, N_ALERTS + 1);
    assert_int_equal(fx->clients[0].seqs[10], N_ALERTS);
}

static void test_from_seq_past_the_head_is_empty(void **state)
{
    fx_t *fx = *state;
    nw_replay_request_t rq = s_rq(3);
    rq.from_seq = 5000;
    const nw_replay_end_t *end = s_ask(fx, &rq);
    assert_int_equal(end->status, NW_REPLAY_OK);
    assert_int_equal(end->count, 0);
    assert_int_equal(end->first_seq, 0);
    assert_int_equal(end->next_seq, N_ALERTS + 1);
}

static void test_topic_filter_sends_each_match_once_on_its_first_matching_topic(void **state)
{
    fx_t *fx = *state;
    nw_replay_request_t rq = s_rq(4);
    rq.from_seq = 1;
    rq.has_to_seq = true;
    rq.to_seq = 30;
    nw_replay_request_add_filter(&rq, "defense");
    const nw_replay_end_t *end = s_ask(fx, &rq);
    client_t *c = &fx->clients[0];
    assert_int_equal(end->status, NW_REPLAY_OK);
    size_t k = 0;
    for (uint64_t n = 1; n <= 30; n++) {
        if (n % 3 == 1)
            continue; /* tariffs only */
        assert_true(k < c->n);
        assert_int_equal(c->seqs[k], n);
        assert_string_equal(c->topics[k], "defense");
        k++;
    }
    assert_int_equal(c->n, k);
    assert_int_equal(end->count, k);
    assert_int_equal(end->next_seq, 31);
}

static void test_last_n_with_a_filter_gives_the_last_n_matches(void **state)
{
    fx_t *fx = *state;
    /* 400 matches need several doubling windows of the backwards search. */
    const uint64_t wants[] = {1, 5, 400, 666, 667, 5000};
    for (size_t w = 0; w < sizeof wants / sizeof wants[0]; w++) {
        nw_replay_request_t rq = s_rq(10 + w);
        rq.start = NW_REPLAY_LAST;
        rq.last = wants[w];
        nw_replay_request_add_filter(&rq, "tariffs");
        const nw_replay_end_t *end = s_ask(fx, &rq);
        client_t *c = &fx->clients[0];
        assert_int_equal(end->status, NW_REPLAY_OK);
        uint64_t expect[N_ALERTS];
        size_t ne = 0;
        for (uint64_t n = N_ALERTS; n >= 1 && ne < wants[w]; n--) {
            if (s_has_tariffs(n))
                expect[ne++] = n;
        }
        assert_int_equal(c->n, ne); /* 667 alerts carry tariffs: 5000 gives them all */
        for (size_t i = 0; i < ne; i++)
            assert_int_equal(c->seqs[i], expect[ne - 1 - i]);
    }
}

static void test_last_n_with_to_seq(void **state)
{
    fx_t *fx = *state;
    nw_replay_request_t rq = s_rq(20);
    rq.start = NW_REPLAY_LAST;
    rq.last = 3;
    rq.has_to_seq = true;
    rq.to_seq = 100;
    const nw_replay_end_t *end = s_ask(fx, &rq);
    client_t *c = &fx->clients[0];
    assert_int_equal(end->count, 3);
    assert_int_equal(c->seqs[0], 98);
    assert_int_equal(c->seqs[2], 100);
    assert_int_equal(end->next_seq, 101);
}

static void test_since_starts_at_the_journal_time(void **state)
{
    fx_t *fx = *state;
    nw_replay_request_t rq = s_rq(21);
    rq.start = NW_REPLAY_SINCE;
    rq.since_ms = 995 * 1000 - 1;
    const nw_replay_end_t *end = s_ask(fx, &rq);
    client_t *c = &fx->clients[0];
    assert_int_equal(end->status, NW_REPLAY_OK);
    assert_int_equal(end->count, 6);
    assert_int_equal(c->seqs[0], 995);
    assert_int_equal(c->seqs[5], 1000);
}

static void test_more_pages_through_everything_exactly_once(void **state)
{
    fx_t *fx = *state;
    client_t *c = &fx->clients[0];
    uint64_t from = 1, got = 0, pages = 0;
    for (;;) {
        nw_replay_request_t rq = s_rq(100 + pages);
        rq.from_seq = from;
        const nw_replay_end_t *end = s_ask(fx, &rq);
        assert_int_equal(end->req, 100 + pages);
        for (size_t i = 0; i < c->n; i++)
            assert_int_equal(c->seqs[i], from + i);
        got += c->n;
        pages++;
        assert_true(end->count <= 100);
        if (end->status == NW_REPLAY_OK)
            break;
        assert_int_equal(end->status, NW_REPLAY_MORE);
        assert_int_equal(end->count, 100);
        assert_int_equal(end->next_seq, end->last_seq + 1);
        from = end->next_seq;
    }
    assert_int_equal(got, N_ALERTS);
    assert_int_equal(pages, 10); /* the tenth page holds the last 100: no empty eleventh */
}

static void test_client_limit_is_a_credit(void **state)
{
    fx_t *fx = *state;
    nw_replay_request_t rq = s_rq(30);
    rq.from_seq = 1;
    rq.limit = 7;
    nw_replay_request_add_filter(&rq, "defense");
    const nw_replay_end_t *end = s_ask(fx, &rq);
    assert_int_equal(end->status, NW_REPLAY_MORE);
    assert_int_equal(end->count, 7);
    assert_int_equal(end->last_seq, 11);
    assert_int_equal(end->next_seq, 12); /* the next alert that matches */
}

static void test_stream_mismatch_gives_an_error_marker(void **state)
{
    fx_t *fx = *state;
    nw_replay_request_t rq = s_rq(40);
    snprintf(rq.stream, sizeof rq.stream, "0000000000000000");
    const nw_replay_end_t *end = s_ask(fx, &rq);
    assert_int_equal(end->status, NW_REPLAY_ERROR);
    assert_int_equal(end->req, 40);
    assert_int_equal(end->count, 0);
    assert_non_null(strstr(end->error, "stream mismatch"));
    assert_string_equal(end->stream, nw_journal_stream_id(fx->journal));
    assert_int_equal(fx->clients[0].n, 0);

    snprintf(rq.stream, sizeof rq.stream, "%s", nw_journal_stream_id(fx->journal));
    rq.from_seq = 1000;
    end = s_ask(fx, &rq);
    assert_int_equal(end->status, NW_REPLAY_OK);
    assert_int_equal(end->count, 1);
}

static void test_malformed_requests_get_an_error_and_the_server_goes_on(void **state)
{
    fx_t *fx = *state;
    client_t *c = &fx->clients[0];
    s_client_open(fx, c, 1000);
    const unsigned char junk[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
    s_client_send(c, junk, sizeof junk, 0);
    assert_true(s_run(fx, s_client0_ended));
    assert_int_equal(c->ends[0].status, NW_REPLAY_ERROR);
    assert_int_equal(c->ends[0].req, 0);
    assert_non_null(strstr(c->ends[0].error, "bad request"));

    c->n_ends = 0;
    s_client_send(c, "a", 1, ZMQ_SNDMORE); /* two frames */
    s_client_send(c, "b", 1, 0);
    assert_true(s_run(fx, s_client0_ended));
    assert_int_equal(c->ends[0].status, NW_REPLAY_ERROR);

    nw_replay_request_t rq = s_rq(50);
    rq.from_seq = 999;
    const nw_replay_end_t *end = s_ask(fx, &rq);
    assert_int_equal(end->status, NW_REPLAY_OK);
    assert_int_equal(end->count, 2);
    nw_replay_stats_t st;
    nw_replay_stats(fx->replay, &st);
    assert_int_equal(st.errors, 2);
    assert_int_equal(st.requests, 3);
}

static bool s_all_ended(fx_t *fx)
{
    for (int i = 0; i < N_CLIENTS; i++) {
        if (fx->clients[i].n_ends == 0)
            return false;
    }
    return true;
}

static void test_clients_at_once_all_complete_through_full_queues(void **state)
{
    fx_t *fx = *state;
    for (int i = 0; i < N_CLIENTS; i++) {
        client_t *c = &fx->clients[i];
        s_client_open(fx, c, 4);
        nw_replay_request_t rq = s_rq((uint64_t)i + 1);
        rq.from_seq = 1;
        if (i == 2)
            nw_replay_request_add_filter(&rq, "tariffs");
        s_client_request(c, &rq);
    }
    assert_true(s_run(fx, s_all_ended));
    for (int i = 0; i < N_CLIENTS; i++) {
        client_t *c = &fx->clients[i];
        assert_int_equal(c->bad, 0);
        assert_int_equal(c->ends[0].status, NW_REPLAY_OK);
        assert_int_equal(c->ends[0].req, (uint64_t)i + 1);
        size_t k = 0;
        for (uint64_t n = 1; n <= N_ALERTS; n++) {
            if (i == 2 && !s_has_tariffs(n))
                continue;
            assert_int_equal(c->seqs[k++], n);
        }
        assert_int_equal(c->n, k);
    }
    nw_replay_stats_t st;
    nw_replay_stats(fx->replay, &st);
    assert_true(st.would_block > 0); /* the tight queues really were full at times */
    assert_int_equal(st.active, 0);
}

static bool s_client0_two_ends(fx_t *fx)
{
    return fx->clients[0].n_ends >= 2;
}

static void test_second_request_while_busy_is_refused(void **state)
{
    fx_t *fx = *state;
    client_t *c = &fx->clients[0];
    s_client_open(fx, c, 4);
    nw_replay_request_t rq = s_rq(1);
    rq.from_seq = 1;
    s_client_request(c, &rq);
    rq.req = 2;
    s_client_request(c, &rq);
    assert_true(s_run(fx, s_client0_two_ends));
    assert_int_equal(c->ends[0].req, 2);
    assert_int_equal(c->ends[0].status, NW_REPLAY_ERROR);
    assert_non_null(strstr(c->ends[0].error, "busy"));
    assert_int_equal(c->ends[1].req, 1);
    assert_int_equal(c->ends[1].status, NW_REPLAY_OK);
    assert_int_equal(c->n, N_ALERTS);
}

static bool s_no_active_job(fx_t *fx)
{
    nw_replay_stats_t st;
    nw_replay_stats(fx->replay, &st);
    return st.active == 0 && st.dropped == 1;
}

static void test_a_client_that_leaves_mid_replay_is_dropped(void **state)
{
    fx_t *fx = *state;
    client_t *c = &fx->clients[0];
    s_client_open(fx, c, 4);
    c->close_after_first = true;
    nw_replay_request_t rq = s_rq(1);
    rq.from_seq = 1;
    s_client_request(c, &rq);
    assert_true(s_run(fx, s_no_active_job)); /* the client closes itself after one alert */
    assert_int_equal(c->n, 1);
    assert_null(c->sock);
}

static void test_bind_errors_are_distinct(void **state)
{
    fx_t *fx = *state;
    nw_replay_t *other = NULL;
    char err[256];
    int rc = nw_replay_new(&fx->loop, fx->zctx, nw_replay_endpoint(fx->replay), fx->journal, NULL,
                           &other, err, sizeof err);
    assert_int_equal(rc, NW_ERR_ADDRINUSE);
    assert_null(other);
    assert_non_null(strstr(err, "--replay-bind"));
    assert_non_null(strstr(err, "address already in use"));
    rc = nw_replay_new(&fx->loop, fx->zctx, "nonsense://x", fx->journal, NULL, &other, err,
                       sizeof err);
    assert_int_equal(rc, NW_ERR_ENDPOINT);
    rc =
        nw_replay_new(&fx->loop, fx->zctx, "tcp://*:*", fx->journal, NULL, &other, err, sizeof err);
    assert_int_equal(rc, NW_OK);
    assert_int_equal(strncmp(nw_replay_advertised(other), "tcp://*:", 8), 0);
    assert_int_equal(strncmp(nw_replay_endpoint(other), "tcp://0.0.0.0:", 14), 0);
    nw_replay_close(&other, NULL, NULL);
    assert_null(other);
}

/* --- the module client (subscriber/nw_replay_client) against the server ------------------- */

static void s_rc_alert(const nw_alert_t *a, const char *topic, void *arg)
{
    fx_t *fx = arg;
    (void)topic;
    if (fx->rc_n < MAX_GOT)
        fx->rc_seqs[fx->rc_n++] = a->seq;
    if (fx->rc_cancel_after_first) {
        fx->rc_cancel_after_first = false;
        nw_replay_client_cancel(fx->rc);
    }
}

static void s_rc_end(const nw_replay_end_t *end, void *arg)
{
    fx_t *fx = arg;
    fx->rc_end = *end;
    fx->rc_ends++;
}

static void s_rc_failed(const char *why, void *arg)
{
    fx_t *fx = arg;
    (void)why;
    fx->rc_failed++;
}

static void s_rc_open(fx_t *fx, const char *endpoint, uint32_t timeout_ms)
{
    nw_replay_client_callbacks_t cb = {s_rc_alert, s_rc_end, s_rc_failed, fx};
    nw_replay_client_opts_t o = {.timeout_ms = timeout_ms, .retries = 2};
    assert_int_equal(nw_replay_client_new(&fx->loop, fx->zctx, endpoint, &o, &cb, &fx->rc), NW_OK);
}

static bool s_rc_done(fx_t *fx)
{
    return fx->rc_ends > 0 || fx->rc_failed > 0;
}

static void test_client_follows_more_to_the_end(void **state)
{
    fx_t *fx = *state;
    s_rc_open(fx, nw_replay_endpoint(fx->replay), 5000);
    nw_replay_request_t rq = s_rq(77);
    rq.from_seq = 1;
    assert_int_equal(nw_replay_client_start(fx->rc, &rq), NW_OK);
    assert_true(nw_replay_client_busy(fx->rc));
    assert_true(s_run(fx, s_rc_done));
    assert_int_equal(fx->rc_ends, 1);
    assert_int_equal(fx->rc_end.status, NW_REPLAY_OK);
    assert_int_equal(fx->rc_end.req, 77);
    assert_int_equal(fx->rc_end.count, N_ALERTS);
    assert_int_equal(fx->rc_end.first_seq, 1);
    assert_int_equal(fx->rc_end.last_seq, N_ALERTS);
    assert_int_equal(fx->rc_end.next_seq, N_ALERTS + 1);
    assert_int_equal(fx->rc_n, N_ALERTS);
    for (size_t i = 0; i < fx->rc_n; i++)
        assert_int_equal(fx->rc_seqs[i], i + 1);
    nw_replay_client_stats_t st;
    nw_replay_client_stats(fx->rc, &st);
    assert_int_equal(st.pages, 10);
    assert_false(nw_replay_client_busy(fx->rc));
}

static void test_client_last_n_over_pages(void **state)
{
    fx_t *fx = *state;
    s_rc_open(fx, nw_replay_endpoint(fx->replay), 5000);
    nw_replay_request_t rq = s_rq(1);
    rq.start = NW_REPLAY_LAST;
    rq.last = 250;
    assert_int_equal(nw_replay_client_start(fx->rc, &rq), NW_OK);
    assert_true(s_run(fx, s_rc_done));
    assert_int_equal(fx->rc_n, 250);
    assert_int_equal(fx->rc_seqs[0], N_ALERTS - 249);
    assert_int_equal(fx->rc_seqs[249], N_ALERTS);
}

static void test_client_gives_up_on_a_silent_endpoint(void **state)
{
    fx_t *fx = *state;
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", nw_test_free_port());
    s_rc_open(fx, ep, 50);
    nw_replay_request_t rq = s_rq(1);
    assert_int_equal(nw_replay_client_start(fx->rc, &rq), NW_OK);
    assert_true(s_run(fx, s_rc_done));
    assert_int_equal(fx->rc_failed, 1);
    assert_int_equal(fx->rc_ends, 0);
    nw_replay_client_stats_t st;
    nw_replay_client_stats(fx->rc, &st);
    assert_int_equal(st.timeouts, 2);
}

/* A server that answers one request slowly: n alerts, gap_ms apart, then the end marker. */
typedef struct {
    void *zctx;
    int port;
    int n, gap_ms;
} s_slow_t;

static void *s_slow_server(void *arg)
{
    s_slow_t *sv = arg;
    void *router = zmq_socket(sv->zctx, ZMQ_ROUTER);
    char ep[64], id[256], body[4096];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", sv->port);
    int linger = 0, wait_ms = DEADLINE_MS;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(router, ZMQ_RCVTIMEO, &wait_ms, sizeof wait_ms);
    int id_len = zmq_bind(router, ep) == 0 ? zmq_recv(router, id, sizeof id, 0) : -1;
    int len = id_len > 0 ? zmq_recv(router, body, sizeof body, 0) : -1;
    nw_replay_request_t rq;
    if (len < 0 || nw_replay_request_decode(body, (size_t)len, &rq) != NW_OK) {
        zmq_close(router);
        return NULL;
    }
    for (int i = 1; i <= sv->n; i++) {
        nanosleep(&(struct timespec){.tv_nsec = (long)sv->gap_ms * 1000000L}, NULL);
        nw_alert_t a;
        char aid[32], *frame = NULL;
        size_t size = 0;
        nw_alert_init(&a);
        snprintf(aid, sizeof aid, "%016d.0", i);
        nw_alert_set(&a.id, aid);
        nw_alert_set(&a.text, "text");
        nw_alert_set(&a.stream, "0123456789abcdef");
        nw_alert_add_topic(&a, "tariffs");
        a.seq = (uint64_t)i;
        a.topics[0].seq = (uint64_t)i;
        if (nw_alert_encode(&a, &frame, &size) == NW_OK) {
            zmq_send(router, id, (size_t)id_len, ZMQ_SNDMORE);
            zmq_send(router, NW_REPLAY_TOPIC, strlen(NW_REPLAY_TOPIC), ZMQ_SNDMORE);
            zmq_send(router, "tariffs", 7, ZMQ_SNDMORE);
            zmq_send(router, frame, size, 0);
        }
        free(frame);
        nw_alert_clear(&a);
    }
    nw_replay_end_t end = {.req = rq.req,
                           .status = NW_REPLAY_OK,
                           .count = (uint64_t)sv->n,
                           .first_seq = 1,
                           .last_seq = (uint64_t)sv->n,
                           .next_seq = (uint64_t)sv->n + 1,
                           .oldest = 1,
                           .head = (uint64_t)sv->n};
    snprintf(end.stream, sizeof end.stream, "0123456789abcdef");
    char *data = NULL;
    size_t size = 0;
    if (nw_replay_end_encode(&end, &data, &size) == NW_OK) {
        zmq_send(router, id, (size_t)id_len, ZMQ_SNDMORE);
        zmq_send(router, NW_REPLAY_END_TOPIC, strlen(NW_REPLAY_END_TOPIC), ZMQ_SNDMORE);
        zmq_send(router, data, size, 0);
    }
    free(data);
    zmq_close(router);
    return NULL;
}

/* An answer that keeps coming is not silence, however long it takes in all: the timeout
 * counts from the last message (it once counted from the request, so a long catch-up was
 * asked again, then given up, while alerts were streaming in). */
static void test_client_waits_for_an_answer_that_keeps_coming(void **state)
{
    fx_t *fx = *state;
    s_slow_t sv = {.zctx = fx->zctx, .port = nw_test_free_port(), .n = 60, .gap_ms = 50};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, s_slow_server, &sv), 0);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", sv.port);
    /* The whole answer takes about 3 s, each message 50 ms after the one before: only a
     * silence of 2 s (not a slow machine's hiccup) counts. */
    s_rc_open(fx, ep, 2000);
    nw_replay_request_t rq = s_rq(5);
    assert_int_equal(nw_replay_client_start(fx->rc, &rq), NW_OK);
    bool done = s_run(fx, s_rc_done);
    pthread_join(thread, NULL);
    assert_true(done);
    nw_replay_client_stats_t st;
    nw_replay_client_stats(fx->rc, &st);
    printf("slow answer: %zu alerts, %llu timeouts\n", fx->rc_n, (unsigned long long)st.timeouts);
    assert_int_equal(fx->rc_failed, 0);
    assert_int_equal(fx->rc_ends, 1);
    assert_int_equal(fx->rc_n, 60);
    assert_int_equal(st.timeouts, 0);
}

static void test_client_cancel_then_a_new_request(void **state)
{
    fx_t *fx = *state;
    s_rc_open(fx, nw_replay_endpoint(fx->replay), 5000);
    fx->rc_cancel_after_first = true;
    nw_replay_request_t rq = s_rq(1);
    assert_int_equal(nw_replay_client_start(fx->rc, &rq), NW_OK);
    assert_true(s_run(fx, s_no_active_job)); /* the server sees the old socket gone */
    assert_int_equal(fx->rc_n, 1);
    assert_int_equal(fx->rc_ends, 0);
    rq = s_rq(2);
    rq.from_seq = 991;
    assert_int_equal(nw_replay_client_start(fx->rc, &rq), NW_OK);
    assert_true(s_run(fx, s_rc_done));
    assert_int_equal(fx->rc_end.req, 2);
    assert_int_equal(fx->rc_n, 1 + 10);
    assert_int_equal(fx->rc_seqs[1], 991);
}

static void s_noop_alert(const nw_alert_t *a, const char *topic, void *arg)
{
    (void)a, (void)topic, (void)arg;
}

static void s_noop_end(const char *stream, const nw_replay_end_t *end, void *arg)
{
    (void)stream, (void)end, (void)arg;
}

static void s_noop_failed(const char *stream, const char *why, void *arg)
{
    (void)stream, (void)why, (void)arg;
}

/* With several -c publishers, a "*" host is the host each heartbeat came from (it once
 * resolved to the first -c host for every stream, so a second publisher's replays went to
 * the first one's journal); an explicit host on that peer is accepted too. */
static void test_replays_resolve_a_star_against_the_heartbeats_peer(void **state)
{
    fx_t *fx = *state;
    nw_replays_callbacks_t cb = {s_noop_alert, s_noop_end, s_noop_failed, NULL};
    nw_replays_opts_t o = {.connected = "tcp://127.0.0.1:5556"};
    nw_replays_t *r = NULL;
    assert_int_equal(nw_replays_new(&fx->loop, fx->zctx, &o, &cb, &r), NW_OK);
    nw_replays_heartbeat(r, "aaaaaaaaaaaaaaaa", "tcp://*:6001", NULL);
    assert_string_equal(nw_replays_endpoint(r, "aaaaaaaaaaaaaaaa"), "tcp://127.0.0.1:6001");
    nw_replays_heartbeat(r, "bbbbbbbbbbbbbbbb", "tcp://*:6002", "127.0.0.2");
    assert_string_equal(nw_replays_endpoint(r, "bbbbbbbbbbbbbbbb"), "tcp://127.0.0.2:6002");
    nw_replays_heartbeat(r, "cccccccccccccccc", "tcp://127.0.0.3:6003", "127.0.0.3");
    assert_string_equal(nw_replays_endpoint(r, "cccccccccccccccc"), "tcp://127.0.0.3:6003");
    /* a host that is neither the peer nor a -c host is still refused (a forged redirect) */
    nw_replays_heartbeat(r, "dddddddddddddddd", "tcp://10.9.8.7:6004", "127.0.0.4");
    assert_string_equal(nw_replays_endpoint(r, "dddddddddddddddd"), "");
    nw_replays_close(&r);
}

static void test_endpoint_resolve(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(
        nw_replay_endpoint_resolve("tcp://*:5557", "tcp://pub.example:5556", NULL, out, sizeof out),
        NW_OK);
    assert_string_equal(out, "tcp://pub.example:5557");
    assert_int_equal(
        nw_replay_endpoint_resolve("tcp://*:5557", "tcp://[::1]:5556", NULL, out, sizeof out),
        NW_OK);
    assert_string_equal(out, "tcp://[::1]:5557");
    assert_int_equal(
        nw_replay_endpoint_resolve("tcp://10.0.0.2:7", "tcp://10.0.0.2:1", NULL, out, sizeof out),
        NW_OK);
    assert_string_equal(out, "tcp://10.0.0.2:7");
    /* F7: a heartbeat cannot send the subscriber's replay requests to another host. */
    assert_int_equal(
        nw_replay_endpoint_resolve("tcp://10.0.0.2:7", "tcp://x:1", NULL, out, sizeof out),
        NW_ERR_PERM);
    assert_int_equal(
        nw_replay_endpoint_resolve("tcp://10.0.0.23:7", "tcp://10.0.0.2:1", NULL, out, sizeof out),
        NW_ERR_PERM);
    assert_int_equal(nw_replay_endpoint_resolve("tcp://127.0.0.1:5557", "tcp://localhost:5556",
                                                NULL, out, sizeof out),
                     NW_OK);
    assert_int_equal(nw_replay_endpoint_resolve("ipc:///tmp/r", "tcp://x:1", NULL, out, sizeof out),
                     NW_ERR_PERM);
    assert_int_equal(
        nw_replay_endpoint_resolve("ipc:///tmp/r", "ipc:///tmp/a", NULL, out, sizeof out), NW_OK);
    assert_int_equal(nw_replay_endpoint_resolve("", "tcp://x:1", NULL, out, sizeof out),
                     NW_ERR_NOTFOUND);
    assert_int_equal(
        nw_replay_endpoint_resolve("tcp://*:5557", "ipc:///tmp/x", NULL, out, sizeof out),
        NW_ERR_ENDPOINT);
    assert_int_equal(nw_replay_endpoint_resolve("tcp://*:5557", "tcp://x:1", NULL, out, 8),
                     NW_ERR_TOOBIG);
    /* The host a heartbeat came from: what "*" names, and trusted as connected's host is. */
    assert_int_equal(
        nw_replay_endpoint_resolve("tcp://*:5557", "tcp://a:1", "10.0.0.9", out, sizeof out),
        NW_OK);
    assert_string_equal(out, "tcp://10.0.0.9:5557");
    assert_int_equal(
        nw_replay_endpoint_resolve("tcp://*:5557", "ipc:///tmp/x", "::1", out, sizeof out), NW_OK);
    assert_string_equal(out, "tcp://[::1]:5557");
    assert_int_equal(
        nw_replay_endpoint_resolve("tcp://10.0.0.9:7", "tcp://a:1", "10.0.0.9", out, sizeof out),
        NW_OK);
    assert_int_equal(
        nw_replay_endpoint_resolve("tcp://10.0.0.8:7", "tcp://a:1", "10.0.0.9", out, sizeof out),
        NW_ERR_PERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_from_seq_to_seq_gives_exactly_the_range, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_from_seq_to_the_end, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_from_seq_past_the_head_is_empty, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_topic_filter_sends_each_match_once_on_its_first_matching_topic, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(test_last_n_with_a_filter_gives_the_last_n_matches, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_last_n_with_to_seq, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_since_starts_at_the_journal_time, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_more_pages_through_everything_exactly_once,
                                        s_setup_paged, s_teardown),
        cmocka_unit_test_setup_teardown(test_client_limit_is_a_credit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stream_mismatch_gives_an_error_marker, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_requests_get_an_error_and_the_server_goes_on,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_clients_at_once_all_complete_through_full_queues,
                                        s_setup_tight, s_teardown),
        cmocka_unit_test_setup_teardown(test_second_request_while_busy_is_refused, s_setup_tight,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_client_that_leaves_mid_replay_is_dropped,
                                        s_setup_tight, s_teardown),
        cmocka_unit_test_setup_teardown(test_bind_errors_are_distinct, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_client_follows_more_to_the_end, s_setup_paged,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_client_last_n_over_pages, s_setup_paged, s_teardown),
        cmocka_unit_test_setup_teardown(test_client_gives_up_on_a_silent_endpoint, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_replays_resolve_a_star_against_the_heartbeats_peer,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_client_waits_for_an_answer_that_keeps_coming, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_client_cancel_then_a_new_request, s_setup_tight,
                                        s_teardown),
        cmocka_unit_test(test_endpoint_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
