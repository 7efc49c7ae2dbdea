/* test-wss-curl-mem.c -- libcurl's memory functions in the WSS plugin
 * (plugin/wss/curl_mem.h): what libcurl frees is wiped, a block libcurl
 * grows leaves no copy behind, and a process whose libcurl was set up
 * first (by the host) is told apart.  libcurl takes memory functions once
 * per process, so each case runs in a child of its own. */
#include "config.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "curl_mem.h"
#include "memscan.h"
#include "tap.h"

/* A secret no earlier code has seen, and its last 12 characters: what a
 * freed block keeps of it (memscan.h). */
static char secret[40];
static const char *tail;

static void fresh_secret(void)
{
    if (memscan_fresh_secret(secret, sizeof secret, "curl-mem-") != 0)
        abort();
    tail = secret + strlen(secret) - 12;
}

/* Copies of the secret's tail in this process's writable memory; the
 * exit status of a child (0..250). */
static int copies(void)
{
    char where[300];
    long n = memscan_count(tail, 12, where, sizeof where);
    return n < 0 ? 255 : n > 250 ? 250 : (int)n;
}

/* libcurl copies the secret and frees the copy (curl_maprintf, curl_free;
 * once the plain way, once grown over many reallocs); how many copies are
 * left.  Runs in the child. */
static int after_libcurl_frees(void)
{
    char *s = curl_maprintf("Proxy-Authorization: Basic %s\r\n", secret);
    if (!s)
        return 254;
    curl_free(s);
    /* 64 KiB built up piece by piece: libcurl's buffer grows (reallocs)
     * with the secret near its start. */
    char *big = curl_maprintf("%s%65536s", secret, "");
    if (!big)
        return 254;
    curl_free(big);
    return copies();
}

/* Run fn in a child; its exit status, or -1. */
static int in_child(int (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn());
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int plugin_first(void)
{
    if (wss_curl_mem_init() != CURLE_OK)
        return 253;
    if (!wss_curl_mem_wipes())
        return 252;
    return after_libcurl_frees();
}

static int host_first(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || wss_curl_mem_init() != CURLE_OK)
        return 253;
    if (wss_curl_mem_wipes())
        return 252;
    return after_libcurl_frees();
}

TEST(what_libcurl_frees_is_wiped)
{
    fresh_secret();
    int n = in_child(plugin_first);
    printf("# copies left after libcurl freed them: %d (252: libcurl did not take the functions)\n", n);
    CHECK_EQ_INT(n, 0);
}

/* The host set libcurl up first: the plugin says so (dial then warns when
 * it gives libcurl a proxy password), and the scan above is shown to see
 * what a plain free leaves. */
TEST(a_host_that_set_libcurl_up_first_is_told_apart)
{
    fresh_secret();
    int n = in_child(host_first);
    printf("# copies left after libcurl freed them with plain free: %d (252: the plugin "
           "believed its functions in use)\n", n);
    CHECK(n >= 1 && n <= 250);
}

int main(void)
{
    RUN(what_libcurl_frees_is_wiped);
    RUN(a_host_that_set_libcurl_up_first_is_told_apart);
    return tap_done();
}
