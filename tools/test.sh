#!/usr/bin/env bash
# Sets the machine up (once) and runs the whole test suite on the real models
# and, where ../shared/faces (or $KIOSK_FACES) exists, on real face photos.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
faces="${KIOSK_FACES:-../shared/faces}"
if [ ! -d "$faces/dev/gallery" ]; then
  echo "NOTE: no real face photos at $faces (set KIOSK_FACES): the tests that need them will say SKIPPED and pass." >&2
fi
# The package's own tests (tests/package.rs) check what this builds.
tools/package.sh >/dev/null
cargo test --release "$@"
