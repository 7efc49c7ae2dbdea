/*
 * udp.c -- the daemon's ordinary UDP path as a transport plugin: the
 * descriptor (ABI 1.2) and a connection's life (udp.h has the map of the
 * plugin's files and the connection).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "udp.h"
#include "util.h"

#define UDP_VERSION PACKAGE_VERSION

static void conn_release_fds(pt_conn *c)
{
    if (c->epoll_fd >= 0)
        close(c->epoll_fd);
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    if (c->fd >= 0)
        close(c->fd);
}

/* Add fd to c's epoll set for reading. */
static int watch(pt_conn *c, int fd)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    return epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

/* The socket, bound to bind_addr, in c; the wake-up eventfd and the epoll
 * set.  PT_OK or the error with its message in err. */
static int open_socket(pt_conn *c, const pt_addr *bind_addr, const char *bind_s, char *err,
                       size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;

    c->family = bind_addr->family == PT_AF_INET6 ? AF_INET6 : AF_INET;
    c->fd = socket(c->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return ptu_err(err, errlen, PT_EIO, "udp dial: socket: %s", strerror(errno));
    if (c->family == AF_INET6) {
        int off = 0; /* dual-stack, so IPv4 peers work from [::] too */
        setsockopt(c->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }
    sl = ptu_addr_to_sockaddr(bind_addr, c->family, &ss);
    if (bind(c->fd, (struct sockaddr *)&ss, sl) != 0)
        return ptu_err(err, errlen, PT_EIO, "udp dial: bind %s: %s", bind_s, strerror(errno));
    sl = sizeof ss;
    if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) != 0 ||
        ptu_addr_from_sockaddr((struct sockaddr *)&ss, &c->local) != PT_OK)
        return ptu_err(err, errlen, PT_EIO, "udp dial: getsockname: %s", strerror(errno));
    c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (c->wake_fd < 0 || c->epoll_fd < 0)
        return ptu_err(err, errlen, PT_EIO, "udp dial: eventfd/epoll: %s", strerror(errno));
    if (watch(c, c->fd) != 0 || watch(c, c->wake_fd) != 0)
        return ptu_err(err, errlen, PT_EIO, "udp dial: epoll_ctl: %s", strerror(errno));
    return PT_OK;
}

static int udp_dial(const pt_dial_params *params, pt_conn **out, char *err, size_t errlen)
{
    char why[PT_ERRMSG_MAX], a[PT_ERRMSG_MAX];
    udp_params up;
    pt_addr bind_addr;
    pt_conn *c;
    int rc;

    if (!out)
        return ptu_err(err, errlen, PT_EINVAL, "udp dial: out is NULL");
    *out = NULL;
    rc = udp_params_read(params, "udp dial", &up, err, errlen);
    if (rc != PT_OK)
        return rc;
    if (udp_cancelled(&up))
        return ptu_err(err, errlen, PT_ECLOSED, "udp dial: cancelled (cancel_fd)");
    /* Only a bind host given by name can block here (the resolver):
     * cancel_fd abandons it. */
    rc = udp_resolve(up.bind_s, "option \"bind\"", 1, &bind_addr, up.cancel_fd, -1, why,
                     sizeof why);
    if (rc == PT_EIO)
        rc = PT_EOPTION; /* a bind host that does not resolve is a bad value */
    if (rc != PT_OK)
        return ptu_err(err, errlen, rc, "udp dial: %s", why);

    c = calloc(1, sizeof *c);
    if (!c)
        return ptu_err(err, errlen, PT_ENOMEM, "udp dial: out of memory");
    c->fd = c->wake_fd = c->epoll_fd = -1;
    ptu_diag_init(&c->diag, params);
    rc = open_socket(c, &bind_addr, up.bind_s, err, errlen);
    if (rc != PT_OK) {
        conn_release_fds(c);
        ptu_diag_destroy(&c->diag);
        free(c);
        return rc;
    }
    ptu_diag_log(&c->diag, PT_LOG_INFO, "udp: bound to %s",
                 ptu_addr_format(&c->local, a, sizeof a));
    *out = c;
    return PT_OK;
}

static int udp_close(pt_conn *c)
{
    if (!c)
        return PT_EINVAL;
    if (atomic_exchange_explicit(&c->closed, 1, memory_order_acq_rel) == 0) {
        uint64_t one = 1;
        /* Cannot fail: the counter is far from overflow.  Never read, so
         * poll_fd stays readable once closed. */
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
    /* Only states 1.0 defines: a UDP socket never reconnects. */
    int state = atomic_load(&c->closed) ? PT_STATE_CLOSED : PT_STATE_CONNECTED;
    return ptu_counters_report(&c->n, state, ptu_diag_code(&c->diag), out);
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

/* Every code the plugin returns is defined since ABI 1.0, so what it
 * returns suits a host of any minor (pilot_transport.h, Versioning). */
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
    .recv_many = udp_recv_many,
    .probe = udp_probe,
};

PT_EXPORT const pt_plugin *PT_ENTRY(void);
PT_EXPORT const pt_plugin *PT_ENTRY(void)
{
    return &udp_plugin;
}
