/* addr.h -- pt_addr <-> text and sockaddr.  Internal. */
#ifndef PT_ADDR_H
#define PT_ADDR_H

#include <sys/socket.h>

#include "pilot_transport.h"

/* Parse "HOST:PORT", "[IPV6]:PORT" or ":PORT" (any address) into *out.
 * HOST may be a name, resolved with getaddrinfo (first IPv4 result
 * preferred).  passive: an empty host means the wildcard address.
 * Returns PT_OK or PT_EINVAL with a message in err. */
int ptu_addr_parse(const char *s, int passive, pt_addr *out, char *err, size_t errlen);

/* ptu_addr_parse in two steps, for callers that must not block in the
 * resolver (or must be able to abandon it).  The first never blocks: it
 * returns PT_OK with *out set when the host is empty or a numeric address,
 * PTU_ADDR_NAME when it is a name (copied into host, hostcap bytes; *out is
 * zeroed but for its port), or PT_EINVAL with a message. */
#define PTU_ADDR_NAME 1
int ptu_addr_parse_literal(const char *s, int passive, pt_addr *out, char *host,
                           size_t hostcap, char *err, size_t errlen);
/* The second resolves host with getaddrinfo (blocking), keeping out->port;
 * s is the whole text, for messages.  PT_OK or PT_EINVAL. */
int ptu_addr_resolve(const char *s, const char *host, pt_addr *out, char *err, size_t errlen);

/* Convert to a sockaddr of the given family (AF_INET or AF_INET6; an IPv4
 * address becomes ::ffff:a.b.c.d for AF_INET6).  Returns the length, or 0
 * if the address cannot be expressed in that family. */
socklen_t ptu_addr_to_sockaddr(const pt_addr *a, int family, struct sockaddr_storage *ss);

/* Convert back; IPv4-mapped IPv6 addresses become plain IPv4. */
int ptu_addr_from_sockaddr(const struct sockaddr *sa, pt_addr *out);

/* "1.2.3.4:5" or "[::1]:5"; always NUL-terminates.  Returns buf. */
char *ptu_addr_format(const pt_addr *a, char *buf, size_t len);

/* Set *out to a synthetic IPv4 address (used by transports with one peer). */
void ptu_addr_ipv4(pt_addr *out, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);

#endif
