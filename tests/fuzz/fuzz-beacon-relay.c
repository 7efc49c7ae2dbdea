/*
 * fuzz-beacon-relay.c -- the development beacon's relay (tests/beacon/
 * relay.c): what it does with binary messages from WSS peers
 * (bc_relay_from_peer) and with datagrams on its UDP socket
 * (bc_relay_udp_readable, which reads them and passes each to the static
 * udp_message).
 *
 * No libwebsockets: relay.c reaches the WSS side only through
 * bc_server_deliver, which this file defines.  It plays three WSS peers:
 * node % 3 == 1 is connected (returns 1), == 2 has a full queue (-1), == 0
 * is not connected (0, so the relay looks for a UDP route).  The UDP side
 * is real: the relay's socket on 127.0.0.1 (bc_relay_open_udp) and two
 * client sockets that send the fuzzed datagrams and receive the replies.
 *
 * The input is records: kind (1 byte), length (2 bytes, big-endian), then
 * that many bytes (fewer if the input ends).  kind bit 0 clear: a message
 * from the WSS peer authenticated as node kind >> 1; set: a datagram from
 * client (kind >> 1) & 1.  The relay's state is reset for every input.
 *
 * A model of the routing table (which client last sent a Discover for a
 * node) predicts the outcome of every record.  Invariants:
 *   - each message is counted once: relayed or relay_dropped, or (a good
 *     Discover) discovers;
 *   - a WSS peer gets only a Relay whose sender is itself routed;
 *   - every RelayDeliver, to a WSS peer or a UDP client, carries exactly
 *     the sender and the frame of the Relay;
 *   - a Discover is answered to the client that sent it with its own
 *     address and port.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "beacon.h"
#include "fuzz.h"
#include "pilot_packet.h"

const char fuzz_target_name[] = "beacon-relay";

#define WAIT_MS 2000     /* loopback delivers at once; this is only a bound */
#define MAX_ROUTES 65536 /* the relay's own limit (MAX_UDP_NODES) */

static int beacon_fd = -1, client_fd[2] = { -1, -1 };
static struct sockaddr_in beacon_sa, client_sa[2];
static bc_stats st;

/* The Relay being handled, as the target parsed it. */
static struct {
    int armed;
    uint32_t from, to;
    const unsigned char *frame;
    size_t frame_len;
    int calls;
} expect;

/* The model: node -> client of its last Discover. */
static struct {
    uint32_t node;
    int client;
} routes[MAX_ROUTES];
static size_t n_routes;

static int route_of(uint32_t node)
{
    for (size_t i = 0; i < n_routes; i++)
        if (routes[i].node == node)
            return routes[i].client;
    return -1;
}

static void learn(uint32_t node, int client)
{
    for (size_t i = 0; i < n_routes; i++)
        if (routes[i].node == node) {
            routes[i].client = client;
            return;
        }
    routes[n_routes].node = node;
    routes[n_routes++].client = client;
}

/* Is msg the RelayDeliver of the Relay in expect? */
static int is_expected_delivery(const unsigned char *msg, size_t len)
{
    ptu_beacon_msg m;

    return ptu_pkt_parse_beacon(msg, len, &m, NULL, 0) == 0 &&
           m.type == PTU_BEACON_RELAY_DELIVER && m.from == expect.from &&
           m.frame_len == expect.frame_len &&
           (m.frame_len == 0 || memcmp(m.frame, expect.frame, m.frame_len) == 0);
}

int bc_server_deliver(uint32_t node, const unsigned char *msg, size_t len)
{
    FUZZ_CHECK(expect.armed);
    FUZZ_CHECK(node == expect.to);
    FUZZ_CHECK(is_expected_delivery(msg, len));
    expect.calls++;
    switch (node % 3) {
    case 1:
        return 1;
    case 2:
        return -1;
    default:
        return 0;
    }
}

static int wait_readable(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    return poll(&p, 1, WAIT_MS) == 1;
}

static void drain(int fd)
{
    unsigned char buf[64];
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0)
        ;
}

static int udp_socket(struct sockaddr_in *sa)
{
    socklen_t sl = sizeof *sa;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    FUZZ_CHECK(fd >= 0);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    FUZZ_CHECK(bind(fd, (struct sockaddr *)sa, sizeof *sa) == 0);
    FUZZ_CHECK(getsockname(fd, (struct sockaddr *)sa, &sl) == 0);
    return fd;
}

static void init(void)
{
    char err[256];
    int port = 0;

    if (beacon_fd >= 0)
        return;
    beacon_fd = bc_relay_open_udp("127.0.0.1", 0, &port, err, sizeof err);
    if (beacon_fd < 0) {
        fprintf(stderr, "fuzz-beacon-relay: %s\n", err);
        abort();
    }
    memset(&beacon_sa, 0, sizeof beacon_sa);
    beacon_sa.sin_family = AF_INET;
    beacon_sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    beacon_sa.sin_port = htons((uint16_t)port);
    client_fd[0] = udp_socket(&client_sa[0]);
    client_fd[1] = udp_socket(&client_sa[1]);
}

/* Parse msg as the relay will, and arm expect if it is a Relay. */
static int arm(const unsigned char *msg, size_t len, ptu_beacon_msg *m)
{
    memset(&expect, 0, sizeof expect);
    if (ptu_pkt_parse_beacon(msg, len, m, NULL, 0) != 0)
        return 0;
    if (m->type == PTU_BEACON_RELAY) {
        expect.armed = 1;
        expect.from = m->from;
        expect.to = m->to;
        expect.frame = m->frame;
        expect.frame_len = m->frame_len;
    }
    return 1;
}

/* After a Relay from -> to was handled: it went to the WSS peer, or to the
 * UDP client of to's Discover, or was dropped; one of them, counted once. */
static void check_routed(const bc_stats *before)
{
    uint64_t relayed = st.relayed - before->relayed;
    uint64_t dropped = st.relay_dropped - before->relay_dropped;
    int client;

    FUZZ_CHECK(relayed + dropped == 1);
    FUZZ_CHECK(expect.calls == 1); /* the WSS side is always asked first */
    if (expect.to % 3 == 1) {
        FUZZ_CHECK(relayed == 1);
        return;
    }
    if (expect.to % 3 == 2) {
        FUZZ_CHECK(dropped == 1);
        return;
    }
    client = route_of(expect.to);
    if (client < 0) {
        FUZZ_CHECK(dropped == 1);
        return;
    }
    if (relayed == 1) {
        unsigned char buf[PT_MAX_FRAME];
        ssize_t n;
        FUZZ_CHECK(wait_readable(client_fd[client]));
        n = recv(client_fd[client], buf, sizeof buf, MSG_DONTWAIT);
        FUZZ_CHECK(n >= 0 && is_expected_delivery(buf, (size_t)n));
    }
}

static void from_peer(uint32_t node, const unsigned char *msg, size_t len)
{
    bc_stats before = st;
    ptu_beacon_msg m;
    int parsed = arm(msg, len, &m);

    if (!parsed || m.type != PTU_BEACON_RELAY || m.from != node)
        expect.armed = 0; /* refused before routing: no delivery at all */
    bc_relay_from_peer(node, msg, len);
    if (!expect.armed) {
        FUZZ_CHECK(st.relay_dropped == before.relay_dropped + 1);
        FUZZ_CHECK(st.relayed == before.relayed);
        FUZZ_CHECK(expect.calls == 0);
        return;
    }
    check_routed(&before);
}

static void from_udp(int c, const unsigned char *msg, size_t len)
{
    bc_stats before;
    ptu_beacon_msg m;
    int parsed;

    if (sendto(client_fd[c], msg, len, 0, (const struct sockaddr *)&beacon_sa,
               sizeof beacon_sa) != (ssize_t)len)
        return; /* e.g. EMSGSIZE: not the relay's business */
    FUZZ_CHECK(wait_readable(beacon_fd));
    before = st;
    parsed = arm(msg, len, &m);
    bc_relay_udp_readable();
    FUZZ_CHECK(st.udp_in == before.udp_in + 1);
    if (parsed && m.type == PTU_BEACON_DISCOVER && m.from != 0) {
        unsigned char buf[64];
        ptu_beacon_msg r;
        ssize_t n;
        FUZZ_CHECK(st.discovers == before.discovers + 1);
        FUZZ_CHECK(st.relay_dropped == before.relay_dropped);
        learn(m.from, c);
        FUZZ_CHECK(wait_readable(client_fd[c]));
        n = recv(client_fd[c], buf, sizeof buf, MSG_DONTWAIT);
        FUZZ_CHECK(n > 0 && ptu_pkt_parse_beacon(buf, (size_t)n, &r, NULL, 0) == 0);
        FUZZ_CHECK(r.type == PTU_BEACON_DISCOVER_REPLY && r.addr.family == PT_AF_INET);
        FUZZ_CHECK(r.addr.port == ntohs(client_sa[c].sin_port));
        FUZZ_CHECK(memcmp(r.addr.ip, &client_sa[c].sin_addr, 4) == 0);
        return;
    }
    FUZZ_CHECK(st.discovers == before.discovers);
    if (expect.armed) {
        check_routed(&before);
        return;
    }
    /* Malformed, Discover of node 0, or a type the beacon does not take. */
    FUZZ_CHECK(st.relay_dropped == before.relay_dropped + 1);
    FUZZ_CHECK(st.relayed == before.relayed && expect.calls == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;

    init();
    drain(beacon_fd);
    drain(client_fd[0]);
    drain(client_fd[1]);
    memset(&st, 0, sizeof st);
    n_routes = 0;
    bc_relay_init(&st, beacon_fd);

    /* Stop short of the relay's table limit, where the model is silent. */
    while (pos < size && n_routes < MAX_ROUTES) {
        uint8_t kind = data[pos];
        size_t len = 0;
        unsigned char *msg;

        if (size - pos >= 3)
            len = (size_t)data[pos + 1] << 8 | data[pos + 2];
        pos += size - pos >= 3 ? 3 : size - pos;
        if (len > size - pos)
            len = size - pos;
        msg = (unsigned char *)fuzz_dup(data + pos, len);
        pos += len;
        if ((kind & 1) == 0)
            from_peer(kind >> 1, msg, len);
        else
            from_udp((kind >> 1) & 1, msg, len);
        free(msg);
    }

    bc_relay_free(); /* the table of UDP nodes; the socket stays ours */
    return 0;
}
