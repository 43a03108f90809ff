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
 */
#ifndef NW_SUBLOG_H
#define NW_SUBLOG_H

#include "nw_catchup.h"
#include "nw_gaps.h"

#include <stdbool.h>

/* Logs one event of the loss detector; repairing: loss is fetched again (not only told). */
void nw_sublog_gap(const nw_gaps_event_t *ev, bool repairing);

/* Logs one event of the catch-up; endpoint: where the stream's replays go ("" if unknown);
 * beginning: --on-new-stream beginning. */
void nw_sublog_catchup(const nw_catchup_event_t *ev, const char *endpoint, bool beginning);

#endif
