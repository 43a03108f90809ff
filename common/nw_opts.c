#include "nw_opts.h"

#include "nw_error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Parses digits only: strtoull alone would accept "-1", " 7" and "0x10". */
static int s_parse_digits(const char *value, uint64_t *out, const char **end)
{
    if (!isdigit((unsigned char)value[0]))
        return NW_ERR_INVAL;
    errno = 0;
    char *stop;
    unsigned long long v = strtoull(value, &stop, 10);
    if (errno == ERANGE)
        return NW_ERR_INVAL;
    *out = v;
    *end = stop;
    return NW_OK;
}

int nw_opt_uint(const char *flag, const char *value, uint64_t min, uint64_t max, uint64_t *out,
                char *err, size_t errlen)
{
    uint64_t v;
    const char *end;
    if (s_parse_digits(value, &v, &end) != NW_OK || *end != '\0' || v < min || v > max) {
        snprintf(err, errlen, "%s: '%s' is not a whole number from %llu to %llu", flag, value,
                 (unsigned long long)min, (unsigned long long)max);
        return NW_ERR_INVAL;
    }
    *out = v;
    return NW_OK;
}

int nw_opt_size(const char *flag, const char *value, uint64_t min, uint64_t max, uint64_t *out,
                char *err, size_t errlen)
{
    uint64_t v;
    const char *end;
    int rc = s_parse_digits(value, &v, &end);
    uint64_t scale = 1;
    if (rc == NW_OK && *end != '\0') {
        switch (toupper((unsigned char)*end)) {
        case 'K': scale = 1ull << 10; break;
        case 'M': scale = 1ull << 20; break;
        case 'G': scale = 1ull << 30; break;
        default: rc = NW_ERR_INVAL;
        }
        /* Accept "64K", "64KB" and "64KiB". */
        const char *rest = end + 1;
        if (rc == NW_OK && strcmp(rest, "") != 0 && strcasecmp(rest, "B") != 0 &&
            strcasecmp(rest, "iB") != 0)
            rc = NW_ERR_INVAL;
    }
    if (rc == NW_OK && v > UINT64_MAX / scale)
        rc = NW_ERR_INVAL;
    if (rc == NW_OK) {
        v *= scale;
        if (v < min || v > max)
            rc = NW_ERR_INVAL;
    }
    if (rc != NW_OK) {
        snprintf(err, errlen, "%s: '%s' is not a size from %llu to %llu bytes (suffixes K, M, G)",
                 flag, value, (unsigned long long)min, (unsigned long long)max);
        return NW_ERR_INVAL;
    }
    *out = v;
    return NW_OK;
}

int nw_opt_duration_ms(const char *flag, const char *value, uint64_t min_ms, uint64_t max_ms,
                       uint64_t *out, char *err, size_t errlen)
{
    char *end;
    double v = 0;
    int ok = isdigit((unsigned char)value[0]);
    if (ok) {
        errno = 0;
        v = strtod(value, &end);
        ok = errno == 0 && isfinite(v);
    }
    if (ok) {
        if (strcmp(end, "ms") == 0)
            ;
        else if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
            v *= 1000.0;
        else if (strcmp(end, "m") == 0)
            v *= 60.0 * 1000.0;
        else if (strcmp(end, "h") == 0)
            v *= 3600.0 * 1000.0;
        else
            ok = 0;
    }
    if (!ok || v < (double)min_ms || v > (double)max_ms) {
        snprintf(err, errlen,
                 "%s: '%s' is not a duration from %llu ms to %llu ms (e.g. 500ms, 5s, 2m, 1h)",
                 flag, value, (unsigned long long)min_ms, (unsigned long long)max_ms);
        return NW_ERR_INVAL;
    }
    *out = (uint64_t)llround(v);
    return NW_OK;
}

int nw_opt_choice(const char *flag, const char *value, const char *const *choices, int *out,
                  char *err, size_t errlen)
{
    for (int i = 0; choices[i] != NULL; i++) {
        if (strcmp(value, choices[i]) == 0) {
            *out = i;
            return NW_OK;
        }
    }
    int n = snprintf(err, errlen, "%s: '%s' is not one of:", flag, value);
    for (int i = 0; choices[i] != NULL && n > 0 && (size_t)n < errlen; i++)
        n += snprintf(err + n, errlen - (size_t)n, " %s", choices[i]);
    return NW_ERR_INVAL;
}

static int s_valid_port(const char *port, int bind)
{
    uint64_t v;
    const char *end;
    if (bind && strcmp(port, "*") == 0)
        return 1;
    return s_parse_digits(port, &v, &end) == NW_OK && *end == '\0' && v >= 1 && v <= 65535;
}

static int s_check_endpoint(const char *flag, const char *value, int bind, char *err, size_t errlen)
{
    if (strncmp(value, "tcp://", 6) == 0) {
        const char *host = value + 6;
        const char *colon = strrchr(host, ':');
        int host_ok = colon != NULL && colon > host && (bind || strncmp(host, "*:", 2) != 0);
        if (host_ok && s_valid_port(colon + 1, bind))
            return NW_OK;
        snprintf(err, errlen,
                 "%s: '%s' needs a host and a port from 1 to 65535 (tcp://HOST:PORT%s)", flag,
                 value, bind ? "; HOST or PORT may be *" : "");
        return NW_ERR_INVAL;
    }
    if (strncmp(value, "ipc://", 6) == 0) {
        if (value[6] != '\0')
            return NW_OK;
        snprintf(err, errlen, "%s: '%s' needs a path (ipc://PATH)", flag, value);
        return NW_ERR_INVAL;
    }
    snprintf(err, errlen, "%s: '%s' is not a tcp://HOST:PORT or ipc://PATH endpoint", flag, value);
    return NW_ERR_INVAL;
}

int nw_opt_endpoint(const char *flag, const char *value, char *err, size_t errlen)
{
    return s_check_endpoint(flag, value, 0, err, errlen);
}

int nw_opt_bind_endpoint(const char *flag, const char *value, char *err, size_t errlen)
{
    return s_check_endpoint(flag, value, 1, err, errlen);
}

int nw_opt_bind_resolve(const char *flag, const char *value, char *out, size_t outlen, char *err,
                        size_t errlen)
{
    const char *host = value + strlen("tcp://");
    const char *colon = strrchr(value, ':');
    char name[256];
    size_t hlen = colon != NULL && colon > host ? (size_t)(colon - host) : 0;
    bool literal = hlen == 0 || hlen >= sizeof name || host[0] == '[' || host[0] == '*';
    if (!literal) {
        memcpy(name, host, hlen);
        name[hlen] = '\0';
        literal = strspn(name, "0123456789.") == hlen || if_nametoindex(name) != 0;
    }
    if (strncmp(value, "tcp://", 6) != 0 || literal) {
        if ((size_t)snprintf(out, outlen, "%s", value) >= outlen) {
            snprintf(err, errlen, "%s %s: too long", flag, value);
            return NW_ERR_TOOBIG;
        }
        return NW_OK;
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char addr[64];
    if (getaddrinfo(name, NULL, &hints, &res) != 0 || res == NULL ||
        getnameinfo(res->ai_addr, res->ai_addrlen, addr, sizeof addr, NULL, 0, NI_NUMERICHOST) !=
            0) {
        if (res != NULL)
            freeaddrinfo(res);
        snprintf(err, errlen,
                 "%s %s: '%s' does not resolve to an IPv4 address; use an IP address "
                 "(127.0.0.1) or * for every interface",
                 flag, value, name);
        return NW_ERR_ENDPOINT;
    }
    freeaddrinfo(res);
    if ((size_t)snprintf(out, outlen, "tcp://%s%s", addr, colon) >= outlen) {
        snprintf(err, errlen, "%s %s: too long", flag, value);
        return NW_ERR_TOOBIG;
    }
    return NW_OK;
}

int nw_opt_file(const char *flag, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (path[0] == '\0') {
        snprintf(err, errlen, "%s: empty file name", flag);
        return NW_ERR_INVAL;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: is a folder, not a file", flag, path);
        return NW_ERR_INVAL;
    }
    return NW_OK;
}
