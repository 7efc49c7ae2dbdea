/*
 * cmd_echo_bench.c -- "pilot-transport echo-bench": send numbered frames to
 * an echo peer with at most -window in flight, check that every one comes
 * back intact, and report throughput and round-trip times.
 *
 * Frame layout: sequence (8 bytes), send time in ns (8), then a pattern
 * derived from the sequence number, so corruption and mix-ups are caught.
 */
#include "config.h"

#include "bench_frame.h"

#include "host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR BENCH_FRAME_HDR


int cmd_echo_bench(int argc, char **argv)
{
    struct host h;
    struct flag flags[40];
    size_t n = 0;
    uint64_t count = 1000, size = 1200, window = 1, timeout_ms = 5000;
    pt_conn *c = NULL;
    unsigned char *out = NULL, *in = NULL, *seen = NULL;
    uint64_t *rtt = NULL;
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
    if (count == 0 || size < HDR || window == 0 || timeout_ms == 0) {
        host_error(&h, "need -count >= 1, -size >= %d, -window >= 1 and -timeout > 0", HDR);
        return EXIT_USAGE;
    }
    out = malloc(size);
    in = malloc(PT_MAX_FRAME);
    seen = calloc(count, 1);
    rtt = malloc(count * sizeof *rtt);
    if (!out || !in || !seen || !rtt) {
        host_error(&h, "out of memory for %llu frames", (unsigned long long)count);
        goto out;
    }
    if ((rc = host_dial(&h, &c, NULL)) != 0) {
        status = rc;
        goto out;
    }

    uint64_t sent = 0, received = 0, start = host_now_ns();
    const pt_addr *dst = h.has_peer ? &h.peer_addr : NULL;
    while (received < count) {
        while (sent < count && sent - received < window) {
            bench_put64(out, sent);
            bench_put64(out + 8, host_now_ns());
            for (size_t i = HDR; i < size; i++)
                out[i] = bench_pattern(sent, i);
            rc = h.plugin->send(c, out, size, dst);
            if (rc < 0) {
                host_error(&h, "send frame %llu: %s", (unsigned long long)sent,
                           host_conn_error(&h, c, rc, why, sizeof why));
                goto out;
            }
            sent++;
        }
        rc = h.plugin->recv(c, in, PT_MAX_FRAME, NULL, (int)timeout_ms);
        if (rc == PT_ETIMEDOUT) {
            host_error(&h, "no echo for %llu ms: %llu of %llu frames came back",
                       (unsigned long long)timeout_ms, (unsigned long long)received,
                       (unsigned long long)count);
            goto out;
        }
        if (rc < 0) {
            host_error(&h, "recv: %s", host_conn_error(&h, c, rc, why, sizeof why));
            goto out;
        }
        uint64_t now = host_now_ns(), seq = (size_t)rc >= HDR ? bench_get64(in) : UINT64_MAX;
        if ((uint64_t)rc != size || seq >= sent || seen[seq]) {
            host_error(&h, "unexpected frame: %d bytes, sequence %llu (want %llu bytes, an "
                           "outstanding sequence)",
                       rc, (unsigned long long)seq, (unsigned long long)size);
            goto out;
        }
        for (size_t i = HDR; i < size; i++) {
            if (in[i] != bench_pattern(seq, i)) {
                host_error(&h, "frame %llu corrupted at byte %zu", (unsigned long long)seq, i);
                goto out;
            }
        }
        seen[seq] = 1;
        rtt[received++] = now - bench_get64(in + 8);
    }
    double secs = (double)(host_now_ns() - start) / 1e9;
    qsort(rtt, count, sizeof *rtt, bench_cmp_u64);
    printf("RESULT frames=%llu bytes=%llu seconds=%.6f fps=%.0f mbps=%.2f rtt_p50_us=%.1f "
           "rtt_p99_us=%.1f\n",
           (unsigned long long)count, (unsigned long long)(count * size), secs,
           (double)count / secs, (double)(count * size) * 8 / 1e6 / secs,
           (double)rtt[count / 2] / 1e3, (double)rtt[(count * 99) / 100] / 1e3);
    status = 0;
out:
    if (c) {
        h.plugin->close(c);
        h.plugin->free(c);
    }
    free(out);
    free(in);
    free(seen);
    free(rtt);
    return status;
}
