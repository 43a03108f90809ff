#include "nw_heartbeat_patch.h"

#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_msgpack_util.h"
#include "nw_utf8.h"

#include <stdint.h>
#include <string.h>

/* What s_pack needs: the original map and the new value. */
typedef struct {
    const msgpack_object_map *map; /* the heartbeat as it came */
    const char *replay;            /* the new "replay" */
} s_patch_t;

static int s_pack(msgpack_packer *pk, const void *obj)
{
    const s_patch_t *p = obj;
    uint32_t n = 1;
    for (uint32_t i = 0; i < p->map->size; i++)
        n += !nw_msgpack_str_is(&p->map->ptr[i].key, "replay");
    int rv = msgpack_pack_map(pk, n);
    for (uint32_t i = 0; i < p->map->size; i++) {
        if (nw_msgpack_str_is(&p->map->ptr[i].key, "replay"))
            continue;
        rv |= msgpack_pack_object(pk, p->map->ptr[i].key);
        rv |= msgpack_pack_object(pk, p->map->ptr[i].val);
    }
    return rv | nw_msgpack_pack_kv_str(pk, "replay", p->replay);
}

int nw_heartbeat_set_replay(const void *data, size_t size, const char *replay, char **out,
                            size_t *out_size)
{
    if (replay == NULL || strlen(replay) > NW_ALERT_FIELD_MAX ||
        !nw_utf8_valid_text(replay, strlen(replay)))
        return NW_ERR_INVAL;
    /* The body must be a heartbeat by every rule the decoder applies. */
    nw_heartbeat_t hb;
    int rv = nw_heartbeat_decode(data, size, &hb);
    if (rv != NW_OK)
        return rv;
    nw_heartbeat_clear(&hb);
    msgpack_unpacked msg;
    msgpack_unpacked_init(&msg);
    rv = nw_msgpack_open(data, size, NW_FRAME_MAX, NW_WIRE_DEPTH_MAX, &msg, NULL, 0, NULL);
    if (rv == NW_OK) {
        s_patch_t patch = {.map = &msg.data.via.map, .replay = replay};
        rv = nw_msgpack_encode(s_pack, &patch, NW_FRAME_MAX, out, out_size);
    }
    msgpack_unpacked_destroy(&msg);
    return rv;
}
