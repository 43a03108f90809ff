/*
 * nw_train: one linear classifier per topic, learned with liblinear (an
 * L2-regularised L2-loss support vector machine), with its feature set (words;
 * words and every taxonomy feature; words, T:any and S:), its regularisation C
 * and its decision threshold chosen by k-fold cross-validation on the
 * training documents only. With idf, cross-validation may also choose training
 * with features scaled by their idf over the training documents, the weights
 * scaled by the same factor after, so the model applies to the tagger's plain
 * vectors (the idf only shapes the regularisation).
 *
 * The choosing, fitting and scoring are nw_learn's; nw_evaluate measures the
 * whole procedure by nested cross-validation. Documents of other label files
 * may serve as negatives of a topic whose label file asks for it
 * (nw_corpus_topic_t.extra_negatives).
 *
 * Deterministic: folds are document positions modulo k, liblinear's random
 * generator is reseeded before every training, and topics trained side by side
 * run in processes of their own (nw_forkjobs), so the same corpus gives the same
 * model whatever the number of workers.
 */
#ifndef NW_TRAIN_H
#define NW_TRAIN_H

#include "nw_corpus.h"
#include "nw_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
    size_t folds;           /* k of the cross-validation that picks features, C, threshold */
    bool taxonomy_features; /* read the T: and S: features (false: words only) */
    bool rules;             /* apply the taxonomy's vetoes and require: lines */
    bool idf;               /* cross-validation may also choose idf-scaled training */
    size_t min_df;          /* features in fewer training documents are left out */
    double prune;           /* weights of smaller magnitude are dropped from the model */
    size_t max_per_topic;   /* at most this many weights per topic (largest first) */
    size_t workers;         /* nw_train_model: topics trained at once, each in a process */
    const char *only;       /* nw_evaluate: comma-separated topics to score (NULL: all) */
} nw_train_opts_t;

/* Trains every topic of the corpus on all its documents and returns the model in *out.
 * log (NULL: quiet) gets one line per topic. Returns NW_OK, NW_ERR_NOMEM or NW_ERR_INVAL
 * (a topic without positive or negative documents, named in err). */
int nw_train_model(const nw_corpus_t *c, const nw_train_opts_t *o, FILE *log, nw_model_t **out,
                   char *err, size_t errlen);

#endif
