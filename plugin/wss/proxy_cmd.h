/*
 * proxy_cmd.h -- running proxy-cmd, the command that prints the proxy URL
 * (for credentials that rotate).  Internal to the WSS plugin.  Prefix:
 * wss_proxy_cmd_.
 *
 * No shell: the command is split into words by ptu_cmdline_split and run
 * with posix_spawnp, in a process group of its own, stdin /dev/null, no
 * descriptor but 0, 1 and 2 (so nothing of the host or the plugin
 * leaks into it), signals at their defaults.  Its stdout and stderr are
 * read through pipes while it runs, and it is killed (the whole group,
 * SIGKILL) at the deadline or when cancel_fd polls readable.
 */
#ifndef PT_WSS_PROXY_CMD_H
#define PT_WSS_PROXY_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* The most proxy-cmd may take: 10 s, or less when the dial ends first. */
#define WSS_PROXY_CMD_TIMEOUT_MS 10000

/* Run cmd and put the first line of its standard output, without leading
 * and trailing spaces, tabs and CR, into out (cap bytes).  That line is a
 * secret: every buffer that held it is wiped, and no message quotes it.
 * On failure, the start of the command's stderr (printable, cut, URL
 * passwords starred) is logged at WARN on diag (which may be NULL).
 * Returns PT_OK, or
 *   PT_EPROXY     it cannot be started (not found, not executable), exits
 *                 non-zero, is killed by a signal, is killed after
 *                 WSS_PROXY_CMD_TIMEOUT_MS, prints nothing, or a first line
 *                 longer than cap - 1;
 *   PT_ETIMEDOUT  the dial's deadline came first (the command is killed);
 *   PT_ECLOSED    cancel_fd fired (the command is killed);
 *   PT_EIO        no pipe or process could be made (descriptors, memory).
 * err names the command by its first word only. */
int wss_proxy_cmd_run(const char *cmd, int cancel_fd, int64_t deadline_ms, ptu_diag *diag,
                      char *out, size_t cap, char *err, size_t errlen);

#endif
