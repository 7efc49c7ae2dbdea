/*
 * recv-cost.c -- the benchmark's receive-side figure (issue 12): the CPU a
 * host's receiving thread spends per 100k inbound frames when it reads them
 * one recv per frame, and with recv_many (ABI 1.2) in batches of --batch:
 *
 *   recv-cost --transport=udp [--size=1200] [--frames=100000] [--batch=32] [--burst=64]
 *   recv-cost --transport=wss --port=N --ca=F --identity=F --node-id=N [...]
 *
 * The flood comes in bursts, so that both ways read the same backlog (a
 * host that is behind, which is when its receive CPU matters): a sender
 * thread of this process sends --burst frames of --size bytes with
 * send_many and says so on an eventfd; the receiving thread (main) wakes,
 * reads the burst, and says so on another, and the next burst goes out.
 * udp: the burst goes from a second UDP connection straight to the
 * receiving one and is all queued before the reader starts (it must fit
 * the socket buffer: a lost frame stops the program with a message).  wss:
 * the burst goes out on the receiving connection itself to an echo peer
 * (raw-tls server --ws), which sends it back; the reader waits for frames
 * still on their way.  Each burst costs the reader one wake-up and one
 * eventfd write either way.  It reads a warm-up of --frames/10, then
 * --frames more; its CPU over those is getrusage(RUSAGE_THREAD), user +
 * system.  Each way gets a fresh connection; buffers are PT_MAX_FRAME
 * bytes, as a host that cannot know the size would use.
 *
 * Prints one line:
 *   RESULT transport=udp size=1200 frames=100000 batch=32 burst=64
 *          recv_cpu_s=A recv_many_cpu_s=B ratio=R frames_per_call=F
 * (CPU seconds per 100k frames; ratio = A/B; frames_per_call: how many a
 * recv_many call returned on average), with n/a for the recv_many figures
 * when the plugin has no recv_many.  Benchmark code, not product.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_conn.h"

#define MAX_BATCH 256
#define MAX_BURST 4096
#define RECV_TIMEOUT_MS 10000

const char bench_prog[] = "recv-cost";

struct flood {
    const pt_plugin *p;
    pt_conn *c;          /* the connection the sender sends on */
    pt_addr dst;         /* udp: the receiver's address */
    size_t size, burst;
    int queued_fd;       /* eventfd: the sender has sent a burst */
    int drained_fd;      /* eventfd: the reader has read it */
    atomic_int stop;
    pthread_t thread;
};

static void signal_fd(int fd)
{
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) != (ssize_t)sizeof one)
        die("eventfd write: %s", strerror(errno));
}

static void wait_fd(int fd)
{
    uint64_t v;
    if (read(fd, &v, sizeof v) != (ssize_t)sizeof v)
        die("eventfd read: %s", strerror(errno));
}

static void *flood_main(void *arg)
{
    struct flood *f = arg;
    static unsigned char frame[PT_MAX_FRAME];
    static pt_frame burst[MAX_BURST];
    for (size_t i = 0; i < f->burst; i++)
        burst[i] = (pt_frame){ frame, f->size, &f->dst };
    for (;;) {
        size_t sent = 0;
        while (sent < f->burst) {
            int rc = f->p->send_many(f->c, burst + sent, f->burst - sent);
            if (rc == PT_ECLOSED || atomic_load(&f->stop))
                return NULL;
            if (rc < 0 && rc != PT_ERECONNECTING) {
                fprintf(stderr, "%s: flood: send_many: %s\n", bench_prog, pt_strerror(rc));
                return NULL;
            }
            sent += rc > 0 ? (size_t)rc : 0;
        }
        signal_fd(f->queued_fd);
        wait_fd(f->drained_fd);
        if (atomic_load(&f->stop))
            return NULL;
    }
}

static double thread_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        die("getrusage: %s", strerror(errno));
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Read n frames (whole bursts) from f's receiver rx, one recv each (batch
 * 0) or with recv_many; adds to *calls the calls made. */
static void drain(struct flood *f, pt_conn *rx, unsigned long n, unsigned long batch,
                  unsigned long *calls)
{
    static unsigned char buf[PT_MAX_FRAME];
    static unsigned char pool[MAX_BATCH][PT_MAX_FRAME];
    static pt_rframe slots[MAX_BATCH];
    unsigned long got = 0;

    for (unsigned long i = 0; i < batch; i++)
        slots[i] = (pt_rframe){ .data = pool[i], .cap = sizeof pool[i] };
    while (got < n) {
        size_t left = f->burst;
        wait_fd(f->queued_fd);
        while (left > 0) {
            size_t want = batch < left ? batch : left;
            int rc = batch ? f->p->recv_many(rx, slots, want, RECV_TIMEOUT_MS)
                           : f->p->recv(rx, buf, sizeof buf, NULL, RECV_TIMEOUT_MS);
            if (rc == PT_ETIMEDOUT)
                die("%s: no frame for %d ms after %lu: frames were lost (a burst of %zu "
                    "must fit the receiving socket's buffer: use a smaller --burst)",
                    batch ? "recv_many" : "recv", RECV_TIMEOUT_MS, got, f->burst);
            if (rc < 0)
                die("%s: %s after %lu frames", batch ? "recv_many" : "recv", pt_strerror(rc),
                    got);
            left -= batch ? (size_t)rc : 1;
            got += batch ? (unsigned long)rc : 1;
            (*calls)++;
        }
        signal_fd(f->drained_fd);
    }
}

struct setup {
    const char *transport;
    struct bench_dial wss;
    size_t size, burst;
};

/* A fresh receiving connection and its flood, running. */
static pt_conn *start(struct setup *s, struct flood *f)
{
    char err[PT_ERRMSG_MAX];
    pt_conn *rx = NULL;
    memset(f, 0, sizeof *f);
    f->size = s->size;
    f->burst = s->burst;
    f->queued_fd = eventfd(0, EFD_CLOEXEC);
    f->drained_fd = eventfd(0, EFD_CLOEXEC);
    if (f->queued_fd < 0 || f->drained_fd < 0)
        die("eventfd: %s", strerror(errno));
    if (strcmp(s->transport, "wss") == 0) {
        f->p = s->wss.p;
        if (f->p->dial(&s->wss.dp, &rx, err, sizeof err) != PT_OK)
            die("dial %s: %s", s->wss.url, err);
        f->c = rx; /* the echo peer sends the flood back */
    } else {
        pt_option bind = { "bind", "127.0.0.1:0" };
        pt_dial_params dp = PT_DIAL_PARAMS_INIT;
        dp.options = &bind;
        dp.n_options = 1;
        if (pt_loader_open("udp", NULL, &f->p, err, sizeof err) != PT_OK)
            die("%s", err);
        if (f->p->dial(&dp, &rx, err, sizeof err) != PT_OK ||
            f->p->dial(&dp, &f->c, err, sizeof err) != PT_OK)
            die("udp dial: %s", err);
        f->p->local_addr(rx, &f->dst);
    }
    if (pthread_create(&f->thread, NULL, flood_main, f) != 0)
        die("pthread_create failed");
    return rx;
}

static void stop(struct flood *f, pt_conn *rx)
{
    atomic_store(&f->stop, 1);
    signal_fd(f->drained_fd); /* it may wait for the last burst's */
    f->p->close(f->c);        /* or be held back by the echo peer */
    pthread_join(f->thread, NULL);
    if (f->c != rx) {
        f->p->free(f->c);
        f->p->close(rx);
    }
    f->p->free(rx);
    close(f->queued_fd);
    close(f->drained_fd);
}

/* CPU seconds per 100k frames of one way of reading (batch 0: recv). */
static double measure(struct setup *s, unsigned long frames, unsigned long batch,
                      double *per_call)
{
    struct flood f;
    unsigned long calls = 0, warm = frames / 10 + 1;
    pt_conn *rx = start(s, &f);
    /* Whole bursts: the sender is waiting for the reader after each. */
    warm = (warm + s->burst - 1) / s->burst * s->burst;
    frames = (frames + s->burst - 1) / s->burst * s->burst;
    drain(&f, rx, warm, batch, &calls);
    calls = 0;
    double t0 = thread_cpu_s();
    drain(&f, rx, frames, batch, &calls);
    double cpu = thread_cpu_s() - t0;
    stop(&f, rx);
    *per_call = (double)frames / (double)calls;
    return cpu / (double)frames * 100000.0;
}

int main(int argc, char **argv)
{
    const char *transport = "udp", *ca = NULL, *identity = NULL;
    unsigned long port = 0, node_id = 0, size = 1200, frames = 100000, batch = 32, burst = 64;
    struct setup s;
    double per_call;

    const struct bench_flag flags[] = {
        { "transport", &transport, NULL, 0, NULL },
        { "ca", &ca, NULL, 0, NULL },
        { "identity", &identity, NULL, 0, NULL },
        { "port", NULL, &port, 65535, NULL },
        { "node-id", NULL, &node_id, UINT32_MAX, NULL },
        { "size", NULL, &size, PT_MAX_FRAME, NULL },
        { "frames", NULL, &frames, 100000000, NULL },
        { "batch", NULL, &batch, MAX_BATCH, NULL },
        { "burst", NULL, &burst, MAX_BURST, NULL },
        { NULL, NULL, NULL, 0, NULL },
    };
    bench_parse_flags(argc, argv, 1, flags);
    memset(&s, 0, sizeof s);
    s.transport = transport;
    s.size = size;
    s.burst = burst;
    if (strcmp(transport, "wss") == 0) {
        if (!ca || !identity || !port || !node_id)
            die("--transport=wss needs --port, --ca, --identity and --node-id");
        bench_dial_setup(&s.wss, port, ca, identity, node_id);
    } else if (strcmp(transport, "udp") != 0) {
        die("--transport: udp or wss, not \"%s\"", transport);
    }
    if (!size || !frames || batch < 2 || !burst)
        die("need --size >= 1, --frames >= 1, --batch >= 2 and --burst >= 1");

    double one = measure(&s, frames, 0, &per_call);
    const pt_plugin *p = s.wss.p;
    char err[PT_ERRMSG_MAX];
    if (!p && pt_loader_open("udp", NULL, &p, err, sizeof err) != PT_OK)
        die("%s", err);
    printf("RESULT transport=%s size=%lu frames=%lu batch=%lu burst=%lu recv_cpu_s=%.4f",
           transport, size, frames, batch, burst, one);
    if (p->recv_many) {
        double many = measure(&s, frames, batch, &per_call);
        printf(" recv_many_cpu_s=%.4f ratio=%.2f frames_per_call=%.1f\n", many, one / many,
               per_call);
    } else {
        printf(" recv_many_cpu_s=n/a ratio=n/a frames_per_call=n/a\n");
    }
    memset(&s.wss.id, 0, sizeof s.wss.id);
    return 0;
}
