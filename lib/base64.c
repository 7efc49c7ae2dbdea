/* base64.c -- strict standard base64 decoding. */
#include "config.h"

#include "base64.h"

#include <stdint.h>

#include "util.h"

/* The 6-bit value of an alphabet character, else -1 ('=' included). */
static int value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int ptu_base64_check(const char *s, size_t n, size_t *size)
{
    size_t pad = 0;

    if (n % 4 != 0 || (!s && n > 0))
        return -1;
    while (pad < n && pad < 3 && s[n - 1 - pad] == '=')
        pad++;
    if (pad > 2)
        return -1;
    for (size_t i = 0; i < n - pad; i++)
        if (value(s[i]) < 0)
            return -1;
    /* One '=' leaves 2 unused bits in the last character, two leave 4. */
    if (pad > 0 && (value(s[n - 1 - pad]) & (pad == 1 ? 0x3 : 0xF)) != 0)
        return -1;
    *size = n / 4 * 3 - pad;
    return 0;
}

int ptu_base64_decode(const char *s, size_t n, void *out, size_t cap, size_t *size)
{
    unsigned char *o = out;
    size_t need, j = 0;
    uint32_t group = 0;

    if (ptu_base64_check(s, n, &need) != 0 || need > cap || (!out && need > 0))
        return -1;
    /* Checked: every character before the padding has a value. */
    for (size_t i = 0; i < n; i += 4) {
        group = 0;
        for (size_t k = 0; k < 4; k++)
            group = group << 6 | (s[i + k] == '=' ? 0u : (uint32_t)value(s[i + k]));
        for (int shift = 16; shift >= 0 && j < need; shift -= 8)
            o[j++] = (unsigned char)(group >> shift);
    }
    ptu_wipe(&group, sizeof group); /* the last three bytes decoded */
    *size = need;
    return 0;
}
