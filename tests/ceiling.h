/*
 * ceiling.h -- upper bounds for tests that time something.  A busy machine
 * (two cores running builds beside the tests) can keep a process from a
 * CPU for a good part of a second, more than once, and valgrind makes
 * everything ~10x slower (make check-valgrind sets PT_TIME_SCALE=10).  So
 * an upper bound is what the code under test needs plus CEILING_SLACK_MS,
 * times the scale; lower bounds stay exact and get nothing.
 * (tests/wss/harness.h has the same rule as ceiling_ms(); header-only here
 * so that tests without the harness can share it.)
 */
#ifndef PT_TEST_CEILING_H
#define PT_TEST_CEILING_H

#include <stdint.h>
#include <stdlib.h>

#define CEILING_SLACK_MS 3000

/* PT_TIME_SCALE, at least 1. */
static inline int ceiling_scale(void)
{
    const char *s = getenv("PT_TIME_SCALE");
    int v = s ? atoi(s) : 1;
    return v > 1 ? v : 1;
}

/* The most a step that needs ms may take here. */
static inline int64_t ceiling_for(int64_t ms)
{
    return (ms + CEILING_SLACK_MS) * ceiling_scale();
}

#endif
