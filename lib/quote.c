/* quote.c -- printable copies of untrusted text; URL passwords kept out. */
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

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_scheme_char(char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

int ptu_url_password(const char *url, size_t *off, size_t *len)
{
    const char *user, *sep, *at, *colon;

    if (!url)
        return 0;
    /* Anything but a valid scheme before the first "://" means the user
     * part starts at the beginning. */
    user = url;
    sep = strstr(url, "://");
    if (sep && sep > url && is_alpha(url[0])) {
        const char *c = url;
        while (c < sep && is_scheme_char(*c))
            c++;
        if (c == sep)
            user = sep + 3;
    }
    at = strrchr(user, '@');
    if (!at)
        return 0;
    colon = memchr(user, ':', (size_t)(at - user));
    if (!colon)
        return 0;
    *off = (size_t)(colon + 1 - url);
    *len = (size_t)(at - colon - 1);
    return 1;
}

void ptu_url_scrub(char *msg, size_t cap, const char *url)
{
    size_t off, n;

    if (ptu_url_password(url, &off, &n))
        ptu_scrub(msg, cap, url + off, n);
}

void ptu_scrub(char *msg, size_t cap, const char *pw, size_t n)
{
    size_t len, from = 0;
    int cut = 0;

    if (!msg || cap == 0 || !pw || n == 0)
        return;
    len = strnlen(msg, cap - 1);
    msg[len] = '\0';
    /* Left to right, never looking at the stars again: a password made of
     * '*' must not be found in its own replacement forever. */
    while (from < len) {
        char *p = memmem(msg + from, len - from, pw, n);
        if (!p)
            break;
        size_t pos = (size_t)(p - msg), tail = len - pos - n;
        /* pos + n <= len < cap, so the stars always cover the password. */
        size_t stars = cap - 1 - pos < 3 ? cap - 1 - pos : 3;
        if (pos + stars + tail > cap - 1) {
            tail = cap - 1 - pos - stars;
            cut = 1;
        }
        memmove(p + stars, p + n, tail);
        memset(p, '*', stars);
        len = pos + stars + tail;
        msg[len] = '\0';
        from = pos + stars;
    }
    /* The cut may have split a later occurrence: star what is left of it. */
    for (size_t k = n - 1; cut && k > 0; k--) {
        if (k <= len - from && memcmp(msg + len - k, pw, k) == 0) {
            memset(msg + len - k, '*', k);
            break;
        }
    }
}
