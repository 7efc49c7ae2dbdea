/*
 * harness.c -- what the WSS plugin's test programs share: a scratch
 * directory with a throwaway CA (make-certs.sh), two identities and the
 * beacon's registry, the beacon process itself, and dialling it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nettle/base64.h>

#include "harness.h"
#include "secrets.h"
#include "util.h"

const pt_plugin *wss;
const char *beacon_bin;
char dir[256], certs[512], registry[512];
pt_identity me, stranger;
char err[PT_ERRMSG_MAX];
int scale = 1;

const char *dur(int ms)
{
    static char bufs[8][32];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%dms", ms * scale);
    return b;
}

int64_t ceiling_ms(int64_t ms)
{
    return (ms + LOAD_SLACK_MS) * scale;
}

/* ---- The beacon process ------------------------------------------------- */

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec deadline_after_ms(clockid_t clock, int64_t ms)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* The children to kill if the watchdog ends the program (0: a free slot). */
static volatile sig_atomic_t tracked[32];

void harness_track_child(pid_t pid)
{
    for (size_t i = 0; i < sizeof tracked / sizeof tracked[0]; i++)
        if (tracked[i] == 0) {
            tracked[i] = pid;
            return;
        }
}

void harness_untrack_child(pid_t pid)
{
    for (size_t i = 0; i < sizeof tracked / sizeof tracked[0]; i++)
        if (tracked[i] == pid)
            tracked[i] = 0;
}

void harness_kill_children(void)
{
    for (size_t i = 0; i < sizeof tracked / sizeof tracked[0]; i++)
        if (tracked[i] > 0)
            kill((pid_t)tracked[i], SIGKILL);
}

/* Start the beacon with the given cert name and extra flags (NULL ended);
 * port 0 picks a free one; its stderr into a pipe when capture is set.
 * Waits for its READY line. */
static int spawn(beacon *b, const char *cert, int port, const char *const *flags, int capture)
{
    int pipefd[2], errpipe[2] = { -1, -1 };
    char listen_arg[64], cert_arg[600], key_arg[600], reg_arg[600];
    const char *argv[32];
    int n = 0;

    snprintf(listen_arg, sizeof listen_arg, "--listen=127.0.0.1:%d", port);
    snprintf(cert_arg, sizeof cert_arg, "--cert=%s/%s.pem", certs, cert);
    snprintf(key_arg, sizeof key_arg, "--key=%s/%s-key.pem", certs, cert);
    snprintf(reg_arg, sizeof reg_arg, "--registry=%s", registry);
    argv[n++] = beacon_bin;
    argv[n++] = listen_arg;
    argv[n++] = cert_arg;
    argv[n++] = key_arg;
    argv[n++] = reg_arg;
    argv[n++] = "--mode=echo"; /* the tests' flags may override it */
    for (; flags && *flags && n < 30; flags++)
        argv[n++] = *flags;
    argv[n] = NULL;

    b->err_fd = -1;
    b->err_len = 0;
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return -1;
    if (capture && pipe2(errpipe, O_CLOEXEC) != 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    b->pid = fork();
    if (b->pid < 0) { /* and never kill(-1, ...) below: that is every process */
        printf("# fork: %s\n", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        if (capture) {
            close(errpipe[0]);
            close(errpipe[1]);
        }
        b->pid = 0;
        return -1;
    }
    if (b->pid == 0) {
        dup2(pipefd[1], 1);
        int devnull = open("/dev/null", O_WRONLY);
        if (capture)
            dup2(errpipe[1], 2);
        else if (!getenv("PT_TEST_VERBOSE") && devnull >= 0)
            dup2(devnull, 2);
        /* execv's prototype predates const; it does not modify argv. */
        union { const char **c; char **m; } av = { argv };
        execv(beacon_bin, av.m);
        _exit(127);
    }
    if (b->pid > 0)
        harness_track_child(b->pid);
    close(pipefd[1]);
    b->out_fd = pipefd[0];
    if (capture) {
        close(errpipe[1]);
        b->err_fd = errpipe[0];
    }
    /* Wait for "READY port=N". */
    char line[128];
    size_t len = 0;
    int64_t deadline = now_ms() + 20000;
    while (len < sizeof line - 1) {
        struct pollfd p = { b->out_fd, POLLIN, 0 };
        if (poll(&p, 1, (int)(deadline - now_ms())) <= 0)
            break;
        ssize_t r = read(b->out_fd, line + len, 1);
        if (r <= 0)
            break;
        if (line[len] == '\n') {
            line[len] = '\0';
            if (sscanf(line, "READY port=%d", &b->port) == 1)
                return 0;
            len = 0;
            continue;
        }
        len++;
    }
    printf("# beacon did not become ready\n");
    kill(b->pid, SIGKILL);
    waitpid(b->pid, NULL, 0);
    harness_untrack_child(b->pid);
    b->pid = 0;
    close(b->out_fd);
    if (b->err_fd >= 0)
        close(b->err_fd);
    b->err_fd = -1;
    return -1;
}

int beacon_start(beacon *b, const char *cert, int port, const char *const *flags)
{
    return spawn(b, cert, port, flags, 0);
}

int beacon_start_captured(beacon *b, const char *cert, int port, const char *const *flags)
{
    return spawn(b, cert, port, flags, 1);
}

/* The next whole line of the beacon's stderr into line (cut to cap), waiting
 * until deadline.  1, or 0 at the deadline or the end. */
static int next_err_line(beacon *b, char *line, size_t cap, int64_t deadline)
{
    for (;;) {
        char *nl = memchr(b->err_buf, '\n', b->err_len);
        if (nl || b->err_len == sizeof b->err_buf) { /* a longer line is cut */
            size_t n = nl ? (size_t)(nl - b->err_buf) : b->err_len;
            snprintf(line, cap, "%.*s", (int)n, b->err_buf);
            n += nl != NULL;
            memmove(b->err_buf, b->err_buf + n, b->err_len - n);
            b->err_len -= n;
            return 1;
        }
        struct pollfd p = { b->err_fd, POLLIN, 0 };
        int64_t left = deadline - now_ms();
        if (b->err_fd < 0 || left <= 0 || poll(&p, 1, (int)left) <= 0)
            return 0;
        ssize_t r = read(b->err_fd, b->err_buf + b->err_len, sizeof b->err_buf - b->err_len);
        if (r <= 0)
            return 0;
        b->err_len += (size_t)r;
    }
}

int beacon_wait_line(beacon *b, const char *needle, int ms)
{
    char line[sizeof b->err_buf + 1];
    int64_t deadline = now_ms() + (int64_t)ms * scale;
    while (next_err_line(b, line, sizeof line, deadline))
        if (strstr(line, needle))
            return 1;
    return 0;
}

int beacon_counter(beacon *b, const char *name, uint64_t *value)
{
    char line[sizeof b->err_buf + 1], key[64];
    int64_t deadline = now_ms() + 10000 * (int64_t)scale;
    snprintf(key, sizeof key, " %s=", name);
    kill(b->pid, SIGUSR1);
    while (next_err_line(b, line, sizeof line, deadline)) {
        const char *k = strstr(line, key);
        if (strncmp(line, "STATS ", 6) != 0)
            continue;
        if (!k) {
            printf("# no %s in the beacon's %s\n", name, line);
            return -1;
        }
        *value = strtoull(k + strlen(key), NULL, 10);
        return 0;
    }
    printf("# the beacon printed no STATS line\n");
    return -1;
}

int beacon_send_text(beacon *b)
{
    return kill(b->pid, SIGUSR2);
}

/* Without a pidfd (ptu_pidfd_open) reap() looks every 20 ms. */
int reap(pid_t pid, int sig, int64_t ms, int drain_fd, int *status)
{
    int st = 0, pfd = ptu_pidfd_open(pid);
    int64_t deadline = now_ms() + ms;
    pid_t got = 0;
    if (sig)
        kill(pid, sig);
    /* A stopped child (SIGSTOP) acts on sig only once it runs again. */
    if (sig && sig != SIGKILL)
        kill(pid, SIGCONT);
    while ((got = waitpid(pid, &st, WNOHANG)) == 0) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            break;
        struct pollfd p[2] = { { pfd, POLLIN, 0 }, { drain_fd, POLLIN, 0 } };
        int n = poll(p, 2, pfd >= 0 ? (int)left : (int)(left < 20 ? left : 20));
        if (n > 0 && p[1].revents) { /* its output: read, so it never blocks on a full pipe */
            char buf[4096];
            if (read(drain_fd, buf, sizeof buf) <= 0)
                drain_fd = -1;
        }
    }
    if (got == 0) {
        printf("# process %d still running %lld ms after signal %d: killed\n", (int)pid,
               (long long)ms, sig);
        kill(pid, SIGKILL);
        got = waitpid(pid, &st, 0); /* SIGKILL ends even a stopped process */
    }
    if (pfd >= 0)
        close(pfd);
    if (got == pid)
        harness_untrack_child(pid);
    if (status)
        *status = st;
    return got == pid ? 0 : -1;
}

int beacon_stop_sig(beacon *b, int sig)
{
    int status = 0;
    if (b->pid <= 0)
        return -1;
    /* It exits at once natively; a beacon that does not (stopped, stuck
     * writing to a full stderr pipe) is killed rather than waited for. */
    reap(b->pid, sig, ceiling_ms(5000), b->err_fd, &status);
    close(b->out_fd);
    if (b->err_fd >= 0)
        close(b->err_fd);
    b->err_fd = -1;
    b->pid = 0;
    return status;
}

void beacon_stop(beacon *b)
{
    beacon_stop_sig(b, SIGTERM);
}

/* The SPKI SHA-256 pin of a certificate file, computed independently of
 * the plugin (GnuTLS key id over the SubjectPublicKeyInfo). */
int spki_pin(const char *file, char *out, size_t cap)
{
    gnutls_datum_t pem = { NULL, 0 };
    gnutls_x509_crt_t crt;
    unsigned char id[32];
    size_t idlen = sizeof id;
    int ok = 0;
    if (gnutls_load_file(file, &pem) != 0)
        return 0;
    if (gnutls_x509_crt_init(&crt) == 0) {
        if (gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) == 0 &&
            gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, id, &idlen) == 0 &&
            idlen == 32 && cap > BASE64_ENCODE_RAW_LENGTH(32)) {
            base64_encode_raw(out, 32, id);
            out[BASE64_ENCODE_RAW_LENGTH(32)] = '\0';
            ok = 1;
        }
        gnutls_x509_crt_deinit(crt);
    }
    gnutls_free(pem.data);
    return ok;
}

/* A loopback port that was free a moment ago. */
int free_port(void)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&sin, sizeof sin) == 0 &&
        getsockname(s, (struct sockaddr *)&sin, &sl) == 0)
        port = ntohs(sin.sin_port);
    close(s);
    return port;
}

int listener(int *port, int backlog)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(s, backlog) != 0 ||
        getsockname(s, (struct sockaddr *)&sin, &sl) != 0) {
        if (s >= 0)
            close(s);
        return -1;
    }
    *port = ntohs(sin.sin_port);
    return s;
}

int count_threads(void)
{
    char line[256];
    int n = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

int shrink_send_buffer(int port)
{
    int small = 64 * 1024;
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_in sin;
        socklen_t sl = sizeof sin;
        if (getpeername(fd, (struct sockaddr *)&sin, &sl) == 0 && sin.sin_family == AF_INET &&
            ntohs(sin.sin_port) == port && sin.sin_addr.s_addr == htonl(INADDR_LOOPBACK))
            return setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0 ? fd : -1;
    }
    return -1;
}

/* ---- Dialling ----------------------------------------------------------- */

void dial_setup_init(dial_setup *d, int port, const pt_identity *id, const char *const *kv)
{
    size_t n = 0;
    int have_trust = 0;
    memset(d, 0, sizeof *d);
    snprintf(d->url, sizeof d->url, "wss://localhost:%d/v1/compat", port);
    snprintf(d->ca, sizeof d->ca, "%s/ca.pem", certs);
    d->opts[n++] = (pt_option){ "url", d->url };
    for (; kv && kv[0] && n < 15; kv += 2) {
        if (!strcmp(kv[0], "url"))
            d->opts[0].value = kv[1];
        else
            d->opts[n++] = (pt_option){ kv[0], kv[1] };
        if (!strcmp(kv[0], "tls-trust") || !strcmp(kv[0], "ca-file"))
            have_trust = 1;
    }
    if (!have_trust)
        d->opts[n++] = (pt_option){ "ca-file", d->ca };
    pt_dial_params init = PT_DIAL_PARAMS_INIT;
    d->p = init;
    d->p.options = d->opts;
    d->p.n_options = n;
    d->p.identity = id;
    d->p.log_level = PT_LOG_ERROR;
}

int dial_setup_dial(dial_setup *d, pt_conn **c)
{
    err[0] = '\0';
    *c = NULL;
    return wss->dial(&d->p, c, err, sizeof err);
}

static int dial_params(const beacon *b, const pt_identity *id, const char *const *kv,
                       pt_log_fn log, void *log_userdata, int level, pt_conn **c)
{
    dial_setup d;
    dial_setup_init(&d, b ? b->port : 1, id, kv);
    d.p.log = log;
    d.p.log_userdata = log_userdata;
    d.p.log_level = level;
    return dial_setup_dial(&d, c);
}

int dial_with(const beacon *b, const pt_identity *id, const char *const *kv, pt_conn **c)
{
    return dial_params(b, id, kv, NULL, NULL, PT_LOG_ERROR, c);
}

int dial_logged(const beacon *b, const pt_identity *id, const char *const *kv, log_book *lb,
                int level, pt_conn **c)
{
    return dial_params(b, id, kv, log_book_add, lb, level, c);
}

void done(pt_conn *c)
{
    if (c) {
        wss->close(c);
        wss->free(c);
    }
}

pt_conn *beacon_and_dial(beacon *b, const char *const *flags, const char *const *kv)
{
    pt_conn *c = NULL;
    memset(b, 0, sizeof *b);
    if (beacon_start(b, "server", 0, flags) != 0)
        return NULL; /* it said so */
    int rc = dial_with(b, &me, kv, &c);
    if (rc != PT_OK)
        printf("# dial: %s: %s\n", pt_strerror(rc), err);
    return c;
}

void down(beacon *b, pt_conn *c)
{
    done(c);
    beacon_stop(b);
}

pt_stats stats_of(pt_conn *c)
{
    pt_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    wss->stats(c, &s);
    return s;
}

/* Wait (at most ms) until the connection has redialled `count` times and,
 * if connected is set, is up again. */
int wait_redials(pt_conn *c, uint64_t count, int connected, int ms)
{
    int64_t deadline = now_ms() + (int64_t)ms * scale;
    unsigned char buf[16];
    while (now_ms() < deadline) {
        pt_stats s = stats_of(c);
        if (s.reconnects >= count && (!connected || s.state == PT_STATE_CONNECTED))
            return 1;
        /* recv doubles as the wait: it returns when a frame or nothing comes. */
        wss->recv(c, buf, sizeof buf, NULL, 20);
    }
    return 0;
}

int wait_reconnects(pt_conn *c, uint64_t count, int ms)
{
    return wait_redials(c, count, 1, ms);
}

int wait_state(pt_conn *c, int state, int ms)
{
    int64_t deadline = now_ms() + (int64_t)ms * scale;
    unsigned char buf[16];
    while (now_ms() < deadline) {
        if (stats_of(c).state == state)
            return 1;
        wss->recv(c, buf, sizeof buf, NULL, 20);
    }
    return 0;
}

/* ---- The plugin's log ------------------------------------------------------ */

void log_book_init(log_book *lb)
{
    memset(lb, 0, sizeof *lb);
    pthread_mutex_init(&lb->mu, NULL);
    pthread_cond_init(&lb->cv, NULL);
}

void log_book_destroy(log_book *lb)
{
    pthread_cond_destroy(&lb->cv);
    pthread_mutex_destroy(&lb->mu);
}

void log_book_add(void *userdata, int level, const char *msg)
{
    log_book *lb = userdata;
    pthread_mutex_lock(&lb->mu);
    if (lb->n < LOG_BOOK_LINES) {
        log_line *l = &lb->line[lb->n];
        l->ms = now_ms();
        l->level = level;
        snprintf(l->msg, sizeof l->msg, "%s", msg);
    }
    lb->n++;
    pthread_cond_broadcast(&lb->cv);
    pthread_mutex_unlock(&lb->mu);
}

/* Kept lines containing needle; mu held. */
static unsigned count_lines(const log_book *lb, const char *needle)
{
    unsigned found = 0;
    for (unsigned i = 0; i < lb->n && i < LOG_BOOK_LINES; i++)
        found += strstr(lb->line[i].msg, needle) != NULL;
    return found;
}

unsigned log_book_count(log_book *lb, const char *needle)
{
    pthread_mutex_lock(&lb->mu);
    unsigned n = count_lines(lb, needle);
    pthread_mutex_unlock(&lb->mu);
    return n;
}

int log_book_wait(log_book *lb, const char *needle, unsigned count, int ms)
{
    struct timespec until = deadline_after_ms(CLOCK_REALTIME, (int64_t)ms * scale);
    int rc = 0, found;
    pthread_mutex_lock(&lb->mu);
    while (!(found = count_lines(lb, needle) >= count) && rc == 0)
        rc = pthread_cond_timedwait(&lb->cv, &lb->mu, &until);
    pthread_mutex_unlock(&lb->mu);
    return found;
}

static int write_registry(void)
{
    char pub[45];
    FILE *f = fopen(registry, "w");
    if (!f)
        return -1;
    ptu_identity_public_b64(&me, pub);
    fprintf(f, "# test registry\n%d %s\n", NODE, pub);
    fclose(f);
    return 0;
}


int harness_init(void)
{
    char cmd[1200], e[1024];
    const char *src = getenv("PT_SRCDIR");
    beacon_bin = getenv("PT_BEACON");
    if (!src || !beacon_bin) {
        printf("Bail out! PT_SRCDIR and PT_BEACON must be set (run via make check)\n");
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (getenv("PT_TIME_SCALE") && atoi(getenv("PT_TIME_SCALE")) > 1)
        scale = atoi(getenv("PT_TIME_SCALE"));
    snprintf(dir, sizeof dir, "%s/pt-wss-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        printf("Bail out! mkdtemp\n");
        return -1;
    }
    snprintf(certs, sizeof certs, "%s/certs", dir);
    snprintf(registry, sizeof registry, "%s/registry", dir);
    snprintf(cmd, sizeof cmd, "sh '%s/tests/wss/make-certs.sh' '%s' >/dev/null", src, certs);
    if (system(cmd) != 0) {
        printf("Bail out! make-certs.sh failed\n");
        return -1;
    }
    if (ptu_identity_generate(&me, e, sizeof e) != PT_OK ||
        ptu_identity_generate(&stranger, e, sizeof e) != PT_OK || write_registry() != 0) {
        printf("Bail out! identities: %s\n", e);
        return -1;
    }
    me.node_id = NODE;
    stranger.node_id = NODE; /* right node, wrong key */
    secrets_register_key("harness: me", &me); /* for tests/secrets.sh */
    secrets_register_key("harness: stranger", &stranger);
    if (pt_loader_open("wss", NULL, &wss, e, sizeof e) != PT_OK) {
        printf("Bail out! %s\n", e);
        return -1;
    }
    return 0;
}

void harness_cleanup(void)
{
    char cmd[400];
    ptu_wipe(&me, sizeof me);
    ptu_wipe(&stranger, sizeof stranger);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
}

/* ---- tinyproxy ---------------------------------------------------------- */

/* Append src to dst (cap bytes, NUL-terminated) with memcpy only: no
 * stdio or printf buffer gets a copy of a password. */
void str_append(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(dst), k = strlen(src);
    if (n + k < cap) {
        memcpy(dst + n, src, k);
        dst[n + k] = '\0';
    }
}

/* Start tinyproxy with basic auth user:pw on a free port; ready once it
 * accepts a connection.  The config is written with write(2) from a
 * buffer wiped after, so this process keeps no copy of pw. */
int tinyproxy_start(tinyproxy *px, const char *pw)
{
    char conf[600], head[900], text[1200] = "";
    snprintf(conf, sizeof conf, "%s/tinyproxy.conf", dir);
    px->port = free_port();
    if (px->port < 0)
        return -1;
    snprintf(head, sizeof head,
             "Port %d\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n"
             "LogLevel Critical\nLogFile \"%s/tinyproxy.log\"\nPidFile \"%s/tinyproxy.pid\"\n",
             px->port, dir, dir);
    str_append(text, sizeof text, head);
    str_append(text, sizeof text, "BasicAuth user ");
    str_append(text, sizeof text, pw);
    str_append(text, sizeof text, "\n");
    int fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t len = strlen(text);
    int written = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    explicit_bzero(text, sizeof text);
    if (fd >= 0)
        close(fd);
    if (!written)
        return -1;
    fflush(stdout); /* nothing buffered may be written twice */
    px->pid = fork();
    if (px->pid < 0) /* never kill(-1, ...) below */
        return -1;
    if (px->pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execlp("tinyproxy", "tinyproxy", "-d", "-c", conf, (char *)NULL);
        _exit(127);
    }
    harness_track_child(px->pid);
    /* Ready when it accepts: try to connect, waiting on the connect itself. */
    int64_t deadline = now_ms() + 10000;
    while (now_ms() < deadline) {
        struct sockaddr_in sin;
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)px->port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(s, (struct sockaddr *)&sin, sizeof sin) == 0;
        close(s);
        if (ok)
            return 0;
        if (waitpid(px->pid, NULL, WNOHANG) == px->pid)
            break;
        /* tinyproxy offers no readiness signal: probe again shortly. */
        poll(NULL, 0, 10);
    }
    reap(px->pid, SIGKILL, ceiling_ms(0), -1, NULL);
    return -1;
}

void tinyproxy_stop(tinyproxy *px)
{
    reap(px->pid, SIGTERM, ceiling_ms(5000), -1, NULL); /* killed if it lingers */
}

int beacon_and_tinyproxy(beacon *b, tinyproxy *px, const char *pw)
{
    if (beacon_start(b, "server", 0, NULL) != 0)
        return -1; /* it said so */
    if (tinyproxy_start(px, pw) != 0) {
        printf("# tinyproxy did not start\n");
        beacon_stop(b);
        return -1;
    }
    return 0;
}
