/*
 * nw_ref_decode: the alert decoder newswire used before proto/nw_decode (msgpack-c unpacks
 * the frame into an object tree, then the fields are read from it), kept only as the
 * reference of the differential tests (tests/fuzz/fuzz_decoder_diff.c, test_decode.c).
 * Not part of the product.
 */
#include "nw_ref_decode.h"

#include "nw_codec.h"
#include "nw_error.h"
#include "nw_msgpack_util.h"
#include "nw_topic.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_TYPE_ALERT "alert"

/* Wire keys of an alert, in the order the encoder writes them (PROTOCOL.md, "Alert"). */
enum {
    S_A_V,
    S_A_TYPE,
    S_A_ID,
    S_A_ARTICLE,
    S_A_INDEX,
    S_A_KIND,
    S_A_PRIORITY,
    S_A_PUBLISHED,
    S_A_STREAM,
    S_A_SEQ,
    S_A_TOPICS,
    S_A_TSEQ,
    S_A_TITLE,
    S_A_SECTION,
    S_A_SOURCE,
    S_A_AUTHOR,
    S_A_PLACE,
    S_A_TEXT,
    S_A_COUNT
};
static const char *const s_alert_keys[S_A_COUNT] = {
    "v",   "type",   "id",   "article", "index",   "kind",   "priority", "published", "stream",
    "seq", "topics", "tseq", "title",   "section", "source", "author",   "place",     "text",
};

/* Sets *out (NULL on entry: nothing is freed) to a new NUL-terminated copy of the str
 * o (at most max bytes of UTF-8 without U+0000). An absent o is NW_ERR_WIRE_MISSING
 * when required, else gives "". *out is set only on NW_OK. */
static int s_get_str(const msgpack_object *o, size_t max, bool required, char **out)
{
    const char *src = "";
    size_t n = 0;
    if (o == NULL && required)
        return NW_ERR_WIRE_MISSING;
    if (o != NULL) {
        int rv = nw_msgpack_check_str(o, max);
        if (rv != NW_OK)
            return rv;
        src = o->via.str.ptr;
        n = o->via.str.size;
    }
    char *copy = malloc(n + 1);
    if (copy == NULL)
        return NW_ERR_NOMEM;
    if (n > 0)
        memcpy(copy, src, n);
    copy[n] = '\0';
    *out = copy;
    return NW_OK;
}

static int s_get_kind(const msgpack_object *o, nw_alert_kind_t *kind)
{
    const char *names[NW_KIND_PARAGRAPH + 1];
    size_t k;
    for (k = 0; k <= NW_KIND_PARAGRAPH; k++)
        names[k] = nw_alert_kind_name((nw_alert_kind_t)k);
    int rv = nw_msgpack_get_enum(o, names, NW_KIND_PARAGRAPH + 1, &k);
    if (rv == NW_OK)
        *kind = (nw_alert_kind_t)k;
    return rv;
}

/* Copies the str o, which must be a valid topic name, into *name (caller frees). */
static int s_get_topic(const msgpack_object *o, char **name)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return NW_ERR_WIRE_TYPE;
    if (!nw_topic_valid(o->via.str.ptr, o->via.str.size))
        return NW_ERR_WIRE_RANGE;
    *name = NULL;
    return s_get_str(o, NW_TOPIC_MAX, true, name);
}

/* Fills alert's topics from the "topics" array, then their numbers from the "tseq"
 * map, which must name exactly the same topics. */
static int s_get_alert_topics(const msgpack_object *arr, const msgpack_object *tseq,
                              nw_alert_t *alert)
{
    int rv;
    if (arr == NULL || tseq == NULL)
        return NW_ERR_WIRE_MISSING;
    if (arr->type != MSGPACK_OBJECT_ARRAY || tseq->type != MSGPACK_OBJECT_MAP)
        return NW_ERR_WIRE_TYPE;
    uint32_t n = arr->via.array.size;
    if (n == 0)
        return NW_ERR_WIRE_RANGE;
    if (n > NW_ALERT_TOPICS_MAX)
        return NW_ERR_WIRE_OVERSIZE;
    for (uint32_t i = 0; i < n; i++) {
        char *name;
        if ((rv = s_get_topic(&arr->via.array.ptr[i], &name)) != NW_OK)
            return rv;
        if (nw_alert_find_topic(alert, name) >= 0) {
            free(name);
            return NW_ERR_WIRE_RANGE;
        }
        alert->topics[alert->n_topics].name = name;
        alert->topics[alert->n_topics].seq = 0;
        alert->n_topics++;
    }
    if (tseq->via.map.size != n)
        return NW_ERR_WIRE_RANGE;
    bool seen[NW_ALERT_TOPICS_MAX] = {false};
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object_kv *kv = &tseq->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            return NW_ERR_WIRE_TYPE;
        size_t j = 0;
        while (j < n && !nw_msgpack_str_is(&kv->key, alert->topics[j].name))
            j++;
        if (j == n || seen[j])
            return NW_ERR_WIRE_RANGE;
        if ((rv = nw_msgpack_get_uint(&kv->val, UINT64_MAX, &alert->topics[j].seq)) != NW_OK)
            return rv;
        seen[j] = true;
    }
    return NW_OK;
}

/* Reads every known field of an alert, in a fixed order so that a frame with several
 * faults always gives the same error: version and type first. */
static int s_get_alert(const msgpack_object **f, nw_alert_t *a)
{
    uint64_t u = 0;
    int rv;
    if ((rv = nw_msgpack_get_version(f[S_A_V])) != NW_OK ||
        (rv = nw_msgpack_get_type(f[S_A_TYPE], S_TYPE_ALERT)) != NW_OK ||
        (rv = s_get_str(f[S_A_ID], NW_ALERT_FIELD_MAX, true, &a->id)) != NW_OK)
        return rv;
    if (a->id[0] == '\0')
        return NW_ERR_WIRE_RANGE;
    if ((rv = s_get_str(f[S_A_ARTICLE], NW_ALERT_FIELD_MAX, true, &a->article_id)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_A_INDEX], UINT32_MAX, &u)) != NW_OK)
        return rv;
    a->index = (uint32_t)u;
    if ((rv = s_get_kind(f[S_A_KIND], &a->kind)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_A_PRIORITY], NW_PRIORITY_URGENT, &u)) != NW_OK)
        return rv;
    a->priority = (nw_priority_t)u;
    if ((rv = nw_msgpack_get_int(f[S_A_PUBLISHED], &a->published_ms)) != NW_OK ||
        (rv = s_get_str(f[S_A_STREAM], NW_ALERT_FIELD_MAX, true, &a->stream)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_A_SEQ], UINT64_MAX, &a->seq)) != NW_OK ||
        (rv = s_get_alert_topics(f[S_A_TOPICS], f[S_A_TSEQ], a)) != NW_OK ||
        (rv = s_get_str(f[S_A_TITLE], NW_ALERT_FIELD_MAX, false, &a->title)) != NW_OK ||
        (rv = s_get_str(f[S_A_SECTION], NW_ALERT_FIELD_MAX, false, &a->section)) != NW_OK ||
        (rv = s_get_str(f[S_A_SOURCE], NW_ALERT_FIELD_MAX, false, &a->source)) != NW_OK ||
        (rv = s_get_str(f[S_A_AUTHOR], NW_ALERT_FIELD_MAX, false, &a->author)) != NW_OK ||
        (rv = s_get_str(f[S_A_PLACE], NW_ALERT_FIELD_MAX, false, &a->place)) != NW_OK ||
        (rv = s_get_str(f[S_A_TEXT], NW_ALERT_TEXT_MAX, true, &a->text)) != NW_OK)
        return rv;
    return NW_OK;
}

int nw_ref_alert_decode(const void *data, size_t size, nw_alert_t *alert)
{
    const msgpack_object *found[S_A_COUNT];
    msgpack_unpacked msg;
    int rv;

    /* nw_alert_init's state without its 9 strdup(""): s_get_alert sets every string
     * on success, and nw_alert_clear frees NULLs on failure. */
    memset(alert, 0, sizeof *alert);
    alert->kind = NW_KIND_HEADLINE;
    alert->priority = NW_PRIORITY_NORMAL;
    msgpack_unpacked_init(&msg);
    if ((rv = nw_msgpack_open(data, size, NW_FRAME_MAX, NW_WIRE_DEPTH_MAX, &msg, s_alert_keys,
                              S_A_COUNT, found)) != NW_OK)
        goto cleanup;
    rv = s_get_alert(found, alert);
cleanup:
    if (rv != NW_OK)
        nw_alert_clear(alert);
    msgpack_unpacked_destroy(&msg);
    return rv;
}
