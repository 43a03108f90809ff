#include "nw_escape.h"

int nw_escape_write(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        int rc = (*p <= 0x20 || *p == '%' || *p == 0x7f) ? fprintf(f, "%%%02X", *p) : fputc(*p, f);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int s_hexval(int c)
{
    return (c >= '0' && c <= '9')   ? c - '0'
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                    : -1;
}

bool nw_escape_undo(char *s)
{
    char *out = s;
    for (char *p = s; *p != '\0'; p++) {
        if (*p != '%') {
            *out++ = *p;
            continue;
        }
        int hi = s_hexval(p[1]), lo = hi >= 0 ? s_hexval(p[2]) : -1;
        if (lo < 0 || (hi == 0 && lo == 0))
            return false;
        *out++ = (char)(hi * 16 + lo);
        p += 2;
    }
    *out = '\0';
    return out != s;
}
