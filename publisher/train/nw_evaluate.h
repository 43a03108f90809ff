/*
 * nw_evaluate: nested cross-validation of the topic classifiers (newswire-train
 * --evaluate): every score comes from documents that nothing was tuned on.
 */
#ifndef NW_EVALUATE_H
#define NW_EVALUATE_H

#include "nw_corpus.h"
#include "nw_train.h"

#include <stddef.h>
#include <stdio.h>

/* Cross-validated quality: for each topic, outer_folds (2 to 20) times, trains on the
 * other folds (choosing features, C and threshold by inner cross-validation on them only)
 * and predicts the held-out fold. Prints to out a table of precision, recall and F1 per
 * topic for the taxonomy alone, the words-only model and the combination (taxonomy
 * features, hard rules, and the taxonomy's exclusive groups among the topics evaluated),
 * with the combination's choice per fold. oof (NULL: none) receives
 * "PATH<TAB>topic,topic..." per document, the combination's out-of-fold topics. Topics
 * are evaluated side by side in o->workers processes (same results). Returns NW_OK,
 * NW_ERR_NOMEM, NW_ERR_INVAL or NW_ERR_IO (a worker failed), with the reason in err. */
int nw_evaluate(const nw_corpus_t *c, const nw_train_opts_t *o, size_t outer_folds, FILE *out,
                FILE *oof, char *err, size_t errlen);

#endif
