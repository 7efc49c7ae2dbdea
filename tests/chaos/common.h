/*
 * common.h -- what the chaos run (chaos.c) and the resource bounds
 * (bounds.c) add to tests/wss/harness.h: the beacon's counters, a second
 * registered node, and the process's own resources.  Prefix: ch_.
 *
 * The beacon prints its counters only on stderr (a STATS line at SIGUSR1
 * and at exit), which harness.c's beacon_start() sends to /dev/null.  A
 * ch_beacon runs the same beacon_start() with a pipe as its stderr, and a
 * thread that reads the pipe keeps the latest STATS line and the last lines
 * of the log (for diagnostics), so a test can wait for a STATS line as an
 * event instead of polling a file.
 */
#ifndef PT_TEST_CHAOS_COMMON_H
#define PT_TEST_CHAOS_COMMON_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "harness.h"

/* The peer node of both programs: a UDP node in chaos.c, a second WSS node
 * (identity `peer`, registered by ch_init) in bounds.c. */
#define PEER_NODE 8

extern pt_identity peer;

/* harness_init(), then identity `peer` as PEER_NODE, added to the beacon's
 * registry.  0, or -1 after a "Bail out!" line. */
int ch_init(void);
void ch_cleanup(void);

/* The counters of one STATS line (tests/beacon/beacon.h, bc_stats). */
typedef struct ch_stats {
    uint64_t upgrades, auth_ok, frames_in, frames_out, drops;
    uint64_t relayed, relay_dropped, udp_in, udp_out, discovers;
    uint64_t tls_full, tls_resumed; /* TLS handshakes: new session, resumed */
} ch_stats;

#define CH_TAIL_LINES 12

typedef struct ch_beacon {
    beacon b;
    pthread_t reader;
    int reader_started;
    int err_fd; /* read end of the beacon's stderr */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned n_stats; /* STATS lines seen */
    char stats[1024]; /* the latest one */
    char tail[CH_TAIL_LINES][160];
    unsigned n_lines;
    int eof;
} ch_beacon;

/* beacon_start(&cb->b, "server", port, flags) with stderr captured. */
int ch_beacon_start(ch_beacon *cb, int port, const char *const *flags);
/* Stop it with sig, read its stderr to the end; the wait status, and in
 * *final (may be NULL) the counters of its last STATS line (all zero if it
 * printed none, as after SIGKILL).  Returns -1 if it was not running. */
int ch_beacon_stop(ch_beacon *cb, int sig, ch_stats *final, int *had_stats);
/* SIGUSR1, and wait (ms, scaled) for the STATS line it prints.  0 or -1. */
int ch_beacon_stats(ch_beacon *cb, ch_stats *out, int ms);
/* The last lines of its log as "# beacon: ..." diagnostics. */
void ch_beacon_tail(ch_beacon *cb);

/* Parse "STATS k=v k=v ..." into *out (unknown keys ignored).  0 or -1. */
int ch_stats_parse(const char *line, ch_stats *out);

/* ---- Numbered frames ---------------------------------------------------------
 *
 * A test frame is a beacon Relay (from -> to) carrying a PILT tunnel frame:
 * the Pilot header's sequence field holds seq and its CRC-32 covers the
 * payload, which is offer (8 bytes, big-endian: which send call offered it),
 * epoch (4: which beacon life it was sent in), then a pattern derived from
 * seq.  It arrives as a RelayDeliver (from, the same PILT frame). */

typedef struct ch_frame {
    uint32_t seq;
    uint64_t offer;
    uint32_t epoch;
} ch_frame;

#define CH_FRAME_MIN_PAYLOAD 12

/* Write the Relay message of frame f with a payload of payload_len bytes
 * (at least CH_FRAME_MIN_PAYLOAD) into out.  Its length, or -1 if it does
 * not fit in cap. */
int ch_frame_build(uint32_t from, uint32_t to, const ch_frame *f, size_t payload_len,
                   unsigned char *out, size_t cap);
/* Check a RelayDeliver from node `from` to node `to`: the message, the
 * PILT frame and its CRC, the header's nodes, the payload's length and
 * pattern.  0 with *f set, or -1 with the reason in why. */
int ch_frame_check(const unsigned char *msg, size_t len, uint32_t from, uint32_t to,
                   ch_frame *f, char *why, size_t whylen);

/* The CLOCK_REALTIME time ms (scaled) from now, for pthread_cond_timedwait
 * and pthread_mutex_timedlock. */
struct timespec ch_deadline(int ms);

/* An environment variable as a positive integer, else def. */
long ch_env_long(const char *name, long def);

/* Open file descriptors of this process (/proc/self/fd, without the one
 * used to list it). */
int ch_open_fds(void);
/* VmRSS in KiB (/proc/self/status), -1 if unknown. */
long ch_rss_kb(void);
/* Heap bytes in use (mallinfo2(): uordblks + hblkhd). */
size_t ch_heap_used(void);
/* Make heap figures exact: glibc's per-thread cache (tcache) keeps freed
 * blocks that mallinfo2 counts as in use, a few hundred KiB that fill up
 * over thousands of allocations and look like a slow leak.  With the
 * allocator's own (ch_plain_malloc), re-executes the program once with
 * GLIBC_TUNABLES=glibc.malloc.tcache_count=0; call first thing in main. */
void ch_exact_heap(char **argv);
/* Whether memory figures are the real allocator's: not under valgrind
 * (PT_RUN) or a sanitizer, whose allocators keep freed blocks in a
 * quarantine and report their own numbers (mallinfo2 says 0). */
int ch_plain_malloc(void);

#endif
