/*
 * main.c -- pilot-transport-conformance: checks a transport plugin against
 * the promises of pilot_transport.h and prints the results as TAP.
 *
 * The command line names plugins by file or by mode.  Each plugin is
 * loaded through the loader, as hosts load it; then every check runs in a
 * child process of its own, forked from this single-threaded parent, so
 * that a plugin that crashes or hangs fails that one check ("crashed",
 * "did not finish") and the run goes on.  The child reports over a pipe
 * (cx_* below) and the parent prints one TAP line per check.
 */
#include "config.h"

#include "conformance.h"
#include "addr.h"
#include "flags.h"
#include "identity.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "pilot-transport-conformance"
#define PLUGIN_PREFIX "pilot-transport-"
#define PLUGIN_SUFFIX ".so"

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* ---- Reporting: the child's side ---------------------------------------- */

/* One record to the parent: a type letter, the text, a newline (newlines
 * in the text become spaces, so a record is always one line). */
static void cx_send(struct cx *x, char type, const char *fmt, va_list ap)
{
    char line[2048];
    int n;
    line[0] = type;
    n = vsnprintf(line + 1, sizeof line - 2, fmt, ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof line - 3)
        n = (int)(sizeof line - 3);
    for (int i = 1; i <= n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n + 1] = '\n';
    size_t len = (size_t)n + 2, off = 0;
    while (off < len) {
        ssize_t w = write(x->out, line + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

void cx_fail(struct cx *x, const char *fmt, ...)
{
    va_list ap;
    x->failed++;
    va_start(ap, fmt);
    cx_send(x, 'F', fmt, ap);
    va_end(ap);
}

void cx_note(struct cx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cx_send(x, 'N', fmt, ap);
    va_end(ap);
}

void cx_skip(struct cx *x, const char *fmt, ...)
{
    va_list ap;
    x->skipped = 1;
    va_start(ap, fmt);
    cx_send(x, 'S', fmt, ap);
    va_end(ap);
}

static void cx_pass_record(struct cx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cx_pass_record(struct cx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cx_send(x, 'P', fmt, ap);
    va_end(ap);
}

void cx_pass(struct cx *x)
{
    x->passed++;
    cx_pass_record(x, "%s", "");
}

const char *cx_code_name(int code)
{
    static __thread char other[32];
    switch (code) {
    case PT_OK: return "PT_OK";
    case PT_ECLOSED: return "PT_ECLOSED";
    case PT_ERECONNECTING: return "PT_ERECONNECTING";
    case PT_ETIMEDOUT: return "PT_ETIMEDOUT";
    case PT_ETOOLARGE: return "PT_ETOOLARGE";
    case PT_EINVAL: return "PT_EINVAL";
    case PT_EOPTION: return "PT_EOPTION";
    case PT_EAUTH: return "PT_EAUTH";
    case PT_ETLS: return "PT_ETLS";
    case PT_EIO: return "PT_EIO";
    case PT_ENOMEM: return "PT_ENOMEM";
    case PT_EPROTO: return "PT_EPROTO";
    case PT_EPROXY: return "PT_EPROXY";
    case PT_EUNSUPPORTED: return "PT_EUNSUPPORTED";
    default:
        snprintf(other, sizeof other, code < 0 ? "unknown code %d" : "%d", code);
        return other;
    }
}

int cx_expect_rc(struct cx *x, int got, int want, const char *call)
{
    if (got == want) {
        cx_pass(x);
        return 1;
    }
    cx_fail(x, "%s returned %s, want %s", call, cx_code_name(got), cx_code_name(want));
    return 0;
}

int cx_has_slot(struct cx *x, size_t off, size_t end, const char *name)
{
    void (*fn)(void) = NULL;
    if (x->t->raw->struct_size < end) {
        cx_skip(x, "plugin is ABI %u.%u, without %s", (unsigned)x->t->raw->abi_major,
                (unsigned)x->t->raw->abi_minor, name);
        return 0;
    }
    memcpy(&fn, (const char *)x->p + off, sizeof fn);
    if (!fn) {
        cx_skip(x, "the plugin's %s slot is NULL (optional)", name);
        return 0;
    }
    return 1;
}

int64_t cx_now_ms(void)
{
    return ptu_now_ms();
}

int64_t cx_bound_ms(const struct cx *x, int64_t base_ms)
{
    return base_ms + x->t->slack_ms;
}

/* ---- Running one check: the parent's side ------------------------------- */

struct result {
    unsigned passed;
    char *fails, *notes, *skip; /* newline-separated, malloc'd */
};

static void append(char **list, const char *line)
{
    size_t old = *list ? strlen(*list) : 0, n = strlen(line);
    char *grown = realloc(*list, old + n + 2);
    if (!grown)
        return;
    memcpy(grown + old, line, n);
    grown[old + n] = '\n';
    grown[old + n + 1] = '\0';
    *list = grown;
}

static void take_record(struct result *r, char *line)
{
    switch (line[0]) {
    case 'P': r->passed++; break;
    case 'F': append(&r->fails, line + 1); break;
    case 'N': append(&r->notes, line + 1); break;
    case 'S': if (!r->skip) append(&r->skip, line + 1); break;
    default: break;
    }
}

static int tap_n, tap_failed;

/* Print "# " before each line of text. */
static void print_comment(const char *text)
{
    const char *s = text;
    while (s && *s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        printf("#   %.*s\n", (int)n, s);
        s = nl ? nl + 1 : NULL;
    }
}

static void report(const struct target *t, const char *name, struct result *r,
                   const char *trouble)
{
    ++tap_n;
    if (!trouble && !r->fails && (r->skip || r->passed > 0)) {
        if (r->skip && r->passed == 0) {
            r->skip[strcspn(r->skip, "\n")] = '\0';
            printf("ok %d - %s: %s # SKIP %s\n", tap_n, t->mode, name, r->skip);
        } else {
            printf("ok %d - %s: %s\n", tap_n, t->mode, name);
        }
        if (t->verbose)
            print_comment(r->notes);
        return;
    }
    tap_failed++;
    /* The first failure is the line's "why"; the others follow it. */
    const char *why = trouble ? trouble : "no checks ran";
    const char *rest = r->fails;
    char *first = NULL;
    if (!trouble && r->fails) {
        size_t n = strcspn(r->fails, "\n");
        first = strndup(r->fails, n);
        why = first ? first : "failed";
        rest = r->fails[n] ? r->fails + n + 1 : NULL;
    }
    printf("not ok %d - %s: %s: %s\n", tap_n, t->mode, name, why);
    print_comment(rest);
    if (t->verbose || trouble)
        print_comment(r->notes);
    free(first);
}

static int64_t check_limit_ms = 60000;

static void run_check(const struct target *t, const struct check *c)
{
    struct result r = { 0, NULL, NULL, NULL };
    char trouble[256] = "", buf[4096];
    size_t used = 0;
    int fds[2], status = 0;
    pid_t pid;

    fflush(stdout);
    fflush(stderr);
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(trouble, sizeof trouble, "pipe: %s", strerror(errno));
        report(t, c->name, &r, trouble);
        return;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(trouble, sizeof trouble, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        report(t, c->name, &r, trouble);
        return;
    }
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };
        struct cx x;
        setrlimit(RLIMIT_CORE, &no_core); /* a crash is reported, not dumped */
        close(fds[0]);
        memset(&x, 0, sizeof x);
        x.t = t;
        x.p = t->plugin;
        x.out = fds[1];
        x.tag = (uint32_t)getpid() ^ ((uint32_t)tap_n << 20);
        c->run(&x);
        _exit(0); /* no atexit handlers of the plugin's libraries in a child */
    }
    close(fds[1]);

    /* Read records until the child closes the pipe (it exits) or the limit. */
    int64_t deadline = ptu_now_ms() + check_limit_ms;
    for (;;) {
        int64_t left = deadline - ptu_now_ms();
        struct pollfd pfd = { fds[0], POLLIN, 0 };
        if (left <= 0) {
            snprintf(trouble, sizeof trouble,
                     "did not finish within %lld ms (killed; see -check-timeout)",
                     (long long)check_limit_ms);
            kill(pid, SIGKILL);
            break;
        }
        int pr = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        ssize_t n = read(fds[0], buf + used, sizeof buf - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
        buf[used] = '\0';
        char *s = buf, *nl;
        while ((nl = strchr(s, '\n')) != NULL) {
            *nl = '\0';
            take_record(&r, s);
            s = nl + 1;
        }
        used = strlen(s);
        memmove(buf, s, used + 1);
        if (used == sizeof buf - 1) { /* an overlong record: keep what fits */
            take_record(&r, buf);
            used = 0;
        }
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!*trouble && WIFSIGNALED(status))
        snprintf(trouble, sizeof trouble, "crashed: signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (!*trouble && WIFEXITED(status) && WEXITSTATUS(status) != 0)
        snprintf(trouble, sizeof trouble, "the check's process exited with status %d",
                 WEXITSTATUS(status));
    report(t, c->name, &r, *trouble ? trouble : NULL);
    free(r.fails);
    free(r.notes);
    free(r.skip);
}

/* ---- Finding and loading the plugin ------------------------------------- */

struct find_mode {
    const char *mode;
    char path[4096];
};

static void find_mode_cb(void *userdata, const char *mode, const char *path)
{
    struct find_mode *f = userdata;
    if (!*f->path && strcmp(mode, f->mode) == 0)
        snprintf(f->path, sizeof f->path, "%s", path);
}

/* Resolve arg (a path, or a mode searched as hosts search it) to a file
 * and a mode.  Returns 0, or EXIT_USAGE after saying why. */
static int resolve(struct target *t, const char *arg, const char *dir, char *path,
                   size_t pathlen)
{
    if (strchr(arg, '/') || strstr(arg, PLUGIN_SUFFIX)) {
        const char *base = strrchr(arg, '/');
        size_t plen = strlen(PLUGIN_PREFIX), slen = strlen(PLUGIN_SUFFIX), n;
        base = base ? base + 1 : arg;
        n = strlen(base);
        if (n <= plen + slen || strncmp(base, PLUGIN_PREFIX, plen) != 0 ||
            strcmp(base + n - slen, PLUGIN_SUFFIX) != 0 || n - plen - slen >= sizeof t->mode) {
            fprintf(stderr,
                    PROG ": %s: a plugin file is named " PLUGIN_PREFIX "MODE" PLUGIN_SUFFIX
                         " (hosts find it by that name)\n",
                    arg);
            return EXIT_USAGE;
        }
        memcpy(t->mode, base + plen, n - plen - slen);
        t->mode[n - plen - slen] = '\0';
        if (!realpath(arg, path)) {
            fprintf(stderr, PROG ": %s: %s\n", arg, strerror(errno));
            return EXIT_USAGE;
        }
        (void)pathlen;
        return 0;
    }
    struct find_mode f;
    if (pt_loader_canonical_mode(arg, t->mode, sizeof t->mode) != PT_OK) {
        fprintf(stderr, PROG ": \"%s\" is neither a plugin file nor a transport mode\n", arg);
        return EXIT_USAGE;
    }
    f.mode = t->mode;
    f.path[0] = '\0';
    pt_loader_list(dir, find_mode_cb, &f);
    if (!*f.path) {
        const char *env = secure_getenv("PILOT_TRANSPORT_DIR");
        fprintf(stderr, PROG ": no plugin for mode \"%s\" (pilot-transport-%s.so) in %s%s%s%s%s\n",
                t->mode, t->mode, dir ? dir : "", dir ? ", " : "", env && *env ? env : "",
                env && *env ? ", " : "", pt_loader_default_dir());
        return EXIT_USAGE;
    }
    snprintf(path, pathlen, "%s", f.path);
    return 0;
}

/* Load through the loader (as a host does) and take the plugin's own
 * descriptor too, for the checks of what the loader hides.  Returns NULL
 * or the loader's error in err. */
static int load(struct target *t, char *err, size_t errlen)
{
    char dir[4096];
    const char *slash = strrchr(t->path, '/');
    size_t n = slash ? (size_t)(slash - t->path) : 0;
    if (n >= sizeof dir)
        return ptu_err(err, errlen, PT_EINVAL, "path too long");
    memcpy(dir, t->path, n);
    dir[n] = '\0';
    int rc = pt_loader_open(t->mode, n ? dir : "/", &t->plugin, err, errlen);
    if (rc != PT_OK)
        return rc;
    /* The same file the loader mapped: dlopen returns its handle. */
    void *h = dlopen(t->path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    void *sym = h ? dlsym(h, PT_ENTRY_SYMBOL) : NULL;
    pt_entry_fn entry;
    if (!sym)
        return ptu_err(err, errlen, PT_ELOAD, "%s: %s", t->path, dlerror());
    memcpy(&entry, &sym, sizeof entry);
    t->raw = entry();
    if (!t->raw)
        return ptu_err(err, errlen, PT_ELOAD, "%s: the entry point returned NULL", t->path);
    return PT_OK;
}

/* ---- Command line ------------------------------------------------------- */

static const char usage_text[] =
    "usage: " PROG " [flags] PLUGIN...\n"
    "\n"
    "Check transport plugins against the promises of pilot_transport.h (ABI %d.%d)\n"
    "and print the results as TAP: one \"ok N - what\" or \"not ok N - what: why\"\n"
    "line per check.  PLUGIN is a file (.../pilot-transport-MODE.so) or a mode,\n"
    "found as hosts find it: in -transport-dir, $PILOT_TRANSPORT_DIR, then\n"
    "%s.\n"
    "\n"
    "Checks that need a connection dial it with -opt, -identity and -node-id and\n"
    "talk to themselves: -loopback=self sends to the connection's own local\n"
    "address (udp: -opt bind=127.0.0.1:0); -loopback=relay dials two connections\n"
    "to a beacon, nodes -node-id and -peer-node-id, and sends Relay messages\n"
    "between them (wss: -opt url=... -opt ca-file=... -identity FILE, both nodes\n"
    "registered with its key; udp: -beacon HOST:PORT).  If the dial fails, each\n"
    "of those checks fails with the dial's error.\n"
    "\n"
    "Exit status: 0 every check passed (or was skipped), 1 a check failed,\n"
    "2 usage error.  See pilot-transport-conformance(1).\n"
    "\n"
    "flags:\n";

static void usage(FILE *out, const struct flag *flags)
{
    fprintf(out, usage_text, PT_ABI_MAJOR, PT_ABI_MINOR, pt_loader_default_dir());
    flags_usage(out, flags);
}

static const struct check *const groups[] = {
    checks_descriptor, checks_params, checks_io, checks_threads,
    checks_poll, checks_stats, checks_probe, checks_signer,
};

/* The identity of -identity, wiped when the program exits. */
static pt_identity id;

static void wipe_identity(void)
{
    ptu_wipe(&id, sizeof id);
}

int main(int argc, char **argv)
{
    struct flag_list opt_list = { { NULL }, 0 };
    const char *identity_path = NULL, *loopback = "self", *dir = NULL, *beacon = NULL;
    const char *only = NULL;
    uint64_t node_id = 1, peer_node_id = 0, slack_ms = 3000, limit_ms = 60000;
    int verbose = 0, list = 0, next = 0;
    char err[PT_ERRMSG_MAX];
    const struct flag flags[] = {
        { "opt", FLAG_LIST, &opt_list, "KEY=VALUE", "plugin option for every dial (repeatable)",
          0, NULL },
        { "identity", FLAG_STRING, &identity_path, "FILE",
          "identity file (JSON, mode 0600) the dials authenticate with", 0, NULL },
        { "node-id", FLAG_UINT, &node_id, "N", "this node's id (default 1)", UINT32_MAX, NULL },
        { "peer-node-id", FLAG_UINT, &peer_node_id, "N",
          "relay: the second connection's node (default -node-id + 1)", UINT32_MAX, NULL },
        { "loopback", FLAG_STRING, &loopback, "self|relay",
          "how a connection's datagrams come back (default self)", 0, NULL },
        { "beacon", FLAG_STRING, &beacon, "HOST:PORT",
          "relay over a transport that needs a destination (udp): the beacon", 0, NULL },
        { "transport-dir", FLAG_STRING, &dir, "DIR", "look for plugins named by mode here first",
          0, NULL },
        { "slack", FLAG_DURATION, &slack_ms, "DURATION",
          "added to every upper bound on time (default 3s; raise it on a slow machine)", 0,
          NULL },
        { "check-timeout", FLAG_DURATION, &limit_ms, "DURATION",
          "a check still running after this long is killed and fails (default 60s)", 0, NULL },
        { "run", FLAG_STRING, &only, "TEXT", "run only the checks whose name contains TEXT", 0,
          NULL },
        { "list", FLAG_BOOL, &list, NULL, "list the checks and exit", 0, NULL },
        { "v", FLAG_BOOL, &verbose, NULL, "print each check's detail, and the plugin's log", 0,
          NULL },
        { NULL, 0, NULL, NULL, NULL, 0, NULL },
    };
    int rc = flags_parse(flags, argc - 1, argv + 1, &next, err, sizeof err);
    if (rc == FLAGS_HELP) {
        usage(stdout, flags);
        return 0;
    }
    if (rc != FLAGS_OK) {
        fprintf(stderr, PROG ": %s (see " PROG " -h)\n", err);
        return EXIT_USAGE;
    }
    next++; /* flags_parse saw argv + 1 */
    if (list) {
        for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
            for (const struct check *c = groups[g]; c->name; c++)
                printf("%s\n", c->name);
        return 0;
    }
    if (next >= argc) {
        fprintf(stderr, PROG ": name at least one PLUGIN (see " PROG " -h)\n");
        return EXIT_USAGE;
    }

    struct target base;
    memset(&base, 0, sizeof base);
    if (strcmp(loopback, "self") == 0) {
        base.loopback = LOOPBACK_SELF;
    } else if (strcmp(loopback, "relay") == 0) {
        base.loopback = LOOPBACK_RELAY;
    } else {
        fprintf(stderr, PROG ": invalid -loopback \"%s\": use self or relay\n", loopback);
        return EXIT_USAGE;
    }
    static pt_option options[64];
    static char keys[64][128];
    for (size_t i = 0; i < opt_list.n; i++) {
        const char *kv = opt_list.items[i], *eq = strchr(kv, '=');
        if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof keys[0]) {
            fprintf(stderr, PROG ": invalid -opt \"%s\": want KEY=VALUE\n", kv);
            return EXIT_USAGE;
        }
        memcpy(keys[i], kv, (size_t)(eq - kv));
        keys[i][eq - kv] = '\0';
        options[i].key = keys[i];
        options[i].value = eq + 1;
    }
    base.options = options;
    base.n_options = opt_list.n;
    if (identity_path) {
        atexit(wipe_identity); /* every way out of main, usage errors too */
        if (ptu_identity_load(identity_path, &id, err, sizeof err) != PT_OK) {
            fprintf(stderr, PROG ": %s\n", err);
            return EXIT_USAGE;
        }
        base.identity = &id;
    }
    if (node_id == 0) {
        fprintf(stderr, PROG ": -node-id must be 1..4294967295\n");
        return EXIT_USAGE;
    }
    base.node_id = (uint32_t)node_id;
    base.peer_node_id = peer_node_id ? (uint32_t)peer_node_id : (uint32_t)(node_id + 1);
    if (base.loopback == LOOPBACK_RELAY && base.peer_node_id == base.node_id) {
        fprintf(stderr, PROG ": -peer-node-id must differ from -node-id\n");
        return EXIT_USAGE;
    }
    static pt_addr beacon_addr;
    if (beacon) {
        if (ptu_addr_parse(beacon, 0, &beacon_addr, err, sizeof err) != PT_OK) {
            fprintf(stderr, PROG ": invalid -beacon: %s\n", err);
            return EXIT_USAGE;
        }
        base.beacon = &beacon_addr;
    }
    base.slack_ms = (int64_t)slack_ms;
    base.verbose = verbose;
    check_limit_ms = (int64_t)limit_ms;

    /* Resolve every plugin first: a typo is a usage error before any test. */
    int n_targets = argc - next;
    struct target *targets = calloc((size_t)n_targets, sizeof *targets);
    char (*paths)[4096] = calloc((size_t)n_targets, sizeof *paths);
    if (!targets || !paths) {
        fprintf(stderr, PROG ": out of memory\n");
        free(targets);
        free(paths);
        return EXIT_FAIL;
    }
    for (int i = 0; i < n_targets; i++) {
        targets[i] = base;
        targets[i].arg = argv[next + i];
        if ((rc = resolve(&targets[i], argv[next + i], dir, paths[i], sizeof paths[i])) != 0) {
            free(targets);
            free(paths);
            return rc;
        }
        targets[i].path = paths[i];
    }

    for (int i = 0; i < n_targets; i++) {
        struct target *t = &targets[i];
        printf("# %s: %s\n", t->mode, t->path);
        if (load(t, err, sizeof err) != PT_OK) {
            struct result r = { 0, NULL, NULL, NULL };
            report(t, "the loader loads it", &r, err);
            continue;
        }
        for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
            for (const struct check *c = groups[g]; c->name; c++)
                if (!only || strstr(c->name, only))
                    run_check(t, c);
    }
    printf("1..%d\n", tap_n);
    if (tap_failed)
        printf("# %d of %d checks failed\n", tap_failed, tap_n);
    free(targets);
    free(paths);
    return tap_failed ? EXIT_FAIL : 0;
}
