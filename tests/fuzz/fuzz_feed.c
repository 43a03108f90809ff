/* libFuzzer harness: bytes as an RSS 2.0 or Atom 1.0 document through the feed parser
 * (libxml2, no network, no entity expansion) and its HTML-to-text for item content. */
#include "nw_error.h"
#include "nw_feed_parse.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nw_feed_item_t *items = NULL;
    size_t n = 0;
    char err[512];
    if (nw_feed_parse((const char *)data, size, "fuzz", &items, &n, err, sizeof err) == NW_OK)
        nw_feed_items_free(&items, n);
    char *text = NULL;
    if (nw_feed_html_text((const char *)data, size, &text) == NW_OK)
        free(text);
    return 0;
}
