/*
 * liar.c -- a transport plugin for testing pilot-transport-conformance:
 * an in-process loopback (every datagram a connection sends comes back to
 * it, whatever the destination) that keeps every promise of
 * pilot_transport.h, except those its option "lie" tells it to break:
 *
 *   len0           send(len 0) returns 0 instead of PT_EINVAL
 *   stats-overrun  stats writes the whole 1.0 struct whatever struct_size
 *                  says, and reports 64
 *   close-no-wake  close does not wake a recv or recv_many blocked in
 *                  another thread (they sleep on until a datagram comes)
 *   crash          local_addr(c, NULL) dies with SIGSEGV
 *   hang           probe with a readable cancel_fd never returns
 *
 * "lie=none" (the default) breaks nothing: the suite must pass it, which
 * shows that its checks hold a correct plugin to nothing the header does
 * not promise.  Several lies are separated by commas.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "counters.h"
#include "diag.h"
#include "options.h"
#include "pilot_transport.h"
#include "util.h"

enum {
    LIE_LEN0 = 1 << 0,
    LIE_STATS_OVERRUN = 1 << 1,
    LIE_CLOSE_NO_WAKE = 1 << 2,
    LIE_CRASH = 1 << 3,
    LIE_HANG = 1 << 4,
};

#define QUEUE 256

struct pt_conn {
    pthread_mutex_t lock;
    pthread_cond_t cond;      /* a datagram came, or close */
    struct { unsigned char *data; size_t len; } q[QUEUE];
    unsigned head, count;
    int closed;
    int ready_fd;             /* eventfd: readable while count > 0 or closed */
    int signalled;            /* whether ready_fd holds a count now */
    pt_addr local;
    unsigned lies;
    ptu_counters n;
    ptu_diag diag;
};

static const pt_option_doc liar_options[] = {
    { "lie", "none|LIE[,LIE...]", "none",
      "promises to break: len0, stats-overrun, close-no-wake, crash, hang" },
    { NULL, NULL, NULL, NULL },
};

static int parse_lies(const char *s, unsigned *out, char *err, size_t errlen)
{
    static const struct { const char *name; unsigned bit; } names[] = {
        { "none", 0 }, { "len0", LIE_LEN0 }, { "stats-overrun", LIE_STATS_OVERRUN },
        { "close-no-wake", LIE_CLOSE_NO_WAKE }, { "crash", LIE_CRASH }, { "hang", LIE_HANG },
    };
    *out = 0;
    while (s && *s) {
        size_t n = strcspn(s, ","), i;
        for (i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == n && strncmp(s, names[i].name, n) == 0)
                break;
        if (i == sizeof names / sizeof names[0])
            return ptu_err(err, errlen, PT_EOPTION, "liar: option \"lie\": unknown lie \"%.*s\"",
                           (int)n, s);
        *out |= names[i].bit;
        s += n + (s[n] == ',');
    }
    return PT_OK;
}

/* Options and cancel_fd, as dial and probe read them. */
static int check_params(const pt_dial_params *params, unsigned *lies, char *err, size_t errlen)
{
    if (!params || params->struct_size < PT_DIAL_PARAMS_SIZE_1_0)
        return ptu_err(err, errlen, PT_EINVAL, "liar: missing or too small dial parameters");
    if (!params->options && params->n_options)
        return ptu_err(err, errlen, PT_EINVAL, "liar: options NULL, n_options %zu",
                       params->n_options);
    int rc = ptu_options_check("liar", params->options, params->n_options, liar_options, err,
                               errlen);
    if (rc != PT_OK)
        return rc;
    rc = parse_lies(ptu_option_get(params->options, params->n_options, liar_options, "lie"),
                    lies, err, errlen);
    if (rc != PT_OK)
        return rc;
    return PT_OK;
}

static int cancelled(const pt_dial_params *params)
{
    if (!PT_HAS_FIELD(params, pt_dial_params, cancel_fd) || params->abi_minor < 2 ||
        params->cancel_fd < 0)
        return 0;
    struct pollfd p = { params->cancel_fd, POLLIN, 0 };
    return poll(&p, 1, 0) > 0;
}

static int liar_dial(const pt_dial_params *params, pt_conn **out, char *err, size_t errlen)
{
    static atomic_uint next_port = 40000; /* made-up ports, one per connection */
    unsigned lies;
    pt_conn *c;
    int rc;

    if (!out)
        return ptu_err(err, errlen, PT_EINVAL, "liar dial: out is NULL");
    *out = NULL;
    if ((rc = check_params(params, &lies, err, errlen)) != PT_OK)
        return rc;
    if (cancelled(params))
        return ptu_err(err, errlen, PT_ECLOSED, "liar dial: cancelled");
    c = calloc(1, sizeof *c);
    if (!c)
        return ptu_err(err, errlen, PT_ENOMEM, "liar dial: out of memory");
    c->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->ready_fd < 0) {
        free(c);
        return ptu_err(err, errlen, PT_EIO, "liar dial: eventfd: %s", strerror(errno));
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&c->lock, NULL);
    ptu_addr_ipv4(&c->local, 127, 0, 0, 2, (uint16_t)atomic_fetch_add(&next_port, 1));
    c->lies = lies;
    ptu_diag_init(&c->diag, params);
    *out = c;
    return PT_OK;
}

/* ready_fd follows the queue and the closed flag; lock held. */
static void update_ready(pt_conn *c)
{
    int want = c->closed || c->count > 0;
    uint64_t v = 1;
    if (want && !c->signalled && write(c->ready_fd, &v, sizeof v) == sizeof v)
        c->signalled = 1;
    else if (!want && c->signalled && read(c->ready_fd, &v, sizeof v) == sizeof v)
        c->signalled = 0;
}

/* What send refuses; honest unless lies says otherwise.  Returns PT_OK,
 * 1 for the len0 lie (send returns 0), or the error. */
static int check_frame(pt_conn *c, const void *buf, size_t len, const pt_addr *dst,
                       unsigned lies)
{
    if (!buf)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "liar send: buf is NULL");
    if (len == 0)
        return lies & LIE_LEN0 ? 1 : ptu_diag_fail(&c->diag, PT_EINVAL, "liar send: len 0");
    if (len > PT_MAX_FRAME)
        return ptu_diag_fail(&c->diag, PT_ETOOLARGE, "liar send: %zu bytes is over %d", len,
                             PT_MAX_FRAME);
    if (!dst || (dst->family != PT_AF_INET && dst->family != PT_AF_INET6))
        return ptu_diag_fail(&c->diag, PT_EINVAL, "liar send: no destination address");
    return PT_OK;
}

/* Queue a copy for this connection's own recv (the loopback). */
static int deliver(pt_conn *c, const void *buf, size_t len)
{
    unsigned char *copy = malloc(len);
    if (!copy)
        return ptu_diag_fail(&c->diag, PT_ENOMEM, "liar send: out of memory");
    memcpy(copy, buf, len);
    pthread_mutex_lock(&c->lock);
    if (c->closed) {
        pthread_mutex_unlock(&c->lock);
        free(copy);
        return PT_ECLOSED;
    }
    if (c->count == QUEUE) {
        ptu_counters_bump(&c->n.dropped_in); /* as the network would */
        free(copy);
    } else {
        unsigned at = (c->head + c->count++) % QUEUE;
        c->q[at].data = copy;
        c->q[at].len = len;
        update_ready(c);
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->lock);
    ptu_counters_out(&c->n, len);
    return (int)len;
}

static int is_closed(pt_conn *c)
{
    pthread_mutex_lock(&c->lock);
    int closed = c->closed;
    pthread_mutex_unlock(&c->lock);
    return closed;
}

static int liar_send(pt_conn *c, const void *buf, size_t len, const pt_addr *dst)
{
    if (!c)
        return PT_EINVAL;
    if (is_closed(c))
        return PT_ECLOSED;
    int rc = check_frame(c, buf, len, dst, c->lies);
    if (rc != PT_OK)
        return rc == 1 ? 0 : rc;
    return deliver(c, buf, len);
}

/* Frames go one by one, as n sends would: a frame send refuses stops the
 * call part way (unlike the UDP plugin, which refuses all before any). */
static int liar_send_many(pt_conn *c, const pt_frame *f, size_t n)
{
    if (!c || (!f && n) || n > INT_MAX)
        return PT_EINVAL;
    if (is_closed(c))
        return PT_ECLOSED;
    for (size_t i = 0; i < n; i++) {
        if (!f[i].data)
            return ptu_diag_fail(&c->diag, PT_EINVAL, "liar send_many: frame %zu: data NULL", i);
        if (f[i].len > PT_MAX_FRAME)
            return ptu_diag_fail(&c->diag, PT_ETOOLARGE, "liar send_many: frame %zu too large",
                                 i);
    }
    for (size_t i = 0; i < n; i++) {
        int rc = check_frame(c, f[i].data, f[i].len, f[i].dst, 0);
        if (rc == PT_OK)
            rc = deliver(c, f[i].data, f[i].len);
        if (rc < 0)
            return i > 0 ? (int)i : rc;
    }
    return (int)n;
}

/* Wait until a datagram is queued or the connection closed; lock held.
 * Returns PT_OK, PT_ECLOSED or PT_ETIMEDOUT. */
static int wait_ready(pt_conn *c, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (timeout_ms > 0) {
        ts.tv_sec += timeout_ms / 1000;
        ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
    }
    /* close-no-wake: a waiter does not look at closed again, as if close
     * had never signalled it; only a datagram wakes it. */
    int no_wake = c->lies & LIE_CLOSE_NO_WAKE, saw_closed = c->closed;
    for (;;) {
        if (no_wake ? saw_closed : c->closed)
            return PT_ECLOSED;
        if (c->count > 0)
            return PT_OK;
        if (timeout_ms == 0)
            return PT_ETIMEDOUT;
        if (timeout_ms < 0) {
            pthread_cond_wait(&c->cond, &c->lock);
        } else if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT) {
            if (c->count > 0)
                return PT_OK;
            return !no_wake && c->closed ? PT_ECLOSED : PT_ETIMEDOUT;
        }
    }
}

/* Take the oldest datagram into buf (cap); lock held, one is queued.
 * Returns its length or PT_ETOOLARGE (discarded). */
static int take(pt_conn *c, void *buf, size_t cap, pt_addr *src)
{
    unsigned char *data = c->q[c->head].data;
    size_t len = c->q[c->head].len;
    c->head = (c->head + 1) % QUEUE;
    c->count--;
    update_ready(c);
    if (src)
        *src = c->local;
    if (len > cap) {
        free(data);
        ptu_counters_bump(&c->n.dropped_in);
        return ptu_diag_fail_later(&c->diag, PT_ETOOLARGE,
                                   "liar recv: %zu-byte datagram discarded: buffer holds %zu",
                                   len, cap);
    }
    memcpy(buf, data, len);
    free(data);
    ptu_counters_in(&c->n, len);
    return (int)len;
}

static int liar_recv(pt_conn *c, void *buf, size_t cap, pt_addr *src, int timeout_ms)
{
    if (!c)
        return PT_EINVAL;
    if (!buf)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "liar recv: buf is NULL");
    pthread_mutex_lock(&c->lock);
    int rc = wait_ready(c, timeout_ms);
    if (rc == PT_OK)
        rc = take(c, buf, cap, src);
    pthread_mutex_unlock(&c->lock);
    ptu_diag_flush(&c->diag);
    return rc;
}

static int liar_recv_many(pt_conn *c, pt_rframe *f, size_t n, int timeout_ms)
{
    size_t got = 0;
    if (!c)
        return PT_EINVAL;
    if (!f || n == 0 || n > INT_MAX)
        return ptu_diag_fail(&c->diag, PT_EINVAL, "liar recv_many: no frames");
    for (size_t i = 0; i < n; i++)
        if (!f[i].data)
            return ptu_diag_fail(&c->diag, PT_EINVAL, "liar recv_many: slot %zu: data NULL", i);
    pthread_mutex_lock(&c->lock);
    int rc = wait_ready(c, timeout_ms);
    while (rc == PT_OK && got < n && c->count > 0) {
        f[got].len = take(c, f[got].data, f[got].cap, &f[got].src);
        got++;
    }
    pthread_mutex_unlock(&c->lock);
    ptu_diag_flush(&c->diag);
    return got > 0 ? (int)got : rc;
}

static int liar_close(pt_conn *c)
{
    if (!c)
        return PT_EINVAL;
    pthread_mutex_lock(&c->lock);
    if (!c->closed) {
        c->closed = 1;
        update_ready(c);
        if (!(c->lies & LIE_CLOSE_NO_WAKE))
            pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->lock);
    return PT_OK;
}

static int liar_local_addr(pt_conn *c, pt_addr *out)
{
    if (c && !out && (c->lies & LIE_CRASH)) {
        /* Die of the signal itself, also where a sanitizer's handler
         * would turn it into a report and exit status 1. */
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    if (!c || !out)
        return PT_EINVAL;
    *out = c->local;
    return PT_OK;
}

static int liar_poll_fd(pt_conn *c)
{
    return c ? c->ready_fd : PT_EINVAL;
}

static int liar_stats(pt_conn *c, pt_stats *out)
{
    if (!c || !out)
        return PT_EINVAL;
    int state = is_closed(c) ? PT_STATE_CLOSED : PT_STATE_CONNECTED;
    if (!(c->lies & LIE_STATS_OVERRUN))
        return ptu_counters_report(&c->n, state, ptu_diag_code(&c->diag), out);
    if (out->struct_size < 4)
        return PT_EINVAL;
    pt_stats all;
    all.struct_size = sizeof all;
    ptu_counters_report(&c->n, state, ptu_diag_code(&c->diag), &all);
    memcpy(out, &all, sizeof all); /* the lie: whatever the caller's size */
    return PT_OK;
}

static int liar_last_error(pt_conn *c, char *buf, size_t len)
{
    if (!c || (!buf && len))
        return PT_EINVAL;
    return ptu_diag_get(&c->diag, buf, len);
}

static void liar_free(pt_conn *c)
{
    if (!c)
        return;
    liar_close(c);
    while (c->count > 0) {
        free(c->q[c->head].data);
        c->head = (c->head + 1) % QUEUE;
        c->count--;
    }
    close(c->ready_fd);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    ptu_diag_destroy(&c->diag);
    free(c);
}

static int liar_probe(const pt_dial_params *params, int timeout_ms, char *detail,
                      size_t detail_len)
{
    unsigned lies;
    if (!detail && detail_len)
        return PT_EINVAL;
    int rc = check_params(params, &lies, detail, detail_len);
    if (rc != PT_OK)
        return rc;
    if (cancelled(params)) {
        while (lies & LIE_HANG)
            pause();
        return ptu_err(detail, detail_len, PT_ECLOSED, "liar probe: cancelled");
    }
    if (timeout_ms <= 0)
        return ptu_err(detail, detail_len, PT_EINVAL, "liar probe: timeout_ms %d", timeout_ms);
    return ptu_err(detail, detail_len, PT_OK, "liar: the in-process loopback answered");
}

static const pt_plugin liar_plugin = {
    .struct_size = sizeof(pt_plugin),
    .abi_major = PT_ABI_MAJOR,
    .abi_minor = PT_ABI_MINOR,
    .name = "liar",
    .version = "0",
    .description = "an in-process loopback that breaks the promises it is told to",
    .options = liar_options,
    .dial = liar_dial,
    .send = liar_send,
    .recv = liar_recv,
    .close = liar_close,
    .local_addr = liar_local_addr,
    .poll_fd = liar_poll_fd,
    .stats = liar_stats,
    .last_error = liar_last_error,
    .free = liar_free,
    .send_many = liar_send_many,
    .recv_many = liar_recv_many,
    .probe = liar_probe,
};

PT_EXPORT const pt_plugin *PT_ENTRY(void);
PT_EXPORT const pt_plugin *PT_ENTRY(void)
{
    return &liar_plugin;
}
