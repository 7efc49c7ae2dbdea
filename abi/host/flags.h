/*
 * flags.h -- command-line flags the way Go's flag package reads them, as
 * the Pilot daemon has them: -name=value, -name value, --name=value and
 * --name value; boolean flags as -name or -name=false.  Parsing stops at
 * the first argument that is not a flag, or after "--".
 */
#ifndef PT_HOST_FLAGS_H
#define PT_HOST_FLAGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum flag_type {
    FLAG_STRING,   /* const char **ptr */
    FLAG_BOOL,     /* int *ptr */
    FLAG_UINT,     /* uint64_t *ptr, at most max */
    FLAG_DURATION, /* uint64_t *ptr in milliseconds ("250ms", "20s", "1m") */
    FLAG_LIST      /* struct flag_list *ptr: every occurrence appended */
};

struct flag_list {
    const char *items[64];
    size_t n;
};

struct flag {
    const char *name;
    enum flag_type type;
    void *ptr;
    const char *arg;   /* placeholder in usage, e.g. "FILE" */
    const char *help;
    uint64_t max;      /* FLAG_UINT only; 0 means UINT64_MAX */
    int *seen;         /* optional: set to 1 when the flag is given */
};

enum { FLAGS_OK = 0, FLAGS_HELP = 1, FLAGS_ERROR = -1 };

/* Parse argv[0..argc) against flags (terminated by name NULL).  On
 * FLAGS_OK *next is the index of the first non-flag argument.  On
 * FLAGS_ERROR err says what was wrong ("flag provided but not defined:
 * -x").  -h, -help and --help return FLAGS_HELP. */
int flags_parse(const struct flag *flags, int argc, char **argv, int *next, char *err,
                size_t errlen);

/* Print one line per flag: "  -name ARG   help". */
void flags_usage(FILE *out, const struct flag *flags);

#endif
