#!/usr/bin/env bash
# Measures the shared ledger on a throw-away PostgreSQL server on loopback:
#   tools/bench_ledger.sh [ROSTER] [KIOSKS] [tls]   (default 85000 delegates, 10 kiosks)
# With "tls", the server takes TLS only (certificates by tools/ledger-tls.sh)
# and the kiosks connect with sslmode=verify-full.
# Needs PostgreSQL 15 (tools/setup.sh installs it) and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
roster="${1:-85000}"
kiosks="${2:-10}"
tls="${3:-}"
bin=/usr/lib/postgresql/15/bin
dir=$(mktemp -d /tmp/kiosk-bench-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -A trust -U kiosk -E UTF8 --locale C >/dev/null
url="postgresql://kiosk@127.0.0.1:$port/postgres"
if [ "$tls" = tls ]; then
  tools/ledger-tls.sh 127.0.0.1 "$dir/certs" >/dev/null
  cp "$dir/certs/server.crt" "$dir/certs/server.key" "$dir/data/"
  [ ${#as_pg[@]} -eq 0 ] || chown postgres "$dir/data/server.crt" "$dir/data/server.key"
  printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n" >>"$dir/data/postgresql.conf"
  printf "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n" >"$dir/data/pg_hba.conf"
  url="$url?sslmode=verify-full&sslrootcert=$dir/certs/ca.pem"
fi
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
trap '"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null; rm -rf "$dir"' EXIT
cargo build --release -q
target/release/kiosk bench --ledger "$url" --roster "$roster" --kiosks "$kiosks"
