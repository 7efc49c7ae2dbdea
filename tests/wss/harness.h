/*
 * harness.h -- shared by the programs that test the WSS plugin against the
 * project's beacon (test-wss, torture, chaos, faults): the scratch
 * directory and certificates, the identities, the beacon process, dialling.
 *
 * harness_init() makes a directory under $TMPDIR with a throwaway CA
 * (tests/wss/make-certs.sh: ca.pem, server.pem, ...), identities `me`
 * (node NODE, in the registry) and `stranger` (same node, another key),
 * and loads the WSS plugin into `wss`.  On failure it prints a TAP
 * "Bail out!" line.  harness_cleanup() wipes the keys and the directory.
 */
#ifndef PT_TEST_WSS_HARNESS_H
#define PT_TEST_WSS_HARNESS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "identity.h"
#include "pilot_transport.h"
#include "pilot_transport_loader.h"

#define NODE 7

extern const pt_plugin *wss;
extern const char *beacon_bin;
extern char dir[256], certs[512], registry[512];
extern pt_identity me, stranger;
extern char err[PT_ERRMSG_MAX]; /* the last dial's error */
/* Under valgrind everything is ~10x slower: make check-valgrind sets
 * PT_TIME_SCALE=10 and every duration stretches with it. */
extern int scale;

/* A busy machine (two cores running builds beside the tests) can keep a
 * process from a CPU for a good part of a second, more than once.  Upper
 * bounds on how long something took get this much on top of what the code
 * under test needs; lower bounds get nothing. */
#define LOAD_SLACK_MS 3000
/* The ceiling for something that needs ms: (ms + LOAD_SLACK_MS), scaled. */
int64_t ceiling_ms(int64_t ms);

int harness_init(void);
void harness_cleanup(void);

int64_t now_ms(void);
/* The absolute time ms (not scaled) from now on clock, for
 * pthread_cond_timedwait. */
struct timespec deadline_after_ms(clockid_t clock, int64_t ms);
/* A duration option value of ms (scaled), e.g. "1000ms"; 8 rotating buffers. */
const char *dur(int ms);

typedef struct beacon {
    pid_t pid;
    int port;   /* TLS port; in relay mode UDP listens on the same number */
    int out_fd; /* the beacon's stdout, after READY */
    int err_fd; /* its stderr (log and STATS lines) if captured, else -1 */
    char err_buf[1024]; /* the start of a line read from err_fd */
    size_t err_len;
} beacon;

/* Start the beacon with certificate `cert` (server, expired, ...), on port
 * (0 picks a free one), in echo mode unless flags (NULL-ended) say
 * otherwise.  Waits for its READY line.  0 or -1. */
int beacon_start(beacon *b, const char *cert, int port, const char *const *flags);
/* The same with its stderr captured in b->err_fd, for beacon_wait_line and
 * beacon_counter.  The beacon blocks when the pipe is full: only for tests
 * that read its lines as they go and do not make it log much. */
int beacon_start_captured(beacon *b, const char *cert, int port, const char *const *flags);
/* Read its stderr (at most ms, scaled) until a line containing needle;
 * whether one came.  Lines read are gone. */
int beacon_wait_line(beacon *b, const char *needle, int ms);
/* SIGUSR1, and the counter name (bc_stats, e.g. "text_in") of the STATS line
 * it prints.  0, or -1 with a diagnostic. */
int beacon_counter(beacon *b, const char *name, uint64_t *value);
/* SIGUSR2: the beacon sends every authenticated peer the text
 * {"type":"future"} (as --text-after-auth does after auth_ok).  0 or -1. */
int beacon_send_text(beacon *b);
/* Child processes the harness or a test started (beacons are tracked by
 * beacon_start and beacon_stop): harness_kill_children SIGKILLs every one
 * still tracked, async-signal-safe, for the watchdog (tap_on_hang). */
void harness_track_child(pid_t pid);
void harness_untrack_child(pid_t pid);
void harness_kill_children(void);

/* Send child pid sig (and SIGCONT, in case it is stopped; no signal if sig
 * is 0), then reap it within ms (not scaled), reading and discarding what
 * drain_fd (-1: none) brings meanwhile; past ms it is killed (SIGKILL) and
 * reaped, after a "# ..." line.  Its wait status in *status (if not NULL).
 * 0, or -1 if it was not our child. */
int reap(pid_t pid, int sig, int64_t ms, int drain_fd, int *status);
/* Signal it, reap it (reap(), within ceiling_ms(5000)); returns its wait
 * status (-1 if not running). */
int beacon_stop_sig(beacon *b, int sig);
void beacon_stop(beacon *b);

/* A loopback port that was free a moment ago (for servers that cannot
 * pick their own), or -1. */
int free_port(void);

/* A loopback TCP listener on a port of its own (*port), with room for
 * backlog connections nobody accepts: the kernel completes their TCP
 * handshakes, and nothing answers them unless the test does.  The
 * listening descriptor, or -1. */
int listener(int *port, int backlog);

/* This process's threads (/proc/self/status), -1 if unknown. */
int count_threads(void);

/* Find this process's TCP socket to 127.0.0.1:port (the plugin's) and
 * give it a 64 KiB send buffer, so that a peer that stops reading blocks
 * its sender after little data (loopback buffers otherwise grow to MiB).
 * Returns the descriptor, or -1 when there is none. */
int shrink_send_buffer(int port);

/* The SPKI SHA-256 pin (base64) of a certificate file into out, computed
 * independently of the plugin (GnuTLS key id over the
 * SubjectPublicKeyInfo).  1, or 0 on failure. */
int spki_pin(const char *file, char *out, size_t cap);

/* The parameters dial_with passes, for a test to change before it dials
 * (signer, cancel_fd, abi_minor, struct_size): PT_DIAL_PARAMS_INIT with
 * identity id and options kv ("name", "value", ..., NULL), whose url and
 * ca-file default to wss://localhost:port/v1/compat and the test CA. */
typedef struct dial_setup {
    pt_option opts[16];
    char url[128], ca[600];
    pt_dial_params p;
} dial_setup;
void dial_setup_init(dial_setup *d, int port, const pt_identity *id, const char *const *kv);
/* Dial with d->p; err holds the dial's message. */
int dial_setup_dial(dial_setup *d, pt_conn **c);

/* Dial the beacon as id with options kv ("name", "value", ..., NULL); the
 * url and ca-file default to the beacon and the test CA.  err holds the
 * dial's message. */
int dial_with(const beacon *b, const pt_identity *id, const char *const *kv, pt_conn **c);
/* close + free; NULL is fine. */
void done(pt_conn *c);
/* Start a beacon (certificate "server", flags) and dial it as `me` with
 * options kv: the connection, or NULL after a "# ..." line saying what
 * failed.  down() undoes it, whatever happened. */
pt_conn *beacon_and_dial(beacon *b, const char *const *flags, const char *const *kv);
/* done(c), then stop b if it runs. */
void down(beacon *b, pt_conn *c);

/* ---- The plugin's log --------------------------------------------------------
 *
 * A host log callback that keeps each line with the time it came, so a test
 * can wait for a line as an event and measure the time between lines.  Lines
 * past LOG_BOOK_LINES are counted in n but not kept. */
#define LOG_BOOK_LINES 4096
typedef struct log_line {
    int64_t ms; /* now_ms() when the line came */
    int level;
    char msg[240];
} log_line;

typedef struct log_book {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned n;
    log_line line[LOG_BOOK_LINES];
} log_book;

/* A zeroed, empty book (it is large: make it static or allocate it). */
void log_book_init(log_book *lb);
void log_book_destroy(log_book *lb);
/* The pt_log_fn: userdata is the book. */
void log_book_add(void *userdata, int level, const char *msg);
/* How many kept lines contain needle now. */
unsigned log_book_count(log_book *lb, const char *needle);
/* Wait (at most ms, scaled) until count kept lines contain needle; whether
 * they do. */
int log_book_wait(log_book *lb, const char *needle, unsigned count, int ms);
/* dial_with, logging into lb at level (PT_LOG_*). */
int dial_logged(const beacon *b, const pt_identity *id, const char *const *kv, log_book *lb,
                int level, pt_conn **c);

pt_stats stats_of(pt_conn *c);
/* Wait (at most ms, scaled) until c has redialled count times and, if
 * connected is set, is up again; recv doubles as the wait. */
int wait_redials(pt_conn *c, uint64_t count, int connected, int ms);
int wait_reconnects(pt_conn *c, uint64_t count, int ms);
int wait_state(pt_conn *c, int state, int ms);

/* Append src to dst (cap bytes, NUL-terminated) with memcpy only: no
 * stdio or printf buffer gets a copy (of a password, say). */
void str_append(char *dst, size_t cap, const char *src);

/* A real tinyproxy (Basic auth, user "user") for the proxy tests. */
typedef struct tinyproxy {
    pid_t pid;
    int port;
} tinyproxy;
/* Start it on a free port with password pw; ready once it accepts a
 * connection.  Its config is written without stdio from a buffer wiped
 * after, so this process keeps no copy of pw.  0, or -1 (nothing left
 * running). */
int tinyproxy_start(tinyproxy *px, const char *pw);
void tinyproxy_stop(tinyproxy *px);
/* A beacon ("server" certificate) and a tinyproxy with password pw for a
 * proxy test: 0, or -1 (after a "# ..." line) with neither left running. */
int beacon_and_tinyproxy(beacon *b, tinyproxy *px, const char *pw);

#endif
