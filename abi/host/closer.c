/* closer.c -- the signal thread: cancel the dial, then close (see closer.h). */
#include "config.h"

#include "closer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static void *closer_main(void *arg)
{
    struct host_closer *cl = arg;
    int sig;
    ssize_t w;

    /* SIGUSR2 is host_closer_stop's own wake-up, not a request to close. */
    if (sigwait(&cl->set, &sig) != 0 || sig == SIGUSR2)
        return NULL;
    pthread_mutex_lock(&cl->lock);
    cl->signo = sig;
    do
        w = write(cl->cancel[1], "", 1); /* stays readable: never read */
    while (w < 0 && errno == EINTR);
    if (cl->conn)
        cl->plugin->close(cl->conn);
    pthread_mutex_unlock(&cl->lock);
    return NULL;
}

int host_closer_init(struct host_closer *cl)
{
    memset(cl, 0, sizeof *cl);
    cl->cancel[0] = cl->cancel[1] = -1;
    pthread_mutex_init(&cl->lock, NULL);
    sigemptyset(&cl->set);
    sigaddset(&cl->set, SIGINT);
    sigaddset(&cl->set, SIGTERM);
    sigaddset(&cl->set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &cl->set, NULL);
    if (pipe2(cl->cancel, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    if (pthread_create(&cl->thread, NULL, closer_main, cl) != 0)
        return -1;
    cl->started = 1;
    return 0;
}

int host_closer_cancel_fd(const struct host_closer *cl)
{
    return cl ? cl->cancel[0] : -1;
}

void host_closer_attach(struct host_closer *cl, const pt_plugin *plugin, pt_conn *conn)
{
    pthread_mutex_lock(&cl->lock);
    cl->plugin = plugin;
    cl->conn = conn;
    if (cl->signo) /* it came between the dial's end and now */
        plugin->close(conn);
    pthread_mutex_unlock(&cl->lock);
}

int host_closer_signal(struct host_closer *cl)
{
    int sig;
    pthread_mutex_lock(&cl->lock);
    sig = cl->signo;
    pthread_mutex_unlock(&cl->lock);
    return sig;
}

void host_closer_stop(struct host_closer *cl)
{
    if (cl->started) {
        pthread_kill(cl->thread, SIGUSR2);
        pthread_join(cl->thread, NULL);
        cl->started = 0;
    }
    for (int i = 0; i < 2; i++)
        if (cl->cancel[i] >= 0) {
            close(cl->cancel[i]);
            cl->cancel[i] = -1;
        }
    pthread_mutex_destroy(&cl->lock);
}
