#!/bin/bash
# run.sh -- pilot-transport-conformance as plugin authors run it: against
# the UDP plugin (self loopback, and relayed through the beacon's UDP
# port), the WSS plugin (relayed through a real pilot-beacon-dev over TLS
# with a test CA), and the fixture tests/plugins/liar.c, which must pass
# every check with lie=none and, with each lie, fail exactly the checks of
# the promise it breaks (a crash and a hang included: they fail one check,
# not the run).  Then the command line: usage errors exit 2.
#
# The in-tree plugins must pass every check.  Where one does not, this test
# fails, and the program's "not ok" lines below say which check and why.
. "$(dirname "$0")/../host/lib.sh"

CONF=$PT_BUILDDIR/abi/pilot-transport-conformance
PLUGINS=$PT_BUILDDIR/plugin/.libs
LIAR=$PT_TEST_PLUGINS/pilot-transport-liar.so
SRCDIR=${PT_SRCDIR:-$(dirname "$0")/../..}
SLACK=$((3 * ${PT_TIME_SCALE:-1}))s

BEACON_PID=
cleanup() {
    [ -n "$BEACON_PID" ] && kill -KILL "$BEACON_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# conform NAME ARGS...: run the program; its output in $TMP/NAME.out and
# .err, its exit status in $RC.
conform() {
    local name=$1
    shift
    RC=0
    # shellcheck disable=SC2086
    $PT_RUN "$CONF" -slack="$SLACK" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
}

# show NAME: the failed checks of a run, with their detail, as comments.
show() {
    awk '/^not ok /{p=1; print "#   " $0; next} /^#  /{if (p) print "#   " $0; next} {p=0}' \
        "$TMP/$1.out"
    sed 's/^/#   stderr: /' "$TMP/$1.err"
    grep '^# [0-9]* of [0-9]* checks failed' "$TMP/$1.out" | sed 's/^/#   /'
}

# passes NAME WHAT: one test point: the run exited 0 with no "not ok".
passes() {
    local rc=1
    [ "$RC" -eq 0 ] && ! grep -q '^not ok ' "$TMP/$1.out" && grep -q '^1\.\.[1-9]' "$TMP/$1.out" &&
        rc=0
    local skipped
    skipped=$(grep -c '^ok .* # SKIP ' "$TMP/$1.out")
    ok $rc "$2 (exit $RC; $(($(grep -c '^ok ' "$TMP/$1.out") - skipped)) passed, $skipped skipped)"
    [ $rc -eq 0 ] || show "$1"
}

# ---- The in-tree plugins --------------------------------------------------------

conform udp-self -opt bind=127.0.0.1:0 "$PLUGINS/pilot-transport-udp.so"
passes udp-self "udp, -loopback=self: every check passes"

if [ -x "${PT_BEACON:-}" ] && command -v certtool >/dev/null; then
    CERTS=$TMP/certs
    sh "$SRCDIR/tests/wss/make-certs.sh" "$CERTS" >/dev/null
    ok $? "test certificates made"
    host keygen -identity "$TMP/id.json"
    check 0 '^public_key '
    ok $? "an identity, registered for nodes 11, 12 (udp) and 21, 22 (wss)"
    for n in 11 12 21 22; do echo "$n ${OUT#public_key }"; done >"$TMP/registry"
    unset OUT
    beacon_start_proc beacon --cert="$CERTS/server.pem" --key="$CERTS/server-key.pem" \
        --registry="$TMP/registry"
    ok $? "the beacon starts: $READY"
fi
if [ -n "${PORT:-}" ]; then
    # A UDP plugin whose probe takes the beacon's address as an option
    # (ABI 1.2) gets it, so that its probe is checked against a beacon too.
    probe_opt=()
    host plugins -v -transport-dir "$PLUGINS"
    grep -q -- '-opt beacon=' "$TMP/out" && probe_opt=(-opt beacon="127.0.0.1:$UDP_PORT")
    unset OUT
    conform udp-relay -loopback=relay -beacon="127.0.0.1:$UDP_PORT" -node-id=11 \
        -peer-node-id=12 -opt bind=127.0.0.1:0 "${probe_opt[@]}" "$PLUGINS/pilot-transport-udp.so"
    passes udp-relay "udp, -loopback=relay through the beacon's UDP port: every check passes"

    conform wss-relay -loopback=relay -node-id=21 -peer-node-id=22 -identity="$TMP/id.json" \
        -opt url="wss://localhost:$PORT/v1/compat" -opt ca-file="$CERTS/ca.pem" \
        "$PLUGINS/pilot-transport-wss.so"
    passes wss-relay "wss, -loopback=relay through pilot-beacon-dev over TLS: every check passes"
    stop_beacon
else
    for what in "udp, -loopback=relay" "wss, -loopback=relay"; do
        ok 0 "$what # SKIP needs PT_BEACON (${PT_BEACON:-unset}) and certtool"
    done
fi

# ---- The suite itself: a correct plugin passes, each lie fails its checks ------

conform liar-none -opt lie=none "$LIAR"
passes liar-none "liar with lie=none (keeps every promise): every check passes"

# lies LIE WHY-PATTERN CHECK...: with -opt lie=LIE exactly the CHECKs fail
# (each named on its "not ok" line), the first one's why matching
# WHY-PATTERN, and the run exits 1.
lies() {
    local lie=$1 why=$2 rc=0 name failed
    shift 2
    conform "liar-$lie" -check-timeout=$((5 * ${PT_TIME_SCALE:-1}))s -opt lie="$lie" "$LIAR"
    failed=$(grep -c '^not ok ' "$TMP/liar-$lie.out")
    [ "$RC" -eq 1 ] && [ "$failed" -eq $# ] || rc=1
    for name in "$@"; do
        grep -qF -- "- liar: $name: " "$TMP/liar-$lie.out" || { rc=1; echo "# not failed: $name"; }
        "$CONF" -list | grep -qxF -- "$name" || { rc=1; echo "# no such check: $name"; }
    done
    grep -F -- "- liar: $1: " "$TMP/liar-$lie.out" | grep -Eq -- "$why" || rc=1
    ok $rc "lie=$lie fails exactly: $* (exit $RC, $failed failed)"
    [ $rc -eq 0 ] || show "liar-$lie"
}

lies len0 'send\(len 0\) returned PT_OK, want PT_EINVAL' \
    'io: send(len 0) fails with PT_EINVAL and sends nothing'
lies stats-overrun 'set struct_size to 64, want 4' \
    'stats: struct_size 4 and 8 get exactly those fields' \
    'stats: a struct ending inside a field gets whole fields only'
lies close-no-wake 'still blocked [0-9]+ ms after close' \
    'threads: close wakes a recv blocked in another thread: PT_ECLOSED' \
    'threads: close wakes a recv_many blocked in another thread: PT_ECLOSED'
lies crash 'crashed: signal 11' \
    'params: NULL required pointers on a live connection return PT_EINVAL'
lies hang 'did not finish within [0-9]+ ms \(killed' \
    'probe: a readable cancel_fd returns PT_ECLOSED at once'

# ---- The command line -----------------------------------------------------------

conform help -h
[ "$RC" -eq 0 ] && grep -q -- '-loopback self|relay' "$TMP/help.out" &&
    grep -q 'Exit status' "$TMP/help.out"
ok $? "-h prints the usage and the flags, exit 0"

conform none
[ "$RC" -eq 2 ] && grep -q 'name at least one PLUGIN' "$TMP/none.err"
ok $? "no PLUGIN: usage error, exit 2"

conform badloop -loopback=sideways "$LIAR"
[ "$RC" -eq 2 ] && grep -q 'invalid -loopback "sideways": use self or relay' "$TMP/badloop.err"
ok $? "-loopback=sideways: usage error naming it, exit 2"

cp "$LIAR" "$TMP/liar.so"
conform badname "$TMP/liar.so"
[ "$RC" -eq 2 ] && grep -q 'liar.so: a plugin file is named pilot-transport-MODE.so' "$TMP/badname.err"
ok $? "a file not named pilot-transport-MODE.so: usage error, exit 2"

conform nomode -transport-dir="$TMP" nosuchmode
[ "$RC" -eq 2 ] && grep -q 'no plugin for mode "nosuchmode"' "$TMP/nomode.err"
ok $? "a mode no plugin has: usage error, exit 2"

conform badmajor "$PT_TEST_PLUGINS/pilot-transport-badmajor.so"
[ "$RC" -eq 1 ] && grep -q '^not ok 1 - badmajor: the loader loads it: .*major versions differ' \
    "$TMP/badmajor.out"
ok $? "a plugin the loader refuses: one \"not ok\" with the loader's reason, exit 1"

conform two -opt lie=none -run=descriptor "$LIAR" "$LIAR"
n=$((2 * $("$CONF" -list | grep -c descriptor)))
[ "$RC" -eq 0 ] && [ "$(grep -c '^ok ' "$TMP/two.out")" -eq "$n" ] && grep -q "^1\.\.$n\$" "$TMP/two.out"
ok $? "two plugins in one run, -run selects checks: one TAP stream"

done_testing
