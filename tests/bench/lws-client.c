/*
 * lws-client.c -- the benchmark's "what a C developer would otherwise use":
 * a plain libwebsockets client that talks Pilot compat mode to the same
 * echo peer as the WSS plugin (raw-tls server --ws, or the beacon in echo
 * mode) and runs the same echo benchmark as "pilot-transport echo-bench".
 *
 * It is written the way the libwebsockets examples teach: one service
 * thread (lws_service in main), everything in the protocol callback, one
 * lws_write per LWS_CALLBACK_CLIENT_WRITEABLE with LWS_PRE bytes of
 * headroom, lws_callback_on_writable whenever there is more to send, and
 * messages reassembled from the pieces libwebsockets hands over.  Nothing
 * tuned beyond that: libwebsockets' TLS library (OpenSSL here) with its
 * defaults, TLS verified against --ca for "localhost".
 *
 * The Pilot auth exchange is the real one (SPEC 2.5), with the plugin's own
 * message code (plugin/wss/auth.c) and identity loader (lib/identity.c):
 * the challenge is parsed, the reply signed with --identity as --node-id,
 * and the peer's answer must be auth_ok.
 *
 *   lws-client --port=N --ca=F --identity=F --node-id=N --count=N --size=B
 *              --window=W
 *
 * Frames are those of bench_frame.h (sequence, send time, pattern);
 * at most W are unanswered; every echo is checked.  The clock starts at
 * auth_ok, as echo-bench's does after its dial.  Prints the line
 * echo-bench and raw-tls client print:
 *   RESULT frames=N bytes=B seconds=S fps=F mbps=M rtt_p50_us=P rtt_p99_us=Q
 *
 * Benchmark code, not product.
 */
#include "config.h"

#include "auth.h"
#include "bench_frame.h"
#include "bench_util.h"
#include "identity.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#define HDR BENCH_FRAME_HDR
#define SERVER_NAME "localhost"
#define PATH "/v1/compat"
#define SUBPROTOCOL "pilot.v1"
#define IO_TIMEOUT_S 10 /* give up when nothing moves for this long */

const char bench_prog[] = "lws-client";

/* ---- Options ----------------------------------------------------------------- */

struct opts {
    const char *ca, *identity;
    unsigned long port, node_id, count, size, window;
};

static void parse(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->count = 1000;
    o->size = 1200;
    o->window = 1;
    const struct bench_flag flags[] = {
        { "ca", &o->ca, NULL, 0, NULL },
        { "identity", &o->identity, NULL, 0, NULL },
        { "port", NULL, &o->port, 65535, NULL },
        { "node-id", NULL, &o->node_id, UINT32_MAX, NULL },
        { "count", NULL, &o->count, 100000000, NULL },
        { "size", NULL, &o->size, PT_MAX_FRAME, NULL },
        { "window", NULL, &o->window, 1000000, NULL },
        { NULL, NULL, NULL, 0, NULL },
    };
    bench_parse_flags(argc, argv, 1, flags);
    if (!o->ca || !o->identity || !o->port || !o->node_id)
        die("need --port, --ca, --identity and --node-id");
    if (o->count == 0 || o->size < HDR || o->window == 0)
        die("need --count >= 1, --size >= %d, --window >= 1", HDR);
}

/* ---- The client --------------------------------------------------------------- */

enum phase { CONNECTING, WAIT_CHALLENGE, SEND_REPLY, WAIT_OK, RUNNING, DONE };

static struct client {
    struct opts o;
    pt_identity id;
    enum phase phase;
    unsigned char *msg; /* the message being reassembled */
    size_t msg_len, msg_cap;
    unsigned char *out; /* LWS_PRE bytes of headroom, then one frame */
    char reply[LWS_PRE + WSS_AUTH_REPLY_MAX];
    int reply_len;
    unsigned char *seen;
    uint64_t *rtt;
    uint64_t sent, received, start, end, last_progress;
    struct lws_context *ctx;
    lws_sorted_usec_list_t watchdog;
} C;

/* Check one echo and record its round trip. */
static void take_echo(const unsigned char *f, size_t len)
{
    uint64_t now = now_ns(), seq = len >= HDR ? bench_get64(f) : UINT64_MAX;
    if (len != C.o.size || seq >= C.sent || C.seen[seq])
        die("unexpected frame: %zu bytes, sequence %" PRIu64, len, seq);
    size_t bad = bench_first_bad(f, len, seq);
    if (bad < len)
        die("frame %" PRIu64 " corrupted at byte %zu", seq, bad);
    C.seen[seq] = 1;
    C.rtt[C.received++] = now - bench_get64(f + 8);
    C.last_progress = now;
}

/* One whole message from the peer. */
static void on_message(struct lws *wsi, int binary)
{
    char err[PT_ERRMSG_MAX];
    wss_challenge ch;

    switch (C.phase) {
    case WAIT_CHALLENGE:
        if (binary)
            die("expected the auth_challenge, got a binary message");
        if (wss_auth_parse_challenge((const char *)C.msg, C.msg_len, &ch, err, sizeof err) != PT_OK)
            die("%s", err);
        C.reply_len = wss_auth_build_reply(&C.id, &ch, C.reply + LWS_PRE, WSS_AUTH_REPLY_MAX, err,
                                           sizeof err);
        if (C.reply_len < 0)
            die("%s", err);
        C.phase = SEND_REPLY;
        lws_callback_on_writable(wsi);
        break;
    case WAIT_OK:
        if (binary)
            die("expected auth_ok, got a binary message");
        if (wss_auth_check_ok((const char *)C.msg, C.msg_len, err, sizeof err) != PT_OK)
            die("%s", err);
        C.phase = RUNNING;
        C.start = C.last_progress = now_ns();
        lws_callback_on_writable(wsi);
        break;
    case RUNNING:
        if (!binary)
            break; /* text is reserved for future control messages (SPEC 2.6) */
        take_echo(C.msg, C.msg_len);
        if (C.received == C.o.count) {
            C.end = now_ns();
            C.phase = DONE;
            lws_cancel_service(lws_get_context(wsi));
        } else if (C.sent < C.o.count) {
            lws_callback_on_writable(wsi); /* the window opened */
        }
        break;
    default:
        die("unexpected %s message before the upgrade completed", binary ? "binary" : "text");
    }
}

/* Build frame C.sent in C.out and write it. */
static int send_frame(struct lws *wsi)
{
    unsigned char *f = C.out + LWS_PRE;
    bench_fill(f, C.o.size, C.sent);
    bench_put64(f + 8, now_ns()); /* last: the round trip is the transport's */
    if (lws_write(wsi, f, C.o.size, LWS_WRITE_BINARY) < (int)C.o.size)
        return -1;
    C.sent++;
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        die("connection to 127.0.0.1:%lu failed: %s", C.o.port, in ? (const char *)in : "(no detail)");
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        C.phase = WAIT_CHALLENGE;
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (C.msg_len + len > C.msg_cap)
            die("message over %zu bytes", C.msg_cap);
        memcpy(C.msg + C.msg_len, in, len);
        C.msg_len += len;
        if (lws_is_final_fragment(wsi)) {
            on_message(wsi, lws_frame_is_binary(wsi));
            C.msg_len = 0;
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (C.phase == SEND_REPLY) {
            if (lws_write(wsi, (unsigned char *)C.reply + LWS_PRE, (size_t)C.reply_len,
                          LWS_WRITE_TEXT) < C.reply_len)
                die("writing the auth reply failed");
            ptu_wipe(C.reply, sizeof C.reply);
            C.phase = WAIT_OK;
        } else if (C.phase == RUNNING && C.sent < C.o.count &&
                   C.sent - C.received < C.o.window) {
            if (send_frame(wsi) != 0)
                die("lws_write of frame %" PRIu64 " failed", C.sent);
            if (C.sent < C.o.count && C.sent - C.received < C.o.window)
                lws_callback_on_writable(wsi);
        }
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
        const unsigned char *b = in;
        if (C.phase == DONE)
            break;
        if (len >= 2)
            die("the peer closed the connection (%d %.*s) %s", b[0] << 8 | b[1], (int)(len - 2),
                (const char *)b + 2, C.phase == RUNNING ? "while running" : "during auth");
        die("the peer closed the connection %s", C.phase == RUNNING ? "while running" : "during auth");
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (C.phase != DONE)
            die("the connection closed after %" PRIu64 " echoes%s", C.received,
                C.phase == RUNNING ? "" : " (during the upgrade or auth)");
        break;
    default:
        break;
    }
    return 0;
}

/* Once a second: fail when nothing has moved for IO_TIMEOUT_S. */
static void watchdog(lws_sorted_usec_list_t *sul)
{
    if (now_ns() - C.last_progress > (uint64_t)IO_TIMEOUT_S * 1000000000u) {
        if (C.phase == RUNNING)
            die("nothing moved for %d s: %" PRIu64 " of %lu echoes", IO_TIMEOUT_S, C.received,
                C.o.count);
        die("not connected and authenticated after %d s", IO_TIMEOUT_S);
    }
    lws_sul_schedule(C.ctx, 0, sul, watchdog, LWS_US_PER_SEC);
}

static const struct lws_protocols protocols[] = {
    { SUBPROTOCOL, callback, 0, 16384, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

int main(int argc, char **argv)
{
    struct lws_context_creation_info info;
    struct lws_client_connect_info ci;
    struct lws_context *ctx;
    char err[PT_ERRMSG_MAX];

    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs("usage: lws-client --port=N --ca=F --identity=F --node-id=N --count=N --size=B "
              "--window=W\nBenchmark client (libwebsockets); see the top of lws-client.c.\n",
              stderr);
        return 0;
    }
    parse(argc, argv, &C.o);
    if (ptu_identity_load(C.o.identity, &C.id, err, sizeof err) != PT_OK)
        die("%s", err);
    C.id.node_id = (uint32_t)C.o.node_id;
    C.msg_cap = PT_MAX_FRAME;
    C.msg = malloc(C.msg_cap);
    C.out = malloc(LWS_PRE + C.o.size);
    C.seen = calloc(C.o.count, 1);
    C.rtt = malloc(C.o.count * sizeof *C.rtt);
    if (!C.msg || !C.out || !C.seen || !C.rtt)
        die("out of memory for %lu frames", C.o.count);

    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = C.o.ca;
    ctx = C.ctx = lws_create_context(&info);
    if (!ctx)
        die("lws_create_context failed");

    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = "127.0.0.1";
    ci.port = (int)C.o.port;
    ci.ssl_connection = LCCSCF_USE_SSL; /* certificate and host name checked */
    ci.path = PATH;
    ci.host = SERVER_NAME;
    ci.origin = SERVER_NAME;
    ci.protocol = SUBPROTOCOL;
    ci.local_protocol_name = SUBPROTOCOL;
    C.phase = CONNECTING;
    C.last_progress = now_ns();
    if (!lws_client_connect_via_info(&ci))
        die("lws_client_connect_via_info failed");
    lws_sul_schedule(ctx, 0, &C.watchdog, watchdog, LWS_US_PER_SEC);

    while (C.phase != DONE)
        if (lws_service(ctx, 0) < 0)
            die("lws_service failed");

    double secs = (double)(C.end - C.start) / 1e9;
    uint64_t count = C.o.count, size = C.o.size;
    qsort(C.rtt, count, sizeof *C.rtt, bench_cmp_u64);
    printf("RESULT frames=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f fps=%.0f mbps=%.2f "
           "rtt_p50_us=%.1f rtt_p99_us=%.1f\n",
           count, count * size, secs, (double)count / secs, (double)(count * size) * 8 / 1e6 / secs,
           (double)C.rtt[count / 2] / 1e3, (double)C.rtt[(count * 99) / 100] / 1e3);
    fflush(stdout);
    lws_context_destroy(ctx);
    ptu_wipe(&C.id, sizeof C.id);
    free(C.msg);
    free(C.out);
    free(C.seen);
    free(C.rtt);
    return 0;
}
