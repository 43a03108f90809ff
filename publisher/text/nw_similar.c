#include "nw_similar.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_SHINGLE 4 /* words per shingle */

/* A text's shingles as sorted, distinct 64-bit hashes. */
typedef struct {
    uint64_t *h; /* the hashes, ascending */
    size_t n;    /* entries of h */
} s_set_t;

static int s_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static unsigned char s_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* FNV-1a of each word of text, lowercased, into a new array *words of *n entries. */
static int s_words(const char *text, uint64_t **words, size_t *n)
{
    size_t cap = 0, used = 0;
    uint64_t *w = NULL;
    const unsigned char *p = (const unsigned char *)text;
    while (*p != '\0') {
        while (*p != '\0' && !s_word_byte(*p))
            p++;
        if (*p == '\0')
            break;
        uint64_t h = 14695981039346656037ULL;
        while (*p != '\0' && s_word_byte(*p)) {
            h = (h ^ s_lower(*p)) * 1099511628211ULL;
            p++;
        }
        if (used == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            uint64_t *grown = realloc(w, ncap * sizeof *w);
            if (grown == NULL) {
                free(w);
                return -1;
            }
            w = grown;
            cap = ncap;
        }
        w[used++] = h;
    }
    *words = w;
    *n = used;
    return 0;
}

/* Sorts v[0..n) ascending: a quicksort on the middle element that recurses into the smaller
 * side only (depth O(log n)), insertion sort below 16 elements. qsort's comparison calls
 * cost more than the shingles themselves. */
static void s_sort_u64(uint64_t *v, size_t n)
{
    while (n > 16) {
        uint64_t pivot = v[n / 2];
        size_t i = 0, j = n - 1;
        for (;;) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i >= j)
                break;
            uint64_t t = v[i];
            v[i++] = v[j];
            v[j--] = t;
        }
        /* v[0..j] <= pivot <= v[j+1..n) */
        size_t left = j + 1;
        if (left < n - left) {
            s_sort_u64(v, left);
            v += left;
            n -= left;
        } else {
            s_sort_u64(v + left, n - left);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t k = i;
        for (; k > 0 && v[k - 1] > x; k--)
            v[k] = v[k - 1];
        v[k] = x;
    }
}

/* Builds the shingle set of text. Returns 0, or -1 when out of memory. */
static int s_set_make(const char *text, s_set_t *set)
{
    uint64_t *w;
    size_t nw;
    set->h = NULL;
    set->n = 0;
    if (s_words(text, &w, &nw) != 0)
        return -1;
    if (nw == 0) {
        free(w);
        return 0;
    }
    size_t ns = nw < S_SHINGLE ? 1 : nw - S_SHINGLE + 1;
    size_t span = nw < S_SHINGLE ? nw : S_SHINGLE;
    for (size_t i = 0; i < ns; i++) {
        uint64_t h = 0x9e3779b97f4a7c15ULL;
        for (size_t k = 0; k < span; k++)
            h = (h ^ w[i + k]) * 0x100000001b3ULL + (h >> 29);
        w[i] = h; /* in place: later windows start at i + 1 and never read w[i] again */
    }
    s_sort_u64(w, ns);
    size_t u = 0;
    for (size_t i = 0; i < ns; i++) {
        if (u == 0 || w[u - 1] != w[i])
            w[u++] = w[i];
    }
    set->h = w;
    set->n = u;
    return 0;
}

static double s_set_jaccard(const s_set_t *a, const s_set_t *b)
{
    if (a->n == 0 || b->n == 0)
        return 0.0;
    size_t i = 0, j = 0, both = 0;
    while (i < a->n && j < b->n) {
        if (a->h[i] == b->h[j]) {
            both++;
            i++;
            j++;
        } else if (a->h[i] < b->h[j]) {
            i++;
        } else {
            j++;
        }
    }
    return (double)both / (double)(a->n + b->n - both);
}

/* Says whether s_set_jaccard(a, b) >= NW_SIMILAR_REPEAT, without the merge when the sizes
 * alone rule it out: the index is at most min(|A|, |B|) / max(|A|, |B|), so sets whose sizes
 * differ by more than that ratio never repeat each other. */
static bool s_set_repeats(const s_set_t *a, const s_set_t *b)
{
    size_t lo = a->n < b->n ? a->n : b->n, hi = a->n < b->n ? b->n : a->n;
    if ((double)lo < NW_SIMILAR_REPEAT * (double)hi)
        return false;
    return s_set_jaccard(a, b) >= NW_SIMILAR_REPEAT;
}

double nw_similar_jaccard(const char *a, const char *b)
{
    s_set_t sa, sb;
    if (s_set_make(a, &sa) != 0)
        return 0.0;
    if (s_set_make(b, &sb) != 0) {
        free(sa.h);
        return 0.0;
    }
    double j = s_set_jaccard(&sa, &sb);
    free(sa.h);
    free(sb.h);
    return j;
}

size_t nw_similar_drop_repeats(nw_alert_t *alerts, size_t *n)
{
    size_t count = *n, kept = 0, dropped = 0;
    s_set_t *sets = calloc(count ? count : 1, sizeof *sets);
    if (sets == NULL)
        return 0; /* out of memory: nothing is called a repeat */
    for (size_t i = 0; i < count; i++) {
        s_set_t s;
        if (s_set_make(alerts[i].text, &s) != 0)
            s.n = 0, s.h = NULL; /* out of memory: this one is compared with nothing */
        bool repeat = false;
        size_t from = kept > NW_SIMILAR_WINDOW ? kept - NW_SIMILAR_WINDOW : 0;
        for (size_t k = from; k < kept && i > 0 && !repeat; k++)
            repeat = s_set_repeats(&s, &sets[k]);
        if (repeat) {
            free(s.h);
            nw_alert_clear(&alerts[i]);
            dropped++;
            continue;
        }
        sets[kept] = s;
        if (kept != i)
            alerts[kept] = alerts[i]; /* moves the strings; the old slot is forgotten */
        kept++;
    }
    for (size_t k = 0; k < kept; k++)
        free(sets[k].h);
    free(sets);
    if (kept < count)
        memset(&alerts[kept], 0, (count - kept) * sizeof *alerts);
    *n = kept;
    return dropped;
}
