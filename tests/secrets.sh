#!/bin/bash
# secrets.sh -- no test's output contains a secret the test suite used.
#
# Every test that makes a private key or uses a password registers it in
# $PT_BUILDDIR/tests/secrets.list (mode 0600; lines ORIGIN<TAB>PUBLIC<TAB>
# SECRET): the C tests through tests/secrets.h (the WSS harness registers
# its identities, test-wss its proxy passwords, test-identity its keys),
# the shell tests through tests/host/lib.sh, which registers every identity
# file under the test's $TMP before each test point.  Keys are registered
# as the first 42 base64 characters of the seed (also the start of an
# identity file's private_key) and as the seed in hex.  Each registration
# prints "# secrets: registered key PUBLIC (ORIGIN)" into the test's log.
#
# This test runs after every other test of make check (its .log depends on
# all the others') and checks, in every *.log under $PT_BUILDDIR/tests (and
# the files or directories in $PT_SECRETS_LOGS, if set), that no registered
# secret appears, in any letter case.  It checks itself first on a planted
# secret, and checks that the registry is complete for the logs it reads.
# Run by hand: PT_BUILDDIR=/path/to/build bash tests/secrets.sh
PT_HOST=${PT_HOST-unused}
. "$(dirname "$0")/host/lib.sh"

if [ -z "${PT_BUILDDIR:-}" ] || [ ! -d "$PT_BUILDDIR/tests" ]; then
    echo "Bail out! PT_BUILDDIR must name a build directory (run via make check)"
    exit 99
fi
registry=$PT_BUILDDIR/tests/secrets.list
work=$TMP/work
mkdir -m 700 "$work"

# skip NAME REASON: a test point that could not run here.
skip() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $1 # SKIP $2"
}

# scan REGISTRY REPORT FILE...: status 0 when no secret of REGISTRY occurs
# in any FILE; else 1, with one line "FILE:LINE: a secret of ORIGIN" per
# occurrence in REPORT.  Neither REPORT nor the output ever holds a secret.
scan() {
    local reg=$1 report=$2 pats=$work/patterns f rc
    shift 2
    : >"$report"
    [ $# -gt 0 ] || return 0
    awk -F'\t' 'NF >= 3 && length($3) >= 6 { print $3 }' "$reg" | sort -u >"$pats"
    [ -s "$pats" ] || return 0
    grep -qsiF -f "$pats" -- "$@"
    rc=$?
    [ "$rc" -eq 1 ] && return 0
    for f in "$@"; do
        [ -r "$f" ] || { echo "$f: cannot be read" >>"$report"; continue; }
        # grep -o prints "LINE:MATCH"; awk turns MATCH into its origin.
        grep -noiF -f "$pats" -- "$f" |
            awk -F'\t' -v f="$f" '
                NR == FNR { if (NF >= 3) origin[tolower($3)] = $1; next }
                { i = index($0, ":"); m = tolower(substr($0, i + 1))
                  print f ":" substr($0, 1, i - 1) ": a secret of " \
                      (m in origin ? origin[m] : "(unknown origin)") }' "$reg" - |
            sort -u >>"$report"
    done
    return 1
}

# ---- Self-check: the scan finds what it must, and says nothing secret ---------

self=$work/self
mkdir "$self"
head -c 32 /dev/urandom >"$self/seed"
hex=$(od -An -v -tx1 <"$self/seed" | tr -d ' \n')
b64=$(base64 -w0 <"$self/seed")
pw="pw-$(od -An -v -tx1 -N8 /dev/urandom | tr -d ' \n')"
printf 'selfcheck: key (seed, base64)\tPUB\t%s\nselfcheck: key (seed, hex)\tPUB\t%s\nselfcheck: a password\t-\t%s\n' \
    "${b64:0:42}" "$hex" "$pw" >"$self/registry"
# The hex in capitals inside a line; the base64 inside a whole private_key.
printf 'line one\n# dial: seed=%s.\n' "$(printf '%s' "$hex" | tr a-f A-F)" >"$self/hex.log"
printf '{"private_key":"%sAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}\n' "${b64:0:42}" >"$self/b64.log"
printf 'a\nb\nproxy http://u:%s@h:1 refused\n' "$pw" >"$self/pw.log"
printf 'ok 1 - nothing to see\n# secrets: registered key %s (PUB)\n' "${b64:0:20}" >"$self/clean.log"

found=0
for f in hex b64 pw; do
    scan "$self/registry" "$self/report.$f" "$self/$f.log" || found=$((found + 1))
done
[ "$found" -eq 3 ]
ok $? "self-check: planted secrets are found (hex in capitals, base64 inside a private_key, a password)"

scan "$self/registry" "$self/report.clean" "$self/clean.log" && [ ! -s "$self/report.clean" ]
ok $? "self-check: a log without secrets passes"

grep -qx "$self/hex.log:2: a secret of selfcheck: key (seed, hex)" "$self/report.hex" &&
    grep -qx "$self/b64.log:1: a secret of selfcheck: key (seed, base64)" "$self/report.b64" &&
    grep -qx "$self/pw.log:3: a secret of selfcheck: a password" "$self/report.pw" &&
    ! grep -qiF -e "$hex" -e "${b64:0:42}" -e "$pw" "$self"/report.*
ok $? "self-check: the report names the file, line and origin, never the secret"

# ---- The suite's logs ----------------------------------------------------------

logs=()
# shellcheck disable=SC2086 # PT_SECRETS_LOGS is a list of paths
while IFS= read -r -d '' f; do
    logs+=("$f")
done < <(find "$PT_BUILDDIR/tests" ${PT_SECRETS_LOGS:-} -type f -name '*.log' \
              ! -path "$PT_BUILDDIR/tests/secrets.log" -print0 2>/dev/null | sort -z)
echo "# ${#logs[@]} logs to check"

if [ "${#logs[@]}" -eq 0 ]; then
    skip "the registry exists and is private (mode 0600)" "no test logs: nothing ran"
elif [ -f "$registry" ] && [ "$(stat -c %a "$registry")" = 600 ]; then
    ok 0 "the registry exists and is private (mode 0600)"
else
    echo "# $registry: $(stat -c %a "$registry" 2>&1)"
    ok 1 "the registry exists and is private (mode 0600)"
fi
[ -f "$registry" ] || { : >"$work/empty"; registry=$work/empty; }
echo "# $(awk -F'\t' 'NF >= 3' "$registry" | sort -u | wc -l) secrets registered"

# Every key a log says it registered is in the registry (so the registry
# belongs to these logs), and no registration failed.
grep -hos '^# secrets: registered key [A-Za-z0-9+/]\{43\}=' -- "${logs[@]}" /dev/null |
    awk '{ print $NF }' | sort -u >"$work/announced"
cut -f2 "$registry" | sort -u >"$work/known"
comm -23 "$work/announced" "$work/known" >"$work/missing"
failed_reg=$(grep -ls '^# secrets: cannot register' -- "${logs[@]}" /dev/null)
if [ -s "$work/missing" ] || [ -n "$failed_reg" ]; then
    sed 's/^/# not in the registry: key /' "$work/missing"
    for f in $failed_reg; do echo "# registration failed in $f"; done
    false
fi
ok $? "every key the logs announce is in the registry ($(wc -l <"$work/announced") announced)"

# Tests known to make keys registered some (unless they were all skipped).
missing_tests=
for t in tests/wss/test-wss tests/unit/test-identity tests/host/keygen tests/host/matrix \
         tests/beacon/beacon-tests; do
    f=$PT_BUILDDIR/$t.log
    [ -f "$f" ] || continue
    grep '^ok [0-9]' "$f" | grep -qv '# SKIP' || continue # ran, not all skipped
    grep -q '^# secrets: registered key ' "$f" || missing_tests="$missing_tests $t"
done
[ -z "$missing_tests" ] || echo "# made keys but registered none:$missing_tests"
[ -z "$missing_tests" ]
ok $? "the tests that make keys registered them"

scan "$registry" "$work/report" "${logs[@]}"
rc=$?
sed 's/^/# /' "$work/report"
ok "$rc" "no test output contains a registered key or password"

done_testing
