/*
 * test-loader.c -- the loader: search order, aliases, and every way a
 * plugin file can be unusable (the broken plugins of tests/plugins/).
 * Needs PILOT_TRANSPORT_DIR (the built plugins) and PT_TEST_PLUGINS (the
 * broken ones), which make check sets.  Linked with the tests' loader, whose
 * installed directory is $PT_TEST_INSTALLED_DIR: the tests that depend on
 * what is installed set it themselves, so they pass whatever this machine
 * has installed (tests/install.sh checks that).
 */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pilot_transport_loader.h"
#include "tap.h"
#include "util.h"

static char err[2048];
static const char *broken_dir, *plugin_dir, *installed_dir;
static char tmpdir[256], emptydir[300], installed_copy[1024];
static char seldir[300];  /* the fake probe as udp and wss */

/* Stand d in for the installed directory; NULL puts back the one the
 * program started with. */
static void set_installed_dir(const char *d)
{
    if (!d)
        d = installed_dir;
    if (d)
        setenv("PT_TEST_INSTALLED_DIR", d, 1);
    else
        unsetenv("PT_TEST_INSTALLED_DIR");
}

static int load(const char *mode, const char *dir, const pt_plugin **p)
{
    err[0] = '\0';
    return pt_loader_open(mode, dir, p, err, sizeof err);
}

static void copy_file(const char *from, const char *to)
{
    char buf[65536];
    ssize_t n;
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (in < 0 || out < 0) {
        printf("# cannot copy %s to %s\n", from, to);
        exit(1);
    }
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            exit(1);
    close(in);
    close(out);
}

TEST(loads_udp_plugin_from_env_dir)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("udp", NULL, &p), PT_OK);
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_STR_EQ(p->name, "udp");
    CHECK_EQ_INT(p->abi_major, PT_ABI_MAJOR);
    CHECK_EQ_INT(p->struct_size, sizeof(pt_plugin));
    CHECK(p->dial && p->send && p->recv && p->close && p->free);
}

TEST(mode_is_case_insensitive)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("UDP", NULL, &p), PT_OK);
    CHECK(p && strcmp(p->name, "udp") == 0);
}

TEST(same_plugin_loaded_twice_gives_same_descriptor)
{
    const pt_plugin *a = NULL, *b = NULL;
    CHECK_EQ_INT(load("udp", NULL, &a), PT_OK);
    CHECK_EQ_INT(load("udp", NULL, &b), PT_OK);
    CHECK(a && a == b);
}

TEST(compat_is_an_alias_of_wss)
{
    char buf[32];
    CHECK_EQ_INT(pt_loader_canonical_mode("compat", buf, sizeof buf), PT_OK);
    CHECK_STR_EQ(buf, "wss");
    CHECK_EQ_INT(pt_loader_canonical_mode("CoMpAt", buf, sizeof buf), PT_OK);
    CHECK_STR_EQ(buf, "wss");
    CHECK_EQ_INT(pt_loader_canonical_mode("WSS", buf, sizeof buf), PT_OK);
    CHECK_STR_EQ(buf, "wss");
}

TEST(compat_alias_loads_the_wss_file)
{
    const pt_plugin *p = NULL;
    char path[512];
    /* A stand-in pilot-transport-wss.so: "compat" must open exactly it. */
    snprintf(path, sizeof path, "%s/pilot-transport-wss.so", tmpdir);
    copy_file(strcat(strcpy(err, broken_dir), "/pilot-transport-newer.so"), path);
    CHECK_EQ_INT(load("compat", tmpdir, &p), PT_OK);
    CHECK(p && strcmp(p->name, "broken") == 0);
    unlink(path);
}

TEST(invalid_modes_are_refused)
{
    const char *bad[] = { "", "../udp", "a/b", "udp.so", "u dp",
                          "a-mode-name-that-is-far-too-long-to-be-real" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const pt_plugin *p = (const pt_plugin *)1;
        CHECK_EQ_INT(load(bad[i], NULL, &p), PT_EINVAL);
        CHECK(p == NULL);
        CHECK_STR_CONTAINS(err, "invalid transport mode");
    }
    CHECK_EQ_INT(load(NULL, NULL, NULL), PT_EINVAL);
}

TEST(not_found_says_where_it_looked)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("nosuch", "/no/such/dir", &p), PT_ENOTFOUND);
    CHECK_STR_CONTAINS(err, "pilot-transport-nosuch.so not found in /no/such/dir");
    CHECK_STR_CONTAINS(err, plugin_dir);
    CHECK_STR_CONTAINS(err, pt_loader_default_dir());
}

TEST(host_dir_is_searched_before_env_without_fallthrough)
{
    const pt_plugin *p = NULL;
    char path[512], from[512];
    /* A broken "udp" in the host's dir wins over the good one in the env
     * dir, and its failure is reported rather than silently skipped. */
    snprintf(path, sizeof path, "%s/pilot-transport-udp.so", tmpdir);
    snprintf(from, sizeof from, "%s/pilot-transport-badmajor.so", broken_dir);
    copy_file(from, path);
    CHECK_EQ_INT(load("udp", tmpdir, &p), PT_EABI);
    CHECK_STR_CONTAINS(err, path);
    unlink(path);
}

TEST(env_dir_is_used_when_no_host_dir)
{
    const pt_plugin *p = NULL;
    setenv("PILOT_TRANSPORT_DIR", broken_dir, 1);
    set_installed_dir(emptydir); /* nothing installed: no udp anywhere */
    CHECK_EQ_INT(load("newer", NULL, &p), PT_OK);
    CHECK_EQ_INT(load("udp", NULL, &p), PT_ENOTFOUND);
    CHECK_STR_CONTAINS(err, broken_dir);
    CHECK_STR_CONTAINS(err, emptydir);
    set_installed_dir(NULL);
    setenv("PILOT_TRANSPORT_DIR", plugin_dir, 1);
}

TEST(installed_dir_is_searched_last_without_fallthrough)
{
    const pt_plugin *p = NULL;
    char inst[300], path[512], from[512];
    /* A broken "udp" installed; the good one in the env dir shadows it. */
    snprintf(inst, sizeof inst, "%s/installed", tmpdir);
    snprintf(path, sizeof path, "%s/pilot-transport-udp.so", inst);
    snprintf(from, sizeof from, "%s/pilot-transport-badmajor.so", broken_dir);
    CHECK_EQ_INT(mkdir(inst, 0700), 0);
    copy_file(from, path);
    set_installed_dir(inst);
    CHECK_STR_EQ(pt_loader_default_dir(), inst);
    CHECK_EQ_INT(load("udp", NULL, &p), PT_OK);
    CHECK(p && strcmp(p->name, "udp") == 0);
    /* Nothing earlier has it: the installed one is loaded, and its
     * failure reported. */
    unsetenv("PILOT_TRANSPORT_DIR");
    CHECK_EQ_INT(load("udp", NULL, &p), PT_EABI);
    CHECK_STR_CONTAINS(err, path);
    setenv("PILOT_TRANSPORT_DIR", plugin_dir, 1);
    set_installed_dir(NULL);
    unlink(path);
    rmdir(inst);
}

TEST(wrong_major_is_refused_with_both_versions)
{
    const pt_plugin *p = NULL;
    char want[64];
    CHECK_EQ_INT(load("badmajor", broken_dir, &p), PT_EABI);
    CHECK(p == NULL);
    snprintf(want, sizeof want, "plugin ABI %d.3, host ABI %d.%d", PT_ABI_MAJOR + 1,
             PT_ABI_MAJOR, PT_ABI_MINOR);
    CHECK_STR_CONTAINS(err, want);
}

TEST(short_descriptor_is_refused)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("short", broken_dir, &p), PT_ELOAD);
    CHECK_STR_CONTAINS(err, "descriptor too small");
    CHECK(p == NULL);
}

TEST(header_only_descriptor_is_refused)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("headeronly", broken_dir, &p), PT_ELOAD);
    CHECK_STR_CONTAINS(err, "descriptor too small (4 bytes");
}

TEST(missing_entry_symbol_is_refused)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("noentry", broken_dir, &p), PT_ELOAD);
    CHECK_STR_CONTAINS(err, "no " PT_ENTRY_SYMBOL " symbol");
}

TEST(entry_returning_null_is_refused)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("nulldesc", broken_dir, &p), PT_ELOAD);
    CHECK_STR_CONTAINS(err, "returned no descriptor");
}

TEST(missing_mandatory_function_is_named)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("nullfn", broken_dir, &p), PT_ELOAD);
    CHECK_STR_CONTAINS(err, "mandatory function send() missing");
}

TEST(descriptor_without_name_is_refused)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("noname", broken_dir, &p), PT_ELOAD);
    CHECK_STR_CONTAINS(err, "no name");
}

TEST(dlopen_error_text_is_reported)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("undefined", broken_dir, &p), PT_ELOAD);
    CHECK_STR_CONTAINS(err, "cannot load");
    CHECK_STR_CONTAINS(err, "pt_test_symbol_that_does_not_exist");
}

TEST(file_that_is_not_a_shared_object_is_refused)
{
    const pt_plugin *p = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/pilot-transport-garbage.so", tmpdir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("this is not an ELF file\n", f);
    fclose(f);
    CHECK_EQ_INT(load("garbage", tmpdir, &p), PT_ELOAD);
    CHECK_STR_CONTAINS(err, "cannot load");
    CHECK_STR_CONTAINS(err, path);
    unlink(path);
}

TEST(newer_minor_loads_and_extra_slots_are_hidden)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("newer", broken_dir, &p), PT_OK);
    if (!p)
        return;
    CHECK_EQ_INT(p->abi_minor, 9);
    /* The host sees a descriptor of its own size, never past it, with
     * every slot it knows read from the plugin. */
    CHECK_EQ_INT(p->struct_size, sizeof(pt_plugin));
    CHECK(p->send_many != NULL && p->recv_many != NULL && p->probe != NULL);
}

TEST(plugin_built_for_1_0_has_no_send_many)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("v10", broken_dir, &p), PT_OK);
    if (!p)
        return;
    CHECK_EQ_INT(p->abi_minor, 0);
    CHECK_EQ_INT(p->struct_size, PT_PLUGIN_V1_0_SIZE);
    /* Its descriptor stops before send_many: the slots read NULL. */
    CHECK(p->send_many == NULL);
    CHECK(p->recv_many == NULL && p->probe == NULL);
    CHECK(p->free != NULL);
}

TEST(plugin_built_for_1_1_has_no_recv_many_or_probe)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("v11", broken_dir, &p), PT_OK);
    if (!p)
        return;
    CHECK_EQ_INT(p->abi_minor, 1);
    CHECK_EQ_INT(p->struct_size, PT_PLUGIN_SIZE_1_1);
    CHECK(p->send_many != NULL);
    /* The fixture sets them past its struct_size: they must not show. */
    CHECK(p->recv_many == NULL);
    CHECK(p->probe == NULL);
}

TEST(descriptor_shorter_than_its_minor_is_refused)
{
    const pt_plugin *p = NULL;
    char want[128];
    /* Declares 1.2 with 1.1's size: its recv_many and probe are not there. */
    CHECK_EQ_INT(load("short12", broken_dir, &p), PT_ELOAD);
    CHECK(p == NULL);
    snprintf(want, sizeof want, "%u bytes, ABI %d.2 needs at least %zu",
             (unsigned)PT_PLUGIN_SIZE_1_1, PT_ABI_MAJOR, (size_t)PT_PLUGIN_SIZE_1_2);
    CHECK_STR_CONTAINS(err, "descriptor too small for the ABI it declares");
    CHECK_STR_CONTAINS(err, want);
    CHECK_STR_CONTAINS(err, "pilot-transport-short12.so");
}

TEST(current_plugins_provide_send_many)
{
    const pt_plugin *p = NULL;
    CHECK_EQ_INT(load("udp", NULL, &p), PT_OK);
    CHECK(p && p->send_many != NULL && p->abi_minor == PT_ABI_MINOR);
    p = NULL;
    CHECK_EQ_INT(load("wss", NULL, &p), PT_OK);
    CHECK(p && p->send_many != NULL && p->abi_minor == PT_ABI_MINOR);
}

struct seen {
    int udp, badmajor, total;
};

static void count(void *ud, const char *mode, const char *path)
{
    struct seen *s = ud;
    s->total++;
    s->udp += strcmp(mode, "udp") == 0;
    s->badmajor += strcmp(mode, "badmajor") == 0;
    CHECK(strstr(path, mode) != NULL);
}

TEST(list_finds_each_mode_once)
{
    struct seen s = { 0, 0, 0 };
    int n = pt_loader_list(broken_dir, count, &s);
    CHECK_EQ_INT(n, s.total);
    CHECK_EQ_INT(s.udp, 1);
    CHECK_EQ_INT(s.badmajor, 1);
    CHECK(n >= 10);
}

TEST(every_error_code_has_its_own_text)
{
    const int codes[] = { PT_OK, PT_ECLOSED, PT_ERECONNECTING, PT_ETIMEDOUT, PT_ETOOLARGE,
                          PT_EINVAL, PT_EOPTION, PT_EAUTH, PT_ETLS, PT_EIO, PT_ENOMEM,
                          PT_EPROTO, PT_EPROXY, PT_EUNSUPPORTED, PT_ENOTFOUND, PT_ELOAD,
                          PT_EABI };
    const size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        CHECK(strcmp(pt_strerror(codes[i]), "unknown error") != 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(pt_strerror(codes[i]), pt_strerror(codes[j])) != 0);
    }
    CHECK_STR_EQ(pt_strerror(-9999), "unknown error");
}

TEST(addresses_format_as_host_port)
{
    char buf[PT_ADDRSTRLEN];
    pt_addr a;
    memset(&a, 0, sizeof a);
    CHECK_STR_EQ(pt_addr_format(&a, buf, sizeof buf), "(none)");
    a.family = PT_AF_INET;
    a.port = 9000;
    a.ip[0] = 192, a.ip[1] = 0, a.ip[2] = 2, a.ip[3] = 1;
    CHECK_STR_EQ(pt_addr_format(&a, buf, sizeof buf), "192.0.2.1:9000");
    memset(a.ip, 0, sizeof a.ip);
    a.family = PT_AF_INET6;
    a.ip[15] = 1;
    CHECK_STR_EQ(pt_addr_format(&a, buf, sizeof buf), "[::1]:9000");
}


/* ---- pt_loader_select, against the fakeprobe fixture ----------------------
 * seldir holds tests/plugins' fakeprobe as pilot-transport-udp.so and
 * pilot-transport-wss.so; each side's options tell its probe what to
 * answer (fake-result, fake-detail, fake-delay-ms: tests/plugins/broken.c). */

/* Bounds: lower ones exact, upper ones generous (a busy 2-core machine). */
static int64_t ceiling_ms(int64_t ms)
{
    const char *s = getenv("PT_TIME_SCALE");
    int scale = s && atoi(s) > 1 ? atoi(s) : 1;
    return (ms + 3000) * scale;
}

struct side {
    pt_dial_params p;
    pt_option o[8];
};

/* A side's params from "key", "value", ... NULL; NULL kv: no params. */
static const pt_dial_params *side(struct side *sd, const char *const *kv)
{
    size_t n = 0;
    if (!kv)
        return NULL;
    sd->p = (pt_dial_params)PT_DIAL_PARAMS_INIT;
    for (; kv[0] && n < 8; kv += 2)
        sd->o[n++] = (pt_option){ kv[0], kv[1] };
    sd->p.options = sd->o;
    sd->p.n_options = n;
    return &sd->p;
}

static char sel_mode[16], sel_reason[1024];
static int64_t sel_ms;

static int select_in(const char *dir, const char *const *udp_kv, const char *const *compat_kv,
                     int timeout_ms)
{
    struct side u, c;
    pt_select_params sp = { .struct_size = sizeof sp, .timeout_ms = timeout_ms, .dir = dir };
    sp.udp = side(&u, udp_kv);
    sp.compat = side(&c, compat_kv);
    int64_t t0 = ptu_now_ms();
    int rc = pt_loader_select(&sp, sel_mode, sizeof sel_mode, sel_reason, sizeof sel_reason);
    sel_ms = ptu_now_ms() - t0;
    printf("# select: %d %s (%s) in %lld ms\n", rc, sel_mode, sel_reason, (long long)sel_ms);
    return rc;
}

static int sel(const char *const *udp_kv, const char *const *compat_kv, int timeout_ms)
{
    return select_in(seldir, udp_kv, compat_kv, timeout_ms);
}

static const char *const UDP_OK[] = { "fake-detail", "udp-beacon-said-hello", NULL };
static const char *const UDP_SILENT[] = { "fake-result", "timeout", "fake-detail",
                                          "no DiscoverReply", NULL };
static const char *const COMPAT_OK[] = { "fake-detail", "426-from-compat", NULL };
static const char *const COMPAT_IO[] = { "fake-result", "io", "fake-detail",
                                         "connection refused", NULL };

TEST(select_udp_when_the_udp_beacon_answers)
{
    CHECK_EQ_INT(sel(UDP_OK, COMPAT_OK, 2000), PT_OK);
    CHECK_STR_EQ(sel_mode, "udp");
    CHECK_STR_CONTAINS(sel_reason, "UDP beacon answered: udp-beacon-said-hello");
}

TEST(select_wss_when_only_the_compat_beacon_answers)
{
    CHECK_EQ_INT(sel(UDP_SILENT, COMPAT_OK, 2000), PT_OK);
    CHECK_STR_EQ(sel_mode, "wss");
    CHECK_STR_CONTAINS(sel_reason, "compat beacon answered: 426-from-compat");
    CHECK_STR_CONTAINS(sel_reason, "UDP beacon: timed out: no DiscoverReply");
}

TEST(select_wss_when_the_compat_check_fails_at_a_proxy)
{
    const char *const compat[] = { "fake-result", "proxy", "fake-detail",
                                   "proxy refused the CONNECT (403)", NULL };
    CHECK_EQ_INT(sel(UDP_SILENT, compat, 2000), PT_OK);
    CHECK_STR_EQ(sel_mode, "wss");
    CHECK_STR_CONTAINS(sel_reason, "failed at the proxy, the only way out");
    CHECK_STR_CONTAINS(sel_reason, "proxy refused the CONNECT (403)");
}

TEST(select_udp_degraded_when_nothing_answers)
{
    CHECK_EQ_INT(sel(UDP_SILENT, COMPAT_IO, 2000), PT_OK);
    CHECK_STR_EQ(sel_mode, "udp");
    CHECK_STR_CONTAINS(sel_reason, "nothing answered, starting degraded");
    CHECK_STR_CONTAINS(sel_reason, "UDP beacon: timed out: no DiscoverReply");
    CHECK_STR_CONTAINS(sel_reason, "compat beacon: I/O error: connection refused");
}

TEST(a_compat_answer_waits_for_the_udp_probe)
{
    const char *const udp[] = { "fake-delay-ms", "400", NULL };
    CHECK_EQ_INT(sel(udp, COMPAT_OK, 5000), PT_OK);
    CHECK_STR_EQ(sel_mode, "udp");
    CHECK(sel_ms >= 400);
}

TEST(a_udp_answer_cancels_the_compat_probe)
{
    const char *const compat[] = { "fake-delay-ms", "60000", NULL };
    CHECK_EQ_INT(sel(UDP_OK, compat, 60000), PT_OK);
    CHECK_STR_EQ(sel_mode, "udp");
    CHECK(sel_ms < ceiling_ms(0));
}

TEST(the_probes_run_at_the_same_time)
{
    const char *const udp[] = { "fake-result", "timeout", "fake-delay-ms", "3000", NULL };
    const char *const compat[] = { "fake-result", "io", "fake-delay-ms", "3000", NULL };
    CHECK_EQ_INT(sel(udp, compat, 10000), PT_OK);
    CHECK_STR_EQ(sel_mode, "udp");
    /* One after the other would take 6 s. */
    CHECK(sel_ms >= 3000);
    CHECK(sel_ms < 6000);
}

TEST(the_budget_defaults_to_3000_ms)
{
    const char *const udp[] = { NULL }; /* its detail tells the budget */
    CHECK_EQ_INT(sel(udp, NULL, 0), PT_OK);
    CHECK_STR_CONTAINS(sel_reason, "fake probe answered (budget 3000 ms)");
    CHECK_EQ_INT(sel(udp, NULL, -5), PT_OK);
    CHECK_STR_CONTAINS(sel_reason, "(budget 3000 ms)");
    CHECK_EQ_INT(sel(udp, NULL, 1234), PT_OK);
    CHECK_STR_CONTAINS(sel_reason, "(budget 1234 ms)");
}

TEST(a_side_without_params_is_not_asked)
{
    CHECK_EQ_INT(sel(NULL, COMPAT_OK, 2000), PT_OK);
    CHECK_STR_EQ(sel_mode, "wss");
    CHECK_STR_CONTAINS(sel_reason, "UDP beacon: not asked");
    CHECK_EQ_INT(sel(NULL, NULL, 2000), PT_OK);
    CHECK_STR_EQ(sel_mode, "udp");
    CHECK_STR_CONTAINS(sel_reason, "starting degraded");
}

TEST(a_missing_plugin_counts_as_not_answering)
{
    char dir[400], from[512], to[512];
    snprintf(dir, sizeof dir, "%s/only-wss", tmpdir);
    snprintf(from, sizeof from, "%s/pilot-transport-fakeprobe.so", broken_dir);
    snprintf(to, sizeof to, "%s/pilot-transport-wss.so", dir);
    CHECK_EQ_INT(mkdir(dir, 0700), 0);
    copy_file(from, to);
    unsetenv("PILOT_TRANSPORT_DIR"); /* no udp anywhere */
    set_installed_dir(emptydir);
    CHECK_EQ_INT(select_in(dir, UDP_OK, COMPAT_OK, 2000), PT_OK);
    CHECK_STR_EQ(sel_mode, "wss");
    CHECK_STR_CONTAINS(sel_reason, "UDP beacon: no udp plugin: no plugin for transport");
    setenv("PILOT_TRANSPORT_DIR", plugin_dir, 1);
    set_installed_dir(NULL);
    unlink(to);
    rmdir(dir);
}

TEST(a_plugin_without_probe_counts_as_not_answering)
{
    char dir[400], from[512], to[512];
    snprintf(dir, sizeof dir, "%s/v11-udp", tmpdir);
    CHECK_EQ_INT(mkdir(dir, 0700), 0);
    snprintf(from, sizeof from, "%s/pilot-transport-v11.so", broken_dir);
    snprintf(to, sizeof to, "%s/pilot-transport-udp.so", dir);
    copy_file(from, to);
    snprintf(from, sizeof from, "%s/pilot-transport-fakeprobe.so", broken_dir);
    snprintf(to, sizeof to, "%s/pilot-transport-wss.so", dir);
    copy_file(from, to);
    CHECK_EQ_INT(select_in(dir, UDP_OK, COMPAT_OK, 2000), PT_OK);
    CHECK_STR_EQ(sel_mode, "wss");
    CHECK_STR_CONTAINS(sel_reason, "the udp plugin 0.0.0-test (ABI 1.1) has no probe");
    unlink(to);
    snprintf(to, sizeof to, "%s/pilot-transport-udp.so", dir);
    unlink(to);
    rmdir(dir);
}

TEST(the_reason_never_holds_credentials)
{
    /* The compat side's proxy (as -proxy or PILOT_PROXY would put it), a
     * percent-encoded one, one in the environment, and a detail that
     * repeats them and carries userinfo of its own, over two lines. */
    const char *const compat[] = {
        "proxy", "http://bob:Sup3rS3cretPw@proxy.example:3128",
        "proxy-2", "http://dave:p%40ss%21word9@proxy.example",
        "fake-result", "proxy",
        "fake-detail", "proxy http://bob:Sup3rS3cretPw@proxy.example:3128 said 407;\n"
                       "raw Sup3rS3cretPw, decoded p@ss!word9, env envPassw0rd1,\r"
                       " token (https://t0kenValue99@h/) bare carol:pa55word77@h2:8080",
        NULL };
    static const char *const secrets[] = { "Sup3rS3cretPw", "p@ss!word9", "p%40ss%21word9",
                                           "envPassw0rd1", "t0kenValue99", "pa55word77" };
    setenv("https_proxy", "http://erin:envPassw0rd1@proxy.example:3128", 1);
    CHECK_EQ_INT(sel(UDP_SILENT, compat, 2000), PT_OK);
    unsetenv("https_proxy");
    CHECK_STR_EQ(sel_mode, "wss");
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(sel_reason, secrets[i])) {
            printf("# the reason holds %s\n", secrets[i]);
            CHECK(0);
        }
    CHECK_STR_CONTAINS(sel_reason, "http://bob:***@proxy.example:3128");
    CHECK_STR_CONTAINS(sel_reason, "https://***@h/");
    CHECK_STR_CONTAINS(sel_reason, "carol:***@h2:8080");
    CHECK(strchr(sel_reason, '\n') == NULL && strchr(sel_reason, '\r') == NULL);
    CHECK_STR_CONTAINS(sel_reason, "said 407; raw ***");
}

TEST(a_reason_that_does_not_fit_is_cut_visibly)
{
    struct side u;
    char mode[4], reason[40];
    pt_select_params sp = { .struct_size = sizeof sp, .timeout_ms = 2000, .dir = seldir };
    sp.udp = side(&u, UDP_OK);
    memset(reason, 'x', sizeof reason);
    CHECK_EQ_INT(pt_loader_select(&sp, mode, sizeof mode, reason, sizeof reason), PT_OK);
    CHECK_STR_EQ(mode, "udp");
    CHECK_EQ_INT(strlen(reason), sizeof reason - 1);
    CHECK_STR_CONTAINS(reason, "...");
}

struct delayed_write {
    int fd, ms;
};

/* The stimulus, not a synchronisation: write to fd after ms. */
static void *write_later(void *arg)
{
    struct delayed_write *d = arg;
    poll(NULL, 0, d->ms);
    if (write(d->fd, "x", 1) != 1)
        printf("# write_later failed\n");
    return NULL;
}

TEST(cancel_fd_in_the_params_cancels_both_probes)
{
    const char *const slow[] = { "fake-delay-ms", "60000", NULL };
    struct side u, c;
    int fds[2];
    pthread_t t;
    struct delayed_write d;
    pt_select_params sp = { .struct_size = sizeof sp, .timeout_ms = 60000, .dir = seldir };

    CHECK_EQ_INT(pipe(fds), 0);
    sp.udp = side(&u, slow);
    sp.compat = side(&c, slow);
    c.p.cancel_fd = fds[0]; /* either side's cancel_fd cancels the call */
    d = (struct delayed_write){ fds[1], 300 };
    CHECK_EQ_INT(pthread_create(&t, NULL, write_later, &d), 0);
    int64_t t0 = ptu_now_ms();
    int rc = pt_loader_select(&sp, sel_mode, sizeof sel_mode, sel_reason, sizeof sel_reason);
    int64_t ms = ptu_now_ms() - t0;
    pthread_join(t, NULL);
    printf("# cancelled in %lld ms: %s\n", (long long)ms, sel_reason);
    CHECK_EQ_INT(rc, PT_ECLOSED);
    CHECK_STR_EQ(sel_mode, "");
    CHECK_STR_CONTAINS(sel_reason, "cancelled");
    CHECK(ms >= 300);
    CHECK(ms < ceiling_ms(300));

    /* Already readable: at once. */
    t0 = ptu_now_ms();
    CHECK_EQ_INT(pt_loader_select(&sp, sel_mode, sizeof sel_mode, sel_reason, sizeof sel_reason),
                 PT_ECLOSED);
    CHECK(ptu_now_ms() - t0 < ceiling_ms(0));
    /* A 1.1 host's params have no cancel_fd: a zero there is not stdin. */
    c.p.struct_size = PT_DIAL_PARAMS_SIZE_1_0;
    u.p.struct_size = PT_DIAL_PARAMS_SIZE_1_0;
    sp.timeout_ms = 200;
    CHECK_EQ_INT(pt_loader_select(&sp, sel_mode, sizeof sel_mode, sel_reason, sizeof sel_reason),
                 PT_OK);
    CHECK_STR_EQ(sel_mode, "udp");
    CHECK_STR_CONTAINS(sel_reason, "starting degraded");
    close(fds[0]);
    close(fds[1]);
}

TEST(select_refuses_bad_calls)
{
    struct side u;
    char mode[8], reason[256];
    pt_select_params sp = { .struct_size = sizeof sp, .dir = seldir };
    CHECK_EQ_INT(pt_loader_select(NULL, mode, sizeof mode, reason, sizeof reason), PT_EINVAL);
    CHECK_STR_CONTAINS(reason, "no parameters");
    sp.struct_size = 8;
    CHECK_EQ_INT(pt_loader_select(&sp, mode, sizeof mode, reason, sizeof reason), PT_EINVAL);
    CHECK_STR_CONTAINS(reason, "pt_select_params too small");
    sp.struct_size = sizeof sp;
    CHECK_EQ_INT(pt_loader_select(&sp, mode, 3, reason, sizeof reason), PT_EINVAL);
    CHECK_STR_CONTAINS(reason, "mode buffer");
    CHECK_EQ_INT(pt_loader_select(&sp, NULL, 0, reason, sizeof reason), PT_EINVAL);
    CHECK_EQ_INT(pt_loader_select(&sp, mode, sizeof mode, NULL, 0), PT_EINVAL);
    sp.udp = side(&u, UDP_OK);
    u.p.struct_size = 8;
    CHECK_EQ_INT(pt_loader_select(&sp, mode, sizeof mode, reason, sizeof reason), PT_EINVAL);
    CHECK_STR_CONTAINS(reason, "smaller than ABI 1.0");
    CHECK_STR_EQ(mode, "");
}

int main(void)
{
    broken_dir = getenv("PT_TEST_PLUGINS");
    plugin_dir = getenv("PILOT_TRANSPORT_DIR");
    /* A copy: setenv may replace the string getenv returned. */
    if (getenv("PT_TEST_INSTALLED_DIR")) {
        snprintf(installed_copy, sizeof installed_copy, "%s", getenv("PT_TEST_INSTALLED_DIR"));
        installed_dir = installed_copy;
    }
    if (!broken_dir || !plugin_dir) {
        printf("Bail out! PT_TEST_PLUGINS and PILOT_TRANSPORT_DIR must be set (run via make check)\n");
        return 1;
    }
    snprintf(tmpdir, sizeof tmpdir, "%s/pt-loader-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        printf("Bail out! mkdtemp failed\n");
        return 1;
    }
    snprintf(emptydir, sizeof emptydir, "%s/empty", tmpdir);
    if (mkdir(emptydir, 0700) != 0) {
        printf("Bail out! cannot make %s\n", emptydir);
        return 1;
    }
    snprintf(seldir, sizeof seldir, "%s/select", tmpdir);
    if (mkdir(seldir, 0700) != 0) {
        printf("Bail out! cannot make %s\n", seldir);
        return 1;
    }
    {
        char from[512], to[512];
        snprintf(from, sizeof from, "%s/pilot-transport-fakeprobe.so", broken_dir);
        snprintf(to, sizeof to, "%s/pilot-transport-udp.so", seldir);
        copy_file(from, to);
        snprintf(to, sizeof to, "%s/pilot-transport-wss.so", seldir);
        copy_file(from, to);
    }
    RUN(loads_udp_plugin_from_env_dir);
    RUN(mode_is_case_insensitive);
    RUN(same_plugin_loaded_twice_gives_same_descriptor);
    RUN(compat_is_an_alias_of_wss);
    RUN(compat_alias_loads_the_wss_file);
    RUN(invalid_modes_are_refused);
    RUN(not_found_says_where_it_looked);
    RUN(host_dir_is_searched_before_env_without_fallthrough);
    RUN(env_dir_is_used_when_no_host_dir);
    RUN(installed_dir_is_searched_last_without_fallthrough);
    RUN(wrong_major_is_refused_with_both_versions);
    RUN(short_descriptor_is_refused);
    RUN(header_only_descriptor_is_refused);
    RUN(missing_entry_symbol_is_refused);
    RUN(entry_returning_null_is_refused);
    RUN(missing_mandatory_function_is_named);
    RUN(descriptor_without_name_is_refused);
    RUN(dlopen_error_text_is_reported);
    RUN(file_that_is_not_a_shared_object_is_refused);
    RUN(newer_minor_loads_and_extra_slots_are_hidden);
    RUN(plugin_built_for_1_0_has_no_send_many);
    RUN(plugin_built_for_1_1_has_no_recv_many_or_probe);
    RUN(descriptor_shorter_than_its_minor_is_refused);
    RUN(current_plugins_provide_send_many);
    RUN(list_finds_each_mode_once);
    RUN(every_error_code_has_its_own_text);
    RUN(addresses_format_as_host_port);
    RUN(select_udp_when_the_udp_beacon_answers);
    RUN(select_wss_when_only_the_compat_beacon_answers);
    RUN(select_wss_when_the_compat_check_fails_at_a_proxy);
    RUN(select_udp_degraded_when_nothing_answers);
    RUN(a_compat_answer_waits_for_the_udp_probe);
    RUN(a_udp_answer_cancels_the_compat_probe);
    RUN(the_probes_run_at_the_same_time);
    RUN(the_budget_defaults_to_3000_ms);
    RUN(a_side_without_params_is_not_asked);
    RUN(a_missing_plugin_counts_as_not_answering);
    RUN(a_plugin_without_probe_counts_as_not_answering);
    RUN(the_reason_never_holds_credentials);
    RUN(a_reason_that_does_not_fit_is_cut_visibly);
    RUN(cancel_fd_in_the_params_cancels_both_probes);
    RUN(select_refuses_bad_calls);
    {
        char path[512];
        snprintf(path, sizeof path, "%s/pilot-transport-udp.so", seldir);
        unlink(path);
        snprintf(path, sizeof path, "%s/pilot-transport-wss.so", seldir);
        unlink(path);
        rmdir(seldir);
    }
    rmdir(emptydir);
    rmdir(tmpdir);
    return tap_done();
}
