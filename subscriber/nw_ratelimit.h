/*
 * nw_ratelimit: at most one log line per period for a recurring condition
 * (bad frames, dropped hooks), with a count of the occurrences it held back.
 *
 *     uint64_t held;
 *     if (nw_ratelimit_hit(&rl, now_ms, &held))
 *         nw_log(NW_LOG_WARN, "bad frame: %s (%llu more since the last report)", why, held);
 *     ...each second:
 *     if (nw_ratelimit_pending(&rl, now_ms, &held))
 *         nw_log(NW_LOG_WARN, "%llu more bad frames", held);
 *
 * A zeroed struct with period_ms set is ready to use.
 */
#ifndef NW_RATELIMIT_H
#define NW_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t period_ms; /* shortest time between two reports */
    int64_t last_ms;   /* when the last report was allowed */
    bool reported;     /* a report was allowed at least once */
    uint64_t held;     /* occurrences not reported since */
} nw_ratelimit_t;

/* Counts one occurrence at now_ms. Returns true when it may be reported now, with *held
 * set to the occurrences held back since the previous report (which this one covers). */
bool nw_ratelimit_hit(nw_ratelimit_t *rl, int64_t now_ms, uint64_t *held);

/* Returns true, with *held set and the count reset, when occurrences were held back and
 * a period has passed since the last report: time to report them on their own. */
bool nw_ratelimit_pending(nw_ratelimit_t *rl, int64_t now_ms, uint64_t *held);

#endif
