/*
 * nw_testpub: a newswire-pub process and a SUB socket on it, for process-level tests.
 *
 * Starts the real daemon on ephemeral 127.0.0.1 ports with a spool and journal in a
 * temporary folder, subscribes to everything and hands back decoded alerts, one per
 * alert (the per-topic copies folded by sequence number, control frames skipped).
 *
 *     nw_testpub_t *p = nw_testpub_new(NW_PUB_BIN);
 *     nw_testpub_start(p, (const char *[]){"--feed", url, NULL});
 *     nw_alert_t a;
 *     if (nw_testpub_next(p, &a, 10000)) ...; nw_alert_clear(&a);
 *     nw_testpub_stop(p);          // SIGTERM, returns the exit status
 *     nw_testpub_destroy(&p);
 */
#ifndef NW_TESTPUB_H
#define NW_TESTPUB_H

#include "nw_alert.h"
#include "nw_testproc.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *bin;             /* the newswire-pub binary */
    char *dir;                   /* temporary folder */
    char spool[1024];            /* DIR/spool */
    char journal[1024];          /* DIR/journal */
    nw_testproc_t *proc;         /* the running daemon, NULL when stopped */
    void *zctx;                  /* ZeroMQ context */
    void *sub;                   /* SUB socket on the daemon, NULL when stopped */
    unsigned long long last_seq; /* the last global seq handed out, to fold topic copies */
    char endpoint[64];           /* where the running daemon listens: tcp://127.0.0.1:PORT */
} nw_testpub_t;

/* Makes a fixture with a fresh temporary folder. Returns NULL on failure. */
nw_testpub_t *nw_testpub_new(const char *bin);

/* Starts the daemon with extra arguments (NULL-terminated, may be NULL), waits until it is
 * ready and until its subscription from here is seen. Returns false (after printing the
 * daemon's log) when it did not start. */
bool nw_testpub_start(nw_testpub_t *p, const char *const *extra);

/* Receives the next alert not seen before (by global seq) within timeout_ms into *alert
 * (clear it). Returns false at the deadline. */
bool nw_testpub_next(nw_testpub_t *p, nw_alert_t *alert, int timeout_ms);

/* Waits until the daemon's log holds at least n lines containing needle. Returns false
 * at the deadline (after printing the log). */
bool nw_testpub_wait_log(nw_testpub_t *p, const char *needle, size_t n, int timeout_ms);

/* Drops an article into incoming/ the maildir way (dotfile, then rename). Returns 0/-1. */
int nw_testpub_drop(nw_testpub_t *p, const char *name, const char *text);

/* Sends SIGTERM, waits for the exit and closes the socket. Returns the exit status. */
int nw_testpub_stop(nw_testpub_t *p);

/* Prints the daemon's log on standard error. */
void nw_testpub_dump(nw_testpub_t *p);

/* Stops the daemon if running, removes the folder, frees everything. Safe on NULL. */
void nw_testpub_destroy(nw_testpub_t **p_p);

#endif
