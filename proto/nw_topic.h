/*
 * nw_topic: topic names, filters and the control namespace.
 *
 * A topic is 1 to NW_TOPIC_MAX bytes of dot-separated segments; each segment
 * is one or more of [a-z0-9-]: "tariffs", "trade.tariffs", "energy.oil-gas".
 * A filter is a topic or "" (everything). Filter F matches topic T when
 * T == F or T begins with F followed by a dot: "defense" matches
 * "defense.budget" but not "defenseless". ZeroMQ's SUB filter is a plain
 * byte prefix, so a subscriber must re-check every frame with
 * nw_topic_matches().
 *
 * Control frames (heartbeats) travel on topics that begin with "$", which no
 * valid topic or non-empty filter can match.
 */
#ifndef NW_TOPIC_H
#define NW_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#define NW_TOPIC_MAX            64              /* bytes in a topic name */
#define NW_TOPIC_CONTROL_PREFIX "$nw."          /* every control topic starts so */
#define NW_TOPIC_HEARTBEAT      "$nw.heartbeat" /* frame 1 of a heartbeat */

/* Returns true when name (of len bytes, not necessarily NUL-terminated) is a valid topic. */
bool nw_topic_valid(const char *name, size_t len);

/* Returns true when filter ("" or a valid topic) matches the valid topic. */
bool nw_topic_matches(const char *filter, const char *topic);

/* Returns true when the frame-1 bytes name a control topic (begin with "$"). */
bool nw_topic_is_control(const char *frame, size_t len);

#endif
