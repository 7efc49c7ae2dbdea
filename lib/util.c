/* util.c -- error buffers, number/duration/bool parsing, wiping, the clock. */
#include "config.h"

#include "util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int ptu_err(char *buf, size_t len, int code, const char *fmt, ...)
{
    if (buf && len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, len, fmt, ap);
        va_end(ap);
    }
    return code;
}

int ptu_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int ptu_parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out_ms)
{
    /* Work in microseconds so that "1.5ms" style fractions round sanely. */
    static const struct { const char *name; uint64_t us; } units[] = {
        { "ms", 1000ULL }, { "s", 1000000ULL }, { "m", 60000000ULL }, { "h", 3600000000ULL },
    };
    uint64_t total_us = 0;
    const uint64_t max_us = max_ms > UINT64_MAX / 1000 ? UINT64_MAX : max_ms * 1000;

    if (!s || !*s)
        return -1;
    if (strcmp(s, "0") == 0) {
        *out_ms = 0;
        return 0;
    }
    while (*s) {
        uint64_t whole = 0, frac = 0, frac_scale = 1;
        int digits = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            if (whole > (UINT64_MAX - 9) / 10)
                return -1;
            whole = whole * 10 + (uint64_t)(*s - '0');
        }
        if (*s == '.') {
            s++;
            for (; *s >= '0' && *s <= '9'; s++, digits++) {
                if (frac_scale < 1000000000ULL) { /* keep 9 fraction digits */
                    frac = frac * 10 + (uint64_t)(*s - '0');
                    frac_scale *= 10;
                }
            }
        }
        if (digits == 0)
            return -1;
        size_t i, n = sizeof units / sizeof units[0];
        for (i = 0; i < n; i++) {
            size_t ul = strlen(units[i].name);
            /* "m" must not match the "m" of "ms". */
            if (strncmp(s, units[i].name, ul) == 0 && !(ul == 1 && s[0] == 'm' && s[1] == 's'))
                break;
        }
        if (i == n)
            return -1;
        s += strlen(units[i].name);
        uint64_t u = units[i].us;
        /* frac < 10^9 and u <= 3.6*10^9: frac * u cannot overflow. */
        uint64_t frac_part = frac * u / frac_scale;
        if (whole > max_us / u || whole * u > max_us - frac_part)
            return -1;
        uint64_t part = whole * u + frac_part;
        if (part > max_us - total_us)
            return -1;
        total_us += part;
    }
    *out_ms = total_us / 1000;
    return 0;
}

int ptu_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    if (!s)
        return -1;
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

void ptu_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

uint64_t ptu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t ptu_now_ms(void)
{
    return (int64_t)(ptu_now_ns() / 1000000u);
}

int ptu_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}
