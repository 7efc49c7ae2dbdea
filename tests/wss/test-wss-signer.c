/*
 * test-wss-signer.c -- the WSS plugin's pt_signer (ABI 1.2) against the
 * real dev beacon over real TLS with the test CA (tests/wss/harness.c):
 * the host's sign callback signs the first auth and every re-auth, the
 * plugin never reads the identity beside it, and a signer that fails,
 * holds another key or is malformed fails the dial with a clear error.
 */
#include "config.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <nettle/eddsa.h>

#include "harness.h"
#include "pilot_transport_loader.h"
#include "tap.h"

static log_book book; /* large: static */

/* A host's signer: signs with key, as node node_id announcing public_key
 * (normally key's own); its sign fails with fail_with from call fail_from
 * on (1: every call; 0: never).  Called from the plugin's threads. */
typedef struct test_signer {
    pt_signer s;
    const pt_identity *key;
    atomic_int calls;
    atomic_int fail_from;
    int fail_with;
    char last[160]; /* the last text signed (only read once the dial is done) */
} test_signer;

static int test_sign(void *userdata, const uint8_t *message, size_t length,
                     uint8_t signature[64])
{
    test_signer *t = userdata;
    int n = atomic_fetch_add(&t->calls, 1) + 1;
    int from = atomic_load(&t->fail_from);
    snprintf(t->last, sizeof t->last, "%.*s", (int)length, (const char *)message);
    if (from > 0 && n >= from)
        return t->fail_with;
    ed25519_sha512_sign(t->key->public_key, t->key->private_key, length, message, signature);
    return 0;
}

static void signer_init(test_signer *t, const pt_identity *key)
{
    memset(t, 0, sizeof *t);
    t->key = key;
    t->s.struct_size = sizeof t->s;
    t->s.node_id = NODE;
    memcpy(t->s.public_key, key->public_key, sizeof t->s.public_key);
    t->s.sign = test_sign;
    t->s.userdata = t;
}

/* An identity the plugin must never read: a page with no access, so a
 * read of it kills the test. */
static const pt_identity *unreadable_identity(void)
{
    static void *page;
    if (!page) {
        page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED)
            page = NULL;
    }
    return page;
}

/* Dial beacon b (options kv) with signer t, identity id beside it, logging
 * into book at INFO. */
static int dial_signed(const beacon *b, const pt_identity *id, test_signer *t,
                       const char *const *kv, pt_conn **c)
{
    dial_setup d;
    dial_setup_init(&d, b->port, id, kv);
    d.p.signer = t ? &t->s : NULL;
    d.p.log = log_book_add;
    d.p.log_userdata = &book;
    d.p.log_level = PT_LOG_INFO;
    return dial_setup_dial(&d, c);
}

static int echo(pt_conn *c, unsigned char seed)
{
    unsigned char out[300], in[512];
    memset(out, seed, sizeof out);
    int rc = wss->send(c, out, sizeof out, NULL);
    if (rc == (int)sizeof out)
        rc = wss->recv(c, in, sizeof in, NULL, 5000 * scale);
    if (rc != (int)sizeof out || memcmp(in, out, sizeof out) != 0) {
        printf("# echo: %d (%s)\n", rc, rc < 0 ? pt_strerror(rc) : "");
        return 0;
    }
    return 1;
}

TEST(the_signer_signs_the_auth_and_the_identity_is_never_read)
{
    beacon b;
    test_signer t;
    pt_conn *c = NULL;
    const pt_identity *none = unreadable_identity();
    char want[32];
    CHECK(none != NULL);
    if (!none || beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    signer_init(&t, &me);
    CHECK_EQ_INT(dial_signed(&b, none, &t, NULL, &c), PT_OK);
    if (c) {
        CHECK_EQ_INT(atomic_load(&t.calls), 1);
        snprintf(want, sizeof want, "compat_auth:%d:", NODE);
        CHECK(strncmp(t.last, want, strlen(want)) == 0);
        CHECK(echo(c, 1));
    } else {
        printf("# %s\n", err);
    }
    down(&b, c);
}

/* An identity with a key that matches nothing, and another node id: with a
 * signer it is not used, not even checked. */
TEST(an_identity_beside_a_signer_is_ignored)
{
    beacon b;
    test_signer t;
    pt_conn *c = NULL;
    pt_identity garbage;
    memset(&garbage, 0x5a, sizeof garbage);
    garbage.has_key = 1;
    garbage.node_id = 99;
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    signer_init(&t, &me);
    CHECK_EQ_INT(dial_signed(&b, &garbage, &t, NULL, &c), PT_OK);
    if (c)
        CHECK(echo(c, 2));
    CHECK_EQ_INT(atomic_load(&t.calls), 1);
    down(&b, c);
}

/* The beacon drops the link at the second frame; the redial's auth is the
 * signer's too. */
TEST(the_signer_signs_again_after_the_beacon_drops_the_link)
{
    beacon b;
    test_signer t;
    pt_conn *c = NULL;
    const char *flags[] = { "--drop-after=2", NULL };
    unsigned char f[100] = { 9 };
    if (beacon_start(&b, "server", 0, flags) != 0) {
        CHECK(0);
        return;
    }
    signer_init(&t, &me);
    CHECK_EQ_INT(dial_signed(&b, unreadable_identity(), &t, NULL, &c), PT_OK);
    if (c) {
        CHECK(echo(c, 3));
        CHECK_EQ_INT(wss->send(c, f, sizeof f, NULL), (int)sizeof f); /* dropped here */
        CHECK(wait_reconnects(c, 1, 10000));
        CHECK_EQ_INT(atomic_load(&t.calls), 2);
        CHECK(echo(c, 4));
    }
    down(&b, c);
}

TEST(a_signer_that_cannot_sign_fails_the_dial_with_an_auth_error)
{
    beacon b;
    test_signer t;
    pt_conn *c = NULL;
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    signer_init(&t, &me);
    t.fail_from = 1;
    t.fail_with = -3;
    CHECK_EQ_INT(dial_signed(&b, unreadable_identity(), &t, NULL, &c), PT_EAUTH);
    CHECK(c == NULL);
    CHECK_STR_CONTAINS(err, "wss auth: the signer could not sign the challenge (sign returned -3)");
    CHECK_EQ_INT(atomic_load(&t.calls), 1);
    down(&b, c);
}

/* A signer that fails at the re-auth: the redial fails (logged, the last
 * error PT_EAUTH) and is tried again; once it signs, the link is back. */
TEST(a_signer_that_fails_at_the_reauth_is_retried_until_it_signs)
{
    beacon b;
    test_signer t;
    pt_conn *c = NULL;
    const char *flags[] = { "--drop-after=2", NULL };
    unsigned char f[100] = { 9 };
    char msg[PT_ERRMSG_MAX];
    if (beacon_start(&b, "server", 0, flags) != 0) {
        CHECK(0);
        return;
    }
    signer_init(&t, &me);
    t.fail_with = 1;
    CHECK_EQ_INT(dial_signed(&b, unreadable_identity(), &t, NULL, &c), PT_OK);
    if (c) {
        atomic_store(&t.fail_from, 2);
        CHECK(echo(c, 5));
        CHECK_EQ_INT(wss->send(c, f, sizeof f, NULL), (int)sizeof f); /* dropped here */
        CHECK(log_book_wait(&book, "wss: reconnect failed: wss auth: the signer could not sign",
                            1, 10000));
        CHECK_EQ_INT(wss->last_error(c, msg, sizeof msg), PT_EAUTH);
        CHECK_EQ_INT(stats_of(c).state, PT_STATE_RECONNECTING);
        atomic_store(&t.fail_from, 0);
        CHECK(wait_reconnects(c, 1, 10000));
        CHECK(atomic_load(&t.calls) >= 3);
        CHECK(echo(c, 6));
    }
    down(&b, c);
}

/* The beacon knows node NODE by me's key. */
TEST(a_signer_with_another_key_is_refused)
{
    beacon b;
    test_signer t;
    pt_conn *c = NULL;
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    /* A sound key pair, not the one registered: the beacon refuses it. */
    signer_init(&t, &stranger);
    CHECK_EQ_INT(dial_signed(&b, NULL, &t, NULL, &c), PT_EAUTH);
    CHECK_STR_CONTAINS(err, "1008");
    /* Signing with a key that is not the one it names: caught before the
     * reply goes out, and said so. */
    signer_init(&t, &stranger);
    memcpy(t.s.public_key, me.public_key, sizeof t.s.public_key);
    CHECK_EQ_INT(dial_signed(&b, NULL, &t, NULL, &c), PT_EAUTH);
    CHECK_STR_CONTAINS(err, "the signer's signature does not match its public key");
    CHECK(c == NULL);
    down(&b, c);
}

TEST(a_malformed_signer_is_refused_by_name)
{
    beacon b;
    test_signer t;
    pt_conn *c = NULL;
    memset(&b, 0, sizeof b);
    b.port = 1; /* nothing is dialled */
    signer_init(&t, &me);
    t.s.struct_size = PT_SIGNER_SIZE_1_2 - 1;
    CHECK_EQ_INT(dial_signed(&b, &me, &t, NULL, &c), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "signer struct_size is ");
    CHECK_STR_CONTAINS(err, "set it to sizeof(pt_signer)");
    signer_init(&t, &me);
    t.s.sign = NULL;
    CHECK_EQ_INT(dial_signed(&b, &me, &t, NULL, &c), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "the signer has no sign function");
    signer_init(&t, &me);
    t.s.node_id = 0;
    CHECK_EQ_INT(dial_signed(&b, &me, &t, NULL, &c), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "the signer's node_id is 0");
    CHECK(c == NULL);
    CHECK_EQ_INT(atomic_load(&t.calls), 0);
}

/* A 1.0/1.1 host's struct ends before signer: it is not read, the
 * identity signs. */
TEST(a_signer_past_an_older_hosts_struct_is_not_read)
{
    beacon b;
    test_signer t;
    pt_conn *c = NULL;
    if (beacon_start(&b, "server", 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    signer_init(&t, &me);
    t.fail_from = 1;
    dial_setup d;
    dial_setup_init(&d, b.port, &me, NULL);
    d.p.struct_size = PT_DIAL_PARAMS_SIZE_1_0;
    d.p.signer = &t.s;
    CHECK_EQ_INT(dial_setup_dial(&d, &c), PT_OK);
    CHECK_EQ_INT(atomic_load(&t.calls), 0);
    if (c)
        CHECK(echo(c, 7));
    down(&b, c);
}

int main(void)
{
    if (harness_init() != 0)
        return 1;
    tap_on_hang = harness_kill_children; /* no beacon outlives a hang */
    log_book_init(&book);
    RUN(the_signer_signs_the_auth_and_the_identity_is_never_read);
    RUN(an_identity_beside_a_signer_is_ignored);
    RUN(the_signer_signs_again_after_the_beacon_drops_the_link);
    RUN(a_signer_that_cannot_sign_fails_the_dial_with_an_auth_error);
    RUN(a_signer_that_fails_at_the_reauth_is_retried_until_it_signs);
    RUN(a_signer_with_another_key_is_refused);
    RUN(a_malformed_signer_is_refused_by_name);
    RUN(a_signer_past_an_older_hosts_struct_is_not_read);
    log_book_destroy(&book);
    harness_cleanup();
    return tap_done();
}
