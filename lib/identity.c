/* identity.c -- read, write and make Pilot identity files (SPEC 4). */
#include "config.h"

#include "identity.h"
#include "base64.h"
#include "ed25519.h"
#include "json.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/base64.h>
#include <nettle/eddsa.h>

#define SEED_SIZE ED25519_KEY_SIZE                       /* 32 */
#define PUB_SIZE ED25519_KEY_SIZE                        /* 32 */
#define PRIV_SIZE (SEED_SIZE + PUB_SIZE)                 /* 64 */
#define PRIV_B64_LEN BASE64_ENCODE_RAW_LENGTH(PRIV_SIZE) /* 88 */
#define PUB_B64_LEN BASE64_ENCODE_RAW_LENGTH(PUB_SIZE)   /* 44 */

/* Members an identity file may have; others than the two keys are ignored. */
#define MAX_MEMBERS 32

/* The serialized file: these three pieces around the two base64 texts. */
#define JSON_HEAD "{\"private_key\":\""
#define JSON_MID "\",\"public_key\":\""
#define JSON_TAIL "\"}\n"
#define JSON_LEN (sizeof(JSON_HEAD JSON_MID JSON_TAIL) - 1 + PRIV_B64_LEN + PUB_B64_LEN)

_Static_assert(sizeof(((pt_identity *)0)->private_key) == PRIV_SIZE, "pt_identity layout");
_Static_assert(sizeof(((pt_identity *)0)->public_key) == PUB_SIZE, "pt_identity layout");

/* ---- Messages ---------------------------------------------------------- */

static int id_err(char *err, size_t errlen, const char *path, int code, const char *fmt, ...)
    PTU_PRINTF(5, 6);

/* "identity file PATH: ..." when there is a file, else "identity: ...". */
static int id_err(char *err, size_t errlen, const char *path, int code, const char *fmt, ...)
{
    va_list ap;
    int off;

    if (!err || errlen == 0)
        return code;
    if (path)
        off = snprintf(err, errlen, "identity file %s: ", path);
    else
        off = snprintf(err, errlen, "identity: ");
    if (off < 0 || (size_t)off >= errlen)
        return code;
    va_start(ap, fmt);
    vsnprintf(err + off, errlen - (size_t)off, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- Parsing ----------------------------------------------------------- */

/* The string member called name, or NULL with a message. */
static const ptu_json_field *string_member(const ptu_json_field *f, size_t n, const char *name,
                                           const char *path, char *err, size_t errlen)
{
    const ptu_json_field *m = ptu_json_find(f, n, name);
    if (!m)
        id_err(err, errlen, path, PT_EINVAL, "missing \"%s\"", name);
    else if (m->type != PTU_JSON_STRING)
        id_err(err, errlen, path, PT_EINVAL, "\"%s\" is not a string", name);
    else
        return m;
    return NULL;
}

/* Decode member m, named name, as base64 of exactly want bytes into out. */
static int decode_key(const ptu_json_field *m, const char *name, uint8_t *out, size_t want,
                      const char *path, char *err, size_t errlen)
{
    size_t cap = m->val_len + 1, size = 0; /* decoding never lengthens */
    char *text = malloc(cap);
    int len, rc;

    if (!text)
        return id_err(err, errlen, path, PT_ENOMEM, "out of memory");
    len = ptu_json_string(m, text, cap);
    if (len < 0)
        rc = id_err(err, errlen, path, PT_EINVAL, "\"%s\" is not a valid string", name);
    else if (ptu_base64_check(text, (size_t)len, &size) != 0)
        rc = id_err(err, errlen, path, PT_EINVAL, "\"%s\" is not valid standard base64", name);
    else if (size != want)
        rc = id_err(err, errlen, path, PT_EINVAL, "\"%s\" is %zu bytes; it must be %zu", name,
                    size, want);
    else if (ptu_base64_decode(text, (size_t)len, out, want, &size) != 0)
        rc = id_err(err, errlen, path, PT_EINVAL, "\"%s\" is not valid standard base64", name);
    else
        rc = PT_OK;
    ptu_wipe(text, cap);
    free(text);
    return rc;
}

/* ptu_identity_parse, with messages about the file at path (may be NULL). */
static int parse(const char *text, size_t len, pt_identity *id, const char *path, char *err,
                 size_t errlen)
{
    ptu_json_field f[MAX_MEMBERS];
    const ptu_json_field *fpriv, *fpub;
    uint8_t priv[PRIV_SIZE], pub[PUB_SIZE];
    char jerr[128];
    size_t n;
    int rc;

    if (!id || (!text && len > 0))
        return id_err(err, errlen, path, PT_EINVAL, "invalid arguments");
    /* json messages hold offsets, never text, so jerr is safe to show. */
    if (ptu_json_parse_object(text, len, f, MAX_MEMBERS, &n, jerr, sizeof jerr) != 0)
        return id_err(err, errlen, path, PT_EINVAL, "not a valid JSON object (%s)", jerr);
    fpriv = string_member(f, n, "private_key", path, err, errlen);
    if (!fpriv)
        return PT_EINVAL;
    fpub = string_member(f, n, "public_key", path, err, errlen);
    if (!fpub)
        return PT_EINVAL;

    rc = decode_key(fpriv, "private_key", priv, PRIV_SIZE, path, err, errlen);
    if (rc != PT_OK)
        goto out;
    rc = decode_key(fpub, "public_key", pub, PUB_SIZE, path, err, errlen);
    if (rc != PT_OK)
        goto out;
    if (!ptu_ed25519_public_matches(priv, priv + SEED_SIZE)) {
        rc = id_err(err, errlen, path, PT_EINVAL,
                    "the second half of \"private_key\" is not the public key of its seed "
                    "(the key is corrupt)");
        goto out;
    }
    /* The second half is the derived key (checked above): compare with it. */
    if (memcmp(pub, priv + SEED_SIZE, PUB_SIZE) != 0) {
        rc = id_err(err, errlen, path, PT_EINVAL,
                    "\"public_key\" does not match the key derived from \"private_key\"");
        goto out;
    }
    memcpy(id->private_key, priv, PRIV_SIZE);
    memcpy(id->public_key, pub, PUB_SIZE);
    id->has_key = 1;
    rc = PT_OK;
out:
    ptu_wipe(priv, sizeof priv);
    ptu_wipe(pub, sizeof pub);
    return rc;
}

int ptu_identity_parse(const char *text, size_t len, pt_identity *id, char *err, size_t errlen)
{
    return parse(text, len, id, NULL, err, errlen);
}

/* ---- Loading ----------------------------------------------------------- */

/* At most this many symbolic links are followed (the kernel's own limit). */
#define MAX_LINKS 40

#ifdef PTU_IDENTITY_TEST_HOOK
void (*ptu_identity_test_hook_before_open)(int hop, const char *name);
#endif

/* Objects an identity file may be reached through or stored in: ours, or
 * root's (root can change anything anyway, so trusting it adds nothing,
 * and /etc-style links keep working; OpenSSH decides the same). */
static int trusted_owner(uid_t uid)
{
    return uid == geteuid() || uid == 0;
}

/*
 * Open the identity file at path for reading, following symbolic links
 * only when they are owned by us or root.  Returns the descriptor, or a
 * negative PT_ code with a message.
 *
 * The order makes every check apply to the object that is finally read;
 * nothing is checked by name and then opened by name again:
 *   1. The directory part of the name is opened (O_PATH; links on the way
 *      are followed like in any path, directories are not vetted).
 *   2. The last component is opened with O_NOFOLLOW.  If it is not a
 *      symbolic link, that descriptor is the file, and the caller checks
 *      its type, owner and mode on it (fstat), so a rename or swap before
 *      the open cannot slip another file past the checks.
 *   3. If it is a link (ELOOP), the link itself is opened (O_PATH |
 *      O_NOFOLLOW), its owner checked with fstat on that descriptor, and its
 *      target read from the same descriptor (readlinkat ""): a link swapped
 *      in after the check is never the one read.  The target is then
 *      resolved from step 1, relative to the link's directory.  A link
 *      swapped in for the target in the meantime meets step 3 again.
 */
static int open_identity(const char *path, char *err, size_t errlen)
{
    char *name = malloc(PATH_MAX + 1), *next = malloc(PATH_MAX + 1), *tmp;
    int dirfd = AT_FDCWD, fd = -1, lfd = -1, rc;
    struct stat st;

    if (!name || !next) {
        rc = id_err(err, errlen, path, PT_ENOMEM, "out of memory");
        goto out;
    }
    if (strlen(path) > PATH_MAX) {
        rc = id_err(err, errlen, path, PT_EINVAL, "%s", strerror(ENAMETOOLONG));
        goto out;
    }
    strcpy(name, path);
    for (int hop = 0;; hop++) {
        char *slash = strrchr(name, '/');
        strcpy(next, name); /* the name as given, for a message */
        if (slash) {
            /* "a/b/c": open "a/b/" from dirfd, keep "c" (name becomes it,
             * so a retry below starts from the right directory). */
            char keep = slash[1];
            slash[1] = '\0';
            int nd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
            slash[1] = keep;
            if (nd < 0) {
                rc = id_err(err, errlen, path, PT_EINVAL, "%s", strerror(errno));
                goto out;
            }
            if (dirfd >= 0)
                close(dirfd);
            dirfd = nd;
            memmove(name, slash + 1, strlen(slash + 1) + 1);
        }
        if (*name == '\0')
            strcpy(name, "."); /* "dir/": the directory itself */
#ifdef PTU_IDENTITY_TEST_HOOK
        if (ptu_identity_test_hook_before_open)
            ptu_identity_test_hook_before_open(hop, name);
#endif
        /* O_NONBLOCK: opening a FIFO must not hang; the caller refuses it. */
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0) {
            rc = fd;
            goto out;
        }
        if (errno != ELOOP) {
            rc = id_err(err, errlen, path, PT_EINVAL, "%s", strerror(errno));
            goto out;
        }
        /* The last component is a symbolic link. */
        if (hop == MAX_LINKS) {
            rc = id_err(err, errlen, path, PT_EINVAL, "%s", strerror(ELOOP));
            goto out;
        }
        lfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (lfd < 0 || fstat(lfd, &st) != 0) {
            rc = id_err(err, errlen, path, PT_EINVAL, "%s", strerror(errno));
            goto out;
        }
        if (!S_ISLNK(st.st_mode)) {
            /* Replaced by something else since the open: look again. */
            close(lfd);
            lfd = -1;
            continue;
        }
        if (!trusted_owner(st.st_uid)) {
            if (hop == 0)
                rc = ptu_err(err, errlen, PT_EINVAL,
                             "identity file %s is a symbolic link owned by uid %u, neither "
                             "you (uid %u) nor root; refusing to follow it",
                             path, (unsigned)st.st_uid, (unsigned)geteuid());
            else
                rc = ptu_err(err, errlen, PT_EINVAL,
                             "identity file %s leads through the symbolic link \"%s\", owned "
                             "by uid %u, neither you (uid %u) nor root; refusing to follow it",
                             path, next, (unsigned)st.st_uid, (unsigned)geteuid());
            goto out;
        }
        ssize_t n = readlinkat(lfd, "", next, PATH_MAX + 1);
        if (n < 0 || n > PATH_MAX) {
            rc = id_err(err, errlen, path, PT_EINVAL, "reading a symbolic link: %s",
                        strerror(n < 0 ? errno : ENAMETOOLONG));
            goto out;
        }
        if (n == 0) {
            rc = id_err(err, errlen, path, PT_EINVAL, "%s", strerror(ENOENT));
            goto out;
        }
        next[n] = '\0';
        close(lfd);
        lfd = -1;
        tmp = name;
        name = next;
        next = tmp;
    }
out:
    if (lfd >= 0)
        close(lfd);
    if (dirfd >= 0)
        close(dirfd);
    free(name);
    free(next);
    return rc;
}

int ptu_identity_load(const char *path, pt_identity *id, char *err, size_t errlen)
{
    const size_t max = PTU_IDENTITY_MAX_FILE;
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int fd, rc;

    if (!path || !*path || !id)
        return id_err(err, errlen, NULL, PT_EINVAL, "no identity file given");
    fd = open_identity(path, err, errlen);
    if (fd < 0)
        return fd;
    /* Every check is on the open descriptor: what is checked is what is read. */
    if (fstat(fd, &st) != 0) {
        rc = id_err(err, errlen, path, PT_EIO, "%s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = ptu_err(err, errlen, PT_EINVAL, "identity file %s is not a regular file", path);
        goto out;
    }
    if (!trusted_owner(st.st_uid)) {
        rc = ptu_err(err, errlen, PT_EINVAL,
                     "identity file %s is owned by uid %u, neither you (uid %u) nor root; "
                     "refusing to use it (its owner could change it: chown it to yourself, "
                     "or run as its owner)",
                     path, (unsigned)st.st_uid, (unsigned)geteuid());
        goto out;
    }
    if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
        rc = ptu_err(err, errlen, PT_EINVAL,
                     "identity file %s is too large (%lld bytes; the limit is %zu)", path,
                     (long long)st.st_size, max);
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        rc = ptu_err(err, errlen, PT_EINVAL,
                     "identity file %s is %s by group or others (mode %04o); "
                     "fix with: chmod 600 %s",
                     path, (st.st_mode & 044) ? "readable" : "accessible",
                     (unsigned)(st.st_mode & 07777), path);
        goto out;
    }

    /* Read to EOF rather than trusting st_size: the file may have grown. */
    buf = malloc(max + 1);
    if (!buf) {
        rc = id_err(err, errlen, path, PT_ENOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        ssize_t r;
        if (len > max) {
            rc = ptu_err(err, errlen, PT_EINVAL,
                         "identity file %s is too large (more than %zu bytes)", path, max);
            goto out;
        }
        r = read(fd, buf + len, max + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = id_err(err, errlen, path, PT_EIO, "read: %s", strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    rc = parse(buf, len, id, path, err, errlen);
out:
    if (buf) {
        ptu_wipe(buf, len);
        free(buf);
    }
    close(fd);
    return rc;
}

/* ---- Making and saving ------------------------------------------------- */

int ptu_identity_generate(pt_identity *id, char *err, size_t errlen)
{
    uint8_t seed[SEED_SIZE], pub[PUB_SIZE];
    size_t got = 0;

    if (!id)
        return id_err(err, errlen, NULL, PT_EINVAL, "invalid arguments");
    while (got < sizeof seed) {
        ssize_t r = getrandom(seed + got, sizeof seed - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            ptu_wipe(seed, sizeof seed);
            return id_err(err, errlen, NULL, PT_EIO, "getrandom: %s", strerror(e));
        }
        got += (size_t)r;
    }
    ed25519_sha512_public_key(pub, seed);
    memcpy(id->private_key, seed, SEED_SIZE);
    memcpy(id->private_key + SEED_SIZE, pub, PUB_SIZE);
    memcpy(id->public_key, pub, PUB_SIZE);
    id->has_key = 1;
    ptu_wipe(seed, sizeof seed);
    return PT_OK;
}

void ptu_identity_public_b64(const pt_identity *id, char out[45])
{
    if (!out)
        return;
    if (!id) {
        out[0] = '\0';
        return;
    }
    base64_encode_raw(out, PUB_SIZE, id->public_key);
    out[PUB_B64_LEN] = '\0';
}

/* The file's contents into out[JSON_LEN]; returns JSON_LEN. */
static size_t serialize(char out[JSON_LEN], const pt_identity *id)
{
    char *p = out;

    memcpy(p, JSON_HEAD, sizeof JSON_HEAD - 1);
    p += sizeof JSON_HEAD - 1;
    base64_encode_raw(p, PRIV_SIZE, id->private_key);
    p += PRIV_B64_LEN;
    memcpy(p, JSON_MID, sizeof JSON_MID - 1);
    p += sizeof JSON_MID - 1;
    base64_encode_raw(p, PUB_SIZE, id->public_key);
    p += PUB_B64_LEN;
    memcpy(p, JSON_TAIL, sizeof JSON_TAIL - 1);
    p += sizeof JSON_TAIL - 1;
    return (size_t)(p - out);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int refuse_existing(const char *path, char *err, size_t errlen)
{
    return ptu_err(err, errlen, PT_EINVAL,
                   "identity file %s already exists; refusing to overwrite it (use -force)",
                   path);
}

int ptu_identity_save(const char *path, const pt_identity *id, int force, char *err,
                      size_t errlen)
{
    static const char suffix[] = ".XXXXXX";
    char json[JSON_LEN];
    const char *base, *dir;
    char *tmp = NULL;
    size_t dirlen, baselen, len;
    int fd = -1, dfd, rc, mismatch, have_tmp = 0;
    struct stat st;

    if (!path || !*path)
        return id_err(err, errlen, NULL, PT_EINVAL, "no identity file given");
    if (!id || !id->has_key)
        return id_err(err, errlen, path, PT_EINVAL, "no key to save");
    mismatch = !ptu_ed25519_public_matches(id->private_key, id->private_key + SEED_SIZE) ||
               memcmp(id->private_key + SEED_SIZE, id->public_key, PUB_SIZE) != 0;
    if (mismatch)
        return id_err(err, errlen, path, PT_EINVAL,
                      "refusing to save a key whose public half does not match its seed");
    base = strrchr(path, '/');
    base = base ? base + 1 : path;
    dirlen = (size_t)(base - path); /* with its trailing '/' */
    baselen = strlen(base);
    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return id_err(err, errlen, path, PT_EINVAL, "not a file name");
    /* Refuse before creating anything; link() below closes the race. */
    if (!force && lstat(path, &st) == 0)
        return refuse_existing(path, err, errlen);

    /* DIR/.BASE.XXXXXX */
    tmp = malloc(dirlen + 1 + baselen + sizeof suffix);
    if (!tmp)
        return id_err(err, errlen, path, PT_ENOMEM, "out of memory");
    memcpy(tmp, path, dirlen);
    tmp[dirlen] = '.';
    memcpy(tmp + dirlen + 1, base, baselen);
    memcpy(tmp + dirlen + 1 + baselen, suffix, sizeof suffix);
    fd = mkostemp(tmp, O_CLOEXEC); /* O_CREAT|O_EXCL (so no symlink is followed), 0600 */
    if (fd < 0) {
        rc = id_err(err, errlen, path, PT_EIO, "cannot create a temporary file: %s",
                    strerror(errno));
        goto out;
    }
    have_tmp = 1;
    if (fchmod(fd, 0600) != 0) {
        rc = id_err(err, errlen, path, PT_EIO, "chmod: %s", strerror(errno));
        goto out;
    }
    len = serialize(json, id);
    if (write_all(fd, json, len) != 0 || fsync(fd) != 0) {
        rc = id_err(err, errlen, path, PT_EIO, "write: %s", strerror(errno));
        goto out;
    }
    rc = close(fd);
    fd = -1;
    if (rc != 0) {
        rc = id_err(err, errlen, path, PT_EIO, "write: %s", strerror(errno));
        goto out;
    }

    if (force) {
        rc = rename(tmp, path);
    } else {
        /* link() fails if path exists, so a file created since the lstat
         * above is never replaced.  Where hard links are not supported,
         * fall back to rename() and the lstat check. */
        rc = link(tmp, path);
        if (rc != 0 && errno == EEXIST) {
            rc = refuse_existing(path, err, errlen);
            goto out;
        }
        if (rc != 0 && (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP ||
                        errno == ENOSYS || errno == EMLINK))
            rc = rename(tmp, path);
        else if (rc == 0)
            (void)unlink(tmp);
    }
    if (rc != 0) {
        rc = id_err(err, errlen, path, PT_EIO, "cannot move the new file into place: %s",
                    strerror(errno));
        goto out;
    }
    have_tmp = 0;

    /* Make the new directory entry durable.  tmp is no longer needed: cut
     * it down to the directory part. */
    if (dirlen > 0) {
        tmp[dirlen] = '\0';
        dir = tmp;
    } else {
        dir = ".";
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        rc = id_err(err, errlen, path, PT_EIO, "cannot open its directory: %s",
                    strerror(errno));
        goto out;
    }
    /* Some file systems cannot sync a directory (EINVAL); nothing to do. */
    if (fsync(dfd) != 0 && errno != EINVAL) {
        rc = id_err(err, errlen, path, PT_EIO, "cannot sync its directory: %s",
                    strerror(errno));
        close(dfd);
        goto out;
    }
    close(dfd);
    rc = PT_OK;
out:
    if (fd >= 0)
        close(fd);
    if (have_tmp)
        (void)unlink(tmp);
    ptu_wipe(json, sizeof json);
    free(tmp);
    return rc;
}
