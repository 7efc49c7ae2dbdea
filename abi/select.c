/*
 * select.c -- pt_loader_select: the Pilot daemon's -transport=auto (SPEC 6),
 * decided from the udp and wss plugins' probes (pilot_transport_loader.h
 * has the four rules).
 *
 * Both probes run at once, each in a thread of its own, so the call takes
 * about one budget (timeout_ms), not two.  The probes get a copy of the
 * caller's dial parameters, as 1.2 parameters whose cancel_fd is a pipe of
 * ours; the calling thread waits on the probes' completions and on the
 * cancel_fd of the caller's parameters:
 *   - the UDP beacon answered: udp (rule 1), the compat probe is cancelled;
 *   - the compat beacon answered first: the UDP probe is still awaited,
 *     since rule 1 comes first;
 *   - the caller's cancel_fd polls readable: both probes are cancelled,
 *     awaited, and the call returns PT_ECLOSED;
 *   - a probe still running a grace period after its budget is cancelled
 *     (the plugin then returns PT_ECLOSED at once, as the ABI requires).
 * The call returns only once every probe it started has returned: the
 * probes read the caller's options, which must not go away under them.
 * Where a thread cannot be started, that probe runs in the calling thread,
 * with the caller's cancel_fd.
 *
 * The reason is one printable line.  Before it is copied out, every
 * password the inputs hold (in the options' URLs, percent-encoded or not,
 * and in the proxy variables of the environment) and every URL userinfo
 * left in the text is starred; the scratch copies are wiped.
 */
#include "config.h"

#include "pilot_transport_loader.h"
#include "quote.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 3000
/* How long past its budget a probe may run before it is cancelled. */
#define GRACE_MS 2000
/* The reason as it is put together, before it is scrubbed and cut. */
#define SCRATCH_MAX 4096

/* What became of one side's probe. */
enum job_state {
    JOB_SKIPPED,   /* the caller passed no parameters for it */
    JOB_NO_PLUGIN, /* pt_loader_open failed: rc and detail say why */
    JOB_NO_PROBE,  /* the plugin has no probe (built before 1.2) */
    JOB_RAN        /* the probe ran: rc and detail are its answer */
};

struct job {
    const char *mode;            /* "udp" or "wss" */
    const pt_dial_params *given; /* the caller's; NULL: skipped */
    int caller_cancel_fd;        /* the caller's cancel_fd, or -1 */
    pt_dial_params params;       /* what the probe gets */
    const pt_plugin *plugin;
    int timeout_ms;
    enum job_state state;
    int rc;
    char detail[PT_ERRMSG_MAX];
    pthread_t thread;
    int started;                 /* a thread runs it */
    atomic_int finished;
    int done_fd;                 /* written once when finished */
};

/* The caller's cancel_fd, when its parameters have one (minor 2 and later). */
static int cancel_fd_of(const pt_dial_params *p)
{
    if (p && PT_HAS_FIELD(p, pt_dial_params, cancel_fd) && p->abi_minor >= 2 &&
        p->cancel_fd >= 0)
        return p->cancel_fd;
    return -1;
}

/* The caller's parameters as 1.2 ones (what it did not set reads as zero),
 * watching cancel_fd. */
static void copy_params(const pt_dial_params *given, pt_dial_params *out, int cancel_fd)
{
    size_t n = given->struct_size < sizeof *out ? given->struct_size : sizeof *out;
    memset(out, 0, sizeof *out);
    memcpy(out, given, n);
    out->struct_size = sizeof *out;
    out->reserved_1_0 = 0;
    out->abi_minor = PT_ABI_MINOR;
    out->cancel_fd = cancel_fd;
}

static void *job_main(void *arg)
{
    struct job *j = arg;
    ssize_t w;
    j->rc = j->plugin->probe(&j->params, j->timeout_ms, j->detail, sizeof j->detail);
    atomic_store(&j->finished, 1);
    do
        w = write(j->done_fd, "", 1); /* two bytes at most: a pipe never fills */
    while (w < 0 && errno == EINTR);
    return NULL;
}

/* Load the plugin and start its probe (in a thread when one can be had). */
static void job_start(struct job *j, const char *dir, int cancel_r)
{
    char err[PT_ERRMSG_MAX];
    int rc = pt_loader_open(j->mode, dir, &j->plugin, err, sizeof err);
    if (rc != PT_OK) {
        j->state = JOB_NO_PLUGIN;
        j->rc = rc;
        snprintf(j->detail, sizeof j->detail, "%s", err);
        atomic_store(&j->finished, 1);
        return;
    }
    if (!j->plugin->probe) {
        j->state = JOB_NO_PROBE;
        atomic_store(&j->finished, 1);
        return;
    }
    j->state = JOB_RAN;
    copy_params(j->given, &j->params, cancel_r);
    if (pthread_create(&j->thread, NULL, job_main, j) == 0) {
        j->started = 1;
        return;
    }
    /* No thread: probe here, cancelled by what cancels the whole call. */
    j->params.cancel_fd = j->caller_cancel_fd;
    j->rc = j->plugin->probe(&j->params, j->timeout_ms, j->detail, sizeof j->detail);
    atomic_store(&j->finished, 1);
}

static int job_answered(struct job *j)
{
    return j->state == JOB_RAN && atomic_load(&j->finished) && j->rc == PT_OK;
}

static void cancel_probes(int cancel_w, int *cancelled)
{
    ssize_t w;
    if (*cancelled)
        return;
    *cancelled = 1;
    do
        w = write(cancel_w, "", 1);
    while (w < 0 && errno == EINTR);
}

/* Wait until the decision is known: the UDP probe answered, or both have
 * finished, or the caller cancelled (returns 1). */
static int await_probes(struct job *udp, struct job *compat, int done_r, int cancel_w,
                        int timeout_ms)
{
    const int64_t grace_at = ptu_now_ms() + timeout_ms + GRACE_MS;
    int internal_cancel = 0;

    for (;;) {
        struct pollfd pfd[3];
        nfds_t n = 0;
        char drain[8];

        if (job_answered(udp) || (atomic_load(&udp->finished) && atomic_load(&compat->finished)))
            break;
        pfd[n++] = (struct pollfd){ .fd = done_r, .events = POLLIN };
        if (udp->caller_cancel_fd >= 0)
            pfd[n++] = (struct pollfd){ .fd = udp->caller_cancel_fd, .events = POLLIN };
        if (compat->caller_cancel_fd >= 0 && compat->caller_cancel_fd != udp->caller_cancel_fd)
            pfd[n++] = (struct pollfd){ .fd = compat->caller_cancel_fd, .events = POLLIN };
        int64_t left = grace_at - ptu_now_ms();
        int wait = internal_cancel ? -1 : left > 0 ? (int)left : 0;
        int r = poll(pfd, n, wait);
        if (r < 0 && errno != EINTR)
            break; /* cannot wait: the probes are cancelled below */
        if (r == 0) /* a probe overran its budget */
            cancel_probes(cancel_w, &internal_cancel);
        for (nfds_t i = 1; r > 0 && i < n; i++)
            if (pfd[i].revents)
                return 1;
        if (r > 0 && pfd[0].revents && read(done_r, drain, sizeof drain) < 0 && errno != EAGAIN)
            break;
    }
    return 0;
}

/* One side, as the reason tells it: "<code text>: <detail>". */
static void describe(const struct job *j, char *out, size_t cap)
{
    switch (j->state) {
    case JOB_SKIPPED:
        snprintf(out, cap, "not asked (no parameters)");
        break;
    case JOB_NO_PLUGIN:
        snprintf(out, cap, "no %s plugin: %s", j->mode, j->detail);
        break;
    case JOB_NO_PROBE:
        snprintf(out, cap, "the %s plugin %s (ABI %u.%u) has no probe", j->mode,
                 j->plugin->version, (unsigned)j->plugin->abi_major,
                 (unsigned)j->plugin->abi_minor);
        break;
    case JOB_RAN:
        if (*j->detail)
            snprintf(out, cap, "%s: %s", pt_strerror(j->rc), j->detail);
        else
            snprintf(out, cap, "%s", pt_strerror(j->rc));
        break;
    }
}

/* ---- Keeping credentials out of the reason --------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Star the password of url in text, as written and percent-decoded. */
static void scrub_url_password(char *text, size_t cap, const char *url)
{
    char decoded[1024];
    size_t off, len, n = 0;

    if (!url || !ptu_url_password(url, &off, &len) || len == 0)
        return;
    ptu_scrub(text, cap, url + off, len);
    for (size_t i = 0; i < len && n < sizeof decoded; i++) {
        const char *s = url + off + i;
        if (*s == '%' && i + 2 < len && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            decoded[n++] = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            i += 2;
        } else {
            decoded[n++] = *s;
        }
    }
    if (n != len || memcmp(decoded, url + off, len) != 0)
        ptu_scrub(text, cap, decoded, n);
    ptu_wipe(decoded, sizeof decoded);
}

static int is_separator(char c)
{
    return c == ' ' || c == '\t' || c == '(' || c == ')' || c == '"' || c == '\'' ||
           c == '<' || c == '>' || c == ',' || c == ';';
}

/* Star the userinfo of every URL-like word of in into out: a password
 * after the user's ':' (with or without a scheme: "u:pw@h" becomes
 * "u:***@h"), or, after a scheme, a user without a password (a token).  Words without '@', and "user@host" without a scheme or a
 * ':', are copied as they are. */
static void scrub_userinfo(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    const char *p = in;

    while (*p && o + 1 < cap) {
        if (is_separator(*p)) {
            out[o++] = *p++;
            continue;
        }
        const char *start = p, *end = p;
        while (*end && !is_separator(*end))
            end++;
        size_t wlen = (size_t)(end - start);
        const char *at = memchr(start, '@', wlen);
        size_t skip_from = wlen, skip_to = wlen; /* the span replaced by "***" */
        if (at) {
            char word[1024];
            size_t off, len, n = wlen < sizeof word - 1 ? wlen : sizeof word - 1;
            memcpy(word, start, n);
            word[n] = '\0';
            const char *sep = strstr(word, "://");
            if (ptu_url_password(word, &off, &len) && len > 0) {
                skip_from = off;
                skip_to = off + len;
            } else if (sep && strchr(sep + 3, '@')) {
                skip_from = (size_t)(sep + 3 - word);
                skip_to = (size_t)(strrchr(word, '@') - word);
            }
            ptu_wipe(word, sizeof word);
        }
        for (size_t i = 0; i < wlen && o + 1 < cap; i++) {
            if (i == skip_from) {
                for (int k = 0; k < 3 && o + 1 < cap; k++)
                    out[o++] = '*';
                i = skip_to - 1;
                continue;
            }
            out[o++] = start[i];
        }
        p = end;
    }
    out[o] = '\0';
}

/* Every password the inputs hold, and every userinfo left, starred; then
 * one printable line (cut with "..." when it does not fit) into reason. */
static void finish_reason(const pt_select_params *sp, char *text, char *reason, size_t reason_len)
{
    static const char *const proxy_vars[] = { "https_proxy", "HTTPS_PROXY", "http_proxy",
                                              "HTTP_PROXY",  "all_proxy",   "ALL_PROXY",
                                              "PILOT_PROXY" };
    const pt_dial_params *given[2] = { sp->udp, sp->compat };
    char *clean = malloc(SCRATCH_MAX);

    for (int g = 0; g < 2; g++)
        for (size_t i = 0; given[g] && given[g]->options && i < given[g]->n_options; i++)
            scrub_url_password(text, SCRATCH_MAX, given[g]->options[i].value);
    for (size_t i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
        scrub_url_password(text, SCRATCH_MAX, getenv(proxy_vars[i]));
    for (char *c = text; *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' '; /* one line */
    if (clean) {
        scrub_userinfo(text, clean, SCRATCH_MAX);
        ptu_printable(reason, reason_len, clean, strlen(clean));
        ptu_wipe(clean, SCRATCH_MAX);
        free(clean);
    } else {
        /* No room to scrub the userinfo: say what was decided, no detail. */
        snprintf(reason, reason_len, "(no memory for the details)");
    }
}

/* ---- The decision -------------------------------------------------------- */

static int bad_call(char *reason, size_t reason_len, const char *why)
{
    if (reason && reason_len)
        snprintf(reason, reason_len, "pt_loader_select: %s", why);
    return PT_EINVAL;
}

int pt_loader_select(const pt_select_params *sp, char *mode, size_t mode_len, char *reason,
                     size_t reason_len)
{
    const size_t need = offsetof(pt_select_params, compat) + sizeof(sp->compat);
    struct job udp = { .mode = "udp", .caller_cancel_fd = -1, .done_fd = -1 };
    struct job compat = { .mode = "wss", .caller_cancel_fd = -1, .done_fd = -1 };
    struct job *jobs[2] = { &udp, &compat };
    int done[2] = { -1, -1 }, cancel[2] = { -1, -1 }, cancelled, internal_cancel = 0;
    char *text = NULL, a[PT_ERRMSG_MAX + 64], b[PT_ERRMSG_MAX + 64];
    const char *choice;
    int rc = PT_OK;

    if (mode && mode_len)
        *mode = '\0';
    if (reason && reason_len)
        *reason = '\0';
    if (!reason || !reason_len)
        return PT_EINVAL;
    if (!sp)
        return bad_call(reason, reason_len, "no parameters");
    if (sp->struct_size < need)
        return bad_call(reason, reason_len, "pt_select_params too small (struct_size)");
    if (!mode || mode_len < sizeof "udp")
        return bad_call(reason, reason_len, "the mode buffer needs at least 4 bytes");
    if ((sp->udp && !PT_HAS_FIELD(sp->udp, pt_dial_params, log_level)) ||
        (sp->compat && !PT_HAS_FIELD(sp->compat, pt_dial_params, log_level)))
        return bad_call(reason, reason_len, "dial parameters smaller than ABI 1.0's");

    text = malloc(SCRATCH_MAX);
    if (!text || pipe2(done, O_CLOEXEC | O_NONBLOCK) != 0 ||
        pipe2(cancel, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(reason, reason_len, "pt_loader_select: %s",
                 text ? "cannot make a pipe" : "out of memory");
        rc = text ? PT_EIO : PT_ENOMEM;
        goto out;
    }
    udp.given = sp->udp;
    compat.given = sp->compat;
    for (int i = 0; i < 2; i++) {
        struct job *j = jobs[i];
        j->timeout_ms = sp->timeout_ms > 0 ? sp->timeout_ms : DEFAULT_TIMEOUT_MS;
        j->caller_cancel_fd = cancel_fd_of(j->given);
        j->done_fd = done[1];
        if (!j->given) {
            j->state = JOB_SKIPPED;
            atomic_store(&j->finished, 1);
        }
    }
    for (int i = 0; i < 2; i++)
        if (jobs[i]->given)
            job_start(jobs[i], sp->dir, cancel[0]);
    cancelled = await_probes(&udp, &compat, done[0], cancel[1],
                                 udp.timeout_ms > compat.timeout_ms ? udp.timeout_ms
                                                                     : compat.timeout_ms);
    /* Whatever is still running has nothing more to tell: stop it. */
    if (!atomic_load(&udp.finished) || !atomic_load(&compat.finished))
        cancel_probes(cancel[1], &internal_cancel);
    for (int i = 0; i < 2; i++)
        if (jobs[i]->started)
            pthread_join(jobs[i]->thread, NULL);

    if (cancelled) {
        snprintf(text, SCRATCH_MAX, "cancelled (cancel_fd) before the probes had answered");
        rc = PT_ECLOSED;
        choice = NULL;
    } else if (job_answered(&udp)) {
        snprintf(text, SCRATCH_MAX, "UDP beacon answered: %s",
                 *udp.detail ? udp.detail : "(no detail)");
        choice = "udp";
    } else if (job_answered(&compat)) {
        describe(&udp, a, sizeof a);
        snprintf(text, SCRATCH_MAX, "compat beacon answered: %s; UDP beacon: %s",
                 *compat.detail ? compat.detail : "(no detail)", a);
        choice = "wss";
    } else if (compat.state == JOB_RAN && compat.rc == PT_EPROXY) {
        describe(&udp, a, sizeof a);
        snprintf(text, SCRATCH_MAX,
                 "compat check failed at the proxy, the only way out: %s; UDP beacon: %s",
                 compat.detail, a);
        choice = "wss";
    } else {
        describe(&udp, a, sizeof a);
        describe(&compat, b, sizeof b);
        snprintf(text, SCRATCH_MAX,
                 "nothing answered, starting degraded: UDP beacon: %s; compat beacon: %s", a,
                 b);
        choice = "udp";
    }
    if (choice)
        snprintf(mode, mode_len, "%s", choice);
    finish_reason(sp, text, reason, reason_len);
out:
    for (int i = 0; i < 2; i++) {
        if (done[i] >= 0)
            close(done[i]);
        if (cancel[i] >= 0)
            close(cancel[i]);
    }
    ptu_wipe(a, sizeof a);
    ptu_wipe(b, sizeof b);
    ptu_wipe(udp.detail, sizeof udp.detail);
    ptu_wipe(compat.detail, sizeof compat.detail);
    if (text) {
        ptu_wipe(text, SCRATCH_MAX);
        free(text);
    }
    return rc;
}
