/*
 * nw_alert: the alert, newswire's unit of delivery, and the heartbeat.
 *
 * An alert is one piece of an article (its headline, a key point or a
 * paragraph) with the topics it was tagged with and the numbers that let a
 * subscriber detect loss. The structs are plain data: every string is a
 * NUL-terminated, heap-allocated UTF-8 string owned by the struct (NULL is
 * never stored; an absent optional string is ""), freed by nw_alert_clear().
 * A decoded alert keeps all its strings in one block (strings_block): they
 * are read-only; to change one, nw_alert_copy() the alert first (a copy owns
 * each string on its own).
 * See proto/PROTOCOL.md for the wire form of every field.
 */
#ifndef NW_ALERT_H
#define NW_ALERT_H

#include <stddef.h>
#include <stdint.h>

#define NW_PROTO_VERSION 1 /* major version; a decoder rejects any other */

#define NW_ALERT_TOPICS_MAX 16           /* topics on one alert */
#define NW_ALERT_TEXT_MAX   (64 * 1024)  /* bytes of alert text */
#define NW_ALERT_FIELD_MAX  4096         /* bytes of title, source, section, ids... */
#define NW_FRAME_MAX        (256 * 1024) /* bytes of one encoded frame */
#define NW_STREAM_ID_LEN    16           /* hex characters of a stream id */

typedef enum {
    NW_KIND_HEADLINE = 0,  /* the article's title; carries all of its topics */
    NW_KIND_KEYPOINT = 1,  /* one bullet of a key-points list */
    NW_KIND_PARAGRAPH = 2, /* one paragraph (or a sentence-bounded part of one) */
} nw_alert_kind_t;

typedef enum {
    NW_PRIORITY_LOW = 0,
    NW_PRIORITY_NORMAL = 1,
    NW_PRIORITY_HIGH = 2,
    NW_PRIORITY_URGENT = 3,
} nw_priority_t;

typedef struct {
    char *name;   /* topic, valid by nw_topic_valid() */
    uint64_t seq; /* per-topic sequence number in the stream (1, 2, 3...; 0 = not yet numbered) */
} nw_alert_topic_t;

typedef struct {
    char *id;         /* stable alert id: "<article id>.<index>" (".r<revision>" added in
                         an update) */
    char *article_id; /* stable article id: 16 hex chars, a hash of the article's text */
    uint32_t index;   /* position of the alert within its article, from 0 (the headline) */
    nw_alert_kind_t kind;
    char *text;    /* the alert text, at most NW_ALERT_TEXT_MAX bytes */
    char *title;   /* the article's title */
    char *source;  /* the publication or agency, "" if unknown */
    char *author;  /* byline author, "" if unknown */
    char *place;   /* dateline place, "" if unknown */
    char *section; /* heading the alert falls under, "" for none */
    nw_priority_t priority;
    int64_t published_ms; /* publication time, milliseconds since the Unix epoch, UTC */
    char *stream; /* publisher stream id (NW_STREAM_ID_LEN hex chars), "" before numbering */
    uint64_t seq; /* global sequence number in the stream (0 before numbering) */
    nw_alert_topic_t topics[NW_ALERT_TOPICS_MAX]; /* topics with their sequence numbers */
    size_t n_topics;         /* used entries of topics, 1 or more on the wire */
    char *url;               /* the article's canonical link, "" if unknown */
    int64_t article_time_ms; /* the article's original publication time, ms since the epoch;
                              * 0 = unknown */
    uint32_t revision;       /* 1 for an article's first publication, 2, 3... for its updates;
                              * 0 is read as 1 */
    char *strings_block;     /* one allocation holding the strings the decoder set (they
                              * point into it), NULL if none; freed by nw_alert_clear */
    size_t strings_size;     /* bytes of strings_block */
} nw_alert_t;

typedef struct {
    char *stream;             /* publisher stream id */
    uint64_t seq;             /* latest global sequence number sent (0 = none yet) */
    int64_t time_ms;          /* when the heartbeat was sent, ms since the epoch */
    uint32_t interval_ms;     /* heartbeat period: silence for 3 intervals means trouble */
    char *replay;             /* replay endpoint subscribers may connect to, "" if none */
    nw_alert_topic_t *topics; /* latest per-topic sequence numbers, n_topics entries */
    size_t n_topics;
} nw_heartbeat_t;

/* Sets every field of alert to its empty value: strings "" (allocated), numbers 0,
 * kind headline, priority normal, revision 1. Returns NW_OK or NW_ERR_NOMEM (alert then cleared).
 */
int nw_alert_init(nw_alert_t *alert);

/* Frees every string alert owns (strings_block once, with every string in it) and zeroes
 * the struct. Safe on a zeroed struct and twice. */
void nw_alert_clear(nw_alert_t *alert);

/* Replaces the string *field (one of alert's char * fields) with a copy of value, which
 * must not lie in *field (its allocation is resized, in place when the value is short).
 * Returns NW_OK or NW_ERR_NOMEM (field unchanged). Not for a decoded alert's strings,
 * which live in its strings_block. */
int nw_alert_set(char **field, const char *value);

/* As nw_alert_set, with the first len bytes of value (which need no NUL after them). */
int nw_alert_set_len(char **field, const char *value, size_t len);

/* Appends topic name (copied) with sequence 0. Returns NW_OK, NW_ERR_TOPIC for an
 * invalid name, NW_ERR_TOOBIG past NW_ALERT_TOPICS_MAX, NW_ERR_NOMEM; a name already
 * present is not added again and gives NW_OK. */
int nw_alert_add_topic(nw_alert_t *alert, const char *name);

/* Returns the index of topic name in alert->topics, or -1. */
int nw_alert_find_topic(const nw_alert_t *alert, const char *name);

/* Deep-copies src into dst (dst is overwritten, not cleared first); dst owns each string
 * on its own (no strings_block).
 * Returns NW_OK or NW_ERR_NOMEM (dst then cleared). */
int nw_alert_copy(nw_alert_t *dst, const nw_alert_t *src);

/* Returns "headline", "keypoint" or "paragraph". */
const char *nw_alert_kind_name(nw_alert_kind_t kind);

/* Parses a kind name. Returns NW_OK or NW_ERR_INVAL. */
int nw_alert_kind_parse(const char *name, nw_alert_kind_t *kind);

/* Returns "low", "normal", "high" or "urgent". */
const char *nw_priority_name(nw_priority_t priority);

/* Parses a priority name (or its number 0-3). Returns NW_OK or NW_ERR_INVAL. */
int nw_priority_parse(const char *name, nw_priority_t *priority);

/* Frees what hb owns and zeroes it. Safe on a zeroed struct and twice. */
void nw_heartbeat_clear(nw_heartbeat_t *hb);

#endif
