/* ed25519.c -- Ed25519 key checks and signatures on nettle. */
#include "config.h"

#include "ed25519.h"

#include <string.h>

#include <nettle/eddsa.h>

#include "util.h"

_Static_assert(ED25519_KEY_SIZE == 32, "nettle's Ed25519 key size");

int ptu_ed25519_public_matches(const uint8_t seed[32], const uint8_t pub[32])
{
    uint8_t derived[ED25519_KEY_SIZE];
    int same;

    ed25519_sha512_public_key(derived, seed);
    same = memcmp(derived, pub, sizeof derived) == 0;
    ptu_wipe(derived, sizeof derived);
    return same;
}

void ptu_ed25519_sign(const uint8_t seed[32], const uint8_t pub[32], const uint8_t *msg,
                      size_t len, uint8_t sig[64])
{
    ed25519_sha512_sign(pub, seed, len, msg, sig);
}
