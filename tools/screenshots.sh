#!/usr/bin/env bash
# Plays a frame folder in the real kiosk window under Xvfb and saves a
# screenshot of the whole screen every half second, to look at the screens.
# usage: tools/screenshots.sh DB FRAMES_DIR OUT_DIR [more `kiosk run` arguments]
set -euo pipefail
db=$1 frames=$2 out=$3
shift 3
cd "$(dirname "$0")/.."
mkdir -p "$out"
display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1280x800x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null' EXIT
sleep 1
DISPLAY=$display LIBGL_ALWAYS_SOFTWARE=1 target/release/kiosk run --db "$db" --frames "$frames" --once "$@" &
kiosk=$!
n=0
while kill -0 $kiosk 2>/dev/null; do
  DISPLAY=$display import -window root "$out/$(printf %03d $n).png" 2>/dev/null || true
  n=$((n + 1))
  sleep 0.5
done
wait $kiosk
