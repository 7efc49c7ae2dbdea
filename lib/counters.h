/* counters.h -- a connection's traffic counters, updated lock-free by the
 * reader and writer threads and reported through pt_stats.  Internal, for
 * plugins.  Prefix: ptu_counters_. */
#ifndef PT_COUNTERS_H
#define PT_COUNTERS_H

#include <stdatomic.h>
#include <stddef.h>

#include "pilot_transport.h"

typedef struct ptu_counters {
    atomic_uint_fast64_t frames_out, bytes_out, frames_in, bytes_in, reconnects, dropped_in;
} ptu_counters;

static inline void ptu_counters_out(ptu_counters *k, size_t bytes)
{
    atomic_fetch_add_explicit(&k->frames_out, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&k->bytes_out, bytes, memory_order_relaxed);
}

static inline void ptu_counters_in(ptu_counters *k, size_t bytes)
{
    atomic_fetch_add_explicit(&k->frames_in, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&k->bytes_in, bytes, memory_order_relaxed);
}

static inline void ptu_counters_bump(atomic_uint_fast64_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* Fill *out (whose struct_size the caller set) with the counters, state and
 * last error, writing no more than the caller's struct has room for.
 * Returns PT_OK, or PT_EINVAL for a missing or impossibly small struct. */
int ptu_counters_report(ptu_counters *k, int state, int last_error, pt_stats *out);

#endif
