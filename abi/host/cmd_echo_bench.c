/*
 * cmd_echo_bench.c -- "pilot-transport echo-bench": send numbered frames to
 * an echo peer with at most -window in flight, check that every one comes
 * back intact, and report throughput and round-trip times.
 *
 * Frame layout: sequence (8 bytes), send time in ns (8), then a pattern
 * derived from the sequence number, so corruption and mix-ups are caught.
 *
 * Like a daemon, it sends what is ready together: the frames the window
 * allows go out in one send_many call (up to -batch), and every echo that
 * has arrived is taken before sending again.
 *
 * -rate=N paces it: frame i is due at start + i/N seconds, an absolute
 * schedule (a late frame does not push the later ones back; frames that
 * are due together go out together, within the window).  Between due
 * times it waits on the plugin's poll_fd with ppoll (nanoseconds: recv's
 * timeout counts whole milliseconds, longer than the gap at 4000/s) and
 * takes each echo as it comes, as a host's event loop does.
 */
#include "config.h"

/* The benchmark's frame format, so that echo-bench and raw-tls measure alike. */
#include "../../tests/bench/bench_frame.h"

#include "host.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HDR BENCH_FRAME_HDR

struct bench {
    struct host *h;
    pt_conn *c;
    uint64_t count, size, sent, received;
    unsigned char *in, *seen;
    uint64_t *rtt;
    /* Sending: frames in flight at most, per call, whether in send_many
     * calls, the destination (NULL: the transport's one peer). */
    uint64_t window, batch;
    int many;
    const pt_addr *dst;
    unsigned char *out; /* batch frames of size bytes */
    pt_frame *frames;
};

/* Check one echo and record its round trip; 0, or -1 after an error. */
static int take_echo(struct bench *b, int len)
{
    uint64_t now = ptu_now_ns(), seq = (size_t)len >= HDR ? bench_get64(b->in) : UINT64_MAX;
    if ((uint64_t)len != b->size || seq >= b->sent || b->seen[seq]) {
        host_error(b->h, "unexpected frame: %d bytes, sequence %llu (want %llu bytes, an "
                         "outstanding sequence)",
                   len, (unsigned long long)seq, (unsigned long long)b->size);
        return -1;
    }
    size_t bad = bench_first_bad(b->in, b->size, seq);
    if (bad < b->size) {
        host_error(b->h, "frame %llu corrupted at byte %zu", (unsigned long long)seq, bad);
        return -1;
    }
    b->seen[seq] = 1;
    b->rtt[b->received++] = now - bench_get64(b->in + 8);
    return 0;
}

/* Send frames until `until` are sent or the window is full, in calls of up
 * to batch frames (send_many), or one send per frame.  0, or -1 after an
 * error. */
static int send_upto(struct bench *b, uint64_t until)
{
    char why[PT_ERRMSG_MAX + 64];
    int rc;

    while (b->sent < until && b->sent - b->received < b->window) {
        size_t k = 0;
        for (; k < b->batch && b->sent + k < until && b->sent + k - b->received < b->window;
             k++) {
            unsigned char *f = b->out + k * b->size;
            bench_fill(f, b->size, b->sent + k);
            bench_put64(f + 8, ptu_now_ns()); /* last: the round trip is the transport's */
            b->frames[k] = (pt_frame){ f, b->size, b->dst };
        }
        if (b->many) {
            rc = b->h->plugin->send_many(b->c, b->frames, k);
        } else {
            rc = b->h->plugin->send(b->c, b->frames[0].data, b->size, b->dst);
            if (rc >= 0)
                rc = 1;
        }
        if (rc < 0) {
            host_error(b->h, "send frame %llu: %s", (unsigned long long)b->sent,
                       host_conn_error(b->h, b->c, rc, why, sizeof why));
            return -1;
        }
        b->sent += (uint64_t)rc;
    }
    return 0;
}

/* Take one echo if one is there, without waiting: 1, 0 (none: a rare
 * wake-up with nothing ready, pilot_transport.h), or -1 after an error
 * (said). */
static int take_one(struct bench *b)
{
    char why[PT_ERRMSG_MAX + 64];
    int rc = b->h->plugin->recv(b->c, b->in, PT_MAX_FRAME, NULL, 0);

    if (rc == PT_ETIMEDOUT)
        return 0;
    if (rc < 0) {
        host_error(b->h, "recv: %s", host_conn_error(b->h, b->c, rc, why, sizeof why));
        return -1;
    }
    return take_echo(b, rc) != 0 ? -1 : 1;
}

/* The paced run (-rate): frame i is due at start + bench_due_ns(i, rate).
 * Sends what is due (the window allowing), then waits on poll_fd until an
 * echo comes or the next frame is due, and takes one echo per wake-up
 * (poll_fd is level-triggered: the next ppoll returns at once while more
 * are ready), as raw-tls reads one record per wake-up: at a pace echoes
 * come one at a time, and draining until recv says there is nothing would
 * cost a read per echo that finds nothing.  Gives up when frames are in
 * flight and nothing has come back for timeout_ms.  0, or -1 after an
 * error. */
static int run_paced(struct bench *b, uint64_t rate, uint64_t timeout_ms, uint64_t start)
{
    struct pollfd pf = { b->h->plugin->poll_fd(b->c), POLLIN, 0 };
    const uint64_t timeout_ns = timeout_ms * 1000000u;
    uint64_t idle_since = start; /* the last echo, or the send that ended an idle spell */

    if (pf.fd < 0) {
        host_error(b->h, "the plugin has no poll_fd (%d)", pf.fd);
        return -1;
    }
    while (b->received < b->count) {
        uint64_t now = ptu_now_ns();
        uint64_t due = bench_due_count(now - start, rate);
        if (due > b->count)
            due = b->count;
        if (b->sent == b->received && due > b->sent)
            idle_since = now;
        if (send_upto(b, due) != 0)
            return -1;
        /* Wait until the next frame is due, or, frames in flight, until
         * the timeout: whichever is first. */
        uint64_t until = UINT64_MAX;
        if (b->sent < b->count && b->sent - b->received < b->window)
            until = start + bench_due_ns(b->sent, rate);
        if (b->sent > b->received) {
            if (now - idle_since >= timeout_ns) {
                host_error(b->h, "no echo for %llu ms: %llu of %llu frames came back",
                           (unsigned long long)timeout_ms, (unsigned long long)b->received,
                           (unsigned long long)b->count);
                return -1;
            }
            if (idle_since + timeout_ns < until)
                until = idle_since + timeout_ns;
        }
        if (until <= now)
            continue;
        uint64_t wait = until - now;
        struct timespec ts = { (time_t)(wait / 1000000000u), (long)(wait % 1000000000u) };
        int pr = ppoll(&pf, 1, &ts, NULL);
        if (pr < 0 && errno != EINTR) {
            host_error(b->h, "poll: %s", strerror(errno));
            return -1;
        }
        if (pr <= 0)
            continue;
        int n = take_one(b);
        if (n < 0)
            return -1;
        if (n > 0)
            idle_since = ptu_now_ns();
    }
    return 0;
}

int cmd_echo_bench(int argc, char **argv)
{
    struct host h;
    struct flag flags[40];
    size_t n = 0;
    uint64_t count = 1000, size = 1200, window = 1, timeout_ms = 5000, batch = 64, rate = 0;
    pt_conn *c = NULL;
    unsigned char *out = NULL, *in = NULL, *seen = NULL;
    uint64_t *rtt = NULL;
    pt_frame *frames = NULL;
    struct host_closer cl;
    char why[PT_ERRMSG_MAX + 64];
    int rc, status = EXIT_FAIL;

    memset(&h, 0, sizeof h);
    host_common_flags(&h, flags, &n, 40);
    flags[n++] = (struct flag){ "count", FLAG_UINT, &count, "N", "frames to send (default 1000)",
                                100000000, NULL };
    flags[n++] = (struct flag){ "size", FLAG_UINT, &size, "BYTES",
                                "bytes per frame, 16..65536 (default 1200)", PT_MAX_FRAME, NULL };
    flags[n++] = (struct flag){ "window", FLAG_UINT, &window, "W",
                                "frames in flight at most, 1..65536 (default 1)", 65536, NULL };
    flags[n++] = (struct flag){ "batch", FLAG_UINT, &batch, "N",
                                "frames per send_many call, 1..1024 (default 64; 1, or a "
                                "plugin without send_many, sends one frame per send)",
                                1024, NULL };
    flags[n++] = (struct flag){ "timeout", FLAG_DURATION, &timeout_ms, "DURATION",
                                "give up when no echo arrives for this long (default 5s)", 0,
                                NULL };
    flags[n++] = (struct flag){ "rate", FLAG_UINT, &rate, "N",
                                "pace: frame i is due at start + i/N seconds, N frames per "
                                "second, 0..10000000 (default 0: unpaced)",
                                10000000, NULL };
    flags[n].name = NULL;
    rc = host_parse(&h, "echo-bench",
                    "-transport=MODE [-peer HOST:PORT] -count=N -size=BYTES -window=W "
                    "[-rate=N]",
                    "Send N frames of BYTES bytes to a peer that echoes them (pilot-transport\n"
                    "echo, or a beacon in echo mode), at most W in flight, check that each\n"
                    "comes back intact, and print:\n"
                    "  RESULT frames=N bytes=B seconds=S fps=F mbps=M rtt_p50_us=P rtt_p99_us=Q\n"
                    "bytes counts one direction; mbps is megabits per second of those bytes;\n"
                    "rtt is from send to echo, per frame.  -rate=N paces the sends (frame i\n"
                    "is due at start + i/N s; late frames go out at once, the window\n"
                    "allowing) and adds \"rate=N\" to the line: fps below N says the run\n"
                    "could not keep the pace.",
                    flags, argc, argv);
    if (rc >= 0)
        return rc;
    if (count == 0 || size < HDR || window == 0 || timeout_ms == 0 || batch == 0) {
        host_error(&h, "need -count >= 1, -size >= %d, -window >= 1, -batch >= 1 and "
                       "-timeout > 0", HDR);
        return EXIT_USAGE;
    }
    out = malloc(batch * size);
    frames = malloc(batch * sizeof *frames);
    in = malloc(PT_MAX_FRAME);
    seen = calloc(count, 1);
    rtt = malloc(count * sizeof *rtt);
    if (!out || !frames || !in || !seen || !rtt) {
        host_error(&h, "out of memory for %llu frames", (unsigned long long)count);
        goto out;
    }
    if (host_start_closer(&h, &cl) != 0)
        goto out;
    if ((rc = host_dial(&h, &c, NULL)) != 0) {
        status = rc;
        goto out;
    }
    host_closer_attach(&cl, h.plugin, c);

    struct bench b = { &h, c, count, size, 0, 0, in, seen, rtt, window, batch,
                       batch > 1 && h.plugin->send_many != NULL,
                       h.has_peer ? &h.peer_addr : NULL, out, frames };
    uint64_t start = ptu_now_ns();
    if (rate > 0 && run_paced(&b, rate, timeout_ms, start) != 0)
        goto out;
    while (b.received < count) {
        /* Send what the window allows, in batches. */
        if (send_upto(&b, count) != 0)
            goto out;
        /* Wait for one echo, then take every one that is there. */
        rc = h.plugin->recv(c, in, PT_MAX_FRAME, NULL, (int)timeout_ms);
        if (rc == PT_ETIMEDOUT) {
            host_error(&h, "no echo for %llu ms: %llu of %llu frames came back",
                       (unsigned long long)timeout_ms, (unsigned long long)b.received,
                       (unsigned long long)count);
            goto out;
        }
        while (rc >= 0) {
            if (take_echo(&b, rc) != 0)
                goto out;
            if (b.received == count)
                break;
            rc = h.plugin->recv(c, in, PT_MAX_FRAME, NULL, 0);
        }
        if (rc < 0 && rc != PT_ETIMEDOUT) {
            host_error(&h, "recv: %s", host_conn_error(&h, c, rc, why, sizeof why));
            goto out;
        }
    }
    double secs = (double)(ptu_now_ns() - start) / 1e9;
    qsort(rtt, count, sizeof *rtt, bench_cmp_u64);
    printf("RESULT frames=%llu bytes=%llu seconds=%.6f fps=%.0f mbps=%.2f rtt_p50_us=%.1f "
           "rtt_p99_us=%.1f",
           (unsigned long long)count, (unsigned long long)(count * size), secs,
           (double)count / secs, (double)(count * size) * 8 / 1e6 / secs,
           (double)rtt[count / 2] / 1e3, (double)rtt[(count * 99) / 100] / 1e3);
    if (rate > 0)
        printf(" rate=%llu", (unsigned long long)rate);
    putchar('\n');
    status = 0;
out:
    if (c)
        h.plugin->close(c);
    if (h.closer)
        host_closer_stop(&cl);
    if (c)
        h.plugin->free(c);
    free(out);
    free(frames);
    free(in);
    free(seen);
    free(rtt);
    return status;
}
