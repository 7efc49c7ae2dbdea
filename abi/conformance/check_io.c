/*
 * check_io.c -- send, recv, send_many and recv_many over the loopback:
 * datagrams arrive whole and in order, every error these calls can be
 * made to return (len 0, too large, a buffer too small, timeouts, closed),
 * and that a refused frame never goes out.
 */
#include "config.h"

#include "conformance.h"
#include "util.h"

#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* How long a datagram may take to come back; generous (a busy machine). */
static int wait_ms(const struct cx *x)
{
    return (int)cx_bound_ms(x, 2000);
}

/* After a call that must have sent nothing: send marker seq and check it
 * is the next datagram of this check to arrive. */
static void nothing_else(struct link *l, uint32_t marker, const char *after)
{
    char what[128];
    int rc = link_send(l, marker, 64);
    if (rc < 0) {
        cx_fail(l->x, "after %s: the marker's send returned %s", after, cx_code_name(rc));
        return;
    }
    snprintf(what, sizeof what, "after %s, which must send nothing", after);
    rc = link_expect(l, marker, 64, wait_ms(l->x), what);
    if (rc == 0)
        cx_fail(l->x, "after %s: the marker datagram never arrived", after);
    else if (rc < 0)
        cx_fail(l->x, "after %s: recv returned %s", after, cx_code_name(rc));
    else
        cx_pass(l->x);
}

static void round_trip(struct cx *x)
{
    static const size_t sizes[] = { 1, LINK_HEADER, 1200, 8000 };
    struct link l;
    if (link_open(x, &l) != 0)
        return;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t seq = sizes[i] < LINK_HEADER ? UINT32_MAX : (uint32_t)i;
        int rc = link_send(&l, seq, sizes[i]);
        if (!cx_expect_rc(x, rc, (int)(sizes[i] + l.tx_over), "send"))
            continue;
        rc = link_expect(&l, seq, sizes[i], wait_ms(x), "round trip");
        EXPECT(x, rc == 1, "a %zu-byte payload did not come back: %s", sizes[i],
               rc == 0 ? "timed out" : cx_code_name(rc));
    }
    link_close(&l);
}

static void source_address(struct cx *x)
{
    struct link l;
    unsigned char buf[LINK_BUF];
    pt_addr src, local;
    if (link_open(x, &l) != 0)
        return;
    memset(&src, 0xee, sizeof src);
    if (link_send(&l, 1, 64) < 0) {
        cx_fail(x, "send failed");
        goto out;
    }
    int rc = x->p->recv(l.rx, buf, sizeof buf, &src, wait_ms(x));
    if (rc <= 0) {
        cx_fail(x, "recv returned %s", cx_code_name(rc));
        goto out;
    }
    EXPECT(x, src.family == PT_AF_INET || src.family == PT_AF_INET6,
           "recv set src.family to %u, want PT_AF_INET or PT_AF_INET6", (unsigned)src.family);
    if (!l.relay && x->p->local_addr(l.tx, &local) == PT_OK) {
        char a[PT_ADDRSTRLEN], b[PT_ADDRSTRLEN];
        pt_addr_format(&src, a, sizeof a);
        pt_addr_format(&local, b, sizeof b);
        /* A wildcard bind (0.0.0.0) is seen from the address it sent from. */
        int wildcard = local.family == PT_AF_INET && !memcmp(local.ip, "\0\0\0\0", 4);
        EXPECT(x, src.port == local.port && (wildcard || strcmp(a, b) == 0),
               "a datagram the connection sent to itself came from %s, but local_addr is %s",
               a, b);
    }
out:
    link_close(&l);
}

static void send_len0(struct cx *x)
{
    struct link l;
    unsigned char buf[16] = { 0 };
    if (link_open(x, &l) != 0)
        return;
    int rc = x->p->send(l.tx, buf, 0, l.has_dst ? &l.dst : NULL);
    cx_expect_rc(x, rc, PT_EINVAL, "send(len 0)");
    nothing_else(&l, 7, "send(len 0)");
    link_close(&l);
}

static void send_too_large(struct cx *x)
{
    struct link l;
    char msg[PT_ERRMSG_MAX];
    pt_stats st;
    unsigned char *buf = calloc(1, PT_MAX_FRAME + 1);
    if (!buf || link_open(x, &l) != 0) {
        free(buf);
        return;
    }
    int rc = x->p->send(l.tx, buf, PT_MAX_FRAME + 1, l.has_dst ? &l.dst : NULL);
    cx_expect_rc(x, rc, PT_ETOOLARGE, "send(len PT_MAX_FRAME + 1)");
    memset(msg, 0, sizeof msg);
    rc = x->p->last_error(l.tx, msg, sizeof msg);
    cx_expect_rc(x, rc, PT_ETOOLARGE, "last_error after it");
    EXPECT(x, msg[0] != '\0', "last_error's text is empty");
    cx_note(x, "last_error: \"%s\"", msg);
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    if (x->p->stats(l.tx, &st) == PT_OK)
        EXPECT(x, st.last_error == PT_ETOOLARGE, "stats' last_error is %s, want PT_ETOOLARGE",
               cx_code_name(st.last_error));
    nothing_else(&l, 8, "send(len PT_MAX_FRAME + 1)");
    free(buf);
    link_close(&l);
}

/* Exactly PT_MAX_FRAME: carried whole, or over what the transport carries. */
static void send_max_frame(struct cx *x)
{
    struct link l;
    if (link_open(x, &l) != 0)
        return;
    size_t plen = PT_MAX_FRAME - l.tx_over;
    int rc = link_send(&l, 3, plen);
    if (rc == PT_ETOOLARGE) {
        cx_note(x, "a %d-byte datagram is over what this transport carries (PT_ETOOLARGE)",
                PT_MAX_FRAME);
        cx_pass(x);
    } else if (cx_expect_rc(x, rc, PT_MAX_FRAME, "send(len PT_MAX_FRAME)")) {
        rc = link_expect(&l, 3, plen, wait_ms(x), "PT_MAX_FRAME datagram");
        EXPECT(x, rc == 1, "the %d-byte datagram send accepted did not arrive: %s",
               PT_MAX_FRAME, rc == 0 ? "timed out" : cx_code_name(rc));
    }
    nothing_else(&l, 4, "the PT_MAX_FRAME datagram");
    link_close(&l);
}

static void recv_poll_empty(struct cx *x)
{
    unsigned char buf[64];
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    int64_t t0 = cx_now_ms();
    int rc = x->p->recv(c, buf, sizeof buf, NULL, 0);
    int64_t took = cx_now_ms() - t0;
    cx_expect_rc(x, rc, PT_ETIMEDOUT, "recv(timeout 0) with nothing there");
    EXPECT(x, took <= cx_bound_ms(x, 50), "recv(timeout 0) took %lld ms", (long long)took);
    cx_release(x, c);
}

/* A timeout is waited out: never less (1 ms for clock granularity). */
static void recv_timeout(struct cx *x)
{
    const int timeout = 300;
    unsigned char buf[64];
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    uint64_t t0 = ptu_now_ns();
    int rc = x->p->recv(c, buf, sizeof buf, NULL, timeout);
    double took = (double)(ptu_now_ns() - t0) / 1e6;
    cx_expect_rc(x, rc, PT_ETIMEDOUT, "recv(timeout 300 ms) with nothing there");
    EXPECT(x, took >= timeout - 1, "recv(timeout %d ms) returned after %.1f ms", timeout, took);
    EXPECT(x, took <= (double)cx_bound_ms(x, timeout),
           "recv(timeout %d ms) returned after %.1f ms", timeout, took);
    cx_release(x, c);
}

static uint64_t dropped_in(struct cx *x, pt_conn *c)
{
    pt_stats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    return x->p->stats(c, &st) == PT_OK ? st.dropped_in : 0;
}

static void recv_too_small(struct cx *x)
{
    struct link l;
    unsigned char buf[LINK_BUF];
    if (link_open(x, &l) != 0)
        return;
    const size_t plen = 500, dlen = plen + l.rx_over;
    uint64_t before = dropped_in(x, l.rx);
    if (link_send(&l, 1, plen) < 0) {
        cx_fail(x, "send failed");
        goto out;
    }
    int rc = x->p->recv(l.rx, buf, dlen - 1, NULL, wait_ms(x));
    char call[64];
    snprintf(call, sizeof call, "recv(cap %zu) of a %zu-byte datagram", dlen - 1, dlen);
    cx_expect_rc(x, rc, PT_ETOOLARGE, call);
    EXPECT(x, dropped_in(x, l.rx) == before + 1,
           "stats' dropped_in went from %llu to %llu, want one more", (unsigned long long)before,
           (unsigned long long)dropped_in(x, l.rx));
    nothing_else(&l, 2, "a datagram too large for recv's buffer (it is discarded)");
out:
    link_close(&l);
}

static void recv_exact_cap(struct cx *x)
{
    struct link l;
    unsigned char buf[LINK_BUF];
    if (link_open(x, &l) != 0)
        return;
    const size_t plen = 300, dlen = plen + l.rx_over;
    if (link_send(&l, 5, plen) < 0) {
        cx_fail(x, "send failed");
        goto out;
    }
    int rc = x->p->recv(l.rx, buf, dlen, NULL, wait_ms(x));
    char call[64];
    snprintf(call, sizeof call, "recv(cap %zu) of a %zu-byte datagram", dlen, dlen);
    cx_expect_rc(x, rc, (int)dlen, call);
out:
    link_close(&l);
}

/* ---- send_many ------------------------------------------------------------ */

struct frames {
    pt_frame f[8];
    unsigned char *buf[8];
};

static void frames_free(struct frames *fs)
{
    for (int i = 0; i < 8; i++) {
        free(fs->buf[i]);
        fs->buf[i] = NULL;
    }
}

/* Frame i carries payload seq base+i of len[i] bytes. */
static int frames_make(struct link *l, struct frames *fs, uint32_t base, const size_t *len,
                       size_t n)
{
    memset(fs, 0, sizeof *fs);
    for (size_t i = 0; i < n; i++) {
        fs->buf[i] = malloc(LINK_BUF);
        if (!fs->buf[i])
            return -1;
        fs->f[i].data = fs->buf[i];
        fs->f[i].len = link_build(l, base + (uint32_t)i, len[i], fs->buf[i], LINK_BUF);
        fs->f[i].dst = l->has_dst ? &l->dst : NULL;
    }
    return 0;
}

static void send_many_all(struct cx *x)
{
    static const size_t len[4] = { 64, 1200, 9, 3000 };
    struct link l;
    struct frames fs;
    if (!CX_HAS(x, send_many) || link_open(x, &l) != 0)
        return;
    if (frames_make(&l, &fs, 10, len, 4) != 0) {
        cx_fail(x, "out of memory");
        goto out;
    }
    cx_expect_rc(x, x->p->send_many(l.tx, fs.f, 0), 0, "send_many(n 0)");
    int rc = x->p->send_many(l.tx, fs.f, 4);
    cx_expect_rc(x, rc, 4, "send_many(4 frames)");
    for (uint32_t i = 0; i < 4 && rc == 4; i++) {
        int got = link_expect(&l, 10 + i, len[i], wait_ms(x), "send_many, in order");
        EXPECT(x, got == 1, "frame %u of send_many did not arrive: %s", (unsigned)i,
               got == 0 ? "timed out" : cx_code_name(got));
    }
out:
    frames_free(&fs);
    link_close(&l);
}

/* A bad frame (NULL data, over PT_MAX_FRAME) fails the call before
 * anything is sent. */
static void send_many_bad_frame(struct cx *x)
{
    static const size_t len[3] = { 64, 64, 64 };
    struct link l;
    struct frames fs;
    if (!CX_HAS(x, send_many) || link_open(x, &l) != 0)
        return;
    if (frames_make(&l, &fs, 20, len, 3) != 0) {
        cx_fail(x, "out of memory");
        goto out;
    }
    fs.f[1].len = PT_MAX_FRAME + 1;
    cx_expect_rc(x, x->p->send_many(l.tx, fs.f, 3), PT_ETOOLARGE,
                 "send_many(frame 1 over PT_MAX_FRAME)");
    fs.f[1].len = 64;
    fs.f[1].data = NULL;
    cx_expect_rc(x, x->p->send_many(l.tx, fs.f, 3), PT_EINVAL, "send_many(frame 1 data NULL)");
    nothing_else(&l, 30, "send_many with a bad frame 1");
out:
    frames_free(&fs);
    link_close(&l);
}

/* A frame send would refuse (len 0; no destination where one is needed)
 * in the middle: either the call fails before sending anything, or it
 * returns how many went out, exactly those arrive, and the next call
 * (starting at the refused frame) reports the error. */
static void partial_case(struct cx *x, struct link *l, struct frames *fs, uint32_t base,
                         const char *what)
{
    int rc = x->p->send_many(l->tx, fs->f, 3);
    cx_note(x, "send_many with %s as frame 1 returned %s", what, cx_code_name(rc));
    if (rc == PT_EINVAL) {
        cx_pass(x);
    } else if (rc == 1) {
        int got = link_expect(l, base, 64, wait_ms(x), "the frame before the refused one");
        EXPECT(x, got == 1, "send_many returned 1, but frame 0 did not arrive: %s",
               got == 0 ? "timed out" : cx_code_name(got));
        cx_expect_rc(x, x->p->send_many(l->tx, fs->f + 1, 2), PT_EINVAL,
                     "the next send_many, starting at the refused frame");
    } else {
        cx_fail(x, "send_many with %s as frame 1 returned %s, want PT_EINVAL (nothing sent) "
                   "or 1 (frame 0 sent)",
                what, cx_code_name(rc));
    }
    char after[96];
    snprintf(after, sizeof after, "send_many with %s as frame 1", what);
    nothing_else(l, base + 10, after);
}

static void send_many_partial(struct cx *x)
{
    static const size_t len[3] = { 64, 64, 64 };
    struct link l;
    struct frames fs;
    if (!CX_HAS(x, send_many) || link_open(x, &l) != 0)
        return;
    if (frames_make(&l, &fs, 40, len, 3) != 0) {
        cx_fail(x, "out of memory");
        goto out;
    }
    fs.f[1].len = 0;
    partial_case(x, &l, &fs, 40, "a 0-byte frame");
    frames_free(&fs);
    if (!l.relay && frames_make(&l, &fs, 60, len, 3) == 0) {
        fs.f[1].dst = NULL;
        /* Only where send itself needs the destination. */
        if (x->p->send(l.tx, fs.f[1].data, fs.f[1].len, NULL) == PT_EINVAL)
            partial_case(x, &l, &fs, 60, "a frame without a destination");
        else
            cx_note(x, "send without a destination is accepted: a single-peer transport");
    }
out:
    frames_free(&fs);
    link_close(&l);
}

/* ---- recv_many ----------------------------------------------------------- */

static void recv_many_batch(struct cx *x)
{
    static const size_t len[3] = { 100, 300, 100 };
    struct link l;
    pt_rframe r[4];
    unsigned char *bufs = NULL;
    uint32_t next = 50;
    if (!CX_HAS(x, recv_many) || link_open(x, &l) != 0)
        return;
    bufs = malloc(4 * 2048);
    if (!bufs) {
        cx_fail(x, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < 3; i++)
        if (link_send(&l, 50 + i, len[i]) < 0)
            cx_fail(x, "send %u failed", (unsigned)i);
    int64_t deadline = cx_now_ms() + wait_ms(x);
    while (next < 53) {
        memset(r, 0, sizeof r);
        for (int i = 0; i < 4; i++) {
            r[i].data = bufs + i * 2048;
            r[i].cap = 2048;
            r[i].len = -12345;
        }
        int64_t left = deadline - cx_now_ms();
        int rc = x->p->recv_many(l.rx, r, 4, left < 0 ? 0 : (int)left);
        if (rc < 0) {
            cx_fail(x, "recv_many returned %s with datagram %u still to come", cx_code_name(rc),
                    (unsigned)next);
            break;
        }
        if (rc < 1 || rc > 4) {
            cx_fail(x, "recv_many(n 4) returned %d, want 1..4", rc);
            break;
        }
        for (int i = 0; i < rc; i++) {
            uint32_t seq;
            size_t plen;
            char why[256];
            if (r[i].len <= 0) {
                cx_fail(x, "slot %d of %d has len %s", i, rc, cx_code_name(r[i].len));
                continue;
            }
            int mine = link_parse(&l, r[i].data, (size_t)r[i].len, &seq, &plen, why, sizeof why);
            if (mine == 0)
                continue;
            if (mine < 0) {
                cx_fail(x, "slot %d: %s", i, why);
                continue;
            }
            EXPECT(x, r[i].src.family == PT_AF_INET || r[i].src.family == PT_AF_INET6,
                   "slot %d: src.family %u", i, (unsigned)r[i].src.family);
            EXPECT(x, seq == next && plen == len[next - 50],
                   "slot %d holds datagram %u (%zu bytes), want %u", i, (unsigned)seq, plen,
                   (unsigned)next);
            next = seq + 1;
        }
    }
out:
    free(bufs);
    link_close(&l);
}

static void recv_many_too_small(struct cx *x)
{
    struct link l;
    pt_rframe r[2];
    unsigned char a[64], b[64];
    if (!CX_HAS(x, recv_many) || link_open(x, &l) != 0)
        return;
    if (link_send(&l, 1, 500) < 0) {
        cx_fail(x, "send failed");
        goto out;
    }
    memset(r, 0, sizeof r);
    r[0].data = a;
    r[0].cap = sizeof a;
    r[1].data = b;
    r[1].cap = sizeof b;
    int rc = x->p->recv_many(l.rx, r, 2, wait_ms(x));
    EXPECT(x, rc >= 1, "recv_many of a datagram too large for its slots returned %s, want 1 "
                       "with the slot's len PT_ETOOLARGE",
           cx_code_name(rc));
    if (rc >= 1) {
        cx_expect_rc(x, r[0].len, PT_ETOOLARGE, "slot 0's len for a 505-byte datagram in 64");
        EXPECT(x, r[0].src.family == PT_AF_INET || r[0].src.family == PT_AF_INET6,
               "slot 0: src not set for the discarded datagram");
    }
    nothing_else(&l, 2, "a datagram too large for recv_many's slot (it is discarded)");
out:
    link_close(&l);
}

static void recv_many_timeout(struct cx *x)
{
    const int timeout = 300;
    unsigned char buf[64];
    pt_rframe r;
    if (!CX_HAS(x, recv_many))
        return;
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    memset(&r, 0, sizeof r);
    r.data = buf;
    r.cap = sizeof buf;
    cx_expect_rc(x, x->p->recv_many(c, &r, 1, 0), PT_ETIMEDOUT,
                 "recv_many(timeout 0) with nothing there");
    uint64_t t0 = ptu_now_ns();
    int rc = x->p->recv_many(c, &r, 1, timeout);
    double took = (double)(ptu_now_ns() - t0) / 1e6;
    cx_expect_rc(x, rc, PT_ETIMEDOUT, "recv_many(timeout 300 ms) with nothing there");
    EXPECT(x, took >= timeout - 1 && took <= (double)cx_bound_ms(x, timeout),
           "recv_many(timeout %d ms) returned after %.1f ms", timeout, took);
    cx_release(x, c);
}

/* ---- After close ---------------------------------------------------------- */

static void after_close(struct cx *x)
{
    unsigned char buf[64] = { 1 };
    pt_addr before, after;
    pt_stats st;
    char msg[64];
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    cx_expect_rc(x, x->p->local_addr(c, &before), PT_OK, "local_addr on a live connection");
    EXPECT(x, before.family == PT_AF_INET || before.family == PT_AF_INET6,
           "local_addr: family %u", (unsigned)before.family);
    cx_expect_rc(x, x->p->close(c), PT_OK, "close");
    cx_expect_rc(x, x->p->send(c, buf, sizeof buf, &before), PT_ECLOSED, "send after close");
    cx_expect_rc(x, x->p->recv(c, buf, sizeof buf, NULL, 0), PT_ECLOSED,
                 "recv(timeout 0) after close");
    cx_expect_rc(x, x->p->recv(c, buf, sizeof buf, NULL, -1), PT_ECLOSED,
                 "recv(timeout -1) after close");
    if (x->p->struct_size >= PT_PLUGIN_SIZE_1_1 && x->p->send_many) {
        pt_frame f = { buf, sizeof buf, &before };
        cx_expect_rc(x, x->p->send_many(c, &f, 1), PT_ECLOSED, "send_many after close");
    }
    if (x->p->struct_size >= PT_PLUGIN_SIZE_1_2 && x->p->recv_many) {
        pt_rframe r;
        memset(&r, 0, sizeof r);
        r.data = buf;
        r.cap = sizeof buf;
        cx_expect_rc(x, x->p->recv_many(c, &r, 1, -1), PT_ECLOSED, "recv_many after close");
    }
    cx_expect_rc(x, x->p->local_addr(c, &after), PT_OK, "local_addr after close");
    EXPECT(x, memcmp(&before, &after, sizeof before) == 0, "local_addr changed after close");
    EXPECT(x, x->p->poll_fd(c) >= 0, "poll_fd after close returned %s",
           cx_code_name(x->p->poll_fd(c)));
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    cx_expect_rc(x, x->p->stats(c, &st), PT_OK, "stats after close");
    EXPECT(x, st.state == PT_STATE_CLOSED, "stats' state after close is %d, want PT_STATE_CLOSED",
           (int)st.state);
    int code = x->p->last_error(c, msg, sizeof msg);
    EXPECT(x, code <= 0, "last_error after close returned %d", code);
    x->p->free(c);
}

const struct check checks_io[] = {
    { "io: datagrams of 1 to 8000 bytes arrive whole and in order", round_trip },
    { "io: recv sets the source address", source_address },
    { "io: send(len 0) fails with PT_EINVAL and sends nothing", send_len0 },
    { "io: send over PT_MAX_FRAME fails with PT_ETOOLARGE, last_error says why", send_too_large },
    { "io: a PT_MAX_FRAME datagram is carried whole or refused with PT_ETOOLARGE",
      send_max_frame },
    { "io: recv(timeout 0) with nothing there returns PT_ETIMEDOUT at once", recv_poll_empty },
    { "io: recv waits out its timeout, then PT_ETIMEDOUT", recv_timeout },
    { "io: a datagram too large for recv's buffer: PT_ETOOLARGE, discarded, counted",
      recv_too_small },
    { "io: a buffer of exactly the datagram's size is enough", recv_exact_cap },
    { "io: send_many sends every frame in order and returns n (0 for n 0)", send_many_all },
    { "io: send_many with a bad frame fails before sending any", send_many_bad_frame },
    { "io: send_many stopped part way reports exactly what went out", send_many_partial },
    { "io: recv_many fills slots in order with len and src", recv_many_batch },
    { "io: recv_many marks a datagram too large for its slot PT_ETOOLARGE", recv_many_too_small },
    { "io: recv_many waits out its timeout, then PT_ETIMEDOUT", recv_many_timeout },
    { "io: after close every call but stats, local_addr, poll_fd, last_error is PT_ECLOSED",
      after_close },
    { NULL, NULL },
};
