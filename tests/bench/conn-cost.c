/*
 * conn-cost.c -- the benchmark's per-connection figures for the WSS plugin,
 * measured inside one process (as a daemon that dials, redials and holds
 * connections sees them):
 *
 *   conn-cost --port=N --ca=F --identity=F --node-id=N [--dials=50] [--conns=10]
 *
 * dial: the first dial after loading the plugin (it pays the libraries'
 * one-time set-up), then --dials more, each dial + close + free, timed from
 * the call to a ready connection (TCP + TLS + upgrade + auth).
 *
 * memory: private resident memory (RssAnon, /proc/self/status) with the
 * plugin loaded and nothing open; after one connection that has echoed a
 * 1200-byte frame and is then idle; and after --conns such connections, so
 * that the cost of each further connection shows apart from one-time state.
 *
 * Prints one line:
 *   RESULT first_dial_ms=F dial_p50_ms=P dial_min_ms=M first_conn_kb=A per_conn_kb=B
 * Run it against an echo peer (raw-tls --ws, or the beacon in echo mode).
 * Benchmark code, not product.
 */
#include "config.h"

#include "bench_conn.h"

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

static pt_conn *dial(struct bench_dial *b, double *ms)
{
    char err[PT_ERRMSG_MAX];
    pt_conn *c = NULL;
    uint64_t t0 = now_ns();
    int rc = b->p->dial(&b->dp, &c, err, sizeof err);
    if (rc != PT_OK)
        die("dial %s: %s", b->url, err);
    *ms = (double)(now_ns() - t0) / 1e6;
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
    unsigned long port = 0, node_id = 0, dials = 50, conns = 10;
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
        { NULL, NULL, NULL, 0, NULL },
    };
    bench_parse_flags(argc, argv, 1, flags);
    if (!ca || !identity || !port || !node_id || !dials || conns < 2)
        die("need --port, --ca, --identity, --node-id, --dials >= 1 and --conns >= 2");
    bench_dial_setup(&b, port, ca, identity, node_id);

    /* Memory first: the baseline is the loaded plugin, before any dial. */
    long base = rss_anon_kb();
    held[0] = dial(&b, &first);
    echo(&b, held[0]);
    long one = rss_anon_kb();
    for (unsigned long i = 1; i < conns; i++) {
        double ms;
        held[i] = dial(&b, &ms);
        echo(&b, held[i]);
    }
    long all = rss_anon_kb();
    for (unsigned long i = 0; i < conns; i++)
        done(&b, held[i]);

    for (unsigned long i = 0; i < dials; i++)
        done(&b, dial(&b, &t[i]));
    memset(&b.id, 0, sizeof b.id);

    double p50 = median(t, dials);
    printf("RESULT first_dial_ms=%.3f dial_p50_ms=%.3f dial_min_ms=%.3f first_conn_kb=%ld "
           "per_conn_kb=%.0f\n",
           first, p50, t[0], one - base, (double)(all - one) / (double)(conns - 1));
    return 0;
}
