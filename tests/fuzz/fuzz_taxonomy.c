/* libFuzzer harness: a --topics file, parsed, then used to tag one fixed article. */
#include "nw_error.h"
#include "nw_ingest.h"
#include "nw_taxonomy.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char s_text[] = "Steel Tariffs Rise\n\nThe trade pact cuts tariffs on steel "
                             "imports; defense ministers met on energy and oil markets.\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nw_taxonomy_t *tax = NULL;
    char err[512];
    if (nw_taxonomy_parse((const char *)data, size, "fuzz.conf", &tax, err, sizeof err) != NW_OK)
        return 0;
    nw_ingest_cfg_t cfg = {.taxonomy = tax};
    nw_ingest_result_t res;
    if (nw_ingest_bytes(&cfg, "a.txt", s_text, strlen(s_text), 1, &res, err, sizeof err) == NW_OK)
        nw_ingest_result_clear(&res);
    nw_taxonomy_destroy(&tax);
    return 0;
}
