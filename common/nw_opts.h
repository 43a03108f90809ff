/*
 * nw_opts: helpers for command-line and config values.
 *
 * Each parser takes the name of the flag or field it is parsing so that its
 * error message can say which one is wrong. On failure it logs nothing;
 * it writes a one-line message into err (e.g. "--count: 'x' is not a whole
 * number from 1 to 1000000") and returns NW_ERR_INVAL, leaving *out alone.
 */
#ifndef NW_OPTS_H
#define NW_OPTS_H

#include <stddef.h>
#include <stdint.h>

/* Parses a decimal whole number in [min, max]. */
int nw_opt_uint(const char *flag, const char *value, uint64_t min, uint64_t max, uint64_t *out,
                char *err, size_t errlen);

/* Parses a size such as "4096", "64K", "5M" or "1G" (powers of 1024) in [min, max] bytes. */
int nw_opt_size(const char *flag, const char *value, uint64_t min, uint64_t max, uint64_t *out,
                char *err, size_t errlen);

/* Parses a duration such as "250ms", "5s", "2m", "1h" or a bare number of seconds
 * ("1.5" is allowed) into milliseconds in [min_ms, max_ms]. */
int nw_opt_duration_ms(const char *flag, const char *value, uint64_t min_ms, uint64_t max_ms,
                       uint64_t *out, char *err, size_t errlen);

/* Picks value out of the NULL-terminated list choices and stores its index.
 * The error message lists the choices. */
int nw_opt_choice(const char *flag, const char *value, const char *const *choices, int *out,
                  char *err, size_t errlen);

/* Checks that value is an endpoint to connect to: "tcp://HOST:PORT" or "ipc://PATH". */
int nw_opt_endpoint(const char *flag, const char *value, char *err, size_t errlen);

/* Checks that value is an endpoint to bind: as nw_opt_endpoint, and HOST may be "*"
 * (every interface) and PORT may be "*" (a free port chosen by the system). */
int nw_opt_bind_endpoint(const char *flag, const char *value, char *err, size_t errlen);

/* For an endpoint to bind (already checked by nw_opt_bind_endpoint): a tcp:// HOST that is
 * a name rather than an IP address, * or a network interface (lo, eth0) is resolved here,
 * once, to its first IPv4 address, and out receives "tcp://ADDRESS:PORT" (ZeroMQ would take
 * a name for an interface and fail later with "No such device"). Any other endpoint is
 * copied to out unchanged. Returns NW_OK; NW_ERR_ENDPOINT when the name does not resolve
 * ("--bind tcp://nosuch:5556: 'nosuch' does not resolve to an IPv4 address; use an IP
 * address (127.0.0.1) or * for every interface"); NW_ERR_TOOBIG when out is too small. */
int nw_opt_bind_resolve(const char *flag, const char *value, char *out, size_t outlen, char *err,
                        size_t errlen);

/* Checks that path names a file: when something exists at path it must not be a folder
 * ("--topics /etc: is a folder, not a file"). A path that does not exist passes (the
 * program creates it, or reports it missing when it opens it). */
int nw_opt_file(const char *flag, const char *path, char *err, size_t errlen);

#endif
