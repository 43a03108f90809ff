#include "nw_deliver.h"

#include "nw_buf.h"
#include "nw_error.h"
#include "nw_json.h"
#include "nw_log.h"

#include <stdlib.h>

struct nw_deliver_t {
    nw_filter_t *filter;                   /* excludes, priority, another topic's copy */
    nw_sink_t sinks[NW_DELIVER_SINKS_MAX]; /* where delivered alerts go */
    size_t n_sinks;                        /* used entries of sinks */
    bool json_wanted;                      /* a sink wants the JSON */
    nw_buf_t json;                         /* scratch: the alert's JSON, once per alert */
    nw_deliver_counts_t counts;            /* counters */
};

int nw_deliver_new(nw_filter_t *filter, nw_deliver_t **out)
{
    nw_deliver_t *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NW_ERR_NOMEM;
    d->filter = filter;
    *out = d;
    return NW_OK;
}

int nw_deliver_add_sink(nw_deliver_t *d, const nw_sink_t *sink)
{
    if (d->n_sinks == NW_DELIVER_SINKS_MAX)
        return NW_ERR_TOOBIG;
    d->sinks[d->n_sinks++] = *sink;
    d->json_wanted = d->json_wanted || sink->wants_json;
    return NW_OK;
}

bool nw_deliver_alert(nw_deliver_t *d, const nw_alert_t *alert, const char *topic)
{
    nw_filter_verdict_t verdict = nw_filter_check(d->filter, alert, topic);
    if (verdict == NW_FILTER_DUPLICATE) {
        d->counts.duplicates++;
        return false;
    }
    if (verdict != NW_FILTER_PASS) {
        d->counts.filtered++;
        return false;
    }
    d->counts.delivered++;
    nw_delivery_t dv = {.alert = alert, .topic = topic};
    if (d->json_wanted) {
        nw_buf_reset(&d->json);
        if (nw_json_alert(&d->json, alert, topic) == NW_OK) {
            dv.json = d->json.data;
            dv.json_len = d->json.len;
        } else {
            nw_log(NW_LOG_ERROR, "out of memory rendering alert %s as JSON", alert->id);
        }
    }
    for (size_t i = 0; i < d->n_sinks; i++) {
        if (dv.json != NULL || !d->sinks[i].wants_json)
            d->sinks[i].write(&dv, d->sinks[i].self);
    }
    return true;
}

nw_deliver_counts_t *nw_deliver_counts(nw_deliver_t *d)
{
    return &d->counts;
}

void nw_deliver_destroy(nw_deliver_t **d_p)
{
    if (d_p == NULL || *d_p == NULL)
        return;
    nw_buf_free(&(*d_p)->json);
    free(*d_p);
    *d_p = NULL;
}
