/*
 * nw_preflight: checks, before the subscriber starts, that the files and the
 * command it was given can work: a --state or --log file whose folder is
 * missing or cannot be written to, or an --exec command that is not an
 * executable file, is a usage error found at start, never a failure found
 * later (a durable subscriber that cannot save its state is not durable).
 *
 * Each check writes one line naming the flag and the path into err and
 * returns NW_ERR_INVAL; nothing is left behind on disk.
 */
#ifndef NW_PREFLIGHT_H
#define NW_PREFLIGHT_H

#include <stddef.h>

/* Checks that path can be written the way --state saves it: path.tmp is created and
 * removed again (the folder exists and takes new files), and an existing path is a regular
 * file. Returns NW_OK or NW_ERR_INVAL with err like
 * "--state /x/s.state: folder /x does not exist". */
int nw_preflight_state(const char *flag, const char *path, char *err, size_t errlen);

/* Checks that path can be appended to: its folder exists, path is not a folder, and it
 * opens for appending (it is created, empty, when missing; nothing is written). Returns
 * NW_OK or NW_ERR_INVAL with err naming flag and path. */
int nw_preflight_append(const char *flag, const char *path, char *err, size_t errlen);

/* Checks that the first word of cmd (split as nw_exec_split does) names an executable
 * regular file: as a path when it holds a '/', else found in $PATH. Returns NW_OK or
 * NW_ERR_INVAL (err: "--exec: 'hook.sh' is not executable"), NW_ERR_NOMEM. */
int nw_preflight_command(const char *flag, const char *cmd, char *err, size_t errlen);

/* Runs the checks newswire-sub needs: --state (nw_preflight_state), --log
 * (nw_preflight_append) and --exec (nw_preflight_command), each only when given (NULL: not
 * given). Returns NW_OK or the first failure, with err naming its flag. */
int nw_preflight_subscriber(const char *state_path, const char *log_path, const char *exec_cmd,
                            char *err, size_t errlen);

#endif
