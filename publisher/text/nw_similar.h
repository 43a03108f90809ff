/*
 * nw_similar: how alike two alert texts are, and dropping an article's repeats.
 *
 * The measure is the Jaccard index of the texts' word 4-shingle sets (every
 * run of 4 consecutive words, words lowercased, punctuation ignored):
 * |A n B| / |A u B|. A text of fewer than 4 words is one shingle of all its
 * words, so short texts repeat only when they are equal word for word.
 *
 * Why 4-shingles at 0.5 (NW_SIMILAR_REPEAT): one changed word removes at most
 * 4 shingles from each side, so a 40-word paragraph with one word edited
 * scores 33/41 = 0.80, with three words edited about 0.5; a paragraph that
 * says the same facts in other words (a summary and the lede rewritten)
 * shares almost no 4-word runs and scores under 0.2, and stays. So the rule
 * drops copies with light edits (a summary pasted above the body, a lede
 * repeated under a heading) and keeps every genuinely rewritten paragraph.
 */
#ifndef NW_SIMILAR_H
#define NW_SIMILAR_H

#include "nw_alert.h"

#include <stddef.h>

#define NW_SIMILAR_REPEAT 0.5 /* Jaccard index at or above which a text repeats another */
#define NW_SIMILAR_WINDOW 64  /* earlier alerts an alert is compared with */

/* Returns the Jaccard index of the word 4-shingle sets of the NUL-terminated texts a and b,
 * from 0.0 (nothing shared) to 1.0 (the same set). Two texts without words give 0.0.
 * On allocation failure returns 0.0 (nothing is called a repeat). */
double nw_similar_jaccard(const char *a, const char *b);

/* Drops, from alerts[0 .. *n - 1], every alert after the first whose text repeats one of the
 * NW_SIMILAR_WINDOW alerts kept before it (nw_similar_jaccard >= NW_SIMILAR_REPEAT): clears
 * it and closes the gap, keeping the order and the ids of the others. The window bounds the
 * work (linear in the article, not quadratic: a 20,000-paragraph article stays fast) and
 * costs nothing in practice: the repeats news pages carry (a summary and the lede, a
 * standfirst, a pull quote) sit within a few dozen blocks of each other. Updates *n and
 * returns how many were dropped. */
size_t nw_similar_drop_repeats(nw_alert_t *alerts, size_t *n);

#endif
