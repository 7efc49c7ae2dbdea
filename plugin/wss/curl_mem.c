/* curl_mem.c -- libcurl's memory functions: wipe what libcurl frees
 * (curl_mem.h). */
#include "config.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "curl_mem.h"

/* Calls to the functions below: how wss_curl_mem_init tells whether
 * libcurl took them. */
static atomic_ulong used;
static atomic_int wipes;

static void *wipe_malloc(size_t n)
{
    atomic_fetch_add_explicit(&used, 1, memory_order_relaxed);
    return malloc(n);
}

static void *wipe_calloc(size_t n, size_t size)
{
    atomic_fetch_add_explicit(&used, 1, memory_order_relaxed);
    return calloc(n, size);
}

static void wipe_free(void *p)
{
    if (!p)
        return;
    /* The whole block, not only what was asked for: libcurl may have
     * written into the slack of a block it grew in place. */
    explicit_bzero(p, malloc_usable_size(p));
    free(p);
}

/* Never hand a block to realloc: when it moves the bytes it frees the old
 * block unwiped.  A block big enough already stays where it is; a bigger
 * one is a new block, the old one wiped and freed here. */
static void *wipe_realloc(void *p, size_t n)
{
    if (!p)
        return wipe_malloc(n);
    size_t have = malloc_usable_size(p);
    if (n <= have)
        return p;
    void *q = wipe_malloc(n);
    if (!q)
        return NULL; /* p stays valid, as realloc leaves it */
    memcpy(q, p, have);
    wipe_free(p);
    return q;
}

static char *wipe_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = wipe_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

CURLcode wss_curl_mem_init(void)
{
    CURLcode rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, wipe_malloc, wipe_free, wipe_realloc,
                                       wipe_strdup, wipe_calloc);
    if (rc != CURLE_OK)
        return rc;
    /* libcurl ignores the functions when it was set up before: ask it to
     * allocate, and see whether the allocation came through here. */
    unsigned long before = atomic_load(&used);
    char *probe = curl_maprintf("%s", "probe");
    if (!probe)
        return CURLE_OUT_OF_MEMORY;
    curl_free(probe);
    atomic_store(&wipes, atomic_load(&used) != before);
    return CURLE_OK;
}

int wss_curl_mem_wipes(void)
{
    return atomic_load(&wipes);
}
