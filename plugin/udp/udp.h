/*
 * udp.h -- the UDP plugin's internals, shared by its files.  Prefix: udp_.
 *
 *   udp.c      the descriptor and the connection's life: dial, close,
 *              local_addr, poll_fd, stats, last_error, free
 *   io.c       send, send_many, recv, recv_many
 *   params.c   the options and what the plugin reads of pt_dial_params
 *   resolve.c  host names resolved in a thread that a caller can abandon
 *   probe.c    probe: a Discover to the beacon named by the options
 */
#ifndef PT_UDP_H
#define PT_UDP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "diag.h"
#include "pilot_transport.h"

/* A connection: one bound, non-blocking UDP socket.  Blocking waits go
 * through an epoll set holding the socket and an eventfd that close()
 * signals, so close from any thread wakes a blocked recv or send.  The
 * epoll set is also the pollable fd handed to event-loop hosts.  The
 * socket is only closed by free(), never by close(), so its number cannot
 * be reused under a thread still inside recv. */
struct pt_conn {
    int fd;        /* the UDP socket */
    int family;    /* AF_INET or AF_INET6 */
    int wake_fd;   /* eventfd: readable once closed */
    int epoll_fd;  /* {fd, wake_fd}: recv waits here; also poll_fd() */
    atomic_int closed;
    pt_addr local;
    ptu_counters n;
    ptu_diag diag;
};

/* ---- params.c ----------------------------------------------------------- */

extern const pt_option_doc udp_options[];

/* Longest HOST:PORT option value kept. */
#define UDP_ADDR_TEXT_MAX 300

/* What dial and probe take from pt_dial_params. */
typedef struct udp_params {
    char bind_s[UDP_ADDR_TEXT_MAX];   /* "bind", or its default */
    char beacon_s[UDP_ADDR_TEXT_MAX]; /* "beacon", or "" when not given */
    uint32_t host_minor; /* the host's PT_ABI_MINOR; 1 when it does not say */
    int cancel_fd;       /* -1: none (always -1 for hosts of minor < 2) */
    uint32_t node_id;    /* the signer's, else the identity's; 0: none */
} udp_params;

/* Check params (size, options: every key known, once, values that parse
 * without resolving a name) into *out.  who ("udp dial") starts messages.
 * PT_OK, or PT_EINVAL / PT_EOPTION with the reason in err. */
int udp_params_read(const pt_dial_params *params, const char *who, udp_params *out, char *err,
                    size_t errlen);

/* Whether up->cancel_fd polls readable now (never, when there is none). */
int udp_cancelled(const udp_params *up);

/* ---- resolve.c ---------------------------------------------------------- */

/* Parse "HOST:PORT" (ptu_addr_parse's forms) into *out.  A numeric host is
 * parsed at once; a name is resolved in a detached thread while this one
 * waits until deadline_ms (ptu_now_ms() clock; < 0: no limit) or until
 * cancel_fd (>= 0) polls readable, either of which abandons it (the thread
 * finishes alone).  Returns PT_OK, PT_EOPTION (what option names the
 * address is in opt: "option \"bind\": ..."), PT_EIO (the name did not
 * resolve), PT_ETIMEDOUT, PT_ECLOSED (cancelled) or PT_ENOMEM, the reason
 * in err (without a prefix: the caller adds who it is). */
int udp_resolve(const char *s, const char *opt, int passive, pt_addr *out, int cancel_fd,
                int64_t deadline_ms, char *err, size_t errlen);

/* ---- io.c --------------------------------------------------------------- */

int udp_send(pt_conn *c, const void *buf, size_t len, const pt_addr *dst);
int udp_send_many(pt_conn *c, const pt_frame *frames, size_t n);
int udp_recv(pt_conn *c, void *buf, size_t cap, pt_addr *src, int timeout_ms);
int udp_recv_many(pt_conn *c, pt_rframe *frames, size_t n, int timeout_ms);

/* ---- probe.c ------------------------------------------------------------ */

int udp_probe(const pt_dial_params *params, int timeout_ms, char *detail, size_t detail_len);

#endif
