/*
 * server.c -- the beacon's libwebsockets server (SPEC 3): GET /health and
 * /stats, the upgrade policy (path, subprotocol, peer cap), and per-peer
 * behaviour: challenge, auth, relay, echo or sink, timeouts, one connection
 * per node id, and the fault flags the client's tests ask for; TLS
 * handshakes counted as full or resumed.  In relay mode the UDP socket of
 * relay.c is adopted into the same loop.
 *
 * One thread: every callback runs from lws_service() in bc_server_run().
 * Each WebSocket connection has a bc_peer (libwebsockets' per-session
 * data); outgoing messages wait in its queue and leave one per WRITEABLE
 * callback, as libwebsockets requires.  Closing another connection than
 * the one whose callback is running (a replaced node, a timer) goes through
 * its queue too: close_later() marks it and asks for WRITEABLE.
 */
#include "config.h"

#include "beacon.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/ssl.h>

#if !defined(LWS_OPENSSL_SUPPORT) || defined(LWS_WITH_MBEDTLS)
#error "pilot-beacon-dev needs libwebsockets built on OpenSSL (it counts resumed sessions)"
#endif

#include "addr.h"
#include "util.h"

/* A peer whose outgoing queue grows past this (it sends faster than it
 * reads) is dropped.  Not receive flow control: lws_rx_flow_control() with
 * data already buffered makes libwebsockets 4.1 spin in its read loop. */
#define TXQ_MAX_BYTES (64u * 1024 * 1024)

/* --oversize sends this many bytes. */
#define OVERSIZE_LEN 70000

/* A peer asked to close that never becomes writeable is cut after this. */
#define CLOSE_GRACE_S 5

/* Tries at a port number free for both TCP and UDP (--listen port 0). */
#define LISTEN_ATTEMPTS 8

enum peer_state {
    PS_AUTH,   /* challenge sent, waiting for the reply */
    PS_HELD,   /* --no-auth-ok: reply verified, never answered */
    PS_AUTHED, /* auth_ok sent (or queued): data flows */
    PS_DONE    /* closing: everything from the peer is ignored */
};

enum msg_kind { MSG_TEXT, MSG_BINARY, MSG_PING };

typedef struct bc_msg {
    struct bc_msg *next;
    int kind;          /* enum msg_kind */
    int data;          /* a data message: counted, --fragment applies */
    int drop_after;    /* --drop-after: drop the connection once it is out */
    int is_auth_ok;    /* --no-pong: stop reading once it is out */
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes for libwebsockets, then len */
} bc_msg;

typedef struct bc_peer {
    struct lws *wsi;
    struct bc_peer *prev, *next; /* the live peers */
    unsigned serial;             /* for the log */
    int state;                   /* enum peer_state */
    uint32_t node_id;
    bc_challenge ch;
    unsigned char *rx;           /* the message being received */
    size_t rx_len;
    int rx_active, rx_binary;
    uint64_t rx_last_ms;         /* monotonic time of the last message */
    uint64_t data_in;            /* binary messages received after auth */
    bc_msg *txq, *txq_tail;
    size_t txq_bytes;
    int frag_part;               /* --fragment: next part of txq (0..2) */
    int drop_pending;            /* --drop-after: the N-th message came */
    int drop_ready;              /* --drop-after: its echo is written */
    int close_code;              /* close_later(): code and reason */
    char close_reason[124];      /* at most 123 bytes in a close frame */
} bc_peer;

/* Room for an HTTP body (the /stats JSON is the longest). */
#define HTTP_BODY_MAX 1024

/* Per-connection data of the plain HTTP protocol. */
typedef struct http_pss {
    unsigned status;
    size_t body_len;
    int body_pending;
    char body[HTTP_BODY_MAX];
} http_pss;

static struct {
    const bc_opts *o;
    const bc_registry *reg;
    bc_stats *st;
    bc_peer *peers;
    unsigned n_peers;
    unsigned serial;
    uint64_t refuse_left;
    int udp_fd;        /* relay mode: the UDP socket, else -1 */
    struct lws *udp_wsi; /* its adoption into the loop */
} S;

/* The SSL ex_data slot that marks a connection's handshake as counted. */
static int tls_counted_slot = -1;

/* Written by bc_server_run, read by the signal handler. */
static struct lws_context *volatile g_ctx;

/*
 * The WebSocket protocol's name is what libwebsockets matches against the
 * client's offer and what it writes back in Sec-WebSocket-Protocol.  To
 * select another name than the one offered (--subprotocol, for the client's
 * "server chose the wrong subprotocol" test) the name is swapped between the
 * match (FILTER_PROTOCOL_CONNECTION) and the 101 response, and put back at
 * ESTABLISHED and before every upgrade.  This relies on libwebsockets using
 * our name pointer rather than a copy, which 4.1 does; beacon-smoke.sh
 * checks the header.
 */
static char ws_name[64] = BC_SUBPROTOCOL;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void logf_peer(const bc_peer *p, const char *fmt, ...) PTU_PRINTF(2, 3);

static void logf_peer(const bc_peer *p, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "beacon: conn %u", p->serial);
    if (p->node_id)
        fprintf(stderr, " (node %" PRIu32 ")", p->node_id);
    fputs(": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- the outgoing queue ------------------------------------------------ */

static bc_msg *enqueue(bc_peer *p, int kind, const void *data, size_t len, int is_data)
{
    bc_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->data = is_data;
    m->len = len;
    if (data && len)
        memcpy(m->buf + LWS_PRE, data, len);
    if (p->txq_tail)
        p->txq_tail->next = m;
    else
        p->txq = m;
    p->txq_tail = m;
    p->txq_bytes += len;
    lws_callback_on_writable(p->wsi);
    return m;
}

static void dequeue(bc_peer *p)
{
    bc_msg *m = p->txq;
    p->txq = m->next;
    if (!p->txq)
        p->txq_tail = NULL;
    p->txq_bytes -= m->len;
    p->frag_part = 0;
    free(m);
}

/* ---- closing ----------------------------------------------------------- */

/* From this peer's own callback: close with code and reason now. */
static int close_now(bc_peer *p, int code, const char *reason)
{
    lws_close_reason(p->wsi, (enum lws_close_status)code, (unsigned char *)(uintptr_t)reason,
                     strlen(reason));
    p->state = PS_DONE;
    return -1;
}

/* From anywhere: close at the peer's next WRITEABLE, or cut it after
 * CLOSE_GRACE_S if it never gets there (a peer that does not read). */
static void close_later(bc_peer *p, int code, const char *reason)
{
    p->state = PS_DONE;
    p->close_code = code;
    snprintf(p->close_reason, sizeof p->close_reason, "%s", reason);
    lws_set_timeout(p->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_GRACE_S);
    lws_callback_on_writable(p->wsi);
}

/* --drop-after, --idle-data-only: shut the TCP connection down under
 * libwebsockets' feet: the peer sees EOF, no close frame, no TLS
 * close_notify; the close frame libwebsockets then tries to send fails on
 * the dead socket.  Returns -1 for the callback to return. */
static int drop_abruptly(bc_peer *p, const char *why)
{
    int fd = lws_get_socket_fd(p->wsi);
    S.st->drops++;
    logf_peer(p, "dropping the connection without a close frame: %s", why);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    p->state = PS_DONE;
    return -1;
}

/* drop_abruptly() for --drop-after. */
static int drop_after_n(bc_peer *p)
{
    char why[80];
    snprintf(why, sizeof why, "after %" PRIu64 " messages (--drop-after)", p->data_in);
    return drop_abruptly(p, why);
}

static int auth_fail(bc_peer *p, const char *why)
{
    S.st->auth_fail++;
    logf_peer(p, "auth failed: %s", why);
    return close_now(p, LWS_CLOSE_STATUS_POLICY_VIOLATION, "auth failed");
}

/* ---- auth and data ----------------------------------------------------- */

static int peer_open(bc_peer *p, struct lws *wsi)
{
    char text[256], addr[64] = "?";
    int n;

    memset(p, 0, sizeof *p);
    p->wsi = wsi;
    p->serial = ++S.serial;
    p->next = S.peers;
    if (S.peers)
        S.peers->prev = p;
    S.peers = p;
    S.n_peers++;
    S.st->upgrades++;
    p->rx_last_ms = now_ms();
    lws_get_peer_simple(wsi, addr, sizeof addr);

    if (bc_auth_new_challenge(&p->ch, S.o->legacy_auth) != 0) {
        logf_peer(p, "no randomness for the challenge");
        return -1;
    }
    n = bc_auth_challenge_text(&p->ch, S.o->challenge, text, sizeof text);
    if (n < 0 ||
        !enqueue(p, S.o->challenge == BC_CH_BINARY ? MSG_BINARY : MSG_TEXT, text, (size_t)n, 0))
        return -1;
    lws_set_timer_usecs(wsi, (lws_usec_t)S.o->auth_timeout * LWS_US_PER_SEC);
    logf_peer(p, "upgraded from %s, challenge sent%s", addr,
              S.o->challenge != BC_CH_GOOD ? " (a bad one, --challenge)" : "");
    return 0;
}

/* The node authenticated on p replaces any older connection of the same
 * node (SPEC 3). */
static void replace_older(bc_peer *p)
{
    for (bc_peer *q = S.peers; q; q = q->next) {
        if (q == p || q->node_id != p->node_id || q->state == PS_DONE)
            continue;
        logf_peer(q, "replaced by conn %u", p->serial);
        close_later(q, LWS_CLOSE_STATUS_NORMAL, BC_REASON_REPLACED);
    }
}

/* The text message of a future control type (--text-after-auth, SIGUSR2). */
static const char future[] = "{\"type\":\"future\"}";

/* SIGUSR2: the text to every authenticated peer, now (a test's trigger). */
static void text_to_all(void)
{
    for (bc_peer *p = S.peers; p; p = p->next)
        if (p->state == PS_AUTHED && !enqueue(p, MSG_TEXT, future, sizeof future - 1, 0))
            logf_peer(p, "no memory for the text (SIGUSR2)");
}

static int on_auth_reply(bc_peer *p, const char *msg, size_t len)
{
    static const char auth_ok[] = "{\"type\":\"auth_ok\"}";
    char why[192];
    uint32_t id;
    bc_msg *m;

    if (S.o->reject_auth)
        return auth_fail(p, "--reject-auth");
    if (bc_auth_check_reply(S.reg, &p->ch, msg, len, &id, why, sizeof why) != 0)
        return auth_fail(p, why);
    S.st->auth_ok++;
    p->node_id = id;
    replace_older(p);
    if (S.o->no_auth_ok) {
        p->state = PS_HELD;
        logf_peer(p, "authenticated; not answering (--no-auth-ok)");
        return 0;
    }
    p->state = PS_AUTHED;
    logf_peer(p, "authenticated");
    m = enqueue(p, MSG_TEXT, auth_ok, sizeof auth_ok - 1, 0);
    if (!m)
        return -1;
    m->is_auth_ok = 1;
    if (S.o->text_after_auth && !enqueue(p, MSG_TEXT, future, sizeof future - 1, 0))
        return -1;
    if (S.o->ping_after_auth && !enqueue(p, MSG_PING, "beacon", 6, 0))
        return -1;
    if (S.o->oversize) {
        m = enqueue(p, MSG_BINARY, NULL, OVERSIZE_LEN, 1);
        if (!m)
            return -1;
        for (size_t i = 0; i < OVERSIZE_LEN; i++)
            m->buf[LWS_PRE + i] = (unsigned char)i;
    }
    lws_set_timer_usecs(p->wsi, (lws_usec_t)S.o->idle_timeout * LWS_US_PER_SEC);
    return 0;
}

/* One whole message from the peer. */
static int on_message(bc_peer *p, int binary, const unsigned char *buf, size_t len)
{
    bc_msg *m;
    int last;

    switch (p->state) {
    case PS_AUTH:
        if (binary)
            return auth_fail(p, "binary message before auth");
        return on_auth_reply(p, (const char *)buf, len);
    case PS_AUTHED:
        break;
    default:
        return 0;
    }
    if (!binary) {
        S.st->text_in++;
        logf_peer(p, "text message of %zu bytes ignored", len);
        return 0;
    }
    if (p->drop_pending)
        return 0; /* --drop-after: past the N-th message, about to drop */
    S.st->frames_in++;
    S.st->bytes_in += len;
    p->data_in++;
    last = S.o->drop_after && p->data_in == S.o->drop_after;
    if (S.o->mode == BC_MODE_RELAY)
        bc_relay_from_peer(p->node_id, buf, len);
    if (last && S.o->mode != BC_MODE_ECHO)
        return drop_after_n(p);
    if (S.o->mode != BC_MODE_ECHO)
        return 0;
    if (p->txq_bytes + len > TXQ_MAX_BYTES) {
        S.st->drops++;
        logf_peer(p, "sends faster than it reads (%zu bytes queued): dropping the peer",
                  p->txq_bytes);
        return close_now(p, LWS_CLOSE_STATUS_POLICY_VIOLATION, "send queue full");
    }
    m = enqueue(p, MSG_BINARY, buf, len, 1);
    if (!m)
        return -1;
    if (last) {
        /* Drop once its echo is out; later messages are ignored. */
        m->drop_after = 1;
        p->drop_pending = 1;
    }
    return 0;
}

/* A piece of a message (libwebsockets hands over frames in pieces). */
static int peer_receive(bc_peer *p, const void *in, size_t len)
{
    size_t remaining = lws_remaining_packet_payload(p->wsi);

    if (p->state == PS_DONE)
        return 0;
    p->rx_last_ms = now_ms();
    if (!p->rx_active) {
        p->rx_active = 1;
        p->rx_binary = lws_frame_is_binary(p->wsi);
        p->rx_len = 0;
        if (p->rx_binary && p->state == PS_AUTH)
            return auth_fail(p, "binary message before auth");
    }
    if (p->rx_len + len + remaining > BC_MAX_FRAME) {
        S.st->drops++;
        logf_peer(p, "message over %d bytes: dropping the peer", BC_MAX_FRAME);
        return close_now(p, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
    }
    if (!p->rx) {
        p->rx = malloc(BC_MAX_FRAME);
        if (!p->rx)
            return -1;
    }
    if (len)
        memcpy(p->rx + p->rx_len, in, len);
    p->rx_len += len;
    if (!lws_is_final_fragment(p->wsi))
        return 0;
    p->rx_active = 0;
    return on_message(p, p->rx_binary, p->rx, p->rx_len);
}

/* Write the head of the queue (or its next --fragment part). */
static int write_head(bc_peer *p)
{
    bc_msg *m = p->txq;
    size_t off = 0, len = m->len;
    int flags, last_part = 1, close_after;

    switch (m->kind) {
    case MSG_TEXT:
        flags = LWS_WRITE_TEXT;
        break;
    case MSG_PING:
        flags = LWS_WRITE_PING;
        break;
    default:
        flags = LWS_WRITE_BINARY;
        if (m->data && S.o->fragment) {
            size_t b[4] = { 0, m->len / 3, 2 * m->len / 3, m->len };
            off = b[p->frag_part];
            len = b[p->frag_part + 1] - off;
            flags = p->frag_part == 0 ? LWS_WRITE_BINARY : LWS_WRITE_CONTINUATION;
            last_part = p->frag_part == 2;
            if (!last_part)
                flags |= LWS_WRITE_NO_FIN;
        }
        break;
    }
    /* Parts after the first overwrite the LWS_PRE bytes before them, which
     * belong to parts already written (libwebsockets copies what it could
     * not send at once). */
    if (lws_write(p->wsi, m->buf + LWS_PRE + off, len, (enum lws_write_protocol)flags) < 0)
        return -1;
    if (!last_part) {
        p->frag_part++;
        return 0;
    }
    if (m->data) {
        S.st->frames_out++;
        S.st->bytes_out += m->len;
    }
    if (m->drop_after)
        p->drop_ready = 1;
    if (m->is_auth_ok && S.o->no_pong) {
        /* libwebsockets answers pings itself and cannot be told not to;
         * so stop reading altogether.  Safe from the spin noted at
         * TXQ_MAX_BYTES: in a WRITEABLE callback nothing is buffered. */
        lws_rx_flow_control(p->wsi, 0);
        logf_peer(p, "not reading any more: pings go unanswered (--no-pong)");
    }
    close_after = m->is_auth_ok && S.o->close_after_auth;
    dequeue(p);
    if (close_after) {
        /* The way a replaced connection ends (replace_older): whatever
         * was queued behind auth_ok goes with it. */
        S.st->drops++;
        logf_peer(p, "closing right after auth_ok with %d %s (--close-after-auth)",
                  S.o->close_after_auth, S.o->close_reason);
        close_later(p, S.o->close_after_auth, S.o->close_reason);
    }
    return 0;
}

static int peer_writeable(bc_peer *p)
{
    if (p->close_code) {
        int code = p->close_code;
        p->close_code = 0;
        return close_now(p, code, p->close_reason);
    }
    if (p->drop_ready) {
        if (lws_partial_buffered(p->wsi)) {
            lws_callback_on_writable(p->wsi);
            return 0;
        }
        return drop_after_n(p);
    }
    if (!p->txq || p->state == PS_DONE)
        return 0;
    if (write_head(p) != 0)
        return -1;
    if (p->txq || p->drop_ready)
        lws_callback_on_writable(p->wsi);
    return 0;
}

/* How long the peer has sent nothing, in ms.  The kernel knows about every
 * byte (pings included, which libwebsockets answers without telling us);
 * without it, the time since the last message.  --idle-data-only: only the
 * time since the last data message (text or binary), as the production
 * beacon counts it (SPEC 6): pings do not keep a peer. */
static uint64_t idle_ms(const bc_peer *p)
{
    struct tcp_info ti;
    socklen_t sl = sizeof ti;
    uint64_t since_msg = now_ms() - p->rx_last_ms;
    int fd = lws_get_socket_fd(p->wsi);

    if (S.o->idle_data_only)
        return since_msg;
    if (fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) == 0 &&
        ti.tcpi_last_data_recv < since_msg)
        return ti.tcpi_last_data_recv;
    return since_msg;
}

static int peer_timer(bc_peer *p)
{
    uint64_t idle, limit = (uint64_t)S.o->idle_timeout * 1000;

    switch (p->state) {
    case PS_AUTH:
    case PS_HELD:
        S.st->drops++;
        logf_peer(p, "auth not finished within %u s", S.o->auth_timeout);
        close_later(p, LWS_CLOSE_STATUS_POLICY_VIOLATION, "auth timeout");
        return 0;
    case PS_AUTHED:
        idle = idle_ms(p);
        if (idle >= limit && S.o->idle_data_only)
            return drop_abruptly(p, "no data message for the idle timeout (--idle-data-only)");
        if (idle >= limit) {
            S.st->drops++;
            logf_peer(p, "idle for %u s: dropping the peer", S.o->idle_timeout);
            close_later(p, LWS_CLOSE_STATUS_GOINGAWAY, "idle timeout");
            return 0;
        }
        lws_set_timer_usecs(p->wsi, (lws_usec_t)(limit - idle + 10) * 1000);
        return 0;
    default:
        return 0;
    }
}

static void peer_close(bc_peer *p)
{
    if (!p->wsi)
        return;
    logf_peer(p, "closed");
    if (p->prev)
        p->prev->next = p->next;
    else
        S.peers = p->next;
    if (p->next)
        p->next->prev = p->prev;
    S.n_peers--;
    while (p->txq)
        dequeue(p);
    free(p->rx);
    p->rx = NULL;
    p->wsi = NULL;
}

int bc_server_deliver(uint32_t node, const unsigned char *msg, size_t len)
{
    bc_peer *p;

    for (p = S.peers; p; p = p->next)
        if (p->node_id == node && p->state == PS_AUTHED && !p->drop_pending)
            break;
    if (!p)
        return 0;
    if (p->txq_bytes + len > TXQ_MAX_BYTES) {
        /* A destination that does not read loses frames, as it would on
         * a congested network; its sender is not to blame. */
        logf_peer(p, "does not read (%zu bytes queued): a RelayDeliver is dropped",
                  p->txq_bytes);
        return -1;
    }
    return enqueue(p, MSG_BINARY, msg, len, 1) ? 1 : -1;
}

/* ---- TLS: full and resumed handshakes ----------------------------------- */

/* LWS_CALLBACK_SSL_INFO (vhost mask SSL_CB_HANDSHAKE_DONE): count the
 * connection's handshake in tls_full or tls_resumed.  It comes to whichever
 * protocol the connection is bound to by then, and OpenSSL may report a
 * TLS 1.3 handshake done again after post-handshake messages: a mark on the
 * SSL object makes each connection count once. */
static void tls_handshake_done(struct lws *wsi, const struct lws_ssl_info *si)
{
    SSL *ssl = lws_get_ssl(wsi);

    if (!si || !(si->where & SSL_CB_HANDSHAKE_DONE) || !ssl ||
        SSL_get_ex_data(ssl, tls_counted_slot))
        return;
    if (SSL_set_ex_data(ssl, tls_counted_slot, &tls_counted_slot) != 1)
        return;
    if (SSL_session_reused(ssl))
        S.st->tls_resumed++;
    else
        S.st->tls_full++;
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    bc_peer *p = user;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* Matched on BC_SUBPROTOCOL; answer with --subprotocol. */
        snprintf(ws_name, sizeof ws_name, "%s", S.o->subprotocol);
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        snprintf(ws_name, sizeof ws_name, "%s", BC_SUBPROTOCOL);
        return peer_open(p, wsi);
    case LWS_CALLBACK_RECEIVE:
        return p->wsi ? peer_receive(p, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return p->wsi ? peer_writeable(p) : -1;
    case LWS_CALLBACK_TIMER:
        return p->wsi ? peer_timer(p) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (p->wsi) {
            unsigned code = len >= 2 ? (unsigned)((const unsigned char *)in)[0] << 8 |
                                           ((const unsigned char *)in)[1]
                                     : 1005;
            logf_peer(p, "peer sent close %u", code);
        }
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (p)
            peer_close(p);
        return 0;
    case LWS_CALLBACK_SSL_INFO:
        tls_handshake_done(wsi, in);
        return 0;
    default:
        return 0;
    }
}

/* ---- plain HTTP: /health and the upgrade policy ------------------------ */

/* Does the comma-separated list offer name? */
static int offers(const char *list, const char *name)
{
    size_t nlen = strlen(name);
    const char *s = list;

    while (*s) {
        const char *e;
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        e = s;
        while (*e && *e != ',' && *e != ' ' && *e != '\t')
            e++;
        if ((size_t)(e - s) == nlen && strncmp(s, name, nlen) == 0)
            return 1;
        s = e;
    }
    return 0;
}

static int refuse(struct lws *wsi, unsigned status, const char *why)
{
    S.st->refused++;
    fprintf(stderr, "beacon: upgrade refused with %u: %s\n", status, why);
    if (lws_return_http_status(wsi, status, why))
        return -1;
    return 1; /* we answered; libwebsockets completes the transaction */
}

static int confirm_upgrade(struct lws *wsi, const char *upgrade)
{
    char uri[256], prot[256];

    snprintf(ws_name, sizeof ws_name, "%s", BC_SUBPROTOCOL);
    if (!upgrade || strcasecmp(upgrade, "websocket") != 0)
        return refuse(wsi, HTTP_STATUS_BAD_REQUEST, "only websocket upgrades");
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp(uri, BC_WS_PATH) != 0)
        return refuse(wsi, HTTP_STATUS_NOT_FOUND, "upgrades only on " BC_WS_PATH);
    if (lws_hdr_copy(wsi, prot, sizeof prot, WSI_TOKEN_PROTOCOL) <= 0 ||
        !offers(prot, BC_SUBPROTOCOL))
        return refuse(wsi, HTTP_STATUS_BAD_REQUEST, "subprotocol " BC_SUBPROTOCOL " required");
    if (S.refuse_left > 0) {
        S.refuse_left--;
        return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "refused (--refuse)");
    }
    if (S.o->max_peers && S.n_peers >= S.o->max_peers)
        return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "too many peers (--max-peers)");
    return 0;
}

static int http_reply(struct lws *wsi, http_pss *h, unsigned status, const char *type,
                      const char *body)
{
    unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start,
                                      *end = buf + sizeof buf - 1;
    size_t n = strlen(body);

    if (n >= sizeof h->body)
        return -1;
    h->status = status;
    memcpy(h->body, body, n);
    h->body_len = n;
    h->body_pending = 1;
    if (lws_add_http_common_headers(wsi, status, type, n, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* GET /stats: the STATS counters as one JSON object. */
static int stats_reply(struct lws *wsi, http_pss *h)
{
    char json[HTTP_BODY_MAX - 1];
    int n = bc_stats_format(S.st, 1, json, sizeof json - 1);

    if (n < 0)
        return http_reply(wsi, h, HTTP_STATUS_INTERNAL_SERVER_ERROR, "text/plain",
                          "stats too long\n");
    json[n] = '\n';
    json[n + 1] = '\0';
    return http_reply(wsi, h, HTTP_STATUS_OK, "application/json", json);
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    http_pss *h = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        const char *uri = in;
        if (uri && strcmp(uri, "/health") == 0)
            return http_reply(wsi, h, HTTP_STATUS_OK, "text/plain", "ok\n");
        if (uri && strcmp(uri, "/stats") == 0)
            return stats_reply(wsi, h);
        if (uri && strcmp(uri, BC_WS_PATH) == 0)
            return http_reply(wsi, h, 426, "text/plain", "upgrade required\n");
        return http_reply(wsi, h, HTTP_STATUS_NOT_FOUND, "text/plain", "not found\n");
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        unsigned char buf[LWS_PRE + HTTP_BODY_MAX];
        size_t n;
        if (!h || !h->body_pending)
            break;
        n = h->body_len;
        memcpy(buf + LWS_PRE, h->body, n);
        h->body_pending = 0;
        if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) != (int)n)
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return confirm_upgrade(wsi, in);
    case LWS_CALLBACK_SSL_INFO:
        tls_handshake_done(wsi, in);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- relay mode: the UDP socket in the loop ----------------------------- */

/* The socket is adopted as a raw file descriptor: libwebsockets polls it
 * and says when it is readable; relay.c does the reading and writing. */
#define UDP_PROTOCOL "pilot-beacon-udp"

static int udp_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return 1; /* not a WebSocket subprotocol anyone may select */
    case LWS_CALLBACK_RAW_RX_FILE:
        bc_relay_udp_readable();
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (wsi == S.udp_wsi) {
            S.udp_wsi = NULL;
            S.udp_fd = -1; /* libwebsockets closed it */
        }
        return 0;
    default:
        return 0;
    }
}

/* Open the UDP socket on the listener's port number and adopt it.  With
 * port 0 the TCP and UDP numbers are chosen together: see bc_server_run. */
static int udp_open(int port, char *err, size_t errlen)
{
    int bound;

    S.udp_fd = bc_relay_open_udp(S.o->listen_host, port, &bound, err, errlen);
    return S.udp_fd < 0 ? -1 : bound;
}

static int udp_adopt(struct lws_vhost *vh)
{
    lws_sock_file_fd_type fd;

    fd.filefd = S.udp_fd;
    S.udp_wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, fd, UDP_PROTOCOL, NULL);
    if (!S.udp_wsi) {
        S.udp_fd = -1; /* closed by the failed adoption */
        return -1;
    }
    bc_relay_init(S.st, S.udp_fd);
    return 0;
}

/* ---- the service loop -------------------------------------------------- */

static struct lws_protocols protocols[] = {
    { .name = "http", .callback = http_cb, .per_session_data_size = sizeof(http_pss) },
    { .name = ws_name, .callback = ws_cb, .per_session_data_size = sizeof(bc_peer),
      .rx_buffer_size = 16384 },
    { .name = UDP_PROTOCOL, .callback = udp_cb },
    { .name = NULL, .callback = NULL }
};

static void lws_log(int level, const char *line)
{
    (void)level;
    fprintf(stderr, "beacon: lws: %s", line);
}

void bc_server_wake(void)
{
    struct lws_context *ctx = g_ctx;
    if (ctx)
        lws_cancel_service(ctx);
}

/* Is TCP port `port` of host taken?  Tells a port clash (worth another
 * pick) from a vhost that fails for another reason (certificates). */
static int tcp_port_taken(const char *host, int port)
{
    char spec[96], err[128];
    struct sockaddr_storage ss;
    socklen_t sl;
    pt_addr a;
    int fd, taken;

    snprintf(spec, sizeof spec, "%s:%d", host, port);
    if (ptu_addr_parse(spec, 1, &a, err, sizeof err) != PT_OK)
        return 0;
    sl = ptu_addr_to_sockaddr(&a, a.family == PT_AF_INET6 ? AF_INET6 : AF_INET, &ss);
    fd = sl ? socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
    if (fd < 0)
        return 0;
    taken = bind(fd, (const struct sockaddr *)&ss, sl) != 0 && errno == EADDRINUSE;
    close(fd);
    return taken;
}

/* The listener, and in relay mode the UDP socket on the same port number.
 * With --listen port 0 the kernel picks a free UDP port and the listener
 * takes the same number; if TCP has it taken, try another (a few times).
 * Returns the vhost, or NULL after saying why. */
static struct lws_vhost *listen_all(struct lws_context *ctx, struct lws_context_creation_info *vi)
{
    const bc_opts *o = S.o;
    char err[256];
    struct lws_vhost *vh;

    for (int attempt = 1;; attempt++) {
        vi->port = o->port;
        if (o->mode == BC_MODE_RELAY && (vi->port = udp_open(o->port, err, sizeof err)) < 0) {
            fprintf(stderr, "pilot-beacon-dev: %s\n", err);
            return NULL;
        }
        vh = lws_create_vhost(ctx, vi);
        if (vh)
            return vh;
        if (S.udp_fd >= 0) {
            close(S.udp_fd);
            S.udp_fd = -1;
        }
        if (o->mode != BC_MODE_RELAY || o->port != 0 || attempt == LISTEN_ATTEMPTS ||
            !tcp_port_taken(o->listen_host, vi->port))
            break;
        fprintf(stderr, "beacon: tcp port %d is taken, udp is not: picking another\n",
                vi->port);
    }
    fprintf(stderr, "pilot-beacon-dev: cannot listen on %s:%d%s (--verbose shows why)\n",
            o->listen_host, vi->port, o->plaintext ? "" : " or load --cert/--key");
    return NULL;
}

int bc_server_run(const bc_opts *o, const bc_registry *reg, bc_stats *st)
{
    static const char *const mode_names[] = { "relay", "echo", "sink" };
    struct lws_context_creation_info ci, vi;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    int port, rc = 0;

    memset(&S, 0, sizeof S);
    S.o = o;
    S.reg = reg;
    S.st = st;
    S.refuse_left = o->refuse;
    S.udp_fd = -1;

    lws_set_log_level(o->verbose ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO : LLL_ERR,
                      lws_log);

    memset(&ci, 0, sizeof ci);
    ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (!o->plaintext)
        ci.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    ci.port = CONTEXT_PORT_NO_LISTEN;
    ci.gid = (gid_t)-1;
    ci.uid = (uid_t)-1;
    ctx = lws_create_context(&ci);
    if (!ctx) {
        fprintf(stderr, "pilot-beacon-dev: cannot create the libwebsockets context\n");
        return -1;
    }

    memset(&vi, 0, sizeof vi);
    vi.options = ci.options & ~LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    vi.vhost_name = "beacon";
    vi.iface = o->listen_host;
    vi.protocols = protocols;
    vi.alpn = "http/1.1";
    if (!o->plaintext) {
        vi.ssl_cert_filepath = o->cert;
        vi.ssl_private_key_filepath = o->key;
        /* Resumable sessions, whatever a system configuration says: TLS 1.3
         * tickets (OpenSSL sends two after each full handshake); the key
         * that seals them is new in every beacon process. */
        vi.ssl_options_clear = SSL_OP_NO_TICKET;
        vi.ssl_info_event_mask = SSL_CB_HANDSHAKE_DONE;
        if (tls_counted_slot < 0)
            tls_counted_slot = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        if (tls_counted_slot < 0) {
            fprintf(stderr, "pilot-beacon-dev: no OpenSSL ex_data slot for the TLS counters\n");
            lws_context_destroy(ctx);
            return -1;
        }
    }
    vh = listen_all(ctx, &vi);
    if (!vh) {
        lws_context_destroy(ctx);
        return -1;
    }
    port = lws_get_vhost_listen_port(vh);
    if (o->mode == BC_MODE_RELAY && udp_adopt(vh) != 0) {
        fprintf(stderr, "pilot-beacon-dev: cannot add the UDP socket to the service loop\n");
        lws_context_destroy(ctx);
        return -1;
    }
    g_ctx = ctx;

    if (o->mode == BC_MODE_RELAY)
        printf("READY port=%d udp=%d\n", port, port);
    else
        printf("READY port=%d\n", port);
    fflush(stdout);
    fprintf(stderr, "beacon: listening on %s:%d (%s%s), mode %s\n", o->listen_host, port,
            o->plaintext ? "ws" : "wss", o->mode == BC_MODE_RELAY ? " and udp" : "",
            mode_names[o->mode]);

    while (!bc_stop_requested) {
        if (bc_stats_requested) {
            bc_stats_requested = 0;
            bc_stats_print(st);
        }
        if (bc_text_requested) {
            bc_text_requested = 0;
            text_to_all();
        }
        if (lws_service(ctx, 0) < 0 && !bc_stop_requested && !bc_stats_requested &&
            !bc_text_requested) {
            fprintf(stderr, "pilot-beacon-dev: service loop failed\n");
            rc = -1;
            break;
        }
    }
    fprintf(stderr, "beacon: shutting down\n");
    g_ctx = NULL;
    lws_context_destroy(ctx);
    /* Destroying the context closed the adopted UDP socket. */
    bc_relay_free();
    return rc;
}
