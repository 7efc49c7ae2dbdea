/* test-util.c -- number, duration, boolean, address and option parsing;
 * the clock; quoting for messages; strict base64; a connection's log
 * (diag: lines queued under a lock, a slow logger, repeated warnings). */
#include "config.h"

#include "addr.h"
#include "base64.h"
#include "cmdline.h"
#include "diag.h"
#include "options.h"
#include "quote.h"
#include "tap.h"
#include "util.h"

#include <pthread.h>
#include <time.h>

TEST(integers_parse_strictly)
{
    uint64_t v = 7;
    CHECK_EQ_INT(ptu_parse_u64("0", 10, &v), 0);
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(ptu_parse_u64("4294967295", UINT32_MAX, &v), 0);
    CHECK_EQ_INT(v, 4294967295LL);
    CHECK_EQ_INT(ptu_parse_u64("4294967296", UINT32_MAX, &v), -1);
    CHECK_EQ_INT(ptu_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
    CHECK_EQ_INT(ptu_parse_u64("18446744073709551616", UINT64_MAX, &v), -1);
    const char *bad[] = { "", "-1", "+1", " 1", "1 ", "1x", "0x10", "1.0" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(ptu_parse_u64(bad[i], UINT64_MAX, &v), -1);
    CHECK_EQ_INT(ptu_parse_u64(NULL, 1, &v), -1);
    /* A single digit above max must not slip through. */
    CHECK_EQ_INT(ptu_parse_u64("7", 5, &v), -1);
    CHECK_EQ_INT(ptu_parse_u64("5", 5, &v), 0);
}

TEST(durations_parse_like_go)
{
    uint64_t ms = 0;
    struct { const char *s; uint64_t ms; } ok[] = {
        { "0", 0 }, { "250ms", 250 }, { "20s", 20000 }, { "1m", 60000 }, { "1h", 3600000 },
        { "1.5s", 1500 }, { "1m30s", 90000 }, { "0.5ms", 0 }, { "2h45m", 9900000 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK_EQ_INT(ptu_parse_duration_ms(ok[i].s, UINT64_MAX / 1000, &ms), 0);
        CHECK_EQ_INT(ms, ok[i].ms);
    }
    const char *bad[] = { "", "10", "s", "ms", "-1s", "1x", "1 s", "1.s.", ".s", "1sm", "5d" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(ptu_parse_duration_ms(bad[i], UINT64_MAX / 1000, &ms), -1);
    CHECK_EQ_INT(ptu_parse_duration_ms("61s", 60000, &ms), -1);
    CHECK_EQ_INT(ptu_parse_duration_ms("60s", 60000, &ms), 0);
    CHECK_EQ_INT(ptu_parse_duration_ms("99999999999999999999h", UINT64_MAX / 1000, &ms), -1);
    /* Found by fuzzing: the fraction must not wrap a value near the top
     * of the range around to a small one. */
    CHECK_EQ_INT(ptu_parse_duration_ms("18446744073709.7s", UINT64_MAX, &ms), -1);
    CHECK_EQ_INT(ptu_parse_duration_ms("18446744073709.999999s", UINT64_MAX, &ms), -1);
}

TEST(booleans_parse)
{
    int b = -1;
    CHECK_EQ_INT(ptu_parse_bool("TRUE", &b), 0);
    CHECK_EQ_INT(b, 1);
    CHECK_EQ_INT(ptu_parse_bool("off", &b), 0);
    CHECK_EQ_INT(b, 0);
    CHECK_EQ_INT(ptu_parse_bool("maybe", &b), -1);
    CHECK_EQ_INT(ptu_parse_bool("", &b), -1);
}

TEST(addresses_parse_in_every_form)
{
    pt_addr a;
    char e[256], f[PT_ERRMSG_MAX];
    CHECK_EQ_INT(ptu_addr_parse("127.0.0.1:9000", 0, &a, e, sizeof e), PT_OK);
    CHECK_STR_EQ(ptu_addr_format(&a, f, sizeof f), "127.0.0.1:9000");
    CHECK_EQ_INT(ptu_addr_parse("[::1]:1", 0, &a, e, sizeof e), PT_OK);
    CHECK_STR_EQ(ptu_addr_format(&a, f, sizeof f), "[::1]:1");
    CHECK_EQ_INT(ptu_addr_parse(":53", 1, &a, e, sizeof e), PT_OK);
    CHECK_STR_EQ(ptu_addr_format(&a, f, sizeof f), "0.0.0.0:53");
    CHECK_EQ_INT(ptu_addr_parse(":53", 0, &a, e, sizeof e), PT_EINVAL);
    CHECK_STR_CONTAINS(e, "missing host");
    CHECK_EQ_INT(ptu_addr_parse("localhost:7", 0, &a, e, sizeof e), PT_OK);
    CHECK_EQ_INT(a.port, 7);
    CHECK_EQ_INT(ptu_addr_parse("no-such-host.invalid:7", 0, &a, e, sizeof e), PT_EINVAL);
    CHECK_STR_CONTAINS(e, "cannot resolve");
    CHECK_EQ_INT(ptu_addr_parse("1.2.3.4:65536", 0, &a, e, sizeof e), PT_EINVAL);
    CHECK_STR_CONTAINS(e, "port must be 0..65535");
    CHECK_EQ_INT(ptu_addr_parse("fe80::1:5", 0, &a, e, sizeof e), PT_EINVAL);
    CHECK_STR_CONTAINS(e, "brackets");
}

TEST(sockaddr_conversion_maps_ipv4_into_ipv6)
{
    pt_addr a, back;
    struct sockaddr_storage ss;
    char e[256];
    ptu_addr_parse("10.1.2.3:99", 0, &a, e, sizeof e);
    CHECK(ptu_addr_to_sockaddr(&a, AF_INET, &ss) > 0);
    CHECK(ptu_addr_to_sockaddr(&a, AF_INET6, &ss) > 0);
    CHECK_EQ_INT(ptu_addr_from_sockaddr((struct sockaddr *)&ss, &back), PT_OK);
    CHECK_EQ_INT(back.family, PT_AF_INET);
    CHECK(memcmp(back.ip, a.ip, 4) == 0 && back.port == 99);
    ptu_addr_parse("[2001:db8::1]:5", 0, &a, e, sizeof e);
    CHECK_EQ_INT(ptu_addr_to_sockaddr(&a, AF_INET, &ss), 0);
}

static const pt_option_doc docs[] = {
    { "alpha", "X", "a-default", "first" },
    { "beta", "Y", NULL, "second" },
    { NULL, NULL, NULL, NULL },
};

TEST(options_are_checked_against_their_docs)
{
    char e[256];
    pt_option ok[] = { { "alpha", "1" }, { "beta", "2" } };
    CHECK_EQ_INT(ptu_options_check("t", ok, 2, docs, e, sizeof e), PT_OK);
    CHECK_STR_EQ(ptu_option_get(ok, 2, docs, "beta"), "2");
    CHECK_STR_EQ(ptu_option_get(NULL, 0, docs, "alpha"), "a-default");
    CHECK(ptu_option_get(NULL, 0, docs, "beta") == NULL);
    pt_option unknown[] = { { "gamma", "1" } };
    CHECK_EQ_INT(ptu_options_check("t", unknown, 1, docs, e, sizeof e), PT_EOPTION);
    CHECK_STR_EQ(e, "t: unknown option \"gamma\" (known: alpha, beta)");
    pt_option odd[] = { { "bad\x01key\n", "1" } };
    CHECK_EQ_INT(ptu_options_check("t", odd, 1, docs, e, sizeof e), PT_EOPTION);
    CHECK_STR_CONTAINS(e, "unknown option \"bad?key?\"");
    pt_option twice[] = { { "beta", "1" }, { "beta", "2" } };
    CHECK_EQ_INT(ptu_options_check("t", twice, 2, docs, e, sizeof e), PT_EOPTION);
    CHECK_STR_CONTAINS(e, "given twice");
    pt_option nullval[] = { { "alpha", NULL } };
    CHECK_EQ_INT(ptu_options_check("t", nullval, 1, docs, e, sizeof e), PT_EOPTION);
    CHECK_EQ_INT(ptu_options_check("t", NULL, 1, docs, e, sizeof e), PT_EINVAL);
}

TEST(error_buffers_may_be_absent)
{
    char small[8];
    CHECK_EQ_INT(ptu_err(NULL, 0, PT_EIO, "x %d", 1), PT_EIO);
    CHECK_EQ_INT(ptu_err(small, sizeof small, PT_EINVAL, "%s", "truncated message"), PT_EINVAL);
    CHECK_STR_EQ(small, "truncat");
}

static uint64_t raw_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

TEST(clock_is_the_monotonic_clock_in_both_units)
{
    /* Read between two readings of CLOCK_MONOTONIC itself: another clock
     * (CLOCK_REALTIME, a wrong scale) lands outside. */
    uint64_t before = raw_monotonic_ns();
    uint64_t ns = ptu_now_ns();
    int64_t ms = ptu_now_ms();
    uint64_t after = raw_monotonic_ns();
    CHECK(before <= ns && ns <= after);
    CHECK((uint64_t)ms >= before / 1000000u && (uint64_t)ms <= after / 1000000u);
}

TEST(clock_never_goes_back_and_advances_across_a_sleep)
{
    int64_t ms0 = ptu_now_ms(), prev_ms = ms0;
    uint64_t prev_ns = ptu_now_ns();
    for (int i = 0; i < 100000; i++) {
        uint64_t ns = ptu_now_ns();
        int64_t ms = ptu_now_ms();
        CHECK(ns >= prev_ns && ms >= prev_ms);
        if (ns < prev_ns || ms < prev_ms)
            break;
        prev_ns = ns;
        prev_ms = ms;
    }
    struct timespec nap = { 0, 20 * 1000000 };
    while (nanosleep(&nap, &nap) != 0)
        ;
    CHECK(ptu_now_ms() - ms0 >= 20);
}

TEST(printable_keeps_printable_ascii_and_cuts_visibly)
{
    static const struct {
        const char *in;
        size_t n, cap;
        const char *want;
    } t[] = {
        { "", 0, 16, "" },
        { "auth_ok", 7, 16, "auth_ok" },
        { " ~", 2, 16, " ~" },                          /* the ends of the range */
        { "\x01\x1f\x7f\x80\xff\n", 6, 16, "??????" },  /* nothing printable */
        { "a\0b", 3, 16, "a?b" },                       /* a NUL is a byte like others */
        { "caf\xc3\xa9", 5, 16, "caf??" },              /* UTF-8 is not ASCII */
        { "abcd", 4, 8, "abcd" },                       /* exactly cap - 4: whole */
        { "abcde", 5, 8, "abcd..." },                   /* one more: cut, and shown cut */
        { "abcdefghijklmnop", 16, 8, "abcd..." },
        { "a\x01" "cdefgh", 8, 8, "a?cd..." },
        { "abc", 3, 5, "a..." },
        { "a", 1, 4, "..." },                           /* no room for text */
        { "ab", 2, 3, ".." },
        { "ab", 2, 1, "" },
        { "abcdef", 2, 16, "ab" },                      /* only the first n bytes count */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char out[32];
        memset(out, 'X', sizeof out);
        CHECK(ptu_printable(out, t[i].cap, t[i].in, t[i].n) == out);
        CHECK_STR_EQ(out, t[i].want);
    }
}

TEST(printable_tolerates_absent_buffers)
{
    char out[8] = "XYZ";
    CHECK(ptu_printable(NULL, 8, "abc", 3) == NULL);
    CHECK(ptu_printable(out, 0, "abc", 3) == out);
    CHECK_STR_EQ(out, "XYZ"); /* cap 0: nothing written */
    CHECK_STR_EQ(ptu_printable(out, sizeof out, NULL, 0), "");
}

TEST(url_password_is_found_erring_towards_hiding)
{
    static const struct {
        const char *url, *pw; /* pw NULL: no password */
    } t[] = {
        { "http://alice:s3cret@proxy:3128", "s3cret" },
        { "http://alice:@proxy", "" },                  /* empty, but there */
        { "http://:s3cret@proxy", "s3cret" },
        { "HTTP+x.y-z://u:p@h", "p" },                  /* every scheme character */
        { "http://alice:p@ss@proxy", "p@ss" },          /* up to the last '@' */
        { "http://alice:a/b?c#d@proxy/x", "a/b?c#d" },
        { "http://alice:p%40ss@proxy", "p%40ss" },      /* as written, not decoded */
        { "http://alice:pw@proxy/a://b", "pw" },
        { "alice:s3cret@proxy:3128", "s3cret" },        /* no scheme */
        { "alice:s3cret@h/x://y", "s3cret" },           /* "://" late: not a scheme */
        { "1http://a:b@c", "//a:b" },                   /* not a scheme: hide more */
        { "://a:b@c", "//a:b" },
        { "http://h:8080/p@x", "8080/p" },              /* '@' in the path: hide more */
        { "wss://b.example/a@b", NULL },                /* '@' in the path, no ':' */
        { "http://alice@proxy", NULL },
        { "http://proxy.example:3128/", NULL },
        { "auto", NULL },
        { "", NULL },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t off = 999, len = 999;
        int found = ptu_url_password(t[i].url, &off, &len);
        CHECK_EQ_INT(found, t[i].pw != NULL);
        if (found && t[i].pw) {
            CHECK_EQ_INT(len, strlen(t[i].pw));
            CHECK(off + len <= strlen(t[i].url) && strncmp(t[i].url + off, t[i].pw, len) == 0);
        }
        if (!found || !t[i].pw)
            CHECK(off == 999 && len == 999); /* untouched */
    }
    size_t off, len;
    CHECK_EQ_INT(ptu_url_password(NULL, &off, &len), 0);
}

TEST(url_scrub_replaces_every_occurrence)
{
    static const struct {
        const char *url, *msg;
        size_t cap;
        const char *want;
    } t[] = {
        { "http://u:s3cret@h", "CONNECT http://u:s3cret@h: bad s3cret", 64,
          "CONNECT http://u:***@h: bad ***" },
        { "http://u:s3cret@h", "", 64, "" },
        { "http://u:s3cret@h", "nothing here", 64, "nothing here" },
        { "http://u:s3cret@h", "s3cre", 64, "s3cre" },   /* a start alone is no match */
        { "http://u@h", "u@h", 64, "u@h" },            /* no password */
        { "http://u:@h", "u:@h", 64, "u:@h" },         /* an empty one */
        { "http://u:p%40ss@h", "p%40ss p@ss", 64, "*** p@ss" }, /* as written only */
        { "u:s3cret@h", "u:s3cret@h", 64, "u:***@h" },    /* no scheme */
        /* Shorter than "***": the message grows, up to its buffer. */
        { "http://u:pw@h", "a pw b pw", 64, "a *** b ***" },
        { "http://u:pw@h", "a pw b pw", 10, "a *** b *" }, /* the cut "p" starred */
        { "http://u:pw@h", "xpw", 4, "x**" },
        { "http://u:*@h", "a*b*", 64, "a***b***" },     /* no endless loop */
        { "http://u:ab@h", "abab", 64, "******" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char msg[64];
        memset(msg, 'X', sizeof msg);
        memcpy(msg, t[i].msg, strlen(t[i].msg) + 1);
        ptu_url_scrub(msg, t[i].cap, t[i].url);
        CHECK_STR_EQ(msg, t[i].want);
        CHECK(t[i].cap == sizeof msg || msg[t[i].cap] == 'X'); /* stayed in its buffer */
    }
    char msg[8] = "pw";
    ptu_url_scrub(NULL, 8, "http://u:pw@h");
    ptu_url_scrub(msg, 0, "http://u:pw@h");
    ptu_url_scrub(msg, sizeof msg, NULL);
    CHECK_STR_EQ(msg, "pw");
}

/* The RFC 4648 vectors, every bit pattern, and the ways lenient decoders
 * (nettle's, Go's RawStdEncoding) differ from the strict one. */
static const struct {
    const char *in;
    size_t n;
    const char *bytes; /* NULL: refused */
    size_t size;
} b64[] = {
    { "", 0, "", 0 },
    { "Zg==", 4, "f", 1 },
    { "Zm8=", 4, "fo", 2 },
    { "Zm9v", 4, "foo", 3 },
    { "Zm9vYg==", 8, "foob", 4 },
    { "Zm9vYmE=", 8, "fooba", 5 },
    { "Zm9vYmFy", 8, "foobar", 6 },
    { "AAAA", 4, "\0\0\0", 3 },
    { "+/+/", 4, "\xfb\xff\xbf", 3 },
    { "////", 4, "\xff\xff\xff", 3 },
    { "Zg", 2, NULL, 0 },          /* padding left out */
    { "Zg=", 3, NULL, 0 },
    { "Zm9vY", 5, NULL, 0 },
    { "Zh==", 4, NULL, 0 },        /* 'h' leaves bits set past the byte: not canonical */
    { "Zm9=", 4, NULL, 0 },        /* '9' likewise, with one '=' */
    { "Z===", 4, NULL, 0 },        /* three '=' */
    { "====", 4, NULL, 0 },
    { "Zg==Zg==", 8, NULL, 0 },    /* '=' before the end */
    { "Zm=v", 4, NULL, 0 },
    { " Zg=", 4, NULL, 0 },        /* whitespace anywhere */
    { "Zm9v\nYmF", 8, NULL, 0 },
    { "Zm9vYmF\n", 8, NULL, 0 },
    { "Zm9vYm\r\n", 8, NULL, 0 },
    { "Zm-_", 4, NULL, 0 },        /* the URL-safe alphabet */
    { "Zm9\0", 4, NULL, 0 },       /* a NUL inside the length */
    { "!!!!", 4, NULL, 0 },        /* nothing valid */
    { "\xff\xff\xff\xff", 4, NULL, 0 },
};

TEST(base64_check_accepts_only_the_canonical_spelling)
{
    for (size_t i = 0; i < sizeof b64 / sizeof b64[0]; i++) {
        size_t size = 999;
        int rc = ptu_base64_check(b64[i].in, b64[i].n, &size);
        CHECK_EQ_INT(rc, b64[i].bytes ? 0 : -1);
        CHECK_EQ_INT(size, b64[i].bytes ? b64[i].size : 999);
    }
    size_t size = 999;
    CHECK_EQ_INT(ptu_base64_check(NULL, 0, &size), 0);
    CHECK_EQ_INT(size, 0);
    CHECK_EQ_INT(ptu_base64_check(NULL, 4, &size), -1);
}

TEST(base64_decode_agrees_with_check)
{
    for (size_t i = 0; i < sizeof b64 / sizeof b64[0]; i++) {
        unsigned char out[16];
        size_t size = 999;
        memset(out, 0xAA, sizeof out);
        int rc = ptu_base64_decode(b64[i].in, b64[i].n, out, sizeof out, &size);
        CHECK_EQ_INT(rc, b64[i].bytes ? 0 : -1);
        if (b64[i].bytes) {
            CHECK_EQ_INT(size, b64[i].size);
            CHECK(memcmp(out, b64[i].bytes, b64[i].size) == 0);
        } else {
            CHECK_EQ_INT(size, 999);
        }
        CHECK_EQ_INT(out[b64[i].bytes ? b64[i].size : 0], 0xAA); /* nothing past the bytes */
    }
}

TEST(base64_decode_never_writes_past_its_capacity)
{
    unsigned char out[8];
    size_t size = 999;
    memset(out, 0xAA, sizeof out);
    CHECK_EQ_INT(ptu_base64_decode("Zm9vYmFy", 8, out, 5, &size), -1); /* 6 bytes into 5 */
    CHECK_EQ_INT(size, 999);
    CHECK_EQ_INT(out[0], 0xAA); /* nothing written */
    CHECK_EQ_INT(ptu_base64_decode("Zm9vYmFy", 8, out, 6, &size), 0);
    CHECK_EQ_INT(size, 6);
    CHECK(memcmp(out, "foobar", 6) == 0 && out[6] == 0xAA);
    CHECK_EQ_INT(ptu_base64_decode("Zg==", 4, NULL, 0, &size), -1);
    CHECK_EQ_INT(ptu_base64_decode("", 0, NULL, 0, &size), 0);
    CHECK_EQ_INT(size, 0);
}

/* ---- diag: the host's log callback -------------------------------------- */

/* A host logger that keeps its lines, and holds the thread that brings a
 * line containing hold_on until released. */
#define LOGGER_LINES 64
static struct logger {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const char *hold_on;
    int held, released;
    unsigned n;
    char line[LOGGER_LINES][PT_ERRMSG_MAX];
} L = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, { "" } };

static void logger_reset(const char *hold_on)
{
    pthread_mutex_lock(&L.mu);
    L.hold_on = hold_on;
    L.held = L.released = 0;
    L.n = 0;
    pthread_mutex_unlock(&L.mu);
}

static void logger(void *userdata, int level, const char *msg)
{
    (void)userdata;
    (void)level;
    pthread_mutex_lock(&L.mu);
    if (L.n < LOGGER_LINES)
        snprintf(L.line[L.n], sizeof L.line[0], "%s", msg);
    L.n++;
    if (L.hold_on && !L.released && strstr(msg, L.hold_on)) {
        L.held = 1;
        pthread_cond_broadcast(&L.cv);
        while (!L.released)
            pthread_cond_wait(&L.cv, &L.mu);
    }
    pthread_mutex_unlock(&L.mu);
}

static void logger_release(void)
{
    pthread_mutex_lock(&L.mu);
    L.released = 1;
    pthread_cond_broadcast(&L.cv);
    pthread_mutex_unlock(&L.mu);
}

static unsigned logger_lines(void)
{
    pthread_mutex_lock(&L.mu);
    unsigned n = L.n;
    pthread_mutex_unlock(&L.mu);
    return n;
}

static void diag_with_logger(ptu_diag *d, int level)
{
    pt_dial_params p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.log = logger;
    p.log_level = level;
    ptu_diag_init(d, &p);
}

TEST(diag_log_and_fail_reach_the_logger_at_once)
{
    ptu_diag d;
    char msg[64];
    logger_reset(NULL);
    diag_with_logger(&d, PT_LOG_INFO);
    ptu_diag_log(&d, PT_LOG_INFO, "one %d", 1);
    ptu_diag_log(&d, PT_LOG_DEBUG, "not at this level");
    CHECK_EQ_INT(ptu_diag_fail(&d, PT_EIO, "two"), PT_EIO);
    CHECK_EQ_INT(logger_lines(), 2);
    CHECK_STR_EQ(L.line[0], "one 1");
    CHECK_STR_EQ(L.line[1], "two");
    CHECK_EQ_INT(ptu_diag_get(&d, msg, sizeof msg), PT_EIO);
    CHECK_STR_EQ(msg, "two");
    ptu_diag_destroy(&d);
}

TEST(diag_lines_recorded_later_wait_for_a_flush_in_order)
{
    ptu_diag d;
    logger_reset(NULL);
    diag_with_logger(&d, PT_LOG_WARN);
    ptu_diag_log_later(&d, PT_LOG_WARN, "a");
    CHECK_EQ_INT(ptu_diag_fail_later(&d, PT_ETIMEDOUT, "b"), PT_ETIMEDOUT);
    ptu_diag_log_later(&d, PT_LOG_INFO, "below the level: never queued");
    CHECK_EQ_INT(logger_lines(), 0);
    CHECK_EQ_INT(ptu_diag_code(&d), PT_ETIMEDOUT); /* the error is there at once */
    ptu_diag_flush(&d);
    CHECK_EQ_INT(logger_lines(), 2);
    CHECK_STR_EQ(L.line[0], "a");
    CHECK_STR_EQ(L.line[1], "b");
    ptu_diag_flush(&d);
    CHECK_EQ_INT(logger_lines(), 2);
    ptu_diag_destroy(&d);
}

static void *log_first(void *arg)
{
    ptu_diag_log(arg, PT_LOG_WARN, "first: the logger holds this one");
    return NULL;
}

/* A thread held in a slow logger: another thread's log call returns at
 * once, and its line is logged by the held thread when it is released, in
 * order; a full queue counts the lines it could not keep. */
TEST(diag_a_slow_logger_holds_up_only_the_thread_in_it)
{
    ptu_diag d;
    pthread_t t;
    logger_reset("first");
    diag_with_logger(&d, PT_LOG_WARN);
    CHECK_EQ_INT(pthread_create(&t, NULL, log_first, &d), 0);
    pthread_mutex_lock(&L.mu);
    while (!L.held)
        pthread_cond_wait(&L.cv, &L.mu);
    pthread_mutex_unlock(&L.mu);
    ptu_diag_log(&d, PT_LOG_WARN, "second"); /* returns: the other thread logs it */
    for (int i = 0; i < PTU_DIAG_QUEUE + 3; i++)
        ptu_diag_log(&d, PT_LOG_WARN, "more %d", i);
    CHECK_EQ_INT(logger_lines(), 1);
    logger_release();
    pthread_join(t, NULL);
    CHECK_EQ_INT(logger_lines(), 1 + PTU_DIAG_QUEUE + 1);
    CHECK_STR_EQ(L.line[1], "second");
    CHECK_STR_EQ(L.line[2], "more 0");
    CHECK_STR_EQ(L.line[PTU_DIAG_QUEUE], "more 14");
    CHECK_STR_EQ(L.line[PTU_DIAG_QUEUE + 1],
                 "log: 4 lines dropped while the host's log callback was busy");
    ptu_diag_destroy(&d);
}

/* The count a line of a repeated warning stands for: its N, or 1. */
static uint64_t repeat_count(const char *line)
{
    const char *p = strstr(line, "frames dropped: ");
    return p ? strtoull(p + strlen("frames dropped: "), NULL, 10) : 1;
}

TEST(diag_a_repeated_warning_is_one_line_a_second_and_the_counts_add_up)
{
    ptu_diag d;
    ptu_diag_repeat r;
    char msg[64];
    const int64_t t0 = 5000000;
    logger_reset(NULL);
    diag_with_logger(&d, PT_LOG_WARN);
    ptu_diag_repeat_init(&r, "wss: inbound frames dropped");
    /* The first at once, as it is; the rest of the second counted. */
    for (int i = 0; i < 1000; i++) {
        snprintf(msg, sizeof msg, "frame %d discarded", i);
        ptu_diag_repeat_note(&d, &r, t0 + i, PT_ETOOLARGE, msg);
    }
    ptu_diag_flush(&d);
    CHECK_EQ_INT(logger_lines(), 1);
    CHECK_STR_EQ(L.line[0], "frame 0 discarded");
    CHECK_EQ_INT(ptu_diag_get(&d, msg, sizeof msg), PT_ETOOLARGE);
    CHECK_STR_EQ(msg, "frame 999 discarded"); /* the last error, every time */
    CHECK_EQ_INT(ptu_diag_repeat_note(&d, &r, t0 + 999, PT_OK, "not an error"), PT_OK);
    CHECK_EQ_INT(ptu_diag_get(&d, msg, sizeof msg), PT_ETOOLARGE); /* kept */
    ptu_diag_repeat_tick(&d, &r, t0 + 999, 0);
    ptu_diag_flush(&d);
    CHECK_EQ_INT(logger_lines(), 1);
    /* A second after the first line: the sum. */
    ptu_diag_repeat_note(&d, &r, t0 + 1000, PT_ETOOLARGE, "frame 1000 discarded");
    ptu_diag_flush(&d);
    CHECK_EQ_INT(logger_lines(), 2);
    CHECK_STR_EQ(L.line[1], "wss: inbound frames dropped: 1001 in the last 1.0 s (the last: "
                            "frame 1000 discarded)");
    /* Two more, then quiet: the keeper's tick sums them up a second on. */
    ptu_diag_repeat_note(&d, &r, t0 + 1500, PT_OK, "frame 1001 discarded");
    ptu_diag_repeat_note(&d, &r, t0 + 1600, PT_OK, "frame 1002 discarded");
    ptu_diag_repeat_tick(&d, &r, t0 + 2000, 0);
    ptu_diag_flush(&d);
    CHECK_EQ_INT(logger_lines(), 3);
    CHECK_STR_CONTAINS(L.line[2], "dropped: 2 in the last 1.0 s (the last: frame 1002");
    /* One after a quiet second: as it is. */
    ptu_diag_repeat_note(&d, &r, t0 + 9000, PT_OK, "frame 1003 discarded");
    /* One right after it, forced out (at close). */
    ptu_diag_repeat_note(&d, &r, t0 + 9001, PT_OK, "frame 1004 discarded");
    ptu_diag_repeat_tick(&d, &r, t0 + 9002, 1);
    ptu_diag_repeat_tick(&d, &r, t0 + 9003, 1); /* nothing pending: no line */
    ptu_diag_flush(&d);
    CHECK_EQ_INT(logger_lines(), 5);
    CHECK_STR_EQ(L.line[3], "frame 1003 discarded");
    CHECK_STR_EQ(L.line[4], "frame 1004 discarded"); /* one pending: its detail */
    uint64_t sum = 0;
    for (unsigned i = 0; i < logger_lines(); i++)
        sum += repeat_count(L.line[i]);
    CHECK_EQ_INT(sum, 1006);
    ptu_diag_destroy(&d);
}

TEST(diag_a_repeated_warning_waits_for_room_in_the_queue)
{
    ptu_diag d;
    ptu_diag_repeat r;
    logger_reset(NULL);
    diag_with_logger(&d, PT_LOG_WARN);
    ptu_diag_repeat_init(&r, "wss: inbound frames dropped");
    for (int i = 0; i < PTU_DIAG_QUEUE; i++) /* a logger that has not run */
        ptu_diag_log_later(&d, PT_LOG_WARN, "filler");
    ptu_diag_repeat_note(&d, &r, 0, PT_OK, "dropped");
    ptu_diag_repeat_note(&d, &r, 2000, PT_OK, "dropped");
    ptu_diag_repeat_tick(&d, &r, 4000, 1);
    ptu_diag_flush(&d); /* room again */
    ptu_diag_repeat_tick(&d, &r, 4001, 1);
    ptu_diag_flush(&d);
    CHECK_EQ_INT(logger_lines(), PTU_DIAG_QUEUE + 1);
    CHECK_STR_CONTAINS(L.line[PTU_DIAG_QUEUE], "dropped: 2 in the last 4.0 s");
    ptu_diag_destroy(&d);
}

/* ---- Command lines without a shell ------------------------------------- */

static char cl_buf[256];
static char *cl_argv[8];
static size_t cl_argc;
static const char *cl_why;

static int split(const char *s)
{
    cl_why = NULL;
    return ptu_cmdline_split(s, cl_buf, sizeof cl_buf, cl_argv, 8, &cl_argc, &cl_why);
}

TEST(cmdline_splits_words_and_quotes_like_a_shell)
{
    CHECK_EQ_INT(split("  cat\t/etc/proxy  "), 0);
    CHECK_EQ_INT(cl_argc, 2);
    CHECK_STR_EQ(cl_argv[0], "cat");
    CHECK_STR_EQ(cl_argv[1], "/etc/proxy");
    CHECK(cl_argv[2] == NULL);
    CHECK_EQ_INT(split("sh -c 'pass show p | head -n 1'"), 0);
    CHECK_EQ_INT(cl_argc, 3);
    CHECK_STR_EQ(cl_argv[2], "pass show p | head -n 1");
    CHECK_EQ_INT(split("a\\ b \"x \\\" y\"z ''"), 0);
    CHECK_EQ_INT(cl_argc, 3);
    CHECK_STR_EQ(cl_argv[0], "a b");
    CHECK_STR_EQ(cl_argv[1], "x \" yz");
    CHECK_STR_EQ(cl_argv[2], "");
    /* A backslash before another character inside "..." stays. */
    CHECK_EQ_INT(split("\"a\\nb\""), 0);
    CHECK_STR_EQ(cl_argv[0], "a\\nb");
    /* The longest input fits in strlen + 1. */
    char big[sizeof cl_buf + 1];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0'; /* strlen == cap: no room for the NUL */
    CHECK_EQ_INT(split(big), -1);
    CHECK_STR_EQ(cl_why, "it is too long");
    big[sizeof big - 2] = '\0';
    CHECK_EQ_INT(split(big), 0);
}

TEST(cmdline_refusals_say_why)
{
    CHECK_EQ_INT(split(""), -1);
    CHECK_STR_EQ(cl_why, "it is empty");
    CHECK_EQ_INT(split(" \t "), -1);
    CHECK_EQ_INT(split("sh -c 'x"), -1);
    CHECK_STR_EQ(cl_why, "a single quote is not closed");
    CHECK_EQ_INT(split("echo \"x"), -1);
    CHECK_STR_EQ(cl_why, "a double quote is not closed");
    CHECK_EQ_INT(split("echo x\\"), -1);
    CHECK_STR_EQ(cl_why, "it ends in a backslash");
    const char *ops[] = { "a | b", "a&", "a;b", "a<b", "a>b", "(a)", "echo $HOME", "echo `id`" };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        CHECK_EQ_INT(split(ops[i]), -1);
        CHECK_STR_CONTAINS(cl_why, "no shell runs it");
    }
    /* Quoted, they are plain characters. */
    CHECK_EQ_INT(split("echo '$HOME|x' \\;"), 0);
    CHECK_STR_EQ(cl_argv[1], "$HOME|x");
    CHECK_STR_EQ(cl_argv[2], ";");
    CHECK_EQ_INT(split("1 2 3 4 5 6 7"), 0);
    CHECK_EQ_INT(split("1 2 3 4 5 6 7 8"), -1);
    CHECK_STR_EQ(cl_why, "it has too many words");
}

TEST(scrub_replaces_a_literal_secret)
{
    char msg[64] = "pw=hunter22 and hunter22";
    ptu_scrub(msg, sizeof msg, "hunter22", 8);
    CHECK_STR_EQ(msg, "pw=*** and ***");
    ptu_scrub(msg, sizeof msg, NULL, 3);
    ptu_scrub(NULL, 3, "x", 1);
    CHECK_STR_EQ(msg, "pw=*** and ***");
}

int main(void)
{
    RUN(integers_parse_strictly);
    RUN(durations_parse_like_go);
    RUN(booleans_parse);
    RUN(addresses_parse_in_every_form);
    RUN(sockaddr_conversion_maps_ipv4_into_ipv6);
    RUN(options_are_checked_against_their_docs);
    RUN(error_buffers_may_be_absent);
    RUN(clock_is_the_monotonic_clock_in_both_units);
    RUN(clock_never_goes_back_and_advances_across_a_sleep);
    RUN(printable_keeps_printable_ascii_and_cuts_visibly);
    RUN(printable_tolerates_absent_buffers);
    RUN(url_password_is_found_erring_towards_hiding);
    RUN(url_scrub_replaces_every_occurrence);
    RUN(base64_check_accepts_only_the_canonical_spelling);
    RUN(base64_decode_agrees_with_check);
    RUN(base64_decode_never_writes_past_its_capacity);
    RUN(diag_log_and_fail_reach_the_logger_at_once);
    RUN(diag_lines_recorded_later_wait_for_a_flush_in_order);
    RUN(diag_a_slow_logger_holds_up_only_the_thread_in_it);
    RUN(diag_a_repeated_warning_is_one_line_a_second_and_the_counts_add_up);
    RUN(diag_a_repeated_warning_waits_for_room_in_the_queue);
    RUN(cmdline_splits_words_and_quotes_like_a_shell);
    RUN(cmdline_refusals_say_why);
    RUN(scrub_replaces_a_literal_secret);
    return tap_done();
}
