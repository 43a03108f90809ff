/*
 * nw_cert: CURVE certificates in the ZPL file format that CZMQ's zcert and
 * pyzmq's zmq.auth write and read (RFC 4, ZPL; RFC 26, CURVE).
 *
 * A public certificate NAME.key holds the public key; the secret certificate
 * NAME.key_secret holds both keys and is created with mode 0600:
 *
 *     #   ZeroMQ CURVE **Secret** Certificate
 *     metadata
 *         name = "alerts"
 *     curve
 *         public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
 *         secret-key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
 *
 * Keys are 40 characters of Z85. The reader is a strict subset of ZPL, bounded
 * (NW_CERT_FILE_MAX bytes, NW_CERT_LINE_MAX bytes per line): comments (#) and
 * blank lines, "name" or "name = value" lines indented by four spaces per
 * level, values bare or in single or double quotes. Only curve/public-key and
 * curve/secret-key are used; anything else is checked and ignored. A secret
 * key must belong to its public key (checked with zmq_curve_public).
 */
#ifndef NW_CERT_H
#define NW_CERT_H

#include <stdbool.h>
#include <stddef.h>

#define NW_CERT_Z85_LEN  40          /* characters of a key in Z85 */
#define NW_CERT_FILE_MAX (64 * 1024) /* bytes of a certificate file */
#define NW_CERT_LINE_MAX 1024        /* bytes of one line */

typedef struct {
    char public_key[NW_CERT_Z85_LEN + 1]; /* Z85, NUL-terminated */
    char secret_key[NW_CERT_Z85_LEN + 1]; /* Z85, or "" in a public certificate */
} nw_cert_t;

/* Parses len bytes of certificate text; name (a file name) starts every error message.
 * Returns NW_OK with *cert filled, or NW_ERR_CONFIG with err naming the line and what is
 * wrong ("alice.key:7: public-key is not 40 characters of Z85"), or NW_ERR_TOOBIG. */
int nw_cert_parse(const char *text, size_t len, const char *name, nw_cert_t *cert, char *err,
                  size_t errlen);

/* Reads and parses the file at path (at most NW_CERT_FILE_MAX bytes, a regular file).
 * want_secret: the file must hold a secret key. Returns NW_OK, NW_ERR_NOTFOUND, NW_ERR_PERM,
 * NW_ERR_IO, NW_ERR_TOOBIG or NW_ERR_CONFIG, with err naming the file. */
int nw_cert_load(const char *path, bool want_secret, nw_cert_t *cert, char *err, size_t errlen);

/* Makes a new key pair (zmq_curve_keypair). Returns NW_OK or NW_ERR_ZMQ (libzmq without
 * CURVE). */
int nw_cert_generate(nw_cert_t *cert);

/* Writes base.key (public, mode 0644) and base.key_secret (both keys, mode 0600) in the
 * format above, refusing to replace an existing file. Returns NW_OK, or NW_ERR_IO /
 * NW_ERR_PERM / NW_ERR_INVAL (a file exists) with err naming the file; on failure no
 * half-written file is left. */
int nw_cert_save(const char *base, const nw_cert_t *cert, char *err, size_t errlen);

/* Returns true when s is exactly 40 characters of the Z85 alphabet that decode to 32 bytes
 * (each 5-character group at most 2^32 - 1). */
bool nw_cert_key_valid(const char *s);

/* Writes the 32 bytes of a Z85 key into out. Returns NW_OK or NW_ERR_INVAL. */
int nw_cert_key_decode(const char *z85, unsigned char out[32]);

#endif
