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
 */
#include "config.h"

/* The benchmark's frame format, so that echo-bench and raw-tls measure alike. */
#include "../../tests/bench/bench_frame.h"

#include "host.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR BENCH_FRAME_HDR

struct bench {
    struct host *h;
    pt_conn *c;
    uint64_t count, size, sent, received;
    unsigned char *in, *seen;
    uint64_t *rtt;
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
    for (size_t i = HDR; i < b->size; i++) {
        if (b->in[i] != bench_pattern(seq, i)) {
            host_error(b->h, "frame %llu corrupted at byte %zu", (unsigned long long)seq, i);
            return -1;
        }
    }
    b->seen[seq] = 1;
    b->rtt[b->received++] = now - bench_get64(b->in + 8);
    return 0;
}


int cmd_echo_bench(int argc, char **argv)
{
    struct host h;
    struct flag flags[40];
    size_t n = 0;
    uint64_t count = 1000, size = 1200, window = 1, timeout_ms = 5000, batch = 64;
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
    flags[n].name = NULL;
    rc = host_parse(&h, "echo-bench",
                    "-transport=MODE [-peer HOST:PORT] -count=N -size=BYTES -window=W",
                    "Send N frames of BYTES bytes to a peer that echoes them (pilot-transport\n"
                    "echo, or a beacon in echo mode), at most W in flight, check that each\n"
                    "comes back intact, and print:\n"
                    "  RESULT frames=N bytes=B seconds=S fps=F mbps=M rtt_p50_us=P rtt_p99_us=Q\n"
                    "bytes counts one direction; mbps is megabits per second of those bytes;\n"
                    "rtt is from send to echo, per frame.",
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

    struct bench b = { &h, c, count, size, 0, 0, in, seen, rtt };
    uint64_t start = ptu_now_ns();
    const pt_addr *dst = h.has_peer ? &h.peer_addr : NULL;
    int many = batch > 1 && h.plugin->send_many != NULL;
    while (b.received < count) {
        /* Send what the window allows, in batches. */
        while (b.sent < count && b.sent - b.received < window) {
            size_t k = 0;
            for (; k < batch && b.sent + k < count && b.sent + k - b.received < window; k++) {
                unsigned char *f = out + k * size;
                bench_put64(f, b.sent + k);
                bench_put64(f + 8, ptu_now_ns());
                for (size_t i = HDR; i < size; i++)
                    f[i] = bench_pattern(b.sent + k, i);
                frames[k] = (pt_frame){ f, size, dst };
            }
            if (many) {
                rc = h.plugin->send_many(c, frames, k);
            } else {
                rc = h.plugin->send(c, frames[0].data, size, dst);
                if (rc >= 0)
                    rc = 1;
            }
            if (rc < 0) {
                host_error(&h, "send frame %llu: %s", (unsigned long long)b.sent,
                           host_conn_error(&h, c, rc, why, sizeof why));
                goto out;
            }
            b.sent += (uint64_t)rc;
        }
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
           "rtt_p99_us=%.1f\n",
           (unsigned long long)count, (unsigned long long)(count * size), secs,
           (double)count / secs, (double)(count * size) * 8 / 1e6 / secs,
           (double)rtt[count / 2] / 1e3, (double)rtt[(count * 99) / 100] / 1e3);
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
