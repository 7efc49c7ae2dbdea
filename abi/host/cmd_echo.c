/*
 * cmd_echo.c -- "pilot-transport echo": send every datagram back where it
 * came from, until SIGINT/SIGTERM or -count datagrams.  A signal thread
 * cancels the dial or closes the connection (close wakes the blocked
 * recv), so shutdown goes through the same path a daemon's would.  With a
 * plugin that has recv_many (ABI 1.2), the datagrams already there are
 * taken in one call; otherwise one recv each.
 */
#include "config.h"

#include "closer.h"
#include "host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Datagrams taken per recv_many call, at most. */
#define BATCH 32

int cmd_echo(int argc, char **argv)
{
    struct host h;
    struct flag flags[32];
    size_t n = 0;
    uint64_t count = 0, echoed = 0;
    pt_conn *c = NULL;
    pt_addr local;
    pt_rframe slots[BATCH];
    char a[PT_ADDRSTRLEN], why[PT_ERRMSG_MAX + 64];
    struct host_closer cl;
    unsigned char *buf = NULL;
    int rc, status = 0, closed = 0;

    memset(&h, 0, sizeof h);
    host_common_flags(&h, flags, &n, 32);
    flags[n++] = (struct flag){ "count", FLAG_UINT, &count, "N",
                                "stop after echoing N datagrams (default 0: until a signal)", 0,
                                NULL };
    flags[n].name = NULL;
    rc = host_parse(&h, "echo", "-transport=MODE [flags]",
                    "Send every datagram received back to its source.  Prints\n"
                    "\"READY local=ADDR\" once listening, and \"DONE echoed=N\" at the end.\n"
                    "Stops on SIGINT or SIGTERM, or after -count datagrams.",
                    flags, argc, argv);
    if (rc >= 0)
        return rc;

    if ((rc = host_start_closer(&h, &cl)) != 0) /* before any other thread exists */
        return rc;
    if ((rc = host_dial(&h, &c, NULL)) != 0) {
        host_closer_stop(&cl);
        return rc;
    }
    host_closer_attach(&cl, h.plugin, c);
    h.plugin->local_addr(c, &local);
    printf("READY local=%s\n", pt_addr_format(&local, a, sizeof a));
    fflush(stdout);

    const size_t nslots = h.plugin->recv_many ? BATCH : 1;
    buf = malloc(nslots * PT_MAX_FRAME);
    if (!buf) {
        host_error(&h, "out of memory");
        status = EXIT_FAIL;
    }
    for (size_t i = 0; buf && i < nslots; i++)
        slots[i] = (pt_rframe){ .data = buf + i * PT_MAX_FRAME, .cap = PT_MAX_FRAME };
    while (buf && !closed && (count == 0 || echoed < count)) {
        int got;
        if (h.plugin->recv_many) {
            got = h.plugin->recv_many(c, slots, nslots, -1);
        } else {
            got = h.plugin->recv(c, slots[0].data, slots[0].cap, &slots[0].src, -1);
            if (got >= 0) {
                slots[0].len = got;
                got = 1;
            }
        }
        if (got == PT_ECLOSED)
            break;
        if (got < 0) {
            /* One bad datagram (e.g. an ICMP error on UDP) is not fatal. */
            host_error(&h, "recv: %s", host_conn_error(&h, c, got, why, sizeof why));
            continue;
        }
        for (int i = 0; i < got && (count == 0 || echoed < count); i++) {
            const pt_rframe *f = &slots[i];
            if (f->len < 0) {
                host_error(&h, "recv from %s: %s", pt_addr_format(&f->src, a, sizeof a),
                           pt_strerror(f->len));
                continue;
            }
            int sent = h.plugin->send(c, f->data, (size_t)f->len, &f->src);
            if (sent == PT_ECLOSED) {
                closed = 1;
                break;
            }
            if (sent < 0)
                host_error(&h, "send to %s: %s", pt_addr_format(&f->src, a, sizeof a),
                           host_conn_error(&h, c, sent, why, sizeof why));
            else
                echoed++;
        }
    }
    free(buf);
    h.plugin->close(c);
    host_closer_stop(&cl);
    h.plugin->free(c);
    printf("DONE echoed=%llu\n", (unsigned long long)echoed);
    return status;
}
