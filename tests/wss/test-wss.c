/*
 * test-wss.c -- the WSS plugin against a real beacon process over real TLS
 * (tests/beacon, libwebsockets), one behaviour per test point.
 *
 * Certificates come from tests/wss/make-certs.sh (a throwaway CA); the
 * beacon is started per test with the flags the scenario needs and is
 * ready when it prints "READY port=N".  Nothing here sleeps to synchronise:
 * waits are for a line on a pipe, a recv, or a state change observed
 * through the plugin's statistics with a deadline.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nettle/base64.h>

#include "harness.h"
#include "identity.h"
#include "memscan.h"
#include "pilot_transport_loader.h"
#include "secrets.h"
#include "tap.h"
#include "thread_wait.h"
#include "util.h"

/* Start a beacon with flags and dial it with options kv as node NODE; NULL
 * (and a failed check) if either fails.  down() undoes it. */
static pt_conn *up(beacon *b, const char *const *flags, const char *const *kv)
{
    pt_conn *c = beacon_and_dial(b, flags, kv);
    CHECK(c != NULL);
    return c;
}

/* Join thread t, which works on c, within ms (scaled).  One still running
 * then (stuck in the plugin) fails the point; closing c should wake it,
 * and it gets ceiling_ms(0) more.  1 once joined; 0 (after a "# ..." line)
 * if it is still inside the plugin: then c must be leaked, not freed. */
static int join_or_close(pthread_t t, pt_conn *c, int64_t ms, const char *what)
{
    if (thread_join_within(t, ms * scale))
        return 1;
    printf("# %s still running after %lld ms: closing its connection\n", what,
           (long long)(ms * scale));
    CHECK(0);
    wss->close(c);
    if (thread_join_within(t, ceiling_ms(0)))
        return 1;
    printf("# %s still running after close: its connection is leaked, not freed\n", what);
    return 0;
}

static int echo_once(pt_conn *c, size_t size, unsigned seed)
{
    static unsigned char out[PT_MAX_FRAME], in[PT_MAX_FRAME];
    for (size_t i = 0; i < size; i++)
        out[i] = (unsigned char)(i * 31 + seed);
    int rc = wss->send(c, out, size, NULL);
    if (rc != (int)size) {
        printf("# send %zu: %d (%s)\n", size, rc, pt_strerror(rc));
        return 0;
    }
    pt_addr src;
    rc = wss->recv(c, in, sizeof in, &src, 5000 * scale);
    if (rc != (int)size || memcmp(in, out, size) != 0) {
        printf("# echo of %zu bytes: got %d (%s)\n", size, rc, rc < 0 ? pt_strerror(rc) : "");
        return 0;
    }
    return src.family == PT_AF_INET && src.ip[0] == 192 && src.ip[3] == 2 && src.port == 0;
}

/* ---- Auth ---------------------------------------------------------------- */

TEST(auth_with_ts_and_round_trip)
{
    beacon b;
    pt_conn *c;
    pt_addr local;
    c = up(&b, NULL, NULL);
    if (c) {
        CHECK(echo_once(c, 1200, 1));
        CHECK(echo_once(c, 1, 2));
        CHECK(echo_once(c, PT_MAX_FRAME, 3));
        CHECK_EQ_INT(wss->local_addr(c, &local), PT_OK);
        CHECK(local.family == PT_AF_INET && local.ip[0] == 192 && local.ip[3] == 1);
        pt_stats s = stats_of(c);
        CHECK_EQ_INT(s.frames_out, 3);
        CHECK_EQ_INT(s.frames_in, 3);
        CHECK_EQ_INT(s.bytes_out, 1200 + 1 + PT_MAX_FRAME);
        CHECK_EQ_INT(s.state, PT_STATE_CONNECTED);
    } else {
        printf("# %s\n", err);
    }
    down(&b, c);
}

TEST(auth_legacy_challenge_without_ts)
{
    beacon b;
    pt_conn *c;
    const char *flags[] = { "--legacy-auth", NULL };
    c = up(&b, flags, NULL);
    if (c)
        CHECK(echo_once(c, 100, 4));
    down(&b, c);
}

/* Dial against a beacon started with flags; expect code and text in err. */
static void expect_dial_failure(const char *cert, const char *const *flags, const pt_identity *id,
                                const char *const *kv, int code, const char *text)
{
    beacon b;
    pt_conn *c = NULL;
    if (beacon_start(&b, cert, 0, flags) != 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ_INT(dial_with(&b, id, kv, &c), code);
    CHECK(c == NULL);
    CHECK_STR_CONTAINS(err, text);
    down(&b, c);
}

TEST(auth_rejected_is_a_clear_error)
{
    const char *flags[] = { "--reject-auth", NULL };
    expect_dial_failure("server", flags, &me, NULL, PT_EAUTH,
                        "wss auth: beacon closed the connection: 1008 auth failed");
}

TEST(unknown_node_is_refused)
{
    pt_identity other = me;
    other.node_id = 99;
    expect_dial_failure("server", NULL, &other, NULL, PT_EAUTH, "1008");
}

TEST(bad_signature_is_refused)
{
    expect_dial_failure("server", NULL, &stranger, NULL, PT_EAUTH, "1008");
}

TEST(challenge_as_binary_frame_is_refused)
{
    const char *flags[] = { "--challenge=binary", NULL };
    expect_dial_failure("server", flags, &me, NULL, PT_EPROTO, "challenge as a text message");
}

TEST(malformed_challenge_is_refused)
{
    const char *flags[] = { "--challenge=malformed", NULL };
    expect_dial_failure("server", flags, &me, NULL, PT_EPROTO, "not JSON");
}

TEST(challenge_of_wrong_type_is_refused)
{
    const char *flags[] = { "--challenge=wrong-type", NULL };
    expect_dial_failure("server", flags, &me, NULL, PT_EPROTO, "expected auth_challenge");
}

TEST(challenge_with_empty_nonce_is_refused)
{
    const char *flags[] = { "--challenge=empty-nonce", NULL };
    expect_dial_failure("server", flags, &me, NULL, PT_EPROTO, "nonce");
}

TEST(no_auth_ok_within_dial_timeout)
{
    const char *flags[] = { "--no-auth-ok", NULL };
    const char *kv[] = { "dial-timeout", dur(700), NULL };
    int64_t t0 = now_ms();
    expect_dial_failure("server", flags, &me, kv, PT_ETIMEDOUT, "no auth_ok within the dial timeout");
    CHECK(now_ms() - t0 < ceiling_ms(700));
}

TEST(wrong_subprotocol_is_refused)
{
    const char *flags[] = { "--subprotocol=other.v9", NULL };
    expect_dial_failure("server", flags, &me, NULL, PT_EPROTO, "subprotocol");
}

/* ---- TLS ------------------------------------------------------------------ */

TEST(untrusted_ca_is_refused)
{
    char other[600];
    snprintf(other, sizeof other, "%s/other-ca.pem", certs);
    const char *kv[] = { "ca-file", other, NULL };
    expect_dial_failure("server", NULL, &me, kv, PT_ETLS, "TLS");
}

TEST(wrong_host_name_is_refused)
{
    expect_dial_failure("wrong-host", NULL, &me, NULL, PT_ETLS, "TLS");
}

TEST(expired_certificate_is_refused)
{
    expect_dial_failure("expired", NULL, &me, NULL, PT_ETLS, "TLS");
}

TEST(pinned_roots_refuse_a_private_ca)
{
    const char *kv[] = { "tls-trust", "pinned", NULL };
    expect_dial_failure("server", NULL, &me, kv, PT_ETLS, "TLS");
}

TEST(system_store_refuses_a_private_ca)
{
    const char *kv[] = { "tls-trust", "system", NULL };
    expect_dial_failure("server", NULL, &me, kv, PT_ETLS, "TLS");
}

TEST(pin_mismatch_is_refused)
{
    /* A valid pin of some other key. */
    const char *kv[] = { "pin-sha256", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL };
    expect_dial_failure("server", NULL, &me, kv, PT_ETLS, "TLS");
}

TEST(matching_pin_is_accepted)
{
    char path[600], pin[64] = "";
    snprintf(path, sizeof path, "%s/server.pem", certs);
    CHECK(spki_pin(path, pin, sizeof pin));
    beacon b;
    pt_conn *c;
    const char *kv[] = { "pin-sha256", pin, NULL };
    c = up(&b, NULL, kv);
    if (!c)
        printf("# %s\n", err);
    down(&b, c);
}

/* ---- Close ------------------------------------------------------------------ */

TEST(close_is_idempotent_and_wakes_a_blocked_recv)
{
    beacon b;
    pt_conn *c;
    unsigned char buf[16] = { 0 };
    c = up(&b, NULL, NULL);
    if (c) {
        struct blocked_recv bl;
        CHECK(blocked_recv_start(&bl, wss, c)); /* asleep inside recv */
        CHECK_EQ_INT(wss->close(c), PT_OK);
        CHECK_EQ_INT(wss->close(c), PT_OK);
        int rc = blocked_recv_join(&bl);
        CHECK_EQ_INT(rc, PT_ECLOSED);
        CHECK_EQ_INT(wss->recv(c, buf, sizeof buf, NULL, 0), PT_ECLOSED);
        CHECK_EQ_INT(wss->send(c, buf, sizeof buf, NULL), PT_ECLOSED);
        CHECK_EQ_INT(stats_of(c).state, PT_STATE_CLOSED);
        if (rc != BLOCKED_RECV_STUCK) /* else the thread still uses c */
            wss->free(c);
    }
    beacon_stop(&b);
}

struct flood {
    pt_conn *c;
    pthread_t thread;
    pid_t tid;
    int created, started;
    int rc;
};

/* send_many of 64 largest frames (4 MiB) again and again until one fails:
 * however much the kernel buffers while the beacon does not read (loopback
 * buffers grow to several MiB), the sender ends up blocked.  It stops when
 * the connection is closed; rc is the last call's result. */
static void *flood_main(void *arg)
{
    struct flood *fl = arg;
    static unsigned char big[PT_MAX_FRAME];
    pt_frame f[64];
    for (size_t i = 0; i < 64; i++)
        f[i] = (pt_frame){ big, sizeof big, NULL };
    fl->tid = thread_wait_tid();
    __atomic_store_n(&fl->started, 1, __ATOMIC_SEQ_CST);
    do
        fl->rc = wss->send_many(fl->c, f, 64);
    while (fl->rc > 0);
    return NULL;
}

struct closer {
    pt_conn *c;
    pid_t tid;
    int started;
    int64_t took;
};

static void *closer_main(void *arg)
{
    struct closer *cl = arg;
    cl->tid = thread_wait_tid();
    __atomic_store_n(&cl->started, 1, __ATOMIC_SEQ_CST);
    int64_t t0 = now_ms();
    wss->close(cl->c);
    cl->took = now_ms() - t0;
    return NULL;
}

/* 1 once the thread has set *started; 0 if it has not within 10 s (scaled). */
static int wait_started(const int *started)
{
    int64_t deadline = now_ms() + 10000 * scale;
    while (!__atomic_load_n(started, __ATOMIC_SEQ_CST)) {
        if (now_ms() > deadline)
            return 0;
        sched_yield();
    }
    return 1;
}

/* Start a flood of sends against a beacon that is stopped (SIGSTOP), and
 * return 1 once the sender is stuck: asleep, with the plugin's socket
 * full.  Then the send queue holds part of a message.  The sender ends
 * when the connection is closed (join fl->thread if fl->created). */
static int stuck_sender(beacon *b, pt_conn *c, struct flood *fl)
{
    /* A small send buffer fills sooner (TSan makes every byte slow). */
    int sock = shrink_send_buffer(b->port);
    int64_t deadline = now_ms() + 10000 * scale;
    fl->c = c;
    kill(b->pid, SIGSTOP);
    if (sock < 0 || pthread_create(&fl->thread, NULL, flood_main, fl) != 0)
        return 0;
    fl->created = 1;
    if (!wait_started(&fl->started))
        return 0;
    while (now_ms() < deadline) {
        struct pollfd p = { sock, POLLOUT, 0 };
        if (thread_wait_sleeping(fl->tid) && poll(&p, 1, 0) == 0)
            return 1;
    }
    return 0;
}

/* close() while a writer is stuck behind a full socket (the beacon stopped
 * for a moment): the close frame waits behind the writer's message, and
 * close must wait a little for room to get it out, not leave it in the
 * queue.  The beacon, let go while close waits, logs the close 1000. */
TEST(close_frame_reaches_the_beacon_when_the_socket_was_full)
{
    beacon b;
    pt_conn *c = NULL;
    pthread_t ct;
    struct flood fl = { 0 };
    struct closer cl = { 0 };
    const char *flags[] = { "--mode=sink", NULL };
    if (beacon_start_captured(&b, "server", 0, flags) != 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ_INT(dial_with(&b, &me, NULL, &c), PT_OK);
    if (!c || !stuck_sender(&b, c, &fl)) {
        CHECK(0);
        kill(b.pid, SIGCONT);
        /* The flood stops at close; c is freed only once it has. */
        if (c)
            wss->close(c);
        if (!fl.created || join_or_close(fl.thread, c, 10000, "the flood"))
            wss->free(c);
        beacon_stop(&b);
        return;
    }
    cl.c = c;
    if (pthread_create(&ct, NULL, closer_main, &cl) != 0) {
        CHECK(0);
        kill(b.pid, SIGCONT);
        wss->close(c);
        if (join_or_close(fl.thread, c, 10000, "the flood"))
            wss->free(c);
        beacon_stop(&b);
        return;
    }
    CHECK(wait_started(&cl.started));
    /* close is waiting for room (or, without the wait, already gone). */
    thread_wait_sleeping(cl.tid);
    kill(b.pid, SIGCONT);
    int joined = join_or_close(ct, c, 10000, "close");
    joined = join_or_close(fl.thread, c, 10000, "the flood") && joined;
    printf("# close took %lld ms; the stuck send_many returned %d\n", (long long)cl.took,
           fl.rc);
    CHECK(fl.rc >= 0 || fl.rc == PT_ECLOSED);
    CHECK(cl.took < 2000 * scale);
    if (joined)
        wss->free(c);
    CHECK(beacon_wait_line(&b, "peer sent close 1000", 5000));
    beacon_stop(&b);
}

/* A beacon that never reads again: close gives up on its close frame after
 * a short wait and returns. */
TEST(close_returns_soon_when_the_socket_never_drains)
{
    beacon b;
    pt_conn *c = NULL;
    struct flood fl = { 0 };
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ_INT(dial_with(&b, &me, NULL, &c), PT_OK);
    CHECK(c && stuck_sender(&b, c, &fl));
    if (c) {
        int64_t t0 = now_ms();
        wss->close(c);
        int64_t took = now_ms() - t0;
        printf("# close took %lld ms\n", (long long)took);
        CHECK(took < 2000 * scale);
        if (!fl.created || join_or_close(fl.thread, c, 10000, "the flood"))
            wss->free(c);
    }
    beacon_stop(&b); /* SIGCONT too: it is stopped */
}

/* ---- Reconnect ---------------------------------------------------------- */

TEST(reconnect_after_server_drops_the_connection)
{
    beacon b;
    pt_conn *c;
    const char *flags[] = { "--drop-after=3", NULL };
    c = up(&b, flags, NULL);
    if (c) {
        CHECK(echo_once(c, 100, 1));
        CHECK(echo_once(c, 100, 2));
        /* The third frame makes the beacon drop us; what it echoed before
         * is still delivered, then the plugin redials by itself. */
        unsigned char f[100] = { 9 };
        CHECK_EQ_INT(wss->send(c, f, sizeof f, NULL), 100);
        CHECK(wait_reconnects(c, 1, 10000));
        CHECK(echo_once(c, 100, 3));
    }
    down(&b, c);
}

/* An event-loop host polls poll_fd and calls recv without waiting: once the
 * plugin has reconnected and that host has read, poll_fd must go quiet
 * (it used to stay readable after a reconnect, and such a host spun). */
TEST(poll_fd_goes_quiet_after_a_reconnect)
{
    beacon b;
    pt_conn *c;
    const char *flags[] = { "--drop-after=1", NULL };
    c = up(&b, flags, NULL);
    if (c) {
        unsigned char f[100] = { 1 };
        struct pollfd p = { wss->poll_fd(c), POLLIN, 0 };
        int64_t deadline = now_ms() + 10000 * scale;
        int up_again = 0;
        CHECK_EQ_INT(wss->send(c, f, sizeof f, NULL), 100);
        while (!up_again && now_ms() < deadline) {
            poll(&p, 1, 100);
            while (wss->recv(c, f, sizeof f, NULL, 0) >= 0)
                ;
            pt_stats st = stats_of(c);
            up_again = st.reconnects >= 1 && st.state == PT_STATE_CONNECTED;
        }
        CHECK(up_again);
        CHECK_EQ_INT(wss->recv(c, f, sizeof f, NULL, 0), PT_ETIMEDOUT);
        CHECK_EQ_INT(poll(&p, 1, 0), 0);
    }
    down(&b, c);
}

/* A connection (options kv) to a beacon that is then killed (SIGKILL); the
 * beacon's port in *port.  NULL, after a failed check, if the beacon or the
 * dial fails. */
static pt_conn *up_then_kill(const char *const *kv, int *port)
{
    beacon b;
    pt_conn *c = NULL;
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return NULL;
    }
    *port = b.port;
    CHECK_EQ_INT(dial_with(&b, &me, kv, &c), PT_OK);
    beacon_stop_sig(&b, SIGKILL);
    return c;
}

/* A TCP listener on the port of a beacon just killed, or -1. */
static int listen_on(int port)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in sin;
    if (ls < 0)
        return -1;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(ls, 8) != 0) {
        close(ls);
        return -1;
    }
    return ls;
}

/* 1 once the peer of socket s has closed its end (what it sends is read
 * and dropped), 0 if ms pass first. */
static int hung_up(int s, int64_t ms)
{
    char buf[4096];
    int64_t deadline = now_ms() + ms;
    for (;;) {
        struct pollfd p = { s, POLLIN, 0 };
        int64_t left = deadline - now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) != 1)
            return 0;
        ssize_t n = read(s, buf, sizeof buf);
        if (n <= 0)
            return 1; /* EOF, or a reset */
    }
}

TEST(send_while_down_returns_reconnecting_and_recv_keeps_waiting)
{
    beacon b;
    int port = 0;
    unsigned char f[10] = { 1 };
    pt_conn *c = up_then_kill(NULL, &port);
    if (!c)
        return;
    CHECK(wait_state(c, PT_STATE_RECONNECTING, 5000));
    CHECK_EQ_INT(wss->send(c, f, sizeof f, NULL), PT_ERECONNECTING);
    CHECK_EQ_INT(wss->recv(c, f, sizeof f, NULL, 50), PT_ETIMEDOUT);
    /* A beacon on the same port refusing the first redials with 503. */
    const char *flags[] = { "--refuse=2", NULL };
    CHECK_EQ_INT(beacon_start(&b, "server", port, flags), 0);
    CHECK(wait_reconnects(c, 1, 15000));
    CHECK(echo_once(c, 64, 5));
    down(&b, c);
}

/* The redial backoff (SPEC 2.8): from 250 ms, doubling after each failed
 * redial, +-25%.  After four failed redials the next wait is 4000 ms, at
 * least this long: */
#define FIFTH_BACKOFF_MIN_MS 3000

TEST(close_during_backoff_returns_promptly)
{
    int port = 0, redials = 0;
    pt_conn *c = up_then_kill(NULL, &port);
    if (!c)
        return;
    /* In the beacon's place, a listener that fails every redial at once
     * (accept, close).  Once four redials have failed the plugin is in a
     * backoff of at least FIFTH_BACKOFF_MIN_MS: close must end it, not
     * sleep it out. */
    int ls = listen_on(port);
    CHECK(ls >= 0);
    while (ls >= 0 && redials < 4) {
        struct pollfd p = { ls, POLLIN, 0 };
        if (poll(&p, 1, (int)ceiling_ms(2500)) != 1) /* the longest backoff before it */
            break;
        int s = accept(ls, NULL, NULL);
        if (s < 0)
            break;
        /* End the handshake (FIN), then wait until the plugin hangs up:
         * it has given this redial up and goes into its backoff. */
        shutdown(s, SHUT_WR);
        int gone = hung_up(s, ceiling_ms(0));
        close(s);
        if (!gone)
            break;
        redials++;
    }
    CHECK_EQ_INT(redials, 4);
    int64_t t0 = now_ms();
    wss->close(c);
    wss->free(c); /* joins the keeper: it must have stopped */
    int64_t took = now_ms() - t0;
    printf("# close during the fifth backoff took %lld ms\n", (long long)took);
    /* Natively this tells a close that ends the wait from one that sleeps
     * it out; under valgrind (scaled) only that close returns. */
    CHECK(took < FIFTH_BACKOFF_MIN_MS * scale);
    if (ls >= 0)
        close(ls);
}

TEST(close_during_a_redial_returns_promptly)
{
    int port = 0;
    /* A dial timeout far beyond the ceiling below. */
    const char *kv[] = { "dial-timeout", dur(20000), NULL };
    pt_conn *c = up_then_kill(kv, &port);
    if (!c)
        return;
    /* A listener that accepts TCP and never speaks: the redial hangs in
     * the TLS handshake until close interrupts it. */
    int ls = listen_on(port);
    CHECK(ls >= 0);
    /* Wait until the plugin's first redial (after 250 ms +-25%) has
     * connected to it. */
    struct pollfd p = { ls, POLLIN, 0 };
    int ready = poll(&p, 1, (int)ceiling_ms(313));
    CHECK_EQ_INT(ready, 1);
    /* Only when a redial is there: accept would wait for the next one. */
    int conn = ls >= 0 && ready == 1 ? accept(ls, NULL, NULL) : -1;
    int64_t t0 = now_ms();
    wss->close(c);
    wss->free(c);
    int64_t took = now_ms() - t0;
    printf("# close during a redial took %lld ms\n", (long long)took);
    CHECK(took < ceiling_ms(0));
    if (conn >= 0)
        close(conn);
    if (ls >= 0)
        close(ls);
}

/* The time of the i-th kept line (from 1) containing needle, or -1. */
static int64_t nth_line_ms(log_book *lb, const char *needle, unsigned i)
{
    int64_t t = -1;
    pthread_mutex_lock(&lb->mu);
    for (unsigned k = 0; k < lb->n && k < LOG_BOOK_LINES && t < 0; k++)
        if (strstr(lb->line[k].msg, needle) && --i == 0)
            t = lb->line[k].ms;
    pthread_mutex_unlock(&lb->mu);
    return t;
}

/* A beacon that accepts every dial and drops it at once, closing with 1000
 * "replaced" (as two daemons sharing a node id do to each other): the link
 * never stays up for an idle-ping, so the backoff must keep doubling, not
 * restart at 250 ms after every successful auth.  Each gap from the drop to
 * the next reconnect is at least 75 % (the jitter's floor) of 250, 500,
 * 1000, 2000 ms; and the cause is logged as a warning of its own. */
#define REDIALS 4
TEST(a_link_dropped_right_after_auth_is_redialled_with_growing_delays)
{
    static log_book lb;
    beacon b;
    pt_conn *c = NULL;
    const char *flags[] = { "--close-after-auth", NULL };
    log_book_init(&lb);
    if (beacon_start(&b, "server", 0, flags) != 0) {
        CHECK(0);
        log_book_destroy(&lb);
        return;
    }
    CHECK_EQ_INT(dial_logged(&b, &me, NULL, &lb, PT_LOG_INFO, &c), PT_OK);
    /* Generous: the nominal delays add up to 3.75 s, plus the dials. */
    CHECK(c && log_book_wait(&lb, "wss: reconnected", REDIALS, 30000));
    int64_t nominal = 250;
    for (unsigned i = 1; i <= REDIALS; i++, nominal *= 2) {
        int64_t lost = nth_line_ms(&lb, "wss: connection lost", i);
        int64_t back = nth_line_ms(&lb, "wss: reconnected", i);
        printf("# drop %u: reconnected after %lld ms (nominal backoff %lld ms)\n", i,
               (long long)(back - lost), (long long)nominal);
        CHECK(lost >= 0 && back >= lost && back - lost >= nominal * 3 / 4);
    }
    CHECK(log_book_wait(&lb, "beacon closed the connection: 1000 replaced", 1, 0));
    CHECK(log_book_wait(&lb, "another connection with node id 7 replaced this one", 1, 0));
    pthread_mutex_lock(&lb.mu);
    for (unsigned k = 0; k < lb.n && k < LOG_BOOK_LINES; k++)
        if (strstr(lb.line[k].msg, "replaced this one"))
            CHECK_EQ_INT(lb.line[k].level, PT_LOG_WARN);
    pthread_mutex_unlock(&lb.mu);
    down(&b, c);
    log_book_destroy(&lb);
}

/* ---- Keep-alive --------------------------------------------------------- */

TEST(idle_ping_keeps_a_quiet_connection_alive)
{
    beacon b;
    pt_conn *c;
    unsigned char buf[16];
    /* A pong may come late on a busy machine: a second is plenty, and a
     * ping left unanswered would still drop the link within the quiet
     * time below (idle-ping + pong-timeout < 2 s). */
    const char *kv[] = { "idle-ping", dur(100), "pong-timeout", dur(1000), NULL };
    c = up(&b, NULL, kv);
    if (c) {
        /* Quiet for 20 ping intervals: every ping must be answered. */
        CHECK_EQ_INT(wss->recv(c, buf, sizeof buf, NULL, 2000 * scale), PT_ETIMEDOUT);
        pt_stats s = stats_of(c);
        CHECK_EQ_INT(s.reconnects, 0);
        CHECK_EQ_INT(s.state, PT_STATE_CONNECTED);
        CHECK(echo_once(c, 10, 1));
    }
    down(&b, c);
}

/* The production beacon's idle rule (--idle-data-only): only data messages
 * count, pings do not, and an idle peer is cut (TCP EOF) after the idle
 * timeout.  An idle link must survive three such windows with no
 * reconnect: the plugin's keep-alive (a text message when nothing was sent
 * for an idle-ping) is data to that beacon. */
#define IDLE_TIMEOUT_S 2
TEST(an_idle_link_survives_a_beacon_that_counts_only_data)
{
    beacon b;
    pt_conn *c;
    unsigned char buf[16];
    char idle_timeout[32];
    snprintf(idle_timeout, sizeof idle_timeout, "--idle-timeout=%d", IDLE_TIMEOUT_S * scale);
    const char *flags[] = { "--idle-data-only", idle_timeout, NULL };
    const char *kv[] = { "idle-ping", dur(500), NULL };
    c = up(&b, flags, kv);
    if (c) {
        CHECK_EQ_INT(wss->recv(c, buf, sizeof buf, NULL, (3 * IDLE_TIMEOUT_S * 1000 + 500) * scale),
                     PT_ETIMEDOUT);
        pt_stats s = stats_of(c);
        CHECK_EQ_INT(s.reconnects, 0);
        CHECK_EQ_INT(s.state, PT_STATE_CONNECTED);
        if (s.reconnects) {
            char msg[PT_ERRMSG_MAX];
            wss->last_error(c, msg, sizeof msg);
            printf("# %s\n", msg);
        }
        CHECK(echo_once(c, 10, 1));
    }
    down(&b, c);
}

/* While the host sends, the beacon hears data and the plugin sends no
 * keep-alive (the beacon counts the text messages it ignores: text_in);
 * once the host goes quiet, keep-alives come, one per idle-ping. */
#define KA_IDLE_PING_MS 300
TEST(data_flowing_sends_no_keepalive_and_a_quiet_link_does)
{
    beacon b;
    pt_conn *c = NULL;
    unsigned char buf[16];
    uint64_t text_in = 99;
    const char *kv[] = { "idle-ping", dur(KA_IDLE_PING_MS), NULL };
    if (beacon_start_captured(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ_INT(dial_with(&b, &me, kv, &c), PT_OK);
    if (!c) {
        beacon_stop(&b);
        return;
    }
    /* Six idle-pings of traffic, a frame every fifteenth of one (a pace,
     * not a wait for anything). */
    int64_t until = now_ms() + 6 * KA_IDLE_PING_MS * scale;
    unsigned n = 0;
    while (now_ms() < until) {
        CHECK(echo_once(c, 16, n++));
        poll(NULL, 0, KA_IDLE_PING_MS / 15 * scale);
    }
    CHECK_EQ_INT(beacon_counter(&b, "text_in", &text_in), 0);
    CHECK_EQ_INT(text_in, 0);
    printf("# %u frames echoed, %llu text messages at the beacon\n", n,
           (unsigned long long)text_in);
    /* Quiet for three and a half idle-pings: three keep-alives are due. */
    CHECK_EQ_INT(wss->recv(c, buf, sizeof buf, NULL, 7 * KA_IDLE_PING_MS / 2 * scale),
                 PT_ETIMEDOUT);
    CHECK_EQ_INT(beacon_counter(&b, "text_in", &text_in), 0);
    printf("# quiet: %llu keep-alives\n", (unsigned long long)text_in);
    CHECK(text_in >= 2 && text_in <= 4);
    CHECK_EQ_INT(stats_of(c).reconnects, 0);
    down(&b, c);
}

TEST(connection_outlives_the_dial_timeout)
{
    /* The dial timeout bounds the dial only: libcurl's transfer timeouts
     * must not cut a long-lived link afterwards. */
    beacon b;
    pt_conn *c;
    unsigned char buf[16];
    const char *kv[] = { "dial-timeout", dur(1000), "idle-ping", dur(200), NULL };
    c = up(&b, NULL, kv);
    if (c) {
        /* Twice the dial timeout (a dial on a busy machine needs that
         * margin for itself). */
        CHECK_EQ_INT(wss->recv(c, buf, sizeof buf, NULL, 2000 * scale), PT_ETIMEDOUT);
        CHECK(echo_once(c, 100, 1));
        CHECK_EQ_INT(stats_of(c).reconnects, 0);
    }
    down(&b, c);
}

TEST(half_open_connection_is_detected_and_reconnected)
{
    beacon b;
    pt_conn *c;
    const char *flags[] = { "--no-pong", NULL };
    const char *kv[] = { "idle-ping", dur(100), "pong-timeout", dur(200), NULL };
    c = up(&b, flags, kv);
    if (c) {
        CHECK(wait_reconnects(c, 1, 5000));
        char msg[PT_ERRMSG_MAX];
        wss->last_error(c, msg, sizeof msg);
        CHECK_STR_CONTAINS(msg, "idle ping timeout");
    }
    down(&b, c);
}

/* ---- Data path ------------------------------------------------------------ */

TEST(oversize_send_is_refused)
{
    beacon b;
    pt_conn *c;
    static unsigned char big[PT_MAX_FRAME + 1];
    c = up(&b, NULL, NULL);
    if (c) {
        CHECK_EQ_INT(wss->send(c, big, sizeof big, NULL), PT_ETOOLARGE);
        CHECK(echo_once(c, 10, 1)); /* the connection is fine */
    }
    down(&b, c);
}

/* A datagram is 1 byte at least: send and send_many refuse an empty one
 * (with a buffer) before anything is sent. */
TEST(empty_send_is_refused)
{
    beacon b;
    pt_conn *c;
    char msg[PT_ERRMSG_MAX];
    unsigned char in[16];
    c = up(&b, NULL, NULL);
    if (c) {
        CHECK_EQ_INT(wss->send(c, "x", 0, NULL), PT_EINVAL);
        CHECK_EQ_INT(wss->last_error(c, msg, sizeof msg), PT_EINVAL);
        CHECK_STR_CONTAINS(msg, "wss send: an empty datagram (len 0)");
        CHECK_EQ_INT(wss->send(c, NULL, 0, NULL), PT_EINVAL);
        pt_frame f[2] = { { "one", 3, NULL }, { "", 0, NULL } };
        CHECK_EQ_INT(wss->send_many(c, f, 2), PT_EINVAL);
        CHECK_EQ_INT(wss->recv(c, in, sizeof in, NULL, 200 * scale), PT_ETIMEDOUT);
        CHECK_EQ_INT(stats_of(c).frames_out, 0);
        CHECK(echo_once(c, 10, 1)); /* the connection is fine */
    }
    down(&b, c);
}

/* 200 frames of sizes up to 64 KiB in one call: several times the send
 * queue, so it is written in several runs; all echo back in order. */
TEST(send_many_sends_every_frame_in_order)
{
    enum { N = 200 };
    beacon b;
    pt_conn *c = up(&b, NULL, NULL);
    static unsigned char out[N][2048], in[PT_MAX_FRAME];
    static unsigned char big[PT_MAX_FRAME];
    pt_frame f[N];
    if (!c) {
        down(&b, c);
        return;
    }
    for (int i = 0; i < N; i++) {
        memset(out[i], i, sizeof out[i]);
        f[i] = (pt_frame){ out[i], 1 + (size_t)(i * 37) % sizeof out[i], NULL };
    }
    memset(big, 0xee, sizeof big);
    for (int i = 0; i < N; i += 50) /* every 50th is a largest frame */
        f[i] = (pt_frame){ big, sizeof big, NULL };
    CHECK_EQ_INT(wss->send_many(c, f, N), N);
    for (int i = 0; i < N; i++) {
        int n = wss->recv(c, in, sizeof in, NULL, 5000 * scale);
        unsigned char want = f[i].data == big ? 0xee : (unsigned char)i;
        if (n != (int)f[i].len || in[0] != want || in[n - 1] != want) {
            printf("# frame %d: got %d bytes starting %d\n", i, n, n > 0 ? in[0] : -1);
            CHECK(0);
            break;
        }
    }
    CHECK_EQ_INT(wss->send_many(c, f, 0), 0);
    CHECK_EQ_INT(stats_of(c).frames_out, N);
    down(&b, c);
}

/* One bad frame refuses the call before anything is sent; a connection
 * that is down or closed refuses it as send does. */
TEST(send_many_refuses_bad_frames_and_a_connection_that_is_down)
{
    beacon b;
    pt_conn *c = up(&b, NULL, NULL);
    static unsigned char big[PT_MAX_FRAME + 1], in[16];
    pt_frame f[3] = { { "one", 3, NULL }, { big, sizeof big, NULL }, { "three", 5, NULL } };
    if (!c) {
        down(&b, c);
        return;
    }
    CHECK_EQ_INT(wss->send_many(c, f, 3), PT_ETOOLARGE);
    f[1] = (pt_frame){ NULL, 3, NULL };
    CHECK_EQ_INT(wss->send_many(c, f, 3), PT_EINVAL);
    CHECK_EQ_INT(wss->recv(c, in, sizeof in, NULL, 200 * scale), PT_ETIMEDOUT);
    CHECK_EQ_INT(stats_of(c).frames_out, 0);
    f[1] = (pt_frame){ "two", 3, NULL };
    beacon_stop_sig(&b, SIGKILL);
    CHECK(wait_state(c, PT_STATE_RECONNECTING, 5000));
    CHECK_EQ_INT(wss->send_many(c, f, 3), PT_ERECONNECTING);
    wss->close(c);
    CHECK_EQ_INT(wss->send_many(c, f, 3), PT_ECLOSED);
    wss->free(c);
}

TEST(oversize_inbound_message_drops_and_reconnects)
{
    beacon b;
    pt_conn *c;
    const char *flags[] = { "--oversize", NULL };
    c = up(&b, flags, NULL);
    if (c) {
        /* The beacon sends the oversize message after every auth, so the
         * link drops again each time: count the redials. */
        char msg[PT_ERRMSG_MAX];
        CHECK(wait_redials(c, 1, 0, 5000));
        CHECK(stats_of(c).dropped_in >= 1);
        CHECK_EQ_INT(stats_of(c).frames_in, 0); /* no piece of it surfaced */
        wss->last_error(c, msg, sizeof msg);
        CHECK_STR_CONTAINS(msg, "over 65536 bytes");
    }
    down(&b, c);
}

TEST(fragmented_inbound_message_is_reassembled)
{
    beacon b;
    pt_conn *c;
    const char *flags[] = { "--fragment", NULL };
    c = up(&b, flags, NULL);
    if (c) {
        CHECK(echo_once(c, 3000, 7));
        CHECK(echo_once(c, 5, 8));
        /* A largest message fills the assembly area (link.c) to its last
         * byte; under ASan or valgrind the gap behind it is poisoned. */
        CHECK(echo_once(c, PT_MAX_FRAME, 9));
        CHECK(echo_once(c, 70, 10));
    }
    down(&b, c);
}

TEST(text_message_after_auth_is_ignored)
{
    beacon b;
    pt_conn *c;
    const char *flags[] = { "--text-after-auth", "--ping-after-auth", NULL };
    c = up(&b, flags, NULL);
    if (c) {
        CHECK(echo_once(c, 200, 9));
        CHECK_EQ_INT(stats_of(c).reconnects, 0);
        CHECK_EQ_INT(stats_of(c).frames_in, 1);
    }
    down(&b, c);
}

/* ---- The host's log callback ------------------------------------------------ */

/* A host logger that holds the thread bringing the first line that contains
 * hold_on until the test releases it -- never the test's own thread (main),
 * which would wait for itself.  The plugin hands the host its lines from
 * whichever of its callers unlocks next (lib/diag.c), so a line another
 * thread recorded can come on main: on_main says so, and it is not held. */
static struct slow_logger {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const char *hold_on;
    int held, holding, released, on_main;
    pthread_t main;
} SL = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, 0, 0 };

/* The longest a thread is held (scaled): far beyond what a test holds it
 * for, so that a test that never releases fails instead of hanging free(). */
#define SLOW_LOG_HOLD_MAX_MS 60000

static void slow_log(void *userdata, int level, const char *msg)
{
    (void)userdata;
    (void)level;
    pthread_mutex_lock(&SL.mu);
    if (!SL.held && strstr(msg, SL.hold_on)) {
        if (pthread_equal(pthread_self(), SL.main)) {
            SL.on_main = 1;
        } else {
            struct timespec until =
                deadline_after_ms(CLOCK_REALTIME, (int64_t)SLOW_LOG_HOLD_MAX_MS * scale);
            int rc = 0;
            SL.held = SL.holding = 1;
            pthread_cond_broadcast(&SL.cv);
            while (!SL.released && rc == 0)
                rc = pthread_cond_timedwait(&SL.cv, &SL.mu, &until);
            SL.holding = 0;
        }
    }
    pthread_mutex_unlock(&SL.mu);
}

/* Hold the first thread that logs a line containing hold_on, from now on. */
static void slow_arm(const char *hold_on)
{
    pthread_mutex_lock(&SL.mu);
    SL.hold_on = hold_on;
    SL.held = SL.holding = SL.released = SL.on_main = 0;
    SL.main = pthread_self();
    pthread_mutex_unlock(&SL.mu);
}

/* Let the held thread (and any later one) go. */
static void slow_release(void)
{
    pthread_mutex_lock(&SL.mu);
    SL.released = 1;
    pthread_cond_broadcast(&SL.cv);
    pthread_mutex_unlock(&SL.mu);
}

/* Wait (ms, scaled) until *flag is set, under SL's lock. */
static int slow_wait(const int *flag, int ms)
{
    struct timespec until = deadline_after_ms(CLOCK_REALTIME, (int64_t)ms * scale);
    int rc = 0;
    pthread_mutex_lock(&SL.mu);
    while (!*flag && rc == 0)
        rc = pthread_cond_timedwait(&SL.cv, &SL.mu, &until);
    int set = *flag;
    pthread_mutex_unlock(&SL.mu);
    return set;
}

/* Read one of SL's flags under its lock. */
static int slow_flag(const int *flag)
{
    pthread_mutex_lock(&SL.mu);
    int set = *flag;
    pthread_mutex_unlock(&SL.mu);
    return set;
}

struct progress {
    pt_conn *c;
    int recv_too; /* echo: send and recv; else send only */
    int ok, finished;
};

/* Ten frames out (and back), then finished, under SL's lock. */
static void *make_progress(void *arg)
{
    struct progress *p = arg;
    unsigned char f[100] = { 7 }, in[200];
    int ok = 1;
    for (int i = 0; i < 10 && ok; i++) {
        ok = wss->send(p->c, f, sizeof f, NULL) == (int)sizeof f;
        if (ok && p->recv_too)
            ok = wss->recv(p->c, in, sizeof in, NULL, 5000 * scale) == (int)sizeof f;
    }
    pthread_mutex_lock(&SL.mu);
    p->ok = ok;
    p->finished = 1;
    pthread_cond_broadcast(&SL.cv);
    pthread_mutex_unlock(&SL.mu);
    return NULL;
}

/* Dial with the slow logger holding on the line with hold_on, and provoke
 * that line; once a thread other than main is held there, another thread
 * sends (and with recv_too receives) ten frames: that must finish while
 * the logger still holds.  finish (if set) runs after close, before free:
 * whether c may be freed. */
static void logger_holds_and_the_connection_goes_on(const char *hold_on, int recv_too,
                                                    void (*provoke)(beacon *, pt_conn *),
                                                    int (*finish)(pt_conn *))
{
    beacon b;
    pt_conn *c = NULL;
    pthread_t t;
    struct progress p = { NULL, recv_too, 0, 0 };
    slow_arm(hold_on);
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    pt_option opts[2];
    char url[128], ca[600];
    snprintf(url, sizeof url, "wss://localhost:%d/v1/compat", b.port);
    snprintf(ca, sizeof ca, "%s/ca.pem", certs);
    opts[0] = (pt_option){ "url", url };
    opts[1] = (pt_option){ "ca-file", ca };
    pt_dial_params dp = PT_DIAL_PARAMS_INIT;
    dp.options = opts;
    dp.n_options = 2;
    dp.identity = &me;
    dp.log = slow_log;
    dp.log_level = PT_LOG_DEBUG;
    CHECK_EQ_INT(wss->dial(&dp, &c, err, sizeof err), PT_OK);
    if (!c) {
        beacon_stop(&b);
        return;
    }
    provoke(&b, c);
    CHECK(slow_wait(&SL.held, 10000));
    if (slow_flag(&SL.on_main))
        printf("# the line came on the test's own thread: nothing held\n");
    p.c = c;
    int made = pthread_create(&t, NULL, make_progress, &p) == 0;
    CHECK(made);
    CHECK(made && slow_wait(&p.finished, 10000));
    CHECK(p.ok);
    CHECK(slow_flag(&SL.holding)); /* all that while the logger held */
    slow_release();
    /* Ten sends and recvs of 5 s (scaled) at most. */
    int may_free = !made || join_or_close(t, c, 60000, "the sender");
    wss->close(c);
    if (finish && !finish(c))
        may_free = 0;
    if (may_free)
        wss->free(c);
    beacon_stop(&b);
}

/* A text message, once dial has returned: no thread of the test is in the
 * plugin, so the keeper reads it (the host is not in recv), logs it at
 * DEBUG and hands that line to the host itself.  (One that came with
 * auth_ok, as --text-after-auth sends it, the keeper may log while dial is
 * handing the host its own line: then dial's thread, main, takes it.) */
static void text_now(beacon *b, pt_conn *c)
{
    (void)c;
    CHECK_EQ_INT(beacon_send_text(b), 0);
}

/* A host logger stuck on the keeper's line must stall neither send nor
 * recv. */
TEST(a_logger_stuck_in_the_keeper_stalls_neither_send_nor_recv)
{
    logger_holds_and_the_connection_goes_on("ignored a", 1, text_now, NULL);
}

static void *recv_too_small(void *arg)
{
    unsigned char small[8];
    wss->recv(arg, small, sizeof small, NULL, 10000 * scale);
    return NULL;
}

static pthread_t small_reader;
static int small_reader_started;

/* An echoed frame that the host's reader cannot take: dropped, and logged
 * from the reader's own thread. */
static void drop_one(beacon *b, pt_conn *c)
{
    (void)b;
    unsigned char f[64] = { 1 };
    CHECK_EQ_INT(wss->send(c, f, sizeof f, NULL), (int)sizeof f);
    small_reader_started = pthread_create(&small_reader, NULL, recv_too_small, c) == 0;
    CHECK(small_reader_started);
}

/* The reader, after close (which ends its recv): joined before free. */
static int join_small_reader(pt_conn *c)
{
    return !small_reader_started || join_or_close(small_reader, c, 10000, "the reader");
}

/* A reader whose dropped frame's warning is stuck in the host's logger
 * must not stall the writer. */
TEST(a_logger_stuck_on_a_dropped_frame_does_not_stall_send)
{
    logger_holds_and_the_connection_goes_on("frame discarded", 0, drop_one, join_small_reader);
}

static void *free_main(void *arg)
{
    wss->free(arg);
    return NULL;
}

/* close() while the keeper is in the middle of a round: past its look at
 * close, not yet holding the lock.  It is held there in the host's logger,
 * on the summary of dropped frames its tick logs at the top of the round
 * (the reader logs the first drop at once, the keeper the next ones a
 * second later).  When it goes on, a ping or keep-alive is due, which a
 * closed connection no longer queues: the keeper must still finish the
 * round and end, so free() returns.  (It used to spin for good in
 * wss_conn_push_out with the lock held, and free() never returned.) */
#define MID_ROUND_IDLE_PING_MS 100
TEST(free_returns_after_a_close_in_the_middle_of_a_keeper_round)
{
    beacon b;
    pt_conn *c = NULL;
    dial_setup d;
    static unsigned char f[64], small[8];
    pt_frame three[3] = { { f, sizeof f, NULL }, { f, sizeof f, NULL }, { f, sizeof f, NULL } };
    const char *kv[] = { "idle-ping", dur(MID_ROUND_IDLE_PING_MS), "pong-timeout", dur(60000),
                         NULL };
    slow_arm("wss: inbound frames dropped");
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    dial_setup_init(&d, b.port, &me, kv);
    d.p.log = slow_log;
    d.p.log_level = PT_LOG_WARN;
    CHECK_EQ_INT(dial_setup_dial(&d, &c), PT_OK);
    /* Drops a second apart are each logged at once by the reader (main,
     * never held): then try again. */
    int held = 0;
    for (int round = 0; c && round < 3 && !held && !tap_point_failed; round++) {
        CHECK_EQ_INT(wss->send_many(c, three, 3), 3);
        for (int i = 0; i < 3; i++)
            CHECK_EQ_INT(wss->recv(c, small, sizeof small, NULL, 5000 * scale), PT_ETOOLARGE);
        held = slow_wait(&SL.held, 3000);
    }
    CHECK(held);
    if (!c) {
        beacon_stop(&b);
        return;
    }
    CHECK_EQ_INT(wss->close(c), PT_OK); /* the keeper holds no lock: close returns */
    /* A ping and a keep-alive fall due meanwhile (a pace, not a wait for
     * anything). */
    poll(NULL, 0, 3 * MID_ROUND_IDLE_PING_MS * scale);
    slow_release();
    pthread_t t;
    if (pthread_create(&t, NULL, free_main, c) != 0) {
        CHECK(0);
        wss->free(c);
    } else if (!thread_join_within(t, ceiling_ms(0))) {
        printf("# free() did not return: the keeper never ended\n");
        CHECK(0);
        beacon_stop(&b);
        /* A plugin thread stuck with the connection's lock (spinning, in
         * the bug this is about) would stall or slow what follows. */
        printf("Bail out! a keeper thread is stuck after close\n");
        fflush(stdout);
        _exit(1);
    }
    beacon_stop(&b);
}

/* The count a log line of dropped frames stands for: a summary's N, a
 * single drop's 1, anything else 0. */
static uint64_t dropped_in_line(const char *msg)
{
    const char *p = strstr(msg, "wss: inbound frames dropped: ");
    if (p)
        return strtoull(p + strlen("wss: inbound frames dropped: "), NULL, 10);
    return strstr(msg, "frame discarded") ? 1 : 0;
}

/* A host reading with a buffer too small for the frames that come drops
 * each one (PT_ETOOLARGE): a flood at line rate for over two seconds gives
 * a few log lines, at most about one a second, whose counts add up to the
 * dropped_in of stats. */
TEST(a_flood_of_dropped_frames_is_logged_once_a_second_with_counts)
{
    static log_book lb;
    static unsigned char f[64];
    pt_frame batch[100];
    unsigned char small[8];
    beacon b;
    pt_conn *c = NULL;
    uint64_t dropped = 0, lines = 0, counted = 0;
    log_book_init(&lb);
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    CHECK_EQ_INT(dial_logged(&b, &me, NULL, &lb, PT_LOG_WARN, &c), PT_OK);
    for (size_t i = 0; i < 100; i++)
        batch[i] = (pt_frame){ f, sizeof f, NULL };
    int64_t t0 = now_ms();
    while (c && (now_ms() - t0 < 2500 || dropped < 2000)) {
        if (wss->send_many(c, batch, 100) != 100)
            break;
        for (int i = 0; i < 100; i++) {
            int rc = wss->recv(c, small, sizeof small, NULL, 5000 * scale);
            if (rc != PT_ETOOLARGE) {
                printf("# recv: %d\n", rc);
                CHECK(0);
                break;
            }
            dropped++;
        }
        if (tap_point_failed)
            break;
    }
    int64_t took = now_ms() - t0;
    pt_stats st = c ? stats_of(c) : (pt_stats){ 0 };
    done(c); /* close sums up the last ones */
    pthread_mutex_lock(&lb.mu);
    for (unsigned i = 0; i < lb.n && i < LOG_BOOK_LINES; i++) {
        uint64_t n = dropped_in_line(lb.line[i].msg);
        lines += n > 0;
        counted += n;
    }
    pthread_mutex_unlock(&lb.mu);
    printf("# %llu frames dropped in %lld ms: %llu log lines, counting %llu\n",
           (unsigned long long)dropped, (long long)took, (unsigned long long)lines,
           (unsigned long long)counted);
    CHECK_EQ_INT(st.dropped_in, dropped);
    CHECK_EQ_INT(counted, dropped);
    CHECK(lines >= 2 && lines <= (uint64_t)(took / 1000) + 3);
    beacon_stop(&b);
    log_book_destroy(&lb);
}

/* One reader and one writer thread on the same connection, as the ABI
 * allows (and as make check-tsan runs under ThreadSanitizer). */
#define HAMMER_FRAMES 3000

struct hammer {
    pt_conn *c;
    int sent, received, corrupt;
};

static void *hammer_writer(void *arg)
{
    struct hammer *h = arg;
    unsigned char f[512];
    for (int i = 0; i < HAMMER_FRAMES; i++) {
        size_t len = 16 + (size_t)(i % 400);
        memset(f, (unsigned char)i, len);
        memcpy(f, &i, sizeof i);
        if (wss->send(h->c, f, len, NULL) != (int)len)
            break;
        h->sent++;
    }
    return NULL;
}

static void *hammer_reader(void *arg)
{
    struct hammer *h = arg;
    unsigned char f[PT_MAX_FRAME];
    for (int i = 0; i < HAMMER_FRAMES; i++) {
        int n = wss->recv(h->c, f, sizeof f, NULL, 10000 * scale);
        int seq;
        if (n < (int)sizeof seq)
            break;
        memcpy(&seq, f, sizeof seq);
        /* TCP keeps order: echo i comes back i-th, intact. */
        if (seq != i || n != 16 + i % 400 || f[n - 1] != (unsigned char)i)
            h->corrupt++;
        h->received++;
    }
    return NULL;
}

TEST(reader_and_writer_threads_share_a_connection)
{
    beacon b;
    pt_conn *c;
    const char *kv[] = { "idle-ping", dur(100), NULL }; /* pings cross the data too */
    c = up(&b, NULL, kv);
    if (c) {
        struct hammer h = { c, 0, 0, 0 };
        pthread_t r, w;
        int have_r = pthread_create(&r, NULL, hammer_reader, &h) == 0;
        int have_w = pthread_create(&w, NULL, hammer_writer, &h) == 0;
        CHECK(have_r && have_w);
        /* Natively a second or two; a writer blocked for good (the beacon
         * no longer reading) is woken by close. */
        int joined = !have_w || join_or_close(w, c, 60000, "the writer");
        joined = (!have_r || join_or_close(r, c, 60000, "the reader")) && joined;
        CHECK_EQ_INT(h.sent, HAMMER_FRAMES);
        CHECK_EQ_INT(h.received, HAMMER_FRAMES);
        CHECK_EQ_INT(h.corrupt, 0);
        CHECK_EQ_INT(stats_of(c).reconnects, 0);
        if (!joined)
            c = NULL; /* a thread still uses it: leaked */
    }
    down(&b, c);
}

TEST(dial_without_identity_or_node_is_refused)
{
    pt_conn *c;
    pt_identity none = me;
    none.node_id = 0;
    CHECK_EQ_INT(dial_with(NULL, &none, NULL, &c), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "node id");
    CHECK_EQ_INT(dial_with(NULL, NULL, NULL, &c), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "identity");
}

/* ---- Proxy (a real tinyproxy) -------------------------------------------- */

/* A beacon and tinyproxy (password s3cret-pw) for a proxy test: 0, or -1
 * (a failed check) with neither left running. */
static int beacon_and_proxy(beacon *b, tinyproxy *px)
{
    if (beacon_and_tinyproxy(b, px, "s3cret-pw") != 0) {
        CHECK(0);
        return -1;
    }
    return 0;
}

TEST(dial_through_an_authenticating_proxy)
{
    beacon b;
    tinyproxy px;
    pt_conn *c;
    char url[128];
    if (beacon_and_proxy(&b, &px) != 0)
        return;
    snprintf(url, sizeof url, "http://user:s3cret-pw@127.0.0.1:%d", px.port);
    const char *kv[] = { "proxy", url, NULL };
    CHECK_EQ_INT(dial_with(&b, &me, kv, &c), PT_OK);
    if (c)
        CHECK(echo_once(c, 500, 3));
    else
        printf("# %s\n", err);
    done(c);
    tinyproxy_stop(&px);
    beacon_stop(&b);
}

/* Once the connection that used a proxy password is freed, the password
 * is nowhere in the process's memory: not in our copies, and not in
 * libcurl's (its option copy, its connection's, the Basic credentials it
 * encoded, the CONNECT request it built), whose blocks the plugin's
 * memory functions wipe as libcurl frees them (plugin/wss/curl_mem.h).
 * The password is fresh, so no earlier test left it anywhere; the test's
 * own copies are built without stdio and wiped before the scan. */
TEST(proxy_password_is_wiped_from_memory_after_free)
{
    static char pw[40], userpw[48], b64[BASE64_ENCODE_RAW_LENGTH(sizeof userpw) + 1];
    static char url[160];
    char where[300], port[16];
    beacon b;
    tinyproxy px;
    pt_conn *c = NULL;

    CHECK_EQ_INT(memscan_fresh_secret(pw, sizeof pw, "wipe-me-"), 0);
    strcpy(userpw, "user:");
    str_append(userpw, sizeof userpw, pw);
    base64_encode_raw(b64, strlen(userpw), (const uint8_t *)userpw);
    b64[BASE64_ENCODE_RAW_LENGTH(strlen(userpw))] = '\0';
    explicit_bzero(userpw, sizeof userpw);

    if (beacon_and_tinyproxy(&b, &px, pw) != 0) {
        CHECK(0);
        return;
    }
    snprintf(port, sizeof port, "%d", px.port);
    strcpy(url, "http://user:");
    str_append(url, sizeof url, pw);
    str_append(url, sizeof url, "@127.0.0.1:");
    str_append(url, sizeof url, port);
    const char *kv[] = { "proxy", url, NULL };
    CHECK_EQ_INT(dial_with(&b, &me, kv, &c), PT_OK);
    if (c)
        CHECK(echo_once(c, 200, 5));
    else
        printf("# %s\n", err);
    /* The scan can see: the test's url and the connection's own copy
     * (kept for redials) are there now. */
    CHECK(memscan_count(pw + strlen(pw) - 12, 12, where, sizeof where) >= 1);
    done(c);
    explicit_bzero(url, sizeof url);

    /* The tails (memscan_fresh_secret says why). */
    long n = memscan_count(pw + strlen(pw) - 12, 12, where, sizeof where);
    printf("# the password: %ld cop%s left%s%s\n", n, n == 1 ? "y" : "ies", n > 0 ? ", first at " : "",
           n > 0 ? where : "");
    CHECK_EQ_INT((int)n, 0);
    n = memscan_count(b64 + strlen(b64) - 16, 16, where, sizeof where);
    printf("# the Basic credentials: %ld cop%s left%s%s\n", n, n == 1 ? "y" : "ies",
           n > 0 ? ", first at " : "", n > 0 ? where : "");
    CHECK_EQ_INT((int)n, 0);

    secrets_register_password("wiped proxy password", pw); /* after the scan: it copies */
    explicit_bzero(pw, sizeof pw);
    explicit_bzero(b64, sizeof b64);
    tinyproxy_stop(&px);
    beacon_stop(&b);
}

TEST(proxy_refusing_credentials_fails_without_the_password)
{
    beacon b;
    tinyproxy px;
    pt_conn *c;
    char url[128];
    if (beacon_and_proxy(&b, &px) != 0)
        return;
    /* No credentials: 407 Proxy Authentication Required. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", px.port);
    const char *kv[] = { "proxy", url, NULL };
    CHECK_EQ_INT(dial_with(&b, &me, kv, &c), PT_EPROXY);
    CHECK_STR_CONTAINS(err, "proxy refused CONNECT");
    CHECK_STR_CONTAINS(err, "HTTP 407");
    done(c);
    /* Wrong credentials (tinyproxy answers those with 401): refused, and
     * the password appears nowhere in the message. */
    snprintf(url, sizeof url, "http://user:wrong-pw-123@127.0.0.1:%d", px.port);
    kv[1] = url;
    CHECK_EQ_INT(dial_with(&b, &me, kv, &c), PT_EPROXY);
    CHECK_STR_CONTAINS(err, "proxy refused CONNECT");
    CHECK(strstr(err, "wrong-pw-123") == NULL);
    done(c);
    tinyproxy_stop(&px);
    beacon_stop(&b);
}

TEST(proxy_from_environment_and_no_proxy_bypass)
{
    beacon b;
    tinyproxy px;
    pt_conn *c;
    int rc;
    char url[128];
    if (beacon_and_proxy(&b, &px) != 0)
        return;
    snprintf(url, sizeof url, "http://user:s3cret-pw@127.0.0.1:%d", px.port);
    setenv("HTTPS_PROXY", url, 1);
    CHECK_EQ_INT(dial_with(&b, &me, NULL, &c), PT_OK); /* proxy=auto */
    if (c)
        CHECK(echo_once(c, 50, 4));
    done(c);
    /* A dead proxy in the environment, bypassed by NO_PROXY. */
    setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
    setenv("NO_PROXY", "localhost", 1);
    CHECK_EQ_INT(dial_with(&b, &me, NULL, &c), PT_OK);
    done(c);
    unsetenv("NO_PROXY");
    rc = dial_with(&b, &me, NULL, &c); /* the dead proxy is used */
    CHECK_EQ_INT(rc, PT_EPROXY);
    if (rc != PT_EPROXY)
        printf("# %s\n", err);
    /* proxy=off ignores the environment. */
    const char *off[] = { "proxy", "off", NULL };
    CHECK_EQ_INT(dial_with(&b, &me, off, &c), PT_OK);
    done(c);
    unsetenv("HTTPS_PROXY");
    tinyproxy_stop(&px);
    beacon_stop(&b);
}

/* ---- Error paths: an unresolvable proxy, descriptors running out --------- */

#define DEAD_PROXY_PW "h4-dead-proxy-pw"

TEST(unresolvable_proxy_host_is_a_proxy_error_without_the_password)
{
    pt_conn *c;
    const char *kv[] = { "proxy", "http://user:" DEAD_PROXY_PW "@no-such-host.invalid:3128",
                         "dial-timeout", dur(10000), NULL };
    /* .invalid never resolves (RFC 6761); keep a resolver that cannot reach
     * its server from stretching the dial. */
    setenv("RES_OPTIONS", "timeout:2 attempts:1", 1);
    int rc = dial_with(NULL, &me, kv, &c);
    unsetenv("RES_OPTIONS");
    CHECK_EQ_INT(rc, PT_EPROXY);
    CHECK(c == NULL);
    CHECK_STR_CONTAINS(err, "wss dial: cannot resolve proxy host no-such-host.invalid");
    CHECK(strstr(err, DEAD_PROXY_PW) == NULL);
    CHECK(strstr(err, "user:") == NULL);
    done(c);
}

/* What a dial in a child with few descriptors left reports. */
struct fd_dial {
    int rc, fds_before, fds_after, status;
    char err[PT_ERRMSG_MAX];
};

static int count_open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

/* In a forked child, lower RLIMIT_NOFILE so that exactly `spare` more
 * descriptors can be opened, dial with the pinned roots (the memfd path),
 * and report through a pipe.  The child exits normally, so valgrind and
 * LeakSanitizer check it for leaks (status 0 means none). */
static int dial_with_spare_fds(int spare, struct fd_dial *r)
{
    int p[2];
    pid_t pid;

    memset(r, 0, sizeof *r);
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    fflush(stdout); /* nothing buffered may be written twice */
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        struct fd_dial res;
        struct rlimit rl, saved;
        pt_conn *c = NULL;
        int limit = -1, seen = 0;
        const char *kv[] = { "tls-trust", "pinned", "url", "wss://127.0.0.1:1/v1/compat",
                             "dial-timeout", dur(5000), NULL };
        memset(&res, 0, sizeof res);
        close(p[0]);
        /* The limit is the number of the spare-th free descriptor: below it
         * exactly `spare` are free, and the kernel hands out the lowest. */
        for (int fd = 0; fd < 4096 && limit < 0; fd++)
            if (fcntl(fd, F_GETFD) < 0 && seen++ == spare)
                limit = fd;
        if (limit < 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
            exit(3);
        saved = rl;
        rl.rlim_cur = (rlim_t)limit;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            exit(4);
        res.fds_before = count_open_fds();
        res.rc = dial_with(NULL, &me, kv, &c);
        done(c);
        res.fds_after = count_open_fds();
        snprintf(res.err, sizeof res.err, "%s", err);
        setrlimit(RLIMIT_NOFILE, &saved); /* LeakSanitizer needs descriptors at exit */
        exit(write(p[1], &res, sizeof res) == (ssize_t)sizeof res ? 0 : 5);
    }
    harness_track_child(pid);
    close(p[1]);
    size_t got = 0;
    int64_t deadline = now_ms() + 20000 * scale;
    while (got < sizeof *r) {
        struct pollfd pf = { p[0], POLLIN, 0 };
        int64_t left = deadline - now_ms();
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            break;
        ssize_t n = read(p[0], (char *)r + got, sizeof *r - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(p[0]);
    /* Once it has reported, it exits by itself (valgrind's leak check
     * first, in a valgrind run); a child that does neither is killed. */
    reap(pid, got < sizeof *r ? SIGKILL : 0, ceiling_ms(20000), -1, &r->status);
    if (got < sizeof *r) {
        printf("# child with %d spare descriptors: no report (wait status %d)\n", spare,
               r->status);
        return -1;
    }
    return 0;
}

/* Exactly four spare descriptors: the three eventfds and the epoll
 * instance fit, the pinned roots' memfd does not. */
TEST(pinned_roots_memfd_failure_is_a_clean_error)
{
    struct fd_dial r;
    CHECK_EQ_INT(dial_with_spare_fds(4, &r), 0);
    CHECK_EQ_INT(r.rc, PT_EIO);
    CHECK_STR_CONTAINS(r.err, "wss: pinned roots: memfd_create: Too many open files");
    CHECK_EQ_INT(r.fds_after, r.fds_before); /* nothing left open */
    CHECK(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0); /* no crash, no leak */
}

/* Every shortage from none to a few spare descriptors: a clean error
 * (PT_EIO or PT_ENOMEM) with a message, nothing leaked, never a crash. */
TEST(dial_fails_cleanly_however_few_descriptors_are_left)
{
    for (int spare = 0; spare <= 8; spare++) {
        struct fd_dial r;
        if (dial_with_spare_fds(spare, &r) != 0) {
            CHECK(0);
            continue;
        }
        if (r.rc != PT_EIO && r.rc != PT_ENOMEM)
            printf("# %d spare: %d (%s)\n", spare, r.rc, r.err);
        CHECK(r.rc == PT_EIO || r.rc == PT_ENOMEM);
        CHECK(strncmp(r.err, "wss", 3) == 0);
        if (spare < 4)
            CHECK_STR_CONTAINS(r.err, "Too many open files");
        CHECK_EQ_INT(r.fds_after, r.fds_before);
        if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
            printf("# %d spare: child wait status %d\n", spare, r.status);
        CHECK(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
    }
}

/* ---- Setup ---------------------------------------------------------------- */

int main(void)
{
    if (harness_init() != 0)
        return 1;
    tap_on_hang = harness_kill_children; /* no beacon outlives a hang, stopped or not */
    /* The proxy passwords used below, for tests/secrets.sh. */
    secrets_register_password("tinyproxy password", "s3cret-pw");
    secrets_register_password("wrong proxy password", "wrong-pw-123");
    secrets_register_password("dead proxy password", DEAD_PROXY_PW);

    RUN(auth_with_ts_and_round_trip);
    RUN(auth_legacy_challenge_without_ts);
    RUN(auth_rejected_is_a_clear_error);
    RUN(unknown_node_is_refused);
    RUN(bad_signature_is_refused);
    RUN(challenge_as_binary_frame_is_refused);
    RUN(malformed_challenge_is_refused);
    RUN(challenge_of_wrong_type_is_refused);
    RUN(challenge_with_empty_nonce_is_refused);
    RUN(no_auth_ok_within_dial_timeout);
    RUN(wrong_subprotocol_is_refused);
    RUN(untrusted_ca_is_refused);
    RUN(wrong_host_name_is_refused);
    RUN(expired_certificate_is_refused);
    RUN(pinned_roots_refuse_a_private_ca);
    RUN(system_store_refuses_a_private_ca);
    RUN(pin_mismatch_is_refused);
    RUN(matching_pin_is_accepted);
    RUN(close_is_idempotent_and_wakes_a_blocked_recv);
    RUN(close_frame_reaches_the_beacon_when_the_socket_was_full);
    RUN(close_returns_soon_when_the_socket_never_drains);
    RUN(reconnect_after_server_drops_the_connection);
    RUN(poll_fd_goes_quiet_after_a_reconnect);
    RUN(send_while_down_returns_reconnecting_and_recv_keeps_waiting);
    RUN(close_during_backoff_returns_promptly);
    RUN(close_during_a_redial_returns_promptly);
    RUN(a_link_dropped_right_after_auth_is_redialled_with_growing_delays);
    RUN(idle_ping_keeps_a_quiet_connection_alive);
    RUN(an_idle_link_survives_a_beacon_that_counts_only_data);
    RUN(data_flowing_sends_no_keepalive_and_a_quiet_link_does);
    RUN(connection_outlives_the_dial_timeout);
    RUN(half_open_connection_is_detected_and_reconnected);
    RUN(oversize_send_is_refused);
    RUN(empty_send_is_refused);
    RUN(send_many_sends_every_frame_in_order);
    RUN(send_many_refuses_bad_frames_and_a_connection_that_is_down);
    RUN(oversize_inbound_message_drops_and_reconnects);
    RUN(fragmented_inbound_message_is_reassembled);
    RUN(text_message_after_auth_is_ignored);
    RUN(a_logger_stuck_in_the_keeper_stalls_neither_send_nor_recv);
    RUN(a_logger_stuck_on_a_dropped_frame_does_not_stall_send);
    RUN(free_returns_after_a_close_in_the_middle_of_a_keeper_round);
    RUN(a_flood_of_dropped_frames_is_logged_once_a_second_with_counts);
    RUN(reader_and_writer_threads_share_a_connection);
    RUN(dial_without_identity_or_node_is_refused);
    RUN(dial_through_an_authenticating_proxy);
    RUN(proxy_password_is_wiped_from_memory_after_free);
    RUN(proxy_refusing_credentials_fails_without_the_password);
    RUN(proxy_from_environment_and_no_proxy_bypass);
    RUN(unresolvable_proxy_host_is_a_proxy_error_without_the_password);
    RUN(pinned_roots_memfd_failure_is_a_clean_error);
    RUN(dial_fails_cleanly_however_few_descriptors_are_left);

    harness_cleanup();
    return tap_done();
}
