/*
 * check_poll.c -- poll_fd: one valid descriptor, level-triggered (readable
 * while a recv with timeout 0 would return something, and again until
 * that is read), quiet when drained (a rare spurious wake-up allowed),
 * readable once the connection is closed, also by a close from another
 * thread while the host waits in poll.
 */
#include "config.h"

#include "conformance.h"
#include "thread_wait.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* poll(fd, POLLIN, ms): 1 readable, 0 not, -1 on error (checked). */
static int readable(struct cx *x, int fd, int ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    int rc;
    while ((rc = poll(&p, 1, ms)) < 0 && errno == EINTR)
        ;
    if (rc < 0) {
        cx_fail(x, "poll: %s", strerror(errno));
        return -1;
    }
    if (rc > 0 && (p.revents & POLLNVAL)) {
        cx_fail(x, "poll: the descriptor is not open (POLLNVAL)");
        return -1;
    }
    return rc > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP));
}

static void valid_fd(struct cx *x)
{
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    int fd = x->p->poll_fd(c);
    EXPECT(x, fd >= 0, "poll_fd returned %s", cx_code_name(fd));
    EXPECT(x, fd < 0 || fcntl(fd, F_GETFD) != -1, "poll_fd returned %d, which is not open", fd);
    EXPECT(x, x->p->poll_fd(c) == fd, "poll_fd returned %d, then %d", fd, x->p->poll_fd(c));
    cx_release(x, c);
}

/* Nothing ready: quiet, or a rare spurious wake-up (recv(0) then says
 * PT_ETIMEDOUT).  Readable every time is a busy loop for event loops. */
#define SPURIOUS_TRIES 20

static void quiet_when_empty(struct cx *x)
{
    unsigned char buf[256];
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    int fd = x->p->poll_fd(c), spurious = 0;
    for (int i = 0; i < SPURIOUS_TRIES && fd >= 0; i++) {
        int r = readable(x, fd, 0);
        if (r <= 0)
            break;
        spurious++;
        int rc = x->p->recv(c, buf, sizeof buf, NULL, 0);
        if (rc != PT_ETIMEDOUT) {
            cx_fail(x, "nothing was sent, yet recv(timeout 0) returned %s", cx_code_name(rc));
            break;
        }
    }
    EXPECT(x, spurious < SPURIOUS_TRIES,
           "poll_fd polls readable with nothing ready %d times in a row", SPURIOUS_TRIES);
    if (spurious)
        cx_note(x, "%d spurious wake-ups", spurious);
    cx_release(x, c);
}

#define POLL_FRAMES 5

/* Open the link and send POLL_FRAMES datagrams, 0.. in order.  Returns
 * the receiving connection's poll_fd, or -1 (the check failed). */
static int open_and_send(struct cx *x, struct link *l)
{
    if (link_open(x, l) != 0)
        return -1;
    for (uint32_t i = 0; i < POLL_FRAMES; i++)
        if (link_send(l, i, 100) < 0)
            cx_fail(x, "send %u failed", (unsigned)i);
    return x->p->poll_fd(l->rx);
}

/* One datagram per wake-up, and level-triggered: polled again without
 * reading, it is still readable. */
static void one_per_wakeup(struct cx *x)
{
    struct link l;
    unsigned char buf[LINK_BUF];
    int spurious = 0;
    int fd = open_and_send(x, &l);
    if (!l.tx)
        return;
    uint32_t want = 0;
    int64_t bound = cx_bound_ms(x, 2000);
    while (want < POLL_FRAMES && fd >= 0) {
        int r = readable(x, fd, (int)bound);
        if (r < 0)
            break;
        if (r == 0) {
            cx_fail(x, "poll_fd stayed quiet for %lld ms with datagrams %u.. still to come",
                    (long long)bound, (unsigned)want);
            break;
        }
        if (readable(x, fd, 0) != 1) {
            cx_fail(x, "poll_fd polled readable, then quiet before anything was read: "
                       "not level-triggered");
            break;
        }
        int rc = x->p->recv(l.rx, buf, sizeof buf, NULL, 0);
        if (rc == PT_ETIMEDOUT) {
            if (++spurious > SPURIOUS_TRIES) {
                cx_fail(x, "poll_fd readable %d times with nothing for recv", spurious);
                break;
            }
            continue;
        }
        if (rc < 0) {
            cx_fail(x, "recv(timeout 0) after a wake-up returned %s", cx_code_name(rc));
            break;
        }
        uint32_t seq;
        size_t plen;
        char why[256];
        int mine = link_parse(&l, buf, (size_t)rc, &seq, &plen, why, sizeof why);
        if (mine == 0)
            continue;
        if (mine < 0 || seq != want) {
            cx_fail(x, "%s", mine < 0 ? why : "datagrams out of order");
            break;
        }
        want++;
    }
    EXPECT(x, want == POLL_FRAMES, "read %u of %d datagrams one per wake-up", (unsigned)want,
           POLL_FRAMES);
    cx_expect_rc(x, x->p->recv(l.rx, buf, sizeof buf, NULL, 0), PT_ETIMEDOUT,
                 "recv(timeout 0) once all were read");
    link_close(&l);
}

/* Drain until PT_ETIMEDOUT at each wake-up. */
static void drain_per_wakeup(struct cx *x)
{
    struct link l;
    uint32_t want = 0;
    int fd = open_and_send(x, &l);
    if (!l.tx)
        return;
    int64_t bound = cx_bound_ms(x, 2000);
    while (want < POLL_FRAMES && fd >= 0) {
        int r = readable(x, fd, (int)bound);
        if (r <= 0) {
            if (r == 0)
                cx_fail(x, "poll_fd stayed quiet for %lld ms with datagrams %u.. still to come",
                        (long long)bound, (unsigned)want);
            break;
        }
        for (;;) {
            uint32_t seq;
            size_t plen;
            int rc = link_next(&l, 0, &seq, &plen);
            if (rc == PT_ETIMEDOUT)
                break;
            if (rc < 0) {
                cx_fail(x, "recv(timeout 0) returned %s", cx_code_name(rc));
                want = POLL_FRAMES + 1;
                break;
            }
            if (seq != want)
                cx_fail(x, "datagram %u arrived, want %u", (unsigned)seq, (unsigned)want);
            want = seq + 1;
        }
    }
    EXPECT(x, want == POLL_FRAMES, "drained %u of %d datagrams", (unsigned)want, POLL_FRAMES);
    link_close(&l);
}

static void readable_when_closed(struct cx *x)
{
    unsigned char buf[64];
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    int fd = x->p->poll_fd(c);
    x->p->close(c);
    EXPECT(x, readable(x, fd, (int)cx_bound_ms(x, 1000)) == 1,
           "poll_fd is not readable after close");
    cx_expect_rc(x, x->p->recv(c, buf, sizeof buf, NULL, 0), PT_ECLOSED,
                 "recv(timeout 0) after close");
    x->p->free(c);
}

/* close from another thread while this one waits in poll. */
struct closer {
    struct cx *x;
    pt_conn *c;
    pid_t poller;
    int rc;
};

static void *closer_main(void *arg)
{
    struct closer *k = arg;
    thread_wait_sleeping(k->poller);
    k->rc = k->x->p->close(k->c);
    return NULL;
}

static void close_wakes_poll(struct cx *x)
{
    struct closer k;
    pthread_t t;
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    k.x = x;
    k.c = c;
    k.poller = thread_wait_tid();
    k.rc = -999;
    int fd = x->p->poll_fd(c);
    if (pthread_create(&t, NULL, closer_main, &k) != 0) {
        cx_fail(x, "pthread_create failed");
        cx_release(x, c);
        return;
    }
    int r = readable(x, fd, (int)cx_bound_ms(x, 2000));
    pthread_join(t, NULL);
    EXPECT(x, r == 1, "a close in another thread did not make poll_fd readable");
    cx_expect_rc(x, k.rc, PT_OK, "close");
    x->p->free(c);
}

const struct check checks_poll[] = {
    { "poll: poll_fd is one open descriptor", valid_fd },
    { "poll: quiet with nothing ready (a rare spurious wake-up allowed)", quiet_when_empty },
    { "poll: level-triggered, one datagram read per wake-up", one_per_wakeup },
    { "poll: drained until PT_ETIMEDOUT at each wake-up", drain_per_wakeup },
    { "poll: readable once closed, recv then PT_ECLOSED", readable_when_closed },
    { "poll: a close in another thread wakes a host waiting in poll", close_wakes_poll },
    { NULL, NULL },
};
