/*
 * pilot_transport_loader.h -- find and load Pilot transport plugins.
 *
 * Link with libpilot-transport (pkg-config --libs pilot-transport).
 *
 * A transport mode names a plugin file: mode "wss" is
 * "pilot-transport-wss.so".  Modes are case-insensitive; "compat" is an
 * alias of "wss" (the Pilot daemon's name for it).  Plugins are searched in
 *   1. the directory the host passes (e.g. its -transport-dir flag),
 *   2. $PILOT_TRANSPORT_DIR (read with secure_getenv: not in a set-user-ID
 *      or set-group-ID process),
 *   3. the installed plugin directory (pt_loader_default_dir()),
 * and the first file that exists is loaded; if it is broken, loading fails
 * (there is no silent fall-through to another copy).  Loaded plugins stay
 * resident for the life of the process (RTLD_NODELETE), because TLS
 * libraries keep global state that must not be unmapped.
 *
 * All functions are thread-safe.
 */
#ifndef PILOT_TRANSPORT_LOADER_H
#define PILOT_TRANSPORT_LOADER_H

#include "pilot_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loader-only error codes, beyond those of pilot_transport.h. */
enum pt_loader_error {
    PT_ENOTFOUND = -100,  /* no plugin file for this mode */
    PT_ELOAD = -101,      /* the file exists but is not a usable plugin */
    PT_EABI = -102        /* the plugin was built for another ABI */
};

/* Load the plugin for mode.  dir may be NULL.  On success *out points to a
 * descriptor of this header's size: slots the plugin does not provide read
 * as NULL, so hosts may test optional (later-minor) functions for NULL.
 * On failure returns PT_ENOTFOUND, PT_ELOAD, PT_EABI, PT_EINVAL (a mode
 * that cannot name a plugin) or PT_ENOMEM, and errbuf holds the
 * explanation: where it looked, dlopen's text, the versions that differ,
 * or the missing function. */
int pt_loader_open(const char *mode, const char *dir, const pt_plugin **out,
                   char *errbuf, size_t errlen);

/* The canonical plugin name for a mode ("compat" -> "wss", lower case) in
 * buf.  Returns PT_OK or PT_EINVAL if mode is empty, too long, or contains
 * anything but letters, digits, '-' and '_'. */
int pt_loader_canonical_mode(const char *mode, char *buf, size_t len);

/* Call fn once for each distinct plugin mode found in the search path
 * (dir, $PILOT_TRANSPORT_DIR, the installed directory), in order, with the
 * directory and the full path of the file.  Files shadowed by an earlier
 * directory are skipped.  Returns how many were found, or PT_ENOMEM when
 * the list could not be completed (fn may have been called for some). */
typedef void (*pt_loader_each_fn)(void *userdata, const char *mode,
                                  const char *path);
int pt_loader_list(const char *dir, pt_loader_each_fn fn, void *userdata);

/* ---- -transport=auto ---------------------------------------------------
 * What the Pilot daemon's -transport=auto does (SPEC 6), so that every host
 * decides the same way.  pt_loader_select loads the udp and wss plugins
 * (from dir, as pt_loader_open) and asks their probe functions, in order:
 *   1. udp, when the UDP beacon answers a Discover;
 *   2. else wss (compat), when the compat beacon answers its probe;
 *   3. else wss, when the compat probe failed at a proxy (PT_EPROXY: it
 *      refused, wanted credentials or was unreachable): the proxy is the
 *      only way out, and udp would bypass it;
 *   4. else udp: nothing is reachable yet; start degraded, as before.
 * A plugin that is missing or has no probe counts as not answering.
 * The two probes run at the same time, each in a thread of its own, so the
 * call takes about one timeout_ms, not two: once the UDP beacon answers,
 * the compat probe is cancelled; a compat answer waits for the UDP probe
 * (rule 1 comes first).  The probes get the caller's dial parameters as
 * 1.2 ones with a cancel_fd of the loader's; the cancel_fd of the caller's
 * parameters (either) cancels both.  The call returns once both probes
 * have returned; one still running 2 s past its budget is
 * cancelled.  */
typedef struct pt_select_params {
    uint32_t struct_size;          /* sizeof(pt_select_params) */
    int32_t timeout_ms;            /* each probe's budget; <= 0: 3000 */
    const char *dir;               /* plugin directory; may be NULL */
    const pt_dial_params *udp;     /* what the udp probe gets (its options
                                    * name the beacon; its identity or
                                    * signer the node id the Discover
                                    * names, no key needed); NULL: skip it */
    const pt_dial_params *compat;  /* what the wss probe gets (url, proxy,
                                    * trust); NULL: skip it */
} pt_select_params;

/* Decide as above.  Writes the canonical mode ("udp" or "wss") into mode
 * and a one-line reason into reason (what answered, or what failed for
 * each probe; never credentials).  Returns PT_OK, or PT_EINVAL (NULL or
 * short params, buffers too small) or PT_ECLOSED (a cancel_fd in the
 * params fired) with the reason saying so.  mode needs 4 bytes; reason
 * must not be NULL, and a reason that does not fit ends in "..."; on
 * failure mode is "". */
int pt_loader_select(const pt_select_params *params, char *mode, size_t mode_len,
                     char *reason, size_t reason_len);

/* The installed plugin directory, compiled in at build time. */
const char *pt_loader_default_dir(void);

/* Short English text for any PT_E* code ("closed", "timed out", ...). */
const char *pt_strerror(int code);

/* Format an address as "1.2.3.4:5" or "[::1]:5" into buf.  Returns buf. */
char *pt_addr_format(const pt_addr *a, char *buf, size_t len);

/* Enough room for any pt_addr_format() result. */
#define PT_ADDRSTRLEN 64

#ifdef __cplusplus
}
#endif
#endif /* PILOT_TRANSPORT_LOADER_H */
