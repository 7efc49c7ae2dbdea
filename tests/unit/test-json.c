/* test-json.c -- the strict flat-object JSON reader (lib/json.c). */
#include "config.h"

#include "json.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Every parse works on an exact-size heap copy without a NUL, so that
 * AddressSanitizer or valgrind catches a read past len. */
static char *doc;
static ptu_json_field F[16];
static size_t N;
static char errbuf[256];

static int parse_len(const char *s, size_t len, size_t max)
{
    free(doc);
    doc = malloc(len ? len : 1);
    if (!doc)
        abort();
    memcpy(doc, s, len);
    errbuf[0] = '\0';
    N = 99;
    return ptu_json_parse_object(doc, len, F, max, &N, errbuf, sizeof errbuf);
}

static int parse(const char *s)
{
    return parse_len(s, strlen(s), sizeof F / sizeof F[0]);
}

/* Checks that s is rejected, with a message, and reports nothing. */
#define CHECK_REJECTS(s)                                                               \
    do {                                                                               \
        CHECK_EQ_INT(parse(s), -1);                                                    \
        CHECK_EQ_INT(N, 0);                                                            \
        CHECK_STR_CONTAINS(errbuf, "json: ");                                          \
        CHECK_STR_CONTAINS(errbuf, " at offset ");                                     \
    } while (0)

static int span_is(const char *p, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(p, want, n) == 0;
}

/* ---- Valid documents --------------------------------------------------- */

TEST(empty_object_parses)
{
    CHECK_EQ_INT(parse("{}"), 0);
    CHECK_EQ_INT(N, 0);
    CHECK_EQ_INT(parse(" \t\r\n{ \n}\r\n "), 0);
    CHECK_EQ_INT(N, 0);
}

TEST(all_value_types_parse_in_order)
{
    const char *s = "{\"s\":\"x\",\"n\":-1.5e3,\"t\":true,\"f\":false,\"z\":null,"
                    "\"o\":{\"a\":[1,{}]},\"a\":[]}";
    CHECK_EQ_INT(parse(s), 0);
    CHECK_EQ_INT(N, 7);
    CHECK_EQ_INT(F[0].type, PTU_JSON_STRING);
    CHECK_EQ_INT(F[1].type, PTU_JSON_NUMBER);
    CHECK_EQ_INT(F[2].type, PTU_JSON_TRUE);
    CHECK_EQ_INT(F[3].type, PTU_JSON_FALSE);
    CHECK_EQ_INT(F[4].type, PTU_JSON_NULL);
    CHECK_EQ_INT(F[5].type, PTU_JSON_OBJECT);
    CHECK_EQ_INT(F[6].type, PTU_JSON_ARRAY);
    CHECK(span_is(F[0].key, F[0].key_len, "s"));
    CHECK(span_is(F[6].key, F[6].key_len, "a"));
}

TEST(raw_spans_cover_the_value_text)
{
    CHECK_EQ_INT(parse("{\"s\" : \"a\\nb\" , \"n\":-0.5E+2,\"t\":true,\"f\":false,"
                       "\"z\":null,\"o\": { \"k\" : [ 1 , \"]\" ] } ,\"a\":[]}"),
                 0);
    CHECK_EQ_INT(N, 7);
    CHECK(span_is(F[0].val, F[0].val_len, "a\\nb")); /* between the quotes, raw */
    CHECK(span_is(F[1].val, F[1].val_len, "-0.5E+2"));
    CHECK(span_is(F[2].val, F[2].val_len, "true"));
    CHECK(span_is(F[3].val, F[3].val_len, "false"));
    CHECK(span_is(F[4].val, F[4].val_len, "null"));
    CHECK(span_is(F[5].val, F[5].val_len, "{ \"k\" : [ 1 , \"]\" ] }"));
    CHECK(span_is(F[6].val, F[6].val_len, "[]"));
}

TEST(empty_key_and_empty_string_are_allowed)
{
    CHECK_EQ_INT(parse("{\"\":\"\"}"), 0);
    CHECK_EQ_INT(N, 1);
    CHECK_EQ_INT(F[0].key_len, 0);
    CHECK_EQ_INT(F[0].val_len, 0);
    CHECK(ptu_json_find(F, N, "") == &F[0]);
}

TEST(auth_message_reads_back)
{
    char nonce[65];
    uint64_t ts = 0;
    const char *s = "{\"type\":\"auth_challenge\",\"nonce\":\""
                    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\","
                    "\"ts\":1700000000}";
    char type[32];
    CHECK_EQ_INT(parse(s), 0);
    CHECK_EQ_INT(ptu_json_string(ptu_json_find(F, N, "type"), type, sizeof type), 14);
    CHECK_STR_EQ(type, "auth_challenge");
    CHECK_EQ_INT(ptu_json_string(ptu_json_find(F, N, "nonce"), nonce, sizeof nonce), 64);
    CHECK_EQ_INT(ptu_json_uint64(ptu_json_find(F, N, "ts"), UINT64_MAX, &ts), 0);
    CHECK(ts == 1700000000ULL);
}

TEST(whitespace_between_tokens_is_allowed)
{
    CHECK_EQ_INT(parse(" \t\r\n{ \"a\" :\t1 ,\n\"b\" : [ 1 ,\r\n2 ] , \"c\" : { } } \n"), 0);
    CHECK_EQ_INT(N, 3);
}

TEST(non_json_whitespace_is_rejected)
{
    CHECK_REJECTS("\f{}");
    CHECK_REJECTS("{\v}");
    CHECK_REJECTS("{}\xc2\xa0");
    CHECK_REJECTS("\xef\xbb\xbf{}"); /* a byte order mark */
}

TEST(valid_number_forms_are_accepted)
{
    static const char *const ok[] = {
        "0", "-0", "0.5", "-0.0", "1e5", "1E+5", "1e-5", "10", "-1.25e-10", "0e0",
        "123456789012345678901234567890", "1.000000000000000000000001",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "{\"n\":%s}", ok[i]);
        CHECK_EQ_INT(parse(buf), 0);
        CHECK_EQ_INT(F[0].type, PTU_JSON_NUMBER);
        CHECK(span_is(F[0].val, F[0].val_len, ok[i]));
    }
}

TEST(raw_bytes_above_ascii_and_del_are_allowed_in_strings)
{
    char out[16];
    CHECK_EQ_INT(parse("{\"k\xc3\xa9\":\"\x7f\xe2\x82\xac\"}"), 0);
    CHECK(ptu_json_find(F, N, "k\xc3\xa9") == &F[0]);
    CHECK_EQ_INT(ptu_json_string(&F[0], out, sizeof out), 4);
    CHECK_STR_EQ(out, "\x7f\xe2\x82\xac");
}

/* ---- find -------------------------------------------------------------- */

TEST(find_returns_the_named_member)
{
    CHECK_EQ_INT(parse("{\"a\":1,\"ab\":2,\"b\":3}"), 0);
    CHECK(ptu_json_find(F, N, "a") == &F[0]);
    CHECK(ptu_json_find(F, N, "ab") == &F[1]);
    CHECK(ptu_json_find(F, N, "b") == &F[2]);
}

TEST(find_returns_null_when_absent)
{
    CHECK_EQ_INT(parse("{\"a\":1,\"ab\":2}"), 0);
    CHECK(ptu_json_find(F, N, "") == NULL);
    CHECK(ptu_json_find(F, N, "A") == NULL);
    CHECK(ptu_json_find(F, N, "abc") == NULL);
    CHECK(ptu_json_find(F, N, "b") == NULL);
    CHECK(ptu_json_find(F, 0, "a") == NULL);
    CHECK(ptu_json_find(NULL, 0, "a") == NULL);
    CHECK(ptu_json_find(F, N, NULL) == NULL);
}

TEST(find_compares_keys_after_decoding_escapes)
{
    CHECK_EQ_INT(parse("{\"\\u0074yp\\u0065\":\"x\",\"a\\/b\":1,\"q\\\"\":2}"), 0);
    CHECK(ptu_json_find(F, N, "type") == &F[0]);
    CHECK(ptu_json_find(F, N, "a/b") == &F[1]);
    CHECK(ptu_json_find(F, N, "q\"") == &F[2]);
    CHECK(ptu_json_find(F, N, "\\u0074ype") == NULL);
}

TEST(find_never_matches_a_key_holding_nul)
{
    CHECK_EQ_INT(parse("{\"a\\u0000\":1}"), 0);
    CHECK(ptu_json_find(F, N, "a") == NULL);
}

/* ---- string ------------------------------------------------------------ */

TEST(string_decodes_simple_escapes)
{
    char out[32];
    CHECK_EQ_INT(parse("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t.\"}"), 0);
    CHECK_EQ_INT(ptu_json_string(&F[0], out, sizeof out), 9);
    CHECK_STR_EQ(out, "\"\\/\b\f\n\r\t.");
}

TEST(string_decodes_unicode_escapes_to_utf8)
{
    char out[32];
    CHECK_EQ_INT(parse("{\"s\":\"\\u0041\\u00e9\\u20AC\\u07ff\\uffff\"}"), 0);
    CHECK_EQ_INT(ptu_json_string(&F[0], out, sizeof out), 1 + 2 + 3 + 2 + 3);
    CHECK_STR_EQ(out, "A\xc3\xa9\xe2\x82\xac\xdf\xbf\xef\xbf\xbf");
}

TEST(string_decodes_surrogate_pairs_to_utf8)
{
    char out[32];
    CHECK_EQ_INT(parse("{\"s\":\"x\\ud83d\\ude00\\uDBFF\\uDFFF\\uD800\\uDC00\"}"), 0);
    CHECK_EQ_INT(ptu_json_string(&F[0], out, sizeof out), 13);
    CHECK_STR_EQ(out, "x\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xf0\x90\x80\x80");
}

TEST(string_rejects_nul_from_escape)
{
    char out[16] = "junk";
    CHECK_EQ_INT(parse("{\"s\":\"ab\\u0000cd\"}"), 0); /* valid JSON ... */
    CHECK_EQ_INT(ptu_json_string(&F[0], out, sizeof out), -1); /* ... but no C string */
    CHECK_STR_EQ(out, "");
}

TEST(string_rejects_non_string_members)
{
    char out[16];
    CHECK_EQ_INT(parse("{\"n\":1,\"t\":true,\"z\":null,\"o\":{},\"a\":[\"x\"]}"), 0);
    for (size_t i = 0; i < N; i++)
        CHECK_EQ_INT(ptu_json_string(&F[i], out, sizeof out), -1);
    CHECK_EQ_INT(ptu_json_string(NULL, out, sizeof out), -1);
}

TEST(string_needs_room_for_the_nul)
{
    char out[8];
    CHECK_EQ_INT(parse("{\"s\":\"ab\\u00e9\"}"), 0); /* decodes to 4 bytes */
    CHECK_EQ_INT(ptu_json_string(&F[0], out, 5), 4);
    CHECK_STR_EQ(out, "ab\xc3\xa9");
    CHECK_EQ_INT(ptu_json_string(&F[0], out, 4), -1);
    CHECK_STR_EQ(out, "");
    CHECK_EQ_INT(ptu_json_string(&F[0], out, 0), -1);
    CHECK_EQ_INT(ptu_json_string(&F[0], NULL, 8), -1);
}

TEST(string_rejects_malformed_hand_built_fields)
{
    char out[16];
    ptu_json_field f = { "k", 1, PTU_JSON_STRING, "a\\ud800", 7 };
    CHECK_EQ_INT(ptu_json_string(&f, out, sizeof out), -1);
    f.val = "a\\";
    f.val_len = 2;
    CHECK_EQ_INT(ptu_json_string(&f, out, sizeof out), -1);
    f.val = "a\"b";
    f.val_len = 3;
    CHECK_EQ_INT(ptu_json_string(&f, out, sizeof out), -1);
    f.val = "\\u00e9";
    f.val_len = 5; /* escape cut by the span */
    CHECK_EQ_INT(ptu_json_string(&f, out, sizeof out), -1);
    f.val = "a\nb";
    f.val_len = 3; /* a raw control character */
    CHECK_EQ_INT(ptu_json_string(&f, out, sizeof out), -1);
}

/* ---- uint64 ------------------------------------------------------------ */

TEST(uint64_reads_non_negative_integers)
{
    uint64_t v = 7;
    CHECK_EQ_INT(parse("{\"a\":0,\"b\":1700000000,\"c\":18446744073709551615}"), 0);
    CHECK_EQ_INT(ptu_json_uint64(&F[0], UINT64_MAX, &v), 0);
    CHECK(v == 0);
    CHECK_EQ_INT(ptu_json_uint64(&F[1], UINT64_MAX, &v), 0);
    CHECK(v == 1700000000ULL);
    CHECK_EQ_INT(ptu_json_uint64(&F[2], UINT64_MAX, &v), 0);
    CHECK(v == UINT64_MAX);
}

TEST(uint64_rejects_values_over_max)
{
    uint64_t v = 42;
    CHECK_EQ_INT(parse("{\"a\":18446744073709551616,\"b\":101,\"c\":100,\"d\":7,"
                       "\"e\":99999999999999999999999}"),
                 0);
    CHECK_EQ_INT(ptu_json_uint64(&F[0], UINT64_MAX, &v), -1);
    CHECK_EQ_INT(ptu_json_uint64(&F[1], 100, &v), -1);
    CHECK_EQ_INT(ptu_json_uint64(&F[3], 5, &v), -1);
    CHECK_EQ_INT(ptu_json_uint64(&F[4], UINT64_MAX, &v), -1);
    CHECK(v == 42); /* untouched on failure */
    CHECK_EQ_INT(ptu_json_uint64(&F[2], 100, &v), 0);
    CHECK(v == 100);
}

TEST(uint64_rejects_signs_fractions_exponents_and_other_types)
{
    uint64_t v = 42;
    CHECK_EQ_INT(parse("{\"a\":-1,\"b\":1.0,\"c\":1e3,\"d\":-0,\"e\":0.5,\"f\":\"5\","
                       "\"g\":true,\"h\":[1],\"i\":0e0}"),
                 0);
    for (size_t i = 0; i < N; i++)
        CHECK_EQ_INT(ptu_json_uint64(&F[i], UINT64_MAX, &v), -1);
    CHECK(v == 42);
    CHECK_EQ_INT(ptu_json_uint64(NULL, UINT64_MAX, &v), -1);
}

/* ---- Malformed documents ----------------------------------------------- */

TEST(error_message_names_the_problem_and_offset)
{
    CHECK_EQ_INT(parse("{\"type\" 1}"), -1);
    CHECK_STR_EQ(errbuf, "json: expected ':' after key at offset 8");
    CHECK_EQ_INT(parse("{\"a\":1,\"a\":2}"), -1);
    CHECK_STR_EQ(errbuf, "json: duplicate key at offset 7");
}

TEST(input_that_is_not_an_object_is_rejected)
{
    CHECK_REJECTS("");
    CHECK_REJECTS("   \n");
    CHECK_REJECTS("[]");
    CHECK_REJECTS("\"a\"");
    CHECK_REJECTS("1");
    CHECK_REJECTS("null");
    CHECK_REJECTS("}");
}

TEST(trailing_data_is_rejected)
{
    CHECK_REJECTS("{}x");
    CHECK_REJECTS("{} {}");
    CHECK_REJECTS("{}}");
    CHECK_REJECTS("{\"a\":1}\"");
    CHECK_REJECTS("{\"a\":1} ,");
    CHECK_EQ_INT(parse_len("{}\0", 3, 4), -1); /* an embedded NUL is data too */
}

TEST(unterminated_strings_are_rejected)
{
    CHECK_REJECTS("{\"a\":\"abc}");
    CHECK_REJECTS("{\"a");
    CHECK_REJECTS("{\"a\":\"abc\\\"}");
    CHECK_REJECTS("{\"a\":\"abc\\");
    CHECK_STR_CONTAINS(errbuf, "unterminated string");
}

TEST(bad_number_forms_are_rejected)
{
    static const char *const bad[] = {
        "01", "-01", "00", "+1", ".5", "1.", "1.e5", "1e", "1e+", "1E-", "-", "--1",
        "0x10", "1.5.5", "NaN", "Infinity", "-Infinity", "1_000", "1 2", "- 1", "1e5.0",
        "0.", "-.5", "\"1\"1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "{\"n\":%s}", bad[i]);
        CHECK_REJECTS(buf);
        snprintf(buf, sizeof buf, "{\"n\":[%s]}", bad[i]);
        CHECK_REJECTS(buf);
    }
}

TEST(bad_literals_are_rejected)
{
    CHECK_REJECTS("{\"a\":tru}");
    CHECK_REJECTS("{\"a\":True}");
    CHECK_REJECTS("{\"a\":nul}");
    CHECK_REJECTS("{\"a\":falsey}");
    CHECK_REJECTS("{\"a\":nulll}");
    CHECK_REJECTS("{\"a\":undefined}");
    CHECK_REJECTS("{\"a\":t");
}

TEST(control_characters_in_strings_are_rejected)
{
    CHECK_REJECTS("{\"a\":\"x\x01y\"}");
    CHECK_REJECTS("{\"a\":\"x\ny\"}");
    CHECK_REJECTS("{\"a\":\"x\ty\"}");
    CHECK_REJECTS("{\"a\":\"\x1f\"}");
    CHECK_REJECTS("{\"a\x02\":1}");
    CHECK_REJECTS("{\"a\":[\"\r\"]}");
    CHECK_EQ_INT(parse_len("{\"a\":\"\0\"}", 9, 4), -1); /* a raw NUL */
    CHECK_STR_CONTAINS(errbuf, "control character in string at offset 6");
}

TEST(bad_escapes_are_rejected)
{
    CHECK_REJECTS("{\"a\":\"\\x41\"}");
    CHECK_REJECTS("{\"a\":\"\\U0041\"}");
    CHECK_REJECTS("{\"a\":\"\\u12\"}");
    CHECK_REJECTS("{\"a\":\"\\u12G4\"}");
    CHECK_REJECTS("{\"a\":\"\\'\"}");
    CHECK_REJECTS("{\"a\":\"\\a\"}");
    CHECK_REJECTS("{\"a\":\"\\0\"}");
    CHECK_REJECTS("{\"a\":\"\\\x01\"}");
    CHECK_REJECTS("{\"a\\q\":1}");
    CHECK_REJECTS("{\"a\":[\"\\z\"]}");
    CHECK_STR_CONTAINS(errbuf, "invalid escape");
}

TEST(lone_surrogates_are_rejected)
{
    CHECK_REJECTS("{\"a\":\"\\ud83d\"}");
    CHECK_REJECTS("{\"a\":\"\\ud83dx\"}");
    CHECK_REJECTS("{\"a\":\"\\ud83d\\n\"}");
    CHECK_REJECTS("{\"a\":\"\\ude00\"}");
    CHECK_REJECTS("{\"a\":\"\\ude00\\ud83d\"}");
    CHECK_REJECTS("{\"a\":\"\\ud83d\\ud83d\"}");
    CHECK_REJECTS("{\"a\":\"\\ud83d\\u0041\"}");
    CHECK_REJECTS("{\"a\":\"\\ud83d\\ude0\"}");
    CHECK_REJECTS("{\"\\udfff\":1}");
    CHECK_REJECTS("{\"o\":{\"k\":[\"\\ud800\"]}}");
    CHECK_STR_CONTAINS(errbuf, "unpaired surrogate");
}

TEST(duplicate_keys_are_rejected)
{
    CHECK_REJECTS("{\"a\":1,\"a\":2}");
    CHECK_REJECTS("{\"a\":1,\"b\":2,\"a\":{}}");
    CHECK_REJECTS("{\"a\":1,\"\\u0061\":2}");
    CHECK_REJECTS("{\"\\/\":1,\"/\":2}");
    CHECK_REJECTS("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}");
    CHECK_STR_CONTAINS(errbuf, "duplicate key");
    CHECK_EQ_INT(parse("{\"a\":1,\"A\":2,\"a \":3,\"\":4}"), 0); /* all distinct */
}

TEST(more_members_than_max_are_rejected)
{
    const char *three = "{\"a\":1,\"b\":2,\"c\":3}";
    CHECK_EQ_INT(parse_len(three, strlen(three), 3), 0);
    CHECK_EQ_INT(N, 3);
    CHECK_EQ_INT(parse_len(three, strlen(three), 2), -1);
    CHECK_EQ_INT(N, 0);
    CHECK_STR_EQ(errbuf, "json: more than 2 members at offset 13");
    CHECK_EQ_INT(parse_len("{}", 2, 0), 0);
    CHECK_EQ_INT(parse_len("{\"a\":1}", 7, 0), -1);
}

TEST(fields_may_be_null_when_max_is_zero)
{
    size_t n = 5;
    CHECK_EQ_INT(ptu_json_parse_object("{ }", 3, NULL, 0, &n, NULL, 0), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(ptu_json_parse_object("{\"a\":1}", 7, NULL, 0, &n, NULL, 0), -1);
}

TEST(invalid_arguments_are_rejected)
{
    size_t n = 5;
    char err[64];
    CHECK_EQ_INT(ptu_json_parse_object("{}", 2, F, 4, NULL, err, sizeof err), -1);
    CHECK_EQ_INT(ptu_json_parse_object("{}", 2, NULL, 4, &n, err, sizeof err), -1);
    CHECK_EQ_INT(n, 0);
    CHECK_STR_CONTAINS(err, "invalid arguments");
    CHECK_EQ_INT(ptu_json_parse_object(NULL, 2, F, 4, &n, err, sizeof err), -1);
    CHECK_EQ_INT(ptu_json_parse_object(NULL, 0, F, 4, &n, err, sizeof err), -1);
    CHECK_EQ_INT(ptu_json_parse_object(NULL, 0, F, 4, &n, NULL, 0), -1);
}

TEST(structural_errors_are_rejected)
{
    static const char *const bad[] = {
        "{",             "{\"a\"}",        "{\"a\" 1}",       "{\"a\":}",
        "{\"a\":1 \"b\":2}", "{\"a\":1,}",     "{,\"a\":1}",      "{a:1}",
        "{1:1}",         "{'a':1}",        "{\"a\":'x'}",     "{\"a\":1,,\"b\":2}",
        "{\"a\"::1}",    "{\"a\":1;\"b\":2}", "{\"a\":[1,]}",  "{\"a\":[,1]}",
        "{\"a\":[1 2]}", "{\"a\":[1}",     "{\"a\":{]}",      "{\"a\":{\"b\"}}",
        "{\"a\":{\"b\":1,}}", "{\"a\":[}",  "{\"a\":{\"b\":1]}", "{\"a\":1}}",
        "{{}}",          "{\"a\":1,\"b\"", "{\"a\":[[]]]}",   "{\"a\":{}]",
        "{\"a\":/*c*/1}", "{\"a\":1}//",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_REJECTS(bad[i]);
}

/* A document whose outer object is level 1 and whose deepest bracket is at
 * level `levels`. */
static char *nested(int levels)
{
    const char *head = "{\"a\":";
    size_t hl = strlen(head), inner = (size_t)(levels - 1);
    char *s = malloc(hl + 2 * inner + 2);
    if (!s)
        abort();
    memcpy(s, head, hl);
    for (size_t i = 0; i < inner; i++) { /* the inner levels are arrays */
        s[hl + i] = '[';
        s[hl + 2 * inner - 1 - i] = ']';
    }
    s[hl + 2 * inner] = '}';
    s[hl + 2 * inner + 1] = '\0';
    return s;
}

TEST(nesting_up_to_the_limit_is_accepted)
{
    char *s = nested(PTU_JSON_MAX_DEPTH);
    CHECK_EQ_INT(parse(s), 0);
    CHECK_EQ_INT(N, 1);
    CHECK_EQ_INT(F[0].type, PTU_JSON_ARRAY);
    CHECK_EQ_INT(F[0].val_len, 2 * (PTU_JSON_MAX_DEPTH - 1));
    free(s);
    CHECK_EQ_INT(parse("{\"a\":{\"b\":{\"c\":[{\"d\":[]}]}}}"), 0);
}

TEST(nesting_over_the_limit_is_rejected)
{
    char *s = nested(PTU_JSON_MAX_DEPTH + 1);
    CHECK_REJECTS(s);
    CHECK_STR_CONTAINS(errbuf, "nesting too deep");
    free(s);
}

TEST(very_deep_nesting_fails_without_exhausting_the_stack)
{
    size_t n = 1000000;
    char *s = malloc(n + 6);
    if (!s)
        abort();
    memcpy(s, "{\"a\":", 5);
    memset(s + 5, '[', n);
    s[n + 5] = '\0';
    CHECK_REJECTS(s);
    CHECK_STR_CONTAINS(errbuf, "nesting too deep");
    free(s);
}

TEST(every_truncated_prefix_is_rejected)
{
    const char *s = " {\"type\":\"auth\\u00e9\\ud83d\\ude00\",\"n\":-12.5e+3,\"t\":true,"
                    "\"f\":false,\"z\":null,\"o\":{\"k\":[1,{\"x\":\"\\\"\"},[]]},\"ts\":0}";
    size_t len = strlen(s), accepted = 0;
    CHECK_EQ_INT(parse(s), 0);
    for (size_t i = 0; i < len; i++)
        if (parse_len(s, i, 16) == 0)
            accepted++;
    CHECK_EQ_INT(accepted, 0);
}

/* Park-Miller "minimal standard" generator: deterministic, no overflow. */
static uint64_t next_rand(uint64_t *r)
{
    *r = *r * 48271 % 2147483647;
    return *r;
}

/* Mutations of a valid document must never crash or report spans outside
 * the input; run under ASan and valgrind this is a small deterministic fuzz. */
TEST(random_mutations_never_escape_the_input)
{
    const char *seed = "{\"type\":\"auth\",\"nonce\":\"ab\\u00e9\\ud83d\\ude00\",\"ts\":17,"
                       "\"o\":{\"a\":[1,-2.5e3,true,false,null,\"x\"]}}";
    const char alphabet[] = "{}[]\",:\\u0123456789abcdefe+-. \tntrufalsD8C0\x01\x80";
    size_t slen = strlen(seed), bad_spans = 0;
    uint64_t r = 12345;
    char buf[256];

    for (int iter = 0; iter < 20000; iter++) {
        size_t len = slen;
        memcpy(buf, seed, slen);
        int edits = 1 + (int)(next_rand(&r) % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = next_rand(&r) % (len + 1);
            char c = alphabet[next_rand(&r) % (sizeof alphabet - 1)];
            switch (next_rand(&r) % 3) {
            case 0: /* replace */
                if (at < len)
                    buf[at] = c;
                break;
            case 1: /* insert */
                if (len < sizeof buf) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = c;
                    len++;
                }
                break;
            default: /* delete */
                if (at < len) {
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                }
                break;
            }
        }
        if (parse_len(buf, len, 16) == 0) {
            for (size_t i = 0; i < N; i++) {
                char out[256];
                uint64_t v;
                if (F[i].key < doc || F[i].key + F[i].key_len > doc + len || F[i].val < doc ||
                    F[i].val + F[i].val_len > doc + len)
                    bad_spans++;
                (void)ptu_json_string(&F[i], out, sizeof out);
                (void)ptu_json_uint64(&F[i], UINT64_MAX, &v);
            }
        }
    }
    CHECK_EQ_INT(bad_spans, 0);
}

int main(void)
{
    RUN(empty_object_parses);
    RUN(all_value_types_parse_in_order);
    RUN(raw_spans_cover_the_value_text);
    RUN(empty_key_and_empty_string_are_allowed);
    RUN(auth_message_reads_back);
    RUN(whitespace_between_tokens_is_allowed);
    RUN(non_json_whitespace_is_rejected);
    RUN(valid_number_forms_are_accepted);
    RUN(raw_bytes_above_ascii_and_del_are_allowed_in_strings);
    RUN(find_returns_the_named_member);
    RUN(find_returns_null_when_absent);
    RUN(find_compares_keys_after_decoding_escapes);
    RUN(find_never_matches_a_key_holding_nul);
    RUN(string_decodes_simple_escapes);
    RUN(string_decodes_unicode_escapes_to_utf8);
    RUN(string_decodes_surrogate_pairs_to_utf8);
    RUN(string_rejects_nul_from_escape);
    RUN(string_rejects_non_string_members);
    RUN(string_needs_room_for_the_nul);
    RUN(string_rejects_malformed_hand_built_fields);
    RUN(uint64_reads_non_negative_integers);
    RUN(uint64_rejects_values_over_max);
    RUN(uint64_rejects_signs_fractions_exponents_and_other_types);
    RUN(error_message_names_the_problem_and_offset);
    RUN(input_that_is_not_an_object_is_rejected);
    RUN(trailing_data_is_rejected);
    RUN(unterminated_strings_are_rejected);
    RUN(bad_number_forms_are_rejected);
    RUN(bad_literals_are_rejected);
    RUN(control_characters_in_strings_are_rejected);
    RUN(bad_escapes_are_rejected);
    RUN(lone_surrogates_are_rejected);
    RUN(duplicate_keys_are_rejected);
    RUN(more_members_than_max_are_rejected);
    RUN(fields_may_be_null_when_max_is_zero);
    RUN(invalid_arguments_are_rejected);
    RUN(structural_errors_are_rejected);
    RUN(nesting_up_to_the_limit_is_accepted);
    RUN(nesting_over_the_limit_is_rejected);
    RUN(very_deep_nesting_fails_without_exhausting_the_stack);
    RUN(every_truncated_prefix_is_rejected);
    RUN(random_mutations_never_escape_the_input);
    free(doc);
    return tap_done();
}
