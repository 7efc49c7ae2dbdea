/*
 * fuzz-beacon-auth-reply.c -- the development beacon's check of a
 * client's auth_reply (bc_auth_check_reply, tests/beacon/auth.c), the
 * first thing it reads from an unauthenticated peer.
 *
 * The registry holds two nodes, 1 and 4294967295, with keys from fixed
 * seeds; each input is checked against a challenge with ts and a legacy
 * one without.  The seeds valid-reply-ts and valid-reply-legacy in the
 * corpus are what wss_auth_build_reply (the client's side) writes for
 * node 4294967295 and node 1 to those two challenges; on its first call
 * the target builds them again and requires the beacon to accept them, so
 * the two sides are also checked against each other.
 *
 * Invariants: an accepted reply names a registered node (returned in
 * *node_id), has "type":"auth_reply" and verifies for exactly the
 * challenges it was signed for; a refused one leaves *node_id untouched
 * and says why.
 */
#include "config.h"

#include <nettle/eddsa.h>

#include "auth.h"
#include "beacon.h"
#include "fuzz.h"
#include "json.h"

const char fuzz_target_name[] = "beacon-auth-reply";

#define NONCE "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static bc_reg_entry entries[2];
static bc_registry reg = { entries, 2, 2 };
static bc_challenge ch_ts = { NONCE, 1, 1700000000 };
static bc_challenge ch_legacy = { NONCE, 0, 0 };
static pt_identity ids[2];

static void make_identity(pt_identity *id, uint32_t node, uint8_t seed)
{
    memset(id, 0, sizeof *id);
    for (int i = 0; i < 32; i++)
        id->private_key[i] = (uint8_t)(seed + i);
    ed25519_sha512_public_key(id->public_key, id->private_key);
    memcpy(id->private_key + 32, id->public_key, 32);
    id->node_id = node;
    id->has_key = 1;
}

/* The client's reply to ch as id, which the beacon must accept. */
static void cross_check(const pt_identity *id, const bc_challenge *bch)
{
    wss_challenge ch;
    char reply[WSS_AUTH_REPLY_MAX], why[160];
    uint32_t node = 0;
    int n;

    memset(&ch, 0, sizeof ch);
    memcpy(ch.nonce, bch->nonce, sizeof ch.nonce);
    ch.has_ts = bch->has_ts;
    ch.ts = bch->ts;
    n = wss_auth_build_reply(id, &ch, reply, sizeof reply, NULL, 0);
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(bc_auth_check_reply(&reg, bch, reply, (size_t)n, &node, why, sizeof why) == 0);
    FUZZ_CHECK(node == id->node_id);
    /* Signed for one challenge, it is no good for the other. */
    FUZZ_CHECK(bc_auth_check_reply(&reg, bch == &ch_ts ? &ch_legacy : &ch_ts, reply, (size_t)n,
                                   &node, why, sizeof why) == -1);
}

static void init(void)
{
    static int done;

    if (done)
        return;
    done = 1;
    make_identity(&ids[0], 1, 0x11);
    make_identity(&ids[1], 4294967295u, 0x77);
    for (int i = 0; i < 2; i++) {
        entries[i].node_id = ids[i].node_id;
        memcpy(entries[i].key, ids[i].public_key, 32);
    }
    cross_check(&ids[1], &ch_ts);
    cross_check(&ids[0], &ch_legacy);
}

static void check(const char *msg, size_t len, const bc_challenge *ch)
{
    ptu_json_field f[16];
    const ptu_json_field *m;
    char why[160], type[16];
    uint32_t node = 0xA5A5A5A5;
    size_t n;

    why[0] = '\0';
    if (bc_auth_check_reply(&reg, ch, msg, len, &node, why, sizeof why) != 0) {
        FUZZ_CHECK(node == 0xA5A5A5A5);
        FUZZ_CHECK(why[0] != '\0');
        return;
    }
    FUZZ_CHECK(bc_registry_find(&reg, node) != NULL);
    FUZZ_CHECK(ptu_json_parse_object(msg, len, f, 16, &n, NULL, 0) == 0);
    m = ptu_json_find(f, n, "type");
    FUZZ_CHECK(m && ptu_json_string(m, type, sizeof type) >= 0 &&
               strcmp(type, "auth_reply") == 0);
    /* A signature covers the ts (or its absence): it cannot fit both. */
    FUZZ_CHECK(bc_auth_check_reply(&reg, ch == &ch_ts ? &ch_legacy : &ch_ts, msg, len, &node,
                                   why, sizeof why) == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *msg = fuzz_dup(data, size);

    init();
    check(msg, size, &ch_ts);
    check(msg, size, &ch_legacy);
    free(msg);
    return 0;
}
