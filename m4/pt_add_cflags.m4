# PT_ADD_CFLAGS(VARIABLE, FLAGS)
# Append to VARIABLE each flag of FLAGS that the C compiler accepts
# (with -Werror, so that flags it only warns about are left out).
AC_DEFUN([PT_ADD_CFLAGS], [
  for pt_flag in m4_normalize([$2]); do
    AS_VAR_PUSHDEF([pt_cache], [pt_cv_cflag_$pt_flag])
    AC_CACHE_CHECK([whether $CC accepts $pt_flag], [pt_cache], [
      pt_save_CFLAGS=$CFLAGS
      CFLAGS="$CFLAGS -Werror $pt_flag"
      AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
        [AS_VAR_SET([pt_cache], [yes])], [AS_VAR_SET([pt_cache], [no])])
      CFLAGS=$pt_save_CFLAGS])
    AS_VAR_IF([pt_cache], [yes], [$1="$$1 $pt_flag"])
    AS_VAR_POPDEF([pt_cache])
  done
])
