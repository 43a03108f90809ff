/*
 * nw_logfile: the --log file, alerts appended as JSON Lines.
 *
 * The file is opened with O_APPEND. Under the fsync policies interval and
 * never, lines are held in a 64 KiB buffer and go out together, whole lines
 * in one write(2), when it fills or on nw_logfile_drain() (which the
 * subscriber calls once per loop turn before the loop waits, and before it saves its state, so the
 * state never marks an alert whose line is only in the buffer); under always,
 * each line goes out in its own write(2) and is synced. Lines never
 * interleave and a process killed between two writes leaves whole lines. One case remains: Linux
 * checks for SIGKILL between the pages of a write, so a kill in the middle of a line that crosses a
 * page boundary can leave the start of that line at the end of the file. Opening the file therefore
 * repairs it: a last line without its newline is truncated away (nw_logfile_repaired says how
 * much), so the next line does not run into it. A write cut short by a full disk is truncated away
 * the same way at once. Both assume this process is the file's only writer. nw_logfile_reopen() is
 * for SIGHUP after logrotate has renamed the file: new lines go to a new file at the same path.
 * Durability follows the fsync policy: after every line, each second, or never (the kernel
 * writes back when it likes). The second's sync may run on another thread, so that a
 * long fdatasync does not stall the caller's loop: nw_logfile_sync_begin() gives the
 * descriptor to sync, nw_logfile_sync_end() takes the outcome (the subscriber runs it on
 * libuv's thread pool); nw_logfile_flush() does the same in the caller's thread.
 */
#ifndef NW_LOGFILE_H
#define NW_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    NW_FSYNC_ALWAYS = 0,   /* fdatasync after each line */
    NW_FSYNC_INTERVAL = 1, /* fdatasync in nw_logfile_flush when lines were written */
    NW_FSYNC_NEVER = 2,    /* never */
} nw_fsync_t;

typedef struct nw_logfile_t nw_logfile_t;

/* The names of the policies in nw_fsync_t order, NULL-terminated, for nw_opt_choice. */
const char *const *nw_fsync_names(void);

/* Opens (creating with mode 0644) path for appending, and truncates a partial last line
 * left by a crash. Returns NW_OK with *out set, or NW_ERR_NOTFOUND, NW_ERR_PERM, NW_ERR_IO
 * (from the open errno), NW_ERR_NOMEM. */
int nw_logfile_open(const char *path, nw_fsync_t policy, nw_logfile_t **out);

/* Appends the len bytes of line (which should end in a newline): under NW_FSYNC_ALWAYS in
 * one write(2) followed by a sync; otherwise into the buffer, which is drained first when the
 * line does not fit (a line longer than the buffer goes out on its own at once).
 * Returns NW_OK, or NW_ERR_NOSPACE / NW_ERR_IO when a write failed: the file then holds no
 * part of what that write carried, as far as truncation could ensure, and
 * nw_logfile_lost() says how many buffered lines went with it (this line is not written
 * either). Under
 * NW_FSYNC_ALWAYS, returns NW_ERR_SYNC when the line was written whole but the sync
 * after it failed (reason: nw_logfile_sync_error): the line is in the file and must not
 * be written again; the file stays unsynced and the next line (or flush) syncs again. */
int nw_logfile_write(nw_logfile_t *log, const char *line, size_t len);

/* Writes the buffered lines out in one write(2). Returns NW_OK (also when none were held),
 * or NW_ERR_NOSPACE / NW_ERR_IO: the file then holds none of them (nw_logfile_lost() says
 * how many); the buffer is emptied either way. */
int nw_logfile_drain(nw_logfile_t *log);

/* Returns how many buffered lines the latest failed write left out of the file. */
size_t nw_logfile_lost(const nw_logfile_t *log);

/* Drains the buffer (a failure there is not reported here), then syncs if anything was
 * written since the last successful sync (under NW_FSYNC_INTERVAL,
 * and under NW_FSYNC_ALWAYS after a failed sync); under NW_FSYNC_NEVER does nothing.
 * Returns NW_OK, or NW_ERR_SYNC when the sync failed (reason: nw_logfile_sync_error);
 * the file then stays unsynced and the next call tries again. */
int nw_logfile_flush(nw_logfile_t *log);

/* Starts a sync off the caller's thread: drains the buffer (a failure there is not reported
 * here) and, when lines were written since the last sync began (and the policy is not
 * never), counts them as being synced and returns the descriptor to fdatasync; returns -1
 * when there is nothing to sync or a sync is already out. The descriptor stays open until
 * nw_logfile_sync_end, also across a reopen; nw_logfile_close must not come between. */
int nw_logfile_sync_begin(nw_logfile_t *log);

/* Ends the sync nw_logfile_sync_begin started, with its outcome (0, or the errno of the
 * failed fdatasync). Returns NW_OK; NW_ERR_SYNC (reason: nw_logfile_sync_error): the lines
 * stay unsynced and the next sync takes them again; or NW_ERR_IO when it failed on a file
 * that a reopen replaced meanwhile (closed now: nothing retries it). */
int nw_logfile_sync_end(nw_logfile_t *log, int err);

/* Returns true between nw_logfile_sync_begin (when it returned a descriptor) and
 * nw_logfile_sync_end. */
bool nw_logfile_syncing(const nw_logfile_t *log);

/* Returns a static description of why the latest sync failed ("" if none has). */
const char *nw_logfile_sync_error(const nw_logfile_t *log);

/* Opens the path again (repairing it like nw_logfile_open) and switches to the new file,
 * draining the buffer into the old one, syncing (unless the policy is never; a failure there cannot
 * be retried and is ignored: the lines stay in the old file, which the kernel writes back) and
 * closing the old one (at nw_logfile_sync_end when a sync of it is out). Returns NW_OK; on failure
 * the old file stays in use and the open error is returned. */
int nw_logfile_reopen(nw_logfile_t *log);

/* Returns how many bytes of a partial last line the latest open or reopen truncated
 * (0 when the file ended in a newline or was empty), for the caller to report. */
size_t nw_logfile_repaired(const nw_logfile_t *log);

/* Returns the path the file was opened with. */
const char *nw_logfile_path(const nw_logfile_t *log);

/* Drains the buffer, syncs per the policy, closes and frees, and sets *log_p to NULL. Safe on NULL
 * and twice. Not while a sync is out (nw_logfile_syncing). */
void nw_logfile_close(nw_logfile_t **log_p);

#endif
