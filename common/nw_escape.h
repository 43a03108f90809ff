/*
 * nw_escape: one field of a space-separated text line, %-escaped: the bytes that would
 * break the line (controls, space, '%', DEL) are written as %XX, so feed URLs, guids and
 * file names of any bytes fit the index files the publisher keeps.
 *
 *     nw_escape_write(f, "a b");   // "a%20b"
 *     nw_escape_undo(field);       // "a%20b" -> "a b", in place
 */
#ifndef NW_ESCAPE_H
#define NW_ESCAPE_H

#include <stdbool.h>
#include <stdio.h>

/* Writes s to f escaped. Returns 0, or -1 when f fails. */
int nw_escape_write(FILE *f, const char *s);

/* Undoes nw_escape_write in place. Returns false for a bad escape (not two hex digits, or
 * %00) or an empty result. */
bool nw_escape_undo(char *s);

#endif
