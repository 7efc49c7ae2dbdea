/*
 * fuzz.h -- what the fuzz targets in tests/fuzz/ share.  Prefix: fuzz_.
 *
 * Each fuzz-<name>.c defines LLVMFuzzerTestOneInput and fuzz_target_name.
 * Built with clang -fsanitize=fuzzer it is a libFuzzer binary; linked with
 * standalone.c it is a plain program that runs the target once on each
 * file of a corpus and reports TAP, for make check.
 *
 * Targets copy the input into a heap buffer of exactly its size before
 * handing it to the code under test, so that AddressSanitizer sees a read
 * one byte past the end.  A broken invariant prints what and where, then
 * aborts: libFuzzer saves the input, make check fails.
 */
#ifndef PT_FUZZ_H
#define PT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The libFuzzer entry point: 0 always (a failure aborts). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The target's name, e.g. "json": names its corpus directory. */
extern const char fuzz_target_name[];

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "fuzz-%s: %s:%d: invariant broken: %s\n", fuzz_target_name, \
                    __FILE__, __LINE__, #cond);                                           \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* A heap copy of data[0..size) with no byte to spare (malloc(0) when size
 * is 0, which may be NULL: the parsers take NULL with length 0). */
static inline char *fuzz_dup(const uint8_t *data, size_t size)
{
    char *p = malloc(size);
    if (!p && size > 0)
        abort();
    if (size > 0)
        memcpy(p, data, size);
    return p;
}

/* A heap copy of data[0..size) plus a NUL, for parsers of C strings.  An
 * embedded NUL ends the string early, as it would for a real caller. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
    char *p = malloc(size + 1);
    if (!p)
        abort();
    if (size > 0)
        memcpy(p, data, size);
    p[size] = '\0';
    return p;
}

/* Is s made only of printable ASCII (what error messages promise)? */
static inline int fuzz_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

/* Is the whole object at p (n bytes) zero? */
static inline int fuzz_all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

#endif
