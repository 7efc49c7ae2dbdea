/*
 * probe.c -- pt_plugin.probe for the UDP plugin (ABI 1.2): does the beacon
 * named by the option "beacon" answer a Discover from here (SPEC 6,
 * -transport=auto: two tries within the probe's budget)?
 *
 * The Discover goes from a connected socket on an ephemeral port (on the
 * bind option's host when that names one), so an ICMP port unreachable
 * comes back as ECONNREFUSED at once, and only the beacon's datagrams
 * reach it.  It names the node id of the dial parameters' signer or
 * identity: beacons ignore a Discover from node 0.  A beacon that answers
 * has registered the node at the probe's port, which is closed when probe
 * returns: until the node's own socket sends a Discover, relays to the
 * node go nowhere.  No session, no thread but the resolver's (a name
 * only); nothing is left open.  Safe from any thread.
 *
 * Returns, with one line in detail:
 *   PT_OK        "beacon 127.0.0.1:9001 answered Discover in 0.3 ms (node 7,
 *                seen as 127.0.0.1:40000)";
 *   PT_ETIMEDOUT "no answer from 127.0.0.1:9001 after 2 tries in 3000 ms";
 *   PT_EIO       "127.0.0.1:9001: connection refused (port closed)", a name
 *                that does not resolve, a socket error;
 *   PT_EPROTO    something answered, but not with a DiscoverReply;
 *   PT_EOPTION   no beacon option, or an invalid option;
 *   PT_ECLOSED   cancel_fd fired;
 *   PT_ENOMEM, PT_EINVAL (params, timeout_ms <= 0, detail NULL with
 *                detail_len > 0, no node id).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "pilot_packet.h"
#include "quote.h"
#include "udp.h"
#include "util.h"

/* SPEC 6: the reference daemon's probe sends two Discovers. */
#define PROBE_TRIES 2

typedef struct probe {
    udp_params up;
    int timeout_ms;
    int64_t deadline_ms;
    pt_addr beacon;
    char beacon_text[PT_ERRMSG_MAX / 4]; /* as given, printable and cut */
    int fd;
    char *detail;
    size_t detail_len;
} probe;

static int cancel_detail(probe *pr)
{
    return ptu_err(pr->detail, pr->detail_len, PT_ECLOSED, "udp probe: cancelled (cancel_fd)");
}

/* The socket: connected to the beacon, bound to the bind option's host if
 * it names one of the beacon's family. */
static int open_socket(probe *pr)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    pt_addr local;
    char why[PT_ERRMSG_MAX];
    static const uint8_t any[16];
    int family = pr->beacon.family == PT_AF_INET6 ? AF_INET6 : AF_INET;
    int rc = udp_resolve(pr->up.bind_s, "option \"bind\"", 1, &local, pr->up.cancel_fd,
                         pr->deadline_ms, why, sizeof why);
    if (rc != PT_OK)
        return ptu_err(pr->detail, pr->detail_len, rc, "udp probe: %s", why);

    pr->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (pr->fd < 0)
        return ptu_err(pr->detail, pr->detail_len, errno == ENOMEM ? PT_ENOMEM : PT_EIO,
                       "udp probe: socket: %s", strerror(errno));
    if (local.family == pr->beacon.family && memcmp(local.ip, any, sizeof any) != 0) {
        local.port = 0;
        sl = ptu_addr_to_sockaddr(&local, family, &ss);
        if (bind(pr->fd, (struct sockaddr *)&ss, sl) != 0)
            return ptu_err(pr->detail, pr->detail_len, PT_EIO, "udp probe: bind to %s: %s",
                           ptu_addr_format(&local, why, sizeof why), strerror(errno));
    }
    sl = ptu_addr_to_sockaddr(&pr->beacon, family, &ss);
    if (connect(pr->fd, (struct sockaddr *)&ss, sl) != 0)
        return ptu_err(pr->detail, pr->detail_len, PT_EIO, "udp probe: %s: connect: %s",
                       pr->beacon_text, strerror(errno));
    return PT_OK;
}

/* The detail of a socket error on the connected socket. */
static int socket_error(probe *pr, int e)
{
    if (e == ECONNREFUSED)
        return ptu_err(pr->detail, pr->detail_len, PT_EIO,
                       "udp probe: %s: connection refused (port closed)", pr->beacon_text);
    return ptu_err(pr->detail, pr->detail_len, PT_EIO, "udp probe: %s: %s", pr->beacon_text,
                   strerror(e));
}

/* Judge one datagram from the beacon (whole bytes long, the first n of
 * them in msg): PT_OK for a DiscoverReply (detail says so), else
 * PT_EPROTO. */
static int judge(probe *pr, const unsigned char *msg, size_t n, size_t whole, int try,
                 uint64_t sent_ns)
{
    char why[128], seen[64], quoted[64];
    ptu_beacon_msg m;
    double took_ms = (double)(ptu_now_ns() - sent_ns) / 1e6;

    if (ptu_pkt_parse_beacon(msg, n, &m, why, sizeof why) != 0) {
        ptu_printable(quoted, sizeof quoted, msg, n < 16 ? n : 16);
        return ptu_err(pr->detail, pr->detail_len, PT_EPROTO,
                       "udp probe: %s answered the Discover with a %zu-byte datagram that is "
                       "not a beacon message (%s; it starts \"%s\")",
                       pr->beacon_text, whole, why, quoted);
    }
    if (m.type != PTU_BEACON_DISCOVER_REPLY)
        return ptu_err(pr->detail, pr->detail_len, PT_EPROTO,
                       "udp probe: %s answered the Discover with beacon message type 0x%02x, "
                       "not a DiscoverReply (0x%02x)",
                       pr->beacon_text, m.type, PTU_BEACON_DISCOVER_REPLY);
    return ptu_err(pr->detail, pr->detail_len, PT_OK,
                   "beacon %s answered Discover in %.1f ms (node %u, seen as %s%s)",
                   pr->beacon_text, took_ms, (unsigned)pr->up.node_id,
                   ptu_addr_format(&m.addr, seen, sizeof seen),
                   try > 1 ? "; the second try" : "");
}

/* Send a Discover and wait for the answer until until_ms: PT_OK or an
 * error with its detail, or PT_ETIMEDOUT with none (the caller's). */
static int one_try(probe *pr, int try, int64_t until_ms)
{
    unsigned char msg[PTU_BEACON_DISCOVER_LEN], in[256];
    uint64_t sent_ns = ptu_now_ns();

    ptu_pkt_discover(pr->up.node_id, msg);
    while (send(pr->fd, msg, sizeof msg, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR) /* a full buffer is an error too: one tiny datagram */
            return socket_error(pr, errno);
    }
    for (;;) {
        struct pollfd p[2] = { { pr->fd, POLLIN, 0 }, { pr->up.cancel_fd, POLLIN, 0 } };
        int64_t left = until_ms - ptu_now_ms();
        if (left <= 0)
            return PT_ETIMEDOUT;
        int r = poll(p, pr->up.cancel_fd >= 0 ? 2 : 1, (int)left);
        if (r < 0 && errno != EINTR)
            return ptu_err(pr->detail, pr->detail_len, PT_EIO, "udp probe: poll: %s",
                           strerror(errno));
        if (r <= 0)
            continue;
        if (pr->up.cancel_fd >= 0 && p[1].revents)
            return cancel_detail(pr);
        ssize_t n = recv(pr->fd, in, sizeof in, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return socket_error(pr, errno);
        }
        return judge(pr, in, (size_t)n < sizeof in ? (size_t)n : sizeof in, (size_t)n, try,
                     sent_ns);
    }
}

static int run(probe *pr)
{
    char why[PT_ERRMSG_MAX];
    int64_t start_ms = ptu_now_ms();
    int rc;

    if (udp_cancelled(&pr->up)) /* fired already: not even a name lookup */
        return cancel_detail(pr);
    rc = udp_resolve(pr->up.beacon_s, "option \"beacon\"", 0, &pr->beacon, pr->up.cancel_fd,
                     pr->deadline_ms, why, sizeof why);
    if (rc == PT_ETIMEDOUT)
        return ptu_err(pr->detail, pr->detail_len, rc, "udp probe: %s within the %d ms budget",
                       why, pr->timeout_ms);
    if (rc != PT_OK)
        return ptu_err(pr->detail, pr->detail_len, rc, "udp probe: %s", why);
    rc = open_socket(pr);
    if (rc != PT_OK)
        return rc;
    for (int try = 1; try <= PROBE_TRIES; try++) {
        /* The tries share the budget equally; the last ends with it. */
        int64_t until = try == PROBE_TRIES
                            ? pr->deadline_ms
                            : start_ms + (int64_t)pr->timeout_ms * try / PROBE_TRIES;
        rc = one_try(pr, try, until);
        if (rc != PT_ETIMEDOUT)
            return rc;
    }
    return ptu_err(pr->detail, pr->detail_len, PT_ETIMEDOUT,
                   "udp probe: no answer from %s after %d tries in %d ms", pr->beacon_text,
                   PROBE_TRIES, pr->timeout_ms);
}

int udp_probe(const pt_dial_params *params, int timeout_ms, char *detail, size_t detail_len)
{
    probe pr;
    int rc;

    if (!detail && detail_len)
        return PT_EINVAL;
    memset(&pr, 0, sizeof pr);
    pr.fd = -1;
    pr.detail = detail;
    pr.detail_len = detail_len;
    pr.timeout_ms = timeout_ms;
    pr.deadline_ms = ptu_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    rc = udp_params_read(params, "udp probe", &pr.up, detail, detail_len);
    if (rc != PT_OK)
        return rc;
    if (timeout_ms <= 0)
        return ptu_err(detail, detail_len, PT_EINVAL,
                       "udp probe: the timeout must be positive (got %d ms)", timeout_ms);
    if (!pr.up.beacon_s[0])
        return ptu_err(detail, detail_len, PT_EOPTION,
                       "udp probe: no beacon to probe: give the option beacon=HOST:PORT "
                       "(the beacon's UDP address)");
    if (pr.up.node_id == 0)
        return ptu_err(detail, detail_len, PT_EINVAL,
                       "udp probe: no node id (identity or signer): a beacon ignores a "
                       "Discover from node 0");
    ptu_printable(pr.beacon_text, sizeof pr.beacon_text, pr.up.beacon_s,
                  strlen(pr.up.beacon_s));
    rc = run(&pr);
    if (pr.fd >= 0)
        close(pr.fd);
    return rc;
}
