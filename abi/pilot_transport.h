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
 *   is not even found.  PT_ABI_MINOR grows when members are appended to a
 *   versioned struct (only ever at the end).  Every versioned struct starts
 *   with uint32_t struct_size, and its size for each minor is exact: the
 *   PT_*_SIZE_1_n constants below, with explicit reserved members where the
 *   compiler would otherwise pad, so PT_HAS_FIELD never reads padding as a
 *   field.  The writer of a versioned struct sets struct_size to the size
 *   of the version it was built with (sizeof); a reader uses a field only
 *   when PT_HAS_FIELD says it is there, and ignores reserved members and
 *   anything past what it knows.
 *   The loader refuses a descriptor with another major or one too small to
 *   hold the version 1.0 functions, or the functions of the minor it
 *   declares (a newer minor than the loader's must hold at least all the
 *   loader knows), and hides slots beyond the plugin's size (they read as
 *   NULL), so a host never calls past what a plugin provides.
 *   A plugin never returns to a host an error code or a state that the
 *   host's minor (pt_dial_params.abi_minor; 1 when absent) does not define:
 *   each code added later names the older code reported in its place.
 *   Every code and state below is defined since 1.0.
 *
 * Errors
 *   Functions return 0 or a non-negative count on success and a negative
 *   PT_E* code on failure.  The detail of the last failure on a connection
 *   is available as text from pt_plugin.last_error(); dial and probe write
 *   their detail into the caller's buffer.  Each function lists the codes
 *   it returns; a plugin returns no other.  Every function given a NULL
 *   connection or a NULL required pointer returns PT_EINVAL (void
 *   functions do nothing).
 *
 * Threads
 *   On one connection, one thread may call recv (or recv_many) while
 *   another calls send (or send_many): one reader and one writer at a time.
 *   close may be called from any thread at any time, more than once: it
 *   wakes a recv or send blocked in another thread, which then returns
 *   PT_ECLOSED.  stats, local_addr, poll_fd and last_error may be called
 *   from any thread.  Different connections are independent.
 *
 * Lifetime: who may free
 *   A recv or send in another thread may return PT_ECLOSED before the
 *   close() that caused it has returned, so PT_ECLOSED from recv is not
 *   permission to free.  The host calls free exactly once, after every
 *   other call on the connection has returned and no new one can start
 *   (typically: close, then join the reader and writer threads, then
 *   free).  free closes the connection first if the host did not.
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
#define PT_ABI_MINOR 2

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
/* One dial option.  Both members are required: an option with a NULL key
 * or value fails dial and probe with PT_EOPTION, like an unknown key. */
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

/* A signer: proves the node's identity without handing its private key to
 * the plugin (ABI 1.2).  The key may live in an agent, a TPM or another
 * process.  sign writes the 64-byte Ed25519 signature of message into
 * signature and returns 0, or non-zero when it cannot sign (the plugin then
 * fails the (re)authentication with PT_EAUTH).  The plugin calls sign from
 * any of its threads, once per (re)authentication, never concurrently on
 * one connection; it must be thread-safe across connections.  The signer
 * and userdata must stay valid until free.  The host sets struct_size =
 * sizeof(pt_signer). */
typedef struct pt_signer {
    uint32_t struct_size;
    uint32_t node_id;            /* this node's id */
    uint8_t public_key[32];      /* Ed25519 public key matching sign */
    int (*sign)(void *userdata, const uint8_t *message, size_t length,
                uint8_t signature[64]);
    void *userdata;
} pt_signer;

#define PT_SIGNER_SIZE_1_2 (offsetof(pt_signer, userdata) + sizeof(void *))

/* Everything dial and probe need.  Start from PT_DIAL_PARAMS_INIT (which
 * sets struct_size, abi_minor and cancel_fd = -1) and fill in the rest.
 * Pointers need only stay valid for the duration of the dial call, except
 * log/log_userdata and signer, which must stay valid until free. */
typedef struct pt_dial_params {
    uint32_t struct_size;
    const pt_option *options;    /* n_options entries; may be NULL if 0 */
    size_t n_options;
    const pt_identity *identity; /* may be NULL */
    pt_log_fn log;               /* may be NULL: no logging */
    void *log_userdata;
    int log_level;               /* most verbose level delivered */
    /* Padding in 1.0 and 1.1 on LP64, whose hosts set struct_size = 56
     * with this slot unwritten: never read, set to 0. */
    int32_t reserved_1_0;

    /* ABI 1.2 (readers test PT_HAS_FIELD first). */

    /* The host's PT_ABI_MINOR as built.  A plugin returns only the codes
     * and states that minor defines.  Absent, or below 2 (as in a
     * zero-filled struct): a 1.0/1.1 host, and cancel_fd is ignored. */
    uint32_t abi_minor;
    /* Read only when abi_minor >= 2.  A descriptor the host makes readable
     * to abandon the dial (or probe): the call then returns PT_ECLOSED at
     * once.  The plugin only polls it, never reads or closes it.  -1: none
     * (0 is a valid descriptor: PT_DIAL_PARAMS_INIT sets -1). */
    int32_t cancel_fd;
    /* Sign instead of identity->private_key: when set, the plugin never
     * needs the private key (identity, if also given, is ignored).  NULL:
     * use identity. */
    const pt_signer *signer;
} pt_dial_params;

/* 56 and 72 bytes on LP64 targets.  (On ILP32 a 1.0/1.1 host's sizeof was
 * 28, without the reserved slot: PT_HAS_FIELD still tells it apart.) */
#define PT_DIAL_PARAMS_SIZE_1_0 offsetof(pt_dial_params, abi_minor) /* also 1.1 */
#define PT_DIAL_PARAMS_SIZE_1_2 (offsetof(pt_dial_params, signer) + sizeof(void *))

/* A pt_dial_params with nothing but its version fields set. */
#define PT_DIAL_PARAMS_INIT                                                   \
    { .struct_size = sizeof(pt_dial_params), .abi_minor = PT_ABI_MINOR,      \
      .cancel_fd = -1 }

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

/* One receive slot for recv_many (ABI 1.2).  The host sets data and cap;
 * the plugin sets len and src. */
typedef struct pt_rframe {
    void *data;                  /* in: the buffer */
    size_t cap;                  /* in: its size */
    int32_t len;                 /* out: the datagram's length, or
                                  * PT_ETOOLARGE: it did not fit in cap and
                                  * was discarded (src is still set) */
    uint32_t reserved_;          /* set to 0, never read */
    pt_addr src;                 /* out: where it came from */
} pt_rframe;

/* Connection state as seen by stats. */
enum pt_state { PT_STATE_CONNECTED = 1, PT_STATE_RECONNECTING = 2, PT_STATE_CLOSED = 3 };

/* Per-connection statistics.  The host sets struct_size = sizeof(pt_stats)
 * (and may zero the rest); see stats(). */
typedef struct pt_stats {
    uint32_t struct_size;
    int32_t state;          /* enum pt_state */
    uint64_t frames_out, bytes_out;
    uint64_t frames_in, bytes_in;
    uint64_t reconnects;    /* successful re-dials after a drop */
    uint64_t dropped_in;    /* inbound frames discarded (oversize, buffer) */
    int32_t last_error;     /* most recent PT_E* code, 0 if none */
    int32_t reserved_1_0;   /* padding in 1.0 and 1.1: never read */
} pt_stats;

/* 64 bytes; the same in 1.1 and 1.2.  (On ILP32 targets whose uint64_t
 * is 4-aligned in structs, e.g. i386, a 1.0/1.1 host's sizeof was 60.) */
#define PT_STATS_SIZE_1_0 (offsetof(pt_stats, reserved_1_0) + sizeof(int32_t))

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
     * PT_ECLOSED, PT_ERECONNECTING (nothing was sent), PT_ETOOLARGE (len
     * over PT_MAX_FRAME or over what the transport carries), PT_EINVAL
     * (len 0, NULL buf, a dst the transport needs and lacks or cannot
     * reach) or PT_EIO (a local network error; nothing was sent).  May
     * block while the network pushes back; close wakes it. */
    int (*send)(pt_conn *c, const void *buf, size_t len, const pt_addr *dst);

    /* Receive one datagram into buf (cap bytes) and its source into *src
     * (may be NULL).  timeout_ms < 0 waits forever, 0 polls.  Returns the
     * datagram's length (>= 1), or PT_ETIMEDOUT (nothing arrived in time),
     * PT_ECLOSED, PT_ETOOLARGE (the datagram did not fit in cap; it was
     * discarded), PT_EINVAL (NULL buf) or PT_EIO (a local socket error).
     * Transports that reconnect keep waiting through a reconnect. */
    int (*recv)(pt_conn *c, void *buf, size_t cap, pt_addr *src, int timeout_ms);

    /* Close the connection (idempotent, any thread): wakes blocked calls,
     * which return PT_ECLOSED, as does every later call but stats,
     * local_addr, poll_fd, last_error and free.  Returns PT_OK. */
    int (*close)(pt_conn *c);

    /* The local address; never absent on a live or closed connection.
     * Returns PT_OK or PT_EINVAL. */
    int (*local_addr)(pt_conn *c, pt_addr *out);

    /* A file descriptor for event loops, owned by the plugin and valid
     * until free; never read from it or close it.  It is level-triggered:
     * it polls readable (POLLIN) whenever a recv with timeout 0 would not
     * return PT_ETIMEDOUT (a datagram is ready, or the connection is
     * closed), and keeps polling readable until those are consumed.  A
     * host may read one datagram per wake-up or drain until PT_ETIMEDOUT;
     * both are correct.  It may rarely poll readable with nothing ready
     * (recv then returns PT_ETIMEDOUT), so hosts must not treat that as an
     * error.  Returns the descriptor or PT_EINVAL. */
    int (*poll_fd)(pt_conn *c);

    /* Fill *out.  out->struct_size is set by the caller and must be at
     * least 4; the plugin fills every field that fits entirely within it,
     * leaves bytes past it untouched, and sets struct_size to the number
     * of bytes it filled (at most the caller's).  Returns PT_OK, or
     * PT_EINVAL (NULL, or struct_size under 4). */
    int (*stats)(pt_conn *c, pt_stats *out);

    /* The detail of the last failure on c as a NUL-terminated string copied
     * into buf (at most len bytes; len 0 copies nothing).  Returns the
     * error's code (0: none, with an empty string) or PT_EINVAL. */
    int (*last_error)(pt_conn *c, char *buf, size_t len);

    /* Release everything; c is invalid afterwards.  Closes first if the
     * host has not.  See "Lifetime" above for when it may be called. */
    void (*free)(pt_conn *c);

    /* ABI 1.1: optional (NULL when the plugin was built for 1.0; the
     * loader shows it as NULL then, so hosts test it before calling). */

    /* Send frames[0..n) in order, exactly as n calls of send would, but
     * let the transport coalesce the frames that are ready together into
     * fewer writes (WSS: one TLS write; UDP: one sendmmsg).  Returns n when
     * all were sent.  When an error stops it part way, returns how many
     * frames were sent before it: frames[0..r) went out, the rest did NOT;
     * the next call reports the error itself.  Returns the error code
     * (as send's) if no frame was sent, and 0 for n == 0 (frames may then
     * be NULL).  A frame with NULL data or over PT_MAX_FRAME fails the
     * call with PT_EINVAL or PT_ETOOLARGE before anything is sent.  A frame
     * send would refuse for what it carries (len 0; no dst where the
     * transport needs one) either does the same or ends the call there as
     * above (the frames before it sent, PT_EINVAL on the next call); hosts
     * must handle both.  n must not exceed INT_MAX.  Blocks like send;
     * close wakes it. */
    int (*send_many)(pt_conn *c, const pt_frame *frames, size_t n);

    /* ABI 1.2: optional (NULL in older plugins). */

    /* Receive up to n datagrams in one call: wait up to timeout_ms (as
     * recv) for the first, then take every further one already there,
     * without waiting, into frames[1..n).  Returns how many slots were
     * filled (1..n); a slot whose datagram did not fit has len
     * PT_ETOOLARGE.  Returns PT_ETIMEDOUT, PT_ECLOSED, PT_EINVAL (NULL
     * frames, n 0 or over INT_MAX, a slot with NULL data) or PT_EIO when
     * nothing was received. */
    int (*recv_many)(pt_conn *c, pt_rframe *frames, size_t n, int timeout_ms);

    /* Tell, without a session, whether this transport can work from here
     * with these dial parameters, within timeout_ms (> 0: the whole budget;
     * options such as a dial timeout do not apply; cancel_fd also abandons
     * it).  detail may be NULL only when detail_len is 0.  Returns PT_OK when the far end answered as it should,
     * with a one-line account of what answered in detail; otherwise the
     * code of what failed and why in detail: PT_ETIMEDOUT (no answer),
     * PT_EPROXY (the proxy refused, asked for credentials or could not be
     * reached), PT_ETLS, PT_EIO (resolve, connect), PT_EPROTO (something
     * answered, but not the expected way), PT_EOPTION (the options do not
     * say what to probe), PT_ECLOSED (cancelled), PT_ENOMEM or PT_EINVAL.
     * detail never holds credentials. */
    int (*probe)(const pt_dial_params *params, int timeout_ms, char *detail,
                 size_t detail_len);

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

/* The descriptor's size in each minor. */
#define PT_PLUGIN_SIZE_1_0 (offsetof(pt_plugin, free) + sizeof(void (*)(pt_conn *)))
#define PT_PLUGIN_SIZE_1_1 (offsetof(pt_plugin, send_many) + sizeof(void (*)(void)))
#define PT_PLUGIN_SIZE_1_2 (offsetof(pt_plugin, probe) + sizeof(void (*)(void)))
/* Smallest descriptor that holds all 1.0 functions (the old name). */
#define PT_PLUGIN_V1_0_SIZE PT_PLUGIN_SIZE_1_0

/* No versioned struct has padding the next minor could mistake for a
 * field: each size is exactly the end of its last member. */
#if defined(__cplusplus)
#define PT_STATIC_ASSERT_ static_assert
#else
#define PT_STATIC_ASSERT_ _Static_assert
#endif
PT_STATIC_ASSERT_(sizeof(pt_stats) == PT_STATS_SIZE_1_0, "pt_stats has tail padding");
PT_STATIC_ASSERT_(sizeof(pt_dial_params) == PT_DIAL_PARAMS_SIZE_1_2,
                  "pt_dial_params has tail padding");
PT_STATIC_ASSERT_(sizeof(pt_signer) == PT_SIGNER_SIZE_1_2, "pt_signer has tail padding");
PT_STATIC_ASSERT_(sizeof(pt_plugin) == PT_PLUGIN_SIZE_1_2, "pt_plugin has tail padding");
PT_STATIC_ASSERT_(sizeof(pt_rframe) == offsetof(pt_rframe, src) + sizeof(pt_addr),
                  "pt_rframe has tail padding");

#ifdef __cplusplus
}
#endif
#endif /* PILOT_TRANSPORT_H */
