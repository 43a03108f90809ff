/*
 * nw_zap: the publisher's ZAP handler (RFC 27): which CURVE clients may connect.
 *
 * A REP socket bound to inproc://zeromq.zap.01 in the daemon's own ZeroMQ
 * context and read on the daemon's loop (nw_zwatch), so it needs no thread.
 * libzmq asks it about every CURVE handshake on every socket of the context;
 * it answers 200 when the client's long-term public key is in the allowlist
 * (the public certificates NAME.key in the --curve-allow folder) and 400
 * otherwise. nw_zap_reload re-reads the folder (SIGHUP): a key removed from it
 * cannot connect again (connections already made stay until they drop). A
 * folder that cannot be read keeps the previous list. Refused clients are
 * logged once per key and address (the last NW_ZAP_SEEN_MAX pairs are
 * remembered), at most NW_ZAP_LOG_BURST lines a minute:
 *
 *     curve: refused client key KEY from ADDRESS (not in --curve-allow DIR)
 *
 * Create it before any CURVE server socket binds, close it before the context
 * terminates.
 */
#ifndef NW_ZAP_H
#define NW_ZAP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define NW_ZAP_ENDPOINT  "inproc://zeromq.zap.01"
#define NW_ZAP_KEYS_MAX  65536 /* certificates read from the folder at most */
#define NW_ZAP_SEEN_MAX  1024  /* refused (key, address) pairs remembered for the log */
#define NW_ZAP_LOG_BURST 10    /* refusal lines per minute at most */

typedef struct nw_zap_t nw_zap_t;

/* Reads the allowlist from allow_dir, binds the handler in zctx and starts answering on
 * loop. Returns NW_OK with *out set, or NW_ERR_CONFIG / NW_ERR_NOTFOUND (the folder, named in
 * err as "--curve-allow DIR: ..."), NW_ERR_ZMQ (the endpoint is taken: another handler),
 * NW_ERR_UV, NW_ERR_NOMEM; nothing is left open on error. */
int nw_zap_new(uv_loop_t *loop, void *zctx, const char *allow_dir, nw_zap_t **out, char *err,
               size_t errlen);

/* Re-reads the folder and logs "curve: allowlist reloaded from DIR (N keys)", or logs why
 * it could not and keeps the previous list. Returns NW_OK or the error. */
int nw_zap_reload(nw_zap_t *zap);

/* Stops answering, closes the socket and frees the handler once the loop has closed its
 * handle. Sets *zap_p to NULL. Safe on NULL and twice. */
void nw_zap_close(nw_zap_t **zap_p);

#endif
