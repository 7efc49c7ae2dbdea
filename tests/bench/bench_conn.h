/*
 * bench_conn.h -- what the benchmark's connection programs share
 * (reconnect-time.c, conn-cost.c, recv-cost.c): a WSS dial set up from --port --ca
 * --identity --node-id, and bench_util.h.
 * Benchmark code, not product.
 */
#ifndef PT_BENCH_CONN_H
#define PT_BENCH_CONN_H

#include "bench_util.h"
#include "identity.h"
#include "pilot_transport.h"
#include "pilot_transport_loader.h"

/* A WSS dial to 127.0.0.1:port (the address raw-tls uses; the test
 * certificate names it) as node_id, trusting ca. */
struct bench_dial {
    const pt_plugin *p;
    pt_identity id;
    char url[64];
    pt_option opts[3]; /* url, ca-file, and room for one more */
    pt_dial_params dp;
};

static inline void bench_dial_setup(struct bench_dial *b, unsigned long port, const char *ca,
                                    const char *identity, unsigned long node_id)
{
    char err[PT_ERRMSG_MAX];
    memset(b, 0, sizeof *b);
    if (pt_loader_open("wss", NULL, &b->p, err, sizeof err) != PT_OK)
        die("%s", err);
    if (ptu_identity_load(identity, &b->id, err, sizeof err) != PT_OK)
        die("%s", err);
    b->id.node_id = (uint32_t)node_id;
    snprintf(b->url, sizeof b->url, "wss://127.0.0.1:%lu/v1/compat", port);
    b->opts[0] = (pt_option){ "url", b->url };
    b->opts[1] = (pt_option){ "ca-file", ca };
    pt_dial_params init = PT_DIAL_PARAMS_INIT;
    b->dp = init;
    b->dp.options = b->opts;
    b->dp.n_options = 2;
    b->dp.identity = &b->id;
}

#endif
