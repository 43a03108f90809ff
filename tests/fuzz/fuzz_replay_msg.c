/* libFuzzer harness: the replay protocol's two bodies (PROTOCOL.md section 12): a request as
 * the publisher decodes it, an end marker as the subscriber decodes it. */
#include "nw_error.h"
#include "nw_replay_msg.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nw_replay_request_t rq;
    if (nw_replay_request_decode(data, size, &rq) == NW_OK) {
        char *body = NULL;
        size_t n = 0;
        if (nw_replay_request_encode(&rq, &body, &n) == NW_OK)
            free(body);
        (void)nw_replay_request_matches(&rq, "tariffs.steel");
    }
    nw_replay_end_t end;
    (void)nw_replay_end_decode(data, size, &end);
    return 0;
}
