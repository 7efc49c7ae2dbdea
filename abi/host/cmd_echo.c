/*
 * cmd_echo.c -- "pilot-transport echo": send every datagram back where it
 * came from, until SIGINT/SIGTERM or -count datagrams.  A signal thread
 * closes the connection (close wakes the blocked recv), so shutdown goes
 * through the same path a daemon's would.
 */
#include "config.h"

#include "host.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct closer {
    const pt_plugin *plugin;
    pt_conn *conn;
    sigset_t set;
};

static void *close_on_signal(void *arg)
{
    struct closer *cl = arg;
    int sig;
    if (sigwait(&cl->set, &sig) == 0 && sig != SIGUSR2)
        cl->plugin->close(cl->conn);
    return NULL;
}

int cmd_echo(int argc, char **argv)
{
    struct host h;
    struct flag flags[32];
    size_t n = 0;
    uint64_t count = 0, echoed = 0;
    pt_conn *c;
    pt_addr local, src;
    char a[PT_ADDRSTRLEN], why[PT_ERRMSG_MAX + 64];
    struct closer cl;
    pthread_t tid;
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

    /* Block the signals before any thread exists, so only sigwait sees them. */
    sigemptyset(&cl.set);
    sigaddset(&cl.set, SIGINT);
    sigaddset(&cl.set, SIGTERM);
    sigaddset(&cl.set, SIGUSR2); /* our own wake-up at the end */
    pthread_sigmask(SIG_BLOCK, &cl.set, NULL);

    if ((rc = host_dial(&h, &c, NULL)) != 0)
        return rc;
    cl.plugin = h.plugin;
    cl.conn = c;
    if (pthread_create(&tid, NULL, close_on_signal, &cl) != 0) {
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
    pthread_kill(tid, SIGUSR2);
    pthread_join(tid, NULL);
    h.plugin->free(c);
    printf("DONE echoed=%llu\n", (unsigned long long)echoed);
    return status;
}
