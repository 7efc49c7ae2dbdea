/*
 * loader.c -- find a transport plugin by mode, dlopen it, and check its
 * descriptor before anything in it is called.
 */
#include "config.h"

#include "pilot_transport_loader.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLUGIN_PREFIX "pilot-transport-"
#define PLUGIN_SUFFIX ".so"
#define MODE_MAX 32

/* Descriptors handed to hosts: each a copy of the plugin's, sized to this
 * header's pt_plugin and zero past the plugin's struct_size, so a slot the
 * plugin does not have reads as NULL.  Kept for the life of the process,
 * like the plugins themselves (RTLD_NODELETE). */
struct loaded {
    struct loaded *next;
    const pt_plugin *original;
    pt_plugin copy;
};
static struct loaded *loaded_list;
static pthread_mutex_t loaded_lock = PTHREAD_MUTEX_INITIALIZER;

/* The installed plugin directory, the last place searched.  The tests link
 * their own build of this file (PT_LOADER_TEST_BUILD) in which a test
 * decides what is installed, through $PT_TEST_INSTALLED_DIR, so that what
 * is installed on the machine never changes a test's result.  The library
 * and the host that get installed are built without it and only ever
 * search PT_PLUGIN_DIR here. */
const char *pt_loader_default_dir(void)
{
#ifdef PT_LOADER_TEST_BUILD
    const char *test_dir = secure_getenv("PT_TEST_INSTALLED_DIR");
    if (test_dir && *test_dir)
        return test_dir;
#endif
    return PT_PLUGIN_DIR;
}

int pt_loader_canonical_mode(const char *mode, char *buf, size_t len)
{
    size_t n;
    if (!mode || !buf)
        return PT_EINVAL;
    n = strlen(mode);
    if (n == 0 || n >= MODE_MAX || n >= len)
        return PT_EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)mode[i];
        if (!isalnum(ch) && ch != '-' && ch != '_')
            return PT_EINVAL;
        buf[i] = (char)tolower(ch);
    }
    buf[n] = '\0';
    if (strcmp(buf, "compat") == 0) {
        if (len < 4)
            return PT_EINVAL;
        strcpy(buf, "wss");
    }
    return PT_OK;
}

/* The search path: up to three directories, in order, empty ones left out. */
static size_t search_dirs(const char *dir, const char *dirs[3])
{
    size_t n = 0;
    /* secure_getenv: a set-user-ID program does not load plugins from a
     * directory its caller names. */
    const char *env = secure_getenv("PILOT_TRANSPORT_DIR");
    if (dir && *dir)
        dirs[n++] = dir;
    if (env && *env)
        dirs[n++] = env;
    dirs[n++] = pt_loader_default_dir();
    return n;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The smallest descriptor a plugin declaring minor may have: every slot of
 * its minor is there.  A minor newer than this header's must still hold
 * everything this header knows (minors only append), and is read up to
 * that: what lies beyond is hidden from the host. */
_Static_assert(PT_ABI_MINOR == 2, "size_for_minor() knows minors 0 to 2: add the new one");
static size_t size_for_minor(unsigned minor)
{
    switch (minor) {
    case 0:
        return PT_PLUGIN_SIZE_1_0;
    case 1:
        return PT_PLUGIN_SIZE_1_1;
    default:
        return PT_PLUGIN_SIZE_1_2;
    }
}

/* Check the descriptor and return the host-sized copy of it. */
static int adopt(const char *path, const pt_plugin *p, const pt_plugin **out, char *err,
                 size_t errlen)
{
    static const struct { const char *name; size_t off; } mandatory[] = {
#define SLOT(f) { #f, offsetof(pt_plugin, f) }
        SLOT(dial), SLOT(send), SLOT(recv), SLOT(close), SLOT(local_addr),
        SLOT(poll_fd), SLOT(stats), SLOT(last_error), SLOT(free),
#undef SLOT
    };
    const size_t header = offsetof(pt_plugin, abi_minor) + sizeof p->abi_minor;
    struct loaded *l;
    int rc = PT_OK;

    if (!p)
        return ptu_err(err, errlen, PT_ELOAD, "%s: %s() returned no descriptor", path,
                       PT_ENTRY_SYMBOL);
    if (p->struct_size < header)
        return ptu_err(err, errlen, PT_ELOAD,
                       "%s: descriptor too small (%u bytes; not even a header)", path,
                       (unsigned)p->struct_size);
    if (p->abi_major != PT_ABI_MAJOR)
        return ptu_err(err, errlen, PT_EABI,
                       "%s: plugin ABI %u.%u, host ABI %d.%d: major versions differ", path,
                       (unsigned)p->abi_major, (unsigned)p->abi_minor, PT_ABI_MAJOR,
                       PT_ABI_MINOR);
    if (p->struct_size < PT_PLUGIN_V1_0_SIZE)
        return ptu_err(err, errlen, PT_ELOAD,
                       "%s: descriptor too small: %u bytes, ABI %d.0 needs at least %zu", path,
                       (unsigned)p->struct_size, PT_ABI_MAJOR, (size_t)PT_PLUGIN_V1_0_SIZE);
    if (p->struct_size < size_for_minor(p->abi_minor))
        return ptu_err(err, errlen, PT_ELOAD,
                       "%s: descriptor too small for the ABI it declares: %u bytes, ABI %u.%u "
                       "needs at least %zu (a plugin built against a newer header than it "
                       "fills in?)",
                       path, (unsigned)p->struct_size, (unsigned)p->abi_major,
                       (unsigned)p->abi_minor, size_for_minor(p->abi_minor));
    if (!p->name || !*p->name || !p->version)
        return ptu_err(err, errlen, PT_ELOAD, "%s: descriptor has no name or version", path);
    for (size_t i = 0; i < sizeof mandatory / sizeof mandatory[0]; i++) {
        void (*fn)(void);
        memcpy(&fn, (const char *)p + mandatory[i].off, sizeof fn);
        if (!fn)
            return ptu_err(err, errlen, PT_ELOAD, "%s: mandatory function %s() missing", path,
                           mandatory[i].name);
    }

    pthread_mutex_lock(&loaded_lock);
    for (l = loaded_list; l; l = l->next)
        if (l->original == p)
            break;
    if (!l) {
        l = calloc(1, sizeof *l);
        if (!l) {
            rc = ptu_err(err, errlen, PT_ENOMEM, "%s: out of memory", path);
        } else {
            size_t n = p->struct_size < sizeof l->copy ? p->struct_size : sizeof l->copy;
            l->original = p;
            memcpy(&l->copy, p, n);
            l->copy.struct_size = (uint32_t)n;
            l->next = loaded_list;
            loaded_list = l;
        }
    }
    pthread_mutex_unlock(&loaded_lock);
    if (rc == PT_OK)
        *out = &l->copy;
    return rc;
}

int pt_loader_open(const char *mode, const char *dir, const pt_plugin **out, char *err,
                   size_t errlen)
{
    char canon[MODE_MAX], path[4096], looked[3 * 1024 + 16] = "";
    const char *dirs[3];
    size_t ndirs, i;
    void *handle;
    pt_entry_fn entry;

    if (!out)
        return ptu_err(err, errlen, PT_EINVAL, "pt_loader_open: out is NULL");
    *out = NULL;
    if (pt_loader_canonical_mode(mode, canon, sizeof canon) != PT_OK)
        return ptu_err(err, errlen, PT_EINVAL,
                       "invalid transport mode \"%s\": use letters, digits, '-' or '_' "
                       "(at most %d characters)",
                       mode ? mode : "(null)", MODE_MAX - 1);

    ndirs = search_dirs(dir, dirs);
    for (i = 0; i < ndirs; i++) {
        int n = snprintf(path, sizeof path, "%s/" PLUGIN_PREFIX "%s" PLUGIN_SUFFIX, dirs[i],
                         canon);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        if (is_file(path))
            break;
        size_t used = strlen(looked);
        snprintf(looked + used, sizeof looked - used, "%s%s", used ? ", " : "", dirs[i]);
    }
    if (i == ndirs)
        return ptu_err(err, errlen, PT_ENOTFOUND,
                       "no plugin for transport \"%s\": " PLUGIN_PREFIX "%s" PLUGIN_SUFFIX
                       " not found in %s",
                       mode, canon, looked);

    /* RTLD_LOCAL: plugins' symbols stay private to them.  RTLD_NODELETE:
     * never unmapped, even by a later dlclose. */
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!handle) {
        const char *why = dlerror();
        return ptu_err(err, errlen, PT_ELOAD, "cannot load %s: %s", path,
                       why ? why : "unknown dlopen error");
    }
    dlerror();
    void *sym = dlsym(handle, PT_ENTRY_SYMBOL);
    if (!sym) {
        dlclose(handle); /* stays mapped (NODELETE); drops our reference */
        return ptu_err(err, errlen, PT_ELOAD,
                       "%s is not a Pilot transport plugin for ABI %d: no %s symbol", path,
                       PT_ABI_MAJOR, PT_ENTRY_SYMBOL);
    }
    /* POSIX guarantees dlsym results convert to function pointers. */
    memcpy(&entry, &sym, sizeof entry);
    return adopt(path, entry(), out, err, errlen);
}

static int compare_modes(const void *a, const void *b)
{
    return strcmp(a, b);
}

int pt_loader_list(const char *dir, pt_loader_each_fn fn, void *userdata)
{
    const char *dirs[3];
    size_t ndirs = search_dirs(dir, dirs);
    char seen[64][MODE_MAX];
    int nseen = 0, oom = 0;
    const size_t plen = strlen(PLUGIN_PREFIX), slen = strlen(PLUGIN_SUFFIX);

    for (size_t i = 0; i < ndirs; i++) {
        DIR *d = opendir(dirs[i]);
        struct dirent *de;
        char (*names)[MODE_MAX] = NULL;
        size_t nnames = 0;
        if (!d)
            continue;
        /* Collect then sort, so the order does not depend on the file system. */
        while ((de = readdir(d)) != NULL) {
            size_t n = strlen(de->d_name);
            if (n <= plen + slen || strncmp(de->d_name, PLUGIN_PREFIX, plen) != 0 ||
                strcmp(de->d_name + n - slen, PLUGIN_SUFFIX) != 0 || n - plen - slen >= MODE_MAX)
                continue;
            void *grown = realloc(names, (nnames + 1) * sizeof *names);
            if (!grown) {
                oom = 1; /* a partial list would look complete: say so */
                break;
            }
            names = grown;
            memcpy(names[nnames], de->d_name + plen, n - plen - slen);
            names[nnames][n - plen - slen] = '\0';
            nnames++;
        }
        closedir(d);
        if (nnames > 1)
            qsort(names, nnames, sizeof *names, compare_modes);
        for (size_t k = 0; k < nnames; k++) {
            char path[4096];
            int dup = 0;
            for (int s = 0; s < nseen; s++)
                dup |= strcmp(seen[s], names[k]) == 0;
            if (dup || nseen == 64)
                continue;
            snprintf(path, sizeof path, "%s/" PLUGIN_PREFIX "%s" PLUGIN_SUFFIX, dirs[i],
                     names[k]);
            if (!is_file(path))
                continue;
            memcpy(seen[nseen++], names[k], MODE_MAX);
            if (fn)
                fn(userdata, names[k], path);
        }
        free(names);
        if (oom)
            return PT_ENOMEM;
    }
    return nseen;
}
