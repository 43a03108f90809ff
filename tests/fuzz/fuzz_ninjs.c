/* libFuzzer harness: bytes as a ninjs document through the ninjs reader (jansson, and the
 * HTML reader for body_html). */
#include "nw_article.h"
#include "nw_error.h"
#include "nw_ninjs.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nw_article_t article;
    char err[512];
    if (nw_ninjs_read((const char *)data, size, NULL, &article, err, sizeof err) == NW_OK)
        nw_article_clear(&article);
    return 0;
}
