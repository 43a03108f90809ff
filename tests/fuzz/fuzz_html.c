/* libFuzzer harness: bytes as a web page through the HTML reader (libxml2's parser, the
 * content scoring, the built-in markup rules). Article body fragments are reached through
 * ninjs body_html (fuzz_ninjs). */
#include "nw_article.h"
#include "nw_error.h"
#include "nw_html.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nw_article_t article;
    char err[512];
    if (nw_html_extract((const char *)data, size, NULL, &article, err, sizeof err) == NW_OK)
        nw_article_clear(&article);
    return 0;
}
