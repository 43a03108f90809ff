#include "nw_replay_peer.h"

#include <stdio.h>

void nw_replay_peer_of(zmq_msg_t *msg, char *peer, size_t len)
{
    if (len == 0)
        return;
    const char *user = zmq_msg_gets(msg, "User-Id");
    const char *addr = zmq_msg_gets(msg, "Peer-Address");
    if (user != NULL && user[0] != '\0')
        snprintf(peer, len, "key %s", user);
    else if (addr != NULL && addr[0] != '\0')
        snprintf(peer, len, "addr %s", addr);
    else
        peer[0] = '\0';
}
