/*
 * link.h -- one WebSocket connection to the beacon over libcurl: the dial
 * (DNS, TCP, proxy, TLS, upgrade with subprotocol pilot.v1, auth) and
 * non-blocking whole-message reads and resumable writes.  Prefix wss_link_.
 *
 * A link knows nothing of threads: the plugin (wss.c) serialises every call
 * on one link, since a libcurl handle must never be used from two threads
 * at the same moment.  Reads and writes never block; the caller polls the
 * link's socket.
 */
#ifndef PT_WSS_LINK_H
#define PT_WSS_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "pilot_transport.h"

typedef struct wss_link wss_link;

/* Returned by read and write when the socket has nothing more / no room. */
#define WSS_AGAIN 1

enum wss_msg_kind { WSS_MSG_BINARY = 1, WSS_MSG_TEXT, WSS_MSG_PING, WSS_MSG_PONG, WSS_MSG_CLOSE };

/* A whole message (data) or control frame.  data stays valid until the next
 * wss_link_read on the same link. */
typedef struct wss_msg {
    int kind;
    const unsigned char *data;
    size_t len;
    int close_code;       /* WSS_MSG_CLOSE: the peer's code, 1005 if none */
    char close_reason[124]; /* WSS_MSG_CLOSE: printable part of the reason */
} wss_msg;

/* Dial: everything from DNS to auth_ok, finished by deadline_ms (monotonic
 * milliseconds) or abandoned as soon as cancel_fd polls readable.  On
 * success *out is a live link.  Errors: PT_ECLOSED (cancelled),
 * PT_ETIMEDOUT, PT_EIO (DNS, TCP, upgrade refused), PT_ETLS, PT_EPROXY,
 * PT_EPROTO (wrong subprotocol, malformed challenge), PT_EAUTH (refused),
 * PT_ENOMEM; err says which step failed and why, and never holds a secret. */
int wss_link_dial(const wss_config *cfg, const pt_identity *id, const char *ca_path,
                  int cancel_fd, int64_t deadline_ms, wss_link **out, char *err,
                  size_t errlen);

/* The socket to poll (POLLIN for read, POLLOUT after WSS_AGAIN on write). */
int wss_link_socket(const wss_link *l);

/* Read one whole message or control frame, without blocking.  Returns
 * PT_OK with *m set, WSS_AGAIN, or a negative code when the link is dead:
 * PT_EIO (the beacon dropped the connection, a read error) or PT_ETOOLARGE
 * (a message over PT_MAX_FRAME, detected before it is buffered). */
int wss_link_read(wss_link *l, wss_msg *m, char *err, size_t errlen);

/* The same, but a data message that arrives whole lands in dst (dcap
 * bytes) with no copy: then m->data == dst.  dst may be written even when
 * the message turns out to be something else (a control frame, a message
 * in pieces or too large for dcap: those come from the link's buffers). */
int wss_link_read_into(wss_link *l, void *dst, size_t dcap, wss_msg *m, char *err,
                       size_t errlen);

/* Frame one message of kind (WSS_MSG_*) into the link's send queue, masked
 * (RFC 6455 5.3).  Returns PT_OK, WSS_AGAIN when it does not fit behind
 * what is queued (flush, then queue again), PT_EINVAL for a bad kind or
 * size, or PT_EIO when no masking key can be drawn.  Data messages leave
 * room for control frames, so a pong or close frame (<= 125 bytes) always
 * fits behind a data message. */
int wss_link_queue(wss_link *l, int kind, const void *buf, size_t len);

/* Bytes queued and not yet written; bytes written since the dial (a
 * message queued when written + queued was E is out once written >= E). */
size_t wss_link_queued(const wss_link *l);
uint64_t wss_link_written(const wss_link *l);

/* Write what is queued, without blocking: frames that are ready together
 * leave in one TLS write.  Returns PT_OK when the queue is empty,
 * WSS_AGAIN when the socket is full (poll for POLLOUT and call again), or
 * PT_EIO when the link is dead. */
int wss_link_flush(wss_link *l, char *err, size_t errlen);

/* Monotonic clock in milliseconds, for deadlines. */
int64_t wss_now_ms(void);

/* Close the socket and free everything. */
void wss_link_free(wss_link *l);

#endif
