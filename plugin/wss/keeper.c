/* keeper.c -- the keeper's state machine (keeper.h). */
#include "config.h"

#include "keeper.h"

void wss_keeper_init(wss_keeper *k, int64_t idle_ping_ms, int64_t pong_timeout_ms)
{
    *k = (wss_keeper){ .state = WSS_KEEPER_RECONNECTING,
                       .idle_ping_ms = idle_ping_ms,
                       .pong_timeout_ms = pong_timeout_ms,
                       .backoff_ms = WSS_BACKOFF_FIRST_MS };
}

void wss_keeper_link_up(wss_keeper *k, int64_t now)
{
    k->state = WSS_KEEPER_IDLE;
    k->rx_ms = k->tx_ms = k->up_ms = now;
}

void wss_keeper_link_down(wss_keeper *k, int64_t now)
{
    /* A link dropped sooner (accepted, then closed) was no success: the
     * backoff keeps growing. */
    if (k->state != WSS_KEEPER_RECONNECTING && now - k->up_ms >= k->idle_ping_ms)
        k->backoff_ms = WSS_BACKOFF_FIRST_MS;
    k->state = WSS_KEEPER_RECONNECTING;
}

void wss_keeper_read(wss_keeper *k, int64_t now)
{
    k->rx_ms = now;
}

void wss_keeper_sent(wss_keeper *k, int64_t now)
{
    k->tx_ms = now;
}

void wss_keeper_pong(wss_keeper *k)
{
    if (k->state == WSS_KEEPER_AWAITING_PONG)
        k->state = WSS_KEEPER_IDLE;
}

void wss_keeper_behind(wss_keeper *k, int64_t now)
{
    k->behind_ms = now;
}

static int64_t later(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t sooner(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

int64_t wss_keeper_deadline(const wss_keeper *k, int ring_full)
{
    int64_t keepalive = k->tx_ms + k->idle_ping_ms;
    switch (k->state) {
    case WSS_KEEPER_IDLE:
        return sooner(k->rx_ms + k->idle_ping_ms, keepalive);
    case WSS_KEEPER_AWAITING_PONG:
        if (ring_full)
            return sooner(k->ping_ms + k->idle_ping_ms, keepalive);
        return sooner(later(k->ping_ms, k->behind_ms) + k->pong_timeout_ms, keepalive);
    case WSS_KEEPER_RECONNECTING:
        break;
    }
    return 0;
}

wss_keeper_step wss_keeper_next(wss_keeper *k, int64_t now, int ring_full)
{
    wss_keeper_step st = { WSS_KEEPER_WAIT, now };

    if (k->state == WSS_KEEPER_RECONNECTING) {
        st.action = WSS_KEEPER_REDIAL;
        return st;
    }
    if (ring_full) {
        k->behind_ms = now;
        /* Its pong waits behind frames the host has not read: ping again,
         * since the beacon drops peers it does not hear from. */
        if (k->state == WSS_KEEPER_AWAITING_PONG && now - k->ping_ms >= k->idle_ping_ms)
            k->state = WSS_KEEPER_IDLE;
    }
    if (k->state == WSS_KEEPER_AWAITING_PONG &&
        now - later(k->ping_ms, k->behind_ms) >= k->pong_timeout_ms) {
        st.action = WSS_KEEPER_DROP;
        return st;
    }
    if (k->state == WSS_KEEPER_IDLE && now - k->rx_ms >= k->idle_ping_ms) {
        /* The deadline runs from now even if the ping cannot be written
         * yet: a link that cannot carry it is just as half-open. */
        k->state = WSS_KEEPER_AWAITING_PONG;
        k->ping_ms = now;
        st.action = WSS_KEEPER_PING;
    } else if (now - k->tx_ms >= k->idle_ping_ms) {
        /* Like the ping's, the clock restarts whether or not it can be
         * written yet: one keep-alive waiting is enough. */
        k->tx_ms = now;
        st.action = WSS_KEEPER_KEEPALIVE;
    }
    st.deadline_ms = wss_keeper_deadline(k, ring_full);
    return st;
}

int64_t wss_keeper_redial_backoff(wss_keeper *k)
{
    int64_t ms = k->backoff_ms;
    k->backoff_ms = wss_keeper_backoff_after(ms);
    return ms;
}

int64_t wss_keeper_backoff_after(int64_t ms)
{
    return ms * 2 > WSS_BACKOFF_MAX_MS ? WSS_BACKOFF_MAX_MS : ms * 2;
}

int64_t wss_keeper_jitter(int64_t ms, uint32_t r)
{
    return ms * 3 / 4 + (int64_t)(r % (uint32_t)(ms / 2 + 1));
}

int wss_keeper_close_reply(int code)
{
    if (code == 1005)
        return 1000;
    if ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
        (code >= 3000 && code <= 4999))
        return code;
    return 1002;
}
