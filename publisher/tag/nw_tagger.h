/*
 * nw_tagger: decides the topics and priority of an article's alerts.
 *
 * Two levels: the article's topics come from all of its text (title and lead
 * weighted, veto terms applied, per-topic score thresholds); each alert then
 * gets those article topics its own text gives evidence for, and the
 * headline alert gets all of them. A passing mention of trade in a sports
 * story reaches no trade subscriber.
 */
#ifndef NW_TAGGER_H
#define NW_TAGGER_H

#include "nw_alert.h"
#include "nw_taxonomy.h"

#include <stddef.h>

/* The topic an alert is published on when no topic of the taxonomy applies to it. */
#define NW_TOPIC_GENERAL "general"

/* Tags the n alerts of one article, as nw_split made them (alerts[0] the headline):
 * adds topics (replacing none already there) and sets each priority. An alert that no
 * topic applies to gets NW_TOPIC_GENERAL. Returns NW_OK or NW_ERR_NOMEM. */
int nw_tagger_tag(const nw_taxonomy_t *tax, nw_alert_t *alerts, size_t n);

#endif
