/*
 * common.c -- the beacon's counters, the peer node, and this process's
 * resources, for chaos.c and bounds.c (see common.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "secrets.h"
#include "pilot_packet.h"
#include "util.h"

pt_identity peer;

int ch_init(void)
{
    char e[512], pub[45];
    FILE *f;

    /* beacon_start() keeps the beacon's stderr only when this is set;
     * ch_beacon_start() points it at a pipe.  Set before any thread runs
     * (setenv is not safe beside a getenv in another thread). */
    setenv("PT_TEST_VERBOSE", "1", 1);
    if (harness_init() != 0)
        return -1;
    if (ptu_identity_generate(&peer, e, sizeof e) != PT_OK) {
        printf("Bail out! identity: %s\n", e);
        return -1;
    }
    peer.node_id = PEER_NODE;
    secrets_register_key("chaos: peer", &peer);
    /* harness_init() registered node NODE (me); add the peer. */
    f = fopen(registry, "a");
    if (!f) {
        printf("Bail out! %s: %s\n", registry, strerror(errno));
        return -1;
    }
    ptu_identity_public_b64(&peer, pub);
    fprintf(f, "%d %s\n", PEER_NODE, pub);
    if (fclose(f) != 0) {
        printf("Bail out! %s: write failed\n", registry);
        return -1;
    }
    return 0;
}

void ch_cleanup(void)
{
    ptu_wipe(&peer, sizeof peer);
    harness_cleanup();
}

/* ---- The beacon's stderr -------------------------------------------------- */

static void take_line(ch_beacon *cb, const char *line)
{
    pthread_mutex_lock(&cb->mu);
    if (strncmp(line, "STATS ", 6) == 0) {
        snprintf(cb->stats, sizeof cb->stats, "%s", line);
        cb->n_stats++;
    }
    char *t = cb->tail[cb->n_lines++ % CH_TAIL_LINES];
    size_t n = strnlen(line, sizeof cb->tail[0] - 1);
    memcpy(t, line, n); /* cut to the width of a diagnostic */
    t[n] = '\0';
    pthread_cond_broadcast(&cb->cv);
    pthread_mutex_unlock(&cb->mu);
}

/* Read the beacon's stderr to EOF, line by line.  Lines longer than the
 * buffer are cut (STATS lines are far shorter). */
static void *reader_main(void *arg)
{
    ch_beacon *cb = arg;
    char buf[4096], line[1024];
    size_t len = 0;
    ssize_t n;

    while ((n = read(cb->err_fd, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                line[len] = '\0';
                take_line(cb, line);
                len = 0;
            } else if (len < sizeof line - 1) {
                line[len++] = buf[i];
            }
        }
    }
    pthread_mutex_lock(&cb->mu);
    cb->eof = 1;
    pthread_cond_broadcast(&cb->cv);
    pthread_mutex_unlock(&cb->mu);
    return NULL;
}

int ch_beacon_start(ch_beacon *cb, int port, const char *const *flags)
{
    int p[2], saved, rc;

    memset(cb, 0, sizeof *cb);
    cb->err_fd = -1;
    pthread_mutex_init(&cb->mu, NULL);
    pthread_cond_init(&cb->cv, NULL);
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    /* beacon_start() forks: the child inherits fd 2, which for that moment
     * is the pipe.  Nothing else in these programs writes to stderr. */
    saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (saved < 0 || dup2(p[1], 2) < 0) {
        close(p[0]);
        close(p[1]);
        if (saved >= 0)
            close(saved);
        return -1;
    }
    rc = beacon_start(&cb->b, "server", port, flags);
    dup2(saved, 2);
    close(saved);
    close(p[1]);
    cb->err_fd = p[0];
    if (pthread_create(&cb->reader, NULL, reader_main, cb) != 0) {
        if (rc == 0)
            beacon_stop_sig(&cb->b, SIGKILL);
        close(cb->err_fd);
        cb->err_fd = -1;
        return -1;
    }
    cb->reader_started = 1;
    if (rc != 0) {
        /* beacon_start() reaped it: its stderr is at EOF. */
        pthread_join(cb->reader, NULL);
        cb->reader_started = 0;
        ch_beacon_tail(cb);
        close(cb->err_fd);
        cb->err_fd = -1;
    }
    return rc;
}

int ch_beacon_stop(ch_beacon *cb, int sig, ch_stats *final, int *had_stats)
{
    int status = beacon_stop_sig(&cb->b, sig);

    if (cb->reader_started) {
        pthread_join(cb->reader, NULL); /* the beacon is reaped: EOF comes */
        cb->reader_started = 0;
    }
    if (cb->err_fd >= 0) {
        close(cb->err_fd);
        cb->err_fd = -1;
    }
    if (final) {
        memset(final, 0, sizeof *final);
        if (cb->n_stats)
            ch_stats_parse(cb->stats, final);
    }
    if (had_stats)
        *had_stats = cb->n_stats > 0;
    return status;
}

int ch_beacon_stats(ch_beacon *cb, ch_stats *out, int ms)
{
    struct timespec until = ch_deadline(ms);
    unsigned before;
    int rc = 0;

    pthread_mutex_lock(&cb->mu);
    before = cb->n_stats;
    kill(cb->b.pid, SIGUSR1);
    while (cb->n_stats == before && !cb->eof && rc == 0)
        rc = pthread_cond_timedwait(&cb->cv, &cb->mu, &until);
    rc = cb->n_stats != before ? ch_stats_parse(cb->stats, out) : -1;
    pthread_mutex_unlock(&cb->mu);
    return rc;
}

void ch_beacon_tail(ch_beacon *cb)
{
    unsigned n;
    pthread_mutex_lock(&cb->mu);
    n = cb->n_lines < CH_TAIL_LINES ? cb->n_lines : CH_TAIL_LINES;
    for (unsigned i = cb->n_lines - n; i < cb->n_lines; i++)
        printf("#   beacon: %s\n", cb->tail[i % CH_TAIL_LINES]);
    pthread_mutex_unlock(&cb->mu);
}

int ch_stats_parse(const char *line, ch_stats *out)
{
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
#define K(x) { #x, offsetof(ch_stats, x) }
        K(upgrades), K(auth_ok), K(frames_in), K(frames_out), K(drops),
        K(relayed), K(relay_dropped), K(udp_in), K(udp_out), K(discovers),
        K(tls_full), K(tls_resumed),
#undef K
    };
    const char *s;

    if (strncmp(line, "STATS ", 6) != 0)
        return -1;
    memset(out, 0, sizeof *out);
    for (s = line + 6; *s;) {
        const char *eq = strchr(s, '='), *end;
        if (!eq)
            break;
        end = eq + strcspn(eq, " ");
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            if (strlen(keys[i].name) == (size_t)(eq - s) &&
                strncmp(s, keys[i].name, (size_t)(eq - s)) == 0) {
                *(uint64_t *)(void *)((char *)out + keys[i].off) = strtoull(eq + 1, NULL, 10);
                break;
            }
        }
        s = *end ? end + 1 : end;
    }
    return 0;
}

/* ---- Numbered frames ------------------------------------------------------- */

static unsigned char pattern_byte(uint32_t seq, size_t i)
{
    return (unsigned char)(seq * 7u + (uint32_t)i * 13u + (uint32_t)(i >> 8));
}

int ch_frame_build(uint32_t from, uint32_t to, const ch_frame *f, size_t payload_len,
                   unsigned char *out, size_t cap)
{
    unsigned char payload[PT_MAX_FRAME], pilt[PT_MAX_FRAME];
    ptu_pkt_header h;
    int n;

    if (payload_len < CH_FRAME_MIN_PAYLOAD || payload_len > sizeof payload)
        return -1;
    for (int i = 0; i < 8; i++)
        payload[i] = (unsigned char)(f->offer >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        payload[8 + i] = (unsigned char)(f->epoch >> (24 - 8 * i));
    for (size_t i = CH_FRAME_MIN_PAYLOAD; i < payload_len; i++)
        payload[i] = pattern_byte(f->seq, i);
    memset(&h, 0, sizeof h);
    h.version = PTU_PKT_VERSION;
    h.protocol = PTU_PKT_PROTO_DATAGRAM;
    h.src_node = from;
    h.dst_node = to;
    h.seq = f->seq;
    n = ptu_pkt_build_pilt(&h, payload, payload_len, pilt, sizeof pilt);
    return n < 0 ? -1 : ptu_pkt_relay(from, to, pilt, (size_t)n, out, cap);
}

int ch_frame_check(const unsigned char *msg, size_t len, uint32_t from, uint32_t to,
                   ch_frame *f, char *why, size_t whylen)
{
    ptu_beacon_msg m;
    ptu_pkt_header h;
    const unsigned char *p;

    if (ptu_pkt_parse_beacon(msg, len, &m, why, whylen) != 0)
        return -1;
    if (m.type != PTU_BEACON_RELAY_DELIVER || m.from != from)
        return ptu_err(why, whylen, -1, "beacon message type 0x%02x from node %u, want a "
                       "RelayDeliver from %u", m.type, (unsigned)m.from, (unsigned)from);
    if (ptu_pkt_parse_pilt(m.frame, m.frame_len, &h, &p, why, whylen) != 0)
        return -1;
    if (h.src_node != from || h.dst_node != to)
        return ptu_err(why, whylen, -1, "pilot header says node %u -> %u",
                       (unsigned)h.src_node, (unsigned)h.dst_node);
    if (h.payload_len < CH_FRAME_MIN_PAYLOAD)
        return ptu_err(why, whylen, -1, "%u-byte payload", (unsigned)h.payload_len);
    f->seq = h.seq;
    f->offer = 0;
    for (int i = 0; i < 8; i++)
        f->offer = f->offer << 8 | p[i];
    f->epoch = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
    for (size_t i = CH_FRAME_MIN_PAYLOAD; i < h.payload_len; i++)
        if (p[i] != pattern_byte(h.seq, i))
            return ptu_err(why, whylen, -1, "seq %u: payload byte %zu is 0x%02x, want 0x%02x",
                           (unsigned)h.seq, i, p[i], pattern_byte(h.seq, i));
    return 0;
}

/* ---- This process ----------------------------------------------------------- */

struct timespec ch_deadline(int ms)
{
    return deadline_after_ms(CLOCK_REALTIME, (int64_t)ms * scale);
}

long ch_env_long(const char *name, long def)
{
    const char *v = getenv(name);
    char *end;
    long n;

    if (!v || !*v)
        return def;
    n = strtol(v, &end, 10);
    return *end == '\0' && n > 0 ? n : def;
}

int ch_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

long ch_rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

size_t ch_heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd; /* in arenas, and mmapped blocks */
}

void ch_exact_heap(char **argv)
{
    static const char tunable[] = "glibc.malloc.tcache_count=0";
    const char *old = getenv("GLIBC_TUNABLES");
    char *val;

    if (!ch_plain_malloc() || (old && strstr(old, tunable)))
        return;
    if (old && *old) {
        size_t n = strlen(old) + sizeof tunable + 1;
        val = malloc(n);
        if (!val)
            return;
        snprintf(val, n, "%s:%s", old, tunable);
    } else {
        val = strdup(tunable);
        if (!val)
            return;
    }
    setenv("GLIBC_TUNABLES", val, 1);
    free(val);
    execv("/proc/self/exe", argv);
    /* Not fatal: the figures are only less exact. */
    printf("# cannot re-execute with %s: %s\n", tunable, strerror(errno));
}

int ch_plain_malloc(void)
{
    const char *run = getenv("PT_RUN");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    return 0;
#endif
#endif
    return !(run && strstr(run, "valgrind"));
}
