/*
 * nw_config: a daemon's config file, merged under its command line.
 *
 * The file holds "key = value" lines whose keys are the program's long option
 * names ("bind = tcp://127.0.0.1:5556"); a repeatable option is repeated on
 * several lines. Blank lines and lines whose first non-blank character is '#'
 * are skipped; a '#' anywhere else belongs to the value. Leading and trailing
 * blanks around the key and the value are dropped; a value may be put in
 * double quotes to keep them. An option without a value (--quiet) takes
 * true/yes/on/1 (given) or false/no/off/0 (not given). The keys config, help
 * and version are refused.
 *
 * The command line overrides the file option by option: when the command line
 * gives an option (long or short form), every line of the file for that option
 * is dropped, so "-c X" replaces the file's connect lines rather than adding
 * to them. The result is one argument vector (argv[0], the file's options as
 * "--key=value", then the command line) for the program's own getopt_long
 * loop, and nw_config_origin says which FILE:LINE an argument came from so a
 * bad value is reported there.
 *
 * Usage:
 *     nw_config_t *cfg = NULL;
 *     if (nw_config_load(argc, argv, "/etc/newswire/newswire-sub.conf", "c:t:q",
 *                        long_options, &cfg, err, sizeof err) != NW_OK) ...usage error
 *     argc = nw_config_argc(cfg); argv = nw_config_argv(cfg);
 *     ...getopt_long loop; on a bad value: nw_config_origin(cfg, optind - 1)...
 *     nw_config_destroy(&cfg);
 */
#ifndef NW_CONFIG_H
#define NW_CONFIG_H

#include <getopt.h>
#include <stddef.h>

#define NW_CONFIG_OPTION "config" /* the long option that names the file */
#define NW_CONFIG_NONE   "none"   /* --config none: read no file, not even the default */

typedef struct _nw_config_t nw_config_t;

/* Finds --config FILE (or --config=FILE) in argv, else takes default_path when that file
 * exists (default_path may be NULL), reads the file and builds the merged argument vector
 * described above. options and shortopts are the program's getopt_long tables; options
 * must contain NW_CONFIG_OPTION with a required argument. argv is not changed.
 * Returns NW_OK with *out set (the caller destroys it; with no file it holds a copy of
 * argv), or on failure leaves *out NULL, writes a message into err and returns:
 *     NW_ERR_NOTFOUND  --config names a file that does not exist ("--config FILE: ...")
 *     NW_ERR_IO        the file cannot be read, or is a folder ("FILE: ...")
 *     NW_ERR_CONFIG    a line is wrong: no '=', an unknown or refused key, a missing
 *                      value, a bad true/false ("FILE:LINE: ...")
 *     NW_ERR_NOMEM     out of memory */
int nw_config_load(int argc, char *const argv[], const char *default_path, const char *shortopts,
                   const struct option *options, nw_config_t **out, char *err, size_t errlen);

/* The merged vector's length and entries (NULL-terminated, owned by cfg, writable for
 * getopt_long's permutation). */
int nw_config_argc(const nw_config_t *cfg);
char **nw_config_argv(nw_config_t *cfg);

/* Returns "FILE:LINE" for a merged argument that came from the file, or NULL for one
 * from the command line (or an index out of range). Owned by cfg. */
const char *nw_config_origin(const nw_config_t *cfg, int index);

/* Returns the file that was read, or NULL when none was. Owned by cfg. */
const char *nw_config_path(const nw_config_t *cfg);

/* Frees cfg and sets *cfg_p to NULL; safe on NULL and twice. */
void nw_config_destroy(nw_config_t **cfg_p);

#endif
