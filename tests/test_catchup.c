/* Tests for subscriber/nw_catchup: the live/replay merge with interleavings (live alerts
 * before, during and after the replay; duplicates; gaps; failures; a queue that fills;
 * several streams at once; report-only mode). Pure logic: alerts and heartbeats are built
 * here, the callbacks record what happened. Live alerts and heartbeats pass through the
 * subscriber's one loss detector (nw_gaps) first, wired as nw_subd wires it: its loss
 * events are what starts a repair.
 *
 * Alerts: seq n carries topic "tariffs" with per-topic seq n (one topic, so tseq == seq)
 * unless a test says otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <stdio.h>

#include "nw_catchup.h"
#include "nw_error.h"
#include "nw_gaps.h"

#define S1  "9f2c4e1a7b3d5c60"
#define S2  "0123456789abcdef"
#define MAX 256

typedef struct {
    nw_state_t *state;
    nw_catchup_t *c;
    nw_gaps_t *gaps;    /* the loss detector in front */
    size_t losses;      /* its MISSED and TAIL events */
    bool report_only;   /* s_make: without repair */
    bool every_topic;   /* s_make: no topic filter (every alert of a stream arrives) */
    size_t queue_bytes; /* s_make: the queue's byte budget (0: the default) */
    uint64_t got[MAX];  /* delivered seqs, in order */
    size_t n_got;
    nw_replay_request_t rq[16]; /* requests made */
    size_t n_rq;
    size_t cancels;
    nw_catchup_event_kind_t ev[64];
    size_t n_ev;
    nw_replay_request_t filters;
    nw_replay_request_t look_back;
} fx_t;

static void s_deliver(const nw_alert_t *a, const char *topic, void *arg)
{
    fx_t *fx = arg;
    (void)topic;
    if (fx->n_got < MAX)
        fx->got[fx->n_got++] = a->seq;
}

static void s_request(const char *stream, const nw_replay_request_t *rq, void *arg)
{
    fx_t *fx = arg;
    assert_non_null(stream);
    if (rq != NULL)
        assert_string_equal(rq->stream, stream);
    if (rq == NULL)
        fx->cancels++;
    else if (fx->n_rq < 16)
        fx->rq[fx->n_rq++] = *rq;
}

static void s_event(const nw_catchup_event_t *ev, void *arg)
{
    fx_t *fx = arg;
    if (fx->n_ev < 64)
        fx->ev[fx->n_ev++] = ev->kind;
}

static bool s_saw(const fx_t *fx, nw_catchup_event_kind_t kind)
{
    for (size_t i = 0; i < fx->n_ev; i++) {
        if (fx->ev[i] == kind)
            return true;
    }
    return false;
}

static size_t s_count(const fx_t *fx, nw_catchup_event_kind_t kind)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->n_ev; i++)
        n += fx->ev[i] == kind;
    return n;
}

/* The detector's loss events drive the repair, as in nw_subd. */
static void s_on_loss(const nw_gaps_event_t *ev, void *arg)
{
    fx_t *fx = arg;
    if (ev->kind == NW_GAPS_MISSED || ev->kind == NW_GAPS_TAIL) {
        fx->losses++;
        nw_catchup_gap(fx->c, ev->stream, ev->to_seq);
    }
}

static void s_make(fx_t *fx, nw_catchup_new_stream_t ns, size_t queue_max, bool look_back)
{
    nw_catchup_opts_t o = {.state = fx->state,
                           .filters = &fx->filters,
                           .look_back = look_back ? &fx->look_back : NULL,
                           .on_new_stream = ns,
                           .queue_max = queue_max,
                           .queue_bytes = fx->queue_bytes,
                           .repair = !fx->report_only,
                           .every_topic = fx->every_topic};
    assert_int_equal(nw_gaps_new(s_on_loss, NULL, fx, &fx->gaps), NW_OK);
    nw_catchup_callbacks_t cb = {s_deliver, s_request, s_event, fx};
    assert_int_equal(nw_catchup_new(&o, &cb, &fx->c), NW_OK);
}

static int s_setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (fx == NULL || nw_state_open(NULL, &fx->state, NULL, 0) != NW_OK)
        return -1;
    nw_replay_request_init(&fx->filters);
    nw_replay_request_add_filter(&fx->filters, "tariffs");
    nw_replay_request_init(&fx->look_back);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    nw_catchup_destroy(&fx->c);
    nw_gaps_destroy(&fx->gaps);
    nw_state_destroy(&fx->state);
    free(fx);
    return 0;
}

/* --- builders ---------------------------------------------------------------------------- */

static nw_alert_t s_alert2(const char *stream, uint64_t seq, const char *t1, uint64_t s1,
                           const char *t2, uint64_t s2)
{
    nw_alert_t a;
    nw_alert_init(&a);
    nw_alert_set(&a.stream, stream);
    a.seq = seq;
    nw_alert_add_topic(&a, t1);
    a.topics[0].seq = s1;
    if (t2 != NULL) {
        nw_alert_add_topic(&a, t2);
        a.topics[1].seq = s2;
    }
    return a;
}

/* A live alert on frame topic tariffs: the detector, then the merge (which takes it). */
static void s_live_alert(fx_t *fx, nw_alert_t *a)
{
    nw_gaps_alert(fx->gaps, a->stream, "tariffs", a->topics[0].seq, a->seq, 0);
    assert_int_equal(nw_catchup_live(fx->c, a, "tariffs"), NW_OK);
    assert_null(a->stream); /* taken over */
}

static void s_live(fx_t *fx, const char *stream, uint64_t seq)
{
    nw_alert_t a = s_alert2(stream, seq, "tariffs", seq, NULL, 0);
    s_live_alert(fx, &a);
}

static void s_replayed(fx_t *fx, const char *stream, uint64_t seq)
{
    nw_alert_t a = s_alert2(stream, seq, "tariffs", seq, NULL, 0);
    nw_catchup_replayed(fx->c, &a, "tariffs");
    nw_alert_clear(&a);
}

static void s_beat(fx_t *fx, const char *stream, uint64_t seq, uint64_t tariffs)
{
    nw_alert_topic_t t[2] = {{"defense", 99}, {"tariffs", tariffs}};
    nw_heartbeat_t hb = {
        .stream = (char *)stream, .seq = seq, .replay = "", .topics = t, .n_topics = 2};
    nw_gaps_heartbeat(fx->gaps, &hb, 0);
    nw_catchup_heartbeat(fx->c, &hb);
}

static void s_end(fx_t *fx, nw_replay_status_t status, uint64_t next_seq, uint64_t oldest)
{
    nw_replay_end_t e;
    memset(&e, 0, sizeof e);
    e.req = fx->rq[fx->n_rq - 1].req;
    e.status = status;
    e.next_seq = next_seq;
    e.oldest = oldest;
    e.head = next_seq > 0 ? next_seq - 1 : 0; /* a real server's answer never passes its head */
    if (status == NW_REPLAY_ERROR)
        snprintf(e.error, sizeof e.error, "busy: too many replays in progress");
    nw_catchup_replay_end(fx->c, fx->rq[fx->n_rq - 1].stream, &e);
}

static void s_expect(const fx_t *fx, const uint64_t *want, size_t n)
{
    assert_int_equal(fx->n_got, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(fx->got[i], want[i]);
}

/* --- tests -------------------------------------------------------------------------------- */

static void test_new_stream_now_starts_at_the_heartbeat_without_a_replay(void **state)
{
    fx_t *fx = *state;
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_live(fx, S1, 5); /* before any heartbeat: queued */
    assert_int_equal(fx->n_got, 0);
    s_beat(fx, S1, 5, 5);
    assert_int_equal(fx->n_rq, 0);
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_LIVE);
    s_live(fx, S1, 6);
    s_live(fx, S1, 6); /* the same alert on a second topic frame */
    s_expect(fx, (uint64_t[]){5, 6}, 2);
    assert_true(s_saw(fx, NW_CATCHUP_EV_NEW_STREAM));
}

static void test_new_stream_beginning_replays_from_one(void **state)
{
    fx_t *fx = *state;
    s_make(fx, NW_CATCHUP_BEGINNING, 0, false);
    s_beat(fx, S1, 3, 3);
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(fx->rq[0].from_seq, 1);
    assert_string_equal(fx->rq[0].stream, S1);
    assert_int_equal(fx->rq[0].n_filters, 1);
    assert_string_equal(fx->rq[0].filters[0], "tariffs");
    s_replayed(fx, S1, 2); /* 1 left the journal */
    s_replayed(fx, S1, 3);
    s_end(fx, NW_REPLAY_OK, 4, 2);
    assert_true(s_saw(fx, NW_CATCHUP_EV_LOST));
    s_expect(fx, (uint64_t[]){2, 3}, 2);
    assert_int_equal(nw_state_floor(fx->state, S1), 3);
}

/* Restart with state: live alerts arrive before the heartbeat, during the replay (some the
 * replay also brings, some past its end) and after it. Each comes out once, in order. */
static void test_resume_merges_live_and_replay_without_hole_or_duplicate(void **state)
{
    fx_t *fx = *state;
    nw_state_use(fx->state, S1, 10);
    nw_state_set_topic(fx->state, S1, "tariffs", 10);
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_live(fx, S1, 12); /* before the heartbeat */
    s_beat(fx, S1, 12, 12);
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(fx->rq[0].from_seq, 11);
    assert_false(fx->rq[0].has_to_seq); /* catch-up at start: up to the head */
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_REPLAYING);
    s_replayed(fx, S1, 11);
    s_live(fx, S1, 13); /* during the replay: the journal has it too */
    s_replayed(fx, S1, 12);
    s_replayed(fx, S1, 13);
    s_live(fx, S1, 14);     /* during the replay, past the head it was asked at */
    s_beat(fx, S1, 14, 14); /* ignored while replaying */
    s_end(fx, NW_REPLAY_OK, 14, 1);
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_LIVE);
    s_live(fx, S1, 15);
    s_expect(fx, (uint64_t[]){11, 12, 13, 14, 15}, 5);
    nw_catchup_stats_t st;
    nw_catchup_stats(fx->c, &st);
    assert_int_equal(st.duplicates, 2);
    assert_int_equal(nw_state_floor(fx->state, S1), 15);
}

static void test_up_to_date_state_goes_live_at_once(void **state)
{
    fx_t *fx = *state;
    nw_state_use(fx->state, S1, 20);
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 20, 20);
    assert_int_equal(fx->n_rq, 0);
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_LIVE);
}

static void test_a_jump_while_live_is_repaired_in_order(void **state)
{
    fx_t *fx = *state;
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 13, 13);
    s_live(fx, S1, 14);
    s_live(fx, S1, 16); /* 15 was lost */
    assert_int_equal(fx->losses, 1);
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(fx->rq[0].from_seq, 15);
    assert_true(fx->rq[0].has_to_seq); /* exactly the hole: up to the alert that showed it */
    assert_int_equal(fx->rq[0].to_seq, 15);
    s_live(fx, S1, 17); /* queued behind the repair */
    s_replayed(fx, S1, 15);
    s_end(fx, NW_REPLAY_OK, 16, 1);
    s_expect(fx, (uint64_t[]){14, 15, 16, 17}, 4);
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(s_count(fx, NW_CATCHUP_EV_LIVE), 1);     /* at the start */
    assert_int_equal(s_count(fx, NW_CATCHUP_EV_REPAIRED), 1); /* after the repair */
}

static void test_a_heartbeat_showing_tail_loss_starts_a_repair(void **state)
{
    fx_t *fx = *state;
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 13, 13);
    s_live(fx, S1, 14);
    s_beat(fx, S1, 16, 16); /* 15 and 16 never came */
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(fx->rq[0].from_seq, 15);
    assert_true(fx->rq[0].has_to_seq); /* up to the heartbeat's seq, not the head */
    assert_int_equal(fx->rq[0].to_seq, 16);
    s_replayed(fx, S1, 15);
    s_replayed(fx, S1, 16);
    s_end(fx, NW_REPLAY_OK, 17, 1);
    s_expect(fx, (uint64_t[]){14, 15, 16}, 3);
}

static void test_a_clean_heartbeat_raises_the_floor_over_filtered_seqs(void **state)
{
    fx_t *fx = *state;
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 10, 10);
    nw_alert_t a = s_alert2(S1, 15, "tariffs", 11, "defense", 100);
    s_live_alert(fx, &a);
    assert_int_equal(nw_state_floor(fx->state, S1), 10);
    assert_int_equal(nw_state_range_count(fx->state, S1), 1);
    s_beat(fx, S1, 20, 11); /* seqs 11-14 and 16-20 were other topics */
    assert_int_equal(fx->n_rq, 0);
    assert_int_equal(nw_state_floor(fx->state, S1), 20);
    assert_int_equal(nw_state_range_count(fx->state, S1), 0);
}

/* A replay that fails (its publisher killed meanwhile) holds the live alerts queued during
 * it: shown now, they would come before 11-12, which the retry at the next heartbeat
 * brings. Everything comes out in order. */
static void test_a_failed_replay_holds_live_alerts_until_the_retry(void **state)
{
    fx_t *fx = *state;
    nw_state_use(fx->state, S1, 10);
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 12, 12);
    s_live(fx, S1, 13);
    s_end(fx, NW_REPLAY_ERROR, 0, 0);
    assert_true(s_saw(fx, NW_CATCHUP_EV_FAILED));
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_REPLAYING); /* held */
    assert_int_equal(fx->n_got, 0);                                      /* 13 waits for 11-12 */
    assert_int_equal(nw_state_floor(fx->state, S1), 10);                 /* 11-12 still owed */
    s_live(fx, S1, 14);
    s_beat(fx, S1, 14, 14);
    assert_int_equal(fx->n_rq, 2);
    assert_int_equal(fx->rq[1].from_seq, 11);
    assert_false(fx->rq[1].has_to_seq); /* a catch-up at start: to the head again */
    s_replayed(fx, S1, 11);
    s_replayed(fx, S1, 12);
    s_replayed(fx, S1, 13);
    s_end(fx, NW_REPLAY_OK, 14, 1);
    s_expect(fx, (uint64_t[]){11, 12, 13, 14}, 4);
    assert_int_equal(nw_state_floor(fx->state, S1), 14);
    assert_int_equal(s_count(fx, NW_CATCHUP_EV_LIVE), 1); /* caught up once */
    assert_int_equal(s_count(fx, NW_CATCHUP_EV_REPAIRED), 0);
}

/* A stale answer to the failed request is ignored while the stream holds. */
static void test_an_answer_to_a_failed_replay_is_ignored(void **state)
{
    fx_t *fx = *state;
    nw_state_use(fx->state, S1, 10);
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 12, 12);
    nw_catchup_replay_failed(fx->c, S1, "no answer");
    s_replayed(fx, S1, 11);
    s_end(fx, NW_REPLAY_OK, 13, 1); /* the failed request's number */
    assert_int_equal(fx->n_got, 0);
    assert_int_equal(nw_state_floor(fx->state, S1), 10);
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_REPLAYING);
}

/* Replays that keep failing do not hold the stream for ever: after NW_CATCHUP_HOLD_FAILS in a
 * row live delivery goes on (what is owed comes late, once), and the retry still runs. */
static void test_replays_that_keep_failing_let_live_delivery_go_on(void **state)
{
    fx_t *fx = *state;
    nw_state_use(fx->state, S1, 10);
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 12, 12);
    s_live(fx, S1, 13);
    for (unsigned i = 1; i < NW_CATCHUP_HOLD_FAILS; i++) {
        s_end(fx, NW_REPLAY_ERROR, 0, 0);
        assert_int_equal(fx->n_got, 0);
        s_beat(fx, S1, 13, 13); /* the retry */
        assert_int_equal(fx->n_rq, i + 1);
    }
    s_end(fx, NW_REPLAY_ERROR, 0, 0);
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_LIVE);
    assert_int_equal(s_count(fx, NW_CATCHUP_EV_LIVE), 0); /* not caught up: FAILED said so */
    s_expect(fx, (uint64_t[]){13}, 1);                    /* live delivery goes on */
    s_beat(fx, S1, 13, 13);
    assert_int_equal(fx->n_rq, NW_CATCHUP_HOLD_FAILS + 1);
    assert_int_equal(fx->rq[NW_CATCHUP_HOLD_FAILS].from_seq, 11);
    s_replayed(fx, S1, 11);
    s_replayed(fx, S1, 12);
    s_replayed(fx, S1, 13);
    s_end(fx, NW_REPLAY_OK, 14, 1);
    s_expect(fx, (uint64_t[]){13, 11, 12}, 3);
    assert_int_equal(nw_state_floor(fx->state, S1), 13);
    assert_int_equal(s_count(fx, NW_CATCHUP_EV_LIVE), 1);
}

/* Large alerts fill the queue by bytes long before its count: a publisher flooding them
 * during a replay is bounded in memory, and what is dropped comes by another pass. */
static void test_a_queue_full_of_bytes_is_dropped_and_fetched_by_another_pass(void **state)
{
    fx_t *fx = *state;
    fx->queue_bytes = 200 * 1024;
    nw_state_use(fx->state, S1, 10);
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 11, 11);
    static char big[64 * 1024];
    memset(big, 'x', sizeof big - 1);
    for (uint64_t q = 12; q <= 16; q++) {
        nw_alert_t a = s_alert2(S1, q, "tariffs", q, NULL, 0);
        assert_int_equal(nw_alert_set(&a.text, big), NW_OK);
        s_live_alert(fx, &a); /* the fourth overflows 200 KiB; the rest are dropped */
        if (q == 14)
            assert_false(s_saw(fx, NW_CATCHUP_EV_OVERFLOW));
    }
    assert_true(s_saw(fx, NW_CATCHUP_EV_OVERFLOW));
    s_replayed(fx, S1, 11);
    s_end(fx, NW_REPLAY_OK, 12, 1);
    assert_int_equal(fx->n_rq, 2); /* one more pass, before going live */
    assert_int_equal(fx->rq[1].from_seq, 12);
}

static void test_a_full_queue_is_dropped_and_fetched_by_another_pass(void **state)
{
    fx_t *fx = *state;
    nw_state_use(fx->state, S1, 10);
    s_make(fx, NW_CATCHUP_NOW, 3, false);
    s_beat(fx, S1, 11, 11);
    for (uint64_t q = 12; q <= 16; q++)
        s_live(fx, S1, q); /* the fourth overflows; the rest are dropped */
    assert_true(s_saw(fx, NW_CATCHUP_EV_OVERFLOW));
    s_replayed(fx, S1, 11);
    s_end(fx, NW_REPLAY_OK, 12, 1);
    assert_int_equal(fx->n_rq, 2); /* one more pass, before going live */
    assert_int_equal(fx->rq[1].from_seq, 12);
    s_live(fx, S1, 17);
    for (uint64_t q = 12; q <= 16; q++)
        s_replayed(fx, S1, q);
    s_end(fx, NW_REPLAY_OK, 17, 1);
    s_expect(fx, (uint64_t[]){11, 12, 13, 14, 15, 16, 17}, 7);
}

static void test_stale_and_foreign_answers_are_ignored(void **state)
{
    fx_t *fx = *state;
    nw_state_use(fx->state, S1, 10);
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 12, 12);
    s_replayed(fx, S2, 11); /* another stream */
    nw_replay_end_t e;
    memset(&e, 0, sizeof e);
    e.req = 999; /* not ours */
    e.next_seq = 100;
    nw_catchup_replay_end(fx->c, S1, &e);
    nw_catchup_replay_end(fx->c, S2, &e); /* a stream not replaying */
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_REPLAYING);
    assert_int_equal(fx->n_got, 0);
}

static void test_stream_mismatch_waits_for_the_new_streams_heartbeat(void **state)
{
    fx_t *fx = *state;
    nw_state_use(fx->state, S1, 10);
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 12, 12);
    nw_replay_end_t e;
    memset(&e, 0, sizeof e);
    e.req = fx->rq[0].req;
    nw_replay_end_set_error(&e, "stream mismatch: this publisher's stream is %s", S2);
    nw_catchup_replay_end(fx->c, S1, &e);
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_WAITING);
    s_live(fx, S2, 1);
    s_beat(fx, S2, 1, 1); /* new stream, "now": starts at this heartbeat */
    assert_int_equal(nw_catchup_phase(fx->c, S2), NW_CATCHUP_LIVE);
    s_expect(fx, (uint64_t[]){1}, 1);
    assert_string_equal(nw_state_current(fx->state), S2);
    assert_int_equal(nw_state_floor(fx->state, S1), 10); /* the old stream is kept */
}

/* Two publishers at once: a second stream neither cancels nor switches the first one's
 * replay; each goes live on its own, once. */
static void test_a_second_stream_catches_up_beside_the_first(void **state)
{
    fx_t *fx = *state;
    nw_state_use(fx->state, S1, 10);
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 12, 12);
    s_beat(fx, S2, 4, 4);
    assert_int_equal(fx->cancels, 0);
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_REPLAYING);
    assert_int_equal(nw_catchup_phase(fx->c, S2), NW_CATCHUP_LIVE);
    s_live(fx, S2, 5);
    s_live(fx, S1, 13); /* queued behind S1's replay */
    s_beat(fx, S2, 5, 5);
    s_beat(fx, S1, 13, 13);
    s_replayed(fx, S1, 11);
    s_replayed(fx, S1, 12);
    s_end(fx, NW_REPLAY_OK, 13, 1);
    for (int i = 0; i < 5; i++) { /* heartbeats alternate: no stream switches, no replays */
        s_beat(fx, S1, 13, 13);
        s_beat(fx, S2, 5, 5);
    }
    s_expect(fx, (uint64_t[]){5, 11, 12, 13}, 4);
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(s_count(fx, NW_CATCHUP_EV_LIVE), 2);
    assert_int_equal(nw_state_floor(fx->state, S1), 13);
    assert_int_equal(nw_state_floor(fx->state, S2), 5);
}

/* --last N with two publishers: each stream gets its own look-back, to its own endpoint,
 * and each is caught up once. */
static void test_each_stream_gets_its_own_look_back(void **state)
{
    fx_t *fx = *state;
    fx->look_back.start = NW_REPLAY_LAST;
    fx->look_back.last = 1;
    s_make(fx, NW_CATCHUP_NOW, 0, true);
    s_beat(fx, S1, 50, 50);
    s_beat(fx, S2, 7, 7);
    assert_int_equal(fx->n_rq, 2);
    assert_string_equal(fx->rq[0].stream, S1);
    assert_string_equal(fx->rq[1].stream, S2);
    assert_int_equal(fx->rq[1].start, NW_REPLAY_LAST);
    assert_int_equal(fx->rq[1].last, 1);
    s_replayed(fx, S2, 7);
    s_end(fx, NW_REPLAY_OK, 8, 1); /* S2's answer */
    nw_replay_end_t e = {.req = fx->rq[0].req, .status = NW_REPLAY_OK, .next_seq = 51};
    s_replayed(fx, S1, 50);
    nw_catchup_replay_end(fx->c, S1, &e);
    for (int i = 0; i < 5; i++) {
        s_beat(fx, S1, 50, 50);
        s_beat(fx, S2, 7, 7);
    }
    s_expect(fx, (uint64_t[]){7, 50}, 2);
    assert_int_equal(s_count(fx, NW_CATCHUP_EV_LIVE), 2);
    assert_int_equal(fx->n_rq, 2);
}

/* Without --state/--since/--last/--replay: delivered as they come, deduplicated, nothing
 * asked, and a loss only reported (by the detector). */
static void test_report_only_delivers_at_once_and_never_asks(void **state)
{
    fx_t *fx = *state;
    fx->report_only = true;
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_live(fx, S1, 3); /* before any heartbeat: delivered at once */
    s_live(fx, S1, 3); /* another topic's copy */
    s_live(fx, S1, 6); /* 4-5 lost */
    s_beat(fx, S1, 9, 8);
    nw_alert_t a = s_alert2(S1, 10, "tariffs", 9, NULL, 0);
    s_live_alert(fx, &a);
    s_expect(fx, (uint64_t[]){3, 6, 10}, 3);
    assert_int_equal(fx->losses, 2); /* the jump, and the heartbeat's tail */
    assert_int_equal(fx->n_rq, 0);
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_LIVE);
    assert_int_equal(nw_state_floor(fx->state, S1), 10);
    nw_catchup_stats_t st;
    nw_catchup_stats(fx->c, &st);
    assert_int_equal(st.duplicates, 1);
}

static void test_look_back_last_n_then_live(void **state)
{
    fx_t *fx = *state;
    fx->look_back.start = NW_REPLAY_LAST;
    fx->look_back.last = 2;
    s_make(fx, NW_CATCHUP_NOW, 0, true);
    s_live(fx, S1, 50);
    s_beat(fx, S1, 50, 50);
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(fx->rq[0].start, NW_REPLAY_LAST);
    assert_int_equal(fx->rq[0].last, 2);
    assert_string_equal(fx->rq[0].filters[0], "tariffs");
    s_live(fx, S1, 51);
    s_replayed(fx, S1, 49);
    s_replayed(fx, S1, 50);
    s_end(fx, NW_REPLAY_OK, 51, 1);
    s_live(fx, S1, 52);
    s_expect(fx, (uint64_t[]){49, 50, 51, 52}, 4);
}

/* F7: an answer (from a rogue replay server) claiming next_seq 2^64-1 cannot raise the floor
 * past what the stream has shown. */
static void test_an_answer_past_the_known_head_is_not_believed(void **state)
{
    fx_t *fx = *state;
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 10, 10);
    nw_catchup_gap(fx->c, S1, 14);
    assert_int_equal(fx->n_rq, 1);
    nw_replay_end_t e;
    memset(&e, 0, sizeof e);
    e.req = fx->rq[0].req;
    e.status = NW_REPLAY_OK;
    e.next_seq = UINT64_MAX;
    e.head = UINT64_MAX - 1;
    nw_catchup_replay_end(fx->c, S1, &e);
    assert_int_equal(nw_state_floor(fx->state, S1), 14);
}

static void test_gap_from_the_callers_tracker(void **state)
{
    fx_t *fx = *state;
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 10, 10);
    nw_catchup_gap(fx->c, S2, 14); /* not ours */
    assert_int_equal(fx->n_rq, 0);
    nw_catchup_gap(fx->c, S1, 10); /* at the floor: nothing to fetch */
    assert_int_equal(fx->n_rq, 0);
    nw_catchup_gap(fx->c, S1, 14);
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(fx->rq[0].from_seq, 11);
    assert_true(fx->rq[0].has_to_seq);
    assert_int_equal(fx->rq[0].to_seq, 14);
    nw_catchup_gap(fx->c, S1, 13); /* inside the running range: it brings them */
    s_end(fx, NW_REPLAY_OK, 15, 1);
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(nw_state_floor(fx->state, S1), 14);
    nw_catchup_gap(fx->c, S1, 18);
    assert_int_equal(fx->n_rq, 2);
    nw_catchup_gap(fx->c, S1, 20); /* past the running range: one more pass after it */
    s_end(fx, NW_REPLAY_OK, 19, 1);
    assert_int_equal(fx->n_rq, 3);
    assert_int_equal(fx->rq[2].from_seq, 19);
    assert_int_equal(fx->rq[2].to_seq, 20);
    nw_catchup_gap(fx->c, S1, 0); /* extent unknown: the next pass goes to the head */
    s_end(fx, NW_REPLAY_OK, 21, 1);
    assert_int_equal(fx->n_rq, 4);
    assert_int_equal(fx->rq[3].from_seq, 21);
    assert_false(fx->rq[3].has_to_seq);
}

/* A topic-filtered subscriber: the floor lags at the last heartbeat and the handled set has
 * holes of other topics' seqs. A jump asks from the floor + 1 (the first hole) to just
 * before the alert that showed it, in one request over both holes; the alert handled in
 * between comes again and is dropped. */
static void test_a_jump_asks_one_bounded_range_over_several_holes(void **state)
{
    fx_t *fx = *state;
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 10, 10);
    nw_alert_t a = s_alert2(S1, 15, "tariffs", 11, NULL, 0);
    s_live_alert(fx, &a);
    a = s_alert2(S1, 30, "tariffs", 14, NULL, 0); /* tariffs 12 and 13 were lost */
    s_live_alert(fx, &a);
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(fx->rq[0].from_seq, 11);
    assert_true(fx->rq[0].has_to_seq);
    assert_int_equal(fx->rq[0].to_seq, 29);
    assert_string_equal(fx->rq[0].filters[0], "tariffs");
    a = s_alert2(S1, 15, "tariffs", 11, NULL, 0);
    nw_catchup_replayed(fx->c, &a, "tariffs");
    nw_alert_clear(&a);
    a = s_alert2(S1, 21, "tariffs", 12, NULL, 0);
    nw_catchup_replayed(fx->c, &a, "tariffs");
    nw_alert_clear(&a);
    a = s_alert2(S1, 26, "tariffs", 13, NULL, 0);
    nw_catchup_replayed(fx->c, &a, "tariffs");
    nw_alert_clear(&a);
    s_end(fx, NW_REPLAY_OK, 30, 1);
    s_expect(fx, (uint64_t[]){15, 21, 26, 30}, 4);
    nw_catchup_stats_t st;
    nw_catchup_stats(fx->c, &st);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_LIVE);
}

/* A live alert on its first topic's frame: the detector, then the merge. */
static void s_live_on(fx_t *fx, const char *topic, uint64_t seq, uint64_t tseq)
{
    nw_alert_t a = s_alert2(S1, seq, topic, tseq, NULL, 0);
    nw_gaps_alert(fx->gaps, a.stream, topic, tseq, seq, 0);
    assert_int_equal(nw_catchup_live(fx->c, &a, topic), NW_OK);
}

/* The tail of one topic is lost (tariffs 13, 14: a publisher killed, or its send queue
 * full, at the end of an article), then alerts of another topic come on with their own
 * numbers unbroken (defense 100 after the heartbeat's 99): no per-topic number shows the
 * loss. An unfiltered subscriber receives every seq of the stream, so the global jump 12 ->
 * 15 is the loss: repaired before 15 is shown, everything comes out in order. */
static void
test_unfiltered_a_lost_topic_tail_before_another_topic_is_repaired_in_order(void **state)
{
    fx_t *fx = *state;
    nw_replay_request_init(&fx->filters); /* no -t: every topic */
    fx->every_topic = true;
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 10, 10);
    s_live_on(fx, "tariffs", 11, 11);
    s_live_on(fx, "tariffs", 12, 12);
    s_live_on(fx, "defense", 15, 100); /* tariffs 13 and 14 were lost */
    assert_int_equal(fx->losses, 0);   /* the per-topic numbers show nothing */
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(fx->rq[0].from_seq, 13);
    assert_true(fx->rq[0].has_to_seq);
    assert_int_equal(fx->rq[0].to_seq, 14);
    assert_int_equal(fx->rq[0].n_filters, 0);
    s_live_on(fx, "defense", 16, 101); /* queued behind the repair */
    s_replayed(fx, S1, 13);
    s_replayed(fx, S1, 14);
    s_end(fx, NW_REPLAY_OK, 15, 1);
    s_expect(fx, (uint64_t[]){11, 12, 13, 14, 15, 16}, 6);
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_LIVE);
    /* The detector now sees tariffs 13-14 missing (replays do not pass it): all at or below
     * the floor, nothing is asked. The same alert on another topic is no jump either. */
    s_live_on(fx, "tariffs", 17, 15);
    s_live_on(fx, "defense", 17, 102);
    assert_int_equal(fx->n_rq, 1);
    s_expect(fx, (uint64_t[]){11, 12, 13, 14, 15, 16, 17}, 7);
}

/* With a topic filter, a jump in global seqs is normal (other topics' alerts): it asks
 * nothing. */
static void test_filtered_a_global_jump_asks_nothing(void **state)
{
    fx_t *fx = *state;
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 10, 10);
    s_live_on(fx, "tariffs", 11, 11);
    s_live_on(fx, "tariffs", 20, 12); /* 12..19 were other topics */
    assert_int_equal(fx->n_rq, 0);
    s_expect(fx, (uint64_t[]){11, 20}, 2);
}

/* Live alerts dropped by a full queue during a bounded repair: the next pass ends at the
 * highest seq seen, not at the head. */
static void test_an_overflow_during_a_repair_ends_the_next_pass_at_the_last_seq_seen(void **state)
{
    fx_t *fx = *state;
    s_make(fx, NW_CATCHUP_NOW, 2, false);
    s_beat(fx, S1, 10, 10);
    s_live(fx, S1, 12); /* 11 was lost */
    assert_int_equal(fx->n_rq, 1);
    assert_int_equal(fx->rq[0].to_seq, 11);
    for (uint64_t q = 13; q <= 15; q++)
        s_live(fx, S1, q); /* 12 is queued; the queue fills at 14: 12-15 dropped */
    assert_true(s_saw(fx, NW_CATCHUP_EV_OVERFLOW));
    s_replayed(fx, S1, 11);
    s_end(fx, NW_REPLAY_OK, 12, 1);
    assert_int_equal(fx->n_rq, 2);
    assert_int_equal(fx->rq[1].from_seq, 12);
    assert_true(fx->rq[1].has_to_seq);
    assert_int_equal(fx->rq[1].to_seq, 15);
    for (uint64_t q = 12; q <= 15; q++)
        s_replayed(fx, S1, q);
    s_end(fx, NW_REPLAY_OK, 16, 1);
    s_live(fx, S1, 16);
    s_expect(fx, (uint64_t[]){11, 12, 13, 14, 15, 16}, 6);
}

/* A heartbeat that shows tail loss while everything up to it is at or below the floor asks
 * nothing (the range is empty). */
static void test_tail_loss_at_or_below_the_floor_asks_nothing(void **state)
{
    fx_t *fx = *state;
    nw_state_use(fx->state, S1, 20);
    nw_state_set_topic(fx->state, S1, "tariffs", 18);
    s_make(fx, NW_CATCHUP_NOW, 0, false);
    s_beat(fx, S1, 20, 18);
    assert_int_equal(nw_catchup_phase(fx->c, S1), NW_CATCHUP_LIVE);
    s_beat(fx, S1, 20, 20); /* tariffs 19-20 are at seqs <= 20: given up or handled */
    assert_int_equal(fx->n_rq, 0);
    assert_int_equal(nw_state_topic(fx->state, S1, "tariffs"), 20);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(test_new_stream_now_starts_at_the_heartbeat_without_a_replay),
        T(test_new_stream_beginning_replays_from_one),
        T(test_an_answer_past_the_known_head_is_not_believed),
        T(test_resume_merges_live_and_replay_without_hole_or_duplicate),
        T(test_up_to_date_state_goes_live_at_once),
        T(test_a_jump_while_live_is_repaired_in_order),
        T(test_a_heartbeat_showing_tail_loss_starts_a_repair),
        T(test_a_clean_heartbeat_raises_the_floor_over_filtered_seqs),
        T(test_a_failed_replay_holds_live_alerts_until_the_retry),
        T(test_an_answer_to_a_failed_replay_is_ignored),
        T(test_replays_that_keep_failing_let_live_delivery_go_on),
        T(test_a_full_queue_is_dropped_and_fetched_by_another_pass),
        T(test_a_queue_full_of_bytes_is_dropped_and_fetched_by_another_pass),
        T(test_stale_and_foreign_answers_are_ignored),
        T(test_stream_mismatch_waits_for_the_new_streams_heartbeat),
        T(test_a_second_stream_catches_up_beside_the_first),
        T(test_each_stream_gets_its_own_look_back),
        T(test_report_only_delivers_at_once_and_never_asks),
        T(test_look_back_last_n_then_live),
        T(test_gap_from_the_callers_tracker),
        T(test_a_jump_asks_one_bounded_range_over_several_holes),
        T(test_an_overflow_during_a_repair_ends_the_next_pass_at_the_last_seq_seen),
        T(test_tail_loss_at_or_below_the_floor_asks_nothing),
        T(test_unfiltered_a_lost_topic_tail_before_another_topic_is_repaired_in_order),
        T(test_filtered_a_global_jump_asks_nothing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
