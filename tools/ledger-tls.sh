#!/usr/bin/env bash
# Makes what a congress's ledger needs for TLS: a certificate authority of
# the congress's own, and a certificate for the ledger's PostgreSQL server
# signed by it. Prints the postgresql.conf and pg_hba.conf lines, and the
# ledger address the kiosks use.
# usage: tools/ledger-tls.sh HOST [OUT_DIR]
#   HOST: the name (or IP address) the kiosks use to reach the ledger.
set -euo pipefail
host=${1:?usage: tools/ledger-tls.sh HOST [OUT_DIR]}
out=${2:-ledger-tls}
mkdir -p "$out"
umask 077
cd "$out"
if [[ $host =~ ^[0-9.]+$ ]]; then san="IP:$host"; else san="DNS:$host"; fi
if [ ! -f ca.key ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days 825 -subj "/CN=Congress ledger CA" \
    -keyout ca.key -out ca.pem 2>/dev/null
fi
openssl req -newkey rsa:3072 -nodes -subj "/CN=$host" -keyout server.key -out server.csr 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
  -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san") -out server.crt 2>/dev/null
rm -f server.csr
dir=$(pwd)
cat <<TEXT
Made in $dir:
  ca.pem       the congress's CA certificate: copy it to every kiosk PC as /etc/kiosk/ca.pem
  ca.key       the CA's key: keep it with the organisers, never on a kiosk
  server.crt   the ledger's certificate (for $host), and server.key its key:
               copy both to the PostgreSQL server (owned by postgres, mode 600)

postgresql.conf:
  ssl = on
  ssl_cert_file = '/etc/postgresql/ssl/server.crt'
  ssl_key_file = '/etc/postgresql/ssl/server.key'
  ssl_min_protocol_version = 'TLSv1.2'

pg_hba.conf (encrypted links only, from the hall's network; put it above any "host" line):
  hostssl  congress  kiosk  10.0.0.0/8  scram-sha-256
  hostnossl all      all    0.0.0.0/0   reject

the ledger's address on every kiosk ([ledger] url in /etc/kiosk/kiosk.toml):
  postgresql://kiosk@$host:5432/congress?sslmode=verify-full&sslrootcert=/etc/kiosk/ca.pem
and its password in /etc/kiosk/ledger.password (mode 600, owned by kiosk):
  [ledger] password_file = "/etc/kiosk/ledger.password"
TEXT
