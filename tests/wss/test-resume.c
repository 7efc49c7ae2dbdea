/*
 * test-resume.c -- TLS session resumption on redial (issue 11): when
 * thousands of daemons redial a beacon, each full handshake costs it CPU,
 * so the WSS plugin keeps libcurl's TLS session cache per connection and a
 * redial resumes the session with the TLS 1.3 ticket the beacon sent.
 *
 * Counted where it happens: the development beacon reports each TLS
 * handshake as tls_full or tls_resumed (OpenSSL's SSL_session_reused) in
 * its STATS line, read here as an event (tests/chaos/common.h).  The
 * beacon closes every connection right after auth (--close-after-auth),
 * so the plugin redials again and again; a restarted beacon (a new
 * process, same port and certificate) cannot decrypt the old tickets, and
 * the redial must quietly fall back to a full handshake.  And since the
 * TLS 1.2 minimum had to move for resumption to work at all (dial.c), a
 * server that offers TLS 1.1 at most is still refused.
 */
#include "config.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "harness.h"
#include "tap.h"

#define STATS_MS 10000

/* The beacon's counters, or all zero with a failed check. */
static ch_stats stats(ch_beacon *cb)
{
    ch_stats st;
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(ch_beacon_stats(cb, &st, STATS_MS), 0);
    printf("# beacon: tls_full=%llu tls_resumed=%llu auth_ok=%llu\n",
           (unsigned long long)st.tls_full, (unsigned long long)st.tls_resumed,
           (unsigned long long)st.auth_ok);
    return st;
}

/* Dial a beacon that drops every connection after auth and wait for
 * `redials` reconnects; the beacon's counters after them in *st. */
static int redial_against_dropping_beacon(const char *const *kv, uint64_t redials, ch_stats *st)
{
    static const char *const flags[] = { "--close-after-auth", NULL };
    ch_beacon cb;
    pt_conn *c = NULL;
    int ok = 0;

    memset(st, 0, sizeof *st);
    if (ch_beacon_start(&cb, 0, flags) != 0) {
        CHECK(0);
        return 0;
    }
    if (dial_with(&cb.b, &me, kv, &c) != PT_OK) {
        printf("# dial: %s\n", err);
        CHECK(0);
    } else if (!wait_redials(c, redials, 0, 20000)) { /* up for a moment only */
        printf("# no %llu reconnects\n", (unsigned long long)redials);
        ch_beacon_tail(&cb);
        CHECK(0);
    } else {
        *st = stats(&cb);
        ok = 1;
    }
    done(c);
    ch_beacon_stop(&cb, SIGTERM, NULL, NULL);
    return ok;
}

/* Each redial resumes the session of the connection before it: one full
 * handshake (the first dial), every later one resumed. */
TEST(redial_after_a_drop_resumes_the_tls_session)
{
    ch_stats st;
    if (!redial_against_dropping_beacon(NULL, 3, &st))
        return;
    CHECK_EQ_INT(st.tls_full, 1);
    CHECK(st.tls_resumed >= 3);
    CHECK_EQ_INT(st.tls_full + st.tls_resumed, st.upgrades);
}

/* A resumed session is still the pinned beacon's: the pin is checked on
 * every redial and a resumed handshake passes it. */
TEST(resumed_redials_pass_the_pin)
{
    char path[600], pin[64] = "";
    ch_stats st;
    snprintf(path, sizeof path, "%s/server.pem", certs);
    CHECK(spki_pin(path, pin, sizeof pin));
    const char *kv[] = { "pin-sha256", pin, NULL };
    if (!redial_against_dropping_beacon(kv, 2, &st))
        return;
    CHECK_EQ_INT(st.tls_full, 1);
    CHECK(st.tls_resumed >= 2);
}

/* tls-resume=false: every redial is a full handshake (and the counters
 * above show what the option turns off). */
TEST(tls_resume_false_makes_every_handshake_full)
{
    const char *kv[] = { "tls-resume", "false", NULL };
    ch_stats st;
    if (!redial_against_dropping_beacon(kv, 3, &st))
        return;
    CHECK_EQ_INT(st.tls_resumed, 0);
    CHECK(st.tls_full >= 4);
}

/* A new beacon process on the same port and certificate has new ticket
 * keys: the plugin's ticket is refused, and the redial is a full
 * handshake that connects all the same; the redial after it resumes
 * again, with the new beacon's ticket. */
TEST(redial_after_a_beacon_restart_falls_back_to_a_full_handshake)
{
    ch_beacon cb;
    pt_conn *c = NULL;
    ch_stats st;
    unsigned char frame[32] = "after the restart", back[64];

    if (ch_beacon_start(&cb, 0, NULL) != 0) {
        CHECK(0);
        return;
    }
    int port = cb.b.port;
    CHECK_EQ_INT(dial_with(&cb.b, &me, NULL, &c), PT_OK);
    if (!c) {
        printf("# dial: %s\n", err);
        ch_beacon_stop(&cb, SIGTERM, NULL, NULL);
        return;
    }
    st = stats(&cb);
    CHECK_EQ_INT(st.tls_full, 1);
    ch_beacon_stop(&cb, SIGTERM, NULL, NULL);
    if (ch_beacon_start(&cb, port, NULL) != 0) {
        printf("# the beacon did not restart on port %d\n", port);
        CHECK(0);
        done(c);
        return;
    }
    CHECK(wait_reconnects(c, 1, 20000));
    st = stats(&cb);
    CHECK_EQ_INT(st.tls_full, 1);
    CHECK_EQ_INT(st.tls_resumed, 0);
    /* Connected for real: a frame goes there and back (echo mode). */
    CHECK_EQ_INT(wss->send(c, frame, sizeof frame, NULL), (int)sizeof frame);
    CHECK_EQ_INT(wss->recv(c, back, sizeof back, NULL, 5000 * scale), (int)sizeof frame);
    CHECK(memcmp(frame, back, sizeof frame) == 0);
    done(c);
    ch_beacon_stop(&cb, SIGTERM, NULL, NULL);
}

/* ---- TLS 1.2 at least, with the minimum in the priority string ---------- */

/* gnutls-serv speaking TLS 1.1 only, with the beacon's certificate; ready
 * once it says it listens.  Its pid, or -1. */
static pid_t tls11_server(int port)
{
    char p[16], cert[600], key[600], line[256];
    int fds[2];
    size_t len = 0;
    pid_t pid;

    snprintf(p, sizeof p, "%d", port);
    snprintf(cert, sizeof cert, "%s/server.pem", certs);
    snprintf(key, sizeof key, "%s/server-key.pem", certs);
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1); /* its chatter would end up in the TAP stream */
        dup2(fds[1], 2);  /* where it says that it listens */
        execlp("gnutls-serv", "gnutls-serv", "--x509certfile", cert, "--x509keyfile", key,
               "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.1", "-p", p, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        harness_track_child(pid);
    close(fds[1]);
    for (int64_t until = now_ms() + 10000 * scale; pid > 0 && len < sizeof line - 1;) {
        struct pollfd pf = { fds[0], POLLIN, 0 };
        if (poll(&pf, 1, (int)(until - now_ms())) <= 0 || read(fds[0], line + len, 1) != 1)
            break;
        if (line[len] == '\n') {
            line[len] = '\0';
            if (strstr(line, "listening on IPv4")) {
                close(fds[0]);
                return pid;
            }
            len = 0;
        } else {
            len++;
        }
    }
    close(fds[0]);
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        harness_untrack_child(pid);
    }
    return -1;
}

/* The minimum is set through GnuTLS's priority string (see dial.c): a
 * server that speaks TLS 1.1 at most is still refused at the TLS step. */
TEST(a_server_with_tls_1_1_at_most_is_refused)
{
    beacon fake = { .out_fd = -1, .err_fd = -1 };
    pt_conn *c = NULL;
    fake.port = free_port();
    pid_t pid = tls11_server(fake.port);
    if (pid < 0) {
        printf("# gnutls-serv did not start\n");
        CHECK(0);
        return;
    }
    CHECK_EQ_INT(dial_with(&fake, &me, NULL, &c), PT_ETLS);
    CHECK_STR_CONTAINS(err, "wss dial: TLS: ");
    done(c);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    harness_untrack_child(pid);
}

int main(void)
{
    if (ch_init() != 0)
        return 1;
    tap_on_hang = harness_kill_children; /* no beacon or gnutls-serv outlives a hang */
    RUN(redial_after_a_drop_resumes_the_tls_session);
    RUN(resumed_redials_pass_the_pin);
    RUN(tls_resume_false_makes_every_handshake_full);
    RUN(redial_after_a_beacon_restart_falls_back_to_a_full_handshake);
    if (system("command -v gnutls-serv >/dev/null") == 0)
        RUN(a_server_with_tls_1_1_at_most_is_refused);
    else
        SKIP(a_server_with_tls_1_1_at_most_is_refused, "gnutls-serv not installed");
    ch_cleanup();
    return tap_done();
}
