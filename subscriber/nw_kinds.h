/*
 * nw_kinds: the --kind filter, a set of alert kinds (headline, keypoint,
 * paragraph) as a bit mask. 0 means every kind.
 */
#ifndef NW_KINDS_H
#define NW_KINDS_H

#include "nw_alert.h"

#include <stdbool.h>
#include <stddef.h>

/* Parses a comma-separated list of kind names ("headline,keypoint") into *mask.
 * Returns NW_OK, or NW_ERR_INVAL with err naming flag and the word that is not a kind. */
int nw_kinds_parse(const char *flag, const char *list, unsigned *mask, char *err, size_t errlen);

/* True when mask is 0 (no --kind) or holds kind. */
bool nw_kinds_match(unsigned mask, nw_alert_kind_t kind);

#endif
