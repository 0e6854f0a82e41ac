#!/usr/bin/env bash
# Installs everything the kiosk needs to build, run and test on Debian/Ubuntu,
# and does nothing that is already done. Called by tools/run.sh and tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.32.0
ORT_LIB=".ort/libonnxruntime.so.${ORT_VERSION}"
ORT_SHA256=6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f

# Build tools and the libraries of the camera (V4L, bindgen) and window (X11/GL) stacks,
# plus Xvfb and ImageMagick for the window tests, a Vietnamese-capable font and
# aplay for the welcome sound; GNU time for tools/bench_enrolment.sh; PostgreSQL
# (the shared ledger: the tests start their own throw-away server), Chromium and
# its driver (the dashboard's test), iproute2 (the network-cut test) and
# poppler-utils (pdftoppm, pdftotext: the printed papers' tests); dpkg-dev, lintian,
# cage and systemd (tools/package.sh builds the Debian package, tests/package.rs
# checks it and its units); xdotool (the help-desk test works the real window's
# buttons and keys); libssl-dev (SQLCipher, which encrypts a kiosk's copy of the
# ledger, is built against OpenSSL's libcrypto).
APT_PACKAGES=(
  build-essential pkg-config python3 python3-pip unzip libssl-dev curl
  libclang-dev clang libv4l-dev
  libx11-dev libxcursor-dev libxrandr-dev libxi-dev libxkbcommon-dev libxkbcommon-x11-0
  libgl1-mesa-dev libegl1 libgl1-mesa-dri libwayland-dev
  xvfb x11-utils xdotool imagemagick fonts-noto-core alsa-utils time
  postgresql chromium chromium-driver iproute2 poppler-utils
  dpkg-dev lintian cage systemd
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found. Install a current Rust toolchain (rustup, stable >= 1.88) and run this again." >&2
  exit 1
fi

# ONNX Runtime comes from the onnxruntime wheel on PyPI (the library inside does
# not depend on the Python version); the program finds it in .ort/ by itself.
if [ ! -f "$ORT_LIB" ] || ! echo "$ORT_SHA256  $ORT_LIB" | sha256sum -c --status; then
  echo "setup: fetching ONNX Runtime ${ORT_VERSION} from PyPI"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
    --python-version 3.11 -d "$tmp" "onnxruntime==${ORT_VERSION}"
  mkdir -p .ort
  unzip -q -o -j "$tmp"/onnxruntime-*.whl "onnxruntime/capi/libonnxruntime.so.${ORT_VERSION}" -d .ort
  if ! echo "$ORT_SHA256  $ORT_LIB" | sha256sum -c --status; then
    rm -f "$ORT_LIB"
    echo "setup: the ONNX Runtime library from PyPI does not match the pinned checksum; refusing to use it." >&2
    exit 1
  fi
fi
