/* proxy.c -- the proxy of one dial and why (proxy.h). */
#include "config.h"

#include "proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_cmd.h"
#include "util.h"

#define CHECK_OPTION "the proxy option (-proxy, PILOT_PROXY)"

/* The first of names that is set, as curl reads the environment: set but
 * empty counts (it means no proxy).  NULL when none is. */
static const char *first_set(const char *const *names, const char **which)
{
    for (; *names; names++) {
        const char *v = getenv(*names);
        if (v) {
            *which = *names;
            return v;
        }
    }
    return NULL;
}

/* proxy=auto: lowercase before uppercase, as curl documents it; for ws://
 * http_proxy in lowercase only (an HTTP_PROXY may come from a request's
 * "Proxy:" header in CGI programs: httpoxy). */
static int from_env(const wss_config *cfg, wss_proxy_choice *ch, char *err, size_t errlen)
{
    static const char *const tls_names[] = { "https_proxy", "HTTPS_PROXY", "all_proxy",
                                             "ALL_PROXY", NULL };
    static const char *const plain_names[] = { "http_proxy", "all_proxy", "ALL_PROXY", NULL };
    static const char *const no_names[] = { "no_proxy", "NO_PROXY", NULL };
    const char *var = NULL, *v = first_set(cfg->tls ? tls_names : plain_names, &var);
    const char *nv = NULL, *no = first_set(no_names, &nv);

    if (!v) {
        snprintf(ch->none, sizeof ch->none, "no proxy: none of %s is set (proxy=auto)",
                 cfg->tls ? "https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY"
                          : "http_proxy, all_proxy, ALL_PROXY");
        return PT_OK;
    }
    if (!*v) {
        snprintf(ch->none, sizeof ch->none, "no proxy: %s is empty (proxy=auto)", var);
        return PT_OK;
    }
    ch->from = var;
    ch->check = var;
    if (no && *no) {
        ch->no_proxy = no;
        ch->no_proxy_var = nv;
    }
    ch->configured = 1;
    return wss_config_proxy_parse(v, var, 1, 1, &ch->url, err, errlen) == PT_OK ? PT_OK
                                                                                  : PT_EPROXY;
}

int wss_proxy_choose(wss_proxy *st, const wss_config *cfg, int rerun, ptu_diag *diag,
                     int cancel_fd, int64_t deadline_ms, wss_proxy_choice *ch, char *err,
                     size_t errlen)
{
    int rc;

    memset(ch, 0, sizeof *ch);
    ch->no_proxy = ""; /* an operator's proxy is never skipped */
    switch (cfg->proxy_mode) {
    case WSS_PROXY_OFF:
        snprintf(ch->none, sizeof ch->none, "no proxy (proxy=off)");
        return PT_OK;
    case WSS_PROXY_AUTO:
        return from_env(cfg, ch, err, errlen);
    case WSS_PROXY_URL:
        ch->from = "the proxy option";
        ch->check = CHECK_OPTION;
        ch->configured = 1;
        /* Checked when the options were parsed. */
        return wss_config_proxy_parse(cfg->proxy_url, "option \"proxy\"", 0, 1, &ch->url, err,
                                      errlen) == PT_OK
                   ? PT_OK
                   : PT_EPROXY;
    case WSS_PROXY_CMD:
        break;
    }
    ch->from = "proxy-cmd";
    ch->check = "what proxy-cmd prints";
    if (rerun || !st->have_cmd_url) {
        ptu_diag_log(diag, PT_LOG_INFO, "wss: running proxy-cmd%s",
                     rerun ? " again: the proxy refused the credentials" : "");
        st->have_cmd_url = 0;
        rc = wss_proxy_cmd_run(cfg->proxy_cmd, cancel_fd, deadline_ms, diag, st->cmd_url,
                               sizeof st->cmd_url, err, errlen);
        if (rc != PT_OK) {
            ptu_wipe(st->cmd_url, sizeof st->cmd_url);
            return rc;
        }
        st->have_cmd_url = 1;
    }
    ch->configured = 1;
    /* Its output is a secret as a whole: messages never quote it. */
    rc = wss_config_proxy_parse(st->cmd_url, "proxy-cmd's output is not a proxy URL", 1, 0, &ch->url,
                                err, errlen);
    if (rc != PT_OK) {
        st->have_cmd_url = 0; /* run it again next time */
        ptu_wipe(st->cmd_url, sizeof st->cmd_url);
        return PT_EPROXY;
    }
    return PT_OK;
}

void wss_proxy_describe(const wss_proxy_choice *ch, int used, const char *beacon_host, char *out,
                        size_t cap)
{
    if (!ch->configured)
        snprintf(out, cap, "%s", ch->none);
    else if (used)
        snprintf(out, cap, "proxy %s from %s", ch->url.shown, ch->from);
    else
        snprintf(out, cap, "no proxy: %s matches %s (proxy %s from %s skipped)",
                 ch->no_proxy_var ? ch->no_proxy_var : "NO_PROXY", beacon_host, ch->url.shown,
                 ch->from);
}

void wss_proxy_choice_wipe(wss_proxy_choice *ch)
{
    ptu_wipe(&ch->url, sizeof ch->url);
}
