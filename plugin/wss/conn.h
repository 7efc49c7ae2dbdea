/*
 * conn.h -- one WSS connection's shared state, and the code that reads and
 * writes its link under the connection lock.  Used by the ABI calls
 * (wss.c) and the keeper thread.  Internal to the WSS plugin.  Prefix:
 * wss_conn_.
 *
 * There is no I/O thread on the data path: the host's reader thread reads
 * the link and its writer thread writes it, each under the lock, which is
 * held only for non-blocking link calls and released while a thread
 * waits on the socket.  So a writer stalled on a full socket never holds
 * up the reader, and nothing is handed between threads per frame.
 *
 * The host's log callback never runs under the lock: code under it records
 * lines (ptu_diag_*_later, diag.h) and each thread flushes them once it has
 * unlocked, so a slow logger stalls only the thread that calls it.
 * Inbound frames dropped (a full ring, a recv buffer too small, ...) are
 * counted in n.dropped_in and logged through c->drops at most once a
 * second; the counts in those lines add up to dropped_in.
 *
 * Outbound frames, data and control alike, are whole messages in the
 * link's send queue (link.c), so a pong or a keep-alive is simply queued
 * behind what is there and never cuts into a message.
 */
#ifndef PT_WSS_CONN_H
#define PT_WSS_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "counters.h"
#include "diag.h"
#include "dialer.h"
#include "keeper.h"
#include "link.h"
#include "pilot_transport.h"
#include "ring.h"

struct pt_conn {
    wss_config cfg;         /* may hold a proxy password: wiped at free */
    pt_identity id;         /* our copy of the host's key (no signer given), for
                             * re-auth: wiped at free */
    pt_signer signer;       /* signs every (re)auth: a copy of the host's signer,
                             * or one over id (wss_auth_identity_signer) */
    ptu_diag diag;
    ptu_diag_repeat drops;  /* "inbound frames dropped" lines (diag's lock) */
    int close_fd;           /* eventfd: readable from close() on, never drained */
    int rx_fd;              /* eventfd: readable while recv has a frame without the socket */
    int keeper_fd;          /* eventfd: wakes the keeper (drop, pending control) */
    int epoll_fd;           /* poll_fd(): close_fd, rx_fd and the link's socket */
    int roots_fd;           /* memfd of the pinned roots, or -1 */
    char roots_path[32];    /* the pinned roots' memfd path (wss_roots_memfile), or ""; a
                             * ca-file is read where cfg holds it */
    wss_dialer dialer;      /* every dial's: TLS session cache, proxy-cmd output (dial.h) */
    pthread_t keeper;
    int keeper_started;
    int counted; /* in live_conns (wss.c): dial succeeded */
    atomic_int closed;

    pthread_mutex_t lock;   /* everything below */
    wss_link *link;         /* NULL while reconnecting; kept after close until free */
    int epoll_sock;         /* socket registered in epoll_fd, or -1 */
    uint64_t gen;           /* bumped on every new link */
    int state;              /* enum pt_state */
    int rx_drained;         /* the last read found nothing: wait before reading */
    int rx_kicked;          /* rx_fd signalled by a reconnect, not yet consumed */
    int rx_signalled;       /* rx_fd is readable now (wss_conn_rx_update) */
    int pong_pending;       /* answer this ping payload when there is room */
    unsigned char pong_buf[125];
    size_t pong_len;
    int ping_pending;       /* send a ping when there is room */
    int keepalive_pending;  /* send WSS_KEEPALIVE when there is room */
    wss_keeper keep;        /* the ping and the pong deadline (keeper.h) */
    int readers;            /* threads inside recv */
    int writers;            /* threads inside send or send_many */
    wss_ring ring;          /* inbound frames recv has not taken yet */

    ptu_counters n;
};

/* ---- Wake-ups and waiting (no lock needed) -------------------------------- */

void wss_conn_signal_fd(int fd);
void wss_conn_drain_fd(int fd);
int wss_conn_closed(pt_conn *c);

/* Wait for fd events (or close), at most ms.  Never holds the lock.
 * Returns whether extra_fd polled readable. */
int wss_conn_wait(pt_conn *c, int fd, short events, int extra_fd, int ms);

/* ---- The link, with the lock held ----------------------------------------- */

/* Make sock (or none, -1) the socket poll_fd watches. */
void wss_conn_set_epoll_sock(pt_conn *c, int sock);

/* Queue the pending control frames (the pong owed, the ping due) and the
 * keep-alive due behind what is queued, if there is room: whole messages,
 * never cutting into one. */
void wss_conn_queue_control(pt_conn *c);

/* Queue the pending control frames and keep-alive and write the queue out
 * (once the connection is no longer CONNECTED, only what is queued: the
 * pending ones stay pending).  Returns PT_OK when the queue is out,
 * WSS_AGAIN when the socket is full, or a negative code when the link died
 * (the caller drops it). */
int wss_conn_push_out(pt_conn *c, char *why, size_t whylen);

/* The link is gone: keep what it already delivered, hand the reconnect to
 * the keeper. */
void wss_conn_drop_link(pt_conn *c, int code, const char *why);

/* An inbound frame dropped, for why: counted, and logged at most once a
 * second (c->drops); a negative code is also the last error.  Returns
 * code. */
int wss_conn_drop_inbound(pt_conn *c, int code, const char *why);

/* Best-effort close frame (code, reason) on the current link, queued
 * behind what is there and written if the socket has room; none once the
 * connection is no longer CONNECTED (RFC 6455 allows one close frame). */
void wss_conn_send_close(pt_conn *c, int code, const char *reason);

/* How long close() waits for socket room to get its close frame out. */
#define WSS_CLOSE_FLUSH_MS 200

/* For close(), with the lock held (released while waiting): the state
 * becomes CLOSED, so nothing more is queued; the close frame 1000 goes
 * behind what is queued, with up to WSS_CLOSE_FLUSH_MS of waiting for
 * room when the socket is full; then the TCP write side is shut, so the
 * beacon sees the end at once.  The link itself stays until free. */
void wss_conn_close_link(pt_conn *c);

/* The caller's receive slots (recv: one; recv_many: n), for the data
 * messages a pump reads first. */
struct wss_conn_direct {
    pt_rframe *f;
    size_t n;
    size_t filled;          /* slots filled so far */
};

/* Hand a data message straight to the next free slot of d: its len
 * becomes the message's length, or PT_ETOOLARGE when it does not fit (the
 * message is dropped); src the synthetic beacon address. */
void wss_conn_deliver(pt_conn *c, struct wss_conn_direct *d, const wss_msg *m);

/* Read the link, handling control frames: with d (a reader), until d's
 * free slots are filled or the socket has nothing more; without (the
 * keeper), into the ring until the socket has nothing more or the ring is
 * full.  Empty data messages carry no datagram: they are dropped and
 * counted. */
void wss_conn_pump(pt_conn *c, struct wss_conn_direct *d);

/* ---- The keeper thread (keeper_thread.c) ---------------------------------- */

/* Started by dial with the connection as arg; returns once it is closed. */
void *wss_keeper_main(void *arg);

/* poll_fd's promise: rx_fd is readable exactly while recv(..., 0) has a
 * frame that needs nothing more from the socket -- in the ring, or whole in
 * the link's buffer (read with others in one TLS record: the socket then
 * polls quiet) -- or a reconnect's wake-up is unconsumed (rx_kicked).
 * Call after anything that changes one of these.  Lock held. */
void wss_conn_rx_update(pt_conn *c);

#endif
