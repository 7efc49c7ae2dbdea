/*
 * chaos.c -- the beacon killed and restarted over and over while a host
 * streams numbered frames through the WSS plugin (TAP).
 *
 * The host is node NODE (7) on the WSS plugin; the peer is node PEER_NODE
 * (8), a plain UDP socket speaking the beacon's UDP protocol (SPEC 3:
 * Discover, then RelayDeliver).  A beacon restart does not disconnect a UDP
 * node, so what the beacon took can be compared with what the peer got:
 *
 *   sender thread    offers frames through wss->send: Relay 7 -> 8, a PILT
 *                    frame whose sequence number advances only when a send
 *                    is accepted (a refused frame's number is offered
 *                    again), whose payload names the offer and the beacon
 *                    life ("epoch").  Every send must return the length or
 *                    PT_ERECONNECTING.  A refused offer is retried after
 *                    RETRY_MS, as a daemon's L3 layer would.  At most
 *                    WINDOW frames are in flight.
 *   receiver thread  reads the UDP socket: checks CRC and pattern, that
 *                    sequence numbers strictly increase (no duplicate, no
 *                    reordering), and that each delivered frame is the
 *                    offer that was accepted with that number (a refused
 *                    offer never arrives).
 *   main thread      the beacon (relay mode, on one port for all its lives)
 *                    and the restarts.  Each restart waits until the peer
 *                    has FRAMES frames of the current life, then stops the
 *                    beacon: SIGKILL on odd restarts (no counters), SIGTERM
 *                    on even ones and at the end (the exit STATS line).
 *                    Then it closes the sender's gate (no send in
 *                    progress), drains the peer with a fence datagram,
 *                    starts the next life on the same port, re-Discovers
 *                    the peer (a new beacon knows no UDP node), opens the
 *                    gate, and waits for the plugin's reconnect.
 *
 * The gate is what makes "the beacon took it => the peer got it" exact: a
 * frame tagged with life e can only have reached beacon life e, and the
 * peer's route exists before any frame of life e is offered.  For each
 * life ended by SIGTERM, the frames of that life delivered to the peer must
 * equal the beacon's frames_in and relayed, with nothing dropped.  After a
 * SIGKILL the beacon says nothing; frames accepted but not delivered are
 * counted as lost in flight (the transport does no retransmission: SPEC 1).
 *
 * CHAOS_RESTARTS (default 5, 2 under valgrind) and CHAOS_FRAMES (frames of
 * each life before its restart: 200, 30 under valgrind) size the run;
 * `make chaos` runs 100 restarts.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "pilot_packet.h"
#include "pilot_transport_loader.h"
#include "tap.h"

#define WINDOW 32        /* frames in flight, at most */
#define RETRY_MS 2       /* (scaled) pause before offering a refused frame again */
#define COME_BACK_MS 15000 /* (scaled) a restart to CONNECTED, backoff included */
/* (scaled) The plugin's idle-ping here.  A link that stays up this long
 * is stable and resets the plugin's backoff (plugin/wss/keeper.h); each
 * life keeps its link at least this long, so every restart is a first
 * drop (250 ms) and not a beacon that drops each link at once, against
 * which the backoff grows to 30 s. */
#define STABLE_MS 200
#define PROGRESS_MS 15000  /* (scaled) for FRAMES frames to reach the peer */
#define FENCE 0xff       /* first byte of a fence datagram (no beacon type) */

/* ---- Shared state ------------------------------------------------------- */

static struct {
    /* The gate: the sender offers frames only while it is open.  send_mu is
     * held across each send, so closing the gate waits out a send. */
    pthread_mutex_t send_mu;
    pthread_cond_t gate_cv;
    int gate_open;
    int stop;       /* set with both send_mu and mu held: read under either */
    uint32_t epoch; /* the beacon life frames are tagged with */

    /* Everything below: mu. */
    pthread_mutex_t mu;
    pthread_cond_t progress_cv;
    uint32_t next_seq, window_base;
    size_t cap;              /* of the arrays indexed by seq */
    uint64_t *accepted_offer; /* seq -> the offer accepted with it */
    uint32_t *accepted_epoch;
    uint64_t *delivered_offer; /* seq -> the offer the peer got, 0: none */
    int64_t max_delivered;   /* highest seq delivered, -1 */
    int rx_stop;
    uint64_t offered, accepted, refused, unexpected, window_waits_timed_out;
    int first_unexpected;
    char unexpected_msg[PT_ERRMSG_MAX];
    uint64_t delivered, duplicates, out_of_order, corrupt, stray;
    uint64_t *epoch_accepted, *epoch_delivered; /* by life, 1..lives */
    uint32_t fence_seen, discover_replies;
    uint32_t udp_overflows; /* datagrams the peer's socket dropped (SO_RXQ_OVFL) */
    char first_corrupt[256];
} S;

static pt_conn *conn;
static int peer_fd = -1, fence_fd = -1;
static struct sockaddr_in peer_sa;
static int lives;                /* restarts + 1 */
static long restarts, per_life;

/* What each beacon life's end told. */
static ch_stats *life_stats;
static int *life_exact;          /* ended by SIGTERM with a STATS line */

/* Run totals and observations for the test points. */
static int setup_ok, send_hung;
static long restarts_done, come_back_failures, progress_failures, beacon_start_failures;
static long exit_status_failures;
static int64_t come_back_max_ms;
static uint64_t reconnects_final;

/* Grow the arrays indexed by seq to hold n; mu held.  0 or -1. */
static int ensure_cap(size_t n)
{
    size_t cap = S.cap ? S.cap : 4096;
    while (cap < n)
        cap *= 2;
    if (cap == S.cap)
        return 0;
    uint64_t *ao = realloc(S.accepted_offer, cap * sizeof *ao);
    if (!ao)
        return -1;
    S.accepted_offer = ao;
    uint32_t *ae = realloc(S.accepted_epoch, cap * sizeof *ae);
    if (!ae)
        return -1;
    S.accepted_epoch = ae;
    uint64_t *dof = realloc(S.delivered_offer, cap * sizeof *dof);
    if (!dof)
        return -1;
    S.delivered_offer = dof;
    memset(dof + S.cap, 0, (cap - S.cap) * sizeof *dof);
    S.cap = cap;
    return 0;
}

/* ---- The sender ----------------------------------------------------------- */

/* Payload sizes vary, so that messages of many lengths cross the link:
 * mostly up to 1.2 KB, every 32nd one 16 to 40 KB (more than one TLS
 * record, so that a restart can cut one in the middle).  A window of them
 * fits easily in the peer's socket buffer even where net.core.rmem_max is
 * the default 208 KiB. */
static size_t payload_len(uint32_t seq)
{
    if (seq % 32 == 31)
        return 16384 + (seq * 977u) % 24000u;
    return CH_FRAME_MIN_PAYLOAD + (seq * 97u) % 1200u;
}

static int window_full(void)
{
    int64_t base = S.window_base;
    if (S.max_delivered + 1 > base)
        base = S.max_delivered + 1;
    return (int64_t)S.next_seq - base >= WINDOW;
}

static void *sender_main(void *arg)
{
    static unsigned char msg[PT_MAX_FRAME];
    (void)arg;

    for (;;) {
        /* Wait for room in the window.  A frame lost in flight never frees
         * its place, so the wait is bounded; the gate reopening resets it. */
        pthread_mutex_lock(&S.mu);
        if (window_full()) {
            struct timespec until = ch_deadline(200);
            while (window_full() && !S.stop)
                if (pthread_cond_timedwait(&S.progress_cv, &S.mu, &until) == ETIMEDOUT) {
                    S.window_waits_timed_out++;
                    break;
                }
        }
        pthread_mutex_unlock(&S.mu);

        pthread_mutex_lock(&S.send_mu);
        while (!S.gate_open && !S.stop)
            pthread_cond_wait(&S.gate_cv, &S.send_mu);
        if (S.stop) {
            pthread_mutex_unlock(&S.send_mu);
            break;
        }
        pthread_mutex_lock(&S.mu);
        ch_frame f = { S.next_seq, ++S.offered, S.epoch };
        int grown = ensure_cap((size_t)f.seq + 1);
        pthread_mutex_unlock(&S.mu);
        int n = grown == 0 ? ch_frame_build(NODE, PEER_NODE, &f, payload_len(f.seq), msg,
                                            sizeof msg)
                           : -1;
        if (n < 0) {
            printf("# sender: cannot build frame %u\n", (unsigned)f.seq);
            pthread_mutex_unlock(&S.send_mu);
            break;
        }
        int rc = wss->send(conn, msg, (size_t)n, NULL);
        pthread_mutex_lock(&S.mu);
        if (rc == n) {
            S.accepted_offer[f.seq] = f.offer;
            S.accepted_epoch[f.seq] = f.epoch;
            S.epoch_accepted[f.epoch]++;
            S.accepted++;
            S.next_seq++;
        } else if (rc == PT_ERECONNECTING) {
            S.refused++;
        } else {
            if (S.unexpected++ == 0) {
                S.first_unexpected = rc;
                wss->last_error(conn, S.unexpected_msg, sizeof S.unexpected_msg);
            }
        }
        pthread_mutex_unlock(&S.mu);
        if (rc != n) {
            /* Not accepted: offer it again a little later (the gate's
             * condition doubles as an interruptible pause). */
            struct timespec until = ch_deadline(RETRY_MS);
            if (!S.stop)
                pthread_cond_timedwait(&S.gate_cv, &S.send_mu, &until);
        }
        pthread_mutex_unlock(&S.send_mu);
    }
    return NULL;
}

/* ---- The receiver (the UDP peer) ------------------------------------------- */

static void deliver(const unsigned char *msg, size_t len)
{
    char why[256];
    ch_frame f;

    if (ch_frame_check(msg, len, NODE, PEER_NODE, &f, why, sizeof why) != 0) {
        if (S.corrupt++ == 0)
            snprintf(S.first_corrupt, sizeof S.first_corrupt, "%s", why);
        return;
    }
    if (f.seq >= S.cap || f.epoch < 1 || f.epoch > (uint32_t)lives) {
        /* A number never accepted (or from no life): not ours. */
        if (S.corrupt++ == 0)
            snprintf(S.first_corrupt, sizeof S.first_corrupt,
                     "seq %u epoch %u was never offered", (unsigned)f.seq, (unsigned)f.epoch);
        return;
    }
    if (S.delivered_offer[f.seq]) {
        S.duplicates++;
        return;
    }
    if ((int64_t)f.seq < S.max_delivered)
        S.out_of_order++;
    else
        S.max_delivered = f.seq;
    S.delivered_offer[f.seq] = f.offer;
    S.epoch_delivered[f.epoch]++;
    S.delivered++;
}

static void *receiver_main(void *arg)
{
    static unsigned char msg[PT_MAX_FRAME + 64];
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(uint32_t))];
    } ctl;
    (void)arg;

    for (;;) {
        struct pollfd p = { peer_fd, POLLIN, 0 };
        struct iovec iov = { msg, sizeof msg };
        struct msghdr mh;
        pthread_mutex_lock(&S.mu);
        int stop = S.rx_stop;
        pthread_mutex_unlock(&S.mu);
        if (stop)
            break;
        if (poll(&p, 1, 100) <= 0)
            continue;
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof ctl.buf;
        ssize_t n = recvmsg(peer_fd, &mh, MSG_DONTWAIT);
        if (n <= 0)
            continue;
        pthread_mutex_lock(&S.mu);
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL)
                memcpy(&S.udp_overflows, CMSG_DATA(cm), sizeof S.udp_overflows);
        if (msg[0] == FENCE && n == 5) {
            S.fence_seen = (uint32_t)msg[1] << 24 | (uint32_t)msg[2] << 16 |
                           (uint32_t)msg[3] << 8 | msg[4];
        } else if (msg[0] == PTU_BEACON_DISCOVER_REPLY) {
            S.discover_replies++;
        } else if (msg[0] == PTU_BEACON_RELAY_DELIVER) {
            deliver(msg, (size_t)n);
        } else {
            S.stray++;
        }
        pthread_cond_broadcast(&S.progress_cv);
        pthread_mutex_unlock(&S.mu);
    }
    return NULL;
}

/* Wait (ms, scaled) until cond() holds; mu is held while it is evaluated. */
static int wait_for(int (*cond)(uint64_t), uint64_t arg, int ms)
{
    struct timespec until = ch_deadline(ms);
    int ok;
    pthread_mutex_lock(&S.mu);
    while (!(ok = cond(arg)))
        if (pthread_cond_timedwait(&S.progress_cv, &S.mu, &until) == ETIMEDOUT) {
            ok = cond(arg);
            break;
        }
    pthread_mutex_unlock(&S.mu);
    return ok;
}

static int fence_passed(uint64_t id)
{
    return S.fence_seen >= id;
}

static int discovered(uint64_t n)
{
    return S.discover_replies >= n;
}

static int life_has_frames(uint64_t life)
{
    return S.epoch_delivered[life] >= (uint64_t)per_life;
}

/* Everything the beacon sent before now has been handled by the peer: a
 * datagram sent to it afterwards comes out of its queue behind them. */
static int drain_peer(void)
{
    static uint32_t id;
    unsigned char m[5] = { FENCE };
    id++;
    m[1] = (unsigned char)(id >> 24);
    m[2] = (unsigned char)(id >> 16);
    m[3] = (unsigned char)(id >> 8);
    m[4] = (unsigned char)id;
    if (sendto(fence_fd, m, sizeof m, 0, (struct sockaddr *)&peer_sa, sizeof peer_sa) != 5)
        return 0;
    return wait_for(fence_passed, id, 10000);
}

/* The peer's Discover to the beacon on port, until it is answered. */
static int discover_peer(int port)
{
    unsigned char m[PTU_BEACON_DISCOVER_LEN];
    struct sockaddr_in to;
    uint64_t before;

    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ptu_pkt_discover(PEER_NODE, m);
    pthread_mutex_lock(&S.mu);
    before = S.discover_replies;
    pthread_mutex_unlock(&S.mu);
    /* UDP may lose a datagram; a few tries, each waiting for the answer. */
    for (int i = 0; i < 10; i++) {
        if (sendto(peer_fd, m, sizeof m, 0, (struct sockaddr *)&to, sizeof to) !=
            (ssize_t)sizeof m)
            return 0;
        if (wait_for(discovered, before + 1, 500))
            return 1;
    }
    return 0;
}

/* ---- The gate ----------------------------------------------------------- */

/* Close it: returns once no send is in progress (0 if a send hangs). */
static int gate_close(void)
{
    struct timespec until = ch_deadline(10000);
    if (pthread_mutex_timedlock(&S.send_mu, &until) != 0)
        return 0;
    S.gate_open = 0;
    pthread_mutex_unlock(&S.send_mu);
    return 1;
}

static void gate_open(uint32_t epoch)
{
    pthread_mutex_lock(&S.send_mu);
    pthread_mutex_lock(&S.mu);
    S.window_base = S.next_seq; /* what was in flight is lost or delivered */
    pthread_cond_broadcast(&S.progress_cv);
    pthread_mutex_unlock(&S.mu);
    S.epoch = epoch;
    S.gate_open = 1;
    pthread_cond_broadcast(&S.gate_cv);
    pthread_mutex_unlock(&S.send_mu);
}

/* ---- The run ---------------------------------------------------------------- */

static ch_beacon cb;
static int port;
static int64_t connected_ms; /* when the test last saw the plugin CONNECTED */
static pthread_t sender, receiver;
static int sender_started, receiver_started;
static const char *const relay_flags[] = { "--mode=relay", NULL };

static int open_peer(void)
{
    int rcvbuf = 4 * 1024 * 1024, one = 1;
    socklen_t sl = sizeof peer_sa;

    peer_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    fence_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (peer_fd < 0 || fence_fd < 0)
        return -1;
    /* Best effort: the window keeps far less than the default in flight. */
    (void)setsockopt(peer_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    /* Count what the socket itself drops, so that a full buffer here is
     * told apart from a frame the plugin lost. */
    (void)setsockopt(peer_fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
    memset(&peer_sa, 0, sizeof peer_sa);
    peer_sa.sin_family = AF_INET;
    peer_sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(peer_fd, (struct sockaddr *)&peer_sa, sizeof peer_sa) != 0 ||
        getsockname(peer_fd, (struct sockaddr *)&peer_sa, &sl) != 0)
        return -1;
    return 0;
}

TEST(setup_beacon_udp_peer_and_wss_host)
{
    int rc;

    S.epoch_accepted = calloc((size_t)lives + 2, sizeof *S.epoch_accepted);
    S.epoch_delivered = calloc((size_t)lives + 2, sizeof *S.epoch_delivered);
    life_stats = calloc((size_t)lives + 2, sizeof *life_stats);
    life_exact = calloc((size_t)lives + 2, sizeof *life_exact);
    S.max_delivered = -1;
    CHECK(S.epoch_accepted && S.epoch_delivered && life_stats && life_exact);
    CHECK_EQ_INT(open_peer(), 0);
    if (tap_point_failed)
        return;
    if (ch_beacon_start(&cb, 0, relay_flags) != 0) {
        CHECK(0);
        return;
    }
    port = cb.b.port;
    receiver_started = pthread_create(&receiver, NULL, receiver_main, NULL) == 0;
    CHECK(receiver_started);
    CHECK(receiver_started && discover_peer(port));
    const char *kv[] = { "idle-ping", dur(STABLE_MS), NULL };
    rc = dial_with(&cb.b, &me, kv, &conn);
    connected_ms = now_ms();
    CHECK_EQ_INT(rc, PT_OK);
    if (rc != PT_OK) {
        printf("# dial: %s\n", err);
        return;
    }
    if (tap_point_failed)
        return;
    gate_open(1);
    sender_started = pthread_create(&sender, NULL, sender_main, NULL) == 0;
    CHECK(sender_started);
    setup_ok = !tap_point_failed;
}

/* Restart i ends life i: SIGKILL when i is odd, SIGTERM when even. */
static int restart(long i)
{
    int sig = i % 2 ? SIGKILL : SIGTERM, had = 0, status;
    ch_stats st;
    uint64_t reconnects_before = stats_of(conn).reconnects;

    /* The link has been up since before connected_ms: a time, not an
     * event, is what makes it stable. */
    int64_t young = connected_ms + (int64_t)STABLE_MS * scale - now_ms();
    if (young > 0)
        poll(NULL, 0, (int)young);
    status = ch_beacon_stop(&cb, sig, &st, &had);
    if (sig == SIGKILL ? !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
                       : !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        exit_status_failures++;
        printf("# restart %ld: the beacon's wait status is 0x%x\n", i, status);
        ch_beacon_tail(&cb);
    }
    if (!gate_close()) {
        printf("# restart %ld: a send is still blocked after %d ms\n", i, 10000 * scale);
        send_hung = 1;
        return -1;
    }
    if (!drain_peer()) {
        printf("# restart %ld: the peer's fence never came back\n", i);
        return -1;
    }
    life_exact[i] = sig == SIGTERM && had;
    life_stats[i] = st;

    /* The same port for every life: the plugin redials its one URL. */
    int started = -1;
    for (int tries = 0; tries < 5 && started != 0; tries++)
        started = ch_beacon_start(&cb, port, relay_flags);
    if (started != 0) {
        beacon_start_failures++;
        printf("# restart %ld: the beacon does not start again on port %d\n", i, port);
        return -1;
    }
    if (!discover_peer(port)) {
        printf("# restart %ld: the peer's Discover is not answered\n", i);
        return -1;
    }
    int64_t t0 = now_ms();
    gate_open((uint32_t)i + 1);

    if (!wait_reconnects(conn, reconnects_before + 1, COME_BACK_MS)) {
        pt_stats s = stats_of(conn);
        char e[PT_ERRMSG_MAX];
        wss->last_error(conn, e, sizeof e);
        come_back_failures++;
        printf("# restart %ld: not CONNECTED within %d ms (state %d, reconnects %" PRIu64
               "): %s\n", i, COME_BACK_MS * scale, s.state, s.reconnects, e);
        return -1;
    }
    connected_ms = now_ms();
    if (now_ms() - t0 > come_back_max_ms)
        come_back_max_ms = now_ms() - t0;
    restarts_done++;
    return 0;
}

TEST(plugin_comes_back_after_every_restart)
{
    for (long i = 1; i <= restarts; i++) {
        if (!wait_for(life_has_frames, (uint64_t)i, PROGRESS_MS)) {
            progress_failures++;
            printf("# life %ld: fewer than %ld frames reached the peer within %d ms\n", i,
                   per_life, PROGRESS_MS * scale);
            break;
        }
        if (restart(i) != 0)
            break;
    }
    /* The last life streams too, then ends with SIGTERM. */
    if (restarts_done == restarts && !wait_for(life_has_frames, (uint64_t)lives, PROGRESS_MS)) {
        progress_failures++;
        printf("# life %d: fewer than %ld frames reached the peer\n", lives, per_life);
    }
    CHECK_EQ_INT(restarts_done, restarts);
    CHECK_EQ_INT(come_back_failures, 0);
    CHECK_EQ_INT(progress_failures, 0);
    CHECK_EQ_INT(beacon_start_failures, 0);
    CHECK_EQ_INT(exit_status_failures, 0);
    printf("# longest time from a restart to CONNECTED: %" PRId64 " ms\n", come_back_max_ms);
}

/* Stop everything; the last life's counters. */
static void finish(void)
{
    int had = 0;
    ch_stats st;

    if (cb.b.pid > 0) {
        int status = ch_beacon_stop(&cb, SIGTERM, &st, &had);
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            exit_status_failures++;
            printf("# the last beacon's wait status is 0x%x\n", status);
        }
        life_exact[restarts_done + 1] = had;
        life_stats[restarts_done + 1] = st;
    }
    if (sender_started) {
        if (!gate_close()) {
            /* A send is stuck: close wakes it (it returns PT_ECLOSED). */
            printf("# a send is still blocked after %d ms: closing the connection\n",
                   10000 * scale);
            send_hung = 1;
            wss->close(conn);
        }
        pthread_mutex_lock(&S.send_mu);
        pthread_mutex_lock(&S.mu);
        S.stop = 1;
        pthread_cond_broadcast(&S.gate_cv);
        pthread_cond_broadcast(&S.progress_cv);
        pthread_mutex_unlock(&S.mu);
        pthread_mutex_unlock(&S.send_mu);
        pthread_join(sender, NULL);
    }
    if (receiver_started) {
        if (!drain_peer())
            printf("# the peer's last fence never came back\n");
        pthread_mutex_lock(&S.mu);
        S.rx_stop = 1;
        pthread_mutex_unlock(&S.mu);
        pthread_join(receiver, NULL);
    }
    if (conn)
        reconnects_final = stats_of(conn).reconnects;
    done(conn);
    conn = NULL;
}

static uint64_t lost_in_flight(void)
{
    return S.accepted - S.delivered;
}

TEST(every_send_returns_len_or_reconnecting)
{
    CHECK_EQ_INT(S.unexpected, 0);
    CHECK_EQ_INT(send_hung, 0);
    if (S.unexpected)
        printf("# first unexpected send result: %d (%s): %s\n", S.first_unexpected,
               pt_strerror(S.first_unexpected), S.unexpected_msg);
}

TEST(frames_offered_while_reconnecting_are_refused_not_sent)
{
    uint64_t sent_anyway = 0;
    for (uint32_t s = 0; s < S.next_seq; s++)
        if (S.delivered_offer[s] && S.delivered_offer[s] != S.accepted_offer[s])
            sent_anyway++;
    /* Every stop of the beacon with the sender running leaves offers to
     * refuse: the plugin's backoff is 250 ms at least. */
    CHECK(S.refused > 0);
    CHECK_EQ_INT(sent_anyway, 0);
    if (sent_anyway)
        printf("# %" PRIu64 " delivered frames are offers that send refused\n", sent_anyway);
}

TEST(delivered_in_order_without_duplicates)
{
    CHECK_EQ_INT(S.duplicates, 0);
    CHECK_EQ_INT(S.out_of_order, 0);
}

TEST(delivered_intact)
{
    CHECK_EQ_INT(S.corrupt, 0);
    CHECK_EQ_INT(S.stray, 0);
    if (S.corrupt)
        printf("# first corrupt frame: %s\n", S.first_corrupt);
}

/* For each life ended by SIGTERM: the frames it took (frames_in) were all
 * relayed and all reached the peer. */
TEST(every_frame_the_beacon_took_was_delivered)
{
    int exact = 0;
    uint64_t took = 0, got = 0;
    for (int e = 1; e <= lives; e++) {
        if (!life_exact[e])
            continue;
        exact++;
        const ch_stats *st = &life_stats[e];
        took += st->frames_in;
        got += S.epoch_delivered[e];
        if (st->frames_in != S.epoch_delivered[e] || st->relayed != st->frames_in ||
            st->relay_dropped != 0) {
            CHECK(0);
            printf("# life %d: beacon frames_in=%" PRIu64 " relayed=%" PRIu64
                   " relay_dropped=%" PRIu64 ", peer got %" PRIu64 " of %" PRIu64
                   " accepted\n", e, st->frames_in, st->relayed, st->relay_dropped,
                   S.epoch_delivered[e], S.epoch_accepted[e]);
        }
    }
    printf("# %d beacon lives ended by SIGTERM took %" PRIu64 " frames; the peer got %" PRIu64
           " of them\n", exact, took, got);
    /* The lives ended by SIGTERM (even restarts, and the last). */
    CHECK_EQ_INT(exact, (int)(restarts_done / 2 + 1));
    /* The peer itself lost nothing (if it did, the test is to blame). */
    CHECK_EQ_INT(S.udp_overflows, 0);
}

TEST(reconnects_match_restarts)
{
    CHECK_EQ_INT(reconnects_final, restarts_done);
}

static void print_counts(void)
{
    uint64_t lost_exact = 0, lost_killed = 0;
    for (int e = 1; e <= lives; e++) {
        uint64_t lost = S.epoch_accepted[e] - S.epoch_delivered[e];
        if (life_exact[e])
            lost_exact += lost;
        else
            lost_killed += lost;
    }
    printf("# restarts:             %ld (%ld SIGKILL, %ld SIGTERM)\n", restarts_done,
           (restarts_done + 1) / 2, restarts_done / 2);
    printf("# frames offered:       %" PRIu64 "\n", S.offered);
    printf("# accepted:             %" PRIu64 "\n", S.accepted);
    printf("# refused-reconnecting: %" PRIu64 "\n", S.refused);
    printf("# other send results:   %" PRIu64 "\n", S.unexpected);
    printf("# delivered:            %" PRIu64 "\n", S.delivered);
    printf("# lost-in-flight:       %" PRIu64 " (%" PRIu64 " at SIGTERM, %" PRIu64
           " at SIGKILL)\n", lost_in_flight(), lost_exact, lost_killed);
    printf("# duplicates:           %" PRIu64 "\n", S.duplicates);
    printf("# corrupt:              %" PRIu64 "\n", S.corrupt);
    printf("# out-of-order:         %" PRIu64 "\n", S.out_of_order);
    printf("# reconnects:           %" PRIu64 "\n", reconnects_final);
    if (S.udp_overflows || S.window_waits_timed_out)
        printf("# (the peer's socket dropped %" PRIu32 " datagrams; the window timed out "
               "%" PRIu64 " times)\n", S.udp_overflows, S.window_waits_timed_out);
}

int main(void)
{
    pthread_mutex_init(&S.send_mu, NULL);
    pthread_mutex_init(&S.mu, NULL);
    pthread_cond_init(&S.gate_cv, NULL);
    pthread_cond_init(&S.progress_cv, NULL);
    if (ch_init() != 0)
        return 1;
    tap_on_hang = harness_kill_children; /* no beacon outlives a hang */
    restarts = ch_env_long("CHAOS_RESTARTS", scale > 1 ? 2 : 5);
    per_life = ch_env_long("CHAOS_FRAMES", scale > 1 ? 30 : 200);
    lives = (int)restarts + 1;
    printf("# %ld restarts, %ld frames per beacon life, window %d\n", restarts, per_life,
           WINDOW);

    RUN(setup_beacon_udp_peer_and_wss_host);
    if (setup_ok)
        RUN(plugin_comes_back_after_every_restart);
    finish();
    if (setup_ok) {
        print_counts();
        RUN(every_send_returns_len_or_reconnecting);
        RUN(frames_offered_while_reconnecting_are_refused_not_sent);
        RUN(delivered_in_order_without_duplicates);
        RUN(delivered_intact);
        RUN(every_frame_the_beacon_took_was_delivered);
        RUN(reconnects_match_restarts);
    }
    if (peer_fd >= 0)
        close(peer_fd);
    if (fence_fd >= 0)
        close(fence_fd);
    free(S.accepted_offer);
    free(S.accepted_epoch);
    free(S.delivered_offer);
    free(S.epoch_accepted);
    free(S.epoch_delivered);
    free(life_stats);
    free(life_exact);
    ch_cleanup();
    return tap_done();
}
