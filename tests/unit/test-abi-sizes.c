/*
 * test-abi-sizes.c -- the versioned structs of pilot_transport.h across
 * minors: the PT_*_SIZE_1_n constants are what ABI 1.0 and 1.1 really laid
 * out (their definitions are copied below from the git history of the
 * header, d6e8661 and 69403fc), PT_HAS_FIELD never mistakes an old struct
 * for a new one, a struct from a hypothetical 1.3 is read correctly by 1.2
 * code, and the real plugins keep to the sizes they are given in both
 * directions: a 1.1-sized pt_dial_params that ends where the mapping ends
 * (a PROT_NONE page after it) is dialled and probed without a fault, and a
 * 1.0-sized or short pt_stats is filled only with the whole fields that fit.
 *
 * Needs PILOT_TRANSPORT_DIR, PT_SRCDIR and PT_BEACON (make check sets
 * them): the WSS side runs against the development beacon over real TLS.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "pilot_transport_loader.h"
#include "tap.h"

/* ---- ABI 1.0 and 1.1 as they were ------------------------------------------
 * Verbatim but for the names (git show d6e8661:abi/pilot_transport.h; 1.1,
 * 69403fc, only appended send_many to the descriptor). */

typedef struct dial_params_1_0 {
    uint32_t struct_size;
    const pt_option *options;    /* n_options entries; may be NULL if 0 */
    size_t n_options;
    const pt_identity *identity; /* may be NULL */
    pt_log_fn log;               /* may be NULL: no logging */
    void *log_userdata;
    int log_level;               /* most verbose level delivered */
} dial_params_1_0;

typedef struct stats_1_0 {
    uint32_t struct_size;
    int32_t state;          /* enum pt_state */
    uint64_t frames_out, bytes_out;
    uint64_t frames_in, bytes_in;
    uint64_t reconnects;    /* successful re-dials after a drop */
    uint64_t dropped_in;    /* inbound frames discarded (oversize, buffer) */
    int32_t last_error;     /* most recent PT_E* code, 0 if none */
} stats_1_0;

#define PLUGIN_1_0_MEMBERS                                                              \
    uint32_t struct_size;                                                               \
    uint16_t abi_major;                                                                 \
    uint16_t abi_minor;                                                                 \
    const char *name;                                                                   \
    const char *version;                                                                \
    const char *description;                                                            \
    const pt_option_doc *options;                                                       \
    int (*dial)(const pt_dial_params *params, pt_conn **out, char *errbuf, size_t errlen); \
    int (*send)(pt_conn *c, const void *buf, size_t len, const pt_addr *dst);           \
    int (*recv)(pt_conn *c, void *buf, size_t cap, pt_addr *src, int timeout_ms);       \
    int (*close)(pt_conn *c);                                                           \
    int (*local_addr)(pt_conn *c, pt_addr *out);                                        \
    int (*poll_fd)(pt_conn *c);                                                         \
    int (*stats)(pt_conn *c, pt_stats *out);                                            \
    int (*last_error)(pt_conn *c, char *buf, size_t len);                               \
    void (*free)(pt_conn *c);

typedef struct plugin_1_0 {
    PLUGIN_1_0_MEMBERS
} plugin_1_0;

typedef struct plugin_1_1 {
    PLUGIN_1_0_MEMBERS
    int (*send_many)(pt_conn *c, const pt_frame *frames, size_t n);
} plugin_1_1;

/* ---- A hypothetical 1.3: each struct with members appended -------------- */

typedef struct dial_params_1_3 {
    pt_dial_params v12;
    uint32_t flags_1_3;
    uint32_t reserved_1_3;
    const char *added_1_3;
} dial_params_1_3;

typedef struct stats_1_3 {
    pt_stats v12;
    uint64_t added_1_3;
} stats_1_3;

static const pt_plugin *udp;
static const int lp64 = sizeof(void *) == 8 && sizeof(long) == 8;

/* ---- The constants are what the old minors laid out ---------------------- */

#define SAME_OFFSET(old, new, field) CHECK_EQ_INT(offsetof(old, field), offsetof(new, field))

TEST(dial_params_1_0_layout_is_unchanged)
{
    SAME_OFFSET(dial_params_1_0, pt_dial_params, options);
    SAME_OFFSET(dial_params_1_0, pt_dial_params, n_options);
    SAME_OFFSET(dial_params_1_0, pt_dial_params, identity);
    SAME_OFFSET(dial_params_1_0, pt_dial_params, log);
    SAME_OFFSET(dial_params_1_0, pt_dial_params, log_userdata);
    SAME_OFFSET(dial_params_1_0, pt_dial_params, log_level);
    /* 1.0 and 1.1 hosts set struct_size = sizeof, tail padding included.
     * The header promises 56 and 72 on LP64; on ILP32 1.0 had no padding
     * there (28 bytes) and the constant is an upper bound of it. */
    if (lp64) {
        CHECK_EQ_INT(PT_DIAL_PARAMS_SIZE_1_0, sizeof(dial_params_1_0));
        CHECK_EQ_INT(PT_DIAL_PARAMS_SIZE_1_0, 56);
        CHECK_EQ_INT(PT_DIAL_PARAMS_SIZE_1_2, 72);
    } else {
        CHECK(PT_DIAL_PARAMS_SIZE_1_0 >= sizeof(dial_params_1_0));
    }
    CHECK_EQ_INT(sizeof(pt_dial_params), PT_DIAL_PARAMS_SIZE_1_2);
}

TEST(stats_1_0_layout_is_unchanged)
{
    SAME_OFFSET(stats_1_0, pt_stats, state);
    SAME_OFFSET(stats_1_0, pt_stats, frames_out);
    SAME_OFFSET(stats_1_0, pt_stats, bytes_out);
    SAME_OFFSET(stats_1_0, pt_stats, frames_in);
    SAME_OFFSET(stats_1_0, pt_stats, bytes_in);
    SAME_OFFSET(stats_1_0, pt_stats, reconnects);
    SAME_OFFSET(stats_1_0, pt_stats, dropped_in);
    SAME_OFFSET(stats_1_0, pt_stats, last_error);
    if (lp64) {
        CHECK_EQ_INT(PT_STATS_SIZE_1_0, sizeof(stats_1_0));
        CHECK_EQ_INT(PT_STATS_SIZE_1_0, 64);
    } else {
        CHECK(PT_STATS_SIZE_1_0 >= sizeof(stats_1_0));
    }
    CHECK_EQ_INT(sizeof(pt_stats), PT_STATS_SIZE_1_0);
}

TEST(plugin_descriptor_sizes_are_the_old_ones)
{
    SAME_OFFSET(plugin_1_0, pt_plugin, name);
    SAME_OFFSET(plugin_1_0, pt_plugin, options);
    SAME_OFFSET(plugin_1_0, pt_plugin, dial);
    SAME_OFFSET(plugin_1_0, pt_plugin, stats);
    SAME_OFFSET(plugin_1_0, pt_plugin, free);
    SAME_OFFSET(plugin_1_1, pt_plugin, send_many);
    CHECK_EQ_INT(PT_PLUGIN_SIZE_1_0, sizeof(plugin_1_0));
    CHECK_EQ_INT(PT_PLUGIN_SIZE_1_1, sizeof(plugin_1_1));
    CHECK_EQ_INT(PT_PLUGIN_V1_0_SIZE, PT_PLUGIN_SIZE_1_0);
    CHECK_EQ_INT(PT_PLUGIN_SIZE_1_2, sizeof(pt_plugin));
    CHECK(PT_PLUGIN_SIZE_1_0 < PT_PLUGIN_SIZE_1_1 && PT_PLUGIN_SIZE_1_1 < PT_PLUGIN_SIZE_1_2);
    CHECK_EQ_INT(PT_SIGNER_SIZE_1_2, sizeof(pt_signer));
}

/* ---- PT_HAS_FIELD ---------------------------------------------------------- */

TEST(no_1_2_field_is_seen_in_a_1_0_or_1_1_struct)
{
    pt_dial_params p = PT_DIAL_PARAMS_INIT;
    pt_plugin d;

    p.struct_size = (uint32_t)sizeof(dial_params_1_0); /* a 1.0 or 1.1 host */
    CHECK(PT_HAS_FIELD(&p, pt_dial_params, log_level));
    CHECK(!PT_HAS_FIELD(&p, pt_dial_params, abi_minor));
    CHECK(!PT_HAS_FIELD(&p, pt_dial_params, cancel_fd));
    CHECK(!PT_HAS_FIELD(&p, pt_dial_params, signer));
    p.struct_size = PT_DIAL_PARAMS_SIZE_1_0;
    CHECK(!PT_HAS_FIELD(&p, pt_dial_params, abi_minor));
    CHECK(!PT_HAS_FIELD(&p, pt_dial_params, signer));

    memset(&d, 0, sizeof d);
    d.struct_size = PT_PLUGIN_SIZE_1_0;
    CHECK(PT_HAS_FIELD(&d, pt_plugin, free));
    CHECK(!PT_HAS_FIELD(&d, pt_plugin, send_many));
    CHECK(!PT_HAS_FIELD(&d, pt_plugin, recv_many));
    CHECK(!PT_HAS_FIELD(&d, pt_plugin, probe));
    d.struct_size = PT_PLUGIN_SIZE_1_1;
    CHECK(PT_HAS_FIELD(&d, pt_plugin, send_many));
    CHECK(!PT_HAS_FIELD(&d, pt_plugin, recv_many));
    CHECK(!PT_HAS_FIELD(&d, pt_plugin, probe));
}

TEST(every_1_2_field_is_seen_in_a_1_2_struct)
{
    pt_dial_params p = PT_DIAL_PARAMS_INIT;
    pt_plugin d;
    pt_signer s = { .struct_size = sizeof s };

    CHECK_EQ_INT(p.struct_size, PT_DIAL_PARAMS_SIZE_1_2);
    CHECK_EQ_INT(p.abi_minor, PT_ABI_MINOR);
    CHECK_EQ_INT(p.cancel_fd, -1);
    CHECK(p.signer == NULL);
    CHECK(PT_HAS_FIELD(&p, pt_dial_params, abi_minor));
    CHECK(PT_HAS_FIELD(&p, pt_dial_params, cancel_fd));
    CHECK(PT_HAS_FIELD(&p, pt_dial_params, signer));
    memset(&d, 0, sizeof d);
    d.struct_size = PT_PLUGIN_SIZE_1_2;
    CHECK(PT_HAS_FIELD(&d, pt_plugin, recv_many));
    CHECK(PT_HAS_FIELD(&d, pt_plugin, probe));
    CHECK(PT_HAS_FIELD(&s, pt_signer, userdata));
    /* One byte short of the last field is not the field. */
    p.struct_size = PT_DIAL_PARAMS_SIZE_1_2 - 1;
    CHECK(!PT_HAS_FIELD(&p, pt_dial_params, signer));
    CHECK(PT_HAS_FIELD(&p, pt_dial_params, cancel_fd));
}

/* ---- A 1.3 struct read by 1.2 code ------------------------------------------ */

/* What a 1.2 reader does with dial params it is given. */
static int read_as_1_2(const pt_dial_params *p, int *cancel_fd, const pt_signer **signer)
{
    *cancel_fd = -1;
    *signer = NULL;
    if (!PT_HAS_FIELD(p, pt_dial_params, log_level))
        return -1;
    if (PT_HAS_FIELD(p, pt_dial_params, cancel_fd) && p->abi_minor >= 2)
        *cancel_fd = p->cancel_fd;
    if (PT_HAS_FIELD(p, pt_dial_params, signer))
        *signer = p->signer;
    return 0;
}

TEST(a_1_3_struct_is_read_by_1_2_code)
{
    static const pt_signer sig = { .struct_size = sizeof sig, .node_id = 9 };
    dial_params_1_3 p3;
    const pt_signer *signer;
    int fd;

    memset(&p3, 0xEE, sizeof p3); /* nothing left to chance */
    p3.v12 = (pt_dial_params)PT_DIAL_PARAMS_INIT;
    p3.v12.struct_size = sizeof p3;
    p3.v12.abi_minor = 3;
    p3.v12.cancel_fd = 42;
    p3.v12.signer = &sig;
    p3.flags_1_3 = 1;
    p3.reserved_1_3 = 0;
    p3.added_1_3 = "from the future";
    CHECK(sizeof p3 > PT_DIAL_PARAMS_SIZE_1_2);
    CHECK_EQ_INT(read_as_1_2(&p3.v12, &fd, &signer), 0);
    CHECK_EQ_INT(fd, 42);
    CHECK(signer == &sig);

    /* A 1.1 host's params, read by the same code: no cancel_fd, no signer,
     * whatever the bytes past its size hold. */
    memset(&p3, 0x01, sizeof p3);
    p3.v12.struct_size = (uint32_t)sizeof(dial_params_1_0);
    CHECK_EQ_INT(read_as_1_2(&p3.v12, &fd, &signer), 0);
    CHECK_EQ_INT(fd, -1);
    CHECK(signer == NULL);
}

TEST(the_udp_plugin_dials_with_1_3_params)
{
    dial_params_1_3 p3;
    pt_option opt = { "bind", "127.0.0.1:0" };
    pt_conn *c = NULL;
    char e[PT_ERRMSG_MAX] = "";

    memset(&p3, 0, sizeof p3);
    p3.v12 = (pt_dial_params)PT_DIAL_PARAMS_INIT;
    p3.v12.struct_size = sizeof p3;
    p3.v12.abi_minor = 3;
    p3.v12.options = &opt;
    p3.v12.n_options = 1;
    p3.added_1_3 = "ignored by a 1.2 plugin";
    CHECK_EQ_INT(udp->dial(&p3.v12, &c, e, sizeof e), PT_OK);
    if (*e)
        printf("# %s\n", e);
    if (c) {
        udp->close(c);
        udp->free(c);
    }
}

/* ---- Old-sized params at the very end of the readable memory -------------- */

/* A page of readable memory followed by a PROT_NONE page; the returned
 * pointer is size bytes before the end of the readable one. */
static void *at_page_end(size_t size, void **map, size_t *map_len)
{
    long pg = sysconf(_SC_PAGESIZE);
    unsigned char *m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    if (mprotect(m + pg, (size_t)pg, PROT_NONE) != 0) {
        munmap(m, 2 * (size_t)pg);
        return NULL;
    }
    *map = m;
    *map_len = 2 * (size_t)pg;
    return m + pg - size;
}

static volatile pid_t in_child_pid; /* the child in_child waits for, or 0 */

/* Run fn(arg) in a child; the child's exit status, or 128 + the signal
 * that killed it (a fault reading past the params is SIGSEGV).  The child
 * gets a generous minute; a hang is a failure too. */
static int in_child(int (*fn)(void *), void *arg)
{
    int status;
    pid_t pid;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        alarm(60);
        _exit(fn(arg));
    }
    in_child_pid = pid > 0 ? pid : 0;
    pid_t got = pid < 0 ? -1 : waitpid(pid, &status, 0);
    in_child_pid = 0;
    if (got != pid || pid < 0)
        return -1;
    if (WIFSIGNALED(status)) {
        printf("# child killed by signal %d%s\n", WTERMSIG(status),
               WTERMSIG(status) == SIGSEGV ? " (read past the params)" : "");
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

/* The watchdog's cleanup (async-signal-safe): the waited-for child and
 * the beacons go with a hung point. */
static void kill_children(void)
{
    if (in_child_pid > 0)
        kill(in_child_pid, SIGKILL);
    harness_kill_children();
}

struct page_dial {
    const pt_plugin *p;
    const pt_option *opts;
    size_t n;
    const pt_identity *id;
    int probe;      /* probe instead of dial */
    int want;       /* the code expected (the child exits 0 when it comes) */
};

static int dial_at_page_end(void *arg)
{
    struct page_dial *pd = arg;
    void *map;
    size_t len;
    char e[PT_ERRMSG_MAX] = "";
    pt_conn *c = NULL;
    int rc;
    dial_params_1_0 *old = at_page_end(sizeof *old, &map, &len);
    if (!old)
        return 90;
    old->struct_size = (uint32_t)sizeof *old;
    old->options = pd->opts;
    old->n_options = pd->n;
    old->identity = pd->id;
    old->log = NULL;
    old->log_userdata = NULL;
    old->log_level = PT_LOG_ERROR;
    /* A 1.1 host hands exactly this to a 1.2 plugin. */
    const pt_dial_params *p = (const pt_dial_params *)(void *)old;
    if (pd->probe)
        rc = pd->p->probe(p, (int)ceiling_ms(2000), e, sizeof e);
    else
        rc = pd->p->dial(p, &c, e, sizeof e);
    printf("# %s %s with %zu-byte params at a page end: %s%s%s\n", pd->p->name,
           pd->probe ? "probe" : "dial", sizeof *old, pt_strerror(rc), *e ? ": " : "", e);
    fflush(stdout);
    if (c) {
        pd->p->close(c);
        pd->p->free(c);
    }
    munmap(map, len);
    return rc == pd->want ? 0 : 1;
}

TEST(udp_dials_1_1_params_at_a_page_end)
{
    pt_option opt = { "bind", "127.0.0.1:0" };
    struct page_dial pd = { udp, &opt, 1, NULL, 0, PT_OK };
    CHECK_EQ_INT(in_child(dial_at_page_end, &pd), 0);
}

/* A UDP port nobody answers on: bound here and never read. */
static int silent_udp_port(int *fd)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    *fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (*fd < 0 || bind(*fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(*fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    return ntohs(a.sin_port);
}

TEST(udp_probes_1_1_params_at_a_page_end)
{
    char where[64];
    int fd, port = silent_udp_port(&fd);
    pt_option opt = { "beacon", where };
    pt_identity node = { .node_id = 7 }; /* a Discover names its node */
    struct page_dial pd = { udp, &opt, 1, &node, 1, PT_ETIMEDOUT };
    CHECK(port > 0);
    snprintf(where, sizeof where, "127.0.0.1:%d", port);
    /* Nobody answers the Discover: the whole budget, then no fault. */
    CHECK_EQ_INT(in_child(dial_at_page_end, &pd), 0);
    close(fd);
}

static beacon bc;
static int have_beacon;

TEST(wss_dials_and_probes_1_1_params_at_a_page_end)
{
    char url[128], ca[600];
    pt_option opts[2] = { { "url", url }, { "ca-file", ca } };
    struct page_dial pd = { wss, opts, 2, &me, 0, PT_OK };
    CHECK(have_beacon);
    if (!have_beacon)
        return;
    snprintf(url, sizeof url, "wss://localhost:%d/v1/compat", bc.port);
    snprintf(ca, sizeof ca, "%s/ca.pem", certs);
    CHECK_EQ_INT(in_child(dial_at_page_end, &pd), 0);
    pd.probe = 1;
    CHECK_EQ_INT(in_child(dial_at_page_end, &pd), 0);
}

/* ---- stats fills whole fields that fit, nothing past ----------------------- */

#define GUARD 0xAB

struct guarded {
    union {
        pt_stats s;
        stats_1_3 s13;
        unsigned char bytes[sizeof(stats_1_3)];
    } u;
    unsigned char guard[32];
};

/* Call stats with struct_size = size on a guarded buffer; check that
 * exactly `filled` bytes were written (struct_size says so) and nothing
 * after them. */
static void check_stats_size(const pt_plugin *p, pt_conn *c, uint32_t size, uint32_t filled)
{
    struct guarded g;
    memset(&g, GUARD, sizeof g);
    g.u.s.struct_size = size;
    CHECK_EQ_INT(p->stats(c, &g.u.s), PT_OK);
    CHECK_EQ_INT(g.u.s.struct_size, filled);
    if (filled >= offsetof(pt_stats, state) + sizeof(int32_t))
        CHECK_EQ_INT(g.u.s.state, PT_STATE_CONNECTED);
    if (filled >= offsetof(pt_stats, frames_out) + sizeof(uint64_t))
        CHECK(g.u.s.frames_out < 1000000); /* a count, not the guard pattern */
    for (size_t i = filled; i < sizeof g.u.bytes; i++)
        if (g.u.bytes[i] != GUARD) {
            printf("# %s stats with struct_size %u wrote byte %zu\n", p->name, size, i);
            CHECK(0);
            return;
        }
    for (size_t i = 0; i < sizeof g.guard; i++)
        CHECK(g.guard[i] == GUARD);
}

static void check_stats_sizes(const pt_plugin *p, pt_conn *c)
{
    const uint32_t through_frames_out =
        (uint32_t)(offsetof(pt_stats, frames_out) + sizeof(uint64_t));
    /* A 1.0 host: everything. */
    check_stats_size(p, c, (uint32_t)sizeof(stats_1_0), PT_STATS_SIZE_1_0);
    /* 20 bytes: struct_size, state and frames_out whole; bytes_out would be
     * cut, so not one byte of it. */
    check_stats_size(p, c, 20, through_frames_out);
    /* A field's last byte missing: the field is left out. */
    check_stats_size(p, c, through_frames_out - 1,
                     (uint32_t)(offsetof(pt_stats, state) + sizeof(int32_t)));
    check_stats_size(p, c, 4, 4);
    /* A 1.3 host: what 1.2 knows, and the 1.3 member untouched. */
    check_stats_size(p, c, (uint32_t)sizeof(stats_1_3), PT_STATS_SIZE_1_0);
    /* Under 4: refused, nothing written. */
    {
        struct guarded g;
        memset(&g, GUARD, sizeof g);
        g.u.s.struct_size = 3;
        CHECK_EQ_INT(p->stats(c, &g.u.s), PT_EINVAL);
        CHECK_EQ_INT(g.u.s.struct_size, 3);
        CHECK(g.u.bytes[4] == GUARD);
    }
}

TEST(udp_stats_fill_only_whole_fields_that_fit)
{
    pt_option opt = { "bind", "127.0.0.1:0" };
    pt_dial_params p = PT_DIAL_PARAMS_INIT;
    pt_conn *c = NULL;
    char e[PT_ERRMSG_MAX];
    p.options = &opt;
    p.n_options = 1;
    CHECK_EQ_INT(udp->dial(&p, &c, e, sizeof e), PT_OK);
    if (!c)
        return;
    check_stats_sizes(udp, c);
    udp->close(c);
    udp->free(c);
}

TEST(wss_stats_fill_only_whole_fields_that_fit)
{
    pt_conn *c = NULL;
    CHECK(have_beacon);
    if (!have_beacon)
        return;
    CHECK_EQ_INT(dial_with(&bc, &me, NULL, &c), PT_OK);
    if (!c) {
        printf("# %s\n", err);
        return;
    }
    check_stats_sizes(wss, c);
    done(c);
}

int main(void)
{
    char e[PT_ERRMSG_MAX];

    if (harness_init() != 0)
        return 1;
    tap_on_hang = kill_children;
    if (pt_loader_open("udp", NULL, &udp, e, sizeof e) != PT_OK) {
        printf("Bail out! %s\n", e);
        return 1;
    }
    have_beacon = beacon_start(&bc, "server", 0, NULL) == 0;

    RUN(dial_params_1_0_layout_is_unchanged);
    RUN(stats_1_0_layout_is_unchanged);
    RUN(plugin_descriptor_sizes_are_the_old_ones);
    RUN(no_1_2_field_is_seen_in_a_1_0_or_1_1_struct);
    RUN(every_1_2_field_is_seen_in_a_1_2_struct);
    RUN(a_1_3_struct_is_read_by_1_2_code);
    RUN(the_udp_plugin_dials_with_1_3_params);
    RUN(udp_dials_1_1_params_at_a_page_end);
    if (udp->probe)
        RUN(udp_probes_1_1_params_at_a_page_end);
    else
        SKIP(udp_probes_1_1_params_at_a_page_end, "this udp plugin has no probe");
    RUN(udp_stats_fill_only_whole_fields_that_fit);
    RUN(wss_dials_and_probes_1_1_params_at_a_page_end);
    RUN(wss_stats_fill_only_whole_fields_that_fit);
    if (have_beacon)
        beacon_stop(&bc);
    harness_cleanup();
    return tap_done();
}
