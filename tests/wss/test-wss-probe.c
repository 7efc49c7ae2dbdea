/*
 * test-wss-probe.c -- the WSS plugin's probe (ABI 1.2) against the real
 * dev beacon over real TLS with the test CA (tests/wss/harness.c), and
 * against listeners of its own that answer garbage, close, or never
 * answer; each code the header names for probe is reached.
 *
 * With --proxies it runs the proxy cases instead, through the real
 * tinyproxies that tests/proxy/wss-probe.sh starts (tests/proxy/lib.sh)
 * and names in the environment:
 *   PT_PROBE_PROXY_AUTH      http://127.0.0.1:PORT, Basic auth
 *   PT_PROBE_PROXY_USER, PT_PROBE_PROXY_PASSWORD  its credentials
 *   PT_PROBE_PROXY_PORTS     http://127.0.0.1:PORT, CONNECT to port 1 only
 * Nothing here sleeps to synchronise: the hanging probe is cancelled once
 * its connection is seen pending on the listener.
 */
#include "config.h"

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "harness.h"
#include "pilot_transport_loader.h"
#include "secrets.h"
#include "tap.h"

static char detail[PT_ERRMSG_MAX];
static log_book book; /* large: static */

/* ---- Probing ----------------------------------------------------------------- */

/* One probe: the options, params and what came back. */
typedef struct probe_call {
    pt_option opts[16];
    char url[128], ca[600];
    pt_dial_params params;
    int timeout_ms;
    int rc;
    char detail[PT_ERRMSG_MAX];
    int64_t returned_ms; /* now_ms() when probe returned */
} probe_call;

/* Set up pc: url wss://localhost:port/v1/compat and the test CA unless kv
 * ("name", "value", ..., NULL) gives url, ca-file or tls-trust; the
 * header's initialiser, logging into book at INFO. */
static void probe_setup(probe_call *pc, int port, const char *const *kv, int timeout_ms)
{
    size_t n = 0;
    int have_trust = 0, have_url = 0;
    memset(pc, 0, sizeof *pc);
    snprintf(pc->url, sizeof pc->url, "wss://localhost:%d/v1/compat", port);
    snprintf(pc->ca, sizeof pc->ca, "%s/ca.pem", certs);
    for (; kv && kv[0] && n < 14; kv += 2) {
        pc->opts[n++] = (pt_option){ kv[0], kv[1] };
        have_url |= !strcmp(kv[0], "url");
        have_trust |= !strcmp(kv[0], "tls-trust") || !strcmp(kv[0], "ca-file");
    }
    if (!have_url && port > 0)
        pc->opts[n++] = (pt_option){ "url", pc->url };
    if (!have_trust)
        pc->opts[n++] = (pt_option){ "ca-file", pc->ca };
    pt_dial_params init = PT_DIAL_PARAMS_INIT;
    pc->params = init;
    pc->params.options = pc->opts;
    pc->params.n_options = n;
    pc->params.log = log_book_add;
    pc->params.log_userdata = &book;
    pc->params.log_level = PT_LOG_INFO;
    pc->timeout_ms = timeout_ms;
}

static void probe_call_run(probe_call *pc)
{
    pc->rc = wss->probe(&pc->params, pc->timeout_ms, pc->detail, sizeof pc->detail);
    pc->returned_ms = now_ms();
    printf("# probe: %s (%s)\n", pt_strerror(pc->rc), pc->detail);
}

/* Probe the beacon on port with options kv, within timeout_ms (scaled);
 * the detail in detail. */
static int probe(int port, const char *const *kv, int timeout_ms)
{
    static probe_call pc;
    probe_setup(&pc, port, kv, timeout_ms * scale);
    probe_call_run(&pc);
    memcpy(detail, pc.detail, sizeof detail);
    return pc.rc;
}

/* Whether any kept log line contains s. */
static int logged(const char *s)
{
    int found = 0;
    pthread_mutex_lock(&book.mu);
    for (unsigned i = 0; i < book.n && i < LOG_BOOK_LINES; i++)
        found |= strstr(book.line[i].msg, s) != NULL;
    pthread_mutex_unlock(&book.mu);
    return found;
}

/* ---- Listeners of our own ------------------------------------------------------ */

/* A plain-TCP server for one connection: reads the request's header
 * block, answers with `answer` (answer_len bytes, 0: nothing) and closes. */
typedef struct one_shot {
    int fd;
    const char *answer;
    size_t answer_len;
    char request[2048];
    pthread_t thread;
} one_shot;

static void *one_shot_main(void *arg)
{
    one_shot *o = arg;
    struct pollfd p = { o->fd, POLLIN, 0 };
    size_t have = 0;
    if (poll(&p, 1, (int)ceiling_ms(5000)) != 1)
        return NULL;
    int c = accept(o->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    while (have < sizeof o->request - 1 && !strstr(o->request, "\r\n\r\n")) {
        struct pollfd q = { c, POLLIN, 0 };
        if (poll(&q, 1, (int)ceiling_ms(5000)) != 1)
            break;
        ssize_t r = read(c, o->request + have, sizeof o->request - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        o->request[have] = '\0';
    }
    if (o->answer_len && write(c, o->answer, o->answer_len) != (ssize_t)o->answer_len)
        printf("# one_shot: short write\n");
    close(c);
    return NULL;
}

/* Probe ws://127.0.0.1:PORT<target> (allow-plaintext) served by a one_shot
 * answering answer (len bytes); o->request holds what the probe sent, and
 * *port the port.  The probe's code, or PT_EIO when no server could run. */
static int one_shot_probe(one_shot *o, const char *answer, size_t len, const char *target,
                          int *port)
{
    char url[128];
    memset(o, 0, sizeof *o);
    o->answer = answer;
    o->answer_len = len;
    o->fd = listener(port, 8);
    if (o->fd < 0)
        return PT_EIO;
    if (pthread_create(&o->thread, NULL, one_shot_main, o) != 0) {
        close(o->fd);
        return PT_EIO;
    }
    snprintf(url, sizeof url, "ws://127.0.0.1:%d%s", *port, target);
    const char *kv[] = { "url", url, "allow-plaintext", "true", NULL };
    int rc = probe(0, kv, 5000);
    pthread_join(o->thread, NULL);
    close(o->fd);
    return rc;
}

/* ---- Direct ---------------------------------------------------------------------- */

TEST(probe_is_in_the_descriptor)
{
    CHECK(wss->probe != NULL);
    CHECK(wss->struct_size >= PT_PLUGIN_SIZE_1_2);
}

TEST(the_beacon_answers_426_over_tls)
{
    beacon b;
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    char want[128];
    snprintf(want, sizeof want, "wss://localhost:%d/v1/compat answered 426 in ", b.port);
    CHECK_EQ_INT(probe(b.port, NULL, 5000), PT_OK);
    CHECK_STR_CONTAINS(detail, want);
    CHECK_STR_CONTAINS(detail, " ms (direct)");
    /* The dial's trust, all of it: the SPKI pin too. */
    char pin[64], file[600];
    snprintf(file, sizeof file, "%s/server.pem", certs);
    CHECK(spki_pin(file, pin, sizeof pin));
    const char *kv[] = { "pin-sha256", pin, NULL };
    CHECK_EQ_INT(probe(b.port, kv, 5000), PT_OK);
    beacon_stop(&b);
}

TEST(a_path_that_answers_200_or_404_is_a_protocol_error)
{
    beacon b;
    char url[128];
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    snprintf(url, sizeof url, "wss://localhost:%d/health", b.port);
    const char *health[] = { "url", url, NULL };
    CHECK_EQ_INT(probe(b.port, health, 5000), PT_EPROTO);
    CHECK_STR_CONTAINS(detail, "answered the GET with \"HTTP/1.1 200 OK\"");
    CHECK_STR_CONTAINS(detail, "not 426 Upgrade Required");
    snprintf(url, sizeof url, "wss://localhost:%d/no/such/path", b.port);
    const char *nowhere[] = { "url", url, NULL };
    CHECK_EQ_INT(probe(b.port, nowhere, 5000), PT_EPROTO);
    CHECK_STR_CONTAINS(detail, "\"HTTP/1.1 404 ");
    beacon_stop(&b);
}

/* Over ws:// (allow-plaintext) the answer is ours to choose: garbage,
 * quoted printable; and the request carries no Upgrade header. */
TEST(garbage_is_a_protocol_error_quoted_printable)
{
    static const char garbage[] = "\x01\x02garbage\x7f\x00line\r\nmore\r\n";
    one_shot o;
    int port = 0;
    CHECK_EQ_INT(one_shot_probe(&o, garbage, sizeof garbage - 1, "/v1/compat?x=1", &port),
                 PT_EPROTO);
    CHECK_STR_CONTAINS(detail, "answered the GET with \"??garbage??line\", not HTTP");
    char want[160];
    snprintf(want, sizeof want, "GET /v1/compat?x=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", port);
    CHECK(strncmp(o.request, want, strlen(want)) == 0);
    CHECK(strstr(o.request, "Upgrade") == NULL);
    CHECK(strstr(o.request, "Sec-WebSocket") == NULL);
    if (strncmp(o.request, want, strlen(want)) != 0)
        printf("# request: %.80s\n", o.request);
}

TEST(a_peer_that_closes_without_a_word_is_a_protocol_error)
{
    one_shot o;
    int port = 0;
    CHECK_EQ_INT(one_shot_probe(&o, "", 0, "/v1/compat", &port), PT_EPROTO);
    CHECK_STR_CONTAINS(detail, "closed the connection without answering the GET");
}

TEST(a_closed_port_is_an_io_error)
{
    int port = free_port();
    CHECK(port > 0);
    CHECK_EQ_INT(probe(port, NULL, 5000), PT_EIO);
    CHECK_STR_CONTAINS(detail, "/v1/compat: TCP: ");
}

/* A listener that accepts TCP (the kernel does) and never answers TLS. */
TEST(a_silent_listener_times_out_within_the_budget)
{
    int port = 0, fd = listener(&port, 8);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    int budget = 500 * scale;
    int64_t t0 = now_ms();
    CHECK_EQ_INT(probe(port, NULL, 500), PT_ETIMEDOUT);
    int64_t took = now_ms() - t0;
    printf("# timed out after %lld ms (budget %d)\n", (long long)took, budget);
    CHECK(took >= budget);
    CHECK(took <= ceiling_ms(500));
    CHECK_STR_CONTAINS(detail, "wss probe: ");
    close(fd);
}

TEST(an_untrusted_certificate_is_a_tls_error)
{
    beacon b;
    char other[600];
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    snprintf(other, sizeof other, "%s/other-ca.pem", certs);
    const char *wrong_ca[] = { "ca-file", other, NULL };
    CHECK_EQ_INT(probe(b.port, wrong_ca, 5000), PT_ETLS);
    CHECK_STR_CONTAINS(detail, "/v1/compat: TLS: ");
    /* The pinned roots, the dial's default, know no test CA either. */
    const char *pinned[] = { "tls-trust", "pinned", NULL };
    CHECK_EQ_INT(probe(b.port, pinned, 5000), PT_ETLS);
    beacon_stop(&b);
}

#define DEAD_PROXY_PW "probe-dead-proxy-pw"

TEST(a_proxy_that_cannot_be_reached_is_a_proxy_error_without_its_password)
{
    char proxy[128];
    int port = free_port();
    snprintf(proxy, sizeof proxy, "http://probe:" DEAD_PROXY_PW "@127.0.0.1:%d", port);
    const char *kv[] = { "proxy", proxy, NULL };
    CHECK_EQ_INT(probe(443, kv, 5000), PT_EPROXY);
    CHECK_STR_CONTAINS(detail, "cannot reach proxy 127.0.0.1:");
    CHECK(strstr(detail, DEAD_PROXY_PW) == NULL);
    CHECK(!logged(DEAD_PROXY_PW));

    const char *unresolvable[] = { "proxy", "http://no-such-host.invalid:3128", NULL };
    CHECK_EQ_INT(probe(443, unresolvable, 10000), PT_EPROXY);
    CHECK_STR_CONTAINS(detail, "cannot resolve proxy host no-such-host.invalid");
}

/* proxy=auto reads the environment as the dial does: https_proxy, and
 * NO_PROXY that skips it; proxy=off ignores both. */
TEST(the_environment_chooses_the_proxy_as_for_a_dial)
{
    beacon b;
    char dead[128];
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d", free_port());
    setenv("https_proxy", dead, 1);
    CHECK_EQ_INT(probe(b.port, NULL, 5000), PT_EPROXY);
    CHECK_STR_CONTAINS(detail, "cannot reach proxy");
    CHECK_STR_CONTAINS(detail, "check https_proxy");
    const char *off[] = { "proxy", "off", NULL };
    CHECK_EQ_INT(probe(b.port, off, 5000), PT_OK);
    setenv("NO_PROXY", "localhost", 1);
    CHECK_EQ_INT(probe(b.port, NULL, 5000), PT_OK);
    CHECK_STR_CONTAINS(detail, "(direct)");
    unsetenv("NO_PROXY");
    unsetenv("https_proxy");
    beacon_stop(&b);
}

/* The hanging probe (a silent listener) is abandoned through cancel_fd
 * from another thread, once its connection is pending on the listener. */
static void *probe_thread(void *arg)
{
    probe_call_run(arg);
    return NULL;
}

TEST(cancel_fd_abandons_a_hanging_probe_promptly)
{
    static probe_call pc;
    pthread_t t;
    int port = 0, fd = listener(&port, 8), cancel = eventfd(0, EFD_CLOEXEC);
    CHECK(fd >= 0 && cancel >= 0);
    if (fd < 0 || cancel < 0)
        return;
    probe_setup(&pc, port, NULL, (int)ceiling_ms(30000));
    pc.params.cancel_fd = cancel;
    if (pthread_create(&t, NULL, probe_thread, &pc) != 0) {
        CHECK(0);
        return;
    }
    struct pollfd p = { fd, POLLIN, 0 };
    CHECK_EQ_INT(poll(&p, 1, (int)ceiling_ms(5000)), 1); /* its TCP connection */
    uint64_t one = 1;
    int64_t t0 = now_ms();
    CHECK_EQ_INT(write(cancel, &one, sizeof one), (int)sizeof one);
    pthread_join(t, NULL);
    CHECK_EQ_INT(pc.rc, PT_ECLOSED);
    CHECK_STR_CONTAINS(pc.detail, "wss probe: cancelled");
    printf("# returned %lld ms after the cancel\n", (long long)(pc.returned_ms - t0));
    CHECK(pc.returned_ms - t0 <= ceiling_ms(100));
    close(cancel);
    close(fd);
}

/* Readable before the call: cancelled at once.  From a host of minor 1
 * (abi_minor 1, or a 1.0-sized struct) it is not read at all. */
TEST(cancel_fd_is_read_only_from_a_host_of_minor_2)
{
    static probe_call pc;
    beacon b;
    int cancel = eventfd(1, EFD_CLOEXEC); /* readable */
    if (cancel < 0 || beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    probe_setup(&pc, b.port, NULL, 5000 * scale);
    pc.params.cancel_fd = cancel;
    probe_call_run(&pc);
    CHECK_EQ_INT(pc.rc, PT_ECLOSED);

    pc.params.abi_minor = 1;
    probe_call_run(&pc);
    CHECK_EQ_INT(pc.rc, PT_OK);

    pc.params.abi_minor = PT_ABI_MINOR;
    pc.params.struct_size = PT_DIAL_PARAMS_SIZE_1_0;
    probe_call_run(&pc);
    CHECK_EQ_INT(pc.rc, PT_OK);
    beacon_stop(&b);
    close(cancel);
}

TEST(bad_arguments_are_refused)
{
    static probe_call pc;
    probe_setup(&pc, 443, NULL, 1000);
    CHECK_EQ_INT(wss->probe(NULL, 1000, detail, sizeof detail), PT_EINVAL);
    CHECK_STR_CONTAINS(detail, "dial parameters");
    pc.params.struct_size = 8;
    CHECK_EQ_INT(wss->probe(&pc.params, 1000, detail, sizeof detail), PT_EINVAL);
    CHECK_STR_CONTAINS(detail, "dial parameters");
    pc.params.struct_size = sizeof pc.params;
    CHECK_EQ_INT(wss->probe(&pc.params, 0, detail, sizeof detail), PT_EINVAL);
    CHECK_STR_CONTAINS(detail, "timeout");
    CHECK_EQ_INT(wss->probe(&pc.params, -1, detail, sizeof detail), PT_EINVAL);
    CHECK_EQ_INT(wss->probe(&pc.params, 1000, NULL, 16), PT_EINVAL);
}

TEST(options_that_say_nothing_to_probe_are_an_option_error)
{
    const char *bad_key[] = { "url", "wss://localhost/v1/compat", "colour", "blue", NULL };
    const char *plain[] = { "url", "ws://localhost/v1/compat", NULL };
    CHECK_EQ_INT(probe(0, NULL, 1000), PT_EOPTION); /* no url */
    CHECK_STR_CONTAINS(detail, "\"url\" is required");
    CHECK_EQ_INT(probe(0, bad_key, 1000), PT_EOPTION);
    CHECK_STR_CONTAINS(detail, "colour");
    CHECK_EQ_INT(probe(0, plain, 1000), PT_EOPTION);
    CHECK_STR_CONTAINS(detail, "plaintext");
    /* No identity is needed, and a short detail buffer is fine. */
    char tiny[8];
    static probe_call pc;
    probe_setup(&pc, 0, NULL, 1000);
    CHECK_EQ_INT(wss->probe(&pc.params, 1000, tiny, sizeof tiny), PT_EOPTION);
    CHECK_EQ_INT(strlen(tiny), sizeof tiny - 1);
    CHECK_EQ_INT(wss->probe(&pc.params, 1000, NULL, 0), PT_EOPTION);
}

/* Whatever the outcome, nothing stays open: no descriptor, no thread. */
TEST(nothing_is_left_open)
{
    beacon b;
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    int fds = ch_open_fds(), threads = count_threads();
    char other[600], dead[128];
    snprintf(other, sizeof other, "%s/other-ca.pem", certs);
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d", free_port());
    const char *wrong_ca[] = { "ca-file", other, NULL };
    const char *pinned[] = { "tls-trust", "pinned", NULL };
    const char *dead_proxy[] = { "proxy", dead, NULL };
    CHECK_EQ_INT(probe(b.port, NULL, 5000), PT_OK);
    CHECK_EQ_INT(probe(b.port, wrong_ca, 5000), PT_ETLS);
    CHECK_EQ_INT(probe(b.port, pinned, 5000), PT_ETLS);
    CHECK_EQ_INT(probe(b.port, dead_proxy, 5000), PT_EPROXY);
    CHECK_EQ_INT(probe(free_port(), NULL, 5000), PT_EIO);
    CHECK_EQ_INT(ch_open_fds(), fds);
    CHECK_EQ_INT(count_threads(), threads);
    beacon_stop(&b);
}

/* ---- Through tinyproxy (--proxies) -------------------------------------------- */

static const char *need_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        printf("# %s is not set\n", name);
    return v && *v ? v : NULL;
}

/* http://USER:PASSWORD@ in front of PT_PROBE_PROXY_AUTH's host:port. */
static int auth_proxy_url(char *out, size_t cap, const char *password)
{
    const char *base = need_env("PT_PROBE_PROXY_AUTH"), *user = need_env("PT_PROBE_PROXY_USER");
    if (!base || !user || strncmp(base, "http://", 7) != 0)
        return 0;
    return snprintf(out, cap, "http://%s:%s@%s", user, password, base + 7) < (int)cap;
}

static beacon proxied_beacon;

TEST(good_credentials_reach_the_beacon_through_the_proxy)
{
    const char *pw = need_env("PT_PROBE_PROXY_PASSWORD");
    char url[512], want[200];
    CHECK(pw && auth_proxy_url(url, sizeof url, pw));
    if (!pw)
        return;
    const char *kv[] = { "proxy", url, NULL };
    CHECK_EQ_INT(probe(proxied_beacon.port, kv, 10000), PT_OK);
    snprintf(want, sizeof want, "(via proxy http://%s:***@%s from the proxy option)",
             getenv("PT_PROBE_PROXY_USER"), getenv("PT_PROBE_PROXY_AUTH") + 7);
    CHECK_STR_CONTAINS(detail, want);
    CHECK_STR_CONTAINS(detail, "answered 426 in ");
    CHECK(strstr(detail, pw) == NULL);
    CHECK(!logged(pw));

    /* From the environment, as a dial reads it. */
    setenv("https_proxy", url, 1);
    CHECK_EQ_INT(probe(proxied_beacon.port, NULL, 10000), PT_OK);
    CHECK_STR_CONTAINS(detail, "from https_proxy)");
    CHECK(strstr(detail, pw) == NULL);
    unsetenv("https_proxy");
}

TEST(missing_or_wrong_credentials_are_a_proxy_error_without_the_password)
{
    const char *base = need_env("PT_PROBE_PROXY_AUTH"), *pw = need_env("PT_PROBE_PROXY_PASSWORD");
    char url[512];
    CHECK(base && pw);
    if (!base || !pw)
        return;
    const char *none[] = { "proxy", base, NULL };
    CHECK_EQ_INT(probe(proxied_beacon.port, none, 10000), PT_EPROXY);
    CHECK_STR_CONTAINS(detail, "refused CONNECT");
    CHECK_STR_CONTAINS(detail, "(HTTP 407)");
    /* tinyproxy 1.11 answers wrong credentials with 401. */
    CHECK(auth_proxy_url(url, sizeof url, "wrong-probe-pw"));
    const char *wrong[] = { "proxy", url, NULL };
    CHECK_EQ_INT(probe(proxied_beacon.port, wrong, 10000), PT_EPROXY);
    CHECK_STR_CONTAINS(detail, "credentials refused");
    CHECK(strstr(detail, " 401") || strstr(detail, " 407"));
    CHECK(strstr(detail, "wrong-probe-pw") == NULL);
    CHECK(strstr(detail, pw) == NULL);
    CHECK(!logged("wrong-probe-pw"));
    CHECK(!logged(pw));
}

TEST(a_proxy_policy_that_refuses_the_port_is_a_proxy_error)
{
    const char *ports = need_env("PT_PROBE_PROXY_PORTS");
    CHECK(ports != NULL);
    if (!ports)
        return;
    const char *kv[] = { "proxy", ports, NULL };
    CHECK_EQ_INT(probe(proxied_beacon.port, kv, 10000), PT_EPROXY);
    CHECK_STR_CONTAINS(detail, "(HTTP 403)");
}

/* ---- Setup ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    int proxies = argc > 1 && strcmp(argv[1], "--proxies") == 0;
    static const char *const proxy_vars[] = { "https_proxy", "HTTPS_PROXY", "http_proxy",
                                              "HTTP_PROXY",  "all_proxy",   "ALL_PROXY",
                                              "no_proxy",    "NO_PROXY",    NULL };
    for (const char *const *v = proxy_vars; *v; v++)
        unsetenv(*v); /* the environment's proxies are the tests' to set */
    if (harness_init() != 0)
        return 1;
    tap_on_hang = harness_kill_children; /* no beacon outlives a hang */
    log_book_init(&book);
    secrets_register_password("dead proxy password", DEAD_PROXY_PW);
    secrets_register_password("wrong proxy password", "wrong-probe-pw");

    if (proxies) {
        if (beacon_start(&proxied_beacon, "server", 0, NULL) != 0) {
            printf("Bail out! no beacon\n");
            return 1;
        }
        RUN(good_credentials_reach_the_beacon_through_the_proxy);
        RUN(missing_or_wrong_credentials_are_a_proxy_error_without_the_password);
        RUN(a_proxy_policy_that_refuses_the_port_is_a_proxy_error);
        beacon_stop(&proxied_beacon);
    } else {
        RUN(probe_is_in_the_descriptor);
        RUN(the_beacon_answers_426_over_tls);
        RUN(a_path_that_answers_200_or_404_is_a_protocol_error);
        RUN(garbage_is_a_protocol_error_quoted_printable);
        RUN(a_peer_that_closes_without_a_word_is_a_protocol_error);
        RUN(a_closed_port_is_an_io_error);
        RUN(a_silent_listener_times_out_within_the_budget);
        RUN(an_untrusted_certificate_is_a_tls_error);
        RUN(a_proxy_that_cannot_be_reached_is_a_proxy_error_without_its_password);
        RUN(the_environment_chooses_the_proxy_as_for_a_dial);
        RUN(cancel_fd_abandons_a_hanging_probe_promptly);
        RUN(cancel_fd_is_read_only_from_a_host_of_minor_2);
        RUN(bad_arguments_are_refused);
        RUN(options_that_say_nothing_to_probe_are_an_option_error);
        RUN(nothing_is_left_open);
    }
    log_book_destroy(&book);
    harness_cleanup();
    return tap_done();
}
