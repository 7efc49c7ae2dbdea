/* auth.c -- the WSS auth messages: challenge, signed reply, verdict (SPEC 2.5). */
#include "config.h"

#include "auth.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <nettle/base64.h>
#include <nettle/eddsa.h>

#include "ed25519.h"
#include "json.h"
#include "quote.h"
#include "util.h"

/* Members a message may have; beyond this the JSON reader refuses it. */
#define MAX_MEMBERS 32

/* Room for the JSON reader's messages ("json: ... at offset N"). */
#define JSON_ERR_MAX 128

/* Room for a quote of WSS_AUTH_QUOTE_MAX characters (ptu_printable keeps
 * cap - 4), "..." and the NUL. */
#define QUOTE_BUF (WSS_AUTH_QUOTE_MAX + 4)

#define PUB_B64_LEN BASE64_ENCODE_RAW_LENGTH(ED25519_KEY_SIZE)       /* 44 */
#define SIG_B64_LEN BASE64_ENCODE_RAW_LENGTH(ED25519_SIGNATURE_SIZE) /* 88 */

#define REPLY_HEAD "{\"type\":\"auth_reply\",\"node_id\":"
#define REPLY_PUB ",\"public_key\":\""
#define REPLY_SIG "\",\"sig\":\""
#define REPLY_TAIL "\"}"
/* The longest reply, node id 4294967295 (10 digits), without its NUL. */
#define REPLY_LONGEST \
    (sizeof(REPLY_HEAD REPLY_PUB REPLY_SIG REPLY_TAIL) - 1 + 10 + PUB_B64_LEN + SIG_B64_LEN)

_Static_assert(REPLY_LONGEST < WSS_AUTH_REPLY_MAX, "WSS_AUTH_REPLY_MAX too small");
_Static_assert(sizeof("compat_auth:4294967295:9223372036854775807:") - 1 + WSS_AUTH_NONCE_LEN <
                   WSS_AUTH_SIGNED_MAX,
               "WSS_AUTH_SIGNED_MAX too small");
_Static_assert(sizeof(((pt_identity *)0)->public_key) == ED25519_KEY_SIZE, "pt_identity layout");
_Static_assert(sizeof(((pt_identity *)0)->private_key) == 2 * ED25519_KEY_SIZE,
               "pt_identity layout");

/* ---- Helpers ----------------------------------------------------------- */

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Is f a string member equal to want after decoding escapes?  Decoding
 * fails (and so does the match) for a string longer than the buffer or
 * one holding \u0000. */
static int string_is(const ptu_json_field *f, const char *want)
{
    char buf[32];
    return ptu_json_string(f, buf, sizeof buf) >= 0 && strcmp(buf, want) == 0;
}

/* Is nonce (at most cap bytes) exactly WSS_AUTH_NONCE_LEN hex characters
 * and a NUL? */
static int nonce_ok(const char *nonce, size_t cap)
{
    if (strnlen(nonce, cap) != WSS_AUTH_NONCE_LEN)
        return 0;
    for (size_t i = 0; i < WSS_AUTH_NONCE_LEN; i++)
        if (!is_hex(nonce[i]))
            return 0;
    return 1;
}

/* ---- Challenge --------------------------------------------------------- */

/* The "nonce" member as sent: a string of exactly 64 hex characters.  The
 * raw span is checked, so a JSON escape is refused rather than decoded:
 * the signed text must hold the nonce exactly as the beacon sent it. */
static int parse_nonce(const ptu_json_field *f, char *out, char *err, size_t errlen)
{
    if (!f)
        return ptu_err(err, errlen, PT_EPROTO, "wss auth: challenge has no nonce");
    if (f->type != PTU_JSON_STRING)
        return ptu_err(err, errlen, PT_EPROTO, "wss auth: challenge nonce is not a string");
    if (f->val_len != WSS_AUTH_NONCE_LEN)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss auth: challenge nonce must be %d hex characters (got %zu)",
                       WSS_AUTH_NONCE_LEN, f->val_len);
    for (size_t i = 0; i < WSS_AUTH_NONCE_LEN; i++)
        if (!is_hex(f->val[i]))
            return ptu_err(err, errlen, PT_EPROTO,
                           "wss auth: challenge nonce must be %d hex characters "
                           "(character %zu is not hex)",
                           WSS_AUTH_NONCE_LEN, i + 1);
    memcpy(out, f->val, WSS_AUTH_NONCE_LEN);
    out[WSS_AUTH_NONCE_LEN] = '\0';
    return PT_OK;
}

/* The optional "ts" member: a JSON integer 0..WSS_AUTH_TS_MAX. */
static int parse_ts(const ptu_json_field *f, wss_challenge *ch, char *err, size_t errlen)
{
    size_t i;

    if (!f) {
        ch->has_ts = 0; /* an older beacon */
        return PT_OK;
    }
    if (f->type == PTU_JSON_NUMBER && ptu_json_uint64(f, WSS_AUTH_TS_MAX, &ch->ts) == 0) {
        ch->has_ts = 1;
        return PT_OK;
    }
    /* Only digits (the reader has ruled out leading zeros): just too big. */
    for (i = 0; f->type == PTU_JSON_NUMBER && i < f->val_len; i++)
        if (f->val[i] < '0' || f->val[i] > '9')
            break;
    if (f->type == PTU_JSON_NUMBER && i == f->val_len)
        return ptu_err(err, errlen, PT_EPROTO, "wss auth: challenge ts is too large");
    return ptu_err(err, errlen, PT_EPROTO, "wss auth: challenge ts is not a non-negative integer");
}

int wss_auth_parse_challenge(const char *msg, size_t len, wss_challenge *out, char *err,
                             size_t errlen)
{
    ptu_json_field f[MAX_MEMBERS];
    const ptu_json_field *type;
    char jerr[JSON_ERR_MAX], quote[QUOTE_BUF];
    wss_challenge ch;
    size_t n;
    int rc;

    if (out)
        memset(out, 0, sizeof *out);
    if (!out || (!msg && len > 0))
        return ptu_err(err, errlen, PT_EINVAL, "wss auth: invalid arguments");
    memset(&ch, 0, sizeof ch);

    if (ptu_json_parse_object(msg, len, f, MAX_MEMBERS, &n, jerr, sizeof jerr) != 0)
        return ptu_err(err, errlen, PT_EPROTO, "wss auth: challenge is not JSON: %s", jerr);

    type = ptu_json_find(f, n, "type");
    if (!type)
        return ptu_err(err, errlen, PT_EPROTO, "wss auth: challenge has no type");
    if (type->type != PTU_JSON_STRING)
        return ptu_err(err, errlen, PT_EPROTO, "wss auth: challenge type is not a string");
    if (!string_is(type, "auth_challenge"))
        return ptu_err(err, errlen, PT_EPROTO, "wss auth: expected auth_challenge, got type \"%s\"",
                       ptu_printable(quote, sizeof quote, type->val, type->val_len));
    rc = parse_nonce(ptu_json_find(f, n, "nonce"), ch.nonce, err, errlen);
    if (rc != PT_OK)
        return rc;
    rc = parse_ts(ptu_json_find(f, n, "ts"), &ch, err, errlen);
    if (rc != PT_OK)
        return rc;
    *out = ch;
    return PT_OK;
}

/* ---- Signed text ------------------------------------------------------- */

int wss_auth_signed_text(uint32_t node_id, const wss_challenge *ch, char *buf, size_t cap)
{
    int n;

    if (!buf || cap == 0)
        return -1;
    buf[0] = '\0';
    if (!ch || !nonce_ok(ch->nonce, sizeof ch->nonce))
        return -1;
    if (ch->has_ts)
        n = snprintf(buf, cap, "compat_auth:%" PRIu32 ":%" PRIu64 ":%s", node_id, ch->ts,
                     ch->nonce);
    else
        n = snprintf(buf, cap, "compat_auth:%" PRIu32 ":%s", node_id, ch->nonce);
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return -1;
    }
    return n;
}

/* ---- Reply ------------------------------------------------------------- */

int wss_auth_check_identity(const pt_identity *id, char *err, size_t errlen)
{
    if (!id || !id->has_key)
        return ptu_err(err, errlen, PT_EINVAL, "wss auth: no identity key");
    if (id->node_id == 0)
        return ptu_err(err, errlen, PT_EINVAL, "wss auth: node id 0 is not allowed");
    /* nettle signs with the public key it is given; a wrong one would make
     * a signature the beacon rejects with no hint why. */
    if (!ptu_ed25519_public_matches(id->private_key, id->public_key))
        return ptu_err(err, errlen, PT_EINVAL,
                       "wss auth: identity public key does not match its private key");
    return PT_OK;
}

static int identity_sign(void *userdata, const uint8_t *message, size_t length,
                         uint8_t signature[64])
{
    const pt_identity *id = userdata;
    ed25519_sha512_sign(id->public_key, id->private_key, length, message, signature);
    return 0;
}

void wss_auth_identity_signer(const pt_identity *id, pt_signer *out)
{
    memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    out->node_id = id->node_id;
    memcpy(out->public_key, id->public_key, sizeof out->public_key);
    out->sign = identity_sign;
    /* sign only reads through it: the const is kept in spirit. */
    union { const pt_identity *c; void *m; } u = { id };
    out->userdata = u.m;
}

int wss_auth_build_reply(const pt_identity *id, const wss_challenge *ch, char *out, size_t cap,
                         char *err, size_t errlen)
{
    pt_signer s;
    int rc;

    if (out && cap > 0)
        out[0] = '\0';
    rc = wss_auth_check_identity(id, err, errlen);
    if (rc != PT_OK)
        return rc;
    wss_auth_identity_signer(id, &s);
    rc = wss_auth_build_signed_reply(&s, ch, out, cap, err, errlen);
    ptu_wipe(&s, sizeof s);
    return rc;
}

int wss_auth_build_signed_reply(const pt_signer *signer, const wss_challenge *ch, char *out,
                                size_t cap, char *err, size_t errlen)
{
    char text[WSS_AUTH_SIGNED_MAX];
    uint8_t sig[ED25519_SIGNATURE_SIZE];
    char pub_b64[PUB_B64_LEN + 1], sig_b64[SIG_B64_LEN + 1];
    int text_len, n, rc;

    if (out && cap > 0)
        out[0] = '\0';
    if (!signer || !signer->sign)
        return ptu_err(err, errlen, PT_EINVAL, "wss auth: no signer");
    if (signer->node_id == 0)
        return ptu_err(err, errlen, PT_EINVAL, "wss auth: node id 0 is not allowed");
    text_len = wss_auth_signed_text(signer->node_id, ch, text, sizeof text);
    if (text_len < 0)
        return ptu_err(err, errlen, PT_EINVAL, "wss auth: invalid challenge");
    if (!out || cap < WSS_AUTH_REPLY_MAX)
        return ptu_err(err, errlen, PT_EINVAL,
                       "wss auth: reply buffer too small (need %d bytes)", WSS_AUTH_REPLY_MAX);

    memset(sig, 0, sizeof sig);
    rc = signer->sign(signer->userdata, (const uint8_t *)text, (size_t)text_len, sig);
    if (rc != 0) {
        rc = ptu_err(err, errlen, PT_EAUTH,
                     "wss auth: the signer could not sign the challenge (sign returned %d)", rc);
        goto done;
    }
    /* The beacon checks against the key it has on record and says only
     * "auth failed": a signer whose key is not the one it names is
     * caught here, with a message that says so. */
    if (!ed25519_sha512_verify(signer->public_key, (size_t)text_len, (const uint8_t *)text,
                               sig)) {
        rc = ptu_err(err, errlen, PT_EAUTH,
                     "wss auth: the signer's signature does not match its public key "
                     "(node %" PRIu32 ")",
                     signer->node_id);
        goto done;
    }
    base64_encode_raw(pub_b64, ED25519_KEY_SIZE, signer->public_key);
    pub_b64[PUB_B64_LEN] = '\0';
    base64_encode_raw(sig_b64, ED25519_SIGNATURE_SIZE, sig);
    sig_b64[SIG_B64_LEN] = '\0';

    n = snprintf(out, cap, REPLY_HEAD "%" PRIu32 REPLY_PUB "%s" REPLY_SIG "%s" REPLY_TAIL,
                 signer->node_id, pub_b64, sig_b64);
    if (n < 0 || (size_t)n >= cap) { /* cannot happen: cap >= WSS_AUTH_REPLY_MAX */
        ptu_wipe(out, cap);
        out[0] = '\0';
        rc = ptu_err(err, errlen, PT_EINVAL, "wss auth: reply does not fit");
        goto done;
    }
    rc = n;
done:
    ptu_wipe(sig, sizeof sig);
    ptu_wipe(sig_b64, sizeof sig_b64);
    return rc;
}

/* ---- Verdict ----------------------------------------------------------- */

int wss_auth_check_ok(const char *msg, size_t len, char *err, size_t errlen)
{
    ptu_json_field f[MAX_MEMBERS];
    const ptu_json_field *type;
    char jerr[JSON_ERR_MAX], quote[QUOTE_BUF];
    size_t n;

    if (!msg && len > 0)
        return ptu_err(err, errlen, PT_EINVAL, "wss auth: invalid arguments");
    if (ptu_json_parse_object(msg, len, f, MAX_MEMBERS, &n, jerr, sizeof jerr) != 0)
        return ptu_err(err, errlen, PT_EPROTO, "wss auth: beacon's answer is not JSON: %s", jerr);
    type = ptu_json_find(f, n, "type");
    if (!type)
        return ptu_err(err, errlen, PT_EPROTO, "wss auth: beacon's answer has no type");
    if (type->type != PTU_JSON_STRING)
        return ptu_err(err, errlen, PT_EPROTO, "wss auth: beacon's answer type is not a string");
    if (string_is(type, "auth_ok"))
        return PT_OK;
    ptu_printable(quote, sizeof quote, type->val, type->val_len);
    if (type->val_len > WSS_AUTH_QUOTE_MAX) /* cut */
        return ptu_err(err, errlen, PT_EAUTH,
                       "wss auth: beacon answered \"%s\" instead of auth_ok "
                       "(type of %zu bytes, cut)",
                       quote, type->val_len);
    return ptu_err(err, errlen, PT_EAUTH, "wss auth: beacon answered \"%s\" instead of auth_ok",
                   quote);
}
