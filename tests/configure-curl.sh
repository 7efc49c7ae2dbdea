#!/bin/bash
# configure stops, with the fix in its message, when the libcurl it finds
# cannot speak wss:// (Debian 12's own 7.88, or a libcurl built without
# WebSockets or without GnuTLS).  The fake libcurl.pc comes first in
# PKG_CONFIG_PATH; everything else is the machine's own.
. "$(dirname "$0")/host/lib.sh"

if [ -f "$PT_SRCDIR/config.status" ] && [ "$PT_SRCDIR" != "$PT_BUILDDIR" ]; then
    echo "1..0 # SKIP source tree is configured in place; run from a VPATH build"
    exit 0
fi
if [ "$PT_SRCDIR" = "$PT_BUILDDIR" ]; then
    echo "1..0 # SKIP in-tree build: configure cannot run a second time beside it"
    exit 0
fi

run_configure() {
    rm -rf "$TMP/build" && mkdir -p "$TMP/build"
    RC=0
    (cd "$TMP/build" && PKG_CONFIG_PATH="$TMP/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
        "$PT_SRCDIR/configure" -q CC="${CC:-cc}" CFLAGS= LDFLAGS=) >"$TMP/out" 2>"$TMP/err" || RC=$?
}

mkdir -p "$TMP/pc" "$TMP/lib"
cat >"$TMP/pc/libcurl.pc" <<PC
Name: libcurl
Description: Debian 12's own libcurl, without WebSockets
Version: 7.88.1
Libs: -lcurl
Cflags:
PC
run_configure
[ "$RC" -ne 0 ] && grep -q 'libcurl 7.88.1 is too old' "$TMP/err" \
    && grep -q 'install -t bookworm-backports libcurl4-gnutls-dev' "$TMP/err" \
    && grep -q 'scripts/install-deps' "$TMP/err"
ok $? "a libcurl older than 8.14.1 stops configure with how to get a newer one"

# A libcurl new enough by version but built without wss and with another
# TLS backend: a stand-in library answering curl_version_info.
cat >"$TMP/stub.c" <<'C'
#include <curl/curl.h>
static const char *const protos[] = { "http", "https", "ws", NULL };
static curl_version_info_data info = { .protocols = protos, .ssl_version = "OpenSSL/3.0.0" };
curl_version_info_data *curl_version_info(CURLversion v) { (void)v; return &info; }
C
"${CC:-cc}" -shared -fPIC -o "$TMP/lib/libcurl.so" "$TMP/stub.c"
cat >"$TMP/pc/libcurl.pc" <<PC
Name: libcurl
Description: a libcurl without wss
Version: 8.14.1
Libs: -L$TMP/lib -Wl,-rpath,$TMP/lib -lcurl
Cflags:
PC
run_configure
[ "$RC" -ne 0 ] && grep -q 'cannot speak wss:// over GnuTLS' "$TMP/err" \
    && grep -q 'bookworm-backports' "$TMP/err"
ok $? "a libcurl without wss stops configure with how to get one"

done_testing
