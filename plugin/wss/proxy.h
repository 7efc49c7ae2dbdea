/*
 * proxy.h -- which proxy a dial goes through, and why (SPEC 2.3): the
 * proxy option, proxy-cmd's output, or under proxy=auto the environment
 * as curl documents it.  Internal to the WSS plugin.  Prefix: wss_proxy_.
 *
 * An operator's proxy (the option, PILOT_PROXY through the host, or
 * proxy-cmd) is never skipped: NO_PROXY applies to proxy=auto only.
 */
#ifndef PT_WSS_PROXY_H
#define PT_WSS_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "diag.h"

/* Kept by a connection between its dials. */
typedef struct wss_proxy {
    char cmd_url[WSS_CONFIG_URL_MAX + 1]; /* proxy-cmd's last output: a secret */
    int have_cmd_url;
    char logged[WSS_CONFIG_HOST_MAX + 320]; /* the choice last logged at INFO */
} wss_proxy;

/* One dial's proxy. */
typedef struct wss_proxy_choice {
    int configured;       /* a proxy is set for this dial (NO_PROXY may skip it) */
    wss_proxy_url url;    /* when configured; user and password are secrets */
    const char *no_proxy; /* for CURLOPT_NOPROXY: "" (never skip) or the list */
    const char *no_proxy_var; /* "no_proxy" or "NO_PROXY" when the list is one */
    const char *from;     /* "the proxy option", "https_proxy", "proxy-cmd", ... */
    const char *check;    /* what a message tells the user to check */
    char none[200];       /* when not configured: why there is no proxy */
} wss_proxy_choice;

/* Decide the proxy for one dial into *ch.  Under proxy-cmd the command is
 * run (wss_proxy_cmd_run) when it has not printed a URL yet or when rerun
 * is set, and its output is kept in *st for the next dials.  Returns
 * PT_OK, or the command's error (PT_EPROXY, PT_ETIMEDOUT, PT_ECLOSED,
 * PT_EIO), or PT_EPROXY when a proxy URL (from the environment or the
 * command) is malformed: "wss dial: https_proxy: ...". */
int wss_proxy_choose(wss_proxy *st, const wss_config *cfg, int rerun, ptu_diag *diag,
                     int cancel_fd, int64_t deadline_ms, wss_proxy_choice *ch, char *err,
                     size_t errlen);

/* One line for the log: which proxy the dial used and why, given whether
 * libcurl used it (CURLINFO_USED_PROXY): "proxy http://u:***@h:3128 from
 * https_proxy", "no proxy: NO_PROXY matches beacon.example", "no proxy
 * (proxy=off)".  Never holds a password. */
void wss_proxy_describe(const wss_proxy_choice *ch, int used, const char *beacon_host,
                        char *out, size_t cap);

/* Wipe the credentials in *ch. */
void wss_proxy_choice_wipe(wss_proxy_choice *ch);

#endif
