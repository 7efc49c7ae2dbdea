#!/bin/bash
# torture.sh -- run tests/torture/torture with the allocation-failure shim
# preloaded (alloc-fail.c), under $PT_RUN when set (valgrind).
#
# The shim forwards to the next allocator with dlsym(RTLD_NEXT): glibc's,
# valgrind's (which replaces glibc's) or ASan's.  ASan insists on coming
# first in the initial library list; the shim must come before it to see
# every allocation, so that check is turned off here.
shim="$PT_BUILDDIR/tests/torture/.libs/alloc-fail.so"
prog="$PT_BUILDDIR/tests/torture/torture"
if [ ! -f "$shim" ] || [ ! -x "$prog" ]; then
    echo "1..0 # SKIP $shim or $prog not built"
    exit 0
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}"
# $PT_RUN is a command line (valgrind and its options): split it.
exec $PT_RUN "$prog" "$@"
