/*
 * alloc-fail.c -- an LD_PRELOAD shim that makes the N-th heap allocation
 * fail, for the allocation-failure torture (torture.c); see alloc-fail.h.
 *
 * Test code, not product.  Unlike tests/bench/malloc-count.c it forwards
 * through dlsym(RTLD_NEXT, ...) rather than glibc's __libc_malloc: under
 * ASan the next malloc is the sanitizer's (so ASan still sees, checks and
 * leak-checks every block), under valgrind it is libc's, which valgrind
 * redirects to its own allocator, and otherwise it is glibc's.  dlsym may
 * itself allocate before the pointers are known: those few allocations
 * come from a small static arena and are never freed.
 *
 * strdup and strndup are implemented here on top of malloc, so they are
 * counted once and can fail: ASan intercepts them and would otherwise
 * allocate behind the shim's back (libcurl copies every option with
 * strdup).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc-fail.h"

/* Under ASan the shim is built with the sanitizer like everything else,
 * but its functions run before ASan is initialised (ASan's own start-up
 * calls dlsym, which allocates): they must not be instrumented. */
#define NOSAN __attribute__((no_sanitize_address, no_sanitize("undefined")))

/* The interposed entry points not declared by <stdlib.h>/<string.h> with
 * _GNU_SOURCE, declared for -Wmissing-prototypes. */
void *memalign(size_t align, size_t n);
void *pvalloc(size_t n);
const af_api *pt_alloc_fail_api(void);

/* ---- The real allocator ---------------------------------------------------- */

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static void *(*real_memalign)(size_t, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);

/* Allocations made while dlsym runs come from here. */
static _Alignas(max_align_t) unsigned char arena[64 * 1024];
static size_t arena_used;
static int resolving;

static NOSAN int in_arena(const void *p)
{
    return (const unsigned char *)p >= arena && (const unsigned char *)p < arena + sizeof arena;
}

static NOSAN void *arena_alloc(size_t n)
{
    /* A size header before each block, so realloc can copy it out. */
    size_t need = (n + 16 + 15) & ~(size_t)15;
    if (need > sizeof arena - arena_used)
        return NULL;
    unsigned char *p = arena + arena_used;
    arena_used += need;
    memcpy(p, &n, sizeof n);
    return p + 16;
}

static NOSAN void resolve(void)
{
    if (real_malloc || resolving)
        return;
    resolving = 1;
    void *m = dlsym(RTLD_NEXT, "malloc"), *c = dlsym(RTLD_NEXT, "calloc"),
         *r = dlsym(RTLD_NEXT, "realloc"), *f = dlsym(RTLD_NEXT, "free"),
         *ma = dlsym(RTLD_NEXT, "memalign"), *pm = dlsym(RTLD_NEXT, "posix_memalign"),
         *mm = dlsym(RTLD_NEXT, "mmap"), *mu = dlsym(RTLD_NEXT, "munmap");
    /* POSIX: dlsym results convert to function pointers. */
    memcpy(&real_calloc, &c, sizeof c);
    memcpy(&real_realloc, &r, sizeof r);
    memcpy(&real_free, &f, sizeof f);
    memcpy(&real_memalign, &ma, sizeof ma);
    memcpy(&real_posix_memalign, &pm, sizeof pm);
    memcpy(&real_mmap, &mm, sizeof mm);
    memcpy(&real_munmap, &mu, sizeof mu);
    memcpy(&real_malloc, &m, sizeof m); /* last: it says "resolved" */
    resolving = 0;
    if (!real_malloc || !real_calloc || !real_realloc || !real_free || !real_memalign ||
        !real_posix_memalign || !real_mmap || !real_munmap) {
        static const char msg[] = "alloc-fail: cannot find the real allocator\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        abort();
    }
}

/* ---- State ----------------------------------------------------------------- */

static atomic_int armed, held;
static int fail_mode;
static unsigned long fail_at;
static atomic_ulong counter;
static af_report *report;
static af_report report_private; /* if the shared page cannot be mapped */

/* Inside the shim's own failure bookkeeping (backtrace may allocate). */
static __thread int in_shim __attribute__((tls_model("initial-exec")));

/* Remembered blocks: open addressing on the pointer, tombstones on free. */
#define TABLE_BITS 15
#define TABLE_SIZE (1u << TABLE_BITS)
#define TOMBSTONE ((void *)1)
static af_block table[TABLE_SIZE];
static size_t table_used;  /* live + tombstones */
static size_t table_live;
static int table_overflow;
static atomic_size_t table_nonempty; /* fast path for free when nothing is remembered */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static NOSAN size_t slot_of(const void *p)
{
    uintptr_t h = (uintptr_t)p;
    h ^= h >> 17;
    h *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 7) & (TABLE_SIZE - 1);
}

static NOSAN void remember(void *p, size_t size, unsigned long seq, void *caller)
{
    af_block b = { p, size, seq, caller, { 0 }, 0 };
    /* The allocating stack, for the program's diagnosis of what is left
     * (backtrace itself may allocate: in_shim lets that through). */
    in_shim = 1;
    b.nframes = backtrace(b.frames, AF_BLOCK_FRAMES);
    in_shim = 0;
    pthread_mutex_lock(&table_lock);
    if (table_used >= TABLE_SIZE / 4 * 3) {
        table_overflow = 1;
    } else {
        size_t i = slot_of(p);
        while (table[i].ptr && table[i].ptr != TOMBSTONE)
            i = (i + 1) & (TABLE_SIZE - 1);
        if (!table[i].ptr)
            table_used++;
        table[i] = b;
        table_live++;
        atomic_store(&table_nonempty, table_live);
    }
    pthread_mutex_unlock(&table_lock);
}

/* Forget p if remembered; returns 1 if it was. */
static NOSAN int forget(void *p)
{
    int found = 0;
    if (!p || !atomic_load_explicit(&table_nonempty, memory_order_relaxed))
        return 0;
    pthread_mutex_lock(&table_lock);
    for (size_t i = slot_of(p); table[i].ptr; i = (i + 1) & (TABLE_SIZE - 1)) {
        if (table[i].ptr == p) {
            table[i].ptr = TOMBSTONE;
            table_live--;
            atomic_store(&table_nonempty, table_live);
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
    return found;
}

/* Count one allocation; returns its number, or 0 if it must fail. */
static NOSAN unsigned long next_alloc(size_t size)
{
    if (!atomic_load_explicit(&armed, memory_order_acquire) || in_shim ||
        atomic_load_explicit(&held, memory_order_relaxed))
        return ULONG_MAX; /* not counted, never fails, not remembered */
    unsigned long seq = atomic_fetch_add(&counter, 1) + 1;
    report->count = seq;
    if (fail_at == 0 || seq < fail_at || (seq > fail_at && fail_mode != AF_FAIL_ALL))
        return seq;
    report->failed++;
    if (!report->have_frames) {
        in_shim = 1;
        void *f[AF_FRAMES];
        int n = backtrace(f, AF_FRAMES);
        for (int i = 0; i < n; i++)
            report->frames[i] = f[i];
        report->nframes = n;
        report->fail_tid = gettid();
        report->fail_size = size;
        report->have_frames = 1;
        in_shim = 0;
    }
    errno = ENOMEM;
    return 0;
}

static NOSAN void *track(void *p, size_t size, unsigned long seq, void *caller)
{
    if (p && seq != ULONG_MAX)
        remember(p, size, seq, caller);
    return p;
}

/* ---- The interposed functions ----------------------------------------------- */

static NOSAN void *do_malloc(size_t n, void *caller)
{
    resolve();
    if (!real_malloc)
        return arena_alloc(n);
    unsigned long seq = next_alloc(n);
    if (!seq)
        return NULL;
    return track(real_malloc(n), n, seq, caller);
}

NOSAN void *malloc(size_t n)
{
    return do_malloc(n, __builtin_return_address(0));
}

NOSAN void *calloc(size_t n, size_t size)
{
    resolve();
    if (!real_malloc) {
        if (size && n > SIZE_MAX / size)
            return NULL;
        return arena_alloc(n * size); /* static: already zero */
    }
    unsigned long seq = next_alloc(n * size);
    if (!seq)
        return NULL;
    return track(real_calloc(n, size), n * size, seq, __builtin_return_address(0));
}

static NOSAN void *do_realloc(void *p, size_t n, void *caller)
{
    resolve();
    if (p && in_arena(p)) {
        size_t old;
        memcpy(&old, (unsigned char *)p - 16, sizeof old);
        void *q = do_malloc(n, caller);
        if (q)
            memcpy(q, p, old < n ? old : n);
        return q;
    }
    if (!real_malloc)
        return arena_alloc(n);
    if (p && n == 0) { /* glibc frees */
        forget(p);
        return real_realloc(p, n);
    }
    unsigned long seq = next_alloc(n);
    if (!seq)
        return NULL; /* p untouched, as realloc does */
    /* A block that existed before arming and is merely grown belongs to
     * whoever had it before: remember the result only if p was remembered
     * (or is NULL, a plain allocation). */
    int was = p ? forget(p) : 1;
    void *q = real_realloc(p, n);
    if (!q && p && was) /* failed for real: p is still live */
        remember(p, n, seq, caller);
    return was ? track(q, n, seq, caller) : q;
}

NOSAN void *realloc(void *p, size_t n)
{
    return do_realloc(p, n, __builtin_return_address(0));
}

NOSAN void *reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return do_realloc(p, n * size, __builtin_return_address(0));
}

NOSAN void free(void *p)
{
    if (!p || in_arena(p))
        return;
    resolve();
    forget(p);
    real_free(p);
}

static NOSAN void *do_memalign(size_t align, size_t n, void *caller)
{
    resolve();
    if (!real_malloc)
        return NULL; /* not needed while resolving */
    unsigned long seq = next_alloc(n);
    if (!seq)
        return NULL;
    return track(real_memalign(align, n), n, seq, caller);
}

NOSAN void *memalign(size_t align, size_t n)
{
    return do_memalign(align, n, __builtin_return_address(0));
}

NOSAN void *aligned_alloc(size_t align, size_t n)
{
    return do_memalign(align, n, __builtin_return_address(0));
}

NOSAN void *valloc(size_t n)
{
    return do_memalign((size_t)sysconf(_SC_PAGESIZE), n, __builtin_return_address(0));
}

NOSAN void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return do_memalign(page, (n + page - 1) / page * page, __builtin_return_address(0));
}

NOSAN int posix_memalign(void **out, size_t align, size_t n)
{
    resolve();
    if (align % sizeof(void *) != 0 || (align & (align - 1)) != 0)
        return EINVAL;
    if (!real_malloc)
        return ENOMEM;
    unsigned long seq = next_alloc(n);
    if (!seq)
        return ENOMEM;
    int rc = real_posix_memalign(out, align, n);
    if (rc == 0)
        track(*out, n, seq, __builtin_return_address(0));
    return rc;
}

NOSAN char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = do_malloc(n, __builtin_return_address(0));
    if (d)
        memcpy(d, s, n);
    return d;
}

NOSAN char *strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *d = do_malloc(n + 1, __builtin_return_address(0));
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Private anonymous mappings are heap by another name (the WSS plugin maps
 * each link's buffers, link.c): counted, failed and remembered like the
 * blocks above, and forgotten at munmap.  Other mappings (of files, shared,
 * at a fixed address) and those made while the shim resolves pass through
 * uncounted. */
NOSAN void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    resolve();
    if (!real_malloc)
        return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if ((flags & (MAP_PRIVATE | MAP_ANONYMOUS)) != (MAP_PRIVATE | MAP_ANONYMOUS) ||
        (flags & MAP_FIXED) || fd != -1)
        return real_mmap(addr, len, prot, flags, fd, off);
    unsigned long seq = next_alloc(len);
    if (!seq)
        return MAP_FAILED;
    void *p = real_mmap(addr, len, prot, flags, fd, off);
    return p == MAP_FAILED ? p : track(p, len, seq, __builtin_return_address(0));
}

NOSAN int munmap(void *p, size_t len)
{
    resolve();
    if (!real_munmap)
        return (int)syscall(SYS_munmap, p, len);
    forget(p);
    return real_munmap(p, len);
}

/* ---- The program's side ------------------------------------------------------ */

static NOSAN void af_arm(unsigned long at, int mode)
{
    pthread_mutex_lock(&table_lock);
    memset(table, 0, sizeof table);
    table_used = table_live = 0;
    table_overflow = 0;
    atomic_store(&table_nonempty, 0);
    pthread_mutex_unlock(&table_lock);
    fail_at = at;
    fail_mode = mode;
    report->fail_at = at;
    report->count = report->failed = 0;
    report->have_frames = 0;
    report->nframes = 0;
    atomic_store(&counter, 0);
    atomic_store(&held, 0);
    atomic_store_explicit(&armed, 1, memory_order_release);
}

static NOSAN void af_disarm(void)
{
    atomic_store_explicit(&armed, 0, memory_order_release);
}

static NOSAN void af_hold(int on)
{
    atomic_store(&held, on);
}

static NOSAN size_t af_live(af_block *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (table[i].ptr && table[i].ptr != TOMBSTONE) {
            if (out && n < max)
                out[n] = table[i];
            n++;
        }
    pthread_mutex_unlock(&table_lock);
    return n;
}

static NOSAN int af_overflowed(void)
{
    return table_overflow;
}

static af_api api = { af_arm, af_disarm, af_hold, af_live, af_overflowed, NULL };

NOSAN const af_api *pt_alloc_fail_api(void)
{
    resolve();
    api.report = report;
    return &api;
}

__attribute__((constructor)) static NOSAN void af_init(void)
{
    void *p = mmap(NULL, sizeof(af_report), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    report = p == MAP_FAILED ? &report_private : p;
    resolve();
}
