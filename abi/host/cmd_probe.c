/* cmd_probe.c -- "pilot-transport probe": dial once, report, close. */
#include "config.h"

#include "host.h"

#include <stdio.h>
#include <string.h>

int cmd_probe(int argc, char **argv)
{
    struct host h;
    struct flag flags[32];
    struct host_closer cl;
    size_t n = 0;
    pt_conn *c;
    pt_addr local;
    double ms = 0;
    char a[PT_ADDRSTRLEN];

    memset(&h, 0, sizeof h);
    host_common_flags(&h, flags, &n, 32);
    int rc = host_parse(&h, "probe", "-transport=MODE [flags]",
                        "Dial the transport once, print one line with the local address and\n"
                        "the time the dial took, and close.  Exit 0 on success, 1 with a\n"
                        "one-line error on stderr otherwise (also when SIGINT or SIGTERM\n"
                        "abandons the dial).",
                        flags, argc, argv);
    if (rc >= 0)
        return rc;
    if ((rc = host_start_closer(&h, &cl)) != 0)
        return rc;
    if ((rc = host_dial(&h, &c, &ms)) != 0) {
        host_closer_stop(&cl);
        return rc;
    }
    host_closer_attach(&cl, h.plugin, c);
    h.plugin->local_addr(c, &local);
    printf("OK transport=%s plugin=%s local=%s dial_ms=%.3f\n", h.mode, h.plugin->version,
           pt_addr_format(&local, a, sizeof a), ms);
    h.plugin->close(c);
    host_closer_stop(&cl);
    h.plugin->free(c);
    return 0;
}
