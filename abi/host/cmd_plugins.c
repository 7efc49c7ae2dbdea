/* cmd_plugins.c -- "pilot-transport plugins": what can be loaded, from where. */
#include "config.h"

#include "host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct listing {
    const char *dir;
    int verbose;
    int broken;
};

static void show(void *userdata, const char *mode, const char *path)
{
    struct listing *l = userdata;
    const pt_plugin *p;
    char err[1024];
    if (pt_loader_open(mode, l->dir, &p, err, sizeof err) != PT_OK) {
        printf("%-8s BROKEN  %s\n", mode, err);
        l->broken++;
        return;
    }
    printf("%-8s ABI %u.%u  version %-8s %s\n", mode, (unsigned)p->abi_major,
           (unsigned)p->abi_minor, p->version, path);
    if (!l->verbose)
        return;
    if (p->description)
        printf("         %s\n", p->description);
    for (const pt_option_doc *o = p->options; o && o->key; o++)
        printf("         -opt %s=%s  %s%s%s%s\n", o->key, o->value_syntax ? o->value_syntax : "",
               o->help ? o->help : "", o->default_value ? " (default " : "",
               o->default_value ? o->default_value : "", o->default_value ? ")" : "");
}

int cmd_plugins(int argc, char **argv)
{
    struct host h;
    struct listing l = { NULL, 0, 0 };
    memset(&h, 0, sizeof h);
    const struct flag flags[] = {
        { "transport-dir", FLAG_STRING, &h.transport_dir, "DIR", "look here first", 0, NULL },
        { "v", FLAG_BOOL, &l.verbose, NULL, "also print each plugin's options", 0, NULL },
        { NULL, 0, NULL, NULL, NULL, 0, NULL },
    };
    int rc = host_parse(&h, "plugins", "[-transport-dir DIR] [-v]",
                        "List the transport plugins found in the search path (-transport-dir,\n"
                        "$PILOT_TRANSPORT_DIR, the installed directory), with their ABI and\n"
                        "implementation versions.  Exit 1 if none is found or one is broken.",
                        flags, argc, argv);
    if (rc >= 0)
        return rc;
    l.dir = h.transport_dir;
    int found = pt_loader_list(h.transport_dir, show, &l);
    if (found < 0) {
        host_error(&h, "listing plugins: %s", pt_strerror(found));
        return EXIT_FAIL;
    }
    if (found == 0) {
        host_error(&h, "no plugins found (looked in %s%s%s%s)",
                   h.transport_dir ? h.transport_dir : "", h.transport_dir ? ", " : "",
                   secure_getenv("PILOT_TRANSPORT_DIR") ? "$PILOT_TRANSPORT_DIR, " : "",
                   pt_loader_default_dir());
        return EXIT_FAIL;
    }
    return l.broken ? EXIT_FAIL : 0;
}
