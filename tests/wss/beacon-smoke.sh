#!/bin/bash
# The development beacon (pilot-beacon-dev) on its own, driven by the curl
# CLI: TLS with the test certificates, /health, the upgrade policy, STATS,
# clean exit.  The WSS plugin's own tests run against the same beacon.
# Needs PT_BEACON (the beacon binary; make check sets it), curl, certtool.
. "$(dirname "$0")/../host/lib.sh"

: "${PT_BEACON:=${PT_BUILDDIR:-.}/tests/beacon/pilot-beacon-dev}"
if [ ! -x "$PT_BEACON" ] || ! command -v curl >/dev/null || ! command -v certtool >/dev/null; then
    echo "1..0 # SKIP needs PT_BEACON ($PT_BEACON), curl and certtool"
    exit 0
fi

CERTS=$TMP/certs
SRCDIR=${PT_SRCDIR:-$(dirname "$0")/../..}
WS_KEY=dGhlIHNhbXBsZSBub25jZQ==

# start_beacon ARGS...: the beacon with ARGS, up (lib.sh); its stderr is
# $TMP/beacon.err.
start_beacon() {
    beacon_start_proc beacon "$@"
}

# wait_for PATTERN FILE: until a line matching PATTERN shows up (30 s cap).
wait_for() {
    for _ in $(seq 300); do
        grep -Eq -- "$1" "$2" && return 0
        sleep 0.1
    done
    return 1
}

# upgrade PATH [SUBPROTOCOL]: a WebSocket upgrade by hand; the response in
# $TMP/up.txt: a refusal whole, or after a 101 the headers and the frames up
# to the auth challenge's closing brace.  curl would read on after a 101
# until its -m, so it is stopped once the challenge is in (the -m is only a
# cap, generous for a busy machine).
upgrade() {
    local proto=() chunk='' curl_pid fd
    [ -n "${2:-}" ] && proto=(-H "Sec-WebSocket-Protocol: $2")
    rm -f "$TMP/up.fifo"
    mkfifo "$TMP/up.fifo"
    curl -sS --http1.1 -i -N -m $((20 * ${PT_TIME_SCALE:-1})) --cacert "$CERTS/ca.pem" \
        -H "Connection: Upgrade" -H "Upgrade: websocket" \
        -H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: $WS_KEY" "${proto[@]}" \
        "https://localhost:$PORT$1" >"$TMP/up.fifo" 2>/dev/null &
    curl_pid=$!
    exec {fd}<"$TMP/up.fifo"
    : >"$TMP/up"
    # Chunks end at '}' (there is none in the headers); EOF ends a refusal,
    # and what came after its last '}' is left in chunk.
    while IFS= read -r -d '}' chunk <&"$fd"; do
        printf '%s}' "$chunk" >>"$TMP/up"
        [[ $chunk == *'"type":"auth_challenge"'* ]] && chunk='' && break
    done
    printf '%s' "$chunk" >>"$TMP/up"
    kill "$curl_pid" 2>/dev/null
    wait "$curl_pid" 2>/dev/null
    exec {fd}<&-
    tr -d '\r' <"$TMP/up" >"$TMP/up.txt"
}

# ---- the certificates --------------------------------------------------------

sh "$SRCDIR/tests/wss/make-certs.sh" "$CERTS"
ok $? "make-certs.sh makes the test CA and server certificates"

sum1=$(cat "$CERTS"/*.pem | cksum)
sh "$SRCDIR/tests/wss/make-certs.sh" "$CERTS" && [ "$(cat "$CERTS"/*.pem | cksum)" = "$sum1" ]
ok $? "make-certs.sh is idempotent: a second run changes nothing"

# ---- one beacon for the protocol checks -------------------------------------

start_beacon --cert="$CERTS/server.pem" --key="$CERTS/server-key.pem"
ok $? "the beacon starts and prints READY port=N ($PORT)"

[ "$READY" = "READY port=$PORT udp=$PORT" ]
ok $? "relay mode is the default: UDP on the same port number ($READY)"

[ "$(curl -sS -m 10 --cacert "$CERTS/ca.pem" "https://localhost:$PORT/health")" = ok ]
ok $? "GET /health answers ok over TLS verified against the test CA"

[ "$(curl -sS -m 10 --cacert "$CERTS/ca.pem" "https://127.0.0.1:$PORT/health")" = ok ]
ok $? "the server certificate also covers IP 127.0.0.1"

code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' --cacert "$CERTS/ca.pem" \
    "https://localhost:$PORT/nowhere")
[ "$code" = 404 ]
ok $? "other paths are 404 ($code)"

upgrade /v1/compat
head -1 "$TMP/up.txt" | grep -q '^HTTP/1\.[01] 400 '
ok $? "an upgrade that does not offer pilot.v1 is refused with 400"

upgrade /v1/other pilot.v1
head -1 "$TMP/up.txt" | grep -q '^HTTP/1\.[01] 404 '
ok $? "an upgrade on another path than /v1/compat is refused with 404"

upgrade /v1/compat pilot.v1
head -1 "$TMP/up.txt" | grep -q '^HTTP/1\.1 101 ' &&
    grep -qi '^Sec-WebSocket-Protocol: pilot\.v1$' "$TMP/up.txt"
ok $? "an upgrade offering pilot.v1 on /v1/compat gets 101 selecting pilot.v1"

grep -aEq '"type":"auth_challenge","nonce":"[0-9a-f]{64}","ts":[0-9]+\}' "$TMP/up.txt"
ok $? "right after the upgrade the beacon sends the auth challenge"

# Six curl processes so far: six full TLS handshakes (GET /stats below is
# the seventh).
kill -USR1 "$BEACON_PID"
wait_for '^STATS upgrades=1 auth_ok=0 auth_fail=0 frames_in=0 frames_out=0 bytes_in=0 bytes_out=0 drops=0 refused=2 relayed=0 relay_dropped=0 udp_in=0 udp_out=0 discovers=0 tls_full=6 tls_resumed=0 text_in=0$' "$TMP/beacon.err"
ok $? "SIGUSR1 prints the counters as one STATS line"

json=$(curl -sS -m 10 -D "$TMP/stats.hdr" --cacert "$CERTS/ca.pem" "https://localhost:$PORT/stats")
[ "$json" = '{"upgrades":1,"auth_ok":0,"auth_fail":0,"frames_in":0,"frames_out":0,"bytes_in":0,"bytes_out":0,"drops":0,"refused":2,"relayed":0,"relay_dropped":0,"udp_in":0,"udp_out":0,"discovers":0,"tls_full":7,"tls_resumed":0,"text_in":0}' ] &&
    grep -qi '^content-type: application/json' "$TMP/stats.hdr"
ok $? "GET /stats serves the same counters as JSON"

stop_beacon
[ "$BEACON_RC" -eq 0 ] && [ "$(grep -c '^STATS ' "$TMP/beacon.err")" -eq 2 ]
ok $? "SIGTERM: exit 0 (status $BEACON_RC) and a final STATS line"

# ---- the fault flags that act on the upgrade --------------------------------

start_beacon --cert="$CERTS/server.pem" --key="$CERTS/server-key.pem" --refuse=1 \
    --subprotocol=pilot.v2
upgrade /v1/compat pilot.v1
head -1 "$TMP/up.txt" | grep -q '^HTTP/1\.[01] 503 '
ok $? "--refuse=1: the first upgrade gets 503"

upgrade /v1/compat pilot.v1
head -1 "$TMP/up.txt" | grep -q '^HTTP/1\.1 101 ' &&
    grep -qi '^Sec-WebSocket-Protocol: pilot\.v2$' "$TMP/up.txt"
ok $? "--subprotocol=pilot.v2: the next one is accepted selecting pilot.v2"
stop_beacon
[ "$BEACON_RC" -eq 0 ]
ok $? "that beacon exits 0 too"

# ---- the other certificates fail as each client test expects ----------------

# tls_fails CERT KEY CAFILE PATTERN: curl refuses the beacon's certificate
# and says why (PATTERN, in curl's error message).
tls_fails() {
    start_beacon --cert="$CERTS/$1" --key="$CERTS/$2" || return 1
    curl -sS -m 10 --cacert "$CERTS/$3" "https://localhost:$PORT/health" \
        >/dev/null 2>"$TMP/curl.err"
    local rc=$?
    stop_beacon
    [ "$rc" -ne 0 ] && grep -Eqi -- "$4" "$TMP/curl.err"
}

tls_fails expired.pem expired-key.pem ca.pem 'expired'
ok $? "expired.pem is refused as expired"

tls_fails wrong-host.pem wrong-host-key.pem ca.pem "(no alternative certificate subject name|does not match|hostname)"
ok $? "wrong-host.pem is refused for localhost"

tls_fails server.pem server-key.pem other-ca.pem '(unable to get local issuer|self.signed|not trusted|issuer)'
ok $? "server.pem is refused when only other-ca.pem is trusted"

start_beacon --plaintext
[ "$(curl -sS -m 10 "http://127.0.0.1:$PORT/health")" = ok ]
ok $? "--plaintext serves plain HTTP"
stop_beacon

start_beacon --plaintext --mode=echo && [ "$READY" = "READY port=$PORT" ]
ok $? "--mode=echo: no UDP socket, READY port=N alone ($READY)"
stop_beacon

"$PT_BEACON" --mode=bounce >/dev/null 2>"$TMP/mode.err"
[ $? -eq 2 ] && grep -q 'invalid value for --mode: "bounce"' "$TMP/mode.err"
ok $? "an unknown --mode is a usage error"

done_testing
