/*
 * trim.h -- when the WSS plugin asks glibc to hand freed heap back to the
 * system (malloc_trim, wss.c).  Pure arithmetic, for the unit test
 * (tests/unit/test-wss-trim.c).  Prefix wss_trim_.
 *
 * Why the plugin trims at all: a link's big buffers are mmapped and go
 * back exactly at free (link.c), but the rest of a connection -- about
 * 100 KB of libcurl's, GnuTLS's and our own blocks -- is heap, and glibc
 * returns heap only from its top: 100 connections freed left 10.1 MB
 * private, pinned below the top by blocks that outlive them (libraries'
 * caches, later allocations).  malloc_trim(0) gives back every free page
 * in the heap (madvise), leaving 1.1-1.2 MB.
 *
 * Why so rarely: it is process-wide (the host's whole heap, not only
 * ours) and walks all of it, about 5 ms for 36 MB.  So only when the live
 * connections have fallen to half of their high mark, and by at least
 * WSS_TRIM_MIN: a handful of times however many are freed (4 for 100),
 * never in a dial-close loop, never for a host holding a few.
 */
#ifndef PT_WSS_TRIM_H
#define PT_WSS_TRIM_H

#include <stddef.h>

#define WSS_TRIM_MIN 8

typedef struct wss_trim {
    size_t live; /* connections dialled and not yet freed */
    size_t mark; /* the most live since the last trim */
} wss_trim;

/* A connection was dialled. */
static inline void wss_trim_up(wss_trim *t)
{
    if (++t->live > t->mark)
        t->mark = t->live;
}

/* A connection was freed: returns 1 when the caller should trim now (the
 * mark then starts again from the live count), else 0. */
static inline int wss_trim_down(wss_trim *t)
{
    t->live--;
    if (t->mark - t->live < WSS_TRIM_MIN || t->live > t->mark / 2)
        return 0;
    t->mark = t->live;
    return 1;
}

#endif
