/*
 * wss.c -- the WSS transport plugin: Pilot compat mode (SPEC 2).
 *
 * One long-lived WebSocket link to the beacon (link.c).  There is no I/O
 * thread on the data path: the caller's reader thread reads the link and
 * the caller's writer thread writes it, each under the connection lock,
 * which is held only for non-blocking libcurl calls and released while a
 * thread waits on the socket.  So a writer stalled on a full socket never
 * holds up the reader, and nothing is handed between threads per frame.
 *
 * A keeper thread owns what has no caller: the idle ping and its pong
 * deadline, reading on behalf of a host that is not in recv (so pongs are
 * seen), and reconnecting with backoff after a drop.
 *
 * Outbound frames, data and control alike, are whole messages in the
 * link's send queue (link.c), so a pong is simply queued behind what is
 * there and never cuts into a message.  send_many queues every frame that
 * fits before writing, so frames that are ready together leave in one TLS
 * write.
 *
 * recv reads the link itself: the first message goes straight into the
 * caller's buffer; what libcurl had buffered behind it is read on until
 * CURLE_AGAIN (so poll_fd never misses data hidden in libcurl) into a ring
 * of recv-buffer slots that later calls pop.  Slots are reused, so the
 * steady state allocates nothing per frame.  The keeper reads only for a
 * host that stays out of recv, on its own tick or while a pong is due, so
 * it never competes with a reading host for the lock.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "addr.h"
#include "conf.h"
#include "counters.h"
#include "diag.h"
#include "link.h"
#include "pilot_transport.h"
#include "roots.h"
#include "util.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 30000
/* How long a thread waiting for socket room sleeps before re-checking that
 * its link is still the current one (a drop frees the link under it). */
#define WAIT_RECHECK_MS 100

struct slot {
    unsigned char *buf;
    size_t cap, len;
};

struct pt_conn {
    wss_config cfg;         /* may hold a proxy password: wiped at free */
    pt_identity id;         /* our copy of the key, for re-auth: wiped at free */
    ptu_diag diag;
    int close_fd;           /* eventfd: readable from close() on, never drained */
    int rx_fd;              /* eventfd: readable while the ring is not empty */
    int keeper_fd;          /* eventfd: wakes the keeper (drop, pending control) */
    int epoll_fd;           /* poll_fd(): close_fd, rx_fd and the link's socket */
    int roots_fd;           /* memfd of the pinned roots, or -1 */
    char ca_path[4200];     /* what libcurl loads: memfd path or ca-file, "" for system */
    pthread_t keeper;
    int keeper_started;
    atomic_int closed;

    pthread_mutex_t lock;   /* everything below */
    wss_link *link;         /* NULL while reconnecting or closed */
    int epoll_sock;         /* socket registered in epoll_fd, or -1 */
    uint64_t gen;           /* bumped on every new link */
    int state;              /* enum pt_state */
    int rx_drained;         /* the last read found nothing: wait before reading */
    int rx_kicked;          /* rx_fd signalled by a reconnect, not yet consumed */
    int pong_pending;       /* answer this ping payload when there is room */
    unsigned char pong_buf[125];
    size_t pong_len;
    int ping_pending;       /* a ping is due and not yet queued */
    int ping_outstanding;   /* a ping is due or out, its pong not yet seen */
    int64_t ping_sent_ms, last_rx_ms;
    int64_t held_ms;        /* last time the ring was full (reading held back) */
    int readers;            /* threads inside recv */
    int writers;            /* threads inside send or send_many */
    struct slot *ring;
    size_t ring_cap, ring_head, ring_count;

    ptu_counters n;
};

/* ---- Small helpers -------------------------------------------------------- */

static void signal_fd(int fd)
{
    uint64_t one = 1;
    ssize_t w = write(fd, &one, sizeof one);
    (void)w; /* an eventfd write only fails on counter overflow */
}

static void drain_fd(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof v);
    (void)r; /* EAGAIN: already drained */
}

static int is_closed(pt_conn *c)
{
    return atomic_load_explicit(&c->closed, memory_order_acquire);
}

/* Wait for fd events (or close), at most ms.  Never holds the lock.
 * Returns whether extra_fd polled readable. */
static int wait_fd(pt_conn *c, int fd, short events, int extra_fd, int ms)
{
    /* poll skips entries whose fd is negative: no need to compact. */
    struct pollfd p[3] = { { c->close_fd, POLLIN, 0 }, { fd, events, 0 }, { extra_fd, POLLIN, 0 } };
    if (poll(p, 3, ms) < 0 && errno != EINTR)
        ptu_diag_log(&c->diag, PT_LOG_DEBUG, "wss: poll: %s", strerror(errno));
    return extra_fd >= 0 && p[2].revents != 0;
}

static void set_epoll_sock(pt_conn *c, int sock)
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

/* Queue one inbound message; called with the lock held. */
static void ring_push(pt_conn *c, const unsigned char *data, size_t len)
{
    if (c->ring_count == c->ring_cap) {
        ptu_counters_bump(&c->n.dropped_in);
        ptu_diag_log(&c->diag, PT_LOG_WARN,
                     "wss: receive buffer full (%zu frames): inbound frame dropped", c->ring_cap);
        return;
    }
    struct slot *s = &c->ring[(c->ring_head + c->ring_count) % c->ring_cap];
    if (s->cap < len || !s->buf) {
        /* Slots only grow and are kept: no allocation once warmed up. */
        size_t want = len < 2048 ? 2048 : len;
        unsigned char *b = realloc(s->buf, want);
        if (!b) {
            ptu_counters_bump(&c->n.dropped_in);
            ptu_diag_fail(&c->diag, PT_ENOMEM, "wss: out of memory: inbound frame dropped");
            return;
        }
        s->buf = b;
        s->cap = want;
    }
    memcpy(s->buf, data, len);
    s->len = len;
    if (c->ring_count++ == 0)
        signal_fd(c->rx_fd);
}

/* ---- Control frames and the send queue ----------------------------------- */

/* Queue the pending control frames behind what is queued (whole messages,
 * so they never cut into one), if there is room.  Lock held. */
static void queue_control(pt_conn *c)
{
    if (c->pong_pending &&
        wss_link_queue(c->link, WSS_MSG_PONG, c->pong_buf, c->pong_len) == PT_OK)
        c->pong_pending = 0;
    if (c->ping_pending && wss_link_queue(c->link, WSS_MSG_PING, "pilot", 5) == PT_OK)
        c->ping_pending = 0;
}

/* Queue the pending control frames and write the queue out.  Lock held.
 * Returns PT_OK when everything is out, WSS_AGAIN when the socket is full,
 * or a negative code when the link died (the caller drops it). */
static int push_out(pt_conn *c, char *why, size_t whylen)
{
    if (!c->link)
        return PT_OK;
    for (;;) {
        queue_control(c);
        int rc = wss_link_flush(c->link, why, whylen);
        /* A control frame finds room once the queue is empty. */
        if (rc != PT_OK || !(c->pong_pending || c->ping_pending))
            return rc;
    }
}

/* ---- Dropping and reading the link --------------------------------------- */

/* The link is gone: keep what it already delivered, hand the reconnect to
 * the keeper.  Lock held. */
static void drop_link(pt_conn *c, int code, const char *why)
{
    wss_msg m;
    char ignore[PT_ERRMSG_MAX];
    if (c->state != PT_STATE_CONNECTED || !c->link)
        return;
    /* Frames that arrived before the drop are still delivered (SPEC 2.8). */
    while (c->ring_count < c->ring_cap && wss_link_read(c->link, &m, ignore, sizeof ignore) == PT_OK)
        if (m.kind == WSS_MSG_BINARY) {
            ptu_counters_in(&c->n, m.len);
            ring_push(c, m.data, m.len);
        }
    ptu_diag_fail(&c->diag, code, "wss: connection lost: %s; reconnecting", why);
    set_epoll_sock(c, -1);
    /* Wake anything polling the old socket before it is closed. */
    shutdown(wss_link_socket(c->link), SHUT_RDWR);
    wss_link_free(c->link);
    c->link = NULL;
    c->state = PT_STATE_RECONNECTING;
    c->rx_drained = 0;
    c->pong_pending = c->ping_pending = c->ping_outstanding = 0;
    signal_fd(c->keeper_fd);
}

/* Best-effort close frame (code, reason) on the current link; lock held. */
static void send_close_frame(pt_conn *c, int code, const char *reason)
{
    unsigned char buf[125];
    size_t rl = strlen(reason);
    char ignore[PT_ERRMSG_MAX];
    if (!c->link)
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

/* recv's buffer, for the first data message a pump reads. */
#define NO_FRAME (-100)
struct direct {
    unsigned char *buf;
    size_t cap;
    int len;                /* NO_FRAME until a message is delivered */
};

/* A message handed straight to recv: its length, or PT_ETOOLARGE. */
static void deliver(pt_conn *c, struct direct *d, const wss_msg *m)
{
    if (m->len > d->cap) {
        ptu_counters_bump(&c->n.dropped_in);
        d->len = ptu_diag_fail(&c->diag, PT_ETOOLARGE,
                               "wss recv: %zu-byte frame discarded: buffer holds %zu", m->len,
                               d->cap);
        return;
    }
    if (m->len && m->data != d->buf) /* else it was read in place */
        memcpy(d->buf, m->data, m->len);
    d->len = (int)m->len;
}

/* Read the link until libcurl has nothing more (or the ring is full),
 * handling control frames; the first data message goes to d (when given),
 * the rest into the ring.  Lock held. */
static void pump(pt_conn *c, struct direct *d)
{
    wss_msg m;
    char why[PT_ERRMSG_MAX];
    while (c->link && ((d && d->len == NO_FRAME) || c->ring_count < c->ring_cap)) {
        int first = d && d->len == NO_FRAME; /* read it straight into recv's buffer */
        int rc = first ? wss_link_read_into(c->link, d->buf, d->cap, &m, why, sizeof why)
                       : wss_link_read(c->link, &m, why, sizeof why);
        if (rc == WSS_AGAIN) {
            c->rx_drained = 1;
            return;
        }
        if (rc != PT_OK) {
            if (rc == PT_ETOOLARGE)
                ptu_counters_bump(&c->n.dropped_in);
            drop_link(c, rc, why);
            return;
        }
        c->rx_drained = 0;
        c->last_rx_ms = wss_now_ms();
        switch (m.kind) {
        case WSS_MSG_BINARY:
            ptu_counters_in(&c->n, m.len);
            if (d && d->len == NO_FRAME)
                deliver(c, d, &m);
            else
                ring_push(c, m.data, m.len);
            break;
        case WSS_MSG_TEXT:
            /* Reserved for future control messages: ignored (SPEC 2.6). */
            ptu_diag_log(&c->diag, PT_LOG_DEBUG, "wss: ignored a %zu-byte text message", m.len);
            break;
        case WSS_MSG_PING:
            memcpy(c->pong_buf, m.data, m.len);
            c->pong_len = m.len;
            c->pong_pending = 1;
            if (push_out(c, why, sizeof why) < 0) {
                drop_link(c, PT_EIO, why);
                return;
            }
            /* A writer in send finishes it; otherwise the keeper does. */
            if (c->writers == 0 && (c->pong_pending || wss_link_queued(c->link)))
                signal_fd(c->keeper_fd);
            break;
        case WSS_MSG_PONG:
            c->ping_outstanding = 0;
            break;
        case WSS_MSG_CLOSE: {
            char reason[200];
            snprintf(reason, sizeof reason, "beacon closed the connection: %d%s%s", m.close_code,
                     *m.close_reason ? " " : "", m.close_reason);
            /* Answer a close the beacon started; after close() ours is
             * already out, and RFC 6455 allows no second one. */
            if (c->state == PT_STATE_CONNECTED && !is_closed(c))
                send_close_frame(c, m.close_code == 1005 ? 1000 : m.close_code, "");
            drop_link(c, PT_EIO, reason);
            return;
        }
        }
    }
    if (c->link && c->ring_count == c->ring_cap)
        c->held_ms = wss_now_ms(); /* stopped for the host: see keeper_main */
}

/* ---- The keeper thread --------------------------------------------------- */

static int64_t jittered(int64_t ms)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)wss_now_ms();
    /* 75%..125% of the nominal delay, so many daemons do not redial in step. */
    return ms * 3 / 4 + (int64_t)(r % (uint32_t)(ms / 2 + 1));
}

static void reconnect(pt_conn *c, int64_t *backoff)
{
    char err[PT_ERRMSG_MAX];
    wss_link *l = NULL;
    int64_t delay = jittered(*backoff);

    ptu_diag_log(&c->diag, PT_LOG_INFO, "wss: reconnecting in %lld ms", (long long)delay);
    wait_fd(c, -1, 0, -1, (int)delay);
    if (is_closed(c))
        return;
    int rc = wss_link_dial(&c->cfg, &c->id, *c->ca_path ? c->ca_path : NULL, c->close_fd,
                           wss_now_ms() + (int64_t)c->cfg.dial_timeout_ms, &l, err, sizeof err);
    if (rc != PT_OK) {
        if (!is_closed(c))
            ptu_diag_fail(&c->diag, rc, "wss: reconnect failed: %s", err);
        *backoff = *backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff * 2;
        return;
    }
    pthread_mutex_lock(&c->lock);
    if (is_closed(c)) {
        pthread_mutex_unlock(&c->lock);
        wss_link_free(l);
        return;
    }
    c->link = l;
    c->gen++;
    c->state = PT_STATE_CONNECTED;
    c->last_rx_ms = wss_now_ms();
    set_epoll_sock(c, wss_link_socket(l));
    ptu_counters_bump(&c->n.reconnects);
    /* Readers: poll the new socket.  The next recv consumes this wake-up
     * (rx_kicked), so poll_fd does not stay readable with nothing to read. */
    signal_fd(c->rx_fd);
    c->rx_kicked = 1;
    pthread_mutex_unlock(&c->lock);
    *backoff = BACKOFF_FIRST_MS;
    ptu_diag_log(&c->diag, PT_LOG_INFO, "wss: reconnected to %s", c->cfg.host);
}

static void *keeper_main(void *arg)
{
    pt_conn *c = arg;
    int64_t backoff = BACKOFF_FIRST_MS;
    char why[PT_ERRMSG_MAX];

    while (!is_closed(c)) {
        pthread_mutex_lock(&c->lock);
        if (c->state == PT_STATE_RECONNECTING) {
            pthread_mutex_unlock(&c->lock);
            drain_fd(c->keeper_fd);
            reconnect(c, &backoff);
            continue;
        }
        int64_t now = wss_now_ms(), deadline;
        /* While the ring is full nothing is read (the host is behind), so
         * a pong cannot be seen, and frames waiting in the link show it
         * alive: no half-open verdict then.  The pong deadline runs from
         * the last moment the ring was full (pump and recv note it too),
         * so a host that reads again has pong-timeout to reach the pong
         * behind its backlog.  A ping every idle-ping still tells the
         * beacon that we are here (it drops silent peers). */
        int held = c->ring_count == c->ring_cap;
        if (held) {
            c->held_ms = now;
            if (c->ping_outstanding && now - c->ping_sent_ms >= (int64_t)c->cfg.idle_ping_ms)
                c->ping_outstanding = 0; /* its pong waits behind unread frames: ping again */
        }
        int64_t pong_from = c->ping_sent_ms > c->held_ms ? c->ping_sent_ms : c->held_ms;
        if (c->ping_outstanding && now - pong_from >= (int64_t)c->cfg.pong_timeout_ms) {
            /* Half-open: the beacon stopped answering. */
            send_close_frame(c, 1008, "idle ping timeout");
            drop_link(c, PT_ETIMEDOUT, "no pong within the deadline (idle ping timeout)");
            pthread_mutex_unlock(&c->lock);
            continue;
        }
        if (!c->ping_outstanding && now - c->last_rx_ms >= (int64_t)c->cfg.idle_ping_ms) {
            /* The pong deadline runs from now even when the ping cannot go
             * out yet (a send stuck in a full socket): a link that cannot
             * carry the ping is just as half-open (SPEC 2.7). */
            c->ping_pending = 1;
            c->ping_outstanding = 1;
            c->ping_sent_ms = now;
        }
        if (c->readers == 0)
            pump(c, NULL); /* nobody else reads: see pongs, queue data */
        if (c->link && c->writers > 0)
            queue_control(c); /* the writer's flush carries them */
        else if (c->link && push_out(c, why, sizeof why) < 0)
            drop_link(c, PT_EIO, why);
        if (!c->link) {
            pthread_mutex_unlock(&c->lock);
            continue;
        }
        deadline = !c->ping_outstanding ? c->last_rx_ms + (int64_t)c->cfg.idle_ping_ms
                   : held ? c->ping_sent_ms + (int64_t)c->cfg.idle_ping_ms
                          : pong_from + (int64_t)c->cfg.pong_timeout_ms;
        short events = 0;
        /* Only a pong is waited for; other reading is recv's, or the tick's. */
        if (c->readers == 0 && c->ping_outstanding && c->ring_count < c->ring_cap)
            events |= POLLIN;
        if (c->writers == 0 &&
            (wss_link_queued(c->link) || c->pong_pending || c->ping_pending))
            events |= POLLOUT;
        int sock = wss_link_socket(c->link);
        pthread_mutex_unlock(&c->lock);

        int64_t left = deadline - wss_now_ms();
        if (left < 0)
            left = 0;
        /* Bounded: the tick that reads for a host outside recv, and
         * notices a change of readers or writers without a wake-up. */
        if (left > 1000)
            left = 1000;
        wait_fd(c, events ? sock : -1, events, c->keeper_fd, (int)left);
        drain_fd(c->keeper_fd);
    }
    return NULL;
}

/* ---- The ABI ------------------------------------------------------------- */

static void conn_destroy(pt_conn *c)
{
    if (c->link)
        wss_link_free(c->link);
    /* c->ring is NULL when its calloc failed (ring_cap is already set). */
    for (size_t i = 0; c->ring && i < c->ring_cap; i++)
        free(c->ring[i].buf);
    free(c->ring);
    if (c->epoll_fd >= 0)
        close(c->epoll_fd);
    if (c->close_fd >= 0)
        close(c->close_fd);
    if (c->rx_fd >= 0)
        close(c->rx_fd);
    if (c->keeper_fd >= 0)
        close(c->keeper_fd);
    if (c->roots_fd >= 0)
        close(c->roots_fd);
    pthread_mutex_destroy(&c->lock);
    ptu_diag_destroy(&c->diag);
    wss_config_free(&c->cfg);
    ptu_wipe(c, sizeof *c); /* key, proxy password */
    free(c);
}

static int wss_dial(const pt_dial_params *p, pt_conn **out, char *err, size_t errlen)
{
    pt_conn *c;
    int rc;
    struct epoll_event ev;

    if (!out)
        return ptu_err(err, errlen, PT_EINVAL, "wss dial: out is NULL");
    *out = NULL;
    if (!p || !PT_HAS_FIELD(p, pt_dial_params, log_level))
        return ptu_err(err, errlen, PT_EINVAL, "wss dial: missing or too small dial parameters");
    if (!p->identity || !p->identity->has_key)
        return ptu_err(err, errlen, PT_EINVAL,
                       "wss dial: an identity key is required (-identity FILE)");
    if (p->identity->node_id == 0)
        return ptu_err(err, errlen, PT_EINVAL, "wss dial: a node id is required (-node-id N)");

    c = calloc(1, sizeof *c);
    if (!c)
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");
    c->close_fd = c->rx_fd = c->keeper_fd = c->epoll_fd = c->roots_fd = c->epoll_sock = -1;
    pthread_mutex_init(&c->lock, NULL);
    ptu_diag_init(&c->diag, p);
    rc = wss_config_parse(p->options, p->n_options, &c->cfg, err, errlen);
    if (rc != PT_OK)
        goto fail;
    c->id = *p->identity;

    c->ring_cap = c->cfg.recv_buffer;
    c->ring = calloc(c->ring_cap, sizeof *c->ring);
    c->close_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->rx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->keeper_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (!c->ring || c->close_fd < 0 || c->rx_fd < 0 || c->keeper_fd < 0 || c->epoll_fd < 0) {
        rc = ptu_err(err, errlen, c->ring ? PT_EIO : PT_ENOMEM, "wss dial: %s",
                     c->ring ? strerror(errno) : "out of memory");
        goto fail;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = c->close_fd;
    epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->close_fd, &ev);
    ev.data.fd = c->rx_fd;
    epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->rx_fd, &ev);

    if (*c->cfg.ca_file) {
        snprintf(c->ca_path, sizeof c->ca_path, "%s", c->cfg.ca_file);
    } else if (c->cfg.trust == WSS_TRUST_PINNED) {
        if (wss_roots_memfile(&c->roots_fd, c->ca_path, sizeof c->ca_path, err, errlen) != 0) {
            rc = PT_EIO;
            goto fail;
        }
    }

    rc = wss_link_dial(&c->cfg, &c->id, *c->ca_path ? c->ca_path : NULL, -1,
                       wss_now_ms() + (int64_t)c->cfg.dial_timeout_ms, &c->link, err, errlen);
    if (rc != PT_OK)
        goto fail;
    c->state = PT_STATE_CONNECTED;
    c->last_rx_ms = wss_now_ms();
    set_epoll_sock(c, wss_link_socket(c->link));
    if (pthread_create(&c->keeper, NULL, keeper_main, c) != 0) {
        rc = ptu_err(err, errlen, PT_EIO, "wss dial: cannot start the keeper thread");
        goto fail;
    }
    c->keeper_started = 1;
    ptu_diag_log(&c->diag, PT_LOG_INFO, "wss: connected to %s:%u as node %u", c->cfg.host,
                 (unsigned)c->cfg.port, (unsigned)c->id.node_id);
    *out = c;
    return PT_OK;

fail:
    conn_destroy(c);
    return rc;
}

/* The send queue holds at most this many data frames of one call, so
 * send_many can tell exactly which frames were written when a link dies. */
#define BATCH_MAX 1024

/* Queue and write frames[0..n) in order, waiting for socket room without
 * the lock.  Returns n, or when the link fails part way the number of
 * frames wholly written before it (the rest were not sent), or the error
 * if none was: PT_ERECONNECTING or PT_ECLOSED. */
static int send_frames(pt_conn *c, const pt_frame *f, size_t n)
{
    char why[PT_ERRMSG_MAX];
    /* Frame i is on the wire once written >= end[i % BATCH_MAX]. */
    uint64_t end[BATCH_MAX];
    size_t queued = 0, confirmed = 0;
    int rc;

    pthread_mutex_lock(&c->lock);
    if (c->state != PT_STATE_CONNECTED) {
        pthread_mutex_unlock(&c->lock);
        return is_closed(c) ? PT_ECLOSED : PT_ERECONNECTING;
    }
    uint64_t gen = c->gen;
    c->writers++;
    for (;;) {
        int qrc = PT_OK;
        while (queued < n && queued - confirmed < BATCH_MAX) {
            qrc = wss_link_queue(c->link, WSS_MSG_BINARY, f[queued].data, f[queued].len);
            if (qrc != PT_OK)
                break;
            end[queued % BATCH_MAX] = wss_link_written(c->link) + wss_link_queued(c->link);
            queued++;
        }
        if (qrc < 0) { /* checked sizes: only a failed getrandom gets here */
            drop_link(c, PT_EIO, "no masking key: getrandom failed");
            break;
        }
        rc = push_out(c, why, sizeof why);
        while (confirmed < queued && wss_link_written(c->link) >= end[confirmed % BATCH_MAX])
            ptu_counters_out(&c->n, f[confirmed++].len);
        if (rc == PT_OK && confirmed == n)
            break;
        if (rc < 0) {
            drop_link(c, PT_EIO, why);
            break;
        }
        if (rc == WSS_AGAIN) {
            /* Socket full: wait for room without the lock, so the reader
             * and the keeper carry on. */
            int sock = wss_link_socket(c->link);
            pthread_mutex_unlock(&c->lock);
            wait_fd(c, sock, POLLOUT, -1, WAIT_RECHECK_MS);
            pthread_mutex_lock(&c->lock);
            if (c->gen != gen || c->state != PT_STATE_CONNECTED)
                break;
        }
    }
    c->writers--;
    pthread_mutex_unlock(&c->lock);
    if (confirmed > 0)
        return (int)confirmed;
    return is_closed(c) ? PT_ECLOSED : PT_ERECONNECTING;
}

/* What send and send_many refuse before queueing anything. */
static int check_frame(pt_conn *c, const void *buf, size_t len, const char *fn)
{
    if (!buf && len)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "wss %s: no buffer", fn);
    if (len > PT_MAX_FRAME)
        return ptu_diag_fail(&c->diag, PT_ETOOLARGE, "wss %s: %zu bytes is over the %d-byte limit",
                             fn, len, PT_MAX_FRAME);
    return PT_OK;
}

static int wss_send(pt_conn *c, const void *buf, size_t len, const pt_addr *dst)
{
    pt_frame f = { buf, len, dst }; /* dst: every frame goes to the beacon */
    int rc;
    if (!c)
        return PT_EINVAL;
    if (is_closed(c))
        return PT_ECLOSED;
    if ((rc = check_frame(c, buf, len, "send")) != PT_OK)
        return rc;
    rc = send_frames(c, &f, 1);
    return rc == 1 ? (int)len : rc;
}

static int wss_send_many(pt_conn *c, const pt_frame *frames, size_t n)
{
    int rc;
    if (!c || (!frames && n) || n > INT_MAX)
        return PT_EINVAL;
    if (is_closed(c))
        return PT_ECLOSED;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((rc = check_frame(c, frames[i].data, frames[i].len, "send_many")) != PT_OK)
            return rc; /* nothing was sent */
    return send_frames(c, frames, n);
}

static int wss_recv(pt_conn *c, void *buf, size_t cap, pt_addr *src, int timeout_ms)
{
    int64_t deadline = timeout_ms > 0 ? wss_now_ms() + timeout_ms : 0;
    int rc;

    if (!c)
        return PT_EINVAL;
    if (!buf && cap)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "wss recv: no buffer");
    pthread_mutex_lock(&c->lock);
    c->readers++;
    for (;;) {
        if (is_closed(c)) {
            rc = PT_ECLOSED;
            break;
        }
        if (c->rx_kicked) { /* a reconnect's wake-up reached a reader */
            c->rx_kicked = 0;
            if (c->ring_count == 0)
                drain_fd(c->rx_fd);
        }
        if (c->ring_count > 0) {
            struct slot *s = &c->ring[c->ring_head];
            struct direct d = { buf, cap, NO_FRAME };
            wss_msg m = { .kind = WSS_MSG_BINARY, .data = s->buf, .len = s->len };
            if (c->ring_count == c->ring_cap)
                c->held_ms = wss_now_ms(); /* the host reads again from here */
            c->ring_head = (c->ring_head + 1) % c->ring_cap;
            if (--c->ring_count == 0)
                drain_fd(c->rx_fd);
            deliver(c, &d, &m);
            rc = d.len;
            break;
        }
        /* After a read found nothing, wait for the socket before reading
         * again (a poll, 0 ms, always reads). */
        if (c->state == PT_STATE_CONNECTED && (!c->rx_drained || timeout_ms == 0)) {
            struct direct d = { buf, cap, NO_FRAME };
            pump(c, &d);
            if (d.len != NO_FRAME) {
                rc = d.len;
                break;
            }
        }
        int wait_ms;
        if (timeout_ms == 0) {
            rc = PT_ETIMEDOUT;
            break;
        } else if (timeout_ms < 0) {
            wait_ms = -1;
        } else {
            int64_t left = deadline - wss_now_ms();
            if (left <= 0) {
                rc = PT_ETIMEDOUT;
                break;
            }
            wait_ms = (int)left;
        }
        /* While reconnecting there is no socket: rx_fd says when there is. */
        int sock = c->link ? wss_link_socket(c->link) : -1;
        pthread_mutex_unlock(&c->lock);
        int rx_signal = wait_fd(c, sock, POLLIN, c->rx_fd, wait_ms);
        pthread_mutex_lock(&c->lock);
        c->rx_drained = 0; /* something may have come: read again */
        if (rx_signal && c->ring_count == 0) {
            drain_fd(c->rx_fd); /* a reconnect signal, consumed */
            c->rx_kicked = 0;
        }
    }
    if (rc >= 0 && src)
        ptu_addr_ipv4(src, 192, 0, 2, 2, 0); /* the synthetic beacon */
    c->readers--;
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static int wss_close(pt_conn *c)
{
    if (!c)
        return PT_EINVAL;
    if (atomic_exchange_explicit(&c->closed, 1, memory_order_acq_rel))
        return PT_OK;
    signal_fd(c->close_fd); /* wakes recv, send, the keeper and a redial */
    pthread_mutex_lock(&c->lock);
    if (c->state == PT_STATE_CONNECTED)
        send_close_frame(c, 1000, "");
    c->state = PT_STATE_CLOSED;
    pthread_mutex_unlock(&c->lock);
    ptu_diag_log(&c->diag, PT_LOG_INFO, "wss: closed");
    return PT_OK;
}

static int wss_local_addr(pt_conn *c, pt_addr *out)
{
    if (!c || !out)
        return PT_EINVAL;
    ptu_addr_ipv4(out, 192, 0, 2, 1, 0); /* synthetic (SPEC 2 defaults) */
    return PT_OK;
}

static int wss_poll_fd(pt_conn *c)
{
    return c ? c->epoll_fd : PT_EINVAL;
}

static int wss_stats(pt_conn *c, pt_stats *out)
{
    int state;
    if (!c)
        return PT_EINVAL;
    pthread_mutex_lock(&c->lock);
    state = c->state;
    pthread_mutex_unlock(&c->lock);
    return ptu_counters_report(&c->n, state, ptu_diag_code(&c->diag), out);
}

static int wss_last_error(pt_conn *c, char *buf, size_t len)
{
    return c ? ptu_diag_get(&c->diag, buf, len) : PT_EINVAL;
}

static void wss_free(pt_conn *c)
{
    if (!c)
        return;
    wss_close(c);
    if (c->keeper_started)
        pthread_join(c->keeper, NULL);
    conn_destroy(c);
}

static const pt_plugin wss_plugin = {
    .struct_size = sizeof(pt_plugin),
    .abi_major = PT_ABI_MAJOR,
    .abi_minor = PT_ABI_MINOR,
    .name = "wss",
    .version = PACKAGE_VERSION,
    .description = "Pilot compat mode: datagrams over one WebSocket Secure link to the beacon",
    .options = wss_config_options,
    .dial = wss_dial,
    .send = wss_send,
    .recv = wss_recv,
    .close = wss_close,
    .local_addr = wss_local_addr,
    .poll_fd = wss_poll_fd,
    .stats = wss_stats,
    .last_error = wss_last_error,
    .free = wss_free,
    .send_many = wss_send_many,
};

static pthread_mutex_t curl_init_lock = PTHREAD_MUTEX_INITIALIZER;
static int curl_ok;

PT_EXPORT const pt_plugin *PT_ENTRY(void);
PT_EXPORT const pt_plugin *PT_ENTRY(void)
{
    /* libcurl's global state is set up once and never torn down: the
     * plugin stays resident (RTLD_NODELETE).  curl_global_init is
     * thread-safe in libcurl >= 7.84. */
    int ok;
    pthread_mutex_lock(&curl_init_lock);
    if (!curl_ok) /* a failure (out of memory) is tried again next time */
        curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    ok = curl_ok;
    pthread_mutex_unlock(&curl_init_lock);
    return ok ? &wss_plugin : NULL;
}
