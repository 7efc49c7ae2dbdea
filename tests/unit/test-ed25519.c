/* test-ed25519.c -- the public-key-matches-seed check and signing (lib/ed25519.c). */
#include "config.h"

#include "ed25519.h"
#include "tap.h"

#include <stdint.h>
#include <stdio.h>

/* RFC 8032, section 7.1, tests 1 to 3: the secret key (the seed) and the
 * public key, as the RFC prints them. */
static const char *const vectors[3][2] = {
    { "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a" },
    { "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
      "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c" },
    { "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
      "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025" },
};
static uint8_t seeds[3][32], pubs[3][32];

static void from_hex(const char *hex, uint8_t out[32])
{
    for (int i = 0; i < 32; i++)
        sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

static void load_vectors(void)
{
    for (int i = 0; i < 3; i++) {
        from_hex(vectors[i][0], seeds[i]);
        from_hex(vectors[i][1], pubs[i]);
    }
}

TEST(public_key_of_its_seed_matches)
{
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(ptu_ed25519_public_matches(seeds[i], pubs[i]), 1);
}

TEST(public_key_of_another_seed_does_not_match)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (i != j)
                CHECK_EQ_INT(ptu_ed25519_public_matches(seeds[i], pubs[j]), 0);
}

TEST(any_flipped_bit_breaks_the_match)
{
    /* In the public key: every byte, low and high bit (the high bit of the
     * last byte is the sign of x, the easiest one to get wrong). */
    for (int byte = 0; byte < 32; byte++) {
        for (int bit = 0; bit < 8; bit += 7) {
            uint8_t pub[32], seed[32];
            memcpy(pub, pubs[0], 32);
            pub[byte] ^= (uint8_t)(1u << bit);
            CHECK_EQ_INT(ptu_ed25519_public_matches(seeds[0], pub), 0);
            /* In the seed: it is hashed whole, so every bit counts. */
            memcpy(seed, seeds[0], 32);
            seed[byte] ^= (uint8_t)(1u << bit);
            CHECK_EQ_INT(ptu_ed25519_public_matches(seed, pubs[0]), 0);
        }
    }
}

TEST(all_zero_keys_do_not_match)
{
    static const uint8_t zero[32];
    CHECK_EQ_INT(ptu_ed25519_public_matches(zero, zero), 0);
    CHECK_EQ_INT(ptu_ed25519_public_matches(seeds[0], zero), 0);
    CHECK_EQ_INT(ptu_ed25519_public_matches(zero, pubs[0]), 0);
}

TEST(seed_and_public_half_of_one_private_key_match)
{
    /* How callers pass it: the two halves of a 64-byte private key. */
    uint8_t priv[64];
    memcpy(priv, seeds[1], 32);
    memcpy(priv + 32, pubs[1], 32);
    CHECK_EQ_INT(ptu_ed25519_public_matches(priv, priv + 32), 1);
}

TEST(signatures_are_rfc_8032s)
{
    /* RFC 8032 7.1, test 1 (empty message) and test 2 (one byte 0x72). */
    static const char *const sigs[2][2] = {
        { "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555",
          "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
        { "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da0",
          "85ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
    };
    static const uint8_t msg2 = 0x72;
    for (int i = 0; i < 2; i++) {
        uint8_t sig[64], want[64];
        char hex[130];
        snprintf(hex, sizeof hex, "%s%s", sigs[i][0], sigs[i][1]);
        for (int k = 0; k < 64; k++)
            sscanf(hex + 2 * k, "%2hhx", &want[k]);
        ptu_ed25519_sign(seeds[i], pubs[i], i ? &msg2 : NULL, (size_t)i, sig);
        CHECK(memcmp(sig, want, 64) == 0);
    }
}

int main(void)
{
    load_vectors();
    RUN(public_key_of_its_seed_matches);
    RUN(public_key_of_another_seed_does_not_match);
    RUN(any_flipped_bit_breaks_the_match);
    RUN(all_zero_keys_do_not_match);
    RUN(seed_and_public_half_of_one_private_key_match);
    RUN(signatures_are_rfc_8032s);
    return tap_done();
}
