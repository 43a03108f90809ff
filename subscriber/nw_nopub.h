/*
 * nw_nopub: notices that no publisher has been heard from at all.
 *
 * ZeroMQ connects in the background: a -c host that does not resolve, or a
 * port nobody listens on, leaves the subscriber waiting without a word. The
 * subscriber starts this clock at start and tells it about every message
 * (alert or heartbeat); once NW_NOPUB_AFTER_MS have passed with nothing heard
 * (a fixed wait, whatever -W says), nw_nopub_due says so, once, so the caller
 * can warn. Pure: the caller gives the time.
 */
#ifndef NW_NOPUB_H
#define NW_NOPUB_H

#include <stdbool.h>
#include <stdint.h>

#define NW_NOPUB_AFTER_MS 3000 /* three default heartbeat intervals */

typedef struct {
    int64_t start_ms; /* when the subscriber started */
    int64_t after_ms; /* how long silence may last before the warning */
    bool heard;       /* a message came */
    bool warned;      /* nw_nopub_due returned true */
} nw_nopub_t;

/* Starts the clock at now_ms; warn after after_ms of silence. */
void nw_nopub_init(nw_nopub_t *n, int64_t now_ms, int64_t after_ms);

/* A message (alert or heartbeat) came from a publisher. */
void nw_nopub_heard(nw_nopub_t *n);

/* Returns true once: when nothing was heard and after_ms has passed since the start. */
bool nw_nopub_due(nw_nopub_t *n, int64_t now_ms);

#endif
