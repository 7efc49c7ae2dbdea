/*
 * pilot_packet.c -- Pilot packet headers, PILT tunnel frames and beacon
 * messages: encoding, decoding and the checks a receiver makes.
 */
#include "config.h"

#include "pilot_packet.h"

#include "byteorder.h"
#include "util.h"

#include <string.h>

/* ---- CRC-32 ------------------------------------------------------------ */

/* crc_table[n] is the CRC register after shifting the byte n through the
 * reflected polynomial 0xEDB88320 (the test checks it against a bitwise
 * computation and the standard check value). */
static const uint32_t crc_table[256] = {
    0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu,
    0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
    0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
    0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
    0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
    0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
    0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
    0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
    0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
    0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
    0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u, 0x01db7106u,
    0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
    0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du,
    0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
    0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
    0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
    0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u,
    0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
    0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau,
    0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
    0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
    0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
    0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u,
    0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
    0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
    0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
    0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
    0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
    0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u,
    0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
    0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u,
    0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
    0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
    0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
    0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
    0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
    0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u,
    0x616bffd3u, 0x166ccf45u, 0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
    0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
    0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
    0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u,
    0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
    0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t ptu_pkt_crc32_update(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

uint32_t ptu_pkt_crc32(const void *data, size_t len)
{
    return ptu_pkt_crc32_update(0, data, len);
}

/* ---- The header --------------------------------------------------------- */

static const unsigned char magic_pilt[PTU_PKT_MAGIC_LEN] = { 'P', 'I', 'L', 'T' };

#define OFF_CHECKSUM 30

/* The checksum of a header (its checksum bytes treated as zero) and payload. */
static uint32_t packet_crc(const unsigned char *hdr, const unsigned char *payload, size_t len)
{
    static const unsigned char zero[4];
    uint32_t crc = ptu_pkt_crc32_update(0, hdr, OFF_CHECKSUM);
    crc = ptu_pkt_crc32_update(crc, zero, sizeof zero);
    return ptu_pkt_crc32_update(crc, payload, len);
}

int ptu_pkt_build_pilt(const ptu_pkt_header *h, const void *payload, size_t len,
                       unsigned char *out, size_t cap)
{
    if (!h || !out || (len && !payload) || len > PTU_PKT_MAX_PAYLOAD ||
        cap < PTU_PKT_PILT_OVERHEAD + len || h->version > 15 || h->flags > 15)
        return -1;
    unsigned char *p = out + PTU_PKT_MAGIC_LEN;
    memcpy(out, magic_pilt, PTU_PKT_MAGIC_LEN);
    p[0] = (unsigned char)(h->version << 4 | h->flags);
    p[1] = h->protocol;
    ptu_put16(p + 2, (uint16_t)len);
    ptu_put16(p + 4, h->src_net);
    ptu_put32(p + 6, h->src_node);
    ptu_put16(p + 10, h->dst_net);
    ptu_put32(p + 12, h->dst_node);
    ptu_put16(p + 16, h->src_port);
    ptu_put16(p + 18, h->dst_port);
    ptu_put32(p + 20, h->seq);
    ptu_put32(p + 24, h->ack);
    ptu_put16(p + 28, h->window);
    if (len)
        memcpy(p + PTU_PKT_HEADER_LEN, payload, len);
    ptu_put32(p + OFF_CHECKSUM, packet_crc(p, p + PTU_PKT_HEADER_LEN, len));
    return (int)(PTU_PKT_PILT_OVERHEAD + len);
}

/* Explain a magic that is not PILT, naming the frame kind when it is one of
 * the other tunnel frames (SPEC 3). */
static int bad_magic(const unsigned char *m, char *err, size_t errlen)
{
    static const struct {
        const char *magic, *why;
    } known[] = {
        { "PILS", "encrypted frames are not handled here" },
        { "PILK", "key-exchange frames are not handled here" },
        { "PILA", "authenticated key-exchange frames are not handled here" },
        { "PILP", "punch frames are not handled here" },
    };
    int printable = 1;
    for (int i = 0; i < PTU_PKT_MAGIC_LEN; i++)
        if (m[i] < 0x21 || m[i] > 0x7e)
            printable = 0;
    if (!printable)
        return ptu_err(err, errlen, -1,
                       "tunnel frame: magic is 0x%02x%02x%02x%02x, not PILT (not a Pilot "
                       "tunnel frame)",
                       m[0], m[1], m[2], m[3]);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (memcmp(m, known[i].magic, PTU_PKT_MAGIC_LEN) == 0)
            return ptu_err(err, errlen, -1, "tunnel frame: magic is %s, not PILT (%s)",
                           known[i].magic, known[i].why);
    return ptu_err(err, errlen, -1,
                   "tunnel frame: magic is %c%c%c%c, not PILT (not a Pilot tunnel frame)", m[0],
                   m[1], m[2], m[3]);
}

int ptu_pkt_parse_pilt(const unsigned char *frame, size_t len, ptu_pkt_header *h,
                       const unsigned char **payload, char *err, size_t errlen)
{
    if (!frame || !h || !payload)
        return ptu_err(err, errlen, -1, "tunnel frame: invalid argument");
    if (len < PTU_PKT_MAGIC_LEN)
        return ptu_err(err, errlen, -1,
                       "tunnel frame: %zu bytes, too short for the 4-byte magic", len);
    if (memcmp(frame, magic_pilt, PTU_PKT_MAGIC_LEN) != 0)
        return bad_magic(frame, err, errlen);

    const unsigned char *p = frame + PTU_PKT_MAGIC_LEN;
    size_t rest = len - PTU_PKT_MAGIC_LEN;
    if (rest < PTU_PKT_HEADER_LEN)
        return ptu_err(err, errlen, -1,
                       "pilot packet: %zu bytes, too short for the %d-byte header", rest,
                       PTU_PKT_HEADER_LEN);
    size_t have = rest - PTU_PKT_HEADER_LEN;
    uint16_t plen = ptu_get16(p + 2);
    if (plen != have)
        return ptu_err(err, errlen, -1, "pilot packet: length field says %u, frame has %zu",
                       (unsigned)plen, have);
    uint32_t got = ptu_get32(p + OFF_CHECKSUM);
    uint32_t want = packet_crc(p, p + PTU_PKT_HEADER_LEN, have);
    if (got != want)
        return ptu_err(err, errlen, -1,
                       "pilot packet: CRC mismatch (got 0x%08x, want 0x%08x)", (unsigned)got,
                       (unsigned)want);

    h->version = p[0] >> 4;
    h->flags = p[0] & 0x0f;
    h->protocol = p[1];
    h->payload_len = plen;
    h->src_net = ptu_get16(p + 4);
    h->src_node = ptu_get32(p + 6);
    h->dst_net = ptu_get16(p + 10);
    h->dst_node = ptu_get32(p + 12);
    h->src_port = ptu_get16(p + 16);
    h->dst_port = ptu_get16(p + 18);
    h->seq = ptu_get32(p + 20);
    h->ack = ptu_get32(p + 24);
    h->window = ptu_get16(p + 28);
    h->checksum = got;
    *payload = p + PTU_PKT_HEADER_LEN;
    return 0;
}

/* ---- Beacon messages ---------------------------------------------------- */

void ptu_pkt_discover(uint32_t node, unsigned char out[PTU_BEACON_DISCOVER_LEN])
{
    out[0] = PTU_BEACON_DISCOVER;
    ptu_put32(out + 1, node);
}

int ptu_pkt_discover_reply(const pt_addr *addr, unsigned char *out, size_t cap)
{
    size_t iplen;
    if (!addr || !out)
        return -1;
    if (addr->family == PT_AF_INET)
        iplen = 4;
    else if (addr->family == PT_AF_INET6)
        iplen = 16;
    else
        return -1;
    if (cap < 1 + 1 + iplen + 2)
        return -1;
    out[0] = PTU_BEACON_DISCOVER_REPLY;
    out[1] = (unsigned char)iplen;
    memcpy(out + 2, addr->ip, iplen);
    ptu_put16(out + 2 + iplen, addr->port);
    return (int)(1 + 1 + iplen + 2);
}

int ptu_pkt_relay(uint32_t from, uint32_t to, const void *frame, size_t len,
                  unsigned char *out, size_t cap)
{
    if (!out || (len && !frame) || len > (size_t)INT32_MAX - PTU_BEACON_RELAY_OVERHEAD ||
        cap < PTU_BEACON_RELAY_OVERHEAD + len)
        return -1;
    out[0] = PTU_BEACON_RELAY;
    ptu_put32(out + 1, from);
    ptu_put32(out + 5, to);
    if (len)
        memcpy(out + PTU_BEACON_RELAY_OVERHEAD, frame, len);
    return (int)(PTU_BEACON_RELAY_OVERHEAD + len);
}

int ptu_pkt_relay_deliver(uint32_t from, const void *frame, size_t len, unsigned char *out,
                          size_t cap)
{
    if (!out || (len && !frame) || len > (size_t)INT32_MAX - PTU_BEACON_DELIVER_OVERHEAD ||
        cap < PTU_BEACON_DELIVER_OVERHEAD + len)
        return -1;
    out[0] = PTU_BEACON_RELAY_DELIVER;
    ptu_put32(out + 1, from);
    if (len)
        memcpy(out + PTU_BEACON_DELIVER_OVERHEAD, frame, len);
    return (int)(PTU_BEACON_DELIVER_OVERHEAD + len);
}

static int parse_discover_reply(const unsigned char *body, size_t n, ptu_beacon_msg *out,
                                char *err, size_t errlen)
{
    if (n < 1)
        return ptu_err(err, errlen, -1,
                       "beacon DiscoverReply: body is 0 bytes, needs at least 1 (ip length)");
    size_t iplen = body[0];
    if (iplen != 4 && iplen != 16)
        return ptu_err(err, errlen, -1, "beacon DiscoverReply: ip length %zu (want 4 or 16)",
                       iplen);
    size_t need = 1 + iplen + 2;
    if (n < need)
        return ptu_err(err, errlen, -1,
                       "beacon DiscoverReply: body is %zu bytes, needs %zu (ip length, "
                       "%zu-byte ip, port)",
                       n, need, iplen);
    if (n > need)
        return ptu_err(err, errlen, -1,
                       "beacon DiscoverReply: %zu extra byte(s) after the port", n - need);
    out->addr.family = iplen == 4 ? PT_AF_INET : PT_AF_INET6;
    memcpy(out->addr.ip, body + 1, iplen);
    out->addr.port = ptu_get16(body + 1 + iplen);
    return 0;
}

int ptu_pkt_parse_beacon(const unsigned char *msg, size_t len, ptu_beacon_msg *out, char *err,
                         size_t errlen)
{
    if (!out || (len && !msg))
        return ptu_err(err, errlen, -1, "beacon message: invalid argument");
    if (len == 0)
        return ptu_err(err, errlen, -1, "beacon message: empty");
    ptu_beacon_msg m;
    const unsigned char *body = msg + 1;
    size_t n = len - 1;
    memset(&m, 0, sizeof m);
    m.type = msg[0];
    switch (m.type) {
    case PTU_BEACON_DISCOVER:
        if (n < 4)
            return ptu_err(err, errlen, -1,
                           "beacon Discover: body is %zu bytes, needs 4 (node id)", n);
        if (n > 4)
            return ptu_err(err, errlen, -1,
                           "beacon Discover: %zu extra byte(s) after the node id", n - 4);
        m.from = ptu_get32(body);
        break;
    case PTU_BEACON_DISCOVER_REPLY:
        if (parse_discover_reply(body, n, &m, err, errlen) != 0)
            return -1;
        break;
    case PTU_BEACON_RELAY:
        if (n < 8)
            return ptu_err(err, errlen, -1,
                           "beacon Relay: body is %zu bytes, needs at least 8 (sender and "
                           "destination node)",
                           n);
        m.from = ptu_get32(body);
        m.to = ptu_get32(body + 4);
        m.frame = body + 8;
        m.frame_len = n - 8;
        break;
    case PTU_BEACON_RELAY_DELIVER:
        if (n < 4)
            return ptu_err(err, errlen, -1,
                           "beacon RelayDeliver: body is %zu bytes, needs at least 4 (sender "
                           "node)",
                           n);
        m.from = ptu_get32(body);
        m.frame = body + 4;
        m.frame_len = n - 4;
        break;
    default:
        return ptu_err(err, errlen, -1,
                       "beacon message: unknown type 0x%02x (%zu bytes; known: 0x01 Discover, "
                       "0x02 DiscoverReply, 0x05 Relay, 0x06 RelayDeliver)",
                       m.type, len);
    }
    *out = m;
    return 0;
}
