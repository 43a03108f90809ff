/*
 * nw_article: a scraped news page or plain-text article, parsed.
 *
 * The parser finds the title (dropping its repetitions), the byline or
 * dateline line (source, place, author), section headings, bullet lists and
 * paragraphs, and drops every line the boilerplate rules match (captions,
 * photo credits, crumbs, navigation, rating widgets). It is a pure function
 * of its input: no files, no sockets.
 */
#ifndef NW_ARTICLE_H
#define NW_ARTICLE_H

#include "nw_boilerplate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    NW_BLOCK_HEADING = 0,   /* a section heading; what follows falls under it */
    NW_BLOCK_BULLET = 1,    /* one item of a bullet or numbered list (marker stripped) */
    NW_BLOCK_PARAGRAPH = 2, /* one paragraph, its lines joined with single spaces */
} nw_block_kind_t;

typedef struct {
    nw_block_kind_t kind;
    char *text;  /* UTF-8, trimmed, never empty */
    size_t line; /* 1-based line of the input where the block starts */
} nw_block_t;

typedef struct {
    char *id;           /* 16 lowercase hex chars: a 64-bit hash of the normalised text */
    char *title;        /* never empty after a successful parse */
    char *source;       /* publication or agency from the byline, "" if none */
    char *place;        /* dateline place (e.g. "WASHINGTON"), "" if none */
    char *author;       /* byline author, "" if none */
    nw_block_t *blocks; /* body blocks in reading order */
    size_t n_blocks;
    bool latin1;          /* the input was not valid UTF-8 and was read as Latin-1 */
    char *url;            /* canonical link of the article, NULL or "" if unknown */
    char *section;        /* the publication's section (e.g. "Business"), NULL or "" if none */
    int64_t published_ms; /* original publication time, ms since the epoch; 0 = unknown */
} nw_article_t;

/* Parses len bytes of article text with the given boilerplate rules into *article
 * (initialised by this call; clear it with nw_article_clear() after NW_OK).
 * Returns NW_OK, NW_ERR_ARTICLE_EMPTY (nothing but whitespace), NW_ERR_ARTICLE_BINARY
 * (NUL bytes or mostly control characters), NW_ERR_ARTICLE_BOILERPLATE (no title or no
 * body left once boilerplate is dropped), or NW_ERR_NOMEM. On error a one-line reason
 * is written to err and *article owns nothing. Input that is not UTF-8 is read as
 * Latin-1 and article->latin1 is set. */
int nw_article_parse(const char *data, size_t len, const nw_boilerplate_t *rules,
                     nw_article_t *article, char *err, size_t errlen);

/* Frees what article owns and zeroes it. Safe on a zeroed struct and twice. */
void nw_article_clear(nw_article_t *article);

#endif
