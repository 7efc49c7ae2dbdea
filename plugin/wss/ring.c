/* ring.c -- the WSS plugin's inbound ring (ring.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pilot_transport.h"
#include "ring.h"

#ifdef WSS_RING_TEST_HOOK
void *(*wss_ring_test_realloc)(void *p, size_t n) = realloc;
static void *test_calloc(size_t n, size_t size)
{
    void *p = wss_ring_test_realloc(NULL, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}
#define calloc(n, size) test_calloc(n, size)
#define realloc(p, n) wss_ring_test_realloc(p, n)
#endif

void wss_ring_init(wss_ring *r, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->cap = cap;
}

void wss_ring_free(wss_ring *r)
{
    for (size_t i = 0; r->slot && i < r->cap; i++)
        free(r->slot[i].buf);
    free(r->slot);
    memset(r, 0, sizeof *r);
}

int wss_ring_push(wss_ring *r, const void *data, size_t len)
{
    if (r->count == r->cap)
        return WSS_RING_FULL;
    if (!r->slot && !(r->slot = calloc(r->cap, sizeof *r->slot)))
        return PT_ENOMEM;
    wss_ring_slot *s = &r->slot[(r->head + r->count) % r->cap];
    if (s->cap < len || !s->buf) {
        /* Slots only grow and are kept: no allocation once warmed up. */
        size_t want = len < WSS_RING_SLOT_MIN ? WSS_RING_SLOT_MIN : len;
        unsigned char *b = realloc(s->buf, want);
        if (!b)
            return PT_ENOMEM;
        s->buf = b;
        s->cap = want;
    }
    if (len)
        memcpy(s->buf, data, len);
    s->len = len;
    r->count++;
    return PT_OK;
}

const unsigned char *wss_ring_peek(const wss_ring *r, size_t *len)
{
    if (r->count == 0)
        return NULL;
    *len = r->slot[r->head].len;
    return r->slot[r->head].buf;
}

void wss_ring_pop(wss_ring *r)
{
    if (r->count == 0)
        return;
    r->head = (r->head + 1) % r->cap;
    r->count--;
}
