/* common.c -- shared flags, plugin loading and dialling for the host. */
#include "config.h"

#include "host.h"
#include "addr.h"
#include "ed25519.h"
#include "identity.h"
#include "util.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void host_error(const struct host *h, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG " %s: ", h->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const char *host_conn_error(const struct host *h, pt_conn *c, int code, char *buf, size_t len)
{
    char detail[PT_ERRMSG_MAX] = "";
    if (h->plugin && c && h->plugin->last_error(c, detail, sizeof detail) == code && *detail)
        snprintf(buf, len, "%s: %s", pt_strerror(code), detail);
    else
        snprintf(buf, len, "%s", pt_strerror(code));
    return buf;
}

void host_common_flags(struct host *h, struct flag *f, size_t *n, size_t max)
{
    const struct flag common[] = {
        { "transport", FLAG_STRING, &h->transport, "MODE",
          "transport plugin: udp, wss (or compat), or auto to choose by probing the beacon "
          "(default $PILOT_TRANSPORT, else $PILOT_TRANSPORT_DEFAULT, else udp)",
          0, NULL },
        { "transport-dir", FLAG_STRING, &h->transport_dir, "DIR",
          "look for plugins here first (then $PILOT_TRANSPORT_DIR, then the installed dir)", 0,
          NULL },
        { "identity", FLAG_STRING, &h->identity_path, "FILE",
          "identity file (JSON, mode 0600) holding this node's Ed25519 key", 0, NULL },
        { "node-id", FLAG_UINT, &h->node_id, "N", "this node's id (1..4294967295)",
          UINT32_MAX, NULL },
        { "sign", FLAG_STRING, &h->sign, "host|plugin",
          "who holds the private key: plugin (default: the plugin gets a copy, as every ABI "
          "allows) or host (the host signs for it; ABI 1.2 plugins; the key never leaves "
          "the host's copy, wiped at exit)",
          0, NULL },
        { "opt", FLAG_LIST, &h->opts, "KEY=VALUE",
          "plugin option (repeatable; with -transport=auto each plugin gets the keys it "
          "documents)",
          0, NULL },
        { "url", FLAG_STRING, &h->url, "URL", "wss: beacon URL (option url)", 0, NULL },
        { "compat-beacon", FLAG_STRING, &h->url, "URL", "wss: alias of -url", 0, NULL },
        { "tls-trust", FLAG_STRING, &h->tls_trust, "pinned|system",
          "wss: which roots to trust (option tls-trust)", 0, NULL },
        { "ca-file", FLAG_STRING, &h->ca_file, "FILE", "wss: trust this CA file (option ca-file)",
          0, NULL },
        { "proxy", FLAG_STRING, &h->proxy, "auto|off|URL",
          "wss: HTTP(S) proxy (option proxy; default $PILOT_PROXY, else auto). A password here "
          "shows in ps: prefer PILOT_PROXY or -proxy-cmd",
          0, NULL },
        { "proxy-cmd", FLAG_STRING, &h->proxy_cmd, "COMMAND",
          "wss: a command that prints the proxy URL, run again when the proxy refuses its "
          "credentials (option proxy-cmd)",
          0, NULL },
        { "bind", FLAG_STRING, &h->bind, "HOST:PORT", "udp: local address (option bind)", 0,
          NULL },
        { "peer", FLAG_STRING, &h->peer, "HOST:PORT", "udp: where datagrams are sent", 0, NULL },
        { "beacon", FLAG_STRING, &h->beacon, "HOST:PORT",
          "udp: the beacon's UDP address: what -transport=auto's udp probe asks (option "
          "beacon, for udp plugins that have it) and where relay sends",
          0, NULL },
        { "probe-timeout", FLAG_UINT, &h->probe_timeout_ms, "MS",
          "-transport=auto: each probe's budget in milliseconds; the two run at once "
          "(default 3000)",
          INT32_MAX, NULL },
        { "log-level", FLAG_STRING, &h->log_level, "LEVEL",
          "plugin log lines on stderr: error, warn (default), info or debug", 0, NULL },
    };
    for (size_t i = 0; i < sizeof common / sizeof common[0] && *n + 1 < max; i++)
        f[(*n)++] = common[i];
    f[*n].name = NULL;
}

int host_parse(struct host *h, const char *cmd, const char *synopsis, const char *about,
               const struct flag *flags, int argc, char **argv)
{
    char err[256];
    int next = 0;
    h->cmd = cmd;
    int rc = flags_parse(flags, argc, argv, &next, err, sizeof err);
    if (rc == FLAGS_HELP) {
        printf("usage: " PROG " %s %s\n\n%s\n\nflags:\n", cmd, synopsis, about);
        flags_usage(stdout, flags);
        return 0;
    }
    if (rc != FLAGS_OK) {
        host_error(h, "%s (see " PROG " %s -h)", err, cmd);
        return EXIT_USAGE;
    }
    if (next < argc) {
        host_error(h, "unexpected argument \"%s\" (see " PROG " %s -h)", argv[next], cmd);
        return EXIT_USAGE;
    }
    return -1;
}

static void log_to_stderr(void *userdata, int level, const char *msg)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    const struct host *h = userdata;
    fprintf(stderr, PROG " %s: %s: %s\n", h->cmd,
            level >= 0 && level <= PT_LOG_DEBUG ? names[level] : "log", msg);
}

static int parse_log_level(const char *s)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    if (!s)
        return PT_LOG_WARN;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return -1;
}

struct valid_modes {
    char text[512];
};

static void add_mode(void *userdata, const char *mode, const char *path)
{
    struct valid_modes *v = userdata;
    size_t used = strlen(v->text);
    (void)path;
    snprintf(v->text + used, sizeof v->text - used, "%s%s%s", used ? ", " : "", mode,
             strcmp(mode, "wss") == 0 ? ", compat" : "");
}

/* The mode asked for: -transport, else PILOT_TRANSPORT, else
 * PILOT_TRANSPORT_DEFAULT, else udp (SPEC 6); *from says which. */
static const char *wanted_mode(const struct host *h, const char **from)
{
    static const char *const vars[] = { "PILOT_TRANSPORT", "PILOT_TRANSPORT_DEFAULT" };
    *from = "-transport";
    if (h->transport && *h->transport)
        return h->transport;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        *from = vars[i];
        if (v && *v)
            return v;
    }
    *from = "the default";
    return "udp";
}

static int load_mode(struct host *h, const char *mode, const char *from)
{
    char err[1024];
    int rc = pt_loader_open(mode, h->transport_dir, &h->plugin, err, sizeof err);
    if (rc == PT_ENOTFOUND || rc == PT_EINVAL) {
        struct valid_modes v = { "" };
        pt_loader_list(h->transport_dir, add_mode, &v);
        host_error(h, "invalid -transport \"%s\"%s%s: %s; valid: %s%s", mode,
                   strcmp(from, "-transport") ? " from " : "",
                   strcmp(from, "-transport") ? from : "", err,
                   *v.text ? v.text : "none (no plugins installed)", *v.text ? ", auto" : "");
        return EXIT_USAGE;
    }
    if (rc != PT_OK) {
        host_error(h, "%s", err);
        return EXIT_FAIL;
    }
    pt_loader_canonical_mode(mode, h->mode, sizeof h->mode);
    return 0;
}

/* Whether plugin p documents option key. */
static int has_option(const pt_plugin *p, const char *key)
{
    for (const pt_option_doc *o = p ? p->options : NULL; o && o->key; o++)
        if (strcmp(o->key, key) == 0)
            return 1;
    return 0;
}

/* The options one plugin gets. */
struct optset {
    pt_option o[80];
    char keys[64][64];
    size_t n;
};

/* PILOT_PROXY: the proxy when nothing on the command line names one, so
 * that a URL with a password stays off argv (and out of ps).  Flags
 * first, then PILOT_PROXY, then the plugin's proxy=auto (https_proxy and
 * the rest). */
static void proxy_from_env(const struct host *h, const pt_plugin *p, struct optset *s, int level)
{
    const char *v = getenv("PILOT_PROXY");

    if (!v || !*v || !has_option(p, "proxy"))
        return;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->o[i].key, "proxy") == 0 || strcmp(s->o[i].key, "proxy-cmd") == 0)
            return;
    s->o[s->n].key = "proxy";
    s->o[s->n++].value = v;
    if (level >= PT_LOG_INFO)
        fprintf(stderr, PROG " %s: info: the proxy option from PILOT_PROXY\n", h->cmd);
}

/* -opt KEY=VALUE first, then the shorthand flags; a key given both ways
 * is refused by the plugin as given twice.  Options go to p whether it
 * knows them or not (it refuses what it does not), but for "beacon",
 * which only reaches plugins that document it; with only_known (auto:
 * one command line for two plugins), each option reaches p only if p
 * documents it.  Returns 0 or EXIT_USAGE. */
static int build_options(const struct host *h, const pt_plugin *p, int only_known,
                         struct optset *s, int level)
{
    s->n = 0;
    for (size_t i = 0; i < h->opts.n; i++) {
        const char *kv = h->opts.items[i], *eq = strchr(kv, '=');
        if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof s->keys[0]) {
            host_error(h, "invalid -opt \"%s\": want KEY=VALUE", kv);
            return EXIT_USAGE;
        }
        memcpy(s->keys[i], kv, (size_t)(eq - kv));
        s->keys[i][eq - kv] = '\0';
        if (only_known && !has_option(p, s->keys[i]))
            continue;
        s->o[s->n].key = s->keys[i];
        s->o[s->n++].value = eq + 1;
    }
    const struct {
        const char *value, *key;
        int always;
    } shorthands[] = {
        { h->url, "url", 1 },         { h->tls_trust, "tls-trust", 1 },
        { h->ca_file, "ca-file", 1 }, { h->proxy, "proxy", 1 },
        { h->proxy_cmd, "proxy-cmd", 1 }, { h->bind, "bind", 1 },
        { h->beacon, "beacon", 0 },
    };
    for (size_t i = 0; i < sizeof shorthands / sizeof shorthands[0]; i++) {
        if (!shorthands[i].value ||
            ((only_known || !shorthands[i].always) && !has_option(p, shorthands[i].key)))
            continue;
        s->o[s->n].key = shorthands[i].key;
        s->o[s->n++].value = shorthands[i].value;
    }
    proxy_from_env(h, p, s, level);
    return 0;
}

/* -sign=host: the key the host keeps, and the signer that uses it.  One
 * per process (a host dials once); wiped at exit, and on the way out of
 * host_dial when the dial fails. */
struct held_key {
    pt_identity id;
    pt_signer signer;
};
static struct held_key *held;

static void wipe_held_key(void)
{
    if (held) {
        ptu_wipe(held, sizeof *held);
        free(held);
        held = NULL;
    }
}

/* pt_signer.sign: called by the plugin from any of its threads. */
static int sign_with_held_key(void *userdata, const uint8_t *message, size_t length,
                              uint8_t signature[64])
{
    const struct held_key *k = userdata;
    if (!k || !k->id.has_key)
        return -1;
    ptu_ed25519_sign(k->id.private_key, k->id.public_key, message, length, signature);
    return 0;
}

/* The one line for a dial or a selection the signal thread cancelled. */
static int interrupted(const struct host *h, const char *what)
{
    int sig = h->closer ? host_closer_signal(h->closer) : 0;
    host_error(h, "%s: %s abandoned", sig == SIGTERM ? "terminated (SIGTERM)" : "interrupted (SIGINT)",
               what);
    return EXIT_FAIL;
}

int host_start_closer(struct host *h, struct host_closer *cl)
{
    h->closer = cl;
    if (host_closer_init(cl) == 0)
        return 0;
    host_error(h, "cannot start the signal thread");
    host_closer_stop(cl);
    h->closer = NULL;
    return EXIT_FAIL;
}

int host_select(struct host *h, char *mode, size_t mode_len, char *reason, size_t reason_len)
{
    const pt_plugin *udp = NULL, *wss = NULL;
    char err[1024];
    struct optset *u = calloc(1, sizeof *u), *w = calloc(1, sizeof *w);
    pt_dial_params up = PT_DIAL_PARAMS_INIT, wp = PT_DIAL_PARAMS_INIT;
    pt_select_params sp = { .struct_size = sizeof sp };
    /* Probes prove no identity, but a Discover names its node: the node id
     * only, never a key. */
    pt_identity id = { .node_id = (uint32_t)h->node_id };
    int level = parse_log_level(h->log_level), rc = EXIT_FAIL;

    if (!u || !w) {
        host_error(h, "out of memory");
        goto out;
    }
    if (level < 0) {
        host_error(h, "invalid -log-level \"%s\": use error, warn, info or debug", h->log_level);
        rc = EXIT_USAGE;
        goto out;
    }
    /* Only to know which options each takes: pt_loader_select loads them
     * again (the same descriptors) and says what is missing. */
    pt_loader_open("udp", h->transport_dir, &udp, err, sizeof err);
    pt_loader_open("wss", h->transport_dir, &wss, err, sizeof err);
    /* An -opt that neither documents would silently go nowhere. */
    for (size_t i = 0; udp && wss && i < h->opts.n; i++) {
        const char *kv = h->opts.items[i], *eq = strchr(kv, '=');
        char key[64];
        if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key)
            continue; /* build_options says what is wrong with it */
        memcpy(key, kv, (size_t)(eq - kv));
        key[eq - kv] = '\0';
        if (!has_option(udp, key) && !has_option(wss, key)) {
            host_error(h, "invalid -opt \"%s\": neither the udp nor the wss plugin has option "
                          "\"%s\" (-transport=auto gives each plugin the options it documents)",
                       kv, key);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    if (build_options(h, udp, 1, u, level) != 0 || build_options(h, wss, 1, w, level) != 0) {
        rc = EXIT_USAGE;
        goto out;
    }
    up.options = u->o;
    up.n_options = u->n;
    wp.options = w->o;
    wp.n_options = w->n;
    up.identity = wp.identity = &id;
    up.log = wp.log = log_to_stderr;
    up.log_userdata = wp.log_userdata = h;
    up.log_level = wp.log_level = level;
    up.cancel_fd = wp.cancel_fd = host_closer_cancel_fd(h->closer);
    sp.timeout_ms = (int32_t)h->probe_timeout_ms;
    sp.dir = h->transport_dir;
    sp.udp = &up;
    sp.compat = &wp;
    switch (pt_loader_select(&sp, mode, mode_len, reason, reason_len)) {
    case PT_OK:
        rc = 0;
        break;
    case PT_ECLOSED:
        rc = interrupted(h, "choosing the transport (-transport=auto)");
        break;
    default:
        host_error(h, "-transport=auto: %s", reason);
        break;
    }
out:
    free(u);
    free(w);
    return rc;
}

int host_dial(struct host *h, pt_conn **out, double *dial_ms)
{
    struct optset *s = NULL;
    pt_identity id;
    pt_dial_params params = PT_DIAL_PARAMS_INIT;
    char err[PT_ERRMSG_MAX], reason[PT_ERRMSG_MAX + 512];
    const char *mode, *from;
    int rc, level, auto_mode, sign_host;

    *out = NULL;
    memset(&id, 0, sizeof id);
    level = parse_log_level(h->log_level);
    if (level < 0) {
        host_error(h, "invalid -log-level \"%s\": use error, warn, info or debug", h->log_level);
        return EXIT_USAGE;
    }
    if (h->sign && strcmp(h->sign, "host") != 0 && strcmp(h->sign, "plugin") != 0) {
        host_error(h, "invalid -sign \"%s\": use host or plugin", h->sign);
        return EXIT_USAGE;
    }
    sign_host = h->sign && strcmp(h->sign, "host") == 0;
    if (h->peer) {
        if (ptu_addr_parse(h->peer, 0, &h->peer_addr, err, sizeof err) != PT_OK) {
            host_error(h, "invalid -peer: %s", err);
            return EXIT_USAGE;
        }
        h->has_peer = 1;
    }
    mode = wanted_mode(h, &from);
    auto_mode = strcasecmp(mode, "auto") == 0;
    if (auto_mode) {
        char chosen[8];
        if ((rc = host_select(h, chosen, sizeof chosen, reason, sizeof reason)) != 0)
            return rc;
        fprintf(stderr, "transport: %s (%s)\n", chosen, reason);
        mode = strcmp(chosen, "wss") == 0 ? "wss" : "udp";
    }
    if ((rc = load_mode(h, mode, from)) != 0)
        return rc;
    if (!(s = calloc(1, sizeof *s))) {
        host_error(h, "out of memory");
        return EXIT_FAIL;
    }
    if ((rc = build_options(h, h->plugin, auto_mode, s, level)) != 0)
        goto out;
    if (h->identity_path) {
        if (ptu_identity_load(h->identity_path, &id, err, sizeof err) != PT_OK) {
            host_error(h, "%s", err);
            rc = EXIT_FAIL;
            goto out;
        }
    }
    id.node_id = (uint32_t)h->node_id;
    if (sign_host && id.has_key) {
        if (h->plugin->abi_minor < 2) {
            host_error(h, "-sign=host: the %s plugin %s (ABI %u.%u) takes no signer (ABI 1.2): "
                          "use -sign=plugin",
                       h->mode, h->plugin->version, (unsigned)h->plugin->abi_major,
                       (unsigned)h->plugin->abi_minor);
            rc = EXIT_USAGE;
            goto out;
        }
        if (!held) {
            static int registered;
            if (!registered && atexit(wipe_held_key) == 0)
                registered = 1;
            held = calloc(1, sizeof *held);
        }
        if (!held) {
            host_error(h, "out of memory");
            rc = EXIT_FAIL;
            goto out;
        }
        held->id = id;
        held->signer.struct_size = sizeof held->signer;
        held->signer.node_id = id.node_id;
        memcpy(held->signer.public_key, id.public_key, sizeof id.public_key);
        held->signer.sign = sign_with_held_key;
        held->signer.userdata = held;
        params.signer = &held->signer;
        /* The plugin gets the node id and public key, never the private key. */
        ptu_wipe(id.private_key, sizeof id.private_key);
        id.has_key = 0;
    }

    params.options = s->o;
    params.n_options = s->n;
    params.identity = &id;
    params.log = log_to_stderr;
    params.log_userdata = h;
    params.log_level = level;
    params.cancel_fd = host_closer_cancel_fd(h->closer);

    uint64_t t0 = ptu_now_ns();
    rc = h->plugin->dial(&params, out, err, sizeof err);
    uint64_t t1 = ptu_now_ns();
    if (rc != PT_OK) {
        *out = NULL;
        if (rc == PT_ECLOSED && h->closer && host_closer_signal(h->closer)) {
            char what[64];
            snprintf(what, sizeof what, "dialling %s", h->mode);
            rc = interrupted(h, what);
        } else {
            host_error(h, "dial %s failed (%s): %s", h->mode, pt_strerror(rc), err);
            rc = EXIT_FAIL;
        }
        wipe_held_key();
        goto out;
    }
    if (dial_ms)
        *dial_ms = (double)(t1 - t0) / 1e6;
    rc = 0;
out:
    ptu_wipe(&id, sizeof id); /* the plugin keeps its own copy if it needs one */
    free(s);
    return rc;
}
