/*
 * auth_exchange.c -- the WSS auth exchange (SPEC 2.5) on a freshly
 * upgraded link: read the challenge, send the signed reply, wait for
 * auth_ok, answering pings meanwhile.  The messages themselves are
 * auth.c's; this file is apart from it because auth.c is pure and is
 * linked alone into the test beacon, the fuzzers and the benchmark.
 */
#include "config.h"

#include <poll.h>

#include "auth.h"
#include "dial.h"
#include "link.h"
#include "util.h"

/* Read the next data message during auth, answering pings. */
static int auth_read(wss_link *l, const char *step, int cancel_fd, int64_t deadline_ms,
                     wss_msg *m, char *err, size_t errlen)
{
    char why[PT_ERRMSG_MAX];
    for (;;) {
        int rc = wss_link_read(l, m, why, sizeof why);
        if (rc == PT_OK) {
            if (m->kind == WSS_MSG_PING) {
                /* A pong is tiny: it fits the socket buffer or the link is dead. */
                if (wss_link_queue(l, WSS_MSG_PONG, m->data, m->len) != PT_OK ||
                    wss_link_flush(l, why, sizeof why) < 0)
                    return ptu_err(err, errlen, PT_EIO, "wss auth: answering a ping: %s", why);
                continue;
            }
            if (m->kind == WSS_MSG_PONG)
                continue;
            if (m->kind == WSS_MSG_CLOSE)
                return ptu_err(err, errlen, PT_EAUTH,
                               "wss auth: beacon closed the connection: %d%s%s", m->close_code,
                               *m->close_reason ? " " : "", m->close_reason);
            return PT_OK;
        }
        if (rc != WSS_AGAIN)
            return ptu_err(err, errlen, rc == PT_EIO ? PT_EAUTH : rc,
                           "wss auth: while waiting for the %s: %s", step, why);
        rc = wss_dial_wait(wss_link_socket(l), POLLIN, cancel_fd, deadline_ms);
        if (rc == PT_ETIMEDOUT)
            return ptu_err(err, errlen, PT_ETIMEDOUT,
                           "wss auth: no %s within the dial timeout", step);
        if (rc != PT_OK)
            return ptu_err(err, errlen, rc, "wss auth: %s while waiting for the %s",
                           rc == PT_ECLOSED ? "cancelled" : "poll failed", step);
    }
}

/* Send the signed reply; the send buffer is wiped of it whatever happens. */
static int send_reply(wss_link *l, const char *reply, size_t len, int cancel_fd,
                      int64_t deadline_ms, char *err, size_t errlen)
{
    char why[PT_ERRMSG_MAX] = "";
    int rc = wss_link_queue(l, WSS_MSG_TEXT, reply, len);

    if (rc != PT_OK) {
        rc = ptu_err(err, errlen, PT_EAUTH, "wss auth: cannot queue the reply");
        goto out;
    }
    while ((rc = wss_link_flush(l, why, sizeof why)) != PT_OK) {
        if (rc == WSS_AGAIN)
            rc = wss_dial_wait(wss_link_socket(l), POLLOUT, cancel_fd, deadline_ms);
        if (rc != PT_OK) {
            rc = ptu_err(err, errlen, rc == PT_ETIMEDOUT || rc == PT_ECLOSED ? rc : PT_EAUTH,
                         "wss auth: sending the reply: %s",
                         rc == PT_ETIMEDOUT ? "timed out" : rc == PT_ECLOSED ? "cancelled" : why);
            goto out;
        }
    }
out:
    wss_link_wipe_sent(l);
    return rc;
}

int wss_auth_exchange(wss_link *l, const pt_signer *signer, int cancel_fd, int64_t deadline_ms,
                      char *err, size_t errlen)
{
    wss_msg m;
    wss_challenge ch;
    char reply[WSS_AUTH_REPLY_MAX];
    int rc;

    rc = auth_read(l, "auth challenge", cancel_fd, deadline_ms, &m, err, errlen);
    if (rc != PT_OK)
        return rc;
    if (m.kind != WSS_MSG_TEXT)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss auth: expected the auth challenge as a text message, got a "
                       "binary one");
    rc = wss_auth_parse_challenge((const char *)m.data, m.len, &ch, err, errlen);
    if (rc != PT_OK)
        return rc;
    rc = wss_auth_build_signed_reply(signer, &ch, reply, sizeof reply, err, errlen);
    if (rc < 0)
        return rc;
    rc = send_reply(l, reply, (size_t)rc, cancel_fd, deadline_ms, err, errlen);
    ptu_wipe(reply, sizeof reply);
    if (rc != PT_OK)
        return rc;
    rc = auth_read(l, "auth_ok", cancel_fd, deadline_ms, &m, err, errlen);
    if (rc != PT_OK)
        return rc;
    if (m.kind != WSS_MSG_TEXT)
        return ptu_err(err, errlen, PT_EPROTO,
                       "wss auth: expected auth_ok as a text message, got a binary one");
    return wss_auth_check_ok((const char *)m.data, m.len, err, errlen);
}
