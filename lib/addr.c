/* addr.c -- parse, format and convert datagram addresses. */
#include "config.h"

#include "addr.h"
#include "util.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int ptu_addr_parse_literal(const char *s, int passive, pt_addr *out, char *host,
                           size_t hostcap, char *err, size_t errlen)
{
    const char *port_s;
    size_t hlen;
    uint64_t port;

    if (!s || !*s)
        return ptu_err(err, errlen, PT_EINVAL, "empty address (want HOST:PORT)");
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return ptu_err(err, errlen, PT_EINVAL, "address \"%s\": want [IPV6]:PORT", s);
        hlen = (size_t)(close - s - 1);
        if (hlen == 0 || hlen >= hostcap)
            return ptu_err(err, errlen, PT_EINVAL, "address \"%s\": bad IPv6 host", s);
        memcpy(host, s + 1, hlen);
        port_s = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon)
            return ptu_err(err, errlen, PT_EINVAL, "address \"%s\": missing :PORT", s);
        if (memchr(s, ':', (size_t)(colon - s)))
            return ptu_err(err, errlen, PT_EINVAL,
                           "address \"%s\": put an IPv6 host in brackets, e.g. [::1]:9000", s);
        hlen = (size_t)(colon - s);
        if (hlen >= hostcap)
            return ptu_err(err, errlen, PT_EINVAL, "address \"%s\": host name too long", s);
        memcpy(host, s, hlen);
        port_s = colon + 1;
    }
    host[hlen] = '\0';
    if (ptu_parse_u64(port_s, 65535, &port) != 0)
        return ptu_err(err, errlen, PT_EINVAL, "address \"%s\": port must be 0..65535", s);
    if (hlen == 0 && !passive)
        return ptu_err(err, errlen, PT_EINVAL, "address \"%s\": missing host", s);

    memset(out, 0, sizeof *out);
    out->port = (uint16_t)port;
    if (hlen == 0) {
        out->family = PT_AF_INET; /* 0.0.0.0 */
        return PT_OK;
    }
    if (inet_pton(AF_INET, host, out->ip) == 1) {
        out->family = PT_AF_INET;
        return PT_OK;
    }
    if (inet_pton(AF_INET6, host, out->ip) == 1) {
        out->family = PT_AF_INET6;
        return PT_OK;
    }
    return PTU_ADDR_NAME;
}

int ptu_addr_resolve(const char *s, const char *host, pt_addr *out, char *err, size_t errlen)
{
    uint16_t port = out->port;
    struct addrinfo hints, *res = NULL, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0)
        return ptu_err(err, errlen, PT_EINVAL, "address \"%s\": cannot resolve \"%s\": %s", s,
                       host, gai_strerror(rc));
    const struct addrinfo *pick = NULL;
    for (ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
        if (ai->ai_family == AF_INET6 && !pick)
            pick = ai;
    }
    if (!pick) {
        freeaddrinfo(res);
        return ptu_err(err, errlen, PT_EINVAL, "address \"%s\": no IPv4 or IPv6 address", s);
    }
    ptu_addr_from_sockaddr(pick->ai_addr, out);
    out->port = port;
    freeaddrinfo(res);
    return PT_OK;
}

int ptu_addr_parse(const char *s, int passive, pt_addr *out, char *err, size_t errlen)
{
    char host[256];
    int rc = ptu_addr_parse_literal(s, passive, out, host, sizeof host, err, errlen);
    return rc == PTU_ADDR_NAME ? ptu_addr_resolve(s, host, out, err, errlen) : rc;
}

socklen_t ptu_addr_to_sockaddr(const pt_addr *a, int family, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        if (a->family != PT_AF_INET)
            return 0;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        memcpy(&sin->sin_addr, a->ip, 4);
        return sizeof *sin;
    }
    if (family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(a->port);
        if (a->family == PT_AF_INET) {
            sin6->sin6_addr.s6_addr[10] = 0xff;
            sin6->sin6_addr.s6_addr[11] = 0xff;
            memcpy(&sin6->sin6_addr.s6_addr[12], a->ip, 4);
        } else if (a->family == PT_AF_INET6) {
            memcpy(&sin6->sin6_addr, a->ip, 16);
            sin6->sin6_scope_id = a->scope_id;
        } else {
            return 0;
        }
        return sizeof *sin6;
    }
    return 0;
}

int ptu_addr_from_sockaddr(const struct sockaddr *sa, pt_addr *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
        out->family = PT_AF_INET;
        out->port = ntohs(sin->sin_port);
        memcpy(out->ip, &sin->sin_addr, 4);
        return PT_OK;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
        out->port = ntohs(sin6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            out->family = PT_AF_INET;
            memcpy(out->ip, &sin6->sin6_addr.s6_addr[12], 4);
        } else {
            out->family = PT_AF_INET6;
            memcpy(out->ip, &sin6->sin6_addr, 16);
            out->scope_id = sin6->sin6_scope_id;
        }
        return PT_OK;
    }
    return PT_EINVAL;
}

char *ptu_addr_format(const pt_addr *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    if (!buf || len == 0)
        return buf;
    if (!a || (a->family != PT_AF_INET && a->family != PT_AF_INET6)) {
        snprintf(buf, len, "(none)");
        return buf;
    }
    inet_ntop(a->family == PT_AF_INET ? AF_INET : AF_INET6, a->ip, ip, sizeof ip);
    if (a->family == PT_AF_INET)
        snprintf(buf, len, "%s:%u", ip, (unsigned)a->port);
    else
        snprintf(buf, len, "[%s]:%u", ip, (unsigned)a->port);
    return buf;
}

void ptu_addr_ipv4(pt_addr *out, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    memset(out, 0, sizeof *out);
    out->family = PT_AF_INET;
    out->port = port;
    out->ip[0] = a;
    out->ip[1] = b;
    out->ip[2] = c;
    out->ip[3] = d;
}
