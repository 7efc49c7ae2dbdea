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
#include "pilot_transport_loader.h"
#include "secrets.h"
#include "tap.h"
#include "thread_wait.h"
#include "util.h"

/* Start a beacon with flags and dial it with options kv as node NODE; NULL
 * (and a failed check) if either fails.  down() undoes it. */
static pt_conn *up(beacon *b, const char *const *flags, const char *const *kv)
{
    pt_conn *c = NULL;
    if (beacon_start(b, "server", 0, flags) != 0) {
        CHECK(0);
        return NULL;
    }
    int rc = dial_with(b, &me, kv, &c);
    CHECK_EQ_INT(rc, PT_OK);
    if (rc != PT_OK)
        printf("# dial: %s\n", err);
    return c;
}

static void down(beacon *b, pt_conn *c)
{
    done(c);
    beacon_stop(b);
}

/* Send a frame and expect it echoed back byte for byte. */
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
    rc = wss->recv(c, in, sizeof in, &src, 5000);
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
    CHECK(now_ms() - t0 < 5000 * scale);
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
        CHECK_EQ_INT(blocked_recv_join(&bl), PT_ECLOSED);
        CHECK_EQ_INT(wss->recv(c, buf, sizeof buf, NULL, 0), PT_ECLOSED);
        CHECK_EQ_INT(wss->send(c, buf, sizeof buf, NULL), PT_ECLOSED);
        CHECK_EQ_INT(stats_of(c).state, PT_STATE_CLOSED);
        wss->free(c);
    }
    beacon_stop(&b);
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

TEST(send_while_down_returns_reconnecting_and_recv_keeps_waiting)
{
    beacon b;
    pt_conn *c;
    unsigned char f[10] = { 1 };
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    int port = b.port;
    CHECK_EQ_INT(dial_with(&b, &me, NULL, &c), PT_OK);
    if (!c) {
        beacon_stop(&b);
        return;
    }
    beacon_stop_sig(&b, SIGKILL);
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

TEST(close_during_backoff_returns_promptly)
{
    beacon b;
    pt_conn *c;
    c = up(&b, NULL, NULL);
    if (!c) {
        beacon_stop(&b);
        return;
    }
    beacon_stop_sig(&b, SIGKILL);
    CHECK(wait_state(c, PT_STATE_RECONNECTING, 5000));
    int64_t t0 = now_ms();
    wss->close(c);
    wss->free(c); /* joins the keeper: it must have stopped */
    int64_t took = now_ms() - t0;
    printf("# close during backoff took %lld ms\n", (long long)took);
    CHECK(took < 300 * scale);
}

TEST(close_during_a_redial_returns_promptly)
{
    beacon b;
    pt_conn *c;
    const char *kv[] = { "dial-timeout", "10s", NULL };
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    int port = b.port;
    CHECK_EQ_INT(dial_with(&b, &me, kv, &c), PT_OK);
    if (!c) {
        beacon_stop(&b);
        return;
    }
    beacon_stop_sig(&b, SIGKILL);
    /* A listener that accepts TCP and never speaks: the redial hangs in
     * the TLS handshake until close interrupts it. */
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    CHECK(bind(ls, (struct sockaddr *)&sin, sizeof sin) == 0);
    CHECK(listen(ls, 8) == 0);
    /* Wait until the plugin's redial has connected to it. */
    struct pollfd p = { ls, POLLIN, 0 };
    CHECK_EQ_INT(poll(&p, 1, 10000), 1);
    int conn = accept(ls, NULL, NULL);
    int64_t t0 = now_ms();
    wss->close(c);
    wss->free(c);
    int64_t took = now_ms() - t0;
    printf("# close during a redial took %lld ms\n", (long long)took);
    CHECK(took < 300 * scale);
    if (conn >= 0)
        close(conn);
    close(ls);
}

/* ---- Keep-alive --------------------------------------------------------- */

TEST(idle_ping_keeps_a_quiet_connection_alive)
{
    beacon b;
    pt_conn *c;
    unsigned char buf[16];
    const char *kv[] = { "idle-ping", dur(100), "pong-timeout", dur(300), NULL };
    c = up(&b, NULL, kv);
    if (c) {
        /* Quiet for 10 ping intervals: every ping must be answered. */
        CHECK_EQ_INT(wss->recv(c, buf, sizeof buf, NULL, 1000 * scale), PT_ETIMEDOUT);
        pt_stats s = stats_of(c);
        CHECK_EQ_INT(s.reconnects, 0);
        CHECK_EQ_INT(s.state, PT_STATE_CONNECTED);
        CHECK(echo_once(c, 10, 1));
    }
    down(&b, c);
}

TEST(connection_outlives_the_dial_timeout)
{
    /* The dial timeout bounds the dial only: libcurl's transfer timeouts
     * must not cut a long-lived link afterwards. */
    beacon b;
    pt_conn *c;
    unsigned char buf[16];
    const char *kv[] = { "dial-timeout", dur(300), "idle-ping", dur(200), NULL };
    c = up(&b, NULL, kv);
    if (c) {
        CHECK_EQ_INT(wss->recv(c, buf, sizeof buf, NULL, 1200 * scale), PT_ETIMEDOUT);
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
        pthread_create(&r, NULL, hammer_reader, &h);
        pthread_create(&w, NULL, hammer_writer, &h);
        pthread_join(w, NULL);
        pthread_join(r, NULL);
        CHECK_EQ_INT(h.sent, HAMMER_FRAMES);
        CHECK_EQ_INT(h.received, HAMMER_FRAMES);
        CHECK_EQ_INT(h.corrupt, 0);
        CHECK_EQ_INT(stats_of(c).reconnects, 0);
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

typedef struct proxy {
    pid_t pid;
    int port;
} proxy;

/* Start tinyproxy with basic auth user:s3cret-pw on a free port; ready
 * once it accepts a connection. */
static int proxy_start(proxy *px)
{
    char conf[600];
    snprintf(conf, sizeof conf, "%s/tinyproxy.conf", dir);
    px->port = free_port();
    FILE *f = fopen(conf, "w");
    if (!f || px->port < 0)
        return -1;
    fprintf(f, "Port %d\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n"
               "BasicAuth user s3cret-pw\nLogLevel Critical\nLogFile \"%s/tinyproxy.log\"\n"
               "PidFile \"%s/tinyproxy.pid\"\n",
            px->port, dir, dir);
    fclose(f);
    px->pid = fork();
    if (px->pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execlp("tinyproxy", "tinyproxy", "-d", "-c", conf, (char *)NULL);
        _exit(127);
    }
    /* Ready when it accepts: try to connect, waiting on the connect itself. */
    int64_t deadline = now_ms() + 10000;
    while (now_ms() < deadline) {
        struct sockaddr_in sin;
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)px->port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(s, (struct sockaddr *)&sin, sizeof sin) == 0;
        close(s);
        if (ok)
            return 0;
        if (waitpid(px->pid, NULL, WNOHANG) == px->pid)
            break;
        /* tinyproxy offers no readiness signal: probe again shortly. */
        poll(NULL, 0, 10);
    }
    kill(px->pid, SIGKILL);
    waitpid(px->pid, NULL, 0);
    return -1;
}

static void proxy_stop(proxy *px)
{
    kill(px->pid, SIGTERM);
    waitpid(px->pid, NULL, 0);
}

TEST(dial_through_an_authenticating_proxy)
{
    beacon b;
    proxy px;
    pt_conn *c;
    char url[128];
    if (beacon_start(&b, "server", 0, NULL) != 0 || proxy_start(&px) != 0) {
        CHECK(0);
        return;
    }
    snprintf(url, sizeof url, "http://user:s3cret-pw@127.0.0.1:%d", px.port);
    const char *kv[] = { "proxy", url, NULL };
    CHECK_EQ_INT(dial_with(&b, &me, kv, &c), PT_OK);
    if (c)
        CHECK(echo_once(c, 500, 3));
    else
        printf("# %s\n", err);
    done(c);
    proxy_stop(&px);
    beacon_stop(&b);
}

TEST(proxy_refusing_credentials_fails_without_the_password)
{
    beacon b;
    proxy px;
    pt_conn *c;
    char url[128];
    if (beacon_start(&b, "server", 0, NULL) != 0 || proxy_start(&px) != 0) {
        CHECK(0);
        return;
    }
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
    proxy_stop(&px);
    beacon_stop(&b);
}

TEST(proxy_from_environment_and_no_proxy_bypass)
{
    beacon b;
    proxy px;
    pt_conn *c;
    int rc;
    char url[128];
    if (beacon_start(&b, "server", 0, NULL) != 0 || proxy_start(&px) != 0) {
        CHECK(0);
        return;
    }
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
    proxy_stop(&px);
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
    if (got < sizeof *r)
        kill(pid, SIGKILL);
    waitpid(pid, &r->status, 0);
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
    RUN(reconnect_after_server_drops_the_connection);
    RUN(poll_fd_goes_quiet_after_a_reconnect);
    RUN(send_while_down_returns_reconnecting_and_recv_keeps_waiting);
    RUN(close_during_backoff_returns_promptly);
    RUN(close_during_a_redial_returns_promptly);
    RUN(idle_ping_keeps_a_quiet_connection_alive);
    RUN(connection_outlives_the_dial_timeout);
    RUN(half_open_connection_is_detected_and_reconnected);
    RUN(oversize_send_is_refused);
    RUN(send_many_sends_every_frame_in_order);
    RUN(send_many_refuses_bad_frames_and_a_connection_that_is_down);
    RUN(oversize_inbound_message_drops_and_reconnects);
    RUN(fragmented_inbound_message_is_reassembled);
    RUN(text_message_after_auth_is_ignored);
    RUN(reader_and_writer_threads_share_a_connection);
    RUN(dial_without_identity_or_node_is_refused);
    RUN(dial_through_an_authenticating_proxy);
    RUN(proxy_refusing_credentials_fails_without_the_password);
    RUN(proxy_from_environment_and_no_proxy_bypass);
    RUN(unresolvable_proxy_host_is_a_proxy_error_without_the_password);
    RUN(pinned_roots_memfd_failure_is_a_clean_error);
    RUN(dial_fails_cleanly_however_few_descriptors_are_left);

    harness_cleanup();
    return tap_done();
}
