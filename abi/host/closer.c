/* closer.c -- a signal thread that closes the connection (see closer.h). */
#include "config.h"

#include "closer.h"

#include <string.h>

static void *closer_main(void *arg)
{
    struct host_closer *cl = arg;
    int sig;
    /* SIGUSR2 is host_closer_stop's own wake-up, not a request to close. */
    if (sigwait(&cl->set, &sig) == 0 && sig != SIGUSR2)
        cl->plugin->close(cl->conn);
    return NULL;
}

void host_closer_block(struct host_closer *cl)
{
    memset(cl, 0, sizeof *cl);
    sigemptyset(&cl->set);
    sigaddset(&cl->set, SIGINT);
    sigaddset(&cl->set, SIGTERM);
    sigaddset(&cl->set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &cl->set, NULL);
}

int host_closer_start(struct host_closer *cl, const pt_plugin *plugin, pt_conn *conn)
{
    cl->plugin = plugin;
    cl->conn = conn;
    if (pthread_create(&cl->thread, NULL, closer_main, cl) != 0)
        return -1;
    cl->started = 1;
    return 0;
}

void host_closer_stop(struct host_closer *cl)
{
    if (!cl->started)
        return;
    pthread_kill(cl->thread, SIGUSR2);
    pthread_join(cl->thread, NULL);
    cl->started = 0;
}
