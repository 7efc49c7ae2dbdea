/*
 * test-wss-curl-first.c -- a host that set libcurl up itself before it
 * loaded the WSS plugin.  libcurl then keeps the host's memory functions,
 * not the plugin's wiping ones (plugin/wss/curl_mem.h): the plugin still
 * works, and a dial that gives libcurl a proxy password says, once per
 * connection at WARN, that libcurl's copies are not wiped.  Against the
 * development beacon through a real tinyproxy with Basic auth.
 */
#include "config.h"

#include <curl/curl.h>

#include "harness.h"
#include "secrets.h"
#include "tap.h"

#define PW "curl-first-pw"
#define UNWIPED "its copies of the proxy password are freed without being wiped"

static log_book book;

TEST(a_proxy_password_given_to_a_host_s_libcurl_is_warned_of_once)
{
    beacon b;
    tinyproxy px;
    pt_conn *c = NULL;
    char url[128];
    if (beacon_and_tinyproxy(&b, &px, PW) != 0) {
        CHECK(0);
        return;
    }
    snprintf(url, sizeof url, "http://user:" PW "@127.0.0.1:%d", px.port);
    const char *kv[] = { "proxy", url, NULL };
    log_book_init(&book);
    CHECK_EQ_INT(dial_logged(&b, &me, kv, &book, PT_LOG_WARN, &c), PT_OK);
    if (c)
        CHECK_EQ_INT(stats_of(c).state, PT_STATE_CONNECTED);
    else
        printf("# %s\n", err);
    CHECK_EQ_INT((int)log_book_count(&book, UNWIPED), 1);
    CHECK_EQ_INT((int)log_book_count(&book, PW), 0); /* the warning names no secret */
    done(c);
    log_book_destroy(&book);
    tinyproxy_stop(&px);
    beacon_stop(&b);
}

/* Without a proxy password there is nothing to warn of. */
TEST(a_dial_without_a_proxy_password_does_not_warn)
{
    beacon b;
    pt_conn *c = NULL;
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    log_book_init(&book);
    CHECK_EQ_INT(dial_logged(&b, &me, NULL, &book, PT_LOG_WARN, &c), PT_OK);
    CHECK_EQ_INT((int)log_book_count(&book, "libcurl"), 0);
    done(c);
    log_book_destroy(&book);
    beacon_stop(&b);
}

int main(void)
{
    /* As the host would: libcurl first, the plugin after (harness_init). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        printf("Bail out! curl_global_init\n");
        return 1;
    }
    if (harness_init() != 0)
        return 1;
    tap_on_hang = harness_kill_children;
    secrets_register_password("tinyproxy password", PW);
    RUN(a_proxy_password_given_to_a_host_s_libcurl_is_warned_of_once);
    RUN(a_dial_without_a_proxy_password_does_not_warn);
    harness_cleanup();
    curl_global_cleanup();
    return tap_done();
}
