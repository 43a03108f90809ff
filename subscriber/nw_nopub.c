/*
 * nw_nopub: notices that no publisher has been heard from. See nw_nopub.h.
 */
#include "nw_nopub.h"

void nw_nopub_init(nw_nopub_t *n, int64_t now_ms, int64_t after_ms)
{
    *n = (nw_nopub_t){.start_ms = now_ms, .after_ms = after_ms};
}

void nw_nopub_heard(nw_nopub_t *n)
{
    n->heard = true;
}

bool nw_nopub_due(nw_nopub_t *n, int64_t now_ms)
{
    if (n->heard || n->warned || now_ms - n->start_ms < n->after_ms)
        return false;
    n->warned = true;
    return true;
}
