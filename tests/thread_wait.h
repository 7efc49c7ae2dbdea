/*
 * thread_wait.h -- for tests of "close wakes a blocked call": wait until a
 * thread is asleep in the kernel (state S in /proc), i.e. inside the call
 * close must wake, instead of sleeping and hoping.  Under valgrind a thread
 * waiting for its turn on the one CPU valgrind gives the program shows S
 * too, so there "asleep" is only likely; nothing here waits without a
 * deadline on it.
 */
#ifndef PT_TEST_THREAD_WAIT_H
#define PT_TEST_THREAD_WAIT_H

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
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

static inline int64_t thread_wait_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ms stretched by PT_TIME_SCALE (10 under valgrind), as the tests' own
 * durations are. */
static inline int64_t thread_wait_scaled(int64_t ms)
{
    const char *env = getenv("PT_TIME_SCALE");
    return env && atoi(env) > 1 ? ms * atoi(env) : ms;
}

/* How long thread_wait_sleeping looks, before scaling: a bound in time,
 * not in rounds (under valgrind one round costs a hundred times more). */
#define THREAD_WAIT_MS 10000

/* 1 once thread tid sleeps, 0 if it never does (or is gone). */
static inline int thread_wait_sleeping(pid_t tid)
{
    int64_t deadline = thread_wait_now_ms() + thread_wait_scaled(THREAD_WAIT_MS);
    while (thread_wait_now_ms() < deadline) {
        char state = thread_wait_state(tid);
        if (state == 'S')
            return 1;
        if (!state)
            return 0;
        sched_yield();
    }
    return 0;
}

/* Join t if it ends within ms (not scaled): 1, or 0 with t still running
 * (then whatever it uses must stay alive: leak it rather than free it). */
static inline int thread_join_within(pthread_t t, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return pthread_timedjoin_np(t, NULL, &until) == 0;
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
    int64_t deadline = thread_wait_now_ms() + thread_wait_scaled(THREAD_WAIT_MS);
    if (pthread_create(&b->thread, NULL, blocked_recv_main, b) != 0)
        return 0;
    while (!__atomic_load_n(&b->started, __ATOMIC_SEQ_CST)) {
        if (thread_wait_now_ms() > deadline)
            return 0;
        sched_yield();
    }
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

/* What blocked_recv_join returns for a thread that did not come back. */
#define BLOCKED_RECV_STUCK (-1000000)

/* Join the thread; returns what its recv returned, or BLOCKED_RECV_STUCK
 * (after a "# ..." line) if it is still inside the call after 30 s (scaled):
 * close did not wake it, and its connection must not be freed. */
static inline int blocked_recv_join(struct blocked_recv *b)
{
    if (!thread_join_within(b->thread, thread_wait_scaled(30000))) {
        printf("# the thread blocked in recv did not return: close did not wake it\n");
        return BLOCKED_RECV_STUCK;
    }
    return b->rc;
}

#endif
