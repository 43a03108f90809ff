/* libFuzzer harness: a received frame 2, as the subscriber handles it: the bounds walker,
 * then the alert and heartbeat decoders (which must agree with it on what they accept). */
#include "nw_alert.h"
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_wire_check.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int checked = nw_wire_check(data, size, NW_WIRE_DEPTH_MAX);
    nw_alert_t alert;
    if (nw_alert_decode(data, size, &alert) == NW_OK) {
        if (checked != NW_OK)
            abort(); /* the decoder accepted what the walker refused */
        char *again = NULL;
        size_t n = 0;
        if (nw_alert_encode(&alert, &again, &n) == NW_OK)
            free(again);
        nw_alert_clear(&alert);
    }
    nw_heartbeat_t hb;
    if (nw_heartbeat_decode(data, size, &hb) == NW_OK) {
        if (checked != NW_OK)
            abort();
        nw_heartbeat_clear(&hb);
    }
    return 0;
}
