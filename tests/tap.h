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
 * with the file, line and values.  A point that is still running after
 * tap_point_limit_s seconds (times PT_TIME_SCALE) fails by name and ends
 * the program, so a hang is a failure that says where, not a stalled suite.
 */
#ifndef PT_TAP_H
#define PT_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

static int tap_n, tap_failed_points, tap_point_failed, tap_point_checks;

/* The watchdog: seconds a point may run, times PT_TIME_SCALE. */
static unsigned tap_point_limit_s = 120;
static const char *tap_point_name;
static pid_t tap_point_pid;
/* If set, the watchdog calls it before the program ends: async-signal-safe
 * cleanup, such as killing the point's child processes (a stopped one
 * would outlive the test for good). */
static void (*tap_on_hang)(void);

/* Decimal digits of v into buf (at least 12 bytes); their count. */
static inline size_t tap_utoa(char *buf, unsigned long v)
{
    char tmp[24];
    size_t n = 0, i;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < sizeof tmp);
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

/* SIGALRM in the point's own process: its TAP line, then exit (only
 * async-signal-safe calls; what the point had buffered in stdout is lost).
 * A forked child inherits the handler but not the alarm: one it sets
 * itself gets the default action. */
static void tap_on_alarm(int sig)
{
    static const char head[] = "not ok ", mid[] = " - ",
                      tail[] = " # hung: killed by the test's watchdog\n";
    char line[512];
    size_t n, k = strlen(tap_point_name ? tap_point_name : "");
    if (getpid() != tap_point_pid || !tap_point_name) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    if (k > 200)
        k = 200;
    memcpy(line, head, sizeof head - 1);
    n = sizeof head - 1;
    n += tap_utoa(line + n, (unsigned long)tap_n + 1);
    memcpy(line + n, mid, sizeof mid - 1);
    n += sizeof mid - 1;
    memcpy(line + n, tap_point_name, k);
    n += k;
    memcpy(line + n, tail, sizeof tail - 1);
    n += sizeof tail - 1;
    if (tap_on_hang)
        tap_on_hang();
    if (write(1, line, n) < 0 || write(2, line, n) < 0)
        _exit(3);
    _exit(3);
}

/* Arm the watchdog for the point about to run. */
static inline void tap_arm(const char *name)
{
    const char *env = getenv("PT_TIME_SCALE");
    unsigned times = env && atoi(env) > 1 ? (unsigned)atoi(env) : 1;
    tap_point_name = name;
    tap_point_pid = getpid();
    signal(SIGALRM, tap_on_alarm);
    alarm(tap_point_limit_s * times);
}

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
        tap_arm(#name);                                                                \
        test_##name();                                                                 \
        alarm(0);                                                                      \
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
