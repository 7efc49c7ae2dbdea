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
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pilot_transport_loader.h"
#include "tap.h"

static char err[2048];
static const char *broken_dir, *plugin_dir, *installed_dir;
static char tmpdir[256], emptydir[300], installed_copy[1024];

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
    rmdir(emptydir);
    rmdir(tmpdir);
    return tap_done();
}
