/*
 * probe.c -- the WSS plugin's probe (probe.h): the dial's own connect
 * (dial.c), then a plain GET of the url's path whose answer must be 426.
 */
#include "config.h"

#include "probe.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "conf.h"
#include "diag.h"
#include "dial.h"
#include "quote.h"
#include "roots.h"
#include "util.h"

/* The GET: fixed lines plus host and target. */
#define REQUEST_MAX (WSS_CONFIG_URL_MAX + 512)
/* Only the answer's first line matters: this much of it is read. */
#define STATUS_MAX 256
/* The url as details quote it. */
#define URL_SHOWN_MAX 160
/* What a compat beacon answers a GET without Upgrade headers. */
#define UPGRADE_REQUIRED 426

/* Everything one probe holds: on the heap (the config alone is ~20 KiB),
 * released by probe_free whatever happened. */
typedef struct probe {
    wss_config cfg;
    ptu_diag diag;
    wss_dialer dl;
    int have_dialer;
    wss_dial d;
    int roots_fd;            /* memfd of the pinned roots, or -1 */
    char ca_path[WSS_CONFIG_PATH_MAX + 32]; /* ca-file or the memfd's path */
    int cancel_fd;           /* -1: none */
    int64_t start_ms, deadline_ms;
    char url[URL_SHOWN_MAX]; /* cfg.url, printable and cut */
} probe;

/* The codes the header lets probe return; anything else (PT_EAUTH and
 * the like cannot come from a connect) is reported as PT_EIO, its detail
 * unchanged. */
static int probe_code(int rc)
{
    switch (rc) {
    case PT_OK:
    case PT_ETIMEDOUT:
    case PT_EPROXY:
    case PT_ETLS:
    case PT_EIO:
    case PT_EPROTO:
    case PT_EOPTION:
    case PT_ECLOSED:
    case PT_ENOMEM:
    case PT_EINVAL:
        return rc;
    default:
        return PT_EIO;
    }
}

/* A failure of the dial's connect, in the probe's words: its messages
 * start "wss dial: " and do not always name the beacon. */
static int restate(const probe *pr, int rc, const char *why, char *detail, size_t len)
{
    static const char dial_prefix[] = "wss dial: ";
    if (rc == PT_ECLOSED)
        return ptu_err(detail, len, rc, "wss probe: cancelled (cancel_fd)");
    if (strncmp(why, dial_prefix, sizeof dial_prefix - 1) == 0)
        why += sizeof dial_prefix - 1;
    return ptu_err(detail, len, rc, "wss probe: %s: %s", pr->url, why);
}

/* A failed wait for the socket, naming the step. */
static int wait_failed(const probe *pr, int rc, const char *step, char *detail, size_t len)
{
    if (rc == PT_ETIMEDOUT)
        return ptu_err(detail, len, rc, "wss probe: %s: timed out %s", pr->url, step);
    if (rc == PT_ECLOSED)
        return ptu_err(detail, len, rc, "wss probe: cancelled (cancel_fd)");
    return ptu_err(detail, len, rc, "wss probe: %s: poll failed %s", pr->url, step);
}

/* The trust the dial would use: ca-file, the pinned roots, or the
 * system's store (no path). */
static int trust_roots(probe *pr, char *why, size_t cap)
{
    if (*pr->cfg.ca_file) {
        snprintf(pr->ca_path, sizeof pr->ca_path, "%s", pr->cfg.ca_file);
        return PT_OK;
    }
    if (pr->cfg.trust == WSS_TRUST_PINNED &&
        wss_roots_memfile(&pr->roots_fd, pr->ca_path, sizeof pr->ca_path, why, cap) != 0)
        return PT_EIO;
    return PT_OK;
}

/* GET <target> without Upgrade headers, so the beacon must refuse it. */
static int send_get(probe *pr, char *detail, size_t len)
{
    const wss_config *cfg = &pr->cfg;
    char req[REQUEST_MAX], port[8] = "";
    int v6 = strchr(cfg->host, ':') != NULL;
    size_t off = 0;

    if (cfg->port != (cfg->tls ? 443 : 80))
        snprintf(port, sizeof port, ":%u", (unsigned)cfg->port);
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s%s%s%s\r\n"
                     "User-Agent: pilot-transport/" PACKAGE_VERSION "\r\n"
                     "Connection: close\r\n"
                     "\r\n",
                     cfg->target, v6 ? "[" : "", cfg->host, v6 ? "]" : "", port);
    if (n < 0 || (size_t)n >= sizeof req)
        return ptu_err(detail, len, PT_EOPTION, "wss probe: %s: the url is too long for a GET",
                       pr->url);
    while (off < (size_t)n) {
        size_t sent = 0;
        CURLcode cc = curl_easy_send(pr->d.easy, req + off, (size_t)n - off, &sent);
        if (cc == CURLE_AGAIN || (cc == CURLE_OK && sent == 0)) {
            int rc = wss_dial_wait((int)pr->d.sock, POLLOUT, pr->cancel_fd, pr->deadline_ms);
            if (rc != PT_OK)
                return wait_failed(pr, rc, "sending the GET", detail, len);
            continue;
        }
        if (cc != CURLE_OK)
            return ptu_err(detail, len, PT_EIO, "wss probe: %s: sending the GET: %s", pr->url,
                           *pr->d.curl_err ? pr->d.curl_err : curl_easy_strerror(cc));
        off += sent;
    }
    return PT_OK;
}

/* Read the answer up to the end of its first line (or STATUS_MAX - 1
 * bytes, or the end of the stream) into line: *n bytes without CR LF,
 * then a NUL.  PT_EPROTO when the far end closed without a word. */
static int read_status(probe *pr, char *line, size_t *n_out, char *detail, size_t len)
{
    size_t have = 0;

    for (;;) {
        size_t n = 0;
        CURLcode cc = wss_dial_recv(&pr->d, line + have, STATUS_MAX - 1 - have, &n);
        if (cc == CURLE_AGAIN) {
            int rc = wss_dial_wait((int)pr->d.sock, POLLIN, pr->cancel_fd, pr->deadline_ms);
            if (rc != PT_OK)
                return wait_failed(pr, rc, "waiting for the answer to the GET", detail, len);
            continue;
        }
        if (cc != CURLE_OK)
            return ptu_err(detail, len, PT_EIO, "wss probe: %s: reading the answer: %s",
                           pr->url, *pr->d.curl_err ? pr->d.curl_err : curl_easy_strerror(cc));
        have += n;
        if (n == 0 || have == STATUS_MAX - 1 || memchr(line, '\n', have))
            break;
    }
    if (have == 0)
        return ptu_err(detail, len, PT_EPROTO,
                       "wss probe: %s closed the connection without answering the GET "
                       "(a compat beacon answers %d Upgrade Required)",
                       pr->url, UPGRADE_REQUIRED);
    size_t end = 0;
    while (end < have && line[end] != '\r' && line[end] != '\n')
        end++;
    line[end] = '\0';
    *n_out = end;
    return PT_OK;
}

/* "HTTP/1.x NNN ...": the status, or -1 when line is not one. */
static int http_status(const char *line)
{
    if (strncmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' || line[8] != ' ')
        return -1;
    for (int i = 9; i < 12; i++)
        if (line[i] < '0' || line[i] > '9')
            return -1;
    if (line[12] != '\0' && line[12] != ' ')
        return -1;
    return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
}

/* Connect as the dial would, GET, judge the first line of the answer. */
static int run(probe *pr, char *detail, size_t len)
{
    char why[PT_ERRMSG_MAX], line[STATUS_MAX], quoted[80];
    long used_proxy = 0;
    size_t n = 0;
    int rc;

    why[0] = '\0';
    if (wss_dial_cancelled(pr->cancel_fd)) /* fired already: not even a DNS lookup */
        return restate(pr, PT_ECLOSED, why, detail, len);
    pr->cfg.tls_resume = 0; /* one connection: no session cache to share */
    rc = trust_roots(pr, why, sizeof why);
    if (rc == PT_OK) {
        rc = wss_dialer_init(&pr->dl, &pr->cfg, *pr->ca_path ? pr->ca_path : NULL, &pr->diag,
                             why, sizeof why);
        pr->have_dialer = 1;
    }
    if (rc == PT_OK)
        rc = wss_dial_connect(&pr->d, &pr->dl, pr->cancel_fd, pr->deadline_ms, why, sizeof why);
    if (rc != PT_OK)
        return restate(pr, rc, why, detail, len);
    rc = send_get(pr, detail, len);
    if (rc == PT_OK)
        rc = read_status(pr, line, &n, detail, len);
    if (rc != PT_OK)
        return rc;

    /* A NUL inside the line makes it no status line. */
    int status = strlen(line) == n ? http_status(line) : -1;
    int64_t took = ptu_now_ms() - pr->start_ms;
    ptu_printable(quoted, sizeof quoted, line, n);
    if (status < 0)
        return ptu_err(detail, len, PT_EPROTO,
                       "wss probe: %s answered the GET with \"%s\", not HTTP (a compat beacon "
                       "answers %d Upgrade Required)",
                       pr->url, quoted, UPGRADE_REQUIRED);
    if (status != UPGRADE_REQUIRED)
        return ptu_err(detail, len, PT_EPROTO,
                       "wss probe: %s answered the GET with \"%s\", not %d Upgrade Required: "
                       "not a compat beacon, or not its path",
                       pr->url, quoted, UPGRADE_REQUIRED);
    /* The dial described its proxy choice (logged once per dialer, and
     * this dialer dialled once): "proxy http://u:***@host:port from ...". */
    curl_easy_getinfo(pr->d.easy, CURLINFO_USED_PROXY, &used_proxy);
    if (used_proxy)
        return ptu_err(detail, len, PT_OK, "%s answered %d in %lld ms (via %s)", pr->url, status,
                       (long long)took, pr->dl.proxy.logged);
    return ptu_err(detail, len, PT_OK, "%s answered %d in %lld ms (direct)", pr->url, status,
                   (long long)took);
}

static void probe_free(probe *pr)
{
    wss_dial_close(&pr->d);
    if (pr->have_dialer)
        wss_dialer_free(&pr->dl); /* after the dial: its handle uses the dialer */
    if (pr->roots_fd >= 0)
        close(pr->roots_fd);
    ptu_diag_flush(&pr->diag);
    ptu_diag_destroy(&pr->diag);
    wss_config_free(&pr->cfg);
    ptu_wipe(pr, sizeof *pr); /* the proxy URL may hold a password */
    free(pr);
}

int wss_probe(const pt_dial_params *p, int timeout_ms, char *detail, size_t detail_len)
{
    probe *pr;
    int rc;

    if (!detail && detail_len)
        return PT_EINVAL;
    if (!p || !PT_HAS_FIELD(p, pt_dial_params, log_level))
        return ptu_err(detail, detail_len, PT_EINVAL,
                       "wss probe: missing or too small dial parameters");
    if (timeout_ms <= 0)
        return ptu_err(detail, detail_len, PT_EINVAL,
                       "wss probe: the timeout must be positive (got %d ms)", timeout_ms);
    pr = calloc(1, sizeof *pr);
    if (!pr)
        return ptu_err(detail, detail_len, PT_ENOMEM, "wss probe: out of memory");
    pr->start_ms = ptu_now_ms();
    pr->deadline_ms = pr->start_ms + timeout_ms;
    pr->roots_fd = -1;
    pr->d.sock = CURL_SOCKET_BAD;
    pr->cancel_fd = wss_dialer_cancel_fd(p);
    ptu_diag_init(&pr->diag, p);
    rc = wss_config_parse(p->options, p->n_options, &pr->cfg, detail, detail_len);
    if (rc == PT_OK) {
        ptu_printable(pr->url, sizeof pr->url, pr->cfg.url, strlen(pr->cfg.url));
        rc = run(pr, detail, detail_len);
        /* Every proxy in the detail is in its starred form already; this
         * is the guard for a message that quoted one whole. */
        ptu_url_scrub(detail, detail_len, pr->cfg.proxy_url);
    }
    probe_free(pr);
    return probe_code(rc);
}
