/* libFuzzer harness: a --state file, as the subscriber opens it at start (written to a file
 * of this process's own, then nw_state_open), then saved again. */
#include "nw_error.h"
#include "nw_state.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/nw-fuzz-state.%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    nw_state_t *s = NULL;
    char err[256];
    if (nw_state_open(path, &s, err, sizeof err) == NW_OK) {
        const char *cur = nw_state_current(s);
        if (cur != NULL)
            (void)nw_state_handled(s, cur, 7);
        (void)nw_state_save(s, err, sizeof err);
        nw_state_destroy(&s);
    }
    unlink(path);
    return 0;
}
