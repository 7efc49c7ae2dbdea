#!/bin/bash
# bench.sh -- the transport benchmark (first part): how far the WSS plugin is
# from raw TLS on the same machine, and from the UDP plugin.
#
#   (a) the WSS plugin (pilot-transport echo-bench -transport=wss) against the
#       development beacon in echo mode and against "raw-tls server --ws" (a
#       cheap echo peer), pipelined (window 64, ~1 s of frames) and
#       ping-pong (window 1), with the echo peer's CPU use, so it is clear
#       whether the peer is what limits the figure;
#   (b) raw GnuTLS TLS 1.3 (raw-tls client): one record per frame, and
#       coalesced (corked) writes;
#   (c) the UDP plugin against "pilot-transport echo -transport=udp";
#   (d) dial time: "pilot-transport probe -transport=wss" dial_ms against the
#       raw TLS handshake (TCP connect + TLS 1.3 handshake);
#   (e) heap allocations per frame of the host + plugin (a malloc-counting
#       LD_PRELOAD shim, two frame counts, the difference divided), and the
#       resident memory of a host holding one idle connection.
#
# Every figure is run BENCH_RUNS times (default 3) and reported as the
# median and min-max.  Output: a table on stdout, and every figure with the
# machine's description in JSON at $BENCH_OUT (default ./bench-results.json).
#
# Environment (make bench sets these, like make check):
#   PT_HOST             the reference host, abi/pilot-transport
#   PT_BEACON           tests/beacon/pilot-beacon-dev
#   PILOT_TRANSPORT_DIR where the plugins are (plugin/.libs)
#   PT_SRCDIR           the source tree (for tests/wss/make-certs.sh)
#   RAW_TLS             the raw-tls program (tests/bench/raw-tls.c)
#   MALLOC_COUNT        the shim (tests/bench/malloc-count.c) as a .so; when
#                       unset it is compiled here with $CC, else (e) is skipped
#   BENCH_RUNS=3  BENCH_OUT=./bench-results.json  BENCH_SIZES="64 1200 16376"
#   BENCH_SECONDS=1 (pipelined run length)  BENCH_PINGPONG=2000 (frames)
#
# Benchmark, not test: nothing here passes or fails on a figure; the exit
# status is 1 only when a run could not be made at all.
set -euo pipefail

: "${PT_HOST:?set PT_HOST (the pilot-transport host)}"
: "${PT_BEACON:?set PT_BEACON (pilot-beacon-dev)}"
: "${PILOT_TRANSPORT_DIR:?set PILOT_TRANSPORT_DIR (the plugin directory)}"
: "${PT_SRCDIR:?set PT_SRCDIR (the source tree)}"
: "${RAW_TLS:?set RAW_TLS (the raw-tls program)}"
export PILOT_TRANSPORT_DIR

RUNS=${BENCH_RUNS:-3}
OUT=${BENCH_OUT:-./bench-results.json}
SIZES=${BENCH_SIZES:-64 1200 16376}
SECONDS_PER_RUN=${BENCH_SECONDS:-1}
PINGPONG=${BENCH_PINGPONG:-2000}
WINDOW=64
DIALS=20
NODE=7
CLK_TCK=$(getconf CLK_TCK)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pt-bench.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

die() {
    echo "bench.sh: $*" >&2
    exit 1
}
note() { echo "# $*" >&2; }

# ---- fixtures ---------------------------------------------------------------

CERTS=$TMP/certs
sh "$PT_SRCDIR/tests/wss/make-certs.sh" "$CERTS" || die "make-certs.sh failed"
"$PT_HOST" keygen -identity "$TMP/id.json" >"$TMP/keygen.out" || die "keygen failed"
read -r _ PUB <"$TMP/keygen.out"
echo "$NODE $PUB" >"$TMP/registry"

# start_peer NAME CMD...: start an echo peer whose first stdout line is its
# READY line; wait for that line (an event, not a sleep).  Sets PEER_PID
# and PEER_LINE; the peer's stdout stays open on a descriptor until exit.
start_peer() {
    local name=$1 fd line
    shift
    mkfifo "$TMP/$name.fifo"
    "$@" >"$TMP/$name.fifo" 2>"$TMP/$name.err" &
    PEER_PID=$!
    PIDS+=("$PEER_PID")
    exec {fd}<"$TMP/$name.fifo"
    read -r -t 30 line <&"$fd" || die "$name did not become ready: $(cat "$TMP/$name.err")"
    PEER_LINE=$line
}

start_peer beacon "$PT_BEACON" --listen=127.0.0.1:0 --cert="$CERTS/server.pem" \
    --key="$CERTS/server-key.pem" --registry="$TMP/registry" --mode=echo
BEACON_PID=$PEER_PID
BEACON_PORT=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$PEER_LINE")

start_peer rawws "$RAW_TLS" server --port=0 --ws --cert="$CERTS/server.pem" \
    --key="$CERTS/server-key.pem"
RAWWS_PID=$PEER_PID
RAWWS_PORT=${PEER_LINE#READY port=}

start_peer raw "$RAW_TLS" server --port=0 --cert="$CERTS/server.pem" --key="$CERTS/server-key.pem"
RAW_PID=$PEER_PID
RAW_PORT=${PEER_LINE#READY port=}

start_peer udpecho "$PT_HOST" echo -transport=udp -bind=127.0.0.1:0
UDP_PID=$PEER_PID
UDP_ADDR=${PEER_LINE#READY local=}

wss_flags() { # PORT: the host flags for a WSS connection to that port, in WSS
    WSS=(-transport=wss "-url=wss://localhost:$1/v1/compat" "-ca-file=$CERTS/ca.pem"
         "-identity=$TMP/id.json" "-node-id=$NODE")
}

# cmd_for CONFIG SIZE WINDOW COUNT: the client command line of a config, in CMD.
cmd_for() {
    local n=(-count="$4" -size="$2" -window="$3")
    case $1 in
    wss-beacon) wss_flags "$BEACON_PORT"; CMD=("$PT_HOST" echo-bench "${WSS[@]}" "${n[@]}") ;;
    wss-rawws) wss_flags "$RAWWS_PORT"; CMD=("$PT_HOST" echo-bench "${WSS[@]}" "${n[@]}") ;;
    raw-frame) CMD=("$RAW_TLS" client --port="$RAW_PORT" --ca="$CERTS/ca.pem" --count="$4" --size="$2" --window="$3") ;;
    raw-coalesce) CMD=("$RAW_TLS" client --port="$RAW_PORT" --ca="$CERTS/ca.pem" --count="$4" --size="$2" --window="$3" --coalesce) ;;
    udp) CMD=("$PT_HOST" echo-bench -transport=udp -bind=127.0.0.1:0 "-peer=$UDP_ADDR" -timeout=1s "${n[@]}") ;;
    esac
}

peer_of() {
    case $1 in
    wss-beacon) echo "$BEACON_PID" ;;
    wss-rawws) echo "$RAWWS_PID" ;;
    raw-*) echo "$RAW_PID" ;;
    udp) echo "$UDP_PID" ;;
    esac
}

describe() {
    case $1 in
    wss-beacon) echo "WSS plugin -> beacon (lws)" ;;
    wss-rawws) echo "WSS plugin -> raw-tls --ws" ;;
    raw-frame) echo "raw TLS, record/frame" ;;
    raw-coalesce) echo "raw TLS, coalesced" ;;
    udp) echo "UDP plugin -> host echo" ;;
    esac
}

# ---- one measured run -----------------------------------------------------------

# ticks PID: utime+stime of a process (all its threads) in clock ticks.
# Builtins only: no fork may land in the shell's own child-CPU counters.
ticks() {
    local s f
    read -r s <"/proc/$1/stat"
    s=${s##*) }
    read -r -a f <<<"$s"
    TICKS=$((f[11] + f[12]))
}

# child_ticks: CPU of this shell's waited-for children (cutime+cstime).
child_ticks() {
    local s f
    read -r s <"/proc/$$/stat"
    s=${s##*) }
    read -r -a f <<<"$s"
    CTICKS=$((f[13] + f[14]))
}

# measure PEER_PID: run the client in CMD; sets R_FPS R_MBPS R_P50 R_P99
# R_SECS, R_PEER (the peer's CPU, % of one core over the run) and R_CCPU
# (the client's CPU seconds per 100k frames, its start and dial included).
# Returns 1 if the client failed.
measure() {
    local peer=$1 out kv p0 c0 frames=0
    ticks "$peer"; p0=$TICKS
    child_ticks; c0=$CTICKS
    out=$("${CMD[@]}" 2>"$TMP/client.err") || return 1
    ticks "$peer"
    child_ticks
    for kv in $out; do
        case $kv in
        frames=*) frames=${kv#*=} ;;
        seconds=*) R_SECS=${kv#*=} ;;
        fps=*) R_FPS=${kv#*=} ;;
        mbps=*) R_MBPS=${kv#*=} ;;
        rtt_p50_us=*) R_P50=${kv#*=} ;;
        rtt_p99_us=*) R_P99=${kv#*=} ;;
        esac
    done
    R_PEER=$(awk -v t=$((TICKS - p0)) -v hz="$CLK_TCK" -v s="$R_SECS" \
        'BEGIN { printf "%.0f", (s > 0 ? 100 * t / hz / s : 0) }')
    R_CCPU=$(awk -v t=$((CTICKS - c0)) -v hz="$CLK_TCK" -v n="$frames" \
        'BEGIN { printf "%.3f", (n > 0 ? t / hz / n * 100000 : 0) }')
}

# Results: VALS["config|mode|size|metric"] = "v1 v2 v3"; WIN/FRAMES per key.
declare -A VALS WIN FRAMES
KEYS=()

# stats V...: "median min max" of the values.
stats() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "null null null"; exit }
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        print m, v[1], v[NR] }'
}
median() { local s; s=$(stats "$@"); echo "${s%% *}"; }

record() { # KEY: append this run's figures
    local k=$1 m
    for m in fps mbps p50 p99 peer ccpu; do
        case $m in
        fps) v=$R_FPS ;; mbps) v=$R_MBPS ;; p50) v=$R_P50 ;; p99) v=$R_P99 ;;
        peer) v=$R_PEER ;; ccpu) v=$R_CCPU ;;
        esac
        VALS[$k|$m]="${VALS[$k|$m]:-} $v"
    done
}

# plan CONFIG MODE SIZE: choose window and frame count for a config (a short
# calibration run sizes a pipelined run to ~BENCH_SECONDS; UDP halves its
# window until nothing is lost, since loopback UDP drops what the socket
# buffer cannot hold).  Sets P_WIN P_COUNT.
plan() {
    local cfg=$1 mode=$2 size=$3 probe
    if [ "$mode" = pingpong ]; then
        P_WIN=1 P_COUNT=$PINGPONG
        return 0
    fi
    probe=$((size > 4096 ? 1000 : 3000))
    P_WIN=$WINDOW
    while cmd_for "$cfg" "$size" "$P_WIN" "$probe" && ! measure "$(peer_of "$cfg")"; do
        if [ "$cfg" != udp ] || [ "$P_WIN" -le 1 ]; then
            die "$cfg size $size: $(cat "$TMP/client.err")"
        fi
        P_WIN=$((P_WIN / 2))
        note "udp size $size: frames lost with window $((P_WIN * 2)), trying $P_WIN"
    done
    P_COUNT=$(awk -v f="$R_FPS" -v s="$SECONDS_PER_RUN" -v min="$probe" \
        'BEGIN { n = int(f * s); if (n < min) n = min; if (n > 5000000) n = 5000000; print n }')
}

CONFIGS="wss-beacon wss-rawws raw-frame raw-coalesce udp"

for size in $SIZES; do
    todo=()
    for cfg in $CONFIGS; do
        for mode in pipelined pingpong; do
            # At window 1 a cork holds one frame: coalescing changes nothing.
            [ "$cfg" = raw-coalesce ] && [ "$mode" = pingpong ] && continue
            plan "$cfg" "$mode" "$size"
            k="$cfg|$mode|$size"
            WIN[$k]=$P_WIN
            FRAMES[$k]=$P_COUNT
            KEYS+=("$k")
            todo+=("$k")
        done
    done
    note "size $size: ${#todo[@]} figures x $RUNS runs"
    # Interleave the configurations run by run, so drift hits them alike.
    for ((r = 1; r <= RUNS; r++)); do
        for k in "${todo[@]}"; do
            IFS='|' read -r cfg mode _ <<<"$k"
            tries=0
            cmd_for "$cfg" "$size" "${WIN[$k]}" "${FRAMES[$k]}"
            until measure "$(peer_of "$cfg")"; do
                tries=$((tries + 1))
                if [ "$cfg" != udp ] || [ $tries -ge 3 ]; then
                    die "$k: $(cat "$TMP/client.err")"
                fi
                note "$k: run failed (loss), repeating"
            done
            record "$k"
        done
    done
done

# ---- (d) dial time --------------------------------------------------------------------

dial_p50() { # PORT: p50 of DIALS probe dial_ms
    local i out v=()
    for ((i = 0; i < DIALS; i++)); do
        wss_flags "$1"
        out=$("$PT_HOST" probe "${WSS[@]}") || die "probe failed"
        v+=("${out##*dial_ms=}")
    done
    median "${v[@]}"
}
DIAL_BEACON=$(dial_p50 "$BEACON_PORT")
DIAL_RAWWS=$(dial_p50 "$RAWWS_PORT")
hs=$("$RAW_TLS" handshake --port="$RAW_PORT" --ca="$CERTS/ca.pem" --count=$DIALS) ||
    die "raw-tls handshake failed"
HS_P50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$hs")

# ---- (e) allocations per frame, idle RSS ------------------------------------------

if [ -z "${MALLOC_COUNT:-}" ]; then
    MALLOC_COUNT=$TMP/malloc-count.so
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -shared -fPIC -I"${PT_BUILDDIR:-.}" \
        "$PT_SRCDIR/tests/bench/malloc-count.c" -o "$MALLOC_COUNT" 2>"$TMP/cc.err" ||
        { note "malloc-count shim not built: $(head -1 "$TMP/cc.err")"; MALLOC_COUNT=; }
fi

# allocs CONFIG SIZE WINDOW: heap allocations per frame of the client (host +
# plugin + libraries), from runs of N1 and N2 frames.
N1=1000 N2=6000
allocs_per_frame() {
    local cfg=$1 size=$2 win=$3 n a=()
    for n in $N1 $N2; do
        : >"$TMP/mc.out"
        cmd_for "$cfg" "$size" "$win" "$n"
        MALLOC_COUNT_OUT=$TMP/mc.out LD_PRELOAD=$MALLOC_COUNT \
            "${CMD[@]}" >/dev/null 2>&1 || { echo null; return; }
        a+=("$(sed -n 's/.*allocs=\([0-9]*\).*/\1/p' "$TMP/mc.out")")
    done
    awk -v a="${a[0]}" -v b="${a[1]}" -v d=$((N2 - N1)) 'BEGIN { printf "%.2f", (b - a) / d }'
}
declare -A ALLOC
ALLOC_CFGS="wss-beacon udp raw-frame"
if [ -n "$MALLOC_COUNT" ]; then
    for size in $SIZES; do
        for cfg in $ALLOC_CFGS; do
            w=16 # UDP: no larger than the window that lost nothing above
            [ "$cfg" = udp ] && [ "${WIN[udp|pipelined|$size]:-16}" -lt 16 ] && w=${WIN[udp|pipelined|$size]}
            ALLOC[$cfg|pipelined|$size]=$(allocs_per_frame "$cfg" "$size" "$w")
            ALLOC[$cfg|pingpong|$size]=$(allocs_per_frame "$cfg" "$size" 1)
        done
    done
fi

# idle_rss NAME CMD...: sets RSS and ANON to the VmRSS and RssAnon (kB: all
# resident pages, and the heap/stack part without mapped library code) of a
# host holding one idle connection, read once it has printed READY.
idle_rss() {
    local name=$1
    shift
    start_peer "$name" "$@"
    RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PEER_PID/status")
    ANON=$(awk '/^RssAnon:/ { print $2 }' "/proc/$PEER_PID/status")
    kill -TERM "$PEER_PID"
}
wss_flags "$BEACON_PORT"
idle_rss idle-wss "$PT_HOST" echo "${WSS[@]}"
RSS_WSS=$RSS ANON_WSS=$ANON
idle_rss idle-udp "$PT_HOST" echo -transport=udp -bind=127.0.0.1:0
RSS_UDP=$RSS ANON_UDP=$ANON

# ---- report ----------------------------------------------------------------------------

# shellcheck disable=SC1003 # tr sees \\ as one backslash
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | tr -d '[:cntrl:]"\\')
CORES=$(nproc)
GNUTLS_V=$(pkg-config --modversion gnutls 2>/dev/null || echo unknown)
KERNEL=$(uname -r)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b; else printf "null" }'; }
med() { # KEY METRIC
    # shellcheck disable=SC2086
    median ${VALS[$1|$2]}
}

{
    echo "Pilot transport benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "machine: $CPU_MODEL, $CORES cores, Linux $KERNEL, GnuTLS $GNUTLS_V"
    echo "runs: $RUNS per figure, median [min-max]; pipelined = window $WINDOW, ~${SECONDS_PER_RUN}s;" \
        "ping-pong = window 1, $PINGPONG frames"
    echo "peer% = echo peer CPU (100 = one core busy); cli = client CPU s/100k frames (incl. start+dial)"
    echo
    printf '%-6s %-28s %-9s %4s %-27s %9s %9s %9s %5s %6s\n' \
        size test mode win "frames/s median [min-max]" Mbit/s p50_us p99_us peer% cli
    for k in "${KEYS[@]}"; do
        IFS='|' read -r cfg mode size <<<"$k"
        # shellcheck disable=SC2086
        read -r fm fmin fmax <<<"$(stats ${VALS[$k|fps]})"
        printf '%-6s %-28s %-9s %4s %-27s %9s %9s %9s %5s %6s\n' "$size" "$(describe "$cfg")" "$mode" \
            "${WIN[$k]}" "$fm [$fmin-$fmax]" "$(med "$k" mbps)" "$(med "$k" p50)" \
            "$(med "$k" p99)" "$(med "$k" peer)" "$(med "$k" ccpu)"
    done
    echo
    echo "ratios of median frames/s (plugin = WSS plugin against raw-tls --ws, the cheap peer;"
    echo "beacon = WSS plugin against the development beacon):"
    printf '%-6s %-9s %14s %14s %14s %14s %14s\n' size mode plugin/rawTLS plugin/rawCork \
        beacon/rawTLS plugin/udp beacon/udp
    for size in $SIZES; do
        for mode in pipelined pingpong; do
            p=$(med "wss-rawws|$mode|$size" fps)
            b=$(med "wss-beacon|$mode|$size" fps)
            rf=$(med "raw-frame|$mode|$size" fps)
            rc=$(med "raw-coalesce|pipelined|$size" fps)
            [ "$mode" = pingpong ] && rc=$rf
            u=$(med "udp|$mode|$size" fps)
            printf '%-6s %-9s %14s %14s %14s %14s %14s\n' "$size" "$mode" "$(ratio "$p" "$rf")" \
                "$(ratio "$p" "$rc")" "$(ratio "$b" "$rf")" "$(ratio "$p" "$u")" "$(ratio "$b" "$u")"
        done
    done
    echo
    echo "dial (p50 of $DIALS): WSS probe -> beacon ${DIAL_BEACON} ms, WSS probe -> raw-tls --ws" \
        "${DIAL_RAWWS} ms, raw TLS 1.3 connect+handshake ${HS_P50} ms" \
        "(ratio $(ratio "$DIAL_BEACON" "$HS_P50") / $(ratio "$DIAL_RAWWS" "$HS_P50"))"
    echo
    if [ -n "$MALLOC_COUNT" ]; then
        echo "heap allocations per frame (client process; runs of $N1 and $N2 frames, difference;"
        echo "*UDP: the pipelined window above when smaller):"
        printf '%-6s %-28s %10s %10s\n' size test "window 16*" "window 1"
        for size in $SIZES; do
            for cfg in $ALLOC_CFGS; do
                printf '%-6s %-28s %10s %10s\n' "$size" "$(describe "$cfg")" \
                    "${ALLOC[$cfg|pipelined|$size]}" "${ALLOC[$cfg|pingpong|$size]}"
            done
        done
    else
        echo "heap allocations per frame: not measured (no malloc-count shim)"
    fi
    echo
    echo "idle connection (host process after READY), VmRSS / RssAnon: wss ${RSS_WSS} / ${ANON_WSS} kB," \
        "udp ${RSS_UDP} / ${ANON_UDP} kB, difference $((RSS_WSS - RSS_UDP)) / $((ANON_WSS - ANON_UDP)) kB"
}

# ---- JSON ------------------------------------------------------------------------------

json_stat() { # KEY METRIC: {"median":..,"min":..,"max":..,"runs":[..]}
    local m lo hi runs
    # shellcheck disable=SC2086
    read -r m lo hi <<<"$(stats ${VALS[$1|$2]})"
    # shellcheck disable=SC2086
    runs=$(printf '%s,' ${VALS[$1|$2]})
    printf '{"median":%s,"min":%s,"max":%s,"runs":[%s]}' "$m" "$lo" "$hi" "${runs%,}"
}

{
    printf '{\n  "generated": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '  "machine": {"cpu_model": "%s", "cores": %s, "kernel": "%s", "gnutls": "%s"},\n' \
        "$CPU_MODEL" "$CORES" "$KERNEL" "$GNUTLS_V"
    printf '  "params": {"runs": %s, "window": %s, "seconds_per_run": %s, "pingpong_frames": %s, "dials": %s},\n' \
        "$RUNS" "$WINDOW" "$SECONDS_PER_RUN" "$PINGPONG" "$DIALS"
    printf '  "results": [\n'
    sep=
    for k in "${KEYS[@]}"; do
        IFS='|' read -r cfg mode size <<<"$k"
        printf '%s    {"test": "%s", "mode": "%s", "size": %s, "window": %s, "frames": %s,\n' \
            "$sep" "$cfg" "$mode" "$size" "${WIN[$k]}" "${FRAMES[$k]}"
        printf '     "fps": %s,\n     "mbps": %s,\n     "rtt_p50_us": %s,\n     "rtt_p99_us": %s,\n' \
            "$(json_stat "$k" fps)" "$(json_stat "$k" mbps)" "$(json_stat "$k" p50)" "$(json_stat "$k" p99)"
        printf '     "peer_cpu_pct": %s,\n     "client_cpu_s_per_100k_frames": %s}' \
            "$(json_stat "$k" peer)" "$(json_stat "$k" ccpu)"
        sep=$',\n'
    done
    printf '\n  ],\n  "ratios_fps": [\n'
    sep=
    for size in $SIZES; do
        for mode in pipelined pingpong; do
            p=$(med "wss-rawws|$mode|$size" fps)
            b=$(med "wss-beacon|$mode|$size" fps)
            rf=$(med "raw-frame|$mode|$size" fps)
            rc=$(med "raw-coalesce|pipelined|$size" fps)
            [ "$mode" = pingpong ] && rc=$rf
            u=$(med "udp|$mode|$size" fps)
            printf '%s    {"size": %s, "mode": "%s", "plugin_over_raw_tls": %s, "plugin_over_raw_tls_coalesced": %s, "beacon_over_raw_tls": %s, "wss_over_udp": %s, "wss_beacon_over_udp": %s}' \
                "$sep" "$size" "$mode" "$(ratio "$p" "$rf")" "$(ratio "$p" "$rc")" "$(ratio "$b" "$rf")" \
                "$(ratio "$p" "$u")" "$(ratio "$b" "$u")"
            sep=$',\n'
        done
    done
    printf '\n  ],\n'
    printf '  "dial": {"wss_probe_beacon_dial_ms_p50": %s, "wss_probe_raw_ws_dial_ms_p50": %s, "raw_tls_handshake_ms_p50": %s},\n' \
        "$DIAL_BEACON" "$DIAL_RAWWS" "$HS_P50"
    printf '  "allocs_per_frame": ['
    sep=
    if [ -n "$MALLOC_COUNT" ]; then
        for size in $SIZES; do
            for cfg in $ALLOC_CFGS; do
                printf '%s\n    {"test": "%s", "size": %s, "window_16": %s, "window_1": %s}' "$sep" "$cfg" \
                    "$size" "${ALLOC[$cfg|pipelined|$size]}" "${ALLOC[$cfg|pingpong|$size]}"
                sep=,
            done
        done
    fi
    printf '\n  ],\n'
    printf '  "idle_rss_kb": {"wss": %s, "udp": %s, "wss_anon": %s, "udp_anon": %s}\n}\n' \
        "$RSS_WSS" "$RSS_UDP" "$ANON_WSS" "$ANON_UDP"
} >"$OUT"
echo
echo "results: $OUT"
