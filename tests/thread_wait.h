/*
 * thread_wait.h -- for tests of "close wakes a blocked call": wait until a
 * thread is asleep in the kernel (state S in /proc), i.e. inside the call
 * close must wake, instead of sleeping and hoping.
 */
#ifndef PT_TEST_THREAD_WAIT_H
#define PT_TEST_THREAD_WAIT_H

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline pid_t thread_wait_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* 1 once thread tid sleeps, 0 if it never does (or is gone). */
static inline int thread_wait_sleeping(pid_t tid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    for (int i = 0; i < 1000000; i++) {
        FILE *f = fopen(path, "r");
        if (!f)
            return 0;
        char *ok = fgets(line, sizeof line, f);
        fclose(f);
        char *p = ok ? strrchr(line, ')') : NULL;
        if (p && p[1] == ' ' && p[2] == 'S')
            return 1;
        sched_yield();
    }
    return 0;
}

#endif
