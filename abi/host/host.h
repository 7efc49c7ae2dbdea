/*
 * host.h -- what the reference host's subcommands share: the flags every
 * subcommand takes, and turning them into a loaded plugin and a dialled
 * connection, the way the Pilot daemon does.
 */
#ifndef PT_HOST_H
#define PT_HOST_H

#include <stdint.h>

#include "closer.h"
#include "flags.h"
#include "pilot_transport_loader.h"

#define PROG "pilot-transport"

/* Exit codes: 0 success, 1 the operation failed, 2 bad usage. */
enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct host {
    const char *cmd;           /* subcommand name, for messages */
    /* Flags. */
    const char *transport;
    const char *transport_dir;
    const char *identity_path;
    uint64_t node_id;
    struct flag_list opts;     /* -opt KEY=VALUE */
    const char *url, *tls_trust, *ca_file, *proxy, *proxy_cmd; /* WSS shorthands */
    const char *bind, *peer, *beacon; /* UDP shorthands */
    uint64_t probe_timeout_ms; /* -transport=auto: each probe's budget (0: 3000) */
    const char *sign;          /* -sign=host|plugin */
    const char *log_level;
    /* Set by the command before host_dial, or NULL: SIGINT/SIGTERM cancel
     * the dial through its pipe, then close the connection. */
    struct host_closer *closer;
    /* Derived by host_dial(). */
    const pt_plugin *plugin;
    char mode[32];             /* canonical transport mode */
    pt_addr peer_addr;
    int has_peer;
};

/* Append the shared flags to flags[*n] (the array has room for max). */
void host_common_flags(struct host *h, struct flag *flags, size_t *n, size_t max);

/* Parse argv for subcommand cmd with flags; prints usage on -h and errors
 * on stderr.  Returns -1 to go on, or an exit code to return. */
int host_parse(struct host *h, const char *cmd, const char *synopsis, const char *about,
               const struct flag *flags, int argc, char **argv);

/* Resolve the mode (-transport, else $PILOT_TRANSPORT, else
 * $PILOT_TRANSPORT_DEFAULT, else udp); for "auto", decide with
 * pt_loader_select and print "transport: MODE (REASON)" on stderr; load
 * the plugin, read the identity and -peer, and dial.  A plugin with a
 * "proxy" option gets $PILOT_PROXY as it when neither -proxy nor -proxy-cmd
 * (nor -opt proxy=/proxy-cmd=) names the proxy, so that a proxy URL with a
 * password need not be on the command line.  With -sign=host the private
 * key stays in the host (a pt_signer; wiped at exit), with -sign=plugin
 * (the default) the plugin gets it in pt_identity and the host wipes its
 * copy after the dial.  h->closer's pipe is the dial's cancel_fd.  On
 * failure prints one line on stderr and returns non-zero (an exit code).
 * *dial_ms may be NULL. */
int host_dial(struct host *h, pt_conn **out, double *dial_ms);

/* Set up h->closer = cl (closer.h): call before any other thread exists,
 * before host_dial.  0, or EXIT_FAIL after saying why (h->closer NULL). */
int host_start_closer(struct host *h, struct host_closer *cl);

/* What -transport=auto decides, without dialling: writes the mode ("udp"
 * or "wss") and the one-line reason.  On failure prints one line on stderr
 * and returns non-zero (an exit code). */
int host_select(struct host *h, char *mode, size_t mode_len, char *reason, size_t reason_len);

/* Print "pilot-transport CMD: <fmt>" on stderr. */
void host_error(const struct host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The connection's last error, for messages after a failed call. */
const char *host_conn_error(const struct host *h, pt_conn *c, int code, char *buf, size_t len);

/* Subcommands. */
int cmd_keygen(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_echo(int argc, char **argv);
int cmd_echo_bench(int argc, char **argv);
int cmd_plugins(int argc, char **argv);
int cmd_relay(int argc, char **argv);
int cmd_select(int argc, char **argv);

#endif
