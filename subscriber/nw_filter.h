/*
 * nw_filter: decides which received alerts the subscriber shows.
 *
 * An alert frame passes when, in this order:
 *   1. its frame topic matches one of the include filters (nw_topic_matches;
 *      no include filter means everything), since ZeroMQ's byte-prefix
 *      subscription lets "defenseless" through for "defense";
 *   2. none of the alert's topics matches an exclude filter, so
 *      `-t trade -T trade.tariffs` drops an alert tagged with both;
 *   3. its priority is at least the minimum, and it is not an update (revision
 *      2 or more) when updates are not wanted (--updates none);
 *   4. it was not already passed: an alert tagged with several subscribed
 *      topics arrives once per topic, with the same stream and global
 *      sequence number, and is shown once. The filter remembers the last
 *      NW_FILTER_RECENT passed alerts by (stream, seq), or by id when the
 *      alert is not numbered.
 *
 *     nw_filter_t *f;
 *     nw_filter_new(&f);
 *     nw_filter_include(f, "defense");
 *     if (nw_filter_check(f, &alert, frame_topic) == NW_FILTER_PASS) print(...);
 *     nw_filter_destroy(&f);
 */
#ifndef NW_FILTER_H
#define NW_FILTER_H

#include "nw_alert.h"

#include <stdbool.h>

#define NW_FILTER_RECENT 4096 /* passed alerts remembered for duplicate suppression */

typedef struct nw_filter_t nw_filter_t;

typedef enum {
    NW_FILTER_PASS = 0,      /* show it */
    NW_FILTER_NO_MATCH = 1,  /* frame topic matches no include filter */
    NW_FILTER_EXCLUDED = 2,  /* one of its topics matches an exclude filter */
    NW_FILTER_PRIORITY = 3,  /* below the minimum priority */
    NW_FILTER_DUPLICATE = 4, /* already passed on another topic */
    NW_FILTER_KIND = 5,      /* not one of the --kind kinds */
    NW_FILTER_UPDATE = 6,    /* an update of an article, and updates are not wanted */
} nw_filter_verdict_t;

/* Creates a filter that passes everything at any priority. Returns NW_OK with *out set,
 * or NW_ERR_NOMEM. */
int nw_filter_new(nw_filter_t **out);

/* Frees the filter and sets *filter_p to NULL. Safe on NULL and twice. */
void nw_filter_destroy(nw_filter_t **filter_p);

/* Adds an include filter (copied). Returns NW_OK, NW_ERR_TOPIC when topic is not a valid
 * topic name, NW_ERR_NOMEM. Adding the same topic twice is harmless. */
int nw_filter_include(nw_filter_t *filter, const char *topic);

/* Adds an exclude filter (copied). Returns as nw_filter_include. */
int nw_filter_exclude(nw_filter_t *filter, const char *topic);

/* Sets the lowest priority that passes (the default is NW_PRIORITY_LOW: all). */
void nw_filter_set_min_priority(nw_filter_t *filter, nw_priority_t priority);

/* Sets the kinds that pass (--kind: a mask of nw_kinds bits; 0, the default, passes every
 * kind). */
void nw_filter_set_kinds(nw_filter_t *filter, unsigned kinds);

/* Sets whether updates of published articles (alerts of revision 2 or more) pass (the
 * default: they do). */
void nw_filter_set_updates(nw_filter_t *filter, bool updates);

/* Returns true when frame topic topic matches an include filter (or there are none):
 * whether a frame is worth decoding and tracking at all. */
bool nw_filter_subscribed(const nw_filter_t *filter, const char *topic);

/* Returns the number of include filters and, through *topics, their names (owned by the
 * filter, valid until it is destroyed), so the caller can subscribe to each. */
size_t nw_filter_includes(const nw_filter_t *filter, const char *const **topics);

/* Judges alert, received on frame topic topic, by the rules above. A PASS is remembered
 * so that the same alert on another topic later gives NW_FILTER_DUPLICATE. */
nw_filter_verdict_t nw_filter_check(nw_filter_t *filter, const nw_alert_t *alert,
                                    const char *topic);

#endif
