/*
 * nw_tagger: decides the topics and priority of an article's alerts.
 *
 * Two levels. The article's topics come from all of its text: for a topic the
 * model has, the model's margin over the article's features (nw_docvec, which
 * include the taxonomy's evidence) must reach the model's threshold and the
 * taxonomy's hard rules (vetoes, require: lines) must allow it; a topic the
 * model lacks is decided by the taxonomy alone (score, min-terms, require:,
 * veto). Each alert then gets those article topics its own text gives
 * evidence for (see docs/TAXONOMY.md, "Alert level"), and the headline gets
 * all of them. A passing mention of trade in a sports story reaches no trade
 * subscriber.
 */
#ifndef NW_TAGGER_H
#define NW_TAGGER_H

#include "nw_alert.h"
#include "nw_model.h"
#include "nw_taxonomy.h"

#include <stddef.h>

/* The topic an alert is published on when no topic of the taxonomy applies to it. */
#define NW_TOPIC_GENERAL "general"

/* Tags the n alerts of one article, as nw_split made them (alerts[0] the headline):
 * adds topics (replacing none already there) and sets each priority. An alert that no
 * topic applies to gets NW_TOPIC_GENERAL. model may be NULL (the taxonomy alone); model
 * topics the taxonomy lacks are not used. explain, when not NULL, receives n
 * NUL-terminated JSON objects (caller frees each and the array) that say per topic the
 * score, the threshold and the deciding terms and features. Returns NW_OK or
 * NW_ERR_NOMEM. */
int nw_tagger_tag_model(const nw_taxonomy_t *tax, const nw_model_t *model, nw_alert_t *alerts,
                        size_t n, char ***explain);

/* The memory tagging needs (feature vectors, per-topic and per-alert arrays), kept from
 * one article to the next so that a stream of articles is tagged without allocating
 * per article. One workspace serves one thread at a time; it may be used with any
 * taxonomy and model. */
typedef struct nw_tagger_ws_t nw_tagger_ws_t;

/* Makes an empty workspace in *out. Returns NW_OK or NW_ERR_NOMEM. */
int nw_tagger_ws_new(nw_tagger_ws_t **out);

/* Frees the workspace and sets *ws_p to NULL. Safe on NULL and twice. */
void nw_tagger_ws_destroy(nw_tagger_ws_t **ws_p);

/* nw_tagger_tag_model in the memory of ws (grown when an article needs more, kept for
 * the next). Same results. */
int nw_tagger_tag_ws(nw_tagger_ws_t *ws, const nw_taxonomy_t *tax, const nw_model_t *model,
                     nw_alert_t *alerts, size_t n, char ***explain);

#endif
