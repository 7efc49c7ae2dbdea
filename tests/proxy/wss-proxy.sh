#!/bin/bash
# The WSS plugin through real proxies (tests/proxy/lib.sh), driven through
# the reference host as an operator would: which proxy is chosen and why
# (an explicit proxy is never skipped for NO_PROXY; the environment read
# lowercase first; http_proxy only in lowercase), PILOT_PROXY, the CONNECT
# naming the beacon by host name, credentials refused or missing, a proxy
# whose policy refuses the port, one that cannot be reached, one that
# answers garbage, an https:// proxy (TLS to the proxy, its certificate
# checked), and proxy-cmd: run before the first dial, run again only when
# the proxy refuses its credentials, on the first dial and on redials, and
# each way it can fail.  Every message is checked for what it tells the
# operator to check, and never to hold a password; tests/secrets.sh greps
# this log for the passwords too.
#
# Needs PT_BEACON (make check sets it), tinyproxy, curl, certtool; stunnel
# for the https:// proxy; perl for the proxy that answers garbage.
. "$(dirname "$0")/../host/lib.sh"
. "$(dirname "$0")/lib.sh"

proxy_test_needs # PT_BEACON, SRCDIR; tinyproxy, curl, certtool

# The proxy environment is the test's to set.
unset https_proxy HTTPS_PROXY http_proxy HTTP_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY \
    PILOT_PROXY

CERTS=$TMP/certs
SCALE=${PT_TIME_SCALE:-1}
NODE=42
BEACON_PID='' PLAIN_PID='' GARBAGE_PID='' ANSWER_PID=''
cleanup() {
    proxy_stop_all
    local p
    for p in "$ANSWER_PID" "$GARBAGE_PID" "$PLAIN_PID" "$BEACON_PID"; do
        [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

skip() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $1 # SKIP $2"
}

# wss ARGS...: "probe -transport=wss" against the TLS beacon as node NODE,
# logging at info; OUT, ERR, RC as host sets them.
wss() {
    host probe -transport=wss -url="wss://localhost:$PORT/v1/compat" -ca-file="$CERTS/ca.pem" \
        -identity="$TMP/id.json" -node-id=$NODE -log-level=info "$@"
    sed 's/^/#   /' "$TMP/err" | head -n 12
}

# has TEXT: the last run's stderr holds TEXT (fixed string).
has() { grep -qF -- "$1" "$TMP/err"; }

# connects NAME: how many CONNECTs proxy NAME has logged.
connects() { proxy_connects "$1" | wc -l; }

# ---- fixtures ----------------------------------------------------------------

sh "$SRCDIR/tests/wss/make-certs.sh" "$CERTS" >/dev/null &&
    host keygen -identity "$TMP/id.json" && echo "$NODE ${OUT#public_key }" >"$TMP/registry" &&
    beacon_start_proc beacon --cert="$CERTS/server.pem" --key="$CERTS/server-key.pem" \
        --registry="$TMP/registry" --mode=echo
ok $? "fixtures: the test CA, node $NODE registered, a TLS beacon on port $PORT"

pw1="pw-$(od -An -v -tx1 -N8 /dev/urandom | tr -d ' \n')"
pw2="pw-$(od -An -v -tx1 -N8 /dev/urandom | tr -d ' \n')"
wrong="wrong-$(od -An -v -tx1 -N8 /dev/urandom | tr -d ' \n')"
proxy_secret "a wrong password" "$wrong"

proxy_start plain && PLAIN=http://127.0.0.1:$PROXY_PORT &&
    proxy_start auth --auth="pilot:$pw1" && AUTH_PORT=$PROXY_PORT &&
    proxy_start ports --connect-port=$((PORT == 65535 ? PORT - 1 : PORT + 1)) &&
    PORTS=http://127.0.0.1:$PROXY_PORT
ok $? "proxies: plain, with Basic auth, and one that lets CONNECT reach another port only"
# A port nothing listens on: the lowest one, reserved for tcpmux.
DEAD=http://127.0.0.1:1

# ---- which proxy, and why ----------------------------------------------------

# Issue 11, defect 2: with NO_PROXY naming the beacon, libcurl skipped the
# proxy the operator named (it read NO_PROXY itself).
n=$(connects plain)
NO_PROXY=localhost no_proxy=localhost wss -proxy="$PLAIN"
check 0 '^OK transport=wss' && [ "$(connects plain)" -eq $((n + 1)) ] &&
    has "info: wss: proxy $PLAIN from the proxy option"
ok $? "an explicit proxy is used even when NO_PROXY and no_proxy name the beacon"

[ "$(proxy_connects plain | tail -n 1)" = "localhost:$PORT" ]
ok $? "the CONNECT names the beacon by its host name (localhost:$PORT), not an address"

n=$(connects plain)
https_proxy=$PLAIN HTTPS_PROXY=$DEAD wss
check 0 '^OK transport=wss' && [ "$(connects plain)" -eq $((n + 1)) ] &&
    has "info: wss: proxy $PLAIN from https_proxy"
ok $? "proxy=auto: https_proxy before HTTPS_PROXY, as curl reads them"

HTTPS_PROXY=$PLAIN all_proxy=$DEAD wss
check 0 '^OK' && has "from HTTPS_PROXY"
ok $? "proxy=auto: HTTPS_PROXY before all_proxy"

n=$(connects plain)
all_proxy=$PLAIN ALL_PROXY=$DEAD wss
check 0 '^OK' && has "from all_proxy" && [ "$(connects plain)" -eq $((n + 1)) ]
ok $? "proxy=auto: all_proxy before ALL_PROXY"

https_proxy=$DEAD NO_PROXY=localhost wss
check 0 '^OK' && has "info: wss: no proxy: NO_PROXY matches localhost"
ok $? "proxy=auto: NO_PROXY naming the beacon skips the environment's proxy, and says so"

https_proxy=$DEAD no_proxy=localhost NO_PROXY=elsewhere.example wss
check 0 '^OK' && has "no proxy: no_proxy matches localhost"
ok $? "proxy=auto: no_proxy before NO_PROXY"

https_proxy='' HTTPS_PROXY=$DEAD wss
check 0 '^OK' && has "info: wss: no proxy: https_proxy is empty (proxy=auto)"
ok $? "proxy=auto: an empty https_proxy means no proxy, as in curl"

wss
check 0 '^OK' && has "no proxy: none of https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY is set"
ok $? "proxy=auto with no variable set: direct, and the log says which were looked at"

https_proxy=$DEAD wss -proxy=off
check 0 '^OK' && has "info: wss: no proxy (proxy=off)"
ok $? "proxy=off: direct, whatever the environment says"

# ws:// (tests only): http_proxy in lowercase only (httpoxy).
TLS_BEACON_PID=$BEACON_PID TLS_PORT=$PORT
beacon_start_proc plainbeacon --plaintext --registry="$TMP/registry" --mode=echo
PLAIN_PID=$BEACON_PID PLAIN_BEACON=$PORT
BEACON_PID=$TLS_BEACON_PID PORT=$TLS_PORT
ws() {
    host probe -transport=wss -url="ws://localhost:$PLAIN_BEACON/v1/compat" \
        -opt allow-plaintext=true -identity="$TMP/id.json" -node-id=$NODE -log-level=info "$@"
}
HTTP_PROXY=$DEAD ws
check 0 '^OK' && has "no proxy: none of http_proxy, all_proxy, ALL_PROXY is set"
ok $? "ws://: HTTP_PROXY in uppercase is not read (httpoxy)"

n=$(connects plain)
http_proxy=$PLAIN ws
check 0 '^OK' && has "from http_proxy" && [ "$(proxy_connects plain | tail -n 1)" = "localhost:$PLAIN_BEACON" ]
ok $? "ws://: http_proxy in lowercase is"

# Frames through the tunnel, both ways: once up, the link reads and writes
# the socket itself (plugin/wss/stream.h), not through libcurl.
http_proxy=$PLAIN host echo-bench -transport=wss -url="ws://localhost:$PLAIN_BEACON/v1/compat" \
    -opt allow-plaintext=true -identity="$TMP/id.json" -node-id=$NODE -count=300 -size=1200 \
    -window=32 -batch=1 -log-level=debug
check 0 '^RESULT frames=300 ' && has "wss: frames go on the socket directly (ws://)"
ok $? "ws:// through http_proxy: 300 frames echoed intact, read and written on the socket directly"
kill -TERM "$PLAIN_PID" && wait "$PLAIN_PID"
PLAIN_PID=

# ---- PILOT_PROXY -----------------------------------------------------------------

n=$(connects auth)
PILOT_PROXY="http://pilot:$pw1@127.0.0.1:$AUTH_PORT" https_proxy=$DEAD wss
check 0 '^OK' && has "info: the proxy option from PILOT_PROXY" &&
    has "proxy http://pilot:***@127.0.0.1:$AUTH_PORT from the proxy option" &&
    [ "$(connects auth)" -eq $((n + 1)) ]
ok $? "PILOT_PROXY: credentials off the command line, before https_proxy; redacted in the log"

# Through an http:// proxy's tunnel the beacon's TLS is on plain TCP: once
# up, the link runs GnuTLS itself over the socket (plugin/wss/stream.h).
host echo-bench -transport=wss -url="wss://localhost:$PORT/v1/compat" -ca-file="$CERTS/ca.pem" \
    -identity="$TMP/id.json" -node-id=$NODE -proxy="$PLAIN" -count=300 -size=1200 -window=32 \
    -batch=1 -log-level=debug
check 0 '^RESULT frames=300 ' && has "wss: frames go by GnuTLS directly, read ahead"
ok $? "wss:// through an http:// proxy: 300 frames echoed intact, by GnuTLS directly"

PILOT_PROXY=$DEAD wss -proxy="$PLAIN"
check 0 '^OK' && ! has "PILOT_PROXY"
ok $? "-proxy comes before PILOT_PROXY"

PILOT_PROXY=$DEAD NO_PROXY=localhost wss
check 1 && grep -q "cannot reach proxy 127.0.0.1:1" "$TMP/err"
ok $? "PILOT_PROXY is the operator's proxy: NO_PROXY does not skip it"

# ---- credentials and refusals ------------------------------------------------

wss -proxy="http://127.0.0.1:$AUTH_PORT"
check 1 && has "proxy refused CONNECT to localhost:$PORT: it wants credentials (HTTP 407)" &&
    has "give USER:PASSWORD@ in the proxy URL"
ok $? "no credentials: 407, and the message says how to give them"

PILOT_PROXY="http://pilot:$wrong@127.0.0.1:$AUTH_PORT" wss
check 1 && has "credentials refused (HTTP 401); check the user name and password" &&
    has "proxy http://pilot:***@127.0.0.1:$AUTH_PORT from the proxy option" && ! has "$wrong"
ok $? "wrong credentials: refused (401 from tinyproxy), the password nowhere in the output"

PILOT_PROXY="http://pilot:${pw1//-/%2D}@127.0.0.1:$AUTH_PORT" wss
check 0 '^OK'
ok $? "credentials are percent-decoded before they are sent (%2D is '-')"

wss -proxy="$PORTS"
check 1 && has "proxy refused CONNECT to localhost:$PORT: its policy does not allow this host or port (HTTP 403)" &&
    has "check which hosts and ports the proxy lets CONNECT reach"
ok $? "a proxy whose policy refuses the beacon's port: 403 named as such"

wss -proxy="$DEAD"
check 1 && has "cannot reach proxy 127.0.0.1:1:" && has "check the proxy option (-proxy, PILOT_PROXY)"
ok $? "an unreachable proxy given by -proxy: the message names it and -proxy"

https_proxy=$DEAD wss
check 1 && has "cannot reach proxy 127.0.0.1:1:" && has "; check https_proxy"
ok $? "an unreachable proxy from https_proxy: the message says to check https_proxy"

# A real process that answers CONNECT with something that is not HTTP.
if command -v perl >/dev/null && perl -MIO::Socket::INET -e 1 2>/dev/null; then
    mkfifo "$TMP/garbage.fifo"
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
                                      Listen => 5, ReuseAddr => 1) or die "listen: $!";
        $| = 1;
        print "READY ", $s->sockport, "\n";
        while (my $c = $s->accept) {
            my $req; sysread($c, $req, 4096);
            print $c "SSH-2.0-OpenSSH_9.2 not a proxy\r\n\r\n";
            close $c;
        }' >"$TMP/garbage.fifo" &
    GARBAGE_PID=$!
    exec 5<"$TMP/garbage.fifo"
    read -r -t $((10 * SCALE)) line <&5
    wss -proxy="http://127.0.0.1:${line#READY }"
    check 1 && has "proxy sent a malformed reply to CONNECT (not HTTP: \"SSH-2.0-OpenSSH_9.2" &&
        has "check that http://127.0.0.1:${line#READY }, from the proxy option (-proxy, PILOT_PROXY), is an HTTP proxy"
    ok $? "a proxy that answers CONNECT with garbage: \"malformed reply\""
    kill -TERM "$GARBAGE_PID"
    wait "$GARBAGE_PID" 2>/dev/null
    GARBAGE_PID=
    exec 5<&-
else
    skip "a proxy that answers CONNECT with garbage" "perl not installed"
fi

# ---- an https:// proxy -----------------------------------------------------------

if command -v stunnel >/dev/null; then
    proxy_tls_start auth "$CERTS/server.pem" "$CERTS/server-key.pem"
    ok $? "stunnel in front of the authenticating proxy: an https:// proxy (port $PROXY_TLS_PORT)"
    TLS_PROXY="https://pilot:$pw1@localhost:$PROXY_TLS_PORT"

    n=$(connects auth)
    PILOT_PROXY=$TLS_PROXY wss -opt proxy-ca-file="$CERTS/ca.pem"
    check 0 '^OK' && [ "$(connects auth)" -eq $((n + 1)) ] &&
        [ "$(proxy_connects auth | tail -n 1)" = "localhost:$PORT" ] &&
        has "proxy https://pilot:***@localhost:$PROXY_TLS_PORT from the proxy option"
    ok $? "through the https:// proxy, its certificate checked against proxy-ca-file"

    # TLS inside the proxy's TLS: the frames stay on libcurl (stream.h).
    PILOT_PROXY=$TLS_PROXY host echo-bench -transport=wss -url="wss://localhost:$PORT/v1/compat" \
        -ca-file="$CERTS/ca.pem" -identity="$TMP/id.json" -node-id=$NODE \
        -opt proxy-ca-file="$CERTS/ca.pem" -count=300 -size=1200 -window=32 -log-level=debug
    check 0 '^RESULT frames=300 ' && has "wss: frames go by libcurl (TLS inside the proxy's TLS)"
    ok $? "through the https:// proxy: 300 frames echoed intact, by libcurl (TLS in TLS)"

    # The beacon's session tickets, 101 and challenge can come in one of
    # the proxy's TLS records: each dial must read them all from libcurl's
    # buffer, not wait for the socket (which the beacon's auth timeout
    # would end after 10 s).  Most dials did, before.
    fails=0
    for i in 1 2 3 4 5 6; do
        PILOT_PROXY=$TLS_PROXY wss -opt proxy-ca-file="$CERTS/ca.pem" -opt dial-timeout=$((8 * SCALE))s
        check 0 '^OK' || fails=$((fails + 1))
    done
    [ "$fails" -eq 0 ]
    ok $? "6 more dials through the https:// proxy: each gets the beacon's records from inside the proxy's ($fails failed)"

    n=$(connects auth)
    PILOT_PROXY=$TLS_PROXY wss -opt proxy-ca-file="$CERTS/other-ca.pem"
    check 1 && has "TLS to the proxy: the PROXY's certificate or handshake was refused" &&
        has "check proxy-ca-file" && [ "$(connects auth)" -eq "$n" ]
    ok $? "a proxy certificate from another CA: refused before any CONNECT, the PROXY's named"

    PILOT_PROXY=$TLS_PROXY wss
    check 1 && has "the PROXY's certificate"
    ok $? "without proxy-ca-file the system's store is used: the test CA is not in it"
else
    for t in "stunnel in front of the authenticating proxy" "through the https:// proxy" \
        "a proxy certificate from another CA" "without proxy-ca-file"; do
        skip "$t" "stunnel not installed (scripts/install-deps)"
    done
fi

# ---- proxy-cmd ---------------------------------------------------------------------

# A proxy command: counts its runs in $TMP/runs, prints line N of
# $TMP/urls on its N-th run (the last line once they run out).
cat >"$TMP/proxy-cmd" <<'EOF'
#!/bin/sh
d=$(dirname "$0")
echo run >>"$d/runs"
n=$(wc -l <"$d/runs")
sed -n "${n}p" "$d/urls" | grep . || tail -n 1 "$d/urls"
EOF
chmod 700 "$TMP/proxy-cmd"
# urls LINE...: what the command prints, run by run; the count restarts.
urls() {
    printf '%s\n' "$@" >"$TMP/urls"
    : >"$TMP/runs"
}
runs() { wc -l <"$TMP/runs"; }
GOOD="http://pilot:$pw1@127.0.0.1:$AUTH_PORT"
BAD="http://pilot:$wrong@127.0.0.1:$AUTH_PORT"

urls "$GOOD"
wss -proxy-cmd="$TMP/proxy-cmd"
check 0 '^OK' && [ "$(runs)" -eq 1 ] && has "proxy http://pilot:***@127.0.0.1:$AUTH_PORT from proxy-cmd"
ok $? "proxy-cmd: run once before the first dial; its URL used, redacted in the log"

urls "$BAD" "$GOOD"
wss -proxy-cmd="$TMP/proxy-cmd"
check 0 '^OK' && [ "$(runs)" -eq 2 ] && has "the proxy refused the credentials (HTTP 401)" &&
    has "running proxy-cmd again"
ok $? "proxy-cmd: credentials refused at the first dial, the command is run again and the CONNECT retried"

urls "$BAD"
wss -proxy-cmd="$TMP/proxy-cmd"
check 1 && [ "$(runs)" -eq 2 ] &&
    has "credentials refused, also those proxy-cmd printed when run again (HTTP 401)" &&
    has "check what proxy-cmd prints" && ! has "$wrong"
ok $? "proxy-cmd: refused twice is PT_EPROXY saying so; the command ran twice, no more"

urls "$GOOD"
printf '%s\n' "$GOOD" >"$TMP/one-url"
wss -proxy-cmd="sh -c 'cat \"\$0\" | head -n 1' $TMP/one-url"
check 0 '^OK'
ok $? "proxy-cmd with a shell named explicitly: sh -c '... | ...'"

wss -proxy-cmd="cat $TMP/one-url | head -n 1"
check 1 && has "option \"proxy-cmd\": it holds a shell operator" && has "sh -c '...'"
ok $? "proxy-cmd with a pipe and no shell: refused as an option, saying to name a shell"

wss -proxy-cmd="$TMP/proxy-cmd" -proxy="$PLAIN"
check 1 && has "options \"proxy\" and \"proxy-cmd\" both name the proxy"
ok $? "-proxy and -proxy-cmd together: refused, naming both"

wss -proxy-cmd="sh -c 'echo \"token http://u:$wrong@h failed\" >&2; exit 3'"
check 1 && has "proxy-cmd \"sh\" failed with exit status 3" &&
    has "warn: wss: proxy-cmd \"sh\" failed; its stderr: token http://u:" && has "@h failed" &&
    ! has "@h failed?" && ! has "$wrong"
ok $? "proxy-cmd exiting 3: PT_EPROXY with the status; its stderr logged at WARN, password starred"

wss -proxy-cmd="sh -c 'echo; echo http://127.0.0.1:1'"
check 1 && has "printed no proxy URL (its first line of output is empty)"
ok $? "proxy-cmd whose first line is empty: a clear error"

wss -proxy-cmd="sh -c 'echo not-a-url://x'"
check 1 && has "proxy-cmd's output is not a proxy URL: only http:// and https://" && ! has "not-a-url"
ok $? "proxy-cmd printing something else: refused without quoting its output"

wss -proxy-cmd="$TMP/no-such-command"
# (Under valgrind posix_spawn cannot hand exec's error back: exit 127.)
check 1 && { has "cannot run proxy-cmd \"$TMP/no-such-command\": No such file or directory" ||
    { [[ ${PT_RUN:-} == *valgrind* ]] && has "failed with exit status 127 (not found"; }; }
ok $? "a proxy-cmd that does not exist: a clear error"

start=$(date +%s%N)
wss -opt dial-timeout=$((1 * SCALE))s -proxy-cmd="sh -c 'echo \$\$ >$TMP/slow.pid; exec sleep 60'"
took=$((($(date +%s%N) - start) / 1000000))
echo "# the dial took $took ms"
check 1 && grep -Eq 'timed out running proxy-cmd "sh"|proxy-cmd "sh" did not finish' "$TMP/err" &&
    [ "$took" -ge $((1000 * SCALE)) ] &&
    [ "$took" -lt $((30000 * SCALE)) ] && ! kill -0 "$(cat "$TMP/slow.pid")" 2>/dev/null
ok $? "a proxy-cmd that hangs is killed at the dial timeout (not before), and is gone"

# Redials: the beacon closes every connection right after auth, so the
# host redials again and again.  The command runs again only when the
# proxy refuses its credentials.
stop_beacon
[ "$BEACON_RC" -eq 0 ] &&
    beacon_start_proc redial --cert="$CERTS/server.pem" --key="$CERTS/server-key.pem" \
        --registry="$TMP/registry" --mode=echo --close-after-auth
ok $? "the beacon exits 0 on SIGTERM; another that closes right after auth starts (port $PORT)"
urls "$GOOD"
: >"$TMP/answer.err"
$PT_RUN "$PT_HOST" relay -answer -transport=wss -url="wss://localhost:$PORT/v1/compat" \
    -ca-file="$CERTS/ca.pem" -identity="$TMP/id.json" -node-id=$NODE -log-level=info \
    -proxy-cmd="$TMP/proxy-cmd" >/dev/null 2>>"$TMP/answer.err" &
ANSWER_PID=$!
# reconnected N: wait for the N-th "reconnected" line of the answerer.
reconnected() {
    local from
    from=$(grep -c . "$TMP/answer.err")
    while [ "$(grep -c 'info: wss: reconnected' "$TMP/answer.err")" -lt "$1" ]; do
        proxy_wait_log "$TMP/answer.err" "$from" "$ANSWER_PID" 'reconnected' || return 1
        from=$(grep -c . "$TMP/answer.err")
    done
}
reconnected 3 && [ "$(runs)" -eq 1 ]
ok $? "redials after a drop reuse proxy-cmd's URL: 3 reconnects, the command ran once"

# New credentials: the command prints them from now on, then the proxy
# takes them; the next redial is refused, runs the command and gets in.
printf '%s\n' "http://pilot:$pw2@127.0.0.1:$AUTH_PORT" >"$TMP/urls"
: >"$TMP/runs"
proxy_set_auth auth "pilot:$pw2"
before=$(grep -c 'info: wss: reconnected' "$TMP/answer.err")
reconnected $((before + 3)) && [ "$(runs)" -eq 1 ] &&
    grep -q "running proxy-cmd again: the proxy refused the credentials" "$TMP/answer.err"
ok $? "credentials rotated at the proxy: a redial is refused, the command runs again once, redials go on"

kill -TERM "$ANSWER_PID" && wait "$ANSWER_PID"
ANSWER_PID=
! grep -qF -e "$pw1" -e "$pw2" -e "$wrong" "$TMP/answer.err"
ok $? "the redialling host's log holds no password"

# ---- stopping -----------------------------------------------------------------

proxy_stop_all
ok $? "the proxies stop on SIGTERM, exit 0"
stop_beacon
[ "$BEACON_RC" -eq 0 ]
ok $? "the redialled beacon exits 0 on SIGTERM"

done_testing
