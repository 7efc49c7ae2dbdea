/*
 * wss.c -- the WSS transport plugin: Pilot compat mode (SPEC 2).  The ABI
 * entry points (dial, send, send_many, recv, recv_many, close,
 * local_addr, poll_fd, stats, last_error, free; probe is probe.c's), the
 * descriptor and its entry symbol.  What
 * they share with the keeper thread, and the code that reads and writes
 * the link under the connection lock, is in conn.c.
 *
 * send_many queues every frame that fits before writing, so frames that
 * are ready together leave in one TLS write.
 *
 * recv reads the link itself: the first message is copied straight into
 * the caller's buffer (recv_many: the first n, into its slots, after what
 * the ring holds), and reading stops there: what the link holds behind it
 * (several messages arrive in one TLS record, several records in one
 * read) stays in the link's buffers, where the next recv decodes it with
 * no copy in between.  The ring (ring.c) holds what the keeper read for a
 * host that stayed out of recv (it reads only then, so it never competes
 * with a reading host for the lock), and what a dropped link had
 * delivered.  Messages in the ring or whole in the link have nothing on
 * the socket to show them: rx_fd stays readable for them
 * (wss_conn_rx_update), so poll_fd polls readable whenever recv(..., 0)
 * would return a frame.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "addr.h"
#include "auth.h"
#include "conn.h"
#include "curl_mem.h"
#include "pilot_transport.h"
#include "probe.h"
#include "roots.h"
#include "trim.h"
#include "util.h"

/* How long a thread waiting for socket room sleeps before re-checking that
 * its link is still the current one (a drop frees the link under it). */
#define WAIT_RECHECK_MS 100

/* ---- Giving freed memory back --------------------------------------------- */

/* When and why malloc_trim runs: trim.h. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static wss_trim live;

static void live_up(void)
{
    pthread_mutex_lock(&live_lock);
    wss_trim_up(&live);
    pthread_mutex_unlock(&live_lock);
}

static void live_down(void)
{
    pthread_mutex_lock(&live_lock);
    int trim = wss_trim_down(&live);
    pthread_mutex_unlock(&live_lock);
#ifdef HAVE_MALLOC_TRIM
    if (trim)
        malloc_trim(0);
#else
    (void)trim;
#endif
}

/* ---- The ABI ------------------------------------------------------------- */

static void conn_destroy(pt_conn *c)
{
    if (c->link) {
        shutdown(wss_link_socket(c->link), SHUT_RDWR); /* close() shut the write side */
        wss_link_free(c->link);
    }
    wss_dialer_free(&c->dialer); /* after the link: its handle uses the session cache */
    wss_ring_free(&c->ring);
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

/* Who signs the auth: the host's signer when params has one (ABI 1.2),
 * else its identity.  Checks what dial needs of either; *signer is NULL
 * for the identity.  PT_OK or PT_EINVAL. */
static int check_credentials(const pt_dial_params *p, const pt_signer **signer, char *err,
                             size_t errlen)
{
    const pt_signer *s = PT_HAS_FIELD(p, pt_dial_params, signer) ? p->signer : NULL;
    *signer = s;
    if (s) { /* identity, if also given, is not even read */
        if (s->struct_size < PT_SIGNER_SIZE_1_2)
            return ptu_err(err, errlen, PT_EINVAL,
                           "wss dial: signer struct_size is %u, under the %zu bytes of ABI "
                           "1.2's pt_signer (set it to sizeof(pt_signer))",
                           (unsigned)s->struct_size, (size_t)PT_SIGNER_SIZE_1_2);
        if (!s->sign)
            return ptu_err(err, errlen, PT_EINVAL, "wss dial: the signer has no sign function");
        if (s->node_id == 0)
            return ptu_err(err, errlen, PT_EINVAL,
                           "wss dial: a node id is required (the signer's node_id is 0)");
        return PT_OK;
    }
    if (!p->identity || !p->identity->has_key)
        return ptu_err(err, errlen, PT_EINVAL,
                       "wss dial: an identity key is required (-identity FILE)");
    if (p->identity->node_id == 0)
        return ptu_err(err, errlen, PT_EINVAL, "wss dial: a node id is required (-node-id N)");
    return wss_auth_check_identity(p->identity, err, errlen);
}

/* Every code and state this plugin returns is defined since ABI 1.0
 * (pilot_transport.h), so a host of any minor gets them unmapped; the
 * host's abi_minor decides only whether cancel_fd is read. */
static int wss_dial(const pt_dial_params *p, pt_conn **out, char *err, size_t errlen)
{
    pt_conn *c;
    const pt_signer *signer;
    int rc;
    struct epoll_event ev;

    if (!out)
        return ptu_err(err, errlen, PT_EINVAL, "wss dial: out is NULL");
    *out = NULL;
    if (!p || !PT_HAS_FIELD(p, pt_dial_params, log_level))
        return ptu_err(err, errlen, PT_EINVAL, "wss dial: missing or too small dial parameters");
    rc = check_credentials(p, &signer, err, errlen);
    if (rc != PT_OK)
        return rc;
    int cancel_fd = wss_dialer_cancel_fd(p);

    c = calloc(1, sizeof *c);
    if (!c)
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");
    c->close_fd = c->rx_fd = c->keeper_fd = c->epoll_fd = c->roots_fd = c->epoll_sock = -1;
    pthread_mutex_init(&c->lock, NULL);
    ptu_diag_init(&c->diag, p);
    ptu_diag_repeat_init(&c->drops, "wss: inbound frames dropped");
    rc = wss_config_parse(p->options, p->n_options, &c->cfg, err, errlen);
    if (rc != PT_OK)
        goto fail;
    if (signer) {
        memcpy(&c->signer, signer, sizeof c->signer); /* its struct_size covers it */
    } else {
        c->id = *p->identity;
        wss_auth_identity_signer(&c->id, &c->signer);
    }
    wss_keeper_init(&c->keep, (int64_t)c->cfg.idle_ping_ms, (int64_t)c->cfg.pong_timeout_ms);

    wss_ring_init(&c->ring, c->cfg.recv_buffer);
    c->close_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->rx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->keeper_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (c->close_fd < 0 || c->rx_fd < 0 || c->keeper_fd < 0 || c->epoll_fd < 0) {
        rc = ptu_err(err, errlen, PT_EIO, "wss dial: %s", strerror(errno));
        goto fail;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = c->close_fd;
    epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->close_fd, &ev);
    ev.data.fd = c->rx_fd;
    epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->rx_fd, &ev);

    /* What libcurl loads: the ca-file, the pinned roots' memfd, or (NULL)
     * the system's store. */
    const char *ca_path = NULL;
    if (*c->cfg.ca_file) {
        ca_path = c->cfg.ca_file;
    } else if (c->cfg.trust == WSS_TRUST_PINNED) {
        if (wss_roots_memfile(&c->roots_fd, c->roots_path, sizeof c->roots_path, err, errlen) != 0) {
            rc = PT_EIO;
            goto fail;
        }
        ca_path = c->roots_path;
    }

    rc = wss_dialer_init(&c->dialer, &c->cfg, ca_path, &c->diag, err, errlen);
    if (rc != PT_OK)
        goto fail;
    rc = wss_link_dial(&c->dialer, &c->signer, cancel_fd,
                       ptu_now_ms() + (int64_t)c->cfg.dial_timeout_ms, &c->link, err, errlen);
    if (rc != PT_OK)
        goto fail;
    c->state = PT_STATE_CONNECTED;
    wss_keeper_link_up(&c->keep, ptu_now_ms());
    wss_conn_set_epoll_sock(c, wss_link_socket(c->link));
    wss_conn_rx_update(c); /* frames that came with auth_ok are in the link already */
    if (pthread_create(&c->keeper, NULL, wss_keeper_main, c) != 0) {
        rc = ptu_err(err, errlen, PT_EIO, "wss dial: cannot start the keeper thread");
        goto fail;
    }
    c->keeper_started = 1;
    c->counted = 1;
    live_up();
    ptu_diag_log(&c->diag, PT_LOG_INFO, "wss: connected to %s:%u as node %u", c->cfg.host,
                 (unsigned)c->cfg.port, (unsigned)c->signer.node_id);
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
        return wss_conn_closed(c) ? PT_ECLOSED : PT_ERECONNECTING;
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
            wss_conn_drop_link(c, PT_EIO, "no masking key: getrandom failed");
            break;
        }
        rc = wss_conn_push_out(c, why, sizeof why);
        size_t before = confirmed;
        while (confirmed < queued && wss_link_written(c->link) >= end[confirmed % BATCH_MAX])
            ptu_counters_out(&c->n, f[confirmed++].len);
        if (confirmed > before) /* the beacon heard from us: no keep-alive due */
            wss_keeper_sent(&c->keep, ptu_now_ms());
        if (rc == PT_OK && confirmed == n)
            break;
        if (rc < 0) {
            wss_conn_drop_link(c, PT_EIO, why);
            break;
        }
        if (rc == WSS_AGAIN) {
            /* Socket full: wait for room without the lock, so the reader
             * and the keeper carry on. */
            int sock = wss_link_socket(c->link);
            pthread_mutex_unlock(&c->lock);
            wss_conn_wait(c, sock, POLLOUT, -1, WAIT_RECHECK_MS);
            pthread_mutex_lock(&c->lock);
            if (c->gen != gen || c->state != PT_STATE_CONNECTED)
                break;
        }
    }
    c->writers--;
    pthread_mutex_unlock(&c->lock);
    ptu_diag_flush(&c->diag); /* what happened under the lock: a drop */
    if (confirmed > 0)
        return (int)confirmed;
    return wss_conn_closed(c) ? PT_ECLOSED : PT_ERECONNECTING;
}

/* What send and send_many refuse before queueing anything. */
static int check_frame(pt_conn *c, const void *buf, size_t len, const char *fn)
{
    if (!buf)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "wss %s: no buffer", fn);
    if (len == 0)
        return ptu_diag_fail(&c->diag, PT_EINVAL,
                             "wss %s: an empty datagram (len 0): datagrams are 1 byte at least",
                             fn);
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
    if (wss_conn_closed(c))
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
    if (wss_conn_closed(c))
        return PT_ECLOSED;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((rc = check_frame(c, frames[i].data, frames[i].len, "send_many")) != PT_OK)
            return rc; /* nothing was sent */
    return send_frames(c, frames, n);
}

/* recv and recv_many: wait up to timeout_ms (without the lock) for the
 * first datagram, then take what is ready -- from the ring, then (one
 * pump) from the link -- into f[0..n), all under one hold of the lock.
 * Returns how many slots were filled, or PT_ETIMEDOUT or PT_ECLOSED. */
static int recv_frames(pt_conn *c, pt_rframe *f, size_t n, int timeout_ms)
{
    int64_t deadline = timeout_ms > 0 ? ptu_now_ms() + timeout_ms : 0;
    struct wss_conn_direct d = { f, n, 0 };
    int rc;

    pthread_mutex_lock(&c->lock);
    c->readers++;
    for (;;) {
        if (wss_conn_closed(c)) {
            rc = PT_ECLOSED;
            break;
        }
        if (c->rx_kicked) { /* a reconnect's wake-up reached a reader */
            c->rx_kicked = 0;
            wss_conn_rx_update(c);
        }
        if (!wss_ring_empty(&c->ring)) {
            if (wss_ring_full(&c->ring))
                wss_keeper_behind(&c->keep, ptu_now_ms()); /* the host reads again */
            while (d.filled < n && !wss_ring_empty(&c->ring)) {
                wss_msg m = { .kind = WSS_MSG_BINARY };
                m.data = wss_ring_peek(&c->ring, &m.len);
                wss_conn_deliver(c, &d, &m);
                wss_ring_pop(&c->ring);
            }
            /* Slots to spare and the ring empty: what the link holds
             * behind it is newer, and ready too. */
            if (d.filled < n && c->state == PT_STATE_CONNECTED && !c->rx_drained)
                wss_conn_pump(c, &d);
            wss_conn_rx_update(c); /* more in the ring or the link: stays readable */
            rc = (int)d.filled;
            break;
        }
        /* After a read found nothing, wait for the socket before reading
         * again (a poll, 0 ms, always reads). */
        if (c->state == PT_STATE_CONNECTED && (!c->rx_drained || timeout_ms == 0)) {
            wss_conn_pump(c, &d);
            wss_conn_rx_update(c);
            if (d.filled > 0) {
                rc = (int)d.filled;
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
            int64_t left = deadline - ptu_now_ms();
            if (left <= 0) {
                rc = PT_ETIMEDOUT;
                break;
            }
            wait_ms = (int)left;
        }
        /* While reconnecting there is no socket: rx_fd says when there is. */
        int sock = c->link ? wss_link_socket(c->link) : -1;
        pthread_mutex_unlock(&c->lock);
        int rx_signal = wss_conn_wait(c, sock, POLLIN, c->rx_fd, wait_ms);
        pthread_mutex_lock(&c->lock);
        c->rx_drained = 0; /* something may have come: read again */
        if (rx_signal) {
            c->rx_kicked = 0; /* a reconnect signal, consumed */
            wss_conn_rx_update(c);
        }
    }
    c->readers--;
    pthread_mutex_unlock(&c->lock);
    ptu_diag_flush(&c->diag); /* a frame discarded, a drop */
    return rc;
}

static int wss_recv(pt_conn *c, void *buf, size_t cap, pt_addr *src, int timeout_ms)
{
    pt_rframe f = { .data = buf, .cap = cap };
    int rc;

    if (!c)
        return PT_EINVAL;
    if (!buf)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "wss recv: no buffer");
    rc = recv_frames(c, &f, 1, timeout_ms);
    if (rc < 0)
        return rc;
    if (f.len >= 0 && src)
        *src = f.src;
    return f.len; /* the datagram's length, or PT_ETOOLARGE */
}

static int wss_recv_many(pt_conn *c, pt_rframe *frames, size_t n, int timeout_ms)
{
    if (!c)
        return PT_EINVAL;
    if (!frames || n == 0 || n > INT_MAX)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "wss recv_many: %s",
                             !frames ? "no frames" : n == 0 ? "no slots (n is 0)"
                                                            : "more than INT_MAX slots");
    for (size_t i = 0; i < n; i++)
        if (!frames[i].data)
            return ptu_diag_fail(&c->diag, PT_EINVAL, "wss recv_many: slot %zu has no buffer",
                                 i);
    return recv_frames(c, frames, n, timeout_ms);
}

static int wss_close(pt_conn *c)
{
    if (!c)
        return PT_EINVAL;
    if (atomic_exchange_explicit(&c->closed, 1, memory_order_acq_rel))
        return PT_OK;
    wss_conn_signal_fd(c->close_fd); /* wakes recv, send, the keeper and a redial */
    pthread_mutex_lock(&c->lock);
    wss_conn_close_link(c); /* close 1000, a bounded wait for room */
    pthread_mutex_unlock(&c->lock);
    ptu_diag_repeat_tick(&c->diag, &c->drops, ptu_now_ms(), 1); /* the last drops counted */
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
    if (!c || (!buf && len))
        return PT_EINVAL;
    return ptu_diag_get(&c->diag, buf, len);
}

static void wss_free(pt_conn *c)
{
    if (!c)
        return;
    wss_close(c);
    if (c->keeper_started)
        pthread_join(c->keeper, NULL);
    /* Lines a reader or the keeper recorded after close. */
    ptu_diag_repeat_tick(&c->diag, &c->drops, ptu_now_ms(), 1);
    ptu_diag_flush(&c->diag);
    int counted = c->counted;
    conn_destroy(c);
    if (counted)
        live_down(); /* after its memory is freed, so a trim can return it */
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
    .recv_many = wss_recv_many,
    .probe = wss_probe,
};

static pthread_mutex_t curl_init_lock = PTHREAD_MUTEX_INITIALIZER;
static int curl_ok;

PT_EXPORT const pt_plugin *PT_ENTRY(void);
PT_EXPORT const pt_plugin *PT_ENTRY(void)
{
    /* libcurl's global state is set up once and never torn down: the
     * plugin stays resident (RTLD_NODELETE), and so do the memory
     * functions it gives libcurl (curl_mem.h).  curl_global_init is
     * thread-safe in libcurl >= 7.84. */
    int ok;
    pthread_mutex_lock(&curl_init_lock);
    if (!curl_ok) /* a failure (out of memory) is tried again next time */
        curl_ok = wss_curl_mem_init() == CURLE_OK;
    ok = curl_ok;
    pthread_mutex_unlock(&curl_init_lock);
    return ok ? &wss_plugin : NULL;
}
