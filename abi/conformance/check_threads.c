/*
 * check_threads.c -- the thread contract: close from another thread wakes
 * a blocked recv, recv_many and send (they return PT_ECLOSED) within a
 * bound; close is idempotent, also from several threads at once; free
 * after close, and free without close; one reader and one writer at a
 * time, with stats, local_addr, poll_fd and last_error from a third.
 *
 * A call that close does not wake fails its check; its thread is left
 * inside the plugin and the connection is never freed (the check's
 * process exits instead), so a broken plugin cannot hang the run.
 */
#include "config.h"

#include "conformance.h"
#include "thread_wait.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- A call in another thread --------------------------------------------- */

enum bg_kind { BG_RECV, BG_RECV_MANY, BG_SEND_LOOP, BG_CLOSE };

struct bg {
    struct cx *x;
    pt_conn *c;
    enum bg_kind kind;
    const pt_addr *dst;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pid_t tid;
    int started, done, rc;
    unsigned long sends;       /* BG_SEND_LOOP: how many succeeded */
};

static void *bg_main(void *arg)
{
    struct bg *b = arg;
    unsigned char buf[1200];
    int rc = PT_OK;

    pthread_mutex_lock(&b->lock);
    b->tid = thread_wait_tid();
    b->started = 1;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    switch (b->kind) {
    case BG_RECV:
        rc = b->x->p->recv(b->c, buf, sizeof buf, NULL, -1);
        break;
    case BG_RECV_MANY: {
        pt_rframe r;
        memset(&r, 0, sizeof r);
        r.data = buf;
        r.cap = sizeof buf;
        rc = b->x->p->recv_many(b->c, &r, 1, -1);
        break;
    }
    case BG_SEND_LOOP:
        memset(buf, 0x42, sizeof buf);
        while ((rc = b->x->p->send(b->c, buf, sizeof buf, b->dst)) > 0) {
            pthread_mutex_lock(&b->lock);
            b->sends++;
            pthread_cond_broadcast(&b->cond);
            pthread_mutex_unlock(&b->lock);
        }
        break;
    case BG_CLOSE:
        rc = b->x->p->close(b->c);
        break;
    }
    pthread_mutex_lock(&b->lock);
    b->rc = rc;
    b->done = 1;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

/* Start the call; returns once its thread runs (0), or -1. */
static int bg_start(struct bg *b, struct cx *x, pt_conn *c, enum bg_kind kind,
                    const pt_addr *dst)
{
    pthread_condattr_t attr;
    memset(b, 0, sizeof *b);
    b->x = x;
    b->c = c;
    b->kind = kind;
    b->dst = dst;
    pthread_mutex_init(&b->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&b->thread, NULL, bg_main, b) != 0) {
        cx_fail(x, "pthread_create failed");
        return -1;
    }
    pthread_mutex_lock(&b->lock);
    while (!b->started)
        pthread_cond_wait(&b->cond, &b->lock);
    pthread_mutex_unlock(&b->lock);
    return 0;
}

/* Wait until the call returned (1) or ms passed (0). */
static int bg_wait(struct bg *b, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&b->lock);
    while (!b->done)
        if (pthread_cond_timedwait(&b->cond, &b->lock, &ts) == ETIMEDOUT)
            break;
    int done = b->done;
    pthread_mutex_unlock(&b->lock);
    return done;
}

/* Join a call that returned; a call still inside the plugin is abandoned:
 * its connection is never freed, and the check's process exits. */
static int bg_finish(struct bg *b, int64_t ms, const char *what)
{
    if (!bg_wait(b, ms)) {
        cx_fail(b->x, "%s was still blocked %lld ms after close returned", what, (long long)ms);
        b->x->abandoned = 1;
        return 0;
    }
    pthread_join(b->thread, NULL);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
    return 1;
}

/* ---- Checks ----------------------------------------------------------------- */

/* How long after close a woken call may take to return. */
static int64_t wake_ms(const struct cx *x)
{
    return cx_bound_ms(x, 1000);
}

static void close_wakes(struct cx *x, enum bg_kind kind, const char *what)
{
    struct bg b;
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    if (bg_start(&b, x, c, kind, NULL) != 0)
        goto out;
    if (!thread_wait_sleeping(b.tid)) {
        if (bg_wait(&b, 0))
            cx_fail(x, "%s returned %s at once, with nothing to receive", what,
                    cx_code_name(b.rc));
        else
            cx_fail(x, "%s never slept: is it spinning?", what);
    }
    cx_expect_rc(x, x->p->close(c), PT_OK, "close");
    if (!bg_finish(&b, wake_ms(x), what))
        return; /* abandoned: c stays allocated */
    char call[64];
    snprintf(call, sizeof call, "%s woken by close", what);
    cx_expect_rc(x, b.rc, PT_ECLOSED, call);
out:
    cx_release(x, c);
}

static void close_wakes_recv(struct cx *x)
{
    close_wakes(x, BG_RECV, "recv(timeout -1)");
}

static void close_wakes_recv_many(struct cx *x)
{
    if (CX_HAS(x, recv_many))
        close_wakes(x, BG_RECV_MANY, "recv_many(timeout -1)");
}

/* A writer sending as fast as it can when close comes: its send returns
 * PT_ECLOSED promptly, whether it was blocked (the network pushing back)
 * or not at that moment. */
static void close_wakes_send(struct cx *x)
{
    struct link l;
    struct bg b;
    if (link_open(x, &l) != 0)
        return;
    if (bg_start(&b, x, l.tx, BG_SEND_LOOP, l.has_dst ? &l.dst : NULL) != 0)
        goto out;
    /* Wait for the writer to be well under way. */
    pthread_mutex_lock(&b.lock);
    while (b.sends < 200 && !b.done)
        pthread_cond_wait(&b.cond, &b.lock);
    int done = b.done, rc = b.rc;
    pthread_mutex_unlock(&b.lock);
    if (done) {
        cx_fail(x, "the writer's send returned %s after %lu sends, before any close",
                cx_code_name(rc), b.sends);
        bg_finish(&b, 0, "send");
        goto out;
    }
    char state = thread_wait_state(b.tid);
    cx_note(x, "the writer was %s when close came",
            state == 'S' ? "asleep (blocked in send, or between sends)" : "running");
    cx_expect_rc(x, x->p->close(l.tx), PT_OK, "close");
    if (!bg_finish(&b, wake_ms(x), "the writer's send"))
        return;
    cx_expect_rc(x, b.rc, PT_ECLOSED, "the writer's send after close");
out:
    link_close(&l);
}

static void close_idempotent(struct cx *x)
{
    struct bg b[3];
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    cx_expect_rc(x, x->p->close(c), PT_OK, "close");
    cx_expect_rc(x, x->p->close(c), PT_OK, "close, again");
    x->p->free(c);

    /* From three threads at once. */
    c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    int started = 0;
    for (int i = 0; i < 3; i++)
        if (bg_start(&b[i], x, c, BG_CLOSE, NULL) == 0)
            started++;
    for (int i = 0; i < started; i++) {
        if (!bg_finish(&b[i], wake_ms(x), "a concurrent close"))
            return;
        cx_expect_rc(x, b[i].rc, PT_OK, "close from one of three threads");
    }
    cx_expect_rc(x, x->p->close(c), PT_OK, "close after three concurrent ones");
    x->p->free(c);
}

/* free without close closes first: nothing to observe but that it does
 * not crash, hang or leak (run this under valgrind to see the last). */
static void free_without_close(struct cx *x)
{
    pt_conn *c = cx_dial(x, x->t->node_id);
    if (!c)
        return;
    x->p->free(c);
    cx_pass(x);
    /* And with a datagram waiting in it. */
    struct link l;
    if (link_open(x, &l) != 0)
        return;
    if (link_send(&l, 1, 64) < 0)
        cx_fail(x, "send failed");
    int rc = link_expect(&l, 1, 64, (int)cx_bound_ms(x, 2000), "datagram");
    EXPECT(x, rc == 1, "the datagram did not arrive: %s",
           rc == 0 ? "timed out" : cx_code_name(rc));
    if (link_send(&l, 2, 64) < 0)
        cx_fail(x, "send failed");
    if (l.rx != l.tx)
        x->p->free(l.rx);
    x->p->free(l.tx);
    cx_pass(x);
}

/* One reader and one writer at a time on the same connection(s), and a
 * third thread asking stats, local_addr, poll_fd and last_error. */
#define RW_FRAMES 300
#define RW_WINDOW 16

struct rw {
    struct link *l;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint32_t received;
    int stop, failed;
};

static void *rw_reader(void *arg)
{
    struct rw *s = arg;
    struct cx *x = s->l->x;
    for (uint32_t want = 0; want < RW_FRAMES;) {
        uint32_t seq;
        size_t plen;
        /* A bound per datagram, not for all 300: the writer keeps at most
         * RW_WINDOW in flight, so each arrives soon after the one before,
         * however slow the machine (valgrind) makes the whole run. */
        int rc = link_next(s->l, (int)cx_bound_ms(x, 2000), &seq, &plen);
        if (rc < 0) {
            cx_fail(x, "reader: recv returned %s waiting for datagram %u", cx_code_name(rc),
                    (unsigned)want);
            break;
        }
        if (seq != want) {
            cx_fail(x, "reader: datagram %u arrived, want %u", (unsigned)seq, (unsigned)want);
            break;
        }
        want++;
        pthread_mutex_lock(&s->lock);
        s->received = want;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void *rw_asker(void *arg)
{
    struct rw *s = arg;
    const pt_plugin *p = s->l->p;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        int stop = s->stop;
        pthread_mutex_unlock(&s->lock);
        if (stop)
            break;
        pt_stats st;
        pt_addr a;
        char msg[64];
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        if (p->stats(s->l->tx, &st) != PT_OK || p->local_addr(s->l->rx, &a) != PT_OK ||
            p->poll_fd(s->l->rx) < 0 || p->last_error(s->l->tx, msg, sizeof msg) < -100) {
            __atomic_store_n(&s->failed, 1, __ATOMIC_SEQ_CST);
            break;
        }
        /* Ask often, but leave the CPU to the reader and writer (valgrind
         * runs one thread at a time; a spinning asker starves them). */
        nanosleep(&(struct timespec){ 0, 200000 }, NULL);
    }
    return NULL;
}

static void reader_writer(struct cx *x)
{
    struct link l;
    struct rw s;
    pthread_t reader, asker;
    if (link_open(x, &l) != 0)
        return;
    memset(&s, 0, sizeof s);
    s.l = &l;
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    if (pthread_create(&reader, NULL, rw_reader, &s) != 0) {
        cx_fail(x, "pthread_create failed");
        goto out;
    }
    if (pthread_create(&asker, NULL, rw_asker, &s) != 0) {
        cx_fail(x, "pthread_create failed");
        pthread_mutex_lock(&s.lock);
        s.stop = 1;
        pthread_mutex_unlock(&s.lock);
        x->p->close(l.rx);
        pthread_join(reader, NULL);
        goto out;
    }
    uint32_t sent = 0;
    while (sent < RW_FRAMES) {
        pthread_mutex_lock(&s.lock);
        while (!s.stop && sent >= s.received + RW_WINDOW)
            pthread_cond_wait(&s.cond, &s.lock);
        int stop = s.stop;
        pthread_mutex_unlock(&s.lock);
        if (stop)
            break;
        int rc = link_send(&l, sent, 64 + sent % 200);
        if (rc < 0) {
            cx_fail(x, "writer: send %u returned %s", (unsigned)sent, cx_code_name(rc));
            break;
        }
        sent++;
    }
    if (sent < RW_FRAMES) /* wake the reader if it still waits */
        x->p->close(l.rx);
    pthread_join(reader, NULL);
    pthread_join(asker, NULL);
    EXPECT(x, s.received == RW_FRAMES, "%u of %d datagrams went through", (unsigned)s.received,
           RW_FRAMES);
    EXPECT(x, !s.failed, "stats, local_addr, poll_fd or last_error failed in a third thread");
out:
    pthread_cond_destroy(&s.cond);
    pthread_mutex_destroy(&s.lock);
    link_close(&l);
}

const struct check checks_threads[] = {
    { "threads: close wakes a recv blocked in another thread: PT_ECLOSED", close_wakes_recv },
    { "threads: close wakes a recv_many blocked in another thread: PT_ECLOSED",
      close_wakes_recv_many },
    { "threads: close stops a send in progress in another thread: PT_ECLOSED", close_wakes_send },
    { "threads: close is idempotent, also from three threads at once", close_idempotent },
    { "threads: free without close, also with a datagram waiting", free_without_close },
    { "threads: one reader and one writer, stats and the rest from a third thread",
      reader_writer },
    { NULL, NULL },
};
