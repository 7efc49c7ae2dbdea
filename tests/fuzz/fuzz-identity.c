/*
 * fuzz-identity.c -- ptu_identity_parse, the reader of identity files.
 *
 * Invariants:
 *   - an accepted identity has has_key = 1, node_id untouched, a private
 *     key whose second half is the public key of its seed, and a public
 *     key whose base64 (ptu_identity_public_b64) is the "public_key"
 *     member exactly as written (the parser insists on canonical base64);
 *   - a refused identity is untouched, the code is PT_EINVAL (or
 *     PT_ENOMEM), and the message starts "identity: " and does not
 *     contain the "private_key" text.
 */
#include "config.h"

#include <nettle/eddsa.h>

#include "fuzz.h"
#include "identity.h"
#include "json.h"

const char fuzz_target_name[] = "identity";

#define MAX_FIELDS 32

/* The raw span of the string member key, or NULL. */
static const ptu_json_field *member(const char *text, size_t len, ptu_json_field *f,
                                    const char *key)
{
    const ptu_json_field *m;
    size_t n;

    if (ptu_json_parse_object(text, len, f, MAX_FIELDS, &n, NULL, 0) != 0)
        return NULL;
    m = ptu_json_find(f, n, key);
    return m && m->type == PTU_JSON_STRING ? m : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_dup(data, size);
    char err[PT_ERRMSG_MAX], b64[45], decoded[64];
    ptu_json_field f[MAX_FIELDS];
    const ptu_json_field *m;
    pt_identity id, before;
    uint8_t derived[32];
    int rc;

    memset(&id, 0x5A, sizeof id);
    id.node_id = 0x12345678;
    before = id;
    err[0] = '\0';
    rc = ptu_identity_parse(text, size, &id, err, sizeof err);
    if (rc == PT_OK) {
        FUZZ_CHECK(id.has_key == 1);
        FUZZ_CHECK(id.node_id == 0x12345678);
        ed25519_sha512_public_key(derived, id.private_key);
        FUZZ_CHECK(memcmp(derived, id.public_key, 32) == 0);
        FUZZ_CHECK(memcmp(id.private_key + 32, id.public_key, 32) == 0);
        ptu_identity_public_b64(&id, b64);
        FUZZ_CHECK(strlen(b64) == 44);
        m = member(text, size, f, "public_key");
        FUZZ_CHECK(m != NULL);
        FUZZ_CHECK(ptu_json_string(m, decoded, sizeof decoded) == 44);
        FUZZ_CHECK(memcmp(decoded, b64, 44) == 0);
    } else {
        FUZZ_CHECK(rc == PT_EINVAL || rc == PT_ENOMEM);
        FUZZ_CHECK(memcmp(&id, &before, sizeof id) == 0);
        FUZZ_CHECK(strncmp(err, "identity: ", 10) == 0);
        m = member(text, size, f, "private_key");
        if (m && m->val_len >= 8)
            FUZZ_CHECK(memmem(err, strlen(err), m->val, m->val_len) == NULL);
    }
    ptu_identity_parse(text, size, &id, err, 12); /* cut, not overrun */
    ptu_identity_parse(text, size, &id, NULL, 0);
    free(text);
    return 0;
}
