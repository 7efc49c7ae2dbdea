/*
 * raw-tls.c -- the benchmark's physical-limit baseline: GnuTLS TLS 1.3 over
 * loopback TCP with nothing else in the way (no libcurl, no plugin, no
 * WebSocket unless asked for), so bench.sh can say how far the WSS plugin
 * is from what the machine does with the same cipher on the same path.
 *
 * *** BENCHMARK CODE, NOT PRODUCT. ***  The server's --ws mode answers the
 * WebSocket upgrade and runs the Pilot auth exchange as a dumb accept-all:
 * it sends a well-formed challenge, reads whatever comes back WITHOUT
 * VERIFYING ANYTHING (no signature, no registry, no subprotocol check) and
 * says auth_ok.  It exists only so that the WSS plugin has an echo peer
 * that is cheaper than the development beacon.  Never point a real node at
 * it, and never copy it into the product.
 *
 * Roles (flags are --name=value):
 *
 *   raw-tls server --port=0 --cert=F --key=F [--ws]
 *       Prints "READY port=N", then echoes on every connection, one thread
 *       per connection.  Plain mode echoes the byte stream, one corked
 *       write per TLS record received.  --ws: HTTP upgrade
 *       (101, Sec-WebSocket-Protocol: pilot.v1), the auth exchange above,
 *       then each masked client frame comes back as an unmasked server
 *       frame (pings are answered with pongs, a close with a close).
 *
 *   raw-tls client --port=N --ca=F --count=N --size=B --window=W [--coalesce]
 *       Sends N frames (a 4-byte big-endian length, then B bytes: sequence,
 *       send time, pattern) with at most W unanswered, checks every echo and
 *       prints the line pilot-transport echo-bench prints:
 *         RESULT frames=N bytes=B seconds=S fps=F mbps=M rtt_p50_us=P rtt_p99_us=Q
 *       Without --coalesce every frame is one gnutls_record_send (one TLS
 *       record, one write); with --coalesce the frames that may be sent at
 *       one moment are corked (gnutls_record_cork) and leave in one uncork.
 *
 *   raw-tls handshake --port=N --ca=F --count=N
 *       N times: TCP connect + full TLS 1.3 handshake (certificate checked
 *       for "localhost"), then close.  Prints
 *         RESULT handshakes=N p50_ms=P p99_ms=Q min_ms=M
 *
 * The client runs on one thread with a non-blocking socket and poll(), so a
 * large window cannot deadlock against the echo.
 */
#include "config.h"

#include "bench_frame.h"
#include "bench_util.h"
#include "byteorder.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define SERVER_NAME "localhost"
#define HDR 16                   /* sequence + send time, as in echo-bench */
#define MAX_SIZE (1u << 20)      /* largest frame either side accepts */
#define FLUSH_AT (256u * 1024)   /* server: uncork at least this often */
#define IO_TIMEOUT_MS 10000      /* client: give up when nothing moves */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* ---- Small helpers -------------------------------------------------------- */

const char bench_prog[] = "raw-tls";

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ---- Options --------------------------------------------------------------- */

struct opts {
    const char *cert, *key, *ca;
    unsigned long port, count, size, window;
    int ws, coalesce;
};

static void parse(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->count = 1000;
    o->size = 1200;
    o->window = 1;
    const struct bench_flag flags[] = {
        { "ws", NULL, NULL, 0, &o->ws },
        { "coalesce", NULL, NULL, 0, &o->coalesce },
        { "cert", &o->cert, NULL, 0, NULL },
        { "key", &o->key, NULL, 0, NULL },
        { "ca", &o->ca, NULL, 0, NULL },
        { "port", NULL, &o->port, 65535, NULL },
        { "count", NULL, &o->count, 100000000, NULL },
        { "size", NULL, &o->size, MAX_SIZE, NULL },
        { "window", NULL, &o->window, 1000000, NULL },
        { NULL, NULL, NULL, 0, NULL },
    };
    bench_parse_flags(argc, argv, 2, flags);
}

/* ---- Server ---------------------------------------------------------------- */

static gnutls_certificate_credentials_t srv_cred;
static gnutls_priority_t srv_prio;
static int srv_ws;

/* One accepted connection: its session, input buffer and cork state. */
typedef struct {
    gnutls_session_t s;
    int fd;
    unsigned char *in;
    size_t in_off, in_len, in_cap; /* unread input is in[in_off..in_len) */
    int corked;
    size_t corked_bytes;
} peer;


static int flush(peer *p)
{
    if (!p->corked)
        return 0;
    p->corked = 0;
    p->corked_bytes = 0;
    ssize_t r = gnutls_record_uncork(p->s, GNUTLS_RECORD_WAIT);
    return r < 0 ? -1 : 0;
}

/* Queue bytes for the peer; they leave at the next flush. */
static int queue(peer *p, const void *buf, size_t len)
{
    if (!p->corked) {
        gnutls_record_cork(p->s);
        p->corked = 1;
    }
    while (len > 0) {
        ssize_t r = gnutls_record_send(p->s, buf, len);
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
            continue;
        if (r <= 0)
            return -1;
        buf = (const unsigned char *)buf + r;
        len -= (size_t)r;
        p->corked_bytes += (size_t)r;
    }
    return p->corked_bytes >= FLUSH_AT ? flush(p) : 0;
}

/* Read more input.  Queued output is flushed first unless GnuTLS still
 * holds decrypted input: so the echo of everything one TLS record carried
 * leaves in one write, and a client that pipelines is answered as it goes
 * rather than in bursts (waiting for the socket to run dry held echoes back
 * until the client's whole window had arrived).  Returns bytes read, 0 at
 * EOF, -1 on error. */
static ssize_t fill(peer *p)
{
    if (p->in_off > 0 && p->in_off == p->in_len)
        p->in_off = p->in_len = 0;
    if (p->in_cap - p->in_len < 16384 + 64) { /* room for a whole record */
        memmove(p->in, p->in + p->in_off, p->in_len - p->in_off);
        p->in_len -= p->in_off;
        p->in_off = 0;
    }
    if (p->in_cap - p->in_len < 16384 + 64)
        return -1; /* a frame larger than the buffer */
    if (p->corked && gnutls_record_check_pending(p->s) == 0 && flush(p) != 0)
        return -1;
    for (;;) {
        ssize_t r = gnutls_record_recv(p->s, p->in + p->in_len, p->in_cap - p->in_len);
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
            continue;
        if (r < 0)
            return -1;
        p->in_len += (size_t)r;
        return r;
    }
}

/* Plain mode: echo the byte stream (fill flushes what a record carried). */
static void raw_echo(peer *p)
{
    for (;;) {
        ssize_t r = fill(p);
        if (r <= 0)
            return;
        if (queue(p, p->in + p->in_off, (size_t)r) != 0)
            return;
        p->in_off = p->in_len;
    }
}

/* -- --ws mode -- */

static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    for (i = 0; i + 2 < n; i += 3) {
        *out++ = t[in[i] >> 2];
        *out++ = t[(in[i] & 3) << 4 | in[i + 1] >> 4];
        *out++ = t[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
        *out++ = t[in[i + 2] & 63];
    }
    if (i + 1 == n) {
        *out++ = t[in[i] >> 2];
        *out++ = t[(in[i] & 3) << 4];
        *out++ = '=';
        *out++ = '=';
    } else if (i + 2 == n) {
        *out++ = t[in[i] >> 2];
        *out++ = t[(in[i] & 3) << 4 | in[i + 1] >> 4];
        *out++ = t[(in[i + 1] & 15) << 2];
        *out++ = '=';
    }
    *out = '\0';
}

/* Read the HTTP upgrade request and answer 101 with the Accept the key asks
 * for and the pilot.v1 subprotocol (whatever the client offered). */
static int ws_upgrade(peer *p)
{
    char req[8192], *end, *key, accept_in[128], accept[32];
    unsigned char sha1[20];

    for (;;) {
        size_t have = p->in_len - p->in_off;
        if (have >= sizeof req)
            return -1;
        memcpy(req, p->in + p->in_off, have);
        req[have] = '\0';
        if ((end = strstr(req, "\r\n\r\n")) != NULL)
            break;
        if (fill(p) <= 0)
            return -1;
    }
    p->in_off += (size_t)(end + 4 - req);
    end[2] = '\0';
    key = strcasestr(req, "\r\nSec-WebSocket-Key:");
    if (!key)
        return -1;
    key += strlen("\r\nSec-WebSocket-Key:");
    key += strspn(key, " \t");
    size_t klen = strcspn(key, " \t\r\n");
    if (klen == 0 || klen > 64)
        return -1;
    snprintf(accept_in, sizeof accept_in, "%.*s%s", (int)klen, key, WS_GUID);
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, accept_in, strlen(accept_in), sha1) != 0)
        return -1;
    base64(sha1, sizeof sha1, accept);

    char resp[512];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n"
                     "Sec-WebSocket-Protocol: pilot.v1\r\n"
                     "\r\n",
                     accept);
    return queue(p, resp, (size_t)n);
}

/* Queue one unmasked server frame. */
static int ws_send(peer *p, unsigned char b0, const unsigned char *data, size_t len)
{
    unsigned char h[10];
    size_t hl;
    h[0] = b0;
    if (len < 126) {
        h[1] = (unsigned char)len;
        hl = 2;
    } else if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        hl = 4;
    } else {
        h[1] = 127;
        bench_put64(h + 2, len);
        hl = 10;
    }
    if (queue(p, h, hl) != 0)
        return -1;
    return len ? queue(p, data, len) : 0;
}

/* Wait for one whole client frame, unmask it in place and consume it.
 * Returns 0 with *b0, *data, *len set (data valid until the next call). */
static int ws_next(peer *p, unsigned char *b0, unsigned char **data, size_t *len)
{
    for (;;) {
        unsigned char *f = p->in + p->in_off;
        size_t have = p->in_len - p->in_off, hl = 2;
        uint64_t n;
        if (have >= 2) {
            n = f[1] & 127;
            if (n == 126)
                hl = 4;
            else if (n == 127)
                hl = 10;
            if (f[1] & 128)
                hl += 4;
            if (have >= hl) {
                if (n == 126)
                    n = (uint64_t)f[2] << 8 | f[3];
                else if (n == 127)
                    n = bench_get64(f + 2);
                if (n > MAX_SIZE)
                    return -1;
                if (have >= hl + n) {
                    unsigned char *d = f + hl;
                    if (f[1] & 128) {
                        const unsigned char *m = f + hl - 4;
                        for (size_t i = 0; i < n; i++)
                            d[i] ^= m[i & 3];
                    }
                    *b0 = f[0];
                    *data = d;
                    *len = (size_t)n;
                    p->in_off += hl + (size_t)n;
                    return 0;
                }
            }
        }
        if (fill(p) <= 0)
            return -1;
    }
}

/* The Pilot auth exchange as a dumb accept-all (see the top of the file):
 * the reply is read and thrown away unverified. */
static int ws_auth(peer *p)
{
    unsigned char rnd[32], b0, *d;
    char msg[160];
    size_t len;

    if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd) != 0)
        return -1;
    int n = snprintf(msg, sizeof msg, "{\"type\":\"auth_challenge\",\"nonce\":\"");
    for (size_t i = 0; i < sizeof rnd; i++)
        n += snprintf(msg + n, sizeof msg - (size_t)n, "%02x", rnd[i]);
    n += snprintf(msg + n, sizeof msg - (size_t)n, "\",\"ts\":%lld}", (long long)time(NULL));
    if (ws_send(p, 0x81, (const unsigned char *)msg, (size_t)n) != 0)
        return -1;
    if (ws_next(p, &b0, &d, &len) != 0) /* the auth_reply, NOT checked */
        return -1;
    static const char ok[] = "{\"type\":\"auth_ok\"}";
    if (ws_send(p, 0x81, (const unsigned char *)ok, sizeof ok - 1) != 0)
        return -1;
    return flush(p);
}

static void ws_echo(peer *p)
{
    unsigned char b0, *d;
    size_t len;

    if (ws_upgrade(p) != 0 || ws_auth(p) != 0)
        return;
    while (ws_next(p, &b0, &d, &len) == 0) {
        int op = b0 & 15;
        if (op == 0x8) { /* close: answer it and stop */
            ws_send(p, b0, d, len);
            flush(p);
            return;
        }
        if (op == 0xA) /* pong */
            continue;
        if (ws_send(p, op == 0x9 ? (unsigned char)((b0 & 0xf0) | 0xA) : b0, d, len) != 0)
            return;
    }
}

static void *serve(void *arg)
{
    peer p;
    int rc;

    memset(&p, 0, sizeof p);
    p.fd = (int)(intptr_t)arg;
    p.in_cap = 2 * MAX_SIZE + 65536;
    p.in = malloc(p.in_cap);
    if (!p.in || gnutls_init(&p.s, GNUTLS_SERVER) != 0)
        goto out;
    gnutls_priority_set(p.s, srv_prio);
    gnutls_credentials_set(p.s, GNUTLS_CRD_CERTIFICATE, srv_cred);
    gnutls_transport_set_int(p.s, p.fd);
    gnutls_handshake_set_timeout(p.s, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
    do
        rc = gnutls_handshake(p.s);
    while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc < 0)
        goto out;
    if (srv_ws)
        ws_echo(&p);
    else
        raw_echo(&p);
out:
    if (p.s)
        gnutls_deinit(p.s);
    free(p.in);
    close(p.fd);
    return NULL;
}

static int run_server(const struct opts *o)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int one = 1, lfd;

    if (!o->cert || !o->key)
        die("server: need --cert=FILE and --key=FILE");
    srv_ws = o->ws;
    if (gnutls_certificate_allocate_credentials(&srv_cred) != 0 ||
        gnutls_certificate_set_x509_key_file(srv_cred, o->cert, o->key, GNUTLS_X509_FMT_PEM) != 0)
        die("server: cannot load %s / %s", o->cert, o->key);
    if (gnutls_priority_init(&srv_prio, PRIORITY, NULL) != 0)
        die("server: priority string refused");

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)o->port);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("server: socket: %s", strerror(errno));
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 128) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
        die("server: 127.0.0.1:%lu: %s", o->port, strerror(errno));
    printf("READY port=%u\n", ntohs(sa.sin_port));
    fflush(stdout);

    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
                continue;
            die("server: accept: %s", strerror(errno));
        }
        set_nodelay(fd);
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, serve, (void *)(intptr_t)fd) != 0)
            close(fd);
        pthread_attr_destroy(&at);
    }
}

/* ---- Client side ----------------------------------------------------------- */

/* TCP connect to 127.0.0.1:port and a full TLS 1.3 handshake, the server's
 * certificate checked against the CA for "localhost".  Blocking. */
static gnutls_session_t dial(gnutls_certificate_credentials_t cred, unsigned long port, int *fdp)
{
    struct sockaddr_in sa;
    gnutls_session_t s;
    int rc, fd;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect 127.0.0.1:%lu: %s", port, strerror(errno));
    set_nodelay(fd);
    if (gnutls_init(&s, GNUTLS_CLIENT) != 0 ||
        gnutls_priority_set_direct(s, PRIORITY, NULL) != 0 ||
        gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) != 0 ||
        gnutls_server_name_set(s, GNUTLS_NAME_DNS, SERVER_NAME, strlen(SERVER_NAME)) != 0)
        die("TLS session setup failed");
    gnutls_session_set_verify_cert(s, SERVER_NAME, 0);
    gnutls_transport_set_int(s, fd);
    gnutls_handshake_set_timeout(s, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
    do
        rc = gnutls_handshake(s);
    while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc < 0)
        die("TLS handshake with 127.0.0.1:%lu: %s", port, gnutls_strerror(rc));
    *fdp = fd;
    return s;
}

static gnutls_certificate_credentials_t client_cred(const struct opts *o)
{
    gnutls_certificate_credentials_t cred;
    if (!o->ca)
        die("need --ca=FILE");
    if (gnutls_certificate_allocate_credentials(&cred) != 0 ||
        gnutls_certificate_set_x509_trust_file(cred, o->ca, GNUTLS_X509_FMT_PEM) <= 0)
        die("cannot load CA file %s", o->ca);
    return cred;
}

static int run_handshake(const struct opts *o)
{
    gnutls_certificate_credentials_t cred = client_cred(o);
    uint64_t *ms = malloc(o->count * sizeof *ms);
    if (!ms || o->count == 0)
        die("handshake: need --count >= 1");
    for (unsigned long i = 0; i < o->count; i++) {
        int fd;
        uint64_t t0 = now_ns();
        gnutls_session_t s = dial(cred, o->port, &fd);
        ms[i] = now_ns() - t0;
        gnutls_deinit(s);
        close(fd);
    }
    qsort(ms, o->count, sizeof *ms, bench_cmp_u64);
    printf("RESULT handshakes=%lu p50_ms=%.3f p99_ms=%.3f min_ms=%.3f\n", o->count,
           (double)ms[o->count / 2] / 1e6, (double)ms[(o->count * 99) / 100] / 1e6,
           (double)ms[0] / 1e6);
    free(ms);
    gnutls_certificate_free_credentials(cred);
    return 0;
}

static int again(ssize_t r)
{
    return r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED;
}

static void build(unsigned char *out, size_t size, uint64_t seq)
{
    ptu_put32(out, (uint32_t)size);
    bench_put64(out + 4, seq);
    bench_put64(out + 12, now_ns());
    for (size_t i = HDR; i < size; i++)
        out[4 + i] = bench_pattern(seq, i);
}

static int run_client(const struct opts *o)
{
    const uint64_t count = o->count, size = o->size, window = o->window;
    const size_t flen = 4 + (size_t)size;
    gnutls_certificate_credentials_t cred = client_cred(o);
    unsigned char *out = malloc(flen), *in, *seen = calloc(count ? count : 1, 1);
    size_t in_cap = 4 * flen + 65536, in_off = 0, in_len = 0, out_off = 0;
    uint64_t *rtt = malloc((count ? count : 1) * sizeof *rtt);
    uint64_t sent = 0, received = 0;
    int fd, built = 0, uncork_due = 0;

    if (count == 0 || size < HDR || window == 0)
        die("client: need --count >= 1, --size >= %d, --window >= 1", HDR);
    in = malloc(in_cap);
    if (!out || !in || !seen || !rtt)
        die("client: out of memory");
    gnutls_session_t s = dial(cred, o->port, &fd);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

    uint64_t start = now_ns();
    while (received < count) {
        int want_write = 0;

        /* Send what the window allows. */
        if (o->coalesce) {
            if (!uncork_due && sent < count && sent - received < window) {
                gnutls_record_cork(s);
                for (; sent < count && sent - received < window; sent++) {
                    build(out, (size_t)size, sent);
                    if (gnutls_record_send(s, out, flen) != (ssize_t)flen)
                        die("client: corked send failed");
                }
                uncork_due = 1;
            }
            if (uncork_due) {
                ssize_t r = gnutls_record_uncork(s, 0);
                if (r >= 0)
                    uncork_due = 0;
                else if (again(r))
                    want_write = 1;
                else
                    die("client: send: %s", gnutls_strerror((int)r));
            }
        } else {
            while (sent < count && sent - received < window) {
                if (!built) {
                    build(out, (size_t)size, sent);
                    built = 1;
                    out_off = 0;
                }
                ssize_t r = gnutls_record_send(s, out + out_off, flen - out_off);
                if (again(r)) {
                    want_write = 1;
                    break;
                }
                if (r < 0)
                    die("client: send: %s", gnutls_strerror((int)r));
                out_off += (size_t)r;
                if (out_off == flen) {
                    built = 0;
                    sent++;
                }
            }
        }

        /* Take in every echo that is there. */
        uint64_t before = received;
        for (;;) {
            if (in_cap - in_len < 16384 + 64) {
                memmove(in, in + in_off, in_len - in_off);
                in_len -= in_off;
                in_off = 0;
            }
            ssize_t r = gnutls_record_recv(s, in + in_len, in_cap - in_len);
            if (again(r))
                break;
            if (r == 0)
                die("client: server closed the connection after %" PRIu64 " echoes", received);
            if (r < 0)
                die("client: recv: %s", gnutls_strerror((int)r));
            in_len += (size_t)r;
            uint64_t now = now_ns();
            while (in_len - in_off >= 4 && in_len - in_off >= 4 + ptu_get32(in + in_off)) {
                const unsigned char *f = in + in_off + 4;
                uint32_t n = ptu_get32(in + in_off);
                uint64_t seq = n >= HDR ? bench_get64(f) : UINT64_MAX;
                if (n != size || seq >= sent || seen[seq])
                    die("client: unexpected frame: %" PRIu32 " bytes, sequence %" PRIu64, n, seq);
                for (size_t i = HDR; i < size; i++)
                    if (f[i] != bench_pattern(seq, i))
                        die("client: frame %" PRIu64 " corrupted at byte %zu", seq, i);
                seen[seq] = 1;
                rtt[received++] = now - bench_get64(f + 8);
                in_off += 4 + n;
            }
            if (in_off == in_len)
                in_off = in_len = 0;
        }
        if (received >= count)
            break;
        if (received > before && !want_write)
            continue; /* the window opened: send before waiting */
        struct pollfd pf = { fd, (short)(POLLIN | (want_write ? POLLOUT : 0)), 0 };
        int pr = poll(&pf, 1, IO_TIMEOUT_MS);
        if (pr == 0)
            die("client: nothing moved for %d ms: %" PRIu64 " of %" PRIu64 " echoes", IO_TIMEOUT_MS,
                received, count);
        if (pr < 0 && errno != EINTR)
            die("client: poll: %s", strerror(errno));
    }
    double secs = (double)(now_ns() - start) / 1e9;
    qsort(rtt, count, sizeof *rtt, bench_cmp_u64);
    printf("RESULT frames=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f fps=%.0f mbps=%.2f "
           "rtt_p50_us=%.1f rtt_p99_us=%.1f\n",
           count, count * size, secs, (double)count / secs,
           (double)(count * size) * 8 / 1e6 / secs, (double)rtt[count / 2] / 1e3,
           (double)rtt[(count * 99) / 100] / 1e3);
    gnutls_deinit(s);
    close(fd);
    gnutls_certificate_free_credentials(cred);
    free(out);
    free(in);
    free(seen);
    free(rtt);
    return 0;
}

static void usage(void)
{
    fputs("usage: raw-tls server --port=0 --cert=F --key=F [--ws]\n"
          "       raw-tls client --port=N --ca=F --count=N --size=B --window=W [--coalesce]\n"
          "       raw-tls handshake --port=N --ca=F --count=N\n"
          "Benchmark baseline (GnuTLS TLS 1.3 on loopback); see the top of raw-tls.c.\n"
          "The server's --ws mode VERIFIES NOTHING: benchmark code, not product.\n",
          stderr);
}

int main(int argc, char **argv)
{
    struct opts o;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    signal(SIGPIPE, SIG_IGN);
    parse(argc, argv, &o);
    if (gnutls_global_init() != 0)
        die("gnutls_global_init failed");
    if (strcmp(argv[1], "server") == 0)
        return run_server(&o);
    if (strcmp(argv[1], "client") == 0)
        return run_client(&o);
    if (strcmp(argv[1], "handshake") == 0)
        return run_handshake(&o);
    usage();
    return 2;
}
