#include "nw_curve.h"

#include "nw_buf.h"
#include "nw_error.h"
#include "nw_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

int nw_curve_server_apply(void *sock, const nw_cert_t *server, char *err, size_t errlen)
{
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, server->secret_key, NW_CERT_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, NW_CURVE_ZAP_DOMAIN, strlen(NW_CURVE_ZAP_DOMAIN)) !=
            0) {
        snprintf(err, errlen, "cannot make a CURVE server: %s%s", zmq_strerror(errno),
                 zmq_has("curve") ? "" : " (this libzmq has no CURVE)");
        return NW_ERR_ZMQ;
    }
    return NW_OK;
}

int nw_curve_client_load(const char *server_path, const char *secret_path, nw_curve_client_t *out,
                         char *err, size_t errlen)
{
    char why[1024];
    nw_cert_t server;
    memset(out, 0, sizeof *out);
    int rc = nw_cert_load(server_path, false, &server, why, sizeof why);
    if (rc != NW_OK) {
        snprintf(err, errlen, "--curve-server-key %s", why);
        return rc;
    }
    memcpy(out->server_key, server.public_key, sizeof out->server_key);
    if (secret_path == NULL) {
        out->ephemeral = true;
        if ((rc = nw_cert_generate(&out->client)) != NW_OK)
            snprintf(err, errlen, "cannot make a CURVE key pair: %s", zmq_strerror(errno));
        return rc;
    }
    if ((rc = nw_cert_load(secret_path, true, &out->client, why, sizeof why)) != NW_OK)
        snprintf(err, errlen, "--curve-secret %s", why);
    return rc;
}

int nw_curve_client_apply(void *sock, const nw_curve_client_t *c)
{
    if (c == NULL)
        return NW_OK;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, c->server_key, NW_CERT_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, c->client.public_key, NW_CERT_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, c->client.secret_key, NW_CERT_Z85_LEN) != 0)
        return NW_ERR_ZMQ;
    return NW_OK;
}

bool nw_curve_endpoint_local(const char *endpoint)
{
    static const char *const local[] = {
        "ipc://", "inproc://", "tcp://[::1]:", "tcp://localhost:", "tcp://127.", NULL};
    for (size_t i = 0; local[i] != NULL; i++) {
        if (strncmp(endpoint, local[i], strlen(local[i])) == 0)
            return true;
    }
    return false;
}

void nw_curve_client_hint(const nw_curve_client_t *c, char *buf, size_t len)
{
    snprintf(buf, len,
             "that --curve-server-key holds this publisher's public key (%.8s...) and that its "
             "--curve-allow folder holds this subscriber's public key (%.8s...%s)",
             c->server_key, c->client.public_key,
             c->ephemeral ? ", made for this run: only a publisher without --curve-allow takes it"
                          : "");
}

void nw_curve_warn_exposed(const char *const *binds, size_t n, const char *replay)
{
    nw_buf_t exposed = {0};
    for (size_t i = 0; i <= n; i++) {
        const char *ep = i < n ? binds[i] : replay;
        if (ep != NULL && !nw_curve_endpoint_local(ep))
            nw_buf_printf(&exposed, "%s%s", exposed.len ? ", " : "", ep);
    }
    if (exposed.len > 0)
        nw_log(NW_LOG_WARN,
               "%s: not loopback and no --curve-secret: anyone who can reach it reads every alert "
               "and replays the journal",
               exposed.data);
    nw_buf_free(&exposed);
}
