/*
 * check_descriptor.c -- the descriptor the entry point returns, as the
 * plugin built it (not the loader's host-sized copy): versions, exact
 * size for its minor, names, option documentation, function slots.
 */
#include "config.h"

#include "conformance.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static void entry_static(struct cx *x)
{
    void *h = dlopen(x->t->path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    void *sym = h ? dlsym(h, PT_ENTRY_SYMBOL) : NULL;
    pt_entry_fn entry;
    if (!sym) {
        cx_fail(x, "no %s symbol", PT_ENTRY_SYMBOL);
        return;
    }
    memcpy(&entry, &sym, sizeof entry);
    const pt_plugin *a = entry(), *b = entry();
    EXPECT(x, a && a == b && a == x->t->raw,
           "%s() returned %p, then %p: want the same static descriptor every time",
           PT_ENTRY_SYMBOL, (const void *)a, (const void *)b);
}

static void versions(struct cx *x)
{
    const pt_plugin *r = x->t->raw;
    cx_note(x, "plugin ABI %u.%u, struct_size %u; this suite is ABI %d.%d",
            (unsigned)r->abi_major, (unsigned)r->abi_minor, (unsigned)r->struct_size,
            PT_ABI_MAJOR, PT_ABI_MINOR);
    EXPECT(x, r->abi_major == PT_ABI_MAJOR, "abi_major is %u, want %d (the entry symbol's)",
           (unsigned)r->abi_major, PT_ABI_MAJOR);
}

/* struct_size is sizeof(pt_plugin) as built: exactly the size of its minor. */
static void exact_size(struct cx *x)
{
    static const size_t sizes[] = { PT_PLUGIN_SIZE_1_0, PT_PLUGIN_SIZE_1_1, PT_PLUGIN_SIZE_1_2 };
    const pt_plugin *r = x->t->raw;
    size_t n = sizeof sizes / sizeof sizes[0];
    if (r->abi_minor < n)
        EXPECT(x, r->struct_size == sizes[r->abi_minor],
               "struct_size is %u, want %zu: the exact size of a 1.%u descriptor",
               (unsigned)r->struct_size, sizes[r->abi_minor], (unsigned)r->abi_minor);
    else
        EXPECT(x, r->struct_size >= sizes[n - 1],
               "struct_size is %u for ABI 1.%u: smaller than a 1.%zu descriptor (%zu)",
               (unsigned)r->struct_size, (unsigned)r->abi_minor, n - 1, sizes[n - 1]);
}

static void names(struct cx *x)
{
    const pt_plugin *r = x->t->raw;
    EXPECT(x, r->name && strcmp(r->name, x->t->mode) == 0,
           "name is \"%s\", want \"%s\" (the mode its file is named for)",
           r->name ? r->name : "(null)", x->t->mode);
    EXPECT(x, r->version && *r->version, "version is %s", r->version ? "empty" : "NULL");
    EXPECT(x, r->description && *r->description && !strchr(r->description, '\n'),
           "description is %s, want one line", r->description ? "not one line" : "NULL");
}

#define MAX_OPTIONS 256

static void option_docs(struct cx *x)
{
    const pt_option_doc *o = x->t->raw->options;
    size_t n = 0;
    if (!o) {
        cx_note(x, "no options documented");
        cx_pass(x);
        return;
    }
    for (; n < MAX_OPTIONS && o[n].key; n++) {
        EXPECT(x, *o[n].key && !strchr(o[n].key, '='), "option %zu has key \"%s\"", n,
               o[n].key);
        EXPECT(x, o[n].value_syntax && *o[n].value_syntax,
               "option \"%s\": no value_syntax", o[n].key);
        EXPECT(x, o[n].help && *o[n].help, "option \"%s\": no help", o[n].key);
        for (size_t k = 0; k < n; k++)
            if (strcmp(o[k].key, o[n].key) == 0)
                cx_fail(x, "option \"%s\" documented twice", o[n].key);
    }
    EXPECT(x, n < MAX_OPTIONS, "options: no terminating entry (key NULL) in %d entries",
           MAX_OPTIONS);
    cx_note(x, "%zu options documented", n);
}

/* Every function of the plugin's minor: 1.0's are mandatory (the loader
 * refuses a plugin without one); later ones are optional, noted here. */
static void slots(struct cx *x)
{
    static const struct { const char *name; size_t end; int mandatory; } s[] = {
#define SLOT(f, m) { #f, offsetof(pt_plugin, f) + sizeof(void (*)(void)), m }
        SLOT(dial, 1), SLOT(send, 1), SLOT(recv, 1), SLOT(close, 1), SLOT(local_addr, 1),
        SLOT(poll_fd, 1), SLOT(stats, 1), SLOT(last_error, 1), SLOT(free, 1),
        SLOT(send_many, 0), SLOT(recv_many, 0), SLOT(probe, 0),
#undef SLOT
    };
    const pt_plugin *r = x->t->raw;
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        void (*fn)(void) = NULL;
        if (r->struct_size < s[i].end)
            continue;
        memcpy(&fn, (const char *)r + s[i].end - sizeof fn, sizeof fn);
        if (s[i].mandatory)
            EXPECT(x, fn != NULL, "mandatory function %s is NULL", s[i].name);
        else if (!fn)
            cx_note(x, "optional function %s is NULL", s[i].name);
    }
}

/* The loader's copy: what the plugin has, and NULL past its size. */
static void loader_copy(struct cx *x)
{
    const pt_plugin *r = x->t->raw, *c = x->p;
    size_t n = r->struct_size < sizeof *c ? r->struct_size : sizeof *c;
    EXPECT(x, c->struct_size == n, "the loader's copy has struct_size %u, want %zu",
           (unsigned)c->struct_size, n);
    EXPECT(x, memcmp((const char *)c + sizeof c->struct_size,
                     (const char *)r + sizeof r->struct_size, n - sizeof r->struct_size) == 0,
           "the loader's copy differs from the plugin's descriptor");
}

const struct check checks_descriptor[] = {
    { "descriptor: the entry point returns one static descriptor", entry_static },
    { "descriptor: ABI major matches the entry symbol", versions },
    { "descriptor: struct_size is exactly the size of its minor", exact_size },
    { "descriptor: name is the file's mode; version and description set", names },
    { "descriptor: option documentation is complete and terminated", option_docs },
    { "descriptor: every function of its minor is present", slots },
    { "descriptor: the loader's copy matches it", loader_copy },
    { NULL, NULL },
};
