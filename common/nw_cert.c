#include "nw_cert.h"

#include "nw_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define S_DEPTH_MAX 8  /* levels of nesting a certificate may use */
#define S_NAME_MAX  64 /* bytes of a ZPL name kept for the path */

static const char s_z85_alphabet[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    ".-:+=^!/*?&<>()[]{}@%$#";

bool nw_cert_key_valid(const char *s)
{
    if (s == NULL || strlen(s) != NW_CERT_Z85_LEN)
        return false;
    for (size_t i = 0; i < NW_CERT_Z85_LEN; i++) {
        if (strchr(s_z85_alphabet, s[i]) == NULL)
            return false;
    }
    /* Z85 characters can still spell a 5-character group above 2^32 - 1, which
     * zmq_z85_decode refuses (found by fuzz_cert). */
    unsigned char key[32];
    return zmq_z85_decode(key, s) != NULL;
}

int nw_cert_key_decode(const char *z85, unsigned char out[32])
{
    if (!nw_cert_key_valid(z85) || zmq_z85_decode(out, z85) == NULL)
        return NW_ERR_INVAL;
    return NW_OK;
}

/* The parser's position: the names of the enclosing sections. */
typedef struct {
    const char *file;                   /* name for messages */
    size_t line;                        /* current line, from 1 */
    size_t depth;                       /* levels open */
    char path[S_DEPTH_MAX][S_NAME_MAX]; /* name at each level */
    nw_cert_t *cert;                    /* what is filled */
    char *err;                          /* message buffer */
    size_t errlen;                      /* its size */
} s_parser_t;

static int s_fail(s_parser_t *p, const char *what)
{
    snprintf(p->err, p->errlen, "%s:%zu: %s", p->file, p->line, what);
    return NW_ERR_CONFIG;
}

static bool s_name_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return !first && strchr("$-_@.&+/", c) != NULL;
}

/* Parses the value after '=' (s points past it) into out. */
static int s_value(s_parser_t *p, const char *s, const char *end, char *out, size_t outlen)
{
    while (s < end && *s == ' ')
        s++;
    const char *v = s, *v_end;
    if (s < end && (*s == '"' || *s == '\'')) {
        char q = *s++;
        v = s;
        while (s < end && *s != q)
            s++;
        if (s == end)
            return s_fail(p, "a quoted value has no closing quote");
        v_end = s++;
    } else {
        while (s < end && *s != ' ' && *s != '#')
            s++;
        v_end = s;
    }
    while (s < end && *s == ' ')
        s++;
    if (s < end && *s != '#')
        return s_fail(p, "unexpected text after the value");
    size_t n = (size_t)(v_end - v);
    if (n >= outlen)
        n = outlen - 1; /* a value longer than a key is caught by the key check */
    memcpy(out, v, n);
    out[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            return s_fail(p, "a value holds a control character");
    }
    return NW_OK;
}

/* Stores a curve key found at curve/NAME. */
static int s_key(s_parser_t *p, const char *name, const char *value)
{
    char *dst = strcmp(name, "public-key") == 0   ? p->cert->public_key
                : strcmp(name, "secret-key") == 0 ? p->cert->secret_key
                                                  : NULL;
    if (dst == NULL)
        return NW_OK;
    if (dst[0] != '\0') {
        char what[96];
        snprintf(what, sizeof what, "%s given twice", name);
        return s_fail(p, what);
    }
    if (!nw_cert_key_valid(value)) {
        char what[96];
        snprintf(what, sizeof what, "%s is not 40 characters of Z85", name);
        return s_fail(p, what);
    }
    snprintf(dst, NW_CERT_Z85_LEN + 1, "%s", value);
    return NW_OK;
}

/* Parses one line (without its end of line). */
static int s_line(s_parser_t *p, const char *s, const char *end)
{
    if (end > s && end[-1] == '\r')
        end--;
    const char *t = s;
    while (t < end && *t == ' ')
        t++;
    if (t == end || *t == '#')
        return NW_OK;
    for (const char *c = s; c < end; c++) {
        if (*c == '\t')
            return s_fail(p, "tabs are not allowed (indent with four spaces)");
    }
    size_t indent = (size_t)(t - s);
    if (indent % 4 != 0)
        return s_fail(p, "indentation is not a multiple of four spaces");
    size_t level = indent / 4;
    if (level > p->depth)
        return s_fail(p, "indented more than one level below the line before");
    if (level >= S_DEPTH_MAX)
        return s_fail(p, "nested too deeply");
    const char *name = t;
    if (!s_name_char(*t, true))
        return s_fail(p, "a name must start with a letter or digit");
    while (t < end && s_name_char(*t, false))
        t++;
    size_t name_len = (size_t)(t - name);
    if (name_len >= S_NAME_MAX)
        return s_fail(p, "name too long");
    memcpy(p->path[level], name, name_len);
    p->path[level][name_len] = '\0';
    p->depth = level + 1;
    while (t < end && *t == ' ')
        t++;
    if (t == end || *t == '#')
        return NW_OK;
    if (*t != '=')
        return s_fail(p, "expected '=' after the name");
    char value[NW_CERT_LINE_MAX];
    int rc = s_value(p, t + 1, end, value, sizeof value);
    if (rc == NW_OK && level == 1 && strcmp(p->path[0], "curve") == 0)
        rc = s_key(p, p->path[1], value);
    return rc;
}

/* Checks that the secret key belongs to the public key. */
static int s_check_pair(s_parser_t *p)
{
    char derived[NW_CERT_Z85_LEN + 1];
    if (zmq_curve_public(derived, p->cert->secret_key) != 0) {
        snprintf(p->err, p->errlen, "%s: cannot check the secret key: %s", p->file,
                 zmq_strerror(errno));
        return NW_ERR_CONFIG;
    }
    if (strcmp(derived, p->cert->public_key) != 0) {
        snprintf(p->err, p->errlen, "%s: the secret key does not belong to the public key",
                 p->file);
        return NW_ERR_CONFIG;
    }
    return NW_OK;
}

int nw_cert_parse(const char *text, size_t len, const char *name, nw_cert_t *cert, char *err,
                  size_t errlen)
{
    s_parser_t p = {
        .file = name ? name : "certificate", .cert = cert, .err = err, .errlen = errlen};
    memset(cert, 0, sizeof *cert);
    if (len > NW_CERT_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes: not a certificate", p.file,
                 NW_CERT_FILE_MAX);
        return NW_ERR_TOOBIG;
    }
    const char *s = text, *end = text + len;
    while (s < end) {
        p.line++;
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        const char *line_end = eol ? eol : end;
        if ((size_t)(line_end - s) > NW_CERT_LINE_MAX)
            return s_fail(&p, "line longer than 1024 bytes");
        if (memchr(s, '\0', (size_t)(line_end - s)) != NULL)
            return s_fail(&p, "a NUL byte: not a text file");
        int rc = s_line(&p, s, line_end);
        if (rc != NW_OK)
            return rc;
        s = eol ? eol + 1 : end;
    }
    if (cert->public_key[0] == '\0') {
        snprintf(err, errlen, "%s: no curve/public-key: not a CURVE certificate", p.file);
        return NW_ERR_CONFIG;
    }
    return cert->secret_key[0] != '\0' ? s_check_pair(&p) : NW_OK;
}

int nw_cert_load(const char *path, bool want_secret, nw_cert_t *cert, char *err, size_t errlen)
{
    memset(cert, 0, sizeof *cert);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return nw_error_from_errno(e);
    }
    struct stat st;
    int rc = NW_OK;
    char *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        rc = NW_ERR_IO;
        goto done;
    }
    if (st.st_size > NW_CERT_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes: not a certificate", path,
                 NW_CERT_FILE_MAX);
        rc = NW_ERR_TOOBIG;
        goto done;
    }
    if ((buf = malloc(NW_CERT_FILE_MAX + 1)) == NULL) {
        rc = NW_ERR_NOMEM;
        snprintf(err, errlen, "%s: %s", path, nw_strerror(rc));
        goto done;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, NW_CERT_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            rc = NW_ERR_IO;
            goto done;
        }
        if (n == 0 || (len += (size_t)n) > NW_CERT_FILE_MAX)
            break;
    }
    if ((rc = nw_cert_parse(buf, len, path, cert, err, errlen)) == NW_OK && want_secret &&
        cert->secret_key[0] == '\0') {
        snprintf(err, errlen,
                 "%s: no curve/secret-key: this is a public certificate; give the "
                 "NAME.key_secret file",
                 path);
        rc = NW_ERR_CONFIG;
    }
done:
    free(buf);
    close(fd);
    return rc;
}

int nw_cert_generate(nw_cert_t *cert)
{
    memset(cert, 0, sizeof *cert);
    return zmq_curve_keypair(cert->public_key, cert->secret_key) == 0 ? NW_OK : NW_ERR_ZMQ;
}

/* Writes one certificate file; refuses to replace an existing one. */
static int s_write(const char *path, mode_t mode, const nw_cert_t *cert, bool secret, char *err,
                   size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path,
                 e == EEXIST ? "already exists; not replaced" : strerror(e));
        return e == EEXIST ? NW_ERR_INVAL : nw_error_from_errno(e);
    }
    char stamp[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) != NULL)
        strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S UTC", &tm);
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "#   ****  Generated on %s by newswire-keygen  ****\n"
                     "#   ZeroMQ CURVE %s Certificate\n"
                     "#   %s\n"
                     "\n"
                     "metadata\n"
                     "curve\n"
                     "    public-key = \"%s\"\n"
                     "%s%s%s",
                     stamp, secret ? "**Secret**" : "Public",
                     secret ? "DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions."
                            : "Exchange securely, or verify its contents after the exchange.",
                     cert->public_key, secret ? "    secret-key = \"" : "",
                     secret ? cert->secret_key : "", secret ? "\"\n" : "");
    int rc = NW_OK;
    if (fchmod(fd, mode) != 0 || write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = NW_ERR_IO;
    }
    if (close(fd) != 0 && rc == NW_OK) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = NW_ERR_IO;
    }
    if (rc != NW_OK)
        unlink(path);
    return rc;
}

int nw_cert_save(const char *base, const nw_cert_t *cert, char *err, size_t errlen)
{
    char pub[4096], sec[4096];
    if ((size_t)snprintf(pub, sizeof pub, "%s.key", base) >= sizeof pub ||
        (size_t)snprintf(sec, sizeof sec, "%s.key_secret", base) >= sizeof sec) {
        snprintf(err, errlen, "%s: name too long", base);
        return NW_ERR_INVAL;
    }
    if (!nw_cert_key_valid(cert->public_key) || !nw_cert_key_valid(cert->secret_key)) {
        snprintf(err, errlen, "%s: not a complete key pair", base);
        return NW_ERR_INVAL;
    }
    int rc = s_write(sec, 0600, cert, true, err, errlen);
    if (rc == NW_OK && (rc = s_write(pub, 0644, cert, false, err, errlen)) != NW_OK)
        unlink(sec);
    return rc;
}
