/*
 * relay.c -- relay mode (SPEC 3): the beacon's UDP socket, the table of
 * UDP nodes learned from Discover, and the routing of Relay messages.
 *
 * A Relay (0x05, sender, destination, tunnel frame) from a WSS peer or a
 * UDP datagram goes to its destination as a RelayDeliver (0x06, sender,
 * tunnel frame): to the destination's WSS peer if one is connected, else
 * to the UDP address its last Discover came from, else nowhere (counted in
 * relay_dropped).  The tunnel frame is copied, never parsed.
 *
 * No libwebsockets here: server.c adopts the socket into its service loop
 * and calls bc_relay_udp_readable() when it is readable, hands over each
 * binary message of an authenticated peer (bc_relay_from_peer), and queues
 * deliveries to WSS peers (bc_server_deliver).  One thread, like the rest
 * of the beacon.  UDP sends never wait: a datagram the kernel will not
 * take at once is dropped, as the network could have dropped it.
 */
#include "config.h"

#include "beacon.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "pilot_packet.h"
#include "util.h"

/* Datagrams handled per bc_relay_udp_readable() call, so that WSS peers
 * get their turn under a UDP flood. */
#define UDP_BATCH 64

/* UDP nodes remembered at most; Discovers of new nodes beyond it are
 * dropped (the dev beacon's guard against a table that only grows). */
#define MAX_UDP_NODES 65536

/* Receive buffer asked of the kernel, so that bursts are not lost while
 * the loop serves TLS peers. */
#define UDP_RCVBUF (4 * 1024 * 1024)

/* Room for an address as text ("[v6]:port"). */
#define ADDR_TEXT 64

typedef struct udp_node {
    uint32_t node_id;
    socklen_t salen;
    struct sockaddr_storage sa;
} udp_node;

static struct {
    bc_stats *st;
    int fd;
    udp_node *nodes; /* unsorted; a dev beacon has a handful */
    size_t n, cap;
    unsigned char in[PT_MAX_FRAME];
    unsigned char out[PT_MAX_FRAME];
} R; /* bc_relay_init() sets fd */

/* A message not delivered: count it and say why. */
static void drop(const char *fmt, ...) PTU_PRINTF(1, 2);

static void drop(const char *fmt, ...)
{
    va_list ap;
    R.st->relay_dropped++;
    fputs("beacon: relay: dropped ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *sa_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    pt_addr a;
    if (ptu_addr_from_sockaddr((const struct sockaddr *)ss, &a) != 0) {
        snprintf(buf, len, "?");
        return buf;
    }
    return ptu_addr_format(&a, buf, len);
}

int bc_relay_open_udp(const char *host, int port, int *bound_port, char *err, size_t errlen)
{
    char spec[96];
    pt_addr a;
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, e, rcvbuf = UDP_RCVBUF;

    snprintf(spec, sizeof spec, "%s:%d", host, port);
    if (ptu_addr_parse(spec, 1, &a, err, errlen) != PT_OK) {
        errno = EINVAL;
        return -1;
    }
    sl = ptu_addr_to_sockaddr(&a, a.family == PT_AF_INET6 ? AF_INET6 : AF_INET, &ss);
    if (sl == 0) {
        errno = EINVAL;
        return ptu_err(err, errlen, -1, "udp: cannot use address %s", spec);
    }
    fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        e = errno;
        ptu_err(err, errlen, -1, "udp: socket: %s", strerror(e));
        errno = e;
        return -1;
    }
    /* Best effort: a smaller buffer only means more loss under bursts. */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (bind(fd, (const struct sockaddr *)&ss, sl) != 0)
        goto fail;
    sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        goto fail;
    *bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;

fail:
    e = errno;
    ptu_err(err, errlen, -1, "udp: bind %s: %s", spec, strerror(e));
    close(fd);
    errno = e;
    return -1;
}

void bc_relay_init(bc_stats *st, int fd)
{
    R.st = st;
    R.fd = fd;
    R.n = 0;
}

void bc_relay_free(void)
{
    free(R.nodes);
    R.nodes = NULL;
    R.n = R.cap = 0;
    R.fd = -1;
}

static udp_node *find_node(uint32_t node_id)
{
    for (size_t i = 0; i < R.n; i++)
        if (R.nodes[i].node_id == node_id)
            return &R.nodes[i];
    return NULL;
}

/* One datagram out.  Returns 0, or -1 after counting the drop. */
static int udp_send(const unsigned char *buf, size_t len, const struct sockaddr_storage *to,
                    socklen_t tolen, const char *what)
{
    char a[ADDR_TEXT];

    if (sendto(R.fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)to, tolen) < 0) {
        drop("%s to %s: sendto: %s", what, sa_text(to, a, sizeof a), strerror(errno));
        return -1;
    }
    R.st->udp_out++;
    return 0;
}

/* Deliver frame (flen bytes) from node `from` to node `to`. */
static void route(uint32_t from, uint32_t to, const unsigned char *frame, size_t flen,
                  const char *via)
{
    int n = ptu_pkt_relay_deliver(from, frame, flen, R.out, sizeof R.out);
    udp_node *u;
    int rc;

    if (n < 0) {
        drop("Relay %" PRIu32 " -> %" PRIu32 " (%s): %zu-byte frame too large", from, to, via,
             flen);
        return;
    }
    rc = bc_server_deliver(to, R.out, (size_t)n);
    if (rc > 0) {
        R.st->relayed++;
        return;
    }
    if (rc < 0) {
        drop("Relay %" PRIu32 " -> %" PRIu32 " (%s): the peer's queue is full", from, to, via);
        return;
    }
    u = find_node(to);
    if (!u) {
        drop("Relay %" PRIu32 " -> %" PRIu32 " (%s): node %" PRIu32 " is not connected", from,
             to, via, to);
        return;
    }
    if (udp_send(R.out, (size_t)n, &u->sa, u->salen, "RelayDeliver") == 0)
        R.st->relayed++;
}

/* Discover: remember where node_id is and tell it what we saw. */
static void discover(uint32_t node_id, const struct sockaddr_storage *from, socklen_t fromlen)
{
    char a[ADDR_TEXT];
    unsigned char reply[32];
    udp_node *u = find_node(node_id);
    pt_addr seen;
    int n;

    if (node_id == 0) {
        drop("Discover from %s: node id 0", sa_text(from, a, sizeof a));
        return;
    }
    if (ptu_addr_from_sockaddr((const struct sockaddr *)from, &seen) != 0 ||
        (n = ptu_pkt_discover_reply(&seen, reply, sizeof reply)) < 0) {
        drop("Discover of node %" PRIu32 ": unusable source address", node_id);
        return;
    }
    if (!u) {
        if (R.n == R.cap) {
            size_t cap = R.cap ? R.cap * 2 : 16;
            udp_node *nodes = cap <= MAX_UDP_NODES ? realloc(R.nodes, cap * sizeof *nodes) : NULL;
            if (!nodes) {
                drop("Discover of node %" PRIu32 ": table full (%zu nodes)", node_id, R.n);
                return;
            }
            R.nodes = nodes;
            R.cap = cap;
        }
        u = &R.nodes[R.n++];
        memset(u, 0, sizeof *u);
        u->node_id = node_id;
    }
    if (u->salen != fromlen || memcmp(&u->sa, from, fromlen) != 0)
        fprintf(stderr, "beacon: relay: node %" PRIu32 " is at udp %s\n", node_id,
                ptu_addr_format(&seen, a, sizeof a));
    memcpy(&u->sa, from, fromlen);
    u->salen = fromlen;
    if (udp_send(reply, (size_t)n, from, fromlen, "DiscoverReply") == 0)
        R.st->discovers++;
}

static void udp_message(const unsigned char *msg, size_t len, const struct sockaddr_storage *from,
                        socklen_t fromlen)
{
    char why[128], a[ADDR_TEXT];
    ptu_beacon_msg m;

    if (ptu_pkt_parse_beacon(msg, len, &m, why, sizeof why) != 0) {
        drop("%zu-byte datagram from %s: %s", len, sa_text(from, a, sizeof a), why);
        return;
    }
    switch (m.type) {
    case PTU_BEACON_DISCOVER:
        discover(m.from, from, fromlen);
        return;
    case PTU_BEACON_RELAY:
        /* UDP carries no proof of the sender; the address of its Discover
         * is not required to match (a NAT may have moved it). */
        route(m.from, m.to, m.frame, m.frame_len, "udp");
        return;
    default:
        drop("datagram from %s: type 0x%02x is not for the beacon", sa_text(from, a, sizeof a),
             m.type);
        return;
    }
}

void bc_relay_udp_readable(void)
{
    for (int i = 0; i < UDP_BATCH && R.fd >= 0; i++) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(R.fd, R.in, sizeof R.in, MSG_DONTWAIT, (struct sockaddr *)&from,
                             &fromlen);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "beacon: relay: udp recvfrom: %s\n", strerror(errno));
            return;
        }
        R.st->udp_in++;
        udp_message(R.in, (size_t)n, &from, fromlen);
    }
}

void bc_relay_from_peer(uint32_t node, const unsigned char *msg, size_t len)
{
    char why[128];
    ptu_beacon_msg m;

    if (ptu_pkt_parse_beacon(msg, len, &m, why, sizeof why) != 0) {
        drop("%zu-byte message from WSS node %" PRIu32 ": %s", len, node, why);
        return;
    }
    if (m.type != PTU_BEACON_RELAY) {
        drop("message from WSS node %" PRIu32 ": type 0x%02x is not taken from WSS peers", node,
             m.type);
        return;
    }
    if (m.from != node) {
        drop("Relay from WSS node %" PRIu32 " claiming to be node %" PRIu32 " (spoofed)", node,
             m.from);
        return;
    }
    route(m.from, m.to, m.frame, m.frame_len, "wss");
}
