/*
 * fuzz-wss-challenge.c -- the WSS auth messages from the beacon:
 * wss_auth_parse_challenge and wss_auth_check_ok on the same bytes.
 *
 * Invariants:
 *   - an accepted challenge has a nonce of 64 hex characters that occurs
 *     in the message as sent, and ts <= WSS_AUTH_TS_MAX (0 without ts);
 *     the signed text is "compat_auth:<id>:[<ts>:]<nonce>"; the reply
 *     built for it is a JSON auth_reply whose sig verifies over that text
 *     with the identity's key, and check_ok refuses it (type
 *     auth_challenge is not auth_ok);
 *   - a refused challenge leaves *out all zero and returns PT_EPROTO;
 *   - check_ok returns PT_OK, PT_EAUTH or PT_EPROTO;
 *   - every message starts "wss auth: " and is printable ASCII (peer text
 *     is sanitised).
 */
#include "config.h"

#include <inttypes.h>

#include <nettle/base64.h>
#include <nettle/eddsa.h>

#include "auth.h"
#include "fuzz.h"
#include "json.h"

const char fuzz_target_name[] = "wss-challenge";

#define NODE_ID 4294967295u /* the longest node id: the longest reply */

static pt_identity ident;

static void init_identity(void)
{
    if (ident.has_key)
        return;
    for (int i = 0; i < 32; i++)
        ident.private_key[i] = (uint8_t)(0x40 + i);
    ed25519_sha512_public_key(ident.private_key + 32, ident.private_key);
    memcpy(ident.public_key, ident.private_key + 32, 32);
    ident.node_id = NODE_ID;
    ident.has_key = 1;
}

static void check_err(const char *err)
{
    FUZZ_CHECK(strncmp(err, "wss auth: ", 10) == 0);
    FUZZ_CHECK(fuzz_printable(err));
}

/* The reply to ch: JSON, our node id, and a signature that verifies. */
static void check_reply(const wss_challenge *ch)
{
    char reply[WSS_AUTH_REPLY_MAX], text[WSS_AUTH_SIGNED_MAX], want[WSS_AUTH_SIGNED_MAX];
    char err[PT_ERRMSG_MAX], b64[128];
    uint8_t sig[BASE64_DECODE_LENGTH(sizeof b64)];
    ptu_json_field f[8];
    const ptu_json_field *m;
    struct base64_decode_ctx ctx;
    size_t n, got = 0;
    uint64_t id;
    int len, tlen;

    tlen = wss_auth_signed_text(NODE_ID, ch, text, sizeof text);
    if (ch->has_ts)
        snprintf(want, sizeof want, "compat_auth:%" PRIu32 ":%" PRIu64 ":%s", NODE_ID, ch->ts,
                 ch->nonce);
    else
        snprintf(want, sizeof want, "compat_auth:%" PRIu32 ":%s", NODE_ID, ch->nonce);
    FUZZ_CHECK(tlen > 0 && strcmp(text, want) == 0 && (size_t)tlen == strlen(want));
    /* One byte short of room: refused, buffer emptied. */
    FUZZ_CHECK(wss_auth_signed_text(NODE_ID, ch, text, (size_t)tlen) == -1 && text[0] == '\0');

    len = wss_auth_build_reply(&ident, ch, reply, sizeof reply, err, sizeof err);
    FUZZ_CHECK(len > 0 && (size_t)len == strlen(reply) && len < WSS_AUTH_REPLY_MAX);
    FUZZ_CHECK(ptu_json_parse_object(reply, (size_t)len, f, 8, &n, NULL, 0) == 0 && n == 4);
    m = ptu_json_find(f, n, "type");
    FUZZ_CHECK(m && ptu_json_string(m, b64, sizeof b64) >= 0 && strcmp(b64, "auth_reply") == 0);
    m = ptu_json_find(f, n, "node_id");
    FUZZ_CHECK(m && ptu_json_uint64(m, UINT32_MAX, &id) == 0 && id == NODE_ID);
    m = ptu_json_find(f, n, "sig");
    FUZZ_CHECK(m && ptu_json_string(m, b64, sizeof b64) == 88);
    base64_decode_init(&ctx);
    FUZZ_CHECK(base64_decode_update(&ctx, &got, sig, 88, b64) && base64_decode_final(&ctx));
    FUZZ_CHECK(got == ED25519_SIGNATURE_SIZE);
    FUZZ_CHECK(ed25519_sha512_verify(ident.public_key, (size_t)tlen, (const uint8_t *)want, sig));
    /* The beacon's answer is not our challenge. */
    FUZZ_CHECK(wss_auth_check_ok(reply, (size_t)len, NULL, 0) == PT_EAUTH);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *msg = fuzz_dup(data, size);
    char err[PT_ERRMSG_MAX];
    wss_challenge ch;
    int rc, ok_rc;

    init_identity();
    memset(&ch, 0xA5, sizeof ch);
    err[0] = '\0';
    rc = wss_auth_parse_challenge(msg, size, &ch, err, sizeof err);
    if (rc == PT_OK) {
        FUZZ_CHECK(strlen(ch.nonce) == WSS_AUTH_NONCE_LEN);
        FUZZ_CHECK(strspn(ch.nonce, "0123456789abcdefABCDEF") == WSS_AUTH_NONCE_LEN);
        FUZZ_CHECK(memmem(msg, size, ch.nonce, WSS_AUTH_NONCE_LEN) != NULL);
        FUZZ_CHECK(ch.has_ts == 0 || ch.has_ts == 1);
        FUZZ_CHECK(ch.has_ts ? ch.ts <= WSS_AUTH_TS_MAX : ch.ts == 0);
        check_reply(&ch);
    } else {
        FUZZ_CHECK(rc == PT_EPROTO);
        FUZZ_CHECK(fuzz_all_zero(&ch, sizeof ch));
        check_err(err);
    }

    err[0] = '\0';
    ok_rc = wss_auth_check_ok(msg, size, err, sizeof err);
    FUZZ_CHECK(ok_rc == PT_OK || ok_rc == PT_EAUTH || ok_rc == PT_EPROTO);
    if (ok_rc != PT_OK)
        check_err(err);
    if (rc == PT_OK)
        FUZZ_CHECK(ok_rc == PT_EAUTH);

    /* Small and absent error buffers are cut or skipped, never overrun. */
    wss_auth_parse_challenge(msg, size, &ch, err, 11);
    wss_auth_check_ok(msg, size, err, 11);
    wss_auth_parse_challenge(msg, size, &ch, NULL, 0);
    free(msg);
    return 0;
}
