/*
 * dial.h -- the connection under a link, up to the first frame: libcurl
 * does DNS, TCP, the proxy's CONNECT and TLS (verification, pinning, CA
 * file, TLS 1.2 at least) and stops there (CURLOPT_CONNECT_ONLY=1); the
 * plugin then sends the WebSocket upgrade request itself and reads the
 * 101 (upgrade.c), so that every byte of the frame stream after it passes
 * through the plugin's own decoder (frame.c).  Internal to the WSS plugin.
 * Prefix wss_dial_.
 *
 * Why not libcurl's WebSocket API: curl_ws_recv always decodes (libcurl
 * 8.14 has no raw receive mode), and curl_easy_recv on a handle that
 * curl_ws_recv used would skip the bytes libcurl buffered after the 101.
 *
 * Every step is bounded by deadline_ms (monotonic milliseconds, see
 * ptu_now_ms) and abandoned as soon as cancel_fd polls readable (-1: no
 * cancel).  Messages say which step failed and never hold the proxy's
 * password.  One thread at a time per wss_dial.
 */
#ifndef PT_WSS_DIAL_H
#define PT_WSS_DIAL_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "dialer.h"
#include "pilot_transport.h"

typedef struct wss_dial {
    CURLM *multi;       /* the dial runs on it, so cancel_fd can interrupt it */
    CURL *easy;         /* stays in multi: the connection lives there */
    CURLU *url;         /* this dial's copy of cfg->curlu */
    curl_socket_t sock; /* CURL_SOCKET_BAD until connected */
    int tls_in_tls;     /* through an https:// proxy: TLS inside the proxy's TLS */
    char status[64];    /* the first line of the proxy's answer to CONNECT */
    char curl_err[CURL_ERROR_SIZE];
} wss_dial;

/* DNS, TCP, proxy tunnel and TLS to the beacon of dl->cfg.  *d need not be
 * initialised; release it with wss_dial_close whatever this returns.  The
 * proxy is chosen by wss_proxy_choose (running proxy-cmd if need be); its
 * credentials go to libcurl as CURLOPT_PROXYUSERNAME/PASSWORD, never in
 * the proxy URL, and are wiped (ours) and unset (libcurl's option copies)
 * once connected or failed.  When the proxy refuses proxy-cmd's
 * credentials (HTTP 407 or 401) the command is run again and the CONNECT
 * tried once more.  Returns PT_OK, or PT_ECLOSED ("wss dial: cancelled
 * while connecting to host:port ..."; at once, without a DNS lookup, when
 * cancel_fd is readable already), PT_ETIMEDOUT, PT_EIO (DNS, TCP), PT_EPROXY (the proxy refused,
 * could not be reached, answered garbage, its certificate was refused;
 * proxy-cmd failed), PT_ETLS ("wss dial: TLS: ... (host:port)"),
 * PT_ENOMEM.  The proxy appears in messages as its redacted form. */
int wss_dial_connect(wss_dial *d, wss_dialer *dl, int cancel_fd, int64_t deadline_ms, char *err,
                     size_t errlen);

/* Send the upgrade request and read the response.  Reads land in buf (cap
 * bytes, at least 16 KiB); on PT_OK the bytes that came after the
 * response, the start of the frame stream, are buf[0..*len).  Returns
 * PT_OK, PT_ECLOSED, PT_ETIMEDOUT, PT_EIO ("wss dial: upgrade refused:
 * HTTP 503 (...)", a read or write error, the beacon closing), PT_EPROTO
 * (a bad 101, see wss_upgrade_feed). */
int wss_dial_upgrade(wss_dial *d, const wss_config *cfg, int cancel_fd, int64_t deadline_ms,
                     unsigned char *buf, size_t cap, size_t *len, char *err, size_t errlen);

/* curl_easy_recv on the dialled connection, for every read after the
 * connect while the stream is on libcurl (the dial, and for good through
 * an https:// proxy: stream.h).  Through such a proxy a CURLE_AGAIN may
 * leave whole TLS records in libcurl's buffers that no poll of the socket
 * will show (see dial.c), so it is asked again a few times before it is
 * believed. */
CURLcode wss_dial_recv(wss_dial *d, void *buf, size_t cap, size_t *n);

/* Whether cancel_fd (-1: none) polls readable now. */
int wss_dial_cancelled(int cancel_fd);

/* Wait until sock polls for events: PT_OK, PT_ECLOSED when cancel_fd fires
 * first, PT_ETIMEDOUT at the deadline, PT_EIO if poll fails. */
int wss_dial_wait(int sock, short events, int cancel_fd, int64_t deadline_ms);

/* Close the connection and free what the dial holds (safe on a zeroed or
 * half-dialled *d). */
void wss_dial_close(wss_dial *d);

#endif
