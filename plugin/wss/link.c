/*
 * link.c -- a WebSocket connection to the beacon on libcurl's connect-only
 * WebSocket API: the dial on a multi handle (so a close can interrupt it
 * through cancel_fd), the auth exchange, and message framing on top of
 * curl_ws_recv / curl_ws_send.
 */
#include "config.h"

#include "link.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <nettle/base64.h>

#include "auth.h"
#include "frame.h"
#include "util.h"

#define SUBPROTOCOL "pilot.v1"
/* Room for the largest message plus a control frame read behind it. */
#define RX_CAP (PT_MAX_FRAME + 128)
/* The send queue: one largest data message with its 14-byte header, plus
 * room that only control frames may use, so a pong always fits. */
#define TX_CTL_ROOM 512
#define TX_CAP (PT_MAX_FRAME + 14 + TX_CTL_ROOM)
/* Masking keys are drawn from getrandom() this many bytes at a time. */
#define MASK_POOL 256

struct wss_link {
    CURLM *multi;
    CURL *easy;         /* stays in multi: connect-only needs that */
    struct curl_slist *headers;
    CURLU *url;         /* this dial's copy of cfg->curlu */
    curl_socket_t sock;
    char curl_err[CURL_ERROR_SIZE];
    unsigned char *rx;  /* data message being assembled */
    size_t rx_len;
    unsigned char ctl[128]; /* control frame being assembled (<= 125) */
    size_t ctl_len;
    int broken;         /* a read failed: the stream is out of step, read no more */
    unsigned char *tx;  /* whole frames, masked, not yet written: [tx_off, tx_len) */
    size_t tx_off, tx_len;
    uint64_t tx_written; /* bytes written since the dial */
    unsigned char masks[MASK_POOL]; /* unused keys are [mask_off, MASK_POOL) */
    size_t mask_off;
};

int64_t wss_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wss_link_socket(const wss_link *l)
{
    return (int)l->sock;
}

void wss_link_free(wss_link *l)
{
    if (!l)
        return;
    if (l->multi && l->easy)
        curl_multi_remove_handle(l->multi, l->easy);
    if (l->easy)
        curl_easy_cleanup(l->easy);
    if (l->multi)
        curl_multi_cleanup(l->multi);
    curl_slist_free_all(l->headers);
    curl_url_cleanup(l->url);
    free(l->rx);
    free(l->tx);
    free(l);
}

/* ---- Messages ------------------------------------------------------------ */

static int read_message(wss_link *l, unsigned char *dst, size_t dcap, wss_msg *m, char *err,
                        size_t errlen);

static void parse_close(wss_msg *m)
{
    m->close_code = 1005; /* "no status received" */
    m->close_reason[0] = '\0';
    if (m->len >= 2) {
        m->close_code = m->data[0] << 8 | m->data[1];
        size_t n = 0;
        for (size_t i = 2; i < m->len && n + 1 < sizeof m->close_reason; i++)
            m->close_reason[n++] = (m->data[i] >= 0x20 && m->data[i] < 0x7f) ? (char)m->data[i] : '?';
        m->close_reason[n] = '\0';
    }
}

int wss_link_read(wss_link *l, wss_msg *m, char *err, size_t errlen)
{
    return wss_link_read_into(l, NULL, 0, m, err, errlen);
}

int wss_link_read_into(wss_link *l, void *dst, size_t dcap, wss_msg *m, char *err, size_t errlen)
{
    if (l->broken)
        return ptu_err(err, errlen, PT_EIO, "link already failed");
    int rc = read_message(l, dst, dcap, m, err, errlen);
    if (rc < 0)
        l->broken = 1; /* e.g. the rest of an oversize message must never surface */
    return rc;
}

static int read_message(wss_link *l, unsigned char *dst, size_t dcap, wss_msg *m, char *err,
                        size_t errlen)
{
    for (;;) {
        size_t n = 0;
        const struct curl_ws_frame *meta = NULL;
        /* A message that starts here and arrives whole goes straight to
         * dst; one in pieces is assembled in rx. */
        int direct = dst && dcap > 0 && l->rx_len == 0;
        unsigned char *into = direct ? dst : l->rx + l->rx_len;
        size_t room = direct ? (dcap < RX_CAP ? dcap : RX_CAP) : RX_CAP - l->rx_len;
        CURLcode rc = curl_ws_recv(l->easy, into, room, &n, &meta);
        if (rc == CURLE_AGAIN)
            return WSS_AGAIN;
        if (rc == CURLE_GOT_NOTHING)
            return ptu_err(err, errlen, PT_EIO, "beacon closed the TCP connection");
        if (rc != CURLE_OK || !meta)
            return ptu_err(err, errlen, PT_EIO, "receive: %s%s%s", curl_easy_strerror(rc),
                           *l->curl_err ? ": " : "", l->curl_err);

        if (meta->flags & (CURLWS_PING | CURLWS_PONG | CURLWS_CLOSE)) {
            /* Control frames are at most 125 bytes (libcurl checks), but
             * may still arrive in pieces. */
            if (l->ctl_len + n > sizeof l->ctl)
                return ptu_err(err, errlen, PT_EPROTO, "control frame over 125 bytes");
            memcpy(l->ctl + l->ctl_len, into, n);
            l->ctl_len += n;
            if (meta->bytesleft > 0)
                continue;
            m->kind = (meta->flags & CURLWS_PING)   ? WSS_MSG_PING
                      : (meta->flags & CURLWS_PONG) ? WSS_MSG_PONG
                                                    : WSS_MSG_CLOSE;
            m->data = l->ctl;
            m->len = l->ctl_len;
            l->ctl_len = 0;
            if (m->kind == WSS_MSG_CLOSE)
                parse_close(m);
            return PT_OK;
        }
        /* A data chunk: refuse an oversize message as soon as its size is
         * known, before more of it is buffered. */
        if ((curl_off_t)(l->rx_len + n) + meta->bytesleft > PT_MAX_FRAME) {
            l->rx_len = 0;
            return ptu_err(err, errlen, PT_ETOOLARGE,
                           "beacon sent a message over %d bytes", PT_MAX_FRAME);
        }
        int whole = meta->bytesleft == 0 && !(meta->flags & CURLWS_CONT);
        if (direct && whole) {
            m->kind = (meta->flags & CURLWS_TEXT) ? WSS_MSG_TEXT : WSS_MSG_BINARY;
            m->data = dst;
            m->len = n;
            return PT_OK;
        }
        if (direct && n)
            memcpy(l->rx, dst, n);
        l->rx_len += n;
        if (!whole)
            continue; /* more of this frame, or more fragments */
        m->kind = (meta->flags & CURLWS_TEXT) ? WSS_MSG_TEXT : WSS_MSG_BINARY;
        m->data = l->rx;
        m->len = l->rx_len;
        l->rx_len = 0;
        return PT_OK;
    }
}

/* ---- Sending --------------------------------------------------------------
 *
 * libcurl's own framing (curl_ws_send without CURLWS_RAW_MODE) copies and
 * masks a message one byte at a time through its buffer queue, and writes
 * one message per TLS record.  So the link frames messages itself
 * (frame.c) into one send queue and hands whole runs of frames to libcurl
 * in raw mode: several messages ready at once leave in one TLS write.
 */

/* A fresh masking key (RFC 6455 5.3: unpredictable, from a strong source). */
static int next_mask(wss_link *l, unsigned char key[4])
{
    if (l->mask_off + 4 > MASK_POOL) {
        if (getrandom(l->masks, MASK_POOL, 0) != MASK_POOL)
            return -1;
        l->mask_off = 0;
    }
    memcpy(key, l->masks + l->mask_off, 4);
    l->mask_off += 4;
    return 0;
}

size_t wss_link_queued(const wss_link *l)
{
    return l->tx_len - l->tx_off;
}

uint64_t wss_link_written(const wss_link *l)
{
    return l->tx_written;
}

int wss_link_queue(wss_link *l, int kind, const void *buf, size_t len)
{
    static const unsigned char opcode[] = { [WSS_MSG_BINARY] = WSS_OP_BINARY,
                                            [WSS_MSG_TEXT] = WSS_OP_TEXT,
                                            [WSS_MSG_PING] = WSS_OP_PING,
                                            [WSS_MSG_PONG] = WSS_OP_PONG,
                                            [WSS_MSG_CLOSE] = WSS_OP_CLOSE };
    int control = kind == WSS_MSG_PING || kind == WSS_MSG_PONG || kind == WSS_MSG_CLOSE;
    size_t head = wss_frame_head_len(len);
    size_t limit = control ? TX_CAP : TX_CAP - TX_CTL_ROOM;
    unsigned char key[4];
    int n;

    if (kind < WSS_MSG_BINARY || kind > WSS_MSG_CLOSE || len > PT_MAX_FRAME ||
        (control && len > WSS_FRAME_CONTROL_MAX))
        return PT_EINVAL;
    if (l->tx_len + head + len > limit) {
        if (l->tx_off == 0 || l->tx_len - l->tx_off + head + len > limit)
            return WSS_AGAIN; /* flush first */
        memmove(l->tx, l->tx + l->tx_off, l->tx_len - l->tx_off);
        l->tx_len -= l->tx_off;
        l->tx_off = 0;
    }
    if (next_mask(l, key) != 0)
        return PT_EIO;
    n = wss_frame_encode(l->tx + l->tx_len, opcode[kind], buf, len, key);
    if (n < 0)
        return n;
    l->tx_len += (size_t)n;
    return PT_OK;
}

int wss_link_flush(wss_link *l, char *err, size_t errlen)
{
    while (l->tx_off < l->tx_len) {
        size_t sent = 0;
        CURLcode rc = curl_ws_send(l->easy, l->tx + l->tx_off, l->tx_len - l->tx_off, &sent, 0, 0);
        if (rc == CURLE_AGAIN)
            return WSS_AGAIN;
        if (rc != CURLE_OK)
            return ptu_err(err, errlen, PT_EIO, "send: %s%s%s", curl_easy_strerror(rc),
                           *l->curl_err ? ": " : "", l->curl_err);
        if (sent == 0)
            return WSS_AGAIN;
        l->tx_off += sent;
        l->tx_written += sent;
    }
    l->tx_off = l->tx_len = 0;
    return PT_OK;
}

/* ---- Dial -------------------------------------------------------------- */

/* The proxy for proxy=auto, as curl's users expect from the environment:
 * HTTPS_PROXY (wss) or HTTP_PROXY (ws), then ALL_PROXY; NO_PROXY applies. */
static const char *env_proxy(int tls, const char **no_proxy)
{
    const char *names_tls[] = { "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", NULL };
    const char *names_plain[] = { "http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy", NULL };
    const char **names = tls ? names_tls : names_plain;
    *no_proxy = getenv("NO_PROXY");
    if (!*no_proxy || !**no_proxy)
        *no_proxy = getenv("no_proxy");
    for (; *names; names++) {
        const char *v = getenv(*names);
        if (v && *v)
            return v;
    }
    return NULL;
}

/* Remove every occurrence of secret from msg (replaced by ***). */
static void scrub(char *msg, const char *secret)
{
    size_t sl = secret ? strlen(secret) : 0;
    char *p;
    if (sl < 1)
        return;
    while ((p = strstr(msg, secret)) != NULL) {
        memmove(p + 3, p + sl, strlen(p + sl) + 1);
        memcpy(p, "***", 3);
    }
}

/* The password of a proxy URL ("http://user:pw@host"), to keep it out of
 * messages; copied into buf, "" when there is none. */
static void proxy_password(const char *url, char *buf, size_t cap)
{
    const char *s = url ? strstr(url, "://") : NULL, *at, *colon;
    buf[0] = '\0';
    if (!s)
        return;
    s += 3;
    at = strrchr(s, '@');
    if (!at)
        return;
    colon = memchr(s, ':', (size_t)(at - s));
    if (!colon || (size_t)(at - colon - 1) >= cap)
        return;
    memcpy(buf, colon + 1, (size_t)(at - colon - 1));
    buf[at - colon - 1] = '\0';
}

static int map_curl_error(wss_link *l, CURLcode rc, const wss_config *cfg, int via_proxy,
                          char *err, size_t errlen)
{
    long connect_code = 0, http_code = 0;
    const char *detail = *l->curl_err ? l->curl_err : curl_easy_strerror(rc);
    curl_easy_getinfo(l->easy, CURLINFO_HTTP_CONNECTCODE, &connect_code);
    curl_easy_getinfo(l->easy, CURLINFO_RESPONSE_CODE, &http_code);

    if (via_proxy && connect_code && connect_code != 200)
        return ptu_err(err, errlen, PT_EPROXY, "wss dial: proxy refused CONNECT to %s:%u: HTTP %ld",
                       cfg->host, (unsigned)cfg->port, connect_code);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
        return ptu_err(err, errlen, PT_EPROXY, "wss dial: proxy: %s", detail);
    case CURLE_COULDNT_RESOLVE_HOST:
        return ptu_err(err, errlen, PT_EIO, "wss dial: DNS: %s", detail);
    case CURLE_COULDNT_CONNECT:
        return ptu_err(err, errlen, via_proxy ? PT_EPROXY : PT_EIO, "wss dial: %s: %s",
                       via_proxy ? "proxy" : "TCP", detail);
    case CURLE_OPERATION_TIMEDOUT:
        return ptu_err(err, errlen, PT_ETIMEDOUT, "wss dial: timed out: %s", detail);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
        return ptu_err(err, errlen, PT_ETLS, "wss dial: TLS: %s (%s:%u)", detail, cfg->host,
                       (unsigned)cfg->port);
    case CURLE_OUT_OF_MEMORY:
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");
    default:
        if (http_code && http_code != 101)
            return ptu_err(err, errlen, PT_EIO, "wss dial: upgrade refused: HTTP %ld (%s)",
                           http_code, detail);
        return ptu_err(err, errlen, PT_EIO, "wss dial: %s", detail);
    }
}

static int setup_easy(wss_link *l, const wss_config *cfg, const char *ca_path,
                      int64_t deadline_ms, const char **proxy_used, char *err, size_t errlen)
{
    CURL *e = l->easy;
    const char *no_proxy = NULL, *proxy = NULL;
    long left = (long)(deadline_ms - wss_now_ms());
    CURLcode rc = CURLE_OK;
    if (left < 1)
        left = 1;

    l->headers = curl_slist_append(NULL, "Sec-WebSocket-Protocol: " SUBPROTOCOL);
    /* The url as conf.c parsed and checked it: one parser for both. */
    l->url = curl_url_dup(cfg->curlu);
    if (!l->headers || !l->url)
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");

#define SET(opt, val)                                                                      \
    do {                                                                                   \
        if (rc == CURLE_OK)                                                                \
            rc = curl_easy_setopt(e, opt, val);                                            \
    } while (0)
    SET(CURLOPT_CURLU, l->url);
    SET(CURLOPT_CONNECT_ONLY, 2L); /* upgrade, then hand over to curl_ws_* */
    /* Raw mode: curl_ws_send writes the frames the link built (see
     * Sending); curl_ws_recv still decodes.  We answer pings ourselves. */
    SET(CURLOPT_WS_OPTIONS, (long)(CURLWS_RAW_MODE | CURLWS_NOAUTOPONG));
    SET(CURLOPT_HTTPHEADER, l->headers);
    SET(CURLOPT_ERRORBUFFER, l->curl_err);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_USERAGENT, "pilot-transport/" PACKAGE_VERSION);
    SET(CURLOPT_CONNECTTIMEOUT_MS, left);
    SET(CURLOPT_TIMEOUT_MS, left);
    /* TLS: always verified, TLS 1.2 at least. */
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (ca_path) {
        /* Only these roots: no compiled-in CA directory on top. */
        SET(CURLOPT_CAINFO, ca_path);
        SET(CURLOPT_CAPATH, (char *)NULL);
    }
    if (cfg->has_pin) {
        char pin[8 + BASE64_ENCODE_RAW_LENGTH(32) + 1] = "sha256//";
        base64_encode_raw((char *)pin + 8, 32, cfg->pin_sha256);
        pin[sizeof pin - 1] = '\0';
        SET(CURLOPT_PINNEDPUBLICKEY, pin);
    }
    /* Proxy: always explicit, so libcurl's own environment lookup (which
     * would look for wss_proxy) never decides. */
    if (cfg->proxy_mode == WSS_PROXY_URL)
        proxy = cfg->proxy_url;
    else if (cfg->proxy_mode == WSS_PROXY_AUTO)
        proxy = env_proxy(cfg->tls, &no_proxy);
    SET(CURLOPT_PROXY, proxy ? proxy : "");
    if (proxy) {
        SET(CURLOPT_HTTPPROXYTUNNEL, 1L);
        SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
        if (no_proxy)
            SET(CURLOPT_NOPROXY, no_proxy);
    }
#undef SET
    if (rc != CURLE_OK)
        return ptu_err(err, errlen, rc == CURLE_OUT_OF_MEMORY ? PT_ENOMEM : PT_EIO,
                       "wss dial: libcurl setup: %s", curl_easy_strerror(rc));
    *proxy_used = proxy;
    return PT_OK;
}

/* Wait until the socket polls for events, cancel_fd fires (PT_ECLOSED) or
 * the deadline passes (PT_ETIMEDOUT). */
static int wait_socket(int sock, short events, int cancel_fd, int64_t deadline_ms)
{
    for (;;) {
        struct pollfd p[2] = { { sock, events, 0 }, { cancel_fd, POLLIN, 0 } };
        int64_t left = deadline_ms - wss_now_ms();
        if (left <= 0)
            return PT_ETIMEDOUT;
        int n = poll(p, cancel_fd >= 0 ? 2 : 1, left > 1000 ? 1000 : (int)left);
        if (n < 0 && errno != EINTR)
            return PT_EIO;
        if (cancel_fd >= 0 && p[1].revents)
            return PT_ECLOSED;
        if (n > 0 && p[0].revents)
            return PT_OK;
    }
}

/* Read the next data message during auth, answering pings. */
static int auth_read(wss_link *l, const char *step, int cancel_fd, int64_t deadline_ms,
                     wss_msg *m, char *err, size_t errlen)
{
    char why[PT_ERRMSG_MAX];
    for (;;) {
        int rc = wss_link_read(l, m, why, sizeof why);
        if (rc == PT_OK) {
            if (m->kind == WSS_MSG_PING) {
                /* A pong is tiny: it fits the socket buffer or the link is dead. */
                if (wss_link_queue(l, WSS_MSG_PONG, m->data, m->len) != PT_OK ||
                    wss_link_flush(l, why, sizeof why) < 0)
                    return ptu_err(err, errlen, PT_EIO, "wss auth: answering a ping: %s", why);
                continue;
            }
            if (m->kind == WSS_MSG_PONG)
                continue;
            if (m->kind == WSS_MSG_CLOSE)
                return ptu_err(err, errlen, PT_EAUTH,
                               "wss auth: beacon closed the connection: %d%s%s", m->close_code,
                               *m->close_reason ? " " : "", m->close_reason);
            return PT_OK;
        }
        if (rc != WSS_AGAIN)
            return ptu_err(err, errlen, rc == PT_EIO ? PT_EAUTH : rc,
                           "wss auth: while waiting for the %s: %s", step, why);
        rc = wait_socket(l->sock, POLLIN, cancel_fd, deadline_ms);
        if (rc == PT_ETIMEDOUT)
            return ptu_err(err, errlen, PT_ETIMEDOUT,
                           "wss auth: no %s within the dial timeout", step);
        if (rc != PT_OK)
            return ptu_err(err, errlen, rc, "wss auth: %s", rc == PT_ECLOSED ? "cancelled" : "poll failed");
    }
}

static int authenticate(wss_link *l, const pt_identity *id, int cancel_fd, int64_t deadline_ms,
                        char *err, size_t errlen)
{
    wss_msg m;
    wss_challenge ch;
    char reply[WSS_AUTH_REPLY_MAX], why[PT_ERRMSG_MAX] = "";
    int rc;

    rc = auth_read(l, "auth challenge", cancel_fd, deadline_ms, &m, err, errlen);
    if (rc != PT_OK)
        return rc;
    if (m.kind != WSS_MSG_TEXT)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss auth: expected the auth challenge as a text message, got a "
                       "binary one");
    rc = wss_auth_parse_challenge((const char *)m.data, m.len, &ch, err, errlen);
    if (rc != PT_OK)
        return rc;
    rc = wss_auth_build_reply(id, &ch, reply, sizeof reply, err, errlen);
    if (rc < 0)
        return rc;
    rc = wss_link_queue(l, WSS_MSG_TEXT, reply, (size_t)rc);
    ptu_wipe(reply, sizeof reply);
    if (rc != PT_OK)
        return ptu_err(err, errlen, PT_EAUTH, "wss auth: cannot queue the reply");
    while ((rc = wss_link_flush(l, why, sizeof why)) != PT_OK) {
        if (rc == WSS_AGAIN)
            rc = wait_socket(l->sock, POLLOUT, cancel_fd, deadline_ms);
        if (rc != PT_OK) {
            ptu_wipe(l->tx, WSS_AUTH_REPLY_MAX + 14); /* the signed reply */
            return ptu_err(err, errlen, rc == PT_ETIMEDOUT || rc == PT_ECLOSED ? rc : PT_EAUTH,
                           "wss auth: sending the reply: %s",
                           rc == PT_ETIMEDOUT ? "timed out" : rc == PT_ECLOSED ? "cancelled" : why);
        }
    }
    ptu_wipe(l->tx, WSS_AUTH_REPLY_MAX + 14); /* the signed reply */
    rc = auth_read(l, "auth_ok", cancel_fd, deadline_ms, &m, err, errlen);
    if (rc != PT_OK)
        return rc;
    if (m.kind != WSS_MSG_TEXT)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss auth: expected auth_ok as a text message, got a binary one");
    return wss_auth_check_ok((const char *)m.data, m.len, err, errlen);
}

static int check_subprotocol(wss_link *l, char *err, size_t errlen)
{
    struct curl_header *h = NULL;
    /* libcurl does not check the choice itself; the 101 is a 1xx response. */
    CURLHcode hc = curl_easy_header(l->easy, "Sec-WebSocket-Protocol", 0,
                                    CURLH_HEADER | CURLH_1XX, -1, &h);
    if (hc == CURLHE_OUT_OF_MEMORY)
        return ptu_err(err, errlen, PT_ENOMEM, "wss upgrade: out of memory");
    if (hc != CURLHE_OK || !h || !h->value)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss upgrade: beacon selected no subprotocol (want " SUBPROTOCOL ")");
    if (strcmp(h->value, SUBPROTOCOL) != 0) {
        char shown[48];
        size_t i;
        for (i = 0; h->value[i] && i + 1 < sizeof shown; i++)
            shown[i] = (h->value[i] >= 0x20 && h->value[i] < 0x7f) ? h->value[i] : '?';
        shown[i] = '\0';
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss upgrade: beacon selected subprotocol \"%s\" (want " SUBPROTOCOL ")",
                       shown);
    }
    return PT_OK;
}

int wss_link_dial(const wss_config *cfg, const pt_identity *id, const char *ca_path,
                  int cancel_fd, int64_t deadline_ms, wss_link **out, char *err,
                  size_t errlen)
{
    wss_link *l;
    int rc, running = 1;
    const char *proxy = NULL;
    CURLcode result = CURLE_OK;
    char password[WSS_CONFIG_URL_MAX + 1];

    *out = NULL;
    l = calloc(1, sizeof *l);
    if (!l)
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");
    l->sock = CURL_SOCKET_BAD;
    l->rx = malloc(RX_CAP);
    l->tx = malloc(TX_CAP);
    l->mask_off = MASK_POOL; /* drawn at the first frame */
    l->easy = curl_easy_init();
    l->multi = curl_multi_init();
    if (!l->rx || !l->tx || !l->easy || !l->multi) {
        rc = ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");
        goto fail;
    }
    rc = setup_easy(l, cfg, ca_path, deadline_ms, &proxy, err, errlen);
    if (rc != PT_OK)
        goto fail;
    if (curl_multi_add_handle(l->multi, l->easy) != CURLM_OK) {
        rc = ptu_err(err, errlen, PT_ENOMEM, "wss dial: libcurl multi setup failed");
        goto fail;
    }

    /* DNS, TCP, proxy, TLS and the upgrade, interruptible by cancel_fd. */
    for (;;) {
        struct curl_waitfd wfd = { cancel_fd, CURL_WAIT_POLLIN, 0 };
        CURLMsg *msg;
        int q, done = 0;
        curl_multi_perform(l->multi, &running);
        while ((msg = curl_multi_info_read(l->multi, &q)) != NULL) {
            if (msg->msg == CURLMSG_DONE) {
                result = msg->data.result;
                done = 1;
            }
        }
        if (done || !running)
            break;
        int64_t left = deadline_ms - wss_now_ms();
        if (left <= 0) {
            rc = ptu_err(err, errlen, PT_ETIMEDOUT, "wss dial: timed out connecting to %s:%u",
                         cfg->host, (unsigned)cfg->port);
            goto fail;
        }
        curl_multi_poll(l->multi, cancel_fd >= 0 ? &wfd : NULL, cancel_fd >= 0 ? 1 : 0,
                        left > 1000 ? 1000 : (int)left, NULL);
        if (wfd.revents) {
            rc = ptu_err(err, errlen, PT_ECLOSED, "wss dial: cancelled by close");
            goto fail;
        }
    }
    if (result != CURLE_OK) {
        rc = map_curl_error(l, result, cfg, proxy != NULL, err, errlen);
        goto fail;
    }
    if (curl_easy_getinfo(l->easy, CURLINFO_ACTIVESOCKET, &l->sock) != CURLE_OK ||
        l->sock == CURL_SOCKET_BAD) {
        rc = ptu_err(err, errlen, PT_EIO, "wss dial: no connection after the upgrade");
        goto fail;
    }
    rc = check_subprotocol(l, err, errlen);
    if (rc != PT_OK)
        goto fail;
    rc = authenticate(l, id, cancel_fd, deadline_ms, err, errlen);
    if (rc != PT_OK)
        goto fail;
    *out = l;
    return PT_OK;

fail:
    /* libcurl's messages may quote the proxy URL: keep its password out. */
    proxy_password(proxy, password, sizeof password);
    if (err && errlen)
        scrub(err, password);
    ptu_wipe(password, sizeof password);
    ptu_wipe(l->curl_err, sizeof l->curl_err);
    wss_link_free(l);
    return rc;
}
