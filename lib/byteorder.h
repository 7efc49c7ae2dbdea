/* byteorder.h -- big-endian (network order) fields in byte buffers, for the
 * wire formats (Pilot packets, beacon messages, the benchmark's frames).
 * Internal.  Prefix: ptu_. */
#ifndef PT_BYTEORDER_H
#define PT_BYTEORDER_H

#include <stdint.h>

static inline void ptu_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static inline void ptu_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static inline uint16_t ptu_get16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t ptu_get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
