/* counters.c -- report traffic counters through a versioned pt_stats. */
#include "config.h"

#include "counters.h"

#include <stddef.h>
#include <string.h>

/* ends[] below lists where each field ends: a field added to pt_stats
 * (after reserved_1_0, as a minor version would) must get its entry
 * there, or an older host's smaller struct would get part of it.  This
 * fails the build until it has. */
_Static_assert(sizeof(pt_stats) == offsetof(pt_stats, reserved_1_0) + sizeof(int32_t),
               "pt_stats grew: give the new field an entry in ends[] and update this check");

int ptu_counters_report(ptu_counters *k, int state, int last_error, pt_stats *out)
{
    pt_stats s;
    if (!out || out->struct_size < sizeof(uint32_t))
        return PT_EINVAL;
    memset(&s, 0, sizeof s);
    s.state = state;
    s.frames_out = atomic_load_explicit(&k->frames_out, memory_order_relaxed);
    s.bytes_out = atomic_load_explicit(&k->bytes_out, memory_order_relaxed);
    s.frames_in = atomic_load_explicit(&k->frames_in, memory_order_relaxed);
    s.bytes_in = atomic_load_explicit(&k->bytes_in, memory_order_relaxed);
    s.reconnects = atomic_load_explicit(&k->reconnects, memory_order_relaxed);
    s.dropped_in = atomic_load_explicit(&k->dropped_in, memory_order_relaxed);
    s.last_error = last_error;
    /* An older or smaller host struct: copy whole fields only, never the
     * first bytes of one, and say how far we wrote. */
    static const size_t ends[] = {
        offsetof(pt_stats, state) + sizeof s.state,
        offsetof(pt_stats, frames_out) + sizeof s.frames_out,
        offsetof(pt_stats, bytes_out) + sizeof s.bytes_out,
        offsetof(pt_stats, frames_in) + sizeof s.frames_in,
        offsetof(pt_stats, bytes_in) + sizeof s.bytes_in,
        offsetof(pt_stats, reconnects) + sizeof s.reconnects,
        offsetof(pt_stats, dropped_in) + sizeof s.dropped_in,
        offsetof(pt_stats, last_error) + sizeof s.last_error,
        sizeof s,
    };
    size_t n = sizeof(uint32_t);
    for (size_t i = 0; i < sizeof ends / sizeof ends[0] && ends[i] <= out->struct_size; i++)
        n = ends[i];
    s.struct_size = (uint32_t)n;
    memcpy(out, &s, n);
    return PT_OK;
}
