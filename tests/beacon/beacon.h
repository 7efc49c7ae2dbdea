/*
 * beacon.h -- pilot-beacon-dev, the development beacon the WSS tests run
 * against (SPEC 3).  Shared by its files; not part of the project's
 * libraries.  Prefix: bc_.
 *
 *   beacon.c    main: options, signals, STATS line
 *   registry.c  the node id -> Ed25519 public key file
 *   auth.c      the challenge and the check of the auth_reply
 *   server.c    libwebsockets: HTTP (/health, /stats), upgrade policy, peers
 *   relay.c     relay mode: the UDP socket, Discover, routing Relay messages
 *
 * Everything runs on one thread (the libwebsockets service loop); the only
 * other context is the signal handler, which touches sig_atomic_t flags and
 * calls bc_server_wake().
 */
#ifndef PT_BEACON_H
#define PT_BEACON_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Largest data message either way (SPEC 2.6). */
#define BC_MAX_FRAME 65536

/* The subprotocol clients must offer (SPEC 2.4). */
#define BC_SUBPROTOCOL "pilot.v1"

/* The only path upgrades are accepted on. */
#define BC_WS_PATH "/v1/compat"

/* What the beacon does with binary messages after auth (--mode). */
enum bc_mode {
    BC_MODE_RELAY, /* route Relay messages between WSS and UDP peers (SPEC 3) */
    BC_MODE_ECHO,  /* send each one back to its sender */
    BC_MODE_SINK   /* count them and forget them */
};

/* --challenge=...: what the beacon sends instead of a good challenge. */
enum bc_challenge_kind {
    BC_CH_GOOD,        /* the real thing */
    BC_CH_BINARY,      /* a correct challenge, but in a binary frame */
    BC_CH_MALFORMED,   /* text that is not JSON */
    BC_CH_WRONG_TYPE,  /* "type":"auth_hello" */
    BC_CH_EMPTY_NONCE  /* "nonce":"" */
};

/* The command line, parsed (beacon.c). */
typedef struct bc_opts {
    char listen_host[64];
    int port;                 /* 0: the kernel picks */
    const char *cert, *key;   /* PEM files; NULL with plaintext */
    int plaintext;
    const char *registry;     /* NULL: no node is known */
    int mode;                 /* enum bc_mode */
    int legacy_auth;          /* challenge without ts */
    const char *subprotocol;  /* what the beacon selects */
    unsigned auth_timeout;    /* seconds */
    unsigned idle_timeout;    /* seconds */
    int idle_data_only;       /* the production beacon's idle rule (SPEC 6):
                               * only data messages reset the idle clock, and
                               * the idle drop is a TCP EOF, no close frame */
    unsigned max_peers;       /* 0: no cap */
    int verbose;
    /* Faults for the client's tests. */
    int reject_auth;
    int challenge;            /* enum bc_challenge_kind */
    int no_auth_ok;
    uint64_t drop_after;      /* 0: never */
    uint64_t refuse;          /* upgrades still to answer with 503 */
    int no_pong;
    int oversize;
    int text_after_auth;
    int fragment;
    int ping_after_auth;
    int close_after_auth;     /* close right after auth_ok with this code */
    const char *close_reason; /* and this reason */
} bc_opts;

/* The reason of the close that ends a replaced connection (SPEC 3), also
 * --close-after-auth's default (with code 1000). */
#define BC_REASON_REPLACED "replaced"

/* The counters printed as the STATS line. */
typedef struct bc_stats {
    uint64_t upgrades;   /* WebSocket upgrades accepted (101 sent) */
    uint64_t auth_ok;    /* replies verified */
    uint64_t auth_fail;  /* connections closed 1008 "auth failed" */
    uint64_t frames_in;  /* binary messages received after auth */
    uint64_t frames_out; /* binary messages sent (echoes, RelayDelivers,
                          * --oversize) */
    uint64_t bytes_in;   /* their payload bytes */
    uint64_t bytes_out;
    uint64_t drops;      /* peers dropped by the beacon: too large, auth or
                          * idle timeout, --drop-after, --close-after-auth */
    uint64_t refused;    /* upgrades refused with an HTTP status */
    /* Relay mode. */
    uint64_t relayed;    /* Relay messages delivered as RelayDeliver */
    uint64_t relay_dropped; /* beacon messages not delivered: short or
                             * malformed, spoofed sender, a type the beacon
                             * does not take there, no route, queue full */
    uint64_t udp_in;     /* datagrams received on the UDP socket */
    uint64_t udp_out;    /* datagrams sent from it */
    uint64_t discovers;  /* Discovers answered */
    /* TLS handshakes completed (not counted with --plaintext). */
    uint64_t tls_full;    /* with a new session */
    uint64_t tls_resumed; /* resuming one (a TLS 1.3 ticket, or a 1.2 one or
                           * session id) */
    uint64_t text_in;    /* text messages received after auth (ignored) */
} bc_stats;

/* The counters as text (beacon.c): json 0 gives "k=v k=v ...", json 1
 * gives {"k":v,...}; same names, same order.  NUL-terminated in buf;
 * returns the length, or -1 if cap is too small. */
int bc_stats_format(const bc_stats *st, int json, char *buf, size_t cap);

/* ---- registry.c ---------------------------------------------------------- */

typedef struct bc_reg_entry {
    uint32_t node_id;
    uint8_t key[32];
} bc_reg_entry;

typedef struct bc_registry {
    bc_reg_entry *e;
    size_t n, cap;
} bc_registry;

/* Load path: lines "NODE_ID BASE64_PUBKEY" (standard base64 of 32 bytes),
 * blank lines and lines starting with '#' ignored.  Node id 0 and a node id
 * listed twice are errors.  Returns 0, or -1 with a message naming the file
 * and line in err.  reg must be zeroed or freed before. */
int bc_registry_load(bc_registry *reg, const char *path, char *err, size_t errlen);

/* The key on record for node_id, or NULL. */
const uint8_t *bc_registry_find(const bc_registry *reg, uint32_t node_id);

void bc_registry_free(bc_registry *reg);

/* ---- auth.c -------------------------------------------------------------- */

#define BC_NONCE_HEX 64

typedef struct bc_challenge {
    char nonce[BC_NONCE_HEX + 1];
    int has_ts;
    uint64_t ts;
} bc_challenge;

/* A fresh challenge: 32 random bytes as lowercase hex, ts = now unless
 * legacy.  Returns 0, or -1 when there is no randomness. */
int bc_auth_new_challenge(bc_challenge *ch, int legacy);

/* The text of the challenge message of the given kind (enum
 * bc_challenge_kind; BC_CH_BINARY writes the good text, the caller sends it
 * as binary) into buf, NUL-terminated.  Returns its length, or -1 if cap is
 * too small. */
int bc_auth_challenge_text(const bc_challenge *ch, int kind, char *buf, size_t cap);

/* Check an auth_reply (len bytes, not NUL-terminated) to challenge ch: JSON
 * object, "type":"auth_reply", "node_id" an integer 1..2^32-1 on record in
 * reg, "sig" the standard base64 of a 64-byte Ed25519 signature by that
 * node's registered key over "compat_auth:<id>:<ts>:<nonce>" (without
 * "<ts>:" when !ch->has_ts).  "public_key" is not used.  Returns 0 and sets
 * *node_id, or -1 with the reason in why. */
int bc_auth_check_reply(const bc_registry *reg, const bc_challenge *ch, const char *msg,
                        size_t len, uint32_t *node_id, char *why, size_t whylen);

/* ---- relay.c ------------------------------------------------------------- */

/* Open the relay's UDP socket on host:port (port 0: the kernel picks),
 * non-blocking.  Returns the descriptor and sets *bound_port, or -1 with
 * the reason in err; errno is kept (EADDRINUSE: the port is taken). */
int bc_relay_open_udp(const char *host, int port, int *bound_port, char *err, size_t errlen);

/* Start relaying: counters in st, datagrams on fd (-1: WSS peers only). */
void bc_relay_init(bc_stats *st, int fd);

/* Read and handle the datagrams waiting on the UDP socket.  Call when the
 * socket is readable; handles a bounded number and returns. */
void bc_relay_udp_readable(void);

/* One binary message of len bytes from the WSS peer authenticated as
 * node: a Relay is routed, anything else dropped and counted. */
void bc_relay_from_peer(uint32_t node, const unsigned char *msg, size_t len);

/* Forget the UDP nodes (the socket is closed by its owner). */
void bc_relay_free(void);

/* ---- server.c ------------------------------------------------------------ */

/* Set by the signal handlers (beacon.c), read by the service loop. */
extern volatile sig_atomic_t bc_stop_requested;
extern volatile sig_atomic_t bc_stats_requested;
extern volatile sig_atomic_t bc_text_requested; /* SIGUSR2 */

/* Run the beacon until bc_stop_requested: create the server (and in relay
 * mode the UDP socket on the same port number), print "READY port=N"
 * ("READY port=N udp=N" in relay mode) on stdout, serve.  Returns 0 after
 * a clean shutdown, -1 if the server could not start (message on stderr). */
int bc_server_run(const bc_opts *o, const bc_registry *reg, bc_stats *st);

/* Queue msg (len bytes) as one binary message to the authenticated WSS
 * peer of node.  Returns 1 when queued, 0 when no such peer is connected,
 * -1 when it is but the message cannot be queued (queue full, no memory). */
int bc_server_deliver(uint32_t node, const unsigned char *msg, size_t len);

/* Wake the service loop; async-signal-safe. */
void bc_server_wake(void);

/* Print the STATS line on stderr. */
void bc_stats_print(const bc_stats *st);

#endif
