/*
 * nw_metrics_http: GET /metrics with libmicrohttpd's internal thread. See nw_metrics_http.h.
 *
 * libmicrohttpd is loaded with dlopen when an endpoint starts, not linked: Debian's build of it
 * pulls in gnutls, p11-kit, nettle, hogweed, gmp, tasn1, idn2 and unistring, whose pages and
 * start-up (gnutls initialises itself in a library constructor) cost every process ~2.3 MB of
 * resident memory even when no --metrics-bind is given. <microhttpd.h> still supplies every
 * type and constant, and each function pointer type is checked against its prototype there.
 */
#include "nw_metrics_http.h"

#include "nw_error.h"
#include "nw_log.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define S_CONNECTIONS_MAX 8  /* scrapers served at once */
#define S_TIMEOUT_S       10 /* an idle connection is closed after this */
#define S_CONTENT_TYPE    "text/plain; version=0.0.4; charset=utf-8"

/* The types of the libmicrohttpd functions used (as declared in <microhttpd.h>). */
typedef struct MHD_Daemon *(s_start_daemon_fn)(unsigned int flags, uint16_t port,
                                               MHD_AcceptPolicyCallback apc, void *apc_cls,
                                               MHD_AccessHandlerCallback dh, void *dh_cls, ...);
typedef void(s_stop_daemon_fn)(struct MHD_Daemon *daemon);
typedef const union MHD_DaemonInfo *(s_get_daemon_info_fn)(struct MHD_Daemon *daemon,
                                                           enum MHD_DaemonInfoType info_type, ...);
typedef struct MHD_Response *(s_create_response_fn)(size_t size, void *buffer,
                                                    enum MHD_ResponseMemoryMode mode);
typedef enum MHD_Result(s_add_header_fn)(struct MHD_Response *response, const char *header,
                                         const char *content);
typedef enum MHD_Result(s_queue_response_fn)(struct MHD_Connection *connection,
                                             unsigned int status_code,
                                             struct MHD_Response *response);
typedef void(s_destroy_response_fn)(struct MHD_Response *response);

/* Each type must match <microhttpd.h>'s prototype. _Generic does not evaluate its operand,
 * so these checks make no reference to a libmicrohttpd symbol at link time. */
_Static_assert(_Generic(MHD_start_daemon, s_start_daemon_fn * : 1, default : 0),
               "MHD_start_daemon");
_Static_assert(_Generic(MHD_stop_daemon, s_stop_daemon_fn * : 1, default : 0), "MHD_stop_daemon");
_Static_assert(_Generic(MHD_get_daemon_info, s_get_daemon_info_fn * : 1, default : 0),
               "MHD_get_daemon_info");
_Static_assert(_Generic(MHD_create_response_from_buffer, s_create_response_fn * : 1, default : 0),
               "MHD_create_response_from_buffer");
_Static_assert(_Generic(MHD_add_response_header, s_add_header_fn * : 1, default : 0),
               "MHD_add_response_header");
_Static_assert(_Generic(MHD_queue_response, s_queue_response_fn * : 1, default : 0),
               "MHD_queue_response");
_Static_assert(_Generic(MHD_destroy_response, s_destroy_response_fn * : 1, default : 0),
               "MHD_destroy_response");

/* The libmicrohttpd functions used, resolved from the library dlopen loaded. */
typedef struct {
    void *lib;                                         /* the dlopen handle */
    s_start_daemon_fn *start_daemon;                   /* MHD_start_daemon */
    s_stop_daemon_fn *stop_daemon;                     /* MHD_stop_daemon */
    s_get_daemon_info_fn *get_daemon_info;             /* MHD_get_daemon_info */
    s_create_response_fn *create_response_from_buffer; /* MHD_create_response_from_buffer */
    s_add_header_fn *add_response_header;              /* MHD_add_response_header */
    s_queue_response_fn *queue_response;               /* MHD_queue_response */
    s_destroy_response_fn *destroy_response;           /* MHD_destroy_response */
} s_mhd_t;

struct _nw_metrics_http_t {
    s_mhd_t mhd;                 /* libmicrohttpd, loaded for this endpoint */
    struct MHD_Daemon *daemon;   /* libmicrohttpd, with its own thread */
    const nw_metrics_t *metrics; /* what is served (borrowed) */
    unsigned port;               /* the port listened on */
};

/* A parsed HOST:PORT. */
typedef struct {
    struct sockaddr_storage addr; /* address and port */
    socklen_t len;                /* bytes of addr used */
    char host[64];                /* HOST as given, without brackets */
} s_bind_t;

static int s_parse(const char *flag, const char *value, s_bind_t *b, char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    const char *colon = strrchr(value, ':');
    const char *host = value, *host_end = colon;
    if (value[0] == '[') {
        host = value + 1;
        host_end = strchr(value, ']');
        if (host_end == NULL || host_end + 1 != colon)
            host_end = NULL;
    }
    if (colon == NULL || host_end == NULL || host_end == host ||
        (size_t)(host_end - host) >= sizeof b->host) {
        snprintf(err, errlen, "%s: '%s' is not HOST:PORT (e.g. 127.0.0.1:9556)", flag, value);
        return NW_ERR_INVAL;
    }
    memcpy(b->host, host, (size_t)(host_end - host));
    const char *port_s = colon + 1;
    unsigned long port = 0;
    if (strcmp(port_s, "*") != 0) {
        char *end;
        errno = 0;
        port = strtoul(port_s, &end, 10);
        if (port_s[0] < '0' || port_s[0] > '9' || *end != '\0' || errno != 0 || port > 65535) {
            snprintf(err, errlen, "%s: '%s': the port must be 0-65535 or *", flag, value);
            return NW_ERR_INVAL;
        }
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)&b->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&b->addr;
    if (value[0] != '[' && inet_pton(AF_INET, b->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        b->len = sizeof *v4;
    } else if (value[0] == '[' && inet_pton(AF_INET6, b->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        b->len = sizeof *v6;
    } else {
        snprintf(err, errlen,
                 "%s: '%s' is not an IP address (use 127.0.0.1, 0.0.0.0 or [::1], not a "
                 "host name)",
                 flag, b->host);
        return NW_ERR_INVAL;
    }
    return NW_OK;
}

/* Looks up name in lib; sets *missing to name when it is not there. */
static void *s_sym(void *lib, const char *name, const char **missing)
{
    void *p = dlsym(lib, name);
    if (p == NULL && *missing == NULL)
        *missing = name;
    return p;
}

/* Loads libmicrohttpd (NW_MHD_SONAME, the library the build was configured with) into m.
 * Returns NW_OK, or NW_ERR_NOTFOUND with err naming flag, the library and why. */
static int s_mhd_load(const char *flag, s_mhd_t *m, char *err, size_t errlen)
{
    if ((m->lib = dlopen(NW_MHD_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
        snprintf(err, errlen, "%s: cannot load %s (the HTTP server library): %s", flag,
                 NW_MHD_SONAME, dlerror());
        return NW_ERR_NOTFOUND;
    }
    const char *missing = NULL;
    m->start_daemon = (s_start_daemon_fn *)s_sym(m->lib, "MHD_start_daemon", &missing);
    m->stop_daemon = (s_stop_daemon_fn *)s_sym(m->lib, "MHD_stop_daemon", &missing);
    m->get_daemon_info = (s_get_daemon_info_fn *)s_sym(m->lib, "MHD_get_daemon_info", &missing);
    m->create_response_from_buffer =
        (s_create_response_fn *)s_sym(m->lib, "MHD_create_response_from_buffer", &missing);
    m->add_response_header = (s_add_header_fn *)s_sym(m->lib, "MHD_add_response_header", &missing);
    m->queue_response = (s_queue_response_fn *)s_sym(m->lib, "MHD_queue_response", &missing);
    m->destroy_response = (s_destroy_response_fn *)s_sym(m->lib, "MHD_destroy_response", &missing);
    if (missing != NULL) {
        snprintf(err, errlen, "%s: %s has no %s", flag, NW_MHD_SONAME, missing);
        dlclose(m->lib);
        m->lib = NULL;
        return NW_ERR_NOTFOUND;
    }
    return NW_OK;
}

int nw_metrics_http_check(const char *flag, const char *value, char *err, size_t errlen)
{
    s_bind_t b;
    return s_parse(flag, value, &b, err, errlen);
}

/* Queues a reply. With MHD_RESPMEM_MUST_FREE the body is given away: libmicrohttpd frees it
 * with the response (whether or not the response could be queued), and this function frees
 * it when no response could be made. */
static enum MHD_Result s_reply(const s_mhd_t *m, struct MHD_Connection *conn, unsigned status,
                               const char *type, void *body, size_t len,
                               enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *resp = m->create_response_from_buffer(len, body, mode);
    if (resp == NULL) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    m->add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result r = m->queue_response(conn, status, resp);
    m->destroy_response(resp);
    return r;
}

/* Runs on libmicrohttpd's thread. */
static enum MHD_Result s_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls)
{
    (void)version;
    (void)upload_data;
    (void)req_cls;
    nw_metrics_http_t *h = cls;
    static char not_found[] = "not found: the metrics are at /metrics\n";
    static char bad_method[] = "only GET\n";
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* a body is ignored */
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") != 0)
        return s_reply(&h->mhd, conn, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
                       sizeof not_found - 1, MHD_RESPMEM_PERSISTENT);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return s_reply(&h->mhd, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", bad_method,
                       sizeof bad_method - 1, MHD_RESPMEM_PERSISTENT);
    nw_buf_t body = {0};
    if (nw_metrics_render(h->metrics, &body) != NW_OK) {
        nw_buf_free(&body);
        return MHD_NO; /* out of memory: drop the connection */
    }
    size_t len = body.len;
    char *data = nw_buf_steal(&body);
    return s_reply(&h->mhd, conn, MHD_HTTP_OK, S_CONTENT_TYPE, data, len, MHD_RESPMEM_MUST_FREE);
}

int nw_metrics_http_start(const char *flag, const char *bind, const nw_metrics_t *metrics,
                          nw_metrics_http_t **out, char *err, size_t errlen)
{
    s_bind_t b;
    int rc = s_parse(flag, bind, &b, err, errlen);
    if (rc != NW_OK)
        return rc;
    nw_metrics_http_t *h = calloc(1, sizeof *h);
    if (h == NULL) {
        snprintf(err, errlen, "%s: out of memory", flag);
        return NW_ERR_NOMEM;
    }
    h->metrics = metrics;
    if ((rc = s_mhd_load(flag, &h->mhd, err, errlen)) != NW_OK) {
        free(h);
        return rc;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
    if (b.addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    h->daemon = h->mhd.start_daemon(flags, 0, NULL, NULL, s_on_request, h, MHD_OPTION_SOCK_ADDR,
                                    (struct sockaddr *)&b.addr, MHD_OPTION_CONNECTION_LIMIT,
                                    (unsigned)S_CONNECTIONS_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
                                    (unsigned)S_TIMEOUT_S, MHD_OPTION_END);
    if (h->daemon == NULL) {
        int e = errno;
        snprintf(err, errlen, "%s %s: cannot listen: %s", flag, bind,
                 e == EADDRINUSE ? "address already in use"
                 : e != 0        ? strerror(e)
                                 : "libmicrohttpd refused it");
        dlclose(h->mhd.lib);
        free(h);
        return NW_ERR_ENDPOINT;
    }
    const union MHD_DaemonInfo *info = h->mhd.get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info != NULL ? info->port : 0;
    nw_log(NW_LOG_INFO, "metrics: listening on http://%s%s%s:%u/metrics",
           b.addr.ss_family == AF_INET6 ? "[" : "", b.host, b.addr.ss_family == AF_INET6 ? "]" : "",
           h->port);
    *out = h;
    return NW_OK;
}

unsigned nw_metrics_http_port(const nw_metrics_http_t *h)
{
    return h->port;
}

void nw_metrics_http_stop(nw_metrics_http_t **h_p)
{
    if (h_p == NULL || *h_p == NULL)
        return;
    (*h_p)->mhd.stop_daemon((*h_p)->daemon);
    dlclose((*h_p)->mhd.lib);
    free(*h_p);
    *h_p = NULL;
}
