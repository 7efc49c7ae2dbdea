/*
 * conf.h -- the WSS plugin's options (SPEC 2): validate the key/value
 * options a host passes to dial and turn them into a wss_config.  Internal
 * to the WSS plugin.  Prefix: wss_config_.
 *
 * (The file is conf.h, not config.h or options.h: those names are taken by
 * autoconf's config.h and lib/options.h, both on the include path.)
 *
 * No I/O (ca-file is not opened here, the proxy environment is not read
 * here), no global state; safe from any thread.  The url is parsed once,
 * by libcurl's URL API, and the parsed handle is what the dial hands to
 * libcurl: the host the plugin checks and names in messages is the host
 * libcurl connects to.  That handle is the one allocation: a config that
 * wss_config_parse filled is released with wss_config_free.
 * Every message written into err is NUL-terminated, starts "wss: option
 * \"<key>\"" (or "wss: " for an unknown or duplicate key) and never
 * contains a password: URLs are quoted with their password replaced by
 * "***" (wss_config_redact_url), control characters replaced by '?', and
 * cut to WSS_CONFIG_QUOTE_MAX characters.  err may be NULL or errlen 0.
 */
#ifndef PT_WSS_CONF_H
#define PT_WSS_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "pilot_transport.h"

/* Longest url or proxy value accepted, without its NUL. */
#define WSS_CONFIG_URL_MAX 2047
/* Longest host name (DNS limit); IP literals are shorter. */
#define WSS_CONFIG_HOST_MAX 253
/* Longest ca-file path, without its NUL. */
#define WSS_CONFIG_PATH_MAX 4095
/* Longest proxy-cmd, without its NUL, and most words (with the NULL). */
#define WSS_CONFIG_CMD_MAX 4095
#define WSS_CONFIG_CMD_ARGS 64
/* Values quoted in messages are cut to this many characters, then "...". */
#define WSS_CONFIG_QUOTE_MAX 100

/* Where the beacon's certificate chain must lead (SPEC 2.2). */
enum wss_trust {
    WSS_TRUST_PINNED, /* the roots embedded in the plugin at build time */
    WSS_TRUST_SYSTEM  /* the operating system's store */
};

/* How the beacon is reached (SPEC 2.3). */
enum wss_proxy_mode {
    WSS_PROXY_AUTO, /* https_proxy / all_proxy / no_proxy, read by the dialer */
    WSS_PROXY_OFF,  /* always connect directly */
    WSS_PROXY_URL,  /* through the HTTP CONNECT proxy in proxy_url */
    WSS_PROXY_CMD   /* through the proxy that proxy_cmd prints */
};

/* A proxy URL taken apart (wss_config_proxy_parse): what libcurl is given
 * as CURLOPT_PROXY, and the credentials it gets separately.  user and
 * password are secrets: wipe the struct when done (ptu_wipe). */
typedef struct wss_proxy_url {
    int tls;                           /* https:// (TLS to the proxy) */
    char host[WSS_CONFIG_HOST_MAX + 1]; /* no brackets */
    uint16_t port;                     /* as given, else 1080 (http) / 443
                                        * (https), libcurl's defaults */
    char bare[WSS_CONFIG_HOST_MAX + 32]; /* scheme://host:port, no credentials */
    char shown[WSS_CONFIG_HOST_MAX + 160]; /* for messages: the user (printable,
                                            * cut) and ":***" for a password */
    int has_user;                      /* user[:password]@ was given */
    int has_password;
    char user[WSS_CONFIG_URL_MAX + 1];   /* percent-decoded */
    char password[WSS_CONFIG_URL_MAX + 1]; /* percent-decoded */
} wss_proxy_url;

/* The strings (url, target, ca_file, proxy_url, proxy_cmd, proxy_ca_file)
 * are sized to their values, each its own block (a shared "" when unset),
 * never NULL after a successful wss_config_parse: fixed arrays of the
 * longest value allowed made the config 18 KB, all of it zeroed for
 * every connection (every page written is memory, and a page fault). */
typedef struct wss_config {
    char *url;                          /* exactly as given; validated */
    CURLU *curlu;                       /* url as libcurl parsed it: what is
                                         * dialled (curl_url_dup per dial) */
    int tls;                            /* 1 for wss://, 0 for ws:// */
    char host[256];                     /* as libcurl reads it, no brackets */
    uint16_t port;                      /* explicit, else 443 (wss) / 80 (ws) */
    char *target;                       /* path[?query] as libcurl reads it */
    enum wss_trust trust;
    char *ca_file;                      /* "" if none; replaces the roots */
    int has_pin;                        /* non-zero when pin_sha256 is set */
    uint8_t pin_sha256[32];             /* SHA-256 of the beacon's SPKI */
    enum wss_proxy_mode proxy_mode;
    char *proxy_url;                    /* WSS_PROXY_URL only, else "";
                                             * may hold a password: never
                                             * print it, wipe it when done */
    char *proxy_cmd;                    /* WSS_PROXY_CMD only, else "" */
    char *proxy_ca_file;                /* "" for the system's store */
    int tls_resume;                     /* resume TLS sessions on redials */
    uint64_t dial_timeout_ms;           /* whole dial, DNS to auth_ok */
    uint64_t idle_ping_ms;              /* ping after this long idle */
    uint64_t pong_timeout_ms;           /* a ping unanswered this long: drop */
    uint32_t recv_buffer;               /* inbound frames queued, at most */
    int allow_plaintext;                /* ws:// permitted (tests only) */
} wss_config;

/* Documentation of every option, key NULL terminated: syntax, default
 * (NULL for url, ca-file and pin-sha256, which have none) and help. */
extern const pt_option_doc wss_config_options[];

/* Validate opts (n entries) and fill *out.  Unknown, duplicate, NULL keys
 * and NULL values are refused by ptu_options_check ("wss: unknown option
 * \"foo\" (known: url, ...)", "wss: option \"url\" given twice").  Options
 * not given take the defaults documented in wss_config_options.
 *
 *   url             required.  wss://HOST[:PORT][/PATH][?QUERY]; ws:// only
 *                   with allow-plaintext=true.  Scheme case-insensitive;
 *                   HOST a name, an IPv4 address or [IPv6]; PORT 1..65535.
 *                   Refused: other schemes, user:password@, an empty host,
 *                   a bad port, a #fragment, spaces and control characters,
 *                   anything libcurl's URL parser refuses.  A numeric host
 *                   that libcurl reads as IPv4 (0x7f.1, 127.1, 0177.0.0.1,
 *                   2130706433) is accepted as the address libcurl dials,
 *                   host "127.0.0.1"; one it would look up as a name
 *                   (192.0.2.300) is refused.
 *   tls-trust       pinned | system.
 *   ca-file         PATH, non-empty.  Its CAs replace the pinned roots;
 *                   together with tls-trust=system it is refused.
 *   pin-sha256      base64 (standard, padded: 44 characters) of the SHA-256
 *                   of the beacon's SubjectPublicKeyInfo, optionally written
 *                   "sha256//<base64>" as in curl; checked in addition to
 *                   the chain.
 *   proxy           auto | off | http[s]://[USER[:PASSWORD]@]HOST[:PORT][/]
 *                   (wss_config_proxy_parse).
 *   proxy-cmd       COMMAND, split into words by ptu_cmdline_split (no
 *                   shell); refused together with proxy.
 *   proxy-ca-file   PATH, non-empty: the only roots for an https:// proxy.
 *   tls-resume      BOOL.
 *   dial-timeout    DURATION, 1ms..10m.
 *   idle-ping       DURATION, 100ms..1h.
 *   pong-timeout    DURATION, 1ms..10m.
 *   recv-buffer     frames, 1..65536.
 *   allow-plaintext BOOL (true/false, yes/no, on/off, 1/0).
 *
 * Returns PT_OK, or on failure leaves *out zeroed and returns
 *   PT_EOPTION  a message naming the option, e.g.
 *               "wss: option \"url\" is required (e.g. wss://beacon.example/v1/compat)",
 *               "wss: option \"url\": ws:// is plaintext; use wss://, or set
 *               allow-plaintext=true for tests",
 *               "wss: option \"idle-ping\": invalid duration \"abc\" (e.g.
 *               250ms, 20s, 1m)";
 *   PT_ENOMEM   "wss: out of memory" (libcurl's URL handle);
 *   PT_EINVAL   out NULL, or opts NULL with n > 0.
 * On PT_OK, *out owns a libcurl URL handle: release it with
 * wss_config_free. */
int wss_config_parse(const pt_option *opts, size_t n, wss_config *out, char *err,
                     size_t errlen);

/* Take the proxy URL v apart into *out: scheme http:// or https://
 * (case-insensitive; with scheme_optional, none means http://, as the
 * proxy environment variables are often written), an optional
 * USER[:PASSWORD]@ (up to the last '@'; percent-decoded, no NUL, no ':' in
 * the decoded user), HOST (a name, an IPv4 address or [IPv6]), an optional
 * :PORT, at most a trailing "/".  what names v in messages ("option
 * \"proxy\"", "https_proxy"); with quote_ok the message quotes v, its
 * password replaced by "***"; without, it never quotes v (proxy-cmd's
 * output is a secret as a whole).  Returns PT_OK, or PT_EOPTION with
 * "wss: <what>: <why>".  *out is wiped on failure. */
int wss_config_proxy_parse(const char *v, const char *what, int scheme_optional, int quote_ok,
                           wss_proxy_url *out, char *err, size_t errlen);

/* Release what wss_config_parse allocated and wipe *c (the proxy URL may
 * hold a password).  Safe on a config that was zeroed or refused, and on
 * NULL. */
void wss_config_free(wss_config *c);

/* Copy url into out (cap bytes, NUL-terminated, cut to fit) with the
 * password of its user:password@ part replaced by "***":
 *   "http://alice:s3cret@proxy:3128" -> "http://alice:***@proxy:3128".
 * The password is found by ptu_url_password (lib/quote.h), which errs
 * towards hiding: the user part runs from after "scheme://" (or from the
 * start when there is no valid scheme) to the LAST '@' of the string, so a
 * password holding '/', '?', '#' or '@' is hidden too.  A user part
 * without ':' (no password) is kept.  url NULL reads as "".  Returns out;
 * nothing is written when out is NULL or cap 0. */
char *wss_config_redact_url(const char *url, char *out, size_t cap);

#endif
