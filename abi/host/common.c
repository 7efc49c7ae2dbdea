/* common.c -- shared flags, plugin loading and dialling for the host. */
#include "config.h"

#include "host.h"
#include "addr.h"
#include "identity.h"
#include "util.h"

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
          "transport plugin: udp, wss or compat (default $PILOT_TRANSPORT, else udp)", 0, NULL },
        { "transport-dir", FLAG_STRING, &h->transport_dir, "DIR",
          "look for plugins here first (then $PILOT_TRANSPORT_DIR, then the installed dir)", 0,
          NULL },
        { "identity", FLAG_STRING, &h->identity_path, "FILE",
          "identity file (JSON, mode 0600) holding this node's Ed25519 key", 0, NULL },
        { "node-id", FLAG_UINT, &h->node_id, "N", "this node's id (1..4294967295)",
          UINT32_MAX, NULL },
        { "opt", FLAG_LIST, &h->opts, "KEY=VALUE", "plugin option (repeatable)", 0, NULL },
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

static int load_plugin(struct host *h)
{
    char err[1024];
    const char *mode = h->transport;
    if (!mode || !*mode)
        mode = getenv("PILOT_TRANSPORT");
    if (!mode || !*mode)
        mode = "udp";
    int rc = pt_loader_open(mode, h->transport_dir, &h->plugin, err, sizeof err);
    if (rc == PT_ENOTFOUND || rc == PT_EINVAL) {
        struct valid_modes v = { "" };
        pt_loader_list(h->transport_dir, add_mode, &v);
        host_error(h, "invalid -transport \"%s\": %s; valid: %s", mode, err,
                   *v.text ? v.text : "none (no plugins installed)");
        return EXIT_USAGE;
    }
    if (rc != PT_OK) {
        host_error(h, "%s", err);
        return EXIT_FAIL;
    }
    pt_loader_canonical_mode(mode, h->mode, sizeof h->mode);
    return 0;
}

/* Whether the plugin documents option key. */
static int plugin_has_option(const struct host *h, const char *key)
{
    for (const pt_option_doc *o = h->plugin->options; o && o->key; o++)
        if (strcmp(o->key, key) == 0)
            return 1;
    return 0;
}

/* PILOT_PROXY: the proxy when nothing on the command line names one, so
 * that a URL with a password stays off argv (and out of ps).  Flags
 * first, then PILOT_PROXY, then the plugin's proxy=auto (https_proxy and
 * the rest). */
static void proxy_from_env(const struct host *h, pt_option *options, size_t *n, int level)
{
    const char *v = getenv("PILOT_PROXY");

    if (!v || !*v || !plugin_has_option(h, "proxy"))
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(options[i].key, "proxy") == 0 || strcmp(options[i].key, "proxy-cmd") == 0)
            return;
    options[*n].key = "proxy";
    options[(*n)++].value = v;
    if (level >= PT_LOG_INFO)
        fprintf(stderr, PROG " %s: info: the proxy option from PILOT_PROXY\n", h->cmd);
}

int host_dial(struct host *h, pt_conn **out, double *dial_ms)
{
    pt_option options[80];
    char keys[64][64];
    size_t n = 0;
    pt_identity id;
    pt_dial_params params;
    char err[PT_ERRMSG_MAX];
    int rc, level;

    *out = NULL;
    memset(&id, 0, sizeof id);
    level = parse_log_level(h->log_level);
    if (level < 0) {
        host_error(h, "invalid -log-level \"%s\": use error, warn, info or debug", h->log_level);
        return EXIT_USAGE;
    }
    if ((rc = load_plugin(h)) != 0)
        return rc;

    /* -opt KEY=VALUE first, then the shorthand flags; a key given both ways
     * is refused by the plugin as given twice. */
    for (size_t i = 0; i < h->opts.n; i++) {
        const char *kv = h->opts.items[i], *eq = strchr(kv, '=');
        if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof keys[0]) {
            host_error(h, "invalid -opt \"%s\": want KEY=VALUE", kv);
            return EXIT_USAGE;
        }
        memcpy(keys[i], kv, (size_t)(eq - kv));
        keys[i][eq - kv] = '\0';
        options[n].key = keys[i];
        options[n++].value = eq + 1;
    }
#define SHORTHAND(field, name)                                                             \
    if (h->field) {                                                                        \
        options[n].key = name;                                                             \
        options[n++].value = h->field;                                                     \
    }
    SHORTHAND(url, "url")
    SHORTHAND(tls_trust, "tls-trust")
    SHORTHAND(ca_file, "ca-file")
    SHORTHAND(proxy, "proxy")
    SHORTHAND(proxy_cmd, "proxy-cmd")
    SHORTHAND(bind, "bind")
#undef SHORTHAND
    proxy_from_env(h, options, &n, level);

    if (h->peer) {
        if (ptu_addr_parse(h->peer, 0, &h->peer_addr, err, sizeof err) != PT_OK) {
            host_error(h, "invalid -peer: %s", err);
            return EXIT_USAGE;
        }
        h->has_peer = 1;
    }
    if (h->identity_path) {
        if (ptu_identity_load(h->identity_path, &id, err, sizeof err) != PT_OK) {
            host_error(h, "%s", err);
            return EXIT_FAIL;
        }
    }
    id.node_id = (uint32_t)h->node_id;

    memset(&params, 0, sizeof params);
    params.struct_size = sizeof params;
    params.options = options;
    params.n_options = n;
    params.identity = &id;
    params.log = log_to_stderr;
    params.log_userdata = h;
    params.log_level = level;

    uint64_t t0 = ptu_now_ns();
    rc = h->plugin->dial(&params, out, err, sizeof err);
    uint64_t t1 = ptu_now_ns();
    ptu_wipe(&id, sizeof id); /* the plugin keeps its own copy if it needs one */
    if (rc != PT_OK) {
        host_error(h, "dial %s failed (%s): %s", h->mode, pt_strerror(rc), err);
        *out = NULL;
        return EXIT_FAIL;
    }
    if (dial_ms)
        *dial_ms = (double)(t1 - t0) / 1e6;
    return 0;
}
