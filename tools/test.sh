#!/usr/bin/env bash
# Sets the machine up (once) and runs the whole test suite on the real models
# and, where ../shared/faces (or $KIOSK_FACES) exists, on real face photos.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
faces="${KIOSK_FACES:-../shared/faces}"
pad="${KIOSK_PAD:-../shared/pad/dev}"
for need in "$faces/dev/gallery" "$pad/manifest.csv"; do
  if [ ! -e "$need" ]; then
    # In CI the test data is always there: a face test skipped there is not a pass.
    if [ "${CI:-}" = true ]; then
      echo "ERROR: CI=true and $need is missing: the face and liveness tests cannot run (set KIOSK_FACES / KIOSK_PAD)." >&2
      exit 1
    fi
    echo "NOTE: $need is missing (set KIOSK_FACES / KIOSK_PAD): the tests that need it will say SKIPPED and pass." >&2
  fi
done
# The package's own tests (tests/package.rs) check what this builds.
tools/package.sh >/dev/null
cargo test --release "$@"
