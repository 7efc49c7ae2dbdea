/* quote.c -- printable copies of untrusted text for messages. */
#include "config.h"

#include "quote.h"

#include <string.h>

char *ptu_printable(char *out, size_t cap, const void *text, size_t n)
{
    const unsigned char *s = text;
    size_t keep, i;

    if (!out || cap == 0)
        return out;
    if (!s)
        n = 0;
    keep = cap > 4 ? cap - 4 : 0; /* room for "..." and the NUL */
    if (keep > n)
        keep = n;
    for (i = 0; i < keep; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    if (keep < n) {
        size_t dots = cap - 1 - i < 3 ? cap - 1 - i : 3;
        memset(out + i, '.', dots);
        i += dots;
    }
    out[i] = '\0';
    return out;
}
