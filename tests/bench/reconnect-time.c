/*
 * reconnect-time.c -- the benchmark's reconnect figure: after the peer
 * drops the connection, how long until the WSS plugin is connected again.
 *
 *   reconnect-time --port=N --ca=F --identity=F --node-id=N [--drops=5] [--no-resume]
 *
 * Run it against "pilot-beacon-dev --mode=echo --drop-after=1": every
 * connection is dropped (TCP shut down, no close frame) once the beacon has
 * echoed its first frame.  Each round sends one frame and then waits on
 * events only: poll() on the plugin's poll_fd, which polls readable when the
 * socket has data or EOF and when a reconnect has completed (the keeper
 * signals rx_fd after installing the new link); after each wake-up recv(.., 0)
 * takes what is there (and so notices the EOF) and stats() tells the state.
 *
 *   lost: the first wake-up at which stats() says RECONNECTING
 *   up:   the first wake-up at which stats() says CONNECTED with one more
 *         reconnect counted
 *
 * reconnect = up - lost.  The plugin redials after a jittered backoff
 * (75%..125% of 250 ms after a first drop, keeper.h
 * WSS_BACKOFF_FIRST_MS).  Only a link that stayed up for an idle-ping
 * resets the backoff, so the benchmark dials with idle-ping STABLE_MS and
 * keeps each link that long before its round: every drop is a first one.
 * The delay the plugin drew is read from its INFO log line
 * "wss: reconnecting in N ms", so the figure is split into backoff and
 * redial (= reconnect - backoff: TCP connect + TLS handshake + upgrade +
 * auth, and the thread wake-ups).  Each redial resumes the TLS session
 * (a TLS 1.3 ticket); --no-resume dials with tls-resume=false, so that
 * every redial is a full handshake, for the comparison.
 * Prints
 *   RESULT drops=N reconnect_p50_ms=R reconnect_min_ms=A reconnect_max_ms=B
 *          backoff_p50_ms=K redial_p50_ms=D stale_wakeups=W
 * (one line).  stale_wakeups counts wake-ups at which poll_fd was readable
 * but recv had nothing and the state had not changed; each is answered with
 * recv(.., 1 ms), which consumes a stale signal, so a poll_fd that stays
 * readable costs at most 1 ms per wake-up instead of a busy loop.  (The
 * plugin signals rx_fd after a reconnect and only a recv that waits drains
 * it: with poll + recv(.., 0) alone, poll_fd stays readable until the next
 * drop and a host loop spins.  Built with -DNO_STALE_RECV to see it.)
 *
 * Benchmark code, not product.
 */
#include "config.h"

#include "bench_conn.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FRAME 64
#define MAX_DROPS 1000
#define ROUND_TIMEOUT_MS 15000 /* backoff (at most ~32 s only after failed redials) + dial */
#define STABLE_MS 200 /* idle-ping: a link up this long resets the backoff */

const char bench_prog[] = "reconnect-time";

/* ---- The plugin's log: the backoff it drew -------------------------------- */

static const char BACKOFF_LINE[] = "wss: reconnecting in ";

static struct {
    pthread_mutex_t lock;
    long long delay_ms; /* from the last "reconnecting in" line, -1: none yet */
} L = { PTHREAD_MUTEX_INITIALIZER, -1 };

/* Called from the plugin's threads. */
static void on_log(void *userdata, int level, const char *message)
{
    (void)userdata;
    (void)level;
    if (strncmp(message, BACKOFF_LINE, sizeof BACKOFF_LINE - 1) == 0) {
        pthread_mutex_lock(&L.lock);
        L.delay_ms = strtoll(message + sizeof BACKOFF_LINE - 1, NULL, 10);
        pthread_mutex_unlock(&L.lock);
    }
}

/* ---- Main ------------------------------------------------------------------- */

/* recv until nothing more is there, the first call with timeout_ms;
 * returns how many frames came.  Dies on an error (a closed connection). */
static int take_all(const pt_plugin *p, pt_conn *c, unsigned char *buf, size_t cap,
                    int timeout_ms)
{
    int rc, got = 0;
    while ((rc = p->recv(c, buf, cap, NULL, got ? 0 : timeout_ms)) >= 0)
        got++; /* the echo, if it came before the drop */
    if (rc != PT_ETIMEDOUT)
        die("recv: %s", pt_strerror(rc));
    return got;
}

static pt_stats stats_of(const pt_plugin *p, pt_conn *c)
{
    pt_stats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    p->stats(c, &st);
    return st;
}

int main(int argc, char **argv)
{
    const char *ca = NULL, *identity = NULL;
    unsigned long port = 0, node_id = 0, drops = 5;
    const pt_plugin *p;
    pt_conn *c = NULL;
    char err[PT_ERRMSG_MAX];
    unsigned char frame[FRAME], buf[PT_MAX_FRAME];
    double total[MAX_DROPS], backoff[MAX_DROPS], redial[MAX_DROPS];
    unsigned long stale = 0, skipped = 0;
    size_t nb = 0;
    int no_resume = 0;

    const struct bench_flag flags[] = {
        { "ca", &ca, NULL, 0, NULL },
        { "identity", &identity, NULL, 0, NULL },
        { "port", NULL, &port, 65535, NULL },
        { "node-id", NULL, &node_id, UINT32_MAX, NULL },
        { "drops", NULL, &drops, MAX_DROPS, NULL },
        { "no-resume", NULL, NULL, 0, &no_resume },
        { NULL, NULL, NULL, 0, NULL },
    };
    bench_parse_flags(argc, argv, 1, flags);
    if (!ca || !identity || !port || !node_id || !drops)
        die("need --port, --ca, --identity, --node-id and --drops >= 1");

    struct bench_dial b;
    bench_dial_setup(&b, port, ca, identity, node_id);
    p = b.p;
    pt_option opts[4] = { b.opts[0], b.opts[1], { "idle-ping", PT_STRINGIFY(STABLE_MS) "ms" } };
    size_t n_opts = 3;
    if (no_resume)
        opts[n_opts++] = (pt_option){ "tls-resume", "false" };
    b.dp.options = opts;
    b.dp.n_options = n_opts;
    b.dp.log = on_log;
    b.dp.log_level = PT_LOG_INFO;
    int rc = p->dial(&b.dp, &c, err, sizeof err);
    memset(&b.id, 0, sizeof b.id);
    if (rc != PT_OK)
        die("dial %s: %s", b.url, err);
    memset(frame, 0xa5, sizeof frame);
    struct pollfd pf = { p->poll_fd(c), POLLIN, 0 };
    uint64_t connected = now_ns(); /* the link is up since before this */

    for (unsigned long i = 0; i < drops; i++) {
        /* A time, not an event, is what makes the link stable. */
        uint64_t stable = connected + (uint64_t)STABLE_MS * 1000000u, t = now_ns();
        if (t < stable)
            poll(NULL, 0, (int)((stable - t) / 1000000u) + 1);
        pt_stats st = stats_of(p, c);
        uint64_t r0 = st.reconnects, lost = 0, up = 0;
        uint64_t deadline = now_ns() + (uint64_t)ROUND_TIMEOUT_MS * 1000000u;
        if (st.state != PT_STATE_CONNECTED)
            die("round %lu: not connected at the start", i);
        pthread_mutex_lock(&L.lock);
        L.delay_ms = -1;
        pthread_mutex_unlock(&L.lock);
        if ((rc = p->send(c, frame, sizeof frame, NULL)) != (int)sizeof frame)
            die("round %lu: send: %s", i, pt_strerror(rc));
        pt_stats prev = st;
        while (!up) {
            uint64_t now = now_ns();
            if (now >= deadline)
                die("round %lu: not connected again after %d ms", i, ROUND_TIMEOUT_MS);
            int pr = poll(&pf, 1, (int)((deadline - now) / 1000000u) + 1);
            if (pr < 0 && errno != EINTR)
                die("poll: %s", strerror(errno));
            if (pr <= 0)
                continue;
            int got = take_all(p, c, buf, sizeof buf, 0);
            st = stats_of(p, c);
            if (!got && st.state == prev.state && st.reconnects == prev.reconnects) {
                /* Readable, nothing to read, nothing changed: a stale
                 * signal.  A 1 ms recv consumes it; the stats below catch
                 * a reconnect whose signal it may swallow. */
                stale++;
#ifndef NO_STALE_RECV /* -DNO_STALE_RECV: see the busy loop it prevents */
                take_all(p, c, buf, sizeof buf, 1);
#endif
                st = stats_of(p, c);
            }
            now = now_ns();
            if (!lost && st.state == PT_STATE_RECONNECTING)
                lost = now;
            if (st.state == PT_STATE_CONNECTED && st.reconnects > r0)
                up = connected = now; /* lost may still be 0: see below */
            prev = st;
        }
        if (st.reconnects != r0 + 1)
            die("round %lu: %llu reconnects where 1 was expected", i,
                (unsigned long long)(st.reconnects - r0));
        if (!lost) {
            /* The keeper's own read saw the drop and the redial finished
             * before any wake-up of ours: nothing to time.  Again. */
            if (++skipped > drops)
                die("round %lu: the drop is never seen before the reconnect", i);
            fprintf(stderr, "reconnect-time: round %lu: drop not seen, repeated\n", i--);
            continue;
        }
        total[i] = (double)(up - lost) / 1e6;
        pthread_mutex_lock(&L.lock);
        if (L.delay_ms >= 0) {
            backoff[nb] = (double)L.delay_ms;
            redial[nb++] = total[i] - (double)L.delay_ms;
        }
        pthread_mutex_unlock(&L.lock);
    }
    p->close(c);
    p->free(c);

    double t50 = median(total, drops); /* sorts total */
    printf("RESULT drops=%lu reconnect_p50_ms=%.1f reconnect_min_ms=%.1f reconnect_max_ms=%.1f",
           drops, t50, total[0], total[drops - 1]);
    if (nb == drops)
        printf(" backoff_p50_ms=%.1f redial_p50_ms=%.1f", median(backoff, nb), median(redial, nb));
    else /* the plugin's log line changed: no split */
        printf(" backoff_p50_ms=null redial_p50_ms=null");
    printf(" stale_wakeups=%lu\n", stale);
    return 0;
}
