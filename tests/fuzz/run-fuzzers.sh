#!/bin/sh
# run-fuzzers.sh -- run each libFuzzer binary for a while on its corpus.
#
#   run-fuzzers.sh BIN_DIR SECONDS
#
# For every BIN_DIR/fuzz-NAME (built with clang -fsanitize=fuzzer,...;
# *-standalone programs are skipped) this copies tests/fuzz/corpus/NAME to
# a temporary directory, fuzzes for SECONDS there (the committed corpus is
# only read), and prints one line per target:
#   json: 1234567 executions, cov 345, ft 1234, corpus 56 inputs, ok
# A target that crashes, leaks, times out or runs out of memory prints
# FAILED and the path of the input that did it, which is kept (with the
# log) under the temporary directory; the script then exits 1.  Nothing
# is ever added to the committed corpus: a crasher worth keeping is copied
# there by hand once the bug is fixed.
#
# Environment:
#   FUZZ_TARGETS  names to run (default: every fuzz-* in BIN_DIR)
#   FUZZ_FLAGS    more libFuzzer flags, e.g. "-jobs=4" or "-max_len=65536"
#   TMPDIR        where the work directory goes
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BIN_DIR SECONDS" >&2
    exit 2
fi
bin_dir=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
corpus_root=$here/corpus

case $seconds in
'' | *[!0-9]*)
    echo "$0: SECONDS must be a whole number, not '$seconds'" >&2
    exit 2
    ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/pt-fuzz.XXXXXX") || exit 2

targets=${FUZZ_TARGETS:-}
if [ -z "$targets" ]; then
    for b in "$bin_dir"/fuzz-*; do
        case $b in *-standalone | *.o | *.log) continue ;; esac
        [ -x "$b" ] || continue
        targets="$targets ${b##*/fuzz-}"
    done
fi
if [ -z "$targets" ]; then
    echo "$0: no fuzz-* programs in $bin_dir" >&2
    exit 2
fi

failed=0
for t in $targets; do
    b=$bin_dir/fuzz-$t
    if [ ! -x "$b" ]; then
        echo "$t: FAILED: no program $b"
        failed=1
        continue
    fi
    mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
    if [ -d "$corpus_root/$t" ]; then
        cp "$corpus_root/$t"/* "$work/$t/corpus/" 2>/dev/null
    fi
    set --
    case $t in
    wss-challenge | identity | beacon-auth-reply) dict=$here/json.dict ;;
    *) dict=$here/$t.dict ;;
    esac
    if [ -f "$dict" ]; then
        set -- "$@" "-dict=$dict"
    fi
    # The beacon's relay logs every message it drops on stderr: close the
    # target's stderr (libFuzzer and the sanitizers keep their own copy).
    if [ "$t" = beacon-relay ]; then
        set -- "$@" -close_fd_mask=2
    fi
    # shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$b" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/$t/artifacts/" \
        "$@" ${FUZZ_FLAGS:-} "$work/$t/corpus" >"$work/$t/log" 2>&1
    rc=$?

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/log" | tail -n 1)
    # The last libFuzzer status line: "#N  DONE  cov: C ft: F corp: K/..."
    # (with -fork: "#N: cov: C ft: F corp: K exec/s ...").
    status=$(grep -E '^#[0-9]+' "$work/$t/log" | grep 'cov: ' | tail -n 1)
    cov=$(printf '%s\n' "$status" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$status" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(printf '%s\n' "$status" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    if [ -z "$execs" ]; then
        execs=$(printf '%s\n' "$status" | sed -n 's/^#\([0-9]*\).*/\1/p')
    fi
    line="$t: ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?} inputs"
    # With -fork=N -ignore_crashes=1 libFuzzer exits 0 after crashes: a
    # saved input counts as a failure whatever the exit status.
    saved=$(find "$work/$t/artifacts" -type f | head -n 1)
    if [ $rc -eq 0 ] && [ -z "$saved" ]; then
        echo "$line, ok"
    else
        failed=1
        echo "$line, FAILED (exit $rc)"
        found=0
        for a in "$work/$t/artifacts"/*; do
            [ -f "$a" ] || continue
            found=1
            echo "  input: $a"
        done
        [ $found -eq 1 ] || echo "  no input saved"
        grep -m 3 -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken|.*runtime error)' \
            "$work/$t/log" | sed 's/^/  /'
        echo "  log: $work/$t/log"
    fi
done

if [ $failed -eq 0 ]; then
    rm -rf "$work"
else
    echo "kept: $work"
fi
exit $failed
