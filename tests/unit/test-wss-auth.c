/* test-wss-auth.c -- the WSS auth messages: challenge, reply, verdict (SPEC 2.5). */
#include "config.h"

#include "auth.h"
#include "json.h"
#include "tap.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/base64.h>
#include <nettle/eddsa.h>

/* RFC 8032, section 7.1, test 1. */
#define SEED_HEX "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define PUB_HEX "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define PUB_B64 "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define SEED_B64 "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="

/* A nonce in mixed case: it must be signed exactly as sent. */
#define NONCE "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"
#define NONCE2 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

/* Ed25519 signatures of "compat_auth:42:1700000000:" NONCE and
 * "compat_auth:42:" NONCE with the RFC 8032 test 1 key.  Obtained once,
 * independently of nettle, with python3's cryptography 48.0.0:
 *   k = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SEED_HEX))
 *   base64.b64encode(k.sign(text.encode()))
 * The tests below also verify them with nettle. */
#define SIG_TS_B64 \
    "lhSJvcLn/IOtVAJDL3P8aP7EO+/O8VegWZOr8lpOwlm+E+icYYLv1R7xlrjNvvq//h6wTBsjE2HRPo15UGN8Ag=="
#define SIG_NOTS_B64 \
    "7/pdESn/elRwWvfKgfddKYiUrnYYOO/s9M/ZxZXfUfH21MHms3ruNdjZ8tmlU42h4aUJLAjHHqspYRFOzL4iDQ=="

#define CHALLENGE_TS "{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE "\",\"ts\":1700000000}"
#define CHALLENGE_NOTS "{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE "\"}"

static char err[PT_ERRMSG_MAX];

/* ---- Fixtures ---------------------------------------------------------- */

static void from_hex(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            exit(99);
        out[i] = (uint8_t)v;
    }
}

static pt_identity test_identity(uint32_t node_id)
{
    pt_identity id;
    memset(&id, 0, sizeof id);
    id.node_id = node_id;
    from_hex(SEED_HEX, id.private_key, 32);
    from_hex(PUB_HEX, id.private_key + 32, 32);
    from_hex(PUB_HEX, id.public_key, 32);
    id.has_key = 1;
    return id;
}

static wss_challenge challenge(const char *nonce, int has_ts, uint64_t ts)
{
    wss_challenge ch;
    memset(&ch, 0, sizeof ch);
    snprintf(ch.nonce, sizeof ch.nonce, "%s", nonce);
    ch.has_ts = has_ts;
    ch.ts = ts;
    return ch;
}

/* Copy len bytes into a heap block of exactly that size, so that the
 * sanitizers and valgrind catch any read past len. */
static char *exact_copy(const char *text, size_t len)
{
    char *p = malloc(len ? len : 1);
    if (!p)
        exit(99);
    memcpy(p, text, len);
    return p;
}

static int parse_n(const char *text, size_t len, wss_challenge *ch)
{
    char *p = exact_copy(text, len);
    int rc;
    memset(ch, 0x5A, sizeof *ch); /* garbage the parser must replace */
    err[0] = '\0';
    rc = wss_auth_parse_challenge(p, len, ch, err, sizeof err);
    free(p);
    return rc;
}

static int parse(const char *text, wss_challenge *ch)
{
    return parse_n(text, strlen(text), ch);
}

static int check_ok_n(const char *text, size_t len)
{
    char *p = exact_copy(text, len);
    int rc;
    err[0] = '\0';
    rc = wss_auth_check_ok(p, len, err, sizeof err);
    free(p);
    return rc;
}

static int check_ok(const char *text)
{
    return check_ok_n(text, strlen(text));
}

static int is_zeroed(const wss_challenge *ch)
{
    static const wss_challenge zero;
    return memcmp(ch, &zero, sizeof zero) == 0;
}

/* Expect a refused challenge: PT_EPROTO, the exact message, *ch zeroed. */
static void expect_refused(const char *text, const char *message)
{
    wss_challenge ch;
    CHECK_EQ_INT(parse(text, &ch), PT_EPROTO);
    CHECK_STR_EQ(err, message);
    CHECK(is_zeroed(&ch));
}

/* Is every byte of s printable ASCII? */
static int printable(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s >= 0x7f)
            return 0;
    return 1;
}

/* Standard base64 to bytes: the decoded length, or -1. */
static int unb64(const char *s, size_t n, uint8_t *out, size_t cap)
{
    struct base64_decode_ctx ctx;
    size_t got = cap;
    if (BASE64_DECODE_LENGTH(n) > cap)
        return -1;
    base64_decode_init(&ctx);
    if (!base64_decode_update(&ctx, &got, out, n, s) || !base64_decode_final(&ctx))
        return -1;
    return (int)got;
}

/* The value of string member key of the JSON object text, or "" . */
static void member(const char *text, const char *key, char *out, size_t cap)
{
    ptu_json_field f[8];
    size_t n;
    out[0] = '\0';
    if (ptu_json_parse_object(text, strlen(text), f, 8, &n, NULL, 0) == 0)
        (void)ptu_json_string(ptu_json_find(f, n, key), out, cap);
}

/* Does the "sig" of reply verify, with the RFC key, over text? */
static int sig_verifies(const char *reply, const char *text)
{
    char b64[128];
    uint8_t sig[96], pub[32];
    from_hex(PUB_HEX, pub, 32);
    member(reply, "sig", b64, sizeof b64);
    if (unb64(b64, strlen(b64), sig, sizeof sig) != ED25519_SIGNATURE_SIZE)
        return 0;
    return ed25519_sha512_verify(pub, strlen(text), (const uint8_t *)text, sig);
}

static int build(const pt_identity *id, const wss_challenge *ch, char *out, size_t cap)
{
    err[0] = '\0';
    return wss_auth_build_reply(id, ch, out, cap, err, sizeof err);
}

/* Error messages must never hold the key or a signature. */
static void check_no_secrets(const char *msg)
{
    CHECK(strstr(msg, SEED_B64) == NULL);
    CHECK(strstr(msg, PUB_B64) == NULL);
    CHECK(strstr(msg, SEED_HEX) == NULL);
    CHECK(strstr(msg, "lhSJvcLn") == NULL);
    CHECK(strstr(msg, "7/pdESn") == NULL);
}

/* ---- Challenge: accepted ----------------------------------------------- */

TEST(challenge_with_ts_parses)
{
    wss_challenge ch;
    CHECK_EQ_INT(parse(CHALLENGE_TS, &ch), PT_OK);
    CHECK_STR_EQ(ch.nonce, NONCE);
    CHECK_EQ_INT(ch.has_ts, 1);
    CHECK(ch.ts == 1700000000u);
}

TEST(challenge_without_ts_parses)
{
    wss_challenge ch;
    CHECK_EQ_INT(parse(CHALLENGE_NOTS, &ch), PT_OK);
    CHECK_STR_EQ(ch.nonce, NONCE);
    CHECK_EQ_INT(ch.has_ts, 0);
    CHECK(ch.ts == 0);
}

TEST(challenge_nonce_is_kept_exactly_with_its_case)
{
    wss_challenge ch;
    const char *t = "{\"type\":\"auth_challenge\",\"nonce\":"
                    "\"aBcDeF0123456789AbCdEf0123456789abcdefABCDEF0123456789aAbBcCdDeE\"}";
    CHECK_EQ_INT(parse(t, &ch), PT_OK);
    CHECK_STR_EQ(ch.nonce, "aBcDeF0123456789AbCdEf0123456789abcdefABCDEF0123456789aAbBcCdDeE");
}

TEST(challenge_extra_members_and_whitespace_are_ignored)
{
    wss_challenge ch;
    const char *t = " \n{ \"v\" : 2, \"ts\" : 1700000001 ,\"region\":\"eu\",\n"
                    "  \"nonce\" : \"" NONCE "\", \"opts\": {\"a\": [1, null, true]},\n"
                    "  \"type\" : \"auth_challenge\" } \r\n";
    CHECK_EQ_INT(parse(t, &ch), PT_OK);
    CHECK_STR_EQ(ch.nonce, NONCE);
    CHECK_EQ_INT(ch.has_ts, 1);
    CHECK(ch.ts == 1700000001u);
}

TEST(challenge_type_is_compared_after_decoding_escapes)
{
    wss_challenge ch;
    const char *t = "{\"type\":\"auth\\u005fchallenge\",\"nonce\":\"" NONCE "\"}";
    CHECK_EQ_INT(parse(t, &ch), PT_OK);
    CHECK_STR_EQ(ch.nonce, NONCE);
}

TEST(challenge_ts_zero_and_int64_max_are_accepted)
{
    wss_challenge ch;
    CHECK_EQ_INT(parse("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE "\",\"ts\":0}", &ch),
                 PT_OK);
    CHECK_EQ_INT(ch.has_ts, 1); /* present, so it is signed */
    CHECK(ch.ts == 0);
    CHECK_EQ_INT(parse("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE
                       "\",\"ts\":9223372036854775807}",
                       &ch),
                 PT_OK);
    CHECK(ch.ts == UINT64_C(9223372036854775807));
}

/* ---- Challenge: refused ------------------------------------------------ */

TEST(challenge_that_is_not_json_is_refused)
{
    wss_challenge ch;
    CHECK_EQ_INT(parse("hello beacon", &ch), PT_EPROTO);
    CHECK_STR_EQ(err, "wss auth: challenge is not JSON: json: expected '{' (input must be one "
                      "JSON object) at offset 0");
    CHECK(is_zeroed(&ch));
    CHECK_EQ_INT(parse("{\"type\":\"auth_challenge\",}", &ch), PT_EPROTO);
    CHECK_STR_CONTAINS(err, "wss auth: challenge is not JSON: json: ");
    CHECK_STR_CONTAINS(err, "at offset 25");
    CHECK_EQ_INT(parse("", &ch), PT_EPROTO);
    CHECK_STR_CONTAINS(err, "wss auth: challenge is not JSON: ");
}

TEST(challenge_that_is_a_json_array_is_refused)
{
    wss_challenge ch;
    CHECK_EQ_INT(parse("[\"auth_challenge\",\"" NONCE "\"]", &ch), PT_EPROTO);
    CHECK_STR_EQ(err, "wss auth: challenge is not JSON: json: expected '{' (input must be one "
                      "JSON object) at offset 0");
    CHECK(is_zeroed(&ch));
}

TEST(challenge_with_a_wrong_type_names_it)
{
    expect_refused("{\"type\":\"foo\",\"nonce\":\"" NONCE "\"}",
                   "wss auth: expected auth_challenge, got type \"foo\"");
    expect_refused("{\"type\":\"auth_ok\"}", "wss auth: expected auth_challenge, got type \"auth_ok\"");
    expect_refused("{\"type\":\"Auth_Challenge\",\"nonce\":\"" NONCE "\"}",
                   "wss auth: expected auth_challenge, got type \"Auth_Challenge\"");
}

TEST(challenge_wrong_type_is_sanitised_in_the_message)
{
    wss_challenge ch;
    char t[2048];
    /* Raw bytes >= 0x7f become '?'; escapes are shown as sent. */
    CHECK_EQ_INT(parse("{\"type\":\"x\x7f\xc3\xa9\\u0007y\"}", &ch), PT_EPROTO);
    CHECK_STR_EQ(err, "wss auth: expected auth_challenge, got type \"x???\\u0007y\"");
    /* Long types are cut to 40 characters. */
    snprintf(t, sizeof t, "{\"type\":\"%01000d\"}", 7);
    CHECK_EQ_INT(parse(t, &ch), PT_EPROTO);
    CHECK_STR_EQ(err, "wss auth: expected auth_challenge, got type "
                      "\"0000000000000000000000000000000000000000...\"");
    CHECK(printable(err));
}

TEST(challenge_without_type_is_refused)
{
    expect_refused("{\"nonce\":\"" NONCE "\",\"ts\":1}", "wss auth: challenge has no type");
    expect_refused("{}", "wss auth: challenge has no type");
    expect_refused("{\"Type\":\"auth_challenge\",\"nonce\":\"" NONCE "\"}",
                   "wss auth: challenge has no type");
}

TEST(challenge_type_that_is_not_a_string_is_refused)
{
    expect_refused("{\"type\":1,\"nonce\":\"" NONCE "\"}", "wss auth: challenge type is not a string");
    expect_refused("{\"type\":null}", "wss auth: challenge type is not a string");
    expect_refused("{\"type\":[\"auth_challenge\"]}", "wss auth: challenge type is not a string");
}

TEST(challenge_without_nonce_is_refused)
{
    expect_refused("{\"type\":\"auth_challenge\",\"ts\":1700000000}",
                   "wss auth: challenge has no nonce");
}

TEST(challenge_nonce_that_is_not_a_string_is_refused)
{
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":12345}",
                   "wss auth: challenge nonce is not a string");
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":null}",
                   "wss auth: challenge nonce is not a string");
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":[\"" NONCE "\"]}",
                   "wss auth: challenge nonce is not a string");
}

TEST(challenge_nonce_of_63_characters_is_refused)
{
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\""
                   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeef\"}",
                   "wss auth: challenge nonce must be 64 hex characters (got 63)");
}

TEST(challenge_nonce_of_65_characters_is_refused)
{
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE "0\"}",
                   "wss auth: challenge nonce must be 64 hex characters (got 65)");
}

TEST(challenge_short_nonce_reports_its_length)
{
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"abc\"}",
                   "wss auth: challenge nonce must be 64 hex characters (got 3)");
}

TEST(challenge_empty_nonce_is_refused)
{
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"\"}",
                   "wss auth: challenge nonce must be 64 hex characters (got 0)");
}

TEST(challenge_nonce_with_a_non_hex_character_is_refused)
{
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\""
                   "001122334g5566778899aabbccddeeff00112233445566778899aabbccddeeff\"}",
                   "wss auth: challenge nonce must be 64 hex characters (character 10 is not hex)");
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\""
                   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeef \"}",
                   "wss auth: challenge nonce must be 64 hex characters (character 64 is not hex)");
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\""
                   "x0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}",
                   "wss auth: challenge nonce must be 64 hex characters (character 1 is not hex)");
}

TEST(challenge_nonce_with_a_json_escape_is_refused)
{
    /* 64 characters as sent, one of them the start of an escape: the nonce
     * is signed as sent, so escapes are not decoded but refused. */
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\""
                   "\\u0030112233445566778899aabbccddeeff00112233445566778899aabbccdd\"}",
                   "wss auth: challenge nonce must be 64 hex characters (character 1 is not hex)");
}

TEST(challenge_negative_ts_is_refused)
{
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE "\",\"ts\":-1}",
                   "wss auth: challenge ts is not a non-negative integer");
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE "\",\"ts\":-0}",
                   "wss auth: challenge ts is not a non-negative integer");
}

TEST(challenge_fractional_ts_is_refused)
{
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE "\",\"ts\":1700000000.5}",
                   "wss auth: challenge ts is not a non-negative integer");
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE "\",\"ts\":1700000000.0}",
                   "wss auth: challenge ts is not a non-negative integer");
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE "\",\"ts\":17e8}",
                   "wss auth: challenge ts is not a non-negative integer");
}

TEST(challenge_ts_as_a_string_is_refused)
{
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE "\",\"ts\":\"1700000000\"}",
                   "wss auth: challenge ts is not a non-negative integer");
}

TEST(challenge_ts_null_is_refused)
{
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE "\",\"ts\":null}",
                   "wss auth: challenge ts is not a non-negative integer");
}

TEST(challenge_huge_ts_is_refused)
{
    /* 2^63, 2^64 and far beyond: Go's int64 seconds end at 2^63 - 1. */
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE
                   "\",\"ts\":9223372036854775808}",
                   "wss auth: challenge ts is too large");
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE
                   "\",\"ts\":18446744073709551616}",
                   "wss auth: challenge ts is too large");
    expect_refused("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE
                   "\",\"ts\":99999999999999999999999999999999999999}",
                   "wss auth: challenge ts is too large");
}

TEST(challenge_with_a_duplicate_key_is_refused)
{
    wss_challenge ch;
    CHECK_EQ_INT(parse("{\"type\":\"auth_challenge\",\"nonce\":\"" NONCE "\",\"nonce\":\"" NONCE2
                       "\"}",
                       &ch),
                 PT_EPROTO);
    CHECK_STR_CONTAINS(err, "wss auth: challenge is not JSON: json: duplicate key");
    CHECK(is_zeroed(&ch));
}

TEST(challenge_truncated_at_every_length_fails_cleanly)
{
    static const char *const whole[] = { CHALLENGE_TS, CHALLENGE_NOTS };
    wss_challenge ch;
    for (size_t w = 0; w < 2; w++) {
        size_t len = strlen(whole[w]);
        for (size_t i = 0; i < len; i++) {
            int rc = parse_n(whole[w], i, &ch);
            CHECK_EQ_INT(rc, PT_EPROTO);
            CHECK(strncmp(err, "wss auth: challenge is not JSON: json: ", 39) == 0);
            CHECK(is_zeroed(&ch));
            if (rc != PT_EPROTO)
                printf("# prefix of %zu bytes was accepted\n", i);
        }
        CHECK_EQ_INT(parse_n(whole[w], len, &ch), PT_OK);
    }
}

TEST(challenge_with_an_embedded_nul_is_refused)
{
    static const char in_nonce[] = "{\"type\":\"auth_challenge\",\"nonce\":\"0011\0"
                                   "2233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}";
    static const char after[] = CHALLENGE_TS "\0";
    static const char in_type[] = "{\"type\":\"auth_\0challenge\",\"nonce\":\"" NONCE "\"}";
    static const char escaped[] = "{\"type\":\"auth_challenge\\u0000\",\"nonce\":\"" NONCE "\"}";
    wss_challenge ch;

    CHECK_EQ_INT(parse_n(in_nonce, sizeof in_nonce - 1, &ch), PT_EPROTO);
    CHECK_STR_CONTAINS(err, "wss auth: challenge is not JSON: json: ");
    CHECK(is_zeroed(&ch));
    CHECK_EQ_INT(parse_n(after, sizeof after - 1, &ch), PT_EPROTO);
    CHECK_STR_CONTAINS(err, "unexpected data after the object");
    CHECK_EQ_INT(parse_n(in_type, sizeof in_type - 1, &ch), PT_EPROTO);
    CHECK_STR_CONTAINS(err, "wss auth: challenge is not JSON: json: ");
    /* \u0000 is valid JSON, but no such type is auth_challenge. */
    CHECK_EQ_INT(parse_n(escaped, sizeof escaped - 1, &ch), PT_EPROTO);
    CHECK_STR_EQ(err, "wss auth: expected auth_challenge, got type \"auth_challenge\\u0000\"");
}

TEST(challenge_with_bad_arguments_is_einval)
{
    wss_challenge ch;
    CHECK_EQ_INT(wss_auth_parse_challenge(CHALLENGE_TS, strlen(CHALLENGE_TS), NULL, err,
                                          sizeof err),
                 PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: invalid arguments");
    memset(&ch, 0x5A, sizeof ch);
    CHECK_EQ_INT(wss_auth_parse_challenge(NULL, 5, &ch, err, sizeof err), PT_EINVAL);
    CHECK(is_zeroed(&ch));
    /* NULL/0 error buffers are fine. */
    CHECK_EQ_INT(wss_auth_parse_challenge("x", 1, &ch, NULL, 0), PT_EPROTO);
    CHECK_EQ_INT(wss_auth_parse_challenge(CHALLENGE_TS, strlen(CHALLENGE_TS), &ch, NULL, 0),
                 PT_OK);
}

TEST(challenge_messages_are_cut_to_a_small_error_buffer)
{
    wss_challenge ch;
    char small[12];
    memset(small, 'Z', sizeof small);
    CHECK_EQ_INT(wss_auth_parse_challenge("{}", 2, &ch, small, 8), PT_EPROTO);
    CHECK_STR_EQ(small, "wss aut");
    CHECK(small[8] == 'Z');
}

/* ---- Signed text ------------------------------------------------------- */

TEST(signed_text_with_ts_is_exact)
{
    wss_challenge ch = challenge(NONCE, 1, 1700000000);
    char buf[WSS_AUTH_SIGNED_MAX];
    const char *want = "compat_auth:42:1700000000:" NONCE;
    CHECK_EQ_INT(wss_auth_signed_text(42, &ch, buf, sizeof buf), strlen(want));
    CHECK_STR_EQ(buf, want);
}

TEST(signed_text_without_ts_is_exact)
{
    wss_challenge ch = challenge(NONCE, 0, 1700000000); /* ts ignored */
    char buf[WSS_AUTH_SIGNED_MAX];
    const char *want = "compat_auth:42:" NONCE;
    CHECK_EQ_INT(wss_auth_signed_text(42, &ch, buf, sizeof buf), strlen(want));
    CHECK_STR_EQ(buf, want);
}

TEST(signed_text_of_the_largest_numbers_fits_the_maximum)
{
    wss_challenge ch = challenge(NONCE, 1, UINT64_C(9223372036854775807));
    char buf[WSS_AUTH_SIGNED_MAX];
    const char *want = "compat_auth:4294967295:9223372036854775807:" NONCE;
    CHECK_EQ_INT(wss_auth_signed_text(UINT32_MAX, &ch, buf, sizeof buf), strlen(want));
    CHECK_STR_EQ(buf, want);
}

TEST(signed_text_that_does_not_fit_is_minus_one)
{
    wss_challenge ch = challenge(NONCE, 1, 1700000000);
    const char *want = "compat_auth:42:1700000000:" NONCE;
    size_t len = strlen(want);
    char buf[WSS_AUTH_SIGNED_MAX];

    memset(buf, 'Z', sizeof buf);
    CHECK_EQ_INT(wss_auth_signed_text(42, &ch, buf, len), -1); /* no room for the NUL */
    CHECK_STR_EQ(buf, "");
    CHECK(buf[len] == 'Z');
    CHECK_EQ_INT(wss_auth_signed_text(42, &ch, buf, 1), -1);
    CHECK_STR_EQ(buf, "");
    CHECK_EQ_INT(wss_auth_signed_text(42, &ch, buf, 0), -1);
    CHECK_EQ_INT(wss_auth_signed_text(42, &ch, buf, len + 1), len);
    CHECK_STR_EQ(buf, want);
}

TEST(signed_text_refuses_a_bad_challenge)
{
    wss_challenge ch = challenge("abc", 0, 0);
    char buf[WSS_AUTH_SIGNED_MAX];
    CHECK_EQ_INT(wss_auth_signed_text(42, &ch, buf, sizeof buf), -1);
    CHECK_STR_EQ(buf, "");
    ch = challenge(NONCE, 0, 0);
    ch.nonce[7] = 'x';
    CHECK_EQ_INT(wss_auth_signed_text(42, &ch, buf, sizeof buf), -1);
    memset(ch.nonce, 'a', sizeof ch.nonce); /* no NUL within the array */
    CHECK_EQ_INT(wss_auth_signed_text(42, &ch, buf, sizeof buf), -1);
    CHECK_EQ_INT(wss_auth_signed_text(42, NULL, buf, sizeof buf), -1);
    ch = challenge(NONCE, 0, 0);
    CHECK_EQ_INT(wss_auth_signed_text(42, &ch, NULL, 100), -1);
}

/* ---- Reply ------------------------------------------------------------- */

TEST(reply_is_the_documented_json)
{
    pt_identity id = test_identity(42);
    wss_challenge ch = challenge(NONCE, 1, 1700000000);
    char out[WSS_AUTH_REPLY_MAX], val[128];
    uint8_t key[96], pub[32];
    ptu_json_field f[8];
    const ptu_json_field *node;
    uint64_t node_id = 0;
    size_t n = 0;
    int len;

    len = build(&id, &ch, out, sizeof out);
    CHECK(len > 0);
    CHECK_EQ_INT(len, strlen(out));
    CHECK_EQ_INT(ptu_json_parse_object(out, strlen(out), f, 8, &n, NULL, 0), 0);
    CHECK_EQ_INT(n, 4);
    member(out, "type", val, sizeof val);
    CHECK_STR_EQ(val, "auth_reply");
    node = ptu_json_find(f, n, "node_id");
    CHECK(node && node->type == PTU_JSON_NUMBER);
    CHECK_EQ_INT(ptu_json_uint64(node, UINT32_MAX, &node_id), 0);
    CHECK_EQ_INT(node_id, 42);
    member(out, "public_key", val, sizeof val);
    CHECK_STR_EQ(val, PUB_B64);
    from_hex(PUB_HEX, pub, 32);
    CHECK_EQ_INT(unb64(val, strlen(val), key, sizeof key), 32);
    CHECK(memcmp(key, pub, 32) == 0);
    member(out, "sig", val, sizeof val);
    CHECK_EQ_INT(strlen(val), 88);
    CHECK_EQ_INT(unb64(val, strlen(val), key, sizeof key), 64);
}

TEST(reply_signature_with_ts_verifies)
{
    pt_identity id = test_identity(42);
    wss_challenge ch = challenge(NONCE, 1, 1700000000);
    char out[WSS_AUTH_REPLY_MAX];
    CHECK(build(&id, &ch, out, sizeof out) > 0);
    CHECK(sig_verifies(out, "compat_auth:42:1700000000:" NONCE));
}

TEST(reply_signature_without_ts_verifies)
{
    pt_identity id = test_identity(42);
    wss_challenge ch = challenge(NONCE, 0, 0);
    char out[WSS_AUTH_REPLY_MAX];
    CHECK(build(&id, &ch, out, sizeof out) > 0);
    CHECK(sig_verifies(out, "compat_auth:42:" NONCE));
}

TEST(reply_signature_is_bound_to_node_nonce_and_ts)
{
    pt_identity id = test_identity(42);
    wss_challenge ch = challenge(NONCE, 1, 1700000000);
    char out[WSS_AUTH_REPLY_MAX];
    CHECK(build(&id, &ch, out, sizeof out) > 0);
    CHECK(sig_verifies(out, "compat_auth:42:1700000000:" NONCE));
    CHECK(!sig_verifies(out, "compat_auth:43:1700000000:" NONCE));
    CHECK(!sig_verifies(out, "compat_auth:42:1700000000:" NONCE2));
    CHECK(!sig_verifies(out, "compat_auth:42:1700000001:" NONCE));
    CHECK(!sig_verifies(out, "compat_auth:42:" NONCE));
    /* The nonce is signed with its case as sent. */
    CHECK(!sig_verifies(out, "compat_auth:42:1700000000:"
                             "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"));
}

TEST(reply_matches_an_independent_ed25519_signature)
{
    pt_identity id = test_identity(42);
    wss_challenge ts = challenge(NONCE, 1, 1700000000), nots = challenge(NONCE, 0, 0);
    char out[WSS_AUTH_REPLY_MAX];
    const char *want_ts = "{\"type\":\"auth_reply\",\"node_id\":42,\"public_key\":\"" PUB_B64
                          "\",\"sig\":\"" SIG_TS_B64 "\"}";
    const char *want_nots = "{\"type\":\"auth_reply\",\"node_id\":42,\"public_key\":\"" PUB_B64
                            "\",\"sig\":\"" SIG_NOTS_B64 "\"}";

    CHECK_EQ_INT(build(&id, &ts, out, sizeof out), strlen(want_ts));
    CHECK_STR_EQ(out, want_ts);
    CHECK(sig_verifies(want_ts, "compat_auth:42:1700000000:" NONCE));
    CHECK_EQ_INT(build(&id, &nots, out, sizeof out), strlen(want_nots));
    CHECK_STR_EQ(out, want_nots);
    CHECK(sig_verifies(want_nots, "compat_auth:42:" NONCE));
}

TEST(reply_of_the_largest_numbers_fits)
{
    pt_identity id = test_identity(UINT32_MAX);
    wss_challenge ch = challenge(NONCE, 1, UINT64_C(9223372036854775807));
    char out[WSS_AUTH_REPLY_MAX];
    int len = build(&id, &ch, out, sizeof out);
    CHECK_EQ_INT(len, 199);
    CHECK_STR_CONTAINS(out, "\"node_id\":4294967295,");
    CHECK(sig_verifies(out, "compat_auth:4294967295:9223372036854775807:" NONCE));
}

TEST(reply_leaves_the_identity_untouched)
{
    pt_identity id = test_identity(42), before = id;
    wss_challenge ch = challenge(NONCE, 1, 1700000000), ch_before = ch;
    char out[WSS_AUTH_REPLY_MAX];
    CHECK(build(&id, &ch, out, sizeof out) > 0);
    CHECK(memcmp(&id, &before, sizeof id) == 0);
    CHECK(memcmp(&ch, &ch_before, sizeof ch) == 0);
}

TEST(reply_refuses_node_id_zero)
{
    pt_identity id = test_identity(0);
    wss_challenge ch = challenge(NONCE, 1, 1700000000);
    char out[WSS_AUTH_REPLY_MAX];
    memset(out, 'Z', sizeof out);
    CHECK_EQ_INT(build(&id, &ch, out, sizeof out), PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: node id 0 is not allowed");
    CHECK_STR_EQ(out, "");
}

TEST(reply_refuses_a_missing_key)
{
    pt_identity id = test_identity(42);
    wss_challenge ch = challenge(NONCE, 1, 1700000000);
    char out[WSS_AUTH_REPLY_MAX];
    id.has_key = 0;
    CHECK_EQ_INT(build(&id, &ch, out, sizeof out), PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: no identity key");
    CHECK_STR_EQ(out, "");
    CHECK_EQ_INT(build(NULL, &ch, out, sizeof out), PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: no identity key");
}

TEST(reply_refuses_a_public_key_that_does_not_match_the_seed)
{
    pt_identity id = test_identity(42);
    wss_challenge ch = challenge(NONCE, 1, 1700000000);
    char out[WSS_AUTH_REPLY_MAX];
    id.public_key[5] ^= 0x10;
    CHECK_EQ_INT(build(&id, &ch, out, sizeof out), PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: identity public key does not match its private key");
    CHECK_STR_EQ(out, "");
    check_no_secrets(err);
}

TEST(reply_refuses_an_invalid_challenge)
{
    pt_identity id = test_identity(42);
    wss_challenge ch = challenge("abc", 1, 1700000000);
    char out[WSS_AUTH_REPLY_MAX];
    CHECK_EQ_INT(build(&id, &ch, out, sizeof out), PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: invalid challenge");
    CHECK_EQ_INT(build(&id, NULL, out, sizeof out), PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: invalid challenge");
}

TEST(reply_refuses_a_small_output_buffer_cleanly)
{
    pt_identity id = test_identity(42);
    wss_challenge ch = challenge(NONCE, 1, 1700000000);
    char *out = malloc(WSS_AUTH_REPLY_MAX - 1); /* exact: overruns would show */

    if (!out)
        exit(99);
    memset(out, 'Z', WSS_AUTH_REPLY_MAX - 1);
    CHECK_EQ_INT(build(&id, &ch, out, WSS_AUTH_REPLY_MAX - 1), PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: reply buffer too small (need 256 bytes)");
    CHECK_STR_EQ(out, "");
    CHECK(out[1] == 'Z'); /* nothing else written */
    CHECK_EQ_INT(build(&id, &ch, out, 0), PT_EINVAL);
    CHECK_EQ_INT(build(&id, &ch, NULL, WSS_AUTH_REPLY_MAX), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "reply buffer too small");
    free(out);
}

TEST(reply_messages_hold_no_key_material)
{
    pt_identity id = test_identity(0);
    wss_challenge ch = challenge(NONCE, 1, 1700000000);
    char out[WSS_AUTH_REPLY_MAX];
    CHECK_EQ_INT(build(&id, &ch, out, sizeof out), PT_EINVAL);
    check_no_secrets(err);
    id.node_id = 42;
    CHECK_EQ_INT(build(&id, &ch, out, 10), PT_EINVAL);
    check_no_secrets(err);
    CHECK(printable(err));
}

/* ---- Reply through a signer (ABI 1.2) ---------------------------------- */

/* A host's signer over test_identity's key: counts its calls, keeps the
 * text it was given, fails with fail when that is non-zero. */
static struct {
    pt_identity key;
    int calls, fail;
    char text[WSS_AUTH_SIGNED_MAX];
} host;

static int host_sign(void *userdata, const uint8_t *message, size_t length,
                     uint8_t signature[64])
{
    (void)userdata;
    host.calls++;
    snprintf(host.text, sizeof host.text, "%.*s", (int)length, (const char *)message);
    if (host.fail)
        return host.fail;
    ed25519_sha512_sign(host.key.public_key, host.key.private_key, length, message, signature);
    return 0;
}

static pt_signer host_signer(uint32_t node_id)
{
    pt_signer s = { .struct_size = sizeof s, .node_id = node_id, .sign = host_sign };
    memset(&host, 0, sizeof host);
    host.key = test_identity(node_id);
    memcpy(s.public_key, host.key.public_key, sizeof s.public_key);
    return s;
}

static int build_signed(const pt_signer *s, const wss_challenge *ch, char *out, size_t cap)
{
    err[0] = '\0';
    return wss_auth_build_signed_reply(s, ch, out, cap, err, sizeof err);
}

/* Ed25519 is deterministic: the same key signs the same reply. */
TEST(signed_reply_is_the_identitys_reply_signed_once_by_the_host)
{
    pt_identity id = test_identity(42);
    pt_signer s = host_signer(42);
    wss_challenge ch = challenge(NONCE, 1, 1700000000);
    char want[WSS_AUTH_REPLY_MAX], got[WSS_AUTH_REPLY_MAX], text[WSS_AUTH_SIGNED_MAX];
    CHECK(build(&id, &ch, want, sizeof want) > 0);
    CHECK_EQ_INT(build_signed(&s, &ch, got, sizeof got), strlen(want));
    CHECK_STR_EQ(got, want);
    CHECK_EQ_INT(host.calls, 1);
    CHECK(wss_auth_signed_text(42, &ch, text, sizeof text) > 0);
    CHECK_STR_EQ(host.text, text);
}

TEST(signed_reply_refuses_a_signer_that_cannot_sign)
{
    pt_signer s = host_signer(42);
    wss_challenge ch = challenge(NONCE, 1, 1700000000);
    char out[WSS_AUTH_REPLY_MAX] = "x";
    host.fail = 7;
    CHECK_EQ_INT(build_signed(&s, &ch, out, sizeof out), PT_EAUTH);
    CHECK_STR_EQ(err, "wss auth: the signer could not sign the challenge (sign returned 7)");
    CHECK_STR_EQ(out, "");
    CHECK_EQ_INT(host.calls, 1);
}

/* A signature of another key than the signer names is caught before it
 * goes out. */
TEST(signed_reply_refuses_a_signature_that_does_not_match_the_public_key)
{
    pt_signer s = host_signer(42);
    wss_challenge ch = challenge(NONCE, 0, 0);
    char out[WSS_AUTH_REPLY_MAX];
    s.public_key[0] ^= 1;
    CHECK_EQ_INT(build_signed(&s, &ch, out, sizeof out), PT_EAUTH);
    CHECK_STR_CONTAINS(err, "the signer's signature does not match its public key (node 42)");
    CHECK_STR_EQ(out, "");
    check_no_secrets(err);
}

TEST(signed_reply_refuses_a_missing_signer_node_zero_and_bad_arguments)
{
    pt_signer s = host_signer(0);
    wss_challenge ch = challenge(NONCE, 1, 1), bad = challenge("abc", 1, 1);
    char out[WSS_AUTH_REPLY_MAX];
    CHECK_EQ_INT(build_signed(NULL, &ch, out, sizeof out), PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: no signer");
    CHECK_EQ_INT(build_signed(&s, &ch, out, sizeof out), PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: node id 0 is not allowed");
    s.node_id = 42;
    CHECK_EQ_INT(build_signed(&s, &bad, out, sizeof out), PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: invalid challenge");
    CHECK_EQ_INT(build_signed(&s, &ch, out, WSS_AUTH_REPLY_MAX - 1), PT_EINVAL);
    s.sign = NULL;
    CHECK_EQ_INT(build_signed(&s, &ch, out, sizeof out), PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: no signer");
    CHECK_EQ_INT(host.calls, 0);
}

/* ---- auth_ok ----------------------------------------------------------- */

TEST(ok_is_accepted)
{
    CHECK_EQ_INT(check_ok("{\"type\":\"auth_ok\"}"), PT_OK);
}

TEST(ok_with_extra_members_and_whitespace_is_accepted)
{
    CHECK_EQ_INT(check_ok(" \r\n{ \"node_id\" : 42,\n \"type\" : \"auth_ok\" , \"motd\":"
                          "{\"x\":[1,2]} }\n"),
                 PT_OK);
    CHECK_EQ_INT(check_ok("{\"type\":\"auth\\u005fok\"}"), PT_OK);
}

TEST(ok_other_type_is_eauth_naming_it)
{
    CHECK_EQ_INT(check_ok("{\"type\":\"auth_failed\",\"reason\":\"unknown node\"}"), PT_EAUTH);
    CHECK_STR_EQ(err, "wss auth: beacon answered \"auth_failed\" instead of auth_ok");
    CHECK_EQ_INT(check_ok("{\"type\":\"AUTH_OK\"}"), PT_EAUTH);
    CHECK_STR_EQ(err, "wss auth: beacon answered \"AUTH_OK\" instead of auth_ok");
    CHECK_EQ_INT(check_ok("{\"type\":\"\"}"), PT_EAUTH);
    CHECK_STR_EQ(err, "wss auth: beacon answered \"\" instead of auth_ok");
}

TEST(ok_type_with_control_characters_is_sanitised)
{
    /* Escaped controls are shown as sent; raw bytes >= 0x7f become '?'. */
    CHECK_EQ_INT(check_ok("{\"type\":\"no\\u001b[31m\\r\\n\x7f\xff\"}"), PT_EAUTH);
    CHECK_STR_EQ(err, "wss auth: beacon answered \"no\\u001b[31m\\r\\n??\" instead of auth_ok");
    CHECK(printable(err));
    CHECK_EQ_INT(check_ok("{\"type\":\"auth_ok\\u0000\"}"), PT_EAUTH);
    CHECK_STR_EQ(err, "wss auth: beacon answered \"auth_ok\\u0000\" instead of auth_ok");
}

TEST(ok_very_long_type_is_cut)
{
    char t[1100];
    snprintf(t, sizeof t, "{\"type\":\"auth_ok%01000d\"}", 0);
    CHECK_EQ_INT(check_ok(t), PT_EAUTH);
    CHECK_STR_EQ(err, "wss auth: beacon answered \"auth_ok000000000000000000000000000000000...\" "
                      "instead of auth_ok (type of 1007 bytes, cut)");
    CHECK(printable(err));
}

TEST(ok_that_is_not_json_is_eproto)
{
    CHECK_EQ_INT(check_ok("auth_ok"), PT_EPROTO);
    CHECK_STR_EQ(err, "wss auth: beacon's answer is not JSON: json: expected '{' (input must be "
                      "one JSON object) at offset 0");
    CHECK_EQ_INT(check_ok("{\"type\":\"auth_ok\""), PT_EPROTO);
    CHECK_STR_CONTAINS(err, "wss auth: beacon's answer is not JSON: json: ");
    CHECK_EQ_INT(check_ok(""), PT_EPROTO);
    CHECK_EQ_INT(check_ok("[\"auth_ok\"]"), PT_EPROTO);
    CHECK_EQ_INT(check_ok("{\"type\":\"auth_ok\"} {}"), PT_EPROTO);
    CHECK_STR_CONTAINS(err, "unexpected data after the object");
}

TEST(ok_binary_garbage_is_eproto)
{
    static const char garbage[] = "\x82\x00\xff\xfe{\"type\":\"auth_ok\"}\x01";
    static const char nul_after[] = "{\"type\":\"auth_ok\"}\0";
    CHECK_EQ_INT(check_ok_n(garbage, sizeof garbage - 1), PT_EPROTO);
    CHECK_STR_CONTAINS(err, "wss auth: beacon's answer is not JSON: json: ");
    CHECK(printable(err));
    CHECK_EQ_INT(check_ok_n(nul_after, sizeof nul_after - 1), PT_EPROTO);
    CHECK_STR_CONTAINS(err, "unexpected data after the object");
}

TEST(ok_without_type_is_eproto)
{
    CHECK_EQ_INT(check_ok("{}"), PT_EPROTO);
    CHECK_STR_EQ(err, "wss auth: beacon's answer has no type");
    CHECK_EQ_INT(check_ok("{\"status\":\"auth_ok\"}"), PT_EPROTO);
    CHECK_STR_EQ(err, "wss auth: beacon's answer has no type");
}

TEST(ok_type_that_is_not_a_string_is_eproto)
{
    CHECK_EQ_INT(check_ok("{\"type\":true}"), PT_EPROTO);
    CHECK_STR_EQ(err, "wss auth: beacon's answer type is not a string");
    CHECK_EQ_INT(check_ok("{\"type\":{\"auth_ok\":1}}"), PT_EPROTO);
    CHECK_STR_EQ(err, "wss auth: beacon's answer type is not a string");
}

TEST(ok_truncated_at_every_length_is_eproto)
{
    static const char whole[] = "{\"type\":\"auth_ok\"}";
    for (size_t i = 0; i < sizeof whole - 1; i++)
        CHECK_EQ_INT(check_ok_n(whole, i), PT_EPROTO);
    CHECK_EQ_INT(check_ok_n(whole, sizeof whole - 1), PT_OK);
}

TEST(ok_with_bad_arguments_is_einval)
{
    CHECK_EQ_INT(wss_auth_check_ok(NULL, 3, err, sizeof err), PT_EINVAL);
    CHECK_STR_EQ(err, "wss auth: invalid arguments");
    CHECK_EQ_INT(wss_auth_check_ok(NULL, 0, err, sizeof err), PT_EPROTO);
    CHECK_EQ_INT(wss_auth_check_ok("{\"type\":\"x\"}", 12, NULL, 0), PT_EAUTH);
}

int main(void)
{
    RUN(challenge_with_ts_parses);
    RUN(challenge_without_ts_parses);
    RUN(challenge_nonce_is_kept_exactly_with_its_case);
    RUN(challenge_extra_members_and_whitespace_are_ignored);
    RUN(challenge_type_is_compared_after_decoding_escapes);
    RUN(challenge_ts_zero_and_int64_max_are_accepted);
    RUN(challenge_that_is_not_json_is_refused);
    RUN(challenge_that_is_a_json_array_is_refused);
    RUN(challenge_with_a_wrong_type_names_it);
    RUN(challenge_wrong_type_is_sanitised_in_the_message);
    RUN(challenge_without_type_is_refused);
    RUN(challenge_type_that_is_not_a_string_is_refused);
    RUN(challenge_without_nonce_is_refused);
    RUN(challenge_nonce_that_is_not_a_string_is_refused);
    RUN(challenge_nonce_of_63_characters_is_refused);
    RUN(challenge_nonce_of_65_characters_is_refused);
    RUN(challenge_short_nonce_reports_its_length);
    RUN(challenge_empty_nonce_is_refused);
    RUN(challenge_nonce_with_a_non_hex_character_is_refused);
    RUN(challenge_nonce_with_a_json_escape_is_refused);
    RUN(challenge_negative_ts_is_refused);
    RUN(challenge_fractional_ts_is_refused);
    RUN(challenge_ts_as_a_string_is_refused);
    RUN(challenge_ts_null_is_refused);
    RUN(challenge_huge_ts_is_refused);
    RUN(challenge_with_a_duplicate_key_is_refused);
    RUN(challenge_truncated_at_every_length_fails_cleanly);
    RUN(challenge_with_an_embedded_nul_is_refused);
    RUN(challenge_with_bad_arguments_is_einval);
    RUN(challenge_messages_are_cut_to_a_small_error_buffer);

    RUN(signed_text_with_ts_is_exact);
    RUN(signed_text_without_ts_is_exact);
    RUN(signed_text_of_the_largest_numbers_fits_the_maximum);
    RUN(signed_text_that_does_not_fit_is_minus_one);
    RUN(signed_text_refuses_a_bad_challenge);

    RUN(reply_is_the_documented_json);
    RUN(reply_signature_with_ts_verifies);
    RUN(reply_signature_without_ts_verifies);
    RUN(reply_signature_is_bound_to_node_nonce_and_ts);
    RUN(reply_matches_an_independent_ed25519_signature);
    RUN(reply_of_the_largest_numbers_fits);
    RUN(reply_leaves_the_identity_untouched);
    RUN(reply_refuses_node_id_zero);
    RUN(reply_refuses_a_missing_key);
    RUN(reply_refuses_a_public_key_that_does_not_match_the_seed);
    RUN(reply_refuses_an_invalid_challenge);
    RUN(reply_refuses_a_small_output_buffer_cleanly);
    RUN(reply_messages_hold_no_key_material);

    RUN(signed_reply_is_the_identitys_reply_signed_once_by_the_host);
    RUN(signed_reply_refuses_a_signer_that_cannot_sign);
    RUN(signed_reply_refuses_a_signature_that_does_not_match_the_public_key);
    RUN(signed_reply_refuses_a_missing_signer_node_zero_and_bad_arguments);

    RUN(ok_is_accepted);
    RUN(ok_with_extra_members_and_whitespace_is_accepted);
    RUN(ok_other_type_is_eauth_naming_it);
    RUN(ok_type_with_control_characters_is_sanitised);
    RUN(ok_very_long_type_is_cut);
    RUN(ok_that_is_not_json_is_eproto);
    RUN(ok_binary_garbage_is_eproto);
    RUN(ok_without_type_is_eproto);
    RUN(ok_type_that_is_not_a_string_is_eproto);
    RUN(ok_truncated_at_every_length_is_eproto);
    RUN(ok_with_bad_arguments_is_einval);
    return tap_done();
}
