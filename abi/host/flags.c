/* flags.c -- Go-style command-line flags. */
#include "config.h"

#include "flags.h"
#include "util.h"

#include <string.h>

static const struct flag *find(const struct flag *flags, const char *name, size_t len)
{
    for (; flags->name; flags++)
        if (strlen(flags->name) == len && strncmp(flags->name, name, len) == 0)
            return flags;
    return NULL;
}

static int set_value(const struct flag *f, const char *v, char *err, size_t errlen)
{
    uint64_t u;
    switch (f->type) {
    case FLAG_STRING:
        *(const char **)f->ptr = v;
        break;
    case FLAG_BOOL:
        if (ptu_parse_bool(v, (int *)f->ptr) != 0)
            return ptu_err(err, errlen, FLAGS_ERROR,
                           "invalid boolean value \"%s\" for -%s (use true or false)", v, f->name);
        break;
    case FLAG_UINT:
        if (ptu_parse_u64(v, f->max ? f->max : UINT64_MAX, &u) != 0)
            return ptu_err(err, errlen, FLAGS_ERROR,
                           "invalid value \"%s\" for -%s: want a whole number from 0 to %llu", v,
                           f->name, (unsigned long long)(f->max ? f->max : UINT64_MAX));
        *(uint64_t *)f->ptr = u;
        break;
    case FLAG_DURATION:
        if (ptu_parse_duration_ms(v, f->max ? f->max : UINT64_MAX / 1000, &u) != 0)
            return ptu_err(err, errlen, FLAGS_ERROR,
                           "invalid duration \"%s\" for -%s (e.g. 250ms, 20s, 1m)", v, f->name);
        *(uint64_t *)f->ptr = u;
        break;
    case FLAG_LIST: {
        struct flag_list *l = f->ptr;
        if (l->n == sizeof l->items / sizeof l->items[0])
            return ptu_err(err, errlen, FLAGS_ERROR, "too many -%s flags (at most %zu)", f->name,
                           sizeof l->items / sizeof l->items[0]);
        l->items[l->n++] = v;
        break;
    }
    }
    if (f->seen)
        *f->seen = 1;
    return FLAGS_OK;
}

int flags_parse(const struct flag *flags, int argc, char **argv, int *next, char *err,
                size_t errlen)
{
    int i;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *name, *eq;
        const struct flag *f;
        size_t len;

        if (a[0] != '-' || a[1] == '\0')
            break; /* first non-flag argument */
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        name = a + 1 + (a[1] == '-');
        if (*name == '-' || *name == '=' || *name == '\0')
            return ptu_err(err, errlen, FLAGS_ERROR, "bad flag syntax: %s", a);
        eq = strchr(name, '=');
        len = eq ? (size_t)(eq - name) : strlen(name);
        f = find(flags, name, len);
        if (!f) {
            if ((len == 1 && name[0] == 'h') || (len == 4 && strncmp(name, "help", 4) == 0))
                return FLAGS_HELP;
            return ptu_err(err, errlen, FLAGS_ERROR, "flag provided but not defined: -%.*s",
                           (int)len, name);
        }
        if (eq) {
            if (set_value(f, eq + 1, err, errlen) != FLAGS_OK)
                return FLAGS_ERROR;
        } else if (f->type == FLAG_BOOL) {
            *(int *)f->ptr = 1; /* -name alone means true, as in Go */
            if (f->seen)
                *f->seen = 1;
        } else {
            if (i + 1 >= argc)
                return ptu_err(err, errlen, FLAGS_ERROR, "flag needs an argument: -%s", f->name);
            if (set_value(f, argv[++i], err, errlen) != FLAGS_OK)
                return FLAGS_ERROR;
        }
    }
    if (next)
        *next = i;
    return FLAGS_OK;
}

void flags_usage(FILE *out, const struct flag *flags)
{
    for (; flags->name; flags++) {
        char left[64];
        snprintf(left, sizeof left, "-%s%s%s", flags->name, flags->arg ? " " : "",
                 flags->arg ? flags->arg : "");
        fprintf(out, "  %-24s %s\n", left, flags->help);
    }
}
