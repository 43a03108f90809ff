#include "nw_replay_msg.h"

#include "nw_error.h"
#include "nw_utf8.h"
#include "nw_msgpack_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Requests are a map holding at most an array of strings: 3 leaves room for nothing odd. */
#define S_REQUEST_DEPTH 3
/* End markers are flat maps; unknown keys may nest a little (PROTOCOL.md section 7). */
#define S_END_DEPTH 8

#define S_TYPE_REQUEST "replay"
#define S_TYPE_END     "replay-end"

/* Wire keys of a request, in the order the encoder writes them. */
enum {
    S_Q_V,
    S_Q_TYPE,
    S_Q_REQ,
    S_Q_STREAM,
    S_Q_TOPICS,
    S_Q_FROM_SEQ,
    S_Q_LAST,
    S_Q_SINCE,
    S_Q_TO_SEQ,
    S_Q_LIMIT,
    S_Q_COUNT
};
static const char *const s_request_keys[S_Q_COUNT] = {
    "v", "type", "req", "stream", "topics", "from_seq", "last", "since", "to_seq", "limit",
};

/* Wire keys of an end marker, in the order the encoder writes them. */
enum {
    S_E_V,
    S_E_TYPE,
    S_E_REQ,
    S_E_STREAM,
    S_E_STATUS,
    S_E_COUNT_,
    S_E_FIRST,
    S_E_LAST,
    S_E_NEXT,
    S_E_OLDEST,
    S_E_HEAD,
    S_E_ERROR,
    S_E_COUNT
};
static const char *const s_end_keys[S_E_COUNT] = {
    "v",         "type",     "req",      "stream", "status", "count",
    "first_seq", "last_seq", "next_seq", "oldest", "head",   "error",
};

static const char *const s_status_names[] = {"ok", "more", "error"};

const char *nw_replay_status_name(nw_replay_status_t status)
{
    return (unsigned)status <= NW_REPLAY_ERROR ? s_status_names[status] : "?";
}

/* ---------------------------------------------------------------- requests, plain C */

void nw_replay_request_init(nw_replay_request_t *rq)
{
    memset(rq, 0, sizeof *rq);
}

static bool s_filter_valid(const char *f)
{
    size_t n = strlen(f);
    return n == 0 || nw_topic_valid(f, n);
}

int nw_replay_request_add_filter(nw_replay_request_t *rq, const char *filter)
{
    if (filter == NULL || !s_filter_valid(filter))
        return NW_ERR_TOPIC;
    for (size_t i = 0; i < rq->n_filters; i++) {
        if (strcmp(rq->filters[i], filter) == 0)
            return NW_OK;
    }
    if (rq->n_filters == NW_REPLAY_FILTERS_MAX)
        return NW_ERR_TOOBIG;
    snprintf(rq->filters[rq->n_filters++], NW_TOPIC_MAX + 1, "%s", filter);
    return NW_OK;
}

bool nw_replay_request_matches(const nw_replay_request_t *rq, const char *topic)
{
    if (rq->n_filters == 0)
        return true;
    for (size_t i = 0; i < rq->n_filters; i++) {
        if (nw_topic_matches(rq->filters[i], topic))
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- encoding */

static bool s_str_ok(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    return n <= max && nw_utf8_valid(s, n);
}

static int s_check_request(const nw_replay_request_t *rq)
{
    if (!s_str_ok(rq->stream, NW_REPLAY_STREAM_MAX) || rq->n_filters > NW_REPLAY_FILTERS_MAX ||
        (unsigned)rq->start > NW_REPLAY_SINCE)
        return NW_ERR_INVAL;
    if (rq->start == NW_REPLAY_LAST && rq->last == 0)
        return NW_ERR_INVAL;
    if (rq->start == NW_REPLAY_FROM_SEQ && rq->has_to_seq && rq->to_seq < rq->from_seq)
        return NW_ERR_INVAL;
    for (size_t i = 0; i < rq->n_filters; i++) {
        if (strnlen(rq->filters[i], NW_TOPIC_MAX + 1) > NW_TOPIC_MAX ||
            !s_filter_valid(rq->filters[i]))
            return NW_ERR_INVAL;
    }
    return NW_OK;
}

/* An nw_msgpack_pack_fn for an nw_replay_request_t. */
static int s_pack_request(msgpack_packer *pk, const void *obj)
{
    const nw_replay_request_t *rq = obj;
    const char *const *k = s_request_keys;
    size_t n = 6 + (rq->has_to_seq ? 1 : 0) + (rq->limit ? 1 : 0);
    int e = msgpack_pack_map(pk, n);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_Q_V], NW_PROTO_VERSION);
    e |= nw_msgpack_pack_kv_str(pk, k[S_Q_TYPE], S_TYPE_REQUEST);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_Q_REQ], rq->req);
    e |= nw_msgpack_pack_kv_str(pk, k[S_Q_STREAM], rq->stream);
    e |= nw_msgpack_pack_str(pk, k[S_Q_TOPICS]) | msgpack_pack_array(pk, rq->n_filters);
    for (size_t i = 0; i < rq->n_filters; i++)
        e |= nw_msgpack_pack_str(pk, rq->filters[i]);
    if (rq->start == NW_REPLAY_FROM_SEQ)
        e |= nw_msgpack_pack_kv_uint(pk, k[S_Q_FROM_SEQ], rq->from_seq);
    else if (rq->start == NW_REPLAY_LAST)
        e |= nw_msgpack_pack_kv_uint(pk, k[S_Q_LAST], rq->last);
    else
        e |= nw_msgpack_pack_kv_int(pk, k[S_Q_SINCE], rq->since_ms);
    if (rq->has_to_seq)
        e |= nw_msgpack_pack_kv_uint(pk, k[S_Q_TO_SEQ], rq->to_seq);
    if (rq->limit)
        e |= nw_msgpack_pack_kv_uint(pk, k[S_Q_LIMIT], rq->limit);
    return e;
}

/* An nw_msgpack_pack_fn for an nw_replay_end_t. */
static int s_pack_end(msgpack_packer *pk, const void *obj)
{
    const nw_replay_end_t *end = obj;
    const char *const *k = s_end_keys;
    int e = msgpack_pack_map(pk, S_E_COUNT);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_E_V], NW_PROTO_VERSION);
    e |= nw_msgpack_pack_kv_str(pk, k[S_E_TYPE], S_TYPE_END);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_E_REQ], end->req);
    e |= nw_msgpack_pack_kv_str(pk, k[S_E_STREAM], end->stream);
    e |= nw_msgpack_pack_kv_str(pk, k[S_E_STATUS], nw_replay_status_name(end->status));
    e |= nw_msgpack_pack_kv_uint(pk, k[S_E_COUNT_], end->count);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_E_FIRST], end->first_seq);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_E_LAST], end->last_seq);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_E_NEXT], end->next_seq);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_E_OLDEST], end->oldest);
    e |= nw_msgpack_pack_kv_uint(pk, k[S_E_HEAD], end->head);
    e |= nw_msgpack_pack_kv_str(pk, k[S_E_ERROR], end->status == NW_REPLAY_ERROR ? end->error : "");
    return e;
}

int nw_replay_request_encode(const nw_replay_request_t *rq, char **data, size_t *size)
{
    int rv;
    if (rq == NULL || data == NULL || size == NULL)
        return NW_ERR_INVAL;
    if ((rv = s_check_request(rq)) != NW_OK)
        return rv;
    return nw_msgpack_encode(s_pack_request, rq, SIZE_MAX, data, size);
}

int nw_replay_end_encode(const nw_replay_end_t *end, char **data, size_t *size)
{
    if (end == NULL || data == NULL || size == NULL || (unsigned)end->status > NW_REPLAY_ERROR ||
        !s_str_ok(end->stream, NW_REPLAY_STREAM_MAX) || !s_str_ok(end->error, NW_REPLAY_ERROR_MAX))
        return NW_ERR_INVAL;
    return nw_msgpack_encode(s_pack_end, end, SIZE_MAX, data, size);
}

/* Cuts s back so it does not end inside a UTF-8 sequence. */
static void s_utf8_trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && !nw_utf8_valid(s, n))
        s[--n] = '\0';
}

void nw_replay_end_set_error(nw_replay_end_t *end, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(end->error, sizeof end->error, fmt, ap);
    va_end(ap);
    s_utf8_trim(end->error);
    end->status = NW_REPLAY_ERROR;
}

/* ---------------------------------------------------------------- decoding */

/* Copies the str o (at most max bytes of UTF-8 without U+0000) into out (max + 1 bytes).
 * An absent optional o gives "". */
static int s_get_str(const msgpack_object *o, size_t max, bool required, char *out)
{
    out[0] = '\0';
    if (o == NULL)
        return required ? NW_ERR_WIRE_MISSING : NW_OK;
    int rv = nw_msgpack_check_str(o, max);
    if (rv != NW_OK)
        return rv;
    size_t n = o->via.str.size;
    if (n > 0)
        memcpy(out, o->via.str.ptr, n);
    out[n] = '\0';
    return NW_OK;
}

/* Reads the optional "topics" array: each "" or a valid topic, none twice. */
static int s_get_filters(const msgpack_object *o, nw_replay_request_t *rq)
{
    if (o == NULL)
        return NW_OK;
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return NW_ERR_WIRE_TYPE;
    if (o->via.array.size > NW_REPLAY_FILTERS_MAX)
        return NW_ERR_WIRE_OVERSIZE;
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *f = &o->via.array.ptr[i];
        char name[NW_TOPIC_MAX + 1];
        if (f->type != MSGPACK_OBJECT_STR)
            return NW_ERR_WIRE_TYPE;
        if (f->via.str.size > 0 && !nw_topic_valid(f->via.str.ptr, f->via.str.size))
            return NW_ERR_WIRE_RANGE;
        int rv = s_get_str(f, NW_TOPIC_MAX, true, name);
        if (rv != NW_OK)
            return rv;
        size_t before = rq->n_filters;
        if ((rv = nw_replay_request_add_filter(rq, name)) != NW_OK)
            return NW_ERR_WIRE_RANGE;
        if (rq->n_filters == before)
            return NW_ERR_WIRE_RANGE; /* repeated */
    }
    return NW_OK;
}

/* Reads exactly one of from_seq / last / since, then to_seq and limit. */
static int s_get_range(const msgpack_object **f, nw_replay_request_t *rq)
{
    int given = (f[S_Q_FROM_SEQ] != NULL) + (f[S_Q_LAST] != NULL) + (f[S_Q_SINCE] != NULL);
    int rv;
    if (given == 0)
        return NW_ERR_WIRE_MISSING;
    if (given > 1)
        return NW_ERR_WIRE_RANGE;
    if (f[S_Q_FROM_SEQ] != NULL) {
        rq->start = NW_REPLAY_FROM_SEQ;
        rv = nw_msgpack_get_uint(f[S_Q_FROM_SEQ], UINT64_MAX, &rq->from_seq);
    } else if (f[S_Q_LAST] != NULL) {
        rq->start = NW_REPLAY_LAST;
        rv = nw_msgpack_get_uint(f[S_Q_LAST], UINT64_MAX, &rq->last);
        if (rv == NW_OK && rq->last == 0)
            rv = NW_ERR_WIRE_RANGE;
    } else {
        rq->start = NW_REPLAY_SINCE;
        rv = nw_msgpack_get_int(f[S_Q_SINCE], &rq->since_ms);
    }
    if (rv != NW_OK)
        return rv;
    if (f[S_Q_TO_SEQ] != NULL) {
        rq->has_to_seq = true;
        if ((rv = nw_msgpack_get_uint(f[S_Q_TO_SEQ], UINT64_MAX, &rq->to_seq)) != NW_OK)
            return rv;
        if (rq->start == NW_REPLAY_FROM_SEQ && rq->to_seq < rq->from_seq)
            return NW_ERR_WIRE_RANGE;
    }
    if (f[S_Q_LIMIT] != NULL)
        return nw_msgpack_get_uint(f[S_Q_LIMIT], UINT64_MAX, &rq->limit);
    return NW_OK;
}

static int s_get_request(const msgpack_object **f, nw_replay_request_t *rq)
{
    int rv;
    uint64_t req = 0;
    if ((rv = nw_msgpack_get_version(f[S_Q_V])) != NW_OK ||
        (rv = nw_msgpack_get_type(f[S_Q_TYPE], S_TYPE_REQUEST)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_Q_REQ], UINT64_MAX, &req)) != NW_OK)
        return rv;
    rq->req = req;
    if ((rv = s_get_str(f[S_Q_STREAM], NW_REPLAY_STREAM_MAX, false, rq->stream)) != NW_OK ||
        (rv = s_get_filters(f[S_Q_TOPICS], rq)) != NW_OK)
        return rv;
    return s_get_range(f, rq);
}

int nw_replay_request_decode(const void *data, size_t size, nw_replay_request_t *rq)
{
    const msgpack_object *found[S_Q_COUNT];
    msgpack_unpacked msg;
    nw_replay_request_init(rq);
    msgpack_unpacked_init(&msg);
    int rv = nw_msgpack_open(data, size, NW_REPLAY_REQUEST_MAX, S_REQUEST_DEPTH, &msg,
                             s_request_keys, S_Q_COUNT, found);
    if (rv == NW_OK)
        rv = s_get_request(found, rq);
    if (rv != NW_OK) {
        uint64_t req = rq->req; /* kept so the error answer can name the request */
        nw_replay_request_init(rq);
        rq->req = req;
    }
    msgpack_unpacked_destroy(&msg);
    return rv;
}

static int s_get_status(const msgpack_object *o, nw_replay_status_t *status)
{
    size_t s;
    int rv = nw_msgpack_get_enum(o, s_status_names, NW_REPLAY_ERROR + 1, &s);
    if (rv == NW_OK)
        *status = (nw_replay_status_t)s;
    return rv;
}

static int s_get_end(const msgpack_object **f, nw_replay_end_t *end)
{
    int rv;
    if ((rv = nw_msgpack_get_version(f[S_E_V])) != NW_OK ||
        (rv = nw_msgpack_get_type(f[S_E_TYPE], S_TYPE_END)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_E_REQ], UINT64_MAX, &end->req)) != NW_OK ||
        (rv = s_get_str(f[S_E_STREAM], NW_REPLAY_STREAM_MAX, true, end->stream)) != NW_OK ||
        (rv = s_get_status(f[S_E_STATUS], &end->status)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_E_COUNT_], UINT64_MAX, &end->count)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_E_FIRST], UINT64_MAX, &end->first_seq)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_E_LAST], UINT64_MAX, &end->last_seq)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_E_NEXT], UINT64_MAX, &end->next_seq)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_E_OLDEST], UINT64_MAX, &end->oldest)) != NW_OK ||
        (rv = nw_msgpack_get_uint(f[S_E_HEAD], UINT64_MAX, &end->head)) != NW_OK)
        return rv;
    /* An over-long error text from another implementation is cut, not refused: it is
     * only ever shown to a person. */
    const msgpack_object *e = f[S_E_ERROR];
    if (e != NULL && e->type == MSGPACK_OBJECT_STR && e->via.str.size > NW_REPLAY_ERROR_MAX) {
        if ((rv = nw_msgpack_check_str(e, SIZE_MAX)) != NW_OK)
            return rv;
        memcpy(end->error, e->via.str.ptr, NW_REPLAY_ERROR_MAX);
        end->error[NW_REPLAY_ERROR_MAX] = '\0';
        s_utf8_trim(end->error);
        return NW_OK;
    }
    return s_get_str(e, NW_REPLAY_ERROR_MAX, false, end->error);
}

int nw_replay_end_decode(const void *data, size_t size, nw_replay_end_t *end)
{
    const msgpack_object *found[S_E_COUNT];
    msgpack_unpacked msg;
    memset(end, 0, sizeof *end);
    msgpack_unpacked_init(&msg);
    int rv =
        nw_msgpack_open(data, size, NW_FRAME_MAX, S_END_DEPTH, &msg, s_end_keys, S_E_COUNT, found);
    if (rv == NW_OK)
        rv = s_get_end(found, end);
    if (rv != NW_OK)
        memset(end, 0, sizeof *end);
    msgpack_unpacked_destroy(&msg);
    return rv;
}
