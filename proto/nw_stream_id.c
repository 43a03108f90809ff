#include "nw_stream_id.h"

#include "nw_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

/* Fills buf from /dev/urandom. Returns NW_OK or NW_ERR_IO. */
static int s_urandom(uint8_t *buf, size_t len)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NW_ERR_IO;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    return got == len ? NW_OK : NW_ERR_IO;
}

int nw_stream_id_new(char out[NW_STREAM_ID_LEN + 1])
{
    uint8_t raw[NW_STREAM_ID_LEN / 2];
    out[0] = '\0';
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw && s_urandom(raw, sizeof raw) != NW_OK)
        return NW_ERR_IO;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return NW_OK;
}

bool nw_stream_id_valid(const char *id, size_t len)
{
    if (len != NW_STREAM_ID_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return false;
    }
    return true;
}
