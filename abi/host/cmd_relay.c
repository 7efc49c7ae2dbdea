/*
 * cmd_relay.c -- "pilot-transport relay": exchange Pilot packets with
 * another node through the beacon, the way a compat daemon does (SPEC 3),
 * over whichever transport is loaded.
 *
 * Every outbound datagram is a beacon Relay (0x05, own node, peer node,
 * PILT frame); the beacon hands it to the peer as a RelayDeliver (0x06,
 * sender node, PILT frame).  Over UDP the beacon only knows where to
 * deliver after a Discover (0x01), which it answers with a DiscoverReply.
 *
 * Sender (-to N): sends -count data packets, one at a time, and waits up to
 * -timeout for each one's answer: an ACK packet from N whose ack field is
 * the sequence sent and whose payload is the one sent.
 * Answerer (-answer, or -to 0): answers every data packet with such an ACK
 * packet, until SIGINT/SIGTERM (a signal thread closes the connection, which
 * wakes recv, as in cmd_echo.c) or -count answers when -count is given.
 *
 * Anything malformed or unexpected is printed with the reason and makes
 * the exit status 1.  With a plugin that has recv_many (ABI 1.2), the
 * datagrams already there are taken in one call and handled in order.
 */
#include "config.h"

#include "closer.h"
#include "host.h"
#include "addr.h"
#include "pilot_packet.h"
#include "util.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SRC_PORT 1000
#define DST_PORT 1001
#define DISCOVER_ATTEMPTS 3
/* Datagrams taken per recv_many call, at most. */
#define BATCH 16
/* The largest payload whose Relay message still fits in one datagram. */
#define MAX_PAYLOAD (PT_MAX_FRAME - PTU_BEACON_RELAY_OVERHEAD - PTU_PKT_PILT_OVERHEAD)

struct relay {
    struct host h;
    pt_conn *c;
    const pt_addr *dst;   /* where datagrams go: the beacon (udp) or NULL */
    uint32_t self, peer;  /* peer 0: answer anyone */
    uint64_t timeout_ms;
    unsigned char *in, *out, *frame, *payload; /* PT_MAX_FRAME bytes each; in: BATCH */
    uint64_t bad;         /* malformed or unexpected datagrams */
    /* Received and not yet handled: slots[next..got).  A slot's data stays
     * untouched until all of them have been handled. */
    pt_rframe slots[BATCH];
    int got, next;
};

/* One line of progress on stdout, flushed so that scripts see it at once. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* A malformed or unexpected datagram: report it and count a failure. */
static void bad(struct relay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(struct relay *r, const char *fmt, ...)
{
    va_list ap;
    fputs("BAD ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    r->bad++;
}

static unsigned char pattern(uint32_t seq, size_t i)
{
    return (unsigned char)(seq * 131u + i * 7u + 1u);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Milliseconds left until deadline (ns), at least 0. */
static int ms_left(uint64_t deadline)
{
    uint64_t now = ptu_now_ns();
    if (now >= deadline)
        return 0;
    uint64_t ms = (deadline - now + 999999) / 1000000;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* Send one beacon message.  Returns 0, or -1 after printing why. */
static int send_msg(struct relay *r, const unsigned char *msg, size_t len, const char *what)
{
    char why[PT_ERRMSG_MAX + 64];
    int rc = r->h.plugin->send(r->c, msg, len, r->dst);
    if (rc >= 0)
        return 0;
    host_error(&r->h, "send %s: %s", what, host_conn_error(&r->h, r->c, rc, why, sizeof why));
    return -1;
}

/* Receive one datagram and decode it as a beacon message into *m.
 * Returns 1 with *m set, 0 on timeout, 2 when the datagram was of no use
 * (already reported), or -1 when the connection is closed. */
/* The next datagram: from the slots, else from recv_many (or recv).
 * Returns its length, or the code of the call that failed. */
static int next_datagram(struct relay *r, int timeout_ms, const unsigned char **data)
{
    if (r->next == r->got) {
        int n;
        r->next = r->got = 0;
        if (r->h.plugin->recv_many) {
            n = r->h.plugin->recv_many(r->c, r->slots, BATCH, timeout_ms);
        } else {
            n = r->h.plugin->recv(r->c, r->slots[0].data, r->slots[0].cap, NULL, timeout_ms);
            if (n >= 0) {
                r->slots[0].len = n;
                n = 1;
            }
        }
        if (n < 0)
            return n;
        r->got = n;
    }
    *data = r->slots[r->next].data;
    return r->slots[r->next++].len;
}

static int recv_msg(struct relay *r, int timeout_ms, ptu_beacon_msg *m)
{
    char why[PT_ERRMSG_MAX + 64];
    const unsigned char *data = NULL;
    int got = next_datagram(r, timeout_ms, &data);
    if (got == PT_ECLOSED)
        return -1;
    if (got == PT_ETIMEDOUT)
        return 0;
    if (got < 0) {
        /* One failed datagram (e.g. an ICMP error on UDP) is not fatal. */
        host_error(&r->h, "recv: %s", host_conn_error(&r->h, r->c, got, why, sizeof why));
        return 2;
    }
    if (ptu_pkt_parse_beacon(data, (size_t)got, m, why, sizeof why) != 0) {
        bad(r, "%d-byte datagram: %s", got, why);
        return 2;
    }
    return 1;
}

/* A message that is neither what we wait for nor a failure of the peer. */
static int harmless(const ptu_beacon_msg *m)
{
    /* A late reply to a repeated Discover. */
    return m->type == PTU_BEACON_DISCOVER_REPLY;
}

/* UDP: register our address with the beacon and wait for its reply. */
static int discover(struct relay *r)
{
    unsigned char msg[PTU_BEACON_DISCOVER_LEN];
    char a[PT_ADDRSTRLEN];
    ptu_beacon_msg m;
    uint64_t wait_ns = r->timeout_ms * 1000000u / DISCOVER_ATTEMPTS;

    ptu_pkt_discover(r->self, msg);
    for (int attempt = 1; attempt <= DISCOVER_ATTEMPTS; attempt++) {
        if (send_msg(r, msg, sizeof msg, "Discover") != 0)
            return EXIT_FAIL;
        uint64_t deadline = ptu_now_ns() + wait_ns;
        for (;;) {
            int rc = recv_msg(r, ms_left(deadline), &m);
            if (rc < 0)
                return EXIT_FAIL;
            if (rc == 0)
                break;
            if (rc == 2)
                continue;
            if (m.type == PTU_BEACON_DISCOVER_REPLY) {
                say("DISCOVERED node=%" PRIu32 " public=%s attempt=%d", r->self,
                    pt_addr_format(&m.addr, a, sizeof a), attempt);
                return 0;
            }
            bad(r, "beacon message type 0x%02x while waiting for a DiscoverReply", m.type);
        }
    }
    host_error(&r->h, "no DiscoverReply from the beacon at %s after %d Discovers over %llu ms",
               r->dst ? pt_addr_format(r->dst, a, sizeof a) : "?", DISCOVER_ATTEMPTS,
               (unsigned long long)r->timeout_ms);
    return EXIT_FAIL;
}

/* Check a RelayDeliver and the PILT frame in it.  Returns 0 with *hdr and
 * *payload set, or -1 after reporting what was wrong. */
static int check_deliver(struct relay *r, const ptu_beacon_msg *m, ptu_pkt_header *hdr,
                         const unsigned char **payload)
{
    char why[256];
    if (m->type != PTU_BEACON_RELAY_DELIVER) {
        bad(r, "beacon message type 0x%02x (want 0x06 RelayDeliver)", m->type);
        return -1;
    }
    if (r->peer && m->from != r->peer) {
        bad(r, "RelayDeliver from node %" PRIu32 ", want %" PRIu32, m->from, r->peer);
        return -1;
    }
    if (ptu_pkt_parse_pilt(m->frame, m->frame_len, hdr, payload, why, sizeof why) != 0) {
        bad(r, "from=%" PRIu32 ": %s", m->from, why);
        return -1;
    }
    if (hdr->dst_node != r->self) {
        bad(r, "from=%" PRIu32 ": packet for node %" PRIu32 ", not this node (%" PRIu32 ")",
            m->from, hdr->dst_node, r->self);
        return -1;
    }
    return 0;
}

/* Wrap header h and payload into PILT and Relay (to node `to`) and send.
 * Returns the datagram length, or -1. */
static int send_packet(struct relay *r, const ptu_pkt_header *h, const unsigned char *payload,
                       size_t len, uint32_t to, const char *what)
{
    int fn = ptu_pkt_build_pilt(h, payload, len, r->frame, PT_MAX_FRAME);
    int mn = fn < 0 ? -1 : ptu_pkt_relay(r->self, to, r->frame, (size_t)fn, r->out, PT_MAX_FRAME);
    if (mn < 0) {
        host_error(&r->h, "%s: a %zu-byte payload does not fit in one datagram", what, len);
        return -1;
    }
    return send_msg(r, r->out, (size_t)mn, what) == 0 ? mn : -1;
}

static int run_sender(struct relay *r, uint64_t count, size_t size)
{
    uint64_t *rtt = malloc(count * sizeof *rtt), sent = 0, answered = 0;
    ptu_beacon_msg m;
    ptu_pkt_header h, back;
    const unsigned char *pl;
    char p50[32] = "-", p99[32] = "-";
    int closed = 0;

    if (!rtt) {
        host_error(&r->h, "out of memory for %llu packets", (unsigned long long)count);
        return EXIT_FAIL;
    }
    for (uint64_t i = 0; i < count && !closed; i++) {
        uint32_t seq = (uint32_t)i;
        for (size_t k = 0; k < size; k++)
            r->payload[k] = pattern(seq, k);
        memset(&h, 0, sizeof h);
        h.version = PTU_PKT_VERSION;
        h.protocol = PTU_PKT_PROTO_DATAGRAM;
        h.src_node = r->self;
        h.dst_node = r->peer;
        h.src_port = SRC_PORT;
        h.dst_port = DST_PORT;
        h.seq = seq;
        uint64_t t0 = ptu_now_ns(), deadline = t0 + r->timeout_ms * 1000000u;
        int n = send_packet(r, &h, r->payload, size, r->peer, "Relay");
        if (n < 0)
            break;
        sent++;
        say("SENT seq=%" PRIu32 " to=%" PRIu32 " bytes=%d", seq, r->peer, n);

        for (;;) {
            int rc = recv_msg(r, ms_left(deadline), &m);
            if (rc < 0) {
                closed = 1;
                break;
            }
            if (rc == 0) {
                say("TIMEOUT seq=%" PRIu32 ": no answer from %" PRIu32 " within %llu ms", seq,
                    r->peer, (unsigned long long)r->timeout_ms);
                r->bad++;
                break;
            }
            if (rc == 2 || harmless(&m) || check_deliver(r, &m, &back, &pl) != 0)
                continue;
            uint64_t now = ptu_now_ns();
            if (!(back.flags & PTU_PKT_FLAG_ACK) || back.ack != seq) {
                bad(r, "from=%" PRIu32 ": packet seq=%" PRIu32 " ack=%" PRIu32
                       " flags=0x%x while waiting for the ack of seq=%" PRIu32,
                    m.from, back.seq, back.ack, back.flags, seq);
                continue;
            }
            if (back.payload_len != size || memcmp(pl, r->payload, size) != 0) {
                size_t at = 0;
                while (at < size && at < back.payload_len && pl[at] == r->payload[at])
                    at++;
                bad(r, "from=%" PRIu32 ": answer to seq=%" PRIu32 " has a different payload "
                       "(%u bytes, sent %zu; first difference at byte %zu)",
                    m.from, seq, (unsigned)back.payload_len, size, at);
                break;
            }
            rtt[answered++] = now - t0;
            say("ACKED seq=%" PRIu32 " from=%" PRIu32 " rtt_us=%.1f", seq, m.from,
                (double)(now - t0) / 1e3);
            break;
        }
    }
    if (answered) {
        qsort(rtt, answered, sizeof *rtt, cmp_u64);
        snprintf(p50, sizeof p50, "%.1f", (double)rtt[answered / 2] / 1e3);
        snprintf(p99, sizeof p99, "%.1f", (double)rtt[(answered * 99) / 100] / 1e3);
    }
    say("RESULT sent=%llu answered=%llu rtt_p50_us=%s rtt_p99_us=%s", (unsigned long long)sent,
        (unsigned long long)answered, p50, p99);
    free(rtt);
    return answered == count && r->bad == 0 ? 0 : EXIT_FAIL;
}

static int run_answerer(struct relay *r, uint64_t limit)
{
    uint64_t answered = 0;
    uint32_t next_seq = 0;
    ptu_beacon_msg m;
    ptu_pkt_header in, h;
    const unsigned char *pl;

    while (limit == 0 || answered < limit) {
        int rc = recv_msg(r, -1, &m);
        if (rc < 0)
            break;
        if (rc != 1 || harmless(&m) || check_deliver(r, &m, &in, &pl) != 0)
            continue;
        if (in.flags & PTU_PKT_FLAG_ACK) {
            /* Answering answers would make two answerers loop forever. */
            bad(r, "from=%" PRIu32 ": ack packet (seq=%" PRIu32 " ack=%" PRIu32
                   ") where a data packet was expected",
                m.from, in.seq, in.ack);
            continue;
        }
        memset(&h, 0, sizeof h);
        h.version = PTU_PKT_VERSION;
        h.flags = PTU_PKT_FLAG_ACK;
        h.protocol = in.protocol;
        h.src_net = in.dst_net;
        h.src_node = r->self;
        h.dst_net = in.src_net;
        h.dst_node = in.src_node;
        h.src_port = in.dst_port;
        h.dst_port = in.src_port;
        h.seq = next_seq++;
        h.ack = in.seq;
        /* pl points into r->in, which send_packet does not touch. */
        int n = send_packet(r, &h, pl, in.payload_len, m.from, "Relay (answer)");
        if (n < 0)
            break;
        answered++;
        say("ANSWERED seq=%" PRIu32 " from=%" PRIu32 " bytes=%d", in.seq, m.from, n);
    }
    say("RESULT answered=%llu", (unsigned long long)answered);
    return r->bad == 0 && (limit == 0 || answered == limit) ? 0 : EXIT_FAIL;
}

int cmd_relay(int argc, char **argv)
{
    struct relay r;
    struct flag flags[48];
    size_t n = 0;
    uint64_t to = 0, count = 5, size = 64, timeout_ms = 5000;
    int answer = 0, count_seen = 0, rc, status = EXIT_FAIL, is_udp;
    pt_addr beacon_addr, local;
    char err[PT_ERRMSG_MAX], a[PT_ADDRSTRLEN];
    struct host_closer cl;

    memset(&r, 0, sizeof r);
    host_common_flags(&r.h, flags, &n, 48);
    flags[n++] = (struct flag){ "to", FLAG_UINT, &to, "N",
                                "peer node id to send to (default 0: only answer)", UINT32_MAX,
                                NULL };
    flags[n++] = (struct flag){ "count", FLAG_UINT, &count, "N",
                                "packets to send (default 5); with -answer, stop after N "
                                "answers (default: until a signal)",
                                1000000, &count_seen };
    flags[n++] = (struct flag){ "size", FLAG_UINT, &size, "BYTES",
                                "payload bytes per packet (default 64, at most 65489)",
                                MAX_PAYLOAD, NULL };
    flags[n++] = (struct flag){ "timeout", FLAG_DURATION, &timeout_ms, "DURATION",
                                "wait this long for each answer, and for the DiscoverReply "
                                "over all 3 Discovers (default 5s)",
                                0, NULL };
    flags[n++] = (struct flag){ "answer", FLAG_BOOL, &answer, NULL,
                                "answer every data packet with an ack carrying its payload", 0,
                                NULL };
    flags[n].name = NULL;
    rc = host_parse(&r.h, "relay",
                    "-transport=MODE -node-id=N (-to=PEER [-count=N -size=BYTES] | -answer) "
                    "[-beacon HOST:PORT]",
                    "Exchange Pilot packets with node PEER through the beacon, as a compat\n"
                    "daemon does: each PILT frame goes out in a beacon Relay message and\n"
                    "arrives as a RelayDeliver.  Over udp the node first registers with a\n"
                    "Discover.  The sender sends -count data packets one at a time and waits\n"
                    "for each one's ack; the answerer (-answer, or -to 0) acks every data\n"
                    "packet with its payload, until SIGINT/SIGTERM or -count answers.\n"
                    "Lines printed:\n"
                    "  READY node=N local=ADDR\n"
                    "  DISCOVERED node=N public=ADDR attempt=K     (udp)\n"
                    "  SENT seq=S to=PEER bytes=B                  (B: the datagram's size)\n"
                    "  ACKED seq=S from=PEER rtt_us=T\n"
                    "  ANSWERED seq=S from=NODE bytes=B\n"
                    "  TIMEOUT seq=S: ...   BAD <what was wrong>\n"
                    "  RESULT sent=N answered=M rtt_p50_us=P rtt_p99_us=Q   (sender)\n"
                    "  RESULT answered=M                                    (answerer)\n"
                    "Exit status 0 only if every packet was answered intact and nothing\n"
                    "malformed or unexpected arrived.",
                    flags, argc, argv);
    if (rc >= 0)
        return rc;
    if (to == 0)
        answer = 1;
    if (r.h.node_id == 0) {
        host_error(&r.h, "-node-id is required: every Relay names its sender");
        return EXIT_USAGE;
    }
    if (to == r.h.node_id) {
        host_error(&r.h, "-to is this node's own id (%llu)", (unsigned long long)to);
        return EXIT_USAGE;
    }
    if ((!answer && count == 0) || timeout_ms == 0 || timeout_ms > INT32_MAX) {
        host_error(&r.h, "need -count >= 1 and -timeout between 1ms and 24 days");
        return EXIT_USAGE;
    }
    if (r.h.beacon && ptu_addr_parse(r.h.beacon, 0, &beacon_addr, err, sizeof err) != PT_OK) {
        host_error(&r.h, "invalid -beacon: %s", err);
        return EXIT_USAGE;
    }
    r.self = (uint32_t)r.h.node_id;
    r.peer = (uint32_t)to;
    r.timeout_ms = timeout_ms;
    r.in = malloc(BATCH * (size_t)PT_MAX_FRAME);
    r.out = malloc(PT_MAX_FRAME);
    r.frame = malloc(PT_MAX_FRAME);
    r.payload = malloc(PT_MAX_FRAME);
    if (!r.in || !r.out || !r.frame || !r.payload) {
        host_error(&r.h, "out of memory");
        goto out;
    }

    for (int i = 0; i < BATCH; i++)
        r.slots[i] = (pt_rframe){ .data = r.in + (size_t)i * PT_MAX_FRAME, .cap = PT_MAX_FRAME };

    if (host_start_closer(&r.h, &cl) != 0) /* before any other thread exists */
        goto out;
    if ((rc = host_dial(&r.h, &r.c, NULL)) != 0) {
        status = rc;
        goto out;
    }
    host_closer_attach(&cl, r.h.plugin, r.c);
    is_udp = strcmp(r.h.mode, "udp") == 0;
    if (is_udp) {
        r.dst = r.h.beacon ? &beacon_addr : r.h.has_peer ? &r.h.peer_addr : NULL;
        if (!r.dst) {
            host_error(&r.h, "udp needs the beacon's address: -beacon HOST:PORT");
            status = EXIT_USAGE;
            goto out;
        }
    }
    r.h.plugin->local_addr(r.c, &local);
    say("READY node=%" PRIu32 " local=%s", r.self, pt_addr_format(&local, a, sizeof a));
    if (is_udp && (status = discover(&r)) != 0)
        goto out;
    if (answer)
        status = run_answerer(&r, count_seen ? count : 0);
    else
        status = run_sender(&r, count, (size_t)size);
out:
    if (r.c)
        r.h.plugin->close(r.c);
    if (r.h.closer)
        host_closer_stop(&cl);
    if (r.c)
        r.h.plugin->free(r.c);
    free(r.in);
    free(r.out);
    free(r.frame);
    free(r.payload);
    return status;
}
