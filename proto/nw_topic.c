#include "nw_topic.h"

#include <string.h>

bool nw_topic_valid(const char *name, size_t len)
{
    if (len == 0 || len > NW_TOPIC_MAX)
        return false;
    size_t segment = 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == '.') {
            if (segment == 0)
                return false;
            segment = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            segment++;
        } else {
            return false;
        }
    }
    return segment > 0;
}

bool nw_topic_matches(const char *filter, const char *topic)
{
    size_t flen = strlen(filter);
    if (flen == 0)
        return true;
    return strncmp(filter, topic, flen) == 0 && (topic[flen] == '\0' || topic[flen] == '.');
}

bool nw_topic_is_control(const char *frame, size_t len)
{
    return len > 0 && frame[0] == '$';
}
