#!/bin/bash
# Every exported symbol is deliberate: each plugin exports only its entry
# point, the loader library only its pt_ API.
. "$(dirname "$0")/host/lib.sh"

dynsyms() { ${NM:-nm} -D --defined-only "$1" | awk '$2 ~ /^[A-Z]$/ {print $3}' | sort; }

for so in "$PILOT_TRANSPORT_DIR"/pilot-transport-*.so; do
    syms=$(dynsyms "$so")
    [ "$syms" = "pilot_transport_plugin_v1" ]
    ok $? "$(basename "$so") exports only pilot_transport_plugin_v1 (got: $(echo $syms))"
done

lib=$PT_BUILDDIR/abi/.libs/libpilot-transport.so
syms=$(dynsyms "$lib")
expected=$(printf '%s\n' pt_addr_format pt_loader_canonical_mode pt_loader_default_dir \
    pt_loader_list pt_loader_open pt_loader_select pt_strerror | sort)
[ "$syms" = "$expected" ]
ok $? "libpilot-transport exports exactly the loader API (got: $(echo $syms))"

# Hardened builds: full RELRO, position independence, the stack protector
# and (in optimised builds) _FORTIFY_SOURCE's checked functions.  The host
# checked is the one that gets installed (PT_HOST is the tests' build).
for f in "$PILOT_TRANSPORT_DIR"/pilot-transport-*.so "$PT_BUILDDIR/abi/pilot-transport" \
    "$PT_BUILDDIR/abi/pilot-transport-conformance" "$PT_BEACON"; do
    readelf -d "$f" | grep -q 'BIND_NOW\|FLAGS.*NOW' && readelf -l "$f" | grep -q GNU_RELRO
    ok $? "$(basename "$f") is linked with RELRO and BIND_NOW"
    readelf -h "$f" | grep -q 'Type:.*DYN'
    ok $? "$(basename "$f") is position independent"
    ${NM:-nm} -D "$f" | grep -q ' U __stack_chk_fail'
    ok $? "$(basename "$f") is built with the stack protector"
    if grep -q -- '-D_FORTIFY_SOURCE' "$PT_BUILDDIR/Makefile"; then
        ${NM:-nm} -D "$f" | grep -q ' U __.*_chk'
        ok $? "$(basename "$f") uses _FORTIFY_SOURCE's checked functions"
    fi
done

done_testing
