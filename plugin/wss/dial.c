/*
 * dial.c -- libcurl's connect-only dial (DNS, TCP, proxy, TLS) on a multi
 * handle, so a close can interrupt it through cancel_fd; proxy selection
 * and libcurl's errors mapped to ours; then the upgrade over
 * curl_easy_send / curl_easy_recv.
 */
#include "config.h"

#include "curl_mem.h"
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

int wss_dialer_cancel_fd(const pt_dial_params *p)
{
    if (PT_HAS_FIELD(p, pt_dial_params, cancel_fd) && p->abi_minor >= 2 && p->cancel_fd >= 0)
        return p->cancel_fd;
    return -1;
}

int wss_dial_cancelled(int cancel_fd)
{
    struct pollfd p = { cancel_fd, POLLIN, 0 };
    return cancel_fd >= 0 && poll(&p, 1, 0) > 0;
}

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

/* ---- The connection's dialer --------------------------------------------- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userp)
{
    (void)h;
    (void)data;
    (void)access;
    pthread_mutex_lock(userp);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp)
{
    (void)h;
    (void)data;
    pthread_mutex_unlock(userp);
}

int wss_dialer_init(wss_dialer *dl, const wss_config *cfg, const char *ca_path,
                    ptu_diag *diag, char *err, size_t errlen)
{
    CURLSHcode sc = CURLSHE_OK;

    memset(dl, 0, sizeof *dl);
    dl->cfg = cfg;
    dl->ca_path = ca_path;
    dl->diag = diag;
    pthread_mutex_init(&dl->share_lock, NULL);
    if (!cfg->tls_resume)
        return PT_OK;
    dl->share = curl_share_init();
    if (!dl->share)
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");
    /* TLS sessions only: each dial makes its own connection. */
    sc = curl_share_setopt(dl->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(dl->share, CURLSHOPT_LOCKFUNC, share_lock);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(dl->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(dl->share, CURLSHOPT_USERDATA, &dl->share_lock);
    if (sc != CURLSHE_OK)
        return ptu_err(err, errlen, sc == CURLSHE_NOMEM ? PT_ENOMEM : PT_EIO,
                       "wss dial: libcurl share setup: %s", curl_share_strerror(sc));
    return PT_OK;
}

void wss_dialer_free(wss_dialer *dl)
{
    if (dl->share)
        curl_share_cleanup(dl->share);
    dl->share = NULL;
    pthread_mutex_destroy(&dl->share_lock);
    ptu_wipe(&dl->proxy, sizeof dl->proxy);
}

/* ---- Connecting ---------------------------------------------------------- */

/* The first line of the proxy's answer to CONNECT, for telling a garbled
 * answer from an HTTP one (libcurl reports both as "response 0"). */
static size_t on_header(char *buf, size_t size, size_t n, void *userp)
{
    wss_dial *d = userp;
    size_t len = size * n, line = strcspn(buf, "\r\n");
    if (!*d->status)
        ptu_printable(d->status, sizeof d->status, buf, line < len ? line : len);
    return len;
}

static int is_tls_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
        return 1;
    default:
        return 0;
    }
}

/* A refused CONNECT, by status: what it means and what to check. */
static int proxy_refused(long code, const wss_proxy_choice *ch, int cmd_rerun,
                         const wss_config *cfg, char *err, size_t errlen)
{
    const char *what, *check;
    if (code == 403) {
        what = "its policy does not allow this host or port";
        check = "check which hosts and ports the proxy lets CONNECT reach";
    } else if ((code == 407 || code == 401) && !ch->url.has_user) {
        what = "it wants credentials";
        check = "give USER:PASSWORD@ in the proxy URL (PILOT_PROXY keeps them off the "
                "command line) or use proxy-cmd";
    } else if ((code == 407 || code == 401) && cmd_rerun) {
        what = "credentials refused, also those proxy-cmd printed when run again";
        check = "check what proxy-cmd prints";
    } else if (code == 407 || code == 401) {
        what = "credentials refused";
        check = "check the user name and password";
    } else {
        what = "the proxy could not or would not connect to the beacon";
        check = "check that the proxy can reach the beacon";
    }
    return ptu_err(err, errlen, PT_EPROXY,
                   "wss dial: proxy refused CONNECT to %s:%u: %s (HTTP %ld); %s (proxy %s from "
                   "%s)",
                   cfg->host, (unsigned)cfg->port, what, code, check, ch->url.shown, ch->from);
}

static int map_curl_error(wss_dial *d, CURLcode rc, const wss_proxy_choice *ch, int used,
                          int cmd_rerun, const wss_config *cfg, char *err, size_t errlen)
{
    long connect_code = 0;
    const char *detail = *d->curl_err ? d->curl_err : curl_easy_strerror(rc);
    const wss_proxy_url *pu = &ch->url;
    curl_easy_getinfo(d->easy, CURLINFO_HTTP_CONNECTCODE, &connect_code);

    if (used && connect_code && connect_code != 200)
        return proxy_refused(connect_code, ch, cmd_rerun, cfg, err, errlen);
    if (used && !connect_code) {
        /* Failed before the proxy's answer: the proxy's own problems. */
        switch (rc) {
        case CURLE_COULDNT_RESOLVE_PROXY:
            return ptu_err(err, errlen, PT_EPROXY,
                           "wss dial: cannot resolve proxy host %s: %s; check %s", pu->host,
                           detail, ch->check);
        case CURLE_COULDNT_CONNECT:
            return ptu_err(err, errlen, PT_EPROXY,
                           "wss dial: cannot reach proxy %s: %s; check %s (proxy %s)",
                           pu->bare + (pu->tls ? 8 : 7), detail, ch->check, pu->shown);
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_OUT_OF_MEMORY:
            break;
        default:
            if (pu->tls && is_tls_error(rc))
                return ptu_err(err, errlen, PT_EPROXY,
                               "wss dial: TLS to the proxy: the PROXY's certificate or "
                               "handshake was refused: %s; check proxy-ca-file and %s (proxy "
                               "%s)",
                               detail, ch->check, pu->shown);
            if (*d->status)
                return ptu_err(err, errlen, PT_EPROXY,
                               "wss dial: proxy sent a malformed reply to CONNECT (not HTTP: "
                               "\"%.40s\"); check that %s, from %s, is an HTTP proxy",
                               d->status, pu->shown, ch->check);
            if (rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
                rc == CURLE_WEIRD_SERVER_REPLY)
                return ptu_err(err, errlen, PT_EPROXY,
                               "wss dial: proxy closed the connection without answering CONNECT "
                               "(%s); check that %s, from %s, is an HTTP proxy",
                               detail, pu->shown, ch->check);
            return ptu_err(err, errlen, PT_EPROXY, "wss dial: proxy %s: %s; check %s", pu->shown,
                           detail, ch->check);
        }
    }
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return ptu_err(err, errlen, PT_EIO, "wss dial: DNS: %s", detail);
    case CURLE_COULDNT_CONNECT:
        return ptu_err(err, errlen, PT_EIO, "wss dial: TCP: %s", detail);
    case CURLE_OPERATION_TIMEDOUT:
        return ptu_err(err, errlen, PT_ETIMEDOUT, "wss dial: timed out: %s", detail);
    case CURLE_OUT_OF_MEMORY:
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");
    default:
        if (is_tls_error(rc))
            return ptu_err(err, errlen, PT_ETLS, "wss dial: TLS: %s (%s:%u)", detail, cfg->host,
                           (unsigned)cfg->port);
        return ptu_err(err, errlen, PT_EIO, "wss dial: %s", detail);
    }
}

static int setup_easy(wss_dial *d, const wss_dialer *dl, const wss_proxy_choice *ch,
                      int64_t deadline_ms, char *err, size_t errlen)
{
    const wss_config *cfg = dl->cfg;
    CURL *e = d->easy;
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
    /* A cancelled dial does not wait for a name lookup still running in
     * libcurl's resolver thread: the thread is left to finish and free
     * its own state (libcurl 8.14: reference counted), so a cancel during
     * DNS returns at once. */
    SET(CURLOPT_QUICK_EXIT, 1L);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_USERAGENT, "pilot-transport/" PACKAGE_VERSION); /* in the CONNECT */
    SET(CURLOPT_CONNECTTIMEOUT_MS, left);
    SET(CURLOPT_TIMEOUT_MS, left);
    /* TLS: always verified, TLS 1.2 at least.  The minimum goes in the
     * GnuTLS priority string, not CURLOPT_SSLVERSION: libcurl 8.14 built
     * on a GnuTLS without GNUTLS_NO_TICKETS_TLS12 (Debian 12's 3.7.9)
     * turns session tickets off altogether, TLS 1.3's too, for any
     * minimum but the default, and a redial could never resume. */
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_DEFAULT);
    SET(CURLOPT_SSL_CIPHER_LIST, "-VERS-TLS1.1:-VERS-TLS1.0");
    if (dl->ca_path) {
        /* Only these roots: no compiled-in CA directory on top. */
        SET(CURLOPT_CAINFO, dl->ca_path);
        SET(CURLOPT_CAPATH, (char *)NULL);
    }
    if (cfg->has_pin) {
        char pin[8 + BASE64_ENCODE_RAW_LENGTH(32) + 1] = "sha256//";
        base64_encode_raw((char *)pin + 8, 32, cfg->pin_sha256);
        pin[sizeof pin - 1] = '\0';
        SET(CURLOPT_PINNEDPUBLICKEY, pin);
    }
    if (dl->share)
        SET(CURLOPT_SHARE, dl->share);
    /* Proxy: always explicit, so libcurl's own environment lookup (which
     * would look for wss_proxy, and read NO_PROXY even for a proxy the
     * operator named) never decides.  Connect-only needs the tunnel:
     * without it libcurl would stop at the proxy.  The tunnel names the
     * beacon by the url's host: nothing is resolved here for it. */
    SET(CURLOPT_PROXY, ch->configured ? ch->url.bare : "");
    SET(CURLOPT_NOPROXY, ch->no_proxy);
    if (ch->configured) {
        SET(CURLOPT_HTTPPROXYTUNNEL, 1L);
        /* The CONNECT answer's first line to on_header, nothing else. */
        SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 0L);
        SET(CURLOPT_HEADERFUNCTION, on_header);
        SET(CURLOPT_HEADERDATA, d);
        if (ch->url.has_user) {
            SET(CURLOPT_PROXYUSERNAME, ch->url.user);
            SET(CURLOPT_PROXYPASSWORD, ch->url.password);
        }
        if (ch->url.tls) {
            /* TLS to the proxy: verified like the beacon, against
             * proxy-ca-file or the system's store. */
            SET(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
            SET(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
            SET(CURLOPT_PROXY_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
            if (*cfg->proxy_ca_file) {
                SET(CURLOPT_PROXY_CAINFO, cfg->proxy_ca_file);
                SET(CURLOPT_PROXY_CAPATH, (char *)NULL);
            }
        }
    }
#undef SET
    if (rc != CURLE_OK)
        return ptu_err(err, errlen, rc == CURLE_OUT_OF_MEMORY ? PT_ENOMEM : PT_EIO,
                       "wss dial: libcurl setup: %s", curl_easy_strerror(rc));
    return PT_OK;
}

/* One try: DNS, TCP, proxy and TLS.  *used: whether libcurl went through
 * the proxy (NO_PROXY may skip one from the environment). */
static int connect_once(wss_dial *d, wss_dialer *dl, const wss_proxy_choice *ch, int cancel_fd,
                        int64_t deadline_ms, CURLcode *result, int *used, char *err,
                        size_t errlen)
{
    int rc, running = 1;
    long used_proxy = 0;

    memset(d, 0, sizeof *d);
    d->sock = CURL_SOCKET_BAD;
    *result = CURLE_OK;
    *used = 0;
    d->easy = curl_easy_init();
    d->multi = curl_multi_init();
    if (!d->easy || !d->multi)
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");
    rc = setup_easy(d, dl, ch, deadline_ms, err, errlen);
    if (rc != PT_OK)
        return rc;
    if (curl_multi_add_handle(d->multi, d->easy) != CURLM_OK) {
        /* Not added: wss_dial_close must not remove it. */
        curl_easy_cleanup(d->easy);
        d->easy = NULL;
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: libcurl multi setup failed");
    }

    /* DNS, TCP, proxy and TLS, interruptible by cancel_fd. */
    rc = PT_OK;
    if (wss_dial_cancelled(cancel_fd)) /* fired already: not even a DNS lookup */
        return ptu_err(err, errlen, PT_ECLOSED, "wss dial: cancelled before connecting");
    for (;;) {
        struct curl_waitfd wfd = { cancel_fd, CURL_WAIT_POLLIN, 0 };
        CURLMsg *msg;
        int q, done = 0;
        curl_multi_perform(d->multi, &running);
        while ((msg = curl_multi_info_read(d->multi, &q)) != NULL) {
            if (msg->msg == CURLMSG_DONE) {
                *result = msg->data.result;
                done = 1;
            }
        }
        if (done || !running)
            break;
        int64_t left = deadline_ms - ptu_now_ms();
        if (left <= 0) {
            rc = ptu_err(err, errlen, PT_ETIMEDOUT, "wss dial: timed out connecting to %s:%u",
                         dl->cfg->host, (unsigned)dl->cfg->port);
            break;
        }
        curl_multi_poll(d->multi, cancel_fd >= 0 ? &wfd : NULL, cancel_fd >= 0 ? 1 : 0,
                        left > 1000 ? 1000 : (int)left, NULL);
        if (wfd.revents) {
            rc = ptu_err(err, errlen, PT_ECLOSED,
                         "wss dial: cancelled while connecting to %s:%u (DNS, TCP, proxy, TLS)",
                         dl->cfg->host, (unsigned)dl->cfg->port);
            break;
        }
    }
    if (curl_easy_getinfo(d->easy, CURLINFO_USED_PROXY, &used_proxy) == CURLE_OK)
        *used = used_proxy != 0;
    /* Connected or not, libcurl's copies of the credentials are done with:
     * unset them (a CONNECT_ONLY handle makes no further request). */
    if (ch->url.has_user) {
        curl_easy_setopt(d->easy, CURLOPT_PROXYUSERNAME, (char *)NULL);
        curl_easy_setopt(d->easy, CURLOPT_PROXYPASSWORD, (char *)NULL);
    }
    return rc;
}

int wss_dial_connect(wss_dial *d, wss_dialer *dl, int cancel_fd, int64_t deadline_ms, char *err,
                     size_t errlen)
{
    const wss_config *cfg = dl->cfg;
    wss_proxy_choice ch;
    CURLcode result = CURLE_OK;
    char line[sizeof dl->proxy.logged];
    int rc, used = 0, rerun = 0;

    memset(d, 0, sizeof *d);
    d->sock = CURL_SOCKET_BAD;
    for (;;) {
        rc = wss_proxy_choose(&dl->proxy, cfg, rerun, dl->diag, cancel_fd, deadline_ms, &ch, err,
                              errlen);
        if (rc != PT_OK)
            goto out;
        if (ch.configured && ch.url.has_user && !wss_curl_mem_wipes() && !dl->unwiped_warned) {
            dl->unwiped_warned = 1; /* once per connection */
            ptu_diag_log(dl->diag, PT_LOG_WARN,
                         "wss: libcurl was set up before the plugin, with other memory "
                         "functions: its copies of the proxy password are freed without being "
                         "wiped");
        }
        rc = connect_once(d, dl, &ch, cancel_fd, deadline_ms, &result, &used, err, errlen);
        /* Which proxy, and why: at the first dial, then when it changes. */
        wss_proxy_describe(&ch, used, cfg->host, line, sizeof line);
        if (strcmp(line, dl->proxy.logged) != 0) {
            ptu_diag_log(dl->diag, PT_LOG_INFO, "wss: %s", line);
            snprintf(dl->proxy.logged, sizeof dl->proxy.logged, "%s", line);
        }
        if (rc != PT_OK || result == CURLE_OK)
            break;
        long code = 0;
        curl_easy_getinfo(d->easy, CURLINFO_HTTP_CONNECTCODE, &code);
        /* proxy-cmd's credentials refused: run it again, try once more. */
        if (cfg->proxy_mode == WSS_PROXY_CMD && used && (code == 407 || code == 401) &&
            !rerun) {
            ptu_diag_log(dl->diag, PT_LOG_INFO,
                         "wss: the proxy refused the credentials (HTTP %ld)", code);
            wss_dial_close(d);
            wss_proxy_choice_wipe(&ch);
            rerun = 1;
            continue;
        }
        rc = map_curl_error(d, result, &ch, used, rerun, cfg, err, errlen);
        goto out;
    }
    if (rc != PT_OK)
        goto out;
    if (curl_easy_getinfo(d->easy, CURLINFO_ACTIVESOCKET, &d->sock) != CURLE_OK ||
        d->sock == CURL_SOCKET_BAD)
        rc = ptu_err(err, errlen, PT_EIO, "wss dial: no connection after connecting");
    d->tls_in_tls = used && ch.url.tls && cfg->tls;
out:
    /* A password can only be in err if libcurl quoted it: it never should. */
    if (rc != PT_OK && ch.url.has_password && *ch.url.password)
        ptu_scrub(err, errlen, ch.url.password, strlen(ch.url.password));
    wss_proxy_choice_wipe(&ch);
    return rc;
}

/* ---- Reading ------------------------------------------------------------- */

/* Through an https:// proxy the beacon's TLS records arrive inside the
 * proxy's: libcurl decrypts a whole outer record (up to 16 KiB) into its
 * buffer, and the inner GnuTLS session takes one record from there per
 * read.  A record that carries no data (a TLS 1.3 session ticket, a key
 * update) makes the read return CURLE_AGAIN while the records behind it
 * wait in that buffer, where the socket cannot show them: a poll would
 * then wait for the beacon's next message.  Beacons send a ticket or two
 * after a handshake, so a few more reads take those out; a read that
 * finds nothing at all costs one recv() returning EAGAIN. */
#define TLS_IN_TLS_RETRIES 8

CURLcode wss_dial_recv(wss_dial *d, void *buf, size_t cap, size_t *n)
{
    CURLcode cc = curl_easy_recv(d->easy, buf, cap, n);
    for (int i = 0; cc == CURLE_AGAIN && d->tls_in_tls && i < TLS_IN_TLS_RETRIES; i++)
        cc = curl_easy_recv(d->easy, buf, cap, n);
    return cc;
}

/* ---- Upgrade ------------------------------------------------------------- */

/* A failed wait, as a message naming the step. */
static int wait_failed(int rc, const char *step, const wss_config *cfg, char *err, size_t errlen)
{
    if (rc == PT_ETIMEDOUT)
        return ptu_err(err, errlen, PT_ETIMEDOUT, "wss dial: timed out %s (%s:%u)", step,
                       cfg->host, (unsigned)cfg->port);
    if (rc == PT_ECLOSED)
        return ptu_err(err, errlen, PT_ECLOSED, "wss dial: cancelled %s", step);
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
        CURLcode cc = wss_dial_recv(d, buf, cap, &n);
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
