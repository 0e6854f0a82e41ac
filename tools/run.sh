#!/usr/bin/env bash
# Sets the machine up (once) and runs the kiosk with the given arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cargo build --release --quiet
exec target/release/kiosk "$@"
