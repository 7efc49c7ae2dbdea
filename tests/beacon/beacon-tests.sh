#!/bin/bash
# The development beacon's policy seen from outside (SPEC 3): every auth
# refusal is a close 1008 "auth failed" counted in auth_fail, the auth
# timeout, the idle timeout (and the production beacon's idle rule,
# --idle-data-only), the 64 KiB message limit, one connection per node
# id, the peer cap, /health, and staying up through garbage, plain HTTP, a
# huge header and a slowloris client.  Real processes on loopback with real TLS; every
# wait is for a line (tail -f or a fifo), never a fixed sleep.
#
# Clients: the reference host (probe, echo, echo-bench over wss), and
# fixtures/wsclient.py for what the host will not send (node id 0, no reply,
# a message over the limit, half a request).  Counters come from the STATS
# line the beacon prints on SIGUSR1.
#
# Needs PT_BEACON, PT_HOST, PILOT_TRANSPORT_DIR (make check sets them),
# curl, certtool and gnutls-cli, python3 and openssl (for wsclient.py's
# signatures, and s_client for TLS sessions kept across a beacon restart).
. "$(dirname "$0")/../host/lib.sh"

: "${PT_BEACON:=${PT_BUILDDIR:-.}/tests/beacon/pilot-beacon-dev}"
SRCDIR=${PT_SRCDIR:-$(dirname "$0")/../..}
WSCLIENT=$SRCDIR/tests/beacon/fixtures/wsclient.py
for tool in curl certtool gnutls-cli python3 openssl; do
    if ! command -v "$tool" >/dev/null; then
        echo "1..0 # SKIP needs $tool"
        exit 0
    fi
done
if [ ! -x "$PT_BEACON" ] || [ ! -r "$WSCLIENT" ]; then
    echo "1..0 # SKIP needs PT_BEACON ($PT_BEACON) and $WSCLIENT"
    exit 0
fi

CERTS=$TMP/certs
# Every bound on a wait stretches with PT_TIME_SCALE (10 under check-valgrind).
SCALE=${PT_TIME_SCALE:-1}
BG_PIDS=
# Background processes still running when the script ends (a failed test
# can leave some) are stopped before the scratch directory goes.
cleanup() {
    local p
    for p in $BG_PIDS; do
        kill -TERM "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

# ---- helpers -----------------------------------------------------------------

# wait_line FILE FROM PATTERN: wait for a line of FILE after line FROM that
# matches PATTERN (a bash regex); the line in $LINE.  tail -f wakes on the
# write itself; gives up after 20 s (times SCALE).  FILE must exist: create
# the output files of a background process before starting it (its own
# redirections happen later, in the child).
wait_line() {
    local fd tail_pid rc=1
    LINE=
    exec {fd}< <(exec timeout $((20 * SCALE)) tail -n "+$(($2 + 1))" -f "$1")
    tail_pid=$!
    while IFS= read -r LINE <&"$fd"; do
        if [[ $LINE =~ $3 ]]; then
            rc=0
            break
        fi
    done
    kill -TERM "$tail_pid" 2>/dev/null
    exec {fd}<&-
    [ "$rc" -eq 0 ] || LINE=
    return "$rc"
}

# lines FILE: how many lines FILE has now (the FROM of a later wait_line).
lines() {
    wc -l <"$1"
}

# start_beacon NAME ARGS...: start an echo beacon with the test certificate
# and registry, wait for its READY line (READY port=N, maybe more fields).
# Sets BEACON_PID, PORT, URL and BEACON_ERR (its stderr, the log).
start_beacon() {
    local name=$1 rc=0
    shift
    beacon_start_proc "$name" --cert="$CERTS/server.pem" --key="$CERTS/server-key.pem" \
        --registry="$TMP/registry" --mode=echo "$@" || rc=1
    BG_PIDS="$BG_PIDS $BEACON_PID"
    URL=wss://localhost:$PORT/v1/compat
    return $rc
}

# stats: SIGUSR1 and wait for the STATS line it prints; the line in STATS,
# the one before in PREV.
STATS=
stats() {
    local from
    PREV=$STATS
    from=$(lines "$BEACON_ERR")
    kill -USR1 "$BEACON_PID" || return 1
    wait_line "$BEACON_ERR" "$from" '^STATS ' || return 1
    STATS=$LINE
}

# counter KEY LINE: KEY's value in a STATS line (-1 when missing).
counter() {
    local w
    for w in $2; do
        case $w in "$1="*) echo "${w#*=}"; return ;; esac
    done
    echo -1
}

# grew KEY N: between the last two STATS lines, KEY grew by exactly N.
grew() {
    local a b
    a=$(counter "$1" "$PREV")
    b=$(counter "$1" "$STATS")
    if [ "$a" -lt 0 ] || [ $((b - a)) -ne "$2" ]; then
        echo "#   $1: $a -> $b, expected +$2"
        return 1
    fi
}

# logged FROM PATTERN: the beacon logged a line matching PATTERN after
# line FROM of its log.
logged() {
    tail -n "+$(($1 + 1))" "$BEACON_ERR" | grep -Eq -- "$2"
}

# wss CMD ARGS...: the host over wss to the current beacon.
wss() {
    local cmd=$1
    shift
    host "$cmd" -transport=wss -url "$URL" -ca-file "$CERTS/ca.pem" "$@"
}

# wsc STEP...: wsclient.py against the current beacon; its lines in
# $TMP/out and $OUT, status in $RC.  On a failure ok shows the output of the
# last host or wsc call (while OUT is set), so the tests that run neither
# unset OUT first.
# shellcheck disable=SC2034 # OUT and ERR are read by lib.sh's ok
wsc() {
    RC=0
    python3 "$WSCLIENT" "$PORT" "$CERTS/ca.pem" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
}

# serves: a registered node still authenticates (probe) and gets its
# messages echoed (echo-bench) on the current beacon.
serves() {
    wss probe -identity "$TMP/id7.json" -node-id 7 && check 0 '^OK transport=wss ' || return 1
    wss echo-bench -identity "$TMP/id7.json" -node-id 7 -count=20 -size=1200 \
        -timeout=$((5 * SCALE))s &&
        check 0 '^RESULT frames=20 bytes=24000 '
}

# start_node7 NAME: a long-lived node 7 (host echo over wss, log level
# info) in the background; returns once it has connected.  Its pid in
# NODE_PID, its stdout and stderr in $TMP/NAME.out and $TMP/NAME.err.
start_node7() {
    : >"$TMP/$1.out"
    : >"$TMP/$1.err" # before wait_line looks at them
    # shellcheck disable=SC2086
    $PT_RUN "$PT_HOST" echo -transport=wss -url "$URL" -ca-file "$CERTS/ca.pem" \
        -identity "$TMP/id7.json" -node-id 7 -log-level=info >"$TMP/$1.out" 2>"$TMP/$1.err" &
    NODE_PID=$!
    BG_PIDS="$BG_PIDS $NODE_PID"
    wait_line "$TMP/$1.out" 0 '^READY ' && wait_line "$TMP/$1.err" 0 'connected to localhost'
}

# closes_within SECONDS FD: the beacon closes the connection on FD (EOF or
# a reset) within SECONDS; what it sent in $TMP/raw.
closes_within() {
    timeout "$1" cat <&"$2" >"$TMP/raw" 2>/dev/null
    [ $? -ne 124 ]
}

# ---- fixtures: certificates, identities, registry ----------------------------

sh "$SRCDIR/tests/wss/make-certs.sh" "$CERTS" &&
    "$PT_HOST" keygen -identity "$TMP/id7.json" >"$TMP/pub7" &&
    "$PT_HOST" keygen -identity "$TMP/id8.json" >"$TMP/pub8" &&
    { sed 's/^public_key /7 /' "$TMP/pub7"; sed 's/^public_key /8 /' "$TMP/pub8"; } \
        >"$TMP/registry" &&
    grep -Eq '^7 [A-Za-z0-9+/]{43}=$' "$TMP/registry" &&
    grep -Eq '^8 [A-Za-z0-9+/]{43}=$' "$TMP/registry"
ok $? "fixtures: test certificates, identities for nodes 7 and 8, a registry of both"

# ---- the main beacon ---------------------------------------------------------

start_beacon main
ok $? "the beacon starts and prints READY port=N ($PORT)"

code=$(curl -sS -m $((10 * SCALE)) -o "$TMP/health" -w '%{http_code}' --cacert "$CERTS/ca.pem" \
    "https://localhost:$PORT/health")
[ "$code" = 200 ] && [ "$(cat "$TMP/health")" = ok ]
ok $? "GET /health answers 200 ok over TLS ($code)"

stats
wss probe -identity "$TMP/id7.json" -node-id 7
check 0 '^OK transport=wss ' && stats && grew auth_ok 1 && grew auth_fail 0
ok $? "control: the registered node 7 authenticates (auth_ok +1)"

# ---- auth refusals: close 1008 "auth failed", counted in auth_fail -----------

from=$(lines "$BEACON_ERR")
wss probe -identity "$TMP/id7.json" -node-id 9
check 1 'beacon closed the connection: 1008 auth failed' err && stats &&
    grew auth_fail 1 && grew auth_ok 0 && logged "$from" 'auth failed: .*9.* not in the registry'
ok $? "unknown node id 9: the client is closed with 1008 auth failed, auth_fail +1"

# The host refuses -node-id 0 before dialling, so wsclient.py sends it.
from=$(lines "$BEACON_ERR")
wsc upgrade challenge reply:0 next
[ "$RC" -eq 0 ] && grep -q '^CLOSE 1008 auth failed ' "$TMP/out" && stats &&
    grew auth_fail 1 && grew auth_ok 0 && logged "$from" 'auth failed: node id 0'
ok $? "node id 0: closed with 1008 auth failed, auth_fail +1"

# Node 8's key signs for node 7, and the reply carries node 8's public key:
# a beacon that trusted the key it is sent would let it in.
from=$(lines "$BEACON_ERR")
wss probe -identity "$TMP/id8.json" -node-id 7
check 1 'beacon closed the connection: 1008 auth failed' err && stats &&
    grew auth_fail 1 && grew auth_ok 0 && logged "$from" 'auth failed: node 7: bad signature'
ok $? "a signature by another key than node 7's registered one: 1008 auth failed, auth_fail +1"

wsc upgrade challenge binary:16 next
[ "$RC" -eq 0 ] && grep -q '^CLOSE 1008 auth failed ' "$TMP/out" && stats &&
    grew auth_fail 1
ok $? "a binary message instead of the auth reply: 1008 auth failed, auth_fail +1"

# ---- the 64 KiB message limit -----------------------------------------------

stats
wss echo-bench -identity "$TMP/id7.json" -node-id 7 -count=3 -size=65536 -window=1 \
    -timeout=$((5 * SCALE))s
check 0 '^RESULT frames=3 bytes=196608 ' && stats && grew frames_in 3 && grew drops 0
ok $? "messages of exactly 65536 bytes are accepted and echoed"

wsc upgrade challenge reply:7:"$TMP/id7.json" next binary:100 next binary:65537 next
[ "$RC" -eq 0 ] && [ "$(sed -n 4p "$TMP/out")" = 'TEXT {"type":"auth_ok"}' ] &&
    grep -q '^BINARY 100$' "$TMP/out" && grep -q '^CLOSE 1009 message too large ' "$TMP/out" &&
    stats && grew drops 1 && grew frames_in 1 && grew auth_ok 1
ok $? "after auth, a 65537-byte message drops the peer: close 1009, drops +1, no frame counted"

# The limit is on the message, not on each of its frames.
wsc upgrade challenge reply:7:"$TMP/id7.json" next binary:32768+32768 next binary:40000+40000 next
[ "$RC" -eq 0 ] && grep -q '^BINARY 65536$' "$TMP/out"
ok $? "a 65536-byte message in two fragments is accepted and echoed whole"
grep -q '^CLOSE 1009 message too large ' "$TMP/out" && stats && grew drops 1 && grew frames_in 1
ok $? "a message of two 40000-byte fragments (80000 bytes) drops the peer: close 1009, drops +1"

wsc upgrade challenge text:65537 next
[ "$RC" -eq 0 ] && grep -q '^CLOSE 1009 message too large ' "$TMP/out" && stats &&
    grew drops 1 && grew auth_fail 0
ok $? "before auth, a 65537-byte text message drops the peer too: close 1009, drops +1"

# ---- one connection per node id ---------------------------------------------

# A long-lived node 7 (echo), then a second connection as node 7 (probe):
# the beacon closes the first with 1000 "replaced"; its transport reconnects
# (and, the probe gone, stays).
stats
unset OUT
start_node7 first
ok $? "a first node 7 connects and authenticates (echo -log-level=info)"
first=$NODE_PID

from=$(lines "$BEACON_ERR")
wss probe -identity "$TMP/id7.json" -node-id 7
check 0 '^OK transport=wss ' && logged "$from" 'conn [0-9]+ \(node 7\): replaced by conn [0-9]+'
ok $? "a second connection as node 7 authenticates; the beacon logs that it replaced the first"

unset OUT
wait_line "$TMP/first.err" 0 'beacon closed the connection: 1000 replaced'
ok $? "the first is told: its transport logs close 1000 replaced"

wait_line "$TMP/first.err" 0 'reconnected' && stats && grew auth_ok 3 && grew auth_fail 0
ok $? "the first reconnects and authenticates again (auth_ok +3 in all)"

kill -TERM "$first"
wait "$first"
rc=$?
[ "$rc" -eq 0 ] && grep -q '^DONE echoed=0$' "$TMP/first.out"
ok $? "that echo client still closes cleanly on SIGTERM (status $rc)"

# ---- robustness --------------------------------------------------------------

unset OUT
exec {raw}<>"/dev/tcp/127.0.0.1/$PORT"
head -c 4096 /dev/urandom 1>&"$raw" 2>/dev/null
closes_within $((10 * SCALE)) "$raw"
ok $? "4 KiB of random bytes on the TLS port: the beacon closes that connection"
exec {raw}<&-

serves
ok $? "after the garbage, a node still authenticates and gets its echoes"

unset OUT
exec {raw}<>"/dev/tcp/127.0.0.1/$PORT"
# In a subshell: the beacon may reset the connection between two writes,
# and the SIGPIPE must not end this script.
(printf 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n' 1>&"$raw") 2>/dev/null
closes_within $((10 * SCALE)) "$raw" && ! grep -aq '^HTTP/1.1 200' "$TMP/raw"
ok $? "a plain-text HTTP request on the TLS port is not served; the connection is closed"
exec {raw}<&-

serves
ok $? "after the plain-text request, a node still authenticates and gets its echoes"

unset OUT
big=$(head -c 102400 /dev/zero | tr '\0' a)
rc=0
code=$(curl -sS -m $((10 * SCALE)) -o /dev/null -w '%{http_code}' --cacert "$CERTS/ca.pem" \
    -H "X-Big: $big" "https://localhost:$PORT/health" 2>"$TMP/curl.err") || rc=$?
[ "$code" != 200 ] && [ "$rc" -ne 28 ]
ok $? "a request with a 100 KiB header is refused, not hung on (curl status $rc, HTTP $code)"

serves
ok $? "after the 100 KiB header, a node still authenticates and gets its echoes"

# Slowloris: TLS, then half a request line, then nothing; held open until
# its stdin (a fifo we keep open) closes.
unset OUT
mkfifo "$TMP/slow.in"
: >"$TMP/slow.out"
python3 "$WSCLIENT" "$PORT" "$CERTS/ca.pem" half hold <"$TMP/slow.in" >"$TMP/slow.out" 2>&1 &
slow=$!
BG_PIDS="$BG_PIDS $slow"
exec {slow_in}>"$TMP/slow.in"
wait_line "$TMP/slow.out" 0 '^HALF$'
ok $? "a slowloris client holds a TLS connection with half a request line"

serves
ok $? "while it holds on, a node still authenticates and gets its echoes"

unset OUT
kill -0 "$BEACON_PID"
ok $? "the beacon is still running after all of that"

unset OUT
stop_beacon
[ "$BEACON_RC" -eq 0 ] && [ "$(tail -n 1 "$BEACON_ERR" | cut -d' ' -f1)" = STATS ]
ok $? "SIGTERM, the slowloris still connected: exit 0 (status $BEACON_RC), final STATS line"
exec {slow_in}>&-
wait "$slow"
echo "# slowloris client at the end: $(tail -n 1 "$TMP/slow.out")"

# ---- the auth timeout ---------------------------------------------------------

unset OUT
start_beacon timeout --auth-timeout=1
ok $? "a beacon with --auth-timeout=1 starts ($PORT)"

# Closed at 1 s, well before the 10 s default; the upper bound allows for a
# busy machine (5 s) and a slow (valgrind) beacon.
stats
wsc upgrade challenge next
after=$(sed -n 's/^CLOSE 1008 auth timeout after=\([0-9]*\)\..*/\1/p' "$TMP/out")
[ "$RC" -eq 0 ] && [ -n "$after" ] && [ "$after" -ge 1 ] &&
    [ "$after" -le $((1 + 5 * SCALE)) ] && stats && grew drops 1 && grew auth_fail 0
ok $? "a client that never replies is closed after 1 s with 1008 auth timeout, drops +1"

unset OUT
stop_beacon
[ "$BEACON_RC" -eq 0 ]
ok $? "that beacon exits 0 on SIGTERM"

# ---- the production idle rule: --idle-data-only (SPEC 6) --------------------

# The production beacon drops a peer after the idle timeout without a data
# message (text or binary); it answers pings, but they do not reset that
# clock, and the drop is a TCP EOF with no close frame.  A short timeout,
# generous upper bounds (a loaded machine).
IDLE=$((2 * SCALE))

# ended_idle: the last line of $TMP/out is an EOF (no close frame) between
# IDLE and IDLE + 5 s (times SCALE) after the client's last data message,
# with at least 2 pongs before it when $1 is "pongs".
ended_idle() {
    local last idle pongs
    last=$(tail -n 1 "$TMP/out")
    idle=$(counter idle "$last")
    idle=${idle%%.*}
    pongs=$(counter pongs "$last")
    echo "# $last"
    [[ $last == 'EOF '* ]] && [ "$idle" -ge "$IDLE" ] && [ "$idle" -le $((IDLE + 5 * SCALE)) ] &&
        { [ "${1:-}" != pongs ] || [ "$pongs" -ge 2 ]; }
}

unset OUT
start_beacon idle --idle-timeout="$IDLE" --idle-data-only
ok $? "a beacon with --idle-timeout=$IDLE --idle-data-only starts ($PORT)"

from=$(lines "$BEACON_ERR")
stats
wsc upgrade challenge reply:7:"$TMP/id7.json" next keep:ping:0.5:$((IDLE + 20 * SCALE))
[ "$RC" -eq 0 ] && ended_idle pongs && stats && grew drops 1 &&
    logged "$from" 'without a close frame: no data message for the idle timeout'
ok $? "--idle-data-only: a peer that only pings (answered) is dropped after $IDLE s: EOF, no close frame"

wsc upgrade challenge reply:7:"$TMP/id7.json" next keep:text:0.5:$((2 * IDLE)) \
    keep:ping:0.5:$((IDLE + 20 * SCALE))
[ "$RC" -eq 0 ] && grep -q '^KEPT ' "$TMP/out"
ok $? "--idle-data-only: a peer that sends a text every 0.5 s is kept for twice the timeout"
ended_idle pongs && stats && grew drops 1
ok $? "--idle-data-only: once its texts stop, its pings do not keep it: EOF $IDLE s after the last text"

unset OUT
stop_beacon
[ "$BEACON_RC" -eq 0 ]
ok $? "that beacon exits 0 on SIGTERM"

# Without the option, as before: any traffic counts, pings too, and the
# idle drop is a close frame.
start_beacon idle-any --idle-timeout="$IDLE"
ok $? "a beacon with --idle-timeout=$IDLE alone starts ($PORT)"

stats
wsc upgrade challenge reply:7:"$TMP/id7.json" next keep:ping:0.5:$((2 * IDLE)) next
[ "$RC" -eq 0 ] && grep -q '^KEPT ' "$TMP/out"
ok $? "without --idle-data-only, pings count: a peer that only pings is kept for twice the timeout"
tail -n 1 "$TMP/out" | grep -q '^CLOSE 1001 idle timeout ' && stats && grew drops 1
ok $? "without --idle-data-only, a silent peer is closed with a close frame, 1001 idle timeout"

unset OUT
stop_beacon
[ "$BEACON_RC" -eq 0 ]
ok $? "that beacon exits 0 on SIGTERM"

# ---- --close-after-auth: accepted, then dropped -----------------------------

# The production beacon's replacement close (1000 "replaced") right after
# auth_ok, on every connection: a client sees a beacon that accepts it and
# then drops it at once.

# closed_after_auth_ok CODE REASON: wsc's steps upgrade challenge reply
# next next saw auth_ok, then the close CODE REASON.
closed_after_auth_ok() {
    [ "$RC" -eq 0 ] && [ "$(sed -n 4p "$TMP/out")" = 'TEXT {"type":"auth_ok"}' ] &&
        [[ $(sed -n 5p "$TMP/out") == "CLOSE $1 $2 "* ]]
}

unset OUT
start_beacon close-after-auth --close-after-auth
ok $? "a beacon with --close-after-auth starts ($PORT)"

from=$(lines "$BEACON_ERR")
stats
wsc upgrade challenge reply:7:"$TMP/id7.json" next next
closed_after_auth_ok 1000 replaced && stats && grew auth_ok 1 && grew drops 1 &&
    logged "$from" 'closing right after auth_ok with 1000 replaced'
ok $? "--close-after-auth: auth_ok, then at once close 1000 replaced; drops +1"

start_node7 churn
ok $? "a node 7 (host echo) connects to it"
churn=$NODE_PID

# Its transport takes the close as the replacement it is and dials again.
wait_line "$TMP/churn.err" 0 'beacon closed the connection: 1000 replaced' &&
    wait_line "$TMP/churn.err" 0 'reconnected'
ok $? "the node's transport logs close 1000 replaced and reconnects"
kill -TERM "$churn"
wait "$churn"

unset OUT
stop_beacon
[ "$BEACON_RC" -eq 0 ]
ok $? "that beacon exits 0 on SIGTERM"

start_beacon close-4000 --close-after-auth='4000:try another beacon'
wsc upgrade challenge reply:7:"$TMP/id7.json" next next
closed_after_auth_ok 4000 'try another beacon'
ok $? "--close-after-auth=4000:REASON closes with that code and reason"
unset OUT
stop_beacon

rc=0
"$PT_BEACON" --plaintext --close-after-auth=1005 >"$TMP/bad.out" 2>"$TMP/bad.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'invalid value for --close-after-auth' "$TMP/bad.err"
ok $? "--close-after-auth=1005 (a code no endpoint may send) is a usage error (status $rc)"

# ---- TLS session resumption: tls_full, tls_resumed ---------------------------

# s_client CLIENT-ARGS...: openssl s_client to the current beacon (GET
# /health, then read to the end), verified against the test CA; its
# "New, TLSv1.3, ..." or "Reused, TLSv1.3, ..." line in SESSION.
s_client() {
    SESSION=
    printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
        timeout $((20 * SCALE)) openssl s_client -connect "127.0.0.1:$PORT" \
            -servername localhost -CAfile "$CERTS/ca.pem" -verify_return_error -ign_eof "$@" \
            >"$TMP/s_client.out" 2>"$TMP/s_client.err" || return 1
    SESSION=$(grep -E '^(New|Reused), ' "$TMP/s_client.out")
    echo "# s_client: $SESSION"
}

unset OUT
start_beacon tls
ok $? "a beacon for the TLS session counters starts ($PORT)"

stats
curl -sS -m $((10 * SCALE)) -o /dev/null --cacert "$CERTS/ca.pem" "https://localhost:$PORT/health" &&
    stats && grew tls_full 1 && grew tls_resumed 0
ok $? "a fresh client (curl) is a full handshake: tls_full +1"

# gnutls-cli --resume connects, takes the session ticket, connects again
# offering it.
timeout $((20 * SCALE)) gnutls-cli --resume --x509cafile "$CERTS/ca.pem" -p "$PORT" localhost \
    </dev/null >"$TMP/gnutls-cli.out" 2>&1 &&
    grep -q '^\*\*\* This is a resumed session' "$TMP/gnutls-cli.out" &&
    grep -q '^- Description: (TLS1.3' "$TMP/gnutls-cli.out" &&
    stats && grew tls_full 1 && grew tls_resumed 1
ok $? "gnutls-cli --resume: TLS 1.3, its second connection resumes the first: tls_full +1, tls_resumed +1"

rm -f "$TMP/session.pem"
s_client -sess_out "$TMP/session.pem" && [[ $SESSION == 'New, TLSv1.3, '* ]] &&
    s_client -sess_in "$TMP/session.pem" && [[ $SESSION == 'Reused, TLSv1.3, '* ]] &&
    stats && grew tls_full 1 && grew tls_resumed 1
ok $? "openssl s_client: a session saved (-sess_out) resumes (-sess_in): tls_full +1, tls_resumed +1"

# The same port, a new process: the key that sealed the ticket is gone.
old_port=$PORT
stop_beacon
start_beacon tls-again --listen="127.0.0.1:$old_port" && stats &&
    s_client -sess_in "$TMP/session.pem" && [[ $SESSION == 'New, TLSv1.3, '* ]] &&
    stats && grew tls_full 1 && grew tls_resumed 0
ok $? "after a beacon restart that session falls back to a full handshake: tls_full +1, tls_resumed +0"

json=$(curl -sS -m $((10 * SCALE)) --cacert "$CERTS/ca.pem" "https://localhost:$PORT/stats")
[[ $json == *'"tls_full":2,"tls_resumed":0,"text_in":0}' ]]
ok $? "GET /stats has them too, its own handshake counted: tls_full 2, tls_resumed 0"

unset OUT
stop_beacon
[ "$BEACON_RC" -eq 0 ] && grep -q '^STATS .* tls_full=2 tls_resumed=0 text_in=0$' "$BEACON_ERR"
ok $? "that beacon exits 0 on SIGTERM, its last STATS line with tls_full=2 tls_resumed=0"

# ---- --reject-auth -----------------------------------------------------------

unset OUT
start_beacon reject --reject-auth
ok $? "a beacon with --reject-auth starts ($PORT)"

from=$(lines "$BEACON_ERR")
stats
wss probe -identity "$TMP/id7.json" -node-id 7
check 1 'beacon closed the connection: 1008 auth failed' err && stats && grew auth_fail 1 &&
    grew auth_ok 0 && logged "$from" 'auth failed: --reject-auth'
ok $? "--reject-auth: a correct reply is closed with 1008 auth failed, auth_fail +1"

unset OUT
stop_beacon
[ "$BEACON_RC" -eq 0 ]
ok $? "that beacon exits 0 on SIGTERM"

# ---- the peer cap ------------------------------------------------------------

unset OUT
start_beacon cap --max-peers=1
ok $? "a beacon with --max-peers=1 starts ($PORT)"

start_node7 holder
ok $? "node 7 takes the only place"
holder=$NODE_PID

stats
wss probe -identity "$TMP/id8.json" -node-id 8
check 1 'upgrade refused: HTTP 503' err && stats && grew refused 1 && grew upgrades 0
ok $? "node 8 beyond the cap: the upgrade is refused with HTTP 503, refused +1"

from=$(lines "$BEACON_ERR")
kill -TERM "$holder"
wait "$holder"
wait_line "$BEACON_ERR" "$from" '\(node 7\): closed' &&
    wss probe -identity "$TMP/id8.json" -node-id 8 && check 0 '^OK transport=wss '
ok $? "once node 7 has left, node 8 gets the place"

unset OUT
stop_beacon
[ "$BEACON_RC" -eq 0 ]
ok $? "that beacon exits 0 on SIGTERM"

done_testing
