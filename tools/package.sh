#!/usr/bin/env bash
# Builds the Debian package target/debian/kiosk_VERSION_amd64.deb: the kiosk,
# its models, ONNX Runtime, assets, settings in /etc/kiosk (a conffile) and
# the systemd units of tools/debian/. Installing it needs no Rust toolchain.
# Usage: tools/package.sh   (prints the package's path)
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_DEB_VERSION=3.8.0
tools/setup.sh
if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  echo "package: installing cargo-deb $CARGO_DEB_VERSION from crates.io" >&2
  cargo install --quiet --locked cargo-deb --version "$CARGO_DEB_VERSION"
fi
cargo build --release --quiet --bin kiosk
# The installed settings: the shipped ones, with the data in /var/lib/kiosk
# and the congress's clocks in Vietnam (change time_zone for elsewhere).
mkdir -p target/package
sed -e 's|^database = "kiosk.db"|database = "/var/lib/kiosk/kiosk.db"|' \
    -e 's|^time_zone = ""|time_zone = "Asia/Ho_Chi_Minh"|' \
    kiosk-config/default.toml > target/package/kiosk.toml
grep -q '^database = "/var/lib/kiosk/kiosk.db"' target/package/kiosk.toml
grep -q '^time_zone = "Asia/Ho_Chi_Minh"' target/package/kiosk.toml
cargo deb --no-build --strip --quiet
ls target/debian/kiosk_*_amd64.deb
