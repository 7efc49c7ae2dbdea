/*
 * closer.h -- close a connection on SIGINT/SIGTERM, the way a daemon shuts
 * its transport down: a thread waits for the signal with sigwait and calls
 * close, which wakes the recv blocked in the main thread.  No work happens
 * in a signal handler.
 */
#ifndef PT_HOST_CLOSER_H
#define PT_HOST_CLOSER_H

#include <pthread.h>
#include <signal.h>

#include "pilot_transport.h"

struct host_closer {
    const pt_plugin *plugin;
    pt_conn *conn;
    sigset_t set;
    pthread_t thread;
    int started;
};

/* Block SIGINT and SIGTERM in this thread and every thread it starts from
 * now on.  Call before any thread exists (before dialling). */
void host_closer_block(struct host_closer *cl);

/* Start the thread that closes conn on SIGINT or SIGTERM.  0 or -1. */
int host_closer_start(struct host_closer *cl, const pt_plugin *plugin, pt_conn *conn);

/* Stop the thread (if started) and wait for it. */
void host_closer_stop(struct host_closer *cl);

#endif
