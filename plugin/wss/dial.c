/*
 * dial.c -- libcurl's connect-only dial (DNS, TCP, proxy, TLS) on a multi
 * handle, so a close can interrupt it through cancel_fd; proxy selection
 * and libcurl's errors mapped to ours; then the upgrade over
 * curl_easy_send / curl_easy_recv.
 */
#include "config.h"

#include "dial.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/base64.h>

#include "link.h"
#include "quote.h"
#include "upgrade.h"
#include "util.h"

/* The upgrade request: fixed lines plus host and target. */
#define REQUEST_MAX (WSS_CONFIG_URL_MAX + 512)

/* ---- Waiting ------------------------------------------------------------- */

int wss_dial_wait(int sock, short events, int cancel_fd, int64_t deadline_ms)
{
    for (;;) {
        struct pollfd p[2] = { { sock, events, 0 }, { cancel_fd, POLLIN, 0 } };
        int64_t left = deadline_ms - ptu_now_ms();
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

/* ---- Proxy --------------------------------------------------------------- */

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

void wss_dial_scrub(const wss_dial *d, char *err, size_t errlen)
{
    ptu_url_scrub(err, errlen, d->proxy);
}

/* ---- Connecting ---------------------------------------------------------- */

static int map_curl_error(wss_dial *d, CURLcode rc, const wss_config *cfg, char *err,
                          size_t errlen)
{
    long connect_code = 0;
    int via_proxy = d->proxy != NULL;
    const char *detail = *d->curl_err ? d->curl_err : curl_easy_strerror(rc);
    curl_easy_getinfo(d->easy, CURLINFO_HTTP_CONNECTCODE, &connect_code);

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
        return ptu_err(err, errlen, PT_EIO, "wss dial: %s", detail);
    }
}

static int setup_easy(wss_dial *d, const wss_config *cfg, const char *ca_path,
                      int64_t deadline_ms, char *err, size_t errlen)
{
    CURL *e = d->easy;
    const char *no_proxy = NULL, *proxy = NULL;
    long left = (long)(deadline_ms - ptu_now_ms());
    CURLcode rc = CURLE_OK;
    if (left < 1)
        left = 1;

    /* The url as conf.c parsed and checked it: one parser for both. */
    d->url = curl_url_dup(cfg->curlu);
    if (!d->url)
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");

#define SET(opt, val)                                                                      \
    do {                                                                                   \
        if (rc == CURLE_OK)                                                                \
            rc = curl_easy_setopt(e, opt, val);                                            \
    } while (0)
    SET(CURLOPT_CURLU, d->url);
    /* Connect (proxy tunnel and TLS included), then stop: the upgrade and
     * every frame after it are ours (see dial.h). */
    SET(CURLOPT_CONNECT_ONLY, 1L);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1); /* ALPN: http/1.1 only */
    SET(CURLOPT_ERRORBUFFER, d->curl_err);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_USERAGENT, "pilot-transport/" PACKAGE_VERSION); /* in the CONNECT */
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
     * would look for wss_proxy) never decides.  Connect-only needs the
     * tunnel: without it libcurl would stop at the proxy. */
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
    d->proxy = proxy;
    if (rc != CURLE_OK)
        return ptu_err(err, errlen, rc == CURLE_OUT_OF_MEMORY ? PT_ENOMEM : PT_EIO,
                       "wss dial: libcurl setup: %s", curl_easy_strerror(rc));
    return PT_OK;
}

int wss_dial_connect(wss_dial *d, const wss_config *cfg, const char *ca_path, int cancel_fd,
                     int64_t deadline_ms, char *err, size_t errlen)
{
    CURLcode result = CURLE_OK;
    int rc, running = 1;

    memset(d, 0, sizeof *d);
    d->sock = CURL_SOCKET_BAD;
    d->easy = curl_easy_init();
    d->multi = curl_multi_init();
    if (!d->easy || !d->multi)
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");
    rc = setup_easy(d, cfg, ca_path, deadline_ms, err, errlen);
    if (rc != PT_OK)
        return rc;
    if (curl_multi_add_handle(d->multi, d->easy) != CURLM_OK) {
        /* Not added: wss_dial_close must not remove it. */
        curl_easy_cleanup(d->easy);
        d->easy = NULL;
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: libcurl multi setup failed");
    }

    /* DNS, TCP, proxy and TLS, interruptible by cancel_fd. */
    for (;;) {
        struct curl_waitfd wfd = { cancel_fd, CURL_WAIT_POLLIN, 0 };
        CURLMsg *msg;
        int q, done = 0;
        curl_multi_perform(d->multi, &running);
        while ((msg = curl_multi_info_read(d->multi, &q)) != NULL) {
            if (msg->msg == CURLMSG_DONE) {
                result = msg->data.result;
                done = 1;
            }
        }
        if (done || !running)
            break;
        int64_t left = deadline_ms - ptu_now_ms();
        if (left <= 0)
            return ptu_err(err, errlen, PT_ETIMEDOUT, "wss dial: timed out connecting to %s:%u",
                           cfg->host, (unsigned)cfg->port);
        curl_multi_poll(d->multi, cancel_fd >= 0 ? &wfd : NULL, cancel_fd >= 0 ? 1 : 0,
                        left > 1000 ? 1000 : (int)left, NULL);
        if (wfd.revents)
            return ptu_err(err, errlen, PT_ECLOSED, "wss dial: cancelled by close");
    }
    if (result != CURLE_OK)
        return map_curl_error(d, result, cfg, err, errlen);
    if (curl_easy_getinfo(d->easy, CURLINFO_ACTIVESOCKET, &d->sock) != CURLE_OK ||
        d->sock == CURL_SOCKET_BAD)
        return ptu_err(err, errlen, PT_EIO, "wss dial: no connection after connecting");
    return PT_OK;
}

/* ---- Upgrade ------------------------------------------------------------- */

/* A failed wait, as a message naming the step. */
static int wait_failed(int rc, const char *step, const wss_config *cfg, char *err, size_t errlen)
{
    if (rc == PT_ETIMEDOUT)
        return ptu_err(err, errlen, PT_ETIMEDOUT, "wss dial: timed out %s (%s:%u)", step,
                       cfg->host, (unsigned)cfg->port);
    if (rc == PT_ECLOSED)
        return ptu_err(err, errlen, PT_ECLOSED, "wss dial: cancelled by close");
    return ptu_err(err, errlen, rc, "wss dial: poll failed %s", step);
}

static int io_failed(wss_dial *d, CURLcode cc, char *err, size_t errlen)
{
    return ptu_err(err, errlen, PT_EIO, "wss dial: %s",
                   *d->curl_err ? d->curl_err : curl_easy_strerror(cc));
}

static int send_request(wss_dial *d, const wss_config *cfg, const char *key, int cancel_fd,
                        int64_t deadline_ms, char *err, size_t errlen)
{
    char req[REQUEST_MAX];
    int n = wss_upgrade_request(req, sizeof req, cfg->host, cfg->port, cfg->tls, cfg->target, key);
    size_t off = 0;

    if (n < 0)
        return ptu_err(err, errlen, PT_EINVAL, "wss dial: cannot build the upgrade request");
    while (off < (size_t)n) {
        size_t sent = 0;
        CURLcode cc = curl_easy_send(d->easy, req + off, (size_t)n - off, &sent);
        if (cc == CURLE_AGAIN || (cc == CURLE_OK && sent == 0)) {
            int rc = wss_dial_wait((int)d->sock, POLLOUT, cancel_fd, deadline_ms);
            if (rc != PT_OK)
                return wait_failed(rc, "sending the upgrade request", cfg, err, errlen);
            continue;
        }
        if (cc != CURLE_OK)
            return io_failed(d, cc, err, errlen);
        off += sent;
    }
    return PT_OK;
}

int wss_dial_upgrade(wss_dial *d, const wss_config *cfg, int cancel_fd, int64_t deadline_ms,
                     unsigned char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
    unsigned char nonce[16];
    char key[WSS_UPGRADE_KEY_LEN + 1];
    wss_upgrade u; /* 8 KiB: the header block */
    int rc;

    *len = 0;
    if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
        return ptu_err(err, errlen, PT_EIO, "wss dial: no random bytes for the upgrade key");
    wss_upgrade_key(nonce, key);
    rc = send_request(d, cfg, key, cancel_fd, deadline_ms, err, errlen);
    if (rc != PT_OK)
        return rc;
    wss_upgrade_init(&u, key);
    for (;;) {
        size_t n = 0, used = 0;
        CURLcode cc = curl_easy_recv(d->easy, buf, cap, &n);
        if (cc == CURLE_AGAIN) {
            rc = wss_dial_wait((int)d->sock, POLLIN, cancel_fd, deadline_ms);
            if (rc != PT_OK)
                return wait_failed(rc, "waiting for the upgrade response", cfg, err, errlen);
            continue;
        }
        if (cc != CURLE_OK)
            return io_failed(d, cc, err, errlen);
        if (n == 0)
            return ptu_err(err, errlen, PT_EIO,
                           "wss dial: beacon closed the connection during the upgrade");
        rc = wss_upgrade_feed(&u, buf, n, &used, err, errlen);
        if (rc == WSS_UPGRADE_MORE)
            continue;
        if (rc != PT_OK)
            return rc;
        /* What came after the 101 starts the frame stream. */
        memmove(buf, buf + used, n - used);
        *len = n - used;
        return PT_OK;
    }
}

void wss_dial_close(wss_dial *d)
{
    if (d->multi && d->easy)
        curl_multi_remove_handle(d->multi, d->easy);
    if (d->easy)
        curl_easy_cleanup(d->easy);
    if (d->multi)
        curl_multi_cleanup(d->multi);
    curl_url_cleanup(d->url);
    d->easy = NULL;
    d->multi = NULL;
    d->url = NULL;
    d->sock = CURL_SOCKET_BAD;
}
