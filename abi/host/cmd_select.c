/*
 * cmd_select.c -- "pilot-transport select": what -transport=auto would
 * choose from here, and why, without dialling (SPEC 6).
 */
#include "config.h"

#include "host.h"

#include <stdio.h>
#include <string.h>

int cmd_select(int argc, char **argv)
{
    struct host h;
    struct flag flags[32];
    struct host_closer cl;
    size_t n = 0;
    char mode[8], reason[PT_ERRMSG_MAX + 512];

    memset(&h, 0, sizeof h);
    host_common_flags(&h, flags, &n, 32);
    int rc = host_parse(&h, "select", "-node-id N -beacon HOST:PORT -url URL [flags]",
                        "Decide as -transport=auto does, print the decision on stdout and\n"
                        "exit, without dialling:\n"
                        "  transport: MODE (REASON)\n"
                        "MODE is udp when the UDP beacon (-beacon) answers a Discover from node\n"
                        "-node-id; else wss when the compat beacon (-url) answers a plain GET\n"
                        "with 426, or when that check failed at the proxy (the only way out);\n"
                        "else udp, degraded.\n"
                        "The two probes run at once, each within -probe-timeout.  REASON is one\n"
                        "line (what answered, what failed and why); it never holds a password.\n"
                        "-transport is not used.  Exit 0 with a decision, 1 when it could not\n"
                        "be made (SIGINT or SIGTERM abandon it), 2 on bad usage.",
                        flags, argc, argv);
    if (rc >= 0)
        return rc;
    if ((rc = host_start_closer(&h, &cl)) != 0)
        return rc;
    rc = host_select(&h, mode, sizeof mode, reason, sizeof reason);
    host_closer_stop(&cl);
    if (rc != 0)
        return rc;
    printf("transport: %s (%s)\n", mode, reason);
    return 0;
}
