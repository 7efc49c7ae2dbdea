/*
 * check_signer.c -- pt_signer (ABI 1.2): a dial with a signer instead of
 * the private key works (the signer signs with -identity's key, or a zero
 * key when none was given), an identity given beside it is ignored, sign
 * is called at most once per authentication, and a signer that cannot
 * sign fails the dial with PT_EAUTH.  A transport that never calls sign
 * does not authenticate: the checks that need it then skip.
 */
#include "config.h"

#include "conformance.h"
#include "util.h"

#include <nettle/eddsa.h>
#include <stdio.h>
#include <string.h>

struct signing {
    pt_identity key;            /* the key sign uses */
    int refuse;                 /* sign returns non-zero */
    int calls;                  /* atomic */
};

static int sign(void *userdata, const uint8_t *message, size_t length, uint8_t signature[64])
{
    struct signing *s = userdata;
    __atomic_add_fetch(&s->calls, 1, __ATOMIC_SEQ_CST);
    if (s->refuse)
        return -1;
    ed25519_sha512_sign(s->key.public_key, s->key.private_key, length, message, signature);
    return 0;
}

/* Whether the plugin knows signers at all (its minor defines them). */
static int knows_signers(struct cx *x)
{
    if (x->t->raw->abi_minor >= 2)
        return 1;
    cx_skip(x, "plugin is ABI %u.%u, which has no signer", (unsigned)x->t->raw->abi_major,
            (unsigned)x->t->raw->abi_minor);
    return 0;
}

/* Dial node with signer s; identity is what params->identity points to
 * (NULL, or one whose private key is garbage).  Returns dial's code and
 * the connection in *out. */
static int dial_signed(struct cx *x, struct signing *s, pt_signer *signer, int with_identity,
                       pt_conn **out, char *err, size_t errlen)
{
    pt_dial_params params;
    pt_identity id;
    pt_option opts[64];

    cx_params(x, &params, &id, x->t->node_id, opts, 64, NULL, 0);
    memset(&s->key, 0, sizeof s->key);
    if (x->t->identity)
        s->key = *x->t->identity;
    memset(signer, 0, sizeof *signer);
    signer->struct_size = sizeof *signer;
    signer->node_id = x->t->node_id;
    memcpy(signer->public_key, s->key.public_key, sizeof signer->public_key);
    signer->sign = sign;
    signer->userdata = s;
    params.signer = signer;
    if (with_identity) {
        memset(id.private_key, 0x66, sizeof id.private_key); /* must not be used */
        id.has_key = 1;
    } else {
        params.identity = NULL;
    }
    *out = NULL;
    int rc = x->p->dial(&params, out, err, errlen);
    ptu_wipe(&id, sizeof id);
    return rc;
}

static void signer_dials(struct cx *x, int with_identity)
{
    struct signing s;
    pt_signer signer;
    pt_conn *c;
    char err[PT_ERRMSG_MAX] = "";
    if (!knows_signers(x))
        return;
    memset(&s, 0, sizeof s);
    int rc = dial_signed(x, &s, &signer, with_identity, &c, err, sizeof err);
    int calls = __atomic_load_n(&s.calls, __ATOMIC_SEQ_CST);
    if (rc == PT_EAUTH && !x->t->identity) {
        cx_skip(x, "the transport authenticates: give -identity to sign with");
        goto out;
    }
    if (!cx_expect_rc(x, rc, PT_OK, with_identity ? "dial(signer, identity with a bad key)"
                                                  : "dial(signer, identity NULL)")) {
        cx_note(x, "dial: %s", err);
        goto out;
    }
    cx_note(x, "sign was called %d times", calls);
    EXPECT(x, calls <= 1, "sign was called %d times for one dial, want at most one", calls);
    pt_stats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    EXPECT(x, x->p->stats(c, &st) == PT_OK && st.state == PT_STATE_CONNECTED,
           "the signed connection's state is %d, want PT_STATE_CONNECTED", (int)st.state);
    cx_release(x, c);
out:
    ptu_wipe(&s, sizeof s);
}

static void signer_no_identity(struct cx *x)
{
    signer_dials(x, 0);
}

static void signer_beats_identity(struct cx *x)
{
    signer_dials(x, 1);
}

static void signer_refuses(struct cx *x)
{
    struct signing s;
    pt_signer signer;
    pt_conn *c;
    char err[PT_ERRMSG_MAX] = "";
    if (!knows_signers(x))
        return;
    memset(&s, 0, sizeof s);
    s.refuse = 1;
    int rc = dial_signed(x, &s, &signer, 0, &c, err, sizeof err);
    if (__atomic_load_n(&s.calls, __ATOMIC_SEQ_CST) == 0) {
        if (rc == PT_OK)
            cx_release(x, c);
        if (rc == PT_OK)
            cx_skip(x, "the transport does not authenticate (sign was never called)");
        else
            cx_fail(x, "dial returned %s without calling sign: %s", cx_code_name(rc), err);
        goto out;
    }
    if (rc == PT_OK)
        cx_release(x, c);
    cx_expect_rc(x, rc, PT_EAUTH, "dial with a signer that cannot sign");
    EXPECT(x, rc == PT_OK || c == NULL, "*out is not NULL after the failed dial");
    cx_note(x, "dial: %s", err);
out:
    ptu_wipe(&s, sizeof s);
}

const struct check checks_signer[] = {
    { "signer: a dial with a signer and no identity", signer_no_identity },
    { "signer: an identity given beside a signer is ignored", signer_beats_identity },
    { "signer: a signer that cannot sign fails the dial with PT_EAUTH", signer_refuses },
    { NULL, NULL },
};
