/*
 * stream.c -- the byte stream under a link's frames: on libcurl while
 * dialling, then, where it can, GnuTLS (or the socket) directly with
 * read-ahead (stream.h).
 */
#include "config.h"

#include "stream.h"

#include <curl/curl.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "link.h"
#include "util.h"

#define RA_CAP WSS_STREAM_RA_CAP
/* A TLS record: 5-byte header (type, version, 16-bit length). */
#define TLS_HEAD 5
/* Non-fatal GnuTLS results (a warning alert, a renegotiation request,
 * which a client may ignore) read past in one call, at most. */
#define SOFT_RETRIES 16

void wss_stream_init(wss_stream *st, wss_dial *d)
{
    memset(st, 0, sizeof *st);
    st->d = d;
    st->mode = WSS_STREAM_CURL;
}

/* ---- The transport under GnuTLS ------------------------------------------- */

/* GnuTLS asks for exact sizes (a record's header, then its body).  When
 * nothing is read ahead, one readv() puts what it asked for straight into
 * its buffer and everything behind it into ours. */
static ssize_t tls_pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
    wss_stream *st = p;
    if (st->ra_off == st->ra_len) {
        if (st->dry) { /* the socket was emptied a moment ago: the caller polls first */
            st->dry = 0;
            gnutls_transport_set_errno(st->tls, EAGAIN);
            return -1;
        }
        struct iovec iov[2] = { { buf, len }, { st->ra, RA_CAP } };
        struct msghdr m;
        ssize_t r;
        memset(&m, 0, sizeof m);
        m.msg_iov = iov;
        m.msg_iovlen = 2;
        do
            r = recvmsg((int)st->d->sock, &m, MSG_DONTWAIT);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                st->io_errno = errno; /* a failure, not "nothing yet" */
            gnutls_transport_set_errno(st->tls, errno);
            return -1;
        }
        st->dry = (size_t)r < len + RA_CAP;
        st->eof = r == 0;
        st->ra_off = 0;
        st->ra_len = (size_t)r > len ? (size_t)r - len : 0;
        return r > (ssize_t)len ? (ssize_t)len : r; /* 0: the peer closed */
    }
    size_t k = st->ra_len - st->ra_off < len ? st->ra_len - st->ra_off : len;
    memcpy(buf, st->ra + st->ra_off, k);
    st->ra_off += k;
    return (ssize_t)k;
}

/* Only used while GnuTLS waits with a timeout (libcurl's handshake, which
 * is over by now): what is read ahead counts as readable. */
static int tls_pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
    wss_stream *st = p;
    if (st->ra_off < st->ra_len)
        return 1;
    struct pollfd pf = { (int)st->d->sock, POLLIN, 0 };
    int r = poll(&pf, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
    if (r < 0)
        gnutls_transport_set_errno(st->tls, errno);
    return r;
}

static ssize_t tls_push(gnutls_transport_ptr_t p, const giovec_t *iov, int n)
{
    wss_stream *st = p;
    /* msghdr wants a mutable iovec; sendmsg does not write it. */
    union { const giovec_t *c; struct iovec *m; } v = { iov };
    struct msghdr m;
    ssize_t r;
    memset(&m, 0, sizeof m);
    m.msg_iov = v.m;
    m.msg_iovlen = (size_t)n;
    do
        r = sendmsg((int)st->d->sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            st->io_errno = errno; /* a failure, not "the socket is full" */
        gnutls_transport_set_errno(st->tls, errno);
    }
    return r;
}

void wss_stream_direct(wss_stream *st, int tls, unsigned char *ra)
{
    if (st->mode != WSS_STREAM_CURL || st->d->tls_in_tls)
        return; /* TLS inside the proxy's TLS: libcurl's to carry */
    if (!tls) {
        st->mode = WSS_STREAM_PLAIN;
        return;
    }
    struct curl_tlssessioninfo *info = NULL;
    if (curl_easy_getinfo(st->d->easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || !info ||
        info->backend != CURLSSLBACKEND_GNUTLS || !info->internals)
        return; /* another TLS library under libcurl: stay on it */
    st->ra = ra;
    gnutls_session_t s = info->internals;
    st->tls = s;
    gnutls_transport_set_ptr(s, st);
    gnutls_transport_set_pull_function(s, tls_pull);
    gnutls_transport_set_pull_timeout_function(s, tls_pull_timeout);
    gnutls_transport_set_vec_push_function(s, tls_push);
    st->mode = WSS_STREAM_TLS;
}

int wss_stream_has_buffered(const wss_stream *st)
{
    if (st->mode != WSS_STREAM_TLS)
        return 0;
    if (gnutls_record_check_pending(st->tls) > 0)
        return 1;
    /* Pulls take whole records, so what is read ahead starts at one. */
    size_t have = st->ra_len - st->ra_off;
    const unsigned char *h = st->ra + st->ra_off;
    return have >= TLS_HEAD && have >= TLS_HEAD + ((size_t)h[3] << 8 | h[4]);
}

/* ---- Reading and writing -------------------------------------------------- */

/* A failed TLS call as the link's error: GnuTLS's words, and the system's
 * when the socket call under it failed.  GnuTLS reports a push that failed
 * with ECONNRESET (a write the peer's reset refused) as
 * GNUTLS_E_PREMATURE_TERMINATION, its code for the stream ending too: the
 * socket's errno, set only when a transport call of this GnuTLS call
 * failed, tells the two apart. */
static int tls_failed(wss_stream *st, const char *what, int r, char *err, size_t errlen)
{
    if ((r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR ||
         r == GNUTLS_E_PREMATURE_TERMINATION) &&
        st->io_errno)
        return ptu_err(err, errlen, PT_EIO, "%s: %s (TLS)", what, strerror(st->io_errno));
    if (r == GNUTLS_E_PREMATURE_TERMINATION)
        return ptu_err(err, errlen, PT_EIO,
                       "beacon closed the TCP connection (without a TLS close_notify)");
    if (st->eof) /* GnuTLS calls it a decoding error */
        return ptu_err(err, errlen, PT_EIO,
                       "beacon closed the TCP connection in the middle of a TLS record");
    return ptu_err(err, errlen, PT_EIO, "%s: TLS: %s", what, gnutls_strerror(r));
}

static int socket_failed(const char *what, char *err, size_t errlen)
{
    return ptu_err(err, errlen, PT_EIO, "%s: %s", what, strerror(errno));
}

int wss_stream_recv(wss_stream *st, void *buf, size_t cap, size_t *n, char *err, size_t errlen)
{
    *n = 0;
    switch (st->mode) {
    case WSS_STREAM_TLS:
        st->io_errno = 0; /* only this call's failures name a cause (tls_failed) */
        for (int soft = 0;; soft++) {
            ssize_t r = gnutls_record_recv(st->tls, buf, cap);
            if (r > 0) {
                *n = (size_t)r;
                return PT_OK;
            }
            if (r == 0)
                break;
            if (r == GNUTLS_E_AGAIN)
                return WSS_AGAIN;
            if (soft < SOFT_RETRIES && (r == GNUTLS_E_INTERRUPTED || r == GNUTLS_E_REHANDSHAKE ||
                                        !gnutls_error_is_fatal((int)r)))
                continue; /* bounded: a peer repeating them cannot keep us here */
            return tls_failed(st, "receive", (int)r, err, errlen);
        }
        break;
    case WSS_STREAM_PLAIN: {
        if (st->dry) {
            st->dry = 0;
            return WSS_AGAIN;
        }
        ssize_t r;
        do
            r = recv((int)st->d->sock, buf, cap, MSG_DONTWAIT);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? WSS_AGAIN
                                                           : socket_failed("receive", err, errlen);
        if (r > 0) {
            st->dry = (size_t)r < cap;
            *n = (size_t)r;
            return PT_OK;
        }
        break;
    }
    default: {
        CURLcode cc = wss_dial_recv(st->d, buf, cap, n);
        if (cc == CURLE_AGAIN)
            return WSS_AGAIN;
        if (cc != CURLE_OK)
            return ptu_err(err, errlen, PT_EIO, "receive: %s%s%s", curl_easy_strerror(cc),
                           *st->d->curl_err ? ": " : "", st->d->curl_err);
        if (*n > 0)
            return PT_OK;
        break;
    }
    }
    return ptu_err(err, errlen, PT_EIO, "beacon closed the TCP connection");
}

int wss_stream_send(wss_stream *st, const void *buf, size_t len, size_t *sent, char *err,
                    size_t errlen)
{
    *sent = 0;
    switch (st->mode) {
    case WSS_STREAM_TLS:
        st->io_errno = 0;
        for (;;) {
            /* At most one record per call: the caller loops. */
            ssize_t r = gnutls_record_send(st->tls, buf, len);
            if (r > 0) {
                *sent = (size_t)r;
                return PT_OK;
            }
            if (r == GNUTLS_E_AGAIN || r == 0)
                return WSS_AGAIN;
            if (r != GNUTLS_E_INTERRUPTED)
                return tls_failed(st, "send", (int)r, err, errlen);
        }
    case WSS_STREAM_PLAIN: {
        ssize_t r;
        do
            r = send((int)st->d->sock, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? WSS_AGAIN
                                                           : socket_failed("send", err, errlen);
        *sent = (size_t)r;
        return r > 0 ? PT_OK : WSS_AGAIN;
    }
    default: {
        CURLcode rc = curl_easy_send(st->d->easy, buf, len, sent);
        if (rc == CURLE_AGAIN || (rc == CURLE_OK && *sent == 0))
            return WSS_AGAIN;
        if (rc != CURLE_OK)
            return ptu_err(err, errlen, PT_EIO, "send: %s%s%s", curl_easy_strerror(rc),
                           *st->d->curl_err ? ": " : "", st->d->curl_err);
        return PT_OK;
    }
    }
}
