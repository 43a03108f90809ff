/*
 * nw_zsock: the small ZeroMQ socket helpers both daemons share: option
 * setters that return newswire errors, bind and connect whose failures name
 * the flag and endpoint, and the split of a tcp://HOST:PORT endpoint.
 *
 *     if (nw_zsock_set_int(sock, ZMQ_LINGER, 0) != NW_OK) ...
 *     rc = nw_zsock_bind(sock, "--bind", "tcp://127.0.0.1:*", actual, sizeof actual,
 *                        err, sizeof err);   // err: "--bind EP: address already in use"
 */
#ifndef NW_ZSOCK_H
#define NW_ZSOCK_H

#include <stddef.h>
#include <stdint.h>

/* Sets an int option. Returns NW_OK or NW_ERR_ZMQ (errno tells why). */
int nw_zsock_set_int(void *sock, int option, int value);

/* Sets an int64 option (ZMQ_MAXMSGSIZE). Returns NW_OK or NW_ERR_ZMQ. */
int nw_zsock_set_i64(void *sock, int option, int64_t value);

/* Binds endpoint and writes the address really bound (the port chosen for "*") into
 * actual (may be NULL). Returns NW_OK, or NW_ERR_ADDRINUSE / NW_ERR_ENDPOINT with err
 * "FLAG ENDPOINT: reason". */
int nw_zsock_bind(void *sock, const char *flag, const char *endpoint, char *actual,
                  size_t actual_len, char *err, size_t errlen);

/* Connects to endpoint. Returns NW_OK, or NW_ERR_ENDPOINT with err "FLAG: cannot connect to
 * 'ENDPOINT': reason". */
int nw_zsock_connect(void *sock, const char *flag, const char *endpoint, char *err, size_t errlen);

/* Splits "tcp://HOST:PORT" (HOST may be a name, an IPv4 address, [IPv6] or "*"): copies
 * HOST into host and points *port at PORT inside endpoint. Returns NW_OK, NW_ERR_ENDPOINT
 * (not tcp://HOST:PORT) or NW_ERR_TOOBIG (host too small). */
int nw_zsock_tcp_split(const char *endpoint, char *host, size_t hostlen, const char **port);

#endif
