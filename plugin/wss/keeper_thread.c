/*
 * keeper_thread.c -- the keeper thread: what one WSS connection needs that
 * has no caller.  The idle ping and its pong deadline, reading on behalf of
 * a host that is not in recv (so pongs are seen), and reconnecting with
 * backoff after a drop.
 */
#include "config.h"

#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/random.h>

#include "conn.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 30000

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
    wss_conn_wait(c, -1, 0, -1, (int)delay);
    if (wss_conn_closed(c))
        return;
    int rc = wss_link_dial(&c->cfg, &c->id, *c->ca_path ? c->ca_path : NULL, c->close_fd,
                           wss_now_ms() + (int64_t)c->cfg.dial_timeout_ms, &l, err, sizeof err);
    if (rc != PT_OK) {
        if (!wss_conn_closed(c))
            ptu_diag_fail(&c->diag, rc, "wss: reconnect failed: %s", err);
        *backoff = *backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff * 2;
        return;
    }
    pthread_mutex_lock(&c->lock);
    if (wss_conn_closed(c)) {
        pthread_mutex_unlock(&c->lock);
        wss_link_free(l);
        return;
    }
    c->link = l;
    c->gen++;
    c->state = PT_STATE_CONNECTED;
    c->last_rx_ms = wss_now_ms();
    wss_conn_set_epoll_sock(c, wss_link_socket(l));
    ptu_counters_bump(&c->n.reconnects);
    /* Readers: poll the new socket.  The next recv consumes this wake-up
     * (rx_kicked), so poll_fd does not stay readable with nothing to read. */
    wss_conn_signal_fd(c->rx_fd);
    c->rx_kicked = 1;
    pthread_mutex_unlock(&c->lock);
    *backoff = BACKOFF_FIRST_MS;
    ptu_diag_log(&c->diag, PT_LOG_INFO, "wss: reconnected to %s", c->cfg.host);
}

void *wss_keeper_main(void *arg)
{
    pt_conn *c = arg;
    int64_t backoff = BACKOFF_FIRST_MS;
    char why[PT_ERRMSG_MAX];

    while (!wss_conn_closed(c)) {
        pthread_mutex_lock(&c->lock);
        if (c->state == PT_STATE_RECONNECTING) {
            pthread_mutex_unlock(&c->lock);
            wss_conn_drain_fd(c->keeper_fd);
            reconnect(c, &backoff);
            continue;
        }
        int64_t now = wss_now_ms(), deadline;
        /* While the ring is full nothing is read (the host is behind), so
         * a pong cannot be seen, and frames waiting in the link show it
         * alive: no half-open verdict then.  The pong deadline runs from
         * the last moment the ring was full (wss_conn_pump and recv note it too),
         * so a host that reads again has pong-timeout to reach the pong
         * behind its backlog.  A ping every idle-ping still tells the
         * beacon that we are here (it drops silent peers). */
        int held = wss_ring_full(&c->ring);
        if (held) {
            c->held_ms = now;
            if (c->ping_outstanding && now - c->ping_sent_ms >= (int64_t)c->cfg.idle_ping_ms)
                c->ping_outstanding = 0; /* its pong waits behind unread frames: ping again */
        }
        int64_t pong_from = c->ping_sent_ms > c->held_ms ? c->ping_sent_ms : c->held_ms;
        if (c->ping_outstanding && now - pong_from >= (int64_t)c->cfg.pong_timeout_ms) {
            /* Half-open: the beacon stopped answering. */
            wss_conn_send_close(c, 1008, "idle ping timeout");
            wss_conn_drop_link(c, PT_ETIMEDOUT, "no pong within the deadline (idle ping timeout)");
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
            wss_conn_pump(c, NULL); /* nobody else reads: see pongs, queue data */
        if (c->link && c->writers > 0)
            wss_conn_queue_control(c); /* the writer's flush carries them */
        else if (c->link && wss_conn_push_out(c, why, sizeof why) < 0)
            wss_conn_drop_link(c, PT_EIO, why);
        if (!c->link) {
            pthread_mutex_unlock(&c->lock);
            continue;
        }
        deadline = !c->ping_outstanding ? c->last_rx_ms + (int64_t)c->cfg.idle_ping_ms
                   : held ? c->ping_sent_ms + (int64_t)c->cfg.idle_ping_ms
                          : pong_from + (int64_t)c->cfg.pong_timeout_ms;
        short events = 0;
        /* Only a pong is waited for; other reading is recv's, or the tick's. */
        if (c->readers == 0 && c->ping_outstanding && !wss_ring_full(&c->ring))
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
        wss_conn_wait(c, events ? sock : -1, events, c->keeper_fd, (int)left);
        wss_conn_drain_fd(c->keeper_fd);
    }
    return NULL;
}
