/* auth.c -- the beacon's side of the WSS auth exchange (SPEC 2.5, 3). */
#include "config.h"

#include "beacon.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <nettle/base64.h>
#include <nettle/eddsa.h>

#include "json.h"
#include "util.h"

/* Members an auth_reply may have before the JSON reader refuses it. */
#define MAX_MEMBERS 16

/* Standard base64 of a 64-byte signature, padding included. */
#define SIG_B64_LEN BASE64_ENCODE_RAW_LENGTH(ED25519_SIGNATURE_SIZE)

int bc_auth_new_challenge(bc_challenge *ch, int legacy)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t rnd[BC_NONCE_HEX / 2];
    size_t got = 0;

    while (got < sizeof rnd) {
        ssize_t n = getrandom(rnd + got, sizeof rnd - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof rnd; i++) {
        ch->nonce[2 * i] = hex[rnd[i] >> 4];
        ch->nonce[2 * i + 1] = hex[rnd[i] & 15];
    }
    ch->nonce[BC_NONCE_HEX] = '\0';
    ch->has_ts = !legacy;
    ch->ts = legacy ? 0 : (uint64_t)time(NULL);
    return 0;
}

int bc_auth_challenge_text(const bc_challenge *ch, int kind, char *buf, size_t cap)
{
    const char *type = kind == BC_CH_WRONG_TYPE ? "auth_hello" : "auth_challenge";
    const char *nonce = kind == BC_CH_EMPTY_NONCE ? "" : ch->nonce;
    int n;

    if (kind == BC_CH_MALFORMED)
        n = snprintf(buf, cap, "{\"type\":\"auth_challenge\",\"nonce\":");
    else if (ch->has_ts)
        n = snprintf(buf, cap, "{\"type\":\"%s\",\"nonce\":\"%s\",\"ts\":%" PRIu64 "}", type,
                     nonce, ch->ts);
    else
        n = snprintf(buf, cap, "{\"type\":\"%s\",\"nonce\":\"%s\"}", type, nonce);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Decode the "sig" member into sig[64]. */
static int decode_sig(const ptu_json_field *f, uint8_t sig[ED25519_SIGNATURE_SIZE])
{
    char b64[SIG_B64_LEN + 1];
    uint8_t out[BASE64_DECODE_LENGTH(SIG_B64_LEN)];
    size_t n = sizeof out;
    struct base64_decode_ctx ctx;

    if (ptu_json_string(f, b64, sizeof b64) != SIG_B64_LEN)
        return -1;
    base64_decode_init(&ctx);
    if (!base64_decode_update(&ctx, &n, out, SIG_B64_LEN, b64) ||
        !base64_decode_final(&ctx) || n != ED25519_SIGNATURE_SIZE)
        return -1;
    memcpy(sig, out, ED25519_SIGNATURE_SIZE);
    return 0;
}

int bc_auth_check_reply(const bc_registry *reg, const bc_challenge *ch, const char *msg,
                        size_t len, uint32_t *node_id, char *why, size_t whylen)
{
    ptu_json_field f[MAX_MEMBERS];
    const ptu_json_field *type_f, *id_f, *sig_f;
    char type[32], jerr[128], text[160];
    uint8_t sig[ED25519_SIGNATURE_SIZE];
    const uint8_t *key;
    uint64_t id;
    size_t n;
    int tlen;

    if (ptu_json_parse_object(msg, len, f, MAX_MEMBERS, &n, jerr, sizeof jerr) != 0)
        return ptu_err(why, whylen, -1, "reply is not a JSON object (%s)", jerr);
    type_f = ptu_json_find(f, n, "type");
    if (!type_f || ptu_json_string(type_f, type, sizeof type) < 0 ||
        strcmp(type, "auth_reply") != 0)
        return ptu_err(why, whylen, -1, "reply type is not auth_reply");
    id_f = ptu_json_find(f, n, "node_id");
    if (!id_f || ptu_json_uint64(id_f, UINT32_MAX, &id) != 0)
        return ptu_err(why, whylen, -1, "reply node_id is not an integer 0..4294967295");
    if (id == 0)
        return ptu_err(why, whylen, -1, "node id 0");
    key = bc_registry_find(reg, (uint32_t)id);
    if (!key)
        return ptu_err(why, whylen, -1, "node %" PRIu64 " is not in the registry", id);
    sig_f = ptu_json_find(f, n, "sig");
    if (!sig_f || decode_sig(sig_f, sig) != 0)
        return ptu_err(why, whylen, -1, "node %" PRIu64 ": sig is not base64 of 64 bytes", id);
    if (ch->has_ts)
        tlen = snprintf(text, sizeof text, "compat_auth:%" PRIu64 ":%" PRIu64 ":%s", id,
                        ch->ts, ch->nonce);
    else
        tlen = snprintf(text, sizeof text, "compat_auth:%" PRIu64 ":%s", id, ch->nonce);
    if (tlen < 0 || (size_t)tlen >= sizeof text)
        return ptu_err(why, whylen, -1, "signed text too long");
    if (!ed25519_sha512_verify(key, (size_t)tlen, (const uint8_t *)text, sig))
        return ptu_err(why, whylen, -1, "node %" PRIu64 ": bad signature", id);
    *node_id = (uint32_t)id;
    return 0;
}
