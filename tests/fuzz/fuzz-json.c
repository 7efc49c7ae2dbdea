/*
 * fuzz-json.c -- ptu_json_parse_object and the member readers.
 *
 * Invariants checked on every accepted object:
 *   - every key and value span lies inside the input, keys and string
 *     values between quotes, containers between their brackets, literals
 *     and numbers spelled as their type says;
 *   - a string decodes to at most its raw length (or is refused with ""),
 *     and a buffer one byte too small is refused;
 *   - ptu_json_find of a member's decoded key finds that very member (keys
 *     are unique after decoding);
 *   - ptu_json_uint64 agrees with strtoull on plain digit strings;
 *   - the same text with room for one member fewer is refused;
 *   - a nested object is itself accepted, unless it repeats a key or has
 *     too many members (only top-level keys are checked for duplicates).
 * A refused text leaves *n_out 0 and a "json: " message.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>

#include "fuzz.h"
#include "json.h"

const char fuzz_target_name[] = "json";

#define MAX_FIELDS 64

static void check_object(const char *text, size_t len, int depth);

/* The digits of a JSON number as an integer, or -1 if it is not a plain
 * non-negative integer within max: ptu_json_uint64's contract, computed
 * another way. */
static int expect_uint64(const char *v, size_t n, uint64_t max, uint64_t *out)
{
    char buf[32];
    unsigned long long x;
    char *end;

    if (n == 0 || n >= sizeof buf || (v[0] == '0' && n > 1))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return -1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    errno = 0;
    x = strtoull(buf, &end, 10);
    if (errno == ERANGE || *end || x > max)
        return -1;
    *out = x;
    return 0;
}

static void check_string(const ptu_json_field *f)
{
    char *buf = malloc(f->val_len + 1);
    int n;

    FUZZ_CHECK(buf);
    n = ptu_json_string(f, buf, f->val_len + 1);
    if (n >= 0) {
        FUZZ_CHECK((size_t)n <= f->val_len);
        FUZZ_CHECK(strlen(buf) == (size_t)n); /* \u0000 is refused */
        if (n > 0) {
            char *small = malloc((size_t)n);
            FUZZ_CHECK(small);
            FUZZ_CHECK(ptu_json_string(f, small, (size_t)n) == -1);
            FUZZ_CHECK(small[0] == '\0');
            free(small);
        }
    } else {
        FUZZ_CHECK(n == -1 && buf[0] == '\0');
    }
    free(buf);
}

static void check_number(const ptu_json_field *f)
{
    static const uint64_t maxes[] = { UINT64_MAX, UINT32_MAX, 1000, 0 };

    FUZZ_CHECK(f->val_len > 0);
    FUZZ_CHECK(f->val[0] == '-' || (f->val[0] >= '0' && f->val[0] <= '9'));
    for (size_t i = 0; i < sizeof maxes / sizeof maxes[0]; i++) {
        uint64_t got = 12345, want = 0;
        int rc = ptu_json_uint64(f, maxes[i], &got);
        if (expect_uint64(f->val, f->val_len, maxes[i], &want) == 0) {
            FUZZ_CHECK(rc == 0);
            FUZZ_CHECK(got == want);
        } else {
            FUZZ_CHECK(rc == -1);
            FUZZ_CHECK(got == 12345); /* out untouched */
        }
    }
}

static void check_field(const char *text, size_t len, const ptu_json_field *f,
                        const ptu_json_field *all, size_t n, int depth)
{
    const char *end = text + len;
    ptu_json_field key_as_string;
    char *key;

    /* Spans inside the input; keys between quotes. */
    FUZZ_CHECK(f->key > text && f->key + f->key_len < end);
    FUZZ_CHECK(f->key[-1] == '"' && f->key[f->key_len] == '"');
    FUZZ_CHECK(f->val >= text && f->val_len <= (size_t)(end - f->val));

    switch (f->type) {
    case PTU_JSON_STRING:
        FUZZ_CHECK(f->val > text && f->val + f->val_len < end);
        FUZZ_CHECK(f->val[-1] == '"' && f->val[f->val_len] == '"');
        check_string(f);
        break;
    case PTU_JSON_NUMBER:
        check_number(f);
        break;
    case PTU_JSON_TRUE:
        FUZZ_CHECK(f->val_len == 4 && memcmp(f->val, "true", 4) == 0);
        break;
    case PTU_JSON_FALSE:
        FUZZ_CHECK(f->val_len == 5 && memcmp(f->val, "false", 5) == 0);
        break;
    case PTU_JSON_NULL:
        FUZZ_CHECK(f->val_len == 4 && memcmp(f->val, "null", 4) == 0);
        break;
    case PTU_JSON_OBJECT:
        FUZZ_CHECK(f->val_len >= 2 && f->val[0] == '{' && f->val[f->val_len - 1] == '}');
        check_object(f->val, f->val_len, depth + 1);
        break;
    case PTU_JSON_ARRAY:
        FUZZ_CHECK(f->val_len >= 2 && f->val[0] == '[' && f->val[f->val_len - 1] == ']');
        break;
    default:
        FUZZ_CHECK(!"unknown member type");
    }
    if (f->type != PTU_JSON_STRING)
        FUZZ_CHECK(ptu_json_string(f, (char[4]){ 0 }, 4) == -1);

    /* Looking the member up by its decoded key finds it. */
    key_as_string = *f;
    key_as_string.type = PTU_JSON_STRING;
    key_as_string.val = f->key;
    key_as_string.val_len = f->key_len;
    key = malloc(f->key_len + 1);
    FUZZ_CHECK(key);
    if (ptu_json_string(&key_as_string, key, f->key_len + 1) >= 0)
        FUZZ_CHECK(ptu_json_find(all, n, key) == f);
    free(key);
}

/* text[0..len) was accepted as (part of) a document at nesting level depth
 * (1: the input itself). */
static void check_object(const char *text, size_t len, int depth)
{
    ptu_json_field f[MAX_FIELDS];
    char err[128];
    size_t n = 99;

    if (ptu_json_parse_object(text, len, f, MAX_FIELDS, &n, err, sizeof err) != 0) {
        /* Only a nested object may fail, and only for what the outer
         * parse does not check below the top level. */
        FUZZ_CHECK(depth > 1);
        FUZZ_CHECK(n == 0);
        FUZZ_CHECK(strstr(err, "duplicate key") || strstr(err, "more than"));
        return;
    }
    FUZZ_CHECK(n <= MAX_FIELDS);
    if (n > 0) {
        size_t m = 99;
        ptu_json_field g[MAX_FIELDS];
        FUZZ_CHECK(ptu_json_parse_object(text, len, g, n - 1, &m, err, sizeof err) == -1);
        FUZZ_CHECK(m == 0);
        FUZZ_CHECK(strncmp(err, "json: more than", 15) == 0);
    }
    for (size_t i = 0; i < n; i++)
        check_field(text, len, &f[i], f, n, depth);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_dup(data, size);
    ptu_json_field f[MAX_FIELDS];
    char err[128];
    size_t n = 99;

    if (ptu_json_parse_object(text, size, f, MAX_FIELDS, &n, err, sizeof err) == 0) {
        check_object(text, size, 1);
    } else {
        FUZZ_CHECK(n == 0);
        FUZZ_CHECK(strncmp(err, "json: ", 6) == 0 && fuzz_printable(err));
    }
    /* A tiny error buffer is cut, never overrun. */
    ptu_json_parse_object(text, size, f, MAX_FIELDS, &n, err, 1);
    ptu_json_parse_object(text, size, NULL, 0, &n, NULL, 0);
    free(text);
    return 0;
}
