/*
 * beacon.c -- pilot-beacon-dev: a WebSocket (wss://) beacon for the WSS
 * plugin's tests and demos (SPEC 3).  This file: the command line, the
 * signals, the STATS line.  The server itself is in server.c, relay mode
 * in relay.c.
 *
 * stdout carries exactly one line, "READY port=N" ("READY port=N udp=N" in
 * relay mode), once the server listens.  stderr carries the log and
 * "STATS key=value ..." lines (on SIGUSR1 and at exit); GET /stats serves
 * the same counters as JSON.  SIGUSR2 sends every authenticated peer the
 * text {"type":"future"}.  Exit status: 0 after SIGTERM/SIGINT, 1 if
 * the server cannot start, 2 for a usage error.
 */
#include "config.h"

#include "beacon.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char usage_text[] =
    "usage: pilot-beacon-dev [--flag=value ...]\n"
    "  --listen=HOST:PORT        address to listen on (127.0.0.1:0; port 0 picks one)\n"
    "  --cert=FILE --key=FILE    server certificate chain and key (PEM)\n"
    "  --plaintext               plain ws:// instead (no --cert/--key)\n"
    "  --registry=FILE           lines \"NODE_ID BASE64_PUBKEY\"; '#' comments\n"
    "  --mode=relay|echo|sink    what to do with binary messages after auth:\n"
    "                            relay: route beacon Relay messages between WSS\n"
    "                            peers and UDP nodes (default; UDP on the same\n"
    "                            port number, READY port=N udp=N);\n"
    "                            echo: send each back; sink: count them\n"
    "  --legacy-auth             challenge without ts\n"
    "  --subprotocol=NAME        subprotocol the beacon selects (pilot.v1)\n"
    "  --auth-timeout=SECONDS    time allowed for auth (10)\n"
    "  --idle-timeout=SECONDS    drop peers silent this long (90)\n"
    "  --idle-data-only          the production beacon's idle rule: only data\n"
    "                            messages (text or binary) count as traffic, not\n"
    "                            pings, and an idle peer is dropped without a\n"
    "                            close frame (TCP EOF)\n"
    "  --max-peers=N             refuse upgrades with 503 beyond N peers (0: no cap)\n"
    "  --verbose                 libwebsockets' own log too\n"
    "faults, for the client's tests:\n"
    "  --reject-auth             close every reply with 1008 \"auth failed\"\n"
    "  --challenge=KIND          binary|malformed|wrong-type|empty-nonce\n"
    "  --no-auth-ok              verify the reply but never answer it\n"
    "  --drop-after=N            drop the connection (no close frame) after the\n"
    "                            N-th binary message on it has been handled\n"
    "  --refuse=K                answer the next K upgrades with HTTP 503\n"
    "  --no-pong                 after auth_ok, stop reading from the peer (its\n"
    "                            pings go unanswered: a half-open connection)\n"
    "  --oversize                after auth_ok, send one 70000-byte binary message\n"
    "  --text-after-auth         after auth_ok, send the text {\"type\":\"future\"}\n"
    "  --fragment                echo each message as 3 frames (first + 2 continuations)\n"
    "  --ping-after-auth         after auth_ok, send one ping\n"
    "  --close-after-auth[=CODE[:REASON]]\n"
    "                            right after auth_ok, close the connection with\n"
    "                            CODE and REASON (1000 \"replaced\", as when a\n"
    "                            node's newer connection replaces it)\n"
    "output: READY on stdout; the log and STATS lines (at SIGUSR1 and exit) on\n"
    "stderr; GET /health answers ok, GET /stats the counters as JSON (among\n"
    "them tls_full and tls_resumed: TLS handshakes with a new or a resumed\n"
    "session; the beacon issues TLS 1.3 session tickets).  SIGUSR2: send every\n"
    "authenticated peer the text {\"type\":\"future\"} (as --text-after-auth).\n";

volatile sig_atomic_t bc_stop_requested;
volatile sig_atomic_t bc_stats_requested;
volatile sig_atomic_t bc_text_requested;

static void on_stop(int sig)
{
    (void)sig;
    bc_stop_requested = 1;
    bc_server_wake();
}

static void on_stats(int sig)
{
    (void)sig;
    bc_stats_requested = 1;
    bc_server_wake();
}

static void on_text(int sig)
{
    (void)sig;
    bc_text_requested = 1;
    bc_server_wake();
}

static int install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop; /* no SA_RESTART: poll() returns EINTR */
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = on_stats;
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = on_text;
    if (sigaction(SIGUSR2, &sa, NULL) != 0)
        return -1;
    /* A peer that vanishes mid-write must not kill the beacon (OpenSSL
     * writes to the socket without MSG_NOSIGNAL). */
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

/* The counters, in the order of the STATS line and of /stats. */
static const struct {
    const char *name;
    size_t off;
} stats_fields[] = {
#define F(x) { #x, offsetof(bc_stats, x) }
    F(upgrades), F(auth_ok), F(auth_fail), F(frames_in), F(frames_out),
    F(bytes_in), F(bytes_out), F(drops), F(refused),
    F(relayed), F(relay_dropped), F(udp_in), F(udp_out), F(discovers),
    F(tls_full), F(tls_resumed), F(text_in),
#undef F
};

/* printf at buf + *used; returns 0, or -1 if it does not fit. */
static int append(char *buf, size_t cap, size_t *used, const char *fmt, ...) PTU_PRINTF(4, 5);

static int append(char *buf, size_t cap, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf + *used, cap - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - *used)
        return -1;
    *used += (size_t)n;
    return 0;
}

int bc_stats_format(const bc_stats *st, int json, char *buf, size_t cap)
{
    size_t used = 0;

    if (cap == 0 || append(buf, cap, &used, "%s", json ? "{" : "") != 0)
        return -1;
    for (size_t i = 0; i < sizeof stats_fields / sizeof stats_fields[0]; i++) {
        const char *sep = i == 0 ? "" : json ? "," : " ";
        uint64_t v;
        memcpy(&v, (const char *)st + stats_fields[i].off, sizeof v);
        if (append(buf, cap, &used, json ? "%s\"%s\":%" PRIu64 : "%s%s=%" PRIu64, sep,
                   stats_fields[i].name, v) != 0)
            return -1;
    }
    if (append(buf, cap, &used, "%s", json ? "}" : "") != 0)
        return -1;
    return (int)used;
}

void bc_stats_print(const bc_stats *st)
{
    char line[1024];

    if (bc_stats_format(st, 0, line, sizeof line) < 0)
        snprintf(line, sizeof line, "(too long)");
    fprintf(stderr, "STATS %s\n", line);
    fflush(stderr);
}

/* HOST:PORT, HOST an IPv4 address or name of at most 63 characters. */
static int parse_listen(const char *v, bc_opts *o)
{
    const char *colon = strrchr(v, ':');
    uint64_t port;
    size_t hlen;

    if (!colon)
        return -1;
    hlen = (size_t)(colon - v);
    if (hlen == 0 || hlen >= sizeof o->listen_host)
        return -1;
    if (ptu_parse_u64(colon + 1, 65535, &port) != 0)
        return -1;
    memcpy(o->listen_host, v, hlen);
    o->listen_host[hlen] = '\0';
    o->port = (int)port;
    return 0;
}

/* --close-after-auth[=CODE[:REASON]]: a code a server may send (RFC 6455
 * 7.4: not 1004-1006 or 1015, nothing reserved) and a reason that fits a
 * close frame, printable ASCII.  Without a value: 1000 "replaced". */
static int parse_close(const char *v, bc_opts *o)
{
    const char *colon;
    char code[8];
    uint64_t n;
    size_t len;

    o->close_after_auth = 1000;
    o->close_reason = BC_REASON_REPLACED;
    if (!v)
        return 0;
    colon = strchr(v, ':');
    len = colon ? (size_t)(colon - v) : strlen(v);
    if (len >= sizeof code)
        return -1;
    memcpy(code, v, len);
    code[len] = '\0';
    if (ptu_parse_u64(code, 4999, &n) != 0 || n < 1000 || (n >= 1004 && n <= 1006) ||
        (n >= 1015 && n < 3000))
        return -1;
    o->close_after_auth = (int)n;
    o->close_reason = colon ? colon + 1 : "";
    if (strlen(o->close_reason) > 123)
        return -1;
    for (const char *c = o->close_reason; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            return -1;
    return 0;
}

static int parse_uint(const char *v, uint64_t max, unsigned *out)
{
    uint64_t n;
    if (ptu_parse_u64(v, max, &n) != 0)
        return -1;
    *out = (unsigned)n;
    return 0;
}

/* One argument; returns 0, or -1 after printing why. */
static int parse_arg(const char *arg, bc_opts *o)
{
    static const struct { const char *name; size_t off; } flags[] = {
        { "plaintext", offsetof(bc_opts, plaintext) },
        { "legacy-auth", offsetof(bc_opts, legacy_auth) },
        { "verbose", offsetof(bc_opts, verbose) },
        { "idle-data-only", offsetof(bc_opts, idle_data_only) },
        { "reject-auth", offsetof(bc_opts, reject_auth) },
        { "no-auth-ok", offsetof(bc_opts, no_auth_ok) },
        { "no-pong", offsetof(bc_opts, no_pong) },
        { "oversize", offsetof(bc_opts, oversize) },
        { "text-after-auth", offsetof(bc_opts, text_after_auth) },
        { "fragment", offsetof(bc_opts, fragment) },
        { "ping-after-auth", offsetof(bc_opts, ping_after_auth) },
    };
    static const char *const kinds[] = { "good", "binary", "malformed", "wrong-type",
                                         "empty-nonce" };
    const char *orig = arg, *eq, *v;
    char name[32];
    size_t nlen;
    int bad = 0;

    if (strncmp(arg, "--", 2) != 0)
        goto unknown;
    arg += 2;
    eq = strchr(arg, '=');
    nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    if (nlen >= sizeof name)
        goto unknown;
    memcpy(name, arg, nlen);
    name[nlen] = '\0';
    v = eq ? eq + 1 : NULL;

    if (strcmp(name, "close-after-auth") == 0) { /* its value is optional */
        if (parse_close(v, o) == 0)
            return 0;
        fprintf(stderr, "pilot-beacon-dev: invalid value for --%s: \"%s\"\n", name, v);
        return -1;
    }
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (strcmp(name, flags[i].name) == 0) {
            if (v) {
                fprintf(stderr, "pilot-beacon-dev: --%s takes no value\n", name);
                return -1;
            }
            *(int *)(void *)((char *)o + flags[i].off) = 1;
            return 0;
        }
    }
    if (!v)
        goto unknown_or_novalue;
    if (strcmp(name, "listen") == 0)
        bad = parse_listen(v, o);
    else if (strcmp(name, "cert") == 0)
        o->cert = v;
    else if (strcmp(name, "key") == 0)
        o->key = v;
    else if (strcmp(name, "registry") == 0)
        o->registry = v;
    else if (strcmp(name, "mode") == 0) {
        if (strcmp(v, "relay") == 0)
            o->mode = BC_MODE_RELAY;
        else if (strcmp(v, "echo") == 0)
            o->mode = BC_MODE_ECHO;
        else if (strcmp(v, "sink") == 0)
            o->mode = BC_MODE_SINK;
        else
            bad = 1;
    } else if (strcmp(name, "subprotocol") == 0) {
        o->subprotocol = v;
        bad = !*v || strlen(v) > 63 || strpbrk(v, " \t,;") != NULL;
    } else if (strcmp(name, "auth-timeout") == 0)
        bad = parse_uint(v, 86400, &o->auth_timeout) != 0 || o->auth_timeout == 0;
    else if (strcmp(name, "idle-timeout") == 0)
        bad = parse_uint(v, 86400, &o->idle_timeout) != 0 || o->idle_timeout == 0;
    else if (strcmp(name, "max-peers") == 0)
        bad = parse_uint(v, 1000000, &o->max_peers);
    else if (strcmp(name, "challenge") == 0) {
        bad = 1;
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (strcmp(v, kinds[i]) == 0) {
                o->challenge = (int)i;
                bad = 0;
            }
    } else if (strcmp(name, "drop-after") == 0)
        bad = ptu_parse_u64(v, UINT64_MAX, &o->drop_after) != 0 || o->drop_after == 0;
    else if (strcmp(name, "refuse") == 0)
        bad = ptu_parse_u64(v, UINT64_MAX, &o->refuse);
    else
        goto unknown;
    if (bad) {
        fprintf(stderr, "pilot-beacon-dev: invalid value for --%s: \"%s\"\n", name, v);
        return -1;
    }
    return 0;

unknown_or_novalue:
    {
        static const char *const valued[] = { "listen", "cert", "key", "registry", "mode",
                                              "subprotocol", "auth-timeout", "idle-timeout",
                                              "max-peers", "challenge", "drop-after",
                                              "refuse" };
        for (size_t i = 0; i < sizeof valued / sizeof valued[0]; i++)
            if (strcmp(name, valued[i]) == 0) {
                fprintf(stderr, "pilot-beacon-dev: --%s needs a value (--%s=...)\n", name,
                        name);
                return -1;
            }
    }
unknown:
    fprintf(stderr, "pilot-beacon-dev: unknown argument \"%s\"\n", orig);
    return -1;
}

int main(int argc, char **argv)
{
    bc_opts o;
    bc_registry reg;
    bc_stats st;
    char err[512];
    int rc;

    memset(&o, 0, sizeof o);
    memset(&reg, 0, sizeof reg);
    memset(&st, 0, sizeof st);
    strcpy(o.listen_host, "127.0.0.1");
    o.mode = BC_MODE_RELAY;
    o.subprotocol = BC_SUBPROTOCOL;
    o.auth_timeout = 10;
    o.idle_timeout = 90;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (parse_arg(argv[i], &o) != 0) {
            fputs("pilot-beacon-dev: --help lists the options\n", stderr);
            return 2;
        }
    }
    if (!o.plaintext && (!o.cert || !o.key)) {
        fprintf(stderr, "pilot-beacon-dev: --cert and --key are required (or --plaintext)\n");
        return 2;
    }
    if (o.plaintext && (o.cert || o.key)) {
        fprintf(stderr, "pilot-beacon-dev: --plaintext takes no --cert/--key\n");
        return 2;
    }
    if (o.registry && bc_registry_load(&reg, o.registry, err, sizeof err) != 0) {
        fprintf(stderr, "pilot-beacon-dev: %s\n", err);
        return 1;
    }
    if (install_signals() != 0) {
        perror("pilot-beacon-dev: sigaction");
        bc_registry_free(&reg);
        return 1;
    }
    rc = bc_server_run(&o, &reg, &st);
    bc_stats_print(&st);
    bc_registry_free(&reg);
    return rc == 0 ? 0 : 1;
}
