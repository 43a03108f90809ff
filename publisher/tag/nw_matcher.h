/*
 * nw_matcher: many word patterns, found in one pass over a text.
 *
 * An Aho-Corasick automaton compiled into a full transition table over a
 * small alphabet: the 26 ASCII letters (case-folded), the 10 digits, one
 * symbol for any non-ASCII letter and one separator symbol. Every other byte
 * (spaces, punctuation, hyphens, apostrophes, and UTF-8 punctuation such as
 * curly quotes, dashes and no-break spaces) is a separator, and a run of
 * separators counts as one. Each pattern is stored between separators, so it
 * only matches whole words: "war" does not fire in "award" or "warn", and
 * "trade deficit" matches "Trade  deficit", "trade-deficit" and
 * "trade\ndeficit" alike. A prefix pattern drops the trailing separator:
 * "tariff" as a prefix matches "tariffs" and "tariffed".
 *
 * Scanning costs one table lookup per byte however many patterns there are. The
 * table merges symbols that act alike, is laid out breadth-first (the states near
 * the root, where most bytes are read, share cache lines), and long texts are read as
 * two interleaved streams so that the lookups overlap (see nw_matcher.c); matches and
 * their order are exactly those of one plain pass.
 *
 *     nw_matcher_t *m = NULL;
 *     nw_matcher_new(&m);
 *     nw_matcher_add(m, "trade deficit", 13, false, 7);
 *     nw_matcher_compile(m);
 *     nw_matcher_scan(m, text, len, on_hit, ctx);   // on_hit(7, ctx) per match
 *     nw_matcher_destroy(&m);
 */
#ifndef NW_MATCHER_H
#define NW_MATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nw_matcher_t nw_matcher_t;

/* Called once per match, in text order of the match ends, with the value the pattern
 * was added with. Patterns that end at the same place are reported together. */
typedef void(nw_matcher_hit_fn)(uint32_t value, void *ctx);

/* Makes an empty matcher in *out. Returns NW_OK or NW_ERR_NOMEM. */
int nw_matcher_new(nw_matcher_t **out);

/* Adds a pattern of len bytes: ASCII letters and digits forming words, any other ASCII
 * byte separating them (leading and trailing separators are ignored). prefix makes the
 * last word match any word that begins with it. value is reported on each match; the
 * same pattern may be added several times with different values. Returns NW_OK,
 * NW_ERR_INVAL (no word, a non-ASCII byte, or the matcher is already compiled) or
 * NW_ERR_NOMEM. */
int nw_matcher_add(nw_matcher_t *m, const char *pattern, size_t len, bool prefix, uint32_t value);

/* Builds the automaton; no pattern can be added afterwards. Returns NW_OK or
 * NW_ERR_NOMEM (the matcher is then unusable: destroy it). */
int nw_matcher_compile(nw_matcher_t *m);

/* Scans len bytes of UTF-8 text (invalid bytes count as separators) with a compiled
 * matcher and calls hit for each match. Returns the number of matches (0 when the
 * matcher is not compiled). */
size_t nw_matcher_scan(const nw_matcher_t *m, const char *text, size_t len, nw_matcher_hit_fn *hit,
                       void *ctx);

/* Returns how many patterns were added (counting repeats). */
size_t nw_matcher_pattern_count(const nw_matcher_t *m);

/* Frees the matcher and sets *m_p to NULL. Safe on NULL and twice. */
void nw_matcher_destroy(nw_matcher_t **m_p);

#endif
