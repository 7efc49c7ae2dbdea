# PT_CHECK_LIBCURL_WSS
# Find libcurl with pkg-config and make sure it can speak wss:// over GnuTLS:
# version >= 8.14.1 (the WebSocket API the WSS plugin is written against),
# "wss" among its protocols and GnuTLS as its TLS backend.  Stops with a
# message that says how to get such a libcurl when it is missing.
# Sets CURL_CFLAGS, CURL_LIBS, pt_curl_version and pt_curl_ssl.
AC_DEFUN([PT_CHECK_LIBCURL_WSS], [
  m4_define([pt_curl_fix], [On Debian 12 (bookworm) the archive's libcurl 7.88 has no WebSocket support.
Enable bookworm-backports and install libcurl4-gnutls-dev from it:
    sudo scripts/install-deps
or by hand: add the line 'deb MIRROR bookworm-backports main' (MIRROR: your Debian mirror) to
/etc/apt/sources.list.d/, then
    apt-get update && apt-get install -t bookworm-backports libcurl4-gnutls-dev
Elsewhere: build libcurl >= 8.14.1 with --with-gnutls (WebSockets are on by
default since 8.11) and point PKG_CONFIG_PATH at it.])
  PKG_CHECK_MODULES([CURL], [libcurl], [],
    [AC_MSG_ERROR([libcurl not found: $CURL_PKG_ERRORS
pt_curl_fix])])
  pt_curl_version=`$PKG_CONFIG --modversion libcurl`
  PKG_CHECK_EXISTS([libcurl >= 8.14.1], [],
    [AC_MSG_ERROR([libcurl $pt_curl_version is too old: the WSS plugin needs libcurl >= 8.14.1 with wss:// support.
pt_curl_fix])])
  AC_CACHE_CHECK([whether libcurl supports wss:// over GnuTLS], [pt_cv_curl_wss], [
    pt_save_CFLAGS=$CFLAGS
    pt_save_LIBS=$LIBS
    CFLAGS="$CFLAGS $CURL_CFLAGS"
    LIBS="$CURL_LIBS $LIBS"
    AC_RUN_IFELSE([AC_LANG_PROGRAM([[
#include <curl/curl.h>
#include <string.h>
]], [[
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  int wss = 0;
  for (const char *const *p = v->protocols; p && *p; p++)
    if (!strcmp(*p, "wss")) wss = 1;
  if (!wss) return 1;
  if (!v->ssl_version || !strstr(v->ssl_version, "GnuTLS")) return 2;
  return 0;
]])],
      [pt_cv_curl_wss=yes],
      [pt_cv_curl_wss=no],
      [dnl Cross-compiling: trust the .pc file's protocol list.
       AS_CASE([" `$PKG_CONFIG --variable=supported_protocols libcurl` "],
         [*" WSS "*], [pt_cv_curl_wss=yes], [pt_cv_curl_wss=no])])
    CFLAGS=$pt_save_CFLAGS
    LIBS=$pt_save_LIBS])
  AS_IF([test "x$pt_cv_curl_wss" != xyes],
    [AC_MSG_ERROR([the libcurl found ($pt_curl_version, $CURL_LIBS) cannot speak wss:// over GnuTLS.
pt_curl_fix])])
  pt_curl_ssl=GnuTLS
])
