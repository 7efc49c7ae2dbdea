/*
 * upgrade.h -- the HTTP/1.1 WebSocket upgrade (RFC 6455 4.1, SPEC 2.4):
 * build the client's request, parse the beacon's response incrementally.
 * Internal to the WSS plugin.  Prefix wss_upgrade_.
 *
 * Pure code: no I/O, no allocation, no global state; safe from any
 * thread.  dial.c sends the request and feeds what it reads to the
 * parser; the bytes after the response's header block are the first bytes
 * of the frame stream.  Messages are NUL-terminated, quote beacon text
 * only sanitised (printable ASCII, cut to WSS_UPGRADE_QUOTE_MAX), and err
 * may be NULL or errlen 0.
 */
#ifndef PT_WSS_UPGRADE_H
#define PT_WSS_UPGRADE_H

#include <stddef.h>
#include <stdint.h>

#include "pilot_transport.h"

/* The subprotocol we offer and require (SPEC 2.4). */
#define WSS_UPGRADE_SUBPROTOCOL "pilot.v1"
/* Sec-WebSocket-Key: base64 of 16 bytes; Sec-WebSocket-Accept: of 20. */
#define WSS_UPGRADE_KEY_LEN 24
#define WSS_UPGRADE_ACCEPT_LEN 28
/* The response's header block, status line to blank line, at most. */
#define WSS_UPGRADE_HEAD_MAX 8192
/* Beacon text quoted in messages is cut to this many characters. */
#define WSS_UPGRADE_QUOTE_MAX 47

/* Returned by wss_upgrade_feed while the header block is incomplete. */
#define WSS_UPGRADE_MORE 1

/* The Sec-WebSocket-Key for 16 random bytes (base64, NUL-terminated). */
void wss_upgrade_key(const unsigned char nonce[16], char key[WSS_UPGRADE_KEY_LEN + 1]);

/* The Sec-WebSocket-Accept a server must answer key with:
 * base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")). */
void wss_upgrade_accept(const char *key, char accept[WSS_UPGRADE_ACCEPT_LEN + 1]);

/* Write the upgrade request into buf (cap bytes, NUL-terminated):
 *   GET <target> HTTP/1.1
 *   Host: <host>[:<port>]      (IPv6 in brackets; the port only when it is
 *                               not the scheme's default, 443 or 80)
 *   Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Key: <key>,
 *   Sec-WebSocket-Version: 13, Sec-WebSocket-Protocol: pilot.v1,
 *   User-Agent: pilot-transport/<version>
 * and no Origin (the production beacon refuses any Origin but pilot:// ones).
 * target is the path and query as libcurl parsed them.  Returns the
 * length, or PT_EINVAL when an argument is NULL, host or target is empty
 * or holds a space or control character, or the request does not fit. */
int wss_upgrade_request(char *buf, size_t cap, const char *host, unsigned port, int tls,
                        const char *target, const char *key);

typedef struct wss_upgrade {
    char accept[WSS_UPGRADE_ACCEPT_LEN + 1]; /* what the beacon must answer */
    char head[WSS_UPGRADE_HEAD_MAX];         /* the header block so far */
    size_t len;
} wss_upgrade;

/* Start parsing the response to a request made with key. */
void wss_upgrade_init(wss_upgrade *u, const char *key);

/* Feed the next n bytes of the response.  *used is how many of them
 * belong to the header block; the rest (on PT_OK) start the frame
 * stream.  Returns
 *   WSS_UPGRADE_MORE  the header block is not complete: read more;
 *   PT_OK             a valid 101 for our key with subprotocol pilot.v1;
 *   PT_EIO    "wss dial: upgrade refused: HTTP 503 (Service Unavailable)"
 *             for any status but 101;
 *   PT_EPROTO "wss upgrade: ..." for a response that is not HTTP/1.x, a
 *             header block over WSS_UPGRADE_HEAD_MAX bytes, a malformed
 *             header line, no "Upgrade: websocket" or "Connection:
 *             Upgrade" (tokens compared case-insensitively, in lists,
 *             over repeated and folded lines), a missing, repeated or
 *             wrong Sec-WebSocket-Accept, "beacon selected no subprotocol
 *             (want pilot.v1)", "beacon selected subprotocol \"x\" (want
 *             pilot.v1)" (repeated lines are joined with ", "), or any
 *             Sec-WebSocket-Extensions (we offer none). */
int wss_upgrade_feed(wss_upgrade *u, const void *data, size_t n, size_t *used, char *err,
                     size_t errlen);

#endif
