/*
 * keeper.h -- the keeper's state machine for one WSS connection: when to
 * ping, when to send a keep-alive, when a link is half-open, how long to
 * back off before a redial (SPEC 2.7, 2.8, 6).  Pure: no I/O, no clock, no locking.  The keeper thread
 * (keeper_thread.c) asks it what to do and does it; the code that reads
 * the link (conn.c) reports what it saw.  Internal to the WSS plugin.
 * Prefix: wss_keeper_.
 *
 * Times are monotonic milliseconds.  The keeper is told whether the ring is
 * full (the host is behind): that is the host's doing, not a state of the
 * keeper's, and it changes under other threads' reads at any moment.
 *
 *   state          ring      next action, at the deadline
 *   RECONNECTING   -         REDIAL, at once (the redial waits the backoff)
 *   IDLE           -         PING -> AWAITING_PONG, at rx_ms + idle-ping
 *   AWAITING_PONG  not full  DROP (half-open), at pong_from + pong-timeout
 *   AWAITING_PONG  full      -> IDLE (and PING if idle), at ping_ms + idle-ping
 *
 * where pong_from is the later of ping_ms and behind_ms: while the ring is
 * full nothing is read, so no pong can be seen and there is no verdict; the
 * deadline restarts when the host reads again.  A pong or a drop leaves
 * AWAITING_PONG for IDLE or RECONNECTING; a new link enters IDLE.
 *
 * Keep-alive, beside the ping, in IDLE and AWAITING_PONG alike: KEEPALIVE
 * at tx_ms + idle-ping, tx_ms being the last data message we sent (or the
 * last keep-alive, or the link's start).  The production beacon drops a
 * peer after 90 s without a data message from it and does not count pings
 * (SPEC 6); the ping is for half-open detection and stays.  So when
 * nothing was sent for an idle-ping (30 s) the keeper sends WSS_KEEPALIVE,
 * a text message every beacon ignores (SPEC 2.6) that resets that clock.
 * A host that sends at least once per idle-ping causes none.  When the
 * ping and the keep-alive fall due together, PING comes first and
 * KEEPALIVE at the next step (its deadline is then already due).
 *
 * Backoff: each redial waits the backoff (jittered) and doubles it for the
 * next one, up to the cap.  Only a link that stays up for one idle-ping
 * interval (stable) resets it to the first delay when it drops: a beacon
 * that accepts and drops at once (a node id used twice, each connection
 * replacing the other) sees redials spread out to the cap, not one full
 * dial every 250 ms.  After a replacement, older beacons close the new
 * connection too (SPEC 6): that extra reconnect waits twice the first delay.
 */
#ifndef PT_WSS_KEEPER_H
#define PT_WSS_KEEPER_H

#include <stdint.h>

/* Reconnect backoff (SPEC 2.8): doubling from the first to the cap, reset
 * when a stable link drops (above); each delay is drawn from 75%..125% of
 * it. */
#define WSS_BACKOFF_FIRST_MS 250
#define WSS_BACKOFF_MAX_MS 30000

/* The keep-alive: valid JSON, a text message after auth, which every beacon
 * ignores (SPEC 2.6) and the production beacon counts as data. */
#define WSS_KEEPALIVE "{\"type\":\"keepalive\"}"

/* Invariant: there is a link exactly when the state is not RECONNECTING,
 * and a pong is awaited exactly in AWAITING_PONG, for the ping that fell
 * due at ping_ms whether or not it could be written yet. */
enum wss_keeper_state {
    WSS_KEEPER_RECONNECTING, /* no link */
    WSS_KEEPER_IDLE,         /* link up, no pong awaited */
    WSS_KEEPER_AWAITING_PONG /* link up, a ping fell due at ping_ms */
};

typedef struct wss_keeper {
    enum wss_keeper_state state;
    int64_t idle_ping_ms;    /* config: ping after this long without a read */
    int64_t pong_timeout_ms; /* config: a ping unanswered this long: half-open */
    int64_t rx_ms;           /* last message read, or the link's start */
    int64_t tx_ms;           /* last data message or keep-alive sent, or the link's start */
    int64_t ping_ms;         /* when the last ping fell due */
    int64_t behind_ms;       /* last time the ring was seen full */
    int64_t up_ms;           /* when the current (or last) link came up */
    int64_t backoff_ms;      /* nominal wait before the next redial */
} wss_keeper;

enum wss_keeper_action {
    WSS_KEEPER_WAIT,   /* nothing before the deadline */
    WSS_KEEPER_PING,   /* queue a ping (the state is AWAITING_PONG already) */
    WSS_KEEPER_KEEPALIVE, /* queue WSS_KEEPALIVE (tx_ms is now already) */
    WSS_KEEPER_DROP,   /* half-open: send close 1008 and drop the link */
    WSS_KEEPER_REDIAL  /* no link: back off, then dial */
};

typedef struct wss_keeper_step {
    enum wss_keeper_action action;
    int64_t deadline_ms;     /* when to ask again, events aside */
} wss_keeper_step;

/* A keeper in RECONNECTING with the given timings and the first backoff. */
void wss_keeper_init(wss_keeper *k, int64_t idle_ping_ms, int64_t pong_timeout_ms);

/* What conn.c and the keeper thread saw: */
void wss_keeper_link_up(wss_keeper *k, int64_t now);    /* a new link: IDLE */
/* -> RECONNECTING; a link that was up for idle-ping or longer (stable)
 * resets the backoff. */
void wss_keeper_link_down(wss_keeper *k, int64_t now);
void wss_keeper_read(wss_keeper *k, int64_t now);       /* any message read */
void wss_keeper_sent(wss_keeper *k, int64_t now);       /* a data message written */
void wss_keeper_pong(wss_keeper *k);                    /* AWAITING_PONG -> IDLE */
void wss_keeper_behind(wss_keeper *k, int64_t now);     /* the ring is full */

/* Decide at now, with the ring full or not, and make the transition the
 * decision implies (except DROP's: the drop reports link_down). */
wss_keeper_step wss_keeper_next(wss_keeper *k, int64_t now, int ring_full);

/* The deadline of the current state, or the keep-alive's if sooner (0,
 * already due, in RECONNECTING). */
int64_t wss_keeper_deadline(const wss_keeper *k, int ring_full);

/* The nominal delay to wait before this redial (REDIAL); the next one, if
 * no stable link comes in between, waits twice as long, to the cap. */
int64_t wss_keeper_redial_backoff(wss_keeper *k);

/* The nominal backoff after a redial that waited ms: doubled, to the cap. */
int64_t wss_keeper_backoff_after(int64_t ms);

/* The code to answer a beacon's close with (RFC 6455 5.5.1, 7.4): its own
 * when it may be sent on the wire (1000-1003, 1007-1014, 3000-4999); 1000
 * when the close carried none (link.h reports that as 1005, as it does a
 * 1005 on the wire, which is just as empty); 1002, protocol error, for any
 * other code, which no endpoint may send (1004, 1006, 1015, reserved). */
int wss_keeper_close_reply(int code);

/* The delay actually waited for a nominal ms, given a random r: 75%..125%
 * of ms, so many daemons do not redial in step. */
int64_t wss_keeper_jitter(int64_t ms, uint32_t r);

#endif
