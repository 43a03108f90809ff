#include "nw_testpub.h"

#include "nw_codec.h"
#include "nw_error.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

nw_testpub_t *nw_testpub_new(const char *bin)
{
    nw_testpub_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->bin = bin;
    if ((p->dir = nw_test_tmpdir("nw-testpub")) == NULL || (p->zctx = zmq_ctx_new()) == NULL) {
        nw_testpub_destroy(&p);
        return NULL;
    }
    snprintf(p->spool, sizeof p->spool, "%s/spool", p->dir);
    snprintf(p->journal, sizeof p->journal, "%s/journal", p->dir);
    return p;
}

void nw_testpub_dump(nw_testpub_t *p)
{
    if (p != NULL && p->proc != NULL)
        fprintf(stderr, "--- newswire-pub stderr ---\n%s---\n",
                nw_testproc_output(p->proc, NW_TESTPROC_STDERR));
}

bool nw_testpub_wait_log(nw_testpub_t *p, const char *needle, size_t n, int timeout_ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (nw_testproc_count_lines(p->proc, NW_TESTPROC_STDERR, needle) >= n)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (ms >= timeout_ms)
            break;
        /* Drains the daemon's output until one more line comes, or 50 ms pass. */
        size_t lines = nw_testproc_count_lines(p->proc, NW_TESTPROC_STDERR, "");
        nw_testproc_wait_lines(p->proc, NW_TESTPROC_STDERR, lines + 1, 50);
    }
    nw_testpub_dump(p);
    fprintf(stderr, "newswire-pub: fewer than %zu lines with '%s'\n", n, needle);
    return false;
}

bool nw_testpub_start(nw_testpub_t *p, const char *const *extra)
{
    const char *argv[40] = {p->bin,
                            "--spool",
                            p->spool,
                            "--journal",
                            p->journal,
                            "--bind",
                            "tcp://127.0.0.1:*",
                            "--heartbeat",
                            "100",
                            "--replay-bind",
                            "tcp://127.0.0.1:*"};
    size_t n = 11;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 39; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    if ((p->proc = nw_testproc_start(argv, NULL)) == NULL ||
        !nw_testpub_wait_log(p, "ready: stream ", 1, 10000))
        return false;
    const char *out = nw_testproc_output(p->proc, NW_TESTPROC_STDERR);
    const char *at = strstr(out, "listening on tcp://127.0.0.1:");
    if (at == NULL)
        return false;
    snprintf(p->endpoint, sizeof p->endpoint, "tcp://127.0.0.1:%d",
             atoi(at + strlen("listening on tcp://127.0.0.1:")));
    /* Counted before connecting: the publisher may log our subscription at once. */
    size_t subs = nw_testproc_count_lines(p->proc, NW_TESTPROC_STDERR, "subscriber subscribed");
    if ((p->sub = zmq_socket(p->zctx, ZMQ_SUB)) == NULL ||
        zmq_setsockopt(p->sub, ZMQ_SUBSCRIBE, "", 0) != 0 || zmq_connect(p->sub, p->endpoint) != 0)
        return false;
    return nw_testpub_wait_log(p, "subscriber subscribed", subs + 1, 10000);
}

bool nw_testpub_next(nw_testpub_t *p, nw_alert_t *alert, int timeout_ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (ms >= timeout_ms)
            return false;
        /* Keeps the daemon's pipes drained while waiting here. */
        nw_testproc_wait_lines(p->proc, NW_TESTPROC_STDERR, (size_t)-1, 1);
        zmq_pollitem_t item = {.socket = p->sub, .events = ZMQ_POLLIN};
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        zmq_msg_init(&body);
        zmq_msg_recv(&topic, p->sub, 0);
        zmq_msg_recv(&body, p->sub, 0);
        bool control = zmq_msg_size(&topic) > 0 && *(const char *)zmq_msg_data(&topic) == '$';
        int rc = control ? NW_ERR_INVAL
                         : nw_alert_decode(zmq_msg_data(&body), zmq_msg_size(&body), alert);
        zmq_msg_close(&topic);
        zmq_msg_close(&body);
        if (rc != NW_OK)
            continue;
        if (alert->seq <= p->last_seq) { /* another topic's copy */
            nw_alert_clear(alert);
            continue;
        }
        p->last_seq = alert->seq;
        return true;
    }
}

int nw_testpub_drop(nw_testpub_t *p, const char *name, const char *text)
{
    char tmp[2048], path[2048];
    snprintf(tmp, sizeof tmp, "%s/incoming/.%s.tmp", p->spool, name);
    snprintf(path, sizeof path, "%s/incoming/%s", p->spool, name);
    if (nw_test_write_file(tmp, text, strlen(text)) != 0)
        return -1;
    return rename(tmp, path);
}

int nw_testpub_stop(nw_testpub_t *p)
{
    int status = 0;
    if (p->proc != NULL) {
        nw_testproc_signal(p->proc, SIGTERM);
        status = nw_testproc_wait_exit(p->proc, 15000);
        if (status != 0)
            nw_testpub_dump(p);
        nw_testproc_destroy(&p->proc);
    }
    if (p->sub != NULL) {
        int linger = 0;
        zmq_setsockopt(p->sub, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(p->sub);
        p->sub = NULL;
    }
    return status;
}

void nw_testpub_destroy(nw_testpub_t **p_p)
{
    nw_testpub_t *p = *p_p;
    if (p == NULL)
        return;
    nw_testpub_stop(p);
    if (p->zctx != NULL)
        zmq_ctx_term(p->zctx);
    if (p->dir != NULL) {
        nw_test_rmtree(p->dir);
        free(p->dir);
    }
    free(p);
    *p_p = NULL;
}
