/*
 * nw_file: a whole file into memory, bounded, for the loaders of rule, taxonomy and model
 * files; and a whole file replaced so that a crash leaves the old one or the new one,
 * never a mix, for the state files the daemons rewrite.
 */
#ifndef NW_FILE_H
#define NW_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Reads the file at path (a regular file, or a pipe such as bash's <(...)) into a new
 * NUL-terminated buffer *data of *len bytes (caller frees). Returns NW_OK; NW_ERR_TOOBIG when
 * it holds more than max bytes; NW_ERR_INVAL for a directory; an error from errno
 * (NW_ERR_NOTFOUND, NW_ERR_PERM...), NW_ERR_IO or NW_ERR_NOMEM. On error err says
 * "PATH: reason" and *data is NULL. */
int nw_file_read_all(const char *path, size_t max, char **data, size_t *len, char *err,
                     size_t errlen);

/* Replaces the file at path with len bytes of data: writes them to PATH.tmp, syncs it,
 * renames it over path and syncs the folder, so after a crash or power loss path holds the
 * old bytes or the new ones. Returns NW_OK, or an error from errno (NW_ERR_IO when a folder
 * is missing) with err "cannot create|write|rename over|sync the folder of PATH: reason";
 * PATH.tmp is removed on failure. */
int nw_file_replace(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* fsyncs the folder holding path, so a file created or renamed there survives a power
 * loss. Returns 0, or -1 with errno set. */
int nw_file_sync_dir(const char *path);

/* Writes the file's whole text to f; returns 0, or -1 when f fails. */
typedef int(nw_file_writer_fn)(FILE *f, void *arg);

/* nw_file_replace with the text write(f, arg) produces (built in memory first). Returns
 * NW_ERR_NOMEM when the text cannot be built, else as nw_file_replace. */
int nw_file_replace_with(const char *path, nw_file_writer_fn *write, void *arg, char *err,
                         size_t errlen);

#endif
