/*
 * closer.h -- SIGINT/SIGTERM the way a daemon takes them: a thread waits
 * for the signal with sigwait (no work happens in a signal handler) and
 *   - before the connection exists, makes the cancel pipe readable: its
 *     read end is the cancel_fd of the dial (and of the probes of
 *     -transport=auto), which the plugin then abandons with PT_ECLOSED;
 *   - once the connection exists, calls close, which wakes the recv
 *     blocked in the main thread.
 */
#ifndef PT_HOST_CLOSER_H
#define PT_HOST_CLOSER_H

#include <pthread.h>
#include <signal.h>

#include "pilot_transport.h"

struct host_closer {
    const pt_plugin *plugin;
    pt_conn *conn;          /* guarded by lock */
    int signo;              /* the signal that came, 0 if none; guarded by lock */
    pthread_mutex_t lock;
    sigset_t set;
    pthread_t thread;
    int started;
    int cancel[2];          /* the cancel pipe: read end for cancel_fd */
};

/* Block SIGINT and SIGTERM in this thread and every thread it starts from
 * now on, make the cancel pipe and start the signal thread.  Call before
 * any other thread exists (before dialling).  0, or -1 when the pipe or
 * the thread cannot be had (the host then runs without: signals stay
 * blocked until exit... so the caller reports it and gives up). */
int host_closer_init(struct host_closer *cl);

/* The cancel_fd for dial and probe parameters; -1 before init. */
int host_closer_cancel_fd(const struct host_closer *cl);

/* From now on a signal closes conn (at once if one came already). */
void host_closer_attach(struct host_closer *cl, const pt_plugin *plugin, pt_conn *conn);

/* The signal that came (SIGINT or SIGTERM), or 0. */
int host_closer_signal(struct host_closer *cl);

/* Stop the thread (if started), wait for it, close the pipe.  Call before
 * freeing the connection. */
void host_closer_stop(struct host_closer *cl);

#endif
