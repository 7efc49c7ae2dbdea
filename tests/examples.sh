#!/bin/bash
# The example hosts of examples/ as a host author builds them: this build is
# installed into a scratch DESTDIR, the examples are built there with plain
# make and pkg-config against the installed headers and library only, and
# run with the installed plugins: over UDP against the reference host's
# echo server, and over WSS through pilot-beacon-dev in echo mode with a
# test CA.
. "$(dirname "$0")/host/lib.sh"

: "${PT_PKGLIBDIR:?run through make check}" "${PT_BEACON:?}"
SRCDIR=${PT_SRCDIR:-$(dirname "$0")/..}
dest=$TMP/dest
plugins=$dest$PT_PKGLIBDIR
CERTS=$TMP/certs
EX=$TMP/examples

# ---- built against the install -------------------------------------------------

install_build "$dest"
pc=$(find "$dest" -name pilot-transport.pc -print -quit)
[ -n "$pc" ] && [ -f "$plugins/pilot-transport-udp.so" ]
ok $? "make install DESTDIR=... installs pilot-transport.pc and the plugins"
libdir=${pc%/pkgconfig/pilot-transport.pc}

# Only the installed pilot-transport.pc is found (PKG_CONFIG_LIBDIR), its
# paths under DESTDIR (PKG_CONFIG_SYSROOT_DIR); the run path makes the
# programs find the installed library without LD_LIBRARY_PATH.
mkdir "$EX"
cp "$SRCDIR"/examples/Makefile "$SRCDIR"/examples/*.[ch] "$EX"/
# A library built with sanitizers (make check-asan, check-tsan) needs its
# host built with them too (ASan's runtime must come first): the build's
# -fsanitize flags, and nothing else of its flags, go to the examples.
san=$(printf '%s\n' ${PT_LDFLAGS:-} | grep -- '^-fsanitize=' | tr '\n' ' ')
rc=0
PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=${pc%/*} PKG_CONFIG_SYSROOT_DIR=$dest MAKEFLAGS='' MFLAGS='' \
    ${PT_MAKE:-make} -C "$EX" CFLAGS="-O2 -Werror $san" LDFLAGS="-Wl,-rpath,$libdir $san" \
    >"$TMP/build.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] && [ -x "$EX/blocking-host" ] && [ -x "$EX/poll-host" ] &&
    grep -qF -- "-I$dest" "$TMP/build.log" && ! grep -qF -- "$SRCDIR/abi" "$TMP/build.log"
ok $? "the examples build with make and pkg-config against the installed headers, warnings as errors"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$TMP/build.log"

for prog in blocking-host poll-host; do
    readelf -d "$EX/$prog" | grep -q 'NEEDED.*\[libpilot-transport\.so\.0\]' &&
        ldd "$EX/$prog" | grep -qF "libpilot-transport.so.0 => $libdir/libpilot-transport.so.0"
    ok $? "$prog links the installed libpilot-transport ($libdir)"
done

# example PROGRAM ARGS...: run an example with the installed plugins only
# (PILOT_TRANSPORT_DIR, which make check sets to the build's, is emptied);
# the results as the host function leaves them.
example() {
    local prog=$1
    shift
    PILOT_TRANSPORT_DIR='' PT_HOST=$EX/$prog host -d "$plugins" "$@"
}

# ---- over UDP ------------------------------------------------------------------

start_echo -transport=udp -bind=127.0.0.1:0
ok $? "a UDP echo server (pilot-transport echo) is up at $ECHO_ADDR"

example blocking-host udp "$ECHO_ADDR" bind=127.0.0.1:0
check 0 "^answer from $ECHO_ADDR: 23 bytes in [0-9]+ ms over udp$"
ok $? "blocking-host sends a datagram over udp and gets the answer"

example poll-host -c 50 udp "$ECHO_ADDR" bind=127.0.0.1:0
check 0 '^sent 50, answered 50 in [0-9]+ ms over udp, reading with recv(_many)?; stats: 50 in, 50 out$'
read_with=${OUT##*reading with }
ok $? "poll-host: 50 datagrams on a timer, every answer drained from poll_fd (with ${read_with%%;*})"

stop_echo
[ "$ECHO_RC" -eq 0 ] && [ "$ECHO_DONE" = "DONE echoed=51" ]
ok $? "the echo server saw every datagram ($ECHO_DONE)"

example blocking-host udp bind=127.0.0.1:0
check 1 '^blocking-host: send: udp send: no destination address \(invalid argument\)$' err
ok $? "blocking-host without a peer says what the plugin refused"

example blocking-host nosuchmode
check 1 '^blocking-host: no plugin for transport "nosuchmode"' err
ok $? "an unknown mode fails with the loader's explanation"

# ---- over WSS, through the development beacon ---------------------------------

sh "$SRCDIR/tests/wss/make-certs.sh" "$CERTS" >/dev/null
ok $? "test certificates made"

host keygen -identity "$TMP/id7.json"
check 0 '^public_key '
ok $? "an identity for node 7"
echo "7 ${OUT#public_key }" >"$TMP/registry"
unset OUT

beacon_start_proc beacon --cert="$CERTS/server.pem" --key="$CERTS/server-key.pem" \
    --registry="$TMP/registry" --mode=echo
ok $? "pilot-beacon-dev --mode=echo is up: $READY"
url=wss://localhost:$PORT/v1/compat

example blocking-host -i "$TMP/id7.json" -n 7 wss url="$url" ca-file="$CERTS/ca.pem"
check 0 '^answer from 192\.0\.2\.2:0: 23 bytes in [0-9]+ ms over wss$'
ok $? "blocking-host over wss: dial with TLS and auth, a datagram echoed by the beacon"

example poll-host -c 50 -i "$TMP/id7.json" -n 7 wss url="$url" ca-file="$CERTS/ca.pem"
check 0 '^sent 50, answered 50 in [0-9]+ ms over wss, reading with recv(_many)?; stats: 50 in, 50 out$'
read_with=${OUT##*reading with }
ok $? "poll-host over wss: 50 datagrams, every answer drained from poll_fd (with ${read_with%%;*})"

example blocking-host -i "$TMP/id7.json" -n 8 wss url="$url" ca-file="$CERTS/ca.pem"
check 1 '^blocking-host: dial wss: .*\(authentication failed\)$' err
ok $? "a node the beacon does not know: the dial fails with the plugin's reason"

example blocking-host -i "$TMP/id7.json" -n 7 wss url="$url"
check 1 '^blocking-host: dial wss: .*\(TLS failure\)$' err
ok $? "without the test CA the pinned roots refuse the beacon's certificate"
unset OUT

stop_beacon
[ "$BEACON_RC" -eq 0 ]
ok $? "SIGTERM stops the beacon cleanly (exit $BEACON_RC)"

done_testing
