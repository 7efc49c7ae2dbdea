/* test-wss-ring.c -- the WSS plugin's inbound ring (plugin/wss/ring.h):
 * order, wrap-around, full, slot growth, reuse without allocation, and
 * out of memory.  Built with ring.c's test hook, which counts allocations
 * and fails them on request. */
#include "config.h"

#include "pilot_transport.h"
#include "ring.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static int allocs;   /* allocations since the test reset it */
static int fail_all; /* make every allocation fail */

static void *counting_realloc(void *p, size_t n)
{
    allocs++;
    return fail_all ? NULL : realloc(p, n);
}

static void reset(void)
{
    allocs = 0;
    fail_all = 0;
}

/* Frame i of a stream: (i % 256) repeated, 1..7 bytes long. */
#define NTH_VALUE(i) ((i) % 256)
#define NTH_LEN(i) (1 + (size_t)(i) % 7)

/* Push one byte value repeated len times. */
static int push_fill(wss_ring *r, int value, size_t len)
{
    unsigned char buf[8192];
    memset(buf, value, len);
    return wss_ring_push(r, buf, len);
}

/* The oldest frame is len bytes of value. */
static int front_is(const wss_ring *r, int value, size_t len)
{
    size_t got = (size_t)-1;
    const unsigned char *p = wss_ring_peek(r, &got);
    if (!p || got != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] != value)
            return 0;
    return 1;
}

TEST(new_ring_is_empty_and_allocates_nothing)
{
    wss_ring r;
    size_t len = 99;
    reset();
    wss_ring_init(&r, 4);
    CHECK_EQ_INT(allocs, 0); /* the slots come with the first frame */
    CHECK(wss_ring_empty(&r));
    CHECK(!wss_ring_full(&r));
    CHECK_EQ_INT(wss_ring_count(&r), 0);
    CHECK(wss_ring_peek(&r, &len) == NULL);
    CHECK_EQ_INT(len, 99); /* untouched */
    wss_ring_pop(&r);      /* popping an empty ring does nothing */
    CHECK(wss_ring_empty(&r));
    wss_ring_free(&r);
}

TEST(frames_come_out_oldest_first_with_their_bytes)
{
    wss_ring r;
    reset();
    wss_ring_init(&r, 4);
    CHECK_EQ_INT(push_fill(&r, 'a', 10), PT_OK);
    CHECK_EQ_INT(push_fill(&r, 'b', 20), PT_OK);
    CHECK_EQ_INT(push_fill(&r, 'c', 0), PT_OK); /* empty frames are frames */
    CHECK_EQ_INT(wss_ring_count(&r), 3);
    CHECK(front_is(&r, 'a', 10));
    wss_ring_pop(&r);
    CHECK(front_is(&r, 'b', 20));
    wss_ring_pop(&r);
    CHECK(front_is(&r, 'c', 0));
    wss_ring_pop(&r);
    CHECK(wss_ring_empty(&r));
    wss_ring_free(&r);
}

TEST(full_ring_refuses_and_keeps_its_frames)
{
    wss_ring r;
    reset();
    wss_ring_init(&r, 3);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(push_fill(&r, 'a' + i, 5), PT_OK);
    CHECK(wss_ring_full(&r));
    CHECK_EQ_INT(push_fill(&r, 'z', 5), WSS_RING_FULL);
    CHECK_EQ_INT(wss_ring_count(&r), 3);
    for (int i = 0; i < 3; i++) {
        CHECK(front_is(&r, 'a' + i, 5));
        wss_ring_pop(&r);
    }
    CHECK(wss_ring_empty(&r));
    wss_ring_free(&r);
}

TEST(wrap_around_keeps_order)
{
    wss_ring r;
    int next_in = 0, next_out = 0;
    reset();
    wss_ring_init(&r, 3);
    /* Fill, take one, refill, many times: the frames go round the slots. */
    for (int round = 0; round < 10; round++) {
        while (!wss_ring_full(&r)) {
            CHECK_EQ_INT(push_fill(&r, NTH_VALUE(next_in), NTH_LEN(next_in)), PT_OK);
            next_in++;
        }
        CHECK(front_is(&r, NTH_VALUE(next_out), NTH_LEN(next_out)));
        wss_ring_pop(&r);
        next_out++;
    }
    while (!wss_ring_empty(&r)) {
        CHECK(front_is(&r, NTH_VALUE(next_out), NTH_LEN(next_out)));
        wss_ring_pop(&r);
        next_out++;
    }
    CHECK_EQ_INT(next_out, next_in);
    CHECK(next_in > 3 * 3); /* it did go round */
    wss_ring_free(&r);
}

TEST(capacity_one_holds_one_frame)
{
    wss_ring r;
    reset();
    wss_ring_init(&r, 1);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(push_fill(&r, 'a' + i, 3), PT_OK);
        CHECK(wss_ring_full(&r));
        CHECK_EQ_INT(push_fill(&r, 'z', 3), WSS_RING_FULL);
        CHECK(front_is(&r, 'a' + i, 3));
        wss_ring_pop(&r);
        CHECK(wss_ring_empty(&r));
    }
    wss_ring_free(&r);
}

TEST(a_slot_grows_for_a_larger_frame_and_keeps_its_buffer)
{
    wss_ring r;
    reset();
    wss_ring_init(&r, 1);
    CHECK_EQ_INT(push_fill(&r, 'a', 10), PT_OK);
    CHECK_EQ_INT(allocs, 2); /* the slots, then the slot's first buffer */
    CHECK_EQ_INT(r.slot[0].cap, WSS_RING_SLOT_MIN);
    wss_ring_pop(&r);
    CHECK_EQ_INT(push_fill(&r, 'b', WSS_RING_SLOT_MIN + 1000), PT_OK);
    CHECK_EQ_INT(allocs, 3);
    CHECK_EQ_INT(r.slot[0].cap, WSS_RING_SLOT_MIN + 1000);
    CHECK(front_is(&r, 'b', WSS_RING_SLOT_MIN + 1000));
    wss_ring_pop(&r);
    /* A smaller frame fits the grown buffer: it never shrinks. */
    CHECK_EQ_INT(push_fill(&r, 'c', 10), PT_OK);
    CHECK_EQ_INT(allocs, 3);
    CHECK_EQ_INT(r.slot[0].cap, WSS_RING_SLOT_MIN + 1000);
    CHECK(front_is(&r, 'c', 10));
    wss_ring_free(&r);
}

TEST(warmed_up_ring_allocates_nothing)
{
    wss_ring r;
    reset();
    wss_ring_init(&r, 4);
    for (int i = 0; i < 4; i++) /* warm every slot up to 4000 bytes */
        CHECK_EQ_INT(push_fill(&r, 'w', 4000), PT_OK);
    while (!wss_ring_empty(&r))
        wss_ring_pop(&r);
    allocs = 0;
    for (int i = 0; i < 1000; i++) {
        CHECK_EQ_INT(push_fill(&r, i % 256, (size_t)(i * 37) % 4001), PT_OK);
        if (i % 3 == 2)
            while (!wss_ring_empty(&r))
                wss_ring_pop(&r);
        if (wss_ring_full(&r))
            wss_ring_pop(&r);
    }
    CHECK_EQ_INT(allocs, 0);
    wss_ring_free(&r);
}

TEST(out_of_memory_for_the_slots_is_reported_and_the_next_frame_tries_again)
{
    wss_ring r;
    size_t len = 0;
    reset();
    wss_ring_init(&r, 8);
    fail_all = 1;
    CHECK_EQ_INT(push_fill(&r, 'a', 10), PT_ENOMEM);
    CHECK(r.slot == NULL);
    CHECK(wss_ring_empty(&r));
    CHECK(!wss_ring_full(&r));
    fail_all = 0;
    CHECK_EQ_INT(push_fill(&r, 'b', 10), PT_OK); /* the slots, then its buffer */
    CHECK_EQ_INT(wss_ring_count(&r), 1);
    const unsigned char *p = wss_ring_peek(&r, &len);
    CHECK(p != NULL);
    CHECK_EQ_INT(len, 10);
    CHECK(p && p[0] == 'b' && p[9] == 'b');
    wss_ring_free(&r);
    reset();
}

TEST(out_of_memory_for_a_frame_drops_it_and_leaves_the_ring_as_it_was)
{
    wss_ring r;
    reset();
    wss_ring_init(&r, 3);
    CHECK_EQ_INT(push_fill(&r, 'a', 10), PT_OK);
    fail_all = 1;
    /* The next slot has no buffer yet: it cannot get one. */
    CHECK_EQ_INT(push_fill(&r, 'b', 10), PT_ENOMEM);
    CHECK_EQ_INT(wss_ring_count(&r), 1);
    CHECK(front_is(&r, 'a', 10));
    fail_all = 0;
    /* The slot is usable once memory is back. */
    CHECK_EQ_INT(push_fill(&r, 'c', 10), PT_OK);
    CHECK_EQ_INT(wss_ring_count(&r), 2);
    wss_ring_pop(&r);
    CHECK(front_is(&r, 'c', 10));
    wss_ring_pop(&r);
    /* A buffer that cannot grow keeps its old contents and size. */
    CHECK_EQ_INT(push_fill(&r, 'd', 10), PT_OK); /* slot 2: its first buffer */
    wss_ring_pop(&r);
    CHECK_EQ_INT(push_fill(&r, 'e', 10), PT_OK); /* slot 0, warmed earlier */
    wss_ring_pop(&r);
    fail_all = 1;
    CHECK_EQ_INT(push_fill(&r, 'f', WSS_RING_SLOT_MIN + 1), PT_ENOMEM); /* slot 1 */
    CHECK(wss_ring_empty(&r));
    CHECK_EQ_INT(r.slot[1].cap, WSS_RING_SLOT_MIN);
    fail_all = 0;
    wss_ring_free(&r);
}

int main(void)
{
    wss_ring_test_realloc = counting_realloc;
    RUN(new_ring_is_empty_and_allocates_nothing);
    RUN(frames_come_out_oldest_first_with_their_bytes);
    RUN(full_ring_refuses_and_keeps_its_frames);
    RUN(wrap_around_keeps_order);
    RUN(capacity_one_holds_one_frame);
    RUN(a_slot_grows_for_a_larger_frame_and_keeps_its_buffer);
    RUN(warmed_up_ring_allocates_nothing);
    RUN(out_of_memory_for_the_slots_is_reported_and_the_next_frame_tries_again);
    RUN(out_of_memory_for_a_frame_drops_it_and_leaves_the_ring_as_it_was);
    return tap_done();
}
