/*
 * check_params.c -- what dial does with bad or odd parameters (PT_EINVAL,
 * PT_EOPTION, error buffers of every size, older and newer parameter
 * structs), and PT_EINVAL for a NULL connection or a NULL required
 * pointer in every function.
 */
#include "config.h"

#include "conformance.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define UNKNOWN_KEY "conformance-no-such-option"
#define GUARD 0x5a

/* A pointer no plugin may return as a connection: dial must reset *out. */
static char not_a_conn_[1];
#define not_a_conn ((pt_conn *)(void *)not_a_conn_)

/* dial must leave *out NULL and a message in err when it fails. */
static void failed_cleanly(struct cx *x, const char *what, pt_conn *out, const char *err)
{
    EXPECT(x, out == NULL, "%s: *out is %p, want NULL after a failure", what, (void *)out);
    EXPECT(x, err[0] != '\0', "%s: the error buffer is empty", what);
    if (err[0])
        cx_note(x, "%s: \"%s\"", what, err);
}

static void dial_null_params(struct cx *x)
{
    pt_conn *c = not_a_conn;
    char err[PT_ERRMSG_MAX] = "";
    int rc = x->p->dial(NULL, &c, err, sizeof err);
    cx_expect_rc(x, rc, PT_EINVAL, "dial(NULL params)");
    failed_cleanly(x, "dial(NULL params)", c, err);
}

static void dial_null_out(struct cx *x)
{
    pt_dial_params params;
    pt_identity id;
    pt_option opts[64];
    char err[PT_ERRMSG_MAX] = "";
    cx_params(x, &params, &id, x->t->node_id, opts, 64, NULL, 0);
    int rc = x->p->dial(&params, NULL, err, sizeof err);
    cx_expect_rc(x, rc, PT_EINVAL, "dial(out NULL)");
    EXPECT(x, err[0] != '\0', "dial(out NULL): the error buffer is empty");
}

static void dial_unknown_option(struct cx *x)
{
    const pt_option extra = { UNKNOWN_KEY, "1" };
    pt_dial_params params;
    pt_identity id;
    pt_option opts[65];
    pt_conn *c = not_a_conn;
    char err[PT_ERRMSG_MAX] = "";
    cx_params(x, &params, &id, x->t->node_id, opts, 65, &extra, 1);
    int rc = x->p->dial(&params, &c, err, sizeof err);
    if (rc == PT_OK && c && c != not_a_conn)
        cx_release(x, c);
    cx_expect_rc(x, rc, PT_EOPTION, "dial(unknown option)");
    failed_cleanly(x, "dial(unknown option)", c, err);
    EXPECT(x, strstr(err, UNKNOWN_KEY) != NULL, "the message does not name the key %s: \"%s\"",
           UNKNOWN_KEY, err);
}

static void dial_null_options(struct cx *x)
{
    pt_dial_params params;
    pt_identity id;
    pt_option opts[64];
    pt_conn *c = not_a_conn;
    char err[PT_ERRMSG_MAX] = "";
    cx_params(x, &params, &id, x->t->node_id, opts, 64, NULL, 0);
    params.options = NULL;
    params.n_options = 1;
    int rc = x->p->dial(&params, &c, err, sizeof err);
    if (rc == PT_OK && c && c != not_a_conn)
        cx_release(x, c);
    cx_expect_rc(x, rc, PT_EINVAL, "dial(options NULL, n_options 1)");
    failed_cleanly(x, "dial(options NULL, n_options 1)", c, err);
}

/* A NULL key or value inside the options: refused with PT_EOPTION (the
 * header's rule for pt_option), never dereferenced. */
static void dial_null_key_value(struct cx *x)
{
    const pt_option bad[2] = { { NULL, "1" }, { UNKNOWN_KEY, NULL } };
    for (int i = 0; i < 2; i++) {
        pt_dial_params params;
        pt_identity id;
        pt_option opts[65];
        pt_conn *c = not_a_conn;
        char err[PT_ERRMSG_MAX] = "";
        const char *what = i == 0 ? "dial(an option with key NULL)" : "dial(an option with value NULL)";
        cx_params(x, &params, &id, x->t->node_id, opts, 65, &bad[i], 1);
        int rc = x->p->dial(&params, &c, err, sizeof err);
        if (rc == PT_OK && c && c != not_a_conn)
            cx_release(x, c);
        EXPECT(x, rc == PT_EOPTION, "%s returned %s, want PT_EOPTION", what, cx_code_name(rc));
        failed_cleanly(x, what, c, err);
    }
}

static void dial_short_params(struct cx *x)
{
    pt_dial_params params;
    pt_identity id;
    pt_option opts[64];
    pt_conn *c = not_a_conn;
    char err[PT_ERRMSG_MAX] = "";
    cx_params(x, &params, &id, x->t->node_id, opts, 64, NULL, 0);
    params.struct_size = 8; /* not even options */
    int rc = x->p->dial(&params, &c, err, sizeof err);
    if (rc == PT_OK && c && c != not_a_conn)
        cx_release(x, c);
    cx_expect_rc(x, rc, PT_EINVAL, "dial(struct_size 8)");
    failed_cleanly(x, "dial(struct_size 8)", c, err);
}

/* errlen 0 (errbuf NULL, or a buffer that must stay untouched) and short
 * buffers: NUL-terminated within errlen, nothing written past it. */
static void dial_error_buffers(struct cx *x)
{
    static const size_t lens[] = { 0, 1, 2, 8, 33 };
    const pt_option extra = { UNKNOWN_KEY, "1" };
    pt_dial_params params;
    pt_identity id;
    pt_option opts[65];
    pt_conn *c = not_a_conn;

    cx_params(x, &params, &id, x->t->node_id, opts, 65, &extra, 1);
    int rc = x->p->dial(&params, &c, NULL, 0);
    cx_expect_rc(x, rc, PT_EOPTION, "dial(unknown option, errbuf NULL, errlen 0)");
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        char buf[64];
        size_t len = lens[i];
        memset(buf, GUARD, sizeof buf);
        c = not_a_conn;
        rc = x->p->dial(&params, &c, buf, len);
        cx_expect_rc(x, rc, PT_EOPTION, "dial(unknown option, short errbuf)");
        int overrun = 0;
        for (size_t k = len; k < sizeof buf; k++)
            overrun |= (unsigned char)buf[k] != GUARD;
        EXPECT(x, !overrun, "errlen %zu: bytes past errlen were written", len);
        if (len > 0)
            EXPECT(x, memchr(buf, '\0', len) != NULL, "errlen %zu: no NUL within errlen", len);
    }
}

/* Whether a fresh connection from params works: dial, send one datagram,
 * close, free.  Used with parameter structs of other shapes. */
static void dial_works(struct cx *x, const pt_dial_params *params, const char *what)
{
    pt_conn *c = NULL;
    char err[PT_ERRMSG_MAX] = "";
    int rc = x->p->dial(params, &c, err, sizeof err);
    if (rc != PT_OK || !c) {
        cx_fail(x, "%s: dial returned %s: %s", what, cx_code_name(rc), err);
        return;
    }
    cx_pass(x);
    pt_stats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    EXPECT(x, x->p->stats(c, &st) == PT_OK && st.state == PT_STATE_CONNECTED,
           "%s: the connection's state is %d, want PT_STATE_CONNECTED", what, (int)st.state);
    cx_release(x, c);
}

/* A 1.0/1.1 host's struct: 56 bytes; what lies past it (here: garbage, a
 * readable cancel_fd) and the unwritten reserved slot are never read. */
static void dial_params_1_0(struct cx *x)
{
    pt_dial_params params;
    pt_identity id;
    pt_option opts[64];
    int fds[2];
    if (pipe(fds) != 0 || write(fds[1], "x", 1) != 1) {
        cx_fail(x, "pipe: cannot make a readable descriptor");
        return;
    }
    cx_params(x, &params, &id, x->t->node_id, opts, 64, NULL, 0);
    params.struct_size = PT_DIAL_PARAMS_SIZE_1_0;
    params.reserved_1_0 = 0x7eadbeef;
    params.abi_minor = PT_ABI_MINOR;
    params.cancel_fd = fds[0];
    params.signer = (const pt_signer *)(uintptr_t)0x10; /* never dereferenced */
    dial_works(x, &params, "struct_size 56 with garbage past it");
    ptu_wipe(&id, sizeof id);
    close(fds[0]);
    close(fds[1]);
}

/* abi_minor below 2 (1; 0 as in a zero-filled struct): cancel_fd is
 * ignored even when readable. */
static void dial_cancel_ignored(struct cx *x)
{
    static const uint32_t minors[] = { 1, 0 };
    pt_dial_params params;
    pt_identity id;
    pt_option opts[64];
    int fds[2];
    if (pipe(fds) != 0 || write(fds[1], "x", 1) != 1) {
        cx_fail(x, "pipe: cannot make a readable descriptor");
        return;
    }
    for (size_t i = 0; i < 2; i++) {
        char what[64];
        cx_params(x, &params, &id, x->t->node_id, opts, 64, NULL, 0);
        params.abi_minor = minors[i];
        params.cancel_fd = fds[0];
        snprintf(what, sizeof what, "abi_minor %u with a readable cancel_fd", (unsigned)minors[i]);
        dial_works(x, &params, what);
        ptu_wipe(&id, sizeof id);
    }
    close(fds[0]);
    close(fds[1]);
}

static void null_connection(struct cx *x)
{
    unsigned char buf[16] = { 1 };
    pt_addr a;
    pt_stats st;
    char err[32];
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    cx_expect_rc(x, x->p->send(NULL, buf, sizeof buf, NULL), PT_EINVAL, "send(NULL conn)");
    cx_expect_rc(x, x->p->recv(NULL, buf, sizeof buf, NULL, 0), PT_EINVAL, "recv(NULL conn)");
    cx_expect_rc(x, x->p->close(NULL), PT_EINVAL, "close(NULL)");
    cx_expect_rc(x, x->p->local_addr(NULL, &a), PT_EINVAL, "local_addr(NULL conn)");
    cx_expect_rc(x, x->p->poll_fd(NULL), PT_EINVAL, "poll_fd(NULL)");
    cx_expect_rc(x, x->p->stats(NULL, &st), PT_EINVAL, "stats(NULL conn)");
    cx_expect_rc(x, x->p->last_error(NULL, err, sizeof err), PT_EINVAL, "last_error(NULL conn)");
    x->p->free(NULL);
    cx_pass(x);
    if (x->p->struct_size >= PT_PLUGIN_SIZE_1_1 && x->p->send_many) {
        pt_frame f = { buf, sizeof buf, NULL };
        cx_expect_rc(x, x->p->send_many(NULL, &f, 1), PT_EINVAL, "send_many(NULL conn)");
    }
    if (x->p->struct_size >= PT_PLUGIN_SIZE_1_2 && x->p->recv_many) {
        pt_rframe r;
        memset(&r, 0, sizeof r);
        r.data = buf;
        r.cap = sizeof buf;
        cx_expect_rc(x, x->p->recv_many(NULL, &r, 1, 0), PT_EINVAL, "recv_many(NULL conn)");
    }
}

static void null_pointers(struct cx *x)
{
    pt_conn *c = cx_dial(x, x->t->node_id);
    unsigned char buf[16] = { 1 };
    if (!c)
        return;
    cx_expect_rc(x, x->p->send(c, NULL, 16, NULL), PT_EINVAL, "send(buf NULL, len 16)");
    cx_expect_rc(x, x->p->recv(c, NULL, 16, NULL, 0), PT_EINVAL, "recv(buf NULL, cap 16)");
    cx_expect_rc(x, x->p->local_addr(c, NULL), PT_EINVAL, "local_addr(out NULL)");
    cx_expect_rc(x, x->p->stats(c, NULL), PT_EINVAL, "stats(out NULL)");
    cx_expect_rc(x, x->p->last_error(c, NULL, 16), PT_EINVAL, "last_error(buf NULL, len 16)");
    if (x->p->struct_size >= PT_PLUGIN_SIZE_1_1 && x->p->send_many) {
        pt_frame f = { NULL, 16, NULL };
        cx_expect_rc(x, x->p->send_many(c, NULL, 1), PT_EINVAL, "send_many(frames NULL, n 1)");
        cx_expect_rc(x, x->p->send_many(c, &f, 1), PT_EINVAL, "send_many(a frame with data NULL)");
    }
    if (x->p->struct_size >= PT_PLUGIN_SIZE_1_2 && x->p->recv_many) {
        pt_rframe r[2];
        memset(r, 0, sizeof r);
        r[0].data = buf;
        r[0].cap = sizeof buf;
        cx_expect_rc(x, x->p->recv_many(c, NULL, 1, 0), PT_EINVAL, "recv_many(frames NULL)");
        cx_expect_rc(x, x->p->recv_many(c, r, 0, 0), PT_EINVAL, "recv_many(n 0)");
        cx_expect_rc(x, x->p->recv_many(c, r, (size_t)INT_MAX + 1, 0), PT_EINVAL,
                     "recv_many(n over INT_MAX)");
        cx_expect_rc(x, x->p->recv_many(c, r, 2, 0), PT_EINVAL,
                     "recv_many(a slot with data NULL)");
    }
    cx_release(x, c);
}

const struct check checks_params[] = {
    { "params: dial(NULL params) fails with PT_EINVAL", dial_null_params },
    { "params: dial with out NULL fails with PT_EINVAL", dial_null_out },
    { "params: an unknown option fails the dial with PT_EOPTION naming it", dial_unknown_option },
    { "params: options NULL with n_options 1 fails with PT_EINVAL", dial_null_options },
    { "params: an option with a NULL key or value is refused", dial_null_key_value },
    { "params: struct_size too small for 1.0 fails with PT_EINVAL", dial_short_params },
    { "params: error buffers of length 0, 1, 2, 8 are never overrun", dial_error_buffers },
    { "params: a 1.0-sized struct dials; bytes past it are never read", dial_params_1_0 },
    { "params: cancel_fd is ignored when abi_minor is below 2", dial_cancel_ignored },
    { "params: every function given a NULL connection returns PT_EINVAL", null_connection },
    { "params: NULL required pointers on a live connection return PT_EINVAL", null_pointers },
    { NULL, NULL },
};
