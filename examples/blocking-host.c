/*
 * blocking-host.c -- the smallest useful host: load a transport plugin by
 * mode, dial, send one datagram to a peer and wait for its answer, with
 * blocking calls only (loading and dialling: load_and_dial in example.h).
 *
 *   blocking-host [-d DIR] [-i IDENTITY -n NODE_ID] MODE [PEER] [KEY=VALUE...]
 *
 *   blocking-host udp 127.0.0.1:9000 bind=127.0.0.1:0
 *   blocking-host -i id.json -n 42 wss url=wss://beacon.example/v1/compat
 *
 * PEER is where the datagram goes (UDP needs one; WSS has one peer, the
 * beacon, and ignores it).  KEY=VALUE are the plugin's options (see
 * pilot-transport-udp(7), pilot-transport-wss(7)).  The peer must send the
 * datagram back: "pilot-transport echo", or pilot-beacon-dev --mode=echo.
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"

#define ANSWER_WAIT_MS 10000

int main(int argc, char **argv)
{
    struct args a;
    const pt_plugin *p;
    pt_conn *c = NULL;
    char err[PT_ERRMSG_MAX], from[PT_ADDRSTRLEN];
    static char answer[PT_MAX_FRAME]; /* always large enough */
    const char ping[] = "ping from blocking-host";
    pt_addr src;
    int rc, status = 1;

    if (parse_args(argc, argv, &a,
                   "[-d DIR] [-i IDENTITY -n NODE_ID] MODE [PEER] [KEY=VALUE...]") != 0)
        return 2;
    if (load_and_dial("blocking-host", &a, &p, &c) != 0)
        return 1;

    int64_t start = now_ms();
    rc = p->send(c, ping, sizeof ping - 1, a.peer_s ? &a.peer : NULL);
    if (rc < 0) {
        /* PT_ERECONNECTING: the frame was not sent; a daemon would retry. */
        p->last_error(c, err, sizeof err);
        fprintf(stderr, "blocking-host: send: %s (%s)\n", err, pt_strerror(rc));
        goto out;
    }

    /* recv blocks until a datagram, the timeout, or close from another
     * thread.  Anything but our own datagram back (a stray one) is skipped. */
    for (;;) {
        int left = (int)(start + ANSWER_WAIT_MS - now_ms());
        rc = left > 0 ? p->recv(c, answer, sizeof answer, &src, left) : PT_ETIMEDOUT;
        if (rc == PT_ETIMEDOUT) {
            fprintf(stderr, "blocking-host: no answer within %d ms\n", ANSWER_WAIT_MS);
            goto out;
        }
        if (rc < 0) {
            p->last_error(c, err, sizeof err);
            fprintf(stderr, "blocking-host: recv: %s (%s)\n", err, pt_strerror(rc));
            goto out;
        }
        if ((size_t)rc == sizeof ping - 1 && memcmp(answer, ping, (size_t)rc) == 0)
            break;
    }
    printf("answer from %s: %d bytes in %lld ms over %s\n", pt_addr_format(&src, from, sizeof from),
           rc, (long long)(now_ms() - start), p->name);
    status = 0;

out:
    /* close wakes any other thread blocked on c; free only once none is. */
    p->close(c);
    p->free(c);
    return status;
}
