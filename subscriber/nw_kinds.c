/*
 * nw_kinds: the --kind filter. See nw_kinds.h.
 */
#include "nw_kinds.h"

#include "nw_error.h"

#include <stdio.h>
#include <string.h>

int nw_kinds_parse(const char *flag, const char *list, unsigned *mask, char *err, size_t errlen)
{
    unsigned m = 0;
    const char *p = list;
    do {
        size_t len = strcspn(p, ",");
        char word[32];
        nw_alert_kind_t kind;
        if (len == 0 || len >= sizeof word) {
            snprintf(err, errlen,
                     "%s: '%s': expected kinds separated by commas: headline, "
                     "keypoint, paragraph",
                     flag, list);
            return NW_ERR_INVAL;
        }
        memcpy(word, p, len);
        word[len] = '\0';
        if (nw_alert_kind_parse(word, &kind) != NW_OK) {
            snprintf(err, errlen, "%s: '%s' is not a kind (headline, keypoint, paragraph)", flag,
                     word);
            return NW_ERR_INVAL;
        }
        m |= 1u << kind;
        p += len;
    } while (*p++ == ',');
    *mask = m;
    return NW_OK;
}

bool nw_kinds_match(unsigned mask, nw_alert_kind_t kind)
{
    return mask == 0 || (mask & (1u << kind)) != 0;
}
