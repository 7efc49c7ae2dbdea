/*
 * quote.h -- putting untrusted text and URLs that may hold a password into
 * log lines and error messages.  Internal: not installed, not part of the
 * ABI.  Prefix: ptu_.
 *
 * Pure functions: no I/O, no allocation, no global state; safe from any
 * thread.
 */
#ifndef PT_QUOTE_H
#define PT_QUOTE_H

#include <stddef.h>

/* Copy the n bytes at text into out (cap bytes) so that they are safe to
 * quote: printable ASCII (0x20..0x7e) is kept, every other byte, NUL
 * included, becomes '?'.  Text longer than cap - 4 bytes is cut to its
 * first cap - 4 bytes and "..." is appended, so a cut never passes for the
 * whole text (with cap < 4, as much of "..." as fits).  out is always
 * NUL-terminated; nothing is written when out is NULL or cap is 0.  text
 * may be NULL when n is 0; bytes past n are never read.  Returns out, for
 * use as a printf argument. */
char *ptu_printable(char *out, size_t cap, const void *text, size_t n);

#endif
