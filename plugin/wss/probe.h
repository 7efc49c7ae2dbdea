/*
 * probe.h -- pt_plugin.probe for the WSS plugin (ABI 1.2): can a dial
 * with these parameters reach a compat beacon from here?  Internal to the
 * WSS plugin.  Prefix: wss_probe.
 *
 * The probe connects exactly as a dial would (dial.c's connect: the same
 * options, proxy choice, TLS trust) and sends a plain "GET <path>", no
 * Upgrade headers, which a compat beacon answers "426 Upgrade Required"
 * (SPEC 6, -transport=auto: a bare TCP connect proves nothing behind an
 * SNI-routing front or a proxy).  No identity, no session, no thread; it
 * leaves nothing open.  Safe from any thread.
 */
#ifndef PT_WSS_PROBE_H
#define PT_WSS_PROBE_H

#include <stddef.h>

#include "pilot_transport.h"

/* Within timeout_ms (> 0), or until params->cancel_fd polls readable (read
 * only when params->abi_minor >= 2).  The options are the dial's
 * (dial-timeout is not used: timeout_ms is the budget; the host's logger
 * gets the dial's proxy lines).  Returns, with one line in detail
 * (detail_len bytes, may be 0; no credentials):
 *   PT_OK        "wss://beacon/v1/compat answered 426 in 12 ms (via proxy
 *                http://u:***@proxy:3128 from https_proxy)", or "(direct)";
 *   PT_EPROXY    a proxy was used and it failed: refused the CONNECT (403,
 *                407, any other status), could not be resolved or reached,
 *                answered garbage, its TLS failed; proxy-cmd failed;
 *   PT_ETLS      the beacon's TLS handshake or certificate;
 *   PT_EIO       resolving or connecting to the beacon (no proxy in the
 *                way), a read or write error;
 *   PT_ETIMEDOUT the budget ran out;
 *   PT_EPROTO    something answered the GET, but not 426: the status line
 *                (printable, cut) is quoted; or it closed without a word;
 *   PT_EOPTION   the options are invalid or name no url;
 *   PT_ECLOSED   cancel_fd fired;
 *   PT_ENOMEM    out of memory;
 *   PT_EINVAL    params NULL or shorter than 1.0's, timeout_ms <= 0, detail
 *                NULL with detail_len > 0. */
int wss_probe(const pt_dial_params *params, int timeout_ms, char *detail, size_t detail_len);

#endif
