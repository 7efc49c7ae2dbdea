/*
 * test-wss-upgrade.c -- the WSS plugin's WebSocket upgrade
 * (plugin/wss/upgrade.c): the request, the accept key, and the response
 * parser fed whole, a byte at a time and split at every offset.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "upgrade.h"

/* RFC 6455 1.3's example key and its accept value. */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

#define OK_HEAD                                                                            \
    "HTTP/1.1 101 Switching Protocols\r\n"                                                 \
    "Upgrade: websocket\r\n"                                                               \
    "Connection: Upgrade\r\n"                                                              \
    "Sec-WebSocket-Accept: " ACCEPT "\r\n"                                                 \
    "Sec-WebSocket-Protocol: pilot.v1\r\n"                                                 \
    "\r\n"

static char err[PT_ERRMSG_MAX];

/* Feed resp (n bytes) step bytes at a time (0: whole) until the parser
 * answers; *used_total is the header bytes it took. */
static int feed(const char *resp, size_t n, size_t step, size_t *used_total)
{
    static wss_upgrade u;
    size_t off = 0;
    int rc = WSS_UPGRADE_MORE;
    wss_upgrade_init(&u, KEY);
    err[0] = '\0';
    *used_total = 0;
    if (step == 0)
        step = n ? n : 1;
    while (off < n && rc == WSS_UPGRADE_MORE) {
        size_t used = 0, k = n - off < step ? n - off : step;
        rc = wss_upgrade_feed(&u, resp + off, k, &used, err, sizeof err);
        CHECK(used <= k);
        *used_total += used;
        off += k;
    }
    return rc;
}

/* The parser's verdict on resp, which must not depend on how it is split. */
static int verdict(const char *resp, size_t *used)
{
    size_t n = strlen(resp), u1 = 0, u2 = 0;
    char first[PT_ERRMSG_MAX];
    int rc = feed(resp, n, 0, used);
    snprintf(first, sizeof first, "%s", err);
    CHECK_EQ_INT(feed(resp, n, 1, &u1), rc);
    CHECK_STR_EQ(err, first);
    CHECK_EQ_INT(u1, *used);
    for (size_t cut = 1; cut < n && cut < 400; cut += 13) {
        CHECK_EQ_INT(feed(resp, n, cut, &u2), rc);
        CHECK_EQ_INT(u2, *used);
    }
    snprintf(err, sizeof err, "%s", first);
    return rc;
}

TEST(accept_key_of_rfc6455)
{
    char accept[WSS_UPGRADE_ACCEPT_LEN + 1];
    wss_upgrade_accept(KEY, accept);
    CHECK_STR_EQ(accept, ACCEPT);
}

TEST(key_is_base64_of_16_bytes)
{
    const unsigned char nonce[16] = "the sample nonce";
    char key[WSS_UPGRADE_KEY_LEN + 1];
    wss_upgrade_key(nonce, key);
    CHECK_STR_EQ(key, KEY);
}

TEST(request_has_every_header_and_no_origin)
{
    char buf[1024];
    int n = wss_upgrade_request(buf, sizeof buf, "beacon.example", 443, 1, "/v1/compat?x=1", KEY);
    CHECK(n > 0 && (size_t)n == strlen(buf));
    CHECK_STR_EQ(buf, "GET /v1/compat?x=1 HTTP/1.1\r\n"
                      "Host: beacon.example\r\n"
                      "Upgrade: websocket\r\n"
                      "Connection: Upgrade\r\n"
                      "Sec-WebSocket-Key: " KEY "\r\n"
                      "Sec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Protocol: pilot.v1\r\n"
                      "User-Agent: pilot-transport/" PACKAGE_VERSION "\r\n"
                      "\r\n");
    CHECK(strstr(buf, "Origin") == NULL);
}

TEST(request_host_carries_the_port_unless_default)
{
    char buf[1024];
    CHECK(wss_upgrade_request(buf, sizeof buf, "b.example", 8443, 1, "/", KEY) > 0);
    CHECK_STR_CONTAINS(buf, "\r\nHost: b.example:8443\r\n");
    CHECK(wss_upgrade_request(buf, sizeof buf, "b.example", 80, 0, "/", KEY) > 0);
    CHECK_STR_CONTAINS(buf, "\r\nHost: b.example\r\n");
    CHECK(wss_upgrade_request(buf, sizeof buf, "b.example", 443, 0, "/", KEY) > 0);
    CHECK_STR_CONTAINS(buf, "\r\nHost: b.example:443\r\n");
    CHECK(wss_upgrade_request(buf, sizeof buf, "::1", 8443, 1, "/", KEY) > 0);
    CHECK_STR_CONTAINS(buf, "\r\nHost: [::1]:8443\r\n");
    CHECK(wss_upgrade_request(buf, sizeof buf, "2001:db8::7", 443, 1, "/", KEY) > 0);
    CHECK_STR_CONTAINS(buf, "\r\nHost: [2001:db8::7]\r\n");
}

TEST(request_refuses_bad_arguments)
{
    char buf[1024];
    CHECK_EQ_INT(wss_upgrade_request(buf, sizeof buf, "b.example", 443, 1, "/a b", KEY), PT_EINVAL);
    CHECK_EQ_INT(wss_upgrade_request(buf, sizeof buf, "b.ex\r\nX: y", 443, 1, "/", KEY),
                 PT_EINVAL);
    CHECK_EQ_INT(wss_upgrade_request(buf, sizeof buf, "", 443, 1, "/", KEY), PT_EINVAL);
    CHECK_EQ_INT(wss_upgrade_request(buf, sizeof buf, "b", 0, 1, "/", KEY), PT_EINVAL);
    CHECK_EQ_INT(wss_upgrade_request(buf, sizeof buf, "b", 443, 1, NULL, KEY), PT_EINVAL);
    CHECK_EQ_INT(wss_upgrade_request(buf, 100, "b", 443, 1, "/", KEY), PT_EINVAL);
    CHECK_STR_EQ(buf, "");
}

TEST(valid_response_split_at_every_offset)
{
    size_t used;
    CHECK_EQ_INT(verdict(OK_HEAD, &used), PT_OK);
    CHECK_EQ_INT(used, strlen(OK_HEAD));
}

TEST(bytes_after_the_headers_are_left_for_the_frame_stream)
{
    static const char resp[] = OK_HEAD "\x81\x05Hello";
    size_t used;
    CHECK_EQ_INT(verdict(resp, &used), PT_OK);
    CHECK_EQ_INT(used, strlen(OK_HEAD));
}

TEST(tokens_and_names_ignore_case_and_sit_in_lists)
{
    size_t used;
    CHECK_EQ_INT(verdict("HTTP/1.1 101 OK\r\n"
                         "upgrade: WebSocket\r\n"
                         "CONNECTION: keep-alive , UPGRADE\r\n"
                         "sec-websocket-accept: " ACCEPT "\r\n"
                         "Sec-Websocket-Protocol:   pilot.v1  \r\n"
                         "\r\n",
                         &used),
                 PT_OK);
}

TEST(folded_and_repeated_headers)
{
    size_t used;
    /* A folded Connection list, a repeated Upgrade, a folded value. */
    CHECK_EQ_INT(verdict("HTTP/1.1 101\r\n"
                         "Upgrade: h2c\r\n"
                         "Upgrade: websocket\r\n"
                         "Connection: keep-alive,\r\n"
                         "\tUpgrade\r\n"
                         "Sec-WebSocket-Accept:\r\n " ACCEPT "\r\n"
                         "Sec-WebSocket-Protocol: pilot.v1\r\n"
                         "\r\n",
                         &used),
                 PT_OK);
    CHECK_EQ_INT(verdict("HTTP/1.1 101 OK\r\n"
                         "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: " ACCEPT "\r\n"
                         "Sec-WebSocket-Accept: " ACCEPT "\r\n"
                         "Sec-WebSocket-Protocol: pilot.v1\r\n\r\n",
                         &used),
                 PT_EPROTO);
    CHECK_STR_EQ(err, "wss upgrade: beacon sent Sec-WebSocket-Accept 2 times");
    CHECK_EQ_INT(verdict("HTTP/1.1 101 OK\r\n"
                         "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: " ACCEPT "\r\n"
                         "Sec-WebSocket-Protocol: pilot.v1\r\n"
                         "Sec-WebSocket-Protocol: pilot.v1\r\n\r\n",
                         &used),
                 PT_EPROTO);
    CHECK_STR_EQ(err, "wss upgrade: beacon selected subprotocol \"pilot.v1, pilot.v1\" (want "
                      "pilot.v1)");
}

TEST(status_other_than_101_is_refused)
{
    size_t used;
    CHECK_EQ_INT(verdict("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", &used),
                 PT_EIO);
    CHECK_STR_EQ(err, "wss dial: upgrade refused: HTTP 503 (Service Unavailable)");
    CHECK_EQ_INT(verdict("HTTP/1.1 200\r\n\r\n", &used), PT_EIO);
    CHECK_STR_EQ(err, "wss dial: upgrade refused: HTTP 200");
    CHECK_EQ_INT(verdict("HTTP/1.0 403 \x01\xff\r\n\r\n", &used), PT_EIO);
    CHECK_STR_EQ(err, "wss dial: upgrade refused: HTTP 403 (?" "?)");
}

TEST(not_http_is_refused)
{
    size_t used;
    static const char *bad[] = { "SSH-2.0-OpenSSH\r\n\r\n", "HTTP/2 101\r\n\r\n",
                                 "HTTP/1.1 1010 x\r\n\r\n", "HTTP/1.1 10\r\n\r\n",
                                 "HTTP/1.1 abc\r\n\r\n", "\r\n\r\n" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_EQ_INT(verdict(bad[i], &used), PT_EPROTO);
        CHECK_STR_CONTAINS(err, "wss upgrade: beacon's answer is not an HTTP/1.1 response");
    }
}

/* A 101 with one header line changed. */
static int with(const char *upgrade, const char *connection, const char *accept,
                const char *protocol, const char *extra)
{
    char resp[2048];
    size_t used;
    snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\n%s%s%s%s%s\r\n", upgrade,
             connection, accept, protocol, extra);
    return verdict(resp, &used);
}

#define UP "Upgrade: websocket\r\n"
#define CO "Connection: Upgrade\r\n"
#define AC "Sec-WebSocket-Accept: " ACCEPT "\r\n"
#define PR "Sec-WebSocket-Protocol: pilot.v1\r\n"

TEST(missing_or_wrong_headers_are_refused_with_their_messages)
{
    CHECK_EQ_INT(with(UP, CO, AC, PR, ""), PT_OK);
    CHECK_EQ_INT(with("", CO, AC, PR, ""), PT_EPROTO);
    CHECK_STR_EQ(err, "wss upgrade: beacon's 101 has no \"Upgrade: websocket\"");
    CHECK_EQ_INT(with("Upgrade: websockets\r\n", CO, AC, PR, ""), PT_EPROTO);
    CHECK_STR_EQ(err, "wss upgrade: beacon's 101 has no \"Upgrade: websocket\"");
    CHECK_EQ_INT(with(UP, "Connection: close\r\n", AC, PR, ""), PT_EPROTO);
    CHECK_STR_EQ(err, "wss upgrade: beacon's 101 has no \"Connection: Upgrade\"");
    CHECK_EQ_INT(with(UP, CO, "", PR, ""), PT_EPROTO);
    CHECK_STR_EQ(err, "wss upgrade: beacon sent no Sec-WebSocket-Accept");
    CHECK_EQ_INT(with(UP, CO, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOO=\r\n", PR, ""),
                 PT_EPROTO);
    CHECK_STR_EQ(err, "wss upgrade: beacon's Sec-WebSocket-Accept does not match our key");
    CHECK_EQ_INT(with(UP, CO, AC, "", ""), PT_EPROTO);
    CHECK_STR_EQ(err, "wss upgrade: beacon selected no subprotocol (want pilot.v1)");
    CHECK_EQ_INT(with(UP, CO, AC, "Sec-WebSocket-Protocol: other.v9\r\n", ""), PT_EPROTO);
    CHECK_STR_EQ(err, "wss upgrade: beacon selected subprotocol \"other.v9\" (want pilot.v1)");
    CHECK_EQ_INT(with(UP, CO, AC, "Sec-WebSocket-Protocol: PILOT.V1\r\n", ""), PT_EPROTO);
    CHECK_EQ_INT(with(UP, CO, AC, PR, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
                 PT_EPROTO);
    CHECK_STR_EQ(err,
                 "wss upgrade: beacon selected extensions \"permessage-deflate\", but we offer "
                 "none");
    /* An empty extensions header selects nothing. */
    CHECK_EQ_INT(with(UP, CO, AC, PR, "Sec-WebSocket-Extensions:\r\n"), PT_OK);
}

TEST(beacon_text_in_messages_is_sanitised_and_cut)
{
    char proto[200];
    snprintf(proto, sizeof proto, "Sec-WebSocket-Protocol: \x1b[31m%0100d\r\n", 7);
    CHECK_EQ_INT(with(UP, CO, AC, proto, ""), PT_EPROTO);
    CHECK_STR_CONTAINS(err, "subprotocol \"?[31m0000");
    CHECK_STR_CONTAINS(err, "...\" (want pilot.v1)");
    CHECK(strchr(err, 0x1b) == NULL);
}

TEST(malformed_header_lines_are_refused)
{
    CHECK_EQ_INT(with(UP, CO, AC, PR, "no colon here\r\n"), PT_EPROTO);
    CHECK_STR_EQ(err, "wss upgrade: malformed header line 6 in the beacon's response");
    CHECK_EQ_INT(with(UP, CO, AC, PR, ": empty name\r\n"), PT_EPROTO);
    CHECK_EQ_INT(with(UP, CO, AC, PR, "Bad Name: x\r\n"), PT_EPROTO);
    CHECK_STR_CONTAINS(err, "malformed header name on line 6");
}

TEST(oversize_header_block_is_refused)
{
    size_t n = WSS_UPGRADE_HEAD_MAX + 100, used;
    char *resp = malloc(n + 1);
    if (!resp)
        abort();
    memset(resp, 'a', n);
    memcpy(resp, "HTTP/1.1 101 OK\r\nX-Pad: ", 24);
    resp[n] = '\0';
    CHECK_EQ_INT(verdict(resp, &used), PT_EPROTO);
    CHECK_STR_EQ(err, "wss upgrade: beacon's response headers are over 8192 bytes");
    CHECK_EQ_INT(used, WSS_UPGRADE_HEAD_MAX);
    /* Exactly at the bound still fits. */
    static const char tail[] = "\r\n" UP CO AC PR "\r\n";
    size_t pad = WSS_UPGRADE_HEAD_MAX - 24 - (sizeof tail - 1);
    memset(resp + 24, 'b', pad);
    memcpy(resp + 24 + pad, tail, sizeof tail);
    CHECK_EQ_INT(strlen(resp), WSS_UPGRADE_HEAD_MAX);
    CHECK_EQ_INT(verdict(resp, &used), PT_OK);
    free(resp);
}

int main(void)
{
    RUN(accept_key_of_rfc6455);
    RUN(key_is_base64_of_16_bytes);
    RUN(request_has_every_header_and_no_origin);
    RUN(request_host_carries_the_port_unless_default);
    RUN(request_refuses_bad_arguments);
    RUN(valid_response_split_at_every_offset);
    RUN(bytes_after_the_headers_are_left_for_the_frame_stream);
    RUN(tokens_and_names_ignore_case_and_sit_in_lists);
    RUN(folded_and_repeated_headers);
    RUN(status_other_than_101_is_refused);
    RUN(not_http_is_refused);
    RUN(missing_or_wrong_headers_are_refused_with_their_messages);
    RUN(beacon_text_in_messages_is_sanitised_and_cut);
    RUN(malformed_header_lines_are_refused);
    RUN(oversize_header_block_is_refused);
    return tap_done();
}
