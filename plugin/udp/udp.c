/*
 * udp.c -- the daemon's ordinary UDP path as a transport plugin.
 *
 * One bound, non-blocking UDP socket.  Blocking waits go through an epoll
 * set holding the socket and an eventfd that close() signals, so close
 * from any thread wakes a blocked recv or send.  The epoll set is also the
 * pollable fd handed to event-loop hosts.  The socket is only closed by
 * free(), never by close(), so its number cannot be reused under a thread
 * still inside recv.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "addr.h"
#include "counters.h"
#include "diag.h"
#include "options.h"
#include "pilot_transport.h"
#include "util.h"

#define UDP_VERSION PACKAGE_VERSION

struct pt_conn {
    int fd;        /* the UDP socket */
    int family;    /* AF_INET or AF_INET6 */
    int wake_fd;   /* eventfd: readable once closed */
    int epoll_fd;  /* {fd, wake_fd}: recv waits here; also poll_fd() */
    atomic_int closed;
    pt_addr local;
    ptu_counters n;
    ptu_diag diag;
};

static const pt_option_doc udp_options[] = {
    { "bind", "HOST:PORT", "0.0.0.0:0",
      "local address to bind; [::]:PORT for IPv6 (dual-stack); port 0 picks one" },
    { NULL, NULL, NULL, NULL },
};

static void conn_release_fds(pt_conn *c)
{
    if (c->epoll_fd >= 0)
        close(c->epoll_fd);
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    if (c->fd >= 0)
        close(c->fd);
}

static int udp_dial(const pt_dial_params *params, pt_conn **out, char *err, size_t errlen)
{
    pt_addr bind_addr;
    struct sockaddr_storage ss;
    socklen_t sl;
    struct epoll_event ev;
    pt_conn *c;
    const char *bind_s;
    int rc;

    if (!out)
        return ptu_err(err, errlen, PT_EINVAL, "udp dial: out is NULL");
    *out = NULL;
    if (!params || !PT_HAS_FIELD(params, pt_dial_params, log_level))
        return ptu_err(err, errlen, PT_EINVAL, "udp dial: missing or too small dial parameters");
    rc = ptu_options_check("udp", params->options, params->n_options, udp_options, err, errlen);
    if (rc != PT_OK)
        return rc;
    bind_s = ptu_option_get(params->options, params->n_options, udp_options, "bind");
    {
        char why[PT_ERRMSG_MAX];
        if (ptu_addr_parse(bind_s, 1, &bind_addr, why, sizeof why) != PT_OK)
            return ptu_err(err, errlen, PT_EOPTION, "udp: option \"bind\": %s", why);
    }

    c = calloc(1, sizeof *c);
    if (!c)
        return ptu_err(err, errlen, PT_ENOMEM, "udp dial: out of memory");
    c->fd = c->wake_fd = c->epoll_fd = -1;
    ptu_diag_init(&c->diag, params);

    c->family = bind_addr.family == PT_AF_INET6 ? AF_INET6 : AF_INET;
    c->fd = socket(c->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        rc = ptu_err(err, errlen, PT_EIO, "udp dial: socket: %s", strerror(errno));
        goto fail;
    }
    if (c->family == AF_INET6) {
        int off = 0; /* dual-stack, so IPv4 peers work from [::] too */
        setsockopt(c->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }
    sl = ptu_addr_to_sockaddr(&bind_addr, c->family, &ss);
    if (bind(c->fd, (struct sockaddr *)&ss, sl) != 0) {
        rc = ptu_err(err, errlen, PT_EIO, "udp dial: bind %s: %s", bind_s, strerror(errno));
        goto fail;
    }
    sl = sizeof ss;
    if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) != 0 ||
        ptu_addr_from_sockaddr((struct sockaddr *)&ss, &c->local) != PT_OK) {
        rc = ptu_err(err, errlen, PT_EIO, "udp dial: getsockname: %s", strerror(errno));
        goto fail;
    }
    c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (c->wake_fd < 0 || c->epoll_fd < 0) {
        rc = ptu_err(err, errlen, PT_EIO, "udp dial: eventfd/epoll: %s", strerror(errno));
        goto fail;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = c->fd;
    if (epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        rc = ptu_err(err, errlen, PT_EIO, "udp dial: epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    ev.data.fd = c->wake_fd;
    if (epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->wake_fd, &ev) != 0) {
        rc = ptu_err(err, errlen, PT_EIO, "udp dial: epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    {
        char a[PT_ERRMSG_MAX];
        ptu_diag_log(&c->diag, PT_LOG_INFO, "udp: bound to %s",
                     ptu_addr_format(&c->local, a, sizeof a));
    }
    *out = c;
    return PT_OK;

fail:
    conn_release_fds(c);
    ptu_diag_destroy(&c->diag);
    free(c);
    return rc;
}

/* The checks send and send_many make before sending: PT_OK with the
 * destination as a sockaddr, or the error (recorded for last_error). */
static int check_frame(pt_conn *c, const void *buf, size_t len, const pt_addr *dst,
                       struct sockaddr_storage *ss, socklen_t *sl)
{
    if (!buf || len == 0 || !dst)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "udp send: %s",
                             !dst ? "no destination address" : "empty datagram");
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
        char a[64];
        return ptu_diag_fail(&c->diag, PT_EIO, "udp send to %s: %s",
                             ptu_addr_format(dst, a, sizeof a), strerror(errno));
    }
    /* The socket buffer is full: wait for room, or for close. */
    struct pollfd p[2] = { { c->fd, POLLOUT, 0 }, { c->wake_fd, POLLIN, 0 } };
    if (poll(p, 2, -1) < 0 && errno != EINTR)
        return ptu_diag_fail(&c->diag, PT_EIO, "udp send: poll: %s", strerror(errno));
    if (atomic_load_explicit(&c->closed, memory_order_acquire))
        return PT_ECLOSED;
    return PT_OK;
}

static int udp_send(pt_conn *c, const void *buf, size_t len, const pt_addr *dst)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int rc;

    if (!c)
        return PT_EINVAL;
    if (atomic_load_explicit(&c->closed, memory_order_acquire))
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

/* Datagrams per sendmmsg call. */
#define MMSG_BATCH 64

static int udp_send_many(pt_conn *c, const pt_frame *f, size_t n)
{
    struct mmsghdr msg[MMSG_BATCH];
    struct iovec iov[MMSG_BATCH];
    struct sockaddr_storage ss[MMSG_BATCH];
    socklen_t sl0;
    size_t sent = 0;
    int rc;

    if (!c || (!f && n) || n > INT_MAX)
        return PT_EINVAL;
    if (atomic_load_explicit(&c->closed, memory_order_acquire))
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

static int udp_recv(pt_conn *c, void *buf, size_t cap, pt_addr *src, int timeout_ms)
{
    int64_t deadline = timeout_ms > 0 ? ptu_now_ms() + timeout_ms : 0;

    if (!c)
        return PT_EINVAL;
    if (!buf && cap > 0)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "udp recv: no buffer");
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        struct epoll_event ev[2];
        int wait_ms;

        if (atomic_load_explicit(&c->closed, memory_order_acquire))
            return PT_ECLOSED;
        /* Try first: a busy socket costs one syscall per datagram. */
        ssize_t n = recvfrom(c->fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&ss,
                             &sl);
        if (n >= 0) {
            if ((size_t)n > cap) {
                ptu_counters_bump(&c->n.dropped_in);
                return ptu_diag_fail(&c->diag, PT_ETOOLARGE,
                                     "udp recv: %zd-byte datagram discarded: buffer holds %zu",
                                     n, cap);
            }
            if (src)
                ptu_addr_from_sockaddr((struct sockaddr *)&ss, src);
            ptu_counters_in(&c->n, (size_t)n);
            return (int)n;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            /* E.g. ECONNREFUSED from an earlier ICMP error: per-datagram
             * noise on UDP, reported once, then we go on receiving. */
            return ptu_diag_fail(&c->diag, PT_EIO, "udp recv: %s", strerror(errno));
        }
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
            return ptu_diag_fail(&c->diag, PT_EIO, "udp recv: epoll_wait: %s", strerror(errno));
    }
}

static int udp_close(pt_conn *c)
{
    if (!c)
        return PT_EINVAL;
    if (atomic_exchange_explicit(&c->closed, 1, memory_order_acq_rel) == 0) {
        uint64_t one = 1;
        /* Cannot fail: the counter is far from overflow. */
        ssize_t w = write(c->wake_fd, &one, sizeof one);
        (void)w;
        ptu_diag_log(&c->diag, PT_LOG_INFO, "udp: closed");
    }
    return PT_OK;
}

static int udp_local_addr(pt_conn *c, pt_addr *out)
{
    if (!c || !out)
        return PT_EINVAL;
    *out = c->local;
    return PT_OK;
}

static int udp_poll_fd(pt_conn *c)
{
    return c ? c->epoll_fd : PT_EINVAL;
}

static int udp_stats(pt_conn *c, pt_stats *out)
{
    if (!c)
        return PT_EINVAL;
    return ptu_counters_report(&c->n, atomic_load(&c->closed) ? PT_STATE_CLOSED : PT_STATE_CONNECTED,
                               ptu_diag_code(&c->diag), out);
}

static int udp_last_error(pt_conn *c, char *buf, size_t len)
{
    if (!c)
        return PT_EINVAL;
    return ptu_diag_get(&c->diag, buf, len);
}

static void udp_free(pt_conn *c)
{
    if (!c)
        return;
    udp_close(c);
    conn_release_fds(c);
    ptu_diag_destroy(&c->diag);
    free(c);
}

static const pt_plugin udp_plugin = {
    .struct_size = sizeof(pt_plugin),
    .abi_major = PT_ABI_MAJOR,
    .abi_minor = PT_ABI_MINOR,
    .name = "udp",
    .version = UDP_VERSION,
    .description = "plain UDP datagrams (the daemon's ordinary path)",
    .options = udp_options,
    .dial = udp_dial,
    .send = udp_send,
    .recv = udp_recv,
    .close = udp_close,
    .local_addr = udp_local_addr,
    .poll_fd = udp_poll_fd,
    .stats = udp_stats,
    .last_error = udp_last_error,
    .free = udp_free,
    .send_many = udp_send_many,
};

PT_EXPORT const pt_plugin *PT_ENTRY(void);
PT_EXPORT const pt_plugin *PT_ENTRY(void)
{
    return &udp_plugin;
}
