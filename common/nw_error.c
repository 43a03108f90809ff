#include "nw_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

const char *nw_strerror(int code)
{
    switch (code) {
    case NW_OK: return "success";
    case NW_ERR_NOMEM: return "out of memory";
    case NW_ERR_INVAL: return "invalid value";
    case NW_ERR_IO: return "input/output error";
    case NW_ERR_NOTFOUND: return "not found";
    case NW_ERR_NOSPACE: return "no space left on device";
    case NW_ERR_TOOBIG: return "larger than the configured limit";
    case NW_ERR_CONFIG: return "bad configuration";
    case NW_ERR_ZMQ: return "ZeroMQ error";
    case NW_ERR_SYNC: return "written but not synced";
    case NW_ERR_UV: return "event loop error";
    case NW_ERR_ENDPOINT: return "bad or unusable endpoint";
    case NW_ERR_ADDRINUSE: return "address already in use";
    case NW_ERR_TOPIC: return "invalid topic name";
    case NW_ERR_PERM: return "permission denied";
    case NW_ERR_STOPPED: return "stopped";
    case NW_ERR_WIRE_TRUNCATED: return "frame is truncated";
    case NW_ERR_WIRE_TRAILING: return "frame has trailing bytes";
    case NW_ERR_WIRE_TYPE: return "field has the wrong type";
    case NW_ERR_WIRE_MISSING: return "required field is missing";
    case NW_ERR_WIRE_UTF8: return "string is not valid UTF-8";
    case NW_ERR_WIRE_VERSION: return "unsupported protocol version";
    case NW_ERR_WIRE_OVERSIZE: return "frame or field exceeds protocol limit";
    case NW_ERR_WIRE_DEPTH: return "nesting too deep";
    case NW_ERR_WIRE_RANGE: return "value out of range";
    case NW_ERR_WIRE_MALFORMED: return "not MessagePack";
    case NW_ERR_ARTICLE_EMPTY: return "article is empty";
    case NW_ERR_ARTICLE_BINARY: return "article is binary data, not text";
    case NW_ERR_ARTICLE_ENCODING: return "article text encoding is not usable";
    case NW_ERR_ARTICLE_BOILERPLATE: return "article holds only boilerplate";
    case NW_ERR_JOURNAL_CORRUPT: return "journal record is corrupt";
    case NW_ERR_JOURNAL_FULL: return "journal cannot be written";
    default: return "unknown error";
    }
}

int nw_error_from_errno(int errnum)
{
    switch (errnum) {
    case ENOMEM: return NW_ERR_NOMEM;
    case ENOSPC:
    case EDQUOT: return NW_ERR_NOSPACE;
    case ENOENT: return NW_ERR_NOTFOUND;
    case EACCES:
    case EPERM: return NW_ERR_PERM;
    case EADDRINUSE: return NW_ERR_ADDRINUSE;
    case EINVAL: return NW_ERR_INVAL;
    default: return NW_ERR_IO;
    }
}

void nw_error_format(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
