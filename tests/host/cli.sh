#!/bin/bash
# The reference host's command line: usage, flags, -transport validation,
# plugin options and the plugins listing.
. "$(dirname "$0")/lib.sh"

# The ABI version the host and plugins report is the header's, not a copy.
abi_h="$(dirname "$0")/../../abi/pilot_transport.h"
ABI=$(sed -n 's/^#define PT_ABI_MAJOR \([0-9]*\)$/\1/p' "$abi_h").$(sed -n 's/^#define PT_ABI_MINOR \([0-9]*\)$/\1/p' "$abi_h")
[[ $ABI =~ ^[0-9]+\.[0-9]+$ ]] || { echo "Bail out! cannot read the ABI version from $abi_h"; exit 99; }
ABI_RE=${ABI//./\\.}

host; check 2 'usage: pilot-transport COMMAND' err
ok $? "no command prints usage on stderr and exits 2"

host -h; check 0 'echo-bench +measure throughput'
ok $? "-h lists the commands"

host --version; check 0 '^pilot-transport [0-9.]+ \(transport ABI '"$ABI_RE"'\)$'
ok $? "--version prints the package and ABI versions"

host frobnicate; check 2 'unknown command "frobnicate"' err
ok $? "unknown command exits 2"

host probe -h; check 0 '-transport MODE' && grep -q -- '-opt KEY=VALUE' "$TMP/out" && grep -q -- '-compat-beacon URL' "$TMP/out"
ok $? "probe -h documents the shared flags"

host probe -nosuch=1; check 2 'flag provided but not defined: -nosuch' err
ok $? "unknown flag is named"

host probe -transport=udp -bind 127.0.0.1:0; check 0 '^OK transport=udp plugin=[0-9.]+ local=127\.0\.0\.1:[1-9][0-9]* dial_ms=[0-9.]+$'
ok $? "probe prints one line with the local address and dial time"

host probe --transport UDP --bind=127.0.0.1:0; check 0 '^OK transport=udp '
ok $? "--flag spelling and case-insensitive mode"

host probe -transport=foo; check 2 'invalid -transport "foo": .*pilot-transport-foo\.so not found in .*; valid: udp' err
ok $? "invalid -transport is fatal and lists the valid ones"

host probe -transport=../udp; check 2 'invalid -transport "\.\./udp"' err
ok $? "a mode that is a path is refused"

PILOT_TRANSPORT=udp host probe -bind=127.0.0.1:0; check 0 '^OK transport=udp '
ok $? "PILOT_TRANSPORT selects the transport"

PILOT_TRANSPORT=nope host probe; check 2 'invalid -transport "nope"' err
ok $? "an invalid PILOT_TRANSPORT is fatal too"

PILOT_TRANSPORT=nope host probe -transport=udp -bind=127.0.0.1:0; check 0 '^OK transport=udp '
ok $? "-transport overrides PILOT_TRANSPORT"

host probe -transport=udp -opt url=wss://x/; check 1 'unknown option "url"' err
ok $? "an option the plugin does not know fails the dial, naming the key"

host probe -transport=udp -compat-beacon=wss://x/; check 1 'unknown option "url"' err
ok $? "WSS shorthands reach the plugin as options"

host probe -transport=udp -opt bind=127.0.0.1:0 -bind=127.0.0.1:0; check 1 '"bind" given twice' err
ok $? "an option given by -opt and a shorthand is refused"

host probe -transport=udp -opt novalue; check 2 'invalid -opt "novalue": want KEY=VALUE' err
ok $? "-opt without = is a usage error"

host probe -transport=udp -bind=nonsense; check 1 'option "bind"' err
ok $? "bad bind address is a clear error"

host probe -transport=udp -node-id=4294967296; check 2 'from 0 to 4294967295' err
ok $? "node id out of range"

host probe -transport=udp -log-level=loud; check 2 'invalid -log-level "loud"' err
ok $? "invalid -log-level"

host probe -transport=udp -bind=127.0.0.1:0 -log-level=info; check 0 '' && grep -q 'info: udp: bound to 127.0.0.1:' "$TMP/err"
ok $? "-log-level=info shows the plugin's log lines"

host plugins; check 0 '^udp +ABI '"$ABI_RE"' +version [0-9.]+ +.*/pilot-transport-udp\.so$'
ok $? "plugins lists the UDP plugin with its versions"

host plugins -v; check 0 '-opt bind=HOST:PORT .*default 0\.0\.0\.0:0'
ok $? "plugins -v shows each plugin's options"

host plugins -transport-dir "$PT_TEST_PLUGINS"; check 1 '^badmajor +BROKEN .*major versions differ' && grep -Eq '^newer +ABI 1\.9' "$TMP/out"
ok $? "plugins reports broken plugins and exits 1"

host probe -transport=nullfn -transport-dir "$PT_TEST_PLUGINS"; check 1 'mandatory function send\(\) missing' err
ok $? "a broken plugin is reported, not silently skipped"

# Nothing in any of the three places: the environment's, and the tests'
# stand-in for the installed directory.
PILOT_TRANSPORT_DIR=$TMP PT_TEST_INSTALLED_DIR=$TMP host plugins; check 1 'no plugins found' err
ok $? "no plugins found is an error"

done_testing
