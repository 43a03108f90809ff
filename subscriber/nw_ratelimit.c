#include "nw_ratelimit.h"

bool nw_ratelimit_hit(nw_ratelimit_t *rl, int64_t now_ms, uint64_t *held)
{
    if (rl->reported && now_ms - rl->last_ms < rl->period_ms) {
        rl->held++;
        return false;
    }
    *held = rl->held;
    rl->held = 0;
    rl->last_ms = now_ms;
    rl->reported = true;
    return true;
}

bool nw_ratelimit_pending(nw_ratelimit_t *rl, int64_t now_ms, uint64_t *held)
{
    if (rl->held == 0 || now_ms - rl->last_ms < rl->period_ms)
        return false;
    *held = rl->held;
    rl->held = 0;
    rl->last_ms = now_ms;
    return true;
}
