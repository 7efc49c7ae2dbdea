/*
 * stream.h -- the byte stream under a link's frames: the bytes of the
 * upgrade, the auth exchange and every frame after it.  Internal to the
 * WSS plugin.  Prefix wss_stream_.
 *
 * It starts on libcurl (curl_easy_send / curl_easy_recv on the dialled
 * handle, dial.h).  Once the link is up (auth_ok), wss_stream_direct
 * takes the data path off libcurl where it can: with the beacon's TLS
 * session straight on the TCP socket (wss:// directly or through an
 * http:// proxy's tunnel, libcurl on GnuTLS), records are written and read
 * with GnuTLS itself, over the plugin's own transport functions on the
 * socket; with ws:// (no TLS), bytes go to the socket directly.  Through
 * an https:// proxy (TLS inside the proxy's TLS) everything stays on
 * libcurl.
 *
 * Why: per datagram, libcurl's layers cost more than TLS itself, and
 * GnuTLS pulls each record with two recv() calls (its 5-byte header, then
 * its body).  The transport here reads ahead: one recv() takes in every
 * record the socket holds, into the stream's buffer, and GnuTLS's pulls
 * are served from there.  And when that recv() came back short (the
 * socket was emptied), the next pull that finds the buffer empty answers
 * "would block" without asking the socket again, once: the caller polls
 * the socket after a would-block anyway, and reads again for real after.
 *
 * libcurl keeps the session (it frees it at wss_dial_close and may send a
 * TLS close through our transport then), so the stream and its read-ahead
 * buffer must outlive the dial: release them after wss_dial_close.  Not
 * thread-safe: the link's caller serialises every call (link.h).
 */
#ifndef PT_WSS_STREAM_H
#define PT_WSS_STREAM_H

#include <stddef.h>

#include "dial.h"
#include "pilot_transport.h"

/* The read-ahead buffer wss_stream_direct is given: one recv() takes in up
 * to this much behind what GnuTLS asked for, several records of any size,
 * so a burst costs one system call (as much as the benchmark's raw TLS
 * baseline reads; at 32 KiB a pipelined run took three recvmsg, three
 * wake-ups, where the baseline took one).  Its pages are memory only once
 * a burst has filled them. */
#define WSS_STREAM_RA_CAP (128u * 1024)

enum wss_stream_mode {
    WSS_STREAM_CURL = 0, /* curl_easy_send / wss_dial_recv */
    WSS_STREAM_TLS,      /* gnutls_record_send / recv over our transport */
    WSS_STREAM_PLAIN     /* ws://: send / recv on the socket */
};

typedef struct wss_stream {
    wss_dial *d;            /* the dialled connection: handle and socket */
    int mode;               /* enum wss_stream_mode */
    void *tls;              /* WSS_STREAM_TLS: the gnutls_session_t libcurl made */
    unsigned char *ra;      /* WSS_STREAM_TLS: bytes read ahead of GnuTLS (the caller's) */
    size_t ra_off, ra_len;  /* unread: ra[ra_off..ra_len) */
    int dry;                /* the last recv() came back short: see above */
    int io_errno;           /* errno of a transport call that failed in the
                             * current recv or send (0: none did) */
    int eof;                /* the last recv() found the end of the stream */
} wss_stream;

/* A stream on libcurl over the dialled connection d (which must stay at
 * the same address while the stream lives). */
void wss_stream_init(wss_stream *st, wss_dial *d);

/* Take the data path off libcurl where it can (see above; tls: wss://,
 * not ws://); stays on libcurl otherwise.  ra is WSS_STREAM_RA_CAP bytes
 * for the read-ahead, the caller's until after wss_dial_close.  Call once,
 * when nothing is queued to send. */
void wss_stream_direct(wss_stream *st, int tls, unsigned char *ra);

/* Read up to cap bytes (cap > 0) without blocking: PT_OK with *n > 0,
 * WSS_AGAIN (link.h) when there is nothing now (poll the socket before
 * reading again), or PT_EIO with err naming why (a read error, the
 * beacon closing the connection). */
int wss_stream_recv(wss_stream *st, void *buf, size_t cap, size_t *n, char *err, size_t errlen);

/* Write up to len bytes (len > 0) without blocking: PT_OK with *sent > 0,
 * WSS_AGAIN when the socket is full (poll for POLLOUT, then call again
 * with the same bytes first), or PT_EIO with err. */
int wss_stream_send(wss_stream *st, const void *buf, size_t len, size_t *sent, char *err,
                    size_t errlen);

/* Does the stream hold bytes the socket can no longer show: a whole TLS
 * record read ahead, or plaintext GnuTLS has decrypted and not handed
 * out?  (A caller about to poll the socket reads first when so.) */
int wss_stream_has_buffered(const wss_stream *st);

#endif
