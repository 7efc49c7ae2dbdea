/*
 * params.c -- the UDP plugin's options, and what it reads of
 * pt_dial_params (udp.h): each field only where the header says it may.
 */
#include "config.h"

#include <poll.h>
#include <string.h>

#include "addr.h"
#include "options.h"
#include "udp.h"
#include "util.h"

const pt_option_doc udp_options[] = {
    { "bind", "HOST:PORT", "0.0.0.0:0",
      "local address to bind; [::]:PORT for IPv6 (dual-stack); port 0 picks one" },
    { "beacon", "HOST:PORT", NULL,
      "the beacon's UDP address, which probe sends its Discover to (dial only checks it); "
      "the Discover registers the node at the probe's own port until the node's socket "
      "sends one again" },
    { NULL, NULL, NULL, NULL },
};

/* The node id a Discover names: the signer's (which replaces identity when
 * set), else the identity's. */
static uint32_t node_id_of(const pt_dial_params *p)
{
    if (PT_HAS_FIELD(p, pt_dial_params, signer) && p->signer &&
        PT_HAS_FIELD(p->signer, pt_signer, node_id))
        return p->signer->node_id;
    return p->identity ? p->identity->node_id : 0;
}

/* Copy option key's value (or default) into buf and check its form without
 * resolving a name.  An empty buf when it has neither. */
static int address_option(const pt_dial_params *p, const char *who, const char *key, int passive,
                          char *buf, size_t cap, char *err, size_t errlen)
{
    const char *v = ptu_option_get(p->options, p->n_options, udp_options, key);
    char host[256], why[PT_ERRMSG_MAX];
    pt_addr a;

    buf[0] = '\0';
    if (!v)
        return PT_OK;
    if (strlen(v) >= cap)
        return ptu_err(err, errlen, PT_EOPTION, "%s: option \"%s\": longer than %zu bytes", who,
                       key, cap - 1);
    int rc = ptu_addr_parse_literal(v, passive, &a, host, sizeof host, why, sizeof why);
    if (rc != PT_OK && rc != PTU_ADDR_NAME)
        return ptu_err(err, errlen, PT_EOPTION, "%s: option \"%s\": %s", who, key, why);
    if (!passive && a.port == 0)
        return ptu_err(err, errlen, PT_EOPTION, "%s: option \"%s\": \"%s\" has port 0", who, key,
                       v);
    memcpy(buf, v, strlen(v) + 1);
    return PT_OK;
}

int udp_params_read(const pt_dial_params *p, const char *who, udp_params *out, char *err,
                    size_t errlen)
{
    int rc;

    memset(out, 0, sizeof *out);
    out->cancel_fd = -1;
    out->host_minor = 1;
    if (!p || !PT_HAS_FIELD(p, pt_dial_params, log_level))
        return ptu_err(err, errlen, PT_EINVAL, "%s: missing or too small dial parameters", who);
    /* A 1.0/1.1 host's struct ends before abi_minor; a zero-filled one
     * says 0: both are hosts that know nothing of 1.2. */
    if (PT_HAS_FIELD(p, pt_dial_params, abi_minor) && p->abi_minor >= 2) {
        out->host_minor = p->abi_minor;
        if (PT_HAS_FIELD(p, pt_dial_params, cancel_fd) && p->cancel_fd >= 0)
            out->cancel_fd = p->cancel_fd;
    }
    out->node_id = node_id_of(p);
    rc = ptu_options_check(who, p->options, p->n_options, udp_options, err, errlen);
    if (rc == PT_OK)
        rc = address_option(p, who, "bind", 1, out->bind_s, sizeof out->bind_s, err, errlen);
    if (rc == PT_OK)
        rc = address_option(p, who, "beacon", 0, out->beacon_s, sizeof out->beacon_s, err,
                            errlen);
    return rc;
}

int udp_cancelled(const udp_params *up)
{
    struct pollfd p = { up->cancel_fd, POLLIN, 0 };
    return up->cancel_fd >= 0 && poll(&p, 1, 0) > 0;
}
