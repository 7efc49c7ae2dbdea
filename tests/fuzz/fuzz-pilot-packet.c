/*
 * fuzz-pilot-packet.c -- PILT tunnel frames and beacon messages
 * (ptu_pkt_parse_pilt, ptu_pkt_parse_beacon) and their builders.
 *
 * Every input is tried three ways:
 *   1. as a PILT frame: if accepted, building a frame from the parsed
 *      header and payload gives back the input byte for byte (so the CRC
 *      was verified and every field decoded), and the payload lies inside
 *      the input; if refused, *h and *payload are untouched;
 *   2. as a beacon message: if accepted, the builder for its type gives
 *      back the input byte for byte; a Relay's or RelayDeliver's frame lies
 *      inside the input and is then tried as a PILT frame too;
 *   3. as a header (its first 30 bytes give the fields) and a payload (the
 *      rest): the frame built from them fits exactly 38 + len bytes and
 *      parses back to the same fields and payload; one byte less of room
 *      is refused.
 * And the CRC of the input is the same computed in one piece or two.
 */
#include "config.h"

#include "fuzz.h"
#include "pilot_packet.h"

const char fuzz_target_name[] = "pilot-packet";

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int same_header(const ptu_pkt_header *a, const ptu_pkt_header *b)
{
    return a->version == b->version && a->flags == b->flags && a->protocol == b->protocol &&
           a->src_net == b->src_net && a->src_node == b->src_node && a->dst_net == b->dst_net &&
           a->dst_node == b->dst_node && a->src_port == b->src_port &&
           a->dst_port == b->dst_port && a->seq == b->seq && a->ack == b->ack &&
           a->window == b->window;
}

/* 1. frame[0..len) as a PILT frame. */
static void try_pilt(const unsigned char *frame, size_t len)
{
    ptu_pkt_header h, before;
    const unsigned char *payload = (const unsigned char *)&h, *payload_before = payload;
    unsigned char *again;
    char err[160];
    int n;

    memset(&h, 0xA5, sizeof h);
    before = h;
    if (ptu_pkt_parse_pilt(frame, len, &h, &payload, err, sizeof err) != 0) {
        FUZZ_CHECK(memcmp(&h, &before, sizeof h) == 0 && payload == payload_before);
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    FUZZ_CHECK(len >= PTU_PKT_PILT_OVERHEAD);
    FUZZ_CHECK(h.payload_len == len - PTU_PKT_PILT_OVERHEAD);
    FUZZ_CHECK(payload == frame + PTU_PKT_PILT_OVERHEAD);
    FUZZ_CHECK(h.version <= 15 && h.flags <= 15);
    again = malloc(len);
    FUZZ_CHECK(again);
    n = ptu_pkt_build_pilt(&h, payload, h.payload_len, again, len);
    FUZZ_CHECK(n >= 0 && (size_t)n == len);
    FUZZ_CHECK(memcmp(again, frame, len) == 0);
    FUZZ_CHECK(h.checksum == rd32(again + PTU_PKT_MAGIC_LEN + 30));
    free(again);
}

/* 2. msg[0..len) as a beacon message. */
static void try_beacon(const unsigned char *msg, size_t len)
{
    ptu_beacon_msg m;
    unsigned char *again = malloc(len + 1);
    char err[200];
    int n = -1;

    FUZZ_CHECK(again);
    if (ptu_pkt_parse_beacon(msg, len, &m, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0');
        free(again);
        return;
    }
    FUZZ_CHECK(len > 0 && m.type == msg[0]);
    switch (m.type) {
    case PTU_BEACON_DISCOVER:
        FUZZ_CHECK(len == PTU_BEACON_DISCOVER_LEN);
        ptu_pkt_discover(m.from, again);
        n = PTU_BEACON_DISCOVER_LEN;
        break;
    case PTU_BEACON_DISCOVER_REPLY:
        FUZZ_CHECK(m.addr.family == PT_AF_INET || m.addr.family == PT_AF_INET6);
        n = ptu_pkt_discover_reply(&m.addr, again, len);
        /* One byte less of room is refused. */
        FUZZ_CHECK(ptu_pkt_discover_reply(&m.addr, again, len - 1) == -1);
        break;
    case PTU_BEACON_RELAY:
        FUZZ_CHECK(m.frame == msg + PTU_BEACON_RELAY_OVERHEAD);
        FUZZ_CHECK(m.frame_len == len - PTU_BEACON_RELAY_OVERHEAD);
        n = ptu_pkt_relay(m.from, m.to, m.frame, m.frame_len, again, len);
        FUZZ_CHECK(ptu_pkt_relay(m.from, m.to, m.frame, m.frame_len, again, len - 1) == -1);
        try_pilt(m.frame, m.frame_len);
        break;
    case PTU_BEACON_RELAY_DELIVER:
        FUZZ_CHECK(m.frame == msg + PTU_BEACON_DELIVER_OVERHEAD);
        FUZZ_CHECK(m.frame_len == len - PTU_BEACON_DELIVER_OVERHEAD);
        n = ptu_pkt_relay_deliver(m.from, m.frame, m.frame_len, again, len);
        FUZZ_CHECK(ptu_pkt_relay_deliver(m.from, m.frame, m.frame_len, again, len - 1) == -1);
        try_pilt(m.frame, m.frame_len);
        break;
    default:
        FUZZ_CHECK(!"accepted an unknown type");
    }
    FUZZ_CHECK(n >= 0 && (size_t)n == len);
    FUZZ_CHECK(memcmp(again, msg, len) == 0);
    free(again);
}

/* 3. data as header fields and a payload: build, then parse. */
static void try_build(const uint8_t *data, size_t size)
{
    ptu_pkt_header h, back;
    const unsigned char *payload = NULL;
    size_t len, cap;
    unsigned char *frame;
    char err[160];
    int n;

    if (size < 30)
        return;
    memset(&h, 0, sizeof h);
    h.version = data[0] >> 4;
    h.flags = data[0] & 0x0f;
    h.protocol = data[1];
    h.payload_len = rd16(data + 2); /* ignored by the builder */
    h.src_net = rd16(data + 4);
    h.src_node = rd32(data + 6);
    h.dst_net = rd16(data + 10);
    h.dst_node = rd32(data + 12);
    h.src_port = rd16(data + 16);
    h.dst_port = rd16(data + 18);
    h.seq = rd32(data + 20);
    h.ack = rd32(data + 24);
    h.window = rd16(data + 28);
    h.checksum = 0xdeadbeef; /* ignored by the builder */
    len = size - 30;
    if (len > PTU_PKT_MAX_PAYLOAD) {
        unsigned char small[PTU_PKT_PILT_OVERHEAD];
        FUZZ_CHECK(ptu_pkt_build_pilt(&h, data + 30, len, small, sizeof small) == -1);
        return;
    }
    cap = PTU_PKT_PILT_OVERHEAD + len;
    frame = malloc(cap);
    FUZZ_CHECK(frame);
    FUZZ_CHECK(ptu_pkt_build_pilt(&h, data + 30, len, frame, cap - 1) == -1);
    n = ptu_pkt_build_pilt(&h, len ? data + 30 : NULL, len, frame, cap);
    FUZZ_CHECK(n >= 0 && (size_t)n == cap);
    FUZZ_CHECK(ptu_pkt_parse_pilt(frame, cap, &back, &payload, err, sizeof err) == 0);
    FUZZ_CHECK(same_header(&h, &back));
    FUZZ_CHECK(back.payload_len == len && payload == frame + PTU_PKT_PILT_OVERHEAD);
    FUZZ_CHECK(len == 0 || memcmp(payload, data + 30, len) == 0);
    /* Any one flipped bit is caught (the magic, the length or the CRC). */
    frame[(size_t)data[2] * 256 % cap] ^= (unsigned char)(1u << (data[3] & 7));
    FUZZ_CHECK(ptu_pkt_parse_pilt(frame, cap, &back, &payload, err, sizeof err) == -1);
    free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *buf = (unsigned char *)fuzz_dup(data, size);
    size_t half = size / 2;

    try_beacon(buf, size);
    if (size == 0) { /* buf may be NULL: no pointer arithmetic on it */
        free(buf);
        return 0;
    }
    try_pilt(buf, size);
    try_build(buf, size);
    FUZZ_CHECK(ptu_pkt_crc32(buf, size) ==
               ptu_pkt_crc32_update(ptu_pkt_crc32_update(0, buf, half), buf + half, size - half));
    free(buf);
    return 0;
}
