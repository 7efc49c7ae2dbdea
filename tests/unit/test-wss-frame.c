/*
 * test-wss-frame.c -- the WSS plugin's WebSocket framing (plugin/wss/frame.c):
 * the encoder at the length boundaries and against RFC 6455 5.7's
 * examples, and the decoder on whole streams, on streams fed one byte (and
 * seven bytes) at a time, and on every frame it must refuse.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "tap.h"

static const unsigned char KEY[4] = { 0x37, 0xfa, 0x21, 0x3d }; /* RFC 6455 5.7 */

/* ---- Building server frames (unmasked) ----------------------------------- */

/* A growable byte stream. */
typedef struct stream {
    unsigned char *b;
    size_t len, cap;
} stream;

static void put(stream *s, const void *p, size_t n)
{
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2 + 64;
        s->b = realloc(s->b, s->cap);
        if (!s->b)
            abort();
    }
    if (n)
        memcpy(s->b + s->len, p, n);
    s->len += n;
}

/* A server frame: b0 as given (FIN, RSV, opcode), the shortest length
 * field unless len_bytes forces 2 (16-bit) or 8 (64-bit), payload fill. */
static void frame(stream *s, unsigned b0, size_t len, int len_bytes, unsigned char fill)
{
    unsigned char h[10];
    size_t n = 0;
    h[n++] = (unsigned char)b0;
    if (len_bytes == 0)
        len_bytes = len < 126 ? 0 : len < 65536 ? 2 : 8;
    if (len_bytes == 0) {
        h[n++] = (unsigned char)len;
    } else if (len_bytes == 2) {
        h[n++] = 126;
        h[n++] = (unsigned char)(len >> 8);
        h[n++] = (unsigned char)len;
    } else {
        h[n++] = 127;
        for (int sh = 56; sh >= 0; sh -= 8)
            h[n++] = (unsigned char)((uint64_t)len >> sh);
    }
    put(s, h, n);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)(fill + i);
        put(s, &c, 1);
    }
}

/* ---- Running the decoder over a stream ------------------------------------ */

#define EV_MAX 16
typedef struct event {
    int rc;         /* PT_OK or the error */
    int op;
    size_t len;
    uint32_t sum;   /* of the payload */
    int close_code;
    int in_place;   /* data pointed into the input */
    char err[PT_ERRMSG_MAX];
} event;

static uint32_t sum(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Feed s to a fresh decoder step bytes at a time (0: all at once), as
 * link.c does: unconsumed bytes are kept and offered again with the next
 * ones.  Records every message and the first error; returns the count. */
static int run(const stream *s, size_t step, event *ev)
{
    static unsigned char asm_buf[PT_MAX_FRAME];
    unsigned char *buf = malloc(s->len ? s->len : 1);
    size_t start = 0, have = 0;
    wss_frame_dec d;
    int n = 0;

    if (!buf)
        abort();
    wss_frame_dec_init(&d, asm_buf, sizeof asm_buf);
    if (step == 0)
        step = s->len ? s->len : 1;
    while (have < s->len && n < EV_MAX) {
        size_t add = s->len - have < step ? s->len - have : step;
        memcpy(buf + have, s->b + have, add);
        have += add;
        for (;;) {
            wss_frame_msg m;
            size_t used = 0;
            char err[PT_ERRMSG_MAX] = "";
            int ready = wss_frame_ready(&d, buf + start, have - start);
            int rc = wss_frame_decode(&d, buf + start, have - start, &used, &m, err, sizeof err);
            CHECK(used <= have - start);
            CHECK_EQ_INT(ready, rc != WSS_FRAME_MORE);
            if (rc == WSS_FRAME_MORE) {
                start += used;
                break;
            }
            memset(&ev[n], 0, sizeof ev[n]);
            ev[n].rc = rc;
            if (rc == PT_OK) {
                ev[n].op = m.op;
                ev[n].len = m.len;
                ev[n].sum = sum(m.data, m.len);
                ev[n].close_code = m.close_code;
                ev[n].in_place = m.data >= buf + start && m.data + m.len <= buf + start + used;
            } else {
                snprintf(ev[n].err, sizeof ev[n].err, "%s", err);
                /* Sticky: the stream is out of step from here on. */
                CHECK_EQ_INT(wss_frame_decode(&d, buf, have, &used, &m, NULL, 0), rc);
                CHECK(wss_frame_ready(&d, buf, 0));
                free(buf);
                return n + 1;
            }
            n++;
            start += used;
        }
    }
    free(buf);
    return n;
}

/* The same events whatever the feeding. */
static void same_events(const event *a, int na, const event *b, int nb)
{
    CHECK_EQ_INT(na, nb);
    for (int i = 0; i < na && i < nb; i++) {
        CHECK_EQ_INT(a[i].rc, b[i].rc);
        CHECK_EQ_INT(a[i].op, b[i].op);
        CHECK_EQ_INT(a[i].len, b[i].len);
        CHECK_EQ_INT(a[i].sum, b[i].sum);
        CHECK_EQ_INT(a[i].close_code, b[i].close_code);
        CHECK_STR_EQ(a[i].err, b[i].err);
    }
}

/* Run s whole, one byte at a time and seven at a time; the whole run's
 * events go to ev. */
static int run_all_ways(const stream *s, event *ev)
{
    static event e1[EV_MAX], e7[EV_MAX];
    int n = run(s, 0, ev);
    int n1 = run(s, 1, e1);
    int n7 = run(s, 7, e7);
    same_events(ev, n, e1, n1);
    same_events(ev, n, e7, n7);
    return n;
}

/* ---- Encoder --------------------------------------------------------------- */

static const size_t BOUNDARY[] = { 0, 1, 125, 126, 127, 65535, 65536 };

TEST(encoder_lengths_at_the_boundaries)
{
    static unsigned char payload[PT_MAX_FRAME], out[PT_MAX_FRAME + WSS_FRAME_HEAD_MAX];
    for (size_t i = 0; i < PT_MAX_FRAME; i++)
        payload[i] = (unsigned char)(i * 7 + 3);
    for (size_t b = 0; b < sizeof BOUNDARY / sizeof *BOUNDARY; b++) {
        size_t len = BOUNDARY[b], head = wss_frame_head_len(len);
        int n = wss_frame_encode(out, WSS_OP_BINARY, payload, len, KEY);
        CHECK_EQ_INT(head, len < 126 ? 6 : len < 65536 ? 8 : 14);
        CHECK_EQ_INT(n, (long long)(head + len));
        CHECK_EQ_INT(out[0], 0x82);
        CHECK_EQ_INT(out[1] & 0x80, 0x80); /* masked */
        if (len < 126) {
            CHECK_EQ_INT(out[1] & 0x7f, len);
        } else if (len < 65536) {
            CHECK_EQ_INT(out[1] & 0x7f, 126);
            CHECK_EQ_INT(out[2] << 8 | out[3], len);
        } else {
            uint64_t v = 0;
            CHECK_EQ_INT(out[1] & 0x7f, 127);
            for (int k = 2; k < 10; k++)
                v = v << 8 | out[k];
            CHECK_EQ_INT(v, len);
        }
        CHECK(memcmp(out + head - 4, KEY, 4) == 0);
        /* decode(encode(x)) with the mask removed is x. */
        wss_frame_mask(out + head, out + head, len, KEY);
        CHECK(memcmp(out + head, payload, len) == 0);
    }
    CHECK_EQ_INT(wss_frame_encode(out, WSS_OP_BINARY, payload, PT_MAX_FRAME + 1, KEY), PT_EINVAL);
}

TEST(encoder_masks_every_alignment_like_the_bytewise_rule)
{
    unsigned char src[40], dst[40];
    size_t compared = 0, wrong = 0;
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(0xa5 ^ i);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof src; len++) {
            wss_frame_mask(dst + off, src + off, len, KEY);
            for (size_t i = 0; i < len; i++, compared++)
                wrong += dst[off + i] != (src[off + i] ^ KEY[i & 3]);
        }
    CHECK_EQ_INT(wrong, 0);
    CHECK(compared > 0);
}

TEST(encoder_matches_rfc6455_examples)
{
    /* 5.7: a masked text "Hello" and a masked pong "Hello". */
    static const unsigned char text[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                          0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    static const unsigned char pong[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                          0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    unsigned char out[32];
    CHECK_EQ_INT(wss_frame_encode(out, WSS_OP_TEXT, "Hello", 5, KEY), sizeof text);
    CHECK(memcmp(out, text, sizeof text) == 0);
    CHECK_EQ_INT(wss_frame_encode(out, WSS_OP_PONG, "Hello", 5, KEY), sizeof pong);
    CHECK(memcmp(out, pong, sizeof pong) == 0);
}

TEST(encoder_control_frames_and_bad_arguments)
{
    static unsigned char out[PT_MAX_FRAME + WSS_FRAME_HEAD_MAX], p[200];
    CHECK_EQ_INT(wss_frame_encode(out, WSS_OP_PING, p, 125, KEY), 131);
    CHECK_EQ_INT(out[0], 0x89);
    CHECK_EQ_INT(wss_frame_encode(out, WSS_OP_CLOSE, p, 0, KEY), 6);
    CHECK_EQ_INT(out[0], 0x88);
    CHECK_EQ_INT(wss_frame_encode(out, WSS_OP_PONG, p, 126, KEY), PT_EINVAL);
    CHECK_EQ_INT(wss_frame_encode(out, WSS_OP_CONT, p, 1, KEY), PT_EINVAL);
    CHECK_EQ_INT(wss_frame_encode(out, 3, p, 1, KEY), PT_EINVAL);
    CHECK_EQ_INT(wss_frame_encode(out, 0xb, p, 1, KEY), PT_EINVAL);
    CHECK_EQ_INT(wss_frame_encode(out, WSS_OP_BINARY, NULL, 1, KEY), PT_EINVAL);
    CHECK_EQ_INT(wss_frame_encode(out, WSS_OP_BINARY, NULL, 0, KEY), 6);
    CHECK_EQ_INT(wss_frame_encode(NULL, WSS_OP_BINARY, p, 1, KEY), PT_EINVAL);
}

/* ---- Decoder: messages ----------------------------------------------------- */

TEST(decoder_lengths_at_the_boundaries_whole_and_bytewise)
{
    for (size_t b = 0; b < sizeof BOUNDARY / sizeof *BOUNDARY; b++) {
        stream s = { 0 };
        event ev[EV_MAX];
        size_t len = BOUNDARY[b];
        frame(&s, 0x82, len, 0, (unsigned char)b);
        frame(&s, 0x81, 3, 0, 'a'); /* and the next message behind it */
        int n = run_all_ways(&s, ev);
        CHECK_EQ_INT(n, 2);
        CHECK_EQ_INT(ev[0].rc, PT_OK);
        CHECK_EQ_INT(ev[0].op, WSS_OP_BINARY);
        CHECK_EQ_INT(ev[0].len, len);
        CHECK_EQ_INT(ev[0].sum, sum(s.b + wss_frame_head_len(len) - 4, len));
        CHECK(ev[0].in_place); /* whole in the input: no copy */
        CHECK_EQ_INT(ev[1].op, WSS_OP_TEXT);
        CHECK_EQ_INT(ev[1].len, 3);
        free(s.b);
    }
}

TEST(decoder_refuses_65537_from_the_header_alone)
{
    stream s = { 0 };
    wss_frame_dec d;
    wss_frame_msg m;
    size_t used = 1;
    char err[PT_ERRMSG_MAX] = "";
    static unsigned char asm_buf[PT_MAX_FRAME];
    frame(&s, 0x82, PT_MAX_FRAME + 1, 0, 0);
    wss_frame_dec_init(&d, asm_buf, sizeof asm_buf);
    /* Only the 10 header bytes: no payload is needed to refuse it. */
    CHECK_EQ_INT(wss_frame_decode(&d, s.b, 10, &used, &m, err, sizeof err), PT_ETOOLARGE);
    CHECK_STR_EQ(err, "beacon sent a message over 65536 bytes");
    CHECK_EQ_INT(used, 0);
    CHECK_EQ_INT(wss_frame_decode(&d, s.b, 10, &used, &m, err, sizeof err), PT_ETOOLARGE);
    free(s.b);
}

TEST(decoder_rfc6455_examples)
{
    /* 5.7: unmasked "Hello"; "Hel" + "lo" fragmented; a ping "Hello";
     * 256 bytes and 64 KiB in one unmasked binary frame. */
    static const unsigned char hello[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    static const unsigned char frag[] = { 0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f };
    static const unsigned char ping[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    stream s = { 0 };
    event ev[EV_MAX];
    put(&s, hello, sizeof hello);
    put(&s, frag, sizeof frag);
    put(&s, ping, sizeof ping);
    frame(&s, 0x82, 256, 0, 1);
    frame(&s, 0x82, 65536, 0, 2);
    int n = run_all_ways(&s, ev);
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(ev[0].op, WSS_OP_TEXT);
    CHECK_EQ_INT(ev[0].sum, sum((const unsigned char *)"Hello", 5));
    CHECK_EQ_INT(ev[1].op, WSS_OP_TEXT);
    CHECK_EQ_INT(ev[1].sum, sum((const unsigned char *)"Hello", 5));
    CHECK(!ev[1].in_place); /* joined from its fragments */
    CHECK_EQ_INT(ev[2].op, WSS_OP_PING);
    CHECK_EQ_INT(ev[2].sum, sum((const unsigned char *)"Hello", 5));
    CHECK_EQ_INT(ev[3].len, 256);
    CHECK_EQ_INT(ev[4].len, 65536);
    free(s.b);
}

TEST(decoder_control_frames_between_fragments)
{
    stream s = { 0 }, whole = { 0 };
    event ev[EV_MAX];
    frame(&s, 0x02, 1000, 0, 10);          /* binary, not final */
    frame(&s, 0x89, 4, 0, 'p');            /* ping */
    frame(&s, 0x00, 0, 0, 0);              /* empty continuation */
    frame(&s, 0x8a, 125, 0, 'q');          /* pong, the largest */
    frame(&s, 0x00, 30000, 0, 20);         /* continuation */
    put(&s, (unsigned char[]){ 0x88, 2, 0x03, 0xe8 }, 4); /* close 1000 */
    frame(&s, 0x80, 34536, 0, 30);         /* final: 65536 in all */
    frame(&s, 0x81, 2, 0, 'x');            /* a new message after it */
    int n = run_all_ways(&s, ev);
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(ev[0].op, WSS_OP_PING);
    CHECK_EQ_INT(ev[1].op, WSS_OP_PONG);
    CHECK_EQ_INT(ev[1].len, 125);
    CHECK_EQ_INT(ev[2].op, WSS_OP_CLOSE);
    CHECK_EQ_INT(ev[2].close_code, 1000);
    CHECK_EQ_INT(ev[3].op, WSS_OP_BINARY);
    CHECK_EQ_INT(ev[3].len, 65536);
    for (size_t i = 0; i < 1000; i++)
        put(&whole, (unsigned char[]){ (unsigned char)(10 + i) }, 1);
    for (size_t i = 0; i < 30000; i++)
        put(&whole, (unsigned char[]){ (unsigned char)(20 + i) }, 1);
    for (size_t i = 0; i < 34536; i++)
        put(&whole, (unsigned char[]){ (unsigned char)(30 + i) }, 1);
    CHECK_EQ_INT(ev[3].sum, sum(whole.b, whole.len));
    CHECK_EQ_INT(ev[4].op, WSS_OP_TEXT);
    free(s.b);
    free(whole.b);
}

TEST(decoder_fragments_over_65536_are_refused_from_the_header)
{
    stream s = { 0 };
    event ev[EV_MAX];
    frame(&s, 0x02, 65000, 0, 0);
    frame(&s, 0x80, 537, 0, 0);
    int n = run_all_ways(&s, ev);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(ev[0].rc, PT_ETOOLARGE);
    CHECK_STR_EQ(ev[0].err, "beacon sent a message over 65536 bytes");
    free(s.b);
}

TEST(decoder_close_frames)
{
    static const struct {
        int code;
        int ok;
    } codes[] = { { 999, 0 },  { 1000, 1 }, { 1001, 1 }, { 1002, 1 }, { 1003, 1 },
                  { 1004, 0 }, { 1005, 0 }, { 1006, 0 }, { 1007, 1 }, { 1008, 1 },
                  { 1011, 1 }, { 1014, 1 }, { 1015, 0 }, { 1016, 0 }, { 2999, 0 },
                  { 3000, 1 }, { 4999, 1 }, { 5000, 0 }, { 0, 0 },    { 65535, 0 } };
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        stream s = { 0 };
        event ev[EV_MAX];
        unsigned char f[] = { 0x88, 0x05, (unsigned char)(codes[i].code >> 8),
                              (unsigned char)codes[i].code, 'b', 'y', 'e' };
        put(&s, f, sizeof f);
        CHECK_EQ_INT(run_all_ways(&s, ev), 1);
        if (codes[i].ok) {
            CHECK_EQ_INT(ev[0].rc, PT_OK);
            CHECK_EQ_INT(ev[0].close_code, codes[i].code);
            CHECK_EQ_INT(ev[0].len, 5);
        } else {
            char want[80];
            snprintf(want, sizeof want, "beacon sent close code %d, which may not be sent",
                     codes[i].code);
            CHECK_EQ_INT(ev[0].rc, PT_EPROTO);
            CHECK_STR_EQ(ev[0].err, want);
        }
        free(s.b);
    }
    /* No payload: 1005, "no status received", never on the wire. */
    stream s = { 0 };
    event ev[EV_MAX];
    frame(&s, 0x88, 0, 0, 0);
    CHECK_EQ_INT(run_all_ways(&s, ev), 1);
    CHECK_EQ_INT(ev[0].rc, PT_OK);
    CHECK_EQ_INT(ev[0].close_code, 1005);
    free(s.b);
}

/* ---- Decoder: refusals ------------------------------------------------------ */

static const struct refusal {
    const char *name;
    unsigned char bytes[16];
    size_t len;
    int code;
    const char *err;
} REFUSALS[] = {
    { "masked", { 0x82, 0x81, 1, 2, 3, 4, 'x' }, 7, PT_EPROTO,
      "beacon sent a masked frame (a server must not mask)" },
    { "rsv1", { 0xc2, 0x00 }, 2, PT_EPROTO,
      "beacon sent a frame with reserved bits set (0x40) but no extension was negotiated" },
    { "rsv2", { 0xa2, 0x00 }, 2, PT_EPROTO,
      "beacon sent a frame with reserved bits set (0x20) but no extension was negotiated" },
    { "rsv3", { 0x92, 0x00 }, 2, PT_EPROTO,
      "beacon sent a frame with reserved bits set (0x10) but no extension was negotiated" },
    { "opcode 3", { 0x83, 0x00 }, 2, PT_EPROTO, "beacon sent a frame with unknown opcode 0x3" },
    { "opcode 7", { 0x87, 0x00 }, 2, PT_EPROTO, "beacon sent a frame with unknown opcode 0x7" },
    { "opcode b", { 0x8b, 0x00 }, 2, PT_EPROTO, "beacon sent a frame with unknown opcode 0xb" },
    { "opcode f", { 0x8f, 0x00 }, 2, PT_EPROTO, "beacon sent a frame with unknown opcode 0xf" },
    { "ping 126", { 0x89, 0x7e, 0x00, 0x7e }, 4, PT_EPROTO,
      "beacon sent a control frame over 125 bytes" },
    { "close 127", { 0x88, 0x7f }, 2, PT_EPROTO, "beacon sent a control frame over 125 bytes" },
    { "fragmented ping", { 0x09, 0x00 }, 2, PT_EPROTO,
      "beacon sent a fragmented control frame (opcode 0x9)" },
    { "lone continuation", { 0x80, 0x00 }, 2, PT_EPROTO,
      "beacon sent a continuation frame with no message started" },
    { "data inside fragments", { 0x01, 0x01, 'a', 0x82, 0x00 }, 5, PT_EPROTO,
      "beacon sent a new data frame inside a fragmented message" },
    { "64-bit top bit", { 0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 10, PT_EPROTO,
      "beacon sent a 64-bit frame length with the top bit set" },
    { "16-bit not shortest", { 0x82, 0x7e, 0x00, 0x7d }, 4, PT_EPROTO,
      "beacon sent length 125 in a 16-bit field (not the shortest form)" },
    { "64-bit not shortest", { 0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 10, PT_EPROTO,
      "beacon sent length 65535 in a 64-bit field (not the shortest form)" },
    { "64-bit 65537", { 0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 1 }, 10, PT_ETOOLARGE,
      "beacon sent a message over 65536 bytes" },
    { "64-bit huge", { 0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 10,
      PT_ETOOLARGE, "beacon sent a message over 65536 bytes" },
    { "close 1 byte", { 0x88, 0x01, 0x03 }, 3, PT_EPROTO,
      "beacon sent a close frame with a 1-byte payload" },
    { "close 1005", { 0x88, 0x02, 0x03, 0xed }, 4, PT_EPROTO,
      "beacon sent close code 1005, which may not be sent" },
    { "close 1006", { 0x88, 0x02, 0x03, 0xee }, 4, PT_EPROTO,
      "beacon sent close code 1006, which may not be sent" },
};

TEST(decoder_refusals_with_their_messages)
{
    for (size_t i = 0; i < sizeof REFUSALS / sizeof *REFUSALS; i++) {
        const struct refusal *r = &REFUSALS[i];
        stream s = { 0 };
        event ev[EV_MAX];
        put(&s, r->bytes, r->len);
        int n = run_all_ways(&s, ev);
        if (n != 1 || ev[0].rc != r->code || strcmp(ev[0].err, r->err) != 0) {
            printf("# %s: %d events, rc %d, \"%s\"\n", r->name, n, n ? ev[0].rc : 0,
                   n ? ev[0].err : "");
            CHECK(0);
        }
        free(s.b);
    }
}

TEST(decoder_refusal_after_good_messages_keeps_them)
{
    stream s = { 0 };
    event ev[EV_MAX];
    frame(&s, 0x82, 10, 0, 0);
    frame(&s, 0x8a, 0, 0, 0);
    put(&s, (unsigned char[]){ 0x82, 0x85 }, 2); /* masked */
    int n = run_all_ways(&s, ev);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(ev[0].rc, PT_OK);
    CHECK_EQ_INT(ev[1].op, WSS_OP_PONG);
    CHECK_EQ_INT(ev[2].rc, PT_EPROTO);
    free(s.b);
}

TEST(decoder_errors_fit_small_buffers)
{
    wss_frame_dec d;
    wss_frame_msg m;
    size_t used;
    char err[8];
    static unsigned char asm_buf[PT_MAX_FRAME];
    const unsigned char masked[] = { 0x82, 0x81 };
    wss_frame_dec_init(&d, asm_buf, sizeof asm_buf);
    memset(err, 'x', sizeof err);
    CHECK_EQ_INT(wss_frame_decode(&d, masked, 2, &used, &m, err, sizeof err), PT_EPROTO);
    CHECK_EQ_INT(strlen(err), 7);
    wss_frame_dec_init(&d, asm_buf, sizeof asm_buf);
    CHECK_EQ_INT(wss_frame_decode(&d, masked, 2, &used, &m, NULL, 0), PT_EPROTO);
}

TEST(decoder_empty_input_wants_more)
{
    wss_frame_dec d;
    wss_frame_msg m;
    size_t used = 9;
    static unsigned char asm_buf[PT_MAX_FRAME];
    wss_frame_dec_init(&d, asm_buf, sizeof asm_buf);
    CHECK_EQ_INT(wss_frame_decode(&d, NULL, 0, &used, &m, NULL, 0), WSS_FRAME_MORE);
    CHECK_EQ_INT(used, 0);
    CHECK(!wss_frame_ready(&d, NULL, 0));
}

int main(void)
{
    RUN(encoder_lengths_at_the_boundaries);
    RUN(encoder_masks_every_alignment_like_the_bytewise_rule);
    RUN(encoder_matches_rfc6455_examples);
    RUN(encoder_control_frames_and_bad_arguments);
    RUN(decoder_lengths_at_the_boundaries_whole_and_bytewise);
    RUN(decoder_refuses_65537_from_the_header_alone);
    RUN(decoder_rfc6455_examples);
    RUN(decoder_control_frames_between_fragments);
    RUN(decoder_fragments_over_65536_are_refused_from_the_header);
    RUN(decoder_close_frames);
    RUN(decoder_refusals_with_their_messages);
    RUN(decoder_refusal_after_good_messages_keeps_them);
    RUN(decoder_errors_fit_small_buffers);
    RUN(decoder_empty_input_wants_more);
    return tap_done();
}
