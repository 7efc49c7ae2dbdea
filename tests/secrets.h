/*
 * secrets.h -- tell tests/secrets.sh which secrets this test run used, so
 * that it can check that none of them appears in any test's output.
 *
 * Each test that makes a private key or uses a password registers it by
 * appending lines "ORIGIN<TAB>PUBLIC<TAB>SECRET" to the registry
 * $PT_BUILDDIR/tests/secrets.list (mode 0600; make check sets PT_BUILDDIR,
 * and without it nothing is registered).  A key is registered in two forms,
 * so that either encoding of it in a log is found:
 *   - the first 42 base64 characters of its 32-byte seed: they are also the
 *     start of the 64-byte private_key of an identity file (the 43rd
 *     character already mixes in the public half);
 *   - the seed in hex (secrets.sh matches hex in either case).
 * PUBLIC is the public key in base64 ("-" for a password), and the test
 * prints it in a TAP comment "# secrets: registered key PUBLIC (ORIGIN)",
 * never the secret, so secrets.sh can check that every key a log mentions
 * is in the registry.  tests/host/lib.sh does the same for shell tests.
 */
#ifndef PT_TEST_SECRETS_H
#define PT_TEST_SECRETS_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/base64.h>

#include "pilot_transport.h"
#include "util.h"

/* Append text (whole lines) to the registry in one write, so lines from
 * tests running in parallel never interleave. */
static inline void secrets_append(const char *text, size_t len)
{
    const char *top = getenv("PT_BUILDDIR");
    char reg[4096];
    int fd;

    if (!top || !*top)
        return;
    snprintf(reg, sizeof reg, "%s/tests/secrets.list", top);
    fd = open(reg, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len)
        printf("# secrets: cannot register in %s: %s\n", reg, strerror(errno));
    if (fd >= 0)
        close(fd);
}

/* Register a password (or any other secret text, at least 6 characters). */
static inline void secrets_register_password(const char *origin, const char *secret)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "%s: %s\t-\t%s\n", program_invocation_short_name,
                     origin, secret);
    if (n > 0 && (size_t)n < sizeof line)
        secrets_append(line, (size_t)n);
    ptu_wipe(line, sizeof line);
    printf("# secrets: registered a password (%s)\n", origin);
}

/* Register the private key of id (its seed, in both forms). */
static inline void secrets_register_key(const char *origin, const pt_identity *id)
{
    char seed64[BASE64_ENCODE_RAW_LENGTH(32) + 1], pub64[BASE64_ENCODE_RAW_LENGTH(32) + 1];
    char hex[65], lines[1024];
    int n;

    base64_encode_raw(seed64, 32, id->private_key);
    seed64[42] = '\0';
    base64_encode_raw(pub64, 32, id->public_key);
    pub64[BASE64_ENCODE_RAW_LENGTH(32)] = '\0';
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", id->private_key[i]);
    n = snprintf(lines, sizeof lines, "%s: %s (seed, base64)\t%s\t%s\n%s: %s (seed, hex)\t%s\t%s\n",
                 program_invocation_short_name, origin, pub64, seed64,
                 program_invocation_short_name, origin, pub64, hex);
    if (n > 0 && (size_t)n < sizeof lines)
        secrets_append(lines, (size_t)n);
    ptu_wipe(seed64, sizeof seed64);
    ptu_wipe(hex, sizeof hex);
    ptu_wipe(lines, sizeof lines);
    printf("# secrets: registered key %s (%s)\n", pub64, origin);
}

#endif
