#!/usr/bin/env bash
# Whole-process speed against the Python face_recognition package, side by
# side in one run: N photos (default 200) of ../shared/faces/dev (or
# $KIOSK_FACES/dev) embedded by `kiosk embed` and by face_recognition
# (detect + 128-D encoding of every face), each process timed from start to
# exit, the two alternated three times; the median of each is compared.
# face_recognition goes into a throw-away virtualenv from PyPI (dlib-bin: a
# built dlib, so nothing is compiled).
# Usage: tools/bench_peer.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-200}"
faces="${KIOSK_FACES:-../shared/faces}/dev"
if [ ! -d "$faces" ]; then
  echo "no face photos at $faces: set KIOSK_FACES to the folder that holds dev/" >&2
  exit 1
fi
tools/setup.sh
cargo build --release --quiet
work="$(mktemp -d /tmp/kiosk-peer.XXXXXX)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q dlib-bin==20.0.1.post1 face-recognition-models==0.3.0 numpy pillow click
# face_recognition asks for dlib by name; dlib-bin is that module, built.
"$work/venv/bin/pip" install -q --no-deps face-recognition==1.3.0
find "$(realpath "$faces")" -name '*.jpg' | sort | head -n "$n" > "$work/photos.txt"
mkdir "$work/photos"
while read -r p; do ln -s "$p" "$work/photos/$(basename "$(dirname "$p")")-$(basename "$p")"; done < "$work/photos.txt"
count=$(ls "$work/photos" | wc -l)
# A run that read nothing would look fast: both must have seen every photo.
read_by_kiosk=$(target/release/kiosk embed --json "$work/photos" | grep -c '"error":null')
if [ "$read_by_kiosk" -ne "$count" ]; then
  echo "kiosk embed read $read_by_kiosk of $count photos: not comparable" >&2
  exit 1
fi
cat > "$work/peer.py" <<'EOF'
import sys, pathlib, face_recognition
faces = 0
for p in sorted(pathlib.Path(sys.argv[1]).iterdir()):
    img = face_recognition.load_image_file(str(p))
    faces += len(face_recognition.face_encodings(img, face_recognition.face_locations(img)))
print(faces, "faces")
EOF
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'; }
kiosk=() peer=()
for round in 1 2 3; do
  kiosk+=("$(seconds target/release/kiosk embed --json "$work/photos")")
  peer+=("$(seconds "$work/venv/bin/python" "$work/peer.py" "$work/photos")")
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
k=$(median "${kiosk[@]}") p=$(median "${peer[@]}")
awk -v n="$count" -v k="$k" -v p="$p" -v cores="$(nproc)" -v kr="${kiosk[*]}" -v pr="${peer[*]}" 'BEGIN {
  printf "photos: %d (cores: %d)\n", n, cores
  printf "kiosk embed:       %6.2f s whole process, %6.1f ms a photo (runs: %s)\n", k, k * 1000 / n, kr
  printf "face_recognition:  %6.2f s whole process, %6.1f ms a photo (runs: %s)\n", p, p * 1000 / n, pr
  printf "kiosk is %.1fx faster a photo\n", p / k
}'
