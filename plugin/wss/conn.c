/* conn.c -- one WSS connection's shared state: reading and writing its
 * link under the connection lock (conn.h). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "conn.h"
#include "util.h"

/* The reason of the beacon's close when a newer connection of the same
 * node replaced this one (SPEC 3, 6). */
#define WSS_CLOSE_REPLACED "replaced"

/* ---- Wake-ups and waiting ------------------------------------------------- */

void wss_conn_signal_fd(int fd)
{
    uint64_t one = 1;
    ssize_t w = write(fd, &one, sizeof one);
    (void)w; /* an eventfd write only fails on counter overflow */
}

void wss_conn_drain_fd(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof v);
    (void)r; /* EAGAIN: already drained */
}

int wss_conn_closed(pt_conn *c)
{
    return atomic_load_explicit(&c->closed, memory_order_acquire);
}

int wss_conn_wait(pt_conn *c, int fd, short events, int extra_fd, int ms)
{
    /* poll skips entries whose fd is negative: no need to compact. */
    struct pollfd p[3] = { { c->close_fd, POLLIN, 0 }, { fd, events, 0 }, { extra_fd, POLLIN, 0 } };
    if (poll(p, 3, ms) < 0 && errno != EINTR)
        ptu_diag_log(&c->diag, PT_LOG_DEBUG, "wss: poll: %s", strerror(errno));
    return extra_fd >= 0 && p[2].revents != 0;
}

void wss_conn_set_epoll_sock(pt_conn *c, int sock)
{
    struct epoll_event ev;
    if (c->epoll_sock >= 0)
        epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, c->epoll_sock, NULL);
    c->epoll_sock = -1;
    if (sock >= 0) {
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN;
        ev.data.fd = sock;
        if (epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, sock, &ev) == 0)
            c->epoll_sock = sock;
    }
}

/* ---- The inbound ring ----------------------------------------------------- */

int wss_conn_drop_inbound(pt_conn *c, int code, const char *why)
{
    ptu_counters_bump(&c->n.dropped_in);
    return ptu_diag_repeat_note(&c->diag, &c->drops, ptu_now_ms(), code, why);
}

/* Queue one inbound message; called with the lock held. */
static void ring_push(pt_conn *c, const unsigned char *data, size_t len)
{
    char why[96];
    int rc = wss_ring_push(&c->ring, data, len);
    if (rc == WSS_RING_FULL) {
        snprintf(why, sizeof why, "wss: receive buffer full (%zu frames): inbound frame dropped",
                 c->ring.cap);
        wss_conn_drop_inbound(c, PT_OK, why);
    } else if (rc != PT_OK) {
        wss_conn_drop_inbound(c, PT_ENOMEM, "wss: out of memory: inbound frame dropped");
    } else {
        wss_conn_rx_update(c); /* poll_fd: the ring is not empty */
    }
}

void wss_conn_deliver(pt_conn *c, struct wss_conn_direct *d, const wss_msg *m)
{
    pt_rframe *f = &d->f[d->filled++];
    f->reserved_ = 0;
    ptu_addr_ipv4(&f->src, 192, 0, 2, 2, 0); /* the synthetic beacon */
    if (m->len > f->cap) {
        char why[96];
        snprintf(why, sizeof why, "wss recv: %zu-byte frame discarded: buffer holds %zu", m->len,
                 f->cap);
        f->len = wss_conn_drop_inbound(c, PT_ETOOLARGE, why);
        return;
    }
    memcpy(f->data, m->data, m->len); /* the one copy, out of the link's receive buffer */
    f->len = (int32_t)m->len;
}

/* A data message read from the link: to a free slot of d, else the ring. */
static void take_binary(pt_conn *c, struct wss_conn_direct *d, const wss_msg *m)
{
    if (m->len == 0) { /* a datagram is 1 byte at least (pilot_transport.h) */
        wss_conn_drop_inbound(c, PT_OK, "wss: empty binary message dropped");
        return;
    }
    ptu_counters_in(&c->n, m->len);
    if (d && d->filled < d->n)
        wss_conn_deliver(c, d, m);
    else
        ring_push(c, m->data, m->len);
}

void wss_conn_rx_update(pt_conn *c)
{
    int ready = c->rx_kicked || !wss_ring_empty(&c->ring) ||
                (c->link && wss_link_has_buffered(c->link));
    /* The flag spares a system call per frame when nothing changes. */
    if (ready && !c->rx_signalled)
        wss_conn_signal_fd(c->rx_fd);
    else if (!ready && c->rx_signalled)
        wss_conn_drain_fd(c->rx_fd);
    c->rx_signalled = ready;
}

/* ---- Control frames and the send queue ----------------------------------- */

void wss_conn_queue_control(pt_conn *c)
{
    if (c->state != PT_STATE_CONNECTED)
        return; /* closing: nothing goes behind our close frame */
    if (c->pong_pending &&
        wss_link_queue(c->link, WSS_MSG_PONG, c->pong_buf, c->pong_len) == PT_OK)
        c->pong_pending = 0;
    if (c->ping_pending && wss_link_queue(c->link, WSS_MSG_PING, "pilot", 5) == PT_OK)
        c->ping_pending = 0;
    if (c->keepalive_pending && wss_link_queue(c->link, WSS_MSG_TEXT, WSS_KEEPALIVE,
                                               sizeof WSS_KEEPALIVE - 1) == PT_OK)
        c->keepalive_pending = 0;
}

int wss_conn_push_out(pt_conn *c, char *why, size_t whylen)
{
    if (!c->link)
        return PT_OK;
    for (;;) {
        wss_conn_queue_control(c);
        int rc = wss_link_flush(c->link, why, whylen);
        /* A control frame or keep-alive finds room once the queue is empty.
         * Once closed nothing more is queued and the flags stay set: stop
         * (the keeper gets here when close() comes in the middle of its
         * round, after its look at close). */
        if (rc != PT_OK || c->state != PT_STATE_CONNECTED ||
            !(c->pong_pending || c->ping_pending || c->keepalive_pending))
            return rc;
    }
}

/* ---- Dropping, closing and reading the link ------------------------------- */

void wss_conn_drop_link(pt_conn *c, int code, const char *why)
{
    wss_msg m;
    char ignore[PT_ERRMSG_MAX];
    if (c->state != PT_STATE_CONNECTED || !c->link)
        return;
    /* Frames that arrived before the drop are still delivered (SPEC 2.8). */
    while (!wss_ring_full(&c->ring) && wss_link_read(c->link, &m, ignore, sizeof ignore) == PT_OK)
        if (m.kind == WSS_MSG_BINARY)
            take_binary(c, NULL, &m);
    ptu_diag_fail_later(&c->diag, code, "wss: connection lost: %s; reconnecting", why);
    wss_conn_set_epoll_sock(c, -1);
    /* Wake anything polling the old socket before it is closed. */
    shutdown(wss_link_socket(c->link), SHUT_RDWR);
    wss_link_free(c->link);
    c->link = NULL;
    c->state = PT_STATE_RECONNECTING;
    c->rx_drained = 0;
    c->pong_pending = c->ping_pending = c->keepalive_pending = 0;
    wss_keeper_link_down(&c->keep, ptu_now_ms());
    wss_conn_signal_fd(c->keeper_fd);
}

void wss_conn_send_close(pt_conn *c, int code, const char *reason)
{
    unsigned char buf[125];
    size_t rl = strlen(reason);
    char ignore[PT_ERRMSG_MAX];
    if (!c->link || c->state != PT_STATE_CONNECTED)
        return;
    if (rl > sizeof buf - 2)
        rl = sizeof buf - 2;
    buf[0] = (unsigned char)(code >> 8);
    buf[1] = (unsigned char)code;
    memcpy(buf + 2, reason, rl);
    /* Behind whatever is queued: it never cuts into a message. */
    if (wss_link_queue(c->link, WSS_MSG_CLOSE, buf, rl + 2) == PT_OK)
        wss_link_flush(c->link, ignore, sizeof ignore);
}

/* The beacon's close as the cause of a drop.  1000 "replaced" is a cause
 * of its own, worth a warning: a newer connection with our node id took
 * over (SPEC 3), most likely another daemon with the same identity, and
 * the two would go on replacing each other. */
static void close_cause(const pt_conn *c, const wss_msg *m, char *buf, size_t len)
{
    int n = snprintf(buf, len, "beacon closed the connection: %d%s%s", m->close_code,
                     *m->close_reason ? " " : "", m->close_reason);
    if (m->close_code == 1000 && strcmp(m->close_reason, WSS_CLOSE_REPLACED) == 0 && n > 0 &&
        (size_t)n < len)
        snprintf(buf + n, len - (size_t)n,
                 ": another connection with node id %u replaced this one (is another "
                 "daemon using this identity?)",
                 (unsigned)c->signer.node_id);
}

void wss_conn_close_link(pt_conn *c)
{
    char ignore[PT_ERRMSG_MAX];
    wss_link *l = c->link;
    int64_t deadline = ptu_now_ms() + WSS_CLOSE_FLUSH_MS;

    if (c->state != PT_STATE_CONNECTED || !l) {
        c->state = PT_STATE_CLOSED;
        return;
    }
    wss_conn_send_close(c, 1000, "");
    c->state = PT_STATE_CLOSED; /* a writer stops, the keeper queues nothing */
    int sock = wss_link_socket(l);
    /* Momentarily full (a writer's message in the way): wait for room
     * without the lock, a little.  Only free() releases l. */
    while (wss_link_queued(l) > 0) {
        int64_t left = deadline - ptu_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = { sock, POLLOUT, 0 };
        pthread_mutex_unlock(&c->lock);
        poll(&p, 1, (int)left);
        pthread_mutex_lock(&c->lock);
        if (wss_link_flush(l, ignore, sizeof ignore) < 0)
            break;
    }
    shutdown(sock, SHUT_WR);
}

void wss_conn_pump(pt_conn *c, struct wss_conn_direct *d)
{
    wss_msg m;
    char why[PT_ERRMSG_MAX];
    int64_t now = -1;
    /* A reader stops once its slots are full: what is behind stays in the
     * link, decoded where it was read when the next recv asks (and shown
     * by rx_fd meanwhile), instead of a copy into the ring and one out. */
    while (c->link && (d ? d->filled < d->n : !wss_ring_full(&c->ring))) {
        int rc = wss_link_read(c->link, &m, why, sizeof why);
        if (rc == WSS_AGAIN) {
            c->rx_drained = 1;
            return;
        }
        if (rc != PT_OK) {
            if (rc == PT_ETOOLARGE)
                wss_conn_drop_inbound(c, rc, why);
            wss_conn_drop_link(c, rc, why);
            return;
        }
        c->rx_drained = 0;
        if (now < 0) /* one clock reading per pump: the keeper counts in ms */
            now = ptu_now_ms();
        wss_keeper_read(&c->keep, now);
        switch (m.kind) {
        case WSS_MSG_BINARY:
            take_binary(c, d, &m);
            break;
        case WSS_MSG_TEXT:
            /* Reserved for future control messages: ignored (SPEC 2.6). */
            ptu_diag_log_later(&c->diag, PT_LOG_DEBUG, "wss: ignored a %zu-byte text message",
                               m.len);
            break;
        case WSS_MSG_PING:
            memcpy(c->pong_buf, m.data, m.len);
            c->pong_len = m.len;
            c->pong_pending = 1;
            if (wss_conn_push_out(c, why, sizeof why) < 0) {
                wss_conn_drop_link(c, PT_EIO, why);
                return;
            }
            /* A writer in send finishes it; otherwise the keeper does. */
            if (c->writers == 0 && (c->pong_pending || wss_link_queued(c->link)))
                wss_conn_signal_fd(c->keeper_fd);
            break;
        case WSS_MSG_PONG:
            wss_keeper_pong(&c->keep);
            break;
        case WSS_MSG_CLOSE: {
            char reason[PT_ERRMSG_MAX - 64];
            close_cause(c, &m, reason, sizeof reason);
            /* Answer a close the beacon started; after close() ours is
             * already out, and RFC 6455 allows no second one. */
            if (c->state == PT_STATE_CONNECTED && !wss_conn_closed(c))
                wss_conn_send_close(c, wss_keeper_close_reply(m.close_code), "");
            wss_conn_drop_link(c, PT_EIO, reason);
            return;
        }
        }
    }
    if (c->link && wss_ring_full(&c->ring))
        wss_keeper_behind(&c->keep, ptu_now_ms()); /* stopped for the host */
}
