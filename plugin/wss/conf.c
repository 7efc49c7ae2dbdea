/* conf.c -- the WSS plugin's options: validation, defaults, redaction; the
 * url parsed by libcurl's URL API, once, for both checking and dialling. */
#include "config.h"

#include "conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "cmdline.h"
#include "options.h"
#include "quote.h"
#include "util.h"

#define URL_EXAMPLE "wss://beacon.example/v1/compat"
#define DURATION_EXAMPLE "(e.g. 250ms, 20s, 1m)"
#define RECV_BUFFER_MAX 65536

const pt_option_doc wss_config_options[] = {
    { "url", "wss://HOST[:PORT][/PATH]", NULL,
      "the beacon, required; e.g. wss://beacon.pilotprotocol.network/v1/compat. HOST is a "
      "name, an IPv4 address or [IPv6]; no user:password@, no #fragment. ws:// only with "
      "allow-plaintext=true" },
    { "tls-trust", "pinned|system", "pinned",
      "roots the beacon's certificate must chain to: pinned = the roots built into the plugin "
      "(ISRG Root X1/X2), system = the operating system's store. The host name is always "
      "verified" },
    { "ca-file", "PATH", NULL,
      "PEM file of CA certificates that replaces the pinned roots (private beacons, tests); "
      "refused together with tls-trust=system" },
    { "pin-sha256", "BASE64", NULL,
      "additionally require the beacon's public key to match: base64 (44 characters) of the "
      "SHA-256 of its SubjectPublicKeyInfo; curl's sha256//BASE64 form is accepted" },
    { "proxy", "auto|off|http[s]://[USER[:PASSWORD]@]HOST[:PORT]", "auto",
      "HTTP CONNECT proxy. auto = from the environment as curl reads it: https_proxy, "
      "HTTPS_PROXY, all_proxy, ALL_PROXY (ws://: http_proxy, all_proxy, ALL_PROXY), the "
      "first one set, unless no_proxy or NO_PROXY names the beacon; off = always connect "
      "directly; a URL = always this proxy, whatever NO_PROXY says. https:// = TLS to the "
      "proxy too (see proxy-ca-file). The proxy is sent the beacon's host name, never an "
      "address resolved here. USER and PASSWORD are percent-decoded and sent as Basic "
      "auth; a URL with a password on a command line shows in ps: prefer PILOT_PROXY or "
      "proxy-cmd. Refused together with proxy-cmd" },
    { "proxy-cmd", "COMMAND", NULL,
      "a command that prints the proxy URL (first line of its standard output, trimmed), "
      "for credentials that rotate, e.g. proxy-cmd=/usr/local/bin/corp-proxy-url or "
      "proxy-cmd=sh -c 'pass show corp/proxy | head -n 1'. Run before the first dial, and again when the proxy refuses the "
      "credentials (HTTP 407 or 401), then the CONNECT is tried once more. No shell runs "
      "it: words split at spaces, '...' and \"...\" quote, \\ escapes; name a shell for "
      "pipes or variables. stdin is /dev/null, no descriptor of the host is inherited; "
      "killed after 10s (or at the dial timeout); a failure, a non-zero exit or no output "
      "fails the dial, and its stderr is logged. Refused together with proxy" },
    { "proxy-ca-file", "PATH", NULL,
      "PEM file of CA certificates for an https:// proxy's certificate, instead of the "
      "system's store (the proxy's host name is always verified, TLS 1.2 at least)" },
    { "tls-resume", "BOOL", "true",
      "resume the TLS session on redials (TLS 1.3 session tickets): a beacon restarted or "
      "redialled by thousands of daemons is spared a full handshake for each. A ticket the "
      "beacon no longer accepts costs nothing: the handshake is then a full one" },
    { "dial-timeout", "DURATION", "20s",
      "bound on the whole dial: DNS, TCP, proxy, TLS, upgrade and auth (1ms..10m)" },
    { "idle-ping", "DURATION", "30s",
      "a ping after this long without a read, and a keep-alive text message after this long "
      "without a send: the production beacon counts only data as life (100ms..1h)" },
    { "pong-timeout", "DURATION", "10s",
      "a ping unanswered this long means a half-open connection: reconnect (1ms..10m)" },
    { "recv-buffer", "FRAMES", "256", "inbound frames queued for recv (1..65536)" },
    { "allow-plaintext", "BOOL", "false", "permit ws:// URLs: unencrypted, for tests only" },
    { NULL, NULL, NULL, NULL },
};

/* ---- Quoting and redaction --------------------------------------------- */

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

char *wss_config_redact_url(const char *url, char *out, size_t cap)
{
    size_t off, len;

    if (!out || cap == 0)
        return out;
    if (!url)
        url = "";
    if (!ptu_url_password(url, &off, &len))
        snprintf(out, cap, "%s", url);
    else
        snprintf(out, cap, "%.*s***%s", (int)off, url, url + off + len);
    return out;
}

/* A value as it may appear in a message: redacted, control characters as
 * '?', cut to WSS_CONFIG_QUOTE_MAX characters then "...". */
typedef struct quoted {
    char s[WSS_CONFIG_QUOTE_MAX + 4];
} quoted;

static const char *quote(const char *v, quoted *q)
{
    /* Longer than the quote, so that a cut shows as "...". */
    char tmp[WSS_CONFIG_QUOTE_MAX + 8];

    wss_config_redact_url(v, tmp, sizeof tmp);
    return ptu_printable(q->s, sizeof q->s, tmp, strlen(tmp));
}

/* ---- URLs -------------------------------------------------------------- */

static int has_space_or_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
            return 1;
    return 0;
}

/* Parse "HOST[:PORT]" or "[IPv6][:PORT]", the len bytes at a, into host
 * (without brackets; room for WSS_CONFIG_HOST_MAX + 1 bytes) and port (0
 * when absent).  A host of digits and dots must be a dotted-quad IPv4
 * address, unless numeric_ok (the caller leaves numeric forms to libcurl).
 * Returns NULL, or why it is refused; the reason never quotes the input. */
static const char *parse_hostport(const char *a, size_t len, int numeric_ok, char *host,
                                  uint16_t *port)
{
    const char *h = a, *colon = NULL;
    size_t hlen;
    int dotted = 1;

    *port = 0;
    if (len > 0 && a[0] == '[') {
        const char *rb = memchr(a, ']', len);
        char buf[INET6_ADDRSTRLEN];
        struct in6_addr a6;
        if (!rb)
            return "missing ']' after the IPv6 address";
        h = a + 1;
        hlen = (size_t)(rb - h);
        if (hlen == 0)
            return "empty host";
        if (hlen >= sizeof buf)
            return "invalid IPv6 address";
        memcpy(buf, h, hlen);
        buf[hlen] = '\0';
        if (inet_pton(AF_INET6, buf, &a6) != 1)
            return "invalid IPv6 address";
        if (rb + 1 < a + len) {
            if (rb[1] != ':')
                return "unexpected characters after ']'";
            colon = rb + 1;
        }
    } else {
        colon = memchr(a, ':', len);
        hlen = colon ? (size_t)(colon - a) : len;
        if (colon && memchr(colon + 1, ':', (size_t)(a + len - colon - 1)))
            return "an IPv6 address must be in brackets, e.g. [::1]:8443";
        if (hlen == 0)
            return "empty host";
        if (hlen > WSS_CONFIG_HOST_MAX)
            return "host name longer than 253 characters";
        for (size_t i = 0; i < hlen; i++) {
            char c = a[i];
            if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_')
                return "invalid character in host name";
            if (!is_digit(c) && c != '.')
                dotted = 0;
        }
        if (dotted && !numeric_ok) {
            char buf[WSS_CONFIG_HOST_MAX + 1];
            struct in_addr a4;
            memcpy(buf, a, hlen);
            buf[hlen] = '\0';
            if (inet_pton(AF_INET, buf, &a4) != 1)
                return "invalid IPv4 address";
        }
    }
    if (colon) {
        size_t plen = (size_t)(a + len - colon - 1);
        char buf[8];
        uint64_t v;
        if (plen == 0 || plen >= sizeof buf)
            return "port must be a number from 1 to 65535";
        memcpy(buf, colon + 1, plen);
        buf[plen] = '\0';
        if (ptu_parse_u64(buf, 65535, &v) != 0 || v == 0)
            return "port must be a number from 1 to 65535";
        *port = (uint16_t)v;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    return NULL;
}

static int only_digits_and_dots(const char *s)
{
    for (; *s; s++)
        if (!is_digit(*s) && *s != '.')
            return 0;
    return 1;
}

/* What an unset string of a config points to (conf.h); never written. */
static char no_value[1];

/* *dst = a copy of the n bytes at v, NUL-terminated.  PT_OK or PT_ENOMEM. */
static int set_str(char **dst, const char *v, size_t n, char *err, size_t errlen)
{
    char *p = malloc(n + 1);
    if (!p)
        return ptu_err(err, errlen, PT_ENOMEM, "wss: out of memory");
    memcpy(p, v, n);
    p[n] = '\0';
    if (*dst != no_value)
        free(*dst);
    *dst = p;
    return PT_OK;
}

/* Wipe and free one string of a config (NULL: never set). */
static void free_str(char **s)
{
    if (*s && *s != no_value) {
        ptu_wipe(*s, strlen(*s));
        free(*s);
    }
    *s = NULL;
}

/* Parse v (already checked above) with libcurl's URL API into out->curlu
 * and take host, port and request target from it, so that what the
 * plugin names and sends in Host is what libcurl dials.  out->host holds
 * the host as written on entry. */
static int from_curl(const char *v, wss_config *out, char *err, size_t errlen)
{
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    struct in_addr a4;
    CURLUcode uc;
    uint64_t pv;
    quoted q;
    size_t hl;
    int rc = PT_OK;

    out->curlu = curl_url();
    if (!out->curlu)
        return ptu_err(err, errlen, PT_ENOMEM, "wss: out of memory");
    uc = curl_url_set(out->curlu, CURLUPART_URL, v, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(out->curlu, CURLUPART_HOST, &host, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(out->curlu, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    if (uc == CURLUE_OK)
        uc = curl_url_get(out->curlu, CURLUPART_PATH, &path, 0);
    if (uc == CURLUE_OK) {
        uc = curl_url_get(out->curlu, CURLUPART_QUERY, &query, 0);
        if (uc == CURLUE_NO_QUERY)
            uc = CURLUE_OK;
    }
    if (uc == CURLUE_OUT_OF_MEMORY) {
        rc = ptu_err(err, errlen, PT_ENOMEM, "wss: out of memory");
        goto out;
    }
    if (uc != CURLUE_OK) {
        rc = ptu_err(err, errlen, PT_EOPTION,
                     "wss: option \"url\": libcurl refuses it: %s (got \"%s\")",
                     curl_url_strerror(uc), quote(v, &q));
        goto out;
    }
    hl = strlen(host);
    if (hl >= 2 && host[0] == '[') { /* IPv6: kept without brackets */
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    } else if ((only_digits_and_dots(out->host) || strcasecmp(out->host, host) != 0) &&
               inet_pton(AF_INET, host, &a4) != 1) {
        /* A numeric host libcurl would look up as a name. */
        rc = ptu_err(err, errlen, PT_EOPTION,
                     "wss: option \"url\": invalid IPv4 address (got \"%s\")", quote(v, &q));
        goto out;
    }
    if (strlen(host) >= sizeof out->host || ptu_parse_u64(port, 65535, &pv) != 0 || pv == 0 ||
        strlen(path) + (query ? strlen(query) + 1 : 0) > WSS_CONFIG_URL_MAX) {
        rc = ptu_err(err, errlen, PT_EOPTION,
                     "wss: option \"url\": as libcurl reads it, the host or path is too long "
                     "(got \"%s\")",
                     quote(v, &q));
        goto out;
    }
    memcpy(out->host, host, strlen(host) + 1);
    out->port = (uint16_t)pv;
    char target[WSS_CONFIG_URL_MAX + 1];
    int tn = snprintf(target, sizeof target, "%s%s%s", path, query ? "?" : "", query ? query : "");
    rc = set_str(&out->target, target, (size_t)tn, err, errlen);
out:
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    return rc;
}

static int parse_url(const char *v, int allow_plaintext, wss_config *out, char *err,
                     size_t errlen)
{
    const char *sep, *auth, *end;
    const char *why;
    quoted q;
    int tls;

    if (!v || !*v)
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"url\" is required (e.g. " URL_EXAMPLE ")");
    if (strlen(v) > WSS_CONFIG_URL_MAX)
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"url\": longer than %d characters", WSS_CONFIG_URL_MAX);
    if (has_space_or_control(v))
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"url\": contains a space or control character (got \"%s\")",
                       quote(v, &q));
    sep = strstr(v, "://");
    if (!sep)
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"url\": expected wss://HOST[:PORT]/PATH (got \"%s\")",
                       quote(v, &q));
    if (sep - v == 3 && strncasecmp(v, "wss", 3) == 0)
        tls = 1;
    else if (sep - v == 2 && strncasecmp(v, "ws", 2) == 0)
        tls = 0;
    else
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"url\": unsupported scheme; use wss:// (got \"%s\")",
                       quote(v, &q));
    if (strchr(v, '#'))
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"url\": a #fragment is not allowed (got \"%s\")",
                       quote(v, &q));
    if (!tls && !allow_plaintext)
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"url\": ws:// is plaintext; use wss://, or set "
                       "allow-plaintext=true for tests");
    auth = sep + 3;
    end = auth + strcspn(auth, "/?");
    if (memchr(auth, '@', (size_t)(end - auth)))
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"url\": a user name or password in the URL is not "
                       "supported (got \"%s\")",
                       quote(v, &q));
    why = parse_hostport(auth, (size_t)(end - auth), 1, out->host, &out->port);
    if (why)
        return ptu_err(err, errlen, PT_EOPTION, "wss: option \"url\": %s (got \"%s\")", why,
                       quote(v, &q));
    out->tls = tls;
    int rc = set_str(&out->url, v, strlen(v), err, errlen);
    return rc != PT_OK ? rc : from_curl(v, out, err, errlen);
}

/* The percent-decoded n bytes at s into out (cap bytes), as libcurl
 * decodes a URL's user and password: a '%' not followed by two hex digits
 * stays as it is.  -1 when it does not fit or decodes to a NUL. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = { s[i + 1], s[i + 2], '\0' };
            c = (unsigned char)strtoul(hex, NULL, 16);
            i += 2;
        }
        if (c == 0 || o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

int wss_config_proxy_parse(const char *v, const char *what, int scheme_optional, int quote_ok,
                           wss_proxy_url *out, char *err, size_t errlen)
{
    const char *auth, *end, *at, *why, *colon;
    char shown_user[48];
    quoted q;
    int rc = PT_EOPTION;

#define REFUSE(...)                                                                        \
    do {                                                                                   \
        rc = ptu_err(err, errlen, PT_EOPTION, __VA_ARGS__);                                \
        goto fail;                                                                         \
    } while (0)
#define GOT (quote_ok ? " (got \"" : ""), (quote_ok ? quote(v, &q) : ""), (quote_ok ? "\")" : "")
    memset(out, 0, sizeof *out);
    if (strlen(v) > WSS_CONFIG_URL_MAX)
        REFUSE("wss: %s: longer than %d characters", what, WSS_CONFIG_URL_MAX);
    if (has_space_or_control(v))
        REFUSE("wss: %s: contains a space or control character%s%s%s", what, GOT);
    if (strncasecmp(v, "https://", 8) == 0) {
        out->tls = 1;
        auth = v + 8;
    } else if (strncasecmp(v, "http://", 7) == 0) {
        auth = v + 7;
    } else if (scheme_optional && !strstr(v, "://")) {
        auth = v;
    } else {
        REFUSE("wss: %s: only http:// and https:// proxies are supported%s%s%s", what, GOT);
    }
    end = auth + strcspn(auth, "/?#");
    if (*end && strcmp(end, "/") != 0)
        REFUSE("wss: %s: a proxy URL has no path, query or fragment%s%s%s", what, GOT);
    /* The host starts after the last '@' of the authority: an unescaped
     * '@' may be part of the password. */
    at = auth;
    for (const char *c = auth; c < end; c++)
        if (*c == '@')
            at = c + 1;
    why = parse_hostport(at, (size_t)(end - at), 0, out->host, &out->port);
    if (why)
        REFUSE("wss: %s: %s%s%s%s", what, why, GOT);
    if (at > auth) {
        const char *ui_end = at - 1;
        colon = memchr(auth, ':', (size_t)(ui_end - auth));
        out->has_user = 1;
        out->has_password = colon != NULL;
        if (pct_decode(auth, (size_t)((colon ? colon : ui_end) - auth), out->user,
                       sizeof out->user) != 0 ||
            (colon && pct_decode(colon + 1, (size_t)(ui_end - colon - 1), out->password,
                                 sizeof out->password) != 0))
            REFUSE("wss: %s: the user name or password decodes to a NUL byte%s%s%s", what, GOT);
        if (strchr(out->user, ':'))
            REFUSE("wss: %s: the user name holds a ':' (%%3A), which Basic auth cannot "
                   "carry%s%s%s",
                   what, GOT);
    }
    if (out->port == 0)
        out->port = out->tls ? 443 : 1080; /* libcurl's defaults */
    {
        int v6 = strchr(out->host, ':') != NULL;
        char hostport[WSS_CONFIG_HOST_MAX + 16];
        snprintf(hostport, sizeof hostport, "%s%s%s:%u", v6 ? "[" : "", out->host, v6 ? "]" : "",
                 (unsigned)out->port);
        snprintf(out->bare, sizeof out->bare, "%s://%s", out->tls ? "https" : "http", hostport);
        ptu_printable(shown_user, sizeof shown_user, out->user, strlen(out->user));
        snprintf(out->shown, sizeof out->shown, "%s://%s%s%s%s", out->tls ? "https" : "http",
                 out->has_user ? shown_user : "", out->has_password ? ":***" : "",
                 out->has_user ? "@" : "", hostport);
    }
    return PT_OK;
#undef GOT
#undef REFUSE
fail:
    ptu_wipe(out, sizeof *out);
    return rc;
}

static int parse_proxy(const char *v, wss_config *out, char *err, size_t errlen)
{
    wss_proxy_url pu;
    quoted q;
    int rc;

    if (strcasecmp(v, "auto") == 0) {
        out->proxy_mode = WSS_PROXY_AUTO;
        return PT_OK;
    }
    if (strcasecmp(v, "off") == 0) {
        out->proxy_mode = WSS_PROXY_OFF;
        return PT_OK;
    }
    if (strncasecmp(v, "http://", 7) != 0 && strncasecmp(v, "https://", 8) != 0 &&
        strlen(v) <= WSS_CONFIG_URL_MAX && !has_space_or_control(v))
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"proxy\": expected auto, off or "
                       "http://[USER:PASSWORD@]HOST[:PORT] (or https://...) (got \"%s\")",
                       quote(v, &q));
    /* Checked now, taken apart again at each dial (dial.c). */
    rc = wss_config_proxy_parse(v, "option \"proxy\"", 0, 1, &pu, err, errlen);
    ptu_wipe(&pu, sizeof pu);
    if (rc != PT_OK)
        return rc;
    out->proxy_mode = WSS_PROXY_URL;
    return set_str(&out->proxy_url, v, strlen(v), err, errlen);
}

static int parse_proxy_cmd(const char *v, wss_config *out, char *err, size_t errlen)
{
    char buf[WSS_CONFIG_CMD_MAX + 1];
    char *argv[WSS_CONFIG_CMD_ARGS];
    const char *why;
    size_t argc;

    if (strlen(v) > WSS_CONFIG_CMD_MAX)
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"proxy-cmd\": longer than %d characters",
                       WSS_CONFIG_CMD_MAX);
    for (const char *c = v; *c; c++)
        if ((unsigned char)*c < 0x20 && *c != '\t')
            return ptu_err(err, errlen, PT_EOPTION,
                           "wss: option \"proxy-cmd\": contains a control character");
    /* Split now so that a bad quote is an option error, not a dial error;
     * proxy_cmd.c splits it again when it runs it. */
    if (ptu_cmdline_split(v, buf, sizeof buf, argv, WSS_CONFIG_CMD_ARGS, &argc, &why) != 0)
        return ptu_err(err, errlen, PT_EOPTION, "wss: option \"proxy-cmd\": %s", why);
    out->proxy_mode = WSS_PROXY_CMD;
    return set_str(&out->proxy_cmd, v, strlen(v), err, errlen);
}

/* ---- Other values ------------------------------------------------------ */

static int parse_pin(const char *v, uint8_t pin[32], char *err, size_t errlen)
{
    uint8_t buf[32];
    size_t len, got = 0;
    quoted q;

    if (strncmp(v, "sha256//", 8) == 0)
        v += 8;
    len = strlen(v);
    if (len != 44)
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"pin-sha256\": expected base64 of a 32-byte SHA-256, 44 "
                       "characters, optionally after sha256// (got %zu characters)",
                       len);
    /* Strict: only the one canonical spelling of the 32 bytes (standard
     * alphabet, '=' padding, no spaces) is accepted. */
    if (ptu_base64_decode(v, len, buf, sizeof buf, &got) != 0 || got != 32)
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"pin-sha256\": not the standard base64 of 32 bytes (got "
                       "\"%s\")",
                       quote(v, &q));
    memcpy(pin, buf, 32);
    return PT_OK;
}

static int parse_duration(const pt_option *opts, size_t n, const char *key, uint64_t min_ms,
                          uint64_t max_ms, const char *range, uint64_t *out, char *err,
                          size_t errlen)
{
    const char *v = ptu_option_get(opts, n, wss_config_options, key);
    uint64_t ms;
    quoted q;

    if (ptu_parse_duration_ms(v, UINT64_MAX, &ms) != 0)
        return ptu_err(err, errlen, PT_EOPTION,
                       "wss: option \"%s\": invalid duration \"%s\" " DURATION_EXAMPLE, key,
                       quote(v, &q));
    if (ms < min_ms || ms > max_ms)
        return ptu_err(err, errlen, PT_EOPTION, "wss: option \"%s\": \"%s\" is out of range (%s)",
                       key, quote(v, &q), range);
    *out = ms;
    return PT_OK;
}

/* ---- Entry point ------------------------------------------------------- */

int wss_config_parse(const pt_option *opts, size_t n, wss_config *out, char *err,
                     size_t errlen)
{
    const char *v;
    quoted q;
    uint64_t u;
    int rc;

    if (!out)
        return ptu_err(err, errlen, PT_EINVAL, "wss: no config to fill");
    memset(out, 0, sizeof *out);
    out->url = out->target = out->ca_file = out->proxy_url = out->proxy_cmd =
        out->proxy_ca_file = no_value;
    rc = ptu_options_check("wss", opts, n, wss_config_options, err, errlen);
    if (rc != PT_OK)
        goto fail;

#define GET(key) ptu_option_get(opts, n, wss_config_options, (key))
    v = GET("allow-plaintext");
    if (ptu_parse_bool(v, &out->allow_plaintext) != 0) {
        rc = ptu_err(err, errlen, PT_EOPTION,
                     "wss: option \"allow-plaintext\": expected true or false (got \"%s\")",
                     quote(v, &q));
        goto fail;
    }

    rc = parse_url(GET("url"), out->allow_plaintext, out, err, errlen);
    if (rc != PT_OK)
        goto fail;

    v = GET("tls-trust");
    if (strcasecmp(v, "pinned") == 0) {
        out->trust = WSS_TRUST_PINNED;
    } else if (strcasecmp(v, "system") == 0) {
        out->trust = WSS_TRUST_SYSTEM;
    } else {
        rc = ptu_err(err, errlen, PT_EOPTION,
                     "wss: option \"tls-trust\": expected pinned or system (got \"%s\")",
                     quote(v, &q));
        goto fail;
    }

    v = GET("ca-file");
    if (v) {
        if (!*v) {
            rc = ptu_err(err, errlen, PT_EOPTION, "wss: option \"ca-file\": empty path");
            goto fail;
        }
        if (strlen(v) > WSS_CONFIG_PATH_MAX) {
            rc = ptu_err(err, errlen, PT_EOPTION,
                         "wss: option \"ca-file\": path longer than %d characters",
                         WSS_CONFIG_PATH_MAX);
            goto fail;
        }
        if (out->trust == WSS_TRUST_SYSTEM) {
            rc = ptu_err(err, errlen, PT_EOPTION,
                         "wss: option \"ca-file\": replaces the trusted roots, so it cannot be "
                         "combined with tls-trust=system; drop one of them");
            goto fail;
        }
        rc = set_str(&out->ca_file, v, strlen(v), err, errlen);
        if (rc != PT_OK)
            goto fail;
    }

    v = GET("pin-sha256");
    if (v) {
        rc = parse_pin(v, out->pin_sha256, err, errlen);
        if (rc != PT_OK)
            goto fail;
        out->has_pin = 1;
    }

    v = GET("proxy-cmd");
    if (v) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(opts[i].key, "proxy") == 0) {
                rc = ptu_err(err, errlen, PT_EOPTION,
                             "wss: options \"proxy\" and \"proxy-cmd\" both name the proxy; "
                             "give only one of them");
                goto fail;
            }
        rc = parse_proxy_cmd(v, out, err, errlen);
    } else {
        rc = parse_proxy(GET("proxy"), out, err, errlen);
    }
    if (rc != PT_OK)
        goto fail;

    v = GET("proxy-ca-file");
    if (v) {
        if (!*v || strlen(v) > WSS_CONFIG_PATH_MAX) {
            rc = *v ? ptu_err(err, errlen, PT_EOPTION,
                              "wss: option \"proxy-ca-file\": path longer than %d characters",
                              WSS_CONFIG_PATH_MAX)
                    : ptu_err(err, errlen, PT_EOPTION, "wss: option \"proxy-ca-file\": empty path");
            goto fail;
        }
        rc = set_str(&out->proxy_ca_file, v, strlen(v), err, errlen);
        if (rc != PT_OK)
            goto fail;
    }

    v = GET("tls-resume");
    if (ptu_parse_bool(v, &out->tls_resume) != 0) {
        rc = ptu_err(err, errlen, PT_EOPTION,
                     "wss: option \"tls-resume\": expected true or false (got \"%s\")",
                     quote(v, &q));
        goto fail;
    }

    rc = parse_duration(opts, n, "dial-timeout", 1, 10 * 60000, "1ms..10m", &out->dial_timeout_ms,
                        err, errlen);
    if (rc != PT_OK)
        goto fail;
    rc = parse_duration(opts, n, "idle-ping", 100, 3600000, "100ms..1h", &out->idle_ping_ms, err,
                        errlen);
    if (rc != PT_OK)
        goto fail;
    rc = parse_duration(opts, n, "pong-timeout", 1, 10 * 60000, "1ms..10m",
                        &out->pong_timeout_ms, err, errlen);
    if (rc != PT_OK)
        goto fail;

    v = GET("recv-buffer");
    if (ptu_parse_u64(v, UINT64_MAX, &u) != 0) {
        rc = ptu_err(err, errlen, PT_EOPTION,
                     "wss: option \"recv-buffer\": invalid number of frames \"%s\" (1..%d)",
                     quote(v, &q), RECV_BUFFER_MAX);
        goto fail;
    }
    if (u < 1 || u > RECV_BUFFER_MAX) {
        rc = ptu_err(err, errlen, PT_EOPTION,
                     "wss: option \"recv-buffer\": \"%s\" is out of range (1..%d)", quote(v, &q),
                     RECV_BUFFER_MAX);
        goto fail;
    }
    out->recv_buffer = (uint32_t)u;
#undef GET
    return PT_OK;

fail:
    wss_config_free(out); /* proxy_url may hold a password */
    return rc;
}

void wss_config_free(wss_config *c)
{
    if (!c)
        return;
    curl_url_cleanup(c->curlu);
    free_str(&c->url);
    free_str(&c->target);
    free_str(&c->ca_file);
    free_str(&c->proxy_url);
    free_str(&c->proxy_cmd);
    free_str(&c->proxy_ca_file);
    ptu_wipe(c, sizeof *c);
}
