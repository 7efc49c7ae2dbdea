/* diag.c -- last-error record and logging for plugin connections. */
#include "config.h"

#include "diag.h"

#include <stdio.h>
#include <string.h>

void ptu_diag_init(ptu_diag *d, const pt_dial_params *params)
{
    memset(d, 0, sizeof *d);
    pthread_mutex_init(&d->lock, NULL);
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

int ptu_diag_fail(ptu_diag *d, int code, const char *fmt, ...)
{
    char msg[PT_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&d->lock);
    d->code = code;
    memcpy(d->msg, msg, sizeof msg);
    pthread_mutex_unlock(&d->lock);
    ptu_diag_log(d, PT_LOG_WARN, "%s", msg);
    return code;
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

void ptu_diag_log(const ptu_diag *d, int level, const char *fmt, ...)
{
    char msg[PT_ERRMSG_MAX];
    va_list ap;
    if (!d->log || level > d->log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->log(d->log_userdata, level, msg);
}
