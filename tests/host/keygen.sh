#!/bin/bash
# keygen writes identity files as SPEC §4 says; hosts load them and refuse
# insecure ones.
. "$(dirname "$0")/lib.sh"

id=$TMP/id.json
host keygen -identity "$id"; check 0 '^public_key [A-Za-z0-9+/]{43}=$'
ok $? "keygen prints the public key"
pub=${OUT#public_key }

[ "$(stat -c %a "$id")" = 600 ]
ok $? "identity file has mode 0600"

grep -q "\"public_key\":\"$pub\"" "$id" && grep -Eq '"private_key":"[A-Za-z0-9+/]{86}=="' "$id"
ok $? "file holds the printed public key and a 64-byte private key"

priv=$(sed 's/.*"private_key":"\([^"]*\)".*/\1/' "$id")
! grep -qF "$priv" "$TMP/out" "$TMP/err"
ok $? "the private key is not printed"

before=$(cat "$id")
host keygen -identity "$id"; check 1 'already exists; refusing to overwrite' err && [ "$(cat "$id")" = "$before" ]
ok $? "keygen never replaces an identity without -force"

host keygen -identity "$id" -force; check 0 '^public_key ' && [ "$(cat "$id")" != "$before" ] && [ "$(stat -c %a "$id")" = 600 ]
ok $? "keygen -force replaces it"

[ -z "$(find "$TMP" -name '.*' ! -name . | head -1)" ]
ok $? "no temporary files left behind"

host keygen; check 2 '-identity FILE is required' err
ok $? "keygen without -identity is a usage error"

host keygen -identity "$TMP/no/such/dir/id.json"; check 1 "$TMP/no/such/dir" err
ok $? "keygen into a missing directory fails clearly"

host probe -transport=udp -bind=127.0.0.1:0 -identity "$id" -node-id=7; check 0 '^OK '
ok $? "a host loads a good identity file"

chmod 644 "$id"
host probe -transport=udp -identity "$id"; check 1 "chmod 600 $id" err && grep -q 'readable by group or others' "$TMP/err"
ok $? "a world-readable identity is refused with the fix"

chmod 640 "$id"
host probe -transport=udp -identity "$id"; check 1 "chmod 600" err
ok $? "a group-readable identity is refused"

host probe -transport=udp -identity "$TMP/missing.json"; check 1 "$TMP/missing.json" err
ok $? "a missing identity file is named"

printf '{"private_key":"AAAA","public_key":"AAAA"}' >"$TMP/bad.json"; chmod 600 "$TMP/bad.json"
host probe -transport=udp -identity "$TMP/bad.json"; check 1 'private' err && ! grep -q AAAA "$TMP/err"
ok $? "a malformed identity is refused without echoing its contents"

done_testing
