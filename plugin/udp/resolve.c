/*
 * resolve.c -- "HOST:PORT" to an address without being stuck in the
 * resolver (udp.h).  getaddrinfo cannot be interrupted and may take many
 * seconds when DNS is down, longer than a probe's budget and longer than a
 * host that cancels a dial will wait.  So a name is resolved in a detached
 * thread and the caller waits on an eventfd, the cancel descriptor and its
 * deadline; if it gives up first, the thread finishes alone and the last
 * of the two to let go of the job frees it.  Numeric hosts never start a
 * thread.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "addr.h"
#include "udp.h"
#include "util.h"

typedef struct job {
    atomic_int refs;        /* the caller and the thread */
    int done_fd;            /* eventfd, written once the result is in */
    char spec[UDP_ADDR_TEXT_MAX];
    char host[256];
    pt_addr addr;
    int rc;
    char err[PT_ERRMSG_MAX];
} job;

static void job_release(job *j)
{
    if (atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) == 1) {
        close(j->done_fd);
        free(j);
    }
}

static void *resolver_main(void *arg)
{
    job *j = arg;
    uint64_t one = 1;
    j->rc = ptu_addr_resolve(j->spec, j->host, &j->addr, j->err, sizeof j->err);
    /* Cannot fail: the counter is written once. */
    ssize_t w = write(j->done_fd, &one, sizeof one); /* release: the result above */
    (void)w;
    job_release(j);
    return NULL;
}

/* Wait for j's result, the cancel descriptor or the deadline. */
static int job_wait(job *j, int cancel_fd, int64_t deadline_ms, char *err, size_t errlen)
{
    for (;;) {
        struct pollfd p[2] = { { j->done_fd, POLLIN, 0 }, { cancel_fd, POLLIN, 0 } };
        int wait_ms = -1;
        if (deadline_ms >= 0) {
            int64_t left = deadline_ms - ptu_now_ms();
            if (left <= 0)
                return ptu_err(err, errlen, PT_ETIMEDOUT, "resolving \"%s\" took too long",
                               j->host);
            wait_ms = left > INT32_MAX ? INT32_MAX : (int)left;
        }
        int r = poll(p, cancel_fd >= 0 ? 2 : 1, wait_ms);
        if (r < 0 && errno != EINTR)
            return ptu_err(err, errlen, PT_EIO, "resolving \"%s\": poll: %s", j->host,
                           strerror(errno));
        if (r > 0 && p[0].revents) {
            uint64_t v;
            ssize_t rd = read(j->done_fd, &v, sizeof v); /* acquire: the result */
            (void)rd;
            return PT_OK;
        }
        if (r > 0 && p[1].revents)
            return ptu_err(err, errlen, PT_ECLOSED, "cancelled (cancel_fd) while resolving \"%s\"",
                           j->host);
    }
}

int udp_resolve(const char *s, const char *opt, int passive, pt_addr *out, int cancel_fd,
                int64_t deadline_ms, char *err, size_t errlen)
{
    char why[PT_ERRMSG_MAX];
    pthread_attr_t attr;
    pthread_t t;
    job *j;
    int rc;

    j = calloc(1, sizeof *j);
    if (!j)
        return ptu_err(err, errlen, PT_ENOMEM, "out of memory");
    rc = ptu_addr_parse_literal(s, passive, out, j->host, sizeof j->host, why, sizeof why);
    if (rc != PTU_ADDR_NAME) {
        free(j);
        return rc == PT_OK ? PT_OK : ptu_err(err, errlen, PT_EOPTION, "%s: %s", opt, why);
    }
    snprintf(j->spec, sizeof j->spec, "%s", s);
    j->addr = *out; /* the port */
    atomic_init(&j->refs, 2);
    j->done_fd = eventfd(0, EFD_CLOEXEC);
    if (j->done_fd < 0) {
        rc = ptu_err(err, errlen, PT_EIO, "resolving \"%s\": eventfd: %s", j->host,
                     strerror(errno));
        free(j);
        return rc;
    }
    rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&t, &attr, resolver_main, j);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        close(j->done_fd);
        free(j);
        return ptu_err(err, errlen, PT_ENOMEM, "resolving \"%s\": cannot start a thread: %s",
                       s, strerror(rc));
    }
    rc = job_wait(j, cancel_fd, deadline_ms, err, errlen);
    if (rc == PT_OK) {
        if (j->rc == PT_OK)
            *out = j->addr;
        else
            rc = ptu_err(err, errlen, PT_EIO, "%s: %s", opt, j->err);
    }
    job_release(j);
    return rc;
}
