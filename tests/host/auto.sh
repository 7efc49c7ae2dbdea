#!/bin/bash
# -transport=auto end to end (SPEC 6): the host's "select" command and
# its auto mode against the development beacon over real TLS with a test
# CA, and through real tinyproxies (tests/proxy/lib.sh):
#   - the UDP beacon answers a Discover: udp;
#   - its UDP port closed, or a beacon that takes datagrams and never
#     answers (stopped with SIGSTOP), while the compat beacon answers: wss;
#   - both silent: udp, degraded, and the reason says so;
#   - the compat check through a proxy that wants credentials (407, none
#     given; 401, wrong ones) or refuses the beacon's port (403): wss, and
#     the reason never holds a proxy password;
#   - PILOT_TRANSPORT_DEFAULT=auto when no flag or PILOT_TRANSPORT chooses;
#   - SIGINT while the probes or the dial are stalled: the host exits
#     promptly with a clear message (awaited, with a generous bound);
#   - -sign=host and -sign=plugin both authenticate with the beacon.
# Needs PT_BEACON (make check sets it), tinyproxy, curl, certtool.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../proxy/lib.sh"

proxy_test_needs # PT_BEACON, SRCDIR; tinyproxy, curl, certtool

CERTS=$TMP/certs
SCALE=${PT_TIME_SCALE:-1}
# Probe budgets: what a probe on this machine needs, times the scale (a TLS
# handshake under valgrind takes more than a second).  SHORT_MS is also the
# lower bound of the answers that must wait for the whole budget.
PROBE_MS=$((2000 * SCALE))
SHORT_MS=$((1500 * SCALE))
# Upper bounds are generous (a busy two-core machine): 3 s of slack, scaled.
ceiling_ms() { echo $(((${1} + 3000) * SCALE)); }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Nothing started here outlives the script, whichever way it ends.
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -CONT "$p" 2>/dev/null
        kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    proxy_stop_all
    rm -rf "$TMP"
}
trap cleanup EXIT

# start_beacon NAME ARGS...: a beacon (lib.sh's beacon_start_proc), its
# stdout kept open on a descriptor of its own so that several can run.
# Sets NAME_PID, NAME_PORT (TLS; in relay mode UDP too).
start_beacon() {
    local name=$1 fd
    shift
    beacon_start_proc "$name" --cert="$CERTS/server.pem" --key="$CERTS/server-key.pem" \
        --registry="$TMP/registry" "$@" || return 1
    exec {fd}<&4
    exec 4<&-
    PIDS+=("$BEACON_PID")
    printf -v "${name}_PID" '%s' "$BEACON_PID"
    printf -v "${name}_PORT" '%s' "$PORT"
    printf -v "${name}_FD" '%s' "$fd"
}

# wait_exit PID MS: wait (at most MS) for PID, a child of this shell, to
# exit; sets WAIT_RC (its status, or 124 when it outlived the bound).
wait_exit() {
    if timeout "$(($2 / 1000 + 1))" tail --pid="$1" -f /dev/null; then
        WAIT_RC=0
        wait "$1" || WAIT_RC=$?
    else
        WAIT_RC=124
    fi
}

# no_secret TEXT SECRET...: none of the secrets is in TEXT.
no_secret() {
    local text=$1 s
    shift
    for s; do
        case $text in *"$s"*) echo "# a secret is in the output"; return 1 ;; esac
    done
    return 0
}

# ---- fixtures ------------------------------------------------------------

sh "$SRCDIR/tests/wss/make-certs.sh" "$CERTS" >/dev/null
ok $? "test certificates made"

: >"$TMP/registry"
host keygen -identity "$TMP/id21.json"
check 0 '^public_key '
ok $? "an identity for node 21"
echo "21 ${OUT#public_key }" >>"$TMP/registry"

start_beacon live && [ "$live_PORT" -gt 0 ]
ok $? "the beacon (relay mode: TLS and UDP on port $live_PORT)"
# A beacon that is stopped: the kernel still takes TCP connections into
# its backlog and datagrams into its socket, but nothing ever answers.
start_beacon stalled && kill -STOP "$stalled_PID"
ok $? "a stopped beacon (port $stalled_PORT): connects and datagrams, no answer"
# A port that was the beacon's: now UDP to it is refused (closed).
start_beacon gone && kill -TERM "$gone_PID" && wait "$gone_PID"
ok $? "a beacon stopped for good: port $gone_PORT closed"

LIVE_URL="wss://localhost:$live_PORT/v1/compat"
STALLED_URL="wss://localhost:$stalled_PORT/v1/compat"
TLS=(-ca-file="$CERTS/ca.pem")
ID=(-identity="$TMP/id21.json" -node-id=21)

# ---- the four rules ------------------------------------------------------

host select -node-id=21 -beacon="127.0.0.1:$live_PORT" -url="$LIVE_URL" "${TLS[@]}" -probe-timeout="$PROBE_MS"
check 0 '^transport: udp \(UDP beacon answered: '
ok $? "the UDP beacon answers a Discover: udp"

host select -node-id=21 -beacon="127.0.0.1:$gone_PORT" -url="$LIVE_URL" "${TLS[@]}" -probe-timeout="$PROBE_MS"
check 0 '^transport: wss \(compat beacon answered: wss://localhost:'"$live_PORT"'/v1/compat answered 426 .*; UDP beacon: '
ok $? "the UDP port closed, the compat beacon answers: wss"

t0=$(now_ms)
host select -node-id=21 -beacon="127.0.0.1:$stalled_PORT" -url="$LIVE_URL" "${TLS[@]}" -probe-timeout="$SHORT_MS"
ms=$(($(now_ms) - t0))
check 0 '^transport: wss \(compat beacon answered: .*; UDP beacon: timed out'
ok $? "a UDP beacon that drops every datagram, the compat beacon answers: wss"
# Rule 1 comes first: the answer waits for the UDP probe's whole budget.
[ "$ms" -ge "$SHORT_MS" ] && [ "$ms" -lt "$(ceiling_ms 1500)" ]
ok $? "... after the UDP probe's budget, not before ($SHORT_MS ms <= $ms ms)"

t0=$(now_ms)
host select -node-id=21 -beacon="127.0.0.1:$stalled_PORT" -url="$STALLED_URL" "${TLS[@]}" -probe-timeout="$SHORT_MS"
ms=$(($(now_ms) - t0))
check 0 '^transport: udp \(nothing answered, starting degraded: UDP beacon: timed out.*; compat beacon: timed out'
ok $? "both silent: udp, degraded, and the reason says so"
# The two probes run at once: one budget, not two.
[ "$ms" -ge "$SHORT_MS" ] && [ "$ms" -lt "$(ceiling_ms 1500)" ]
ok $? "... in one budget, the probes side by side ($SHORT_MS ms <= $ms ms)"

# ---- through proxies -----------------------------------------------------

pw="auto-$(od -An -v -tx1 -N8 /dev/urandom | tr -d ' \n')"
wrong="wrong-$(od -An -v -tx1 -N8 /dev/urandom | tr -d ' \n')"
proxy_secret "auto.sh: a wrong proxy password" "$wrong"
if proxy_start auth --auth="alice:$pw"; then
    AUTH_PORT=$PROXY_PORT
    ok 0 "tinyproxy with Basic auth"
else
    ok 1 "tinyproxy with Basic auth"
fi
if proxy_start deny --connect-port=1; then
    DENY_PORT=$PROXY_PORT
    ok 0 "tinyproxy that lets CONNECT reach port 1 only"
else
    ok 1 "tinyproxy that lets CONNECT reach port 1 only"
fi

host select -node-id=21 -beacon="127.0.0.1:$stalled_PORT" -url="$LIVE_URL" "${TLS[@]}" -probe-timeout="$PROBE_MS" \
    -proxy="http://127.0.0.1:$AUTH_PORT"
check 0 '^transport: wss \(compat check failed at the proxy, the only way out: .*407'
ok $? "the proxy wants credentials (407): wss, the proxy is the only way out"

PILOT_PROXY="http://alice:$wrong@127.0.0.1:$AUTH_PORT" \
    host select -node-id=21 -beacon="127.0.0.1:$stalled_PORT" -url="$LIVE_URL" "${TLS[@]}" -probe-timeout="$PROBE_MS"
check 0 '^transport: wss \(compat check failed at the proxy' &&
    no_secret "$OUT$ERR" "$wrong" "$pw"
ok $? "wrong credentials (PILOT_PROXY): wss, and the reason holds no password"

https_proxy="http://alice:$wrong@127.0.0.1:$AUTH_PORT" \
    host select -node-id=21 -beacon="127.0.0.1:$stalled_PORT" -url="$LIVE_URL" "${TLS[@]}" -probe-timeout="$PROBE_MS"
check 0 '^transport: wss \(compat check failed at the proxy' &&
    no_secret "$OUT$ERR" "$wrong" "$pw" && grep -q 'alice:\*\*\*@' "$TMP/out"
ok $? "wrong credentials from https_proxy: wss, the password starred"

host select -node-id=21 -beacon="127.0.0.1:$stalled_PORT" -url="$LIVE_URL" "${TLS[@]}" -probe-timeout="$PROBE_MS" \
    -proxy="http://127.0.0.1:$DENY_PORT"
check 0 '^transport: wss \(compat check failed at the proxy, the only way out: .*403'
ok $? "the proxy refuses the beacon's port (403): wss"

# ---- auto as the mode ----------------------------------------------------

unset PILOT_TRANSPORT
PILOT_TRANSPORT_DEFAULT=auto host probe -beacon="127.0.0.1:$gone_PORT" -url="$LIVE_URL" \
    "${TLS[@]}" "${ID[@]}" -probe-timeout="$PROBE_MS"
check 0 '^OK transport=wss ' && grep -Eq '^transport: wss \(compat beacon answered: ' "$TMP/err"
ok $? "PILOT_TRANSPORT_DEFAULT=auto: the choice and its reason on stderr, then the dial"

PILOT_TRANSPORT_DEFAULT=auto PILOT_TRANSPORT=udp host probe -bind=127.0.0.1:0
check 0 '^OK transport=udp ' && ! grep -q '^transport:' "$TMP/err"
ok $? "PILOT_TRANSPORT comes before PILOT_TRANSPORT_DEFAULT"

host probe -transport=AUTO -beacon="127.0.0.1:$live_PORT" -bind=127.0.0.1:0 -url="$LIVE_URL" \
    "${TLS[@]}" "${ID[@]}" -probe-timeout="$PROBE_MS"
check 0 '^OK transport=udp ' && grep -Eq '^transport: udp \(UDP beacon answered: ' "$TMP/err"
ok $? "-transport=auto dials udp when the UDP beacon answers (options each plugin knows)"

host select -node-id=21 -url="$LIVE_URL" "${TLS[@]}" -opt no-such-option=1
check 2 'invalid -opt "no-such-option=1": neither the udp nor the wss plugin has option "no-such-option"' err
ok $? "auto: an -opt neither plugin documents is refused, by name"

host probe -transport=wss -bind=127.0.0.1:0 -url="$LIVE_URL" "${TLS[@]}" "${ID[@]}"
check 1 'unknown option "bind"' err
ok $? "an explicit mode still hands every option to its plugin, which refuses what it lacks"

# ---- signing -------------------------------------------------------------

host probe -transport=wss -sign=plugin -url="$LIVE_URL" "${TLS[@]}" "${ID[@]}"
check 0 '^OK transport=wss '
ok $? "-sign=plugin: the plugin signs with its copy of the key and connects"

host probe -transport=wss -sign=host -url="$LIVE_URL" "${TLS[@]}" "${ID[@]}"
check 0 '^OK transport=wss '
ok $? "-sign=host: the host signs (pt_signer), the beacon accepts, it connects"

host probe -transport=wss -sign=nobody -url="$LIVE_URL" "${TLS[@]}" "${ID[@]}"
check 2 'invalid -sign "nobody": use host or plugin' err
ok $? "an invalid -sign is a usage error"

# ---- SIGINT while stalled ------------------------------------------------

# Through a proxy that lets everything through, to the stopped beacon: the
# proxy logs the CONNECT (the event awaited), the TLS handshake behind it
# never gets an answer.
if proxy_start open; then
    OPEN=http://127.0.0.1:$PROXY_PORT
    ok 0 "tinyproxy that lets every CONNECT through"
else
    ok 1 "tinyproxy that lets every CONNECT through"
fi
OPEN_LOG=$TMP/proxy-open/tinyproxy.log

# stalled_run NAME SIGNAL WHAT ARGS...: the host in the background (stderr
# in $TMP/NAME.err) until its CONNECT to the stopped beacon reaches the
# proxy, then SIGNAL; it must exit 1, promptly, saying WHAT.
stalled_run() {
    local name=$1 sig=$2 what=$3 from pid t0 ms
    shift 3
    unset OUT # ok shows a host() call's output only for checks of it
    from=$(wc -l <"$OPEN_LOG")
    # shellcheck disable=SC2086
    $PT_RUN "$PT_HOST" "$@" -proxy="$OPEN" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    pid=$!
    proxy_wait_log "$OPEN_LOG" "$from" "$pid" "CONNECT localhost:$stalled_PORT "
    ok $? "$name: under way (the CONNECT to the stopped beacon reached the proxy)"
    t0=$(now_ms)
    kill "-$sig" "$pid"
    wait_exit "$pid" "$(ceiling_ms 0)"
    ms=$(($(now_ms) - t0))
    [ "$WAIT_RC" -eq 124 ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ "$WAIT_RC" -eq 1 ] && grep -q "$what" "$TMP/$name.err"
    ok $? "$name: SIG$sig: exit 1 after $ms ms (bound $(ceiling_ms 0)), \"$what\""
    if [ "$WAIT_RC" -ne 1 ]; then
        echo "#   exit $WAIT_RC"
        sed 's/^/#   stderr: /' "$TMP/$name.err"
    fi
}

stalled_run select-int INT 'interrupted (SIGINT): choosing the transport (-transport=auto) abandoned' \
    select -node-id=21 -beacon="127.0.0.1:$stalled_PORT" -url="$STALLED_URL" "${TLS[@]}" -probe-timeout=60000

stalled_run dial-int INT 'interrupted (SIGINT): dialling wss abandoned' \
    probe -transport=wss -url="$STALLED_URL" "${TLS[@]}" "${ID[@]}" -opt dial-timeout=60s

stalled_run dial-term TERM 'terminated (SIGTERM): dialling wss abandoned' \
    probe -transport=wss -url="$STALLED_URL" "${TLS[@]}" "${ID[@]}" -opt dial-timeout=60s

# No output of this script's hosts carries a proxy password.
! grep -qF -e "$pw" -e "$wrong" "$TMP"/*.err "$TMP"/*.out "$TMP"/out "$TMP"/err 2>/dev/null
ok $? "no host output holds a proxy password"

done_testing
