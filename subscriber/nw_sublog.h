/*
 * nw_sublog: the subscriber's log lines about streams, loss and catch-up, in
 * one place because other tools rely on their wording (docs/SUBSCRIBER.md):
 *
 *     stream S: receiving
 *     stream S: another publisher joined (P is still publishing); receiving N streams
 *     stream S: new publisher stream, replacing P (silent since): ...
 *     gap: stream S topic T: missed seq A-B (N alerts)[; repairing from the journal]
 *     gap: stream S topic T: heartbeat shows seq A-B sent but not received (N alerts)[; ...]
 *     replay: stream S from seq A (ENDPOINT)
 *     caught up: stream S seq A; live
 *     repaired: stream S seq A; live
 *     no publisher heard from in 3 s on ENDPOINT: check ...
 *     newswire-sub: received N, printed N, filtered N, duplicates N, gaps N (N alerts missed), ...
 */
#ifndef NW_SUBLOG_H
#define NW_SUBLOG_H

#include "nw_catchup.h"
#include "nw_curve.h"
#include "nw_deliver.h"
#include "nw_exec.h"
#include "nw_gaps.h"

#include <stdbool.h>

/* Logs one event of the loss detector; repairing: loss is fetched again (not only told). */
void nw_sublog_gap(const nw_gaps_event_t *ev, bool repairing);

/* Logs one event of the catch-up; endpoint: where the stream's replays go ("" if unknown);
 * beginning: --on-new-stream beginning. */
void nw_sublog_catchup(const nw_catchup_event_t *ev, const char *endpoint, bool beginning);

/* Nothing heard from any publisher since the start (a host that does not resolve, a closed
 * port or, with curve, keys that do not match all look like silence): what to check.
 * endpoint is the first of n_endpoints -c endpoints; curve may be NULL. */
void nw_sublog_silence(int after_ms, const char *endpoint, size_t n_endpoints,
                       const nw_curve_client_t *curve);

/* The summary line on standard error at exit, starting with program: the delivery path's
 * counters, the loss detector's, the replays (with_replays) and the --exec hook's (exec may
 * be NULL). */
void nw_sublog_summary(const char *program, const nw_deliver_counts_t *c, uint64_t gaps,
                       uint64_t missed, bool with_replays, uint64_t replays,
                       const nw_exec_stats_t *exec);

#endif
