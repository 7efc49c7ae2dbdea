/*
 * check_stats.c -- stats with structs of every size a host may pass: under
 * 4 bytes (PT_EINVAL), 4, part of a field (whole fields only), 1.0's, and
 * larger than this header's (a newer host): the plugin fills the fields
 * that fit whole, leaves every byte past them untouched and writes back in
 * struct_size how far it filled.  And the counters follow the traffic.
 */
#include "config.h"

#include "conformance.h"

#include <stdio.h>
#include <string.h>

#define GUARD 0xa5
/* A host struct from a later minor: room for more fields than ours. */
#define NEWER_SIZE (sizeof(pt_stats) + 32)

/* Where each field of pt_stats ends (reserved_1_0 included: a plugin that
 * fills it has filled the whole 1.0 struct). */
static const size_t field_ends[] = {
    offsetof(pt_stats, state) + sizeof(int32_t),
    offsetof(pt_stats, frames_out) + sizeof(uint64_t),
    offsetof(pt_stats, bytes_out) + sizeof(uint64_t),
    offsetof(pt_stats, frames_in) + sizeof(uint64_t),
    offsetof(pt_stats, bytes_in) + sizeof(uint64_t),
    offsetof(pt_stats, reconnects) + sizeof(uint64_t),
    offsetof(pt_stats, dropped_in) + sizeof(uint64_t),
    offsetof(pt_stats, last_error) + sizeof(int32_t),
    PT_STATS_SIZE_1_0,
};

/* The whole-field end at or below size. */
static size_t fits(size_t size)
{
    size_t n = sizeof(uint32_t);
    for (size_t i = 0; i < sizeof field_ends / sizeof field_ends[0]; i++)
        if (field_ends[i] <= size)
            n = field_ends[i];
    return n;
}

/* Call stats with struct_size = size in a guarded buffer and check what it
 * wrote.  Returns the buffer's struct as the plugin left it in *out. */
static void sized(struct cx *x, pt_conn *c, size_t size, pt_stats *out)
{
    union {
        pt_stats s;
        unsigned char b[NEWER_SIZE];
    } u;
    memset(u.b, GUARD, sizeof u.b);
    u.s.struct_size = (uint32_t)size;
    int rc = x->p->stats(c, &u.s);
    char call[48];
    snprintf(call, sizeof call, "stats(struct_size %zu)", size);
    if (size < 4) {
        cx_expect_rc(x, rc, PT_EINVAL, call);
        size_t changed = 0;
        for (size_t i = sizeof(uint32_t); i < sizeof u.b; i++)
            changed += u.b[i] != GUARD;
        EXPECT(x, changed == 0 && u.s.struct_size == size,
               "%s wrote to the struct it refused", call);
        return;
    }
    if (!cx_expect_rc(x, rc, PT_OK, call))
        return;
    size_t want = fits(size), got = u.s.struct_size;
    /* A plugin may leave out the reserved tail of a 1.0 struct. */
    int ok_size = got == want || (want == PT_STATS_SIZE_1_0 && got == field_ends[7]);
    EXPECT(x, ok_size, "%s set struct_size to %zu, want %zu (the whole fields that fit)", call,
           got, want);
    size_t first = got <= size ? got : size, changed = 0, at = 0;
    for (size_t i = first; i < sizeof u.b; i++)
        if (u.b[i] != GUARD && !changed++)
            at = i;
    EXPECT(x, changed == 0, "%s wrote %zu bytes it must leave untouched, the first at offset %zu",
           call, changed, at);
    if (out)
        memcpy(out, &u.s, sizeof *out);
}

static void too_small(struct cx *x)
{
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    sized(x, c, 0, NULL);
    sized(x, c, 3, NULL);
    cx_release(x, c);
}

static void size_4(struct cx *x)
{
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    sized(x, c, 4, NULL);
    sized(x, c, 8, NULL); /* struct_size and state */
    cx_release(x, c);
}

static void size_1_0(struct cx *x)
{
    pt_stats s;
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    memset(&s, 0, sizeof s);
    sized(x, c, PT_STATS_SIZE_1_0, &s);
    EXPECT(x, s.state == PT_STATE_CONNECTED, "state is %d, want PT_STATE_CONNECTED (1)",
           (int)s.state);
    cx_release(x, c);
}

/* 20 bytes: struct_size, state and frames_out fit (16); bytes_out does not. */
static void partial_field(struct cx *x)
{
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    sized(x, c, 20, NULL);
    sized(x, c, 60, NULL); /* everything but the reserved tail */
    cx_release(x, c);
}

static void newer_host(struct cx *x)
{
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    sized(x, c, NEWER_SIZE, NULL);
    cx_release(x, c);
}

static int full(struct cx *x, pt_conn *c, pt_stats *s)
{
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    return x->p->stats(c, s);
}

static void counters(struct cx *x)
{
    static const size_t len[3] = { 100, 1000, 37 };
    struct link l;
    pt_stats tx0, rx0, tx1, rx1;
    uint64_t out_bytes = 0, in_bytes = 0;
    if (link_open(x, &l) != 0)
        return;
    if (full(x, l.tx, &tx0) != PT_OK || full(x, l.rx, &rx0) != PT_OK) {
        cx_fail(x, "stats failed");
        goto out;
    }
    for (uint32_t i = 0; i < 3; i++) {
        int rc = link_send(&l, i, len[i]);
        if (rc < 0)
            cx_fail(x, "send %u returned %s", (unsigned)i, cx_code_name(rc));
        out_bytes += len[i] + l.tx_over;
        in_bytes += len[i] + l.rx_over;
    }
    for (uint32_t i = 0; i < 3; i++) {
        int rc = link_expect(&l, i, len[i], (int)cx_bound_ms(x, 2000), "counted traffic");
        if (rc != 1)
            cx_fail(x, "datagram %u did not arrive: %s", (unsigned)i,
                    rc == 0 ? "timed out" : cx_code_name(rc));
    }
    if (full(x, l.tx, &tx1) != PT_OK || full(x, l.rx, &rx1) != PT_OK) {
        cx_fail(x, "stats failed");
        goto out;
    }
    if (l.rx == l.tx)
        tx1 = rx1; /* one connection: its latest figures */
    EXPECT(x, tx1.frames_out - tx0.frames_out == 3, "frames_out grew by %llu, want 3",
           (unsigned long long)(tx1.frames_out - tx0.frames_out));
    EXPECT(x, tx1.bytes_out - tx0.bytes_out == out_bytes, "bytes_out grew by %llu, want %llu",
           (unsigned long long)(tx1.bytes_out - tx0.bytes_out), (unsigned long long)out_bytes);
    EXPECT(x, rx1.frames_in - rx0.frames_in == 3 + l.strays,
           "frames_in grew by %llu, want %llu", (unsigned long long)(rx1.frames_in - rx0.frames_in),
           (unsigned long long)(3 + l.strays));
    if (!l.strays)
        EXPECT(x, rx1.bytes_in - rx0.bytes_in == in_bytes, "bytes_in grew by %llu, want %llu",
               (unsigned long long)(rx1.bytes_in - rx0.bytes_in), (unsigned long long)in_bytes);
    EXPECT(x, rx1.dropped_in == rx0.dropped_in, "dropped_in grew by %llu with nothing dropped",
           (unsigned long long)(rx1.dropped_in - rx0.dropped_in));
out:
    link_close(&l);
}

const struct check checks_stats[] = {
    { "stats: struct_size under 4 fails with PT_EINVAL and writes nothing", too_small },
    { "stats: struct_size 4 and 8 get exactly those fields", size_4 },
    { "stats: a 1.0-sized struct is filled, state PT_STATE_CONNECTED", size_1_0 },
    { "stats: a struct ending inside a field gets whole fields only", partial_field },
    { "stats: a newer host's larger struct: nothing past ours is written", newer_host },
    { "stats: frames and bytes out and in follow the traffic", counters },
    { NULL, NULL },
};
