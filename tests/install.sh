#!/bin/bash
# Installed plugins never change a test's result.  This build is installed
# into a scratch DESTDIR; then the tests whose results depend on what is in
# the installed plugin directory run again with the tests' stand-in for
# that directory (PT_TEST_INSTALLED_DIR, read only by the tests' loader)
# pointing at the install, and must pass as they do with nothing installed.
# Needs PT_MAKE, PT_BUILDDIR, PT_PKGLIBDIR, PT_BINDIR (make check sets them).
. "$(dirname "$0")/host/lib.sh"

: "${PT_MAKE:?run through make check}" "${PT_BUILDDIR:?}" "${PT_PKGLIBDIR:?}" "${PT_BINDIR:?}"
SRCDIR=${PT_SRCDIR:-$(dirname "$0")/..}
dest=$TMP/dest
inst=$dest$PT_PKGLIBDIR
installed_host=$dest$PT_BINDIR/pilot-transport
mkdir "$TMP/none"

install_build "$dest" && [ -f "$inst/pilot-transport-udp.so" ] &&
    [ -f "$inst/pilot-transport-wss.so" ] && [ -x "$installed_host" ]
ok $? "make install DESTDIR=... puts the plugins in $PT_PKGLIBDIR and the host in $PT_BINDIR"

# The install is real for the tests' host: with nothing earlier in the
# search path it lists the installed plugins, as any test would see them
# if it did not say what is installed.
PILOT_TRANSPORT_DIR=$TMP/none PT_TEST_INSTALLED_DIR=$inst host plugins
check 0 '^udp +ABI ' && grep -qF "$inst/pilot-transport-udp.so" "$TMP/out" &&
    grep -qF "$inst/pilot-transport-wss.so" "$TMP/out"
ok $? "the tests' host lists the installed plugins when they stand in for its installed directory"

# The installed host only ever searches its compiled-in pkglibdir there.
RC=0
# shellcheck disable=SC2086
PILOT_TRANSPORT_DIR=$TMP/none PT_TEST_INSTALLED_DIR=$inst $PT_RUN "$installed_host" plugins \
    >"$TMP/out" 2>"$TMP/err" || RC=$?
! grep -qF "$inst" "$TMP/out" "$TMP/err"
ok $? "the installed host does not read PT_TEST_INSTALLED_DIR (exit $RC)"

RC=0
# shellcheck disable=SC2086
PILOT_TRANSPORT_DIR=$inst $PT_RUN "$installed_host" probe -transport=udp -bind=127.0.0.1:0 \
    >"$TMP/out" 2>"$TMP/err" || RC=$?
check 0 '^OK transport=udp '
ok $? "the installed host loads the installed UDP plugin"
unset OUT

# Plugin authors get the conformance suite with the host: the installed
# program passes the installed UDP plugin, found by mode as hosts find it.
RC=0
# shellcheck disable=SC2086
PILOT_TRANSPORT_DIR=$inst $PT_RUN "$dest$PT_BINDIR/pilot-transport-conformance" \
    -slack=$((3 * ${PT_TIME_SCALE:-1}))s -opt bind=127.0.0.1:0 udp >"$TMP/out" 2>"$TMP/err" || RC=$?
[ "$RC" -eq 0 ] && grep -q '^1\.\.[1-9]' "$TMP/out" && ! grep -q '^not ok' "$TMP/out" &&
    grep -qF "$inst/pilot-transport-udp.so" "$TMP/out"
ok $? "the installed pilot-transport-conformance passes the installed UDP plugin (exit $RC)" ||
    { grep '^not ok' "$TMP/out"; cat "$TMP/err"; } | sed 's/^/#   /'

# rerun COMMAND...: a TAP test, with the install as the tests' installed
# directory: it must exit 0 with a plan and no "not ok".
rerun() {
    local rc=0
    PT_TEST_INSTALLED_DIR=$inst "$@" >"$TMP/rerun.out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] || grep -q '^not ok' "$TMP/rerun.out" || ! grep -q '^1\.\.[1-9]' "$TMP/rerun.out"; then
        echo "# $* (exit $rc):"
        sed 's/^/#   /' "$TMP/rerun.out"
        return 1
    fi
}

# shellcheck disable=SC2086
rerun $PT_RUN "$PT_BUILDDIR/tests/unit/test-loader"
ok $? "tests/unit/test-loader passes with this build installed"

rerun bash "$SRCDIR/tests/host/cli.sh"
ok $? "tests/host/cli.sh passes with this build installed"

done_testing
