/*
 * link.h -- one WebSocket connection to the beacon: the dial (dial.c:
 * libcurl for DNS, TCP, proxy and TLS, then our own upgrade with
 * subprotocol pilot.v1; auth_exchange.c: the auth exchange), then
 * non-blocking whole-message reads (frame.c's decoder over a receive
 * buffer that the byte stream fills) and resumable writes (frame.c's
 * encoder into a send queue that the stream empties); the stream is
 * libcurl while dialling, then GnuTLS directly (stream.h).  Prefix
 * wss_link_.
 *
 * A link knows nothing of threads: the plugin (wss.c) serialises every call
 * on one link, since neither its libcurl handle nor its TLS session may be
 * used from two threads at the same moment.  Reads and writes never block;
 * the caller polls the link's socket.
 */
#ifndef PT_WSS_LINK_H
#define PT_WSS_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "dialer.h"
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
    char close_reason[127]; /* WSS_MSG_CLOSE: the reason (<= 123 bytes), printable */
} wss_msg;

/* Dial: everything from DNS to auth_ok, with the connection's dialer dl
 * (its trust, TLS session cache and proxy state; dial.h), authenticating
 * with signer (auth.h), finished by deadline_ms (monotonic milliseconds)
 * or abandoned as soon as cancel_fd polls readable, in any step.  On
 * success *out is a live link.  Errors: PT_ECLOSED (cancelled),
 * PT_ETIMEDOUT, PT_EIO (DNS, TCP, upgrade refused), PT_ETLS, PT_EPROXY,
 * PT_EPROTO (wrong subprotocol, malformed challenge), PT_EAUTH (refused,
 * or the signer failed), PT_ENOMEM; err says which step failed and why,
 * and never holds a secret. */
int wss_link_dial(wss_dialer *dl, const pt_signer *signer, int cancel_fd, int64_t deadline_ms,
                  wss_link **out, char *err, size_t errlen);

/* The socket to poll (POLLIN for read, POLLOUT after WSS_AGAIN on write). */
int wss_link_socket(const wss_link *l);

/* Read one whole message or control frame, without blocking: from what is
 * buffered, and only when that holds no whole message from the socket
 * (reads of 16 KiB and more).  Returns PT_OK with *m set, WSS_AGAIN, or a
 * negative code when the link is dead: PT_EIO (the beacon closed the TCP
 * connection, a read error), PT_EPROTO (the beacon broke RFC 6455: see
 * wss_frame_decode) or PT_ETOOLARGE (a message over PT_MAX_FRAME, refused
 * from its header before it is buffered).  m->data points into the link's
 * buffers: a message that arrived whole in one frame is handed out where
 * it was read, so the caller's copy is the only one. */
int wss_link_read(wss_link *l, wss_msg *m, char *err, size_t errlen);

/* Would wss_link_read return without reading the socket (a whole message
 * or an error already in the link's buffers)?  Then the socket may poll
 * quiet while a message waits: a caller that polls checks this first. */
int wss_link_has_buffered(const wss_link *l);

/* Frame one message of kind (WSS_MSG_*) into the link's send queue, masked
 * (RFC 6455 5.3).  Returns PT_OK, WSS_AGAIN when it does not fit behind
 * what is queued (flush, then queue again), PT_EINVAL for a bad kind or
 * size, or PT_EIO when no masking key can be drawn.  Data messages leave
 * room for control frames, so a pong or close frame (<= 125 bytes) always
 * fits behind a data message. */
int wss_link_queue(wss_link *l, int kind, const void *buf, size_t len);

/* Wipe every byte the send queue has held since the last wipe (the
 * frames already written stay in its buffer otherwise): for the signed
 * auth reply. */
void wss_link_wipe_sent(wss_link *l);

/* Bytes queued and not yet written; bytes written since the dial (a
 * message queued when written + queued was E is out once written >= E). */
size_t wss_link_queued(const wss_link *l);
uint64_t wss_link_written(const wss_link *l);

/* Write what is queued, without blocking: frames that are ready together
 * leave in one TLS write.  Returns PT_OK when the queue is empty,
 * WSS_AGAIN when the socket is full (poll for POLLOUT and call again), or
 * PT_EIO when the link is dead. */
int wss_link_flush(wss_link *l, char *err, size_t errlen);

/* Close the socket and free everything. */
void wss_link_free(wss_link *l);

#endif
