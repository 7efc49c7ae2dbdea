/* test-wss-conf.c -- the WSS plugin's options: parsing, defaults, refusals,
 * and that no message ever shows a proxy password (SPEC 2). */
#include "config.h"

#include "conf.h"
#include "tap.h"

#include <stdint.h>
#include <string.h>

#define URL "wss://beacon.example/v1/compat"
#define SECRET "s3cr3tPW"

/* Bytes 0..31 in standard base64: the canonical spelling ends "Hh8=";
 * "Hh9=" decodes to the same bytes but sets the two unused bits. */
#define PIN_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define PIN_NONCANONICAL "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9="

static char err[PT_ERRMSG_MAX];
static wss_config cfg;

/* ---- Fixtures ---------------------------------------------------------- */

/* Parse the given key/value pairs (a NULL key ends the list). */
static int parse_kv(const char *const *kv)
{
    pt_option opts[16];
    size_t n = 0;
    for (; kv[0]; kv += 2)
        opts[n++] = (pt_option){ kv[0], kv[1] };
    wss_config_free(&cfg); /* the last test's */
    memset(&cfg, 0x5A, sizeof cfg); /* garbage the parser must replace */
    memset(err, 0, sizeof err);
    return wss_config_parse(opts, n, &cfg, err, sizeof err);
}

#define PARSE(...) parse_kv((const char *const[]){ __VA_ARGS__, NULL })

/* url plus one more option. */
static int with(const char *key, const char *value)
{
    return PARSE("url", URL, key, value);
}

static int is_zeroed(const wss_config *c)
{
    const unsigned char *p = (const unsigned char *)c;
    for (size_t i = 0; i < sizeof *c; i++)
        if (p[i])
            return 0;
    return 1;
}

/* The option is refused with PT_EOPTION, *cfg wiped, and the message
 * names the option and contains sub. */
#define CHECK_REFUSED(rc, key, sub)                                                    \
    do {                                                                               \
        CHECK_EQ_INT(rc, PT_EOPTION);                                                  \
        CHECK_STR_CONTAINS(err, "wss: option \"" key "\"");                            \
        CHECK_STR_CONTAINS(err, sub);                                                  \
        CHECK(is_zeroed(&cfg));                                                        \
    } while (0)

/* ---- Defaults and the option table ------------------------------------- */

TEST(defaults_with_just_url)
{
    CHECK_EQ_INT(PARSE("url", URL), PT_OK);
    CHECK_STR_EQ(err, "");
    CHECK_STR_EQ(cfg.url, URL);
    CHECK_EQ_INT(cfg.tls, 1);
    CHECK_STR_EQ(cfg.host, "beacon.example");
    CHECK_EQ_INT(cfg.port, 443);
    CHECK_EQ_INT(cfg.trust, WSS_TRUST_PINNED);
    CHECK_STR_EQ(cfg.ca_file, "");
    CHECK_EQ_INT(cfg.has_pin, 0);
    CHECK_EQ_INT(cfg.proxy_mode, WSS_PROXY_AUTO);
    CHECK_STR_EQ(cfg.proxy_url, "");
    CHECK_STR_EQ(cfg.proxy_cmd, "");
    CHECK_STR_EQ(cfg.proxy_ca_file, "");
    CHECK_EQ_INT(cfg.tls_resume, 1);
    CHECK_EQ_INT(cfg.dial_timeout_ms, 20000);
    CHECK_EQ_INT(cfg.idle_ping_ms, 30000);
    CHECK_EQ_INT(cfg.pong_timeout_ms, 10000);
    CHECK_EQ_INT(cfg.recv_buffer, 256);
    CHECK_EQ_INT(cfg.allow_plaintext, 0);
}

TEST(option_table_documents_every_option_with_help)
{
    static const char *const keys[] = { "url",           "tls-trust",    "ca-file",
                                        "pin-sha256",    "proxy",        "proxy-cmd",
                                        "proxy-ca-file", "tls-resume",   "dial-timeout",
                                        "idle-ping",     "pong-timeout", "recv-buffer",
                                        "allow-plaintext" };
    size_t n = 0;
    for (const pt_option_doc *d = wss_config_options; d->key; d++, n++) {
        CHECK(d->value_syntax && *d->value_syntax);
        CHECK(d->help && *d->help);
    }
    CHECK_EQ_INT(n, sizeof keys / sizeof keys[0]);
    for (size_t i = 0; i < n && i < sizeof keys / sizeof keys[0]; i++)
        CHECK_STR_EQ(wss_config_options[i].key, keys[i]);
}

TEST(documented_defaults_match_spec)
{
    static const char *const want[][2] = {
        { "url", NULL },           { "tls-trust", "pinned" },  { "ca-file", NULL },
        { "pin-sha256", NULL },    { "proxy", "auto" },        { "proxy-cmd", NULL },
        { "proxy-ca-file", NULL }, { "tls-resume", "true" },   { "dial-timeout", "20s" },
        { "idle-ping", "30s" },    { "pong-timeout", "10s" },  { "recv-buffer", "256" },
        { "allow-plaintext", "false" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const pt_option_doc *d = &wss_config_options[i];
        CHECK_STR_EQ(d->key, want[i][0]);
        if (want[i][1])
            CHECK_STR_EQ(d->default_value, want[i][1]);
        else
            CHECK(d->default_value == NULL);
    }
}

TEST(all_options_at_once)
{
    CHECK_EQ_INT(PARSE("url", "ws://127.0.0.1:8080/v1/compat?x=1", "tls-trust", "pinned",
                       "ca-file", "/tmp/ca.pem", "pin-sha256", PIN_B64, "proxy",
                       "http://proxy.example:3128", "dial-timeout", "5s", "idle-ping", "250ms",
                       "pong-timeout", "1.5s", "recv-buffer", "1024", "allow-plaintext", "yes"),
                 PT_OK);
    CHECK_STR_EQ(cfg.url, "ws://127.0.0.1:8080/v1/compat?x=1");
    CHECK_EQ_INT(cfg.tls, 0);
    CHECK_STR_EQ(cfg.host, "127.0.0.1");
    CHECK_EQ_INT(cfg.port, 8080);
    CHECK_STR_EQ(cfg.ca_file, "/tmp/ca.pem");
    CHECK_EQ_INT(cfg.has_pin, 1);
    CHECK_EQ_INT(cfg.proxy_mode, WSS_PROXY_URL);
    CHECK_STR_EQ(cfg.proxy_url, "http://proxy.example:3128");
    CHECK_EQ_INT(cfg.dial_timeout_ms, 5000);
    CHECK_EQ_INT(cfg.idle_ping_ms, 250);
    CHECK_EQ_INT(cfg.pong_timeout_ms, 1500);
    CHECK_EQ_INT(cfg.recv_buffer, 1024);
    CHECK_EQ_INT(cfg.allow_plaintext, 1);
}

/* ---- Keys -------------------------------------------------------------- */

TEST(unknown_key_is_refused_naming_it)
{
    CHECK_EQ_INT(with("ping-interval", "5s"), PT_EOPTION);
    CHECK_STR_CONTAINS(err, "wss: unknown option \"ping-interval\"");
    CHECK_STR_CONTAINS(err, "idle-ping");
    CHECK(is_zeroed(&cfg));
}

TEST(duplicate_key_is_refused)
{
    CHECK_EQ_INT(PARSE("url", URL, "idle-ping", "5s", "idle-ping", "6s"), PT_EOPTION);
    CHECK_STR_CONTAINS(err, "wss: option \"idle-ping\" given twice");
    CHECK(is_zeroed(&cfg));
}

TEST(null_value_is_refused)
{
    CHECK_EQ_INT(with("proxy", NULL), PT_EOPTION);
    CHECK_STR_CONTAINS(err, "no key or no value");
}

TEST(bad_arguments_are_einval)
{
    pt_option o = { "url", URL };
    wss_config_free(&cfg);
    CHECK_EQ_INT(wss_config_parse(&o, 1, NULL, err, sizeof err), PT_EINVAL);
    CHECK_EQ_INT(wss_config_parse(NULL, 1, &cfg, err, sizeof err), PT_EINVAL);
    /* err may be NULL or empty. */
    CHECK_EQ_INT(wss_config_parse(NULL, 0, &cfg, NULL, 0), PT_EOPTION);
    CHECK_EQ_INT(wss_config_parse(&o, 1, &cfg, NULL, 0), PT_OK);
    wss_config_free(&cfg);
}

TEST(message_fits_a_small_error_buffer)
{
    char small[16];
    pt_option o = { "idle-ping", "abc" };
    memset(small, 'X', sizeof small);
    wss_config_free(&cfg);
    CHECK_EQ_INT(wss_config_parse(&o, 1, &cfg, small, sizeof small), PT_EOPTION);
    CHECK_EQ_INT(strlen(small), sizeof small - 1);
}

/* ---- url --------------------------------------------------------------- */

TEST(url_missing_is_required)
{
    CHECK_EQ_INT(PARSE("idle-ping", "5s"), PT_EOPTION);
    CHECK_STR_EQ(err, "wss: option \"url\" is required (e.g. wss://beacon.example/v1/compat)");
    CHECK(is_zeroed(&cfg));
}

TEST(url_empty_is_required)
{
    CHECK_REFUSED(PARSE("url", ""), "url", "is required");
}

TEST(url_wss_default_port_443)
{
    CHECK_EQ_INT(PARSE("url", "wss://b.example"), PT_OK);
    CHECK_EQ_INT(cfg.port, 443);
    CHECK_EQ_INT(cfg.tls, 1);
    CHECK_STR_EQ(cfg.host, "b.example");
    CHECK_STR_EQ(cfg.url, "wss://b.example");
}

TEST(url_ws_default_port_80)
{
    CHECK_EQ_INT(PARSE("url", "ws://b.example/x", "allow-plaintext", "true"), PT_OK);
    CHECK_EQ_INT(cfg.port, 80);
    CHECK_EQ_INT(cfg.tls, 0);
}

TEST(url_explicit_port)
{
    CHECK_EQ_INT(PARSE("url", "wss://b.example:8443/v1/compat"), PT_OK);
    CHECK_EQ_INT(cfg.port, 8443);
    CHECK_STR_EQ(cfg.host, "b.example");
    CHECK_EQ_INT(PARSE("url", "wss://b.example:65535?q"), PT_OK);
    CHECK_EQ_INT(cfg.port, 65535);
    CHECK_EQ_INT(PARSE("url", "wss://b.example:1"), PT_OK);
    CHECK_EQ_INT(cfg.port, 1);
}

TEST(url_ipv6_literal_is_parsed_without_brackets)
{
    CHECK_EQ_INT(PARSE("url", "wss://[::1]:8443/v1/compat"), PT_OK);
    CHECK_STR_EQ(cfg.host, "::1");
    CHECK_EQ_INT(cfg.port, 8443);
    CHECK_EQ_INT(PARSE("url", "wss://[2001:db8::7]/"), PT_OK);
    CHECK_STR_EQ(cfg.host, "2001:db8::7");
    CHECK_EQ_INT(cfg.port, 443);
}

TEST(url_ipv4_literal)
{
    CHECK_EQ_INT(PARSE("url", "wss://192.0.2.10:9000/"), PT_OK);
    CHECK_STR_EQ(cfg.host, "192.0.2.10");
    CHECK_EQ_INT(cfg.port, 9000);
}

/* cfg.host is the host libcurl will dial: the one in cfg.curlu. */
static int host_is_curls(void)
{
    char *h = NULL;
    int same;
    if (!cfg.curlu || curl_url_get(cfg.curlu, CURLUPART_HOST, &h, 0) != CURLUE_OK)
        return 0;
    if (h[0] == '[')
        same = strlen(h) == strlen(cfg.host) + 2 && strncmp(h + 1, cfg.host, strlen(cfg.host)) == 0;
    else
        same = strcmp(h, cfg.host) == 0;
    curl_free(h);
    return same;
}

TEST(url_numeric_hosts_are_named_as_libcurl_dials_them)
{
    static const char *const forms[][2] = {
        { "wss://0x7f.1/", "127.0.0.1" },         { "wss://127.1/", "127.0.0.1" },
        { "wss://0177.0.0.1/", "127.0.0.1" },     { "wss://2130706433/", "127.0.0.1" },
        { "wss://0x7f000001:8443/", "127.0.0.1" }, { "wss://0x7f.0x0.0x0.0x1/", "127.0.0.1" },
        { "wss://1.2.3/", "1.2.0.3" },             { "wss://192.0.2.10/", "192.0.2.10" },
    };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        CHECK_EQ_INT(PARSE("url", forms[i][0]), PT_OK);
        CHECK_STR_EQ(cfg.host, forms[i][1]);
        CHECK(host_is_curls());
        CHECK_STR_EQ(cfg.url, forms[i][0]); /* kept as given */
    }
    /* Names stay names, as written. */
    CHECK_EQ_INT(PARSE("url", "wss://B.Example/"), PT_OK);
    CHECK_STR_EQ(cfg.host, "B.Example");
    CHECK(host_is_curls());
    CHECK_EQ_INT(PARSE("url", "wss://[2001:db8::7]:9/"), PT_OK);
    CHECK(host_is_curls());
}

TEST(url_numeric_host_libcurl_would_look_up_is_refused)
{
    /* libcurl would send these to DNS as names. */
    CHECK_REFUSED(PARSE("url", "wss://192.0.2.300/"), "url", "invalid IPv4 address");
    CHECK_REFUSED(PARSE("url", "wss://1.2.3.4.5/"), "url", "invalid IPv4 address");
    CHECK_REFUSED(PARSE("url", "wss://127.0.0.1./"), "url", "invalid IPv4 address");
    /* Not a number to libcurl either: a name, looked up as written. */
    CHECK_EQ_INT(PARSE("url", "wss://0x7f.1.2.3.4/"), PT_OK);
    CHECK_STR_EQ(cfg.host, "0x7f.1.2.3.4");
    CHECK(host_is_curls());
}

TEST(url_target_is_path_and_query_as_libcurl_reads_them)
{
    CHECK_EQ_INT(PARSE("url", "wss://b.example"), PT_OK);
    CHECK_STR_EQ(cfg.target, "/");
    CHECK_EQ_INT(PARSE("url", "wss://b.example:65535?q"), PT_OK);
    CHECK_STR_EQ(cfg.target, "/?q");
    CHECK_EQ_INT(PARSE("url", "wss://b.example/a/../v1/compat?x=1&y=a@b"), PT_OK);
    CHECK_STR_EQ(cfg.target, "/v1/compat?x=1&y=a@b");
}

TEST(config_free_releases_and_wipes)
{
    CHECK_EQ_INT(PARSE("url", URL, "proxy", "http://u:pw@proxy.example:3128"), PT_OK);
    CHECK(cfg.curlu != NULL);
    wss_config_free(&cfg);
    CHECK(is_zeroed(&cfg));
    wss_config_free(&cfg); /* a freed (zeroed) config again */
    wss_config_free(NULL);
}

TEST(url_scheme_is_case_insensitive)
{
    CHECK_EQ_INT(PARSE("url", "WSS://B.Example/v1"), PT_OK);
    CHECK_EQ_INT(cfg.tls, 1);
    CHECK_STR_EQ(cfg.host, "B.Example");
    CHECK_STR_EQ(cfg.url, "WSS://B.Example/v1");
}

TEST(url_path_and_query_are_kept)
{
    CHECK_EQ_INT(PARSE("url", "wss://b.example/v1/compat?region=eu&x=a@b"), PT_OK);
    CHECK_STR_EQ(cfg.url, "wss://b.example/v1/compat?region=eu&x=a@b");
    CHECK_STR_EQ(cfg.host, "b.example");
}

TEST(url_ws_is_refused_without_allow_plaintext)
{
    CHECK_EQ_INT(PARSE("url", "ws://b.example/v1"), PT_EOPTION);
    CHECK_STR_EQ(err, "wss: option \"url\": ws:// is plaintext; use wss://, or set "
                      "allow-plaintext=true for tests");
    CHECK(is_zeroed(&cfg));
    CHECK_REFUSED(PARSE("url", "ws://b.example/v1", "allow-plaintext", "false"), "url",
                  "plaintext");
}

TEST(url_ws_is_accepted_with_allow_plaintext)
{
    CHECK_EQ_INT(PARSE("url", "ws://127.0.0.1:8080/v1", "allow-plaintext", "true"), PT_OK);
    CHECK_EQ_INT(cfg.tls, 0);
    CHECK_EQ_INT(cfg.allow_plaintext, 1);
}

TEST(url_other_schemes_are_refused)
{
    static const char *const bad[] = { "https://b.example/", "http://b.example/",
                                       "wsss://b.example/", "w://b.example/", "://b.example/",
                                       "ftp://b.example/" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_REFUSED(PARSE("url", bad[i]), "url", "unsupported scheme; use wss://");
}

TEST(url_without_scheme_is_refused)
{
    CHECK_REFUSED(PARSE("url", "b.example:443/v1"), "url", "expected wss://HOST[:PORT]/PATH");
}

TEST(url_with_userinfo_is_refused_without_showing_the_password)
{
    CHECK_REFUSED(PARSE("url", "wss://bob:" SECRET "@b.example/v1"), "url",
                  "user name or password");
    CHECK_STR_CONTAINS(err, "wss://bob:***@b.example/v1");
    CHECK(strstr(err, SECRET) == NULL);
    CHECK_REFUSED(PARSE("url", "wss://bob@b.example/v1"), "url", "user name or password");
}

TEST(url_password_with_a_slash_is_never_shown)
{
    /* The '/' ends the authority early, so this fails as a bad port; the
     * message must still hide everything up to the last '@'. */
    CHECK_REFUSED(PARSE("url", "wss://bob:ab/" SECRET "@b.example/v1"), "url", "port");
    CHECK(strstr(err, SECRET) == NULL);
    CHECK(strstr(err, "ab/") == NULL);
    CHECK_STR_CONTAINS(err, "***");
}

TEST(url_empty_host_is_refused)
{
    CHECK_REFUSED(PARSE("url", "wss:///v1"), "url", "empty host");
    CHECK_REFUSED(PARSE("url", "wss://"), "url", "empty host");
    CHECK_REFUSED(PARSE("url", "wss://:443/v1"), "url", "empty host");
    CHECK_REFUSED(PARSE("url", "wss://[]:443/v1"), "url", "empty host");
}

TEST(url_port_zero_is_refused)
{
    CHECK_REFUSED(PARSE("url", "wss://b.example:0/"), "url",
                  "port must be a number from 1 to 65535");
}

TEST(url_port_65536_is_refused)
{
    CHECK_REFUSED(PARSE("url", "wss://b.example:65536/"), "url",
                  "port must be a number from 1 to 65535");
    CHECK_REFUSED(PARSE("url", "wss://b.example:99999999999/"), "url", "port");
}

TEST(url_port_that_is_not_digits_is_refused)
{
    CHECK_REFUSED(PARSE("url", "wss://b.example:abc/"), "url", "port");
    CHECK_REFUSED(PARSE("url", "wss://b.example:/"), "url", "port");
    CHECK_REFUSED(PARSE("url", "wss://b.example:+443/"), "url", "port");
    CHECK_REFUSED(PARSE("url", "wss://[::1]:x/"), "url", "port");
}

TEST(url_fragment_is_refused)
{
    CHECK_REFUSED(PARSE("url", "wss://b.example/v1#top"), "url", "#fragment");
}

TEST(url_bad_ipv6_forms_are_refused)
{
    CHECK_REFUSED(PARSE("url", "wss://::1:8443/"), "url", "must be in brackets");
    CHECK_REFUSED(PARSE("url", "wss://[::1/"), "url", "missing ']'");
    CHECK_REFUSED(PARSE("url", "wss://[zz::1]/"), "url", "invalid IPv6 address");
    CHECK_REFUSED(PARSE("url", "wss://[::1]x/"), "url", "after ']'");
}

TEST(url_bad_host_characters_are_refused)
{
    CHECK_REFUSED(PARSE("url", "wss://b%2eexample/"), "url", "invalid character in host");
    CHECK_REFUSED(PARSE("url", "wss://b.example\\x/"), "url", "invalid character in host");
}

TEST(url_bad_ipv4_is_refused)
{
    CHECK_REFUSED(PARSE("url", "wss://192.0.2.300/"), "url", "invalid IPv4 address");
}

TEST(url_with_space_or_control_is_refused)
{
    CHECK_REFUSED(PARSE("url", "wss://b.example/a b"), "url", "space or control");
    CHECK_REFUSED(PARSE("url", "wss://b.example/\n"), "url", "space or control");
    CHECK(strchr(err, '\n') == NULL);
}

TEST(url_longest_is_accepted_and_longer_refused)
{
    static char u[WSS_CONFIG_URL_MAX + 2];
    memcpy(u, "wss://b.example/", 16);
    memset(u + 16, 'a', WSS_CONFIG_URL_MAX - 16);
    u[WSS_CONFIG_URL_MAX] = '\0';
    CHECK_EQ_INT(PARSE("url", u), PT_OK);
    CHECK_EQ_INT(strlen(cfg.url), WSS_CONFIG_URL_MAX);
    u[WSS_CONFIG_URL_MAX] = 'a';
    u[WSS_CONFIG_URL_MAX + 1] = '\0';
    CHECK_REFUSED(PARSE("url", u), "url", "longer than 2047 characters");
}

TEST(url_host_name_too_long_is_refused)
{
    static char u[300];
    memcpy(u, "wss://", 6);
    memset(u + 6, 'h', 253);
    strcpy(u + 6 + 253, "/x");
    CHECK_EQ_INT(PARSE("url", u), PT_OK);
    CHECK_EQ_INT(strlen(cfg.host), 253);
    memset(u + 6, 'h', 254);
    strcpy(u + 6 + 254, "/x");
    CHECK_REFUSED(PARSE("url", u), "url", "longer than 253");
}

TEST(url_error_quotes_are_cut)
{
    static char u[600];
    memcpy(u, "wss://b.example:0/", 18);
    memset(u + 18, 'p', 500);
    u[518] = '\0';
    CHECK_REFUSED(PARSE("url", u), "url", "port");
    CHECK_STR_CONTAINS(err, "...");
    CHECK(strlen(err) < 200);
}

/* ---- tls-trust and ca-file --------------------------------------------- */

TEST(tls_trust_valid_forms)
{
    CHECK_EQ_INT(with("tls-trust", "system"), PT_OK);
    CHECK_EQ_INT(cfg.trust, WSS_TRUST_SYSTEM);
    CHECK_EQ_INT(with("tls-trust", "pinned"), PT_OK);
    CHECK_EQ_INT(cfg.trust, WSS_TRUST_PINNED);
    CHECK_EQ_INT(with("tls-trust", "SYSTEM"), PT_OK);
    CHECK_EQ_INT(cfg.trust, WSS_TRUST_SYSTEM);
}

TEST(tls_trust_invalid_is_refused)
{
    CHECK_REFUSED(with("tls-trust", "none"), "tls-trust", "expected pinned or system");
    CHECK_STR_CONTAINS(err, "\"none\"");
    CHECK_REFUSED(with("tls-trust", ""), "tls-trust", "expected pinned or system");
}

TEST(ca_file_is_kept)
{
    CHECK_EQ_INT(with("ca-file", "/etc/pilot/ca.pem"), PT_OK);
    CHECK_STR_EQ(cfg.ca_file, "/etc/pilot/ca.pem");
    CHECK_EQ_INT(cfg.trust, WSS_TRUST_PINNED);
}

TEST(ca_file_with_explicit_pinned_is_accepted)
{
    CHECK_EQ_INT(PARSE("url", URL, "tls-trust", "pinned", "ca-file", "ca.pem"), PT_OK);
    CHECK_STR_EQ(cfg.ca_file, "ca.pem");
}

TEST(ca_file_empty_is_refused)
{
    CHECK_REFUSED(with("ca-file", ""), "ca-file", "empty path");
}

TEST(ca_file_too_long_is_refused)
{
    static char p[WSS_CONFIG_PATH_MAX + 2];
    memset(p, 'c', WSS_CONFIG_PATH_MAX);
    CHECK_EQ_INT(with("ca-file", p), PT_OK);
    p[WSS_CONFIG_PATH_MAX] = 'c';
    CHECK_REFUSED(with("ca-file", p), "ca-file", "longer than 4095");
}

TEST(ca_file_with_system_trust_is_refused)
{
    CHECK_REFUSED(PARSE("url", URL, "tls-trust", "system", "ca-file", "ca.pem"), "ca-file",
                  "cannot be combined with tls-trust=system");
}

/* ---- pin-sha256 -------------------------------------------------------- */

static int pin_is_0_to_31(void)
{
    for (int i = 0; i < 32; i++)
        if (cfg.pin_sha256[i] != i)
            return 0;
    return 1;
}

TEST(pin_plain_base64_is_decoded)
{
    CHECK_EQ_INT(with("pin-sha256", PIN_B64), PT_OK);
    CHECK_EQ_INT(cfg.has_pin, 1);
    CHECK(pin_is_0_to_31());
}

TEST(pin_with_sha256_prefix_is_decoded)
{
    CHECK_EQ_INT(with("pin-sha256", "sha256//" PIN_B64), PT_OK);
    CHECK_EQ_INT(cfg.has_pin, 1);
    CHECK(pin_is_0_to_31());
}

TEST(pin_of_wrong_length_is_refused)
{
    CHECK_REFUSED(with("pin-sha256", "AAECAwQ="), "pin-sha256", "(got 8 characters)");
    CHECK_REFUSED(with("pin-sha256", PIN_B64 "A"), "pin-sha256", "(got 45 characters)");
    CHECK_REFUSED(with("pin-sha256", ""), "pin-sha256", "(got 0 characters)");
    CHECK_REFUSED(with("pin-sha256", "sha256//"), "pin-sha256", "(got 0 characters)");
    /* curl's list of several pins is not supported. */
    CHECK_REFUSED(with("pin-sha256", "sha256//" PIN_B64 ";sha256//" PIN_B64), "pin-sha256",
                  "44 characters");
    /* 48 bytes (SHA-384 size) in base64 is 64 characters. */
    CHECK_REFUSED(with("pin-sha256", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss"
                                     "LS4v"),
                  "pin-sha256", "(got 64 characters)");
}

TEST(pin_bad_base64_is_refused)
{
    /* 44 characters each, all wrong. */
    CHECK_REFUSED(with("pin-sha256", "!AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="), "pin-sha256",
                  "not the standard base64 of 32 bytes");
    CHECK_REFUSED(with("pin-sha256", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A"), "pin-sha256",
                  "not the standard base64");
    CHECK_REFUSED(with("pin-sha256", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH==="), "pin-sha256",
                  "not the standard base64");
    CHECK_REFUSED(with("pin-sha256", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw dh8="), "pin-sha256",
                  "not the standard base64");
    /* base64url alphabet. */
    CHECK_REFUSED(with("pin-sha256", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-h8="), "pin-sha256",
                  "not the standard base64");
}

TEST(pin_non_canonical_base64_is_refused)
{
    CHECK_REFUSED(with("pin-sha256", PIN_NONCANONICAL), "pin-sha256", "not the standard base64");
}

TEST(pin_prefix_is_case_sensitive)
{
    CHECK_REFUSED(with("pin-sha256", "SHA256//" PIN_B64), "pin-sha256", "(got 52 characters)");
}

/* ---- proxy ------------------------------------------------------------- */

TEST(proxy_keywords)
{
    CHECK_EQ_INT(with("proxy", "off"), PT_OK);
    CHECK_EQ_INT(cfg.proxy_mode, WSS_PROXY_OFF);
    CHECK_STR_EQ(cfg.proxy_url, "");
    CHECK_EQ_INT(with("proxy", "auto"), PT_OK);
    CHECK_EQ_INT(cfg.proxy_mode, WSS_PROXY_AUTO);
    CHECK_EQ_INT(with("proxy", "OFF"), PT_OK);
    CHECK_EQ_INT(cfg.proxy_mode, WSS_PROXY_OFF);
}

TEST(proxy_http_url_forms_are_accepted)
{
    static const char *const good[] = {
        "http://proxy.example",          "http://proxy.example:3128",
        "http://proxy.example:3128/",    "HTTP://10.0.0.1:8080",
        "http://[::1]:3128",             "http://alice:" SECRET "@proxy.example:3128",
        "http://alice@proxy.example",    "http://alice:p@ss@proxy.example:3128",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_EQ_INT(with("proxy", good[i]), PT_OK);
        CHECK_EQ_INT(cfg.proxy_mode, WSS_PROXY_URL);
        CHECK_STR_EQ(cfg.proxy_url, good[i]);
    }
}

/* TLS to the proxy itself (an https:// proxy): accepted since issue 11. */
TEST(proxy_https_is_accepted)
{
    CHECK_EQ_INT(with("proxy", "https://alice:" SECRET "@proxy.example:3129"), PT_OK);
    CHECK_EQ_INT(cfg.proxy_mode, WSS_PROXY_URL);
    CHECK_STR_EQ(cfg.proxy_url, "https://alice:" SECRET "@proxy.example:3129");
}

/* ---- proxy URLs taken apart (wss_config_proxy_parse) ------------------- */

static wss_proxy_url pu;

TEST(proxy_url_parts_and_libcurl_defaults)
{
    CHECK_EQ_INT(wss_config_proxy_parse("http://proxy.example", "x", 0, 1, &pu, err, sizeof err),
                 PT_OK);
    CHECK_EQ_INT(pu.tls, 0);
    CHECK_EQ_INT(pu.port, 1080); /* libcurl's default for a proxy */
    CHECK_STR_EQ(pu.bare, "http://proxy.example:1080");
    CHECK_STR_EQ(pu.shown, "http://proxy.example:1080");
    CHECK_EQ_INT(pu.has_user, 0);
    CHECK_EQ_INT(wss_config_proxy_parse("HTTPS://[::1]/", "x", 0, 1, &pu, err, sizeof err),
                 PT_OK);
    CHECK_EQ_INT(pu.tls, 1);
    CHECK_EQ_INT(pu.port, 443);
    CHECK_STR_EQ(pu.host, "::1");
    CHECK_STR_EQ(pu.bare, "https://[::1]:443");
}

/* The credentials leave the URL: libcurl gets the bare URL and the decoded
 * user and password apart; the shown form stars the password. */
TEST(proxy_url_credentials_are_split_and_decoded)
{
    CHECK_EQ_INT(wss_config_proxy_parse("http://al%40ice:p%3Aw%25d@ss@proxy.example:3128", "x", 0,
                                        1, &pu, err, sizeof err),
                 PT_OK);
    CHECK_STR_EQ(pu.user, "al@ice");
    CHECK_STR_EQ(pu.password, "p:w%d@ss");
    CHECK_STR_EQ(pu.bare, "http://proxy.example:3128");
    CHECK_STR_EQ(pu.shown, "http://al@ice:***@proxy.example:3128");
    CHECK_EQ_INT(wss_config_proxy_parse("http://bob@proxy.example:3128", "x", 0, 1, &pu, err,
                                        sizeof err),
                 PT_OK);
    CHECK_EQ_INT(pu.has_user, 1);
    CHECK_EQ_INT(pu.has_password, 0);
    CHECK_STR_EQ(pu.shown, "http://bob@proxy.example:3128");
    /* A '%' without two hex digits stays, as libcurl reads it. */
    CHECK_EQ_INT(wss_config_proxy_parse("http://u:50%@h:1", "x", 0, 1, &pu, err, sizeof err),
                 PT_OK);
    CHECK_STR_EQ(pu.password, "50%");
}

TEST(proxy_url_refusals)
{
    CHECK_EQ_INT(wss_config_proxy_parse("http://u:a%00b@h:1", "https_proxy", 0, 1, &pu, err,
                                        sizeof err),
                 PT_EOPTION);
    CHECK_STR_CONTAINS(err, "wss: https_proxy: the user name or password decodes to a NUL");
    CHECK_EQ_INT(wss_config_proxy_parse("http://a%3Ab:pw@h:1", "x", 0, 1, &pu, err, sizeof err),
                 PT_EOPTION);
    CHECK_STR_CONTAINS(err, "user name holds a ':'");
    CHECK_EQ_INT(wss_config_proxy_parse("socks5://h:1", "all_proxy", 1, 1, &pu, err, sizeof err),
                 PT_EOPTION);
    CHECK_STR_CONTAINS(err, "wss: all_proxy: only http:// and https:// proxies are supported");
}

/* Environment values may leave the scheme out, as curl allows. */
TEST(proxy_url_scheme_optional_for_the_environment)
{
    CHECK_EQ_INT(wss_config_proxy_parse("alice:" SECRET "@proxy.example:3128", "https_proxy", 1,
                                        1, &pu, err, sizeof err),
                 PT_OK);
    CHECK_STR_EQ(pu.bare, "http://proxy.example:3128");
    CHECK_STR_EQ(pu.password, SECRET);
    CHECK_EQ_INT(wss_config_proxy_parse("proxy.example:3128", "x", 0, 1, &pu, err, sizeof err),
                 PT_EOPTION);
}

/* proxy-cmd's output is a secret as a whole: never quoted. */
TEST(proxy_url_without_quote_never_shows_the_value)
{
    CHECK_EQ_INT(wss_config_proxy_parse("http://alice:" SECRET "@proxy.example:99999",
                                        "proxy-cmd's output is not a proxy URL", 1, 0, &pu, err,
                                        sizeof err),
                 PT_EOPTION);
    CHECK_STR_CONTAINS(err, "wss: proxy-cmd's output is not a proxy URL: port must be");
    CHECK(strstr(err, "alice") == NULL && strstr(err, "proxy.example") == NULL);
    CHECK(strstr(err, SECRET) == NULL);
    CHECK_EQ_INT(wss_config_proxy_parse(SECRET " x", "y", 1, 0, &pu, err, sizeof err),
                 PT_EOPTION);
    CHECK(strstr(err, SECRET) == NULL);
}

/* ---- proxy-cmd, proxy-ca-file, tls-resume ------------------------------ */

TEST(proxy_cmd_is_accepted_with_quotes)
{
    CHECK_EQ_INT(with("proxy-cmd", "sh -c 'cat \"$HOME/p\" | head -n 1'"), PT_OK);
    CHECK_EQ_INT(cfg.proxy_mode, WSS_PROXY_CMD);
    CHECK_STR_EQ(cfg.proxy_cmd, "sh -c 'cat \"$HOME/p\" | head -n 1'");
    CHECK_STR_EQ(cfg.proxy_url, "");
}

TEST(proxy_cmd_refusals)
{
    CHECK_REFUSED(with("proxy-cmd", ""), "proxy-cmd", "it is empty");
    CHECK_REFUSED(with("proxy-cmd", "   "), "proxy-cmd", "it is empty");
    CHECK_REFUSED(with("proxy-cmd", "sh -c 'echo"), "proxy-cmd", "single quote is not closed");
    CHECK_REFUSED(with("proxy-cmd", "pass show p | head -1"), "proxy-cmd",
                  "no shell runs it: name one, e.g. sh -c '...'");
    CHECK_REFUSED(with("proxy-cmd", "get\npw"), "proxy-cmd", "control character");
}

/* Both name the proxy: which one would win is not guessed. */
TEST(proxy_and_proxy_cmd_are_exclusive)
{
    CHECK_EQ_INT(PARSE("url", URL, "proxy", "http://h:1", "proxy-cmd", "cat /p"), PT_EOPTION);
    CHECK_STR_CONTAINS(err, "options \"proxy\" and \"proxy-cmd\" both name the proxy");
    CHECK(is_zeroed(&cfg));
    /* proxy=off too: it is a choice as well. */
    CHECK_EQ_INT(PARSE("url", URL, "proxy-cmd", "cat /p", "proxy", "off"), PT_EOPTION);
}

TEST(proxy_ca_file_and_tls_resume)
{
    CHECK_EQ_INT(PARSE("url", URL, "proxy-ca-file", "/etc/p.pem", "tls-resume", "false"), PT_OK);
    CHECK_STR_EQ(cfg.proxy_ca_file, "/etc/p.pem");
    CHECK_EQ_INT(cfg.tls_resume, 0);
    CHECK_REFUSED(with("proxy-ca-file", ""), "proxy-ca-file", "empty path");
    CHECK_REFUSED(with("tls-resume", "maybe"), "tls-resume", "expected true or false");
}

TEST(proxy_other_values_are_refused)
{
    CHECK_REFUSED(with("proxy", "socks5://proxy.example:1080"), "proxy",
                  "expected auto, off or http://");
    CHECK_REFUSED(with("proxy", "proxy.example:3128"), "proxy", "expected auto, off or http://");
    CHECK_REFUSED(with("proxy", ""), "proxy", "expected auto, off or http://");
    CHECK_REFUSED(with("proxy", "on"), "proxy", "expected auto, off or http://");
}

TEST(proxy_without_host_is_refused)
{
    CHECK_REFUSED(with("proxy", "http://"), "proxy", "empty host");
    CHECK_REFUSED(with("proxy", "http://:3128"), "proxy", "empty host");
    CHECK_REFUSED(with("proxy", "http://alice:pw@"), "proxy", "empty host");
}

TEST(proxy_bad_port_is_refused)
{
    CHECK_REFUSED(with("proxy", "http://proxy.example:0"), "proxy", "port");
    CHECK_REFUSED(with("proxy", "http://proxy.example:70000"), "proxy", "port");
}

TEST(proxy_with_path_is_refused)
{
    CHECK_REFUSED(with("proxy", "http://proxy.example:3128/x"), "proxy",
                  "no path, query or fragment");
    CHECK_REFUSED(with("proxy", "http://proxy.example?x"), "proxy", "no path, query or fragment");
}

/* Every invalid proxy value holding SECRET as a password: each is refused,
 * the message shows *** and never the password. */
TEST(proxy_errors_never_show_the_password)
{
    static const char *const bad[] = {
        "http://alice:" SECRET "@proxy.example:99999",
        "http://alice:" SECRET "@:3128",
        "http://alice:" SECRET "@proxy.example/path",
        "http://alice:" SECRET "@proxy%example",
        "https://alice:" SECRET "@proxy.example:0",
        "socks5://alice:" SECRET "@proxy.example",
        "alice:" SECRET "@proxy.example:3128",
        "http://alice:x/" SECRET "@proxy.example",
        "http://alice:x?" SECRET "@proxy.example",
        "http://alice:x#" SECRET "@proxy.example",
        "http://alice:" SECRET "@proxy.example/a b",
        "http://alice:" SECRET "@proxy.example/a://b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_REFUSED(with("proxy", bad[i]), "proxy", "***");
        CHECK(strstr(err, SECRET) == NULL);
        if (strstr(err, SECRET))
            printf("# leaked by %s: %s\n", bad[i], err);
    }
}

TEST(proxy_error_shows_user_and_host)
{
    CHECK_REFUSED(with("proxy", "http://alice:" SECRET "@proxy.example:99999"), "proxy",
                  "\"http://alice:***@proxy.example:99999\"");
}

/* ---- durations, recv-buffer, allow-plaintext --------------------------- */

TEST(durations_valid_forms)
{
    CHECK_EQ_INT(PARSE("url", URL, "dial-timeout", "1m30s", "idle-ping", "100ms",
                       "pong-timeout", "1ms"),
                 PT_OK);
    CHECK_EQ_INT(cfg.dial_timeout_ms, 90000);
    CHECK_EQ_INT(cfg.idle_ping_ms, 100);
    CHECK_EQ_INT(cfg.pong_timeout_ms, 1);
    CHECK_EQ_INT(PARSE("url", URL, "dial-timeout", "10m", "idle-ping", "1h", "pong-timeout",
                       "10m"),
                 PT_OK);
    CHECK_EQ_INT(cfg.dial_timeout_ms, 600000);
    CHECK_EQ_INT(cfg.idle_ping_ms, 3600000);
    CHECK_EQ_INT(cfg.pong_timeout_ms, 600000);
}

TEST(idle_ping_invalid_duration_is_refused)
{
    CHECK_EQ_INT(with("idle-ping", "abc"), PT_EOPTION);
    CHECK_STR_EQ(err, "wss: option \"idle-ping\": invalid duration \"abc\" (e.g. 250ms, 20s, 1m)");
    CHECK(is_zeroed(&cfg));
}

TEST(durations_invalid_forms_are_refused)
{
    static const char *const keys[] = { "dial-timeout", "idle-ping", "pong-timeout" };
    static const char *const bad[] = { "", "5", "-1s", "5 s", "s", "1d", "1.s.", "5S" };
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            CHECK_EQ_INT(with(keys[k], bad[i]), PT_EOPTION);
            CHECK_STR_CONTAINS(err, keys[k]);
            CHECK_STR_CONTAINS(err, "invalid duration");
        }
}

TEST(dial_timeout_out_of_range_is_refused)
{
    CHECK_REFUSED(with("dial-timeout", "0"), "dial-timeout", "\"0\" is out of range (1ms..10m)");
    CHECK_REFUSED(with("dial-timeout", "0s"), "dial-timeout", "out of range");
    CHECK_REFUSED(with("dial-timeout", "10m1ms"), "dial-timeout", "out of range");
}

TEST(idle_ping_out_of_range_is_refused)
{
    CHECK_REFUSED(with("idle-ping", "99ms"), "idle-ping", "out of range (100ms..1h)");
    CHECK_REFUSED(with("idle-ping", "61m"), "idle-ping", "out of range (100ms..1h)");
}

TEST(pong_timeout_out_of_range_is_refused)
{
    CHECK_REFUSED(with("pong-timeout", "0"), "pong-timeout", "out of range (1ms..10m)");
    CHECK_REFUSED(with("pong-timeout", "11m"), "pong-timeout", "out of range (1ms..10m)");
}

TEST(recv_buffer_valid_bounds)
{
    CHECK_EQ_INT(with("recv-buffer", "1"), PT_OK);
    CHECK_EQ_INT(cfg.recv_buffer, 1);
    CHECK_EQ_INT(with("recv-buffer", "65536"), PT_OK);
    CHECK_EQ_INT(cfg.recv_buffer, 65536);
}

TEST(recv_buffer_out_of_range_is_refused)
{
    CHECK_REFUSED(with("recv-buffer", "0"), "recv-buffer", "\"0\" is out of range (1..65536)");
    CHECK_REFUSED(with("recv-buffer", "65537"), "recv-buffer", "out of range (1..65536)");
}

TEST(recv_buffer_not_a_number_is_refused)
{
    static const char *const bad[] = { "", "abc", "-1", "1k", " 5", "99999999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_REFUSED(with("recv-buffer", bad[i]), "recv-buffer", "invalid number of frames");
}

TEST(allow_plaintext_valid_forms)
{
    static const char *const yes[] = { "true", "yes", "on", "1", "TRUE" };
    static const char *const no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        CHECK_EQ_INT(with("allow-plaintext", yes[i]), PT_OK);
        CHECK_EQ_INT(cfg.allow_plaintext, 1);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        CHECK_EQ_INT(with("allow-plaintext", no[i]), PT_OK);
        CHECK_EQ_INT(cfg.allow_plaintext, 0);
    }
}

TEST(allow_plaintext_invalid_is_refused)
{
    CHECK_REFUSED(with("allow-plaintext", "maybe"), "allow-plaintext",
                  "expected true or false (got \"maybe\")");
    CHECK_REFUSED(with("allow-plaintext", ""), "allow-plaintext", "expected true or false");
}

/* ---- wss_config_redact_url --------------------------------------------- */

static const char *redact(const char *url)
{
    static char out[256];
    memset(out, 'X', sizeof out);
    return wss_config_redact_url(url, out, sizeof out);
}

TEST(redact_replaces_the_password)
{
    CHECK_STR_EQ(redact("http://alice:" SECRET "@proxy:3128"), "http://alice:***@proxy:3128");
    CHECK_STR_EQ(redact("http://alice:@proxy"), "http://alice:***@proxy");
    CHECK_STR_EQ(redact("http://:" SECRET "@proxy"), "http://:***@proxy");
}

TEST(redact_leaves_urls_without_password_alone)
{
    CHECK_STR_EQ(redact("http://proxy.example:3128/"), "http://proxy.example:3128/");
    CHECK_STR_EQ(redact("http://alice@proxy"), "http://alice@proxy");
    CHECK_STR_EQ(redact("wss://b.example/a@b"), "wss://b.example/a@b");
    CHECK_STR_EQ(redact("auto"), "auto");
    CHECK_STR_EQ(redact(""), "");
    CHECK_STR_EQ(redact(NULL), "");
}

TEST(redact_hides_passwords_with_special_characters)
{
    CHECK_STR_EQ(redact("http://alice:p@ss@proxy"), "http://alice:***@proxy");
    CHECK_STR_EQ(redact("http://alice:a/b?c#d@proxy/x"), "http://alice:***@proxy/x");
    CHECK_STR_EQ(redact("http://alice:pw@proxy/a://b"), "http://alice:***@proxy/a://b");
}

TEST(redact_without_scheme)
{
    CHECK_STR_EQ(redact("alice:" SECRET "@proxy:3128"), "alice:***@proxy:3128");
    /* "://" after the user part is not a scheme. */
    CHECK_STR_EQ(redact("alice:" SECRET "@h/x://y"), "alice:***@h/x://y");
}

TEST(redact_cuts_to_the_buffer)
{
    char out[12];
    CHECK(wss_config_redact_url("http://alice:" SECRET "@proxy", out, sizeof out) == out);
    CHECK_STR_EQ(out, "http://alic");
    CHECK(wss_config_redact_url("http://a:b@c", NULL, 10) == NULL);
    out[0] = 'Z';
    wss_config_redact_url("http://a:b@c", out, 0);
    CHECK_EQ_INT(out[0], 'Z');
}

int main(void)
{
    RUN(defaults_with_just_url);
    RUN(option_table_documents_every_option_with_help);
    RUN(documented_defaults_match_spec);
    RUN(all_options_at_once);

    RUN(unknown_key_is_refused_naming_it);
    RUN(duplicate_key_is_refused);
    RUN(null_value_is_refused);
    RUN(bad_arguments_are_einval);
    RUN(message_fits_a_small_error_buffer);

    RUN(url_missing_is_required);
    RUN(url_empty_is_required);
    RUN(url_wss_default_port_443);
    RUN(url_ws_default_port_80);
    RUN(url_explicit_port);
    RUN(url_ipv6_literal_is_parsed_without_brackets);
    RUN(url_ipv4_literal);
    RUN(url_scheme_is_case_insensitive);
    RUN(url_path_and_query_are_kept);
    RUN(url_ws_is_refused_without_allow_plaintext);
    RUN(url_ws_is_accepted_with_allow_plaintext);
    RUN(url_other_schemes_are_refused);
    RUN(url_without_scheme_is_refused);
    RUN(url_with_userinfo_is_refused_without_showing_the_password);
    RUN(url_password_with_a_slash_is_never_shown);
    RUN(url_empty_host_is_refused);
    RUN(url_port_zero_is_refused);
    RUN(url_port_65536_is_refused);
    RUN(url_port_that_is_not_digits_is_refused);
    RUN(url_fragment_is_refused);
    RUN(url_bad_ipv6_forms_are_refused);
    RUN(url_bad_host_characters_are_refused);
    RUN(url_bad_ipv4_is_refused);
    RUN(url_with_space_or_control_is_refused);
    RUN(url_longest_is_accepted_and_longer_refused);
    RUN(url_host_name_too_long_is_refused);
    RUN(url_error_quotes_are_cut);

    RUN(tls_trust_valid_forms);
    RUN(tls_trust_invalid_is_refused);
    RUN(ca_file_is_kept);
    RUN(ca_file_with_explicit_pinned_is_accepted);
    RUN(ca_file_empty_is_refused);
    RUN(ca_file_too_long_is_refused);
    RUN(ca_file_with_system_trust_is_refused);

    RUN(pin_plain_base64_is_decoded);
    RUN(pin_with_sha256_prefix_is_decoded);
    RUN(pin_of_wrong_length_is_refused);
    RUN(pin_bad_base64_is_refused);
    RUN(pin_non_canonical_base64_is_refused);
    RUN(pin_prefix_is_case_sensitive);

    RUN(proxy_keywords);
    RUN(proxy_http_url_forms_are_accepted);
    RUN(proxy_https_is_accepted);
    RUN(proxy_url_parts_and_libcurl_defaults);
    RUN(proxy_url_credentials_are_split_and_decoded);
    RUN(proxy_url_refusals);
    RUN(proxy_url_scheme_optional_for_the_environment);
    RUN(proxy_url_without_quote_never_shows_the_value);
    RUN(proxy_cmd_is_accepted_with_quotes);
    RUN(proxy_cmd_refusals);
    RUN(proxy_and_proxy_cmd_are_exclusive);
    RUN(proxy_ca_file_and_tls_resume);
    RUN(proxy_other_values_are_refused);
    RUN(proxy_without_host_is_refused);
    RUN(proxy_bad_port_is_refused);
    RUN(proxy_with_path_is_refused);
    RUN(proxy_errors_never_show_the_password);
    RUN(proxy_error_shows_user_and_host);

    RUN(durations_valid_forms);
    RUN(idle_ping_invalid_duration_is_refused);
    RUN(durations_invalid_forms_are_refused);
    RUN(dial_timeout_out_of_range_is_refused);
    RUN(idle_ping_out_of_range_is_refused);
    RUN(pong_timeout_out_of_range_is_refused);
    RUN(recv_buffer_valid_bounds);
    RUN(recv_buffer_out_of_range_is_refused);
    RUN(recv_buffer_not_a_number_is_refused);
    RUN(allow_plaintext_valid_forms);
    RUN(allow_plaintext_invalid_is_refused);

    RUN(redact_replaces_the_password);
    RUN(redact_leaves_urls_without_password_alone);
    RUN(redact_hides_passwords_with_special_characters);
    RUN(redact_without_scheme);
    RUN(redact_cuts_to_the_buffer);

    RUN(url_numeric_hosts_are_named_as_libcurl_dials_them);
    RUN(url_numeric_host_libcurl_would_look_up_is_refused);
    RUN(url_target_is_path_and_query_as_libcurl_reads_them);
    RUN(config_free_releases_and_wipes);
    wss_config_free(&cfg);
    return tap_done();
}
