#include "nw_sublog.h"

#include "nw_log.h"

#include <inttypes.h>
#include <stdio.h>

/* The detector's stream events: a new stream, and what it turned out to be. */
static void s_stream_event(const nw_gaps_event_t *ev)
{
    switch (ev->kind) {
    case NW_GAPS_STREAM_NEW: nw_log(NW_LOG_INFO, "stream %s: receiving", ev->stream); break;
    case NW_GAPS_STREAM_JOINED:
        nw_log(NW_LOG_INFO,
               "stream %s: another publisher joined (%s is still publishing); receiving %zu "
               "streams",
               ev->stream, ev->previous, ev->streams);
        break;
    case NW_GAPS_STREAM_REPLACED:
        nw_log(NW_LOG_WARN,
               "stream %s: new publisher stream, replacing %s (silent since): the publisher "
               "restarted on a new journal",
               ev->stream, ev->previous);
        break;
    default: break;
    }
}

void nw_sublog_gap(const nw_gaps_event_t *ev, bool repairing)
{
    unsigned long long first = ev->first, last = ev->last;
    char n[128];
    nw_gaps_count_text(ev->first, ev->last, n, sizeof n);
    const char *then = repairing ? "; repairing from the journal" : "";
    switch (ev->kind) {
    case NW_GAPS_MISSED:
        nw_log(NW_LOG_WARN, "gap: stream %s topic %s: missed seq %llu-%llu (%s)%s", ev->stream,
               ev->topic, first, last, n, then);
        break;
    case NW_GAPS_TAIL:
        nw_log(NW_LOG_WARN,
               "gap: stream %s topic %s: heartbeat shows seq %llu-%llu sent but not received "
               "(%s)%s",
               ev->stream, ev->topic, first, last, n, then);
        break;
    case NW_GAPS_LATE:
        nw_log(NW_LOG_INFO, "stream %s topic %s: seq %llu arrived late", ev->stream, ev->topic,
               first);
        break;
    case NW_GAPS_SILENT:
        nw_log(NW_LOG_WARN, "stream %s: publisher silent, no heartbeat for %.1f s", ev->stream,
               (double)ev->silent_ms / 1000.0);
        break;
    case NW_GAPS_ALIVE:
        nw_log(NW_LOG_INFO, "stream %s: heartbeats again after %.1f s", ev->stream,
               (double)ev->silent_ms / 1000.0);
        break;
    default: s_stream_event(ev); break;
    }
}

static void s_replaying(const nw_catchup_event_t *ev, const char *ep)
{
    unsigned long long first = ev->first, last = ev->last;
    if (first > 0 && last > 0)
        nw_log(NW_LOG_INFO, "replay: stream %s seq %llu-%llu (%s)", ev->stream, first, last, ep);
    else if (first > 0)
        nw_log(NW_LOG_INFO, "replay: stream %s from seq %llu (%s)", ev->stream, first, ep);
    else
        nw_log(NW_LOG_INFO, "replay: stream %s, look-back (%s)", ev->stream, ep);
}

void nw_sublog_catchup(const nw_catchup_event_t *ev, const char *endpoint, bool beginning)
{
    unsigned long long first = ev->first, last = ev->last;
    switch (ev->kind) {
    case NW_CATCHUP_EV_NEW_STREAM:
        if (beginning || first == 0)
            nw_log(NW_LOG_INFO, "stream %s: new to the state, head seq %llu; starting %s",
                   ev->stream, first, beginning ? "from its beginning" : "now");
        else
            nw_log(NW_LOG_INFO,
                   "stream %s: new to the state, head seq %llu; starting now: its %llu alerts so "
                   "far are not shown (--on-new-stream beginning replays them)",
                   ev->stream, first, first);
        break;
    case NW_CATCHUP_EV_REPLAYING: s_replaying(ev, endpoint); break;
    case NW_CATCHUP_EV_LIVE:
        nw_log(NW_LOG_INFO, "caught up: stream %s seq %llu; live", ev->stream, first);
        break;
    case NW_CATCHUP_EV_REPAIRED:
        nw_log(NW_LOG_INFO, "repaired: stream %s seq %llu; live", ev->stream, first);
        break;
    case NW_CATCHUP_EV_LOST:
        nw_log(NW_LOG_WARN,
               "lost: stream %s seq %llu-%llu left the publisher's journal before they could be "
               "replayed",
               ev->stream, first, last);
        break;
    case NW_CATCHUP_EV_BEHIND:
        nw_log(NW_LOG_WARN,
               "stream %s: the publisher's head seq %llu is below ours (%llu): its journal lost "
               "its tail",
               ev->stream, first, last);
        break;
    case NW_CATCHUP_EV_FAILED:
        nw_log(NW_LOG_WARN, "replay failed: stream %s: %s; retrying at the next heartbeat",
               ev->stream, ev->why ? ev->why : "?");
        break;
    case NW_CATCHUP_EV_OVERFLOW:
        nw_log(NW_LOG_WARN,
               "stream %s: %llu live alerts queued during a replay; dropping them, the replay "
               "fetches them",
               ev->stream, first);
        break;
    }
}

void nw_sublog_silence(int after_ms, const char *endpoint, size_t n_endpoints,
                       const nw_curve_client_t *curve)
{
    char keys[512] = "";
    if (curve != NULL) {
        char hint[480];
        nw_curve_client_hint(curve, hint, sizeof hint);
        snprintf(keys, sizeof keys, "; and %s", hint);
    }
    nw_log(NW_LOG_WARN,
           "no publisher heard from in %d s on %s%s: check that the host resolves, the port is "
           "open and newswire-pub runs there%s",
           after_ms / 1000, endpoint, n_endpoints > 1 ? " and the others" : "", keys);
}

void nw_sublog_summary(const char *program, const nw_deliver_counts_t *c, uint64_t gaps,
                       uint64_t missed, bool with_replays, uint64_t replays,
                       const nw_exec_stats_t *exec)
{
    char rp[96] = "", ex[160] = "";
    if (with_replays)
        snprintf(rp, sizeof rp, ", replays %" PRIu64, replays);
    if (exec != NULL)
        snprintf(ex, sizeof ex,
                 ", exec started %" PRIu64 " failed %" PRIu64 " dropped %" PRIu64
                 " timed out %" PRIu64,
                 exec->started, exec->failed, exec->dropped, exec->timed_out);
    fprintf(stderr,
            "%s: received %" PRIu64 ", printed %" PRIu64 ", filtered %" PRIu64
            ", duplicates %" PRIu64 ", gaps %" PRIu64 " (%" PRIu64 " alerts missed)"
            ", bad frames %" PRIu64 "%s%s\n",
            program, c->received, c->delivered, c->filtered, c->duplicates, gaps, missed, c->bad,
            rp, ex);
}
