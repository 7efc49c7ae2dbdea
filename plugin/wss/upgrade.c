/* upgrade.c -- the WebSocket upgrade request and response (RFC 6455 4.1). */
#include "config.h"

#include "upgrade.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <nettle/base64.h>
#include <nettle/sha1.h>

#include "quote.h"
#include "util.h"

#define GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

_Static_assert(BASE64_ENCODE_RAW_LENGTH(16) == WSS_UPGRADE_KEY_LEN, "key length");
_Static_assert(BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) == WSS_UPGRADE_ACCEPT_LEN,
               "accept length");

void wss_upgrade_key(const unsigned char nonce[16], char key[WSS_UPGRADE_KEY_LEN + 1])
{
    base64_encode_raw(key, 16, nonce);
    key[WSS_UPGRADE_KEY_LEN] = '\0';
}

void wss_upgrade_accept(const char *key, char accept[WSS_UPGRADE_ACCEPT_LEN + 1])
{
    struct sha1_ctx ctx;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&ctx);
    sha1_update(&ctx, strlen(key), (const uint8_t *)key);
    sha1_update(&ctx, sizeof GUID - 1, (const uint8_t *)GUID);
    sha1_digest(&ctx, sizeof digest, digest);
    base64_encode_raw(accept, sizeof digest, digest);
    accept[WSS_UPGRADE_ACCEPT_LEN] = '\0';
}

/* ---- Request ------------------------------------------------------------ */

static int printable_word(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

int wss_upgrade_request(char *buf, size_t cap, const char *host, unsigned port, int tls,
                        const char *target, const char *key)
{
    char port_part[8] = "";
    int v6, n;

    if (!buf || !host || !target || !key || !printable_word(host) || !printable_word(target) ||
        !printable_word(key) || port == 0 || port > 65535)
        return PT_EINVAL;
    v6 = strchr(host, ':') != NULL;
    if (port != (tls ? 443u : 80u))
        snprintf(port_part, sizeof port_part, ":%u", port);
    n = snprintf(buf, cap,
                 "GET %s HTTP/1.1\r\n"
                 "Host: %s%s%s%s\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Protocol: " WSS_UPGRADE_SUBPROTOCOL "\r\n"
                 "User-Agent: pilot-transport/" PACKAGE_VERSION "\r\n"
                 "\r\n",
                 target, v6 ? "[" : "", host, v6 ? "]" : "", port_part, key);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            buf[0] = '\0';
        return PT_EINVAL;
    }
    return n;
}

/* ---- Response ----------------------------------------------------------- */

void wss_upgrade_init(wss_upgrade *u, const char *key)
{
    memset(u, 0, sizeof *u);
    wss_upgrade_accept(key, u->accept);
}

/* Beacon text safe to show: printable ASCII, cut to WSS_UPGRADE_QUOTE_MAX
 * characters then "...". */
static const char *quote(const char *s, size_t n, char out[WSS_UPGRADE_QUOTE_MAX + 4])
{
    return ptu_printable(out, WSS_UPGRADE_QUOTE_MAX + 4, s, n);
}

static int is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Does the comma-separated list v (n bytes) hold token, ignoring case? */
static int has_token(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token), i = 0;
    while (i < n) {
        size_t s, e;
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        s = i;
        while (i < n && v[i] != ',')
            i++;
        e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
            return 1;
    }
    return 0;
}

/* What the checks need from the header lines. */
struct seen {
    int upgrade, connection;        /* the right token was found */
    int accepts, accept_ok;         /* Sec-WebSocket-Accept lines, and ours matched */
    int protocols;                  /* Sec-WebSocket-Protocol lines */
    char protocol[WSS_UPGRADE_QUOTE_MAX + 8]; /* their values, joined, cut */
    size_t protocol_len;            /* length joined, uncut */
    const char *ext;                /* the first non-empty Sec-WebSocket-Extensions */
    size_t ext_len;
};

static void header(struct seen *s, const char *accept, const char *name, size_t nl,
                   const char *v, size_t vl)
{
#define IS(h) (nl == sizeof(h) - 1 && strncasecmp(name, h, nl) == 0)
    if (IS("Upgrade")) {
        s->upgrade |= has_token(v, vl, "websocket");
    } else if (IS("Connection")) {
        s->connection |= has_token(v, vl, "upgrade");
    } else if (IS("Sec-WebSocket-Accept")) {
        s->accepts++;
        s->accept_ok = vl == WSS_UPGRADE_ACCEPT_LEN && memcmp(v, accept, vl) == 0;
    } else if (IS("Sec-WebSocket-Protocol")) {
        size_t have = strlen(s->protocol), room = sizeof s->protocol - 1 - have;
        const char *sep = s->protocols++ ? ", " : "";
        /* Joined as a repeated header means (RFC 7230 3.2.2). */
        snprintf(s->protocol + have, room + 1, "%s%.*s", sep, (int)vl, v);
        s->protocol_len += strlen(sep) + vl;
    } else if (IS("Sec-WebSocket-Extensions") && vl && !s->ext) {
        s->ext = v;
        s->ext_len = vl;
    }
#undef IS
}

/* Check the whole header block head[0..len) (it ends in CRLF CRLF). */
static int check(wss_upgrade *u, size_t len, char *err, size_t errlen)
{
    char *h = u->head, *line, *end = u->head + len - 2, q[WSS_UPGRADE_QUOTE_MAX + 4];
    struct seen s;
    int status, lineno = 1;

    /* obs-fold: a line that starts with a space or tab continues the one
     * before it; RFC 7230 3.2.4 has us read the fold as a space. */
    for (char *p = h; p + 2 < end; p++)
        if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t'))
            p[0] = p[1] = ' ';

    /* Status line: HTTP/1.x 101 ... */
    line = memmem(h, len, "\r\n", 2);
    if (line - h < 12 || memcmp(h, "HTTP/1.", 7) != 0 || h[7] < '0' || h[7] > '9' ||
        h[8] != ' ' || h[9] < '1' || h[9] > '9' || h[10] < '0' || h[10] > '9' || h[11] < '0' ||
        h[11] > '9' || (line - h > 12 && h[12] != ' '))
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss upgrade: beacon's answer is not an HTTP/1.1 response (\"%s\")",
                       quote(h, (size_t)(line - h), q));
    status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
    if (status != 101) {
        size_t rl = line - h > 13 ? (size_t)(line - h - 13) : 0;
        if (rl)
            return ptu_err(err, errlen, PT_EIO, "wss dial: upgrade refused: HTTP %d (%s)",
                           status, quote(h + 13, rl, q));
        return ptu_err(err, errlen, PT_EIO, "wss dial: upgrade refused: HTTP %d", status);
    }

    memset(&s, 0, sizeof s);
    for (line += 2; line < end; lineno++) {
        char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2), *colon, *v, *ve;
        colon = memchr(line, ':', (size_t)(eol - line));
        if (!colon || colon == line)
            return ptu_err(err, errlen, PT_EPROTO,
                           "wss upgrade: malformed header line %d in the beacon's response",
                           lineno + 1);
        for (char *c = line; c < colon; c++)
            if (!is_tchar(*c))
                return ptu_err(err, errlen, PT_EPROTO,
                               "wss upgrade: malformed header name on line %d of the beacon's "
                               "response",
                               lineno + 1);
        for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
            ;
        for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
            ;
        header(&s, u->accept, line, (size_t)(colon - line), v, (size_t)(ve - v));
        line = eol + 2;
    }

    if (!s.upgrade)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss upgrade: beacon's 101 has no \"Upgrade: websocket\"");
    if (!s.connection)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss upgrade: beacon's 101 has no \"Connection: Upgrade\"");
    if (s.accepts == 0)
        return ptu_err(err, errlen, PT_EPROTO, "wss upgrade: beacon sent no Sec-WebSocket-Accept");
    if (s.accepts > 1)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss upgrade: beacon sent Sec-WebSocket-Accept %d times", s.accepts);
    if (!s.accept_ok)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss upgrade: beacon's Sec-WebSocket-Accept does not match our key");
    if (s.protocols == 0)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss upgrade: beacon selected no subprotocol (want " WSS_UPGRADE_SUBPROTOCOL
                       ")");
    if (s.protocols > 1 || strcmp(s.protocol, WSS_UPGRADE_SUBPROTOCOL) != 0)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss upgrade: beacon selected subprotocol \"%s\" (want "
                       WSS_UPGRADE_SUBPROTOCOL ")",
                       quote(s.protocol, s.protocol_len, q));
    if (s.ext)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss upgrade: beacon selected extensions \"%s\", but we offer none",
                       quote(s.ext, s.ext_len, q));
    return PT_OK;
}

int wss_upgrade_feed(wss_upgrade *u, const void *data, size_t n, size_t *used, char *err,
                     size_t errlen)
{
    size_t old = u->len, take = n < sizeof u->head - old ? n : sizeof u->head - old;
    size_t from = old > 3 ? old - 3 : 0;
    char *end;

    *used = 0;
    if (take)
        memcpy(u->head + old, data, take);
    u->len += take;
    end = memmem(u->head + from, u->len - from, "\r\n\r\n", 4);
    if (!end) {
        *used = take;
        if (u->len == sizeof u->head)
            return ptu_err(err, errlen, PT_EPROTO,
                           "wss upgrade: beacon's response headers are over %d bytes",
                           WSS_UPGRADE_HEAD_MAX);
        return WSS_UPGRADE_MORE;
    }
    u->len = (size_t)(end + 4 - u->head);
    *used = u->len - old;
    return check(u, u->len, err, errlen);
}
