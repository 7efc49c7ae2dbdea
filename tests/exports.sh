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
    pt_loader_list pt_loader_open pt_strerror | sort)
[ "$syms" = "$expected" ]
ok $? "libpilot-transport exports exactly the loader API (got: $(echo $syms))"

# Hardened linking: full RELRO on plugins and the host.
for f in "$PILOT_TRANSPORT_DIR"/pilot-transport-*.so "$PT_HOST"; do
    readelf -d "$f" | grep -q 'BIND_NOW\|FLAGS.*NOW' && readelf -l "$f" | grep -q GNU_RELRO
    ok $? "$(basename "$f") is linked with RELRO and BIND_NOW"
done

done_testing
