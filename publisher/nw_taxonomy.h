/*
 * nw_taxonomy: topics and the words and phrases that signal them.
 *
 * Loaded from a plain-text file (format documented in docs/TAXONOMY.md and in
 * the comments of the built-in default, publisher/topics.conf). All terms of
 * all topics are compiled into one automaton, so matching a text costs one
 * pass over it however many terms there are.
 */
#ifndef NW_TAXONOMY_H
#define NW_TAXONOMY_H

#include <stddef.h>

typedef struct nw_taxonomy_t nw_taxonomy_t;

/* Parses a taxonomy from text (origin names the file in messages). Returns NW_OK with
 * *out set, NW_ERR_CONFIG with "ORIGIN:LINE: reason" in err, or NW_ERR_NOMEM. */
int nw_taxonomy_parse(const char *text, size_t len, const char *origin, nw_taxonomy_t **out,
                      char *err, size_t errlen);

/* Loads a taxonomy file. Returns as nw_taxonomy_parse, or NW_ERR_NOTFOUND / NW_ERR_IO /
 * NW_ERR_PERM with the path in err. */
int nw_taxonomy_load(const char *path, nw_taxonomy_t **out, char *err, size_t errlen);

/* Builds the built-in default taxonomy. Returns NW_OK or NW_ERR_NOMEM. */
int nw_taxonomy_default(nw_taxonomy_t **out);

/* Returns how many topics the taxonomy defines, and the name of topic i. */
size_t nw_taxonomy_topic_count(const nw_taxonomy_t *tax);
const char *nw_taxonomy_topic_name(const nw_taxonomy_t *tax, size_t i);

/* Frees the taxonomy and sets *tax_p to NULL. Safe on NULL and twice. */
void nw_taxonomy_destroy(nw_taxonomy_t **tax_p);

#endif
