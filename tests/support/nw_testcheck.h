/*
 * nw_testcheck: cmocka checks on real processes and the files they write, for the
 * process-level tests. Each check waits a bounded time and, when it fails, prints the
 * process's stderr and fails the test with a message that says what did not happen.
 *
 *     nw_check_logged(pub, "ready: stream ", 20000, "newswire-pub");
 *     nw_check_file_lines(sub, "/tmp/x/alerts.jsonl", 16, 60000, "newswire-sub");
 *     nw_check_stopped(&pub, 20000, "newswire-pub");
 */
#ifndef NW_TESTCHECK_H
#define NW_TESTCHECK_H

#include "nw_testproc.h"

#include <stddef.h>

/* Prints what's stderr (a title, then the text); does nothing for NULL. */
void nw_testproc_dump(nw_testproc_t *p, const char *what);

/* Lets every live process run, draining its pipes, for ms (a pause that is not a wait). */
void nw_testproc_pause(nw_testproc_t *any, int ms);

/* Fails the test unless p's stderr shows needle within ms. */
void nw_check_logged(nw_testproc_t *p, const char *needle, int ms, const char *what);

/* Sends SIGTERM to *p and fails the test unless it exits 0 within ms. */
void nw_check_stopped(nw_testproc_t **p, int ms, const char *what);

/* Counts the complete lines of the file at path that contain needle ("" counts all);
 * 0 when the file cannot be read. */
size_t nw_test_count_file_lines(const char *path, const char *needle);

/* Fails the test unless the file at path holds at least n complete lines within ms; watch
 * is the process whose stderr is printed on failure. */
void nw_check_file_lines(nw_testproc_t *watch, const char *path, size_t n, int ms,
                         const char *what);

#endif
