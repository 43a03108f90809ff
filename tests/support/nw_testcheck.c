#include "nw_testcheck.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

void nw_testproc_dump(nw_testproc_t *p, const char *what)
{
    if (p != NULL)
        fprintf(stderr, "--- %s stderr ---\n%s---\n", what,
                nw_testproc_output(p, NW_TESTPROC_STDERR));
}

void nw_testproc_pause(nw_testproc_t *any, int ms)
{
    nw_testproc_wait_output(any, NW_TESTPROC_STDERR, "\x01 never printed", ms);
}

void nw_check_logged(nw_testproc_t *p, const char *needle, int ms, const char *what)
{
    if (!nw_testproc_wait_output(p, NW_TESTPROC_STDERR, needle, ms)) {
        nw_testproc_dump(p, what);
        fail_msg("%s never logged '%s'", what, needle);
    }
}

void nw_check_stopped(nw_testproc_t **p, int ms, const char *what)
{
    nw_testproc_signal(*p, SIGTERM);
    int status = nw_testproc_wait_exit(*p, ms);
    if (status != 0) {
        nw_testproc_dump(*p, what);
        fail_msg("%s: exit %d after SIGTERM", what, status);
    }
}

size_t nw_test_count_file_lines(const char *path, const char *needle)
{
    size_t len, n = 0;
    char *text = nw_test_read_file(path, &len);
    if (text == NULL)
        return 0;
    for (char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        n += strstr(line, needle) != NULL;
    }
    free(text);
    return n;
}

void nw_check_file_lines(nw_testproc_t *watch, const char *path, size_t n, int ms, const char *what)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t have;
    while ((have = nw_test_count_file_lines(path, "")) < n) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms) {
            nw_testproc_dump(watch, what);
            fail_msg("%s: %zu lines, want %zu", path, have, n);
        }
        nw_testproc_pause(watch, 20);
    }
}
