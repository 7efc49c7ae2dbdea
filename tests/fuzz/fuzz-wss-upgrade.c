/*
 * fuzz-wss-upgrade.c -- the WSS plugin's upgrade response parser on what a
 * beacon answers the upgrade request with.
 *
 * Input: one byte that says how the response is fed (in pieces of that
 * many bytes; 0 whole), then the response.
 *
 * Invariants:
 *   - the verdict, the message and the header bytes taken do not depend on
 *     how the response is split;
 *   - PT_OK only for a block that ends in CRLF CRLF and holds our accept
 *     key and "pilot.v1"; the bytes taken never exceed those given nor
 *     WSS_UPGRADE_HEAD_MAX;
 *   - a refusal is PT_EIO "wss dial: upgrade refused: HTTP " or PT_EPROTO
 *     "wss upgrade: ", printable.
 */
#include "config.h"

#include "fuzz.h"
#include "upgrade.h"

const char fuzz_target_name[] = "wss-upgrade";

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

static int feed(const uint8_t *data, size_t size, size_t step, size_t *taken, char *err,
                size_t errlen)
{
    static wss_upgrade u;
    size_t off = 0;
    int rc = WSS_UPGRADE_MORE;
    wss_upgrade_init(&u, KEY);
    *taken = 0;
    err[0] = '\0';
    while (off < size && rc == WSS_UPGRADE_MORE) {
        size_t k = size - off < step ? size - off : step, used = (size_t)-1;
        char *piece = fuzz_dup(data + off, k);
        rc = wss_upgrade_feed(&u, piece, k, &used, err, errlen);
        free(piece);
        FUZZ_CHECK(used <= k);
        *taken += used;
        off += k;
    }
    FUZZ_CHECK(*taken <= WSS_UPGRADE_HEAD_MAX && *taken <= size);
    if (rc == PT_OK) {
        FUZZ_CHECK(*taken >= 4 && memcmp(data + *taken - 4, "\r\n\r\n", 4) == 0);
        FUZZ_CHECK(memmem(data, *taken, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28) != NULL);
        FUZZ_CHECK(memmem(data, *taken, WSS_UPGRADE_SUBPROTOCOL, 8) != NULL);
    } else if (rc != WSS_UPGRADE_MORE) {
        FUZZ_CHECK(rc == PT_EIO || rc == PT_EPROTO);
        FUZZ_CHECK(strncmp(err, rc == PT_EIO ? "wss dial: upgrade refused: HTTP " : "wss upgrade: ",
                           rc == PT_EIO ? 32 : 13) == 0);
        FUZZ_CHECK(fuzz_printable(err));
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char e1[PT_ERRMSG_MAX], e2[PT_ERRMSG_MAX];
    size_t t1, t2;
    int r1, r2;

    if (size < 1)
        return 0;
    r1 = feed(data + 1, size - 1, size, &t1, e1, sizeof e1);
    r2 = feed(data + 1, size - 1, data[0] ? data[0] : size, &t2, e2, sizeof e2);
    FUZZ_CHECK(r1 == r2 && t1 == t2 && strcmp(e1, e2) == 0);
    return 0;
}
