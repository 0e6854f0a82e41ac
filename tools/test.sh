#!/usr/bin/env bash
# Sets the machine up (once) and runs the whole test suite on the real models
# and, where ../shared/faces (or $KIOSK_FACES) exists, on real face photos.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cargo test --release "$@"
