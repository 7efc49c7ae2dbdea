/*
 * quote.h -- putting untrusted text, and URLs that may hold a password,
 * into log lines and error messages.  Internal: not installed, not part of the
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

/* Find the password of url's user:password@ part, to keep it out of
 * messages.  The user part runs from after "scheme://" (a scheme is a
 * letter, then letters, digits, '+', '-' or '.'), or from the start when
 * url has no such scheme ("alice:pw@proxy:3128", as proxy variables are
 * often written), to the LAST '@' of the whole string; the password is
 * what follows the user part's first ':'.  This errs towards hiding: a
 * password holding '/', '?', '#' or '@' is found whole, and an '@' in the
 * path makes "8080/p" the password of "http://h:8080/p@x".  The span is
 * the text as written; percent-encoding is not decoded.  Returns 1 and
 * sets *off and *len to the password's offset and length in url (len may
 * be 0: "http://alice:@proxy"), or 0 when url is NULL or has none. */
int ptu_url_password(const char *url, size_t *off, size_t *len);

/* Replace every occurrence of url's password (as ptu_url_password finds
 * it) in msg, a NUL-terminated string in a buffer of cap bytes, by "***".
 * A password shorter than "***" makes msg longer: what no longer fits is
 * cut, and a start of the password left at the cut end is starred too.
 * Does nothing when msg is NULL, cap is 0, or url has no password or an
 * empty one.  Makes no copy of the password. */
void ptu_url_scrub(char *msg, size_t cap, const char *url);

/* The same for a secret given as the n bytes at pw (a password already
 * taken out of its URL and decoded): every occurrence in msg becomes
 * "***".  Does nothing when msg or pw is NULL, cap is 0 or n is 0. */
void ptu_scrub(char *msg, size_t cap, const char *pw, size_t n);

#endif
