/*
 * poll-host.c -- a host built on an event loop: poll(2) on the plugin's
 * poll_fd, with a timer that sends one datagram every TICK_MS.  Whenever
 * the descriptor polls readable, drain what is ready -- with recv_many when
 * the plugin has it (ABI 1.2), else with recv -- until PT_ETIMEDOUT.
 * Loading and dialling are load_and_dial in example.h.
 *
 *   poll-host [-d DIR] [-i IDENTITY -n NODE_ID] [-c COUNT] MODE [PEER] [KEY=VALUE...]
 *
 * It sends COUNT (default 10) datagrams to PEER (ignored by WSS) and exits
 * 0 once as many have come back, as from "pilot-transport echo" or
 * pilot-beacon-dev --mode=echo; 1 if they have not within DEADLINE_MS.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>

#include "example.h"

#define TICK_MS 20
#define DEADLINE_MS 20000
#define BATCH 16

static char bufs[BATCH][PT_MAX_FRAME];

/* Take every datagram that is ready now, without waiting.  Returns how
 * many arrived, or a negative code the connection cannot go on after. */
static int drain(const pt_plugin *p, pt_conn *c)
{
    int got = 0, n;
    for (;;) {
        if (p->recv_many) {
            pt_rframe f[BATCH];
            for (int i = 0; i < BATCH; i++)
                f[i] = (pt_rframe){ .data = bufs[i], .cap = sizeof bufs[i] };
            n = p->recv_many(c, f, BATCH, 0);
            for (int i = 0; i < n; i++)
                got += f[i].len > 0; /* a slot may say PT_ETOOLARGE */
        } else {
            n = p->recv(c, bufs[0], sizeof bufs[0], NULL, 0);
            got += n > 0;
        }
        if (n > 0 || n == PT_ETOOLARGE) /* (one datagram discarded) */
            continue;
        if (n == PT_ETIMEDOUT) /* drained; also what a spurious wake-up gives */
            return got;
        if (n == PT_EIO) { /* e.g. an ICMP error for an earlier datagram */
            char err[PT_ERRMSG_MAX];
            p->last_error(c, err, sizeof err);
            fprintf(stderr, "poll-host: recv: %s\n", err);
            return got;
        }
        return n; /* PT_ECLOSED */
    }
}

int main(int argc, char **argv)
{
    struct args a;
    const pt_plugin *p;
    pt_conn *c = NULL;
    char err[PT_ERRMSG_MAX];
    int rc, status = 1, sent = 0, answered = 0;

    if (parse_args(argc, argv, &a, "[-d DIR] [-i IDENTITY -n NODE_ID] [-c COUNT] "
                                   "MODE [PEER] [KEY=VALUE...]") != 0)
        return 2;
    if (load_and_dial("poll-host", &a, &p, &c) != 0)
        return 1;

    /* Level-triggered and owned by the plugin: poll it, never read or
     * close it. */
    struct pollfd pfd = { .fd = p->poll_fd(c), .events = POLLIN };
    int64_t start = now_ms(), next_tick = start, deadline = start + DEADLINE_MS;
    while (answered < a.count) {
        int64_t now = now_ms();
        if (now >= deadline) {
            fprintf(stderr, "poll-host: %d of %d answered within %d ms\n", answered, a.count,
                    DEADLINE_MS);
            goto out;
        }
        if (sent < a.count && now >= next_tick) { /* the timer */
            char msg[32];
            int len = snprintf(msg, sizeof msg, "poll-host %d", sent);
            /* send may block briefly while the network pushes back. */
            rc = p->send(c, msg, (size_t)len, a.peer_s ? &a.peer : NULL);
            if (rc >= 0) {
                sent++;
            } else if (rc != PT_ERECONNECTING) { /* reconnecting: next tick */
                p->last_error(c, err, sizeof err);
                fprintf(stderr, "poll-host: send: %s (%s)\n", err, pt_strerror(rc));
                goto out;
            }
            next_tick += TICK_MS;
            continue;
        }
        int64_t wake = sent < a.count && next_tick < deadline ? next_tick : deadline;
        if (poll(&pfd, 1, (int)(wake - now)) < 0 && errno != EINTR) {
            perror("poll-host: poll");
            goto out;
        }
        if (pfd.revents & POLLIN) {
            rc = drain(p, c);
            if (rc < 0) {
                fprintf(stderr, "poll-host: recv: %s\n", pt_strerror(rc));
                goto out;
            }
            answered += rc;
        }
    }

    pt_stats st = { .struct_size = sizeof st };
    p->stats(c, &st);
    printf("sent %d, answered %d in %lld ms over %s, reading with %s; stats: %llu in, %llu out\n",
           sent, answered, (long long)(now_ms() - start), p->name,
           p->recv_many ? "recv_many" : "recv",
           PT_HAS_FIELD(&st, pt_stats, frames_in) ? (unsigned long long)st.frames_in : 0ULL,
           PT_HAS_FIELD(&st, pt_stats, frames_out) ? (unsigned long long)st.frames_out : 0ULL);
    status = 0;
out:
    p->close(c);
    p->free(c);
    return status;
}
