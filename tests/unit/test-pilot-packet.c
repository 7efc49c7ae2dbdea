/* test-pilot-packet.c -- CRC-32, Pilot headers in PILT frames, beacon messages. */
#include "config.h"

#include "pilot_packet.h"
#include "tap.h"

#include <stdint.h>

/* A bit-at-a-time CRC-32, to check the table-driven one against. */
static uint32_t slow_crc32(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return ~c;
}

static ptu_pkt_header sample_header(void)
{
    ptu_pkt_header h;
    memset(&h, 0, sizeof h);
    h.version = PTU_PKT_VERSION;
    h.flags = PTU_PKT_FLAG_ACK;
    h.protocol = PTU_PKT_PROTO_DATAGRAM;
    h.src_net = 0x0102;
    h.src_node = 0x03040506;
    h.dst_net = 0x0708;
    h.dst_node = 0x090a0b0c;
    h.src_port = 1000;
    h.dst_port = 1001;
    h.seq = 0xdeadbeef;
    h.ack = 0x01020304;
    h.window = 512;
    return h;
}

/* A small valid frame ("hello" payload) in buf; returns its length. */
static size_t small_frame(unsigned char *buf, size_t cap)
{
    ptu_pkt_header h = sample_header();
    int n = ptu_pkt_build_pilt(&h, "hello", 5, buf, cap);
    return n < 0 ? 0 : (size_t)n;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

TEST(crc32_matches_the_standard_check_value)
{
    unsigned char data[1000];
    CHECK_EQ_INT(ptu_pkt_crc32("123456789", 9), 0xCBF43926u);
    CHECK_EQ_INT(ptu_pkt_crc32("", 0), 0);
    CHECK_EQ_INT(ptu_pkt_crc32("a", 1), 0xE8B7BE43u);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7919 + (i >> 3));
    CHECK_EQ_INT(ptu_pkt_crc32(data, sizeof data), slow_crc32(data, sizeof data));
    /* Every table entry: each single byte value. */
    for (unsigned b = 0; b < 256; b++) {
        unsigned char c = (unsigned char)b;
        CHECK_EQ_INT(ptu_pkt_crc32(&c, 1), slow_crc32(&c, 1));
    }
}

TEST(crc32_can_be_computed_in_pieces)
{
    const char *s = "123456789";
    for (size_t cut = 0; cut <= 9; cut++) {
        uint32_t c = ptu_pkt_crc32_update(0, s, cut);
        CHECK_EQ_INT(ptu_pkt_crc32_update(c, s + cut, 9 - cut), 0xCBF43926u);
    }
}

TEST(build_then_parse_round_trips_every_field)
{
    unsigned char buf[128], payload[40];
    const unsigned char *pl = NULL;
    ptu_pkt_header h = sample_header(), back;
    char err[256] = "";
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (unsigned char)(i * 3 + 1);
    int n = ptu_pkt_build_pilt(&h, payload, sizeof payload, buf, sizeof buf);
    CHECK_EQ_INT(n, PTU_PKT_PILT_OVERHEAD + sizeof payload);
    memset(&back, 0xaa, sizeof back);
    CHECK_EQ_INT(ptu_pkt_parse_pilt(buf, (size_t)n, &back, &pl, err, sizeof err), 0);
    CHECK_STR_EQ(err, "");
    CHECK_EQ_INT(back.version, h.version);
    CHECK_EQ_INT(back.flags, h.flags);
    CHECK_EQ_INT(back.protocol, h.protocol);
    CHECK_EQ_INT(back.payload_len, sizeof payload);
    CHECK_EQ_INT(back.src_net, h.src_net);
    CHECK_EQ_INT(back.src_node, h.src_node);
    CHECK_EQ_INT(back.dst_net, h.dst_net);
    CHECK_EQ_INT(back.dst_node, h.dst_node);
    CHECK_EQ_INT(back.src_port, h.src_port);
    CHECK_EQ_INT(back.dst_port, h.dst_port);
    CHECK_EQ_INT(back.seq, h.seq);
    CHECK_EQ_INT(back.ack, h.ack);
    CHECK_EQ_INT(back.window, h.window);
    CHECK_EQ_INT(back.checksum, be32(buf + 4 + 30));
    CHECK(pl == buf + PTU_PKT_PILT_OVERHEAD);
    CHECK(memcmp(pl, payload, sizeof payload) == 0);

    /* Extremes: all-ones fields, an empty payload. */
    memset(&h, 0xff, sizeof h);
    h.version = 15;
    h.flags = 15;
    n = ptu_pkt_build_pilt(&h, NULL, 0, buf, PTU_PKT_PILT_OVERHEAD);
    CHECK_EQ_INT(n, PTU_PKT_PILT_OVERHEAD);
    CHECK_EQ_INT(ptu_pkt_parse_pilt(buf, (size_t)n, &back, &pl, err, sizeof err), 0);
    CHECK_EQ_INT(back.version, 15);
    CHECK_EQ_INT(back.flags, 15);
    CHECK_EQ_INT(back.src_node, UINT32_MAX);
    CHECK_EQ_INT(back.ack, UINT32_MAX);
    CHECK_EQ_INT(back.payload_len, 0);
}

TEST(header_bytes_are_laid_out_as_the_spec_says)
{
    unsigned char buf[64], copy[64];
    size_t n = small_frame(buf, sizeof buf);
    static const unsigned char want[30] = {
        0x12, 0x02, 0x00, 0x05,                   /* ver 1 | ACK, datagram, len 5 */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06,       /* source net, node */
        0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,       /* destination net, node */
        0x03, 0xe8, 0x03, 0xe9,                   /* ports 1000, 1001 */
        0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, /* seq, ack */
        0x02, 0x00,                               /* window 512 */
    };
    CHECK_EQ_INT(n, 38 + 5);
    CHECK(memcmp(buf, "PILT", 4) == 0);
    CHECK(memcmp(buf + 4, want, sizeof want) == 0);
    CHECK(memcmp(buf + 38, "hello", 5) == 0);
    /* The CRC covers header (checksum zeroed) and payload, not the magic. */
    memcpy(copy, buf, n);
    memset(copy + 4 + 30, 0, 4);
    CHECK_EQ_INT(be32(buf + 34), slow_crc32(copy + 4, n - 4));
}

TEST(build_refuses_what_does_not_fit)
{
    static unsigned char big[PTU_PKT_PILT_OVERHEAD + PTU_PKT_MAX_PAYLOAD + 1];
    unsigned char buf[64];
    ptu_pkt_header h = sample_header(), back;
    const unsigned char *pl;
    char err[256];
    CHECK_EQ_INT(ptu_pkt_build_pilt(&h, "hello", 5, buf, 42), -1);
    CHECK_EQ_INT(ptu_pkt_build_pilt(&h, "hello", 5, buf, 43), 43);
    CHECK_EQ_INT(ptu_pkt_build_pilt(&h, big, PTU_PKT_MAX_PAYLOAD + 1, big, sizeof big), -1);
    memset(big + PTU_PKT_PILT_OVERHEAD, 0x5a, PTU_PKT_MAX_PAYLOAD);
    CHECK_EQ_INT(ptu_pkt_build_pilt(&h, big + PTU_PKT_PILT_OVERHEAD, PTU_PKT_MAX_PAYLOAD, big,
                                    sizeof big),
                 PTU_PKT_PILT_OVERHEAD + PTU_PKT_MAX_PAYLOAD);
    CHECK_EQ_INT(ptu_pkt_parse_pilt(big, PTU_PKT_PILT_OVERHEAD + PTU_PKT_MAX_PAYLOAD, &back, &pl,
                                    err, sizeof err),
                 0);
    CHECK_EQ_INT(back.payload_len, PTU_PKT_MAX_PAYLOAD);
    h.version = 16;
    CHECK_EQ_INT(ptu_pkt_build_pilt(&h, "hello", 5, buf, sizeof buf), -1);
    h = sample_header();
    h.flags = 16;
    CHECK_EQ_INT(ptu_pkt_build_pilt(&h, "hello", 5, buf, sizeof buf), -1);
    h = sample_header();
    CHECK_EQ_INT(ptu_pkt_build_pilt(&h, NULL, 5, buf, sizeof buf), -1);
}

TEST(every_single_byte_corruption_is_detected)
{
    unsigned char good[64], bad[64];
    static const unsigned char masks[] = { 0x01, 0x10, 0x80, 0xff };
    ptu_pkt_header back;
    const unsigned char *pl;
    char err[256];
    size_t n = small_frame(good, sizeof good);
    CHECK_EQ_INT(n, 43);
    for (size_t pos = 0; pos < n; pos++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(bad, good, n);
            bad[pos] ^= masks[m];
            err[0] = '\0';
            int rc = ptu_pkt_parse_pilt(bad, n, &back, &pl, err, sizeof err);
            if (rc != -1)
                printf("# corruption at byte %zu (xor 0x%02x) not detected\n", pos, masks[m]);
            CHECK_EQ_INT(rc, -1);
            if (pos < 4)
                CHECK_STR_CONTAINS(err, "tunnel frame: magic is");
            else if (pos == 6 || pos == 7)
                CHECK_STR_CONTAINS(err, "pilot packet: length field says");
            else
                CHECK_STR_CONTAINS(err, "pilot packet: CRC mismatch");
        }
    }
}

TEST(wrong_magic_is_named)
{
    unsigned char f[64];
    ptu_pkt_header back;
    const unsigned char *pl;
    char err[256];
    size_t n = small_frame(f, sizeof f);
    memcpy(f, "PILS", 4);
    CHECK_EQ_INT(ptu_pkt_parse_pilt(f, n, &back, &pl, err, sizeof err), -1);
    CHECK_STR_EQ(err,
                 "tunnel frame: magic is PILS, not PILT (encrypted frames are not handled here)");
    memcpy(f, "PILK", 4);
    ptu_pkt_parse_pilt(f, n, &back, &pl, err, sizeof err);
    CHECK_STR_CONTAINS(err, "magic is PILK, not PILT (key-exchange frames");
    memcpy(f, "PILA", 4);
    ptu_pkt_parse_pilt(f, n, &back, &pl, err, sizeof err);
    CHECK_STR_CONTAINS(err, "magic is PILA, not PILT (authenticated key-exchange");
    memcpy(f, "PILP", 4);
    ptu_pkt_parse_pilt(f, n, &back, &pl, err, sizeof err);
    CHECK_STR_CONTAINS(err, "magic is PILP, not PILT (punch frames");
    memcpy(f, "pilt", 4);
    CHECK_EQ_INT(ptu_pkt_parse_pilt(f, n, &back, &pl, err, sizeof err), -1);
    CHECK_STR_EQ(err, "tunnel frame: magic is pilt, not PILT (not a Pilot tunnel frame)");
    memcpy(f, "\x00\x01\xfe\x20", 4);
    CHECK_EQ_INT(ptu_pkt_parse_pilt(f, n, &back, &pl, err, sizeof err), -1);
    CHECK_STR_EQ(err, "tunnel frame: magic is 0x0001fe20, not PILT (not a Pilot tunnel frame)");
    /* A beacon message handed over by mistake. */
    memcpy(f, "\x06\x00\x00\x00", 4);
    CHECK_EQ_INT(ptu_pkt_parse_pilt(f, n, &back, &pl, err, sizeof err), -1);
    CHECK_STR_CONTAINS(err, "magic is 0x06000000");
}

TEST(truncated_at_every_length_is_refused)
{
    unsigned char f[64];
    ptu_pkt_header back;
    const unsigned char *pl = NULL;
    char err[256], want[256];
    size_t n = small_frame(f, sizeof f);
    for (size_t len = 0; len < n; len++) {
        CHECK_EQ_INT(ptu_pkt_parse_pilt(f, len, &back, &pl, err, sizeof err), -1);
        if (len < 4)
            snprintf(want, sizeof want, "tunnel frame: %zu bytes, too short for the 4-byte magic",
                     len);
        else if (len < 38)
            snprintf(want, sizeof want,
                     "pilot packet: %zu bytes, too short for the 34-byte header", len - 4);
        else
            snprintf(want, sizeof want, "pilot packet: length field says 5, frame has %zu",
                     len - 38);
        CHECK_STR_EQ(err, want);
    }
    CHECK(pl == NULL); /* untouched on failure */
    CHECK_EQ_INT(ptu_pkt_parse_pilt(f, n, &back, &pl, err, sizeof err), 0);
}

TEST(length_field_mismatch_is_reported)
{
    unsigned char f[256], payload[90];
    ptu_pkt_header h = sample_header(), back;
    const unsigned char *pl;
    char err[256];
    memset(payload, 0x33, sizeof payload);
    int n = ptu_pkt_build_pilt(&h, payload, sizeof payload, f, sizeof f);
    CHECK_EQ_INT(n, 128);
    f[4 + 2] = 0;
    f[4 + 3] = 100;
    CHECK_EQ_INT(ptu_pkt_parse_pilt(f, (size_t)n, &back, &pl, err, sizeof err), -1);
    CHECK_STR_EQ(err, "pilot packet: length field says 100, frame has 90");
    /* Bytes after the payload are a mismatch too, not silently ignored. */
    f[4 + 3] = 90;
    f[n] = 0;
    CHECK_EQ_INT(ptu_pkt_parse_pilt(f, (size_t)n + 1, &back, &pl, err, sizeof err), -1);
    CHECK_STR_EQ(err, "pilot packet: length field says 90, frame has 91");
    CHECK_EQ_INT(ptu_pkt_parse_pilt(f, (size_t)n, &back, &pl, err, sizeof err), 0);
}

TEST(crc_mismatch_names_both_checksums)
{
    unsigned char f[64];
    ptu_pkt_header back;
    const unsigned char *pl;
    char err[256], want[256];
    size_t n = small_frame(f, sizeof f);
    uint32_t good = be32(f + 34);
    memcpy(f + 34, "\x12\x34\x56\x78", 4);
    CHECK_EQ_INT(ptu_pkt_parse_pilt(f, n, &back, &pl, err, sizeof err), -1);
    snprintf(want, sizeof want, "pilot packet: CRC mismatch (got 0x12345678, want 0x%08x)",
             (unsigned)good);
    CHECK_STR_EQ(err, want);
    /* No error buffer: still refused. */
    CHECK_EQ_INT(ptu_pkt_parse_pilt(f, n, &back, &pl, NULL, 0), -1);
}

TEST(discover_round_trips)
{
    unsigned char m[PTU_BEACON_DISCOVER_LEN];
    ptu_beacon_msg b;
    char err[256];
    ptu_pkt_discover(0x01020304, m);
    CHECK(memcmp(m, "\x01\x01\x02\x03\x04", 5) == 0);
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, sizeof m, &b, err, sizeof err), 0);
    CHECK_EQ_INT(b.type, PTU_BEACON_DISCOVER);
    CHECK_EQ_INT(b.from, 0x01020304);
    CHECK(b.frame == NULL && b.frame_len == 0);
}

TEST(discover_reply_round_trips_ipv4_and_ipv6)
{
    unsigned char m[32];
    pt_addr a;
    ptu_beacon_msg b;
    char err[256];

    memset(&a, 0, sizeof a);
    a.family = PT_AF_INET;
    memcpy(a.ip, "\xc0\x00\x02\x07", 4);
    a.port = 40000;
    CHECK_EQ_INT(ptu_pkt_discover_reply(&a, m, sizeof m), 8);
    CHECK(memcmp(m, "\x02\x04\xc0\x00\x02\x07\x9c\x40", 8) == 0);
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, 8, &b, err, sizeof err), 0);
    CHECK_EQ_INT(b.type, PTU_BEACON_DISCOVER_REPLY);
    CHECK_EQ_INT(b.addr.family, PT_AF_INET);
    CHECK(memcmp(b.addr.ip, a.ip, 4) == 0);
    CHECK_EQ_INT(b.addr.port, 40000);

    memset(&a, 0, sizeof a);
    a.family = PT_AF_INET6;
    for (int i = 0; i < 16; i++)
        a.ip[i] = (uint8_t)(0x20 + i);
    a.port = 1;
    CHECK_EQ_INT(ptu_pkt_discover_reply(&a, m, sizeof m), 20);
    CHECK_EQ_INT(m[1], 16);
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, 20, &b, err, sizeof err), 0);
    CHECK_EQ_INT(b.addr.family, PT_AF_INET6);
    CHECK(memcmp(b.addr.ip, a.ip, 16) == 0);
    CHECK_EQ_INT(b.addr.port, 1);

    CHECK_EQ_INT(ptu_pkt_discover_reply(&a, m, 19), -1);
    a.family = 0;
    CHECK_EQ_INT(ptu_pkt_discover_reply(&a, m, sizeof m), -1);
}

TEST(relay_and_deliver_round_trip_a_pilt_frame)
{
    unsigned char frame[64], m[128];
    ptu_beacon_msg b;
    ptu_pkt_header back;
    const unsigned char *pl;
    char err[256];
    size_t fn = small_frame(frame, sizeof frame);

    int n = ptu_pkt_relay(7, 42, frame, fn, m, sizeof m);
    CHECK_EQ_INT(n, 9 + (int)fn);
    CHECK(memcmp(m, "\x05\x00\x00\x00\x07\x00\x00\x00\x2a", 9) == 0);
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, (size_t)n, &b, err, sizeof err), 0);
    CHECK_EQ_INT(b.type, PTU_BEACON_RELAY);
    CHECK_EQ_INT(b.from, 7);
    CHECK_EQ_INT(b.to, 42);
    CHECK_EQ_INT(b.frame_len, fn);
    CHECK(b.frame == m + 9);
    CHECK_EQ_INT(ptu_pkt_parse_pilt(b.frame, b.frame_len, &back, &pl, err, sizeof err), 0);
    CHECK(memcmp(pl, "hello", 5) == 0);

    n = ptu_pkt_relay_deliver(7, frame, fn, m, sizeof m);
    CHECK_EQ_INT(n, 5 + (int)fn);
    CHECK(memcmp(m, "\x06\x00\x00\x00\x07", 5) == 0);
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, (size_t)n, &b, err, sizeof err), 0);
    CHECK_EQ_INT(b.type, PTU_BEACON_RELAY_DELIVER);
    CHECK_EQ_INT(b.from, 7);
    CHECK_EQ_INT(b.to, 0);
    CHECK(b.frame == m + 5 && b.frame_len == fn);
    CHECK_EQ_INT(ptu_pkt_parse_pilt(b.frame, b.frame_len, &back, &pl, err, sizeof err), 0);

    /* Output that does not fit. */
    CHECK_EQ_INT(ptu_pkt_relay(7, 42, frame, fn, m, 9 + fn - 1), -1);
    CHECK_EQ_INT(ptu_pkt_relay_deliver(7, frame, fn, m, 5 + fn - 1), -1);
    /* The fixed part alone: an empty frame still encodes and decodes. */
    CHECK_EQ_INT(ptu_pkt_relay(1, 2, NULL, 0, m, 9), 9);
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, 9, &b, err, sizeof err), 0);
    CHECK_EQ_INT(b.frame_len, 0);
}

TEST(every_short_body_is_refused)
{
    unsigned char m[64], frame[64];
    ptu_beacon_msg b;
    pt_addr a;
    char err[256];
    size_t fn = small_frame(frame, sizeof frame);
    int n;

    ptu_pkt_discover(9, m);
    for (size_t len = 1; len < 5; len++) {
        CHECK_EQ_INT(ptu_pkt_parse_beacon(m, len, &b, err, sizeof err), -1);
        CHECK_STR_CONTAINS(err, "beacon Discover: body is");
    }
    memset(&a, 0, sizeof a);
    a.family = PT_AF_INET;
    n = ptu_pkt_discover_reply(&a, m, sizeof m);
    for (size_t len = 1; len < (size_t)n; len++) {
        CHECK_EQ_INT(ptu_pkt_parse_beacon(m, len, &b, err, sizeof err), -1);
        CHECK_STR_CONTAINS(err, "beacon DiscoverReply: body is");
    }
    a.family = PT_AF_INET6;
    n = ptu_pkt_discover_reply(&a, m, sizeof m);
    for (size_t len = 1; len < (size_t)n; len++) {
        CHECK_EQ_INT(ptu_pkt_parse_beacon(m, len, &b, err, sizeof err), -1);
        CHECK_STR_CONTAINS(err, "beacon DiscoverReply: body is");
    }
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, 18, &b, err, sizeof err), -1);
    CHECK_STR_EQ(err, "beacon DiscoverReply: body is 17 bytes, needs 19 (ip length, 16-byte ip, "
                      "port)");
    ptu_pkt_relay(1, 2, frame, fn, m, sizeof m);
    for (size_t len = 1; len < 9; len++) {
        CHECK_EQ_INT(ptu_pkt_parse_beacon(m, len, &b, err, sizeof err), -1);
        CHECK_STR_CONTAINS(err, "beacon Relay: body is");
    }
    CHECK_STR_EQ(err, "beacon Relay: body is 7 bytes, needs at least 8 (sender and destination "
                      "node)");
    ptu_pkt_relay_deliver(1, frame, fn, m, sizeof m);
    for (size_t len = 1; len < 5; len++) {
        CHECK_EQ_INT(ptu_pkt_parse_beacon(m, len, &b, err, sizeof err), -1);
        CHECK_STR_CONTAINS(err, "beacon RelayDeliver: body is");
    }
}

TEST(malformed_beacon_messages_are_refused)
{
    unsigned char m[32] = { 0 };
    ptu_beacon_msg b;
    char err[256];
    static const unsigned char unknown[] = { 0x00, 0x03, 0x04, 0x07, 0x50, 0xff };
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, 0, &b, err, sizeof err), -1);
    CHECK_STR_EQ(err, "beacon message: empty");
    for (size_t i = 0; i < sizeof unknown; i++) {
        char want[64];
        memset(m, 0, sizeof m);
        m[0] = unknown[i];
        CHECK_EQ_INT(ptu_pkt_parse_beacon(m, sizeof m, &b, err, sizeof err), -1);
        snprintf(want, sizeof want, "beacon message: unknown type 0x%02x", unknown[i]);
        CHECK_STR_CONTAINS(err, want);
    }
    /* An ip length that is neither IPv4 nor IPv6. */
    memcpy(m, "\x02\x05\x01\x02\x03\x04\x05\x00\x50", 9);
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, 9, &b, err, sizeof err), -1);
    CHECK_STR_EQ(err, "beacon DiscoverReply: ip length 5 (want 4 or 16)");
    memcpy(m, "\x02\x00", 2);
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, 2, &b, err, sizeof err), -1);
    CHECK_STR_CONTAINS(err, "ip length 0");
    /* Bytes past the end of a fixed-size message mean it was mis-framed. */
    memcpy(m, "\x02\x04\x7f\x00\x00\x01\x00\x50\x99", 9);
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, 9, &b, err, sizeof err), -1);
    CHECK_STR_EQ(err, "beacon DiscoverReply: 1 extra byte(s) after the port");
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, 8, &b, err, sizeof err), 0);
    memcpy(m, "\x01\x00\x00\x00\x01\x00", 6);
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, 6, &b, err, sizeof err), -1);
    CHECK_STR_CONTAINS(err, "beacon Discover: 1 extra byte(s) after the node id");
    /* A failed parse leaves *out alone, and err may be absent. */
    memset(&b, 0x5c, sizeof b);
    CHECK_EQ_INT(ptu_pkt_parse_beacon(m, 3, &b, NULL, 0), -1);
    CHECK_EQ_INT(b.type, 0x5c);
}

int main(void)
{
    RUN(crc32_matches_the_standard_check_value);
    RUN(crc32_can_be_computed_in_pieces);
    RUN(build_then_parse_round_trips_every_field);
    RUN(header_bytes_are_laid_out_as_the_spec_says);
    RUN(build_refuses_what_does_not_fit);
    RUN(every_single_byte_corruption_is_detected);
    RUN(wrong_magic_is_named);
    RUN(truncated_at_every_length_is_refused);
    RUN(length_field_mismatch_is_reported);
    RUN(crc_mismatch_names_both_checksums);
    RUN(discover_round_trips);
    RUN(discover_reply_round_trips_ipv4_and_ipv6);
    RUN(relay_and_deliver_round_trip_a_pilt_frame);
    RUN(every_short_body_is_refused);
    RUN(malformed_beacon_messages_are_refused);
    return tap_done();
}
