/*
 * thread_wait.h -- for tests of "close wakes a blocked call": wait until a
 * thread is asleep in the kernel (state S in /proc), i.e. inside the call
 * close must wake, instead of sleeping and hoping.
 */
#ifndef PT_TEST_THREAD_WAIT_H
#define PT_TEST_THREAD_WAIT_H

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "pilot_transport.h"

static inline pid_t thread_wait_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* Thread tid's state now, as /proc shows it ('R', 'S', ...), or 0 if it
 * is gone. */
static inline char thread_wait_state(pid_t tid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char *ok = fgets(line, sizeof line, f);
    fclose(f);
    char *p = ok ? strrchr(line, ')') : NULL;
    return p && p[1] == ' ' && p[2] ? p[2] : 0;
}

/* 1 once thread tid sleeps, 0 if it never does (or is gone). */
static inline int thread_wait_sleeping(pid_t tid)
{
    for (int i = 0; i < 1000000; i++) {
        char state = thread_wait_state(tid);
        if (state == 'S')
            return 1;
        if (!state)
            return 0;
        sched_yield();
    }
    return 0;
}

/* A thread blocked in plugin->recv(conn, ..., -1) (or recv_many, when
 * frames is set), for close tests. */
struct blocked_recv {
    const pt_plugin *plugin;
    pt_conn *conn;
    pt_rframe *frames; /* recv_many(conn, frames, n, -1) instead */
    size_t n;
    pthread_t thread;
    pid_t tid;
    int started;
    int rc;
};

static inline void *blocked_recv_main(void *arg)
{
    struct blocked_recv *b = arg;
    unsigned char buf[64];
    b->tid = thread_wait_tid();
    __atomic_store_n(&b->started, 1, __ATOMIC_SEQ_CST);
    if (b->frames)
        b->rc = b->plugin->recv_many(b->conn, b->frames, b->n, -1);
    else
        b->rc = b->plugin->recv(b->conn, buf, sizeof buf, NULL, -1);
    return NULL;
}

/* Start b's thread; 1 once it sleeps inside the call, or 0. */
static inline int blocked_recv_go(struct blocked_recv *b)
{
    if (pthread_create(&b->thread, NULL, blocked_recv_main, b) != 0)
        return 0;
    while (!__atomic_load_n(&b->started, __ATOMIC_SEQ_CST))
        sched_yield();
    return thread_wait_sleeping(b->tid);
}

/* Start the thread and return once it sleeps inside recv (1), or 0. */
static inline int blocked_recv_start(struct blocked_recv *b, const pt_plugin *p, pt_conn *c)
{
    memset(b, 0, sizeof *b);
    b->plugin = p;
    b->conn = c;
    return blocked_recv_go(b);
}

/* The same inside recv_many(c, frames, n, -1). */
static inline int blocked_recv_many_start(struct blocked_recv *b, const pt_plugin *p, pt_conn *c,
                                          pt_rframe *frames, size_t n)
{
    memset(b, 0, sizeof *b);
    b->plugin = p;
    b->conn = c;
    b->frames = frames;
    b->n = n;
    return blocked_recv_go(b);
}

/* Join the thread; returns what its recv returned. */
static inline int blocked_recv_join(struct blocked_recv *b)
{
    pthread_join(b->thread, NULL);
    return b->rc;
}

#endif
