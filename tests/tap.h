/*
 * tap.h -- a minimal Test Anything Protocol producer for C tests.
 *
 *   TEST(name) { ... CHECK(cond); CHECK_EQ_INT(a, b); CHECK_STR_CONTAINS(s, sub); }
 *   int main(void) { RUN(name); ...; return tap_done(); }
 *
 * Each RUN is one TAP test point, "ok" only if at least one CHECK ran and
 * every CHECK inside passed: a test that returns before checking anything
 * fails ("no checks ran") instead of passing silently.  A test that cannot
 * run here says so with SKIP(name, why).  Failed checks print a diagnostic
 * with the file, line and values.
 */
#ifndef PT_TAP_H
#define PT_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed_points, tap_point_failed, tap_point_checks;

#define TEST(name) static void test_##name(void)

/* The end of a test point: its TAP line. */
static inline void tap_end_point(const char *name)
{
    ++tap_n;
    if (tap_point_checks == 0) {
        tap_point_failed = 1;
        printf("# %s: no checks ran\n", name);
    }
    if (tap_point_failed)
        ++tap_failed_points;
    printf("%s %d - %s\n", tap_point_failed ? "not ok" : "ok", tap_n, name);
    fflush(stdout);
}

#define RUN(name)                                                                      \
    do {                                                                               \
        tap_point_failed = tap_point_checks = 0;                                       \
        test_##name();                                                                 \
        tap_end_point(#name);                                                          \
    } while (0)

#define SKIP(name, why)                                                                \
    do {                                                                               \
        printf("ok %d - %s # SKIP %s\n", ++tap_n, #name, why);                         \
        fflush(stdout);                                                                \
    } while (0)

#define CHECK(cond)                                                                    \
    do {                                                                               \
        ++tap_point_checks;                                                            \
        if (!(cond)) {                                                                 \
            tap_point_failed = 1;                                                      \
            printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
        }                                                                              \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                             \
    do {                                                                               \
        ++tap_point_checks;                                                            \
        long long tap_a_ = (long long)(a), tap_b_ = (long long)(b);                    \
        if (tap_a_ != tap_b_) {                                                        \
            tap_point_failed = 1;                                                      \
            printf("# %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a,  \
                   #b, tap_a_, tap_b_);                                                \
        }                                                                              \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                             \
    do {                                                                               \
        ++tap_point_checks;                                                            \
        const char *tap_a_ = (a), *tap_b_ = (b);                                       \
        if (!tap_a_ || !tap_b_ || strcmp(tap_a_, tap_b_) != 0) {                       \
            tap_point_failed = 1;                                                      \
            printf("# %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__,  \
                   #a, #b, tap_a_ ? tap_a_ : "(null)", tap_b_ ? tap_b_ : "(null)");     \
        }                                                                              \
    } while (0)

#define CHECK_STR_CONTAINS(s, sub)                                                     \
    do {                                                                               \
        ++tap_point_checks;                                                            \
        const char *tap_s_ = (s), *tap_sub_ = (sub);                                   \
        if (!tap_s_ || !strstr(tap_s_, tap_sub_)) {                                    \
            tap_point_failed = 1;                                                      \
            printf("# %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,     \
                   tap_s_ ? tap_s_ : "(null)", tap_sub_);                              \
        }                                                                              \
    } while (0)

static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed_points ? 1 : 0;
}

#endif
