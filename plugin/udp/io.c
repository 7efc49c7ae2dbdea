/*
 * io.c -- the UDP plugin's data path (udp.h): send and send_many
 * (sendmmsg), recv and recv_many (recvmmsg; recv is recv_many with one
 * slot).  The socket is non-blocking; a call that must wait polls it
 * together with the eventfd that close() signals.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "addr.h"
#include "udp.h"
#include "util.h"

/* Datagrams per sendmmsg or recvmmsg call. */
#define MMSG_BATCH 64

static int is_closed(pt_conn *c)
{
    return atomic_load_explicit(&c->closed, memory_order_acquire);
}

/* ---- Sending ----------------------------------------------------------------- */

/* The checks send and send_many make before sending: PT_OK with the
 * destination as a sockaddr, or the error (recorded for last_error). */
static int check_frame(pt_conn *c, const void *buf, size_t len, const pt_addr *dst,
                       struct sockaddr_storage *ss, socklen_t *sl)
{
    if (!buf || len == 0 || !dst)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "udp send: %s",
                             !buf ? "no buffer" : !dst ? "no destination address"
                                                       : "empty datagram (len 0)");
    if (len > PT_MAX_FRAME)
        return ptu_diag_fail(&c->diag, PT_ETOOLARGE,
                             "udp send: %zu bytes is over the %d-byte limit", len, PT_MAX_FRAME);
    *sl = ptu_addr_to_sockaddr(dst, c->family, ss);
    if (*sl == 0)
        return ptu_diag_fail(&c->diag, PT_EINVAL,
                             "udp send: destination is not reachable from an IPv4 socket "
                             "(bind to [::]:PORT for IPv6)");
    return PT_OK;
}

/* After a send failed with errno: PT_OK to try again (once the socket has
 * room), or the error to report. */
static int send_failed(pt_conn *c, size_t len, const pt_addr *dst)
{
    if (errno == EINTR)
        return PT_OK;
    if (errno == EMSGSIZE)
        return ptu_diag_fail(&c->diag, PT_ETOOLARGE,
                             "udp send: %zu bytes does not fit one UDP datagram", len);
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
        char a[PT_ERRMSG_MAX];
        return ptu_diag_fail(&c->diag, PT_EIO, "udp send to %s: %s",
                             ptu_addr_format(dst, a, sizeof a), strerror(errno));
    }
    /* The socket buffer is full: wait for room, or for close. */
    struct pollfd p[2] = { { c->fd, POLLOUT, 0 }, { c->wake_fd, POLLIN, 0 } };
    if (poll(p, 2, -1) < 0 && errno != EINTR)
        return ptu_diag_fail(&c->diag, PT_EIO, "udp send: poll: %s", strerror(errno));
    if (is_closed(c))
        return PT_ECLOSED;
    return PT_OK;
}

int udp_send(pt_conn *c, const void *buf, size_t len, const pt_addr *dst)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int rc;

    if (!c)
        return PT_EINVAL;
    if (is_closed(c))
        return PT_ECLOSED;
    if ((rc = check_frame(c, buf, len, dst, &ss, &sl)) != PT_OK)
        return rc;
    for (;;) {
        ssize_t n = sendto(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
                           (struct sockaddr *)&ss, sl);
        if (n >= 0) {
            ptu_counters_out(&c->n, (size_t)n);
            return (int)n;
        }
        if ((rc = send_failed(c, len, dst)) != PT_OK)
            return rc;
    }
}

int udp_send_many(pt_conn *c, const pt_frame *f, size_t n)
{
    struct mmsghdr msg[MMSG_BATCH];
    struct iovec iov[MMSG_BATCH];
    struct sockaddr_storage ss[MMSG_BATCH];
    socklen_t sl0;
    size_t sent = 0;
    int rc;

    if (!c || (!f && n) || n > INT_MAX)
        return PT_EINVAL;
    if (is_closed(c))
        return PT_ECLOSED;
    for (size_t i = 0; i < n; i++) /* refuse a bad frame before sending any */
        if ((rc = check_frame(c, f[i].data, f[i].len, f[i].dst, &ss[0], &sl0)) != PT_OK)
            return rc;
    while (sent < n) {
        unsigned k = 0;
        memset(msg, 0, sizeof msg);
        for (; k < MMSG_BATCH && sent + k < n; k++) {
            const pt_frame *fr = &f[sent + k];
            socklen_t sl = ptu_addr_to_sockaddr(fr->dst, c->family, &ss[k]);
            iov[k].iov_base = (void *)(uintptr_t)fr->data; /* sendmmsg does not write it */
            iov[k].iov_len = fr->len;
            msg[k].msg_hdr.msg_name = &ss[k];
            msg[k].msg_hdr.msg_namelen = sl;
            msg[k].msg_hdr.msg_iov = &iov[k];
            msg[k].msg_hdr.msg_iovlen = 1;
        }
        int m = sendmmsg(c->fd, msg, k, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (m > 0) {
            for (int i = 0; i < m; i++)
                ptu_counters_out(&c->n, f[sent + (size_t)i].len);
            sent += (size_t)m;
            continue;
        }
        if ((rc = send_failed(c, f[sent].len, f[sent].dst)) != PT_OK)
            return sent > 0 ? (int)sent : rc;
    }
    return (int)sent;
}

/* ---- Receiving --------------------------------------------------------------- */

/* Datagrams a call discarded because they did not fit: reported once per
 * call (last_error, a warning), each counted in dropped_in. */
typedef struct discards {
    size_t count;
    size_t last_len, last_cap;
} discards;

/* Put the datagram of len bytes that recvmmsg left in slot `from` into slot
 * `to` (to <= from: empty datagrams before it are skipped), with its
 * source.  It was cut (truncated) when it did not fit its own slot, and
 * it is discarded when it does not fit the slot it ends in. */
static void place(pt_conn *c, pt_rframe *f, size_t to, size_t from, size_t len, int truncated,
                  const struct sockaddr_storage *ss, discards *d)
{
    pt_rframe *slot = &f[to];
    ptu_addr_from_sockaddr((const struct sockaddr *)ss, &slot->src);
    if (truncated || len > slot->cap) {
        slot->len = PT_ETOOLARGE;
        ptu_counters_bump(&c->n.dropped_in);
        d->count++;
        d->last_len = len;
        d->last_cap = slot->cap;
        return;
    }
    if (to != from)
        memmove(slot->data, f[from].data, len);
    slot->len = (int32_t)len;
    ptu_counters_in(&c->n, len);
}

/* Take the datagrams that are ready into f[0..n) without waiting.
 * Returns how many slots were filled (0: none ready), or PT_EIO when the
 * socket reports an error before anything was taken.  An empty datagram
 * (legal in UDP, never sent by a transport: send refuses len 0) is
 * counted in dropped_in and skipped, its slot reused. */
static int take_ready(pt_conn *c, pt_rframe *f, size_t n, discards *d, const char *who)
{
    struct mmsghdr msg[MMSG_BATCH];
    struct iovec iov[MMSG_BATCH];
    struct sockaddr_storage ss[MMSG_BATCH];
    size_t filled = 0;

    while (filled < n) {
        unsigned k = n - filled < MMSG_BATCH ? (unsigned)(n - filled) : MMSG_BATCH;
        memset(msg, 0, k * sizeof msg[0]);
        for (unsigned i = 0; i < k; i++) {
            iov[i].iov_base = f[filled + i].data;
            iov[i].iov_len = f[filled + i].cap;
            msg[i].msg_hdr.msg_name = &ss[i];
            msg[i].msg_hdr.msg_namelen = sizeof ss[i];
            msg[i].msg_hdr.msg_iov = &iov[i];
            msg[i].msg_hdr.msg_iovlen = 1;
        }
        /* MSG_TRUNC: msg_len is the datagram's whole length, cut or not. */
        int m = recvmmsg(c->fd, msg, k, MSG_DONTWAIT | MSG_TRUNC, NULL);
        if (m < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK || filled > 0)
                break; /* an error after some datagrams comes back next call */
            /* E.g. ECONNREFUSED from an earlier ICMP error: per-datagram
             * noise on UDP, reported once, then we go on receiving. */
            return ptu_diag_fail(&c->diag, PT_EIO, "%s: %s", who, strerror(errno));
        }
        size_t to = filled;
        for (int i = 0; i < m; i++) {
            size_t len = msg[i].msg_len;
            if (len == 0) {
                ptu_counters_bump(&c->n.dropped_in);
                continue;
            }
            place(c, f, to++, filled + (size_t)i, len, (msg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0,
                  &ss[i], d);
        }
        filled = to;
        if ((unsigned)m < k)
            break; /* the socket is empty */
    }
    return (int)filled;
}

/* recv and recv_many: wait up to timeout_ms for a first datagram, then
 * take what else is ready.  Slots and arguments are checked. */
static int receive(pt_conn *c, pt_rframe *f, size_t n, int timeout_ms, const char *who)
{
    int64_t deadline = timeout_ms > 0 ? ptu_now_ms() + timeout_ms : 0;
    discards d = { 0, 0, 0 };
    int got;

    for (;;) {
        struct epoll_event ev[2];
        int wait_ms;

        if (is_closed(c))
            return PT_ECLOSED;
        /* Try first: a busy socket costs one syscall per call. */
        got = take_ready(c, f, n, &d, who);
        if (got != 0)
            break;
        if (timeout_ms == 0)
            return PT_ETIMEDOUT;
        if (timeout_ms < 0) {
            wait_ms = -1;
        } else {
            int64_t left = deadline - ptu_now_ms();
            if (left <= 0)
                return PT_ETIMEDOUT;
            wait_ms = left > INT32_MAX ? INT32_MAX : (int)left;
        }
        if (epoll_wait(c->epoll_fd, ev, 2, wait_ms) < 0 && errno != EINTR)
            return ptu_diag_fail(&c->diag, PT_EIO, "%s: epoll_wait: %s", who, strerror(errno));
    }
    if (d.count == 1)
        ptu_diag_fail(&c->diag, PT_ETOOLARGE, "%s: %zu-byte datagram discarded: buffer holds %zu",
                      who, d.last_len, d.last_cap);
    else if (d.count > 1)
        ptu_diag_fail(&c->diag, PT_ETOOLARGE,
                      "%s: %zu datagrams discarded, each larger than its buffer (the last: %zu "
                      "bytes, buffer %zu)",
                      who, d.count, d.last_len, d.last_cap);
    return got;
}

int udp_recv(pt_conn *c, void *buf, size_t cap, pt_addr *src, int timeout_ms)
{
    pt_rframe f;

    if (!c)
        return PT_EINVAL;
    if (!buf)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "udp recv: no buffer");
    memset(&f, 0, sizeof f);
    f.data = buf;
    f.cap = cap;
    int rc = receive(c, &f, 1, timeout_ms, "udp recv");
    if (rc < 0)
        return rc;
    if (src)
        *src = f.src;
    return f.len;
}

int udp_recv_many(pt_conn *c, pt_rframe *f, size_t n, int timeout_ms)
{
    if (!c)
        return PT_EINVAL;
    if (!f || n == 0 || n > INT_MAX)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "udp recv_many: %s",
                             !f ? "no frames" : n == 0 ? "no slots (n is 0)" : "n over INT_MAX");
    for (size_t i = 0; i < n; i++)
        if (!f[i].data)
            return ptu_diag_fail(&c->diag, PT_EINVAL, "udp recv_many: slot %zu has no buffer", i);
    return receive(c, f, n, timeout_ms, "udp recv_many");
}
