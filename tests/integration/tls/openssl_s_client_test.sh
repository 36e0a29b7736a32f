#!/usr/bin/env bash
# OpenSSL's s_client against Lanyard's TLS server (tls_echo_server), on 127.0.0.1 only.
# Checks what a foreign client sees: TLS 1.2, ECDHE-ECDSA with AES-128-GCM, an ECDSA P-256
# self-signed certificate whose SPKI SHA-256 is the identity's fingerprint, ALPN lanyard/1,
# mutual authentication with a pinned client key, session-ticket resumption; and that the
# server refuses TLS 1.3, a missing ALPN, a missing client certificate and an unpinned key.
#
#   openssl_s_client_test.sh PATH/TO/tls_echo_server
# Exit: 0 pass, 1 fail, 77 skipped (no openssl, and tests not required: tests/lib/skip.sh).
set -euo pipefail

server_bin=${1:?usage: $0 PATH/TO/tls_echo_server}
# shellcheck source=../../lib/skip.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/skip.sh"
command -v openssl >/dev/null || lanyard_skip "openssl is not installed (apt-get install openssl)"

work=$(mktemp -d "${TMPDIR:-/tmp}/lanyard-tls-it.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  [ -n "${KEEP_WORK:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

failures=0
pass() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; failures=$((failures + 1)); }
expect() { # expect DESCRIPTION FILE REGEX
  if grep -Eq -- "$3" "$2"; then pass "$1"; else fail "$1 (no /$3/ in $2)"; sed 's/^/    | /' "$2" | head -60; fi
}
reject() { # reject DESCRIPTION FILE REGEX
  if grep -Eq -- "$3" "$2"; then fail "$1 (/$3/ found in $2)"; sed 's/^/    | /' "$2" | head -60; else pass "$1"; fi
}
spki_sha256() { # PEM certificate file -> 64 hex digits
  openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1
}

# The controller: a P-256 key and self-signed certificate made by OpenSSL, pinned by the server.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 365 \
  -subj /CN=openssl-controller -keyout "$work/client.key" -out "$work/client.crt" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 365 \
  -subj /CN=stranger -keyout "$work/stranger.key" -out "$work/stranger.crt" 2>/dev/null
client_fp=$(spki_sha256 "$work/client.crt")

"$server_bin" --dir "$work/identity" --device-id lamp-it --pin "$client_fp" \
  >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do grep -q '^fingerprint ' "$work/server.out" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/^port /{print $2}' "$work/server.out")
server_fp=$(awk '/^fingerprint /{print $2}' "$work/server.out")
[ -n "$port" ] && [ -n "$server_fp" ] || { echo "FAIL - server did not start"; cat "$work/server.log"; exit 1; }
echo "# server on 127.0.0.1:$port, fingerprint $server_fp"

s_client() { # s_client OUTFILE ARGS... (stdin: what to send)
  local out=$1; shift
  timeout 20 openssl s_client -connect "127.0.0.1:$port" -servername lamp-it "$@" >"$out" 2>&1 || true
}

# --- 1. The normal case. ---
s_client "$work/ok.txt" -alpn lanyard/1 -tls1_2 -cert "$work/client.crt" -key "$work/client.key" \
  -showcerts -sess_out "$work/session.pem" \
  -keymatexport EXPORTER-lanyard-pairing -keymatexportlen 32 </dev/null
expect "protocol is TLS 1.2" "$work/ok.txt" '^ *Protocol *: TLSv1\.2$'
expect "cipher is ECDHE-ECDSA-AES128-GCM-SHA256" "$work/ok.txt" 'Cipher is ECDHE-ECDSA-AES128-GCM-SHA256'
expect "ALPN lanyard/1 negotiated" "$work/ok.txt" '^ALPN protocol: lanyard/1$'
expect "server key is 256 bit" "$work/ok.txt" 'Server public key is 256 bit'
expect "server signs with ECDSA" "$work/ok.txt" 'Peer signature type: ECDSA'
expect "certificate is self-signed (verify error 18)" "$work/ok.txt" 'verify error:num=18:self[- ]signed certificate'
expect "server asked for a client certificate" "$work/ok.txt" 'Requested Signature Algorithms|Client Certificate Types'

sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$work/ok.txt" | head -n 200 \
  | awk 'BEGIN{n=0} /BEGIN CERT/{n++} n==1' >"$work/server.crt"
if [ "$(grep -c 'BEGIN CERTIFICATE' "$work/ok.txt")" = 1 ]; then pass "exactly one certificate sent (no chain)"; else fail "exactly one certificate sent"; fi
openssl x509 -in "$work/server.crt" -noout -text >"$work/server-crt.txt"
expect "certificate key is EC" "$work/server-crt.txt" 'Public Key Algorithm: id-ecPublicKey'
expect "certificate curve is P-256" "$work/server-crt.txt" 'NIST CURVE: P-256|ASN1 OID: prime256v1'
expect "certificate signed with ecdsa-with-SHA256" "$work/server-crt.txt" 'Signature Algorithm: ecdsa-with-SHA256'
subject=$(openssl x509 -in "$work/server.crt" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
issuer=$(openssl x509 -in "$work/server.crt" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')
if [ "$subject" = "CN=lamp-it" ] && [ "$issuer" = "$subject" ]; then pass "subject = issuer = CN=lamp-it"; else fail "subject '$subject' issuer '$issuer'"; fi
if openssl verify -partial_chain -CAfile "$work/server.crt" "$work/server.crt" >/dev/null 2>&1 \
   || openssl x509 -in "$work/server.crt" -noout -text | grep -q 'CA:FALSE'; then pass "self-signed end-entity certificate"; else fail "self-signed end-entity certificate"; fi
if [ "$(spki_sha256 "$work/server.crt")" = "$server_fp" ]; then pass "fingerprint = SHA-256(SPKI) as OpenSSL computes it"; else fail "fingerprint mismatch: openssl $(spki_sha256 "$work/server.crt") vs lanyard $server_fp"; fi
expect "server accepted the pinned client key" "$work/server.log" "handshake ok alpn=lanyard/1 .* peer=$client_fp"
# The pairing exporter is RFC 5705's, as OpenSSL computes it (docs/PROTOCOL.md § 10 Binding).
keymat() { sed -n 's/^ *Keying material: *\([0-9A-Fa-f]*\)$/\1/p' "$1" | tr 'A-F' 'a-f'; }
exporters() { sed -n 's/.*handshake ok .* exporter=\([0-9a-f]*\)$/\1/p' "$work/server.log"; }
openssl_keymat=$(keymat "$work/ok.txt")
if [ ${#openssl_keymat} = 64 ] && [ "$(exporters | tail -n 1)" = "$openssl_keymat" ]; then
  pass "the pairing exporter is RFC 5705's (OpenSSL -keymatexport agrees)"
else
  fail "exporter: openssl '$openssl_keymat', lanyard '$(exporters | tail -n 1)'"
fi

# --- 2. Data is echoed over the authenticated channel. ---
printf 'hello-lanyard bye\n' | s_client "$work/echo.txt" -alpn lanyard/1 -tls1_2 \
  -cert "$work/client.crt" -key "$work/client.key" -quiet -ign_eof
expect "echo through the TLS stream" "$work/echo.txt" '^hello-lanyard bye$'

# --- 3. Session ticket resumption (abbreviated handshake). ---
s_client "$work/resume.txt" -alpn lanyard/1 -tls1_2 -cert "$work/client.crt" -key "$work/client.key" \
  -sess_in "$work/session.pem" -keymatexport EXPORTER-lanyard-pairing -keymatexportlen 32 </dev/null
expect "session resumed from the ticket" "$work/resume.txt" '^Reused, TLSv1\.2'
expect "server reports the resumed handshake" "$work/server.log" 'resumed=yes'
resumed_keymat=$(keymat "$work/resume.txt")
if [ ${#resumed_keymat} = 64 ] && [ "$(exporters | tail -n 1)" = "$resumed_keymat" ] &&
   [ "$resumed_keymat" != "$openssl_keymat" ]; then
  pass "a resumed connection has its own exporter, as OpenSSL computes it"
else
  fail "resumed exporter: openssl '$resumed_keymat', lanyard '$(exporters | tail -n 1)'"
fi

# --- 3b. The second allowed suite. ---
s_client "$work/chacha.txt" -alpn lanyard/1 -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305 \
  -cert "$work/client.crt" -key "$work/client.key" </dev/null
expect "ChaCha20-Poly1305 suite accepted" "$work/chacha.txt" 'Cipher is ECDHE-ECDSA-CHACHA20-POLY1305'

# --- 4. Refusals. ---
s_client "$work/p384.txt" -alpn lanyard/1 -tls1_2 -curves P-384 \
  -cert "$work/client.crt" -key "$work/client.key" </dev/null
reject "key exchange on a curve other than P-256 is refused" "$work/p384.txt" 'Cipher is ECDHE'
expect "p384: server answered handshake_failure" "$work/p384.txt" 'alert number 40|alert handshake failure'
s_client "$work/cbc.txt" -alpn lanyard/1 -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256 \
  -cert "$work/client.crt" -key "$work/client.key" </dev/null
reject "CBC suites are refused" "$work/cbc.txt" 'Cipher is ECDHE-ECDSA-AES128-SHA256'
expect "cbc: server answered handshake_failure" "$work/cbc.txt" 'alert number 40|alert handshake failure'

s_client "$work/tls13.txt" -alpn lanyard/1 -tls1_3 -cert "$work/client.crt" -key "$work/client.key" </dev/null
reject "TLS 1.3 is refused" "$work/tls13.txt" 'Protocol *: TLSv1\.3'
reject "TLS 1.3 is refused (no cipher)" "$work/tls13.txt" 'Cipher is TLS_'
expect "tls13: server answered handshake_failure" "$work/tls13.txt" 'alert number 40|alert handshake failure'

s_client "$work/noalpn.txt" -tls1_2 -cert "$work/client.crt" -key "$work/client.key" </dev/null
expect "missing ALPN is refused by the server" "$work/server.log" 'does not speak ALPN'
s_client "$work/otheralpn.txt" -alpn h2 -tls1_2 -cert "$work/client.crt" -key "$work/client.key" </dev/null
expect "foreign ALPN is refused with no_application_protocol" "$work/otheralpn.txt" 'no application protocol|alert number 120'

s_client "$work/nocert.txt" -alpn lanyard/1 -tls1_2 </dev/null
expect "missing client certificate is refused" "$work/server.log" 'presented no certificate'

s_client "$work/stranger.txt" -alpn lanyard/1 -tls1_2 -cert "$work/stranger.crt" -key "$work/stranger.key" </dev/null
expect "unpinned client key is refused by the verifier" "$work/server.log" 'handshake failed: Permission denied \[generic:13\]'
reject "unpinned client completes no handshake" "$work/stranger.txt" 'Verify return code: 0|^Reused'

s_client "$work/rsa.txt" -alpn lanyard/1 -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 \
  -cert "$work/client.crt" -key "$work/client.key" </dev/null
reject "non-ECDSA cipher suites are refused" "$work/rsa.txt" 'Cipher is ECDHE-RSA'
expect "rsa: server answered handshake_failure" "$work/rsa.txt" 'alert number 40|alert handshake failure'

echo "# server log:"; sed 's/^/#   /' "$work/server.log"
if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
