/*
 * nw_deliver: the end of the subscriber's one delivery path.
 *
 *   SUB socket (nw_subsock: split, decode) -> loss detection (nw_gaps) ->
 *   catch-up (nw_catchup: merge with replays, dedup by stream and seq) ->
 *   nw_deliver: filter (excludes, priority), dedup (another topic's copy) ->
 *   sinks (standard output, --log, --exec, and any view added later)
 *
 * An alert that passes is rendered as JSON once, when any sink wants it, and
 * every sink gets the same nw_delivery_t. The counters of the whole path live
 * in one nw_deliver_counts_t.
 *
 *     nw_deliver_new(filter, &d);
 *     nw_deliver_add_sink(d, &(nw_sink_t){"log", true, s_log_write, log});
 *     if (nw_deliver_alert(d, &alert, topic)) ...  // delivered
 */
#ifndef NW_DELIVER_H
#define NW_DELIVER_H

#include "nw_alert.h"
#include "nw_filter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NW_DELIVER_SINKS_MAX 8 /* sinks one path feeds */

typedef struct nw_deliver_t nw_deliver_t;

/* One alert on its way out, as every sink sees it. */
typedef struct {
    const nw_alert_t *alert; /* the alert */
    const char *topic;       /* the frame topic it came on */
    const char *json;        /* it as one JSON object (nw_json_alert), no newline; NULL when
                                no sink wants JSON */
    size_t json_len;         /* bytes of json */
} nw_delivery_t;

/* A sink: where delivered alerts go. write may not keep pointers into dv after it returns. */
typedef struct {
    const char *name;                                   /* for messages */
    bool wants_json;                                    /* dv->json is filled for it */
    void (*write)(const nw_delivery_t *dv, void *self); /* one delivered alert */
    void *self;                                         /* the sink's own state */
} nw_sink_t;

/* The counters of the delivery path, for the summary line (and metrics). */
typedef struct {
    uint64_t received;   /* alert frames with a valid topic */
    uint64_t delivered;  /* alerts handed to the sinks ("printed") */
    uint64_t filtered;   /* frames or alerts the filters dropped */
    uint64_t duplicates; /* the same alert again: another topic's copy, or handled before */
    uint64_t bad;        /* frames that did not decode */
} nw_deliver_counts_t;

/* Creates the path's end over filter (borrowed, must outlive it). Returns NW_OK with *out
 * set, or NW_ERR_NOMEM. */
int nw_deliver_new(nw_filter_t *filter, nw_deliver_t **out);

/* Adds a sink (copied). Returns NW_OK or NW_ERR_TOOBIG past NW_DELIVER_SINKS_MAX. */
int nw_deliver_add_sink(nw_deliver_t *d, const nw_sink_t *sink);

/* Judges alert (received on frame topic topic, not handled before) by the filter and hands
 * it to every sink when it passes. Returns true when it was delivered. Out of memory for
 * the JSON is logged; sinks that want it are skipped for that alert. */
bool nw_deliver_alert(nw_deliver_t *d, const nw_alert_t *alert, const char *topic);

/* Returns the counters: delivered, filtered and duplicates are counted here; the caller
 * adds what earlier stages counted (received, bad, filtered before decoding, duplicates
 * the catch-up dropped). */
nw_deliver_counts_t *nw_deliver_counts(nw_deliver_t *d);

/* Frees d and sets *d_p to NULL. Safe on NULL and twice. */
void nw_deliver_destroy(nw_deliver_t **d_p);

#endif
