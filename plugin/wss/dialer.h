/*
 * dialer.h -- what every dial of one WSS connection shares: the trust
 * settings, libcurl's TLS session cache (so that a redial resumes the
 * session) and the proxy state kept between dials.  Implemented in
 * dial.c; a header of its own so that conn.h can hold one without
 * dial.h's names.  Prefix: wss_dialer_.
 */
#ifndef PT_WSS_DIALER_H
#define PT_WSS_DIALER_H

#include <curl/curl.h>
#include <pthread.h>

#include "conf.h"
#include "diag.h"
#include "pilot_transport.h"
#include "proxy.h"

/* What every dial of one connection shares; the connection (pt_conn)
 * owns one, set up once with wss_dialer_init.  Used by one dial at a time
 * (the first dial, then the keeper's redials). */
typedef struct wss_dialer {
    const wss_config *cfg;
    const char *ca_path;   /* the beacon's only roots, or NULL for the system's */
    ptu_diag *diag;  /* INFO: the proxy chosen; WARN: proxy-cmd failures; DEBUG: the data path */
    /* libcurl's TLS session cache for this connection's dials: a redial
     * resumes the session (a TLS 1.3 ticket that libcurl stores when it
     * reads it, which is after the handshake, in curl_easy_recv).  NULL
     * with tls-resume=false. */
    CURLSH *share;
    pthread_mutex_t share_lock;
    wss_proxy proxy;       /* proxy-cmd's output between dials */
    int unwiped_warned;    /* said that libcurl does not wipe (curl_mem.h) */
} wss_dialer;

/* Set up *dl for cfg (which it points to, and must outlive it).  Returns
 * PT_OK or PT_ENOMEM ("wss dial: out of memory"). */
int wss_dialer_init(wss_dialer *dl, const wss_config *cfg, const char *ca_path,
                    ptu_diag *diag, char *err, size_t errlen);
/* The host's cancel_fd in params, or -1: read only from a host of minor 2
 * or later (pilot_transport.h), so a zero-filled or 1.0/1.1 struct never
 * watches descriptor 0. */
int wss_dialer_cancel_fd(const pt_dial_params *params);

/* Free the session cache and wipe proxy-cmd's output.  Every link dialled
 * with dl must be freed first (their handles use the cache). */
void wss_dialer_free(wss_dialer *dl);

#endif
