/*
 * conn-cost.c -- the benchmark's per-connection figures for the WSS plugin,
 * measured inside one process (as a daemon that dials, redials and holds
 * connections sees them):
 *
 *   conn-cost --port=N --ca=F --identity=F --node-id=N [--dials=50] [--conns=10]
 *             [--hold=100] [--peer-pid=N]
 *
 * dial: the first dial after loading the plugin (it pays the libraries'
 * one-time set-up), then --dials more, each dial + close + free, timed from
 * the call to a ready connection (TCP + TLS + upgrade + auth); and the
 * p50 of the dials made while others are open (connections --conns+1 to
 * --hold below); with each, the page faults per dial (minor faults of the
 * whole process while dial runs: every page a dial touches for the first
 * time costs one, and they are dear on a virtual machine); with
 * --peer-pid, the peer's page faults per dial alike (a dial costs the peer
 * too: an echo peer with a thread per connection writes a fresh stack for
 * every connection held, and reuses a cached one in a dial-close loop);
 * and what one page fault costs on this machine (the first write to each
 * of 256 fresh pages), so that the faults can be weighed against the
 * times.
 *
 * memory: private dirty memory (Private_Dirty of /proc/self/smaps_rollup:
 * heap, thread stacks, written library pages)
 * with the plugin loaded and nothing open; after one connection that has
 * echoed a 1200-byte frame and is then idle; after --conns such
 * connections, so that the cost of each further connection shows apart
 * from one-time state; with --hold open; and after all --hold are freed
 * (what the process keeps of them).
 *
 * Prints one line:
 *   RESULT first_dial_ms=F dial_p50_ms=P dial_min_ms=M dial_open_p50_ms=O
 *          first_conn_kb=A per_conn_kb=B held=H held_kb=C freed_kb=D
 *          dial_faults=X dial_open_faults=Y fault_us=U
 *          [peer_dial_faults=X peer_dial_open_faults=Y]
 * Run it against an echo peer (raw-tls --ws, or the beacon in echo mode).
 * --hold=0 leaves out everything but the dials (first, dial-close loop):
 * for a peer that keeps one connection per node, as the beacon does (a
 * second one replaces the first, SPEC 3), so holding several of one node
 * would measure their reconnects.
 * Benchmark code, not product.
 */
#include "config.h"

#include "bench_conn.h"

#include <sys/mman.h>

#define MAX_DIALS 10000
#define MAX_CONNS 1000
#define FRAME 1200

const char bench_prog[] = "conn-cost";

static long rss_anon_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        die("/proc/self/status: %s", strerror(errno));
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "RssAnon:", 8) == 0)
            kb = atol(line + 8);
    fclose(f);
    if (kb < 0)
        die("no RssAnon in /proc/self/status");
    return kb;
}

/* Private dirty memory (Private_Dirty, /proc/self/smaps_rollup): what the
 * process has written that no other process shares, heap, stacks and
 * written library data alike.  Not Private_Clean: it counts library code
 * first read by a process that alone maps the library (the first dial
 * pages in GnuTLS's handshake code), which the kernel can drop at will. */
static long private_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f)
        return rss_anon_kb(); /* kernels before 4.14 */
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Private_Dirty:", 14) == 0)
            kb = atol(line + 14);
    fclose(f);
    return kb >= 0 ? kb : rss_anon_kb();
}

/* The peer's minor page faults so far (all its threads, the exited ones
 * too: field 10 of /proc/PID/stat), or -1 without a peer. */
static long peer_faults(unsigned long pid)
{
    char path[64], buf[1024];
    if (!pid)
        return -1;
    snprintf(path, sizeof path, "/proc/%lu/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        die("--peer-pid=%lu: %s: %s", pid, path, strerror(errno));
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The name (field 2) may hold spaces and parentheses: count from its end. */
    char *p = strrchr(buf, ')');
    long v = -1;
    if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %ld", &v) != 1)
        v = -1;
    if (v < 0)
        die("--peer-pid=%lu: no fault count in %s", pid, path);
    return v;
}

/* What one page fault costs here, in microseconds: the first write to each
 * of 256 pages of a fresh private mapping (a zeroed page, page tables),
 * the best of three rounds. */
static double fault_us(void)
{
    const size_t pages = 256, page = 4096;
    double best = 0;
    for (int round = 0; round < 3; round++) {
        unsigned char *m = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            die("mmap: %s", strerror(errno));
        uint64_t t0 = now_ns();
        for (size_t i = 0; i < pages; i++)
            ((volatile unsigned char *)m)[i * page] = 1;
        double us = (double)(now_ns() - t0) / 1e3 / (double)pages;
        munmap(m, pages * page);
        if (round == 0 || us < best)
            best = us;
    }
    return best;
}

/* Page faults taken inside dial(), summed. */
static long dial_faults;

static pt_conn *dial(struct bench_dial *b, double *ms)
{
    char err[PT_ERRMSG_MAX];
    pt_conn *c = NULL;
    long f0 = minor_faults();
    uint64_t t0 = now_ns();
    int rc = b->p->dial(&b->dp, &c, err, sizeof err);
    if (rc != PT_OK)
        die("dial %s: %s", b->url, err);
    *ms = (double)(now_ns() - t0) / 1e6;
    dial_faults += minor_faults() - f0;
    return c;
}

static void done(struct bench_dial *b, pt_conn *c)
{
    b->p->close(c);
    b->p->free(c);
}

/* One 1200-byte frame there and back, so the buffers a working connection
 * uses exist. */
static void echo(struct bench_dial *b, pt_conn *c)
{
    static unsigned char out[FRAME], in[PT_MAX_FRAME];
    int rc = b->p->send(c, out, sizeof out, NULL);
    if (rc != (int)sizeof out)
        die("send: %s", pt_strerror(rc));
    rc = b->p->recv(c, in, sizeof in, NULL, 5000);
    if (rc != (int)sizeof out)
        die("echo: %s", rc < 0 ? pt_strerror(rc) : "wrong size");
}

int main(int argc, char **argv)
{
    const char *ca = NULL, *identity = NULL;
    unsigned long port = 0, node_id = 0, dials = 50, conns = 10, hold = 100, peer_pid = 0;
    static double t[MAX_DIALS];
    static pt_conn *held[MAX_CONNS];
    struct bench_dial b;
    double first;

    const struct bench_flag flags[] = {
        { "ca", &ca, NULL, 0, NULL },
        { "identity", &identity, NULL, 0, NULL },
        { "port", NULL, &port, 65535, NULL },
        { "node-id", NULL, &node_id, UINT32_MAX, NULL },
        { "dials", NULL, &dials, MAX_DIALS, NULL },
        { "conns", NULL, &conns, MAX_CONNS, NULL },
        { "hold", NULL, &hold, MAX_CONNS, NULL },
        { "peer-pid", NULL, &peer_pid, INT32_MAX, NULL },
        { NULL, NULL, NULL, 0, NULL },
    };
    bench_parse_flags(argc, argv, 1, flags);
    if (!ca || !identity || !port || !node_id || !dials || conns < 2 || (hold && hold < conns))
        die("need --port, --ca, --identity, --node-id, --dials >= 1, --conns >= 2 and --hold 0 "
            "or >= --conns");
    bench_dial_setup(&b, port, ca, identity, node_id);

    if (!hold) {
        done(&b, dial(&b, &first));
        for (unsigned long i = 0; i < dials; i++)
            done(&b, dial(&b, &t[i]));
        memset(&b.id, 0, sizeof b.id);
        double p50 = median(t, dials); /* sorts t */
        printf("RESULT first_dial_ms=%.3f dial_p50_ms=%.3f dial_min_ms=%.3f\n", first, p50, t[0]);
        return 0;
    }

    /* Memory first: the baseline is the loaded plugin, before any dial. */
    static double t_open[MAX_CONNS];
    long base = private_kb();
    held[0] = dial(&b, &first);
    echo(&b, held[0]);
    long one = private_kb();
    for (unsigned long i = 1; i < conns; i++) {
        double ms;
        held[i] = dial(&b, &ms);
        echo(&b, held[i]);
    }
    long all = private_kb();
    dial_faults = 0;
    long peer0 = peer_faults(peer_pid);
    /* Up to --hold open: each of these dials is made while the others are
     * open (the dials a daemon holding links makes). */
    for (unsigned long i = conns; i < hold; i++) {
        held[i] = dial(&b, &t_open[i - conns]);
        echo(&b, held[i]);
    }
    long peak = private_kb();
    long open_faults = dial_faults;
    long peer1 = peer_faults(peer_pid);
    for (unsigned long i = 0; i < hold; i++)
        done(&b, held[i]);
    long freed = private_kb();

    dial_faults = 0;
    long peer2 = peer_faults(peer_pid);
    for (unsigned long i = 0; i < dials; i++)
        done(&b, dial(&b, &t[i]));
    long peer3 = peer_faults(peer_pid);
    memset(&b.id, 0, sizeof b.id);

    double p50 = median(t, dials);
    double p50_open = hold > conns ? median(t_open, hold - conns) : 0;
    printf("RESULT first_dial_ms=%.3f dial_p50_ms=%.3f dial_min_ms=%.3f dial_open_p50_ms=%.3f "
           "first_conn_kb=%ld per_conn_kb=%.0f held=%lu held_kb=%ld freed_kb=%ld dial_faults=%.1f "
           "dial_open_faults=%.1f fault_us=%.2f",
           first, p50, t[0], p50_open, one - base, (double)(all - one) / (double)(conns - 1),
           hold, peak - base, freed - base, (double)dial_faults / (double)dials,
           hold > conns ? (double)open_faults / (double)(hold - conns) : 0.0, fault_us());
    if (peer_pid)
        printf(" peer_dial_faults=%.1f peer_dial_open_faults=%.1f",
               (double)(peer3 - peer2) / (double)dials,
               hold > conns ? (double)(peer1 - peer0) / (double)(hold - conns) : 0.0);
    putchar('\n');
    return 0;
}
