/*
 * nw_curve: the CURVE socket options both daemons set (zmq_curve(7), RFC 26).
 *
 * The publisher's alert and replay sockets become CURVE servers with its
 * secret certificate; the subscriber's SUB and replay DEALER become CURVE
 * clients with the publisher's public key and the subscriber's own pair
 * (from a secret certificate, or an ephemeral pair made once per run). Every
 * option is set before the socket binds or connects, as libzmq requires.
 *
 *     nw_curve_client_t cc;
 *     if (nw_curve_client_load("pub.key", NULL, &cc, err, sizeof err) != NW_OK) exit 2;
 *     nw_curve_client_apply(sub_sock, &cc);   // then zmq_connect
 */
#ifndef NW_CURVE_H
#define NW_CURVE_H

#include "nw_cert.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NW_CURVE_ZAP_DOMAIN "newswire" /* ZMQ_ZAP_DOMAIN of the publisher's sockets */

/* A subscriber's CURVE keys. */
typedef struct {
    char server_key[NW_CERT_Z85_LEN + 1]; /* the publisher's public key, Z85 */
    nw_cert_t client;                     /* this subscriber's pair */
    bool ephemeral;                       /* client was made for this run */
} nw_curve_client_t;

/* Makes sock a CURVE server with server's secret key, in the ZAP domain NW_CURVE_ZAP_DOMAIN.
 * Returns NW_OK, or NW_ERR_ZMQ with err saying why (libzmq without CURVE). */
int nw_curve_server_apply(void *sock, const nw_cert_t *server, char *err, size_t errlen);

/* Loads the publisher's certificate (server_path: its public certificate; a secret one is
 * accepted and only its public key used) and this client's secret certificate, or makes
 * an ephemeral pair when secret_path is NULL. Flags name the files in err:
 * "--curve-server-key pub.key: ...". Returns NW_OK or an nw_cert_load error. */
int nw_curve_client_load(const char *server_path, const char *secret_path, nw_curve_client_t *out,
                         char *err, size_t errlen);

/* Makes sock a CURVE client of c's server. c NULL: plaintext, nothing is set. Returns NW_OK
 * or NW_ERR_ZMQ. */
int nw_curve_client_apply(void *sock, const nw_curve_client_t *c);

/* Writes to buf (len bytes) what to check when a CURVE subscriber hears nothing (a wrong
 * server key, or a key the publisher does not allow, look like silence: libzmq retries
 * quietly): both keys, abridged, and whether the client's was made for this run. */
void nw_curve_client_hint(const nw_curve_client_t *c, char *buf, size_t len);

/* Returns true when endpoint can only be reached from this host: tcp:// on 127.0.0.0/8,
 * [::1] or localhost, ipc://, inproc://. A star, 0.0.0.0, an interface name or any other
 * address is not local. */
bool nw_curve_endpoint_local(const char *endpoint);

/* For a server without --curve-secret: logs one warning naming every endpoint among binds
 * (n of them) and replay (NULL: none) that other hosts can reach; nothing when all are local. */
void nw_curve_warn_exposed(const char *const *binds, size_t n, const char *replay);

#endif
