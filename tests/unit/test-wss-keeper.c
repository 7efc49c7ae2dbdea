/* test-wss-keeper.c -- the WSS keeper's state machine (plugin/wss/keeper.h):
 * every transition and deadline, the keep-alive, the backoff and the answer
 * to a beacon's close, with the SPEC 2 timings (idle-ping 30 s,
 * pong-timeout 10 s), no threads, no sockets, no clock. */
#include "config.h"

#include "keeper.h"
#include "tap.h"

#include <stdint.h>

#define IDLE 30000
#define PONG 10000
#define T0 1000000 /* when the link came up */
#define FULL 1
#define ROOM 0

static wss_keeper k;
static wss_keeper_step st;

/* A keeper whose link came up at T0. */
static void up(void)
{
    wss_keeper_init(&k, IDLE, PONG);
    wss_keeper_link_up(&k, T0);
}

/* The keeper asked at now by a host that sends data all the time, so that
 * no keep-alive falls due: the ping and the pong deadline on their own. */
static wss_keeper_step busy(int64_t now, int ring_full)
{
    wss_keeper_sent(&k, now);
    return wss_keeper_next(&k, now, ring_full);
}

/* up(), then the first idle ping at T0 + IDLE; returns when it fell due. */
static int64_t up_and_pinged(void)
{
    up();
    st = busy(T0 + IDLE, ROOM);
    return T0 + IDLE;
}

#define CHECK_STEP(action_, deadline_)                                                 \
    do {                                                                               \
        CHECK_EQ_INT(st.action, action_);                                              \
        CHECK_EQ_INT(st.deadline_ms, deadline_);                                       \
    } while (0)

/* ---- RECONNECTING ------------------------------------------------------- */

TEST(a_new_keeper_has_no_link_and_redials_at_once)
{
    wss_keeper_init(&k, IDLE, PONG);
    CHECK_EQ_INT(k.state, WSS_KEEPER_RECONNECTING);
    st = wss_keeper_next(&k, T0, ROOM);
    CHECK_STEP(WSS_KEEPER_REDIAL, T0);
    CHECK_EQ_INT(k.state, WSS_KEEPER_RECONNECTING);
    CHECK_EQ_INT(wss_keeper_deadline(&k, ROOM), 0);
    st = wss_keeper_next(&k, T0 + 5, FULL); /* frames left from the last link */
    CHECK_STEP(WSS_KEEPER_REDIAL, T0 + 5);
}

TEST(a_pong_or_a_read_while_reconnecting_changes_nothing)
{
    wss_keeper_init(&k, IDLE, PONG);
    wss_keeper_pong(&k);
    wss_keeper_read(&k, T0);
    CHECK_EQ_INT(k.state, WSS_KEEPER_RECONNECTING);
}

TEST(a_new_link_is_idle_with_the_ping_an_idle_ping_away)
{
    up();
    CHECK_EQ_INT(k.state, WSS_KEEPER_IDLE);
    st = wss_keeper_next(&k, T0, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, T0 + IDLE);
}

/* ---- IDLE --------------------------------------------------------------- */

TEST(idle_waits_until_idle_ping_has_passed_without_a_read)
{
    up();
    st = busy(T0 + IDLE - 1, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, T0 + IDLE);
    CHECK_EQ_INT(k.state, WSS_KEEPER_IDLE);
}

TEST(idle_pings_at_idle_ping_and_awaits_the_pong)
{
    int64_t p = up_and_pinged();
    CHECK_STEP(WSS_KEEPER_PING, p + PONG);
    CHECK_EQ_INT(k.state, WSS_KEEPER_AWAITING_PONG);
    CHECK_EQ_INT(k.ping_ms, p);
}

TEST(a_read_postpones_the_ping)
{
    up();
    wss_keeper_read(&k, T0 + 5000);
    st = busy(T0 + IDLE, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, T0 + 5000 + IDLE);
    st = busy(T0 + 5000 + IDLE, ROOM);
    CHECK_STEP(WSS_KEEPER_PING, T0 + 5000 + IDLE + PONG);
}

TEST(idle_with_a_full_ring_still_pings_at_idle_ping)
{
    up();
    st = busy(T0 + 1, FULL);
    CHECK_STEP(WSS_KEEPER_WAIT, T0 + IDLE);
    st = busy(T0 + IDLE, FULL);
    /* Held: the next thing is the next ping, not a verdict. */
    CHECK_STEP(WSS_KEEPER_PING, T0 + IDLE + IDLE);
    CHECK_EQ_INT(k.state, WSS_KEEPER_AWAITING_PONG);
}

/* ---- AWAITING_PONG ------------------------------------------------------ */

TEST(a_pong_returns_to_idle_and_the_next_ping_is_an_idle_ping_after_it)
{
    int64_t p = up_and_pinged();
    wss_keeper_read(&k, p + 40); /* every message read, the pong too */
    wss_keeper_pong(&k);
    CHECK_EQ_INT(k.state, WSS_KEEPER_IDLE);
    st = busy(p + 50, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, p + 40 + IDLE);
}

TEST(awaiting_pong_waits_until_the_pong_deadline)
{
    int64_t p = up_and_pinged();
    st = busy(p + PONG - 1, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, p + PONG);
    CHECK_EQ_INT(k.state, WSS_KEEPER_AWAITING_PONG);
}

TEST(no_pong_by_the_deadline_drops_the_link)
{
    int64_t p = up_and_pinged();
    st = busy(p + PONG, ROOM);
    CHECK_EQ_INT(st.action, WSS_KEEPER_DROP);
    /* The drop itself reports the link gone. */
    CHECK_EQ_INT(k.state, WSS_KEEPER_AWAITING_PONG);
    wss_keeper_link_down(&k, p + PONG);
    CHECK_EQ_INT(k.state, WSS_KEEPER_RECONNECTING);
    st = busy(p + PONG + 1, ROOM);
    CHECK_EQ_INT(st.action, WSS_KEEPER_REDIAL);
}

TEST(the_pong_deadline_runs_from_when_the_ping_fell_due_written_or_not)
{
    /* Nothing tells the keeper that the ping was written: a ping stuck
     * behind a full socket times out like an unanswered one. */
    int64_t p = up_and_pinged();
    st = busy(p + PONG / 2, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, p + PONG);
    st = busy(p + PONG, ROOM);
    CHECK_EQ_INT(st.action, WSS_KEEPER_DROP);
}

TEST(data_read_while_awaiting_does_not_stand_in_for_the_pong)
{
    int64_t p = up_and_pinged();
    wss_keeper_read(&k, p + PONG - 1);
    st = busy(p + PONG, ROOM);
    CHECK_EQ_INT(st.action, WSS_KEEPER_DROP);
}

TEST(a_late_check_still_drops)
{
    int64_t p = up_and_pinged();
    st = busy(p + PONG + 5 * IDLE, ROOM);
    CHECK_EQ_INT(st.action, WSS_KEEPER_DROP);
}

/* ---- AWAITING_PONG with the host behind (a full ring) -------------------- */

TEST(a_full_ring_gives_no_verdict)
{
    int64_t p = up_and_pinged();
    st = busy(p + PONG, FULL);
    CHECK_STEP(WSS_KEEPER_WAIT, p + IDLE); /* the next ping, not a verdict */
    CHECK_EQ_INT(k.state, WSS_KEEPER_AWAITING_PONG);
    CHECK_EQ_INT(k.behind_ms, p + PONG);
    st = busy(p + IDLE - 1, FULL);
    CHECK_STEP(WSS_KEEPER_WAIT, p + IDLE);
}

TEST(a_full_ring_restarts_the_pong_deadline_when_the_host_reads_again)
{
    int64_t p = up_and_pinged();
    st = busy(p + 5000, FULL); /* seen full at p + 5 s */
    /* The host reads again: the deadline runs from the last full ring. */
    st = busy(p + PONG, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, p + 5000 + PONG);
    st = busy(p + 5000 + PONG - 1, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, p + 5000 + PONG);
    st = busy(p + 5000 + PONG, ROOM);
    CHECK_EQ_INT(st.action, WSS_KEEPER_DROP);
}

TEST(a_full_ring_seen_by_the_reader_restarts_the_deadline_too)
{
    /* recv and the pump report a full ring the keeper never saw. */
    int64_t p = up_and_pinged();
    wss_keeper_behind(&k, p + 8000);
    st = busy(p + PONG, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, p + 8000 + PONG);
    st = busy(p + 8000 + PONG, ROOM);
    CHECK_EQ_INT(st.action, WSS_KEEPER_DROP);
}

TEST(a_full_ring_before_the_ping_does_not_delay_its_deadline)
{
    up();
    wss_keeper_behind(&k, T0 + 100);
    st = busy(T0 + IDLE, ROOM);
    CHECK_STEP(WSS_KEEPER_PING, T0 + IDLE + PONG);
}

TEST(a_ping_is_still_sent_every_idle_ping_while_held)
{
    int64_t p = up_and_pinged();
    /* Its pong waits behind unread frames: an idle-ping later, ping again. */
    st = busy(p + IDLE, FULL);
    CHECK_STEP(WSS_KEEPER_PING, p + 2 * IDLE);
    CHECK_EQ_INT(k.ping_ms, p + IDLE);
    st = busy(p + 2 * IDLE, FULL);
    CHECK_STEP(WSS_KEEPER_PING, p + 3 * IDLE);
    CHECK_EQ_INT(k.ping_ms, p + 2 * IDLE);
    /* The host reads again: pong-timeout from then, for the latest ping. */
    st = busy(p + 2 * IDLE + 1, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, p + 2 * IDLE + PONG);
}

TEST(while_held_a_recent_read_puts_the_next_ping_an_idle_ping_after_it)
{
    int64_t p = up_and_pinged();
    wss_keeper_read(&k, p + 1000); /* data, then the ring filled */
    st = busy(p + IDLE, FULL);
    /* The ping is no longer awaited, and none is due yet. */
    CHECK_STEP(WSS_KEEPER_WAIT, p + 1000 + IDLE);
    CHECK_EQ_INT(k.state, WSS_KEEPER_IDLE);
    /* Nor is one when the host reads again before that. */
    st = busy(p + IDLE + 10, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, p + 1000 + IDLE);
    st = busy(p + 1000 + IDLE, FULL);
    CHECK_STEP(WSS_KEEPER_PING, p + 1000 + 2 * IDLE);
}

/* ---- The keep-alive (the production beacon counts only data) ------------- */

TEST(nothing_sent_for_an_idle_ping_sends_a_keepalive_after_the_ping)
{
    up();
    st = wss_keeper_next(&k, T0 + IDLE - 1, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, T0 + IDLE);
    /* Both fall due: the ping first, the keep-alive at once after it. */
    st = wss_keeper_next(&k, T0 + IDLE, ROOM);
    CHECK_STEP(WSS_KEEPER_PING, T0 + IDLE);
    st = wss_keeper_next(&k, T0 + IDLE, ROOM);
    CHECK_STEP(WSS_KEEPER_KEEPALIVE, T0 + IDLE + PONG);
    CHECK_EQ_INT(k.state, WSS_KEEPER_AWAITING_PONG); /* the ping's state is its own */
    CHECK_EQ_INT(k.tx_ms, T0 + IDLE);
    st = wss_keeper_next(&k, T0 + IDLE + 1, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, T0 + IDLE + PONG);
}

TEST(a_read_postpones_the_ping_but_not_the_keepalive)
{
    /* Inbound data says nothing of what the beacon heard from us. */
    up();
    wss_keeper_read(&k, T0 + 5000);
    st = wss_keeper_next(&k, T0 + IDLE, ROOM);
    CHECK_STEP(WSS_KEEPER_KEEPALIVE, T0 + 5000 + IDLE);
    CHECK_EQ_INT(k.state, WSS_KEEPER_IDLE);
    st = wss_keeper_next(&k, T0 + 5000 + IDLE, ROOM);
    CHECK_STEP(WSS_KEEPER_PING, T0 + 5000 + IDLE + PONG);
}

TEST(a_send_postpones_the_keepalive_but_not_the_ping)
{
    up();
    wss_keeper_sent(&k, T0 + 100);
    st = wss_keeper_next(&k, T0 + IDLE, ROOM);
    CHECK_STEP(WSS_KEEPER_PING, T0 + 100 + IDLE);
    st = wss_keeper_next(&k, T0 + 100 + IDLE - 1, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, T0 + 100 + IDLE);
    st = wss_keeper_next(&k, T0 + 100 + IDLE, ROOM);
    CHECK_STEP(WSS_KEEPER_KEEPALIVE, T0 + IDLE + PONG);
}

/* Run the keeper for n idle-pings, asked every second, the beacon answering
 * each ping at once and nothing read otherwise; the host sends data every
 * send_every ms (0: never).  Counts pings and keep-alives. */
static void run(int n, int64_t send_every, int *pings, int *keepalives)
{
    *pings = *keepalives = 0;
    up();
    for (int64_t t = T0 + 1000; t <= T0 + n * IDLE; t += 1000) {
        if (send_every && (t - T0) % send_every == 0)
            wss_keeper_sent(&k, t);
        for (;;) {
            st = wss_keeper_next(&k, t, ROOM);
            if (st.action == WSS_KEEPER_PING) {
                (*pings)++;
                wss_keeper_read(&k, t);
                wss_keeper_pong(&k);
            } else if (st.action == WSS_KEEPER_KEEPALIVE) {
                (*keepalives)++;
            } else {
                break;
            }
        }
        CHECK_EQ_INT(st.action, WSS_KEEPER_WAIT);
        CHECK(st.deadline_ms > t);
    }
}

TEST(an_idle_link_sends_one_keepalive_every_idle_ping)
{
    int pings, keepalives;
    run(10, 0, &pings, &keepalives);
    CHECK_EQ_INT(pings, 10);
    CHECK_EQ_INT(keepalives, 10);
}

TEST(data_sent_within_every_idle_ping_means_no_keepalive)
{
    int pings, keepalives;
    run(10, IDLE - 1000, &pings, &keepalives);
    CHECK_EQ_INT(pings, 10); /* the half-open check goes on */
    CHECK_EQ_INT(keepalives, 0);
}

TEST(the_keepalive_goes_out_while_the_ring_is_full)
{
    /* A host that does not read still owes the beacon a data message. */
    up();
    st = wss_keeper_next(&k, T0 + IDLE, FULL);
    CHECK_STEP(WSS_KEEPER_PING, T0 + IDLE);
    st = wss_keeper_next(&k, T0 + IDLE, FULL);
    CHECK_STEP(WSS_KEEPER_KEEPALIVE, T0 + 2 * IDLE);
}

TEST(the_pong_verdict_comes_before_a_keepalive)
{
    int64_t p = up_and_pinged();
    st = wss_keeper_next(&k, p + IDLE, ROOM); /* both overdue */
    CHECK_EQ_INT(st.action, WSS_KEEPER_DROP);
}

TEST(no_keepalive_without_a_link)
{
    up();
    wss_keeper_link_down(&k, T0 + 1);
    st = wss_keeper_next(&k, T0 + 5 * IDLE, ROOM);
    CHECK_EQ_INT(st.action, WSS_KEEPER_REDIAL);
    /* A new link starts its clock. */
    wss_keeper_link_up(&k, T0 + 6 * IDLE);
    CHECK_EQ_INT(k.tx_ms, T0 + 6 * IDLE);
    st = wss_keeper_next(&k, T0 + 6 * IDLE + 1, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, T0 + 7 * IDLE);
}

TEST(the_keepalive_is_a_json_text_message)
{
    CHECK_STR_EQ(WSS_KEEPALIVE, "{\"type\":\"keepalive\"}");
}

/* ---- A new link, the deadlines, the backoff ------------------------------ */

TEST(a_new_link_after_a_drop_starts_idle)
{
    int64_t p = up_and_pinged();
    wss_keeper_link_down(&k, p + 1);
    wss_keeper_link_up(&k, p + 60000);
    CHECK_EQ_INT(k.state, WSS_KEEPER_IDLE);
    st = busy(p + 60000, ROOM);
    CHECK_STEP(WSS_KEEPER_WAIT, p + 60000 + IDLE);
}

TEST(each_state_has_its_deadline)
{
    int64_t p = up_and_pinged();
    wss_keeper_behind(&k, p + 3);
    CHECK_EQ_INT(wss_keeper_deadline(&k, ROOM), p + 3 + PONG);
    CHECK_EQ_INT(wss_keeper_deadline(&k, FULL), p + IDLE);
    wss_keeper_pong(&k);
    wss_keeper_read(&k, p + 7);
    wss_keeper_sent(&k, p + 7);
    CHECK_EQ_INT(wss_keeper_deadline(&k, ROOM), p + 7 + IDLE);
    CHECK_EQ_INT(wss_keeper_deadline(&k, FULL), p + 7 + IDLE);
    wss_keeper_link_down(&k, p + 8);
    CHECK_EQ_INT(wss_keeper_deadline(&k, ROOM), 0);
}

TEST(backoff_doubles_from_250_ms_to_a_30_s_cap)
{
    int64_t want[] = { 250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000 };
    int64_t ms = WSS_BACKOFF_FIRST_MS;
    CHECK_EQ_INT(ms, 250);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECK_EQ_INT(ms, want[i]);
        ms = wss_keeper_backoff_after(ms);
    }
}

/* The delays a run of redials waits, each link (if any) up for up_ms. */
static void redials(int n, int64_t up_ms, int64_t *out)
{
    int64_t t = T0;
    for (int i = 0; i < n; i++) {
        CHECK_EQ_INT(wss_keeper_next(&k, t, ROOM).action, WSS_KEEPER_REDIAL);
        out[i] = wss_keeper_redial_backoff(&k);
        t += out[i];
        wss_keeper_link_up(&k, t);
        t += up_ms;
        wss_keeper_link_down(&k, t);
    }
}

TEST(each_redial_doubles_the_next_backoff_to_the_cap)
{
    int64_t got[9], want[] = { 250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000 };
    wss_keeper_init(&k, IDLE, PONG);
    CHECK_EQ_INT(k.backoff_ms, WSS_BACKOFF_FIRST_MS);
    /* Failed redials: no link comes up in between. */
    for (int i = 0; i < 9; i++)
        got[i] = wss_keeper_redial_backoff(&k);
    for (int i = 0; i < 9; i++)
        CHECK_EQ_INT(got[i], want[i]);
}

TEST(a_link_dropped_right_after_auth_does_not_reset_the_backoff)
{
    /* Accepted, then closed at once (1000 "replaced", --close-after-auth):
     * as if the redial had failed. */
    int64_t got[6], want[] = { 250, 500, 1000, 2000, 4000, 8000 };
    wss_keeper_init(&k, IDLE, PONG);
    redials(6, 5, got);
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(got[i], want[i]);
}

TEST(a_link_up_for_less_than_an_idle_ping_does_not_reset_the_backoff)
{
    int64_t got[3];
    wss_keeper_init(&k, IDLE, PONG);
    redials(3, IDLE - 1, got);
    CHECK_EQ_INT(got[2], 1000);
    CHECK_EQ_INT(k.backoff_ms, 2000);
}

TEST(a_link_up_for_an_idle_ping_resets_the_backoff)
{
    int64_t got[3];
    wss_keeper_init(&k, IDLE, PONG);
    redials(3, IDLE, got);
    CHECK_EQ_INT(got[0], 250);
    CHECK_EQ_INT(got[1], 250);
    CHECK_EQ_INT(got[2], 250);
}

TEST(the_backoff_grown_by_failed_redials_is_reset_by_a_stable_link)
{
    wss_keeper_init(&k, IDLE, PONG);
    for (int i = 0; i < 5; i++) /* the beacon is away: 250 .. 4000 */
        wss_keeper_redial_backoff(&k);
    CHECK_EQ_INT(k.backoff_ms, 8000);
    wss_keeper_link_up(&k, T0);
    wss_keeper_link_down(&k, T0 + 10 * IDLE);
    CHECK_EQ_INT(wss_keeper_redial_backoff(&k), 250);
}

TEST(the_first_link_dropped_at_once_redials_after_the_first_backoff)
{
    /* The dial's own link (no redial before it). */
    up();
    wss_keeper_link_down(&k, T0 + 1);
    CHECK_EQ_INT(wss_keeper_redial_backoff(&k), 250);
    CHECK_EQ_INT(wss_keeper_redial_backoff(&k), 500);
}

TEST(a_replacement_then_a_read_loop_exit_is_one_extra_reconnect)
{
    /* SPEC 6: a stable link replaced; an older beacon then also closes the
     * new one at once ("read loop exit"); the next one stays. */
    int64_t t = T0 + 100 * IDLE;
    up();
    wss_keeper_link_down(&k, t);
    CHECK_EQ_INT(wss_keeper_redial_backoff(&k), 250);
    wss_keeper_link_up(&k, t += 250);
    wss_keeper_link_down(&k, t += 3);
    CHECK_EQ_INT(wss_keeper_redial_backoff(&k), 500);
    wss_keeper_link_up(&k, t += 500);
    wss_keeper_link_down(&k, t += IDLE);
    CHECK_EQ_INT(wss_keeper_redial_backoff(&k), 250);
}

TEST(a_drop_while_reconnecting_changes_nothing)
{
    wss_keeper_init(&k, IDLE, PONG);
    wss_keeper_redial_backoff(&k);
    wss_keeper_link_down(&k, T0 + 100 * IDLE); /* no link was up */
    CHECK_EQ_INT(k.backoff_ms, 500);
    CHECK_EQ_INT(k.state, WSS_KEEPER_RECONNECTING);
}

/* ---- The answer to a beacon's close -------------------------------------- */

TEST(a_close_without_a_code_is_answered_with_1000)
{
    CHECK_EQ_INT(wss_keeper_close_reply(1005), 1000); /* none, or 1005 itself */
}

TEST(a_close_code_allowed_on_the_wire_is_echoed)
{
    int ok[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                 3000, 4000, 4999 };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK_EQ_INT(wss_keeper_close_reply(ok[i]), ok[i]);
}

TEST(a_close_code_forbidden_on_the_wire_is_never_echoed)
{
    /* RFC 6455 7.4: 1004-1006 and 1015 are reserved or only for reports,
     * 0-999 unused, 1016-2999 for extensions, 5000 and up invalid. */
    int bad[] = { 0, 1, 999, 1004, 1006, 1015, 1016, 2000, 2999, 5000, 65535, -1 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(wss_keeper_close_reply(bad[i]), 1002);
}

TEST(jitter_draws_from_75_to_125_percent)
{
    CHECK_EQ_INT(wss_keeper_jitter(250, 0), 187);
    CHECK_EQ_INT(wss_keeper_jitter(250, 125), 312);
    CHECK_EQ_INT(wss_keeper_jitter(250, 126), 187); /* wraps round */
    CHECK_EQ_INT(wss_keeper_jitter(30000, 0), 22500);
    CHECK_EQ_INT(wss_keeper_jitter(30000, 15000), 37500);
    for (uint32_t r = 0; r < 100000; r += 7) {
        int64_t d = wss_keeper_jitter(1000, r * 2654435761u);
        CHECK(d >= 750 && d <= 1250);
    }
}

int main(void)
{
    RUN(a_new_keeper_has_no_link_and_redials_at_once);
    RUN(a_pong_or_a_read_while_reconnecting_changes_nothing);
    RUN(a_new_link_is_idle_with_the_ping_an_idle_ping_away);
    RUN(idle_waits_until_idle_ping_has_passed_without_a_read);
    RUN(idle_pings_at_idle_ping_and_awaits_the_pong);
    RUN(a_read_postpones_the_ping);
    RUN(idle_with_a_full_ring_still_pings_at_idle_ping);
    RUN(a_pong_returns_to_idle_and_the_next_ping_is_an_idle_ping_after_it);
    RUN(awaiting_pong_waits_until_the_pong_deadline);
    RUN(no_pong_by_the_deadline_drops_the_link);
    RUN(the_pong_deadline_runs_from_when_the_ping_fell_due_written_or_not);
    RUN(data_read_while_awaiting_does_not_stand_in_for_the_pong);
    RUN(a_late_check_still_drops);
    RUN(a_full_ring_gives_no_verdict);
    RUN(a_full_ring_restarts_the_pong_deadline_when_the_host_reads_again);
    RUN(a_full_ring_seen_by_the_reader_restarts_the_deadline_too);
    RUN(a_full_ring_before_the_ping_does_not_delay_its_deadline);
    RUN(a_ping_is_still_sent_every_idle_ping_while_held);
    RUN(while_held_a_recent_read_puts_the_next_ping_an_idle_ping_after_it);
    RUN(nothing_sent_for_an_idle_ping_sends_a_keepalive_after_the_ping);
    RUN(a_read_postpones_the_ping_but_not_the_keepalive);
    RUN(a_send_postpones_the_keepalive_but_not_the_ping);
    RUN(an_idle_link_sends_one_keepalive_every_idle_ping);
    RUN(data_sent_within_every_idle_ping_means_no_keepalive);
    RUN(the_keepalive_goes_out_while_the_ring_is_full);
    RUN(the_pong_verdict_comes_before_a_keepalive);
    RUN(no_keepalive_without_a_link);
    RUN(the_keepalive_is_a_json_text_message);
    RUN(a_new_link_after_a_drop_starts_idle);
    RUN(each_state_has_its_deadline);
    RUN(backoff_doubles_from_250_ms_to_a_30_s_cap);
    RUN(each_redial_doubles_the_next_backoff_to_the_cap);
    RUN(a_link_dropped_right_after_auth_does_not_reset_the_backoff);
    RUN(a_link_up_for_less_than_an_idle_ping_does_not_reset_the_backoff);
    RUN(a_link_up_for_an_idle_ping_resets_the_backoff);
    RUN(the_backoff_grown_by_failed_redials_is_reset_by_a_stable_link);
    RUN(the_first_link_dropped_at_once_redials_after_the_first_backoff);
    RUN(a_replacement_then_a_read_loop_exit_is_one_extra_reconnect);
    RUN(a_drop_while_reconnecting_changes_nothing);
    RUN(a_close_without_a_code_is_answered_with_1000);
    RUN(a_close_code_allowed_on_the_wire_is_echoed);
    RUN(a_close_code_forbidden_on_the_wire_is_never_echoed);
    RUN(jitter_draws_from_75_to_125_percent);
    return tap_done();
}
