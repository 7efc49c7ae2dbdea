/* diag.h -- a connection's last-error record and its host log callback.
 * Internal, for plugins.  Prefix: ptu_diag_. */
#ifndef PT_DIAG_H
#define PT_DIAG_H

#include <pthread.h>

#include "pilot_transport.h"
#include "util.h"

typedef struct ptu_diag {
    pthread_mutex_t lock; /* guards code and msg: reader, writer and stats race */
    int code;
    char msg[PT_ERRMSG_MAX];
    pt_log_fn log;
    void *log_userdata;
    int log_level;
} ptu_diag;

/* Take the logger from params (which the caller has size-checked). */
void ptu_diag_init(ptu_diag *d, const pt_dial_params *params);
void ptu_diag_destroy(ptu_diag *d);

/* Record an error (and log it at WARN); returns code. */
int ptu_diag_fail(ptu_diag *d, int code, const char *fmt, ...) PTU_PRINTF(3, 4);

/* Copy the last error into buf; returns its code. */
int ptu_diag_get(ptu_diag *d, char *buf, size_t len);
int ptu_diag_code(ptu_diag *d);

/* Send one line to the host's logger if level is enabled. */
void ptu_diag_log(const ptu_diag *d, int level, const char *fmt, ...) PTU_PRINTF(3, 4);

#endif
