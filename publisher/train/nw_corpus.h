/*
 * nw_corpus: labelled documents for newswire-train, read into feature vectors.
 *
 * A labels file is tab-separated with a header row, as the corpus tools read
 * it: the first column names the document (a number N is TEXTDIR/NNNNN.txt,
 * anything else a path under TEXTDIR); either every other column whose values
 * are all 0 or 1 is a topic (its header, or the topic a --map gives it), or
 * the columns "path" and "category" give one category per document, each
 * category a topic (or the topic a --map gives it). A document file is plain
 * text: its first line is the headline, the first paragraph after it (up to a
 * blank line) the lead, the rest the body.
 *
 * A document read by several label files (the same file by its real path) is
 * one document with the labels of all of them.
 */
#ifndef NW_CORPUS_H
#define NW_CORPUS_H

#include "nw_docvec.h"
#include "nw_taxonomy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NW_CORPUS_UNLABELLED (-1)

typedef struct {
    char *path;       /* real path of the text file */
    nw_docvec_t vec;  /* features with the taxonomy's (T:, S:) */
    nw_feat_t *words; /* the words-only features (no T:, S:), sorted */
    size_t n_words;
    int8_t *label;     /* per corpus topic: 1, 0, or NW_CORPUS_UNLABELLED */
    uint32_t set_mask; /* bit s: labelled by label file s */
} nw_corpus_doc_t;

typedef struct {
    char *name;           /* a taxonomy topic */
    uint32_t set;         /* the label file it comes from */
    bool extra_negatives; /* documents of other files count as negatives (see nw_train) */
} nw_corpus_topic_t;

typedef struct {
    const nw_taxonomy_t *tax;
    nw_corpus_doc_t *docs;
    size_t n_docs, cap_docs;
    nw_corpus_topic_t *topics;
    size_t n_topics;
    size_t n_sets;
    char **names; /* per feature id: the smallest name seen, or NULL */
} nw_corpus_t;

/* A topic mapping: label column or category FROM is taxonomy topic TO. */
typedef struct {
    const char *from;
    const char *to;
} nw_corpus_map_t;

/* Starts an empty corpus over the taxonomy (borrowed). Returns NW_OK or NW_ERR_NOMEM. */
int nw_corpus_init(nw_corpus_t *c, const nw_taxonomy_t *tax);

/* Reads the labels file and the documents it names under dir; maps renames columns or
 * categories (n_maps entries). extra_negatives marks its topics (see nw_corpus_topic_t).
 * Every topic must be a taxonomy topic. Returns NW_OK, or NW_ERR_CONFIG / NW_ERR_IO /
 * NW_ERR_NOTFOUND / NW_ERR_NOMEM with "FILE:LINE: reason" in err. */
int nw_corpus_add(nw_corpus_t *c, const char *labels, const char *dir, const nw_corpus_map_t *maps,
                  size_t n_maps, bool extra_negatives, char *err, size_t errlen);

/* Frees everything the corpus holds. */
void nw_corpus_free(nw_corpus_t *c);

#endif
