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
 *   raw-tls client --port=N --ca=F --count=N --size=B --window=W
 *                  [--coalesce | --rate=R]
 *       Sends N frames (a 4-byte big-endian length, then B bytes: sequence,
 *       send time, pattern) with at most W unanswered, checks every echo and
 *       prints the line pilot-transport echo-bench prints:
 *         RESULT frames=N bytes=B seconds=S fps=F mbps=M rtt_p50_us=P rtt_p99_us=Q
 *       Without --coalesce every frame is one gnutls_record_send (one TLS
 *       record, one write); with --coalesce the frames that may be sent at
 *       one moment are corked (gnutls_record_cork) and leave in one uncork.
 *       --rate=R paces it as echo-bench -rate does (frame i due at start +
 *       i/R s; late frames leave at once, the window allowing; " rate=R" is
 *       added to the line): one record per frame, and between due times it
 *       waits in ppoll() for the socket or the next due time, whichever is
 *       first, then reads as unpaced (see run_paced).
 *
 *   raw-tls handshake --port=N --ca=F --count=N [--hold=H]
 *       N times: TCP connect + full TLS 1.3 handshake (certificate checked
 *       for "localhost"), then close.  Prints
 *         RESULT handshakes=N p50_ms=P p99_ms=Q min_ms=M faults=F
 *       (F: the client's page faults per handshake).  --hold=H (>= 11)
 *       then opens H connections and keeps them open, and times the
 *       handshakes made while 10 to H-1 others are open, as conn-cost
 *       times the plugin's dials: " open_p50_ms=P open_faults=F" is added.
 *
 * It is the benchmark's physical limit, so it is written like the fastest
 * plain GnuTLS program a reader could write (a weak baseline flatters every
 * ratio): blocking sockets, no poll() per read, and read-ahead under GnuTLS
 * (one recv() takes in as many records as the socket holds; GnuTLS's own
 * pull reads each record with two).  The client is one thread whose reads
 * block and whose sends do not (see run_client); the server, one blocking
 * thread per connection.  (A paced run, --rate, has two things to wait
 * for, an echo and the next due time, so it waits in ppoll(); its reads
 * are the same.)  bench.sh checks it against tls-floor.c, the simplest
 * GnuTLS echo, which shares no I/O code with it.
 */
#include "config.h"

#include "bench_frame.h"
#include "bench_util.h"
#include "byteorder.h"

#include <errno.h>
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
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define SERVER_NAME "localhost"
#define HDR 16                   /* sequence + send time, as in echo-bench */
#define MAX_SIZE (1u << 20)      /* largest frame either side accepts */
#define FLUSH_AT (256u * 1024)   /* server: uncork at least this often */
#define IO_TIMEOUT_S 10           /* client: give up when nothing moves */
#define READ_AHEAD (128u * 1024) /* bytes one recv() may take in */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* ---- Small helpers -------------------------------------------------------- */

const char bench_prog[] = "raw-tls";

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ---- Read-ahead transport -------------------------------------------------- */

/* GnuTLS pulls a record as its 5-byte header and then its body: two recv()
 * per record on a bare socket.  This transport serves those pulls from a
 * buffer that one readv() fills with whatever the socket holds.  The fd is
 * blocking: a pull that finds the buffer empty sleeps in readv(). */
typedef struct {
    gnutls_session_t s;
    int fd;
    int send_flags;  /* the client's MSG_DONTWAIT */
    size_t off, len; /* unread bytes are buf[off..len) */
    unsigned char buf[READ_AHEAD];
} readahead;

static ssize_t ra_pull(gnutls_transport_ptr_t ptr, void *data, size_t n)
{
    readahead *ra = ptr;
    if (ra->off == ra->len) {
        /* What GnuTLS asked for lands in its own buffer; the rest (the
         * records behind it) in ours, so nothing is copied twice. */
        struct iovec iov[2] = { { data, n }, { ra->buf, sizeof ra->buf } };
        ssize_t r;
        do
            r = readv(ra->fd, iov, 2);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            gnutls_transport_set_errno(ra->s, errno);
            return -1;
        }
        if ((size_t)r <= n)
            return r;
        ra->off = 0;
        ra->len = (size_t)r - n;
        return (ssize_t)n;
    }
    size_t k = ra->len - ra->off < n ? ra->len - ra->off : n;
    memcpy(data, ra->buf + ra->off, k);
    ra->off += k;
    return (ssize_t)k;
}

/* Only used while a timeout is set (the handshake): data may be waiting in
 * the buffer even when the socket is not readable. */
static int ra_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    readahead *ra = ptr;
    if (ra->off < ra->len)
        return 1;
    struct pollfd pf = { ra->fd, POLLIN, 0 };
    int r = poll(&pf, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
    if (r < 0)
        gnutls_transport_set_errno(ra->s, errno);
    return r;
}

static ssize_t ra_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int n)
{
    readahead *ra = ptr;
    /* msghdr wants a mutable iovec; sendmsg does not write it. */
    union { const giovec_t *c; struct iovec *m; } v = { iov };
    struct msghdr m;
    ssize_t r;
    memset(&m, 0, sizeof m);
    m.msg_iov = v.m;
    m.msg_iovlen = (size_t)n;
    do
        r = sendmsg(ra->fd, &m, MSG_NOSIGNAL | ra->send_flags);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        gnutls_transport_set_errno(ra->s, errno);
    return r;
}

/* True when the next pull is served without a readv(). */
static int ra_buffered(const readahead *ra)
{
    return ra->off < ra->len;
}

/* A read-ahead transport for session s on fd, or NULL (out of memory). */
static readahead *ra_attach(gnutls_session_t s, int fd)
{
    readahead *ra = malloc(sizeof *ra);
    if (!ra)
        return NULL;
    ra->s = s;
    ra->fd = fd;
    ra->send_flags = 0;
    ra->off = ra->len = 0;
    gnutls_transport_set_ptr(s, ra);
    gnutls_transport_set_pull_function(s, ra_pull);
    gnutls_transport_set_pull_timeout_function(s, ra_pull_timeout);
    gnutls_transport_set_vec_push_function(s, ra_push);
    return ra;
}

/* ---- Options --------------------------------------------------------------- */

struct opts {
    const char *cert, *key, *ca;
    unsigned long port, count, size, window, rate, hold;
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
        { "rate", NULL, &o->rate, 10000000, NULL },
        { "hold", NULL, &o->hold, 1000, NULL },
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
    readahead *ra;
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

/* Unmask len bytes at d in place with key m, eight bytes at a time as a
 * real server does (byte by byte cost the echo ~1 us per 1200 bytes, time
 * every ratio against this peer would have charged to the plugin). */
static void unmask(unsigned char *d, size_t len, const unsigned char m[4])
{
    uint32_t k;
    uint64_t k8, v;
    size_t i = 0;
    memcpy(&k, m, 4);
    k8 = (uint64_t)k << 32 | k;
    for (; i + 8 <= len; i += 8) {
        memcpy(&v, d + i, 8);
        v ^= k8;
        memcpy(d + i, &v, 8);
    }
    for (; i < len; i++)
        d[i] ^= m[i & 3];
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
                    if (f[1] & 128)
                        unmask(d, (size_t)n, f + hl - 4);
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
    if (!p.in || gnutls_init(&p.s, GNUTLS_SERVER) != 0 || !(p.ra = ra_attach(p.s, p.fd)))
        goto out;
    gnutls_priority_set(p.s, srv_prio);
    gnutls_credentials_set(p.s, GNUTLS_CRD_CERTIFICATE, srv_cred);
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
    free(p.ra);
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
 * certificate checked against the CA for "localhost", over a read-ahead
 * transport (*rap, the caller frees it).  Blocking. */
static gnutls_session_t dial(gnutls_certificate_credentials_t cred, unsigned long port, int *fdp,
                             readahead **rap)
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
    if (!(*rap = ra_attach(s, fd)))
        die("out of memory");
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

/* handshake --hold: connections held before the timed ones, as conn-cost's
 * --conns (10). */
#define HOLD_UNTIMED 10

/* A connection held open by handshake --hold. */
typedef struct {
    gnutls_session_t s;
    int fd;
    readahead *ra;
} held_conn;

/* --hold: H connections, the first HOLD_UNTIMED untimed; the rest timed
 * into ms (made while HOLD_UNTIMED..H-1 others are open); *faults gets the
 * client's page faults in those handshakes.  All are closed at the end. */
static void hold_open(gnutls_certificate_credentials_t cred, const struct opts *o, uint64_t *ms,
                      long *faults)
{
    held_conn *h = calloc(o->hold, sizeof *h);
    if (!h)
        die("out of memory");
    *faults = 0;
    for (unsigned long i = 0; i < o->hold; i++) {
        long f0 = minor_faults();
        uint64_t t0 = now_ns();
        h[i].s = dial(cred, o->port, &h[i].fd, &h[i].ra);
        if (i >= HOLD_UNTIMED) {
            ms[i - HOLD_UNTIMED] = now_ns() - t0;
            *faults += minor_faults() - f0;
        }
    }
    for (unsigned long i = 0; i < o->hold; i++) {
        gnutls_deinit(h[i].s);
        free(h[i].ra);
        close(h[i].fd);
    }
    free(h);
}

static int run_handshake(const struct opts *o)
{
    gnutls_certificate_credentials_t cred = client_cred(o);
    uint64_t *ms = malloc(o->count * sizeof *ms);
    uint64_t *open_ms = o->hold ? malloc(o->hold * sizeof *open_ms) : NULL;
    long faults, open_faults = 0;
    if (!ms || o->count == 0)
        die("handshake: need --count >= 1");
    if (o->hold && o->hold <= HOLD_UNTIMED)
        die("handshake: --hold needs %d or more (%d held untimed, then the timed ones)",
            HOLD_UNTIMED + 1, HOLD_UNTIMED);
    if (o->hold && !open_ms)
        die("out of memory");
    if (o->hold) /* first, as conn-cost: the loop below then reuses what they freed */
        hold_open(cred, o, open_ms, &open_faults);
    faults = minor_faults();
    for (unsigned long i = 0; i < o->count; i++) {
        int fd;
        readahead *ra;
        uint64_t t0 = now_ns();
        gnutls_session_t s = dial(cred, o->port, &fd, &ra);
        ms[i] = now_ns() - t0;
        gnutls_deinit(s);
        free(ra);
        close(fd);
    }
    faults = minor_faults() - faults;
    qsort(ms, o->count, sizeof *ms, bench_cmp_u64);
    printf("RESULT handshakes=%lu p50_ms=%.3f p99_ms=%.3f min_ms=%.3f faults=%.1f", o->count,
           (double)ms[o->count / 2] / 1e6, (double)ms[(o->count * 99) / 100] / 1e6,
           (double)ms[0] / 1e6, (double)faults / (double)o->count);
    if (o->hold) {
        unsigned long n = o->hold - HOLD_UNTIMED;
        qsort(open_ms, n, sizeof *open_ms, bench_cmp_u64);
        printf(" open_p50_ms=%.3f open_faults=%.1f", (double)open_ms[n / 2] / 1e6,
               (double)open_faults / (double)n);
    }
    putchar('\n');
    free(ms);
    free(open_ms);
    gnutls_certificate_free_credentials(cred);
    return 0;
}

static void build(unsigned char *out, size_t size, uint64_t seq)
{
    ptu_put32(out, (uint32_t)size);
    bench_fill(out + 4, size, seq);
    bench_put64(out + 12, now_ns()); /* last: the round trip is the transport's */
}

/* The client runs on one thread: two threads pinned to one CPU pay a
 * context switch for every echo that reopens the window.  Its sends never
 * block (MSG_DONTWAIT): what the socket will not take stays in GnuTLS, and
 * the client reads meanwhile, so a large window cannot deadlock against
 * the echo.  Its reads block in recv(), no poll(): it only reads when an
 * echo is due. */
typedef struct {
    gnutls_session_t s;
    uint64_t count, size;
    uint64_t sent;     /* frames handed to GnuTLS (corked ones included) */
    uint64_t received; /* echoes checked */
    unsigned char *in, *seen;
    size_t in_cap, in_off, in_len; /* unchecked input is in[in_off..in_len) */
    uint64_t *rtt;
} client;

static int again(ssize_t r)
{
    return r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED;
}

/* One gnutls_record_recv, blocking, and check the echoes it completes. */
static void read_record(client *c)
{
    ssize_t r;

    if (c->in_cap - c->in_len < 16384 + 64) { /* room for a whole record */
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    do
        r = gnutls_record_recv(c->s, c->in + c->in_len, c->in_cap - c->in_len);
    while (r == GNUTLS_E_INTERRUPTED);
    if (r == GNUTLS_E_AGAIN) /* SO_RCVTIMEO */
        die("client: nothing moved for %d s: %" PRIu64 " of %" PRIu64 " echoes", IO_TIMEOUT_S,
            c->received, c->count);
    if (r == 0)
        die("client: server closed the connection after %" PRIu64 " echoes", c->received);
    if (r < 0)
        die("client: recv: %s", gnutls_strerror((int)r));
    c->in_len += (size_t)r;
    uint64_t now = now_ns();
    while (c->in_len - c->in_off >= 4 &&
           c->in_len - c->in_off >= 4 + (size_t)ptu_get32(c->in + c->in_off)) {
        const unsigned char *f = c->in + c->in_off + 4;
        uint32_t n = ptu_get32(c->in + c->in_off);
        uint64_t seq = n >= HDR ? bench_get64(f) : UINT64_MAX;
        if (n != c->size || seq >= c->sent || c->seen[seq])
            die("client: unexpected frame: %" PRIu32 " bytes, sequence %" PRIu64, n, seq);
        size_t bad = bench_first_bad(f, c->size, seq);
        if (bad < c->size)
            die("client: frame %" PRIu64 " corrupted at byte %zu", seq, bad);
        c->seen[seq] = 1;
        c->rtt[c->received++] = now - bench_get64(f + 8);
        c->in_off += 4 + n;
    }
    if (c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
}

/* The paced run (--rate): frame i is due at start + bench_due_ns(i, rate),
 * one record per frame (sends do not block, as unpaced).  A paced client
 * waits on two things, an echo and the next due time, so it waits in
 * ppoll() on the socket with the time left (nanoseconds; poll()'s
 * milliseconds are longer than the gap at 4000/s) unless read-ahead or
 * GnuTLS already holds input; readable, it reads one record as unpaced
 * (read_record).  Gives up when frames are in flight and nothing has come
 * back for IO_TIMEOUT_S.  Its send loop repeats run_client's, on purpose:
 * the unpaced baseline's code stays as every earlier figure measured it. */
static void run_paced(client *c, readahead *ra, int fd, unsigned long window, uint64_t rate,
                      unsigned char *out, uint64_t start)
{
    const size_t flen = 4 + (size_t)c->size;
    const uint64_t timeout_ns = (uint64_t)IO_TIMEOUT_S * 1000000000u;
    uint64_t idle_since = start; /* the last echo, or the send that ended an idle spell */
    size_t out_off = 0;
    int built = 0;

    while (c->received < c->count) {
        uint64_t now = now_ns(), due = bench_due_count(now - start, rate);
        int blocked = 0;
        if (due > c->count)
            due = c->count;
        if (c->sent == c->received && due > c->sent)
            idle_since = now;
        while (c->sent < due && c->sent - c->received < window) {
            if (!built) {
                build(out, (size_t)c->size, c->sent);
                built = 1;
                out_off = 0;
            }
            /* After GNUTLS_E_AGAIN the same arguments again, as GnuTLS asks. */
            ssize_t r = gnutls_record_send(c->s, out + out_off, flen - out_off);
            if (again(r)) {
                blocked = 1;
                break;
            }
            if (r < 0)
                die("client: send: %s", gnutls_strerror((int)r));
            out_off += (size_t)r;
            if (out_off == flen) {
                built = 0;
                c->sent++;
            }
        }
        if (c->sent > c->received && (ra_buffered(ra) || gnutls_record_check_pending(c->s) > 0)) {
            read_record(c); /* input already here: no wait */
            idle_since = now_ns();
            continue;
        }
        /* Wait for the socket until the next frame is due, or, frames in
         * flight, until the timeout: whichever is first. */
        uint64_t until = UINT64_MAX;
        if (!blocked && c->sent < c->count && c->sent - c->received < window)
            until = start + bench_due_ns(c->sent, rate);
        if (c->sent > c->received || blocked) {
            if (now - idle_since >= timeout_ns)
                die("client: nothing moved for %d s: %" PRIu64 " of %" PRIu64 " echoes",
                    IO_TIMEOUT_S, c->received, c->count);
            if (idle_since + timeout_ns < until)
                until = idle_since + timeout_ns;
        }
        if (until <= now)
            continue;
        struct pollfd pf = { fd, (short)(POLLIN | (blocked ? POLLOUT : 0)), 0 };
        uint64_t wait = until - now;
        struct timespec ts = { (time_t)(wait / 1000000000u), (long)(wait % 1000000000u) };
        int pr = ppoll(&pf, 1, &ts, NULL);
        if (pr < 0 && errno != EINTR)
            die("client: poll: %s", strerror(errno));
        /* Only an echo that is due is read: a read with none due would
         * block (a TLS session ticket alone is no echo). */
        if (pr > 0 && (pf.revents & (POLLIN | POLLHUP | POLLERR)) && c->sent > c->received) {
            read_record(c);
            idle_since = now_ns();
        }
    }
}

static int run_client(const struct opts *o)
{
    const uint64_t count = o->count, size = o->size, window = o->window;
    const size_t flen = 4 + (size_t)size;
    gnutls_certificate_credentials_t cred = client_cred(o);
    unsigned char *out = malloc(flen);
    size_t out_off = 0;
    int fd, built = 0, uncork_due = 0;
    readahead *ra;
    client c;

    if (count == 0 || size < HDR || window == 0)
        die("client: need --count >= 1, --size >= %d, --window >= 1", HDR);
    if (o->rate && o->coalesce)
        die("client: --rate and --coalesce do not go together (a paced run sends a record "
            "per frame)");
    memset(&c, 0, sizeof c);
    c.count = count;
    c.size = size;
    c.in_cap = 4 * flen + 65536;
    c.in = malloc(c.in_cap);
    c.seen = calloc(count, 1);
    c.rtt = malloc(count * sizeof *c.rtt);
    if (!out || !c.in || !c.seen || !c.rtt)
        die("client: out of memory");
    c.s = dial(cred, o->port, &fd, &ra);
    ra->send_flags = MSG_DONTWAIT;
    /* Reads block, but give up when nothing moves. */
    struct timeval tv = { IO_TIMEOUT_S, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    uint64_t start = now_ns();
    if (o->rate)
        run_paced(&c, ra, fd, window, o->rate, out, start);
    while (c.received < count) {
        int blocked = 0;

        /* Send what the window allows, until the socket would block. */
        if (o->coalesce) {
            if (!uncork_due && c.sent < count && c.sent - c.received < window) {
                gnutls_record_cork(c.s);
                for (; c.sent < count && c.sent - c.received < window; c.sent++) {
                    build(out, (size_t)size, c.sent);
                    if (gnutls_record_send(c.s, out, flen) != (ssize_t)flen)
                        die("client: corked send failed");
                }
                uncork_due = 1;
            }
            if (uncork_due) {
                ssize_t r = gnutls_record_uncork(c.s, 0);
                if (r >= 0)
                    uncork_due = 0;
                else if (again(r))
                    blocked = 1;
                else
                    die("client: send: %s", gnutls_strerror((int)r));
            }
        } else {
            while (c.sent < count && c.sent - c.received < window) {
                if (!built) {
                    build(out, (size_t)size, c.sent);
                    built = 1;
                    out_off = 0;
                }
                /* After GNUTLS_E_AGAIN the same arguments again, as GnuTLS asks. */
                ssize_t r = gnutls_record_send(c.s, out + out_off, flen - out_off);
                if (again(r)) {
                    blocked = 1;
                    break;
                }
                if (r < 0)
                    die("client: send: %s", gnutls_strerror((int)r));
                out_off += (size_t)r;
                if (out_off == flen) {
                    built = 0;
                    c.sent++;
                }
            }
        }

        if (c.sent == c.received) {
            /* Blocked with no whole frame out: no echo is due.  Cannot
             * happen on loopback (a full socket means the echo server is
             * not reading), but never sleep in recv() for nothing. */
            struct pollfd pf = { fd, POLLOUT, 0 };
            if (blocked && poll(&pf, 1, IO_TIMEOUT_S * 1000) == 0)
                die("client: nothing moved for %d s (send)", IO_TIMEOUT_S);
            continue;
        }
        /* An echo is due: read one record (from read-ahead when it holds
         * one, else blocking in readv()).  One record per frame: refill the
         * window at once, a steady stream for the echo.  Corked: first
         * every record read-ahead already holds, so that the next cork
         * carries as many frames as there is room for (fewer, larger
         * records: less CPU per frame on both sides). */
        do
            read_record(&c);
        while (o->coalesce && c.received < count &&
               (ra_buffered(ra) || gnutls_record_check_pending(c.s) > 0));
    }
    double secs = (double)(now_ns() - start) / 1e9;
    qsort(c.rtt, count, sizeof *c.rtt, bench_cmp_u64);
    printf("RESULT frames=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f fps=%.0f mbps=%.2f "
           "rtt_p50_us=%.1f rtt_p99_us=%.1f",
           count, count * size, secs, (double)count / secs,
           (double)(count * size) * 8 / 1e6 / secs, (double)c.rtt[count / 2] / 1e3,
           (double)c.rtt[(count * 99) / 100] / 1e3);
    if (o->rate)
        printf(" rate=%lu", o->rate);
    putchar('\n');
    gnutls_deinit(c.s);
    free(ra);
    close(fd);
    gnutls_certificate_free_credentials(cred);
    free(out);
    free(c.in);
    free(c.seen);
    free(c.rtt);
    return 0;
}

static void usage(void)
{
    fputs("usage: raw-tls server --port=0 --cert=F --key=F [--ws]\n"
          "       raw-tls client --port=N --ca=F --count=N --size=B --window=W\n"
          "                      [--coalesce | --rate=R]   (R frames/s, paced; 0: unpaced)\n"
          "       raw-tls handshake --port=N --ca=F --count=N [--hold=H]\n"
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
