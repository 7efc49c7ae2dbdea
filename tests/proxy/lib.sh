# tests/proxy/lib.sh -- real HTTP CONNECT proxies for the shell tests:
# tinyproxy (1.11), with Basic auth whose credentials can change while it
# runs, or with a list of the ports it lets CONNECT reach; and stunnel in
# front of one, which makes it an https:// proxy (TLS to the proxy itself).
# Sourced after tests/host/lib.sh (TMP, ok).  Every wait is for a line of
# the proxy's own log, bounded, never a fixed sleep.
#
#   proxy_start NAME [--auth=USER:PASSWORD] [--connect-port=N]...
#       tinyproxy on a free loopback port; sets PROXY_PORT and PROXY_PID.
#       --auth: Basic auth (USER and PASSWORD: letters, digits, - . _ as
#       tinyproxy takes them; PASSWORD at least 6 characters, so that
#       tests/secrets.sh can look for it).  A request without credentials
#       gets 407, with wrong ones 401 (tinyproxy 1.11 answers so).
#       --connect-port: CONNECT only to these ports, 403 to any other.
#   proxy_set_auth NAME USER:PASSWORD
#       new credentials while it runs: the old ones are refused once this
#       returns (the config rewritten, SIGUSR1, its reload logged).
#   proxy_tls_start NAME CERT KEY
#       stunnel on a free loopback port, TLS with CERT and KEY (PEM), in
#       front of proxy NAME: an https:// proxy.  Sets PROXY_TLS_PORT.
#   proxy_connects NAME
#       the targets of the CONNECT requests proxy NAME has logged, in order,
#       one per line, as the request named them ("localhost:8443"); refused
#       requests too.
#   proxy_stop NAME, proxy_stop_all
#       SIGTERM and wait (stunnel first); status 0 when each exited 0.
#   proxy_secret ORIGIN SECRET
#       register a secret for tests/secrets.sh (proxy_start and
#       proxy_set_auth register the password and the base64 of
#       USER:PASSWORD, what a Proxy-Authorization header carries).
#
# A proxy's files are in $TMP/proxy-NAME: tinyproxy.conf, tinyproxy.log
# (LogLevel Info: every request line, no header), stunnel.conf, stunnel.log.
# No function prints a credential.  Needs tinyproxy; stunnel for
# proxy_tls_start.  Call the functions from the test's own shell, not in
# $(...): they wait for the processes they start.

# Bounds stretch with PT_TIME_SCALE (10 under check-valgrind).
PROXY_WAIT=$((20 * ${PT_TIME_SCALE:-1}))

# proxy_secret ORIGIN SECRET: the format of tests/secrets.h.
proxy_secret() {
    local reg=${PT_BUILDDIR:+$PT_BUILDDIR/tests/secrets.list}
    [ -n "$reg" ] || return 0
    (umask 077 && printf '%s: %s\t-\t%s\n' "${0##*/}" "$1" "$2" >>"$reg") ||
        echo "# secrets: cannot register in $reg"
    echo "# secrets: registered a password ($1)"
}

# proxy_free_port: a port to try, outside the kernel's ephemeral range so
# that no outgoing connection holds it; the caller tries another when the
# proxy cannot bind it (a listener there).
proxy_free_port() {
    local lo hi
    read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768 hi=60999
    if [ "$lo" -gt 11024 ]; then
        echo $((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000)))
    else
        echo $((hi + 1 + (RANDOM * 32768 + RANDOM) % (65535 - hi)))
    fi
}

# proxy_wait_log FILE FROM PID PATTERN: a line of FILE after line FROM
# matches PATTERN (a bash regex); status 1 when PID exits first or after
# PROXY_WAIT seconds.  tail -f wakes on the write itself; --pid ends it
# with the process.
proxy_wait_log() {
    local fd tail_pid line rc=1
    exec {fd}< <(exec timeout "$PROXY_WAIT" tail -n "+$(($2 + 1))" --pid="$3" -f "$1")
    tail_pid=$!
    while IFS= read -r line <&"$fd"; do
        if [[ $line =~ $4 ]]; then
            rc=0
            break
        fi
    done
    kill -TERM "$tail_pid" 2>/dev/null
    exec {fd}<&-
    return "$rc"
}

# proxy_auth_check NAME USER:PASSWORD: valid for tinyproxy's BasicAuth line,
# and registered as a secret.
proxy_auth_check() {
    local user=${2%%:*} pass=${2#*:}
    if [[ $2 != *:* || ! $user =~ ^[-A-Za-z0-9._]+$ || ! $pass =~ ^[-A-Za-z0-9._]{6,}$ ]]; then
        echo "# proxy $1: credentials must be USER:PASSWORD (letters, digits, - . _; a password of 6 or more)"
        return 1
    fi
    proxy_secret "proxy $1: password" "$pass"
    proxy_secret "proxy $1: USER:PASSWORD in base64" "$(printf '%s' "$2" | base64 -w0)"
}

# proxy_conf NAME: write tinyproxy.conf from the settings in the proxy's
# directory (port, connect-ports, auth), by rename, so a reload never reads
# half a file.
proxy_conf() {
    local d=$TMP/proxy-$1 p
    {
        printf 'Port %s\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 30\nMaxClients 50\n' \
            "$(cat "$d/port")"
        printf 'LogLevel Info\nLogFile "%s"\n' "$d/tinyproxy.log"
        while read -r p; do
            printf 'ConnectPort %s\n' "$p"
        done <"$d/connect-ports"
        if [ -s "$d/auth" ]; then
            printf 'BasicAuth %s %s\n' "$(cut -d: -f1 "$d/auth")" "$(cut -d: -f2- "$d/auth")"
        fi
    } >"$d/tinyproxy.conf.new" && mv -f "$d/tinyproxy.conf.new" "$d/tinyproxy.conf"
}

# proxy_start NAME [--auth=USER:PASSWORD] [--connect-port=N]...
proxy_start() {
    local name=$1 d=$TMP/proxy-$1 arg attempt from
    shift
    PROXY_PORT='' PROXY_PID=''
    mkdir -p "$d" && chmod 700 "$d" && : >"$d/connect-ports" && : >"$d/auth" || return 1
    for arg; do
        case $arg in
        --auth=*)
            proxy_auth_check "$name" "${arg#--auth=}" || return 1
            printf '%s\n' "${arg#--auth=}" >"$d/auth"
            ;;
        --connect-port=*) echo "${arg#--connect-port=}" >>"$d/connect-ports" ;;
        *) echo "# proxy_start: unknown argument $arg"; return 1 ;;
        esac
    done
    : >>"$d/tinyproxy.log"
    # A port someone listens on makes tinyproxy exit: try another.
    for attempt in 1 2 3 4 5; do
        proxy_free_port >"$d/port" && proxy_conf "$name" || return 1
        from=$(wc -l <"$d/tinyproxy.log")
        tinyproxy -d -c "$d/tinyproxy.conf" >>"$d/tinyproxy.out" 2>&1 &
        echo $! >"$d/pid"
        if proxy_wait_log "$d/tinyproxy.log" "$from" "$!" 'Accepting connections'; then
            # shellcheck disable=SC2034 # for the test that sources this
            PROXY_PORT=$(cat "$d/port") PROXY_PID=$(cat "$d/pid")
            return 0
        fi
        kill -TERM "$(cat "$d/pid")" 2>/dev/null
        wait "$(cat "$d/pid")" 2>/dev/null
        rm -f "$d/pid"
        echo "# proxy $name: tinyproxy did not start on port $(cat "$d/port") (try $attempt)"
    done
    return 1
}

# proxy_set_auth NAME USER:PASSWORD
proxy_set_auth() {
    local d=$TMP/proxy-$1 from
    proxy_auth_check "$1" "$2" || return 1
    printf '%s\n' "$2" >"$d/auth" && proxy_conf "$1" || return 1
    from=$(wc -l <"$d/tinyproxy.log")
    # In the foreground (-d) tinyproxy reloads its config on SIGUSR1 (on
    # SIGHUP only as a daemon), between two accepts, and logs it.  The
    # kernel hands the signal to the main thread, which waits in poll().
    kill -USR1 "$(cat "$d/pid")" &&
        proxy_wait_log "$d/tinyproxy.log" "$from" "$(cat "$d/pid")" 'Reloading config file (finished|failed)' &&
        tail -n "+$((from + 1))" "$d/tinyproxy.log" | grep -q 'Reloading config file finished'
}

# proxy_tls_start NAME CERT KEY
proxy_tls_start() {
    local name=$1 d=$TMP/proxy-$1 attempt from port
    PROXY_TLS_PORT=''
    [ -f "$d/port" ] || { echo "# proxy_tls_start: no proxy $name"; return 1; }
    : >>"$d/stunnel.log"
    for attempt in 1 2 3 4 5; do
        port=$(proxy_free_port) || return 1
        # Foreground, its log on stderr; debug 6 logs the bound port.
        printf 'foreground = yes\npid =\nsyslog = no\ndebug = 6\n[proxy-%s]\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\ncert = %s\nkey = %s\n' \
            "$name" "$port" "$(cat "$d/port")" "$2" "$3" >"$d/stunnel.conf"
        from=$(wc -l <"$d/stunnel.log")
        stunnel "$d/stunnel.conf" >/dev/null 2>>"$d/stunnel.log" &
        echo $! >"$d/stunnel.pid"
        if proxy_wait_log "$d/stunnel.log" "$from" "$!" "\\(FD=[0-9]+\\) bound to 127\\.0\\.0\\.1:$port\$"; then
            # shellcheck disable=SC2034 # for the test that sources this
            PROXY_TLS_PORT=$port
            return 0
        fi
        kill -TERM "$(cat "$d/stunnel.pid")" 2>/dev/null
        wait "$(cat "$d/stunnel.pid")" 2>/dev/null
        rm -f "$d/stunnel.pid"
        echo "# proxy $name: stunnel did not start on port $port (try $attempt)"
    done
    return 1
}

# proxy_connects NAME
proxy_connects() {
    sed -n 's/.*: Request (file descriptor [0-9]*): CONNECT \([^ ]*\) HTTP\/.*/\1/p' \
        "$TMP/proxy-$1/tinyproxy.log"
}

# proxy_stop NAME
proxy_stop() {
    local d=$TMP/proxy-$1 f pid rc=0
    for f in stunnel.pid pid; do
        [ -f "$d/$f" ] || continue
        pid=$(cat "$d/$f")
        rm -f "$d/$f"
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" || rc=1
    done
    return $rc
}

proxy_stop_all() {
    local d rc=0
    for d in "$TMP"/proxy-*; do
        [ -d "$d" ] || continue
        proxy_stop "${d##*/proxy-}" || rc=1
    done
    return $rc
}

# proxy_test_needs: the start of a proxy test script: sets PT_BEACON and
# SRCDIR, and ends the script as a TAP skip, saying what is missing, when
# tinyproxy, curl, certtool or the beacon is (scripts/install-deps installs
# them all).
proxy_test_needs() {
    : "${PT_BEACON:=${PT_BUILDDIR:-.}/tests/beacon/pilot-beacon-dev}"
    SRCDIR=${PT_SRCDIR:-$(dirname "$0")/../..}
    local tool
    for tool in tinyproxy curl certtool; do
        if ! command -v "$tool" >/dev/null; then
            echo "1..0 # SKIP needs $tool"
            exit 0
        fi
    done
    if [ ! -x "$PT_BEACON" ]; then
        echo "1..0 # SKIP needs PT_BEACON ($PT_BEACON)"
        exit 0
    fi
}
