/*
 * nw_zap_core: the decision half of a ZAP handler (RFC 27): which CURVE
 * clients may connect. Loop-free, so the publisher's libuv loop (nw_zap) and
 * the proxy's zmq_poll loop drive the same code.
 *
 * It owns a REP socket bound to inproc://zeromq.zap.01 in the caller's ZeroMQ
 * context; libzmq asks it about every CURVE handshake on every socket of that
 * context. The caller polls nw_zap_core_socket() for input and calls
 * nw_zap_core_handle() when it is readable. A request is answered 200 when
 * the client's long-term public key is in the allowlist (the public
 * certificates NAME.key in the --curve-allow folder), with the key in Z85 as
 * the user id (messages from that client carry it as the "User-Id"
 * property), and 400 otherwise.
 * nw_zap_core_reload re-reads the folder (SIGHUP): a key removed from it
 * cannot connect again (connections already made stay until they drop). A
 * folder that cannot be read keeps the previous list. Refused clients are
 * logged once per key and address (the last NW_ZAP_SEEN_MAX pairs are
 * remembered), at most NW_ZAP_LOG_BURST lines a minute:
 *
 *     curve: refused client key KEY from ADDRESS (not in --curve-allow DIR)
 *
 * Open it before any CURVE server socket binds, destroy it before the context
 * terminates. Everything belongs to the thread that calls these functions.
 */
#ifndef NW_ZAP_CORE_H
#define NW_ZAP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NW_ZAP_ENDPOINT  "inproc://zeromq.zap.01"
#define NW_ZAP_KEYS_MAX  65536 /* certificates read from the folder at most */
#define NW_ZAP_SEEN_MAX  1024  /* refused (key, address) pairs remembered for the log */
#define NW_ZAP_LOG_BURST 10    /* refusal lines per minute at most */

typedef struct nw_zap_core_t nw_zap_core_t;

/* Reads the allowlist from allow_dir and binds the handler's REP socket in zctx. Returns
 * NW_OK with *out set, or NW_ERR_CONFIG / NW_ERR_NOTFOUND (the folder, named in err as
 * "--curve-allow DIR: ..."), NW_ERR_ZMQ (the endpoint is taken: another handler),
 * NW_ERR_NOMEM; nothing is left open on error. Logs the number of keys allowed. */
int nw_zap_core_open(void *zctx, const char *allow_dir, nw_zap_core_t **out, char *err,
                     size_t errlen);

/* The REP socket to poll for input (owned by the handler). */
void *nw_zap_core_socket(const nw_zap_core_t *zap);

/* Reads one request without blocking and answers it; now_ms (any monotonic millisecond
 * clock) paces the refusal log. Returns true when a request was read, false when none was
 * waiting: call it until false, or once per readable event and poll again. */
bool nw_zap_core_handle(nw_zap_core_t *zap, uint64_t now_ms);

/* Re-reads the folder and logs "curve: allowlist reloaded from DIR (N keys)", or logs why
 * it could not and keeps the previous list. Returns NW_OK or the error. */
int nw_zap_core_reload(nw_zap_core_t *zap);

/* Closes the socket (without lingering), frees the handler and sets *zap_p to NULL. Safe
 * on NULL and twice. */
void nw_zap_core_destroy(nw_zap_core_t **zap_p);

#endif
