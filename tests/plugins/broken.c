/*
 * broken.c -- deliberately broken transport plugins for the loader tests.
 * Built once per BROKEN_* macro (see Makefile.am); each variant breaks one
 * rule the loader must check, except BROKEN_NEWER, which is a valid plugin
 * from a future minor version with a larger descriptor, BROKEN_V10 and
 * BROKEN_V11, valid plugins built for ABI 1.0 and 1.1, and BROKEN_FAKEPROBE,
 * a valid 1.2 plugin whose probe answers what its options tell it (for
 * pt_loader_select's tests, which copy it in as "udp" and "wss").
 *
 * The fake probe's options (others are ignored):
 *   fake-result  ok (default), timeout, proxy, tls, io, proto, option
 *   fake-detail  the detail it writes (default "fake probe answered
 *                (budget N ms)", N the timeout it was given)
 *   fake-delay-ms  wait this long first (bounded by the budget: a delay
 *                past it ends in PT_ETIMEDOUT at the budget), returning
 *                PT_ECLOSED at once when cancel_fd polls readable
 */
#include "config.h"

#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pilot_transport.h"

static int b_dial(const pt_dial_params *p, pt_conn **out, char *err, size_t len)
{
    (void)p;
    *out = NULL;
    if (len)
        strncpy(err, "broken plugin: dial not implemented", len - 1)[len - 1] = '\0';
    return PT_EUNSUPPORTED;
}
__attribute__((unused)) static int b_send(pt_conn *c, const void *b, size_t l, const pt_addr *d)
{
    (void)c, (void)b, (void)l, (void)d;
    return PT_EUNSUPPORTED;
}
static int b_recv(pt_conn *c, void *b, size_t l, pt_addr *s, int t)
{
    (void)c, (void)b, (void)l, (void)s, (void)t;
    return PT_EUNSUPPORTED;
}
static int b_close(pt_conn *c)
{
    (void)c;
    return PT_OK;
}
static int b_local(pt_conn *c, pt_addr *a)
{
    (void)c, (void)a;
    return PT_EUNSUPPORTED;
}
static int b_fd(pt_conn *c)
{
    (void)c;
    return PT_EUNSUPPORTED;
}
static int b_stats(pt_conn *c, pt_stats *s)
{
    (void)c, (void)s;
    return PT_EUNSUPPORTED;
}
static int b_err(pt_conn *c, char *b, size_t l)
{
    (void)c, (void)b, (void)l;
    return PT_OK;
}
static void b_free(pt_conn *c)
{
    (void)c;
}
static int b_send_many(pt_conn *c, const pt_frame *f, size_t n)
{
    (void)c, (void)f, (void)n;
    return PT_EUNSUPPORTED;
}

static int b_recv_many(pt_conn *c, pt_rframe *f, size_t n, int t)
{
    (void)c, (void)f, (void)n, (void)t;
    return PT_EIO;
}

static const char *fake_option(const pt_dial_params *p, const char *key, const char *dflt)
{
    for (size_t i = 0; p->options && i < p->n_options; i++)
        if (p->options[i].key && strcmp(p->options[i].key, key) == 0)
            return p->options[i].value;
    return dflt;
}

static long long fake_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fake_probe(const pt_dial_params *p, int timeout_ms, char *detail, size_t len)
{
    static const struct { const char *name; int code; } results[] = {
        { "ok", PT_OK },          { "timeout", PT_ETIMEDOUT }, { "proxy", PT_EPROXY },
        { "tls", PT_ETLS },       { "io", PT_EIO },            { "proto", PT_EPROTO },
        { "option", PT_EOPTION },
    };
    const char *result, *text;
    long long delay, deadline;
    int code = -1, cancel_fd = -1;

    if (!p || !PT_HAS_FIELD(p, pt_dial_params, log_level) || timeout_ms <= 0 ||
        (!detail && len))
        return PT_EINVAL;
    result = fake_option(p, "fake-result", "ok");
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++)
        if (strcmp(result, results[i].name) == 0)
            code = results[i].code;
    if (code == -1)
        return PT_EINVAL;
    if (PT_HAS_FIELD(p, pt_dial_params, cancel_fd) && p->abi_minor >= 2)
        cancel_fd = p->cancel_fd;
    delay = atoll(fake_option(p, "fake-delay-ms", "0"));
    deadline = fake_now_ms() + (delay < timeout_ms ? delay : timeout_ms);
    for (;;) {
        long long left = deadline - fake_now_ms();
        struct pollfd pfd = { .fd = cancel_fd, .events = POLLIN };
        if (left <= 0)
            break;
        if (poll(&pfd, cancel_fd >= 0 ? 1 : 0, (int)left) > 0) {
            if (len)
                snprintf(detail, len, "fake probe cancelled");
            return PT_ECLOSED;
        }
    }
    if (delay >= timeout_ms) {
        if (len)
            snprintf(detail, len, "fake probe: no answer within %d ms", timeout_ms);
        return PT_ETIMEDOUT;
    }
    text = fake_option(p, "fake-detail", NULL);
    if (len) {
        if (text)
            snprintf(detail, len, "%s", text);
        else
            snprintf(detail, len, "fake probe answered (budget %d ms)", timeout_ms);
    }
    return code;
}

/* A descriptor from a "future" minor: the 1.0 layout plus one more slot. */
struct future_plugin {
    pt_plugin v1;
    int (*added_in_1_9)(pt_conn *c);
};

__attribute__((unused)) static const struct future_plugin desc = {
    .v1 = {
#if defined(BROKEN_SHORT)
        .struct_size = (uint32_t)offsetof(pt_plugin, free), /* free() left out */
#elif defined(BROKEN_SHORT12)
        .struct_size = PT_PLUGIN_SIZE_1_1, /* claims 1.2 without its slots */
#elif defined(BROKEN_HEADERONLY)
        .struct_size = 4, /* not even room for the versions */
#elif defined(BROKEN_NEWER)
        .struct_size = sizeof(struct future_plugin),
#elif defined(BROKEN_V10)
        .struct_size = PT_PLUGIN_V1_0_SIZE, /* built before send_many existed */
#elif defined(BROKEN_V11)
        .struct_size = PT_PLUGIN_SIZE_1_1, /* built before recv_many and probe */
#else
        .struct_size = sizeof(pt_plugin),
#endif
#if defined(BROKEN_BADMAJOR)
        .abi_major = PT_ABI_MAJOR + 1,
        .abi_minor = 3,
#elif defined(BROKEN_NEWER)
        .abi_major = PT_ABI_MAJOR,
        .abi_minor = 9,
#elif defined(BROKEN_V10)
        .abi_major = PT_ABI_MAJOR,
        .abi_minor = 0,
#elif defined(BROKEN_V11)
        .abi_major = PT_ABI_MAJOR,
        .abi_minor = 1,
#else
        .abi_major = PT_ABI_MAJOR,
        .abi_minor = PT_ABI_MINOR,
#endif
#if defined(BROKEN_NONAME)
        .name = NULL,
#elif defined(BROKEN_FAKEPROBE)
        .name = "fakeprobe",
#else
        .name = "broken",
#endif
        .version = "0.0.0-test",
        .description = "a deliberately broken plugin for tests",
        .options = NULL,
        .dial = b_dial,
#if defined(BROKEN_NULLFN)
        .send = NULL,
#else
        .send = b_send,
#endif
        .recv = b_recv,
        .close = b_close,
        .local_addr = b_local,
        .poll_fd = b_fd,
        .stats = b_stats,
        .last_error = b_err,
        .free = b_free,
        /* Set even in the 1.0 and 1.1 variants: the loader must hide what
         * their struct_size leaves out. */
        .send_many = b_send_many,
        .recv_many = b_recv_many,
        .probe = fake_probe,
    },
    .added_in_1_9 = b_fd,
};

#if defined(BROKEN_UNDEFINED)
/* Resolved by nobody: dlopen(RTLD_NOW) must fail and say so. */
extern int pt_test_symbol_that_does_not_exist(void);
int pt_test_use_undefined(void);
int pt_test_use_undefined(void)
{
    return pt_test_symbol_that_does_not_exist();
}
#endif

#if defined(BROKEN_NOENTRY)
/* Exports something, but not the entry point. */
const pt_plugin *pilot_transport_plugin_v0(void);
const pt_plugin *pilot_transport_plugin_v0(void)
{
    return &desc.v1;
}
#else
const pt_plugin *PT_ENTRY(void);
const pt_plugin *PT_ENTRY(void)
{
#if defined(BROKEN_NULLDESC)
    return NULL;
#else
    return &desc.v1;
#endif
}
#endif
