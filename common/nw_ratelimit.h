/*
 * nw_ratelimit: at most a few log lines per period for a recurring condition (bad frames,
 * dropped hooks, subscription changes, refused clients), with a count of the occurrences
 * it held back.
 *
 *     uint64_t held;
 *     if (nw_ratelimit_hit(&rl, now_ms, &held))
 *         nw_log(NW_LOG_WARN, "bad frame: %s (%llu more since the last report)", why, held);
 *     ...each second:
 *     if (nw_ratelimit_pending(&rl, now_ms, &held))
 *         nw_log(NW_LOG_WARN, "%llu more bad frames", held);
 *
 * Time is cut into windows of period_ms, each beginning with the first report after the
 * last window ended; a window allows burst reports (0 counts as 1). A zeroed struct with
 * period_ms (and burst) set is ready to use.
 */
#ifndef NW_RATELIMIT_H
#define NW_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t period_ms; /* length of a window */
    unsigned burst;    /* reports a window allows (0: one) */
    int64_t window_ms; /* when the current window began */
    unsigned reports;  /* reports allowed in it */
    bool started;      /* a window has begun */
    uint64_t held;     /* occurrences not reported since the last report */
} nw_ratelimit_t;

/* Counts one occurrence at now_ms. Returns true when it may be reported now, with *held
 * set to the occurrences held back since the previous report (which this one covers). */
bool nw_ratelimit_hit(nw_ratelimit_t *rl, int64_t now_ms, uint64_t *held);

/* Returns true, with *held set and the count reset, when occurrences were held back and
 * their window is over: time to report them on their own (a report of the next window). */
bool nw_ratelimit_pending(nw_ratelimit_t *rl, int64_t now_ms, uint64_t *held);

#endif
