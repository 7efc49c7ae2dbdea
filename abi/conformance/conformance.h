/*
 * conformance.h -- what the files of pilot-transport-conformance share:
 * the plugin under test and how to reach it, one check's context and how
 * a check reports, and the loopback link the I/O checks run over.
 *
 * Every check runs in a child process of its own (main.c), so that a
 * plugin that crashes or hangs fails that check, not the run.  A check
 * reports through the cx_* functions below; the parent turns what it
 * reported into one TAP line.  Prefix: cx_ (a check's context), link_ (the
 * loopback), and each check file's own.
 */
#ifndef PT_CONFORMANCE_H
#define PT_CONFORMANCE_H

#include <stddef.h>
#include <stdint.h>

#include "pilot_transport_loader.h"

/* How a connection comes back to the suite. */
enum loopback {
    LOOPBACK_SELF,  /* one connection sends to its own local_addr */
    LOOPBACK_RELAY  /* two connections to a beacon, Relay messages between them */
};

/* The plugin under test, and what the user said about dialling it. */
struct target {
    const char *arg;            /* as given on the command line */
    const char *path;           /* the file */
    char mode[32];              /* from the file name: pilot-transport-MODE.so */
    const pt_plugin *plugin;    /* the loader's copy (host-sized) */
    const pt_plugin *raw;       /* the plugin's own descriptor */
    /* Dialling. */
    const pt_option *options;   /* -opt KEY=VALUE */
    size_t n_options;
    const pt_identity *identity; /* -identity, or NULL */
    enum loopback loopback;
    uint32_t node_id, peer_node_id; /* relay: the two connections' nodes */
    const pt_addr *beacon;      /* relay over a transport that needs a dst */
    int64_t slack_ms;           /* added to every upper bound on time */
    int verbose;
};

/* One check's context, in the child that runs it. */
struct cx {
    const struct target *t;
    const pt_plugin *p;         /* t->plugin */
    int out;                    /* pipe to the parent */
    unsigned passed, failed;
    int skipped;
    int abandoned;              /* a thread is still inside the plugin: never free */
    uint32_t tag;               /* marks this check's datagrams (relay mode) */
};

/* A check: one TAP test point. */
struct check {
    const char *name;           /* "what it checks", printed after "ok N - " */
    void (*run)(struct cx *x);
};

/* Each check file's list, NULL-name terminated, in the order they run. */
extern const struct check checks_descriptor[], checks_params[], checks_io[],
    checks_threads[], checks_poll[], checks_stats[], checks_probe[], checks_signer[];

/* ---- Reporting (child side) ------------------------------------------- */

/* A failed expectation: the first becomes the TAP line's "why". */
void cx_fail(struct cx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A met expectation (counted: a check that meets none and skips nothing
 * fails with "no checks ran"). */
void cx_pass(struct cx *x);
/* Detail shown with -v (and under a failure). */
void cx_note(struct cx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The check cannot run here; the reason follows "# SKIP". */
void cx_skip(struct cx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cond met, or fail with the message. */
#define EXPECT(x, cond, ...)                                                              \
    do {                                                                                  \
        if (cond)                                                                         \
            cx_pass(x);                                                                   \
        else                                                                              \
            cx_fail(x, __VA_ARGS__);                                                      \
    } while (0)

/* A call returned want, or fail naming both codes: "send(len 0) returned
 * 0, want PT_EINVAL (-5)". */
int cx_expect_rc(struct cx *x, int got, int want, const char *call);

/* "PT_ECLOSED" for a code; "PT_OK", or the number for counts. */
const char *cx_code_name(int code);

/* The plugin's slot at offset off (offsetof(pt_plugin, ...)) exists: the
 * plugin's minor has it and it is not NULL.  Otherwise skips the check
 * with the reason and returns 0. */
int cx_has_slot(struct cx *x, size_t off, size_t end, const char *name);
#define CX_HAS(x, slot)                                                                   \
    cx_has_slot(x, offsetof(pt_plugin, slot),                                             \
                offsetof(pt_plugin, slot) + sizeof(((pt_plugin *)0)->slot), #slot)

/* Milliseconds on the monotonic clock. */
int64_t cx_now_ms(void);
/* An upper bound: base_ms plus the user's slack. */
int64_t cx_bound_ms(const struct cx *x, int64_t base_ms);

/* ---- Dialling --------------------------------------------------------- */

/* Dial parameters for this target as the user gave them (options,
 * identity for node, a logger feeding cx_note), in *params with room for
 * extra options in opts (n_opts entries).  extra (n_extra) are appended to
 * the user's options. */
void cx_params(struct cx *x, pt_dial_params *params, pt_identity *id, uint32_t node,
               pt_option *opts, size_t n_opts, const pt_option *extra, size_t n_extra);

/* Dial one connection with cx_params(..., node, no extra).  Returns the
 * connection, or NULL after failing the check with the dial's error. */
pt_conn *cx_dial(struct cx *x, uint32_t node);

/* Close (unless abandoned) and free; NULL is fine. */
void cx_release(struct cx *x, pt_conn *c);

/* ---- The loopback link ------------------------------------------------- */

/* Datagrams the suite sends carry payload [tag][seq][pattern...]: tag
 * tells this check's datagrams from any an earlier check left in flight
 * to the same node (relay mode), seq which one it is, and the pattern
 * (a function of seq and offset) shows corruption. */
#define LINK_HEADER 8

struct link {
    struct cx *x;
    const pt_plugin *p;
    pt_conn *tx, *rx;           /* the same connection in self mode */
    pt_addr dst;                /* where tx sends: rx's address, or the beacon */
    int has_dst;
    int relay;
    uint32_t tx_node, rx_node;
    size_t tx_over, rx_over;    /* bytes the relay adds each way */
    uint64_t strays;            /* datagrams of no concern to this check */
};

/* Dial the link: tx (and rx in relay mode; over a transport with a
 * beacon address, both Discover first).  Returns 0, or -1 after failing
 * the check with why. */
int link_open(struct cx *x, struct link *l);
void link_close(struct link *l);

/* The datagram tx sends to carry payload seq of plen bytes (plen >=
 * LINK_HEADER) into buf (cap bytes).  Returns its length, or 0 if it
 * does not fit. */
size_t link_build(const struct link *l, uint32_t seq, size_t plen, unsigned char *buf,
                  size_t cap);

/* Send payload seq of plen bytes through tx with send().  Returns send's
 * result (the datagram's length on success). */
int link_send(struct link *l, uint32_t seq, size_t plen);

/* The next datagram of this check on rx: 1 with *seq and *plen set (a
 * corrupted one fails the check and counts as received), or recv's error
 * (PT_ETIMEDOUT once timeout_ms has passed).  Datagrams of earlier checks
 * are skipped. */
int link_next(struct link *l, int timeout_ms, uint32_t *seq, size_t *plen);

/* Receive until payload seq arrives (1) or timeout_ms passes (0), or an
 * error (< 0); fails the check for any other datagram of this check that
 * arrives first (named in what). */
int link_expect(struct link *l, uint32_t seq, size_t plen, int timeout_ms, const char *what);

/* Check a received datagram (len bytes): is it this check's, and intact?
 * Returns 1 with *seq and *plen set, 0 for someone else's, -1 if corrupted (with
 * why). */
int link_parse(const struct link *l, const unsigned char *d, size_t len, uint32_t *seq,
               size_t *plen, char *why, size_t whylen);

/* Room for any datagram. */
#define LINK_BUF (PT_MAX_FRAME + 64)

#endif
