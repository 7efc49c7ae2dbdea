/*
 * link.c -- dialling the plugin under test as the user described, and the
 * loopback the I/O checks run over: one connection that sends to itself
 * (self), or two connections to a beacon exchanging Relay messages
 * (relay; SPEC 3: 0x05 from to frame out, 0x06 from frame in).
 */
#include "config.h"

#include "conformance.h"
#include "pilot_packet.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* ---- Dialling ------------------------------------------------------------ */

static void cx_log(void *userdata, int level, const char *message)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    cx_note(userdata, "plugin log: %s: %s",
            level >= 0 && level <= PT_LOG_DEBUG ? names[level] : "?", message);
}

void cx_params(struct cx *x, pt_dial_params *params, pt_identity *id, uint32_t node,
               pt_option *opts, size_t n_opts, const pt_option *extra, size_t n_extra)
{
    const pt_dial_params init = PT_DIAL_PARAMS_INIT;
    size_t n = 0;

    *params = init;
    for (size_t i = 0; i < x->t->n_options && n < n_opts; i++)
        opts[n++] = x->t->options[i];
    for (size_t i = 0; i < n_extra && n < n_opts; i++)
        opts[n++] = extra[i];
    params->options = n ? opts : NULL;
    params->n_options = n;
    if (x->t->identity)
        *id = *x->t->identity;
    else
        memset(id, 0, sizeof *id);
    id->node_id = node;
    params->identity = id;
    params->log = cx_log;
    params->log_userdata = x;
    params->log_level = x->t->verbose ? PT_LOG_DEBUG : PT_LOG_WARN;
}

pt_conn *cx_dial(struct cx *x, uint32_t node)
{
    pt_dial_params params;
    pt_identity id;
    pt_option opts[64];
    char err[PT_ERRMSG_MAX] = "";
    pt_conn *c = NULL;

    cx_params(x, &params, &id, node, opts, 64, NULL, 0);
    int rc = x->p->dial(&params, &c, err, sizeof err);
    ptu_wipe(&id, sizeof id);
    if (rc != PT_OK || !c) {
        cx_fail(x, "dial (node %u) failed: %s: %s", (unsigned)node, cx_code_name(rc), err);
        if (rc == PT_OK)
            cx_fail(x, "dial returned PT_OK without a connection");
        return NULL;
    }
    return c;
}

void cx_release(struct cx *x, pt_conn *c)
{
    if (!c || x->abandoned)
        return;
    x->p->close(c);
    x->p->free(c);
}

/* ---- The payload: [tag][seq][pattern] -------------------------------------- */

static unsigned char pattern(uint32_t seq, size_t i)
{
    return (unsigned char)(seq * 131u + i * 7u + 1u);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Payloads shorter than the header carry only the pattern of seq 0. */
static void fill_payload(const struct link *l, uint32_t seq, unsigned char *p, size_t plen)
{
    size_t i = 0;
    if (plen >= LINK_HEADER) {
        put32(p, l->x->tag);
        put32(p + 4, seq);
        i = LINK_HEADER;
    } else {
        seq = 0;
    }
    for (; i < plen; i++)
        p[i] = pattern(seq, i);
}

size_t link_build(const struct link *l, uint32_t seq, size_t plen, unsigned char *buf,
                  size_t cap)
{
    if (!l->relay) {
        if (plen > cap)
            return 0;
        fill_payload(l, seq, buf, plen);
        return plen;
    }
    unsigned char *payload = malloc(plen ? plen : 1);
    if (!payload)
        return 0;
    fill_payload(l, seq, payload, plen);
    int n = ptu_pkt_relay(l->tx_node, l->rx_node, payload, plen, buf, cap);
    free(payload);
    return n < 0 ? 0 : (size_t)n;
}

int link_parse(const struct link *l, const unsigned char *d, size_t len, uint32_t *seq,
               size_t *plen, char *why, size_t whylen)
{
    const unsigned char *p = d;
    size_t n = len;
    uint32_t s = 0;

    if (l->relay) {
        ptu_beacon_msg m;
        if (ptu_pkt_parse_beacon(d, len, &m, NULL, 0) != 0 ||
            m.type != PTU_BEACON_RELAY_DELIVER || m.from != l->tx_node)
            return 0;
        p = m.frame;
        n = m.frame_len;
    }
    if (n >= LINK_HEADER) {
        if (get32(p) != l->x->tag)
            return 0;
        s = get32(p + 4);
    }
    for (size_t i = n >= LINK_HEADER ? LINK_HEADER : 0; i < n; i++)
        if (p[i] != pattern(s, i)) {
            if (n < LINK_HEADER)
                return 0; /* a short datagram that is not ours */
            ptu_err(why, whylen, -1,
                    "datagram %u (%zu bytes) corrupted at byte %zu: 0x%02x, want 0x%02x",
                    (unsigned)s, n, i, p[i], pattern(s, i));
            *seq = s;
            *plen = n;
            return -1;
        }
    *seq = n >= LINK_HEADER ? s : UINT32_MAX;
    *plen = n;
    return 1;
}

int link_send(struct link *l, uint32_t seq, size_t plen)
{
    unsigned char *buf = malloc(LINK_BUF);
    if (!buf) {
        cx_fail(l->x, "out of memory");
        return PT_ENOMEM;
    }
    size_t n = link_build(l, seq, plen, buf, LINK_BUF);
    int rc = l->p->send(l->tx, buf, n, l->has_dst ? &l->dst : NULL);
    free(buf);
    return rc;
}

int link_next(struct link *l, int timeout_ms, uint32_t *seq, size_t *plen)
{
    unsigned char *buf = malloc(LINK_BUF);
    int64_t deadline = cx_now_ms() + timeout_ms;
    char why[256];
    int rc;

    if (!buf) {
        cx_fail(l->x, "out of memory");
        return PT_ENOMEM;
    }
    for (;;) {
        int64_t left = timeout_ms < 0 ? -1 : deadline - cx_now_ms();
        if (timeout_ms >= 0 && left < 0)
            left = 0;
        rc = l->p->recv(l->rx, buf, LINK_BUF, NULL, (int)left);
        if (rc < 0)
            break;
        int mine = link_parse(l, buf, (size_t)rc, seq, plen, why, sizeof why);
        if (mine == 0) {
            l->strays++;
            cx_note(l->x, "skipped a %d-byte datagram of no concern to this check", rc);
            continue;
        }
        if (mine < 0)
            cx_fail(l->x, "%s", why);
        rc = 1;
        break;
    }
    free(buf);
    return rc;
}

int link_expect(struct link *l, uint32_t seq, size_t plen, int timeout_ms, const char *what)
{
    int64_t deadline = cx_now_ms() + timeout_ms;
    for (;;) {
        uint32_t got;
        size_t got_len;
        int64_t left = deadline - cx_now_ms();
        int rc = link_next(l, left < 0 ? 0 : (int)left, &got, &got_len);
        if (rc == PT_ETIMEDOUT)
            return 0;
        if (rc < 0)
            return rc;
        if (got == seq && got_len == plen)
            return 1;
        if (got == UINT32_MAX)
            cx_fail(l->x, "%s: a %zu-byte datagram arrived first", what, got_len);
        else
            cx_fail(l->x, "%s: datagram %u (%zu bytes) arrived first", what, (unsigned)got,
                    got_len);
    }
}

/* ---- Opening the loopback ------------------------------------------------- */

/* Relay over a transport that sends to an address (udp): tell the beacon
 * where node is (Discover) and wait for its DiscoverReply. */
static int discover(struct link *l, pt_conn *c, uint32_t node)
{
    unsigned char msg[PTU_BEACON_DISCOVER_LEN], in[LINK_BUF];
    ptu_pkt_discover(node, msg);
    for (int attempt = 0; attempt < 3; attempt++) {
        int rc = l->p->send(c, msg, sizeof msg, &l->dst);
        if (rc < 0) {
            cx_fail(l->x, "relay: Discover of node %u: send returned %s", (unsigned)node,
                    cx_code_name(rc));
            return -1;
        }
        int64_t deadline = cx_now_ms() + cx_bound_ms(l->x, 1000);
        for (;;) {
            int64_t left = deadline - cx_now_ms();
            rc = l->p->recv(c, in, sizeof in, NULL, left < 0 ? 0 : (int)left);
            if (rc == PT_ETIMEDOUT)
                break;
            if (rc < 0) {
                cx_fail(l->x, "relay: waiting for the DiscoverReply of node %u: recv returned %s",
                        (unsigned)node, cx_code_name(rc));
                return -1;
            }
            if (rc > 0 && in[0] == PTU_BEACON_DISCOVER_REPLY)
                return 0;
        }
    }
    cx_fail(l->x, "relay: the beacon never answered node %u's Discover", (unsigned)node);
    return -1;
}

int link_open(struct cx *x, struct link *l)
{
    const struct target *t = x->t;
    memset(l, 0, sizeof *l);
    l->x = x;
    l->p = x->p;
    l->tx_node = t->node_id;
    l->rx_node = t->loopback == LOOPBACK_RELAY ? t->peer_node_id : t->node_id;
    l->tx = cx_dial(x, l->tx_node);
    if (!l->tx)
        return -1;
    if (t->loopback == LOOPBACK_SELF) {
        int rc = l->p->local_addr(l->tx, &l->dst);
        if (rc != PT_OK) {
            cx_fail(x, "self loopback: local_addr returned %s", cx_code_name(rc));
            goto fail;
        }
        l->rx = l->tx;
        l->has_dst = 1;
        return 0;
    }
    l->relay = 1;
    l->tx_over = PTU_BEACON_RELAY_OVERHEAD;
    l->rx_over = PTU_BEACON_DELIVER_OVERHEAD;
    l->rx = cx_dial(x, l->rx_node);
    if (!l->rx)
        goto fail;
    if (t->beacon) {
        l->dst = *t->beacon;
        l->has_dst = 1;
        if (discover(l, l->tx, l->tx_node) != 0 || discover(l, l->rx, l->rx_node) != 0)
            goto fail;
    }
    return 0;
fail:
    link_close(l);
    return -1;
}

void link_close(struct link *l)
{
    if (l->rx && l->rx != l->tx)
        cx_release(l->x, l->rx);
    cx_release(l->x, l->tx);
    l->tx = l->rx = NULL;
}
