/*
 * bench_util.h -- small helpers every benchmark program shares: messages
 * and exit, the clock, page faults, medians, and --name=value flags.  Each program
 * defines bench_prog, its name in messages.  Benchmark code, not product.
 */
#ifndef PT_BENCH_UTIL_H
#define PT_BENCH_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

extern const char bench_prog[];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", bench_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The process's minor page faults so far (every page it touched first). */
static inline long minor_faults(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        die("getrusage: %s", strerror(errno));
    return ru.ru_minflt;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v. */
static inline double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline unsigned long num(const char *name, const char *v, unsigned long max)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || end == v || *end || n > max || v[0] == '-')
        die("--%s: want a number 0..%lu, got \"%s\"", name, max, v);
    return n;
}

/* One flag: --name=value into *str, or a number 0..max into *num, or a
 * switch (--name alone) setting *sw.  A table ends with name NULL. */
struct bench_flag {
    const char *name;
    const char **str;
    unsigned long *num;
    unsigned long max;
    int *sw;
};

/* Parse argv[first..argc) against the table; anything else is fatal. */
static inline void bench_parse_flags(int argc, char **argv, int first,
                                     const struct bench_flag *table)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        size_t klen = eq ? (size_t)(eq - a) : strlen(a);
        const struct bench_flag *f = table;
        if (strncmp(a, "--", 2) != 0)
            die("unexpected argument \"%s\" (flags are --name=value)", a);
        for (; f->name; f++)
            if (strlen(f->name) == klen - 2 && strncmp(a + 2, f->name, klen - 2) == 0)
                break;
        if (!f->name)
            die("unknown flag %s", a);
        if (f->sw && !eq)
            *f->sw = 1;
        else if (!eq || f->sw)
            die("%s: %s", a, f->sw ? "takes no value" : "needs a value (--name=value)");
        else if (f->str)
            *f->str = eq + 1;
        else
            *f->num = num(f->name, eq + 1, f->max);
    }
}

#endif
