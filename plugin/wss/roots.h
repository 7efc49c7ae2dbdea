/*
 * roots.h -- the WSS plugin's pinned root certificates (tls-trust=pinned),
 * compiled in at build time from data/ (configure --with-pinned-roots=DIR
 * picks another directory), and their hand-off to libcurl.
 *
 * libcurl 8.14's GnuTLS backend has no CURLOPT_CAINFO_BLOB, so the roots
 * are written into an anonymous memory file (memfd) and libcurl is given
 * its /proc/self/fd path as CURLOPT_CAINFO: nothing touches the disk and
 * no other process can swap the file.
 */
#ifndef PT_WSS_ROOTS_H
#define PT_WSS_ROOTS_H

#include <stddef.h>

/* Concatenated PEM certificates, NUL-terminated (generated). */
extern const char wss_pinned_roots_pem[];
extern const size_t wss_pinned_roots_len;
extern const unsigned wss_pinned_roots_count;

/* Create a sealed, read-only memfd holding the pinned roots; *fd_out is
 * its descriptor (the caller closes it when libcurl no longer needs it) and
 * path receives "/proc/self/fd/N".  Returns 0, or -1 with err set. */
int wss_roots_memfile(int *fd_out, char *path, size_t cap, char *err, size_t errlen);

#endif
