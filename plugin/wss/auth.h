/*
 * auth.h -- the WSS auth messages (SPEC 2.5): parse the beacon's challenge,
 * build our signed reply, check the beacon's verdict.  Internal to the WSS
 * plugin.  Prefix: wss_auth_.
 *
 *   beacon -> daemon  {"type":"auth_challenge","nonce":"<64 hex>","ts":<unix s>}
 *   daemon -> beacon  {"type":"auth_reply","node_id":<uint32>,
 *                      "public_key":"<base64 32 bytes>","sig":"<base64 64 bytes>"}
 *   beacon -> daemon  {"type":"auth_ok"}
 *
 * The message functions (auth.c) are pure: no I/O, no allocation, no
 * global state; safe from any thread.  wss_auth_exchange
 * (auth_exchange.c) runs the exchange on a link.  Input messages are len
 * bytes that need not be NUL-terminated and are never read past len.
 * Every function that takes err writes a NUL-terminated message starting
 * "wss auth: " into it on failure (err may be NULL or errlen 0).
 * Messages never contain key material or the signature; text from the
 * beacon is quoted only after sanitising (printable ASCII, at most
 * WSS_AUTH_QUOTE_MAX characters, then "...").
 */
#ifndef PT_WSS_AUTH_H
#define PT_WSS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "pilot_transport.h"

/* Length of a challenge nonce: 32 random bytes in hex. */
#define WSS_AUTH_NONCE_LEN 64

/* Largest challenge ts accepted: Go's time.Unix takes an int64. */
#define WSS_AUTH_TS_MAX ((uint64_t)INT64_MAX)

/* Output buffer size wss_auth_build_reply requires (the longest reply is
 * 199 bytes and its NUL). */
#define WSS_AUTH_REPLY_MAX 256

/* Room for the longest signed text and its NUL:
 * "compat_auth:" + 10 digits + ":" + 19 digits + ":" + 64 hex. */
#define WSS_AUTH_SIGNED_MAX 128

/* Peer-supplied text quoted in messages is cut to this many characters. */
#define WSS_AUTH_QUOTE_MAX 40

/* A parsed auth_challenge. */
typedef struct wss_challenge {
    char nonce[WSS_AUTH_NONCE_LEN + 1]; /* exactly as received, NUL-terminated */
    int has_ts;                          /* 0: an older beacon sent no "ts" */
    uint64_t ts;                         /* unix seconds, when has_ts */
} wss_challenge;

/* Parse the beacon's first text message, the auth_challenge.  "type" must
 * be the string "auth_challenge" (escapes decoded before comparing);
 * "nonce" exactly 64 characters of [0-9a-fA-F] as sent (a JSON escape in
 * it is refused, not decoded), kept as received, case included; "ts", when
 * present, a JSON integer 0..WSS_AUTH_TS_MAX without fraction or exponent
 * ("ts":0 counts as present; "ts":null is refused).  Other members are
 * ignored; keys are case-sensitive; a duplicate key is an error.
 * Returns PT_OK and fills *out, or on failure leaves *out zeroed and
 * returns
 *   PT_EPROTO  "wss auth: challenge is not JSON: json: ... at offset N",
 *              "... challenge has no type", "... challenge type is not a
 *              string", "... expected auth_challenge, got type \"foo\"",
 *              "... challenge has no nonce", "... challenge nonce is not a
 *              string", "... challenge nonce must be 64 hex characters (got
 *              3)" or "(character 5 is not hex)", "... challenge ts is not a
 *              non-negative integer", "... challenge ts is too large";
 *   PT_EINVAL  msg NULL with len > 0, or out NULL. */
int wss_auth_parse_challenge(const char *msg, size_t len, wss_challenge *out, char *err,
                             size_t errlen);

/* Write the bytes to sign into buf (cap bytes), NUL-terminated:
 * "compat_auth:<node_id>:<ts>:<nonce>" when ch->has_ts, else
 * "compat_auth:<node_id>:<nonce>", numbers in decimal.  Returns the length
 * written (excluding the NUL), or -1, buf set to "" when cap > 0, if it
 * does not fit, buf or ch is NULL, or ch->nonce is not 64 hex characters.
 * node_id 0 is formatted like any other; wss_auth_build_reply refuses it. */
int wss_auth_signed_text(uint32_t node_id, const wss_challenge *ch, char *buf, size_t cap);

/* Build the auth_reply for challenge ch as identity id: signs
 * wss_auth_signed_text(id->node_id, ch) with Ed25519 and writes
 *   {"type":"auth_reply","node_id":N,"public_key":"<b64>","sig":"<b64>"}
 * into out (cap bytes, NUL-terminated; standard base64 with padding).
 * Only reads *id; temporary copies of the signature are wiped.  Returns
 * the reply's length, or on failure (out set to "" when it can be)
 *   PT_EINVAL  "wss auth: no identity key" (id NULL or !id->has_key),
 *              "wss auth: node id 0 is not allowed",
 *              "wss auth: identity public key does not match its private
 *              key", "wss auth: invalid challenge" (ch NULL or its nonce
 *              not 64 hex characters), "wss auth: reply buffer too small
 *              (need WSS_AUTH_REPLY_MAX bytes)" (out NULL or cap smaller). */
int wss_auth_build_reply(const pt_identity *id, const wss_challenge *ch, char *out, size_t cap,
                         char *err, size_t errlen);

/* The same reply, signed by signer (ABI 1.2: the key stays with the
 * host): signer->sign is called once, with the text to sign, and its
 * signature is checked against signer->public_key before it is sent, so
 * that a signer holding another key fails here with a message that says
 * so instead of as a bare refusal from the beacon.  The node id and the
 * public key in the reply are the signer's.  Returns the reply's length,
 * or on failure (out set to "" when it can be)
 *   PT_EAUTH   "wss auth: the signer could not sign the challenge (sign
 *              returned N)", "wss auth: the signer's signature does not
 *              match its public key";
 *   PT_EINVAL  "wss auth: no signer" (signer or its sign NULL), node id 0,
 *              an invalid challenge, a reply buffer too small (as above). */
int wss_auth_build_signed_reply(const pt_signer *signer, const wss_challenge *ch, char *out,
                                size_t cap, char *err, size_t errlen);

/* A signer for identity id, which must outlive it: signs with id's private
 * key.  The caller checks the key first (wss_auth_check_identity). */
void wss_auth_identity_signer(const pt_identity *id, pt_signer *out);

/* PT_OK, or PT_EINVAL with the reasons wss_auth_build_reply gives for id
 * ("no identity key", "node id 0 is not allowed", "identity public key
 * does not match its private key"). */
int wss_auth_check_identity(const pt_identity *id, char *err, size_t errlen);

/* Check the beacon's answer to our reply.  {"type":"auth_ok"} (other
 * members ignored) returns PT_OK.  A JSON object with another string type
 * returns PT_EAUTH "wss auth: beacon answered \"<type>\" instead of
 * auth_ok" (the type as sent, sanitised; its length in bytes is added when
 * it was cut).  Returns PT_EPROTO when the answer is not one JSON object
 * ("wss auth: beacon's answer is not JSON: json: ..."), has no type or a
 * type that is not a string; PT_EINVAL when msg is NULL with len > 0. */
int wss_auth_check_ok(const char *msg, size_t len, char *err, size_t errlen);

typedef struct wss_link wss_link;

/* The exchange on link l, right after the upgrade: read the challenge,
 * send the reply signed by signer (wss_auth_build_signed_reply), read
 * auth_ok; pings are answered on the
 * way.  Finished by deadline_ms or abandoned when cancel_fd polls
 * readable.  The signed reply is wiped from our buffers and the link's
 * send buffer.  Returns PT_OK, or PT_EAUTH ("wss auth: beacon closed the
 * connection: 1008 auth failed", "... while waiting for the auth_ok: ..."),
 * PT_EPROTO (a binary message, a malformed challenge), PT_ETIMEDOUT ("wss
 * auth: no auth challenge within the dial timeout"), PT_ECLOSED, PT_EINVAL
 * (the signer), PT_ETOOLARGE; PT_EAUTH also when the signer fails. */
int wss_auth_exchange(wss_link *l, const pt_signer *signer, int cancel_fd, int64_t deadline_ms,
                      char *err, size_t errlen);

#endif
