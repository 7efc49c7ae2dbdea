/*
 * ring.h -- the WSS plugin's inbound ring: received frames waiting for
 * recv, oldest first.  Internal to the WSS plugin.  Prefix: wss_ring_.
 *
 * A fixed number of slots, each with a buffer that only grows and is kept,
 * so a warmed-up ring allocates nothing per frame.  No locking: the caller
 * serialises every call (the plugin holds the connection lock).
 */
#ifndef PT_WSS_RING_H
#define PT_WSS_RING_H

#include <stddef.h>

/* Returned by wss_ring_push when every slot holds a frame. */
#define WSS_RING_FULL 1

/* The smallest buffer a slot gets: most frames then fit the first one. */
#define WSS_RING_SLOT_MIN 2048

typedef struct wss_ring_slot {
    unsigned char *buf;
    size_t cap, len;
} wss_ring_slot;

typedef struct wss_ring {
    wss_ring_slot *slot; /* cap entries once the first frame came; NULL before */
    size_t cap, head, count;
} wss_ring;

/* Set up an empty ring of cap (>= 1) slots.  Allocates nothing: the slots
 * come with the first frame and their buffers with the frames (most
 * connections never queue one: the reader takes frames straight from the
 * link, and only the keeper, reading for a host that does not, fills the
 * ring). */
void wss_ring_init(wss_ring *r, size_t cap);

/* Free every slot's buffer and the slots; safe on a zeroed ring. */
void wss_ring_free(wss_ring *r);

/* Copy len bytes of data in as the newest frame.  Returns PT_OK,
 * WSS_RING_FULL, or PT_ENOMEM when the slots (the first frame) or the
 * slot's buffer could not be allocated; on either failure the ring is as
 * it was. */
int wss_ring_push(wss_ring *r, const void *data, size_t len);

/* The oldest frame (its length in *len), or NULL when the ring is empty.
 * It stays valid until its slot is pushed again or the ring is freed. */
const unsigned char *wss_ring_peek(const wss_ring *r, size_t *len);

/* Drop the oldest frame (nothing when empty); its buffer is kept. */
void wss_ring_pop(wss_ring *r);

static inline size_t wss_ring_count(const wss_ring *r)
{
    return r->count;
}

static inline int wss_ring_empty(const wss_ring *r)
{
    return r->count == 0;
}

static inline int wss_ring_full(const wss_ring *r)
{
    return r->count == r->cap;
}

#ifdef WSS_RING_TEST_HOOK
/* Only in the unit test's own build of ring.c (-DWSS_RING_TEST_HOOK): every
 * allocation goes through this, so the test can count and fail them. */
extern void *(*wss_ring_test_realloc)(void *p, size_t n);
#endif

#endif
