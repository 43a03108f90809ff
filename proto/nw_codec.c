#include "nw_codec.h"

#include "nw_decode.h"
#include "nw_error.h"
#include "nw_topic.h"
#include "nw_utf8.h"
#include "nw_msgpack_util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    S_A_URL,
    S_A_ARTICLE_TIME,
    S_A_REVISION,
    S_A_COUNT
};
/* Keys from S_A_URL on are optional and written only when they hold something (a link, a
 * known time, a revision past 1), so an alert without them encodes as before they existed. */
#define S_A_ALWAYS S_A_URL
static const char *const s_alert_keys[S_A_COUNT] = {
    "v",         "type",   "id",    "article", "index", "kind",         "priority",
    "published", "stream", "seq",   "topics",  "tseq",  "title",        "section",
    "source",    "author", "place", "text",    "url",   "article_time", "revision",
};

/* Wire keys of a heartbeat, in the order the encoder writes them. */
enum {
    S_H_V,
    S_H_TYPE,
    S_H_STREAM,
    S_H_SEQ,
    S_H_TIME,
    S_H_INTERVAL,
    S_H_REPLAY,
    S_H_TSEQ,
    S_H_COUNT
};
static const char *const s_heartbeat_keys[S_H_COUNT] = {
    "v", "type", "stream", "seq", "time", "interval", "replay", "tseq",
};

#define S_TYPE_ALERT     "alert"
#define S_TYPE_HEARTBEAT "heartbeat"

/* ---------------------------------------------------------------- encoding */

/* Checks that s can go on the wire as a string of at most max bytes, and sets *len to
 * its length so that packing need not measure it again. */
static int s_check_str(const char *s, size_t max, size_t *len)
{
    if (s == NULL)
        return NW_ERR_INVAL;
    size_t n = strlen(s);
    if (n > max)
        return NW_ERR_WIRE_OVERSIZE;
    *len = n;
    return nw_utf8_valid(s, n) ? NW_OK : NW_ERR_INVAL;
}

/* The alert's strings in the order s_check_alert checks them (that order picks the
 * error of an alert with several faults), as indices into s_alert_enc_t.len. */
enum {
    S_L_ID,
    S_L_ARTICLE,
    S_L_TITLE,
    S_L_SOURCE,
    S_L_AUTHOR,
    S_L_PLACE,
    S_L_SECTION,
    S_L_STREAM,
    S_L_TEXT,
    S_L_URL,
    S_L_COUNT
};

/* An alert on its way to the packer, with the lengths s_check_alert measured. */
typedef struct {
    const nw_alert_t *a;
    size_t len[S_L_COUNT];
} s_alert_enc_t;

/* Checks n topic names: each valid, none twice. */
static int s_check_topics(const nw_alert_topic_t *topics, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = topics[i].name;
        if (name == NULL || !nw_topic_valid(name, strlen(name)))
            return NW_ERR_INVAL;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(topics[j].name, name) == 0)
                return NW_ERR_INVAL;
        }
    }
    return NW_OK;
}

/* Checks that the alert can be sent, filling e->len with its strings' lengths. */
static int s_check_alert(const nw_alert_t *a, s_alert_enc_t *e)
{
    const char *fields[S_L_COUNT] = {a->id,    a->article_id, a->title,  a->source, a->author,
                                     a->place, a->section,    a->stream, a->text,   a->url};
    int rv;
    e->a = a;
    for (size_t i = 0; i < S_L_COUNT; i++) {
        size_t max = i == S_L_TEXT ? NW_ALERT_TEXT_MAX : NW_ALERT_FIELD_MAX;
        if ((rv = s_check_str(fields[i], max, &e->len[i])) != NW_OK)
            return rv;
    }
    if (a->id[0] == '\0')
        return NW_ERR_INVAL; /* subscribers deduplicate by id */
    if ((unsigned)a->kind > NW_KIND_PARAGRAPH || (unsigned)a->priority > NW_PRIORITY_URGENT)
        return NW_ERR_INVAL;
    if (a->n_topics == 0)
        return NW_ERR_INVAL;
    if (a->n_topics > NW_ALERT_TOPICS_MAX)
        return NW_ERR_WIRE_OVERSIZE;
    return s_check_topics(a->topics, a->n_topics);
}

/* Packs key, then a map of topic name -> sequence number. */
static int s_pack_kv_tseq(msgpack_packer *pk, const char *key, const nw_alert_topic_t *topics,
                          size_t n)
{
    int e = nw_msgpack_pack_str(pk, key) | msgpack_pack_map(pk, n);
    for (size_t i = 0; i < n; i++)
        e |= nw_msgpack_pack_kv_uint(pk, topics[i].name, topics[i].seq);
    return e;
}

/* Packs key, then the n bytes of val as a str. */
static int s_pack_kv_strn(msgpack_packer *pk, const char *key, const char *val, size_t n)
{
    return nw_msgpack_pack_str(pk, key) | msgpack_pack_str_with_body(pk, val, n);
}

/* An nw_msgpack_pack_fn for an s_alert_enc_t (an alert checked by s_check_alert). */
static int s_pack_alert(msgpack_packer *pk, const void *obj)
{
    const s_alert_enc_t *enc = obj;
    const nw_alert_t *a = enc->a;
    const size_t *len = enc->len;
    const char *const *k = s_alert_keys;
    bool has_url = len[S_L_URL] > 0, has_time = a->article_time_ms != 0;
    bool has_revision = a->revision > 1;
    int e = msgpack_pack_map(pk, S_A_ALWAYS + has_url + has_time + has_revision);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_A_V], NW_PROTO_VERSION);
    e |= nw_msgpack_pack_kv_str(pk, k[S_A_TYPE], S_TYPE_ALERT);
    e |= s_pack_kv_strn(pk, k[S_A_ID], a->id, len[S_L_ID]);
    e |= s_pack_kv_strn(pk, k[S_A_ARTICLE], a->article_id, len[S_L_ARTICLE]);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_A_INDEX], a->index);
    e |= nw_msgpack_pack_kv_str(pk, k[S_A_KIND], nw_alert_kind_name(a->kind));
    e |= nw_msgpack_pack_kv_uint(pk, k[S_A_PRIORITY], (uint64_t)a->priority);
    e |= nw_msgpack_pack_kv_int(pk, k[S_A_PUBLISHED], a->published_ms);
    e |= s_pack_kv_strn(pk, k[S_A_STREAM], a->stream, len[S_L_STREAM]);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_A_SEQ], a->seq);
    e |= nw_msgpack_pack_str(pk, k[S_A_TOPICS]) | msgpack_pack_array(pk, a->n_topics);
    for (size_t i = 0; i < a->n_topics; i++)
        e |= nw_msgpack_pack_str(pk, a->topics[i].name);
    e |= s_pack_kv_tseq(pk, k[S_A_TSEQ], a->topics, a->n_topics);
    e |= s_pack_kv_strn(pk, k[S_A_TITLE], a->title, len[S_L_TITLE]);
    e |= s_pack_kv_strn(pk, k[S_A_SECTION], a->section, len[S_L_SECTION]);
    e |= s_pack_kv_strn(pk, k[S_A_SOURCE], a->source, len[S_L_SOURCE]);
    e |= s_pack_kv_strn(pk, k[S_A_AUTHOR], a->author, len[S_L_AUTHOR]);
    e |= s_pack_kv_strn(pk, k[S_A_PLACE], a->place, len[S_L_PLACE]);
    e |= s_pack_kv_strn(pk, k[S_A_TEXT], a->text, len[S_L_TEXT]);
    if (has_url)
        e |= s_pack_kv_strn(pk, k[S_A_URL], a->url, len[S_L_URL]);
    if (has_time)
        e |= nw_msgpack_pack_kv_int(pk, k[S_A_ARTICLE_TIME], a->article_time_ms);
    if (has_revision)
        e |= nw_msgpack_pack_kv_uint(pk, k[S_A_REVISION], a->revision);
    return e;
}

/* An nw_msgpack_pack_fn for an nw_heartbeat_t. */
static int s_pack_heartbeat(msgpack_packer *pk, const void *obj)
{
    const nw_heartbeat_t *hb = obj;
    const char *const *k = s_heartbeat_keys;
    int e = msgpack_pack_map(pk, S_H_COUNT);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_H_V], NW_PROTO_VERSION);
    e |= nw_msgpack_pack_kv_str(pk, k[S_H_TYPE], S_TYPE_HEARTBEAT);
    e |= nw_msgpack_pack_kv_str(pk, k[S_H_STREAM], hb->stream);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_H_SEQ], hb->seq);
    e |= nw_msgpack_pack_kv_int(pk, k[S_H_TIME], hb->time_ms);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_H_INTERVAL], hb->interval_ms);
    e |= nw_msgpack_pack_kv_str(pk, k[S_H_REPLAY], hb->replay);
    e |= s_pack_kv_tseq(pk, k[S_H_TSEQ], hb->topics, hb->n_topics);
    return e;
}

/* About the bytes s_pack_alert makes of enc: its strings, plus room for the keys, headers,
 * numbers and topics (a frame that needs more grows its buffer). */
static size_t s_alert_size_hint(const s_alert_enc_t *enc)
{
    size_t n = 320 + 48 * enc->a->n_topics;
    for (size_t i = 0; i < S_L_COUNT; i++)
        n += enc->len[i] + 5;
    return n;
}

int nw_alert_encode(const nw_alert_t *alert, char **data, size_t *size)
{
    s_alert_enc_t enc;
    int rv;
    if ((rv = s_check_alert(alert, &enc)) != NW_OK)
        return rv;
    return nw_msgpack_encode_sized(s_pack_alert, &enc, NW_FRAME_MAX, s_alert_size_hint(&enc), data,
                                   size);
}

int nw_alert_encoded_size(const nw_alert_t *alert, size_t *size)
{
    s_alert_enc_t enc;
    int rv;
    if ((rv = s_check_alert(alert, &enc)) != NW_OK)
        return rv;
    return nw_msgpack_measure(s_pack_alert, &enc, NW_FRAME_MAX, size);
}

int nw_heartbeat_encode(const nw_heartbeat_t *hb, char **data, size_t *size)
{
    size_t len;
    int rv;
    if ((rv = s_check_str(hb->stream, NW_ALERT_FIELD_MAX, &len)) != NW_OK ||
        (rv = s_check_str(hb->replay, NW_ALERT_FIELD_MAX, &len)) != NW_OK)
        return rv;
    if (hb->n_topics > NW_HEARTBEAT_TOPICS_MAX)
        return NW_ERR_WIRE_OVERSIZE;
    if (hb->n_topics > 0 && hb->topics == NULL)
        return NW_ERR_INVAL;
    if ((rv = s_check_topics(hb->topics, hb->n_topics)) != NW_OK)
        return rv;
    return nw_msgpack_encode(s_pack_heartbeat, hb, NW_FRAME_MAX, data, size);
}

/* ---------------------------------------------------------------- decoding */

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

int nw_alert_decode(const void *data, size_t size, nw_alert_t *alert)
{
    return nw_decode_alert(data, size, NW_FRAME_MAX, NW_WIRE_DEPTH_MAX, alert);
}

/* Fills hb's topics from the heartbeat's "tseq" map: valid names, none twice. */
static int s_get_heartbeat_topics(const msgpack_object *o, nw_heartbeat_t *hb)
{
    int rv;
    if (o == NULL)
        return NW_ERR_WIRE_MISSING;
    if (o->type != MSGPACK_OBJECT_MAP)
        return NW_ERR_WIRE_TYPE;
    uint32_t n = o->via.map.size;
    if (n > NW_HEARTBEAT_TOPICS_MAX)
        return NW_ERR_WIRE_OVERSIZE;
    if (n == 0)
        return NW_OK;
    if ((hb->topics = calloc(n, sizeof hb->topics[0])) == NULL)
        return NW_ERR_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        nw_alert_topic_t *t = &hb->topics[i];
        if ((rv = s_get_topic(&kv->key, &t->name)) != NW_OK)
            return rv;
        hb->n_topics++; /* now owned by hb, freed by nw_heartbeat_clear() */
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(hb->topics[j].name, t->name) == 0)
                return NW_ERR_WIRE_RANGE;
        }
        if ((rv = nw_msgpack_get_uint(&kv->val, UINT64_MAX, &t->seq)) != NW_OK)
            return rv;
    }
    return NW_OK;
}

static int s_get_heartbeat(const msgpack_object **f, nw_heartbeat_t *hb)
{
    uint64_t u = 0;
    int rv;
    if ((rv = nw_msgpack_get_version(f[S_H_V])) != NW_OK ||
        (rv = nw_msgpack_get_type(f[S_H_TYPE], S_TYPE_HEARTBEAT)) != NW_OK ||
        (rv = s_get_str(f[S_H_STREAM], NW_ALERT_FIELD_MAX, true, &hb->stream)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_H_SEQ], UINT64_MAX, &hb->seq)) != NW_OK ||
        (rv = nw_msgpack_get_int(f[S_H_TIME], &hb->time_ms)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_H_INTERVAL], UINT32_MAX, &u)) != NW_OK)
        return rv;
    hb->interval_ms = (uint32_t)u;
    if ((rv = s_get_str(f[S_H_REPLAY], NW_ALERT_FIELD_MAX, false, &hb->replay)) != NW_OK)
        return rv;
    return s_get_heartbeat_topics(f[S_H_TSEQ], hb);
}

int nw_heartbeat_decode(const void *data, size_t size, nw_heartbeat_t *hb)
{
    const msgpack_object *found[S_H_COUNT];
    msgpack_unpacked msg;
    int rv;

    memset(hb, 0, sizeof *hb);
    msgpack_unpacked_init(&msg);
    if ((rv = nw_msgpack_open(data, size, NW_FRAME_MAX, NW_WIRE_DEPTH_MAX, &msg, s_heartbeat_keys,
                              S_H_COUNT, found)) != NW_OK)
        goto cleanup;
    rv = s_get_heartbeat(found, hb);
cleanup:
    if (rv != NW_OK)
        nw_heartbeat_clear(hb);
    msgpack_unpacked_destroy(&msg);
    return rv;
}
