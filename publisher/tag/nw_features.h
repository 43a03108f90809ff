/*
 * nw_features: the words of a text as hashed features, shared by training
 * (newswire-train) and tagging (nw_tagger), so the model sees the same
 * features in both.
 *
 * Tokens: runs of ASCII letters and digits, lowercased; a run of digits only
 * becomes the one token "0" (numbers are not words). Bytes of 0x80 and above
 * are word characters too (accented letters stay inside their word), except
 * the UTF-8 punctuation blocks U+0080-U+00BF and U+2000-U+206F (no-break
 * space, guillemets, curly quotes, dashes), which separate like ASCII
 * punctuation. Every other byte separates.
 *
 * Features: every token (a unigram) and every pair of consecutive tokens of
 * the same text (a bigram), as a 64-bit FNV-1a hash reduced to
 * NW_FEATURES_BITS bits; taxonomy terms get ids in the same space from
 * nw_features_term_id(). Collisions are rare and harmless (two features
 * share a weight), and they keep a model bounded whatever the vocabulary.
 */
#ifndef NW_FEATURES_H
#define NW_FEATURES_H

#include <stddef.h>
#include <stdint.h>

/* Feature ids are below 1 << NW_FEATURES_BITS. */
#define NW_FEATURES_BITS 20
#define NW_FEATURES_MASK ((1u << NW_FEATURES_BITS) - 1u)

/* A feature with its value in a story's vector (nw_docvec). */
typedef struct {
    uint32_t id;
    float value;
} nw_feat_t;

/* Called once per feature occurrence: unigram, then the bigram it ends (if any).
 * name/len is the feature's text ("tariff", "import duties"); it points into a buffer
 * that lives until the callback returns. */
typedef void(nw_features_fn)(uint32_t id, const char *name, size_t len, void *ctx);

/* Writes the id of every unigram and bigram of len bytes of text to ids, in text order
 * (u1, u2, b12, u3, b23, ...): the fast path of tagging and training. ids must have room
 * for nw_features_ids_max(len) entries. Returns the number of ids written; *tokens gets
 * the number of tokens. Pure: same text, same ids. */
size_t nw_features_ids(const char *text, size_t len, uint32_t *ids, size_t *tokens);

/* The most ids nw_features_ids writes for len bytes (a token and its separator take at
 * least two bytes, and each token adds at most two ids). */
static inline size_t nw_features_ids_max(size_t len)
{
    return len + 1;
}

/* Calls fn for every unigram and bigram of len bytes of text, in the order of
 * nw_features_ids and with the same ids, with each feature's name (tokens cut at 64
 * bytes): for explanations and model listings. Returns the number of tokens. */
size_t nw_features_scan_named(const char *text, size_t len, nw_features_fn *fn, void *ctx);

/* Returns the id of a named feature that is not a word of the text: a taxonomy term hit
 * ("T:tariffs:import duty~") or a per-topic taxonomy score ("S:tariffs"). */
uint32_t nw_features_named_id(const char *name);

#endif
