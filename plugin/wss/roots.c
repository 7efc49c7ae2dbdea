/* roots.c -- hand the compiled-in pinned roots to libcurl via a memfd. */
#include "config.h"

#include "roots.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int wss_roots_memfile(int *fd_out, char *path, size_t cap, char *err, size_t errlen)
{
    size_t off = 0;
    int fd = memfd_create("pilot-wss-pinned-roots", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return ptu_err(err, errlen, -1, "wss: pinned roots: memfd_create: %s", strerror(errno));
    while (off < wss_pinned_roots_len) {
        ssize_t n = write(fd, wss_pinned_roots_pem + off, wss_pinned_roots_len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            return ptu_err(err, errlen, -1, "wss: pinned roots: write: %s", strerror(e));
        }
        off += (size_t)n;
    }
    /* Sealed: the trust store cannot change under libcurl. */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
        int e = errno;
        close(fd);
        return ptu_err(err, errlen, -1, "wss: pinned roots: sealing: %s", strerror(e));
    }
    int n = snprintf(path, cap, "/proc/self/fd/%d", fd);
    if (n < 0 || (size_t)n >= cap) {
        close(fd);
        return ptu_err(err, errlen, -1, "wss: pinned roots: path buffer too small");
    }
    *fd_out = fd;
    return 0;
}
