/* registry.c -- the beacon's record of node ids and their public keys. */
#include "config.h"

#include "beacon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/base64.h>

#include "util.h"

/* Standard base64 of 32 bytes, with its one '=' of padding. */
#define KEY_B64_LEN 44

/* Decode exactly KEY_B64_LEN characters of base64 into a 32-byte key. */
static int decode_key(const char *b64, size_t len, uint8_t key[32])
{
    struct base64_decode_ctx ctx;
    uint8_t out[BASE64_DECODE_LENGTH(KEY_B64_LEN)];
    size_t n = sizeof out;

    if (len != KEY_B64_LEN)
        return -1;
    base64_decode_init(&ctx);
    if (!base64_decode_update(&ctx, &n, out, len, b64) || !base64_decode_final(&ctx) ||
        n != 32)
        return -1;
    memcpy(key, out, 32);
    return 0;
}

static int add(bc_registry *reg, uint32_t id, const uint8_t key[32])
{
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 16;
        bc_reg_entry *e = realloc(reg->e, cap * sizeof *e);
        if (!e)
            return -1;
        reg->e = e;
        reg->cap = cap;
    }
    reg->e[reg->n].node_id = id;
    memcpy(reg->e[reg->n].key, key, 32);
    reg->n++;
    return 0;
}

/* Parse one line (NUL-terminated, newline removed) into reg. */
static int parse_line(bc_registry *reg, char *line, char *why, size_t whylen)
{
    char *id_s, *key_s, *rest, *save = NULL;
    uint64_t id;
    uint8_t key[32];

    id_s = strtok_r(line, " \t\r", &save);
    if (!id_s || id_s[0] == '#')
        return 0; /* blank or comment */
    key_s = strtok_r(NULL, " \t\r", &save);
    rest = strtok_r(NULL, " \t\r", &save);
    if (!key_s || rest)
        return ptu_err(why, whylen, -1, "expected NODE_ID BASE64_PUBKEY");
    if (ptu_parse_u64(id_s, UINT32_MAX, &id) != 0 || id == 0)
        return ptu_err(why, whylen, -1, "node id must be 1..4294967295");
    if (decode_key(key_s, strlen(key_s), key) != 0)
        return ptu_err(why, whylen, -1, "public key must be standard base64 of 32 bytes");
    if (bc_registry_find(reg, (uint32_t)id))
        return ptu_err(why, whylen, -1, "node %u listed twice", (unsigned)id);
    if (add(reg, (uint32_t)id, key) != 0)
        return ptu_err(why, whylen, -1, "out of memory");
    return 0;
}

int bc_registry_load(bc_registry *reg, const char *path, char *err, size_t errlen)
{
    FILE *f;
    char line[512], why[128];
    unsigned lineno = 0;
    int rc = -1;

    memset(reg, 0, sizeof *reg);
    f = fopen(path, "r");
    if (!f)
        return ptu_err(err, errlen, -1, "registry %s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        lineno++;
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            ptu_err(err, errlen, -1, "registry %s:%u: line too long", path, lineno);
            goto out;
        }
        if (len > 0 && line[len - 1] == '\n')
            line[len - 1] = '\0';
        if (parse_line(reg, line, why, sizeof why) != 0) {
            ptu_err(err, errlen, -1, "registry %s:%u: %s", path, lineno, why);
            goto out;
        }
    }
    if (ferror(f)) {
        ptu_err(err, errlen, -1, "registry %s: read error", path);
        goto out;
    }
    rc = 0;
out:
    fclose(f);
    if (rc != 0)
        bc_registry_free(reg);
    return rc;
}

const uint8_t *bc_registry_find(const bc_registry *reg, uint32_t node_id)
{
    for (size_t i = 0; i < reg->n; i++)
        if (reg->e[i].node_id == node_id)
            return reg->e[i].key;
    return NULL;
}

void bc_registry_free(bc_registry *reg)
{
    free(reg->e);
    memset(reg, 0, sizeof *reg);
}
