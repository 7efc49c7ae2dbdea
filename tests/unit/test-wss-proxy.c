/* test-wss-proxy.c -- the WSS plugin's proxy choice (proxy.c) and
 * proxy-cmd's runner (proxy_cmd.c) without a network: what libcurl is
 * told about NO_PROXY, the environment's order, and the command's
 * process: no inherited descriptor, stdin /dev/null, default signals, its
 * first line, a kill at the deadline or on close.  The integration through
 * real proxies is tests/proxy/wss-proxy.sh. */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "diag.h"
#include "proxy.h"
#include "proxy_cmd.h"
#include "secrets.h"
#include "tap.h"
#include "util.h"

static char err[PT_ERRMSG_MAX];
static char out[WSS_CONFIG_URL_MAX + 1];
static char tmpdir[] = "/tmp/pt-proxy.XXXXXX";

/* ---- The log: what the runner says at WARN ------------------------------ */

static char logged[2048];

static void on_log(void *userdata, int level, const char *msg)
{
    (void)userdata;
    size_t used = strlen(logged);
    snprintf(logged + used, sizeof logged - used, "%d:%s\n", level, msg);
}

static ptu_diag diag;

static int run(const char *cmd, int cancel_fd, int ms)
{
    logged[0] = '\0';
    err[0] = '\0';
    return wss_proxy_cmd_run(cmd, cancel_fd, ptu_now_ms() + ms, &diag, out, sizeof out, err,
                             sizeof err);
}

static void clear_env(void)
{
    const char *names[] = { "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY",
                            "all_proxy",   "ALL_PROXY",   "no_proxy",   "NO_PROXY" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unsetenv(names[i]);
}

static wss_config cfg;
static wss_proxy st;
static wss_proxy_choice ch;

static int configure(const char *key, const char *value)
{
    pt_option o[2] = { { "url", "wss://beacon.example/v1/compat" }, { key, value } };
    wss_config_free(&cfg);
    return wss_config_parse(o, key ? 2 : 1, &cfg, err, sizeof err);
}

static int choose(int rerun)
{
    wss_proxy_choice_wipe(&ch);
    return wss_proxy_choose(&st, &cfg, rerun, &diag, -1, ptu_now_ms() + 10000, &ch, err,
                            sizeof err);
}

/* ---- The choice ---------------------------------------------------------- */

/* Issue 11, defect 2: libcurl reads NO_PROXY itself unless told; for a
 * proxy the operator named, the plugin tells it "" (skip nothing). */
TEST(an_explicit_proxy_tells_libcurl_to_skip_nothing)
{
    clear_env();
    setenv("NO_PROXY", "beacon.example", 1);
    setenv("no_proxy", "*", 1);
    CHECK_EQ_INT(configure("proxy", "http://u:pw@proxy.example:3128"), PT_OK);
    CHECK_EQ_INT(choose(0), PT_OK);
    CHECK_EQ_INT(ch.configured, 1);
    CHECK_STR_EQ(ch.no_proxy, "");
    CHECK_STR_EQ(ch.url.bare, "http://proxy.example:3128");
    CHECK_STR_EQ(ch.from, "the proxy option");
    clear_env();
}

TEST(auto_reads_lowercase_first_and_hands_on_no_proxy)
{
    clear_env();
    CHECK_EQ_INT(configure(NULL, NULL), PT_OK);
    setenv("HTTPS_PROXY", "http://upper:1", 1);
    setenv("https_proxy", "http://lower:1", 1);
    setenv("NO_PROXY", "upper.example", 1);
    setenv("no_proxy", "lower.example", 1);
    CHECK_EQ_INT(choose(0), PT_OK);
    CHECK_STR_EQ(ch.url.host, "lower");
    CHECK_STR_EQ(ch.from, "https_proxy");
    CHECK_STR_EQ(ch.no_proxy, "lower.example");
    CHECK_STR_EQ(ch.no_proxy_var, "no_proxy");
    char line[400];
    wss_proxy_describe(&ch, 0, "lower.example", line, sizeof line);
    CHECK_STR_EQ(line, "no proxy: no_proxy matches lower.example (proxy http://lower:1 from "
                       "https_proxy skipped)");
    wss_proxy_describe(&ch, 1, "b", line, sizeof line);
    CHECK_STR_EQ(line, "proxy http://lower:1 from https_proxy");
    clear_env();
}

TEST(auto_for_plain_ws_never_reads_uppercase_http_proxy)
{
    pt_option o[2] = { { "url", "ws://beacon.example/" }, { "allow-plaintext", "true" } };
    clear_env();
    wss_config_free(&cfg);
    CHECK_EQ_INT(wss_config_parse(o, 2, &cfg, err, sizeof err), PT_OK);
    setenv("HTTP_PROXY", "http://from-a-request-header:1", 1);
    CHECK_EQ_INT(choose(0), PT_OK);
    CHECK_EQ_INT(ch.configured, 0);
    CHECK_STR_CONTAINS(ch.none, "none of http_proxy, all_proxy, ALL_PROXY is set");
    setenv("ALL_PROXY", "http://all:1", 1);
    CHECK_EQ_INT(choose(0), PT_OK);
    CHECK_STR_EQ(ch.url.host, "all");
    clear_env();
}

TEST(a_malformed_environment_proxy_is_a_proxy_error)
{
    clear_env();
    CHECK_EQ_INT(configure(NULL, NULL), PT_OK);
    setenv("https_proxy", "socks5://alice:pw123456@h:1", 1);
    CHECK_EQ_INT(choose(0), PT_EPROXY);
    CHECK_STR_CONTAINS(err, "wss: https_proxy: only http:// and https:// proxies");
    CHECK(strstr(err, "pw123456") == NULL);
    clear_env();
}

/* proxy-cmd runs before the first dial and again only when asked to. */
TEST(proxy_cmd_runs_first_and_again_only_on_request)
{
    char cmd[600], runs[300];
    snprintf(runs, sizeof runs, "%s/runs", tmpdir);
    snprintf(cmd, sizeof cmd, "sh -c 'echo x >>%s; echo http://u:pw123456@proxy.example:8080'",
             runs);
    CHECK_EQ_INT(configure("proxy-cmd", cmd), PT_OK);
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(choose(0), PT_OK);
    CHECK_EQ_INT(choose(0), PT_OK);
    CHECK_STR_EQ(ch.url.password, "pw123456");
    CHECK_STR_EQ(ch.no_proxy, "");
    struct stat sb;
    CHECK(stat(runs, &sb) == 0 && sb.st_size == 2); /* one run */
    CHECK_EQ_INT(choose(1), PT_OK);
    CHECK(stat(runs, &sb) == 0 && sb.st_size == 4); /* and one more */
    wss_proxy_choice_wipe(&ch);
    CHECK_STR_EQ(ch.url.password, "");
}

/* ---- The runner ---------------------------------------------------------- */

TEST(first_line_trimmed)
{
    CHECK_EQ_INT(run("printf ' \\t http://h:1 \\r\\nsecond line\\n'", -1, 5000), PT_OK);
    CHECK_STR_EQ(out, "http://h:1");
    CHECK_STR_EQ(logged, "");
}

TEST(no_descriptor_of_the_host_is_inherited)
{
    int fd = dup(1); /* without O_CLOEXEC, as a careless host might */
    char cmd[200];
    snprintf(cmd, sizeof cmd,
             "sh -c 'if test -e /proc/self/fd/%d; then echo leaked; else echo clean; fi'", fd);
    CHECK_EQ_INT(run(cmd, -1, 5000), PT_OK);
    CHECK_STR_EQ(out, "clean");
    close(fd);
}

TEST(stdin_is_dev_null)
{
    CHECK_EQ_INT(run("readlink /proc/self/fd/0", -1, 5000), PT_OK);
    CHECK_STR_EQ(out, "/dev/null");
}

/* A host that blocks or ignores SIGTERM does not hand that on. */
TEST(signals_are_at_their_defaults)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    signal(SIGTERM, SIG_IGN);
    CHECK_EQ_INT(run("sh -c 'kill -TERM $$; echo survived'", -1, 5000), PT_EPROXY);
    CHECK_STR_CONTAINS(err, "proxy-cmd \"sh\" was killed by signal 15");
    signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

TEST(a_first_line_longer_than_the_buffer_is_refused)
{
    char small[8];
    CHECK_EQ_INT(wss_proxy_cmd_run("echo http://h:12345", -1, ptu_now_ms() + 5000, NULL, small,
                                   sizeof small, err, sizeof err),
                 PT_EPROXY);
    CHECK_STR_CONTAINS(err, "printed a line longer than 7 bytes");
    CHECK_STR_EQ(small, "");
}

TEST(stderr_is_logged_at_warn_redacted_and_cut)
{
    CHECK_EQ_INT(run("sh -c 'echo \"login as http://bob:pw123456@h:1 refused\" >&2; "
                     "head -c 2000 /dev/zero | tr \"\\\\0\" x >&2; exit 2'",
                     -1, 5000),
                 PT_EPROXY);
    CHECK_STR_CONTAINS(err, "failed with exit status 2");
    CHECK_STR_CONTAINS(logged, "1:wss: proxy-cmd \"sh\" failed; its stderr: login as "
                               "http://bob:********@h:1 refused xxx");
    CHECK_STR_CONTAINS(logged, "xxx...\n");
    CHECK(strstr(logged, "pw123456") == NULL);
    CHECK(strlen(logged) < 450);
}

TEST(a_hung_command_is_killed_at_the_deadline)
{
    char cmd[400], pidfile[300], pid[32] = "";
    snprintf(pidfile, sizeof pidfile, "%s/hung.pid", tmpdir);
    snprintf(cmd, sizeof cmd, "sh -c 'echo $$ >%s; exec sleep 60'", pidfile);
    int64_t t0 = ptu_now_ms();
    CHECK_EQ_INT(run(cmd, -1, 300), PT_ETIMEDOUT);
    int64_t took = ptu_now_ms() - t0;
    printf("# killed after %lld ms\n", (long long)took);
    CHECK(took >= 300 && took < 20000);
    CHECK_STR_CONTAINS(err, "timed out running proxy-cmd \"sh\"");
    FILE *f = fopen(pidfile, "r");
    if (f) {
        if (!fgets(pid, sizeof pid, f))
            pid[0] = '\0';
        fclose(f);
    }
    CHECK(*pid && kill(atoi(pid), 0) != 0); /* killed and reaped */
}

/* close() during the command: it is killed, the dial says cancelled. */
TEST(close_kills_the_command)
{
    int efd = eventfd(0, EFD_CLOEXEC);
    uint64_t one = 1;
    CHECK(write(efd, &one, sizeof one) == sizeof one);
    int64_t t0 = ptu_now_ms();
    CHECK_EQ_INT(run("sleep 60", efd, 30000), PT_ECLOSED);
    CHECK(ptu_now_ms() - t0 < 10000);
    CHECK_STR_EQ(err, "wss dial: cancelled while running proxy-cmd");
    CHECK_STR_EQ(logged, ""); /* a close is no failure of the command */
    close(efd);
}

TEST(a_command_that_cannot_run_says_so)
{
    /* Under valgrind posix_spawn cannot hand exec's error back: the
     * child exits 127 instead, which the message reads as such. */
    int vg = getenv("PT_RUN") && strstr(getenv("PT_RUN"), "valgrind");
    CHECK_EQ_INT(run("/nonexistent/proxy-cmd --flag", -1, 5000), PT_EPROXY);
    CHECK_STR_CONTAINS(err, vg ? "\"/nonexistent/proxy-cmd\" failed with exit status 127 (not found"
                               : "cannot run proxy-cmd \"/nonexistent/proxy-cmd\": No such file");
    CHECK_EQ_INT(run("/dev/null", -1, 5000), PT_EPROXY);
    CHECK_STR_CONTAINS(err, vg ? "exit status 127" : "Permission denied");
    CHECK_EQ_INT(run("true", -1, 5000), PT_EPROXY);
    CHECK_STR_CONTAINS(err, "printed no proxy URL");
}

int main(void)
{
    pt_dial_params p = PT_DIAL_PARAMS_INIT;
    char rm[64];

    p.log = on_log;
    p.log_level = PT_LOG_WARN;
    ptu_diag_init(&diag, &p);
    secrets_register_password("test proxy password", "pw123456");
    if (!mkdtemp(tmpdir)) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    RUN(an_explicit_proxy_tells_libcurl_to_skip_nothing);
    RUN(auto_reads_lowercase_first_and_hands_on_no_proxy);
    RUN(auto_for_plain_ws_never_reads_uppercase_http_proxy);
    RUN(a_malformed_environment_proxy_is_a_proxy_error);
    RUN(proxy_cmd_runs_first_and_again_only_on_request);
    RUN(first_line_trimmed);
    RUN(no_descriptor_of_the_host_is_inherited);
    RUN(stdin_is_dev_null);
    RUN(signals_are_at_their_defaults);
    RUN(a_first_line_longer_than_the_buffer_is_refused);
    RUN(stderr_is_logged_at_warn_redacted_and_cut);
    RUN(a_hung_command_is_killed_at_the_deadline);
    RUN(close_kills_the_command);
    RUN(a_command_that_cannot_run_says_so);
    wss_proxy_choice_wipe(&ch);
    wss_config_free(&cfg);
    ptu_diag_destroy(&diag);
    snprintf(rm, sizeof rm, "rm -rf %s", tmpdir);
    if (system(rm) != 0)
        printf("# could not remove %s\n", tmpdir);
    return tap_done();
}
