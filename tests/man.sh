#!/bin/bash
# The manuals as make install puts them: every page renders without a
# warning, every .so page reaches the page it names, cross-references to
# this project's pages resolve, the ABI pages name everything the headers
# declare, and each plugin's section-7 page lists exactly the options (with
# their syntax and defaults) that the plugin's descriptor documents, so that
# no page can go stale silently.
. "$(dirname "$0")/host/lib.sh"

SRCDIR=${PT_SRCDIR:-$(dirname "$0")/..}
dest=$TMP/dest

if ! command -v groff >/dev/null 2>&1; then
    echo "not ok 1 - groff is installed (apt-get install groff-base, or scripts/install-deps)"
    echo "1..1"
    exit 1
fi

# ---- installed where make install puts them -------------------------------

install_build "$dest"
ok $? "make install DESTDIR=... succeeds"

# The installed manual directory: where pilot-transport.1 went.
page1=$(find "$dest" -path '*/man1/pilot-transport.1' -print -quit)
mandir=${page1%/man1/pilot-transport.1}
missing=
for src in "$SRCDIR"/man/*.[1-8]; do
    name=${src##*/}
    [ -f "$mandir/man${name##*.}/$name" ] || missing="$missing $name"
done
[ -n "$page1" ] && [ -z "$missing" ]
ok $? "every page in man/ is installed (${mandir:-no manual directory}${missing:+; missing:$missing})"

# ---- rendering -------------------------------------------------------------

# so_target PAGE: the page a ".so" page names (empty for an ordinary page).
so_target() {
    local first
    read -r first <"$1"
    case $first in .so\ *) echo "${first#.so }" ;; esac
}

for page in "$mandir"/man*/*; do
    rel=${page#"$mandir"/}
    [ -n "$(so_target "$page")" ] && continue
    rc=0
    groff -ww -man -z "$page" >"$TMP/groff.err" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] && [ ! -s "$TMP/groff.err" ]
    ok $? "$rel renders with no warning (groff -ww -man)"
    sed 's/^/#   /' "$TMP/groff.err"
done

# A .so page resolves from the top of the manual tree, as man(1) reads it;
# the page it reaches must list the linked name in its NAME section.
for page in "$mandir"/man*/*; do
    rel=${page#"$mandir"/}
    target=$(so_target "$page")
    [ -n "$target" ] || continue
    name=${rel##*/}
    name=${name%.*}
    rc=0
    (cd "$mandir" && groff -ww -man -z "$rel") >"$TMP/groff.err" 2>&1 || rc=$?
    [ -f "$mandir/$target" ] && [ "$rc" -eq 0 ] && [ ! -s "$TMP/groff.err" ] &&
        sed -n '/^\.SH NAME/,/^\.SH/p' "$mandir/$target" | grep -qw -- "$name"
    ok $? "$rel is a link to $target, which exists and names $name"
    sed 's/^/#   /' "$TMP/groff.err"
done

# Every reference to one of this project's pages (pilot..., pt_...) names an
# installed page.
bad=
refs=$(cat "$mandir"/man*/* | grep -ohE '^\.BR (pilot[a-z_-]*|pt_[a-z_]+) \([1-8]\)' |
    sed 's/^\.BR //; s/ (/./; s/)$//' | sort -u)
for r in $refs; do
    [ -f "$mandir/man${r##*.}/$r" ] || bad="$bad ${r%.*}(${r##*.})"
done
[ -n "$refs" ] && [ -z "$bad" ]
ok $? "cross-references to this project's pages resolve${bad:+ (missing:$bad)}"

# ---- the ABI pages cover the headers -----------------------------------------

# names HEADER: every PT_... and pt_... name and every function slot the
# header declares, comments left out; helpers ending in "_" are internal.
names() {
    perl -0777 -pe 's{/\*.*?\*/}{}gs' "$1" |
        grep -oE '\b(PT|pt)_[A-Za-z0-9_]*[A-Za-z0-9]\b|\(\*[a-z_]+\)' |
        sed 's/^(\*//; s/)$//' | sort -u
}

# covers PAGE HEADER: every name of HEADER appears in PAGE.
covers() {
    local n absent=
    for n in $(names "$SRCDIR/abi/$2"); do
        grep -q -- "$n" "$mandir/man3/$1" || absent="$absent $n"
    done
    [ -z "$absent" ] || echo "#   not in $1:$absent"
    [ -z "$absent" ]
}
covers pilot_transport.3 pilot_transport.h
ok $? "pilot_transport(3) names every type, constant, code and slot of pilot_transport.h"
covers pt_loader_open.3 pilot_transport_loader.h
ok $? "pt_loader_open(3) names everything pilot_transport_loader.h declares"

# ---- each plugin's page lists its options -------------------------------------

# page_options PAGE: "KEY=SYNTAX DEFAULT" for each entry of the page's
# OPTIONS section ("-" when it gives no default).  An entry is a .TP whose
# tag is KEY=SYNTAX and whose text says "Default: \fBVALUE\fR.".
page_options() {
    awk '
        function flush() { if (tag != "") print tag, (def == "" ? "-" : def); tag = ""; def = "" }
        /^\.SH / { flush(); inside = ($2 == "OPTIONS"); next }
        !inside { next }
        /^\.TP/ { flush(); want = 1; next }
        want {
            want = 0
            t = $0
            sub(/^\.[A-Z]+ +/, "", t)
            gsub(/\\f[BIRP]|"| /, "", t)
            gsub(/\\-/, "-", t)
            tag = t
            next
        }
        /^\.(PP|SH)/ { flush(); next }
        /^Default: / {
            d = $0
            sub(/^Default: /, "", d)
            gsub(/\\f[BIRP]/, "", d)
            sub(/\.$/, "", d)
            def = d
        }
        END { flush() }
    ' "$1" | sort
}

# plugin_options MODE: the same from "pilot-transport plugins -v".
plugin_options() {
    awk -v mode="$1" '
        /^[^ ]/ { cur = $1; next }
        cur == mode && $1 == "-opt" {
            def = "-"
            if (match($0, / \(default [^()]*\)$/))
                def = substr($0, RSTART + 10, RLENGTH - 11)
            print $2, def
        }
    ' "$TMP/out" | sort
}

host plugins -v
check 0
ok $? "pilot-transport plugins -v lists the plugins"

for mode in udp wss; do
    page=$mandir/man7/pilot-transport-$mode.7
    page_options "$page" >"$TMP/page.opts"
    plugin_options "$mode" >"$TMP/plugin.opts"
    [ -s "$TMP/plugin.opts" ] && cmp -s "$TMP/page.opts" "$TMP/plugin.opts"
    ok $? "pilot-transport-$mode(7) lists the options the $mode plugin documents, with their syntax and defaults"
    diff "$TMP/page.opts" "$TMP/plugin.opts" | sed -n 's/^</#   only the page:/p; s/^>/#   only the plugin:/p'
done
unset OUT

done_testing
