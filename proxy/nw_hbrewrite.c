#include "nw_hbrewrite.h"

#include "nw_codec.h"
#include "nw_heartbeat_patch.h"
#include "nw_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nw_hbrewrite_resolve(const char *advertised, const char *connected, char *out, size_t outlen)
{
    static const char star[] = "tcp://*:";
    int n;
    if (advertised == NULL || advertised[0] == '\0')
        return NW_ERR_NOTFOUND;
    if (strncmp(advertised, star, sizeof star - 1) != 0) {
        n = snprintf(NULL, 0, "%s", advertised);
        if ((size_t)n >= outlen)
            return NW_ERR_TOOBIG;
        memcpy(out, advertised, (size_t)n + 1);
        return NW_OK;
    }
    if (connected == NULL || strncmp(connected, "tcp://", 6) != 0)
        return NW_ERR_ENDPOINT;
    const char *host = connected + 6;
    const char *colon = strrchr(host, ':');
    if (colon == NULL || colon == host)
        return NW_ERR_ENDPOINT;
    n = snprintf(NULL, 0, "tcp://%.*s:%s", (int)(colon - host), host, advertised + sizeof star - 1);
    if ((size_t)n >= outlen)
        return NW_ERR_TOOBIG;
    snprintf(out, outlen, "tcp://%.*s:%s", (int)(colon - host), host, advertised + sizeof star - 1);
    return NW_OK;
}

int nw_hbrewrite(const void *body, size_t size, const char *connected, const char *advertise,
                 nw_hbrewrite_info_t *info, char **out, size_t *out_size)
{
    nw_heartbeat_t hb;
    int rc = nw_heartbeat_decode(body, size, &hb);
    if (rc != NW_OK)
        return rc;
    memset(info, 0, sizeof *info);
    snprintf(info->stream, sizeof info->stream, "%s", hb.stream);
    const char *replay = hb.replay; /* unresolvable: passed on as it came */
    if (nw_hbrewrite_resolve(hb.replay, connected, info->upstream, sizeof info->upstream) == NW_OK)
        replay = advertise != NULL ? advertise : info->upstream;
    /* Patched, not re-encoded: keys this version does not know pass through. */
    rc = nw_heartbeat_set_replay(body, size, replay, out, out_size);
    nw_heartbeat_clear(&hb);
    return rc;
}
