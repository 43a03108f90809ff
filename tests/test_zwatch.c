/* Tests for common/nw_zwatch: a SUB socket on a libuv loop gets every message, once, in order.
 *
 * The sending side is an XPUB so a test can receive the SUB's subscription before it sends:
 * that is the honest cure for the slow joiner (no sleep). High-water marks are 0 (no limit)
 * on both sides, so nothing is dropped by design. Every loop run is bounded by a deadline
 * timer; callbacks record the first problem instead of asserting, because a cmocka failure
 * would longjmp out of uv_run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <uv.h>
#include <zmq.h>

#include "nw_error.h"
#include "nw_zwatch.h"

#define DEADLINE_MS 5000
#define BURST       10000
#define SENTINEL    UINT64_MAX
#define TOPIC       "t"

typedef struct {
    void *ctx;             /* one ZeroMQ context per test */
    void *pub;             /* XPUB: sends, and shows us the subscription */
    void *sub;             /* the watched SUB */
    char endpoint[256];    /* where pub is bound */
    uv_loop_t loop;        /* the loop under test */
    uv_timer_t deadline;   /* fails a run that takes too long */
    uv_check_t turns;      /* counts loop turns and messages per turn (budget test) */
    nw_zwatch_t *watch;    /* the watcher under test */
    int timed_out;         /* the deadline fired */
    uint64_t next;         /* counter expected in the next message */
    uint64_t stop_at;      /* messages expected in all */
    int until_sentinel;    /* stop at the sender's sentinel rather than at stop_at */
    uint64_t received;     /* messages received */
    unsigned calls;        /* on_readable calls */
    unsigned closed;       /* on_closed calls */
    unsigned turn_count;   /* loop turns seen by the check handle while messages flowed */
    unsigned this_turn;    /* messages received in the current turn */
    unsigned max_per_turn; /* the most messages received in one turn */
    int close_in_callback; /* on_readable closes the watcher after its first message */
    int try_mode;          /* the watcher is made by nw_zwatch_new_try */
    unsigned empty_reads;  /* try_read calls that found nothing */
    const char *problem;   /* first problem a callback saw, NULL if none */
} fx_t;

/* --- fixture ------------------------------------------------------------------------------ */

static void s_note(fx_t *fx, const char *problem)
{
    if (fx->problem == NULL)
        fx->problem = problem;
}

static int s_setup(void **state, const char *bind_to)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    int zero = 0, timeout = DEADLINE_MS;
    size_t len = sizeof fx->endpoint;
    fx->ctx = zmq_ctx_new();
    fx->pub = zmq_socket(fx->ctx, ZMQ_XPUB);
    fx->sub = zmq_socket(fx->ctx, ZMQ_SUB);
    if (fx->pub == NULL || fx->sub == NULL)
        return -1;
    zmq_setsockopt(fx->pub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(fx->sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(fx->pub, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(fx->pub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(fx->sub, ZMQ_RCVHWM, &zero, sizeof zero);
    if (zmq_bind(fx->pub, bind_to) != 0 ||
        zmq_getsockopt(fx->pub, ZMQ_LAST_ENDPOINT, fx->endpoint, &len) != 0 ||
        zmq_connect(fx->sub, fx->endpoint) != 0 ||
        zmq_setsockopt(fx->sub, ZMQ_SUBSCRIBE, TOPIC, strlen(TOPIC)) != 0)
        return -1;
    /* The subscription has reached the sender once the XPUB hands it to us (bounded by
     * ZMQ_RCVTIMEO): from then on nothing it sends to TOPIC is filtered out. */
    char sub_msg[8];
    if (zmq_recv(fx->pub, sub_msg, sizeof sub_msg, 0) != 1 + (int)strlen(TOPIC) || sub_msg[0] != 1)
        return -1;
    if (uv_loop_init(&fx->loop) != 0 || uv_timer_init(&fx->loop, &fx->deadline) != 0 ||
        uv_check_init(&fx->loop, &fx->turns) != 0)
        return -1;
    fx->deadline.data = fx;
    fx->turns.data = fx;
    *state = fx;
    return 0;
}

static int s_setup_tcp(void **state)
{
    return s_setup(state, "tcp://127.0.0.1:*");
}

static int s_setup_inproc(void **state)
{
    return s_setup(state, "inproc://zwatch-test");
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    int rc = 0;
    nw_zwatch_close(&fx->watch, NULL, NULL);
    uv_close((uv_handle_t *)&fx->deadline, NULL);
    uv_close((uv_handle_t *)&fx->turns, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT); /* only close callbacks are left */
    if (uv_loop_close(&fx->loop) != 0)
        rc = -1;
    if (fx->sub != NULL)
        zmq_close(fx->sub);
    zmq_close(fx->pub);
    zmq_ctx_term(fx->ctx);
    free(fx);
    return rc;
}

/* --- helpers ------------------------------------------------------------------------------ */

static int s_send(void *pub, uint64_t counter)
{
    if (zmq_send(pub, TOPIC, strlen(TOPIC), ZMQ_SNDMORE) != (int)strlen(TOPIC))
        return -1;
    return zmq_send(pub, &counter, sizeof counter, 0) == (int)sizeof counter ? 0 : -1;
}

static void s_send_many(fx_t *fx, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++)
        assert_int_equal(s_send(fx->pub, i), 0);
}

/* Whether the socket's ZMQ_FD would wake a poller right now. */
static int s_fd_signalled(void *zsock)
{
    zmq_fd_t fd;
    size_t len = sizeof fd;
    assert_int_equal(zmq_getsockopt(zsock, ZMQ_FD, &fd, &len), 0);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

/* Takes every pending signal off the socket's fd the way a stray ZMQ_EVENTS query by other code
 * would, so the watcher cannot rely on an edge. Returns the events. */
static int s_spend_edge(void *zsock)
{
    int events = 0;
    size_t len = sizeof events;
    assert_int_equal(zmq_getsockopt(zsock, ZMQ_EVENTS, &events, &len), 0);
    assert_false(s_fd_signalled(zsock));
    return events;
}

static void s_on_deadline(uv_timer_t *timer)
{
    fx_t *fx = timer->data;
    fx->timed_out = 1;
    uv_stop(&fx->loop);
}

/* Runs the loop until a callback stops it or the deadline passes; returns whether it passed. */
static int s_run(fx_t *fx)
{
    fx->timed_out = 0;
    assert_int_equal(uv_timer_start(&fx->deadline, s_on_deadline, DEADLINE_MS, 0), 0);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&fx->deadline);
    return fx->timed_out;
}

static void s_on_closed(void *arg)
{
    fx_t *fx = arg;
    fx->closed++;
    /* What an owner does here: the fd is no longer polled, so the socket may go. */
    zmq_close(fx->sub);
    fx->sub = NULL;
    uv_stop(&fx->loop);
}

/* Receives one two-frame message and checks its counter is the next one expected. Returns
 * whether a message was there. */
static bool s_read_one(nw_zwatch_t *watch, void *zsock, void *arg)
{
    fx_t *fx = arg;
    char topic[16];
    uint64_t counter;
    int more = 0;
    size_t len = sizeof more;
    fx->calls++;
    if (watch != fx->watch || zsock != fx->sub)
        s_note(fx, "callback got another watcher or socket");
    int n = zmq_recv(zsock, topic, sizeof topic, ZMQ_DONTWAIT);
    if (n < 0) {
        if (errno != EAGAIN)
            s_note(fx, "receiving the topic failed");
        return false; /* a spurious wake-up is allowed; the watcher asks ZMQ_EVENTS again */
    }
    if (n != (int)strlen(TOPIC) || memcmp(topic, TOPIC, (size_t)n) != 0)
        s_note(fx, "wrong topic frame");
    if (zmq_getsockopt(zsock, ZMQ_RCVMORE, &more, &len) != 0 || !more) {
        s_note(fx, "message has one frame");
        return true;
    }
    n = zmq_recv(zsock, &counter, sizeof counter, ZMQ_DONTWAIT);
    if (n != (int)sizeof counter) {
        s_note(fx, "payload frame missing or wrong size");
        return true;
    }
    if (counter == SENTINEL) {
        if (fx->next != fx->stop_at)
            s_note(fx, "sentinel came before the last message");
        uv_stop(&fx->loop);
        return true;
    }
    if (counter != fx->next)
        s_note(fx, "message lost, repeated or out of order");
    fx->next = counter + 1;
    fx->received++;
    fx->this_turn++;
    if (fx->close_in_callback)
        nw_zwatch_close(&fx->watch, s_on_closed, fx);
    else if (fx->received == fx->stop_at && !fx->until_sentinel)
        uv_stop(&fx->loop);
    return true;
}

/* nw_zwatch_fn: the watcher saw ZMQ_POLLIN first. */
static void s_on_readable(nw_zwatch_t *watch, void *zsock, void *arg)
{
    (void)s_read_one(watch, zsock, arg);
}

/* nw_zwatch_try_fn: no check first; says whether the socket had a message. */
static bool s_try_read(nw_zwatch_t *watch, void *zsock, void *arg)
{
    fx_t *fx = arg;
    bool got = s_read_one(watch, zsock, arg);
    if (!got)
        fx->empty_reads++;
    return got;
}

static void s_start_watch(fx_t *fx, unsigned budget)
{
    if (fx->try_mode)
        assert_int_equal(nw_zwatch_new_try(&fx->loop, fx->sub, budget, s_try_read, fx, &fx->watch),
                         NW_OK);
    else
        assert_int_equal(nw_zwatch_new(&fx->loop, fx->sub, budget, s_on_readable, fx, &fx->watch),
                         NW_OK);
    assert_int_equal(nw_zwatch_start(fx->watch), NW_OK);
}

/* --- burst over tcp, sent from another thread while the loop drains ----------------------- */

typedef struct {
    void *pub; /* owned by the thread until it is joined */
    int rc;    /* 0 when every send succeeded */
} sender_t;

static void *s_sender(void *arg)
{
    sender_t *s = arg;
    s->rc = 0;
    for (uint64_t i = 0; i < BURST && s->rc == 0; i++)
        s->rc = s_send(s->pub, i);
    if (s->rc == 0)
        s->rc = s_send(s->pub, SENTINEL);
    return NULL;
}

static void s_burst(fx_t *fx, unsigned budget)
{
    /* The loop stops at the sentinel, which the sender puts after the last counter: a repeat of
     * any message, the last included, is therefore seen before the loop stops. */
    fx->stop_at = BURST;
    fx->until_sentinel = 1;
    s_start_watch(fx, budget);
    sender_t sender = {.pub = fx->pub, .rc = -1};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, s_sender, &sender), 0);
    int timed_out = s_run(fx);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(sender.rc, 0);
    assert_false(timed_out);
    assert_null(fx->problem);
    assert_int_equal(fx->received, BURST);
    assert_int_equal(fx->next, BURST);
}

static void test_burst_all_arrive_once_in_order(void **state)
{
    s_burst(*state, 0);
}

static void test_burst_small_budget_all_arrive_once_in_order(void **state)
{
    s_burst(*state, 8);
}

/* --- the edge spent before start ---------------------------------------------------------- */

static void test_messages_queued_before_start_are_delivered(void **state)
{
    fx_t *fx = *state;
    s_send_many(fx, 100);
    /* Over inproc the messages sit in the SUB's pipe once zmq_send returns; after this the fd
     * stays silent, so only the drain that start schedules can deliver them. */
    assert_true(s_spend_edge(fx->sub) & ZMQ_POLLIN);
    fx->stop_at = 100;
    s_start_watch(fx, 0);
    assert_false(s_run(fx));
    assert_null(fx->problem);
    assert_int_equal(fx->received, 100);
}

/* --- nw_zwatch_kick re-checks after the owner spent the edge ------------------------------ */

static void test_kick_delivers_after_edge_spent(void **state)
{
    fx_t *fx = *state;
    s_start_watch(fx, 0);
    uv_run(&fx->loop, UV_RUN_NOWAIT); /* the start drain finds nothing: now waiting on the fd */
    assert_int_equal(fx->calls, fx->empty_reads); /* a try reader may look and find nothing */
    s_send_many(fx, 1);
    /* The owner touches the socket (here a ZMQ_EVENTS query; a send or setsockopt does the
     * same), which eats the edge the watcher was waiting for. */
    assert_true(s_spend_edge(fx->sub) & ZMQ_POLLIN);
    nw_zwatch_kick(fx->watch);
    fx->stop_at = 1;
    assert_false(s_run(fx));
    assert_null(fx->problem);
    assert_int_equal(fx->received, 1);
}

/* --- the budget per loop turn ------------------------------------------------------------- */

static void s_on_turn(uv_check_t *check)
{
    fx_t *fx = check->data;
    if (fx->this_turn > fx->max_per_turn)
        fx->max_per_turn = fx->this_turn;
    if (fx->this_turn > 0)
        fx->turn_count++;
    fx->this_turn = 0;
}

static void test_budget_caps_each_turn_and_loses_nothing(void **state)
{
    fx_t *fx = *state;
    s_send_many(fx, 1000);
    fx->stop_at = 1000;
    assert_int_equal(uv_check_start(&fx->turns, s_on_turn), 0);
    s_start_watch(fx, 8);
    assert_false(s_run(fx));
    assert_null(fx->problem);
    assert_int_equal(fx->received, 1000);
    assert_true(fx->max_per_turn <= 8);
    assert_true(fx->turn_count >= 1000 / 8);
}

/* --- closing from inside on_readable ------------------------------------------------------ */

static void test_close_inside_callback_is_safe(void **state)
{
    fx_t *fx = *state;
    s_send_many(fx, 10); /* more than one queued: the drain would go on if it did not check */
    fx->close_in_callback = 1;
    s_start_watch(fx, 0);
    assert_false(s_run(fx));
    assert_null(fx->problem);
    assert_null(fx->watch);
    assert_int_equal(fx->calls, 1);
    assert_int_equal(fx->closed, 1);
    assert_null(fx->sub); /* on_closed closed the socket */
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    assert_int_equal(fx->calls, 1);
    assert_int_equal(fx->closed, 1);
}

/* --- nw_zwatch_new_try: the same guarantees without a ZMQ_EVENTS check per message ------- */

static void test_try_burst_all_arrive_once_in_order(void **state)
{
    fx_t *fx = *state;
    fx->try_mode = 1;
    s_burst(fx, 0);
}

static void test_try_burst_small_budget_all_arrive_once_in_order(void **state)
{
    fx_t *fx = *state;
    fx->try_mode = 1;
    s_burst(fx, 8);
}

static void test_try_messages_queued_before_start_are_delivered(void **state)
{
    fx_t *fx = *state;
    fx->try_mode = 1;
    test_messages_queued_before_start_are_delivered(state);
}

static void test_try_kick_delivers_after_edge_spent(void **state)
{
    fx_t *fx = *state;
    fx->try_mode = 1;
    test_kick_delivers_after_edge_spent(state);
}

static void test_try_budget_caps_each_turn_and_loses_nothing(void **state)
{
    fx_t *fx = *state;
    fx->try_mode = 1;
    test_budget_caps_each_turn_and_loses_nothing(state);
}

static void test_try_close_inside_callback_is_safe(void **state)
{
    fx_t *fx = *state;
    fx->try_mode = 1;
    test_close_inside_callback_is_safe(state);
}

/* A queued batch is read with one empty read at its end, not a check per message: 100 queued
 * messages take 100 reads that find one and at most one that finds none per drain. */
static void test_try_reads_a_batch_until_empty(void **state)
{
    fx_t *fx = *state;
    fx->try_mode = 1;
    s_send_many(fx, 100);
    fx->stop_at = 100;
    s_start_watch(fx, 0);
    assert_false(s_run(fx));
    assert_null(fx->problem);
    assert_int_equal(fx->received, 100);
    assert_int_equal(fx->calls, 100 + fx->empty_reads);
    assert_true(fx->empty_reads <= 1);
}

static void test_new_rejects_null_callbacks(void **state)
{
    fx_t *fx = *state;
    nw_zwatch_t *w = (nw_zwatch_t *)fx; /* any non-NULL value: must be reset */
    assert_int_equal(nw_zwatch_new(&fx->loop, fx->sub, 0, NULL, fx, &w), NW_ERR_INVAL);
    assert_null(w);
    w = (nw_zwatch_t *)fx;
    assert_int_equal(nw_zwatch_new_try(&fx->loop, fx->sub, 0, NULL, fx, &w), NW_ERR_INVAL);
    assert_null(w);
}

/* --- close on NULL ------------------------------------------------------------------------ */

static void s_count_closed(void *arg)
{
    (*(unsigned *)arg)++;
}

static void test_close_null_is_safe(void **state)
{
    (void)state;
    unsigned closed = 0;
    nw_zwatch_t *watch = NULL;
    nw_zwatch_close(NULL, s_count_closed, &closed);
    nw_zwatch_close(&watch, s_count_closed, &closed);
    assert_null(watch);
    assert_int_equal(closed, 0);
}

/* --- on_wake: room to send again ------------------------------------------------------- */

/* A ROUTER whose peer's queue is full, and the peer that will read. */
typedef struct {
    uv_loop_t loop;
    uv_timer_t deadline, reader;
    void *ctx, *router, *dealer;
    nw_zwatch_t *watch;
    unsigned wakes; /* on_wake calls */
    bool room;      /* a send that failed with EAGAIN went through after a wake */
    bool timed_out;
} s_wake_fx_t;

static int s_router_send(void *router)
{
    if (zmq_send(router, "d", 1, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return zmq_send(router, "x", 1, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

static void s_wake_readable(nw_zwatch_t *watch, void *zsock, void *arg)
{
    (void)watch;
    (void)arg;
    char buf[8];
    int more = 1;
    size_t len = sizeof more;
    while (more && zmq_recv(zsock, buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
        zmq_getsockopt(zsock, ZMQ_RCVMORE, &more, &len);
}

static void s_wake_cb(nw_zwatch_t *watch, void *arg)
{
    s_wake_fx_t *fx = arg;
    (void)watch;
    fx->wakes++;
    if (s_router_send(fx->router) == 0) {
        fx->room = true;
        uv_stop(&fx->loop);
    }
}

/* The peer takes everything queued for it, once the loop runs: its socket tells the
 * ROUTER's (a command through the ROUTER's mailbox, which is what wakes the fd). */
static void s_wake_reader(uv_timer_t *timer)
{
    s_wake_fx_t *fx = timer->data;
    char buf[8];
    while (zmq_recv(fx->dealer, buf, sizeof buf, ZMQ_DONTWAIT) >= 0) {
    }
}

static void s_wake_deadline(uv_timer_t *timer)
{
    s_wake_fx_t *fx = timer->data;
    fx->timed_out = true;
    uv_stop(&fx->loop);
}

static void s_wake_closed(void *arg)
{
    s_wake_fx_t *fx = arg;
    uv_stop(&fx->loop);
}

static void test_wake_says_when_a_full_peer_has_room(void **state)
{
    (void)state;
    s_wake_fx_t fx = {0};
    int hwm = 10, one = 1;
    assert_non_null(fx.ctx = zmq_ctx_new());
    fx.router = zmq_socket(fx.ctx, ZMQ_ROUTER);
    fx.dealer = zmq_socket(fx.ctx, ZMQ_DEALER);
    assert_int_equal(zmq_setsockopt(fx.router, ZMQ_ROUTER_MANDATORY, &one, sizeof one), 0);
    assert_int_equal(zmq_setsockopt(fx.router, ZMQ_SNDHWM, &hwm, sizeof hwm), 0);
    assert_int_equal(zmq_setsockopt(fx.dealer, ZMQ_RCVHWM, &hwm, sizeof hwm), 0);
    assert_int_equal(zmq_setsockopt(fx.dealer, ZMQ_ROUTING_ID, "d", 1), 0);
    assert_int_equal(zmq_bind(fx.router, "inproc://wake"), 0);
    assert_int_equal(zmq_connect(fx.dealer, "inproc://wake"), 0);
    /* The ROUTER learns the peer by its first message. */
    assert_int_equal(zmq_send(fx.dealer, "hi", 2, 0), 2);
    char buf[8];
    assert_int_equal(zmq_recv(fx.router, buf, sizeof buf, 0), 1);
    assert_int_equal(zmq_recv(fx.router, buf, sizeof buf, 0), 2);
    /* Fill the peer's queue until the ROUTER refuses. */
    unsigned sent = 0;
    while (s_router_send(fx.router) == 0 && sent < 100000)
        sent++;
    assert_int_equal(errno, EAGAIN);
    assert_true(sent >= (unsigned)hwm);

    assert_int_equal(uv_loop_init(&fx.loop), 0);
    assert_int_equal(nw_zwatch_new(&fx.loop, fx.router, 0, s_wake_readable, &fx, &fx.watch), NW_OK);
    nw_zwatch_on_wake(fx.watch, s_wake_cb);
    assert_int_equal(nw_zwatch_start(fx.watch), NW_OK);
    uv_timer_init(&fx.loop, &fx.deadline);
    uv_timer_init(&fx.loop, &fx.reader);
    fx.deadline.data = fx.reader.data = &fx;
    uv_timer_start(&fx.deadline, s_wake_deadline, DEADLINE_MS, 0);
    uv_timer_start(&fx.reader, s_wake_reader, 20, 0);
    uv_run(&fx.loop, UV_RUN_DEFAULT);
    printf("%u messages filled the peer's queue; %u wake-ups until one more went through\n", sent,
           fx.wakes);
    assert_false(fx.timed_out);
    assert_true(fx.room);

    uv_close((uv_handle_t *)&fx.deadline, NULL);
    uv_close((uv_handle_t *)&fx.reader, NULL);
    nw_zwatch_close(&fx.watch, s_wake_closed, &fx);
    uv_run(&fx.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&fx.loop), 0);
    zmq_close(fx.router);
    zmq_close(fx.dealer);
    zmq_ctx_term(fx.ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_burst_all_arrive_once_in_order, s_setup_tcp,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_burst_small_budget_all_arrive_once_in_order,
                                        s_setup_tcp, s_teardown),
        cmocka_unit_test_setup_teardown(test_messages_queued_before_start_are_delivered,
                                        s_setup_inproc, s_teardown),
        cmocka_unit_test_setup_teardown(test_kick_delivers_after_edge_spent, s_setup_inproc,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_budget_caps_each_turn_and_loses_nothing,
                                        s_setup_inproc, s_teardown),
        cmocka_unit_test_setup_teardown(test_close_inside_callback_is_safe, s_setup_inproc,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_try_burst_all_arrive_once_in_order, s_setup_tcp,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_try_burst_small_budget_all_arrive_once_in_order,
                                        s_setup_tcp, s_teardown),
        cmocka_unit_test_setup_teardown(test_try_messages_queued_before_start_are_delivered,
                                        s_setup_inproc, s_teardown),
        cmocka_unit_test_setup_teardown(test_try_kick_delivers_after_edge_spent, s_setup_inproc,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_try_budget_caps_each_turn_and_loses_nothing,
                                        s_setup_inproc, s_teardown),
        cmocka_unit_test_setup_teardown(test_try_close_inside_callback_is_safe, s_setup_inproc,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_try_reads_a_batch_until_empty, s_setup_inproc,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_new_rejects_null_callbacks, s_setup_inproc,
                                        s_teardown),
        cmocka_unit_test(test_close_null_is_safe),
        cmocka_unit_test(test_wake_says_when_a_full_peer_has_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
