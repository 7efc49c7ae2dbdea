/*
 * test-udp-probe.c -- the UDP plugin's probe (ABI 1.2) against the real
 * dev beacon in relay mode (started as tests/wss/harness.c starts it), a
 * closed port, a socket that never answers and sockets that answer the
 * wrong thing; each code the plugin's probe returns is reached.  Nothing
 * sleeps to synchronise: the cancelled probe is cancelled once its
 * Discover is seen arriving.
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
#include "pilot_packet.h"
#include "pilot_transport_loader.h"
#include "tap.h"

static const pt_plugin *udp;
static beacon relay; /* the beacon in relay mode, for the whole run */

/* ---- Probing ------------------------------------------------------------------ */

typedef struct probe_call {
    pt_option opts[4];
    char beacon_opt[128];
    pt_dial_params params;
    int timeout_ms;
    int rc;
    char detail[PT_ERRMSG_MAX];
    int64_t took_ms;
} probe_call;

/* beacon=HOST:PORT (host NULL: no beacon option), as node `me` (NODE). */
static void probe_setup(probe_call *pc, const char *host, int port, int timeout_ms)
{
    pt_dial_params init = PT_DIAL_PARAMS_INIT;
    memset(pc, 0, sizeof *pc);
    pc->params = init;
    pc->params.identity = &me;
    if (host) {
        snprintf(pc->beacon_opt, sizeof pc->beacon_opt, "%s:%d", host, port);
        pc->opts[0] = (pt_option){ "beacon", pc->beacon_opt };
        pc->params.options = pc->opts;
        pc->params.n_options = 1;
    }
    pc->timeout_ms = timeout_ms;
}

static int probe_run(probe_call *pc)
{
    int64_t t0 = now_ms();
    pc->rc = udp->probe(&pc->params, pc->timeout_ms, pc->detail, sizeof pc->detail);
    pc->took_ms = now_ms() - t0;
    printf("# probe: %s in %lld ms (%s)\n", pt_strerror(pc->rc), (long long)pc->took_ms,
           pc->detail);
    return pc->rc;
}

/* ---- Sockets of our own ---------------------------------------------------------- */

/* A loopback UDP socket on a port of its own that answers nothing by
 * itself. */
static int udp_socket(int *port)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        getsockname(s, (struct sockaddr *)&sin, &sl) != 0) {
        if (s >= 0)
            close(s);
        return -1;
    }
    *port = ntohs(sin.sin_port);
    return s;
}

/* How many Discovers of node `node` are queued on s, read without waiting. */
static int discovers_queued(int s, uint32_t node)
{
    unsigned char buf[64];
    int n = 0;
    for (;;) {
        ssize_t r = recv(s, buf, sizeof buf, MSG_DONTWAIT);
        ptu_beacon_msg m;
        if (r < 0)
            return n;
        if (ptu_pkt_parse_beacon(buf, (size_t)r, &m, NULL, 0) == 0 &&
            m.type == PTU_BEACON_DISCOVER && m.from == node)
            n++;
    }
}

/* A thread that waits for the first datagram on fd, then either answers it
 * with `answer` (answer_len bytes) or, with cancel_fd set, makes that
 * readable instead. */
typedef struct responder {
    int fd;
    const void *answer;
    size_t answer_len;
    int cancel_fd;
    int64_t fired_ms; /* when it answered or cancelled */
    pthread_t thread;
} responder;

static void *responder_main(void *arg)
{
    responder *r = arg;
    struct pollfd p = { r->fd, POLLIN, 0 };
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    unsigned char buf[64];
    uint64_t one = 1;
    if (poll(&p, 1, (int)ceiling_ms(5000)) != 1)
        return NULL;
    if (recvfrom(r->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) < 0)
        return NULL;
    r->fired_ms = now_ms();
    if (r->cancel_fd >= 0) {
        if (write(r->cancel_fd, &one, sizeof one) != (ssize_t)sizeof one)
            printf("# responder: cannot write the cancel descriptor\n");
    } else if (sendto(r->fd, r->answer, r->answer_len, 0, (struct sockaddr *)&from, fl) < 0) {
        printf("# responder: cannot answer\n");
    }
    return NULL;
}

/* Probe a responder on a socket of its own (timeout 20 s: what ends the
 * probe is the responder); its code. */
static int probe_responder(probe_call *pc, const void *answer, size_t len, int cancel_fd)
{
    responder r = { .answer = answer, .answer_len = len, .cancel_fd = cancel_fd };
    int port = 0;
    r.fd = udp_socket(&port);
    if (r.fd < 0 || pthread_create(&r.thread, NULL, responder_main, &r) != 0) {
        printf("# no responder\n");
        return 1;
    }
    if (cancel_fd >= 0) {
        pc->params.cancel_fd = cancel_fd;
        pc->params.abi_minor = PT_ABI_MINOR;
    }
    snprintf(pc->beacon_opt, sizeof pc->beacon_opt, "127.0.0.1:%d", port);
    probe_run(pc);
    pthread_join(r.thread, NULL);
    close(r.fd);
    if (cancel_fd >= 0 && r.fired_ms)
        printf("# returned %lld ms after the cancel\n",
               (long long)(now_ms() - r.fired_ms));
    return pc->rc;
}

/* ---- Tests -------------------------------------------------------------------------- */

/* The beacon answers, and registers the node at the probe's own port. */
TEST(the_beacon_answers_a_discover)
{
    probe_call pc;
    char want[96];
    probe_setup(&pc, "127.0.0.1", relay.port, 5000 * scale);
    CHECK_EQ_INT(probe_run(&pc), PT_OK);
    snprintf(want, sizeof want, "beacon 127.0.0.1:%d answered Discover in ", relay.port);
    CHECK_STR_CONTAINS(pc.detail, want);
    CHECK_STR_CONTAINS(pc.detail, " ms (node 7, seen as 127.0.0.1:");
    CHECK(beacon_wait_line(&relay, "node 7 is at udp 127.0.0.1:", 5000));
    uint64_t discovers = 0;
    CHECK_EQ_INT(beacon_counter(&relay, "discovers", &discovers), 0);
    CHECK(discovers >= 1);
}

/* A host name goes through the resolver (a thread) and still answers. */
TEST(a_beacon_given_by_name_is_resolved)
{
    probe_call pc;
    probe_setup(&pc, "localhost", relay.port, 5000 * scale);
    CHECK_EQ_INT(probe_run(&pc), PT_OK);
    CHECK_STR_CONTAINS(pc.detail, "answered Discover");
}

/* A signer, when set, names the node (identity is then ignored). */
static int no_sign(void *ud, const uint8_t *m, size_t n, uint8_t sig[64])
{
    (void)ud, (void)m, (void)n, (void)sig;
    return 1;
}

TEST(the_signer_names_the_node)
{
    probe_call pc;
    pt_signer s = { .struct_size = sizeof s, .node_id = NODE, .sign = no_sign };
    probe_setup(&pc, "127.0.0.1", relay.port, 5000 * scale);
    pc.params.identity = NULL;
    pc.params.signer = &s;
    CHECK_EQ_INT(probe_run(&pc), PT_OK);
    CHECK_STR_CONTAINS(pc.detail, "(node 7,");
}

/* ICMP port unreachable on the connected socket: PT_EIO at once, long
 * before the first try's half of the budget is over. */
TEST(a_closed_port_is_an_io_error_at_once)
{
    probe_call pc;
    char want[96];
    int port = 0, s = udp_socket(&port);
    CHECK(s >= 0);
    close(s); /* nothing listens there now */
    probe_setup(&pc, "127.0.0.1", port, 20000);
    CHECK_EQ_INT(probe_run(&pc), PT_EIO);
    snprintf(want, sizeof want, "udp probe: 127.0.0.1:%d: connection refused (port closed)",
             port);
    CHECK_STR_CONTAINS(pc.detail, want);
    CHECK(pc.took_ms <= ceiling_ms(0));
}

/* Silence: two Discovers, then PT_ETIMEDOUT no sooner than the budget and
 * not much later. */
TEST(a_silent_socket_times_out_after_two_tries)
{
    probe_call pc;
    char want[128];
    int port = 0, s = udp_socket(&port);
    CHECK(s >= 0);
    probe_setup(&pc, "127.0.0.1", port, 600);
    CHECK_EQ_INT(probe_run(&pc), PT_ETIMEDOUT);
    CHECK(pc.took_ms >= 600);
    CHECK(pc.took_ms <= ceiling_ms(600));
    snprintf(want, sizeof want, "udp probe: no answer from 127.0.0.1:%d after 2 tries in 600 ms",
             port);
    CHECK_STR_CONTAINS(pc.detail, want);
    CHECK_EQ_INT(discovers_queued(s, NODE), 2);
    close(s);
}

TEST(an_answer_that_is_not_a_discover_reply_is_a_protocol_error)
{
    probe_call pc;
    unsigned char deliver[16];
    int n = ptu_pkt_relay_deliver(9, "PILT", 4, deliver, sizeof deliver);
    probe_setup(&pc, "127.0.0.1", 0, 20000);
    CHECK_EQ_INT(probe_responder(&pc, "hello", 5, -1), PT_EPROTO);
    CHECK_STR_CONTAINS(pc.detail, "answered the Discover with a 5-byte datagram that is not a "
                                  "beacon message");
    CHECK_STR_CONTAINS(pc.detail, "it starts \"hello\"");
    probe_setup(&pc, "127.0.0.1", 0, 20000);
    CHECK_EQ_INT(probe_responder(&pc, deliver, (size_t)n, -1), PT_EPROTO);
    CHECK_STR_CONTAINS(pc.detail, "beacon message type 0x06, not a DiscoverReply");
}

/* cancel_fd made readable while the probe waits for an answer. */
TEST(cancel_fd_abandons_a_waiting_probe_promptly)
{
    probe_call pc;
    int cancel = eventfd(0, EFD_CLOEXEC);
    CHECK(cancel >= 0);
    probe_setup(&pc, "127.0.0.1", 0, 20000);
    CHECK_EQ_INT(probe_responder(&pc, NULL, 0, cancel), PT_ECLOSED);
    CHECK_STR_CONTAINS(pc.detail, "udp probe: cancelled (cancel_fd)");
    CHECK(pc.took_ms <= ceiling_ms(0));
    close(cancel);
}

/* Readable before the call: cancelled at once by a host of minor 2; a
 * host of minor 1 has no cancel_fd, so the same bytes are not read. */
TEST(cancel_fd_is_read_only_from_a_host_of_minor_2)
{
    probe_call pc;
    int cancel = eventfd(1, EFD_CLOEXEC);
    CHECK(cancel >= 0);
    probe_setup(&pc, "127.0.0.1", relay.port, 5000 * scale);
    pc.params.cancel_fd = cancel;
    CHECK_EQ_INT(probe_run(&pc), PT_ECLOSED);
    pc.params.abi_minor = 1;
    CHECK_EQ_INT(probe_run(&pc), PT_OK);
    close(cancel);
}

TEST(no_beacon_option_is_an_option_error)
{
    probe_call pc;
    pt_option bad = { "beacon", "127.0.0.1" };
    probe_setup(&pc, NULL, 0, 1000);
    CHECK_EQ_INT(probe_run(&pc), PT_EOPTION);
    CHECK_STR_CONTAINS(pc.detail, "no beacon to probe: give the option beacon=HOST:PORT");
    pc.params.options = &bad;
    pc.params.n_options = 1;
    CHECK_EQ_INT(probe_run(&pc), PT_EOPTION);
    CHECK_STR_CONTAINS(pc.detail, "udp probe: option \"beacon\"");
}

TEST(bad_arguments_are_refused)
{
    probe_call pc;
    probe_setup(&pc, "127.0.0.1", relay.port, 1000);
    CHECK_EQ_INT(udp->probe(NULL, 1000, pc.detail, sizeof pc.detail), PT_EINVAL);
    CHECK_EQ_INT(udp->probe(&pc.params, 1000, NULL, 10), PT_EINVAL);
    CHECK_EQ_INT(udp->probe(&pc.params, 0, pc.detail, sizeof pc.detail), PT_EINVAL);
    CHECK_STR_CONTAINS(pc.detail, "the timeout must be positive");
    pc.params.struct_size = 8;
    CHECK_EQ_INT(probe_run(&pc), PT_EINVAL);
    CHECK_STR_CONTAINS(pc.detail, "too small");
    probe_setup(&pc, "127.0.0.1", relay.port, 1000);
    pc.params.identity = NULL; /* node 0: a beacon ignores its Discover */
    CHECK_EQ_INT(probe_run(&pc), PT_EINVAL);
    CHECK_STR_CONTAINS(pc.detail, "no node id");
    /* No detail at all is fine with length 0. */
    probe_setup(&pc, "127.0.0.1", relay.port, 5000 * scale);
    CHECK_EQ_INT(udp->probe(&pc.params, pc.timeout_ms, NULL, 0), PT_OK);
}

/* Whatever the outcome, no descriptor stays open (numeric addresses: no
 * resolver thread, which may outlive the call by a moment). */
TEST(nothing_is_left_open)
{
    probe_call pc;
    int port = 0, s = udp_socket(&port);
    close(s);
    int fds = ch_open_fds();
    probe_setup(&pc, "127.0.0.1", relay.port, 5000 * scale);
    CHECK_EQ_INT(probe_run(&pc), PT_OK);
    probe_setup(&pc, "127.0.0.1", port, 5000 * scale);
    CHECK_EQ_INT(probe_run(&pc), PT_EIO);
    probe_setup(&pc, NULL, 0, 1000);
    CHECK_EQ_INT(probe_run(&pc), PT_EOPTION);
    CHECK_EQ_INT(ch_open_fds(), fds);
}

int main(void)
{
    char e[1024];
    static const char *const relay_mode[] = { "--mode=relay", NULL };
    if (harness_init() != 0)
        return 1;
    tap_on_hang = harness_kill_children; /* the relay beacon does not outlive a hang */
    if (pt_loader_open("udp", NULL, &udp, e, sizeof e) != PT_OK || !udp->probe) {
        printf("Bail out! the udp plugin: %s\n", udp ? "it has no probe" : e);
        harness_cleanup();
        return 1;
    }
    if (beacon_start_captured(&relay, "server", 0, relay_mode) != 0) {
        printf("Bail out! the beacon did not start\n");
        harness_cleanup();
        return 1;
    }
    RUN(the_beacon_answers_a_discover);
    RUN(a_beacon_given_by_name_is_resolved);
    RUN(the_signer_names_the_node);
    RUN(a_closed_port_is_an_io_error_at_once);
    RUN(a_silent_socket_times_out_after_two_tries);
    RUN(an_answer_that_is_not_a_discover_reply_is_a_protocol_error);
    RUN(cancel_fd_abandons_a_waiting_probe_promptly);
    RUN(cancel_fd_is_read_only_from_a_host_of_minor_2);
    RUN(no_beacon_option_is_an_option_error);
    RUN(bad_arguments_are_refused);
    RUN(nothing_is_left_open);
    beacon_stop(&relay);
    harness_cleanup();
    return tap_done();
}
