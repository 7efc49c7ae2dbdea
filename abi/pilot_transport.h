/*
 * pilot_transport.h -- the Pilot Protocol transport plugin ABI.
 *
 * A transport moves opaque datagrams (Pilot tunnel frames) between a daemon
 * and the network.  Each transport is a shared object that exports exactly
 * one symbol, PT_ENTRY_SYMBOL, returning a descriptor (struct pt_plugin):
 * a versioned table of functions.  Hosts find and load plugins with the
 * loader declared in pilot_transport_loader.h; plugins need only this file.
 *
 * Versioning
 *   PT_ABI_MAJOR changes when an existing type or function changes meaning;
 *   the entry symbol's name carries it, so a plugin built for another major
 *   is not even found.  PT_ABI_MINOR grows when functions are appended to
 *   struct pt_plugin (only ever at the end).  Every versioned struct starts
 *   with its own size, so either side can tell which fields the other knows.
 *   The loader refuses a descriptor with another major or one too small to
 *   hold the version 1.0 functions, and hides slots beyond the plugin's size
 *   (they read as NULL), so a host never calls past what a plugin provides.
 *
 * Errors
 *   Functions return 0 or a non-negative count on success and a negative
 *   PT_E* code on failure.  The detail of the last failure on a connection
 *   is available as text from pt_plugin.last_error(); dial failures write
 *   their detail into the caller's buffer.
 *
 * Threads
 *   On one connection, one thread may call recv while another calls send
 *   (one reader and one writer at a time).  close may be called from any
 *   thread at any time, more than once: it wakes a recv or send blocked in
 *   another thread, which then returns PT_ECLOSED.  stats, local_addr,
 *   poll_fd and last_error may be called from any thread.  free must be
 *   called exactly once, after close, when no other call on that connection
 *   is in progress.  Different connections are independent.
 *
 * Secrets
 *   Plugins copy what they keep of pt_identity (the private key, if they
 *   need it again to re-authenticate) and wipe it when the connection is
 *   freed; the host may wipe its own copy as soon as dial returns.  Plugins
 *   never put key material or proxy credentials in error or log messages.
 */
#ifndef PILOT_TRANSPORT_H
#define PILOT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versioning -------------------------------------------------------- */

#define PT_ABI_MAJOR 1
#define PT_ABI_MINOR 1

#define PT_STRINGIFY_(x) #x
#define PT_STRINGIFY(x) PT_STRINGIFY_(x)
/* The one symbol a plugin exports: "pilot_transport_plugin_v1". */
#define PT_ENTRY_NAME_(major) pilot_transport_plugin_v##major
#define PT_ENTRY_NAME(major) PT_ENTRY_NAME_(major)
#define PT_ENTRY PT_ENTRY_NAME(PT_ABI_MAJOR)
#define PT_ENTRY_SYMBOL PT_STRINGIFY(PT_ENTRY)

/* ---- Limits and well-known values -------------------------------------- */

/* Largest datagram any transport carries (SPEC 2.6).  A recv buffer of this
 * size always suffices. */
#define PT_MAX_FRAME 65536

/* Longest message last_error() or a dial error buffer ever holds, with NUL. */
#define PT_ERRMSG_MAX 512

/* ---- Error codes ------------------------------------------------------- */

enum pt_error {
    PT_OK = 0,
    PT_ECLOSED = -1,       /* the connection was closed; it is final */
    PT_ERECONNECTING = -2, /* no live connection now; the frame was NOT sent */
    PT_ETIMEDOUT = -3,     /* the timeout passed with nothing to return */
    PT_ETOOLARGE = -4,     /* frame larger than PT_MAX_FRAME or the buffer */
    PT_EINVAL = -5,        /* invalid argument (NULL pointer, bad address) */
    PT_EOPTION = -6,       /* unknown option key or invalid option value */
    PT_EAUTH = -7,         /* the peer refused our identity, or auth failed */
    PT_ETLS = -8,          /* TLS handshake or certificate verification */
    PT_EIO = -9,           /* network or I/O error (DNS, connect, socket) */
    PT_ENOMEM = -10,       /* out of memory */
    PT_EPROTO = -11,       /* the peer broke the protocol */
    PT_EPROXY = -12,       /* the proxy refused or failed */
    PT_EUNSUPPORTED = -13  /* this plugin does not implement the operation */
};

/* ---- Types ------------------------------------------------------------- */

/* A connection.  Opaque: only the plugin that made it knows its layout. */
typedef struct pt_conn pt_conn;

/* A datagram address.  For WSS it is synthetic (SPEC 2: 192.0.2.1 local,
 * 192.0.2.2 the beacon). */
typedef struct pt_addr {
    uint8_t family;  /* PT_AF_INET or PT_AF_INET6 */
    uint8_t reserved_;
    uint16_t port;   /* host byte order */
    uint32_t scope_id;
    uint8_t ip[16];  /* network order; IPv4 uses the first 4 bytes */
} pt_addr;

#define PT_AF_INET 4
#define PT_AF_INET6 6

/* One plugin option, e.g. {"url", "wss://beacon.example/v1/compat"}. */
typedef struct pt_option {
    const char *key;
    const char *value;
} pt_option;

/* Documentation of one option a plugin accepts; arrays end with key NULL. */
typedef struct pt_option_doc {
    const char *key;
    const char *value_syntax; /* e.g. "HOST:PORT", "DURATION" */
    const char *default_value; /* NULL when there is none */
    const char *help;
} pt_option_doc;

/* Log levels of the host's callback. */
enum pt_log_level { PT_LOG_ERROR = 0, PT_LOG_WARN = 1, PT_LOG_INFO = 2, PT_LOG_DEBUG = 3 };

/* Called by the plugin, from any of its threads, with one line of text
 * (no trailing newline).  Must be thread-safe and must not call back into
 * the plugin. */
typedef void (*pt_log_fn)(void *userdata, int level, const char *message);

/* Who this node is.  Transports that do not authenticate ignore it. */
typedef struct pt_identity {
    uint32_t node_id;            /* 0: none */
    uint8_t public_key[32];      /* Ed25519 */
    uint8_t private_key[64];     /* Ed25519: 32-byte seed, then public key */
    int has_key;                 /* non-zero when the keys above are set */
} pt_identity;

/* Everything dial needs.  The host sets struct_size = sizeof(pt_dial_params);
 * pointers need only stay valid for the duration of the dial call, except
 * log/log_userdata, which must stay valid until free. */
typedef struct pt_dial_params {
    uint32_t struct_size;
    const pt_option *options;    /* n_options entries; may be NULL if 0 */
    size_t n_options;
    const pt_identity *identity; /* may be NULL */
    pt_log_fn log;               /* may be NULL: no logging */
    void *log_userdata;
    int log_level;               /* most verbose level delivered */
} pt_dial_params;

/* Whether a versioned struct whose first member is uint32_t struct_size is
 * large enough to contain field (a reader's check before using it). */
#define PT_HAS_FIELD(ptr, type, field) \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* One datagram for send_many (ABI 1.1). */
typedef struct pt_frame {
    const void *data;
    size_t len;                  /* 1..PT_MAX_FRAME */
    const pt_addr *dst;          /* as send's dst */
} pt_frame;

/* Connection state as seen by stats. */
enum pt_state { PT_STATE_CONNECTED = 1, PT_STATE_RECONNECTING = 2, PT_STATE_CLOSED = 3 };

/* Per-connection statistics.  The host sets struct_size; the plugin fills
 * the fields that fit and leaves the rest untouched. */
typedef struct pt_stats {
    uint32_t struct_size;
    int32_t state;          /* enum pt_state */
    uint64_t frames_out, bytes_out;
    uint64_t frames_in, bytes_in;
    uint64_t reconnects;    /* successful re-dials after a drop */
    uint64_t dropped_in;    /* inbound frames discarded (oversize, buffer) */
    int32_t last_error;     /* most recent PT_E* code, 0 if none */
} pt_stats;

/* ---- The descriptor ---------------------------------------------------- */

typedef struct pt_plugin {
    /* Header: always present, never reordered. */
    uint32_t struct_size;        /* sizeof(struct pt_plugin) as built */
    uint16_t abi_major;          /* PT_ABI_MAJOR as built */
    uint16_t abi_minor;          /* PT_ABI_MINOR as built */
    const char *name;            /* transport mode, e.g. "udp", "wss" */
    const char *version;         /* implementation version, e.g. "0.1.0" */
    const char *description;     /* one line for humans */
    const pt_option_doc *options; /* accepted options, key NULL terminated */

    /* ABI 1.0 functions: all mandatory. */

    /* Open a connection and return it ready to use in *out.  For WSS ready
     * means TCP, TLS, upgrade and auth are done.  Options are validated
     * first; an unknown key or a bad value fails with PT_EOPTION and a
     * message naming the key.  On failure, *out is NULL and errbuf (errlen
     * bytes, may be 0) holds a NUL-terminated explanation. */
    int (*dial)(const pt_dial_params *params, pt_conn **out,
                char *errbuf, size_t errlen);

    /* Send one datagram of len bytes (1..PT_MAX_FRAME) to dst; transports
     * with a single peer ignore dst (it may be NULL).  Returns len, or
     * PT_ECLOSED, PT_ERECONNECTING (nothing was sent), PT_ETOOLARGE,
     * PT_EINVAL or PT_EIO.  May block while the network pushes back; close
     * wakes it. */
    int (*send)(pt_conn *c, const void *buf, size_t len, const pt_addr *dst);

    /* Receive one datagram into buf (cap bytes) and its source into *src
     * (may be NULL).  timeout_ms < 0 waits forever, 0 polls.  Returns the
     * datagram's length, or PT_ETIMEDOUT, PT_ECLOSED, or PT_ETOOLARGE when
     * the datagram does not fit in cap (it is discarded).  Transports that
     * reconnect keep waiting through a reconnect. */
    int (*recv)(pt_conn *c, void *buf, size_t cap, pt_addr *src, int timeout_ms);

    /* Close the connection (idempotent, any thread).  Returns PT_OK. */
    int (*close)(pt_conn *c);

    /* The local address; never absent on a live or closed connection. */
    int (*local_addr)(pt_conn *c, pt_addr *out);

    /* A file descriptor that polls readable (POLLIN) when recv may have
     * data or the connection was closed.  Owned by the plugin, valid until
     * free; never read from it or close it. */
    int (*poll_fd)(pt_conn *c);

    /* Fill *out (out->struct_size set by the caller).  Returns PT_OK. */
    int (*stats)(pt_conn *c, pt_stats *out);

    /* The detail of the last failure on c as a NUL-terminated string copied
     * into buf (at most len bytes).  Returns the error's code (0: none). */
    int (*last_error)(pt_conn *c, char *buf, size_t len);

    /* Release everything; c is invalid afterwards.  Calls close if needed. */
    void (*free)(pt_conn *c);

    /* ABI 1.1: optional (NULL when the plugin was built for 1.0; the
     * loader shows it as NULL then, so hosts test it before calling). */

    /* Send frames[0..n) in order, exactly as n calls of send would, but
     * let the transport coalesce the frames that are ready together into
     * fewer writes (WSS: one TLS write; UDP: one sendmmsg).  Returns n when
     * all were sent.  When an error stops it part way, returns how many
     * frames were sent before it: frames[0..r) went out, the rest did NOT;
     * the next call reports the error itself.  Returns the error code
     * (as send's) if no frame was sent, and 0 for n == 0.  A bad frame
     * (NULL data, over PT_MAX_FRAME) fails the call before anything is
     * sent.  n must not exceed INT_MAX.  Blocks like send; close wakes it. */
    int (*send_many)(pt_conn *c, const pt_frame *frames, size_t n);

    /* Functions added in later 1.x minors go here, at the end. */
} pt_plugin;

/* The entry point every plugin exports, e.g.
 *     const pt_plugin *pilot_transport_plugin_v1(void);
 * It returns a descriptor with static storage duration, or NULL if the
 * plugin cannot work in this process. */
typedef const pt_plugin *(*pt_entry_fn)(void);

/* Plugins mark their entry point with PT_EXPORT (and build with hidden
 * visibility), so that it is the only symbol they export. */
#if defined(__GNUC__)
#define PT_EXPORT __attribute__((visibility("default")))
#else
#define PT_EXPORT
#endif

/* Smallest descriptor that holds all 1.0 functions. */
#define PT_PLUGIN_V1_0_SIZE (offsetof(pt_plugin, free) + sizeof(void (*)(pt_conn *)))

#ifdef __cplusplus
}
#endif
#endif /* PILOT_TRANSPORT_H */
