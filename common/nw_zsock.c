#include "nw_zsock.h"

#include "nw_error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

int nw_zsock_set_int(void *sock, int option, int value)
{
    return zmq_setsockopt(sock, option, &value, sizeof value) == 0 ? NW_OK : NW_ERR_ZMQ;
}

int nw_zsock_set_i64(void *sock, int option, int64_t value)
{
    return zmq_setsockopt(sock, option, &value, sizeof value) == 0 ? NW_OK : NW_ERR_ZMQ;
}

int nw_zsock_bind(void *sock, const char *flag, const char *endpoint, char *actual,
                  size_t actual_len, char *err, size_t errlen)
{
    if (zmq_bind(sock, endpoint) != 0) {
        int e = errno;
        snprintf(err, errlen, "%s %s: %s", flag, endpoint,
                 e == EADDRINUSE ? "address already in use" : zmq_strerror(e));
        return e == EADDRINUSE ? NW_ERR_ADDRINUSE : NW_ERR_ENDPOINT;
    }
    size_t size = actual_len;
    if (actual != NULL && zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, actual, &size) != 0)
        snprintf(actual, actual_len, "%s", endpoint);
    return NW_OK;
}

int nw_zsock_connect(void *sock, const char *flag, const char *endpoint, char *err, size_t errlen)
{
    if (zmq_connect(sock, endpoint) == 0)
        return NW_OK;
    snprintf(err, errlen, "%s: cannot connect to '%s': %s", flag, endpoint, zmq_strerror(errno));
    return NW_ERR_ENDPOINT;
}

int nw_zsock_tcp_split(const char *endpoint, char *host, size_t hostlen, const char **port)
{
    static const char tcp[] = "tcp://";
    if (endpoint == NULL || strncmp(endpoint, tcp, sizeof tcp - 1) != 0)
        return NW_ERR_ENDPOINT;
    const char *h = endpoint + sizeof tcp - 1;
    const char *colon = strrchr(h, ':');
    if (colon == NULL || colon == h || colon[1] == '\0')
        return NW_ERR_ENDPOINT;
    size_t n = (size_t)(colon - h);
    if (n >= hostlen)
        return NW_ERR_TOOBIG;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = colon + 1;
    return NW_OK;
}
