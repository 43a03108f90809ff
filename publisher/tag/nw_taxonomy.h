/*
 * nw_taxonomy: topics and the words and phrases that signal them.
 *
 * Loaded from a plain-text file (format documented in docs/TAXONOMY.md and in
 * the comments of the built-in default, publisher/tag/topics.conf). All terms of
 * all topics are compiled into one automaton, so matching a text costs one
 * pass over it however many terms there are.
 */
#ifndef NW_TAXONOMY_H
#define NW_TAXONOMY_H

#include <stddef.h>
#include <stdint.h>

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

/* Returns the IPTC Media Topic code of topic i ("medtop:NNNNNNNN"), or "" when none. */
const char *nw_taxonomy_topic_iptc(const nw_taxonomy_t *tax, size_t i);

/* Returns the score an article needs to be tagged with topic i. */
double nw_taxonomy_topic_threshold(const nw_taxonomy_t *tax, size_t i);

/* Returns how many distinct positive terms of topic i an article needs ("min-terms:" in
 * the file; default 1). */
size_t nw_taxonomy_topic_min_terms(const nw_taxonomy_t *tax, size_t i);

/* Returns how many "require:" terms topic i has: when there are any, an article needs at
 * least one of them somewhere in its text to get the topic. */
size_t nw_taxonomy_topic_requires(const nw_taxonomy_t *tax, size_t i);

/* Returns topic i's "exclusive:" group, or "" when it has none. Topics of one group
 * exclude each other: an article gets at most one of them (see nw_tagger). */
const char *nw_taxonomy_topic_group(const nw_taxonomy_t *tax, size_t i);

/* Returns the feature id of topic i's taxonomy score for topic models (nw_docvec:
 * "S:TOPIC"). */
uint32_t nw_taxonomy_topic_feature(const nw_taxonomy_t *tax, size_t i);

/* Returns the index of the topic called name, or -1. */
int nw_taxonomy_topic_find(const nw_taxonomy_t *tax, const char *name);

typedef enum {
    NW_TERM_SIGNAL = 0,  /* adds its weight (negative weights subtract) to its topic's score */
    NW_TERM_VETO = 1,    /* cancels its topic for the text it appears in */
    NW_TERM_URGENT = 2,  /* marks a headline urgent (no topic) */
    NW_TERM_REQUIRE = 3, /* no weight; its topic needs one of them in the article */
} nw_term_kind_t;

typedef struct {
    nw_term_kind_t kind;
    size_t topic;     /* index of its topic (NW_TERM_URGENT: unused, 0) */
    double weight;    /* NW_TERM_SIGNAL: its weight; others: 0 */
    size_t line;      /* line of the taxonomy file that defined it */
    const char *text; /* the item as written ("import duty~"), owned by the taxonomy */
    uint32_t feature; /* its hits' feature id for topic models (nw_docvec: "T:TOPIC:TEXT") */
} nw_term_t;

/* Where an alert sits in its article, for nw_taxonomy_position_weight(). */
typedef enum {
    NW_POS_TITLE = 0,    /* the headline */
    NW_POS_LEAD = 1,     /* the first paragraph */
    NW_POS_KEYPOINT = 2, /* a key-point bullet */
    NW_POS_BODY = 3,     /* any later paragraph */
} nw_position_t;

/* Returns how many terms the taxonomy holds, and term i (all the forms of one item of
 * a term line share a term). */
size_t nw_taxonomy_term_count(const nw_taxonomy_t *tax);
const nw_term_t *nw_taxonomy_term(const nw_taxonomy_t *tax, size_t i);

/* Returns the factor that multiplies term weights found at position pos ("weight-title:"
 * and the like in the file; defaults 3, 2, 1.5, 1). */
double nw_taxonomy_position_weight(const nw_taxonomy_t *tax, nw_position_t pos);

/* Returns the article length, in bytes, past which scores are scaled down: an article
 * of L bytes has its score divided by sqrt(L / unit) when L > unit ("length-unit:" in
 * the file, default 1000; 0 turns the scaling off). */
double nw_taxonomy_length_unit(const nw_taxonomy_t *tax);

/* Calls hit(term index, ctx) for every term occurrence in len bytes of UTF-8 text, in
 * one pass. Returns the number of occurrences. */
size_t nw_taxonomy_scan(const nw_taxonomy_t *tax, const char *text, size_t len,
                        void (*hit)(uint32_t term, void *ctx), void *ctx);

/* Frees the taxonomy and sets *tax_p to NULL. Safe on NULL and twice. */
void nw_taxonomy_destroy(nw_taxonomy_t **tax_p);

#endif
