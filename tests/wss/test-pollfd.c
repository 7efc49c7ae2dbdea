/*
 * test-pollfd.c -- poll_fd's promise to event-loop hosts, against a peer
 * that coalesces: "readable whenever recv(..., 0) would return a frame".
 *
 * The peer is raw-tls --ws (tests/bench/raw-tls.c), which echoes every TLS
 * record it receives as ONE record, as nginx and load balancers do: many
 * WebSocket messages arrive in one read, the socket then polls quiet, and
 * a plugin whose ring fills must still show the rest through poll_fd.  The
 * host here is an event loop that reads exactly one datagram per readiness
 * event.  A frame that recv(..., 0) returns while poll_fd polled quiet is
 * "hidden": there must be none, and no wait for readiness may time out
 * while frames are still due.  (A frame whose bytes reached the socket
 * after the poll was not there to show: such frames are only counted.)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_received */
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "byteorder.h"
#include "harness.h"
#include "tap.h"

/* Start raw-tls server --ws with the test certificate; fills b (pid, port,
 * out_fd) for dial_with and beacon_stop.  0, or -1 with it stopped. */
static int peer_start(beacon *b)
{
    const char *bin = getenv("PT_RAW_TLS");
    char cert[600], key[600], line[128];
    size_t len = 0;
    int p[2];

    memset(b, 0, sizeof *b);
    b->err_fd = b->out_fd = -1;
    if (!bin || pipe2(p, O_CLOEXEC) != 0) {
        printf("# PT_RAW_TLS is not set (make check sets it)\n");
        return -1;
    }
    snprintf(cert, sizeof cert, "--cert=%s/server.pem", certs);
    snprintf(key, sizeof key, "--key=%s/server-key.pem", certs);
    fflush(stdout); /* nothing buffered may be written twice */
    b->pid = fork();
    if (b->pid < 0) {
        printf("# fork: %s\n", strerror(errno));
        close(p[0]);
        close(p[1]);
        b->pid = 0;
        return -1;
    }
    if (b->pid == 0) {
        dup2(p[1], 1);
        execl(bin, bin, "server", "--port=0", "--ws", cert, key, (char *)NULL);
        _exit(127);
    }
    harness_track_child(b->pid);
    close(p[1]);
    b->out_fd = p[0];
    while (len < sizeof line - 1) {
        struct pollfd pf = { b->out_fd, POLLIN, 0 };
        if (poll(&pf, 1, (int)ceiling_ms(10000)) <= 0 || read(b->out_fd, line + len, 1) != 1)
            break;
        if (line[len++] == '\n') {
            line[len] = '\0';
            if (sscanf(line, "READY port=%d", &b->port) == 1)
                return 0;
            break;
        }
    }
    printf("# raw-tls --ws did not start\n");
    beacon_stop(b);
    return -1;
}

static int readable(int fd, int ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    return poll(&p, 1, ms) > 0 && (p.revents & POLLIN);
}

/* The plugin's TCP socket to the peer: the one descriptor of this process
 * connected to port (the peer is on loopback), or -1 (with a diagnostic)
 * if there is not exactly one. */
static int socket_to(int port)
{
    int found = -1, n = 0;
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
            continue;
        int p = ss.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                : ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                           : -1;
        if (p == port) {
            found = fd;
            n++;
        }
    }
    if (n != 1)
        printf("# %d sockets connected to port %d\n", n, port);
    return n == 1 ? found : -1;
}

/* The bytes the kernel has taken in on TCP socket sock so far, or -1. */
static int64_t bytes_received(int sock)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(sock, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
        return -1;
    return (int64_t)ti.tcpi_bytes_received;
}

/* Send n frames of size bytes (a big-endian sequence number first) in one
 * send_many, so they leave in as few TLS records as fit, and read their
 * echoes one per readiness event.  Counts frames recv(..., 0) returned
 * while poll_fd polled quiet (hidden) and waits for readiness that timed
 * out while frames were due (stalls).  A frame recv returned after a quiet
 * poll when the socket had taken in bytes since just before the poll may
 * have come with them, after the poll: counted apart (arrived), not as
 * hidden.  With no bytes come in, what recv read was in the plugin or in
 * the socket when poll_fd polled quiet. */
static void echo_one_per_event(const char *recv_buffer, unsigned n, size_t size)
{
    beacon b;
    pt_conn *c = NULL;
    static unsigned char out[400][1200], in[PT_MAX_FRAME];
    pt_frame f[400];
    unsigned got = 0, hidden = 0, arrived = 0, stalls = 0, wrong = 0;

    if (n > 400 || size > sizeof out[0] || size < 4) {
        CHECK(!"test parameters");
        return;
    }
    if (peer_start(&b) != 0) {
        CHECK(!"peer started");
        return;
    }
    const char *kv[] = { "recv-buffer", recv_buffer, NULL };
    CHECK_EQ_INT(dial_with(&b, &me, kv, &c), PT_OK);
    if (!c) {
        printf("# dial: %s\n", err);
        beacon_stop(&b);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        memset(out[i], (int)(i & 0xff), size);
        ptu_put32(out[i], i);
        f[i] = (pt_frame){ out[i], size, NULL };
    }
    int sock = socket_to(b.port);
    CHECK(sock >= 0);
    CHECK_EQ_INT(wss->send_many(c, f, n), (int)n);

    int fd = wss->poll_fd(c);
    while (got < n && sock >= 0) {
        int64_t before = bytes_received(sock);
        int ready = readable(fd, 0);
        int r = wss->recv(c, in, sizeof in, NULL, 0);
        if (r >= 0) {
            if (!ready) {
                int64_t after = bytes_received(sock);
                CHECK(before >= 0 && after >= 0);
                if (after == before)
                    hidden++;
                else
                    arrived++;
            }
            wrong += (size_t)r != size || ptu_get32(in) != got;
            got++;
            continue;
        }
        if (r != PT_ETIMEDOUT) {
            printf("# recv: %d after %u frames\n", r, got);
            break;
        }
        /* Nothing now: the next frames are on their way.  A readiness that
         * never comes while they are due is the stall an event loop meets. */
        if (!readable(fd, (int)ceiling_ms(2000))) {
            stalls++;
            break;
        }
    }
    CHECK_EQ_INT(got, n);
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(hidden, 0);
    CHECK_EQ_INT(stalls, 0);
    /* Everything read: poll_fd goes quiet, so the loop does not spin. */
    CHECK_EQ_INT(wss->recv(c, in, sizeof in, NULL, 0), PT_ETIMEDOUT);
    CHECK(!readable(fd, 0));
    if (hidden || stalls || arrived)
        printf("# recv-buffer=%s: %u frames, %u hidden from poll_fd, %u stalls; %u read on "
               "arrival after a quiet poll\n",
               recv_buffer, got, hidden, stalls, arrived);
    done(c);
    beacon_stop(&b);
}

/* 40 small frames come back in one TLS record: with recv-buffer=4 the ring
 * fills at once and 36 whole messages wait in the link's buffer. */
TEST(poll_fd_shows_messages_held_in_the_link_behind_a_full_ring)
{
    echo_one_per_event("4", 40, 64);
}

/* The default ring, with more frames than it holds, in many records. */
TEST(poll_fd_never_goes_quiet_with_frames_due_at_the_default_buffer)
{
    echo_one_per_event("256", 300, 1200);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (harness_init() != 0)
        return 1;
    tap_on_hang = harness_kill_children; /* no raw-tls outlives a hang */
    RUN(poll_fd_shows_messages_held_in_the_link_behind_a_full_ring);
    RUN(poll_fd_never_goes_quiet_with_frames_due_at_the_default_buffer);
    harness_cleanup();
    return tap_done();
}
