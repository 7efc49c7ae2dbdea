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
 * On failure returns PT_ENOTFOUND, PT_ELOAD, PT_EABI or PT_EINVAL (a mode
 * that cannot name a plugin), and errbuf holds the explanation: where it
 * looked, dlopen's text, the versions that differ, or the missing function. */
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
