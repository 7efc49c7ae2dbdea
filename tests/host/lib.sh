# lib.sh -- shared by the shell tests: TAP output, running the reference
# host (under $PT_RUN, e.g. valgrind, when set), and a scratch directory.
# Sourced, not run.  make check sets PT_HOST, PILOT_TRANSPORT_DIR, ...

: "${PT_HOST:?run through make check}"
tap_n=0
tap_failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pt-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# register_secrets: add the private key of every identity file in $TMP (or
# a directory below it) that is not registered yet to
# $PT_BUILDDIR/tests/secrets.list, for tests/secrets.sh (the format is in
# tests/secrets.h).  Called by ok and done_testing, so keys made by any means
# ("host keygen", "$PT_HOST" keygen) are registered by the next test point.
# Only builtins run unless there is a new key.
register_secrets() {
    local f line pub priv reg=${PT_BUILDDIR:+$PT_BUILDDIR/tests/secrets.list}
    local re='"private_key":"([A-Za-z0-9+/]{86}==)".*"public_key":"([A-Za-z0-9+/]{43}=)"'
    [ -n "$reg" ] || return 0
    for f in "$TMP"/*.json "$TMP"/*/*.json; do
        line=
        [ -f "$f" ] && read -r line <"$f"
        [[ $line =~ $re ]] || continue
        priv=${BASH_REMATCH[1]} pub=${BASH_REMATCH[2]}
        case " $secrets_seen " in *" $pub "*) continue ;; esac
        secrets_seen="$secrets_seen $pub"
        (umask 077 && printf '%s\t%s\t%s\n%s\t%s\t%s\n' \
            "${0##*/}: ${f##*/} (seed, base64)" "$pub" "${priv:0:42}" \
            "${0##*/}: ${f##*/} (seed, hex)" "$pub" \
            "$(printf '%s' "$priv" | base64 -d | head -c 32 | od -An -v -tx1 | tr -d ' \n')" \
            >>"$reg") || echo "# secrets: cannot register in $reg"
        echo "# secrets: registered key $pub (${0##*/}: ${f##*/})"
    done
}
secrets_seen=

# ok CONDITION-EXIT-STATUS NAME: one TAP test point.
ok() {
    register_secrets
    tap_n=$((tap_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $tap_n - $2"
    else
        echo "not ok $tap_n - $2"
        tap_failed=$((tap_failed + 1))
        if [ -n "${OUT+x}" ]; then
            printf '#   exit %s\n' "$RC"
            sed 's/^/#   stdout: /' "$TMP/out"
            sed 's/^/#   stderr: /' "$TMP/err"
        fi
    fi
}

done_testing() {
    register_secrets
    echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}

# install_build DESTDIR: "make install DESTDIR=..." of this build, by a
# make of its own outside the jobs of the make check that runs the test;
# its output in $TMP/install.log, whose end is shown when it fails.  Needs
# PT_MAKE and PT_BUILDDIR (make check sets them).
install_build() {
    local rc=0
    MAKEFLAGS='' MFLAGS='' $PT_MAKE -s -C "$PT_BUILDDIR" install DESTDIR="$1" \
        >"$TMP/install.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "# make install failed (exit $rc):"
        tail -n 20 "$TMP/install.log" | sed 's/^/#   /'
    fi
    return "$rc"
}

# host ARGS...: run the host; stdout in $OUT, stderr in $ERR, status in $RC.
host() {
    RC=0
    # shellcheck disable=SC2086
    $PT_RUN "$PT_HOST" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
}

# check: the last host call exited with $1 and $2 (a grep -E pattern) is
# found in stream $3 (out or err; default out).
check() {
    [ "$RC" -eq "$1" ] || return 1
    [ -z "${2:-}" ] && return 0
    grep -Eq -- "$2" "$TMP/${3:-out}"
}

# start_echo ARGS...: start "host echo ARGS" in the background and wait for
# its READY line (an event, not a sleep).  Sets ECHO_PID and ECHO_ADDR;
# the server's stdout stays readable on fd 3.
start_echo() {
    rm -f "$TMP/echo.fifo"
    mkfifo "$TMP/echo.fifo"
    # shellcheck disable=SC2086
    $PT_RUN "$PT_HOST" echo "$@" >"$TMP/echo.fifo" 2>"$TMP/echo.err" &
    ECHO_PID=$!
    exec 3<"$TMP/echo.fifo"
    ECHO_ADDR=
    if read -r -t 30 line <&3; then
        ECHO_ADDR=${line#READY local=}
    fi
    [ -n "$ECHO_ADDR" ]
}

# beacon_start_proc NAME ARGS...: start "$PT_BEACON --listen=127.0.0.1:0
# ARGS" (under $PT_RUN) and wait for its READY line (an event, not a
# sleep).  Sets BEACON_PID, READY (the whole line), PORT, UDP_PORT (relay
# mode, else empty) and BEACON_ERR ($TMP/NAME.err, its stderr); its stdout
# stays readable on fd 4.
beacon_start_proc() {
    local name=$1 w
    shift
    BEACON_ERR=$TMP/$name.err
    rm -f "$TMP/beacon.fifo"
    mkfifo "$TMP/beacon.fifo"
    # shellcheck disable=SC2086
    $PT_RUN "$PT_BEACON" --listen=127.0.0.1:0 "$@" >"$TMP/beacon.fifo" 2>"$BEACON_ERR" &
    BEACON_PID=$!
    exec 4<"$TMP/beacon.fifo"
    PORT='' UDP_PORT='' READY=''
    if read -r -t $((30 * ${PT_TIME_SCALE:-1})) READY <&4; then
        for w in $READY; do
            case $w in port=[0-9]*) PORT=${w#port=} ;; udp=[0-9]*) UDP_PORT=${w#udp=} ;; esac
        done
    fi
    [ -n "$PORT" ]
}

# stop_beacon: SIGTERM the beacon, wait for it; sets BEACON_RC.
stop_beacon() {
    kill -TERM "$BEACON_PID" 2>/dev/null
    BEACON_RC=0
    wait "$BEACON_PID" || BEACON_RC=$?
    BEACON_PID=
    exec 4<&-
}

# stop_echo: SIGTERM the echo server, wait for it; sets ECHO_RC and
# ECHO_DONE (its final line).
stop_echo() {
    kill -TERM "$ECHO_PID" 2>/dev/null
    ECHO_DONE=
    read -r -t 30 ECHO_DONE <&3 || true
    ECHO_RC=0
    wait "$ECHO_PID" || ECHO_RC=$?
    exec 3<&-
}
