#!/bin/bash
# The WSS plugin's probe through real proxies (tests/proxy/lib.sh): this
# script starts tinyproxy with Basic auth and one whose ConnectPort policy
# refuses the beacon's port, then runs tests/wss/test-wss-probe --proxies
# (under $PT_RUN), whose TAP is this test's: good credentials reach the
# beacon, missing or wrong ones and the policy are proxy errors, and no
# detail or log line carries a password.  The password is registered for
# tests/secrets.sh.
#
# Needs PT_BEACON (make check sets it), tinyproxy, curl, certtool.
. "$(dirname "$0")/../host/lib.sh"
. "$(dirname "$0")/lib.sh"

proxy_test_needs # PT_BEACON, SRCDIR; tinyproxy, curl, certtool

trap 'proxy_stop_all; rm -rf "$TMP"' EXIT

pw="pw-$(od -An -v -tx1 -N8 /dev/urandom | tr -d ' \n')"
# Port 1 (tcpmux) is the only one the second proxy lets CONNECT reach: the
# beacon, on a port of its own, is refused with 403.
if ! proxy_start auth --auth="probe:$pw"; then
    echo "Bail out! tinyproxy with Basic auth did not start"
    exit 1
fi
AUTH_PORT=$PROXY_PORT
if ! proxy_start ports --connect-port=1; then
    echo "Bail out! tinyproxy with ConnectPort did not start"
    exit 1
fi

# shellcheck disable=SC2086 # PT_RUN is a command line
PT_PROBE_PROXY_AUTH="http://127.0.0.1:$AUTH_PORT" PT_PROBE_PROXY_USER=probe \
    PT_PROBE_PROXY_PASSWORD="$pw" PT_PROBE_PROXY_PORTS="http://127.0.0.1:$PROXY_PORT" \
    $PT_RUN "${PT_BUILDDIR:-.}/tests/wss/test-wss-probe" --proxies
