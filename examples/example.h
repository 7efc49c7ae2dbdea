/*
 * example.h -- what both example hosts need besides the transport itself:
 * the command line, a "HOST:PORT" parser, a Pilot identity file reader, a
 * logger, and loading and dialling a plugin as both do.  Plain C11 and POSIX; only the installed pilot-transport
 * headers.  Each example defines _POSIX_C_SOURCE before including it.
 */
#ifndef EXAMPLE_H
#define EXAMPLE_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pilot_transport_loader.h>

#define MAX_OPTS 16

/* The command line both examples take. */
struct args {
    const char *dir, *mode, *peer_s;   /* -d DIR, MODE, PEER */
    pt_option opts[MAX_OPTS];          /* KEY=VALUE ... */
    size_t n_opts;
    pt_identity id;                    /* -i FILE -n NODE_ID */
    pt_addr peer;
    int count;                         /* -c N */
};

/* "1.2.3.4:5" or "[::1]:5" into *a; 0 on success. */
static int parse_addr(const char *s, pt_addr *a)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = strrchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : 0;
    memset(a, 0, sizeof *a);
    if (!colon || n == 0 || n >= sizeof host)
        return -1;
    memcpy(host, s, n);
    host[n] = '\0';
    a->port = (uint16_t)atoi(colon + 1);
    if (host[0] == '[' && host[n - 1] == ']') {
        host[n - 1] = '\0';
        a->family = PT_AF_INET6;
        return inet_pton(AF_INET6, host + 1, a->ip) == 1 ? 0 : -1;
    }
    a->family = PT_AF_INET;
    return inet_pton(AF_INET, host, a->ip) == 1 ? 0 : -1;
}

/* Read the "private_key" of a Pilot identity file (base64 of the 64-byte
 * Ed25519 seed and public key) into id; refuse a file others may read. */
static int load_identity(const char *path, pt_identity *id)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char text[1024];
    struct stat st;
    FILE *f = fopen(path, "r");
    size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0, n = 0;
    int bad = !f || fstat(fileno(f), &st) != 0 || (st.st_mode & 077);
    if (f)
        fclose(f);
    text[len] = '\0';
    const char *p = strstr(text, "\"private_key\":\"");
    if (bad || !p)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    for (p += 15; *p && *p != '"' && *p != '=' && n < 64; p++) {
        const char *c = strchr(b64, *p);
        if (!c)
            return -1;
        acc = acc << 6 | (uint32_t)(c - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            id->private_key[n++] = (uint8_t)(acc >> bits);
        }
    }
    memcpy(id->public_key, id->private_key + 32, 32);
    memset(text, 0, sizeof text);
    id->has_key = n == 64;
    return n == 64 ? 0 : -1;
}

/* The plugin's log lines (warnings and errors) on stderr. */
static void log_line(void *userdata, int level, const char *message)
{
    (void)userdata;
    fprintf(stderr, "%s: %s\n", level == PT_LOG_ERROR ? "error" : "warning", message);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parse [-d DIR] [-i FILE -n NODE_ID] [-c N] MODE [PEER] [KEY=VALUE...]. */
static int parse_args(int argc, char **argv, struct args *a, const char *usage)
{
    int c;
    memset(a, 0, sizeof *a);
    a->count = 10;
    while ((c = getopt(argc, argv, "d:i:n:c:")) != -1) {
        if (c == 'd')
            a->dir = optarg;
        else if (c == 'i' && load_identity(optarg, &a->id) != 0)
            return fprintf(stderr, "%s: cannot read the identity %s (mode 0600?)\n",
                           argv[0], optarg), -1;
        else if (c == 'n')
            a->id.node_id = (uint32_t)strtoul(optarg, NULL, 10);
        else if (c == 'c')
            a->count = atoi(optarg);
        else if (c == '?')
            return fprintf(stderr, "usage: %s %s\n", argv[0], usage), -1;
    }
    if (optind >= argc || a->count < 1)
        return fprintf(stderr, "usage: %s %s\n", argv[0], usage), -1;
    a->mode = argv[optind++];
    for (; optind < argc; optind++) {
        char *eq = strchr(argv[optind], '=');
        if (eq && a->n_opts < MAX_OPTS) {
            *eq = '\0';
            a->opts[a->n_opts++] = (pt_option){ argv[optind], eq + 1 };
        } else if (!eq && !a->peer_s && parse_addr(argv[optind], &a->peer) == 0) {
            a->peer_s = argv[optind];
        } else {
            return fprintf(stderr, "%s: bad argument \"%s\"\n", argv[0], argv[optind]), -1;
        }
    }
    return 0;
}

/* Load the plugin for a->mode and dial it with the command line's options
 * and identity into *p and *c.  0, or -1 once it has said why on stderr. */
static int load_and_dial(const char *prog, struct args *a, const pt_plugin **p, pt_conn **c)
{
    char err[PT_ERRMSG_MAX];
    /* The loader searches DIR, $PILOT_TRANSPORT_DIR, then the installed
     * plugin directory, and refuses a plugin of another ABI major. */
    int rc = pt_loader_open(a->mode, a->dir, p, err, sizeof err);
    if (rc != PT_OK)
        return fprintf(stderr, "%s: %s\n", prog, err), -1;

    /* PT_DIAL_PARAMS_INIT sets struct_size, abi_minor and cancel_fd = -1:
     * a plugin of any 1.x minor reads only what it knows. */
    pt_dial_params dp = PT_DIAL_PARAMS_INIT;
    dp.options = a->opts;
    dp.n_options = a->n_opts;
    dp.identity = a->id.has_key ? &a->id : NULL;
    dp.log = log_line;
    dp.log_level = PT_LOG_WARN;
    rc = (*p)->dial(&dp, c, err, sizeof err);
    memset(&a->id, 0, sizeof a->id); /* the plugin keeps its own copy of the key */
    if (rc != PT_OK)
        return fprintf(stderr, "%s: dial %s: %s (%s)\n", prog, (*p)->name, err,
                       pt_strerror(rc)), -1;
    return 0;
}

#endif /* EXAMPLE_H */
