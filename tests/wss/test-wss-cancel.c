/*
 * test-wss-cancel.c -- the host's cancel_fd (ABI 1.2) abandons a WSS dial
 * with PT_ECLOSED at once, in every step: before it starts, in TCP
 * connect, in the proxy's CONNECT, in the TLS handshake, in the upgrade
 * and in the auth.  The stalls are real: a listener whose accept queue is
 * full (the SYN goes unanswered), listeners that accept and never answer
 * (CONNECT, TLS, the upgrade), the real dev beacon that never sends
 * auth_ok.  Each cancel comes once the dial is seen in that step (its SYN
 * in the kernel's table, its bytes on our side of the connection, its
 * sign call), never after a sleep.  A host of minor 1, a 1.0-sized struct
 * and a zero-filled one never have cancel_fd read.
 */
#include "config.h"

#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nettle/eddsa.h>

#include "common.h"
#include "harness.h"
#include "pilot_transport_loader.h"
#include "tap.h"

/* How soon after the cancel the dial must have returned: one wake-up. */
#define PROMPT_MS 100

/* A dial in a thread of its own, with cancel_fd. */
typedef struct dial_call {
    dial_setup d;
    int cancel;
    pthread_t thread;
    pt_conn *c;
    int rc;
    char err[PT_ERRMSG_MAX];
    int64_t returned_ms;
} dial_call;

static void *dial_main(void *arg)
{
    dial_call *dc = arg;
    dc->rc = wss->dial(&dc->d.p, &dc->c, dc->err, sizeof dc->err);
    dc->returned_ms = now_ms();
    return NULL;
}

/* Dial port (options kv, a dial timeout far beyond the test's, so that a
 * dial the cancel missed fails the test without hanging it) in a thread,
 * with a fresh eventfd as cancel_fd.  0 or -1. */
static int dial_start(dial_call *dc, int port, const char *const *kv)
{
    memset(dc, 0, sizeof *dc);
    const char *opts[16] = { "dial-timeout", dur(30000) };
    size_t n = 2;
    for (; kv && kv[0] && n < 14; kv += 2) {
        opts[n++] = kv[0];
        opts[n++] = kv[1];
    }
    opts[n] = NULL;
    dial_setup_init(&dc->d, port, &me, opts);
    dc->cancel = eventfd(0, EFD_CLOEXEC);
    dc->d.p.cancel_fd = dc->cancel;
    if (dc->cancel < 0 || pthread_create(&dc->thread, NULL, dial_main, dc) != 0) {
        printf("# cannot start the dial\n");
        return -1;
    }
    return 0;
}

/* Cancel it now; check that it returned PT_ECLOSED within PROMPT_MS with
 * a message containing what, and left nothing behind. */
static void cancel_and_check(dial_call *dc, const char *what)
{
    uint64_t one = 1;
    int64_t t0 = now_ms();
    CHECK_EQ_INT(write(dc->cancel, &one, sizeof one), (int)sizeof one);
    pthread_join(dc->thread, NULL);
    int64_t took = dc->returned_ms - t0;
    printf("# returned %lld ms after the cancel: %s\n", (long long)took, dc->err);
    CHECK_EQ_INT(dc->rc, PT_ECLOSED);
    CHECK(dc->c == NULL);
    CHECK_STR_CONTAINS(dc->err, what);
    CHECK(took <= ceiling_ms(PROMPT_MS));
    close(dc->cancel);
}

/* Accept one connection on lfd (waiting ms, scaled) and read from it until
 * until appears (or, with until NULL, any byte): what came in buf.  The
 * accepted descriptor, or -1. */
static int accept_and_read(int lfd, const char *until, char *buf, size_t cap, int ms)
{
    struct pollfd p = { lfd, POLLIN, 0 };
    size_t have = 0;
    buf[0] = '\0';
    if (poll(&p, 1, ms * scale) != 1)
        return -1;
    int s = accept(lfd, NULL, NULL);
    while (s >= 0 && have < cap - 1) {
        struct pollfd q = { s, POLLIN, 0 };
        if (poll(&q, 1, ms * scale) != 1)
            break;
        ssize_t r = read(s, buf + have, cap - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        buf[have] = '\0';
        if (!until || strstr(buf, until))
            return s;
    }
    printf("# the dial sent %zu bytes, not what was expected\n", have);
    if (s >= 0)
        close(s);
    return -1;
}

/* Readable before the call: nothing is even looked up. */
TEST(a_cancel_fd_readable_before_the_dial_cancels_it_at_once)
{
    int port = 0, lfd = listener(&port, 8);
    dial_setup d;
    pt_conn *c = NULL;
    int cancel = eventfd(1, EFD_CLOEXEC);
    CHECK(lfd >= 0 && cancel >= 0);
    dial_setup_init(&d, port, &me, NULL);
    d.p.cancel_fd = cancel;
    int64_t t0 = now_ms();
    CHECK_EQ_INT(dial_setup_dial(&d, &c), PT_ECLOSED);
    CHECK(now_ms() - t0 <= ceiling_ms(PROMPT_MS));
    CHECK(c == NULL);
    CHECK_STR_CONTAINS(err, "wss dial: cancelled before connecting");
    struct pollfd p = { lfd, POLLIN, 0 };
    CHECK_EQ_INT(poll(&p, 1, 0), 0); /* no connection was made */
    close(cancel);
    close(lfd);
}

/* The SYN of the dial (to 127.0.0.1:port) waiting in the kernel's table,
 * within ms (scaled): the state of /proc/self/net/tcp, looked at every
 * 10 ms (no event announces a dropped SYN). */
static int syn_sent_to(int port, int ms)
{
    int64_t deadline = now_ms() + (int64_t)ms * scale;
    char line[256], want[32];
    snprintf(want, sizeof want, ":%04X 02 ", port); /* rem_address's port, st SYN_SENT */
    while (now_ms() < deadline) {
        FILE *f = fopen("/proc/self/net/tcp", "r");
        int found = 0;
        while (f && !found && fgets(line, sizeof line, f)) {
            unsigned a, b, lp, rp, st;
            found = sscanf(line, " %*d: %8X:%4X %8X:%4X %2X", &a, &lp, &b, &rp, &st) == 5 &&
                    (int)rp == port && st == 2;
        }
        if (f)
            fclose(f);
        if (found)
            return 1;
        poll(NULL, 0, 10);
    }
    printf("# no SYN to port %d seen\n", port);
    return 0;
}

TEST(cancel_while_tcp_connect_goes_unanswered)
{
    dial_call dc;
    char url[64];
    int port = 0, lfd = listener(&port, 0);
    CHECK(lfd >= 0);
    /* The accept queue (backlog 0: room for one) is filled first, so the
     * kernel drops the dial's SYN. */
    int filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sin.sin_addr.s_addr = htonl(0x7f000001);
    CHECK_EQ_INT(connect(filler, (struct sockaddr *)&sin, sizeof sin), 0);
    snprintf(url, sizeof url, "wss://127.0.0.1:%d/v1/compat", port);
    const char *kv[] = { "url", url, NULL };
    if (dial_start(&dc, port, kv) != 0) {
        CHECK(0);
        return;
    }
    CHECK(syn_sent_to(port, 5000));
    cancel_and_check(&dc, "wss dial: cancelled while connecting to 127.0.0.1:");
    close(filler);
    close(lfd);
}

TEST(cancel_while_the_proxy_never_answers_connect)
{
    dial_call dc;
    char proxy[64], got[1024];
    int port = 0, lfd = listener(&port, 8);
    CHECK(lfd >= 0);
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", port);
    const char *kv[] = { "proxy", proxy, NULL };
    if (dial_start(&dc, 9, kv) != 0) {
        CHECK(0);
        return;
    }
    int s = accept_and_read(lfd, "\r\n\r\n", got, sizeof got, 5000);
    CHECK(s >= 0);
    CHECK(strncmp(got, "CONNECT localhost:9 HTTP/1.1\r\n", 30) == 0);
    cancel_and_check(&dc, "wss dial: cancelled while connecting to localhost:9");
    if (s >= 0)
        close(s);
    close(lfd);
}

TEST(cancel_while_the_tls_handshake_gets_no_answer)
{
    dial_call dc;
    char got[64];
    int port = 0, lfd = listener(&port, 8);
    CHECK(lfd >= 0);
    if (dial_start(&dc, port, NULL) != 0) {
        CHECK(0);
        return;
    }
    int s = accept_and_read(lfd, NULL, got, sizeof got, 5000);
    CHECK(s >= 0);
    CHECK_EQ_INT((unsigned char)got[0], 0x16); /* a TLS handshake record: the ClientHello */
    cancel_and_check(&dc, "wss dial: cancelled while connecting to localhost:");
    if (s >= 0)
        close(s);
    close(lfd);
}

/* Plain ws:// (allow-plaintext), so that the upgrade request is ours to
 * read: the listener never answers it. */
TEST(cancel_while_the_upgrade_gets_no_answer)
{
    dial_call dc;
    char url[64], got[2048];
    int port = 0, lfd = listener(&port, 8);
    CHECK(lfd >= 0);
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/v1/compat", port);
    const char *kv[] = { "url", url, "allow-plaintext", "true", NULL };
    if (dial_start(&dc, port, kv) != 0) {
        CHECK(0);
        return;
    }
    int s = accept_and_read(lfd, "\r\n\r\n", got, sizeof got, 5000);
    CHECK(s >= 0);
    CHECK(strncmp(got, "GET /v1/compat HTTP/1.1\r\n", 25) == 0);
    CHECK_STR_CONTAINS(got, "Sec-WebSocket-Protocol: pilot.v1");
    cancel_and_check(&dc, "wss dial: cancelled waiting for the upgrade response");
    if (s >= 0)
        close(s);
    close(lfd);
}

/* The auth: a signer that makes cancel_fd readable as it signs; the beacon
 * (--no-auth-ok) then never answers the reply. */
static int cancel_fd_to_fire = -1;
static int64_t signed_ms;

static int sign_then_cancel(void *userdata, const uint8_t *message, size_t length,
                            uint8_t signature[64])
{
    uint64_t one = 1;
    const pt_identity *id = userdata;
    ed25519_sha512_sign(id->public_key, id->private_key, length, message, signature);
    signed_ms = now_ms();
    return write(cancel_fd_to_fire, &one, sizeof one) == (ssize_t)sizeof one ? 0 : -1;
}

TEST(cancel_while_the_beacon_never_answers_the_auth)
{
    beacon b;
    dial_setup d;
    pt_conn *c = NULL;
    const char *flags[] = { "--no-auth-ok", NULL };
    const char *kv[] = { "dial-timeout", dur(30000), NULL };
    pt_signer s = { .struct_size = sizeof s, .node_id = NODE, .sign = sign_then_cancel,
                    .userdata = &me };
    memcpy(s.public_key, me.public_key, sizeof s.public_key);
    cancel_fd_to_fire = eventfd(0, EFD_CLOEXEC);
    if (cancel_fd_to_fire < 0 || beacon_start(&b, "server", 0, flags) != 0) {
        CHECK(0);
        return;
    }
    dial_setup_init(&d, b.port, NULL, kv);
    d.p.signer = &s;
    d.p.cancel_fd = cancel_fd_to_fire;
    CHECK_EQ_INT(dial_setup_dial(&d, &c), PT_ECLOSED);
    int64_t took = now_ms() - signed_ms;
    printf("# returned %lld ms after the cancel: %s\n", (long long)took, err);
    CHECK(took <= ceiling_ms(PROMPT_MS));
    CHECK(c == NULL);
    CHECK_STR_CONTAINS(err, "wss auth: cancelled while waiting for the auth_ok");
    close(cancel_fd_to_fire);
    beacon_stop(&b);
}

/* A readable cancel_fd is not read by a host of minor 1, nor past the end
 * of a 1.0-sized struct; a zero-filled struct (abi_minor 0, cancel_fd 0)
 * does not watch descriptor 0, made readable here. */
TEST(cancel_fd_is_read_only_from_a_host_of_minor_2)
{
    beacon b;
    dial_setup d;
    pt_conn *c = NULL;
    int cancel = eventfd(1, EFD_CLOEXEC); /* readable */
    if (cancel < 0 || beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    dial_setup_init(&d, b.port, &me, NULL);
    d.p.cancel_fd = cancel;
    d.p.abi_minor = 1;
    CHECK_EQ_INT(dial_setup_dial(&d, &c), PT_OK);
    done(c);

    d.p.abi_minor = PT_ABI_MINOR;
    d.p.struct_size = PT_DIAL_PARAMS_SIZE_1_0;
    CHECK_EQ_INT(dial_setup_dial(&d, &c), PT_OK);
    done(c);

    int saved = dup(0);
    CHECK(saved >= 0 && dup2(cancel, 0) == 0);
    pt_dial_params zeroed;
    memset(&zeroed, 0, sizeof zeroed);
    zeroed.struct_size = sizeof zeroed;
    zeroed.options = d.p.options;
    zeroed.n_options = d.p.n_options;
    zeroed.identity = &me;
    CHECK_EQ_INT(wss->dial(&zeroed, &c, err, sizeof err), PT_OK);
    done(c);
    dup2(saved, 0);
    close(saved);

    /* The same descriptor from a host of minor 2 cancels. */
    d.p.struct_size = sizeof d.p;
    CHECK_EQ_INT(dial_setup_dial(&d, &c), PT_ECLOSED);
    close(cancel);
    beacon_stop(&b);
}

/* ---- DNS ----------------------------------------------------------------
 *
 * A lookup that hangs, made real enough: this program defines getaddrinfo
 * (linked with --export-dynamic, so libcurl's calls, from the plugin
 * dlopen()ed beside it, come here).  Every name but STALL_HOST goes to the
 * C library's; STALL_HOST is answered only once the test releases it, and
 * at the latest after STALL_MAX_MS, so a dial the cancel misses fails the
 * test without hanging it. */
#define STALL_HOST "dns-stall.pilot.test"
#define STALL_MAX_MS 20000

static int stall_entered = -1, stall_release = -1; /* eventfds */
static atomic_int stall_left;

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
                          struct addrinfo **);
    if (node && strcmp(node, STALL_HOST) == 0 && stall_release >= 0) {
        uint64_t one = 1;
        struct pollfd p = { stall_release, POLLIN, 0 };
        if (write(stall_entered, &one, sizeof one) != (ssize_t)sizeof one)
            return EAI_SYSTEM;
        poll(&p, 1, STALL_MAX_MS * scale);
        atomic_fetch_add(&stall_left, 1);
        return EAI_NONAME;
    }
    /* dlsym returns an object pointer; POSIX lets it hold a function's. */
    union { void *p; gai_fn f; } real = { dlsym(RTLD_NEXT, "getaddrinfo") };
    return real.f ? real.f(node, service, hints, res) : EAI_SYSTEM;
}

TEST(cancel_while_the_name_lookup_hangs)
{
    dial_call dc;
    char url[64];
    int threads = count_threads();
    stall_entered = eventfd(0, EFD_CLOEXEC);
    stall_release = eventfd(0, EFD_CLOEXEC);
    CHECK(stall_entered >= 0 && stall_release >= 0);
    snprintf(url, sizeof url, "wss://%s:443/v1/compat", STALL_HOST);
    const char *kv[] = { "url", url, NULL };
    if (dial_start(&dc, 443, kv) != 0) {
        CHECK(0);
        return;
    }
    struct pollfd p = { stall_entered, POLLIN, 0 };
    CHECK_EQ_INT(poll(&p, 1, (int)ceiling_ms(5000)), 1); /* libcurl's lookup has begun */
    cancel_and_check(&dc, "wss dial: cancelled while connecting to " STALL_HOST ":443");
    /* The lookup itself goes on in libcurl's thread until it returns;
     * then that thread cleans up after itself and ends. */
    uint64_t one = 1;
    CHECK_EQ_INT(write(stall_release, &one, sizeof one), (int)sizeof one);
    int64_t deadline = now_ms() + ceiling_ms(2000);
    while ((atomic_load(&stall_left) == 0 || count_threads() > threads) && now_ms() < deadline)
        poll(NULL, 0, 10);
    CHECK_EQ_INT(atomic_load(&stall_left), 1);
    CHECK_EQ_INT(count_threads(), threads);
    close(stall_entered);
    close(stall_release);
    stall_entered = stall_release = -1;
}

/* Cancelled dials leave no descriptor and no thread behind. */
TEST(a_cancelled_dial_leaves_nothing_open)
{
    int fds = ch_open_fds(), threads = count_threads();
    int port = 0, lfd = listener(&port, 8);
    dial_call dc;
    char got[64];
    for (int i = 0; i < 3; i++) {
        if (dial_start(&dc, port, NULL) != 0) {
            CHECK(0);
            break;
        }
        int s = accept_and_read(lfd, NULL, got, sizeof got, 5000);
        cancel_and_check(&dc, "cancelled");
        if (s >= 0)
            close(s);
    }
    close(lfd);
    CHECK_EQ_INT(ch_open_fds(), fds);
    CHECK_EQ_INT(count_threads(), threads);
}

int main(void)
{
    static const char *const proxy_vars[] = { "https_proxy", "HTTPS_PROXY", "http_proxy",
                                              "HTTP_PROXY",  "all_proxy",   "ALL_PROXY",
                                              NULL };
    for (const char *const *v = proxy_vars; *v; v++)
        unsetenv(*v); /* the one proxy here is the test's own */
    if (harness_init() != 0)
        return 1;
    tap_on_hang = harness_kill_children; /* no beacon outlives a hang */
    RUN(a_cancel_fd_readable_before_the_dial_cancels_it_at_once);
    RUN(cancel_while_tcp_connect_goes_unanswered);
    RUN(cancel_while_the_proxy_never_answers_connect);
    RUN(cancel_while_the_tls_handshake_gets_no_answer);
    RUN(cancel_while_the_upgrade_gets_no_answer);
    RUN(cancel_while_the_beacon_never_answers_the_auth);
    RUN(cancel_fd_is_read_only_from_a_host_of_minor_2);
    RUN(a_cancelled_dial_leaves_nothing_open);
    RUN(cancel_while_the_name_lookup_hangs);
    harness_cleanup();
    return tap_done();
}
