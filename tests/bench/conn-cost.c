/*
 * conn-cost.c -- the benchmark's per-connection figures for the WSS plugin,
 * measured inside one process (as a daemon that dials, redials and holds
 * connections sees them):
 *
 *   conn-cost --port=N --ca=F --identity=F --node-id=N [--dials=50] [--conns=10]
 *             [--hold=100]
 *
 * dial: the first dial after loading the plugin (it pays the libraries'
 * one-time set-up), then --dials more, each dial + close + free, timed from
 * the call to a ready connection (TCP + TLS + upgrade + auth); and the
 * p50 of the dials made while others are open (connections --conns+1 to
 * --hold below); with each, the page faults per dial (minor faults of the
 * whole process while dial runs: every page a dial touches for the first
 * time costs one, and they are dear on a virtual machine).
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
 *          dial_faults=X dial_open_faults=Y
 * Run it against an echo peer (raw-tls --ws, or the beacon in echo mode).
 * --hold=0 leaves out everything but the dials (first, dial-close loop):
 * for a peer that keeps one connection per node, as the beacon does (a
 * second one replaces the first, SPEC 3), so holding several of one node
 * would measure their reconnects.
 * Benchmark code, not product.
 */
#include "config.h"

#include "bench_conn.h"

#include <sys/resource.h>

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

static long minor_faults(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        die("getrusage: %s", strerror(errno));
    return ru.ru_minflt;
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
    unsigned long port = 0, node_id = 0, dials = 50, conns = 10, hold = 100;
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
    /* Up to --hold open: each of these dials is made while the others are
     * open (the dials a daemon holding links makes). */
    for (unsigned long i = conns; i < hold; i++) {
        held[i] = dial(&b, &t_open[i - conns]);
        echo(&b, held[i]);
    }
    long peak = private_kb();
    long open_faults = dial_faults;
    for (unsigned long i = 0; i < hold; i++)
        done(&b, held[i]);
    long freed = private_kb();

    dial_faults = 0;
    for (unsigned long i = 0; i < dials; i++)
        done(&b, dial(&b, &t[i]));
    memset(&b.id, 0, sizeof b.id);

    double p50 = median(t, dials);
    double p50_open = hold > conns ? median(t_open, hold - conns) : 0;
    printf("RESULT first_dial_ms=%.3f dial_p50_ms=%.3f dial_min_ms=%.3f dial_open_p50_ms=%.3f "
           "first_conn_kb=%ld per_conn_kb=%.0f held=%lu held_kb=%ld freed_kb=%ld dial_faults=%.1f "
           "dial_open_faults=%.1f\n",
           first, p50, t[0], p50_open, one - base, (double)(all - one) / (double)(conns - 1),
           hold, peak - base, freed - base, (double)dial_faults / (double)dials,
           hold > conns ? (double)open_faults / (double)(hold - conns) : 0.0);
    return 0;
}
