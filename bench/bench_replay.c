/*
 * bench_replay: the publisher's replay rate on its own, without a subscriber's work behind it.
 *
 *     bench_replay ENDPOINT COUNT [decode]
 *
 * Connects a DEALER to a running newswire-pub's replay endpoint (--replay-bind), asks for
 * everything from seq 1 (following "more" answers from their next_seq, as newswire-sub does)
 * and receives until COUNT alerts have arrived or an answer says the range is done. Only the
 * frames are counted (the topic must be NW_REPLAY_TOPIC); with "decode", each alert is also
 * decoded with nw_alert_decode, which shows what the decoder adds. Prints alerts/s from the
 * first request to the last alert. Fails (exit 1) on a refused request, a malformed end
 * marker, a frame that does not decode (with "decode") or no message for 10 s.
 */
#include "nw_codec.h"
#include "nw_error.h"
#include "nw_replay_msg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends a request for everything from from_seq. */
static int s_ask(void *sock, uint64_t req, uint64_t from_seq)
{
    nw_replay_request_t rq;
    nw_replay_request_init(&rq);
    rq.req = req;
    rq.start = NW_REPLAY_FROM_SEQ;
    rq.from_seq = from_seq;
    char *data = NULL;
    size_t size = 0;
    if (nw_replay_request_encode(&rq, &data, &size) != NW_OK)
        return -1;
    int rc = zmq_send(sock, data, size, 0) >= 0 ? 0 : -1;
    free(data);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (argc == 4 && strcmp(argv[3], "decode") != 0) || argc > 4) {
        fprintf(stderr, "usage: bench_replay ENDPOINT COUNT [decode]\n");
        return 2;
    }
    uint64_t want = strtoull(argv[2], NULL, 10);
    bool decode = argc == 4;
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int hwm = 1000, timeout = 10000, linger = 0;
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(sock, argv[1]) != 0) {
        fprintf(stderr, "bench_replay: cannot connect to %s: %s\n", argv[1], zmq_strerror(errno));
        return 1;
    }
    uint64_t got = 0, req = 1, answers = 1;
    double t0 = s_now(), t1 = t0;
    int rc = s_ask(sock, req, 1);
    zmq_msg_t part[3];
    for (int i = 0; i < 3; i++)
        zmq_msg_init(&part[i]);
    while (rc == 0 && got < want) {
        size_t n = 0;
        int more = 1;
        while (more) {
            zmq_msg_t *m = &part[n < 2 ? n : 2];
            if (zmq_msg_recv(m, sock, 0) < 0) {
                fprintf(stderr, "bench_replay: nothing for 10 s after %llu alerts\n",
                        (unsigned long long)got);
                return 1;
            }
            more = zmq_msg_more(m);
            n++;
        }
        const char *topic = zmq_msg_data(&part[0]);
        size_t tlen = zmq_msg_size(&part[0]);
        if (n == 3 && tlen == strlen(NW_REPLAY_TOPIC) &&
            memcmp(topic, NW_REPLAY_TOPIC, tlen) == 0) {
            got++;
            t1 = s_now();
            if (decode) {
                nw_alert_t a;
                int d = nw_alert_decode(zmq_msg_data(&part[2]), zmq_msg_size(&part[2]), &a);
                if (d != NW_OK) {
                    fprintf(stderr, "bench_replay: alert %llu: %s\n", (unsigned long long)got,
                            nw_strerror(d));
                    return 1;
                }
                nw_alert_clear(&a);
            }
            continue;
        }
        nw_replay_end_t end;
        if (n != 2 ||
            nw_replay_end_decode(zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), &end) != NW_OK) {
            fprintf(stderr,
                    "bench_replay: a message of %zu frames that is neither an alert nor "
                    "an end marker\n",
                    n);
            return 1;
        }
        if (end.status == NW_REPLAY_ERROR) {
            fprintf(stderr, "bench_replay: refused: %s\n", end.error);
            return 1;
        }
        if (end.status == NW_REPLAY_OK)
            break;
        answers++;
        rc = s_ask(sock, ++req, end.next_seq);
    }
    for (int i = 0; i < 3; i++)
        zmq_msg_close(&part[i]);
    double secs = t1 > t0 ? t1 - t0 : 1e-9;
    printf("replay %-6s %10.0f alerts/s  %llu alerts in %.3f s, %llu answers\n",
           decode ? "decode" : "count", (double)got / secs, (unsigned long long)got, secs,
           (unsigned long long)answers);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc == 0 ? 0 : 1;
}
