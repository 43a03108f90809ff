/*
 * nw_boilerplate: the rules that say which lines of a scraped page are not
 * news (captions, photo credits, crumbs, navigation, rating widgets...).
 *
 * The rules are data: a plain-text file (format documented in the default
 * file, publisher/input/boilerplate.conf, which is built in) that the daemon loads.
 */
#ifndef NW_BOILERPLATE_H
#define NW_BOILERPLATE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct nw_boilerplate_t nw_boilerplate_t;

/* Parses rules from text (origin names the file in error messages). Returns NW_OK with
 * *out set, NW_ERR_CONFIG with "ORIGIN:LINE: reason" in err, or NW_ERR_NOMEM. */
int nw_boilerplate_parse(const char *text, size_t len, const char *origin, nw_boilerplate_t **out,
                         char *err, size_t errlen);

/* Loads the rules from a file. Returns as nw_boilerplate_parse, or NW_ERR_NOTFOUND /
 * NW_ERR_IO / NW_ERR_PERM with the path in err. */
int nw_boilerplate_load(const char *path, nw_boilerplate_t **out, char *err, size_t errlen);

/* Builds the built-in default rules. Returns NW_OK or NW_ERR_NOMEM. */
int nw_boilerplate_default(nw_boilerplate_t **out);

/* What the first matching rule says to do with a line. */
typedef enum {
    NW_BP_KEEP = 0,      /* no rule matched: the line may be news */
    NW_BP_DROP = 1,      /* drop the line */
    NW_BP_DROP_NEXT = 2, /* drop the line and the next non-blank line */
    NW_BP_END = 3,       /* the line starts the page footer: drop it and the rest */
} nw_bp_action_t;

/* Returns the action of the first rule that matches the trimmed line (len bytes, need
 * not be NUL-terminated), or NW_BP_KEEP when none does or rules is NULL. */
nw_bp_action_t nw_boilerplate_classify(const nw_boilerplate_t *rules, const char *line, size_t len);

/* Returns true when the trimmed line (len bytes) is boilerplate by these rules, that is
 * when nw_boilerplate_classify() does not return NW_BP_KEEP. */
bool nw_boilerplate_match(const nw_boilerplate_t *rules, const char *line, size_t len);

/* Returns the number of rules. */
size_t nw_boilerplate_count(const nw_boilerplate_t *rules);

/* Frees the rules and sets *rules_p to NULL. Safe on NULL and twice. */
void nw_boilerplate_destroy(nw_boilerplate_t **rules_p);

#endif
