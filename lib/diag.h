/* diag.h -- a connection's last-error record and its host log callback.
 * Internal, for plugins.  Prefix: ptu_diag_.
 *
 * The host's log callback may be slow (a pipe, a lock of its own).  It must
 * never run under a plugin's connection lock, or one slow line stalls every
 * thread of the connection.  So code under that lock records lines
 * (ptu_diag_log_later, ptu_diag_fail_later, the repeat functions) and the
 * thread hands them to the logger once it has unlocked (ptu_diag_flush);
 * ptu_diag_log and ptu_diag_fail do both at once, for code that holds no
 * lock.  Lines reach the logger in the order they were recorded, one at a
 * time: a thread that finds another one in the logger leaves its lines to
 * that thread and goes on, so a slow logger holds up only the thread that
 * is calling it.  Lines that find the queue full are counted, and the count
 * is logged once there is room.
 */
#ifndef PT_DIAG_H
#define PT_DIAG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "pilot_transport.h"
#include "util.h"

/* Lines recorded and not yet handed to the logger, at most. */
#define PTU_DIAG_QUEUE 16

typedef struct ptu_diag_line {
    int level;
    char msg[PT_ERRMSG_MAX];
} ptu_diag_line;

typedef struct ptu_diag {
    pthread_mutex_t lock; /* guards all but the logger's three fields (set once) */
    int code;
    char msg[PT_ERRMSG_MAX];
    pt_log_fn log;
    void *log_userdata;
    int log_level;
    ptu_diag_line queue[PTU_DIAG_QUEUE]; /* oldest at head */
    unsigned head, count;
    uint64_t lost;        /* lines that found the queue full */
    int in_logger;        /* a thread is in ptu_diag_flush: it empties the queue */
    atomic_int queued;    /* count or lost may be non-zero: read without the lock */
} ptu_diag;

/* Take the logger from params (which the caller has size-checked). */
void ptu_diag_init(ptu_diag *d, const pt_dial_params *params);
/* Lines still queued are dropped: flush first. */
void ptu_diag_destroy(ptu_diag *d);

/* Record an error (and log it at WARN); returns code. */
int ptu_diag_fail(ptu_diag *d, int code, const char *fmt, ...) PTU_PRINTF(3, 4);

/* Copy the last error into buf; returns its code. */
int ptu_diag_get(ptu_diag *d, char *buf, size_t len);
int ptu_diag_code(ptu_diag *d);

/* Send one line to the host's logger if level is enabled. */
void ptu_diag_log(ptu_diag *d, int level, const char *fmt, ...) PTU_PRINTF(3, 4);

/* The same two, with the line only queued: safe under a lock. */
int ptu_diag_fail_later(ptu_diag *d, int code, const char *fmt, ...) PTU_PRINTF(3, 4);
void ptu_diag_log_later(ptu_diag *d, int level, const char *fmt, ...) PTU_PRINTF(3, 4);

/* Hand the queued lines to the host's logger, unless another thread is
 * already doing so.  Call with no lock of the plugin's held. */
void ptu_diag_flush(ptu_diag *d);

/* A warning that can come at line rate (an inbound frame dropped, once per
 * frame): at most one line every PTU_DIAG_REPEAT_MS.  One that comes a
 * quiet second after the last line is logged as it is (its detail); the
 * rest are counted and summed up, when the second is over, in one line:
 *
 *   "<what>: N in the last S s (the last: <detail>)"
 *
 * Every occurrence is in exactly one line (a detail line counts one) once
 * ptu_diag_repeat_tick has been called with force: a line that finds the
 * queue full is not dropped, its occurrences wait for the next.  The last
 * error is recorded every time.  Guarded by the diag's lock: callable under
 * a plugin's lock (lines are queued, not logged). */
#define PTU_DIAG_REPEAT_MS 1000

typedef struct ptu_diag_repeat {
    const char *what;          /* e.g. "wss: inbound frames dropped" */
    uint64_t pending;          /* occurrences in no line yet */
    int64_t line_ms;           /* when the last line was queued (or the first came) */
    int started;               /* whether there was one yet */
    char last[PT_ERRMSG_MAX];  /* the latest occurrence */
} ptu_diag_repeat;

void ptu_diag_repeat_init(ptu_diag_repeat *r, const char *what);

/* One occurrence at now (monotonic ms), described by msg: queue a WARN line
 * if one is due.  A negative code is also recorded, with msg, as the last
 * error.  Returns code. */
int ptu_diag_repeat_note(ptu_diag *d, ptu_diag_repeat *r, int64_t now, int code, const char *msg);

/* Queue the summary of the pending occurrences if PTU_DIAG_REPEAT_MS have
 * passed since the last line, or at once with force. */
void ptu_diag_repeat_tick(ptu_diag *d, ptu_diag_repeat *r, int64_t now, int force);

#endif
