/*
 * nw_error: the one error model of newswire.
 *
 * Every fallible function returns NW_OK (0) on success or one of the
 * negative codes below. nw_strerror() turns a code into a short English
 * phrase suitable for a log line; callers add the file, field or flag.
 */
#ifndef NW_ERROR_H
#define NW_ERROR_H

#include <stddef.h>

enum {
    NW_OK = 0,

    /* general */
    NW_ERR_NOMEM = -1,      /* out of memory */
    NW_ERR_INVAL = -2,      /* invalid argument or value */
    NW_ERR_IO = -3,         /* a read or write failed */
    NW_ERR_NOTFOUND = -4,   /* no such file or item */
    NW_ERR_NOSPACE = -5,    /* no space left on the device */
    NW_ERR_TOOBIG = -6,     /* input larger than the configured limit */
    NW_ERR_CONFIG = -7,     /* a configuration or taxonomy file is wrong */
    NW_ERR_ZMQ = -8,        /* a ZeroMQ call failed */
    NW_ERR_UV = -9,         /* a libuv call failed */
    NW_ERR_ENDPOINT = -10,  /* endpoint is malformed or unusable */
    NW_ERR_ADDRINUSE = -11, /* endpoint address already in use */
    NW_ERR_TOPIC = -12,     /* topic name breaks the naming rule */
    NW_ERR_PERM = -13,      /* permission denied */
    NW_ERR_STOPPED = -14,   /* the component was asked to stop */
    NW_ERR_SYNC = -15,      /* written, but could not be synced to disk */

    /* decoding a wire frame (proto/) */
    NW_ERR_WIRE_TRUNCATED = -20, /* frame ends inside a value */
    NW_ERR_WIRE_TRAILING = -21,  /* bytes left after the top-level map */
    NW_ERR_WIRE_TYPE = -22,      /* a field has the wrong MessagePack type */
    NW_ERR_WIRE_MISSING = -23,   /* a required field is absent */
    NW_ERR_WIRE_UTF8 = -24,      /* a string is not valid UTF-8 */
    NW_ERR_WIRE_VERSION = -25,   /* unknown major protocol version */
    NW_ERR_WIRE_OVERSIZE = -26,  /* frame or field exceeds a protocol limit */
    NW_ERR_WIRE_DEPTH = -27,     /* nesting deeper than the protocol allows */
    NW_ERR_WIRE_RANGE = -28,     /* a value of the right type is out of range */
    NW_ERR_WIRE_MALFORMED = -29, /* bytes that are not MessagePack at all */

    /* articles (publisher/) */
    NW_ERR_ARTICLE_EMPTY = -40,       /* no text at all */
    NW_ERR_ARTICLE_BINARY = -41,      /* looks like binary data, not text */
    NW_ERR_ARTICLE_ENCODING = -42,    /* not UTF-8 and not usable as Latin-1 */
    NW_ERR_ARTICLE_BOILERPLATE = -43, /* nothing left once boilerplate is dropped */

    /* journal and replay (publisher/) */
    NW_ERR_JOURNAL_CORRUPT = -60, /* a record failed its checksum or framing */
    NW_ERR_JOURNAL_FULL = -61,    /* journal cannot be written; publishing paused */
};

/* Returns a static, never-NULL description of code (an NW_ERR_* value or NW_OK).
 * Unknown codes give "unknown error". */
const char *nw_strerror(int code);

/* Writes a printf-style message into err (errlen bytes, always terminated). Does nothing when
 * err is NULL or errlen is 0, so callers may pass an optional error buffer straight through. */
void nw_error_format(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Maps a positive errno value to the closest NW_ERR_* code (ENOMEM -> NW_ERR_NOMEM,
 * ENOSPC/EDQUOT -> NW_ERR_NOSPACE, ENOENT -> NW_ERR_NOTFOUND, EACCES/EPERM ->
 * NW_ERR_PERM, EADDRINUSE -> NW_ERR_ADDRINUSE, anything else -> NW_ERR_IO). */
int nw_error_from_errno(int errnum);

#endif
