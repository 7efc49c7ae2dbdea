/* diag.c -- last-error record and logging for plugin connections (diag.h). */
#include "config.h"

#include "diag.h"

#include <stdio.h>
#include <string.h>

void ptu_diag_init(ptu_diag *d, const pt_dial_params *params)
{
    memset(d, 0, sizeof *d);
    pthread_mutex_init(&d->lock, NULL);
    atomic_init(&d->queued, 0);
    if (params) {
        d->log = params->log;
        d->log_userdata = params->log_userdata;
        d->log_level = params->log_level;
    }
}

void ptu_diag_destroy(ptu_diag *d)
{
    pthread_mutex_destroy(&d->lock);
}

/* ---- The queue of lines ---------------------------------------------------- */

static int enabled(const ptu_diag *d, int level)
{
    return d->log && level <= d->log_level;
}

/* Queue msg at level; lock held. */
static void enqueue(ptu_diag *d, int level, const char *msg)
{
    if (!enabled(d, level))
        return;
    atomic_store_explicit(&d->queued, 1, memory_order_relaxed);
    if (d->count == PTU_DIAG_QUEUE) {
        d->lost++;
        return;
    }
    ptu_diag_line *l = &d->queue[(d->head + d->count) % PTU_DIAG_QUEUE];
    l->level = level;
    snprintf(l->msg, sizeof l->msg, "%s", msg);
    d->count++;
}

void ptu_diag_flush(ptu_diag *d)
{
    ptu_diag_line line;

    /* Nothing queued, the common case on the data path: no lock.  A line
     * queued by another thread after this look is flushed by that thread. */
    if (!d->log || !atomic_load_explicit(&d->queued, memory_order_relaxed))
        return;
    pthread_mutex_lock(&d->lock);
    if (d->in_logger) { /* that thread takes ours too, in order */
        pthread_mutex_unlock(&d->lock);
        return;
    }
    d->in_logger = 1;
    while (d->count || d->lost) {
        if (d->count) {
            line = d->queue[d->head];
            d->head = (d->head + 1) % PTU_DIAG_QUEUE;
            d->count--;
        } else { /* after the lines that did fit, as it happened */
            line.level = PT_LOG_WARN;
            snprintf(line.msg, sizeof line.msg,
                     "log: %llu lines dropped while the host's log callback was busy",
                     (unsigned long long)d->lost);
            d->lost = 0;
        }
        pthread_mutex_unlock(&d->lock);
        d->log(d->log_userdata, line.level, line.msg);
        pthread_mutex_lock(&d->lock);
    }
    d->in_logger = 0;
    atomic_store_explicit(&d->queued, 0, memory_order_relaxed); /* emptied, under the lock */
    pthread_mutex_unlock(&d->lock);
}

/* ---- Errors and lines -------------------------------------------------------- */

/* Record code and msg as the last error, queue msg at WARN; lock held. */
static void record_fail(ptu_diag *d, int code, const char *msg)
{
    d->code = code;
    snprintf(d->msg, sizeof d->msg, "%s", msg);
    enqueue(d, PT_LOG_WARN, msg);
}

static int vfail_later(ptu_diag *d, int code, const char *fmt, va_list ap) PTU_PRINTF(3, 0);

static int vfail_later(ptu_diag *d, int code, const char *fmt, va_list ap)
{
    char msg[PT_ERRMSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    pthread_mutex_lock(&d->lock);
    record_fail(d, code, msg);
    pthread_mutex_unlock(&d->lock);
    return code;
}

static void vlog_later(ptu_diag *d, int level, const char *fmt, va_list ap) PTU_PRINTF(3, 0);

static void vlog_later(ptu_diag *d, int level, const char *fmt, va_list ap)
{
    char msg[PT_ERRMSG_MAX];
    if (!enabled(d, level))
        return;
    vsnprintf(msg, sizeof msg, fmt, ap);
    pthread_mutex_lock(&d->lock);
    enqueue(d, level, msg);
    pthread_mutex_unlock(&d->lock);
}

int ptu_diag_fail_later(ptu_diag *d, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_later(d, code, fmt, ap);
    va_end(ap);
    return code;
}

void ptu_diag_log_later(ptu_diag *d, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_later(d, level, fmt, ap);
    va_end(ap);
}

int ptu_diag_fail(ptu_diag *d, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_later(d, code, fmt, ap);
    va_end(ap);
    ptu_diag_flush(d);
    return code;
}

void ptu_diag_log(ptu_diag *d, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_later(d, level, fmt, ap);
    va_end(ap);
    ptu_diag_flush(d);
}

int ptu_diag_get(ptu_diag *d, char *buf, size_t len)
{
    int code;
    pthread_mutex_lock(&d->lock);
    code = d->code;
    if (buf && len)
        snprintf(buf, len, "%s", d->msg);
    pthread_mutex_unlock(&d->lock);
    return code;
}

int ptu_diag_code(ptu_diag *d)
{
    return ptu_diag_get(d, NULL, 0);
}

/* ---- Repeated warnings -------------------------------------------------------- */

void ptu_diag_repeat_init(ptu_diag_repeat *r, const char *what)
{
    memset(r, 0, sizeof *r);
    r->what = what;
}

/* Queue the line for r's pending occurrences at now; lock held.  With the
 * queue full they stay pending, for the next line: none is lost. */
static void repeat_line(ptu_diag *d, ptu_diag_repeat *r, int64_t now)
{
    char msg[2 * PT_ERRMSG_MAX]; /* cut to PT_ERRMSG_MAX when queued */
    if (enabled(d, PT_LOG_WARN) && d->count == PTU_DIAG_QUEUE)
        return;
    if (r->pending == 1) {
        enqueue(d, PT_LOG_WARN, r->last);
    } else {
        snprintf(msg, sizeof msg, "%s: %llu in the last %.1f s (the last: %s)", r->what,
                 (unsigned long long)r->pending, (double)(now - r->line_ms) / 1000.0, r->last);
        enqueue(d, PT_LOG_WARN, msg);
    }
    r->pending = 0;
    r->line_ms = now;
}

int ptu_diag_repeat_note(ptu_diag *d, ptu_diag_repeat *r, int64_t now, int code, const char *msg)
{
    pthread_mutex_lock(&d->lock);
    if (code < 0) {
        d->code = code;
        snprintf(d->msg, sizeof d->msg, "%s", msg);
    }
    snprintf(r->last, sizeof r->last, "%s", msg);
    r->pending++;
    if (!r->started) { /* the very first: logged at once */
        r->started = 1;
        r->line_ms = now;
        repeat_line(d, r, now);
    } else if (now - r->line_ms >= PTU_DIAG_REPEAT_MS) {
        repeat_line(d, r, now);
    }
    pthread_mutex_unlock(&d->lock);
    return code;
}

void ptu_diag_repeat_tick(ptu_diag *d, ptu_diag_repeat *r, int64_t now, int force)
{
    pthread_mutex_lock(&d->lock);
    if (r->pending && (force || now - r->line_ms >= PTU_DIAG_REPEAT_MS))
        repeat_line(d, r, now);
    pthread_mutex_unlock(&d->lock);
}
