#!/bin/bash
# The proxies of tests/proxy/lib.sh on their own, seen through the curl
# command line: GET /health of a development beacon over TLS through
# tinyproxy with Basic auth (right, missing, wrong and changed
# credentials), through a tinyproxy that lets CONNECT reach another port
# only, and through stunnel in front of tinyproxy (an https:// proxy); the
# proxy's log names the host the CONNECT asked for.  Credentials go to curl
# in a config on stdin and are registered for tests/secrets.sh; no line of
# this test or of the proxies' logs carries them.
#
# Needs PT_BEACON (make check sets it), tinyproxy, curl, certtool;
# stunnel for the https:// proxy.
. "$(dirname "$0")/../host/lib.sh"
. "$(dirname "$0")/lib.sh"

proxy_test_needs # PT_BEACON, SRCDIR; tinyproxy, curl, certtool

CERTS=$TMP/certs
SCALE=${PT_TIME_SCALE:-1}
cleanup() {
    proxy_stop_all
    [ -n "${BEACON_PID:-}" ] && kill -TERM "$BEACON_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# skip NAME REASON: a test point that cannot run here.
skip() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $1 # SKIP $2"
}

# through PROXY-URL CREDENTIALS [CURL-ARGS...]: GET /health of the beacon
# over TLS (verified against the test CA) through PROXY-URL, with
# CREDENTIALS (USER:PASSWORD, or - for none) in a curl config on stdin, not
# on a command line.  Sets CODE (the beacon's HTTP status, 000 when the
# tunnel failed), CONNECT_CODE (the proxy's answer to CONNECT) and RC
# (curl's status); the body in $TMP/body.
through() {
    local proxy=$1 cfg='' out
    [ "$2" = - ] || cfg="proxy-user = \"$2\""
    shift 2
    RC=0
    rm -f "$TMP/body"
    out=$(printf '%s\n' "$cfg" |
        curl -sS -K - -m $((10 * SCALE)) -o "$TMP/body" -w '%{http_code} %{http_connect}' \
            --cacert "$CERTS/ca.pem" --proxy "$proxy" "$@" "https://localhost:$PORT/health" \
            2>"$TMP/curl.err") || RC=$?
    CODE=${out% *} CONNECT_CODE=${out#* }
    echo "# curl: status $RC, CONNECT $CONNECT_CODE, HTTP $CODE"
    head -n 1 "$TMP/curl.err" | sed 's/^/#   /'
}

# health_ok: the last through reached the beacon: 200, body ok.
health_ok() {
    [ "$RC" -eq 0 ] && [ "$CODE" = 200 ] && [ "$(cat "$TMP/body" 2>/dev/null)" = ok ]
}

# refused STATUS: the last through was refused by the proxy with STATUS.
refused() {
    [ "$RC" -ne 0 ] && [ "$CONNECT_CODE" = "$1" ] && [ "$CODE" = 000 ]
}

# ---- fixtures: certificates, a beacon ----------------------------------------

sh "$SRCDIR/tests/wss/make-certs.sh" "$CERTS" &&
    beacon_start_proc beacon --cert="$CERTS/server.pem" --key="$CERTS/server-key.pem" --mode=echo
ok $? "fixtures: the test CA, a beacon on TLS port $PORT"

pw1="pw-$(od -An -v -tx1 -N8 /dev/urandom | tr -d ' \n')"
pw2="pw-$(od -An -v -tx1 -N8 /dev/urandom | tr -d ' \n')"
wrong="wrong-$(od -An -v -tx1 -N8 /dev/urandom | tr -d ' \n')"
proxy_secret "a wrong password" "$wrong"

# ---- (a) tinyproxy with Basic auth -------------------------------------------

proxy_start auth --auth="pilot:$pw1"
ok $? "tinyproxy with Basic auth starts; its log says it accepts connections (port $PROXY_PORT)"
AUTH=http://127.0.0.1:$PROXY_PORT

through "$AUTH" "pilot:$pw1"
health_ok && [ "$CONNECT_CODE" = 200 ]
ok $? "through it with the right credentials: CONNECT 200, then GET /health over TLS answers ok"

[ "$(proxy_connects auth | tail -n 1)" = "localhost:$PORT" ]
ok $? "its log shows what the CONNECT named: localhost:$PORT, the host name, not an address"

through "$AUTH" -
refused 407
ok $? "without credentials: 407"

# tinyproxy 1.11 answers 401, not 407, to credentials it does not accept.
through "$AUTH" "pilot:$wrong"
refused 401
ok $? "with a wrong password: refused (401, as tinyproxy 1.11 answers)"

proxy_set_auth auth "pilot:$pw2"
ok $? "the credentials change while it runs (config rewritten, SIGUSR1, reload logged)"

through "$AUTH" "pilot:$pw1"
refused 401
ok $? "after the change the old credentials are refused (401)"

through "$AUTH" "pilot:$pw2"
health_ok
ok $? "and the new ones get through"

# ---- (b) tinyproxy that lets CONNECT reach another port only -----------------

other=$((PORT == 65535 ? PORT - 1 : PORT + 1))
proxy_start ports --connect-port="$other"
ok $? "tinyproxy with ConnectPort $other only starts (port $PROXY_PORT)"

through "http://127.0.0.1:$PROXY_PORT" -
refused 403 && grep -q "Refused CONNECT method on port $PORT" "$TMP/proxy-ports/tinyproxy.log" &&
    [ "$(proxy_connects ports)" = "localhost:$PORT" ]
ok $? "CONNECT to the beacon's port $PORT through it: 403, logged as refused"

# ---- (c) an https:// proxy: stunnel in front of tinyproxy --------------------

if command -v stunnel >/dev/null; then
    proxy_start tls && proxy_tls_start tls "$CERTS/server.pem" "$CERTS/server-key.pem"
    ok $? "stunnel (TLS with the test certificate) in front of a tinyproxy (port $PROXY_TLS_PORT)"
    HTTPS_PROXY_URL=https://localhost:$PROXY_TLS_PORT

    through "$HTTPS_PROXY_URL" - --proxy-cacert "$CERTS/ca.pem"
    health_ok && [ "$(proxy_connects tls)" = "localhost:$PORT" ]
    ok $? "through the https:// proxy (--proxy-cacert): GET /health answers ok; CONNECT named localhost:$PORT"

    through "$HTTPS_PROXY_URL" - --proxy-cacert "$CERTS/other-ca.pem"
    [ "$RC" -ne 0 ] && [ "$CODE" = 000 ] && [ "$(proxy_connects tls | wc -l)" -eq 1 ]
    ok $? "its certificate is checked: trusting another CA, curl does not get to CONNECT"
else
    for t in "stunnel in front of a tinyproxy" "through the https:// proxy" \
        "its certificate is checked"; do
        skip "$t" "stunnel not installed (scripts/install-deps)"
    done
fi

# ---- the logs, and stopping --------------------------------------------------

leaks=$(cat "$TMP"/proxy-*/*.log "$TMP"/proxy-*/*.out 2>/dev/null |
    grep -cF -e "$pw1" -e "$pw2" -e "$wrong" -e "$(printf 'pilot:%s' "$pw1" | base64 -w0)" \
        -e "$(printf 'pilot:%s' "$pw2" | base64 -w0)")
[ "$leaks" -eq 0 ]
ok $? "no line of the proxies' own logs holds a password or the encoded credentials ($leaks)"

proxy_stop_all && ! ls "$TMP"/proxy-*/*pid >/dev/null 2>&1
ok $? "the proxies stop on SIGTERM, exit 0"

stop_beacon
[ "$BEACON_RC" -eq 0 ]
ok $? "the beacon exits 0 on SIGTERM"

done_testing
