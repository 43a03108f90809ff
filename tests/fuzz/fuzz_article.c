/* libFuzzer harness: an article's bytes through the whole pure pipeline (reader with the
 * built-in boilerplate rules, splitter, tagger with the built-in taxonomy, the encode
 * check), as the publisher ingests a spool file. */
#include "nw_error.h"
#include "nw_ingest.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nw_ingest_cfg_t s_cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (s_cfg.rules == NULL) {
        nw_boilerplate_t *rules = NULL;
        nw_taxonomy_t *tax = NULL;
        char err[256];
        if (nw_ingest_load_rules(NULL, &rules, err, sizeof err) != NW_OK ||
            nw_ingest_load_taxonomy(NULL, &tax, err, sizeof err) != NW_OK)
            abort();
        s_cfg.rules = rules; /* kept for the life of the process */
        s_cfg.taxonomy = tax;
        s_cfg.max_size = 1u << 20;
    }
    nw_ingest_result_t res;
    char err[512];
    if (nw_ingest_bytes(&s_cfg, "fuzz.txt", (const char *)data, size, 1, &res, err, sizeof err) ==
        NW_OK)
        nw_ingest_result_clear(&res);
    return 0;
}
