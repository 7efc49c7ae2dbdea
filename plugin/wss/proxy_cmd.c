/* proxy_cmd.c -- running proxy-cmd without a shell, bounded in time, its
 * output treated as the secret it is (proxy_cmd.h). */
#include "config.h"

#include "proxy_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmdline.h"
#include "conf.h"
#include "quote.h"
#include "util.h"


/* environ: unistd.h declares it (_GNU_SOURCE). */

/* What of the command's output is kept: the first line of stdout must fit
 * in the caller's buffer; of stderr, the start, for the log. */
#define STDOUT_MAX 8192
#define STDERR_MAX 512
/* How much of stderr the WARN line quotes. */
#define STDERR_QUOTED 300

/* stderr as it may be logged: printable, cut, and the password of any
 * word that reads as a URL with user:password@ starred. */
static void redact_stderr(const char *in, size_t n, char *out, size_t cap)
{
    char tmp[STDERR_MAX + 1];
    char *w;

    /* One line: trailing blanks dropped, line breaks as spaces. */
    while (n > 0 && (in[n - 1] == '\n' || in[n - 1] == '\r' || in[n - 1] == ' '))
        n--;
    ptu_printable(tmp, sizeof tmp, in, n > STDERR_MAX ? STDERR_MAX : n);
    for (size_t i = 0; i < n && i < STDERR_MAX; i++)
        if (in[i] == '\n' || in[i] == '\r' || in[i] == '\t')
            tmp[i] = ' ';
    for (w = tmp; *w;) {
        size_t len = strcspn(w, " ");
        char save = w[len];
        size_t off, plen;
        w[len] = '\0';
        if (ptu_url_password(w, &off, &plen))
            memset(w + off, '*', plen);
        w[len] = save;
        w += len;
        w += strspn(w, " ");
    }
    ptu_printable(out, cap, tmp, strlen(tmp)); /* cut to cap - 4, then "..." */
    ptu_wipe(tmp, sizeof tmp);
}

/* Read what fd has without blocking into buf (used of cap), the rest into
 * a scratch buffer that is wiped.  Returns 1 at end of file. */
static int drain(int fd, char *buf, size_t *used, size_t cap)
{
    char scratch[4096];
    for (;;) {
        ssize_t r;
        if (*used < cap)
            r = read(fd, buf + *used, cap - *used);
        else
            r = read(fd, scratch, sizeof scratch);
        if (r > 0 && *used < cap)
            *used += (size_t)r;
        if (r == 0) {
            ptu_wipe(scratch, sizeof scratch);
            return 1;
        }
        if (r < 0) {
            ptu_wipe(scratch, sizeof scratch);
            return errno == EINTR ? drain(fd, buf, used, cap) : errno != EAGAIN;
        }
    }
}

static int spawn(char *const *argv, int out_w, int err_w, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    int rc;

    sigemptyset(&none);
    sigfillset(&all);
    if (posix_spawn_file_actions_init(&fa) != 0)
        return ENOMEM;
    if (posix_spawnattr_init(&at) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return ENOMEM;
    }
    rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(&fa, out_w, 1);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(&fa, err_w, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* Whatever the host opened without O_CLOEXEC stays out of it too. */
    if (!rc)
        rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    /* Its own group, so a timeout kills what it started as well; signals
     * as a fresh process has them, whatever the host blocks or ignores. */
    if (!rc)
        rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                               POSIX_SPAWN_SETSIGDEF);
    if (!rc)
        rc = posix_spawnattr_setpgroup(&at, 0);
    if (!rc)
        rc = posix_spawnattr_setsigmask(&at, &none);
    if (!rc)
        rc = posix_spawnattr_setsigdefault(&at, &all);
    if (!rc)
        rc = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

int wss_proxy_cmd_run(const char *cmd, int cancel_fd, int64_t deadline_ms, ptu_diag *diag,
                      char *out, size_t cap, char *err, size_t errlen)
{
    char words[WSS_CONFIG_CMD_MAX + 1];
    char *argv[WSS_CONFIG_CMD_ARGS];
    char name[64], shown_err[STDERR_QUOTED + 4];
    char so[STDOUT_MAX], se[STDERR_MAX];
    size_t argc, so_len = 0, se_len = 0;
    const char *why;
    int out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, pfd = -1;
    int out_eof = 0, err_eof = 0, exited = 0, status = 0, rc;
    int64_t own_deadline = ptu_now_ms() + WSS_PROXY_CMD_TIMEOUT_MS;
    int64_t until = own_deadline < deadline_ms ? own_deadline : deadline_ms;
    pid_t pid = -1;

    *out = '\0';
    if (ptu_cmdline_split(cmd, words, sizeof words, argv, WSS_CONFIG_CMD_ARGS, &argc, &why) != 0)
        return ptu_err(err, errlen, PT_EPROXY, "wss dial: proxy-cmd: %s", why);
    ptu_printable(name, sizeof name, argv[0], strlen(argv[0]));
    if (pipe2(out_p, O_CLOEXEC | O_NONBLOCK) != 0 || pipe2(err_p, O_CLOEXEC | O_NONBLOCK) != 0) {
        rc = ptu_err(err, errlen, PT_EIO, "wss dial: proxy-cmd \"%s\": no pipe: %s", name,
                     strerror(errno));
        goto out;
    }
    /* The child's ends blocking: a command may not expect O_NONBLOCK. */
    fcntl(out_p[1], F_SETFL, 0);
    fcntl(err_p[1], F_SETFL, 0);
    rc = spawn(argv, out_p[1], err_p[1], &pid);
    close(out_p[1]);
    close(err_p[1]);
    out_p[1] = err_p[1] = -1;
    if (rc != 0) {
        pid = -1;
        rc = ptu_err(err, errlen, rc == ENOMEM || rc == EAGAIN ? PT_EIO : PT_EPROXY,
                     "wss dial: cannot run proxy-cmd \"%s\": %s; check the command (it runs "
                     "without a shell, found through PATH)",
                     name, strerror(rc));
        goto out;
    }
    pfd = ptu_pidfd_open(pid);

    /* Until it has exited and its output is read: once it has exited,
     * what is in the pipes is read and the rest (a background process of
     * its own still holding them) not waited for. */
    while (!exited || !(out_eof && err_eof)) {
        struct pollfd p[4] = { { out_eof ? -1 : out_p[0], POLLIN, 0 },
                               { err_eof ? -1 : err_p[0], POLLIN, 0 },
                               { pfd, POLLIN, 0 },
                               { cancel_fd, POLLIN, 0 } };
        int64_t left = until - ptu_now_ms();
        if (exited) {
            left = 0;
        } else if (left <= 0) {
            kill(-pid, SIGKILL);
            rc = until == own_deadline
                     ? ptu_err(err, errlen, PT_EPROXY,
                               "wss dial: proxy-cmd \"%s\" did not finish within %d ms: killed; "
                               "check the command",
                               name, WSS_PROXY_CMD_TIMEOUT_MS)
                     : ptu_err(err, errlen, PT_ETIMEDOUT,
                               "wss dial: timed out running proxy-cmd \"%s\" (the dial timeout "
                               "came first): killed",
                               name);
            goto reap;
        }
        /* Without a pidfd, look at the child at least every 50 ms. */
        int wait_ms = left > 1000 ? 1000 : (int)left;
        if (pfd < 0 && wait_ms > 50)
            wait_ms = 50;
        if (poll(p, 4, wait_ms) < 0 && errno != EINTR) {
            kill(-pid, SIGKILL);
            rc = ptu_err(err, errlen, PT_EIO, "wss dial: proxy-cmd: poll: %s", strerror(errno));
            goto reap;
        }
        if (cancel_fd >= 0 && p[3].revents) {
            kill(-pid, SIGKILL);
            rc = ptu_err(err, errlen, PT_ECLOSED, "wss dial: cancelled while running proxy-cmd");
            goto reap;
        }
        if (!out_eof && (p[0].revents || exited))
            out_eof = drain(out_p[0], so, &so_len, sizeof so) || exited;
        if (!err_eof && (p[1].revents || exited))
            err_eof = drain(err_p[0], se, &se_len, sizeof se) || exited;
        if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
            exited = 1;
            pid = -1;
        }
    }
    rc = PT_OK;
    if (WIFSIGNALED(status))
        rc = ptu_err(err, errlen, PT_EPROXY,
                     "wss dial: proxy-cmd \"%s\" was killed by signal %d; check the command",
                     name, WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
        rc = ptu_err(err, errlen, PT_EPROXY,
                     "wss dial: proxy-cmd \"%s\" failed with exit status %d%s; check the "
                     "command (its stderr is logged)",
                     name, WEXITSTATUS(status),
                     /* a shell's "not found"; and where posix_spawn cannot
                      * report exec's error (under valgrind), its own */
                     WEXITSTATUS(status) == 127 ? " (not found or not executable?)" : "");
    if (rc == PT_OK) {
        /* The first line, trimmed. */
        size_t start = 0, end = 0;
        while (end < so_len && so[end] != '\n')
            end++;
        if (end == so_len && so_len == sizeof so) {
            rc = ptu_err(err, errlen, PT_EPROXY,
                         "wss dial: proxy-cmd \"%s\": the first line of its output is longer "
                         "than %zu bytes",
                         name, sizeof so);
            goto out;
        }
        while (start < end && (so[start] == ' ' || so[start] == '\t' || so[start] == '\r'))
            start++;
        while (end > start && (so[end - 1] == ' ' || so[end - 1] == '\t' || so[end - 1] == '\r'))
            end--;
        if (end == start)
            rc = ptu_err(err, errlen, PT_EPROXY,
                         "wss dial: proxy-cmd \"%s\" printed no proxy URL (its first line of "
                         "output is empty); check the command",
                         name);
        else if (end - start >= cap)
            rc = ptu_err(err, errlen, PT_EPROXY,
                         "wss dial: proxy-cmd \"%s\" printed a line longer than %zu bytes; "
                         "expected a proxy URL",
                         name, cap - 1);
        else {
            memcpy(out, so + start, end - start);
            out[end - start] = '\0';
        }
    }
    goto out;

reap:
    if (pid > 0)
        waitpid(pid, NULL, 0); /* killed: this is at once */
    pid = -1;
out:
    if (rc != PT_OK && rc != PT_ECLOSED && diag) {
        if (se_len > 0) {
            redact_stderr(se, se_len, shown_err, sizeof shown_err);
            ptu_diag_log(diag, PT_LOG_WARN, "wss: proxy-cmd \"%s\" failed; its stderr: %s", name,
                         shown_err);
        } else {
            ptu_diag_log(diag, PT_LOG_WARN, "wss: proxy-cmd \"%s\" failed; its stderr was empty",
                         name);
        }
    }
    if (pid > 0) { /* spawned, then a failure before it was reaped */
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    for (int i = 0; i < 2; i++) {
        if (out_p[i] >= 0)
            close(out_p[i]);
        if (err_p[i] >= 0)
            close(err_p[i]);
    }
    if (pfd >= 0)
        close(pfd);
    ptu_wipe(so, sizeof so);
    ptu_wipe(se, sizeof se);
    ptu_wipe(words, sizeof words);
    return rc;
}
