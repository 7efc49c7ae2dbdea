/*
 * link.c -- one WebSocket connection to the beacon, once dialled: the
 * libcurl handle that dial.c connected and the byte stream over it
 * (stream.c), a receive buffer that the stream fills and frame.c's
 * decoder reads, the send queue of frames built by frame.c's encoder and
 * written to the stream.
 */
#include "config.h"

#include "link.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define GAP_CLOSE(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define GAP_OPEN(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#define BUF_FRESH(p, n) ((void)(p), (void)(n))
#elif defined(HAVE_VALGRIND_MEMCHECK_H)
#include <valgrind/memcheck.h>
#define GAP_CLOSE(p, n) VALGRIND_MAKE_MEM_NOACCESS(p, n)
#define GAP_OPEN(p, n) VALGRIND_MAKE_MEM_UNDEFINED(p, n)
#define BUF_FRESH(p, n) VALGRIND_MAKE_MEM_UNDEFINED(p, n)
#else
#define GAP_CLOSE(p, n) ((void)(p), (void)(n))
#define GAP_OPEN(p, n) ((void)(p), (void)(n))
#define BUF_FRESH(p, n) ((void)(p), (void)(n))
#endif

#include "auth.h"
#include "dial.h"
#include "frame.h"
#include "quote.h"
#include "stream.h"
#include "util.h"

/* Reads ask for this much room at least: a whole TLS record (16 KiB of
 * plaintext) then always fits, so GnuTLS never keeps decrypted bytes back
 * where a poll cannot see them. */
#define RX_READ_MIN 16384
/* The receive buffer: one whole frame of the largest message (what the
 * decoder needs to hand it out in place) plus read-ahead. */
#define RX_CAP (WSS_FRAME_HEAD_MAX + PT_MAX_FRAME + 2 * RX_READ_MIN)
/* The send queue: one largest data message with its 14-byte header, plus
 * room that only control frames may use, so a pong always fits. */
#define TX_CTL_ROOM 512
#define TX_CAP (PT_MAX_FRAME + WSS_FRAME_HEAD_MAX + TX_CTL_ROOM)
/* Masking keys are drawn from getrandom() this many bytes at a time. */
#define MASK_POOL 1024

/* The buffers' memory -- rx (RX_CAP), tx (TX_CAP), the decoder's
 * assembly area (PT_MAX_FRAME) and the stream's read-ahead
 * (WSS_STREAM_RA_CAP), each followed by at least one page of
 * gap -- is one private anonymous mapping per link, not heap:
 *   - the kernel backs a page only once it is written, so an idle link
 *     costs the few pages its dial and its small frames touched, and the
 *     assembly area costs nothing until a fragmented message arrives
 *     (without an allocation, or a failure, in the middle of the stream);
 *   - munmap at free hands exactly those pages back to the system, where
 *     228 KB of heap blocks per link stayed in glibc's heap between
 *     longer-lived blocks (100 links freed left 13.7 MB), and the host's
 *     heap is not fragmented by them.
 * The gaps are never touched (no memory); under ASan or valgrind they are
 * poisoned, so a buffer overrun is reported as it was on the heap, and
 * valgrind takes the buffers' zero pages as uninitialised, as malloc's. */
struct link_map {
    unsigned char *base;
    size_t len;
};

struct wss_link {
    wss_dial d;         /* the libcurl handle and socket */
    wss_stream st;      /* the bytes over d: libcurl, then GnuTLS direct (stream.h) */
    struct link_map map; /* rx, tx, asm_buf and ra (above) */
    unsigned char *rx;  /* stream bytes read; [rx_off, rx_len) not yet decoded */
    size_t rx_off, rx_len;
    wss_frame_dec dec;  /* with its assembly buffer for fragmented messages */
    unsigned char *asm_buf;
    unsigned char *ra;  /* the stream's read-ahead (stream.h), once direct */
    int broken;         /* a read failed: the stream is out of step, read no more */
    unsigned char *tx;  /* whole frames, masked, not yet written: [tx_off, tx_len) */
    size_t tx_off, tx_len;
    size_t tx_used;     /* bytes of tx written to since the last wipe */
    uint64_t tx_written; /* bytes written since the dial */
    unsigned char masks[MASK_POOL]; /* unused keys are [mask_off, MASK_POOL) */
    size_t mask_off;
};

int wss_link_socket(const wss_link *l)
{
    return (int)l->d.sock;
}

/* A buffer of n bytes at *off in the mapping, then its gap (to the next
 * page boundary and one page more); *off moves past both. */
static unsigned char *map_carve(struct link_map *m, size_t *off, size_t n, size_t page)
{
    unsigned char *p = m->base + *off;
    size_t end = (*off + n + page - 1) / page * page + page;
    BUF_FRESH(p, n);
    GAP_CLOSE(p + n, end - *off - n);
    *off = end;
    return p;
}

/* Map rx, tx, asm_buf and ra.  0, or -1 when the mapping cannot be had. */
static int map_buffers(wss_link *l)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), off = 0;
    size_t len = (RX_CAP / page + 2) * page + (TX_CAP / page + 2) * page +
                 (PT_MAX_FRAME / page + 2) * page + (WSS_STREAM_RA_CAP / page + 2) * page;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    l->map.base = p;
    l->map.len = len;
    l->rx = map_carve(&l->map, &off, RX_CAP, page);
    l->tx = map_carve(&l->map, &off, TX_CAP, page);
    l->asm_buf = map_carve(&l->map, &off, PT_MAX_FRAME, page);
    l->ra = map_carve(&l->map, &off, WSS_STREAM_RA_CAP, page);
    return 0;
}

void wss_link_free(wss_link *l)
{
    if (!l)
        return;
    wss_dial_close(&l->d);
    if (l->map.base) { /* after: libcurl may write a TLS close through the stream */
        GAP_OPEN(l->map.base, l->map.len); /* the next mapping here starts clean */
        munmap(l->map.base, l->map.len);
    }
    free(l);
}

/* ---- Reading ------------------------------------------------------------- */

/* A decoded frame as the plugin sees it. */
static void to_msg(const wss_frame_msg *f, wss_msg *m)
{
    m->kind = f->op == WSS_OP_BINARY ? WSS_MSG_BINARY
              : f->op == WSS_OP_TEXT ? WSS_MSG_TEXT
              : f->op == WSS_OP_PING ? WSS_MSG_PING
              : f->op == WSS_OP_PONG ? WSS_MSG_PONG
                                     : WSS_MSG_CLOSE;
    m->data = f->data;
    m->len = f->len;
    m->close_code = f->close_code;
    m->close_reason[0] = '\0';
    if (m->kind == WSS_MSG_CLOSE && m->len > 2)
        ptu_printable(m->close_reason, sizeof m->close_reason, m->data + 2, m->len - 2);
}

/* Decode what is buffered; read from the socket only when that holds no
 * whole message, so message boundaries are always the decoder's. */
static int read_message(wss_link *l, wss_msg *m, char *err, size_t errlen)
{
    for (;;) {
        wss_frame_msg f;
        size_t used = 0, n = 0;
        int rc = wss_frame_decode(&l->dec, l->rx + l->rx_off, l->rx_len - l->rx_off, &used, &f,
                                  err, errlen);
        l->rx_off += used;
        if (rc == PT_OK) {
            to_msg(&f, m);
            return PT_OK;
        }
        if (rc < 0)
            return rc;
        /* What is left is part of one frame (at most a whole one): move it
         * to the front when the room behind it gets short. */
        if (l->rx_off == l->rx_len) {
            l->rx_off = l->rx_len = 0;
        } else if (RX_CAP - l->rx_len < RX_READ_MIN) {
            memmove(l->rx, l->rx + l->rx_off, l->rx_len - l->rx_off);
            l->rx_len -= l->rx_off;
            l->rx_off = 0;
        }
        rc = wss_stream_recv(&l->st, l->rx + l->rx_len, RX_CAP - l->rx_len, &n, err, errlen);
        if (rc != PT_OK)
            return rc;
        l->rx_len += n;
    }
}

int wss_link_read(wss_link *l, wss_msg *m, char *err, size_t errlen)
{
    int rc;
    if (l->broken)
        return ptu_err(err, errlen, PT_EIO, "link already failed");
    rc = read_message(l, m, err, errlen);
    if (rc < 0)
        l->broken = 1; /* e.g. the rest of an oversize message must never surface */
    return rc;
}

int wss_link_has_buffered(const wss_link *l)
{
    return l->broken || wss_frame_ready(&l->dec, l->rx + l->rx_off, l->rx_len - l->rx_off) ||
           wss_stream_has_buffered(&l->st);
}

/* ---- Sending --------------------------------------------------------------
 *
 * Messages are framed and masked (frame.c) into one send queue, and whole
 * runs of frames go to curl_easy_send: several messages ready at once
 * leave in one TLS write.
 */

/* A fresh masking key (RFC 6455 5.3: unpredictable, from a strong source). */
static int next_mask(wss_link *l, unsigned char key[4])
{
    if (l->mask_off + 4 > MASK_POOL) {
        if (getrandom(l->masks, MASK_POOL, 0) != MASK_POOL)
            return -1;
        l->mask_off = 0;
    }
    memcpy(key, l->masks + l->mask_off, 4);
    l->mask_off += 4;
    return 0;
}

size_t wss_link_queued(const wss_link *l)
{
    return l->tx_len - l->tx_off;
}

uint64_t wss_link_written(const wss_link *l)
{
    return l->tx_written;
}

int wss_link_queue(wss_link *l, int kind, const void *buf, size_t len)
{
    static const unsigned char opcode[] = { [WSS_MSG_BINARY] = WSS_OP_BINARY,
                                            [WSS_MSG_TEXT] = WSS_OP_TEXT,
                                            [WSS_MSG_PING] = WSS_OP_PING,
                                            [WSS_MSG_PONG] = WSS_OP_PONG,
                                            [WSS_MSG_CLOSE] = WSS_OP_CLOSE };
    int control = kind == WSS_MSG_PING || kind == WSS_MSG_PONG || kind == WSS_MSG_CLOSE;
    size_t head = wss_frame_head_len(len);
    size_t limit = control ? TX_CAP : TX_CAP - TX_CTL_ROOM;
    unsigned char key[4];
    int n;

    if (kind < WSS_MSG_BINARY || kind > WSS_MSG_CLOSE || len > PT_MAX_FRAME ||
        (control && len > WSS_FRAME_CONTROL_MAX))
        return PT_EINVAL;
    if (l->tx_len + head + len > limit) {
        if (l->tx_off == 0 || l->tx_len - l->tx_off + head + len > limit)
            return WSS_AGAIN; /* flush first */
        memmove(l->tx, l->tx + l->tx_off, l->tx_len - l->tx_off);
        l->tx_len -= l->tx_off;
        l->tx_off = 0;
    }
    if (next_mask(l, key) != 0)
        return PT_EIO;
    n = wss_frame_encode(l->tx + l->tx_len, opcode[kind], buf, len, key);
    if (n < 0)
        return n;
    l->tx_len += (size_t)n;
    if (l->tx_len > l->tx_used)
        l->tx_used = l->tx_len;
    return PT_OK;
}

void wss_link_wipe_sent(wss_link *l)
{
    ptu_wipe(l->tx, l->tx_used);
    l->tx_used = l->tx_len;
}

int wss_link_flush(wss_link *l, char *err, size_t errlen)
{
    while (l->tx_off < l->tx_len) {
        size_t sent = 0;
        int rc = wss_stream_send(&l->st, l->tx + l->tx_off, l->tx_len - l->tx_off, &sent, err,
                                 errlen);
        if (rc != PT_OK)
            return rc;
        l->tx_off += sent;
        l->tx_written += sent;
    }
    l->tx_off = l->tx_len = 0;
    return PT_OK;
}

/* ---- Dial ---------------------------------------------------------------- */

int wss_link_dial(wss_dialer *dl, const pt_signer *signer, int cancel_fd, int64_t deadline_ms,
                  wss_link **out, char *err, size_t errlen)
{
    const wss_config *cfg = dl->cfg;
    wss_link *l;
    int rc;

    *out = NULL;
    l = calloc(1, sizeof *l);
    if (!l)
        return ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");
    l->d.sock = CURL_SOCKET_BAD;
    wss_stream_init(&l->st, &l->d);
    l->mask_off = MASK_POOL; /* drawn at the first frame */
    if (map_buffers(l) != 0) {
        rc = ptu_err(err, errlen, PT_ENOMEM, "wss dial: out of memory");
        goto fail;
    }
    wss_frame_dec_init(&l->dec, l->asm_buf, PT_MAX_FRAME);
    rc = wss_dial_connect(&l->d, dl, cancel_fd, deadline_ms, err, errlen);
    if (rc != PT_OK)
        goto fail;
    /* The bytes after the 101 are the first of the frame stream. */
    rc = wss_dial_upgrade(&l->d, cfg, cancel_fd, deadline_ms, l->rx, RX_CAP, &l->rx_len, err,
                          errlen);
    if (rc != PT_OK)
        goto fail;
    rc = wss_auth_exchange(l, signer, cancel_fd, deadline_ms, err, errlen);
    if (rc != PT_OK)
        goto fail;
    /* Up: the frames go by GnuTLS itself where they can (stream.h). */
    wss_stream_direct(&l->st, cfg->tls, l->ra);
    ptu_diag_log(dl->diag, PT_LOG_DEBUG, "wss: frames go %s",
                 l->st.mode == WSS_STREAM_TLS     ? "by GnuTLS directly, read ahead"
                 : l->st.mode == WSS_STREAM_PLAIN ? "on the socket directly (ws://)"
                 : l->d.tls_in_tls                ? "by libcurl (TLS inside the proxy's TLS)"
                                                  : "by libcurl (its TLS library is not GnuTLS)");
    *out = l;
    return PT_OK;

fail:
    ptu_wipe(l->d.curl_err, sizeof l->d.curl_err);
    wss_link_free(l);
    return rc;
}
