/*
 * pilot_packet.h -- Pilot packets in PILT tunnel frames, and the beacon's
 * messages (SPEC 3).  Pure functions: no allocation, no I/O, no globals
 * beyond a constant table; safe from any thread.  Internal: not installed,
 * not part of the ABI.  Prefix: ptu_pkt_ (and ptu_beacon_ for the types).
 *
 * A PILT frame is
 *     "PILT" | 34-byte header | payload
 * and the header, all fields big-endian, is
 *     off  size  field
 *      0    1    version << 4 | flags
 *      1    1    protocol
 *      2    2    payload length
 *      4    2    source network        6  4  source node
 *     10    2    destination network  12  4  destination node
 *     16    2    source port          18  2  destination port
 *     20    4    sequence             24  4  ack
 *     28    2    window
 *     30    4    CRC-32 (IEEE) over the header with this field zeroed,
 *                followed by the payload (the magic is not covered)
 *
 * Functions that write return the number of bytes written, or -1 when the
 * output does not fit in cap (nothing useful is written then).  Parsers
 * return 0, or -1 with a one-line explanation in err (err may be NULL or
 * errlen 0); pointers they return point into the caller's input.
 */
#ifndef PT_PILOT_PACKET_H
#define PT_PILOT_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "pilot_transport.h"

/* ---- Sizes and well-known values --------------------------------------- */

#define PTU_PKT_MAGIC_LEN 4
#define PTU_PKT_HEADER_LEN 34
#define PTU_PKT_PILT_OVERHEAD (PTU_PKT_MAGIC_LEN + PTU_PKT_HEADER_LEN) /* 38 */
#define PTU_PKT_MAX_PAYLOAD 65535 /* the length field is 16 bits */

#define PTU_PKT_VERSION 1 /* the current header version */

/* Header flags (the low nibble of byte 0). */
#define PTU_PKT_FLAG_SYN 0x1
#define PTU_PKT_FLAG_ACK 0x2
#define PTU_PKT_FLAG_FIN 0x4
#define PTU_PKT_FLAG_RST 0x8

/* Header protocol byte. */
#define PTU_PKT_PROTO_STREAM 0x01
#define PTU_PKT_PROTO_DATAGRAM 0x02
#define PTU_PKT_PROTO_CONTROL 0x03

/* Beacon message types (the first byte). */
#define PTU_BEACON_DISCOVER 0x01
#define PTU_BEACON_DISCOVER_REPLY 0x02
#define PTU_BEACON_RELAY 0x05
#define PTU_BEACON_RELAY_DELIVER 0x06

/* Fixed parts: type byte plus the body before the tunnel frame. */
#define PTU_BEACON_DISCOVER_LEN 5       /* 0x01, node (4) */
#define PTU_BEACON_RELAY_OVERHEAD 9     /* 0x05, from (4), to (4) */
#define PTU_BEACON_DELIVER_OVERHEAD 5   /* 0x06, from (4) */

/* ---- CRC-32 (IEEE 802.3: reflected, poly 0xEDB88320) -------------------- */

/* The CRC of data, continuing from crc (0 to start): the result of one call
 * is the final value and may be passed back in for the next piece, so
 * crc32_update(crc32_update(0, a, n), b, m) == CRC of a followed by b. */
uint32_t ptu_pkt_crc32_update(uint32_t crc, const void *data, size_t len);

/* The CRC of one buffer: ptu_pkt_crc32("123456789", 9) == 0xCBF43926. */
uint32_t ptu_pkt_crc32(const void *data, size_t len);

/* ---- The Pilot header and PILT frames ----------------------------------- */

typedef struct ptu_pkt_header {
    uint8_t version;      /* 0..15; PTU_PKT_VERSION */
    uint8_t flags;        /* 0..15; PTU_PKT_FLAG_* */
    uint8_t protocol;     /* PTU_PKT_PROTO_* */
    uint16_t payload_len; /* build: ignored (taken from len); parse: as read */
    uint16_t src_net;
    uint32_t src_node;
    uint16_t dst_net;
    uint32_t dst_node;
    uint16_t src_port, dst_port;
    uint32_t seq, ack;
    uint16_t window;
    uint32_t checksum;    /* build: ignored (computed); parse: as read */
} ptu_pkt_header;

/* Write "PILT", the header of h with payload_len = len and the checksum
 * computed, then len bytes of payload (may be NULL if len is 0) into out.
 * Returns PTU_PKT_PILT_OVERHEAD + len, or -1 if len > PTU_PKT_MAX_PAYLOAD,
 * the frame does not fit in cap, or version or flags do not fit in 4 bits. */
int ptu_pkt_build_pilt(const ptu_pkt_header *h, const void *payload, size_t len,
                       unsigned char *out, size_t cap);

/* Check and decode one tunnel frame of len bytes: magic "PILT", a whole
 * header, a payload length field equal to the bytes that follow, and the
 * CRC.  On success fills *h and sets *payload to the payload inside frame
 * (h->payload_len bytes).  On failure *h and *payload are untouched and err
 * says which check failed, e.g.
 *   tunnel frame: magic is PILS, not PILT (encrypted frames are not handled here)
 *   pilot packet: length field says 100, frame has 90
 *   pilot packet: CRC mismatch (got 0x12345678, want 0x9abcdef0)
 * ("got" is the checksum in the frame, "want" the one computed). */
int ptu_pkt_parse_pilt(const unsigned char *frame, size_t len, ptu_pkt_header *h,
                       const unsigned char **payload, char *err, size_t errlen);

/* ---- Beacon messages (SPEC 3) ------------------------------------------- */

/* A decoded beacon message.  Which fields are set depends on type:
 *   Discover       from (the node id)
 *   DiscoverReply  addr (the sender's address as the beacon sees it)
 *   Relay          from, to, frame/frame_len
 *   RelayDeliver   from, frame/frame_len
 * Unset fields are zero.  frame points into the parsed message. */
typedef struct ptu_beacon_msg {
    uint8_t type;               /* PTU_BEACON_* */
    uint32_t from;
    uint32_t to;
    pt_addr addr;
    const unsigned char *frame;
    size_t frame_len;
} ptu_beacon_msg;

/* Discover: 0x01 + node.  Always 5 bytes. */
void ptu_pkt_discover(uint32_t node, unsigned char out[PTU_BEACON_DISCOVER_LEN]);

/* DiscoverReply: 0x02 + ip length (4 or 16) + ip + port.  Returns 8 or 20,
 * or -1 if addr's family is neither PT_AF_INET nor PT_AF_INET6 or it does
 * not fit in cap.  (The beacon sends these; the tests need to as well.) */
int ptu_pkt_discover_reply(const pt_addr *addr, unsigned char *out, size_t cap);

/* Relay: 0x05 + from + to + frame.  Returns 9 + len or -1 if it does not
 * fit in cap.  frame may be NULL if len is 0. */
int ptu_pkt_relay(uint32_t from, uint32_t to, const void *frame, size_t len,
                  unsigned char *out, size_t cap);

/* RelayDeliver: 0x06 + from + frame.  Returns 5 + len or -1 if it does not
 * fit in cap. */
int ptu_pkt_relay_deliver(uint32_t from, const void *frame, size_t len, unsigned char *out,
                          size_t cap);

/* Decode a beacon message of len bytes into *out.  Refuses (-1, err set)
 * an empty message, an unknown type byte ("beacon message: unknown type
 * 0x07"), a body shorter than its fixed fields, a DiscoverReply whose ip
 * length is not 4 or 16, and bytes after the end of a Discover or
 * DiscoverReply.  The tunnel frame of a Relay or RelayDeliver is not
 * checked (it may even be empty); use ptu_pkt_parse_pilt for that. */
int ptu_pkt_parse_beacon(const unsigned char *msg, size_t len, ptu_beacon_msg *out, char *err,
                         size_t errlen);

#endif
