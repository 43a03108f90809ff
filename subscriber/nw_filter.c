#include "nw_filter.h"

#include "nw_kinds.h"

#include "nw_error.h"
#include "nw_topic.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Hash slots: twice the remembered entries keeps linear probes short. */
#define S_SLOTS (NW_FILTER_RECENT * 2)

typedef struct {
    char **names; /* topic filters, owned */
    size_t count; /* used entries of names */
} s_list_t;

struct nw_filter_t {
    s_list_t includes;                 /* -t: frame topic must match one (none = all) */
    s_list_t excludes;                 /* -T: no alert topic may match one */
    nw_priority_t min_priority;        /* lowest priority that passes */
    unsigned kinds;                    /* nw_kinds mask of kinds that pass, 0 = all */
    bool no_updates;                   /* drop alerts of revision 2 or more (--updates none) */
    uint64_t recent[NW_FILTER_RECENT]; /* keys of passed alerts, a ring, oldest at next */
    size_t next;                       /* ring position overwritten next */
    size_t used;                       /* ring entries in use */
    uint32_t slots[S_SLOTS];           /* hash of recent: ring index + 1, 0 = empty */
};

int nw_filter_new(nw_filter_t **out)
{
    nw_filter_t *filter = calloc(1, sizeof *filter);
    if (filter == NULL)
        return NW_ERR_NOMEM;
    filter->min_priority = NW_PRIORITY_LOW;
    *out = filter;
    return NW_OK;
}

static void s_list_free(s_list_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->names[i]);
    free(list->names);
    list->names = NULL;
    list->count = 0;
}

void nw_filter_destroy(nw_filter_t **filter_p)
{
    if (filter_p == NULL || *filter_p == NULL)
        return;
    s_list_free(&(*filter_p)->includes);
    s_list_free(&(*filter_p)->excludes);
    free(*filter_p);
    *filter_p = NULL;
}

static int s_list_add(s_list_t *list, const char *topic)
{
    if (!nw_topic_valid(topic, strlen(topic)))
        return NW_ERR_TOPIC;
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->names[i], topic) == 0)
            return NW_OK;
    }
    char **names = realloc(list->names, (list->count + 1) * sizeof *names);
    if (names == NULL)
        return NW_ERR_NOMEM;
    list->names = names;
    if ((names[list->count] = strdup(topic)) == NULL)
        return NW_ERR_NOMEM;
    list->count++;
    return NW_OK;
}

int nw_filter_include(nw_filter_t *filter, const char *topic)
{
    return s_list_add(&filter->includes, topic);
}

int nw_filter_exclude(nw_filter_t *filter, const char *topic)
{
    return s_list_add(&filter->excludes, topic);
}

void nw_filter_set_min_priority(nw_filter_t *filter, nw_priority_t priority)
{
    filter->min_priority = priority;
}

void nw_filter_set_kinds(nw_filter_t *filter, unsigned kinds)
{
    filter->kinds = kinds;
}

void nw_filter_set_updates(nw_filter_t *filter, bool updates)
{
    filter->no_updates = !updates;
}

size_t nw_filter_includes(const nw_filter_t *filter, const char *const **topics)
{
    *topics = (const char *const *)filter->includes.names;
    return filter->includes.count;
}

bool nw_filter_subscribed(const nw_filter_t *filter, const char *topic)
{
    if (filter->includes.count == 0)
        return true;
    for (size_t i = 0; i < filter->includes.count; i++) {
        if (nw_topic_matches(filter->includes.names[i], topic))
            return true;
    }
    return false;
}

static bool s_excluded(const nw_filter_t *filter, const nw_alert_t *alert)
{
    for (size_t i = 0; i < filter->excludes.count; i++) {
        for (size_t k = 0; k < alert->n_topics; k++) {
            if (nw_topic_matches(filter->excludes.names[i], alert->topics[k].name))
                return true;
        }
    }
    return false;
}

/* FNV-1a over bytes, continuing from h. */
static uint64_t s_fnv(uint64_t h, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The identity of an alert across its topic copies: (stream, global seq), or its id when
 * it carries no sequence. A 64-bit hash: a false match needs ~2^32 alerts in the window. */
static uint64_t s_alert_key(const nw_alert_t *alert)
{
    uint64_t h = 0xcbf29ce484222325ull;
    if (alert->seq != 0) {
        h = s_fnv(h, "s", 1);
        h = s_fnv(h, alert->stream, strlen(alert->stream) + 1);
        h = s_fnv(h, &alert->seq, sizeof alert->seq);
    } else {
        h = s_fnv(h, "i", 1);
        h = s_fnv(h, alert->id, strlen(alert->id));
    }
    return h ? h : 1;
}

/* Returns the slot holding key, or the empty slot where it would go. */
static size_t s_find(const nw_filter_t *filter, uint64_t key)
{
    size_t i = (size_t)(key % S_SLOTS);
    while (filter->slots[i] != 0 && filter->recent[filter->slots[i] - 1] != key)
        i = (i + 1) % S_SLOTS;
    return i;
}

/* Removes the slot pointing at ring entry ring_index, shifting later probes back so that
 * lookups still find them (deletion in a linear-probing table without tombstones). */
static void s_unlink(nw_filter_t *filter, size_t ring_index)
{
    size_t i = s_find(filter, filter->recent[ring_index]);
    if (filter->slots[i] == 0)
        return;
    filter->slots[i] = 0;
    for (size_t j = (i + 1) % S_SLOTS; filter->slots[j] != 0; j = (j + 1) % S_SLOTS) {
        size_t home = (size_t)(filter->recent[filter->slots[j] - 1] % S_SLOTS);
        /* Move j back to i when its home does not lie cyclically in (i, j]. */
        bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            filter->slots[i] = filter->slots[j];
            filter->slots[j] = 0;
            i = j;
        }
    }
}

/* Returns true when key was already remembered; otherwise remembers it. */
static bool s_seen(nw_filter_t *filter, uint64_t key)
{
    size_t slot = s_find(filter, key);
    if (filter->slots[slot] != 0)
        return true;
    size_t ring = filter->next;
    if (filter->used == NW_FILTER_RECENT) {
        s_unlink(filter, ring); /* forget the oldest */
        slot = s_find(filter, key);
    } else {
        filter->used++;
    }
    filter->recent[ring] = key;
    filter->slots[slot] = (uint32_t)ring + 1;
    filter->next = (ring + 1) % NW_FILTER_RECENT;
    return false;
}

nw_filter_verdict_t nw_filter_check(nw_filter_t *filter, const nw_alert_t *alert, const char *topic)
{
    if (!nw_filter_subscribed(filter, topic))
        return NW_FILTER_NO_MATCH;
    if (s_excluded(filter, alert))
        return NW_FILTER_EXCLUDED;
    if (alert->priority < filter->min_priority)
        return NW_FILTER_PRIORITY;
    if (!nw_kinds_match(filter->kinds, alert->kind))
        return NW_FILTER_KIND;
    if (filter->no_updates && alert->revision > 1)
        return NW_FILTER_UPDATE;
    if (s_seen(filter, s_alert_key(alert)))
        return NW_FILTER_DUPLICATE;
    return NW_FILTER_PASS;
}
