/*
 * frame.c -- WebSocket framing for the client side (RFC 6455 5).
 *
 * Why the plugin frames itself rather than use libcurl's curl_ws_send and
 * curl_ws_recv:
 *   - libcurl 8.14 draws one masking key per connection and masks byte by
 *     byte; RFC 6455 5.3 asks for a fresh, unpredictable key for every
 *     frame, and masking a word at a time is several times faster.
 *   - Decoding the inbound stream here means every byte read from the
 *     connection is in a buffer the plugin can see: no complete message
 *     can hide inside libcurl's buffers while the socket polls quiet, so
 *     the plugin can say truthfully whether a message is waiting.
 */
#include "config.h"

#include "frame.h"

#include <string.h>

#include "util.h"

/* ---- Encoder ------------------------------------------------------------ */

static int is_control(int op)
{
    return op == WSS_OP_CLOSE || op == WSS_OP_PING || op == WSS_OP_PONG;
}

size_t wss_frame_head_len(size_t len)
{
    return len < 126 ? 6 : len < 65536 ? 8 : 14;
}

void wss_frame_mask(unsigned char *dst, const unsigned char *src, size_t len,
                    const unsigned char key[4])
{
    uint32_t k;
    uint64_t k8, v;
    size_t i = 0;
    memcpy(&k, key, 4);
    k8 = (uint64_t)k << 32 | k; /* the key twice, in memory order either way */
    for (; i + 8 <= len; i += 8) {
        memcpy(&v, src + i, 8);
        v ^= k8;
        memcpy(dst + i, &v, 8);
    }
    for (; i < len; i++)
        dst[i] = src[i] ^ key[i & 3];
}

int wss_frame_encode(unsigned char *out, int op, const void *payload, size_t len,
                     const unsigned char key[4])
{
    int control = is_control(op);
    unsigned char *p = out;

    if (!out || !key || (!payload && len > 0) || len > PT_MAX_FRAME ||
        (!control && op != WSS_OP_TEXT && op != WSS_OP_BINARY) ||
        (control && len > WSS_FRAME_CONTROL_MAX))
        return PT_EINVAL;
    *p++ = (unsigned char)(0x80 | op); /* FIN: we never fragment */
    if (len < 126) {
        *p++ = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        *p++ = 0x80 | 126;
        *p++ = (unsigned char)(len >> 8);
        *p++ = (unsigned char)len;
    } else {
        *p++ = 0x80 | 127;
        for (int shift = 56; shift >= 0; shift -= 8)
            *p++ = (unsigned char)((uint64_t)len >> shift);
    }
    memcpy(p, key, 4);
    p += 4;
    if (len)
        wss_frame_mask(p, payload, len, key);
    return (int)(p - out + len);
}

/* ---- Decoder ------------------------------------------------------------ */

/* A frame header, checked against what the stream allows at this point. */
struct head {
    int fin, op;
    size_t hlen; /* header bytes */
    size_t plen; /* payload bytes */
};

static int too_large(char *err, size_t errlen)
{
    return ptu_err(err, errlen, PT_ETOOLARGE, "beacon sent a message over %d bytes",
                   PT_MAX_FRAME);
}

/* Parse the header at in[0..len) for a stream with a fragmented message of
 * asm_op (0: none) and asm_len bytes under way.  Each check runs as soon
 * as the bytes it needs are there.  Returns 1 with *h set, 0 when the
 * header is not all there yet, or a negative code. */
static int parse_head(int asm_op, size_t asm_len, const unsigned char *in, size_t len,
                      struct head *h, char *err, size_t errlen)
{
    unsigned b0, b1, l7;
    uint64_t plen;

    if (len < 1)
        return 0;
    b0 = in[0];
    h->fin = b0 >> 7;
    h->op = (int)(b0 & 0x0f);
    if (b0 & 0x70)
        return ptu_err(err, errlen, PT_EPROTO,
                       "beacon sent a frame with reserved bits set (0x%02x) but no extension "
                       "was negotiated",
                       b0 & 0x70);
    if (h->op != WSS_OP_CONT && h->op != WSS_OP_TEXT && h->op != WSS_OP_BINARY &&
        !is_control(h->op))
        return ptu_err(err, errlen, PT_EPROTO, "beacon sent a frame with unknown opcode 0x%x",
                       (unsigned)h->op);
    if (is_control(h->op) && !h->fin)
        return ptu_err(err, errlen, PT_EPROTO,
                       "beacon sent a fragmented control frame (opcode 0x%x)", (unsigned)h->op);
    if (h->op == WSS_OP_CONT && !asm_op)
        return ptu_err(err, errlen, PT_EPROTO,
                       "beacon sent a continuation frame with no message started");
    if ((h->op == WSS_OP_TEXT || h->op == WSS_OP_BINARY) && asm_op)
        return ptu_err(err, errlen, PT_EPROTO,
                       "beacon sent a new data frame inside a fragmented message");
    if (len < 2)
        return 0;
    b1 = in[1];
    if (b1 & 0x80)
        return ptu_err(err, errlen, PT_EPROTO,
                       "beacon sent a masked frame (a server must not mask)");
    l7 = b1 & 0x7f;
    if (is_control(h->op) && l7 > WSS_FRAME_CONTROL_MAX)
        return ptu_err(err, errlen, PT_EPROTO, "beacon sent a control frame over 125 bytes");
    if (l7 < 126) {
        h->hlen = 2;
        plen = l7;
    } else if (l7 == 126) {
        if (len < 4)
            return 0;
        h->hlen = 4;
        plen = (uint64_t)in[2] << 8 | in[3];
        if (plen < 126)
            return ptu_err(err, errlen, PT_EPROTO,
                           "beacon sent length %u in a 16-bit field (not the shortest form)",
                           (unsigned)plen);
    } else {
        if (len >= 3 && (in[2] & 0x80))
            return ptu_err(err, errlen, PT_EPROTO,
                           "beacon sent a 64-bit frame length with the top bit set");
        if (len < 10)
            return 0;
        h->hlen = 10;
        plen = 0;
        for (int i = 2; i < 10; i++)
            plen = plen << 8 | in[i];
        if (plen < 65536)
            return ptu_err(err, errlen, PT_EPROTO,
                           "beacon sent length %u in a 64-bit field (not the shortest form)",
                           (unsigned)plen);
    }
    /* Refused from the header, before any of the payload is buffered. */
    if (plen > PT_MAX_FRAME || (h->op == WSS_OP_CONT && asm_len + plen > PT_MAX_FRAME))
        return too_large(err, errlen);
    h->plen = (size_t)plen;
    return 1;
}

/* May code be sent in a close frame?  RFC 6455 7.4.1 and the IANA
 * registry: 1004-1006 and 1015 are reserved or local-only, 1016-2999 are
 * unassigned, below 1000 and from 5000 on undefined. */
static int close_code_ok(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

void wss_frame_dec_init(wss_frame_dec *d, unsigned char *asm_buf, size_t cap)
{
    memset(d, 0, sizeof *d);
    d->asm_buf = asm_buf;
    d->asm_cap = cap;
}

/* A whole control frame at p: checked, then handed out in place. */
static int control_msg(wss_frame_dec *d, const struct head *h, const unsigned char *p,
                       wss_frame_msg *m, char *err, size_t errlen)
{
    m->op = h->op;
    m->data = p;
    m->len = h->plen;
    m->close_code = 0;
    if (h->op != WSS_OP_CLOSE)
        return PT_OK;
    m->close_code = 1005; /* "no status received": an empty close */
    if (h->plen == 1)
        return d->failed = ptu_err(err, errlen, PT_EPROTO,
                                   "beacon sent a close frame with a 1-byte payload");
    if (h->plen >= 2) {
        m->close_code = p[0] << 8 | p[1];
        if (!close_code_ok(m->close_code))
            return d->failed = ptu_err(err, errlen, PT_EPROTO,
                                       "beacon sent close code %d, which may not be sent",
                                       m->close_code);
    }
    return PT_OK;
}

int wss_frame_decode(wss_frame_dec *d, const unsigned char *in, size_t len, size_t *used,
                     wss_frame_msg *m, char *err, size_t errlen)
{
    size_t off = 0;

    *used = 0;
    if (d->failed)
        return d->failed == PT_ETOOLARGE
                   ? too_large(err, errlen)
                   : ptu_err(err, errlen, d->failed, "decoder already failed");
    if (d->delivered) {
        d->asm_len = 0;
        d->delivered = 0;
    }
    for (;;) {
        struct head h;
        const unsigned char *p;
        int rc = off < len ? parse_head(d->asm_op, d->asm_len, in + off, len - off, &h, err,
                                        errlen)
                           : 0;
        if (rc < 0) {
            *used = off;
            return d->failed = rc;
        }
        if (rc == 0 || len - off - h.hlen < h.plen) {
            *used = off; /* the caller keeps the partial frame */
            return WSS_FRAME_MORE;
        }
        p = in + off + h.hlen;
        off += h.hlen + h.plen;
        *used = off;
        if (is_control(h.op)) /* may come between fragments */
            return control_msg(d, &h, p, m, err, errlen);
        if (h.op != WSS_OP_CONT && h.fin) {
            /* A whole message in the input: handed out in place. */
            m->op = h.op;
            m->data = p;
            m->len = h.plen;
            m->close_code = 0;
            return PT_OK;
        }
        if (d->asm_len + h.plen > d->asm_cap)
            return d->failed = too_large(err, errlen);
        if (h.op != WSS_OP_CONT)
            d->asm_op = h.op;
        if (h.plen)
            memcpy(d->asm_buf + d->asm_len, p, h.plen);
        d->asm_len += h.plen;
        if (h.fin) {
            m->op = d->asm_op;
            m->data = d->asm_buf;
            m->len = d->asm_len;
            m->close_code = 0;
            d->asm_op = 0;
            d->delivered = 1;
            return PT_OK;
        }
    }
}

int wss_frame_ready(const wss_frame_dec *d, const unsigned char *in, size_t len)
{
    int op = d->asm_op;
    size_t asm_len = d->delivered ? 0 : d->asm_len, off = 0;

    if (d->failed)
        return 1;
    for (;;) {
        struct head h;
        int rc = off < len ? parse_head(op, asm_len, in + off, len - off, &h, NULL, 0) : 0;
        if (rc < 0)
            return 1;
        if (rc == 0 || len - off - h.hlen < h.plen)
            return 0;
        if (is_control(h.op) || h.fin)
            return 1;
        if (h.op != WSS_OP_CONT)
            op = h.op;
        asm_len += h.plen;
        off += h.hlen + h.plen;
    }
}
