/* counters.c -- report traffic counters through a versioned pt_stats. */
#include "config.h"

#include "counters.h"

#include <string.h>

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
    /* An older host's struct is shorter: copy only what it has room for. */
    size_t n = out->struct_size < sizeof s ? out->struct_size : sizeof s;
    s.struct_size = (uint32_t)n;
    memcpy(out, &s, n);
    return PT_OK;
}
