/*
 * keeper_thread.c -- the keeper thread: what one WSS connection needs that
 * has no caller.  It carries out the keeper's decisions (keeper.h: the
 * idle ping, the keep-alive, the half-open verdict, the redial with
 * backoff) and reads on behalf of a host that is not in recv, so that
 * pongs are seen.
 */
#include "config.h"

#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/random.h>

#include "conn.h"
#include "keeper.h"
#include "util.h"

/* The longest the keeper waits: the tick that reads for a host outside
 * recv and notices a change of readers or writers without a wake-up. */
#define TICK_MS 1000

static int64_t jittered(int64_t ms)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)ptu_now_ms();
    return wss_keeper_jitter(ms, r);
}

/* Wait out the backoff (nominal ms), dial, and install the new link. */
static void reconnect(pt_conn *c, int64_t backoff)
{
    char err[PT_ERRMSG_MAX];
    wss_link *l = NULL;
    int64_t delay = jittered(backoff);

    ptu_diag_log(&c->diag, PT_LOG_INFO, "wss: reconnecting in %lld ms", (long long)delay);
    wss_conn_wait(c, -1, 0, -1, (int)delay);
    if (wss_conn_closed(c))
        return;
    int rc = wss_link_dial(&c->dialer, &c->signer, c->close_fd,
                           ptu_now_ms() + (int64_t)c->cfg.dial_timeout_ms, &l, err, sizeof err);
    if (rc != PT_OK) {
        if (!wss_conn_closed(c))
            ptu_diag_fail(&c->diag, rc, "wss: reconnect failed: %s", err);
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
    wss_keeper_link_up(&c->keep, ptu_now_ms());
    wss_conn_set_epoll_sock(c, wss_link_socket(l));
    ptu_counters_bump(&c->n.reconnects);
    /* Readers: poll the new socket.  The next recv consumes this wake-up
     * (rx_kicked), so poll_fd does not stay readable with nothing to read. */
    c->rx_kicked = 1;
    wss_conn_rx_update(c);
    pthread_mutex_unlock(&c->lock);
    ptu_diag_log(&c->diag, PT_LOG_INFO, "wss: reconnected to %s", c->cfg.host);
}

void *wss_keeper_main(void *arg)
{
    pt_conn *c = arg;
    char why[PT_ERRMSG_MAX];

    while (!wss_conn_closed(c)) {
        /* Log, with the lock not held, what the last round recorded. */
        ptu_diag_repeat_tick(&c->diag, &c->drops, ptu_now_ms(), 0);
        ptu_diag_flush(&c->diag);
        pthread_mutex_lock(&c->lock);
        int behind = wss_ring_full(&c->ring);
        wss_keeper_step st = wss_keeper_next(&c->keep, ptu_now_ms(), behind);
        switch (st.action) {
        case WSS_KEEPER_REDIAL: {
            int64_t backoff = wss_keeper_redial_backoff(&c->keep);
            pthread_mutex_unlock(&c->lock);
            if (wss_conn_closed(c)) /* close() ends the reconnect loop */
                continue;
            wss_conn_drain_fd(c->keeper_fd);
            reconnect(c, backoff);
            continue;
        }
        case WSS_KEEPER_DROP:
            /* Half-open: the beacon stopped answering. */
            wss_conn_send_close(c, 1008, "idle ping timeout");
            wss_conn_drop_link(c, PT_ETIMEDOUT, "no pong within the deadline (idle ping timeout)");
            pthread_mutex_unlock(&c->lock);
            continue;
        case WSS_KEEPER_PING:
            c->ping_pending = 1; /* queued below, or by a writer's flush */
            break;
        case WSS_KEEPER_KEEPALIVE:
            c->keepalive_pending = 1; /* likewise */
            break;
        case WSS_KEEPER_WAIT:
            break;
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
        /* Again: the pump may have seen a pong or new frames. */
        int64_t deadline = wss_keeper_deadline(&c->keep, behind);
        short events = 0;
        /* Only a pong is waited for; other reading is recv's, or the tick's. */
        if (c->readers == 0 && c->keep.state == WSS_KEEPER_AWAITING_PONG &&
            !wss_ring_full(&c->ring))
            events |= POLLIN;
        if (c->writers == 0 &&
            (wss_link_queued(c->link) || c->pong_pending || c->ping_pending ||
             c->keepalive_pending))
            events |= POLLOUT;
        int sock = wss_link_socket(c->link);
        pthread_mutex_unlock(&c->lock);
        ptu_diag_flush(&c->diag);

        int64_t left = deadline - ptu_now_ms();
        if (left < 0)
            left = 0;
        if (left > TICK_MS)
            left = TICK_MS;
        wss_conn_wait(c, events ? sock : -1, events, c->keeper_fd, (int)left);
        wss_conn_drain_fd(c->keeper_fd);
    }
    return NULL;
}
