/*
 * ed25519.h -- Ed25519 key checks and signatures.  Internal: not
 * installed, not part of the ABI.  Prefix: ptu_ed25519_.
 *
 * This needs nettle, so it is not in libptcore (which the loader and the
 * UDP plugin link without nettle): lib/ed25519.c is compiled into each
 * program that links nettle (ED25519_SOURCES in Makefile.am).
 */
#ifndef PT_ED25519_H
#define PT_ED25519_H

#include <stddef.h>
#include <stdint.h>

/* Is pub the Ed25519 public key of seed, the 32-byte secret half of a
 * private key (the first half of Go's ed25519.PrivateKey and of
 * pt_identity.private_key)?  Derives the public key from the seed and
 * compares it with pub; the derived copy is wiped.  Returns 1 when they
 * match, else 0.  Pure, thread-safe; costs one scalar multiplication
 * (some tens of microseconds), so check once, not per message. */
int ptu_ed25519_public_matches(const uint8_t seed[32], const uint8_t pub[32]);

/* The 64-byte Ed25519 signature of the len bytes at msg by the key whose
 * secret half is seed and public half pub (which must match: check once
 * with ptu_ed25519_public_matches).  Pure, thread-safe; the caller wipes
 * the key when done. */
void ptu_ed25519_sign(const uint8_t seed[32], const uint8_t pub[32], const uint8_t *msg,
                      size_t len, uint8_t sig[64]);

#endif
