/*
 * tls-floor.c -- the simplest GnuTLS echo there is, as a yardstick for the
 * benchmark's baseline (raw-tls.c): bench.sh runs both in the same run and
 * warns when raw-tls is more than a few percent slower, so the baseline
 * cannot quietly weaken again.  It shares no I/O code with raw-tls: one
 * thread on each side, blocking calls, gnutls_record_recv then
 * gnutls_record_send, and a short read-ahead under GnuTLS (without it
 * GnuTLS reads each record with two recv() calls).  Benchmark code.
 *
 *   tls-floor server --port=0 --cert=F --key=F
 *       Prints "READY port=N"; serves one connection at a time, echoing
 *       each TLS record it receives as one record.
 *
 *   tls-floor client --port=N --ca=F --count=N --size=B --window=W
 *       The frames and the RESULT line of raw-tls client (no --coalesce).
 *       It sends W frames, then one more for each echo it has read.  Its
 *       sends block, so the window's bytes must fit in the loopback
 *       socket buffers (megabytes once TCP has tuned them; bench.sh sends
 *       at most 64 x 16 KiB): past that it would stall, and the socket
 *       timeouts turn the stall into an error after 10 s.
 */
#include "config.h"

#include "bench_frame.h"
#include "bench_util.h"
#include "byteorder.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define MAX_SIZE (1u << 20)

const char bench_prog[] = "tls-floor";

/* Read-ahead: one recv() fills buf, GnuTLS's header and body reads are
 * served from it.  Installed after the handshake, so the handshake's own
 * timed reads (which poll the socket) never miss bytes held here. */
struct conn {
    int fd;
    unsigned char *at;
    size_t have;
    unsigned char buf[65536];
};

static ssize_t pull(gnutls_transport_ptr_t ptr, void *data, size_t n)
{
    struct conn *c = ptr;
    if (c->have == 0) {
        ssize_t r = recv(c->fd, c->buf, sizeof c->buf, 0);
        if (r <= 0)
            return r; /* GnuTLS reads errno */
        c->at = c->buf;
        c->have = (size_t)r;
    }
    if (n > c->have)
        n = c->have;
    memcpy(data, c->at, n);
    c->at += n;
    c->have -= n;
    return (ssize_t)n;
}

static void read_ahead(gnutls_session_t s, struct conn *c)
{
    c->have = 0;
    gnutls_transport_set_ptr2(s, c, (gnutls_transport_ptr_t)(intptr_t)c->fd);
    gnutls_transport_set_pull_function(s, pull);
}

static void handshake(gnutls_session_t s, int fd)
{
    int one = 1, rc;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    gnutls_transport_set_int(s, fd);
    do
        rc = gnutls_handshake(s);
    while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc < 0)
        die("handshake: %s", gnutls_strerror(rc));
}

static int server(const char *cert, const char *key, unsigned long port)
{
    gnutls_certificate_credentials_t cred;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    socklen_t sl = sizeof sa;
    static unsigned char buf[16384];
    static struct conn c;
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    if (!cert || !key || gnutls_certificate_allocate_credentials(&cred) != 0 ||
        gnutls_certificate_set_x509_key_file(cred, cert, key, GNUTLS_X509_FMT_PEM) != 0)
        die("server: need --cert and --key");
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 16) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
        die("server: listen: %s", strerror(errno));
    printf("READY port=%u\n", ntohs(sa.sin_port));
    fflush(stdout);
    for (;;) {
        gnutls_session_t s;
        if ((c.fd = accept(lfd, NULL, NULL)) < 0)
            continue;
        gnutls_init(&s, GNUTLS_SERVER);
        gnutls_priority_set_direct(s, PRIORITY, NULL);
        gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
        handshake(s, c.fd);
        read_ahead(s, &c);
        for (;;) {
            ssize_t n = gnutls_record_recv(s, buf, sizeof buf);
            if (n <= 0 || gnutls_record_send(s, buf, (size_t)n) != n)
                break;
        }
        gnutls_deinit(s);
        close(c.fd);
    }
}

/* Read whole frames from the session until one more echo is checked. */
struct echoes {
    unsigned char *in;
    size_t len, cap;
    uint64_t got, *rtt;
};

static void read_echo(gnutls_session_t s, struct echoes *e, uint64_t size)
{
    size_t flen = 4 + (size_t)size;
    while (e->len < flen) {
        ssize_t n = gnutls_record_recv(s, e->in + e->len, e->cap - e->len);
        if (n <= 0)
            die("client: recv: %s", n ? gnutls_strerror((int)n) : "closed");
        e->len += (size_t)n;
    }
    const unsigned char *f = e->in + 4;
    uint64_t now = now_ns(), seq = bench_get64(f); /* the time first: checks are not the transport's */
    if (ptu_get32(e->in) != size || seq != e->got)
        die("client: unexpected echo (sequence %" PRIu64 ", want %" PRIu64 ")", seq, e->got);
    if (bench_first_bad(f, size, seq) < size)
        die("client: echo %" PRIu64 " corrupted", seq);
    e->rtt[e->got++] = now - bench_get64(f + 8);
    e->len -= flen;
    memmove(e->in, e->in + flen, e->len);
}

static void send_frame(gnutls_session_t s, unsigned char *out, uint64_t size, uint64_t seq)
{
    size_t flen = 4 + (size_t)size, off = 0;
    ptu_put32(out, (uint32_t)size);
    bench_fill(out + 4, size, seq);
    bench_put64(out + 12, now_ns()); /* last: the round trip is the transport's */
    while (off < flen) {
        ssize_t n = gnutls_record_send(s, out + off, flen - off);
        if (n < 0)
            die("client: send: %s", gnutls_strerror((int)n));
        off += (size_t)n;
    }
}

static int client(const char *ca, unsigned long port, uint64_t count, uint64_t size,
                  uint64_t window)
{
    gnutls_certificate_credentials_t cred;
    gnutls_session_t s;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    struct timeval tv = { 10, 0 };
    static struct conn c;
    struct echoes e = { 0 };

    if (count == 0 || size < BENCH_FRAME_HDR || window == 0)
        die("client: need --count >= 1, --size >= %d, --window >= 1", BENCH_FRAME_HDR);
    if (!ca || gnutls_certificate_allocate_credentials(&cred) != 0 ||
        gnutls_certificate_set_x509_trust_file(cred, ca, GNUTLS_X509_FMT_PEM) <= 0)
        die("client: need --ca");
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c.fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("client: connect: %s", strerror(errno));
    setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    gnutls_init(&s, GNUTLS_CLIENT);
    gnutls_priority_set_direct(s, PRIORITY, NULL);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", strlen("localhost"));
    gnutls_session_set_verify_cert(s, "localhost", 0);
    handshake(s, c.fd);
    read_ahead(s, &c);

    unsigned char *out = malloc(4 + size);
    e.cap = 2 * (4 + size) + 16384;
    e.in = malloc(e.cap);
    e.rtt = malloc(count * sizeof *e.rtt);
    if (!out || !e.in || !e.rtt)
        die("client: out of memory");
    uint64_t start = now_ns(), sent = 0;
    while (e.got < count) {
        for (; sent < count && sent - e.got < window; sent++)
            send_frame(s, out, size, sent);
        read_echo(s, &e, size);
    }
    double secs = (double)(now_ns() - start) / 1e9;
    qsort(e.rtt, count, sizeof *e.rtt, bench_cmp_u64);
    printf("RESULT frames=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f fps=%.0f mbps=%.2f "
           "rtt_p50_us=%.1f rtt_p99_us=%.1f\n",
           count, count * size, secs, (double)count / secs,
           (double)(count * size) * 8 / 1e6 / secs, (double)e.rtt[count / 2] / 1e3,
           (double)e.rtt[(count * 99) / 100] / 1e3);
    gnutls_deinit(s);
    close(c.fd);
    gnutls_certificate_free_credentials(cred);
    free(out);
    free(e.in);
    free(e.rtt);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *ca = NULL;
    unsigned long port = 0, count = 1000, size = 1200, window = 1;
    const struct bench_flag flags[] = {
        { "cert", &cert, NULL, 0, NULL },
        { "key", &key, NULL, 0, NULL },
        { "ca", &ca, NULL, 0, NULL },
        { "port", NULL, &port, 65535, NULL },
        { "count", NULL, &count, 100000000, NULL },
        { "size", NULL, &size, MAX_SIZE, NULL },
        { "window", NULL, &window, 1000000, NULL },
        { NULL, NULL, NULL, 0, NULL },
    };

    if (argc < 2 || (strcmp(argv[1], "server") != 0 && strcmp(argv[1], "client") != 0)) {
        fputs("usage: tls-floor server --port=0 --cert=F --key=F\n"
              "       tls-floor client --port=N --ca=F --count=N --size=B --window=W\n",
              stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    bench_parse_flags(argc, argv, 2, flags);
    if (gnutls_global_init() != 0)
        die("gnutls_global_init failed");
    if (strcmp(argv[1], "server") == 0)
        return server(cert, key, port);
    return client(ca, port, count, size, window);
}
