/*
 * memscan.h -- whether some bytes are still anywhere in this process's
 * writable memory: the heap (freed blocks too), anonymous mappings, thread
 * stacks (below their live frames too), the data segments.  For tests
 * that a secret is wiped, not only freed.
 *
 * The memory is read through /proc/self/mem, not by dereferencing it, so
 * that freed blocks and redzones can be read under valgrind and ASan
 * without their complaints.  Mappings over MEMSCAN_MAX_REGION (a
 * sanitizer's shadow memory, reserved and mostly never touched) are
 * skipped, and so are the needle itself and the scanner's own buffer.
 */
#ifndef PT_TEST_MEMSCAN_H
#define PT_TEST_MEMSCAN_H

#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* A secret nothing in the process has seen yet, for memscan_count to
 * look for: prefix and 24 random hex digits, in buf (cap bytes).  Its
 * last 12 characters are the part to look for: a freed block's first 16
 * bytes hold the allocator's links, so a secret at a block's start
 * survives only in part.  0, or -1 (getrandom failed, or cap too small). */
static inline int memscan_fresh_secret(char *buf, size_t cap, const char *prefix)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[12];
    size_t n = strlen(prefix);
    if (n + 2 * sizeof r + 1 > cap || getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    memcpy(buf, prefix, n);
    for (size_t i = 0; i < sizeof r; i++) {
        buf[n + 2 * i] = hex[r[i] >> 4];
        buf[n + 2 * i + 1] = hex[r[i] & 15];
    }
    buf[n + 2 * sizeof r] = '\0';
    explicit_bzero(r, sizeof r);
    return 0;
}

#define MEMSCAN_MAX_REGION ((uintptr_t)1 << 30)
#define MEMSCAN_CHUNK ((size_t)1 << 20)

/* How many copies of needle[0..len) (len >= 8) the writable memory holds,
 * outside the needle itself; -1 if /proc/self/maps or /proc/self/mem
 * cannot be read.  where (cap bytes) names the mapping of the first copy
 * found, e.g. "[heap]+0x1a2b0". */
static inline long memscan_count(const void *needle, size_t len, char *where, size_t cap)
{
    static unsigned char buf[MEMSCAN_CHUNK];
    const uintptr_t self_lo = (uintptr_t)buf, self_hi = self_lo + sizeof buf;
    const uintptr_t nd_lo = (uintptr_t)needle, nd_hi = nd_lo + len;
    char line[512];
    long found = 0;
    if (where && cap)
        *where = '\0';
    if (len < 8 || len > MEMSCAN_CHUNK)
        return -1;
    FILE *maps = fopen("/proc/self/maps", "re");
    int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    if (!maps || mem < 0) {
        if (maps)
            fclose(maps);
        if (mem >= 0)
            close(mem);
        return -1;
    }
    while (fgets(line, sizeof line, maps)) {
        uintptr_t lo, hi;
        char perms[8] = "", path[256] = "";
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %*s %*s %*s %255[^\n]", &lo, &hi, perms,
                   path) < 3)
            continue;
        if (perms[0] != 'r' || perms[1] != 'w' || hi - lo > MEMSCAN_MAX_REGION ||
            !strcmp(path, "[vvar]") || !strcmp(path, "[vsyscall]"))
            continue;
        for (uintptr_t at = lo; at < hi;) {
            size_t want = hi - at < sizeof buf ? (size_t)(hi - at) : sizeof buf;
            ssize_t got = pread(mem, buf, want, (off_t)at);
            if (got < (ssize_t)len)
                break; /* unreadable (or the tail): the rest of this mapping */
            for (size_t i = 0; i + len <= (size_t)got; i++) {
                uintptr_t addr = at + i;
                if (buf[i] != *(const unsigned char *)needle || memcmp(buf + i, needle, len) != 0)
                    continue;
                if ((addr >= nd_lo && addr < nd_hi) || (addr >= self_lo && addr < self_hi))
                    continue;
                if (found++ == 0 && where && cap)
                    snprintf(where, cap, "%s+0x%" PRIxPTR, *path ? path : "anonymous",
                             addr - lo);
            }
            if ((size_t)got < want || at + (uintptr_t)got >= hi)
                break;
            at += (uintptr_t)got - (len - 1); /* a copy across the chunks' seam */
        }
    }
    fclose(maps);
    close(mem);
    return found;
}

#endif
