/* libFuzzer harness: a --format template (the input up to its first NUL), compiled, then
 * used to print one alert whose text holds terminal escapes. */
#include "nw_alert.h"
#include "nw_buf.h"
#include "nw_error.h"
#include "nw_format.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nw_alert_t s_alert;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (s_alert.id == NULL) {
        if (nw_alert_init(&s_alert) != NW_OK || nw_alert_set(&s_alert.id, "0123456789abcdef.1") ||
            nw_alert_set(&s_alert.text, "Duties \x1b[2J rise\n") ||
            nw_alert_set(&s_alert.title, "T \xe2\x80\xae title") ||
            nw_alert_set(&s_alert.stream, "feedfacecafebeef") ||
            nw_alert_add_topic(&s_alert, "tariffs") != NW_OK)
            abort();
        s_alert.published_ms = 1700000000000;
    }
    char *spec = malloc(size + 1);
    if (spec == NULL)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    nw_format_t *fmt = NULL;
    char err[256];
    if (nw_format_new(spec, size % 2 == 1, &fmt, err, sizeof err) == NW_OK) {
        nw_buf_t out = {0};
        (void)nw_format_alert(fmt, &s_alert, "tariffs", NULL, &out);
        nw_buf_free(&out);
        nw_format_destroy(&fmt);
    }
    free(spec);
    return 0;
}
