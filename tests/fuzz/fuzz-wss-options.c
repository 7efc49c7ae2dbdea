/*
 * fuzz-wss-options.c -- the WSS plugin's options (wss_config_parse) and
 * the value parsers under them (ptu_parse_duration_ms, ptu_parse_u64,
 * ptu_parse_bool, wss_config_redact_url).
 *
 * The input is lines "key=value" (a line without '=' is a key with a NULL
 * value); each key and value is its own exact-size heap string.
 *
 * Invariants:
 *   - an accepted config holds the url exactly as given, a non-empty host,
 *     a port, wss:// unless allow-plaintext, durations and recv-buffer in
 *     their documented ranges, a proxy URL only in WSS_PROXY_URL mode, the
 *     host that its libcurl URL handle holds (what is dialled) and a
 *     request target starting with '/'; wss_config_free wipes it;
 *   - a refused config is all zero, returns PT_EOPTION, and its message
 *     starts "wss: ", is printable, and does not contain the password of
 *     any user:password@ URL among the values;
 *   - ptu_parse_duration_ms agrees with the same grammar evaluated in long
 *     double (within the rounding its 9 fraction digits and integer
 *     microseconds allow), never exceeds max_ms, and accepts every
 *     well-formed duration within max_ms;
 *   - ptu_parse_u64 agrees with strtoull on digit strings.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <strings.h>

#include "conf.h"
#include "fuzz.h"
#include "util.h"

const char fuzz_target_name[] = "wss-options";

#define MAX_OPTS 16

/* ---- Durations: the documented grammar, evaluated independently -------- */

/* <number><unit> repeated, number = digits [. digits] (at least one digit),
 * unit ms|s|m|h; or exactly "0".  Sets *us to the exact value in
 * microseconds and *parts to the number of terms.  Returns 0, or -1 when s
 * is not a duration. */
static int oracle_duration(const char *s, long double *us, int *parts)
{
    *us = 0;
    *parts = 0;
    if (!*s)
        return -1;
    if (strcmp(s, "0") == 0)
        return 0;
    while (*s) {
        long double whole = 0, frac = 0, scale = 1, unit;
        int digits = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++)
            whole = whole * 10 + (*s - '0');
        if (*s == '.')
            for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
                frac = frac * 10 + (*s - '0');
                scale *= 10;
            }
        if (digits == 0)
            return -1;
        if (s[0] == 'm' && s[1] == 's') {
            unit = 1e3L;
            s += 2;
        } else if (s[0] == 's') {
            unit = 1e6L;
            s++;
        } else if (s[0] == 'm') {
            unit = 60e6L;
            s++;
        } else if (s[0] == 'h') {
            unit = 3600e6L;
            s++;
        } else {
            return -1;
        }
        *us += (whole + frac / scale) * unit;
        (*parts)++;
    }
    return 0;
}

static void check_duration(const char *v)
{
    static const uint64_t maxes[] = { UINT64_MAX, UINT64_MAX / 1000, 3600000, 600000, 1, 0 };
    long double want_us = 0;
    int parts = 0;
    int valid = v && oracle_duration(v, &want_us, &parts) == 0;

    for (size_t i = 0; i < sizeof maxes / sizeof maxes[0]; i++) {
        uint64_t got = 777;
        int rc = ptu_parse_duration_ms(v, maxes[i], &got);
        long double max_us = maxes[i] > UINT64_MAX / 1000 ? (long double)UINT64_MAX
                                                          : (long double)maxes[i] * 1000;
        if (rc == 0) {
            /* Each term may lose < 1us to the 9 kept fraction digits and
             * < 1us to integer microseconds; the total is then floored to
             * ms.  long double carries 64 bits: slack for its rounding. */
            long double got_us = (long double)got * 1000;
            long double slack = 2.0L * parts + want_us * 1e-15L;
            FUZZ_CHECK(valid);
            FUZZ_CHECK(got <= maxes[i]);
            FUZZ_CHECK(got_us <= want_us + slack);
            FUZZ_CHECK(got_us + 1000 + slack > want_us);
        } else {
            FUZZ_CHECK(rc == -1 && got == 777);
            /* Well formed and clearly within max_us: must be accepted. */
            if (valid)
                FUZZ_CHECK(want_us + 1 + want_us * 1e-15L > max_us);
        }
    }
}

static void check_u64(const char *v)
{
    static const uint64_t maxes[] = { UINT64_MAX, 65536, 65535, 0 };
    int digits = v && *v && strspn(v, "0123456789") == strlen(v);
    unsigned long long want = 0;
    int range = 0;

    if (digits) {
        errno = 0;
        want = strtoull(v, NULL, 10);
        range = errno == ERANGE;
    }
    for (size_t i = 0; i < sizeof maxes / sizeof maxes[0]; i++) {
        uint64_t got = 777;
        int rc = ptu_parse_u64(v, maxes[i], &got);
        if (digits && !range && want <= maxes[i])
            FUZZ_CHECK(rc == 0 && got == want);
        else
            FUZZ_CHECK(rc == -1 && got == 777);
    }
}

static void check_value(const char *v)
{
    char out[WSS_CONFIG_QUOTE_MAX + 8];
    int b = 7;

    check_duration(v);
    check_u64(v);
    if (ptu_parse_bool(v, &b) == 0)
        FUZZ_CHECK(b == 0 || b == 1);
    else
        FUZZ_CHECK(b == 7);
    /* Redaction always NUL-terminates within cap, whatever cap is. */
    for (size_t cap = 1; cap <= sizeof out; cap += 17) {
        memset(out, 'x', sizeof out);
        FUZZ_CHECK(wss_config_redact_url(v, out, cap) == out);
        FUZZ_CHECK(memchr(out, '\0', cap) != NULL);
    }
}

/* ---- Passwords in messages --------------------------------------------- */

/* If v is scheme://user:password@..., the password (the text between the
 * first ':' after "://" and the last '@'): *pw and its length, else 0. */
static size_t find_password(const char *v, const char **pw)
{
    const char *sep = v ? strstr(v, "://") : NULL, *user, *at, *colon;

    if (!sep || sep == v || !((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z')))
        return 0;
    if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") !=
        (size_t)(sep - v))
        return 0;
    user = sep + 3;
    at = strrchr(user, '@');
    if (!at)
        return 0;
    colon = memchr(user, ':', (size_t)(at - user));
    if (!colon)
        return 0;
    *pw = colon + 1;
    return (size_t)(at - *pw);
}

static size_t count(const void *hay, size_t n, const char *needle, size_t m)
{
    const char *h = hay, *end = h + n, *p;
    size_t c = 0;

    while (m > 0 && h < end && (p = memmem(h, (size_t)(end - h), needle, m)) != NULL) {
        c++;
        h = p + 1;
    }
    return c;
}

/* ---- The whole config -------------------------------------------------- */

static void check_config_ok(const wss_config *c, const pt_option *o, size_t n)
{
    const char *url = NULL;

    for (size_t i = 0; i < n; i++)
        if (strcmp(o[i].key, "url") == 0)
            url = o[i].value;
    FUZZ_CHECK(url && strcmp(c->url, url) == 0);
    FUZZ_CHECK(c->host[0] != '\0' && strlen(c->host) <= WSS_CONFIG_HOST_MAX);
    FUZZ_CHECK(c->port != 0);
    FUZZ_CHECK(c->tls == 1 || (c->tls == 0 && c->allow_plaintext));
    FUZZ_CHECK(strncasecmp(url, c->tls ? "wss://" : "ws://", c->tls ? 6 : 5) == 0);
    FUZZ_CHECK(c->trust == WSS_TRUST_PINNED || c->trust == WSS_TRUST_SYSTEM);
    FUZZ_CHECK(!(c->ca_file[0] && c->trust == WSS_TRUST_SYSTEM));
    FUZZ_CHECK(c->has_pin == 0 || c->has_pin == 1);
    FUZZ_CHECK((c->proxy_mode == WSS_PROXY_URL) == (c->proxy_url[0] != '\0'));
    FUZZ_CHECK(c->dial_timeout_ms >= 1 && c->dial_timeout_ms <= 600000);
    FUZZ_CHECK(c->idle_ping_ms >= 100 && c->idle_ping_ms <= 3600000);
    FUZZ_CHECK(c->pong_timeout_ms >= 1 && c->pong_timeout_ms <= 600000);
    FUZZ_CHECK(c->recv_buffer >= 1 && c->recv_buffer <= 65536);
    /* What is reported is what libcurl dials. */
    char *h = NULL;
    size_t hl;
    FUZZ_CHECK(c->curlu && curl_url_get(c->curlu, CURLUPART_HOST, &h, 0) == CURLUE_OK);
    hl = strlen(h);
    if (h[0] == '[')
        FUZZ_CHECK(hl == strlen(c->host) + 2 && memcmp(h + 1, c->host, hl - 2) == 0);
    else
        FUZZ_CHECK(strcmp(h, c->host) == 0);
    curl_free(h);
    FUZZ_CHECK(c->target[0] == '/');
}

static void check_config_err(int rc, const wss_config *c, const char *err, const uint8_t *data,
                             size_t size, const pt_option *o, size_t n)
{
    FUZZ_CHECK(rc == PT_EOPTION);
    FUZZ_CHECK(fuzz_all_zero(c, sizeof *c));
    FUZZ_CHECK(strncmp(err, "wss: ", 5) == 0);
    /* ptu_options_check quotes an unknown key as given, control characters
     * and all; conf.h's promise of '?' is kept for values only (reported). */
    if (strncmp(err, "wss: unknown option", 19) != 0)
        FUZZ_CHECK(fuzz_printable(err));
    for (size_t i = 0; i < n; i++) {
        const char *pw;
        size_t len = find_password(o[i].value, &pw);
        /* A password that appears nowhere else in the input (so no other
         * part of the message can be the source) must not be shown. */
        if (len >= 4 && count(data, size, pw, len) == 1)
            FUZZ_CHECK(count(err, strlen(err), pw, len) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pt_option opts[MAX_OPTS] = { { NULL, NULL } };
    char *keys[MAX_OPTS], *vals[MAX_OPTS];
    char err[PT_ERRMSG_MAX];
    static wss_config cfg; /* 8 KB: not on the stack */
    size_t n = 0, pos = 0;
    int rc;

    while (pos < size && n < MAX_OPTS) {
        const uint8_t *line = data + pos, *nl = memchr(line, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - line) : size - pos;
        const uint8_t *eq = memchr(line, '=', len);
        size_t klen = eq ? (size_t)(eq - line) : len;

        keys[n] = fuzz_strdup(line, klen);
        vals[n] = eq ? fuzz_strdup(eq + 1, len - klen - 1) : NULL;
        opts[n].key = keys[n];
        opts[n].value = vals[n];
        n++;
        pos += len + 1;
    }

    for (size_t i = 0; i < n; i++)
        check_value(vals[i]);

    memset(&cfg, 0xA5, sizeof cfg);
    err[0] = '\0';
    rc = wss_config_parse(opts, n, &cfg, err, sizeof err);
    if (rc == PT_OK)
        check_config_ok(&cfg, opts, n);
    else
        check_config_err(rc, &cfg, err, data, size, opts, n);
    wss_config_free(&cfg);
    FUZZ_CHECK(fuzz_all_zero(&cfg, sizeof cfg));
    wss_config_parse(opts, n, &cfg, err, 6); /* a tiny buffer is cut, not overrun */
    wss_config_free(&cfg);

    for (size_t i = 0; i < n; i++) {
        free(keys[i]);
        free(vals[i]);
    }
    return 0;
}
