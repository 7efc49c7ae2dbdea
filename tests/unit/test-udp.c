/*
 * test-udp.c -- the UDP plugin through the loader, on loopback: the
 * transport contract of SPEC §1 (addresses, errors, close semantics, the
 * pollable fd, statistics) as a daemon would rely on it, and ABI 1.2's
 * recv_many and dial parameters (cancel_fd, the host's minor).  The probe
 * is tested against the real beacon in test-udp-probe.c.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ceiling.h"
#include "pilot_transport_loader.h"
#include "tap.h"
#include "thread_wait.h"
#include "util.h"

static const pt_plugin *udp;
static char err[PT_ERRMSG_MAX];

static int dial_opts(const pt_option *opts, size_t n, pt_conn **c)
{
    pt_dial_params p = PT_DIAL_PARAMS_INIT;
    p.options = opts;
    p.n_options = n;
    err[0] = '\0';
    return udp->dial(&p, c, err, sizeof err);
}

static pt_conn *dial_bind(const char *bind)
{
    pt_option o = { "bind", bind };
    pt_conn *c = NULL;
    int rc = dial_opts(&o, 1, &c);
    if (rc != PT_OK)
        printf("# dial %s: %s\n", bind, err);
    return c;
}

static pt_addr local_of(pt_conn *c)
{
    pt_addr a;
    memset(&a, 0, sizeof a);
    udp->local_addr(c, &a);
    return a;
}

static void done(pt_conn *c)
{
    if (c) {
        udp->close(c);
        udp->free(c);
    }
}

TEST(binds_loopback_and_reports_the_bound_address)
{
    pt_conn *c = dial_bind("127.0.0.1:0");
    CHECK(c != NULL);
    if (!c)
        return;
    pt_addr a = local_of(c);
    CHECK_EQ_INT(a.family, PT_AF_INET);
    CHECK(a.port != 0);
    CHECK(a.ip[0] == 127 && a.ip[1] == 0 && a.ip[2] == 0 && a.ip[3] == 1);
    done(c);
}

TEST(default_bind_is_any_address)
{
    pt_conn *c = NULL;
    CHECK_EQ_INT(dial_opts(NULL, 0, &c), PT_OK);
    if (!c)
        return;
    pt_addr a = local_of(c);
    CHECK_EQ_INT(a.family, PT_AF_INET);
    CHECK(a.port != 0);
    CHECK(a.ip[0] == 0 && a.ip[3] == 0);
    done(c);
}

TEST(round_trip_carries_bytes_and_real_source)
{
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    unsigned char out[1200], in[PT_MAX_FRAME];
    pt_addr src, bl = local_of(b), al = local_of(a);
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (unsigned char)(i * 7 + 3);
    CHECK_EQ_INT(udp->send(a, out, sizeof out, &bl), (int)sizeof out);
    CHECK_EQ_INT(udp->recv(b, in, sizeof in, &src, 5000), (int)sizeof out);
    CHECK(memcmp(in, out, sizeof out) == 0);
    CHECK_EQ_INT(src.family, PT_AF_INET);
    CHECK_EQ_INT(src.port, al.port);
    CHECK(memcmp(src.ip, "\x7f\0\0\x01", 4) == 0);
    /* And back, to the address recv reported. */
    CHECK_EQ_INT(udp->send(b, in, 10, &src), 10);
    CHECK_EQ_INT(udp->recv(a, in, sizeof in, NULL, 5000), 10);
    done(a);
    done(b);
}

/* 150 frames of varied sizes in one call: more than one sendmmsg batch. */
TEST(send_many_sends_every_frame_in_order)
{
    enum { N = 150 };
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    static unsigned char out[N][600], in[PT_MAX_FRAME];
    pt_frame f[N];
    pt_addr bl = local_of(b);
    for (int i = 0; i < N; i++) {
        memset(out[i], i, sizeof out[i]);
        f[i] = (pt_frame){ out[i], 1 + (size_t)(i * 7) % sizeof out[i], &bl };
    }
    CHECK_EQ_INT(udp->send_many(a, f, N), N);
    for (int i = 0; i < N; i++) {
        int n = udp->recv(b, in, sizeof in, NULL, 5000);
        if (n != (int)f[i].len || in[0] != (unsigned char)i) {
            CHECK_EQ_INT(n, (int)f[i].len);
            CHECK_EQ_INT(in[0], i);
            break;
        }
    }
    CHECK_EQ_INT(udp->send_many(a, f, 0), 0);
    pt_stats st = { .struct_size = sizeof st };
    udp->stats(a, &st);
    CHECK_EQ_INT(st.frames_out, N);
    done(a);
    done(b);
}

/* One bad frame anywhere refuses the call before anything is sent. */
TEST(send_many_refuses_a_bad_frame_and_sends_nothing)
{
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    static unsigned char big[PT_MAX_FRAME + 1], in[16];
    pt_addr bl = local_of(b);
    pt_frame f[3] = { { "one", 3, &bl }, { big, sizeof big, &bl }, { "three", 5, &bl } };
    CHECK_EQ_INT(udp->send_many(a, f, 3), PT_ETOOLARGE);
    f[1] = (pt_frame){ "two", 3, NULL };
    CHECK_EQ_INT(udp->send_many(a, f, 3), PT_EINVAL);
    CHECK_EQ_INT(udp->send_many(a, NULL, 1), PT_EINVAL);
    CHECK_EQ_INT(udp->recv(b, in, sizeof in, NULL, 0), PT_ETIMEDOUT);
    udp->close(a);
    CHECK_EQ_INT(udp->send_many(a, f, 1), PT_ECLOSED);
    done(a);
    done(b);
}

TEST(unknown_option_is_an_error_naming_the_key)
{
    pt_option o = { "url", "wss://example.invalid/" };
    pt_conn *c = (pt_conn *)1;
    CHECK_EQ_INT(dial_opts(&o, 1, &c), PT_EOPTION);
    CHECK(c == NULL);
    CHECK_STR_CONTAINS(err, "unknown option \"url\"");
    CHECK_STR_CONTAINS(err, "known: bind");
}

TEST(option_given_twice_is_an_error)
{
    pt_option o[2] = { { "bind", "127.0.0.1:0" }, { "bind", "127.0.0.1:0" } };
    pt_conn *c = NULL;
    CHECK_EQ_INT(dial_opts(o, 2, &c), PT_EOPTION);
    CHECK_STR_CONTAINS(err, "\"bind\" given twice");
}

TEST(bad_bind_values_are_refused)
{
    const char *bad[] = { "nonsense", "127.0.0.1", "127.0.0.1:70000", "127.0.0.1:-1",
                          "::1:9000", "[::1]9000", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pt_option o = { "bind", bad[i] };
        pt_conn *c = NULL;
        CHECK_EQ_INT(dial_opts(&o, 1, &c), PT_EOPTION);
        CHECK_STR_CONTAINS(err, "option \"bind\"");
        done(c);
    }
}

TEST(bind_to_a_used_port_fails_with_the_reason)
{
    pt_conn *a = dial_bind("127.0.0.1:0");
    char spec[64];
    pt_addr al = local_of(a);
    snprintf(spec, sizeof spec, "127.0.0.1:%u", (unsigned)al.port);
    pt_option o = { "bind", spec };
    pt_conn *c = NULL;
    CHECK_EQ_INT(dial_opts(&o, 1, &c), PT_EIO);
    CHECK_STR_CONTAINS(err, spec);
    CHECK_STR_CONTAINS(err, "in use");
    done(a);
}

TEST(dial_params_are_checked)
{
    pt_dial_params p = PT_DIAL_PARAMS_INIT;
    pt_conn *c = NULL;
    p.struct_size = 4;
    CHECK_EQ_INT(udp->dial(&p, &c, err, sizeof err), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "too small");
    CHECK_EQ_INT(udp->dial(NULL, &c, err, sizeof err), PT_EINVAL);
    CHECK_EQ_INT(udp->dial(&p, NULL, err, 0), PT_EINVAL);
}

TEST(recv_times_out_and_polls)
{
    pt_conn *c = dial_bind("127.0.0.1:0");
    unsigned char buf[16];
    CHECK_EQ_INT(udp->recv(c, buf, sizeof buf, NULL, 0), PT_ETIMEDOUT);
    CHECK_EQ_INT(udp->recv(c, buf, sizeof buf, NULL, 30), PT_ETIMEDOUT);
    done(c);
}

TEST(datagram_larger_than_buffer_is_discarded_and_counted)
{
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    unsigned char out[100] = { 1 }, in[10];
    char msg[PT_ERRMSG_MAX];
    pt_addr bl = local_of(b);
    pt_stats s = { .struct_size = sizeof s };
    CHECK_EQ_INT(udp->send(a, out, sizeof out, &bl), 100);
    CHECK_EQ_INT(udp->recv(b, in, sizeof in, NULL, 5000), PT_ETOOLARGE);
    CHECK_EQ_INT(udp->last_error(b, msg, sizeof msg), PT_ETOOLARGE);
    CHECK_STR_CONTAINS(msg, "100-byte datagram discarded");
    udp->stats(b, &s);
    CHECK_EQ_INT(s.dropped_in, 1);
    CHECK_EQ_INT(s.frames_in, 0);
    CHECK_EQ_INT(s.last_error, PT_ETOOLARGE);
    done(a);
    done(b);
}

TEST(oversize_and_empty_sends_are_refused)
{
    pt_conn *a = dial_bind("127.0.0.1:0");
    static unsigned char big[PT_MAX_FRAME + 1];
    char msg[PT_ERRMSG_MAX];
    pt_addr al = local_of(a);
    CHECK_EQ_INT(udp->send(a, big, sizeof big, &al), PT_ETOOLARGE);
    CHECK_EQ_INT(udp->last_error(a, msg, sizeof msg), PT_ETOOLARGE);
    CHECK_STR_CONTAINS(msg, "65537 bytes");
    /* 65536 is within the ABI limit but over IPv4's UDP payload limit. */
    CHECK_EQ_INT(udp->send(a, big, PT_MAX_FRAME, &al), PT_ETOOLARGE);
    CHECK_EQ_INT(udp->send(a, big, 0, &al), PT_EINVAL);
    CHECK_EQ_INT(udp->send(a, big, 10, NULL), PT_EINVAL);
    udp->last_error(a, msg, sizeof msg);
    CHECK_STR_CONTAINS(msg, "no destination");
    done(a);
}

TEST(close_is_idempotent_and_final)
{
    pt_conn *a = dial_bind("127.0.0.1:0");
    unsigned char buf[16] = { 0 };
    pt_addr al = local_of(a), after;
    pt_stats s = { .struct_size = sizeof s };
    CHECK_EQ_INT(udp->close(a), PT_OK);
    CHECK_EQ_INT(udp->close(a), PT_OK);
    CHECK_EQ_INT(udp->recv(a, buf, sizeof buf, NULL, -1), PT_ECLOSED);
    CHECK_EQ_INT(udp->recv(a, buf, sizeof buf, NULL, 0), PT_ECLOSED);
    CHECK_EQ_INT(udp->send(a, buf, sizeof buf, &al), PT_ECLOSED);
    CHECK_EQ_INT(udp->local_addr(a, &after), PT_OK); /* never absent */
    CHECK_EQ_INT(after.port, al.port);
    udp->stats(a, &s);
    CHECK_EQ_INT(s.state, PT_STATE_CLOSED);
    udp->free(a);
}

TEST(close_from_another_thread_wakes_a_blocked_recv)
{
    pt_conn *c = dial_bind("127.0.0.1:0");
    struct blocked_recv b;
    CHECK(blocked_recv_start(&b, udp, c)); /* asleep inside recv */
    CHECK_EQ_INT(udp->close(c), PT_OK);
    CHECK_EQ_INT(blocked_recv_join(&b), PT_ECLOSED);
    udp->free(c);
}

TEST(poll_fd_signals_data_and_close)
{
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    pt_addr bl = local_of(b);
    unsigned char buf[64] = "ping";
    struct pollfd p = { udp->poll_fd(b), POLLIN, 0 };
    CHECK(p.fd >= 0);
    CHECK_EQ_INT(poll(&p, 1, 0), 0);
    CHECK_EQ_INT(udp->send(a, buf, 4, &bl), 4);
    CHECK_EQ_INT(poll(&p, 1, 5000), 1);
    CHECK_EQ_INT(udp->recv(b, buf, sizeof buf, NULL, 0), 4);
    CHECK_EQ_INT(poll(&p, 1, 0), 0);
    udp->close(b);
    CHECK_EQ_INT(poll(&p, 1, 5000), 1);
    done(a);
    done(b);
}

TEST(stats_count_frames_and_bytes)
{
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    pt_addr bl = local_of(b);
    unsigned char buf[300] = { 0 };
    pt_stats sa = { .struct_size = sizeof sa }, sb = { .struct_size = sizeof sb };
    for (int i = 1; i <= 5; i++) {
        CHECK_EQ_INT(udp->send(a, buf, (size_t)i * 10, &bl), i * 10);
        CHECK_EQ_INT(udp->recv(b, buf, sizeof buf, NULL, 5000), i * 10);
    }
    udp->stats(a, &sa);
    udp->stats(b, &sb);
    CHECK_EQ_INT(sa.frames_out, 5);
    CHECK_EQ_INT(sa.bytes_out, 150);
    CHECK_EQ_INT(sb.frames_in, 5);
    CHECK_EQ_INT(sb.bytes_in, 150);
    CHECK_EQ_INT(sa.state, PT_STATE_CONNECTED);
    CHECK_EQ_INT(sa.reconnects, 0);
    done(a);
    done(b);
}

TEST(stats_fill_only_what_the_caller_has_room_for)
{
    pt_conn *a = dial_bind("127.0.0.1:0");
    struct {
        pt_stats s;
        unsigned char guard[16];
    } buf;
    memset(&buf, 0xAB, sizeof buf);
    buf.s.struct_size = (uint32_t)offsetof(pt_stats, frames_out); /* an "old" host */
    CHECK_EQ_INT(udp->stats(a, &buf.s), PT_OK);
    CHECK_EQ_INT(buf.s.state, PT_STATE_CONNECTED);
    const unsigned char *after = (const unsigned char *)&buf.s + offsetof(pt_stats, frames_out);
    CHECK(after[0] == 0xAB && buf.guard[0] == 0xAB);
    done(a);
}

TEST(stats_never_fill_part_of_a_field)
{
    pt_conn *a = dial_bind("127.0.0.1:0");
    struct {
        pt_stats s;
        unsigned char guard[16];
    } buf;
    memset(&buf, 0xAB, sizeof buf);
    /* Room for frames_out and half of bytes_out: only frames_out is filled. */
    size_t half = offsetof(pt_stats, bytes_out) + sizeof(uint32_t);
    buf.s.struct_size = (uint32_t)half;
    CHECK_EQ_INT(udp->stats(a, &buf.s), PT_OK);
    CHECK_EQ_INT((int)buf.s.struct_size, (int)offsetof(pt_stats, bytes_out));
    CHECK_EQ_INT(buf.s.state, PT_STATE_CONNECTED);
    const unsigned char *p = (const unsigned char *)&buf.s + offsetof(pt_stats, bytes_out);
    for (size_t i = 0; i < sizeof(uint32_t); i++)
        CHECK(p[i] == 0xAB);
    done(a);
}

TEST(ipv6_bind_is_dual_stack)
{
    pt_conn *v6 = dial_bind("[::]:0");
    if (!v6) {
        printf("# no IPv6 on this machine: %s\n", err);
        CHECK_STR_CONTAINS(err, "bind");
        return;
    }
    pt_conn *v4 = dial_bind("127.0.0.1:0");
    pt_addr l6 = local_of(v6), l4 = local_of(v4), src, dst;
    unsigned char buf[16] = "dual";
    CHECK_EQ_INT(l6.family, PT_AF_INET6);
    /* IPv4 peer to a [::] socket: the source comes back as plain IPv4. */
    dst = l4;
    CHECK_EQ_INT(udp->send(v6, buf, 4, &dst), 4);
    CHECK_EQ_INT(udp->recv(v4, buf, sizeof buf, &src, 5000), 4);
    memset(&dst, 0, sizeof dst);
    dst.family = PT_AF_INET;
    dst.port = l6.port;
    memcpy(dst.ip, "\x7f\0\0\x01", 4);
    CHECK_EQ_INT(udp->send(v4, buf, 4, &dst), 4);
    CHECK_EQ_INT(udp->recv(v6, buf, sizeof buf, &src, 5000), 4);
    CHECK_EQ_INT(src.family, PT_AF_INET);
    CHECK_EQ_INT(src.port, l4.port);
    /* An IPv4 socket cannot reach an IPv6 address: a clear EINVAL. */
    dst.family = PT_AF_INET6;
    CHECK_EQ_INT(udp->send(v4, buf, 4, &dst), PT_EINVAL);
    done(v4);
    done(v6);
}

/* ---- ABI 1.2 ------------------------------------------------------------------ */

TEST(descriptor_is_version_1_2_with_recv_many_and_probe)
{
    CHECK_EQ_INT(udp->abi_major, PT_ABI_MAJOR);
    CHECK_EQ_INT(udp->abi_minor, 2);
    CHECK(udp->recv_many != NULL);
    CHECK(udp->probe != NULL);
    int has_beacon = 0;
    for (const pt_option_doc *d = udp->options; d->key; d++)
        has_beacon |= strcmp(d->key, "beacon") == 0 && d->help && strstr(d->help, "probe");
    CHECK(has_beacon);
}

/* n slots of cap bytes each, in one static pool. */
enum { SLOTS = 200, SLOT_CAP = 2048 };
static unsigned char pool[SLOTS][SLOT_CAP];
static pt_rframe slots[SLOTS];

static pt_rframe *slots_of(size_t cap)
{
    memset(slots, 0, sizeof slots);
    for (int i = 0; i < SLOTS; i++)
        slots[i] = (pt_rframe){ .data = pool[i], .cap = cap };
    return slots;
}

/* Send frame i (len bytes of the byte i) from a to b. */
static int send_nth(pt_conn *a, const pt_addr *b, int i, size_t len)
{
    unsigned char buf[SLOT_CAP];
    memset(buf, i, len);
    return udp->send(a, buf, len, b);
}

TEST(recv_many_takes_what_is_ready_in_order_with_sources)
{
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    pt_addr bl = local_of(b), al = local_of(a);
    pt_rframe *f = slots_of(SLOT_CAP);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(send_nth(a, &bl, i, 10 + (size_t)i), 10 + i);
    /* Loopback queues each datagram at the receiver before send returns. */
    CHECK_EQ_INT(udp->recv_many(b, f, 8, 5000), 5);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(f[i].len, 10 + i);
        CHECK_EQ_INT(((unsigned char *)f[i].data)[0], i);
        CHECK_EQ_INT(f[i].src.port, al.port);
        CHECK(memcmp(f[i].src.ip, "\x7f\0\0\x01", 4) == 0);
    }
    CHECK_EQ_INT(f[5].len, 0); /* untouched */
    pt_stats s = { .struct_size = sizeof s };
    udp->stats(b, &s);
    CHECK_EQ_INT(s.frames_in, 5);
    CHECK_EQ_INT(s.bytes_in, 10 + 11 + 12 + 13 + 14);
    done(a);
    done(b);
}

TEST(recv_many_fills_at_most_n_and_leaves_the_rest)
{
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    pt_addr bl = local_of(b);
    pt_rframe *f = slots_of(SLOT_CAP);
    for (int i = 0; i < 10; i++)
        send_nth(a, &bl, i, 20);
    CHECK_EQ_INT(udp->recv_many(b, f, 4, 5000), 4);
    CHECK_EQ_INT(((unsigned char *)f[3].data)[0], 3);
    CHECK_EQ_INT(udp->recv_many(b, f, 4, 5000), 4);
    CHECK_EQ_INT(((unsigned char *)f[0].data)[0], 4);
    CHECK_EQ_INT(udp->recv_many(b, f, 4, 5000), 2);
    CHECK_EQ_INT(((unsigned char *)f[1].data)[0], 9);
    CHECK_EQ_INT(udp->recv_many(b, f, 4, 0), PT_ETIMEDOUT);
    done(a);
    done(b);
}

/* More than one recvmmsg batch (64) in one call. */
TEST(recv_many_takes_more_than_one_batch)
{
    enum { N = 150 };
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    pt_addr bl = local_of(b);
    pt_rframe *f = slots_of(SLOT_CAP);
    static unsigned char out[N][100];
    pt_frame sf[N];
    for (int i = 0; i < N; i++) {
        memset(out[i], i, sizeof out[i]);
        sf[i] = (pt_frame){ out[i], 1 + (size_t)i % 100, &bl };
    }
    CHECK_EQ_INT(udp->send_many(a, sf, N), N);
    CHECK_EQ_INT(udp->recv_many(b, f, SLOTS, 5000), N);
    for (int i = 0; i < N; i++)
        if (f[i].len != (int)sf[i].len || ((unsigned char *)f[i].data)[0] != (unsigned char)i) {
            CHECK_EQ_INT(f[i].len, sf[i].len);
            CHECK_EQ_INT(((unsigned char *)f[i].data)[0], i);
            break;
        }
    done(a);
    done(b);
}

TEST(recv_many_marks_a_datagram_that_does_not_fit_and_goes_on)
{
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    pt_addr bl = local_of(b), al = local_of(a);
    pt_rframe *f = slots_of(50);
    char msg[PT_ERRMSG_MAX];
    send_nth(a, &bl, 1, 10);
    send_nth(a, &bl, 2, 100);
    send_nth(a, &bl, 3, 50); /* exactly the cap */
    CHECK_EQ_INT(udp->recv_many(b, f, 8, 5000), 3);
    CHECK_EQ_INT(f[0].len, 10);
    CHECK_EQ_INT(f[1].len, PT_ETOOLARGE);
    CHECK_EQ_INT(f[1].src.port, al.port); /* src is still set */
    CHECK_EQ_INT(f[2].len, 50);
    CHECK_EQ_INT(((unsigned char *)f[2].data)[49], 3);
    CHECK_EQ_INT(udp->last_error(b, msg, sizeof msg), PT_ETOOLARGE);
    CHECK_STR_CONTAINS(msg, "udp recv_many: 100-byte datagram discarded: buffer holds 50");
    pt_stats s = { .struct_size = sizeof s };
    udp->stats(b, &s);
    CHECK_EQ_INT(s.dropped_in, 1);
    CHECK_EQ_INT(s.frames_in, 2);
    done(a);
    done(b);
}

/* UDP allows empty datagrams (our send refuses them, a stranger's socket
 * does not): they are counted and skipped, their slot goes to the next. */
TEST(recv_many_and_recv_skip_empty_datagrams)
{
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    pt_addr bl = local_of(b);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(bl.port) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int raw = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unsigned char buf[64];
    pt_rframe *f = slots_of(SLOT_CAP);
    f[1].cap = 5; /* the third datagram moves up into this slot: too small */
    CHECK(raw >= 0);
    send_nth(a, &bl, 1, 10);
    CHECK_EQ_INT(sendto(raw, "", 0, 0, (struct sockaddr *)&to, sizeof to), 0);
    send_nth(a, &bl, 3, 30);
    send_nth(a, &bl, 4, 4);
    CHECK_EQ_INT(udp->recv_many(b, f, 8, 5000), 3);
    CHECK_EQ_INT(f[0].len, 10);
    CHECK_EQ_INT(f[1].len, PT_ETOOLARGE); /* 30 bytes in a 5-byte slot */
    CHECK_EQ_INT(f[2].len, 4);
    CHECK_EQ_INT(((unsigned char *)f[2].data)[0], 4);
    /* recv: an empty datagram alone is no datagram. */
    CHECK_EQ_INT(sendto(raw, "", 0, 0, (struct sockaddr *)&to, sizeof to), 0);
    CHECK_EQ_INT(udp->recv(b, buf, sizeof buf, NULL, 0), PT_ETIMEDOUT);
    send_nth(a, &bl, 5, 7);
    CHECK_EQ_INT(udp->recv(b, buf, sizeof buf, NULL, 5000), 7);
    pt_stats s = { .struct_size = sizeof s };
    udp->stats(b, &s);
    CHECK_EQ_INT(s.dropped_in, 3); /* two empty, one too large */
    CHECK_EQ_INT(s.frames_in, 3);
    close(raw);
    done(a);
    done(b);
}

TEST(recv_many_refuses_bad_arguments)
{
    pt_conn *c = dial_bind("127.0.0.1:0");
    pt_rframe *f = slots_of(SLOT_CAP);
    char msg[PT_ERRMSG_MAX];
    CHECK_EQ_INT(udp->recv_many(NULL, f, 1, 0), PT_EINVAL);
    CHECK_EQ_INT(udp->recv_many(c, NULL, 1, 0), PT_EINVAL);
    CHECK_EQ_INT(udp->recv_many(c, f, 0, 0), PT_EINVAL);
    udp->last_error(c, msg, sizeof msg);
    CHECK_STR_CONTAINS(msg, "n is 0");
    CHECK_EQ_INT(udp->recv_many(c, f, (size_t)INT_MAX + 1, 0), PT_EINVAL);
    f[2].data = NULL;
    CHECK_EQ_INT(udp->recv_many(c, f, 3, 0), PT_EINVAL);
    udp->last_error(c, msg, sizeof msg);
    CHECK_STR_CONTAINS(msg, "slot 2 has no buffer");
    /* recv's own: a NULL buffer, whatever its cap. */
    CHECK_EQ_INT(udp->recv(c, NULL, 0, NULL, 0), PT_EINVAL);
    CHECK_EQ_INT(udp->recv(c, NULL, 10, NULL, 0), PT_EINVAL);
    done(c);
}

TEST(recv_many_times_out_after_its_timeout_not_before)
{
    pt_conn *c = dial_bind("127.0.0.1:0");
    pt_rframe *f = slots_of(SLOT_CAP);
    CHECK_EQ_INT(udp->recv_many(c, f, 4, 0), PT_ETIMEDOUT);
    int64_t t0 = ptu_now_ms();
    CHECK_EQ_INT(udp->recv_many(c, f, 4, 200), PT_ETIMEDOUT);
    int64_t took = ptu_now_ms() - t0;
    CHECK(took >= 200);
    CHECK(took <= ceiling_for(200));
    done(c);
}

TEST(recv_many_after_close_is_closed)
{
    pt_conn *c = dial_bind("127.0.0.1:0");
    pt_rframe *f = slots_of(SLOT_CAP);
    udp->close(c);
    CHECK_EQ_INT(udp->recv_many(c, f, 4, -1), PT_ECLOSED);
    CHECK_EQ_INT(udp->recv_many(c, f, 4, 0), PT_ECLOSED);
    udp->free(c);
}

TEST(close_wakes_a_blocked_recv_many)
{
    pt_conn *c = dial_bind("127.0.0.1:0");
    struct blocked_recv b;
    CHECK(blocked_recv_many_start(&b, udp, c, slots_of(SLOT_CAP), 8));
    CHECK_EQ_INT(udp->close(c), PT_OK);
    CHECK_EQ_INT(blocked_recv_join(&b), PT_ECLOSED);
    udp->free(c);
}

TEST(recv_many_waits_for_the_first_datagram)
{
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    pt_addr bl = local_of(b);
    struct blocked_recv t;
    CHECK(blocked_recv_many_start(&t, udp, b, slots_of(SLOT_CAP), 8));
    CHECK_EQ_INT(send_nth(a, &bl, 9, 33), 33);
    CHECK_EQ_INT(blocked_recv_join(&t), 1);
    CHECK_EQ_INT(slots[0].len, 33);
    done(a);
    done(b);
}

/* Level-triggered: readable while anything is queued, whoever reads how. */
TEST(poll_fd_stays_readable_until_recv_many_drains)
{
    pt_conn *a = dial_bind("127.0.0.1:0"), *b = dial_bind("127.0.0.1:0");
    pt_addr bl = local_of(b);
    pt_rframe *f = slots_of(SLOT_CAP);
    struct pollfd p = { udp->poll_fd(b), POLLIN, 0 };
    for (int i = 0; i < 3; i++)
        send_nth(a, &bl, i, 8);
    CHECK_EQ_INT(poll(&p, 1, 5000), 1);
    CHECK_EQ_INT(udp->recv_many(b, f, 1, 0), 1);
    CHECK_EQ_INT(poll(&p, 1, 0), 1);
    CHECK_EQ_INT(poll(&p, 1, 0), 1); /* polling does not consume it */
    CHECK_EQ_INT(udp->recv_many(b, f, 8, 0), 2);
    CHECK_EQ_INT(poll(&p, 1, 0), 0);
    done(a);
    done(b);
}

/* ---- Dial parameters of ABI 1.2 ---------------------------------------------- */

TEST(a_fired_cancel_fd_abandons_the_dial)
{
    pt_dial_params p = PT_DIAL_PARAMS_INIT;
    pt_option o = { "bind", "127.0.0.1:0" };
    pt_conn *c = (pt_conn *)1;
    int cancel = eventfd(1, EFD_CLOEXEC); /* readable */
    CHECK(cancel >= 0);
    p.options = &o;
    p.n_options = 1;
    p.cancel_fd = cancel;
    CHECK_EQ_INT(udp->dial(&p, &c, err, sizeof err), PT_ECLOSED);
    CHECK(c == NULL);
    CHECK_STR_CONTAINS(err, "cancelled (cancel_fd)");
    close(cancel);
}

/* A host of minor 1 has no cancel_fd: whatever the bytes there say (a
 * zero-filled struct says 0, a valid descriptor), they are not read. */
TEST(cancel_fd_is_ignored_for_a_host_of_minor_1)
{
    pt_dial_params p = PT_DIAL_PARAMS_INIT;
    pt_option o = { "bind", "127.0.0.1:0" };
    pt_conn *c = NULL;
    int cancel = eventfd(1, EFD_CLOEXEC);
    CHECK(cancel >= 0);
    p.options = &o;
    p.n_options = 1;
    p.cancel_fd = cancel;
    p.abi_minor = 1;
    CHECK_EQ_INT(udp->dial(&p, &c, err, sizeof err), PT_OK);
    done(c);
    c = NULL;
    p.abi_minor = 2;
    p.struct_size = PT_DIAL_PARAMS_SIZE_1_0; /* a 1.1 host's struct ends before */
    CHECK_EQ_INT(udp->dial(&p, &c, err, sizeof err), PT_OK);
    done(c);
    close(cancel);
}

TEST(bad_beacon_values_are_refused_at_dial)
{
    const char *bad[] = { "127.0.0.1", "127.0.0.1:0", ":9001", "::1:9001", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pt_option o = { "beacon", bad[i] };
        pt_conn *c = NULL;
        CHECK_EQ_INT(dial_opts(&o, 1, &c), PT_EOPTION);
        CHECK_STR_CONTAINS(err, "udp dial: option \"beacon\"");
        done(c);
    }
    pt_option ok[2] = { { "bind", "127.0.0.1:0" }, { "beacon", "beacon.invalid:9001" } };
    pt_conn *c = NULL;
    CHECK_EQ_INT(dial_opts(ok, 2, &c), PT_OK); /* a name: not resolved by dial */
    done(c);
}

static int log_lines;
static char log_last[PT_ERRMSG_MAX];
static void logger(void *ud, int level, const char *msg)
{
    (void)ud;
    if (level <= PT_LOG_INFO) {
        log_lines++;
        snprintf(log_last, sizeof log_last, "%s", msg);
    }
}

TEST(log_callback_gets_lines_at_its_level_only)
{
    pt_option o = { "bind", "127.0.0.1:0" };
    pt_dial_params p = PT_DIAL_PARAMS_INIT;
    pt_conn *c = NULL;
    p.options = &o;
    p.n_options = 1;
    p.log = logger;
    p.log_level = PT_LOG_WARN;
    CHECK_EQ_INT(udp->dial(&p, &c, err, sizeof err), PT_OK);
    CHECK_EQ_INT(log_lines, 0); /* "bound to" is INFO */
    done(c);
    p.log_level = PT_LOG_INFO;
    CHECK_EQ_INT(udp->dial(&p, &c, err, sizeof err), PT_OK);
    CHECK_STR_CONTAINS(log_last, "udp: bound to 127.0.0.1:");
    done(c);
    CHECK_STR_EQ(log_last, "udp: closed");
}

int main(void)
{
    char e[1024];
    if (pt_loader_open("udp", NULL, &udp, e, sizeof e) != PT_OK) {
        printf("Bail out! %s\n", e);
        return 1;
    }
    RUN(binds_loopback_and_reports_the_bound_address);
    RUN(default_bind_is_any_address);
    RUN(round_trip_carries_bytes_and_real_source);
    RUN(send_many_sends_every_frame_in_order);
    RUN(send_many_refuses_a_bad_frame_and_sends_nothing);
    RUN(unknown_option_is_an_error_naming_the_key);
    RUN(option_given_twice_is_an_error);
    RUN(bad_bind_values_are_refused);
    RUN(bind_to_a_used_port_fails_with_the_reason);
    RUN(dial_params_are_checked);
    RUN(recv_times_out_and_polls);
    RUN(datagram_larger_than_buffer_is_discarded_and_counted);
    RUN(oversize_and_empty_sends_are_refused);
    RUN(close_is_idempotent_and_final);
    RUN(close_from_another_thread_wakes_a_blocked_recv);
    RUN(poll_fd_signals_data_and_close);
    RUN(stats_count_frames_and_bytes);
    RUN(stats_fill_only_what_the_caller_has_room_for);
    RUN(stats_never_fill_part_of_a_field);
    RUN(ipv6_bind_is_dual_stack);
    RUN(log_callback_gets_lines_at_its_level_only);
    RUN(descriptor_is_version_1_2_with_recv_many_and_probe);
    RUN(recv_many_takes_what_is_ready_in_order_with_sources);
    RUN(recv_many_fills_at_most_n_and_leaves_the_rest);
    RUN(recv_many_takes_more_than_one_batch);
    RUN(recv_many_marks_a_datagram_that_does_not_fit_and_goes_on);
    RUN(recv_many_and_recv_skip_empty_datagrams);
    RUN(recv_many_refuses_bad_arguments);
    RUN(recv_many_times_out_after_its_timeout_not_before);
    RUN(recv_many_after_close_is_closed);
    RUN(close_wakes_a_blocked_recv_many);
    RUN(recv_many_waits_for_the_first_datagram);
    RUN(poll_fd_stays_readable_until_recv_many_drains);
    RUN(a_fired_cancel_fd_abandons_the_dial);
    RUN(cancel_fd_is_ignored_for_a_host_of_minor_1);
    RUN(bad_beacon_values_are_refused_at_dial);
    return tap_done();
}
