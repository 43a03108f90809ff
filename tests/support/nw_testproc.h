/*
 * nw_testproc: real child processes for integration tests.
 *
 * Starts a program with its stdout and stderr captured through pipes, and
 * lets a test wait, with a bounded timeout, for text to appear or for the
 * process to exit. While waiting on one process, the output of every live
 * process started here is drained, so a chatty process never blocks on a
 * full pipe while the test watches another.
 *
 *     nw_testproc_t *pub = nw_testproc_start((const char *[]){PUB, "--bind", ep, NULL}, NULL);
 *     assert_true(nw_testproc_wait_output(pub, NW_TESTPROC_STDERR, "listening", 5000));
 *     nw_testproc_signal(pub, SIGTERM);
 *     assert_int_equal(nw_testproc_wait_exit(pub, 2000), 0);
 *     nw_testproc_destroy(&pub);
 */
#ifndef NW_TESTPROC_H
#define NW_TESTPROC_H

#include <stdbool.h>
#include <stddef.h>

typedef struct nw_testproc_t nw_testproc_t;

typedef enum { NW_TESTPROC_STDOUT = 0, NW_TESTPROC_STDERR = 1 } nw_testproc_stream_t;

#define NW_TESTPROC_TIMEOUT (-1000) /* nw_testproc_wait_exit: still running at the deadline */

/* Starts argv[0] (a path) with argv, and env_extra ("NAME=value" strings, NULL-terminated,
 * may be NULL) added to the environment; stdin is /dev/null unless stdin_text is given to
 * nw_testproc_start_input. Returns the process, or NULL when fork/exec setup failed (the
 * reason is printed). A program that cannot be executed exits with status 127. */
nw_testproc_t *nw_testproc_start(const char *const argv[], const char *const env_extra[]);

/* As nw_testproc_start, with stdin_text written to the child's standard input, then closed. */
nw_testproc_t *nw_testproc_start_input(const char *const argv[], const char *const env_extra[],
                                       const char *stdin_text);

/* Waits up to timeout_ms for needle to appear in everything the stream has printed so far.
 * Returns true when it has; false at the deadline or when the process exited without it. */
bool nw_testproc_wait_output(nw_testproc_t *proc, nw_testproc_stream_t stream, const char *needle,
                             int timeout_ms);

/* Waits up to timeout_ms until the stream holds at least n complete lines. Returns true
 * when it does. */
bool nw_testproc_wait_lines(nw_testproc_t *proc, nw_testproc_stream_t stream, size_t n,
                            int timeout_ms);

/* Returns everything the stream has printed so far (NUL-terminated; valid until the next
 * call into this module for any process). */
const char *nw_testproc_output(nw_testproc_t *proc, nw_testproc_stream_t stream);

/* Counts the complete lines of the stream that contain needle ("" counts every line). */
size_t nw_testproc_count_lines(nw_testproc_t *proc, nw_testproc_stream_t stream,
                               const char *needle);

/* Sends signal sig. Returns 0, or -1 when the process is already reaped. */
int nw_testproc_signal(nw_testproc_t *proc, int sig);

/* Waits up to timeout_ms for the process to exit, draining its output. Returns its exit
 * status (0-255), 128 + signal number when a signal killed it, or NW_TESTPROC_TIMEOUT. */
int nw_testproc_wait_exit(nw_testproc_t *proc, int timeout_ms);

/* Returns the process id. */
int nw_testproc_pid(const nw_testproc_t *proc);

/* Kills the process (SIGKILL) if it still runs, reaps it, frees everything and sets
 * *proc_p to NULL. Safe on NULL and twice. */
void nw_testproc_destroy(nw_testproc_t **proc_p);

/* Creates a fresh temporary directory (mkdtemp under $TMPDIR or /tmp) and returns its
 * path (caller frees), or NULL. */
char *nw_test_tmpdir(const char *prefix);

/* Removes path and everything below it. Returns 0 or -1. */
int nw_test_rmtree(const char *path);

/* Writes len bytes to path (created or truncated). Returns 0 or -1. */
int nw_test_write_file(const char *path, const char *data, size_t len);

/* Reads a whole file into a new NUL-terminated buffer (caller frees), or NULL. */
char *nw_test_read_file(const char *path, size_t *len);

/* Whether fd shares its open file description with another descriptor of this process on
 * the same file (as dup does): 1 when one moves its offset with fd's, 0 when the others
 * do not, -1 when no other descriptor names the file (or on error). fd's offset is put
 * back. */
int nw_test_fd_shared(int fd);

/* Returns a TCP port on 127.0.0.1 that was free a moment ago, or 0. */
int nw_test_free_port(void);

/* Fills each of the n buffers (cap bytes each) with "tcp://127.0.0.1:PORT" on a free port,
 * all different (nw_test_free_port alone may hand out a port twice before anything binds).
 * Returns 0, or -1 when no free port was found. */
int nw_test_free_endpoints(char *const eps[], size_t n, size_t cap);

#endif
