/*
 * test-wss-recv-many.c -- the WSS plugin's recv_many (ABI 1.2) against the
 * real dev beacon (echo mode) over real TLS with the test CA
 * (tests/wss/harness.c): batches, fewer slots than frames, the wait for
 * the first frame, timeouts, close, slots too small, bad arguments.
 *
 * A batch is made deterministic without sleeping: with no reader in recv,
 * the keeper reads what arrives into the receive ring (on its tick), and
 * stats' frames_in says when every echo is there; poll_fd, readable from
 * the first, is the wake-up until then.
 */
#include "config.h"

#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "pilot_transport_loader.h"
#include "tap.h"
#include "thread_wait.h"

/* Frame i of a test: 1 + i * 97 bytes, each byte i. */
static size_t frame_len(int i)
{
    return 1 + (size_t)i * 97;
}

static unsigned char out[16][2048];

/* Send frames 0..n) in one send_many. */
static int send_frames(pt_conn *c, int n)
{
    pt_frame f[16];
    for (int i = 0; i < n; i++) {
        memset(out[i], i, frame_len(i));
        f[i] = (pt_frame){ out[i], frame_len(i), NULL };
    }
    int rc = wss->send_many(c, f, (size_t)n);
    if (rc != n)
        printf("# send_many: %d (%s)\n", rc, rc < 0 ? pt_strerror(rc) : "");
    return rc == n;
}

/* Wait (ms, scaled) until count frames have been read from the link: then
 * they are all in the ring, for one recv_many.  poll_fd wakes us when the
 * first is; after that stats is checked every 10 ms. */
static int wait_frames_in(pt_conn *c, uint64_t count, int ms)
{
    int64_t deadline = now_ms() + (int64_t)ms * scale;
    struct pollfd p = { wss->poll_fd(c), POLLIN, 0 };
    while (stats_of(c).frames_in < count) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            printf("# only %llu of %llu frames arrived\n",
                   (unsigned long long)stats_of(c).frames_in, (unsigned long long)count);
            return 0;
        }
        if (poll(&p, 1, left > 10 ? 10 : (int)left) == 1)
            poll(NULL, 0, 10); /* readable already: the rest are on their way */
    }
    return 1;
}

static unsigned char in[16][2048];
static pt_rframe slots[16];

static void slots_init(size_t cap)
{
    for (int i = 0; i < 16; i++)
        slots[i] = (pt_rframe){ .data = in[i], .cap = cap, .len = -99 };
}

/* An echo beacon, a connection to it, frames 0..n) sent and echoed into
 * the ring, the slots set up with cap bytes each; NULL (after a failed
 * check) if any of that fails. */
static pt_conn *up_with_frames(beacon *b, int n, size_t cap)
{
    pt_conn *c = beacon_and_dial(b, NULL, NULL);
    CHECK(c != NULL);
    if (c && n > 0) {
        CHECK(send_frames(c, n));
        CHECK(wait_frames_in(c, (uint64_t)n, 10000));
    }
    slots_init(cap);
    if (!c)
        down(b, c);
    return c;
}

/* Slot k holds frame i, from the synthetic beacon address. */
static int slot_is_frame(int k, int i)
{
    const pt_rframe *s = &slots[k];
    int ok = s->len == (int32_t)frame_len(i) && memcmp(s->data, out[i], frame_len(i)) == 0 &&
             s->src.family == PT_AF_INET && s->src.ip[0] == 192 && s->src.ip[3] == 2;
    if (!ok)
        printf("# slot %d: len %d, want frame %d (%zu bytes)\n", k, (int)s->len, i,
               frame_len(i));
    return ok;
}

TEST(recv_many_is_in_the_descriptor)
{
    CHECK(wss->recv_many != NULL);
    CHECK(wss->abi_minor >= 2);
    CHECK(wss->struct_size >= PT_PLUGIN_SIZE_1_2);
}

TEST(frames_that_are_ready_come_in_one_call)
{
    beacon b;
    pt_conn *c = up_with_frames(&b, 10, sizeof in[0]);
    if (!c)
        return;
    CHECK_EQ_INT(wss->recv_many(c, slots, 16, 0), 10);
    for (int i = 0; i < 10; i++)
        CHECK(slot_is_frame(i, i));
    CHECK_EQ_INT(slots[10].len, -99); /* untouched */
    CHECK_EQ_INT(wss->recv_many(c, slots, 16, 0), PT_ETIMEDOUT);
    CHECK_EQ_INT(stats_of(c).frames_in, 10);
    down(&b, c);
}

TEST(fewer_slots_than_frames_take_the_oldest_first)
{
    beacon b;
    pt_conn *c = up_with_frames(&b, 10, sizeof in[0]);
    if (!c)
        return;
    CHECK_EQ_INT(wss->recv_many(c, slots, 4, 0), 4);
    for (int i = 0; i < 4; i++)
        CHECK(slot_is_frame(i, i));
    CHECK_EQ_INT(wss->recv_many(c, slots, 4, 0), 4);
    for (int i = 0; i < 4; i++)
        CHECK(slot_is_frame(i, 4 + i));
    CHECK_EQ_INT(wss->recv_many(c, slots, 4, 1000 * scale), 2);
    CHECK(slot_is_frame(0, 8));
    CHECK(slot_is_frame(1, 9));
    CHECK_EQ_INT(wss->recv_many(c, slots, 4, 0), PT_ETIMEDOUT);
    /* recv and recv_many share the ring: one frame to each, in order. */
    CHECK(send_frames(c, 2));
    CHECK(wait_frames_in(c, 12, 10000));
    CHECK_EQ_INT(wss->recv(c, in[15], sizeof in[15], NULL, 0), (int)frame_len(0));
    CHECK_EQ_INT(wss->recv_many(c, slots, 4, 0), 1);
    CHECK(slot_is_frame(0, 1));
    down(&b, c);
}

/* A thread blocked in recv_many(c, slots, n, timeout). */
struct blocked_many {
    pt_conn *c;
    size_t n;
    int timeout_ms;
    pthread_t thread;
    pid_t tid;
    int started;
    int rc;
};

static void *blocked_many_main(void *arg)
{
    struct blocked_many *bm = arg;
    bm->tid = thread_wait_tid();
    __atomic_store_n(&bm->started, 1, __ATOMIC_SEQ_CST);
    bm->rc = wss->recv_many(bm->c, slots, bm->n, bm->timeout_ms);
    return NULL;
}

/* Start it and return once it sleeps inside recv_many (1), or 0. */
static int blocked_many_start(struct blocked_many *bm, pt_conn *c, size_t n, int timeout_ms)
{
    memset(bm, 0, sizeof *bm);
    bm->c = c;
    bm->n = n;
    bm->timeout_ms = timeout_ms;
    if (pthread_create(&bm->thread, NULL, blocked_many_main, bm) != 0)
        return 0;
    while (!__atomic_load_n(&bm->started, __ATOMIC_SEQ_CST))
        sched_yield();
    return thread_wait_sleeping(bm->tid);
}

/* Blocked with 8 slots and a long timeout, it returns with the one frame
 * that came, without waiting for more or for the timeout. */
TEST(it_waits_for_the_first_frame_then_takes_only_what_is_ready)
{
    beacon b;
    struct blocked_many bm;
    pt_conn *c = up_with_frames(&b, 0, sizeof in[0]);
    if (!c)
        return;
    int timeout = 60000 * scale;
    CHECK(blocked_many_start(&bm, c, 8, timeout));
    int64_t t0 = now_ms();
    CHECK(send_frames(c, 1));
    pthread_join(bm.thread, NULL);
    int64_t took = now_ms() - t0;
    CHECK_EQ_INT(bm.rc, 1);
    CHECK(slot_is_frame(0, 0));
    CHECK_EQ_INT(slots[1].len, -99);
    printf("# returned %lld ms after the send\n", (long long)took);
    CHECK(took < timeout);
    down(&b, c);
}

TEST(nothing_within_the_timeout_is_timed_out)
{
    beacon b;
    pt_conn *c = up_with_frames(&b, 0, sizeof in[0]);
    if (!c)
        return;
    CHECK_EQ_INT(wss->recv_many(c, slots, 4, 0), PT_ETIMEDOUT);
    int64_t t0 = now_ms();
    CHECK_EQ_INT(wss->recv_many(c, slots, 4, 300), PT_ETIMEDOUT);
    int64_t took = now_ms() - t0;
    printf("# timed out after %lld ms (timeout 300)\n", (long long)took);
    CHECK(took >= 300);
    CHECK(took <= ceiling_ms(300));
    CHECK_EQ_INT(slots[0].len, -99);
    down(&b, c);
}

TEST(close_wakes_a_blocked_recv_many)
{
    beacon b;
    struct blocked_many bm;
    pt_conn *c = up_with_frames(&b, 0, sizeof in[0]);
    if (!c)
        return;
    CHECK(blocked_many_start(&bm, c, 4, -1));
    int64_t t0 = now_ms();
    CHECK_EQ_INT(wss->close(c), PT_OK);
    pthread_join(bm.thread, NULL);
    CHECK_EQ_INT(bm.rc, PT_ECLOSED);
    CHECK(now_ms() - t0 <= ceiling_ms(200)); /* close's own flush is bounded by 200 ms */
    CHECK_EQ_INT(wss->recv_many(c, slots, 4, 0), PT_ECLOSED);
    CHECK_EQ_INT(wss->recv_many(c, slots, 4, -1), PT_ECLOSED);
    wss->free(c);
    beacon_stop(&b);
}

/* A datagram that does not fit its slot is discarded: that slot says
 * PT_ETOOLARGE (with src), the ones around it are delivered. */
TEST(a_slot_too_small_is_marked_too_large_and_the_rest_are_delivered)
{
    beacon b;
    char msg[PT_ERRMSG_MAX];
    /* Frames 11..15 (1068 to 1456 bytes) do not fit 1000 bytes. */
    pt_conn *c = up_with_frames(&b, 16, 1000);
    if (!c)
        return;
    CHECK_EQ_INT(wss->recv_many(c, slots, 16, 0), 16);
    for (int i = 0; i < 16; i++) {
        if (frame_len(i) <= 1000) {
            CHECK(slot_is_frame(i, i));
            continue;
        }
        CHECK_EQ_INT(slots[i].len, PT_ETOOLARGE);
        CHECK(slots[i].src.family == PT_AF_INET && slots[i].src.ip[3] == 2);
    }
    CHECK_EQ_INT(stats_of(c).dropped_in, 5);
    CHECK_EQ_INT(wss->last_error(c, NULL, 0), PT_ETOOLARGE); /* length 0: the code only */
    CHECK_EQ_INT(wss->last_error(c, msg, sizeof msg), PT_ETOOLARGE);
    CHECK_STR_CONTAINS(msg, "-byte frame discarded: buffer holds 1000");
    /* recv says the same for its one buffer. */
    CHECK(send_frames(c, 12));
    CHECK(wait_frames_in(c, 28, 10000));
    for (int i = 0; i < 11; i++)
        CHECK_EQ_INT(wss->recv(c, in[0], 1000, NULL, 0), (int)frame_len(i));
    CHECK_EQ_INT(wss->recv(c, in[0], 1000, NULL, 0), PT_ETOOLARGE);
    CHECK_EQ_INT(stats_of(c).dropped_in, 6);
    down(&b, c);
}

TEST(bad_arguments_are_refused)
{
    beacon b;
    char msg[PT_ERRMSG_MAX];
    pt_conn *c = up_with_frames(&b, 0, sizeof in[0]);
    if (!c)
        return;
    CHECK_EQ_INT(wss->recv_many(NULL, slots, 4, 0), PT_EINVAL);
    CHECK_EQ_INT(wss->recv_many(c, NULL, 4, 0), PT_EINVAL);
    CHECK_EQ_INT(wss->recv_many(c, slots, 0, 0), PT_EINVAL);
    CHECK_EQ_INT(wss->last_error(c, msg, sizeof msg), PT_EINVAL);
    CHECK_STR_CONTAINS(msg, "wss recv_many: no slots");
    CHECK_EQ_INT(wss->recv_many(c, slots, (size_t)INT_MAX + 1, 0), PT_EINVAL);
    slots[2].data = NULL;
    CHECK_EQ_INT(wss->recv_many(c, slots, 4, 0), PT_EINVAL);
    CHECK_EQ_INT(wss->last_error(c, msg, sizeof msg), PT_EINVAL);
    CHECK_STR_CONTAINS(msg, "slot 2 has no buffer");
    /* recv: a NULL buffer is refused whatever its size. */
    CHECK_EQ_INT(wss->recv(c, NULL, 0, NULL, 0), PT_EINVAL);
    CHECK_EQ_INT(wss->recv(c, NULL, 16, NULL, 0), PT_EINVAL);
    /* last_error: NULL with a length is refused. */
    CHECK_EQ_INT(wss->last_error(c, NULL, 16), PT_EINVAL);
    CHECK_EQ_INT(wss->last_error(NULL, msg, sizeof msg), PT_EINVAL);
    /* Nothing was received or lost on the way. */
    slots_init(sizeof in[0]);
    CHECK(send_frames(c, 1));
    CHECK_EQ_INT(wss->recv_many(c, slots, 4, 5000 * scale), 1);
    CHECK(slot_is_frame(0, 0));
    down(&b, c);
}

int main(void)
{
    if (harness_init() != 0)
        return 1;
    tap_on_hang = harness_kill_children; /* no beacon outlives a hang */
    RUN(recv_many_is_in_the_descriptor);
    RUN(frames_that_are_ready_come_in_one_call);
    RUN(fewer_slots_than_frames_take_the_oldest_first);
    RUN(it_waits_for_the_first_frame_then_takes_only_what_is_ready);
    RUN(nothing_within_the_timeout_is_timed_out);
    RUN(close_wakes_a_blocked_recv_many);
    RUN(a_slot_too_small_is_marked_too_large_and_the_rest_are_delivered);
    RUN(bad_arguments_are_refused);
    harness_cleanup();
    return tap_done();
}
