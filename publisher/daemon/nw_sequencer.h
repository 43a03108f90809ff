/*
 * nw_sequencer: numbers alerts for the wire (stream id, global and
 * per-topic sequence numbers) and builds heartbeats from the same state.
 *
 * One sequencer per publisher stream. Every alert gets the next global
 * sequence number, and for each of its topics the next number of that
 * topic, so a subscriber of any topic set can tell a gap from a filtered
 * alert. Used when the daemon runs without a journal (--no-journal), with a
 * fresh id from nw_stream_id_new() (proto/nw_stream_id.h); with a journal,
 * the journal numbers alerts itself.
 *
 *     char id[NW_STREAM_ID_LEN + 1];
 *     nw_stream_id_new(id);
 *     nw_sequencer_t *seq;
 *     nw_sequencer_new(id, &seq);
 *     nw_sequencer_number(seq, &alert);   // alert.seq, alert.topics[i].seq set
 *     nw_sequencer_destroy(&seq);
 */
#ifndef NW_SEQUENCER_H
#define NW_SEQUENCER_H

#include "nw_alert.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nw_sequencer_t nw_sequencer_t;

/* Creates a sequencer for stream_id (copied; must be nw_stream_id_valid) with every
 * counter at 0. Returns NW_OK with *out set, NW_ERR_INVAL for a bad id, NW_ERR_NOMEM. */
int nw_sequencer_new(const char *stream_id, nw_sequencer_t **out);

/* Numbers alert: sets alert->stream, alert->seq to the next global number and each
 * alert->topics[i].seq to the next number of that topic. All or nothing: on error the
 * counters and the alert are unchanged. Returns NW_OK, NW_ERR_INVAL when the alert has
 * no topic, NW_ERR_NOMEM. */
int nw_sequencer_number(nw_sequencer_t *seqr, nw_alert_t *alert);

/* Fills *hb (zeroed first; clear it with nw_heartbeat_clear) with the stream id, the
 * last global number, every topic's last number (in name order), now_ms, interval_ms and
 * the replay endpoint (copied; "" for none). Returns NW_OK or NW_ERR_NOMEM (hb zeroed). */
int nw_sequencer_heartbeat(const nw_sequencer_t *seqr, int64_t now_ms, uint32_t interval_ms,
                           const char *replay, nw_heartbeat_t *hb);

/* Returns the stream id (owned by the sequencer). */
const char *nw_sequencer_stream(const nw_sequencer_t *seqr);

/* Returns the last global sequence number handed out (0 = none). */
uint64_t nw_sequencer_last(const nw_sequencer_t *seqr);

/* Frees the sequencer and sets *seqr_p to NULL. Safe on NULL and twice. */
void nw_sequencer_destroy(nw_sequencer_t **seqr_p);

#endif
