/*
 * nw_log: levelled, timestamped log lines on standard error.
 *
 * A line looks like
 *     2026-11-27T21:14:55.123Z newswire-pub[4242] warn: spool: cannot read x.txt: ...
 * and is written with a single write(2), so lines from several threads or
 * processes sharing stderr never interleave. The level and program name are
 * process-wide settings kept in this module.
 */
#ifndef NW_LOG_H
#define NW_LOG_H

#include <stdarg.h>

typedef enum {
    NW_LOG_ERROR = 0, /* something failed; the operator must act */
    NW_LOG_WARN = 1,  /* something was dropped or retried; service goes on */
    NW_LOG_INFO = 2,  /* lifecycle: started, connected, article published */
    NW_LOG_DEBUG = 3, /* per-alert detail for troubleshooting */
} nw_log_level_t;

/* Sets the program name printed on each line (not copied: pass a literal or argv[0]). */
void nw_log_set_program(const char *name);

/* Sets the most verbose level that is printed; the default is NW_LOG_INFO. */
void nw_log_set_level(nw_log_level_t level);

/* Parses "error", "warn", "info" or "debug" into *level.
 * Returns NW_OK, or NW_ERR_INVAL (and leaves *level alone) for anything else. */
int nw_log_level_parse(const char *name, nw_log_level_t *level);

/* Prints one line at the given level if the current level lets it through.
 * A trailing newline in fmt is not needed. Never fails visibly. */
void nw_log(nw_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As nw_log, with a va_list. */
void nw_log_v(nw_log_level_t level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
