/*
 * nw_stdout: the subscriber's standard output, written from the event loop
 * without ever blocking it.
 *
 * Records are copied into a buffer and written once per loop turn (a
 * uv_prepare, which runs just before the loop waits for I/O: a record taken in
 * any phase of a turn, an idle callback's too, is written before the loop
 * sleeps), or at once past NW_STDOUT_HIGH bytes. A reader that stalls (a
 * paused terminal, `| less` left open, a slow socket) only holds the buffer:
 * the loop goes on receiving, logging, writing --log and handling signals.
 * How it waits depends on what standard output is:
 *   - a pipe, FIFO or terminal is opened again through /proc/self/fd/1, so
 *     this process gets its own file description, made non-blocking and
 *     watched with uv_poll (the description shared with the shell, stderr or
 *     other processes keeps its flags);
 *   - a socket is written with send(MSG_DONTWAIT); a pipe that cannot be
 *     opened again takes at most PIPE_BUF bytes when poll(2) says it has room
 *     (both retried every NW_STDOUT_RETRY_MS);
 *   - a regular file or /dev/null is written directly (it never stalls).
 * Past NW_STDOUT_MAX bytes waiting, whole records are dropped and counted,
 * with a warning at most once a second. A reader that goes away (EPIPE) or a
 * write error calls on_gone once, from the loop (never inside nw_stdout_write);
 * nothing is written after that.
 */
#ifndef NW_STDOUT_H
#define NW_STDOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define NW_STDOUT_HIGH     (64 * 1024)        /* write at once past this many bytes */
#define NW_STDOUT_MAX      (16 * 1024 * 1024) /* bytes held for a stalled reader */
#define NW_STDOUT_RETRY_MS 20                 /* retry period without a pollable fd */

typedef struct nw_stdout_t nw_stdout_t;

/* Standard output failed for good: err is the errno (EPIPE: the reader went away). */
typedef void(nw_stdout_gone_fn)(int err, void *arg);

typedef struct {
    uint64_t records; /* records taken */
    uint64_t dropped; /* records dropped: the reader stalled past NW_STDOUT_MAX, or gone */
    uint64_t stalls;  /* times a write would have blocked */
} nw_stdout_stats_t;

/* Starts writing fd (STDOUT_FILENO; another fd in tests) from loop. Returns NW_OK with
 * *out set, NW_ERR_UV or NW_ERR_NOMEM. */
int nw_stdout_new(uv_loop_t *loop, int fd, nw_stdout_gone_fn *on_gone, void *arg,
                  nw_stdout_t **out);

/* Takes one record (copied). Returns NW_OK, NW_ERR_TOOBIG (dropped: NW_STDOUT_MAX bytes
 * already wait for a stalled reader), NW_ERR_STOPPED (standard output is gone or closing)
 * or NW_ERR_NOMEM. */
int nw_stdout_write(nw_stdout_t *o, const char *data, size_t len);

/* Returns the bytes waiting to be written. */
size_t nw_stdout_pending(const nw_stdout_t *o);

/* Returns the counters. */
nw_stdout_stats_t nw_stdout_stats(const nw_stdout_t *o);

/* Writes what waits for at most grace_ms more (from the loop), then drops the rest (logged
 * with its size), closes the handles, frees o and calls on_closed(arg) if not NULL. Sets
 * *o_p to NULL. Safe on NULL and twice. */
void nw_stdout_close(nw_stdout_t **o_p, uint64_t grace_ms, void (*on_closed)(void *arg), void *arg);

#endif
