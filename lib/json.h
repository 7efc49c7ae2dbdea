/*
 * json.h -- a strict reader for one flat JSON object (RFC 8259).  Internal.
 * Prefix: ptu_json_.
 *
 * Made for small messages such as identity files and the WSS auth messages,
 * e.g. {"type":"auth_challenge","nonce":"<64 hex>","ts":1700000000}.  The
 * reader allocates nothing and copies nothing: each member is reported as
 * spans into the caller's text, which must outlive the fields.  It never
 * reads outside text[0..len) and the text need not be NUL-terminated.
 *
 * Strictness: the whole input is one object (whitespace around it is fine);
 * numbers follow the JSON grammar exactly (no '+', no leading zeros, no
 * bare '.', no hex); raw control characters (< 0x20) in strings, unknown
 * escapes, malformed \uXXXX and unpaired UTF-16 surrogates are errors;
 * duplicate keys among the top-level members are errors (compared after
 * decoding escapes, so "a" and "\u0061" collide).  Nested objects and arrays
 * are validated and skipped; the whole document may nest at most
 * PTU_JSON_MAX_DEPTH levels, the outer object being level 1.  Bytes >= 0x80
 * are passed through without UTF-8 validation.
 *
 * Error messages name only an offset and what was expected, never the text
 * itself, so they are safe to show even when the text holds secrets.
 */
#ifndef PT_JSON_H
#define PT_JSON_H

#include <stddef.h>
#include <stdint.h>

#define PTU_JSON_MAX_DEPTH 32

/* Value types of a member. */
enum {
    PTU_JSON_STRING,
    PTU_JSON_NUMBER,
    PTU_JSON_TRUE,
    PTU_JSON_FALSE,
    PTU_JSON_NULL,
    PTU_JSON_OBJECT,
    PTU_JSON_ARRAY
};

/* One member of the object.  Pointers point into the parsed text. */
typedef struct ptu_json_field {
    const char *key;  /* raw bytes between the quotes, escapes not decoded */
    size_t key_len;
    int type;         /* PTU_JSON_* */
    const char *val;  /* raw span: for strings the bytes between the quotes
                       * (escapes not decoded); for objects and arrays from
                       * the opening to the closing bracket inclusive; else
                       * the literal or number text */
    size_t val_len;
} ptu_json_field;

/* Parse text[0..len), which must be exactly one JSON object.  Stores its
 * members in order into fields[0..max) and their count into *n_out; an
 * object with more than max members is an error.  fields may be NULL when
 * max is 0.  Returns 0, or -1 with *n_out = 0 and a short message in err
 * (errlen bytes, may be NULL/0), e.g.
 * "json: expected ':' after key at offset 12". */
int ptu_json_parse_object(const char *text, size_t len, ptu_json_field *fields, size_t max,
                          size_t *n_out, char *err, size_t errlen);

/* The member whose key, with escapes decoded, equals key (a NUL-terminated
 * string), or NULL if there is none. */
const ptu_json_field *ptu_json_find(const ptu_json_field *f, size_t n, const char *key);

/* Decode a PTU_JSON_STRING member's value (escapes, including \uXXXX and
 * surrogate pairs, become UTF-8) into out, cap bytes, NUL-terminated.
 * Returns the decoded length (excluding the NUL), or -1 if f is not a
 * string, the string is malformed or contains \u0000, or the result with
 * its NUL does not fit in cap; on failure out (if cap > 0) is left as "". */
int ptu_json_string(const ptu_json_field *f, char *out, size_t cap);

/* Read a PTU_JSON_NUMBER member that is a non-negative integer written
 * without fraction or exponent and is at most max.  Returns 0 and sets
 * *out, or -1 (out untouched). */
int ptu_json_uint64(const ptu_json_field *f, uint64_t max, uint64_t *out);

#endif
