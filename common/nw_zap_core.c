#include "nw_zap_core.h"

#include "nw_cert.h"
#include "nw_error.h"
#include "nw_log.h"
#include "nw_ratelimit.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_KEY_LEN    32    /* bytes of a CURVE public key */
#define S_FRAMES_MAX 8     /* frames of a ZAP request kept (more are counted) */
#define S_LOG_WINDOW 60000 /* ms: NW_ZAP_LOG_BURST refusal lines per window */
#define S_ADDR_MAX   64    /* bytes of a peer address kept */

/* A refused client, remembered so it is logged once. */
typedef struct {
    unsigned char key[S_KEY_LEN]; /* its public key */
    char address[S_ADDR_MAX];     /* its address */
} s_seen_t;

struct nw_zap_core_t {
    void *sock;            /* REP on NW_ZAP_ENDPOINT, owned */
    char *dir;             /* the --curve-allow folder, owned */
    unsigned char *keys;   /* sorted allowlist, n_keys * S_KEY_LEN bytes, owned */
    size_t n_keys;         /* keys in it */
    s_seen_t *seen;        /* ring of refused pairs already logged, NW_ZAP_SEEN_MAX */
    size_t n_seen;         /* entries used */
    size_t next_seen;      /* ring position of the next entry */
    nw_ratelimit_t log_rl; /* refusal lines: NW_ZAP_LOG_BURST per window */
};

static int s_key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, S_KEY_LEN);
}

/* Adds one certificate file's key to the list; a bad file is logged and skipped. */
static void s_add_file(const char *dir, const char *name, unsigned char *keys, size_t *n)
{
    char path[4096], err[1024];
    nw_cert_t cert;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (nw_cert_load(path, false, &cert, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_WARN, "--curve-allow %s; skipped", err);
        return;
    }
    if (nw_cert_key_decode(cert.public_key, keys + *n * S_KEY_LEN) == NW_OK)
        (*n)++;
}

static bool s_is_public_cert(const char *name)
{
    size_t len = strlen(name);
    return name[0] != '.' && len > 4 && strcmp(name + len - 4, ".key") == 0;
}

/* Reads every NAME.key of dir into a new sorted key array. */
static int s_read_dir(const char *dir, unsigned char **keys_out, size_t *n_out, char *err,
                      size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        int e = errno;
        snprintf(err, errlen, "--curve-allow %s: %s", dir, strerror(e));
        return nw_error_from_errno(e);
    }
    size_t cap = 64, n = 0;
    unsigned char *keys = malloc(cap * S_KEY_LEN);
    struct dirent *de;
    int rc = keys ? NW_OK : NW_ERR_NOMEM;
    while (rc == NW_OK && (de = readdir(d)) != NULL) {
        if (!s_is_public_cert(de->d_name))
            continue;
        if (n == NW_ZAP_KEYS_MAX) {
            nw_log(NW_LOG_WARN, "--curve-allow %s: more than %d certificates; the rest ignored",
                   dir, NW_ZAP_KEYS_MAX);
            break;
        }
        if (n == cap) {
            unsigned char *more = realloc(keys, cap * 2 * S_KEY_LEN);
            if (more == NULL) {
                rc = NW_ERR_NOMEM;
                break;
            }
            keys = more;
            cap *= 2;
        }
        s_add_file(dir, de->d_name, keys, &n);
    }
    closedir(d);
    if (rc != NW_OK) {
        snprintf(err, errlen, "--curve-allow %s: %s", dir, nw_strerror(rc));
        free(keys);
        return rc;
    }
    qsort(keys, n, S_KEY_LEN, s_key_cmp);
    *keys_out = keys;
    *n_out = n;
    return NW_OK;
}

static bool s_allowed(const nw_zap_core_t *zap, const unsigned char *key)
{
    return zap->n_keys > 0 && bsearch(key, zap->keys, zap->n_keys, S_KEY_LEN, s_key_cmp) != NULL;
}

/* Returns true the first time (key, address) is refused, remembering it. */
static bool s_first_refusal(nw_zap_core_t *zap, const unsigned char *key, const char *address)
{
    for (size_t i = 0; i < zap->n_seen; i++) {
        if (memcmp(zap->seen[i].key, key, S_KEY_LEN) == 0 &&
            strcmp(zap->seen[i].address, address) == 0)
            return false;
    }
    s_seen_t *slot = &zap->seen[zap->next_seen];
    memcpy(slot->key, key, S_KEY_LEN);
    snprintf(slot->address, sizeof slot->address, "%s", address);
    zap->next_seen = (zap->next_seen + 1) % NW_ZAP_SEEN_MAX;
    if (zap->n_seen < NW_ZAP_SEEN_MAX)
        zap->n_seen++;
    return true;
}

static void s_log_refusal(nw_zap_core_t *zap, const unsigned char *key, const char *address,
                          uint64_t now)
{
    if (!s_first_refusal(zap, key, address))
        return;
    uint64_t count;
    if (!nw_ratelimit_hit(&zap->log_rl, (int64_t)now, &count))
        return;
    char z85[NW_CERT_Z85_LEN + 1], held[96] = "";
    zmq_z85_encode(z85, key, S_KEY_LEN);
    if (count > 0)
        snprintf(held, sizeof held, " (%llu more refused clients not logged before this)",
                 (unsigned long long)count);
    nw_log(NW_LOG_WARN, "curve: refused client key %s from %s (not in --curve-allow %s)%s", z85,
           address, zap->dir, held);
}

/* Sends the five-frame reply; user_id ("" for none) becomes the connection's "User-Id"
 * property. */
static void s_reply(void *sock, const zmq_msg_t *request_id, const char *code, const char *text,
                    const char *user_id)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(sock, zmq_msg_data((zmq_msg_t *)request_id), zmq_msg_size((zmq_msg_t *)request_id),
             ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(sock, code, strlen(code), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(sock, user_id, strlen(user_id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(sock, "", 0, ZMQ_DONTWAIT); /* metadata */
}

/* Decides one request: frames are version, request id, domain, address, identity,
 * mechanism, credentials. */
static void s_decide(nw_zap_core_t *zap, void *sock, zmq_msg_t *f, size_t n, uint64_t now)
{
    if (n < 6 || n > 7 || zmq_msg_size(&f[0]) != 3 || memcmp(zmq_msg_data(&f[0]), "1.0", 3) != 0) {
        nw_log(NW_LOG_WARN, "curve: malformed ZAP request (%zu frames); refused", n);
        if (n >= 2)
            s_reply(sock, &f[1], "500", "malformed request", "");
        return;
    }
    char address[S_ADDR_MAX];
    size_t alen = zmq_msg_size(&f[3]) < sizeof address ? zmq_msg_size(&f[3]) : sizeof address - 1;
    memcpy(address, zmq_msg_data(&f[3]), alen);
    address[alen] = '\0';
    bool curve = zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0;
    if (!curve || n < 7 || zmq_msg_size(&f[6]) != S_KEY_LEN) {
        s_reply(sock, &f[1], "400", "CURVE required", "");
        return;
    }
    const unsigned char *key = zmq_msg_data(&f[6]);
    if (s_allowed(zap, key)) {
        char z85[NW_CERT_Z85_LEN + 1];
        zmq_z85_encode(z85, key, S_KEY_LEN);
        s_reply(sock, &f[1], "200", "OK", z85); /* User-Id: the key, for per-client limits */
        return;
    }
    s_log_refusal(zap, key, address, now);
    s_reply(sock, &f[1], "400", "key not allowed", "");
}

bool nw_zap_core_handle(nw_zap_core_t *zap, uint64_t now_ms)
{
    zmq_msg_t f[S_FRAMES_MAX];
    size_t n = 0;
    bool more = true, whole = false;
    while (more) {
        zmq_msg_t *m = &f[n < S_FRAMES_MAX ? n : S_FRAMES_MAX - 1];
        if (n >= S_FRAMES_MAX)
            zmq_msg_close(m); /* keep the first frames; the last slot is reused */
        zmq_msg_init(m);
        if (zmq_msg_recv(m, zap->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(m);
            break;
        }
        more = zmq_msg_more(m);
        whole = !more;
        n++;
    }
    size_t kept = n < S_FRAMES_MAX ? n : S_FRAMES_MAX;
    if (whole)
        s_decide(zap, zap->sock, f, n, now_ms); /* n > 7 is refused before f[2..] is read */
    for (size_t i = 0; i < kept; i++)
        zmq_msg_close(&f[i]);
    return n > 0;
}

static void s_free(nw_zap_core_t *zap)
{
    free(zap->keys);
    free(zap->seen);
    free(zap->dir);
    free(zap);
}

int nw_zap_core_open(void *zctx, const char *allow_dir, nw_zap_core_t **out, char *err,
                     size_t errlen)
{
    *out = NULL;
    nw_zap_core_t *zap = calloc(1, sizeof *zap);
    if (zap == NULL || (zap->dir = strdup(allow_dir)) == NULL ||
        (zap->seen = calloc(NW_ZAP_SEEN_MAX, sizeof *zap->seen)) == NULL) {
        snprintf(err, errlen, "--curve-allow: %s", nw_strerror(NW_ERR_NOMEM));
        if (zap != NULL)
            s_free(zap);
        return NW_ERR_NOMEM;
    }
    zap->log_rl = (nw_ratelimit_t){.period_ms = S_LOG_WINDOW, .burst = NW_ZAP_LOG_BURST};
    int rc = s_read_dir(allow_dir, &zap->keys, &zap->n_keys, err, errlen);
    if (rc != NW_OK) {
        s_free(zap);
        return rc;
    }
    int linger = 0;
    if ((zap->sock = zmq_socket(zctx, ZMQ_REP)) == NULL ||
        zmq_setsockopt(zap->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(zap->sock, NW_ZAP_ENDPOINT) != 0) {
        snprintf(err, errlen, "--curve-allow: cannot bind the ZAP handler %s: %s", NW_ZAP_ENDPOINT,
                 zmq_strerror(errno));
        if (zap->sock != NULL)
            zmq_close(zap->sock);
        s_free(zap);
        return NW_ERR_ZMQ;
    }
    nw_log(NW_LOG_INFO, "curve: %zu client keys allowed (--curve-allow %s)", zap->n_keys,
           allow_dir);
    *out = zap;
    return NW_OK;
}

void *nw_zap_core_socket(const nw_zap_core_t *zap)
{
    return zap->sock;
}

int nw_zap_core_reload(nw_zap_core_t *zap)
{
    char err[1024];
    unsigned char *keys = NULL;
    size_t n = 0;
    int rc = s_read_dir(zap->dir, &keys, &n, err, sizeof err);
    if (rc != NW_OK) {
        nw_log(NW_LOG_ERROR, "reload: %s; keeping the previous %zu client keys", err, zap->n_keys);
        return rc;
    }
    free(zap->keys);
    zap->keys = keys;
    zap->n_keys = n;
    /* A key refused before may be allowed now, and refused again later: log it anew. */
    zap->n_seen = 0;
    zap->next_seen = 0;
    nw_log(NW_LOG_INFO, "curve: allowlist reloaded from %s (%zu keys)", zap->dir, n);
    return NW_OK;
}

void nw_zap_core_destroy(nw_zap_core_t **zap_p)
{
    if (zap_p == NULL || *zap_p == NULL)
        return;
    nw_zap_core_t *zap = *zap_p;
    *zap_p = NULL;
    zmq_close(zap->sock);
    s_free(zap);
}
