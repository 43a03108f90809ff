#include "nw_log.h"

#include "nw_error.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *s_program = "newswire";
static nw_log_level_t s_level = NW_LOG_INFO;

static const char *const s_level_names[] = {"error", "warn", "info", "debug"};

void nw_log_set_program(const char *name)
{
    const char *slash = strrchr(name, '/');
    s_program = slash ? slash + 1 : name;
}

void nw_log_set_level(nw_log_level_t level)
{
    s_level = level;
}

int nw_log_level_parse(const char *name, nw_log_level_t *level)
{
    for (int i = 0; i <= NW_LOG_DEBUG; i++) {
        if (strcmp(name, s_level_names[i]) == 0) {
            *level = (nw_log_level_t)i;
            return NW_OK;
        }
    }
    return NW_ERR_INVAL;
}

/* Messages quote text from the network (stream ids, alert ids, endpoints): replaces C0
 * controls, DEL and UTF-8 C1 controls with '?', so none reaches a terminal and a message
 * stays one line. */
static void s_defang(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            s[i] = '?';
        } else if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
                   (unsigned char)s[i + 1] <= 0x9f) {
            s[i] = s[i + 1] = '?';
            i++;
        }
    }
}

void nw_log_v(nw_log_level_t level, const char *fmt, va_list ap)
{
    if (level > s_level)
        return;

    char line[4096];
    struct timeval now;
    struct tm tm;
    gettimeofday(&now, NULL);
    gmtime_r(&now.tv_sec, &tm);

    size_t len = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    int n = snprintf(line + len, sizeof line - len, ".%03dZ %s[%d] %s: ", (int)(now.tv_usec / 1000),
                     s_program, (int)getpid(), s_level_names[level]);
    if (n > 0)
        len += (size_t)n;
    size_t msg = len;
    n = vsnprintf(line + len, sizeof line - len, fmt, ap);
    if (n > 0)
        len += (size_t)n;
    /* A message longer than the buffer is cut, but the line always ends in "\n". */
    if (len >= sizeof line - 1)
        len = sizeof line - 2;
    s_defang(line + msg, len - msg);
    line[len++] = '\n';

    const char *p = line;
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, p, len);
        if (w <= 0)
            return;
        p += w;
        len -= (size_t)w;
    }
}

void nw_log(nw_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nw_log_v(level, fmt, ap);
    va_end(ap);
}
