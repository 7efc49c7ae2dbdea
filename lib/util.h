/*
 * util.h -- small helpers shared by the plugins, the loader and the host.
 * Internal: not installed, not part of the ABI.  Prefix: ptu_.
 */
#ifndef PT_UTIL_H
#define PT_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pilot_transport.h"

#if defined(__GNUC__)
#define PTU_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PTU_PRINTF(f, a)
#endif

/* snprintf into an error buffer that may be NULL or of size 0; returns code
 * so that callers can write `return ptu_err(buf, len, PT_EOPTION, ...)`. */
int ptu_err(char *buf, size_t len, int code, const char *fmt, ...) PTU_PRINTF(4, 5);

/* Strict decimal parses: the whole string, no sign, no spaces, no overflow. */
int ptu_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Durations as Go writes them: one or more <number><unit> with units
 * ms, s, m, h and an optional decimal fraction ("250ms", "1.5s", "1m30s").
 * A bare "0" is zero.  Result in milliseconds, at most max_ms. */
int ptu_parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out_ms);

/* Booleans: true/false, yes/no, on/off, 1/0 (case-insensitive). */
int ptu_parse_bool(const char *s, int *out);

/* Wipe memory in a way the compiler cannot elide. */
void ptu_wipe(void *p, size_t n);

/* The monotonic clock (CLOCK_MONOTONIC), for deadlines and durations:
 * never set back, so `deadline - now` cannot jump; meaningless as a date.
 * Milliseconds are signed so that time left may go negative; nanoseconds
 * come from the same reading, so ptu_now_ms() == ptu_now_ns() / 1000000.
 * Thread-safe; never fails on Linux. */
int64_t ptu_now_ms(void);
uint64_t ptu_now_ns(void);

/* A process's exit as an event: a pidfd (pidfd_open) that polls readable
 * once child pid has exited; -1 where the kernel has none (before 5.3). */
int ptu_pidfd_open(pid_t pid);

#endif
