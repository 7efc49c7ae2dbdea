/*
 * broken.c -- deliberately broken transport plugins for the loader tests.
 * Built once per BROKEN_* macro (see Makefile.am); each variant breaks one
 * rule the loader must check, except BROKEN_NEWER, which is a valid plugin
 * from a future minor version with a larger descriptor.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

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

/* A descriptor from a "future" minor: the 1.0 layout plus one more slot. */
struct future_plugin {
    pt_plugin v1;
    int (*added_in_1_9)(pt_conn *c);
};

__attribute__((unused)) static const struct future_plugin desc = {
    .v1 = {
#if defined(BROKEN_SHORT)
        .struct_size = (uint32_t)offsetof(pt_plugin, free), /* free() left out */
#elif defined(BROKEN_HEADERONLY)
        .struct_size = 4, /* not even room for the versions */
#elif defined(BROKEN_NEWER)
        .struct_size = sizeof(struct future_plugin),
#elif defined(BROKEN_V10)
        .struct_size = PT_PLUGIN_V1_0_SIZE, /* built before send_many existed */
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
#else
        .abi_major = PT_ABI_MAJOR,
        .abi_minor = PT_ABI_MINOR,
#endif
#if defined(BROKEN_NONAME)
        .name = NULL,
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
        /* Set even in the 1.0 variant: the loader must hide it there. */
        .send_many = b_send_many,
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
