/*
 * fuzz-addr.c -- ptu_addr_parse ("HOST:PORT", "[IPV6]:PORT", ":PORT") and
 * the conversions after it.
 *
 * No DNS, ever: this file defines getaddrinfo and freeaddrinfo, which the
 * program's own definitions take precedence over libc's (and over the
 * sanitizers' interceptors, which are weak).  The stand-in answers from the
 * host name alone, so that the resolver branch is fuzzed too:
 *   first byte % 5 == 0  EAI_NONAME
 *                     1  one IPv4 address
 *                     2  an IPv6 then an IPv4 address (IPv4 must win)
 *                     3  one IPv4-mapped IPv6 address (becomes IPv4)
 *                     4  one address of neither family (refused)
 * Each list is malloc'ed node by node, so a leak or a double free of it
 * shows under the sanitizers.
 *
 * Invariants: an accepted address is IPv4 or IPv6; formatted with
 * ptu_addr_format and parsed again it is the same address; through
 * ptu_addr_to_sockaddr and back it is the same; the resolver was asked
 * only for a host that is not an IP literal.  A refused one has a message.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "addr.h"
#include "fuzz.h"

const char fuzz_target_name[] = "addr";

static int resolver_calls, resolver_mode;

static struct addrinfo *fake_node(int family, const uint8_t *ip, struct addrinfo *next)
{
    struct addrinfo *ai = calloc(1, sizeof *ai);
    struct sockaddr_storage *ss = calloc(1, sizeof *ss);

    FUZZ_CHECK(ai && ss);
    ai->ai_family = family;
    ai->ai_socktype = SOCK_DGRAM;
    ai->ai_addr = (struct sockaddr *)ss;
    ai->ai_next = next;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, ip, 4);
        ai->ai_addrlen = sizeof *sin;
    } else if (family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, ip, 16);
        ai->ai_addrlen = sizeof *sin6;
    } else {
        ss->ss_family = (sa_family_t)family;
        ai->ai_addrlen = sizeof *ss;
    }
    return ai;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    static const uint8_t v4[4] = { 192, 0, 2, 7 };
    static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };
    static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 198, 51, 100, 9 };
    struct in6_addr a6;
    struct in_addr a4;

    (void)service;
    (void)hints;
    FUZZ_CHECK(node && *node);
    /* ptu_addr_parse tries the literals first. */
    FUZZ_CHECK(inet_pton(AF_INET, node, &a4) != 1 && inet_pton(AF_INET6, node, &a6) != 1);
    resolver_calls++;
    resolver_mode = (unsigned char)node[0] % 5;
    switch (resolver_mode) {
    case 1:
        *res = fake_node(AF_INET, v4, NULL);
        return 0;
    case 2:
        *res = fake_node(AF_INET6, v6, fake_node(AF_INET, v4, NULL));
        return 0;
    case 3:
        *res = fake_node(AF_INET6, mapped, NULL);
        return 0;
    case 4:
        *res = fake_node(AF_UNIX, v4, NULL);
        return 0;
    default:
        return EAI_NONAME;
    }
}

void freeaddrinfo(struct addrinfo *ai)
{
    while (ai) {
        struct addrinfo *next = ai->ai_next;
        free(ai->ai_addr);
        free(ai);
        ai = next;
    }
}

static int same_addr(const pt_addr *a, const pt_addr *b)
{
    size_t iplen = a->family == PT_AF_INET ? 4 : 16;
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, iplen) == 0;
}

static void check_addr(const char *s, int passive)
{
    char err[PT_ERRMSG_MAX], text[80];
    struct sockaddr_storage ss;
    struct in6_addr a6;
    pt_addr a, back;
    int calls = resolver_calls;
    socklen_t sl;

    err[0] = '\0';
    if (ptu_addr_parse(s, passive, &a, err, sizeof err) != PT_OK) {
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    FUZZ_CHECK(a.family == PT_AF_INET || a.family == PT_AF_INET6);
    if (resolver_calls != calls) {
        /* Every answer that is accepted holds IPv4: alone, preferred to
         * IPv6, or mapped into IPv6. */
        FUZZ_CHECK(resolver_mode >= 1 && resolver_mode <= 3);
        FUZZ_CHECK(a.family == PT_AF_INET);
    }
    if (!passive)
        FUZZ_CHECK(s[0] != ':');

    /* Text and back: the same address, without asking the resolver. */
    ptu_addr_format(&a, text, sizeof text);
    calls = resolver_calls;
    FUZZ_CHECK(ptu_addr_parse(text, 0, &back, err, sizeof err) == PT_OK);
    FUZZ_CHECK(resolver_calls == calls);
    FUZZ_CHECK(same_addr(&a, &back));

    /* sockaddr and back, in the address's own family. */
    sl = ptu_addr_to_sockaddr(&a, a.family == PT_AF_INET ? AF_INET : AF_INET6, &ss);
    FUZZ_CHECK(sl > 0);
    FUZZ_CHECK(ptu_addr_from_sockaddr((struct sockaddr *)&ss, &back) == PT_OK);
    memcpy(&a6, a.ip, sizeof a6);
    if (a.family == PT_AF_INET || !IN6_IS_ADDR_V4MAPPED(&a6))
        FUZZ_CHECK(same_addr(&a, &back));
    else
        FUZZ_CHECK(back.family == PT_AF_INET && memcmp(back.ip, a.ip + 12, 4) == 0);

    /* IPv4 as IPv6 is the mapped address, and comes back as IPv4. */
    if (a.family == PT_AF_INET) {
        FUZZ_CHECK(ptu_addr_to_sockaddr(&a, AF_INET6, &ss) > 0);
        FUZZ_CHECK(ptu_addr_from_sockaddr((struct sockaddr *)&ss, &back) == PT_OK);
        FUZZ_CHECK(same_addr(&a, &back));
    } else {
        FUZZ_CHECK(ptu_addr_to_sockaddr(&a, AF_INET, &ss) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strdup(data, size);

    check_addr(s, 1);
    check_addr(s, 0);
    free(s);
    return 0;
}
