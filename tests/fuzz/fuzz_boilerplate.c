/* libFuzzer harness: a --boilerplate rules file, parsed, then applied to one fixed page
 * (rule cost is bounded: a rule must not make an article take seconds, finding F11). */
#include "nw_boilerplate.h"
#include "nw_error.h"
#include "nw_ingest.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char s_page[] = "World | Trade\nSteel Tariffs Rise\nBy Dana Reyes\n"
                             "Photo: Reuters aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\n"
                             "The trade pact cuts tariffs on steel imports.\n\n"
                             "How useful was this article?\nClick on a star to rate it!\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nw_boilerplate_t *rules = NULL;
    char err[512];
    if (nw_boilerplate_parse((const char *)data, size, "fuzz.conf", &rules, err, sizeof err) !=
        NW_OK)
        return 0;
    static nw_taxonomy_t *tax;
    if (tax == NULL && nw_ingest_load_taxonomy(NULL, &tax, err, sizeof err) != NW_OK)
        abort(); /* kept for the life of the process */
    nw_ingest_cfg_t cfg = {.rules = rules, .taxonomy = tax};
    nw_ingest_result_t res;
    if (nw_ingest_bytes(&cfg, "a.txt", s_page, strlen(s_page), 1, &res, err, sizeof err) == NW_OK)
        nw_ingest_result_clear(&res);
    nw_boilerplate_destroy(&rules);
    return 0;
}
