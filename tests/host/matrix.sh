#!/bin/bash
# The relay matrix (SPEC 3): Pilot packets between two hosts through the
# development beacon in relay mode, for every pairing of transports (sender
# on one, answerer on the other: udp/udp, udp/wss, wss/udp, wss/wss), each
# packet checked byte for byte by the sender.  Then a Relay to a node that
# is nowhere, a datagram too short to be a Relay, and the beacon's counters.
# Needs PT_BEACON (make check sets it), curl and certtool.
. "$(dirname "$0")/lib.sh"

if [ ! -x "${PT_BEACON:-}" ] || ! command -v curl >/dev/null || ! command -v certtool >/dev/null
then
    echo "1..0 # SKIP needs PT_BEACON (${PT_BEACON:-unset}), curl and certtool"
    exit 0
fi

CERTS=$TMP/certs
SRCDIR=${PT_SRCDIR:-$(dirname "$0")/../..}
COUNT=20
SIZE=200

# Nothing started here outlives the script, whichever way it ends.
BEACON_PID=
ANSWER_PID=
cleanup() {
    [ -n "$ANSWER_PID" ] && kill -KILL "$ANSWER_PID" 2>/dev/null
    [ -n "$BEACON_PID" ] && kill -KILL "$BEACON_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# host_flags TRANSPORT NODE: the relay flags of node NODE on TRANSPORT, in
# the array FLAGS.
host_flags() {
    case $1 in
    udp) FLAGS=(-transport=udp -bind=127.0.0.1:0 -beacon="127.0.0.1:$UDP_PORT" -node-id="$2") ;;
    wss) FLAGS=(-transport=wss -url="wss://localhost:$PORT/v1/compat" -ca-file="$CERTS/ca.pem"
                -identity="$TMP/id$2.json" -node-id="$2") ;;
    esac
}

# start_answerer TRANSPORT NODE: "relay -answer" in the background; waits
# for its READY line (and over udp its DISCOVERED line: only then does the
# beacon know where the node is).  Its stdout stays readable on fd 3.
start_answerer() {
    host_flags "$1" "$2"
    rm -f "$TMP/answer.fifo"
    mkfifo "$TMP/answer.fifo"
    # shellcheck disable=SC2086
    $PT_RUN "$PT_HOST" relay -answer "${FLAGS[@]}" >"$TMP/answer.fifo" 2>"$TMP/answer.err" &
    ANSWER_PID=$!
    exec 3<"$TMP/answer.fifo"
    read -r -t 30 line <&3 || return 1
    case $line in "READY node=$2 "*) ;; *) return 1 ;; esac
    [ "$1" = wss ] && return 0
    read -r -t 30 line <&3 || return 1
    case $line in "DISCOVERED node=$2 "*) return 0 ;; esac
    return 1
}

# stop_answerer: SIGTERM, then read its output to the end (EOF comes when
# it exits) and wait.  Sets ANSWER_RC and ANSWER_RESULT (its RESULT line).
stop_answerer() {
    kill -TERM "$ANSWER_PID" 2>/dev/null
    ANSWER_RESULT=
    while read -r -t 30 line <&3; do
        case $line in RESULT\ *) ANSWER_RESULT=$line ;; esac
    done
    ANSWER_RC=0
    wait "$ANSWER_PID" || ANSWER_RC=$?
    ANSWER_PID=
    exec 3<&-
}

# beacon_stats: GET /stats; the JSON in $STATS.
beacon_stats() {
    STATS=$(curl -sS -m 10 --cacert "$CERTS/ca.pem" "https://localhost:$PORT/stats")
}

# counter NAME: one counter from $STATS (empty if absent).
counter() {
    printf '%s\n' "$STATS" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# ---- fixtures: certificates, identities, the registry, the beacon ------------

sh "$SRCDIR/tests/wss/make-certs.sh" "$CERTS" >/dev/null
ok $? "test certificates made"

# Every pairing gets its own two nodes, so that no route left over from an
# earlier pairing (a node's last Discover) can take part in a later one.
NODES="11 12 13 14 15 16 17 18 19"
rc=0
: >"$TMP/registry"
for n in $NODES; do
    host keygen -identity "$TMP/id$n.json"
    check 0 '^public_key ' || rc=1
    echo "$n ${OUT#public_key }" >>"$TMP/registry"
done
ok $rc "identities and registry for nodes $NODES"

beacon_start_proc beacon --cert="$CERTS/server.pem" --key="$CERTS/server-key.pem" \
    --registry="$TMP/registry" && [ "$PORT" = "$UDP_PORT" ]
ok $? "the beacon starts in relay mode (the default): $READY"
if [ -z "$PORT" ]; then
    sed 's/^/#   beacon: /' "$TMP/beacon.err"
    done_testing
    exit 1
fi

# ---- the matrix ---------------------------------------------------------------

# pairing SENDER_TRANSPORT SENDER_NODE ANSWERER_TRANSPORT ANSWERER_NODE
pairing() {
    local what="$1 node $2 -> $3 node $4"

    unset OUT # ok shows the last host's output only for checks of it
    start_answerer "$3" "$4"
    ok $? "$what: the answerer is up"

    host_flags "$1" "$2"
    host relay -to="$4" -count=$COUNT -size=$SIZE "${FLAGS[@]}"
    check 0 "^RESULT sent=$COUNT answered=$COUNT "
    ok $? "$what: $COUNT packets of $SIZE bytes answered intact"
    unset OUT

    stop_answerer
    [ "$ANSWER_RC" -eq 0 ] && [ "$ANSWER_RESULT" = "RESULT answered=$COUNT" ]
    ok $? "$what: SIGTERM stops the answerer cleanly (exit $ANSWER_RC, $ANSWER_RESULT)"
    if [ "$ANSWER_RC" -ne 0 ]; then
        sed 's/^/#   answerer: /' "$TMP/answer.err"
    fi
}

pairing udp 11 udp 12
pairing udp 13 wss 14
pairing wss 15 udp 16
pairing wss 17 wss 18

# ---- what the beacon drops --------------------------------------------------

# A node that is neither connected nor discovered: the Relay goes nowhere,
# the sender waits out its -timeout for the answer and fails.
host_flags udp 19
host relay -to=99 -count=1 -size=16 -timeout=300ms "${FLAGS[@]}"
check 1 '^RESULT sent=1 answered=0 ' && grep -q '^TIMEOUT seq=0' "$TMP/out"
ok $? "udp: a Relay to unknown node 99 is not answered"

host_flags wss 19
host relay -to=99 -count=1 -size=16 -timeout=300ms "${FLAGS[@]}"
check 1 '^RESULT sent=1 answered=0 ' && grep -q '^TIMEOUT seq=0' "$TMP/out"
ok $? "wss: a Relay to unknown node 99 is not answered"

unset OUT
beacon_stats
dropped=$(counter relay_dropped)
[ -n "$dropped" ] && [ "$dropped" -ge 2 ]
ok $? "GET /stats counts both in relay_dropped ($dropped)"

# A Relay whose body (4 bytes) is shorter than its two node ids.  bash
# sends it; it is queued at the beacon before curl even connects.
udp_in=$(counter udp_in)
printf '\005\000\000\000\023' >"/dev/udp/127.0.0.1/$UDP_PORT"
beacon_stats
[ "$(counter udp_in)" -eq $((udp_in + 1)) ] && [ "$(counter relay_dropped)" -eq $((dropped + 1)) ]
ok $? "a 5-byte Relay datagram is received and dropped ($STATS)"

# ---- the beacon's account at exit -------------------------------------------

stop_beacon
[ "$BEACON_RC" -eq 0 ]
ok $? "SIGTERM: the beacon exits 0 ($BEACON_RC)"
if [ "$BEACON_RC" -ne 0 ]; then
    grep -v '^beacon: ' "$TMP/beacon.err" | sed 's/^/#   beacon: /'
fi

final=$(grep '^STATS ' "$TMP/beacon.err" | tail -1)
relayed=$(printf '%s\n' "$final" | sed -n 's/.* relayed=\([0-9]*\).*/\1/p')
[ -n "$relayed" ] && [ "$relayed" -eq $((4 * 2 * COUNT)) ]
ok $? "its final STATS line shows every packet and answer relayed ($final)"

done_testing
