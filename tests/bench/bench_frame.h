/*
 * bench_frame.h -- the frames echo-bench and the raw TLS baseline send, so
 * that both measure the same thing: sequence (8 bytes, big-endian), send
 * time in ns (8), then a pattern derived from the sequence, which catches
 * corruption and mix-ups.  The time is stamped after the pattern is
 * written and read before it is checked, by every client: a round trip
 * is the transport's, not the pattern's (16 KiB of it is microseconds).  Also the schedule of a paced run, which
 * both follow.  Part of the benchmark; the host's echo-bench
 * includes it from here.  Not installed.
 */
#ifndef PT_BENCH_FRAME_H
#define PT_BENCH_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_FRAME_HDR 16

static inline void bench_put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static inline uint64_t bench_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static inline unsigned char bench_pattern(uint64_t seq, size_t i)
{
    return (unsigned char)(seq * 131 + i * 7 + 1);
}

/* Write frame seq's sequence and pattern into f (size bytes); the caller
 * stamps the send time (f + 8) last.  Every client fills and checks frames
 * with these two, so none pays more for the same bytes than another (a
 * loop whose bounds sit behind a pointer the bytes may alias is not
 * vectorised: ~0.4 us more per 1200-byte frame). */
static inline void bench_fill(unsigned char *f, size_t size, uint64_t seq)
{
    bench_put64(f, seq);
    for (size_t i = BENCH_FRAME_HDR; i < size; i++)
        f[i] = bench_pattern(seq, i);
}

/* The first byte of f (size bytes) past the header that is not frame seq's
 * pattern, or size when all are. */
static inline size_t bench_first_bad(const unsigned char *f, size_t size, uint64_t seq)
{
    size_t i = BENCH_FRAME_HDR;
    while (i < size && f[i] == bench_pattern(seq, i))
        i++;
    return i;
}

/* A paced run (echo-bench -rate, raw-tls --rate): frame i is due
 * bench_due_ns(i, rate) ns after the start, an absolute schedule, so a late
 * frame does not push the later ones back. */
static inline uint64_t bench_due_ns(uint64_t i, uint64_t rate)
{
    return i / rate * 1000000000u + i % rate * 1000000000u / rate;
}

/* How many frames are due elapsed ns after the start (frame 0 at once). */
static inline uint64_t bench_due_count(uint64_t elapsed, uint64_t rate)
{
    return elapsed / 1000000000u * rate + elapsed % 1000000000u * rate / 1000000000u + 1;
}

/* qsort comparator for round-trip times. */
static inline int bench_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

#endif
