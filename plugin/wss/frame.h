/*
 * frame.h -- WebSocket framing (RFC 6455 5), client side: an encoder for
 * the frames we send (always masked) and an incremental decoder for the
 * byte stream the beacon sends.  Internal to the WSS plugin.  Prefix
 * wss_frame_.
 *
 * Pure code: no I/O, no allocation, no global state, no libcurl; safe from
 * any thread on distinct decoders.  Why the plugin frames at all is said
 * at the top of frame.c.
 *
 * The decoder's contract with its caller ("retain"): the caller keeps the
 * stream bytes the decoder has not consumed and offers them again, with
 * whatever arrived after them, on the next call.  So a whole unfragmented
 * message or control frame that lies in the input is handed out as a
 * pointer into it, with no copy; only the fragments of a fragmented
 * message are copied, into the assembly buffer the caller lends at init.
 * The caller's buffer must hold a whole frame: WSS_FRAME_HEAD_MAX +
 * PT_MAX_FRAME bytes.
 */
#ifndef PT_WSS_FRAME_H
#define PT_WSS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "pilot_transport.h"

/* Opcodes (RFC 6455 5.2). */
enum wss_frame_op {
    WSS_OP_CONT = 0x0,
    WSS_OP_TEXT = 0x1,
    WSS_OP_BINARY = 0x2,
    WSS_OP_CLOSE = 0x8,
    WSS_OP_PING = 0x9,
    WSS_OP_PONG = 0xa
};

/* Longest frame header: 2 bytes, a 64-bit length, a masking key. */
#define WSS_FRAME_HEAD_MAX 14
/* Longest control frame payload. */
#define WSS_FRAME_CONTROL_MAX 125

/* Returned by wss_frame_decode when no whole message is in the input. */
#define WSS_FRAME_MORE 1

/* ---- Encoder ------------------------------------------------------------ */

/* Header bytes of a client frame with len payload bytes: 6, 8 or 14. */
size_t wss_frame_head_len(size_t len);

/* Write one whole client frame into out: FIN set, opcode op (TEXT, BINARY,
 * CLOSE, PING or PONG), the payload masked with key (RFC 6455 5.3: the
 * caller draws a fresh unpredictable key for every frame).  out needs
 * wss_frame_head_len(len) + len bytes and may not overlap payload.
 * Returns the frame's length, or PT_EINVAL for another opcode, len over
 * PT_MAX_FRAME, a control payload over 125 bytes, or payload NULL with
 * len > 0. */
int wss_frame_encode(unsigned char *out, int op, const void *payload, size_t len,
                     const unsigned char key[4]);

/* dst = src XOR the key repeated from its first byte (src may be dst). */
void wss_frame_mask(unsigned char *dst, const unsigned char *src, size_t len,
                    const unsigned char key[4]);

/* ---- Decoder ------------------------------------------------------------ */

typedef struct wss_frame_dec {
    unsigned char *asm_buf; /* lent by the caller: fragments are joined here */
    size_t asm_cap;         /* >= PT_MAX_FRAME */
    size_t asm_len;         /* bytes of the fragmented message so far */
    int asm_op;             /* its opcode (TEXT, BINARY); 0: none under way */
    int delivered;          /* asm_buf was handed out: start afresh next time */
    int failed;             /* an error was returned: every later call fails */
} wss_frame_dec;

/* One message or control frame.  data points into the caller's input or
 * into the assembly buffer, and stays valid until the next decode call or
 * until the caller moves or overwrites those input bytes. */
typedef struct wss_frame_msg {
    int op;                   /* TEXT, BINARY, CLOSE, PING or PONG */
    const unsigned char *data;
    size_t len;
    int close_code;           /* CLOSE: the code, 1005 when the payload is empty */
} wss_frame_msg;

/* Start a decoder at the beginning of a stream, with an assembly buffer of
 * cap bytes (at least PT_MAX_FRAME). */
void wss_frame_dec_init(wss_frame_dec *d, unsigned char *asm_buf, size_t cap);

/* Decode from in[0..len), the stream bytes not yet consumed.  Sets *used
 * to the bytes consumed, which the caller drops; it keeps the rest.
 * Returns
 *   PT_OK           *m is the next message or control frame (a control
 *                   frame may arrive between the fragments of a message);
 *   WSS_FRAME_MORE  no whole message yet: offer the rest again with more
 *                   bytes behind it (complete fragments were consumed);
 *   PT_ETOOLARGE    "beacon sent a message over 65536 bytes", as soon as a
 *                   frame header says so, before its payload is there;
 *   PT_EPROTO       the beacon broke RFC 6455: a masked frame, RSV bits
 *                   set (no extension is ever negotiated), an unknown
 *                   opcode, a control frame over 125 bytes or fragmented,
 *                   a continuation with no message started, a data frame
 *                   inside a fragmented message, a 64-bit length with the
 *                   top bit set, a length not in its shortest form (a MUST
 *                   of RFC 6455 5.2, so a sender that breaks it is broken
 *                   or probing), a close payload of 1 byte or a close code
 *                   that may not be sent (valid: 1000-1003, 1007-1014,
 *                   3000-4999, per RFC 6455 7.4 and the IANA registry).
 * err (errlen bytes, may be NULL) says which, naming values, never quoting
 * payload.  After an error the stream is out of step: every later call
 * returns PT_EPROTO "decoder already failed" (or the same PT_ETOOLARGE). */
int wss_frame_decode(wss_frame_dec *d, const unsigned char *in, size_t len, size_t *used,
                     wss_frame_msg *m, char *err, size_t errlen);

/* Would wss_frame_decode on in[0..len) return a message or an error
 * without more bytes?  Changes nothing. */
int wss_frame_ready(const wss_frame_dec *d, const unsigned char *in, size_t len);

#endif
