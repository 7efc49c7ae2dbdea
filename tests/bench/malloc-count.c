/*
 * malloc-count.c -- an LD_PRELOAD shim for the benchmark: counts heap
 * allocations (malloc, calloc, realloc, the aligned forms) and frees of the
 * whole process, all threads, and writes one line when the process exits:
 *
 *   MALLOC_COUNT allocs=N frees=N bytes=N gnutls_allocs=N
 *
 * to the file named by $MALLOC_COUNT_OUT (appended), else to stderr.
 * bench.sh runs the same command with two frame counts and divides the
 * difference by the difference in frames, so setup and teardown cancel out
 * and what is left is allocations per frame.  gnutls_allocs counts those
 * called from inside libgnutls (its per-record buffers, which raw TLS pays
 * alike), so the rest is what the plugin, libcurl and the host allocate.
 *
 * Benchmark code, not product.  It forwards to glibc's own entry points
 * (__libc_malloc and friends), so it needs no dlsym and cannot recurse.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* glibc's exported implementations (GLIBC_2.2.5 on x86-64). */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

/* The interposed entry points: public, and declared in <stdlib.h> except
 * memalign, declared here for -Wmissing-prototypes. */
void *memalign(size_t align, size_t n);

static atomic_ullong mc_allocs, mc_frees, mc_bytes, mc_gnutls;
static _Thread_local int mc_inside; /* dladdr must not count itself */

/* Whether code at addr belongs to libgnutls. */
static int in_gnutls(const void *addr)
{
    Dl_info info;
    int yes = 0;
    if (mc_inside)
        return 0;
    mc_inside = 1;
    if (dladdr(addr, &info) && info.dli_fname)
        yes = strstr(info.dli_fname, "libgnutls") != NULL;
    mc_inside = 0;
    return yes;
}

#define count(n) count_from((n), __builtin_return_address(0))
static void count_from(size_t n, const void *caller)
{
    atomic_fetch_add_explicit(&mc_allocs, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&mc_bytes, n, memory_order_relaxed);
    if (in_gnutls(caller))
        atomic_fetch_add_explicit(&mc_gnutls, 1, memory_order_relaxed);
}

void *malloc(size_t n)
{
    count(n);
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    count(n * size);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    count(n);
    return __libc_realloc(p, n);
}

void *memalign(size_t align, size_t n)
{
    count(n);
    return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    count(n);
    return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align % sizeof(void *) != 0 || (align & (align - 1)) != 0)
        return EINVAL;
    count(n);
    void *p = __libc_memalign(align, n);
    if (!p && n)
        return ENOMEM;
    *out = p;
    return 0;
}

void free(void *p)
{
    if (p)
        atomic_fetch_add_explicit(&mc_frees, 1, memory_order_relaxed);
    __libc_free(p);
}

__attribute__((destructor)) static void mc_report(void)
{
    char line[128];
    const char *path = getenv("MALLOC_COUNT_OUT");
    int fd = 2;
    int n = snprintf(line, sizeof line,
                     "MALLOC_COUNT allocs=%llu frees=%llu bytes=%llu gnutls_allocs=%llu\n",
                     atomic_load(&mc_allocs), atomic_load(&mc_frees), atomic_load(&mc_bytes),
                     atomic_load(&mc_gnutls));
    if (path && *path)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0 && n > 0) {
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
    }
    if (fd > 2)
        close(fd);
}
