/*
 * alloc-fail.h -- the interface of the allocation-failure shim
 * (alloc-fail.c, LD_PRELOADed into tests/torture/torture).
 *
 * The shim interposes the heap entry points (malloc, calloc, realloc,
 * reallocarray, free, memalign, aligned_alloc, posix_memalign, valloc,
 * pvalloc, strdup, strndup), and mmap and munmap of private anonymous
 * memory (the WSS plugin's link buffers).  While armed it numbers every
 * allocation of the whole process, all threads, from 1, makes allocation
 * number fail_at
 * return NULL with errno ENOMEM (and, in AF_FAIL_ALL mode, every later one
 * too), and remembers each block handed out until it is freed, so the
 * program can see what a run left behind.  Disarmed, it only forwards
 * (frees of remembered blocks are still noted).
 *
 * A program finds the shim with dlsym(RTLD_DEFAULT, AF_API_SYMBOL) and
 * calls through the table it returns; without the shim the symbol is
 * absent.  The report page is shared memory mapped when the shim loads, so
 * a parent can read what a forked child was doing when it crashed or hung.
 */
#ifndef PT_TORTURE_ALLOC_FAIL_H
#define PT_TORTURE_ALLOC_FAIL_H

#include <stddef.h>
#include <sys/types.h>

#define AF_API_SYMBOL "pt_alloc_fail_api"

enum af_mode {
    AF_FAIL_ONE = 0, /* only allocation fail_at fails */
    AF_FAIL_ALL = 1  /* fail_at and every later one fail */
};

#define AF_FRAMES 24
#define AF_BLOCK_FRAMES 10

/* Shared between a parent and its forked children (MAP_SHARED). */
typedef struct af_report {
    volatile unsigned long fail_at; /* what the child was armed with */
    volatile unsigned long count;   /* allocations counted so far */
    volatile unsigned long failed;  /* allocations made to fail so far */
    volatile int have_frames;       /* frames below hold the first failure */
    volatile pid_t fail_tid;        /* the thread it failed in */
    volatile size_t fail_size;
    void *volatile frames[AF_FRAMES];
    volatile int nframes;
    char step[96];                  /* set by the program: what it is doing */
    /* Free for the program's use (e.g. what a crashing child saw). */
    volatile int verdict;           /* a child's result, -1 until set */
    void *volatile crash_pc;
    void *volatile crash_frames[AF_FRAMES];
    volatile int ncrash;
} af_report;

/* A block allocated while armed and not freed yet. */
typedef struct af_block {
    void *ptr;
    size_t size;
    unsigned long seq;  /* its allocation number */
    void *caller;       /* return address into the allocating code */
    void *frames[AF_BLOCK_FRAMES]; /* the allocating stack, innermost first */
    int nframes;
} af_block;

typedef struct af_api {
    /* Start counting from 0 and forget every remembered block.  fail_at 0
     * counts without failing anything. */
    void (*arm)(unsigned long fail_at, int mode);
    void (*disarm)(void);
    /* Pause (on=1) and resume (on=0) counting without forgetting anything:
     * around the test's own checks, whose allocations are not the subject's. */
    void (*hold)(int on);
    /* Remembered blocks still live: their number, and up to max of them
     * (oldest first not guaranteed) copied to out. */
    size_t (*live)(af_block *out, size_t max);
    /* 1 if the table of remembered blocks overflowed (the leak check is
     * then incomplete and must fail). */
    int (*overflowed)(void);
    af_report *report;
} af_api;

#endif
