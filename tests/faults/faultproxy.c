/*
 * faultproxy.c -- the fault-injecting loopback TCP proxy (faultproxy.h).
 *
 * One thread runs a poll loop over the listening socket, a wake-up eventfd
 * and both sockets of every connection.  Each direction copies from its
 * source socket into a ring buffer and from the ring to its destination;
 * the fault decides how much is read (stall and cut read exactly up to
 * their offset, never beyond, so the rest backs up in the sender's kernel
 * buffers) and when the bytes may go out (delay holds each chunk, trickle
 * writes one byte at a time).  Everything the API reads is guarded by one
 * mutex, which the loop holds except while it sleeps in poll.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "faultproxy.h"
#include "harness.h" /* now_ms, deadline_after_ms */

#define RING_CAP (128 * 1024)
#define READ_MAX 16384
#define MARKS 256
#define NO_LIMIT UINT64_MAX

/* A run of bytes read together and when it may be written out. */
struct mark {
    uint64_t end;       /* stream offset just past the run */
    int64_t release_ms;
};

struct way { /* one direction of a connection */
    fp_fault f;
    uint64_t limit;     /* stall/cut/reset: stream offset where it fires */
    unsigned char *ring;
    uint64_t rd, wr;    /* bytes taken from the source, written to the destination */
    struct mark marks[MARKS];
    size_t mhead, mcount;
    int64_t next_write_ms; /* trickle: not before */
    int eof, shut;
    /* The TLS record layer as it goes by (stops at the first non-TLS header). */
    unsigned char hdr[5];
    int hdr_have, parse_dead;
    uint64_t body_left, hdr_off, hdr_other;
    fp_record rec[FP_MAX_RECORDS];
    size_t nrec;
};

struct conn {
    int fd[2];          /* [0] the client, [1] the target */
    int open, fired, closed;
    int64_t fired_ms;
    struct way d[2];    /* FP_UP: fd[0] -> fd[1]; FP_DOWN: fd[1] -> fd[0] */
};

struct fp_proxy {
    int lfd, wake_fd, port, target_port;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    fp_fault deflt[2];
    int n_faulty[2];
    struct conn conns[FP_MAX_CONNS];
    int nconns;
};

static int src_fd(const struct conn *c, int w)
{
    return c->fd[w == FP_UP ? 0 : 1];
}

static int dst_fd(const struct conn *c, int w)
{
    return c->fd[w == FP_UP ? 1 : 0];
}

static int is_cut(int kind)
{
    return kind == FP_STALL || kind == FP_CUT || kind == FP_RESET;
}

static void wake(fp_proxy *p)
{
    uint64_t one = 1;
    ssize_t r = write(p->wake_fd, &one, sizeof one);
    (void)r;
}

static void set_fault(struct way *d, fp_fault f, uint64_t base)
{
    d->f = f;
    d->limit = is_cut(f.kind) ? base + f.at : NO_LIMIT;
    d->next_write_ms = 0;
}

/* ---- Closing ------------------------------------------------------------ */

/* Give the kernel a moment to hand what was written to the peer before a
 * reset throws the send queue away (bounded: loopback drains at once). */
static void drain_outq(int fd)
{
    for (int i = 0; i < 100; i++) {
        int q = 0;
        if (ioctl(fd, SIOCOUTQ, &q) != 0 || q == 0)
            return;
        struct pollfd none = { -1, 0, 0 };
        poll(&none, 0, 1);
    }
}

/* Throw away what the peer sent and we have not read: closing a socket
 * with unread data sends RST, and a FIN cut must stay a FIN. */
static void discard_inq(int fd)
{
    char junk[4096];
    while (recv(fd, junk, sizeof junk, MSG_DONTWAIT) > 0)
        ;
}

static void close_conn(fp_proxy *p, struct conn *c, int reset)
{
    if (!c->open)
        return;
    for (int i = 0; i < 2; i++) {
        if (reset) {
            struct linger lg = { 1, 0 };
            drain_outq(c->fd[i]);
            setsockopt(c->fd[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        } else {
            shutdown(c->fd[i], SHUT_WR); /* the FIN goes first, whatever comes */
            discard_inq(c->fd[i]);
        }
        close(c->fd[i]);
        c->fd[i] = -1;
        free(c->d[i].ring);
        c->d[i].ring = NULL;
    }
    c->open = 0;
    c->closed = 1;
    pthread_cond_broadcast(&p->cv);
}

/* ---- Accepting ---------------------------------------------------------- */

static void nonblock_nodelay(int fd)
{
    int one = 1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void accept_one(fp_proxy *p)
{
    struct sockaddr_in sin;
    int cfd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    int tfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)p->target_port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (tfd < 0 || connect(tfd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        printf("# faultproxy: connect to port %d: %s\n", p->target_port, strerror(errno));
        if (tfd >= 0)
            close(tfd);
        close(cfd);
        return;
    }
    nonblock_nodelay(cfd);
    nonblock_nodelay(tfd);
    int n = p->nconns;
    struct conn *c = &p->conns[n];
    memset(c, 0, sizeof *c);
    c->fd[0] = cfd;
    c->fd[1] = tfd;
    c->open = 1;
    for (int w = 0; w < 2; w++) {
        int faulty = p->n_faulty[w] < 0 || n < p->n_faulty[w];
        fp_fault pass = { FP_PASS, 0, 0 };
        set_fault(&c->d[w], faulty ? p->deflt[w] : pass, 0);
        c->d[w].ring = malloc(RING_CAP);
    }
    if (!c->d[0].ring || !c->d[1].ring) {
        close_conn(p, c, 0);
        return;
    }
    p->nconns++;
    pthread_cond_broadcast(&p->cv);
}

/* ---- Moving bytes ------------------------------------------------------- */

static void parse_records(struct way *d, uint64_t other_wr, const unsigned char *b, size_t n,
                          uint64_t off)
{
    size_t i = 0;
    while (i < n && !d->parse_dead) {
        if (d->body_left) {
            size_t k = n - i < d->body_left ? n - i : (size_t)d->body_left;
            d->body_left -= k;
            i += k;
            continue;
        }
        if (d->hdr_have == 0) {
            d->hdr_off = off + i;
            d->hdr_other = other_wr;
        }
        d->hdr[d->hdr_have++] = b[i++];
        if (d->hdr_have < 5)
            continue;
        d->hdr_have = 0;
        if (d->hdr[0] < 20 || d->hdr[0] > 24 || d->hdr[1] != 3) {
            d->parse_dead = 1; /* not TLS (plaintext ws://) */
            break;
        }
        d->body_left = (uint64_t)d->hdr[3] << 8 | d->hdr[4];
        if (d->nrec < FP_MAX_RECORDS)
            d->rec[d->nrec++] = (fp_record){ d->hdr_off, d->hdr[0], (uint16_t)d->body_left,
                                             d->hdr_other };
    }
}

static int can_read(const struct way *d)
{
    return d->ring && !d->eof && d->rd < d->limit && d->rd - d->wr < RING_CAP &&
           d->mcount < MARKS;
}

/* Bytes that may be written now (delay: released marks only). */
static size_t releasable(struct way *d, int64_t now)
{
    uint64_t end = d->wr;
    while (d->mcount && d->marks[d->mhead].end <= d->wr) {
        d->mhead = (d->mhead + 1) % MARKS;
        d->mcount--;
    }
    for (size_t i = 0; i < d->mcount; i++) {
        const struct mark *m = &d->marks[(d->mhead + i) % MARKS];
        if (m->release_ms > now)
            break;
        end = m->end;
    }
    return (size_t)(end - d->wr);
}

static int64_t next_release(const struct way *d)
{
    for (size_t i = 0; i < d->mcount; i++) {
        const struct mark *m = &d->marks[(d->mhead + i) % MARKS];
        if (m->end > d->wr)
            return m->release_ms;
    }
    return -1;
}

static int want_write(struct way *d, int64_t now)
{
    return d->ring && releasable(d, now) > 0 &&
           (d->f.kind != FP_TRICKLE || now >= d->next_write_ms);
}

/* Read what the fault allows; -1 when the connection must close (reset
 * set if it should be reset). */
static int do_read(struct conn *c, int w, int64_t now, int *reset)
{
    struct way *d = &c->d[w];
    size_t pos = (size_t)(d->rd % RING_CAP);
    size_t room = RING_CAP - (size_t)(d->rd - d->wr);
    size_t n = RING_CAP - pos < room ? RING_CAP - pos : room;
    if (n > READ_MAX)
        n = READ_MAX;
    if (d->limit != NO_LIMIT && d->limit - d->rd < n)
        n = (size_t)(d->limit - d->rd);
    if (n == 0)
        return 0; /* a fault armed while the loop slept: read nothing (not EOF) */
    ssize_t r = read(src_fd(c, w), d->ring + pos, n);
    if (r < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return 0;
        *reset = errno == ECONNRESET;
        return -1;
    }
    if (r == 0) {
        d->eof = 1;
        return 0;
    }
    parse_records(d, c->d[!w].wr, d->ring + pos, (size_t)r, d->rd);
    d->rd += (uint64_t)r;
    d->marks[(d->mhead + d->mcount) % MARKS] =
        (struct mark){ d->rd, now + (d->f.kind == FP_DELAY ? d->f.ms : 0) };
    d->mcount++;
    return 0;
}

/* Trickling back to back: this many one-byte writes per wake-up (each
 * its own segment under TCP_NODELAY), which spares a poll per byte. */
#define TRICKLE_BURST 32

static int do_write(struct conn *c, int w, int64_t now, int *reset)
{
    struct way *d = &c->d[w];
    int trickle = d->f.kind == FP_TRICKLE;
    int writes = trickle && d->f.ms == 0 ? TRICKLE_BURST : 1;
    while (writes-- > 0) {
        size_t n = releasable(d, now);
        size_t pos = (size_t)(d->wr % RING_CAP);
        if (n > RING_CAP - pos)
            n = RING_CAP - pos;
        if (trickle && n > 1)
            n = 1;
        if (n == 0)
            return 0;
        ssize_t wrote = write(dst_fd(c, w), d->ring + pos, n);
        if (wrote < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            *reset = errno == ECONNRESET;
            return -1;
        }
        d->wr += (uint64_t)wrote;
        if (trickle)
            d->next_write_ms = now + d->f.ms;
    }
    return 0;
}

/* After I/O: fire faults whose offset was reached, pass EOFs on, close
 * what is finished. */
static void settle(fp_proxy *p, struct conn *c, int64_t now)
{
    for (int w = 0; w < 2 && c->open; w++) {
        struct way *d = &c->d[w];
        if (is_cut(d->f.kind) && d->wr >= d->limit && !(c->fired & (1 << w))) {
            c->fired |= 1 << w;
            c->fired_ms = now;
            pthread_cond_broadcast(&p->cv);
            if (d->f.kind != FP_STALL) {
                close_conn(p, c, d->f.kind == FP_RESET);
                return;
            }
        }
        if (d->eof && d->wr == d->rd && !d->shut) {
            shutdown(dst_fd(c, w), SHUT_WR);
            d->shut = 1;
        }
    }
    if (!c->open)
        return;
    int stalled_up = (c->fired & 1) && c->d[FP_UP].f.kind == FP_STALL;
    int stalled_down = (c->fired & 2) && c->d[FP_DOWN].f.kind == FP_STALL;
    /* Both directions finished, or one side left while the other direction
     * is stalled (it would never finish). */
    if ((c->d[0].shut && c->d[1].shut) || (c->d[FP_UP].eof && stalled_down) ||
        (c->d[FP_DOWN].eof && stalled_up))
        close_conn(p, c, 0);
}

/* ---- The loop ----------------------------------------------------------- */

enum { SLOT_SRC, SLOT_DST };

static void *loop_main(void *arg)
{
    fp_proxy *p = arg;
    struct pollfd pfd[2 + FP_MAX_CONNS * 4];
    int who[2 + FP_MAX_CONNS * 4][3]; /* conn, way, slot */

    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        int64_t now = now_ms(), next = -1;
        int n = 0;
        pfd[n++] = (struct pollfd){ p->wake_fd, POLLIN, 0 };
        pfd[n++] = (struct pollfd){ p->nconns < FP_MAX_CONNS ? p->lfd : -1, POLLIN, 0 };
        for (int i = 0; i < p->nconns; i++) {
            struct conn *c = &p->conns[i];
            if (!c->open)
                continue;
            for (int w = 0; w < 2; w++) {
                struct way *d = &c->d[w];
                short ev = 0;
                if (can_read(d))
                    ev = POLLIN;
                else if (c->fired & (1 << w))
                    ev = POLLRDHUP; /* stalled: only notice the sender leaving */
                if (ev) {
                    who[n][0] = i, who[n][1] = w, who[n][2] = SLOT_SRC;
                    pfd[n++] = (struct pollfd){ src_fd(c, w), ev, 0 };
                }
                if (want_write(d, now)) {
                    who[n][0] = i, who[n][1] = w, who[n][2] = SLOT_DST;
                    pfd[n++] = (struct pollfd){ dst_fd(c, w), POLLOUT, 0 };
                } else {
                    int64_t t = releasable(d, now) > 0 ? d->next_write_ms : next_release(d);
                    if (t >= 0 && (next < 0 || t < next))
                        next = t;
                }
            }
        }
        int timeout = next < 0 ? -1 : next <= now ? 0 : (int)(next - now);
        pthread_mutex_unlock(&p->mu);
        int ready = poll(pfd, (nfds_t)n, timeout);
        pthread_mutex_lock(&p->mu);
        if (ready < 0 && errno != EINTR)
            break;
        now = now_ms();
        if (pfd[0].revents) {
            uint64_t v;
            ssize_t r = read(p->wake_fd, &v, sizeof v);
            (void)r;
        }
        if (pfd[1].revents & POLLIN)
            accept_one(p);
        for (int k = 2; k < n; k++) {
            struct conn *c = &p->conns[who[k][0]];
            int w = who[k][1], reset = 0, rc = 0;
            if (!pfd[k].revents || !c->open)
                continue;
            if (who[k][2] == SLOT_SRC) {
                if (pfd[k].events & POLLIN)
                    rc = do_read(c, w, now, &reset);
                else
                    rc = -1; /* the stalled sender left */
            } else {
                rc = do_write(c, w, now, &reset);
            }
            if (rc < 0)
                close_conn(p, c, reset);
            else
                settle(p, c, now);
        }
        /* Faults armed at the current offset fire without any I/O. */
        for (int i = 0; i < p->nconns; i++)
            if (p->conns[i].open)
                settle(p, &p->conns[i], now);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- API ---------------------------------------------------------------- */

fp_proxy *fp_start(int target_port)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    pthread_condattr_t ca;
    fp_proxy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->target_port = target_port;
    p->n_faulty[0] = p->n_faulty[1] = -1;
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (p->lfd < 0 || p->wake_fd < 0 || bind(p->lfd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        listen(p->lfd, 16) != 0 || getsockname(p->lfd, (struct sockaddr *)&sin, &sl) != 0) {
        printf("# faultproxy: listen: %s\n", strerror(errno));
        goto fail;
    }
    p->port = ntohs(sin.sin_port);
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&p->thread, NULL, loop_main, p) != 0) {
        printf("# faultproxy: no thread\n");
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        goto fail;
    }
    return p;
fail:
    if (p->lfd >= 0)
        close(p->lfd);
    if (p->wake_fd >= 0)
        close(p->wake_fd);
    free(p);
    return NULL;
}

void fp_stop(fp_proxy *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    wake(p);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    for (int i = 0; i < p->nconns; i++)
        close_conn(p, &p->conns[i], 0);
    close(p->lfd);
    close(p->wake_fd);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int fp_port(const fp_proxy *p)
{
    return p->port;
}

void fp_set(fp_proxy *p, int w, fp_fault f, int n_faulty)
{
    pthread_mutex_lock(&p->mu);
    p->deflt[w] = f;
    p->n_faulty[w] = n_faulty;
    pthread_mutex_unlock(&p->mu);
}

int fp_arm(fp_proxy *p, int conn, int w, fp_fault f)
{
    int rc = -1;
    pthread_mutex_lock(&p->mu);
    if (conn >= 0 && conn < p->nconns && p->conns[conn].open) {
        struct way *d = &p->conns[conn].d[w];
        set_fault(d, f, d->rd);
        rc = 0;
        wake(p);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* Wait on the condition variable until pred holds or timeout_ms passes. */
static int wait_for(fp_proxy *p, int (*pred)(fp_proxy *, int, int), int a, int b, int timeout_ms)
{
    struct timespec ts = deadline_after_ms(CLOCK_MONOTONIC, timeout_ms);
    int ok;
    pthread_mutex_lock(&p->mu);
    while (!(ok = pred(p, a, b)))
        if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) == ETIMEDOUT) {
            ok = pred(p, a, b);
            break;
        }
    pthread_mutex_unlock(&p->mu);
    return ok;
}

static int accepted_at_least(fp_proxy *p, int n, int unused)
{
    (void)unused;
    return p->nconns >= n;
}

static int conn_fired(fp_proxy *p, int conn, int unused)
{
    (void)unused;
    return conn < p->nconns && p->conns[conn].fired;
}

static int conn_closed(fp_proxy *p, int conn, int unused)
{
    (void)unused;
    return conn < p->nconns && p->conns[conn].closed;
}

int fp_wait_accepted(fp_proxy *p, int n, int timeout_ms)
{
    return wait_for(p, accepted_at_least, n, 0, timeout_ms);
}

int fp_wait_fired(fp_proxy *p, int conn, int timeout_ms)
{
    return wait_for(p, conn_fired, conn, 0, timeout_ms);
}

int fp_wait_closed(fp_proxy *p, int conn, int timeout_ms)
{
    return wait_for(p, conn_closed, conn, 0, timeout_ms);
}

int fp_accepted(fp_proxy *p)
{
    pthread_mutex_lock(&p->mu);
    int n = p->nconns;
    pthread_mutex_unlock(&p->mu);
    return n;
}

int64_t fp_fired_at(fp_proxy *p, int conn)
{
    pthread_mutex_lock(&p->mu);
    int64_t t = conn < p->nconns && p->conns[conn].fired ? p->conns[conn].fired_ms : 0;
    pthread_mutex_unlock(&p->mu);
    return t;
}

uint64_t fp_bytes(fp_proxy *p, int conn, int w)
{
    pthread_mutex_lock(&p->mu);
    uint64_t n = conn < p->nconns ? p->conns[conn].d[w].wr : 0;
    pthread_mutex_unlock(&p->mu);
    return n;
}

size_t fp_records(fp_proxy *p, int conn, int w, fp_record *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&p->mu);
    if (conn < p->nconns) {
        const struct way *d = &p->conns[conn].d[w];
        n = d->nrec < max ? d->nrec : max;
        memcpy(out, d->rec, n * sizeof *out);
    }
    pthread_mutex_unlock(&p->mu);
    return n;
}
