/*
 * cmdline.h -- splitting a command line into words without a shell, for
 * commands the user configures (the WSS plugin's proxy-cmd).  Internal:
 * not installed, not part of the ABI.  Prefix: ptu_.
 *
 * Pure: no I/O, no allocation, no global state; safe from any thread.
 */
#ifndef PT_CMDLINE_H
#define PT_CMDLINE_H

#include <stddef.h>

/* Split s into words the way a POSIX shell splits a simple command, with
 * nothing expanded:
 *   - words are separated by spaces and tabs;
 *   - '...' keeps everything inside literally;
 *   - "..." too, except that \" and \\ stand for " and \;
 *   - outside quotes a backslash makes the next character literal;
 *   - an unquoted | & ; < > ( ) $ ` is refused: there is no shell to give
 *     it a meaning, so a command that needs one names its shell
 *     (sh -c 'pass show proxy | head -n 1').
 * The words are written NUL-terminated into buf (cap bytes; strlen(s) + 1
 * always suffices) and argv[0..*argc) point at them, argv[*argc] = NULL;
 * argv has room for max pointers, the NULL included.
 * Returns 0, or -1 with *why set to a constant sentence that never quotes
 * s: "it is empty", "a single quote is not closed", "a double quote is not
 * closed", "it ends in a backslash", "it holds a shell operator (| & ; < >
 * ( ) $ `) outside quotes; no shell runs it: name one, e.g. sh -c '...'",
 * "it has too many words" or "it is too long". */
int ptu_cmdline_split(const char *s, char *buf, size_t cap, char **argv, size_t max,
                      size_t *argc, const char **why);

#endif
