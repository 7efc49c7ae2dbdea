#!/bin/sh
# make-certs.sh DIR -- the TLS fixtures of the WSS tests, made with GnuTLS'
# certtool (ECDSA P-256, so it takes well under a second):
#
#   ca.pem, ca-key.pem                  a test CA
#   server.pem, server-key.pem          signed by it for DNS localhost, IP 127.0.0.1
#   wrong-host.pem, wrong-host-key.pem  signed by it, but for other.invalid only
#   expired.pem, expired-key.pem        signed by it for localhost, expired in 2020
#   other-ca.pem, other-ca-key.pem      an unrelated CA (trusting it = unknown authority)
#
# Idempotent: when every file is already there, nothing is done.
set -eu

dir=${1:?usage: make-certs.sh DIR}
files="ca.pem ca-key.pem server.pem server-key.pem wrong-host.pem wrong-host-key.pem
       expired.pem expired-key.pem other-ca.pem other-ca-key.pem"

mkdir -p "$dir"
missing=
for f in $files; do
    [ -s "$dir/$f" ] || missing=1
done
[ -z "$missing" ] && exit 0

command -v certtool >/dev/null 2>&1 || {
    echo "make-certs.sh: certtool not found (apt-get install gnutls-bin)" >&2
    exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/pt-certs.XXXXXX")
trap 'rm -rf "$work"' EXIT

key() { # key FILE
    certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --no-text \
        --outfile "$1" 2>/dev/null
}

# ca NAME "CN": a self-signed CA.
ca() {
    key "$work/$1-key.pem"
    cat >"$work/$1.tmpl" <<EOF
cn = "$2"
organization = "Pilot transport tests"
serial = 1
expiration_days = 3650
ca
cert_signing_key
crl_signing_key
EOF
    certtool --generate-self-signed --load-privkey "$work/$1-key.pem" \
        --template "$work/$1.tmpl" --outfile "$work/$1.pem" --no-text 2>/dev/null
}

# leaf NAME SERIAL TEMPLATE-LINES: a server certificate signed by ca.pem.
leaf() {
    key "$work/$1-key.pem"
    printf '%s\nserial = %s\ntls_www_server\nsigning_key\n' "$3" "$2" >"$work/$1.tmpl"
    certtool --generate-certificate --load-privkey "$work/$1-key.pem" \
        --load-ca-certificate "$work/ca.pem" --load-ca-privkey "$work/ca-key.pem" \
        --template "$work/$1.tmpl" --outfile "$work/$1.pem" --no-text 2>/dev/null
}

ca ca "Pilot test CA"
ca other-ca "Unrelated test CA"
leaf server 2 'cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
expiration_days = 3650'
leaf wrong-host 3 'cn = "other.invalid"
dns_name = "other.invalid"
expiration_days = 3650'
leaf expired 4 'cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
activation_date = "2019-01-01 00:00:00"
expiration_date = "2020-01-01 00:00:00"'

chmod 600 "$work"/*-key.pem
for f in $files; do
    mv -f "$work/$f" "$dir/$f"
done
