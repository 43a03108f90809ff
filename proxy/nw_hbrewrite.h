/*
 * nw_hbrewrite: what a proxy does to a heartbeat on its way through.
 *
 * A heartbeat's "replay" field names the publisher's replay endpoint, with a
 * "*" host meaning "the host you connected to" (proto/PROTOCOL.md, sections 5
 * and 12). Behind a proxy that host is the proxy, so the field is rewritten:
 * to the proxy's own replay front end when it has one, else to the upstream
 * endpoint with the "*" resolved against the host the proxy connected to.
 * The upstream endpoint the proxy must route the stream's replay requests to
 * is returned beside the new body. Pure functions: no sockets, no state.
 */
#ifndef NW_HBREWRITE_H
#define NW_HBREWRITE_H

#include <stddef.h>

#define NW_HBREWRITE_ENDPOINT_MAX 1024 /* bytes of an endpoint, NUL included */

/* What a heartbeat told the proxy. */
typedef struct {
    char stream[NW_HBREWRITE_ENDPOINT_MAX];   /* the heartbeat's stream id */
    char upstream[NW_HBREWRITE_ENDPOINT_MAX]; /* its replay endpoint as seen from the proxy,
                                                 "" when the publisher has none */
} nw_hbrewrite_info_t;

/* Resolves an advertised replay endpoint against the endpoint the SUB side connected to:
 * an advertised endpoint with a "*" host gets connected's HOST; anything else is copied.
 * Returns NW_OK; NW_ERR_NOTFOUND for an empty advertised; NW_ERR_ENDPOINT when a "*" host
 * cannot be resolved (connected is not tcp://HOST:PORT); NW_ERR_TOOBIG when out is short.
 * out is untouched on error. */
int nw_hbrewrite_resolve(const char *advertised, const char *connected, char *out, size_t outlen);

/* Decodes the heartbeat body (size bytes), fills *info, and writes a copy into a new
 * buffer *out of *out_size bytes (caller frees) whose "replay" is `advertise` when the
 * publisher has a replay endpoint and advertise is not NULL, else the resolved upstream
 * endpoint ("" stays ""); every other key, unknown ones included, is kept
 * (nw_heartbeat_set_replay). connected is the upstream endpoint the body came from.
 * Returns NW_OK, the decoder's NW_ERR_WIRE_* code for a bad body (nothing allocated), or
 * NW_ERR_NOMEM. A "*" host that cannot be resolved leaves the upstream "" and the replay
 * field unchanged (NW_OK). */
int nw_hbrewrite(const void *body, size_t size, const char *connected, const char *advertise,
                 nw_hbrewrite_info_t *info, char **out, size_t *out_size);

#endif
