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
#include "pilot_transport.h"

typedef struct wss_dial {
    CURLM *multi;       /* the dial runs on it, so cancel_fd can interrupt it */
    CURL *easy;         /* stays in multi: the connection lives there */
    CURLU *url;         /* this dial's copy of cfg->curlu */
    curl_socket_t sock; /* CURL_SOCKET_BAD until connected */
    const char *proxy;  /* the proxy dialled through (cfg or environment), or NULL */
    char curl_err[CURL_ERROR_SIZE];
} wss_dial;

/* DNS, TCP, proxy tunnel and TLS to cfg's beacon.  *d need not be
 * initialised; release it with wss_dial_close whatever this returns.
 * ca_path: the only roots to trust, or NULL for the system's.  Returns
 * PT_OK, or PT_ECLOSED ("wss dial: cancelled by close"), PT_ETIMEDOUT,
 * PT_EIO (DNS, TCP), PT_EPROXY ("wss dial: proxy refused CONNECT to
 * host:port: HTTP 407"), PT_ETLS ("wss dial: TLS: ... (host:port)"),
 * PT_ENOMEM. */
int wss_dial_connect(wss_dial *d, const wss_config *cfg, const char *ca_path, int cancel_fd,
                     int64_t deadline_ms, char *err, size_t errlen);

/* Send the upgrade request and read the response.  Reads land in buf (cap
 * bytes, at least 16 KiB); on PT_OK the bytes that came after the
 * response, the start of the frame stream, are buf[0..*len).  Returns
 * PT_OK, PT_ECLOSED, PT_ETIMEDOUT, PT_EIO ("wss dial: upgrade refused:
 * HTTP 503 (...)", a read or write error, the beacon closing), PT_EPROTO
 * (a bad 101, see wss_upgrade_feed). */
int wss_dial_upgrade(wss_dial *d, const wss_config *cfg, int cancel_fd, int64_t deadline_ms,
                     unsigned char *buf, size_t cap, size_t *len, char *err, size_t errlen);

/* Wait until sock polls for events: PT_OK, PT_ECLOSED when cancel_fd fires
 * first, PT_ETIMEDOUT at the deadline, PT_EIO if poll fails. */
int wss_dial_wait(int sock, short events, int cancel_fd, int64_t deadline_ms);

/* Replace the proxy's password in err (NUL-terminated) with "***":
 * libcurl's messages may quote the proxy URL. */
void wss_dial_scrub(const wss_dial *d, char *err, size_t errlen);

/* Close the connection and free what the dial holds (safe on a zeroed or
 * half-dialled *d). */
void wss_dial_close(wss_dial *d);

#endif
