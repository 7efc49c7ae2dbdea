/*
 * base64.h -- strict standard base64 (RFC 4648, section 4) decoding.
 * Internal: not installed, not part of the ABI.  Prefix: ptu_base64_.
 *
 * Strict means: only the alphabet A-Z a-z 0-9 + /, a length that is a
 * multiple of 4, '=' padding only as the last one or two characters, no
 * whitespace or line breaks, and the bits the last character carries
 * beyond the data all zero.  So each byte string has exactly one accepted
 * spelling, the one a standard encoder writes (nettle's base64_encode_raw,
 * Go's base64.StdEncoding).  Lenient decoders (nettle's among them) skip
 * whitespace and ignore missing padding and trailing bits.
 *
 * Pure functions: no I/O, no allocation, no global state, no nettle (this
 * is in libptcore); safe from any thread.
 */
#ifndef PT_BASE64_H
#define PT_BASE64_H

#include <stddef.h>

/* Is s[0..n) strict base64?  Returns 0 and sets *size to the number of
 * bytes it decodes to, or -1 (*size untouched).  "" is valid, size 0; s
 * may be NULL when n is 0. */
int ptu_base64_check(const char *s, size_t n, size_t *size);

/* Decode strict base64 s[0..n) into out (cap bytes).  Returns 0 and sets
 * *size; or -1, with nothing written to out and *size untouched, when s
 * is not strict base64 (as ptu_base64_check) or decodes to more than cap
 * bytes.  The caller checks *size when it wants an exact length.  Leaves
 * no decoded bytes behind but those in out, which may be a secret key. */
int ptu_base64_decode(const char *s, size_t n, void *out, size_t cap, size_t *size);

#endif
