#include "nw_ratelimit.h"

/* Begins a new window at now_ms when none has begun or the current one is over. */
static void s_roll(nw_ratelimit_t *rl, int64_t now_ms)
{
    if (rl->started && now_ms - rl->window_ms < rl->period_ms)
        return;
    rl->started = true;
    rl->window_ms = now_ms;
    rl->reports = 0;
}

/* Takes one report of the current window, handing over the count held back. */
static bool s_report(nw_ratelimit_t *rl, uint64_t *held)
{
    if (rl->reports >= (rl->burst ? rl->burst : 1))
        return false;
    rl->reports++;
    *held = rl->held;
    rl->held = 0;
    return true;
}

bool nw_ratelimit_hit(nw_ratelimit_t *rl, int64_t now_ms, uint64_t *held)
{
    s_roll(rl, now_ms);
    if (s_report(rl, held))
        return true;
    rl->held++;
    return false;
}

bool nw_ratelimit_pending(nw_ratelimit_t *rl, int64_t now_ms, uint64_t *held)
{
    if (rl->held == 0 || (rl->started && now_ms - rl->window_ms < rl->period_ms))
        return false;
    s_roll(rl, now_ms);
    return s_report(rl, held);
}
