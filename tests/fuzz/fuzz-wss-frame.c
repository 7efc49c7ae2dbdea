/*
 * fuzz-wss-frame.c -- the WSS plugin's frame decoder on inbound byte
 * streams (what a beacon sends after the 101).
 *
 * Input: one byte that says how the stream is fed, then the stream.  The
 * stream is decoded whole, and again fed in pieces of (first byte) bytes
 * (1..255; 0 feeds it whole twice), the way link.c feeds it: unconsumed
 * bytes are kept and offered again with the next ones.
 *
 * Invariants:
 *   - both feedings give the same messages and the same error;
 *   - a message is TEXT or BINARY of at most PT_MAX_FRAME bytes, or a
 *     control frame of at most 125 bytes; a close carries 1005 with no
 *     payload, else a code RFC 6455 lets a peer send;
 *   - an error is PT_EPROTO or PT_ETOOLARGE, its message starts "beacon
 *     sent " and is printable, and the decoder stays failed;
 *   - wss_frame_ready says exactly whether decode returns without more;
 *   - decode never consumes more than it was given;
 *   - every data message re-encoded and unmasked is itself.
 */
#include "config.h"

#include "frame.h"
#include "fuzz.h"

const char fuzz_target_name[] = "wss-frame";

#define EV_MAX 4096

struct run {
    int n, rc;
    char err[PT_ERRMSG_MAX];
    uint32_t op[EV_MAX], len[EV_MAX], sum[EV_MAX];
};

static uint32_t sum(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static int close_code_ok(int c)
{
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

static void check_msg(const wss_frame_msg *m)
{
    static unsigned char enc[PT_MAX_FRAME + WSS_FRAME_HEAD_MAX];
    static const unsigned char key[4] = { 0xde, 0xad, 0xbe, 0xef };
    FUZZ_CHECK(m->len == 0 || m->data != NULL);
    switch (m->op) {
    case WSS_OP_TEXT:
    case WSS_OP_BINARY: {
        FUZZ_CHECK(m->len <= PT_MAX_FRAME);
        int n = wss_frame_encode(enc, m->op, m->data, m->len, key);
        size_t head = wss_frame_head_len(m->len);
        FUZZ_CHECK(n > 0 && (size_t)n == head + m->len);
        wss_frame_mask(enc + head, enc + head, m->len, key);
        FUZZ_CHECK(m->len == 0 || memcmp(enc + head, m->data, m->len) == 0);
        break;
    }
    case WSS_OP_CLOSE:
        FUZZ_CHECK(m->len <= WSS_FRAME_CONTROL_MAX && m->len != 1);
        FUZZ_CHECK(m->len == 0 ? m->close_code == 1005 : close_code_ok(m->close_code));
        break;
    case WSS_OP_PING:
    case WSS_OP_PONG:
        FUZZ_CHECK(m->len <= WSS_FRAME_CONTROL_MAX);
        break;
    default:
        FUZZ_CHECK(0);
    }
}

/* Decode s (n bytes) fed step bytes at a time into a buffer of exactly n
 * bytes, as link.c does. */
static void run(const unsigned char *s, size_t n, size_t step, struct run *r)
{
    static unsigned char asm_buf[PT_MAX_FRAME];
    unsigned char *buf = malloc(n ? n : 1);
    size_t start = 0, have = 0;
    wss_frame_dec d;

    if (!buf)
        abort();
    memset(r, 0, sizeof *r);
    wss_frame_dec_init(&d, asm_buf, sizeof asm_buf);
    while (have < n && r->rc == 0) {
        size_t add = n - have < step ? n - have : step;
        memcpy(buf + have, s + have, add);
        have += add;
        for (;;) {
            wss_frame_msg m;
            size_t used = (size_t)-1;
            int ready = wss_frame_ready(&d, buf + start, have - start);
            int rc = wss_frame_decode(&d, buf + start, have - start, &used, &m, r->err,
                                      sizeof r->err);
            FUZZ_CHECK(used <= have - start);
            FUZZ_CHECK(ready == (rc != WSS_FRAME_MORE));
            start += used;
            if (rc == WSS_FRAME_MORE)
                break;
            if (rc != PT_OK) {
                FUZZ_CHECK(rc == PT_EPROTO || rc == PT_ETOOLARGE);
                FUZZ_CHECK(strncmp(r->err, "beacon sent ", 12) == 0);
                FUZZ_CHECK(fuzz_printable(r->err));
                FUZZ_CHECK(wss_frame_decode(&d, buf, have, &used, &m, NULL, 0) == rc);
                r->rc = rc;
                break;
            }
            check_msg(&m);
            if (r->n < EV_MAX) {
                r->op[r->n] = (uint32_t)m.op;
                r->len[r->n] = (uint32_t)m.len;
                r->sum[r->n] = sum(m.data, m.len);
            }
            r->n++;
        }
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run whole, pieces;
    size_t step;

    if (size < 1)
        return 0;
    step = data[0] ? data[0] : size;
    run(data + 1, size - 1, size, &whole);
    run(data + 1, size - 1, step, &pieces);
    FUZZ_CHECK(whole.n == pieces.n && whole.rc == pieces.rc);
    FUZZ_CHECK(strcmp(whole.err, pieces.err) == 0);
    for (int i = 0; i < whole.n && i < EV_MAX; i++)
        FUZZ_CHECK(whole.op[i] == pieces.op[i] && whole.len[i] == pieces.len[i] &&
                   whole.sum[i] == pieces.sum[i]);
    return 0;
}
