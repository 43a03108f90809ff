/*
 * nw_zap: the publisher's ZAP handler (RFC 27) on the daemon's libuv loop.
 *
 * The decisions (allowlist folder, request parsing and reply, the refusal log)
 * are nw_zap_core's; this module watches its REP socket on the daemon's loop
 * (nw_zwatch), so it needs no thread. Create it before any CURVE server socket
 * binds, close it before the context terminates.
 */
#ifndef NW_ZAP_H
#define NW_ZAP_H

#include "nw_zap_core.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct nw_zap_t nw_zap_t;

/* Reads the allowlist from allow_dir, binds the handler in zctx and starts answering on
 * loop. Returns NW_OK with *out set, or NW_ERR_CONFIG / NW_ERR_NOTFOUND (the folder, named in
 * err as "--curve-allow DIR: ..."), NW_ERR_ZMQ (the endpoint is taken: another handler),
 * NW_ERR_UV, NW_ERR_NOMEM; nothing is left open on error. */
int nw_zap_new(uv_loop_t *loop, void *zctx, const char *allow_dir, nw_zap_t **out, char *err,
               size_t errlen);

/* Re-reads the folder (nw_zap_core_reload). Returns NW_OK or the error. */
int nw_zap_reload(nw_zap_t *zap);

/* Stops answering, closes the socket and frees the handler once the loop has closed its
 * handle. Sets *zap_p to NULL. Safe on NULL and twice. */
void nw_zap_close(nw_zap_t **zap_p);

#endif
