/*
 * bounds.c -- the WSS plugin's resource bounds (TAP).
 *
 * Flood: node PEER_NODE (8), in a child process, sends FLOOD_FRAMES frames
 * (or more, see the test) of FLOOD_PAYLOAD bytes as fast as it can through
 * the beacon (relay mode) to node NODE (7), this process, which does not
 * call recv meanwhile.  The plugin queues at most recv-buffer (RING)
 * frames and then stops reading, so the rest waits in TCP and behind it in
 * the beacon: this process's heap and resident memory grow by about the
 * ring, not by the flood (16 MiB, 64 rings).  Then everything is read
 * back, in order.  The beacon's counters show where the frames waited: it
 * has read them all from the flooder but written only part to this host.
 * Then the same with a pause longer than idle-ping + pong-timeout and the
 * beacon's idle timeout: the connection must live through it.
 *
 * Cycles: after a warm-up, BOUNDS_CYCLES dial + close + free against one
 * beacon leave the number of open descriptors unchanged and the heap as it
 * was, within HEAP_SLACK (see there).  200 cycles in make check, 10 under
 * valgrind (whose own leak check covers the rest), 10,000 in make chaos.
 * The program re-executes itself once without glibc's thread cache, which
 * would otherwise blur the heap figures (ch_exact_heap).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "pilot_transport_loader.h"
#include "tap.h"

#define RING 16                     /* recv-buffer of the flooded host */
#define FLOOD_PAYLOAD (16 * 1024)   /* payload of each flood frame */
#define FLOOD_FRAMES 1024           /* 16 MiB: 64 rings */
/* A flood frame as the host receives it: RelayDeliver + PILT + payload. */
#define FLOOD_MSG (5 + 38 + FLOOD_PAYLOAD)
/* What the host may add while flooded, beyond the ring's RING slots of
 * FLOOD_MSG bytes: libcurl's and GnuTLS's buffers of one connection
 * (the link's 64 KiB message buffer exists from the dial on).  An
 * unbounded queue would hold the whole flood, 16 MiB. */
#define FLOOD_HEAP_SLACK (1024 * 1024)
#define FLOOD_RSS_SLACK_KB (4 * 1024)

/* Heap growth allowed over all the cycles after the warm-up.  Each cycle
 * frees all it allocates, and without the thread cache mallinfo2 counts
 * exactly what is allocated (measured: +0 bytes after 10,000 cycles), so
 * this is headroom for a cache that settles later than the warm-up.  A
 * leak of even the smallest chunk (32 bytes) per cycle exceeds it after
 * 128 cycles. */
#define HEAP_SLACK 4096
/* Resident memory moves by whole pages, and glibc keeps some freed memory
 * mapped; measured: +0 KiB after 10,000 cycles.  256 pages of headroom. */
#define RSS_SLACK_KB 1024
#define WARMUP_CYCLES 10

static const char *const relay_flags[] = { "--mode=relay", NULL };

/* ---- Flood ------------------------------------------------------------------ */

/* The flooder, in the child: wait for the beacon's port on go_fd, dial as
 * the peer, send n frames, report "n_sent rc" on out_fd.  Never returns. */
static void flooder(uint32_t n_frames, int go_fd, int out_fd)
{
    static unsigned char msg[PT_MAX_FRAME];
    pt_conn *c = NULL;
    char go[16] = "", report[64];
    uint32_t sent = 0;
    beacon b = { .out_fd = -1, .err_fd = -1 };
    int rc = PT_EINVAL, n;

    if (read(go_fd, go, sizeof go - 1) > 0 && sscanf(go, "%d", &b.port) == 1)
        rc = dial_with(&b, &peer, NULL, &c);
    if (rc == PT_OK) {
        for (sent = 0; sent < n_frames; sent++) {
            ch_frame f = { sent, sent + 1, 1 };
            n = ch_frame_build(PEER_NODE, NODE, &f, FLOOD_PAYLOAD, msg, sizeof msg);
            rc = n < 0 ? PT_EINVAL : wss->send(c, msg, (size_t)n, NULL);
            if (rc != n)
                break;
            rc = PT_OK;
        }
    }
    n = snprintf(report, sizeof report, "%u %d\n", (unsigned)sent, rc);
    if (write(out_fd, report, (size_t)n) != n)
        rc = PT_EIO;
    done(c);
    _exit(rc == PT_OK ? 0 : 1);
}

/* Read the child's report line within ms (scaled). */
static int read_report(int fd, unsigned *sent, int *rc, int ms)
{
    char buf[64];
    size_t len = 0;
    int64_t deadline = now_ms() + (int64_t)ms * scale;

    while (len < sizeof buf - 1) {
        struct pollfd p = { fd, POLLIN, 0 };
        int64_t left = deadline - now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        if (strchr(buf, '\n'))
            return sscanf(buf, "%u %d", sent, rc) == 2 ? 0 : -1;
    }
    return -1;
}

static int reconnected(const pt_stats *s)
{
    return s->reconnects > 0 || s->state != PT_STATE_CONNECTED;
}

static int ring_full(const pt_stats *s)
{
    return s->frames_in >= RING || reconnected(s);
}

/* Ask the plugin's statistics (never recv: the host is not reading) every
 * 20 ms until until(stats) or ms (scaled) have passed. */
static pt_stats watch(pt_conn *c, int ms, int (*until)(const pt_stats *))
{
    int64_t deadline = now_ms() + (int64_t)ms * scale;
    pt_stats s = stats_of(c);
    while (!until(&s) && now_ms() < deadline) {
        struct timespec pause = { 0, 20 * 1000000L };
        nanosleep(&pause, NULL);
        s = stats_of(c);
    }
    return s;
}

/* Node PEER_NODE (a child process) sends n_frames frames to this host,
 * which dialled with options kv (recv-buffer RING among them) and reads
 * nothing until the beacon has taken them all and, with pause_ms, until
 * pause_ms more have passed without a reconnect.  Then checks where the
 * frames are (with pushback: held back at the beacon, not all written to
 * the host), this process's memory, and reads everything back in order. */
static void flood(const char *const *flags, const char *const *kv, uint32_t n_frames,
                  int pause_ms, int pushback)
{
    static unsigned char buf[PT_MAX_FRAME];
    ch_beacon cb;
    pt_conn *c = NULL;
    int go[2] = { -1, -1 }, out[2] = { -1, -1 }, rc, status = 0;
    pid_t child = -1;
    unsigned sent = 0;
    ch_stats st;

    /* The child first, while this process has no thread (the beacon's
     * reader is one): a fork beside threads is fragile, and ThreadSanitizer
     * refuses it. */
    memset(&cb, 0, sizeof cb);
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
        CHECK(0);
        return;
    }
    fflush(stdout);
    child = fork();
    if (child == 0) {
        close(go[1]);
        close(out[0]);
        flooder(n_frames, go[0], out[1]);
    }
    if (child > 0)
        harness_track_child(child); /* it holds our stdout, the TAP driver's pipe */
    close(go[0]);
    close(out[1]);
    go[0] = out[1] = -1;
    CHECK(child > 0);
    if (ch_beacon_start(&cb, 0, flags) != 0) {
        CHECK(0);
        goto out;
    }
    rc = dial_with(&cb.b, &me, kv, &c);
    CHECK_EQ_INT(rc, PT_OK);
    if (rc != PT_OK || child < 0) {
        printf("# dial: %s\n", err);
        goto out;
    }

    /* This host is connected (the beacon has somewhere to deliver to):
     * measure, then let the flood go. */
    size_t heap0 = ch_heap_used();
    long rss0 = ch_rss_kb();
    char port[16];
    int plen = snprintf(port, sizeof port, "%d\n", cb.b.port);
    CHECK(write(go[1], port, (size_t)plen) == plen);
    rc = read_report(out[0], &sent, &status, 120000);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(sent, n_frames);
    if (rc != 0 || sent != n_frames) {
        printf("# the flooder sent %u frames (last result %d)\n", sent, status);
        goto out;
    }
    /* The beacon reads the flooder at its own pace: wait until it has
     * taken every frame (its counters, asked for every 20 ms). */
    int64_t deadline = now_ms() + 60000 * (int64_t)scale;
    memset(&st, 0, sizeof st);
    while (ch_beacon_stats(&cb, &st, 5000) == 0 && st.frames_in < n_frames &&
           now_ms() < deadline) {
        struct timespec pause = { 0, 20 * 1000000L };
        nanosleep(&pause, NULL);
    }
    CHECK_EQ_INT(st.frames_in, n_frames);

    /* Where the flood is: the ring in the plugin (it reads for a host
     * outside recv on a tick), the rest in TCP and in the beacon's queue
     * for this host. */
    pt_stats ps = watch(c, 5000, ring_full);
    CHECK_EQ_INT(ps.frames_in, RING);
    if (pause_ms > 0)
        ps = watch(c, pause_ms, reconnected);
    size_t heap1 = ch_heap_used();
    long rss1 = ch_rss_kb();
    uint64_t beacon_drops = ch_beacon_stats(&cb, &st, 5000) == 0 ? st.drops : UINT64_MAX;
    printf("# flooded %u frames of %d bytes (%u KiB, the ring holds %d): the beacon has "
           "written %" PRIu64 " to the host, the plugin has read %" PRIu64 "\n",
           (unsigned)n_frames, FLOOD_PAYLOAD, (unsigned)(n_frames * (FLOOD_PAYLOAD / 1024)),
           RING, st.frames_out, ps.frames_in);
    printf("# host heap %+ld KiB (%zu -> %zu), VmRSS %+ld KiB (%ld -> %ld)\n",
           ((long)heap1 - (long)heap0) / 1024, heap0, heap1, rss1 - rss0, rss0, rss1);
    if (pushback)
        CHECK(st.frames_out < n_frames); /* TCP pushed back to the beacon */
    CHECK_EQ_INT(ps.frames_in, RING); /* and not one more */
    CHECK_EQ_INT(ps.dropped_in, 0);
    CHECK_EQ_INT(ps.reconnects, 0);
    CHECK_EQ_INT(ps.state, PT_STATE_CONNECTED);
    CHECK_EQ_INT(beacon_drops, 0); /* nor did the beacon drop the silent host */
    if (ps.reconnects || ps.state != PT_STATE_CONNECTED) {
        char e[PT_ERRMSG_MAX];
        wss->last_error(c, e, sizeof e);
        printf("# the plugin reconnected while the host was not reading: %s\n", e);
    }
    if (ch_plain_malloc()) {
        CHECK((long)heap1 - (long)heap0 <= (long)RING * FLOOD_MSG + FLOOD_HEAP_SLACK);
        CHECK(rss1 - rss0 <= (long)RING * FLOOD_MSG / 1024 + FLOOD_RSS_SLACK_KB);
    } else {
        printf("# memory figures not checked: valgrind's or a sanitizer's allocator\n");
    }

    /* Now read it all: every frame, intact, in order.  (After a reconnect
     * frames are gone: count what is left without waiting long for it.) */
    int rto = ps.reconnects || ps.state != PT_STATE_CONNECTED ? 500 : 10000;
    uint32_t got = 0, bad = 0;
    for (got = 0; got < n_frames; got++) {
        char why[256] = "";
        ch_frame f = { 0, 0, 0 };
        rc = wss->recv(c, buf, sizeof buf, NULL, rto * scale);
        if (rc < 0) {
            printf("# recv of frame %u: %d (%s)\n", (unsigned)got, rc, pt_strerror(rc));
            break;
        }
        if (ch_frame_check(buf, (size_t)rc, PEER_NODE, NODE, &f, why, sizeof why) != 0 ||
            f.seq != got) {
            if (bad++ == 0)
                printf("# frame %u: %s (seq %u)\n", (unsigned)got, why, (unsigned)f.seq);
        }
    }
    CHECK_EQ_INT(got, n_frames);
    CHECK_EQ_INT(bad, 0);
    ps = stats_of(c);
    CHECK_EQ_INT(ps.dropped_in, 0);
    CHECK_EQ_INT(ps.reconnects, 0);

out:
    done(c);
    if (go[1] >= 0)
        close(go[1]);
    if (out[0] >= 0)
        close(out[0]);
    if (child > 0) {
        CHECK(waitpid(child, &status, 0) == child);
        harness_untrack_child(child);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            printf("# the flooder's wait status is 0x%x\n", status);
    }
    if (tap_point_failed)
        ch_beacon_tail(&cb);
    ch_beacon_stop(&cb, SIGTERM, NULL, NULL);
}

/* The largest send buffer TCP may give the beacon's socket to this host
 * (net.ipv4.tcp_wmem), in bytes; 4 MiB if unknown. */
static long tcp_wmem_max(void)
{
    long lo, def, max = 4L << 20;
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
    if (f) {
        if (fscanf(f, "%ld %ld %ld", &lo, &def, &max) != 3)
            max = 4L << 20;
        fclose(f);
    }
    return max;
}

TEST(flood_is_held_back_by_tcp_and_memory_stays_bounded)
{
    const char *kv[] = { "recv-buffer", PT_STRINGIFY(RING), NULL };
    /* Since this host reads nothing, its receive window stays small and
     * what the beacon cannot write waits in its socket's send buffer, then
     * in its queue.  Flood at least 3 such buffers (up to 48 MiB, under
     * the beacon's 64 MiB limit per peer) so that some must wait in the
     * beacon's queue. */
    long frames = 3 * tcp_wmem_max() / FLOOD_PAYLOAD;
    if (frames < FLOOD_FRAMES)
        frames = FLOOD_FRAMES;
    if (frames > 3 * FLOOD_FRAMES)
        frames = 3 * FLOOD_FRAMES;
    if (scale > 1) {
        /* Valgrind encrypts and decrypts 16 MiB in minutes.  An eighth of
         * it fits in the kernel's socket buffers, so the pushback to the
         * beacon is not checked; the memory figures are not either. */
        printf("# PT_TIME_SCALE=%d: %d frames, no pushback check\n", scale, FLOOD_FRAMES / 8);
        flood(relay_flags, kv, FLOOD_FRAMES / 8, 0, 0);
        return;
    }
    flood(relay_flags, kv, (uint32_t)frames, 0, 1);
}

/* The host stops reading for longer than idle-ping + pong-timeout while its
 * ring is full.  The link is alive (frames wait in it), so the plugin must
 * not take the pong it cannot read for a half-open connection, close it
 * and redial: that would drop every frame waiting in TCP and at the beacon
 * (and, with the ring still full, do it again every period).  Nor may it
 * fall silent: a beacon drops a peer it has heard nothing from for its
 * idle timeout (here 2 s, 8 idle-pings), and the pause is longer.  The
 * pong timeout leaves a busy machine a second to read a pong before the
 * ring is full. */
TEST(host_pausing_longer_than_idle_ping_keeps_its_connection)
{
    char idle[48];
    snprintf(idle, sizeof idle, "--idle-timeout=%d", 2 * scale);
    const char *flags[] = { "--mode=relay", idle, NULL };
    const char *kv[] = { "recv-buffer", PT_STRINGIFY(RING), "idle-ping", dur(250),
                         "pong-timeout", dur(1000), NULL };
    /* 4 rings: the ring fills, the rest waits in TCP. */
    flood(flags, kv, 4 * RING, 2500, 0);
}

/* ---- Dial/close cycles ---------------------------------------------------- */

static long cycles;

static void cycle(const beacon *b, long n, long *failed)
{
    for (long i = 0; i < n; i++) {
        pt_conn *c = NULL;
        int rc = dial_with(b, &me, NULL, &c);
        if (rc != PT_OK) {
            if ((*failed)++ == 0)
                printf("# dial %ld: %d: %s\n", i, rc, err);
            continue;
        }
        done(c);
    }
}

TEST(dial_close_cycles_leak_no_descriptor_and_no_memory)
{
    ch_beacon cb;
    ch_stats st;
    long failed = 0;

    if (ch_beacon_start(&cb, 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    cycle(&cb.b, WARMUP_CYCLES, &failed);
    int fds0 = ch_open_fds();
    size_t heap0 = ch_heap_used();
    long rss0 = ch_rss_kb();
    int64_t t0 = now_ms();
    cycle(&cb.b, cycles, &failed);
    int64_t ms = now_ms() - t0;
    int fds1 = ch_open_fds();
    size_t heap1 = ch_heap_used();
    long rss1 = ch_rss_kb();

    printf("# %ld dial/close cycles in %" PRId64 " ms: open fds %d -> %d, heap %zu -> %zu "
           "(%+ld bytes), VmRSS %ld -> %ld KiB\n", cycles, ms, fds0, fds1, heap0, heap1,
           (long)heap1 - (long)heap0, rss0, rss1);
    CHECK_EQ_INT(failed, 0);
    CHECK_EQ_INT(fds1, fds0);
    if (ch_plain_malloc()) {
        CHECK((long)heap1 - (long)heap0 <= HEAP_SLACK);
        CHECK(rss1 - rss0 <= RSS_SLACK_KB);
    } else {
        printf("# memory not checked: valgrind's or a sanitizer's allocator (their leak "
               "checks run)\n");
    }
    /* Every one of them was a whole dial, auth included. */
    CHECK_EQ_INT(ch_beacon_stats(&cb, &st, 5000), 0);
    CHECK_EQ_INT(st.auth_ok, WARMUP_CYCLES + cycles);
    if (tap_point_failed)
        ch_beacon_tail(&cb);
    ch_beacon_stop(&cb, SIGTERM, NULL, NULL);
}

int main(int argc, char **argv)
{
    (void)argc;
    ch_exact_heap(argv);
    if (ch_init() != 0)
        return 1;
    tap_on_hang = harness_kill_children; /* no beacon or flooder outlives a hang */
    cycles = ch_env_long("BOUNDS_CYCLES", scale > 1 ? 10 : 200);
    RUN(flood_is_held_back_by_tcp_and_memory_stays_bounded);
    RUN(host_pausing_longer_than_idle_ping_keeps_its_connection);
    RUN(dial_close_cycles_leak_no_descriptor_and_no_memory);
    ch_cleanup();
    return tap_done();
}
