/*
 * cmd_echo.c -- "pilot-transport echo": send every datagram back where it
 * came from, until SIGINT/SIGTERM or -count datagrams.  A signal thread
 * closes the connection (close wakes the blocked recv), so shutdown goes
 * through the same path a daemon's would.
 */
#include "config.h"

#include "closer.h"
#include "host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_echo(int argc, char **argv)
{
    struct host h;
    struct flag flags[32];
    size_t n = 0;
    uint64_t count = 0, echoed = 0;
    pt_conn *c;
    pt_addr local, src;
    char a[PT_ADDRSTRLEN], why[PT_ERRMSG_MAX + 64];
    struct host_closer cl;
    int rc, status = 0;

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

    host_closer_block(&cl); /* before any thread exists */

    if ((rc = host_dial(&h, &c, NULL)) != 0)
        return rc;
    if (host_closer_start(&cl, h.plugin, c) != 0) {
        host_error(&h, "cannot start the signal thread");
        h.plugin->close(c);
        h.plugin->free(c);
        return EXIT_FAIL;
    }
    h.plugin->local_addr(c, &local);
    printf("READY local=%s\n", pt_addr_format(&local, a, sizeof a));
    fflush(stdout);

    unsigned char *buf = malloc(PT_MAX_FRAME);
    if (!buf) {
        host_error(&h, "out of memory");
        status = EXIT_FAIL;
    }
    while (buf && (count == 0 || echoed < count)) {
        int got = h.plugin->recv(c, buf, PT_MAX_FRAME, &src, -1);
        if (got == PT_ECLOSED)
            break;
        if (got < 0) {
            /* One bad datagram (e.g. an ICMP error on UDP) is not fatal. */
            host_error(&h, "recv: %s", host_conn_error(&h, c, got, why, sizeof why));
            continue;
        }
        int sent = h.plugin->send(c, buf, (size_t)got, &src);
        if (sent == PT_ECLOSED)
            break;
        if (sent < 0)
            host_error(&h, "send to %s: %s", pt_addr_format(&src, a, sizeof a),
                       host_conn_error(&h, c, sent, why, sizeof why));
        else
            echoed++;
    }
    free(buf);
    h.plugin->close(c);
    host_closer_stop(&cl);
    h.plugin->free(c);
    printf("DONE echoed=%llu\n", (unsigned long long)echoed);
    return status;
}
