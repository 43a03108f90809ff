#include "nw_zap.h"

#include "nw_error.h"
#include "nw_zwatch.h"

#include <stdio.h>
#include <stdlib.h>

struct nw_zap_t {
    uv_loop_t *loop;     /* the daemon's loop */
    nw_zap_core_t *core; /* the decisions and the REP socket, owned */
    nw_zwatch_t *watch;  /* requests arriving */
};

static void s_on_readable(nw_zwatch_t *watch, void *zsock, void *arg)
{
    nw_zap_t *zap = arg;
    (void)watch;
    (void)zsock;
    nw_zap_core_handle(zap->core, uv_now(zap->loop));
    nw_zwatch_kick(zap->watch); /* the reply may have consumed the fd's edge */
}

static void s_on_watch_closed(void *arg)
{
    nw_zap_t *zap = arg;
    nw_zap_core_destroy(&zap->core);
    free(zap);
}

int nw_zap_new(uv_loop_t *loop, void *zctx, const char *allow_dir, nw_zap_t **out, char *err,
               size_t errlen)
{
    *out = NULL;
    nw_zap_t *zap = calloc(1, sizeof *zap);
    if (zap == NULL) {
        snprintf(err, errlen, "--curve-allow: %s", nw_strerror(NW_ERR_NOMEM));
        return NW_ERR_NOMEM;
    }
    zap->loop = loop;
    int rc = nw_zap_core_open(zctx, allow_dir, &zap->core, err, errlen);
    if (rc != NW_OK) {
        free(zap);
        return rc;
    }
    if ((rc = nw_zwatch_new(loop, nw_zap_core_socket(zap->core), 0, s_on_readable, zap,
                            &zap->watch)) != NW_OK ||
        (rc = nw_zwatch_start(zap->watch)) != NW_OK) {
        snprintf(err, errlen, "--curve-allow: cannot watch the ZAP handler: %s", nw_strerror(rc));
        if (zap->watch != NULL) {
            nw_zwatch_close(&zap->watch, s_on_watch_closed, zap);
            return rc;
        }
        nw_zap_core_destroy(&zap->core);
        free(zap);
        return rc;
    }
    *out = zap;
    return NW_OK;
}

int nw_zap_reload(nw_zap_t *zap)
{
    return nw_zap_core_reload(zap->core);
}

void nw_zap_close(nw_zap_t **zap_p)
{
    if (zap_p == NULL || *zap_p == NULL)
        return;
    nw_zap_t *zap = *zap_p;
    *zap_p = NULL;
    nw_zwatch_close(&zap->watch, s_on_watch_closed, zap);
}
