/*
 * check_probe.c -- probe (ABI 1.2) and cancel_fd: detail buffers of every
 * size (NULL only with length 0), bad parameters, an answer within the
 * budget with a code probe may return, and a readable cancel_fd making
 * probe and dial return PT_ECLOSED at once.
 */
#include "config.h"

#include "conformance.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define GUARD 0x3c
#define UNKNOWN_KEY "conformance-no-such-option"
#define BUDGET_MS 2000

/* The codes probe may return. */
static int probe_code(int rc)
{
    switch (rc) {
    case PT_OK: case PT_ETIMEDOUT: case PT_EPROXY: case PT_ETLS: case PT_EIO:
    case PT_EPROTO: case PT_EOPTION: case PT_ECLOSED: case PT_ENOMEM: case PT_EINVAL:
        return 1;
    default:
        return 0;
    }
}

static void probe_params(struct cx *x, pt_dial_params *params, pt_identity *id,
                         pt_option *opts, const pt_option *extra, size_t n_extra)
{
    cx_params(x, params, id, x->t->node_id, opts, 65, extra, n_extra);
}

static void detail_null(struct cx *x)
{
    pt_dial_params params;
    pt_identity id;
    pt_option opts[65];
    char d[64];
    if (!CX_HAS(x, probe))
        return;
    probe_params(x, &params, &id, opts, NULL, 0);
    int rc = x->p->probe(&params, BUDGET_MS, NULL, 0);
    EXPECT(x, probe_code(rc), "probe(detail NULL, 0) returned %s, not a code probe returns",
           cx_code_name(rc));
    cx_expect_rc(x, x->p->probe(&params, BUDGET_MS, NULL, 16), PT_EINVAL,
                 "probe(detail NULL, detail_len 16)");
    cx_expect_rc(x, x->p->probe(NULL, BUDGET_MS, d, sizeof d), PT_EINVAL, "probe(params NULL)");
    ptu_wipe(&id, sizeof id);
}

static void detail_short(struct cx *x)
{
    static const size_t lens[] = { 1, 2, 8 };
    pt_dial_params params;
    pt_identity id;
    pt_option opts[65];
    if (!CX_HAS(x, probe))
        return;
    probe_params(x, &params, &id, opts, NULL, 0);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        unsigned char buf[64];
        memset(buf, GUARD, sizeof buf);
        int rc = x->p->probe(&params, BUDGET_MS, (char *)buf, lens[i]);
        EXPECT(x, probe_code(rc), "probe returned %s, not a code probe returns",
               cx_code_name(rc));
        size_t over = 0;
        for (size_t k = lens[i]; k < sizeof buf; k++)
            over += buf[k] != GUARD;
        EXPECT(x, over == 0, "detail_len %zu: %zu bytes written past it", lens[i], over);
        EXPECT(x, memchr(buf, '\0', lens[i]) != NULL, "detail_len %zu: no NUL within it",
               lens[i]);
    }
    ptu_wipe(&id, sizeof id);
}

static void answers_in_budget(struct cx *x)
{
    pt_dial_params params;
    pt_identity id;
    pt_option opts[65];
    char d[PT_ERRMSG_MAX];
    if (!CX_HAS(x, probe))
        return;
    probe_params(x, &params, &id, opts, NULL, 0);
    memset(d, 0, sizeof d);
    int64_t t0 = cx_now_ms();
    int rc = x->p->probe(&params, BUDGET_MS, d, sizeof d);
    int64_t took = cx_now_ms() - t0;
    cx_note(x, "probe with the dial options: %s in %lld ms: %s", cx_code_name(rc),
            (long long)took, d);
    EXPECT(x, probe_code(rc), "probe returned %s, not a code probe returns", cx_code_name(rc));
    EXPECT(x, took <= cx_bound_ms(x, BUDGET_MS), "probe took %lld ms with a %d ms budget",
           (long long)took, BUDGET_MS);
    EXPECT(x, d[0] != '\0', "probe returned %s with an empty detail", cx_code_name(rc));
    EXPECT(x, memchr(d, '\0', sizeof d) != NULL, "detail not NUL-terminated");
    ptu_wipe(&id, sizeof id);
}

static void unknown_option(struct cx *x)
{
    const pt_option extra = { UNKNOWN_KEY, "1" };
    pt_dial_params params;
    pt_identity id;
    pt_option opts[65];
    char d[PT_ERRMSG_MAX] = "";
    if (!CX_HAS(x, probe))
        return;
    probe_params(x, &params, &id, opts, &extra, 1);
    cx_expect_rc(x, x->p->probe(&params, BUDGET_MS, d, sizeof d), PT_EOPTION,
                 "probe(unknown option)");
    EXPECT(x, strstr(d, UNKNOWN_KEY) != NULL, "the detail does not name %s: \"%s\"",
           UNKNOWN_KEY, d);
    ptu_wipe(&id, sizeof id);
}

/* A pipe whose read end is readable: the host has cancelled. */
static int cancelled_fd(struct cx *x, int fds[2])
{
    if (pipe(fds) != 0 || write(fds[1], "x", 1) != 1) {
        cx_fail(x, "pipe: cannot make a readable descriptor");
        return -1;
    }
    return 0;
}

static void probe_cancelled(struct cx *x)
{
    pt_dial_params params;
    pt_identity id;
    pt_option opts[65];
    char d[PT_ERRMSG_MAX] = "";
    int fds[2];
    if (!CX_HAS(x, probe) || cancelled_fd(x, fds) != 0)
        return;
    probe_params(x, &params, &id, opts, NULL, 0);
    params.cancel_fd = fds[0];
    int64_t t0 = cx_now_ms();
    int rc = x->p->probe(&params, BUDGET_MS, d, sizeof d);
    int64_t took = cx_now_ms() - t0;
    if (rc == PT_EOPTION) {
        /* Options are checked first; maybe these say nothing to probe. */
        char plain[PT_ERRMSG_MAX] = "";
        params.cancel_fd = -1;
        if (x->p->probe(&params, BUDGET_MS, plain, sizeof plain) == PT_EOPTION) {
            cx_skip(x, "probe refuses these options (PT_EOPTION: %s): give it options it can "
                       "probe to check cancel_fd",
                    plain);
            goto out;
        }
    }
    cx_expect_rc(x, rc, PT_ECLOSED, "probe with a readable cancel_fd");
    EXPECT(x, took <= cx_bound_ms(x, 100), "probe took %lld ms to notice cancel_fd",
           (long long)took);
    EXPECT(x, d[0] != '\0', "the detail is empty");
out:
    ptu_wipe(&id, sizeof id);
    close(fds[0]);
    close(fds[1]);
}

static void dial_cancelled(struct cx *x)
{
    pt_dial_params params;
    pt_identity id;
    pt_option opts[65];
    char err[PT_ERRMSG_MAX] = "";
    pt_conn *c = NULL;
    int fds[2];
    if (x->t->raw->abi_minor < 2) {
        cx_skip(x, "plugin is ABI %u.%u, which has no cancel_fd", (unsigned)x->t->raw->abi_major,
                (unsigned)x->t->raw->abi_minor);
        return;
    }
    if (cancelled_fd(x, fds) != 0)
        return;
    cx_params(x, &params, &id, x->t->node_id, opts, 65, NULL, 0);
    params.cancel_fd = fds[0];
    int64_t t0 = cx_now_ms();
    int rc = x->p->dial(&params, &c, err, sizeof err);
    int64_t took = cx_now_ms() - t0;
    if (rc == PT_OK && c)
        cx_release(x, c);
    cx_expect_rc(x, rc, PT_ECLOSED, "dial with a readable cancel_fd (abi_minor 2)");
    EXPECT(x, rc == PT_OK || c == NULL, "*out is not NULL after a failed dial");
    EXPECT(x, took <= cx_bound_ms(x, 100), "dial took %lld ms to notice cancel_fd",
           (long long)took);
    ptu_wipe(&id, sizeof id);
    close(fds[0]);
    close(fds[1]);
}

const struct check checks_probe[] = {
    { "probe: detail NULL only with length 0; params NULL is PT_EINVAL", detail_null },
    { "probe: short detail buffers are NUL-terminated, never overrun", detail_short },
    { "probe: answers within its budget with a code probe returns and a detail",
      answers_in_budget },
    { "probe: an unknown option fails with PT_EOPTION naming it", unknown_option },
    { "probe: a readable cancel_fd returns PT_ECLOSED at once", probe_cancelled },
    { "cancel: dial with a readable cancel_fd returns PT_ECLOSED at once", dial_cancelled },
    { NULL, NULL },
};
