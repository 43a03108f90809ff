#include "nw_sequencer.h"

#include "nw_error.h"
#include "nw_stream_id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name;   /* topic name, owned */
    uint64_t seq; /* last sequence number handed out on this topic */
} s_topic_t;

struct nw_sequencer_t {
    char stream[NW_STREAM_ID_LEN + 1]; /* stream id, fixed for the sequencer's life */
    uint64_t seq;                      /* last global sequence number */
    s_topic_t *topics;                 /* per-topic counters, sorted by name */
    size_t n_topics;                   /* used entries of topics */
    size_t cap_topics;                 /* allocated entries of topics */
};

int nw_sequencer_new(const char *stream_id, nw_sequencer_t **out)
{
    if (!nw_stream_id_valid(stream_id, strlen(stream_id)))
        return NW_ERR_INVAL;
    nw_sequencer_t *seqr = calloc(1, sizeof *seqr);
    if (seqr == NULL)
        return NW_ERR_NOMEM;
    memcpy(seqr->stream, stream_id, NW_STREAM_ID_LEN + 1);
    *out = seqr;
    return NW_OK;
}

/* Binary search: returns the index of name, or where it would be inserted (*found false). */
static size_t s_find(const nw_sequencer_t *seqr, const char *name, bool *found)
{
    size_t lo = 0, hi = seqr->n_topics;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(seqr->topics[mid].name, name);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Makes sure topic has a counter (at 0 when new). Returns NW_OK or NW_ERR_NOMEM. */
static int s_ensure_topic(nw_sequencer_t *seqr, const char *name)
{
    bool found;
    size_t at = s_find(seqr, name, &found);
    if (found)
        return NW_OK;
    if (seqr->n_topics == seqr->cap_topics) {
        size_t cap = seqr->cap_topics ? seqr->cap_topics * 2 : 16;
        s_topic_t *grown = realloc(seqr->topics, cap * sizeof *grown);
        if (grown == NULL)
            return NW_ERR_NOMEM;
        seqr->topics = grown;
        seqr->cap_topics = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return NW_ERR_NOMEM;
    memmove(&seqr->topics[at + 1], &seqr->topics[at], (seqr->n_topics - at) * sizeof(s_topic_t));
    seqr->topics[at] = (s_topic_t){.name = copy, .seq = 0};
    seqr->n_topics++;
    return NW_OK;
}

static s_topic_t *s_topic(const nw_sequencer_t *seqr, const char *name)
{
    bool found;
    size_t at = s_find(seqr, name, &found);
    return found ? &seqr->topics[at] : NULL;
}

int nw_sequencer_number(nw_sequencer_t *seqr, nw_alert_t *alert)
{
    if (alert->n_topics == 0)
        return NW_ERR_INVAL;
    /* Create every counter first, so a failure leaves nothing half numbered (a counter
     * created at 0 and left unused changes nothing a subscriber can see). */
    for (size_t i = 0; i < alert->n_topics; i++) {
        int rc = s_ensure_topic(seqr, alert->topics[i].name);
        if (rc != NW_OK)
            return rc;
    }
    if (strcmp(alert->stream, seqr->stream) != 0) {
        int rc = nw_alert_set(&alert->stream, seqr->stream);
        if (rc != NW_OK)
            return rc;
    }
    alert->seq = ++seqr->seq;
    for (size_t i = 0; i < alert->n_topics; i++)
        alert->topics[i].seq = ++s_topic(seqr, alert->topics[i].name)->seq;
    return NW_OK;
}

int nw_sequencer_heartbeat(const nw_sequencer_t *seqr, int64_t now_ms, uint32_t interval_ms,
                           const char *replay, nw_heartbeat_t *hb)
{
    memset(hb, 0, sizeof *hb);
    hb->seq = seqr->seq;
    hb->time_ms = now_ms;
    hb->interval_ms = interval_ms;
    hb->stream = strdup(seqr->stream);
    hb->replay = strdup(replay);
    if (seqr->n_topics > 0)
        hb->topics = calloc(seqr->n_topics, sizeof *hb->topics);
    if (hb->stream == NULL || hb->replay == NULL || (seqr->n_topics > 0 && hb->topics == NULL))
        goto fail;
    for (size_t i = 0; i < seqr->n_topics; i++) {
        if ((hb->topics[i].name = strdup(seqr->topics[i].name)) == NULL)
            goto fail;
        hb->topics[i].seq = seqr->topics[i].seq;
        hb->n_topics++;
    }
    return NW_OK;
fail:
    nw_heartbeat_clear(hb);
    return NW_ERR_NOMEM;
}

const char *nw_sequencer_stream(const nw_sequencer_t *seqr)
{
    return seqr->stream;
}

uint64_t nw_sequencer_last(const nw_sequencer_t *seqr)
{
    return seqr->seq;
}

void nw_sequencer_destroy(nw_sequencer_t **seqr_p)
{
    if (seqr_p == NULL || *seqr_p == NULL)
        return;
    nw_sequencer_t *seqr = *seqr_p;
    for (size_t i = 0; i < seqr->n_topics; i++)
        free(seqr->topics[i].name);
    free(seqr->topics);
    free(seqr);
    *seqr_p = NULL;
}
